"""Play the firm (one player) in the app's Simulate and Classroom views, in headless Chromium:
the run pauses at the played firm's decisions, the options show the firm's values and their
spread, a deadline gives the default, and the end shows the player's path beside the default
policy's with a debrief. Screenshots at 1280x800 go to results/classroom/."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from app_server import CHROMIUM, CHROMIUM_ARGS, running_app

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "results" / "classroom"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"needs Debian's Chromium at {CHROMIUM} (apt-get install -y chromium)"
    ),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    log = tmp_path_factory.mktemp("play") / "app.log"
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}
    with running_app([], cwd=ROOT, log=log, env=env) as (base, _pid):
        yield base
    text = log.read_text(errors="replace")
    assert "Traceback" not in text, f"the server logged an error:\n{text}"


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    pg = ctx.new_page()
    pg.problems = []
    pg.on("pageerror", lambda e: pg.problems.append(str(e)))
    yield pg
    assert not pg.problems, pg.problems
    ctx.close()


def open_panel(pg, url: str, firm: str | None = None, deadline: int = 0) -> None:
    pg.goto(url)
    pg.wait_for_selector("text=Play the firm", timeout=60_000)
    pg.click("text=Play the firm")
    if firm is not None:
        pg.click(".abm-play-firm-simulate")
        pg.click(f"div.v-list-item:has-text('{firm}')")
    if deadline:
        field = pg.locator(".abm-play-deadline input")
        field.fill(str(deadline))
        field.press("Enter")
    pg.click(".abm-play-start")


def play(pg, prefer: dict[str, str], limit: int = 80) -> list[str]:
    """Answer every decision: the option named in ``prefer`` (by the decision's heading words)
    when offered, else the default policy's. Returns the headings seen."""
    seen = []
    for _ in range(limit):
        pg.wait_for_selector(".abm-play-option, .abm-play-summary", timeout=30_000)
        if pg.locator(".abm-play-summary").count():
            return seen
        heading = pg.locator("h4").last.inner_text()
        seen.append(heading)
        wanted = next((opt for words, opt in prefer.items() if words in heading.lower()), None)
        button = pg.locator(f".abm-play-option-{wanted}") if wanted else None
        before = heading
        try:
            if button is not None and button.count():
                button.click(timeout=5000)
            else:
                pg.locator(".abm-play-default").click(timeout=5000)
        except Exception:
            continue  # the panel re-rendered under the pointer: look again
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and pg.locator("h4").last.inner_text() == before:
            if pg.locator(".abm-play-summary").count():
                return seen
            time.sleep(0.1)
    raise AssertionError("the game did not end")


def test_simulate_an_entrant_plays_and_the_end_shows_its_path_beside_the_default(page, server):
    open_panel(page, server + "/")
    page.wait_for_selector(".abm-play-option-alliance", timeout=30_000)
    assert "±" in page.locator(".abm-play-option-alliance").inner_text()
    assert "Month 0" in page.locator("h4").last.inner_text()
    page.locator(".abm-play-default").scroll_into_view_if_needed()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "play-simulate-decision.png"))
    play(page, {"how to enter": "alliance"})
    summary = page.inner_text(".abm-play-summary")
    assert "alliance" in summary and "joint_venture" in summary  # the player's mode and the default's
    assert "'alliance'" in page.inner_text(".abm-play-divergence")
    assert "under the default policies" in page.inner_text(".abm-play-compare")
    assert page.locator(".abm-play-charts svg").count() == 2
    page.locator(".abm-play-summary").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "play-simulate-end.png"))


def test_simulate_the_partner_cuts_its_commitment_and_the_outcome_differs(page, server):
    open_panel(page, server + "/", firm="Beta Tech")
    seen = play(page, {"commit": "cut"})
    assert any("commit" in h.lower() for h in seen)
    text = page.inner_text(".abm-play-divergence")
    assert "'cut'" in text and "'hold'" in text
    assert "NPV" in page.inner_text(".abm-play-compare")


def test_a_deadline_passing_gives_the_default_policys_choice(page, server):
    open_panel(page, server + "/", deadline=2)
    page.wait_for_selector(".abm-play-option", timeout=30_000)
    page.wait_for_selector(".abm-play-problem:has-text('deadline passed')", timeout=20_000)
    assert "Month 0" not in page.locator("h4").last.inner_text() or page.locator(".abm-play-summary").count()


def test_classroom_view_has_the_panel_and_starts_a_game(page, server):
    open_panel(page, server + "/classroom")
    page.wait_for_selector(".abm-play-option", timeout=30_000)
    assert "±" in page.locator(".abm-play-option").first.inner_text()
