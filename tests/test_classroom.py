"""The classroom's session logic, without a browser: games played by people, sessions of teams,
the server's refusals (Starlette's test client), saving and reopening, the CLI's bad input."""

from __future__ import annotations

import re
import subprocess
import sys

import pandas as pd
import pytest

from abm import limits
from abm.classroom import game as g
from abm.classroom.session import ClassSession, SessionError
from abm.errors import InputError

SMALL = {"market.consumers": 1500}


def small(preset: str = "alpha-beta", months: int = 48):
    from abm.presets import load

    return load(preset).with_overrides({**SMALL, "months": months})


def play(game: g.MarketGame, pick, months_per_round: int = 12) -> None:
    while not game.finished:
        d = game.advance(game.month + months_per_round)
        while d is not None:
            d = game.decide(pick(d, game))


def contrarian(d, game):
    return min(d.options, key=lambda o: o.value).name


def default(d, game):
    return game.default_choice()


# ---- a game ---------------------------------------------------------------------------------


def test_a_game_on_its_defaults_is_the_default_run_and_rounds_change_nothing():
    case = small()
    a = g.MarketGame(case, 4, ["Alpha Co.", "Beta Tech"])
    play(a, default, 12)
    b = g.MarketGame(case, 4, ["Alpha Co.", "Beta Tech"])
    play(b, default, 7)
    ref, _ = g.default_run(a.case, 4)
    assert {t.kind for t in a.log} >= {"mode_choice", "commitment"}  # both sides decided
    assert g.frames_equal(a.result(), ref) and g.frames_equal(b.result(), ref)
    a.close()
    b.close()


def test_same_case_seed_and_choices_give_identical_output_and_a_replay_reproduces_it():
    case = small()
    runs = []
    for _ in range(2):
        game = g.MarketGame(case, 2, ["Alpha Co.", "Beta Tech"])
        play(game, contrarian)
        runs.append(game)
    a, b = runs
    assert [t.as_dict() for t in a.log] == [t.as_dict() for t in b.log]
    assert g.frames_equal(a.result(), b.result())
    again = g.replay(a.case, a.seed, a.players, [t.choice for t in a.log])
    assert g.frames_equal(a.result(), again)
    ref, _ = g.default_run(a.case, 2)
    assert not g.frames_equal(a.result(), ref)  # the people's choices changed the run
    for game in runs:
        game.close()


def test_each_side_sees_only_what_its_firm_knows():
    game = g.MarketGame(small(), 1, ["Alpha Co.", "Beta Tech"])
    d = game.advance(12)
    while d is not None and game.month < 6:
        d = game.decide(game.default_choice())
    m = game.model
    p = m.partnerships[0]
    e_view, p_view = game.view("Alpha Co."), game.view("Beta Tech")
    assert e_view["trust"] == pytest.approx(p.trust_entrant, abs=1e-4)
    assert p_view["trust"] == pytest.approx(p.trust_partner, abs=1e-4)
    assert e_view["other_delivered"] == pytest.approx(p.delivered_partner, abs=1e-4)
    assert p_view["other_delivered"] == pytest.approx(p.delivered_entrant, abs=1e-4)
    assert "trust_partner" not in str(e_view) and "trust_entrant" not in str(p_view)
    pending = game.pending
    assert pending is not None
    mine, other = (e_view, p_view) if pending.firm == "Alpha Co." else (p_view, e_view)
    assert mine["decision"]["options"] and other["decision"] is None
    with pytest.raises(InputError):
        game.view("Nobody Ltd")
    game.close()


def test_texts_keep_only_the_readers_own_belief_and_drop_the_other_firms_valuations():
    review = "review: share 9.0%, trust 0.75/0.77, worth 35m to Alpha Co. going on: the JV goes on"
    assert (
        g.private_text(review, "entrant", True)
        == "review: share 9.0%, trust 0.75, worth 35m to Alpha Co. going on: the JV goes on"
    )
    assert g.private_text(review, "partner", False) == "review: share 9.0%, trust 0.77: the JV goes on"
    cut = "Beta Tech cuts its commitment to 40% of its promise (worth 3.6m to it against 4.9m holding)"
    assert g.private_text(cut, "entrant", False) == "Beta Tech cuts its commitment to 40% of its promise"
    assert g.private_text(cut, "partner", True) == cut
    game = g.MarketGame(small(), 1, ["Alpha Co.", "Beta Tech"])
    play(game, default, 12)
    both = re.compile(r"trust \d\.\d+/\d\.\d+")
    for firm in ("Alpha Co.", "Beta Tech"):
        texts = [e["text"] for e in game.view(firm)["events"]]
        assert not any(both.search(t) for t in texts)
    game.close()


