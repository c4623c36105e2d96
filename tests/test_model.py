"""The model as a whole: invariants, determinism, mechanism directions, lifecycle."""

import numpy as np
import pandas as pd
import pytest

import abm
from abm import policies
from abm.model import MarketEntryModel

SMALL = {"consumers": 1500}


def run(scenario=None, seed=0, **kw):
    return abm.simulate(scenario, seed=seed, **{**SMALL, **kw})


def mean_over_seeds(column, seeds, scenario=None, **kw):
    return float(np.nanmean([run(scenario, seed=s, **kw).outcomes()[column] for s in seeds]))


# ---- invariants ----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["alone", "alliance", "joint_venture", "acquisition"])
def test_monthly_invariants_hold(mode):
    model = MarketEntryModel(seed=3, entry_mode=mode, **SMALL)
    entrant = model.entrants[0]
    for _ in range(120):
        model.step()
        c = model.consumers
        assert c.customers.sum() + c.no_purchase == c.n
        shares = sum(f.market_share for f in model.firms) + model.no_purchase_share
        assert shares == pytest.approx(1.0)
        for p in model.partnerships:
            assert 0.0 <= p.trust_entrant <= 1.0 and 0.0 <= p.trust_partner <= 1.0
        # every unit of money is accounted for: cash = capital + all flows in and out
        assert entrant.cash == pytest.approx(entrant.capital + entrant.net_cash)
        # the month's venture result is split between entrant and partner, nothing lost
        assert entrant.revenue - entrant.variable_cost - entrant.fixed_cost == pytest.approx(
            entrant.cash_flow + entrant.partner_take
        )


def test_steps_frame_is_tidy_and_complete():
    r = run(seed=1, months=24)
    assert len(r.steps) == 25 * len(r.steps.firm.unique())
    shares = r.steps.groupby("month").market_share.sum()
    assert (shares <= 1.0 + 1e-12).all()
    assert set(r.summary.columns) >= {
        "seed",
        "npv",
        "share_y1",
        "objective_met",
        "entry_success",
        "partnership_end_cause",
        "licence_month",
        "roi",
    }
    assert r.summary.loc[0, "seed"] == 1
    assert list(r.events.columns) == ["month", "actor", "kind", "event"]


# ---- determinism ---------------------------------------------------------------------------


def test_same_seed_gives_identical_frames():
    a, b = run(seed=11), run(seed=11)
    pd.testing.assert_frame_equal(a.steps, b.steps)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    pd.testing.assert_frame_equal(a.events, b.events)


def test_different_seeds_give_different_paths():
    a, b = run(seed=1), run(seed=2)
    assert not a.steps.market_share.equals(b.steps.market_share)


def test_unseeded_run_records_its_seed_and_can_be_repeated():
    first = abm.simulate(months=12, **SMALL)
    again = abm.simulate(seed=int(first.seed), months=12, **SMALL)
    pd.testing.assert_frame_equal(first.steps, again.steps)


# ---- mechanism directions ------------------------------------------------------------------

SEEDS = range(24)


def test_partner_with_regulatory_ties_gets_licence_sooner():
    def licence_months(ties):
        # a run still unlicensed at the horizon counts as licensed then (censored, a lower bound)
        return [
            np.nan_to_num(
                run(
                    seed=s, months=36, regulatory_stringency=0.7, surprise_rate=0.0, partner_regulatory_ties=ties
                ).outcomes()["licence_month"],
                nan=36.0,
            )
            for s in SEEDS
        ]

    tied, untied = np.mean(licence_months(1.0)), np.mean(licence_months(0.0))
    assert tied < 0.7 * untied


def test_larger_cultural_distance_lowers_early_share():
    kw = {"months": 36, "entry_mode": "alone"}
    near = mean_over_seeds("share_y3", SEEDS, cultural_distance=0.3, **kw)
    far = mean_over_seeds("share_y3", SEEDS, cultural_distance=6.0, **kw)
    assert far < 0.7 * near


