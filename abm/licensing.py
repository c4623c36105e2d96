"""Licences: applications, the regulator's decision rule and rule changes.

No firm sells before every regulator of the market has licensed it. Pure functions here;
the :class:`~abm.agents.Regulator` agent applies them month by month.
"""

from __future__ import annotations

from dataclasses import dataclass

from abm.vocabulary import EntryMode, LicenceStatus

LOCAL_ENTITY_MODES: tuple[EntryMode, ...] = ("joint_venture", "acquisition")
"""Modes that give the entrant a locally incorporated entity."""


@dataclass
class Application:
    """One entrant's licence application to one regulator."""

    applicant: str
    mode: EntryMode  # entry mode the licence is for
    compliance: float  # quality of the application, [0, 1]
    ties: float  # regulatory ties of the local partner behind it, [0, 1]
    foreign_equity: float  # share of the licensed entity owned by the foreign firm
    filed_month: int  # month of the latest filing
    first_filed_month: int = -1
    status: LicenceStatus = "pending"
    decided_month: int | None = None
    clock_stop: float = 0.0  # months during which no decision can come (a rule change)
    suspended_until: int = -1  # licensed but suspended before this month
    attempts: int = 1

    def __post_init__(self) -> None:
        if self.first_filed_month < 0:
            self.first_filed_month = self.filed_month


def eligibility(
    mode: EntryMode, foreign_equity: float, requires_local_entity: bool, foreign_ownership_cap: float
) -> str | None:
    """Why a regulator must refuse an application outright, or None if it may decide.

    A market that requires a local entity licenses only JVs and acquired local firms; a
    foreign-ownership cap refuses any entity owned by the foreign firm above the cap.
    """
    if requires_local_entity and mode not in LOCAL_ENTITY_MODES:
        return "the market requires a locally incorporated entity"
    if foreign_equity > foreign_ownership_cap + 1e-12:
        return f"foreign ownership {foreign_equity:.0%} exceeds the cap of {foreign_ownership_cap:.0%}"
    return None


def mean_processing_months(processing_months: float, stringency: float, ties: float, tie_speedup: float) -> float:
    """Expected months to a decision: ``m0 (1 + s) (1 - k ties)``.

    Stringency s lengthens review (up to double); a partner's regulatory ties shorten it by
    up to the share ``k`` (seed 000: local partners know how regulators think).
    """
    return processing_months * (1.0 + stringency) * (1.0 - tie_speedup * ties)


def decision_hazard(processing_months: float, stringency: float, ties: float, tie_speedup: float) -> float:
    """Monthly probability that a pending application is decided (geometric waiting time)."""
    mean = mean_processing_months(processing_months, stringency, ties, tie_speedup)
    return 1.0 if mean <= 1.0 else 1.0 / mean


def approval_probability(compliance: float, stringency: float, ties: float, tie_weight: float) -> float:
    """Odds that a decided application is approved.

    ``P = clip(0.35 + 0.6 c - 0.5 s + w ties, 0.02, 0.99)``: better applications (c) pass
    more often, stricter regulators (s) pass fewer, and a partner's ties add up to ``w``.
    """
    p = 0.35 + 0.6 * compliance - 0.5 * stringency + tie_weight * ties
    return min(0.99, max(0.02, p))


def improved_compliance(compliance: float) -> float:
    """Compliance of a re-filed application: a rejection teaches a tenth of what is missing."""
    return compliance + 0.1 * (1.0 - compliance)


SURPRISES = ("delay", "suspension", "conditions")
"""Kinds of regulatory surprise (seed 000: rules can change mid-way)."""
