"""The partnership between an entrant and a local partner: contract state and small rules.

An alliance is a contract; a joint venture a co-owned entity. Both carry two-sided trust
(a belief each side updates each quarter, ``abm.rules.trust``), commitment, a learning race
and a lifecycle whose decisions are taken by value (``abm.lifecycle``, docs/ODD.md §7.4-7.8):

- commitment: each month each side delivers a noisy share of what it promised;
- learning race (Hamel 1991): the partner absorbs the entrant's know-how; an ambitious
  partner that has learned enough, and more than the entrant has learned of the market,
  may leave and turn competitor;
- shifting priorities: outside opportunities reach the partner at random, each of random
  value; it leaves when one is worth more to it than staying.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from abm.vocabulary import JvExitRoute, PartnershipEndCause, PartnershipKind

OPPORTUNITY_SIGMA = 0.6
"""Spread of an outside opportunity's log value: ``V_o = opportunity_value exp(0.6 z - 0.18)``
(log-normal with mean ``opportunity_value``; docs/ODD.md §7.14). An assumption."""

OPPORTUNITY_SHIFT = 0.18
"""``OPPORTUNITY_SIGMA ** 2 / 2``, written out (the draws keep their bits): the shift that makes
the opportunity's mean ``opportunity_value``."""

END_CAUSES: dict[PartnershipEndCause, str] = {
    "trust_floor": "trust fell below the floor: {kind} terminated",
    "missed_objectives": "objectives missed: {kind} terminated",
    "expired": "{kind} expired at the end of its term",
    "partner_defected": "partner learned enough and turned competitor",
    "partner_walked_away": "partner's priorities shifted: it walked away",
    "entrant_exited": "entrant left the market",
    "ended_by_entrant": "the entrant ended the {kind} at its review: going alone or leaving was worth more to it",
    "buyout_by_entrant": "JV bought out by the entrant",
    "buyout_by_partner": "JV bought out by the partner",
    "ipo": "JV floated in an IPO",
    "liquidation": "JV liquidated",
    "integration_failed": "integration of the acquired firm failed",
}
"""Why a partnership ends, with the event text for each."""

FAILURE_CAUSES: tuple[PartnershipEndCause, ...] = (
    "trust_floor",
    "missed_objectives",
    "ended_by_entrant",
    "partner_defected",
    "partner_walked_away",
    "entrant_exited",
)
"""End causes that count as a partnership failure, as does a JV whose exit route is
liquidation (docs/ODD.md, *Success and failure*). An alliance the entrant ends at a review
without being in trouble, because its way out is worth more, is a failure too: the goals of
the two firms have drifted apart (seed 004 names drifting goals beside broken trust)."""


def end_event(cause: str) -> str:
    """The event kind logged when a partnership ends for ``cause`` (``ended_<cause>``;
    ``ended_by_entrant`` as it is)."""
    return cause if cause.startswith("ended_") else f"ended_{cause}"


def failed(end_cause: PartnershipEndCause | None, exit_route: JvExitRoute | None) -> bool:
    """Whether a partnership ended in failure (docs/ODD.md §8)."""
    return end_cause in FAILURE_CAUSES or exit_route == "liquidation"


@dataclass
class Partnership:
    """A live or ended partnership. Money is in millions, time in months."""

    entrant: str
    partner: str
    kind: PartnershipKind
    start_month: int
    trust_entrant: float  # the entrant's trust in the partner
    trust_partner: float  # the partner's trust in the entrant
    fit: float  # cultural fit of the two firms, [0, 1]
    stake: float = 1.0  # entrant's equity share (JV)
    planned_end: int | None = None  # alliance term end or JV planned life end
    jv_start_month: int | None = None
    upgraded: bool = False
    jv_equity: float = 0.0  # equity the JV partners put in (set-up or formation cost)
    partner_know_how: float = 0.0  # what the partner has learned of the entrant's know-how
    delivered_entrant: float = 0.0
    delivered_partner: float = 0.0
    partner_cash_flow: float = 0.0  # partner's cumulative cash flow from the partnership
    partner_npv: float = 0.0  # partner's discounted cash flow to date
    end_month: int | None = None
    end_cause: PartnershipEndCause | None = None
    exit_route: JvExitRoute | None = None
    partner_flows: list = field(default_factory=list, repr=False)  # partner's monthly cash flow
    profit_share: float = 0.0  # partner's share of an alliance's gross profit (bargained)
    promised_partner: float = 0.0  # commitment the partner has promised (renegotiation can raise it)
    motivation: float = 1.0  # share of its promise the partner puts in (its quarterly commitment decision)
    quarter_entrant: float = 0.0  # delivered commitment summed over the current quarter
    quarter_partner: float = 0.0
    calm_until: int = 0  # no new trouble talks before this month
    renegotiations: int = 0
    forced_route: JvExitRoute | Literal[""] = ""  # a JV's chosen exit route at its planned end
    estimates_cache: dict = field(default_factory=dict, repr=False, compare=False)  # lifecycle.estimates, this month

    @property
    def active(self) -> bool:
        return self.end_month is None

    def months(self, now: int) -> int:
        return (self.end_month if self.end_month is not None else now) - self.start_month


def delivered_commitment(promised: float, noise: float, draw: float) -> float:
    """Share of promised resources delivered this month: ``clip(c + sd z, 0, 1)``."""
    return min(1.0, max(0.0, promised + noise * draw))


def cultural_fit(organisational_fit: float, cultural_distance: float) -> float:
    """Fit of entrant and partner: the partner's organisational fit, eroded by national
    cultural distance, ``fit = f / (1 + 0.1 CD)`` (Kogut & Singh: distance raises the cost
    of working together)."""
    return organisational_fit / (1.0 + 0.1 * cultural_distance)


def results_signal(share: float, target_share: float, month: int, target_month: int) -> float:
    """Share against the planned path to the target, in [-1, 1] (0 = on plan)."""
    planned = target_share * min(1.0, month / target_month)
    if planned <= 0:
        return 0.0
    return max(-1.0, min(1.0, share / planned - 1.0))


def know_how_gain(
    know_how: float, leak: float, absorptive_capacity: float, protection: float, entrant_delivered: float
) -> float:
    """Know-how the partner absorbs this month (Hamel's learning race):
    ``dK = leak * a * (1 - protection) * d_entrant * (1 - K)``."""
    return leak * absorptive_capacity * (1.0 - protection) * entrant_delivered * (1.0 - know_how)


def defection_hazard(know_how: float, entrant_learning: float, ambition: float, threshold: float) -> float:
    """Monthly chance an ambitious partner that won the learning race turns competitor.

    Zero until the partner's know-how passes the threshold and exceeds what the entrant has
    learned of the market; then ``0.1 * ambition``.
    """
    if know_how < threshold or know_how <= entrant_learning:
        return 0.0
    return 0.1 * ambition


def planned_jv_life(draw: float, life_min: int, life_max: int) -> int:
    """A JV's planned life in months, uniform on [min, max] (seed 004: 3 to 10 years)."""
    return int(life_min + math.floor(draw * (life_max - life_min + 1)))
