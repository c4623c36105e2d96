"""The incumbents' review on Python floats (abm/rules/competition.py, for speed) against its
numpy form: the same bits, since IEEE arithmetic is the same on floats and float64 arrays and
exp, log and powers stay numpy's (which differ from the C library's in the last bit)."""

import math
import warnings

import numpy as np
import pytest

from abm.rules import competition


def review_inputs(rng, t):
    n = int(rng.integers(1, 5))
    lam = [1.0, 0.5, 0.87, float(rng.uniform(0.1, 1.0))][t % 4]  # 0.5: `** lam` is numpy's sqrt
    share = rng.uniform(0.01, 0.4, n)
    inside = np.full(n, min(share.sum() + rng.uniform(0.01, 0.5), 0.99))
    price = rng.uniform(5, 50, n)
    cost = price * rng.uniform(0.2, 0.9, n)
    marketing = rng.uniform(0, 1, n) * (rng.random(n) < 0.8)
    demand = competition.calibrate(price, cost, marketing, share, inside, 1e6, lam, rng.uniform(1.05, 3.0, n))
    kinds = list(rng.choice(["price", "marketing", "mixed", "none"], n))
    return demand, share * rng.uniform(0.5, 1.5, n), inside, price, marketing, kinds


def test_review_on_floats_is_the_array_form_bit_for_bit(monkeypatch):
    rng = np.random.default_rng(7)
    cases = [review_inputs(rng, t) for t in range(600)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the array form's inf and nan where shares run off
        fast = [competition.review(*case) for case in cases]
        used = sum(competition._per_firm(case[1], case[2]) is not None for case in cases)
        monkeypatch.setattr(competition, "_per_firm", lambda *values, flags=(): None)
        plain = [competition.review(*case) for case in cases]
    assert used == len(cases)
    for case, a, b in zip(cases, fast, plain, strict=True):
        for x, y in zip(a, b, strict=True):
            assert x.dtype == y.dtype and x.shape == y.shape
            assert np.array_equal(x, y, equal_nan=True), case


def test_floats_give_way_to_the_array_form_where_they_do_not_apply():
    demand, share, inside, price, marketing, _ = review_inputs(np.random.default_rng(1), 1)
    use = [True] * len(share)
    assert competition._best_response_floats(demand, share, np.ones_like(inside), price, marketing, use, use) is None
    assert competition._per_firm(np.zeros((2, 2)), 1.0) is None and competition._per_firm(1.0, 2.0) is None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        p, _ = competition.best_response(demand, share, np.ones_like(inside), price, marketing, use, use)
    assert p.shape == share.shape and not np.isfinite(p).all()  # the array form's answer, nan and all


@pytest.mark.parametrize("lam", [1.0, 0.6])
def test_capacity_binding_takes_the_array_forms_bisection(lam):
    share, inside = np.array([0.3, 0.2]), np.array([0.7, 0.7])
    price, cost, marketing = np.array([20.0, 22.0]), np.array([8.0, 9.0]), np.array([0.2, 0.3])
    demand = competition.calibrate(price, cost, marketing, share, inside, 1e6, lam, [1.01, 1.01])
    tight = competition.PerceivedDemand(demand.alpha, demand.gamma, demand.unit_cost, 1e6, lam, share * 0.5)
    use = [True, True]
    assert competition._best_response_floats(tight, share, inside, price, marketing, use, use) is None
    p, m = competition.best_response(tight, share, inside, price, marketing, use, use)
    s, _ = competition.shifted_shares(competition._shift(tight, p, m, price, marketing), share, inside, lam)
    assert all(math.isclose(a, b, rel_tol=1e-6) for a, b in zip(s, tight.max_share, strict=True))
