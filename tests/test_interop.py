"""The package behaves in other people's tools: notebooks, samplers, process pools, readers."""

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import abm
from abm.outcomes import CODES, NAMES_ONLY, OTHER, code
from abm.sweeps.store import WHOLE_OUTCOMES, normalize

NOTEBOOK_CELL = textwrap.dedent(
    """
    import multiprocessing
    multiprocessing.set_start_method("fork")
    import abm
    abm.simulate("alpha-beta", seed=1, steps=6, consumers=300)
    print("method", multiprocessing.get_start_method(allow_none=True))

    def npv(seed):  # defined in __main__, as in a notebook cell
        return float(abm.simulate("alpha-beta", seed=seed, steps=6, consumers=300).summary["npv"].iloc[0])

    with multiprocessing.Pool(2) as pool:
        values = pool.map_async(npv, range(4)).get(timeout=60)
    print("pool", len(values))
    """
)


def _run_stdin(script: str) -> subprocess.CompletedProcess:
    # fed on stdin, the script's __main__ has no file: a spawned worker could not find `npv`
    return subprocess.run([sys.executable, "-"], input=script, capture_output=True, text=True, timeout=120, check=False)


def test_importing_abm_keeps_the_users_start_method_and_notebook_pools_work():
    out = _run_stdin(NOTEBOOK_CELL)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "method fork" in out.stdout
    assert "pool 4" in out.stdout


@pytest.mark.parametrize("module", ["abm.model", "abm.sweeps.runner", "abm.compare"])
def test_every_import_path_leaves_an_unset_start_method_unset(module):
    script = f"import multiprocessing, {module}, mesa; print(repr(multiprocessing.get_start_method(allow_none=True)))"
    out = _run_stdin(script)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "None"


# ---- results read by other tools ---------------------------------------------------------------

SMOKE = Path(__file__).resolve().parent.parent / "experiments" / "smoke.toml"


