"""One market whose chosen firms are played by people.

    game = MarketGame("alpha-beta", seed=1, players=["Alpha Co."])
    while (d := game.advance(until=game.month + 12)) is not None or not game.finished:
        if d is not None:
            game.decide(d.options[0].name)          # a person's choice
    result = game.result()

The played firms get the ``external`` policy (:mod:`abm.policies`), so the run pauses at each
of their decisions; :meth:`MarketGame.advance` also pauses at a month boundary (a round's
end). What a firm would know at a pause is :meth:`MarketGame.view`: its own figures, its own
trust in the other side and what the other side delivered, the market's public shares, its
recent events, and the decision it faces with its own estimated values and their spread —
never the other side's beliefs or private figures. :meth:`MarketGame.default_choice` is the
choice the firm's own (scenario) policy would take, given to a firm that let a deadline pass.

Determinism: the same case, seed and choices give the same run (:func:`replay` re-runs a
game's log without pauses and gives identical frames).
"""

from __future__ import annotations

import contextlib
import math
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from abm import policies
from abm.errors import InputError, did_you_mean
from abm.model import STEP_COLUMNS, MarketEntryModel
from abm.partnership import Partnership
from abm.presets import resolve_scenario
from abm.scenario import Scenario
from abm.simulation import RunResult, collect

ROUND_END = "round_end"
"""Kind of the pause at a round's end (never a firm's decision; not recorded)."""
_GO = "go"
_ABORT = object()

KIND_WORDS = {
    "mode_choice": "How to enter the market",
    "partner_choice": "Which local partner to approach",
    "review": "The partnership review",
    "renegotiation": "The partnership is in trouble: renegotiate?",
    "continue_or_end": "Continue, go alone or leave?",
    "jv_end": "The joint venture reaches its planned life",
    "buyout_bid": "Buy the partner's stake?",
    "walk_away": "An outside opportunity: stay or leave?",
    "commitment": "How much to commit to the partnership this quarter",
    "concession": "The entrant is about to end the alliance: give up part of your profit share?",
}
"""Plain words for each decision kind (a kind not listed is shown by its name)."""

_C = {name: i for i, name in enumerate(STEP_COLUMNS)}


class _Aborted(Exception):
    """Raised in a game's run thread when the game is closed while it waits."""


class _RoundModel(MarketEntryModel):
    """The model, pausing after the step that reaches ``stop_at`` (a round's end) as well as at
    the played firms' decisions. Both pauses go through the model's own hand-over to an outside
    caller (:meth:`MarketEntryModel.run_until_decision`)."""

    stop_at: int | None = None

    def step(self) -> None:
        super().step()
        if self.running and self.stop_at is not None and self.month >= self.stop_at and self._worker is not None:
            self._wait_for_caller(policies.Decision("", ROUND_END, (policies.Option(_GO, 0.0),), self.month))

    def _wait_for_caller(self, decision: policies.Decision) -> str:
        choice = super()._wait_for_caller(decision)
        if choice is _ABORT:
            raise _Aborted
        return choice


@dataclass
class Taken:
    """A decision taken by a played firm: what was offered, what was chosen and by whom
    (``player``, or ``deadline`` when the firm's default policy chose for it)."""

    seq: int
    month: int
    firm: str
    kind: str
    choice: str
    by: str
    default: str
    context: str
    options: list[dict] = field(default_factory=list)
    who: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def firm_names(scenario: Scenario) -> dict[str, str]:
    """Every firm a person can play: name -> role (``entrant`` or ``partner``)."""
    out = {e.name: "entrant" for e in scenario.entrants}
    out.update({p.name: "partner" for p in scenario.partners})
    return out


def with_players(case: Scenario, players: Sequence[str]) -> Scenario:
    """The case with the ``external`` policy for the played firms (the run pauses at their
    decisions)."""
    overrides = {}
    for i, e in enumerate(case.entrants):
        if e.name in players:
            overrides[f"entrants[{i}].policy"] = "external"
    for i, p in enumerate(case.partners):
        if p.name in players:
            overrides[f"partners[{i}].policy"] = "external"
    return case.with_overrides(overrides) if overrides else case


