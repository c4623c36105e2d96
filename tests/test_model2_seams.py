"""Model 2 as one model: where decisions by value (entry appraisal, partnership endings)
meet competition (incumbents' best response, a partner's own brand)."""

import pytest

import abm
from abm import entry, lifecycle, policies
from abm.model import MarketEntryModel
from abm.rules import valuation

# ---- the appraisal reads the incumbents' answer from the competition model ------------------


def _share(**overrides):
    sc = abm.load_scenario("alpha-beta").with_overrides(overrides)
    return entry.expected_share(sc, sc.entrants[0].quality - 1.2, 0.8)


def test_the_appraisal_expects_a_passive_incumbent_to_leave_more_share():
    fighting = _share()
    passive = _share(**{"incumbents[0].reaction": "none"})
    assert passive > fighting * 1.01  # the best response takes a visible part of the share


def test_the_appraisal_expects_no_answer_when_a_change_costs_more_than_it_gains():
    passive = _share(**{"incumbents[0].reaction": "none"})
    assert _share(**{"incumbents[0].adjustment_cost": 1.0}) == passive
    assert _share(**{"incumbents[0].adjustment_cost": 0.0}) < passive


def test_a_price_fight_costs_share_and_a_marketing_answer_is_a_retreat():
    """Losing share lowers the best price (more elastic residual demand) and the
    Dorfman-Steiner marketing budget: a price answer takes share from the entrant, a
    marketing-only answer (when worth its cost) cuts marketing and leaves it more."""
    passive = _share(**{"incumbents[0].reaction": "none"})
    assert _share(**{"incumbents[0].reaction": "price"}) < passive * 0.99
    cheap = {"incumbents[0].adjustment_cost": 0.0}
    assert _share(**{"incumbents[0].reaction": "marketing"}, **cheap) > passive


def test_buying_a_partner_with_its_own_brand_is_worth_the_brands_profit():
    sc = abm.load_scenario("alpha-beta")
    e, p = sc.entrants[0], sc.partners[0]
    without = entry._mode_value(sc, e, p, "acquisition")
    branded = sc.with_overrides({"partners[0].brand_share": 0.1})
    assert entry._mode_value(branded, e, branded.partners[0], "acquisition") > without
    # an alliance does not own the brand: the brand only competes with it
    assert entry._mode_value(branded, e, branded.partners[0], "alliance") < entry._mode_value(sc, e, p, "alliance")


# ---- a partner's own brand through the partnership's lifecycle -------------------------------


def test_an_acquired_partners_brand_earns_for_the_entrant():
    model = MarketEntryModel(
        seed=1, consumers=3000, **{"partners[0].brand_share": 0.1, "entrants[0].entry_mode": "acquisition"}
    )
    entrant, partner = model.entrants[0], model.partners[0]
    brand_flows = 0.0
    for _ in range(24):
        model.step()
        if entrant.in_market:
            brand_flows += partner.own_brand.cash_flow
    assert entrant.acquired is partner and partner.own_brand is not None
    receipts = entrant.net_cash + entrant.invested - sum(entrant.own_flows)
    assert brand_flows > 0
    assert abs(receipts - brand_flows) < 1e-6


def test_a_defecting_partner_with_a_brand_relaunches_it_instead_of_a_second_one():
    model = MarketEntryModel(seed=2, consumers=3000, **{"partners[0].brand_share": 0.1})
    model.step()
    entrant, partner = model.entrants[0], model.partners[0]
    brand = partner.own_brand
    before, base_before = brand.quality, brand.base_quality
    assert entrant.quality > base_before  # the copy is better than what the partner sold
    seller = partner.launch_rival_brand(1.0, entrant)
    assert seller is brand and partner.rival and not partner.on_sale
    assert brand.base_quality == entrant.quality
    assert brand.quality - before == entrant.quality - base_before  # its marketing's effect kept
    brand.improve_quality(base_before - 1.0)  # a worse copy changes nothing
    assert brand.base_quality == entrant.quality


def test_a_defecting_partner_without_a_brand_launches_one():
    model = MarketEntryModel(seed=2, consumers=3000)
    model.step()
    entrant, partner = model.entrants[0], model.partners[0]
    assert partner.launch_rival_brand(0.5, entrant) is partner and partner.on_sale
    assert partner.quality == entrant.quality * 0.5 + 0.3 * 0.5


