"""Calibration with uncertainty (abm calibrate): recovery, resume, determinism, bad specs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from abm.errors import InputError
from abm.inference.calibrate import calibrate
from abm.inference.spec import load_spec
from abm.inference.targets import TARGETS, conditions_for, estimate, point_tasks, run_one

TRUE_P, TRUE_Q = 0.045, 0.55
"""Known Bass coefficients of the synthetic data (not the defaults, 0.03 and 0.38)."""


@pytest.fixture(scope="module")
def small_case(tmp_path_factory):
    """A quick scenario: the default case with fewer consumers."""
    from abm.presets import resolve_scenario

    path = tmp_path_factory.mktemp("case") / "small.toml"
    path.write_text(resolve_scenario(None).with_overrides({"market.consumers": 1500}).to_toml(), encoding="utf-8")
    return str(path)


def bass_spec(scenario: str, bands: dict, **design) -> dict:
    return {
        "name": "bass-recovery",
        "scenario": scenario,
        "master_seed": 4,
        "parameters": {"market.bass_p": [0.01, 0.07], "market.bass_q": [0.1, 0.9]},
        "targets": {k: {"band": list(v)} for k, v in bands.items()},
        "design": {
            "waves": 2,
            "points": 10,
            "entries": 4,
            "candidates": 4000,
            "posterior_draws": 800,
            "check_draws": 1,
            "check_entries": 4,
            **design,
        },
    }


@pytest.fixture(scope="module")
def synthetic_bands(small_case):
    """What diffusion runs at the known (p, q) give: the synthetic observation, as its 95 %
    interval doubled in width (the observation's noise and that of the design points)."""
    spec = load_spec(bass_spec(small_case, {"bass_p": (0.0, 1.0), "bass_q": (0.0, 1.0)}))
    conditions = conditions_for(spec.targets, 12)
    truth = {"market.bass_p": TRUE_P, "market.bass_q": TRUE_Q}
    rows = [run_one(task) for _, task in point_tasks(small_case, truth, conditions, 99, 0)]
    m = estimate(rows, conditions, spec.targets, 99)
    bands = {}
    for key in ("bass_p", "bass_q"):
        half = (m[f"{key}__high"] - m[f"{key}__low"]) / 2
        bands[key] = (m[f"{key}__low"] - half, m[f"{key}__high"] + half)
    return bands


@pytest.fixture(scope="module")
def recovered(small_case, synthetic_bands, tmp_path_factory):
    out = tmp_path_factory.mktemp("cal") / "bass"
    return calibrate(bass_spec(small_case, synthetic_bands), out=out, workers=2, progress=False, echo=False)


@pytest.mark.slow
def test_posterior_covers_the_true_values_and_is_narrower_than_the_prior(recovered):
    post = recovered.posterior
    for name, truth in (("market.bass_p", TRUE_P), ("market.bass_q", TRUE_Q)):
        lo, hi = np.percentile(post[name], [5, 95])
        assert lo <= truth <= hi, (name, lo, hi)
    ident = recovered.identifiability.set_index("parameter")
    # a method that ignored the data would return the prior (ratio about 1)
    assert (ident.width_ratio < 0.4).all(), ident.width_ratio
    assert set(ident.verdict) == {"constrained"}
    # and one that recovered the defaults would miss: they lie outside the 90 % interval
    assert not recovered.defaults.set_index("parameter").in_90_interval.any()


@pytest.mark.slow
def test_calibration_writes_report_posterior_and_charts(recovered):
    path = recovered.path
    for name in ("report.md", "posterior.parquet", "marginals.png", "pairs.png", "predictive.png", "defaults.parquet"):
        assert (path / name).stat().st_size > 0, name
    assert len(pd.read_parquet(path / "posterior.parquet")) == 800
    text = (path / "report.md").read_text()
    assert "identifiability" in text.lower() and "bass_q" in text
    assert recovered.total_runs == 20 * 4 + 2 * 4  # 2 waves x 10 points x 4 runs, check: 1 draw + defaults


@pytest.mark.slow
def test_second_wave_is_focused_on_the_non_implausible_region(recovered):
    ev = recovered.evaluations
    first = ev[ev.wave == 0]["market.bass_p"]
    second = ev[ev.wave == 1]["market.bass_p"]
    assert second.std() < 0.6 * first.std()
    assert abs(second.mean() - TRUE_P) < abs(first.mean() - TRUE_P) + 0.005


def tiny_spec(scenario: str) -> dict:
    return bass_spec(scenario, {"bass_p": (0.02, 0.04), "bass_q": (0.3, 0.5)}, points=5, entries=2, check_draws=0)


@pytest.mark.slow
def test_interrupted_calibration_resumes_to_the_same_result(small_case, tmp_path):
    whole = calibrate(tiny_spec(small_case), out=tmp_path / "whole", workers=1, progress=False, echo=False)

    def stop_in_wave_two(done, total):
        stop_in_wave_two.calls += 1
        if stop_in_wave_two.calls == 14:  # 10 runs of wave 1, then 4 of wave 2
            raise KeyboardInterrupt

    stop_in_wave_two.calls = 0
    out = tmp_path / "resumed"
    with pytest.raises(KeyboardInterrupt):
        calibrate(tiny_spec(small_case), out=out, workers=1, progress=stop_in_wave_two, echo=False)
    kept = pd.read_parquet(out / "state" / "evaluations.parquet")
    assert 5 <= len(kept) < 10 and not (out / "report.md").exists()
    again = calibrate(tiny_spec(small_case), out=out, workers=1, progress=False, echo=False)
    assert again.runs == (10 - len(kept)) * 2  # only the points not yet measured
    pd.testing.assert_frame_equal(again.evaluations, whole.evaluations)
    pd.testing.assert_frame_equal(again.posterior, whole.posterior)
    # a finished calibration is rebuilt without runs
    assert calibrate(tiny_spec(small_case), out=out, workers=1, progress=False, echo=False).runs == 0


def test_folder_of_another_calibration_is_refused_untouched(small_case, tmp_path):
    spec = tiny_spec(small_case)
    out = tmp_path / "c"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(InputError, match="--out"):
        calibrate(spec, out=out, workers=1, progress=False, echo=False)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"targets": {"jv_goals_mett": {}}}, "targets"),
        ({"parameters": {}}, "parameters"),
        ({"parameters": {"market.bass_p": [0.05, 0.01]}}, "parameters.market.bass_p"),
        ({"parameters": {"market.bass_p": [0.03, 0.03]}}, "parameters.market.bass_p"),
        ({"parameters": {"market.bass_p": ["a", 0.1]}}, "parameters.market.bass_p"),
        ({"parameters": {"market.no_such": [0.0, 1.0]}}, "parameters.market.no_such"),
        ({"targets": {"bass_p": {"band": [0.04, 0.02]}}}, "targets.bass_p.band"),
        ({"design": {"points": 0}}, "design.points"),
        ({"design": {"pionts": 5}}, "design"),
    ],
)
def test_bad_spec_names_the_field(small_case, change, field):
    spec = {**tiny_spec(small_case), **change}
    with pytest.raises(InputError) as info:
        load_spec(spec)
    assert info.value.field == field
    assert len(str(info.value)) < 700


def test_redrawn_population_trait_cannot_be_calibrated_on_population_facts():
    with pytest.raises(InputError, match="redraw"):
        load_spec({"parameters": {"partners.commitment": [0.3, 0.9]}, "targets": ["alliances_fail"]})


def test_target_bands_match_the_validation_report():
    from abm.validation.facts import BLEEKE_ERNST

    for key in ("success_for_both", "failure_for_both"):
        assert TARGETS[key].low == pytest.approx(BLEEKE_ERNST[key][0], abs=1e-3)
        assert TARGETS[key].high == pytest.approx(BLEEKE_ERNST[key][1], abs=1e-3)


def test_every_fact_of_the_report_is_a_target():
    import inspect

    from abm.validation import facts

    keys = set()
    for fn in facts.FACTS:
        src = inspect.getsource(fn)
        keys |= {k for k in TARGETS if f'"{k}"' in src}
    assert keys == set(TARGETS)
