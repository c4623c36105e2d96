"""Bargaining between entrant and partner: the Nash (1950) solution over threat points.

Two sides share a joint value ``V``; each can walk away to its threat point (``d_e``, ``d_p``).
The generalised Nash solution gives each its threat point plus a share of the surplus
``S = V - d_e - d_p``, the partner taking ``beta`` of it, where ``beta`` is its bargaining
power. Bargaining power shifts to the side that has learned more and has better options
elsewhere (Inkpen & Beamish 1997; Yan & Gray 1994; Hamel 1991's learning race):
``beta = clip(beta0 + 0.5 (K_p - A_e) + 0.25 (o_p - 0.5), 0.05, 0.95)``. The weights of
that shift are this model's assumption.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def partner_power(
    base: float, partner_know_how: np.ndarray | float, entrant_learning: np.ndarray | float, outside_option: float
) -> np.ndarray | float:
    """The partner's bargaining power in [0.05, 0.95]."""
    beta = (
        base
        + 0.5 * (np.asarray(partner_know_how) - np.asarray(entrant_learning))
        + 0.25 * (np.asarray(outside_option) - 0.5)
    )
    return np.clip(beta, 0.05, 0.95)


def nash_split(
    value: np.ndarray | float, threat_entrant: np.ndarray | float, threat_partner: np.ndarray | float, beta: float
) -> tuple[np.ndarray | float, np.ndarray | float]:
    """(entrant's part, partner's part) of ``value``; with no surplus each gets its threat
    point scaled to what there is (no deal is better for somebody: the caller checks
    ``value >= threat_entrant + threat_partner`` first)."""
    v, de, dp = (np.asarray(x, dtype=float) for x in (value, threat_entrant, threat_partner))
    surplus = v - de - dp
    partner = dp + np.asarray(beta) * surplus
    return v - partner, partner


def jv_stake(
    venture_value: float, threat_entrant: float, threat_partner: float, beta: float, cap: float, floor: float = 0.05
) -> float:
    """The entrant's equity stake in a JV: its Nash share of the venture's value, within the
    foreign-ownership cap (and at least ``floor``). A non-positive value gives the midpoint."""
    if venture_value <= 0:
        return float(min(cap, 0.5))
    entrant, _ = nash_split(venture_value, threat_entrant, threat_partner, beta)
    return float(np.clip(entrant / venture_value, floor, min(cap, 1.0 - floor)))


def profit_share(
    gross_margin_value: float, threat_entrant: float, threat_partner: float, beta: float, lo: float, hi: float
) -> float:
    """An alliance's profit share for the partner: its Nash part of the alliance's gross margin,
    within [lo, hi]. A non-positive margin leaves the share at ``lo`` (nothing to split)."""
    if gross_margin_value <= 0:
        return float(lo)
    _, partner = nash_split(gross_margin_value, threat_entrant, threat_partner, beta)
    return float(np.clip(partner / gross_margin_value, lo, hi))


def buyout(stake_sold: float, seller_value: float, buyer_value: float, seller_power: float) -> tuple[bool, float]:
    """Whether a buyout happens and at what price.

    The seller holds ``stake_sold`` of a venture it values at ``seller_value`` (whole); the
    buyer values the whole at ``buyer_value``. A trade happens only if the buyer values it
    more; the price is the seller's reservation plus its power's share of the gain from trade:
    ``P = sigma (V_s + beta_s (V_b - V_s))``.
    """
    if buyer_value <= seller_value:
        return False, 0.0
    vs = max(0.0, seller_value)
    return True, float(stake_sold * (vs + seller_power * (buyer_value - vs)))


def outside_option_split(
    value: float,
    status_quo_entrant: float,
    status_quo_partner: float,
    outside_entrant: float,
    outside_partner: float,
    beta: float,
) -> float | None:
    """The partner's part of ``value`` when a contract in force is renegotiated: the
    outside-option principle (Binmore, Rubinstein & Wolinsky 1986). The Nash split over the
    status quo (``partner = q_p + beta (V - q_e - q_p)``: the talks split what they add), unless
    a side's way out is worth more than that split: the way out then binds and that side gets
    exactly it, the other the rest. None when ``value`` is below the two ways out together
    (no deal beats breaking up). A way out is not a threat point: it only bounds the split."""
    if value < outside_entrant + outside_partner:
        return None
    nash = status_quo_partner + beta * (value - status_quo_entrant - status_quo_partner)
    return float(min(max(nash, outside_partner), value - outside_entrant))


def _bisect(ok: Callable[[float], bool], good: float, bad: float, tol: float) -> float:
    """The point nearest ``bad`` between ``good`` (where ``ok`` holds) and ``bad`` (where it
    does not) at which ``ok`` still holds, within ``tol`` (``ok`` changes once between them)."""
    while abs(bad - good) > tol:
        mid = 0.5 * (good + bad)
        if ok(mid):
            good = mid
        else:
            bad = mid
    return float(good)


def share_to_keep(
    entrant_value: Callable[[float], float], entrant_threat: float, share: float, lo: float, tol: float = 1e-4
) -> float | None:
    """The highest profit share in [``lo``, ``share``] at which carrying on is worth at least
    ``entrant_threat`` to the entrant (``entrant_value(phi)``, falling in ``phi``): what a
    partner concedes to keep an entrant whose way out binds (the outside-option principle: the
    entrant gets its way out, the partner keeps the rest). None when even ``lo`` is not enough.
    Bisection; the share returned errs on the entrant's side by at most ``tol``."""
    if entrant_value(share) >= entrant_threat:
        return float(share)
    if entrant_value(lo) < entrant_threat:
        return None
    return _bisect(lambda phi: entrant_value(phi) >= entrant_threat, lo, share, tol)


def share_giving(
    partner_value: Callable[[float], float], target: float, lo: float, hi: float, tol: float = 1e-4
) -> float:
    """The lowest profit share in [``lo``, ``hi``] at which the partner's value of the alliance
    (``partner_value(phi)``, rising in ``phi``, at its own cost of capital) reaches ``target``:
    the share that pays a side its bargained part exactly, with each side's value computed as
    it discounts (a share solved on one side's discounting would pay the other too little).
    ``lo`` or ``hi`` when the target lies outside what the bounds can pay."""
    if partner_value(lo) >= target:
        return float(lo)
    if partner_value(hi) < target:
        return float(hi)
    return _bisect(lambda phi: partner_value(phi) >= target, hi, lo, tol)
