"""Fitting the model to data: calibration with uncertainty, and forecasting a case.

    import abm
    cal = abm.calibrate("experiments/inference/spec-small.toml", out="results/cal")
    cal.posterior, cal.identifiability, cal.defaults      # plain pandas frames
    fc = abm.forecast("alpha-beta", "experiments/inference/example.csv", out="results/fc")
    fc.table, fc.bands                                    # plain pandas frames

docs/INFERENCE.md explains both; docs/ODD.md §10 gives the method and its sources.
"""

from __future__ import annotations

from typing import Any


def calibrate(spec: Any, **kwargs: Any):
    """See :func:`abm.inference.calibrate.calibrate`."""
    from abm.inference.calibrate import calibrate as run

    return run(spec, **kwargs)


def forecast(scenario: Any, data: Any, **kwargs: Any):
    """See :func:`abm.inference.forecast.forecast`."""
    from abm.inference.forecast import forecast as run

    return run(scenario, data, **kwargs)
