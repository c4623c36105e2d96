"""abm.rules.bargaining on its own: Nash bargaining over threat points, with known valuations."""

import numpy as np
import pytest

from abm.rules import bargaining


def test_nash_split_gives_threat_points_plus_power_share_of_surplus():
    e, p = bargaining.nash_split(100.0, 30.0, 20.0, beta=0.4)
    assert p == pytest.approx(20.0 + 0.4 * 50.0) and e == pytest.approx(30.0 + 0.6 * 50.0)
    e, p = bargaining.nash_split(np.array([100.0, 60.0]), 30.0, 20.0, 0.5)
    assert np.allclose(e + p, [100.0, 60.0])


def test_partner_power_grows_with_learning_and_outside_options():
    base = bargaining.partner_power(0.5, 0.1, 0.5, 0.2)
    assert bargaining.partner_power(0.5, 0.8, 0.5, 0.2) > base
    assert bargaining.partner_power(0.5, 0.1, 0.5, 0.9) > base
    assert bargaining.partner_power(0.0, 0.0, 1.0, 0.0) >= 0.05 and bargaining.partner_power(1.0, 1.0, 0.0, 1.0) <= 0.95


def test_jv_stake_is_bargained_within_the_ownership_cap():
    # the entrant's threat point is high: it would take 70 % ...
    assert bargaining.jv_stake(100.0, 60.0, 10.0, 0.5, cap=1.0) == pytest.approx(0.75)
    # ... but the cap binds
    assert bargaining.jv_stake(100.0, 60.0, 10.0, 0.5, cap=0.49) == pytest.approx(0.49)
    # a stronger partner gets more of the venture
    assert bargaining.jv_stake(100.0, 30.0, 30.0, 0.8, cap=1.0) < bargaining.jv_stake(100.0, 30.0, 30.0, 0.2, cap=1.0)


def test_profit_share_follows_the_partners_threat_point():
    low = bargaining.profit_share(100.0, 50.0, 5.0, 0.5, 0.05, 0.6)
    high = bargaining.profit_share(100.0, 50.0, 30.0, 0.5, 0.05, 0.6)
    assert low < high and low >= 0.05 and high <= 0.6


@pytest.mark.parametrize(
    ("seller_value", "buyer_value", "power", "deal", "price"),
    [
        (40.0, 60.0, 0.5, True, 0.5 * (40.0 + 0.5 * 20.0)),  # 50 % stake: reservation + half the gain
        (40.0, 60.0, 0.0, True, 0.5 * 40.0),  # a powerless seller gets its reservation only
        (40.0, 60.0, 1.0, True, 0.5 * 60.0),  # an all-powerful seller takes the buyer's value
        (60.0, 40.0, 0.5, False, 0.0),  # the buyer values it less: no deal
    ],
)
def test_buyout_price_with_known_valuations(seller_value, buyer_value, power, deal, price):
    ok, got = bargaining.buyout(0.5, seller_value, buyer_value, power)
    assert ok is deal and got == pytest.approx(price)


@pytest.mark.parametrize(
    ("value", "quo_e", "quo_p", "out_e", "out_p", "beta", "partner"),
    [
        (110.0, 60.0, 40.0, 10.0, 5.0, 0.5, 45.0),  # no way out binds: the talks' 10 split evenly
        (100.0, 40.0, 55.0, 70.0, 5.0, 0.5, 30.0),  # the entrant's way out binds: it gets exactly 70
        (100.0, 70.0, 25.0, 10.0, 40.0, 0.2, 40.0),  # the partner's way out binds: it gets exactly 40
        (100.0, 40.0, 55.0, 70.0, 35.0, 0.5, None),  # both ways out together beat carrying on: no deal
    ],
)
def test_outside_options_bound_the_split_and_are_no_threat_points(value, quo_e, quo_p, out_e, out_p, beta, partner):
    got = bargaining.outside_option_split(value, quo_e, quo_p, out_e, out_p, beta)
    assert got == (None if partner is None else pytest.approx(partner))


def test_a_partner_concedes_just_enough_to_keep_an_entrant_whose_way_out_binds():
    def entrant(phi):  # known valuation: 100 of margin, 20 of fixed costs
        return 100.0 * (1.0 - phi) - 20.0

    # at 0.30 carrying on is worth 50 to the entrant; its way out is worth 60: the share that
    # makes it whole is 0.20 (and no more), erring on the entrant's side
    share = bargaining.share_to_keep(entrant, 60.0, 0.30, 0.05)
    assert share == pytest.approx(0.20, abs=1e-4) and entrant(share) >= 60.0
    assert bargaining.share_to_keep(entrant, 40.0, 0.30, 0.05) == 0.30  # no need to concede
    assert bargaining.share_to_keep(entrant, 79.0, 0.30, 0.05) is None  # beyond the 0.05 floor


def test_the_share_paying_a_partner_its_part_is_solved_on_its_own_valuation():
    def partner(phi):  # known valuation, not linear: a going concern only while the flow is positive
        return 80.0 * phi - 4.0 + 50.0 * max(0.0, phi - 0.1)

    share = bargaining.share_giving(partner, 17.0, 0.05, 0.6)  # 80 x 0.2 - 4 + 50 x 0.1
    assert partner(share) == pytest.approx(17.0, abs=0.02) and share == pytest.approx(0.2, abs=1e-3)
    assert bargaining.share_giving(partner, -10.0, 0.05, 0.6) == 0.05
    assert bargaining.share_giving(partner, 1_000.0, 0.05, 0.6) == 0.6
