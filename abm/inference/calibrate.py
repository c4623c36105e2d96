"""Calibration with uncertainty: history matching with Gaussian-process emulators, then the
posterior under the band likelihood (docs/INFERENCE.md; docs/ODD.md §10).

1. Wave 1 runs a Latin hypercube of design points over the prior box; at each point the
   targets (facts of the validation report) are measured from ``entries`` runs per arm of
   the validation conditions they need, with the same entries and seeds at every point.
2. A Gaussian-process emulator per target is fitted to all points measured so far
   (:mod:`abm.inference.emulator`); the next wave's points are drawn from the prior and kept
   only where no target is implausible (``max_t I_t < cutoff``): each wave refocuses on the
   region the facts still allow.
3. After the last wave, a large prior sample is weighted by the emulator's likelihood
   ``prod_t L_t(x)`` and resampled: the posterior. The points with ``max_t I_t < cutoff``
   are the non-implausible region.
4. A few posterior draws and the scenario's current values are re-run on fresh entries
   (another master seed): the posterior predictive check against every target.

Everything measured is kept in ``OUT/state/`` as it finishes (atomic writes), so an
interrupted calibration resumes where it stopped; the same command rebuilds the report of a
finished one without running anything.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from abm.errors import InputError
from abm.inference.emulator import Emulator
from abm.inference.runs import Runner, write_json, write_parquet
from abm.inference.spec import CalibrationSpec, default_values, load_spec
from abm.inference.targets import conditions_for, estimate, point_tasks, run_one

STATE = "state"
ZOOMS = 3
"""Times the posterior's draw is repeated in the box where the likelihood lives (see posterior_sample)."""
CHECK_SEED_OFFSET = 1
"""The predictive check uses master seed + this: entries no design point was measured on."""


@dataclass
class Calibration:
    """What a calibration returns: plain frames, and the folder they were written to."""

    path: Path
    posterior: pd.DataFrame  # resampled posterior draws, one row each
    evaluations: pd.DataFrame  # every design point: wave, values, measured targets
    identifiability: pd.DataFrame  # one row per parameter
    correlations: pd.DataFrame  # posterior correlation matrix
    predictive: pd.DataFrame  # posterior predictive check: one row per re-run point and target
    defaults: pd.DataFrame  # the scenario's current values against the posterior
    runs: int = 0  # runs made by this call (0 when everything was already in the folder)
    total_runs: int = 0  # runs behind the result
    elapsed_s: float = 0.0
    executor: str = ""
    info: dict[str, Any] = field(default_factory=dict)


# ---- state -----------------------------------------------------------------------------


