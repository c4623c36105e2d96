"""Pure submodels, each on its own: trust, licences, culture, finance, mode choice."""

import math

import pytest

from abm import licensing
from abm import partnership as rules
from abm.culture import DIMENSIONS, countries, dimension_variances, kogut_singh
from abm.entry_mode import appraise_modes, choose_mode
from abm.finance import split_month, terminal_value
from abm.presets import load
from abm.report import wilson
from abm.scenario import ENTRY_MODES, ScenarioError


def test_trust_builds_slowly_and_erodes_fast():
    up = rules.update_trust(0.5, 0.5, gain=0.10, loss=0.30) - 0.5
    down = 0.5 - rules.update_trust(0.5, -0.5, gain=0.10, loss=0.30)
    assert up == pytest.approx(0.025)
    assert down == pytest.approx(0.075)
    assert down == pytest.approx(3 * up)


@pytest.mark.parametrize("trust", [0.0, 0.3, 1.0])
@pytest.mark.parametrize("signal", [-1.0, -0.2, 0.0, 0.4, 1.0])
def test_trust_stays_in_unit_interval(trust, signal):
    assert 0.0 <= rules.update_trust(trust, signal, 1.0, 1.0) <= 1.0


def test_unequal_commitment_gives_a_worse_signal():
    fair = rules.trust_signal(0.8, 0.8, expected=0.75, fit=0.6, results=0.0)
    coasting_partner = rules.trust_signal(0.4, 0.9, expected=0.75, fit=0.6, results=0.0)
    assert coasting_partner < 0 < fair


def test_learning_race_needs_threshold_and_a_lead():
    assert rules.defection_hazard(0.5, 0.2, ambition=1.0, threshold=0.6) == 0.0
    assert rules.defection_hazard(0.7, 0.8, ambition=1.0, threshold=0.6) == 0.0
    assert rules.defection_hazard(0.7, 0.5, ambition=1.0, threshold=0.6) > 0.0
    assert rules.defection_hazard(0.7, 0.5, ambition=0.0, threshold=0.6) == 0.0


def test_protected_know_how_does_not_leak():
    assert rules.know_how_gain(0.2, 0.05, 0.9, protection=1.0, entrant_delivered=1.0) == 0.0
    assert rules.know_how_gain(0.2, 0.05, 0.9, protection=0.0, entrant_delivered=1.0) > 0.0


@pytest.mark.parametrize(
    ("profit", "share", "trust", "k_p", "k_e", "cash", "route"),
    [
        (-1.0, 0.30, 0.9, 0.1, 0.9, 100, "liquidation"),
        (5.0, 0.20, 0.9, 0.1, 0.9, 100, "ipo"),
        (5.0, 0.05, 0.9, 0.1, 0.9, 100, "buyout_by_entrant"),
        (5.0, 0.05, 0.9, 0.9, 0.5, 100, "buyout_by_partner"),
        (5.0, 0.05, 0.9, 0.1, 0.9, 0.0, "buyout_by_partner"),
    ],
)
def test_jv_exit_rule(profit, share, trust, k_p, k_e, cash, route):
    got, _ = rules.jv_exit_route(
        profit,
        share,
        trust,
        ipo_min_share=0.12,
        upgrade_trust=0.65,
        partner_know_how=k_p,
        entrant_learning=k_e,
        entrant_cash=cash,
        buyout_price=10.0,
    )
    assert got == route


def test_planned_jv_life_spans_three_to_ten_years():
    lives = {rules.planned_jv_life(u / 100, 36, 120) for u in range(100)}
    assert min(lives) == 36 and max(lives) == 120


def test_regulatory_ties_speed_and_ease_licences():
    slow = licensing.mean_processing_months(6, 0.4, ties=0.0, tie_speedup=0.5)
    fast = licensing.mean_processing_months(6, 0.4, ties=1.0, tie_speedup=0.5)
    assert fast == pytest.approx(slow / 2)
    assert licensing.approval_probability(0.7, 0.4, 1.0, 0.3) > licensing.approval_probability(0.7, 0.4, 0.0, 0.3)
    assert licensing.approval_probability(0.9, 0.4, 0.0, 0.3) > licensing.approval_probability(0.3, 0.4, 0.0, 0.3)


