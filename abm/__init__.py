"""abm: agent-based simulation of international market entry.

A firm enters a foreign market alone, through a strategic alliance, through a joint
venture or by acquisition, against incumbents and regulators; the model shows what happens
to its market share, money and partnership month by month.

    import abm
    result = abm.simulate("alpha-beta", seed=1, entry_mode="joint_venture")
    result.steps, result.summary, result.events

Names load on first use, so the command line starts fast and Mesa, pandas, Dask and SALib
are imported only by the parts that need them.
"""

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "InputError": "abm.errors",
    "MarketEntryModel": "abm.model",
    "Scenario": "abm.scenario",
    "ScenarioError": "abm.scenario",
    "ENTRY_MODES": "abm.scenario",
    "OVERRIDES": "abm.scenario",
    "RunResult": "abm.simulation",
    "simulate": "abm.simulation",
    "preset_names": ("abm.presets", "names"),
    "load_scenario": ("abm.presets", "resolve_scenario"),
    "sweep": "abm.sweeps",
    "analyze": "abm.sweeps",
    "load_results": "abm.sweeps",
}


def __getattr__(name: str):
    target = _EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module 'abm' has no attribute {name!r}")
    module, attr = target if isinstance(target, tuple) else (target, name)
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__():
    return sorted([*globals(), *_EXPORTS])


__all__ = sorted(_EXPORTS)
