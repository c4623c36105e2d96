"""The Results view: open a sweep's results folder, plot an outcome against a parameter,
and show the sensitivity indices where the folder has them (see ``results_data`` for the
files it reads)."""

from __future__ import annotations

import json
from functools import partial

import solara

from abm.app import charts
from abm.app.results_data import ResultsFolder, candidate_folders, load_folder
from abm.app.widgets import Chart, Message, table_html
from abm.errors import InputError

folder: solara.Reactive[ResultsFolder | None] = solara.reactive(None)
problem: solara.Reactive[str | None] = solara.reactive(None)
parameter: solara.Reactive[str | None] = solara.reactive(None)
outcome: solara.Reactive[str | None] = solara.reactive(None)


def open_folder(path: str | None) -> None:
    """Load a results folder; a bad path or file shows a message and keeps the last one."""
    if not path or not path.strip():
        return
    try:
        loaded = load_folder(path)
    except InputError as exc:
        problem.value = f"Could not open the results: {exc}"
        return
    except Exception as exc:
        problem.value = f"Could not open the results: {type(exc).__name__}: {exc}"
        return
    problem.value = None
    folder.value = loaded
    parameter.value = loaded.parameters[0] if loaded.parameters else None
    outcome.value = loaded.outcomes[0] if loaded.outcomes else None


@solara.component
def ResultsPage():
    found = candidate_folders("results")
    with solara.Column(gap="10px", classes=["abm-page", "abm-results"]):
        solara.HTML(tag="h2", unsafe_innerHTML="Results of a sweep")
        solara.Text(
            "Open the folder a sweep wrote (abm sweep ... --out FOLDER): pick one found under results/ or type "
            "its path.",
            classes=["abm-lead"],
        )
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
            if found:
                with solara.Div(style={"min-width": "420px"}):
                    solara.Select(
                        "Folders found under results/",
                        values=found,
                        value=str(folder.value.path) if folder.value and str(folder.value.path) in found else None,
                        on_value=open_folder,
                    )
            with solara.Div(style={"min-width": "420px"}):
                solara.InputText("Results folder path", value="", on_value=open_folder, classes=["abm-results-path"])
        Message(problem.value)
        f = folder.value
        if f is None:
            if not found:
                solara.Info("No sweep results found under results/ yet.")
            return
        n_err = len(f.errors)
        solara.Text(
            f"{f.path}: {len(f.summary)} runs, {len(f.parameters)} swept parameters"
            + (f", {n_err} runs failed" if n_err else "")
            + f" (read by {f.source}).",
            classes=["abm-caption", "abm-results-loaded"],
        )
        if f.manifest:
            with solara.Details("Manifest"):
                solara.Preformatted(json.dumps(f.manifest, indent=2, default=str)[:20000])
        if f.parameters and f.outcomes:
            with solara.Row(style={"flex-wrap": "wrap"}):
                with solara.Div(style={"min-width": "300px"}):
                    solara.Select("Parameter (x)", values=f.parameters, value=parameter)
                with solara.Div(style={"min-width": "300px"}):
                    solara.Select("Outcome (y)", values=f.outcomes, value=outcome)
            if parameter.value in f.summary.columns and outcome.value in f.summary.columns:
                Chart(
                    "outcome",
                    height=440,
                    version=(id(f), parameter.value, outcome.value),
                    build=partial(charts.outcome_option, f.summary, parameter.value, outcome.value),
                )
        elif not f.parameters:
            solara.Info("No swept parameter found in this folder's summary (no column varies).")
        if f.sensitivity:
            solara.Text("Sensitivity indices", classes=["abm-chart-title"])
            for name, indices in f.sensitivity.items():
                Chart(
                    f"sens-{abs(hash(name)) % 10_000}",
                    height=max(240, 60 + 34 * len(indices)),
                    version=(id(f), name),
                    build=partial(charts.sensitivity_option, indices, name),
                )
                cols = list(indices.columns)
                solara.HTML(tag="div", unsafe_innerHTML=table_html(indices.values.tolist(), cols))
