"""No inert parameters (issue 11, item 9): a one-at-a-time screen of every numeric scenario field.

Each numeric field of every scenario section is set low and high (the rest at a preset's
values) and run on the same common seeds; the field passes as soon as some outcome of some
seed differs between low and high. It fails if no outcome moves in any seed. Each field is
screened in a preset and setting where it should matter (``WHERE``); the exceptions, each
with its reason, are in ``EXEMPT``.

Cheap by design: short runs with few consumers, and a field stops being run at its first
moved outcome, so only inert fields cost all their seeds.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from abm.model import MarketEntryModel
from abm.presets import resolve_scenario
from abm.scenario import Contract, Entrant, Incumbent, Market, ModeChoice, Partner, Regulator
from abm.simulation import summary_row

SEEDS = range(24)
OUTCOMES = (
    "npv",
    "share_final",
    "share_peak",
    "partner_npv",
    "partnership_months",
    "licence_month",
    "renegotiations",
    "cash_end",
    "months_to_target",
    "awareness_final",
    "incumbent_reactions",
    "partnership_goals_met",
    "objective_met",
)
BASE = {"market.consumers": 600, "months": 48}

SECTIONS = {
    "market": Market,
    "contract": Contract,
    "mode_choice": ModeChoice,
    "entrants[0]": Entrant,
    "partners[0]": Partner,
    "incumbents[0]": Incumbent,
    "regulators[0]": Regulator,
}

JV_END = {
    "entrants.entry_mode": "joint_venture",
    "contract.jv_life_min": 24,
    "contract.jv_life_max": 30,
    "months": 60,
    "policy": "screen-jv-enders",  # a JV worth extending would otherwise go on whatever its planned life
}
# an entrant that floats its JV whenever an IPO is on offer: the IPO rules gate and price that option
IPO = {
    "entrants.entry_mode": "joint_venture",
    "contract.jv_life_min": 60,
    "contract.jv_life_max": 72,
    "months": 96,
    "policy": "screen-floaters",
}
WHERE: dict[str, tuple] = {
    # the JV's life and how it ends
    "contract.jv_life_min": ("alpha-beta", JV_END),
    "contract.jv_life_max": ("alpha-beta", {**JV_END, "contract.jv_life_min": 12}),
    "contract.ipo_min_share": ("alpha-beta", {**IPO, "market.consumers": 2000}, (0.05, 0.6)),
    "contract.ipo_min_age": ("alpha-beta", {**IPO, "contract.ipo_min_share": 0.05}, (12, 90)),
    "contract.ipo_discount": ("alpha-beta", {**IPO, "contract.ipo_min_share": 0.05}, (0.0, 0.6)),
    "contract.exit_cost": ("alpha-beta", {**JV_END, "partners.outside_option": 1.0}),
    "contract.jv_setup_saving": ("alpha-beta", {"entrants.entry_mode": "joint_venture"}),
    "contract.jv_formation_cost": ("alpha-beta", {"entrants.entry_mode": "joint_venture"}),
    "entrants[0].jv_stake": ("alpha-beta", {"entrants.entry_mode": "joint_venture"}),
    # the alliance's term and review
    "contract.alliance_term_months": ("alpha-beta", {"months": 60}),
    "contract.review_month": ("alpha-beta", {"months": 60}),
    "contract.upgrade_trust": ("alpha-beta", {"months": 60}),
    # the learning race
    **{
        path: ("ip-leakage", {"months": 72})
        for path in (
            "contract.defection_knowledge",
            "contract.know_how_leak",
            "partners[0].ambition",
            "partners[0].absorptive_capacity",
            "entrants[0].know_how_protection",
        )
    },
    # entry-mode choice and acquisitions
    "mode_choice.risk_aversion": ("alpha-beta", {"entrants.entry_mode": "auto"}, (0.0, 10.0)),
    "mode_choice.small_firm_capital": ("alpha-beta", {"entrants.entry_mode": "auto", "entrants.capital": 30.0}),
    "mode_choice.horizon_months": ("alpha-beta", {"months": 60}, (24, 108)),
    "partners[0].acquisition_price": ("alpha-beta", {"entrants.entry_mode": "acquisition"}),
    "contract.integration_risk": ("alpha-beta", {"entrants.entry_mode": "acquisition"}),
    # regulation
    **{
        path: ("regulatory-surprise", {"months": 72})
        for path in ("regulators[0].surprise_months", "regulators[0].condition_cost")
    },
    "regulators[0].foreign_ownership_cap": ("alpha-beta", {"entrants.entry_mode": "auto"}, (0.4, 1.0)),
    # trouble and renegotiation
    **{
        path: ("unequal-commitment", {"months": 48})
        for path in ("contract.renegotiation_repair", "contract.trust_floor")
    },
    # (the cost of talks acts where the entrant talks)
    "contract.renegotiation_cost": ("unequal-commitment", {"months": 48, "policy": "screen-talkers"}),
    # the partner's power acts when the profit share is bargained anew (the renewal at month 60)
    "contract.bargaining_power": ("alpha-beta", {"months": 72}),
    # salvage is what an entrant that ends and leaves recovers
    "contract.salvage_fraction": ("alpha-beta", {"contract.review_month": 12, "policy": "screen-enders"}),
    "contract.review_objective": ("strong-incumbents", {"months": 48}),
    # partner's outside options
    "partners[0].opportunity_value": ("alpha-beta", {"partners.outside_option": 0.5}),
    "contract.opportunity_rate": ("alpha-beta", {"partners.outside_option": 0.5}),
    # a partner's own brand (competition): its settings act only when it sells one
    **{
        f"partners[0].{field}": ("alpha-beta", {"partners.brand_share": 0.12, "months": 48})
        for field in ("brand_quality", "brand_loyalty", "brand_marketing")
    },
    # capacity binds only on an incumbent that plans to grow past its first-review sales: one
    # that revises every quarter (changes free) in a market of several incumbents
    "incumbents[0].capacity": ("concentrated-market", {"incumbents.adjustment_cost": 0.0}),
    # prices and costs screened where a price stays above its unit cost
    "partners[0].brand_price": ("alpha-beta", {"partners.brand_share": 0.12, "months": 48}, (16.0, 40.0)),
    "partners[0].brand_unit_cost": ("alpha-beta", {"partners.brand_share": 0.12, "months": 48}, (5.0, 20.0)),
    # (an incumbent's price and cost act through its quarterly revisions: screened where
    # revising is free, as in the first 48 months of the case the entrant seldom threatens
    # the leader enough to pay for a change)
    "incumbents[0].price": ("alpha-beta", {"incumbents.adjustment_cost": 0.0}, (16.0, 40.0)),
    "incumbents[0].unit_cost": ("alpha-beta", {"incumbents.adjustment_cost": 0.0}, (5.0, 20.0)),
    # a brand off sale (its entrant has left) loses awareness
    "market.awareness_decay": ("alpha-beta", {"contract.review_month": 12, "policy": "screen-enders"}),
}

EXEMPT = {
    "market.consumers": "sample size of the simulated population (a resolution, not a behaviour)",
    "market.regions_x": "map resolution; changes every region index, screened by the geography tests",
    "market.regions_y": "map resolution; changes every region index, screened by the geography tests",
    "entrants[0].cultural_distance": "None by default (derived from the countries); screened in test_model",
    "entrants[0].base_region": "a region index, not a magnitude; geography tests cover it",
    "partners[0].base_region": "a region index, not a magnitude; geography tests cover it",
    "incumbents[0].base_region": "a region index, not a magnitude; geography tests cover it",
}


def numeric_fields() -> list[tuple[str, dataclasses.Field]]:
    out = []
    for prefix, cls in SECTIONS.items():
        for f in dataclasses.fields(cls):
            default = f.default
            if f.metadata and (f.type in ("float", "int", "float | None") or isinstance(default, (int, float))):
                if isinstance(default, bool):
                    continue
                out.append((f"{prefix}.{f.name}", f))
    out.append(("months", None))
    return out


def low_high(path: str, f: dataclasses.Field | None, value: float) -> tuple[float, float]:
    if f is None:
        return 24, 60
    lo, hi = f.metadata["lo"], f.metadata["hi"]
    is_int = isinstance(f.default, int)
    if value == 0:
        a, b = 0.0, (hi if hi is not None and hi <= 1 else 1.0)
    else:
        a, b = value * 0.4, value * 1.8
    if hi is not None and hi <= 1 and (lo or 0) >= 0:  # a share: spread it across its range
        a, b = max(lo or 0.0, value - 0.3), min(hi, value + 0.3)
        if math.isclose(a, b):
            a, b = 0.0, 1.0
    if lo is not None:
        a = max(a, lo + (1e-3 if f.metadata["open_lo"] else 0))
    if hi is not None:
        b = min(b, hi)
    if is_int:
        a, b = max(round(a), int(lo or 0), 1 if f.metadata["lo"] == 1 else 0), round(b)
        if a == b:
            b = a + 1
    return a, b


def _get(scenario, path):
    obj = scenario
    for part in path.replace("[", ".").replace("]", "").split("."):
        obj = obj[int(part)] if part.isdigit() else getattr(obj, part)
    return obj


def outcomes(scenario, seed, overrides):
    model = MarketEntryModel(scenario, seed=seed, **overrides)
    try:
        model.run()
        row = summary_row(model)
    finally:
        model.release()
    return np.array([float(row[k]) if row[k] is not None else math.nan for k in OUTCOMES])


def moved(path, f):
    preset, setting, *given = WHERE.get(path, ("alpha-beta", {}))
    kw = {**BASE, **setting}
    scenario = resolve_scenario(preset).with_overrides(kw)
    value = _get(scenario, path) if f is not None else scenario.months
    a, b = given[0] if given else low_high(path, f, value)
    if path == "contract.jv_life_min":
        a, b = 12, 24
    if path == "contract.jv_life_max":
        a, b = 14, 40
    for s in SEEDS:
        try:
            x = outcomes(scenario, s, {path: a})
            y = outcomes(scenario, s, {path: b})
        except Exception as exc:  # a bad screen setting is a test bug: report it
            raise AssertionError(f"{path}: low {a} / high {b} failed: {exc}") from exc
        if not np.allclose(x, y, equal_nan=True, rtol=1e-9, atol=1e-12):
            return True, (a, b, s)
    return False, (a, b, len(SEEDS))


class _Enders:
    def choose(self, decision):
        for name in ("end", "leave"):
            if name in decision.names():
                return name
        return max(decision.options, key=lambda o: o.value).name


class _Floaters:
    def choose(self, decision):
        if "ipo" in decision.names():
            return "ipo"
        return max(decision.options, key=lambda o: o.value).name


class _JvEnders:
    def choose(self, decision):
        for name in ("buyout", "ipo", "liquidate"):
            if decision.kind == "jv_end" and name in decision.names():
                return name
        return max(decision.options, key=lambda o: o.value).name


class _Talkers:
    def choose(self, decision):
        for name in ("renegotiate", "pivot"):
            if name in decision.names():
                return name
        return max(decision.options, key=lambda o: o.value).name


def _register():
    from abm import policies

    policies.register("screen-enders", _Enders())
    policies.register("screen-floaters", _Floaters())
    policies.register("screen-jv-enders", _JvEnders())
    policies.register("screen-talkers", _Talkers())


def test_every_numeric_field_moves_some_outcome():
    _register()
    inert = []
    for path, f in numeric_fields():
        if path in EXEMPT:
            continue
        ok, how = moved(path, f)
        if not ok:
            inert.append(f"{path} (low {how[0]}, high {how[1]})")
    assert not inert, "inert fields (no outcome moved in any seed): " + "; ".join(inert)


def test_every_exemption_names_a_real_field_with_a_reason():
    names = {p for p, _ in numeric_fields()}
    for path, why in EXEMPT.items():
        assert path in names and len(why) > 20, path
    for path in WHERE:
        assert path in names, path
