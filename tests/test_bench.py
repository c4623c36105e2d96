"""Benchmarks: ``abm bench --quick`` runs and writes every figure; the references it times
(per-consumer Mesa agents, the bare and dense numpy kernels) run the same rule as the
model's consumer kernel; and that kernel's draws follow the documented probabilities.

No timing is asserted here: speed lives in the benchmark's JSON, not in tests.
"""

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from abm import consumer_kernels
from abm.benchmarks.commands import load_suite
from abm.consumers import BrandOffer, ConsumerMarket
from abm.scenario import Market

REQUIRED = (
    "ms_per_default_run",
    "us_per_consumer_month",
    "speedup_vs_mesa_agents",
    "overhead_vs_numpy",
    "consumer_scaling_exponent",
    "parallel_efficiency",
    "memory_growth_2k_to_20k",
    "worker_memory_growth",
    "sobol_minutes_16_cores",
    "speedup_vs_batch_run",
    "memory_ratio_vs_batch_run",
)


@pytest.fixture(scope="module")
def suite():
    return load_suite()


def abm_cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "abm.cli", *args], capture_output=True, text=True, cwd=cwd, timeout=600
    )


@pytest.mark.slow
def test_quick_bench_writes_every_figure_finite(tmp_path):
    p = abm_cli("bench", "--quick", "--out", str(tmp_path / "bench"))
    assert p.returncode == 0, p.stderr[-3000:]
    files = list((tmp_path / "bench").glob("*.json"))
    assert len(files) == 1
    result = json.loads(files[0].read_text())
    for key in REQUIRED:
        value = result[key]
        assert isinstance(value, (int, float)) and math.isfinite(value), (key, value, result["details"])
        assert result["figures"][key] == value
    for key, part in (("app_step_render_ms", "app"), ("app_compare_s", "compare")):
        assert key in result  # a number, or null with the reason in details
        if result[key] is None:
            assert result["details"][part]["reason"]
    if result["app_compare_s"] is not None:  # the warm pool's live workers' CPU is counted
        assert all(workers > 0 for workers, _ in result["details"]["compare"]["cpu_s_workers_and_server"])
        assert result["details"]["compare"]["pool_start_s"] >= 0
    for name, target in result["targets"].items():  # every target with its verdict
        assert target["holds"] in (True, False, None) and target["op"] in ("<=", ">=")
        assert target["holds"] is None or target["holds"] == (
            result[name] <= target["bound"] if target["op"] == "<=" else result[name] >= target["bound"]
        )
    assert result["mode"] == "quick" and result["machine"]["cores"] >= 1
    assert set(result["targets"]) >= {
        "speedup_vs_mesa_agents",
        "overhead_vs_numpy",
        "parallel_efficiency",
        "app_compare_s",
        "sobol_minutes_16_cores",
        "memory_growth_2k_to_20k",
        "worker_memory_growth",
    }
    assert result["targets"]["overhead_vs_numpy"]["bound"] == 0.7
    assert result["targets"]["speedup_vs_mesa_agents"]["bound"] == 100
    for name in REQUIRED:
        assert name in p.stdout  # the printed table


def test_bench_refuses_bad_options_in_one_line(tmp_path):
    for args in (["--only", "nonsense"], ["--workers", "0"], ["--workers", "1000000"]):
        p = abm_cli("bench", "--quick", *args, "--out", str(tmp_path / "b"))
        assert p.returncode == 2
        assert p.stderr.startswith("abm: error:") and "Traceback" not in p.stderr
        assert len(p.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "b").exists()


def test_bench_json_never_overwrites(suite, tmp_path):
    result = {"date": "2030-01-02", "figures": {"x": np.float64(1.5)}}
    first = suite.write(result, tmp_path)
    second = suite.write(result, tmp_path)
    assert first.name == "2030-01-02.json" and second.name == "2030-01-02-2.json"
    assert json.loads(second.read_text())["figures"]["x"] == 1.5


