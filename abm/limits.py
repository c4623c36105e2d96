"""Every limit on input, in one place.

The scenario loader, the CLI, the sweep specification and design code and the app all take
their bounds from here, and docs/LIMITS.md is generated from :data:`LIMITS`
(``python -m abm.limits > docs/LIMITS.md``). A value past a limit is refused at once with an
:class:`~abm.errors.InputError` naming the field, the value (shortened) and the limit, before
anything is materialised, simulated or written.

The limits are generous for teaching and research use (the largest preset uses 20,000
consumers and 120 months; the calibration sweeps ran 1,000 replications) and small enough that
a single request cannot exhaust the memory or the CPU of a shared machine.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from abm.errors import ECHO_CHARS, InputError, shorten


@dataclass(frozen=True)
class Limit:
    name: str
    value: int
    unit: str
    where: str
    why: str


def _limit(name: str, value: int, unit: str, where: str, why: str) -> int:
    LIMITS.append(Limit(name, value, unit, where, why))
    return value


LIMITS: list[Limit] = []

# ---- files -----------------------------------------------------------------------------------
MAX_TOML_BYTES = _limit(
    "MAX_TOML_BYTES",
    1_000_000,
    "bytes",
    "scenario files, sweep specs, uploads in the app",
    "the largest preset is under 10 kB; a bigger file is a mistake or an attack",
)
MAX_MANIFEST_BYTES = _limit(
    "MAX_MANIFEST_BYTES",
    20_000_000,
    "bytes",
    "a results folder's manifest.json",
    "a manifest grows by one session record per resume",
)
MAX_TOML_DEPTH = _limit(
    "MAX_TOML_DEPTH",
    32,
    "levels of nested tables/arrays",
    "scenario files, sweep specs, --set values",
    "a scenario nests three levels; deep nesting crashes the TOML parser",
)
MAX_LIST_ITEMS = _limit(
    "MAX_LIST_ITEMS",
    64,
    "items",
    "each list of firms or regulators in a scenario ([[entrants]], [[partners]], ...)",
    "the model holds at most 64 firms in all",
)
MAX_SET_ITEMS = _limit(
    "MAX_SET_ITEMS",
    200,
    "--set options",
    "abm run --set",
    "more is a script gone wrong",
)
MAX_TEXT_CHARS = _limit(
    "MAX_TEXT_CHARS",
    10_000,
    "characters",
    "any one text value in a scenario (title, description, lesson, names)",
    "texts are shown in the app and in reports",
)

# ---- model size ------------------------------------------------------------------------------
MAX_CONSUMERS = _limit(
    "MAX_CONSUMERS", 1_000_000, "consumers", "market.consumers", "about 100 MB of consumer state per run"
)
MAX_MONTHS = _limit("MAX_MONTHS", 600, "months", "months", "50 years; the model is not meant for longer horizons")

# ---- run counts ------------------------------------------------------------------------------
MAX_REPLICATIONS = _limit(
    "MAX_REPLICATIONS", 100_000, "replications", "replications of a sweep", "a day of CPU on a laptop"
)
MAX_RUN_REPLICATIONS = _limit(
    "MAX_RUN_REPLICATIONS",
    10_000,
    "replications",
    "abm run -n (per variant)",
    "abm run holds every run's monthly rows in memory; a sweep writes them to disk in chunks",
)
MAX_DESIGN_POINTS = _limit(
    "MAX_DESIGN_POINTS",
    1_000_000,
    "design points",
    "sweep designs (levels product, samples, Sobol N x (k + 2), Morris r x (k + 1))",
    "computed from the spec before the design is drawn",
)
MAX_RUNS = _limit(
    "MAX_RUNS",
    10_000_000,
    "runs",
    "design points x replications of a sweep; variants x replications of abm run",
    "computed before anything is drawn or written",
)
MAX_LEVELS = _limit(
    "MAX_LEVELS", 10_000, "levels or values", "one sweep parameter's levels or list of values", "a grid, not a table"
)
MAX_PARAMETERS = _limit("MAX_PARAMETERS", 100, "parameters", "parameters varied by one sweep", "")
MAX_INT_DIGITS = _limit(
    "MAX_INT_DIGITS", 20, "digits", "whole numbers given on the command line", "larger numbers are refused unread"
)
MAX_ECHO_CHARS = _limit(
    "MAX_ECHO_CHARS",
    ECHO_CHARS,
    "characters",
    "a value quoted in an error message",
    "longer values are shortened with '...'",
)

# ---- processes -------------------------------------------------------------------------------
WORKERS_PER_CORE = _limit(
    "WORKERS_PER_CORE",
    4,
    "worker processes per core",
    "--workers, --dask-local",
    "more processes than that only add memory and switching",
)

# ---- the app ---------------------------------------------------------------------------------
APP_MAX_UPLOAD_BYTES = _limit(
    "APP_MAX_UPLOAD_BYTES", MAX_TOML_BYTES, "bytes", "a scenario uploaded in the app", "same as files"
)
APP_MAX_CONSUMERS = _limit(
    "APP_MAX_CONSUMERS", 50_000, "consumers", "a scenario run in the app", "a Step must stay interactive"
)
APP_MAX_MONTHS = _limit("APP_MAX_MONTHS", 240, "months", "a scenario run in the app", "")
APP_MAX_REPLICATIONS = _limit(
    "APP_MAX_REPLICATIONS", 500, "replications", "Compare in the app, per variant", "the slider's maximum"
)
APP_MAX_SESSION_JOBS = _limit(
    "APP_MAX_SESSION_JOBS", 1, "jobs", "Compare jobs queued or running per browser session", ""
)
APP_MAX_QUEUED_JOBS = _limit(
    "APP_MAX_QUEUED_JOBS", 16, "jobs", "Compare jobs queued or running on the whole server", ""
)
APP_ORPHAN_MINUTES = _limit(
    "APP_ORPHAN_MINUTES",
    15,
    "minutes",
    "a browser session whose connection dropped without closing the page",
    "then its session ends and its jobs are cancelled (Solara's own default keeps it 24 hours)",
)


# ---- the classroom (abm classroom) -----------------------------------------------------------
CLASSROOM_MAX_TEAMS = _limit(
    "CLASSROOM_MAX_TEAMS", 60, "teams", "teams joined to one classroom session", "a class of 40 teams and spare seats"
)
CLASSROOM_MAX_MARKETS = _limit(
    "CLASSROOM_MAX_MARKETS",
    30,
    "markets",
    "copies of the case played side by side in one session",
    "one per alliance of two teams; each is a run the server holds in memory",
)
CLASSROOM_MAX_NAME_CHARS = _limit(
    "CLASSROOM_MAX_NAME_CHARS", 30, "characters", "a team's name", "letters, digits, spaces and - _ . ' only"
)
CLASSROOM_MAX_BODY_BYTES = _limit(
    "CLASSROOM_MAX_BODY_BYTES",
    4_096,
    "bytes",
    "a JSON request to the classroom server (a join, a decision, a teacher's setting)",
    "the largest legitimate message is under 300 bytes; a scenario upload has its own limit",
)
CLASSROOM_MAX_UPLOAD_BYTES = _limit(
    "CLASSROOM_MAX_UPLOAD_BYTES",
    200_000,
    "bytes",
    "a scenario file the teacher uploads to the classroom server",
    "the largest preset is under 10 kB",
)
CLASSROOM_MAX_CONSUMERS = _limit(
    "CLASSROOM_MAX_CONSUMERS",
    20_000,
    "consumers",
    "market.consumers of a case played in the classroom",
    "a round of every market must stay well under a second on a laptop",
)
CLASSROOM_MAX_MONTHS = _limit(
    "CLASSROOM_MAX_MONTHS", 240, "months", "the horizon of a case played in the classroom", ""
)
CLASSROOM_MAX_ROUND_MONTHS = _limit(
    "CLASSROOM_MAX_ROUND_MONTHS", 60, "months", "months per round in the classroom", "at least 1"
)
CLASSROOM_MAX_DEADLINE_SECONDS = _limit(
    "CLASSROOM_MAX_DEADLINE_SECONDS",
    900,
    "seconds",
    "the deadline for a team's decision (0: no deadline)",
    "a lesson's pace; the default policy decides when it passes",
)
CLASSROOM_MAX_REQUESTS_PER_MINUTE = _limit(
    "CLASSROOM_MAX_REQUESTS_PER_MINUTE",
    600,
    "requests per minute",
    "requests from one team (its token) or, before joining, from one address",
    "a page polls once a second; more is a script, refused with 429 without touching the session",
)
CLASSROOM_MAX_AUDIT_ROWS = _limit(
    "CLASSROOM_MAX_AUDIT_ROWS",
    5_000,
    "rows",
    "the session's audit log of refused requests (the oldest are dropped)",
    "a flood of bad requests cannot fill the memory",
)


def in_app() -> bool:
    """True inside the app's server process (``abm app`` sets ABM_APP_HOST): scenarios are then
    held to the app's limits on consumers and months."""
    return bool(os.environ.get("ABM_APP_HOST"))


