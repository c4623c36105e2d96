"""The abm command line: the main job, listings, and bad input (exit 2, one line, no traceback)."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from abm.scenario import Scenario


def abm_cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "abm.cli", *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def test_run_writes_table_chart_and_frames(tmp_path):
    out = tmp_path / "run"
    p = abm_cli(
        "run",
        "-n",
        "3",
        "--modes",
        "alone,alliance",
        "--set",
        "consumers=600",
        "--months",
        "24",
        "--out",
        str(out),
        "--workers",
        "2",
        "-q",
    )
    assert p.returncode == 0, p.stderr
    assert "Share, year 1" in p.stdout and "P(target share by deadline)" in p.stdout
    assert "alone" in p.stdout and "alliance" in p.stdout
    for name in (
        "summary.parquet",
        "steps.parquet",
        "events.parquet",
        "share_fan_chart.png",
        "summary.md",
        "scenario.toml",
    ):
        assert (out / name).exists(), name
    summary = pd.read_parquet(out / "summary.parquet")
    assert len(summary) == 6 and summary.run_id.is_unique
    assert set(summary.variant) == {"alone", "alliance"}
    assert (out / "share_fan_chart.png").read_bytes()[:4] == b"\x89PNG"
    assert Scenario.load(out / "scenario.toml").months == 24


def test_run_is_deterministic_whatever_the_worker_count(tmp_path):
    args = ["run", "-n", "2", "--modes", "alliance", "--set", "consumers=500", "--months", "18", "-q", "--seed", "9"]
    assert abm_cli(*args, "--out", str(tmp_path / "a"), "--workers", "1").returncode == 0
    assert abm_cli(*args, "--out", str(tmp_path / "b"), "--workers", "2").returncode == 0
    a = pd.read_parquet(tmp_path / "a" / "summary.parquet")
    b = pd.read_parquet(tmp_path / "b" / "summary.parquet")
    pd.testing.assert_frame_equal(a, b)


def test_run_compares_candidate_partners(tmp_path):
    p = abm_cli(
        "run",
        "--scenario",
        "two-entrants",
        "--compare",
        "partners",
        "-n",
        "2",
        "--months",
        "12",
        "--set",
        "consumers=500",
        "--out",
        str(tmp_path / "p"),
        "-q",
    )
    assert p.returncode == 0, p.stderr
    assert {"Beta Tech", "Gamma Retail", "Delta Logistics"} <= set(p.stdout.split("\n")[1].split("  ")) or all(
        name.split()[0] in p.stdout for name in ("Beta", "Gamma", "Delta")
    )


def test_scenarios_lists_presets_and_show_scenario_round_trips(tmp_path):
    p = abm_cli("scenarios")
    assert p.returncode == 0 and "alpha-beta" in p.stdout and "(default)" in p.stdout
    shown = abm_cli("show-scenario", "strong-incumbents")
    assert shown.returncode == 0
    path = tmp_path / "mine.toml"
    path.write_text(shown.stdout)
    assert Scenario.load(path).name == "strong-incumbents"
    assert "VIE" in abm_cli("countries").stdout


def bad(*args):
    p = abm_cli(*args)
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    assert "Traceback" not in p.stderr
    lines = [line for line in p.stderr.strip().splitlines() if line.strip()]
    return lines[-1]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["run", "--scenario", "no-such"], "preset"),
        (["run", "--set", "partner_commitment=1.5"], "partners[0].commitment = 1.5"),
        (["run", "--set", "colour=blue"], "colour"),
        (["run", "--set", "novalue"], "KEY=VALUE"),
        (["run", "--replications", "0"], "--replications"),
        (["run", "--replications", "many"], "--replications"),
        (["run", "--workers", "-1"], "--workers"),
        (["run", "--seed", "x"], "--seed"),
        (["run", "--modes", "alone,franchise"], "franchise"),
        (["run", "--set", "host_country=XX"], "market.host_country"),
        (["show-scenario", "nope"], "preset"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_2(args, words):
    line = bad(*args)
    assert line.startswith("abm: error:") and words in line


def test_malformed_scenario_file_is_refused(tmp_path):
    f = tmp_path / "broken.toml"
    f.write_text("[market\nconsumers = 3")
    line = bad("run", "--scenario", str(f))
    assert "valid TOML" in line and "broken.toml" in line  # a long path keeps its end, the file's name


def test_existing_output_is_never_overwritten(tmp_path):
    out = tmp_path / "keep"
    out.mkdir()
    (out / "precious.txt").write_text("do not touch")
    line = bad("run", "-n", "1", "--out", str(out))
    assert "--out" in line
    assert (out / "precious.txt").read_text() == "do not touch"
    assert sorted(p.name for p in out.iterdir()) == ["precious.txt"]


def test_unknown_command_exits_2():
    p = abm_cli("frobnicate")
    assert p.returncode == 2 and "Traceback" not in p.stderr


def test_installed_entry_point_works():
    exe = Path(sys.executable).parent / "abm"
    if not exe.exists():
        pytest.skip("abm entry point not installed in this environment")
    p = subprocess.run([str(exe), "--version"], capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout.startswith("abm ")


def test_fan_chart_counts_a_sold_brand_as_the_summary_does():
    """After a buyout the brand sells on under its new owner: the entrant's share path, like
    the summary's share_y10, is 0 from then on."""
    import pandas as pd

    from abm.report import share_quantiles

    steps = pd.DataFrame(
        {
            "variant": ["joint_venture"] * 4,
            "month": [0, 1, 0, 1],
            "firm": ["Alpha Co."] * 4,
            "owner": ["Alpha Co.", "Beta Tech", "Alpha Co.", "Alpha Co."],
            "market_share": [0.2, 0.3, 0.2, 0.3],
        }
    )
    q = share_quantiles(steps, "Alpha Co.").set_index("month")
    assert q.loc[0, "p50"] == 0.2
    assert q.loc[1, "p50"] == pytest.approx(0.15)  # one run sold (0), one still owns (0.3)
