# ruff: noqa: F401, F811
# (the fixtures browser_context, page and server come from test_app_browser by import)
"""Presentation mode, links that carry the state, and screenshots of every view at a
projector's 1280x800 and a monitor's 1920x1080, in a real browser (see test_app_browser).

The screenshots go to results/app-screenshots/ (git-ignored): look at them.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from test_app_browser import (
    ROOT,
    STEP_TIMER,
    _month,
    _open,
    _select,
    _step_until,
    _timings,
    _wait_chart,
    browser_context,
    page,
    pytestmark,
    server,
)
from test_app_figures import ECHARTS, _option, _run_to

SCREENS = ROOT / "results" / "app-screenshots"
SIZES = {"1280x800": (1280, 800), "1920x1080": (1920, 1080)}


PROGRESS = """() => new Promise(done => {
  const t0 = performance.now();
  const obs = new MutationObserver(() => {
    if (document.querySelector('.abm-progress-text')) { obs.disconnect(); done(performance.now() - t0); }
  });
  obs.observe(document.body, {subtree: true, childList: true, characterData: true});
  document.querySelector('.abm-compare-run').click();
  setTimeout(() => { obs.disconnect(); done(null); }, 30000);
})"""
"""Clicks Run comparison; milliseconds until the progress line shows."""


def _screens(pg, name: str) -> None:
    """The view as it is seen (no scrolling) at each size."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    for label, (w, h) in SIZES.items():
        pg.set_viewport_size({"width": w, "height": h})
        time.sleep(0.8)  # the charts follow their boxes' new size
        pg.screenshot(path=str(SCREENS / f"{name}-{label}.png"))


def _bottom(pg, css: str) -> float:
    return pg.evaluate("(c) => document.querySelector(c).getBoundingClientRect().bottom", css)


def _scroll_height(pg) -> int:
    return pg.evaluate(
        "Math.max(...[...document.querySelectorAll('.v-main__wrap > div, .solara-content-main')].map(e => e.scrollTop))"
    )


def test_presentation_mode_fits_a_1280x800_projector(page):
    page.set_viewport_size({"width": 1280, "height": 800})
    _open(page)
    page.wait_for_selector(".abm-month", timeout=60_000)
    _wait_chart(page, "trust")
    _step_until(page, 30)
    page.click(".abm-present-toggle")
    page.wait_for_selector(".abm-present-toggle:has-text('Leave presentation')")
    page.wait_for_function(
        "document.querySelector('.v-navigation-drawer--close, .v-navigation-drawer--is-mobile') !== null"
    )
    time.sleep(0.8)
    for css in (".abm-month", ".abm-play", ".abm-step", ".abm-kpi-share", ".abm-chart-share", ".abm-chart-trust"):
        assert _bottom(page, css) <= 800, f"{css} ends below the fold at 1280x800"
    assert _scroll_height(page) == 0  # nothing scrolled to get there
    # the sidebar folds away and comes back with the menu button
    assert page.locator(".abm-preset").is_hidden()
    page.click(".v-app-bar__nav-icon, .v-toolbar__content button >> nth=0")
    page.wait_for_selector(".abm-preset", state="visible")
    page.click(".v-app-bar__nav-icon, .v-toolbar__content button >> nth=0")
    # a bigger text size reaches the page and the charts
    before = page.evaluate("getComputedStyle(document.querySelector('.abm-month')).fontSize")
    page.click(".abm-font-up")
    page.wait_for_function("(b) => getComputedStyle(document.querySelector('.abm-month')).fontSize !== b", arg=before)
    page.click(".abm-font-down")
    _screens(page, "simulate-presentation")
    page.set_viewport_size({"width": 1280, "height": 800})
    latencies = page.evaluate(STEP_TIMER, 30)  # step redraw in presentation mode
    assert None not in latencies
    _timings(present_step_render_ms_median=round(statistics.median(latencies), 1))
    page.click(".abm-present-toggle")
    page.wait_for_selector(".abm-present-toggle:has-text('Presentation')")
    assert page.problems == []


