"""The statistics of a sweep's analysis: tables by parameter, winners, sensitivity
indices, survival."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from abm.stats import Survival, logrank, mean_interval, share_interval, survival, wilson
from abm.sweeps.analysis.context import (
    LOWER_IS_BETTER,
    MAX_GROUPS,
    SHARES,
    TIE,
    Context,
    Outcome,
    Param,
)


def describe(values: pd.Series, outcome: Outcome) -> dict[str, float]:
    """Runs, centre and 95 % interval: a rate with Wilson's interval, a share with the
    bounded share interval, any other number with Student's t interval (abm.stats)."""
    v = values.dropna()
    n = len(v)
    if outcome.rate:
        lo, hi = wilson(float(v.sum()), n)
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
    lo, hi = share_interval(v) if outcome.name in SHARES else mean_interval(v)
    p10, p50, p90 = np.quantile(v, [0.1, 0.5, 0.9])
    return {
        "n": n,
        "mean": mean,
        "sd": sd,
        "ci_low": lo,
        "ci_high": hi,
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
    assert g is not None, "winners need a group parameter (report._winners_section)"
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


def partnership_survival(ctx: Context) -> tuple[list[tuple[Any, int, Survival]], float, float] | None:
    """Kaplan-Meier survival of the partnerships formed, by group value (all together when
    there is no group or too many values), with the log-rank test between the groups.

    Returns ``([(group value or None, partnerships, curve), ...], chi-square, p-value)``, or
    None when no run formed a partnership. Failures are events; a planned end, expiry,
    buy-out, IPO or a partnership running at the horizon is censored.
    """
    f = ctx.frame
    if "partnership_formed" not in f or not f["partnership_formed"].astype(bool).any():
        return None
    formed = f[f["partnership_formed"].astype(bool)]
    group = ctx.group if ctx.group is not None and len(ctx.group.order) <= MAX_GROUPS else None
    months = formed["partnership_months"].to_numpy(dtype=float)
    failed = formed["partnership_failed"].astype(bool).to_numpy()
    if group is None:
        return [(None, len(formed), survival(months, failed))], math.nan, math.nan
    values = formed[group.column].to_numpy()
    curves = [(g, int((values == g).sum()), survival(months[values == g], failed[values == g])) for g in group.order]
    chi2, p = logrank(months, failed, values.astype(str))
    return [c for c in curves if c[1]], chi2, p
