"""A comparison as one self-contained HTML page, for a report or a slide hand-out.

The page holds the scenario line, the verdict sentences and the paired differences, the
KPI table, and three charts drawn with Matplotlib and written into the page as SVG (the
fan chart of the focal entrant's share, as a PNG in base64): NPV per run (box and jittered
runs), the probabilities with their 95 % Wilson intervals as error bars, and the share
paths. Nothing outside the file is referenced, so it opens offline and prints on one page
(A4 landscape). No Solara here.
"""

from __future__ import annotations

import base64
import html
import io
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from abm import report
from abm.app.charts import VARIANT_COLOURS
from abm.app.comparison import PAIRED_MEASURES, CompareOutcome, baseline

_PYPLOT = threading.Lock()
"""abm.report.fan_chart uses pyplot, whose state is global: one figure at a time."""


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    text = buf.getvalue()
    return text[text.index("<svg") :]  # no XML prologue inside HTML


def npv_svg(summary: pd.DataFrame, variants: list[str], labels: Mapping[str, str], currency: str) -> str:
    """NPV per run: a box (25-75 %, whiskers 10-90 %) and every run as a dot with a fixed jitter."""
    fig = Figure(figsize=(5.6, 3.4))
    ax = fig.add_subplot()
    data = [summary.loc[summary.variant == v, "npv"].dropna().to_numpy() for v in variants]
    ax.boxplot(data, whis=(10, 90), showfliers=False, widths=0.5, medianprops={"color": "#0072B2", "lw": 2})
    rng = np.random.default_rng(0)
    for i, values in enumerate(data, start=1):
        ax.scatter(i + rng.uniform(-0.2, 0.2, len(values)), values, s=9, color="#D55E00", alpha=0.45, zorder=3)
    ax.axhline(0, color="#333", ls="--", lw=1)
    ax.set_xticks(range(1, len(variants) + 1), [labels.get(v, v) for v in variants])
    ax.set_ylabel(f"NPV ({currency} million)")
    ax.set_title("NPV per run (box 25-75 %, whiskers 10-90 %, dots: runs)", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    return _svg(fig)


def probability_svg(probabilities: pd.DataFrame, labels: Mapping[str, str]) -> str:
    """One panel per measure: horizontal bars per variant with 95 % Wilson error bars."""
    measures = list(dict.fromkeys(probabilities.measure))
    variants = list(dict.fromkeys(probabilities.variant))
    fig = Figure(figsize=(9.5, 0.9 + 0.45 * len(variants)))
    axes = fig.subplots(1, len(measures), sharey=True, squeeze=False)[0]
    for ax, m in zip(axes, measures, strict=True):
        g = probabilities[probabilities.measure == m].set_index("variant")
        for i, v in enumerate(variants):
            r = g.loc[v]
            if pd.isna(r.p):
                ax.text(1, i, "n/a", va="center", fontsize=8)
                continue
            colour = VARIANT_COLOURS[i % len(VARIANT_COLOURS)]
            ax.barh(i, 100 * r.p, color=colour, alpha=0.8, height=0.6)
            ax.errorbar(100 * r.p, i, xerr=[[100 * (r.p - r.lo)], [100 * (r.hi - r.p)]], color="k", capsize=4)
            ax.text(100 * r.hi + 2, i, f"{r.p:.0%} ({r.lo:.0%}-{r.hi:.0%})", va="center", fontsize=7)
        ax.set_xlim(0, 150)
        ax.set_xticks([0, 50, 100])
        ax.set_title(m, fontsize=9)
        ax.set_xlabel("%")
    axes[0].set_yticks(range(len(variants)), [labels.get(v, v) for v in variants])
    axes[0].invert_yaxis()
    return _svg(fig)


def fan_png(outcome: CompareOutcome) -> str:
    """abm.report's fan chart (the one ``abm run`` writes) as base64 PNG."""
    with _PYPLOT, tempfile.TemporaryDirectory(prefix="abm-report-") as tmp:
        path = report.fan_chart(outcome.comparison, Path(tmp) / "fan.png")
        return base64.b64encode(path.read_bytes()).decode("ascii")


def _table(rows: list[list[str]], header: list[str]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


STYLE = """
@page { size: A4 landscape; margin: 10mm; }
body { font-family: sans-serif; font-size: 10.5pt; margin: 12px; color: #111; }
h1 { font-size: 15pt; margin: 0 0 4px 0; }
.lead { color: #333; margin: 0 0 6px 0; }
.verdict { background: #F3F7FB; border-left: 4px solid #0072B2; padding: 4px 10px; margin: 6px 0; }
.verdict ul { margin: 2px 0; padding-left: 18px; }
.charts { display: flex; flex-wrap: wrap; gap: 8px; align-items: flex-start; }
.charts svg { max-width: 100%; height: auto; }
.charts img { max-width: 640px; }
.caption { font-size: 9.5pt; font-weight: bold; margin: 2px 0; }
table { border-collapse: collapse; font-size: 9pt; margin: 4px 0; }
th, td { border: 1px solid #bbb; padding: 2px 6px; text-align: left; }
th { background: #EAF2F8; }
"""


def report_html(outcome: CompareOutcome, labels: Mapping[str, str] | None = None, *, scenario_line: str = "") -> str:
    """The comparison as one self-contained HTML page (see the module docstring)."""
    labels = dict(labels or {})
    cmp = outcome.comparison
    variants = outcome.variants
    name = {v: labels.get(v, v.replace("_", " ")) for v in variants}
    currency = cmp.scenario.currency
    base = baseline(variants)
    verdicts = "".join(f"<li>{html.escape(t)}</li>" for t in outcome.verdicts(name))
    words = dict(PAIRED_MEASURES)
    paired_rows = [
        [
            f"{name.get(r.a, r.a)} − {name.get(r.b, r.b)}",
            words.get(r.measure, r.measure),
            int(r.n),
            *(
                ("n/a" if pd.isna(x) else f"{(100 if r.measure != 'npv' else 1) * x:+.2f}")
                for x in (r["mean"], r.lo, r.hi)
            ),
            *(("n/a" if pd.isna(x) else f"{x:.0%}") for x in (r.a_wins, r.b_wins)),
        ]
        for _, r in outcome.paired.iterrows()
    ]
    paired = _table(
        paired_rows,
        ["Difference", "Measure", "Pairs", "Mean", "95 % low", "95 % high", "First wins", "Second wins"],
    )
    kpi = _table([[k, *(outcome.kpi.loc[k, v] for v in variants)] for k in outcome.kpi.index], ["KPI", *name.values()])
    title = f"Comparison: {cmp.scenario.title}"
    line = scenario_line or cmp.scenario.name
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title><style>{STYLE}</style></head>
<body>
<h1>{html.escape(title)}</h1>
<p class="lead">{html.escape(line)}. {cmp.replications} runs per variant, master seed {cmp.master_seed}; replication r
of every variant uses the same seed, so the runs pair up and differ only by the setting.
Money in {html.escape(currency)} million; share differences in percentage points.</p>
<div class="verdict"><b>Run by run against {html.escape(name.get(base, base))}</b> (95 % t intervals on the paired
differences)<ul>{verdicts}</ul></div>
{paired if paired_rows else ""}
<div class="charts">
{npv_svg(cmp.summary, variants, name, currency)}
<img alt="share paths per variant" src="data:image/png;base64,{fan_png(outcome)}">
</div>
<p class="caption">Probabilities across runs (error bars: 95 % Wilson interval)</p>
<div class="charts">{probability_svg(outcome.probabilities, name)}</div>
<h2 style="font-size: 12pt; margin: 6px 0 2px 0;">Key figures (median [10th, 90th percentile]; probabilities with
95 % interval)</h2>
{kpi}
</body></html>
"""
