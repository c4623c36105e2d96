"""The compiled consumer loops draw from the model's generator's own PCG64 state (a view on its
memory, ``consumer_kernels.pcg_words``) instead of receiving the ``np.random.Generator``: the
numbers drawn and the state left behind must be numpy's, exactly."""

import copy
import pickle

import numpy as np
import pytest

from abm import consumer_kernels as kernels
from abm.consumers import BrandOffer, ConsumerMarket
from abm.scenario import Market

pytestmark = pytest.mark.skipif(not kernels.available(), reason="numba missing or ABM_NUMBA=0")


@pytest.fixture(autouse=True)
def loaded():
    kernels.enable()


def state_with_half_word(seed: int) -> np.random.Generator:
    """A generator that holds a buffered 32-bit half-word (``has_uint32``), as the model's does
    after an odd number of float32 draws: draws of 64 bits must leave it alone."""
    rng = np.random.default_rng(seed)
    rng.random(3, dtype=np.float32)
    assert rng.bit_generator.state["has_uint32"] == 1
    return rng


def test_the_view_is_the_generators_state():
    rng = state_with_half_word(1)
    words = kernels.pcg_words(rng)
    state = rng.bit_generator.state["state"]
    assert int(words[0]) | int(words[1]) << 64 == state["state"]
    assert int(words[2]) | int(words[3]) << 64 == state["inc"]
    rng.random(5)  # numpy's own draws move what the view shows
    assert int(words[0]) | int(words[1]) << 64 == rng.bit_generator.state["state"]["state"]


def test_raw_draws_and_uniforms_are_numpys_and_leave_its_state():
    ours, theirs = state_with_half_word(7), state_with_half_word(7)
    words = kernels.pcg_words(ours)
    raw = [kernels._pcg_next(words) for _ in range(1000)]
    assert np.array_equal(np.array(raw, dtype=np.uint64), theirs.bit_generator.random_raw(1000))
    uniforms = [kernels._next_double(words) for _ in range(1000)]
    assert uniforms == theirs.random(1000).tolist()
    assert ours.bit_generator.state == theirs.bit_generator.state  # the half-word included
    assert ours.random(dtype=np.float32) == theirs.random(dtype=np.float32)  # which is then used


@pytest.mark.parametrize("lam", [0.0, 0.3, 4.0, 9.99, 10.0, 12.5, 64.0, 900.0, 2.5e5])
def test_poisson_counts_are_numpys(lam):
    """Below 10 numpy multiplies uniforms; from 10 it rejects (PTRS), with the log-gamma test."""
    ours, theirs = state_with_half_word(3), state_with_half_word(3)
    words = kernels.pcg_words(ours)
    counts = [kernels._poisson(words, lam) for _ in range(3000)]
    assert counts == theirs.poisson(lam, 3000).tolist()
    assert ours.bit_generator.state == theirs.bit_generator.state


def test_poisson_points_are_the_numpy_paths():
    ends = np.cumsum(np.random.default_rng(0).random(50) * 3.0)
    ours, theirs = state_with_half_word(5), state_with_half_word(5)
    at = kernels._points(kernels.pcg_words(ours), ends)
    hits = theirs.poisson(ends[-1])
    assert np.array_equal(at, theirs.random(hits) * ends[-1]) and len(at) == hits > 0
    assert ours.bit_generator.state == theirs.bit_generator.state


def small_market(rng: np.random.Generator, compiled: bool) -> tuple[ConsumerMarket, BrandOffer]:
    market = Market(consumers=2500, neighbourhoods=6, category_expansion=0.8, awareness_decay=0.1)
    c = ConsumerMarket(market, 3, rng)
    c.compiled = compiled and c.compiled
    coverage = np.full((3, c.n_regions), 0.8)
    c.seed_brand(0, 0.3, 0.9, coverage[0])
    c.seed_awareness(1, 0.2, coverage[1])
    offer = BrandOffer(
        on_sale=np.array([True, False, True]),
        promoting=np.array([True, False, True]),
        quality=np.array([0.4, 0.5, 0.3]),
        price=np.array([20.0, 22.0, 19.0]),
        position=np.array([0.2, 0.0, -0.4]),
        loyalty=np.array([1.0, 1.0, 0.9]),
        marketing_pull=np.array([0.02, 0.0, 0.04]),
        coverage=coverage,
    )
    return c, offer


