"""The app's work budget: one server-wide pool, a queue, per-session limits, cancellation.

Every browser session of the app shares one server process. Without a budget one visitor's
Compare of 2,000 replications on all cores would starve every other session's Step. So:

- **One pool for the server.** Compare jobs (and the Classroom's reveals) run one at a time on
  the server's warm pool of ``app_workers()`` processes (one per core; forked when the server
  starts, before it opens a connection, and kept between jobs; a pool whose worker died is
  replaced by the next job), at a lower CPU priority (``nice`` +10: the scheduler weighs them
  about a tenth of the server, so every session's Step and page updates take the CPU they need
  first). The runs never execute in the server process itself, and the workers hold none of
  its connections (``abm.executors._close_inherited_sockets``).
- **A queue.** Jobs wait their turn in arrival order; at most ``APP_MAX_QUEUED_JOBS`` wait or
  run on the server, at most ``APP_MAX_SESSION_JOBS`` per session; more are refused at once.
- **Per-request limits.** Replications per variant ``<= APP_MAX_REPLICATIONS``; the scenario
  itself is held to ``APP_MAX_CONSUMERS`` and ``APP_MAX_MONTHS`` when loaded in the app.
- **Cancellation.** A job polls ``cancelled()`` after every run and while it waits; a
  session whose page closes (its kernel shuts down) has its jobs cancelled.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from abm import limits
from abm.errors import InputError

WORKER_NICENESS = 10


class Cancelled(Exception):
    """The job was cancelled (by the visitor, or because the page closed)."""


@dataclass
class Job:
    id: int
    session: str
    runs: int
    cancel: threading.Event = field(default_factory=threading.Event)


class JobQueue:
    """A FIFO of jobs with ``slots`` running at once, server-wide."""

    def __init__(self, slots: int = 1):
        self.slots = slots
        self._cv = threading.Condition()
        self._waiting: deque[Job] = deque()
        self._running: list[Job] = []
        self._ids = itertools.count(1)

    def jobs_of(self, session: str) -> list[Job]:
        with self._cv:
            return [j for j in (*self._running, *self._waiting) if j.session == session]

    def queued(self) -> int:
        with self._cv:
            return len(self._running) + len(self._waiting)

    def admit(self, session: str, runs: int) -> Job:
        """A place in the queue, or InputError when the session or the server is full."""
        with self._cv:
            mine = [j for j in (*self._running, *self._waiting) if j.session == session]
            if len(mine) >= limits.APP_MAX_SESSION_JOBS:
                raise InputError(
                    "comparison",
                    "another one",
                    f"one comparison at a time per page (this page has {len(mine)} running)",
                )
            if len(self._running) + len(self._waiting) >= limits.APP_MAX_QUEUED_JOBS:
                raise InputError(
                    "comparison",
                    "a new one",
                    f"a free place in the server's queue (all {limits.APP_MAX_QUEUED_JOBS} taken)",
                )
            job = Job(next(self._ids), session, runs)
            self._waiting.append(job)
            return job

    def position(self, job: Job) -> int:
        """0 when running, else how many jobs are ahead of it."""
        with self._cv:
            if job in self._running:
                return 0
            return list(self._waiting).index(job) + 1 if job in self._waiting else 0

    def run(
        self, job: Job, work: Callable[[Callable[[], bool]], Any], waiting: Callable[[int | None], None] | None = None
    ):
        """Wait for the job's turn (polling its cancel flag), run ``work(cancelled)``, leave.
        ``waiting(ahead)`` is called every 0.2 s while it waits: ``ahead`` is how many jobs are
        before it when that changed, else None.

        Raises:
            Cancelled: the job was cancelled while waiting or running.
        """
        try:
            shown = None
            while True:
                with self._cv:
                    if job.cancel.is_set():
                        raise Cancelled("cancelled while waiting in the queue")
                    if self._waiting and self._waiting[0] is job and len(self._running) < self.slots:
                        self._waiting.popleft()
                        self._running.append(job)
                        break
                    ahead = list(self._waiting).index(job) + 1
                if waiting is not None:  # outside the lock: it may update a page
                    waiting(ahead if ahead != shown else None)
                    shown = ahead
                with self._cv:
                    self._cv.wait(timeout=0.2)
            return work(job.cancel.is_set)
        finally:
            with self._cv:
                if job in self._waiting:
                    self._waiting.remove(job)
                if job in self._running:
                    self._running.remove(job)
                self._cv.notify_all()

    def cancel_session(self, session: str) -> int:
        """Cancel every job of a session (its page closed); returns how many."""
        with self._cv:
            jobs = [j for j in (*self._running, *self._waiting) if j.session == session]
            for j in jobs:
                j.cancel.set()
            self._cv.notify_all()
        return len(jobs)


QUEUE = JobQueue(slots=1)
"""The server's one queue."""


