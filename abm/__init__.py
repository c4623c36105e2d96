"""abm: agent-based simulation of international market entry.

A firm enters a foreign market alone, through a strategic alliance, through a joint
venture or by acquisition, against incumbents and regulators; the model shows what happens
to its market share, money and partnership month by month.
"""

from abm.model import MarketEntryModel
from abm.presets import names as preset_names
from abm.presets import resolve_scenario as load_scenario
from abm.scenario import ENTRY_MODES, OVERRIDES, Scenario, ScenarioError
from abm.simulation import RunResult, simulate

__version__ = "0.1.0"

__all__ = ["ENTRY_MODES", "OVERRIDES", "MarketEntryModel", "RunResult", "Scenario", "ScenarioError",
           "load_scenario", "preset_names", "simulate"]
