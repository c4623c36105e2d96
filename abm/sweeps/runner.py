"""Run a sweep: every run of the design, on an executor, into the results store.

The unit of work is :func:`run_task`, a module-level function of plain data (the base
scenario as TOML text, the run's parameter values and seed) that returns plain data (a
summary row, optionally a thinned frame of monthly rows, or the error's traceback). It
runs unchanged in this process, in forked local processes and on Dask workers, and it
never lets an exception escape: a failing run becomes a row of the errors table.

:func:`evaluate` is the same model as a plain function of parameters returning a dict of
outcomes, for other exploration tools (EMA Workbench, optimisers, notebooks).
"""

from __future__ import annotations

import contextlib
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from abm.errors import InputError
from abm.scenario import Scenario
from abm.sweeps.design import Design, build_design
from abm.sweeps.spec import ID_COLUMNS, SweepSpec, load_spec
from abm.sweeps.store import ResultStore

CHUNK_RUNS = 500
"""Runs per chunk file (a chunk is also written every CHUNK_SECONDS)."""
CHUNK_SECONDS = 30.0
CHUNK_PATH_ROWS = 250_000
"""Buffered monthly rows that force a chunk, whatever the run count (bounds memory)."""


# ---- one run ---------------------------------------------------------------------------------


def simulate_released(scenario: Scenario, seed: int):
    """``abm.simulate`` that frees Mesa's reference to the model even if the run raises."""
    from abm.model import MarketEntryModel
    from abm.simulation import collect

    model = MarketEntryModel(scenario, seed=seed)
    try:
        model.run()
        return collect(model)
    finally:
        model.release()


def run_outcomes(
    scenario: Scenario, seed: int, *, keep_steps: bool = False
) -> tuple[dict[str, Any], pd.DataFrame | None]:
    """One run: the focal entrant's summary row, and the monthly rows if asked for.

    Without steps, the row comes straight from the model (``abm.simulation`` builds the
    same dict for ``RunResult.summary``), skipping the frames a sweep would not keep:
    for short runs that halves the cost of a run.
    """
    from abm.model import MarketEntryModel
    from abm.simulation import collect, summary_row

    model = MarketEntryModel(scenario, seed=seed)
    model.keep_steps = keep_steps  # without: no steps rows, no collector (month 0 is recorded already)
    try:
        model.run()
        if keep_steps:
            result = collect(model)
            return result.outcomes(), result.steps
        return summary_row(model), None
    finally:
        model.release()


def evaluate(scenario: Scenario | str | None = None, *, seed: int = 0, **parameters: Any) -> dict[str, Any]:
    """One run as a plain function: parameters in, the focal entrant's outcomes out.

    Args:
        scenario: Scenario, preset name or TOML path (default: the default preset).
        seed: the run's seed.
        **parameters: flat or dotted overrides, e.g. ``cultural_distance=2.0`` or
            ``**{"partners[0].commitment": 0.4}``.

    Returns:
        The summary row as a dict (``npv``, ``share_y5``, ``entry_success``, ...).
    """
    from abm.presets import resolve_scenario

    base = resolve_scenario(scenario)
    return run_outcomes(base.with_overrides(parameters) if parameters else base.copy(), seed)[0]


@lru_cache(maxsize=1)
def outcome_columns() -> tuple[str, ...]:
    """Columns of a run's summary row (from a zero-month run of the default scenario)."""
    from abm.presets import resolve_scenario

    return tuple(simulate_released(resolve_scenario(None).with_overrides({"consumers": 50}), 0).summary.columns)


@lru_cache(maxsize=4)
def _scenario(text: str) -> Scenario:
    return Scenario.from_toml(text, "sweep base scenario")


def run_task(task: dict[str, Any]) -> dict[str, Any]:
    """Run one run of a sweep. Never raises.

    Args:
        task: ``base`` (scenario TOML), ``run_id``, ``point``, ``replication``, ``seed``,
            ``values`` ({column: value}), ``overrides`` ({parameter key: value}), ``keep``
            (None, or a dict with ``every``, ``firms``, ``columns``).

    Returns:
        ``{"run_id", "row", "steps", "error"}``: ``row`` is the summary row (ids,
        parameters, outcomes; an outcome whose name is a parameter's gets ``_result``
        appended), ``steps`` the thinned monthly rows or None, ``error`` None or the
        traceback text (then ``row`` holds ids and parameters only).
    """
    head = {
        "run_id": task["run_id"],
        "point": task["point"],
        "replication": task["replication"],
        "seed": task["seed"],
        **task["values"],
    }
    try:
        base = _scenario(task["base"])
        scenario = base.with_overrides(task["overrides"]) if task["overrides"] else base.copy()
        outcomes, steps = run_outcomes(scenario, task["seed"], keep_steps=bool(task["keep"]))
        row = dict(head)
        for key, value in outcomes.items():
            if key == "seed":
                continue
            row[f"{key}_result" if key in head else key] = value
        if steps is not None:
            steps = _thin(steps, outcomes["entrant"], task["keep"], task["run_id"])
        return {"run_id": task["run_id"], "row": row, "steps": steps, "error": None}
    except Exception as exc:
        return {
            "run_id": task["run_id"],
            "row": head,
            "steps": None,
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(),
        }