def app_workers() -> int:
    """Processes one job may use: one per core (they run at ``nice`` +10, below the server)."""
    from abm.executors import available_cores

    return max(1, available_cores())


def start_pool() -> None:
    """Fork the server's pool now (``abm app`` does, before it serves): the first Compare finds
    it ready, and its workers are copies of a process with no connection open yet."""
    from abm import compare, executors, model, simulation  # noqa: F401 - the workers inherit them, imported

    with executors.worker_niceness(WORKER_NICENESS):
        executors.warm_pool(app_workers())


def check_request(scenario: Any, replications: int) -> None:
    """Refuse a Compare request over the app's limits (before it is queued)."""
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
        raise InputError("replications", replications, f"a whole number from 1 to {limits.APP_MAX_REPLICATIONS}")
    if replications > limits.APP_MAX_REPLICATIONS:
        raise InputError("replications", replications, f"at most {limits.APP_MAX_REPLICATIONS} in the app")
    if scenario.market.consumers > limits.APP_MAX_CONSUMERS:
        raise InputError(
            "market.consumers", scenario.market.consumers, f"at most {limits.APP_MAX_CONSUMERS:,} in the app"
        )
    if scenario.months > limits.APP_MAX_MONTHS:
        raise InputError("months", scenario.months, f"at most {limits.APP_MAX_MONTHS} in the app")


def session_id() -> str:
    """The current browser session's id (its Solara kernel), or "local" outside a session."""
    try:
        from solara.server import kernel_context

        return kernel_context.get_current_context().id
    except Exception:
        return "local"


def run_compare(
    scenario: Any,
    variants: dict,
    *,
    replications: int,
    master_seed: int,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    session: str | None = None,
):
    """Compare's computation through the server's queue (see the module doc).

    Raises:
        InputError: over a limit, or the queue is full.
        abm.app.comparison.Cancelled: cancelled by the visitor or because the page closed.
    """
    from abm import executors
    from abm.app import comparison

    check_request(scenario, replications)
    job = QUEUE.admit(session or session_id(), replications * len(variants))

    def work(job_cancelled: Callable[[], bool]):
        def stop() -> bool:
            return job_cancelled() or bool(cancelled and cancelled())

        with executors.worker_niceness(WORKER_NICENESS):
            return comparison.run_comparison(
                scenario,
                variants,
                replications=replications,
                master_seed=master_seed,
                workers=app_workers(),
                progress=progress,
                cancelled=stop,
            )

    def waiting(ahead: int | None) -> None:
        if cancelled is not None and cancelled():
            job.cancel.set()
        if ahead is not None and progress is not None:
            progress(0, replications * len(variants))

    try:
        return QUEUE.run(job, work, waiting)
    except Cancelled as exc:
        raise comparison.Cancelled(str(exc)) from None


_hooked = False


def install_session_cleanup() -> None:
    """Cancel a session's jobs when its page closes (Solara's kernel shutdown)."""
    global _hooked
    if _hooked:
        return
    _hooked = True
    try:
        import solara.lab

        def on_start():
            sid = session_id()
            return lambda: QUEUE.cancel_session(sid)

        solara.lab.on_kernel_start(on_start)
    except Exception:  # pragma: no cover - an older Solara without the hook
        pass
