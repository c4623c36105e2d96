"""A run watched live: the model, stepped month by month, and the history the pages draw.

:class:`LiveRun` owns one :class:`~abm.MarketEntryModel`. Each :meth:`LiveRun.step`
advances one month and records what the Simulate view shows (every firm's share, each
partnership's trust and commitment, each entrant's cash and NPV, the market map), then
freezes it into a :class:`Frame`: plain, immutable data that a page renders while the next
month is computed. The app keeps this history itself rather than building the model's
tidy frames every month (``abm.simulation.collect`` makes DataFrames: too slow per frame).

No Solara here: the class is tested and timed on its own.
"""

from __future__ import annotations

import itertools
import math
import threading
from dataclasses import dataclass, field

import numpy as np

from abm.model import MarketEntryModel
from abm.partnership import END_CAUSES
from abm.scenario import Scenario

MAP_POINTS = 2500
"""Most consumers drawn on the market map (a fixed, evenly spread sample)."""

_SERIAL = itertools.count(1)
"""Numbers every frame of every run, so a page can tell a new frame from an old one."""

TRUST_SERIES = ("trust_entrant", "trust_partner", "delivered_entrant", "delivered_partner", "partner_know_how")
"""What the partnership chart follows, each in [0, 1]."""


@dataclass(frozen=True)
class EntrantStatus:
    """One entrant's state this month, as the KPI cards show it.

    Money in millions of the scenario's currency; shares in [0, 1]; months from entry.
    ``npv_to_date`` is the discounted net cash flow so far; ``npv_with_value_held`` adds
    the discounted terminal value of a business the entrant still holds (docs/ODD.md §8:
    the ``npv`` that Compare, Classroom and ``abm run`` report). ``licence_state`` is one
    word (``licensed``, ``pending``, ``suspended``, ``rejected``, ``refused``,
    ``lapsed``, ``not needed``); ``exit_kind`` says how the entrant left (``""`` while
    it holds its business): ``IPO``, ``sold``, ``bought out``, ``liquidated`` or
    ``exited``; ``share`` is 0 once it left (as in Compare) and ``last_share`` is its
    share in its last month in the market.
    """

    name: str
    mode: str
    share: float
    target_share: float
    target_month: int
    target_month_reached: int | None
    cash: float
    npv_to_date: float
    licence: str
    licensed: bool
    partnership: str
    in_market: bool
    npv_with_value_held: float = 0.0
    licence_state: str = ""
    exit_month: int | None = None
    exit_cause: str = ""
    exit_kind: str = ""
    brand_owner: str = ""
    last_share: float = 0.0


@dataclass(frozen=True, eq=False)
class Frame:
    """Everything the Simulate view draws for one month; never changed after creation.

    Attributes:
        month: the month just simulated (0 before the first step).
        horizon: the scenario's last month.
        running: False once the horizon is reached.
        months: months 0..month.
        shares: firm name -> market share per month.
        roles: firm name -> "entrant" | "incumbent" | "partner".
        partnerships: label -> series name (``TRUST_SERIES``) -> value per month, None
            while the partnership does not exist.
        money: entrant name -> {"cash": [...], "npv": [...]} per month (millions).
        map_brands: brand index -> (x, y) arrays of the sampled consumers buying it; -1
            for no purchase.
        brand_names: brand index -> firm name.
        reach: (label, per-region coverage) of the focal entrant's partner's network, or
            None without partner.
        regions: (regions_x, regions_y).
        entrants: per-entrant status.
        events: (month, actor, kind, text), oldest first.
        trust_floor, upgrade_trust: the contract's levels, drawn on the trust chart.
        currency: of all money figures.
        target: entrant name -> (target share, target month).
        serial: unique number of this frame (frames compare by it, not by content).
    """

    month: int
    horizon: int
    running: bool
    months: list[int]
    shares: dict[str, list[float]]
    roles: dict[str, str]
    partnerships: dict[str, dict[str, list[float | None]]]
    money: dict[str, dict[str, list[float]]]
    map_brands: dict[int, tuple[np.ndarray, np.ndarray]]
    brand_names: dict[int, str]
    reach: tuple[str, np.ndarray] | None
    regions: tuple[int, int]
    entrants: list[EntrantStatus]
    events: list[tuple[int, str, str, str]]
    trust_floor: float
    upgrade_trust: float
    currency: str
    target: dict[str, tuple[float, int]] = field(default_factory=dict)
    serial: int = field(default_factory=lambda: next(_SERIAL))


