"""The results folder of a sweep: manifest, design, and Parquet tables written in chunks.

    results/<sweep-name>/
        manifest.json         spec, fingerprint, seeds rule, package versions, git revision, sessions
        spec.toml             the specification as given
        scenario.toml         the base scenario every run starts from
        design.parquet        one row per design point (point, parameters)
        summary/part-*.parquet   one row per finished run (run_id, point, replication, seed, parameters, outcomes)
        paths/part-*.parquet     monthly rows of kept runs (if [keep] steps = true)
        errors/part-*.parquet    one row per run that raised (run_id, ..., parameters, error, traceback)

Chunks are written as runs finish, each to a hidden temporary file in the same folder and
then renamed into place (``os.replace``, atomic), so a chunk is either whole or absent,
even after ``kill -9``. A chunk's paths file is written before its summary file; a run
counts as finished once its row is in a summary or errors part, and on resume paths parts
without their summary part are removed. So a resumed sweep repeats no finished run and
loses none.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from abm.errors import InputError
from abm.sweeps.design import Design
from abm.sweeps.spec import ID_COLUMNS, SweepSpec

FORMAT = 1
MANIFEST = "manifest.json"
TABLES = ("summary", "paths", "errors")
PART = re.compile(r"^part-(\d+)-(\d+)\.parquet$")
INT_PATH_COLUMNS = ("run_id", "month", "customers")
WHOLE_OUTCOMES = (
    "months",
    "months_to_target",
    "licence_month",
    "exit_month",
    "partnership_months",
    "incumbent_reactions",
)
"""Summary outcomes that count months or events: stored as (nullable) integers, so that
DuckDB, polars and R read them as whole numbers; a run without the event has a null."""

SEEDING_RULE = (
    "run_id = point * replications + replication; seed = SeedSequence([master_seed, run_id])"
    ".generate_state(1)[0] (abm.seeding.run_seed), or run_seed(master_seed, replication) with "
    "common_random_numbers; design draws use SeedSequence(master_seed).spawn(1)[0]"
)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def package_versions() -> dict[str, str]:
    from importlib import metadata

    out = {"python": platform.python_version(), "platform": platform.platform()}
    for name in ("abm-market-entry", "mesa", "numpy", "pandas", "pyarrow", "SALib", "dask", "distributed", "scipy"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[name] = metadata.version(name)
    return out


def git_revision() -> dict[str, Any] | None:
    """Commit and dirty flag of the checkout ``abm`` is imported from, if it is one."""
    import abm

    root = Path(abm.__file__).resolve().parent.parent
    try:
        rev = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
        if rev.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        return {"revision": rev.stdout.strip(), "dirty": bool(dirty.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return None


def _write_json_atomic(path: Path, data: dict) -> None:
    tmp = path.with_name(f".tmp-{path.name}")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def normalize(frame: pd.DataFrame, int_columns: tuple[str, ...] | set[str]) -> pa.Table:
    """A frame as an Arrow table with one stable type per column, whatever the chunk.

    Numbers are int64 in ``int_columns`` (identifiers, counts, months, whole-number
    parameters), with null where missing (NaN in pandas), and float64 elsewhere: one type
    per column whatever the chunk. Text is string; true/false is bool.

    Raises:
        ValueError: a column of ``int_columns`` holds a fraction (a declared count that is not).
    """
    fields, arrays = [], []
    for name in frame.columns:
        col = frame[name]
        kind = col.dtype.kind
        if kind == "b":
            typ = pa.bool_()
        elif kind in "iu" and name in int_columns:
            typ = pa.int64()
        elif kind == "f" and name in int_columns:
            typ = pa.int64()
            col = _whole(col, name)
        elif kind in "iuf":
            typ = pa.float64()
        else:
            values = col.tolist()
            present = [v for v in values if v is not None and not (isinstance(v, float) and v != v)]
            if present and all(isinstance(v, (bool, np.bool_)) for v in present):
                typ = pa.bool_()
            elif present and all(isinstance(v, (int, float, np.integer, np.floating)) for v in present):
                typ = pa.float64()
                col = pd.to_numeric(col)
            else:
                typ = pa.string()
                col = pd.Series(
                    [None if v is None or (isinstance(v, float) and v != v) else str(v) for v in values], dtype=object
                )
        fields.append(pa.field(str(name), typ))
        arrays.append(pa.array(col.to_numpy() if typ != pa.string() else col.tolist(), type=typ, from_pandas=True))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def _whole(col: pd.Series, name: str) -> pd.Series:
    """A float column of whole numbers (NaN for missing) as a nullable integer column."""
    values = col.to_numpy(dtype=float)
    present = values[~np.isnan(values)]
    if not np.all(np.isfinite(present)) or np.any(present != np.round(present)):
        bad = present[~np.isfinite(present) | (present != np.round(present))][0]
        raise ValueError(f"column {name!r} is stored as whole numbers but holds {bad!r}")
    return col.astype("Int64")


def _conform(table: pa.Table, schema: pa.Schema | None) -> pa.Table:
    """Cast to the schema the first chunk set, so every part reads as one table."""
    if schema is None or table.schema.equals(schema):
        return table
    cols = []
    for f in schema:
        if f.name in table.column_names:
            cols.append(table.column(f.name).cast(f.type))
        else:
            cols.append(pa.nulls(len(table), type=f.type))
    extra = [n for n in table.column_names if n not in schema.names]
    out = pa.Table.from_arrays(cols, schema=schema)
    for n in extra:
        out = out.append_column(n, table.column(n))
    return out


@dataclass
class Session:
    index: int
    started: str
    executor: str
    runs_done: int = 0
    runs_failed: int = 0
    ended: str | None = None
    status: str = "running"


class ResultStore:
    """A sweep's results folder: create it, resume it, append chunks, close a session."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.manifest: dict[str, Any] = {}
        self.session: Session | None = None
        self._seq = 0
        self._schemas: dict[str, pa.Schema | None] = dict.fromkeys(TABLES)
        self._lock_file: TextIO | None = None
        self.int_columns: set[str] = set(ID_COLUMNS)

    # ---- opening -------------------------------------------------------------------------

    @staticmethod
    def inspect(path: Path, spec: SweepSpec) -> str:
        """ "new" or "resume"; raise InputError for a folder that holds something else.
        Writes nothing."""
        path = Path(path)
        if not path.exists():
            return "new"
        if not path.is_dir():
            raise InputError("--out", str(path), "a folder (a file of that name exists)")
        manifest = path / MANIFEST
        if not manifest.exists():
            if any(path.iterdir()):
                raise InputError(
                    "--out",
                    str(path),
                    "a new or empty folder, or the results folder of this sweep "
                    "(it holds other files; nothing is overwritten)",
                )
            return "new"
        data = read_manifest(path, "--out")
        theirs = data.get("fingerprint")
        if theirs != spec.fingerprint():
            raise InputError(
                "--out",
                str(path),
                f"a folder of this sweep: it holds the results of a different "
                f"specification (fingerprint {theirs}, this one {spec.fingerprint()}; "
                "their [parameters], design, seeds, scenario or [keep] differ). Use another --out, "
                "or move that folder away",
            )
        check_tables(path, "--out")  # a damaged folder is refused before a session is recorded in it
        return "resume"

    def open(self, spec: SweepSpec, design: Design, *, executor: str) -> np.ndarray:
        """Create or resume the folder; start a session. Returns a bool mask of finished runs.

        A new folder is assembled under a temporary name and renamed into place, so a
        folder without its manifest never exists.
        """
        self.int_columns = set(ID_COLUMNS) | set(WHOLE_OUTCOMES) | {p.column for p in spec.parameters if p.integer}
        if not (self.path / MANIFEST).exists():
            self._create(spec, design)
        self._lock()
        self.manifest = json.loads((self.path / MANIFEST).read_text(encoding="utf-8"))
        self._clean_partial()
        for old in self.manifest["sessions"]:
            if old.get("status") == "running":  # we hold the lock: its writer was killed
                old["status"] = "interrupted"
        finished = self.finished(design.runs)
        self.session = Session(index=len(self.manifest["sessions"]), started=now(), executor=executor)
        self.manifest["sessions"].append(dataclass_dict(self.session))
        self.manifest["analysis"] = spec.raw.get("analysis", {})
        self.manifest["question"] = spec.question or self.manifest.get("question", "")
        _write_json_atomic(self.path / MANIFEST, self.manifest)
        for table in TABLES:
            self._schemas[table] = self._existing_schema(table)
        return finished

    def _create(self, spec: SweepSpec, design: Design) -> None:
        from abm.folders import partial_dir, prepare_parent

        prepare_parent(self.path)  # also removes what a killed creation left (.<name>.partial-<pid>-*)
        tmp = partial_dir(self.path.parent, self.path.name)
        try:
            manifest = {
                "format": FORMAT,
                "kind": "abm-sweep",
                "name": spec.name,
                "question": spec.question,
                "fingerprint": spec.fingerprint(),
                "created": now(),
                "source": spec.source,
                "spec": spec.raw,
                "analysis": spec.raw.get("analysis", {}),
                "scenario": spec.scenario_ref,
                "months": spec.months,
                "design": {
                    "kind": design.kind,
                    "points": design.points,
                    "replications": design.replications,
                    "runs": design.runs,
                    "samples": spec.samples,
                    "second_order": spec.second_order,
                    "morris_levels": spec.morris_levels,
                    "problem": design.problem,
                },
                "parameters": [
                    {
                        "key": p.key,
                        "column": p.column,
                        "values": list(p.values) if p.values else None,
                        "min": p.low,
                        "max": p.high,
                        "levels": p.levels,
                        "integer": p.integer,
                        "fields": list(p.fields),
                    }
                    for p in spec.parameters
                ],
                "keep": {
                    "steps": spec.keep.steps,
                    "every": spec.keep.every,
                    "firms": spec.keep.firms,
                    "columns": list(spec.keep.columns) if spec.keep.columns else None,
                },
                "master_seed": spec.master_seed,
                "common_random_numbers": spec.common_random_numbers,
                "seeding": SEEDING_RULE,
                "versions": package_versions(),
                "git": git_revision(),
                "sessions": [],
            }
            (tmp / "spec.toml").write_text(spec.text or _dump_toml(spec.raw), encoding="utf-8")
            (tmp / "scenario.toml").write_text(spec.base_toml, encoding="utf-8")
            matrix = design.matrix.reset_index(names="point") if "point" not in design.matrix else design.matrix
            pq.write_table(normalize(matrix, self.int_columns | {"point"}), tmp / "design.parquet")
            if design.raw is not None and any(p.integer for p in spec.parameters):
                raw = pd.DataFrame(design.raw, columns=[p.column for p in spec.parameters])
                pq.write_table(pa.Table.from_pandas(raw, preserve_index=False), tmp / "design_raw.parquet")
            for table in TABLES:
                (tmp / table).mkdir()
            _write_json_atomic(tmp / MANIFEST, manifest)
            if self.path.exists():
                self.path.rmdir()  # inspect() found it empty
            os.replace(tmp, self.path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def _lock(self) -> None:
        """Hold an exclusive lock on the folder while a session writes (released by the OS
        if the process dies)."""
        try:
            import fcntl
        except ImportError:  # Windows: no advisory locks; one sweep per folder is on the user
            return
        self._lock_file = open(self.path / ".lock", "w")  # noqa: SIM115 - held for the session
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            # the file is removed by the session that held it (release_lock): a lock taken
            # on a file already removed holds nothing, so it counts as busy
            if os.fstat(self._lock_file.fileno()).st_ino != os.stat(self.path / ".lock").st_ino:
                raise OSError("lock file replaced")
        except OSError:
            self._lock_file.close()
            self._lock_file = None
            raise InputError("--out", str(self.path), "a folder no other sweep is writing to right now") from None

    def _clean_partial(self) -> None:
        """Remove what a killed writer may have left: temporary files and paths parts
        whose summary part was never written."""
        for table in TABLES:
            folder = self.path / table
            folder.mkdir(exist_ok=True)
            for tmp in folder.glob(".tmp-*"):
                tmp.unlink(missing_ok=True)
        summaries = {p.name for p in (self.path / "summary").glob("part-*.parquet")}
        for part in (self.path / "paths").glob("part-*.parquet"):
            if part.name not in summaries:
                part.unlink()

    def recorded_design(self, design: Design) -> pd.DataFrame:
        """The design matrix as written when the folder was created (same columns as
        ``design.matrix``)."""
        recorded = pd.read_parquet(self.path / "design.parquet").sort_values("point")
        return recorded[list(design.matrix.columns)].reset_index(drop=True)

    def parts(self, table: str) -> list[Path]:
        folder = self.path / table
        return sorted(p for p in folder.glob("part-*.parquet") if PART.match(p.name)) if folder.exists() else []

    def finished(self, total_runs: int) -> np.ndarray:
        """Bool mask over run_id: runs with a row in a summary or errors part."""
        done = np.zeros(total_runs, dtype=bool)
        for table in ("summary", "errors"):
            for part in self.parts(table):
                ids = pq.read_table(part, columns=["run_id"]).column("run_id").to_numpy()
                done[ids[(ids >= 0) & (ids < total_runs)]] = True
        return done

    def _existing_schema(self, table: str) -> pa.Schema | None:
        parts = self.parts(table)
        return pq.read_schema(parts[0]) if parts else None

    # ---- writing -------------------------------------------------------------------------

    def write_chunk(self, rows: list[dict], paths: list[pd.DataFrame], errors: list[dict]) -> None:
        """Append one chunk: paths first, then summary (the commit), then errors."""
        if not (rows or errors):
            return
        assert self.session is not None
        name = self._next_name()
        if paths:
            frame = pd.concat(paths, ignore_index=True)
            self._write("paths", name, normalize(frame, INT_PATH_COLUMNS))
        if rows:
            self._write("summary", name, normalize(pd.DataFrame(rows), self.int_columns))
        if errors:
            self._write("errors", name, normalize(pd.DataFrame(errors), self.int_columns))
        self.session.runs_done += len(rows)
        self.session.runs_failed += len(errors)

    def _next_name(self) -> str:
        assert self.session is not None, "parts are written within a session (open)"
        while True:
            name = f"part-{self.session.index:04d}-{self._seq:06d}.parquet"
            self._seq += 1
            if not any((self.path / t / name).exists() for t in TABLES):
                return name

    def _write(self, table: str, name: str, data: pa.Table) -> None:
        data = _conform(data, self._schemas[table])
        if self._schemas[table] is None:
            self._schemas[table] = data.schema
        final = self.path / table / name
        tmp = final.with_name(f".tmp-{name}")
        pq.write_table(data, tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, final)

    def close(self, status: str) -> None:
        """End the session: record its end time, counts and status in the manifest."""
        if self.session is not None:
            self.session.ended = now()
            self.session.status = status
            self.manifest["sessions"][self.session.index] = dataclass_dict(self.session)
            self.manifest["completed"] = status == "complete"
            self._ensure_errors_part()
            _write_json_atomic(self.path / MANIFEST, self.manifest)
            self.session = None
        self._release_lock()

    def _ensure_errors_part(self) -> None:
        """Write an empty errors part if no run has failed yet, so that ``errors/*.parquet``
        always names a readable table (DuckDB and polars fail on a glob matching nothing)."""
        if self.parts("errors"):
            return
        design = pq.read_schema(self.path / "design.parquet")
        params = [p["column"] for p in self.manifest.get("parameters", [])]
        fields = [pa.field(c, pa.int64()) for c in ID_COLUMNS]
        fields += [design.field(c) if c in design.names else pa.field(c, pa.float64()) for c in params]
        fields += [pa.field("error", pa.string()), pa.field("traceback", pa.string())]
        schema = pa.schema(fields)
        self._write("errors", self._next_name(), schema.empty_table())

    def _release_lock(self) -> None:
        """Remove the lock file, then release the lock (in that order: another session that
        opened the old file before its removal sees it replaced and backs off)."""
        if self._lock_file is not None:
            with contextlib.suppress(OSError):
                (self.path / ".lock").unlink()
            self._lock_file.close()
            self._lock_file = None


def dataclass_dict(obj: Any) -> dict:
    from dataclasses import asdict

    return asdict(obj)


def _dump_toml(data: dict) -> str:
    import tomli_w

    return tomli_w.dumps(data)


# ---- reading ---------------------------------------------------------------------------------


def _read_parts(folder: Path, columns: list[str] | None = None) -> pd.DataFrame | None:
    parts = sorted(p for p in folder.glob("part-*.parquet") if PART.match(p.name)) if folder.exists() else []
    if not parts:
        return None
    frames = [pq.read_table(p, columns=columns).to_pandas() for p in parts]
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return frame.sort_values("run_id", kind="stable").reset_index(drop=True)


@dataclass
class Results:
    """A sweep's results as pandas frames. Build with :func:`load_results`.

    Attributes:
        path: the results folder.
        manifest: the manifest (spec, design, seeds, versions, sessions) as a dict.
        design: one row per design point.
        summary: one row per finished run, sorted by run_id.
        errors: one row per run that raised.
        paths: the kept monthly rows (read on first access; may be large).
    """

    path: Path
    manifest: dict
    design: pd.DataFrame
    summary: pd.DataFrame
    errors: pd.DataFrame
    parameters: list[str] = field(default_factory=list)

    @cached_property
    def paths(self) -> pd.DataFrame:
        frame = _read_parts(self.path / "paths")
        return frame if frame is not None else pd.DataFrame(columns=["run_id", "month", "firm"])

    def read_paths(self, columns: list[str]) -> pd.DataFrame:
        """Some columns of the paths (``run_id`` is always included); cheaper than ``paths``."""
        cols = list(dict.fromkeys(["run_id", *columns]))
        frame = _read_parts(self.path / "paths", cols)
        return frame if frame is not None else pd.DataFrame(columns=cols)

    @property
    def runs(self) -> int:
        return int(self.manifest["design"]["runs"])

    @property
    def outcomes(self) -> list[str]:
        skip = {*ID_COLUMNS, *self.parameters}
        return [c for c in self.summary.columns if c not in skip]

    def __repr__(self) -> str:
        from abm.display import results_repr

        return results_repr(self)

    def _repr_html_(self) -> str:
        from abm.display import results_html

        return results_html(self)


MANIFEST_SHAPE = {
    "name": str,
    "design": dict,
    "parameters": list,
    "master_seed": int,
    "sessions": list,
}
"""Keys every manifest holds, with their types; a manifest without them is refused."""


def read_manifest(path: Path, field: str) -> dict:
    """A results folder's manifest, checked for shape; one InputError line for anything else
    (missing, not a regular file, too big, not JSON, not a sweep's manifest)."""
    from abm import limits

    what = "a sweep's results folder (with manifest.json), e.g. results/smoke"
    try:
        text = limits.read_text_file(path / MANIFEST, field, max_bytes=limits.MAX_MANIFEST_BYTES, what="manifest.json")
    except (FileNotFoundError, NotADirectoryError):
        raise InputError(field, str(path), what) from None
    except InputError as exc:
        raise InputError(field, str(path), f"{what}: {exc.allowed}") from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise InputError(field, str(path), "a results folder whose manifest.json is valid JSON") from None
    if not isinstance(data, dict):
        raise InputError(field, str(path), "a results folder whose manifest.json is a sweep's manifest")
    for key, kind in MANIFEST_SHAPE.items():
        if not isinstance(data.get(key), kind) or isinstance(data.get(key), bool):
            raise InputError(field, str(path), f"a sweep's manifest.json with {key!r} ({kind.__name__})")
    design = data["design"]
    for key in ("replications", "runs", "points"):
        if not isinstance(design.get(key), int) or isinstance(design.get(key), bool) or design[key] < 1:
            raise InputError(field, str(path), f"a sweep's manifest.json with design.{key} (a whole number >= 1)")
    if not all(
        isinstance(p, dict) and isinstance(p.get("key"), str) and isinstance(p.get("column"), str)
        for p in data["parameters"]
    ):
        raise InputError(field, str(path), "a sweep's manifest.json whose parameters have a key and a column")
    return data


def check_tables(path: Path, field: str) -> None:
    """Raise InputError unless the design and every summary/errors part of a results folder
    can be read and carry their id columns (reads only those columns)."""
    try:
        if "point" not in pq.read_schema(path / "design.parquet").names:
            raise KeyError("point")
        for table in ("summary", "errors", "paths"):
            folder = path / table
            for part in sorted(folder.glob("part-*.parquet")) if folder.is_dir() else []:
                if PART.match(part.name) and "run_id" not in pq.read_schema(part).names:
                    raise KeyError("run_id")
    except FileNotFoundError as exc:
        missing = Path(exc.filename or "design.parquet").name
        raise InputError(
            field, str(path), f"a sweep's results folder that is not damaged ({missing} is missing)"
        ) from None
    except (OSError, ValueError, KeyError, pa.ArrowException) as exc:
        raise InputError(
            field, str(path), f"a sweep's results folder that is not damaged ({type(exc).__name__} reading its tables)"
        ) from None


def load_results(path: str | Path) -> Results:
    """Load a sweep's results folder in one call.

    Raises:
        InputError: the folder is not a sweep's results folder.
    """
    path = Path(path)
    manifest = read_manifest(path, "results")
    damaged = "a sweep's results folder that is not damaged"
    try:
        params = [str(p["column"]) for p in manifest["parameters"]]
        design = pd.read_parquet(path / "design.parquet")
        base_cols = [*ID_COLUMNS, *params]
        summary = _read_parts(path / "summary")
        errors = _read_parts(path / "errors")
        if "point" not in design.columns:
            raise KeyError("point")
        for frame in (summary, errors):
            if frame is not None and not {"run_id", "seed"} <= set(frame.columns):
                raise KeyError("run_id")
    except FileNotFoundError as exc:
        raise InputError("results", str(path), f"{damaged} ({Path(exc.filename or '?').name} is missing)") from None
    except (OSError, ValueError, KeyError, TypeError, IndexError, pa.ArrowException) as exc:
        raise InputError("results", str(path), f"{damaged} ({type(exc).__name__} reading its tables)") from None
    return Results(
        path=path,
        manifest=manifest,
        design=design,
        summary=summary if summary is not None else pd.DataFrame(columns=base_cols),
        errors=errors if errors is not None else pd.DataFrame(columns=[*base_cols, "error", "traceback"]),
        parameters=params,
    )


__all__ = ["ResultStore", "Results", "load_results", "normalize"]
