"""The app in a real browser: Debian's Chromium, headless, driven by Playwright.

The server runs as ``abm app`` in a subprocess (stopped by its PID); the browser may reach
127.0.0.1 only: any other request is aborted and recorded, and must never happen (the
app works offline). Each view is saved as a screenshot under results/screenshots/, and the
measured step and compare times go to results/app-timings.json (no timing is asserted).
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import socket
import statistics
import tempfile
import time
from pathlib import Path

import pytest
from app_server import CHROMIUM, CHROMIUM_ARGS, running_app

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "results" / "screenshots"
TIMINGS = ROOT / "results" / "app-timings.json"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"needs Debian's Chromium at {CHROMIUM} (apt-get install -y chromium)"
    ),
]


RESULTS_ROOT: list[Path] = []
"""The server's results root (``abm app --results``), set by the ``server`` fixture."""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`abm app` on a free port, with typed scenario paths allowed (127.0.0.1 only) and a
    fresh results root; yields (base URL, PID)."""
    log = tmp_path_factory.mktemp("server") / "server.log"
    root = tmp_path_factory.mktemp("results-root")
    RESULTS_ROOT[:] = [root]
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}
    with running_app(["--allow-paths", "--results", str(root)], cwd=ROOT, log=log, env=env) as (base, pid):
        yield base, pid
    text = log.read_text(errors="replace")
    assert "Traceback" not in text, f"the server logged an error:\n{text}"


@pytest.fixture(scope="module")
def browser_context(server):
    """A fresh Chromium profile that may only reach the app's server."""
    from playwright.sync_api import sync_playwright

    base, _ = server
    profile = tempfile.mkdtemp(prefix="abm-chromium-")
    outside: list[str] = []
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            viewport={"width": 1440, "height": 1000},
            args=CHROMIUM_ARGS,
        )

        def only_local(route):
            url = route.request.url
            if url.startswith((base, base.replace("http", "ws"))):
                route.continue_()
            else:
                outside.append(url)
                route.abort()

        ctx.route("**/*", only_local)
        ctx.outside_requests = outside
        yield ctx
        ctx.close()
    shutil.rmtree(profile, ignore_errors=True)
    assert outside == [], f"the app asked for something beyond this machine: {outside}"


@pytest.fixture
def page(browser_context, server):
    """A new tab; console errors and page errors are collected in ``page.problems``."""
    pg = browser_context.new_page()
    problems: list[str] = []
    pg.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    pg.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    pg.problems = problems
    pg.base = server[0]
    yield pg
    pg.close()


def _timings(**values) -> None:
    TIMINGS.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(TIMINGS.read_text()) if TIMINGS.exists() else {}
    data.update(values)
    TIMINGS.write_text(json.dumps(data, indent=2) + "\n")