# ---- the faults behind the mechanical stories past month 24 (issue 11, finishing) ------------


class Recorder:
    """The value policy, keeping every decision it was asked."""

    def __init__(self):
        self.seen = []

    def choose(self, decision):
        self.seen.append(decision)
        return policies.get("value").choose(decision)


def _at_review(seed=1, **kw):
    m = MarketEntryModel(seed=seed, **kw)
    m.run(23)  # the month before the review
    p = m.entrants[0].partnership
    assert p is not None and p.kind == "alliance"
    return m, p


def test_deepening_creates_no_value_by_itself():
    """Fault: the JV was valued at the forecast share from today on while the alliance it
    replaced ramped up to it, and the JV silently dropped the partner's service cost; so the
    review deepened at month 24 in most runs. Valued on the same path and costs, a JV is worth
    more than the alliance only by the equity hostage (the entrant counts on the partner's
    promise rather than its trust): where the entrant already trusts the partner as much as it
    promised, the review does not deepen."""
    m, p = _at_review(**{"contract.jv_formation_cost": 0.0})
    p.trust_entrant = p.promised_partner
    est = lifecycle.estimates(m, p)
    jv = lifecycle.estimates(m, p, "joint_venture")
    assert jv["gross_pv"] == est["gross_pv"]  # the same share path
    assert jv["fixed"] > est["fixed"]  # the JV employs the partner's service
    terms = lifecycle.jv_terms(m, p, est)
    assert terms is None or terms[0] < est["entrant_continue"]
    # a doubt about the partner is what the hostage is worth
    p.trust_entrant = 0.66
    p.trust_partner = max(p.trust_partner, 0.66)
    low = lifecycle.estimates(m, p)
    assert lifecycle.estimates(m, p, "joint_venture")["gross_pv"] > low["gross_pv"]
    m.release()


def test_the_partner_running_the_venture_alone_keeps_only_its_own_channels():
    """Fault: the partner's value of taking the JV over counted the entrant's own network too,
    so it outbid the entrant at every planned end (year-10 share 0 % for JVs)."""
    m, p = _at_review()
    entrant = m.entrants[0]
    entrant.build_progress = 0.0
    before = lifecycle.estimates(m, p)
    entrant.build_progress = 1.0
    after = lifecycle.estimates(m, p)
    assert after["entrant_continue"] > before["entrant_continue"]  # its own network adds to the venture
    assert after["partner_alone"] <= before["partner_alone"] + 1e-9  # but not to the partner alone
    m.release()


def test_a_partners_brand_losses_weigh_in_its_stay_or_leave_decision():
    """Fault: the partner's stay-or-leave choice ignored the sales its own brand loses while its
    channels carry the entrant's (more than it would lose to an entrant left alone)."""
    rec = Recorder()
    policies.register("m3-recorder", rec)
    kw = {
        "partners[0].brand_share": 0.1,
        "partners[0].policy": "m3-recorder",
        "entrants[0].own_reach": 0.1,  # alone, the entrant would reach few of the brand's buyers
        "consumers": 4000,
    }
    m = MarketEntryModel(seed=3, **kw)
    m.run(9)
    p = m.entrants[0].partnership
    assert p is not None and m.entrants[0].market_share > 0
    est = lifecycle.estimates(m, p)
    diverted = lifecycle.brand_diversion(m, p, est["share"]) - lifecycle.brand_diversion(m, p, est["share_alone"])
    assert diverted > 0.05  # million a month
    lifecycle.partner_considers_leaving(m, p, offer=0.0)
    walk = [d for d in rec.seen if d.kind == "walk_away"][-1]
    a_p = valuation.annuity_factor(m.scenario.mode_choice.horizon_months, m.partners[0].config.cost_of_capital)
    assert walk.option("stay").value == pytest.approx(est["partner_continue"] - diverted * a_p)
    m.release()


