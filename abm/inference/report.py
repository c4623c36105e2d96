"""Tables, charts and the Markdown report of a calibration."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from abm.inference.runs import write_atomic, write_parquet

CONSTRAINED = 0.5
"""A parameter whose 90 % posterior interval is under this share of its prior's is *constrained*;
under WEAK, *weakly constrained*; else the targets do not pin it down."""
WEAK = 0.8
TRADE_OFF = 0.3
"""Posterior correlations at least this large (in absolute value) are listed as trade-offs."""


def identifiability(spec, posterior: pd.DataFrame, region: float = 1.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Posterior vs prior width per parameter, and the pairs that trade off. Where no part of
    the prior meets every target (``region`` 0), the posterior only marks where they are
    missed least, and no verdict is given."""
    names = spec.names
    corr = posterior[names].corr().fillna(0.0)
    rows = []
    for n in names:
        lo, hi = spec.parameters[n]
        v = posterior[n].to_numpy(float)
        q05, q50, q95 = np.percentile(v, [5, 50, 95])
        ratio = (q95 - q05) / (0.9 * (hi - lo))
        verdict = "constrained" if ratio < CONSTRAINED else "weakly constrained" if ratio < WEAK else "not constrained"
        if region == 0:
            verdict = "none: no region meets every target"
        partners = corr[n].drop(n)
        partners = partners[partners.abs() >= TRADE_OFF].sort_values(key=np.abs, ascending=False)
        rows.append(
            {
                "parameter": n,
                "prior_low": lo,
                "prior_high": hi,
                "posterior_median": q50,
                "posterior_q05": q05,
                "posterior_q95": q95,
                "width_ratio": ratio,
                "verdict": verdict,
                "trades_off_with": "; ".join(f"{k} (r = {r:+.2f})" for k, r in partners.items()),
            }
        )
    return pd.DataFrame(rows), corr.reset_index(names="parameter")


def predictive_table(spec, check: pd.DataFrame) -> pd.DataFrame:
    """One row per re-run point and target: the measured value, its 95 % interval, in band?"""
    rows = []
    if check is None or check.empty:
        return pd.DataFrame(
            columns=["point", "target", "estimate", "ci_low", "ci_high", "band", "in_band", "consistent"]
        )
    for _, r in check.iterrows():
        for key, t in spec.targets.items():
            est = float(r[key])
            rows.append(
                {
                    "point": r["point"],
                    "target": key,
                    "estimate": est,
                    "ci_low": float(r[f"{key}__low"]),
                    "ci_high": float(r[f"{key}__high"]),
                    "band": t.band_text,
                    "in_band": bool(t.low <= est <= t.high) if math.isfinite(est) else False,
                    "consistent": bool(float(r[f"{key}__high"]) >= t.low and float(r[f"{key}__low"]) <= t.high),
                }
            )
    return pd.DataFrame(rows)


def defaults_table(spec, posterior, emulator, defaults: dict[str, float], check: pd.DataFrame) -> pd.DataFrame:
    """The scenario's current point values against the posterior: each value's posterior
    quantile and whether it lies in the 90 % interval; the emulator's implausibility there."""
    x = np.array([[defaults[n] for n in spec.names]])
    imp = {k: float(v[0]) for k, v in emulator.implausibility(x).items()} if emulator else {}
    rows = []
    for n in spec.names:
        v = posterior[n].to_numpy(float)
        value = defaults[n]
        q = float(np.mean(v <= value))
        lo, hi = spec.parameters[n]
        rows.append(
            {
                "parameter": n,
                "default": value,
                "in_prior": bool(lo <= value <= hi),
                "posterior_quantile": q,
                "in_90_interval": bool(0.05 <= q <= 0.95),
            }
        )
    frame = pd.DataFrame(rows)
    frame.attrs["max_implausibility"] = max(imp.values()) if imp else math.nan
    frame.attrs["implausibility"] = imp
    return frame


# ---- charts --------------------------------------------------------------------------------


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def marginals_png(spec, result, path) -> None:
    plt = _plt()
    names = spec.names
    cols = min(3, len(names))
    rows = math.ceil(len(names) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 2.9 * rows), squeeze=False)
    defaults = result.defaults.set_index("parameter")
    for ax, n in zip(axes.flat, names, strict=False):
        lo, hi = spec.parameters[n]
        ax.hist(
            result.posterior[n], bins=30, range=(lo, hi), density=True, color="#4C72B0", alpha=0.8, label="posterior"
        )
        ax.axhline(1.0 / (hi - lo), color="grey", ls="--", lw=1, label="prior (uniform)")
        ax.axvline(defaults.loc[n, "default"], color="#C44E52", lw=2, label="current default")
        ax.set_title(n, fontsize=9)
        ax.set_xlim(lo, hi)
        ax.set_yticks([])
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7, loc="upper right")
    fig.suptitle(f"{spec.name}: posterior marginals (prior box as x-range)", fontsize=11)
    fig.tight_layout()
    write_atomic(path, lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)


