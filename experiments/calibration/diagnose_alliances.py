"""Why do alliances of the validation population fail? (issue 11, the alliance failure rate)

Runs the quick validation's ``alliances`` condition (the same entries and seeds as
``abm validate --quick``) and records, for each alliance that ends, who ended it, the option
that won, and whether a bargain existed at that moment: whether the joint value of carrying on
(the entrant's and the partner's estimates) exceeded the two sides' threat points (the entrant's
best way out, the partner's expected outside opportunity, or the offer in hand).

    .venv/bin/python experiments/calibration/diagnose_alliances.py --n 120 --out /tmp/diag.csv
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from abm import lifecycle
from abm.model import MarketEntryModel
from abm.partnership import failed
from abm.seeding import run_seed
from abm.validation.experiment import QUICK, build_base, conditions, entry_scenario


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=120)
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--out", default="")
    args = ap.parse_args()
    cond = next(c for c in conditions(QUICK) if c.name == "alliances")
    base = build_base(None, cond)
    rows: list[dict] = []
    original_end = lifecycle.end
    current: dict = {}

    def recording_end(model, p, cause, then=""):
        est = lifecycle.estimates(model, p)
        partner = model.partner_by_name[p.partner]
        last = model.decisions[-1] if model.decisions else None
        d_e = lifecycle._end_options(model, p, est)
        d_p = partner.config.outside_option * partner.config.opportunity_value
        offer = current.get("offer", float("nan")) if current.get("month") == model.month else float("nan")
        rows.append(
            {
                "entry": current["entry"],
                "month": model.month,
                "kind": p.kind,
                "cause": cause,
                "then": then,
                "decision": last.decision.kind if last else "",
                "by": last.decision.firm if last else "",
                "choice": last.choice if last else "",
                "options": "; ".join(f"{o.name}={o.value:.1f}" for o in last.decision.options) if last else "",
                "E_cont": est["entrant_continue"],
                "P_cont": est["partner_continue"],
                "E_alone": est["entrant_alone"],
                "E_leave": est["entrant_leave"],
                "d_e": d_e,
                "d_p": d_p,
                "offer": offer,
                "phi": p.profit_share,
                "gross_value": est["gross_value"],
                "trust_e": p.trust_entrant,
                "trust_p": p.trust_partner,
                "share": model.entrant_by_name[p.entrant].market_share,
                "planned": lifecycle.planned_share(model, model.entrant_by_name[p.entrant]),
                "in_trouble": lifecycle.in_trouble(model, p),
                "failed": failed(cause, None) if p.kind == "alliance" else None,
            }
        )
        return original_end(model, p, cause, then)

    original_leave = lifecycle.partner_considers_leaving

    def recording_leave(model, p, offer):
        current["offer"], current["month"] = offer, model.month
        return original_leave(model, p, offer)

    lifecycle.end = recording_end
    lifecycle.partner_considers_leaving = recording_leave
    started = time.perf_counter()
    summary = []
    for i in range(args.n):
        current["entry"] = i
        scenario = entry_scenario(base, cond, "alliance", args.seed, i)
        model = MarketEntryModel(scenario, seed=run_seed(args.seed, i))
        try:
            model.run()
            ps = [p for p in model.partnerships if p.entrant == model.entrants[0].name]
            summary.append(
                {
                    "entry": i,
                    "failed": any(failed(p.end_cause, p.exit_route) for p in ps),
                    "renegotiations": sum(p.renegotiations for p in ps),
                }
            )
        finally:
            model.release()
    df = pd.DataFrame(rows)
    s = pd.DataFrame(summary)
    print(f"{args.n} entries in {time.perf_counter() - started:.0f} s; failed {s.failed.mean():.1%}")
    print(f"renegotiations per entry: {s.renegotiations.mean():.2f}")
    if df.empty:
        return
    df["joint"] = df.E_cont + df.P_cont
    df["threat"] = df.d_e + df.d_p
    df["bargain"] = df.joint > df.threat
    first = df[df.kind == "alliance"].groupby("entry").head(1)
    fail = first[first.failed.astype(bool)]
    print(f"alliance endings (first per entry): {len(first)}, failures: {len(fail)}")
    print(fail.groupby(["cause", "decision", "by", "choice"]).size().to_string())
    print("\nbargain existed at the failure (joint continue > d_e + d_p):")
    print(fail.groupby("cause").bargain.agg(["mean", "sum", "size"]).to_string())
    ent = fail[fail.by == fail.entry.map(lambda _: fail.by.iloc[0]) if False else fail.decision != "walk_away"]
    print("\nentrant-ended failures: medians")
    cols = ["E_cont", "P_cont", "d_e", "d_p", "joint", "threat", "phi", "gross_value", "share", "planned"]
    print(ent[cols].describe().T[["25%", "50%", "75%"]].round(2).to_string())
    print("\nby which option won (entrant-ended):")
    print(ent.assign(won=ent.choice + "/" + ent.then).groupby("won").size().to_string())
    if args.out:
        df.to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
