"""Incumbents' quarterly best response in price and marketing, on a perceived nested logit.

What an incumbent observes: its own share of the market ``s`` and the share of consumers
who buy any brand ``S`` (its sales and the category's, from market research), its price
``p``, unit cost ``c`` and marketing ``m``. What it believes (docs/ODD.md §7.10):

* Demand is the nested logit of :mod:`abm.rules.demand` with the market's nesting parameter
  ``lam``; its own mean utility moves with price and marketing as
  ``dv = -alpha (p - p_ref) + gamma ln(m / m_ref)`` while rivals' utilities stay as they are
  (a Nash best response: rivals' current offers are taken as given).
* ``alpha`` and ``gamma`` are revealed by its own pre-entry choices: the status quo it chose
  before the entrant sold was optimal for it (the inverse-elasticity rule for price, Lerner;
  the Dorfman-Steiner 1954 condition for marketing). With ``B = 1/lam - (1/lam - 1) s/S - s``
  (Berry 1994), ``alpha = 1 / ((p0 - c) B0)`` and ``gamma = m0 / ((p0 - c) N s0 B0)``.

Each review it computes the profit-maximising ``(p*, m*)`` on this demand (price never below
unit cost, sales never above its capacity) and revises only if the profit gained over the
planning horizon exceeds the cost of a revision (a menu cost, Sheshinski & Weiss 1977;
Levy et al. 1997): so small changes in its market leave it where it is, and repeated share
losses move it again. Every function works on arrays with one entry per incumbent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from abm.rules.demand import own_share_slope

REVIEW_MONTHS = 3
"""Months between an incumbent's reviews of its price and marketing (quarterly)."""

PLANNING_MONTHS = 12
"""Months over which a revision's profit gain is counted against its cost (an assumption:
an annual plan)."""

REACTION_SIZE = 0.01
"""A revision counts as a reaction when it moves price or marketing by more than 1 %."""


@dataclass
class PerceivedDemand:
    """An incumbent's demand model, calibrated on its pre-entry status quo (arrays or floats)."""

    alpha: np.ndarray  # utility lost per currency unit of price
    gamma: np.ndarray  # utility gained per log unit of marketing
    unit_cost: np.ndarray  # currency per buyer-month
    buyers: float  # real buyers in the market
    lam: float  # nesting parameter of the brands' nest
    max_share: np.ndarray  # capacity, as a share of the whole market


def calibrate(price, unit_cost, marketing, share, inside_share, buyers: float, lam: float, capacity) -> PerceivedDemand:
    """The ``alpha`` and ``gamma`` that make ``(price, marketing)`` optimal at ``share``.

    ``capacity`` is the most it can sell, as a multiple of ``share``.
    """
    price, unit_cost, marketing, share = (np.asarray(x, dtype=float) for x in (price, unit_cost, marketing, share))
    slope = own_share_slope(share, inside_share, lam)
    margin = price - unit_cost
    alpha = 1.0 / (margin * slope)
    gamma = marketing * 1e6 / (margin * buyers * share * slope)
    return PerceivedDemand(alpha, gamma, unit_cost, buyers, lam, np.asarray(capacity, dtype=float) * share)


def stack(demands: list[PerceivedDemand]) -> PerceivedDemand:
    """Several firms' demand models as one, for a vectorised best response (same market)."""

    def column(field: str) -> np.ndarray:
        return np.array([float(getattr(d, field)) for d in demands])

    return PerceivedDemand(
        alpha=column("alpha"),
        gamma=column("gamma"),
        unit_cost=column("unit_cost"),
        buyers=demands[0].buyers,
        lam=demands[0].lam,
        max_share=column("max_share"),
    )


