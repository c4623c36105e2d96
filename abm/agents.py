"""The actors of a market entry: entrants, local partners, incumbents and regulators.

Firms are Mesa agents (there are few of them); consumers are arrays (see consumers.py).
Each firm owns one brand column of the consumer market. Behaviour is split into small
verbs that the model's schedule calls by stage.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import mesa
import numpy as np

from abm import licensing
from abm.licensing import Application
from abm.rules import competition
from abm.scenario import Entrant as EntrantConfig
from abm.scenario import Incumbent as IncumbentConfig
from abm.scenario import Partner as PartnerConfig
from abm.scenario import Regulator as RegulatorConfig
from abm.vocabulary import EnteredMode, EntryMode, EntryModeSetting

if TYPE_CHECKING:
    from abm.model import MarketEntryModel
    from abm.partnership import Partnership


class Firm(mesa.Agent):
    """A firm with a brand on the consumer market. Money in millions, per month."""

    role = "firm"

    def __init__(self, model: MarketEntryModel, name: str, brand: int):
        super().__init__(model)
        self.name = name
        self.brand = brand
        self.brand_owner = name
        self.quality = 0.0
        self.price = 1.0
        self.unit_cost = 0.0
        self.marketing = 0.0
        self.position = 0.0  # product position on the taste axis; 0 = local norm
        self.loyalty = 1.0
        self.coverage = np.zeros(model.n_regions)
        self.customers = 0
        self.market_share = 0.0
        self.revenue = 0.0
        self.cash_flow = 0.0

    @property
    def on_sale(self) -> bool:
        return False

    def sales(self) -> tuple[float, float]:
        """(revenue, variable cost) of this month's customers, in millions."""
        m = self.model.scenario.market
        buyers = self.customers * m.buyers / m.consumers
        return buyers * self.price / 1e6, buyers * self.unit_cost / 1e6


class Regulator(mesa.Agent):
    """An authority that licenses entrants and sometimes changes the rules."""

    role = "regulator"

    def __init__(self, model: MarketEntryModel, config: RegulatorConfig):
        super().__init__(model)
        self.config = config
        self.name = config.name
        self.applications: dict[str, Application] = {}
        self.refile_at: dict[str, int] = {}

    def receive(self, entrant: Entrant, mode: EntryMode, foreign_equity: float, ties: float) -> Application:
        """File an application; refuse it at once if the entity is not eligible."""
        c = self.config
        app = Application(entrant.name, mode, entrant.compliance, ties, foreign_equity, self.model.month)
        why = licensing.eligibility(mode, foreign_equity, c.requires_local_entity, c.foreign_ownership_cap)
        if why:
            app.status, app.decided_month = "refused", self.model.month
            self.model.log(self.name, "licence_refused", f"licence for {entrant.name} refused: {why}")
        self.applications[entrant.name] = app
        return app

    def review_applications(self) -> None:
        """Decide pending applications; re-open rejected ones whose re-filing is due."""
        c, month, rng = self.config, self.model.month, self.model.rng
        for name, app in self.applications.items():
            if app.status == "rejected" and self.refile_at.get(name) == month:
                app.status, app.attempts = "pending", app.attempts + 1
                app.compliance = licensing.improved_compliance(app.compliance)
                app.filed_month = month
                self.model.log(
                    name, "licence_refiled", f"{name} re-filed its licence application (attempt {app.attempts})"
                )
            if app.status != "pending":
                continue
            if app.clock_stop >= 1:
                app.clock_stop -= 1
                continue
            hazard = licensing.decision_hazard(c.processing_months, c.stringency, app.ties, c.tie_speedup)
            if rng.random() >= hazard:
                continue
            odds = licensing.approval_probability(app.compliance, c.stringency, app.ties, c.tie_weight)
            app.decided_month = month
            if rng.random() < odds:
                app.status = "approved"
                self.model.log(
                    self.name,
                    "licence_approved",
                    f"licence approved for {name} after {month - app.first_filed_month} months",
                )
            else:
                app.status = "rejected"
                self.refile_at[name] = month + 3
                self.model.log(
                    self.name,
                    "licence_rejected",
                    f"licence application of {name} rejected; it will re-file in 3 months",
                )

    def change_rules(self) -> None:
        """A regulatory surprise, at ``surprise_rate`` per year: delay, suspension or conditions."""
        c, rng, month = self.config, self.model.rng, self.model.month
        if rng.random() >= c.surprise_rate / 12.0:
            return
        kind = licensing.SURPRISES[int(rng.integers(len(licensing.SURPRISES)))]
        live = [a for a in self.applications.values() if a.status in ("pending", "approved")]
        if kind == "delay":
            pending = [a for a in live if a.status == "pending"]
            for app in pending:
                app.clock_stop += rng.exponential(c.surprise_months)
            if pending:
                self.model.log(
                    self.name, "rule_change", f"rule change: reviews paused ({len(pending)} applications delayed)"
                )
        elif kind == "suspension":
            approved = [a for a in live if a.status == "approved" and a.suspended_until <= month]
            if not approved:
                return
            app = approved[int(rng.integers(len(approved)))]
            months = max(1, math.ceil(rng.exponential(c.surprise_months) * (1.0 - 0.5 * app.ties)))
            app.suspended_until = month + months
            self.model.log(
                self.name, "licence_suspended", f"rule change: licence of {app.applicant} suspended for {months} months"
            )
        elif live:
            for app in live:
                entrant = self.model.entrant_by_name[app.applicant]
                entrant.conditions_cost += c.condition_cost * (1.0 - 0.5 * app.ties)
            self.model.log(
                self.name, "rule_change", "rule change: new conditions add compliance costs for foreign firms"
            )

    def withdraw(self, entrant_name: str) -> None:
        """The entrant left: its application or licence lapses and no rule change hits it."""
        app = self.applications.get(entrant_name)
        if app is not None and app.status in ("pending", "rejected", "approved"):
            app.status = "withdrawn"

    def licenses(self, entrant_name: str) -> bool:
        app = self.applications.get(entrant_name)
        return app is not None and app.status == "approved" and app.suspended_until <= self.model.month


