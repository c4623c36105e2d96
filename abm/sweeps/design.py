"""Designs: which parameter values each run of a sweep gets, and which seed.

A design is a table of *points* (one row per combination of parameter values). Each point
runs ``replications`` times. Runs are numbered point-major::

    run_id = point * replications + replication

and run ``run_id`` uses the seed ``abm.seeding.run_seed(master_seed, run_id)`` (numpy
``SeedSequence([master_seed, run_id])``), or ``run_seed(master_seed, replication)`` with
``common_random_numbers = true`` (every point then sees the same random streams). Draws the
design itself needs (Monte Carlo values, Latin hypercube strata, Sobol' scrambling, Morris
trajectories) come from the seed :func:`design_seed` of the master seed, a stream separate
from every run's.

Samplers: factorial is the Cartesian product of every parameter's values (the first
parameter varies slowest); Monte Carlo draws each range uniformly (whole numbers for
whole-number fields) and each list uniformly, parameter by parameter; Latin hypercube,
Sobol'/Saltelli and Morris are SALib's ``latin``, ``sobol`` and ``morris`` samplers, in
SALib's row order (which SALib's analysers rely on).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from abm.seeding import run_seed
from abm.sweeps.spec import Parameter, SweepSpec


def design_seed(master_seed: int) -> int:
    """Seed of the design's own draws: ``SeedSequence(master_seed).spawn(1)[0]``, 32 bits."""
    child = np.random.SeedSequence(int(master_seed)).spawn(1)[0]
    return int(child.generate_state(1)[0])


@dataclass
class Design:
    """The points of a sweep and how runs map onto them.

    Attributes:
        matrix: one row per point, one column per parameter (results column names), in
            the values runs use (whole-number fields rounded).
        problem: SALib's problem dict (numeric designs), else None.
        raw: SALib's sample before rounding (numeric designs), else None.
    """

    kind: str
    parameters: list[Parameter]
    matrix: pd.DataFrame
    replications: int
    master_seed: int
    common_random_numbers: bool
    problem: dict | None = None
    raw: np.ndarray | None = None

    @property
    def points(self) -> int:
        return len(self.matrix)

    @property
    def runs(self) -> int:
        return self.points * self.replications

    def locate(self, run_id: int) -> tuple[int, int]:
        """(point, replication) of a run."""
        return divmod(int(run_id), self.replications)

    def seed(self, run_id: int) -> int:
        _, replication = self.locate(run_id)
        return run_seed(self.master_seed, replication if self.common_random_numbers else run_id)

    def values(self, point: int) -> dict[str, Any]:
        """{column: value} of a point, as plain Python values."""
        row = self.matrix.iloc[int(point)]
        return {p.column: _plain(row[p.column]) for p in self.parameters}

    def overrides(self, point: int) -> dict[str, Any]:
        """{parameter key: value} of a point, ready for ``Scenario.with_overrides``."""
        row = self.matrix.iloc[int(point)]
        return {p.key: _plain(row[p.column]) for p in self.parameters}


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def build_design(spec: SweepSpec) -> Design:
    """The design of a sweep specification (deterministic in the spec and master seed)."""
    params = spec.parameters
    seed = design_seed(spec.master_seed)
    problem = raw = None
    if spec.design == "factorial":
        grids = [p.grid() for p in params]
        rows = list(itertools.product(*grids)) if params else [()]
        matrix = pd.DataFrame(rows, columns=[p.column for p in params])
    elif spec.design == "monte_carlo":
        rng = np.random.default_rng(seed)
        n = spec.samples
        assert n is not None, "a monte_carlo design has its samples (spec._check_design)"
        cols: dict[str, Any] = {}
        for p in params:
            if p.is_range and p.integer:
                cols[p.column] = rng.integers(int(p.bounds[0]), int(p.bounds[1]) + 1, size=n)
            elif p.is_range:
                cols[p.column] = rng.uniform(*p.bounds, size=n)
            else:
                picks = rng.integers(0, len(p.choices), size=n)
                cols[p.column] = pd.Series([p.choices[i] for i in picks])
        matrix = pd.DataFrame(cols, index=range(n))
    else:
        from SALib.sample import latin, morris, sobol

        problem = {
            "num_vars": len(params),
            "names": [p.column for p in params],
            "bounds": [[float(p.bounds[0]), float(p.bounds[1])] for p in params],
        }
        if spec.design == "latin_hypercube":
            raw = latin.sample(problem, spec.samples, seed=seed)
        elif spec.design == "sobol":
            raw = sobol.sample(problem, spec.samples, calc_second_order=spec.second_order, seed=seed)
        else:
            raw = morris.sample(problem, spec.samples, num_levels=spec.morris_levels, seed=seed)
        cols = {}
        for j, p in enumerate(params):
            column = raw[:, j]
            cols[p.column] = np.clip(np.rint(column), p.low, p.high).astype(np.int64) if p.integer else column
        matrix = pd.DataFrame(cols)
    for p in params:  # one dtype per column, whatever the sampler made
        if p.is_range:
            matrix[p.column] = matrix[p.column].astype(np.int64 if p.integer else np.float64)
    matrix.index.name = "point"
    return Design(
        kind=spec.design,
        parameters=list(params),
        matrix=matrix.reset_index(drop=True),
        replications=spec.replications,
        master_seed=spec.master_seed,
        common_random_numbers=spec.common_random_numbers,
        problem=problem,
        raw=raw,
    )