def test_unequal_commitment_lowers_trust():
    def trust_at_month_9(partner_commitment, seed):
        r = run(
            seed=seed,
            months=9,
            partner_commitment=partner_commitment,
            partner_outside_option=0.0,
            **scripted("patient", renegotiation="carry_on"),
        )
        e = r.steps[(r.steps.role == "entrant") & (r.steps.month == 9)]
        return float(e.trust_entrant.iloc[0])

    equal = np.mean([trust_at_month_9(0.9, s) for s in range(8)])
    unequal = np.mean([trust_at_month_9(0.4, s) for s in range(8)])
    assert unequal < equal - 0.2


def test_foreign_ownership_cap_blocks_going_alone():
    r = run(seed=2, months=24, entry_mode="alone", foreign_ownership_cap=0.49)
    assert r.steps[r.steps.role == "entrant"].market_share.max() == 0.0
    assert (r.events.kind == "licence_refused").any()
    assert r.summary.loc[0, "invested"] == 0.0  # it stays out before paying its way in
    auto = run(seed=2, months=24, entry_mode="auto", foreign_ownership_cap=0.49)
    assert auto.summary.loc[0, "entry_mode"] == "joint_venture"


def test_partner_reach_brings_first_sales_forward():
    alone = mean_over_seeds("share_y1", SEEDS, entry_mode="alone", months=12)
    allied = mean_over_seeds("share_y1", SEEDS, entry_mode="alliance", months=12)
    assert allied > alone + 0.01


# ---- lifecycle: every transition is reachable -----------------------------------------------


def end_causes(scenario=None, seeds=range(6), **kw):
    out = []
    for s in seeds:
        r = run(scenario, seed=s, **kw)
        out += list(r.partnerships.end_cause) + list(r.partnerships.exit_route)
        out += list(r.events.kind)
    return set(out)


class Scripted:
    """A test policy: the named option for each decision kind when it is offered, else by value."""

    def __init__(self, **choices):
        self.choices = choices

    def choose(self, decision):
        want = self.choices.get(decision.kind)
        if want in decision.names():
            return want
        return max(decision.options, key=lambda o: o.value).name


def scripted(name, **choices):
    policies.register(name, Scripted(**choices))
    return {"policy": name}


def test_trust_floor_puts_a_partnership_in_trouble_and_it_can_end():
    kinds = end_causes("unequal-commitment", months=48)
    assert "trust_floor" in kinds or "missed_objectives" in kinds
    assert {"renegotiation", "ended_trust_floor"} & (
        kinds | {d.decision.kind for d in _decisions("unequal-commitment")}
    )


def _decisions(scenario, seed=0, **kw):
    m = MarketEntryModel(scenario, seed=seed, **{**SMALL, **kw})
    try:
        m.run(48)
        return m.decisions
    finally:
        m.release()


def test_missed_objectives_put_the_alliance_in_trouble():
    kinds = end_causes(months=30, target_share=0.6, trust_floor=0.0, **scripted("ender", renegotiation="end"))
    assert "missed_objectives" in kinds


def test_renegotiation_happens_and_can_fail():
    kinds = end_causes(
        "unequal-commitment", seeds=range(8), months=48, **scripted("talker", renegotiation="renegotiate")
    )
    assert "renegotiated" in kinds and "renegotiation_failed" in kinds


def test_alliance_expires_at_the_end_of_its_term():
    kinds = end_causes(
        months=40,
        **{"contract.alliance_term_months": 30, "contract.review_month": 100},
        **scripted("expirer", continue_or_end="go_alone", renegotiation="carry_on"),
    )
    assert "expired" in kinds and "goes_alone" in kinds


def test_alliance_renewed_at_the_end_of_its_term_when_worth_it():
    kinds = end_causes(months=40, **{"contract.alliance_term_months": 30, "contract.review_month": 100})
    assert "alliance_renewed" in kinds


def test_alliance_upgrades_to_joint_venture_at_the_review():
    # deepening pays where the entrant doubts the partner's delivery more than equity would let
    # it (trust and equity as substitutes, ODD §7.20): some default runs, not every one
    kinds = [end_causes(seeds=[s], months=40) for s in range(10)]
    assert 1 <= sum("upgraded_to_jv" in k for k in kinds) <= 8


def test_partner_walks_away_when_priorities_shift():
    kinds = end_causes(months=48, partner_outside_option=1.0, **{"partners[0].opportunity_value": 200.0})
    assert "partner_walked_away" in kinds and "outside_opportunity" in kinds


