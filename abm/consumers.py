"""The consumer population, held as numpy arrays: awareness spread and brand choice.

Consumers are not agents: thousands of them would cost microseconds each per step as Mesa
agents, against nanoseconds here (``abm bench`` measures both). Every consumer-level
computation of the model lives in this module.

Each month (see docs/ODD.md, submodels *Awareness* and *Brand choice*):

1. Awareness (Bass 1969, on a map). A consumer unaware of brand j becomes aware with
   probability ``1 - exp(-(p_j + q * F_ij))``, where ``p_j`` is the brand's marketing pull
   and ``F_ij`` the aware share among the consumer's neighbours, blended with the whole
   market's. Brands not on sale are forgotten at a fixed monthly rate.
2. Choice (nested logit, ``abm.rules.demand``). Consumer i values the available brand j it
   is aware of at
   ``u_ij = quality_j - w_fit (taste_i - position_j)^2 - beta_i price_j
   + switching_cost * loyalty_j * [j bought last month]`` (``beta_i`` already holds
   the division by the reference price) and buying nothing at ``u_0``. With
   ``v_ij = (u_ij - u_0) / s`` (``s = choice_noise``), ``D_i = sum_k exp(v_ik)`` over its
   available brands and ``lam = category_expansion``, it buys j with probability
   ``exp(v_ij) / D_i * D_i^lam / (1 + D_i^lam)`` and nothing with ``1 / (1 + D_i^lam)``;
   ``lam = 1`` is the multinomial logit. Brand j is available to i when it is on sale and
   its distribution covers i: each consumer holds a fixed rank per brand, and is covered
   when that rank is below the brand's coverage of the consumer's region (so growing
   coverage adds consumers and never reshuffles them).

How the draws are made (same distributions, fewer random numbers):

- Awareness: ``1 - exp(-rate)`` is the chance that a unit Poisson process puts a point in
  an interval of length ``rate``. Laying the unaware consumers of a brand end to end, each
  on an interval of its own rate, one Poisson count and one uniform position per point pick
  exactly the consumers who become aware, independently with the probabilities above. As
  the rate is the same for everyone in a neighbourhood, this costs a count per
  neighbourhood and a few numbers per newly aware consumer, not one per consumer and
  brand. Forgetting works the same way over the aware, with rate ``-log(1 - decay)``.
- Choice: the choice is drawn from the probabilities above directly, with one uniform
  number per consumer (inverse CDF over the weights ``[D_i^(1 - lam), exp(v_i1), ...]``,
  which give exactly those probabilities; with ``lam = 1`` the outside weight is 1, the
  multinomial logit of McFadden 1974). ``exp((quality_j - fit - price - u_0) / s)`` is kept
  per consumer and brand and only recomputed for brands whose quality, position or price
  changed.

Layout, for speed: per-brand state is stored brand-major, ``(n_brands, n)``, in float32 and
bool; consumers are numbered by neighbourhood cell and region, so that neighbourhood counts
are segment sums and per-region coverage spreads to consumers by ``np.repeat``; and the
monthly work walks the population in chunks that fit in cache, which also bounds every
temporary. The public ``aware`` and ``reach_rank`` are ``(n, n_brands)`` views.

Compiled loops (``abm/consumer_kernels.py``, numba) do the same monthly work in a few calls
once loaded (``ABM_NUMBA``; see that module): the same random numbers, the same arithmetic,
the same results bit for bit; the numpy code below stays the reference and the fallback.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from abm import consumer_kernels as kernels
from abm.scenario import Market

_CHUNK_ELEMENTS = 1 << 16
"""Consumer-brand cells handled per chunk (about 256 kB per float32 work array)."""

_FAST_RANGE = 80.0
"""Largest (u_j - u_0) / s for which unshifted float32 logit weights cannot overflow."""


@dataclass
class BrandOffer:
    """What every brand puts before consumers this month; arrays of length n_brands."""

    on_sale: np.ndarray  # bool: licensed, in the market, not suspended
    promoting: np.ndarray  # bool: marketing runs and word of mouth spreads
    quality: np.ndarray  # utility
    price: np.ndarray  # currency per buyer-month
    position: np.ndarray  # product position on the taste axis (0 = local norm)
    loyalty: np.ndarray  # multiplier on the switching cost
    marketing_pull: np.ndarray  # Bass p per month from marketing
    coverage: np.ndarray  # (n_brands, n_regions) share of each region reached


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
        # number consumers by (cell, region): cells and (cell, region) blocks become runs
        order = np.argsort(cell * self.n_regions + region, kind="stable")
        self.xy = xy[order]
        self.region = region[order]
        self.cell = cell[order]
        self.cell_size = np.maximum(np.bincount(self.cell, minlength=self.n_cells), 1)
        self.taste = rng.normal(0.0, market.taste_spread, n)
        sigma = market.price_sensitivity_spread
        self.price_weight = (market.price_sensitivity / market.reference_price) * rng.lognormal(
            -0.5 * sigma * sigma, sigma, n
        )
        self._rank = rng.random((n_brands, n), dtype=np.float32)
        self._aware = np.zeros((n_brands, n), dtype=bool)
        self.last_choice: np.ndarray = np.full(n, -1, dtype=np.int8 if n_brands < 127 else np.int16)
        self.customers = np.zeros(n_brands, dtype=np.int64)
        self.no_purchase = n
        self.reached = np.zeros(n_brands)  # share of consumers each brand's network covers
        self._chunk = max(256, _CHUNK_ELEMENTS // (n_brands + 1))
        self._split()
        # caches: who each brand covers, and each brand's logit weight without loyalty
        self._covered = np.zeros((n_brands, n), dtype=bool)
        self._covered_for = np.full((n_brands, self.n_regions), np.nan)
        self._covered_count = np.zeros(n_brands, dtype=np.int64)
        self._appeal = np.zeros((n_brands, n), dtype=np.float32)
        self._appeal_for = np.full((n_brands, 3), np.nan)
        self.nest = market.category_expansion  # nesting parameter lam of the brands' nest
        s = self._scale = market.choice_noise  # utilities below are in units of s
        self._taste_s = (self.taste * np.sqrt(market.fit_weight / s)).astype(np.float32)
        self._price_weight_s = (self.price_weight / s).astype(np.float32)
        width = min(n, self._chunk)
        self._work = np.empty((n_brands + 1, width), dtype=np.float32)
        self._spare = np.empty((n_brands, width), dtype=np.float32)
        self.compiled = kernels.ENABLED  # the numba loops (abm.consumer_kernels); same results
        self._cells_size = self.cell_size[self._cells]
        self._chunk_table = np.array(self._chunks, dtype=np.int64).reshape(-1, 4)
        self._picked = np.empty(width, dtype=np.int32)
        self._aware_in = np.empty((n_brands, len(self._seg_start)), dtype=np.int32)
        self._cell_aware = np.empty((n_brands, len(self._cells)), dtype=np.int64)
        self._total_aware = np.empty(n_brands, dtype=np.int64)
        self._aware_known = np.empty_like(self._aware)  # _aware as the compiled month left it, and
        self._counted = np.zeros(1, dtype=np.int64)  # whether the three counts above are its counts
        w = market.local_word_of_mouth  # the compiled month's constants, as the numpy path computes them
        forget_rate = float(-np.log1p(-min(market.awareness_decay, 1.0 - 1e-12)))
        self._awareness_terms = (market.awareness_decay > 0, forget_rate, w, (1.0 - w) / n, market.bass_q / 12.0)
        self._choice_terms = np.array(
            [
                market.no_purchase_utility,
                s,
                float(np.sqrt(market.fit_weight / s)),
                market.switching_cost / s,
                _FAST_RANGE,
            ]
        )
        self._selling = np.zeros(n_brands, dtype=np.int64)  # the compiled choice's month, kept between months
        self._bonus = np.zeros(n_brands, dtype=np.float32)
        self._factor = np.zeros(n_brands, dtype=np.float32)  # expm1(bonus), taken when the bonus changes
        self._stale = np.zeros(n_brands, dtype=np.int64)
        self._choice_info = np.array([-1, 0, 0, 0], dtype=np.int64)
        self._pcg = kernels.pcg_words(rng)  # the loops draw from the generator's own state
        self.compiled = self.compiled and self._pcg is not None

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_pcg"] = None  # a view on the generator's memory: made again from the copy's generator
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._pcg = kernels.pcg_words(self.rng)
        self.compiled = self.compiled and self._pcg is not None

    def _locate(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Region (row-major over regions_x x regions_y) and neighbourhood cell of each point."""
        m = self.market
        rx = np.minimum((xy[:, 0] * m.regions_x).astype(np.int64), m.regions_x - 1)
        ry = np.minimum((xy[:, 1] * m.regions_y).astype(np.int64), m.regions_y - 1)
        k = m.neighbourhoods
        cx = np.minimum((xy[:, 0] * k).astype(np.int64), k - 1)
        cy = np.minimum((xy[:, 1] * k).astype(np.int64), k - 1)
        return ry * m.regions_x + rx, cy * k + cx

    def _split(self) -> None:
        """Cut the population into chunks, and into segments: runs of consumers of one cell
        and one region inside one chunk, the unit of every neighbourhood count and coverage
        threshold. ``_chunks`` lists ``(start, stop, first_segment, end_segment)``."""
        key = self.cell * self.n_regions + self.region
        cut = np.r_[True, key[1:] != key[:-1]]
        cut[:: self._chunk] = True
        starts = np.flatnonzero(cut)
        self._seg_start = starts
        self._seg_size = np.diff(np.r_[starts, self.n])
        self._chunks = []
        for start in range(0, self.n, self._chunk):
            stop = min(self.n, start + self._chunk)
            g0, g1 = np.searchsorted(starts, [start, stop])
            self._chunks.append((start, stop, int(g0), int(g1)))
        seg_cell = self.cell[starts]
        self._seg_region = self.region[starts]
        first_of_cell = np.r_[True, seg_cell[1:] != seg_cell[:-1]]
        self._cell_first_seg = np.flatnonzero(first_of_cell)
        self._cells = seg_cell[self._cell_first_seg]  # cells that hold consumers
        self._seg_cell_index = np.cumsum(first_of_cell) - 1  # segment -> position in _cells

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

    def forget_brand(self, brand: int) -> None:
        """A brand closed down: no consumer knows it any more, and its customers buy nothing
        until they choose again."""
        self._aware[brand] = False
        self.last_choice[self.last_choice == brand] = -1
        self.customers = np.bincount(self.last_choice[self.last_choice >= 0], minlength=self.n_brands)
        self.no_purchase = int((self.last_choice < 0).sum())

    def seed_awareness(self, brand: int, awareness: float, coverage: np.ndarray) -> None:
        """Make a share of the consumers a brand's network covers aware of it at once."""
        covered = self._covered_by(brand, coverage)
        self._aware[brand] |= covered & (self.rng.random(self.n) < awareness)

    # ---- monthly submodels -----------------------------------------------------------

    def spread_awareness(self, offer: BrandOffer) -> None:
        """Bass-like awareness growth from marketing and neighbours; forgetting off sale."""
        if self.compiled and self._pcg is not None:
            self._spread_awareness_compiled(offer)
            return
        m = self.market
        promoting = np.asarray(offer.promoting, dtype=bool)
        on_sale = np.asarray(offer.on_sale, dtype=bool)
        flags = self._aware.view(np.uint8)
        if flags.size <= 1 << 16:  # one call for small markets, row by row (2-3x faster) for large
            aware_in = np.add.reduceat(flags, self._seg_start, axis=1, dtype=np.int32)
        else:
            aware_in = np.empty((self.n_brands, len(self._seg_start)), dtype=np.int32)
            for brand, row in enumerate(flags):
                np.add.reduceat(row, self._seg_start, dtype=np.int32, out=aware_in[brand])
        cell_aware = np.add.reduceat(aware_in, self._cell_first_seg, axis=1, dtype=np.int64)
        total = cell_aware.sum(axis=1)
        learners = np.flatnonzero(promoting)
        forgetters = np.flatnonzero(~on_sale & (total > 0)) if m.awareness_decay > 0 else learners[:0]
        if len(learners):
            w = m.local_word_of_mouth
            neighbours = (
                w * cell_aware[learners] / self.cell_size[self._cells] + ((1.0 - w) / self.n) * total[learners, None]
            )
            rate = np.asarray(offer.marketing_pull, dtype=float)[learners, None] + (m.bass_q / 12.0) * neighbours
            learn_rate = rate[:, self._seg_cell_index]
            unaware_in = self._seg_size - aware_in[learners]
        if len(forgetters):
            forget_rate = -np.log1p(-min(m.awareness_decay, 1.0 - 1e-12))
            aware_in_f = aware_in[forgetters]
        if len(learners) and learners[-1] - learners[0] + 1 == len(learners):
            learner_rows: slice | np.ndarray = slice(int(learners[0]), int(learners[-1]) + 1)  # a view, not a copy
        else:
            learner_rows = learners
        for start, stop, g0, g1 in self._chunks:
            learn = forget = None
            if len(learners):
                learn = self._poisson_hits(
                    ~self._aware[learner_rows, start:stop], unaware_in[:, g0:g1], learn_rate[:, g0:g1]
                )
            if len(forgetters):
                forget = self._poisson_hits(
                    self._aware[forgetters, start:stop],
                    aware_in_f[:, g0:g1],
                    np.full((len(forgetters), g1 - g0), forget_rate),
                )
            if learn is not None:
                row, col = learn
                self._aware[learners[row], start + col] = True
            if forget is not None:
                row, col = forget
                self._aware[forgetters[row], start + col] = False

    def _spread_awareness_compiled(self, offer: BrandOffer) -> None:
        """``spread_awareness`` in one compiled call: the same draws and arithmetic."""
        decays, forget_rate, w, mix, q12 = self._awareness_terms
        kernels.awareness_month(
            self._pcg,
            self._aware,
            np.asarray(offer.promoting, dtype=bool),
            np.asarray(offer.on_sale, dtype=bool),
            np.asarray(offer.marketing_pull, dtype=float),
            decays,
            forget_rate,
            w,
            mix,
            q12,
            self._seg_start,
            self._seg_size,
            self._cell_first_seg,
            self._seg_cell_index,
            self._cells_size,
            self._chunk_table,
            self._aware_in,
            self._cell_aware,
            self._total_aware,
            self._aware_known,
            self._counted,
        )

    def _poisson_hits(self, eligible: np.ndarray, counts: np.ndarray, rate: np.ndarray):
        """Eligible cells that a unit Poisson process hits, each cell on an interval ``rate``.

        Args:
            eligible: (rows, width) bool of one chunk, in segment order.
            counts: (rows, segments) eligible cells per segment of the chunk.
            rate: (rows, segments) interval length of each cell of the segment.

        Returns:
            ``(row, column)`` index arrays of the hit cells (a cell hit twice appears
            twice), or None. Each eligible cell is hit with probability ``1 - exp(-rate)``,
            independently.
        """
        length = (rate * counts).ravel()
        ends = np.cumsum(length)
        if len(ends) == 0 or not ends[-1] > 0:
            return None
        hits = self.rng.poisson(ends[-1])
        if hits == 0:
            return None
        at = self.rng.random(hits) * ends[-1]
        run = np.searchsorted(ends, at, side="right")
        keep = run < len(ends)
        at, run = at[keep], run[keep]
        within = ((at - (ends[run] - length[run])) / rate.ravel()[run]).astype(np.int64)  # floor: >= 0
        counts = counts.ravel()
        np.minimum(within, counts[run] - 1, out=within)
        np.maximum(within, 0, out=within)
        first = np.cumsum(counts)
        first -= counts
        rank = first[run] + within  # position among all eligible cells
        cells = np.flatnonzero(eligible)[rank]
        return np.divmod(cells, eligible.shape[1])

    def _update_coverage(self, coverage: np.ndarray) -> None:
        """Recompute who each brand covers, for the brands whose coverage changed."""
        coverage = np.asarray(coverage, dtype=float)
        if np.array_equal(coverage, self._covered_for):
            return
        changed = np.flatnonzero((coverage != self._covered_for).any(axis=1))
        for brand in changed:
            at = coverage[brand, self._seg_region].astype(np.float32)
            if self.compiled:
                self._covered_count[brand] = kernels.cover(
                    self._rank, self._covered, brand, at, self._seg_start, self._seg_size
                )
                self._covered_for[brand] = coverage[brand]
                continue
            for start, stop, g0, g1 in self._chunks:
                np.less(
                    self._rank[brand, start:stop],
                    np.repeat(at[g0:g1], self._seg_size[g0:g1]),
                    out=self._covered[brand, start:stop],
                )
            self._covered_count[brand] = np.count_nonzero(self._covered[brand])
            self._covered_for[brand] = coverage[brand]
        if len(changed):
            self.reached = self._covered_count / self.n

    def available(self, offer: BrandOffer) -> np.ndarray:
        """(n, n_brands) bool: brand on sale, consumer aware of it and covered by it."""
        self._update_coverage(offer.coverage)
        on_sale = np.asarray(offer.on_sale, dtype=bool)
        return (self._covered & self._aware & on_sale[:, None]).T

    def _utility_terms(self, offer: BrandOffer, brands: np.ndarray):
        """Per-brand terms of ``u / s`` relative to the outside option, as (k, 1) float32."""
        m = self.market
        s = self._scale
        base = (np.asarray(offer.quality, dtype=float)[brands] - m.no_purchase_utility) / s
        position = np.asarray(offer.position, dtype=float)[brands] * np.sqrt(m.fit_weight / s)
        price = np.asarray(offer.price, dtype=float)[brands]
        bonus = m.switching_cost * np.asarray(offer.loyalty, dtype=float)[brands] / s
        return [v.astype(np.float32)[:, None] for v in (base, position, price, bonus)]

    def _refresh_appeal(self, offer: BrandOffer, selling: np.ndarray) -> None:
        """Recompute ``exp(u_j / s)`` without loyalty for brands whose offer changed."""
        key = self._appeal_for
        stale_mask = (
            (np.asarray(offer.quality, dtype=float)[selling] != key[selling, 0])
            | (np.asarray(offer.position, dtype=float)[selling] != key[selling, 1])
            | (np.asarray(offer.price, dtype=float)[selling] != key[selling, 2])
        )
        if not stale_mask.any():
            return
        stale = selling[stale_mask]
        base, position, price, _ = self._utility_terms(offer, stale)
        for start, stop, _, _ in self._chunks:
            appeal = self._appeal[stale, start:stop]
            spare = self._spare[: len(stale), : stop - start]
            np.subtract(self._taste_s[start:stop], position, out=appeal)
            np.square(appeal, out=appeal)
            np.multiply(self._price_weight_s[start:stop], price, out=spare)
            appeal += spare
            np.subtract(base, appeal, out=appeal)
            np.exp(appeal, out=appeal)
            self._appeal[stale, start:stop] = appeal
        key[stale, 0] = np.asarray(offer.quality, dtype=float)[stale]
        key[stale, 1] = np.asarray(offer.position, dtype=float)[stale]
        key[stale, 2] = np.asarray(offer.price, dtype=float)[stale]

    def choose(self, offer: BrandOffer) -> np.ndarray:
        """Every consumer buys one brand or nothing; returns customers per brand."""
        if self.compiled and self._pcg is not None and self._choose_compiled(offer):
            return self.customers
        self._update_coverage(offer.coverage)
        selling = np.flatnonzero(np.asarray(offer.on_sale, dtype=bool))
        customers = np.zeros(self.n_brands, dtype=np.int64)
        k = len(selling)
        if k == 0:
            self.last_choice.fill(-1)
            self._set_customers(customers)
            return self.customers
        m = self.market
        s = self._scale
        bonus = ((m.switching_cost / s) * np.asarray(offer.loyalty, dtype=float)[selling]).astype(np.float32)[:, None]
        highest = (float(np.max(np.asarray(offer.quality, dtype=float)[selling])) - m.no_purchase_utility) / s
        nested = self.nest != 1.0
        fast = highest + max(float(bonus.max()), 0.0) <= _FAST_RANGE
        if fast:
            self._refresh_appeal(offer, selling)
        else:
            base, position, price, _ = self._utility_terms(offer, selling)
        first = int(selling[0])
        if selling[-1] - first + 1 == k:  # brands on sale are neighbours: slice, not copy
            rows: slice | np.ndarray = slice(first, first + k)
        else:
            rows = selling
            label = np.concatenate([[-1], selling]).astype(self.last_choice.dtype)
        brand_ids = selling.astype(self.last_choice.dtype)[:, None]
        loyalty_factor = np.expm1(bonus) if fast else None  # the shifted path adds the bonus itself
        for start, stop, _, _ in self._chunks:
            width = stop - start
            weight = self._work[: k + 1, :width]  # row 0: the outside option
            spare = self._spare[:k, :width]
            last = self.last_choice[start:stop]
            avail = self._covered[rows, start:stop] & self._aware[rows, start:stop]
            if fast:
                weight[0] = 1.0
                np.multiply(self._appeal[rows, start:stop], avail, out=weight[1:])
                assert loyalty_factor is not None  # set on the fast path
                np.multiply(last == brand_ids, loyalty_factor, out=spare)
                spare += 1.0
                weight[1:] *= spare
                if nested:  # the outside option against the brands' nest: D^(1 - lam)
                    np.sum(weight[1:], axis=0, out=weight[0])
                    np.power(weight[0], np.float32(1.0 - self.nest), out=weight[0])
            else:
                self._shifted_weights(
                    weight, spare, avail, last == brand_ids, base, position, price, bonus, start, stop
                )
            for j in range(1, k + 1):  # cumulative weights
                weight[j] += weight[j - 1]
            bits = self.rng.bit_generator.random_raw((width + 1) // 2).view(np.uint32)[:width]
            x = (bits >> np.uint32(8)).astype(np.float32)
            x *= np.float32(2.0**-24)  # uniform on [0, 1) at float32 resolution
            x *= weight[k]
            below = weight[:k] < x  # below[j]: the pick lies past option j's start
            picked = below.sum(axis=0, dtype=last.dtype)
            if rows is selling:
                np.take(label, picked, out=last)
            elif first == 0:
                np.subtract(picked, 1, out=last)
            else:
                np.add(picked, first - 1, out=last)
                last[picked == 0] = -1
            customers[selling] += np.bincount(picked, minlength=k + 1)[1:]
        self._set_customers(customers)
        if not self.compiled:
            kernels.count_plain(self.n)
        return self.customers

    def _choose_compiled(self, offer: BrandOffer) -> bool:
        """``choose`` through the compiled loops; False (nothing drawn) where utilities span
        too wide a range for unshifted weights, which the numpy path's shifted weights take."""
        info = self._choice_info
        fast = kernels.prepare_choice(
            np.asarray(offer.on_sale, dtype=bool),
            np.asarray(offer.quality, dtype=float),
            np.asarray(offer.position, dtype=float),
            np.asarray(offer.price, dtype=float),
            np.asarray(offer.loyalty, dtype=float),
            np.asarray(offer.coverage, dtype=float),
            self._covered_for,
            self._covered_count,
            self._rank,
            self._covered,
            self._seg_region,
            self._seg_start,
            self._seg_size,
            self._appeal_for,
            self._appeal,
            self._taste_s,
            self._price_weight_s,
            self._choice_terms,
            self._selling,
            self._bonus,
            self._stale,
            info,
        )
        k, n_stale, coverage_changed, bonus_changed = info.tolist()
        if coverage_changed:
            self.reached = self._covered_count / self.n
        if bonus_changed:  # numpy's float32 expm1 of the bonuses, as the numpy path takes it
            self._factor[:k] = np.expm1(self._bonus[:k])
        customers = np.zeros(self.n_brands, dtype=np.int64)
        if k == 0:
            self.last_choice.fill(-1)
            self._set_customers(customers)
            return True
        if not fast:
            return False
        for brand in self._stale[:n_stale].tolist():  # numpy's float32 exp, as the numpy path takes it
            row = self._appeal[brand]
            np.exp(row, out=row)
        nested = self.nest != 1.0
        lam = np.float32(1.0 - self.nest)
        outside = self._work[0]
        for start, stop, _, _ in self._chunks:
            args = (self._pcg, self._appeal, self._covered, self._aware, self._selling, self._factor, k)
            work = (self._work, self._spare[0], self._picked, customers)
            if nested:  # D^(1 - lam) by numpy's float32 power between the weights and the picks
                kernels.choice_chunk(*args, self.last_choice, start, stop, True, True, False, *work)
                np.power(outside[: stop - start], lam, out=outside[: stop - start])
                kernels.choice_chunk(*args, self.last_choice, start, stop, True, False, True, *work)
            else:
                kernels.choice_chunk(*args, self.last_choice, start, stop, False, True, True, *work)
        self._set_customers(customers)
        return True

    def _shifted_weights(
        self, weight, spare, avail, loyal, base, position, price, bonus, start: int, stop: int
    ) -> None:
        """Logit weights with each consumer's best option shifted to ``exp(0)``; for
        utility ranges where unshifted float32 weights could overflow."""
        utility = weight[1:]
        np.subtract(self._taste_s[start:stop], position, out=utility)
        np.square(utility, out=utility)
        np.multiply(self._price_weight_s[start:stop], price, out=spare)
        utility += spare
        np.subtract(base, utility, out=utility)
        np.multiply(loyal, bonus, out=spare)
        utility += spare
        best = np.where(avail, utility, -np.inf).max(axis=0)
        np.maximum(best, 0.0, out=best)
        utility -= best
        np.minimum(utility, 0.0, out=utility)  # brands out of reach may lie above the best
        np.exp(utility, out=utility)
        utility *= avail
        if self.nest == 1.0:
            np.exp(-best, out=weight[0])
        else:  # D_shifted^(1 - lam) exp(-lam best): the outside weight on the shifted scale
            np.sum(utility, axis=0, out=weight[0])
            np.power(weight[0], np.float32(1.0 - self.nest), out=weight[0])
            weight[0] *= np.exp(-self.nest * best)

    def _set_customers(self, customers: np.ndarray) -> None:
        self.customers = customers
        self.no_purchase = self.n - sum(customers.tolist())

    # ---- read-outs -------------------------------------------------------------------

    def shares(self) -> np.ndarray:
        """Share of all consumers buying each brand; with ``no_purchase_share`` sums to 1."""
        return self.customers / self.n

    @property
    def no_purchase_share(self) -> float:
        return self.no_purchase / self.n

    def awareness(self) -> np.ndarray:
        """Share of all consumers aware of each brand."""
        if self.compiled:
            return kernels.count_aware(self._aware) / self.n
        rows = [np.count_nonzero(row) for row in self._aware]  # row by row: half the time of axis=1
        return np.array(rows, dtype=np.intp) / self.n
