"""Decision policies: one interface for every decision a firm takes in a run.

Every decision point of the model builds a :class:`Decision`, the options it offers with the
deciding firm's own estimate of each option's value (``value``, millions, discounted at its
cost of capital) and how unsure that estimate is (``spread``), and asks the firm's policy for
a choice. The kinds (docs/ODD.md §7.12):

========================  ================  ===================================================
kind                      firm              options
========================  ================  ===================================================
``mode_choice``           entrant           stay_out, alone, alliance, joint_venture, acquisition
``partner_choice``        entrant           the free partners by name
``review``                entrant           deepen, continue, pivot, end (the year-two review)
``renegotiation``         entrant           renegotiate, carry_on, end (a partnership in trouble)
``continue_or_end``       entrant           continue, go_alone, leave (after trouble or a break-up)
``jv_end``                entrant           extend, buyout, ipo, liquidate (a JV at its planned life)
``buyout_bid``            entrant           buy, decline (buy the partner's stake at a bargained price)
``walk_away``             partner           stay, leave (an outside opportunity has arrived)
``concession``            partner           concede, let_go (cut its alliance profit share so that
                                            an entrant about to end the alliance carries on)
``commitment``            partner           hold, cut, raise (each quarter: the share of its
                                            promise it delivers, steps of 0.15 within [0.4, 1];
                                            an option that would change nothing is left out)
========================  ================  ===================================================

A policy is any object with ``choose(decision) -> str`` returning one option's name. The
registered policies are:

- ``value`` (the default): the option of highest estimated value, ties to the first;
- ``cautious``: the option of highest ``value - spread`` (a risk-averse manager);
- ``external``: the run pauses at each decision and an outside caller (a notebook, the
  classroom app) takes it: see :meth:`abm.model.MarketEntryModel.run_until_decision`.

A scenario names a firm's policy in ``entrants[i].policy`` / ``partners[i].policy``;
:func:`register` adds one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from abm.errors import InputError, did_you_mean

KINDS = (
    "mode_choice",
    "partner_choice",
    "review",
    "renegotiation",
    "continue_or_end",
    "jv_end",
    "buyout_bid",
    "walk_away",
    "concession",
    "commitment",
)
"""Every decision point of the model."""


@dataclass(frozen=True)
class Option:
    """One option of a decision: its name, the firm's estimated value (millions) and the
    one-sigma spread of that estimate."""

    name: str
    value: float
    spread: float = 0.0


@dataclass(frozen=True)
class Decision:
    """A decision a firm faces: who, what kind, the options, when, and a readable context."""

    firm: str
    kind: str
    options: tuple[Option, ...]
    month: int
    context: str = ""

    def names(self) -> list[str]:
        return [o.name for o in self.options]

    def option(self, name: str) -> Option:
        """The option called ``name``.

        Raises:
            InputError: naming ``choice``, the value and the options allowed.
        """
        for o in self.options:
            if o.name == name:
                return o
        hint = did_you_mean(str(name), self.names())
        raise InputError(
            "choice", name, f"one of the options of this {self.kind} decision: {', '.join(self.names())}{hint}"
        )


class Policy(Protocol):
    def choose(self, decision: Decision) -> str: ...


@dataclass(frozen=True)
class ValuePolicy:
    """Take the option of highest estimated value (the first one on a tie)."""

    def choose(self, decision: Decision) -> str:
        return max(decision.options, key=lambda o: o.value).name


@dataclass(frozen=True)
class CautiousPolicy:
    """Take the option of highest ``value - spread``: a manager who discounts doubtful gains."""

    def choose(self, decision: Decision) -> str:
        return max(decision.options, key=lambda o: o.value - o.spread).name


class ExternalPolicy:
    """Marker: an outside caller decides (the run pauses at the decision)."""

    def choose(self, decision: Decision) -> str:  # pragma: no cover - the model intercepts it
        raise RuntimeError("an external decision is taken through MarketEntryModel.decide()")


_REGISTRY: dict[str, Policy] = {"value": ValuePolicy(), "cautious": CautiousPolicy(), "external": ExternalPolicy()}


def names() -> list[str]:
    """Names of the registered policies."""
    return list(_REGISTRY)


def register(name: str, policy: Policy) -> None:
    """Make ``policy`` available to scenarios as ``name``."""
    if not isinstance(name, str) or not name.strip():
        raise InputError("policy", name, "a non-empty name")
    if not callable(getattr(policy, "choose", None)):
        raise InputError("policy", policy, "an object with a choose(decision) -> str method")
    _REGISTRY[name] = policy


def get(name: str, field_name: str = "policy") -> Policy:
    """The policy registered as ``name``.

    Raises:
        InputError: naming ``field_name``, the value and the registered names.
    """
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        hint = did_you_mean(str(name), names())
        raise InputError(field_name, name, f"one of the registered policies: {', '.join(names())}{hint}") from None


@dataclass
class DecisionRecord:
    """A decision taken in a run (kept in order; the same records replay a run)."""

    decision: Decision
    choice: str
    by: str = field(default="policy")  # "policy" or "external"
