"""Fitting Bass's diffusion curve to simulated awareness paths.

Bass (1969): the share ``F(t)`` of a population that has adopted (here: is aware of a
brand) follows ``dF/dt = (p + q F)(1 - F)``, whose solution from ``F(0) = 0`` is

    F(t) = (1 - exp(-(p + q) t)) / (1 + (q / p) exp(-(p + q) t)),

with ``p`` the innovation (external influence) and ``q`` the imitation (word of mouth)
coefficient, both per year when t is in years. Sultan, Farley & Lehmann (1990) report
mean p = 0.03 and q = 0.38 over 213 applications.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import curve_fit


def bass_cdf(t: np.ndarray, p: float, q: float) -> np.ndarray:
    """Bass cumulative adoption share at times ``t`` (years) for p, q per year."""
    t = np.asarray(t, dtype=float)
    e = np.exp(-(p + q) * t)
    return (1.0 - e) / (1.0 + (q / p) * e)


def fit_bass(t_years: np.ndarray, share: np.ndarray) -> tuple[float, float]:
    """Least-squares (p, q) of the Bass curve through a mean adoption path."""
    (p, q), _ = curve_fit(
        bass_cdf,
        np.asarray(t_years, float),
        np.asarray(share, float),
        p0=(0.03, 0.4),
        bounds=([1e-6, 0.0], [5.0, 20.0]),
        maxfev=20000,
    )
    return float(p), float(q)


def fit_with_ci(paths: np.ndarray, *, resamples: int = 200, seed: int = 0) -> dict[str, tuple[float, float, float]]:
    """(estimate, low, high) of p and q: fit to the mean path, 95 % percentile interval
    from refitting to the mean of runs resampled with replacement.

    Args:
        paths: runs x months array of awareness shares, month 0 first.
    """
    paths = np.asarray(paths, dtype=float)
    t = np.arange(paths.shape[1]) / 12.0
    p, q = fit_bass(t, paths.mean(axis=0))
    rng = np.random.default_rng(seed)
    fits = []
    for _ in range(resamples):
        pick = rng.integers(0, len(paths), len(paths))
        fits.append(fit_bass(t, paths[pick].mean(axis=0)))
    lo, hi = np.percentile(np.array(fits), [2.5, 97.5], axis=0)
    return {"p": (p, float(lo[0]), float(hi[0])), "q": (q, float(lo[1]), float(hi[1]))}
