"""Play the firm: decision rounds for one player, in Simulate and in the Classroom.

The student picks a firm of the case (an entrant or a local partner); the run
(:class:`abm.classroom.game.MarketGame`, same case and seed as the page) pauses at each of
that firm's decisions. The panel shows the situation as the firm sees it (its KPIs, its trust,
what the other side delivered, its recent events) and the options with the firm's own
estimated values and their uncertainty; an optional deadline gives the firm's default
policy's choice when it passes (logged as such). At the end the student's path is drawn
beside the default policy's path on the same seed, with a debrief of the difference.

The pure parts (:func:`svg_lines`, :func:`summary_rows`) import no Solara.
"""

from __future__ import annotations

import html
import math
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, cast

from abm.classroom import game as g

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00")
"""Okabe-Ito colours (colour-blind safe); the default path is also dashed."""


def svg_lines(
    title: str,
    months: Sequence[int],
    series: Sequence[tuple[str, Sequence[float | None], str, bool]],
    *,
    lo: float = 0.0,
    hi: float = 1.0,
    percent: bool = False,
    width: int = 520,
    height: int = 180,
) -> str:
    """An inline SVG line chart: ``series`` of (label, values, colour, dashed). Missing values
    (None or NaN) break the line. Labels are escaped."""
    left, right, top, bottom = 38, 10, 20, 22
    xmax = max(1, max(months) if len(months) else 1)

    def x(m: float) -> float:
        return left + (width - left - right) * m / xmax

    def y(v: float) -> float:
        return top + (height - top - bottom) * (1 - (min(hi, max(lo, v)) - lo) / ((hi - lo) or 1))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{html.escape(title)}" class="abm-play-chart">',
        f'<text x="{left}" y="13" font-size="12">{html.escape(title)}</text>',
    ]
    for v in (lo, (lo + hi) / 2, hi):
        label = f"{100 * v:.0f}%" if percent else f"{v:.1f}"
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#e3e3e3"/>')
        parts.append(f'<text x="2" y="{y(v) + 4:.1f}" font-size="11">{label}</text>')
    parts.append(f'<text x="{width - right - 70}" y="{height - 5}" font-size="11">month {xmax}</text>')
    legend_x = left
    for label, values, colour, dashed in series:
        d, pen = [], False
        for m, v in zip(months, values, strict=False):
            if v is None or (isinstance(v, float) and math.isnan(v)):
                pen = False
                continue
            d.append(f"{'L' if pen else 'M'}{x(m):.1f},{y(v):.1f}")
            pen = True
        dash = ' stroke-dasharray="6 4"' if dashed else ""
        if d:
            parts.append(f'<path d="{"".join(d)}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
        parts.append(
            f'<text x="{legend_x}" y="{height - 5}" font-size="11" fill="{colour}">'
            f"{'┄' if dashed else '—'} {html.escape(label)}</text>"
        )
        legend_x += 8 + 7 * (len(label) + 2)
    parts.append("</svg>")
    return "".join(parts)


def summary_rows(played: dict[str, Any], default: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(measure, your path, the default policy's path) rows for the end-of-game table."""

    def money(v: Any) -> str:
        return "–" if v is None else f"{v:+.1f} m".replace("-", "−")

    def pct(v: Any) -> str:
        return "–" if v is None else f"{100 * v:.1f} %"

    def num(v: Any) -> str:
        return "–" if v is None else f"{v:.2f}"

    return [
        ("NPV (value still held included)", money(played.get("npv")), money(default.get("npv"))),
        ("Final market share", pct(played.get("share_final")), pct(default.get("share_final"))),
        ("Trust at the end", num(played.get("trust_final")), num(default.get("trust_final"))),
        ("Entry mode", str(played.get("entry_mode") or "–"), str(default.get("entry_mode") or "–")),
        ("Partnership", str(played.get("partnership_end")), str(default.get("partnership_end"))),
    ]


def debrief_of(game: g.MarketGame, firm: str) -> dict[str, Any]:
    """Everything the end of a one-player game shows: outcomes, paths and sentences."""
    from abm.app.debrief import debrief as narrative

    played = game.result()
    default, default_log = g.default_run(game.case, game.seed)
    role = game.roles[firm]
    entrant = firm
    if role == "partner":
        mine = [p for p in game.model.partnerships if p.partner == firm]
        entrant = mine[-1].entrant if mine else game.case.entrants[0].name
    mine_out, default_out = g.outcome(played, firm, role), g.outcome(default, firm, role)
    row = played.entrants[played.entrants.entrant == entrant]
    return {
        "played": mine_out,
        "default": default_out,
        "compare": g.compare_sentence(mine_out, default_out),
        "divergence": g.divergence(game.log, default_log, firm),
        "paths": (g.paths(played, entrant), g.paths(default, entrant)),
        "entrant": entrant,
        "story": narrative(played.events, played.steps, row, game.case),
        "default_story": narrative(
            default.events, default.steps, default.entrants[default.entrants.entrant == entrant], game.case
        ),
    }


try:  # the component needs Solara; the pure parts above do not
    import solara
except ModuleNotFoundError:  # pragma: no cover
    solara = None  # type: ignore[assignment]


if solara is not None:

    @solara.component
    def PlayPanel(scenario: Callable[[], Any], seed: int, *, where: str = "simulate"):
        """Take one firm's decisions yourself; closed until switched on (then nothing of it is
        built while the page plays). ``scenario`` gives the page's current case."""
        opened, set_opened = solara.use_state(False)
        solara.Switch(
            label="Play the firm: take its decisions yourself",
            value=opened,
            on_value=set_opened,
            classes=["abm-play-open"],
        )
        if opened:
            with solara.Card(classes=["abm-play-panel"]):
                _Play(scenario, seed, where)

    @solara.component
    def _Play(scenario: Callable[[], Any], seed: int, where: str):
        game, set_game = solara.use_state(cast("g.MarketGame | None", None))
        version, set_version = solara.use_state(0)
        firm, set_firm = solara.use_state("")
        deadline, set_deadline = solara.use_state(0)
        problem, set_problem = solara.use_state("")
        since = solara.use_ref(time.monotonic())
        lock = solara.use_memo(threading.Lock, [])

        def cleanup():
            return lambda: game.close() if game is not None else None

        solara.use_effect(cleanup, [game])

        try:
            case = scenario()
            firms = list(g.firm_names(case))
        except Exception as exc:  # settings that cannot run: the page says why
            solara.Text(f"This case cannot be played: {exc}", classes=["abm-caption"])
            return
        chosen = firm if firm in firms else firms[0]

        def start():
            try:
                new = g.MarketGame(case, seed, [chosen])
                new.advance(None)
            except Exception as exc:
                set_problem(f"Cannot start: {exc}")
                return
            since.current = time.monotonic()
            set_problem("")
            set_game(new)
            set_version(version + 1)

        def choose(name: str, by: str = "player"):
            with lock:
                if game is None or game.pending is None:
                    return
                late = by == "player" and deadline > 0 and time.monotonic() - since.current > deadline
                if late:
                    game.play_default()
                    set_problem("The deadline had passed: your firm's default policy decided.")
                else:
                    game.decide(name, by=by)
                    set_problem("")
                if not game.finished and game.pending is None:
                    game.advance(None)
                since.current = time.monotonic()
            set_version(version + 1)

        def wait_for_deadline(cancel: threading.Event):
            if game is None or game.pending is None or deadline <= 0:
                return
            if cancel.wait(max(0.0, deadline - (time.monotonic() - since.current))):
                return
            with lock:
                if game.pending is None:
                    return
                game.play_default()
                if not game.finished and game.pending is None:
                    game.advance(None)
                since.current = time.monotonic()
            set_problem("The deadline passed: your firm's default policy decided.")
            set_version(version + 1)

        solara.use_thread(wait_for_deadline, dependencies=[game, version, deadline], intrusive_cancel=False)

        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.Select(
                "Your firm", values=firms, value=chosen, on_value=set_firm, classes=[f"abm-play-firm-{where}"]
            )
            solara.InputInt(
                "Deadline (seconds, 0 = none)",
                value=deadline,
                on_value=lambda v: set_deadline(max(0, min(900, int(v or 0)))),
                classes=["abm-play-deadline"],
            )
            solara.Button(
                "Start playing" if game is None else "Start again",
                icon_name="mdi-account-tie",
                color="primary",
                on_click=start,
                classes=["abm-play-start"],
            )
            solara.Text(f"seed {seed}", classes=["abm-caption"])
        if problem:
            solara.Warning(problem, classes=["abm-play-problem"])
        if game is None:
            solara.Text(
                "The run pauses at each decision of the firm you play; you see what it knows and its own "
                "estimate of each option's value. At the end your path is shown beside its default policy's.",
                classes=["abm-caption"],
            )
            return
        played_firm = game.players[0]
        if game.finished:
            _End(game, played_firm, version)
            return
        _Situation(game, played_firm, choose, deadline, version)

    @solara.component
    def _Situation(game: g.MarketGame, firm: str, choose: Callable, deadline: int, version: int):
        v = game.view(firm)
        d = v["decision"]
        own = v["own"]
        cards = [
            ("Month", f"{v['month']} of {v['horizon']}"),
            ("Share" if v["role"] == "entrant" else "The venture's share", _pct(own["share"])),
            ("Cash", _money(own["cash"])),
            ("NPV so far", _money(own["npv_to_date"])),
            (f"Your trust in {v['counterpart'] or 'the other side'}", _num(v["trust"])),
            (f"{v['counterpart'] or 'The other side'} delivered", _pct(v["other_delivered"])),
        ]
        solara.HTML(
            tag="div",
            unsafe_innerHTML="".join(
                f'<span class="abm-play-kpi" style="display:inline-block;margin:0 14px 6px 0">'
                f"<small>{html.escape(k)}</small><br><b>{html.escape(val)}</b></span>"
                for k, val in cards
            ),
            classes=["abm-play-kpis"],
        )
        if d is None:
            solara.Text("No decision pending.")
            return
        solara.HTML(tag="h4", unsafe_innerHTML=html.escape(f"Month {d['month']}: {d['title']}"))
        solara.Text(
            f"{d['context'][:1].upper()}{d['context'][1:]}. Your firm's own estimate of each option's value (million, discounted), "
            "± how unsure it is" + (f"; decide within {deadline} s." if deadline else "."),
            classes=["abm-caption"],
        )
        with solara.Row(style={"flex-wrap": "wrap"}):
            for o in d["options"]:
                solara.Button(
                    f"{o['name'].replace('_', ' ')}: {_money(o['value'])} ± {o['spread']:.1f}",
                    on_click=lambda name=o["name"]: choose(name),
                    outlined=True,
                    classes=["abm-play-option", f"abm-play-option-{o['name']}"],
                )
            solara.Button(
                "Let the default policy decide",
                on_click=lambda: choose(game.default_choice(), "deadline"),
                text=True,
                classes=["abm-play-default"],
            )
        recent = v["events"][-4:]
        if recent:
            solara.HTML(
                tag="div",
                unsafe_innerHTML="<br>".join(f"<b>m{e['month']}</b> {html.escape(e['text'])}" for e in recent),
                classes=["abm-play-events"],
            )

    @solara.component
    def _End(game: g.MarketGame, firm: str, version: int):
        info = solara.use_memo(lambda: debrief_of(game, firm), [game, version])
        played, default = info["paths"]
        solara.HTML(tag="h4", unsafe_innerHTML="Your path beside the default policy's, same seed")
        rows = "".join(
            f"<tr><td>{html.escape(a)}</td><td>{html.escape(b)}</td><td>{html.escape(c)}</td></tr>"
            for a, b, c in summary_rows(info["played"], info["default"])
        )
        solara.HTML(
            tag="table",
            unsafe_innerHTML=f"<tr><th></th><th>You</th><th>Default policy</th></tr>{rows}",
            classes=["abm-play-summary"],
        )
        solara.Text(info["compare"], classes=["abm-play-compare"])
        solara.Text(info["divergence"], classes=["abm-play-divergence"])
        trust_key = "trust_entrant" if game.roles[firm] == "entrant" else "trust_partner"
        shares = [x for x in played["share"] + default["share"] if x is not None]
        charts = [
            svg_lines(
                "Trust: your path (solid) and the default's (dashed)",
                played["month"],
                [("you", played[trust_key], PALETTE[0], False), ("default", default[trust_key], PALETTE[0], True)],
            ),
            svg_lines(
                "Market share of the venture",
                played["month"],
                [("you", played["share"], PALETTE[2], False), ("default", default["share"], PALETTE[2], True)],
                hi=max([0.05, *shares]),
                percent=True,
            ),
        ]
        solara.HTML(tag="div", unsafe_innerHTML="".join(charts), classes=["abm-play-charts"])
        solara.HTML(
            tag="div",
            unsafe_innerHTML="<b>Your run:</b> "
            + html.escape(" ".join(info["story"]))
            + "<br><b>The default policy's run:</b> "
            + html.escape(" ".join(info["default_story"])),
            classes=["abm-play-story"],
        )

    def _pct(v: Any) -> str:
        return "–" if v is None else f"{100 * v:.1f} %"

    def _money(v: Any) -> str:
        return "–" if v is None else f"{v:+.1f} m".replace("-", "−")

    def _num(v: Any) -> str:
        return "–" if v is None else f"{v:.2f}"