def pairs_png(spec, result, path) -> None:
    plt = _plt()
    names = spec.names
    k = len(names)
    fig, axes = plt.subplots(k, k, figsize=(1.9 * k + 1, 1.9 * k + 1), squeeze=False)
    post = result.posterior
    ev = result.evaluations
    defaults = result.defaults.set_index("parameter")["default"]
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            ax = axes[i, j]
            ax.set_xticks([])
            ax.set_yticks([])
            if i == j:
                ax.hist(post[a], bins=25, range=spec.parameters[a], color="#4C72B0")
                ax.set_xlim(*spec.parameters[a])
            elif i > j:
                ax.scatter(ev[b], ev[a], s=4, c="lightgrey", label="design points")
                ax.scatter(post[b], post[a], s=2, alpha=0.25, c="#4C72B0", label="posterior")
                ax.scatter([defaults[b]], [defaults[a]], marker="D", c="#C44E52", s=18, label="default")
                ax.set_xlim(*spec.parameters[b])
                ax.set_ylim(*spec.parameters[a])
            else:
                r = result.correlations.set_index("parameter").loc[a, b]
                ax.text(
                    0.5,
                    0.5,
                    f"r = {r:+.2f}",
                    ha="center",
                    va="center",
                    fontsize=9,
                    color="#C44E52" if abs(r) >= TRADE_OFF else "black",
                )
                ax.axis("off")
            if i == k - 1:
                ax.set_xlabel(b.split(".")[-1], fontsize=7)
            if j == 0:
                ax.set_ylabel(a.split(".")[-1], fontsize=7)
    fig.suptitle(f"{spec.name}: pairwise posterior (grey: design points, red: current default)", fontsize=10)
    fig.tight_layout()
    write_atomic(path, lambda p: fig.savefig(p, dpi=100, format="png"))
    plt.close(fig)


def predictive_png(spec, result, emulator, path) -> None:
    plt = _plt()
    keys = list(spec.targets)
    cols = min(3, len(keys))
    rows = math.ceil(len(keys) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.3 * cols, 2.8 * rows), squeeze=False)
    pred = emulator.predict(result.posterior[spec.names].to_numpy(float))
    table = result.predictive
    for ax, key in zip(axes.flat, keys, strict=False):
        t = spec.targets[key]
        m, s = pred[key]
        draws = m + s * np.random.default_rng(0).standard_normal(len(m))
        ev = result.evaluations[key].dropna()
        lo_x = np.nanmin([draws.min(), ev.min(), t.low if math.isfinite(t.low) else np.inf])
        hi_x = np.nanmax([draws.max(), ev.max(), t.high if math.isfinite(t.high) else -np.inf])
        pad = 0.08 * (hi_x - lo_x or 1.0)
        ax.axvspan(max(t.low, lo_x - pad), min(t.high, hi_x + pad), color="#55A868", alpha=0.2, label="target band")
        ax.hist(ev, bins=25, range=(lo_x - pad, hi_x + pad), color="lightgrey", density=True, label="design points")
        ax.hist(
            draws,
            bins=25,
            range=(lo_x - pad, hi_x + pad),
            color="#4C72B0",
            alpha=0.6,
            density=True,
            label="posterior (emulator)",
        )
        mine = table[table.target == key]
        ymax = ax.get_ylim()[1]
        for i, (_, r) in enumerate(mine.iterrows()):
            y = ymax * (0.9 - 0.8 * i / max(1, len(mine)))
            colour = "#C44E52" if r.point == "defaults" else "black"
            ax.errorbar(
                r.estimate,
                y,
                xerr=[[r.estimate - r.ci_low], [r.ci_high - r.estimate]],
                fmt="o",
                ms=3,
                color=colour,
                lw=1,
            )
        ax.set_title(f"{key} (band {t.band_text}, {t.unit})", fontsize=8)
        ax.set_yticks([])
        ax.set_xlim(lo_x - pad, hi_x + pad)
    for ax in list(axes.flat)[len(keys) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=6, loc="upper left")
    fig.suptitle(
        "Posterior predictive vs every target (dots: re-runs on fresh entries with 95 % CI; red: defaults)", fontsize=9
    )
    fig.tight_layout()
    write_atomic(path, lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)