def test_learning_race_turns_the_partner_into_a_rival():
    kinds = end_causes("ip-leakage", months=96)
    assert "partner_defected" in kinds and "rival_launched" in kinds


JV = {
    "entry_mode": "joint_venture",
    "months": 70,
    "trust_floor": 0.0,
    "partner_outside_option": 0.0,
    "contract.jv_life_min": 48,
    "contract.jv_life_max": 48,
}


def test_losing_joint_venture_is_liquidated():
    assert "liquidation" in end_causes(**JV, **{"entrants[0].quality": -3.0})


def test_large_mature_profitable_joint_venture_can_float_in_an_ipo():
    kw = {"contract.ipo_min_share": 0.02, "contract.ipo_min_age": 12, **scripted("floater", jv_end="ipo")}
    assert "ipo" in end_causes(**JV, **kw)


def test_ipo_is_never_offered_to_a_small_venture():
    for s in range(3):
        m = MarketEntryModel(
            seed=s, **SMALL, **{k: v for k, v in JV.items() if k != "months"}, **{"contract.ipo_min_share": 1.0}
        )
        m.run(70)
        offered = [d.decision.names() for d in m.decisions if d.decision.kind == "jv_end"]
        assert offered and all("ipo" not in names for names in offered)
        m.release()


BUYER = {  # a partner that learned nothing and brings little; an entrant that can reach the market itself
    "partners[0].absorptive_capacity": 0.0,
    "partners[0].consumer_knowledge": 0.0,
    "entrants[0].own_reach": 1.0,
    "entrants[0].build_months": 6,
    "contract.alliance_setup_saving": 0.0,
}


def test_entrant_buys_out_its_partner_when_it_values_the_venture_more():
    kinds = end_causes(**JV, **BUYER, **scripted("buyer", jv_end="buyout"))
    assert "buyout_by_entrant" in kinds


def test_partner_buys_out_the_entrant_under_an_ownership_cap():
    kinds = end_causes(**JV, foreign_ownership_cap=0.49, **scripted("seller", jv_end="buyout"))
    assert "buyout_by_partner" in kinds and "buyout_by_entrant" not in kinds


def test_after_a_breakup_the_entrant_goes_alone_or_leaves():
    kinds = end_causes("unequal-commitment", seeds=range(10), months=60)
    assert "goes_alone" in kinds or "left_market" in kinds
    # (partners that never concede to keep an entrant about to end the alliance: more break-ups)
    kw = {"partners[0].policy": "no-concessions", "months": 60}
    policies.register("no-concessions", Scripted(concession="let_go"))
    stay = end_causes("unequal-commitment", seeds=range(3), **kw, **{"entrants[0].after_breakup": "stay"})
    assert "goes_alone" in stay
    leave = end_causes("unequal-commitment", seeds=range(3), **kw, **{"entrants[0].after_breakup": "leave"})
    assert "left_market" in leave and "goes_alone" not in leave


def test_acquisition_integration_can_fail_in_a_distant_culture():
    kinds = end_causes(
        entry_mode="acquisition", cultural_distance=5.0, months=24, **{"contract.integration_risk": 0.05}
    )
    assert "integration_failed" in kinds


def test_regulatory_surprises_happen():
    kinds = end_causes("regulatory-surprise", seeds=range(3), months=60)
    assert {"rule_change", "licence_suspended"} & kinds


def test_incumbents_price_moves_in_the_log_are_the_prices_they_charge():
    """Each logged price cut or rise is a move of the price in the steps frame, that way
    (the quarterly best response itself: tests/test_competition.py)."""
    seen = 0
    for s in range(4):
        r = run("strong-incumbents", seed=s, months=60)
        moves = r.events[r.events.kind.isin(["incumbent_price_cut", "incumbent_price_rise"])]
        for month, actor, kind in zip(moves.month, moves.actor, moves.kind, strict=True):
            path = r.steps[r.steps.firm == actor].set_index("month").price
            change = path[month] - path[month - 1]
            assert change < 0 if kind == "incumbent_price_cut" else change > 0
            seen += 1
    assert seen > 0


