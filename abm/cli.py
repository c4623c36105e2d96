"""The ``abm`` command line.

Bad input (an unknown scenario, a value out of range, a malformed file) prints one line
``abm: error: ...`` naming the field, the value and what is allowed, exits with code 2,
and writes nothing.

Commands of other parts of the package (sweeps, the app, validation, benchmarks) register
themselves through a ``register(subparsers)`` function in the modules of ``PLUGINS``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import sys
import tempfile
import time
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

from abm.errors import InputError

PLUGINS = ("abm.sweeps.commands", "abm.app.commands", "abm.validation.commands", "abm.benchmarks.commands")
"""Modules that add commands; one that is not installed is skipped."""


def parse_assignment(text: str) -> tuple[str, Any]:
    """``key=value`` from ``--set``; the value is read as TOML (numbers, true/false, "text"),
    falling back to plain text."""
    if "=" not in text:
        raise InputError("--set", text, "KEY=VALUE, e.g. --set partner_commitment=0.6")
    key, raw = text.split("=", 1)
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key.strip(), value


def fresh_output_dir(out: str | None, default_name: str) -> Path:
    """The folder to write into: ``out`` if it is new or empty, else refuse; by default a
    new time-stamped folder under results/. Never overwrites earlier results."""
    if out is None:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        path = Path("results") / f"{default_name}-{stamp}"
        n = 1
        while path.exists():
            path = Path("results") / f"{default_name}-{stamp}-{n}"
            n += 1
        return path
    path = Path(out)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise InputError("--out", out, "a new or empty folder (it holds files; nothing is overwritten)")
    return path


def positive_int(name: str, text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise InputError(name, text, "a whole number >= 1") from None
    if value < 1:
        raise InputError(name, value, "a whole number >= 1")
    return value


# ---- abm run ---------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    from abm.executors import available_cores
    from abm.presets import resolve_scenario
    from abm.scenario import ENTRY_MODES

    scenario = resolve_scenario(args.scenario)
    overrides = dict(parse_assignment(a) for a in args.set)
    if args.months is not None:
        overrides["months"] = positive_int("--months", args.months)
    if overrides:
        scenario = scenario.with_overrides(overrides)
    reps = positive_int("--replications", args.replications)
    workers = available_cores() if args.workers is None else positive_int("--workers", args.workers)
    try:
        seed = int(args.seed)
    except ValueError:
        raise InputError("--seed", args.seed, "a whole number") from None
    if seed < 0:
        raise InputError("--seed", seed, "a whole number >= 0")
    if args.compare == "partners":
        if not scenario.partners:
            raise InputError("--compare", "partners", "a scenario with at least one local partner")
        variants = {p.name: {"partner": p.name} for p in scenario.partners}
    else:
        modes = tuple(m.strip() for m in args.modes.split(",")) if args.modes else ENTRY_MODES
        for m in modes:
            if m not in ENTRY_MODES:
                raise InputError("--modes", m, "a comma-separated list of " + ", ".join(ENTRY_MODES))
        if not scenario.partners:
            modes = tuple(m for m in modes if m == "alone") or ("alone",)
        variants = {m: {"entry_mode": m} for m in modes}
    for overrides in variants.values():
        scenario.with_overrides(overrides)
    out = fresh_output_dir(args.out, f"run-{scenario.name}")

    # heavy imports only once the input is known to be good
    from abm import compare as cmp_mod
    from abm import report
    from abm.progress import progress_bar

    total = reps * len(variants)
    print(
        f"{scenario.title}\n{len(variants)} variants x {reps} replications = {total} runs of "
        f"{scenario.months} months on {workers} worker{'s' if workers > 1 else ''}, master seed {seed}",
        file=sys.stderr,
    )
    started = time.perf_counter()
    bar = progress_bar(total=total, disable=args.quiet)

    def progress(done: int, _total: int) -> None:
        bar.update(done - bar.n)

    result = cmp_mod.compare(
        scenario, variants, replications=reps, master_seed=seed, workers=workers, progress=progress
    )
    bar.close()
    elapsed = time.perf_counter() - started

    table = report.kpi_table(result)
    print()
    print(report.format_table(table))
    # write everything into a temporary sibling, then move it into place in one step
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".partial-", dir=out.parent))
    try:
        result.summary.to_parquet(tmp / "summary.parquet", index=False)
        result.steps.to_parquet(tmp / "steps.parquet", index=False)
        result.events.to_parquet(tmp / "events.parquet", index=False)
        if len(result.failures):
            result.failures.to_parquet(tmp / "failures.parquet", index=False)
        report.fan_chart(result, tmp / "share_fan_chart.png")
        (tmp / "summary.md").write_text(
            report.summary_markdown(result, table, "share_fan_chart.png", elapsed), encoding="utf-8"
        )
        (tmp / "scenario.toml").write_text(scenario.to_toml(), encoding="utf-8")
        if out.exists():
            out.rmdir()  # checked empty above
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    print(
        f"\n{total - len(result.failures)} runs done, {len(result.failures)} failed, in {elapsed:.1f} s "
        f"({elapsed / total * 1000:.0f} ms per run wall, {workers} workers)"
    )
    print(f"Results: {out}/ (summary.md, share_fan_chart.png, *.parquet)")
    return 0


# ---- scenarios ----------------------------------------------------------------------------


def cmd_scenarios(args: argparse.Namespace) -> int:
    from abm import presets

    for name in presets.names():
        s = presets.load(name)
        mark = " (default)" if name == presets.DEFAULT else ""
        print(f"{name:<24}{s.title}{mark}")
    return 0


def cmd_show_scenario(args: argparse.Namespace) -> int:
    from abm.presets import resolve_scenario

    print(resolve_scenario(args.name).to_toml(), end="")
    return 0


def cmd_experiments(args: argparse.Namespace) -> int:
    from abm import experiments

    for name, question in experiments.listing():
        print(f"{name:<30}{question}")
    print(f"\nrun one: abm sweep NAME; copy one to edit it: {experiments.FOLDER}/NAME.toml")
    return 0


def cmd_countries(args: argparse.Namespace) -> int:
    from abm.culture import countries

    for c in countries().values():
        dims = sum(v is not None for v in c.scores.values())
        print(f"{c.code}  {c.name:<28} {dims} of 6 dimensions")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="abm", description="Agent-based simulation of international market entry.")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("run", help="compare entry modes (or partners) of a scenario over replications")
    p.add_argument("--scenario", default=None, help="preset name or TOML file (default: alpha-beta)")
    p.add_argument("--replications", "-n", default="100", help="runs per variant (default 100)")
    p.add_argument("--seed", default="1", help="master seed (default 1)")
    p.add_argument("--out", default=None, help="new or empty output folder (default: results/run-<scenario>-<time>)")
    p.add_argument("--workers", default=None, help="local processes (default: all cores)")
    p.add_argument("--compare", choices=("modes", "partners"), default="modes", help="what varies (default: modes)")
    p.add_argument("--modes", default=None, help="comma-separated entry modes (default: all four)")
    p.add_argument("--months", default=None, help="override the scenario's horizon")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a parameter, e.g. --set partner_commitment=0.6 or --set 'partners[0].regulatory_ties=0.9'",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("scenarios", help="list the built-in scenarios")
    p.set_defaults(func=cmd_scenarios)
    p = sub.add_parser("show-scenario", help="print a scenario as TOML (a start for your own file)")
    p.add_argument("name", help="preset name or TOML file")
    p.set_defaults(func=cmd_show_scenario)
    p = sub.add_parser("experiments", help="list the sweep specifications shipped with the package")
    p.set_defaults(func=cmd_experiments)

    p = sub.add_parser("countries", help="list the country codes for home_country and host_country")
    p.set_defaults(func=cmd_countries)

    for module in PLUGINS:
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name and module.startswith(exc.name):
                continue  # that part is not there
            raise
        mod.register(sub)
    return parser


def _version() -> str:
    from abm import __version__

    return f"abm {__version__}"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except InputError as exc:
        print(f"abm: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("abm: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
