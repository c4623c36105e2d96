"""The Compare view: N replications of each entry mode or each candidate partner.

The chosen scenario (with the Simulate controls applied) runs ``replications`` times per
variant on every core, in a background thread so the page keeps answering and shows the
progress. Then: fan charts of the focal entrant's share, the paired verdict (each variant minus
the baseline, run by run), NPV per run, the probabilities
of meeting the target, of a loss and of the partnership surviving (95 % Wilson
intervals), and the KPI table, downloadable as CSV.
"""

from __future__ import annotations

import html
import logging
import time
import traceback
from collections.abc import Callable
from functools import partial

import solara

from abm import limits
from abm.app import charts, compare_report, jobs, state
from abm.app.comparison import Cancelled, CompareOutcome, baseline, variants_for
from abm.app.settings import MODE_LABELS, describe
from abm.app.widgets import Chart, Message, table_html
from abm.errors import InputError
from abm.scenario import ENTRY_MODES

log = logging.getLogger("abm.app")

kind = solara.reactive("modes")
modes = solara.reactive(["alone", "alliance", "joint_venture"])
replications = solara.reactive(100)
progress = solara.reactive((0, 0, 0.0))
"""(runs done, runs in all, seconds since start)."""
outcome: solara.Reactive[CompareOutcome | None] = solara.reactive(None)
error: solara.Reactive[str | None] = solara.reactive(None)
cancel_requested = solara.reactive(False)


@solara.lab.task(prefer_threaded=True)
def comparison_task(scenario, variants, reps: int, seed: int) -> str:
    """Run the comparison in a background thread; results go to ``outcome``/``error``."""
    started = time.perf_counter()
    last = [0.0]

    def on_progress(done: int, total: int) -> None:
        now = time.perf_counter()
        if done == total or now - last[0] > 0.25:  # a few updates a second are enough
            last[0] = now
            progress.value = (done, total, now - started)

    try:
        result = jobs.run_compare(  # the server's shared queue and pool (abm/app/jobs.py)
            scenario,
            variants,
            replications=reps,
            master_seed=seed,
            progress=on_progress,
            cancelled=lambda: cancel_requested.value,
        )
    except Cancelled as exc:
        error.value = f"Comparison {exc}."
        return "cancelled"
    except InputError as exc:
        error.value = f"The comparison cannot run: {exc}"
        return "error"
    except Exception as exc:
        log.error("comparison failed:\n%s", traceback.format_exc())
        error.value = f"The comparison failed: {type(exc).__name__}: {exc}"
        return "error"
    outcome.value = result
    return "done"


def start() -> None:
    """Check the request, then start the background comparison."""
    error.value = None
    cancel_requested.value = False
    try:
        scenario = state.current_scenario()
        reps = int(replications.value)
        if reps < 1 or reps > limits.APP_MAX_REPLICATIONS:
            raise InputError("replications", reps, f"a whole number from 1 to {limits.APP_MAX_REPLICATIONS}")
        variants = variants_for(scenario, kind.value, tuple(m for m in ENTRY_MODES if m in modes.value))
    except InputError as exc:
        error.value = f"The comparison cannot run: {exc}"
        return
    outcome.value = None
    progress.value = (0, reps * len(variants), 0.0)
    comparison_task(scenario, variants, reps, state.current_settings().seed)


@solara.component
def Progress():
    done, total, elapsed = progress.value
    if comparison_task.pending:
        solara.ProgressLinear(value=100 * done / total if total else True, classes=["abm-progress"])
        solara.Text(f"{done} of {total} runs done, {elapsed:.1f} s", classes=["abm-progress-text"])
    elif outcome.value is not None:
        o = outcome.value
        n = len(o.comparison.summary) + len(o.comparison.failures)
        solara.Text(
            f"{n} runs in {o.elapsed_s:.1f} s on {o.workers} process{'es' if o.workers > 1 else ''}.",
            classes=["abm-progress-text", "abm-compare-done"],
        )


