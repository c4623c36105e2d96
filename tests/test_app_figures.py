# ruff: noqa: F401, F811
# (the fixtures browser_context, page and server come from test_app_browser by import)
"""The figures the app shows, checked in a real browser (issue 13's "wrong or confusing
figures"): each test here failed on the app before the fix it names.

Same setup as ``test_app_browser``: ``abm app`` on a free port, Debian's Chromium headless,
only 127.0.0.1 reachable. One server and one browser for the module.
"""

from __future__ import annotations

import time

from test_app_browser import (
    RESULTS_ROOT,
    _month,
    _open,
    _select,
    _step_until,
    _wait_chart,
    browser_context,
    page,
    pytestmark,
    server,
)

CHART_RECT = """(name) => {
  const el = document.querySelector('.abm-chart-' + name);
  const chart = window.echarts_of(el);
  const rect = chart.getModel().getComponent('grid').coordinateSystem.getRect();
  return {plot: rect.height, box: el.clientHeight, legendType: chart.getOption().legend[0].type || 'plain'};
}"""

ECHARTS = """async () => {
  const cdn = (window.solara && window.solara.cdn) || '/_solara/cdn';
  const echarts = await new Promise((ok, fail) => window.requirejs([cdn + '/echarts@5.4.0/dist/echarts.js'], ok, fail));
  window.echarts_of = el => echarts.getInstanceByDom(el);
  return true;
}"""
"""Makes ``window.echarts_of(element)`` return the chart drawn in an element."""


def _option(pg, name: str) -> dict:
    pg.evaluate(ECHARTS)
    return pg.evaluate(
        "(n) => { const o = window.echarts_of(document.querySelector('.abm-chart-' + n)).getOption();"
        " return {series: o.series.map(s => ({name: s.name, data: s.data, markLine: s.markLine})),"
        " title: o.title && o.title[0] && o.title[0].text}; }",
        name,
    )


def _card(pg, name: str) -> tuple[str, str]:
    box = pg.locator(f".abm-kpi.{name}").first
    return box.locator(".value").inner_text(), box.locator(".sub").inner_text()


def _run_to(pg, month: int) -> None:
    pg.fill(".abm-run-to-month input", str(month))
    pg.click(".abm-run-to")
    pg.wait_for_function(  # the label and the share chart's caption show that month, and it stopped
        "(m) => document.querySelector('.abm-month').innerText.startsWith('Month ' + m + ' ') && "
        "document.querySelector('.abm-caption-share').innerText.startsWith('Month ' + m + ':') && "
        "document.querySelector('.abm-play').innerText.toUpperCase().includes('PLAY')",
        arg=month,
        timeout=120_000,
    )
    pg.wait_for_timeout(300)  # the cards' block comes with the same update: let it land


def _select_long(pg, css: str, option: str) -> None:
    """Pick an option of a long Vuetify select (it renders more items as the menu scrolls)."""
    pg.click(f"{css} .v-select__slot")
    menu = pg.locator(".menuable__content__active")
    item = menu.locator(".v-list-item", has_text=option)
    for _ in range(40):
        if item.count():
            item.first.scroll_into_view_if_needed()
            item.first.click()
            return
        menu.evaluate("m => { m.scrollTop = m.scrollHeight; }")
        pg.wait_for_timeout(100)
    raise AssertionError(f"{option} is not in the {css} menu")


def _fresh(pg, preset: str = "alpha-beta") -> None:
    _open(pg)
    pg.wait_for_selector(".abm-month", timeout=60_000)
    _select(pg, ".abm-preset", preset)
    pg.click(".abm-reset")
    pg.wait_for_function("document.querySelector('.abm-month').innerText.startsWith('Month 0 ')")
    _wait_chart(pg, "share")


def test_after_the_entrant_leaves_licence_share_and_npv_say_what_happened(page):
    """Strong incumbents, seed 24 (opened by a link): licence approved in month 4; the alliance
    misses its objectives and going on alone is worth less than leaving, so Alpha Co. exits in
    month 36 (Model 2: no default seed of 400 exits after its licence; the mid-run value of a
    business still held has its own test in test_app.py)."""
    _open(page, "/?preset=strong-incumbents&seed=24")
    page.wait_for_selector(".abm-month", timeout=60_000)
    _wait_chart(page, "share")
    _run_to(page, 120)  # "run to month N" stops exactly there
    assert _month(page) == 120
    page.wait_for_selector(".abm-kpi-share .value:has-text('exited in month 36')")
    licence, licence_sub = _card(page, "abm-kpi-licence")
    assert "refused" not in licence and "refused" not in licence_sub  # it was approved, then lapsed
    assert licence.startswith("lapsed") and "approved in month 4" in licence_sub
    share, share_sub = _card(page, "abm-kpi-share")
    assert share == "exited in month 36"
    assert "counted as 0 % from then on" in share_sub
    npv, _ = _card(page, "abm-kpi-npv")
    held, held_sub = _card(page, "abm-kpi-npv-held")
    assert npv == held and "nothing left to value" in held_sub
    option = _option(page, "share")
    alpha = next(s for s in option["series"] if s["name"] == "Alpha Co.")
    assert alpha["data"][-1][1] == 0 and max(d[1] for d in alpha["data"][:36]) > 0  # 0 % after the exit
    assert any("exited (month 36)" in (d.get("name") or "") for d in alpha["markLine"]["data"])
    money = [s["name"] for s in _option(page, "money")["series"]]
    assert money == ["Alpha Co. cash", "Alpha Co. NPV to date", "Alpha Co. NPV incl. business held"]
    assert page.problems == []