def max_workers() -> int:
    """The most worker processes a command may start: WORKERS_PER_CORE x the cores."""
    from abm.executors import available_cores

    return WORKERS_PER_CORE * available_cores()


# ---- helpers ---------------------------------------------------------------------------------


def read_text_file(path: str | Path, field: str, *, max_bytes: int = MAX_TOML_BYTES, what: str = "a TOML file") -> str:
    """The text of a regular file of at most ``max_bytes``; never blocks on a FIFO or a device.

    Raises:
        FileNotFoundError: there is no such file (callers word their own message).
        InputError: anything else: not a regular file, too big, unreadable, not UTF-8.
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise
    except IsADirectoryError:
        raise InputError(field, str(path), f"{what} (this is a folder)") from None
    except OSError as exc:
        raise InputError(field, str(path), f"a readable {what} ({exc.strerror or type(exc).__name__})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise InputError(field, str(path), f"{what} (this is a folder)")
        if not stat.S_ISREG(info.st_mode):
            raise InputError(field, str(path), f"a regular file ({what}; not a device, pipe or socket)")
        if info.st_size > max_bytes:
            raise InputError(field, str(path), f"{what} of at most {max_bytes:,} bytes (it has {info.st_size:,})")
        with os.fdopen(fd, "rb") as fh:
            fd = -1
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise InputError(field, str(path), f"a readable {what} ({exc.strerror or type(exc).__name__})") from None
    finally:
        if fd >= 0:
            os.close(fd)
    if len(data) > max_bytes:
        raise InputError(field, str(path), f"{what} of at most {max_bytes:,} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(field, str(path), f"{what} in UTF-8 text (this one is binary or another encoding)") from None


def nesting_depth(data: Any) -> int:
    """How deeply tables and arrays nest in parsed TOML (iterative: never recurses)."""
    deepest = 0
    stack = [(data, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if deepest > MAX_TOML_DEPTH:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return deepest


def parse_toml(text: str, field: str) -> dict:
    """``tomllib.loads`` with the nesting limit; a parse error becomes one InputError line."""
    import tomllib

    deep = f"TOML nested at most {MAX_TOML_DEPTH} levels deep"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(field, "(file)", f"valid TOML; the parser says: {shorten(str(exc), 200)[1:-1]}") from None
    except RecursionError:  # Python's parser recurses once per level and gives up near 1,000
        raise InputError(field, "(file)", deep) from None
    except ValueError:  # an integer of more than 4,300 digits
        raise InputError(field, "(file)", f"TOML whose numbers have at most {MAX_INT_DIGITS} digits") from None
    if nesting_depth(data) > MAX_TOML_DEPTH:
        raise InputError(field, "(file)", deep)
    return data


def whole_number(name: str, text: Any, lo: int = 1, hi: int | None = None, what: str = "") -> int:
    """A whole number from a command-line string, in ``[lo, hi]``; refused unread when longer
    than MAX_INT_DIGITS digits."""
    raw = str(text).strip()
    allowed = what or (f"a whole number in [{lo:,}, {hi:,}]" if hi is not None else f"a whole number >= {lo}")
    digits = raw.lstrip("+-").replace("_", "")
    if len(digits) > MAX_INT_DIGITS or not (digits.isascii() and digits.isdigit()):
        raise InputError(name, text, allowed)
    value = int(raw.replace("_", ""))
    if value < lo or (hi is not None and value > hi):
        raise InputError(name, value, allowed)
    return value


def check_workers(name: str, value: int) -> int:
    hi = max_workers()
    if value > hi:
        raise InputError(name, value, f"at most {hi} worker processes ({WORKERS_PER_CORE} per core on this machine)")
    return value


def check_runs(field: str, runs: int, what: str = "runs") -> None:
    if runs > MAX_RUNS:
        raise InputError(field, runs, f"at most {MAX_RUNS:,} {what} in all")


def markdown() -> str:
    """docs/LIMITS.md, from :data:`LIMITS`."""
    lines = [
        "# Limits on input",
        "",
        "<!-- Generated by `python -m abm.limits > docs/LIMITS.md`; edit abm/limits.py instead. -->",
        "",
        "Every limit below is enforced in one place, `abm/limits.py`, and checked before anything",
        "is simulated or written. A value past a limit is refused with one line naming the field,",
        "the value (shortened to 80 characters) and the limit; the CLI exits with code 2.",
        "",
        "Files are read only when they are regular files (never devices, pipes or sockets), and",
        "only up to their size limit. The number of worker processes is capped at",
        f"{WORKERS_PER_CORE} x the cores of the machine.",
        "",
        "| Limit | Value | Applies to | Why |",
        "|---|---:|---|---|",
    ]
    for lim in LIMITS:
        lines.append(f"| `{lim.name}` | {lim.value:,} {lim.unit} | {lim.where} | {lim.why} |")
    lines += [
        "",
        "## The app",
        "",
        "The app reads only what a visitor uploads through the browser and, for results, folders",
        "under the results root given at start (`abm app --results DIR`, default `results/`), chosen",
        "from a list. A typed scenario path is accepted only when the app listens on 127.0.0.1 and",
        "was started with `--allow-paths`. Compare jobs of all sessions share one pool of worker",
        "processes and one queue; a session whose page closes has its jobs cancelled.",
        "",
        "## How it is tested",
        "",
        "`tests/test_fuzz.py` feeds 416 malformed inputs (scenario files, special files, `--set`",
        "overrides, flags, sweep specs, damaged results folders; fixed seeds) to the CLI and",
        "requires of each: exit code 2, one line, no traceback, no hang, nothing written or changed.",
        "`python tests/test_fuzz.py [CHECKOUT]` prints the tally for the code in CHECKOUT. Before",
        "these limits (commit edb7156) it was: 304 clean refusals, 62 tracebacks, 24 hangs (4 of them",
        "worker counts that fork without bound, counted without being run), 14",
        "multi-line or overlong messages, 12 inputs that wrote or changed files; now 416 of 416.",
        "`tests/test_limits.py` covers each limit, `tests/test_app_security.py` the app's rules.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(), end="")
