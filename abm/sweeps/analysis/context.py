"""What a sweep's analysis is about: its outcomes, parameters, groups and labels."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from abm.sweeps.spec import DERIVED_OUTCOMES, ID_COLUMNS
from abm.sweeps.store import Results

MARKER = ".abm-analysis"
MAX_BINS = 8
"""Quantile bins of a sampled parameter in tables and plots."""
MAX_LEVELS = 12
"""More distinct values than this and a numeric parameter is binned."""
MAX_GROUPS = 8
"""More group values than this and fan charts and survival curves show all runs together."""
FAN_RUNS = 4000
"""Runs per group drawn into a fan chart (an even sample when there are more)."""

LOWER_IS_BETTER = {
    "partnership_failed",
    "failure_for_both",
    "loss",
    "months_to_target",
    "licence_month",
    "integration_failed",
    "rival_launched",
    "exit_month",
    "invested",
}
PARTNERSHIP_OUTCOMES = {
    "partnership_failed",
    "partnership_goals_met",
    "success_for_both",
    "failure_for_both",
    "partnership_months",
    "upgraded_to_jv",
    "partnership_survived",
}
"""Outcomes counted over the runs where a partnership formed (blank elsewhere)."""
SHARES = {"share_y1", "share_y3", "share_y5", "share_y10", "share_final", "share_peak", "awareness_final"}
LABELS = {
    "npv": "NPV ({cur} m)",
    "partner_npv": "partner's NPV ({cur} m)",
    "cash_end": "cash at the end ({cur} m)",
    "invested": "invested ({cur} m)",
    "roi": "ROI",
    "share_y1": "market share, year 1",
    "share_y3": "market share, year 3",
    "share_y5": "market share, year 5",
    "share_y10": "market share, year 10",
    "share_final": "market share at the horizon",
    "share_peak": "peak market share",
    "awareness_final": "brand awareness at the horizon",
    "months_to_target": "months to the target share",
    "licence_month": "licence month",
    "objective_met": "target share met by the deadline",
    "entry_success": "entry success (target met, NPV > 0)",
    "return_above_cost_of_capital": "NPV > 0",
    "partnership_failed": "partnership failed",
    "partnership_survived": "partnership survived",
    "partnership_goals_met": "partnership met its goals",
    "success_for_both": "success for both partners",
    "failure_for_both": "failure for both partners",
    "partnership_months": "months in partnership",
    "upgraded_to_jv": "alliance upgraded to a JV",
    "loss": "loss (NPV < 0)",
    "in_market_end": "still in the market at the horizon",
}
PATH_LABELS = {
    "market_share": "market share",
    "trust_entrant": "its trust in the partner",
    "trust_partner": "the partner's trust in it",
    "cash": "cash ({cur} m)",
    "awareness": "brand awareness",
    "coverage": "distribution coverage",
}
TIE = "tie"
"""The best group value of a cell whose two best means are equal."""
BLUE, DARK = "#1f77b4", "#0b3c6b"
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]


# ---- what to analyse -------------------------------------------------------------------------


@dataclass
class Outcome:
    name: str
    column: str
    rate: bool
    label: str

    @property
    def percent(self) -> bool:
        return self.rate or self.name in SHARES

    def axis(self) -> str:
        return self.label + (" (%)" if self.percent else "")

    def fmt(self, value: float) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "n/a"
        if self.percent:
            return f"{value * 100:.1f}%"
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


@dataclass
class Param:
    key: str
    column: str
    categorical: bool
    continuous: bool  # binned by quantile
    order: list

    @property
    def label(self) -> str:
        return self.key.replace("_", " ") if "." not in self.key and "[" not in self.key else self.key


class Context:
    """The results plus what the analysis needs to know about them."""

    def __init__(self, results: Results):
        self.results = results
        self.manifest = results.manifest
        self.kind = self.manifest["design"]["kind"]
        self.currency = _currency(results)
        self.frame = results.summary.copy()
        self.params = [self._param(p) for p in self.manifest["parameters"]]
        self.outcomes = self._outcomes()
        group = self.manifest.get("analysis", {}).get("group")
        if group is None:
            group = next((p.column for p in self.params if p.categorical), None)
        else:
            group = next((p.column for p in self.params if group in (p.key, p.column)), None)
        self.group = next((p for p in self.params if p.column == group and not p.continuous), None)

    def _param(self, p: dict) -> Param:
        col = p["column"]
        values = self.frame[col] if col in self.frame else self.results.design[col]
        categorical = p.get("values") is not None and not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in p["values"]
        )
        continuous = not categorical and values.nunique() > MAX_LEVELS
        if categorical:
            order = list(p["values"])
        elif continuous:
            order = []
        else:
            order = sorted(values.dropna().unique().tolist())
        return Param(key=p["key"], column=col, categorical=categorical, continuous=continuous, order=order)

    def _outcomes(self) -> list[Outcome]:
        frame = self.frame
        taken = {*ID_COLUMNS, *(p.column for p in self.params)}
        if "partnership_formed" in frame and "partnership_failed" in frame:
            formed = frame["partnership_formed"].astype(bool)
            frame["partnership_survived"] = np.where(
                formed, (~frame["partnership_failed"].astype(bool)).astype(float), np.nan
            )
        if "npv" in frame:
            frame["loss"] = frame["npv"] < 0
        wanted = self.manifest.get("analysis", {}).get("outcomes")
        if not wanted:
            months = int(self.manifest.get("months") or 0)
            share = (
                "share_y5"
                if months >= 60
                else "share_y3"
                if months >= 36
                else "share_y1"
                if months >= 12
                else "share_final"
            )
            wanted = ["npv", share, "entry_success", "partnership_failed"]
        out = []
        for name in wanted:
            column = f"{name}_result" if name in taken else name
            if column not in frame:
                continue
            values = frame[column]
            rate = values.dtype == bool or name in DERIVED_OUTCOMES
            numeric = pd.to_numeric(values, errors="coerce") if not rate else values.astype(float)
            if numeric.notna().sum() == 0:
                continue
            if name == "partnership_failed" and not frame.get("partnership_formed", pd.Series([True])).any():
                continue
            if name in PARTNERSHIP_OUTCOMES and "partnership_formed" in frame:
                numeric = numeric.where(frame["partnership_formed"].astype(bool))
            frame[column] = numeric
            label = LABELS.get(name, name.replace("_", " ")).format(cur=self.currency)
            out.append(Outcome(name=name, column=column, rate=rate, label=label))
        return out

    def levels(self, param: Param, bins: int = MAX_BINS) -> pd.Series:
        """The level each run falls in: the value itself, or its quantile bin's mean."""
        values = self.frame[param.column]
        if not param.continuous:
            return values
        edges = pd.qcut(values, bins, duplicates="drop")
        centres = values.groupby(edges, observed=True).transform("mean")
        return centres.map(lambda v: float(f"{v:.3g}"))

    def line_bins(self, groups: int = 1) -> int:
        """Quantile bins along one axis: about 10 runs per group and bin, 3 to MAX_BINS."""
        return int(np.clip(len(self.frame) // (10 * max(1, groups)), 3, MAX_BINS))

    def map_bins(self, groups: int = 1) -> int:
        """Quantile bins per axis of a two-parameter map: about 10 runs per group and cell."""
        return int(np.clip(math.isqrt(len(self.frame) // (10 * max(1, groups))), 2, MAX_BINS))


def _currency(results: Results) -> str:
    try:
        import tomllib

        text = (results.path / "scenario.toml").read_text(encoding="utf-8")
        return tomllib.loads(text).get("currency", "USD")
    except (OSError, ValueError):
        return "USD"
