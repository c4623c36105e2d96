"""A class session: teams, roles, markets, rounds, deadlines, the debrief, saving and reopening.

No web code: :mod:`abm.classroom.server` maps requests onto these methods, and the unit tests
call them directly. Every method that a request reaches checks its input and raises
:class:`SessionError` (a refusal with an HTTP status) before it changes anything.

The markets are copies of one case on one seed (``markets``); each seat is a firm of one
market. Two teams in the same market as entrant and partner play the alliance's trust game;
several entrant teams in one market (a case with several entrants) compete for the same
partners. A firm nobody plays keeps its default policy.
"""

from __future__ import annotations

import collections
import json
import logging
import os
import re
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from abm import limits, presets
from abm.classroom import game as g
from abm.errors import InputError
from abm.folders import partial_dir
from abm.scenario import Scenario

log = logging.getLogger("abm.classroom")

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
NAME_RE = re.compile(r"^[\w][\w \-.']*$", re.UNICODE)


class SessionError(Exception):
    """A refused request: ``status`` is the HTTP status, the message says why."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Team:
    name: str
    token: str
    joined: float
    seat: tuple[int, str] | None = None  # (market index, firm name)
    last_seen: float = 0.0
    rejoins: int = 0


@dataclass
class Settings:
    months_per_round: int = 12
    deadline_s: int = 0  # 0: no deadline
    markets: int = 1
    choose_entry: bool = True
    seed: int = 1
    horizon: int = 0  # months played; 0: the case's own horizon


@dataclass
class Pending:
    seq: int
    since: float


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))


def check_case(scenario: Scenario) -> Scenario:
    """A case the classroom can play: within the classroom's limits on size."""
    if scenario.market.consumers > limits.CLASSROOM_MAX_CONSUMERS:
        raise InputError(
            "market.consumers",
            scenario.market.consumers,
            f"at most {limits.CLASSROOM_MAX_CONSUMERS:,} in the classroom",
        )
    if scenario.months > limits.CLASSROOM_MAX_MONTHS:
        raise InputError("months", scenario.months, f"at most {limits.CLASSROOM_MAX_MONTHS} in the classroom")
    if not scenario.entrants:
        raise InputError("entrants", "[]", "at least one entrant")
    return scenario


