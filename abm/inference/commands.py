"""``abm calibrate`` and ``abm forecast``: the inference commands of the CLI.

Registered by abm/cli.py through :func:`register`. Bad input raises InputError (one line,
exit code 2, nothing written or overwritten).
"""

from __future__ import annotations

import argparse
from typing import Any

from abm.errors import InputError


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "calibrate",
        help="calibrate scenario parameters against the documented facts, with uncertainty",
        description="History matching with Gaussian-process emulators, then the posterior of the chosen "
        "parameters given the facts' bands; writes posterior.parquet and report.md with charts. Running "
        "the same command again resumes an interrupted calibration. See docs/INFERENCE.md.",
    )
    p.add_argument("spec", help="calibration spec (TOML), e.g. experiments/inference/spec-small.toml")
    p.add_argument(
        "--out", default=None, help="results folder (default: results/calibrate-<name>); resumed if it holds this spec"
    )
    p.add_argument("--workers", default=None, help="local processes (default: all cores; 1 = serial)")
    p.add_argument("--dask-local", default=None, metavar="N", help="run on a Dask LocalCluster of N worker processes")
    p.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT", help="run on an existing Dask cluster")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_calibrate)

    p = subparsers.add_parser(
        "forecast",
        help="forecast a case's remaining months from its observed first months (fan chart, table)",
        description="Conditions runs of the scenario, with its uncertain parameters drawn from their prior, "
        "on the observed months (ABC rejection) and forecasts the rest with bands. DATA.csv: month, "
        "market_share; optional awareness, licence_month, partnership_status, cash. See docs/INFERENCE.md.",
    )
    p.add_argument("scenario", help="preset name or TOML file: the case")
    p.add_argument("data", metavar="DATA.csv", help="observed months")
    p.add_argument(
        "--out", default=None, help="new or empty output folder (default: results/forecast-<scenario>-<time>)"
    )
    p.add_argument("--runs", default="2000", help="reference runs (default 2000)")
    p.add_argument("--accept", default="0.05", help="share of reference runs accepted (default 0.05)")
    p.add_argument("--seed", default="1", help="master seed (default 1)")
    p.add_argument("--workers", default=None, help="local processes (default: all cores)")
    p.add_argument("--dask-local", default=None, metavar="N", help="run on a Dask LocalCluster of N worker processes")
    p.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT", help="run on an existing Dask cluster")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_forecast)


def cmd_calibrate(args: argparse.Namespace) -> int:
    from abm.inference.calibrate import calibrate

    result = calibrate(
        args.spec,
        out=args.out,
        workers=args.workers,
        dask_local=args.dask_local,
        scheduler=args.scheduler,
        progress=not args.quiet,
    )
    print(
        result.identifiability[
            ["parameter", "posterior_median", "posterior_q05", "posterior_q95", "verdict"]
        ].to_string(index=False)
    )
    print(f"Results: {result.path}/ (report.md, marginals.png, pairs.png, predictive.png, posterior.parquet)")
    return 0


def cmd_forecast(args: argparse.Namespace) -> int:
    from abm import limits
    from abm.cli import fresh_output_dir
    from abm.inference.forecast import MAX_REFERENCE_RUNS, forecast
    from abm.presets import resolve_scenario

    runs = limits.whole_number("--runs", args.runs, 50, MAX_REFERENCE_RUNS)
    seed = limits.whole_number("--seed", args.seed, 0, 2**32 - 1)
    try:
        accept = float(args.accept)
    except ValueError:
        raise InputError("--accept", args.accept, "a share in (0, 0.5]") from None
    case = resolve_scenario(args.scenario)
    out = fresh_output_dir(args.out, f"forecast-{case.name}")
    result = forecast(
        case,
        args.data,
        out=out,
        reference_runs=runs,
        accept=accept,
        master_seed=seed,
        workers=args.workers,
        dask_local=args.dask_local,
        scheduler=args.scheduler,
        progress=not args.quiet,
    )
    table = result.table[["quantity", "observed", "median", "low_90", "high_90", "probability"]]
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    print(f"Results: {result.path}/ (fan_chart.png, forecast.md, forecast_table.csv, bands.parquet, posterior.parquet)")
    return 0
