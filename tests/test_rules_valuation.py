"""abm.rules.valuation on its own: discounting and the naive share forecasts."""

import numpy as np
import pytest

from abm.finance import discount_factor
from abm.rules import valuation


def test_annuity_factor_is_the_sum_of_discount_factors():
    by_hand = sum(discount_factor(t, 0.1) for t in range(1, 61))
    assert valuation.annuity_factor(60, 0.1) == pytest.approx(by_hand)
    assert valuation.annuity_factor(24, 0.0) == pytest.approx(24.0)
    assert np.allclose(
        valuation.annuity_factor(np.array([12, 24]), 0.1),
        [valuation.annuity_factor(12, 0.1), valuation.annuity_factor(24, 0.1)],
    )


def test_ramp_factor_lies_between_nothing_and_a_level_flow():
    a = valuation.annuity_factor(60, 0.1)
    r = valuation.ramp_factor(60, 24, 0.1)
    assert 0 < r < a
    assert valuation.ramp_factor(60, 1, 0.1) == pytest.approx(a)
    assert valuation.ramp_factor(60, 48, 0.1) < r


def test_option_value_adds_a_lump_sum():
    assert valuation.option_value(1.0, 12, 0.0, lump_now=-5.0) == pytest.approx(7.0)


def test_share_forecasts():
    assert valuation.expected_share(0.05, 0.002, 1.0) == pytest.approx(0.074)
    assert valuation.expected_share(0.05, -0.01, 1.0) == 0.0
    assert valuation.settled_share(0.05, 0.25, 0.8, 1.0) == pytest.approx(0.16)
    assert valuation.settled_share(0.05, 0.0, 0.8, 1.0) == 0.0
    assert valuation.spread(-10.0, 0.2) == pytest.approx(2.0)
