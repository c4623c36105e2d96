"""Hostile and careless input through the CLI: every case must exit 2 with one clear line,
no traceback, no hang, and nothing written or changed.

More than 300 malformed inputs, generated with fixed seeds, across scenario files, special
files (devices, pipes, folders, huge files), ``--set`` overrides, flags, sweep specifications
and results folders (corrupt, foreign or truncated). They run in-process through
``abm.cli.main`` (a few milliseconds each); a handful also run as real subprocesses to prove
the exit code and stderr of the installed command.

Run as a script (``python tests/test_fuzz.py [PYTHONPATH-root]``) it prints the tally per
kind of failure, which is how the before/after figures of issue 17 were taken.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HANG_S = 20
CLEAR = ("is not allowed", "argument", "arguments", "invalid choice", "unrecognized")

SMALL_SCENARIO = """name = "tiny"
months = 6
[market]
consumers = 200
host_country = "VIE"
[[entrants]]
name = "Alpha"
home_country = "USA"
[[partners]]
name = "Beta"
[[incumbents]]
name = "Gamma"
[[regulators]]
name = "Ministry"
"""

SMALL_SPEC = """name = "tiny"
scenario = "alpha-beta"
replications = 1
months = 3
[fixed]
consumers = 100
[parameters]
entry_mode = ["alone", "alliance"]
"""


# ---- case generation ------------------------------------------------------------------------


@dataclass
class Case:
    kind: str
    argv: list[str]
    files: dict[str, bytes] = field(default_factory=dict)
    setup: str = ""  # a named special set-up, see _special


def _scenario_cases(rng: random.Random) -> list[Case]:
    bad_values = [
        ("months", ["0", "-5", "601", "1e9", '"ten"', "true", "[1]", "{a=1}", "99999999999999999999999"]),
        ("market.consumers", ["0", "49", "5000001", "1e12", '"many"', "-1", "nan", "inf"]),
        ("market.host_country", ['"XXX"', "1", '""', '"' + "Q" * 5000 + '"', "[1,2]"]),
        ("entrants[0].capital", ["-1", '"rich"', "nan", "-inf", "[]"]),
        ("entrants[0].entry_mode", ['"teleport"', "3", '"ALONE"']),
        ("entrants[0].home_country", ['"NOPE"', "{}"]),
        ("partners[0].commitment", ["1.5", "-0.1", '"high"', "true"]),
        ("incumbents[0].initial_share", ["2", "-1", '"x"']),
        ("regulators[0].stringency", ["7", '"strict"', "-3"]),
        ("name", ["1", "[]", "true", '"' + "n" * 20000 + '"']),
        ("title", ["1", "{x = 1}"]),
        ("market.regions_x", ["0", "21", "2.5"]),
        ("contract.trust_floor", ["1.1", '"low"']),
        ("mode_choice.horizon_months", ["0", "601", '"long"']),
    ]
    cases = []
    for key, values in bad_values:
        for value in values:
            section, _, leaf = key.rpartition(".")
            text = _with_value(SMALL_SCENARIO, section, leaf, value)
            cases.append(Case("scenario file: bad value", ["run", "--scenario", "s.toml"], {"s.toml": text.encode()}))
    # structural damage
    structural = {
        "unknown key": SMALL_SCENARIO + "colour = 'red'\n",
        "unknown section": SMALL_SCENARIO + "[weather]\nrain = 1\n",
        "duplicate partner": SMALL_SCENARIO + '[[partners]]\nname = "Beta"\n',
        "no entrants": SMALL_SCENARIO.replace(
            '[[entrants]]\nname = "Alpha"\nhome_country = "USA"\n', "entrants = []\n"
        ),
        "entrants a table": SMALL_SCENARIO.replace("[[entrants]]", "[entrants]"),
        "market a list": SMALL_SCENARIO.replace("[market]", "[[market]]"),
        "bad preferred partner": SMALL_SCENARIO.replace(
            'home_country = "USA"', 'home_country = "USA"\npreferred_partner = "Zeta"'
        ),
        "shares over 1": SMALL_SCENARIO
        + '[[incumbents]]\nname = "Delta"\ninitial_share = 0.9\n'
        + '[[incumbents]]\nname = "Eps"\ninitial_share = 0.9\n',
        "base region off map": SMALL_SCENARIO.replace('name = "Gamma"', 'name = "Gamma"\nbase_region = 99'),
        "no common dimension": SMALL_SCENARIO.replace('"VIE"', '"ZAM"').replace('"USA"', '"BHU"'),
        "100000 partners": SMALL_SCENARIO + "".join(f'[[partners]]\nname = "P{i}"\n' for i in range(100_000)),
        "65 incumbents": SMALL_SCENARIO + "".join(f'[[incumbents]]\nname = "I{i}"\n' for i in range(65)),
        "deep arrays": "x = " + "[" * 5000 + "]" * 5000 + "\n",
        "deep inline tables": "x = " + "{a = " * 3000 + "1" + "}" * 3000 + "\n",
        "deep 40": "months = " + "[" * 40 + "1" + "]" * 40 + "\n",
        "binary": None,
        "latin-1": None,
        "empty name list": SMALL_SCENARIO.replace("[[regulators]]", "regulators = 5\n[[regulators]]"),
        "bad toml": "months = = 3\n",
        "unterminated string": 'name = "abc\n',
        "only bom": "\ufeff",
        "huge string": 'name = "' + "x" * 1_500_000 + '"\n',
    }
    for label, text in structural.items():
        if label == "binary":
            data = bytes(rng.randrange(256) for _ in range(4096))
        elif label == "latin-1":
            data = ("name = 'caf\xe9'\n" + SMALL_SCENARIO).encode("latin-1")
        else:
            data = text.encode()
        cases.append(Case(f"scenario file: {label}", ["run", "--scenario", "s.toml"], {"s.toml": data}))
    # random byte-level corruption of a good file (each mutation checked to stay invalid below)
    lines = SMALL_SCENARIO.splitlines()
    for _ in range(40):
        broken = list(lines)
        i = rng.randrange(len(broken))
        how = rng.choice(["cut", "junk", "dup-key", "quote"])
        if how == "cut":
            broken[i] = broken[i][: rng.randrange(1, max(2, len(broken[i])))] + " = ="
        elif how == "junk":
            broken[i] += " " + "".join(rng.choice("]}[{=\"'#\\") for _ in range(3)) + "x"
        elif how == "dup-key":
            broken.insert(i + 1, "months = 7\nmonths = 8")
        else:
            broken[i] = broken[i].replace('"', "", 1) if '"' in broken[i] else broken[i] + ' = "'
        cases.append(
            Case(
                f"scenario file: corrupted ({how})",
                ["run", "--scenario", "s.toml"],
                {"s.toml": "\n".join(broken).encode()},
            )
        )
    # special files
    for label in ("dev-zero", "fifo", "folder", "missing", "dev-null-dir", "huge-file", "symlink-to-dev-zero"):
        cases.append(Case(f"special file: {label}", ["run", "--scenario", "@SPECIAL"], setup=label))
    cases.append(Case("special file: fifo spec", ["sweep", "@SPECIAL"], setup="fifo"))
    cases.append(Case("special file: dev-zero spec", ["sweep", "@SPECIAL"], setup="dev-zero"))
    cases.append(Case("special file: fifo show-scenario", ["show-scenario", "@SPECIAL"], setup="fifo"))
    return cases


def _with_value(text: str, section: str, leaf: str, value: str) -> str:
    """The scenario text with ``section.leaf`` set to ``value`` (TOML source)."""
    if not section:
        return f"{leaf} = {value}\n" + text
    head, _, idx = section.partition("[")
    lines = text.splitlines()
    header = f"[[{head}]]" if idx else f"[{head}]"
    if header not in lines:
        return text + f"{header}\n{leaf} = {value}\n"
    lines.insert(lines.index(header) + 1, f"{leaf} = {value}")
    return "\n".join(lines) + "\n"


def _override_cases(rng: random.Random) -> list[Case]:
    sets = [
        "months=0",
        "months=-1",
        "months=700",
        "months=abc",
        "consumers=1e300",
        "consumers=[1,2]",
        "consumers={a=1}",
        "nonsense=1",
        "market.nonsense=2",
        "partners[9].commitment=0.5",
        "partners[0].nonsense=0.5",
        "partners[-1].commitment=0.5",
        "partner_commitment=2",
        "partner_commitment=nan",
        "entry_mode=flying",
        "host_country=Atlantis",
        "home_country=ZZZ",
        "cultural_distance=-1",
        "=5",
        "justtext",
        "",
        "market=5",
        "partners=5",
        "partners=[1]",
        "entrants=[]",
        "incumbents=[{name='X', initial_share=2}]",
        "market.consumers=" + "9" * 5000,
        "name=" + "[" * 3000,
        "title=" + "{a=" * 2000,
        "x" * 10_000 + "=1",
        "partner=Nobody",
        "regulatory_stringency=[0.5]",
        "surprise_rate=true",
        "allow_upgrade=3",
        "trust_floor=-0.5",
        "foreign_ownership_cap=1.5",
        "months=1.5",
        "months=true",
        'market.consumers="5000"',
        "market.regions_x=0",
    ]
    cases = [Case("override", ["run", "--set", s]) for s in sets]
    for _ in range(30):  # random pairs: one good, one bad
        good = rng.choice(["months=12", "partner_commitment=0.5", "consumers=300"])
        cases.append(Case("override (pair)", ["run", "--set", good, "--set", rng.choice(sets)]))
    cases.append(Case("override: too many", ["run"] + ["--set", "months=12"] * 300))
    return cases


def _flag_cases(rng: random.Random) -> list[Case]:
    numbers = ["0", "-1", "abc", "1.5", "", " ", "1e3", "99999999999999999999", "9" * 5000, "0x10", "nan", "١"]
    cases = []
    for flag in ("--workers", "--replications", "-n", "--months", "--seed"):
        for value in numbers:
            if flag == "--seed" and value in ("0",):
                continue
            cases.append(Case(f"flag {flag}", ["run", flag, value]))
    cases += [
        Case("flag --workers", ["run", "--workers", "1000000"]),
        Case("flag --replications", ["run", "-n", "100000000"]),
        Case("flag --months", ["run", "--months", "601"]),
        Case("flag --seed", ["run", "--seed", str(2**64)]),
        Case("flag --compare", ["run", "--compare", "foo"]),
        Case("flag --modes", ["run", "--modes", "alone,flying"]),
        Case("flag --modes", ["run", "--modes", ",,,"]),
        Case("flag --scenario", ["run", "--scenario", "no-such-preset"]),
        Case("flag --scenario", ["run", "--scenario", "x" * 10_000]),
        Case("flag unknown", ["run", "--frobnicate"]),
        Case("flag unknown", ["run", "extra-positional"]),
        Case("command unknown", ["fly"]),
        Case("command missing", []),
        Case("flag missing value", ["run", "--workers"]),
        Case("flag missing value", ["run", "--set"]),
        Case("show-scenario", ["show-scenario", "no-such"]),
        Case("show-scenario", ["show-scenario"]),
        Case("rerun missing args", ["rerun"]),
        Case("sweep flags", ["sweep", "spec.toml", "--workers", "1000000"], {"spec.toml": SMALL_SPEC.encode()}),
        Case("sweep flags", ["sweep", "spec.toml", "--workers", "0"], {"spec.toml": SMALL_SPEC.encode()}),
        Case("sweep flags", ["sweep", "spec.toml", "--dask-local", "1000000"], {"spec.toml": SMALL_SPEC.encode()}),
        Case("sweep flags", ["sweep", "spec.toml", "--chunk-runs", "0"], {"spec.toml": SMALL_SPEC.encode()}),
        Case("sweep flags", ["sweep", "spec.toml", "--chunk-runs", "9" * 100], {"spec.toml": SMALL_SPEC.encode()}),
        Case(
            "sweep flags",
            ["sweep", "spec.toml", "--workers", "2", "--dask-local", "2"],
            {"spec.toml": SMALL_SPEC.encode()},
        ),
        Case("sweep flags", ["sweep", "spec.toml", "--scheduler", "nonsense"], {"spec.toml": SMALL_SPEC.encode()}),
        Case("--out under a file", ["run", "--out", "afile/sub"], {"afile": b"x"}),
        Case("--out under a file", ["run", "--out", "afile/a/b/c"], {"afile": b"x"}),
        Case("--out in /proc", ["run", "--out", "/proc/abm-test-out"]),
        Case("--out in /proc", ["run", "--out", "/proc/self/abm/x"]),
        Case("--out non-empty", ["run", "--out", "full"], {"full/keep.txt": b"keep"}),
        Case("--out a file", ["run", "--out", "afile"], {"afile": b"x"}),
        Case(
            "sweep --out under a file",
            ["sweep", "spec.toml", "--out", "afile/x"],
            {"spec.toml": SMALL_SPEC.encode(), "afile": b"x"},
        ),
        Case(
            "sweep --out in /proc", ["sweep", "spec.toml", "--out", "/proc/abm-x/y"], {"spec.toml": SMALL_SPEC.encode()}
        ),
    ]
    for _ in range(10):
        n = rng.choice(["--workers", "-n", "--months"])
        value = rng.choice([-rng.randrange(1, 10**6), rng.randrange(10**8, 10**12)])
        cases.append(Case(f"flag {n} random", ["run", n, str(value)]))
    return cases


def _spec_cases(rng: random.Random) -> list[Case]:
    variants = {
        "huge factorial": SMALL_SPEC + "cultural_distance = { min = 0, max = 5, levels = 1000000000 }\n",
        "huge product": SMALL_SPEC
        + "".join(
            f'"partners[0].{k}" = {{ min = 0, max = 1, levels = 1000 }}\n'
            for k in ("commitment", "cultural_fit", "ambition")
        ),
        "huge replications": SMALL_SPEC.replace("replications = 1", "replications = 10000000"),
        "10^18 replications": SMALL_SPEC.replace("replications = 1", "replications = 1000000000000000000"),
        "sobol 2^40": SMALL_SPEC.replace(
            '[parameters]\nentry_mode = ["alone", "alliance"]\n',
            "[parameters]\npartner_commitment = { min = 0.1, max = 0.9 }\n",
        )
        + "[design]\nkind = 'sobol'\nsamples = 1099511627776\n",
        "morris 10^9": SMALL_SPEC.replace(
            '[parameters]\nentry_mode = ["alone", "alliance"]\n',
            "[parameters]\npartner_commitment = { min = 0.1, max = 0.9 }\n",
        )
        + "[design]\nkind = 'morris'\nsamples = 1000000000\n",
        "mc 10^9": SMALL_SPEC.replace(
            '[parameters]\nentry_mode = ["alone", "alliance"]\n',
            "[parameters]\npartner_commitment = { min = 0.1, max = 0.9 }\n",
        )
        + "[design]\nkind = 'monte_carlo'\nsamples = 1000000000\n",
        "long list": SMALL_SPEC
        + "partner_commitment = ["
        + ", ".join(f"{i / 100001:.6f}" for i in range(1, 20001))
        + "]\n",
        "bad name": SMALL_SPEC.replace('name = "tiny"', 'name = "../../escape"'),
        "bad toml": "name = = 1\n",
        "unknown key": SMALL_SPEC + "colour = 1\n",
        "bad design": SMALL_SPEC + "[design]\nkind = 'magic'\n",
        "bad scenario": SMALL_SPEC.replace('scenario = "alpha-beta"', 'scenario = "nope"'),
        "scenario fifo": SMALL_SPEC.replace('scenario = "alpha-beta"', 'scenario = "/dev/zero"'),
        "unknown parameter": SMALL_SPEC + "nonsense = [1, 2]\n",
        "deep": "x = " + "[" * 5000 + "]" * 5000,
        "bad months": SMALL_SPEC.replace("months = 3", "months = 0"),
        "bad seed": SMALL_SPEC + "master_seed = -1\n",
        "huge seed": SMALL_SPEC + "master_seed = 9223372036854775807\n".replace("7\n", "7\n"),
        "repeated values": SMALL_SPEC.replace('["alone", "alliance"]', '["alone", "alone"]'),
        "too many parameters": SMALL_SPEC.replace(
            '[parameters]\nentry_mode = ["alone", "alliance"]\n', "[parameters]\n"
        )
        + "".join(f'"x{i}" = [1, 2]\n' for i in range(150)),
    }
    cases = [Case(f"sweep spec: {k}", ["sweep", "spec.toml"], {"spec.toml": v.encode()}) for k, v in variants.items()]
    cases = [c for c in cases if c.kind != "sweep spec: huge seed"]
    for _ in range(25):
        text = SMALL_SPEC
        pos = rng.randrange(len(text))
        text = text[:pos] + rng.choice(["]", "[", "{", '"', "= =", "\x00", "[[", "'''"]) + text[pos:]
        cases.append(Case("sweep spec: corrupted", ["sweep", "spec.toml"], {"spec.toml": text.encode()}))
    return cases


def _results_cases(rng: random.Random) -> list[Case]:
    damage = [
        "no-manifest",
        "manifest-not-json",
        "manifest-list",
        "manifest-empty-object",
        "manifest-null",
        "manifest-deep",
        "manifest-design-string",
        "manifest-reps-zero",
        "manifest-params-bad",
        "manifest-huge",
        "manifest-fifo",
        "manifest-dir",
        "no-design",
        "design-garbage",
        "summary-garbage",
        "errors-garbage",
        "design-foreign-parquet",
        "summary-foreign-parquet",
        "no-scenario",
        "scenario-garbage",
        "a-file",
        "empty-folder",
    ]
    cases = []
    for d in damage:
        cases.append(Case(f"results: {d}", ["rerun", "R", "0"], setup=f"results:{d}"))
        if d not in ("no-scenario", "scenario-garbage"):  # analyze and a resume need no scenario.toml
            cases.append(Case(f"results: {d}", ["analyze", "R", "--out", "A"], setup=f"results:{d}"))
        if d not in ("no-scenario", "scenario-garbage", "empty-folder"):  # an empty --out is a fine start
            spec = {"spec.toml": SMALL_SPEC.encode()}
            cases.append(Case(f"sweep --out: {d}", ["sweep", "spec.toml", "--out", "R"], spec, setup=f"results:{d}"))
    for rid in ["-1", "abc", "999999", "9" * 100, "1.5", ""]:
        cases.append(Case("rerun: bad run id", ["rerun", "R", rid], setup="results:good"))
    cases.append(
        Case("rerun: --out under a file", ["rerun", "R", "0", "--out", "R/manifest.json/x"], setup="results:good")
    )
    cases.append(
        Case("analyze: --out under a file", ["analyze", "R", "--out", "R/manifest.json/x"], setup="results:good")
    )
    cases.append(
        Case(
            "sweep --out: foreign sweep",
            ["sweep", "spec2.toml", "--out", "R"],
            {"spec2.toml": SMALL_SPEC.replace("months = 3", "months = 4").encode()},
            setup="results:good",
        )
    )
    return cases


def all_cases() -> list[Case]:
    rng = random.Random(17)
    cases = _scenario_cases(rng) + _override_cases(rng) + _flag_cases(rng) + _spec_cases(rng) + _results_cases(rng)
    for c in cases:  # every run case is small and quiet, should it get through
        if c.argv[:1] == ["run"] and "-q" not in c.argv:
            c.argv += ["-q"]
        if c.argv[:1] == ["run"] and not {"-n", "--replications", "--workers"} & set(c.argv):
            c.argv += ["-n", "2", "--workers", "1"]
    return cases


# ---- running a case -------------------------------------------------------------------------


@dataclass
class Outcome:
    code: int | None
    stdout: str
    stderr: str
    hung: bool = False
    crashed: str = ""


def _good_results(cache: Path) -> Path:
    """A tiny finished sweep to damage (built once per session)."""
    folder = cache / "good"
    if not (folder / "manifest.json").exists():
        from abm.sweeps import runner

        spec = cache / "spec.toml"
        spec.write_text(SMALL_SPEC)
        runner.run_sweep(str(spec), workers=1, out=str(folder), progress=False, echo=False)
    return folder


def _special(setup: str, cwd: Path, cache: Path) -> str | None:
    """Prepare a special file or results folder in ``cwd``; returns the path to put for @SPECIAL."""
    if setup == "dev-zero":
        return "/dev/zero"
    if setup == "fifo":
        os.mkfifo(cwd / "pipe.toml")
        return "pipe.toml"
    if setup == "folder":
        (cwd / "folder.toml").mkdir()
        return "folder.toml"
    if setup == "missing":
        return "missing.toml"
    if setup == "dev-null-dir":
        return "/dev/null/x.toml"
    if setup == "huge-file":
        with open(cwd / "huge.toml", "wb") as fh:
            fh.truncate(200_000_000)  # sparse: costs no disk
        return "huge.toml"
    if setup == "symlink-to-dev-zero":
        (cwd / "z.toml").symlink_to("/dev/zero")
        return "z.toml"
    if setup.startswith("results:"):
        how = setup.split(":", 1)[1]
        r = cwd / "R"
        if how == "a-file":
            r.write_text("not a folder")
            return None
        if how == "empty-folder":
            r.mkdir()
            return None
        shutil.copytree(_good_results(cache), r)
        m = r / "manifest.json"
        manifest = json.loads(m.read_text())
        if how == "no-manifest":
            m.unlink()
        elif how == "manifest-not-json":
            m.write_text("{not json")
        elif how == "manifest-list":
            m.write_text("[1, 2, 3]")
        elif how == "manifest-empty-object":
            m.write_text("{}")
        elif how == "manifest-null":
            m.write_text("null")
        elif how == "manifest-deep":
            m.write_text("[" * 100_000 + "]" * 100_000)
        elif how == "manifest-design-string":
            manifest["design"] = "factorial"
            m.write_text(json.dumps(manifest))
        elif how == "manifest-reps-zero":
            manifest["design"]["replications"] = 0
            m.write_text(json.dumps(manifest))
        elif how == "manifest-params-bad":
            manifest["parameters"] = [1, 2]
            m.write_text(json.dumps(manifest))
        elif how == "manifest-huge":
            with open(m, "ab") as fh:
                fh.truncate(50_000_000)
        elif how == "manifest-fifo":
            m.unlink()
            os.mkfifo(m)
        elif how == "manifest-dir":
            m.unlink()
            m.mkdir()
        elif how == "no-design":
            (r / "design.parquet").unlink()
        elif how == "design-garbage":
            (r / "design.parquet").write_bytes(b"PAR1garbagePAR1")
        elif how in ("summary-garbage", "errors-garbage"):
            folder = r / how.split("-")[0]
            folder.mkdir(exist_ok=True)
            for p in folder.glob("part-*.parquet"):
                p.write_bytes(b"garbage")
            if not list(folder.glob("part-*.parquet")):
                (folder / "part-000000-000000.parquet").write_bytes(b"garbage")
        elif how in ("design-foreign-parquet", "summary-foreign-parquet"):
            import pandas as pd

            target = r / "design.parquet" if how.startswith("design") else next((r / "summary").glob("part-*.parquet"))
            pd.DataFrame({"colour": ["red", "blue"]}).to_parquet(target)
        elif how == "no-scenario":
            (r / "scenario.toml").unlink()
        elif how == "scenario-garbage":
            (r / "scenario.toml").write_text("months = = 1")
        return None
    return None


def _snapshot(folder: Path) -> dict[str, str]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = str(p.relative_to(folder))
            try:
                st = os.lstat(p)
            except OSError:
                continue
            if p.is_symlink() or not p.is_file() or st.st_size > 10_000_000:
                out[rel] = f"{st.st_mode}:{st.st_size}"
            else:
                out[rel] = hashlib.sha1(p.read_bytes()).hexdigest()
    return out


class _Hang(Exception):
    pass


def _alarm(*_):
    raise _Hang()


def run_in_process(case: Case, cwd: Path, cache: Path) -> Outcome:
    from abm import cli

    argv = list(case.argv)
    for rel, data in case.files.items():
        p = cwd / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    if case.setup:
        special = _special(case.setup, cwd, cache)
        argv = [special if a == "@SPECIAL" else a for a in argv]
    before = _snapshot(cwd)
    out, err = io.StringIO(), io.StringIO()
    old_cwd = os.getcwd()
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(HANG_S)
    code: int | None = None
    crashed = ""
    hung = False
    try:
        os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.main(argv)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
                if not isinstance(exc.code, int) and exc.code is not None:
                    err.write(str(exc.code) + "\n")
    except _Hang:
        hung = True
    except BaseException as exc:  # a traceback: what the CLI let escape
        import traceback

        crashed = "".join(traceback.format_exception_only(type(exc), exc)).strip()[:300]
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
        os.chdir(old_cwd)
    outcome = Outcome(code, out.getvalue(), err.getvalue(), hung, crashed)
    outcome.changed = sorted(set(_snapshot(cwd).items()) ^ set(before.items()))  # type: ignore[attr-defined]
    return outcome


def judge(o: Outcome) -> str:
    """'' for a good refusal, else which rule it broke."""
    if o.hung:
        return "hang"
    if o.crashed or "Traceback" in o.stderr:
        return "traceback"
    if getattr(o, "changed", None):
        return "wrote or changed files"
    lines = [x for x in o.stderr.splitlines() if x.strip()]
    if o.code != 2:
        return f"exit {o.code}"
    if len(lines) != 1 or not lines[0].startswith("abm: error: ") or len(lines[0]) > 1000:
        return "unclear message (not one short line)"
    if not any(w in lines[0] for w in CLEAR):
        return "unclear message (names no field or rule)"
    return ""


def _fork_bomb(case: Case) -> bool:
    """A case that asks for more worker processes than a shared machine survives."""
    for flag in ("--workers", "--dask-local"):
        if flag in case.argv:
            value = case.argv[case.argv.index(flag) + 1]
            if value.isdigit() and (len(value) > 2 or int(value) > 64):
                return True
    return False


def tally(old_code: bool = False) -> tuple[dict[str, int], dict[str, str]]:
    """Run every case in-process; {verdict: count} (used for the before/after figures).
    With ``old_code``, cases that would fork a process per requested worker are not run but
    counted as hangs (issue 17 saw them fork until the OS refused, then hang)."""
    from collections import Counter

    counts: Counter = Counter()
    examples: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as cache_dir:
        cache = Path(cache_dir)
        for case in all_cases():
            if old_code and _fork_bomb(case):
                counts["hang"] += 1
                examples.setdefault(f"hang / {case.kind}", " ".join(case.argv)[:100] + " -> not run: forks")
                continue
            if old_code:
                print(" ".join(case.argv)[:80], file=sys.__stderr__, flush=True)
            with tempfile.TemporaryDirectory() as tmp:
                o = run_in_process(case, Path(tmp), cache)
                verdict = judge(o) or "ok"
                counts[verdict] += 1
                examples.setdefault(
                    f"{verdict} / {case.kind}",
                    " ".join(case.argv)[:100] + " -> " + (o.crashed or o.stderr.strip()[:200]),
                )
    return dict(counts), examples


# ---- the tests ------------------------------------------------------------------------------


CASES = all_cases()


def test_there_are_at_least_300_cases_of_every_kind():
    kinds = {c.kind.split(":")[0].split(" ")[0] for c in CASES}
    assert len(CASES) >= 300
    assert {"scenario", "special", "override", "flag", "sweep", "results", "rerun"} <= kinds


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz-cache")


@pytest.mark.parametrize("index", range(0, len(CASES), 25))
def test_malformed_input_is_refused_cleanly(index, tmp_path_factory, cache):
    """Each batch of 25 cases: exit 2, one clear line, no traceback, no hang, nothing written."""
    failures = []
    for case in CASES[index : index + 25]:
        cwd = tmp_path_factory.mktemp("case")
        o = run_in_process(case, cwd, cache)
        verdict = judge(o)
        if verdict:
            failures.append(f"{case.kind}: {' '.join(case.argv)[:120]} -> {verdict}: {(o.crashed or o.stderr)[:300]}")
        shutil.rmtree(cwd, ignore_errors=True)
    assert not failures, "\n".join(failures)


SUBPROCESS_CASES = [
    (["run", "--compare", "foo"], None),
    (["run", "--workers", "1000000", "-q"], None),
    (["run", "--scenario", "/dev/zero", "-q"], None),
    (["run", "--scenario", "pipe.toml", "-q"], "fifo"),
    (["rerun", "R", "0"], "results:manifest-list"),
]


@pytest.mark.parametrize(("argv", "setup"), SUBPROCESS_CASES)
def test_real_command_exits_2_with_one_line(argv, setup, tmp_path, cache):
    if setup:
        _special(setup, tmp_path, cache)
    before = _snapshot(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "abm.cli", *argv], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("abm: error: "), proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert _snapshot(tmp_path) == before


if __name__ == "__main__":  # python tests/test_fuzz.py [root of the abm to test]
    if len(sys.argv) > 1:
        sys.path.insert(0, sys.argv[1])
    import resource
    import time

    resource.setrlimit(resource.RLIMIT_AS, (6 * 2**30, 6 * 2**30))  # the old code reads /dev/zero forever

    started = time.perf_counter()
    counts, examples = tally(old_code=len(sys.argv) > 1)
    print(f"{sum(counts.values())} cases in {time.perf_counter() - started:.0f} s: {counts}")
    for key in sorted(examples):
        if not key.startswith("ok"):
            print(" ", key, "::", examples[key])
