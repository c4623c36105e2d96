"""The benchmark suite behind ``abm bench``: single runs, the consumer kernel, scaling,
sweeps, and the app, each against its target.

    abm bench --quick                       # smoke run, < 1 minute on 2 cores
    abm bench                               # full run, several minutes
    python experiments/benchmarks/bench.py --quick --out /tmp/bench   # the same, by path

Every figure is the median of repeated measurements taken side by side in one session;
ratios (speed-ups, overheads) are medians of ratios of measurements taken back to back, so
that load from other processes hits both sides alike. Wall-clock time throughout
(``time.perf_counter``). Memory figures are peak resident set sizes of fresh subprocesses,
summed over the subprocess and its workers while they run.

The JSON written to ``results/benchmarks/<date>.json`` holds the headline figures named in
``FIGURES``, the targets, the machine, and the details of each measurement. See README.md
beside this file for what each figure means and how it is measured.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import gc
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import numpy_kernel  # noqa: E402
import reference_mesa_agents  # noqa: E402

FIGURES = {
    "ms_per_default_run": ("ms", "default scenario, 5,000 consumers x 120 months, one run", None),
    "us_per_consumer_month": ("us", "the same, per consumer-month", None),
    "speedup_vs_mesa_agents": ("x", "per-consumer Mesa agents with shuffle_do / our kernel", (">=", 100.0)),
    "overhead_vs_numpy": ("x", "whole default run / reference numpy kernel of the consumer update", ("<=", 0.7)),
    "consumer_scaling_exponent": ("", "d log(time per month) / d log(consumers), 10k and up", ("<=", 1.1)),
    "firm_scaling_exponent": ("", "d log(time per month) / d log(firms), largest market", ("<=", 1.1)),
    "parallel_efficiency": ("", "sweep runs/s on all cores / (serial runs/s x cores)", (">=", 0.85)),
    "dask_overhead_ms_per_run": ("ms", "Dask LocalCluster vs local processes, per run", None),
    "sobol_minutes_16_cores": ("min", "225,000-run Sobol study on 16 cores with Dask, projected", ("<=", 10.0)),
    "memory_growth_2k_to_20k": ("", "peak memory of a 20k-run sweep / a 2k-run sweep - 1", ("<=", 0.20)),
    "worker_memory_growth": ("", "a sweep worker's memory, last tenth / second tenth of its life - 1", ("<=", 0.10)),
    "speedup_vs_batch_run": ("x", "our sweep runs/s / mesa.batch_run runs/s, same grid", (">=", 1.5)),
    "memory_ratio_vs_batch_run": ("x", "our sweep's peak memory / mesa.batch_run's", ("<=", 0.3)),
    "app_step_render_ms": ("ms", "app: one month stepped and its charts built", ("<=", 150.0)),
    "app_compare_s": ("s", "app: Compare of 3 modes x 100 runs, as the app runs it (wall)", ("<=", 3.0)),
}
"""Headline figures: unit, what it is, target (comparison, bound) or None."""


@dataclass(frozen=True)
class Settings:
    """Sizes and repetitions of one benchmark mode."""

    mode: str
    repeats: int  # side-by-side repetitions of each paired timing
    default_runs: int  # runs timed for ms_per_default_run
    reference_consumers: int  # Mesa-agent reference market
    reference_months: int
    kernel_months: int  # bare numpy kernel vs whole model (default market)
    kernel_large_consumers: int  # ... and once more on a larger market
    scaling_consumers: tuple[int, ...]
    scaling_firms: tuple[int, ...]
    scaling_months: int
    sweep_runs: int  # parallel efficiency and Dask overhead (at least ...
    runs_per_worker: int  # ... this many per worker)
    sweep_months: int
    sweep_consumers: int
    memory_runs: tuple[int, int]  # the "2k" and "20k" sweeps
    grid_runs: int  # the batch_run comparison (its "2k-run grid")
    grid_serial: bool  # ... run in one process each (else on all cores)
    short_months: int  # runs of the memory and batch_run sweeps
    short_consumers: int
    app_steps: int
    compare_replications: int  # the app's Compare: runs per mode (the figure is per 100)
    compare_repeats: int
    sobol_timing_runs: int  # default runs timed, summaries only, for the Sobol projection


QUICK = Settings(
    mode="quick",
    repeats=3,
    default_runs=5,
    reference_consumers=2_000,
    reference_months=2,
    kernel_months=120,
    kernel_large_consumers=20_000,
    scaling_consumers=(1_000, 10_000, 100_000),
    scaling_firms=(3, 10, 30),
    scaling_months=6,
    sweep_runs=40,
    runs_per_worker=20,
    sweep_months=24,
    sweep_consumers=1_000,
    memory_runs=(50, 500),
    grid_runs=50,
    grid_serial=True,
    short_months=6,
    short_consumers=200,
    app_steps=12,
    compare_replications=10,
    compare_repeats=1,
    sobol_timing_runs=5,
)
FULL = Settings(
    mode="full",
    repeats=5,
    default_runs=20,
    reference_consumers=2_000,
    reference_months=24,
    kernel_months=120,
    kernel_large_consumers=100_000,
    scaling_consumers=(1_000, 10_000, 100_000, 1_000_000),
    scaling_firms=(3, 10, 30),
    scaling_months=12,
    sweep_runs=400,
    runs_per_worker=40,
    sweep_months=24,
    sweep_consumers=1_000,
    memory_runs=(2_000, 20_000),
    grid_runs=2_000,
    grid_serial=False,
    short_months=12,
    short_consumers=500,
    app_steps=60,
    compare_replications=100,
    compare_repeats=3,
    sobol_timing_runs=20,
)


# ---- helpers ---------------------------------------------------------------------------------


def _timed(fn: Callable[[], Any]) -> float:
    """Seconds one call of ``fn`` takes (wall clock)."""
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _median(values) -> float:
    return float(statistics.median(values))


def _cores() -> int:
    from abm.executors import available_cores

    return available_cores()


def default_market_and_offer(consumers: int = 5_000, months: int = 24, seed: int = 1):
    """The default scenario's market and its offer once the entrant sells (a static offer).

    Returns ``(market, offer, incumbents)``: an ``abm.scenario.Market`` with ``consumers``,
    a :class:`numpy_kernel.StaticOffer` taken from a default run at ``months``, and the
    incumbents' ``(brand, initial share)`` pairs.
    """
    from abm.model import MarketEntryModel

    model = MarketEntryModel(seed=seed, consumers=500)
    model.run(months)
    offer = numpy_kernel.StaticOffer.from_brand_offer(model.brand_offer())
    market = model.scenario.with_overrides({"consumers": consumers}).market
    incumbents = tuple((inc.brand, inc.config.initial_share) for inc in model.incumbents)
    model.release()
    return market, offer, incumbents


def consumer_market_shares(
    market, offer, months: int, *, seed: int = 0, incumbents: tuple[tuple[int, float], ...] = ()
) -> np.ndarray:
    """Our kernel (``abm.consumers.ConsumerMarket``) facing a static offer, as the reference
    and the bare kernel do; returns (months, n_brands) customer shares."""
    from abm.consumers import BrandOffer, ConsumerMarket

    consumers = ConsumerMarket(market, len(offer.quality), np.random.default_rng(seed))
    for brand, share in incumbents:
        consumers.seed_brand(brand, share, 0.9, offer.coverage[brand])
    brand_offer = BrandOffer(
        on_sale=offer.on_sale,
        promoting=offer.on_sale,
        quality=offer.quality,
        price=offer.price,
        position=offer.position,
        loyalty=offer.loyalty,
        marketing_pull=offer.marketing_pull,
        coverage=offer.coverage,
    )
    shares = []
    for _ in range(months):
        consumers.spread_awareness(brand_offer)
        consumers.choose(brand_offer)
        shares.append(consumers.shares())
    return np.array(shares)


def scenario_with_firms(firms: int, consumers: int, months: int):
    """The default scenario with ``firms`` brands: one entrant, one partner and
    ``firms - 2`` incumbents sharing 60 % of the market at month 0."""
    from abm.presets import resolve_scenario
    from abm.scenario import Incumbent

    scenario = resolve_scenario(None).with_overrides({"consumers": consumers, "months": months})
    count = max(1, firms - 2)
    regions = scenario.market.regions_x * scenario.market.regions_y
    scenario.incumbents = [
        Incumbent(
            name=f"Incumbent {i + 1}",
            initial_share=0.6 / count,
            quality=0.5 + 0.1 * (i % 3),
            price=22.0 + i % 4,
            base_region=i % regions,
        )
        for i in range(count)
    ]
    return scenario


def _fit_exponent(xs, ys) -> float:
    """Least-squares slope of log(y) on log(x)."""
    return float(np.polyfit(np.log(np.asarray(xs, float)), np.log(np.asarray(ys, float)), 1)[0])


# ---- 1. a default run -------------------------------------------------------------------------


def measure_default_run(s: Settings) -> dict:
    """``abm.simulate(seed=s)`` of the default scenario: ms per run, µs per consumer-month,
    and the share of the time spent in the consumer kernel."""
    import abm
    from abm.consumers import ConsumerMarket
    from abm.presets import resolve_scenario

    scenario = resolve_scenario(None)
    consumers, months = scenario.market.consumers, scenario.months
    abm.simulate(seed=0)  # warm-up: imports, caches
    times = [_timed(lambda i=i: abm.simulate(seed=1000 + i)) for i in range(s.default_runs)]
    ms = _median(times) * 1e3
    # time inside the consumer kernel, from a few more runs
    spent = [0.0]
    originals = ConsumerMarket.spread_awareness, ConsumerMarket.choose

    def wrap(fn):
        def timed(self, offer):
            start = time.perf_counter()
            try:
                return fn(self, offer)
            finally:
                spent[0] += time.perf_counter() - start

        return timed

    ConsumerMarket.spread_awareness, ConsumerMarket.choose = wrap(originals[0]), wrap(originals[1])
    try:
        shares = []
        for i in range(max(3, s.default_runs // 4)):
            spent[0] = 0.0
            total = _timed(lambda i=i: abm.simulate(seed=2000 + i))
            shares.append(spent[0] / total)
    finally:
        ConsumerMarket.spread_awareness, ConsumerMarket.choose = originals
    return {
        "ms_per_default_run": ms,
        "us_per_consumer_month": ms * 1e3 / (consumers * months),
        "details": {
            "runs": s.default_runs,
            "consumers": consumers,
            "months": months,
            "brands": len(scenario.entrants) + len(scenario.incumbents) + len(scenario.partners),
            "ms_per_run_all": [t * 1e3 for t in times],
            "ms_per_month": ms / months,
            "kernel_share_of_run": _median(shares),
        },
    }


# ---- 2. the Mesa-agent reference --------------------------------------------------------------


def measure_mesa_reference(s: Settings, default: dict | None = None) -> dict:
    """Consumers as Mesa agents (shuffle_do) vs our kernel, same market and static offer: on
    the default market (the headline) and on a smaller one (fixed per-month costs weigh more)."""
    sizes = {}
    for consumers in (5_000, s.reference_consumers):
        sizes[str(consumers)] = _reference_vs_kernel(consumers, s.reference_months, s.repeats)
    result = {"speedup_vs_mesa_agents": sizes["5000"]["speedup"], "details": {"by_consumers": sizes}}
    if default is not None:
        result["details"]["speedup_vs_mesa_agents_whole_model"] = (
            sizes["5000"]["reference_us_per_consumer_month"] / default["us_per_consumer_month"]
        )
    return result


def _reference_vs_kernel(consumers: int, months: int, repeats: int) -> dict:
    market, offer, incumbents = default_market_and_offer(consumers)
    cells = consumers * months

    def reference_run(seed: int) -> None:
        reference_mesa_agents.simulate(market, offer, months, seed=seed, incumbents=incumbents)

    def kernel_run(seed: int) -> None:
        consumer_market_shares(market, offer, months, seed=seed, incumbents=incumbents)

    kernel_run(0)  # warm-up
    ratios, reference_us, kernel_us = [], [], []
    for r in range(repeats):
        t_ref = _timed(lambda r=r: reference_run(r))
        t_ker = _timed(lambda r=r: kernel_run(r))
        ratios.append(t_ref / t_ker)
        reference_us.append(t_ref * 1e6 / cells)
        kernel_us.append(t_ker * 1e6 / cells)
    return {
        "consumers": consumers,
        "months": months,
        "brands": len(offer.quality),
        "speedup": _median(ratios),
        "reference_us_per_consumer_month": _median(reference_us),
        "kernel_us_per_consumer_month": _median(kernel_us),
        "ratios": ratios,
    }


# ---- 3. the bare numpy kernel -----------------------------------------------------------------


def measure_numpy_kernel(s: Settings) -> dict:
    """The whole model vs the bare numpy kernel of its consumer update (static firms),
    on the default market and on a larger one; and the textbook dense kernel."""
    out = {
        str(consumers): _model_vs_kernel(consumers, months, s.repeats)
        for consumers, months in ((5_000, s.kernel_months), (s.kernel_large_consumers, max(6, s.kernel_months // 5)))
    }
    return {"overhead_vs_numpy": out["5000"]["overhead_vs_numpy"], "details": out}


def _model_vs_kernel(consumers: int, months: int, repeats: int) -> dict:
    """Paired timings: a default model run, the bare kernel and the dense kernel, same size."""
    from abm.model import MarketEntryModel

    market, offer, incumbents = default_market_and_offer(consumers)

    def model_run(seed: int) -> None:
        model = MarketEntryModel(seed=seed, consumers=consumers, months=months)
        model.run()
        model.release()

    def kernel_run(seed: int, dense: bool = False) -> None:
        numpy_kernel.simulate(market, offer, months, seed=seed, incumbents=incumbents, dense=dense)

    kernel_run(0)
    overhead, dense, t_model, t_kernel, t_dense = [], [], [], [], []
    for r in range(repeats):
        a = _timed(lambda r=r: model_run(r))
        b = _timed(lambda r=r: kernel_run(r))
        c = _timed(lambda r=r: kernel_run(r, dense=True))
        overhead.append(a / b)
        dense.append(c / a)
        t_model.append(a * 1e3 / months)
        t_kernel.append(b * 1e3 / months)
        t_dense.append(c * 1e3 / months)
    return {
        "consumers": consumers,
        "months": months,
        "brands": len(offer.quality),
        "overhead_vs_numpy": _median(overhead),
        "model_ms_per_month": _median(t_model),
        "kernel_ms_per_month": _median(t_kernel),
        "dense_kernel_ms_per_month": _median(t_dense),
        "model_speedup_vs_dense_numpy": _median(dense),
    }


# ---- 4. scaling -------------------------------------------------------------------------------


def measure_scaling(s: Settings) -> dict:
    """Time per month of the whole model over consumers x firms; fitted exponents."""
    from abm.model import MarketEntryModel

    warm = MarketEntryModel(scenario_with_firms(3, 1_000, s.scaling_months), seed=0)
    warm.run()
    warm.release()
    points = []
    for firms in s.scaling_firms:
        for consumers in s.scaling_consumers:
            scenario = scenario_with_firms(firms, consumers, s.scaling_months)
            repeats = 3 if consumers * firms <= 300_000 else 1
            init, per_month = [], []
            for r in range(repeats):
                gc.collect()
                start = time.perf_counter()
                model = MarketEntryModel(scenario, seed=r)
                built = time.perf_counter()
                model.run()
                done = time.perf_counter()
                model.release()
                del model
                init.append(built - start)
                per_month.append((done - built) / s.scaling_months)
            points.append(
                {
                    "firms": firms,
                    "consumers": consumers,
                    "ms_per_month": _median(per_month) * 1e3,
                    "init_ms": _median(init) * 1e3,
                    "ns_per_consumer_brand_month": _median(per_month) * 1e9 / (consumers * firms),
                }
            )
    by_firms = {}
    for firms in s.scaling_firms:
        rows = [p for p in points if p["firms"] == firms and p["consumers"] >= 10_000]
        by_firms[str(firms)] = _fit_exponent([p["consumers"] for p in rows], [p["ms_per_month"] for p in rows])
    largest = max(s.scaling_consumers)
    rows = [p for p in points if p["consumers"] == largest]
    firm_exponent = _fit_exponent([p["firms"] for p in rows], [p["ms_per_month"] for p in rows])
    return {
        "consumer_scaling_exponent": max(by_firms.values()),
        "firm_scaling_exponent": firm_exponent,
        "details": {
            "months": s.scaling_months,
            "points": points,
            "consumer_exponent_by_firms": by_firms,
            "peak_rss_mb_after_scaling": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        },
    }


# ---- 5. sweeps --------------------------------------------------------------------------------


def sweep_spec(name: str, runs: int, months: int, consumers: int) -> dict:
    """A sweep of ``runs`` runs: 2 entry modes x 5 partner commitments x replications."""
    if runs % 10:
        raise ValueError(f"runs must be a multiple of 10, not {runs}")
    return {
        "name": name,
        "scenario": "alpha-beta",
        "design": "factorial",
        "replications": runs // 10,
        "months": months,
        "master_seed": 7,
        "fixed": {"consumers": consumers},
        "parameters": {
            "entry_mode": ["alone", "alliance"],
            "partner_commitment": {"min": 0.2, "max": 1.0, "levels": 5},
        },
    }


def measure_parallel(s: Settings, workers: int) -> dict:
    """Sweep throughput serial vs on ``workers`` local processes; and the per-run overhead of
    a Dask LocalCluster (started and warmed up first, so its start-up is reported apart)."""
    runs = max(s.sweep_runs, s.runs_per_worker * workers // 10 * 10)  # enough runs to fill the pool
    spec = sweep_spec("bench-throughput", runs, s.sweep_months, s.sweep_consumers)
    with tempfile.TemporaryDirectory() as tmp:
        _timed_sweep(tmp, sweep_spec("bench-warm", 10, s.sweep_months, s.sweep_consumers), workers=1)
        serial, parallel, efficiency = [], [], []
        for _ in range(max(1, s.repeats - 2)):
            t1 = _timed_sweep(tmp, spec, workers=1)
            tn = _timed_sweep(tmp, spec, workers=workers)
            serial.append(runs / t1)
            parallel.append(runs / tn)
            efficiency.append(t1 / tn / workers)
    executor = _executor_efficiency(runs // 4, s.sweep_months, s.sweep_consumers, workers)
    ceiling = _hardware_ceiling(workers, 1_000_000 if s.mode == "quick" else 3_000_000)
    dask = _dask_vs_local(spec, sweep_spec("bench-warm-dask", 10, s.sweep_months, s.sweep_consumers), workers)
    return {
        "parallel_efficiency": _median(efficiency),
        "dask_overhead_ms_per_run": dask.pop("dask_overhead_ms_per_run", None),
        "details": {
            "runs": runs,
            "months": s.sweep_months,
            "consumers": s.sweep_consumers,
            "workers": workers,
            "serial_runs_per_s": _median(serial),
            "parallel_runs_per_s": _median(parallel),
            "efficiencies": efficiency,
            "executor_efficiency": executor,
            "hardware_ceiling_efficiency": ceiling,
            **dask,
        },
    }


def _timed_sweep(folder: str, spec: dict, **how: Any) -> float:
    """Seconds of one ``abm.sweep`` of ``spec`` into a fresh folder under ``folder``."""
    import abm

    out = Path(folder) / f"sweep-{time.monotonic_ns()}"
    return _timed(lambda: abm.sweep(spec, out=out, progress=False, **how))


def _dask_vs_local(spec: dict, warm_spec: dict, workers: int) -> dict:
    """``spec``'s sweep on a Dask LocalCluster of ``workers`` (started, then warmed with
    ``warm_spec``, so its start-up is reported apart) and on as many local processes, side by
    side: runs per second of each and Dask's cost per run; only the reason where Dask cannot
    start here."""
    from abm.executors import DaskCluster
    from abm.sweeps.runner import dask_batch

    runs = spec["replications"] * 10  # sweep_spec's 10 points
    with tempfile.TemporaryDirectory() as tmp:
        try:
            start = time.perf_counter()
            with DaskCluster(local_workers=workers) as cluster:
                startup = time.perf_counter() - start
                address = cluster.cluster.scheduler_address
                _timed_sweep(tmp, warm_spec, scheduler=address)
                t_dask = _timed_sweep(tmp, spec, scheduler=address)
                t_local = _timed_sweep(tmp, spec, workers=workers)
        except Exception as exc:  # Dask missing or unable to start here
            return {"dask_error": f"{type(exc).__name__}: {exc}"}
    return {
        "dask_overhead_ms_per_run": (t_dask - t_local) * 1e3 / runs,
        "dask_startup_s": startup,
        "dask_runs_per_s": runs / t_dask,
        "local_runs_per_s_beside_dask": runs / t_local,
        "runs_per_dask_task": dask_batch(runs, workers),
    }


def one_run(task: tuple[int, int, int]) -> dict:
    """One model run to its horizon, outcomes only (module level: worker processes import it)."""
    import abm

    seed, months, consumers = task
    return abm.simulate(seed=seed, months=months, consumers=consumers).outcomes()


def _executor_efficiency(runs: int, months: int, consumers: int, workers: int) -> float:
    """Parallel efficiency of ``abm.executors.run_local`` alone (no result store); timed
    serial, parallel, parallel, serial so that drift (clock, caches) cancels."""
    from abm.executors import run_local

    tasks = [(i, (i, months, consumers)) for i in range(runs)]
    serial = _timed(lambda: list(run_local(one_run, tasks, workers=1)))
    parallel = _timed(lambda: list(run_local(one_run, tasks, workers=workers)))
    parallel += _timed(lambda: list(run_local(one_run, tasks, workers=workers)))
    serial += _timed(lambda: list(run_local(one_run, tasks, workers=1)))
    return serial / parallel / workers


def busy(task: int) -> int:
    """Pure-Python arithmetic for about 0.2 s: what the machine's cores give in parallel."""
    total = 0
    for i in range(task):
        total += i * i % 7
    return total


