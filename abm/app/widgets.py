"""Small pieces the pages share: a chart, KPI cards, the event log, messages, the style.

HTML is built as text here (escaped) because one HTML widget per block renders far faster
than dozens of small widgets, which matters when a month draws several times a second.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable

import solara
import traitlets
from solara.components.echarts import EchartsWidget

from abm.app.live import EntrantStatus, Frame
from abm.app.settings import MODE_LABELS

CSS = """
.v-application { font-size: 17px; }
.abm-page { max-width: 1800px; }
.abm-page h2 { font-size: 1.6rem; margin: 4px 0 2px 0; }
.abm-page h3 { font-size: 1.25rem; margin: 10px 0 4px 0; }
.abm-lead { font-size: 1.05rem; color: #222; }
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
"""
"""Projector-friendly style: large type, strong contrast."""


class OptionSource:
    """A chart option in a box that Reacton does not look into (it walks lists and dicts)."""

    __slots__ = ("option",)

    def __init__(self, option: dict):
        self.option = option


class LiveEcharts(EchartsWidget):
    """Solara's ECharts widget, fed through ``source`` (an :class:`OptionSource`)."""

    source = traitlets.Any(None, allow_none=True)

    @traitlets.observe("source")
    def _push(self, change) -> None:
        if change.new is not None:
            self.option = change.new.option


@solara.component
def Chart(
    name: str,
    title: str | None = None,
    caption: str | None = None,
    height: int = 380,
    option: dict | None = None,
    build: Callable[[], dict] | None = None,
    version: object = None,
):
    """An ECharts chart in a box; ``name`` becomes the CSS class ``abm-chart-<name>``.

    Give either ``option`` (a chart that changes rarely), or ``build`` and ``version`` for
    a live chart: ``build()`` makes the option once per ``version``. Reacton walks every
    list and dict among an element's arguments on each render, which for a map of
    thousands of points costs more than drawing it; a live chart's data reaches the
    widget inside an :class:`OptionSource` instead.
    """
    attributes = {"style": f"height: {height}px; width: 100%;", "class": f"abm-chart abm-chart-{name}"}
    source = solara.use_memo(lambda: OptionSource(build()) if build is not None else None, [version])
    with solara.Column(gap="0px", classes=["abm-chart-box", f"abm-box-{name}"]):
        if title:
            solara.Text(title, classes=["abm-chart-title"])
        if source is None:
            solara.FigureEcharts(option=option or {}, attributes=attributes)
        else:
            LiveEcharts.element(source=source, attributes=attributes)
        if caption:
            solara.Text(caption, classes=["abm-caption", f"abm-caption-{name}"])


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


def _card(label: str, value: str, sub: str = "", tone: str = "") -> str:
    return (
        f'<div class="abm-kpi {tone}"><div class="label">{html.escape(label)}</div>'
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
    on_time = met and e.target_month_reached <= e.target_month
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
    ended = e.partnership.startswith("ended")
    return [
        _card("Market share", f"{e.share:.1%}", f"target {e.target_share:.0%} by month {e.target_month}", share_tone),
        _card("Months to target", target[0], target[1], target[2]),
        _card("NPV to date", _money(e.npv_to_date, frame.currency), "discounted net cash flow so far", npv_tone),
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
        _card(
            "Licence",
            "licensed" if e.licensed else ("refused" if "refused" in e.licence else "not licensed"),
            e.licence,
            "good" if e.licensed else ("bad" if "refused" in e.licence or "suspended" in e.licence else ""),
        ),
    ]


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