def licence_status(model: MarketEntryModel, entrant) -> str:
    """The entrant's licence in words: pending, approved, suspended, rejected or refused."""
    if not model.regulators:
        return "no licence needed"
    month = model.month
    parts = []
    for reg in model.regulators:
        app = reg.applications.get(entrant.name)
        if app is None:
            parts.append("not filed")
        elif app.status == "approved":
            if app.suspended_until > month:
                parts.append(f"suspended until month {app.suspended_until}")
            else:
                parts.append(f"approved in month {app.decided_month}")
        elif app.status == "pending":
            parts.append(f"pending since month {app.first_filed_month}")
        elif app.status == "rejected":
            due = reg.refile_at.get(entrant.name)
            parts.append(f"rejected; re-files in month {due}" if due is not None else "rejected")
        elif app.status == "withdrawn":
            got = f"approved in month {app.decided_month}, " if app.decided_month is not None else ""
            left = f" in month {entrant.exit_month}" if entrant.exit_month is not None else ""
            parts.append(f"{got}lapsed when {entrant.name} left the market{left}")
        elif app.status == "refused":
            parts.append(f"refused in month {app.decided_month}")
        else:  # a status this view does not know yet: say it as it is
            parts.append(f"{app.status.replace('_', ' ')} (month {app.decided_month})")
    if len(parts) == 1:
        return parts[0]
    return "; ".join(f"{reg.name}: {p}" for reg, p in zip(model.regulators, parts, strict=True))


def licence_state(model: MarketEntryModel, entrant) -> str:
    """The licence in one word for the card (see :class:`EntrantStatus`)."""
    if not model.regulators:
        return "not needed"
    statuses = [reg.applications[entrant.name].status for reg in model.regulators if entrant.name in reg.applications]
    month = model.month
    suspended = any(
        a.status == "approved" and a.suspended_until > month
        for reg in model.regulators
        if (a := reg.applications.get(entrant.name)) is not None
    )
    if "refused" in statuses:
        return "refused"
    if "withdrawn" in statuses:
        return "lapsed"
    if suspended:
        return "suspended"
    if statuses and all(s == "approved" for s in statuses) and len(statuses) == len(model.regulators):
        return "licensed"
    if "rejected" in statuses:
        return "rejected"
    return "pending"


def exit_kind(entrant) -> str:
    """How the entrant left its business, in a word or two ("" while it still holds it)."""
    if entrant.in_market and entrant.brand_owner == entrant.name:
        return ""
    owner = str(entrant.brand_owner)
    cause = (entrant.exit_cause or "").lower()
    if "ipo" in owner.lower() or "ipo" in cause:
        return "IPO"
    if "liquidat" in cause:
        return "liquidated"
    if "bought out" in cause or "buyout" in cause:
        return "bought out"
    if owner != entrant.name or "sold" in cause:
        return "sold"
    return "exited"


def value_held(model: MarketEntryModel, entrant) -> float:
    """NPV including the discounted terminal value of a business still held (ODD §8), millions."""
    from abm.finance import terminal_value

    holding = entrant.in_market and entrant.entered and entrant.brand_owner == entrant.name
    if not holding:
        return float(entrant.npv)
    tv = terminal_value(entrant.own_flows, model.scenario.contract.valuation_multiple)
    return float(entrant.npv + tv * model.discount(model.month, entrant.config.cost_of_capital))