def _hardware_ceiling(workers: int, loops: int = 3_000_000) -> float:
    """Parallel efficiency of independent CPU-bound tasks, one per worker: the most any
    sweep runner can get on this machine (turbo clocks, shared cores, hyper-threads).
    Timed serial, parallel, parallel, serial."""
    from abm.executors import run_local

    tasks = [(i, loops) for i in range(workers)]
    serial = _timed(lambda: list(run_local(busy, tasks, workers=1)))
    parallel = _timed(lambda: list(run_local(busy, tasks, workers=workers)))
    parallel += _timed(lambda: list(run_local(busy, tasks, workers=workers)))
    serial += _timed(lambda: list(run_local(busy, tasks, workers=1)))
    return serial / parallel / workers


def _child(job: str, args: dict, timeout_s: float = 3600) -> dict:
    """Run ``job`` of this file in a fresh Python process; its JSON result."""
    env = {
        **os.environ,
        "PYTHONHASHSEED": "0",
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
        "ABM_NUMBA": os.environ.get("ABM_NUMBA", "1"),  # compiled from the first run, unless switched off
    }
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", job, json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"benchmark subprocess {job} failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


class _PeakMemory:
    """Samples the summed resident memory of this process and all its descendants, and keeps
    each descendant's samples (``workers``: pid -> [(seconds, bytes), ...])."""

    def __init__(self, every_s: float = 0.02):
        self.every_s = every_s
        self.peak = 0
        self.workers: dict[int, list[tuple[float, int]]] = {}
        self._start = time.perf_counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _now(self) -> int:
        try:
            import psutil
        except ImportError:
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        me = psutil.Process()
        total = 0
        now = time.perf_counter() - self._start
        for proc in [me, *me.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                rss = proc.memory_info().rss
                total += rss
                if proc.pid != me.pid:
                    self.workers.setdefault(proc.pid, []).append((now, rss))
        return total

    def _watch(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._now())
            self._stop.wait(self.every_s)

    def __enter__(self) -> _PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._now())

    def worker_growth(self) -> dict[str, float] | None:
        """Each worker's median memory in the last tenth of its life / in the second tenth,
        minus 1 (the first tenth is start-up: imports, first runs); None without workers."""
        growth = {}
        for pid, samples in self.workers.items():
            if len(samples) < 20:
                continue
            t0, t1 = samples[0][0], samples[-1][0]
            span = t1 - t0
            early = [rss for t, rss in samples if t0 + 0.1 * span <= t < t0 + 0.2 * span]
            late = [rss for t, rss in samples if t >= t0 + 0.9 * span]
            if early and late:
                growth[str(pid)] = statistics.median(late) / statistics.median(early) - 1.0
        return growth or None


