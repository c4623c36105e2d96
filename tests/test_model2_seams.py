"""Model 2 as one model: where decisions by value (entry appraisal, partnership endings)
meet competition (incumbents' best response, a partner's own brand)."""

import abm
from abm import entry
from abm.model import MarketEntryModel

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
