"""The bare numpy kernel of the consumer update: awareness and choice on plain arrays.

No model around it: the brands' offer is fixed (static firms), nothing is recorded, no agent
acts. It is the floor that ``abm bench`` holds the whole model against
(``overhead_vs_numpy``), so it does the same monthly work as ``abm/consumers.py`` the same
way (brand-major float32 arrays, awareness by Poisson hits per neighbourhood, logit choice by
inverse CDF) minus what a changing market needs (chunks, caches, coverage updates).

``dense_month`` is the textbook vectorisation of the same update (one uniform number per
consumer and brand for awareness, one Gumbel shock per consumer and option for the choice,
``(n, brands)`` float arrays): the speed the model had before it was profiled, kept for
``speedup_vs_dense_numpy``.

Both read the market's parameters from an ``abm.scenario.Market`` and an offer given as
plain arrays (``StaticOffer``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class StaticOffer:
    """What each brand offers, every month alike; arrays of length n_brands."""

    on_sale: np.ndarray
    quality: np.ndarray
    price: np.ndarray
    position: np.ndarray
    loyalty: np.ndarray
    marketing_pull: np.ndarray  # Bass p per month
    coverage: np.ndarray  # (n_brands, n_regions)

    @classmethod
    def from_brand_offer(cls, offer) -> StaticOffer:
        """From an ``abm.consumers.BrandOffer`` (e.g. a model's ``brand_offer()``)."""
        return cls(
            *(
                np.array(getattr(offer, name), dtype=float if name != "on_sale" else bool)
                for name in ("on_sale", "quality", "price", "position", "loyalty", "marketing_pull", "coverage")
            )
        )


class Population:
    """Consumers as arrays, numbered by neighbourhood cell, with a static offer applied.

    Args:
        market: an ``abm.scenario.Market`` (its consumers, map and choice parameters).
        offer: the static offer.
        rng: numpy generator.
    """

    def __init__(self, market, offer: StaticOffer, rng: np.random.Generator):
        n, f = market.consumers, len(offer.quality)
        self.market, self.offer, self.rng, self.n, self.f = market, offer, rng, n, f
        xy = rng.random((n, 2))
        k = market.neighbourhoods
        cell = np.minimum((xy[:, 1] * k).astype(np.int64), k - 1) * k + np.minimum(
            (xy[:, 0] * k).astype(np.int64), k - 1
        )
        order = np.argsort(cell, kind="stable")
        xy, self.cell = xy[order], cell[order]
        rx = np.minimum((xy[:, 0] * market.regions_x).astype(np.int64), market.regions_x - 1)
        ry = np.minimum((xy[:, 1] * market.regions_y).astype(np.int64), market.regions_y - 1)
        self.region = ry * market.regions_x + rx
        self.cell_start = np.flatnonzero(np.r_[True, self.cell[1:] != self.cell[:-1]])
        self.cell_size = np.diff(np.r_[self.cell_start, n])
        s = market.choice_noise
        taste = rng.normal(0.0, market.taste_spread, n)
        sigma = market.price_sensitivity_spread
        beta = (market.price_sensitivity / market.reference_price) * rng.lognormal(-0.5 * sigma * sigma, sigma, n)
        self.taste, self.beta = taste, beta
        rank = rng.random((f, n), dtype=np.float32)
        self.rank = rank
        self.covered = rank < offer.coverage[:, self.region].astype(np.float32)
        self.aware = np.zeros((f, n), dtype=bool)
        self.last = np.full(n, -1, dtype=np.int8)
        # static offer: the logit weight exp((u_j - u_0) / s) of each brand without loyalty
        fit = (taste[None, :] - offer.position[:, None]) ** 2 * market.fit_weight
        utility = offer.quality[:, None] - fit - beta[None, :] * offer.price[:, None] - market.no_purchase_utility
        self.appeal = np.exp(utility / s).astype(np.float32) * offer.on_sale[:, None]
        self.loyalty_factor = np.expm1(market.switching_cost * offer.loyalty / s).astype(np.float32)[:, None]
        self.brand_ids = np.arange(f, dtype=np.int8)[:, None]

    def seed_brand(self, brand: int, share: float, awareness: float) -> None:
        """Incumbent-like start: aware covered consumers and a share of customers."""
        covered = self.covered[brand]
        self.aware[brand] |= covered & (self.rng.random(self.n) < awareness)
        free = np.flatnonzero(covered & (self.last < 0))
        chosen = self.rng.choice(free, size=min(len(free), round(share * self.n)), replace=False)
        self.last[chosen] = brand
        self.aware[brand, chosen] = True


def month(pop: Population) -> np.ndarray:
    """One month of awareness and choice; returns customers per brand."""
    m, o, rng, n = pop.market, pop.offer, pop.rng, pop.n
    # awareness: Poisson hits over the unaware, one rate per (brand, cell)
    aware_in = np.add.reduceat(pop.aware.view(np.uint8), pop.cell_start, axis=1, dtype=np.int64)
    w = m.local_word_of_mouth
    neighbours = w * aware_in / pop.cell_size + (1.0 - w) * aware_in.sum(axis=1, keepdims=True) / n
    rate = (o.marketing_pull[:, None] + (m.bass_q / 12.0) * neighbours) * o.on_sale[:, None]
    unaware_in = pop.cell_size - aware_in
    length = (rate * unaware_in).ravel()
    ends = np.cumsum(length)
    hits = rng.poisson(ends[-1]) if ends[-1] > 0 else 0
    if hits:
        at = rng.random(hits) * ends[-1]
        run = np.searchsorted(ends, at, side="right")
        at, run = at[run < len(ends)], run[run < len(ends)]
        within = np.floor((at - ends[run] + length[run]) / rate.ravel()[run]).astype(np.int64)
        counts = unaware_in.ravel()
        rank = (np.cumsum(counts) - counts)[run] + np.clip(within, 0, counts[run] - 1)
        brand, consumer = np.divmod(np.flatnonzero(~pop.aware)[rank], n)
        pop.aware[brand, consumer] = True
    # choice: logit weights, cumulative from the outside option, one uniform per consumer
    weight = np.empty((pop.f + 1, n), dtype=np.float32)
    weight[0] = 1.0
    np.multiply(pop.appeal, pop.covered & pop.aware, out=weight[1:])
    loyal = np.multiply(pop.last == pop.brand_ids, pop.loyalty_factor)
    loyal += 1.0
    weight[1:] *= loyal
    for j in range(1, pop.f + 1):
        weight[j] += weight[j - 1]
    x = rng.random(n, dtype=np.float32) * weight[-1]
    below = weight[:-1] < x
    np.subtract(below.sum(axis=0, dtype=np.int8), 1, out=pop.last)
    return np.bincount(pop.last.astype(np.intp) + 1, minlength=pop.f + 1)[1:]


def dense_month(pop: Population) -> np.ndarray:
    """The same month, textbook-vectorised: (n, brands) arrays, a draw per consumer and brand."""
    m, o, rng, n, f = pop.market, pop.offer, pop.rng, pop.n, pop.f
    aware = pop.aware.T
    counts = np.bincount(
        (pop.cell[:, None] * f + np.arange(f)).ravel(),
        weights=aware.ravel().astype(np.float64),
        minlength=m.neighbourhoods**2 * f,
    ).reshape(-1, f)
    local = counts / np.maximum(np.bincount(pop.cell, minlength=m.neighbourhoods**2), 1)[:, None]
    w = m.local_word_of_mouth
    neighbours = w * local[pop.cell] + (1.0 - w) * aware.mean(axis=0)[None, :]
    hazard = -np.expm1(-(o.marketing_pull[None, :] + (m.bass_q / 12.0) * neighbours))
    gained = ~aware & (rng.random((n, f), dtype=np.float32) < hazard) & o.on_sale[None, :]
    pop.aware |= gained.T
    avail = (pop.covered & pop.aware).T & o.on_sale[None, :]
    utility = (
        o.quality[None, :]
        - m.fit_weight * (pop.taste[:, None] - o.position[None, :]) ** 2
        - pop.beta[:, None] * o.price[None, :]
    )
    loyal = np.flatnonzero(pop.last >= 0)
    utility[loyal, pop.last[loyal]] += m.switching_cost * o.loyalty[pop.last[loyal]]
    utility += m.choice_noise * _gumbel(rng, (n, f))
    utility[~avail] = -np.inf
    best = utility.argmax(axis=1)
    outside = m.no_purchase_utility + m.choice_noise * _gumbel(rng, n)
    pop.last = np.where(utility[np.arange(n), best] > outside, best, -1).astype(np.int8)
    return np.bincount(pop.last.astype(np.intp) + 1, minlength=f + 1)[1:]


def _gumbel(rng: np.random.Generator, shape) -> np.ndarray:
    u = np.clip(rng.random(shape, dtype=np.float32), 1e-7, 1.0 - 6e-8)
    return -np.log(-np.log(u))


def simulate(
    market,
    offer: StaticOffer,
    months: int,
    *,
    seed: int = 0,
    dense: bool = False,
    incumbents: tuple[tuple[int, float], ...] = (),
) -> np.ndarray:
    """Run the bare kernel for ``months``; returns (months, n_brands) customer shares.

    Args:
        market: an ``abm.scenario.Market``.
        offer: the static offer.
        months: months to run.
        seed: seed of the generator.
        dense: use the textbook ``dense_month`` instead of ``month``.
        incumbents: ``(brand, initial share)`` pairs seeded as established brands.
    """
    pop = Population(market, offer, np.random.default_rng(seed))
    for brand, share in incumbents:
        pop.seed_brand(brand, share, 0.9)
    step = dense_month if dense else month
    return np.array([step(pop) / pop.n for _ in range(months)])
