"""Why do so many partnerships succeed for both partners? (issue 11, Bleeke & Ernst's 51 %)

Runs the validation population's ``alliances`` and ``joint_ventures`` conditions (the same
entries and run seeds as ``abm validate``, master seed ``--seed``) and, for each partnership,
takes the partner's NPV apart: its operating take (profit share of the gross margin in an
alliance, its stake of the operating profit in a JV), the service cost it pays itself (alliance),
the coordination cost across cultures the venture bears and the partner's part of it, one-off
flows (equity and formation cost put into a JV, talks, buyout or liquidation proceeds) and the
going-concern value of a partnership still live at the horizon; beside it the entrant's NPV.

    .venv/bin/python experiments/calibration/diagnose_success.py --n 150 --seed 8 --out /tmp/diag.csv
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

_PATCHED = False
_REC: dict = {}


def _patch() -> None:
    """Record, per month of a partnered venture, what the partner takes and pays."""
    global _PATCHED
    if _PATCHED:
        return
    import abm.model as model_mod
    from abm import lifecycle

    original_split = model_mod.split_month
    original_coord = lifecycle.coordination_cost

    def split(kind, revenue, variable, fixed, **kw):
        acc = original_split(kind, revenue, variable, fixed, **kw)
        if kind in ("alliance", "joint_venture"):
            r = _REC.setdefault("months", [])
            r.append(
                {
                    "kind": kind,
                    "take": acc.partner_take,
                    "service_paid": kw.get("partner_service_cost", 0.0) * kw.get("partner_delivered", 0.0)
                    if kind == "alliance"
                    else 0.0,
                    "operating": acc.operating_profit,
                    "coord": _REC.get("coord_now", 0.0),
                    "stake": kw.get("stake", 1.0),
                    "month": _REC["model"].month,
                }
            )
        return acc

    def coord(model, p):
        c = original_coord(model, p)
        _REC["coord_now"] = c
        return c

    model_mod.split_month = split
    lifecycle.coordination_cost = coord
    _PATCHED = True


def _one(task: tuple) -> dict:
    cond_name, arm, i, seed = task
    _patch()
    from abm.model import MarketEntryModel
    from abm.seeding import run_seed
    from abm.simulation import _entrant_summary, _partner_npv
    from abm.validation.experiment import FULL, build_base, conditions, entry_scenario

    cond = next(c for c in conditions(FULL) if c.name == cond_name)
    base = build_base(None, cond)
    scenario = entry_scenario(base, cond, arm, seed, i)
    model = MarketEntryModel(scenario, seed=run_seed(seed, i))
    _REC.clear()
    _REC["model"] = model
    try:
        model.run()
        e = model.entrants[0]
        row = _entrant_summary(model, e)
        mine = [p for p in model.partnerships if p.entrant == e.name]
        if not mine:
            return {"condition": cond_name, "entry": i, "partnered": False}
        p = mine[0]
        coc = model.partner_by_name[p.partner].config.cost_of_capital
        months = pd.DataFrame(_REC.get("months", []))
        if months.empty:
            ops = serv = coord_pv = coord_partner = take_pv = 0.0
        else:
            df = (1 + coc) ** (-months.month / 12.0)
            take_pv = float((months["take"] * df).sum())
            serv = float((months.service_paid * df).sum())
            ops = take_pv - serv
            coord_pv = float((months.coord * df).sum())
            # the partner's part of the coordination cost as the venture bears it: its stake's share in a JV
            coord_partner = float(
                (np.where(months.kind == "joint_venture", (1 - months.stake) * months.coord, 0.0) * df).sum()
            )
        total = sum(_partner_npv(model, q) for q in mine)
        tv = total - sum(q.partner_npv for q in mine)
        return {
            "condition": cond_name,
            "entry": i,
            "partnered": True,
            "kind": p.kind,
            "upgraded": p.upgraded,
            "end_cause": p.end_cause or "active",
            "exit_route": p.exit_route or "",
            "months": p.months(model.month),
            "entrant_npv": row["npv"],
            "partner_npv": row["partner_npv"],
            "success_for_both": row["success_for_both"],
            "failure_for_both": row["failure_for_both"],
            "goals_met": row["partnership_goals_met"],
            "failed": row["partnership_failed"],
            "take_pv": take_pv,
            "service_paid_pv": serv,
            "operating_pv": ops,
            "one_off_pv": total - tv - ops,
            "terminal_pv": tv,
            "coord_pv_venture": coord_pv,
            "coord_pv_partner_share": coord_partner,
            "profit_share": p.profit_share,
            "stake": p.stake,
            "fit": p.fit,
            "cultural_distance": e.cultural_distance,
            "partner_cost_of_capital": coc,
            "outside_option": model.partner_by_name[p.partner].config.outside_option,
            "buyers": scenario.market.buyers,
        }
    finally:
        model.release()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=150)
    ap.add_argument("--seed", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default="")
    args = ap.parse_args()
    tasks = [
        (c, a, i, args.seed)
        for c, a in (("alliances", "alliance"), ("joint_ventures", "joint_venture"))
        for i in range(args.n)
    ]
    started = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as ex:
        rows = list(ex.map(_one, tasks, chunksize=4))
    df = pd.DataFrame(rows)
    df = df[df.partnered.astype(bool)].copy()
    print(f"{len(df)} partnerships in {time.perf_counter() - started:.0f} s (seed {args.seed}, n {args.n})")
    df["e_pos"] = df.entrant_npv > 0
    df["p_pos"] = df.partner_npv > 0
    df["outcome"] = np.select(
        [df.e_pos & df.p_pos, df.e_pos & ~df.p_pos, ~df.e_pos & df.p_pos],
        ["both", "entrant_only", "partner_only"],
        "neither",
    )
    print("\noutcome shares by condition:")
    print(pd.crosstab(df.condition, df.outcome, normalize="index").round(3).to_string())
    cols = [
        "entrant_npv",
        "partner_npv",
        "take_pv",
        "service_paid_pv",
        "one_off_pv",
        "terminal_pv",
        "coord_pv_venture",
        "coord_pv_partner_share",
    ]
    print("\nmedians by condition and outcome (m):")
    print(df.groupby(["condition", "outcome"])[cols].median().round(1).to_string())
    print("\npartner NPV quantiles by condition (m):")
    print(df.groupby("condition").partner_npv.quantile([0.1, 0.25, 0.5, 0.75, 0.9]).unstack().round(1).to_string())
    print("\nentrant NPV quantiles by condition (m):")
    print(df.groupby("condition").entrant_npv.quantile([0.1, 0.25, 0.5, 0.75, 0.9]).unstack().round(1).to_string())
    print("\nsuccess for both by ending (share, n):")
    print(df.groupby(["condition", "end_cause"]).success_for_both.agg(["mean", "size"]).round(2).to_string())
    print(
        "\nwhat if the partner bore half the coordination cost in an alliance: success for both "
        + str(
            round(
                float(
                    (
                        df.e_pos
                        & (df.partner_npv - np.where(df.kind == "alliance", 0.5 * df.coord_pv_venture, 0.0) > 0)
                    ).mean()
                ),
                3,
            )
        )
    )
    if args.out:
        df.to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