def partnership_status(model: MarketEntryModel, entrant) -> str:
    """The entrant's latest partnership in words."""
    mine = [p for p in model.partnerships if p.entrant == entrant.name]
    if not mine:
        if entrant.acquired is not None:
            return f"owns {entrant.acquired.name} (acquired)"
        return "none: enters alone" if entrant.mode == "alone" else "none"
    p = mine[-1]
    kind = "alliance" if p.kind == "alliance" else "joint venture"
    if p.active:
        return f"{kind} with {p.partner}, trust {p.trust_entrant:.2f} / {p.trust_partner:.2f}" + (
            " (upgraded)" if p.upgraded else ""
        )
    cause = (END_CAUSES.get(p.end_cause, p.end_cause) if p.end_cause else "ended").format(kind=kind)
    if p.end_cause == "planned_end":
        cause = f"{kind} reached its planned end" + (f" ({p.exit_route.replace('_', ' ')})" if p.exit_route else "")
    return f"ended in month {p.end_month}: {cause}"


class LiveRun:
    """One model run, stepped on demand, with the history the Simulate view draws.

    Args:
        scenario: the checked scenario to run.
        seed: seed of the run.
        map_points: most consumers drawn on the map.

    Thread safety: :meth:`step` and :meth:`frame` take a lock, so a play loop may step
    while a page reads the latest :class:`Frame`.
    """

    def __init__(self, scenario: Scenario, seed: int, map_points: int = MAP_POINTS):
        self.scenario = scenario
        self.seed = seed
        self.lock = threading.Lock()
        self.model = MarketEntryModel(scenario, seed=seed)
        m = self.model
        n = m.consumers.n
        self._sample = np.unique(np.linspace(0, n - 1, min(n, map_points)).astype(np.int64))
        self._xy = np.round(m.consumers.xy[self._sample], 3)
        self.months: list[int] = []
        self.shares: dict[str, list[float]] = {f.name: [] for f in m.firms}
        self.roles = {f.name: f.role for f in m.firms}
        self.partnerships: dict[str, dict[str, list[float | None]]] = {}
        self._labels: dict[int, str] = {}
        self.money: dict[str, dict[str, list[float]]] = {
            e.name: {"cash": [], "npv": [], "npv_held": []} for e in m.entrants
        }
        self._entrants = {e.name for e in m.entrants}
        self._drawn = threading.Condition()
        self._drawn_serial: dict[str, int] = {}
        self._record()
        self._frame = self._freeze()

    # ---- stepping --------------------------------------------------------------------

    @property
    def month(self) -> int:
        return self.model.month

    @property
    def done(self) -> bool:
        return not self.model.running or self.model.month >= self.scenario.months

    def step(self, freeze: bool = True) -> Frame:
        """Simulate one month (nothing once the horizon is reached); return its frame.

        ``freeze=False`` records the month but leaves the frame for a later
        :meth:`refresh` (running ahead to a month without drawing every one).
        """
        with self.lock:
            if not self.done:
                self.model.step()
                self._record()
                if freeze:
                    self._frame = self._freeze()
            return self._frame

    def refresh(self) -> Frame:
        """Freeze the latest month into a frame (after steps with ``freeze=False``)."""
        with self.lock:
            if self._frame.month != self.model.month:
                self._frame = self._freeze()
            return self._frame

    def acknowledge(self, chart: str, serial: int) -> None:
        """The browser has drawn the frame ``serial`` on ``chart`` (called by the page)."""
        with self._drawn:
            self._drawn_serial[chart] = max(serial, self._drawn_serial.get(chart, 0))
            self._drawn.notify_all()

    def wait_drawn(self, serial: int, charts: tuple[str, ...], timeout: float) -> bool:
        """Wait until every chart in ``charts`` has drawn frame ``serial`` (or a later one);
        False after ``timeout`` seconds (a hidden tab draws nothing)."""
        with self._drawn:
            return self._drawn.wait_for(
                lambda: all(self._drawn_serial.get(c, 0) >= serial for c in charts), timeout=timeout
            )

    def frame(self) -> Frame:
        """The latest month's frame."""
        return self._frame

    def close(self) -> None:
        """Free the model (Mesa keeps a class-level reference to every model's agents)."""
        self.model.release()

    # ---- recording -------------------------------------------------------------------

    def _record(self) -> None:
        m = self.model
        self.months.append(m.month)
        for f in m.firms:
            holds = f.name not in self._entrants or (f.in_market and f.brand_owner == f.name)
            # an entrant that left (IPO, sale, exit) has no share of its own any more (as in Compare)
            self.shares[f.name].append(float(f.market_share) if holds else 0.0)
        for e in m.entrants:
            self.money[e.name]["cash"].append(float(e.cash))
            self.money[e.name]["npv"].append(float(e.npv))
            self.money[e.name]["npv_held"].append(value_held(m, e))
        t = len(self.months)
        for i, p in enumerate(m.partnerships):
            label = self._labels.get(i)
            if label is None:
                label = f"{p.entrant} & {p.partner}"
                if label in self.partnerships:
                    label = f"{label} (from month {p.start_month})"
                self._labels[i] = label
                self.partnerships[label] = {s: [None] * (t - 1) for s in TRUST_SERIES}
            paths = self.partnerships[label]
            for s in TRUST_SERIES:
                value = getattr(p, s) if (p.active or p.end_month == m.month) else None
                if s.startswith("delivered") and p.start_month == m.month and value == 0.0:
                    value = None  # nothing delivered yet in the month of signing
                paths[s].append(
                    None
                    if value is None or (isinstance(value, float) and math.isnan(value))
                    else round(float(value), 4)
                )

    def _last_share(self, name: str) -> float:
        """The entrant's share in its last month holding its business (its share now while it does)."""
        path = self.shares[name]
        for value in reversed(path):
            if value > 0:
                return value
        return 0.0

    def _freeze(self) -> Frame:
        m = self.model
        choice = m.consumers.last_choice[self._sample]
        map_brands = {}
        for brand in (-1, *range(len(m.firms))):
            sel = choice == brand
            if sel.any():
                map_brands[brand] = (self._xy[sel, 0], self._xy[sel, 1])
        focal = m.entrants[0]
        local = focal.partner or focal.acquired
        if local is None and m.partners:
            local = m.partners[0]
        reach = (local.name, np.round(local.network, 3)) if local is not None else None
        statuses = [
            EntrantStatus(
                name=e.name,
                mode=e.mode if e.entered else ("none" if not e.in_market else e.mode),
                share=self.shares[e.name][-1],
                target_share=e.config.target_share,
                target_month=e.config.target_month,
                target_month_reached=e.target_month_reached,
                cash=float(e.cash),
                npv_to_date=float(e.npv),
                licence=licence_status(m, e),
                licensed=bool(e.licensed) if e.entered else False,
                partnership=partnership_status(m, e),
                in_market=bool(e.in_market),
                npv_with_value_held=self.money[e.name]["npv_held"][-1],
                licence_state=licence_state(m, e),
                exit_month=e.exit_month,
                exit_cause=e.exit_cause or "",
                exit_kind=exit_kind(e),
                brand_owner=str(e.brand_owner),
                last_share=self._last_share(e.name),
            )
            for e in m.entrants
        ]
        c = self.scenario.contract
        return Frame(
            month=m.month,
            horizon=self.scenario.months,
            running=not self.done,
            months=list(self.months),
            shares={k: list(v) for k, v in self.shares.items()},
            roles=dict(self.roles),
            partnerships={k: {s: list(v) for s, v in d.items()} for k, d in self.partnerships.items()},
            money={k: {s: list(v) for s, v in d.items()} for k, d in self.money.items()},
            map_brands=map_brands,
            brand_names={f.brand: f.name for f in m.firms},
            reach=reach,
            regions=(self.scenario.market.regions_x, self.scenario.market.regions_y),
            entrants=statuses,
            events=list(m.events),
            trust_floor=c.trust_floor,
            upgrade_trust=c.upgrade_trust,
            currency=self.scenario.currency,
            target={e.name: (e.config.target_share, e.config.target_month) for e in m.entrants},
        )


def kpi_csv(frame: Frame) -> str:
    """The KPI cards of a month as CSV: one row per entrant (money in millions)."""
    import csv
    import dataclasses
    import io

    out = io.StringIO()
    rows = [{"month": frame.month, "currency": frame.currency, **dataclasses.asdict(e)} for e in frame.entrants]
    writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["month"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def events_csv(frame: Frame) -> str:
    """The run's event log so far as CSV (month, actor, kind, text), oldest first."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["month", "actor", "kind", "text"])
    writer.writerows(frame.events)
    return out.getvalue()
