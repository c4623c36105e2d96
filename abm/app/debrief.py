"""Debrief: what happened in a run and why, in a few plain sentences.

Frames in, sentences out (no Solara): the run's event log (month, actor, kind, event),
its monthly steps and its summary row, as :func:`abm.simulation.collect` and
:func:`abm.compare.compare` give them. The text is generic over event kinds: a kind this
module does not know is told by the event's own text, so new kinds read sensibly. Kinds
from a richer partnership model (renegotiated, renegotiation_failed, outside_opportunity,
jv_extended, jv_taken_over, stays_out, stake_bargained, incumbent_price_rise, ...) and a
``renegotiations`` summary column are used when present and never required.

The main driver of a run is picked in this order (the first that applies): a partnership
that failed (trust below the floor, missed objectives, a partner that defected or walked
away), a licence that never came or took long (more than a third of the time to the
target), rule changes (two or more) in a run that lost money, incumbents' reactions in a
run that missed its target or lost money, else the entrant's own pace.
This ranking is a reading aid, an assumption of this module, not part of the model.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from abm import report
from abm.partnership import end_event

WINDOW = 5
"""Months before a partnership's end whose delivered commitment explains its trust."""

FAILURES = {
    "trust_floor": "trust fell below the floor",
    "missed_objectives": "it missed its objectives at the review",
    "ended_by_entrant": "the entrant ended it at the review: going alone or leaving was worth more",
    "partner_defected": "the partner defected",
    "partner_walked_away": "the partner walked away",
    "integration_failed": "the integration failed",
}
"""Partnership end causes that count as a failure, in words."""

LICENCE_REFUSED = ("licence_refused", "licence_rejected", "licence_withdrawn")
LICENCE_BAD = (*LICENCE_REFUSED, "licence_suspended")

TOLD = {
    "partnership_formed",
    "licence_approved",
    "on_sale",
    "target_reached",
    "left_market",
    "goes_alone",
    "mode_chosen",
    "enters_alone",
}
"""Kinds the narrative tells in its own sentences (others are told by their text)."""

DRIVER_WORDS = {
    **{f"partnership:{cause}": f"the partnership's breakdown ({words})" for cause, words in FAILURES.items()},
    "licence": "the licence",
    "incumbents": "the incumbents' reactions",
    "regulation": "the regulator's rule changes",
    "pace": "the entrant's own pace of growth",
}


@dataclass(frozen=True)
class Driver:
    """The main driver of one run: ``key`` (a key of ``DRIVER_WORDS``; ``partnership:<end
    cause>`` for a failed partnership) and a sentence."""

    key: str
    text: str


def _row(summary: pd.DataFrame | Mapping[str, Any] | None) -> dict[str, Any]:
    if summary is None:
        return {}
    if isinstance(summary, pd.DataFrame):
        return summary.iloc[0].to_dict() if len(summary) else {}
    return dict(summary)


def _num(row: Mapping[str, Any], key: str) -> float | None:
    value: Any = row.get(key)
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) else value


def _events(events: pd.DataFrame | None) -> pd.DataFrame:
    if events is None or events.empty:
        return pd.DataFrame(columns=["month", "actor", "kind", "event"])
    return events.sort_values("month", kind="stable")


def _first(events: pd.DataFrame, kinds: tuple[str, ...] | str, actor: str | None = None) -> pd.Series | None:
    kinds = (kinds,) if isinstance(kinds, str) else kinds
    sel = events[events.kind.isin(kinds)]
    if actor is not None:
        sel = sel[(sel.actor == actor) | sel.event.astype(str).str.contains(actor, regex=False)]
    return sel.iloc[0] if len(sel) else None


