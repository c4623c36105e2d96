"""Competition: incumbents' quarterly best response, category expansion, a partner's own
brand, and the fragmented and concentrated markets of seed 000."""

import numpy as np
import pytest

import abm
from abm.model import MarketEntryModel
from abm.rules import competition as comp
from abm.scenario import ScenarioError

# ---- the rule alone ------------------------------------------------------------------------

PRICE, COST, MARKETING = np.array([24.0, 22.0]), np.array([14.0, 13.0]), np.array([0.2, 0.2])
SHARE, INSIDE, BUYERS = np.array([0.41, 0.27]), 0.68, 780_000.0
BOTH = [True, True]


def calibrated(lam=1.0, capacity=1.5):
    return comp.calibrate(PRICE, COST, MARKETING, SHARE, INSIDE, BUYERS, lam, [capacity, capacity])


@pytest.mark.parametrize("lam", [1.0, 0.6])
def test_the_status_quo_is_the_best_response_where_it_was_read(lam):
    d = calibrated(lam)
    p, m = comp.best_response(d, SHARE, INSIDE, PRICE, MARKETING, BOTH, BOTH)
    np.testing.assert_allclose(p, PRICE, rtol=1e-8)
    np.testing.assert_allclose(m, MARKETING, rtol=1e-8)
    assert comp.revision_value(d, SHARE, INSIDE, PRICE, MARKETING, p, m) == pytest.approx([0, 0], abs=1e-9)


@pytest.mark.parametrize("lam", [1.0, 0.6])
def test_the_best_response_maximises_perceived_profit(lam):
    d = calibrated(lam)
    share, inside = np.array([0.31, 0.2]), 0.74
    p, m = comp.best_response(d, share, inside, PRICE, MARKETING, BOTH, BOTH)
    best = comp.monthly_profit(d, p, m, share, inside, PRICE, MARKETING)
    for dp, dm in ((0.3, 0), (-0.3, 0), (0, 0.01), (0, -0.01), (0.2, 0.01)):
        other = comp.monthly_profit(d, p + dp, m + dm, share, inside, PRICE, MARKETING)
        assert np.all(other < best)


def test_losing_share_lowers_the_best_price_and_marketing():
    """Residual demand grows more elastic as the firm's share falls (lower markup), and the
    Dorfman-Steiner marketing budget shrinks with sales."""
    d = calibrated()
    p, m = comp.best_response(d, SHARE - 0.08, INSIDE + 0.05, PRICE, MARKETING, BOTH, BOTH)
    assert np.all(p < PRICE) and np.all(m < MARKETING)
    bigger_loss_p, _ = comp.best_response(d, SHARE - 0.12, INSIDE + 0.07, PRICE, MARKETING, BOTH, BOTH)
    assert np.all(bigger_loss_p < p)
    assert np.all(p > COST)


def test_an_unused_instrument_stays_where_it_is():
    d = calibrated()
    p, m = comp.best_response(d, SHARE - 0.08, INSIDE, PRICE, MARKETING, [True, False], [False, True])
    assert p[1] == PRICE[1] and m[0] == MARKETING[0]
    assert p[0] < PRICE[0] and m[1] < MARKETING[1]


def test_capacity_caps_what_a_firm_plans_to_sell():
    """A firm whose rivals fell away would cut its price to sell more, but not beyond capacity."""
    share, inside = SHARE + 0.1, INSIDE + 0.1
    free = comp.best_response(calibrated(capacity=100), share, inside, PRICE, MARKETING, BOTH, BOTH)
    d = calibrated(capacity=1.05)
    p, m = comp.best_response(d, share, inside, PRICE, MARKETING, BOTH, BOTH)
    s, _ = comp.shifted_shares(comp._shift(d, p, m, PRICE, MARKETING), share, inside, 1.0)
    assert np.all(s <= d.max_share + 1e-9)
    assert np.all(p > free[0])


def test_a_reaction_is_a_move_of_more_than_one_percent():
    assert comp.is_reaction(24.0, 0.2, 23.5, 0.2)
    assert comp.is_reaction(24.0, 0.2, 24.0, 0.19)
    assert not comp.is_reaction(24.0, 0.2, 23.9, 0.199)


# ---- the model -----------------------------------------------------------------------------


def reactions(scenario=None, seeds=range(6), **kw):
    """Reactions of every incumbent in each run (seed-major)."""
    out = []
    for s in seeds:
        m = MarketEntryModel(scenario, seed=s, **kw).run()
        out.append([i.reactions for i in m.incumbents])
        m.release()
    return np.array(out)


def test_fault_incumbents_move_more_than_once_and_not_all_react_by_default():
    """The fault: incumbents made at most one permanent move each, and nearly all reacted."""
    default = reactions()
    assert (default == 0).any() and (default >= 1).any()  # some react, not all
    assert np.mean(default <= 1) >= 0.5  # Robinson (1988): most react little or once
    # with cheaper changes and a strong entrant, incumbents revise again as it keeps growing
    again = reactions(**{"entrants.quality": 1.2, "incumbents.adjustment_cost": 0.02})
    assert np.mean(again >= 2) >= 0.5


def test_reactions_depend_on_the_entrants_threat():
    weak = reactions(**{"entrants.quality": 0.5})
    strong = reactions(**{"entrants.quality": 1.2})
    assert strong.sum() > weak.sum() + 4
    assert np.mean(strong >= 1) > np.mean(weak >= 1)


