"""Run the model and get tidy frames back, without touching agents.

    result = abm.simulate("alpha-beta", seed=7, entry_mode="joint_venture")
    result.steps      # one row per firm per month
    result.summary    # one row per run (the focal, first, entrant)
    result.entrants   # one row per entrant
    result.partnerships, result.events

Success and failure are defined here once (docs/ODD.md, *Success and failure*) and every
report, sweep and app view reads these columns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from abm.errors import InputError
from abm.finance import terminal_value
from abm.model import STEP_COLUMNS, MarketEntryModel
from abm.partnership import failed as partnership_failed
from abm.scenario import Scenario

CHECKPOINTS = {"share_y1": 12, "share_y3": 36, "share_y5": 60, "share_y10": 120}
"""Months at which the summary reports market share."""

EVENT_COLUMNS = ["month", "actor", "kind", "event"]


@dataclass
class RunResult:
    """The frames of one run."""

    scenario: Scenario
    seed: int | None  # None: a model built without a seed (MarketEntryModel(seed=None))
    steps: pd.DataFrame
    summary: pd.DataFrame
    entrants: pd.DataFrame
    partnerships: pd.DataFrame
    events: pd.DataFrame

    def outcomes(self) -> dict[str, Any]:
        """The focal entrant's outcomes as a plain dict (for samplers and other tools)."""
        return self.summary.iloc[0].to_dict()

    def save(self, directory: str | Path) -> None:
        """Write every frame as Parquet into ``directory``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for name in ("steps", "summary", "entrants", "partnerships", "events"):
            getattr(self, name).to_parquet(directory / f"{name}.parquet", index=False)

    def __repr__(self) -> str:
        from abm.display import run_result_repr

        return run_result_repr(self)

    def _repr_html_(self) -> str:
        from abm.display import run_result_html

        return run_result_html(self)


def new_seed() -> int:
    """A fresh seed from OS entropy, for runs whose caller gave none (it is recorded)."""
    return int(np.random.SeedSequence().generate_state(1)[0])


def simulate(
    scenario: Scenario | str | None = None, *, seed: int | None = None, steps: int | None = None, **overrides: Any
) -> RunResult:
    """Run one scenario to its horizon (or ``steps`` months) and return its frames.

    Args:
        scenario: Scenario, preset name, TOML path, or None for the default preset.
        seed: seed of the run; None draws one from OS entropy and records it.
        steps: months to simulate; default: the scenario's ``months``.
        **overrides: flat or dotted overrides, as for :class:`MarketEntryModel`.
    """
    if seed is None:
        seed = new_seed()
    elif isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError("seed", seed, "a whole number >= 0, or None for a fresh one")
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0):
        raise InputError("steps", steps, "a whole number of months >= 0, or None for the scenario's horizon")
    model = MarketEntryModel(scenario, seed=int(seed), **overrides)
    try:
        model.run(steps)
        return collect(model)
    finally:
        model.release()


def summary_row(model: MarketEntryModel, entrant_index: int = 0) -> dict[str, Any]:
    """One entrant's summary row (the focal, first, by default) straight from a model that
    has run, without building the monthly frames: for sweeps that keep only summaries."""
    return _entrant_summary(model, model.entrants[entrant_index])


def outcomes_of(model: MarketEntryModel) -> dict[str, Any]:
    """``RunResult.outcomes()`` of a model that has run, without building its frames: the
    same keys, values and types (with several entrants, through their frame, as ``collect``)."""
    if len(model.entrants) == 1:
        return _entrant_summary(model, model.entrants[0])
    return pd.DataFrame([_entrant_summary(model, e) for e in model.entrants]).iloc[0].to_dict()


def collect(model: MarketEntryModel) -> RunResult:
    """The tidy frames of a model that has run."""
    steps = pd.DataFrame.from_records(model._rows, columns=STEP_COLUMNS)
    partnerships = _partnership_frame(model)
    entrants = pd.DataFrame([_entrant_summary(model, e) for e in model.entrants])
    summary = entrants.iloc[[0]].reset_index(drop=True)
    events = pd.DataFrame(model.events, columns=EVENT_COLUMNS)
    return RunResult(model.scenario, model.seed, steps, summary, entrants, partnerships, events)


def _partnership_frame(model: MarketEntryModel) -> pd.DataFrame:
    rows = []
    for p in model.partnerships:
        rows.append(
            {
                "entrant": p.entrant,
                "partner": p.partner,
                "kind": p.kind,
                "upgraded_to_jv": p.upgraded,
                "start_month": p.start_month,
                "end_month": p.end_month,
                "end_cause": p.end_cause or "active",
                "exit_route": p.exit_route or "",
                "months": p.months(model.month),
                "trust_entrant": p.trust_entrant,
                "trust_partner": p.trust_partner,
                "partner_know_how": p.partner_know_how,
                "partner_npv": _partner_npv(model, p),
                "renegotiations": p.renegotiations,
            }
        )
    cols = [
        "entrant",
        "partner",
        "kind",
        "upgraded_to_jv",
        "start_month",
        "end_month",
        "end_cause",
        "exit_route",
        "months",
        "trust_entrant",
        "trust_partner",
        "partner_know_how",
        "partner_npv",
        "renegotiations",
    ]
    return pd.DataFrame(rows, columns=cols)


def _partner_npv(model: MarketEntryModel, p) -> float:
    """Partner's NPV from the partnership, with the value of a stake or fee stream still live."""
    npv = p.partner_npv
    if p.active:
        coc = model.partner_by_name[p.partner].config.cost_of_capital
        tv = terminal_value(p.partner_flows, model.scenario.contract.valuation_multiple)
        npv += tv * model.discount(model.month, coc)
    return npv


