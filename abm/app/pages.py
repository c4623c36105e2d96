"""The app's routes and layout: the module ``abm app`` serves.

Run it with ``abm app`` (or ``solara run abm.app.pages``). One tab per view; the
Simulate, Compare and Classroom views share the chosen scenario and its settings.
"""

from __future__ import annotations

import solara

from abm.app.classroom_page import ClassroomPage
from abm.app.compare_page import ComparePage
from abm.app.mesa_page import MesaPage
from abm.app.results_page import ResultsPage
from abm.app.simulate_page import SimulatePage
from abm.app.widgets import CSS

TITLE = "abm: entering a foreign market"

VIEWS = [
    ("/", SimulatePage, "Simulate"),
    ("compare", ComparePage, "Compare"),
    ("classroom", ClassroomPage, "Classroom"),
    ("results", ResultsPage, "Results"),
    ("mesa", MesaPage, "Mesa"),
]
"""(path, page, tab label) of each view."""


@solara.component
def Layout(children=[]):  # noqa: B006 - Solara's layout signature
    solara.Style(CSS)
    with (
        solara.AppLayout(children=children, title=TITLE, navigation=True, color="#0b3c6b"),
        solara.AppBar(),
        solara.lab.Tabs(align="center"),
    ):
        for path, _, label in VIEWS:
            solara.lab.Tab(label, path_or_route="/" + path.lstrip("/"), classes=[f"abm-tab-{label.lower()}"])


routes = [
    solara.Route(path=path, component=page, label=label, layout=Layout if path == "/" else None)
    for path, page, label in VIEWS
]
