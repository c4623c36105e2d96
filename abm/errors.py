"""Errors meant for people: each names the field, the value given and what is allowed."""

from __future__ import annotations

from typing import Any


class InputError(ValueError):
    """A value a user gave that is not allowed (scenario, sweep spec, CLI argument).

    The CLI prints it as one line and exits with code 2.

    Attributes:
        field: where the value was given, e.g. ``partners[0].commitment`` or ``--workers``.
        value: the value given.
        allowed: what would have been accepted, in words.
    """

    def __init__(self, field: str, value: Any, allowed: str):
        self.field = field
        self.value = value
        self.allowed = allowed
        # a long field is usually a file's path: keep its end, where the file's name is
        name = str(field) if len(str(field)) <= ECHO_CHARS else "..." + str(field)[-(ECHO_CHARS - 3) :]
        super().__init__(f"{name} = {shorten(value)} is not allowed: {allowed}")


ECHO_CHARS = 80
"""Values quoted in an error message are cut to this many characters (abm.limits.MAX_ECHO_CHARS)."""


def shorten(value: Any, limit: int = ECHO_CHARS) -> str:
    """``repr(value)`` cut to ``limit`` characters, ending in '...' when cut; a huge text is
    cut before its repr is built."""
    if isinstance(value, str | bytes) and len(value) > 4 * limit:
        value = value[: 2 * limit]
    elif isinstance(value, list | tuple | dict | set) and len(value) > limit:
        value = type(value)(list(value)[:limit]) if not isinstance(value, dict) else dict(list(value.items())[:limit])
    try:
        text = repr(value)
    except RecursionError:
        text = f"<a {type(value).__name__} nested too deeply>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def did_you_mean(name: Any, choices: list[str] | tuple[str, ...]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices``, or ``""`` if none is close."""
    import difflib

    close = difflib.get_close_matches(str(name), list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""
