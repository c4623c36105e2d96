"""The validated description of one market-entry case.

A :class:`Scenario` holds everything a run needs: the host market and its consumers, the
entrants, the candidate local partners, the incumbents, the regulators, the partnership
contract terms and the entry-mode choice rule. It loads from and saves to TOML, and every
value is checked on the way in: a bad value raises :class:`ScenarioError`, which names the
field, the value and what is allowed.

Units, used everywhere: time in months; shares, probabilities, trust and commitment in
[0, 1]; money in millions of the scenario's currency (``currency``), except prices, which
are in currency units per buyer per month.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Self

import tomli_w

from abm import limits
from abm.errors import InputError, did_you_mean, shorten
from abm.vocabulary import AFTER_BREAKUP, ENTRY_MODES, REACTIONS, AfterBreakup, EntryModeSetting, Reaction


class ScenarioError(InputError):
    """A scenario value that is not allowed; ``field`` is its dotted path, e.g.
    ``partners[0].commitment``."""


def spec(
    default: Any,
    doc: str,
    *,
    lo: float | None = None,
    hi: float | None = None,
    choices: tuple | None = None,
    unit: str = "",
    open_lo: bool = False,
) -> Any:
    """Declare a scenario field with its documentation and allowed values."""
    meta = {"doc": doc, "lo": lo, "hi": hi, "choices": choices, "unit": unit, "open_lo": open_lo}
    if isinstance(default, list):
        return field(default_factory=lambda: copy.deepcopy(default), metadata=meta)
    return field(default=default, metadata=meta)


def _describe_range(meta: Mapping[str, Any]) -> str:
    lo, hi = meta["lo"], meta["hi"]
    left = "(" if meta["open_lo"] else "["
    if lo is not None and hi is not None:
        return f"a number in {left}{lo}, {hi}]"
    if lo is not None:
        return f"a number {'>' if meta['open_lo'] else '>='} {lo}"
    if hi is not None:
        return f"a number <= {hi}"
    return "a number"


class Section:
    """Base of every scenario section: parse, check and serialise its fields."""

    _type_names: ClassVar[dict[type, str]] = {
        float: "a number",
        int: "a whole number",
        bool: "true or false",
        str: "text",
    }
    _item_types: ClassVar[dict[str, type[Section]]] = {}
    _sections: ClassVar[dict[str, type[Section]]]  # on Scenario only: its single sub-tables
    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]  # every section is a dataclass

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_dict(cls, data: Any, path: str) -> Self:
        if isinstance(data, cls):
            data = data.to_dict()
        if not isinstance(data, dict):
            raise ScenarioError(path or "scenario", data, "a table of settings")
        names = cls.field_names()
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            where = f"{path}.{key}" if path else key
            if key not in names:
                hint = did_you_mean(key, names)
                raise ScenarioError(where, value, f"unknown setting{hint}; known: {', '.join(names)}")
            if key in cls._item_types:
                if not isinstance(value, list):
                    raise ScenarioError(where, value, "a list of tables ([[...]] in TOML)")
                if len(value) > limits.MAX_LIST_ITEMS:
                    raise ScenarioError(where, f"{len(value)} items", f"at most {limits.MAX_LIST_ITEMS} items")
                item_cls = cls._item_types[key]
                kwargs[key] = [item_cls.from_dict(v, f"{where}[{i}]") for i, v in enumerate(value)]
            elif isinstance(getattr(cls, "_sections", {}).get(key), type):
                kwargs[key] = cls._sections[key].from_dict(value, where)
            else:
                kwargs[key] = value
        obj = cls(**kwargs)
        obj.check(path)
        return obj

    def check(self, path: str = "") -> None:
        """Raise ScenarioError for the first field whose value is not allowed."""
        hints = {f.name: f for f in dataclasses.fields(self)}
        for name, f in hints.items():
            value = getattr(self, name)
            where = f"{path}.{name}" if path else name
            meta = f.metadata
            if not meta:
                continue
            kind: type | None = type(f.default) if f.default is not dataclasses.MISSING else None
            if f.type in ("float | None",):
                if value is None:
                    continue
                kind = float
            if kind is float:
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise ScenarioError(where, value, _describe_range(meta))
                value = float(value)
                if value != value or value in (float("inf"), float("-inf")):
                    raise ScenarioError(where, value, _describe_range(meta) + " (finite)")
                setattr(self, name, value)
            elif kind is int:
                if (
                    isinstance(value, bool)
                    or not isinstance(value, (int, float))
                    or (isinstance(value, float) and not math.isfinite(value))
                    or int(value) != value
                ):
                    raise ScenarioError(
                        where,
                        value,
                        "a whole number" + (f" in [{meta['lo']}, {meta['hi']}]" if meta["hi"] is not None else ""),
                    )
                value = int(value)
                setattr(self, name, value)
            elif kind is bool:
                if not isinstance(value, bool):
                    raise ScenarioError(where, value, "true or false")
            elif kind is str and not isinstance(value, str):
                raise ScenarioError(where, value, "text")
            elif kind is str and len(value) > limits.MAX_TEXT_CHARS:
                raise ScenarioError(where, value, f"text of at most {limits.MAX_TEXT_CHARS:,} characters")
            if meta["choices"] is not None and value not in meta["choices"]:
                raise ScenarioError(where, value, "one of " + ", ".join(map(str, meta["choices"])))
            if kind in (float, int):
                lo, hi = meta["lo"], meta["hi"]
                too_low = lo is not None and (value <= lo if meta["open_lo"] else value < lo)
                if too_low or (hi is not None and value > hi):
                    raise ScenarioError(where, value, _describe_range(meta))

    def _assign(self, name: str, value: Any, where: str) -> None:
        setattr(self, name, self._assign_hook(name, value, where))

    def _assign_hook(self, name: str, value: Any, where: str) -> Any:
        return value

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue  # TOML has no null: an absent key means "derive it"
            if isinstance(value, Section):
                out[f.name] = value.to_dict()
            elif isinstance(value, list):
                out[f.name] = [v.to_dict() if isinstance(v, Section) else v for v in value]
            else:
                out[f.name] = value
        return out


@dataclass
class Market(Section):
    """The host market: where it is, its consumers and how they choose and learn."""

    host_country: str = spec("MAL", "Hofstede code or name of the host country (for cultural distance)")
    consumers: int = spec(5000, "simulated consumers (a sample of the market's buyers)", lo=50, hi=limits.MAX_CONSUMERS)
    regions_x: int = spec(3, "regions across the map (distribution is planned per region)", lo=1, hi=20)
    regions_y: int = spec(3, "regions down the map", lo=1, hi=20)
    neighbourhoods: int = spec(16, "word-of-mouth neighbourhoods per side of the map", lo=1, hi=500)
    buyers: float = spec(
        960_000.0,
        "real buyers in the market; each simulated consumer stands for buyers / consumers (calibrated, ODD §9)",
        lo=0,
        open_lo=True,
    )
    reference_price: float = spec(
        25.0, "price at which price disutility equals price_sensitivity", lo=0, open_lo=True, unit="currency"
    )
    price_sensitivity: float = spec(2.0, "mean utility lost per reference price", lo=0, hi=50)
    price_sensitivity_spread: float = spec(0.3, "log-normal spread of price sensitivity across consumers", lo=0, hi=3)
    taste_spread: float = spec(1.0, "spread of consumers' ideal product around the local norm", lo=0, hi=10)
    fit_weight: float = spec(1.0, "utility lost per squared distance between taste and product", lo=0, hi=20)
    no_purchase_utility: float = spec(-2.6, "utility of buying nothing", lo=-20, hi=20)
    switching_cost: float = spec(1.5, "utility bonus for the brand bought last month (loyalty)", lo=0, hi=20)
    choice_noise: float = spec(1.0, "scale of the Gumbel taste shock in the logit choice", lo=0, hi=20, open_lo=True)
    category_expansion: float = spec(
        0.87,
        "nesting parameter of the nested logit (ODD §7.9): how strongly buying at all responds to what the "
        "brands offer; 1 = multinomial logit, a new brand draws on rivals and non-buyers in proportion; lower = "
        "it takes more from rivals and expands the category less (calibrated, ODD §9)",
        lo=0.1,
        hi=1,
    )
    bass_p: float = spec(0.03, "Bass innovation coefficient at reference marketing", lo=0, hi=5, unit="per year")
    bass_q: float = spec(0.38, "Bass imitation (word-of-mouth) coefficient", lo=0, hi=20, unit="per year")
    local_word_of_mouth: float = spec(
        0.7, "weight of the neighbourhood (vs the whole market) in word of mouth", lo=0, hi=1
    )
    awareness_decay: float = spec(0.02, "awareness lost per month by a brand not on sale", lo=0, hi=1, unit="per month")
    reference_marketing: float = spec(
        0.15, "marketing spend at which awareness grows at bass_p", lo=0, open_lo=True, unit="million per month"
    )
    misfit_per_distance: float = spec(
        0.35, "product misfit per unit of cultural distance at entry (taste-axis units)", lo=0, hi=10
    )


@dataclass
class Entrant(Section):
    """A foreign firm entering the market."""

    name: str = spec("Alpha Co.", "display name")
    home_country: str = spec("USA", "Hofstede code or name of the home country")
    cultural_distance: float | None = spec(
        None, "Kogut-Singh distance to the host; omit to compute from the countries", lo=0, hi=20
    )
    entry_mode: EntryModeSetting = spec("alliance", "how it enters", choices=(*ENTRY_MODES, "auto"))
    capital: float = spec(60.0, "cash available for the venture at entry", lo=0, unit="million")
    quality: float = spec(0.85, "product quality (utility)", lo=-10, hi=10)
    price: float = spec(25.0, "price", lo=0, open_lo=True, unit="currency per buyer-month")
    unit_cost: float = spec(17.0, "variable cost", lo=0, unit="currency per buyer-month")
    marketing: float = spec(0.30, "marketing spend while on sale", lo=0, unit="million per month")
    operating_cost: float = spec(0.25, "fixed operating cost while in the market", lo=0, unit="million per month")
    setup_cost: float = spec(12.0, "set-up cost when going alone", lo=0, unit="million")
    compliance: float = spec(0.7, "quality of its licence applications", lo=0, hi=1)
    commitment: float = spec(0.9, "share of promised resources it delivers to a partnership", lo=0, hi=1)
    learning_rate: float = spec(0.03, "own speed of adapting the product to local tastes", lo=0, hi=1, unit="per month")
    know_how_protection: float = spec(0.5, "how well it guards its know-how from a partner", lo=0, hi=1)
    own_reach: float = spec(0.6, "distribution coverage it can build alone", lo=0, hi=1)
    build_months: int = spec(36, "months to build its own distribution to own_reach", lo=1, hi=600)
    base_region: int = spec(4, "region where it starts selling (row-major index)", lo=0, hi=399)
    target_share: float = spec(0.10, "target market share", lo=0, hi=1, open_lo=True)
    target_month: int = spec(36, "month by which the target share should be reached", lo=1, hi=600)
    cost_of_capital: float = spec(0.10, "cost of capital", lo=0, hi=1, unit="per year")
    jv_stake: float = spec(
        0.5, "most equity it seeks in a joint venture (the stake is bargained within it)", lo=0, hi=1, open_lo=True
    )
    preferred_partner: str = spec("", "name of the partner it wants; empty: the most attractive free one")
    after_breakup: AfterBreakup = spec(
        "decide", "after a break-up: decide by value (go alone or leave), stay alone, or leave", choices=AFTER_BREAKUP
    )
    policy: str = spec("value", "decision policy (abm.policies): value, cautious, external, or a registered one")


@dataclass
class Partner(Section):
    """A local firm that can ally with, or co-own a venture with, an entrant."""

    name: str = spec("Beta Tech", "display name")
    # -- its own brand (competition, ODD §7.10): on sale from month 0 and run like an incumbent's --
    brand_share: float = spec(0.0, "market share of its own brand at month 0; 0 = it sells no brand", lo=0, hi=1)
    brand_quality: float = spec(0.5, "quality (utility) of its own brand", lo=-10, hi=10)
    brand_price: float = spec(22.0, "price of its own brand", lo=0, open_lo=True, unit="currency per buyer-month")
    brand_unit_cost: float = spec(14.0, "variable cost of its own brand", lo=0, unit="currency per buyer-month")
    brand_loyalty: float = spec(1.0, "multiplier on its brand's customers' switching cost", lo=0, hi=10)
    brand_marketing: float = spec(0.1, "marketing spend on its own brand", lo=0, unit="million per month")
    # -- end of its own brand --
    consumer_knowledge: float = spec(0.8, "knowledge of local tastes passed to the entrant", lo=0, hi=1)
    distribution_reach: float = spec(0.7, "coverage of its distribution network", lo=0, hi=1)
    regulatory_ties: float = spec(0.6, "standing with regulators", lo=0, hi=1)
    cultural_fit: float = spec(0.7, "organisational fit with a foreign partner", lo=0, hi=1)
    commitment: float = spec(0.85, "share of promised resources it delivers", lo=0, hi=1)
    absorptive_capacity: float = spec(0.3, "speed at which it learns the entrant's know-how", lo=0, hi=1)
    ambition: float = spec(0.2, "inclination to turn competitor once it has learned enough", lo=0, hi=1)
    outside_option: float = spec(
        0.1, "pull of its other opportunities: their arrival rate is opportunity_rate x this", lo=0, hi=1
    )
    opportunity_value: float = spec(
        18.0,
        "mean value of one outside opportunity to it (log-normal, sigma 0.6; calibrated, ODD §9)",
        lo=0,
        unit="million",
    )
    base_region: int = spec(4, "region where its network is densest", lo=0, hi=399)
    profit_share: float = spec(0.30, "share of an alliance's gross profit it keeps for distributing", lo=0, hi=1)
    service_cost: float = spec(
        0.07,
        "its monthly cost of serving a partnership at full commitment (calibrated, ODD §9)",
        lo=0,
        unit="million per month",
    )
    cost_of_capital: float = spec(0.12, "its cost of capital", lo=0, hi=1, unit="per year")
    acquisition_price: float = spec(35.0, "price to buy it outright", lo=0, unit="million")
    policy: str = spec("value", "decision policy (abm.policies): value, cautious, external, or a registered one")

    # -- its own brand (competition) --
    @property
    def brand_name(self) -> str:
        """Display name of its own brand, as a firm of the market."""
        return f"{self.name} brand"

    def brand_config(self) -> Incumbent:
        """Its own brand as an incumbent's settings (it competes like one, ODD §7.10)."""
        return Incumbent(
            name=self.brand_name,
            initial_share=self.brand_share,
            quality=self.brand_quality,
            price=self.brand_price,
            unit_cost=self.brand_unit_cost,
            loyalty=self.brand_loyalty,
            distribution_reach=self.distribution_reach,
            base_region=self.base_region,
            marketing=self.brand_marketing,
        )

    # -- end of its own brand --