def test_title_follows_the_chosen_countries(page):
    _fresh(page)
    assert "Southeast Asia" in page.inner_text(".abm-title")
    _select_long(page, ".abm-home", "GER - Germany")
    page.wait_for_selector(".abm-title:has-text('Germany')")
    _select_long(page, ".abm-host", "VIE - Vietnam")
    page.wait_for_selector(".abm-title:has-text('Vietnam')")
    title = page.inner_text(".abm-title")
    assert title == "Alpha Co. from Germany enters Vietnam"
    assert "Adapted from the case" in page.inner_text(".abm-lead")
    page.click(".abm-defaults")
    page.wait_for_selector(".abm-title:has-text('Southeast Asia')")
    assert page.problems == []


def test_two_entrants_partnership_legend_leaves_room_for_the_plot(page):
    _fresh(page, "two-entrants")
    _step_until(page, 8)
    page.wait_for_function("document.querySelectorAll('.abm-chart-trust').length > 0")
    page.evaluate(ECHARTS)
    time.sleep(0.3)
    rect = page.evaluate(CHART_RECT, "trust")
    names = [s["name"] for s in _option(page, "trust")["series"]]
    assert len(names) >= 10, names  # both partnerships drawn
    assert rect["plot"] >= 0.55 * rect["box"], rect  # was about 40 px of 380
    assert page.problems == []


PAUSE = """async () => {
  const label = () => parseInt(document.querySelector('.abm-month').innerText.split(' ')[1]);
  await new Promise(done => setTimeout(done, 2500));
  const atClick = label();
  const t0 = performance.now();
  document.querySelector('.abm-play').click();
  let last = atClick, changed = t0;
  const stopped = await new Promise(done => {
    const obs = new MutationObserver(() => { if (label() !== last) { last = label(); changed = performance.now(); } });
    obs.observe(document.body, {subtree: true, childList: true, characterData: true});
    setTimeout(() => { obs.disconnect(); done(label()); }, 3000);
  });
  return {atClick, stopped, lastChangeMs: changed - t0};
}"""


def test_pause_stops_at_the_next_month_at_full_speed(page):
    _fresh(page)
    speed = page.locator(".abm-speed .v-slider__thumb-container")
    speed.focus()
    page.keyboard.press("End")  # 20 months/s
    page.wait_for_selector(".abm-speed:has-text('20 months/s')")
    page.click(".abm-play")
    result = page.evaluate(PAUSE)
    page.wait_for_selector(".abm-play:has-text('Play')")
    assert result["atClick"] >= 5, result  # it played
    assert result["stopped"] - result["atClick"] <= 1, result  # was 40+ months late
    assert result["lastChangeMs"] < 1500, result
    assert page.problems == []


def test_commitment_control_acts_on_the_partner_it_names(page):
    _fresh(page, "two-entrants")
    _select(page, ".abm-partner", "Gamma Retail")
    page.wait_for_selector(".abm-commitment:has-text('Commitment of Gamma Retail')")
    thumb = page.locator(".abm-commitment .v-slider__thumb-container")
    thumb.focus()
    page.keyboard.press("ArrowLeft")
    page.wait_for_selector(".abm-commitment:has-text('0.80')")
    page.click(".abm-tab-compare")  # a tab keeps the session (a new page load would not)
    page.wait_for_selector(".abm-compare-run", timeout=60_000)
    lead = page.inner_text(".abm-lead")
    assert "Gamma Retail's commitment 0.8" in lead, lead
    assert "partner commitment" not in lead  # not every candidate's
    assert page.problems == []


def test_one_partner_cannot_be_compared_with_itself(page):
    _fresh(page, "alpha-beta")
    page.click(".abm-tab-compare")
    page.wait_for_selector(".abm-compare-run", timeout=60_000)
    page.click(".abm-compare-kind button:has-text('Candidate partners')")
    page.wait_for_selector(".abm-partners-none")
    assert "only Beta Tech" in page.inner_text(".abm-partners-none")
    page.click(".abm-compare-run")
    page.wait_for_selector(".abm-error:has-text('two or more partners')")
    assert page.locator(".abm-progress-text").count() == 0  # nothing ran
    page.click(".abm-compare-kind button:has-text('Entry modes')")
    assert page.problems == []


def test_try_this_case_brings_the_exercise_into_view(page):
    _open(page, "/classroom")
    page.wait_for_selector(".abm-try-two-entrants", timeout=60_000)
    page.locator(".abm-try-two-entrants").scroll_into_view_if_needed()
    page.click(".abm-try-two-entrants")
    heading = page.locator(".abm-classroom h3").first
    page.wait_for_function(
        "() => { const r = document.querySelector('.abm-classroom h3').getBoundingClientRect();"
        " return r.top >= 0 && r.top < window.innerHeight / 2; }",
        timeout=10_000,
    )
    assert "Two entrants" in heading.inner_text()
    assert page.problems == []


def test_results_plot_against_a_text_parameter_is_not_empty(page):
    import abm

    data = {
        "name": "browser-modes",
        "months": 12,
        "design": "factorial",
        "replications": 2,
        "master_seed": 5,
        "fixed": {"consumers": 300},
        "parameters": {"entry_mode": ["alone", "alliance"]},
    }
    abm.sweep(data, workers=1, out=RESULTS_ROOT[0] / "browser-modes", progress=False)
    _open(page, "/results")
    page.wait_for_selector(".abm-results .v-select__slot", timeout=60_000)  # chosen from a list, never typed
    _select(page, ".abm-results", "browser-modes")
    page.wait_for_selector(".abm-results-loaded", timeout=30_000)
    _wait_chart(page, "outcome")
    option = _option(page, "outcome")
    assert "against entry_mode (4 runs)" in option["title"], option["title"]
    runs = next(s for s in option["series"] if s["name"] == "one run")
    assert len(runs["data"]) == 4
    assert page.problems == []
