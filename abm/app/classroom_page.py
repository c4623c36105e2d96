"""The Classroom view: each preset's lesson, and a predict-then-run exercise.

Pick a case, read what it shows, predict three outcomes, then run it: the page reveals
how often each outcome happened across 50 replications, so a class sees both the typical
result and the spread (one run alone can mislead). "Watch it live" opens the case in
Simulate.
"""

from __future__ import annotations

import html
import logging
import traceback
from dataclasses import dataclass
from functools import partial
from typing import Any

import pandas as pd
import solara

from abm import presets
from abm.app import charts, debrief, jobs, state
from abm.app.comparison import Cancelled
from abm.app.play_panel import PlayPanel
from abm.app.widgets import Chart, Message, ScrollHere
from abm.errors import InputError
from abm.scenario import Scenario

log = logging.getLogger("abm.app")

REPLICATIONS = 50
"""Runs behind each reveal."""

PARTNERSHIP_ANSWERS = (
    "It holds (to the end of the run or its planned end)",
    "It breaks down early",
    "No partnership is formed",
)


@dataclass(frozen=True)
class Lesson:
    """A preset as a lesson: the idea it shows and what to watch for."""

    name: str
    title: str
    idea: str
    watch: str
    description: str


def lesson_of(scenario: Scenario) -> Lesson:
    """Split a preset's ``lesson`` into its idea (first sentence) and what to watch."""
    text = " ".join(scenario.lesson.split())
    head, _, rest = text.partition(". ")
    if not rest:
        head, rest = text, ""
    return Lesson(scenario.name, scenario.title, head.rstrip("."), rest, " ".join(scenario.description.split()))


def questions(scenario: Scenario) -> list[tuple[str, str, tuple[str, ...]]]:
    """(key, question, answers) for the predict-then-run exercise."""
    e = scenario.entrants[0]
    return [
        (
            "target",
            f"Will {e.name} reach a {e.target_share:.0%} market share by month {e.target_month}?",
            ("Yes", "No"),
        ),
        (
            "partnership",
            f"What becomes of {e.name}'s partnership within {scenario.months} months?",
            PARTNERSHIP_ANSWERS,
        ),
        ("npv", f"Will {e.name} earn more than its cost of capital (NPV > 0)?", ("Yes", "No")),
    ]


def answers_of(summary: pd.DataFrame) -> pd.DataFrame:
    """Each run's true answer to each question (columns: target, partnership, npv)."""
    formed = summary.partnership_formed.astype(bool)
    failed = summary.partnership_failed.astype(bool)
    partnership = [
        PARTNERSHIP_ANSWERS[2] if not f else (PARTNERSHIP_ANSWERS[1] if x else PARTNERSHIP_ANSWERS[0])
        for f, x in zip(formed, failed, strict=True)
    ]
    return pd.DataFrame(
        {
            "target": ["Yes" if x else "No" for x in summary.objective_met.astype(bool)],
            "partnership": partnership,
            "npv": ["Yes" if x > 0 else "No" for x in summary.npv],
        }
    )


def verdicts(predictions: dict[str, str], answers: pd.DataFrame) -> list[tuple[str, str, str, float, bool]]:
    """Per question: (key, prediction, most frequent answer, share of runs agreeing with
    the prediction, prediction == most frequent answer)."""
    out = []
    for key in answers.columns:
        counts = answers[key].value_counts(normalize=True)
        typical = str(counts.index[0])
        guess = predictions.get(key, "")
        share = float(counts.get(guess, 0.0))
        out.append((key, guess, typical, share, guess == typical))
    return out


chosen = solara.reactive(presets.DEFAULT)
predictions: solara.Reactive[dict[str, str]] = solara.reactive({})
reveal: solara.Reactive[tuple[str, Any, Any, list[str]] | None] = solara.reactive(None)
"""(preset name, summary frame, share quantiles, why: the main drivers in sentences) of the last reveal."""
problem: solara.Reactive[str | None] = solara.reactive(None)
picked = solara.reactive(0)
"""How many times a case was picked: each pick scrolls the exercise into view."""


@solara.lab.task(prefer_threaded=True)
def run_lesson(name: str, seed: int) -> None:
    try:
        scenario = presets.load(name)
        result = jobs.run_compare(  # the server's queue and pool, as Compare's jobs
            scenario, {"this case": {}}, replications=REPLICATIONS, master_seed=seed
        )
        cmp = result.comparison
        why = debrief.class_debrief(cmp.summary, cmp.events, cmp.steps, scenario)
    except InputError as exc:
        problem.value = f"This case cannot run: {exc}"
        return
    except Cancelled:  # the page closed
        return
    except Exception as exc:
        log.error("lesson run failed:\n%s", traceback.format_exc())
        problem.value = f"The run failed: {type(exc).__name__}: {exc}"
        return
    reveal.value = (name, cmp.summary, result.quantiles, why)


def pick(name: str) -> None:
    chosen.value = name
    picked.value += 1
    predictions.value = {}
    reveal.value = None
    problem.value = None


@solara.component
def LessonCard(lesson: Lesson, selected: bool):
    with solara.Card(
        lesson.idea,
        subtitle=lesson.title,
        classes=["abm-lesson-card"],
        style={"border": "3px solid #0072B2" if selected else "1px solid #ccc"},
    ):
        solara.Div(children=[lesson.watch], classes=["abm-caption"])
        solara.Button(
            "Try this case",
            on_click=lambda: pick(lesson.name),
            text=True,
            color="primary",
            classes=[f"abm-try-{lesson.name}"],
        )