@dataclass
class Incumbent(Section):
    """An established local firm."""

    name: str = spec("Incumbent", "display name")
    initial_share: float = spec(0.3, "market share at month 0", lo=0, hi=1)
    quality: float = spec(0.6, "product quality (utility)", lo=-10, hi=10)
    price: float = spec(24.0, "price", lo=0, open_lo=True, unit="currency per buyer-month")
    unit_cost: float = spec(14.0, "variable cost", lo=0, unit="currency per buyer-month")
    loyalty: float = spec(1.0, "multiplier on its customers' switching cost", lo=0, hi=10)
    distribution_reach: float = spec(0.9, "coverage of its distribution network", lo=0, hi=1)
    base_region: int = spec(4, "region where its network is densest", lo=0, hi=399)
    marketing: float = spec(0.2, "marketing spend", lo=0, unit="million per month")
    reaction: Reaction = spec(
        "mixed",
        "instruments of its quarterly best response: none (passive), price, marketing, or mixed (both)",
        choices=REACTIONS,
    )
    adjustment_cost: float = spec(
        0.07,
        "cost of revising its price or marketing, as a share of its monthly revenue: it revises only when the "
        "perceived profit gain over a year is larger (menu and decision costs, ODD §7.10; calibrated, ODD §9)",
        lo=0,
        hi=1,
    )
    capacity: float = spec(
        1.5,
        "most customers it plans to serve, as a multiple of its customers at its first quarterly review",
        lo=1,
        hi=100,
    )

    def check(self, path: str = "") -> None:
        super().check(path)
        if self.unit_cost >= self.price:
            where = f"{path}.unit_cost" if path else "unit_cost"
            raise ScenarioError(where, self.unit_cost, f"a unit cost below its price ({self.price:g})")


