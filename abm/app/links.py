"""Links that carry the app's state: the scenario, the controls, the seed and the view.

A link names a preset and only the controls that differ from its own values
(``?preset=two-entrants&partner=Gamma+Retail&commitment=0.6&seed=3&month=30``), or, for a
scenario that is no preset (a file uploaded or edited in the app), carries the whole
scenario as compressed TOML (``scenario=...``). Same scenario + seed gives the same run,
so the link reproduces what the sender saw; ``month`` runs it to that month.

Everything read from a link is checked as a scenario file is: a tampered or malformed
link raises :class:`~abm.errors.InputError` naming the part, the value (shortened) and
what is allowed. No Solara here.
"""

from __future__ import annotations

import base64
import math
import zlib
from dataclasses import dataclass, field
from typing import cast
from urllib.parse import parse_qs, urlencode

from abm import presets
from abm.app.settings import ANY_PARTNER, Settings, settings_from
from abm.errors import InputError
from abm.scenario import ENTRY_MODES, Scenario

MAX_QUERY = 16_000
"""Longest query string read from a link, in characters."""
MAX_SCENARIO_TOML = 200_000
"""Longest scenario, in characters of TOML once decompressed (a zip bomb stops here)."""

_FIELDS = {
    # query key: (Settings field, kind)
    "mode": ("entry_mode", "mode"),
    "partner": ("partner", "text"),
    "countries": ("use_countries", "bool"),
    "distance": ("cultural_distance", "float>=0"),
    "home": ("home_country", "text"),
    "host": ("host_country", "text"),
    "stringency": ("regulatory_stringency", "share"),
    "incumbents": ("incumbent_strength", "float>=0"),
    "commitment": ("partner_commitment", "share"),
    "seed": ("seed", "int>=0"),
}
"""Query keys for the controls (short, readable)."""


@dataclass
class LinkState:
    """What a link asks for.

    Attributes:
        preset: preset name, or None when the link carries its own scenario.
        scenario: the scenario the link carries (None for a preset).
        settings: the controls, with the link's changes applied.
        month: Simulate's month to run to (0: the start).
        present: presentation mode on.
        font: text size (1 = default).
    """

    preset: str | None
    scenario: Scenario | None
    settings: Settings
    month: int = 0
    present: bool = False
    font: float = 1.0
    notes: list[str] = field(default_factory=list)

    @property
    def base(self) -> Scenario:
        if self.scenario is not None:
            return self.scenario
        assert self.preset is not None  # a link names a preset or carries a scenario (parse_query)
        return presets.load(self.preset)


