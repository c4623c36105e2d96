"""Write example.csv: the first 19 months (0-18) of a synthetic entry, and print its hidden truth.

    .venv/bin/python experiments/inference/make_example.py

The default case (alpha-beta) run with Bass p = 0.02, q = 0.5 and the partner's commitment
0.7, seed 20261201, on the current model. The CSV holds what a strategy team would have seen
after 18 months (share, awareness, licence month, partnership status); the rest of the run is
the "hidden truth" that docs/INFERENCE.md compares the forecast with.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from abm.presets import resolve_scenario
from abm.simulation import simulate

HERE = Path(__file__).resolve().parent
OVERRIDES = {"market.bass_p": 0.02, "market.bass_q": 0.5, "partners.commitment": 0.7}
SEED = 20261201
OBSERVED_MONTHS = 19


def main() -> None:
    case = resolve_scenario("alpha-beta").with_overrides(OVERRIDES)
    result = simulate(case, seed=SEED)
    focal = result.scenario.entrants[0].name
    path = result.steps[result.steps.firm == focal].sort_values("month").head(OBSERVED_MONTHS)
    licensed = path.licensed.to_numpy(bool)
    first = int(path.month.to_numpy()[licensed.argmax()]) if licensed.any() else None
    frame = pd.DataFrame(
        {
            "month": path.month.astype(int).to_numpy(),
            "market_share": path.market_share.round(4).to_numpy(),
            "awareness": path.awareness.round(4).to_numpy(),
            "licence_month": [first if lic else None for lic in licensed],
            "partnership_status": path.partnership.astype(str).to_numpy(),
        }
    )
    frame["licence_month"] = frame["licence_month"].astype("Int64")
    frame.to_csv(HERE / "example.csv", index=False)
    s = result.outcomes()
    print(frame.to_string(index=False))
    print("hidden truth:", {k: s[k] for k in ("share_y1", "share_y3", "share_y5", "months_to_target", "npv")})
    print("partnership failed:", bool(s["partnership_failed"]), "licence month:", s["licence_month"])


if __name__ == "__main__":
    main()
