"""The Simulate view: one run of the chosen case, month by month.

Sidebar: the scenario (a preset or a file) and the key parameters. Main area: Play,
Pause, Step, Reset and speed; KPI cards; market-share paths; the market map; trust and
commitment of each partnership; cash and NPV; the event log. Any change of a control
restarts the run at month 0 (they are the case's starting conditions).
"""

from __future__ import annotations

import threading
import time
from functools import partial

import solara

from abm import presets
from abm.app import access, charts, debrief, state
from abm.app.live import events_csv, kpi_csv
from abm.app.play_panel import PlayPanel
from abm.app.settings import ANY_PARTNER, MODE_LABELS, commitment_partner, settings_from
from abm.app.widgets import Chart, Message, ScenarioFile, event_log_html, kpi_html
from abm.culture import countries
from abm.errors import InputError
from abm.simulation import collect

_LABEL_TO_MODE = {v: k for k, v in MODE_LABELS.items()}

LIVE_CHARTS = ("share", "map", "trust", "money")
"""The charts a playing run waits for before the next month."""
DRAW_TIMEOUT_S = 1.0
"""Longest wait for the browser to draw a month (a hidden tab draws nothing)."""
RUN_TO_REDRAW_S = 0.4
PRESENT_CHART_HEIGHT = 330
"""Chart height in presentation mode: the key charts end above 800 px."""
"""How often "run to month" shows the month it has reached."""


def country_labels() -> dict[str, str]:
    """'MAL - Malaysia' -> 'MAL', for the country selects."""
    return {f"{c.code} - {c.name}": c.code for c in countries().values()}


@solara.component
def ScenarioControls():
    """Scenario choice and the key parameters (in the sidebar)."""
    s = state.current_settings()
    base = state.base_scenario()
    choices = presets.names()
    if state.file_scenario.value is not None and state.base_choice.value.startswith(state.FILE_PREFIX):
        choices = [state.base_choice.value, *choices]
    with solara.Column(gap="6px", classes=["abm-controls"]):
        solara.Select(
            "Scenario",
            values=choices,
            value=state.base_choice.value,
            on_value=state.choose_base,
            classes=["abm-preset"],
        )
        # a button or a drop; the size is checked before the file is transferred (abm/app/access.py)
        ScenarioFile(on_file=access.load_upload, label="or drop a scenario file (.toml) here")
        if access.typed_paths_allowed():  # only on 127.0.0.1 with --allow-paths (abm/app/access.py)
            solara.InputText(
                "...or the path of a scenario file",
                value="",
                on_value=access.load_typed_path,  # type: ignore[arg-type]  # solara ignores what it returns
                classes=["abm-scenario-path"],
            )
        modes = list(MODE_LABELS.values())
        solara.Select(
            "Entry mode",
            values=modes,
            value=MODE_LABELS.get(s.entry_mode, s.entry_mode),
            on_value=lambda label: state.change(entry_mode=_LABEL_TO_MODE.get(label, label)),
            classes=["abm-entry-mode"],
        )
        partners = [ANY_PARTNER, *(p.name for p in base.partners)]
        solara.Select(
            "Partner",
            values=partners,
            value=s.partner if s.partner in partners else ANY_PARTNER,
            on_value=lambda v: state.change(partner=v),
            disabled=not base.partners,
            classes=["abm-partner"],
        )
        labels = country_labels()
        by_code = {v: k for k, v in labels.items()}
        solara.Checkbox(
            label="Cultural distance from the two countries",
            value=s.use_countries,
            on_value=lambda v: state.change(use_countries=v),
        )
        if s.use_countries:
            solara.Select(
                "Home country (entrant)",
                values=list(labels),
                value=by_code.get(s.home_country, s.home_country),
                on_value=lambda v: state.change(home_country=labels.get(v, v)),
                classes=["abm-home"],
            )
        else:
            solara.SliderFloat(
                f"Cultural distance (Kogut-Singh): {s.cultural_distance:.1f}",
                value=s.cultural_distance,
                min=0.0,
                max=8.0,
                step=0.1,
                on_value=lambda v: state.change(cultural_distance=round(v, 2)),
            )
        solara.Select(
            "Host country (market)",
            values=list(labels),
            value=by_code.get(s.host_country, s.host_country),
            on_value=lambda v: state.change(host_country=labels.get(v, v)),
            classes=["abm-host"],
        )
        solara.SliderFloat(
            f"Regulatory stringency: {s.regulatory_stringency:.2f}",
            value=s.regulatory_stringency,
            min=0.0,
            max=1.0,
            step=0.05,
            on_value=lambda v: state.change(regulatory_stringency=round(v, 2)),
            disabled=not base.regulators,
        )
        solara.SliderFloat(
            f"Incumbent strength: loyalty x{s.incumbent_strength:.1f}",
            value=s.incumbent_strength,
            min=0.0,
            max=3.0,
            step=0.1,
            on_value=lambda v: state.change(incumbent_strength=round(v, 2)),
            disabled=not base.incumbents,
        )
        named = commitment_partner(base, s.partner)
        with solara.Div(classes=["abm-commitment"]):
            solara.SliderFloat(
                f"Commitment of {base.partners[named].name}: {s.partner_commitment:.2f}"
                if named is not None
                else "Partner commitment (no partner)",
                value=s.partner_commitment,
                min=0.0,
                max=1.0,
                step=0.05,
                on_value=lambda v: state.change(partner_commitment=round(v, 2)),
                disabled=not base.partners,
            )
        solara.InputInt("Seed", value=s.seed, on_value=lambda v: state.change(seed=int(v or 0)), classes=["abm-seed"])
        solara.Button(
            "Back to the scenario's own values",
            on_click=lambda: state.choose_base(state.base_choice.value),
            text=True,
            classes=["abm-defaults"],
        )


