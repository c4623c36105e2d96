"""``abm app``: start the interactive app (imported by ``abm.cli`` on every call, so it
imports nothing heavy until the command runs)."""

from __future__ import annotations

import argparse


def cmd_app(args: argparse.Namespace) -> int:
    from abm.app import server

    port = server.check_port(args.port)
    server.serve(args.host, port, args.page)
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "app",
        help="start the interactive app in the browser (Solara; works offline)",
        description="Start the interactive app: Simulate, Compare, Classroom, Results and "
        "Mesa's SolaraViz. It listens on 127.0.0.1 unless --host says otherwise.",
    )
    p.add_argument("--port", default="8765", help="TCP port (default 8765)")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="interface to listen on (default 127.0.0.1, this machine only; 0.0.0.0 for every interface)",
    )
    p.add_argument(
        "--page", choices=("app", "mesa"), default="app", help="the whole app (default) or only Mesa's SolaraViz page"
    )
    p.set_defaults(func=cmd_app)
