"""The consumer population, held as numpy arrays: awareness spread and brand choice.

Consumers are not agents: thousands of them would cost microseconds each per step as Mesa
agents, against a few nanoseconds here (``abm bench`` measures both). Every consumer-level
computation of the model lives in this module.

Each month (see docs/ODD.md, submodels *Awareness* and *Brand choice*):

1. Awareness (Bass 1969, on a map). A consumer unaware of brand j becomes aware with
   probability ``1 - exp(-(p_j + q * F_ij))``, where ``p_j`` is the brand's marketing pull
   and ``F_ij`` the aware share among the consumer's neighbours, blended with the whole
   market's. Brands not on sale are forgotten at a fixed monthly rate.
2. Choice (multinomial logit). Consumer i buys the available brand j it is aware of that
   maximises
   ``u_ij = quality_j - w_fit (taste_i - position_j)^2 - beta_i price_j / p_ref
   + switching_cost * loyalty_j * [j bought last month] + e_ij``,
   or nothing if the outside option ``u_0 + e_i0`` is higher; ``e`` are Gumbel shocks of
   scale ``choice_noise`` (s). This is drawn exactly as the logit probabilities
   ``P_ij = exp(u_ij / s) / (exp(u_0 / s) + sum_k exp(u_ik / s))`` that Gumbel-max implies,
   with one uniform number per consumer (inverse CDF) instead of one Gumbel shock per
   option.
   Brand j is available to i when it is on sale and its distribution covers i: each
   consumer holds a fixed rank per brand, and is covered when that rank is below the
   brand's coverage of the consumer's region (so growing coverage adds consumers and never
   reshuffles them).

Layout, for speed (``abm bench`` shows the effect): per-brand state is stored brand-major,
``(n_brands, n)``, in float32 and bool; consumers are numbered in the order of their
neighbourhood cell and region, so that neighbourhood counts are segment sums and per-cell or
per-region values spread to consumers by ``np.repeat``; and the monthly work walks the
population in chunks that fit in cache, which bounds temporaries at any size. The public
``aware`` and ``reach_rank`` are ``(n, n_brands)`` views of that storage.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from abm.scenario import Market

_CHUNK_ELEMENTS = 1 << 16
"""Consumer-brand cells handled per chunk (about 256 kB per float32 work array)."""

_TWO_32 = 4294967296.0
_FAST_RANGE = 80.0
"""Largest (u_j - u_0) / s for which unshifted float32 logit weights cannot overflow."""


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


def _thresholds(probability: np.ndarray) -> np.ndarray:
    """uint32 thresholds t with ``P(U < t) = probability`` for U uniform on 32-bit integers."""
    scaled = np.rint(np.clip(probability, 0.0, 1.0) * _TWO_32)
    return np.minimum(scaled, _TWO_32 - 1.0).astype(np.uint32)


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
        self.n_regions = market.regions_x * market.regions_y
        k = market.neighbourhoods
        self.n_cells = k * k
        xy = rng.random((n, 2))
        region, cell = self._locate(xy)
        # number consumers by (cell, region) block: cells and blocks become contiguous runs
        order = np.argsort(cell * self.n_regions + region, kind="stable")
        self.xy = xy[order]
        self.region = region[order]
        self.cell = cell[order]
        self.cell_size = np.maximum(np.bincount(self.cell, minlength=self.n_cells), 1)
        self._index_blocks()
        self.taste = rng.normal(0.0, market.taste_spread, n)
        sigma = market.price_sensitivity_spread
        self.price_weight = (market.price_sensitivity / market.reference_price) * rng.lognormal(
            -0.5 * sigma * sigma, sigma, n)
        self._rank = rng.random((n_brands, n), dtype=np.float32)
        self._aware = np.zeros((n_brands, n), dtype=bool)
        self._covered = np.zeros((n_brands, n), dtype=bool)
        self._covered_for = np.full((n_brands, self.n_regions), np.nan)
        self._covered_count = np.zeros(n_brands, dtype=np.int64)
        choice_type = np.int8 if n_brands < 127 else np.int16
        self.last_choice = np.full(n, -1, dtype=choice_type)
        self.customers = np.zeros(n_brands, dtype=np.int64)
        self.no_purchase = n
        self.reached = np.zeros(n_brands)  # share of consumers each brand's network covers
        # choice in units of the Gumbel scale s: fit and price terms pre-scaled per consumer
        s = market.choice_noise
        self._taste_s = (self.taste * np.sqrt(market.fit_weight / s)).astype(np.float32)
        self._price_weight_s = (self.price_weight / s).astype(np.float32)
        self._chunk = max(256, _CHUNK_ELEMENTS // (n_brands + 1))
        self._chunks = self._split()
        width = min(n, self._chunk)
        self._work = np.empty((n_brands + 1, width), dtype=np.float32)
        self._spare = np.empty((n_brands, width), dtype=np.float32)

    def _locate(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Region (row-major over regions_x x regions_y) and neighbourhood cell of each point."""
        m = self.market
        rx = np.minimum((xy[:, 0] * m.regions_x).astype(np.int64), m.regions_x - 1)
        ry = np.minimum((xy[:, 1] * m.regions_y).astype(np.int64), m.regions_y - 1)
        k = m.neighbourhoods
        cx = np.minimum((xy[:, 0] * k).astype(np.int64), k - 1)
        cy = np.minimum((xy[:, 1] * k).astype(np.int64), k - 1)
        return ry * m.regions_x + rx, cy * k + cx

    def _index_blocks(self) -> None:
        """Runs of consumers sharing a (cell, region) block, and chunks over them."""
        key = self.cell * self.n_regions + self.region
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if self.n else np.zeros(0, np.int64)
        self._block_start = starts
        self._block_end = np.r_[starts[1:], self.n]
        self._block_cell = self.cell[starts]
        self._block_region = self.region[starts]
        first_of_cell = np.r_[True, self._block_cell[1:] != self._block_cell[:-1]]
        self._cell_first_block = np.flatnonzero(first_of_cell)
        self._cells = self._block_cell[self._cell_first_block]  # cells that hold consumers
        self._block_cell_index = np.cumsum(first_of_cell) - 1  # block -> position in _cells

    def _split(self) -> list[tuple[int, int, int, int, np.ndarray]]:
        """Chunks ``(start, stop, first_block, end_block, block_sizes)`` over the population."""
        chunks = []
        ends = self._block_end
        for start in range(0, self.n, self._chunk):
            stop = min(self.n, start + self._chunk)
            b0 = int(np.searchsorted(ends, start, side="right"))
            b1 = int(np.searchsorted(ends, stop - 1, side="right")) + 1
            sizes = np.minimum(ends[b0:b1], stop) - np.maximum(self._block_start[b0:b1], start)
            chunks.append((start, stop, b0, b1, sizes))
        return chunks

    # ---- public views ----------------------------------------------------------------

    @property
    def aware(self) -> np.ndarray:
        """(n, n_brands) bool: consumer i knows brand j (a view; writes go through)."""
        return self._aware.T

    @aware.setter
    def aware(self, value: np.ndarray) -> None:
        self._aware[...] = np.asarray(value, dtype=bool).T

    @property
    def reach_rank(self) -> np.ndarray:
        """(n, n_brands) fixed rank in [0, 1) of each consumer in each brand's network."""
        return self._rank.T

    # ---- initial state ---------------------------------------------------------------

    def _covered_by(self, brand: int, coverage: np.ndarray) -> np.ndarray:
        return self._rank[brand] < coverage[self.region]

    def seed_brand(self, brand: int, share: float, awareness: float, coverage: np.ndarray) -> None:
        """Give an established brand its customers and awareness at month 0.

        Customers are drawn among covered consumers not yet taken, so that the brand holds
        ``share`` of the whole population where its coverage allows.
        """
        covered = self._covered_by(brand, coverage)
        aware_draw = self.rng.random(self.n) < awareness
        self._aware[brand] |= covered & aware_draw
        free = np.flatnonzero(covered & (self.last_choice < 0))
        take = min(len(free), round(share * self.n))
        if take:
            chosen = self.rng.choice(free, size=take, replace=False)
            self.last_choice[chosen] = brand
            self._aware[brand, chosen] = True
        self.customers = np.bincount(self.last_choice[self.last_choice >= 0], minlength=self.n_brands)
        self.no_purchase = int((self.last_choice < 0).sum())

    def seed_awareness(self, brand: int, awareness: float, coverage: np.ndarray) -> None:
        """Make a share of the consumers a brand's network covers aware of it at once."""
        covered = self._covered_by(brand, coverage)
        self._aware[brand] |= covered & (self.rng.random(self.n) < awareness)

    # ---- monthly submodels -----------------------------------------------------------

    def _random_bits(self, shape: tuple[int, int]) -> np.ndarray:
        """Uniform 32-bit integers from the model's generator (two per raw 64-bit draw)."""
        count = shape[0] * shape[1]
        raw = self.rng.bit_generator.random_raw((count + 1) // 2)
        return raw.view(np.uint32)[:count].reshape(shape)

    def spread_awareness(self, offer: BrandOffer) -> None:
        """Bass-like awareness growth from marketing and neighbours; forgetting off sale."""
        m = self.market
        promoting = np.asarray(offer.promoting, dtype=bool)
        on_sale = np.asarray(offer.on_sale, dtype=bool)
        block_counts = np.add.reduceat(self._aware.view(np.uint8), self._block_start, axis=1, dtype=np.int64)
        cell_counts = np.add.reduceat(block_counts, self._cell_first_block, axis=1)
        total = cell_counts.sum(axis=1)
        moving = promoting | (~on_sale & (total > 0))
        if not moving.any():
            return
        rows = np.flatnonzero(moving)
        w = m.local_word_of_mouth
        local = cell_counts[rows] / self.cell_size[self._cells]
        neighbours = w * local + (1.0 - w) * (total[rows] / self.n)[:, None]
        rate = np.asarray(offer.marketing_pull, dtype=float)[rows, None] + (m.bass_q / 12.0) * neighbours
        hazard = np.where(promoting[rows, None], -np.expm1(-rate), 0.0)
        gain_at = _thresholds(hazard)[:, self._block_cell_index]  # per block
        forget_at = _thresholds(np.where(on_sale[rows], 0.0, m.awareness_decay))[:, None]
        all_rows = len(rows) == self.n_brands
        for start, stop, b0, b1, sizes in self._chunks:
            draw = self._random_bits((len(rows), stop - start))
            gained = draw < np.repeat(gain_at[:, b0:b1], sizes, axis=1)
            kept = draw >= forget_at
            if all_rows:
                aware = self._aware[:, start:stop]
                np.where(aware, kept, gained, out=aware)
            else:
                aware = self._aware[rows, start:stop]
                self._aware[rows, start:stop] = np.where(aware, kept, gained)

    def _update_coverage(self, coverage: np.ndarray) -> None:
        """Recompute who each brand covers, for the brands whose coverage changed."""
        coverage = np.asarray(coverage, dtype=float)
        changed = np.flatnonzero((coverage != self._covered_for).any(axis=1))
        for brand in changed:
            at = coverage[brand, self._block_region].astype(np.float32)
            for start, stop, b0, b1, sizes in self._chunks:
                np.less(self._rank[brand, start:stop], np.repeat(at[b0:b1], sizes),
                        out=self._covered[brand, start:stop])
            self._covered_count[brand] = np.count_nonzero(self._covered[brand])
            self._covered_for[brand] = coverage[brand]
        self.reached = self._covered_count / self.n if self.n else np.zeros(self.n_brands)

    def available(self, offer: BrandOffer) -> np.ndarray:
        """(n, n_brands) bool: brand on sale, consumer aware of it and covered by it."""
        self._update_coverage(offer.coverage)
        on_sale = np.asarray(offer.on_sale, dtype=bool)
        return (self._covered & self._aware & on_sale[:, None]).T

    def choose(self, offer: BrandOffer) -> np.ndarray:
        """Every consumer buys one brand or nothing; returns customers per brand."""
        m = self.market
        self._update_coverage(offer.coverage)
        selling = np.flatnonzero(np.asarray(offer.on_sale, dtype=bool))
        customers = np.zeros(self.n_brands, dtype=np.int64)
        if len(selling) == 0:
            self.last_choice.fill(-1)
            self._set_customers(customers)
            return self.customers
        s = m.choice_noise
        quality = np.asarray(offer.quality, dtype=float)[selling]
        bonus = m.switching_cost * np.asarray(offer.loyalty, dtype=float)[selling] / s
        # utilities in units of s, relative to the outside option u_0
        base = ((quality - m.no_purchase_utility) / s).astype(np.float32)[:, None]
        position = (np.asarray(offer.position, dtype=float)[selling]
                    * np.sqrt(m.fit_weight / s)).astype(np.float32)[:, None]
        price = np.asarray(offer.price, dtype=float)[selling].astype(np.float32)[:, None]
        bonus = bonus.astype(np.float32)[:, None]
        brand_ids = selling.astype(self.last_choice.dtype)[:, None]
        fast = float(np.max(base + np.maximum(bonus, 0.0))) <= _FAST_RANGE
        all_rows = len(selling) == self.n_brands
        label = np.r_[-1, selling].astype(self.last_choice.dtype)
        k = len(selling)
        for start, stop, _, _, _ in self._chunks:
            width = stop - start
            weight = self._work[:k + 1, :width]
            utility = weight[1:]
            spare = self._spare[:k, :width]
            last = self.last_choice[start:stop]
            # u = base - (taste - position)^2 - beta price + bonus [last == j], all / s
            np.subtract(self._taste_s[start:stop], position, out=utility)
            np.square(utility, out=utility)
            np.multiply(self._price_weight_s[start:stop], price, out=spare)
            utility += spare
            np.subtract(base, utility, out=utility)
            np.multiply(last == brand_ids, bonus, out=spare)
            utility += spare
            if all_rows:
                avail = self._covered[:, start:stop] & self._aware[:, start:stop]
            else:
                avail = self._covered[selling, start:stop] & self._aware[selling, start:stop]
            if fast:
                weight[0] = 1.0
            else:  # shift by each consumer's best option so no weight overflows
                best = np.where(avail, utility, -np.inf).max(axis=0)
                np.maximum(best, 0.0, out=best)
                utility -= best
                np.negative(best, out=weight[0])
                np.exp(weight[0], out=weight[0])
            np.exp(utility, out=utility)
            utility *= avail
            for j in range(1, k + 1):  # cumulative weights, the outside option first
                weight[j] += weight[j - 1]
            u = self._random_bits((1, width))[0]
            x = (u >> np.uint32(8)).astype(np.float32)
            x *= np.float32(2.0 ** -24)
            x *= weight[k]
            below = weight[:k] < x
            chosen = below.sum(axis=0, dtype=np.int8 if k < 127 else np.int16)
            if all_rows:
                np.subtract(chosen, 1, out=last, casting="unsafe")
            else:
                np.take(label, chosen, out=last)
            at_least = np.count_nonzero(below, axis=1)
            customers[selling] += at_least - np.r_[at_least[1:], 0]
        self._set_customers(customers)
        return self.customers

    def _set_customers(self, customers: np.ndarray) -> None:
        self.customers = customers
        self.no_purchase = int(self.n - customers.sum())

    # ---- read-outs -------------------------------------------------------------------

    def shares(self) -> np.ndarray:
        """Share of all consumers buying each brand; with ``no_purchase_share`` sums to 1."""
        return self.customers / self.n

    @property
    def no_purchase_share(self) -> float:
        return self.no_purchase / self.n

    def awareness(self) -> np.ndarray:
        """Share of all consumers aware of each brand."""
        return np.array([np.count_nonzero(row) for row in self._aware]) / self.n
