"""The consumer population, held as numpy arrays: awareness spread and brand choice.

Consumers are not agents: thousands of them would cost ~0.5 µs each per step as Mesa
agents, against a few nanoseconds here. Every consumer-level computation of the model
lives in this module.

Each month (see docs/ODD.md, submodels *Awareness* and *Brand choice*):

1. Awareness (Bass 1969, on a map). A consumer unaware of brand j becomes aware with
   probability ``1 - exp(-(p_j + q * F_ij))``, where ``p_j`` is the brand's marketing pull
   and ``F_ij`` the aware share among the consumer's neighbours, blended with the whole
   market's. Brands not on sale are forgotten at a fixed monthly rate.
2. Choice (multinomial logit, by Gumbel-max sampling). Consumer i buys the available brand
   j it is aware of that maximises
   ``u_ij = quality_j - w_fit (taste_i - position_j)^2 - beta_i price_j / p_ref
   + switching_cost * loyalty_j * [j bought last month] + e_ij``,
   or nothing if the outside option ``u_0 + e_i0`` is higher; ``e`` are Gumbel shocks.
   Brand j is available to i when it is on sale and its distribution covers i: each
   consumer holds a fixed rank per brand, and is covered when that rank is below the
   brand's coverage of the consumer's region (so growing coverage adds consumers and never
   reshuffles them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from abm.scenario import Market

_U_MIN = np.float32(1e-7)
_U_MAX = np.float32(1.0 - 6e-8)


@dataclass
class BrandOffer:
    """What every brand puts before consumers this month; arrays of length n_brands."""

    on_sale: np.ndarray        # bool: licensed, in the market, not suspended
    promoting: np.ndarray      # bool: marketing runs and word of mouth spreads
    quality: np.ndarray        # utility
    price: np.ndarray          # currency per buyer-month
    position: np.ndarray       # product position on the taste axis (0 = local norm)
    loyalty: np.ndarray        # multiplier on the switching cost
    marketing_pull: np.ndarray # Bass p per month from marketing
    coverage: np.ndarray       # (n_brands, n_regions) share of each region reached


class ConsumerMarket:
    """A vectorised population of consumers on a unit-square map.

    Args:
        market: the scenario's market section.
        n_brands: number of brand columns (every firm that sells or may sell).
        rng: the model's numpy generator; every draw goes through it.
    """

    def __init__(self, market: Market, n_brands: int, rng: np.random.Generator):
        self.market = market
        self.rng = rng
        n = market.consumers
        self.n = n
        self.n_brands = n_brands
        self.xy = rng.random((n, 2))
        rx = np.minimum((self.xy[:, 0] * market.regions_x).astype(np.int64), market.regions_x - 1)
        ry = np.minimum((self.xy[:, 1] * market.regions_y).astype(np.int64), market.regions_y - 1)
        self.region = ry * market.regions_x + rx
        self.n_regions = market.regions_x * market.regions_y
        k = market.neighbourhoods
        cx = np.minimum((self.xy[:, 0] * k).astype(np.int64), k - 1)
        cy = np.minimum((self.xy[:, 1] * k).astype(np.int64), k - 1)
        self.cell = cy * k + cx
        self.n_cells = k * k
        self.cell_size = np.maximum(np.bincount(self.cell, minlength=self.n_cells), 1)
        self.taste = rng.normal(0.0, market.taste_spread, n)
        sigma = market.price_sensitivity_spread
        self.price_weight = (market.price_sensitivity / market.reference_price) * rng.lognormal(
            -0.5 * sigma * sigma, sigma, n)
        self.reach_rank = rng.random((n, n_brands))
        self.aware = np.zeros((n, n_brands), dtype=bool)
        self.last_choice = np.full(n, -1, dtype=np.int64)
        self.customers = np.zeros(n_brands, dtype=np.int64)
        self.no_purchase = n
        self.reached = np.zeros(n_brands)  # share of consumers each brand's network covers
        # flat index (cell, brand) for the neighbourhood counts of word of mouth
        self._cell_brand = (self.cell[:, None] * n_brands + np.arange(n_brands)[None, :]).ravel()

    # ---- initial state ---------------------------------------------------------------

    def seed_brand(self, brand: int, share: float, awareness: float, coverage: np.ndarray) -> None:
        """Give an established brand its customers and awareness at month 0.

        Customers are drawn among covered consumers not yet taken, so that the brand holds
        ``share`` of the whole population where its coverage allows.
        """
        covered = self.reach_rank[:, brand] < coverage[self.region]
        aware_draw = self.rng.random(self.n) < awareness
        self.aware[:, brand] |= covered & aware_draw
        free = np.flatnonzero(covered & (self.last_choice < 0))
        take = min(len(free), round(share * self.n))
        if take:
            chosen = self.rng.choice(free, size=take, replace=False)
            self.last_choice[chosen] = brand
            self.aware[chosen, brand] = True
        self.customers = np.bincount(self.last_choice[self.last_choice >= 0], minlength=self.n_brands)
        self.no_purchase = int((self.last_choice < 0).sum())

    # ---- monthly submodels -----------------------------------------------------------

    def spread_awareness(self, offer: BrandOffer) -> None:
        """Bass-like awareness growth from marketing and neighbours; forgetting off sale."""
        m = self.market
        aware_f = self.aware.astype(np.float64)
        counts = np.bincount(self._cell_brand, weights=aware_f.ravel(),
                             minlength=self.n_cells * self.n_brands).reshape(self.n_cells, self.n_brands)
        local = counts / self.cell_size[:, None]
        overall = aware_f.mean(axis=0)
        w = m.local_word_of_mouth
        neighbours = w * local[self.cell] + (1.0 - w) * overall[None, :]
        q = m.bass_q / 12.0
        rate = offer.marketing_pull[None, :] + q * neighbours
        hazard = -np.expm1(-rate)
        draw = self.rng.random(self.aware.shape, dtype=np.float32)
        gained = (~self.aware) & (draw < hazard) & offer.promoting[None, :]
        forgotten = self.aware & (draw < m.awareness_decay) & (~offer.on_sale)[None, :]
        self.aware = (self.aware | gained) & ~forgotten

    def seed_awareness(self, brand: int, awareness: float, coverage: np.ndarray) -> None:
        """Make a share of the consumers a brand's network covers aware of it at once."""
        covered = self.reach_rank[:, brand] < coverage[self.region]
        self.aware[:, brand] |= covered & (self.rng.random(self.n) < awareness)

    def available(self, offer: BrandOffer) -> np.ndarray:
        """(n, n_brands) bool: brand on sale, consumer aware of it and covered by it."""
        covered = self.reach_rank < offer.coverage.T[self.region]
        self.reached = covered.mean(axis=0)
        return covered & self.aware & offer.on_sale[None, :]

    def choose(self, offer: BrandOffer) -> np.ndarray:
        """Every consumer buys one brand or nothing; returns customers per brand."""
        m = self.market
        avail = self.available(offer)
        utility = self.taste[:, None] - offer.position[None, :]
        np.square(utility, out=utility)
        utility *= -m.fit_weight
        utility += offer.quality[None, :]
        utility -= self.price_weight[:, None] * offer.price[None, :]
        utility += m.choice_noise * self._gumbel(utility.shape)
        loyal = self.last_choice >= 0
        idx = np.flatnonzero(loyal)
        utility[idx, self.last_choice[idx]] += m.switching_cost * offer.loyalty[self.last_choice[idx]]
        utility[~avail] = -np.inf
        best = utility.argmax(axis=1)
        best_u = utility[np.arange(self.n), best]
        outside = m.no_purchase_utility + m.choice_noise * self._gumbel(self.n)
        choice = np.where(best_u > outside, best, -1)
        self.last_choice = choice
        bought = choice >= 0
        self.customers = np.bincount(choice[bought], minlength=self.n_brands)
        self.no_purchase = int(self.n - bought.sum())
        return self.customers

    def _gumbel(self, shape) -> np.ndarray:
        """Standard Gumbel shocks, ``-log(-log U)``, from float32 uniforms.

        Ten times cheaper than ``Generator.gumbel``; U is kept off 0 and 1, so no shock is
        infinite. Float32 resolution (~6e-8) is far below any share the model reports.
        """
        u = self.rng.random(shape, dtype=np.float32)
        np.clip(u, _U_MIN, _U_MAX, out=u)
        np.log(u, out=u)
        np.negative(u, out=u)
        np.log(u, out=u)
        np.negative(u, out=u)
        return u

    # ---- read-outs -------------------------------------------------------------------

    def shares(self) -> np.ndarray:
        """Share of all consumers buying each brand; with ``no_purchase_share`` sums to 1."""
        return self.customers / self.n

    @property
    def no_purchase_share(self) -> float:
        return self.no_purchase / self.n

    def awareness(self) -> np.ndarray:
        return self.aware.mean(axis=0)