def _trust_story(steps: pd.DataFrame, entrant: str, end_month: int, floor: float | None) -> str | None:
    """Why trust fell in the months before ``end_month``. Trust is a belief read from what the
    other side delivers, less what one side gives beyond what it gets (docs/ODD.md, trust as a
    belief): one side giving more than it got, or else the other side's low delivery with the
    reading's noise, results and start-up friction."""
    if steps is None or steps.empty or "trust_entrant" not in steps:
        return None
    rows = steps[(steps.firm == entrant) & (steps.month < end_month)].dropna(subset=["trust_entrant"])
    rows = rows[(rows.commitment_entrant > 0) | (rows.commitment_partner > 0)]  # nothing delivered at signing
    if rows.empty:
        return None
    partner = str(rows.partner.iloc[-1])
    last = rows.tail(WINDOW)
    start = steps[(steps.firm == entrant) & (steps.partner == partner)].dropna(subset=["trust_entrant"]).iloc[0]
    if float(last.trust_entrant.iloc[-1]) <= float(last.trust_partner.iloc[-1]):
        truster, other, trust_col, own_col, other_col = (
            entrant,
            partner,
            "trust_entrant",
            "commitment_entrant",
            "commitment_partner",
        )
    else:
        truster, other, trust_col, own_col, other_col = (
            partner,
            entrant,
            "trust_partner",
            "commitment_partner",
            "commitment_entrant",
        )
    own, theirs = float(last[own_col].mean()), float(last[other_col].mean())
    months = len(last)
    imbalance = own - theirs
    seen = float(last[trust_col].iloc[-1])
    fell = f"{truster}'s trust fell from {float(start[trust_col]):.2f} to {seen:.2f}"
    below = f" (the floor is {floor:.2f})" if floor is not None else ""
    if floor is not None and seen >= floor:  # the last quarterly reading crossed it in the month the partnership ended
        below = f" by month {int(last.month.iloc[-1])}, and below the floor of {floor:.2f} at month {end_month},"
    if imbalance > 0:
        return (
            f"{fell}{below} because {truster} delivered about {own:.2f} of its promise for {months} months while "
            f"{other} delivered only {theirs:.2f}: giving more than one gets erodes trust."
        )
    return f"{fell}{below} although {other} delivered about {theirs:.2f}: poor fit or results weighed on it."


def _walk_story(steps: pd.DataFrame | None, entrant: str, partner: str, end_month: int, scenario: Any) -> str | None:
    """A partner walks away more readily the better its outside option and the lower its
    trust (docs/ODD.md, walk-away hazard): both, as they stood when it left."""
    if steps is None or steps.empty or "trust_partner" not in steps:
        return None
    rows = steps[(steps.firm == entrant) & (steps.month < end_month)].dropna(subset=["trust_partner"])
    if rows.empty:
        return None
    option = next(
        (getattr(p, "outside_option", None) for p in getattr(scenario, "partners", ()) if p.name == partner), None
    )
    has = f" and its outside option was {option:.2f}" if isinstance(option, (int, float)) else ""
    return (
        f"{partner}'s trust in {entrant} stood at {float(rows.trust_partner.iloc[-1]):.2f}{has}: the lower its "
        "trust and the better its alternatives, the likelier a partner leaves."
    )


def _incumbent_events(events: pd.DataFrame) -> pd.DataFrame:
    return events[events.kind.astype(str).str.startswith("incumbent_") & (events.kind != "incumbent_watches")]


def _contract(scenario: Any, name: str) -> float | None:
    value = getattr(getattr(scenario, "contract", None), name, None)
    return float(value) if isinstance(value, (int, float)) else None


