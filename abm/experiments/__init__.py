"""Sweep specifications shipped with the package, found by name.

    abm experiments          # lists them with their questions
    abm sweep smoke          # runs abm/experiments/smoke.toml into results/smoke/

In a checkout they are also at ``experiments/<name>.toml`` (links to these files), the paths
the documentation uses.
"""

from __future__ import annotations

from pathlib import Path

FOLDER = Path(__file__).resolve().parent


def names() -> list[str]:
    """Names of the shipped specifications (file names without ``.toml``)."""
    return sorted(p.stem for p in FOLDER.glob("*.toml"))


def path(name: str) -> Path:
    """The file of a shipped specification."""
    return FOLDER / f"{name}.toml"


def resolve(source: str | Path) -> Path:
    """A spec argument as a file: an existing path as given, else a shipped spec of that
    name, else the path as given (whose absence the loader reports)."""
    given = Path(source)
    if given.exists() or given.suffix or len(given.parts) > 1:
        return given
    return path(str(source)) if str(source) in names() else given


def listing() -> list[tuple[str, str]]:
    """``(name, question)`` of every shipped specification; the question is its first comment line."""
    from abm.sweeps.spec import question_of

    return [(name, question_of(path(name).read_text(encoding="utf-8"))) for name in names()]
