"""Calibration targets: the facts of the validation report, and the runs each one needs.

A target is a fact of :mod:`abm.validation.facts` read as a statement about the model's
population value: a *level* lies in its band, a *direction* lies on its side of zero (band
``(0, inf)`` or ``(-inf, 0)``). The model's value at a parameter point is the fact's own
estimate, computed by the validation code from runs of the validation conditions
(:mod:`abm.validation.experiment`) with ``entries`` runs per arm, so calibration and the
validation report can never disagree on what a fact means.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from abm.errors import InputError


@dataclass(frozen=True)
class Target:
    """One fact as a calibration target.

    Args:
        key: the fact's key in the validation report.
        low, high: the band the population value should lie in (inf for a direction).
        kind: ``level`` or ``direction``.
        unit: as in the report (share, months, per year, ratio).
        conditions: validation conditions whose runs the fact is computed from.
        discrepancy: standard deviation of the model's structural error on this target (its
            units; 0 by default): how far the model may miss the band for reasons no
            parameter of the calibration can fix (Kennedy & O'Hagan 2001).
    """

    key: str
    low: float
    high: float
    kind: str
    unit: str
    conditions: tuple[str, ...]
    discrepancy: float = 0.0

    def with_band(self, low: float, high: float) -> Target:
        return replace(self, low=low, high=high, kind="level")

    def with_discrepancy(self, sd: float) -> Target:
        return replace(self, discrepancy=sd)

    @property
    def band_text(self) -> str:
        if math.isinf(self.high):
            return f"> {self.low:.3g}"
        if math.isinf(self.low):
            return f"< {self.high:.3g}"
        return f"{self.low:.3g} to {self.high:.3g}"


INF = math.inf


def _bleeke_ernst(key: str) -> tuple[float, float]:
    from abm.validation.facts import BLEEKE_ERNST

    return BLEEKE_ERNST[key]


TARGETS: dict[str, Target] = {
    t.key: t
    for t in (
        Target("jv_goals_met", 0.60, 0.70, "level", "share", ("joint_ventures",)),
        Target("alliances_fail", 0.30, 0.40, "level", "share", ("alliances",)),
        Target(
            "success_for_both", *_bleeke_ernst("success_for_both"), "level", "share", ("alliances", "joint_ventures")
        ),
        Target(
            "failure_for_both", *_bleeke_ernst("failure_for_both"), "level", "share", ("alliances", "joint_ventures")
        ),
        Target("jv_durations", 0.50, 1.00, "level", "share", ("joint_ventures",)),
        Target("incumbent_reactions", 0.50, 1.00, "level", "share", ("alliances", "joint_ventures")),
        Target("setup_saving", 0.35, 0.45, "level", "ratio", ("alpha_beta",)),
        Target("bass_p", 0.025, 0.035, "level", "per year", ("diffusion",)),
        Target("bass_q", 0.32, 0.44, "level", "per year", ("diffusion",)),
        Target("distance_acquisition", -INF, 0.0, "direction", "share", ("distance_mode_choice",)),
        Target("distance_jv_greenfield", 0.0, INF, "direction", "share", ("distance_mode_choice",)),
        Target("unequal_commitment", -INF, 0.0, "direction", "months", ("unequal_commitment",)),
        Target("learning_race", -INF, 0.0, "direction", "months", ("learning_race",)),
        Target("regulatory_ties", -INF, 0.0, "direction", "months", ("regulatory_ties",)),
        Target("small_firm_alliance", 0.0, INF, "direction", "share", ("size_mode_choice",)),
        Target("ownership_cap_jv", 0.0, INF, "direction", "share", ("ownership_cap",)),
    )
}
"""Every fact the validation report measures, as a target (docs/VALIDATION.md)."""


def conditions_for(targets: dict[str, Target], entries: int) -> list:
    """The validation conditions the targets need, each with ``entries`` runs per arm."""
    from abm.validation.experiment import Plan, conditions

    needed = {c for t in targets.values() for c in t.conditions}
    plan = Plan("calibration", population=entries, short=entries, bass=entries, case=entries)
    return [c for c in conditions(plan) if c.name in needed]


def check_not_redrawn(prior: dict[str, tuple[float, float]], targets: dict[str, Target]) -> None:
    """A parameter the validation population redraws for every entry cannot be calibrated
    through population facts (its value would be overwritten); scaled draws are fine."""
    from abm.validation.population import DISTRIBUTIONS

    needs_population = any(
        c.population for c in conditions_for(targets, 2) if any(c.name in t.conditions for t in targets.values())
    )
    if not needs_population:
        return
    redrawn = {d.path for d in DISTRIBUTIONS if d.law not in ("scale", "lognormal_scale")}
    for name in prior:
        generic = name.split("[")[0] + ("." + name.split(".")[-1] if "[" in name else "")
        if name in redrawn or generic in redrawn:
            raise InputError(
                f"parameters.{name}",
                list(prior[name]),
                "a parameter the validation population does not redraw for each entry "
                "(drawn: " + ", ".join(sorted(redrawn)) + ")",
            )


# ---- evaluating the targets at one parameter point -------------------------------------------


def point_tasks(
    scenario: Any, overrides: dict[str, float], conditions: list, master_seed: int, point: int
) -> Iterator[tuple[tuple[int, str, str, int], tuple]]:
    """``(key, task)`` for every run of one design point; a task is what
    :func:`abm.validation.experiment._run` takes. Every point uses the same entries and seeds
    (common random numbers), so points differ by their values, not by luck."""
    from abm.validation.experiment import build_base

    for c in conditions:
        base = build_base(scenario, c, overrides)
        for arm in c.arms:
            for i in range(c.n):
                yield (point, c.name, arm, i), (c, arm, i, base, master_seed)


def run_one(task: tuple) -> dict[str, Any]:
    """One validation run (module-level, so process pools and Dask can ship it)."""
    from abm.validation.experiment import _run

    return _run(task)


def estimate(rows: list[dict[str, Any]], conditions: list, targets: dict[str, Target], master_seed: int) -> dict:
    """Each target's estimate (and 95 % interval) from the runs of one design point."""
    import pandas as pd

    from abm.validation.experiment import QUICK, Results
    from abm.validation.facts import check_facts

    frames = {}
    for c in conditions:
        mine = sorted((r for r in rows if r["condition"] == c.name), key=lambda r: (r["arm"], r["entry"]))
        frames[c.name] = pd.DataFrame(mine)
    results = Results(QUICK, master_seed, frames, [], 0.0, 1, {}, {c.name: c for c in conditions})
    checks = {f.key: f for f in check_facts(results)}
    out: dict[str, float] = {}
    for key in targets:
        f = checks.get(key)
        est = math.nan if f is None else float(f.estimate)
        out[key] = est
        out[f"{key}__low"] = math.nan if f is None else float(f.low)
        out[f"{key}__high"] = math.nan if f is None else float(f.high)
    return out
