"""Forecasting a case from its own first months (docs/INFERENCE.md; docs/ODD.md §10).

Approximate Bayesian computation by rejection on a reference table (Pritchard et al. 1999;
Beaumont, Zhang & Balding 2002):

1. *Reference table*: ``reference_runs`` runs of the scenario, each with its uncertain
   parameters drawn from their prior (a Latin hypercube) and its own seed
   (``run_seed(master_seed, i)``), to the horizon.
2. *Distance*: each run's first months are compared with what was observed, month by
   month: market share (and, where given, awareness and cash: root mean square
   differences), the licence (granted in the same month, or not yet) and the partnership's
   state in the last observed month. Each part is divided by its median over the table, so
   no unit dominates.
3. *Accept* the ``accept`` share of runs nearest the observation. Their parameters are the
   posterior of the case's uncertain parameters; their own later months are the forecast.
   The accepted runs differ both in parameters and in luck, and each is consistent with
   the observed past (a partnership that has already ended stays ended), so the bands hold
   parameter and run-to-run uncertainty together.
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

from abm import limits
from abm.errors import InputError, shorten
from abm.inference.runs import Runner, write_atomic, write_parquet

REQUIRED = ("month", "market_share")
OPTIONAL = ("awareness", "licence_month", "partnership_status", "cash")
STATUSES = ("alliance", "joint_venture", "none", "ended")
MAX_CSV_BYTES = limits.MAX_TOML_BYTES
MAX_REFERENCE_RUNS = 200_000

UNCERTAIN: dict[str, tuple[str, float, float]] = {
    "market.bass_p": ("absolute", 0.01, 0.06),
    "market.bass_q": ("absolute", 0.15, 0.70),
    "partners.commitment": ("absolute", 0.40, 1.00),
    "incumbents.loyalty": ("factor", 0.5, 1.5),
    "regulators.processing_months": ("factor", 0.5, 2.0),
}
"""The case's uncertain parameters and their priors (uniform): absolute bounds, or a factor
on the scenario's own value. What a strategy team a few months into a market does not know:
how fast its brand is learnt of (Bass p, q; Sultan et al. 1990 report p 0.00-0.06 and q
0.1-0.7 across most studies), whether its partner delivers, how loyal the incumbents'
buyers are, how slow the regulator is. Parameters the scenario lacks (no partner, no
regulator) are left out."""

BAND_LEVELS = (0.50, 0.80, 0.90)
"""Central bands reported (50, 80 and 90 % of the accepted runs)."""

YEARS = {"share_y1": 12, "share_y3": 36, "share_y5": 60}


@dataclass
class Forecast:
    """What a forecast returns: plain frames, and the folder they were written to."""

    path: Path | None
    table: pd.DataFrame  # share at years 1/3/5, months to target, NPV, P(partnership failure)
    bands: pd.DataFrame  # month, observed, median and band edges of share (and awareness)
    posterior: pd.DataFrame  # accepted runs' parameters, seeds and distances
    prior: dict[str, tuple[float, float]]
    observed: pd.DataFrame
    reference_runs: int = 0
    accepted: int = 0
    elapsed_s: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)


# ---- the observed data ------------------------------------------------------------------------


def read_observed(data: Any, horizon: int, field_name: str = "DATA.csv") -> pd.DataFrame:
    """The observed months as a checked frame; refuses anything it cannot read safely.

    Rules: columns ``month`` and ``market_share`` (others optional: awareness, licence_month,
    partnership_status, cash); months whole, increasing, within [0, horizon], fewer than
    the horizon; shares and awareness in [0, 1]; no missing values in the required columns."""
    import io

    if isinstance(data, pd.DataFrame):
        frame = data.copy()
    else:
        try:
            text = limits.read_text_file(data, field_name, max_bytes=MAX_CSV_BYTES, what="a CSV file")
        except FileNotFoundError:
            raise InputError(field_name, str(data), "an existing CSV file") from None
        try:
            frame = pd.read_csv(io.StringIO(text), skipinitialspace=True)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
            raise InputError(
                field_name, str(data), f"a CSV file with a header row ({shorten(str(exc), 120)})"
            ) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise InputError(
            f"{field_name} columns",
            list(frame.columns),
            f"the columns {', '.join(REQUIRED)} (missing: {', '.join(missing)}); optional: {', '.join(OPTIONAL)}",
        )
    unknown = [c for c in frame.columns if c not in REQUIRED + OPTIONAL]
    if unknown:
        raise InputError(f"{field_name} columns", unknown, "only " + ", ".join(REQUIRED + OPTIONAL))
    if frame.empty:
        raise InputError(field_name, "(no rows)", "at least one observed month")
    for col in ("month", "market_share", "awareness", "cash"):
        if col not in frame:
            continue
        values = pd.to_numeric(frame[col], errors="coerce")
        bad = values.isna() | ~np.isfinite(values.to_numpy(float, na_value=np.nan))
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(f"{col} (row {row + 1})", frame[col].iloc[row], "a finite number (no blanks, no NaN)")
        frame[col] = values.astype(float)
    months = frame["month"].to_numpy(float)
    if np.any(months != np.round(months)) or np.any(months < 0):
        row = int(np.flatnonzero((months != np.round(months)) | (months < 0))[0])
        raise InputError(f"month (row {row + 1})", float(months[row]), "a whole number of months >= 0")
    if np.any(np.diff(months) <= 0):
        row = int(np.flatnonzero(np.diff(months) <= 0)[0]) + 1
        raise InputError(
            f"month (row {row + 1})",
            int(months[row]),
            f"months in increasing order (after month {int(months[row - 1])})",
        )
    if months[-1] >= horizon:
        raise InputError(
            "month",
            int(months[-1]),
            f"months before the scenario's horizon of {horizon} (something must remain to forecast)",
        )
    if len(frame) > horizon:
        raise InputError(field_name, f"{len(frame)} months", f"at most {horizon} observed months (the horizon)")
    for col in ("market_share", "awareness"):
        if col in frame:
            v = frame[col].to_numpy(float)
            if np.any((v < 0) | (v > 1)):
                row = int(np.flatnonzero((v < 0) | (v > 1))[0])
                raise InputError(f"{col} (row {row + 1})", float(v[row]), "a share in [0, 1] (e.g. 0.05 for 5 %)")
    if "licence_month" in frame:
        lic = pd.to_numeric(frame["licence_month"], errors="coerce")
        raw = frame["licence_month"]
        for row in range(len(frame)):
            given = not (pd.isna(raw.iloc[row]) or str(raw.iloc[row]).strip() == "")
            if given and (
                pd.isna(lic.iloc[row]) or lic.iloc[row] != round(lic.iloc[row]) or not 0 <= lic.iloc[row] <= months[row]
            ):
                raise InputError(
                    f"licence_month (row {row + 1})",
                    raw.iloc[row],
                    f"blank (not licensed yet) or the whole month the licence was granted, at most that row's month ({int(months[row])})",
                )
        frame["licence_month"] = lic
    if "partnership_status" in frame:
        status = frame["partnership_status"].astype(str).str.strip()
        for row, s in enumerate(status):
            if s not in STATUSES:
                raise InputError(f"partnership_status (row {row + 1})", s, "one of " + ", ".join(STATUSES))
        frame["partnership_status"] = status.replace("ended", "none")
    frame["month"] = frame["month"].astype(int)
    return frame.reset_index(drop=True)


# ---- priors and the reference table -------------------------------------------------------------


def case_prior(scenario, parameters: dict | None = None) -> dict[str, tuple[float, float]]:
    """Absolute uniform bounds of the case's uncertain parameters (``parameters`` replaces the
    defaults: ``{path: [low, high]}``)."""
    from abm.inference.spec import check_parameters_in_scenario, check_prior, default_values

    if parameters is not None:
        prior = check_prior(parameters, "parameters")
    else:
        prior = {}
        for path, (kind, lo, hi) in UNCERTAIN.items():
            section = getattr(scenario, path.split(".")[0])
            if isinstance(section, list) and not section:
                continue
            if kind == "factor":
                value = default_values(scenario, [path])[path]
                lo, hi = value * lo, value * hi
            prior[path] = (lo, hi)
    check_parameters_in_scenario(scenario, prior)
    return prior


def reference_task(task: tuple) -> dict[str, Any]:
    """One run of the reference table: its monthly paths and the outcomes the table reports."""
    from abm.simulation import simulate

    scenario, overrides, seed = task
    result = simulate(scenario.with_overrides(overrides), seed=seed)
    s = result.outcomes()
    focal = result.scenario.entrants[0].name
    path = result.steps[result.steps.firm == focal].sort_values("month")
    return {
        "seed": seed,
        "share": path.market_share.to_numpy(np.float32),
        "awareness": path.awareness.to_numpy(np.float32),
        "cash": path.cash.to_numpy(np.float32),
        "licensed": path.licensed.to_numpy(bool),
        "partnership": path.partnership.astype(str).to_numpy(),
        "share_y1": s["share_y1"],
        "share_y3": s["share_y3"],
        "share_y5": s["share_y5"],
        "months_to_target": s["months_to_target"],
        "npv": s["npv"],
        "partnership_failed": bool(s["partnership_failed"]),
        "licence_month": s["licence_month"],
    }


def reference_table(
    scenario, prior: dict[str, tuple[float, float]], runs: int, master_seed: int, runner: Runner
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """``runs`` runs with parameters drawn from the prior: (parameters, run records)."""
    from scipy.stats import qmc

    from abm.seeding import run_seed

    bounds = np.array(list(prior.values()), dtype=float)
    u = qmc.LatinHypercube(d=len(bounds), seed=np.random.default_rng([master_seed, 17])).random(runs)
    x = bounds[:, 0] + u * (bounds[:, 1] - bounds[:, 0])
    names = list(prior)
    tasks = [
        (i, (scenario, dict(zip(names, map(float, x[i]), strict=True)), run_seed(master_seed, i))) for i in range(runs)
    ]
    records: list[Any] = [None] * runs
    for i, rec in runner.map(reference_task, tasks, "reference runs"):
        records[i] = rec
    return x, records


# ---- conditioning -------------------------------------------------------------------------------


def distances(observed: pd.DataFrame, records: list[dict[str, Any]], capital: float) -> np.ndarray:
    """Distance of each reference run's first months from the observation (step 2 above)."""
    months = observed["month"].to_numpy(int)
    parts = []
    share = np.array([r["share"][months] for r in records], dtype=float)
    parts.append(np.sqrt(np.mean((share - observed["market_share"].to_numpy(float)) ** 2, axis=1)))
    if "awareness" in observed:
        aw = np.array([r["awareness"][months] for r in records], dtype=float)
        parts.append(np.sqrt(np.mean((aw - observed["awareness"].to_numpy(float)) ** 2, axis=1)))
    if "cash" in observed:
        cash = np.array([r["cash"][months] for r in records], dtype=float)
        parts.append(np.sqrt(np.mean((cash - observed["cash"].to_numpy(float)) ** 2, axis=1)) / max(capital, 1e-9))
    last = int(months[-1])
    if "licence_month" in observed:
        known = observed["licence_month"].dropna()
        sim = np.array(
            [
                np.flatnonzero(r["licensed"][: last + 1])[0] if r["licensed"][: last + 1].any() else np.inf
                for r in records
            ]
        )
        if len(known):
            parts.append(np.minimum(np.abs(sim - float(known.iloc[-1])), last + 1.0))
        else:  # not licensed by the last observed month
            parts.append(np.where(np.isfinite(sim), last + 1.0 - sim, 0.0))
    if "partnership_status" in observed:
        status = observed["partnership_status"].iloc[-1]
        parts.append(np.array([float(r["partnership"][last] != status) for r in records]))
    total = np.zeros(len(records))
    for p in parts:
        scale = np.median(p[p > 0]) if np.any(p > 0) else 1.0
        total += (p / scale) ** 2
    return np.sqrt(total)


