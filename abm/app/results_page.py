"""The Results view: open a sweep's results folder, plot an outcome against a parameter,
and show the sensitivity indices where the folder has them (see ``results_data`` for the
files it reads).

Folders are chosen from a list of those under the results root given at start
(``abm app --results DIR``); no path is ever typed (see ``access``)."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import solara

from abm.app import access, charts
from abm.app.results_data import ResultsFolder
from abm.app.widgets import Chart, Message, table_html
from abm.errors import InputError

folder: solara.Reactive[ResultsFolder | None] = solara.reactive(None)
problem: solara.Reactive[str | None] = solara.reactive(None)
parameter: solara.Reactive[str | None] = solara.reactive(None)
outcome: solara.Reactive[str | None] = solara.reactive(None)


def open_folder(name: str | None) -> None:
    """Load a results folder by its name in the list; a bad one shows a message (which never
    quotes the files) and keeps the last one."""
    if not name or not name.strip():
        return
    try:
        loaded = access.open_result(name)
    except InputError as exc:
        problem.value = f"Could not open the results: {exc}"
        return
    except Exception as exc:  # a damaged file: say which kind of failure, never its contents
        problem.value = f"Could not open the results {name!r}: its files could not be read ({type(exc).__name__})."
        return
    problem.value = None
    folder.value = loaded
    parameter.value = loaded.parameters[0] if loaded.parameters else None
    outcome.value = loaded.outcomes[0] if loaded.outcomes else None


def _name_of(f: ResultsFolder | None) -> str | None:
    """The folder's name in the list (relative to the results root), or None."""
    if f is None:
        return None
    try:
        return Path(f.path).resolve().relative_to(access.results_root()).as_posix()
    except (ValueError, OSError):
        return None


@solara.component
def ResultsPage():
    found = access.result_folders()
    shown = _name_of(folder.value)
    with solara.Column(gap="10px", classes=["abm-page", "abm-results"]):
        solara.HTML(tag="h2", unsafe_innerHTML="Results of a sweep")
        solara.Text(
            "Open the folder a sweep wrote (abm sweep ... --out FOLDER): pick one of those found under this "
            "server's results folder.",
            classes=["abm-lead"],
        )
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
            if found:
                with solara.Div(style={"min-width": "420px"}):
                    solara.Select(
                        "Results folders",
                        values=found,
                        value=shown if shown in found else None,
                        on_value=open_folder,
                    )
        Message(problem.value)
        f = folder.value
        if f is None:
            if not found:
                solara.Info("No sweep results found in this server's results folder yet.")
            return
        n_err = len(f.errors)
        solara.Text(
            f"{shown}: {len(f.summary)} runs, {len(f.parameters)} swept parameters"
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
                assert parameter.value is not None and outcome.value is not None  # both are columns
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
