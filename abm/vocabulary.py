"""The model's fixed vocabularies as types: entry modes, licence and partnership statuses,
why partnerships and market presences end. One place for the words a scenario, a summary
row or a report may hold, so that a type checker catches a misspelt one.

The core (``abm.scenario``, ``abm.partnership``, ``abm.licensing``) keeps its own tuples
for now; ``tests/test_interop.py`` checks that they hold the same words as these types.
"""

from __future__ import annotations

from typing import Literal, get_args

EntryMode = Literal["alone", "alliance", "joint_venture", "acquisition"]
"""How the focal firm enters: on its own, by a strategic alliance, a joint venture, or by acquisition."""

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

ENTRY_MODES: tuple[EntryMode, ...] = get_args(EntryMode)
PARTNERSHIP_KINDS: tuple[PartnershipKind, ...] = get_args(PartnershipKind)
PARTNERSHIP_STATUSES: tuple[PartnershipStatus, ...] = get_args(PartnershipStatus)
PARTNERSHIP_END_CAUSES: tuple[PartnershipEndCause, ...] = get_args(PartnershipEndCause)
JV_EXIT_ROUTES: tuple[JvExitRoute, ...] = get_args(JvExitRoute)
LICENCE_STATUSES: tuple[LicenceStatus, ...] = get_args(LicenceStatus)

__all__ = [
    "ENTRY_MODES",
    "JV_EXIT_ROUTES",
    "LICENCE_STATUSES",
    "PARTNERSHIP_END_CAUSES",
    "PARTNERSHIP_KINDS",
    "PARTNERSHIP_STATUSES",
    "EntryMode",
    "JvExitRoute",
    "LicenceStatus",
    "PartnershipEndCause",
    "PartnershipKind",
    "PartnershipStatus",
]