def child_sweep(args: dict) -> dict:
    """In a fresh process: one sweep through ``abm.sweep``; runs/s and peak memory."""
    import abm

    spec = sweep_spec(args["name"], args["runs"], args["months"], args["consumers"])
    with tempfile.TemporaryDirectory() as tmp, _PeakMemory() as memory:
        start = time.perf_counter()
        abm.sweep(spec, workers=args["workers"], out=Path(tmp) / "sweep", progress=False)
        elapsed = time.perf_counter() - start
    return {
        "runs": args["runs"],
        "seconds": elapsed,
        "runs_per_s": args["runs"] / elapsed,
        "peak_tree_rss_mb": memory.peak / 2**20,
        "worker_memory_growth": memory.worker_growth(),
    }


def child_batch_run(args: dict) -> dict:
    """In a fresh process: the same grid through ``mesa.batch_run``; runs/s and peak memory."""
    import mesa

    from abm.model import MarketEntryModel

    spec = sweep_spec("grid", args["runs"], args["months"], args["consumers"])
    seeds = list(range(spec["replications"]))
    parameters = {
        "entry_mode": ["alone", "alliance"],
        "partner_commitment": [0.2, 0.4, 0.6, 0.8, 1.0],
        "seed": seeds,
        "months": args["months"],
        "consumers": args["consumers"],
    }
    with _PeakMemory() as memory:
        start = time.perf_counter()
        results = mesa.batch_run(
            MarketEntryModel,
            parameters,
            number_processes=args["workers"],
            iterations=1,
            max_steps=args["months"],
            data_collection_period=-1,
            display_progress=False,
        )
        elapsed = time.perf_counter() - start
    return {
        "runs": len(results),
        "seconds": elapsed,
        "runs_per_s": len(results) / elapsed,
        "peak_tree_rss_mb": memory.peak / 2**20,
    }


