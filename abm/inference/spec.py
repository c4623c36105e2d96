"""A calibration specification: which parameters, their prior, which targets, how many runs.

    name = "defaults"
    scenario = "alpha-beta"
    master_seed = 11

    [parameters]                       # dotted scenario path = [low, high] (uniform prior)
    "contract.trust_gain" = [0.04, 0.20]

    [targets]                          # facts of the validation report (abm validate)
    alliances_fail = {}                # the report's own band
    bass_q = { band = [0.30, 0.40] }   # or another band (synthetic data, a new source)

    [design]
    waves = 3                          # history-matching waves
    points = 40                        # design points per wave
    entries = 40                       # runs per arm of each condition at a design point

Bad input raises :class:`~abm.errors.InputError` naming the field, the value and what is
allowed, before anything runs.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from abm import limits
from abm.errors import InputError, did_you_mean
from abm.inference.targets import TARGETS, Target

DESIGN_DEFAULTS: dict[str, float] = {
    "waves": 3,
    "points": 40,
    "entries": 40,
    "candidates": 20000,
    "cutoff": 3.0,
    "posterior_draws": 2000,
    "check_draws": 8,
    "check_entries": 80,
}
"""Design settings and their defaults (docs/INFERENCE.md, *Specification*)."""

DESIGN_BOUNDS: dict[str, tuple[float, float]] = {
    "waves": (1, 10),
    "points": (4, 2000),
    "entries": (2, 10000),
    "candidates": (100, 1_000_000),
    "cutoff": (0.5, 10.0),
    "posterior_draws": (10, 1_000_000),
    "check_draws": (0, 200),
    "check_entries": (2, 10000),
}

MAX_CALIBRATION_PARAMETERS = 20
"""Parameters one calibration may free: a GP emulator needs ~10 design points per dimension."""


@dataclass
class CalibrationSpec:
    """A checked calibration specification."""

    name: str
    scenario: Any  # preset name, TOML path or Scenario
    master_seed: int
    parameters: dict[str, tuple[float, float]]
    targets: dict[str, Target]
    design: dict[str, float] = field(default_factory=lambda: dict(DESIGN_DEFAULTS))
    source: str = ""

    @property
    def names(self) -> list[str]:
        return list(self.parameters)

    def bounds(self):
        import numpy as np

        return np.array([self.parameters[n] for n in self.names], dtype=float)

    def fingerprint(self) -> str:
        """Hash of everything that decides the runs: a folder is resumed only by the same spec."""
        scenario = self.scenario if isinstance(self.scenario, str) else self.scenario.to_toml()
        data = {
            "scenario": scenario,
            "seed": self.master_seed,
            "parameters": self.parameters,
            "targets": {
                k: [t.low, t.high] + ([t.discrepancy] if t.discrepancy else []) for k, t in self.targets.items()
            },
            "design": self.design,
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]

    def runs_per_point(self) -> int:
        from abm.inference.targets import conditions_for

        return sum(c.n * len(c.arms) for c in conditions_for(self.targets, int(self.design["entries"])))

    def planned_runs(self) -> int:
        d = self.design
        check = int(d["check_draws"]) + 1 if d["check_draws"] else 0
        from abm.inference.targets import conditions_for

        per_check = sum(c.n * len(c.arms) for c in conditions_for(self.targets, int(d["check_entries"])))
        return int(d["waves"] * d["points"]) * self.runs_per_point() + check * per_check


def _number(field_name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(float(value)):
        raise InputError(field_name, value, "a finite number")
    return float(value)


def check_prior(parameters: Any, field_name: str = "parameters") -> dict[str, tuple[float, float]]:
    """``{path: (low, high)}`` with low < high, finite; an empty prior is refused."""
    if not isinstance(parameters, dict) or not parameters:
        raise InputError(
            field_name, parameters, "a table of at least one 'dotted.path' = [low, high] (a uniform prior)"
        )
    if len(parameters) > MAX_CALIBRATION_PARAMETERS:
        raise InputError(
            field_name, f"{len(parameters)} parameters", f"at most {MAX_CALIBRATION_PARAMETERS} parameters"
        )
    out = {}
    for name, bounds in parameters.items():
        where = f"{field_name}.{name}"
        if not isinstance(bounds, list | tuple) or len(bounds) != 2:
            raise InputError(where, bounds, "[low, high]: two numbers, low < high (a uniform prior)")
        lo, hi = _number(where, bounds[0]), _number(where, bounds[1])
        if not lo < hi:
            raise InputError(where, list(bounds), "[low, high] with low < high (this prior is empty or inverted)")
        out[str(name)] = (lo, hi)
    return out


def check_parameters_in_scenario(scenario, prior: dict[str, tuple[float, float]], field_name: str = "parameters"):
    """Every path exists in the scenario and every value of its prior is accepted by it."""
    from abm.scenario import ScenarioError

    for name, (lo, hi) in prior.items():
        for value in (lo, hi):
            try:
                scenario.with_overrides({name: value})
            except ScenarioError as exc:
                raise InputError(f"{field_name}.{name}", [lo, hi], f"a prior the scenario accepts: {exc}") from None


def default_values(scenario, names: list[str]) -> dict[str, float]:
    """The scenario's current value of each dotted path (the first item of a list section)."""
    import re

    out = {}
    for name in names:
        obj: Any = scenario
        for part in [p for p in re.split(r"[.\[\]]+", name) if p]:
            if isinstance(obj, list):
                obj = obj[int(part)] if part.isdigit() else obj[0]
                if not part.isdigit():
                    obj = getattr(obj, part)
            else:
                obj = getattr(obj, part)
        if isinstance(obj, list):
            obj = obj[0]
        out[name] = float(obj) if isinstance(obj, int | float) else math.nan
    return out