def test_a_view_is_rebuilt_after_every_move_and_a_callers_changes_do_not_stick():
    game = g.MarketGame(small(), 1, ["Alpha Co."])
    game.advance(12)
    first = game.view("Alpha Co.")
    first["decision"]["seq"] = 99
    again = game.view("Alpha Co.")
    assert "seq" not in again["decision"] and again["month"] == first["month"]
    game.decide(game.default_choice())
    after = game.view("Alpha Co.")
    assert len(after["taken"]) == 1 and after["month"] > first["month"]
    game.close()


def test_a_choice_not_offered_is_refused_and_the_decision_stays_pending():
    game = g.MarketGame(small(), 1, ["Alpha Co."])
    d = game.advance(12)
    with pytest.raises(InputError):
        game.decide("fly_away")
    assert game.pending is d and game.log == []
    game.close()


def test_divergence_names_the_first_choice_that_left_the_default_path():
    game = g.MarketGame(small(), 1, ["Alpha Co."])
    play(game, contrarian)
    _, recs = g.default_run(game.case, 1)
    first = next(t for t in game.log if t.choice != t.default)
    text = g.divergence(game.log, recs, "Alpha Co.")
    assert f"Month {first.month}" in text and repr(first.choice) in text and repr(first.default) in text
    game.close()


# ---- a session ------------------------------------------------------------------------------


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def four_teams(clock=None, deadline=0) -> tuple[ClassSession, dict[str, str]]:
    s = ClassSession(small(), label="test", clock=clock or Clock())
    s.configure({"markets": 2, "months_per_round": 12, "deadline_s": deadline})
    tokens = {name: s.join(s.code, name)[0].token for name in ("Red", "Blue", "Green", "Gold")}
    s.assign("Red", 0, "Alpha Co.")
    s.assign("Blue", 0, "Beta Tech")
    s.assign("Green", 1, "Alpha Co.")
    s.assign("Gold", 1, "Beta Tech")
    return s, tokens


def finish(s: ClassSession, tokens: dict[str, str], picks: dict[str, str] | None = None) -> None:
    """Play to the end: each team takes its option called picks[team] when offered, else the
    option of highest value."""
    picks = picks or {}
    while s.phase == "playing":
        while s.round_open():
            for name, tok in tokens.items():
                st = s.team_state(tok)
                d = st.get("view", {}).get("decision")
                if d:
                    names = [o["name"] for o in d["options"]]
                    choice = (
                        picks.get(name)
                        if picks.get(name) in names
                        else max(d["options"], key=lambda o: o["value"])["name"]
                    )
                    s.decide(
                        tok,
                        {"market": st["seat"]["market"], "firm": st["seat"]["firm"], "seq": d["seq"], "choice": choice},
                    )
        if s.phase == "playing":
            s.next_round(s.round + 1)


def test_join_needs_the_code_and_a_clean_name_and_a_rejoin_finds_the_same_team():
    s = ClassSession(small())
    with pytest.raises(SessionError) as err:
        s.join("WRONG1", "Red")
    assert err.value.status == 403
    for bad in ("", "x" * (limits.CLASSROOM_MAX_NAME_CHARS + 1), "<script>", 42):
        with pytest.raises(SessionError):
            s.join(s.code, bad)
    team, again = s.join(s.code.lower(), "Red Team")
    assert not again
    same, again = s.join(s.code, "  red   team ")
    assert again and same.token == team.token and len(s.teams) == 1
    assert any(not a["ok"] and "wrong session code" in a["what"] for a in s.audit)