def test_a_copied_link_reproduces_the_state_in_a_fresh_session(page, server):
    _open(page)
    page.wait_for_selector(".abm-month", timeout=60_000)
    _select(page, ".abm-preset", "two-entrants")
    page.wait_for_selector("text=Two entrants race for three local partners")
    _select(page, ".abm-partner", "Gamma Retail")
    page.wait_for_selector(".abm-commitment:has-text('Commitment of Gamma Retail')")
    page.fill(".abm-seed input", "5")
    page.press(".abm-seed input", "Enter")
    page.wait_for_function("document.querySelector('.abm-month').innerText.startsWith('Month 0 ')")
    _step_until(page, 14)
    sent = page.inner_text(".abm-kpi-block")
    page.click(".abm-copy-link")
    page.wait_for_selector(".abm-share-link")
    link = page.input_value(".abm-share-link")
    assert link.startswith(server[0] + "/?preset=two-entrants&partner=Gamma+Retail&seed=5&month=14"), link
    # a fresh session: no cookie (Solara's session id), a new tab, nothing shared but the link
    page.context.clear_cookies()
    other = page.context.new_page()
    try:
        other.goto(link, wait_until="networkidle")
        other.wait_for_function(
            "document.querySelector('.abm-month') && "
            "document.querySelector('.abm-month').innerText.startsWith('Month 14 ')",
            timeout=120_000,
        )
        other.wait_for_selector(".abm-play:has-text('Play')")
        deadline = time.monotonic() + 30  # the cards may redraw a moment after the month label
        while other.inner_text(".abm-kpi-block") != sent and time.monotonic() < deadline:
            other.wait_for_timeout(250)
        assert other.inner_text(".abm-kpi-block") == sent  # the same run: same scenario, seed, month
        assert "Gamma Retail" in other.inner_text(".abm-partner")
        other.click(".abm-tab-compare")
        other.wait_for_selector(".abm-compare-run", timeout=60_000)
        assert "partner Gamma Retail" in other.inner_text(".abm-lead")
    finally:
        other.close()
    assert page.problems == []


def test_a_tampered_link_shows_a_message_not_a_traceback(page):
    for query, needle in (
        ("?preset=nowhere&seed=2", "link preset"),
        ("?preset=alpha-beta&commitment=7", "link commitment"),
        ("?scenario=eJzLSM3JyQcABiwCFQ", "link scenario"),
        ("?%%%", "link"),
    ):
        _open(page, "/" + query)
        page.wait_for_selector(".abm-error", timeout=60_000)
        text = page.inner_text(".abm-error")
        assert "This link could not be used" in text and needle in text, text
        assert "Traceback" not in page.inner_text("body")
        page.wait_for_selector(".abm-month")  # the default case runs instead
        assert _month(page) == 0
    assert page.problems == []


def test_every_view_at_projector_and_monitor_size(page, tmp_path):
    _open(page)
    page.wait_for_selector(".abm-month", timeout=60_000)
    _wait_chart(page, "share")
    _step_until(page, 36)
    _screens(page, "simulate")
    page.click(".abm-tab-classroom")
    page.wait_for_selector(".abm-try-unequal-commitment", timeout=60_000)
    _screens(page, "classroom")
    page.click(".abm-tab-compare")
    page.wait_for_selector(".abm-compare-run", timeout=60_000)
    page.locator(".abm-replications .v-slider__thumb-container").focus()
    page.keyboard.press("Home")  # 10 per variant: enough for a picture
    page.wait_for_selector(".abm-replications:has-text('variant: 10')")
    shown = page.evaluate(PROGRESS)
    assert shown is not None and shown < 5000, shown
    _timings(compare_progress_shown_ms=round(shown))
    page.wait_for_selector(".abm-compare-done", timeout=300_000)
    _wait_chart(page, "probabilities")
    _screens(page, "compare")
    _compare_reads_itself(page)
    assert page.problems == []


RENDERED = """(name) => {
  const chart = window.echarts_of(document.querySelector('.abm-chart-' + name));
  return chart.getModel().getSeries().map(s => {
    const d = s.getData();
    const layouts = [];
    for (let i = 0; i < d.count(); i++) layouts.push(d.getItemLayout(i));
    return {type: s.subType, name: s.name, layouts: layouts};
  });
}"""
"""Each series of a drawn chart with the pixel layout ECharts gave each item."""