def main_driver(
    events: pd.DataFrame | None,
    steps: pd.DataFrame | None,
    summary: pd.DataFrame | Mapping[str, Any] | None,
    scenario: Any = None,
) -> Driver:
    """The main driver of one run (see the module's docstring for the order)."""
    row, ev = _row(summary), _events(events)
    entrant = str(row.get("entrant") or (scenario.entrants[0].name if scenario is not None else ""))
    cause = str(row.get("partnership_end_cause") or "")
    if cause in FAILURES:
        ended = _first(ev, end_event(cause))
        end_month = int(ended.month) if ended is not None else int(_num(row, "months") or 0)
        why = None
        partner = str(row.get("partner") or "its partner")
        if cause == "trust_floor":
            why = _trust_story(steps, entrant, end_month, _contract(scenario, "trust_floor"))
        elif cause == "partner_walked_away":
            why = _walk_story(steps, entrant, partner, end_month, scenario)
        text = f"The partnership with {partner} ended in month {end_month}: {FAILURES[cause]}."
        return Driver(f"partnership:{cause}", text + (f" {why}" if why else ""))
    licence = _num(row, "licence_month")
    target_month = float(scenario.entrants[0].target_month) if scenario is not None else None
    refusals = ev[ev.kind.isin(LICENCE_REFUSED)]
    if licence is None and len(refusals):
        first = refusals.iloc[0]
        return Driver("licence", f"The licence never came: {first.event} (month {int(first.month)}).")
    if licence is not None and target_month and licence > target_month / 3:
        again = f" after {len(refusals)} refusal{'s' if len(refusals) > 1 else ''}" if len(refusals) else ""
        return Driver(
            "licence",
            f"The licence took {licence:.0f} months{again}, more than a third of the {target_month:.0f} months to "
            "the target, so sales started late.",
        )
    npv = _num(row, "npv")
    rules = ev[ev.kind.isin(("rule_change", "licence_suspended"))]
    if npv is not None and npv < 0 and len(rules) >= 2:
        return Driver(
            "regulation",
            f"The regulator changed the rules {len(rules)} times (compliance costs, suspensions), first in month "
            f"{int(rules.month.iloc[0])}, and the NPV ended below zero.",
        )
    inc = _incumbent_events(ev)
    if len(inc) and (not bool(row.get("objective_met", False)) or (npv is not None and npv < 0)):
        firms = ", ".join(dict.fromkeys(inc.actor.astype(str)))
        return Driver(
            "incumbents",
            f"Incumbents fought back {len(inc)} time{'s' if len(inc) > 1 else ''} ({firms}), first in month "
            f"{int(inc.month.iloc[0])}: {inc.event.iloc[0]}.",
        )
    reached = _num(row, "months_to_target")
    deadline = f" (deadline: month {target_month:.0f})" if target_month else ""
    if reached is not None:
        return Driver(
            "pace", f"Nothing held {entrant} back: it reached its target share in month {reached:.0f}{deadline}."
        )
    peak = _num(row, "share_peak")
    peak_text = f"; its share peaked at {peak:.1%}" if peak is not None else ""
    return Driver("pace", f"{entrant} grew too slowly to reach its target share{deadline}{peak_text}.")


