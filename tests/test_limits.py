"""The limits on input (abm/limits.py) and what they guard against: files that are not
files, nesting that crashes the parser, sizes computed before anything is built, workers
beyond the cores, names that would leave results/, and what a killed process leaves behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from abm import limits
from abm.cli import main
from abm.errors import InputError
from abm.folders import clean_partials, prepare_parent, slug
from abm.scenario import Scenario, ScenarioError, _first_repeat

ROOT = Path(__file__).resolve().parents[1]


# ---- files -----------------------------------------------------------------------------------


def test_a_fifo_is_refused_at_once_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    started = time.perf_counter()
    with pytest.raises(ScenarioError, match="regular file"):
        Scenario.load(fifo)
    assert time.perf_counter() - started < 2


@pytest.mark.parametrize("path", ["/dev/zero", "/dev/null"])
def test_devices_are_refused(path):
    with pytest.raises(ScenarioError, match="regular file"):
        Scenario.load(path)


def test_a_huge_file_is_refused_unread(tmp_path):
    huge = tmp_path / "huge.toml"
    with open(huge, "wb") as fh:
        fh.truncate(limits.MAX_TOML_BYTES + 1)  # sparse
    with pytest.raises(ScenarioError, match="at most 1,000,000 bytes"):
        Scenario.load(huge)


def test_a_folder_and_binary_are_refused(tmp_path):
    with pytest.raises(ScenarioError, match="folder"):
        Scenario.load(tmp_path)
    binary = tmp_path / "b.toml"
    binary.write_bytes(b"\xff\xfe\x00" * 100)
    with pytest.raises(ScenarioError, match="UTF-8"):
        Scenario.load(binary)


@pytest.mark.parametrize(
    "text",
    ["x = " + "[" * 5000 + "]" * 5000, "x = " + "{a = " * 3000 + "1" + "}" * 3000, "x = " + "[" * 40 + "]" * 40],
)
def test_deep_nesting_is_one_error_not_a_recursion_error(text):
    with pytest.raises(ScenarioError, match="nested at most 32 levels"):
        Scenario.from_toml(text)


def test_a_long_firm_list_is_refused_before_its_items_are_read():
    data = {"partners": [{"name": f"P{i}"} for i in range(100_000)]}
    started = time.perf_counter()
    with pytest.raises(ScenarioError, match="at most 64 items"):
        Scenario.from_dict(data, "")
    assert time.perf_counter() - started < 1


def test_the_duplicate_name_check_is_linear():
    names = [f"n{i}" for i in range(200_000)] + ["n5"]
    started = time.perf_counter()
    assert _first_repeat(names) == "n5"
    assert _first_repeat(["a", "b"]) is None
    assert time.perf_counter() - started < 1  # the old names.count() loop took minutes


def test_countries_with_no_dimension_in_common_fail_on_load():
    from abm.culture import countries

    scored = {c.code: {d for d, v in c.scores.items() if v is not None} for c in countries().values()}
    pair = next(((a, b) for a in scored for b in scored if not scored[a] & scored[b]), None)
    if pair is None:
        pytest.skip("every pair of countries shares a dimension in this data")
    base = Scenario()
    with pytest.raises(ScenarioError, match=r"entrants\[0\]\.home_country"):
        base.with_overrides({"home_country": pair[0], "host_country": pair[1]})


# ---- numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["0", "-3", "abc", "1.5", "", "1e3", "9" * 25, "\u0661", "0x10"])
def test_whole_numbers_from_the_command_line(text):
    with pytest.raises(InputError):
        limits.whole_number("--x", text, 1, 1000)


def test_whole_number_accepts_plain_digits():
    assert limits.whole_number("--x", " 42 ", 1, 100) == 42


def test_workers_are_at_most_a_small_multiple_of_the_cores():
    hi = limits.max_workers()
    assert limits.check_workers("--workers", hi) == hi
    with pytest.raises(InputError, match="worker processes"):
        limits.check_workers("--workers", hi + 1)


def test_an_error_line_quotes_a_shortened_value():
    err = InputError("field", "x" * 15_000_000, "something else")
    assert len(str(err)) < 200 and "..." in str(err)


# ---- designs are sized before they are built --------------------------------------------------


def _spec(**extra):
    data = {
        "name": "sized",
        "scenario": "alpha-beta",
        "months": 3,
        "fixed": {"consumers": 100},
        "parameters": {"entry_mode": ["alone", "alliance"]},
    }
    data.update(extra)
    return data


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"replications": 10**18}, "replications"),
        (
            {"replications": 100_000, "parameters": {"cultural_distance": {"min": 0, "max": 5, "levels": 1000}}},
            "at most 10,000,000 runs",
        ),
        ({"parameters": {"cultural_distance": {"min": 0, "max": 5, "levels": 10**9}}}, "levels"),
        (
            {
                "parameters": {
                    f"partners[0].{k}": {"min": 0.0, "max": 1.0, "levels": 1000}
                    for k in ("commitment", "cultural_fit", "ambition")
                }
            },
            "at most 1,000,000 points",
        ),
        (
            {
                "parameters": {"partner_commitment": {"min": 0.1, "max": 0.9}},
                "design": {"kind": "sobol", "samples": 2**40},
            },
            "design.samples",
        ),
    ],
)
def test_a_design_too_big_is_refused_before_anything_is_drawn_or_written(tmp_path, extra, words):
    from abm.sweeps.runner import run_sweep

    started = time.perf_counter()
    with pytest.raises(InputError, match=words.replace("(", r"\(")):
        run_sweep(_spec(**extra), out=tmp_path / "out", progress=False, echo=False)
    assert time.perf_counter() - started < 5
    assert not (tmp_path / "out").exists()
    assert list(tmp_path.iterdir()) == []


# ---- names and places ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("x/../../../escaped", "x-escaped"),
        ("..", "scenario"),
        ("Alpha & Beta", "Alpha-Beta"),
        ("ok-name_1.2", "ok-name_1.2"),
    ],
)
def test_slug(name, expected):
    assert slug(name) == expected


def test_a_scenario_name_cannot_lead_out_of_results(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = main(
        [
            "run",
            "--set",
            "name=x/../../../escaped",
            "--set",
            "consumers=200",
            "--months",
            "3",
            "-n",
            "1",
            "--modes",
            "alone",
            "--workers",
            "1",
            "-q",
        ]
    )
    assert code == 0
    made = [p for p in tmp_path.rglob("*") if p.is_dir()]
    assert all(p.resolve().is_relative_to(tmp_path / "results") for p in made)
    (folder,) = (tmp_path / "results").iterdir()
    assert folder.name.startswith("run-x-escaped-")
    assert not (tmp_path.parent / "escaped").exists()


@pytest.mark.parametrize("where", ["afile/out", "/proc/abm-never/out"])
def test_an_out_that_cannot_be_created_fails_before_simulating(tmp_path, monkeypatch, capsys, where):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("x")
    started = time.perf_counter()
    assert main(["run", "--out", where, "-q"]) == 2  # the default run would take minutes
    assert time.perf_counter() - started < 10
    err = capsys.readouterr().err.strip()
    assert err.startswith("abm: error: --out") and "\n" not in err


# ---- leftovers of a killed process -------------------------------------------------------------


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_partial_folders_of_dead_processes_are_removed(tmp_path):
    dead = tmp_path / f".partial-{_dead_pid()}-abc"
    dead_sweep = tmp_path / f".interrupted.partial-{_dead_pid()}-xyz"
    mine = tmp_path / f".partial-{os.getpid()}-live"
    other = tmp_path / ".partial-notapid"
    for d in (dead, dead_sweep, mine, other):
        d.mkdir()
    (dead / "steps.parquet").write_bytes(b"truncated")
    assert sorted(clean_partials(tmp_path)) == sorted([dead, dead_sweep])
    assert mine.exists() and other.exists()
    prepare_parent(tmp_path / "new")
    assert mine.exists()


def test_kill_9_during_abm_run_leaves_nothing_the_next_run_keeps(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [sys.executable, "-m", "abm.cli", "run", "-n", "500", "--workers", "1", "-q", "--out", "results/first"]
    proc = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not list((tmp_path / "results").glob(".partial-*")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert list((tmp_path / "results").glob(f".partial-{proc.pid}-*")), "the run makes its folder first"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    prepare_parent(tmp_path / "results" / "second")  # what every writing command does first
    assert not list((tmp_path / "results").glob(".partial-*"))
    assert not (tmp_path / "results" / "first").exists()


def test_a_killed_sweep_session_is_recorded_as_interrupted(tmp_path):
    from abm.sweeps.runner import run_sweep

    out = tmp_path / "sweep"
    run_sweep(_spec(), out=out, workers=1, progress=False, echo=False)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["sessions"][0]["status"] = "running"  # what kill -9 leaves
    manifest["sessions"][0]["ended"] = None
    (out / "manifest.json").write_text(json.dumps(manifest))
    run_sweep(_spec(), out=out, workers=1, progress=False, echo=False)
    sessions = json.loads((out / "manifest.json").read_text())["sessions"]
    assert [s["status"] for s in sessions] == ["interrupted", "complete"]


def test_a_sweep_folder_being_created_by_a_killed_process_is_cleaned(tmp_path):
    from abm.sweeps.runner import run_sweep

    leftover = tmp_path / f".sweep.partial-{_dead_pid()}-q1"
    leftover.mkdir()
    (leftover / "manifest.json").write_text("{")
    run_sweep(_spec(), out=tmp_path / "sweep", workers=1, progress=False, echo=False)
    assert not leftover.exists()


# ---- the documentation -------------------------------------------------------------------------


def test_docs_limits_is_generated_from_limits_py():
    text = (ROOT / "docs" / "LIMITS.md").read_text(encoding="utf-8")
    assert text == limits.markdown(), "regenerate: python -m abm.limits > docs/LIMITS.md"
    for lim in limits.LIMITS:
        assert f"`{lim.name}`" in text


def test_every_limit_is_used_somewhere():
    sources = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "abm").rglob("*.py") if p.name != "limits.py")
    unused = [
        lim.name
        for lim in limits.LIMITS
        if lim.name not in sources and lim.name not in ("MAX_ECHO_CHARS", "WORKERS_PER_CORE")
    ]
    assert unused == []


def test_concurrent_readers_of_a_fifo_do_not_block(tmp_path):
    fifo = tmp_path / "p"
    os.mkfifo(fifo)
    errors = []

    def read():
        try:
            limits.read_text_file(fifo, "f")
        except InputError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=5)
    assert len(errors) == 4
