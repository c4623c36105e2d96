"""What a sweep shows: tables by parameter, sensitivity indices, plots and a report.

    abm.analyze("results/smoke")   # -> results/smoke/analysis/ (report.md, tables/, *.png)

- **Tables by parameter**: for every parameter level (or, for sampled designs, every
  eighth of its range by quantile), each outcome's mean, sd and 10/50/90 % quantiles, or
  its rate with a 95 % Wilson interval.
- **Where each group wins**: with ``[analysis] group`` (e.g. the entry mode), the group
  value with the best mean outcome in every cell of the other parameters.
- **Sobol' indices** (S1, ST with 95 % bootstrap intervals; SALib ``sobol.analyze``) for
  Sobol designs, **Morris** (mu*, sigma; SALib ``morris.analyze``) for Morris designs. With
  replications, each design point's outcome is the mean over its replications first, so
  the indices apportion the variance of the *expected* outcome; the share of run-to-run
  noise is reported beside them.
- **Plots** (PNG): outcome against each parameter with bands, index bar charts, fan
  charts of the kept paths by group, partnership survival curves by group.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from abm.errors import InputError
from abm.sweeps.spec import DERIVED_OUTCOMES, ID_COLUMNS
from abm.sweeps.store import Results, load_results

MARKER = ".abm-analysis"
MAX_BINS = 8
"""Quantile bins of a sampled parameter in tables and plots."""
MAX_LEVELS = 12
"""More distinct values than this and a numeric parameter is binned."""
MAX_GROUPS = 8
"""More group values than this and fan charts and survival curves show all runs together."""
FAN_RUNS = 4000
"""Runs per group drawn into a fan chart (an even sample when there are more)."""

LOWER_IS_BETTER = {
    "partnership_failed",
    "failure_for_both",
    "loss",
    "months_to_target",
    "licence_month",
    "integration_failed",
    "rival_launched",
    "exit_month",
    "invested",
}
PARTNERSHIP_OUTCOMES = {
    "partnership_failed",
    "partnership_goals_met",
    "success_for_both",
    "failure_for_both",
    "partnership_months",
    "upgraded_to_jv",
    "partnership_survived",
}
"""Outcomes counted over the runs where a partnership formed (blank elsewhere)."""
SHARES = {"share_y1", "share_y3", "share_y5", "share_y10", "share_final", "share_peak", "awareness_final"}
LABELS = {
    "npv": "NPV ({cur} m)",
    "partner_npv": "partner's NPV ({cur} m)",
    "cash_end": "cash at the end ({cur} m)",
    "invested": "invested ({cur} m)",
    "roi": "ROI",
    "share_y1": "market share, year 1",
    "share_y3": "market share, year 3",
    "share_y5": "market share, year 5",
    "share_y10": "market share, year 10",
    "share_final": "market share at the horizon",
    "share_peak": "peak market share",
    "awareness_final": "brand awareness at the horizon",
    "months_to_target": "months to the target share",
    "licence_month": "licence month",
    "objective_met": "target share met by the deadline",
    "entry_success": "entry success (target met, NPV > 0)",
    "return_above_cost_of_capital": "NPV > 0",
    "partnership_failed": "partnership failed",
    "partnership_survived": "partnership survived",
    "partnership_goals_met": "partnership met its goals",
    "success_for_both": "success for both partners",
    "failure_for_both": "failure for both partners",
    "partnership_months": "months in partnership",
    "upgraded_to_jv": "alliance upgraded to a JV",
    "loss": "loss (NPV < 0)",
    "in_market_end": "still in the market at the horizon",
}
PATH_LABELS = {
    "market_share": "market share",
    "trust_entrant": "its trust in the partner",
    "trust_partner": "the partner's trust in it",
    "cash": "cash ({cur} m)",
    "awareness": "brand awareness",
    "coverage": "distribution coverage",
}
TIE = "tie"
"""The best group value of a cell whose two best means are equal."""
BLUE, DARK = "#1f77b4", "#0b3c6b"
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]


# ---- what to analyse -------------------------------------------------------------------------


@dataclass
class Outcome:
    name: str
    column: str
    rate: bool
    label: str

    @property
    def percent(self) -> bool:
        return self.rate or self.name in SHARES

    def axis(self) -> str:
        return self.label + (" (%)" if self.percent else "")

    def fmt(self, value: float) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "n/a"
        if self.percent:
            return f"{value * 100:.1f}%"
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


@dataclass
class Param:
    key: str
    column: str
    categorical: bool
    continuous: bool  # binned by quantile
    order: list

    @property
    def label(self) -> str:
        return self.key.replace("_", " ") if "." not in self.key and "[" not in self.key else self.key


class Context:
    """The results plus what the analysis needs to know about them."""

    def __init__(self, results: Results):
        self.results = results
        self.manifest = results.manifest
        self.kind = self.manifest["design"]["kind"]
        self.currency = _currency(results)
        self.frame = results.summary.copy()
        self.params = [self._param(p) for p in self.manifest["parameters"]]
        self.outcomes = self._outcomes()
        group = self.manifest.get("analysis", {}).get("group")
        if group is None:
            group = next((p.column for p in self.params if p.categorical), None)
        else:
            group = next((p.column for p in self.params if group in (p.key, p.column)), None)
        self.group = next((p for p in self.params if p.column == group and not p.continuous), None)

    def _param(self, p: dict) -> Param:
        col = p["column"]
        values = self.frame[col] if col in self.frame else self.results.design[col]
        categorical = p.get("values") is not None and not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in p["values"]
        )
        continuous = not categorical and values.nunique() > MAX_LEVELS
        if categorical:
            order = list(p["values"])
        elif continuous:
            order = []
        else:
            order = sorted(values.dropna().unique().tolist())
        return Param(key=p["key"], column=col, categorical=categorical, continuous=continuous, order=order)

    def _outcomes(self) -> list[Outcome]:
        frame = self.frame
        taken = {*ID_COLUMNS, *(p.column for p in self.params)}
        if "partnership_formed" in frame and "partnership_failed" in frame:
            formed = frame["partnership_formed"].astype(bool)
            frame["partnership_survived"] = np.where(
                formed, (~frame["partnership_failed"].astype(bool)).astype(float), np.nan
            )
        if "npv" in frame:
            frame["loss"] = frame["npv"] < 0
        wanted = self.manifest.get("analysis", {}).get("outcomes")
        if not wanted:
            months = int(self.manifest.get("months") or 0)
            share = (
                "share_y5"
                if months >= 60
                else "share_y3"
                if months >= 36
                else "share_y1"
                if months >= 12
                else "share_final"
            )
            wanted = ["npv", share, "entry_success", "partnership_failed"]
        out = []
        for name in wanted:
            column = f"{name}_result" if name in taken else name
            if column not in frame:
                continue
            values = frame[column]
            rate = values.dtype == bool or name in DERIVED_OUTCOMES
            numeric = pd.to_numeric(values, errors="coerce") if not rate else values.astype(float)
            if numeric.notna().sum() == 0:
                continue
            if name == "partnership_failed" and not frame.get("partnership_formed", pd.Series([True])).any():
                continue
            if name in PARTNERSHIP_OUTCOMES and "partnership_formed" in frame:
                numeric = numeric.where(frame["partnership_formed"].astype(bool))
            frame[column] = numeric
            label = LABELS.get(name, name.replace("_", " ")).format(cur=self.currency)
            out.append(Outcome(name=name, column=column, rate=rate, label=label))
        return out

    def levels(self, param: Param, bins: int = MAX_BINS) -> pd.Series:
        """The level each run falls in: the value itself, or its quantile bin's mean."""
        values = self.frame[param.column]
        if not param.continuous:
            return values
        edges = pd.qcut(values, bins, duplicates="drop")
        centres = values.groupby(edges, observed=True).transform("mean")
        return centres.map(lambda v: float(f"{v:.3g}"))

    def line_bins(self, groups: int = 1) -> int:
        """Quantile bins along one axis: about 10 runs per group and bin, 3 to MAX_BINS."""
        return int(np.clip(len(self.frame) // (10 * max(1, groups)), 3, MAX_BINS))

    def map_bins(self, groups: int = 1) -> int:
        """Quantile bins per axis of a two-parameter map: about 10 runs per group and cell."""
        return int(np.clip(math.isqrt(len(self.frame) // (10 * max(1, groups))), 2, MAX_BINS))


def _currency(results: Results) -> str:
    try:
        import tomllib

        text = (results.path / "scenario.toml").read_text(encoding="utf-8")
        return tomllib.loads(text).get("currency", "USD")
    except (OSError, ValueError):
        return "USD"


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


# ---- plots --------------------------------------------------------------------------------------


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _grid(n: int, width: float = 4.6, height: float = 3.5, cols: int | None = None, extra: float = 0.6):
    plt = _plt()
    cols = cols or min(n, 3)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows + extra), squeeze=False)
    for ax in axes.flat[n:]:
        ax.axis("off")
    return plt, fig, axes


def _scale(outcome: Outcome, values: Any) -> Any:
    return values * 100 if outcome.percent else values


def _line(
    ax, x, stats: list[dict], outcome: Outcome, color: str, label: str | None, runs_band: bool, categorical: bool
) -> None:
    y = _scale(outcome, np.array([centre(s) for s in stats], dtype=float))
    lo = _scale(outcome, np.array([s["ci_low"] for s in stats], dtype=float))
    hi = _scale(outcome, np.array([s["ci_high"] for s in stats], dtype=float))
    if categorical:
        ax.errorbar(
            x,
            y,
            yerr=[np.nan_to_num(y - lo), np.nan_to_num(hi - y)],
            fmt="o",
            color=color,
            capsize=4,
            lw=1.6,
            ms=6,
            label=label,
        )
        if runs_band and not outcome.rate:
            p10 = _scale(outcome, np.array([s["p10"] for s in stats], dtype=float))
            p90 = _scale(outcome, np.array([s["p90"] for s in stats], dtype=float))
            ax.vlines(x, p10, p90, color=color, alpha=0.25, lw=9, label="10-90 % of runs" if label is None else None)
        return
    if runs_band and not outcome.rate:
        p10 = _scale(outcome, np.array([s["p10"] for s in stats], dtype=float))
        p90 = _scale(outcome, np.array([s["p90"] for s in stats], dtype=float))
        ax.fill_between(x, p10, p90, color=color, alpha=0.13, lw=0, label="10-90 % of runs")
    ax.fill_between(x, lo, hi, color=color, alpha=0.3, lw=0, label="95 % CI" if label is None else None)
    ax.plot(x, y, color=color if label else DARK, lw=2, marker="o", ms=3.5, label=label or "mean")


def plot_effects(ctx: Context, outcome: Outcome, path: Path) -> Path | None:
    """Outcome against each parameter; one line per group value when there is a group."""
    group = ctx.group if ctx.group is not None and len(ctx.group.order) <= MAX_GROUPS else None
    params = [p for p in ctx.params if group is None or p.column != group.column]
    if not params:
        params = [group] if group is not None else []
        group = None
    if not params:
        return None
    plt, fig, axes = _grid(len(params), width=max(4.6, 8.4 / min(len(params), 3)), extra=0.9)
    for ax, param in zip(axes.flat, params, strict=False):
        levels = ctx.levels(param, ctx.line_bins(len(group.order) if group is not None else 1))
        series = (
            [(None, None, ctx.frame.index)]
            if group is None
            else [
                (g, PALETTE[i % len(PALETTE)], ctx.frame.index[ctx.frame[group.column] == g])
                for i, g in enumerate(group.order)
            ]
        )
        for g, color, idx in series:
            sub = levels.loc[idx]
            order = param.order if param.categorical else sorted(sub.dropna().unique())
            stats = [describe(ctx.frame.loc[sub.index[sub == lv], outcome.column], outcome) for lv in order]
            x = np.arange(len(order)) if param.categorical else np.asarray(order, dtype=float)
            if param.categorical and group is not None:
                x = x + (list(group.order).index(g) - (len(group.order) - 1) / 2) * 0.12
            _line(
                ax,
                x,
                stats,
                outcome,
                color or BLUE,
                None if g is None else str(g).replace("_", " "),
                runs_band=group is None,
                categorical=param.categorical,
            )
        if param.categorical:
            ax.set_xticks(range(len(param.order)))
            ax.set_xticklabels(
                [str(v).replace("_", " ") for v in param.order], rotation=20 if len(param.order) > 3 else 0
            )
            ax.set_xlim(-0.5, len(param.order) - 0.5)
        ax.set_xlabel(param.label + (" (binned)" if param.continuous else ""))
        ax.set_ylabel(outcome.axis())
        if outcome.rate:
            ax.set_ylim(-3, 103)
        ax.grid(alpha=0.3)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    what = (
        "rate with 95 % Wilson interval"
        if outcome.rate
        else "mean with 95 % CI" + ("; light band: 10-90 % of runs" if group is None else "")
    )
    fig.suptitle(f"{outcome.label}: {what}", fontsize=12, y=0.995)
    height = fig.get_figheight()  # inches: the title and the legend row take fixed room at the top
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.62 / height))
    if handles:  # after the layout, which would otherwise make room for it twice
        title = f"{group.label}:" if group is not None else None
        fig.legend(
            handles,
            labels,
            loc="upper center",
            bbox_to_anchor=(0.5, 1 - 0.3 / height),
            fontsize=9,
            frameon=False,
            ncol=min(len(labels), 7) + (group is not None),
            title=title,
            alignment="left" if title else "center",
        )
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_indices(tables: dict[str, pd.DataFrame], outcomes: dict[str, Outcome], kind: str, path: Path) -> Path:
    """Bar charts of Sobol' S1/ST or Morris mu*/sigma, one panel per outcome."""
    names = list(tables)
    n_params = len(next(iter(tables.values())))
    plt, fig, axes = _grid(len(names), width=5.2, height=0.42 * n_params + 1.6, cols=min(len(names), 2))
    for ax, name in zip(axes.flat, names, strict=False):
        t = tables[name]
        sort_by = "ST" if kind == "sobol" else "mu_star"
        t = t.sort_values(sort_by, ascending=True)
        y = np.arange(len(t))
        if kind == "sobol":
            ax.barh(y + 0.2, t["ST"], height=0.38, xerr=t["ST_conf"], color=BLUE, capsize=2, label="ST (total)")
            ax.barh(
                y - 0.2, t["S1"], height=0.38, xerr=t["S1_conf"], color="#ff7f0e", capsize=2, label="S1 (first order)"
            )
            ax.axvline(0, color="0.3", lw=0.8)
            ax.set_xlabel("share of output variance")
        else:
            ax.barh(
                y + 0.2,
                t["mu_star"],
                height=0.38,
                xerr=t["mu_star_conf"],
                color=BLUE,
                capsize=2,
                label="mu* (mean |effect|)",
            )
            ax.barh(y - 0.2, t["sigma"], height=0.38, color="#ff7f0e", label="sigma (interactions, non-linearity)")
            ax.set_xlabel(f"elementary effect on {outcomes[name].axis()} per full range")
        ax.set_yticks(y)
        ax.set_yticklabels([p.replace("_", " ") if "." not in p else p for p in t["parameter"]], fontsize=9)
        ax.set_title(outcomes[name].label, fontsize=11)
        ax.grid(axis="x", alpha=0.3)
        ax.legend(fontsize=8, frameon=False, loc="lower right")
    fig.suptitle(
        "Sobol' indices with 95 % confidence intervals"
        if kind == "sobol"
        else "Morris screening: mu* with 95 % confidence interval, and sigma",
        fontsize=12,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_winners(ctx: Context, table: pd.DataFrame, others: list[Param], outcome: Outcome, path: Path) -> Path:
    """Heatmap over two parameters: colour = best group value, text = its mean and margin."""
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    plt = _plt()
    xs, ys = others[0], others[1]
    xv, yv = sorted(table[xs.column].unique()), sorted(table[ys.column].unique())
    groups = [*ctx.group.order, TIE]
    colours = [PALETTE[i % len(PALETTE)] for i in range(len(groups) - 1)] + ["#b0b0b0"]
    grid = np.full((len(yv), len(xv)), np.nan)
    fig, ax = plt.subplots(figsize=(1.25 * len(xv) + 3.2, 0.8 * len(yv) + 2.0))
    for _, row in table.iterrows():
        best = row.get(f"{outcome.name}_best")
        if best is None or (isinstance(best, float) and math.isnan(best)):
            continue
        i, j = yv.index(row[ys.column]), xv.index(row[xs.column])
        grid[i, j] = groups.index(best)
        value, margin = row[f"{outcome.name}_best_value"], row[f"{outcome.name}_margin"]
        text = outcome.fmt(value) + (f"\n+{outcome.fmt(margin)}" if best != TIE else "\ntie")
        ax.text(j, i, text, ha="center", va="center", fontsize=7.5, color="black" if best == TIE else "white")
    cmap = ListedColormap(colours)
    ax.imshow(grid, cmap=cmap, vmin=-0.5, vmax=len(groups) - 0.5, origin="lower", aspect="auto")
    ax.set_xticks(range(len(xv)))
    ax.set_xticklabels([f"{v:g}" if isinstance(v, float) else str(v) for v in xv])
    ax.set_yticks(range(len(yv)))
    ax.set_yticklabels([f"{v:g}" if isinstance(v, float) else str(v) for v in yv])
    ax.set_xlabel(xs.label + (" (binned)" if xs.continuous else ""))
    ax.set_ylabel(ys.label + (" (binned)" if ys.continuous else ""))
    present = sorted({int(v) for v in grid.flat if not math.isnan(v)})
    ax.legend(
        handles=[Patch(color=colours[i], label=str(groups[i]).replace("_", " ")) for i in present],
        title=ctx.group.label,
        loc="upper left",
        bbox_to_anchor=(1.01, 1),
        frameon=False,
        fontsize=9,
    )
    better = "lowest" if outcome.name in LOWER_IS_BETTER else "highest"
    ax.set_title(
        f"Best {ctx.group.label} by {outcome.label} ({better} mean)\n"
        f"cell text: its mean, and its lead over the runner-up",
        fontsize=10.5,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def surface_params(ctx: Context) -> tuple[Param, Param, Param | None] | None:
    """The two numeric parameters a surface spans (the first two in the spec), and the
    categorical group it is split by, if any; None when there is nothing to span."""
    numeric = [p for p in ctx.params if not p.categorical]
    if len(numeric) < 2 or (ctx.kind != "factorial" and len(numeric) > 2):
        return None
    facet = ctx.group if ctx.group is not None and ctx.group.categorical and len(ctx.group.order) <= 6 else None
    return numeric[0], numeric[1], facet


def plot_surface(ctx: Context, outcome: Outcome, x: Param, y: Param, facet: Param | None, path: Path) -> Path:
    """Heatmap of the mean outcome over two parameters, one panel per facet value, one
    colour scale for all panels."""
    plt = _plt()
    bins = ctx.map_bins(len(facet.order) if facet is not None else 1)
    frame = ctx.frame.assign(__x=ctx.levels(x, bins), __y=ctx.levels(y, bins))
    panels = [(None, frame)] if facet is None else [(g, frame[frame[facet.column] == g]) for g in facet.order]
    xv, yv = sorted(frame["__x"].dropna().unique()), sorted(frame["__y"].dropna().unique())
    grids = []
    for _g, sub in panels:
        means = sub.groupby(["__y", "__x"])[outcome.column].mean()
        grid = np.full((len(yv), len(xv)), np.nan)
        for (yy, xx), v in means.items():
            grid[yv.index(yy), xv.index(xx)] = v
        grids.append(_scale(outcome, grid))
    finite = np.concatenate([g[np.isfinite(g)] for g in grids]) if grids else np.array([])
    vmin, vmax = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if outcome.rate:
        vmin, vmax = 0.0, 100.0
    cols = min(len(panels), 2 if len(panels) == 4 else 3)
    rows = math.ceil(len(panels) / cols)
    w, h = 0.62 * len(xv) + 2.2, 0.5 * len(yv) + 1.6
    fig, axes = plt.subplots(rows, cols, figsize=(w * cols + 1.2, h * rows + 0.7), squeeze=False)
    cmap = "RdYlGn_r" if outcome.name in LOWER_IS_BETTER else "RdYlGn"
    image = None
    for ax, (g, _), grid in zip(axes.flat, panels, grids, strict=False):
        image = ax.imshow(grid, origin="lower", aspect="auto", cmap=cmap, vmin=vmin, vmax=vmax)
        if len(xv) * len(yv) <= 100:
            for i in range(len(yv)):
                for j in range(len(xv)):
                    if np.isfinite(grid[i, j]):
                        ax.text(
                            j,
                            i,
                            f"{grid[i, j]:.0f}" if abs(vmax - vmin) >= 20 else f"{grid[i, j]:.2g}",
                            ha="center",
                            va="center",
                            fontsize=7.5,
                            color="black",
                        )
        ax.set_xticks(range(len(xv)))
        ax.set_xticklabels([f"{v:.3g}" for v in xv], fontsize=8, rotation=45 if len(xv) > 6 else 0)
        ax.set_yticks(range(len(yv)))
        ax.set_yticklabels([f"{v:.3g}" for v in yv], fontsize=8)
        ax.set_xlabel(x.label + (" (binned)" if x.continuous else ""))
        ax.set_ylabel(y.label + (" (binned)" if y.continuous else ""))
        if g is not None:
            ax.set_title(str(g).replace("_", " "), fontsize=11, fontweight="bold")
    for ax in axes.flat[len(panels) :]:
        ax.axis("off")
    what = f"Rate of {outcome.label} (%)" if outcome.rate else f"Mean {outcome.axis()}"
    fig.suptitle(
        what + " in each cell" + (" (other parameters averaged)" if len(ctx.params) > 2 + bool(facet) else ""),
        fontsize=12,
    )
    fig.tight_layout(rect=(0, 0, 0.9, 0.94))
    cax = fig.add_axes((0.915, 0.15, 0.018, 0.7))
    fig.colorbar(image, cax=cax)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_fans(ctx: Context, column: str, path: Path) -> Path | None:
    """Fan chart of a kept path column of the focal entrant, one panel per group value."""
    paths = ctx.results.read_paths(["month", "firm", column])
    if paths.empty:
        return None
    focal = ctx.frame[["run_id", "entrant"]] if "entrant" in ctx.frame else None
    if focal is not None:
        paths = paths.merge(focal, on="run_id")
        paths = paths[paths["firm"] == paths["entrant"]]
    group = ctx.group if ctx.group is not None and len(ctx.group.order) <= MAX_GROUPS else None
    if group is not None:
        paths = paths.merge(ctx.frame[["run_id", group.column]], on="run_id")
        panels = [(g, paths[paths[group.column] == g]) for g in group.order]
    else:
        panels = [("all runs", paths)]
    panels = [(g, p) for g, p in panels if p[column].notna().any()]
    if not panels:
        return None
    percent = column in ("market_share", "awareness", "coverage")
    scale = 100 if percent else 1
    quantiles = []
    for _g, p in panels:
        runs = p["run_id"].unique()
        if len(runs) > FAN_RUNS:
            p = p[p["run_id"].isin(runs[np.linspace(0, len(runs) - 1, FAN_RUNS).astype(int)])]
        q = p.groupby("month")[column].quantile([0.1, 0.25, 0.5, 0.75, 0.9]).unstack().dropna(how="all")
        quantiles.append((q, len(runs)))
    plt, fig, axes = _grid(len(panels), width=4.6, height=3.3, cols=2 if len(panels) == 4 else min(len(panels), 3))
    top = max(q[0.9].max() for q, _ in quantiles) * scale
    bottom = min(q[0.1].min() for q, _ in quantiles) * scale
    for ax, (g, _), (q, n) in zip(axes.flat, panels, quantiles, strict=False):
        for q2, _ in quantiles:
            if q2 is not q:
                ax.plot(q2.index, q2[0.5] * scale, color="0.75", lw=1)
        ax.fill_between(q.index, q[0.1] * scale, q[0.9] * scale, color=BLUE, alpha=0.18, lw=0, label="10-90 %")
        ax.fill_between(q.index, q[0.25] * scale, q[0.75] * scale, color=BLUE, alpha=0.35, lw=0, label="25-75 %")
        ax.plot(q.index, q[0.5] * scale, color=DARK, lw=2, label="median")
        name_g = str(g).replace("_", " ") if group is None or group.categorical else f"{group.label} = {g}"
        ax.set_title(f"{name_g} ({n} runs)", fontsize=11)
        ax.set_xlabel("month")
        ax.set_ylim(min(0, bottom * 1.05), top * 1.08 if top > 0 else 1)
        ax.grid(alpha=0.3)
    name = PATH_LABELS.get(column, column.replace("_", " ")).format(cur=ctx.currency)
    for ax in axes[:, 0]:
        ax.set_ylabel(f"{name} (%)" if percent else name)
    axes.flat[0].legend(fontsize=8, frameon=False, loc="upper left")
    who = f" by {group.label}" if group is not None else ""
    entrant = str(ctx.frame["entrant"].iloc[0]) if "entrant" in ctx.frame else "The focal entrant"
    grey = " (grey: the other panels' medians)" if len(panels) > 1 else ""
    fig.suptitle(f"{entrant}: {name}{who}{grey}", fontsize=12)
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_survival(ctx: Context, path: Path) -> Path | None:
    f = ctx.frame
    if "partnership_formed" not in f or not f["partnership_formed"].astype(bool).any():
        return None
    formed = f[f["partnership_formed"].astype(bool)]
    horizon = int(ctx.manifest.get("months") or formed["partnership_months"].max())
    group = ctx.group if ctx.group is not None and len(ctx.group.order) <= MAX_GROUPS else None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9.6, 4.6))
    series = [(None, formed)] if group is None else [(g, formed[formed[group.column] == g]) for g in group.order]
    drawn = 0
    for i, (g, sub) in enumerate(series):
        if sub.empty:
            continue
        t, s = survival_curve(
            sub["partnership_months"].to_numpy(dtype=float), sub["partnership_failed"].astype(bool).to_numpy(), horizon
        )
        label = f"{'all' if g is None else str(g).replace('_', ' ')} ({len(sub)} partnerships)"
        ax.step(t, s * 100, where="post", color=PALETTE[i % len(PALETTE)], lw=2, label=label)
        drawn += 1
    if not drawn:
        plt.close(fig)
        return None
    ax.set_xlim(0, horizon)
    ax.set_ylim(0, 102)
    ax.set_xlabel("months since the partnership formed")
    ax.set_ylabel("partnerships not failed (%)")
    ax.set_title("Partnership survival (Kaplan-Meier; failures are events, other endings censored)", fontsize=10.5)
    ax.grid(alpha=0.3)
    ax.legend(
        fontsize=8.5,
        frameon=False,
        title=group.label if group is not None else None,
        loc="upper left",
        bbox_to_anchor=(1.01, 1),
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# ---- report -------------------------------------------------------------------------------------


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


def _cell(stats_row: pd.Series, o: Outcome) -> str:
    if o.rate:
        return (
            f"{o.fmt(stats_row[f'{o.name}_rate'])} ({o.fmt(stats_row[f'{o.name}_ci_low'])}-"
            f"{o.fmt(stats_row[f'{o.name}_ci_high'])})"
        )
    return (
        f"{o.fmt(stats_row[f'{o.name}_mean'])} [{o.fmt(stats_row[f'{o.name}_p10'])}, "
        f"{o.fmt(stats_row[f'{o.name}_p90'])}]"
    )


def _fmt_level(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).replace("_", " ")


def analyze(path: str | Path, *, out: str | Path | None = None) -> Path:
    """Write the analysis of a sweep's results; see the module docstring. Returns its folder."""
    results = load_results(path)
    if results.summary.empty:
        raise InputError("results", str(path), "a sweep with at least one finished run")
    target = Path(out) if out is not None else results.path / "analysis"
    if target.exists() and (not target.is_dir() or (any(target.iterdir()) and not (target / MARKER).exists())):
        raise InputError(
            "--out",
            str(target),
            "a new or empty folder, or an earlier analysis folder (it holds other files; nothing is overwritten)",
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        _write(Context(results), tmp)
        (tmp / MARKER).write_text("written by abm analyze\n", encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _write(ctx: Context, folder: Path) -> None:
    tables = folder / "tables"
    tables.mkdir()
    m = ctx.manifest
    d = m["design"]
    res = ctx.results
    sessions = m.get("sessions", [])
    lines = [f"# {m.get('question') or m['name']}", ""]
    runs_done, runs_failed = len(res.summary), len(res.errors)
    lines += [
        f"Sweep `{m['name']}` on scenario `{m.get('scenario')}`: {d['kind'].replace('_', ' ')} design, "
        f"{d['points']} points x {d['replications']} replications = {d['runs']} runs of {m.get('months')} "
        f"months; master seed {m['master_seed']}.",
        "",
        f"Runs finished: {runs_done}; failed: {runs_failed}; not run yet: "
        f"{d['runs'] - runs_done - runs_failed}. Sessions: {len(sessions)}"
        + (
            f", first started {sessions[0]['started']}, last ended {sessions[-1].get('ended') or 'not yet'}."
            if sessions
            else "."
        ),
        "",
    ]
    git = m.get("git") or {}
    versions = m.get("versions", {})
    lines += [
        f"Code: abm {versions.get('abm-market-entry', '?')}, git {git.get('revision', 'unknown')[:12]}"
        + (" (uncommitted changes)" if git.get("dirty") else "")
        + f"; mesa {versions.get('mesa', '?')}, SALib {versions.get('SALib', '?')}.",
        "",
    ]

    lines += ["## Parameters", ""]
    rows = []
    for p in m["parameters"]:
        what = (
            ", ".join(map(str, p["values"]))
            if p.get("values") is not None
            else f"{p['min']:g} to {p['max']:g}" + (f", {p['levels']} levels" if p.get("levels") else "")
        )
        rows.append([f"`{p['key']}`", f"`{p['column']}`", what, ", ".join(p.get("fields", []))])
    lines += _md_table(["parameter", "column", "values", "scenario fields"], rows) if rows else ["(none)"]
    lines += [
        "",
        "Outcomes: "
        + "; ".join(f"**{o.label}**" + (" (rate)" if o.rate else "") for o in ctx.outcomes)
        + ". Numbers are means over runs with [10th, 90th] percentiles; rates carry a 95 % Wilson "
        "interval.",
        "",
    ]
    if not ctx.outcomes:
        lines += ["No outcome of the list has values in these results.", ""]

    # all runs together
    if ctx.outcomes:
        overall = []
        for o in ctx.outcomes:
            st = describe(ctx.frame[o.column], o)
            text = (
                f"{o.fmt(st['rate'])} ({o.fmt(st['ci_low'])}-{o.fmt(st['ci_high'])})"
                if o.rate
                else f"{o.fmt(st['mean'])} [{o.fmt(st['p10'])}, {o.fmt(st['p90'])}]"
            )
            overall.append([o.label, str(st["n"]), text])
        lines += [
            "## All runs",
            "",
            *_md_table(["outcome", "runs with a value", "mean [p10, p90] or rate (95 % CI)"], overall),
            "",
        ]

    # sensitivity
    if ctx.kind in ("sobol", "morris") and ctx.outcomes:
        lines += _sensitivity(ctx, folder, tables)

    # where each group wins, and outcome surfaces over two numeric parameters
    if ctx.group is not None and ctx.group.categorical and ctx.outcomes:
        lines += _winners_section(ctx, folder, tables)
    if ctx.outcomes:
        lines += _surfaces_section(ctx, folder)

    # by parameter
    if ctx.outcomes and ctx.params:
        lines += ["## Outcomes by parameter", ""]
        sampled = ctx.kind != "factorial"
        for param in ctx.params:
            table = by_parameter(ctx, param)
            table.to_csv(tables / f"by_{param.column}.csv", index=False)
            if sampled and len(ctx.params) > 3:
                continue
            lines += [f"### {param.label}" + (" (quantile bins)" if param.continuous else ""), ""]
            header = [param.label, "runs"] + [o.label for o in ctx.outcomes]
            body = [
                [_fmt_level(r[param.column]), str(int(r["runs"]))] + [_cell(r, o) for o in ctx.outcomes]
                for _, r in table.iterrows()
            ]
            lines += [*_md_table(header, body), ""]
        if sampled and len(ctx.params) > 3:
            lines += ["Tables per parameter (quantile bins): `tables/by_<parameter>.csv`.", ""]
        for o in ctx.outcomes:
            png = plot_effects(ctx, o, folder / f"effects_{o.name}.png")
            if png is not None:
                lines += [f"![{o.label} by parameter]({png.name})", ""]
        cells = ctx.frame.groupby("point")[[o.column for o in ctx.outcomes]].agg(["mean", "count"])
        cells.columns = [f"{a}_{b}" for a, b in cells.columns]
        cells = res.design.set_index("point").join(cells, how="left")
        cells.reset_index().to_csv(tables / "by_point.csv", index=False)

    # paths and survival
    kept = (m.get("keep") or {}).get("steps")
    if kept:
        cols = m["keep"].get("columns") or ["market_share", "trust_entrant"]
        fan_cols = [c for c in ("market_share", "trust_entrant", "cash") if c in cols]
        fans = [plot_fans(ctx, c, folder / f"fan_{c}.png") for c in fan_cols]
        fans = [f for f in fans if f is not None]
        if fans:
            lines += [
                "## Paths",
                "",
                f"Kept every {m['keep']['every']} months for the "
                f"{'focal entrant' if m['keep']['firms'] == 'focal' else 'firms'}; median with 25-75 % and "
                "10-90 % bands across runs.",
                "",
            ]
            lines += [f"![{f.stem}]({f.name})" for f in fans] + [""]
    surv = plot_survival(ctx, folder / "partnership_survival.png")
    if surv is not None:
        lines += [
            "## Partnership survival",
            "",
            "Kaplan-Meier estimate over the runs where a partnership formed: a failure (trust floor, missed "
            "objectives, defection, walk-away, liquidation, entrant exit) is an event; a planned end, expiry, "
            "buy-out or IPO, or a partnership still running at the horizon, is censored. Time is the months "
            "spent in partnership.",
            "",
            f"![partnership survival]({surv.name})",
            "",
        ]

    # failures
    if runs_failed:
        lines += [
            "## Failed runs",
            "",
            f"{runs_failed} runs raised; each is a row of `errors/` with its parameters "
            "and traceback. Most frequent errors:",
            "",
        ]
        counts = res.errors["error"].value_counts().head(5)
        lines += [f"- {n} x `{msg[:200]}`" for msg, n in counts.items()] + [""]

    example = int(res.summary["run_id"].iloc[0])
    lines += [
        "## Reproduce",
        "",
        f"Every run is repeatable alone: `abm rerun {res.path} {example}` re-runs run {example} from the "
        "manifest (base scenario, parameters, seed), checks its summary against the stored row and prints "
        "its KPIs and event log. Seeds: " + m.get("seeding", ""),
        "",
    ]
    (folder / "report.md").write_text("\n".join(lines), encoding="utf-8")
    (tables / "outcomes.json").write_text(json.dumps([o.__dict__ for o in ctx.outcomes], indent=2), encoding="utf-8")


def _sensitivity(ctx: Context, folder: Path, tables: Path) -> list[str]:
    kind = ctx.kind
    title = "Sobol' indices" if kind == "sobol" else "Morris screening"
    lines = [f"## {title}", ""]
    reps = int(ctx.manifest["design"]["replications"])
    if reps > 1:
        lines += [
            f"Each design point's outcome is the mean of its {reps} replications before SALib's analysis, "
            "so the indices apportion the variance of the expected outcome.",
            "",
        ]
    else:
        lines += [
            "One run per design point: run-to-run (seed) noise is part of the outcome's variance and is "
            "explained by no parameter (it lowers every index and leaves 1 - sum(S1) larger). Add "
            "replications to average it out.",
            "",
        ]
    found: dict[str, pd.DataFrame] = {}
    for o in ctx.outcomes:
        table, why = sobol_indices(ctx, o) if kind == "sobol" else morris_indices(ctx, o)
        if table is None:
            lines += [f"- {o.label}: not computed: {why}.", ""]
            continue
        table.to_csv(tables / f"{kind}_{o.name}.csv", index=False)
        found[o.name] = table
        noise = noise_share(ctx, o)
        lines += [f"### {o.label}", ""]
        if kind == "sobol":
            t = table.sort_values("ST", ascending=False)
            body = [
                [f"`{r.parameter}`", f"{r.S1:.3f} ± {r.S1_conf:.3f}", f"{r.ST:.3f} ± {r.ST_conf:.3f}"]
                for r in t.itertuples()
            ]
            lines += _md_table(["parameter", "S1 (95 % CI)", "ST (95 % CI)"], body)
            lines += [
                "",
                f"Sum of S1: {table.S1.sum():.2f} (the rest is interactions"
                + (" and noise)" if reps == 1 else ")")
                + ". Estimates near 0 can come out slightly "
                "negative; read them with their intervals.",
            ]
        else:
            t = table.sort_values("mu_star", ascending=False)
            body = [
                [f"`{r.parameter}`", f"{r.mu_star:.3g} ± {r.mu_star_conf:.3g}", f"{r.sigma:.3g}"]
                for r in t.itertuples()
            ]
            lines += _md_table(["parameter", "mu* (95 % CI)", "sigma"], body)
        if not math.isnan(noise):
            lines += [
                "",
                f"Run-to-run noise: {noise:.0%} of this outcome's variance across runs lies within design points.",
            ]
        lines += [""]
    if found:
        png = plot_indices(found, {o.name: o for o in ctx.outcomes}, kind, folder / f"{kind}_indices.png")
        lines += [f"![{title}]({png.name})", ""]
    return lines


def _surfaces_section(ctx: Context, folder: Path) -> list[str]:
    spanned = surface_params(ctx)
    if spanned is None:
        return []
    x, y, facet = spanned
    lines = [
        f"## Outcomes over {x.label} x {y.label}",
        "",
        "Mean outcome in every cell"
        + (f", one panel per {facet.label}" if facet is not None else "")
        + "; green is better.",
        "",
    ]
    for o in ctx.outcomes:
        png = plot_surface(ctx, o, x, y, facet, folder / f"surface_{o.name}.png")
        lines += [f"![{o.label} over {x.label} and {y.label}]({png.name})", ""]
    return lines


def _winners_section(ctx: Context, folder: Path, tables: Path) -> list[str]:
    others = [p for p in ctx.params if p.column != ctx.group.column]
    if not others or len(others) > 3:
        return []
    table = winners(ctx, others)
    table.to_csv(tables / f"best_{ctx.group.column}.csv", index=False)
    lines = [
        f"## Where each {ctx.group.label} wins",
        "",
        f"Best {ctx.group.label} in every cell of "
        + " x ".join(o.label for o in others)
        + " (by mean; margin = lead over the runner-up; equal best means are a tie). Full table: "
        f"`tables/best_{ctx.group.column}.csv`.",
        "",
    ]
    for o in ctx.outcomes:
        col = f"{o.name}_best"
        if col not in table:
            continue
        counts = table[col].value_counts()
        lines += [
            f"- **{o.label}**: "
            + ", ".join(
                f"a tie in {n} of {len(table)} cells"
                if g == TIE
                else f"{str(g).replace('_', ' ')} best in {n} of {len(table)} cells"
                for g, n in counts.items()
            )
        ]
    lines += [""]
    if len(others) == 2:
        for o in ctx.outcomes:
            if f"{o.name}_best" in table:
                png = plot_winners(ctx, table, others, o, folder / f"best_{ctx.group.column}_{o.name}.png")
                lines += [f"![best by {o.label}]({png.name})", ""]
    elif len(others) == 1:
        header = [others[0].label] + [f"best by {o.label}" for o in ctx.outcomes if f"{o.name}_best" in table]
        body = [
            [_fmt_level(r[others[0].column])]
            + [
                f"{str(r[f'{o.name}_best']).replace('_', ' ')} ({o.fmt(r[f'{o.name}_best_value'])})"
                for o in ctx.outcomes
                if f"{o.name}_best" in table
            ]
            for _, r in table.iterrows()
        ]
        lines += [*_md_table(header, body), ""]
    return lines
