"""The compiled consumer month (abm/consumer_kernels.py) against the numpy path, and the
cheaper recording (MonthlyCollector, kept offer arrays) against what they replace.

The compiled path receives the same random numbers and repeats the numpy path's arithmetic,
so it must give the same run bit for bit, seed by seed (the slow test: 300 seeds of three
presets); the slow test also checks, on independent seeds, that every summary outcome's mean
and spread agree within sampling error, with bands that a changed mechanism leaves (checked
on a run with the switching cost halved).
"""

import math
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from mesa.datacollection import DataCollector
from scipy import stats

import abm
from abm import consumer_kernels
from abm.consumers import BrandOffer, ConsumerMarket
from abm.model import MarketEntryModel
from abm.scenario import Market

compiled_only = pytest.mark.skipif(not consumer_kernels.available(), reason="numba missing or ABM_NUMBA=0")


@pytest.fixture(autouse=True)
def loaded():
    """The compiled loops loaded (where available); each test picks its path itself."""
    consumer_kernels.enable()


PRESETS = ("alpha-beta", "two-entrants", "strong-incumbents")


def run(preset, seed, compiled, monkeypatch, **overrides):
    monkeypatch.setattr(consumer_kernels, "ENABLED", compiled)
    return abm.simulate(preset, seed=seed, **overrides)


def assert_same_run(a, b):
    for name in ("steps", "summary", "entrants", "partnerships", "events"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True, obj=name)


@compiled_only
@pytest.mark.parametrize("preset", [*PRESETS, "jv-exit"])
def test_compiled_run_is_the_numpy_run_bit_for_bit(preset, monkeypatch):
    for seed in range(3):
        assert_same_run(run(preset, seed, True, monkeypatch), run(preset, seed, False, monkeypatch))


@compiled_only
def test_the_near_tie_that_once_parted_the_paths(monkeypatch):
    """two-entrants, seed 82: in month 115 one consumer's choice was decided by the last bit of
    the nested logit's outside weight, which the loops took from libm's powf (numpy: its own
    SIMD power); the power is now numpy's on both paths."""
    assert_same_run(run("two-entrants", 82, True, monkeypatch), run("two-entrants", 82, False, monkeypatch))


@compiled_only
def test_compiled_nested_logit_is_the_numpy_one(monkeypatch):
    for seed in range(2):
        fast = run(None, seed, True, monkeypatch, **{"market.category_expansion": 0.6})
        plain = run(None, seed, False, monkeypatch, **{"market.category_expansion": 0.6})
        assert_same_run(fast, plain)


def static_market(compiled: bool, *, nest=1.0, decay=0.05, seed=3):
    market = Market(consumers=3000, neighbourhoods=8, category_expansion=nest, awareness_decay=decay)
    c = ConsumerMarket(market, 4, np.random.default_rng(seed))
    c.compiled = compiled
    coverage = np.full((4, c.n_regions), 0.7)
    c.seed_brand(1, 0.3, 0.9, coverage[1])  # off sale below: its awareness decays
    c.seed_brand(3, 0.2, 0.9, coverage[3])
    offer = BrandOffer(
        on_sale=np.array([True, False, True, True]),  # brands on sale are not neighbours
        promoting=np.array([True, False, True, True]),
        quality=np.array([0.4, 0.6, 0.2, 0.5]),
        price=np.array([20.0, 24.0, 18.0, 22.0]),
        position=np.array([0.8, 0.0, -0.3, 0.1]),
        loyalty=np.array([1.0, 1.2, 0.8, 1.0]),
        marketing_pull=np.array([0.02, 0.0, 0.03, 0.01]),
        coverage=coverage,
    )
    return c, offer


@compiled_only
@pytest.mark.parametrize("nest", [1.0, 0.5, 0.87])
def test_compiled_kernel_month_by_month_with_forgetting_and_moving_offers(nest):
    fast, offer = static_market(True, nest=nest)
    plain, _ = static_market(False, nest=nest)
    for month in range(30):
        offer.price[0] = 20.0 + month % 4  # appeal refreshed
        offer.coverage[2] = min(1.0, 0.2 + 0.03 * month)  # coverage recomputed
        for c in (fast, plain):
            c.spread_awareness(offer)
            c.choose(offer)
        assert np.array_equal(fast._aware, plain._aware), month
        assert np.array_equal(fast.last_choice, plain.last_choice), month
        assert np.array_equal(fast.customers, plain.customers), month
        assert np.array_equal(fast._appeal, plain._appeal) and np.array_equal(fast._covered, plain._covered)
    assert fast.awareness()[1] < 0.6  # brand 1, off sale, was forgotten by some


def test_a_run_with_a_given_seed_is_deterministic():
    a, b = abm.simulate(seed=11), abm.simulate(seed=11)
    assert_same_run(a, b)
    assert not abm.simulate(seed=12).steps.equals(a.steps)


@pytest.mark.parametrize("mode", [None, "auto"])
def test_by_default_a_process_loads_the_loops_after_enough_work(mode):
    """Unset, ``ABM_NUMBA`` means ``auto``: both paths give the same results, so a seed's
    result does not depend on what the process ran before."""
    code = (
        "import abm; from abm import consumer_kernels as k; k.AUTO_AFTER = 5000 * 6; "
        "m = abm.MarketEntryModel(seed=4); assert not m.consumers.compiled; "
        "a = abm.simulate(seed=4, months=12); assert k.ENABLED; m = abm.MarketEntryModel(seed=4); "
        "assert m.consumers.compiled; b = abm.simulate(seed=4, months=12); "
        "assert a.steps.equals(b.steps) and a.summary.equals(b.summary); print('ok')"
    )
    env = {k: v for k, v in os.environ.items() if k != "ABM_NUMBA"} | ({"ABM_NUMBA": mode} if mode else {})
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0 and p.stdout.strip() == "ok", p.stderr[-2000:]