def month(c: ConsumerMarket, offer: BrandOffer, m: int) -> None:
    offer.price[2] = 19.0 + m % 3
    c.spread_awareness(offer)
    c.choose(offer)


def same_state(a, b) -> bool:
    """Generator states compared field by field (Philox's holds arrays)."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_state(a[k], b[k]) for k in a)
    return np.array_equal(a, b)


def assert_same(a: ConsumerMarket, b: ConsumerMarket) -> None:
    assert np.array_equal(a._aware, b._aware) and np.array_equal(a.last_choice, b.last_choice)
    assert np.array_equal(a.customers, b.customers) and a.no_purchase == b.no_purchase
    assert same_state(a.rng.bit_generator.state, b.rng.bit_generator.state)


def test_after_each_month_the_generator_is_where_the_numpy_path_leaves_it():
    fast, offer = small_market(state_with_half_word(9), True)
    plain, _ = small_market(state_with_half_word(9), False)
    assert fast.compiled and not plain.compiled
    for m in range(24):
        month(fast, offer, m)
        month(plain, offer, m)
        assert_same(fast, plain)
        assert fast.rng.random() == plain.rng.random()  # a draw of the model's between months


def test_a_generator_other_than_pcg64_takes_the_numpy_path():
    rng = np.random.Generator(np.random.Philox(4))
    assert kernels.pcg_words(rng) is None
    c, offer = small_market(rng, True)
    plain, _ = small_market(np.random.Generator(np.random.Philox(4)), False)
    assert not c.compiled
    for m in range(6):
        month(c, offer, m)
        month(plain, offer, m)
        assert_same(c, plain)


@pytest.mark.parametrize("duplicate", [copy.deepcopy, lambda c: pickle.loads(pickle.dumps(c))])
def test_a_copied_market_draws_from_its_own_generator(duplicate):
    """The view is made again from the copy's generator; a stale one would draw from the
    original's memory (or from a detached copy of it)."""
    c, offer = small_market(state_with_half_word(2), True)
    plain, _ = small_market(state_with_half_word(2), False)
    for m in range(3):
        month(c, offer, m)
        month(plain, offer, m)
    twin = duplicate(c)
    assert twin.compiled and twin._pcg is not c._pcg
    for m in range(3, 9):
        month(twin, offer, m)
        month(plain, offer, m)
        assert_same(twin, plain)
    assert c.rng.bit_generator.state != twin.rng.bit_generator.state  # the original did not move


def test_aware_counts_kept_between_months_follow_changes_made_elsewhere():
    """The compiled month keeps its aware counts per segment, cell and brand from the month
    before, updated with its own changes; a change made elsewhere (the model forgets a closed
    brand; a write through the ``aware`` view) makes it count again."""
    fast, offer = small_market(state_with_half_word(6), True)
    plain, _ = small_market(state_with_half_word(6), False)
    for m in range(16):
        if m == 5:
            for c in (fast, plain):
                c.aware[:, 0] = False  # through the view: no setter sees it
        if m == 9:
            for c in (fast, plain):
                aware = c.aware.copy()
                aware[::7, 2] = True
                c.aware = aware
        month(fast, offer, m)
        month(plain, offer, m)
        assert_same(fast, plain)
        counts = [np.empty_like(a) for a in (fast._aware_in, fast._cell_aware, fast._total_aware)]
        kernels.segment_counts(fast._aware, fast._seg_start, fast.n, fast._cell_first_seg, *counts)
        kept = (fast._aware_in, fast._cell_aware, fast._total_aware)
        assert all(np.array_equal(a, b) for a, b in zip(counts, kept, strict=True)), m


@pytest.mark.parametrize("n", [0, 1, 2, 7, 2500])
def test_a_block_of_raw_draws_is_numpys(n):
    ours, theirs = state_with_half_word(n), state_with_half_word(n)
    out = np.empty(n, dtype=np.uint64)
    kernels._pcg_fill(kernels.pcg_words(ours), out)
    assert np.array_equal(out, theirs.bit_generator.random_raw(n))
    assert ours.bit_generator.state == theirs.bit_generator.state
