"""``abm classroom``: start a multi-team classroom session (docs/CLASSROOM.md)."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from abm import limits


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "classroom",
        help="start a multi-team classroom: teams play the entrant and the partner, the teacher runs the rounds",
        description="Start a classroom session. It listens on 127.0.0.1 unless --host says otherwise; the "
        "teacher's URL (with its key) is printed here, the students' join code is on the teacher's page.",
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="interface to listen on (default 127.0.0.1; 0.0.0.0 for the classroom network)",
    )
    p.add_argument("--port", default="8766", help="TCP port (default 8766)")
    case = p.add_mutually_exclusive_group()
    case.add_argument("--scenario", default=None, metavar="FILE", help="a scenario TOML file to play")
    case.add_argument("--preset", default=None, metavar="NAME", help="a preset to play (default alpha-beta)")
    p.add_argument("--seed", default="1", help="seed of every market (default 1)")
    p.add_argument(
        "--out",
        default="classroom-sessions",
        metavar="DIR",
        help="folder the sessions are saved in (default classroom-sessions/)",
    )
    p.add_argument(
        "--open",
        default=None,
        metavar="DIR",
        help="reopen a saved session folder (its debrief, or its game where it stopped)",
    )
    p.set_defaults(func=cmd_classroom)


def cmd_classroom(args: argparse.Namespace) -> int:
    from abm import presets
    from abm.classroom.server import serve, urls
    from abm.classroom.session import ClassSession, SessionError
    from abm.errors import InputError
    from abm.scenario import Scenario

    port = limits.whole_number("--port", args.port, 1, 65535)
    seed = limits.whole_number("--seed", args.seed, 0, 2**31 - 1)
    out = Path(args.out)
    try:
        if args.open:
            session = ClassSession.open(Path(args.open), out_dir=out)
        else:
            if args.scenario:
                try:
                    text = limits.read_text_file(args.scenario, "--scenario")
                except FileNotFoundError:
                    raise InputError("--scenario", args.scenario, "an existing scenario TOML file") from None
                scenario: Scenario | str = Scenario.from_toml(text, args.scenario)
                label = Path(args.scenario).name
            else:
                scenario = args.preset or presets.DEFAULT
                if scenario not in presets.names():
                    raise InputError("--preset", scenario, f"one of {', '.join(presets.names())}")
                label = scenario
            session = ClassSession(scenario, label=label, seed=seed, out_dir=out)
    except SessionError as exc:
        raise InputError(
            "--scenario" if args.scenario else "--preset", args.scenario or args.preset, exc.message
        ) from None
    teacher, join = urls(args.host, port, session)
    print(f"Classroom session {session.code} ({session.case_label})", flush=True)
    print(f"  teacher (keep this link to yourself): {teacher}", flush=True)
    print(f"  students join at: {join}", flush=True)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print("  listening beyond this machine: students use this machine's network address", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        serve(session, args.host, port)
    print("classroom stopped", file=sys.stderr)
    return 0
