"""Load test of the classroom server: 40 team clients and a teacher on 127.0.0.1.

    python experiments/benchmarks/classroom_load.py [--teams 40] [--rounds 10] [--out results/benchmarks]

Starts ``abm classroom`` in a subprocess on a free port (stopped by its PID), joins N teams
(N/2 alliances: an entrant team and a partner team in each of N/2 markets, the whole case
``alpha-beta``, 120 months), and plays the game as a class would: every client polls its
state once a second (as the page does) and answers each decision it sees after a short
"thinking" pause, choosing the option of highest value; the teacher advances a round (12
months) as soon as every team has decided. Measured (wall clock, milliseconds):

- ``poll``: a team's GET /api/team/state;
- ``decide``: a team's POST /api/team/decide, which runs its market on to the next pause;
- ``round``: the teacher's POST /api/teacher/next, which runs every market to the end of the
  round (or its first decision);
- ``start_ms``: the teacher's POST /api/teacher/start (builds every market, runs round 1).

Writes the medians, 95th percentiles and maxima to ``classroom_load.json`` under ``--out``
and prints them. Not a test: nothing is asserted; timings on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import re
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from app_server import running_server  # noqa: E402  (the tests' server starter, as app_step.py)


class Client:
    """One keep-alive HTTP connection."""

    def __init__(self, port: int, headers: dict[str, str] | None = None):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = headers or {}

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict, float]:
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        t0 = time.perf_counter()
        self.conn.request(method, path, body=data, headers=headers)
        r = self.conn.getresponse()
        payload = r.read()
        ms = 1000 * (time.perf_counter() - t0)
        return r.status, json.loads(payload), ms


def summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    v = sorted(values)
    return {
        "n": len(v),
        "median_ms": round(statistics.median(v), 1),
        "p95_ms": round(v[min(len(v) - 1, int(0.95 * len(v)))], 1),
        "max_ms": round(v[-1], 1),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--teams", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=10, help="rounds of 12 months (10 = the whole 120-month case)")
    ap.add_argument("--think", type=float, default=0.3, help="seconds a team waits before answering (default 0.3)")
    ap.add_argument("--out", default=str(ROOT / "results" / "benchmarks"))
    args = ap.parse_args(argv)
    log = Path(args.out) / "classroom_load_server.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    options = ["--preset", "alpha-beta", "--out", str(Path(args.out) / "sessions")]
    try:
        with running_server("classroom", options, log=log, ready="/join", timeout=90) as (base, _):
            text = log.read_text(errors="replace")
            key = re.search(r"key=(\S+)", text).group(1)
            code = re.search(r"session (\w+)", text).group(1)
            return run(int(base.rsplit(":", 1)[1]), key, code, args)
    except RuntimeError as exc:  # the server did not start: its log says why
        raise SystemExit(str(exc)) from None


def run(port: int, key: str, code: str, args) -> int:
    teacher = Client(port, {"X-Teacher-Key": key})
    markets = max(1, args.teams // 2)
    teacher.call("POST", "/api/teacher/settings", {"markets": markets, "months_per_round": 12, "deadline_s": 0})
    tokens = []
    for k in range(args.teams):
        status, body, _ = Client(port).call("POST", "/api/join", {"code": code, "team": f"Team {k + 1:02d}"})
        assert status == 200, body
        tokens.append(body["token"])
    teacher.call("POST", "/api/teacher/auto_assign", {})
    polls: list[float] = []
    decides: list[float] = []
    rounds: list[float] = []
    errors: list[str] = []
    stop = threading.Event()
    lock = threading.Lock()

    def team(token: str, seed: int) -> None:
        c = Client(port, {"X-Team-Token": token})
        rng = random.Random(seed)
        time.sleep(rng.random())  # the pages do not poll in step
        while not stop.is_set():
            try:
                status, st, ms = c.call("GET", "/api/team/state")
                with lock:
                    polls.append(ms)
                d = (st.get("view") or {}).get("decision")
                if d:
                    time.sleep(args.think * rng.random())
                    best = max(d["options"], key=lambda o: o["value"])["name"]
                    body = {"market": st["seat"]["market"], "firm": st["seat"]["firm"], "seq": d["seq"], "choice": best}
                    status, answer, ms = c.call("POST", "/api/team/decide", body)
                    with lock:
                        decides.append(ms)
                        if status != 200:
                            errors.append(f"{status} {answer}")
                    continue  # look again at once: the next decision may be ours
                if st.get("phase") == "finished":
                    return
            except Exception as exc:  # counted, the client goes on
                with lock:
                    errors.append(repr(exc))
                c = Client(port, {"X-Team-Token": token})
            time.sleep(1.0)

    threads = [threading.Thread(target=team, args=(tok, k), daemon=True) for k, tok in enumerate(tokens)]
    for t in threads:
        t.start()
    t0 = time.perf_counter()
    status, body, start_ms = teacher.call("POST", "/api/teacher/start", {})
    for _ in range(args.rounds):
        while True:
            _, st, _ = teacher.call("GET", "/api/teacher/state")
            if st["phase"] != "playing" or not st["round_open"]:
                break
            time.sleep(0.2)
        if st["phase"] != "playing":
            break
        status, body, ms = teacher.call("POST", "/api/teacher/next", {"round": st["round"] + 1})
        if status == 200:
            rounds.append(ms)
        else:
            errors.append(f"next: {status} {body}")
    wall = time.perf_counter() - t0
    stop.set()
    for t in threads:
        t.join(timeout=5)
    _, st, _ = teacher.call("GET", "/api/teacher/state")
    result = {
        "teams": args.teams,
        "markets": markets,
        "rounds_played": st["round"],
        "month": st["month"],
        "wall_s": round(wall, 1),
        "poll": summary(polls),
        "decide": summary(decides),
        "start_ms": round(start_ms, 1),
        "round": summary(rounds),
        "errors": len(errors),
        "first_errors": errors[:5],
        "note": "poll = GET state, decide = POST decide (runs its market to the next pause), round = POST next "
        "(runs every market to the end of the round); 127.0.0.1, one uvicorn process",
    }
    out = Path(args.out) / "classroom_load.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