@solara.component
def PlayBar():
    """Month label, Play/Pause, Step, Reset and speed."""
    f = state.frame.value
    run = state.live.value
    can_step = run is not None and f is not None and f.running
    month = f"Month {f.month} of {f.horizon}" if f is not None else "No run"

    def toggle():
        if state.playing.value:
            state.run_to.value = None
        state.playing.value = not state.playing.value

    target = solara.use_reactive(min(f.horizon, 60) if f is not None else 60)

    def play_loop(cancel: threading.Event):
        """Step at the chosen speed until paused, at the horizon, or on an error.

        Each month waits until the browser has drawn the last one (the charts say so), so
        no months queue up on the way and Pause stops at the next month. "Run to month"
        steps without drawing each month and shows the way a few times a second."""
        if not state.playing.value:
            return  # nothing to do (and nothing to reset: another thread may be starting)
        target = state.run_to.value
        last_drawn = time.perf_counter()
        while not cancel.is_set() and state.playing.value:
            started = time.perf_counter()
            if target is not None:
                if run is None or run.month >= target or not state.step_once(draw=False):
                    break
                if time.perf_counter() - last_drawn > RUN_TO_REDRAW_S:
                    state.publish()
                    last_drawn = time.perf_counter()
                continue
            if not state.step_once():
                break
            shown = state.frame.value
            if run is not None and shown is not None:
                run.wait_drawn(shown.serial, LIVE_CHARTS, timeout=DRAW_TIMEOUT_S)
            delay = 1.0 / max(state.speed.value, 0.5) - (time.perf_counter() - started)
            if delay > 0:
                cancel.wait(delay)
        if target is not None:
            state.publish()
        if not cancel.is_set():
            state.playing.value = False
            state.run_to.value = None

    solara.use_thread(play_loop, dependencies=[state.playing.value, run, state.run_to.value], intrusive_cancel=False)

    with solara.Row(gap="10px", style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.Text(month, classes=["abm-month"])
        solara.Button(
            "Pause" if state.playing.value else "Play",
            icon_name="mdi-pause" if state.playing.value else "mdi-play",
            on_click=toggle,
            disabled=not can_step and not state.playing.value,
            color="primary",
            classes=["abm-play"],
        )
        solara.Button(
            "Step",
            icon_name="mdi-step-forward",
            on_click=state.step_once,
            disabled=state.playing.value or not can_step,
            color="primary",
            outlined=True,
            classes=["abm-step"],
        )
        solara.Button("Reset", icon_name="mdi-restart", on_click=state.restart, outlined=True, classes=["abm-reset"])
        with solara.Div(style={"min-width": "300px"}, classes=["abm-speed"]):
            solara.SliderFloat(f"Speed: {state.speed.value:.0f} months/s", value=state.speed, min=1, max=20, step=1)
        with solara.Row(gap="4px", style={"align-items": "center"}):
            with solara.Div(style={"max-width": "120px"}):
                solara.InputInt("To month", value=target, classes=["abm-run-to-month"])
            solara.Button(
                "Run to month",
                icon_name="mdi-fast-forward",
                on_click=lambda: state.start_run_to(target.value),
                disabled=state.playing.value or not can_step,
                outlined=True,
                classes=["abm-run-to"],
            )


@solara.component
def LiveView():
    """KPI cards, the four charts and the event log of the latest month."""
    f = state.frame.value
    run = state.live.value

    def drawn(name: str):
        return partial(run.acknowledge, name) if run is not None else None

    if f is None:
        solara.Info("Fix the message above (or choose another scenario) to start a run.")
        return
    solara.HTML(tag="div", unsafe_innerHTML=kpi_html(f), classes=["abm-kpi-block"])
    present = state.present.value
    height = PRESENT_CHART_HEIGHT if present else 380
    latest = ", ".join(f"{name} {path[-1]:.1%}" for name, path in f.shares.items())
    specs = {  # name: (title, caption, option builder)
        "share": ("Market share of every firm", f"Month {f.month}: {latest}", charts.share_option),
        "trust": (
            "Partnership: trust, commitment, know-how",
            "Trust builds slowly and erodes fast; below the floor the partnership ends.",
            charts.partnership_option,
        ),
        "map": (
            "Market map: who buys which brand",
            "Each dot is a consumer (sample), coloured by the brand bought this month; "
            "shaded regions: the partner's distribution reach.",
            charts.map_option,
        ),
        "money": (
            f"Cash, NPV to date and NPV incl. business held ({f.currency} million)",
            None,
            charts.money_option,
        ),
    }

    def chart(name: str):
        title, caption, option = specs[name]
        return Chart(
            name,
            title,
            caption=caption,
            height=height,
            build=partial(option, f),
            version=f.serial,
            serial=f.serial,
            on_drawn=drawn(name),
        ).key(name)

    # presentation mode puts the two key charts (share, partnership) side by side above the fold
    rows = (("share", "trust"), ("map", "money")) if present else (("share", "map"), ("trust", "money"))
    for row in rows:
        solara.Columns([1, 1], children=[chart(name) for name in row])
    Debrief(f.month, f.running)
    RunDownloads()
    solara.HTML(tag="div", unsafe_innerHTML=event_log_html(f.events), classes=["abm-events"])


explained: solara.Reactive[tuple[int, int, list[str]] | None] = solara.reactive(None)
"""(run id, month, sentences) of the last debrief asked for in this session."""


def explain() -> None:
    """The debrief of the live run as it stands (frames built under the run's lock)."""
    run = state.live.value
    if run is None:
        return
    with run.lock:
        result = collect(run.model)
        month = run.model.month
    explained.value = (id(run), month, debrief.debrief(result.events, result.steps, result.summary, run.scenario))


@solara.component
def Debrief(month: int, running: bool):
    """What happened and why: on a click while the run goes on, by itself at its end."""
    run = state.live.value
    shown = explained.value
    current = shown is not None and run is not None and shown[0] == id(run)

    def at_the_end():
        if not running and run is not None and not (current and shown is not None and shown[1] == month):
            explain()  # the run is over: its debrief comes without asking

    solara.use_effect(at_the_end, [month, running, id(run)])
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.Text("What happened and why", classes=["abm-chart-title"])
        if running:
            solara.Button(
                "Explain the run so far",
                icon_name="mdi-text-box-search-outline",
                on_click=explain,
                outlined=True,
                classes=["abm-explain"],
            )
    if not current:
        return
    assert shown is not None  # current
    _, at, sentences = shown
    note = "" if at == month else f"<p class='abm-caption'>As of month {at}; the run is now at month {month}.</p>"
    items = "".join(f"<li>{_escape(t)}</li>" for t in sentences)
    solara.HTML(tag="div", unsafe_innerHTML=f"{note}<ul>{items}</ul>", classes=["abm-debrief"])


@solara.component
def RunDownloads():
    """The log's title and the CSV downloads of the month shown. The files are made on a
    click from the latest frame; nothing here reads the frame while rendering, so a new
    month does not redraw these buttons."""

    def latest(make):
        f = state.frame.value
        return make(f) if f is not None else ""

    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.Text("Event log (newest first)", classes=["abm-chart-title"])
        with solara.Div(classes=["abm-kpi-csv"]):
            solara.FileDownload(
                lambda: latest(kpi_csv), filename="abm-run-kpis.csv", label="KPI summary (CSV)", mime_type="text/csv"
            )
        with solara.Div(classes=["abm-events-csv"]):
            solara.FileDownload(
                lambda: latest(events_csv),
                filename="abm-run-events.csv",
                label="Event log (CSV)",
                mime_type="text/csv",
            )


@solara.component
def SimulatePage():
    solara.use_effect(state.ensure_run, [])
    base = state.base_scenario()
    with solara.Sidebar():
        ScenarioControls()
    try:
        title, lead = headline(base, state.current_settings())
    except InputError:  # settings that cannot run: the message says why; the scenario's own words
        title, lead = base.title, " ".join((base.description or "").split())
    with solara.Column(gap="8px", classes=["abm-page", "abm-simulate"]):
        solara.HTML(tag="h2", unsafe_innerHTML=_escape(title), classes=["abm-title"])
        if lead:
            solara.Text(lead, classes=["abm-lead"])
        Message(state.message.value)
        Message(state.notice.value, kind="success")
        PlayBar()
        LiveView()
        PlayPanel(state.current_scenario, state.current_settings().seed)  # issue 16: play the firm


def headline(base, s) -> tuple[str, str]:
    """The page's title and lead: the scenario's own, unless the controls moved the case to
    other countries; then the title names the countries chosen and the lead says which
    preset the case starts from (its description is about its own countries)."""
    from abm.culture import resolve_country

    description = " ".join((base.description or "").split())
    start = settings_from(base, s.seed)
    home_changed = s.use_countries and s.home_country != start.home_country
    if not home_changed and s.host_country == start.host_country:
        return base.title, description

    def name(code: str) -> str:
        try:
            return resolve_country(code).name
        except InputError:
            return code

    e = base.entrants[0]
    home = name(s.home_country) if s.use_countries else name(start.home_country)
    title = f"{e.name} from {home} enters {name(s.host_country)}"
    lead = f"Adapted from the case “{base.title}”"
    return title, (f"{lead}, written for other countries: {description}" if description else lead + ".")


def _escape(text: str) -> str:
    import html

    return html.escape(text)