# ---- the report ---------------------------------------------------------------------------------


def _md_table(frame: pd.DataFrame, floats: str = "{:.3g}") -> str:
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in frame.iterrows():
        cells = []
        for c in cols:
            v = r[c]
            cells.append(floats.format(v) if isinstance(v, float) else str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_calibration_report(result, spec, emulator) -> None:
    out = result.path
    write_parquet(out / "posterior.parquet", result.posterior)
    write_parquet(out / "evaluations.parquet", result.evaluations)
    write_parquet(out / "identifiability.parquet", result.identifiability)
    write_parquet(out / "predictive.parquet", result.predictive)
    write_parquet(out / "defaults.parquet", result.defaults)
    marginals_png(spec, result, out / "marginals.png")
    pairs_png(spec, result, out / "pairs.png")
    predictive_png(spec, result, emulator, out / "predictive.png")
    info = result.info
    d = spec.design
    waves = "\n".join(
        f"| {w['wave']} | {w['points']} | {w['prior_share_nonimplausible']:.1%} |" for w in info.get("waves", [])
    )
    defaults = result.defaults
    imp = defaults.attrs.get("implausibility", {})
    pred = result.predictive
    check_lines = []
    if len(pred):
        for point, g in pred.groupby("point", sort=False):
            check_lines.append(
                f"- {point}: {int(g.in_band.sum())} of {len(g)} targets in their band, "
                f"{int(g.consistent.sum())} consistent (95 % interval overlaps the band)"
            )
    targets = "\n".join(
        f"| {k} | {t.kind} | {t.band_text} | {t.unit} | {t.discrepancy:g} |" for k, t in spec.targets.items()
    )
    region = info.get("nonimplausible_share", float("nan"))
    warning = (
        "\n**No part of the prior box meets every target**: at every parameter value some target lies "
        f"{d['cutoff']:g} or more emulator standard deviations outside its band. The posterior below is then "
        "where the targets are missed least, not a region that reproduces them: the model, with these "
        "parameters in these ranges, cannot meet these facts together (free other parameters, widen the "
        "ranges, or state a model discrepancy per target).\n"
        if region == 0
        else ""
    )
    text = f"""# Calibration: {spec.name}

Scenario `{spec.scenario}`; {len(spec.names)} parameters, uniform priors; {len(spec.targets)} targets.
Method: history matching with Gaussian-process emulators (scikit-learn), then the posterior
under the band likelihood (docs/INFERENCE.md; docs/ODD.md §10). Master seed {spec.master_seed}.

Runs behind this result: {result.total_runs:,} ({spec.runs_per_point()} per design point x
{len(result.evaluations)} points, plus the predictive check); made by this call: {result.runs:,},
in {result.elapsed_s:.0f} s on {result.executor}.

## Targets

| target | kind | band | unit | model discrepancy (sd) |
|---|---|---|---|---|
{targets}

## Waves

| wave | points | share of the prior non-implausible before it |
|---|---|---|
{waves}

After the last wave: {info.get("nonimplausible_share", float("nan")):.1%} of the prior box is
non-implausible (max implausibility < {d["cutoff"]:g}); posterior: {len(result.posterior)} draws
resampled from {int(d["candidates"]):,} prior points, effective sample size {info.get("ess", float("nan")):.0f}.
{warning}
## Posterior and identifiability

![marginals](marginals.png)

Width ratio = the posterior's 90 % interval over the prior's; under {CONSTRAINED} the targets
constrain the parameter, over {WEAK} they do not pin it down. Pairs with |r| >= {TRADE_OFF} trade off.

{_md_table(result.identifiability)}

![pairs](pairs.png)

## Posterior predictive against every target

![predictive](predictive.png)

Re-runs on fresh entries (master seed {spec.master_seed + 1}, {int(d["check_entries"])} entries per arm):

{chr(10).join(check_lines) or "- none (check_draws = 0)"}

{_md_table(pred) if len(pred) else ""}

## The current defaults against the posterior

{_md_table(defaults)}

Emulator implausibility at the defaults: {", ".join(f"{k} {v:.1f}" for k, v in imp.items())}
(max {defaults.attrs.get("max_implausibility", float("nan")):.1f}; >= {d["cutoff"]:g} rules a point out).

Files: posterior.parquet (draws), evaluations.parquet (design points and what they gave),
identifiability.parquet, predictive.parquet, defaults.parquet; state/ (to resume).
"""
    write_atomic(out / "report.md", lambda p: p.write_text(text, encoding="utf-8"))


def describe(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)
