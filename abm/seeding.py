"""Seeds of replications and sweep runs.

Run ``i`` of an experiment with master seed ``m`` uses the seed
``SeedSequence([m, i]).generate_state(1)[0]`` (a 32-bit integer): independent streams for
every run, the same seed whatever executor, worker count or order runs in, and any single
run can be repeated from (m, i) alone.
"""

from __future__ import annotations

import numpy as np


def run_seed(master_seed: int, run_index: int) -> int:
    """The seed of run ``run_index`` of an experiment with ``master_seed``."""
    return int(np.random.SeedSequence([int(master_seed), int(run_index)]).generate_state(1)[0])