class State:
    """``OUT/state/``: the spec's fingerprint, each wave's design, every measured point."""

    def __init__(self, out: Path, spec: CalibrationSpec):
        self.out = Path(out)
        self.dir = self.out / STATE
        self.spec = spec

    @staticmethod
    def inspect(out: Path, spec: CalibrationSpec) -> None:
        """Refuse a folder that holds anything but a calibration of this same spec."""
        out = Path(out)
        if not out.exists():
            return
        if not out.is_dir():
            raise InputError("--out", str(out), "a folder (this is a file)")
        meta = out / STATE / "spec.json"
        if meta.exists():
            import json

            try:
                recorded = json.loads(meta.read_text(encoding="utf-8")).get("fingerprint")
            except (OSError, ValueError):
                recorded = None
            if recorded != spec.fingerprint():
                raise InputError(
                    "--out",
                    str(out),
                    "a new folder, or one holding a calibration of this same spec (it holds one of another "
                    "spec or seed; nothing is overwritten)",
                )
            return
        if any(out.iterdir()):
            raise InputError("--out", str(out), "a new or empty folder, or a calibration of this spec to resume")

    def open(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        write_json(
            self.dir / "spec.json",
            {
                "fingerprint": self.spec.fingerprint(),
                "name": self.spec.name,
                "scenario": str(self.spec.scenario),
                "parameters": self.spec.parameters,
                "targets": list(self.spec.targets),
                "design": self.spec.design,
            },
        )

    def read(self, name: str) -> pd.DataFrame | None:
        path = self.dir / f"{name}.parquet"
        return pd.read_parquet(path) if path.exists() else None

    def write(self, name: str, frame: pd.DataFrame) -> None:
        write_parquet(self.dir / f"{name}.parquet", frame)


# ---- design ------------------------------------------------------------------------------


def latin_hypercube(bounds: np.ndarray, n: int, seed: int) -> np.ndarray:
    from scipy.stats import qmc

    u = qmc.LatinHypercube(d=len(bounds), seed=np.random.default_rng(seed)).random(n)
    return bounds[:, 0] + u * (bounds[:, 1] - bounds[:, 0])


def refocus(spec: CalibrationSpec, emulator: Emulator, wave: int) -> tuple[np.ndarray, float]:
    """The next wave's points: prior draws no target rules out (max I < cutoff). Where fewer
    survive than points are wanted, the wave is drawn from the least implausible 5 % of the
    candidates (no parameter value meets every target: the wave looks where they are missed
    least). Returns the points and the share of the prior still non-implausible."""
    d = spec.design
    bounds = spec.bounds()
    candidates = latin_hypercube(bounds, int(d["candidates"]), spec.master_seed * 1000 + wave)
    imax = np.max(np.vstack(list(emulator.implausibility(candidates).values())), axis=0)
    keep = np.flatnonzero(imax < d["cutoff"])
    rng = np.random.default_rng([spec.master_seed, wave, 7])
    n = int(d["points"])
    if len(keep) >= n:
        chosen = rng.choice(keep, n, replace=False)
    else:
        pool = np.argsort(imax, kind="stable")[: max(n, len(candidates) // 20)]
        chosen = rng.choice(pool, n, replace=False)
    return candidates[np.sort(chosen)], float(len(keep) / len(candidates))


def _overrides(spec: CalibrationSpec, x: np.ndarray) -> dict[str, float]:
    return {name: float(v) for name, v in zip(spec.names, x, strict=True)}


# ---- measuring points ---------------------------------------------------------------------


def measure(
    spec: CalibrationSpec,
    runner: Runner,
    points: list[tuple[Any, np.ndarray]],
    entries: int,
    master_seed: int,
    on_point,
    desc: str,
) -> int:
    """Run every run of ``points`` (label, values); call ``on_point(label, values, measured)``
    as each point's last run finishes. Returns the number of runs made."""
    conditions = conditions_for(spec.targets, entries)
    keys: list[tuple[int, str, str, int]] = []
    tasks: list[tuple[int, Any]] = []
    for p, (_, x) in enumerate(points):
        for key, task in point_tasks(spec.scenario, _overrides(spec, x), conditions, master_seed, p):
            tasks.append((len(tasks), task))
            keys.append(key)
    if not tasks:
        return 0
    per_point = len(tasks) // len(points)
    rows: dict[int, list[dict]] = {}
    for index, row in runner.map(run_one, tasks, desc):
        p = keys[index][0]
        rows.setdefault(p, []).append(row)
        if len(rows[p]) == per_point:
            label, x = points[p]
            on_point(label, x, estimate(rows.pop(p), conditions, spec.targets, master_seed))
    return len(tasks)


# ---- the calibration ------------------------------------------------------------------------


def calibrate(
    spec: Any,
    *,
    out: str | Path | None = None,
    workers: Any = None,
    dask_local: Any = None,
    scheduler: Any = None,
    progress: Any = True,
    echo: bool = True,
) -> Calibration:
    """Calibrate a spec's parameters against its targets; write the posterior and report.

    Args:
        spec: a TOML path, a dict (see :mod:`abm.inference.spec`) or a CalibrationSpec.
        out: results folder (default ``results/calibrate-<name>``); running again with the
            same folder resumes an interrupted calibration, or rebuilds a finished one's
            report without runs.
        workers, dask_local, scheduler: the executor, as for ``abm sweep`` (default: all cores).
        progress: show a progress bar (or a callable ``progress(done, total)``).
        echo: print what is being done to stderr.

    Returns:
        A :class:`Calibration` of plain pandas frames.
    """
    from abm.folders import prepare_parent, slug

    spec = load_spec(spec)
    path = Path(out) if out is not None else Path("results") / f"calibrate-{slug(spec.name)}"
    State.inspect(path, spec)
    runner = Runner(workers, dask_local, scheduler, progress)  # checks the executor options
    prepare_parent(path)
    state = State(path, spec)
    state.open()
    say = (lambda text: print(text, file=sys.stderr)) if echo else (lambda text: None)
    started = time.perf_counter()
    d = spec.design
    bounds = spec.bounds()
    names = spec.names
    evaluations = state.read("evaluations")
    rows = [] if evaluations is None else evaluations.to_dict("records")
    runs = 0
    info: dict[str, Any] = {"waves": []}
    with runner:
        say(
            f"Calibrating {len(names)} parameters of {spec.scenario} against {len(spec.targets)} targets: "
            f"{int(d['waves'])} waves x {int(d['points'])} points x {spec.runs_per_point()} runs, "
            f"on {runner.describe()} -> {path}/"
        )
        for wave in range(int(d["waves"])):
            design = state.read(f"design-{wave}")
            if design is None:
                if wave == 0:
                    x, share = latin_hypercube(bounds, int(d["points"]), spec.master_seed), 1.0
                else:
                    x, share = refocus(spec, fit_emulator(spec, pd.DataFrame(rows)), wave)
                design = pd.DataFrame(x, columns=names).assign(wave=wave, point=range(len(x)), nonimplausible=share)
                state.write(f"design-{wave}", design)
            share = float(design.nonimplausible.iloc[0])
            done = {(r["wave"], r["point"]) for r in rows}
            todo = [
                (int(r.point), r[names].to_numpy(float)) for _, r in design.iterrows() if (wave, r.point) not in done
            ]
            info["waves"].append({"wave": wave + 1, "points": len(design), "prior_share_nonimplausible": share})
            say(
                f"wave {wave + 1}: {len(design)} points ({len(design) - len(todo)} already measured); "
                f"non-implausible share of the prior before it: {share:.1%}"
            )

            def keep(label, x, measured, wave=wave):
                rows.append({"wave": wave, "point": label, **_overrides(spec, x), **measured})
                state.write("evaluations", pd.DataFrame(rows))

            runs += measure(spec, runner, todo, int(d["entries"]), spec.master_seed, keep, f"wave {wave + 1}")
        evaluations = pd.DataFrame(rows).sort_values(["wave", "point"]).reset_index(drop=True)
        emulator = fit_emulator(spec, evaluations)
        posterior, region_share, ess = posterior_sample(spec, emulator)
        info.update({"nonimplausible_share": region_share, "ess": ess})
        # posterior predictive check: a few posterior draws and the scenario's current values
        scenario_defaults = default_values(_scenario(spec), names)
        check = state.read("check")
        check_rows = [] if check is None else check.to_dict("records")
        if int(d["check_draws"]):
            picks = posterior.drop_duplicates(subset=names).head(int(d["check_draws"]))
            wanted = [(f"posterior {i + 1}", r[names].to_numpy(float)) for i, (_, r) in enumerate(picks.iterrows())]
            wanted.append(("defaults", np.array([scenario_defaults[n] for n in names])))
            # a stored check is reused only for the same values (a rebuilt posterior may differ)
            have = {(r["point"], tuple(round(float(r[n]), 12) for n in names)) for r in check_rows}
            check_todo = [
                (label, x) for label, x in wanted if (label, tuple(round(float(v), 12) for v in x)) not in have
            ]
            stale = {label for label, _ in check_todo}
            check_rows[:] = [r for r in check_rows if r["point"] not in stale]
            if check_todo:
                say(f"posterior predictive check: {len(check_todo)} points on fresh entries")

            def keep_check(label, x, measured):
                check_rows.append({"point": label, **_overrides(spec, x), **measured})
                state.write("check", pd.DataFrame(check_rows))

            runs += measure(
                spec,
                runner,
                check_todo,
                int(d["check_entries"]),
                spec.master_seed + CHECK_SEED_OFFSET,
                keep_check,
                "check",
            )
        executor = runner.describe()
    elapsed = time.perf_counter() - started
    from abm.inference import report

    ident, corr = report.identifiability(spec, posterior, region_share)
    predictive = report.predictive_table(spec, pd.DataFrame(check_rows))
    defaults = report.defaults_table(spec, posterior, emulator, scenario_defaults, pd.DataFrame(check_rows))
    total_runs = len(evaluations) * spec.runs_per_point() + (
        len(check_rows) * conditions_runs(spec, int(d["check_entries"])) if check_rows else 0
    )
    result = Calibration(
        path, posterior, evaluations, ident, corr, predictive, defaults, runs, total_runs, elapsed, executor, info
    )
    report.write_calibration_report(result, spec, emulator)
    say(
        f"{runs} runs made now ({total_runs} behind the result) in {elapsed:.1f} s on {executor}; "
        f"posterior: {len(posterior)} draws (effective sample size {ess:.0f}); report: {path}/report.md"
    )
    return result


def conditions_runs(spec: CalibrationSpec, entries: int) -> int:
    return sum(c.n * len(c.arms) for c in conditions_for(spec.targets, entries))


def _scenario(spec: CalibrationSpec):
    from abm.presets import resolve_scenario

    return resolve_scenario(spec.scenario)


def fit_emulator(spec: CalibrationSpec, evaluations: pd.DataFrame) -> Emulator:
    bands = {k: (t.low, t.high) for k, t in spec.targets.items()}
    x = evaluations[spec.names].to_numpy(float)
    values = {k: evaluations[k].to_numpy(float) for k in spec.targets}
    discrepancy = {k: math.hypot(t.discrepancy, sampling_sd(evaluations, k)) for k, t in spec.targets.items()}
    return Emulator(spec.bounds(), bands, seed=spec.master_seed, discrepancy=discrepancy).fit(x, values)


def sampling_sd(evaluations: pd.DataFrame, key: str) -> float:
    """Standard error of a target's estimate from the design's finite set of entries (the median
    over points of its 95 % interval / 3.92). Every point runs the same entries, so their
    sampling error is shared: the emulator cannot average it away, and it joins the discrepancy."""
    width = (evaluations[f"{key}__high"] - evaluations[f"{key}__low"]).to_numpy(float)
    width = width[np.isfinite(width)]
    return float(np.median(width) / 3.92) if len(width) else 0.0


def posterior_sample(spec: CalibrationSpec, emulator: Emulator) -> tuple[pd.DataFrame, float, float]:
    """Resampled posterior draws (uniform prior x emulator likelihood), the non-implausible
    share of the prior, and the effective sample size of the weights.

    Draws of ``candidates`` points: over the whole prior box, then (ZOOMS times) over the
    smallest box holding every point of the previous draw whose likelihood is within e^-10 of
    the best, widened by a quarter of its width on each side (within the prior). The prior is uniform, so inside that
    box the posterior is the likelihood alone, and the second draw spends every point where
    the posterior lives instead of on the 99 % of the prior the targets rule out."""
    d = spec.design
    bounds = spec.bounds()
    n = int(d["candidates"])
    x = latin_hypercube(bounds, n, spec.master_seed * 1000 + 999)
    imax = np.max(np.vstack(list(emulator.implausibility(x).values())), axis=0)
    region = float(np.mean(imax < d["cutoff"]))
    loglik = emulator.log_likelihood(x)
    for step in range(ZOOMS):
        near = x[loglik >= loglik.max() - 10.0]
        lo, hi = near.min(axis=0), near.max(axis=0)
        pad = 0.25 * (hi - lo) + 0.01 * (bounds[:, 1] - bounds[:, 0])
        box = np.column_stack([np.maximum(bounds[:, 0], lo - pad), np.minimum(bounds[:, 1], hi + pad)])
        x = latin_hypercube(box, n, spec.master_seed * 1000 + 998 - step)
        imax = np.max(np.vstack(list(emulator.implausibility(x).values())), axis=0)
        loglik = emulator.log_likelihood(x)
    w = np.exp(loglik - loglik.max())
    w /= w.sum()
    ess = float(1.0 / np.sum(w**2))
    rng = np.random.default_rng([spec.master_seed, 99])
    pick = rng.choice(len(x), int(d["posterior_draws"]), replace=True, p=w)
    frame = pd.DataFrame(x[pick], columns=spec.names)
    frame["log_likelihood"] = loglik[pick]
    frame["max_implausibility"] = imax[pick]
    return frame, region, ess


def non_implausible(spec: CalibrationSpec, emulator: Emulator) -> float:
    """Share of the prior box where no target is implausible."""
    x = latin_hypercube(spec.bounds(), int(spec.design["candidates"]), spec.master_seed * 1000 + 999)
    imax = np.max(np.vstack(list(emulator.implausibility(x).values())), axis=0)
    return float(np.mean(imax < spec.design["cutoff"]))


def _finite(x: float) -> bool:
    return x is not None and math.isfinite(x)
