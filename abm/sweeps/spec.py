"""Sweep specifications: a TOML file that says what to vary, how, how often, and what to keep.

    # Where does each entry mode win?        <- first line: the question (shown in reports)
    name = "mode-vs-distance"                # results/<name>/ (default: the file name)
    scenario = "alpha-beta"                  # preset name or scenario TOML (relative to this file)
    design = "factorial"                     # or a [design] table, see below
    replications = 10
    months = 60
    master_seed = 2024

    [fixed]                                  # overrides applied to every run
    consumers = 1000

    [parameters]                             # what varies
    entry_mode = ["alone", "alliance", "joint_venture"]          # a list of values
    cultural_distance = { min = 0.5, max = 4.5, levels = 5 }     # a range (levels: factorial grid)
    "partners[0].commitment" = { min = 0.2, max = 1.0, levels = 3 }

    [keep]                                   # summaries are always kept
    steps = true                             # monthly paths too ...
    every = 3                                # ... every 3rd month (and the last)
    firms = "focal"                          # "focal" (first entrant) or "all"
    columns = ["market_share", "trust_entrant"]

    [analysis]
    outcomes = ["npv", "share_y5", "entry_success"]
    group = "entry_mode"

Everything is checked before anything runs; a bad value raises :class:`InputError` naming
the key, the value and what is allowed. docs/SWEEPS.md and experiments/README.md are the
full reference.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import hashlib
import json
import math
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from abm import limits
from abm.errors import InputError, did_you_mean
from abm.scenario import OVERRIDES, Scenario, ScenarioError, Section

DESIGNS = ("factorial", "monte_carlo", "latin_hypercube", "sobol", "morris")
"""Designs a sweep can use."""

DESIGN_ALIASES = {
    "full_factorial": "factorial",
    "grid": "factorial",
    "mc": "monte_carlo",
    "random": "monte_carlo",
    "lhs": "latin_hypercube",
    "saltelli": "sobol",
}

NUMERIC_ONLY = ("latin_hypercube", "sobol", "morris")
"""Designs whose samplers need every parameter as a numeric range."""

ID_COLUMNS = ("run_id", "point", "replication", "seed")
"""Columns that identify a run in every results table."""

TOP_KEYS = (
    "name",
    "scenario",
    "design",
    "replications",
    "months",
    "master_seed",
    "common_random_numbers",
    "fixed",
    "parameters",
    "keep",
    "analysis",
)
DESIGN_KEYS = ("kind", "samples", "second_order", "levels")
KEEP_KEYS = ("steps", "every", "firms", "columns")
ANALYSIS_KEYS = ("outcomes", "group")
RANGE_KEYS = ("min", "max", "levels")
FIRMS = ("focal", "all")

DERIVED_OUTCOMES = {
    "partnership_survived": "a partnership formed and did not fail (blank where none formed)",
    "loss": "NPV < 0",
}
"""Outcomes the analysis derives from summary columns."""


@dataclass(frozen=True)
class Parameter:
    """One varied scenario field (or group of fields, for a flat alias).

    Attributes:
        key: as written in the spec: a flat alias (``cultural_distance``) or a dotted path
            (``partners[0].commitment``); see ``abm.OVERRIDES``.
        column: its column name in the results tables (``partners_0_commitment``).
        values: the list of values of a list parameter; None for a range.
        low, high: bounds of a range (inclusive).
        levels: grid points of a range in a factorial design.
        integer: the field holds whole numbers, so sampled values are rounded.
        fields: the scenario fields it sets, e.g. ``("partners[0].commitment",)``.
    """

    key: str
    column: str
    values: tuple | None = None
    low: float | None = None
    high: float | None = None
    levels: int | None = None
    integer: bool = False
    fields: tuple[str, ...] = ()

    @property
    def is_range(self) -> bool:
        return self.values is None

    @property
    def choices(self) -> tuple:
        """The values of a list parameter."""
        if self.values is None:
            raise ValueError(f"parameter {self.key} is a range, not a list of values")
        return self.values

    @property
    def bounds(self) -> tuple[float, float]:
        """``(low, high)`` of a range parameter."""
        if self.low is None or self.high is None:
            raise ValueError(f"parameter {self.key} is a list of values, not a range")
        return self.low, self.high

    def grid(self) -> list:
        """The values a factorial design takes: the list, or ``levels`` evenly spaced points."""
        if not self.is_range:
            return list(self.choices)
        low, high = self.bounds
        assert self.levels is not None, "a range in a factorial design has its levels (_range_parameter)"
        step = (high - low) / (self.levels - 1)
        # 12 significant digits: 0.3 + 0.3 is 0.6 here, not 0.6000000000000001
        points = [float(f"{low + i * step:.12g}") for i in range(self.levels)]
        points[-1] = high
        return [round(p) for p in points] if self.integer else points

    def describe(self) -> str:
        if not self.is_range:
            return "{" + ", ".join(map(str, self.choices)) + "}"
        text = f"[{self.low:g}, {self.high:g}]"
        return text + (f" in {self.levels} levels" if self.levels else "")


@dataclass(frozen=True)
class Keep:
    """What a sweep stores besides the one-row-per-run summary."""

    steps: bool = False
    every: int = 1
    firms: str = "focal"
    columns: tuple[str, ...] | None = None


@dataclass(frozen=True)
class AnalysisSpec:
    outcomes: tuple[str, ...] | None = None
    group: str | None = None


@dataclass
class SweepSpec:
    """A validated sweep specification. Build with :func:`load_spec`.

    Attributes:
        base: the scenario every run starts from, with ``months`` and ``[fixed]`` applied.
        base_toml: ``base`` as TOML: what workers receive and the manifest stores.
        raw: the specification as parsed (plain TOML data).
        text: the specification file's text (empty when given as a dict).
    """

    name: str
    question: str
    scenario_ref: str
    base: Scenario
    base_toml: str
    design: str
    samples: int | None
    second_order: bool
    morris_levels: int
    replications: int
    master_seed: int
    common_random_numbers: bool
    fixed: dict[str, Any]
    parameters: list[Parameter]
    keep: Keep
    analysis: AnalysisSpec
    raw: dict[str, Any] = field(repr=False)
    text: str = field(default="", repr=False)
    source: str | None = None

    @property
    def months(self) -> int:
        return self.base.months

    def parameter(self, name: str) -> Parameter:
        """A parameter by key or column name."""
        for p in self.parameters:
            if name in (p.key, p.column):
                return p
        raise KeyError(name)

    def fingerprint(self) -> str:
        """Hash of everything that decides which runs exist and what they compute: the
        specification (less ``[analysis]`` and ``name``) and the resolved base scenario.
        A results folder only resumes a sweep with the same fingerprint."""
        relevant = {k: v for k, v in self.raw.items() if k not in ("analysis", "name")}
        blob = json.dumps({"spec": relevant, "base": self.base_toml}, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


# ---- loading ---------------------------------------------------------------------------------


def load_spec(source: str | Path | dict | SweepSpec) -> SweepSpec:
    """Read and check a sweep specification.

    Args:
        source: path to a TOML file, the name of a shipped spec (``"smoke"``), a dict of
            the same content, or a SweepSpec.

    Raises:
        InputError: for a missing or malformed file and every value that is not allowed.
    """
    if isinstance(source, SweepSpec):
        return source
    if isinstance(source, dict):
        return _build(copy.deepcopy(source), text="", source=None, base_dir=Path.cwd(), default_name="sweep")
    from abm.experiments import names, resolve

    path = resolve(source)  # a file, or the name of a shipped spec (abm experiments)
    try:
        text = limits.read_text_file(path, "spec", what="a sweep TOML file")
    except FileNotFoundError:
        raise InputError(
            "spec",
            str(path),
            "an existing sweep TOML file or a shipped spec: " + ", ".join(names()) + did_you_mean(source, names()),
        ) from None
    raw = limits.parse_toml(text, str(path))
    return _build(raw, text=text, source=str(path), base_dir=path.parent, default_name=path.stem)


def question_of(text: str) -> str:
    """The one-line question in a spec's header: its first line, if it is a comment."""
    first = text.lstrip("\ufeff").split("\n", 1)[0].strip()
    return first.lstrip("#").strip() if first.startswith("#") else ""


