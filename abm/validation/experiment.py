"""The validation experiment: which runs, in which conditions, and what each returns.

A :class:`Condition` is a set of runs that answers one or more facts: a population of
entries (see :mod:`abm.validation.population`) or one fixed case, a horizon, and one or
more *arms*, settings that differ by a single factor. Entry ``i`` of every arm of every
condition uses the same population draw and the same run seed
(``run_seed(master_seed, i)``), so contrasts are paired: arms differ by the factor they
change, not by luck (common random numbers).

Runs execute through :func:`abm.executors.run_local`; each returns a plain dict (the
focal entrant's summary row plus a few read-outs from the run's frames), so the result
is the same whatever the number of workers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from abm.executors import run_local
from abm.presets import resolve_scenario
from abm.scenario import Scenario
from abm.seeding import run_seed
from abm.simulation import simulate
from abm.validation.population import apply_overrides, draw_entry, entry_rng

ArmSetting = dict[str, Any] | Callable[[Scenario], dict[str, Any]]
"""An arm's overrides: a dict, or a function of the drawn entry giving a dict."""


@dataclass(frozen=True)
class Condition:
    """A set of runs with one or more arms.

    Args:
        name: short identifier, used in the report.
        description: what the runs are, for people.
        arms: arm label -> overrides applied after the population draw.
        months: horizon of every run (shorter where the fact allows).
        n: runs per arm.
        population: draw each entry from the population (else run the base case as is).
        base: overrides applied to the base scenario before the draw.
        awareness: also return the focal entrant's monthly awareness path.
        fixed: population traits left at the base's value instead of drawn.
    """

    name: str
    description: str
    arms: dict[str, ArmSetting]
    months: int
    n: int
    population: bool = True
    base: dict[str, Any] = field(default_factory=dict)
    awareness: bool = False
    fixed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    """Run counts of one validation mode."""

    name: str
    population: int  # runs per arm of population conditions with a long horizon
    short: int  # runs per arm of conditions of a few months (mode choice, licences)
    bass: int  # runs of the diffusion condition
    case: int  # runs per arm of the Alpha/Beta reference case
    ablation: int = 0  # runs per arm in the mechanism checks


FULL = Plan("full", population=1000, short=1000, bass=1000, case=200, ablation=300)
QUICK = Plan("quick", population=120, short=150, bass=40, case=20, ablation=120)


# ---- arms that depend on the drawn entry ------------------------------------------------


def equal_commitment(s: Scenario) -> dict[str, Any]:
    """The partner delivers what the entrant delivers."""
    return {"partners.commitment": s.entrants[0].commitment}


UNEQUAL_GAP = 0.25
"""How much less the partner delivers than the entrant in the unequal-commitment arm."""


def unequal_commitment(s: Scenario) -> dict[str, Any]:
    """The partner coasts: it delivers ``UNEQUAL_GAP`` less than the entrant."""
    return {"partners.commitment": max(0.0, s.entrants[0].commitment - UNEQUAL_GAP)}


ACQUISITION_PRICE = 11.0
"""Price of the local firm in the cultural-distance contrast (million). At the preset's
35 m the mode-choice rule almost never buys a firm (docs/VALIDATION.md, *Not reproduced*)."""