@dataclass
class Regulator(Section):
    """An authority whose licence every entrant needs before selling."""

    name: str = spec("Ministry of Trade", "display name")
    stringency: float = spec(0.4, "how demanding it is", lo=0, hi=1)
    processing_months: float = spec(
        6.0, "mean months to decide an application at zero stringency and no ties", lo=0, hi=120, open_lo=True
    )
    tie_speedup: float = spec(0.5, "share of processing time a partner with full regulatory ties saves", lo=0, hi=0.95)
    tie_weight: float = spec(0.3, "approval odds gained from a partner with full regulatory ties", lo=0, hi=1)
    requires_local_entity: bool = spec(False, "only a locally incorporated entity (JV or acquisition) may be licensed")
    foreign_ownership_cap: float = spec(1.0, "largest equity share a foreign firm may hold", lo=0, hi=1)
    surprise_rate: float = spec(0.1, "rate of unexpected rule changes", lo=0, hi=12, unit="per year")
    surprise_months: float = spec(3.0, "mean delay or suspension a rule change causes", lo=0, hi=60, unit="months")
    condition_cost: float = spec(0.05, "monthly cost of conditions a rule change adds", lo=0, unit="million per month")


@dataclass
class Contract(Section):
    """Partnership terms and behaviour shared by every alliance and joint venture."""

    initial_trust: float = spec(0.59, "trust of each side at signing (calibrated, ODD §9)", lo=0, hi=1)
    trust_gain: float = spec(
        0.08,
        "lambda+: trust build rate on a good signal (Das & Teng; DOMAIN 3; calibrated, ODD §9)",
        lo=0,
        hi=1,
        unit="per month",
    )
    trust_loss: float = spec(
        0.24,
        "lambda-: trust erosion rate on a bad signal (tied to 3 x trust_gain, DOMAIN 3)",
        lo=0,
        hi=1,
        unit="per month",
    )
    trust_floor: float = spec(
        0.2,
        "trust below which a partnership is in trouble: renegotiate, carry on or end (calibrated, ODD §9)",
        lo=0,
        hi=1,
    )
    startup_friction: float = spec(
        0.18, "misreading of the other side in the first months (gone after a year; calibrated, ODD §9)", lo=0, hi=1
    )
    reading_noise: float = spec(
        0.04,
        "spread of one side's reading of the other's delivered commitment, per (1 + CD)(1.5 - fit) (calibrated, ODD §9)",
        lo=0,
        hi=1,
    )
    coordination_cost: float = spec(
        0.02,
        "monthly cost of working together per unit of cultural distance x (1 - fit) (calibrated, ODD §9)",
        lo=0,
        hi=10,
        unit="million per month",
    )
    renegotiation_cost: float = spec(0.3, "cost to each side of one renegotiation", lo=0, unit="million")
    renegotiation_repair: float = spec(
        0.57,
        "share of the trust gap to the initial trust a successful renegotiation closes (calibrated, ODD §9)",
        lo=0,
        hi=1,
    )
    bargaining_power: float = spec(
        0.4,
        "partner's bargaining power before learning and outside options shift it (Nash; calibrated, ODD §9)",
        lo=0,
        hi=1,
    )
    opportunity_rate: float = spec(
        2.0, "outside opportunities a partner with outside_option 1 sees per year", lo=0, hi=24, unit="per year"
    )
    learning_loss: float = spec(
        0.3, "share of what the partner taught the entrant that leaves with the partner", lo=0, hi=1
    )
    exit_cost: float = spec(
        0.9,
        "fee, as a share of the JV equity it put in, a side pays for breaking a JV before its planned life "
        "(unwinding, penalties; an assumption screened to fit, ODD §9)",
        lo=0,
        hi=1,
    )
    commitment_noise: float = spec(0.08, "month-to-month spread of delivered commitment", lo=0, hi=1)
    alliance_term_months: int = spec(60, "alliance contract term before expiry", lo=1, hi=600)
    review_month: int = spec(24, "month of the deepen-or-pivot review (seed case: year two)", lo=1, hi=600)
    review_objective: float = spec(
        0.5, "share of the target path below which results count as missed (trouble)", lo=0, hi=1
    )
    upgrade_trust: float = spec(
        0.65, "trust both sides need before they tie equity together (deepen into a JV)", lo=0, hi=1
    )
    allow_upgrade: bool = spec(True, "alliances may graduate into joint ventures")
    alliance_setup_saving: float = spec(
        0.40, "set-up cost saved by an alliance vs going alone (seed case: 40 %)", lo=0, hi=1
    )
    partner_setup_share: float = spec(
        1.0,
        "what the resources a partner puts into an alliance's set-up (warehousing, staff: seed case) cost it, "
        "as a share of the entrant's saving; the rest is synergy (an assumption screened to fit, at its bound; ODD §9)",
        lo=0,
        hi=1,
    )
    jv_setup_saving: float = spec(
        0.0, "set-up cost saved by a JV vs going alone (a new entity: none by default)", lo=0, hi=1
    )
    jv_formation_cost: float = spec(
        3.0, "legal and governance cost of forming a JV entity (seed 004: costly to set up)", lo=0, unit="million"
    )
    jv_life_min: int = spec(36, "shortest planned JV life", lo=1, hi=600)
    jv_life_max: int = spec(120, "longest planned JV life", lo=1, hi=600)
    ipo_min_share: float = spec(
        0.25, "JV share that makes an IPO possible (IPOs are the rare exit; most JVs end in a buyout)", lo=0, hi=1
    )
    valuation_multiple: float = spec(
        7.3, "value of a venture as a multiple of trailing annual profit (calibrated, ODD §9)", lo=0, hi=100
    )
    salvage_fraction: float = spec(
        0.3, "share of equity (or of what was invested) recovered in a liquidation or on leaving", lo=0, hi=1
    )
    ipo_discount: float = spec(
        0.2, "share of a venture's value lost to underpricing and fees when it floats", lo=0, hi=1
    )
    ipo_min_age: int = spec(48, "youngest JV age at which an IPO is possible (a mature venture)", lo=0, hi=600)
    know_how_leak: float = spec(
        0.24,
        "monthly know-how a fully absorptive, unguarded partner learns (calibrated, ODD §9)",
        lo=0,
        hi=1,
        unit="per month",
    )
    defection_knowledge: float = spec(0.6, "know-how at which an ambitious partner can turn rival", lo=0, hi=1)
    integration_risk: float = spec(
        0.01, "monthly hazard per unit cultural distance that an acquisition's integration fails", lo=0, hi=1
    )

    def check(self, path: str = "") -> None:
        super().check(path)
        if self.jv_life_max < self.jv_life_min:
            raise ScenarioError(
                f"{path}.jv_life_max" if path else "jv_life_max",
                self.jv_life_max,
                f"at least jv_life_min ({self.jv_life_min})",
            )