@solara.component
def Results():
    o = outcome.value
    if o is None:
        return
    scenario = o.comparison.scenario
    focal = scenario.entrants[0]
    variants = o.variants
    label: Callable[[str], str] = (lambda v: MODE_LABELS.get(v, v)) if kind.value == "modes" else (lambda v: v)
    if len(o.comparison.failures):
        Message(
            f"{len(o.comparison.failures)} runs raised an error and are left out; the first: "
            f"{o.comparison.failures.error.iloc[0]}",
            kind="info",
        )
    top = max(float(o.quantiles.p90.max()), focal.target_share * 1.3)
    solara.Text(
        f"{focal.name}'s market share: median, 25-75 % and 10-90 % of {o.comparison.replications} runs",
        classes=["abm-chart-title"],
    )
    with solara.Columns([1] * min(len(variants), 3)):
        for i, v in enumerate(variants):
            Chart(
                f"fan-{i}",
                height=340,
                version=(id(o), v),
                build=partial(
                    charts.fan_option,
                    o.quantiles,
                    v,
                    target_share=focal.target_share,
                    target_month=focal.target_month,
                    horizon=scenario.months,
                    top=top,
                    label=label(v),
                    colour=charts.VARIANT_COLOURS[i % len(charts.VARIANT_COLOURS)],
                ),
            )
    labels = {v: label(v) for v in variants}
    Verdict(o, labels)
    with solara.Columns([1, 1]):
        Chart(
            "npv",
            height=380,
            version=id(o),
            build=partial(charts.npv_option, o.comparison.summary, variants, scenario.currency, labels),
        )
        if len(o.paired):
            Chart(
                "paired",
                height=380,
                version=id(o),
                build=partial(charts.paired_option, o.paired, labels, scenario.currency),
            )
    Chart(
        "probabilities",
        height=110 + 34 * len(variants),
        version=id(o),
        build=partial(charts.probability_option, o.probabilities.assign(variant=o.probabilities.variant.map(label))),
    )
    solara.Text(
        "Key figures (median [10th, 90th percentile]; probabilities with 95 % interval)", classes=["abm-chart-title"]
    )
    rows = [[k, *(o.kpi.loc[k, v] for v in variants)] for k in o.kpi.index]
    solara.HTML(
        tag="div", unsafe_innerHTML=table_html(rows, ["KPI", *(label(v) for v in variants)]), classes=["abm-kpi-table"]
    )
    with solara.Row():
        solara.FileDownload(
            o.kpi_csv(),
            filename=f"compare-{scenario.name}-kpis.csv",
            label="Download the table (CSV)",
            mime_type="text/csv",
        )
        solara.FileDownload(
            o.runs_csv(),
            filename=f"compare-{scenario.name}-runs.csv",
            label="Download every run (CSV)",
            mime_type="text/csv",
        )
        with solara.Div(classes=["abm-report-html"]):
            solara.FileDownload(
                partial(compare_report.report_html, o, labels, scenario_line=f"Scenario {scenario.name}"),
                filename=f"compare-{scenario.name}-report.html",
                label="One-page report (HTML)",
                mime_type="text/html",
            )


@solara.component
def Verdict(o: CompareOutcome, labels: dict[str, str]):
    """The paired comparison in words: one sentence per variant and measure."""
    sentences = o.verdicts(labels)
    if not sentences:
        return
    base = labels.get(baseline(o.variants), baseline(o.variants))
    items = "".join(f"<li>{html.escape(t)}</li>" for t in sentences)
    solara.HTML(
        tag="div",
        unsafe_innerHTML=f"<b>Run by run against {html.escape(base)}</b> (replication r of each variant shares "
        f"its seed, so each pair differs only by the setting; intervals: 95 %, t on the paired differences)"
        f"<ul>{items}</ul>",
        classes=["abm-verdict"],
    )


@solara.component
def PartnersNote():
    """Which partners a partner comparison runs, or why it cannot (fewer than two)."""
    try:
        names = list(variants_for(state.current_scenario(), "partners"))
    except InputError as exc:
        solara.Warning(f"Nothing to compare: {exc}", classes=["abm-partners-note", "abm-partners-none"])
        return
    solara.Text(
        f"{len(names)} variants, one per candidate partner: " + ", ".join(names),
        classes=["abm-caption", "abm-partners-note"],
    )


@solara.component
def ComparePage():
    try:
        scenario_line = describe(state.base_scenario(), state.current_settings())
    except InputError as exc:
        scenario_line = f"(scenario cannot run: {exc})"
    with solara.Column(gap="10px", classes=["abm-page", "abm-compare"]):
        solara.HTML(tag="h2", unsafe_innerHTML="Compare entry modes and partners")
        solara.Text(
            f"Scenario: {scenario_line}. Change it in Simulate or the Editor. Master seed {state.current_settings().seed}; "
            "replication r of every variant uses the same seed, so variants differ by their setting, not by luck.",
            classes=["abm-lead"],
        )
        with solara.Row(gap="24px", style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.ToggleButtonsSingle(
                value=kind,
                classes=["abm-compare-kind"],
                children=[
                    solara.Button("Entry modes", value="modes"),
                    solara.Button("Candidate partners", value="partners"),
                ],
            )
            if kind.value == "modes":
                for m in ENTRY_MODES:

                    def toggle(on: bool, m=m):
                        chosen = [x for x in modes.value if x != m] + ([m] if on else [])
                        modes.value = [x for x in ENTRY_MODES if x in chosen]

                    solara.Checkbox(label=MODE_LABELS[m], value=m in modes.value, on_value=toggle)
            else:
                PartnersNote()
            with solara.Div(style={"min-width": "280px"}, classes=["abm-replications"]):
                solara.SliderInt(
                    f"Replications per variant: {replications.value}", value=replications, min=10, max=500, step=10
                )
        with solara.Row():
            solara.Button(
                "Run comparison",
                icon_name="mdi-play",
                on_click=start,
                color="primary",
                disabled=comparison_task.pending,
                classes=["abm-compare-run"],
            )
            solara.Button(
                "Cancel",
                icon_name="mdi-stop",
                on_click=lambda: cancel_requested.set(True),
                disabled=not comparison_task.pending,
                outlined=True,
                classes=["abm-compare-cancel"],
            )
        Progress()
        Message(error.value)
        Results()
