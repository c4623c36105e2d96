"""Sweeps on a real Dask cluster: a scheduler and workers started as separate processes with
the ``dask`` command, as on a cluster's nodes, and the SLURM configuration of the docs."""

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from abm.sweeps import load_results, sweep

ROOT = Path(__file__).resolve().parent.parent
DASK = Path(sys.executable).with_name("dask")
SMOKE = ROOT / "abm" / "experiments" / "smoke.toml"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(args: list[str], log: Path) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen([str(DASK), *args], stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)


@pytest.mark.slow
def test_a_sweep_on_dask_scheduler_and_worker_processes_survives_a_killed_worker(tmp_path):
    import tomllib

    from distributed import Client

    data = tomllib.loads(SMOKE.read_text(encoding="utf-8"))
    data.update(replications=8, keep={"steps": False})  # 96 runs, Dask tasks of 2 runs
    reference = load_results(sweep(data, workers=1, out=tmp_path / "serial", progress=False)).summary

    address = f"tcp://127.0.0.1:{_free_port()}"
    procs = [
        _start(
            ["scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1], "--no-dashboard"],
            tmp_path / "scheduler.log",
        )
    ]
    try:
        for i in range(2):
            procs.append(
                _start(
                    ["worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard", "--name", f"w{i}"],
                    tmp_path / f"worker{i}.log",
                )
            )
        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
            worker_pids = {procs[1].pid, procs[2].pid}
            assert set(client.run(os.getpid).values()) == worker_pids  # the workers are our processes
        victim = procs[1]
        killed = {}

        def kill_one(done: int, total: int) -> None:
            if done >= 10 and not killed:
                os.kill(victim.pid, signal.SIGKILL)
                killed["at"] = done

        out = sweep(data, scheduler=address, out=tmp_path / "cluster", progress=kill_one)
        victim.wait(timeout=30)
        assert victim.returncode == -signal.SIGKILL and procs[2].poll() is None
    finally:
        for proc in reversed(procs):
            _stop(proc)
    s = load_results(out).summary
    assert 10 <= killed["at"] < 96
    assert list(s.run_id) == list(range(96))
    pd.testing.assert_frame_equal(s, reference)


def test_the_slurm_configuration_of_the_docs_builds_and_writes_its_job_script():
    pytest.importorskip("dask_jobqueue")
    from abm.executors import slurm_cluster

    cluster = slurm_cluster(
        cores=16,
        memory="32GB",
        walltime="02:00:00",
        queue="compute",
        account="my-project",
        job_script_prologue=["module load python/3.11", "source ~/abm/.venv/bin/activate"],
    )
    try:
        script = cluster.job_script()
        assert cluster.scheduler_address.startswith("tcp://")
        assert cluster.workers == {}  # nothing submitted until scale()
    finally:
        cluster.close()
    assert "#SBATCH -p compute" in script and "#SBATCH -A my-project" in script
    assert "#SBATCH -t 02:00:00" in script and "#SBATCH --cpus-per-task=16" in script
    assert "module load python/3.11" in script
    assert f"{sys.executable} -m distributed.cli.dask_worker" in script
    assert "--nthreads 1" in script and "--nworkers 16" in script and "--memory-limit 1.86GiB" in script