class ClassSession:
    """One lesson. ``clock`` (seconds, monotonic) is injectable for tests of the deadlines."""

    def __init__(
        self,
        scenario: Scenario | str = presets.DEFAULT,
        *,
        label: str = "",
        seed: int = 1,
        out_dir: Path | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.code = new_code()
        self.teacher_key = secrets.token_urlsafe(18)
        self.clock = clock
        self.settings = Settings(seed=int(seed))
        self.lock = threading.RLock()
        self.teams: dict[str, Team] = {}  # by lower-case name
        self.by_token: dict[str, Team] = {}
        self.phase = "lobby"  # lobby | playing | finished
        self.round = 0
        self.markets: list[g.MarketGame] = []
        self.pending: dict[int, Pending] = {}
        self.audit: collections.deque[dict[str, Any]] = collections.deque(maxlen=limits.CLASSROOM_MAX_AUDIT_ROWS)
        self.out_dir = out_dir
        self.join_base = ""  # the students' base URL for the QR code; "" = as the teacher's browser sees it
        self.saved_to: Path | None = None
        self.started = datetime.now(UTC)
        self._debrief: dict[str, Any] | None = None
        self._debrief_lock = threading.Lock()
        self._finishing: Future | None = None
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="abm-classroom")
        self.version = 0  # bumped on every change the pages show
        if isinstance(scenario, str):
            self.set_preset(scenario)
        else:
            self.set_case(scenario, label or scenario.name)

    # ---- audit ---------------------------------------------------------------------------

    def note(self, who: str, what: str, ok: bool = True) -> None:
        row = {"time": datetime.now(UTC).strftime("%H:%M:%S"), "who": who, "what": what, "ok": ok}
        self.audit.append(row)
        self.version += 1  # the teacher's page shows the log
        (log.info if ok else log.warning)("classroom %s: %s: %s", "ok" if ok else "REFUSED", who, what)

    def refuse(self, status: int, who: str, message: str) -> SessionError:
        self.note(who, message, ok=False)
        return SessionError(status, message)

    # ---- the case and the settings (teacher, lobby only) ---------------------------------

    def _lobby(self, what: str) -> None:
        if self.phase != "lobby":
            raise self.refuse(409, "teacher", f"{what} only before the game starts")

    def set_preset(self, name: Any) -> None:
        if not isinstance(name, str) or name not in presets.names():
            raise SessionError(400, f"case: {str(name)[:40]!r} is not a preset; one of {', '.join(presets.names())}")
        self.set_case(presets.load(name), name)

    def set_case_text(self, text: str, filename: str = "upload") -> None:
        """A scenario the teacher uploaded (TOML text, parsed in memory; nothing is written)."""
        if len(text.encode("utf-8", "replace")) > limits.CLASSROOM_MAX_UPLOAD_BYTES:
            raise SessionError(413, f"scenario file: at most {limits.CLASSROOM_MAX_UPLOAD_BYTES:,} bytes")
        try:
            scenario = Scenario.from_toml(text, filename[:60])
        except InputError as exc:
            raise SessionError(400, f"scenario file: {exc}") from None
        self.set_case(scenario, f"{filename[:60]} ({scenario.name})")

    def set_case(self, scenario: Scenario, label: str) -> None:
        with self.lock:
            self._lobby("the case can be changed")
            try:
                check_case(scenario)
            except InputError as exc:
                raise SessionError(400, str(exc)) from None
            self.case = scenario
            self.case_label = label
            roles = g.firm_names(scenario)
            for team in self.teams.values():  # seats of firms the new case does not have are freed
                if team.seat is not None and (team.seat[1] not in roles or team.seat[0] >= self.settings.markets):
                    team.seat = None
            self.version += 1

    def configure(self, data: dict[str, Any]) -> None:
        with self.lock:
            if {"markets", "choose_entry", "seed", "horizon"} & set(data):
                self._lobby("markets and who chooses the entry mode can be changed")
            s = self.settings
            new = {}
            bounds = {
                "months_per_round": (1, limits.CLASSROOM_MAX_ROUND_MONTHS),
                "deadline_s": (0, limits.CLASSROOM_MAX_DEADLINE_SECONDS),
                "markets": (1, limits.CLASSROOM_MAX_MARKETS),
                "seed": (0, 2**31 - 1),
                "horizon": (0, limits.CLASSROOM_MAX_MONTHS),
            }
            for key, value in data.items():
                if key in bounds:
                    lo, hi = bounds[key]
                    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
                        raise SessionError(400, f"{key}: {str(value)[:20]!r} is not a whole number in [{lo}, {hi}]")
                    new[key] = value
                elif key == "choose_entry":
                    if not isinstance(value, bool):
                        raise SessionError(400, "choose_entry: true or false")
                    new[key] = value
                else:
                    raise SessionError(
                        400, f"setting: {str(key)[:30]!r} is not one of {', '.join([*bounds, 'choose_entry'])}"
                    )
            for key, value in new.items():
                setattr(s, key, value)
            for team in self.teams.values():
                if team.seat is not None and team.seat[0] >= s.markets:
                    team.seat = None
            self.version += 1

    def played(self) -> Scenario:
        """The case as played: shortened to the teacher's horizon (0 keeps the case's own)."""
        h = self.settings.horizon
        return self.case.with_overrides({"months": h}) if 0 < h < self.case.months else self.case

    def seats(self) -> list[dict[str, Any]]:
        roles = g.firm_names(self.case)
        taken = {t.seat: t.name for t in self.teams.values() if t.seat is not None}
        return [
            {"market": m, "firm": f, "role": r, "team": taken.get((m, f), "")}
            for m in range(self.settings.markets)
            for f, r in roles.items()
        ]

    # ---- teams ---------------------------------------------------------------------------

    def join(self, code: Any, name: Any) -> tuple[Team, bool]:
        """A team joins (or rejoins: the same name finds the same team and its token).

        Returns: (team, rejoined)."""
        if not isinstance(code, str) or not secrets.compare_digest(code.strip().upper().encode(), self.code.encode()):
            raise self.refuse(403, f"join {str(name)[:30]!r}", "wrong session code")
        if not isinstance(name, str):
            raise SessionError(400, "team name: a text")
        name = " ".join(name.split())
        if not 1 <= len(name) <= limits.CLASSROOM_MAX_NAME_CHARS or not NAME_RE.match(name):
            raise SessionError(
                400,
                f"team name: 1 to {limits.CLASSROOM_MAX_NAME_CHARS} letters, digits, spaces and - _ . ' "
                f"(got {name[:40]!r})",
            )
        with self.lock:
            key = name.casefold()
            team = self.teams.get(key)
            if team is not None:
                team.rejoins += 1
                team.last_seen = self.clock()
                self.note(team.name, "rejoined")
                self.version += 1
                return team, True
            if len(self.teams) >= limits.CLASSROOM_MAX_TEAMS:
                raise self.refuse(429, name, f"the session is full ({limits.CLASSROOM_MAX_TEAMS} teams)")
            team = Team(name=name, token=secrets.token_urlsafe(24), joined=self.clock(), last_seen=self.clock())
            self.teams[key] = team
            self.by_token[team.token] = team
            self.note(name, "joined")
            self.version += 1
            return team, False

    def team_for(self, token: Any) -> Team:
        team = self.by_token.get(token) if isinstance(token, str) else None
        if team is None:
            raise self.refuse(401, "unknown", "no team with this token: join with the session code and your team name")
        team.last_seen = self.clock()
        return team

    def assign(self, team_name: Any, market: Any, firm: Any) -> None:
        """Seat a team at a firm of a market (``firm`` None or "" frees its seat)."""
        with self.lock:
            self._lobby("roles can be assigned")
            team = self.teams.get(str(team_name).casefold()) if isinstance(team_name, str) else None
            if team is None:
                raise SessionError(404, f"team: {str(team_name)[:30]!r} has not joined")
            if firm in (None, ""):
                team.seat = None
                self.version += 1
                return
            roles = g.firm_names(self.case)
            if not isinstance(market, int) or isinstance(market, bool) or not 0 <= market < self.settings.markets:
                raise SessionError(400, f"market: {str(market)[:10]!r} is not in [0, {self.settings.markets - 1}]")
            if firm not in roles:
                raise SessionError(400, f"firm: {str(firm)[:40]!r} is not one of {', '.join(roles)}")
            for other in self.teams.values():
                if other is not team and other.seat == (market, firm):
                    raise SessionError(409, f"{firm} in market {market + 1} is already played by {other.name}")
            team.seat = (market, firm)
            self.note("teacher", f"{team.name} plays {firm} ({roles[firm]}) in market {market + 1}")
            self.version += 1

    def auto_assign(self) -> None:
        """Seat the teams in joining order: market by market, every firm of the case's first
        entrant's alliance (entrant, then its partner candidates), as many markets as needed."""
        with self.lock:
            self._lobby("roles can be assigned")
            firms = [self.case.entrants[0].name, *(p.name for p in self.case.partners[:1])]
            free = [t for t in self.teams.values() if t.seat is None]
            taken = {t.seat for t in self.teams.values() if t.seat is not None}
            slots = [(m, f) for m in range(limits.CLASSROOM_MAX_MARKETS) for f in firms if (m, f) not in taken]
            for team, slot in zip(free, slots, strict=False):
                team.seat = slot
            need = max((t.seat[0] + 1 for t in self.teams.values() if t.seat is not None), default=1)
            self.settings.markets = max(self.settings.markets, need)
            self.note("teacher", "roles assigned automatically")
            self.version += 1

    # ---- playing -------------------------------------------------------------------------

    def start(self) -> None:
        with self.lock:
            self._lobby("the game can be started")
            seated = [t for t in self.teams.values() if t.seat is not None]
            if not seated:
                raise SessionError(409, "no team has a role yet: assign roles first")
            players = [[t.seat[1] for t in seated if t.seat and t.seat[0] == m] for m in range(self.settings.markets)]
            self.markets = g.MarketGame.copies(
                self.played(), self.settings.seed, players, choose_entry=self.settings.choose_entry
            )
            self.phase = "playing"
            self.note("teacher", f"game started: {self.case_label}, {len(self.markets)} market(s)")
            self.version += 1
        self.next_round(1)

    def round_open(self) -> bool:
        """True while some market waits for a team's decision in this round."""
        return any(game.pending is not None for game in self.markets)

    def next_round(self, expected: Any) -> None:
        """Run every market to the end of the next round (or a played firm's decision).
        ``expected`` must be the round to start (a replayed or stale request is refused)."""
        with self.lock:
            if self.phase != "playing":
                raise SessionError(409, "no game is being played")
            if expected != self.round + 1:
                raise self.refuse(409, "teacher", f"round {str(expected)[:6]} is not the next round ({self.round + 1})")
            if self.round_open():
                raise SessionError(409, "some teams have not decided yet: wait, or apply the defaults")
            self.round += 1
            until = self.round * self.settings.months_per_round
            games = [(i, game) for i, game in enumerate(self.markets) if not game.finished]
            list(self._pool.map(lambda ig: ig[1].advance(until), games))
            for i, _ in games:
                self._track(i)
            self.note("teacher", f"round {self.round} (to month {min(until, self.markets[0].horizon)})")
            self._maybe_finish()
            self.version += 1

    def _track(self, i: int) -> None:
        game = self.markets[i]
        if game.pending is None:
            self.pending.pop(i, None)
        elif i not in self.pending or self.pending[i].seq != len(game.log):
            self.pending[i] = Pending(len(game.log), self.clock())

    def _maybe_finish(self) -> None:
        if self.markets and all(game.finished for game in self.markets) and self.phase == "playing":
            self.phase = "finished"
            self.note("teacher", "game finished")
            self._debrief = None
            self._finishing = self._pool.submit(self._wrap_up, self.out_dir)

    def _wrap_up(self, out_dir: Path | None) -> None:
        """After the last round, off the request's path (the markets no longer change): the
        debrief is computed and the session saved; the pages show them at their next poll."""
        try:
            self.debrief()
            if out_dir is not None:
                self.save(out_dir)
        except Exception as exc:  # shown in the log; a page never waits on it
            self.note("server", f"debrief or saving failed: {type(exc).__name__}: {exc}", ok=False)
        self.version += 1

    def wait_wrapped_up(self, timeout: float = 60.0) -> None:
        """Wait for the debrief and the save after the last round (tests, the load test)."""
        if self._finishing is not None:
            self._finishing.result(timeout)

    def seat_of(self, market: int, firm: str) -> Team | None:
        for t in self.teams.values():
            if t.seat == (market, firm):
                return t
        return None

    def decide(self, token: Any, data: Any) -> None:
        """A team's decision: ``{"market", "firm", "seq", "choice"}``. Refused when the token is
        not a team's, the firm is not the team's own (logged as forged), the decision is not
        the one pending (``seq``: a stale or replayed message) or the choice is not an option."""
        team = self.team_for(token)
        if not isinstance(data, dict) or set(data) != {"market", "firm", "seq", "choice"}:
            raise self.refuse(400, team.name, "malformed decision: needs exactly market, firm, seq and choice")
        market, firm, seq, choice = data["market"], data["firm"], data["seq"], data["choice"]
        if not all(isinstance(x, int) and not isinstance(x, bool) for x in (market, seq)) or not all(
            isinstance(x, str) and len(x) <= 60 for x in (firm, choice)
        ):
            raise self.refuse(400, team.name, "malformed decision: market and seq whole numbers, firm and choice texts")
        if team.seat != (market, firm):
            raise self.refuse(
                403, team.name, f"forged decision for {firm[:40]!r} in market {market + 1}: not this team's firm"
            )
        if self.phase != "playing":
            raise SessionError(409, "no game is being played")
        game = self.markets[market]
        # the market runs on under its own lock only: the other markets' teams are not held up
        with game._lock:
            d = game.pending
            if d is None or d.firm != firm or seq != len(game.log):
                raise self.refuse(409, team.name, f"stale or replayed decision (seq {seq}): nothing pending for it")
            try:
                d.option(choice)
            except InputError:
                raise self.refuse(
                    400, team.name, f"choice {choice[:40]!r} is not one of {', '.join(d.names())}"
                ) from None
            game.decide(choice, by="player", who=team.name)
        self.note(team.name, f"{firm}: {d.kind} -> {choice} (month {d.month})")
        with self.lock:
            self._track(market)
            self._maybe_finish()
            self.version += 1

    def tick(self) -> int:
        """Apply the default policy's choice to every decision whose deadline has passed;
        returns how many were applied."""
        n = 0
        with self.lock:
            if self.phase != "playing" or self.settings.deadline_s <= 0:
                return 0
            now = self.clock()
            for i, p in list(self.pending.items()):
                if now - p.since >= self.settings.deadline_s:
                    n += self._apply_default(i)
        return n

    def apply_defaults(self) -> int:
        """The teacher closes the round: every decision pending until the round's end gets its
        default choice (each logged as such)."""
        with self.lock:
            n = 0
            while self.pending:
                for i in list(self.pending):
                    n += self._apply_default(i)
            return n

    def _apply_default(self, i: int) -> int:
        game = self.markets[i]
        d = game.pending
        if d is None:
            self.pending.pop(i, None)
            return 0
        team = self.seat_of(i, d.firm)
        who = team.name if team else ""
        choice = game.default_choice()
        game.play_default(who=who)
        self.note(who or d.firm, f"deadline: {d.firm}'s {d.kind} -> {choice} (default policy, month {d.month})")
        self._track(i)
        self._maybe_finish()
        self.version += 1
        return 1

    # ---- what the pages read -------------------------------------------------------------

    def deadline_left(self, i: int) -> float | None:
        p = self.pending.get(i)
        if p is None or self.settings.deadline_s <= 0:
            return None
        return max(0.0, self.settings.deadline_s - (self.clock() - p.since))

    def team_state(self, token: Any) -> dict[str, Any]:
        """What a team sees: its own firm's view, the round, and nothing of other teams."""
        team = self.team_for(token)
        with self.lock:
            out: dict[str, Any] = {
                "team": team.name,
                "phase": self.phase,
                "round": self.round,
                "months_per_round": self.settings.months_per_round,
                "case": self.case_label,
                "seat": None,
                "version": self.version,
            }
            if team.seat is None:
                return out
            m, firm = team.seat
            out["seat"] = {"market": m, "firm": firm, "role": g.firm_names(self.case)[firm]}
            if self.phase == "lobby":
                return out
            game = self.markets[m]
            deadline = self.deadline_left(m)
        with game._lock:  # the view under its market's lock only
            view = game.view(firm)
            if view["decision"] is not None:
                view["decision"]["seq"] = len(game.log)
                view["decision"]["deadline_left"] = deadline
            out["view"] = view
            out["waiting_for_other_side"] = game.pending is not None and game.pending.firm != firm
        if out["phase"] == "finished":
            ready = self._debrief  # computed once, off the request's path (None until then)
            out["debrief"] = ready["teams"].get(team.name) if ready else None
        return out

    def teacher_state(self) -> dict[str, Any]:
        with self.lock:
            teams = [
                (t.name, t.seat, round(self.clock() - t.last_seen, 1), t.rejoins)
                for t in sorted(self.teams.values(), key=lambda t: t.joined)
            ]
            deadlines = {i: self.deadline_left(i) for i in self.pending}
        rows = []
        for name, seat, seen, rejoins in teams:  # each view under its market's lock only
            row: dict[str, Any] = {
                "team": name,
                "seat": None if seat is None else {"market": seat[0], "firm": seat[1]},
                "seen_s_ago": seen,
                "rejoins": rejoins,
            }
            if seat is not None and self.markets:
                m, firm = seat
                game = self.markets[m]
                with game._lock:
                    v = game.view(firm)
                    mine = game.pending is not None and game.pending.firm == firm
                    row.update(
                        role=v["role"],
                        share=v["own"]["share"],
                        cash=v["own"]["cash"],
                        npv=v["own"]["npv_to_date"],
                        trust=v["trust"],
                        decisions=sum(1 for x in game.log if x.firm == firm and x.by == "player"),
                        defaults=sum(1 for x in game.log if x.firm == firm and x.by == "deadline"),
                        deciding=game.pending.kind if mine and game.pending is not None else None,
                        deadline_left=deadlines.get(m) if mine else None,
                    )
            rows.append(row)
        with self.lock:
            months = [game.month for game in self.markets]
            return {
                "phase": self.phase,
                "round": self.round,
                "code": self.code,
                "teacher_key": self.teacher_key,
                "case": self.case_label,
                "case_title": self.case.title,
                "presets": presets.names(),
                "settings": vars(self.settings),
                "seats": self.seats(),
                "teams": rows,
                "month": min(months) if months else 0,
                "horizon": self.played().months,
                "round_open": self.round_open(),
                "undecided": [r["team"] for r in rows if r.get("deciding")],
                "audit": list(self.audit)[-30:],
                "saved_to": str(self.saved_to) if self.saved_to else "",
                "debrief": self._debrief if self.phase == "finished" else None,
                "version": self.version,
            }

    # ---- the debrief ---------------------------------------------------------------------

    def debrief(self) -> dict[str, Any]:
        """League table, each partnership's trust and commitment paths (played and under the
        default policies on the same seed), event timelines, and each team's explanation."""
        if self._debrief is not None:
            return self._debrief
        with self._debrief_lock:  # the markets have finished: no session lock is needed to read them
            if self._debrief is not None:
                return self._debrief
            with self.lock:
                seats = {t.name: t.seat for t in self.teams.values() if t.seat is not None}
            from abm.app.debrief import debrief as narrative

            default, default_log = g.default_run(self.markets[0].case, self.settings.seed)
            league, teams, markets = [], {}, []
            for i, game in enumerate(self.markets):
                res = game.result()
                seated = {seat[1]: name for name, seat in seats.items() if seat[0] == i}
                partnerships = []
                for e in game.case.entrants:
                    played_p, default_p = g.paths(res, e.name), g.paths(default, e.name)
                    partner = next((p.partner for p in game.model.partnerships if p.entrant == e.name), "")
                    summary = res.entrants[res.entrants.entrant == e.name]
                    partnerships.append(
                        {
                            "entrant": e.name,
                            "partner": partner,
                            "teams": [seated[n] for n in (e.name, partner) if n in seated],
                            "played": played_p,
                            "default": default_p,
                            "story": narrative(res.events, res.steps, summary, game.case),
                        }
                    )
                for firm, team_name in seated.items():
                    role = game.roles[firm]
                    mine, theirs = g.outcome(res, firm, role), g.outcome(default, firm, role)
                    row = {
                        "team": team_name,
                        "market": i,
                        "firm": firm,
                        "role": role,
                        **mine,
                        "npv_default": theirs["npv"],
                        "decisions": sum(1 for x in game.log if x.firm == firm and x.by == "player"),
                        "defaults": sum(1 for x in game.log if x.firm == firm and x.by == "deadline"),
                    }
                    league.append(row)
                    teams[team_name] = {
                        "outcome": mine,
                        "default": theirs,
                        "compare": g.compare_sentence(mine, theirs),
                        "divergence": g.divergence(game.log, default_log, firm),
                        "taken": [t.as_dict() for t in game.log if t.firm == firm],
                    }
                markets.append(
                    {
                        "market": i,
                        "partnerships": partnerships,
                        "events": [
                            {"month": int(mo), "actor": a, "kind": k, "text": t} for mo, a, k, t in game.model.events
                        ][:80],
                    }
                )
            league.sort(key=lambda r: (r["role"], -(r["npv"] or 0.0)))
            default_events = default.events.head(80).to_dict("records")
            self._debrief = {
                "league": league,
                "teams": teams,
                "markets": markets,
                "default": {
                    "events": [{k: (int(v) if k == "month" else v) for k, v in r.items()} for r in default_events],
                    "outcomes": {f: g.outcome(default, f, r) for f, r in g.firm_names(self.markets[0].case).items()},
                },
            }
            return self._debrief

    # ---- saving and reopening ------------------------------------------------------------

    def save(self, out_dir: Path) -> Path:
        """Write the session to a new folder under ``out_dir`` (a name the server makes):
        scenario.toml, session.json, and Parquet frames with a ``market`` column: decisions,
        steps, events, entrants, partnerships; plus the audit log. A game in progress is saved
        under the session's lock (a consistent state); a finished one needs none."""
        if self.phase == "finished":
            return self._save(out_dir)
        with self.lock:
            return self._save(out_dir)

    def _save(self, out_dir: Path) -> Path:
        stamp = self.started.strftime("%Y%m%d-%H%M%S")
        folder = Path(out_dir) / f"classroom-{stamp}-{self.code}"
        folder.parent.mkdir(parents=True, exist_ok=True)
        final, folder = folder, partial_dir(folder.parent)  # assembled aside, then renamed: never half-written
        (folder / "scenario.toml").write_text(self.case.to_toml(), encoding="utf-8")
        meta = {
            "case": self.case_label,
            "settings": vars(self.settings),
            "round": self.round,
            "phase": self.phase,
            "teams": [{"name": t.name, "seat": list(t.seat) if t.seat else None} for t in list(self.teams.values())],
            "markets": [game.players for game in self.markets],
        }
        (folder / "session.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        frames: dict[str, list[pd.DataFrame]] = collections.defaultdict(list)
        for i, game in enumerate(self.markets):
            res = game.result()
            for name, frame in (
                ("decisions", g.log_frame(game.log)),
                ("steps", res.steps),
                ("events", res.events),
                ("entrants", res.entrants),
                ("partnerships", res.partnerships),
            ):
                frames[name].append(frame.assign(market=i))
        for name, parts in frames.items():
            pd.concat(parts, ignore_index=True).to_parquet(folder / f"{name}.parquet")
        pd.DataFrame(list(self.audit), columns=["time", "who", "what", "ok"]).to_parquet(folder / "audit.parquet")
        old = None
        if final.exists():  # saved before (mid-game): the new state replaces it whole
            old = partial_dir(final.parent, "old")
            os.replace(final, old / final.name)
        os.replace(folder, final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        self.saved_to = final
        return final

    @classmethod
    def open(cls, folder: Path, *, out_dir: Path | None = None) -> ClassSession:
        """Reopen a saved session: the markets are replayed from the case, the seed and the
        decisions, round by round, to the state they were saved in (a check compares the
        replayed steps with the saved ones).

        Raises:
            InputError: naming ``--open``, for a folder that is not a readable saved session.
        """
        try:
            return cls._open(Path(folder), out_dir)
        except InputError:
            raise
        except (ValueError, KeyError, TypeError, IndexError, AttributeError, StopIteration, OSError) as exc:
            raise InputError(
                "--open", str(folder), f"a readable saved classroom session ({type(exc).__name__}: {str(exc)[:80]})"
            ) from None

    @classmethod
    def _open(cls, folder: Path, out_dir: Path | None) -> ClassSession:
        from abm.limits import read_text_file

        folder = Path(folder)
        try:
            meta = json.loads(read_text_file(folder / "session.json", "session", what="a session.json"))
            scenario = Scenario.from_toml(read_text_file(folder / "scenario.toml", "scenario"), str(folder))
            decisions = pd.read_parquet(folder / "decisions.parquet") if meta["markets"] else pd.DataFrame()
        except FileNotFoundError as exc:
            raise InputError(
                "--open", str(folder), f"a saved classroom session (missing {Path(exc.filename).name})"
            ) from None
        s = cls(scenario, label=meta["case"])
        for key, value in meta["settings"].items():
            setattr(s.settings, key, value)
        for t in meta["teams"]:
            team, _ = s.join(s.code, t["name"])
            team.seat = tuple(t["seat"]) if t["seat"] else None
        s.out_dir = out_dir
        if not meta["markets"]:
            return s
        s.phase = "playing"
        s.markets = g.MarketGame.copies(
            s.played(), s.settings.seed, meta["markets"], choose_entry=s.settings.choose_entry
        )
        for i, game in enumerate(s.markets):
            taken = g.taken_from_frame(decisions[decisions.market == i].drop(columns="market"))
            it = iter(taken)
            for r in range(1, int(meta["round"]) + 1):
                d = game.advance(r * s.settings.months_per_round)
                while d is not None:
                    t = next(it, None)
                    if t is None:
                        break
                    d = game.decide(t.choice, by=t.by, who=t.who)
            s._track(i)
        s.round = int(meta["round"])
        saved = pd.read_parquet(folder / "steps.parquet")
        for i, game in enumerate(s.markets):
            mine = saved[saved.market == i].drop(columns="market").reset_index(drop=True)
            if not game.result().steps.equals(mine):
                raise InputError("--open", str(folder), "a session whose replay gives its saved steps (it differs)")
        if all(game.finished for game in s.markets):
            s.phase = "finished"
            s._finishing = s._pool.submit(s._wrap_up, None)
        s.saved_to = folder
        s.note("teacher", f"reopened from {folder.name}")
        return s

    def close(self) -> None:
        for game in self.markets:
            game.close()
        self._pool.shutdown(wait=False)