def debrief(
    events: pd.DataFrame | None,
    steps: pd.DataFrame | None,
    summary: pd.DataFrame | Mapping[str, Any] | None,
    scenario: Any = None,
    *,
    currency: str = "",
    others: int = 4,
) -> list[str]:
    """A short narrative of one run, oldest first: how it entered, the licence, the
    partnership's turns, the incumbents' reactions (one sentence), other events (told by
    their own text, at most ``others``), then the outcome and the main driver
    (:func:`main_driver`)."""
    row, ev = _row(summary), _events(events)
    currency = currency or (getattr(scenario, "currency", "") if scenario is not None else "")
    entrant = str(row.get("entrant") or (scenario.entrants[0].name if scenario is not None else "the entrant"))
    timed: list[tuple[int, str]] = []
    mode = str(row.get("entry_mode") or "").replace("_", " ")
    if _first(ev, "partnership_formed", entrant) is None and mode:
        timed.append((0, f"{entrant} entered {'alone' if mode == 'alone' else 'by ' + mode}."))
    inc = _incumbent_events(ev)
    if len(inc):
        kinds = Counter(str(k).removeprefix("incumbent_").replace("_", " ") for k in inc.kind)
        parts = ", ".join(f"{n} {k}{'s' if n > 1 else ''}" for k, n in kinds.items())
        timed.append(
            (
                int(inc.month.iloc[0]),
                f"From month {int(inc.month.iloc[0])}: incumbents reacted {len(inc)} "
                f"time{'s' if len(inc) > 1 else ''} ({parts}).",
            )
        )
    main = ev[ev.kind.isin(TOLD) | ev.kind.astype(str).str.startswith("ended_") | ev.kind.isin(LICENCE_BAD)]
    main = main[~main.kind.isin(("target_reached", "left_market", "on_sale"))]  # told with the outcome
    suspended = main[main.kind == "licence_suspended"]
    if len(suspended) > 2:  # a long series of suspensions: the first two, then a count
        later = suspended.iloc[2:]
        main = main.drop(index=later.index)
        timed.append(
            (int(later.month.iloc[0]), f"From month {int(later.month.iloc[0])}: {len(later)} more licence suspensions.")
        )
    timed += [(int(e.month), f"Month {int(e.month)}: {e.event}.") for _, e in main.iterrows()]
    rest = ev[~ev.index.isin(main.index) & ~ev.index.isin(inc.index) & (ev.kind != "licence_suspended")]
    rest = rest[~rest.kind.isin(TOLD) & (rest.kind != "incumbent_watches")]
    timed += [(int(e.month), f"Month {int(e.month)}: {e.event}.") for _, e in rest.head(others).iterrows()]
    out = [text for _, text in sorted(timed, key=lambda t: t[0])]
    if len(rest) > others:
        out.append(f"({len(rest) - others} more events in the log.)")
    renegotiations = _num(row, "renegotiations")
    if renegotiations:
        out.append(f"The contract was renegotiated {renegotiations:.0f} time{'s' if renegotiations > 1 else ''}.")
    reached = _num(row, "months_to_target")
    if reached is not None:
        out.append(f"{entrant} reached its target share in month {reached:.0f}.")
    exit_month, exit_cause = _num(row, "exit_month"), str(row.get("exit_cause") or "")
    if exit_month is not None:
        out.append(f"Month {exit_month:.0f}: {entrant} {exit_cause or 'left the market'}.")
    npv = _num(row, "npv")
    if npv is not None:
        held = " including the value of the business still held" if row.get("in_market_end") else ""
        out.append(f"NPV {npv:+.1f} m {currency}{held}.".replace(" .", ".").replace("-", "−"))
    out.append("Main driver: " + main_driver(events, steps, summary, scenario).text)
    return out


def class_debrief(
    summary: pd.DataFrame, events: pd.DataFrame, steps: pd.DataFrame | None, scenario: Any = None
) -> list[str]:
    """Across the runs of a lesson (frames with ``run_id``): how often each main driver
    led, the commonest one told by its typical run (the one with the median NPV)."""
    drivers: dict[Any, Driver] = {}
    for _, row in summary.iterrows():
        rid = row.run_id
        ev = events[events.run_id == rid] if "run_id" in events else events
        st = steps[steps.run_id == rid] if steps is not None and "run_id" in steps else steps
        drivers[rid] = main_driver(ev, st, row, scenario)
    counts = Counter(d.key for d in drivers.values())
    if not counts:
        return []
    n = len(drivers)
    key, top = counts.most_common(1)[0]
    lo, hi = report.wilson(top, n)
    runs = summary[summary.run_id.isin([r for r, d in drivers.items() if d.key == key])]
    typical = runs.iloc[(runs.npv - runs.npv.median()).abs().argsort().iloc[0]]
    out = [
        f"The main driver in {top} of {n} runs ({top / n:.0%}, 95 % interval {lo:.0%}-{hi:.0%}) was "
        f"{DRIVER_WORDS.get(key, key)}. In a typical such run: {drivers[typical.run_id].text}"
    ]
    others = [f"{DRIVER_WORDS.get(k, k)} in {c}" for k, c in counts.most_common() if k != key]
    if others:
        out.append("Other runs turned on " + ", ".join(others) + ".")
    return out


def prediction_sentence(question: str, guess: str, typical: str, share: float, n: int) -> str:
    """The class's prediction against the distribution of the runs, in one sentence."""
    agree = round(share * n)
    lo, hi = report.wilson(agree, n)
    if guess == typical:
        return (
            f"{question} You said {guess!r}, as in most runs: {agree} of {n} ({share:.0%}, 95 % interval "
            f"{lo:.0%}-{hi:.0%})."
        )
    return (
        f"{question} You said {guess!r}: {agree} of {n} runs ({share:.0%}, 95 % interval {lo:.0%}-{hi:.0%}) "
        f"agree; most runs say {typical!r}."
    )
