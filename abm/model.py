"""MarketEntryModel: firms entering a foreign market, month by month.

    model = MarketEntryModel("alpha-beta", seed=1, entry_mode="joint_venture")
    for _ in range(120):
        model.step()

One step is one month. The schedule (``step``) is the story of an entry; docs/ODD.md
describes each stage with its equations and sources. Month 0 (entry) is ``abm/entry.py``;
the partnership's life is ``abm/lifecycle.py``; every decision goes through the deciding
firm's policy (``abm/policies``), and a run whose firms use the ``external`` policy pauses
at each decision for an outside caller:

    model = MarketEntryModel("alpha-beta", seed=1, policy="external")
    while (decision := model.run_until_decision()) is not None:
        model.decide(decision.options[0].name)
"""

from __future__ import annotations

import functools
import queue
import threading
from typing import TYPE_CHECKING, Any, cast

import mesa
import numpy as np
from mesa.datacollection import DataCollector

from abm import entry, lifecycle, policies, presets
from abm.agents import Entrant, Firm, Incumbent, LocalPartner, Regulator
from abm.consumers import BrandOffer, ConsumerMarket
from abm.culture import kogut_singh
from abm.errors import InputError
from abm.finance import discount_factor, split_month
from abm.presets import resolve_scenario
from abm.rules.competition import REVIEW_MONTHS, review, stack
from abm.scenario import Scenario, ScenarioError
from abm.vocabulary import EntryMode

if TYPE_CHECKING:
    from abm.partnership import Partnership
    from abm.rules.competition import PerceivedDemand


def _preset(scenario: Any) -> Scenario | None:
    """The built-in preset ``scenario`` names (None: the default), as parsed once per process
    (``presets.shared``: callers copy it); None for anything else (a Scenario, a path, an
    unknown name)."""
    name = presets.DEFAULT if scenario is None else scenario
    if not isinstance(name, str) or name not in presets.names():
        return None
    return presets.shared(name)


def _brand_share(model: MarketEntryModel, brand: int) -> float:
    """DataCollector reporter (bound with functools.partial, so it pickles)."""
    return float(model.consumers.customers[brand]) / model.consumers.n


@functools.lru_cache(maxsize=64)
def _region_map(regions_x: int, regions_y: int) -> tuple[np.ndarray, np.ndarray]:
    """The regions' centres on the unit square and their distances ``[base, region]``, scaled
    to [0, 1]: the same for every run on a grid (read-only arrays, shared)."""
    ix, iy = np.meshgrid(np.arange(regions_x), np.arange(regions_y))
    centres = np.stack([(ix.ravel() + 0.5) / regions_x, (iy.ravel() + 0.5) / regions_y], axis=1)
    d = np.linalg.norm(centres[:, None, :] - centres[None, :, :], axis=2)
    distance = d / d.max() if d.max() > 0 else d
    centres.flags.writeable = distance.flags.writeable = False
    return centres, distance


_NO_PARTNERSHIP = ("none", "", np.nan, np.nan, np.nan, np.nan, np.nan)
"""The partnership columns of a steps row of an entrant without one."""

_NOT_AN_ENTRANT = (np.nan, 0.0, np.nan, np.nan, np.nan, "", "", np.nan, np.nan, np.nan, np.nan, np.nan)
"""The columns after ``cash`` of a steps row of a firm that is not an entrant."""


