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


BATCH_RUNS = 10
"""Runs a worker does per task: the scenario crosses to the worker once per batch, results come
back as plain lists in one message (a pool of workers; a serial comparison runs one by one)."""


def _run_batch(task: tuple) -> list[tuple[int, Any]]:
    """Runs of one variant: ``(run_id, (row, steps, events))`` each, or ``(run_id, exception)``
    for a run that raised (the rest of the batch still runs).

    ``steps`` is the run's steps frame (``keep_steps=True``, tagged with run_id and variant),
    the focal entrant's monthly rows as tuples (``"focal"``) or None; ``events`` the event
    tuples. The summary row is the dict ``RunResult.outcomes()`` gives (without the frames).
    """
    scenario, overrides, label, keep, runs = task
    if overrides and len(runs) > 1:  # the variant's scenario once for the batch (a model never writes to it)
        scenario, overrides = scenario.with_overrides(overrides), {}
    out = []
    for replication, run_id, seed in runs:
        try:
            out.append((run_id, _run(scenario, overrides, label, keep, replication, run_id, seed)))
        except Exception as exc:
            out.append((run_id, exc))
    return out


def _run(scenario: Scenario, overrides: dict, label: str, keep: bool | str, replication: int, run_id: int, seed: int):
    from abm.model import MarketEntryModel
    from abm.simulation import collect, outcomes_of

    model = MarketEntryModel(scenario, seed=seed, **overrides)  # as abm.simulate builds it
    try:
        focal = model.entrants[0].name
        if keep is not True:
            model.keep_steps = keep  # from month 1 on: the focal entrant's rows only, or none
        model.run()
        head = {"run_id": run_id, "variant": label, "replication": replication}
        if keep is True:  # the whole run's frames, as abm.simulate gives them
            result = collect(model)
            return {**head, **result.outcomes()}, result.steps.assign(run_id=run_id, variant=label), model.events
        steps = [r for r in model._rows if r[1] == focal] if keep else None  # month 0 holds every firm's row
        return {**head, **outcomes_of(model)}, steps, model.events
    finally:
        model.release()


def compare(
    scenario: Scenario | str | None = None,
    variants: dict[str, dict[str, Any]] | None = None,
    *,
    replications: int = 100,
    master_seed: int = 1,
    workers: int = 1,
    keep_steps: bool | str = True,
    warm: bool = False,
    progress: Callable[[int, int], None] | None = None,
    **overrides: Any,
) -> Comparison:
    """Run every variant ``replications`` times; results in a deterministic order.

    Args:
        scenario: Scenario, preset name (``"alpha-beta"``), TOML path, or None for the default preset.
        variants: label -> overrides; default: one variant per entry mode (:func:`mode_variants`).
        keep_steps: True: every firm's monthly rows in ``steps``; ``"focal"``: the focal (first)
            entrant's rows only (what the share fan chart and the debriefs read; the same rows,
            cheaper); False: no steps.
        warm: run on the process's warm pool of ``workers`` processes (kept between calls, see
            :func:`abm.executors.warm_pool`), even for one worker; the same results. The app's
            server runs every comparison on it; so can scripts and notebooks.
        progress: called as ``progress(done, total)`` after each run.
        **overrides: flat or dotted overrides applied to the scenario first, as for ``simulate``
            (e.g. ``months=24``).

    Raises:
        InputError: for replications < 1, a keep_steps that is none of the above, or a variant
            whose overrides are not allowed (checked before anything runs).
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
    if not (isinstance(keep_steps, bool) or keep_steps == "focal"):
        raise InputError("keep_steps", keep_steps, "True, False or 'focal'")
    for overrides in variants.values():
        scenario.with_overrides(overrides)  # fail fast, before any run
    pooled = warm or workers > 1
    batch = BATCH_RUNS if pooled else 1
    tasks: list[tuple[int, tuple[Any, ...]]] = []
    for v, (label, overrides) in enumerate(variants.items()):
        for first in range(0, replications, batch):
            runs = [
                (r, v * replications + r, run_seed(master_seed, r))
                for r in range(first, min(first + batch, replications))
            ]
            tasks.append((len(tasks), (scenario, overrides, label, keep_steps, runs)))
    rows, steps, events, failures = {}, {}, {}, []
    total = len(variants) * replications
    done = 0
    for index, out in run_local(_run_batch, tasks, workers=workers, warm=warm):
        _, (_, _, label, _, runs) = tasks[index]
        results = [(run_id, out) for _, run_id, _ in runs] if isinstance(out, Exception) else out
        for (r, _, seed), (run_id, result) in zip(runs, results, strict=True):
            if isinstance(result, Exception):
                failures.append(
                    {
                        "run_id": run_id,
                        "variant": label,
                        "replication": r,
                        "seed": seed,
                        "error": f"{type(result).__name__}: {result}",
                    }
                )
            else:
                rows[run_id], steps[run_id], events[run_id] = result
            done += 1
            if progress:
                progress(done, total)
    order = sorted(rows)
    summary = pd.DataFrame([rows[i] for i in order])
    return Comparison(
        scenario,
        master_seed,
        replications,
        variants,
        summary,
        _steps_frame(keep_steps, order, rows, steps),
        _events_frame(order, rows, events),
        pd.DataFrame(failures, columns=["run_id", "variant", "replication", "seed", "error"]),
    )


def _steps_frame(keep: bool | str, order: list[int], rows: dict, steps: dict) -> pd.DataFrame:
    if not keep or not order:
        return pd.DataFrame()
    if keep is True:
        return pd.concat([steps[i] for i in order], ignore_index=True)
    from abm.model import STEP_COLUMNS

    records = [(*row, i, rows[i]["variant"]) for i in order for row in steps[i]]
    return pd.DataFrame.from_records(records, columns=[*STEP_COLUMNS, "run_id", "variant"])


def _events_frame(order: list[int], rows: dict, events: dict) -> pd.DataFrame:
    from abm.simulation import EVENT_COLUMNS

    if not order:
        return pd.DataFrame()
    records = [(*event, i, rows[i]["variant"]) for i in order for event in events[i]]
    return pd.DataFrame.from_records(records, columns=[*EVENT_COLUMNS, "run_id", "variant"])


class _CallableModule(types.ModuleType):
    """``abm.compare`` is both this module (``abm.compare.Comparison``, ``from abm import
    compare``) and the function: ``abm.compare("alpha-beta", replications=50)``."""

    def __call__(self, *args: Any, **kwargs: Any) -> Comparison:
        return compare(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