@pytest.fixture(scope="module")
def smoke_results(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("interop") / "smoke"
    abm.sweep(SMOKE, workers=1, out=out, progress=False, chunk_runs=10)
    return out


def test_every_table_of_a_sweep_reads_in_duckdb_and_polars(smoke_results):
    import duckdb
    import polars as pl

    counts = {}
    for table in ("summary", "paths", "errors"):
        glob = str(smoke_results / table / "*.parquet")
        n_duck = duckdb.sql(f"SELECT count(*) FROM '{glob}'").fetchall()[0][0]
        n_polars = pl.scan_parquet(glob).select(pl.len()).collect().item()
        assert n_duck == n_polars
        counts[table] = n_duck
    assert counts == {"summary": 24, "paths": counts["paths"], "errors": 0} and counts["paths"] > 24
    # the empty errors table still has its columns, so a query naming them works
    assert duckdb.sql(f"SELECT run_id, entry_mode, error FROM '{smoke_results}/errors/*.parquet'").fetchall() == []
    duckdb.sql(f"SELECT * FROM '{smoke_results}/design.parquet'").fetchall()


def test_counts_and_months_are_stored_as_nullable_integers(smoke_results):
    import duckdb
    import polars as pl

    summary = pl.read_parquet(smoke_results / "summary" / "*.parquet")
    for column in WHOLE_OUTCOMES:
        assert summary.schema[column] == pl.Int64, column
    assert summary["licence_month"].null_count() < len(summary)  # most runs get a licence...
    assert summary["exit_month"].null_count() > 0  # ...and a run that never left has a null, not NaN
    types = {r[0]: r[1] for r in duckdb.sql(f"DESCRIBE SELECT * FROM '{smoke_results}/summary/*.parquet'").fetchall()}
    assert types["months"] == "BIGINT" and types["npv"] == "DOUBLE"
    assert pl.read_parquet(smoke_results / "paths" / "*.parquet").schema["month"] == pl.Int64


def test_a_declared_count_holding_a_fraction_is_refused():
    frame = pd.DataFrame({"months": [12.0, float("nan"), 3.5]})
    with pytest.raises(ValueError, match=r"'months'.*3\.5"):
        normalize(frame, {"months"})
    assert normalize(frame.iloc[:2], {"months"}).column("months").to_pylist() == [12, None]


def test_a_clean_finish_leaves_no_lock_and_the_folder_can_be_reopened(smoke_results):
    assert not (smoke_results / ".lock").exists()
    again = abm.sweep(SMOKE, workers=1, out=smoke_results, progress=False)  # resumes: nothing to do
    assert not (again / ".lock").exists()
    assert len(abm.load_results(again).summary) == 24


# ---- statistics from the libraries made for them -----------------------------------------------


def test_mean_interval_is_students_t_at_two_runs():
    from scipy import stats as sps

    from abm.stats import mean_interval

    values = [1.0, 3.0]
    lo, hi = mean_interval(values)
    ref = sps.t.interval(0.95, df=1, loc=2.0, scale=sps.sem(values))
    assert (lo, hi) == pytest.approx(ref)
    assert (hi - lo) / (2 * 1.96 * sps.sem(values)) == pytest.approx(12.706 / 1.96, rel=1e-3)  # z was 15 % of it


def test_share_interval_stays_inside_zero_one_where_a_t_interval_would_not():
    from abm.stats import mean_interval, share_interval

    shares = [0.0, 0.0, 0.0, 0.004, 0.0, 0.03]
    assert mean_interval(shares)[0] < 0
    lo, hi = share_interval(shares)
    assert 0.0 <= lo < np.mean(shares) < hi <= 1.0
    # away from the bounds it is about as wide as the t interval
    mid = np.random.default_rng(1).uniform(0.3, 0.5, 40)
    t_lo, t_hi = mean_interval(mid)
    s_lo, s_hi = share_interval(mid)
    assert (s_hi - s_lo) == pytest.approx(t_hi - t_lo, rel=0.05)


def test_wilson_is_defined_once_and_agrees_with_statsmodels():
    from statsmodels.stats.proportion import proportion_confint

    from abm import report, stats
    from abm.validation import facts

    assert report.wilson is stats.wilson and facts.wilson is stats.wilson
    for k, n in [(0, 10), (3, 7), (25, 49), (49, 49)]:
        assert stats.wilson(k, n) == pytest.approx(proportion_confint(k, n, method="wilson"))


def test_kaplan_meier_steps_and_the_log_rank_test_tell_groups_apart():
    from abm.stats import logrank, survival

    months = [3, 5, 5, 8, 12, 12, 20, 24, 24, 24]
    failed = [1, 1, 0, 1, 1, 0, 1, 0, 0, 0]
    curve = survival(months, failed)
    # by hand: at risk 10, 9, 7, 6, 4 at the event months 3, 5, 8, 12, 20
    assert curve.probability == pytest.approx(
        [1, 0.9, 0.8, 0.8 * 6 / 7, 0.8 * 6 / 7 * 5 / 6, 0.8 * 6 / 7 * 5 / 6 * 3 / 4]
    )
    assert np.all(curve.low <= curve.probability) and np.all(curve.probability <= curve.high)
    assert curve.low[-1] > 0 and curve.high[-1] < 1
    # by hand at month 3: Greenwood se = 0.9 * sqrt(1 / (10 * 9)) = 0.0949; on the log(-log)
    # scale se / (S |log S|) = 1.0008, so the band is 0.9 ** exp(+-1.96 * 1.0008) = (0.473, 0.985)
    assert (curve.low[1], curve.high[1]) == pytest.approx((0.473, 0.985), abs=0.001)
    first_of_forty = survival([2] + [30] * 39, [1] + [0] * 39)
    assert first_of_forty.low[1] > 0.8  # narrow where many are at risk
    rng = np.random.default_rng(7)
    short, long = rng.exponential(6, 60), rng.exponential(30, 60)
    t = np.minimum(np.concatenate([short, long]), 48)
    events = np.concatenate([short, long]) < 48
    groups = np.array(["a"] * 60 + ["b"] * 60)
    assert logrank(t, events, groups)[1] < 0.001
    same = np.minimum(rng.exponential(12, 120), 48)
    assert logrank(same, same < 48, groups)[1] > 0.05


def test_analysis_reports_survival_by_group_with_a_log_rank_test(tmp_path):
    spec = {
        "name": "survival",
        "scenario": "alpha-beta",
        "design": "factorial",
        "replications": 6,
        "months": 36,
        "master_seed": 5,
        "fixed": {"consumers": 300},
        "parameters": {"entry_mode": ["alliance", "joint_venture"]},
        "analysis": {"outcomes": ["npv", "share_y1", "partnership_failed"], "group": "entry_mode"},
    }
    folder = abm.analyze(abm.sweep(spec, workers=1, out=tmp_path / "s", progress=False))
    report = (folder / "report.md").read_text()
    assert "| alliance | 6 |" in report and "| joint venture | 6 |" in report
    assert "Log-rank test that the groups share one survival curve" in report
    share = pd.read_csv(folder / "tables" / "by_entry_mode.csv")
    assert (share.filter(like="share_y1_ci_low") >= 0).all().all()
    assert (folder / "partnership_survival.png").stat().st_size > 10_000


# ---- a plain function for samplers --------------------------------------------------------------


def test_evaluate_returns_numbers_only_and_codes_decode_to_the_text_outcomes():
    from abm.sweeps import evaluate as evaluate_text

    for mode in ("alone", "alliance", "joint_venture", "acquisition"):
        kwargs = {"seed": 4, "months": 36, "consumers": 300, "entry_mode": mode}
        numbers, text = abm.evaluate(**kwargs), evaluate_text(**kwargs)
        assert all(type(v) in (float, int, bool) for v in numbers.values()), numbers
        assert numbers["npv"] == text["npv"] and numbers["licence_month"] == text["licence_month"]
        for column in CODES:
            assert abm.decode(column, numbers[column]) == text[column].split(" (")[0]
        assert not set(NAMES_ONLY) & numbers.keys()


def test_the_code_table_knows_every_categorical_outcome_the_model_produces():
    from abm.sweeps import evaluate as evaluate_text

    seen: dict[str, set] = {column: set() for column in CODES}
    for preset in abm.preset_names():
        for seed in (1, 2):
            row = evaluate_text(preset, seed=seed, consumers=300)
            for column in CODES:
                seen[column].add(row[column])
                assert code(column, row[column]) != OTHER, (preset, column, row[column])
    assert len(seen["final_mode"]) >= 3 and len(seen["partnership_end_cause"]) >= 3


def _npv_of(point: dict) -> float:
    return abm.evaluate(seed=1, months=24, consumers=300, **point)["npv"]


def test_evaluate_plugs_into_a_generic_sampler_and_a_process_pool():
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from SALib.sample import latin

    problem = {"num_vars": 2, "names": ["cultural_distance", "partner_commitment"], "bounds": [[0.5, 4], [0.2, 0.9]]}
    points = [dict(zip(problem["names"], map(float, row), strict=True)) for row in latin.sample(problem, 6, seed=2)]
    serial = [_npv_of(p) for p in points]
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
        parallel = list(pool.map(_npv_of, points))
    assert parallel == serial and len(set(serial)) > 1


# ---- notebook manners ---------------------------------------------------------------------------


def test_every_object_has_a_short_repr_and_an_html_card(smoke_results):
    from abm.display import model_html, model_repr
    from abm.model import MarketEntryModel

    run = abm.simulate("alpha-beta", seed=7, months=24, consumers=300)
    cmp = abm.compare("alpha-beta", replications=2, months=12, consumers=300)
    objects = [run, cmp, abm.load_results(smoke_results), run.scenario]
    for obj in objects:
        text, card = repr(obj), obj._repr_html_()
        assert len(text) <= 200 and text.startswith(type(obj).__name__ + "("), text
        assert card.startswith("<div>") and len(card) < 6000
    assert "seed=7" in repr(run) and "npv=" in repr(run)
    assert "alone, alliance, joint_venture, acquisition" in repr(cmp) and "<table" in cmp._repr_html_()
    assert "24/24" in repr(objects[2])
    model = MarketEntryModel("alpha-beta", seed=3, consumers=300)
    model.run(5)
    try:
        assert repr(model) == model_repr(model) == "MarketEntryModel('alpha-beta', seed=3, month=5 of 120)"
        assert "share: Alpha Co." in model._repr_html_() == model_html(model)
    finally:
        model.release()


def test_compare_takes_a_preset_name_and_defaults_to_the_entry_modes():
    by_name = abm.compare("alpha-beta", replications=2, months=12, consumers=300)
    by_object = abm.compare(abm.load_scenario("alpha-beta"), replications=2, months=12, consumers=300)
    assert list(by_name.variants) == list(abm.vocabulary.ENTRY_MODES)
    from abm import compare as module  # the app and the CLI use the module: both ways work

    assert module.compare is abm.compare.compare and isinstance(by_name, module.Comparison)
    pd.testing.assert_frame_equal(by_name.summary, by_object.summary)


def test_progress_bars_come_from_tqdm_auto():
    import tqdm.auto

    from abm.progress import progress_bar

    with progress_bar(total=1, disable=True) as bar:
        assert isinstance(bar, tqdm.auto.tqdm)
