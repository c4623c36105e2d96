"""abm.rules.trust on its own: a belief that builds slowly, erodes fast and reads noisily."""

import numpy as np
import pytest

from abm.rules import trust


def test_belief_moves_towards_the_observation_faster_on_bad_news():
    up = trust.update(0.5, 0.9, gain=0.1, loss=0.3) - 0.5
    down = 0.5 - trust.update(0.5, 0.1, gain=0.1, loss=0.3)
    assert up == pytest.approx(0.04) and down == pytest.approx(0.12)
    assert down == pytest.approx(3 * up)


def test_belief_settles_at_what_the_other_side_delivers():
    t = 0.2
    for _ in range(200):
        t = trust.update(t, 0.8, 0.1, 0.3)
    assert t == pytest.approx(0.8, abs=1e-6)


def test_update_works_on_many_runs_at_once_and_stays_in_unit_interval():
    t = np.linspace(0, 1, 11)
    o = np.linspace(1, 0, 11)
    out = trust.update(t, o, 1.0, 1.0)
    assert out.shape == (11,) and ((out >= 0) & (out <= 1)).all()


def test_unequal_commitment_reads_worse():
    fair = trust.observation(0.8, 0.8, 0.0, 0.0, 0.05, 0.0)
    coasting_partner = trust.observation(0.5, 0.9, 0.0, 0.0, 0.05, 0.0)
    assert coasting_partner < fair - 0.3


def test_startup_friction_fades_within_a_year():
    assert trust.friction(0, 0.2) == pytest.approx(0.2)
    assert trust.friction(6, 0.2) == pytest.approx(0.1)
    assert trust.friction(12, 0.2) == 0.0 and trust.friction(30, 0.2) == 0.0


def test_distance_and_poor_fit_make_readings_noisier():
    assert (
        trust.reading_noise(0.05, 4.0, 0.3) > trust.reading_noise(0.05, 0.5, 0.3) > trust.reading_noise(0.05, 0.5, 0.9)
    )
    rng = np.random.default_rng(0)
    z = rng.standard_normal(20000)
    near = trust.observation(0.7, 0.7, 0.0, z, trust.reading_noise(0.05, 0.2, 0.8), 0.0)
    far = trust.observation(0.7, 0.7, 0.0, z, trust.reading_noise(0.05, 5.0, 0.2), 0.0)
    assert np.std(far) > 2 * np.std(near)


def test_repair_closes_part_of_the_gap_only():
    assert trust.repaired(0.2, 0.6, 0.5) == pytest.approx(0.4)
    assert trust.repaired(0.8, 0.6, 0.5) == pytest.approx(0.8)  # nothing to repair
