"""MarketEntryModel: firms entering a foreign market, month by month.

    model = MarketEntryModel("alpha-beta", seed=1, entry_mode="joint_venture")
    for _ in range(120):
        model.step()

One step is one month. The schedule (``step``) is the story of an entry; docs/ODD.md
describes each stage with its equations and sources.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import mesa
import numpy as np
from mesa.datacollection import DataCollector

from abm import lifecycle
from abm.agents import Entrant, Firm, Incumbent, LocalPartner, Regulator
from abm.consumers import BrandOffer, ConsumerMarket
from abm.culture import kogut_singh
from abm.entry_mode import appraise_modes, choose_mode, jv_setup_cost, jv_stake, mode_outlay, partner_attractiveness
from abm.finance import discount_factor, split_month
from abm.presets import resolve_scenario
from abm.rules.competition import REVIEW_MONTHS, best_response, revision_value, stack
from abm.scenario import Scenario, ScenarioError


def _brand_share(model: MarketEntryModel, brand: int) -> float:
    """DataCollector reporter (bound with functools.partial, so it pickles)."""
    return float(model.consumers.customers[brand]) / model.consumers.n


class MarketEntryModel(mesa.Model):
    """Entrants, local partners, incumbents and regulators on a consumer market.

    Args:
        scenario: a :class:`Scenario`, a preset name, a path to a TOML file, or None for
            the default preset (``alpha-beta``).
        seed: seed of every random draw of the run.
        rng: passed to ``mesa.Model`` instead of ``seed`` (Mesa's own convention).
        **kwargs: flat overrides of the most used parameters (``entry_mode``,
            ``cultural_distance``, ``partner_commitment``, ... see ``abm.OVERRIDES``) or
            dotted paths (``partners[0].regulatory_ties``).

    Raises:
        ScenarioError: for an unknown scenario, parameter or a value out of range.
    """

    def __init__(
        self, scenario: Scenario | str | None = None, *, seed: int | None = None, rng: Any = None, **kwargs: Any
    ):
        if seed is not None and rng is not None:
            raise ScenarioError("seed", seed, "either seed or rng, not both")
        super().__init__(seed=seed, rng=rng) if rng is not None else super().__init__(seed=seed)
        scenario = resolve_scenario(scenario)
        if kwargs:  # named **kwargs so Mesa's SolaraViz reads it as optional
            scenario = scenario.with_overrides(kwargs)
        self.scenario = scenario
        self.seed = seed
        self.month = 0
        self.events: list[tuple[int, str, str, str]] = []
        self.partnerships = []
        self._rows: list[tuple] = []
        self._build_map()
        self._create_agents()
        self.ownership_cap = min((r.config.foreign_ownership_cap for r in self.regulators), default=1.0)
        self.enter_market()
        self.datacollector = DataCollector(model_reporters=self._reporters())
        self.running = True
        self.record()

    # ---- set-up ----------------------------------------------------------------------

    def _build_map(self) -> None:
        m = self.scenario.market
        self.n_regions = m.regions_x * m.regions_y
        ix, iy = np.meshgrid(np.arange(m.regions_x), np.arange(m.regions_y))
        centres = np.stack([(ix.ravel() + 0.5) / m.regions_x, (iy.ravel() + 0.5) / m.regions_y], axis=1)
        d = np.linalg.norm(centres[:, None, :] - centres[None, :, :], axis=2)
        self.region_centres = centres
        self.region_distance = d / d.max() if d.max() > 0 else d  # [base, region] in [0, 1]

    def _create_agents(self) -> None:
        s = self.scenario
        host = s.market.host_country
        self.regulators = [Regulator(self, cfg) for cfg in s.regulators]
        brand = 0
        self.entrants: list[Entrant] = []
        for cfg in s.entrants:
            cd = cfg.cultural_distance if cfg.cultural_distance is not None else kogut_singh(cfg.home_country, host)
            self.entrants.append(Entrant(self, cfg, brand, cd))
            brand += 1
        self.incumbents = []
        for cfg in s.incumbents:
            self.incumbents.append(Incumbent(self, cfg, brand))
            brand += 1
        self.partner_brands: dict[str, Incumbent] = {}  # a partner's own brand, run as an incumbent
        for cfg in s.partners:
            if cfg.brand_share > 0:
                self.partner_brands[cfg.name] = Incumbent(self, cfg.brand_config(), brand)
                self.incumbents.append(self.partner_brands[cfg.name])
                brand += 1
        self.partners = []
        for cfg in s.partners:
            self.partners.append(LocalPartner(self, cfg, brand))
            brand += 1
        self.firms: list[Firm] = [*self.entrants, *self.incumbents, *self.partners]
        self.entrant_by_name = {e.name: e for e in self.entrants}
        self.partner_by_name = {p.name: p for p in self.partners}
        self.consumers = ConsumerMarket(s.market, len(self.firms), self.rng)
        for inc in self.incumbents:
            self.consumers.seed_brand(inc.brand, inc.config.initial_share, 0.9, inc.coverage)
        for firm in self.firms:
            firm.customers = int(self.consumers.customers[firm.brand])
            firm.market_share = firm.customers / self.consumers.n

    def _reporters(self) -> dict:
        reporters: dict[str, Any] = {"Month": "month", "No purchase": "no_purchase_share"}
        for firm in self.firms:
            reporters[f"Share: {firm.name}"] = partial(_brand_share, brand=firm.brand)
        reporters["Trust"] = "focal_trust"
        reporters["Cash"] = "focal_cash"
        return reporters

    # ---- entry (month 0) -------------------------------------------------------------

    def enter_market(self) -> None:
        """Entrants, in random order, pick a partner and a mode, file for licences and
        pay their way in. A rival that moves first can take the partner one wanted."""
        order = list(self.entrants)
        self.random.shuffle(order)
        for entrant in order:
            self._enter(entrant)

    def _pick_partner(self, entrant: Entrant) -> LocalPartner | None:
        free = [p for p in self.partners if p.free]
        if not free or entrant.config.entry_mode == "alone":
            return None
        wanted = entrant.config.preferred_partner
        if wanted:
            match = [p for p in free if p.name == wanted]
            if match:
                return match[0]
            self.log(
                entrant.name, "partner_taken", f"{wanted} is already taken by a rival; {entrant.name} looks elsewhere"
            )
        return max(free, key=lambda p: partner_attractiveness(p.config, entrant.cultural_distance))

    def _enter(self, entrant: Entrant) -> None:
        cfg = entrant.config
        partner = self._pick_partner(entrant)
        mode = cfg.entry_mode
        if mode == "auto":
            appraisals = appraise_modes(
                self.scenario, cfg, partner.config if partner else None, entrant.cultural_distance
            )
            choice = choose_mode(appraisals)
            if choice is None:
                why = "; ".join(f"{a.mode}: {a.reason}" for a in appraisals)
                entrant.entered = False
                entrant.leave_market(f"no feasible entry mode ({why})")
                return
            mode = choice.mode
            ranked = sorted((a for a in appraisals if a.feasible), key=lambda a: -a.score)
            self.log(
                entrant.name,
                "mode_chosen",
                f"{entrant.name} chooses {mode.replace('_', ' ')} "
                f"(risk-adjusted value {choice.score:.1f}m; next best: "
                f"{ranked[1].mode.replace('_', ' ') if len(ranked) > 1 else 'none'})",
            )
        if mode != "alone" and partner is None:
            self.log(entrant.name, "no_partner", f"no free local partner: {entrant.name} enters alone")
            mode = "alone"
        entrant.mode = entrant.initial_mode = mode
        stake = 1.0
        if mode == "joint_venture":
            stake = jv_stake(self.scenario, cfg)
            if stake < cfg.jv_stake:
                self.log(
                    entrant.name, "stake_capped", f"foreign-ownership cap: {entrant.name}'s JV stake cut to {stake:.0%}"
                )
        ties = partner.config.regulatory_ties if (partner is not None and mode != "alone") else 0.0
        if not self.apply_for_licences(entrant, mode, stake if mode == "joint_venture" else 1.0, ties):
            return
        entrant.entered = True
        outlay = (
            stake * jv_setup_cost(self.scenario, cfg)
            if mode == "joint_venture"
            else mode_outlay(self.scenario, cfg, mode, partner.config if partner else None)
        )
        entrant.invest(outlay, self.month)
        if mode in ("alliance", "joint_venture"):
            p = lifecycle.form(self, entrant, partner, mode, stake)
            if mode == "joint_venture":
                p.partner_cash_flow -= (1 - stake) * jv_setup_cost(self.scenario, cfg)
                p.partner_npv = p.partner_cash_flow
        elif mode == "acquisition":
            entrant.acquired = partner
            partner.acquired_by = entrant
            self.log(
                entrant.name,
                "acquisition",
                f"{entrant.name} acquires {partner.name} for {partner.config.acquisition_price:.1f}m",
            )
        else:
            self.log(entrant.name, "enters_alone", f"{entrant.name} enters alone (set-up {outlay:.1f}m)")

    def apply_for_licences(self, entrant: Entrant, mode: str, foreign_equity: float, ties: float) -> bool:
        """File with every regulator; False (and the entrant stays out) if any refuses."""
        refused = False
        for reg in self.regulators:
            app = reg.receive(entrant, mode, foreign_equity, ties)
            refused = refused or app.status == "refused"
        entrant.licence_month = None  # set when every regulator has licensed it (at once if none)
        if refused:
            entrant.leave_market("licence refused")
        return not refused

    # ---- the monthly schedule --------------------------------------------------------

    def step(self) -> None:
        """One month of the market entry."""
        self.month = self.steps
        self.regulators_review_licences()
        self.partners_deliver_commitment()
        self.entrants_prepare_their_offer()
        self.incumbents_respond()
        self.market_clears()
        self.firms_book_the_month()
        self.partnerships_evolve()
        self.record()
        if self.month >= self.scenario.months:
            self.running = False

    def regulators_review_licences(self) -> None:
        regulators = self.agents_by_type[Regulator] if self.regulators else []
        if regulators:
            regulators.shuffle_do("review_applications")
            regulators.shuffle_do("change_rules")
        for e in self.entrants:
            if e.licence_month is None and e.in_market and e.entered and e.licensed:
                e.licence_month = self.month
                if e.first_licence_month is None:
                    e.first_licence_month = self.month
                self.log(e.name, "on_sale", f"{e.name} is licensed and starts selling")
                self.launch_through_partner(e)

    def launch_through_partner(self, e: Entrant) -> None:
        """At launch a partner's (or acquired firm's) channels tell their own customers:
        consumers its network covers become aware with probability 0.25 x engagement."""
        local = e.partner if e.partnership is not None else e.acquired
        if local is None:
            return
        engagement = e.partner_engagement if e.partnership is not None else 1.0
        self.consumers.seed_awareness(e.brand, 0.25 * engagement, local.network)

    def partners_deliver_commitment(self) -> None:
        for p in self.partnerships:
            if p.active:
                lifecycle.deliver_commitment(self, p)

    def entrants_prepare_their_offer(self) -> None:
        for e in self.entrants:
            if e.acquired is not None and e.in_market and not e.integration_failed and self.month <= 24:
                hazard = self.scenario.contract.integration_risk * e.cultural_distance
                if self.rng.random() < hazard:
                    e.integration_failed = True
                    self.log(
                        e.name,
                        "integration_failed",
                        f"integration of {e.acquired.name} fails: key staff and customers drift away",
                    )
            e.adapt_product()
            e.build_distribution()

    def incumbents_respond(self) -> None:
        """Incumbents read last month's sales; each quarter each revises its price and
        marketing by a best response to them, when that is worth its cost (ODD §7.10).
        Reviews are simultaneous: each uses only what was observed before this month."""
        if self.month == 0:
            return  # nothing sold yet
        inside = 1.0 - self.consumers.no_purchase_share
        for inc in self.incumbents:
            inc.observe(inc.market_share, inside)
        if self.month % REVIEW_MONTHS:
            return
        planners, seen = [], []
        for inc in self.incumbents:
            observed = inc.close_quarter()
            if observed is not None:
                planners.append(inc)
                seen.append(observed)
        if not planners:
            return
        key = tuple(id(inc.demand) for inc in planners)
        if getattr(self, "_planning", ((), None))[0] != key:  # the same firms plan each quarter: stack once
            self._planning = (key, stack([inc.demand for inc in planners]))
        demand = self._planning[1]
        share, inside = np.array(seen).T
        price = np.array([inc.price for inc in planners])
        marketing = np.array([inc.marketing for inc in planners])
        kinds = [inc.config.reaction for inc in planners]
        new_price, new_marketing = best_response(
            demand,
            share,
            inside,
            price,
            marketing,
            [k in ("price", "mixed") for k in kinds],
            [k in ("marketing", "mixed") for k in kinds],
        )
        gain = revision_value(demand, share, inside, price, marketing, new_price, new_marketing)
        for k, inc in enumerate(planners):
            inc.revise(new_price[k], new_marketing[k], float(gain[k]), float(share[k]))

    def market_clears(self) -> None:
        offer = self.brand_offer()
        self.consumers.spread_awareness(offer)
        customers = self.consumers.choose(offer)
        n = self.consumers.n
        for f in self.firms:
            f.customers = int(customers[f.brand])
            f.market_share = f.customers / n

    def firms_book_the_month(self) -> None:
        for e in self.entrants:
            self._book_entrant(e)
        for f in [*self.incumbents, *self.partners]:
            revenue, variable = f.sales()
            f.revenue = revenue
            f.cash_flow = revenue - variable - (f.marketing if f.on_sale else 0.0)
            f.cash += f.cash_flow

    def _book_entrant(self, e: Entrant) -> None:
        month = self.month
        e.revenue = e.cash_flow = e.partner_take = e.fixed_cost = e.variable_cost = 0.0
        if not (e.in_market and e.entered) or e.brand_owner != e.name:
            return
        revenue, variable = e.sales()
        fixed = e.config.operating_cost + e.conditions_cost + (e.marketing if e.on_sale else 0.0)
        p = e.partnership
        if p is not None:
            pcfg = self.partner_by_name[p.partner].config
            acc = split_month(
                p.kind,
                revenue,
                variable,
                fixed,
                stake=p.stake,
                profit_share=pcfg.profit_share,
                partner_service_cost=pcfg.service_cost,
                partner_delivered=p.delivered_partner,
            )
            p.partner_cash_flow += acc.partner_cash_flow
            p.partner_npv += acc.partner_cash_flow * self.discount(month, pcfg.cost_of_capital)
            p.partner_flows.append(acc.partner_cash_flow)
            e.peak_share_partnered = max(e.peak_share_partnered, e.market_share)
        else:
            acc = split_month("alone", revenue, variable, fixed)
        e.revenue, e.variable_cost, e.fixed_cost = revenue, variable, fixed
        e.partner_take, e.cash_flow = acc.partner_take, acc.entrant_cash_flow
        e.venture_flows.append(acc.operating_profit)
        e.own_flows.append(acc.entrant_cash_flow)
        e.cash += acc.entrant_cash_flow
        e.net_cash += acc.entrant_cash_flow
        e.npv += acc.entrant_cash_flow * self.discount(month, e.config.cost_of_capital)
        if e.cash < 0:
            if e.partnership is not None:
                lifecycle.end(self, e.partnership, "entrant_exited")
            e.leave_market("ran out of capital")

    def partnerships_evolve(self) -> None:
        for p in list(self.partnerships):
            if p.active:
                lifecycle.evolve(self, p)

    # ---- read-outs -------------------------------------------------------------------

    def brand_offer(self) -> BrandOffer:
        firms = self.firms
        on_sale = np.array([f.on_sale for f in firms])
        pull = np.zeros(len(firms))
        for f in firms:
            if f.on_sale:
                pull[f.brand] = (
                    f.marketing_pull()
                    if isinstance(f, Entrant) and f.brand_owner == f.name
                    else (self.scenario.market.bass_p / 12.0) * f.marketing / self.scenario.market.reference_marketing
                )
        return BrandOffer(
            on_sale=on_sale,
            promoting=on_sale,
            quality=np.array([f.quality for f in firms]),
            price=np.array([f.price for f in firms]),
            position=np.array([f.position for f in firms]),
            loyalty=np.array([f.loyalty for f in firms]),
            marketing_pull=pull,
            coverage=np.stack([f.coverage for f in firms]),
        )

    def discount(self, month: int, annual_rate: float) -> float:
        return discount_factor(month, annual_rate)

    def log(self, actor: str, kind: str, text: str) -> None:
        """Add a readable event to the run's log."""
        self.events.append((self.month, actor, kind, text))

    @property
    def no_purchase_share(self) -> float:
        return self.consumers.no_purchase_share

    @property
    def focal_trust(self) -> float:
        p = self.entrants[0].partnership
        return float(min(p.trust_entrant, p.trust_partner)) if p is not None else float("nan")

    @property
    def focal_cash(self) -> float:
        return float(self.entrants[0].cash)

    def record(self) -> None:
        """Record this month: one row per firm for the tidy frames, and Mesa's collector."""
        month = self.month
        awareness = self.consumers.awareness()
        reached = self.consumers.reached
        for e in self.entrants:
            if e.target_month_reached is None and e.brand_owner == e.name and e.market_share >= e.config.target_share:
                e.target_month_reached = month
                self.log(e.name, "target_reached", f"{e.name} reaches its target share of {e.config.target_share:.0%}")
        for f in self.firms:
            b = f.brand
            row = [
                month,
                f.name,
                f.role,
                f.brand_owner,
                f.market_share,
                f.customers,
                float(awareness[b]),
                float(reached[b]),
                f.price,
                f.on_sale,
                f.revenue,
                f.cash_flow,
            ]
            if isinstance(f, Entrant):
                p = f.partnership
                row += [
                    f.licensed,
                    f.in_market,
                    f.mode,
                    f.cash,
                    f.npv,
                    f.partner_take,
                    f.variable_cost,
                    f.fixed_cost,
                    f.adaptation,
                    p.kind if p else "none",
                    p.partner if p else "",
                    p.trust_entrant if p else np.nan,
                    p.trust_partner if p else np.nan,
                    p.delivered_entrant if p else np.nan,
                    p.delivered_partner if p else np.nan,
                    p.partner_know_how if p else np.nan,
                ]
            else:
                row += [
                    True,
                    True,
                    "",
                    f.cash,
                    np.nan,
                    0.0,
                    np.nan,
                    np.nan,
                    np.nan,
                    "",
                    "",
                    np.nan,
                    np.nan,
                    np.nan,
                    np.nan,
                    np.nan,
                ]
            self._rows.append(tuple(row))
        self.datacollector.collect(self)

    def release(self) -> None:
        """Drop Mesa's class-level reference to this model (mesa#3179), so a finished run
        can be freed; long-lived workers would otherwise grow with every run."""
        mesa.Agent._ids.pop(self, None)

    def run(self, months: int | None = None) -> MarketEntryModel:
        """Step to the scenario's horizon (or ``months`` more months)."""
        for _ in range(self.scenario.months - self.month if months is None else months):
            self.step()
        return self


STEP_COLUMNS = [
    "month",
    "firm",
    "role",
    "owner",
    "market_share",
    "customers",
    "awareness",
    "coverage",
    "price",
    "on_sale",
    "revenue",
    "cash_flow",
    "licensed",
    "in_market",
    "entry_mode",
    "cash",
    "npv_to_date",
    "partner_take",
    "variable_cost",
    "fixed_cost",
    "adaptation",
    "partnership",
    "partner",
    "trust_entrant",
    "trust_partner",
    "commitment_entrant",
    "commitment_partner",
    "partner_know_how",
]
"""Columns of the steps frame (one row per firm per month)."""
