"""Decision policies: one interface for every decision; an outside caller can take them."""

import itertools
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import abm
from abm import policies
from abm.errors import InputError
from abm.model import MarketEntryModel
from abm.scenario import ScenarioError
from abm.simulation import collect

SMALL = {"consumers": 1200, "months": 60}


def drive(model, pick):
    """Run an external-policy model to its end, answering each decision with ``pick``."""
    seen = []
    while (decision := model.run_until_decision()) is not None:
        seen.append(decision)
        model.decide(pick(decision))
    return seen


def by_value(decision):
    return max(decision.options, key=lambda o: o.value).name


def test_every_decision_goes_through_the_policy_with_valued_options():
    m = MarketEntryModel(seed=3, **SMALL)
    m.run()
    kinds = {d.decision.kind for d in m.decisions}
    assert kinds and kinds <= set(policies.KINDS)
    for rec in m.decisions:
        d = rec.decision
        assert rec.choice in d.names() and rec.by == "value"
        assert rec.choice == by_value(d)  # the default policy takes the highest value
        assert all(o.spread >= 0 for o in d.options)
    m.release()


def test_an_outside_caller_takes_the_decisions_and_gets_the_same_run_as_the_value_policy():
    auto = abm.simulate(seed=5, entry_mode="auto", **SMALL)
    m = MarketEntryModel(seed=5, entry_mode="auto", policy="external", **SMALL)
    seen = drive(m, by_value)
    human = collect(m)
    m.release()
    assert seen and seen[0].kind == "mode_choice" and seen[0].month == 0
    assert "stay_out" in seen[0].names()
    pd.testing.assert_frame_equal(auto.steps, human.steps)
    pd.testing.assert_frame_equal(auto.events, human.events)


def test_the_same_choices_give_the_same_run_and_other_choices_another():
    def run(pick):
        m = MarketEntryModel(seed=2, entry_mode="auto", policy="external", **SMALL)
        seen = drive(m, pick)
        out = collect(m)
        m.release()
        return seen, out

    def contrarian(d):  # the lowest-valued option each time
        return min(d.options, key=lambda o: o.value).name

    s1, a = run(contrarian)
    s2, b = run(contrarian)
    assert [d.names() for d in s1] == [d.names() for d in s2]
    pd.testing.assert_frame_equal(a.steps, b.steps)
    _, c = run(by_value)
    assert not a.steps.equals(c.steps)


def test_a_choice_not_among_the_options_is_refused_and_the_decision_stays_open():
    m = MarketEntryModel(seed=1, entry_mode="auto", policy="external", **SMALL)
    d = m.run_until_decision()
    with pytest.raises(InputError) as err:
        m.decide("fly_away")
    assert err.value.field == "choice" and "stay_out" in err.value.allowed
    assert m.run_until_decision() is d  # still pending
    m.decide("alliance")
    drive(m, by_value)
    assert m.entrants[0].initial_mode == "alliance"
    m.release()


def test_decide_without_a_pending_decision_and_stepping_an_external_run_are_errors():
    m = MarketEntryModel(seed=1, policy="external", **SMALL)
    with pytest.raises(InputError):
        m.decide("continue")
    with pytest.raises(InputError):
        MarketEntryModel(seed=1, **SMALL).run_until_decision()
    with pytest.raises(InputError, match="run_until_decision"):
        abm.simulate(seed=1, entry_mode="auto", policy="external", **SMALL)
    m.release()


def test_unknown_policy_name_is_a_clear_error():
    with pytest.raises(ScenarioError) as err:
        abm.simulate(seed=1, policy="greedy", **SMALL)
    assert err.value.field == "entrants[0].policy" and "value" in err.value.allowed
    with pytest.raises(ScenarioError) as err:
        MarketEntryModel(seed=1, **{"partners[0].policy": "valeu"})
    assert err.value.field == "partners[0].policy" and "did you mean 'value'" in err.value.allowed


def test_bargaining_power_out_of_range_is_a_clear_error():
    with pytest.raises(ScenarioError) as err:
        MarketEntryModel(seed=1, bargaining_power=1.5)
    assert err.value.field == "contract.bargaining_power" and "[0, 1]" in err.value.allowed


