"""Reading a sweep's results folder for the Results view (no Solara here).

Uses :func:`abm.load_results` when the sweeps part provides it; otherwise (or when it
cannot read the folder) reads the files directly, assuming this layout, all parts optional
except a summary:

- ``manifest.json``: the sweep's description; ``parameters`` (a list of names or of
  tables with a ``column``, or a mapping name -> spec) or ``problem.names`` (SALib's)
  name the swept parameters;
- ``summary.parquet``, ``summary-*.parquet`` / ``summary_*.parquet``, or a ``summary/``
  folder of Parquet chunks (one row per run: run_id, seed, the parameters, the outcomes);
  ``summary.csv`` as a last resort;
- ``errors.parquet`` or ``failures.parquet``: runs that raised;
- sensitivity indices (``abm analyze`` writes ``analysis/tables/sobol_<outcome>.csv`` and
  ``morris_<outcome>.csv``): ``*sensitivity*``, ``sobol*`` or ``morris*`` Parquet or CSV
  files in the folder or in ``analysis/``, ``analysis/tables/`` or ``sensitivity/``; one
  row per parameter (a ``parameter`` column, index columns such as ``S1``, ``ST``,
  ``mu_star``, an optional ``outcome`` column).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from abm.errors import InputError

OUTCOMES = (
    "share_y1",
    "share_y3",
    "share_y5",
    "share_y10",
    "share_final",
    "share_peak",
    "months_to_target",
    "licence_month",
    "awareness_final",
    "npv",
    "terminal_value",
    "invested",
    "cash_end",
    "roi",
    "objective_met",
    "entry_success",
    "partnership_failed",
    "partnership_goals_met",
    "success_for_both",
    "failure_for_both",
    "return_above_cost_of_capital",
    "upgraded_to_jv",
    "partner_npv",
    "partnership_months",
    "incumbent_reactions",
    "rival_launched",
    "integration_failed",
    "in_market_end",
    "exit_month",
    "cultural_distance",
)
"""Outcome columns of a run summary (``abm.simulation``), offered first on the y axis."""

_NOT_PARAMETERS = {"run_id", "seed", "replication", "point", "sample", "index", "months", "variant"}


@dataclass
class ResultsFolder:
    """What the Results view shows of one folder.

    Attributes:
        path: the folder.
        manifest: manifest.json as a dict ({} when absent).
        summary: one row per run.
        errors: runs that raised (may be empty).
        sensitivity: name -> indices frame (one row per parameter).
        parameters: swept parameter columns of ``summary``.
        outcomes: numeric outcome columns of ``summary``.
        source: how it was read ("abm.load_results" or "files").
    """

    path: Path
    manifest: dict
    summary: pd.DataFrame
    errors: pd.DataFrame
    sensitivity: dict[str, pd.DataFrame] = field(default_factory=dict)
    parameters: list[str] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)
    source: str = "files"


def candidate_folders(root: str | Path = "results") -> list[str]:
    """Folders under ``root`` (two levels deep) that hold a run summary, newest first."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = []
    for d in [root, *root.glob("*/"), *root.glob("*/*/")]:
        if d.is_dir() and _summary_files(d):
            found.append(d)
    found.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    return [str(p) for p in found]


def _summary_files(folder: Path) -> list[Path]:
    if (folder / "summary").is_dir():
        chunks = sorted((folder / "summary").glob("*.parquet"))
        if chunks:
            return chunks
    files = sorted(p for p in folder.glob("summary*.parquet") if p.is_file())
    if files:
        return files
    return [folder / "summary.csv"] if (folder / "summary.csv").is_file() else []


def _read_table(path: Path) -> pd.DataFrame:
    return pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)


def load_folder(path: str | Path) -> ResultsFolder:
    """Read a results folder.

    Raises:
        InputError: when the folder does not exist or holds no readable run summary;
            the message says what was looked for.
    """
    folder = Path(str(path).strip()).expanduser()
    if not str(path).strip():
        raise InputError("results folder", str(path), "the path of a sweep's results folder")
    if not folder.is_dir():
        raise InputError("results folder", str(path), "an existing folder (a sweep's output, e.g. results/sweep-...)")
    loaded = _via_load_results(folder)
    if loaded is None:
        loaded = _via_files(folder)
    loaded.parameters = parameter_columns(loaded.summary, loaded.manifest)
    loaded.outcomes = outcome_columns(loaded.summary, loaded.parameters)
    if not loaded.outcomes:
        raise InputError("results folder", str(path), "a summary with at least one numeric outcome column")
    return loaded