def test_numba_switched_off_runs_the_numpy_path():
    code = (
        "import abm; from abm import consumer_kernels as k; assert not k.ENABLED and not k.enable(); "
        "k.AUTO_AFTER = 0; r = abm.simulate(seed=5, months=12); m = abm.MarketEntryModel(seed=5); "
        "assert not m.consumers.compiled; print(len(r.steps))"
    )
    env = {**os.environ, "ABM_NUMBA": "0"}
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    assert int(p.stdout.strip()) > 0


@pytest.mark.parametrize("preset", ["alpha-beta", "two-entrants", "jv-exit"])
def test_monthly_collector_gives_mesas_frame(preset):
    model = MarketEntryModel(preset, seed=3)
    reference = DataCollector(model_reporters=model._reporters())
    reference.collect(model)
    while model.running:
        model.step()
        reference.collect(model)
    frame = model.datacollector.get_model_vars_dataframe()
    pd.testing.assert_frame_equal(frame, reference.get_model_vars_dataframe(), check_exact=True)
    assert len(frame) == model.month + 1
    model.release()


def test_offer_arrays_live_between_months_and_follow_the_firms():
    model = MarketEntryModel(seed=2)
    first = model.brand_offer()
    model.run(30)
    offer = model.brand_offer()
    assert offer is first and offer.price is first.price
    for f in model.firms:
        assert offer.on_sale[f.brand] == f.on_sale and offer.price[f.brand] == f.price
        assert np.array_equal(offer.coverage[f.brand], f.coverage)
    model.release()


# ---- 300 seeds x 3 presets ------------------------------------------------------------------


def summaries(preset, seeds, compiled, monkeypatch, **overrides):
    monkeypatch.setattr(consumer_kernels, "ENABLED", compiled)
    return pd.concat([abm.simulate(preset, seed=s, **overrides).summary for s in seeds], ignore_index=True)


def outcome_columns(frame):
    return [c for c in frame.columns if c not in ("seed",) and pd.api.types.is_numeric_dtype(frame[c])]


def spread_differs(x: pd.Series, y: pd.Series) -> bool:
    """Brown-Forsythe (Levene's test about the median) at p < 0.001; no verdict where both
    samples sit on their medians but for ties (the test's denominator is 0)."""
    dx, dy = (x - x.median()).abs(), (y - y.median()).abs()
    if dx.var() == 0 and dy.var() == 0:
        return dx.mean() != dy.mean()
    return stats.levene(x, y, center="median").pvalue < 1e-3


def disagreements(a: pd.DataFrame, b: pd.DataFrame) -> list[str]:
    """Outcomes whose means differ by more than 4 standard errors (a chance of about 6e-5
    each under sampling error alone), or whose spreads differ by Brown-Forsythe's test at
    p < 0.001 (robust for skewed and rare outcomes, unlike a ratio of standard deviations)."""
    out = []
    for col in outcome_columns(a):
        x, y = a[col].astype(float).dropna(), b[col].astype(float).dropna()
        if len(x) < 30 or len(y) < 30:
            continue
        se = math.sqrt(x.var() / len(x) + y.var() / len(y))
        if se == 0:
            if x.mean() != y.mean():
                out.append(f"{col}: constant {x.mean()} vs {y.mean()}")
            continue
        if abs(x.mean() - y.mean()) > 4 * se:
            out.append(f"{col}: mean {x.mean():.4g} vs {y.mean():.4g} (se {se:.2g})")
        if x.std() > 0 and y.std() > 0 and spread_differs(x, y):
            out.append(f"{col}: spread {x.std():.4g} vs {y.std():.4g}")
    return out


@compiled_only
@pytest.mark.slow
@pytest.mark.parametrize("preset", PRESETS)
def test_300_seeds_same_runs_and_same_distributions(preset, monkeypatch):
    seeds = range(300)
    fast = summaries(preset, seeds, True, monkeypatch)
    plain = summaries(preset, seeds, False, monkeypatch)
    # seed by seed, bit for bit (the nested logit's power was once libm's powf in the loops and
    # numpy's SIMD power in the numpy path: one run of 900 then differed, by one consumer's choice)
    differs = [s for s in range(len(fast)) if not fast.iloc[[s]].equals(plain.iloc[[s]])]
    assert differs == []
    # in distribution, on independent seeds (as a change that kept only the distribution would)
    other = summaries(preset, range(1000, 1300), False, monkeypatch)
    assert disagreements(fast, other) == []
    if preset == "alpha-beta":  # the bands catch a changed mechanism: loyalty halved in the choice
        broken = summaries(preset, range(2000, 2300), True, monkeypatch, **{"market.switching_cost": 0.75})
        assert disagreements(fast, broken)


@pytest.mark.parametrize("preset", ["alpha-beta", "jv-exit"])
def test_a_run_without_steps_rows_gives_the_same_summary(preset):
    """Sweeps that keep only summaries skip the steps rows and Mesa's collector
    (``keep_steps``): the summary row is the one the frames give."""
    from abm.presets import resolve_scenario
    from abm.sweeps.runner import run_outcomes

    scenario = resolve_scenario(preset)
    for seed in range(3):
        row, steps = run_outcomes(scenario.copy(), seed)
        assert steps is None
        full = abm.simulate(preset, seed=seed)
        pd.testing.assert_frame_equal(pd.DataFrame([row]), full.summary, check_exact=True)
        with_steps, _ = run_outcomes(scenario.copy(), seed, keep_steps=True)
        assert pd.DataFrame([with_steps]).equals(full.summary)
