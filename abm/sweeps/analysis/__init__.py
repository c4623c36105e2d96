"""What a sweep shows: tables by parameter, sensitivity indices, plots and a report.

    abm.analyze("results/smoke")   # -> results/smoke/analysis/ (report.md, tables/, *.png)

- **Tables by parameter**: for every parameter level (or, for sampled designs, every
  eighth of its range by quantile), each outcome's mean, sd and 10/50/90 % quantiles, or
  its rate with a 95 % Wilson interval.
- **Where each group wins**: with ``[analysis] group`` (e.g. the entry mode), the group
  value with the best mean outcome in every cell of the other parameters.
- **Sobol' indices** (S1, ST with 95 % bootstrap intervals; SALib ``sobol.analyze``) for
  Sobol designs, **Morris** (mu*, sigma; SALib ``morris.analyze``) for Morris designs. With
  replications, each design point's outcome is the mean over its replications first, so
  the indices apportion the variance of the *expected* outcome; the share of run-to-run
  noise is reported beside them.
- **Plots** (PNG): outcome against each parameter with bands, index bar charts, fan
  charts of the kept paths by group, partnership survival curves by group.

Modules: ``context`` (what is analysed), ``stats`` (numbers), ``plots`` (PNG charts),
``report`` (the markdown report and :func:`analyze`).
"""

from abm.sweeps.analysis.context import (
    BLUE,
    DARK,
    FAN_RUNS,
    LABELS,
    LOWER_IS_BETTER,
    MARKER,
    MAX_BINS,
    MAX_GROUPS,
    MAX_LEVELS,
    PALETTE,
    PARTNERSHIP_OUTCOMES,
    PATH_LABELS,
    SHARES,
    TIE,
    Context,
    Outcome,
    Param,
)
from abm.sweeps.analysis.plots import (
    plot_effects,
    plot_fans,
    plot_indices,
    plot_surface,
    plot_survival,
    plot_winners,
    surface_params,
)
from abm.sweeps.analysis.report import analyze
from abm.sweeps.analysis.stats import (
    by_parameter,
    centre,
    describe,
    morris_indices,
    noise_share,
    partnership_survival,
    point_means,
    sobol_indices,
    winners,
)

__all__ = [
    "BLUE",
    "DARK",
    "FAN_RUNS",
    "LABELS",
    "LOWER_IS_BETTER",
    "MARKER",
    "MAX_BINS",
    "MAX_GROUPS",
    "MAX_LEVELS",
    "PALETTE",
    "PARTNERSHIP_OUTCOMES",
    "PATH_LABELS",
    "SHARES",
    "TIE",
    "Context",
    "Outcome",
    "Param",
    "analyze",
    "by_parameter",
    "centre",
    "describe",
    "morris_indices",
    "noise_share",
    "partnership_survival",
    "plot_effects",
    "plot_fans",
    "plot_indices",
    "plot_surface",
    "plot_survival",
    "plot_winners",
    "point_means",
    "sobol_indices",
    "surface_params",
    "winners",
]
