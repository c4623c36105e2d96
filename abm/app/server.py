"""Start the app's Solara server.

Binds 127.0.0.1 unless another interface is asked for (the app runs simulations on this
machine and has no login, so it is not exposed by default). Everything the page loads is
served from this machine, from solara-assets: no script, style or font comes from a CDN,
and Solara's telemetry and version check stay off.
"""

from __future__ import annotations

import errno
import os
import socket
import sys

from abm import limits
from abm.errors import InputError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
APP_MODULES = {"app": "abm.app.pages", "mesa": "abm.app.mesa_page"}
"""What ``--page`` serves: the whole app, or Mesa's SolaraViz page alone."""


def check_port(text: str | int) -> int:
    """A TCP port number from the command line.

    Raises:
        InputError: unless a whole number in [1, 65535].
    """
    try:
        port = int(text)
    except (TypeError, ValueError):
        raise InputError("--port", text, "a whole number from 1 to 65535") from None
    if not 1 <= port <= 65535:
        raise InputError("--port", port, "a whole number from 1 to 65535")
    return port


def check_free(host: str, port: int) -> None:
    """Fail early, with a readable message, when the address is taken or unknown.

    Raises:
        InputError: naming --host or --port.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise InputError("--host", host, "an address or name of this machine, e.g. 127.0.0.1 or 0.0.0.0") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise InputError(
                    "--port", port, "a free port (this one is in use; try another, e.g. --port 8766)"
                ) from None
            raise InputError("--host", host, f"an address of this machine ({exc.strerror})") from None


def url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    return f"http://{shown}:{port}/"


def configure_solara() -> None:
    """Solara's server settings for a classroom server: production mode, no telemetry, no
    banner, and a session whose page lost its connection without closing ends (cancelling its
    jobs) after ``limits.APP_ORPHAN_MINUTES`` instead of Solara's 24 hours."""
    from solara.server import settings

    settings.main.mode = "production"  # no check-in with solara.dev, no dev reloader
    settings.telemetry.mixpanel_enable = False
    settings.theme.show_banner = False  # it would cover the charts' corner on a projector
    settings.theme.title = "abm app"
    settings.kernel.cull_timeout = f"{limits.APP_ORPHAN_MINUTES}m"


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, page: str = "app") -> None:
    """Run the server in this process until interrupted (Ctrl+C)."""
    if page not in APP_MODULES:
        raise InputError("--page", page, "one of " + ", ".join(APP_MODULES))
    check_free(host, port)
    os.environ["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    os.environ["SOLARA_APP"] = APP_MODULES[page]
    os.environ["SERVER_NAME"] = host
    os.environ["SERVER_PORT"] = str(port)
    os.environ.setdefault("ABM_APP_HOST", host)  # abm.app.access: permissions (configure() sets them all)
    from abm.app import jobs

    jobs.install_session_cleanup()  # a closed page cancels its Compare jobs
    if page == "app":
        jobs.start_pool()  # Compare's workers, forked before the server opens its socket
    import uvicorn

    configure_solara()
    print(f"abm app: open {url(host, port)} in a browser (Ctrl+C stops the server)", flush=True)
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"abm app: listening on {host}: other machines on the network can reach it", file=sys.stderr, flush=True)
    config = uvicorn.Config(
        "solara.server.starlette:app",
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        ws_max_size=64 * 1024 * 1024,
    )
    uvicorn.Server(config).run()
