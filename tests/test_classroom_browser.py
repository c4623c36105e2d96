"""The classroom in real browsers: one `abm classroom` server, a teacher and four teams (two
alliances: entrant team and partner team each), each in its own Chromium context, at once.

The tests run in order on shared pages (a lesson is a sequence): teacher's page, a wrong code
refused, teams joining, roles, a forged decision refused, a game of three rounds in which
both sides' decisions change the outcome, a deadline giving the default, a team rejoining,
and the debrief. Screenshots at 1280x800 go to results/classroom/.
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.request
from pathlib import Path

import pytest
from app_server import CHROMIUM, CHROMIUM_ARGS, running_server
from playwright.sync_api import expect

# a loaded CI machine runs other test workers beside this lesson: assertions wait up to 20 s, not 5
expect.set_options(timeout=20_000)

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "results" / "classroom"
TEAMS = {"Red": (0, "Alpha Co."), "Blue": (0, "Beta Tech"), "Green": (1, "Alpha Co."), "Gold": (1, "Beta Tech")}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"needs Debian's Chromium at {CHROMIUM} (apt-get install -y chromium)"
    ),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`abm classroom` on a free port; yields (base URL, teacher key, join code, out folder, log)."""
    tmp = tmp_path_factory.mktemp("classroom")
    log = tmp / "server.log"
    out = tmp / "sessions"
    options = ["--preset", "alpha-beta", "--out", str(out)]
    with running_server("classroom", options, cwd=tmp, log=log, env={**os.environ}, ready="/join", timeout=90) as (
        base,
        _,
    ):
        text = log.read_text()
        key = re.search(r"key=(\S+)", text).group(1)
        code = re.search(r"session (\w+)", text).group(1)
        yield base, key, code, out, log
    text = log.read_text(errors="replace")
    assert "Traceback" not in text, f"the server logged an error:\n{text}"


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    base = server[0]
    outside: list[str] = []
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)

        def new_page():
            ctx = b.new_context(viewport={"width": 1280, "height": 800})

            def only_local(route):
                if route.request.url.startswith(base):
                    route.continue_()
                else:
                    outside.append(route.request.url)
                    route.abort()

            ctx.route("**/*", only_local)
            pg = ctx.new_page()
            pg.problems = []
            pg.on("pageerror", lambda e: pg.problems.append(str(e)))
            return pg

        b.new_page_in_context = new_page
        yield b
        b.close()
    assert outside == [], f"a page asked for something beyond this machine: {outside}"


@pytest.fixture(scope="module")
def pages(browser, server):
    base, key, _code, *_ = server
    teacher = browser.new_page_in_context()
    teacher.goto(f"{base}/teacher#key={key}")
    teams = {name: browser.new_page_in_context() for name in TEAMS}
    return {"teacher": teacher, "teams": teams}


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def join(page, base: str, code: str, name: str, *, prefill: bool = True) -> None:
    page.goto(f"{base}/join?code={code}" if prefill else f"{base}/join")
    page.wait_for_selector("#join-form")
    if not prefill:
        page.fill("#code", code)
    page.fill("#team", name)
    page.click("#join-button")


def test_teacher_page_shows_the_code_the_qr_code_and_the_key(pages, server):
    _base, key, code, *_ = server
    t = pages["teacher"]
    t.wait_for_selector("#qr svg")
    assert t.inner_text("#join-code") == code
    assert t.inner_text("#teacher-key") == key
    assert t.inner_text("#join-url").endswith(f"/join?code={code}")


def test_a_wrong_code_is_refused(pages, server):
    base, _, code, *_ = server
    pg = pages["teams"]["Red"]
    join(pg, base, "ZZZZZZ" if code != "ZZZZZZ" else "YYYYYY", "Red", prefill=False)
    expect(pg.locator("#join-error")).to_contain_text("wrong session code")
    time.sleep(1.2)  # the next poll does not hide the message
    assert "wrong session code" in pg.inner_text("#join-error")
    expect(pages["teacher"].locator("#audit")).to_contain_text("wrong session code")
    assert "Red" not in pages["teacher"].inner_text("#teams")


def test_teams_join_with_the_code(pages, server):
    base, _, code, *_ = server
    for name, pg in pages["teams"].items():
        join(pg, base, code, name, prefill=name != "Gold")
    for name, pg in pages["teams"].items():
        pg.wait_for_selector("text=Wait for the teacher to give your team a role")
        assert name in pg.inner_text("#who")
    t = pages["teacher"]
    expect(t.locator("#teams tr[data-row]")).to_have_count(4)


