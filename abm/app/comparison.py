"""The Compare view's computation: replications of each entry mode or candidate partner.

A thin layer over :func:`abm.compare.compare` (same seeds, same definitions as
``abm run``) that adds what the page needs: cancelling, the probabilities with their
Wilson intervals as a tidy table, and the CSV downloads. No Solara here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

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

    @cached_property
    def paired(self) -> pd.DataFrame:
        """Each variant minus the baseline, run by run (:func:`paired_table`)."""
        return paired_table(self.comparison.summary, self.variants)

    def verdicts(self, labels: dict[str, str] | None = None) -> list[str]:
        """One sentence per row of ``paired`` (:func:`verdict`)."""
        cur = self.comparison.scenario.currency
        return [verdict(row, labels, cur) for _, row in self.paired.iterrows()]

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
        keep_steps="focal",  # the fan chart and the debriefs read the focal entrant's rows only
        warm=True,  # the server's pool, kept between clicks (abm/app/jobs.py)
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


PAIRED_MEASURES = (("npv", "NPV"), ("share_y3", "year-3 share"))
"""The outcomes compared run by run (column, words); higher is better for each."""

PAIRED_COLUMNS = ["a", "b", "measure", "n", "mean", "lo", "hi", "a_wins", "b_wins", "ties"]


def paired_differences(
    summary: pd.DataFrame, a: str, b: str, measure: str, *, level: float = 0.95
) -> dict[str, float | int | str]:
    """Variant ``a`` minus variant ``b`` on ``measure``, run by run.

    Replication r of every variant uses the same seed, so the runs pair by ``replication``;
    a pair counts only when both runs finished with the measure known. The interval is the
    t interval of the mean paired difference (``level``, n - 1 degrees of freedom; NaN for
    fewer than two pairs or when every difference is equal).

    Returns:
        a, b, measure, n (pairs), mean, lo, hi, and the shares of pairs in which a is
        higher (a_wins), b is higher (b_wins) or both are equal (ties).
    """
    from scipy import stats

    left = summary.loc[summary.variant == a, ["replication", measure]]
    right = summary.loc[summary.variant == b, ["replication", measure]]
    pairs = left.merge(right, on="replication", suffixes=("_a", "_b")).dropna()
    d = (pairs[f"{measure}_a"] - pairs[f"{measure}_b"]).astype(float).to_numpy()
    n = len(d)
    row: dict[str, float | int | str] = {"a": a, "b": b, "measure": measure, "n": n}
    if n == 0:
        return {**row, **dict.fromkeys(("mean", "lo", "hi", "a_wins", "b_wins", "ties"), float("nan"))}
    mean = float(d.mean())
    lo = hi = float("nan")
    if n >= 2:
        sd = float(d.std(ddof=1))
        if sd > 0:
            half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / n**0.5
            lo, hi = mean - half, mean + half
        else:
            lo = hi = mean
    return {
        **row,
        "mean": mean,
        "lo": lo,
        "hi": hi,
        "a_wins": float((d > 0).mean()),
        "b_wins": float((d < 0).mean()),
        "ties": float((d == 0).mean()),
    }


def baseline(variants: list[str]) -> str:
    """The variant the others are measured against: going alone when compared, else the first."""
    return "alone" if "alone" in variants else variants[0]


def paired_table(summary: pd.DataFrame, variants: list[str]) -> pd.DataFrame:
    """Every other variant minus the baseline on each of ``PAIRED_MEASURES`` that the runs
    measured (a run shorter than three years has no year-3 share)."""
    base = baseline(variants)
    rows = [
        paired_differences(summary, v, base, measure)
        for v in variants
        if v != base
        for measure, _ in PAIRED_MEASURES
        if measure in summary.columns and summary[measure].notna().any()  # no year-3 share in a shorter run
    ]
    return pd.DataFrame(rows, columns=PAIRED_COLUMNS)


def _amount(measure: str, value: float, currency: str) -> str:
    if measure == "npv":
        return f"{value:+.1f} m {currency}".replace("-", "−")
    return f"{100 * value:+.1f} points".replace("-", "−")


def verdict(row: pd.Series | dict, labels: dict[str, str] | None = None, currency: str = "") -> str:
    """One plain sentence for a row of :func:`paired_table`.

    "Strategic alliance beats Alone (greenfield) on NPV in 71 % of paired runs; mean
    difference +12.3 m [8.1, 16.5]" when the interval excludes 0; "No clear difference ..."
    when it spans 0 (or cannot be computed).
    """
    labels = labels or {}
    a, b, measure = row["a"], row["b"], row["measure"]
    name_a, name_b = labels.get(a, a), labels.get(b, b)
    words = dict(PAIRED_MEASURES).get(measure, measure)
    n = int(row["n"])
    if n == 0:
        return f"{name_a} and {name_b} cannot be compared on {words}: no pair of runs finished."
    mean, lo, hi = float(row["mean"]), float(row["lo"]), float(row["hi"])

    def amount(x: float) -> str:
        return _amount(measure, x, currency)

    def bare(x: float) -> str:
        return f"{(1 if measure == 'npv' else 100) * x:+.1f}".replace("-", "−")

    interval = f"[{bare(lo)}, {bare(hi)}]" if not pd.isna(lo) else "(too few runs for an interval)"
    if pd.isna(lo) or lo <= 0 <= hi:
        return (
            f"No clear difference between {name_a} and {name_b} on {words}: mean difference {amount(mean)} "
            f"{interval}; {name_a} ahead in {row['a_wins']:.0%} of {n} paired runs, {name_b} in {row['b_wins']:.0%}."
        )
    winner, loser, share = (name_a, name_b, row["a_wins"]) if mean > 0 else (name_b, name_a, row["b_wins"])
    return (
        f"{winner} beats {loser} on {words} in {share:.0%} of {n} paired runs; "
        f"mean difference {amount(mean)} {interval}."
    )
