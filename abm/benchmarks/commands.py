"""``abm bench [--quick] [--out DIR]``: measure speed and memory against the targets.

Imports nothing heavy until the command runs (``abm.cli`` imports this module on every
call). The suite is ``experiments/benchmarks/bench.py`` of the repository this package is
installed from (editable install, as ``make setup`` does); installed from a wheel, the
command says so in one line and exits with code 2.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from abm.errors import InputError

SUITE = Path(__file__).resolve().parents[2] / "experiments" / "benchmarks" / "bench.py"
"""The benchmark suite, found from this package's place in the repository."""


def load_suite(path: Path = SUITE) -> ModuleType:
    """Import the suite from the repository (its folder goes on ``sys.path`` for its siblings)."""
    if not path.is_file():
        raise InputError(
            "abm bench",
            str(path),
            "a repository checkout with experiments/benchmarks/bench.py (install the package editable: make setup)",
        )
    if "abm_bench_suite" in sys.modules:
        return sys.modules["abm_bench_suite"]
    spec = importlib.util.spec_from_file_location("abm_bench_suite", path)
    assert spec is not None and spec.loader is not None  # a .py file that exists (checked above)
    module = importlib.util.module_from_spec(spec)
    sys.modules["abm_bench_suite"] = module  # before running it: pickling by name needs it
    spec.loader.exec_module(module)
    return module


NO_CHECKOUT = (
    "abm: error: abm bench runs the benchmark suite of a repository checkout (experiments/benchmarks/), "
    "which an installed wheel does not include: clone the repository and run `make bench` there"
)


def cmd_bench(args: argparse.Namespace) -> int:
    if not SUITE.is_file():
        print(NO_CHECKOUT, file=sys.stderr)
        return 2
    suite = load_suite()
    only = None
    if args.only:
        only = tuple(name.strip() for name in args.only.split(",") if name.strip())
        unknown = [name for name in only if name not in suite.MEASUREMENTS]
        if unknown or not only:
            raise InputError("--only", args.only, f"a comma-separated subset of {', '.join(suite.MEASUREMENTS)}")
    from abm.cli import workers_option

    workers = workers_option("--workers", args.workers)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise InputError(
            "--out", args.out, "a folder (new or existing; the JSON gets a new name, nothing is overwritten)"
        )
    result = suite.run_suite(
        args.quick,
        only=only,
        workers=workers,
        progress=lambda text: print(f"abm bench: {text}", file=sys.stderr, flush=True),
    )
    path = suite.write(result, out)
    print(suite.table(result))
    print(f"\nwritten: {path}")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "bench",
        help="benchmark single runs, sweeps and the app against the performance targets",
        description="Measure ms per run, the speed-up over per-consumer Mesa agents, the overhead over a bare "
        "numpy kernel, scaling in consumers and firms, sweep throughput, Dask overhead and memory, "
        "mesa.batch_run, the app's step time and Compare, and a projected Sobol study on 16 cores. Writes <out>/<date>.json and prints a table.",
    )
    p.add_argument("--quick", action="store_true", help="smaller sizes, under a minute on 2 cores (the CI smoke test)")
    p.add_argument("--out", default="results/benchmarks", help="folder for <date>.json (default results/benchmarks)")
    p.add_argument(
        "--only",
        default=None,
        help="comma-separated subset: default, reference, kernel, scaling, parallel, sobol, memory, batch_run, app, "
        "compare",
    )
    p.add_argument("--workers", default=None, help="processes for the parallel figures (default: all usable cores)")
    p.set_defaults(func=cmd_bench)
