"""The app's state for one browser session, and the actions that change it.

Solara keeps a separate value of each ``solara.reactive`` per browser session (per
kernel), so two people on the same server never see each other's runs. The Simulate,
Compare and Classroom views share the chosen scenario and the controls; each action
below catches bad input and shows it as a message (``message``) instead of failing.
"""

from __future__ import annotations

import logging
import traceback

import solara

from abm import presets
from abm.app.live import Frame, LiveRun
from abm.app.settings import Settings, apply_settings, own_commitment, settings_from
from abm.errors import InputError
from abm.scenario import Scenario

log = logging.getLogger("abm.app")

FILE_PREFIX = "file: "
"""Prefix of the scenario choice that stands for a loaded file."""

base_choice = solara.reactive(presets.DEFAULT)
"""Preset name, or ``FILE_PREFIX + file name`` for a loaded scenario file."""
file_scenario: solara.Reactive[Scenario | None] = solara.reactive(None)
settings: solara.Reactive[Settings | None] = solara.reactive(None)
live: solara.Reactive[LiveRun | None] = solara.reactive(None)
frame: solara.Reactive[Frame | None] = solara.reactive(None)
"""The latest :class:`abm.app.live.Frame` of ``live``."""
playing = solara.reactive(False)
speed = solara.reactive(8.0)
"""Months simulated per second while playing (at most: each month waits until drawn)."""
run_to: solara.Reactive[int | None] = solara.reactive(None)
"""Month a "run to month" is heading for (None: plain play)."""
present = solara.reactive(False)
"""Presentation mode (a projector at 1280x800): sidebar folded, compact cards, the key charts above the fold."""
font_scale = solara.reactive(1.0)
"""Text size of the page and the charts, relative to the default (the A- / A+ buttons)."""
FONT_SCALES = (0.85, 1.0, 1.15, 1.3, 1.5)
"""The text sizes the A- / A+ buttons step through."""
link_problem: solara.Reactive[str | None] = solara.reactive(None)
"""Why the link this session was opened with could not be used (every view shows it)."""
link_read = solara.reactive(False)
"""True once the link this session was opened with has been read (it is read once)."""
message: solara.Reactive[str | None] = solara.reactive(None)
"""A readable error for the Simulate view (bad file, impossible settings, a run that raised)."""
notice: solara.Reactive[str | None] = solara.reactive(None)
"""A readable note (e.g. a scenario file loaded)."""
edit_errors: solara.Reactive[dict[str, str]] = solara.reactive({})
"""The editor's refusals: dotted path of a field -> the loader's message for its last value."""
edit_status: solara.Reactive[str | None] = solara.reactive(None)
"""The editor's last change taken, in words."""
edit_generation = solara.reactive(0)
"""Grows when the scenario changes outside the editor (a preset, a file, a link): the editor's
boxes then show the new scenario's values, not text typed for the last one."""
EDITED = "edited in the app"
"""The scenario choice's name (after ``FILE_PREFIX``) for a scenario changed in the editor."""


def bigger_text(step: int) -> None:
    """One text size up (``step`` = 1) or down (-1), within ``FONT_SCALES``."""
    scales = FONT_SCALES
    i = min(range(len(scales)), key=lambda k: abs(scales[k] - font_scale.value))
    font_scale.value = scales[max(0, min(len(scales) - 1, i + step))]


def base_scenario() -> Scenario:
    """The scenario the controls start from: the chosen preset or the loaded file."""
    if base_choice.value.startswith(FILE_PREFIX) and file_scenario.value is not None:
        return file_scenario.value
    return presets.load(base_choice.value)


def current_settings() -> Settings:
    if settings.value is None:
        settings.value = settings_from(base_scenario())
    return settings.value


def current_scenario() -> Scenario:
    """The scenario the controls describe (raises InputError for impossible settings)."""
    return apply_settings(base_scenario(), current_settings())


def restart() -> None:
    """Build a fresh run at month 0 from the scenario and the controls."""
    playing.value = False
    old = live.value
    try:
        scenario = current_scenario()
        run = LiveRun(scenario, current_settings().seed)
    except InputError as exc:
        message.value = f"These settings cannot run: {exc}"
        live.value, frame.value = None, None
    except Exception as exc:  # a model that fails to build: say so, keep serving
        log.error("building the run failed:\n%s", traceback.format_exc())
        message.value = f"The run could not start: {type(exc).__name__}: {exc}"
        live.value, frame.value = None, None
    else:
        message.value = None
        live.value, frame.value = run, run.frame()
    if old is not None and old is not live.value:
        old.close()


def _outside_edit() -> None:
    """The scenario changed outside the editor: its refusals and typed text are void."""
    edit_errors.value = {}
    edit_status.value = None
    edit_generation.value += 1


def editor_scenario() -> Scenario:
    """The scenario the editor shows and saves: the one that runs (the base scenario with the
    controls applied), or the base scenario while the controls cannot run."""
    try:
        return current_scenario()
    except InputError:
        return base_scenario()


def apply_edit(path: str, make, what: str = "") -> bool:
    """The editor's change: ``make(scenario)`` returns the edited scenario (checked by the
    loader's own checks). When it passes and a run builds from it, it becomes the base
    scenario, the controls start at its values and the run restarts at month 0. When not,
    the loader's message goes beside the field (``edit_errors[path]``) and the scenario and
    the run stay in their last good state.

    Returns:
        True when the edit was taken.
    """
    errors = {k: v for k, v in edit_errors.value.items() if k != path}
    try:
        new = make(editor_scenario())
        start = settings_from(new, seed=current_settings().seed)
        run = LiveRun(new, start.seed)
    except InputError as exc:
        edit_errors.value = {**errors, path: str(exc)}
        return False
    except Exception as exc:  # a model that fails to build: say so beside the field, keep the last good run
        log.error("building the edited run failed:\n%s", traceback.format_exc())
        edit_errors.value = {**errors, path: f"The run could not start: {type(exc).__name__}: {exc}"}
        return False
    playing.value = False
    old = live.value
    file_scenario.value = new
    base_choice.value = FILE_PREFIX + EDITED
    settings.value = start
    message.value, notice.value = None, None
    live.value, frame.value = run, run.frame()
    edit_errors.value = errors
    edit_status.value = f"{what or 'Changed ' + path}: the run starts again at month 0."
    if old is not None and old is not run:
        old.close()
    return True


