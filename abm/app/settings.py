"""The app's controls as plain data, and how they turn a base scenario into the one that runs.

The Simulate and Compare views share one :class:`Settings`: the key parameters a
strategy team or a class plays with. Each control starts at the base scenario's own value
(:func:`settings_from`), so a preset runs as written until someone moves a control; only
the controls that differ from the base become overrides (:func:`apply_settings`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from abm.errors import InputError
from abm.scenario import ENTRY_MODES, Scenario

MODE_LABELS = {
    "alone": "Alone (greenfield)",
    "alliance": "Strategic alliance",
    "joint_venture": "Joint venture",
    "acquisition": "Acquisition",
    "auto": "Let the entrant choose",
}
"""Readable names of the entry modes (and of ``auto``)."""

ANY_PARTNER = "(most attractive free partner)"
"""Partner choice that leaves the pick to the entrant."""


@dataclass(frozen=True)
class Settings:
    """Values of the Simulate controls; they apply to the focal (first) entrant.

    Attributes:
        entry_mode: one of ``ENTRY_MODES`` or ``auto``.
        partner: name of the preferred partner, or ``ANY_PARTNER``.
        use_countries: True: cultural distance from the Hofstede scores of the two
            countries; False: ``cultural_distance`` as set.
        cultural_distance: Kogut-Singh distance entrant to host (used when
            ``use_countries`` is False), >= 0.
        home_country: Hofstede code of the entrant's home country.
        host_country: Hofstede code of the host market.
        regulatory_stringency: every regulator's stringency, in [0, 1].
        incumbent_strength: multiplier on every incumbent's customer loyalty (1 = as in
            the scenario), >= 0.
        partner_commitment: share of promised resources the *named* partner delivers,
            [0, 1]: the chosen partner's, or the first partner's when the entrant picks
            (:func:`commitment_partner`); the other candidates keep their own.
        seed: seed of the run (the Compare view's master seed).
    """

    entry_mode: str
    partner: str
    use_countries: bool
    cultural_distance: float
    home_country: str
    host_country: str
    regulatory_stringency: float
    incumbent_strength: float
    partner_commitment: float
    seed: int = 1

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def settings_from(base: Scenario, seed: int = 1) -> Settings:
    """The controls' starting values: the base scenario's own (first entrant, first
    partner, first regulator)."""
    from abm.culture import kogut_singh

    e = base.entrants[0]
    if e.cultural_distance is None:
        distance = kogut_singh(e.home_country, base.market.host_country)
    else:
        distance = e.cultural_distance
    partner = e.preferred_partner or ANY_PARTNER
    return Settings(
        entry_mode=e.entry_mode,
        partner=partner,
        use_countries=e.cultural_distance is None,
        cultural_distance=round(float(distance), 2),
        home_country=_code(e.home_country),
        host_country=_code(base.market.host_country),
        regulatory_stringency=base.regulators[0].stringency if base.regulators else 0.0,
        incumbent_strength=1.0,
        partner_commitment=own_commitment(base, partner),
        seed=seed,
    )


def commitment_partner(base: Scenario, partner: str) -> int | None:
    """Index of the partner the commitment control names: the chosen partner, else the first."""
    if not base.partners:
        return None
    names = [p.name for p in base.partners]
    return names.index(partner) if partner in names else 0


def own_commitment(base: Scenario, partner: str) -> float:
    """The scenario's own commitment of the partner the control names (0 without partners)."""
    i = commitment_partner(base, partner)
    return 0.0 if i is None else base.partners[i].commitment


def _code(country: str) -> str:
    from abm.culture import resolve_country

    try:
        return resolve_country(country).code
    except InputError:
        return country


def overrides_for(base: Scenario, s: Settings) -> dict[str, Any]:
    """Dotted-path overrides for the controls that differ from the base scenario."""
    start = settings_from(base, s.seed)
    out: dict[str, Any] = {}
    if s.entry_mode != start.entry_mode:
        out["entrants[0].entry_mode"] = s.entry_mode
    if s.partner != start.partner:
        out["entrants[0].preferred_partner"] = "" if s.partner == ANY_PARTNER else s.partner
    if s.use_countries:
        if not start.use_countries:
            out["entrants[0].cultural_distance"] = None
        if s.home_country != start.home_country:
            out["entrants[0].home_country"] = s.home_country
    elif start.use_countries or s.cultural_distance != start.cultural_distance:
        out["entrants[0].cultural_distance"] = float(s.cultural_distance)
    if s.host_country != start.host_country:
        out["market.host_country"] = s.host_country
    if base.regulators and s.regulatory_stringency != start.regulatory_stringency:
        out["regulators.stringency"] = float(s.regulatory_stringency)
    if s.incumbent_strength != 1.0:
        if s.incumbent_strength < 0:
            raise InputError("incumbent strength", s.incumbent_strength, "a multiplier >= 0")
        for i, inc in enumerate(base.incumbents):
            out[f"incumbents[{i}].loyalty"] = round(inc.loyalty * s.incumbent_strength, 6)
    i = commitment_partner(base, s.partner)
    if i is not None and s.partner_commitment != base.partners[i].commitment:
        out[f"partners[{i}].commitment"] = float(s.partner_commitment)
    return out


def apply_settings(base: Scenario, s: Settings) -> Scenario:
    """The scenario the controls describe.

    Raises:
        InputError: (a ScenarioError) for a value or a combination that is not allowed,
            e.g. an alliance in a scenario with no local partner, or two countries with
            no cultural dimension in common; the message names the setting.
    """
    if s.entry_mode not in (*ENTRY_MODES, "auto"):
        raise InputError("entry mode", s.entry_mode, "one of " + ", ".join((*ENTRY_MODES, "auto")))
    if s.entry_mode in ("alliance", "joint_venture", "acquisition") and not base.partners:
        raise InputError(
            "entry mode",
            s.entry_mode,
            "'alone' or 'auto': this scenario has no local partner to ally with, co-own or buy",
        )
    scenario = base.with_overrides(overrides_for(base, s))
    if s.use_countries:
        from abm.culture import kogut_singh

        kogut_singh(scenario.entrants[0].home_country, scenario.market.host_country)  # raises if no shared dimension
    return scenario


_LABELS = {
    "entrants[0].entry_mode": "entry mode",
    "entrants[0].preferred_partner": "partner",
    "entrants[0].cultural_distance": "cultural distance",
    "entrants[0].home_country": "home country",
    "market.host_country": "host country",
    "regulators.stringency": "regulatory stringency",
}


def describe(base: Scenario, s: Settings) -> str:
    """One line saying what the controls changed from the base scenario, for the pages."""
    changes = overrides_for(base, s)
    parts = []
    for key, value in changes.items():
        if key.startswith("incumbents["):
            continue
        label = _LABELS.get(key, key)
        if key.startswith("partners[") and key.endswith("].commitment"):
            label = f"{base.partners[int(key[9:].split(']')[0])].name}'s commitment"
        if key == "entrants[0].entry_mode":
            value = MODE_LABELS.get(value, value).lower()
        elif value is None:
            value = "from the countries"
        elif value == "":
            value = "most attractive"
        parts.append(f"{label} {value:g}" if isinstance(value, float) else f"{label} {value}")
    if s.incumbent_strength != 1.0 and base.incumbents:
        parts.append(f"incumbent loyalty x{s.incumbent_strength:g}")
    if not parts:
        return f"{base.title} (as written)"
    return f"{base.title}; changed: " + ", ".join(parts)