@solara.component
def Exercise(scenario: Scenario):
    lesson = lesson_of(scenario)
    router = solara.use_router()
    ScrollHere.element(nonce=picked.value)
    solara.HTML(tag="h3", unsafe_innerHTML=html.escape(f"{lesson.idea}: {scenario.title}"))
    solara.Text(lesson.description, classes=["abm-lead"])
    solara.HTML(
        tag="div", unsafe_innerHTML=f"<b>What to watch:</b> {html.escape(lesson.watch)}", classes=["abm-lesson"]
    )
    solara.Text("1. Predict", classes=["abm-chart-title"])
    qs = questions(scenario)
    for key, question, options in qs:

        def choose(value, key=key):
            predictions.value = {**predictions.value, key: value}

        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.Text(question, style={"font-size": "1.08rem", "min-width": "420px"})
            solara.ToggleButtonsSingle(
                value=predictions.value.get(key),
                on_value=choose,
                mandatory=False,
                classes=[f"abm-predict-{key}"],
                children=[solara.Button(o, value=o) for o in options],
            )
    ready = len(predictions.value) == len(qs)
    solara.Text("2. Run", classes=["abm-chart-title"])
    with solara.Row():
        solara.Button(
            f"Run {REPLICATIONS} times and reveal",
            icon_name="mdi-play",
            color="primary",
            on_click=lambda: (problem.set(None), run_lesson(scenario.name, state.current_settings().seed)),
            disabled=not ready or run_lesson.pending,
            classes=["abm-reveal"],
        )

        def watch():
            state.choose_base(scenario.name)
            router.push("/")

        solara.Button(
            "Watch it live in Simulate", icon_name="mdi-eye", on_click=watch, outlined=True, classes=["abm-watch"]
        )
    Status(ready)  # components keep their place, so the chart below is not remounted when these change
    Message(problem.value)
    Reveal(scenario)
    PlayPanel(lambda: scenario, state.current_settings().seed, where="classroom")  # issue 16: play the firm


@solara.component
def Status(ready: bool):
    if not ready:
        solara.Text("Make all three predictions first.", classes=["abm-caption"])
    if run_lesson.pending:
        solara.ProgressLinear(True)


@solara.component
def Reveal(scenario: Scenario):
    """How often each predicted outcome happened, and the share paths behind it."""
    r = reveal.value
    if r is None or r[0] != scenario.name:
        return
    _, summary, quantiles, why = r
    qs = questions(scenario)
    solara.Text("3. What happened", classes=["abm-chart-title"])
    rows, said = [], []
    for (_key, guess, typical, share, right), (_, question, _) in zip(
        verdicts(predictions.value, answers_of(summary)), qs, strict=True
    ):
        mark = (
            '<span class="abm-verdict-right">you were right</span>'
            if right
            else f'<span class="abm-verdict-wrong">most runs say: {html.escape(typical)}</span>'
        )
        cells = "".join(f"<td>{html.escape(c)}</td>" for c in (question, guess, typical, f"{share:.0%} of runs"))
        rows.append(f"<tr>{cells}<td>{mark}</td></tr>")
        said.append(debrief.prediction_sentence(question, guess, typical, share, len(summary)))
    solara.HTML(
        tag="div",
        classes=["abm-reveal-table"],
        unsafe_innerHTML=(
            '<table class="abm-table"><thead><tr><th>Question</th><th>Your prediction</th><th>Most runs</th>'
            "<th>Runs that agree with you</th><th></th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
        ),
    )
    items = "".join(f"<li>{html.escape(t)}</li>" for t in said)
    drivers = "".join(f"<p>{html.escape(t)}</p>" for t in why)
    solara.HTML(
        tag="div",
        classes=["abm-debrief", "abm-class-debrief"],
        unsafe_innerHTML=f"<b>Your predictions against the {len(summary)} runs</b><ul>{items}</ul><b>Why</b>{drivers}",
    )
    e = scenario.entrants[0]
    Chart(
        "lesson-fan",
        height=340,
        version=id(summary),
        build=partial(
            charts.fan_option,
            quantiles,
            "this case",
            target_share=e.target_share,
            target_month=e.target_month,
            horizon=scenario.months,
            top=max(float(quantiles.p90.max()), e.target_share * 1.3),
            label=f"{e.name}'s market share across {REPLICATIONS} runs",
        ),
    )


@solara.component
def ClassroomPage():
    lessons = [lesson_of(presets.load(n)) for n in presets.names()]
    with solara.Column(gap="10px", classes=["abm-page", "abm-classroom"]):
        solara.HTML(tag="h2", unsafe_innerHTML="Classroom: one idea per case")
        solara.Text(
            "Each case shows one idea of partnering to enter a foreign market. Choose a case, predict, run, "
            "and compare your prediction with what the model does across many runs.",
            classes=["abm-lead"],
        )
        Exercise(presets.load(chosen.value))
        solara.Text("All cases", classes=["abm-chart-title"])
        with solara.ColumnsResponsive(default=12, medium=6, large=4):
            for lesson in lessons:
                LessonCard(lesson, lesson.name == chosen.value)
