"""The debrief (abm.app.debrief): what happened in a run and why, from constructed frames
(so each sentence is checked against numbers set by hand) and from one real run."""

from __future__ import annotations

import numpy as np
import pandas as pd

from abm import presets
from abm.app import debrief
from abm.simulation import simulate

SCENARIO = presets.load("alpha-beta")  # contract: trust floor 0.24, expected commitment 0.54; target month 36


def _events(*rows):
    return pd.DataFrame(list(rows), columns=["month", "actor", "kind", "event"])


def _steps(months, trust_entrant, trust_partner, delivered_entrant, delivered_partner):
    n = len(months)
    return pd.DataFrame(
        {
            "month": months,
            "firm": ["Alpha Co."] * n,
            "role": ["entrant"] * n,
            "partner": ["Beta Tech"] * n,
            "partnership": ["alliance"] * n,
            "trust_entrant": trust_entrant,
            "trust_partner": trust_partner,
            "commitment_entrant": delivered_entrant,
            "commitment_partner": delivered_partner,
        }
    )


def _summary(**values):
    row = {
        "entrant": "Alpha Co.",
        "entry_mode": "alliance",
        "partner": "Beta Tech",
        "partnership_end_cause": "active",
        "licence_month": 6,
        "months_to_target": np.nan,
        "objective_met": False,
        "share_peak": 0.05,
        "npv": 3.0,
        "in_market_end": True,
        "exit_month": np.nan,
        "exit_cause": "",
    }
    return {**row, **values}


def test_a_trust_break_up_names_both_sides_deliveries_and_the_floor():
    months = list(range(20))
    steps = _steps(
        months,
        np.linspace(0.53, 0.22, 20),  # the entrant's trust falls
        np.linspace(0.53, 0.70, 20),
        [0.0] + [0.6] * 19,
        [0.0] + [0.40] * 14 + [0.38, 0.40, 0.42, 0.40, 0.40],  # about 0.4 over the last five months
    )
    events = _events(
        (0, "Alpha Co.", "partnership_formed", "Alpha Co. forms a strategic alliance with Beta Tech"),
        (6, "Ministry of Trade", "licence_approved", "licence approved for Alpha Co. after 6 months"),
        (20, "Alpha Co.", "ended_trust_floor", "trust fell below the floor: alliance terminated"),
    )
    summary = _summary(partnership_end_cause="trust_floor", partnership_failed=True)
    driver = debrief.main_driver(events, steps, summary, SCENARIO)
    assert driver.key == "partnership:trust_floor"
    assert "ended in month 20: trust fell below the floor" in driver.text
    assert "Alpha Co.'s trust fell from 0.53 to 0.22" in driver.text
    assert (
        "Alpha Co. delivered about 0.60 of its promise for 5 months while Beta Tech delivered only 0.40" in driver.text
    )
    text = debrief.debrief(events, steps, summary, SCENARIO)
    assert text[0].startswith("Month 0: Alpha Co. forms") and text[-1] == "Main driver: " + driver.text
    assert [t for t in text if t.startswith("Month 20")] == [
        "Month 20: trust fell below the floor: alliance terminated."
    ]


def test_trust_that_fell_because_one_side_gave_more_than_it_got():
    months = list(range(12))
    steps = _steps(months, np.linspace(0.53, 0.25, 12), [0.6] * 12, [0.0] + [0.95] * 11, [0.0] + [0.57] * 11)
    events = _events((11, "Alpha Co.", "ended_trust_floor", "trust fell below the floor: alliance terminated"))
    driver = debrief.main_driver(events, steps, _summary(partnership_end_cause="trust_floor"), SCENARIO)
    assert "Alpha Co. delivered about 0.95 of its promise for 5 months while Beta Tech delivered only 0.57" in (
        driver.text
    )