def test_mesa_reference_numpy_kernels_and_model_kernel_agree(suite):
    """The four implementations the benchmark compares give the same market shares."""
    reference = suite.reference_mesa_agents
    kernel = suite.numpy_kernel
    market, offer, incumbents = suite.default_market_and_offer(400, months=24)
    months = 12

    def final(run, seeds):
        return np.array([run(market, offer, months, seed=s, incumbents=incumbents)[-1] for s in seeds])

    ours = final(suite.consumer_market_shares, range(40))
    bare = final(kernel.simulate, range(100, 140))
    dense = final(lambda *a, **k: kernel.simulate(*a, dense=True, **k), range(200, 240))
    agents = final(reference.simulate, range(300, 310))
    on_sale = offer.on_sale
    assert ours[:, on_sale].mean() > 0.05 and ours[:, ~on_sale].max() == 0  # something is bought
    for other in (bare, dense, agents):
        se = np.sqrt(ours.var(0) / len(ours) + other.var(0) / len(other)) + 1e-4
        assert np.all(np.abs(ours.mean(0) - other.mean(0)) < 4.5 * se), (ours.mean(0), other.mean(0))


# ---- the consumer kernel's draws --------------------------------------------------------------


def _market(**overrides) -> Market:
    """A market with the plain multinomial logit (category_expansion 1), whose probabilities
    ``_logit_probabilities`` writes out; the nested logit has its own tests (test_rules_demand)."""
    return Market(**{"consumers": 3000, "category_expansion": 1.0, **overrides})


def _offer(n_brands=3, regions=9, coverage=1.0, on_sale=None) -> BrandOffer:
    on = np.ones(n_brands, bool) if on_sale is None else np.array(on_sale)
    return BrandOffer(
        on_sale=on,
        promoting=on.copy(),
        quality=np.array([0.9, 0.6, 0.3])[:n_brands],
        price=np.array([26.0, 22.0, 18.0])[:n_brands],
        position=np.array([0.4, 0.0, -0.3])[:n_brands],
        loyalty=np.array([1.0, 1.5, 0.5])[:n_brands],
        marketing_pull=np.array([0.01, 0.004, 0.0])[:n_brands],
        coverage=np.full((n_brands, regions), coverage),
    )


def _logit_probabilities(c: ConsumerMarket, offer: BrandOffer, last: np.ndarray) -> np.ndarray:
    """(n, brands + 1) choice probabilities, outside option last, from the documented utility."""
    m = c.market
    u = (
        offer.quality[None, :]
        - m.fit_weight * (c.taste[:, None] - offer.position[None, :]) ** 2
        - c.price_weight[:, None] * offer.price[None, :]
    )
    u = u + m.switching_cost * offer.loyalty[None, :] * (last[:, None] == np.arange(len(offer.quality)))
    u = np.where(c.aware & offer.on_sale[None, :], u, -np.inf)
    z = np.concatenate([u, np.full((c.n, 1), m.no_purchase_utility)], axis=1) / m.choice_noise
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=1, keepdims=True)


COMPILED = pytest.mark.parametrize(
    "compiled",
    [pytest.param(True, marks=pytest.mark.skipif(not consumer_kernels.available(), reason="no numba")), False],
)
"""Each draw test on the compiled (numba) path and the numpy path."""