def _entrant_summary(model: MarketEntryModel, e) -> dict[str, Any]:
    cfg, c = e.config, model.scenario.contract
    month = model.month
    # the entrant's share by month from month 0, while it owns its brand (0 after a sale)
    shares = model._share_path[e.name]  # the steps rows' market_share, 0 where another owner sold
    holding = e.in_market and e.entered and e.brand_owner == e.name
    tv = terminal_value(e.own_flows, c.valuation_multiple) if holding else 0.0
    npv = e.npv + tv * model.discount(month, cfg.cost_of_capital)
    mine = [p for p in model.partnerships if p.entrant == e.name]
    first = mine[0] if mine else None
    last = mine[-1] if mine else None
    months_to_target = e.target_month_reached
    objective_met = months_to_target is not None and months_to_target <= cfg.target_month
    row = {
        "seed": model.seed,
        "scenario": model.scenario.name,
        "months": month,
        "entrant": e.name,
        "entry_mode": e.initial_mode,
        "final_mode": e.mode if e.entered else "none",
        "partner": first.partner if first else (e.acquired.name if e.acquired else ""),
        "cultural_distance": e.cultural_distance,
    }
    for key, m in CHECKPOINTS.items():
        row[key] = shares[m] if m < len(shares) else math.nan
    row.update(
        {
            "share_final": shares[-1],
            "share_peak": max(shares),
            "months_to_target": math.nan if months_to_target is None else months_to_target,
            "licence_month": math.nan if e.first_licence_month is None else e.first_licence_month,
            "awareness_final": float(model.consumers.awareness()[e.brand]),
            "npv": npv,
            "terminal_value": tv,
            "invested": e.invested,
            "cash_end": e.cash,
            "roi": (e.net_cash + tv) / e.invested if e.invested > 0 else math.nan,
            "in_market_end": holding,
            "exit_month": math.nan if e.exit_month is None else e.exit_month,
            "exit_cause": e.exit_cause,
            "partnership_formed": first is not None,
            "partnership_status": (last.kind if last and last.active else ("ended" if last else "none")),
            "partnership_end_cause": (last.end_cause or "active") if last else "",
            "partnership_months": sum(p.months(month) for p in mine),
            "upgraded_to_jv": any(p.upgraded for p in mine),
            "jv_exit_route": next((p.exit_route for p in mine if p.exit_route), ""),
            "renegotiations": sum(p.renegotiations for p in mine),
            "partner_npv": sum(_partner_npv(model, p) for p in mine) if mine else math.nan,
            "incumbent_reactions": sum(i.reactions for i in model.incumbents),
            "rival_launched": any(p.rival for p in model.partners),
            "integration_failed": e.integration_failed,
        }
    )
    failed = bool(mine) and any(partnership_failed(p.end_cause, p.exit_route) for p in mine)
    row["objective_met"] = objective_met
    row["return_above_cost_of_capital"] = npv > 0
    row["entry_success"] = objective_met and npv > 0
    row["partnership_failed"] = failed
    row["partnership_goals_met"] = (
        bool(mine) and not failed and e.peak_share_partnered >= c.review_objective * cfg.target_share
    )
    row["success_for_both"] = bool(mine) and npv > 0 and row["partner_npv"] > 0
    row["failure_for_both"] = bool(mine) and npv <= 0 and row["partner_npv"] <= 0
    return row