class Entrant(Firm):
    """A foreign firm entering the market, alone or with a local partner."""

    role = "entrant"

    def __init__(self, model: MarketEntryModel, config: EntrantConfig, brand: int, cultural_distance: float):
        super().__init__(model, config.name, brand)
        self.config = config
        self.cultural_distance = cultural_distance
        self.quality = self.base_quality = config.quality  # base: before its marketing's effect
        self.price = config.price
        self.unit_cost = config.unit_cost
        self.marketing = config.marketing
        self.compliance = config.compliance
        self.misfit = model.scenario.market.misfit_per_distance * cultural_distance
        self.adaptation = 0.0  # local knowledge learned, [0, 1]
        self.position = self.misfit
        self.build_progress = 0.0  # own distribution build, [0, 1]
        self.inherited_coverage = np.zeros(model.n_regions)
        self._own_coverage: dict[tuple[float, bytes], np.ndarray] = {}  # own_coverage's recent answers
        self._alone_from: np.ndarray | None = None  # build_distribution's coverage alone, and what it came from
        self._alone_coverage = np.zeros(0)
        self.mode: EntryModeSetting = config.entry_mode  # current mode; resolved at entry
        self.initial_mode: EnteredMode = "none"  # the mode it entered with
        self.partner: LocalPartner | None = None
        self.partnership: Partnership | None = None
        self.acquired: LocalPartner | None = None
        self.integration_failed = False
        self.in_market = True
        self.entered = False
        self.exit_month: int | None = None
        self.exit_cause = ""
        self.conditions_cost = 0.0
        self.capital = config.capital
        self.cash = config.capital
        self.invested = 0.0
        self.npv = 0.0
        self.net_cash = 0.0
        self.terminal_value = 0.0
        self.venture_flows: list[float] = []  # the venture's monthly operating profit
        self.own_flows: list[float] = []  # the entrant's own monthly cash flow
        self.partner_take = 0.0
        self.variable_cost = 0.0
        self.fixed_cost = 0.0
        self.peak_share_partnered = 0.0
        self.target_month_reached: int | None = None
        self.licence_month: int | None = None  # month it became licensed (again)
        self.first_licence_month: int | None = None  # month it was first licensed
        self.partner_engagement = 0.0  # smoothed delivered commitment of the partner
        self.share_history: list[float] = []  # its own share, month by month while it sells
        self.taught = 0.0  # part of its adaptation a partner taught it

    # ---- state -----------------------------------------------------------------------

    @property
    def licensed(self) -> bool:
        name = self.name  # a loop, not all(generator): read several times a month, per firm
        for regulator in self.model.regulators:  # noqa: SIM110
            if not regulator.licenses(name):
                return False
        return True

    @property
    def on_sale(self) -> bool:
        if self.brand_owner != self.name:
            return True  # sold with a JV: the brand sells on under its new owner
        return self.in_market and self.entered and self.licensed

    @property
    def local_knowledge(self) -> float:
        return self.adaptation

    # ---- verbs -----------------------------------------------------------------------

    def invest(self, amount: float, month: int) -> None:
        """An outflow at entry or on a partnership change; counted as investment."""
        self.pay(amount, month)
        self.invested += amount

    def pay(self, amount: float, month: int) -> None:
        """An outflow outside operations that is not an investment (a fee, a penalty)."""
        self.cash -= amount
        self.net_cash -= amount
        self.npv -= amount * self.model.discount(month, self.config.cost_of_capital)

    def receive(self, amount: float, month: int) -> None:
        """An inflow outside operations: sale proceeds or salvage."""
        self.cash += amount
        self.net_cash += amount
        self.npv += amount * self.model.discount(month, self.config.cost_of_capital)

    def adapt_product(self) -> None:
        """Learn local tastes: own learning plus what a committed partner teaches.

        ``dA = (r_own + 0.08 k_partner e_partner) (1 - A)``; the product moves from its
        culturally distant start towards the local norm as ``position = misfit (1 - A)``.
        """
        if not self.in_market or self.brand_owner != self.name:
            return
        teach = 0.0
        if self.partnership is not None and self.partner is not None:
            teach = 0.08 * self.partner.config.consumer_knowledge * self.partner_engagement
        elif self.acquired is not None:
            teach = 0.08 * self.acquired.config.consumer_knowledge * (0.5 if self.integration_failed else 1.0)
        gap = 1.0 - self.adaptation
        self.adaptation += (self.config.learning_rate + teach) * gap
        self.taught += teach * gap
        self.position = self.misfit * (1.0 - self.adaptation)

    def lose_partner_teaching(self, loss: float) -> None:
        """After a break-up, ``loss`` of what the partner taught goes with the partner (its
        people and their local knowledge): ``A -= loss x taught``."""
        self.adaptation = max(0.0, self.adaptation - loss * self.taught)
        self.taught *= 1.0 - loss
        self.position = self.misfit * (1.0 - self.adaptation)

    def own_coverage(self, progress: float | None = None) -> np.ndarray:
        """Coverage of its own network at ``progress`` of its build (default: now), by region.

        Read-only: the last few answers are kept (the month's plans ask for the same progress
        several times, and for 1.0 every time once the network is built)."""
        progress = self.build_progress if progress is None else progress
        key = (progress, self.inherited_coverage.tobytes())
        cached = self._own_coverage.get(key)
        if cached is None:
            reach = 2.0 * progress - self.model.region_distance[self.config.base_region]
            own = self.config.own_reach * np.minimum(np.maximum(reach, 0.0), 1.0)  # clip, cheaper on 9 regions
            cached = np.maximum(own, self.inherited_coverage)
            cached.flags.writeable = False
            if len(self._own_coverage) >= 8:
                self._own_coverage.clear()
            self._own_coverage[key] = cached
        return cached

    def build_distribution(self) -> None:
        """Grow its own network region by region from its base; half pace with a partner (it
        leans on the partner's), full pace alone. A partner's network counts as it delivers."""
        if not self.in_market or self.brand_owner != self.name:
            return
        pace = 0.5 if self.partnership is not None else 1.0
        self.build_progress = min(1.0, self.build_progress + pace / self.config.build_months)
        own = self.own_coverage()
        if self.partnership is not None and self.partner is not None:
            partner = self.partner.network * self.partner_engagement
        elif self.acquired is not None:
            partner = self.acquired.network * (0.5 if self.integration_failed else 1.0)
        else:  # no one else's network: (1 - own) x (1 - 0) is (1 - own), bit for bit; the same
            # array while ``own`` is (model.brand_offer copies a coverage row only when it changes)
            if self._alone_from is not own:
                self._alone_from, self._alone_coverage = own, 1.0 - (1.0 - own)
            self.coverage = self._alone_coverage
            return
        self.coverage = 1.0 - (1.0 - own) * (1.0 - partner)

    def marketing_pull(self) -> float:
        """Bass p per month from marketing: ``(p/12) (m / m_ref) / (1 + 0.15 CD (1 - A))``.

        Cultural distance blunts marketing until the entrant has learned the market; a
        partner's consumer knowledge adds up to half again.
        """
        m = self.model.scenario.market
        efficacy = 1.0 / (1.0 + 0.15 * self.cultural_distance * (1.0 - self.adaptation))
        boost = 1.0
        if self.partnership is not None and self.partner is not None:
            boost += 0.5 * self.partner.config.consumer_knowledge * self.partner_engagement
        return (m.bass_p / 12.0) * (self.marketing / m.reference_marketing) * efficacy * boost

    def leave_market(self, cause: str) -> None:
        if not self.in_market:
            return
        self.in_market = False
        self.exit_month = self.model.month
        self.exit_cause = cause
        for regulator in self.model.regulators:
            regulator.withdraw(self.name)
        self.model.log(self.name, "left_market", f"{self.name} left the market: {cause}")
        local = self.acquired
        if local is not None and local.acquired_by is self:  # the acquired firm is sold on with the exit
            local.acquired_by = None
            if local.own_brand is not None:
                local.own_brand.brand_owner = local.own_brand.name  # it earns and plans for itself again
                self.model.log(
                    local.name, "brand_sold_on", f"{local.own_brand.name} is sold on with {self.name}'s exit"
                )