def ensure_run() -> None:
    """Start a run if this session has none yet (first visit)."""
    if live.value is None and message.value is None:
        restart()


def choose_base(choice: str) -> None:
    """Pick a preset (or the loaded file); the controls go back to its own values."""
    base_choice.value = choice
    notice.value = None
    _outside_edit()
    try:
        settings.value = settings_from(base_scenario(), seed=current_settings().seed)
    except InputError as exc:
        message.value = f"This scenario cannot run: {exc}"
        return
    restart()


def change(**changes) -> None:
    """Change some controls and restart the run from month 0.

    Choosing another partner moves the commitment control to that partner's own value
    (the control acts on the partner it names)."""
    if "partner" in changes and "partner_commitment" not in changes:
        changes["partner_commitment"] = own_commitment(base_scenario(), changes["partner"])
    settings.value = current_settings().replace(**changes)
    restart()


def load_scenario_text(text: str | bytes, source: str) -> bool:
    """Load a scenario file's contents; on success it becomes the base scenario.

    Returns:
        True when loaded; False when not (``message`` says why; the current run stays).
    """
    try:
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError:
                raise InputError("scenario file", source, "a UTF-8 text file in TOML") from None
        scenario = Scenario.from_toml(text, source)
    except InputError as exc:
        message.value = f"The scenario file {source} was not loaded: {exc}"
        return False
    try:
        start = settings_from(scenario, seed=current_settings().seed)
    except InputError as exc:  # the current scenario and run stay
        message.value = f"The scenario file {source} was not loaded: {exc}"
        return False
    file_scenario.value = scenario
    base_choice.value = FILE_PREFIX + source
    settings.value = start
    _outside_edit()
    restart()
    if message.value is None:
        notice.value = f"Loaded {source}: {scenario.title}"
    return message.value is None


def load_scenario_path(path: str) -> bool:
    """Load a scenario file from a path on this computer (see load_scenario_text)."""
    from pathlib import Path

    path = (path or "").strip()
    if not path:
        return False
    p = Path(path).expanduser()
    try:
        data = p.read_bytes()
    except OSError as exc:
        message.value = f"The scenario file {path} was not loaded: {exc.strerror or exc}"
        return False
    return load_scenario_text(data, p.name)


def step_once(draw: bool = True) -> bool:
    """Advance the run one month; False (and a message) if the run raised or is over.

    ``draw=False`` records the month without publishing a frame (see :func:`publish`)."""
    run = live.value
    if run is None or run.done:
        return False
    try:
        f = run.step(freeze=draw)
    except Exception as exc:
        log.error("step failed:\n%s", traceback.format_exc())
        message.value = (
            f"The run stopped in month {run.month + 1}: {type(exc).__name__}: {exc}. "
            "Change the settings or press Reset."
        )
        playing.value = False
        live.value = None  # its state is not to be trusted; the last good month stays on screen
        run.close()
        return False
    if draw:
        frame.value = f
    return True


def publish() -> None:
    """Show the run's latest month (after steps with ``draw=False``)."""
    run = live.value
    if run is not None:
        frame.value = run.refresh()


def start_run_to(month: int | None) -> None:
    """Run ahead to ``month`` (drawing a few times a second on the way), then stop."""
    f = frame.value
    if month is None or f is None or live.value is None:
        return
    if month <= f.month:
        message.value = None
        notice.value = f"Already at month {f.month}: Reset to run again from month 0."
        return
    notice.value = None
    run_to.value = min(int(month), f.horizon)
    playing.value = True


def apply_link(query: str | None) -> None:
    """Take the state a link carries (once per session; see :mod:`abm.app.links`).

    A malformed or tampered link changes nothing and says why (``link_problem``)."""
    from abm.app import links

    if link_read.value:
        return
    link_read.value = True
    try:
        asked = links.parse_query(query)
    except InputError as exc:
        link_problem.value = f"This link could not be used: {exc}. Showing the default case instead."
        return
    except Exception as exc:  # never a traceback on the page
        log.error("reading a link failed:\n%s", traceback.format_exc())
        link_problem.value = f"This link could not be used ({type(exc).__name__}). Showing the default case instead."
        return
    if asked is None:
        return
    if asked.scenario is not None:
        file_scenario.value = asked.scenario
        base_choice.value = FILE_PREFIX + "the link"
    else:
        assert asked.preset is not None  # a link names a preset or carries a scenario
        base_choice.value = asked.preset
    settings.value = asked.settings
    _outside_edit()
    present.value = asked.present
    font_scale.value = asked.font
    restart()
    if asked.month and live.value is not None:
        start_run_to(asked.month)


def share_query() -> str:
    """The query string of a link that reproduces this session's state."""
    from abm.app import links

    base = base_scenario()
    preset = None if base_choice.value.startswith(FILE_PREFIX) else base_choice.value
    f = frame.value
    return links.query_for(
        preset,
        base,
        current_settings(),
        month=f.month if f is not None else 0,
        present=present.value,
        font=font_scale.value,
    )
