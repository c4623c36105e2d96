"""``abm sweep``, ``abm rerun`` and ``abm analyze``: the sweep commands of the CLI.

Registered by abm/cli.py through :func:`register`. Bad input raises InputError (one line,
exit code 2, nothing written); an executor that fails mid-sweep exits 1 with the finished
runs saved.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

from abm import limits
from abm.errors import InputError


def register(subparsers: Any) -> None:
    """Add the sweep commands to the ``abm`` parser."""
    p = subparsers.add_parser(
        "sweep",
        help="run (or resume) a parameter sweep from a TOML spec",
        description="Run every run of a sweep specification into results/<name>/; "
        "running the same command again resumes it. See docs/SWEEPS.md.",
    )
    p.add_argument("spec", help="sweep specification: a TOML file, or the name of a shipped one (abm experiments)")
    p.add_argument("--workers", default=None, help="local processes (default: all cores; 1 = serial)")
    p.add_argument("--dask-local", default=None, metavar="N", help="run on a Dask LocalCluster of N worker processes")
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="tcp://HOST:PORT",
        help="run on an existing Dask cluster (e.g. one started by dask-jobqueue on SLURM/PBS)",
    )
    p.add_argument("--out", default=None, help="results folder (default: results/<sweep name>)")
    p.add_argument("--chunk-runs", default=None, metavar="N", help="runs per Parquet chunk (default 500)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_sweep)

    p = subparsers.add_parser(
        "rerun",
        help="repeat one run of a sweep exactly and show it",
        description="Re-run one run of a sweep from its manifest (base scenario, "
        "parameters, seed), check it reproduces the stored summary row, and print its "
        "KPIs and event log.",
    )
    p.add_argument("results", help="a sweep's results folder, e.g. results/smoke")
    p.add_argument("run_id", help="the run's run_id (a column of every results table)")
    p.add_argument("--out", default=None, help="new or empty folder to write the run's frames into (Parquet)")
    p.set_defaults(func=cmd_rerun)

    p = subparsers.add_parser(
        "analyze",
        help="tables, Sobol/Morris indices, plots and a report of a sweep",
        description="Summary tables by parameter, sensitivity indices where the design "
        "allows, PNG plots and report.md, into RESULTS/analysis/.",
    )
    p.add_argument("results", help="a sweep's results folder, e.g. results/smoke")
    p.add_argument("--out", default=None, help="output folder (default: RESULTS/analysis, replaced)")
    p.set_defaults(func=cmd_analyze)


def _whole(name: str, text: Any) -> int | None:
    from abm.cli import positive_int

    return None if text is None else positive_int(name, text)


def _workers(name: str, text: Any) -> int | None:
    from abm.cli import workers_option

    return workers_option(name, text)


def cmd_sweep(args: argparse.Namespace) -> int:
    from abm.sweeps.runner import SweepAborted, run_sweep

    try:
        outcome = run_sweep(
            args.spec,
            workers=_workers("--workers", args.workers),
            dask_local=_workers("--dask-local", args.dask_local),
            scheduler=args.scheduler,
            out=args.out,
            progress=not args.quiet,
            chunk_runs=_whole("--chunk-runs", args.chunk_runs),
        )
    except SweepAborted as exc:
        print(f"abm: error: {exc}", file=sys.stderr)
        return 1
    print(outcome.line())
    return 0


def _damaged(results: str, exc: BaseException) -> InputError:
    return InputError(
        "results", results, f"a sweep's results folder that is not damaged ({type(exc).__name__} reading it)"
    )


DATA_ERRORS = (KeyError, TypeError, IndexError, AttributeError, ValueError, OSError, ArithmeticError)
"""What a damaged or foreign results folder raises deep inside pandas, pyarrow or the analysis."""


def cmd_analyze(args: argparse.Namespace) -> int:
    from abm.folders import prepare_parent
    from abm.sweeps.analysis import analyze
    from abm.sweeps.store import load_results

    load_results(args.results)  # refuses a folder that is not a sweep's before anything is written
    if args.out is not None:
        prepare_parent(Path(args.out))
    try:
        folder = analyze(args.results, out=args.out)
    except InputError:
        raise
    except DATA_ERRORS as exc:
        raise _damaged(args.results, exc) from None
    print(f"Report: {folder / 'report.md'} (tables in {folder / 'tables'}/, plots beside it)")
    return 0


# ---- rerun ---------------------------------------------------------------------------------------


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        try:
            fa, fb = float(a), float(b)
        except (TypeError, ValueError):
            return False
        return (math.isnan(fa) and math.isnan(fb)) or fa == fb
    if a is None or b is None:
        return (a in (None, "")) and (b in (None, ""))
    return a == b or str(a) == str(b)


def cmd_rerun(args: argparse.Namespace) -> int:
    from abm.cli import fresh_output_dir
    from abm.folders import prepare_parent
    from abm.scenario import Scenario
    from abm.sweeps.runner import simulate_released
    from abm.sweeps.spec import ID_COLUMNS
    from abm.sweeps.store import load_results

    results = load_results(args.results)
    run_id = limits.whole_number("RUN_ID", args.run_id, 0, what="a whole number (a run_id of the results)")
    runs = results.runs
    if not 0 <= run_id < runs:
        raise InputError("RUN_ID", run_id, f"a run_id in [0, {runs - 1}]")
    out = fresh_output_dir(args.out, f"rerun-{run_id}") if args.out else None
    if out is not None:
        prepare_parent(out)
    manifest = results.manifest
    reps = int(manifest["design"]["replications"])
    point, replication = divmod(run_id, reps)
    try:
        stored = results.summary[results.summary.run_id == run_id]
        failed = results.errors[results.errors.run_id == run_id]
        if len(stored):
            seed = int(stored.iloc[0]["seed"])
        elif len(failed):
            seed = int(failed.iloc[0]["seed"])
        else:
            from abm.seeding import run_seed

            seed = run_seed(
                int(manifest["master_seed"]), replication if manifest.get("common_random_numbers") else run_id
            )
        design_row = results.design[results.design.point == point].iloc[0]
        overrides = {p["key"]: _plain(design_row[p["column"]]) for p in manifest["parameters"]}
    except DATA_ERRORS as exc:
        raise _damaged(args.results, exc) from None
    try:
        text = limits.read_text_file(results.path / "scenario.toml", "results", what="scenario.toml")
    except FileNotFoundError:
        raise InputError("results", args.results, "a sweep's results folder with its scenario.toml") from None
    base = Scenario.from_toml(text, "scenario.toml")

    print(f"Run {run_id} of sweep {manifest['name']} (point {point}, replication {replication}), seed {seed}")
    for key, value in overrides.items():
        print(f"  {key} = {value!r}")
    try:
        scenario = base.with_overrides(overrides) if overrides else base.copy()
        result = simulate_released(scenario, seed)
    except Exception as exc:
        print(f"\nThe run raised {type(exc).__name__}: {exc}")
        if len(failed):
            print(f"The errors table holds the same run: {failed.iloc[0]['error']}")
            return 0
        return 1
    row = result.outcomes()
    status = 0
    if len(stored):
        mine = stored.iloc[0]
        taken = set(ID_COLUMNS) | {p["column"] for p in manifest["parameters"]}
        diffs = []
        for key, value in row.items():
            column = f"{key}_result" if key in taken else key
            if key == "seed" or column not in mine.index:
                continue
            if not _same(value, _plain(mine[column])):
                diffs.append(f"{key}: stored {mine[column]!r}, now {value!r}")
        if diffs:
            status = 1
            print("\nThe summary DIFFERS from the stored row (code or packages changed since the sweep?):")
            for d in diffs:
                print(f"  {d}")
        else:
            print(f"\nThe summary equals the stored row ({len(row) - 1} outcomes): the run is reproduced exactly.")
    elif len(failed):
        status = 1
        print(f"\nThe errors table says this run raised ({failed.iloc[0]['error']}); now it ran through.")
    else:
        print("\nThis run is not in the results yet (the sweep has not reached it).")

    cur = scenario.currency
    print(f"\nKPIs of {row['entrant']} ({row['entry_mode']} -> {row['final_mode']}, partner: {row['partner'] or '-'}):")
    kpis = [
        ("licence month", row["licence_month"], "{:.0f}"),
        ("share, year 1", row["share_y1"], "{:.1%}"),
        ("share, year 3", row["share_y3"], "{:.1%}"),
        ("share, year 5", row["share_y5"], "{:.1%}"),
        ("share, final", row["share_final"], "{:.1%}"),
        ("months to target share", row["months_to_target"], "{:.0f}"),
        (f"NPV, {cur} m", row["npv"], "{:.2f}"),
        ("ROI", row["roi"], "{:.2f}"),
        ("objective met", row["objective_met"], "{}"),
        ("entry success", row["entry_success"], "{}"),
        ("partnership end", row["partnership_end_cause"] or "-", "{}"),
        ("partnership failed", row["partnership_failed"], "{}"),
    ]
    for label, value, fmt in kpis:
        text = "n/a" if isinstance(value, float) and math.isnan(value) else fmt.format(value)
        print(f"  {label:<24}{text}")
    print(f"\nEvent log ({len(result.events)} events):")
    for ev in result.events.itertuples(index=False):
        print(f"  month {ev.month:>3}  {ev.event}")
    if out is not None:
        result.save(out)
        print(f"\nFrames written to {out}/ (steps, summary, entrants, partnerships, events .parquet)")
    return status


def _plain(value: Any) -> Any:
    import numpy as np
    import pandas as pd

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return str(value)
    return value
