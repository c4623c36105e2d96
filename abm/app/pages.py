"""The app's routes and layout: the module ``abm app`` serves.

Run it with ``abm app`` (or ``solara run abm.app.pages``). One tab per view; the
Simulate, Compare and Classroom views share the chosen scenario and its settings.
"""

from __future__ import annotations

import logging
import traceback

import solara

from abm.app import state
from abm.app.classroom_page import ClassroomPage
from abm.app.compare_page import ComparePage
from abm.app.editor_page import EditorPage
from abm.app.mesa_page import MesaPage
from abm.app.results_page import ResultsPage
from abm.app.simulate_page import SimulatePage
from abm.app.widgets import CopyLink, Message, page_css

log = logging.getLogger("abm.app")

TITLE = "abm: entering a foreign market"

VIEWS = [
    ("/", SimulatePage, "Simulate"),
    ("editor", EditorPage, "Editor"),
    ("compare", ComparePage, "Compare"),
    ("classroom", ClassroomPage, "Classroom"),
    ("results", ResultsPage, "Results"),
    ("mesa", MesaPage, "Mesa"),
]
"""(path, page, tab label) of each view."""


def _query() -> str:
    try:
        return state.share_query()
    except Exception:  # a state that cannot be written as a link (should not happen): no link
        log.error("making the link failed:\n%s", traceback.format_exc())
        return ""


@solara.component
def ViewControls():
    """Copy link, the text size and presentation mode, in the app bar (every view)."""
    present = state.present.value
    white = {"color": "white"}
    with solara.Row(gap="2px", style={"align-items": "center", "background": "transparent"}):
        CopyLink.element(make_query=_query)
        solara.Button("A-", on_click=lambda: state.bigger_text(-1), text=True, style=white, classes=["abm-font-down"])
        solara.Button("A+", on_click=lambda: state.bigger_text(1), text=True, style=white, classes=["abm-font-up"])
        solara.Button(
            "Presentation" if not present else "Leave presentation",
            icon_name="mdi-projector-screen",
            on_click=lambda: state.present.set(not present),
            text=True,
            style=white,
            classes=["abm-present-toggle"],
        )


@solara.component
def LinkMessage():
    """Why the link the page was opened with could not be used (nothing when it could)."""
    Message(state.link_problem.value)


@solara.component
def Layout(children=[]):  # noqa: B006 - Solara's layout signature
    router = solara.use_router()
    solara.use_effect(lambda: state.apply_link(router.search), [])
    solara.Style(page_css(state.present.value, state.font_scale.value))
    with (
        solara.AppLayout(
            children=[solara.Column(children=[LinkMessage(), *children], gap="0px")],
            title=None if state.present.value else TITLE,
            navigation=True,
            color="#0b3c6b",
            sidebar_open=not state.present.value,
        ),
        solara.AppBar(),
    ):
        ViewControls()
        with solara.lab.Tabs(align="center"):
            for path, _, label in VIEWS:
                solara.lab.Tab(label, path_or_route="/" + path.lstrip("/"), classes=[f"abm-tab-{label.lower()}"])


routes = [
    solara.Route(path=path, component=page, label=label, layout=Layout if path == "/" else None)
    for path, page, label in VIEWS
]
