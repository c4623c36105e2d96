"""abm: agent-based simulation of international market entry.

A firm enters a foreign market alone, through a strategic alliance, through a joint
venture or by acquisition, against incumbents and regulators; the model shows what happens
to its market share, money and partnership month by month.

    import abm
    result = abm.simulate("alpha-beta", seed=1, entry_mode="joint_venture")
    result.steps, result.summary, result.events
"""

from abm.errors import InputError
from abm.model import MarketEntryModel
from abm.presets import names as preset_names
from abm.presets import resolve_scenario as load_scenario
from abm.scenario import ENTRY_MODES, OVERRIDES, Scenario, ScenarioError
from abm.simulation import RunResult, simulate

__version__ = "0.1.0"

_LAZY = {"sweep": "abm.sweeps", "analyze": "abm.sweeps", "load_results": "abm.sweeps"}


def __getattr__(name: str):
    """Sweep functions load on first use (they pull in Dask and SALib)."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'abm' has no attribute {name!r}")


__all__ = ["ENTRY_MODES", "OVERRIDES", "InputError", "MarketEntryModel", "RunResult", "Scenario",
           "ScenarioError", "analyze", "load_results", "load_scenario", "preset_names", "simulate", "sweep"]
