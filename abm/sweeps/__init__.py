"""Parameter sweeps: designs, replications, parallel and Dask execution, resumable
Parquet results, and sensitivity analysis.

    import abm
    path = abm.sweep("experiments/smoke.toml", workers=2)   # results/smoke/
    results = abm.load_results(path)                          # .summary, .paths, .errors, .design, .manifest
    report = abm.analyze(path)                                # results/smoke/analysis/report.md

docs/SWEEPS.md is the user guide; experiments/README.md the specification reference.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from abm.sweeps.spec import SweepSpec

# Loaded on first use, so that `abm --help` and the CLI's input checks stay fast.
_LAZY = {
    "Design": "design",
    "build_design": "design",
    "design_seed": "design",
    "SweepAborted": "runner",
    "evaluate": "runner",
    "run_sweep": "runner",
    "run_task": "runner",
    "Parameter": "spec",
    "SweepSpec": "spec",
    "load_spec": "spec",
    "Results": "store",
    "load_results": "store",
}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'abm.sweeps' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"abm.sweeps.{_LAZY[name]}"), name)
    globals()[name] = value
    return value


def sweep(
    spec_or_path: str | Path | dict | SweepSpec,
    *,
    workers: int | None = None,
    dask_local: int | None = None,
    scheduler: str | None = None,
    out: str | Path | None = None,
    progress: bool | Callable[[int, int], None] = True,
    chunk_runs: int | None = None,
) -> Path:
    """Run a sweep, or resume it if its results folder holds part of it.

    Args:
        spec_or_path: a sweep TOML file, a dict of the same content, or a SweepSpec.
        workers: local processes (1: serial in this process; default: all cores).
        dask_local: run on a Dask LocalCluster of this many worker processes.
        scheduler: run on an existing Dask cluster, e.g. ``tcp://host:8786``.
        out: results folder (default: ``results/<sweep name>``).
        progress: True shows a progress bar and a final line on stderr; False is silent;
            a callable is called as ``progress(done, total)`` after each run.
        chunk_runs: runs per Parquet chunk (default 500; a chunk is also written every 30 s).

    Returns:
        The results folder.

    Raises:
        InputError: a bad specification or option, a folder holding another sweep, an
            unreachable scheduler; nothing is written then.
        SweepAborted: the executor itself failed; finished runs are saved.
    """
    import sys

    from abm.sweeps.runner import run_sweep

    outcome = run_sweep(
        spec_or_path,
        workers=workers,
        dask_local=dask_local,
        scheduler=scheduler,
        out=out,
        progress=progress,
        chunk_runs=chunk_runs,
        echo=progress is True,
    )
    if progress is True:
        print(outcome.line(), file=sys.stderr)
    return outcome.path


def analyze(path: str | Path, *, out: str | Path | None = None) -> Path:
    """Tables, sensitivity indices, plots and a markdown report of a sweep's results.

    Args:
        path: the sweep's results folder.
        out: where to write (default: ``<path>/analysis``, replaced on each call).

    Returns:
        The folder holding ``report.md``, ``tables/`` and the PNG plots.
    """
    from abm.sweeps.analysis import analyze as _analyze

    return _analyze(path, out=out)


__all__ = [
    "Design",
    "Parameter",
    "Results",
    "SweepAborted",
    "SweepSpec",
    "analyze",
    "build_design",
    "design_seed",
    "evaluate",
    "load_results",
    "load_spec",
    "run_task",
    "sweep",
]
