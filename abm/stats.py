"""Intervals and tests that every report uses (comparisons, sweeps, validation, the app): one
definition each, computed by the libraries made for them.

- :func:`mean_interval`: Student's t interval of a mean (scipy), right at any sample size
  (at 2 runs the 95 % critical value is 12.7, not 1.96).
- :func:`wilson`: Wilson's score interval of a proportion (Wilson 1927), inside [0, 1].
- :func:`share_interval`: the mean of values in [0, 1] (market shares): the Wilson interval
  at the effective sample size ``p (1 - p) / se**2`` with a t critical value (Korn & Graubard
  1998, for proportions estimated with a variance other than binomial). Inside [0, 1], and
  as wide as the t interval where that one is.
- :func:`survival`: Kaplan-Meier curve (statsmodels ``SurvfuncRight``) with a pointwise
  95 % band on the log(-log) scale from its Greenwood standard error (Kalbfleisch &
  Prentice 2002, as R's ``survfit(conf.type = "log-log")``): inside [0, 1], and narrow
  where many partnerships are at risk. (Hall-Wellner bands, which hold the whole curve at
  once, span almost 0 to 1 at a first failure among 40.)
- :func:`logrank`: log-rank test that groups share one survival curve (statsmodels
  ``survdiff``).

statsmodels rather than lifelines for survival: lifelines 0.30 requires pandas < 3, which
this project has moved past; statsmodels gives the same Kaplan-Meier estimate, bands and
log-rank test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

LEVEL = 0.95
"""Confidence level of every interval reported."""


def _critical(level: float, df: float | None = None) -> float:
    from scipy import stats

    q = 0.5 + level / 2
    return float(stats.norm.ppf(q) if df is None else stats.t.ppf(q, df))


def _wilson_bounds(p: float, n: float, crit: float) -> tuple[float, float]:
    denom = 1 + crit * crit / n
    centre = (p + crit * crit / (2 * n)) / denom
    half = crit * math.sqrt(max(p * (1 - p), 0.0) / n + crit * crit / (4 * n * n)) / denom
    # the interval always holds p; min/max only keep rounding (1e-17 at p = 0) from saying otherwise
    return max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))


def wilson(successes: float, n: int, level: float = LEVEL) -> tuple[float, float]:
    """Wilson score interval of a proportion ``successes / n``; (nan, nan) when n is 0."""
    if n <= 0:
        return math.nan, math.nan
    return _wilson_bounds(successes / n, n, _critical(level))


def mean_interval(values: Any, level: float = LEVEL) -> tuple[float, float]:
    """Student's t interval of the mean of ``values`` (NaN dropped); (nan, nan) below 2 values."""
    v = _finite(values)
    n = len(v)
    if n < 2:
        return math.nan, math.nan
    mean, se = float(v.mean()), float(v.std(ddof=1)) / math.sqrt(n)
    half = _critical(level, n - 1) * se
    return mean - half, mean + half


def share_interval(values: Any, level: float = LEVEL) -> tuple[float, float]:
    """Interval of the mean of values in [0, 1] (shares), never leaving [0, 1]; (nan, nan) below 2 values."""
    v = _finite(values)
    n = len(v)
    if n < 2:
        return math.nan, math.nan
    p = float(np.clip(v.mean(), 0.0, 1.0))
    var_mean = float(v.var(ddof=1)) / n
    n_eff = p * (1 - p) / var_mean if var_mean > 0 and 0 < p < 1 else float(n)
    return _wilson_bounds(p, n_eff, _critical(level, n - 1))


def _finite(values: Any) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    return v[np.isfinite(v)]


@dataclass
class Survival:
    """A Kaplan-Meier curve as steps: at ``month[i]`` survival drops to ``probability[i]``."""

    month: np.ndarray
    probability: np.ndarray
    low: np.ndarray
    high: np.ndarray
    at_risk: int
    events: int


def survival(months: Any, failed: Any, level: float = LEVEL) -> Survival:
    """Kaplan-Meier survival with a pointwise log(-log) band; failures are events, the rest censored.

    The curve starts at month 0 with probability 1; with no event it stays at 1 (band 1 to 1).
    """
    from statsmodels.duration.survfunc import SurvfuncRight

    t = np.asarray(months, dtype=float)
    e = np.asarray(failed, dtype=bool)
    start = np.array([0.0]), np.array([1.0])
    if len(t) == 0 or not e.any():
        return Survival(start[0], start[1], start[1], start[1], len(t), 0)
    sf = SurvfuncRight(t, e.astype(float))
    low, high = _loglog_band(sf.surv_prob, sf.surv_prob_se, _critical(level))
    return Survival(
        np.concatenate([start[0], sf.surv_times]),
        np.concatenate([start[1], sf.surv_prob]),
        np.concatenate([start[1], np.clip(low, 0, 1)]),
        np.concatenate([start[1], np.clip(high, 0, 1)]),
        len(t),
        int(e.sum()),
    )


def _loglog_band(s: np.ndarray, se: np.ndarray, crit: float) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise band of a survival curve: ``S ** exp(+-crit * se / (S |log S|))``."""
    low, high = s.copy(), s.copy()  # S = 1 (no failure yet) and S = 0 keep a zero-width band
    inside = (s > 0) & (s < 1)
    spread = np.exp(crit * se[inside] / (s[inside] * np.abs(np.log(s[inside]))))
    low[inside] = s[inside] ** spread
    high[inside] = s[inside] ** (1 / spread)
    return low, high


def logrank(months: Any, failed: Any, groups: Any) -> tuple[float, float]:
    """Log-rank test that every group has the same survival: ``(chi-square, p-value)``;
    (nan, nan) with fewer than two groups or no event."""
    from statsmodels.duration.survfunc import survdiff

    t = np.asarray(months, dtype=float)
    e = np.asarray(failed, dtype=bool)
    g = np.asarray(groups)
    if len(set(g.tolist())) < 2 or not e.any():
        return math.nan, math.nan
    chi2, p = survdiff(t, e.astype(float), g)
    return float(chi2), float(p)


__all__ = ["LEVEL", "Survival", "logrank", "mean_interval", "share_interval", "survival", "wilson"]
