"""A population of market entries, drawn from documented distributions.

Validation asks what the model does over many entries, not in one hand-picked case. Each
entry starts from the default preset (``alpha-beta``) and redraws the traits that differ
from one cross-border entry to the next: the two countries, the entrant's capital and
behaviour, the local partner's traits, the incumbents' loyalty and readiness to react, and
the regulator. Traits in [0, 1] are Beta-distributed (bounded, and any mean and spread can
be set); positive amounts are log-normal (right-skewed, like firm sizes and delays).
:data:`DISTRIBUTIONS` lists every draw with its reason; docs/VALIDATION.md prints it.

The draws of entry ``i`` come from their own random stream,
``SeedSequence([master_seed, i, POPULATION_STREAM])``, apart from the run's seed
(``abm.seeding.run_seed(master_seed, i)``): an entry is the same whatever else an
experiment changes, so two arms of a contrast differ only by the factor they change.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from abm.culture import countries
from abm.presets import resolve_scenario
from abm.scenario import Scenario

POPULATION_STREAM = 0x5EED
"""Third word of the SeedSequence of an entry's draws (keeps them apart from run seeds)."""

NOT_NATIONS = ("AFE", "AFW", "ARA", "BEF", "BEN", "CAF", "SWF", "SWG", "SAW")
"""Hofstede units that are regions or parts of a country, left out of cross-border pairs."""


@dataclass(frozen=True)
class Draw:
    """One trait of the population: where it goes, how it is drawn, and why.

    Args:
        path: dotted scenario path (``partners.commitment`` sets every partner).
        law: ``beta`` (a, b), ``lognormal`` (median, sigma), ``choice`` (values) or
            ``scale`` (low, high: a uniform factor on the preset's value) or
            ``lognormal_scale`` (sigma: a log-normal factor of median 1 on the preset's value).
        params: the law's parameters.
        why: the reason for this choice, printed in the report.
    """

    path: str
    law: str
    params: tuple
    why: str

    def sample(self, rng: np.random.Generator, base: Any = None) -> Any:
        if self.law == "beta":
            return float(rng.beta(*self.params))
        if self.law == "lognormal":
            median, sigma = self.params
            return float(median * np.exp(sigma * rng.standard_normal()))
        if self.law == "choice":
            return self.params[int(rng.integers(len(self.params)))]
        if self.law == "scale":
            lo, hi = self.params
            return float(base * rng.uniform(lo, hi))
        if self.law == "lognormal_scale":
            (sigma,) = self.params
            return float(base * np.exp(sigma * rng.standard_normal()))
        raise ValueError(f"unknown law {self.law!r}")

    def describe(self) -> str:
        if self.law == "beta":
            a, b = self.params
            mean = a / (a + b)
            sd = (a * b / ((a + b) ** 2 * (a + b + 1))) ** 0.5
            return f"Beta({a:g}, {b:g}): mean {mean:.2f}, sd {sd:.2f}"
        if self.law == "lognormal":
            median, sigma = self.params
            lo, hi = median * np.exp(-1.645 * sigma), median * np.exp(1.645 * sigma)
            return f"log-normal, median {median:g}, sigma {sigma:g} (90 %: {lo:.3g}-{hi:.3g})"
        if self.law == "choice":
            return "uniform over " + ", ".join(map(str, self.params))
        if self.law == "lognormal_scale":
            (sigma,) = self.params
            return (
                f"preset value x log-normal factor, median 1, sigma {sigma:g} "
                f"(90 %: {np.exp(-1.645 * sigma):.2f}-{np.exp(1.645 * sigma):.2f})"
            )
        lo, hi = self.params
        return f"preset value x Uniform({lo:g}, {hi:g})"


