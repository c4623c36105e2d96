"""The markdown report of a sweep's analysis, and the analyze() that writes it all."""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from abm.errors import InputError
from abm.sweeps.analysis.context import (
    MARKER,
    TIE,
    Context,
    Outcome,
)
from abm.sweeps.analysis.plots import (
    plot_effects,
    plot_fans,
    plot_indices,
    plot_surface,
    plot_survival,
    plot_winners,
    surface_params,
)
from abm.sweeps.analysis.stats import (
    by_parameter,
    describe,
    morris_indices,
    noise_share,
    partnership_survival,
    sobol_indices,
    winners,
)
from abm.sweeps.store import load_results

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


def _survival_table(ctx: Context) -> list[str]:
    """Per group: partnerships, failures, survival at the horizon; the log-rank test below."""
    survival = partnership_survival(ctx)
    assert survival is not None, "called only once the survival chart was drawn (_write)"
    curves, chi2, p_value = survival
    rows = [
        [
            "all" if g is None else _fmt_level(g),
            str(n),
            str(c.events),
            f"{c.probability[-1]:.0%} ({c.low[-1]:.0%}-{c.high[-1]:.0%})",
        ]
        for g, n, c in curves
    ]
    out = [*_md_table(["group", "partnerships", "failures", "not failed at the end (95 % band)"], rows), ""]
    if not math.isnan(p_value):
        out += [
            f"Log-rank test that the groups share one survival curve: chi-square {chi2:.2f}, "
            f"{len(curves) - 1} degrees of freedom, p = {p_value:.2g}.",
            "",
        ]
    return out


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
            "spent in partnership. Shaded: pointwise 95 % bands (log-log scale, from the "
            "Greenwood standard error).",
            "",
            f"![partnership survival]({surv.name})",
            "",
        ]
        lines += _survival_table(ctx)

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
    assert ctx.group is not None, "called only with a categorical group (_write)"
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