def played_case(scenario: Scenario | str | None, players: Iterable[str], choose_entry: bool = True) -> Scenario:
    """The case as played: a played entrant chooses its own entry mode (``entry_mode = "auto"``)
    when ``choose_entry``. The default policies' replay uses this case too."""
    scenario = resolve_scenario(scenario)
    roles = firm_names(scenario)
    players = list(players)
    for name in players:
        if name not in roles:
            raise InputError(
                "firm", name, f"a firm of the case: {', '.join(roles)}{did_you_mean(str(name), list(roles))}"
            )
    overrides: dict[str, Any] = {}
    if choose_entry:
        for i, e in enumerate(scenario.entrants):
            if e.name in players and e.entry_mode != "auto":
                overrides[f"entrants[{i}].entry_mode"] = "auto"
    return scenario.with_overrides(overrides) if overrides else scenario


class MarketGame:
    """One run of ``scenario`` on ``seed`` whose ``players`` (firm names) decide from outside.

    Args:
        scenario: a Scenario, preset name or None (the default preset); a TOML path is read by
            the caller (the classroom server never takes a path from a visitor).
        seed: the run's seed.
        players: names of the played firms (entrants or partners).
        choose_entry: a played entrant chooses its entry mode (else the case's mode stands).
    """

    def __init__(
        self,
        scenario: Scenario | str | None,
        seed: int,
        players: Sequence[str],
        *,
        choose_entry: bool = True,
        prepared: tuple[Scenario, Scenario] | None = None,
    ):
        self.players = list(dict.fromkeys(players))
        if prepared is None:
            case = played_case(scenario, self.players, choose_entry)
            prepared = (case, with_players(case, self.players))
        self.case, self._scenario = prepared
        self.seed = int(seed)
        self.roles = firm_names(self.case)
        self.defaults: dict[str, str] = {e.name: e.policy for e in self.case.entrants}
        self.defaults.update({p.name: p.policy for p in self.case.partners})
        self.model = _RoundModel(self._scenario, seed=self.seed)
        self.pending: policies.Decision | None = None
        self.log: list[Taken] = []
        self.finished = False
        self._at_round_end = False
        self._lock = threading.RLock()
        self._changes = 0  # bumped whenever the run moves or a decision is taken: views are cached by it
        self._views: dict[str, tuple[int, dict[str, Any]]] = {}
        if not self.players:  # nobody plays: the run is the default one
            self.model.run()
            self.finished = True

    @classmethod
    def copies(
        cls, scenario: Scenario, seed: int, players: Sequence[Sequence[str]], *, choose_entry: bool = True
    ) -> list[MarketGame]:
        """One game per list of players, all on ``scenario`` and ``seed`` (the classroom's
        markets); the played case is prepared once per distinct list of players."""
        ready: dict[tuple[str, ...], tuple[Scenario, Scenario]] = {}
        games = []
        for who in players:
            key = tuple(dict.fromkeys(who))
            game = cls(scenario, seed, key, choose_entry=choose_entry, prepared=ready.get(key))
            ready.setdefault(key, (game.case, game._scenario))
            games.append(game)
        return games

    # ---- driving -------------------------------------------------------------------------

    @property
    def month(self) -> int:
        return int(self.model.month)

    @property
    def horizon(self) -> int:
        return int(self.case.months)

    def advance(self, until: int | None = None) -> policies.Decision | None:
        """Run on until a played firm faces a decision (returned; the run waits for
        :meth:`decide`), the month ``until`` has been run (a round's end; None), or the
        horizon (None, and :attr:`finished`). A pending decision is returned as it is."""
        with self._lock:
            if self.finished or self.pending is not None:
                return self.pending
            self.model.stop_at = until
            if self._at_round_end:
                if until is not None and until <= self.month:
                    return None
                self._at_round_end = False
                self.model.decide(_GO)
            return self._next()

    def decide(self, choice: str, *, by: str = "player", who: str = "") -> policies.Decision | None:
        """Answer the pending decision with one of its options' names and run on to the next
        pause (as :meth:`advance`, within the current round).

        Raises:
            InputError: no decision is pending, or ``choice`` is not among its options (the
                decision stays pending).
        """
        with self._lock:
            d = self.pending
            if d is None:
                raise InputError("choice", choice, "a pending decision to answer")
            d.option(choice)
            self.log.append(
                Taken(
                    seq=len(self.log),
                    month=d.month,
                    firm=d.firm,
                    kind=d.kind,
                    choice=choice,
                    by=by,
                    default=self.default_choice(d),
                    context=d.context,
                    options=[{"name": o.name, "value": o.value, "spread": o.spread} for o in d.options],
                    who=who,
                )
            )
            self.pending = None
            self.model.decide(choice)
            return self._next()

    def default_choice(self, decision: policies.Decision | None = None) -> str:
        """What the deciding firm's own policy in the case (``value`` unless the scenario names
        another) would choose."""
        d = decision if decision is not None else self.pending
        if d is None:
            raise InputError("choice", "default", "a pending decision")
        return policies.get(self.defaults.get(d.firm, "value")).choose(d)

    def play_default(self, who: str = "") -> policies.Decision | None:
        """Give the pending decision its default choice (a deadline passed), logged as such."""
        with self._lock:
            if self.pending is None:
                return None
            return self.decide(self.default_choice(), by="deadline", who=who)

    def _next(self) -> policies.Decision | None:
        self._changes += 1
        d = self.model.run_until_decision()
        self._changes += 1
        if d is None:
            self.finished = True
            self.pending = None
            return None
        if d.kind == ROUND_END:
            self._at_round_end = True
            return None
        self.pending = d
        return d

    def close(self) -> None:
        """Stop a game that is waiting (its run thread ends) and release the model."""
        with self._lock:
            m = self.model
            if m._worker is not None and m._pending is not None:
                m._pending = None
                m._from_caller.put(_ABORT)
                with contextlib.suppress(_Aborted):
                    m._receive()
            self.pending = None
            self.finished = True
            self._changes += 1
            m.release()

    # ---- what a firm knows ---------------------------------------------------------------

    def view(self, firm: str) -> dict[str, Any]:
        """What ``firm`` would know now (the model must be paused: call between advances).
        Built once per change of the run (a class polls it every second); the caller gets its
        own copy of the top level and of the decision."""
        with self._lock:
            cached = self._views.get(firm)
            if cached is None or cached[0] != self._changes:
                cached = (self._changes, firm_view(self, firm))
                self._views[firm] = cached
            view = dict(cached[1])
            if view["decision"] is not None:
                view["decision"] = dict(view["decision"])
            return view

    def result(self) -> RunResult:
        """The run's frames so far (the model must be paused)."""
        with self._lock:
            return collect(self.model)


