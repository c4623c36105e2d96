"""Gaussian-process emulators of the targets, implausibility and the band likelihood.

For each target ``t`` a Gaussian process ``f_t(x)`` (scikit-learn) is fitted to the values
measured at the design points, with ``x`` the parameters scaled to [0, 1] on their prior
box. Kernel: a constant times an anisotropic Matérn 5/2 (one length scale per parameter,
Rasmussen & Williams 2006, ch. 4) plus white noise, which absorbs the run-to-run noise of
an estimate made from a finite number of entries. The emulator gives a mean ``m_t(x)`` and
a standard deviation ``s_t(x)`` of the model's population value.

A target says the value lies in a band ``[a, b]`` (a direction: ``(0, inf)`` or
``(-inf, 0)``). Then

    implausibility   I_t(x) = max(0, a - m_t(x), m_t(x) - b) / s_t(x)
    with             s_t(x)^2 = sd_emulator_t(x)^2 + sd_sampling_t^2 + discrepancy_t^2
    likelihood       L_t(x) = Phi((b - m_t(x)) / s_t(x)) - Phi((a - m_t(x)) / s_t(x))

``I_t`` is the number of emulator standard deviations the value lies outside its band
(history matching: Craig et al. 1997; Vernon, Goldstein & Bower 2010); a point is ruled
out when ``max_t I_t >= 3`` (Pukelsheim's three-sigma rule). ``L_t`` is the probability,
under the emulator, that the model's value lies in the band: an ABC uniform kernel on the
band, integrated over the emulator's uncertainty.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy.stats import norm

MIN_SD = 1e-9


class Emulator:
    """One GP per target, on parameters scaled to the unit box of the prior."""

    def __init__(
        self,
        bounds: np.ndarray,
        bands: dict[str, tuple[float, float]],
        seed: int = 0,
        discrepancy: dict[str, float] | None = None,
    ):
        self.bounds = np.asarray(bounds, dtype=float)
        self.bands = bands
        self.discrepancy = discrepancy or {}
        self.seed = seed
        self.models: dict[str, Any] = {}
        self.scale: dict[str, float] = {}

    def unit(self, x: np.ndarray) -> np.ndarray:
        lo, hi = self.bounds[:, 0], self.bounds[:, 1]
        return (np.asarray(x, dtype=float) - lo) / (hi - lo)

    def fit(self, x: np.ndarray, values: dict[str, np.ndarray]) -> Emulator:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

        u = self.unit(x)
        d = u.shape[1]
        for key, y in values.items():
            y = np.asarray(y, dtype=float)
            ok = np.isfinite(y)
            kernel = ConstantKernel(1.0, (1e-3, 1e3)) * Matern(
                length_scale=np.full(d, 0.5), length_scale_bounds=(0.03, 30.0), nu=2.5
            ) + WhiteKernel(0.1, (1e-6, 1.0))
            gp = GaussianProcessRegressor(kernel, normalize_y=True, n_restarts_optimizer=2, random_state=self.seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                gp.fit(u[ok], y[ok])
            self.models[key] = gp
        return self

    def predict(self, x: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """``{target: (mean, sd)}`` of the population value: the emulator's uncertainty (without
        the white-noise term) and the target's model discrepancy, in quadrature."""
        u = self.unit(x)
        out = {}
        for key, gp in self.models.items():
            mean, sd = gp.predict(u, return_std=True)
            noise = _white_level(gp) * (gp._y_train_std**2 if getattr(gp, "normalize_y", False) else 1.0)
            sd = np.sqrt(np.maximum(sd**2 - noise, MIN_SD**2) + self.discrepancy.get(key, 0.0) ** 2)
            out[key] = (mean, sd)
        return out

    def implausibility(self, x: np.ndarray) -> dict[str, np.ndarray]:
        out = {}
        for key, (m, s) in self.predict(x).items():
            lo, hi = self.bands[key]
            out[key] = np.maximum(0.0, np.maximum(lo - m, m - hi)) / s
        return out

    def log_likelihood(self, x: np.ndarray) -> np.ndarray:
        total = np.zeros(len(np.atleast_2d(x)))
        for key, (m, s) in self.predict(x).items():
            lo, hi = self.bands[key]
            p = norm.cdf((hi - m) / s) - norm.cdf((lo - m) / s)
            total += np.log(np.maximum(p, 1e-300))
        return total


def _white_level(gp) -> float:
    """The fitted white-noise variance of a GP (in the normalised units of its targets)."""
    from sklearn.gaussian_process.kernels import WhiteKernel

    kernel = gp.kernel_
    for part in (getattr(kernel, "k2", None), getattr(kernel, "k1", None)):
        if isinstance(part, WhiteKernel):
            return float(part.noise_level)
    return 0.0