DISTRIBUTIONS: tuple[Draw, ...] = (
    # the two countries: cultural distance from real Hofstede pairs
    Draw(
        "market.host_country",
        "choice",
        ("nations",),
        "any of the 69 nations scored on Hofstede's four original dimensions: cultural distance "
        "(Kogut-Singh) then spans real country pairs, median about 1.8, 90 % within 0.4-4.4",
    ),
    Draw("entrants.home_country", "choice", ("nations",), "as the host; never the host itself"),
    # the entrant
    Draw(
        "entrants.capital",
        "lognormal",
        (60.0, 0.5),
        "firm resources are right-skewed; centred on the seed's mid-sized firm (60 m)",
    ),
    Draw(
        "entrants.commitment",
        "beta",
        (12.0, 2.0),
        "the entrant started the venture and mostly delivers (mean 0.86, as the preset's 0.9)",
    ),
    Draw(
        "entrants.learning_rate",
        "lognormal",
        (0.03, 0.4),
        "own speed of learning local tastes, around the preset's 0.03 per month",
    ),
    Draw(
        "entrants.know_how_protection",
        "beta",
        (2.5, 2.5),
        "how well know-how is guarded varies widely across firms (mean 0.5, the preset's)",
    ),
    # the local partner
    Draw(
        "partners.commitment",
        "beta",
        (8.0, 2.0),
        "seed 000: lack of commitment is the biggest alliance risk, so partners vary more and "
        "deliver less than entrants on average (mean 0.80)",
    ),
    Draw("partners.cultural_fit", "beta", (4.0, 2.0), "organisational fit, mostly fair (mean 0.67)"),
    Draw(
        "partners.consumer_knowledge",
        "beta",
        (4.0, 1.5),
        "local firms know local tastes well, some far better than others (mean 0.73)",
    ),
    Draw(
        "partners.distribution_reach",
        "beta",
        (4.0, 2.0),
        "network coverage of a local distributor (mean 0.67, preset 0.7)",
    ),
    Draw(
        "partners.regulatory_ties",
        "beta",
        (2.0, 2.0),
        "standing with regulators ranges from none to strong (mean 0.5, wide)",
    ),
    Draw(
        "partners.absorptive_capacity",
        "beta",
        (2.0, 4.0),
        "most partners learn the entrant's know-how slowly, a few fast (mean 0.33)",
    ),
    Draw(
        "partners.ambition",
        "beta",
        (1.5, 5.0),
        "few partners mean to become rivals (mean 0.23; Hamel's learning racers are the tail)",
    ),
    Draw(
        "partners.outside_option",
        "beta",
        (1.2, 8.0),
        "pull of other opportunities, mostly weak (mean 0.13; seed 000: shifting priorities)",
    ),
    # the incumbents
    Draw("incumbents.initial_share", "scale", (0.7, 1.3), "how much of the market incumbents hold"),
    Draw("incumbents.loyalty", "lognormal", (1.0, 0.3), "brand loyalty varies by market"),
    Draw(
        "incumbents.adjustment_cost",
        "lognormal_scale",
        (0.8,),
        "cost of changing price or marketing, as a share of monthly revenue, varies by firm around the "
        "preset's (menu and managerial costs; ODD §7.10), so how often incumbents react is an outcome",
    ),
    Draw(
        "incumbents.reaction",
        "choice",
        ("mixed", "price", "marketing"),
        "which instruments an incumbent revises varies by firm (an assumption: equal odds)",
    ),
    # the regulator
    Draw("regulators.stringency", "beta", (2.0, 3.0), "how demanding licensing is (mean 0.4, the preset's)"),
    Draw(
        "regulators.processing_months",
        "lognormal",
        (6.0, 0.4),
        "licence review times: about 3 months to 2 years once stringency is applied (DOMAIN 2)",
    ),
    Draw("regulators.surprise_rate", "lognormal", (0.1, 0.7), "rule changes, a few per decade"),
    # the market (drawn last, so adding it left every earlier draw of an entry unchanged)
    Draw(
        "market.buyers",
        "lognormal_scale",
        (0.6,),
        "how many buyers the product can reach differs widely from one host market to the next "
        "(population, income, category size) and is known only roughly before entry; median: the "
        "case's market. Sigma 0.6 is an assumption, not a source figure: it puts 90 % of markets "
        "within 0.37-2.7 times the case's, and it is what lets an entry lose money for both "
        "partners (docs/VALIDATION.md, *Calibration*)",
    ),
)
"""Every trait the population redraws, with its law and reason."""


@cache
def nations() -> tuple[str, ...]:
    """Hofstede codes of the nations scored on the four original dimensions."""
    return tuple(
        c.code
        for c in countries().values()
        if c.code not in NOT_NATIONS and all(c.scores[d] is not None for d in ("pdi", "idv", "mas", "uai"))
    )


def entry_rng(master_seed: int, index: int) -> np.random.Generator:
    """The random stream of entry ``index`` of a population with ``master_seed``."""
    return np.random.default_rng(np.random.SeedSequence([int(master_seed), int(index), POPULATION_STREAM]))


def draw_entry(rng: np.random.Generator, base: Scenario, fixed: tuple[str, ...] = ()) -> dict[str, Any]:
    """Dotted overrides describing one entry of the population.

    Traits named in ``fixed`` are drawn (so every other draw of the entry is unchanged) but
    left at the base's value: how a mechanism check removes one source of variety."""
    codes = nations()
    out: dict[str, Any] = {}
    for d in DISTRIBUTIONS:
        if d.path in fixed:
            d.sample(rng, 1.0)
            continue
        if d.path == "market.host_country":
            out[d.path] = codes[int(rng.integers(len(codes)))]
        elif d.path == "entrants.home_country":
            home = out["market.host_country"]
            while home == out["market.host_country"]:
                home = codes[int(rng.integers(len(codes)))]
            out[d.path] = home
        elif d.law in ("scale", "lognormal_scale"):
            section, name = d.path.split(".")
            factor = d.sample(rng, 1.0)
            items = getattr(base, section)
            if isinstance(items, list):
                for i, item in enumerate(items):
                    out[f"{section}[{i}].{name}"] = round(getattr(item, name) * factor, 6)
            else:
                out[d.path] = round(getattr(items, name) * factor, 6)
        else:
            out[d.path] = d.sample(rng)
    out["entrants.cultural_distance"] = None  # computed from the two countries
    return out


def sample_entry(master_seed: int, index: int, base: Scenario | str | None = None) -> Scenario:
    """Entry ``index`` of the population with ``master_seed``, as a checked Scenario."""
    base = resolve_scenario(base)
    return apply_overrides(base, draw_entry(entry_rng(master_seed, index), base))


def apply_overrides(base: Scenario, overrides: dict[str, Any]) -> Scenario:
    """``base`` with dotted overrides; ``None`` clears an optional value."""
    cleared = {k for k, v in overrides.items() if v is None}
    scenario = base.with_overrides({k: v for k, v in overrides.items() if v is not None})
    for key in cleared:
        section, name = key.split(".")
        for item in getattr(scenario, section):
            setattr(item, name, None)
    return scenario


def describe() -> list[tuple[str, str, str]]:
    """(trait, distribution, why) for every draw: the table of docs and the report."""
    rows = []
    for d in DISTRIBUTIONS:
        law = f"uniform over the {len(nations())} nations" if d.params == ("nations",) else d.describe()
        rows.append((d.path, law, d.why))
    return rows