def test_an_entrant_keeps_a_partner_about_to_leave_by_matching_its_offer_or_lets_it_go():
    m, p = _at_review()
    stay = lifecycle.estimates(m, p)["partner_continue"]
    share = p.profit_share
    assert not lifecycle.partner_considers_leaving(m, p, offer=stay + 2.0)
    assert p.active and p.renegotiations == 1 and p.profit_share > share
    kept = [e for e in m.events if e[2] == "renegotiated"]
    assert kept and "outside offer" in kept[-1][3]
    # an offer no profit share within its bound can match: the partner leaves
    assert lifecycle.partner_considers_leaving(m, p, offer=10_000.0)
    assert not p.active and p.end_cause == "partner_walked_away"
    m.release()


def test_an_acquired_brand_earns_and_is_priced_for_its_owner_only_and_is_sold_on_at_its_exit():
    kw = {"partners[0].brand_share": 0.1, "entrants[0].entry_mode": "acquisition", "consumers": 3000}
    m = MarketEntryModel(seed=1, **kw)
    entrant, partner = m.entrants[0], m.partners[0]
    brand = partner.own_brand
    m.run(12)
    assert brand.brand_owner == entrant.name
    assert brand.cash == 0.0  # its cash flow went to its owner, not also to itself
    assert brand.price == brand.config.price  # not set against its owner's own brand
    entrant.leave_market("test exit")
    assert brand.brand_owner == brand.name and partner.acquired_by is None
    assert any(e[2] == "brand_sold_on" for e in m.events)
    m.run(1)
    assert brand.cash == brand.cash_flow != 0.0  # it earns for itself again
    m.release()


def test_default_runs_tell_varied_stories_past_the_review():
    """Fault: 26 of 40 default runs deepened at month 24 and then ended in a buyout by the
    partner (year-10 share 0 % for alliance and JV); no default run renegotiated. Over 40
    default runs (the calibrated reference case: a well-chosen partner in a growing market)
    the stories now differ: some deepen, some renegotiate, some end, most go on; no
    mechanical path dominates."""
    deepened = renegotiated = ended = going_on = partner_buyouts = at_24 = 0
    for seed in range(40):
        m = MarketEntryModel(seed=seed)
        m.run()
        kinds = [e[2] for e in m.events]
        p = m.partnerships[0]
        deepened += "upgraded_to_jv" in kinds
        at_24 += any(e[2] == "upgraded_to_jv" and e[0] == 24 for e in m.events)
        renegotiated += "renegotiated" in kinds or "renegotiation_failed" in kinds
        ended += not p.active
        going_on += p.active
        partner_buyouts += p.exit_route == "buyout_by_partner"
        m.release()
    assert 4 <= deepened <= 28 and at_24 <= 20  # was 26 of 40, all at month 24
    assert renegotiated >= 2  # was none
    assert ended >= 1 and going_on >= 10
    assert partner_buyouts <= 8  # was 26 of 40


class _NeverConcedes:
    """A partner that never cuts its share to keep an entrant (otherwise by value)."""

    def choose(self, d):
        opts = [o for o in d.options if o.name != "concede"]
        return max(opts, key=lambda o: o.value).name


def test_a_partner_concedes_part_of_its_share_to_keep_an_entrant_about_to_end_the_alliance():
    """The mirror of matching an outside offer: the entrant's way out binds, so it gets exactly
    that (plus the cost of the talks) and the partner keeps the rest, when the rest beats the
    partner's own way out; a decision of each side, an event, a renegotiation."""
    m, p = _at_review()
    est = lifecycle.estimates(m, p)
    share, cost = p.profit_share, m.scenario.contract.renegotiation_cost
    way_out = est["entrant_continue"] + 3.0  # going alone would now be worth 3m more than carrying on
    assert lifecycle.partner_concedes(m, p, way_out)
    assert p.active and p.renegotiations == 1 and 0.05 <= p.profit_share < share
    after = lifecycle.estimates(m, p)
    assert after["entrant_continue"] - cost == pytest.approx(way_out, abs=0.05)  # made whole, no more
    assert after["entrant_continue"] - cost >= way_out
    kinds = [(r.decision.kind, r.choice) for r in m.decisions[-2:]]
    assert kinds == [("concession", "concede"), ("renegotiation", "renegotiate")]
    assert "about to end the alliance" in [e for e in m.events if e[2] == "renegotiated"][-1][3]
    # a way out no share above the floor can match: no concession, nothing changes
    before = p.profit_share
    assert not lifecycle.partner_concedes(m, p, way_out + 10_000.0)
    assert p.profit_share == before and p.renegotiations == 1
    m.release()


