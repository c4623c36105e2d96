"""Nested-logit brand choice: the pure math behind ``ConsumerMarket.choose``.

Two nests: the outside option (buy nothing) alone, and every brand together (McFadden 1978).
With utilities ``v_j`` in logit units relative to the outside option (``u_j / s``, ``v_0 = 0``)
and nesting parameter ``lam`` in (0, 1]::

    D     = sum_k a_k exp(v_k)                  (a_k = 1 when brand k is available)
    P(j)  = a_j exp(v_j) / D  *  D^lam / (1 + D^lam)
    P(0)  = 1 / (1 + D^lam)

This is the nested logit with brand utilities ``V_j = lam v_j`` and dissimilarity ``lam``
(Berry 1994 writes ``sigma = 1 - lam`` and ``delta_j = lam v_j``): the choice among brands is
the multinomial logit of ``v`` whatever ``lam``, and ``lam`` is the elasticity of buying at all
with respect to the category's attractiveness ``D``. ``lam = 1`` is the multinomial logit: a
new brand draws on rivals and non-buyers in proportion to their shares. A smaller ``lam``
makes the decision to buy less responsive to what brands offer, so a new brand takes more of
its sales from rivals and fewer from non-buyers: ``lam`` is the scenario's *category
expansion* parameter (``market.category_expansion``). The functions work on arrays of any
leading shape (many consumers, many runs).
"""

from __future__ import annotations

import numpy as np


def inclusive_sum(v: np.ndarray, available: np.ndarray | None, lam: float) -> np.ndarray:
    """``D = sum_k a_k exp(v_k)`` over the last axis (``lam`` enters only through ``P(0)``)."""
    w = np.exp(np.asarray(v, dtype=float))
    if available is not None:
        w = w * np.asarray(available, dtype=bool)
    return w.sum(axis=-1)


def outside_weight(d: np.ndarray | float, lam: float) -> np.ndarray | float:
    """Weight of the outside option against brand weights ``exp(v_j)``: ``D^(1 - lam)``.

    Drawing option j with probability proportional to ``[D^(1-lam), w_1, ..., w_k]`` gives
    exactly the nested-logit probabilities above (``P(0) / P(j) = D^(1-lam) / w_j``); with
    ``lam = 1`` it is 1, the multinomial logit.
    """
    return np.power(d, 1.0 - lam)


def choice_probabilities(v: np.ndarray, available: np.ndarray | None = None, lam: float = 1.0):
    """Nested-logit probabilities.

    Args:
        v: (..., k) mean utilities in logit units, relative to buying nothing.
        available: (..., k) bool, brands in the consumer's choice set (all when None).
        lam: nesting parameter in (0, 1].

    Returns:
        ``(p_brands, p_outside)``: (..., k) and (...) arrays that sum to 1.
    """
    v = np.asarray(v, dtype=float)
    w = np.exp(v)
    if available is not None:
        w = w * np.asarray(available, dtype=bool)
    d = w.sum(axis=-1)
    inside = np.power(d, lam)
    p_outside = 1.0 / (1.0 + inside)
    with np.errstate(invalid="ignore", divide="ignore"):
        within = np.where(d[..., None] > 0, w / d[..., None], 0.0)
    return within * (inside * p_outside)[..., None], p_outside


def mean_utilities(shares: np.ndarray, outside_share: float, lam: float = 1.0) -> np.ndarray:
    """Berry's (1994) inversion: the mean utilities that produce observed market shares.

    ``lam v_j = ln(s_j / s_0) - (1 - lam) ln(s_j / (1 - s_0))``.
    """
    s = np.asarray(shares, dtype=float)
    inside = 1.0 - outside_share
    return (np.log(s / outside_share) - (1.0 - lam) * np.log(s / inside)) / lam


def own_share_slope(share: np.ndarray, inside_share: np.ndarray, lam: float) -> np.ndarray:
    """``d ln s_j / d v_j = 1 - (1 - lam) s_j|g - lam s_j``, with ``s_j|g = s_j / inside_share``
    the share within the brands' nest (Berry 1994's nested-logit derivative, times ``lam``)."""
    s = np.asarray(share, dtype=float)
    within = s / np.asarray(inside_share, dtype=float)
    return 1.0 - (1.0 - lam) * within - lam * s


def new_brand_sources(v_existing: np.ndarray, v_new: float, lam: float) -> float:
    """Share of a new brand's sales that come from non-buyers (the rest from rival brands).

    With the multinomial logit (``lam = 1``) a new brand draws from every option in
    proportion to its share (independence of irrelevant alternatives), so this is the
    outside option's share of the market; a smaller ``lam`` lowers it.
    """
    v_existing = np.asarray(v_existing, dtype=float)
    _, before = choice_probabilities(v_existing, None, lam)
    p_after, after = choice_probabilities(np.append(v_existing, v_new), None, lam)
    return float((before - after) / p_after[-1])
