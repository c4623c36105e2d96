"""What files the app may read: by permission, not by path.

The app is a server (a teacher may start it with ``--host 0.0.0.0`` for a class), so a
visitor never names a file on the server. It reads:

- what the visitor uploads through the browser (size-capped, parsed, never written to disk);
- for results, folders under the *results root* given at start (``abm app --results DIR``,
  default ``results/``), which the visitor picks from a list of names; a name not in the list,
  or one whose real path leaves the root (a symbolic link), is refused;
- a typed scenario path only when the server listens on 127.0.0.1 (or ::1, localhost) *and*
  was started with ``--allow-paths``: then the person at the keyboard is the only visitor.

Every refusal reads the same, whatever the reason (missing, a folder, unreadable, not
allowed), and no message quotes a file's contents.
"""

from __future__ import annotations

import os
from pathlib import Path

from abm import limits
from abm.errors import InputError

ENV_ROOT = "ABM_APP_RESULTS"
ENV_ALLOW_PATHS = "ABM_APP_ALLOW_PATHS"
ENV_HOST = "ABM_APP_HOST"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
UNREADABLE = "a scenario file this server may read (a regular TOML file of at most {:,} bytes)"


def configure(results_root: str | Path = "results", *, allow_paths: bool = False, host: str = "127.0.0.1") -> None:
    """Set the app's permissions for this process (called once by ``abm app`` before serving).

    Raises:
        InputError: ``--allow-paths`` with a host other than the loopback interface.
    """
    if allow_paths and host not in LOOPBACK:
        raise InputError(
            "--allow-paths",
            host,
            "only with --host 127.0.0.1: typed paths would let every visitor read this machine's files",
        )
    os.environ[ENV_ROOT] = str(Path(results_root).resolve())
    os.environ[ENV_ALLOW_PATHS] = "1" if allow_paths else ""
    os.environ[ENV_HOST] = host


def results_root() -> Path:
    return Path(os.environ.get(ENV_ROOT) or "results").resolve()


def typed_paths_allowed() -> bool:
    """True only when started on the loopback interface with ``--allow-paths``."""
    return bool(os.environ.get(ENV_ALLOW_PATHS)) and os.environ.get(ENV_HOST, "127.0.0.1") in LOOPBACK


def result_folders() -> list[str]:
    """Names (relative to the results root, '/'-separated) of the results folders a visitor
    may open, newest first."""
    from abm.app.results_data import candidate_folders

    root = results_root()
    names = []
    for folder in candidate_folders(root):
        path = Path(folder)
        if not _inside(path, root):
            continue
        rel = path.resolve().relative_to(root)
        names.append("." if str(rel) == "." else rel.as_posix())
    return names


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
    except (ValueError, OSError, RuntimeError):
        return False
    return True


def open_result(name: str):
    """The results folder ``name`` (one of :func:`result_folders`), read.

    Raises:
        InputError: the same line for any name not in the list.
    """
    from abm.app.results_data import load_folder

    if not isinstance(name, str) or name not in result_folders():
        raise InputError("results folder", name, "one of the folders listed under the results root")
    path = results_root() / name
    if not _inside(path, results_root()):  # pragma: no cover - result_folders() already checked
        raise InputError("results folder", name, "one of the folders listed under the results root")
    try:
        return load_folder(path)
    except InputError as exc:  # say what is wrong by the folder's name, never the server's path
        raise InputError("results folder", name, exc.allowed) from None


def read_typed_path(path: str) -> tuple[bytes, str]:
    """The bytes and file name of a typed scenario path, when typed paths are allowed.

    Raises:
        InputError: one message for every failure (not allowed, missing, a folder, a device,
            too big, unreadable), so that nothing about the file system can be probed.
    """
    allowed = UNREADABLE.format(limits.APP_MAX_UPLOAD_BYTES)
    shown = Path(str(path)).name or "?"
    if not typed_paths_allowed():
        raise InputError("scenario path", shown, "an uploaded file (typed paths are off on this server)")
    try:
        text = limits.read_text_file(Path(str(path).strip()), "scenario", max_bytes=limits.APP_MAX_UPLOAD_BYTES)
    except (InputError, OSError):
        raise InputError("scenario path", shown, allowed) from None
    return text.encode("utf-8"), shown


def load_typed_path(path: str) -> bool:
    """Simulate's typed-path box: read through :func:`read_typed_path`, then load as an upload."""
    path = (path or "").strip()
    return bool(path) and _load(read_typed_path, path)


def _load(read, source) -> bool:
    """Read a scenario with ``read(source)`` and make it the base scenario; a refusal becomes
    the page's message."""
    from abm.app import state

    try:
        data, name = read(source)
    except InputError as exc:
        state.message.value = f"The scenario file was not loaded: {exc}"
        return False
    return state.load_scenario_text(data, name)


def read_upload(info: dict) -> tuple[bytes, str]:
    """The bytes and name of a file dropped on the page (Solara's FileDrop ``on_file`` dict),
    refused from its declared size before anything is read when it is over the limit; with
    ``FileDrop(lazy=True)`` a file over the limit is never transferred to the server.

    Raises:
        InputError: over the limit.
    """
    name = Path(str(info.get("name") or "upload.toml")).name
    limit = limits.APP_MAX_UPLOAD_BYTES
    size = info.get("size")
    if isinstance(size, int) and size > limit:
        raise InputError("scenario file", name, f"a file of at most {limit:,} bytes (it has {size:,})")
    stream = info.get("file_obj")
    data = stream.read(limit + 1) if stream is not None else (info.get("data") or b"")
    check_upload(data, name)
    return data, name


def load_upload(info: dict) -> bool:
    """Simulate's drop zone: :func:`read_upload`, then load it as the base scenario."""
    return _load(read_upload, info)


def check_upload(data: bytes | str, name: str) -> None:
    """Refuse an upload over the size limit before it is decoded or parsed."""
    if len(data) > limits.APP_MAX_UPLOAD_BYTES:
        raise InputError("scenario file", name, f"a file of at most {limits.APP_MAX_UPLOAD_BYTES:,} bytes")
