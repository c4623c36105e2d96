"""Calibrate the model's free parameters against the documented figures.

    .venv/bin/python experiments/calibration/calibrate.py --workers 2
    .venv/bin/python experiments/calibration/calibrate.py --stage confirm   # one stage only

Stages (spec.toml, [design]):

1. a Latin hypercube over the whole box of free parameters, each candidate evaluated on
   the same ``stage1_runs`` entries of the population;
2. a Latin hypercube in a smaller box around the stage-1 best, on more entries;
3. confirmation: the best stage-2 candidates, rounded to the precision written into the
   defaults, re-run on ``confirm_runs`` fresh entries (another master seed); the lowest
   loss is chosen and written to ``output/chosen.toml``.

Each evaluated candidate is appended to ``output/<stage>.csv`` as it finishes, so an
interrupted calibration resumes where it stopped.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import qmc

from abm.validation import facts
from abm.validation.experiment import Condition, run_experiment

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "output"
DECIMALS = {"contract.valuation_multiple": 1, "market.buyers": -4}
"""Decimals of each value as written into the defaults (2 unless named here)."""

FAST_LEARNER = {"partners.absorptive_capacity": 0.9, "entrants.know_how_protection": 0.1}


def model_revision() -> str:
    """The git commit of the model evaluated (``+dirty`` if abm/ has uncommitted changes)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "abm"], capture_output=True, text=True, cwd=HERE, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def load_spec(path: Path = HERE / "spec.toml") -> dict:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def candidate_overrides(spec: dict, values: dict[str, float]) -> dict[str, float]:
    """Free values plus the values tied to them."""
    out = dict(values)
    for name, rule in spec.get("tied", {}).items():
        out[name] = rule["times"] * values[rule["of"]]
    return out


def conditions(runs: int) -> list[Condition]:
    return [
        Condition("alliances", "population by alliance", {"alliance": {"entry_mode": "alliance"}}, months=120, n=runs),
        Condition(
            "joint_ventures", "population by JV", {"joint_venture": {"entry_mode": "joint_venture"}}, months=120, n=runs
        ),
        Condition(
            "fast_learner",
            "alliances with a fast-learning partner facing unguarded know-how",
            {"fast_learner": {"entry_mode": "alliance", **FAST_LEARNER}},
            months=120,
            n=runs,
        ),
    ]


def evaluate(spec: dict, values: dict[str, float], runs: int, seed: int, workers: int) -> dict[str, float]:
    """The targets' model values for one candidate."""
    results = run_experiment(
        selected=conditions(runs), overrides=candidate_overrides(spec, values), master_seed=seed, workers=workers
    )
    out = {
        "jv_goals_met": facts.jv_goals_met(results).estimate,
        "alliances_fail": facts.alliances_fail(results).estimate,
        "success_for_both": facts.success_for_both(results).estimate,
        "failure_for_both": facts.failure_for_both(results).estimate,
        "jv_durations": facts.jv_durations(results).estimate,
    }
    base = results.runs["alliances"].set_index("entry").partnership_months.astype(float)
    fast = results.runs["fast_learner"].set_index("entry").partnership_months.astype(float)
    out["learning_effect"] = float((fast - base.loc[fast.index]).mean())
    out["failed_runs"] = len(results.failures)
    return out


def loss(spec: dict, measured: dict[str, float]) -> float:
    total = 0.0
    for name, t in spec["targets"].items():
        if not t.get("in_loss", True):
            continue
        x = measured[name]
        if "centre" in t:
            gap = x - t["centre"]
        elif "at_least" in t:
            gap = min(0.0, x - t["at_least"])
        else:
            gap = max(0.0, x - t["at_most"])
        total += (gap / t["half_width"]) ** 2
    return total


def lhs(box: dict[str, tuple[float, float]], points: int, seed: int) -> list[dict[str, float]]:
    names = list(box)
    unit = qmc.LatinHypercube(d=len(names), seed=seed).random(points)
    lo = np.array([box[n][0] for n in names])
    hi = np.array([box[n][1] for n in names])
    return [dict(zip(names, map(float, lo + u * (hi - lo)), strict=True)) for u in unit]


def rounded(values: dict[str, float]) -> dict[str, float]:
    return {k: round(v, DECIMALS.get(k, 2)) for k, v in values.items()}


