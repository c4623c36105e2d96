"""The nested logit of abm.rules.demand, alone and as the consumer kernel draws it."""

import numpy as np
import pytest

from abm.consumers import BrandOffer, ConsumerMarket
from abm.rules import demand
from abm.scenario import Market

V = np.array([0.4, -0.2, 0.9])


def mnl(v):
    w = np.exp(v)
    return w / (1.0 + w.sum()), 1.0 / (1.0 + w.sum())


def test_nesting_parameter_one_is_the_multinomial_logit():
    p, p0 = demand.choice_probabilities(V, None, 1.0)
    q, q0 = mnl(V)
    np.testing.assert_allclose(p, q)
    assert p0 == pytest.approx(q0)


@pytest.mark.parametrize("lam", [1.0, 0.7, 0.3])
def test_probabilities_sum_to_one_and_unavailable_brands_get_none(lam):
    rng = np.random.default_rng(0)
    v = rng.normal(size=(50, 4))
    available = rng.random((50, 4)) < 0.6
    p, p0 = demand.choice_probabilities(v, available, lam)
    np.testing.assert_allclose(p.sum(axis=1) + p0, 1.0)
    assert (p[~available] == 0).all()
    assert (p0[~available.any(axis=1)] == 1.0).all()


def test_iia_holds_for_the_logit_and_breaks_in_the_nest():
    """Adding a brand leaves P(j)/P(0) unchanged with lam = 1; with lam < 1 the new brand takes
    proportionally more from the other brands than from buying nothing."""
    for lam, same in ((1.0, True), (0.5, False)):
        p, p0 = demand.choice_probabilities(V, None, lam)
        q, q0 = demand.choice_probabilities(np.append(V, 0.5), None, lam)
        before, after = p[0] / p0, q[0] / q0
        if same:
            assert after == pytest.approx(before)
        else:
            assert after < 0.95 * before


def test_new_brand_sources_follow_the_nesting_parameter():
    """In the same observed market (utilities from Berry's inversion), a new brand takes a
    larger part of its sales from non-buyers the larger lam: with lam = 1 in proportion to
    their share (IIA), below it less."""
    shares, outside = np.array([0.3, 0.2, 0.2]), 0.3
    lams = [0.2, 0.4, 0.6, 0.8, 1.0]
    from_outside = [demand.new_brand_sources(demand.mean_utilities(shares, outside, lam), 0.5, lam) for lam in lams]
    assert np.all(np.diff(from_outside) > 0)
    assert from_outside[-1] == pytest.approx(outside)  # IIA: in proportion to the outside share
    assert from_outside[0] < 0.5 * outside


@pytest.mark.parametrize("lam", [1.0, 0.5])
def test_berry_inversion_recovers_the_mean_utilities(lam):
    p, p0 = demand.choice_probabilities(V, None, lam)
    np.testing.assert_allclose(demand.mean_utilities(p, p0, lam), V, atol=1e-12)


@pytest.mark.parametrize("lam", [1.0, 0.6])
def test_own_share_slope_is_the_derivative_of_the_share(lam):
    p, p0 = demand.choice_probabilities(V, None, lam)
    h = 1e-6
    bumped, _ = demand.choice_probabilities(V + np.array([h, 0, 0]), None, lam)
    numeric = (bumped[0] - p[0]) / h / p[0]
    assert demand.own_share_slope(p[0], 1.0 - p0, lam) == pytest.approx(numeric, rel=1e-4)


def test_outside_weight_reproduces_the_nested_probabilities():
    lam = 0.4
    w = np.exp(V)
    weights = np.concatenate([[demand.outside_weight(w.sum(), lam)], w])
    p, p0 = demand.choice_probabilities(V, None, lam)
    np.testing.assert_allclose(weights / weights.sum(), np.concatenate([[p0], p]))


def kernel_frequencies(lam, switching_cost=0.0, n=40000, seed=1):
    """Every consumer alike, aware and covered: the kernel's choices are draws from one
    nested logit."""
    market = Market(
        consumers=n,
        taste_spread=0.0,
        price_sensitivity_spread=0.0,
        switching_cost=switching_cost,
        category_expansion=lam,
        no_purchase_utility=0.0,
    )
    quality = np.array([0.4, -0.2, 0.9])
    cm = ConsumerMarket(market, 3, np.random.default_rng(seed))
    cm.aware = np.ones((n, 3), dtype=bool)
    offer = BrandOffer(
        on_sale=np.ones(3, dtype=bool),
        promoting=np.ones(3, dtype=bool),
        quality=quality,
        price=np.full(3, 1e-9),
        position=np.zeros(3),
        loyalty=np.ones(3),
        marketing_pull=np.zeros(3),
        coverage=np.ones((3, market.regions_x * market.regions_y)),
    )
    customers = cm.choose(offer)
    return customers / n, demand.choice_probabilities(quality, None, lam)[0]


@pytest.mark.parametrize("lam", [1.0, 0.5, 0.2])
def test_the_consumer_kernel_draws_the_nested_logit(lam):
    observed, expected = kernel_frequencies(lam)
    sd = np.sqrt(expected * (1 - expected) / 40000)
    assert np.all(np.abs(observed - expected) < 4 * sd)


def test_the_overflow_safe_kernel_path_draws_the_same_nested_logit():
    # a switching-cost bonus above the fast range sends the kernel down its shifted path;
    # no one bought last month, so no one gets the bonus and the probabilities are unchanged
    observed, expected = kernel_frequencies(0.5, switching_cost=60.0)
    sd = np.sqrt(expected * (1 - expected) / 40000)
    assert np.all(np.abs(observed - expected) < 4 * sd)