def test_cli_refuses_an_unknown_policy_with_exit_2_and_writes_nothing(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "abm.cli", "run", "-n", "1", "--set", "policy=greedy", "--out", str(out), "-q"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "entrants[0].policy" in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists() or not any(out.iterdir())


def test_a_registered_policy_can_be_named_by_a_scenario():
    class AlwaysEnd:
        def choose(self, decision):
            for name in ("end", "go_alone", "leave"):
                if name in decision.names():
                    return name
            return decision.options[0].name

    policies.register("always-end", AlwaysEnd())
    r = abm.simulate(seed=0, policy="always-end", **SMALL)
    kinds = set(r.events.kind)
    assert r.summary.loc[0, "partnership_status"] == "ended"
    assert {
        "ended_missed_objectives",
        "ended_by_entrant",
        "ended_trust_floor",
        "expired",
    } & kinds or "left_market" in kinds
    with pytest.raises(InputError):
        policies.register("broken", object())


def test_cautious_policy_weighs_the_spread():
    d = policies.Decision("A", "review", (policies.Option("bold", 10.0, 8.0), policies.Option("safe", 8.0, 1.0)), 24)
    assert policies.get("value").choose(d) == "bold"
    assert policies.get("cautious").choose(d) == "safe"


# ---- the partner's quarterly commitment decision ---------------------------------------------


def commitment_choices(**kwargs):
    m = MarketEntryModel(seed=1, **SMALL, **kwargs)
    m.run()
    out = [r for r in m.decisions if r.decision.kind == "commitment"]
    events = [e for e in m.events if e[2].startswith("commitment_")]
    m.release()
    return out, events


def test_the_partner_decides_its_commitment_each_quarter_by_value_from_its_payoffs():
    paid, _ = commitment_choices()
    assert paid and all(r.decision.firm == "Beta Tech" for r in paid)
    months = [r.decision.month for r in paid]
    assert all(b - a == 3 for a, b in itertools.pairwise(months))  # each quarter of the partnership
    assert all(r.choice == "hold" for r in paid)  # well paid at full effort: it keeps delivering all it promised
    # a partner whose service costs more than the partnership pays it cuts, quarter after quarter
    costly, events = commitment_choices(**{"partners.service_cost": 1.0})
    assert costly[0].choice == "cut"
    assert events and events[0][2] == "commitment_cut" and "cuts its commitment to 85%" in events[0][3]
    # so does one whose profit share leaves it little
    stingy, _ = commitment_choices(**{"partners.profit_share": 0.03})
    assert "cut" in {r.choice for r in stingy}


def test_commitment_rule_values_follow_payoff_outside_option_and_the_entrants_reading():
    from abm.rules import commitment

    assert commitment.levels(1.0) == {"hold": 1.0, "cut": 0.85}
    assert commitment.levels(0.4) == {"hold": 0.4, "raise": 0.55}
    assert set(commitment.levels(0.7)) == {"hold", "cut", "raise"}
    # delivering less than the entrant reads as less reliable, and a distrusted partnership ends sooner
    seen = commitment.trust_seen(np.array([0.5, 0.9]), 0.9, 0.0)
    assert seen[0] < seen[1] and seen[0] == pytest.approx(0.1)
    low, high = commitment.breakup_hazard(seen)
    assert low > high
    # a better outside option makes the riskier (low-effort) level worth relatively more
    flows = np.array([0.10, 0.12])  # low effort saves little
    for fallback, best in ((0.0, 1), (50.0, 0)):
        v = commitment.value(flows, 60, 0.12, np.array([low, high]), fallback)
        assert int(np.argmax(v)) == best


def test_an_outside_caller_takes_the_partners_commitment_and_the_driven_run_is_deterministic():
    def run(pick):
        m = MarketEntryModel(seed=4, **{"partners[0].policy": "external"}, **SMALL)
        seen = drive(m, pick)
        out = collect(m)
        m.release()
        return seen, out

    def shirk(d):  # the human partner cuts whenever it can, else takes the value choice
        return "cut" if d.kind == "commitment" and "cut" in d.names() else by_value(d)

    s1, a = run(shirk)
    s2, b = run(shirk)
    kinds = {d.kind for d in s1}
    assert "commitment" in kinds and all(d.firm == "Beta Tech" for d in s1)
    assert [(d.kind, d.month, d.names()) for d in s1] == [(d.kind, d.month, d.names()) for d in s2]
    pd.testing.assert_frame_equal(a.steps, b.steps)
    pd.testing.assert_frame_equal(a.events, b.events)
    assert "commitment_cut" in set(a.events.kind)
    # the same run answered by value is the default run
    _, c = run(by_value)
    pd.testing.assert_frame_equal(c.steps, abm.simulate(seed=4, **SMALL).steps)
    assert not a.steps.equals(c.steps)  # a partner that shirks changes the run