@dataclass
class ModeChoice(Section):
    """The rule by which an entrant with ``entry_mode = "auto"`` picks its mode."""

    risk_aversion: float = spec(0.5, "weight of risk (spread of value) against expected value", lo=0, hi=10)
    small_firm_capital: float = spec(25.0, "capital below which a firm counts as small", lo=0, unit="million")
    horizon_months: int = spec(60, "horizon of the expected-value estimate", lo=1, hi=600)


@dataclass
class Scenario(Section):
    """Everything one run needs. Build from a preset, a TOML file, or by hand."""

    name: str = spec("alpha-beta", "short name")
    title: str = spec("Alpha Co. enters Southeast Asia with Beta Tech", "one-line title")
    description: str = spec("", "what the case is")
    lesson: str = spec("", "the idea it teaches and what to watch for")
    months: int = spec(120, "months simulated", lo=1, hi=limits.MAX_MONTHS)
    currency: str = spec("USD", "currency of all money figures (in millions)")
    market: Market = field(default_factory=Market)
    contract: Contract = field(default_factory=Contract)
    mode_choice: ModeChoice = field(default_factory=ModeChoice)
    entrants: list[Entrant] = field(default_factory=lambda: [Entrant()])
    partners: list[Partner] = field(default_factory=lambda: [Partner()])
    incumbents: list[Incumbent] = field(default_factory=lambda: [Incumbent()])
    regulators: list[Regulator] = field(default_factory=lambda: [Regulator()])

    _sections: ClassVar[dict[str, type[Section]]] = {"market": Market, "contract": Contract, "mode_choice": ModeChoice}
    _item_types: ClassVar[dict[str, type[Section]]] = {
        "entrants": Entrant,
        "partners": Partner,
        "incumbents": Incumbent,
        "regulators": Regulator,
    }

    def check(self, path: str = "") -> None:
        super().check(path)
        for key, section_cls in self._sections.items():
            if not isinstance(getattr(self, key), section_cls):
                raise ScenarioError(key, getattr(self, key), f"a [{key}] table")
            getattr(self, key).check(key)
        for key, item_cls in self._item_types.items():
            items = getattr(self, key)
            if not isinstance(items, list):
                raise ScenarioError(key, items, "a list of tables ([[...]] in TOML)")
            for i, item in enumerate(items):
                if not isinstance(item, item_cls):
                    raise ScenarioError(f"{key}[{i}]", item, f"a {item_cls.__name__} table")
                item.check(f"{key}[{i}]")
            dup = _first_repeat(x.name for x in items)
            if dup is not None:
                raise ScenarioError(f"{key}.name", dup, "names unique within their list")
        if not self.entrants:
            raise ScenarioError("entrants", [], "at least one entrant")
        if limits.in_app():  # a server shared by a class: one visitor's scenario must not take it over
            if self.market.consumers > limits.APP_MAX_CONSUMERS:
                raise ScenarioError(
                    "market.consumers", self.market.consumers, f"at most {limits.APP_MAX_CONSUMERS:,} in the app"
                )
            if self.months > limits.APP_MAX_MONTHS:
                raise ScenarioError("months", self.months, f"at most {limits.APP_MAX_MONTHS} in the app")
        firm_names = [x.name for key in ("entrants", "incumbents", "partners") for x in getattr(self, key)]
        firm_names += [p.brand_name for p in self.partners if p.brand_share > 0]
        clash = _first_repeat(firm_names)
        if clash is not None:
            raise ScenarioError("name", clash, "a different name for each entrant, incumbent and partner")
        if len(self.entrants) + len(self.incumbents) + len(self.partners) > 64:
            raise ScenarioError("entrants", len(self.entrants), "at most 64 firms in all")
        for i, p in enumerate(self.partners):
            if p.brand_share > 0 and p.brand_unit_cost >= p.brand_price:
                raise ScenarioError(
                    f"partners[{i}].brand_unit_cost",
                    p.brand_unit_cost,
                    f"a unit cost below brand_price ({p.brand_price:g})",
                )
        total = sum(i.initial_share for i in self.incumbents) + sum(p.brand_share for p in self.partners)
        if total > 1 + 1e-9:
            raise ScenarioError(
                "incumbents.initial_share",
                round(total, 6),
                "shares that add up to at most 1 (with the partners' brand_share)",
            )
        n_regions = self.market.regions_x * self.market.regions_y
        for key in ("entrants", "partners", "incumbents"):
            for i, item in enumerate(getattr(self, key)):
                if item.base_region >= n_regions:
                    raise ScenarioError(
                        f"{key}[{i}].base_region",
                        item.base_region,
                        f"a region index in [0, {n_regions - 1}] (the map has {n_regions} regions)",
                    )
        partner_names = {p.name for p in self.partners}
        for i, e in enumerate(self.entrants):
            if e.preferred_partner and e.preferred_partner not in partner_names:
                raise ScenarioError(
                    f"entrants[{i}].preferred_partner",
                    e.preferred_partner,
                    "the name of a partner in this scenario: " + (", ".join(sorted(partner_names)) or "(none)"),
                )
            if e.entry_mode in ("alliance", "joint_venture", "acquisition") and not self.partners:
                raise ScenarioError(
                    f"entrants[{i}].entry_mode",
                    e.entry_mode,
                    "'alone' or 'auto' when the scenario has no local partners",
                )
        from abm import policies

        for key in ("entrants", "partners"):
            for i, item in enumerate(getattr(self, key)):
                try:
                    policies.get(item.policy, f"{key}[{i}].policy")
                except InputError as err:
                    raise ScenarioError(err.field, err.value, err.allowed) from None
        # Country codes are checked here so a bad one fails on load, not mid-run.
        from abm.culture import kogut_singh, resolve_country

        resolve_country(self.market.host_country, "market.host_country")
        for i, e in enumerate(self.entrants):
            if e.cultural_distance is None:
                resolve_country(e.home_country, f"entrants[{i}].home_country")
                try:
                    kogut_singh(e.home_country, self.market.host_country)
                except ScenarioError as exc:
                    raise ScenarioError(
                        f"entrants[{i}].home_country",
                        e.home_country,
                        f"a country scored on a cultural dimension that market.host_country ({exc.value}) is scored on "
                        "(or set cultural_distance)",
                    ) from None

    # ---- copying and overrides -------------------------------------------------------

    def copy(self) -> Scenario:
        return copy.deepcopy(self)

    def with_overrides(self, overrides: dict[str, Any] | None = None, **kwargs: Any) -> Scenario:
        """A checked copy with some values replaced.

        Keys are flat aliases (see ``OVERRIDES``, e.g. ``entry_mode``, applied to every
        matching item) or dotted paths: ``market.consumers``, ``partners[0].commitment``,
        ``partners.0.commitment`` or ``partners.commitment`` (every partner). A whole section
        or list can be replaced by a table or a list of tables (``market={...}``).
        """
        if overrides is not None and not isinstance(overrides, dict):
            raise ScenarioError("overrides", overrides, "a mapping of parameter names to values")
        new = self.copy()
        for key, value in {**(overrides or {}), **kwargs}.items():
            if not isinstance(key, str) or not key.strip():
                raise ScenarioError("overrides", key, "a parameter name or a dotted path (text)")
            for path in OVERRIDES.get(key, (key,)):
                new._set_path(path, value, key)
        new.check()
        return new

    def _set_path(self, path: str, value: Any, original: str) -> None:
        parts = [p for p in re.split(r"[.\[\]]+", path) if p]
        if not parts:
            raise ScenarioError(original, value, _unknown_path_hint(path))
        # walk down, keeping each target's class so that typos are caught on empty lists too
        targets: list[tuple[Any, type[Section]]] = [(self, Scenario)]
        for depth, part in enumerate(parts[:-1]):
            nxt: list[tuple[Any, type[Section]]] = []
            for obj, cls in targets:
                if isinstance(obj, list):
                    if part.isdigit():
                        if int(part) >= len(obj):
                            raise ScenarioError(
                                original, value, f"an index below {len(obj)} for '{'.'.join(parts[:depth])}'"
                            )
                        nxt.append((obj[int(part)], cls))
                        continue
                    items = obj or [None]  # an empty list still has an item class to check against
                else:
                    items = [obj]
                if part not in cls.field_names():
                    raise ScenarioError(original, value, _field_hint(path, part, cls))
                for o in items:
                    child = getattr(o, part) if o is not None else []
                    child_cls = cls._item_types.get(part) or getattr(cls, "_sections", {}).get(part)
                    if child_cls is None:
                        raise ScenarioError(original, value, _unknown_path_hint(path))
                    nxt.append((child, child_cls))
            targets = nxt
        last = parts[-1]
        for obj, cls in targets:
            if last not in cls.field_names():
                raise ScenarioError(original, value, _field_hint(path, last, cls))
            for item in obj if isinstance(obj, list) else [obj]:
                item._assign(last, value, path)

    def _assign_hook(self, name: str, value: Any, where: str) -> Any:
        """Sections and lists of sections are replaced by tables, checked on the way in."""
        if name in self._item_types:
            if not isinstance(value, list):
                raise ScenarioError(where, value, "a list of tables ([[...]] in TOML)")
            return [self._item_types[name].from_dict(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if name in self._sections:
            return self._sections[name].from_dict(value, where)
        return value

    # ---- TOML ------------------------------------------------------------------------

    @classmethod
    def from_toml(cls, text: str, source: str = "scenario") -> Scenario:
        """A checked scenario from TOML text (at most ``limits.MAX_TOML_BYTES``, nested at most
        ``limits.MAX_TOML_DEPTH`` levels)."""
        if len(text) > limits.MAX_TOML_BYTES:
            raise ScenarioError(source, "(file)", f"TOML of at most {limits.MAX_TOML_BYTES:,} bytes")
        try:
            data = limits.parse_toml(text, source)
        except InputError as exc:
            raise ScenarioError(exc.field, exc.value, exc.allowed) from None
        return cls.from_dict(data, "")

    @classmethod
    def load(cls, path: str | Path) -> Scenario:
        """A checked scenario from a TOML file: a regular file of at most
        ``limits.MAX_TOML_BYTES`` (never a device or a pipe, which could block or never end)."""
        path = Path(path)
        try:
            text = limits.read_text_file(path, "scenario", what="a scenario TOML file")
        except FileNotFoundError:
            raise ScenarioError("scenario", str(path), "the name of a preset or an existing TOML file") from None
        except InputError as exc:
            raise ScenarioError(exc.field, exc.value, exc.allowed) from None
        return cls.from_toml(text, str(path))

    def to_toml(self) -> str:
        return tomli_w.dumps(self.to_dict())

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_toml(), encoding="utf-8")

    def __repr__(self) -> str:
        from abm.display import scenario_repr

        return scenario_repr(self)

    def _repr_html_(self) -> str:
        from abm.display import scenario_html

        return scenario_html(self)


def _first_repeat(names: Any) -> Any:
    """The first name seen twice, or None (linear: a set of the names seen so far)."""
    seen: set = set()
    for n in names:
        if n in seen:
            return n
        seen.add(n)
    return None


def _field_hint(path: str, name: str, cls: type[Section]) -> str:
    hint = did_you_mean(name, cls.field_names())
    if cls is Scenario:
        return _unknown_path_hint(path) + hint
    return f"a field of {cls.__name__}{hint}"


def _unknown_path_hint(path: str) -> str:
    return (
        "a flat override (" + ", ".join(sorted(OVERRIDES)) + ") or a dotted path to a scenario "
        f"field such as market.consumers or partners[0].commitment; {shorten(path, 40)} names none"
    )


OVERRIDES: dict[str, tuple[str, ...]] = {
    "months": ("months",),
    "consumers": ("market.consumers",),
    "host_country": ("market.host_country",),
    "entry_mode": ("entrants.entry_mode",),
    "home_country": ("entrants.home_country",),
    "cultural_distance": ("entrants.cultural_distance",),
    "capital": ("entrants.capital",),
    "entrant_commitment": ("entrants.commitment",),
    "know_how_protection": ("entrants.know_how_protection",),
    "compliance": ("entrants.compliance",),
    "target_share": ("entrants.target_share",),
    "partner": ("entrants.preferred_partner",),
    "partner_commitment": ("partners.commitment",),
    "partner_cultural_fit": ("partners.cultural_fit",),
    "partner_regulatory_ties": ("partners.regulatory_ties",),
    "partner_ambition": ("partners.ambition",),
    "partner_outside_option": ("partners.outside_option",),
    "incumbent_loyalty": ("incumbents.loyalty",),
    "incumbent_reaction": ("incumbents.reaction",),
    "regulatory_stringency": ("regulators.stringency",),
    "requires_local_entity": ("regulators.requires_local_entity",),
    "foreign_ownership_cap": ("regulators.foreign_ownership_cap",),
    "surprise_rate": ("regulators.surprise_rate",),
    "trust_floor": ("contract.trust_floor",),
    "trust_gain": ("contract.trust_gain",),
    "trust_loss": ("contract.trust_loss",),
    "allow_upgrade": ("contract.allow_upgrade",),
    "policy": ("entrants.policy",),
    "bargaining_power": ("contract.bargaining_power",),
}
"""Flat names for the most used parameters, each mapped to the scenario fields it sets."""


def field_docs(cls: type[Section]) -> list[tuple[str, Any, str, str]]:
    """(name, default, unit, doc) for every documented field of a section: for docs and help."""
    rows = []
    for f in dataclasses.fields(cls):
        if f.metadata:
            default = f.default if f.default is not dataclasses.MISSING else None
            rows.append((f.name, default, f.metadata["unit"], f.metadata["doc"]))
    return rows