def conditions(plan: Plan) -> list[Condition]:
    """The conditions of the validation experiment (docs/VALIDATION.md, *Design*)."""
    n, short = plan.population, plan.short
    return [
        Condition(
            "alliances",
            "population of entries by strategic alliance, 10 years",
            {"alliance": {"entry_mode": "alliance"}},
            months=120,
            n=n,
        ),
        Condition(
            "joint_ventures",
            "the same entries by joint venture, 10 years",
            {"joint_venture": {"entry_mode": "joint_venture"}},
            months=120,
            n=n,
        ),
        Condition(
            "unequal_commitment",
            f"alliances whose partner delivers as much as the entrant, or {UNEQUAL_GAP:.2f} less",
            {"equal": equal_commitment, "unequal": unequal_commitment},
            months=120,
            n=n,
            base={"entry_mode": "alliance"},
        ),
        Condition(
            "learning_race",
            "alliances with a slow-learning partner facing guarded know-how, "
            "or a fast learner facing unguarded know-how (Hamel's learning race)",
            {
                "slow_learner": {"partners.absorptive_capacity": 0.1, "entrants.know_how_protection": 0.9},
                "fast_learner": {"partners.absorptive_capacity": 0.9, "entrants.know_how_protection": 0.1},
            },
            months=120,
            n=n,
            base={"entry_mode": "alliance"},
        ),
        Condition(
            "regulatory_ties",
            "alliances whose partner has weak (0.1) or strong (0.9) regulatory ties; licences need only 3 years",
            {"weak_ties": {"partners.regulatory_ties": 0.1}, "strong_ties": {"partners.regulatory_ties": 0.9}},
            months=36,
            n=short,
            base={"entry_mode": "alliance"},
        ),
        Condition(
            "distance_mode_choice",
            "entrants choosing their mode, culturally near (distance 0.5) or "
            "far (4.0) from the host, where the local firm is for sale at about the cost of setting "
            f"up alone ({ACQUISITION_PRICE:g} m), so that acquisition is a live option; only the "
            "choice at month 0 matters",
            {"near": {"entrants.cultural_distance": 0.5}, "far": {"entrants.cultural_distance": 4.0}},
            months=1,
            n=short,
            base={"entry_mode": "auto", "partners.acquisition_price": ACQUISITION_PRICE},
        ),
        Condition(
            "size_mode_choice",
            "small (capital 15 m) or large (150 m) entrants choosing their mode",
            {"small": {"entrants.capital": 15.0}, "large": {"entrants.capital": 150.0}},
            months=1,
            n=short,
            base={"entry_mode": "auto"},
        ),
        Condition(
            "ownership_cap",
            "entrants choosing their mode with no cap on foreign ownership, or a 49 % cap",
            {"no_cap": {"regulators.foreign_ownership_cap": 1.0}, "cap_49": {"regulators.foreign_ownership_cap": 0.49}},
            months=1,
            n=short,
            base={"entry_mode": "auto"},
        ),
        Condition(
            "diffusion",
            "a brand marketed at the reference level, sold from month 0 (no licence "
            "needed), culturally at home, word of mouth across the whole market",
            {"reference_marketing": {}},
            months=120,
            n=plan.bass,
            population=False,
            awareness=True,
            base={
                "entry_mode": "alone",
                "regulators": [],
                "entrants.cultural_distance": 0.0,
                "entrants.capital": 1000.0,
                "market.local_word_of_mouth": 0.0,
                "entrants.marketing": "reference",
            },
        ),
        Condition(
            "alpha_beta",
            "the seed's worked case (Alpha Co. and Beta Tech), alone or by alliance",
            {"alone": {"entry_mode": "alone"}, "alliance": {"entry_mode": "alliance"}},
            months=120,
            n=plan.case,
            population=False,
        ),
    ]


# ---- one run ----------------------------------------------------------------------------


def build_base(
    scenario: Scenario | str | None, condition: Condition, overrides: dict[str, Any] | None = None
) -> Scenario:
    """The scenario every entry of ``condition`` starts from."""
    base = resolve_scenario(scenario)
    settings = {"months": condition.months, **condition.base, **(overrides or {})}
    if settings.get("entrants.marketing") == "reference":
        settings["entrants.marketing"] = base.market.reference_marketing
    regulators = settings.pop("regulators", None)
    if regulators is not None:
        base = base.copy()
        base.regulators = list(regulators)
    return apply_overrides(base, settings)


def entry_scenario(base: Scenario, condition: Condition, arm: str, master_seed: int, index: int) -> Scenario:
    """Entry ``index`` of one arm: the population draw (if any), then the arm's setting."""
    scenario = base
    if condition.population:
        scenario = apply_overrides(base, draw_entry(entry_rng(master_seed, index), base, condition.fixed))
    setting = condition.arms[arm]
    overrides = setting(scenario) if callable(setting) else setting
    return apply_overrides(scenario, overrides) if overrides else scenario


def _entrant_value_at_partnership_end(
    scenario: Scenario, summary: dict[str, Any], path: pd.DataFrame, partnerships: pd.DataFrame
) -> float:
    """The entrant's return on its partnership, scored when the partnership ends: NPV to
    date at its end month plus the going-concern value of the business it then still holds
    (a multiple of its trailing 12 months' cash flow, discounted); the summary NPV if the
    partnership is still live at the horizon. NaN without a partnership.

    A diagnostic for reading Bleeke & Ernst, who scored alliances, not the entrant's whole
    entry (docs/VALIDATION.md, *Two definitions of success*)."""
    if partnerships.empty:
        return float("nan")
    last = partnerships.iloc[-1]
    if last.end_cause == "active":
        return float(summary["npv"])
    end = int(last.end_month)
    upto = path[path.month <= end]
    npv = float(upto.npv_to_date.iloc[-1])
    if last.exit_route in ("buyout_by_partner", "ipo"):
        return npv  # it sold its stake; the proceeds are in the NPV
    trailing = float(upto.cash_flow.iloc[-12:].sum())
    e = scenario.entrants[0]
    value = max(0.0, scenario.contract.valuation_multiple * trailing)
    return npv + value * (1.0 + e.cost_of_capital) ** (-end / 12.0)


INCUMBENT_MOVES = ("incumbent_price_cut", "incumbent_price_rise", "incumbent_marketing_push", "incumbent_marketing_cut")
"""Event kinds of an incumbent's reaction (a revision of price or marketing, ODD §7.10)."""


