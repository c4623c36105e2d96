"""``abm app``: start the interactive app (imported by ``abm.cli`` on every call, so it
imports nothing heavy until the command runs)."""

from __future__ import annotations

import argparse
from pathlib import Path

from abm.errors import InputError


def cmd_app(args: argparse.Namespace) -> int:
    from abm.app import access, server

    port = server.check_port(args.port)
    root = Path(args.results)
    if root.exists() and not root.is_dir():
        raise InputError("--results", args.results, "a folder of results (this is a file)")
    access.configure(root, allow_paths=args.allow_paths, host=args.host)
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
    p.add_argument(
        "--results",
        default="results",
        metavar="DIR",
        help="the only folder whose sweep results the Results view lists and opens (default results/)",
    )
    p.add_argument(
        "--allow-paths",
        action="store_true",
        help="also accept a typed scenario path (only with --host 127.0.0.1; otherwise visitors upload files)",
    )
    p.set_defaults(func=cmd_app)