def test_a_forged_decision_for_another_teams_firm_is_refused_logged_and_changes_nothing():
    s, tok = four_teams()
    s.start()
    before = [(len(m.log), m.pending) for m in s.markets]
    red = s.team_state(tok["Red"])
    seq = red["view"]["decision"]["seq"]
    for forged in (
        {"market": 1, "firm": "Alpha Co.", "seq": seq, "choice": "alone"},  # Green's firm
        {"market": 0, "firm": "Beta Tech", "seq": seq, "choice": "hold"},  # Blue's firm
    ):
        with pytest.raises(SessionError) as err:
            s.decide(tok["Red"], forged)
        assert err.value.status == 403
    assert [(len(m.log), m.pending) for m in s.markets] == before
    assert sum("forged" in a["what"] and not a["ok"] for a in s.audit) == 2


def test_malformed_and_replayed_messages_are_refused_without_disturbing_the_session():
    s, tok = four_teams()
    s.start()
    st = s.team_state(tok["Red"])
    d = st["view"]["decision"]
    good = {"market": 0, "firm": "Alpha Co.", "seq": d["seq"], "choice": "alliance"}
    for bad, status in (
        ([1, 2], 400),
        ({**good, "extra": 1}, 400),
        ({**good, "seq": "0"}, 400),
        ({**good, "market": True}, 400),
        ({**good, "choice": "x" * 500}, 400),
        ({**good, "choice": "fly"}, 400),
        ({**good, "seq": d["seq"] + 5}, 409),
    ):
        with pytest.raises(SessionError) as err:
            s.decide(tok["Red"], bad)
        assert err.value.status == status
    with pytest.raises(SessionError) as err:
        s.decide("made-up-token", good)
    assert err.value.status == 401
    assert s.markets[0].log == []
    s.decide(tok["Red"], good)
    with pytest.raises(SessionError) as err:  # the same message again
        s.decide(tok["Red"], good)
    assert err.value.status == 409 and len(s.markets[0].log) == 1
    with pytest.raises(SessionError):
        s.next_round(s.round)  # a stale round number


def test_an_undecided_team_gets_the_default_policys_choice_at_the_deadline_logged_as_such():
    clock = Clock()
    s, tok = four_teams(clock, deadline=30)
    s.start()
    d = s.team_state(tok["Green"])["view"]["decision"]
    assert d["deadline_left"] == 30
    clock.t = 29.0
    assert s.tick() == 0
    clock.t = 30.5
    assert s.tick() >= 1
    taken = s.markets[1].log[0]
    assert taken.by == "deadline" and taken.who == "Green" and taken.choice == taken.default
    assert any("deadline" in a["what"] and a["who"] == "Green" for a in s.audit)
    state = s.teacher_state()
    green = next(r for r in state["teams"] if r["team"] == "Green")
    assert green["defaults"] >= 1


def test_decisions_of_each_side_change_the_outcome_and_the_debrief_tells_it():
    s, tok = four_teams()
    s.start()
    finish(s, tok, {"Blue": "cut", "Red": "alliance"})  # market 1: the partner cuts; market 2 on values
    assert s.phase == "finished"
    db = s.debrief()
    league = {r["team"]: r for r in db["league"]}
    assert set(league) == {"Red", "Blue", "Green", "Gold"}
    assert league["Blue"]["npv"] != league["Gold"]["npv"]
    assert league["Red"]["entry_mode"] == "alliance" and league["Green"]["entry_mode"] == "joint_venture"
    assert "'cut'" in db["teams"]["Blue"]["divergence"] or "'alliance'" in db["teams"]["Red"]["divergence"]
    assert "the same as under the default" in db["teams"]["Green"]["compare"]
    p = db["markets"][0]["partnerships"][0]
    assert p["teams"] == ["Red", "Blue"] and len(p["played"]["trust_partner"]) == len(p["default"]["trust_partner"])
    assert p["story"]


