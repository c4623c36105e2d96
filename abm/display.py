"""How the package's objects show themselves in a notebook or a terminal: a one-line
``repr`` and a small HTML card (``_repr_html_``), never the whole scenario or every frame.

Each class's ``__repr__`` and ``_repr_html_`` call the functions here, so the look is
decided in one place.
"""

from __future__ import annotations

import html
import math
from typing import Any

MAX_REPR = 200
"""Longest one-line repr, in characters."""


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def line(kind: str, head: str, fields: dict[str, Any]) -> str:
    """``Kind(head, key=value, ...)``, shortened to :data:`MAX_REPR` characters."""
    body = ", ".join([head, *(f"{k}={_fmt(v)}" for k, v in fields.items())])
    text = f"{kind}({body})"
    return text if len(text) <= MAX_REPR else text[: MAX_REPR - 4] + "...)"


def card(title: str, rows: dict[str, Any], note: str = "") -> str:
    """A small HTML table with a bold title; ``note`` goes underneath in grey."""
    cells = "".join(
        f"<tr><th style='text-align:left;padding-right:1em'>{html.escape(str(k))}</th>"
        f"<td style='text-align:left'>{html.escape(_fmt(v))}</td></tr>"
        for k, v in rows.items()
    )
    foot = f"<div style='color:#666;font-size:90%'>{html.escape(note)}</div>" if note else ""
    return f"<div><b>{html.escape(title)}</b><table>{cells}</table>{foot}</div>"


# ---- one function pair per kind of object --------------------------------------------------------


def _run_fields(result: Any) -> dict[str, Any]:
    row = result.summary.iloc[0] if len(result.summary) else {}
    fields: dict[str, Any] = {"seed": result.seed, "months": row.get("months", result.scenario.months)}
    for key in ("entry_mode", "final_mode", "npv", "share_final", "entry_success"):
        if key in row:
            value = row[key]
            fields[key] = float(value) if key in ("npv", "share_final") else value
    return fields


def run_result_repr(result: Any) -> str:
    return line("RunResult", repr(result.scenario.name), _run_fields(result))


def run_result_html(result: Any) -> str:
    rows = _run_fields(result)
    rows["frames"] = ", ".join(
        f"{name} {len(getattr(result, name))} rows" for name in ("steps", "entrants", "partnerships", "events")
    )
    return card(f"Run of {result.scenario.title}", rows, "result.summary, .steps, .events: the frames")


def comparison_repr(cmp: Any) -> str:
    fields = {
        "variants": ", ".join(map(str, cmp.variants)),
        "replications": cmp.replications,
        "master_seed": cmp.master_seed,
        "failures": len(cmp.failures),
    }
    return line("Comparison", repr(cmp.scenario.name), fields)


def comparison_html(cmp: Any) -> str:
    from abm.report import kpi_table

    head = (
        f"<b>{html.escape(cmp.scenario.title)}</b>: {len(cmp.variants)} variants x {cmp.replications} "
        f"replications, master seed {cmp.master_seed}, {len(cmp.failures)} failed runs"
    )
    if cmp.summary.empty:
        return f"<div>{head}</div>"
    return f"<div>{head}{kpi_table(cmp).to_html(escape=True)}</div>"


def _results_fields(results: Any) -> dict[str, Any]:
    m = results.manifest
    return {
        "sweep": m.get("name", "?"),
        "design": (m.get("design") or {}).get("kind", "?"),
        "runs": f"{len(results.summary)}/{results.runs}",
        "failed": len(results.errors),
        "parameters": ", ".join(results.parameters),
    }


def results_repr(results: Any) -> str:
    return line("Results", repr(str(results.path)), _results_fields(results))


def results_html(results: Any) -> str:
    rows = _results_fields(results)
    rows["question"] = results.manifest.get("question", "")
    return card(f"Sweep results in {results.path}", rows, "abm.analyze(path) writes tables, plots and a report")


def _scenario_fields(scenario: Any) -> dict[str, Any]:
    return {
        "months": scenario.months,
        "entrants": len(scenario.entrants),
        "partners": len(scenario.partners),
        "incumbents": len(scenario.incumbents),
        "regulators": len(scenario.regulators),
    }


def scenario_repr(scenario: Any) -> str:
    return line("Scenario", repr(scenario.name), _scenario_fields(scenario))


def scenario_html(scenario: Any) -> str:
    rows = {
        "name": scenario.name,
        **_scenario_fields(scenario),
        "focal entrant": scenario.entrants[0].name if scenario.entrants else "",
        "partners": ", ".join(p.name for p in scenario.partners),
        "currency": scenario.currency,
    }
    return card(scenario.title, rows, scenario.description[:300])


def model_repr(model: Any) -> str:
    """``MarketEntryModel.__repr__``: the scenario, the seed and the month."""
    fields = {"seed": model.seed, "month": f"{model.month} of {model.scenario.months}"}
    return line("MarketEntryModel", repr(model.scenario.name), fields)


def model_html(model: Any) -> str:
    rows = {"seed": model.seed, "month": f"{model.month} of {model.scenario.months}"}
    rows.update({f"share: {e.name}": float(e.market_share) for e in model.entrants})
    return card(f"Model of {model.scenario.title}", rows)
