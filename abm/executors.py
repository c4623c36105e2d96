"""Where runs execute: in this process, or in a pool of local processes.

Executors only decide where a plain function of plain data runs; the model never knows.
Workers return plain frames and dicts, never models (models hold Mesa state that should
not cross processes). Results come back tagged with their task index, so callers can
store them in any order and still produce the same output as a serial run.

Local processes are forked (Linux, macOS): no re-import per worker, and nothing has to be
importable from ``__main__`` (Mesa sets the default start method to spawn on import).
Where fork does not exist (Windows), spawn is used.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
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


def run_local(fn: Callable[[Any], Any], tasks: Iterable[tuple[int, Any]], *, workers: int = 1,
              in_flight: int | None = None) -> Iterator[tuple[int, Any]]:
    """Run ``fn(task)`` for every ``(index, task)``; yield ``(index, result)`` as they finish.

    Args:
        fn: an importable (module-level) function of one argument.
        tasks: ``(index, task)`` pairs; consumed lazily, so a sweep of millions of runs
            never sits in memory at once.
        workers: 1 runs in this process; more use a pool of forked processes.
        in_flight: most tasks submitted but not yet collected (default: 4 per worker);
            bounds memory however long ``tasks`` is.

    A task that raises yields ``(index, exc)`` with the exception object, so one failing
    run never stops the rest.
    """
    if workers <= 1:
        for index, task in tasks:
            try:
                yield index, fn(task)
            except Exception as exc:
                yield index, exc
        return
    limit = in_flight or 4 * workers
    with ProcessPoolExecutor(max_workers=workers, mp_context=_context()) as pool:
        pending: dict[Future, int] = {}
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