def run_stage(
    spec: dict, stage: str, candidates: list[dict[str, float]], runs: int, seed: int, workers: int
) -> pd.DataFrame:
    """Evaluate candidates not yet in ``output/<stage>.csv``; return the whole table."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / f"{stage}.csv"
    done = pd.read_csv(path) if path.exists() else pd.DataFrame()
    for i, values in enumerate(candidates):
        if len(done) and i in set(done["candidate"]):
            continue
        started = time.perf_counter()
        measured = evaluate(spec, values, runs, seed, workers)
        row = {
            "candidate": i,
            **values,
            **measured,
            "loss": loss(spec, measured),
            "runs_per_arm": runs,
            "master_seed": seed,
            "seconds": round(time.perf_counter() - started, 1),
            "model_revision": model_revision(),
        }
        done = pd.concat([done, pd.DataFrame([row])], ignore_index=True)
        done.to_csv(path, index=False, float_format="%.6g")
        print(
            f"[{stage}] {i + 1}/{len(candidates)} loss {row['loss']:.2f}  "
            + "  ".join(f"{k}={v:.3g}" for k, v in measured.items()),
            flush=True,
        )
    return done


def free_box(spec: dict) -> dict[str, tuple[float, float]]:
    return {k: (float(v[0]), float(v[1])) for k, v in spec["free"].items()}


def current_defaults(names: list[str]) -> dict[str, float]:
    """The free parameters' values in the case's scenario (``spec.toml``'s ``scenario``):
    the defaults a recalibration starts from."""
    from abm.presets import resolve_scenario

    scenario = resolve_scenario(load_spec()["scenario"])
    out = {}
    for name in names:
        section, field = name.split(".")
        value = getattr(scenario, section)
        out[name] = float(getattr(value[0] if isinstance(value, list) else value, field))
    return out


def best(table: pd.DataFrame, names: list[str], k: int = 1) -> list[dict[str, float]]:
    top = table.sort_values("loss").head(k)
    return [{n: float(r[n]) for n in names} for _, r in top.iterrows()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--stage", choices=("all", "stage1", "stage2", "confirm"), default="all")
    parser.add_argument(
        "--from-defaults",
        action="store_true",
        help="skip stage 1: centre stage 2 on the current defaults (a recalibration after a model change)",
    )
    args = parser.parse_args(argv)
    spec = load_spec()
    d = spec["design"]
    box = free_box(spec)
    names = list(box)
    seed = spec["master_seed"]
    if args.stage in ("all", "stage1") and not args.from_defaults:
        run_stage(spec, "stage1", lhs(box, d["stage1_points"], seed), d["stage1_runs"], seed, args.workers)
    if args.stage in ("all", "stage2"):
        stage1 = None if args.from_defaults else pd.read_csv(OUTPUT / "stage1.csv")
        centre = current_defaults(names) if stage1 is None else best(stage1, names)[0]
        small = {}
        for n, (lo, hi) in box.items():
            half = d["stage2_shrink"] * (hi - lo)
            small[n] = (max(lo, centre[n] - half), min(hi, centre[n] + half))
        candidates = [centre, *lhs(small, d["stage2_points"] - 1, seed + 1)]
        run_stage(spec, "stage2", candidates, d["stage2_runs"], seed, args.workers)
    if args.stage in ("all", "confirm"):
        stage2 = pd.read_csv(OUTPUT / "stage2.csv")
        candidates = []
        for values in best(stage2, names, k=3 * d["confirm_top"]):
            r = rounded(values)
            if r not in candidates:
                candidates.append(r)
        confirm = run_stage(
            spec, "confirm", candidates[: d["confirm_top"]], d["confirm_runs"], d["confirm_seed"], args.workers
        )
        chosen = confirm.sort_values("loss").iloc[0]
        lines = [
            "# Chosen by experiments/calibration/calibrate.py (lowest confirmation loss)",
            f"# loss {chosen['loss']:.3f} on {int(chosen['runs_per_arm'])} entries, master seed "
            f"{int(chosen['master_seed'])}",
            "",
        ]
        values = {n: float(chosen[n]) for n in names}
        for name, value in candidate_overrides(spec, values).items():
            lines.append(f'"{name}" = {value:g}')
        lines += ["", "[measured]"]
        for t in spec["targets"]:
            lines.append(f"{t} = {float(chosen[t]):.4g}")
        (OUTPUT / "chosen.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