def _compare_reads_itself(pg) -> None:
    """The verdict, the error bars and the NPV spread are on the page and drawn (issue 13, item 5)."""
    verdict = pg.inner_text(".abm-verdict")
    assert "Run by run against Alone (greenfield)" in verdict, verdict
    lines = [t for t in verdict.splitlines() if "mean difference" in t]
    assert len(lines) == 4 and all(("paired runs" in t) for t in lines), verdict
    for name in ("npv", "paired"):
        _wait_chart(pg, name)
    pg.evaluate(ECHARTS)
    bars = pg.evaluate(RENDERED, "probabilities")
    errors = [s for s in bars if s["type"] == "boxplot"]
    assert len(errors) == 3  # one per measure
    drawn = [lay for s in errors for lay in s["layouts"] if lay and all(p[0] == p[0] for p in lay["ends"])]
    assert len(drawn) == 8  # 3 variants x 3 measures, less "partnership survives" alone (no bar: n/a)
    for lay in drawn:  # horizontal bars from lo to hi (a Wilson interval of 10 runs is never empty), 14 px caps
        xs, ys = [p[0] for p in lay["ends"]], [p[1] for p in lay["ends"]]
        assert max(xs) - min(xs) > 5 and abs(max(ys) - min(ys) - 14) < 1.5, lay
    option = _option(pg, "npv")
    dots = next(s for s in option["series"] if s["name"] == "one run")["data"]
    assert len(dots) == 30 and len({round(x - round(x), 3) for x, _ in dots}) > 20  # spread sideways
    report = _download(pg, ".abm-report-html button, .abm-report-html a").decode("utf-8")  # item 4's one-page report
    assert report.startswith("<!DOCTYPE html>") and report.count("<svg") == 2 and "data:image/png;base64," in report
    assert "Run by run against Alone (greenfield)" in report and "P(target share by deadline)" in report
    (SCREENS / "compare-report.html").write_text(report, encoding="utf-8")
    for label, (w, h) in SIZES.items():
        pg.set_viewport_size({"width": w, "height": h})
        pg.evaluate("document.querySelector('.abm-verdict').scrollIntoView({block: 'start'})")
        time.sleep(0.8)  # the charts follow their boxes' new size
        pg.screenshot(path=str(SCREENS / f"compare-verdict-{label}.png"))
        pg.evaluate("document.querySelector('.abm-chart-probabilities').scrollIntoView({block: 'center'})")
        time.sleep(0.3)
        pg.screenshot(path=str(SCREENS / f"compare-probabilities-{label}.png"))


def _download(pg, css: str) -> bytes:
    with pg.expect_download(timeout=30_000) as info:
        pg.click(css)
    return Path(info.value.path()).read_bytes()


def test_charts_export_as_png_and_svg_and_the_run_as_csv(page):
    import io

    import pandas as pd

    _open(page)
    page.wait_for_selector(".abm-month", timeout=60_000)
    _wait_chart(page, "share")
    _step_until(page, 12)
    for name in ("share", "map", "trust", "money"):
        png = _download(page, f".abm-box-{name} .abm-export-png")
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5_000, name
        svg = _download(page, f".abm-box-{name} .abm-export-svg").decode("utf-8")
        assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>"), name
    assert "Alpha Co." in svg  # the legend's text is text, not pixels
    kpis = pd.read_csv(io.BytesIO(_download(page, ".abm-kpi-csv button, .abm-kpi-csv a")))
    assert list(kpis.name) == ["Alpha Co."] and kpis.month.iloc[0] == 12
    shown = page.inner_text(".abm-kpi-share .value")
    assert f"{kpis.share.iloc[0]:.1%}" == shown
    events = pd.read_csv(io.BytesIO(_download(page, ".abm-events-csv button, .abm-events-csv a")))
    assert list(events.columns) == ["month", "actor", "kind", "text"]
    assert len(events) == page.locator(".abm-log div").count() and events.month.max() <= 12
    assert page.problems == []


def test_simulate_explains_the_run_so_far_and_at_its_end(page):
    _open(page, "/?preset=unequal-commitment&seed=1")
    page.wait_for_selector(".abm-month", timeout=60_000)
    _step_until(page, 3)
    page.click(".abm-explain")
    page.wait_for_selector(".abm-debrief li")
    early = page.inner_text(".abm-debrief")
    assert "Month 0: Alpha Co. forms a strategic alliance with Beta Tech." in early and "Main driver:" in early
    _run_to(page, 120)  # the end: the debrief comes without a click, for the whole run
    page.wait_for_function(
        "() => !document.querySelector('.abm-explain') && "
        "document.querySelector('.abm-debrief').innerText.includes('The partnership with Beta Tech ended')",
        timeout=30_000,
    )
    text = page.inner_text(".abm-debrief")
    assert "As of month" not in text and "trust fell below the floor" in text, text
    for label, (w, h) in SIZES.items():
        page.set_viewport_size({"width": w, "height": h})
        page.evaluate("document.querySelector('.abm-debrief').scrollIntoView({block: 'center'})")
        time.sleep(0.8)
        page.screenshot(path=str(SCREENS / f"simulate-debrief-{label}.png"))
    assert page.problems == []