class MonthlyCollector(DataCollector):
    """Mesa's DataCollector for the model's reporters (``MarketEntryModel._reporters``), at a
    fraction of its cost: ``collect`` keeps the month's figures in one tuple (the customers
    array is the consumers' own, replaced, never written, each month), and ``model_vars``
    lays them out as Mesa's lists when read. Same values as Mesa's collector."""

    def __init__(self, model: MarketEntryModel, model_reporters: dict):
        self._brands = [(f"Share: {firm.name}", firm.brand) for firm in model.firms]
        self._names = list(model_reporters)
        self._snapshots: list[tuple] = []
        super().__init__(model_reporters=model_reporters)

    @property
    def model_vars(self) -> dict[str, list]:
        columns: dict[str, list] = {name: [] for name in self._names}
        for month, no_purchase, customers, n, trust, cash in self._snapshots:
            columns["Month"].append(month)
            columns["No purchase"].append(no_purchase)
            for name, brand in self._brands:
                columns[name].append(float(customers[brand]) / n)
            columns["Trust"].append(trust)
            columns["Cash"].append(cash)
        return columns

    @model_vars.setter
    def model_vars(self, value: dict) -> None:  # Mesa's __init__ sets it; the snapshots hold the data
        pass

    def collect(self, model: MarketEntryModel) -> None:
        c = model.consumers
        self._snapshots.append(
            (model.month, c.no_purchase_share, c.customers, c.n, model.focal_trust, model.focal_cash)
        )


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
        preset = _preset(scenario)
        if preset is not None:  # a built-in preset: parsed once per process, each model gets its copy
            scenario = preset.with_overrides(kwargs) if kwargs else preset.copy()
        else:
            scenario = resolve_scenario(scenario)
            if kwargs:  # named **kwargs so Mesa's SolaraViz reads it as optional
                scenario = scenario.with_overrides(kwargs)
        self.scenario = scenario
        self.seed = seed
        self.month = 0
        self.events: list[tuple[int, str, str, str]] = []
        self.partnerships: list[Partnership] = []
        self.decisions: list[policies.DecisionRecord] = []
        self._rows: list[tuple] = []
        self.keep_steps: bool | str = True  # False: record() skips the steps rows and Mesa's collector (sweeps);
        # "focal": only the focal (first) entrant's rows, no collector (the app's Compare)
        self._share_path: dict[str, list[float]] = {}  # each entrant's share by month while it owns its brand
        self._build_map()
        self._create_agents()
        self.ownership_cap = min((r.config.foreign_ownership_cap for r in self.regulators), default=1.0)
        self.external = any(f.config.policy == "external" for f in [*self.entrants, *self.partners])
        self._entered = False
        self._worker: threading.Thread | None = None
        self._pending: policies.Decision | None = None
        self.datacollector = MonthlyCollector(self, self._reporters())
        self.running = True
        if not self.external:  # an external decider takes the entry decisions in run_until_decision
            self._enter_and_record()

    def _enter_and_record(self) -> None:
        self.enter_market()
        self._entered = True
        self.record()

    # ---- set-up ----------------------------------------------------------------------

    def _build_map(self) -> None:
        m = self.scenario.market
        self.n_regions = m.regions_x * m.regions_y
        self.region_centres, self.region_distance = _region_map(m.regions_x, m.regions_y)

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
            reporters[f"Share: {firm.name}"] = functools.partial(_brand_share, brand=firm.brand)
        reporters["Trust"] = "focal_trust"
        reporters["Cash"] = "focal_cash"
        return reporters

    # ---- entry (month 0) -------------------------------------------------------------

    def enter_market(self) -> None:
        """Month 0: each entrant picks a partner and a mode and pays its way in (abm/entry.py)."""
        entry.enter_market(self)

    def apply_for_licences(self, entrant: Entrant, mode: EntryMode, foreign_equity: float, ties: float) -> bool:
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
        if not self._entered:
            self._enter_and_record()
        self.month = self.steps
        self.regulators_review_licences()
        self.partners_deliver_commitment()
        self.acquisitions_integrate()
        self.entrants_prepare_their_offer()
        self.incumbents_respond()
        self.market_clears()
        self.firms_book_the_month()
        self.partnerships_evolve()
        self.record()
        if self.month >= self.scenario.months:
            self.running = False

    def regulators_review_licences(self) -> None:
        if len(self.regulators) == 1:  # Mesa's shuffle of one agent draws no number: the same run, cheaper
            self.regulators[0].review_applications()
            self.regulators[0].change_rules()
        elif self.regulators:  # agents_by_type has no key for a type with no agents
            regulators = self.agents_by_type[Regulator]
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

    def acquisitions_integrate(self) -> None:
        """An acquired local firm's integration may fail in its first two years, with a monthly
        hazard ``integration_risk x CD`` (Kogut & Singh 1988)."""
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

    def entrants_prepare_their_offer(self) -> None:
        for e in self.entrants:
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
            if observed is not None and inc.brand_owner == inc.name:  # an owned brand: its owner sets it
                planners.append(inc)
                seen.append(observed)
        if not planners:
            return
        key = tuple(id(inc.demand) for inc in planners)
        if getattr(self, "_planning", ((), None))[0] != key:  # the same firms plan each quarter: stack once
            demands = cast("list[PerceivedDemand]", [inc.demand for inc in planners])  # calibrated: close_quarter
            self._planning = (key, stack(demands))
        demand = self._planning[1]
        share, inside = np.array(seen).T
        price = np.array([inc.price for inc in planners])
        marketing = np.array([inc.marketing for inc in planners])
        kinds = [inc.config.reaction for inc in planners]
        new_price, new_marketing, gain = review(demand, share, inside, price, marketing, kinds)
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
            owner = self.entrant_by_name.get(f.brand_owner) if f.brand_owner != f.name else None
            if owner is not None:  # an acquired partner's brand earns for its owner, and only for it
                owner.receive(f.cash_flow, self.month)
            else:
                f.cash += f.cash_flow

    def _book_entrant(self, e: Entrant) -> None:
        month = self.month
        e.revenue = e.cash_flow = e.partner_take = e.fixed_cost = e.variable_cost = 0.0
        if not (e.in_market and e.entered) or e.brand_owner != e.name:
            return
        revenue, variable = e.sales()
        fixed = e.config.operating_cost + e.conditions_cost + (e.marketing if e.on_sale else 0.0)
        p = e.partnership
        e.share_history.append(e.market_share)
        if p is not None:
            pcfg = self.partner_by_name[p.partner].config
            fixed += lifecycle.venture_costs(self, p)
            acc = split_month(
                p.kind,
                revenue,
                variable,
                fixed,
                stake=p.stake,
                profit_share=p.profit_share,
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
            e.leave_market("ran out of capital")
            if e.partnership is not None:
                lifecycle.end(self, e.partnership, "entrant_exited")

    def partnerships_evolve(self) -> None:
        for p in list(self.partnerships):
            if p.active:
                lifecycle.evolve(self, p)

    # ---- read-outs -------------------------------------------------------------------

    def brand_offer(self) -> BrandOffer:
        """What every brand puts before consumers this month. The arrays live as long as the
        model and are refilled each month (copy them to keep a month's offer)."""
        offer = getattr(self, "_offer", None)
        if offer is None:
            f = len(self.firms)
            on_sale = np.zeros(f, dtype=bool)
            offer = self._offer = BrandOffer(
                on_sale=on_sale,
                promoting=on_sale,
                quality=np.zeros(f),
                price=np.zeros(f),
                position=np.zeros(f),
                loyalty=np.zeros(f),
                marketing_pull=np.zeros(f),
                coverage=np.zeros((f, self.n_regions)),
            )
            self._offer_coverage: list[np.ndarray | None] = [None] * f
        market = self.scenario.market
        pull = market.bass_p / 12.0
        copied = self._offer_coverage  # the coverage array each row was last copied from
        on_sale, marketing_pull, quality, price = offer.on_sale, offer.marketing_pull, offer.quality, offer.price
        position, loyalty = offer.position, offer.loyalty
        for f in self.firms:
            b = f.brand
            sale = f.on_sale
            on_sale[b] = sale
            if sale:
                marketing_pull[b] = (
                    f.marketing_pull()
                    if isinstance(f, Entrant) and f.brand_owner == f.name
                    else pull * f.marketing / market.reference_marketing
                )
            else:
                marketing_pull[b] = 0.0
            quality[b] = f.quality
            price[b] = f.price
            position[b] = f.position
            loyalty[b] = f.loyalty
            if copied[b] is not f.coverage:  # firms replace their coverage arrays, never write into them
                offer.coverage[b] = copied[b] = f.coverage
        return offer

    def close_brand(self, firm: Firm) -> None:
        """A venture closed down: its customers are released and its brand is forgotten;
        whoever sells under that name again starts from nothing."""
        self.consumers.forget_brand(firm.brand)
        firm.customers, firm.market_share = 0, 0.0
        if isinstance(firm, Entrant):
            firm.build_progress = 0.0
            firm.adaptation = firm.taught = 0.0
            firm.position = firm.misfit

    # ---- decisions -------------------------------------------------------------------

    def ask(self, firm: Firm, kind: str, options: list[policies.Option], context: str = "") -> str:
        """Put a decision to ``firm``'s policy and return the name of the option chosen; an
        ``external`` policy pauses the run until :meth:`decide` answers."""
        decision = policies.Decision(firm.name, kind, tuple(options), self.month, context)
        name = firm.config.policy
        if name == "external":
            choice = self._wait_for_caller(decision)
            by = "external"
        else:
            choice = policies.get(name, "policy").choose(decision)
            decision.option(choice)  # a policy must choose among the options
            by = name
        self.decisions.append(policies.DecisionRecord(decision, choice, by))
        return choice

    def run_until_decision(self) -> policies.Decision | None:
        """Run until a firm with the ``external`` policy faces a decision and return it (the
        run waits there for :meth:`decide`), or None once the run has reached its horizon.
        Deterministic: the same seed and the same choices give the same run."""
        if not self.external:
            raise InputError("policy", "value", "'external' for at least one firm to take decisions from outside")
        if self._pending is not None:
            return self._pending
        if not self.running and self._worker is None:
            return None
        if self._worker is None:
            self._to_caller: queue.Queue = queue.Queue()
            self._from_caller: queue.Queue = queue.Queue()
            self._worker = threading.Thread(target=self._drive, name=f"abm-run-{id(self)}", daemon=True)
            self._worker.start()
        return self._receive()

    def decide(self, choice: str) -> None:
        """Answer the pending decision with the name of one of its options.

        Raises:
            InputError: no decision is pending, or ``choice`` is not among its options (the
                decision stays pending).
        """
        if self._pending is None:
            raise InputError("choice", choice, "a decision to answer: call run_until_decision() first")
        self._pending.option(choice)
        self._pending = None
        self._from_caller.put(choice)

    def _receive(self) -> policies.Decision | None:
        item = self._to_caller.get()
        if item is None:
            assert self._worker is not None  # the worker sent the None as it finished
            self._worker.join()
            self._worker = None
            return None
        if isinstance(item, BaseException):
            self._worker = None
            raise item
        self._pending = item
        return item

    def _drive(self) -> None:
        try:
            if not self._entered:
                self._enter_and_record()
            while self.running:
                self.step()
            self._to_caller.put(None)
        except BaseException as exc:  # handed to the caller's thread
            self.running = False
            self._to_caller.put(exc)

    def _wait_for_caller(self, decision: policies.Decision) -> str:
        if self._worker is None or threading.current_thread() is not self._worker:
            raise InputError(
                "policy", "external", "a run driven by run_until_decision()/decide() (an outside caller decides)"
            )
        self._to_caller.put(decision)
        return self._from_caller.get()

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
        """Record this month: one row per firm for the tidy frames, and Mesa's collector (unless
        ``keep_steps`` is off: a sweep that keeps only summaries; ``"focal"``: the focal
        entrant's rows only, no collector)."""
        month = self.month
        awareness = self.awareness = self.consumers.awareness()
        reached = self.consumers.reached
        for e in self.entrants:
            if e.target_month_reached is None and e.brand_owner == e.name and e.market_share >= e.config.target_share:
                e.target_month_reached = month
                self.log(e.name, "target_reached", f"{e.name} reaches its target share of {e.config.target_share:.0%}")
        for e in self.entrants:
            self._share_path.setdefault(e.name, []).append(e.market_share if e.brand_owner == e.name else 0.0)
        if not self.keep_steps:
            return
        awareness_of, reached_by = awareness.tolist(), reached.tolist()  # floats, once
        rows = self._rows
        keep_all = self.keep_steps is True
        for f in self.firms if keep_all else self.entrants[:1]:
            b = f.brand
            row = (
                month,
                f.name,
                f.role,
                f.brand_owner,
                f.market_share,
                f.customers,
                awareness_of[b],
                reached_by[b],
                f.price,
                f.on_sale,
                f.revenue,
                f.cash_flow,
            )
            if isinstance(f, Entrant):
                p = f.partnership
                partnership = (
                    (
                        p.kind,
                        p.partner,
                        p.trust_entrant,
                        p.trust_partner,
                        p.delivered_entrant,
                        p.delivered_partner,
                        p.partner_know_how,
                    )
                    if p
                    else _NO_PARTNERSHIP
                )
                rows.append(
                    (
                        *row,
                        f.licensed,
                        f.in_market,
                        f.mode,
                        f.cash,
                        f.npv,
                        f.partner_take,
                        f.variable_cost,
                        f.fixed_cost,
                        f.adaptation,
                        *partnership,
                    )
                )
            else:
                rows.append((*row, True, True, "", f.cash, *_NOT_AN_ENTRANT))
        if keep_all:
            self.datacollector.collect(self)

    def __repr__(self) -> str:
        from abm.display import model_repr

        return model_repr(self)

    def _repr_html_(self) -> str:
        from abm.display import model_html

        return model_html(self)

    def release(self) -> None:
        """Drop Mesa's class-level reference to this model (mesa#3179), so a finished run
        can be freed; long-lived workers would otherwise grow with every run."""
        mesa.Agent._ids.pop(self, None)

    def run(self, months: int | None = None) -> MarketEntryModel:
        """Step to the scenario's horizon (or ``months`` more months)."""
        if not self._entered:
            self._enter_and_record()
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
