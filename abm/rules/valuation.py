"""How a firm values its options: discounted flows over a horizon, from what it observes.

A firm values an option as the present value, at its own cost of capital, of the monthly
flow it expects from it over its planning horizon, plus any lump sums (costs now, salvage).
Expected flows come from what it has observed (trailing share, coverage, trust), not from
hidden state. Written on numpy arrays so one call values many options or many runs.
"""

from __future__ import annotations

import math

import numpy as np


def annuity_factor(months: np.ndarray | float, annual_rate: np.ndarray | float) -> np.ndarray | float:
    """Present value of 1 a month for ``months`` months, paid at the end of each month."""
    if isinstance(months, (int, float)) and isinstance(annual_rate, (int, float)):  # one value: no arrays
        r = (1.0 + annual_rate) ** (1.0 / 12.0) - 1.0
        return (1.0 - (1.0 + r) ** (-months)) / r if r > 0 else float(months)
    n = np.asarray(months, dtype=float)
    r = (1.0 + np.asarray(annual_rate, dtype=float)) ** (1.0 / 12.0) - 1.0
    safe = np.where(r > 0, r, 1.0)
    return np.where(r > 0, (1.0 - (1.0 + safe) ** (-n)) / safe, n)


def ramp_factor(months: float, ramp: np.ndarray | float, annual_rate: float) -> np.ndarray | float:
    """PV of a flow that grows linearly from 0 to 1 over ``ramp`` months and then stays at 1,
    for ``months`` months (a share that still has to be built):
    ``sum_{t=1..n} min(1, t/R) v^t`` with ``v = (1 + r)^(-1/12)``, in closed form."""
    if not isinstance(ramp, (int, float)) and np.ndim(ramp):  # one value: no numpy call
        return np.array([ramp_factor(months, float(x), annual_rate) for x in np.ravel(ramp)]).reshape(np.shape(ramp))
    n = int(months)
    R = max(float(ramp), 1e-9)
    v = (1.0 + annual_rate) ** (-1.0 / 12.0)
    m = min(n, math.floor(R))
    if v == 1.0:
        rising = m * (m + 1) / 2.0 / R
        flat = float(n - m)
    else:
        rising = v * (1.0 - (m + 1) * v**m + m * v ** (m + 1)) / (1.0 - v) ** 2 / R
        flat = (v ** (m + 1) - v ** (n + 1)) / (1.0 - v)
    return float(rising + flat)


def option_value(
    monthly_flow: np.ndarray | float, months: float, annual_rate: float, lump_now: np.ndarray | float = 0.0
) -> np.ndarray | float:
    """``V = lump + f a(n, r)``: the value of a level monthly flow plus a lump sum now."""
    return np.asarray(lump_now) + np.asarray(monthly_flow) * annuity_factor(months, annual_rate)


def expected_share(share_now: float, share_trend: float, cap: float) -> float:
    """The share a firm expects to settle at: today's share plus a year of its recent monthly
    trend, within [0, cap] (a naive trend forecast; the form is an assumption)."""
    return float(min(max(share_now + 12.0 * share_trend, 0.0), cap))


def settled_share(share: float, awareness: float, reached: float, cap: float) -> float:
    """The share a brand settles at once its channels have made everyone they reach aware of
    it: today's conversion (share among the aware) times the share of consumers reached,
    ``s* = s / a x r``, within [0, cap]. Observable by market research; an assumption."""
    if awareness <= 0:
        return 0.0
    return float(min(max(share / awareness * reached, 0.0), cap))


def spread(value: np.ndarray | float, uncertainty: np.ndarray | float) -> np.ndarray | float:
    """One-sigma spread of a value estimate: ``|V| u`` (u: the firm's doubt, in [0, 1])."""
    if isinstance(value, (int, float)) and isinstance(uncertainty, (int, float)):
        return abs(value) * uncertainty
    return np.abs(np.asarray(value)) * np.asarray(uncertainty)
