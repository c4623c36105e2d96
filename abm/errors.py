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
        super().__init__(f"{field} = {value!r} is not allowed: {allowed}")


def did_you_mean(name: Any, choices: list[str] | tuple[str, ...]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices``, or ``""`` if none is close."""
    import difflib

    close = difflib.get_close_matches(str(name), list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""