def test_a_partner_that_never_concedes_lets_the_entrant_go():
    policies.register("never-concedes", _NeverConcedes())
    m, p = _at_review(**{"partners[0].policy": "never-concedes"})
    share = p.profit_share
    assert not lifecycle.partner_concedes(m, p, lifecycle.estimates(m, p)["entrant_continue"] + 3.0)
    assert p.profit_share == share and p.renegotiations == 0
    assert (m.decisions[-1].decision.kind, m.decisions[-1].choice) == ("concession", "let_go")
    m.release()


def test_a_partners_concessions_keep_more_alliances_alive():
    """Direction, on the validation population's alliances (paired entries and seeds): with
    partners that concede to keep an entrant about to end the alliance, fewer alliances fail
    than with partners that never do."""
    from abm.partnership import failed
    from abm.seeding import run_seed
    from abm.validation.experiment import QUICK, build_base, conditions, entry_scenario

    policies.register("never-concedes", _NeverConcedes())
    cond = next(c for c in conditions(QUICK) if c.name == "alliances")
    base = build_base(None, cond)

    def failures(partner_policy):
        n = 0
        for i in range(60):
            scenario = entry_scenario(base, cond, "alliance", 2025, i)
            scenario.partners[0].policy = partner_policy
            m = MarketEntryModel(scenario, seed=run_seed(2025, i))
            m.run()
            n += any(failed(p.end_cause, p.exit_route) for p in m.partnerships)
            m.release()
        return n

    assert failures("value") + 6 <= failures("never-concedes")


# ---- what the partnership costs each side (success for both, docs/ODD.md §7.4, §7.14, §7.16) ----


def test_the_partner_pays_for_what_it_puts_into_an_alliances_set_up():
    """Fault: the resources the partner puts into an alliance's set-up (warehousing, staff: the
    seed case's 40 % saving) cost it nothing, so its NPV could hardly fall below zero. The charge
    is what it costs the partner, and only that: the run is otherwise the same."""

    def run(share):
        m = MarketEntryModel(seed=4, consumers=3000, **{"contract.partner_setup_share": share})
        m.run(6)
        out = (m.partnerships[0].partner_npv, m.entrants[0].npv, m.entrants[0].market_share)
        m.release()
        return out

    free, paid = run(0.0), run(1.0)
    sc = abm.load_scenario("alpha-beta")
    cost = sc.contract.alliance_setup_saving * sc.entrants[0].setup_cost
    assert free[0] - paid[0] == pytest.approx(cost)  # paid at month 0
    assert free[1:] == paid[1:]  # the entrant's run is untouched
    half = run(0.5)
    assert free[0] - half[0] == pytest.approx(0.5 * cost)


def _jv_at(month, seed=2, **kw):
    m = MarketEntryModel(seed=seed, consumers=3000, **{"entrants[0].entry_mode": "joint_venture", **kw})
    m.run(month)
    p = m.entrants[0].partnership
    assert p is not None and p.kind == "joint_venture"
    return m, p


def test_a_partner_walking_out_of_a_jv_pays_the_exit_cost_its_decision_counted(monkeypatch):
    """Fault: the partner's walk-away decision subtracted the equity it loses by walking out of a
    JV (``exit_cost``), but its NPV never did."""
    m, p = _jv_at(8)
    before = p.partner_npv
    monkeypatch.setattr(lifecycle, "end", lambda model, q, cause, then="": None)  # keep the settlement out
    assert lifecycle.partner_considers_leaving(m, p, offer=10_000.0)
    cost = m.scenario.contract.exit_cost * (1 - p.stake) * p.jv_equity
    assert cost > 0
    assert before - p.partner_npv == pytest.approx(cost * m.discount(m.month, m.partners[0].config.cost_of_capital))
    m.release()