def test_a_late_licence_and_incumbents_and_the_pace():
    late = debrief.main_driver(_events(), None, _summary(licence_month=22), SCENARIO)
    assert late.key == "licence" and "took 22 months" in late.text and "36 months" in late.text
    never = debrief.main_driver(
        _events((9, "Ministry of Trade", "licence_refused", "licence refused for Alpha Co.")),
        None,
        _summary(licence_month=np.nan),
        SCENARIO,
    )
    assert never.key == "licence" and "never came: licence refused for Alpha Co. (month 9)" in never.text
    fought = _events(
        (8, "Local Leader", "incumbent_price_cut", "Local Leader cuts its price by 10%"),
        (30, "Regional Rival", "incumbent_marketing_push", "Regional Rival launches a marketing push"),
    )
    inc = debrief.main_driver(fought, None, _summary(), SCENARIO)
    assert inc.key == "incumbents" and "2 times (Local Leader, Regional Rival), first in month 8" in inc.text
    won = debrief.main_driver(fought, None, _summary(months_to_target=30, objective_met=True), SCENARIO)
    assert won.key == "pace" and "month 30 (deadline: month 36)" in won.text


def test_event_kinds_it_does_not_know_read_by_their_own_text():
    events = _events(
        (0, "Alpha Co.", "partnership_formed", "Alpha Co. forms a strategic alliance with Beta Tech"),
        (14, "Alpha Co.", "renegotiated", "Alpha Co. and Beta Tech renegotiate: profit share 0.30 to 0.25"),
        (20, "Beta Tech", "outside_opportunity", "Beta Tech is offered a deal by Local Leader"),
        (21, "Beta Tech", "opportunity_declined", "Beta Tech declines Local Leader's offer"),
        (25, "Local Leader", "incumbent_price_rise", "Local Leader raises its price by 5%"),
        (26, "Local Leader", "incumbent_price_rise", "Local Leader raises its price by 5%"),
        (40, "Alpha Co.", "jv_taken_over", "Beta Tech takes over the JV"),
    )
    text = debrief.debrief(events, None, _summary(renegotiations=1), SCENARIO, others=3)
    joined = "\n".join(text)
    assert "Month 14: Alpha Co. and Beta Tech renegotiate: profit share 0.30 to 0.25." in joined
    assert "Month 20: Beta Tech is offered a deal by Local Leader." in joined
    assert "From month 25: incumbents reacted 2 times (2 price rises)." in joined
    assert "(1 more events in the log.)" in joined  # three told, the fourth counted
    assert "The contract was renegotiated 1 time." in joined
    months = [int(t.removeprefix("From ").split()[1].rstrip(":")) for t in text if t.startswith(("Month", "From"))]
    assert months == sorted(months)  # oldest first


def test_a_real_run_of_unequal_commitment_names_the_imbalance():
    scenario = presets.load("unequal-commitment")
    r = simulate(scenario, seed=1)
    text = debrief.debrief(r.events, r.steps, r.summary, scenario)
    assert text[-1].startswith("Main driver: The partnership with Beta Tech ended in month ")
    assert "trust fell below the floor" in text[-1]
    assert "giving more than one gets erodes trust" in text[-1]
    # trust is read quarterly: the last recorded reading (month 11) is above the floor, the one
    # that ended the alliance (month 12) below it, and the story says so
    assert "to 0.26 by month 11, and below the floor of 0.20 at month 12," in text[-1], text[-1]


def test_across_runs_the_commonest_driver_is_named_with_its_count():
    rows, events = [], []
    for rid in range(4):
        rows.append({**_summary(licence_month=22 if rid < 3 else 6), "run_id": rid, "npv": float(rid)})
        events.append(_events().assign(run_id=rid))
    summary = pd.DataFrame(rows)
    text = debrief.class_debrief(summary, pd.concat(events), None, SCENARIO)
    assert text[0].startswith("The main driver in 3 of 4 runs (75%")
    assert "was the licence. In a typical such run: The licence took 22 months" in text[0]
    assert text[1] == "Other runs turned on the entrant's own pace of growth in 1."