def shifted_shares(shift, share, inside_share, lam: float) -> tuple[np.ndarray, np.ndarray]:
    """Own share and the brands' total share after its mean utility moves by ``shift``,
    rivals' utilities unchanged.

    From the observed ``share`` and ``inside_share``: ``D^lam = S / (1 - S)``, own weight
    ``e = D s / S``; after the shift ``e' = e exp(shift)``, ``D' = D - e + e'``,
    ``S' = D'^lam / (1 + D'^lam)`` and ``s' = S' e' / D'``.
    """
    share = np.asarray(share, dtype=float)
    inside_share = np.asarray(inside_share, dtype=float)
    d = np.power(inside_share / (1.0 - inside_share), 1.0 / lam)
    own = d * share / inside_share
    own_new = own * np.exp(np.asarray(shift, dtype=float))
    d_new = d - own + own_new
    inside_new = np.power(d_new, lam)
    inside_new = inside_new / (1.0 + inside_new)
    return own_new / d_new * inside_new, inside_new


def _shift(demand: PerceivedDemand, price, marketing, ref_price, ref_marketing):
    """Own utility shift of moving from ``(ref_price, ref_marketing)`` to ``(price, marketing)``."""
    ref_marketing = np.asarray(ref_marketing, dtype=float)
    has = ref_marketing > 0
    ratio = np.where(has, np.asarray(marketing, dtype=float), 1.0) / np.where(has, ref_marketing, 1.0)
    return -demand.alpha * (np.asarray(price, dtype=float) - ref_price) + demand.gamma * np.log(ratio)


def monthly_profit(demand: PerceivedDemand, price, marketing, share, inside_share, ref_price, ref_marketing):
    """Perceived monthly profit (millions) at ``(price, marketing)``, from what was observed
    at ``(ref_price, ref_marketing)``: ``(p - c) N s'(p, m) / 1e6 - m``."""
    s, _ = shifted_shares(_shift(demand, price, marketing, ref_price, ref_marketing), share, inside_share, demand.lam)
    return (np.asarray(price) - demand.unit_cost) * demand.buyers * s / 1e6 - np.asarray(marketing)


def best_response(demand: PerceivedDemand, share, inside_share, price, marketing, use_price, use_marketing):
    """The perceived profit-maximising ``(price, marketing)``, from the current offer.

    The first-order conditions are ``p = c + 1 / (alpha B)`` and
    ``m = gamma (p - c) N s' B / 1e6`` (``B`` the own-share slope of
    :func:`abm.rules.demand.own_share_slope` at the new shares ``s'``, ``S'``). Both depend
    on the offer only through the firm's own utility shift ``x``, so they are solved as one
    equation ``x = -alpha (p(x) - p) + gamma ln(m(x) / m)`` by the secant method. An instrument
    the firm does not use stays where it is. If the optimum would sell beyond capacity, the
    price rises until it does not (marketing as at the optimum).
    """
    fast = _best_response_floats(demand, share, inside_share, price, marketing, use_price, use_marketing)
    if fast is not None:
        return fast
    return _best_response_arrays(demand, share, inside_share, price, marketing, use_price, use_marketing)


def _best_response_floats(demand: PerceivedDemand, share, inside_share, price, marketing, use_price, use_marketing):
    """:func:`_best_response_arrays` firm by firm on Python floats, for a few firms (a review
    has two or three): the same operations in the same order, so the same bits (IEEE
    arithmetic is the same on floats and float64 arrays); ``exp``, ``log`` and powers stay
    numpy's, called on all firms at once (numpy's SIMD versions differ from the C library's in
    the last bit). None where it does not apply (other shapes, a division by zero, capacity
    binding): the array form then decides, with its warnings and its ``inf`` and ``nan``."""
    columns = _per_firm(
        share,
        inside_share,
        price,
        marketing,
        use_price,
        use_marketing,
        demand.alpha,
        demand.gamma,
        demand.unit_cost,
        flags=(4, 5),
    )
    solved = None if columns is None else _solve_floats(demand, columns)
    if solved is None:
        return None
    return np.array(solved[0]), np.array(solved[1])


def _inside_odds(inside: list[float], lam: float) -> list[float]:
    """``D = (S / (1 - S))^(1 / lam)`` of each firm's observed brands' share (numpy's power)."""
    return np.power(np.array([i / (1.0 - i) for i in inside]), 1.0 / lam).tolist()