def _run(task: tuple) -> dict[str, Any]:
    """One run; returns the focal entrant's summary plus the read-outs facts need."""
    condition, arm, index, base, master_seed = task
    scenario = entry_scenario(base, condition, arm, master_seed, index)
    seed = run_seed(master_seed, index)
    result = simulate(scenario, seed=seed)
    row = {"condition": condition.name, "arm": arm, "entry": index, **result.outcomes()}
    focal = scenario.entrants[0].name
    path = result.steps[result.steps.firm == focal]
    row["outlay_at_entry"] = scenario.entrants[0].capital - float(path["cash"].iloc[0])
    p = result.partnerships
    direct_jv = p[(p.entrant == focal) & (p.kind == "joint_venture") & (~p.upgraded_to_jv)]
    row["jv_months"] = [int(m) for m in direct_jv.months]
    row["jv_ended"] = [c != "active" for c in direct_jv.end_cause]
    row["entrant_npv_partnership"] = _entrant_value_at_partnership_end(scenario, row, path, p[p.entrant == focal])
    moves = result.events[result.events.kind.isin(INCUMBENT_MOVES)]
    counts = moves.actor.value_counts()
    row["incumbent_moves"] = [int(counts.get(inc.name, 0)) for inc in scenario.incumbents]
    row["partner_ties"] = scenario.partners[0].regulatory_ties if scenario.partners else np.nan
    row["partner_commitment"] = scenario.partners[0].commitment if scenario.partners else np.nan
    row["entrant_commitment"] = scenario.entrants[0].commitment
    row["host_country"] = scenario.market.host_country
    row["home_country"] = scenario.entrants[0].home_country
    if condition.awareness:
        row["awareness_path"] = path["awareness"].to_numpy(dtype=float).tolist()
    return row


# ---- the experiment ---------------------------------------------------------------------


@dataclass
class Results:
    """Per-run rows of every condition, with how they were made."""

    plan: Plan
    master_seed: int
    runs: dict[str, pd.DataFrame]
    failures: list[dict[str, Any]]
    elapsed_s: float
    workers: int
    overrides: dict[str, Any] = field(default_factory=dict)
    conditions: dict[str, Condition] = field(default_factory=dict)

    def arm(self, condition: str, arm: str) -> pd.DataFrame:
        df = self.runs[condition]
        return df[df.arm == arm].sort_values("entry").reset_index(drop=True)


def _tasks(
    base_by_condition: dict[str, Scenario], selected: list[Condition], master_seed: int
) -> Iterator[tuple[int, tuple]]:
    k = 0
    for c in selected:
        for arm in c.arms:
            for i in range(c.n):
                yield k, (c, arm, i, base_by_condition[c.name], master_seed)
                k += 1


def run_experiment(
    plan: Plan = FULL,
    *,
    master_seed: int = 2025,
    workers: int = 1,
    scenario: Scenario | str | None = None,
    only: list[str] | None = None,
    overrides: dict[str, Any] | None = None,
    selected: list[Condition] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Results:
    """Run the conditions of ``plan`` (or those named in ``only``).

    Args:
        plan: :data:`FULL` or :data:`QUICK` (or your own run counts).
        master_seed: seed of the population draws and of every run.
        workers: local processes.
        scenario: base case the population is drawn around (default: the default preset).
        only: names of the conditions to run.
        overrides: applied to every run's base before the population draw: candidate
            parameter values in calibration, or a mechanism switched off.
        selected: run these conditions instead of the plan's.
        progress: called as ``progress(done, total)``.
    """
    if selected is None:
        selected = [c for c in conditions(plan) if only is None or c.name in only]
    bases = {c.name: build_base(scenario, c, overrides) for c in selected}
    total = sum(c.n * len(c.arms) for c in selected)
    index = [(c.name, arm, i) for c in selected for arm in c.arms for i in range(c.n)]
    rows: dict[int, dict] = {}
    failures = []
    started = time.perf_counter()
    for done, (k, out) in enumerate(run_local(_run, _tasks(bases, selected, master_seed), workers=workers), start=1):
        if isinstance(out, Exception):
            name, arm, i = index[k]
            failures.append({"condition": name, "arm": arm, "entry": i, "error": f"{type(out).__name__}: {out}"})
        else:
            rows[k] = out
        if progress:
            progress(done, total)
    elapsed = time.perf_counter() - started
    runs = {}
    for c in selected:
        mine = [rows[k] for k in sorted(rows) if index[k][0] == c.name]
        runs[c.name] = pd.DataFrame(mine)
    return Results(
        plan, master_seed, runs, failures, elapsed, workers, dict(overrides or {}), {c.name: c for c in selected}
    )