class LocalPartner(Firm):
    """A local firm with knowledge, distribution and regulatory ties to offer."""

    role = "partner"

    def __init__(self, model: MarketEntryModel, config: PartnerConfig, brand: int):
        super().__init__(model, config.name, brand)
        self.config = config
        self.network = config.distribution_reach * (1.0 - 0.5 * model.region_distance[config.base_region])
        self.engaged_with: Entrant | None = None
        self.acquired_by: Entrant | None = None
        self.rival = False
        self.cash = 0.0

    @property
    def free(self) -> bool:
        return self.engaged_with is None and self.acquired_by is None and not self.rival

    @property
    def on_sale(self) -> bool:
        """Its own column sells only the rival brand a defecting partner launches; a partner
        that already sold a brand of its own puts the know-how into that one instead."""
        return self.rival and self.own_brand is None

    # -- competition: its own brand, if it sells one (ODD §7.10) --
    @property
    def own_brand(self) -> Incumbent | None:
        """The incumbent that runs its own brand (``brand_share > 0``), or None."""
        return self.model.partner_brands.get(self.name)

    # -- end of its own brand --

    def launch_rival_brand(self, know_how: float, entrant: Entrant) -> Firm:
        """Turn competitor with what it learned: a locally fitted copy of the entrant's product.

        A partner that already sells its own brand relaunches that brand with the copy's
        quality (if better) rather than opening a second one (ODD §7.20); returns the firm
        whose brand now carries the copy."""
        self.rival = True
        copied = entrant.quality * know_how + 0.3 * (1.0 - know_how)
        own = self.own_brand
        if own is not None:
            own.improve_quality(copied)
            return own
        self.quality = copied
        self.price = entrant.price * 0.95
        self.unit_cost = entrant.unit_cost
        self.marketing = entrant.marketing
        self.position = 0.0
        self.coverage = self.network.copy()
        return self


