"""Installed from a wheel, without the repository, the documented first steps work."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UV = Path(sys.executable).parent / "uv"


def _run(cmd: list, cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.mark.slow
def test_a_wheel_installed_in_a_fresh_venv_runs_the_readme_job_a_shipped_sweep_and_its_analysis(tmp_path):
    uv = str(UV) if UV.exists() else shutil.which("uv")
    if uv is None:
        pytest.skip("uv is needed to build and install the wheel (make setup installs it)")
    # sdist first, then the wheel from it: what a user building from the sources gets, and no
    # stale files of an earlier build/ folder can slip into the wheel
    built = _run([uv, "build", "--out-dir", tmp_path / "dist", ROOT], tmp_path)
    assert built.returncode == 0, built.stderr[-3000:]
    assert "SetuptoolsDeprecationWarning" not in built.stderr  # the licence table form warned
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        metadata = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: MIT" in metadata and "License-File: LICENSE" in metadata
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "abm/experiments/smoke.toml" in names and "abm/experiments/sobol_npv_share.toml" in names
    assert "abm/sweeps/analysis/stats.py" in names and "abm/sweeps/analysis.py" not in names

    venv = tmp_path / "venv"
    assert _run([uv, "venv", "-q", venv, "--python", sys.executable], tmp_path).returncode == 0
    python = venv / "bin" / "python"
    installed = _run([uv, "pip", "install", "-q", "--python", python, "-c", ROOT / "constraints.txt", wheel], tmp_path)
    assert installed.returncode == 0, installed.stderr[-3000:]
    work = tmp_path / "work"  # outside the repository: nothing of the checkout is reachable
    work.mkdir()
    abm = venv / "bin" / "abm"
    where = _run([python, "-c", "import abm; print(abm.__file__, abm.__version__)"], work)
    assert str(venv) in where.stdout and str(ROOT) not in where.stdout

    job = _run([abm, "run", "-n", "2", "--months", "24", "--workers", "1", "--out", "job"], work)
    assert job.returncode == 0, job.stderr[-3000:]
    assert (work / "job" / "summary.md").is_file() and (work / "job" / "share_fan_chart.png").is_file()

    listed = _run([abm, "experiments"], work)
    assert listed.returncode == 0 and "smoke" in listed.stdout and "sobol_npv_share" in listed.stdout
    sweep = _run([abm, "sweep", "smoke", "-q", "--workers", "1"], work)
    assert sweep.returncode == 0 and "sweep complete (24/24)" in sweep.stdout, sweep.stderr[-3000:]
    analyzed = _run([abm, "analyze", "results/smoke"], work)
    assert analyzed.returncode == 0, analyzed.stderr[-3000:]
    assert (work / "results" / "smoke" / "analysis" / "report.md").is_file()

    bench = _run([abm, "bench", "--quick"], work)
    assert bench.returncode == 2 and bench.stderr.count("\n") == 1 and "repository checkout" in bench.stderr
    reference = _run([python, "-m", "abm.parameters_doc"], work)
    assert reference.returncode == 0 and reference.stdout.startswith("# Scenario parameters")
