"""What the browser and security tests share: ``abm app`` started in a subprocess on a free
port (stopped by its PID) and the flags Debian's Chromium is launched with."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def abm_command() -> list[str]:
    exe = Path(sys.executable).with_name("abm")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "abm.cli"]


@contextmanager
def running_server(
    command: str,
    options: list[str],
    *,
    log: Path,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    ready: str = "/",
    port: int | None = None,
    timeout: float = 120,
) -> Iterator[tuple[str, int]]:
    """``abm COMMAND --port <free> OPTIONS`` (the app, the classroom) until the block ends, its
    output in ``log``; yields (base URL, PID) once ``ready`` answers 200; stopped by PID."""
    port = port or free_port()
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [*abm_command(), command, "--port", str(port), *options],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(base + ready, timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"abm {command} did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.3)
        yield base, proc.pid
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@contextmanager
def running_app(options: list[str], *, cwd: Path, log: Path, env: dict[str, str]) -> Iterator[tuple[str, int]]:
    """``abm app --port <free> OPTIONS`` until the block ends; yields (base URL, PID)."""
    with running_server("app", options, cwd=cwd, log=log, env=env) as started:
        yield started
