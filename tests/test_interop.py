"""The package behaves in other people's tools: notebooks, samplers, process pools, readers."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

import abm
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
