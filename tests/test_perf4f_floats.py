"""Rules rewritten on Python floats for speed against their numpy forms: the same bits (IEEE
arithmetic is the same on floats and float64 arrays; powers stay numpy's)."""

import numpy as np

from abm.rules import commitment, valuation
from abm.rules import trust as trust_rules


def test_the_commitment_levels_on_floats_are_the_array_form_bit_for_bit():
    rng = np.random.default_rng(11)
    for t in range(500):
        n = int(rng.integers(1, 4))
        delivered = rng.uniform(0.0, 1.2, n) if t % 5 else np.array([0.9, 1.0, 1.1])[:n]
        flows = rng.normal(0.0, 2.0, n)
        entrant, results = float(rng.uniform(0, 1)), float(rng.uniform(-1, 1)) * (t % 3 > 0)
        months, rate, fallback = int(rng.integers(1, 120)), float(rng.uniform(0.0, 0.3)), float(rng.uniform(0, 20))
        hazard = commitment.breakup_hazard(commitment.trust_seen(delivered, entrant, results))
        expected = np.ravel(commitment.value(flows, months, rate, hazard, fallback))
        got = commitment.value_of_levels(delivered.tolist(), flows.tolist(), entrant, results, months, rate, fallback)
        assert np.array_equal(expected, np.array(got)), (t, expected, got)


def test_the_quarterly_trust_update_on_floats_is_the_array_form_bit_for_bit():
    rng = np.random.default_rng(5)
    for t in range(2000):
        trust = rng.uniform(0, 1, 2)
        d_e, d_p = rng.uniform(0, 1, 2)
        results = float(rng.uniform(-1, 1))
        z = rng.standard_normal(2)
        sigma = float(trust_rules.reading_noise(0.1, rng.uniform(0, 4), rng.uniform(0, 1)))
        fr = float(trust_rules.friction(int(rng.integers(0, 30)), 0.2))
        gain, loss = 0.3, 0.9
        obs = trust_rules.observation(np.array([d_p, d_e]), np.array([d_e, d_p]), results, z, sigma, fr)
        expected = trust_rules.update(trust, obs, gain, loss)
        got = trust_rules.quarter_update(tuple(trust.tolist()), (d_e, d_p), results, z.tolist(), sigma, fr, gain, loss)
        assert np.array_equal(expected, np.array(got)), t


def test_one_ramp_value_needs_no_array_and_gives_the_same_number():
    for ramp in (1, 6.0, 17.5, 48):
        assert valuation.ramp_factor(60, ramp, 0.1) == valuation.ramp_factor(60, np.array([ramp]), 0.1)[0]