def condition(observed, records, accept: float, capital: float) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the accepted runs (nearest ``accept`` share, at least 20) and all distances."""
    dist = distances(observed, records, capital)
    k = max(20, round(accept * len(records)))
    k = min(k, len(records))
    order = np.argsort(dist, kind="stable")
    return order[:k], dist


def bands_frame(observed: pd.DataFrame, records: list[dict], picked: np.ndarray, horizon: int) -> pd.DataFrame:
    """Per month: the observation (if any), and median and band edges of the accepted runs."""
    share = np.array([records[i]["share"] for i in picked], dtype=float)
    aware = np.array([records[i]["awareness"] for i in picked], dtype=float)
    frame = pd.DataFrame({"month": np.arange(horizon + 1)})
    obs = observed.set_index("month")
    frame["observed_share"] = frame.month.map(obs["market_share"])
    if "awareness" in obs:
        frame["observed_awareness"] = frame.month.map(obs["awareness"])
    for name, paths in (("share", share), ("awareness", aware)):
        frame[f"{name}_median"] = np.median(paths, axis=0)
        for level in BAND_LEVELS:
            lo, hi = np.quantile(paths, [(1 - level) / 2, (1 + level) / 2], axis=0)
            frame[f"{name}_{int(level * 100)}_low"] = lo
            frame[f"{name}_{int(level * 100)}_high"] = hi
    frame["forecast"] = frame.month > int(observed.month.iloc[-1])
    return frame


def summary_table(observed, records, picked, target_month: int) -> pd.DataFrame:
    """Share at years 1, 3 and 5, months to target, NPV, P(partnership failure)."""
    rows = []
    last = int(observed.month.iloc[-1])
    obs = observed.set_index("month")
    for key, month in YEARS.items():
        values = np.array([records[i][key] for i in picked], dtype=float)
        seen = month <= last and month in obs.index
        rows.append(
            _row(f"market share, year {month // 12}", values, "share", obs["market_share"].get(month) if seen else None)
        )
    mtt = np.array([records[i]["months_to_target"] for i in picked], dtype=float)
    reached = np.isfinite(mtt)
    row = _row("months to target share", mtt[reached], "months", None)
    row["probability"] = float(reached.mean())
    row["note"] = (
        f"{reached.mean():.0%} of accepted runs reach the target; median/band over those (objective: month {target_month})"
    )
    rows.append(row)
    rows.append(_row("NPV (million)", np.array([records[i]["npv"] for i in picked], dtype=float), "million", None))
    failed = np.array([records[i]["partnership_failed"] for i in picked], dtype=float)
    p = float(failed.mean())
    se = math.sqrt(p * (1 - p) / len(failed))
    rows.append(
        {
            "quantity": "probability of partnership failure",
            "unit": "probability",
            "observed": np.nan,
            "median": p,
            "low_90": max(0.0, p - 1.645 * se),
            "high_90": min(1.0, p + 1.645 * se),
            "probability": p,
            "note": "share of accepted runs whose partnership fails by the horizon (band: 90 % binomial)",
        }
    )
    return pd.DataFrame(rows)


def _row(name: str, values: np.ndarray, unit: str, observed: float | None) -> dict[str, Any]:
    values = values[np.isfinite(values)]
    if len(values) == 0:
        med = lo = hi = np.nan
    else:
        med = float(np.median(values))
        lo, hi = (float(v) for v in np.quantile(values, [0.05, 0.95]))
    return {
        "quantity": name,
        "unit": unit,
        "observed": np.nan if observed is None else float(observed),
        "median": med,
        "low_90": lo,
        "high_90": hi,
        "probability": np.nan,
        "note": "observed (already past)" if observed is not None else "",
    }


# ---- the forecast -------------------------------------------------------------------------------


def forecast(
    scenario: Any,
    data: Any,
    *,
    out: str | Path | None = None,
    parameters: dict | None = None,
    reference_runs: int = 2000,
    accept: float = 0.05,
    master_seed: int = 1,
    workers: Any = None,
    dask_local: Any = None,
    scheduler: Any = None,
    progress: Any = True,
    echo: bool = True,
) -> Forecast:
    """Forecast a case's remaining months from what has been observed so far.

    Args:
        scenario: preset name, TOML path or Scenario: the case.
        data: CSV path (or a frame) of observed months: month, market_share; optional
            awareness, licence_month, partnership_status, cash.
        out: new or empty folder for the fan chart, table and Parquet files (None: write nothing).
        parameters: ``{path: [low, high]}`` replacing the default uncertain parameters.
        reference_runs: runs of the reference table.
        accept: share of the reference runs accepted (the nearest to the observation).
        master_seed: seeds of the reference runs and their parameter draws.
        workers, dask_local, scheduler: the executor, as for ``abm sweep``.

    Returns:
        A :class:`Forecast` of plain pandas frames.
    """
    from abm.presets import resolve_scenario

    case = resolve_scenario(scenario)
    observed = read_observed(data, case.months)
    prior = case_prior(case, parameters)
    if (
        isinstance(reference_runs, bool)
        or not isinstance(reference_runs, int)
        or not 50 <= reference_runs <= MAX_REFERENCE_RUNS
    ):
        raise InputError("reference_runs", reference_runs, f"a whole number in [50, {MAX_REFERENCE_RUNS:,}]")
    if isinstance(accept, bool) or not isinstance(accept, int | float) or not 0 < accept <= 0.5:
        raise InputError("accept", accept, "a share in (0, 0.5] of the reference runs")
    path = None
    if out is not None:
        from abm.cli import fresh_output_dir
        from abm.folders import prepare_parent

        path = fresh_output_dir(str(out), "forecast")
        prepare_parent(path)
    runner = Runner(workers, dask_local, scheduler, progress)
    say = (lambda text: print(text, file=sys.stderr)) if echo else (lambda text: None)
    started = time.perf_counter()
    with runner:
        say(
            f"{case.title}: {len(observed)} observed months (to month {int(observed.month.iloc[-1])} of {case.months}); "
            f"{reference_runs} reference runs over {len(prior)} uncertain parameters on {runner.describe()}"
        )
        x, records = reference_table(case, prior, reference_runs, master_seed, runner)
    picked, dist = condition(observed, records, accept, case.entrants[0].capital)
    bands = bands_frame(observed, records, picked, case.months)
    table = summary_table(observed, records, picked, case.entrants[0].target_month)
    names = list(prior)
    posterior = pd.DataFrame(x[picked], columns=names)
    posterior["seed"] = [records[i]["seed"] for i in picked]
    posterior["distance"] = dist[picked]
    elapsed = time.perf_counter() - started
    result = Forecast(path, table, bands, posterior, prior, observed, reference_runs, len(picked), elapsed)
    result.info["tolerance"] = float(dist[picked].max())
    if path is not None:
        write_forecast(result, case)
    say(f"{reference_runs} runs in {elapsed:.1f} s; {len(picked)} accepted" + (f"; results: {path}/" if path else ""))
    return result


# ---- output ----------------------------------------------------------------------------------------


def fan_chart_png(result: Forecast, title: str, path: Path) -> None:
    from abm.inference.report import _plt

    plt = _plt()
    b = result.bands
    last = int(result.observed.month.iloc[-1])
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    for ax, name in zip(axes, ("share", "awareness"), strict=True):
        for level, alpha in zip(sorted(BAND_LEVELS, reverse=True), (0.18, 0.28, 0.4), strict=True):
            ax.fill_between(
                b.month,
                b[f"{name}_{int(level * 100)}_low"],
                b[f"{name}_{int(level * 100)}_high"],
                color="#4C72B0",
                alpha=alpha,
                lw=0,
                label=f"{int(level * 100)} % band",
            )
        ax.plot(b.month, b[f"{name}_median"], color="#4C72B0", lw=1.5, label="median")
        col = f"observed_{name}"
        if col in b:
            ax.plot(b.month, b[col], "o", color="black", ms=3, label="observed")
        ax.axvline(last, color="grey", ls=":", lw=1)
        ax.text(last, 0.02, " forecast ->", fontsize=8, va="bottom", color="grey", transform=ax.get_xaxis_transform())
        ax.set_xlabel("month")
        ax.set_ylabel("market share" if name == "share" else "awareness")
        ax.set_xlim(0, b.month.max())
        ax.set_ylim(bottom=0)
    axes[0].legend(fontsize=7, loc="upper left")
    fig.suptitle(
        f"{title}: forecast from {len(result.observed)} observed months "
        f"({result.accepted} of {result.reference_runs} runs accepted)",
        fontsize=10,
    )
    fig.tight_layout()
    write_atomic(path, lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)


def write_forecast(result: Forecast, case) -> None:
    import os

    from abm.folders import partial_dir

    assert result.path is not None, "a forecast is written only where it has a folder"
    out = Path(result.path)
    tmp = partial_dir(out.parent)
    try:
        fan_chart_png(result, case.title, tmp / "fan_chart.png")
        result.table.to_csv(tmp / "forecast_table.csv", index=False)
        write_parquet(tmp / "bands.parquet", result.bands)
        write_parquet(tmp / "posterior.parquet", result.posterior)
        lines = [
            f"# Forecast: {case.title}",
            "",
            f"Observed: {len(result.observed)} months (last: month {int(result.observed.month.iloc[-1])}); "
            f"horizon {case.months} months. Reference runs: {result.reference_runs}; accepted: {result.accepted} "
            f"(ABC rejection, tolerance {result.info['tolerance']:.3g}); {result.elapsed_s:.0f} s.",
            "",
            "![fan chart](fan_chart.png)",
            "",
            "| quantity | observed | median | 90 % band | note |",
            "|---|---|---|---|---|",
        ]
        for _, r in result.table.iterrows():
            fmt = (lambda v: f"{v:.1%}") if r.unit in ("share", "probability") else (lambda v: f"{v:.1f}")
            obs = "" if pd.isna(r.observed) else fmt(r.observed)
            band = "" if pd.isna(r.low_90) else f"{fmt(r.low_90)} to {fmt(r.high_90)}"
            med = "n/a" if pd.isna(r["median"]) else fmt(r["median"])
            lines.append(f"| {r.quantity} | {obs} | {med} | {band} | {r.note} |")
        lines += [
            "",
            "Uncertain parameters (uniform priors) and their posterior (accepted runs):",
            "",
            "| parameter | prior | posterior median | 5-95 % |",
            "|---|---|---|---|",
        ]
        for n, (lo, hi) in result.prior.items():
            v = result.posterior[n]
            lines.append(
                f"| {n} | {lo:.3g} to {hi:.3g} | {v.median():.3g} | {v.quantile(0.05):.3g} to {v.quantile(0.95):.3g} |"
            )
        (tmp / "forecast.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
        if out.exists():
            out.rmdir()
        os.replace(tmp, out)
    finally:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
