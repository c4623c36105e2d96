"""The statistics of a sweep's analysis: tables by parameter, winners, sensitivity
indices, survival."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from abm.sweeps.analysis.context import (
    LOWER_IS_BETTER,
    TIE,
    Context,
    Outcome,
    Param,
)

# ---- statistics --------------------------------------------------------------------------------


def wilson(successes: float, n: int, z: float = 1.96) -> tuple[float, float]:
    from abm.report import wilson as _wilson

    return _wilson(round(successes), int(n), z)


def describe(values: pd.Series, outcome: Outcome) -> dict[str, float]:
    v = values.dropna()
    n = len(v)
    if outcome.rate:
        lo, hi = wilson(v.sum(), n) if n else (math.nan, math.nan)
        return {"n": n, "rate": v.mean() if n else math.nan, "ci_low": lo, "ci_high": hi}
    if n == 0:
        return {
            "n": 0,
            "mean": math.nan,
            "sd": math.nan,
            "ci_low": math.nan,
            "ci_high": math.nan,
            "p10": math.nan,
            "p50": math.nan,
            "p90": math.nan,
        }
    mean, sd = float(v.mean()), float(v.std(ddof=1)) if n > 1 else math.nan
    half = 1.96 * sd / math.sqrt(n) if n > 1 else math.nan
    p10, p50, p90 = np.quantile(v, [0.1, 0.5, 0.9])
    return {
        "n": n,
        "mean": mean,
        "sd": sd,
        "ci_low": mean - half,
        "ci_high": mean + half,
        "p10": p10,
        "p50": p50,
        "p90": p90,
    }


def centre(stats: dict) -> float:
    return stats["rate"] if "rate" in stats else stats["mean"]


def by_parameter(ctx: Context, param: Param) -> pd.DataFrame:
    """One row per level of ``param``: runs and each outcome's statistics."""
    levels = ctx.levels(param)
    rows = []
    for level, idx in levels.groupby(levels, sort=False, observed=True).groups.items():
        row: dict[str, Any] = {param.column: level, "runs": len(idx)}
        for o in ctx.outcomes:
            for stat, value in describe(ctx.frame.loc[idx, o.column], o).items():
                if stat != "n":
                    row[f"{o.name}_{stat}"] = value
        rows.append(row)
    table = pd.DataFrame(rows)
    return _ordered(table, param)


def _ordered(table: pd.DataFrame, param: Param) -> pd.DataFrame:
    if param.categorical:
        rank = {v: i for i, v in enumerate(param.order)}
        return table.sort_values(param.column, key=lambda s: s.map(rank)).reset_index(drop=True)
    return table.sort_values(param.column).reset_index(drop=True)


def winners(ctx: Context, others: list[Param]) -> pd.DataFrame:
    """In every cell of ``others``, each outcome's best group value and its margin."""
    g = ctx.group
    bins = ctx.map_bins(len(g.order))
    frame = ctx.frame.assign(**{o.column + "__lvl": ctx.levels(o, bins) for o in others})
    keys = [o.column + "__lvl" for o in others]
    rows = []
    for cell, sub in frame.groupby(keys, sort=True, observed=True):
        cell = cell if isinstance(cell, tuple) else (cell,)
        row: dict[str, Any] = {o.column: v for o, v in zip(others, cell, strict=True)}
        for o in ctx.outcomes:
            means = sub.groupby(g.column, observed=True)[o.column].mean().dropna()
            if len(means) < 2:
                continue  # nothing to compare (e.g. partnership outcomes where only one mode partners)
            ranked = means.sort_values(ascending=o.name in LOWER_IS_BETTER)
            margin = abs(ranked.iloc[0] - ranked.iloc[1])
            row[f"{o.name}_best"] = ranked.index[0] if margin > 1e-12 else TIE
            row[f"{o.name}_best_value"] = ranked.iloc[0]
            row[f"{o.name}_margin"] = margin
        rows.append(row)
    return pd.DataFrame(rows)


def noise_share(ctx: Context, outcome: Outcome) -> float:
    """Share of the outcome's run-to-run variance that is within design points (seed noise)."""
    f = ctx.frame[["point", outcome.column]].dropna()
    if f.empty or f.groupby("point").size().max() < 2:
        return math.nan
    total = f[outcome.column].var(ddof=0)
    within = f.groupby("point")[outcome.column].var(ddof=0).mean()
    return float(within / total) if total > 0 else math.nan


def point_means(ctx: Context, outcome: Outcome) -> np.ndarray:
    """Mean outcome of every design point, in design order (NaN where none finished)."""
    points = int(ctx.manifest["design"]["points"])
    means = ctx.frame.groupby("point")[outcome.column].mean()
    return means.reindex(range(points)).to_numpy(dtype=float)


def sobol_indices(ctx: Context, outcome: Outcome) -> tuple[pd.DataFrame | None, str]:
    from SALib.analyze import sobol

    y = point_means(ctx, outcome)
    missing = int(np.isnan(y).sum())
    if missing:
        return None, f"{missing} of {len(y)} design points have no value (failed or not yet run)"
    if np.nanstd(y) == 0:
        return None, "the outcome does not vary"
    problem = ctx.manifest["design"]["problem"]
    second = bool(ctx.manifest["design"].get("second_order"))
    si = sobol.analyze(problem, y, calc_second_order=second, seed=int(ctx.manifest["master_seed"]) % 2**32)
    table = pd.DataFrame(
        {
            "parameter": [p.key for p in ctx.params],
            "S1": si["S1"],
            "S1_conf": si["S1_conf"],
            "ST": si["ST"],
            "ST_conf": si["ST_conf"],
        }
    )
    return table, ""


def morris_indices(ctx: Context, outcome: Outcome) -> tuple[pd.DataFrame | None, str]:
    from SALib.analyze import morris

    y = point_means(ctx, outcome)
    missing = int(np.isnan(y).sum())
    if missing:
        return None, f"{missing} of {len(y)} design points have no value (failed or not yet run)"
    problem = ctx.manifest["design"]["problem"]
    raw_path = ctx.results.path / "design_raw.parquet"
    cols = [p.column for p in ctx.params]
    x = (pd.read_parquet(raw_path) if raw_path.exists() else ctx.results.design)[cols].to_numpy(dtype=float)
    si = morris.analyze(
        problem,
        x,
        y,
        num_levels=int(ctx.manifest["design"]["morris_levels"]),
        seed=int(ctx.manifest["master_seed"]) % 2**32,
    )
    table = pd.DataFrame(
        {
            "parameter": [p.key for p in ctx.params],
            "mu_star": si["mu_star"],
            "mu_star_conf": si["mu_star_conf"],
            "mu": si["mu"],
            "sigma": si["sigma"],
        }
    )
    return table, ""


def survival_curve(months: np.ndarray, failed: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier curve of partnership survival: failures are events, other ends and
    partnerships still running at the horizon are censored. Returns (month, S)."""
    order = np.argsort(months, kind="stable")
    months, failed = months[order], failed[order]
    at_risk = len(months)
    s, out_t, out_s = 1.0, [0], [1.0]
    for t in np.unique(months):
        here = months == t
        d = int(failed[here].sum())
        if d and at_risk:
            s *= 1 - d / at_risk
        at_risk -= int(here.sum())
        out_t.append(t)
        out_s.append(s)
    out_t.append(horizon)
    out_s.append(s)
    return np.asarray(out_t, dtype=float), np.asarray(out_s)
