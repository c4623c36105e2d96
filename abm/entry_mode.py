"""How an entrant picks its entry mode and its local partner.

Both are rules of thumb of a boundedly rational manager, documented in docs/ODD.md
(*Entry-mode choice*, *Partner selection*), not optimisations over the simulation itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from abm import licensing
from abm.partnership import cultural_fit
from abm.scenario import ENTRY_MODES, Entrant, Partner, Scenario


def partner_attractiveness(partner: Partner, cultural_distance: float) -> float:
    """``A = 0.3 knowledge + 0.3 reach + 0.2 ties + 0.2 fit``, in [0, 1].

    The four things a local partner brings (seed 000: consumer preferences, distribution,
    regulatory insight) plus how well the two firms will work together.
    """
    fit = cultural_fit(partner.cultural_fit, cultural_distance)
    return (
        0.3 * partner.consumer_knowledge + 0.3 * partner.distribution_reach + 0.2 * partner.regulatory_ties + 0.2 * fit
    )


@dataclass
class ModeAppraisal:
    """An entrant's rough appraisal of one entry mode (money in millions)."""

    mode: str
    feasible: bool
    reason: str
    outlay: float
    expected_value: float
    risk: float
    score: float


def _licence_months(scenario: Scenario, entrant: Entrant, ties: float) -> float:
    months = [
        licensing.mean_processing_months(r.processing_months, r.stringency, ties, r.tie_speedup)
        for r in scenario.regulators
    ]
    return max(months, default=0.0)


def jv_stake(scenario: Scenario, entrant: Entrant) -> float:
    """The entrant's JV stake: what it wants, cut to the strictest foreign-ownership cap."""
    cap = min((r.foreign_ownership_cap for r in scenario.regulators), default=1.0)
    return min(entrant.jv_stake, cap)


def mode_outlay(scenario: Scenario, entrant: Entrant, mode: str, partner: Partner | None) -> float:
    """Cash the entrant puts in at entry under each mode."""
    c = scenario.contract
    if mode == "alone":
        return entrant.setup_cost
    if mode == "alliance":
        return entrant.setup_cost * (1.0 - c.alliance_setup_saving)
    if mode == "joint_venture":
        return jv_stake(scenario, entrant) * jv_setup_cost(scenario, entrant)
    return (partner.acquisition_price if partner else 0.0) + entrant.setup_cost * (1.0 - c.alliance_setup_saving)


def jv_setup_cost(scenario: Scenario, entrant: Entrant) -> float:
    """Set-up cost of a JV entity, shared by the partners' equity in proportion to stake."""
    c = scenario.contract
    return entrant.setup_cost * (1.0 - c.jv_setup_saving) + c.jv_formation_cost


def appraise_modes(
    scenario: Scenario, entrant: Entrant, partner: Partner | None, cultural_distance: float
) -> list[ModeAppraisal]:
    """Expected value and risk of each mode over the appraisal horizon.

    Expected value: the monthly profit at the target share, scaled by the reach, product fit
    and selling months each mode gives, plus the going-concern value at the horizon, times
    the entrant's part of it, less the outlay. Risk: the value at stake in a partnership
    failure (alliance, JV), an integration failure (acquisition, rising with cultural
    distance as Kogut & Singh found) or a slow solo launch, plus capital strain
    ``outlay^2 / capital``. Rule of thumb (seed 004): a small firm (capital below
    ``small_firm_capital``) does not tie up equity in a JV or acquisition unless a local
    entity is required, so it leans to the alliance.
    """
    m, c, mc = scenario.market, scenario.contract, scenario.mode_choice
    horizon = mc.horizon_months
    at_target = entrant.target_share * m.buyers * (entrant.price - entrant.unit_cost) / 1e6
    fixed = entrant.operating_cost + entrant.marketing
    cap = min((r.foreign_ownership_cap for r in scenario.regulators), default=1.0)
    local_needed = any(r.requires_local_entity for r in scenario.regulators)
    out = []
    for mode in ENTRY_MODES:
        p = partner if mode != "alone" else None
        ties = p.regulatory_ties if p else 0.0
        knowledge = p.consumer_knowledge if p else 0.0
        reach_partner = p.distribution_reach if p else 0.0
        licence = _licence_months(scenario, entrant, ties)
        own_share = 0.5 if mode in ("alliance", "joint_venture") else 1.0
        reach = 1 - (1 - entrant.own_reach * own_share * 0.5) * (1 - reach_partner)
        fit = math.exp(-0.15 * cultural_distance * (1.0 - knowledge))
        selling = max(0.0, horizon - licence)
        keep = {
            "alone": 1.0,
            "alliance": 1.0 - (p.profit_share if p else 0.0),
            "joint_venture": jv_stake(scenario, entrant),
            "acquisition": 1.0,
        }[mode]
        outlay = mode_outlay(scenario, entrant, mode, p)
        monthly = at_target * reach * fit - fixed
        going_concern = c.valuation_multiple * 12 * max(0.0, monthly)  # value at the horizon
        ev = (monthly * selling + going_concern) * keep - outlay
        stake_value = max(at_target * reach * selling * keep, 1e-9)
        fail = {
            "alone": 0.25 * (1.0 - math.exp(-0.3 * cultural_distance)),
            "alliance": 0.35,
            "joint_venture": 0.30,
            "acquisition": 1.0 - math.exp(-c.integration_risk * cultural_distance * 24),
        }[mode]
        risk = math.sqrt(fail * (1.0 - fail)) * stake_value
        risk += outlay * outlay / max(entrant.capital, 1e-9)
        feasible, reason = True, ""
        foreign_equity = jv_stake(scenario, entrant) if mode == "joint_venture" else 1.0
        if mode != "alone" and p is None:
            feasible, reason = False, "no partner available"
        why = licensing.eligibility(mode, foreign_equity, local_needed, cap)
        if feasible and why:
            feasible, reason = False, why
        if feasible and outlay > entrant.capital:
            feasible, reason = False, f"outlay {outlay:.1f} exceeds capital {entrant.capital:.1f}"
        small = entrant.capital < mc.small_firm_capital
        if feasible and small and mode in ("joint_venture", "acquisition") and not (local_needed or cap < 1.0):
            feasible, reason = False, "a small firm does not tie up equity in a local entity unless it must"
        score = ev - mc.risk_aversion * risk if feasible else -math.inf
        out.append(ModeAppraisal(mode, feasible, reason, outlay, ev, risk, score))
    return out


def choose_mode(appraisals: list[ModeAppraisal]) -> ModeAppraisal | None:
    """The feasible mode with the best score (risk-adjusted expected value), or None."""
    feasible = [a for a in appraisals if a.feasible]
    return max(feasible, key=lambda a: a.score) if feasible else None
