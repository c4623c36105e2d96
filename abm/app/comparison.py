"""The Compare view's computation: replications of each entry mode or candidate partner.

A thin layer over :func:`abm.compare.compare` (same seeds, same definitions as
``abm run``) that adds what the page needs: cancelling, the probabilities with their
Wilson intervals as a tidy table, and the CSV downloads. No Solara here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from abm import compare as compare_mod
from abm import report
from abm.errors import InputError
from abm.scenario import ENTRY_MODES, Scenario

MEASURES = ("Target share by deadline", "Loss (NPV < 0)", "Partnership survives")
"""The probabilities the Compare view charts, in order."""


class Cancelled(Exception):
    """Raised from the progress callback to stop a comparison the user cancelled."""


@dataclass(frozen=True)
class CompareOutcome:
    """A finished comparison and the tables the page shows.

    Attributes:
        comparison: the :class:`abm.compare.Comparison` (summary, steps, events, failures).
        kpi: ``abm.report.kpi_table`` (rows: KPIs, columns: variants; formatted text).
        quantiles: focal entrant's share quantiles per variant and month.
        probabilities: (variant, measure, p, lo, hi, n) for ``MEASURES``.
        elapsed_s: wall time of the runs, seconds.
        workers: processes used.
    """

    comparison: compare_mod.Comparison
    kpi: pd.DataFrame
    quantiles: pd.DataFrame
    probabilities: pd.DataFrame
    elapsed_s: float
    workers: int

    @property
    def variants(self) -> list[str]:
        return list(self.comparison.variants)

    def kpi_csv(self) -> str:
        """The KPI table as CSV (one row per KPI, one column per variant)."""
        return self.kpi.rename_axis("KPI").to_csv()

    def runs_csv(self) -> str:
        """Every run's outcomes as CSV (one row per run)."""
        return self.comparison.summary.to_csv(index=False)


def variants_for(
    scenario: Scenario, kind: str, modes: tuple[str, ...] = ("alone", "alliance", "joint_venture")
) -> dict:
    """The variants to compare: entry modes, or the scenario's candidate partners.

    Raises:
        InputError: for an unknown kind or mode, no mode chosen, or partners asked of a
            scenario with fewer than two (one variant would compare nothing).
    """
    if kind == "modes":
        if not modes:
            raise InputError("entry modes", "(none)", "at least one of " + ", ".join(ENTRY_MODES))
        for m in modes:
            if m not in ENTRY_MODES:
                raise InputError("entry modes", m, "one of " + ", ".join(ENTRY_MODES))
        if not scenario.partners and any(m != "alone" for m in modes):
            raise InputError("entry modes", ", ".join(modes), "'alone' only: this scenario has no local partner")
        return {m: {"entrants[0].entry_mode": m} for m in modes}
    if kind == "partners":
        if not scenario.partners:
            raise InputError("compare", "partners", "a scenario with at least one local partner")
        if len(scenario.partners) == 1:
            raise InputError(
                "candidate partners",
                f"only {scenario.partners[0].name}",
                "two or more partners to compare (this scenario has one: add one in the scenario, "
                "or compare entry modes)",
            )
        return {p.name: {"entrants[0].preferred_partner": p.name} for p in scenario.partners}
    raise InputError("compare", kind, "'modes' or 'partners'")


def probabilities(summary: pd.DataFrame, variants: list[str]) -> pd.DataFrame:
    """P(target met), P(loss) and P(partnership survives | one formed) per variant, each
    with its 95 % Wilson interval; NaN where a measure does not apply."""
    rows = []
    for v in variants:
        g = summary[summary.variant == v]
        formed = g[g.partnership_formed.astype(bool)]
        for measure, flags in (
            (MEASURES[0], g.objective_met),
            (MEASURES[1], g.npv < 0),
            (MEASURES[2], ~formed.partnership_failed.astype(bool) if len(formed) else None),
        ):
            if flags is None or len(flags) == 0:
                rows.append(
                    {
                        "variant": v,
                        "measure": measure,
                        "p": float("nan"),
                        "lo": float("nan"),
                        "hi": float("nan"),
                        "n": 0,
                    }
                )
                continue
            flags = flags.astype(bool)
            lo, hi = report.wilson(int(flags.sum()), len(flags))
            rows.append(
                {"variant": v, "measure": measure, "p": float(flags.mean()), "lo": lo, "hi": hi, "n": len(flags)}
            )
    return pd.DataFrame(rows, columns=["variant", "measure", "p", "lo", "hi", "n"])


def run_comparison(
    scenario: Scenario,
    variants: dict,
    *,
    replications: int,
    master_seed: int,
    workers: int,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> CompareOutcome:
    """Run the comparison and build the page's tables.

    Args:
        progress: called as ``progress(done, total)`` after each run.
        cancelled: polled after each run; True stops the comparison (raises Cancelled).

    Raises:
        InputError: for replications < 1 or a variant that is not allowed.
        Cancelled: when ``cancelled()`` turned True.
    """

    def on_progress(done: int, total: int) -> None:
        if cancelled is not None and cancelled():
            raise Cancelled(f"cancelled after {done} of {total} runs")
        if progress is not None:
            progress(done, total)

    started = time.perf_counter()
    cmp = compare_mod.compare(
        scenario,
        variants,
        replications=replications,
        master_seed=master_seed,
        workers=workers,
        keep_steps=True,
        progress=on_progress,
    )
    elapsed = time.perf_counter() - started
    if cmp.summary.empty:
        first = cmp.failures.error.iloc[0] if len(cmp.failures) else "no run finished"
        raise RuntimeError(f"every run failed; the first error: {first}")
    focal = scenario.entrants[0].name
    quantiles = report.share_quantiles(cmp.steps, focal)
    return CompareOutcome(
        cmp, report.kpi_table(cmp), quantiles, probabilities(cmp.summary, list(variants)), elapsed, workers
    )