def test_two_entrants_do_not_share_a_partner():
    r = run("two-entrants", seed=4, months=12)
    partners = r.entrants.partner[r.entrants.partner != ""]
    assert partners.is_unique and len(partners) == 2


def test_a_taken_partner_is_reported():
    r = run("two-entrants", seed=0, months=6, **{"entrants.preferred_partner": "Beta Tech"})
    assert (r.events.kind == "partner_taken").any()


# ---- faults of the first model, each guarded ---------------------------------------------------


def _model(seed=0, **kw):
    return MarketEntryModel(seed=seed, **{**SMALL, **kw})


def test_a_liquidated_joint_venture_does_not_run_on_as_the_entrants_business():
    for s in range(6):
        m = _model(s, **{k: v for k, v in JV.items() if k != "months"}, **{"entrants[0].quality": -3.0})
        e = m.entrants[0]
        invested = None
        for _ in range(70):
            m.step()
            p = m.partnerships[0]
            if p.exit_route == "liquidation" and invested is None:
                invested = e.invested
                assert e.customers == 0 and m.consumers.aware[:, e.brand].sum() == 0
                assert e.adaptation == 0.0 and e.build_progress == 0.0
                assert not e.in_market or e.licence_month is None  # its own licence must be applied for
        m.release()
        if invested is not None:
            return
    pytest.fail("no liquidation in six runs")


def _first_model(kw, months, found, seeds=range(6)):
    """The first run (over ``seeds``) after ``months`` months for which ``found(model)`` holds."""
    for s in seeds:
        m = _model(s, **kw)
        m.run(months)
        if found(m):
            return m
        m.release()
    pytest.fail("no run shows the case")


def test_liquidating_an_upgraded_alliance_keeps_the_licence_held_in_the_entrants_name():
    kw = {
        "contract.upgrade_trust": 0.0,
        "contract.jv_life_min": 12,
        "contract.jv_life_max": 12,
        "partner_outside_option": 0.0,
        **scripted("deepen-then-close", review="deepen", jv_end="liquidate", continue_or_end="go_alone"),
    }

    def found(m):
        p = m.partnerships[0]
        return p.upgraded and p.exit_route == "liquidation" and m.entrants[0].in_market

    m = _first_model(kw, 48, found)
    p, e = m.partnerships[0], m.entrants[0]
    assert e.licensed and e.licence_month is not None
    assert not [ev for ev in m.events if ev[2] == "licence_approved" and ev[0] > p.end_month]
    m.release()


def test_an_entrant_buyout_does_not_keep_the_partners_network():
    kw = {**{k: v for k, v in JV.items() if k != "months"}, **BUYER, **scripted("buyer2", jv_end="buyout")}
    m = _first_model(kw, 60, lambda m: m.partnerships[0].exit_route == "buyout_by_entrant")
    e = m.entrants[0]
    m.step()
    assert np.allclose(e.coverage, e.own_coverage())  # no trace of the partner's network
    paid = [ev for ev in m.events if ev[2] == "jv_buyout"]
    assert paid and "channels leave" in paid[0][3]
    m.release()


def test_breaking_up_costs_the_set_up_saving_and_time_and_some_learning():
    # the entrant ends the alliance at the review and turns down the partner's concession
    kw = {
        "contract.review_month": 12,
        **scripted("splitter", review="end", continue_or_end="go_alone", renegotiation="end"),
    }
    m = _model(1, **kw)
    e = m.entrants[0]
    m.run(11)
    before_invested, before_adapt, progress = e.invested, e.adaptation, e.build_progress
    m.step()  # month 12: the review ends the alliance and the entrant goes alone
    assert e.partnership is None and e.mode == "alone"
    c = m.scenario.contract
    assert e.invested - before_invested == pytest.approx(c.alliance_setup_saving * e.config.setup_cost)
    assert e.adaptation < before_adapt + e.config.learning_rate  # part of what the partner taught is gone
    m.step()
    assert e.build_progress - progress < 3.0 / e.config.build_months  # full pace, not double
    m.release()