def test_local_entity_and_ownership_cap_refuse_foreign_entities():
    assert licensing.eligibility("alone", 1.0, requires_local_entity=True, foreign_ownership_cap=1.0)
    assert licensing.eligibility("alliance", 1.0, requires_local_entity=False, foreign_ownership_cap=0.49)
    assert licensing.eligibility("joint_venture", 0.49, requires_local_entity=True, foreign_ownership_cap=0.49) is None
    assert licensing.eligibility("acquisition", 1.0, requires_local_entity=True, foreign_ownership_cap=0.49)


def test_kogut_singh_by_hand_and_basic_properties():
    usa, gbr = countries()["USA"], countries()["GBR"]
    var = dimension_variances()
    by_hand = sum((gbr.scores[d] - usa.scores[d]) ** 2 / var[d] for d in DIMENSIONS) / len(DIMENSIONS)
    assert kogut_singh("USA", "GBR") == pytest.approx(by_hand)
    assert kogut_singh("usa", "Great Britain") == pytest.approx(by_hand)
    assert kogut_singh("JPN", "JPN") == 0.0
    assert kogut_singh("DEN", "JPN") > kogut_singh("USA", "GBR")


def test_kogut_singh_uses_only_dimensions_scored_for_both():
    # Albania has only the two later dimensions
    alb = countries()["ALB"]
    assert [d for d in DIMENSIONS if alb.scores[d] is not None] == ["ltowvs", "ivr"]
    assert math.isfinite(kogut_singh("USA", "ALB"))


def test_unknown_country_names_field_and_suggests():
    with pytest.raises(ScenarioError) as err:
        kogut_singh("Germny", "USA")
    assert err.value.field == "home_country"
    assert "Germany" in str(err.value)


@pytest.mark.parametrize("mode", ["alone", "alliance", "joint_venture", "acquisition"])
def test_monthly_accounts_conserve_money(mode):
    acc = split_month(mode, 5.0, 3.0, 0.7, stake=0.4, profit_share=0.3, partner_service_cost=0.1, partner_delivered=0.8)
    assert acc.entrant_cash_flow + acc.partner_take == pytest.approx(5.0 - 3.0 - 0.7)


def test_terminal_value_uses_trailing_year_and_is_never_negative():
    assert terminal_value([1.0] * 24, 6.0) == pytest.approx(72.0)
    assert terminal_value([-1.0] * 24, 6.0) == 0.0


def test_foreign_ownership_cap_rules_out_going_alone_in_mode_choice():
    s = load("regulated-local-entity")
    choice = choose_mode(appraise_modes(s, s.entrants[0], s.partners[0], 2.0))
    assert choice is not None and choice.mode == "joint_venture"
    infeasible = {a.mode for a in appraise_modes(s, s.entrants[0], s.partners[0], 2.0) if not a.feasible}
    assert {"alone", "alliance", "acquisition"} <= infeasible


def test_small_entrant_prefers_an_alliance():
    s = load("alpha-beta")
    small = s.with_overrides(capital=12.0).entrants[0]
    big = s.with_overrides(capital=300.0).entrants[0]
    small_modes = appraise_modes(s, small, s.partners[0], 3.0)
    assert choose_mode(small_modes).mode == "alliance"
    assert {a.mode for a in small_modes if a.feasible} == {"alone", "alliance"}
    assert {a.mode for a in appraise_modes(s, big, s.partners[0], 3.0) if a.feasible} == set(ENTRY_MODES)
    # unless the law requires a local entity: then even a small firm forms a JV
    strict = s.with_overrides(requires_local_entity=True, capital=12.0)
    assert choose_mode(appraise_modes(strict, strict.entrants[0], s.partners[0], 3.0)).mode == "joint_venture"


def test_joint_venture_costs_the_entrant_more_to_set_up_than_an_alliance():
    s = load("alpha-beta")
    outlays = {a.mode: a.outlay for a in appraise_modes(s, s.entrants[0], s.partners[0], 3.0)}
    assert outlays["alliance"] < outlays["joint_venture"] < outlays["alone"] < outlays["acquisition"]


def test_cultural_distance_turns_the_choice_away_from_acquisition():
    s = load("alpha-beta").with_overrides(capital=300.0)
    near = {a.mode: a.score for a in appraise_modes(s, s.entrants[0], s.partners[0], 0.2)}
    far = {a.mode: a.score for a in appraise_modes(s, s.entrants[0], s.partners[0], 6.0)}
    assert far["acquisition"] - far["joint_venture"] < near["acquisition"] - near["joint_venture"]


def test_wilson_interval_covers_the_proportion():
    lo, hi = wilson(30, 100)
    assert lo < 0.3 < hi
    assert wilson(0, 10)[0] == 0.0
