"""Mesa's own ``SolaraViz`` on the model: the page Mesa users know.

It is the "Mesa" tab of ``abm app``, and a page of its own with
``solara run abm.app.mesa_page``. The plots read the model's DataCollector (model
reporters ``Share: <firm>``, ``No purchase``, ``Trust``, ``Cash``), drawn by Mesa's
matplotlib components.
"""

from __future__ import annotations

import warnings
from typing import Any

import solara

with warnings.catch_warnings():  # Solara's hook checker flags a pattern inside Mesa's own SolaraViz
    warnings.filterwarnings("ignore", message=".*use_state.*found despite early return", category=UserWarning)
    from mesa.visualization import SolaraViz, make_plot_component
    from mesa.visualization.components.matplotlib_components import PlotMatplotlib

from abm import presets
from abm.model import MarketEntryModel
from abm.scenario import ENTRY_MODES

MODEL_PARAMS: dict[str, dict[str, Any]] = {
    "scenario": {"type": "Select", "value": presets.DEFAULT, "values": presets.names(), "label": "Scenario"},
    "entry_mode": {"type": "Select", "value": "alliance", "values": [*ENTRY_MODES, "auto"], "label": "Entry mode"},
    "partner_commitment": {
        "type": "SliderFloat",
        "value": 0.85,
        "min": 0.0,
        "max": 1.0,
        "step": 0.05,
        "label": "Partner commitment",
    },
    "seed": {"type": "SliderInt", "value": 1, "min": 0, "max": 999, "step": 1, "label": "Seed"},
}
"""SolaraViz's model parameters: each becomes a keyword of ``MarketEntryModel``."""


def share_plot(model: MarketEntryModel):
    """Every firm's share from the DataCollector (the firms depend on the scenario)."""
    measures = [k for k in model.datacollector.model_reporters if k.startswith("Share: ")]
    return PlotMatplotlib(model, measures)


class MesaMarketEntryModel(MarketEntryModel):
    """MarketEntryModel with its SolaraViz parameters spelled out.

    SolaraViz checks the model's ``__init__`` signature and takes a variadic keyword
    argument not named ``kwargs`` for a required parameter; this signature passes.
    """

    def __init__(self, scenario=presets.DEFAULT, entry_mode="alliance", partner_commitment=0.85, seed=1, **kwargs):
        super().__init__(scenario, seed=seed, entry_mode=entry_mode, partner_commitment=partner_commitment, **kwargs)


def make_model(**params) -> MesaMarketEntryModel:
    """A model from SolaraViz-style parameters (the defaults of ``MODEL_PARAMS``)."""
    defaults = {k: v["value"] for k, v in MODEL_PARAMS.items()}
    return MesaMarketEntryModel(**{**defaults, **params})


def components() -> list:
    """The SolaraViz components: shares, trust, and the focal entrant's cash."""
    return [(share_plot, 0), make_plot_component({"Trust": "#009E73"}), make_plot_component({"Cash": "#0072B2"})]


@solara.component
def MesaPage():
    """SolaraViz on a model built once per browser session."""
    model = solara.use_memo(make_model, [])
    SolaraViz(
        model,
        components=components(),
        model_params=MODEL_PARAMS,
        name="Market entry (Mesa SolaraViz)",
        play_interval=150,
    )


Page = MesaPage
page = MesaPage