def test_a_session_saved_and_reopened_replays_to_the_same_state(tmp_path):
    s, tok = four_teams()
    s.start()
    finish(s, tok, {"Blue": "cut"})
    folder = s.save(tmp_path)
    names = {p.name for p in folder.iterdir()}
    assert {"scenario.toml", "session.json", "decisions.parquet", "steps.parquet", "events.parquet"} <= names
    decisions = pd.read_parquet(folder / "decisions.parquet")
    assert set(decisions.by) <= {"player", "deadline"} and set(decisions.market) == {0, 1}
    back = ClassSession.open(folder)
    assert back.phase == "finished"
    assert [r["npv"] for r in back.debrief()["league"]] == [r["npv"] for r in s.debrief()["league"]]
    # a half-played session reopens where it stopped
    s2, _ = four_teams()
    s2.start()
    s2.apply_defaults()
    s2.next_round(2)
    half = s2.save(tmp_path / "half")
    again = ClassSession.open(half)
    assert again.phase == "playing" and again.round == 2
    assert [m.month for m in again.markets] == [m.month for m in s2.markets]


def test_a_damaged_saved_session_is_refused_with_one_clear_error(tmp_path):
    s, tok = four_teams()
    s.start()
    finish(s, tok)
    folder = s.save(tmp_path)
    (folder / "session.json").write_text('{"case": "x"}')
    with pytest.raises(InputError) as err:
        ClassSession.open(folder)
    assert err.value.field == "--open"
    folder = s.save(tmp_path / "again")
    steps = pd.read_parquet(folder / "steps.parquet")
    steps.loc[5, "market_share"] += 0.01  # results that the decisions do not give
    steps.to_parquet(folder / "steps.parquet")
    with pytest.raises(InputError, match="replay"):
        ClassSession.open(folder)


def test_two_sessions_with_the_same_decisions_save_identical_frames(tmp_path):
    frames = []
    for k in range(2):
        s, tok = four_teams()
        s.start()
        finish(s, tok, {"Red": "alliance", "Gold": "cut"})
        folder = s.save(tmp_path / str(k))
        frames.append({n: pd.read_parquet(folder / f"{n}.parquet") for n in ("steps", "events", "decisions")})
    for name in ("steps", "events"):
        pd.testing.assert_frame_equal(frames[0][name], frames[1][name])
    cols = ["seq", "month", "firm", "kind", "choice", "by", "default", "options", "who", "market"]
    pd.testing.assert_frame_equal(frames[0]["decisions"][cols], frames[1]["decisions"][cols])


def test_teacher_settings_are_bounded_and_locked_once_the_game_starts():
    s, _ = four_teams()
    for bad in ({"markets": 0}, {"months_per_round": 10_000}, {"deadline_s": -1}, {"nonsense": 1}, {"markets": "2"}):
        with pytest.raises(SessionError):
            s.configure(bad)
    with pytest.raises(SessionError):
        s.assign("Red", 0, "Gamma Retail")
    with pytest.raises(SessionError):
        s.assign("Blue", 0, "Alpha Co.")  # Red sits there
    with pytest.raises(SessionError):
        s.set_preset("../../etc/passwd")
    with pytest.raises(SessionError):
        s.set_case_text("months = [", "bad.toml")
    s.start()
    with pytest.raises(SessionError):
        s.configure({"markets": 3})
    with pytest.raises(SessionError):
        s.assign("Red", 1, "Beta Tech")
    s.configure({"deadline_s": 20})  # the pace can change during the game
    assert s.settings.deadline_s == 20


# ---- the server -----------------------------------------------------------------------------


class Client:
    """The classroom app served by uvicorn in a thread on a free port; plain urllib requests."""

    def __init__(self, base: str, session: ClassSession):
        self.base, self.session = base, session

    def request(self, method: str, path: str, *, json_body=None, content: bytes | None = None, headers=None):
        import json
        import urllib.error
        import urllib.request

        headers = dict(headers or {})
        data = content
        if json_body is not None:
            data = json.dumps(json_body).encode()
            headers.setdefault("Content-Type", "application/json")
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return Reply(r.status, r.read(), dict(r.headers))
        except urllib.error.HTTPError as e:
            return Reply(e.code, e.read(), dict(e.headers))

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)


class Reply:
    def __init__(self, status, body, headers):
        self.status_code, self.body, self.headers = status, body, {k.lower(): v for k, v in headers.items()}

    def json(self):
        import json

        return json.loads(self.body)


