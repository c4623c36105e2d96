"""Output folders: safe names, a writable place checked before any work, and no leftovers.

Results are assembled in a hidden temporary sibling (``.partial-<pid>-...``) and renamed into
place in one step. A process killed before the rename leaves that sibling behind; the next
command that writes into the same parent folder removes every one whose process is gone.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from abm.errors import InputError

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def slug(name: str, default: str = "scenario") -> str:
    """A folder name made from ``name``: letters, digits, '.', '_' and '-' only, never starting
    with '.', at most 80 characters. ``x/../../escaped`` becomes ``x-escaped``.

    Slugified rather than refused: a scenario's ``name`` is a label (shown in reports and the
    app) that only *also* names the default output folder, so a file with ``name = "Alpha &
    Beta"`` keeps working while no name can lead outside results/.
    """
    parts = [p for p in _UNSAFE.sub("-", str(name)).split("-") if p.strip(".")]
    text = re.sub(r"\.{2,}", ".", "-".join(parts))[:80].strip("-.")
    return text or default


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_PARTIAL = re.compile(r"\.(?:.*\.)?partial-(\d+)-")


def clean_partials(parent: Path) -> list[Path]:
    """Remove the hidden ``.partial-<pid>-*`` and ``.<name>.partial-<pid>-*`` folders in
    ``parent`` whose process no longer runs (left by a kill); returns what was removed."""
    removed: list[Path] = []
    try:
        entries = list(Path(parent).iterdir())
    except OSError:
        return removed
    for entry in entries:
        m = _PARTIAL.match(entry.name)
        if m and entry.is_dir() and not entry.is_symlink() and not _pid_alive(int(m.group(1))):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def partial_dir(parent: Path, label: str = "") -> Path:
    """A new hidden folder in ``parent`` to assemble results in, named with this process's id
    so that a later run can tell a leftover from a folder in use."""
    prefix = f".{label}.partial-{os.getpid()}-" if label else f".partial-{os.getpid()}-"
    return Path(tempfile.mkdtemp(prefix=prefix, dir=parent))


def prepare_parent(out: Path, field: str = "--out") -> Path:
    """Create ``out``'s parent folder (and clean its leftovers) before any work is done, so
    that an output place that cannot be written fails at once rather than after a
    simulation. Returns the parent.

    Raises:
        InputError: the parent cannot be created or written (under a file, a read-only or
            virtual file system such as /proc).
    """
    out = Path(out)
    parent = out.parent
    try:
        resolved = parent.resolve()
    except (OSError, RuntimeError):
        raise InputError(field, str(out), "a folder path that can be resolved") from None
    if any(str(resolved).startswith(p) for p in ("/proc", "/sys", "/dev")) and str(resolved) != "/":
        raise InputError(field, str(out), "a folder on a real file system (not under /proc, /sys or /dev)")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise InputError(field, str(out), "a folder whose parent is a folder (a file of that name exists)") from None
    except OSError as exc:
        raise InputError(
            field, str(out), f"a folder that can be created ({exc.strerror or type(exc).__name__})"
        ) from None
    if not parent.is_dir():
        raise InputError(field, str(out), "a folder whose parent is a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(field, str(out), "a folder in a place you may write to")
    clean_partials(parent)
    return parent
