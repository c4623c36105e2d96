"""The model's fixed vocabularies as types: entry modes, licence and partnership statuses,
why partnerships and market presences end. One place for the words a scenario, a summary
row or a report may hold, so that a type checker catches a misspelt one.

The core's tuples (``abm.scenario.ENTRY_MODES``, ``abm.partnership.END_CAUSES``,
``abm.licensing.LOCAL_ENTITY_MODES``...) are typed with these, and every variable, field and
parameter that holds one of the words is annotated with its type: ``mypy`` (``make lint``,
``strict_equality`` on) then rejects a misspelt word in an assignment, a call or a comparison.
"""

from __future__ import annotations

from typing import Literal, TypeGuard, get_args

EntryMode = Literal["alone", "alliance", "joint_venture", "acquisition"]
"""How the focal firm enters: on its own, by a strategic alliance, a joint venture, or by acquisition."""

EntryModeSetting = Literal["alone", "alliance", "joint_venture", "acquisition", "auto"]
"""A scenario's ``entry_mode``: one of the modes, or ``auto`` (the entrant chooses by value)."""

EnteredMode = Literal["none", "alone", "alliance", "joint_venture", "acquisition"]
"""A summary row's ``entry_mode`` and ``final_mode``: the mode, or ``none`` for a firm that never entered."""

StayOut = Literal["stay_out"]
"""The option, next to the modes, of not entering at all (``abm.entry.STAY_OUT``)."""

PartnershipKind = Literal["alliance", "joint_venture"]
"""The two kinds of partnership with a local firm."""

PartnershipStatus = Literal["none", "alliance", "joint_venture", "ended"]
"""A summary row's ``partnership_status``: none formed, one running (its kind), or ended."""

PartnershipEndCause = Literal[
    "trust_floor",
    "missed_objectives",
    "expired",
    "partner_defected",
    "partner_walked_away",
    "entrant_exited",
    "buyout_by_entrant",
    "buyout_by_partner",
    "ipo",
    "liquidation",
    "integration_failed",
    "planned_end",
    "ended_by_entrant",
]
"""Why a partnership ended: ``abm.partnership.END_CAUSES``, and the end of a JV's planned
life (``planned_end``, whose event names the exit route instead)."""

JvExitRoute = Literal["buyout_by_entrant", "buyout_by_partner", "ipo", "liquidation"]
"""How a joint venture is wound up when it ends."""

LicenceStatus = Literal["pending", "approved", "rejected", "refused", "withdrawn"]
"""Where a licence application stands with a regulator."""

Reaction = Literal["none", "price", "marketing", "mixed"]
"""What an incumbent may change when it answers an entrant: nothing, its price, its marketing, or both."""

AfterBreakup = Literal["decide", "stay", "leave"]
"""An entrant's rule after a break-up: decide by value, stay alone, or leave."""

ENTRY_MODES: tuple[EntryMode, ...] = get_args(EntryMode)
ENTRY_MODE_SETTINGS: tuple[EntryModeSetting, ...] = get_args(EntryModeSetting)
ENTERED_MODES: tuple[EnteredMode, ...] = get_args(EnteredMode)
PARTNERSHIP_KINDS: tuple[PartnershipKind, ...] = get_args(PartnershipKind)
PARTNERSHIP_STATUSES: tuple[PartnershipStatus, ...] = get_args(PartnershipStatus)
PARTNERSHIP_END_CAUSES: tuple[PartnershipEndCause, ...] = get_args(PartnershipEndCause)
JV_EXIT_ROUTES: tuple[JvExitRoute, ...] = get_args(JvExitRoute)
LICENCE_STATUSES: tuple[LicenceStatus, ...] = get_args(LicenceStatus)
REACTIONS: tuple[Reaction, ...] = get_args(Reaction)
AFTER_BREAKUP: tuple[AfterBreakup, ...] = get_args(AfterBreakup)


def is_entry_mode(word: object) -> TypeGuard[EntryMode]:
    """Whether ``word`` is an entry mode; narrows its type for the checker (a policy's choice,
    a summary's cell)."""
    return word in ENTRY_MODES


__all__ = [
    "AFTER_BREAKUP",
    "ENTERED_MODES",
    "ENTRY_MODES",
    "ENTRY_MODE_SETTINGS",
    "JV_EXIT_ROUTES",
    "LICENCE_STATUSES",
    "PARTNERSHIP_END_CAUSES",
    "PARTNERSHIP_KINDS",
    "PARTNERSHIP_STATUSES",
    "REACTIONS",
    "AfterBreakup",
    "EnteredMode",
    "EntryMode",
    "EntryModeSetting",
    "JvExitRoute",
    "LicenceStatus",
    "PartnershipEndCause",
    "PartnershipKind",
    "PartnershipStatus",
    "Reaction",
    "StayOut",
    "is_entry_mode",
]
