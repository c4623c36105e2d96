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
import time
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

from abm import limits
from abm.errors import InputError, shorten

PLUGINS = (
    "abm.sweeps.commands",
    "abm.app.commands",
    "abm.validation.commands",
    "abm.benchmarks.commands",
    "abm.inference.commands",  # calibrate, forecast
)
"""Modules that add commands; one that is not installed is skipped."""


def parse_assignment(text: str) -> tuple[str, Any]:
    """``key=value`` from ``--set``; the value is read as TOML (numbers, true/false, "text"),
    falling back to plain text."""
    if "=" not in text:
        raise InputError("--set", text, "KEY=VALUE, e.g. --set partner_commitment=0.6")
    key, raw = text.split("=", 1)
    if len(raw) > limits.MAX_TOML_BYTES:
        raise InputError(
            f"--set {shorten(key.strip(), 40)[1:-1]}", raw, f"a value of at most {limits.MAX_TOML_BYTES:,} characters"
        )
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    except RecursionError:
        value = None
    except ValueError:  # e.g. an integer of more than 4,300 digits
        raise InputError(
            f"--set {shorten(key.strip(), 40)[1:-1]}", raw, f"a number of at most {limits.MAX_INT_DIGITS} digits"
        ) from None
    if value is None or limits.nesting_depth(value) > limits.MAX_TOML_DEPTH:
        raise InputError(
            f"--set {shorten(key.strip(), 40)[1:-1]}",
            raw,
            f"a value nested at most {limits.MAX_TOML_DEPTH} levels deep",
        )
    return key.strip(), value


def fresh_output_dir(out: str | None, default_name: str) -> Path:
    """The folder to write into: ``out`` if it is new or empty, else refuse; by default a
    new time-stamped folder under results/. Never overwrites earlier results."""
    from abm.folders import slug

    if out is None:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        name = slug(default_name)  # a scenario's name may hold '/' or '..': never leave results/
        path = Path("results") / f"{name}-{stamp}"
        n = 1
        while path.exists():
            path = Path("results") / f"{name}-{stamp}-{n}"
            n += 1
        return path
    path = Path(out)
    try:
        taken = path.exists() and (not path.is_dir() or any(path.iterdir()))
    except OSError as exc:
        raise InputError("--out", out, f"a new or empty folder you may read ({exc.strerror})") from None
    if taken:
        raise InputError("--out", out, "a new or empty folder (it holds files; nothing is overwritten)")
    return path


def positive_int(name: str, text: str, hi: int | None = None) -> int:
    """A whole number >= 1 (and <= ``hi``) from a command-line option; at most
    ``limits.MAX_INT_DIGITS`` digits are read."""
    return limits.whole_number(name, text, 1, hi)


def workers_option(name: str, text: str | None) -> int | None:
    """``--workers``: None for the default, else a whole number in [1, limits.max_workers()]."""
    if text is None:
        return None
    return limits.check_workers(name, positive_int(name, text))


# ---- abm run ---------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    from abm.executors import available_cores
    from abm.presets import resolve_scenario
    from abm.scenario import ENTRY_MODES

    if len(args.set) > limits.MAX_SET_ITEMS:
        raise InputError("--set", f"{len(args.set)} options", f"at most {limits.MAX_SET_ITEMS} --set options")
    reps = positive_int("--replications", args.replications, limits.MAX_RUN_REPLICATIONS)
    workers = workers_option("--workers", args.workers) or available_cores()
    seed = limits.whole_number("--seed", args.seed, 0, 2**63 - 1)
    months = None if args.months is None else positive_int("--months", args.months, limits.MAX_MONTHS)
    scenario = resolve_scenario(args.scenario)
    overrides = dict(parse_assignment(a) for a in args.set)
    if months is not None:
        overrides["months"] = months
    if overrides:
        scenario = scenario.with_overrides(overrides)
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
    limits.check_runs("--replications", reps * len(variants), "runs (variants x replications)")
    out = fresh_output_dir(args.out, f"run-{scenario.name}")
    from abm.folders import partial_dir, prepare_parent

    prepare_parent(out)  # a place that cannot be written fails now, not after the simulation
    tmp = partial_dir(out.parent)
    try:
        return _run_into(args, scenario, variants, reps, seed, workers, out, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # gone once moved into place


def _run_into(
    args: argparse.Namespace,
    scenario: Any,
    variants: dict,
    reps: int,
    seed: int,
    workers: int,
    out: Path,
    tmp: Path,
) -> int:

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
    # write everything into the temporary sibling, then move it into place in one step
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
    except OSError as exc:
        raise InputError(
            "--out", str(out), f"a folder that can be written ({exc.strerror or type(exc).__name__})"
        ) from None
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


class UsageError(Exception):
    """A command line argparse cannot parse; printed as one line, exit code 2."""


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (not the multi-line usage) naming the
    argument, the value (shortened) and where to look, and it raises instead of exiting."""

    def error(self, message: str) -> None:  # type: ignore[override]
        if len(message) > 300:
            message = message[:297] + "..."
        raise UsageError(f"{message} (see: {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="abm", description="Agent-based simulation of international market entry.")
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

    # abm classroom (issue 16): the multi-team classroom server
    from abm.classroom.commands import register as register_classroom

    register_classroom(sub)
    return parser


def _version() -> str:
    from abm import __version__

    return f"abm {__version__}"


def _one_line(message: object, limit: int = 900) -> str:
    text = " ".join(str(message).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def main(argv: list[str] | None = None) -> int:
    """Run one command; bad input prints one line ``abm: error: ...`` and returns 2."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return int(args.func(args) or 0)
    except (InputError, UsageError) as exc:
        print(f"abm: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except RecursionError:
        print("abm: error: input nested too deeply to read", file=sys.stderr)
        return 2
    except MemoryError:
        print("abm: error: out of memory (see docs/LIMITS.md for the limits on input)", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("abm: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
