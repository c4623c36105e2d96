"""Compare variants of one scenario (entry modes, candidate partners) over replications.

    result = compare(scenario, mode_variants(), replications=100, master_seed=1)
    result.summary   # one row per run: variant, replication, run_id, seed, outcomes
    result.steps     # the firms' monthly paths of every run

Replication ``r`` of every variant uses the same seed (common random numbers), so the
variants differ by their setting, not by luck; the seed of replication r is
``run_seed(master_seed, r)`` (see abm.seeding).
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from abm.errors import InputError
from abm.executors import run_local
from abm.scenario import Scenario
from abm.seeding import run_seed
from abm.simulation import simulate
from abm.vocabulary import ENTRY_MODES, EntryMode


@dataclass
class Comparison:
    scenario: Scenario
    master_seed: int
    replications: int
    variants: dict[str, dict[str, Any]]
    summary: pd.DataFrame
    steps: pd.DataFrame
    events: pd.DataFrame
    failures: pd.DataFrame

    def __repr__(self) -> str:
        from abm.display import comparison_repr

        return comparison_repr(self)

    def _repr_html_(self) -> str:
        from abm.display import comparison_html

        return comparison_html(self)


def mode_variants(modes: tuple[EntryMode, ...] = ENTRY_MODES) -> dict[str, dict[str, Any]]:
    """One variant per entry mode."""
    return {mode: {"entry_mode": mode} for mode in modes}


def partner_variants(scenario: Scenario) -> dict[str, dict[str, Any]]:
    """One variant per candidate partner (the focal entrant's preferred partner)."""
    return {p.name: {"partner": p.name} for p in scenario.partners}


def _one_run(task: tuple) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    scenario, overrides, seed, variant, replication, run_id, keep_steps = task
    result = simulate(scenario, seed=seed, **overrides)
    row = {"run_id": run_id, "variant": variant, "replication": replication, **result.outcomes()}
    steps = result.steps.assign(run_id=run_id, variant=variant) if keep_steps else pd.DataFrame()
    events = result.events.assign(run_id=run_id, variant=variant)
    return row, steps, events


def compare(
    scenario: Scenario | str | None = None,
    variants: dict[str, dict[str, Any]] | None = None,
    *,
    replications: int = 100,
    master_seed: int = 1,
    workers: int = 1,
    keep_steps: bool = True,
    progress: Callable[[int, int], None] | None = None,
    **overrides: Any,
) -> Comparison:
    """Run every variant ``replications`` times; results in a deterministic order.

    Args:
        scenario: Scenario, preset name (``"alpha-beta"``), TOML path, or None for the default preset.
        variants: label -> overrides; default: one variant per entry mode (:func:`mode_variants`).
        progress: called as ``progress(done, total)`` after each run.
        **overrides: flat or dotted overrides applied to the scenario first, as for ``simulate``
            (e.g. ``months=24``).

    Raises:
        InputError: for replications < 1 or a variant whose overrides are not allowed
            (checked before anything runs).
    """
    if not isinstance(scenario, Scenario):
        from abm.presets import resolve_scenario

        scenario = resolve_scenario(scenario)
    if overrides:
        scenario = scenario.with_overrides(overrides)
    if variants is None:
        variants = mode_variants()
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
        raise InputError("replications", replications, "a whole number >= 1")
    if not variants:
        raise InputError("variants", variants, "at least one variant")
    for overrides in variants.values():
        scenario.with_overrides(overrides)  # fail fast, before any run
    tasks = []
    for v, (label, overrides) in enumerate(variants.items()):
        for r in range(replications):
            run_id = v * replications + r
            tasks.append((run_id, (scenario, overrides, run_seed(master_seed, r), label, r, run_id, keep_steps)))
    rows, steps, events, failures = {}, {}, {}, []
    total = len(tasks)
    for done, (run_id, out) in enumerate(run_local(_one_run, tasks, workers=workers), start=1):
        if isinstance(out, Exception):
            _, (_, _, seed, label, r, _, _) = tasks[run_id]
            failures.append(
                {
                    "run_id": run_id,
                    "variant": label,
                    "replication": r,
                    "seed": seed,
                    "error": f"{type(out).__name__}: {out}",
                }
            )
        else:
            rows[run_id], steps[run_id], events[run_id] = out
        if progress:
            progress(done, total)
    order = sorted(rows)
    summary = pd.DataFrame([rows[i] for i in order])
    steps_df = pd.concat([steps[i] for i in order], ignore_index=True) if keep_steps and order else pd.DataFrame()
    events_df = pd.concat([events[i] for i in order], ignore_index=True) if order else pd.DataFrame()
    return Comparison(
        scenario,
        master_seed,
        replications,
        variants,
        summary,
        steps_df,
        events_df,
        pd.DataFrame(failures, columns=["run_id", "variant", "replication", "seed", "error"]),
    )


class _CallableModule(types.ModuleType):
    """``abm.compare`` is both this module (``abm.compare.Comparison``, ``from abm import
    compare``) and the function: ``abm.compare("alpha-beta", replications=50)``."""

    def __call__(self, *args: Any, **kwargs: Any) -> Comparison:
        return compare(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