class Incumbent(Firm):
    """An established local firm: each quarter it revises its price and marketing by a best
    response to the demand it observes, when the gain is worth the cost of a change (ODD §7.10).

    A local partner's own brand is run by one of these too (``LocalPartner.own_brand``).
    """

    role = "incumbent"

    def __init__(self, model: MarketEntryModel, config: IncumbentConfig, brand: int):
        super().__init__(model, config.name, brand)
        self.config = config
        self.quality = self.base_quality = config.quality  # base: before its marketing's effect
        self.price = config.price
        self.unit_cost = config.unit_cost
        self.marketing = config.marketing
        self.loyalty = config.loyalty
        self.position = 0.0
        self.coverage = config.distribution_reach * (1.0 - 0.5 * model.region_distance[config.base_region])
        self.reactions = 0  # revisions that moved price or marketing by more than 1 %
        self.demand: competition.PerceivedDemand | None = None  # calibrated at its first review
        self.observed = [0, 0.0, 0.0]  # months, sum of own shares, sum of brands' shares since its last review
        self.cash = 0.0

    @property
    def on_sale(self) -> bool:
        return True

    def observe(self, share: float, inside_share: float) -> None:
        """Last month's sales: its own share and the share of consumers who bought any brand."""
        seen = self.observed
        seen[0] += 1
        seen[1] += share
        seen[2] += inside_share

    def close_quarter(self) -> tuple[float, float] | None:
        """The quarter's mean observed ``(share, brands' share)`` if it is to plan on them.

        At its first review it reads its demand from its status quo instead (``alpha``,
        ``gamma``: :func:`abm.rules.competition.calibrate`: what it chose before the entrant
        sold was optimal for it) and keeps its plan; a passive incumbent never plans.
        """
        months, share, inside = self.observed
        if not months:
            return None
        share, inside = share / months, inside / months
        self.observed = [0, 0.0, 0.0]
        c, m = self.config, self.model.scenario.market
        if share <= 0.0 or inside >= 1.0:
            return None  # nothing sold, or no one left outside the category: no demand to read
        if self.demand is None:
            self.demand = competition.calibrate(
                c.price, c.unit_cost, c.marketing, share, inside, m.buyers, m.category_expansion, c.capacity
            )
            return None
        return None if c.reaction == "none" else (share, inside)

    def improve_quality(self, quality: float) -> None:
        """A partner's own brand relaunched with know-how copied from its former ally: its
        base quality rises to the copy's, the effect of its marketing kept."""
        if quality > self.base_quality:
            self.quality += quality - self.base_quality
            self.base_quality = quality

    def revise(self, price: float, marketing: float, gain: float, share: float) -> None:
        """Adopt the best response ``(price, marketing)`` if its perceived profit gain over a
        year, ``gain``, exceeds the cost of a change, ``adjustment_cost`` x monthly revenue."""
        c, m = self.config, self.model.scenario.market
        cost = c.adjustment_cost * self.price * m.buyers * share / 1e6
        if gain <= cost:
            return
        old_price, old_marketing = self.price, self.marketing
        self.price, self.marketing = float(price), float(marketing)
        if c.marketing > 0:  # marketing moves its perceived quality, as it believes (gamma)
            assert self.demand is not None  # calibrated at the review that led here (close_quarter)
            self.quality = self.base_quality + m.choice_noise * float(self.demand.gamma) * math.log(
                self.marketing / c.marketing
            )
        self.cash -= cost
        if not competition.is_reaction(old_price, old_marketing, self.price, self.marketing):
            return
        self.reactions += 1
        dp = self.price / old_price - 1.0
        dm = self.marketing / old_marketing - 1.0 if old_marketing > 0 else 0.0
        if abs(dp) > competition.REACTION_SIZE:
            kind = "incumbent_price_cut" if dp < 0 else "incumbent_price_rise"
        else:
            kind = "incumbent_marketing_push" if dm > 0 else "incumbent_marketing_cut"
        self.model.log(
            self.name,
            kind,
            f"{self.name} revises its plan at {share:.1%} share: price {dp:+.1%} to {self.price:.2f}, "
            f"marketing {dm:+.0%} to {self.marketing:.2f}m",
        )