def _num(x: Any, digits: int = 4) -> float | None:
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) or math.isinf(x) else round(x, digits)


def _partnership_of(model: MarketEntryModel, firm: str) -> Partnership | None:
    mine = [p for p in model.partnerships if firm in (p.entrant, p.partner)]
    active = [p for p in mine if p.active]
    found = active or mine
    return found[-1] if found else None


_BOTH_TRUSTS = re.compile(r"trust (repaired to )?(\d+\.\d+)/(\d+\.\d+)")
_PRIVATE = (
    re.compile(r" ?\((?:the partnership is |staying was )?worth [^)]*\)"),  # another firm's valuations
    re.compile(r" ?\(risk-adjusted value [^)]*\)"),
    re.compile(r", worth [^,:]*? going on"),
)


def private_text(text: str, role: str, own: bool) -> str:
    """An event or context as a firm may read it: of "trust a/b" (entrant's/partner's beliefs)
    only its own side; another firm's valuations left out."""
    text = _BOTH_TRUSTS.sub(lambda m: f"trust {m[1] or ''}{m[2] if role == 'entrant' else m[3]}", text)
    if not own:
        for pattern in _PRIVATE:
            text = pattern.sub("", text)
    return text


def firm_view(game: MarketGame, firm: str) -> dict[str, Any]:
    """A played firm's view: see :meth:`MarketGame.view`."""
    m = game.model
    role = game.roles.get(firm)
    if role is None:
        raise InputError("firm", firm, f"a firm of the case: {', '.join(game.roles)}")
    p = _partnership_of(m, firm)
    counterpart = "" if p is None else (p.partner if role == "entrant" else p.entrant)
    rows = m._rows
    history: dict[str, list] = {"month": [], "share": [], "trust": [], "own_delivered": [], "other_delivered": []}
    if role == "entrant":
        e = m.entrant_by_name[firm]
        for r in rows:
            if r[_C["firm"]] == firm:
                history["month"].append(r[0])
                history["share"].append(_num(r[_C["market_share"]]))
                history["trust"].append(_num(r[_C["trust_entrant"]]))
                history["own_delivered"].append(_num(r[_C["commitment_entrant"]]))
                history["other_delivered"].append(_num(r[_C["commitment_partner"]]))
        own = {
            "share": _num(e.market_share),
            "cash": _num(e.cash, 2),
            "npv_to_date": _num(e.npv, 2),
            "mode": e.mode if e.entered else "not entered",
            "in_market": bool(e.in_market),
            "licensed": bool(e.licensed) if e.entered else False,
            "exit": e.exit_cause or "",
        }
        trust = None if p is None or not p.active else _num(p.trust_entrant)
        other_delivered = None if p is None or not p.active else _num(p.delivered_partner)
        own_delivered = None if p is None or not p.active else _num(p.delivered_entrant)
    else:
        partner = m.partner_by_name[firm]
        for r in rows:
            if r[_C["role"]] == "entrant" and r[_C["partner"]] == firm:
                history["month"].append(r[0])
                history["share"].append(_num(r[_C["market_share"]]))  # the venture's share
                history["trust"].append(_num(r[_C["trust_partner"]]))
                history["own_delivered"].append(_num(r[_C["commitment_partner"]]))
                history["other_delivered"].append(_num(r[_C["commitment_entrant"]]))
        payoff = sum(q.partner_npv for q in m.partnerships if q.partner == firm)
        own = {
            "share": _num(m.entrant_by_name[p.entrant].market_share) if p is not None else None,
            "cash": _num(partner.cash + sum(q.partner_cash_flow for q in m.partnerships if q.partner == firm), 2),
            "npv_to_date": _num(payoff, 2),
            "mode": p.kind if p is not None else "no partnership",
            "commitment_level": _num(p.motivation) if p is not None else None,
            "in_market": True,
            "licensed": True,
            "exit": "",
        }
        trust = None if p is None or not p.active else _num(p.trust_partner)
        other_delivered = None if p is None or not p.active else _num(p.delivered_entrant)
        own_delivered = None if p is None or not p.active else _num(p.delivered_partner)
    names = {firm, counterpart} - {""}
    events = [
        {"month": int(mo), "actor": a, "kind": k, "text": private_text(t, role, a == firm)}
        for mo, a, k, t in m.events
        if a in names or firm in t or (counterpart and counterpart in t)
    ][-10:]
    market = [
        {"firm": f.name, "role": f.role, "share": _num(f.market_share)}
        for f in sorted(m.firms, key=lambda f: -f.market_share)
        if f.market_share > 0
    ]
    d = game.pending
    decision = None
    if d is not None and d.firm == firm:
        decision = {
            "kind": d.kind,
            "title": KIND_WORDS.get(d.kind, d.kind.replace("_", " ")),
            "month": d.month,
            "context": private_text(d.context, role, True),
            "options": [{"name": o.name, "value": _num(o.value, 2), "spread": _num(o.spread, 2)} for o in d.options],
        }
    return {
        "firm": firm,
        "role": role,
        "month": game.month,
        "horizon": game.horizon,
        "finished": game.finished,
        "counterpart": counterpart,
        "partnership": None
        if p is None
        else {"kind": p.kind, "status": "active" if p.active else (p.end_cause or "ended"), "since": p.start_month},
        "own": own,
        "trust": trust,
        "other_delivered": other_delivered,
        "own_delivered": own_delivered,
        "history": history,
        "events": events,
        "market": market,
        "decision": decision,
        "taken": [t.as_dict() for t in game.log if t.firm == firm],
        "currency": getattr(game.case, "currency", ""),
    }