def test_an_entrant_walking_out_of_a_jv_before_its_planned_life_counts_and_pays_its_exit_cost(monkeypatch):
    """Fault: ``exit_cost`` is what breaking a JV early costs a side, but only the partner's
    decisions counted it: the entrant's way out of a young JV was worth as much as at its planned
    end. Its end option is now lower by its own exit cost before the planned end, not after, and
    it pays exactly that, as a fee (not an investment), after the settlement its decision valued."""
    m, p = _jv_at(8)
    est = lifecycle.estimates(m, p)
    cost = lifecycle.entrant_exit_cost(m, p)
    assert cost == pytest.approx(m.scenario.contract.exit_cost * p.stake * p.jv_equity) and cost > 0
    m.scenario.contract.exit_cost = 0.0
    free = lifecycle._end_options(m, p, est)
    m.scenario.contract.exit_cost = 0.5
    assert free - lifecycle._end_options(m, p, est) == pytest.approx(0.5 * p.stake * p.jv_equity)
    planned, p.planned_end = p.planned_end, m.month  # at the planned life: no exit cost
    assert lifecycle.entrant_exit_cost(m, p) == 0.0
    p.planned_end = planned
    e = m.entrants[0]
    cash, npv, invested = e.cash, e.npv, e.invested
    ended = []
    monkeypatch.setattr(lifecycle, "end", lambda model, q, cause, then="": ended.append(cause))  # no settlement
    lifecycle.entrant_ends(m, p, "ended_by_entrant")
    fee = 0.5 * p.stake * p.jv_equity
    assert ended == ["ended_by_entrant"]
    assert cash - e.cash == pytest.approx(fee) and e.invested == invested
    assert npv - e.npv == pytest.approx(fee * m.discount(m.month, e.config.cost_of_capital))
    m.release()


def test_a_partner_walking_out_of_a_jv_cannot_buy_it_and_counts_what_its_stake_brings():
    """Fault (review of 2026-12-02): a partner leaving a JV for an outside opportunity went
    through the ordinary settlement, so it could buy the entrant's stake and run the venture it
    had just walked out of (seed 2, month 40: the entrant left the market), and its decision to
    leave ignored what its stake would bring. Now the entrant buys its stake or the venture is
    liquidated, and the partner's value of leaving counts those proceeds."""
    routes = []
    for seed, month in ((2, 8), (2, 40), (5, 30)):
        m, p = _jv_at(month, seed=seed)
        est = lifecycle.estimates(m, p)
        route, price = lifecycle.walkout_settlement(m, p, est)
        proceeds = lifecycle.partner_walkout_proceeds(m, p, est)
        if route == "buyout_by_entrant":
            assert proceeds == price > 0
        else:
            assert proceeds == pytest.approx((1 - p.stake) * m.scenario.contract.salvage_fraction * p.jv_equity)
        assert lifecycle.partner_considers_leaving(m, p, offer=10_000.0)
        assert p.exit_route in ("buyout_by_entrant", "liquidation") and p.exit_route == route
        routes.append(route)
        assert m.entrants[0].brand_owner != m.partners[0].name
        m.release()
    assert "buyout_by_entrant" in routes  # the seam is exercised, not only liquidations


def test_a_costlier_way_out_of_a_jv_keeps_entrants_in_their_jvs():
    """Direction, on the validation population's JVs (paired entries and seeds): when walking
    out of a JV before its planned life costs a side more of its equity, fewer entrants end
    their JV early (at a review or in trouble: the endings the entrant chooses)."""
    from abm.seeding import run_seed
    from abm.validation.experiment import QUICK, build_base, conditions, entry_scenario

    cond = next(c for c in conditions(QUICK) if c.name == "joint_ventures")

    def ended_by_the_entrant(exit_cost):
        base = build_base(None, cond, {"contract.exit_cost": exit_cost})
        n = 0
        for i in range(60):
            m = MarketEntryModel(entry_scenario(base, cond, "joint_venture", 2025, i), seed=run_seed(2025, i))
            m.run()
            n += any(q.end_cause in ("ended_by_entrant", "trust_floor", "missed_objectives") for q in m.partnerships)
            m.release()
        return n

    assert ended_by_the_entrant(1.0) + 3 <= ended_by_the_entrant(0.0)
