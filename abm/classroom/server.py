"""The classroom server: a small Starlette app with a JSON API and two plain HTML/JS pages.

Why Starlette and not Solara: a Solara page keeps a Python kernel, a widget tree and a
websocket per browser; forty team browsers would be forty kernels re-rendering on every
change. Here a team's page is a static file that polls one small JSON document a second;
the whole class is one :class:`~abm.classroom.session.ClassSession` in the server's memory,
so every team reads the same state, a closed browser loses nothing, and the cost of a client
is one short request per second (docs/CLASSROOM.md has the load test's figures).

Routes (every API answer is JSON; a refusal is ``{"error": ...}`` with its status):

=========================  ==============  ===============================================
route                      who             what
=========================  ==============  ===============================================
``GET /join``              team            the team's page (join form, then its firm)
``GET /teacher``           teacher         the teacher's page (key in the URL's #fragment)
``POST /api/join``         team            ``{code, team}`` -> ``{token, team, rejoined}``
``GET /api/team/state``    team            its own firm's view (header ``X-Team-Token``)
``POST /api/team/decide``  team            ``{market, firm, seq, choice}``
``GET /api/teacher/...``   teacher         ``state``, ``qr`` (header ``X-Teacher-Key``)
``POST /api/teacher/...``  teacher         ``case``, ``settings``, ``assign``, ``auto_assign``,
                                           ``start``, ``next``, ``defaults``, ``save``
=========================  ==============  ===============================================
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

from anyio import to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from abm import limits
from abm.classroom.session import ClassSession, SessionError

STATIC = {
    "/join": ("team.html", "text/html; charset=utf-8"),
    "/teacher": ("teacher.html", "text/html; charset=utf-8"),
    "/static/team.js": ("team.js", "text/javascript; charset=utf-8"),
    "/static/teacher.js": ("teacher.js", "text/javascript; charset=utf-8"),
    "/static/common.js": ("common.js", "text/javascript; charset=utf-8"),
    "/static/style.css": ("style.css", "text/css; charset=utf-8"),
}
"""The only files the server sends: fixed names in the package, never a path from a request."""

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
}


class RateLimit:
    """At most ``limits.CLASSROOM_MAX_REQUESTS_PER_MINUTE`` requests per key in any minute."""

    def __init__(self, per_minute: int = limits.CLASSROOM_MAX_REQUESTS_PER_MINUTE):
        self.per_minute = per_minute
        self.seen: dict[str, deque[float]] = defaultdict(deque)

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        q = self.seen[key]
        while q and now - q[0] > 60.0:
            q.popleft()
        if len(q) >= self.per_minute:
            return False
        q.append(now)
        if len(self.seen) > 10_000:  # forget idle keys (a flood of made-up tokens)
            for k in [k for k, v in self.seen.items() if not v or now - v[-1] > 60.0]:
                del self.seen[k]
        return True


def _json(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status, headers=HEADERS)


def _error(status: int, message: str) -> JSONResponse:
    return _json({"error": message}, status)


def create_app(session: ClassSession, *, tick_seconds: float = 0.5) -> Starlette:
    """The Starlette app serving ``session``."""
    rate = RateLimit()
    static = {
        route: (resources.files("abm.classroom").joinpath("static", name), kind)
        for route, (name, kind) in STATIC.items()
    }

    def client_key(request: Request) -> str:
        return request.headers.get("x-team-token") or f"addr:{request.client.host if request.client else '?'}"

    async def body(request: Request, max_bytes: int = limits.CLASSROOM_MAX_BODY_BYTES) -> dict[str, Any]:
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            raise SessionError(415, "send JSON (Content-Type: application/json)")
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > max_bytes):
            raise SessionError(413, f"request body: at most {max_bytes:,} bytes")
        raw = b""
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > max_bytes:
                raise SessionError(413, f"request body: at most {max_bytes:,} bytes")
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            raise SessionError(400, "malformed JSON") from None
        if not isinstance(data, dict):
            raise SessionError(400, "malformed request: a JSON object is expected")
        return data

    def handler(fn: Callable[[Request], Awaitable[Any]], *, teacher: bool = False) -> Callable:
        async def wrapped(request: Request) -> Response:
            try:
                if teacher:
                    key = request.headers.get("x-teacher-key", "")
                    if not secrets.compare_digest(key.encode(), session.teacher_key.encode()):
                        session.note(
                            f"addr {request.client.host if request.client else '?'}", "wrong teacher key", ok=False
                        )
                        return _error(403, "teacher key required")
                elif not rate.allow(client_key(request)):
                    return _error(429, "too many requests: slow down")
                result = await fn(request)
                return result if isinstance(result, Response) else _json(result)
            except SessionError as exc:
                return _error(exc.status, exc.message)

        return wrapped

    async def page(request: Request) -> Response:
        path, kind = static[request.url.path]
        return Response(path.read_bytes(), media_type=kind, headers=HEADERS)

    async def root(request: Request) -> Response:
        return RedirectResponse("/join")

    # ---- teams ---------------------------------------------------------------------------

    async def join(request: Request) -> Any:
        data = await body(request)
        if set(data) != {"code", "team"}:
            raise session.refuse(400, "join", "malformed join: needs exactly code and team")
        team, rejoined = await to_thread.run_sync(session.join, data["code"], data["team"])
        return {"token": team.token, "team": team.name, "rejoined": rejoined}

    async def team_state(request: Request) -> Any:
        return await to_thread.run_sync(session.team_state, request.headers.get("x-team-token"))

    async def decide(request: Request) -> Any:
        token = request.headers.get("x-team-token")
        data = await body(request)
        await to_thread.run_sync(session.decide, token, data)
        return await to_thread.run_sync(session.team_state, token)

    # ---- the teacher ---------------------------------------------------------------------

    async def teacher_state(request: Request) -> Any:
        return await to_thread.run_sync(session.teacher_state)

    async def qr(request: Request) -> Any:
        import segno

        base = session.join_base or str(request.base_url).rstrip("/")
        url = f"{base}/join?code={session.code}"
        svg = segno.make(url, error="m").svg_inline(scale=5, dark="#111", light="#fff")
        return {"svg": svg, "url": url}

    async def set_case(request: Request) -> Any:
        data = await body(request, limits.CLASSROOM_MAX_UPLOAD_BYTES + 1_000)
        if "preset" in data:
            await to_thread.run_sync(session.set_preset, data["preset"])
        elif isinstance(data.get("toml"), str):
            await to_thread.run_sync(session.set_case_text, data["toml"], str(data.get("filename") or "upload"))
        else:
            raise SessionError(400, "case: send a preset name or a scenario file's text")
        return {"ok": True, "case": session.case_label}

    async def settings(request: Request) -> Any:
        await to_thread.run_sync(session.configure, await body(request))
        return {"ok": True}

    async def assign(request: Request) -> Any:
        data = await body(request)
        await to_thread.run_sync(session.assign, data.get("team"), data.get("market"), data.get("firm"))
        return {"ok": True}

    async def auto_assign(request: Request) -> Any:
        await body(request)
        await to_thread.run_sync(session.auto_assign)
        return {"ok": True}

    async def start(request: Request) -> Any:
        await body(request)
        await to_thread.run_sync(session.start)
        return {"ok": True}

    async def next_round(request: Request) -> Any:
        data = await body(request)
        await to_thread.run_sync(session.next_round, data.get("round"))
        return {"ok": True, "round": session.round}

    async def defaults(request: Request) -> Any:
        await body(request)
        n = await to_thread.run_sync(session.apply_defaults)
        return {"ok": True, "applied": n}

    async def save(request: Request) -> Any:
        await body(request)
        if session.out_dir is None:
            raise SessionError(409, "this server was started without a folder to save into (--out)")
        if not session.markets:
            raise SessionError(409, "nothing to save before the game starts")
        folder = await to_thread.run_sync(session.save, session.out_dir)
        return {"ok": True, "saved_to": str(folder)}

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        async def ticker() -> None:
            while True:
                await asyncio.sleep(tick_seconds)
                with contextlib.suppress(Exception):
                    await to_thread.run_sync(session.tick)

        task = asyncio.create_task(ticker())
        try:
            yield
        finally:
            task.cancel()
            session.close()

    routes = [Route("/", root)]
    routes += [Route(path, page) for path in STATIC]
    routes += [
        Route("/api/join", handler(join), methods=["POST"]),
        Route("/api/team/state", handler(team_state)),
        Route("/api/team/decide", handler(decide), methods=["POST"]),
        Route("/api/teacher/state", handler(teacher_state, teacher=True)),
        Route("/api/teacher/qr", handler(qr, teacher=True)),
    ]
    for name, fn in [
        ("case", set_case),
        ("settings", settings),
        ("assign", assign),
        ("auto_assign", auto_assign),
        ("start", start),
        ("next", next_round),
        ("defaults", defaults),
        ("save", save),
    ]:
        routes.append(Route(f"/api/teacher/{name}", handler(fn, teacher=True), methods=["POST"]))
    return Starlette(routes=routes, lifespan=lifespan)


def serve(session: ClassSession, host: str, port: int) -> None:
    """Serve ``session`` until interrupted (uvicorn, one process)."""
    import uvicorn

    uvicorn.run(
        create_app(session),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        limit_concurrency=400,
        timeout_keep_alive=10,
        h11_max_incomplete_event_size=16_384,
    )


def network_address() -> str:
    """This machine's address on its local network (no packet is sent), or 127.0.0.1."""
    import socket

    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.255.255.255", 1))
            return str(s.getsockname()[0])
    except OSError:
        return "127.0.0.1"


def urls(host: str, port: int, session: ClassSession) -> tuple[str, str]:
    """(teacher's URL with the key, students' join URL). Listening on every interface, the
    students' URL (and the QR code) use this machine's network address."""
    local = f"http://127.0.0.1:{port}" if host in ("127.0.0.1", "0.0.0.0", "::", "") else f"http://{host}:{port}"
    public = f"http://{network_address()}:{port}" if host in ("0.0.0.0", "::") else local
    session.join_base = public if public != local else ""
    return f"{local}/teacher#key={session.teacher_key}", f"{public}/join?code={session.code}"