# ---- replays and the debrief ------------------------------------------------------------


class _Script:
    """A policy replaying recorded choices, in order, for the firms that were played."""

    def __init__(self, choices: Sequence[str]):
        self.choices = list(choices)
        self.i = 0

    def choose(self, decision: policies.Decision) -> str:
        choice = self.choices[self.i]
        self.i += 1
        return choice


def replay(case: Scenario, seed: int, players: Sequence[str], choices: Sequence[str]) -> RunResult:
    """Re-run a played game from its case, seed and the choices in the order they were taken
    (no pauses): the same frames as the game itself."""
    model = _RoundModel(with_players(case, list(players)), seed=seed)
    script = iter(choices)
    try:
        while model.run_until_decision() is not None:
            model.decide(next(script))
        return collect(model)
    finally:
        model.release()


def default_run(case: Scenario, seed: int) -> tuple[RunResult, list[policies.DecisionRecord]]:
    """The same market on the same seed with every firm on its default policy."""
    model = MarketEntryModel(case, seed=seed)
    try:
        model.run()
        return collect(model), list(model.decisions)
    finally:
        model.release()


def outcome(result: RunResult, firm: str, role: str) -> dict[str, Any]:
    """A firm's outcome in a finished (or paused) run: NPV (value still held included), final
    share of its venture, final trust (its own belief) and the partnership's end."""
    if role == "entrant":
        row = result.entrants[result.entrants.entrant == firm]
        r = row.iloc[0] if len(row) else None
        ps = result.partnerships[result.partnerships.entrant == firm]
        trust_col = "trust_entrant"
    else:
        ps = result.partnerships[result.partnerships.partner == firm]
        r = None
        if len(ps):
            er = result.entrants[result.entrants.entrant == ps.entrant.iloc[-1]]
            r = er.iloc[0] if len(er) else None
        trust_col = "trust_partner"
    npv = float(r["npv"]) if role == "entrant" and r is not None else float(ps.partner_npv.sum()) if len(ps) else 0.0
    return {
        "npv": _num(npv, 2),
        "share_final": _num(r["share_final"]) if r is not None else None,
        "trust_final": _num(ps[trust_col].iloc[-1]) if len(ps) else None,
        "partnership_end": str(ps.end_cause.iloc[-1]) if len(ps) else "none",
        "entry_mode": str(r["entry_mode"]) if r is not None else "",
    }