CHILD_JOBS = {"sweep": child_sweep, "batch_run": child_batch_run}


def measure_sweep_memory(s: Settings, workers: int) -> dict:
    """Peak memory of a small and a 10x larger sweep, each in a fresh process."""
    small, large = s.memory_runs
    args = {"months": s.short_months, "consumers": s.short_consumers, "workers": workers}
    a = _child("sweep", {**args, "name": "bench-memory-small", "runs": small})
    b = _child("sweep", {**args, "name": "bench-memory-large", "runs": large})
    growth = b.get("worker_memory_growth")
    return {
        "memory_growth_2k_to_20k": b["peak_tree_rss_mb"] / a["peak_tree_rss_mb"] - 1.0,
        "worker_memory_growth": max(growth.values()) if growth else None,
        "details": {
            "small": a,
            "large": b,
            "months": s.short_months,
            "consumers": s.short_consumers,
            "workers": workers,
        },
    }


def measure_batch_run(s: Settings, workers: int) -> dict:
    """Our sweep runner vs ``mesa.batch_run`` on the same grid, each in a fresh process; on
    all cores (the headline; quick mode: in one process), and in one process each."""
    pairs = {}
    for label, n in (("serial", 1),) if s.grid_serial else (("all_cores", workers), ("serial", 1)):
        args = {"months": s.short_months, "consumers": s.short_consumers, "workers": n, "runs": s.grid_runs}
        ours = _child("sweep", {**args, "name": "bench-grid"})
        theirs = _child("batch_run", args)
        pairs[label] = {
            "ours": ours,
            "batch_run": theirs,
            "workers": n,
            "speedup": ours["runs_per_s"] / theirs["runs_per_s"],
            "memory_ratio": ours["peak_tree_rss_mb"] / theirs["peak_tree_rss_mb"],
        }
    head = pairs["serial" if s.grid_serial else "all_cores"]
    return {
        "speedup_vs_batch_run": head["speedup"],
        "memory_ratio_vs_batch_run": head["memory_ratio"],
        "details": {**pairs, "runs": s.grid_runs, "months": s.short_months, "consumers": s.short_consumers},
    }


