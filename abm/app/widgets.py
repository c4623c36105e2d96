"""Small pieces the pages share: a chart, KPI cards, the event log, messages, the style.

HTML is built as text here (escaped) because one HTML widget per block renders far faster
than dozens of small widgets, which matters when a month draws several times a second.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable

import ipyvuetify
import numpy as np
import solara
import traitlets
from solara.components.file_drop import FileDropZone

from abm.app.live import EntrantStatus, Frame
from abm.app.settings import MODE_LABELS

CSS = """
.v-application { font-size: 17px; }
.abm-page { max-width: 1800px; }
.abm-page h2 { font-size: 1.6rem; margin: 4px 0 2px 0; }
.abm-page h3 { font-size: 1.25rem; margin: 10px 0 4px 0; }
.abm-lead { font-size: 1.05rem; color: #222; }
.abm-verdict { font-size: 1.05rem; background: #F3F7FB; border-left: 4px solid #0072B2; padding: 8px 14px; }
.abm-verdict ul { margin: 4px 0 0 0; }
.abm-debrief { font-size: 1.02rem; background: #F7F7F2; border-left: 4px solid #009E73; padding: 6px 14px; }
.abm-debrief ul { margin: 0; }
.abm-month { font-size: 1.5rem; font-weight: 700; color: #000; min-width: 11em; display: inline-block; }
.abm-kpis { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 10px; margin: 6px 0; }
.abm-kpi { border: 2px solid #0072B2; border-radius: 8px; padding: 8px 12px; background: #fff; }
.abm-kpi .label { font-size: 0.95rem; color: #333; text-transform: uppercase; letter-spacing: 0.03em; }
.abm-kpi .value { font-size: 1.55rem; font-weight: 700; color: #000; line-height: 1.25; }
.abm-kpi .sub { font-size: 0.95rem; color: #333; }
.abm-kpi.good { border-color: #009E73; background: #EEF8F4; }
.abm-kpi.bad { border-color: #D55E00; background: #FCF0E8; }
.abm-kpi-entrant { font-weight: 700; font-size: 1.1rem; margin-top: 6px; }
.abm-log { max-height: 340px; overflow-y: auto; border: 1px solid #bbb; border-radius: 6px; padding: 6px 10px;
           font-size: 1.05rem; background: #fff; }
.abm-log div { padding: 2px 0; border-bottom: 1px solid #eee; }
.abm-log .m { display: inline-block; min-width: 6.2em; font-weight: 700; }
.abm-log .a { color: #0b3c6b; font-weight: 600; }
.abm-chart-box { border: 1px solid #ddd; border-radius: 6px; padding: 6px; background: #fff; }
.abm-chart-title { font-size: 1.15rem; font-weight: 700; margin: 0 0 2px 4px; }
.abm-caption { font-size: 0.98rem; color: #222; margin: 2px 4px; }
.abm-table { border-collapse: collapse; font-size: 1.02rem; }
.abm-table th, .abm-table td { border: 1px solid #bbb; padding: 4px 8px; text-align: left; vertical-align: top; }
.abm-table th { background: #EAF2F8; }
.abm-lesson { border-left: 6px solid #0072B2; padding: 6px 12px; background: #F4F8FB; font-size: 1.08rem; }
.abm-verdict-right { color: #006b4f; font-weight: 700; }
.abm-verdict-wrong { color: #a33f00; font-weight: 700; }
.v-btn { font-size: 1rem !important; }
.abm-editor-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(290px, 1fr)); gap: 4px 18px; }
.abm-field-wide { grid-column: 1 / -1; }
.abm-field-hint { font-size: 0.82rem; color: #444; }
.abm-field .v-messages__message { font-size: 0.82rem; line-height: 1.2; color: #444; }
.abm-field-error { color: #B00020; font-weight: 600; font-size: 0.95rem; }
.abm-editor-sections .v-btn, .abm-editor-item .v-btn { text-transform: none; }
.abm-export button { font-size: 0.75rem; padding: 0 5px; border: 1px solid #999; border-radius: 3px;
                     background: rgba(255,255,255,0.9); color: #0b3c6b; }
"""
"""Projector-friendly style: large type, strong contrast."""

PRESENT_CSS = """
.abm-page h2 { font-size: 1.3rem; margin: 0; }
.abm-simulate .abm-lead, .abm-simulate .abm-notice { display: none; }
.abm-kpi-entrant { font-size: 1rem; margin-top: 0; }
.abm-kpis { grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 6px; margin: 2px 0; }
.abm-kpi { padding: 3px 8px; }
.abm-kpi .label { font-size: 0.78rem; }
.abm-kpi .value { font-size: 1.2rem; }
.abm-kpi .sub { font-size: 0.78rem; line-height: 1.15; }
.abm-simulate .abm-caption:not(.abm-caption-share) { display: none; }
.abm-chart-title { font-size: 1.05rem; }
.abm-month { font-size: 1.35rem; min-width: 9.5em; }
"""
"""Presentation mode: the month, the buttons, the cards and the two key charts fit 1280x800."""


def page_css(present: bool, font_scale: float) -> str:
    """The page's style: the base, presentation mode's changes, the chosen text size."""
    size = f"html {{ font-size: {16 * font_scale:.1f}px !important; }} .v-application {{ font-size: {17 * font_scale:.1f}px; }}"
    return CSS + (PRESENT_CSS if present else "") + size


def scale_fonts(option: dict, factor: float) -> dict:
    """The chart option with every ``fontSize`` (and the legend's item size) times ``factor``."""
    if factor == 1.0:
        return option

    def walk(node):
        if isinstance(node, dict):
            return {
                k: (round(v * factor, 1) if k == "fontSize" and isinstance(v, (int, float)) else walk(v))
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    out = walk(option)
    if isinstance(out.get("grid"), dict) and isinstance(out["grid"].get("top"), (int, float)):
        out["grid"]["top"] = round(out["grid"]["top"] * factor)
    return out


class OptionSource:
    """A chart option in a box that Reacton does not look into (it walks lists and dicts)."""

    __slots__ = ("option", "serial")

    def __init__(self, option: dict, serial: int = 0):
        self.option = option
        self.serial = serial


class LiveEcharts(ipyvuetify.VuetifyTemplate):
    """An ECharts chart fed through ``source`` (an :class:`OptionSource`), which tells the
    server when the browser has drawn each option (``on_drawn(serial)``, see
    ``live_echarts.vue``): a playing run waits for that instead of queueing months."""

    template_file = (__file__, "live_echarts.vue")
    attributes = traitlets.Dict(default_value=None, allow_none=True).tag(sync=True)
    option = traitlets.Any({}).tag(sync=True)
    serial = traitlets.Int(0).tag(sync=True)
    ack = traitlets.Bool(False).tag(sync=True)
    cdn = traitlets.Unicode(None, allow_none=True).tag(sync=True)
    filename = traitlets.Unicode("chart").tag(sync=True)
    """Name of the PNG / SVG download, without extension."""
    source = traitlets.Any(None, allow_none=True)
    on_drawn = traitlets.Callable(None, allow_none=True)

    @traitlets.default("cdn")
    def _cdn(self):
        import solara.settings

        if not solara.settings.assets.proxy:
            return solara.settings.assets.cdn

    buffers: traitlets.List = traitlets.List([]).tag(sync=True)
    """The points of the option's ``large`` series, as float32 bytes (see :func:`pack_large_series`)."""

    @traitlets.observe("source")
    def _push(self, change) -> None:
        if change.new is not None:
            option, buffers = pack_large_series(change.new.option)
            with self.hold_sync():
                self.serial = change.new.serial
                self.buffers = buffers
                self.option = option

    def vue_drawn(self, serial) -> None:
        if self.on_drawn is not None:
            self.on_drawn(int(serial))


def pack_large_series(option: dict) -> tuple[dict, list[bytes]]:
    """The option with each ``large`` series' points moved into a binary buffer.

    A market map's thousands of [x, y] points, sent as JSON, cost the server a walk over every
    number (ipywidgets' serialisation) each month: the slowest part of a Step. As float32
    bytes they travel as one binary WebSocket frame; ``live_echarts.vue`` puts them back
    (``{"buffer": k, "columns": c}`` marks where)."""
    series = option.get("series")
    if not isinstance(series, list) or not any(isinstance(s, dict) and s.get("large") for s in series):
        return option, []
    buffers: list[bytes] = []
    packed = []
    for s in series:
        data = s.get("data") if isinstance(s, dict) and s.get("large") else None
        if data is not None and len(data) > 0:
            points = np.asarray(data, dtype=np.float32)
            if points.ndim == 2:
                s = {**s, "data": {"buffer": len(buffers), "columns": int(points.shape[1])}}
                buffers.append(points.tobytes())
        packed.append(s)
    return {**option, "series": packed}, buffers


@solara.component
def Chart(
    name: str,
    title: str | None = None,
    caption: str | None = None,
    height: int = 380,
    option: dict | None = None,
    build: Callable[[], dict] | None = None,
    version: object = None,
    serial: int = 0,
    on_drawn: Callable[[int], None] | None = None,
):
    """An ECharts chart in a box; ``name`` becomes the CSS class ``abm-chart-<name>``.

    Give either ``option`` (a chart that changes rarely), or ``build`` and ``version`` for
    a live chart: ``build()`` makes the option once per ``version``. Reacton walks every
    list and dict among an element's arguments on each render, which for a map of
    thousands of points costs more than drawing it; a live chart's data reaches the
    widget inside an :class:`OptionSource` instead. ``on_drawn(serial)`` is called once
    the browser has drawn the option built for ``serial``.
    """
    from abm.app import state

    factor = state.font_scale.value
    attributes = {"style": f"height: {height}px; width: 100%;", "class": f"abm-chart abm-chart-{name}"}
    if build is None:  # a fixed option: the same widget (and its PNG / SVG buttons)
        fixed = option or {}
        build, version = (lambda: fixed), (version, id(fixed))
    source = solara.use_memo(lambda: OptionSource(scale_fonts(build(), factor), serial), [version, factor])
    with solara.Column(gap="0px", classes=["abm-chart-box", f"abm-box-{name}"]):
        if title:
            solara.Text(title, classes=["abm-chart-title"])
        LiveEcharts.element(
            source=source,
            attributes=attributes,
            on_drawn=on_drawn,
            ack=on_drawn is not None,
            filename=f"abm-{name}",
        )
        if caption:
            solara.Text(caption, classes=["abm-caption", f"abm-caption-{name}"])


class ScrollHere(ipyvuetify.VuetifyTemplate):
    """An invisible mark that scrolls itself to the top of the view each time ``nonce``
    grows (0: never), e.g. to bring an exercise opened far down the page into view."""

    template = traitlets.Unicode(
        """<template><div class="abm-scroll-here" style="height: 0"></div></template>
<script>
module.exports = {
  mounted() { if (this.nonce > 0) this.go(); },
  watch: { nonce() { if (this.nonce > 0) this.go(); } },
  methods: { go() { this.$nextTick(() => this.$el.scrollIntoView({block: "start"})); } },
};
</script>"""
    ).tag(sync=True)
    nonce = traitlets.Int(0).tag(sync=True)


class CopyLink(ipyvuetify.VuetifyTemplate):
    """ "Copy link": asks the server for this session's state (``make_query()``, only on a
    click, so a playing run pays nothing for it), then puts the page's address with that
    query on the clipboard where the browser allows it and shows it in a box to copy by hand."""

    template = traitlets.Unicode(
        """<template>
  <span class="abm-share" style="display: inline-flex; align-items: center; gap: 6px">
    <v-btn text style="color: white" class="abm-copy-link" @click="ask">
      <v-icon left>mdi-link-variant</v-icon>{{ copied ? "Link copied" : "Copy link" }}
    </v-btn>
    <input v-if="shown" ref="box" class="abm-share-link" readonly :value="link"
      style="background: white; color: black; width: 22em; padding: 2px 6px; border-radius: 4px"
      @focus="$event.target.select()" />
  </span>
</template>
<script>
module.exports = {
  data() { return { shown: false, copied: false, link: "" }; },
  watch: { nonce() { this.show(); } },
  methods: {
    ask() { this.copied = false; this.request_link(); },
    show() {
      this.link = window.location.origin + window.location.pathname + (this.query ? "?" + this.query : "");
      this.shown = true;
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(this.link).then(() => { this.copied = true; }, () => {});
      }
      this.$nextTick(() => { if (this.$refs.box) this.$refs.box.select(); });
    },
  },
};
</script>"""
    ).tag(sync=True)
    query = traitlets.Unicode("").tag(sync=True)
    nonce = traitlets.Int(0).tag(sync=True)
    make_query = traitlets.Callable(None, allow_none=True)

    def vue_request_link(self, _data=None) -> None:
        query = self.make_query() if self.make_query is not None else ""
        with self.hold_sync():
            self.query = query
            self.nonce += 1


@solara.component
def Message(text: str | None, kind: str = "error"):
    """A readable message; errors carry the class ``abm-error`` (tests look for it)."""
    if not text:
        return
    if kind == "error":
        solara.Error(text, classes=["abm-error"])
    elif kind == "success":
        solara.Success(text, classes=["abm-notice"])
    else:
        solara.Info(text, classes=["abm-notice"])


def _money(value: float, currency: str) -> str:
    return f"{value:,.1f} m {currency}"


def _card(label: str, value: str, sub: str = "", tone: str = "", name: str = "") -> str:
    return (
        f'<div class="abm-kpi {tone} {name}"><div class="label">{html.escape(label)}</div>'
        f'<div class="value">{html.escape(value)}</div><div class="sub">{html.escape(sub)}</div></div>'
    )


def kpi_html(frame: Frame) -> str:
    """KPI cards per entrant: share, months to target, NPV and cash, partnership, licence."""
    blocks = []
    for e in frame.entrants:
        blocks.append(
            f'<div class="abm-kpi-entrant">{html.escape(e.name)} '
            f"({html.escape(MODE_LABELS.get(e.mode, e.mode).lower())})</div>"
        )
        blocks.append('<div class="abm-kpis">' + "".join(_entrant_cards(e, frame)) + "</div>")
    return "".join(blocks)


def _entrant_cards(e: EntrantStatus, frame: Frame) -> list[str]:
    met = e.target_month_reached is not None
    on_time = e.target_month_reached is not None and e.target_month_reached <= e.target_month
    share_tone = "good" if e.share >= e.target_share else ""
    if met:
        target = (
            f"month {e.target_month_reached}",
            "on time" if on_time else f"late: deadline was month {e.target_month}",
            "good" if on_time else "bad",
        )
    elif frame.month > e.target_month:
        target = ("missed", f"deadline month {e.target_month} has passed", "bad")
    else:
        target = ("not yet", f"deadline month {e.target_month}", "")
    npv_tone = "good" if e.npv_to_date > 0 else ("bad" if frame.month > 0 and e.npv_to_date < 0 else "")
    held = e.npv_with_value_held
    held_tone = "good" if held > 0 else ("bad" if frame.month > 0 and held < 0 else "")
    ended = e.partnership.startswith("ended")
    if e.exit_kind:
        when = f" in month {e.exit_month}" if e.exit_month is not None else ""
        owner = f"; the brand now belongs to {e.brand_owner}" if e.brand_owner not in ("", e.name) else ""
        share_card = _card(
            "Market share",
            f"{e.exit_kind}{when}",
            f"left with {e.last_share:.1%}{owner}; counted as 0 % from then on (as in Compare)",
            "",
            "abm-kpi-share",
        )
        held_sub = "nothing left to value after the exit: the same as NPV to date"
    else:
        share_card = _card(
            "Market share",
            f"{e.share:.1%}",
            f"target {e.target_share:.0%} by month {e.target_month}",
            share_tone,
            "abm-kpi-share",
        )
        held_sub = "+ value of the business still held (as Compare counts it)"
    licence_value, licence_tone = _LICENCE_CARD.get(e.licence_state, (e.licence_state or "not licensed", ""))
    return [
        share_card,
        _card("Months to target", target[0], target[1], target[2]),
        _card(
            "NPV to date",
            _money(e.npv_to_date, frame.currency),
            "discounted net cash flow so far",
            npv_tone,
            "abm-kpi-npv",
        ),
        _card("NPV incl. business held", _money(held, frame.currency), held_sub, held_tone, "abm-kpi-npv-held"),
        _card(
            "Cash",
            _money(e.cash, frame.currency),
            "in the market" if e.in_market else "left the market",
            "bad" if e.cash < 0 else "",
        ),
        _card(
            "Partnership",
            e.partnership.split(",")[0] if not ended else "ended",
            e.partnership if ended else (", ".join(e.partnership.split(",")[1:]).strip()),
            "bad" if ended else "",
        ),
        _card("Licence", licence_value, e.licence, licence_tone, "abm-kpi-licence"),
    ]


_LICENCE_CARD = {
    "licensed": ("licensed", "good"),
    "not needed": ("not needed", ""),
    "pending": ("pending", ""),
    "rejected": ("rejected", "bad"),
    "refused": ("refused", "bad"),
    "suspended": ("suspended", "bad"),
    "lapsed": ("lapsed (left the market)", ""),
}
"""Licence state -> (card value, tone)."""


def event_log_html(events: list[tuple[int, str, str, str]], newest_first: bool = True) -> str:
    """The run's events as a readable list, newest on top."""
    rows = reversed(events) if newest_first else events
    items = [
        f'<div><span class="m">month {m}</span> <span class="a">{html.escape(actor)}</span>: {html.escape(text)}</div>'
        for m, actor, _kind, text in rows
    ]
    if not items:
        items = ["<div>No events yet: press Step or Play.</div>"]
    return '<div class="abm-log">' + "".join(items) + "</div>"


def table_html(rows: list[list[str]], header: list[str], classes: str = "abm-table") -> str:
    """A plain HTML table with escaped cells."""
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_cell(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="{classes}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _cell(value) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.4g}"
    return str(value)


class ScenarioFileZone(FileDropZone):
    """Solara's drop zone with a "Browse..." button that opens the system's file dialog (same
    lazy, chunked transfer: nothing is read until the server asks for it)."""

    template_file = (__file__, "scenario_file.vue")


@solara.component
def ScenarioFile(on_file: Callable[[dict], object], label: str = "or drop a scenario file (.toml) here"):
    """Choose a scenario file with a button or by dropping it; ``on_file`` gets Solara's file
    dict (name, declared size, a lazy ``file_obj``), e.g. :func:`abm.app.access.load_upload`,
    which refuses a file over the upload limit from its declared size before reading it."""
    picked, set_picked = solara.use_state(None)
    files, set_files = solara.use_state(None)
    zone = ScenarioFileZone.element(label=label, on_file_info=set_picked, multiple=False)

    def wire():
        if not picked:
            return
        real = solara.get_widget(zone)
        real.version += 1  # as Solara's FileDrop: a new file invalidates the last one's reader
        real.reset_stats()
        set_files(real.get_files())

    solara.use_effect(wire, [picked])

    def deliver(cancel):
        if files:
            info = dict(files[0])
            info["data"] = None
            on_file(info)

    solara.use_thread(deliver, [files])
    return zone
