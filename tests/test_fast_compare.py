"""The cheaper Compare (abm/compare.py, abm/executors.py): batches of runs on a warm pool kept
between calls, the focal entrant's rows only (``keep_steps="focal"``), summary rows and events
without per-run frames. Each must give what the plain path gives, frame for frame."""

import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures.process import BrokenProcessPool

import numpy as np
import pandas as pd
import psutil
import pytest

import abm
from abm import consumer_kernels, executors
from abm.compare import compare
from abm.errors import InputError
from abm.model import MarketEntryModel
from abm.simulation import outcomes_of

SMALL = {"consumers": 400, "months": 30}
MODES = {"alone": {"entry_mode": "alone"}, "alliance": {"entry_mode": "alliance"}}


@pytest.fixture(scope="module", autouse=True)
def pools_closed():
    """The warm pools this module starts are shut down after it (a server keeps them)."""
    yield
    executors.close_warm_pools()


def frames(c):
    return {name: getattr(c, name) for name in ("summary", "steps", "events", "failures")}


def assert_same(a, b):
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], check_exact=True, obj=name)


@pytest.mark.parametrize("preset", ["alpha-beta", "two-entrants"])
def test_a_warm_pool_gives_the_serial_results_call_after_call(preset):
    """12 replications: batches of 10 and 2 on two workers; the same seeds give the same frames
    on the pool (twice, the second on the same warm workers) as one by one in this process."""
    serial = frames(compare(preset, MODES, replications=12, master_seed=5, workers=1, **SMALL))
    first = frames(compare(preset, MODES, replications=12, master_seed=5, workers=2, warm=True, **SMALL))
    second = frames(compare(preset, MODES, replications=12, master_seed=5, workers=2, warm=True, **SMALL))
    assert len(serial["summary"]) == 24 and serial["failures"].empty
    assert_same(first, serial)
    assert_same(second, serial)
    other = compare(preset, MODES, replications=12, master_seed=6, workers=2, warm=True, **SMALL)
    assert not other.summary.npv.equals(serial["summary"].npv)  # the seeds, not a cache, decide


def test_the_warm_pool_is_kept_and_runs_outside_this_process():
    pool = executors.warm_pool(2)
    assert executors.warm_pool(2) is pool
    pids = {pid for _, pid in executors.run_local(executors._started, [(i, i) for i in range(8)], workers=2, warm=True)}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2
    again = {
        pid for _, pid in executors.run_local(executors._started, [(i, i) for i in range(8)], workers=2, warm=True)
    }
    assert len(pids | again) <= 2  # the same two workers, not fresh forks


def test_a_warm_pool_whose_worker_died_is_replaced():
    """A worker killed during a call fails that call's tasks (BrokenProcessPool, the rest of the
    server goes on); the next call gets a fresh pool and the serial results."""
    serial = frames(compare("alpha-beta", MODES, replications=4, master_seed=3, **SMALL))
    pool = executors.warm_pool(2)
    [(index, died)] = executors.run_local(os._exit, [(0, 3)], workers=2, warm=True)
    assert index == 0 and isinstance(died, BrokenProcessPool)
    again = frames(compare("alpha-beta", MODES, replications=4, master_seed=3, workers=2, warm=True, **SMALL))
    assert executors.warm_pool(2) is not pool
    assert_same(again, serial)


def test_a_warm_pools_workers_leave_ctrl_c_to_the_parent():
    """A terminal's Ctrl+C reaches every process of the group: the idle warm workers ignore it (each
    printed a traceback when ``abm app`` stopped) and stay; the parent shuts the pool down."""
    pool = executors.warm_pool(2)
    for pid in pool._processes:
        os.kill(pid, signal.SIGINT)
    pids = {pid for _, pid in executors.run_local(executors._started, [(i, i) for i in range(6)], workers=2, warm=True)}
    assert executors.warm_pool(2) is pool and pids <= set(pool._processes)