def test_no_threat_no_reaction_and_a_passive_incumbent_never_moves():
    # an alliance needs a local entity here: the licence is refused and the entrant never sells
    quiet = reactions(seeds=range(3), **{"regulators.requires_local_entity": True})
    assert quiet.sum() == 0
    passive = reactions(seeds=range(3), incumbent_reaction="none", **{"entrants.quality": 1.2})
    assert passive.sum() == 0


def test_a_revision_is_logged_priced_and_counted():
    r = abm.simulate("strong-incumbents", seed=1)
    moves = r.events[r.events.kind.str.startswith("incumbent_")]
    assert len(moves) == r.outcomes()["incumbent_reactions"] > 0
    leader = r.steps[r.steps.firm == "Market Leader"]
    assert leader.price.nunique() > 1  # the leader revises only its price ...
    assert (r.steps[r.steps.firm == "Challenger"].price == 24.0).all()  # ... the challenger only marketing


def share_from_non_buyers(lam, seeds=range(3), month=48):
    """Share of the entrant's customers who would otherwise buy nothing (no-purchase share
    without the entrant, its licence refused, minus with it, over its share), relative to
    the non-buyers' share of the market (1: in proportion, as the multinomial logit has it)."""
    out = []
    # a partner without outside pulls, and only runs whose entrant still sells at the month:
    # partnerships end by value in Model 2, and an ended one has no sales to trace
    kw = {
        "market.category_expansion": lam,
        "incumbent_reaction": "none",
        "consumers": 3000,
        "partners[0].outside_option": 0.0,
    }
    for s in seeds:
        with_it = abm.simulate(seed=s, steps=month, **kw)
        if with_it.outcomes()["share_final"] <= 0:
            continue
        without = abm.simulate(seed=s, steps=month, **{**kw, "regulators.requires_local_entity": True})
        np_with = 1.0 - with_it.steps[with_it.steps.month == month].market_share.sum()
        np_without = 1.0 - without.steps[without.steps.month == month].market_share.sum()
        out.append((np_without - np_with) / with_it.outcomes()["share_final"] / np_without)
    assert len(out) >= 2, "too few runs with the entrant still selling"
    return float(np.mean(out))


def test_more_category_expansion_takes_more_of_the_entrants_sales_from_non_buyers():
    low, high = share_from_non_buyers(0.3), share_from_non_buyers(1.0)
    assert high > low + 0.1


# ---- a partner's own brand -------------------------------------------------------------------


def test_a_partner_can_sell_its_own_brand_from_month_zero():
    m = MarketEntryModel(seed=0, consumers=3000, **{"partners[0].brand_share": 0.12})
    own = m.partners[0].own_brand
    assert own is not None and own.name == "Beta Tech brand" and own in m.incumbents
    assert own.on_sale and own.market_share == pytest.approx(0.12, abs=0.01)
    m.run(24)
    assert own.market_share > 0.05
    plain = MarketEntryModel(seed=0, consumers=3000)
    assert plain.partners[0].own_brand is None and len(plain.firms) == len(m.firms) - 1


def test_a_partners_own_brand_competes_with_the_entrants():
    def entrant_share(brand_share):
        return np.mean(
            [
                abm.simulate(seed=s, steps=48, consumers=3000, **{"partners[0].brand_share": brand_share}).outcomes()[
                    "share_final"
                ]
                for s in range(3)
            ]
        )

    assert entrant_share(0.15) < entrant_share(0.0) - 0.01


def test_bad_brand_and_competition_settings_are_refused_clearly():
    with pytest.raises(ScenarioError, match=r"partners\[0\].brand_unit_cost.*below brand_price"):
        abm.load_scenario("alpha-beta").with_overrides(
            {"partners[0].brand_share": 0.1, "partners[0].brand_unit_cost": 30.0}
        )
    with pytest.raises(ScenarioError, match="at most 1"):
        abm.load_scenario("alpha-beta").with_overrides({"partners[0].brand_share": 0.5})
    with pytest.raises(ScenarioError, match=r"incumbents\[0\].unit_cost.*below its price"):
        abm.load_scenario("alpha-beta").with_overrides({"incumbents[0].unit_cost": 30.0})
    with pytest.raises(ScenarioError, match="category_expansion"):
        abm.load_scenario("alpha-beta").with_overrides({"market.category_expansion": 0.0})


# ---- fragmented and concentrated markets (seed 000) ------------------------------------------


def test_a_fragmented_market_is_leapfrogged_and_a_concentrated_one_is_not():
    """Seed 000: an alliance with an influential player leapfrogs smaller competitors in a
    fragmented market; a few giant incumbents are not dethroned."""

    def leads(preset):
        out = []
        for s in range(4):
            r = abm.simulate(preset, seed=s, steps=60)
            last = r.steps[r.steps.month == 60]
            entrant = float(last[last.role == "entrant"].market_share.iloc[0])
            rivals = last[last.firm.isin([i.name for i in r.scenario.incumbents])]  # not the ally's brand
            out.append(entrant > rivals.market_share.max())
        return np.mean(out)

    assert leads("fragmented-market") >= 0.75
    assert leads("concentrated-market") <= 0.25


def test_giants_react_and_small_incumbents_hardly_do():
    giants = reactions("concentrated-market", seeds=range(4))
    small = reactions("fragmented-market", seeds=range(4))
    assert giants.mean() > small.mean()


def test_competition_is_deterministic():
    a = abm.simulate("fragmented-market", seed=5, steps=36)
    b = abm.simulate("fragmented-market", seed=5, steps=36)
    assert a.steps.equals(b.steps) and a.events.equals(b.events)