@pytest.fixture
def client():
    import threading
    import time

    import uvicorn
    from app_server import free_port

    from abm.classroom.server import create_app

    s = ClassSession(small())
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(s), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield Client(f"http://127.0.0.1:{port}", s)
    server.should_exit = True
    thread.join(timeout=10)


def test_server_refuses_without_the_teacher_key_and_never_serves_other_files(client):
    s = client.session
    assert client.get("/api/teacher/state").status_code == 403
    r = client.get("/api/teacher/state", headers={"X-Teacher-Key": s.teacher_key})
    assert r.status_code == 200 and r.json()["code"] == s.code
    for path in ("/static/../session.py", "/static/session.py", "/static/%2e%2e/session.py", "/etc/passwd"):
        assert client.get(path).status_code == 404
    page = client.get("/join")
    assert page.status_code == 200 and "default-src 'self'" in page.headers["content-security-policy"]
    qr = client.get("/api/teacher/qr", headers={"X-Teacher-Key": s.teacher_key}).json()
    assert qr["svg"].startswith("<svg") and qr["url"].endswith(f"/join?code={s.code}")


def test_server_refuses_oversized_malformed_and_non_json_bodies(client):
    s = client.session
    big = "x" * (limits.CLASSROOM_MAX_BODY_BYTES + 10)
    assert client.post("/api/join", json_body={"code": s.code, "team": big}).status_code == 413
    bad = client.post("/api/join", content=b"{not json", headers={"Content-Type": "application/json"})
    assert bad.status_code == 400 and bad.json() == {"error": "malformed JSON"}
    assert client.post("/api/join", content=b"code=A", headers={"Content-Type": "text/plain"}).status_code == 415
    assert client.post("/api/join", json_body={"code": s.code}).status_code == 400
    r = client.post("/api/join", json_body={"code": s.code, "team": "Red"})
    assert r.status_code == 200 and len(s.teams) == 1
    tok = r.json()["token"]
    assert client.get("/api/team/state", headers={"X-Team-Token": tok}).json()["team"] == "Red"
    assert client.get("/api/team/state", headers={"X-Team-Token": "nope"}).status_code == 401


def test_the_teacher_uploads_a_scenario_as_text_and_nothing_is_read_from_a_path(client):
    from abm.presets import load

    s = client.session
    key = {"X-Teacher-Key": s.teacher_key}
    text = load("two-entrants").with_overrides({"market.consumers": 2000}).to_toml()
    r = client.post("/api/teacher/case", json_body={"toml": text, "filename": "mine.toml"}, headers=key)
    assert r.status_code == 200 and "two-entrants" in r.json()["case"]
    assert [x["firm"] for x in s.seats()][:2] == ["Alpha Co.", "Hanil Electronics"]
    too_big = {"toml": "x" * (limits.CLASSROOM_MAX_UPLOAD_BYTES + 1), "filename": "big.toml"}
    assert client.post("/api/teacher/case", json_body=too_big, headers=key).status_code == 413
    huge = load("alpha-beta").with_overrides({"market.consumers": limits.CLASSROOM_MAX_CONSUMERS + 1}).to_toml()
    r = client.post("/api/teacher/case", json_body={"toml": huge, "filename": "huge.toml"}, headers=key)
    assert r.status_code == 400 and "market.consumers" in r.json()["error"]
    r = client.post("/api/teacher/case", json_body={"preset": "/etc/passwd"}, headers=key)
    assert r.status_code == 400 and "two-entrants" in s.case_label  # unchanged


def test_rate_limit_counts_each_client_apart():
    from abm.classroom.server import RateLimit

    limiter = RateLimit(per_minute=5)
    assert all(limiter.allow("a") for _ in range(5)) and not limiter.allow("a") and limiter.allow("b")


# ---- the command line -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, field",
    [
        (["--preset", "nope"], "--preset"),
        (["--scenario", "/no/such/file.toml"], "--scenario"),
        (["--port", "99999"], "--port"),
        (["--open", "/no/such/folder"], "--open"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(args, field):
    proc = subprocess.run(
        [sys.executable, "-m", "abm.cli", "classroom", *args], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2, proc.stderr
    assert field in proc.stderr and "Traceback" not in proc.stderr