def test_teacher_sets_the_case_and_assigns_the_roles(pages):
    t = pages["teacher"]
    t.fill("#markets", "2")
    t.fill("#horizon", "36")
    t.fill("#months", "12")
    t.fill("#deadline", "0")
    t.click("#apply-settings")
    expect(t.locator('select[data-team="Red"] option')).to_have_count(5)  # no role, 2 firms x 2 markets
    for name, (market, firm) in TEAMS.items():
        value = f'[{market},"{firm}"]'
        t.select_option(f'select[data-team="{name}"]', value)
        expect(t.locator(f'select[data-team="{name}"]')).to_have_value(value)
    for name, pg in pages["teams"].items():
        market, firm = TEAMS[name]
        pg.wait_for_selector(f"text=You play {firm}")
        assert f"market {market + 1}" in pg.inner_text("#who")
    assert not pages["teacher"].problems


def _decision(pg, timeout: float = 8.0):
    """The buttons of the team's open decision, or None."""
    try:
        pg.wait_for_selector("#decision button[data-choice]", timeout=timeout * 1000)
    except Exception:
        return None
    return pg.query_selector_all("#decision button[data-choice]")


def decide(pg, prefer: str | None = None) -> str:
    buttons = _decision(pg)
    assert buttons, "no decision open"
    names = {b.get_attribute("data-choice"): b for b in buttons}
    if prefer not in names:
        prefer = max(names, key=lambda n: float(names[n].get_attribute("data-value")))
    names[prefer].click()
    names[prefer].wait_for_element_state("hidden")  # the page re-rendered with the answer
    assert pg.inner_text("#error") == "", pg.inner_text("#error")
    return prefer


def post(base: str, path: str, token: str, body: dict) -> tuple[int, dict]:
    import json
    import urllib.error

    req = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "X-Team-Token": token},
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_the_game_starts_and_a_forged_decision_for_another_team_is_refused(pages, server):
    base = server[0]
    t = pages["teacher"]
    t.click("#start")
    red = pages["teams"]["Red"]
    assert _decision(red) is not None
    shot(red, "team-entrant-decision")
    stored = red.context.storage_state()["origins"][0]["localStorage"]
    token = next(item["value"] for item in stored if item["name"] == "abm-classroom-team-token")
    status, answer = post(
        base, "/api/team/decide", token, {"market": 1, "firm": "Alpha Co.", "seq": 0, "choice": "alone"}
    )
    assert status == 403 and "forged" in answer["error"]
    expect(t.locator("#audit")).to_contain_text("forged decision")
    green = pages["teams"]["Green"]
    assert _decision(green) is not None  # Green's decision is still open: nothing was taken for it


def play_round(pages, prefs: dict[str, str | None], skip: tuple[str, ...] = ()) -> None:
    """Each team (but ``skip``) answers its decisions until the teacher's round is done."""
    t = pages["teacher"]
    deadline = time.monotonic() + 120
    while "waiting for" in t.inner_text("#status"):
        progressed = False
        for name, pg in pages["teams"].items():
            if name in skip:
                continue
            if _decision(pg, timeout=0.3):
                decide(pg, prefs.get(name))
                progressed = True
        if not progressed:
            time.sleep(0.5)
        assert time.monotonic() < deadline, "the round did not close"


def test_round_one_both_sides_decide_and_their_choices_differ_from_the_defaults(pages):
    play_round(pages, {"Red": "alliance", "Blue": "cut"})
    t = pages["teacher"]
    t.wait_for_selector("text=round done")
    shot(t, "teacher-dashboard")
    shot(pages["teams"]["Blue"], "team-partner-view")
    taken = pages["teams"]["Red"].inner_text("#game")
    assert "alliance" in taken
    assert "cut" in pages["teams"]["Blue"].inner_text("#game")


def test_a_team_that_closes_its_browser_rejoins_with_code_and_name_and_finds_its_state(pages, browser, server):
    base, _, code, *_ = server
    old = pages["teams"]["Blue"]
    before = old.inner_text("#who")
    old.context.close()
    fresh = browser.new_page_in_context()
    join(fresh, base, code, "blue")  # the name in another case finds the same team
    fresh.wait_for_selector("text=Your decisions")
    assert fresh.inner_text("#who") == before
    assert "cut" in fresh.inner_text("#game")
    pages["teams"]["Blue"] = fresh
    expect(pages["teacher"].locator("#teams")).to_contain_text("rejoined 1")