def _shot(pg, name: str) -> None:
    """A screenshot of the whole view: the layout scrolls inside, so the viewport grows to fit."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    height = pg.evaluate(
        "Math.max(...[...document.querySelectorAll('main, .v-main, .v-main__wrap, .solara-content-main, "
        "body *')].slice(0, 4000).map(e => e.scrollHeight || 0))"
    )
    pg.set_viewport_size({"width": 1440, "height": int(min(max(height + 80, 1000), 4000))})
    pg.evaluate("document.querySelectorAll('*').forEach(e => { if (e.scrollTop) e.scrollTop = 0; })")
    time.sleep(0.8)  # let the charts resize
    pg.screenshot(path=str(SHOTS / f"{name}.png"))
    pg.set_viewport_size({"width": 1440, "height": 1000})


def _open(pg, path: str = "/"):
    pg.goto(pg.base + path, wait_until="networkidle")


def _month(pg) -> int:
    text = pg.inner_text(".abm-month")
    return int(text.split()[1])


def _wait_chart(pg, name: str) -> None:
    pg.wait_for_selector(f".abm-chart-{name} canvas", timeout=30_000)


def _select(pg, css: str, option: str) -> None:
    """Pick an option of a Vuetify select."""
    pg.click(f"{css} .v-select__slot")
    pg.locator(".menuable__content__active .v-list-item", has_text=option).first.click()


def _step_until(pg, month: int) -> None:
    while _month(pg) < month:
        before = _month(pg)
        pg.click(".abm-step")
        pg.wait_for_function(f"document.querySelector('.abm-month').innerText.split(' ')[1] != '{before}'")


# ---- Simulate ------------------------------------------------------------------------------


def test_page_loads_offline_with_no_console_errors(page):
    _open(page)
    page.wait_for_selector(".abm-month", timeout=60_000)
    for name in ("share", "map", "trust", "money"):
        _wait_chart(page, name)
    assert _month(page) == 0
    assert "Alpha Co. enters Southeast Asia" in page.inner_text("body")
    assert page.problems == []
    assert page.context.outside_requests == []


STEP_TIMER = """async (n) => {
  const cdn = (window.solara && window.solara.cdn) || '/_solara/cdn';
  const echarts = await new Promise((ok, fail) => window.requirejs([cdn + '/echarts@5.4.0/dist/echarts.js'], ok, fail));
  const charts = ['share', 'map', 'trust', 'money'].map(
      name => echarts.getInstanceByDom(document.querySelector('.abm-chart-' + name)));
  const drawn = c => new Promise(done => c.on('finished', function once() { c.off('finished', once); done(performance.now()); }));
  const out = [];
  for (let i = 0; i < n; i++) {
    const before = document.querySelector('.abm-month').innerText;
    const labelled = new Promise(done => {
      const obs = new MutationObserver(() => {
        if (document.querySelector('.abm-month').innerText !== before) { obs.disconnect(); done(performance.now()); }
      });
      obs.observe(document.body, {subtree: true, childList: true, characterData: true});
    });
    const painted = charts.map(drawn);
    const t0 = performance.now();
    document.querySelector('.abm-step').click();
    const timeout = new Promise(done => setTimeout(() => done(null), 10000));
    const times = await Promise.race([Promise.all([labelled, ...painted]), timeout]);
    out.push(times === null ? null : Math.max(...times) - t0);
    await new Promise(done => setTimeout(done, 120));
  }
  return out;
}"""
"""Clicks Step n times; for each, the milliseconds from the click until the month label has
changed and all four charts have finished drawing the new month (ECharts' 'finished')."""


def test_step_advances_the_month_and_changes_the_share_chart(page):
    _open(page)
    page.click(".abm-reset")
    page.wait_for_function("document.querySelector('.abm-month').innerText.startsWith('Month 0 ')")
    _wait_chart(page, "share")
    before_png = page.locator(".abm-chart-share").screenshot()
    before_caption = page.inner_text(".abm-caption-share")
    for expected in range(1, 6):
        page.click(".abm-step")
        page.wait_for_function(
            "(m) => document.querySelector('.abm-month').innerText.startsWith('Month ' + m + ' ') && "
            "document.querySelector('.abm-caption-share').innerText.startsWith('Month ' + m + ':')",
            arg=expected,
        )
        assert _month(page) == expected
    time.sleep(0.3)
    assert page.locator(".abm-chart-share").screenshot() != before_png
    assert page.inner_text(".abm-caption-share") != before_caption
    assert "month 0" in page.inner_text(".abm-events")  # the log lists the partnership formed at entry
    latencies = page.evaluate(STEP_TIMER, 25)
    assert None not in latencies, "a step was not drawn within 10 s"
    assert _month(page) == 30
    _timings(
        step_render_ms_median=round(statistics.median(latencies), 1),
        step_render_ms_p90=round(sorted(latencies)[int(0.9 * len(latencies)) - 1], 1),
        step_render_samples=len(latencies),
    )
    _shot(page, "simulate")
    assert page.problems == []


PLAY_WATCH = """(seconds) => new Promise(done => {
  const times = [];
  let last = document.querySelector('.abm-month').innerText;
  const obs = new MutationObserver(() => {
    const now = document.querySelector('.abm-month').innerText;
    if (now !== last) { last = now; times.push(performance.now()); }
  });
  obs.observe(document.body, {subtree: true, childList: true, characterData: true});
  setTimeout(() => { obs.disconnect(); done(times); }, seconds * 1000);
})"""
"""Times (ms) at which the month label changed during ``seconds`` of play."""


def test_play_runs_and_pause_stops(page):
    _open(page)
    page.click(".abm-reset")
    page.wait_for_function("document.querySelector('.abm-month').innerText.startsWith('Month 0 ')")
    _wait_chart(page, "map")
    page.click(".abm-play")
    changes = page.evaluate(PLAY_WATCH, 3)
    assert len(changes) >= 6  # it plays: about 8 months a second by default
    page.click(".abm-play")  # now labelled Pause
    page.wait_for_selector(".abm-play:has-text('Play')")
    paused = _month(page)
    time.sleep(1.5)
    assert _month(page) == paused >= 6
    gaps = [b - a for a, b in itertools.pairwise(changes)]
    _timings(
        play_months_per_s=round(len(changes) / 3, 1),
        play_gap_ms_median=round(statistics.median(gaps), 1),
        play_gap_ms_p90=round(sorted(gaps)[int(0.9 * len(gaps)) - 1], 1),
    )
    assert page.problems == []


def test_switching_preset_changes_the_outcome(page):
    _open(page)
    page.wait_for_selector(".abm-month")
    _select(page, ".abm-preset", "alpha-beta")
    page.wait_for_function("document.querySelector('.abm-month').innerText.startsWith('Month 0 ')")
    _step_until(page, 24)
    reference = page.inner_text(".abm-kpi-block")
    _select(page, ".abm-preset", "strong-incumbents")
    page.wait_for_selector("text=A market held by strong, reactive incumbents")
    page.wait_for_function("document.querySelector('.abm-month').innerText.startsWith('Month 0 ')")
    _step_until(page, 24)
    strong = page.inner_text(".abm-kpi-block")

    def share(text):
        label = "MARKET SHARE" if "MARKET SHARE" in text else "Market share"
        card = text.split(label)[1].strip()
        if "counted as 0 %" in card.split("LICENCE")[0]:  # the entrant left (or sold): its share counts as 0
            return 0.0
        return float(card.split("%")[0].strip())

    assert share(strong) != share(reference)
    assert share(strong) < share(reference)  # loyal, reactive incumbents hold the entrant back
    _select(page, ".abm-preset", "alpha-beta")
    assert page.problems == []


def test_malformed_scenario_file_shows_its_message_and_the_page_keeps_working(page, tmp_path):
    bad = tmp_path / "broken.toml"
    bad.write_text("[market\nconsumers = 5000\n", encoding="utf-8")
    _open(page)
    page.wait_for_selector(".abm-month")
    page.fill(".abm-scenario-path input", str(bad))
    page.press(".abm-scenario-path input", "Enter")
    page.wait_for_selector(".abm-error", timeout=20_000)
    text = page.inner_text(".abm-error")
    assert "broken.toml was not loaded" in text and "valid TOML" in text
    _shot(page, "simulate-bad-file")
    impossible = tmp_path / "nowhere.toml"
    impossible.write_text('[market]\nhost_country = "BEF"\n[[entrants]]\nhome_country = "ALB"\n', encoding="utf-8")
    page.fill(".abm-scenario-path input", str(impossible))
    page.press(".abm-scenario-path input", "Enter")
    page.wait_for_selector(".abm-error:has-text('nowhere.toml')", timeout=20_000)
    assert "host_country" in page.inner_text(".abm-error")
    before = _month(page)
    page.click(".abm-step")  # the previous run is still there and still steps
    page.wait_for_function(f"document.querySelector('.abm-month').innerText.split(' ')[1] != '{before}'")
    assert page.problems == []


# ---- Compare, Classroom, Results, Mesa -----------------------------------------------------


CHARTS_DRAWN = """async (names) => {
  const cdn = (window.solara && window.solara.cdn) || '/_solara/cdn';
  const echarts = await new Promise((ok, fail) => window.requirejs([cdn + '/echarts@5.4.0/dist/echarts.js'], ok, fail));
  return names.map(name => {
    const chart = echarts.getInstanceByDom(document.querySelector('.abm-chart-' + name));
    return chart ? chart.getOption().series.reduce((n, s) => n + (Array.isArray(s.data) ? s.data.length : 0), 0) : -1;
  });
}"""
"""How many data points each named chart holds as drawn by ECharts (-1: no chart there)."""

COMPARE_CHARTS = ("fan-0", "fan-1", "fan-2", "npv", "paired", "probabilities")


def _compare(pg, runs: int) -> float:
    """Click Run comparison, wait until it is done and its charts are drawn; seconds from the click."""
    t0 = time.perf_counter()
    pg.click(".abm-compare-run")
    pg.wait_for_selector(".abm-progress-text:not(.abm-compare-done)", timeout=30_000)  # progress shows while it runs
    pg.wait_for_selector(".abm-compare-done", timeout=300_000)
    elapsed = time.perf_counter() - t0
    for name in COMPARE_CHARTS:
        _wait_chart(pg, name)
    assert pg.inner_text(".abm-compare-done").startswith(f"{runs} runs in ")
    points = pg.evaluate(CHARTS_DRAWN, list(COMPARE_CHARTS))
    assert min(points) > 0, dict(zip(COMPARE_CHARTS, points, strict=True))
    return elapsed


def test_compare_view_draws_its_charts_click_after_click(page):
    """Three comparisons in a row on the server's warm pool, each drawing all its charts: with the
    workers holding the server's connections, the page's request for the charts' script hung and
    no chart drew (abm.executors._close_inherited_sockets)."""
    _open(page, "/compare")
    page.wait_for_selector(".abm-compare-run", timeout=60_000)
    elapsed = _compare(page, 300)
    table = page.inner_text(".abm-kpi-table")
    assert "P(target share by deadline)" in table and "Joint venture" in table
    done = page.inner_text(".abm-compare-done")
    _timings(
        compare_3x100_s_in_page=round(elapsed, 1), compare_3x100_runs_s=float(done.split(" in ")[1].split(" s")[0])
    )
    _shot(page, "compare")
    for click, replications in ((2, 90), (3, 80)):  # fewer runs each time: new results, not the old charts
        page.locator(".abm-replications [role=slider]").first.focus()
        page.keyboard.press("ArrowLeft")
        page.wait_for_selector(f"text=Replications per variant: {replications}")
        _compare(page, 3 * replications)
        assert f"of {replications} runs" in page.inner_text(".abm-compare")
        _shot(page, f"compare-{click}")
    assert page.problems == []


def test_classroom_predict_then_run(page):
    _open(page, "/classroom")
    page.wait_for_selector(".abm-try-unequal-commitment", timeout=60_000)
    page.click(".abm-try-unequal-commitment button, .abm-try-unequal-commitment")
    page.wait_for_selector("text=Unequal commitment: One partner invests, the other coasts")
    page.click(".abm-predict-target button:has-text('No')")
    page.click(".abm-predict-partnership button:has-text('It breaks down early')")
    page.click(".abm-predict-npv button:has-text('Yes')")
    page.click(".abm-reveal")
    page.wait_for_selector(".abm-reveal-table", timeout=120_000)
    _wait_chart(page, "lesson-fan")
    text = page.inner_text(".abm-reveal-table")
    assert "It breaks down early" in text and "of runs" in text
    why = page.inner_text(".abm-class-debrief")  # the prediction against the distribution, and the main driver
    assert "You said 'It breaks down early'" in why and "of 50 runs" in why, why
    assert "The main driver in " in why and "was the partnership's breakdown (" in why, why
    assert "In a typical such run: The partnership with Beta Tech ended in month " in why, why
    shots = ROOT / "results" / "app-screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    for label, size in (("1280x800", (1280, 800)), ("1920x1080", (1920, 1080))):
        page.set_viewport_size({"width": size[0], "height": size[1]})
        page.evaluate("document.querySelector('.abm-class-debrief').scrollIntoView({block: 'center'})")
        time.sleep(0.5)  # the fan chart follows its box's new size
        page.screenshot(path=str(shots / f"classroom-reveal-{label}.png"))
    page.set_viewport_size({"width": 1440, "height": 1000})
    _shot(page, "classroom")
    assert page.problems == []


def test_results_view_plots_a_sweep(page, tmp_path):
    import abm

    data = {
        "name": "browser-morris",
        "months": 12,
        "design": {"kind": "morris", "samples": 4},
        "master_seed": 5,
        "common_random_numbers": True,
        "fixed": {"consumers": 300},
        "parameters": {"entrants.price": {"min": 18.0, "max": 40.0}, "partner_commitment": {"min": 0.2, "max": 1.0}},
        "analysis": {"outcomes": ["npv", "share_y1"]},
    }
    folder = abm.sweep(data, workers=1, out=RESULTS_ROOT[0] / "morris", progress=False)
    abm.analyze(folder)
    _open(page, "/results")
    page.wait_for_selector(".abm-results .v-select__slot", timeout=60_000)  # chosen from a list, never typed
    _select(page, ".abm-results", "morris")
    page.wait_for_selector(".abm-results-loaded", timeout=30_000)
    _wait_chart(page, "outcome")
    assert page.locator(".abm-chart canvas").count() >= 2  # outcome plot and sensitivity bars
    assert "12 runs, 2 swept parameters" in page.inner_text(".abm-results-loaded")
    _shot(page, "results")
    assert page.problems == []


def test_mesa_solaraviz_page_steps_the_model(page):
    _open(page, "/mesa")
    page.wait_for_selector("img.widget-image >> nth=2", timeout=60_000)  # three Mesa matplotlib plots
    assert "Step: 0" in page.inner_text("body")
    page.get_by_role("button", name="Step", exact=True).click()
    page.wait_for_selector("text=Step: 1")
    _shot(page, "mesa")
    assert page.problems == []


# ---- the server ----------------------------------------------------------------------------


def test_server_binds_127_0_0_1_by_default(server):
    import psutil

    _, pid = server
    listening = [c.laddr for c in psutil.Process(pid).net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
    assert listening and all(addr.ip == "127.0.0.1" for addr in listening)
    port = listening[0].port
    others = {
        a.address
        for addrs in psutil.net_if_addrs().values()
        for a in addrs
        if a.family == socket.AF_INET and not a.address.startswith("127.")
    }
    for ip in others:  # the machine's other addresses do not answer
        with socket.socket() as s, pytest.raises(OSError):
            s.settimeout(2)
            s.connect((ip, port))
