"""Cultural distance between countries: the Kogut-Singh index over Hofstede's dimensions.

Kogut & Singh (1988) define the distance of host j from home h as
``CD = (1/n) * sum_i (I_ij - I_ih)^2 / V_i`` over n dimensions, with ``V_i`` the variance
of dimension i across countries. We use every dimension scored for both countries (four
in the original index, up to six with the later ones) and take each variance across all
countries scored on it. The scores ship with the package (``abm/data``, source in
``abm/data/SOURCE.md``).
"""

from __future__ import annotations

import csv
import difflib
import functools
from dataclasses import dataclass
from functools import cache
from importlib import resources

DIMENSIONS = ("pdi", "idv", "mas", "uai", "ltowvs", "ivr")
"""Hofstede's dimensions: power distance, individualism, masculinity, uncertainty
avoidance, long-term orientation, indulgence."""


@dataclass(frozen=True)
class Country:
    code: str
    name: str
    scores: dict[str, float | None]


@cache
def countries() -> dict[str, Country]:
    """All countries of the shipped Hofstede file, keyed by Hofstede code."""
    text = resources.files("abm.data").joinpath("hofstede-6d-2015.csv").read_text(encoding="utf-8")
    out = {}
    for row in csv.DictReader(text.splitlines(), delimiter=";"):
        scores = {d: (None if row[d].strip() == "#NULL!" else float(row[d])) for d in DIMENSIONS}
        out[row["ctr"].strip()] = Country(row["ctr"].strip(), row["country"].strip(), scores)
    return out


@cache
def dimension_variances() -> dict[str, float]:
    """Population variance of each dimension across the countries scored on it."""
    out = {}
    for d in DIMENSIONS:
        values = [v for c in countries().values() if (v := c.scores[d]) is not None]
        mean = sum(values) / len(values)
        out[d] = sum((v - mean) ** 2 for v in values) / len(values)
    return out


@cache
def _by_lower_name() -> dict[str, Country]:
    """Each country under its code and its name in lower case (the first country wins a
    clash, as a search in file order finds it)."""
    out: dict[str, Country] = {}
    for c in countries().values():
        for k in (c.code.lower(), c.name.lower()):
            out.setdefault(k, c)
    return out


def resolve_country(key: str, field: str = "country") -> Country:
    """Find a country by Hofstede code (``GER``) or name (``Germany``), case-insensitively.

    Raises:
        ScenarioError: naming ``field`` when nothing matches, with the closest names.
    """
    from abm.scenario import ScenarioError

    table = countries()
    if not isinstance(key, str):
        raise ScenarioError(field, key, "a Hofstede country code or name, e.g. USA, GER, MAL, Vietnam")
    found = _by_lower_name().get(key.strip().lower())
    if found is not None:
        return found
    names = [c.code for c in table.values()] + [c.name for c in table.values()]
    close = difflib.get_close_matches(key, names, n=3, cutoff=0.5)
    hint = f" (closest: {', '.join(close)})" if close else ""
    raise ScenarioError(field, key, f"a Hofstede country code or name{hint}; `abm countries` lists them")


def kogut_singh(home: str, host: str, dimensions: tuple[str, ...] = DIMENSIONS) -> float:
    """Kogut-Singh cultural distance from ``home`` to ``host`` (0 for the same country).

    Uses the dimensions, among ``dimensions``, on which both countries are scored.

    Raises:
        ScenarioError: for an unknown country, or two countries with no dimension in common.
    """
    if isinstance(home, str) and isinstance(host, str) and isinstance(dimensions, tuple):
        return _kogut_singh(home, host, dimensions)  # the same countries each run: computed once
    return _kogut_singh.__wrapped__(home, host, dimensions)


@functools.lru_cache(maxsize=1024)
def _kogut_singh(home: str, host: str, dimensions: tuple[str, ...]) -> float:
    a = resolve_country(home, "home_country")
    b = resolve_country(host, "host_country")
    variances = dimension_variances()
    shared = [(d, x, y) for d in dimensions if (x := a.scores[d]) is not None and (y := b.scores[d]) is not None]
    if not shared:
        from abm.scenario import ScenarioError

        raise ScenarioError("host_country", host, f"a country scored on some dimension that {a.name} is scored on")
    return sum((y - x) ** 2 / variances[d] for d, x, y in shared) / len(shared)