def test_a_deadline_passing_gives_the_undecided_team_its_default(pages):
    t = pages["teacher"]
    t.fill("#deadline", "3")
    t.click("#apply-settings")
    t.click("#next")
    # Green and Gold do not decide in this round: at each deadline the default policy decides
    play_round(pages, {"Red": None, "Blue": "cut"}, skip=("Green", "Gold"))
    expect(t.locator('#teams tr[data-row="Green"] td').nth(7)).not_to_have_text("0", timeout=30_000)
    assert "default policy" in t.inner_text("#audit")
    green = pages["teams"]["Green"]
    green.wait_for_selector("text=deadline: default policy")
    shot(green, "team-entrant-view")


def test_the_game_ends_and_the_debrief_shows_how_decisions_changed_the_outcomes(pages, server):
    t = pages["teacher"]
    t.fill("#deadline", "0")
    t.click("#apply-settings")
    for _ in range(8):
        if "finished" in t.inner_text("#clock"):
            break
        if "waiting for" in t.inner_text("#status"):
            t.click("#defaults")
            expect(t.locator("#status")).not_to_contain_text("waiting for", timeout=20_000)
            continue
        expect(t.locator("#next")).to_be_enabled(timeout=20_000)
        before = t.inner_text("#clock")
        t.click("#next")
        expect(t.locator("#clock")).not_to_have_text(before, timeout=20_000)
    t.wait_for_selector("#league", timeout=30_000)
    league = t.inner_text("#league")
    for name in TEAMS:
        assert name in league
    npv = {name: t.locator(f"#league tr:has(td:text-is('{name}')) td").nth(4).inner_text() for name in TEAMS}
    assert npv["Red"] != npv["Green"] and npv["Blue"] != npv["Gold"]  # same market and seed, other decisions
    assert len(t.query_selector_all("[data-partnership] svg")) >= 4  # trust and commitment, both markets
    changed = t.inner_text("#debrief")
    assert "where the default policy would have chosen" in changed
    t.set_viewport_size({"width": 1280, "height": 800})
    t.query_selector("#league").scroll_into_view_if_needed()
    shot(t, "teacher-debrief")
    SHOTS.mkdir(parents=True, exist_ok=True)
    t.screenshot(path=str(SHOTS / "teacher-debrief-full.png"), full_page=True)
    blue = pages["teams"]["Blue"]
    blue.wait_for_selector("#team-debrief", timeout=10_000)
    assert "under the default policies" in blue.inner_text("#team-debrief")
    shot(blue, "team-debrief")
    for pg in [t, *pages["teams"].values()]:
        assert not pg.problems, pg.problems
    _the_finished_session_was_saved_as_parquet_with_its_scenario(server)


def _the_finished_session_was_saved_as_parquet_with_its_scenario(server):
    """Called at the end of the debrief test: under xdist a test of its own may get a fresh server."""
    base, key, _, out, _ = server
    deadline = time.monotonic() + 120  # saved after the debrief, off the request's path (slow on a loaded machine)

    def saved():
        return [f for f in out.iterdir() if not f.name.startswith(".")] if out.exists() else []

    while not saved() and time.monotonic() < deadline:
        time.sleep(0.5)
    if not saved():  # say why: the session's log has a line when the debrief or the save failed
        request = urllib.request.Request(base + "/api/teacher/state", headers={"X-Teacher-Key": key})
        with urllib.request.urlopen(request, timeout=10) as r:
            state = json.loads(r.read())
        pytest.fail(f"no session saved in 120 s; phase {state.get('phase')!r}, log: {str(state.get('log'))[-1500:]}")
    folders = saved()
    assert len(folders) == 1 and not [f for f in out.iterdir() if f.name.startswith(".")]  # nothing half-written
    names = {p.name for p in folders[0].iterdir()}
    assert {"scenario.toml", "decisions.parquet", "steps.parquet", "session.json"} <= names
    import pandas as pd

    decisions = pd.read_parquet(folders[0] / "decisions.parquet")
    assert {"player", "deadline"} <= set(decisions.by)
    assert set(decisions.who) >= set(TEAMS)
