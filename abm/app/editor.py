"""The scenario editor's logic: which fields each section has, and how an edit is applied.

Every edit goes through the TOML loader's own checks (:meth:`abm.scenario.Scenario.with_overrides`,
which re-checks the whole scenario), so a value or a combination the loader refuses is
refused here with the same message, and the scenario that was good before stays. No Solara
here: the page is :mod:`abm.app.editor_page`.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from abm import limits
from abm.scenario import (
    Contract,
    Entrant,
    Incumbent,
    Market,
    ModeChoice,
    Partner,
    Regulator,
    Scenario,
    ScenarioError,
    Section,
    _describe_range,
)


@dataclass(frozen=True)
class SectionSpec:
    """One part of the scenario the editor shows.

    Attributes:
        key: the scenario's field (``market``, ``partners``); ``""`` for the scenario's own
            top-level fields (name, title, months, currency...).
        label: the tab's label.
        cls: the section's class.
        many: True for a list (entrants, partners, incumbents, regulators).
        singular: one item's name in buttons ("partner").
    """

    key: str
    label: str
    cls: type[Section]
    many: bool = False
    singular: str = ""


SECTIONS = (
    SectionSpec("", "Case", Scenario),
    SectionSpec("market", "Market", Market),
    SectionSpec("entrants", "Entrants", Entrant, True, "entrant"),
    SectionSpec("partners", "Partners", Partner, True, "partner"),
    SectionSpec("incumbents", "Incumbents", Incumbent, True, "incumbent"),
    SectionSpec("regulators", "Regulators", Regulator, True, "regulator"),
    SectionSpec("contract", "Contract", Contract),
    SectionSpec("mode_choice", "Entry-mode choice", ModeChoice),
)
"""The editor's tabs, in the order of the ODD's entities."""


@dataclass(frozen=True)
class FieldSpec:
    """One editable field, from the scenario's own declaration (``abm.scenario.spec``).

    Attributes:
        name: the field's name.
        kind: ``number``, ``whole``, ``optional-number`` (empty: derived), ``yes-no``,
            ``choice`` or ``text``.
        choices: the allowed values of a ``choice``.
        doc: what it is, from the scenario's documentation.
        unit: its unit ("" if none).
        allowed: the range or choices in words, as the loader's messages give them.
    """

    name: str
    kind: str
    choices: tuple = ()
    doc: str = ""
    unit: str = ""
    allowed: str = ""

    @property
    def long_text(self) -> bool:
        return self.name in ("description", "lesson")


def fields_of(cls: type[Section]) -> list[FieldSpec]:
    """The editable fields of a section (sections and lists nested in it are their own tabs)."""
    out = []
    for f in dataclasses.fields(cls):
        meta = f.metadata
        if not meta:
            continue  # a nested section or list: a tab of its own
        default = f.default if f.default is not dataclasses.MISSING else None
        if meta["choices"]:
            kind = "choice"
        elif f.type == "float | None":
            kind = "optional-number"
        elif isinstance(default, bool):
            kind = "yes-no"
        elif isinstance(default, int):
            kind = "whole"
        elif isinstance(default, float):
            kind = "number"
        else:
            kind = "text"
        out.append(
            FieldSpec(f.name, kind, tuple(meta["choices"] or ()), meta["doc"], meta["unit"], _allowed(kind, meta))
        )
    return out


def _allowed(kind: str, meta: Mapping[str, Any]) -> str:
    """The range in the loader's words (``a number in [0, 1]``); nothing for text, lists and switches."""
    return _describe_range(meta) if kind in ("number", "whole", "optional-number") else ""


def path_of(section: str, index: int | None, name: str) -> str:
    """The dotted path the loader's messages use: ``partners[1].commitment``, ``market.consumers``, ``months``."""
    if not section:
        return name
    if index is None:
        return f"{section}.{name}"
    return f"{section}[{index}].{name}"


def shown(value: Any) -> str:
    """A field's value as the text box shows it."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value) if not value.is_integer() or abs(value) >= 1e16 else f"{value:.1f}"
    return str(value)


def parse(spec: FieldSpec, text: Any) -> Any:
    """The value a text box's text stands for. Text that is no number stays text, so that the
    loader's own check refuses it with its own message (``... = 'abc' is not allowed: a number in [0, 1]``)."""
    if spec.kind in ("yes-no", "choice") or not isinstance(text, str):
        return text
    if spec.kind == "text":
        return text
    text = text.strip()
    if spec.kind == "optional-number" and text == "":
        return None
    try:
        number = float(text.replace("_", "")) if text else text
    except ValueError:
        return text
    if isinstance(number, float) and spec.kind == "whole" and math.isfinite(number) and number.is_integer():
        return int(number)
    return number


def edit(scenario: Scenario, path: str, value: Any) -> Scenario:
    """A new, checked scenario with one field changed; ``scenario`` is left as it was.

    Raises:
        ScenarioError: the loader's message for a value or combination it refuses.
    """
    changes = {path: value}
    renamed = re.fullmatch(r"partners\[(\d+)\]\.name", path)
    if renamed and isinstance(value, str) and int(renamed.group(1)) < len(scenario.partners):
        old = scenario.partners[int(renamed.group(1))].name  # an entrant that prefers it follows the new name
        changes.update(
            {
                f"entrants[{i}].preferred_partner": value
                for i, e in enumerate(scenario.entrants)
                if e.preferred_partner == old
            }
        )
    return scenario.with_overrides(changes)


def items_of(scenario: Scenario, section: str) -> list[Any]:
    """The named firms of a list section (entrants, partners, incumbents, regulators)."""
    return getattr(scenario, section)


def add_item(scenario: Scenario, section: str) -> Scenario:
    """A new, checked scenario with one more item in a list, at its defaults, with a name of
    its own; a new incumbent takes at most the share no other firm holds yet.

    Raises:
        ScenarioError: when the list is full (``limits.MAX_LIST_ITEMS``) or the loader
            refuses the result.
    """
    spec = next(s for s in SECTIONS if s.key == section and s.many)
    items = items_of(scenario, section)
    if len(items) >= limits.MAX_LIST_ITEMS:
        raise ScenarioError(section, f"{len(items)} items", f"at most {limits.MAX_LIST_ITEMS} items")
    item: Any = spec.cls()
    taken = {x.name for key in ("entrants", "partners", "incumbents", "regulators") for x in items_of(scenario, key)}
    n = len(items) + 1
    while f"{spec.singular.capitalize()} {n}" in taken:
        n += 1
    item.name = f"{spec.singular.capitalize()} {n}"
    regions = scenario.market.regions_x * scenario.market.regions_y
    if hasattr(item, "base_region"):
        item.base_region = min(item.base_region, regions - 1)
    if isinstance(item, Incumbent):
        held = sum(i.initial_share for i in scenario.incumbents) + sum(p.brand_share for p in scenario.partners)
        item.initial_share = round(max(0.0, min(item.initial_share, 1.0 - held)), 6)
    return scenario.with_overrides({section: [*(x.to_dict() for x in items), item.to_dict()]})


def remove_item(scenario: Scenario, section: str, index: int) -> Scenario:
    """A new, checked scenario without item ``index`` of a list.

    Raises:
        ScenarioError: the loader's message when what is left cannot run (e.g. the last
            entrant, or a partner an entrant names as its preferred one).
    """
    items = items_of(scenario, section)
    if not 0 <= index < len(items):
        raise ScenarioError(section, index, f"an index below {len(items)}")
    return scenario.with_overrides({section: [x.to_dict() for i, x in enumerate(items) if i != index]})
