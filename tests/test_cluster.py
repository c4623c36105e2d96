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


def test_a_batch_whose_dask_future_fails_is_submitted_again_and_gives_the_same_runs(tmp_path, monkeypatch):
    """A batch's future can fail for a reason that is not the run's (once in CI: an asyncio
    error inside the client after a worker was killed, which aborted the sweep). The runs are
    seeded, so run_dask submits the batch again, up to DASK_SUBMISSIONS times, and only then
    reports the error for each of its tasks."""
    import logging

    from distributed import Client, LocalCluster

    from abm import executors

    counter = tmp_path / "calls"
    counter.write_text("0")
    real = executors.call_each

    def flaky(fn, chunk, fail_first=2, path=str(counter)):
        with open(path) as f:
            n = int(f.read()) + 1
        with open(path, "w") as f:
            f.write(str(n))
        if n <= fail_first:
            raise RuntimeError("the cluster lost the batch")
        return real(fn, chunk)

    monkeypatch.setattr(executors, "call_each", flaky)
    tasks = [(i, -i) for i in range(4)]
    with (
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None, silence_logs=logging.CRITICAL
        ) as cluster,
        Client(cluster) as client,
    ):
        out = dict(executors.run_dask(abs, tasks, client=client, batch=4))
        assert out == {i: i for i in range(4)} and counter.read_text() == "3"  # two failures, then the runs

        counter.write_text("-100")  # fails every time from here: reported after DASK_SUBMISSIONS submissions
        monkeypatch.setattr(executors, "call_each", lambda fn, chunk: flaky(fn, chunk, fail_first=10**6))
        out = dict(executors.run_dask(abs, tasks, client=client, batch=4))
        assert set(out) == {0, 1, 2, 3} and all(isinstance(v, RuntimeError) for v in out.values())
        assert counter.read_text() == str(-100 + executors.DASK_SUBMISSIONS)


def _worker_state() -> tuple[bool, bool]:
    from abm import consumer_kernels, executors

    return consumer_kernels.ENABLED, executors._PRIMED[0]


@pytest.mark.slow
def test_dask_workers_are_readied_for_runs_as_they_join():
    """A worker in ``auto`` mode used to make its first 50 or so runs on the numpy path; the
    cluster's plugin loads and primes the compiled loops on every worker as it joins."""
    from abm import consumer_kernels
    from abm.executors import DaskCluster

    expected = consumer_kernels.available() and consumer_kernels.MODE not in consumer_kernels.OFF
    with DaskCluster(local_workers=1) as cluster:
        states = list(cluster.client.run(_worker_state).values())
        assert states == [(expected, expected)]
        cluster.cluster.scale(2)  # a worker that joins later is readied too
        cluster.client.wait_for_workers(2, timeout=120)
        assert list(cluster.client.run(_worker_state).values()) == [(expected, expected)] * 2