# ---- 6. the app -------------------------------------------------------------------------------

APP_CHARTS = ("share_option", "map_option", "partnership_option", "money_option")
"""Chart builders of the Simulate view that one step re-renders."""


def measure_app(s: Settings) -> dict:
    """One month in the app: ``LiveRun.step()`` plus building and serialising the Simulate
    view's charts (the Python side of a step; the browser's drawing is not included)."""
    try:
        from abm.app import charts
        from abm.app.live import LiveRun
        from abm.presets import resolve_scenario
    except Exception as exc:
        return {"app_step_render_ms": None, "details": {"reason": f"app not importable: {type(exc).__name__}: {exc}"}}
    builders = [getattr(charts, name) for name in APP_CHARTS if hasattr(charts, name)]
    if not builders:
        return {"app_step_render_ms": None, "details": {"reason": f"none of {APP_CHARTS} in abm.app.charts"}}
    live = LiveRun(resolve_scenario(None), seed=1)
    times, step_times = [], []
    try:
        for _ in range(s.app_steps):
            start = time.perf_counter()
            frame = live.step()
            stepped = time.perf_counter()
            json.dumps([build(frame) for build in builders])
            done = time.perf_counter()
            times.append(done - start)
            step_times.append(stepped - start)
    finally:
        with contextlib.suppress(Exception):
            live.close()
    return {
        "app_step_render_ms": _median(times) * 1e3,
        "details": {
            "steps": s.app_steps,
            "step_only_ms": _median(step_times) * 1e3,
            "charts": [b.__name__ for b in builders],
            "what": "LiveRun.step() + chart options built and JSON-serialised; browser drawing excluded",
        },
    }


