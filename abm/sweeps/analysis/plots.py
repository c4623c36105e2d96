"""The PNG charts of a sweep's analysis."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from abm.sweeps.analysis.context import (
    BLUE,
    DARK,
    FAN_RUNS,
    LOWER_IS_BETTER,
    MAX_GROUPS,
    PALETTE,
    PATH_LABELS,
    TIE,
    Context,
    Outcome,
    Param,
)
from abm.sweeps.analysis.stats import (
    centre,
    describe,
    partnership_survival,
)

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
    assert ctx.group is not None, "winners need a group parameter (report._winners_section)"
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
    """Kaplan-Meier curves of partnership survival by group, each with its 95 % band."""
    found = partnership_survival(ctx)
    if found is None:
        return None
    curves, _, p_value = found
    f = ctx.frame
    horizon = int(ctx.manifest.get("months") or f["partnership_months"].max())
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9.6, 4.6))
    for i, (g, n, curve) in enumerate(curves):
        color = PALETTE[i % len(PALETTE)]
        t = np.append(curve.month, horizon)
        label = f"{'all' if g is None else str(g).replace('_', ' ')} ({n} partnerships)"
        ax.step(
            t, np.append(curve.probability, curve.probability[-1]) * 100, where="post", color=color, lw=2, label=label
        )
        ax.fill_between(
            t,
            np.append(curve.low, curve.low[-1]) * 100,
            np.append(curve.high, curve.high[-1]) * 100,
            step="post",
            color=color,
            alpha=0.12,
            lw=0,
        )
    group = ctx.group if len(curves) > 1 or curves[0][0] is not None else None
    ax.set_xlim(0, horizon)
    ax.set_ylim(0, 102)
    ax.set_xlabel("months since the partnership formed")
    ax.set_ylabel("partnerships not failed (%)")
    test = "" if math.isnan(p_value) else f"; log-rank p = {p_value:.2g}"
    ax.set_title(
        f"Partnership survival: Kaplan-Meier, shaded 95 % bands{test}\n"
        "failures are events; other endings and partnerships running at the horizon are censored",
        fontsize=10,
    )
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