def test_a_warm_pools_workers_end_when_their_parent_is_killed():
    """A server killed outright cannot shut its pool down: its idle workers notice and end within
    seconds instead of waiting for work forever."""
    code = (
        "import os, signal\n"
        "from abm import executors\n"
        "print(*executors.warm_pool(2)._processes, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    out, _ = child.communicate(timeout=60)  # the workers hold the pipe until they end
    workers = [int(pid) for pid in out.split()]
    assert child.returncode == -signal.SIGKILL and len(workers) == 2
    deadline = time.monotonic() + 10
    while any(psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie" for pid in workers):
        assert time.monotonic() < deadline, "a worker outlived its killed parent"
        time.sleep(0.1)


def _closed_by_peer(sock: socket.socket) -> bool:
    """True when the other end closed the connection (EOF within 5 s)."""
    sock.settimeout(5)
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False


@pytest.mark.parametrize("warm", [True, False])
def test_a_connection_the_parent_closes_ends_while_its_workers_live(warm):
    """The app's charts stayed empty with the warm pool kept in the server: its forked workers held
    the server's client connections open (a browser's idle keep-alive connection, closed by the
    server, never saw the close and took the page's next request into the void). The workers now
    let go of every inherited socket, so a connection the parent closes ends for the peer, while
    the pool lives, warm or forked for one call."""
    with socket.create_server(("127.0.0.1", 0)) as server, socket.create_connection(server.getsockname()) as browser:
        connection, _ = server.accept()
        runs = executors.run_local(executors._started, [(i, i) for i in range(4)], workers=2, warm=warm)
        pids = {next(runs)[1]}  # the pool has forked (while the connection was open) and runs
        connection.close()
        assert _closed_by_peer(browser)
        pids |= {pid for _, pid in runs}
        assert os.getpid() not in pids


@pytest.mark.parametrize("preset", ["alpha-beta", "two-entrants"])
def test_focal_steps_are_the_focal_entrants_rows_of_the_full_steps(preset):
    full = compare(preset, MODES, replications=3, master_seed=2, **SMALL)
    focal = compare(preset, MODES, replications=3, master_seed=2, keep_steps="focal", **SMALL)
    name = full.scenario.entrants[0].name
    expected = full.steps[full.steps.firm == name].reset_index(drop=True)
    pd.testing.assert_frame_equal(focal.steps, expected, check_exact=True)
    assert len(focal.steps) == 6 * (SMALL["months"] + 1)
    for part in ("summary", "events", "failures"):
        pd.testing.assert_frame_equal(getattr(focal, part), getattr(full, part), check_exact=True)
    none = compare(preset, MODES, replications=3, master_seed=2, keep_steps=False, **SMALL)
    assert none.steps.empty
    pd.testing.assert_frame_equal(none.summary, full.summary, check_exact=True)


@pytest.mark.parametrize("keep", ["all", 1, None])
def test_keep_steps_is_checked(keep):
    with pytest.raises(InputError, match="keep_steps"):
        compare("alpha-beta", MODES, replications=1, keep_steps=keep, **SMALL)


@pytest.mark.parametrize("preset", ["alpha-beta", "two-entrants"])
def test_outcomes_without_frames_are_the_run_results(preset):
    for seed in range(2):
        model = MarketEntryModel(preset, seed=seed, **SMALL)
        model.keep_steps = False
        model.run()
        row = outcomes_of(model)
        model.release()
        full = abm.simulate(preset, seed=seed, **SMALL).outcomes()
        assert list(row) == list(full)
        pd.testing.assert_frame_equal(pd.DataFrame([row]), pd.DataFrame([full]), check_exact=True)


def test_the_app_uses_every_core_at_a_lower_priority():
    from abm.app import jobs

    assert jobs.app_workers() == executors.available_cores()
    assert jobs.WORKER_NICENESS > 0


def test_the_apps_pool_starts_once_with_a_worker_per_core_below_the_server():
    """``abm app`` starts the pool before it serves; every comparison then finds the same one."""
    from abm.app import jobs

    jobs.start_pool()
    with executors.worker_niceness(jobs.WORKER_NICENESS):
        pool = executors.warm_pool(jobs.app_workers())
    jobs.start_pool()
    with executors.worker_niceness(jobs.WORKER_NICENESS):
        assert executors.warm_pool(jobs.app_workers()) is pool
    assert len(pool._processes) == jobs.app_workers()
    expected = [min(19, os.nice(0) + jobs.WORKER_NICENESS)] * jobs.app_workers()
    deadline = time.monotonic() + 10  # a worker may still be in its initializer (one took both first tasks)
    while [psutil.Process(pid).nice() for pid in pool._processes] != expected:
        assert time.monotonic() < deadline, [psutil.Process(pid).nice() for pid in pool._processes]
        time.sleep(0.05)


@pytest.mark.skipif(not consumer_kernels.available(), reason="numba missing or ABM_NUMBA=0")
@pytest.mark.parametrize("n", [1, 7, 8, 9, 403, 5000, 5003])
def test_segment_counts_by_words_are_the_counts(n):
    """The compiled count eight consumers at a time, against numpy, for any population size
    (rows that start off a word boundary, a tail shorter than a word)."""
    consumer_kernels.enable()
    rng = np.random.default_rng(n)
    aware = rng.random((3, n)) < 0.4
    starts = np.unique(np.r_[0, rng.integers(0, n, max(1, n // 9))]).astype(np.int64)
    cell_first = np.unique(np.r_[0, rng.integers(0, len(starts), max(1, len(starts) // 3))]).astype(np.int64)
    aware_in = np.zeros((3, len(starts)), dtype=np.int32)
    cell_aware = np.zeros((3, len(cell_first)), dtype=np.int64)
    total = np.zeros(3, dtype=np.int64)
    consumer_kernels.segment_counts(aware, starts, n, cell_first, aware_in, cell_aware, total)
    expected = np.add.reduceat(aware.view(np.uint8), starts, axis=1, dtype=np.int32)
    np.testing.assert_array_equal(aware_in, expected)
    np.testing.assert_array_equal(cell_aware, np.add.reduceat(expected, cell_first, axis=1))
    np.testing.assert_array_equal(total, aware.sum(axis=1))