@COMPILED
@pytest.mark.parametrize("noise", [1.0, 0.03])  # 0.03: utilities span > 80 noise units, the shifted path
def test_choice_follows_logit_probabilities_with_loyalty(noise, compiled):
    market = _market(choice_noise=noise)
    c = ConsumerMarket(market, 3, np.random.default_rng(5))
    c.compiled = compiled and consumer_kernels.enable()
    offer = _offer()
    rng = np.random.default_rng(6)
    c.aware = rng.random((c.n, 3)) < 0.7
    last = rng.integers(-1, 3, c.n).astype(c.last_choice.dtype)
    p = _logit_probabilities(c, offer, last)
    expected = p.sum(axis=0)
    draws = 40
    counts = np.zeros(4)
    for _ in range(draws):
        c.last_choice[:] = last
        c.choose(offer)
        counts += np.r_[c.customers, c.no_purchase]
    sd = np.sqrt((p * (1 - p)).sum(axis=0) * draws)
    assert np.all(np.abs(counts - draws * expected) < 4.5 * sd + 1), (counts / draws, expected)
    # loyalty matters: without it the same consumers choose differently
    no_loyalty = _logit_probabilities(c, offer, np.full(c.n, -1)).sum(axis=0)
    assert np.abs(no_loyalty - expected).max() > 10 * sd.max() / draws


@COMPILED
def test_choice_counts_only_available_brands(compiled):
    c = ConsumerMarket(_market(), 3, np.random.default_rng(1))
    c.compiled = compiled and consumer_kernels.enable()
    offer = _offer(on_sale=[True, False, True], coverage=0.5)
    c.aware = np.ones((c.n, 3), bool)
    c.choose(offer)
    covered = c.reach_rank < 0.5
    chosen = c.last_choice
    assert not np.any(chosen == 1)
    assert np.all(covered[chosen == 0, 0]) and np.all(covered[chosen == 2, 2])
    assert c.customers.sum() + c.no_purchase == c.n
    assert np.allclose(c.reached, covered.mean(axis=0))


@COMPILED
def test_awareness_gain_and_forgetting_follow_bass_hazard_and_decay(compiled):
    market = _market(awareness_decay=0.2)
    offer = _offer(on_sale=[True, True, False])
    repeats, gained, forgotten = 30, np.zeros(3), 0.0
    start_rng = np.random.default_rng(11)
    c = ConsumerMarket(market, 3, np.random.default_rng(12))
    c.compiled = compiled and consumer_kernels.enable()
    start = start_rng.random((c.n, 3)) < np.array([0.2, 0.5, 0.6])
    # expected gains: sum over unaware consumers of 1 - exp(-(p + q F)), F from their cell
    k = market.neighbourhoods**2
    local = (
        np.stack([np.bincount(c.cell, weights=start[:, j], minlength=k) for j in range(3)], 1) / c.cell_size[:, None]
    )
    w = market.local_word_of_mouth
    rate = offer.marketing_pull[None, :] + market.bass_q / 12 * (w * local[c.cell] + (1 - w) * start.mean(0))
    hazard = -np.expm1(-rate)
    expected_gain = np.where(~start, hazard, 0.0).sum(axis=0)[:2]
    variance = np.where(~start, hazard * (1 - hazard), 0.0).sum(axis=0)[:2]
    for _ in range(repeats):
        c.aware = start
        c.spread_awareness(offer)
        now = c.aware
        gained += (now & ~start).sum(axis=0)
        forgotten += (start[:, 2] & ~now[:, 2]).sum()
        assert not np.any(start[:, :2] & ~now[:, :2])  # brands on sale are not forgotten
        assert not np.any(~start[:, 2] & now[:, 2])  # a brand off sale is not learnt
    assert np.all(np.abs(gained[:2] - repeats * expected_gain) < 4.5 * np.sqrt(repeats * variance)), (
        gained[:2] / repeats,
        expected_gain,
    )
    n_aware = start[:, 2].sum()
    assert abs(forgotten - repeats * 0.2 * n_aware) < 4.5 * math.sqrt(repeats * n_aware * 0.16)


def test_aware_and_reach_rank_keep_their_public_shape():
    c = ConsumerMarket(_market(), 2, np.random.default_rng(0))
    assert c.aware.shape == (c.n, 2) and c.reach_rank.shape == (c.n, 2)
    c.aware = np.ones((c.n, 2), bool)
    c.aware[: c.n // 2, 1] = False  # writes through the view reach the model's state
    assert c.awareness().tolist() == [1.0, 0.5]