def _solve_floats(demand: PerceivedDemand, columns: list[list]) -> tuple[list[float], list[float], list[float]] | None:
    """The secant solution of :func:`_best_response_floats` on its per-firm columns:
    ``(new price, new marketing, D)``, or None (a division by zero, capacity binding)."""
    share_, inside_, price_, marketing_, use_p, use_m, alpha_, gamma_, cost_ = columns
    n = len(share_)
    firms = range(n)
    lam, buyers = demand.lam, demand.buyers
    nested = lam != 1.0
    one_less = 1.0 - lam
    try:
        d = _inside_odds(inside_, lam)
        own = [d[k] * share_[k] / inside_[k] for k in firms]
        other = [d[k] - own[k] for k in firms]
        margin_now = [price_[k] - cost_[k] for k in firms]
        # per firm: (alpha, gamma, own weight, others' weight, margin now, price used, marketing
        # reach, 1 where marketing is not used)
        firm = [
            (
                alpha_[k],
                gamma_[k],
                own[k],
                other[k],
                margin_now[k],
                use_p[k],
                gamma_[k] * buyers / 1e6 / marketing_[k] if use_m[k] and marketing_[k] > 0 else 0.0,
                0.0 if use_m[k] and marketing_[k] > 0 else 1.0,
            )
            for k in firms
        ]

        def offer(x: list[float]) -> tuple[list[float], list[float], list[float]]:
            grow = np.exp(np.array(x)).tolist()
            e = [f[2] * g for f, g in zip(firm, grow, strict=True)]
            d_new = [f[3] + e_k for f, e_k in zip(firm, e, strict=True)]
            inside_new = (np.array(d_new) ** lam).tolist() if nested else d_new
            margin, ratio, s_new = [], [], []
            for f, e_k, d_k, i_k in zip(firm, e, d_new, inside_new, strict=True):
                within = e_k / d_k
                s_k = i_k / (1.0 + i_k) * within
                slope = 1.0 - one_less * within - lam * s_k if nested else 1.0 - s_k
                m_k = 1.0 / (f[0] * slope) if f[5] else f[4]
                margin.append(m_k)
                ratio.append(f[6] * m_k * s_k * slope + f[7])
                s_new.append(s_k)
            return margin, ratio, s_new

        def gap(x: list[float]) -> list[float]:
            margin, ratio, _ = offer(x)
            log_ratio = np.log(np.array(ratio)).tolist()
            return [
                f[0] * (f[4] - m_k) + f[1] * lr - x_k
                for f, m_k, lr, x_k in zip(firm, margin, log_ratio, x, strict=True)
            ]

        x_old = [0.0] * n
        g_old = gap(x_old)
        x = g_old
        for _ in range(50):
            g = gap(x)
            dg = [a - b for a, b in zip(g, g_old, strict=True)]
            if 0.0 in dg:
                g = [0.0 if v == 0.0 else g_k for g_k, v in zip(g, dg, strict=True)]
                dg = [1.0 if v == 0.0 else v for v in dg]
            step = [g_k * (x_k - xo) / v for g_k, x_k, xo, v in zip(g, x, x_old, dg, strict=True)]
            x_old, g_old = x, g
            x = [x_k - s_k for x_k, s_k in zip(x, step, strict=True)]
            if all(-1e-8 < v < 1e-8 for v in step):
                break
        margin, ratio, s_new = offer(x)
    except ZeroDivisionError:
        return None
    if (np.array(s_new) > demand.max_share).any():  # capacity binds: the array form's bisection
        return None
    p = [cost_[k] + margin[k] for k in firms]
    new_price = [p_k if p_k >= c_k or p_k != p_k else c_k for p_k, c_k in zip(p, cost_, strict=True)]  # np.maximum
    return new_price, [ratio[k] * marketing_[k] for k in firms], d