def test_running_out_of_cash_is_not_logged_as_a_stake_sale():
    kw = {"entry_mode": "joint_venture", "capital": 6.2, "entrants[0].quality": -2.0, "partner_outside_option": 0.0}
    for s in range(4):
        r = run(seed=s, months=60, **kw)
        if r.summary.loc[0, "exit_cause"] == "ran out of capital":
            assert not r.events.event.str.contains("sold its JV stake").any()
            return
    pytest.fail("the entrant never ran out of capital")


def test_partnership_rules_keep_no_duplicate_discounting():
    from abm import partnership

    assert not hasattr(partnership, "monthly_rate") and not hasattr(partnership, "discount")


# ---- mechanism directions of the partnership ----------------------------------------------------


def test_a_better_outside_option_makes_the_partner_walk_away_more():
    def walks(option):  # the partner leaves, or is kept only by matching its offer (a renegotiation)
        n = 0
        for s in range(12):
            r = run(seed=s, months=48, partner_outside_option=option, **{"partners[0].opportunity_value": 30.0})
            n += r.summary.loc[0, "partnership_end_cause"] == "partner_walked_away" or "renegotiated" in set(
                r.events.kind
            )
        return n

    assert walks(1.0) > walks(0.05) + 2


def test_renegotiating_in_trouble_keeps_partnerships_alive_longer():
    class NoTalks:
        def choose(self, d):
            opts = [o for o in d.options if o.name not in ("renegotiate", "pivot")]
            return max(opts, key=lambda o: o.value).name

    policies.register("no-talks", NoTalks())
    scripted("talks", renegotiation="renegotiate")
    kw = {"months": 48, "partner_commitment": 0.55}

    def months(policy):
        return np.mean([run(seed=s, policy=policy, **kw).summary.loc[0, "partnership_months"] for s in range(10)])

    assert months("talks") > months("no-talks") + 3


def test_cultural_distance_raises_coordination_costs():
    def fixed(distance):
        m = _model(0, cultural_distance=distance)
        m.run(2)  # before any sale: fixed cost = operating cost + coordination
        m.release()
        return m.entrants[0].fixed_cost

    assert fixed(5.0) > fixed(0.5) > fixed(0.0) - 1e-12


def test_cultural_fit_moves_the_partnership():
    def trust(fit):
        vals = []
        for s in range(8):
            r = run(seed=s, months=24, partner_cultural_fit=fit, partner_outside_option=0.0)
            e = r.steps[r.steps.role == "entrant"]
            vals.append(np.nanmean(e.trust_entrant.to_numpy(dtype=float)))
        return np.mean(vals)

    assert trust(1.0) > trust(0.3)


def test_an_alliance_ended_at_a_review_without_trouble_is_not_logged_as_missed_objectives():
    # The entrant ends the alliance at its first review although the plan is met (its way out
    # is worth more): the cause is its own choice, and it still counts as a failure (goals drift).
    r = run(seed=1, months=30, **scripted("review-ender", review="end", concession="let_go"))
    review = r.events[r.events.kind == "review"]
    ended = r.events[r.events.kind == "ended_by_entrant"]
    assert len(ended) == 1 and review.empty
    assert "at its review" in ended.event.iloc[0]
    assert not (r.events.kind == "ended_missed_objectives").any()
    row = r.summary.iloc[0]
    assert row.partnership_end_cause == "ended_by_entrant" and bool(row.partnership_failed)


def test_closing_a_brand_makes_every_consumer_forget_that_brand_and_only_it():
    """``aware`` is (consumers, brands): closing brand b clears column b. It once cleared row b,
    consumer number b's awareness of every brand, and left the closed brand known to all."""
    m = _model(3, **{k: v for k, v in JV.items() if k != "months"})
    for _ in range(30):
        m.step()
    e = m.entrants[0]
    before = m.consumers.aware.copy()
    assert before[:, e.brand].sum() > 0
    m.close_brand(e)
    after = m.consumers.aware
    assert after[:, e.brand].sum() == 0
    others = [b for b in range(after.shape[1]) if b != e.brand]
    assert np.array_equal(after[:, others], before[:, others])
    assert np.allclose(m.consumers.awareness()[others], before[:, others].mean(axis=0))
    assert m.consumers.awareness()[e.brand] == 0.0
    m.release()