def measure_app_compare(s: Settings) -> dict:
    """The app's Compare as the app runs it: ``abm.app.jobs.run_compare`` (the server's queue,
    its warm pool of ``app_workers()`` processes at ``nice`` +10, forked once as ``abm app``
    starts, by ``jobs.start_pool()``, and kept between clicks; the focal entrant's monthly rows
    kept for the fan chart, the page's tables built) on the default scenario, 3 entry modes x
    ``compare_replications``; wall clock, median of the clicks (the pool's start is timed apart,
    as the server pays it before its first page). In quick mode the figure is scaled to 100 runs
    per mode (``details`` has the measured time)."""
    try:
        from abm.app import comparison, jobs
        from abm.presets import resolve_scenario
    except Exception as exc:
        return {"app_compare_s": None, "details": {"reason": f"app not importable: {type(exc).__name__}: {exc}"}}
    scenario = resolve_scenario(None)
    variants = comparison.variants_for(scenario, "modes", ("alone", "alliance", "joint_venture"))
    reps = s.compare_replications
    start = time.perf_counter()
    jobs.start_pool()
    pool_start_s = time.perf_counter() - start
    times, cpu = [], []
    try:
        for r in range(s.compare_repeats):
            workers_before, start_cpu = _workers_cpu_s(), time.process_time()
            start = time.perf_counter()
            outcome = jobs.run_compare(scenario, variants, replications=reps, master_seed=1 + r, session="bench")
            times.append(time.perf_counter() - start)
            cpu.append((_workers_cpu_s() - workers_before, time.process_time() - start_cpu))
            runs = len(outcome.comparison.summary)
    finally:
        from abm import executors

        executors.close_warm_pools()  # the server keeps its pool; the bench's next figures want the cores
    seconds = _median(times)
    workers = jobs.app_workers()
    quiet = [w / workers + server if w else server for w, server in cpu]  # each worker on a core of its own
    return {
        "app_compare_s": seconds * 100 / reps,
        "details": {
            "modes": list(variants),
            "replications": reps,
            "runs": runs,
            "workers": workers,
            "pool_start_s": pool_start_s,
            "seconds_all": times,
            "seconds_first_click": times[0],
            "seconds_measured": seconds,
            "ms_per_run_wall": seconds * 1e3 / runs,
            "scaled_to_100_runs_per_mode": reps != 100,
            "cpu_s_workers_and_server": cpu,
            "quiet_cores_s": _median(quiet) * 100 / reps if quiet else None,
            "quiet_cores_what": "workers' CPU time / workers + the server's CPU time, median of the clicks, "
            "scaled to 100 runs per mode: the wall time with a core for each worker and the server's share "
            "(on a busy machine the wall clock also counts other processes' turns; the pool runs at nice +10)",
        },
    }