def _best_response_arrays(demand: PerceivedDemand, share, inside_share, price, marketing, use_price, use_marketing):
    """The numpy form of :func:`best_response` (any shapes that broadcast)."""
    share, inside_share, price, marketing = (
        np.asarray(x, dtype=float) for x in (share, inside_share, price, marketing)
    )
    use_price = np.asarray(use_price, dtype=bool)
    use_marketing = np.asarray(use_marketing, dtype=bool) & (marketing > 0)
    lam, alpha, gamma, cost = demand.lam, demand.alpha, demand.gamma, demand.unit_cost
    d = np.power(inside_share / (1.0 - inside_share), 1.0 / lam)
    own = d * share / inside_share
    other = d - own
    margin_now = price - cost
    # the marketing first-order condition as m / m_now = reach (p - c) s' B', or 1 where unused
    reach = np.where(use_marketing, gamma * demand.buyers / 1e6 / np.where(use_marketing, marketing, 1.0), 0.0)
    keep = np.where(use_marketing, 0.0, 1.0)

    def offer(x):
        e = own * np.exp(x)
        d_new = other + e
        inside_new = d_new if lam == 1.0 else d_new**lam
        within = e / d_new
        s_new = inside_new / (1.0 + inside_new) * within
        slope = 1.0 - s_new if lam == 1.0 else 1.0 - (1.0 - lam) * within - lam * s_new
        margin = np.where(use_price, 1.0 / (alpha * slope), margin_now)
        return margin, reach * margin * s_new * slope + keep, s_new  # p - c, m / m_now, s'

    def gap(x):
        margin, ratio, _ = offer(x)
        return alpha * (margin_now - margin) + gamma * np.log(ratio) - x

    x_old = np.zeros_like(share)
    g_old = gap(x_old)
    x = g_old  # one fixed-point step, then secant steps (g is smooth and decreasing)
    for _ in range(50):
        g = gap(x)
        dg = g - g_old
        if not dg.all():  # converged entries: no step
            g = np.where(dg == 0.0, 0.0, g)
            dg = np.where(dg == 0.0, 1.0, dg)
        step = g * (x - x_old) / dg
        x_old, g_old = x, g
        x = x - step
        if np.abs(step).max() < 1e-8:  # utility units: prices to about 1e-7 currency
            break
    margin, ratio, s_new = offer(x)
    p = cost + margin
    m = ratio * marketing
    over = s_new > demand.max_share
    if over.any():  # capacity: find the shift that sells exactly capacity, by bisection
        lo, hi = np.full_like(x, -50.0), x.copy()
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            fits = shifted_shares(mid, share, inside_share, lam)[0] <= demand.max_share
            lo, hi = np.where(fits, mid, lo), np.where(fits, hi, mid)
        p = np.where(over, price + (gamma * np.log(ratio) - lo) / alpha, p)
    return np.maximum(p, cost), m


def _per_firm(*values, flags: tuple[int, ...] = ()) -> list[list] | None:
    """Each value as a list with one entry per firm (arrays along one axis, or one value for
    all, as numpy broadcasts them), as floats (``flags``: the positions of booleans); None
    for other shapes, no firm, or no array at all."""
    arrays = [np.asarray(v, dtype=bool if i in flags else float) for i, v in enumerate(values)]
    n = max(a.size for a in arrays)
    if not n or any(a.ndim > 1 or (a.ndim == 1 and a.size != n) for a in arrays) or all(a.ndim == 0 for a in arrays):
        return None
    return [a.tolist() if a.ndim else [a.item()] * n for a in arrays]


def revision_value(demand: PerceivedDemand, share, inside_share, price, marketing, new_price, new_marketing):
    """Perceived profit gained over ``PLANNING_MONTHS`` by moving to the new offer (at the
    current offer the perceived share is the observed one)."""
    fast = _revision_value_floats(demand, share, inside_share, price, marketing, new_price, new_marketing)
    if fast is not None:
        return fast
    now = (np.asarray(price, dtype=float) - demand.unit_cost) * demand.buyers * np.asarray(share) / 1e6 - marketing
    then = monthly_profit(demand, new_price, new_marketing, share, inside_share, price, marketing)
    return PLANNING_MONTHS * (then - now)


def _revision_value_floats(demand: PerceivedDemand, share, inside_share, price, marketing, new_price, new_marketing):
    """:func:`revision_value` (through :func:`monthly_profit`, :func:`_shift` and
    :func:`shifted_shares`) firm by firm on floats, as :func:`_best_response_floats` does:
    the same operations in the same order; None where the array form decides."""
    columns = _per_firm(
        share, inside_share, price, marketing, new_price, new_marketing, demand.alpha, demand.gamma, demand.unit_cost
    )
    if columns is None:
        return None
    gain = _gain_floats(demand, columns)
    return None if gain is None else np.array(gain)


