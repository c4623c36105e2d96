"""What a comparison shows people: a KPI table, a fan chart, a short markdown summary.

Uncertainty is shown, not hidden: shares and NPV as median with a 10-90 % band across
replications, probabilities with a 95 % Wilson interval.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from abm.compare import Comparison
from abm.partnership import END_CAUSES, FAILURE_CAUSES
from abm.stats import wilson as wilson  # one definition; re-exported for abm.app and abm.validation

SHARE_COLUMNS = [
    ("share_y1", "Share, year 1"),
    ("share_y3", "Share, year 3"),
    ("share_y5", "Share, year 5"),
    ("share_y10", "Share, year 10"),
]


def _band(values: pd.Series, fmt: str) -> str:
    v = values.dropna()
    if v.empty:
        return "n/a"
    q10, q50, q90 = np.quantile(v, [0.1, 0.5, 0.9])
    return f"{fmt.format(q50)} [{fmt.format(q10)}, {fmt.format(q90)}]"


def _prob(flags: pd.Series) -> str:
    flags = flags.dropna().astype(bool)
    if flags.empty:
        return "n/a"
    lo, hi = wilson(int(flags.sum()), len(flags))
    return f"{flags.mean():.0%} ({lo:.0%}-{hi:.0%})"


def kpi_table(cmp: Comparison) -> pd.DataFrame:
    """Rows: KPIs; columns: variants. Cells are formatted text."""
    s = cmp.summary
    cur = cmp.scenario.currency
    out = {}
    for variant in cmp.variants:
        g = s[s.variant == variant]
        col = {"Runs": str(len(g))}
        for key, label in SHARE_COLUMNS:
            if g[key].notna().any():
                col[label + " (median [p10, p90])"] = _band(g[key] * 100, "{:.1f}%")
        col["Licence month"] = _band(g["licence_month"], "{:.0f}")
        col["P(target share by deadline)"] = _prob(g["objective_met"])
        col[f"NPV, {cur} m (median [p10, p90])"] = _band(g["npv"], "{:.1f}")
        col["P(loss: NPV < 0)"] = _prob(g["npv"] < 0)
        col["P(entry success)"] = _prob(g["entry_success"])
        formed = g[g["partnership_formed"]]
        if len(formed):
            col["Partnership survival (no failure)"] = _prob(~formed["partnership_failed"])
            causes = formed["partnership_end_cause"].value_counts()
            col["Partnership end causes"] = ", ".join(f"{c.replace('_', ' ')} {n}" for c, n in causes.head(4).items())
        else:
            col["Partnership survival (no failure)"] = "no partnership"
            col["Partnership end causes"] = "-"
        out[variant] = col
    return pd.DataFrame(out)


def format_table(table: pd.DataFrame) -> str:
    """A plain-text table for the terminal."""
    labels = list(table.index)
    width0 = max(len(x) for x in labels) + 2
    widths = [max(len(str(c)), *(len(str(v)) for v in table[c])) + 2 for c in table.columns]
    lines = [
        "".ljust(width0)
        + "".join(str(c).replace("_", " ").ljust(w) for c, w in zip(table.columns, widths, strict=True))
    ]
    lines.append("-" * (width0 + sum(widths)))
    for label in labels:
        lines.append(
            label.ljust(width0)
            + "".join(str(table.loc[label, c]).ljust(w) for c, w in zip(table.columns, widths, strict=True))
        )
    return "\n".join(lines)


def share_quantiles(steps: pd.DataFrame, firm: str) -> pd.DataFrame:
    """Per variant and month: the 10/25/50/75/90 % quantiles of ``firm``'s share, counted as 0
    once the brand is no longer its own (sold in a buyout or an IPO), as the run summary's
    ``share_y*`` columns count it (ODD §8)."""
    own = steps[steps.firm == firm]
    if "owner" in own:
        own = own.assign(market_share=own.market_share.where(own.owner == firm, 0.0))
    q = own.groupby(["variant", "month"])["market_share"].quantile([0.1, 0.25, 0.5, 0.75, 0.9]).unstack()
    q.columns = ["p10", "p25", "p50", "p75", "p90"]
    return q.reset_index()


def fan_chart(cmp: Comparison, path: Path, *, title: str | None = None) -> Path:
    """One panel per variant: the focal entrant's share path, median with 25-75 and 10-90 %
    bands, the other variants' medians in grey, and the target share and deadline."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    entrant = cmp.scenario.entrants[0]
    q = share_quantiles(cmp.steps, entrant.name)
    variants = list(cmp.variants)
    n = len(variants)
    cols = 2 if n > 1 else 1
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(6.2 * cols, 3.8 * rows), sharex=True, sharey=True, squeeze=False)
    top = max(q["p90"].max() * 1.1, entrant.target_share * 1.3)
    for ax, variant in zip(axes.flat, variants, strict=False):
        for other in variants:
            if other != variant:
                o = q[q.variant == other]
                ax.plot(o.month, o.p50 * 100, color="0.7", lw=1)
        v = q[q.variant == variant]
        ax.fill_between(v.month, v.p10 * 100, v.p90 * 100, color="#1f77b4", alpha=0.18, lw=0, label="10-90 %")
        ax.fill_between(v.month, v.p25 * 100, v.p75 * 100, color="#1f77b4", alpha=0.35, lw=0, label="25-75 %")
        ax.plot(v.month, v.p50 * 100, color="#0b3c6b", lw=2.2, label="median")
        ax.axhline(entrant.target_share * 100, color="#d62728", ls="--", lw=1.2, label="target share")
        ax.axvline(entrant.target_month, color="#d62728", ls=":", lw=1.2, label="target deadline")
        ax.set_title(variant.replace("_", " "), fontsize=13, fontweight="bold")
        ax.set_ylim(0, top * 100)
        ax.grid(alpha=0.3)
    for ax in axes.flat[n:]:
        ax.axis("off")
    for ax in axes[-1]:
        ax.set_xlabel("month")
    for ax in axes[:, 0]:
        ax.set_ylabel(f"{entrant.name} market share (%)")
    axes.flat[0].legend(loc="upper left", fontsize=8, frameon=False)
    fig.suptitle(
        title
        or f"{cmp.scenario.title}: {entrant.name}'s share, {cmp.replications} runs per variant "
        "(grey: other variants' medians)",
        fontsize=12,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def summary_markdown(cmp: Comparison, table: pd.DataFrame, chart_name: str, elapsed_s: float) -> str:
    s = cmp.scenario
    e = s.entrants[0]
    lines = [
        f"# {s.title}",
        "",
        f"Scenario `{s.name}`, {len(cmp.variants)} variants x {cmp.replications} replications, "
        f"master seed {cmp.master_seed}, {s.months} months; {elapsed_s:.0f} s.",
        "",
        f"Focal entrant: {e.name}; target {e.target_share:.0%} share by month {e.target_month}.",
        "",
        "| KPI | " + " | ".join(v.replace("_", " ") for v in table.columns) + " |",
        "|---|" + "---|" * len(table.columns),
    ]
    for label in table.index:
        lines.append(f"| {label} | " + " | ".join(str(table.loc[label, c]) for c in table.columns) + " |")
    lines += [
        "",
        f"![share paths]({chart_name})",
        "",
        "Definitions (docs/ODD.md, *Success and failure*): the target is met when the share reaches "
        "the target by the deadline; entry success = target met and NPV > 0 at the entrant's cost of "
        "capital (terminal value of a business still held included); a partnership fails when it ends by "
        "one of: "
        + ", ".join(END_CAUSES[c].split(":")[0].format(kind="partnership") for c in FAILURE_CAUSES)
        + ", or a JV is liquidated.",
        "Probabilities carry a 95 % Wilson interval; bands are 10th-90th percentiles across replications.",
    ]
    if len(cmp.failures):
        lines += ["", f"{len(cmp.failures)} runs raised an error; see failures.parquet."]
    return "\n".join(lines) + "\n"
