"""Reference for the benchmarks only: every consumer a Mesa Agent, stepped with shuffle_do.

The consumer update of ``abm/consumers.py`` written the way a Mesa model usually is: one
:class:`Consumer` agent per consumer with its own state (aware flags, last choice, taste,
price weight, reach ranks), and ``model.agents.shuffle_do("step")`` each month. Each agent
runs the same rule in plain Python: Bass-like awareness with neighbourhood word of mouth,
then a logit choice by Gumbel-max among the brands it knows and can buy, with loyalty to
last month's brand. The offer is static (no firm acts), as for the bare numpy kernel.

``abm bench`` times it against the vectorised kernel (``speedup_vs_mesa_agents``), and
tests/test_bench.py checks that both give the same market shares, so that the benchmark
compares like with like.
"""

from __future__ import annotations

import math

import mesa
import numpy as np


class Consumer(mesa.Agent):
    """One consumer: where it lives, what it likes and knows, what it bought."""

    def __init__(
        self, model: ReferenceMarket, cell: int, region: int, taste: float, price_weight: float, reach_rank: list[float]
    ):
        super().__init__(model)
        self.cell = cell
        self.region = region
        self.taste = taste
        self.price_weight = price_weight
        self.reach_rank = reach_rank
        self.aware = [False] * len(reach_rank)
        self.last_choice = -1

    def step(self) -> None:
        """Learn about brands, then buy one or nothing."""
        self.learn()
        self.buy()

    def learn(self) -> None:
        model = self.model
        draw = model.random.random
        hazard = model.hazard[self.cell]
        for j in range(model.n_brands):
            if not self.aware[j]:
                if model.on_sale[j] and draw() < hazard[j]:
                    self.aware[j] = True
            elif not model.on_sale[j] and draw() < model.market.awareness_decay:
                self.aware[j] = False

    def buy(self) -> None:
        model, m = self.model, self.model.market
        draw = model.random.random
        best, best_utility = -1, m.no_purchase_utility + m.choice_noise * -math.log(-math.log(draw() or 1e-300))
        for j in range(model.n_brands):
            if not (model.on_sale[j] and self.aware[j] and self.reach_rank[j] < model.coverage[j][self.region]):
                continue
            utility = (
                model.quality[j]
                - m.fit_weight * (self.taste - model.position[j]) ** 2
                - self.price_weight * model.price[j]
                + m.choice_noise * -math.log(-math.log(draw() or 1e-300))
            )
            if j == self.last_choice:
                utility += m.switching_cost * model.loyalty[j]
            if utility > best_utility:
                best, best_utility = j, utility
        self.last_choice = best


class ReferenceMarket(mesa.Model):
    """Consumers as Mesa agents facing a static offer.

    Args:
        market: an ``abm.scenario.Market``.
        offer: a ``numpy_kernel.StaticOffer``.
        seed: seed of the run.
        incumbents: ``(brand, initial share)`` pairs seeded as established brands.
    """

    def __init__(self, market, offer, *, seed: int = 0, incumbents: tuple[tuple[int, float], ...] = ()):
        super().__init__(seed=seed)
        self.market = market
        self.n_brands = len(offer.quality)
        self.on_sale = [bool(v) for v in offer.on_sale]
        self.quality, self.price, self.position, self.loyalty, self.pull = (
            [float(v) for v in getattr(offer, name)]
            for name in ("quality", "price", "position", "loyalty", "marketing_pull")
        )
        self.coverage = [[float(v) for v in row] for row in offer.coverage]
        k = market.neighbourhoods
        self.n_cells = k * k
        sigma = market.price_sensitivity_spread
        for _ in range(market.consumers):
            x, y = self.random.random(), self.random.random()
            cell = min(int(y * k), k - 1) * k + min(int(x * k), k - 1)
            region = min(int(y * market.regions_y), market.regions_y - 1) * market.regions_x + min(
                int(x * market.regions_x), market.regions_x - 1
            )
            beta = (market.price_sensitivity / market.reference_price) * self.random.lognormvariate(
                -0.5 * sigma * sigma, sigma
            )
            Consumer(
                self,
                cell,
                region,
                self.random.gauss(0.0, market.taste_spread),
                beta,
                [self.random.random() for _ in range(self.n_brands)],
            )
        for brand, share in incumbents:
            self.seed_brand(brand, share, 0.9)
        self.cell_size = [0] * self.n_cells
        for consumer in self.agents:
            self.cell_size[consumer.cell] += 1
        self.hazard: list[list[float]] = []
        self.customers = [0] * self.n_brands

    def seed_brand(self, brand: int, share: float, awareness: float) -> None:
        covered = [c for c in self.agents if c.reach_rank[brand] < self.coverage[brand][c.region]]
        for c in covered:
            if self.random.random() < awareness:
                c.aware[brand] = True
        free = [c for c in covered if c.last_choice < 0]
        for c in self.random.sample(free, min(len(free), round(share * len(self.agents)))):
            c.last_choice = brand
            c.aware[brand] = True

    def step(self) -> None:
        """One month: word of mouth from last month's awareness, then every consumer acts."""
        m, f = self.market, self.n_brands
        counts = [[0] * f for _ in range(self.n_cells)]
        totals = [0] * f
        for consumer in self.agents:
            row = counts[consumer.cell]
            for j in range(f):
                if consumer.aware[j]:
                    row[j] += 1
                    totals[j] += 1
        n, w, q = len(self.agents), m.local_word_of_mouth, m.bass_q / 12.0
        self.hazard = [
            [
                1.0
                - math.exp(
                    -(self.pull[j] + q * (w * counts[c][j] / max(self.cell_size[c], 1) + (1.0 - w) * totals[j] / n))
                )
                for j in range(f)
            ]
            for c in range(self.n_cells)
        ]
        self.agents.shuffle_do("step")
        self.customers = [0] * f
        for consumer in self.agents:
            if consumer.last_choice >= 0:
                self.customers[consumer.last_choice] += 1

    def shares(self) -> np.ndarray:
        return np.array(self.customers) / len(self.agents)


def simulate(
    market, offer, months: int, *, seed: int = 0, incumbents: tuple[tuple[int, float], ...] = ()
) -> np.ndarray:
    """Run the reference for ``months``; returns (months, n_brands) customer shares."""
    model = ReferenceMarket(market, offer, seed=seed, incumbents=incumbents)
    shares = []
    for _ in range(months):
        model.step()
        shares.append(model.shares())
    mesa.Agent._ids.pop(model, None)  # let the finished model be freed (mesa#3179)
    return np.array(shares)