def paths(result: RunResult, entrant: str) -> dict[str, list]:
    """Month-by-month trust (both sides' beliefs) and delivered commitment (both sides) of an
    entrant's partnership, and its share: for the debrief's side-by-side charts."""
    s = result.steps[result.steps.firm == entrant]

    def col(name: str) -> list:
        return [_num(v) for v in s[name].to_numpy(dtype=float)]

    return {
        "month": [int(v) for v in s.month],
        "share": col("market_share"),
        "trust_entrant": col("trust_entrant"),
        "trust_partner": col("trust_partner"),
        "commitment_entrant": col("commitment_entrant"),
        "commitment_partner": col("commitment_partner"),
    }


def divergence(taken: Sequence[Taken], defaults: Sequence[policies.DecisionRecord], firm: str) -> str:
    """Where the firm's played path first left the default policy's path, in one sentence."""
    mine = [t for t in taken if t.firm == firm]
    theirs = [r for r in defaults if r.decision.firm == firm]
    for k, t in enumerate(mine):
        if t.choice != t.default:
            vals = {o["name"]: o for o in t.options}
            a, b = vals.get(t.choice), vals.get(t.default)
            worth = ""
            if a is not None and b is not None:
                worth = (
                    f" (your firm valued them {a['value']:.1f} m ± {a['spread']:.1f} and "
                    f"{b['value']:.1f} m ± {b['spread']:.1f})"
                )
            return (
                f"Month {t.month} ({KIND_WORDS.get(t.kind, t.kind).lower()}): you chose {t.choice!r} where the "
                f"default policy would have chosen {t.default!r}{worth}."
            )
        if k < len(theirs) and (theirs[k].decision.kind != t.kind or theirs[k].decision.month != t.month):
            return (
                f"Month {t.month}: you faced {KIND_WORDS.get(t.kind, t.kind).lower()} and took the default's "
                f"choice, but the other side's decisions had already changed the situation."
            )
    if not mine:
        return "Your firm faced no decision in this run."
    return "You took the default policy's choice at every decision; any difference comes from the other side."


def compare_sentence(played: dict[str, Any], default: dict[str, Any], currency: str = "") -> str:
    """The played outcome against the default policies' on the same seed, in one sentence."""
    a, b = played.get("npv"), default.get("npv")
    if a is None or b is None:
        return ""
    diff = a - b
    word = "more" if diff > 0 else "less"
    text = f"NPV {a:+.1f} m against {b:+.1f} m under the default policies ({abs(diff):.1f} m {word})"
    if abs(diff) < 0.05:
        text = f"NPV {a:+.1f} m, the same as under the default policies"
    sa, sb = played.get("share_final"), default.get("share_final")
    if sa is not None and sb is not None:
        text += f"; final share {sa:.0%} against {sb:.0%}"
    ta, tb = played.get("trust_final"), default.get("trust_final")
    if ta is not None and tb is not None:
        text += f"; trust at the end {ta:.2f} against {tb:.2f}"
    return (text + ".").replace("-", "−")


def frames_equal(a: RunResult, b: RunResult) -> bool:
    """True when two runs' steps and events frames are identical."""
    return a.steps.equals(b.steps) and a.events.equals(b.events)


def log_frame(log: Sequence[Taken]) -> pd.DataFrame:
    """A game's decision log as a frame (one row per decision; options as JSON text)."""
    import json

    cols = ["seq", "month", "firm", "kind", "choice", "by", "default", "context", "options", "who"]
    rows = [{**t.as_dict(), "options": json.dumps(t.options)} for t in log]
    return pd.DataFrame(rows, columns=cols)


def taken_from_frame(frame: pd.DataFrame) -> list[Taken]:
    """The inverse of :func:`log_frame`."""
    import json

    out = []
    for r in frame.to_dict("records"):
        r = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in r.items()}
        r["options"] = json.loads(r["options"])
        out.append(Taken(**r))
    return out
