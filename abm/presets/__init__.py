"""Built-in scenarios, each a TOML file beside this module that teaches one idea.

A preset file holds only what differs from the defaults of :mod:`abm.scenario`;
``abm show-scenario NAME`` prints the whole scenario.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from abm.scenario import Scenario, ScenarioError

DEFAULT = "alpha-beta"


def names() -> list[str]:
    """Preset names, the default first."""
    found = sorted(p.name[:-5] for p in resources.files(__package__).iterdir() if p.name.endswith(".toml"))
    return [DEFAULT] + [n for n in found if n != DEFAULT]


_PARSED: dict[str, tuple[int, Scenario]] = {}
"""Presets parsed so far: name -> (the file's modification time, the scenario)."""


def shared(name: str) -> Scenario:
    """A preset by name, parsed once per process (again if its file changed): shared, so never
    to be changed; :func:`load` copies it. Parsing a preset's TOML costs about a millisecond,
    2 % of a run."""
    if name not in names():
        raise ScenarioError("scenario", name, "a preset (" + ", ".join(names()) + ") or a path to a TOML file")
    path = resources.files(__package__).joinpath(f"{name}.toml")
    try:
        stamp = os.stat(str(path)).st_mtime_ns
    except OSError:  # not a plain file (a zipped install): parse it each time
        return Scenario.from_toml(path.read_text(encoding="utf-8"), f"preset {name}")
    cached = _PARSED.get(name)
    if cached is None or cached[0] != stamp:
        cached = _PARSED[name] = (stamp, Scenario.from_toml(path.read_text(encoding="utf-8"), f"preset {name}"))
    return cached[1]


def load(name: str) -> Scenario:
    """A preset by name (a copy of the parsed one: the caller may change it)."""
    return shared(name).copy()


def resolve_scenario(scenario: Scenario | str | Path | None) -> Scenario:
    """A Scenario from a Scenario, a preset name, a TOML path, or None (the default)."""
    if scenario is None:
        return load(DEFAULT)
    if isinstance(scenario, Scenario):
        scenario.check()
        return scenario
    if isinstance(scenario, (str, Path)):
        text = str(scenario)
        if text in names():
            return load(text)
        if text.endswith(".toml") or os.path.lexists(text):  # lexists: never raises (a name too long)
            return Scenario.load(text)
        return load(text)  # raises with the list of presets
    raise ScenarioError("scenario", scenario, "a Scenario, a preset name or a path to a TOML file")