def encode_scenario(scenario: Scenario) -> str:
    """A scenario as URL-safe text: its TOML, compressed, base64."""
    raw = zlib.compress(scenario.to_toml().encode("utf-8"), 9)
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_scenario(text: str) -> Scenario:
    """The scenario a link carries (see :func:`encode_scenario`), checked as a file is."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        inflater = zlib.decompressobj()
        data = inflater.decompress(raw, MAX_SCENARIO_TOML + 1)
        if len(data) > MAX_SCENARIO_TOML or inflater.unconsumed_tail:
            raise InputError("link scenario", _short(text), f"a scenario of at most {MAX_SCENARIO_TOML:,} characters")
        toml = data.decode("utf-8")
    except InputError:
        raise
    except Exception:
        raise InputError("link scenario", _short(text), "a scenario as written by the app's Copy link") from None
    return Scenario.from_toml(toml, "link scenario")


def query_for(
    base_choice: str | None,
    base: Scenario,
    s: Settings,
    *,
    month: int = 0,
    present: bool = False,
    font: float = 1.0,
) -> str:
    """The query string that reproduces this state (see the module's docstring).

    Args:
        base_choice: the preset's name, or None for a scenario that is no preset (it
            travels whole).
    """
    params: list[tuple[str, str]] = []
    if base_choice is not None:
        params.append(("preset", base_choice))
    else:
        params.append(("scenario", encode_scenario(base)))
    start = settings_from(base, s.seed)
    for key, (name, _kind) in _FIELDS.items():
        value = getattr(s, name)
        if key == "seed" or value != getattr(start, name):
            params.append((key, _text(value)))
    if month:
        params.append(("month", str(int(month))))
    if present:
        params.append(("present", "1"))
    if font != 1.0:
        params.append(("font", f"{font:g}"))
    return urlencode(params)


def parse_query(query: str | None) -> LinkState | None:
    """What a link's query asks for; None when it asks for nothing.

    Raises:
        InputError: for a malformed or tampered part (unknown key, bad value, unknown
            preset, a scenario that does not load), naming it.
    """
    query = (query or "").lstrip("?")
    if not query:
        return None
    if len(query) > MAX_QUERY:
        raise InputError("link", _short(query), f"at most {MAX_QUERY:,} characters")
    try:
        parts = parse_qs(query, keep_blank_values=True, strict_parsing=True, max_num_fields=50)
    except ValueError:
        raise InputError("link", _short(query), "key=value pairs joined by &") from None
    known = {"preset", "scenario", "month", "present", "font", *_FIELDS}
    for key, values in parts.items():
        if key not in known:
            raise InputError("link", _short(key), "one of " + ", ".join(sorted(known)))
        if len(values) > 1:
            raise InputError(f"link {key}", _short(",".join(values)), "one value")
    one = {k: v[0] for k, v in parts.items()}
    if "preset" in one and "scenario" in one:
        raise InputError("link", "preset and scenario", "one of them")
    if "scenario" in one:
        preset, scenario = None, decode_scenario(one["scenario"])
    else:
        preset = one.get("preset", presets.DEFAULT)
        if preset not in presets.names():
            raise InputError("link preset", _short(preset), "one of " + ", ".join(presets.names()))
        scenario = None
    base = scenario if scenario is not None else presets.load(cast(str, preset))  # the preset branch set it
    start = settings_from(base, 1)
    changes = {}
    for key, (name, kind) in _FIELDS.items():
        if key in one:
            changes[name] = _value(key, one[key], kind, base)
    s = start.replace(**changes)
    if "commitment" not in one and "partner" in one:
        from abm.app.settings import own_commitment

        s = s.replace(partner_commitment=own_commitment(base, s.partner))
    month = _value("month", one["month"], "int>=0", base) if "month" in one else 0
    if month > base.months:
        raise InputError("link month", month, f"a month from 0 to the scenario's {base.months}")
    present = _value("present", one["present"], "bool", base) if "present" in one else False
    font = _value("font", one["font"], "float>=0", base) if "font" in one else 1.0
    if not 0.5 <= font <= 2.0:
        raise InputError("link font", font, "a text size from 0.5 to 2")
    return LinkState(preset, scenario, s, month, present, font)


def _value(key: str, text: str, kind: str, base: Scenario):
    where = f"link {key}"
    if kind == "text":
        if key == "partner":
            names = [ANY_PARTNER, *(p.name for p in base.partners)]
            if text not in names:
                raise InputError(where, _short(text), "one of " + ", ".join(names))
        elif key in ("home", "host"):
            from abm.culture import resolve_country

            resolve_country(text, where)
        return text
    if kind == "mode":
        if text not in (*ENTRY_MODES, "auto"):
            raise InputError(where, _short(text), "one of " + ", ".join((*ENTRY_MODES, "auto")))
        return text
    if kind == "bool":
        if text not in ("0", "1"):
            raise InputError(where, _short(text), "0 or 1")
        return text == "1"
    if kind == "int>=0":
        if not text.isdigit() or len(text) > 12:
            raise InputError(where, _short(text), "a whole number >= 0")
        return int(text)
    try:
        value = float(text)
    except ValueError:
        raise InputError(where, _short(text), "a number") from None
    if not math.isfinite(value) or value < 0 or (kind == "share" and value > 1):
        raise InputError(where, _short(text), "a number from 0 to 1" if kind == "share" else "a number >= 0")
    return value


def _text(value) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _short(text: str, n: int = 60) -> str:
    text = str(text)
    return text if len(text) <= n else text[: n - 3] + "..."
