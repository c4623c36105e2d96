"""A quick screen of candidate defaults on the validation population's partnership facts.

Runs the ``alliances`` and ``joint_ventures`` conditions of the validation experiment (the
same entries and run seeds as ``abm validate``, master seed ``--seed``) for ``--n`` entries
each with the given overrides, and prints the population facts (JVs meeting their goals,
alliances failing, success and failure for both, JV durations, incumbents' reactions) with
their 95 % intervals and bands. Used for the recalibration of 2026-12-02 (docs/ODD.md §9):

    .venv/bin/python experiments/calibration/screen_population.py --n 300 partners.opportunity_value=12
"""

from __future__ import annotations

import argparse
import time

from abm.validation.experiment import Plan, run_experiment
from abm.validation.facts import check_facts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("overrides", nargs="*", help="field=value")
    args = ap.parse_args()
    over = {k: float(v) for k, v in (kv.split("=", 1) for kv in args.overrides)}
    plan = Plan("screen", population=args.n, short=args.n, bass=10, case=10)
    started = time.perf_counter()
    r = run_experiment(
        plan,
        master_seed=args.seed,
        workers=args.workers,
        only=["alliances", "joint_ventures"],
        overrides=over or None,
    )
    for f in check_facts(r):
        mark = "ok" if f.consistent else "NOT"
        print(f"{f.key:22s} {f.estimate:.3f} [{f.low:.3f}, {f.high:.3f}] band {f.band} {mark}")
    print(f"{time.perf_counter() - started:.0f} s, n = {args.n}, seed {args.seed}, {over}")


if __name__ == "__main__":
    main()