def _gain_floats(demand: PerceivedDemand, columns: list[list], d: list[float] | None = None) -> list[float] | None:
    """:func:`_revision_value_floats` on its per-firm columns (``d``: :func:`_inside_odds`
    of the observed shares, if already known)."""
    share_, inside_, price_, marketing_, new_price_, new_marketing_, alpha_, gamma_, cost_ = columns
    firms = range(len(share_))
    lam, buyers = demand.lam, demand.buyers
    try:
        now = [(price_[k] - cost_[k]) * buyers * share_[k] / 1e6 - marketing_[k] for k in firms]
        ratio = [new_marketing_[k] / marketing_[k] if marketing_[k] > 0 else 1.0 for k in firms]
        log_ratio = np.log(np.array(ratio)).tolist()
        shift = [-alpha_[k] * (new_price_[k] - price_[k]) + gamma_[k] * log_ratio[k] for k in firms]
        if d is None:
            d = _inside_odds(inside_, lam)
        grow = np.exp(np.array(shift)).tolist()
        own = [d[k] * share_[k] / inside_[k] for k in firms]
        own_new = [own[k] * grow[k] for k in firms]
        d_new = [d[k] - own[k] + own_new[k] for k in firms]
        inside_new = np.power(np.array(d_new), lam).tolist()
        s_new = [own_new[k] / d_new[k] * (inside_new[k] / (1.0 + inside_new[k])) for k in firms]
        then = [(new_price_[k] - cost_[k]) * buyers * s_new[k] / 1e6 - new_marketing_[k] for k in firms]
    except ZeroDivisionError:
        return None
    return [PLANNING_MONTHS * (then[k] - now[k]) for k in firms]


def is_reaction(price, marketing, new_price, new_marketing) -> np.ndarray:
    """Whether a revision moves price or marketing by more than ``REACTION_SIZE``."""
    price, marketing = np.asarray(price, dtype=float), np.asarray(marketing, dtype=float)
    dp = np.abs(np.asarray(new_price) - price) > REACTION_SIZE * price
    dm = np.abs(np.asarray(new_marketing) - marketing) > REACTION_SIZE * np.maximum(marketing, 1e-12)
    return dp | dm


def review(
    demand: PerceivedDemand, share, inside_share, price, marketing, reactions
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One quarterly review of several incumbents: ``(new_price, new_marketing, gain)``.

    Each moves the instruments its ``reaction`` names ("price", "marketing", "mixed"; "none"
    moves neither) to its best response (:func:`best_response`); ``gain`` is the year's
    perceived profit gain of that move (:func:`revision_value`), which the caller weighs
    against the cost of a revision. The one rule behind the simulation's incumbents
    (``MarketEntryModel.incumbents_respond``) and the entrant's forecast of their answer
    (``abm.entry.answered_shares``)."""
    use_price = [k in ("price", "mixed") for k in reactions]
    use_marketing = [k in ("marketing", "mixed") for k in reactions]
    alpha, gamma, cost = demand.alpha, demand.gamma, demand.unit_cost
    columns = _per_firm(
        share, inside_share, price, marketing, use_price, use_marketing, alpha, gamma, cost, flags=(4, 5)
    )
    solved = None if columns is None else _solve_floats(demand, columns)
    if solved is not None:  # on floats (best_response's and revision_value's), the observed shares read once
        assert columns is not None
        new_p, new_m, d = solved
        gain = _gain_floats(demand, [*columns[:4], new_p, new_m, *columns[6:]], d)
        if gain is not None:
            return np.array(new_p), np.array(new_m), np.array(gain)
    new_price, new_marketing = best_response(demand, share, inside_share, price, marketing, use_price, use_marketing)
    gain = revision_value(demand, share, inside_share, price, marketing, new_price, new_marketing)
    return new_price, new_marketing, gain
