"""A run's outcomes as numbers only, for samplers and tools that accept nothing else.

    import abm
    out = abm.evaluate(seed=3, cultural_distance=2.0)   # {"npv": -4.1, "final_mode": 2, ...}
    abm.decode("final_mode", out["final_mode"])          # "alliance"

:func:`evaluate` is ``abm.sweeps.evaluate`` (text outcomes) with every categorical outcome
replaced by its code in :data:`CODES` (the code is the position in the tuple), and the
columns that only name things (``scenario``, ``entrant``, ``partner``) left out. Numbers
stay numbers (a missing month is NaN), yes/no stays bool. A text value the table does not
know gets code -1 (``decode`` says "other"); tests keep the table in step with the model.

| outcome | codes |
|---|---|
| ``entry_mode`` | 0 alone, 1 alliance, 2 joint_venture, 3 acquisition |
| ``final_mode`` | 0 none (never entered), 1 alone, 2 alliance, 3 joint_venture, 4 acquisition |
| ``partnership_status`` | 0 none, 1 alliance, 2 joint_venture, 3 ended |
| ``partnership_end_cause`` | 0 "" (no partnership), 1 active, then the end causes in the order of ``abm.vocabulary.PartnershipEndCause`` (2 trust_floor ... 12 integration_failed, 13 planned_end, 14 ended_by_entrant) |
| ``jv_exit_route`` | 0 "" (none), 1 buyout_by_entrant, 2 buyout_by_partner, 3 ipo, 4 liquidation |
| ``exit_cause`` | 0 "" (stayed), 1 licence refused, 2 ran out of capital, 3 sold its JV stake to the partner, 4 exited through the JV's IPO, 5 the partnership ended and going on alone did not pay (before Model 2), 6 no feasible entry mode, 7 the partnership ended and going on alone was worth less than leaving, 8 stayed out: no mode worth entering |
"""

from __future__ import annotations

from typing import Any

import numpy as np

from abm.vocabulary import ENTRY_MODES, JV_EXIT_ROUTES, PARTNERSHIP_END_CAUSES, PARTNERSHIP_STATUSES

CODES: dict[str, tuple[str, ...]] = {
    "entry_mode": ENTRY_MODES,
    "final_mode": ("none", *ENTRY_MODES),
    "partnership_status": PARTNERSHIP_STATUSES,
    "partnership_end_cause": ("", "active", *PARTNERSHIP_END_CAUSES),
    "jv_exit_route": ("", *JV_EXIT_ROUTES),
    "exit_cause": (
        "",
        "licence refused",
        "ran out of capital",
        "sold its JV stake to the partner",
        "exited through the JV's IPO",
        "the partnership ended and going on alone did not pay",
        "no feasible entry mode",
        "the partnership ended and going on alone was worth less than leaving",
        "stayed out: no mode worth entering",
    ),
}
"""Codes of the categorical outcomes: a value's code is its position in the tuple."""

NAMES_ONLY = ("scenario", "entrant", "partner")
"""Text columns that name things rather than measure them: left out of :func:`evaluate`."""

OTHER = -1
"""Code of a text value the table does not hold."""


def code(column: str, value: str) -> int:
    """The code of one categorical outcome's value (-1 for a value the table does not hold)."""
    values = CODES[column]
    if value in values:
        return values.index(value)
    # exit causes may carry a detail in brackets: "no feasible entry mode (licence capped)"
    return next((i for i, v in enumerate(values) if v and str(value).startswith(v + " (")), OTHER)


def decode(column: str, code: int) -> str:
    """The text of a categorical outcome's code, e.g. ``decode("final_mode", 2) == "alliance"``.

    Raises:
        KeyError: ``column`` is not a coded outcome (see :data:`CODES`).
    """
    values = CODES[column]
    return values[code] if 0 <= code < len(values) else "other"


def encode(row: dict[str, Any]) -> dict[str, float | int | bool]:
    """A summary row with text outcomes as codes and names left out; every value a number or bool."""
    out: dict[str, float | int | bool] = {}
    for key, value in row.items():
        if key in NAMES_ONLY:
            continue
        if key in CODES:
            out[key] = code(key, value)
        elif isinstance(value, (bool, np.bool_)):
            out[key] = bool(value)
        elif isinstance(value, (int, np.integer)):
            out[key] = int(value)
        elif isinstance(value, (float, np.floating)):
            out[key] = float(value)
        else:
            raise TypeError(
                f"outcome {key!r} = {value!r} is neither a number nor a coded category (abm.outcomes.CODES)"
            )
    return out


def evaluate(scenario: Any = None, *, seed: int = 0, **parameters: Any) -> dict[str, float | int | bool]:
    """One run as a plain function of keyword arguments returning numbers only.

    Args:
        scenario: Scenario, preset name or TOML path (default: the default preset).
        seed: the run's seed (the same seed for every call gives common random numbers).
        **parameters: flat or dotted overrides, e.g. ``cultural_distance=2.0`` or
            ``**{"partners[0].commitment": 0.4}``.

    Returns:
        The focal entrant's outcomes: floats, ints, bools; categorical ones as codes
        (:data:`CODES`, :func:`decode`). ``abm.sweeps.evaluate`` returns them as text.
    """
    from abm.sweeps.runner import evaluate as evaluate_text

    return encode(evaluate_text(scenario, seed=seed, **parameters))


__all__ = ["CODES", "NAMES_ONLY", "OTHER", "code", "decode", "encode", "evaluate"]