def _via_load_results(folder: Path) -> ResultsFolder | None:
    """Use abm.load_results if the sweeps part exists and returns something readable."""
    try:
        import abm

        load = abm.load_results
    except (ImportError, AttributeError):
        return None
    try:
        res = load(folder)
    except Exception:  # not a sweep folder in its sense (e.g. an `abm run` folder): read the files
        return None
    get = (lambda k: res.get(k)) if isinstance(res, dict) else (lambda k: getattr(res, k, None))
    summary = get("summary")
    if not isinstance(summary, pd.DataFrame) or summary.empty:
        return None
    manifest = get("manifest")
    if isinstance(manifest, pd.DataFrame):
        manifest = manifest.iloc[0].to_dict() if len(manifest) else {}
    errors = get("errors")
    if errors is None:
        errors = get("failures")
    sens = get("sensitivity")
    if isinstance(sens, pd.DataFrame):
        sens = split_sensitivity(sens, "sensitivity")
    elif not isinstance(sens, dict):
        sens = {}
    if not sens:
        sens = _sensitivity_files(folder)
    return ResultsFolder(
        folder,
        manifest if isinstance(manifest, dict) else {},
        summary,
        errors if isinstance(errors, pd.DataFrame) else pd.DataFrame(),
        sens,
        source="abm.load_results",
    )


def _via_files(folder: Path) -> ResultsFolder:
    files = _summary_files(folder)
    if not files:
        raise InputError(
            "results folder",
            str(folder),
            "a folder holding summary.parquet, summary-*.parquet or a summary/ folder of Parquet chunks",
        )
    try:
        summary = pd.concat([_read_table(f) for f in files], ignore_index=True)
    except Exception as exc:
        raise InputError("results folder", str(folder), f"readable summary files ({type(exc).__name__})") from None
    manifest: dict[str, Any] = {}
    if (folder / "manifest.json").is_file():
        try:
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise InputError("manifest.json", str(folder / "manifest.json"), "valid JSON") from None
        if not isinstance(manifest, dict):
            manifest = {"manifest": manifest}
    errors = pd.DataFrame()
    for name in ("errors.parquet", "failures.parquet"):
        if (folder / name).is_file():
            errors = pd.read_parquet(folder / name)
            break
    return ResultsFolder(folder, manifest, summary, errors, _sensitivity_files(folder))


def _sensitivity_files(folder: Path) -> dict[str, pd.DataFrame]:
    out: dict[str, pd.DataFrame] = {}
    places = [folder, folder / "analysis", folder / "analysis" / "tables", folder / "sensitivity"]
    for place in places:
        if not place.is_dir():
            continue
        for f in sorted(place.iterdir()):
            stem = f.stem.lower()
            if f.suffix not in (".parquet", ".csv") or not any(k in stem for k in ("sensitivity", "sobol", "morris")):
                continue
            try:
                out.update(split_sensitivity(_read_table(f), f.stem))
            except Exception:  # a file we cannot read is left out, not fatal
                continue
    return out


def split_sensitivity(frame: pd.DataFrame, name: str) -> dict[str, pd.DataFrame]:
    """One indices frame per outcome (by an ``outcome`` column if present), with the
    parameter names in a ``parameter`` column."""
    df = frame.copy()
    if "parameter" not in df.columns:
        for alt in ("names", "name", "param", "variable"):
            if alt in df.columns:
                df = df.rename(columns={alt: "parameter"})
                break
        else:
            df = df.reset_index().rename(columns={df.index.name or "index": "parameter"})
    if "outcome" in df.columns:
        return {
            f"{name}: {o}": g.drop(columns="outcome").reset_index(drop=True)
            for o, g in df.groupby("outcome", sort=False)
        }
    return {name: df}


def parameter_columns(summary: pd.DataFrame, manifest: dict) -> list[str]:
    """Swept parameters: named by the manifest where it says, else the numeric columns
    that vary and are neither outcomes nor bookkeeping."""
    named: list[str] = []
    params = manifest.get("parameters")
    if isinstance(params, dict):
        named = list(params)
    elif isinstance(params, list):
        named = [
            p if isinstance(p, str) else (p.get("column") or p.get("name") or p.get("key") or "")
            for p in params
            if isinstance(p, (str, dict))
        ]
    elif isinstance(manifest.get("problem"), dict):
        named = list(manifest["problem"].get("names", []))
    cols = [c for c in named if c in summary.columns]
    if cols:
        return cols
    out = []
    for c in summary.columns:
        if c in OUTCOMES or c in _NOT_PARAMETERS:
            continue
        s = summary[c]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s) and s.nunique(dropna=True) > 1:
            out.append(c)
    return out


def outcome_columns(summary: pd.DataFrame, parameters: list[str]) -> list[str]:
    """Numeric or yes/no outcome columns: the known outcomes first, then any other."""

    def usable(c: str) -> bool:
        s = summary[c]
        return (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)) and s.notna().any()

    known = [c for c in OUTCOMES if c in summary.columns and usable(c)]
    others = [
        c for c in summary.columns if c not in known and c not in parameters and c not in _NOT_PARAMETERS and usable(c)
    ]
    return known + others
