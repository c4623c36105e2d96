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
        else:
            parts.append(f"refused in month {app.decided_month}")
    if len(parts) == 1:
        return parts[0]
    return "; ".join(f"{reg.name}: {p}" for reg, p in zip(model.regulators, parts, strict=True))


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
    cause = END_CAUSES.get(p.end_cause or "", p.end_cause or "ended").format(kind=kind)
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
        self.money = {e.name: {"cash": [], "npv": []} for e in m.entrants}
        self._record()
        self._frame = self._freeze()

    # ---- stepping --------------------------------------------------------------------

    @property
    def month(self) -> int:
        return self.model.month

    @property
    def done(self) -> bool:
        return not self.model.running or self.model.month >= self.scenario.months

    def step(self) -> Frame:
        """Simulate one month (nothing once the horizon is reached); return its frame."""
        with self.lock:
            if not self.done:
                self.model.step()
                self._record()
                self._frame = self._freeze()
            return self._frame

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
            self.shares[f.name].append(float(f.market_share))
        for e in m.entrants:
            self.money[e.name]["cash"].append(float(e.cash))
            self.money[e.name]["npv"].append(float(e.npv))
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
                share=float(e.market_share),
                target_share=e.config.target_share,
                target_month=e.config.target_month,
                target_month_reached=e.target_month_reached,
                cash=float(e.cash),
                npv_to_date=float(e.npv),
                licence=licence_status(m, e),
                licensed=bool(e.licensed) if e.entered else False,
                partnership=partnership_status(m, e),
                in_market=bool(e.in_market),
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
