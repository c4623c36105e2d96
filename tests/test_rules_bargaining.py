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