def _thin(steps: pd.DataFrame, focal: str, keep: dict, run_id: int) -> pd.DataFrame:
    last = steps["month"].max()
    mask = (steps["month"] % keep["every"] == 0) | (steps["month"] == last)
    if keep["firms"] == "focal":
        mask &= steps["firm"] == focal
    out = steps.loc[mask, list(keep["columns"]) if keep["columns"] else list(steps.columns)]
    out.insert(0, "run_id", run_id)
    return out.reset_index(drop=True)


# ---- a sweep -----------------------------------------------------------------------------------


class SweepAborted(RuntimeError):
    """The executor failed (not a run): what finished is saved; running again resumes."""


@dataclass
class SweepOutcome:
    path: Path
    total: int
    done: int
    failed: int
    skipped: int
    elapsed_s: float
    executor: str

    def line(self) -> str:
        ran = self.done + self.failed
        resumed = f", {self.skipped} already done before" if self.skipped else ""
        speed = (
            f" in {self.elapsed_s:.1f} s ({ran / self.elapsed_s:.1f} runs/s on {self.executor})"
            if ran and self.elapsed_s > 0
            else ""
        )
        left = self.total - self.skipped - ran
        status = f"{left} not run yet" if left else "sweep complete"
        return (
            f"{self.done} runs done, {self.failed} failed{resumed}{speed}; {status} "
            f"({self.skipped + ran}/{self.total}); results in {self.path}/"
        )


def tasks_for(spec: SweepSpec, design: Design, finished: np.ndarray | None = None) -> Iterator[tuple[int, dict]]:
    """``(run_id, task)`` for every run not yet finished, in run_id order, built lazily."""
    keep = None
    if spec.keep.steps:
        keep = {"every": spec.keep.every, "firms": spec.keep.firms, "columns": spec.keep.columns}
    for run_id in range(design.runs):
        if finished is not None and finished[run_id]:
            continue
        point, replication = design.locate(run_id)
        values = design.values(point)
        yield (
            run_id,
            {
                "base": spec.base_toml,
                "run_id": run_id,
                "point": point,
                "replication": replication,
                "seed": design.seed(run_id),
                "values": values,
                "overrides": {p.key: values[p.column] for p in design.parameters},
                "keep": keep,
            },
        )