def check_targets(targets: Any) -> dict[str, Target]:
    if isinstance(targets, list):
        targets = {t: {} for t in targets}
    if not isinstance(targets, dict) or not targets:
        raise InputError("targets", targets, "a table of at least one fact: " + ", ".join(TARGETS))
    out = {}
    for key, options in targets.items():
        if key not in TARGETS:
            raise InputError(
                "targets",
                key,
                "a fact the validation report measures: " + ", ".join(TARGETS) + did_you_mean(key, list(TARGETS)),
            )
        target = TARGETS[key]
        if options is None:
            options = {}
        if not isinstance(options, dict) or set(options) - {"band", "discrepancy"}:
            raise InputError(
                f"targets.{key}", options, "{} (the report's band), { band = [low, high] } and/or { discrepancy = SD }"
            )
        if "band" in options:
            band = options["band"]
            if not isinstance(band, list | tuple) or len(band) != 2:
                raise InputError(f"targets.{key}.band", band, "[low, high]: two numbers, low < high")
            lo, hi = _number(f"targets.{key}.band", band[0]), _number(f"targets.{key}.band", band[1])
            if not lo < hi:
                raise InputError(f"targets.{key}.band", list(band), "[low, high] with low < high (empty or inverted)")
            target = target.with_band(lo, hi)
        if "discrepancy" in options:
            sd = _number(f"targets.{key}.discrepancy", options["discrepancy"])
            if sd < 0:
                raise InputError(f"targets.{key}.discrepancy", sd, "a standard deviation >= 0 (in the target's units)")
            target = target.with_discrepancy(sd)
        out[key] = target
    return out


def check_design(design: Any) -> dict[str, float]:
    if design is None:
        design = {}
    if not isinstance(design, dict):
        raise InputError("design", design, "a table of " + ", ".join(DESIGN_DEFAULTS))
    out = dict(DESIGN_DEFAULTS)
    for key, value in design.items():
        if key not in DESIGN_DEFAULTS:
            raise InputError(
                "design", key, "one of " + ", ".join(DESIGN_DEFAULTS) + did_you_mean(key, list(DESIGN_DEFAULTS))
            )
        lo, hi = DESIGN_BOUNDS[key]
        number = _number(f"design.{key}", value)
        whole = isinstance(DESIGN_DEFAULTS[key], int)
        if (whole and number != int(number)) or not lo <= number <= hi:
            kind = "a whole number" if whole else "a number"
            raise InputError(f"design.{key}", value, f"{kind} in [{lo:g}, {hi:g}]")
        out[key] = int(number) if whole else number
    return out


def load_spec(spec: Any, **overrides: Any) -> CalibrationSpec:
    """A checked :class:`CalibrationSpec` from a TOML path, a dict, or a spec (``overrides``
    replace top-level keys of a dict or file: ``parameters``, ``targets``, ``design``...)."""
    from abm.presets import resolve_scenario

    if isinstance(spec, CalibrationSpec):
        return spec
    source = ""
    if isinstance(spec, str | Path):
        source = str(spec)
        try:
            text = limits.read_text_file(spec, "spec")
        except FileNotFoundError:
            raise InputError("spec", str(spec), "a calibration spec: an existing TOML file") from None
        data = limits.parse_toml(text, "spec")
    elif isinstance(spec, dict):
        data = dict(spec)
    else:
        raise InputError("spec", spec, "a TOML file or a dict")
    data.update({k: v for k, v in overrides.items() if v is not None})
    known = {"name", "scenario", "master_seed", "parameters", "targets", "design", "description"}
    for key in data:
        if key not in known:
            raise InputError("spec", key, "one of " + ", ".join(sorted(known)) + did_you_mean(key, sorted(known)))
    name = str(data.get("name", "calibration"))
    seed = data.get("master_seed", 1)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError("master_seed", seed, "a whole number >= 0")
    prior = check_prior(data.get("parameters"))
    targets = check_targets(data.get("targets"))
    design = check_design(data.get("design"))
    scenario_ref = data.get("scenario")
    scenario = resolve_scenario(scenario_ref)
    check_parameters_in_scenario(scenario, prior)
    from abm.inference.targets import check_not_redrawn

    check_not_redrawn(prior, targets)
    return CalibrationSpec(
        name, scenario_ref if scenario_ref is not None else scenario.name, seed, prior, targets, design, source
    )
