"""Validation: the population sampler, the Bass fit, the quick validation through the CLI,
and mechanism checks (switch a mechanism off and the fact resting on it breaks)."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from abm.cli import main
from abm.validation import population
from abm.validation.ablations import run_ablations
from abm.validation.bass import bass_cdf, fit_bass, fit_with_ci
from abm.validation.experiment import QUICK, Condition, run_experiment

SEED = 2025  # the CLI's default master seed: the ablations re-run the quick report's entries


# ---- the population ----------------------------------------------------------------------


def test_population_entry_is_reproducible_and_cross_border():
    a = population.sample_entry(3, 17)
    b = population.sample_entry(3, 17)
    assert a.to_dict() == b.to_dict()
    assert a.to_dict() != population.sample_entry(3, 18).to_dict()
    assert a.entrants[0].home_country != a.market.host_country
    assert a.entrants[0].cultural_distance is None  # computed from the two countries
    assert {a.market.host_country, a.entrants[0].home_country} <= set(population.nations())


def test_population_traits_follow_their_documented_distributions():
    base = population.resolve_scenario(None)
    draws = pd.DataFrame([population.draw_entry(population.entry_rng(1, i), base) for i in range(3000)])
    for d in population.DISTRIBUTIONS:
        if d.law == "beta":
            a, b = d.params
            assert draws[d.path].between(0, 1).all(), d.path
            assert draws[d.path].mean() == pytest.approx(a / (a + b), abs=0.02), d.path
        elif d.law == "lognormal":
            assert np.median(draws[d.path]) == pytest.approx(d.params[0], rel=0.06), d.path
        elif d.law == "choice" and d.params != ("nations",):
            assert set(draws[d.path]) == set(d.params), d.path
    assert (draws["market.host_country"] != draws["entrants.home_country"]).all()
    assert draws["market.host_country"].nunique() > 50
    assert set(population.nations()).isdisjoint(population.NOT_NATIONS)


def test_population_table_documents_every_draw():
    rows = population.describe()
    assert [r[0] for r in rows] == [d.path for d in population.DISTRIBUTIONS]
    assert all(law and why for _, law, why in rows)


# ---- the Bass fit ------------------------------------------------------------------------


def test_bass_fit_recovers_the_coefficients_of_a_bass_curve():
    t = np.arange(121) / 12
    p, q = fit_bass(t, bass_cdf(t, 0.03, 0.38))
    assert p == pytest.approx(0.03, rel=1e-3) and q == pytest.approx(0.38, rel=1e-3)
    rng = np.random.default_rng(0)
    paths = np.clip(bass_cdf(t, 0.05, 0.6)[None, :] + rng.normal(0, 0.02, (60, len(t))), 0, 1)
    fit = fit_with_ci(paths, resamples=40)
    assert fit["p"][1] <= 0.05 <= fit["p"][2] or fit["p"][0] == pytest.approx(0.05, rel=0.05)
    assert fit["q"][0] == pytest.approx(0.6, rel=0.05)


# ---- runs --------------------------------------------------------------------------------


def test_experiment_is_the_same_whatever_the_worker_count():
    small = Condition(
        "tiny",
        "a few short population runs",
        {"alliance": {"entry_mode": "alliance"}, "alone": {"entry_mode": "alone"}},
        months=14,
        n=3,
        base={"market.consumers": 400},
    )
    a = run_experiment(selected=[small], master_seed=5, workers=1).runs["tiny"]
    b = run_experiment(selected=[small], master_seed=5, workers=2).runs["tiny"]
    pd.testing.assert_frame_equal(a, b)
    alone = a[a.arm == "alone"].set_index("entry")
    ally = a[a.arm == "alliance"].set_index("entry")
    assert (alone.host_country == ally.host_country).all()  # arms share the entry (paired)
    assert (alone.seed == ally.seed).all()


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    """``abm validate --quick`` once, in process; its folder."""
    out = tmp_path_factory.mktemp("validation") / "report"
    assert main(["validate", "--quick", "--out", str(out), "--workers", "2", "-q"]) == 0
    return out


def test_quick_validation_writes_the_report(quick_report):
    for name in ("report.md", "facts.csv", "runs.parquet", "facts.png", "outcomes.png", "jv_durations.png", "bass.png"):
        assert (quick_report / name).exists(), name
        if name.endswith(".png"):
            assert (quick_report / name).read_bytes()[:4] == b"\x89PNG"
    text = (quick_report / "report.md").read_text()
    assert "| Fact | Source | Target band | Model value [95 % CI] | Holds? |" in text
    assert "## What the model does not reproduce" in text
    facts = pd.read_csv(quick_report / "facts.csv")
    assert {
        "jv_goals_met",
        "alliances_fail",
        "success_for_both",
        "failure_for_both",
        "jv_durations",
        "setup_saving",
        "distance_acquisition",
        "distance_jv_greenfield",
        "unequal_commitment",
        "learning_race",
        "regulatory_ties",
        "incumbent_reactions",
        "small_firm_alliance",
        "ownership_cap_jv",
        "bass_p",
        "bass_q",
    } == set(facts.key)
    for key in facts.key:
        assert f"| {facts.set_index('key').loc[key, 'fact']} |" in text


def test_every_documented_fact_is_consistent_in_the_quick_validation(quick_report):
    facts = pd.read_csv(quick_report / "facts.csv").set_index("key")
    not_consistent = facts[~facts.consistent.astype(bool)]
    assert not_consistent.empty, not_consistent[["estimate", "ci_low", "ci_high", "target"]].to_string()
    # contrasts point the documented way, with intervals that exclude zero
    for key in ("distance_acquisition", "unequal_commitment", "learning_race", "regulatory_ties"):
        assert facts.loc[key, "ci_high"] < 0, key
    for key in ("distance_jv_greenfield", "small_firm_alliance", "ownership_cap_jv"):
        assert facts.loc[key, "ci_low"] > 0, key
    assert facts.loc["setup_saving", "estimate"] == pytest.approx(0.40)


def test_validate_refuses_a_folder_holding_other_files(tmp_path):
    out = tmp_path / "busy"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    p = subprocess.run(
        [sys.executable, "-m", "abm.cli", "validate", "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 2
    assert p.stderr.strip().startswith("abm: error: --out") and "Traceback" not in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
    assert (out / "notes.txt").read_text() == "mine" and len(list(out.iterdir())) == 1


@pytest.mark.parametrize("args, field", [(["--workers", "0"], "--workers"), (["--seed", "x"], "--seed")])
def test_validate_rejects_bad_numbers_in_one_line(tmp_path, args, field):
    p = subprocess.run(
        [sys.executable, "-m", "abm.cli", "validate", "--quick", "--out", str(tmp_path / "o"), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 2 and p.stderr.startswith(f"abm: error: {field}")
    assert not (tmp_path / "o").exists()


# ---- mechanism checks: remove the mechanism, the fact breaks ------------------------------


@pytest.fixture(scope="module")
def ablations():
    return {a.ablation.name: a for a in run_ablations(QUICK, master_seed=SEED, workers=2)}


@pytest.mark.xfail(
    strict=True,
    reason="Model 2 ends alliances by value (the entrant's way out against the partner's share, partners' outside "
    "offers, concessions), rarely at a trust floor: with trust frozen at signing, alliances fail 38.3 % [33.0, 43.9] "
    "against 37.6 % [34.7, 40.6] with it (full validation, 2026-12-02, after the review of the exit costs), so the fact does not rest on "
    "trust dynamics; "
    "the trust check rests on unequal commitment (below; docs/VALIDATION.md, mechanism checks)",
)
def test_freezing_trust_breaks_the_alliance_failure_rate(ablations, quick_report):
    reference = pd.read_csv(quick_report / "facts.csv").set_index("key").loc["alliances_fail"]
    frozen = next(c for c in ablations["trust_frozen"].checks if c.key == "alliances_fail")
    assert reference.consistent
    assert ablations["trust_frozen"].broken("alliances_fail")
    assert not frozen.consistent


def test_unequal_commitment_ends_partnerships_mainly_through_trust(ablations, quick_report):
    reference = pd.read_csv(quick_report / "facts.csv").set_index("key").loc["unequal_commitment"]
    frozen = next(c for c in ablations["trust_frozen"].checks if c.key == "unequal_commitment")
    # months (quick size: -11.4 after the second pass of 2026-12-02, whose richer outside offers end
    # more alliances whatever the partner delivers; full: -14.8; -1.2 with trust frozen)
    assert reference.estimate < -10
    # mainly: freezing trust removes more than half of the effect. (Model 1: three quarters;
    # in Model 2 a partner that delivers less also reaches fewer consumers and, with its
    # results, puts the alliance in trouble whatever either side believes.)
    assert abs(frozen.estimate) < 0.5 * abs(reference.estimate)


def test_ignored_regulatory_ties_no_longer_speed_licences(ablations):
    check = next(c for c in ablations["ties_ignored"].checks if c.key == "regulatory_ties")
    assert not check.holds
    assert abs(check.estimate) < 0.5  # months


def test_without_the_learning_race_learning_asymmetry_changes_nothing(ablations):
    check = next(c for c in ablations["no_learning_race"].checks if c.key == "learning_race")
    assert not check.holds and check.estimate == 0.0


def test_without_word_of_mouth_awareness_is_no_s_curve(ablations):
    q = next(c for c in ablations["no_word_of_mouth"].checks if c.key == "bass_q")
    assert not q.consistent and q.estimate < 0.05


def test_without_varied_markets_fewer_partnerships_fail_for_both(ablations, quick_report):
    """Bleeke & Ernst's third that fails for both rests on host markets of different sizes:
    drawn at the case's size, losses for the entrant become rare and the share falls below the band."""
    reference = pd.read_csv(quick_report / "facts.csv").set_index("key").loc["failure_for_both"]
    one_size = next(c for c in ablations["one_market_size"].checks if c.key == "failure_for_both")
    assert reference.holds
    assert not one_size.holds and one_size.estimate < one_size.band[0]
    assert one_size.estimate < reference.estimate - 0.06
