"""``abm validate``: run the validation experiment and write the report.

    abm validate                 # full: >= 1,000 runs per condition, results/validation/
    abm validate --quick         # a few minutes' worth less: the test suite's size
    abm validate --out DIR --workers 4 --seed 2025

The output folder must be new, empty, or hold an earlier validation report (report.md and
facts.csv), which is replaced only once the new report is complete. Any other folder is
refused before anything runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from abm.errors import InputError

DEFAULT_OUT = Path("results") / "validation"


def _workers(text: str | None, default: int) -> int:
    from abm.cli import workers_option

    return workers_option("--workers", text) or default


def _seed(text: str) -> int:
    from abm import limits

    return limits.whole_number("--seed", text, 0, 2**63 - 1)


def _is_report(path: Path) -> bool:
    return (path / "report.md").is_file() and (path / "facts.csv").is_file()


def check_out(out: Path) -> None:
    """Refuse an output folder that holds anything but an earlier validation report."""
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not _is_report(out))):
        raise InputError(
            "--out",
            str(out),
            "a new or empty folder, or one holding an earlier validation "
            "report (it holds other files; nothing is overwritten)",
        )


def cmd_validate(args: argparse.Namespace) -> int:
    from abm.executors import available_cores
    from abm.progress import progress_bar
    from abm.validation.ablations import run_ablations
    from abm.validation.experiment import FULL, QUICK, run_experiment
    from abm.validation.facts import check_facts
    from abm.validation.report import write_report

    plan = QUICK if args.quick else FULL
    workers = _workers(args.workers, available_cores())
    seed = _seed(args.seed)
    out = Path(args.out) if args.out else DEFAULT_OUT
    check_out(out)
    from abm.folders import prepare_parent

    prepare_parent(out)  # a place that cannot be written fails now, not after the experiment
    print(
        f"Validation ({plan.name} mode), master seed {seed}, {workers} worker{'s' if workers > 1 else ''}",
        file=sys.stderr,
    )
    started = time.perf_counter()
    bar = progress_bar(disable=args.quiet)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    results = run_experiment(plan, master_seed=seed, workers=workers, progress=progress)
    bar.close()
    checks = check_facts(results)
    ablations = []
    if not args.quick and not args.no_mechanism_checks:
        bar = progress_bar(disable=args.quiet, desc="mechanism checks")
        ablations = run_ablations(plan, master_seed=seed, workers=workers, runs=plan.ablation, progress=progress)
        bar.close()
    elapsed = time.perf_counter() - started

    from abm.folders import partial_dir

    tmp = partial_dir(out.parent)
    try:
        write_report(tmp, results, checks, ablations, elapsed)
        check_out(out)  # still ours to replace?
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=".old-", dir=out.parent))
            os.replace(out, old / "previous")
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise

    width = max(len(c.fact) for c in checks)
    print()
    for c in checks:
        print(f"{c.fact:<{width}}  {c.model_value():<40} target {c.target:<28} {c.verdict.replace('*', '')}")
    held = sum(c.holds for c in checks)
    print(f"\n{held} of {len(checks)} facts hold; {elapsed:.0f} s.")
    print(f"Report: {out / 'report.md'}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``abm validate`` to the command line."""
    p = subparsers.add_parser(
        "validate", help="check the model against documented facts; write a report", description=__doc__.splitlines()[0]
    )
    p.add_argument("--quick", action="store_true", help="few runs per condition (seconds, wide intervals)")
    p.add_argument("--out", default=None, help=f"output folder (default: {DEFAULT_OUT})")
    p.add_argument("--workers", default=None, help="local processes (default: all cores)")
    p.add_argument("--seed", default="2025", help="master seed of the population and runs (default 2025)")
    p.add_argument(
        "--no-mechanism-checks",
        action="store_true",
        help="skip re-running conditions with mechanisms switched off (full mode)",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_validate)
