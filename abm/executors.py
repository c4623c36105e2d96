"""Where runs execute: in this process, or in a pool of local processes.

Executors only decide where a plain function of plain data runs; the model never knows.
Workers return plain frames and dicts, never models (models hold Mesa state that should
not cross processes). Results come back tagged with their task index, so callers can
store them in any order and still produce the same output as a serial run.

Local processes are forked (Linux, macOS): no re-import per worker, and nothing has to be
importable from ``__main__``. The pool asks for fork itself, whatever the process's default
start method (which importing abm leaves as the user set it; see ``abm/__init__.py``).
Where fork does not exist (Windows), spawn is used.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import multiprocessing
import os
import signal
import stat
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any


def available_cores() -> int:
    """Cores this process may use (respects CPU affinity where the OS exposes it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def _context() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def run_local(
    fn: Callable[[Any], Any],
    tasks: Iterable[tuple[int, Any]],
    *,
    workers: int = 1,
    in_flight: int | None = None,
    warm: bool = False,
) -> Iterator[tuple[int, Any]]:
    """Run ``fn(task)`` for every ``(index, task)``; yield ``(index, result)`` as they finish.

    Args:
        fn: an importable (module-level) function of one argument.
        tasks: ``(index, task)`` pairs; consumed lazily, so a sweep of millions of runs
            never sits in memory at once.
        workers: 1 runs in this process; more use a pool of forked processes.
        in_flight: most tasks submitted but not yet collected (default: 4 per worker);
            bounds memory however long ``tasks`` is.
        warm: run on this process's warm pool of ``workers`` processes (:func:`warm_pool`),
            kept for the next call instead of forked and shut down each time, even for one
            worker (a server keeps the runs out of its own process).

    A task that raises yields ``(index, exc)`` with the exception object, so one failing
    run never stops the rest.
    """
    if warm:
        yield from _warm_run(fn, tasks, max(1, workers), in_flight or 4 * max(1, workers))
        return
    if workers <= 1:
        for index, task in tasks:
            try:
                yield index, fn(task)
            except Exception as exc:
                yield index, exc
        return
    limit = in_flight or 4 * workers
    # Objects the workers inherit stay shared only while nobody writes to them; the
    # workers' garbage collector would (it marks every object it visits), copying the
    # parent's heap page by page into each worker over a long sweep. Frozen objects are
    # never visited (Python docs, gc.freeze: call it before fork).
    ours = gc.get_freeze_count() == 0  # leave a caller's own freeze alone
    if ours:
        gc.collect()
        gc.freeze()
    try:
        yield from _pool(fn, tasks, workers, limit)
    finally:
        if ours:
            gc.unfreeze()


_NICENESS = [0]


@contextlib.contextmanager
def worker_niceness(increment: int) -> Iterator[None]:
    """Start the local pools opened inside this block at a lower CPU priority (``nice``), so
    that the process that opened them (e.g. the app's server) stays responsive."""
    old = _NICENESS[0]
    _NICENESS[0] = increment
    try:
        yield
    finally:
        _NICENESS[0] = old


def _nice(increment: int) -> None:
    with contextlib.suppress(AttributeError, OSError):  # no nice() on Windows
        os.nice(increment)


def _worker_start(niceness: int, kept: bool = False) -> None:
    """A local pool's worker starts: it lets go of the parent's sockets, then lowers its priority.
    A warm pool's worker (``kept``), idle between calls for the parent's lifetime, also leaves
    Ctrl+C to the parent (which shuts the pool down; a terminal sends it to every process of the
    group, and each idle worker printed a traceback) and ends when the parent has gone (killed,
    the parent cannot shut it down; it would wait for work forever)."""
    _close_inherited_sockets()
    if niceness:
        _nice(niceness)
    if kept:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        threading.Thread(target=_end_with, args=(os.getppid(),), name="abm-parent-watch", daemon=True).start()


def _end_with(parent: int) -> None:
    """End this process once ``parent`` is no longer its parent (it has died)."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    os._exit(0)


PARENT_CHECK_S = 1.0
"""How often a warm pool's worker checks that the process that started it still lives."""


def _close_inherited_sockets() -> None:
    """Close, in a forked worker, every socket it inherited from its parent.

    A forked child holds a copy of each descriptor the parent had open at the fork, and a TCP
    connection ends (FIN to the peer) only when its last copy closes. In a server (the app,
    a Jupyter kernel) the sockets open at the fork are its clients' connections: when the
    server later closes one (an idle keep-alive HTTP connection, a closed page's WebSocket),
    a live worker still holds it, so the browser keeps it for its next request, which nobody
    ever reads. In the app, with the workers kept between Compare clicks, that was the page's
    request for the charts' script: the charts never drew. The workers talk to the parent
    through pipes only (``multiprocessing`` queues), never sockets; closing the child's copies
    leaves the parent's connections as they are.
    """
    for name in _open_descriptors():
        with contextlib.suppress(OSError):  # closed meanwhile (the listing's own descriptor)
            if stat.S_ISSOCK(os.fstat(name).st_mode):
                os.close(name)


def _open_descriptors() -> list[int]:
    for folder in ("/proc/self/fd", "/dev/fd"):  # Linux; macOS and the BSDs
        try:
            return [int(n) for n in os.listdir(folder) if int(n) > 2]
        except OSError:
            continue
    return []


def _pool(
    fn: Callable[[Any], Any], tasks: Iterable[tuple[int, Any]], workers: int, limit: int
) -> Iterator[tuple[int, Any]]:
    _load_compiled_kernels()
    with ProcessPoolExecutor(max_workers=workers, mp_context=_context(), **_initializer()) as pool:
        pending: dict[Future, int] = {}
        try:
            yield from _drain(pool, fn, tasks, pending, limit)
        finally:
            if pending:  # stopped early (cancelled, an error): drop what has not started
                pool.shutdown(wait=True, cancel_futures=True)


def _initializer(kept: bool = False) -> dict[str, Any]:
    """The pool's worker initializer: :func:`_worker_start` where workers are forked (or the pool
    is ``kept``), else the niceness alone (a spawned worker inherits no sockets)."""
    if kept or _context().get_start_method() == "fork":
        return {"initializer": _worker_start, "initargs": (_NICENESS[0], kept)}
    return {"initializer": _nice, "initargs": (_NICENESS[0],)} if _NICENESS[0] else {}


_WARM: dict[tuple[int, int], ProcessPoolExecutor] = {}
_WARM_LOCK = threading.Lock()


def _started(_: int) -> int:
    return os.getpid()


def warm_pool(workers: int) -> ProcessPoolExecutor:
    """This process's pool of ``workers`` forked processes at the niceness of
    :func:`worker_niceness`, started on first use and kept for later calls (a server's
    Compare clicks pay the fork once). Its workers are forked at once, while the parent's
    heap is frozen (see :func:`run_local`), with the compiled loops loaded, and close the
    sockets they inherit (:func:`_close_inherited_sockets`: kept alive in a server, they would
    hold its clients' connections open). A pool whose worker died is replaced."""
    key = (workers, _NICENESS[0])
    with _WARM_LOCK:
        pool = _WARM.get(key)
        if pool is not None and not getattr(pool, "_broken", False):
            return pool
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        _load_compiled_kernels()
        ours = gc.get_freeze_count() == 0
        if ours:
            gc.collect()
            gc.freeze()
        try:
            pool = ProcessPoolExecutor(max_workers=workers, mp_context=_context(), **_initializer(kept=True))
            list(pool.map(_started, range(workers)))  # fork every worker now, from the frozen heap
        finally:
            if ours:
                gc.unfreeze()
        _WARM[key] = pool
        return pool


def close_warm_pools() -> None:
    """Shut down every warm pool of this process (tests; a server leaves them to exit)."""
    with _WARM_LOCK:
        pools = list(_WARM.values())
        _WARM.clear()
    for pool in pools:
        pool.shutdown(wait=True, cancel_futures=True)


def _warm_run(
    fn: Callable[[Any], Any], tasks: Iterable[tuple[int, Any]], workers: int, limit: int
) -> Iterator[tuple[int, Any]]:
    pool = warm_pool(workers)
    pending: dict[Future, int] = {}
    try:
        yield from _drain(pool, fn, tasks, pending, limit)
    except BrokenProcessPool:
        with _WARM_LOCK:  # a worker died: the next call starts a fresh pool
            if _WARM.get((workers, _NICENESS[0])) is pool:
                del _WARM[(workers, _NICENESS[0])]
        raise
    finally:
        # stopped early (cancelled, an error): drop what has not started and, as a pool shut down
        # per call does, wait for what has (at most a batch per worker and one queued), so that
        # the next call finds the workers free
        wait([future for future in pending if not future.cancel()])


_PRIMED = [False]


def _load_compiled_kernels() -> None:
    """Load the model's compiled consumer loops (abm.consumer_kernels) before forking, once per
    process, so that every worker inherits them instead of loading them itself; a no-op
    where they are switched off (``ABM_NUMBA=0``) or numba is missing (see :func:`prime_model`)."""
    if _context().get_start_method() != "fork":
        return
    prime_model()


def prime_model() -> bool:
    """Load the compiled consumer loops and make one short run (500 consumers, 6 months), once
    per process; True where the loops are on. numba loads a loop's machine code at its first
    call (about 0.8 s for all of them, with the first run's imports), which a pool's workers
    would otherwise each pay on their first run (with a pool forked per call, on every call),
    and which a Dask worker in ``auto`` mode would put off for its first 50 runs or so, making
    them on the slower numpy path. The run changes no state a later run reads, so results
    stay the same. A no-op where the loops are switched off (``ABM_NUMBA=0``) or numba is
    missing."""
    from abm import consumer_kernels

    if consumer_kernels.MODE not in (*consumer_kernels.ON, "auto") or not consumer_kernels.enable():
        return False
    if not _PRIMED[0]:
        _PRIMED[0] = True
        from abm.model import MarketEntryModel

        model = MarketEntryModel(seed=0, consumers=500, months=6)
        model.run()
        model.release()
    return True


def _drain(
    pool: ProcessPoolExecutor, fn: Callable[[Any], Any], tasks: Iterable[tuple[int, Any]], pending: dict, limit: int
) -> Iterator[tuple[int, Any]]:
    source = iter(tasks)
    exhausted = False
    while pending or not exhausted:
        while not exhausted and len(pending) < limit:
            try:
                index, task = next(source)
            except StopIteration:
                exhausted = True
                break
            pending[pool.submit(fn, task)] = index
        if not pending:
            break
        done, _ = wait(pending, return_when=FIRST_COMPLETED)
        for future in done:
            index = pending.pop(future)
            exc = future.exception()
            yield index, (exc if exc is not None else future.result())


# ---- Dask ----------------------------------------------------------------------------------

DASK_CONNECT_TIMEOUT_S = 5
"""Seconds to wait for an existing Dask scheduler before giving up."""


def _abm_version() -> str:
    """Run on each Dask worker when connecting: fails there if ``abm`` is not installed,
    and otherwise imports the model before the first task (seconds, once per worker)."""
    import abm  # imports the model too

    return abm.__version__


def _model_worker_plugin() -> Any:
    """A Dask worker plugin that readies each worker for runs as it joins (those running now
    and those a job queue starts later): the model imported, its compiled loops loaded and
    primed (:func:`prime_model`). Without it a worker in ``ABM_NUMBA=auto`` mode made its first
    50 or so runs on the numpy path: on default-size runs Dask ran at 0.45x local processes."""
    from distributed.diagnostics.plugin import WorkerPlugin

    class ModelWorker(WorkerPlugin):
        name = "abm-model"

        def setup(self, worker: Any) -> None:
            prime_model()

    return ModelWorker()


class DaskCluster:
    """A Dask client: on a LocalCluster this process starts, or on an existing scheduler.

    Use as a context manager; on exit the client closes, and a LocalCluster it started is
    shut down. An existing cluster is left running.

    Args:
        local_workers: start a ``LocalCluster`` with this many single-threaded worker
            processes.
        scheduler: address of a running scheduler, e.g. ``tcp://10.0.0.5:8786`` (started
            by hand, or by dask-jobqueue on SLURM/PBS; see docs/SWEEPS.md).
        timeout_s: how long to wait for ``scheduler`` before raising InputError.

    Raises:
        InputError: both or neither of ``local_workers`` and ``scheduler``, an address that
            is not one, a scheduler that cannot be reached, or workers without ``abm``.
    """

    def __init__(
        self,
        *,
        local_workers: int | None = None,
        scheduler: str | None = None,
        timeout_s: float = DASK_CONNECT_TIMEOUT_S,
    ):
        from abm.errors import InputError

        if (local_workers is None) == (scheduler is None):
            raise InputError(
                "executor",
                {"dask_local": local_workers, "scheduler": scheduler},
                "either a number of local Dask workers or a scheduler address, not both",
            )
        self.local_workers = local_workers
        self.scheduler = scheduler
        self.timeout_s = timeout_s
        self.cluster: Any = None
        self.client: Any = None

    def __enter__(self) -> DaskCluster:
        import logging

        from distributed import Client, LocalCluster

        from abm.errors import InputError

        if self.local_workers is not None:
            self.cluster = LocalCluster(
                n_workers=self.local_workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            self.client = Client(self.cluster)
            self.client.run(_abm_version)
            self.client.register_plugin(_model_worker_plugin())
            return self
        address = str(self.scheduler)
        if "://" not in address or not address.split("://", 1)[1]:
            raise InputError("--scheduler", address, "a Dask scheduler address such as tcp://HOST:8786")
        try:
            self.client = Client(address, timeout=f"{self.timeout_s}s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(
                "--scheduler",
                address,
                f"a reachable Dask scheduler; none answered within {self.timeout_s:g} s ({type(exc).__name__})",
            ) from None
        try:
            self.client.run(_abm_version)
        except Exception as exc:
            self.client.close()
            raise InputError(
                "--scheduler",
                address,
                "a cluster whose workers can import abm (install this "
                f"package on them); a worker said: {type(exc).__name__}: {exc}",
            ) from None
        self.client.register_plugin(_model_worker_plugin())
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def workers(self) -> int:
        """Worker threads the scheduler knows now (0 while a job queue is still starting them)."""
        return sum(self.client.nthreads().values())

    def describe(self) -> str:
        if self.cluster is not None:
            return f"a Dask LocalCluster of {self.local_workers} worker processes"
        return f"the Dask scheduler at {self.scheduler} ({self.workers()} worker threads now)"


def slurm_cluster(
    *,
    cores: int = 32,
    memory: str = "64GB",
    walltime: str = "04:00:00",
    queue: str | None = None,
    account: str | None = None,
    python: str | None = None,
    **options: Any,
) -> Any:
    """A dask-jobqueue ``SLURMCluster`` set up for sweeps: one single-threaded worker process
    per core (a run holds the GIL), so a job of ``cores`` cores runs ``cores`` runs at once.

    Building it submits nothing: its scheduler starts in this process and jobs are queued by
    ``cluster.scale(jobs=N)`` (or ``adapt``); pass ``cluster.scheduler_address`` to
    ``abm.sweep(..., scheduler=...)`` or ``abm sweep --scheduler``. docs/SWEEPS.md shows it
    in use. Needs ``pip install dask-jobqueue``.

    Args:
        cores: cores of one SLURM job (= worker processes in it).
        memory: memory of one job, e.g. ``"64GB"`` (split evenly between its workers).
        walltime: time limit of one job, ``HH:MM:SS``.
        queue: SLURM partition; account: SLURM account to charge.
        python: the Python of the workers (default: this one; the nodes must see it, with
            this package installed).
        **options: anything else ``SLURMCluster`` takes (``job_extra_directives``,
            ``job_script_prologue`` for ``module load ...``, ``local_directory``, ...).
    """
    import sys

    from dask_jobqueue import SLURMCluster

    return SLURMCluster(
        cores=cores,
        processes=cores,
        memory=memory,
        walltime=walltime,
        queue=queue,
        account=account,
        python=python or sys.executable,
        scheduler_options={"dashboard_address": None, **options.pop("scheduler_options", {})},
        **options,
    )


def call_each(fn: Callable[[Any], Any], batch: list[tuple[int, Any]]) -> list[tuple[int, Any]]:
    """Run ``fn`` on every task of a batch on one worker: ``(index, result-or-exception)``."""
    out = []
    for index, task in batch:
        try:
            out.append((index, fn(task)))
        except Exception as exc:
            out.append((index, exc))
    return out


DASK_SUBMISSIONS = 3
"""How often :func:`run_dask` submits a batch whose Dask future failed for a reason other
than a run's own error or ``KilledWorker`` (a transient failure of the cluster or the client)."""


def run_dask(
    fn: Callable[[Any], Any],
    tasks: Iterable[tuple[int, Any]],
    *,
    client: Any,
    batch: int = 1,
    in_flight: int | None = None,
) -> Iterator[tuple[int, Any]]:
    """Like :func:`run_local`, on a Dask cluster: yield ``(index, result-or-exception)``.

    Each Dask task runs ``batch`` tasks in a row: a Dask task costs milliseconds of
    scheduling, as much as a short model run, so short runs go in batches. Batches are
    submitted lazily, at most ``in_flight`` at a time (default: 4 per worker thread, at
    least 16), so neither this process nor the scheduler holds the whole sweep. A batch
    whose worker dies is resubmitted by Dask to another worker; only one that kills
    ``distributed.scheduler.allowed-failures`` workers comes back as ``KilledWorker``
    (for each of its tasks).
    """
    from distributed import as_completed

    limit = in_flight or max(16, 4 * sum(client.nthreads().values()))
    source = iter(tasks)
    members: dict[str, tuple[list[tuple[int, Any]], int]] = {}  # key -> (its tasks, submissions so far)
    pending = as_completed()
    exhausted = False

    def submit(chunk: list[tuple[int, Any]], tries: int) -> None:
        future = client.submit(call_each, fn, chunk, pure=False)
        members[future.key] = (chunk, tries)
        pending.add(future)

    def top_up() -> None:
        nonlocal exhausted
        while not exhausted and pending.count() < limit:
            chunk = list(itertools.islice(source, max(1, batch)))
            if not chunk:
                exhausted = True
                return
            submit(chunk, 1)

    top_up()
    while pending.count():
        future = next(pending)
        chunk, tries = members.pop(future.key)
        try:
            results = future.result()
        except Exception as exc:
            # call_each keeps a run's own errors: what reaches here is the cluster's (a lost
            # connection, an error inside the client). The runs are seeded, so the batch is
            # submitted again, up to DASK_SUBMISSIONS times; a batch that kills workers comes
            # back as KilledWorker (Dask already retried it) and is not submitted again.
            if type(exc).__name__ != "KilledWorker" and tries < DASK_SUBMISSIONS:
                del future
                submit(chunk, tries + 1)
                continue
            results = [(index, exc) for index, _ in chunk]
        del future
        yield from results
        top_up()
