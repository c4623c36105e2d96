"""Sweeps: specs, designs, seeds, executors, resumable results, failures, bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.dataset as ds
import pytest

import abm
from abm.cli import main as abm_main
from abm.errors import InputError
from abm.seeding import run_seed
from abm.sweeps import build_design, evaluate, load_results, load_spec, sweep

ROOT = Path(__file__).resolve().parent.parent
SMOKE = ROOT / "experiments" / "smoke.toml"


def smoke_dict(**changes) -> dict:
    """The smoke spec as a dict, with changes (for variants written to tmp files)."""
    import tomllib

    data = tomllib.loads(SMOKE.read_text(encoding="utf-8"))
    if "parameters" in changes:
        data.pop("analysis")  # it names smoke's parameters
    data.update(changes)
    return data


def write_spec(path: Path, data: dict) -> Path:
    import tomli_w

    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def serial_smoke(tmp_path_factory) -> abm.sweeps.Results:
    out = tmp_path_factory.mktemp("serial") / "smoke"
    sweep(SMOKE, workers=1, out=out, progress=False, chunk_runs=5)
    return load_results(out)


# ---- spec and design ---------------------------------------------------------------------------


def test_smoke_spec_is_a_small_sweep_with_paths():
    spec = load_spec(SMOKE)
    design = build_design(spec)
    assert design.runs <= 50 and spec.months <= 36
    assert spec.keep.steps and spec.question.endswith("?")
    assert [p.key for p in spec.parameters] == ["entry_mode", "partners[0].commitment", "partner_cultural_fit"]


def test_factorial_design_is_the_product_of_levels_first_parameter_slowest():
    spec = load_spec(smoke_dict())
    d = build_design(spec)
    assert d.points == 2 * 3 * 2
    assert list(d.matrix.entry_mode[:6]) == ["alone"] * 6
    assert list(d.matrix.partners_0_commitment[:6]) == [0.3, 0.3, 0.6, 0.6, 0.9, 0.9]
    assert d.locate(13) == (6, 1)


def test_monte_carlo_mixes_categorical_and_numeric_and_is_deterministic():
    data = smoke_dict(
        design={"kind": "monte_carlo", "samples": 200},
        fixed={},
        parameters={
            "entry_mode": ["alone", "alliance", "joint_venture"],
            "cultural_distance": {"min": 0.5, "max": 4.0},
            "consumers": {"min": 300, "max": 900},
        },
    )
    a, b = build_design(load_spec(data)), build_design(load_spec(data))
    pd.testing.assert_frame_equal(a.matrix, b.matrix)
    m = a.matrix
    assert set(m.entry_mode) == {"alone", "alliance", "joint_venture"}
    assert m.cultural_distance.between(0.5, 4.0).all() and m.cultural_distance.nunique() == 200
    assert m.consumers.dtype == np.int64 and m.consumers.between(300, 900).all()
    data["master_seed"] = 43
    assert not build_design(load_spec(data)).matrix.equals(m)


def test_latin_hypercube_puts_one_point_in_every_stratum():
    data = smoke_dict(
        design={"kind": "latin_hypercube", "samples": 20},
        parameters={"cultural_distance": {"min": 0.0, "max": 4.0}, "partner_commitment": {"min": 0.2, "max": 1.0}},
    )
    m = build_design(load_spec(data)).matrix
    strata = np.floor((m.cultural_distance - 0.0) / 4.0 * 20).clip(0, 19)
    assert sorted(strata.astype(int)) == list(range(20))


def test_sobol_and_morris_sizes_follow_salib():
    params = {
        "cultural_distance": {"min": 0.5, "max": 4.0},
        "partner_commitment": {"min": 0.2, "max": 1.0},
        "regulatory_stringency": {"min": 0.1, "max": 0.9},
    }
    sob = build_design(load_spec(smoke_dict(design={"kind": "sobol", "samples": 8}, parameters=params)))
    assert sob.points == 8 * (3 + 2) and sob.problem["names"][0] == "cultural_distance"
    mor = build_design(load_spec(smoke_dict(design={"kind": "morris", "samples": 4}, parameters=params)))
    assert mor.points == 4 * (3 + 1)


def test_nested_partner_fields_and_flat_aliases_reach_the_scenario():
    data = smoke_dict(
        replications=1,
        keep={"steps": False},
        parameters={
            "partners[0].commitment": [0.25],
            "partners.regulatory_ties": [0.95],
            "regulatory_stringency": [0.8],
        },
    )
    spec = load_spec(data)
    s = spec.base.with_overrides(build_design(spec).overrides(0))
    assert s.partners[0].commitment == 0.25 and s.partners[0].regulatory_ties == 0.95
    assert all(r.stringency == 0.8 for r in s.regulators)
    assert spec.parameter("partners[0].commitment").fields == ("partners[0].commitment",)


# ---- seeds and rows ---------------------------------------------------------------------------


def test_every_run_has_its_own_seed_from_master_seed_and_run_index(serial_smoke):
    s = serial_smoke.summary
    spec = load_spec(SMOKE)
    assert list(s.run_id) == list(range(build_design(spec).runs))
    assert list(s.seed) == [run_seed(spec.master_seed, i) for i in s.run_id]
    assert s.seed.is_unique
    design = serial_smoke.design.set_index("point")
    for col in ("entry_mode", "partners_0_commitment", "partner_cultural_fit"):
        assert (s[col].to_numpy() == design.loc[s.point, col].to_numpy()).all()
    assert (s.point == s.run_id // spec.replications).all()
    # the outcome named like a parameter keeps its own column
    assert (s.entry_mode_result == s.entry_mode).all()


def test_common_random_numbers_give_each_replication_one_seed_across_points(tmp_path):
    data = smoke_dict(
        common_random_numbers=True,
        replications=2,
        keep={"steps": False},
        parameters={"entry_mode": ["alone", "alliance"]},
    )
    s = load_results(sweep(data, workers=1, out=tmp_path / "crn", progress=False)).summary
    assert list(s.seed) == [run_seed(42, r) for r in (0, 1, 0, 1)]


def test_evaluate_is_a_plain_function_of_parameters():
    out = evaluate(seed=3, months=12, consumers=300, cultural_distance=1.0)
    ref = abm.simulate(seed=3, months=12, consumers=300, cultural_distance=1.0).outcomes()
    assert isinstance(out, dict) and out.keys() == ref.keys()
    assert out["npv"] == ref["npv"] and out["share_y1"] == ref["share_y1"]


# ---- executors -----------------------------------------------------------------------------


@pytest.mark.slow
def test_serial_processes_and_dask_give_identical_results(serial_smoke, tmp_path):
    procs = load_results(sweep(SMOKE, workers=2, out=tmp_path / "procs", progress=False, chunk_runs=3))
    dask = load_results(sweep(SMOKE, dask_local=2, out=tmp_path / "dask", progress=False))
    for other in (procs, dask):
        pd.testing.assert_frame_equal(serial_smoke.summary, other.summary)
        pd.testing.assert_frame_equal(serial_smoke.paths, other.paths)
    assert len(serial_smoke.paths) > 0 and set(serial_smoke.paths.firm) == {"Alpha Co."}


@pytest.mark.slow
def test_dask_sweep_completes_when_a_worker_is_killed(tmp_path):
    import logging

    from distributed import Client, LocalCluster

    from abm.sweeps.runner import dask_batch

    data = smoke_dict(replications=8, keep={"steps": False})  # 96 runs: Dask tasks of 2 runs each
    assert dask_batch(96, 2) == 2
    reference = load_results(sweep(data, workers=1, out=tmp_path / "serial", progress=False)).summary
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.CRITICAL
        ) as cluster,
        Client(cluster) as client,
    ):
        pids = sorted(client.run(os.getpid).values())
        killed = {}

        def kill_one(done: int, total: int) -> None:
            if done >= 10 and not killed:
                os.kill(pids[0], signal.SIGKILL)
                killed["at"] = done

        out = sweep(data, scheduler=cluster.scheduler_address, out=tmp_path / "dask-kill", progress=kill_one)
    s = load_results(out).summary
    assert 10 <= killed["at"] < 96
    assert list(s.run_id) == list(range(96)) and s.run_id.is_unique
    pd.testing.assert_frame_equal(s, reference)


@pytest.mark.slow
def test_a_killed_sweep_resumes_to_the_uninterrupted_result(tmp_path):
    spec = write_spec(tmp_path / "long.toml", smoke_dict(name="long", replications=6))
    ref = load_results(sweep(spec, workers=1, out=tmp_path / "ref", progress=False))
    out = tmp_path / "killed"
    cmd = [
        sys.executable,
        "-m",
        "abm.cli",
        "sweep",
        str(spec),
        "--workers",
        "1",
        "--chunk-runs",
        "2",
        "--out",
        str(out),
        "-q",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list((out / "summary").glob("part-*"))) < 3:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_at_kill = len(load_results(out).summary)
    assert 0 < done_at_kill < 72, "the kill must land mid-sweep"
    # what a writer killed mid-chunk can leave: a temp file and a paths part without its summary
    (out / "summary" / ".tmp-part-0000-999999.parquet").write_bytes(b"PAR1 half a file")
    orphan = out / "paths" / "part-0000-999999.parquet"
    orphan.write_bytes(next((out / "paths").glob("part-*")).read_bytes())
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert f"{72 - done_at_kill} runs done" in p.stdout and f"{done_at_kill} already done before" in p.stdout
    res = load_results(out)
    assert res.summary.run_id.is_unique and list(res.summary.run_id) == list(range(72))
    pd.testing.assert_frame_equal(res.summary, ref.summary)
    pd.testing.assert_frame_equal(res.paths, ref.paths)
    assert not orphan.exists() and not list((out / "summary").glob(".tmp-*"))
    sessions = res.manifest["sessions"]
    # the killed session is recorded as interrupted by the session that resumed it
    assert [s["status"] for s in sessions] == ["interrupted", "complete"] and res.manifest["completed"]


def test_a_raising_run_lands_in_the_errors_table_and_the_sweep_finishes(tmp_path):
    # jv_life_min = 130 breaks jv_life_max (120) only in combination: a per-run failure
    data = smoke_dict(
        keep={"steps": False}, parameters={"contract.jv_life_min": [36, 130], "entry_mode": ["alone", "alliance"]}
    )
    out = sweep(data, workers=2, out=tmp_path / "errs", progress=False)
    res = load_results(out)
    assert len(res.summary) == 4 and len(res.errors) == 4
    assert set(res.errors.contract_jv_life_min) == {130} and set(res.summary.contract_jv_life_min) == {36}
    assert res.errors.traceback.str.contains("jv_life_max").all()
    assert res.errors.error.str.startswith("ScenarioError").all()
    assert list(res.errors.seed) == [run_seed(42, i) for i in res.errors.run_id]
    assert res.manifest["completed"]
    # a resume does not retry them: they are finished runs
    again = subprocess.run(
        [
            sys.executable,
            "-m",
            "abm.cli",
            "sweep",
            "--out",
            str(out),
            str(write_spec(tmp_path / "errs.toml", data)),
            "-q",
            "--workers",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0 and "0 runs done, 0 failed, 8 already done before" in again.stdout


def test_results_are_plain_parquet_with_one_schema_across_chunks(serial_smoke):
    path = serial_smoke.path
    assert len(list((path / "summary").glob("part-*.parquet"))) > 1
    table = ds.dataset(path / "summary", format="parquet").to_table()
    assert table.num_rows == 24 and "npv" in table.column_names
    assert ds.dataset(path / "paths", format="parquet").to_table().num_rows == len(serial_smoke.paths)
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["master_seed"] == 42 and manifest["versions"]["mesa"] == "3.3.1"
    assert manifest["design"]["runs"] == 24 and manifest["sessions"][0]["ended"]


@pytest.mark.slow
def test_memory_does_not_grow_with_sweep_size(tmp_path):
    """Peak RSS of a 300-run sweep stays within a few MB of a 30-run one. A run that
    leaked its model (Mesa 3.3.1 keeps models alive) costs ~0.15 MB each: 40 MB here."""
    script = (
        "import resource, sys, abm\n"
        "n = int(sys.argv[1])\n"
        "spec = {'name': 'mem', 'months': 12, 'replications': n, 'fixed': {'consumers': 500},\n"
        "        'parameters': {'entry_mode': ['alliance']}, 'keep': {'steps': True, 'every': 3}}\n"
        "abm.sweep(spec, workers=1, out=sys.argv[2], progress=False, chunk_runs=50)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    procs = {
        n: subprocess.Popen(
            [sys.executable, "-c", script, str(n), str(tmp_path / f"m{n}")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in (30, 300)
    }
    peaks = {}
    for n, proc in procs.items():
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        peaks[n] = int(out.split()[-1]) / 1024  # MB (ru_maxrss is in KiB on Linux)
        assert len(load_results(tmp_path / f"m{n}").summary) == n
    assert peaks[300] - peaks[30] < 20, peaks


# ---- rerun and analysis ---------------------------------------------------------------------


def test_rerun_reproduces_a_stored_run_and_shows_it(serial_smoke, capsys, tmp_path):
    code = abm_main(["rerun", str(serial_smoke.path), "13", "--out", str(tmp_path / "r13")])
    out = capsys.readouterr().out
    assert code == 0
    assert "equals the stored row" in out and "Event log" in out and "NPV" in out
    assert f"seed {run_seed(42, 13)}" in out
    steps = pd.read_parquet(tmp_path / "r13" / "steps.parquet")
    assert steps.month.max() == 24


def test_rerun_notices_a_stored_row_that_differs(serial_smoke, tmp_path, capsys):
    import shutil

    copy = tmp_path / "tampered"
    shutil.copytree(serial_smoke.path, copy)
    part = sorted((copy / "summary").glob("part-*"))[0]
    frame = pd.read_parquet(part)
    frame.loc[frame.run_id == frame.run_id.iloc[0], "npv"] += 1.0
    frame.to_parquet(part, index=False)
    assert abm_main(["rerun", str(copy), str(int(frame.run_id.iloc[0]))]) == 1
    assert "DIFFERS" in capsys.readouterr().out


def test_analyze_writes_tables_plots_and_report(serial_smoke, tmp_path):
    import shutil

    copy = tmp_path / "smoke"
    shutil.copytree(serial_smoke.path, copy)
    folder = abm.analyze(copy)
    assert folder == copy / "analysis"
    report = (folder / "report.md").read_text()
    assert "Where each entry mode wins" in report and "Partnership survival" in report
    by_mode = pd.read_csv(folder / "tables" / "by_entry_mode.csv")
    assert list(by_mode.entry_mode) == ["alone", "alliance"] and by_mode.runs.sum() == 24
    s = serial_smoke.summary
    assert by_mode.npv_mean.iloc[0] == pytest.approx(s[s.entry_mode == "alone"].npv.mean())
    for name in ("effects_npv.png", "fan_market_share.png", "partnership_survival.png", "best_entry_mode_npv.png"):
        assert (folder / name).read_bytes()[:4] == b"\x89PNG", name
        assert f"]({name})" in report
    abm.analyze(copy)  # again: replaces its own folder


def test_sobol_indices_find_the_inert_parameter(tmp_path):
    """With common random numbers every run shares one seed, so the outcome is a function
    of the parameters alone: a parameter the model never reads gets indices of 0."""
    data = {
        "name": "sob",
        "months": 24,
        "design": {"kind": "sobol", "samples": 16},
        "master_seed": 5,
        "common_random_numbers": True,
        "fixed": {"consumers": 500},
        "parameters": {
            "entrants.price": {"min": 18.0, "max": 40.0},
            "mode_choice.risk_aversion": {"min": 0.0, "max": 5.0},
        },  # only read by entry_mode = auto
        "analysis": {"outcomes": ["npv", "share_final"]},
    }
    out = sweep(data, workers=2, out=tmp_path / "sob", progress=False)
    folder = abm.analyze(out)
    idx = pd.read_csv(folder / "tables" / "sobol_npv.csv").set_index("parameter")
    assert idx.loc["mode_choice.risk_aversion", "ST"] == pytest.approx(0, abs=1e-9)
    assert idx.loc["mode_choice.risk_aversion", "S1"] == pytest.approx(0, abs=1e-9)
    assert idx.loc["entrants.price", "ST"] > 0.5
    assert (folder / "sobol_indices.png").exists() and "S1 (95 % CI)" in (folder / "report.md").read_text()


def test_morris_screening_ranks_an_influential_parameter_first(tmp_path):
    data = {
        "name": "mor",
        "months": 24,
        "design": {"kind": "morris", "samples": 6},
        "master_seed": 5,
        "common_random_numbers": True,
        "fixed": {"consumers": 500},
        "parameters": {
            "entrants.price": {"min": 18.0, "max": 40.0},
            "mode_choice.risk_aversion": {"min": 0.0, "max": 5.0},
        },
    }
    folder = abm.analyze(sweep(data, workers=1, out=tmp_path / "mor", progress=False))
    idx = pd.read_csv(folder / "tables" / "morris_npv.csv").set_index("parameter")
    assert idx.loc["mode_choice.risk_aversion", "mu_star"] == 0
    assert idx.loc["entrants.price", "mu_star"] > 0


# ---- bad input -------------------------------------------------------------------------------

BAD_SPECS = {
    "malformed": ("name = 'x'\n[parameters\nentry_mode = [1", "valid TOML"),
    "unknown parameter": ("[parameters]\npartner_comitment = [0.2, 0.4]\n", "did you mean 'partner_commitment'"),
    "empty range": ("[parameters]\ncultural_distance = { min = 1.0, max = 1.0, levels = 2 }\n", "min < max"),
    "inverted range": ("[parameters]\ncultural_distance = { min = 3.0, max = 1.0, levels = 2 }\n", "min < max"),
    "out of bounds": ("[parameters]\npartner_commitment = { min = 0.5, max = 1.5, levels = 2 }\n", "[0, 1]"),
    "no replications": ("replications = 0\n[parameters]\nentry_mode = ['alone']\n", "replications = 0"),
    "unknown design": ("design = 'taguchi'\n[parameters]\nentry_mode = ['alone']\n", "factorial, monte_carlo"),
    "list in sobol": (
        "[design]\nkind = 'sobol'\nsamples = 8\n[parameters]\nentry_mode = ['alone', 'alliance']\n",
        "numeric range",
    ),
    "sobol not power of 2": (
        "[design]\nkind = 'sobol'\nsamples = 10\n[parameters]\ncultural_distance = { min = 1.0, max = 2.0 }\n",
        "power of 2",
    ),
    "missing levels": ("[parameters]\ncultural_distance = { min = 1.0, max = 2.0 }\n", "levels"),
    "bad value": ("[parameters]\nentry_mode = ['alone', 'franchise']\n", "franchise"),
    "unknown key": ("replicatons = 3\n", "did you mean 'replications'"),
    "fixed and varied": ("[fixed]\nconsumers = 500\n[parameters]\nconsumers = [500, 800]\n", "not also varied"),
    "range of text": ("[parameters]\nentry_mode = { min = 1, max = 2 }\n", "a list of values"),
}


@pytest.mark.parametrize("case", list(BAD_SPECS))
def test_bad_spec_is_one_line_exit_2_and_writes_nothing(case, tmp_path, capsys):
    text, expected = BAD_SPECS[case]
    spec = tmp_path / "bad.toml"
    spec.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    assert abm_main(["sweep", str(spec), "--out", str(out), "--workers", "1", "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("abm: error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert expected in err
    assert not out.exists()


def test_unreachable_scheduler_is_refused_before_anything_is_written(tmp_path, capsys):
    out = tmp_path / "out"
    assert abm_main(["sweep", str(SMOKE), "--scheduler", "tcp://127.0.0.1:9", "--out", str(out), "-q"]) == 2
    err = capsys.readouterr().err
    assert "reachable Dask scheduler" in err and err.count("\n") == 1
    assert not out.exists()


def test_a_different_spec_cannot_reuse_a_results_folder(serial_smoke, tmp_path, capsys):
    import shutil

    copy = tmp_path / "smoke"
    shutil.copytree(serial_smoke.path, copy)
    before = sorted((p.relative_to(copy), p.stat().st_mtime_ns) for p in copy.rglob("*"))
    other = write_spec(tmp_path / "other.toml", smoke_dict(master_seed=43))
    assert abm_main(["sweep", str(other), "--out", str(copy), "-q"]) == 2
    assert "different specification" in capsys.readouterr().err
    assert sorted((p.relative_to(copy), p.stat().st_mtime_ns) for p in copy.rglob("*")) == before


def test_option_errors_name_the_option(serial_smoke, tmp_path, capsys):
    with pytest.raises(InputError, match="--workers"):
        sweep(SMOKE, workers=0, out=tmp_path / "x", progress=False)
    with pytest.raises(InputError, match="one executor at a time"):
        sweep(SMOKE, workers=2, dask_local=2, out=tmp_path / "x", progress=False)
    assert not (tmp_path / "x").exists()
    assert abm_main(["rerun", str(serial_smoke.path), "999"]) == 2
    assert "RUN_ID = 999" in capsys.readouterr().err
    assert abm_main(["analyze", str(tmp_path)]) == 2
    assert "results folder" in capsys.readouterr().err
