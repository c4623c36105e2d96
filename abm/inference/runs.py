"""Where the runs of a calibration or forecast execute: the sweep executors (processes or
Dask), chosen the way ``abm sweep`` chooses them, with a progress bar."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any


class Runner:
    """Runs ``fn`` on ``(index, task)`` pairs on local processes or a Dask cluster."""

    def __init__(self, workers: Any = None, dask_local: Any = None, scheduler: Any = None, progress: Any = True):
        from abm.sweeps.runner import _executor_choice

        self.kind, self.n_workers = _executor_choice(workers, dask_local, scheduler)
        self.scheduler = scheduler
        self.progress = progress
        self.cluster: Any = None
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> Runner:
        from abm.executors import DaskCluster

        if self.kind == "dask-local":
            self.cluster = self._stack.enter_context(DaskCluster(local_workers=self.n_workers))
        elif self.kind == "dask":
            self.cluster = self._stack.enter_context(DaskCluster(scheduler=self.scheduler))
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stack.close()

    def describe(self) -> str:
        if self.cluster is not None:
            return self.cluster.describe()
        return "1 process (serial)" if self.kind == "serial" else f"{self.n_workers} local processes"

    def map(self, fn: Callable[[Any], Any], tasks: list[tuple[int, Any]], desc: str) -> Iterator[tuple[int, Any]]:
        """Yield ``(index, result)`` as runs finish; a run that raised is re-raised here
        (a calibration cannot use a point with a failed run)."""
        from abm.executors import run_dask, run_local
        from abm.progress import progress_bar
        from abm.sweeps.runner import dask_batch

        if self.cluster is not None:
            results: Iterable = run_dask(
                fn, tasks, client=self.cluster.client, batch=dask_batch(len(tasks), self.cluster.workers())
            )
        else:
            results = run_local(fn, tasks, workers=self.n_workers)
        bar = progress_bar(total=len(tasks), desc=desc, disable=not self.progress, leave=False)
        try:
            for index, out in results:
                if isinstance(out, Exception):
                    raise RuntimeError(f"run {index} failed: {type(out).__name__}: {out}") from out
                bar.update(1)
                if callable(self.progress):
                    self.progress(bar.n, len(tasks))
                yield index, out
        finally:
            bar.close()


def write_atomic(path: Path, write: Callable[[Path], Any]) -> None:
    """Write a file through a temporary sibling and rename it into place: a kill leaves the
    old file or the new one, never half of one."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_json(path: Path, data: Any) -> None:
    write_atomic(path, lambda p: p.write_text(json.dumps(data, indent=1, default=str), encoding="utf-8"))


def write_parquet(path: Path, frame) -> None:
    write_atomic(path, lambda p: frame.to_parquet(p, index=False))
