"""Trust as a belief about the other side's reliability, updated each quarter.

Each side holds a belief ``T`` in [0, 1]: the share of its promises it expects the other
side to keep. Every quarter it reads what the other side delivered (a noisy reading, the
noisier the more the two firms differ: Parkhe 1991, *interfirm diversity*), weighs the
venture's results against plan, and moves its belief towards that observation, faster on
bad news than on good (Das & Teng 1998; DOMAIN 3: ``lambda- ~ 3 lambda+``). While the
partners are still learning each other (the first year) their readings are marred by
start-up friction (Doz 1996: early misunderstandings before routines form). The form of the
observation is an assumption of this model; docs/ODD.md §7.4 gives it.
"""

from __future__ import annotations

from typing import overload

import numpy as np


def reading_noise(base: float, cultural_distance: float, fit: float) -> np.ndarray | float:
    """Spread of one side's reading of the other's delivered commitment:
    ``sigma = base (1 + CD) (1.5 - fit)``: culturally distant firms with a poor fit read
    each other badly (Parkhe 1991; Barkema & Vermeulen 1997). Numbers in, a float out (the
    same bits as the array form)."""
    if isinstance(cultural_distance, (int, float)) and isinstance(fit, (int, float)):
        return base * (1.0 + cultural_distance) * (1.5 - fit)
    return base * (1.0 + np.asarray(cultural_distance)) * (1.5 - np.asarray(fit))


def friction(months_together: np.ndarray | float, startup_friction: float) -> np.ndarray | float:
    """Start-up friction subtracted from readings: ``f max(0, 1 - t / 12)``, gone after a year.
    A number in, a float out (the same bits as the array form)."""
    if isinstance(months_together, (int, float)):
        return startup_friction * max(0.0, 1.0 - months_together / 12.0)
    return startup_friction * np.maximum(0.0, 1.0 - np.asarray(months_together, dtype=float) / 12.0)


def observation(
    delivered_other: np.ndarray | float,
    delivered_own: np.ndarray | float,
    results: np.ndarray | float,
    noise_draw: np.ndarray | float,
    noise: np.ndarray | float,
    friction_now: np.ndarray | float,
) -> np.ndarray | float:
    """What one side concludes about the other's reliability this quarter, in [0, 1].

    ``o = clip(d_other + sigma z - max(0, d_own - d_other) + 0.2 results - friction, 0, 1)``:
    the delivered share it reads, a penalty for giving more than it got (unequal commitment),
    results against plan (in [-1, 1]) and start-up friction.
    """
    o = np.asarray(delivered_other) + np.asarray(noise) * np.asarray(noise_draw)
    o = o - np.maximum(0.0, np.asarray(delivered_own) - np.asarray(delivered_other))
    o = o + 0.2 * np.asarray(results) - np.asarray(friction_now)
    return np.clip(o, 0.0, 1.0)


@overload
def update(trust: np.ndarray, obs: np.ndarray | float, gain: float, loss: float) -> np.ndarray: ...
@overload
def update(trust: float, obs: float, gain: float, loss: float) -> float: ...
def update(trust: np.ndarray | float, obs: np.ndarray | float, gain: float, loss: float) -> np.ndarray | float:
    """Move the belief towards the observation: by ``gain`` of the gap on good news,
    by ``loss`` of it on bad news (slow to build, fast to erode). Stays in [0, 1]."""
    t, o = np.asarray(trust, dtype=float), np.asarray(obs, dtype=float)
    rate = np.where(o >= t, gain, loss)
    return np.clip(t + rate * (o - t), 0.0, 1.0)


def repaired(trust: np.ndarray | float, towards: float, repair: float) -> np.ndarray | float:
    """Trust after a successful renegotiation: a share ``repair`` of the gap to ``towards``
    is closed (partial repair; Ariño & de la Torre 1998)."""
    t = np.asarray(trust, dtype=float)
    return np.clip(t + repair * np.maximum(0.0, towards - t), 0.0, 1.0)


def quarter_update(
    trust: tuple[float, float],
    delivered: tuple[float, float],
    results: float,
    noise_draws: list[float],
    noise: float,
    friction_now: float,
    gain: float,
    loss: float,
) -> tuple[float, float]:
    """Both sides' new trust after a quarter: side ``k`` (0 the entrant, 1 the partner)
    reads what the other delivered (``delivered[1 - k]``) against its own (:func:`observation`)
    and moves its belief ``trust[k]`` towards it (:func:`update`). On Python floats, the same
    operations in the same order as the array forms, so the same bits (``np.clip`` and
    ``np.maximum`` pick as the comparisons below do for numbers)."""
    out = []
    for k in (0, 1):
        other, own = delivered[1 - k], delivered[k]
        gap = own - other
        o = other + noise * noise_draws[k]
        o = o - (0.0 if gap <= 0.0 else gap)
        o = o + 0.2 * results - friction_now
        o = o if o > 0.0 else 0.0
        o = o if o < 1.0 else 1.0
        t = trust[k]
        t = t + (gain if o >= t else loss) * (o - t)
        t = t if t > 0.0 else 0.0
        out.append(t if t < 1.0 else 1.0)
    return out[0], out[1]