def _unknown_keys(data: dict, allowed: tuple[str, ...], where: str) -> None:
    for key in data:
        if key not in allowed:
            hint = did_you_mean(key, allowed)
            raise InputError(f"{where}{key}", data[key], f"unknown key{hint}; known: {', '.join(allowed)}")


def _whole(value: Any, where: str, lo: int, what: str | None = None, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < lo or (hi is not None and value > hi):
        raise InputError(
            where, value, what or (f"a whole number in [{lo}, {hi:,}]" if hi else f"a whole number >= {lo}")
        )
    return value


def _flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise InputError(where, value, "true or false")
    return value


def _table(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise InputError(where, value, "a table of settings ([section] in TOML)")
    return value


def _build(raw: dict, *, text: str, source: str | None, base_dir: Path, default_name: str) -> SweepSpec:
    _unknown_keys(raw, TOP_KEYS, "")
    name = raw.get("name", default_name)
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}", name):
        raise InputError("name", name, "a folder name of letters, digits, '.', '_' or '-' (it names results/<name>/)")

    design, samples, second_order, morris_levels = _design(raw.get("design", "factorial"))
    replications = _whole(
        raw.get("replications", 1),
        "replications",
        1,
        f"a whole number in [1, {limits.MAX_REPLICATIONS:,}]",
        hi=limits.MAX_REPLICATIONS,
    )
    master_seed = _whole(raw.get("master_seed", 1), "master_seed", 0, "a whole number >= 0")
    if master_seed >= 2**63:
        raise InputError("master_seed", master_seed, "a whole number below 2**63")
    crn = _flag(raw.get("common_random_numbers", False), "common_random_numbers")

    base = _base_scenario(raw, base_dir)
    parameters = _parameters(_table(raw.get("parameters", {}), "parameters"), base, design)
    for key in _table(raw.get("fixed", {}), "fixed"):
        if any(key == p.key for p in parameters):
            raise InputError(f"fixed.{key}", raw["fixed"][key], "a key that is not also varied under [parameters]")
    _check_design(design, samples, second_order, morris_levels, parameters)
    _check_size(design, samples, second_order, parameters, replications)
    keep = _keep(_table(raw.get("keep", {}), "keep"))
    analysis = _analysis(_table(raw.get("analysis", {}), "analysis"), parameters)
    return SweepSpec(
        name=name,
        question=question_of(text),
        scenario_ref=str(raw.get("scenario", "alpha-beta")),
        base=base,
        base_toml=base.to_toml(),
        design=design,
        samples=samples,
        second_order=second_order,
        morris_levels=morris_levels,
        replications=replications,
        master_seed=master_seed,
        common_random_numbers=crn,
        fixed=dict(raw.get("fixed", {})),
        parameters=parameters,
        keep=keep,
        analysis=analysis,
        raw=raw,
        text=text,
        source=source,
    )


def _design(value: Any) -> tuple[str, int | None, bool, int]:
    if isinstance(value, str):
        value = {"kind": value}
    table = _table(value, "design")
    _unknown_keys(table, DESIGN_KEYS, "design.")
    kind = table.get("kind", "factorial")
    kind = DESIGN_ALIASES.get(kind, kind) if isinstance(kind, str) else kind
    if kind not in DESIGNS:
        raise InputError("design", value.get("kind"), "one of " + ", ".join(DESIGNS))
    samples = table.get("samples")
    if samples is not None:
        samples = _whole(samples, "design.samples", 1, hi=limits.MAX_DESIGN_POINTS)
    second_order = _flag(table.get("second_order", False), "design.second_order")
    levels = table.get("levels", 4)
    if "levels" in table and kind != "morris":
        raise InputError(
            "design.levels",
            levels,
            'only for kind = "morris" (grid levels of its trajectories); '
            "a factorial range takes levels = N in its own table",
        )
    levels = _whole(levels, "design.levels", 2, "an even whole number >= 2 (Morris grid levels)")
    if levels % 2:
        raise InputError("design.levels", levels, "an even whole number >= 2 (Morris grid levels)")
    if "second_order" in table and kind != "sobol":
        raise InputError("design.second_order", second_order, 'only for kind = "sobol"')
    return kind, samples, second_order, levels


def _check_design(kind: str, samples: int | None, second_order: bool, levels: int, params: list[Parameter]) -> None:
    if kind == "factorial":
        if samples is not None:
            raise InputError(
                "design.samples",
                samples,
                "nothing for a factorial design (its size is the product "
                "of the parameters' levels); use monte_carlo or latin_hypercube to sample",
            )
        return
    if not params:
        raise InputError("parameters", {}, f"at least one parameter for a {kind} design")
    if samples is None:
        what = {
            "monte_carlo": "points to draw",
            "latin_hypercube": "points to draw",
            "sobol": "base samples N (runs = N x (parameters + 2)), a power of 2",
            "morris": "trajectories (runs = trajectories x (parameters + 1))",
        }[kind]
        raise InputError("design.samples", None, f"a whole number of {what}; add samples = N to [design]")
    if kind == "sobol" and (samples < 2 or samples & (samples - 1)):
        raise InputError(
            "design.samples",
            samples,
            "a power of 2 >= 2 for a Sobol design (Sobol' sequences balance only at powers of 2), e.g. 64, 128, 1024",
        )
    if kind == "sobol" and second_order and len(params) < 2:
        raise InputError("design.second_order", True, "false with fewer than 2 parameters")
    if kind == "morris" and samples < 2:
        raise InputError("design.samples", samples, "at least 2 Morris trajectories")
    if kind in NUMERIC_ONLY:
        for p in params:
            if not p.is_range:
                raise InputError(
                    f"parameters.{p.key}",
                    list(p.choices),
                    f"a numeric range {{ min, max }} for a {kind} "
                    "design (its sampler needs numbers); vary lists of values with a factorial or "
                    "monte_carlo design, or fix one value under [fixed]",
                )
    for p in params:
        if p.levels is not None:
            raise InputError(
                f"parameters.{p.key}.levels",
                p.levels,
                f"nothing for a {kind} design (levels set the "
                "grid of a factorial design; this design samples the range)",
            )


def design_points(kind: str, samples: int | None, second_order: bool, params: list[Parameter]) -> int:
    """How many points a design will have, from the spec alone (nothing is drawn)."""
    k = len(params)
    if kind == "factorial":
        return math.prod(len(p.values) if p.values else (p.levels or 1) for p in params)
    if kind == "sobol":
        return int(samples or 0) * ((2 * k + 2) if second_order else (k + 2))
    if kind == "morris":
        return int(samples or 0) * (k + 1)
    return int(samples or 0)


def _check_size(kind: str, samples: int | None, second_order: bool, params: list[Parameter], reps: int) -> None:
    points = design_points(kind, samples, second_order, params)
    if points > limits.MAX_DESIGN_POINTS:
        raise InputError("design", f"{points:,} points", f"a design of at most {limits.MAX_DESIGN_POINTS:,} points")
    if points * reps > limits.MAX_RUNS:
        raise InputError(
            "replications",
            reps,
            f"at most {limits.MAX_RUNS:,} runs in all (the design has {points:,} points, "
            f"so at most {limits.MAX_RUNS // max(points, 1):,} replications)",
        )


def _base_scenario(raw: dict, base_dir: Path) -> Scenario:
    from abm.presets import names, resolve_scenario

    ref = raw.get("scenario", "alpha-beta")
    if not isinstance(ref, str) or not ref:
        raise InputError("scenario", ref, "a preset name (" + ", ".join(names()) + ") or a scenario TOML file")
    if ref not in names():
        candidate = base_dir / ref
        ref = str(candidate) if not Path(ref).is_absolute() and candidate.exists() else ref
    try:
        base = resolve_scenario(ref)
    except ScenarioError as exc:
        raise InputError(
            "scenario" if exc.field in ("scenario", "") else f"scenario ({exc.field})", exc.value, exc.allowed
        ) from None
    fixed = _table(raw.get("fixed", {}), "fixed")
    months = raw.get("months")
    overrides = dict(fixed)
    if months is not None:
        overrides["months"] = _whole(months, "months", 1, "a whole number of months in [1, 600]")
    try:
        return base.with_overrides(overrides) if overrides else base.copy()
    except ScenarioError as exc:
        where = "months" if exc.field == "months" and months is not None else f"fixed.{exc.field}"
        raise InputError(where, exc.value, exc.allowed) from None


# ---- parameters ------------------------------------------------------------------------------


def column_name(key: str) -> str:
    """Results column of a parameter key: ``partners[0].commitment`` -> ``partners_0_commitment``."""
    return re.sub(r"[^0-9A-Za-z]+", "_", key).strip("_")


class _UnknownField(Exception):
    pass


def field_targets(scenario: Scenario, path: str) -> list[tuple[Section, str, str]]:
    """The (section, field name, dotted location) every scenario field that ``path`` sets.

    Follows the same addressing as ``Scenario.with_overrides``: ``market.consumers``,
    ``partners[0].commitment``, ``partners.0.commitment``, ``partners.commitment`` (all).

    Raises:
        _UnknownField: the path names no leaf field.
    """
    parts = [p for p in re.split(r"[.\[\]]+", path) if p]
    if not parts:
        raise _UnknownField(path)
    current: list[tuple[Any, str]] = [(scenario, "")]
    for part in parts[:-1]:
        nxt: list[tuple[Any, str]] = []
        for obj, where in current:
            if isinstance(obj, list):
                if part.isdigit():
                    if int(part) >= len(obj):
                        raise _UnknownField(path)
                    nxt.append((obj[int(part)], f"{where}[{part}]"))
                    continue
                items = [(o, f"{where}[{i}]") for i, o in enumerate(obj)]
            else:
                items = [(obj, where)]
            for o, w in items:
                if not isinstance(o, Section) or part not in o.field_names():
                    raise _UnknownField(path)
                nxt.append((getattr(o, part), f"{w}.{part}" if w else part))
        current = nxt
    leaves: list[tuple[Any, str]] = []
    for obj, where in current:
        leaves.extend(((o, f"{where}[{i}]") for i, o in enumerate(obj)) if isinstance(obj, list) else [(obj, where)])
    last = parts[-1]
    out = []
    for obj, where in leaves:
        if not isinstance(obj, Section) or last not in obj.field_names():
            raise _UnknownField(path)
        if isinstance(getattr(obj, last), (Section, list)):
            raise _UnknownField(path)
        out.append((obj, last, f"{where}.{last}" if where else last))
    return out


def _field_kind(section: Any, name: str) -> str:
    if typing.get_origin(typing.get_type_hints(type(section))[name]) is typing.Literal:
        return "str"  # one word of a vocabulary (abm.vocabulary): text
    annotation = next(f.type for f in dataclasses.fields(section) if f.name == name)
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
    return text.split("|")[0].strip()  # "float | None" -> "float"


def _known_keys_hint(key: str) -> str:
    fields = sorted(OVERRIDES)
    close = difflib.get_close_matches(key, fields, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return (
        f"a scenario field: {hint}a flat name ({', '.join(fields)}) or a dotted path such as "
        "market.consumers, partners[0].commitment or partners.commitment (every partner)"
    )


def _parameters(table: dict, base: Scenario, design: str) -> list[Parameter]:
    if len(table) > limits.MAX_PARAMETERS:
        raise InputError("parameters", f"{len(table)} parameters", f"at most {limits.MAX_PARAMETERS} parameters")
    params: list[Parameter] = []
    columns: dict[str, str] = {}
    for key, value in table.items():
        where = f"parameters.{key}"
        paths = OVERRIDES.get(key, (key,))
        targets = []
        try:
            for path in paths:
                targets.extend(field_targets(base, path))
        except _UnknownField:
            raise InputError("parameters", key, _known_keys_hint(key)) from None
        if not targets:
            raise InputError(
                "parameters",
                key,
                f"a field present in the base scenario '{base.name}' "
                f"({', '.join(paths)} matches none: the list is empty)",
            )
        kinds = {_field_kind(sec, name) for sec, name, _ in targets}
        kind = kinds.pop() if len(kinds) == 1 else "mixed"
        column = column_name(key)
        if column in ID_COLUMNS:
            raise InputError("parameters", key, f"a name whose column is not one of {', '.join(ID_COLUMNS)}")
        if column in columns:
            raise InputError(
                "parameters", key, f"a name whose column differs from that of '{columns[column]}' (both are '{column}')"
            )
        columns[column] = key
        fields_set = tuple(w for _, _, w in targets)
        if isinstance(value, list) or (isinstance(value, dict) and "values" in value):
            if isinstance(value, dict):
                _unknown_keys(value, ("values",), f"{where}.")
                value = value["values"]
            param = _list_parameter(key, column, value, kind, fields_set)
        elif isinstance(value, dict):
            param = _range_parameter(key, column, value, kind, fields_set, design)
        else:
            raise InputError(
                where,
                value,
                "a list of values [a, b, ...] or a range { min = .., max = .. }; "
                "to fix a single value, put it under [fixed]",
            )
        for v in param.values if param.values is not None else (param.low, param.high):
            _check_value(targets, key, v)
        params.append(param)
    return params


def _list_parameter(key: str, column: str, values: Any, kind: str, fields_set: tuple) -> Parameter:
    where = f"parameters.{key}"
    if not isinstance(values, list) or not values:
        raise InputError(where, values, "a non-empty list of values")
    if len(values) > limits.MAX_LEVELS:
        raise InputError(where, f"{len(values)} values", f"at most {limits.MAX_LEVELS:,} values")
    if any(isinstance(v, (dict, list)) for v in values):
        raise InputError(where, values, "a list of plain values (numbers, text, true/false)")
    if len({json.dumps(v) for v in values}) < len(values):
        raise InputError(where, values, "a list without repeated values")
    numeric = [isinstance(v, (int, float)) and not isinstance(v, bool) for v in values]
    if any(numeric) and not all(numeric):
        raise InputError(where, values, "values of one type (all numbers, all text or all true/false)")
    if kind == "float" and all(numeric):
        values = [float(v) for v in values]
    if kind == "int" and all(numeric):
        if any(float(v) != int(v) for v in values):
            raise InputError(where, values, f"whole numbers ({', '.join(fields_set)} holds a whole number)")
        values = [int(v) for v in values]
    return Parameter(key=key, column=column, values=tuple(values), integer=kind == "int", fields=fields_set)


def _range_parameter(key: str, column: str, table: dict, kind: str, fields_set: tuple, design: str) -> Parameter:
    where = f"parameters.{key}"
    _unknown_keys(table, RANGE_KEYS, f"{where}.")
    if kind not in ("int", "float"):
        raise InputError(
            where,
            table,
            f"a list of values: {', '.join(fields_set)} holds "
            f"{'text' if kind == 'str' else 'true/false' if kind == 'bool' else kind}, not a number",
        )
    for bound in ("min", "max"):
        v = table.get(bound)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise InputError(f"{where}.{bound}", v, "a finite number (a range needs both min and max)")
    low, high = float(table["min"]), float(table["max"])
    if low >= high:
        raise InputError(
            where, {"min": table["min"], "max": table["max"]}, "a range with min < max (it is empty or inverted)"
        )
    integer = kind == "int"
    if integer and (low != int(low) or high != int(high)):
        raise InputError(
            where,
            {"min": table["min"], "max": table["max"]},
            f"whole-number bounds ({', '.join(fields_set)} holds a whole number)",
        )
    levels = table.get("levels")
    if levels is not None:
        levels = _whole(
            levels,
            f"{where}.levels",
            2,
            f"a whole number in [2, {limits.MAX_LEVELS:,}] (grid points from min to max)",
            hi=limits.MAX_LEVELS,
        )
    elif design == "factorial":
        raise InputError(
            f"{where}.levels",
            None,
            "a whole number >= 2 of grid points from min to max, which a factorial design needs for every range",
        )
    param = Parameter(
        key=key,
        column=column,
        low=int(low) if integer else low,
        high=int(high) if integer else high,
        levels=levels,
        integer=integer,
        fields=fields_set,
    )
    if levels is not None and integer and len(set(param.grid())) < levels:
        raise InputError(
            f"{where}.levels",
            levels,
            f"at most {int(high - low) + 1} levels between whole-number bounds {int(low)} and {int(high)}",
        )
    return param


def _check_value(targets: list[tuple[Section, str, str]], key: str, value: Any) -> None:
    """Check one value against each target field's own rule (type, range, choices).

    Rules that tie fields together (e.g. jv_life_min <= jv_life_max) are left to each run:
    a run whose combination breaks one lands in the errors table.
    """
    for section, name, where in targets:
        probe = copy.copy(section)
        setattr(probe, name, value)
        try:
            Section.check(probe, where.rsplit(".", 1)[0] if "." in where else "")
        except ScenarioError as exc:
            if exc.field != where and not exc.field.endswith(f".{name}") and exc.field != name:
                continue  # another field of that section: not this parameter's business
            raise InputError(f"parameters.{key}", value, f"{exc.allowed} (the rule of {where})") from None


# ---- keep and analysis -------------------------------------------------------------------------


def _keep(table: dict) -> Keep:
    from abm.model import STEP_COLUMNS

    _unknown_keys(table, KEEP_KEYS, "keep.")
    steps = _flag(table.get("steps", False), "keep.steps")
    every = _whole(table.get("every", 1), "keep.every", 1, "a whole number of months >= 1")
    firms = table.get("firms", "focal")
    if firms not in FIRMS:
        raise InputError("keep.firms", firms, '"focal" (the first entrant) or "all"')
    columns = table.get("columns")
    if columns is not None:
        if not isinstance(columns, list) or not columns:
            raise InputError("keep.columns", columns, "a non-empty list of step columns")
        for c in columns:
            if c not in STEP_COLUMNS:
                hint = did_you_mean(c, STEP_COLUMNS)
                raise InputError("keep.columns", c, f"a step column{hint}: {', '.join(STEP_COLUMNS)}")
        columns = tuple(dict.fromkeys(["month", "firm", *columns]))
    if not steps and any(k in table for k in ("every", "firms", "columns")):
        raise InputError("keep.steps", False, "true when every, firms or columns are given (they shape the paths)")
    return Keep(steps=steps, every=every, firms=firms, columns=columns)


def _analysis(table: dict, params: list[Parameter]) -> AnalysisSpec:
    from abm.sweeps.runner import outcome_columns

    _unknown_keys(table, ANALYSIS_KEYS, "analysis.")
    outcomes = table.get("outcomes")
    if outcomes is not None:
        known = [c for c in outcome_columns() if c not in ("seed", "scenario", "entrant")] + list(DERIVED_OUTCOMES)
        if not isinstance(outcomes, list) or not outcomes:
            raise InputError("analysis.outcomes", outcomes, "a non-empty list of summary columns")
        for o in outcomes:
            if o not in known:
                hint = did_you_mean(o, known)
                raise InputError("analysis.outcomes", o, f"a summary column{hint}: {', '.join(known)}")
        outcomes = tuple(outcomes)
    group = table.get("group")
    if group is not None:
        names = [p.key for p in params] + [p.column for p in params]
        if group not in names:
            raise InputError("analysis.group", group, "one of the parameters: " + ", ".join(p.key for p in params))
        group = next(p.column for p in params if group in (p.key, p.column))
    return AnalysisSpec(outcomes=outcomes, group=group)