def _workers_cpu_s() -> float:
    """CPU seconds of this process's live child processes (the warm pool's workers) and of its
    ended ones."""
    import psutil

    total = _children_cpu_s()
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            t = child.cpu_times()
            total += t.user + t.system
    return total


def _children_cpu_s() -> float:
    """CPU seconds of this process's ended child processes (a pool's workers, once shut down)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


SOBOL = {"parameters": 10, "N": 1024, "replications": 10, "cores": 16}
"""The study the issue projects: Saltelli's design with second-order indices, N (2D + 2)
points, each replicated."""

CEILING_16_CORES = 0.63
"""Parallel efficiency of independent pure-Python processes on the 16-core Xeon host,
measured by this suite on 2026-11-23 (experiments/benchmarks/README.md): the most a runner
gets there. The 16-core device machine is not lent to this task, so it stands in."""


def measure_sobol(s: Settings, parallel: dict | None, workers: int) -> dict:
    """Project a 225,000-run Sobol study on 16 cores with Dask from what is measured here: a
    default run's serial CPU time as sweeps run it (summary only), the parallel efficiency (the
    lower of this machine's and the 16-core host's ceiling), and Dask's cost as the ratio of
    local-process to Dask throughput on runs of the default size (120 months, 5,000 consumers)
    in Dask tasks of the study's size (16 runs), measured side by side on a warmed cluster,
    plus its start-up. (The ratio on the short runs
    of ``parallel`` is in ``details`` too: Dask's cost is per run, not per month, so a ratio
    taken on short runs would overstate it for default ones.)"""
    from abm.presets import resolve_scenario
    from abm.sweeps.runner import run_outcomes

    scenario = resolve_scenario(None)
    run_outcomes(scenario.copy(), 0)
    times, cpu = [], []
    for i in range(s.sobol_timing_runs):
        gc.collect()  # before the CPU clock starts: a full collection costs more CPU than a run
        start = time.process_time()
        wall = time.perf_counter()
        run_outcomes(scenario.copy(), 3000 + i)
        times.append(time.perf_counter() - wall)
        cpu.append(time.process_time() - start)
    # a dedicated worker's wall clock is its CPU time; on a shared machine the wall clock also
    # counts the other processes' turns, so the projection reads CPU time (wall in details)
    t_run, t_wall = _median(cpu), _median(times)
    p = SOBOL["parameters"]
    runs = SOBOL["N"] * (2 * p + 2) * SOBOL["replications"]
    cores = SOBOL["cores"]
    details = parallel or {}
    measured = details.get("efficiency")
    efficiency = min(measured, CEILING_16_CORES) if measured else CEILING_16_CORES
    dask = _dask_at_default_size(s, workers)
    dask_rate, local_rate = dask.get("dask_runs_per_s"), dask.get("local_runs_per_s_beside_dask")
    dask_factor = max(1.0, local_rate / dask_rate) if dask_rate and local_rate else None
    startup = dask.get("dask_startup_s") or details.get("dask_startup_s") or 0.0
    seconds = runs * t_run / (cores * efficiency) * (dask_factor or 1.0) + startup
    short_rate, short_local = details.get("dask_runs_per_s"), details.get("local_runs_per_s_beside_dask")
    return {
        "sobol_minutes_16_cores": seconds / 60,
        "details": {
            **SOBOL,
            "runs": runs,
            "ms_per_run_summary_only": t_run * 1e3,
            "ms_per_run_summary_only_wall": t_wall * 1e3,
            "ms_per_run_all_wall": [t * 1e3 for t in times],
            "projected_minutes_from_wall": (runs * t_wall / (cores * efficiency) * (dask_factor or 1.0) + startup) / 60,
            "efficiency_used": efficiency,
            "efficiency_measured_here": measured,
            "ceiling_16_cores": CEILING_16_CORES,
            "dask_slowdown_vs_local_processes": dask_factor,
            "dask_at_default_size": dask,
            "dask_slowdown_on_short_runs": short_local / short_rate if short_rate and short_local else None,
            "dask_startup_s": startup,
            "minutes_at_perfect_efficiency_no_dask": runs * t_run / cores / 60,
            "device_machine": "not lent to this task: projected, not measured on 16 cores",
        },
    }


def _dask_at_default_size(s: Settings, workers: int) -> dict:
    """Runs per second of default-size runs (the alpha-beta case, 120 months, 5,000 consumers,
    summary only) through ``abm.sweep`` on a warmed Dask LocalCluster and on local processes,
    side by side (:func:`_dask_vs_local`)."""
    # the study's sweep sends 16 runs per Dask task (runner.dask_batch); so does this one, at
    # full size (40 tasks a worker, as the sweep's rule wants), while quick mode's sends one
    runs = 640 * max(1, workers // 2) if s.mode == "full" else 40
    spec = sweep_spec("bench-sobol-dask", runs, 120, 5_000)
    return {"runs": runs, **_dask_vs_local(spec, sweep_spec("bench-sobol-warm", 10, 120, 5_000), workers)}


# ---- the suite --------------------------------------------------------------------------------

MEASUREMENTS = (
    "default",
    "reference",
    "kernel",
    "scaling",
    "parallel",
    "sobol",
    "memory",
    "batch_run",
    "app",
    "compare",
)
"""Names accepted by ``only``, in the order they run."""


def machine() -> dict:
    """Where the figures come from."""
    cpu = platform.processor() or ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_gb = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        memory_gb = int(Path("/proc/meminfo").read_text().split()[1]) / 2**20
    import mesa

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": _cores(),
        "memory_gb": memory_gb,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "mesa": mesa.__version__,
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "numba": _numba(),
    }


def _numba() -> str | None:
    """The numba version when the compiled consumer kernels are in use, else None."""
    from abm import consumer_kernels

    if not consumer_kernels.ENABLED:
        return None
    import numba

    return numba.__version__


def _commit() -> str | None:
    with contextlib.suppress(Exception):
        done = subprocess.run(
            ["git", "-C", str(HERE), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        return done.stdout.strip() or None
    return None


def run_suite(
    quick: bool = False,
    *,
    only: tuple[str, ...] | None = None,
    workers: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Run the benchmarks; returns the JSON-ready result (figures, targets, details)."""
    s = QUICK if quick else FULL
    workers = workers or _cores()
    from abm import consumer_kernels

    consumer_kernels.enable()  # the compiled loops from the first run (a no-op with ABM_NUMBA=0)
    chosen = only or MEASUREMENTS
    say = progress or (lambda text: None)
    started = time.perf_counter()
    result: dict[str, Any] = {
        "date": datetime.date.today().isoformat(),
        "time": datetime.datetime.now().isoformat(timespec="seconds"),
        "mode": s.mode,
        "commit": _commit(),
        "machine": machine(),
        "settings": asdict(s),
        "workers": workers,
    }
    figures: dict[str, Any] = dict.fromkeys(FIGURES)
    details: dict[str, Any] = {}
    default = None
    parallel: dict | None = None
    steps: list[tuple[str, Callable[[], dict]]] = [
        ("default", lambda: measure_default_run(s)),
        ("reference", lambda: measure_mesa_reference(s, default)),
        ("kernel", lambda: measure_numpy_kernel(s)),
        ("scaling", lambda: measure_scaling(s)),
        ("parallel", lambda: measure_parallel(s, workers)),
        ("sobol", lambda: measure_sobol(s, parallel, workers)),
        ("memory", lambda: measure_sweep_memory(s, workers)),
        ("batch_run", lambda: measure_batch_run(s, workers)),
        ("app", lambda: measure_app(s)),
        ("compare", lambda: measure_app_compare(s)),
    ]
    for name, measure in steps:
        if name not in chosen:
            continue
        say(f"{name} ...")
        t0 = time.perf_counter()
        try:
            part = measure()
        except Exception as exc:
            details[name] = {"error": f"{type(exc).__name__}: {exc}"}
            say(f"{name}: failed ({type(exc).__name__}: {exc})")
            continue
        if name == "default":
            default = part
        details[name] = {**part.pop("details", {}), "seconds": time.perf_counter() - t0}
        if name == "parallel":
            parallel = {**details[name], "efficiency": part["parallel_efficiency"], **part}
        figures.update(part)
    result["figures"] = figures
    result["targets"] = {
        name: {"op": t[0], "bound": t[1], "holds": _holds(figures.get(name), t)}
        for name, (_, _, t) in FIGURES.items()
        if t is not None
    }
    result["details"] = details
    result["seconds"] = time.perf_counter() - started
    result["machine"]["load_average_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    result.update(figures)  # headline figures also at the top level
    return result


def _holds(value: Any, target: tuple[str, float]) -> bool | None:
    if value is None or not math.isfinite(value):
        return None
    return value >= target[1] if target[0] == ">=" else value <= target[1]


def table(result: dict) -> str:
    """The headline figures as a plain-text table."""
    lines = [
        f"abm bench ({result['mode']}, {result['date']}, {result['machine']['cpu']}, "
        f"{result['workers']} workers, {result['seconds']:.0f} s)",
        "",
    ]
    lines.append(f"{'figure':28s} {'value':>10s}  {'target':10s} {'holds':5s}  what")
    for name, (unit, what, target) in FIGURES.items():
        value = result["figures"].get(name)
        text = "-" if value is None else (f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}")
        goal = f"{target[0]} {target[1]:g}" if target else ""
        holds = {True: "yes", False: "NO", None: ""}[_holds(value, target)] if target else ""
        lines.append(f"{name:28s} {text:>8s} {unit:2s} {goal:10s} {holds:5s}  {what}")
    return "\n".join(lines)


def write(result: dict, out_dir: Path) -> Path:
    """Write ``<out_dir>/<date>.json`` (``<date>-2.json``, ... if taken); never overwrites."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{result['date']}.json"
    n = 2
    while path.exists():
        path = out_dir / f"{result['date']}-{n}.json"
        n += 1
    with open(path, "x") as handle:
        json.dump(result, handle, indent=2, allow_nan=False, default=_plain)
    return path


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON: {type(value).__name__}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes: under a minute on 2 cores")
    parser.add_argument("--out", default="results/benchmarks", help="folder for <date>.json")
    parser.add_argument("--only", default=None, help=f"comma-separated subset of {','.join(MEASUREMENTS)}")
    parser.add_argument("--workers", type=int, default=None, help="processes for the parallel figures")
    parser.add_argument("--child", nargs=2, metavar=("JOB", "ARGS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        job, payload = args.child
        print(json.dumps(CHILD_JOBS[job](json.loads(payload))))
        return 0
    only = tuple(args.only.split(",")) if args.only else None
    result = run_suite(
        args.quick, only=only, workers=args.workers, progress=lambda text: print(text, file=sys.stderr, flush=True)
    )
    path = write(result, Path(args.out))
    print(table(result))
    print(f"\nwritten: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
