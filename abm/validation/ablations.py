"""Mechanism checks: switch one mechanism off and show that the fact resting on it breaks.

A fact that still holds with its mechanism removed is not evidence for the mechanism. Each
:class:`Ablation` names the overrides that switch a mechanism off, the conditions to re-run
and the facts expected to break; :func:`run_ablations` re-runs them on the same entries and
seeds as the validation experiment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from abm.validation.experiment import Plan, Results, conditions, run_experiment
from abm.validation.facts import FactCheck, check_facts


@dataclass(frozen=True)
class Ablation:
    name: str
    mechanism: str
    overrides: dict[str, Any]
    conditions: tuple[str, ...]
    breaks: tuple[str, ...]  # keys of the facts expected to break
    fixed: tuple[str, ...] = ()  # population traits no longer drawn (kept at the case's value)
    remainder: str = ""  # what else carries the fact, if it survives the switch-off


ABLATIONS: tuple[Ablation, ...] = (
    Ablation(
        "trust_frozen",
        "trust dynamics (trust_gain = trust_loss = 0: trust stays at its value at signing)",
        {"contract.trust_gain": 0.0, "contract.trust_loss": 0.0},
        ("alliances", "unequal_commitment"),
        ("alliances_fail", "unequal_commitment"),
        remainder="alliances fail: Model 2 ends alliances by value (the entrant's way out against the "
        "partner's share, partners' outside offers and concessions), rarely at a trust floor, so the "
        "rate does not rest on trust dynamics; unequal commitment: more than half of the effect goes "
        "with trust (tests/test_validation.py asserts it); the rest does not pass through trust (a "
        "partner that delivers less also reaches fewer consumers, and weak results put the alliance "
        "in trouble whatever either side believes)",
    ),
    Ablation(
        "ties_ignored",
        "regulatory ties (the regulator ignores them: tie_speedup = tie_weight = 0)",
        {"regulators.tie_speedup": 0.0, "regulators.tie_weight": 0.0},
        ("regulatory_ties",),
        ("regulatory_ties",),
    ),
    Ablation(
        "no_learning_race",
        "the learning race (know_how_leak = 0: the partner learns nothing)",
        {"contract.know_how_leak": 0.0},
        ("learning_race",),
        ("learning_race",),
    ),
    Ablation("no_word_of_mouth", "word of mouth (bass_q = 0)", {"market.bass_q": 0.0}, ("diffusion",), ("bass_q",)),
    Ablation(
        "one_market_size",
        "variety of host markets (every entry's market has the case's size: market.buyers is not drawn)",
        {},
        ("alliances", "joint_ventures"),
        ("failure_for_both",),
        fixed=("market.buyers",),
    ),
    Ablation(
        "no_integration_risk",
        "acquisition integration risk rising with distance (integration_risk = 0)",
        {"contract.integration_risk": 0.0},
        ("distance_mode_choice",),
        ("distance_acquisition",),
        remainder="fewer acquisitions with distance: the appraisal also lowers every partnered mode's "
        "expected product fit with distance, and an acquisition, which keeps all of the profit, "
        "loses most from it (docs/ODD.md §7.2), so integration risk is one of two carriers",
    ),
)
"""The mechanisms checked, each with the facts that rest on it."""


@dataclass
class AblationResult:
    ablation: Ablation
    results: Results
    checks: list[FactCheck]

    def broken(self, key: str) -> bool:
        """The fact is no longer supported: it does not hold and its CI misses the target."""
        check = next(c for c in self.checks if c.key == key)
        return not check.consistent


def run_ablations(
    plan: Plan,
    *,
    master_seed: int = 2025,
    workers: int = 1,
    runs: int | None = None,
    only: list[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[AblationResult]:
    """Re-run each ablation's conditions with its mechanism switched off.

    Args:
        runs: runs per arm (default: the plan's own counts).
        only: names of the ablations to run.
    """
    plans = []
    for ab in ABLATIONS:
        if only is not None and ab.name not in only:
            continue
        selected = [replace(c, fixed=c.fixed + ab.fixed) for c in conditions(plan) if c.name in ab.conditions]
        if runs is not None:
            selected = [replace(c, n=min(c.n, runs)) for c in selected]
        plans.append((ab, selected))
    total = sum(c.n * len(c.arms) for _, selected in plans for c in selected)
    offset = 0
    out = []
    for ab, selected in plans:
        step = (lambda done, _n, base=offset: progress(base + done, total)) if progress else None
        results = run_experiment(
            plan, master_seed=master_seed, workers=workers, overrides=ab.overrides, selected=selected, progress=step
        )
        offset += sum(c.n * len(c.arms) for c in selected)
        out.append(AblationResult(ab, results, check_facts(results)))
    return out