def dask_batch(runs: int, workers: int) -> int:
    """Runs per Dask task: enough that scheduling (milliseconds a task) is small beside the
    runs, few enough that every worker gets about 20 tasks to balance the load; 1 to 16."""
    return max(1, min(16, runs // (20 * max(1, workers))))


def _executor_choice(workers: Any, dask_local: Any, scheduler: Any) -> tuple[str, int]:
    from abm.executors import available_cores

    def whole(name: str, value: Any) -> int:
        from abm import limits

        try:
            number = int(value) if not isinstance(value, str) else limits.whole_number(name, value)
        except (TypeError, ValueError, OverflowError):
            raise InputError(name, value, "a whole number >= 1") from None
        if isinstance(value, bool) or number < 1 or (isinstance(value, float) and value != number):
            raise InputError(name, value, "a whole number >= 1")
        return limits.check_workers(name, number)

    chosen = [
        n
        for n, v in (("--workers", workers), ("--dask-local", dask_local), ("--scheduler", scheduler))
        if v is not None
    ]
    if len(chosen) > 1:
        raise InputError(
            chosen[1],
            {"workers": workers, "dask_local": dask_local, "scheduler": scheduler}[
                chosen[1].lstrip("-").replace("-", "_")
            ],
            f"one executor at a time (also given: {chosen[0]})",
        )
    if dask_local is not None:
        return "dask-local", whole("--dask-local", dask_local)
    if scheduler is not None:
        if not isinstance(scheduler, str) or "://" not in scheduler:
            raise InputError("--scheduler", scheduler, "a Dask scheduler address such as tcp://HOST:8786")
        return "dask", 0
    n = available_cores() if workers is None else whole("--workers", workers)
    return ("serial" if n == 1 else "processes"), n


def run_sweep(
    spec_or_path: Any,
    *,
    workers: Any = None,
    dask_local: Any = None,
    scheduler: str | None = None,
    out: str | Path | None = None,
    progress: bool | Callable[[int, int], None] = True,
    chunk_runs: int | None = None,
    echo: bool = True,
) -> SweepOutcome:
    """Run (or resume) a sweep; see :func:`abm.sweeps.sweep`. Returns counts and the path."""
    from abm.executors import DaskCluster, run_dask, run_local

    spec = load_spec(spec_or_path)
    kind, n_workers = _executor_choice(workers, dask_local, scheduler)
    if chunk_runs is not None and (isinstance(chunk_runs, bool) or not isinstance(chunk_runs, int) or chunk_runs < 1):
        raise InputError("--chunk-runs", chunk_runs, "a whole number >= 1")
    design = build_design(spec)
    path = Path(out) if out is not None else Path("results") / spec.name
    ResultStore.inspect(path, spec)  # refuses a folder of another sweep before anything is written
    from abm.folders import prepare_parent

    prepare_parent(path)  # a place that cannot be written fails now, not after the first chunk

    cluster = (
        DaskCluster(local_workers=n_workers, scheduler=None)
        if kind == "dask-local"
        else DaskCluster(scheduler=scheduler)
        if kind == "dask"
        else None
    )
    total = design.runs
    with cluster if cluster is not None else contextlib.nullcontext():
        if cluster is not None:
            executor = cluster.describe()
        else:
            executor = "1 process (serial)" if kind == "serial" else f"{n_workers} local processes"
        store = ResultStore(path)
        finished = store.open(spec, design, executor=executor)
        started = time.perf_counter()
        bar = None
        status = "interrupted"
        try:
            if finished.any():
                # a resumed sweep runs the points its folder recorded, whatever a newer sampler would draw
                design.matrix = store.recorded_design(design)
            skipped = int(finished.sum())
            if echo:
                print(_header(spec, design, executor, path, skipped), file=sys.stderr)
            tasks = tasks_for(spec, design, finished)
            if cluster is not None:
                results = run_dask(
                    run_task, tasks, client=cluster.client, batch=dask_batch(total - skipped, cluster.workers())
                )
            else:
                results = run_local(run_task, tasks, workers=n_workers)
            bar = _progress_bar(progress, total, skipped)
            _collect(results, store, spec, design, bar, progress, total, skipped, chunk_runs or CHUNK_RUNS)
            status = "complete"
        except SweepAborted:
            status = "aborted"
            raise
        finally:
            if bar is not None:
                bar.close()
            session = store.session
            done, failed = (session.runs_done, session.runs_failed) if session else (0, 0)
            store.close(status)
    return SweepOutcome(
        path=path,
        total=total,
        done=done,
        failed=failed,
        skipped=skipped,
        elapsed_s=time.perf_counter() - started,
        executor=executor,
    )


def _header(spec: SweepSpec, design: Design, executor: str, path: Path, skipped: int) -> str:
    shape = (
        f"{design.points} points x {design.replications} replications"
        if design.replications > 1
        else f"{design.points} points"
    )
    resume = f"; resuming, {skipped} of {design.runs} already done" if skipped else ""
    return (
        f"Sweep {spec.name}: {design.runs} runs ({shape}, {design.kind} design) of {spec.months} months, "
        f"master seed {spec.master_seed}, on {executor} -> {path}/{resume}"
    )


def _progress_bar(progress: Any, total: int, initial: int):
    if progress is not True:
        return None
    from abm.progress import progress_bar

    return progress_bar(
        total=total,
        initial=initial,
        smoothing=0.05,
        bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}, {rate_fmt}]",
    )


def _collect(
    results: Iterator[tuple[int, Any]],
    store: ResultStore,
    spec: SweepSpec,
    design: Design,
    bar: Any,
    progress: Any,
    total: int,
    skipped: int,
    chunk_runs: int,
) -> None:
    rows: list[dict] = []
    paths: list[pd.DataFrame] = []
    errors: list[dict] = []
    path_rows = 0
    last_flush = time.monotonic()
    done = skipped

    def flush() -> None:
        nonlocal rows, paths, errors, path_rows, last_flush
        store.write_chunk(rows, paths, errors)
        rows, paths, errors, path_rows = [], [], [], 0
        last_flush = time.monotonic()

    try:
        for run_id, out in results:
            if isinstance(out, dict):
                if out["error"] is None:
                    rows.append(out["row"])
                    if out["steps"] is not None:
                        paths.append(out["steps"])
                        path_rows += len(out["steps"])
                else:
                    errors.append({**out["row"], "error": out["error"], "traceback": out.get("traceback", "")})
            elif type(out).__name__ == "KilledWorker":
                # the run itself kept killing Dask workers (e.g. ran out of memory): its fault
                errors.append({**_ids(spec, design, run_id), "error": f"KilledWorker: {out}", "traceback": ""})
            else:
                raise SweepAborted(
                    f"the executor failed ({type(out).__name__}: {out}); finished runs are saved "
                    "and running the same command again resumes"
                )
            done += 1
            if bar is not None:
                bar.update(1)
            elif callable(progress):
                progress(done, total)
            if (
                len(rows) + len(errors) >= chunk_runs
                or path_rows >= CHUNK_PATH_ROWS
                or time.monotonic() - last_flush >= CHUNK_SECONDS
            ):
                flush()
    finally:
        flush()  # what finished is kept, whatever stopped the loop


def _ids(spec: SweepSpec, design: Design, run_id: int) -> dict[str, Any]:
    point, replication = design.locate(run_id)
    return {
        "run_id": run_id,
        "point": point,
        "replication": replication,
        "seed": design.seed(run_id),
        **design.values(point),
    }


__all__ = ["ID_COLUMNS", "SweepAborted", "evaluate", "outcome_columns", "run_sweep", "run_task", "tasks_for"]
