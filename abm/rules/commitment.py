"""The partner's commitment: how much of its promise it puts into a partnership, chosen by value.

Each quarter the local partner chooses its effort level ``m`` (the share of its promise it
delivers) among cutting it, holding it and raising it by ``STEP`` within [``LOWEST``, 1].
It values each level from what it observes (docs/ODD.md §7.7):

- its monthly payoff at that level: its part of the venture's gross margin on the share its
  channels help to reach, less its service cost (which grows with the effort) and the
  margin its own brand loses to the entrant's (diversion in proportion to its brand's share);
- how the entrant will read that effort: the entrant's trust settles near the share of its
  promise the partner delivers, less the gap to what the entrant itself delivers (which the
  partner expects from its own trust in the entrant), :func:`trust_seen`;
- the chance the entrant ends a partnership it distrusts, a monthly hazard
  ``h = (1 - T*) / 12`` (:func:`breakup_hazard`), after which the partner falls back on its
  outside option.

``V(m) = pi(m) A(H, r, h) + d_p h / (1 - h) A(H, r, h)`` where ``A`` is the annuity of a
flow that survives each month with ``1 - h`` (:func:`survival_annuity`) and ``d_p`` the value
of the partner's outside option. A partner whose payoff is poor, whose outside option is good
or who distrusts the entrant cuts; one that gains from the venture raises (reciprocity and
forbearance: Buckley & Casson 1988; Das & Teng 1998). The forms are this model's assumptions.
:func:`value` is written on numpy arrays (one call values every level);
:func:`value_of_levels`, the one the simulation calls, is the same arithmetic on Python floats
(bit for bit: tests/test_perf4f_floats.py).
"""

from __future__ import annotations

import numpy as np

STEP = 0.15
"""How much one quarter's cut or raise changes the share of its promise the partner delivers."""
LOWEST = 0.4
"""The least share of its promise a partner still in the partnership delivers."""


def levels(current: float) -> dict[str, float]:
    """The options of the quarter: ``hold`` first (a tie keeps the level), then ``cut`` and
    ``raise`` when they change it."""
    out = {"hold": float(current)}
    if current - STEP >= LOWEST - 1e-9:
        out["cut"] = round(current - STEP, 10)
    elif current > LOWEST + 1e-9:
        out["cut"] = LOWEST
    if current + STEP <= 1.0 + 1e-9:
        out["raise"] = round(current + STEP, 10)
    elif current < 1.0 - 1e-9:
        out["raise"] = 1.0
    return out


def trust_seen(delivered: np.ndarray | float, entrant_delivery: float, results: float) -> np.ndarray | float:
    """The trust the entrant settles at when the partner delivers ``delivered``: the trust
    observation of docs/ODD.md §7.12 without its noise and friction,
    ``T* = clip(d - max(0, d_e - d) + 0.2 results, 0, 1)``."""
    d = np.asarray(delivered, dtype=float)
    return np.clip(d - np.maximum(0.0, entrant_delivery - d) + 0.2 * results, 0.0, 1.0)


def breakup_hazard(trust: np.ndarray | float) -> np.ndarray | float:
    """Monthly chance the entrant ends a partnership it trusts ``T``: ``(1 - T) / 12``."""
    return (1.0 - np.asarray(trust, dtype=float)) / 12.0


def survival_annuity(months: float, annual_rate: float, hazard: np.ndarray | float) -> np.ndarray | float:
    """Present value of 1 a month for ``months`` months while the partnership survives each
    month with ``1 - hazard``: ``sum_t (v (1 - h))^t`` with ``v = (1 + r)^(-1/12)``."""
    v = (1.0 + annual_rate) ** (-1.0 / 12.0)
    q = v * (1.0 - np.asarray(hazard, dtype=float))
    n = float(months)
    return np.where(q < 1.0, q * (1.0 - q**n) / np.where(q < 1.0, 1.0 - q, 1.0), n)


def value(
    flow: np.ndarray | float, months: float, annual_rate: float, hazard: np.ndarray | float, fallback: float
) -> np.ndarray | float:
    """``V = pi A + d_p h / (1 - h) A``: the payoff while the partnership lasts plus the
    outside option ``fallback`` once the entrant ends it (``A``: :func:`survival_annuity`)."""
    h = np.asarray(hazard, dtype=float)
    a = survival_annuity(months, annual_rate, h)
    return np.asarray(flow) * a + fallback * h / np.maximum(1.0 - h, 1e-9) * a


def value_of_levels(
    delivered: list[float],
    flows: list[float],
    entrant_delivery: float,
    results: float,
    months: float,
    annual_rate: float,
    fallback: float,
) -> list[float]:
    """:func:`value` of each level, with the hazard of :func:`breakup_hazard` at
    :func:`trust_seen`, on Python floats for the few levels of a quarter: the same operations
    in the same order, so the same bits (IEEE arithmetic is the same on floats and float64
    arrays; ``np.clip`` and ``np.maximum`` pick as the comparisons below do for numbers), the
    power staying numpy's, called on all levels at once (numpy's SIMD power may differ from
    the C library's in the last bit)."""
    hazards = []
    for d in delivered:
        gap = entrant_delivery - d
        seen = d - (0.0 if gap <= 0.0 else gap) + 0.2 * results
        seen = seen if seen > 0.0 else 0.0
        seen = seen if seen < 1.0 else 1.0
        hazards.append((1.0 - seen) / 12.0)
    v = (1.0 + annual_rate) ** (-1.0 / 12.0)
    q = [v * (1.0 - h) for h in hazards]
    n = float(months)
    q_n = (np.array(q) ** n).tolist()
    out = []
    for flow, h, q_k, q_kn in zip(flows, hazards, q, q_n, strict=True):
        a = q_k * (1.0 - q_kn) / (1.0 - q_k) if q_k < 1.0 else n
        rest = 1.0 - h
        out.append(flow * a + fallback * h / (rest if rest >= 1e-9 else 1e-9) * a)
    return out
