"""Back-test of ``abm forecast``: does it cover what it did not see, at its nominal rate?

    .venv/bin/python experiments/inference/backtest.py --workers 2          # ~2,100 runs
    .venv/bin/python experiments/inference/backtest.py --reference 600 --truths 40   # quicker

Synthetic "true" entries are runs of the default case with known uncertain parameters,
drawn from the same prior as the forecast's (another master seed, so no truth is in the
reference table). For each truth, its first 6, 12 and 24 months of market share are revealed;
the forecast conditions the reference table on them and gives bands for the hidden months.
Reported: the share of hidden months whose true share lies inside the 50, 80 and 90 % bands
(coverage; nominal 50, 80, 90 %) and the mean width of the bands, for each number of months
revealed; and the same for the unconditioned prior (what the bands would be with no data).

Writes experiments/inference/output/backtest.csv and the figures in docs/inference/.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from abm.inference.forecast import BAND_LEVELS, case_prior, condition, reference_table
from abm.inference.runs import Runner
from abm.presets import resolve_scenario

HERE = Path(__file__).resolve().parent
DOCS = HERE.parents[1] / "docs" / "inference"
REVEALED = (6, 12, 24)


def coverage_rows(truth: dict, records: list[dict], picked: np.ndarray | None, k: int, label: str) -> list[dict]:
    share = np.array([r["share"] for r in records], dtype=float)
    paths = share if picked is None else share[picked]
    hidden = truth["share"][k + 1 :].astype(float)
    rows = []
    for level in BAND_LEVELS:
        lo, hi = np.quantile(paths[:, k + 1 :], [(1 - level) / 2, (1 + level) / 2], axis=0)
        inside = (hidden >= lo - 1e-9) & (hidden <= hi + 1e-9)
        rows.append(
            {
                "method": label,
                "revealed": k,
                "level": level,
                "coverage": float(inside.mean()),
                "width": float(np.mean(hi - lo)),
            }
        )
    return rows


def backtest(scenario, reference: int, truths: int, accept: float, runner: Runner) -> tuple[pd.DataFrame, dict]:
    case = resolve_scenario(scenario)
    prior = case_prior(case)
    _, records = reference_table(case, prior, reference, 1, runner)
    _, truth_records = reference_table(case, prior, truths, 2, runner)
    rows = []
    for t, truth in enumerate(truth_records):
        for k in REVEALED:
            observed = pd.DataFrame({"month": np.arange(k + 1), "market_share": truth["share"][: k + 1]})
            picked, _ = condition(observed, records, accept, case.entrants[0].capital)
            rows += [dict(r, truth=t) for r in coverage_rows(truth, records, picked, k, "forecast")]
            rows += [dict(r, truth=t) for r in coverage_rows(truth, records, None, k, "prior (no data)")]
    return pd.DataFrame(rows), {"records": records, "truths": truth_records, "case": case}


def figures(frame: pd.DataFrame, extra: dict, accept: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    DOCS.mkdir(parents=True, exist_ok=True)
    agg = frame.groupby(["method", "revealed", "level"]).agg(coverage=("coverage", "mean"), width=("width", "mean"))
    agg = agg.reset_index()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for level, colour in zip(BAND_LEVELS, ("#DD8452", "#55A868", "#4C72B0"), strict=True):
        f = agg[(agg.method == "forecast") & (agg.level == level)]
        axes[0].plot(f.revealed, f.coverage, "o-", color=colour, label=f"{int(level * 100)} % band")
        axes[0].axhline(level, color=colour, ls=":", lw=1)
        axes[1].plot(f.revealed, f.width, "o-", color=colour, label=f"forecast, {int(level * 100)} %")
        p = agg[(agg.method != "forecast") & (agg.level == level)]
        axes[1].plot(p.revealed, p.width, "x--", color=colour, alpha=0.6, label=f"prior, {int(level * 100)} %")
    axes[0].set_ylim(0, 1)
    axes[0].set_xticks(REVEALED)
    axes[0].set_xlabel("months revealed")
    axes[0].set_ylabel("coverage of the hidden months")
    axes[0].set_title("Coverage (dotted: nominal)", fontsize=10)
    axes[0].legend(fontsize=8)
    axes[1].set_xticks(REVEALED)
    axes[1].set_xlabel("months revealed")
    axes[1].set_ylabel("mean band width (share)")
    axes[1].set_title("Band width narrows as months are revealed", fontsize=10)
    axes[1].legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(DOCS / "backtest_coverage.png", dpi=110)
    plt.close(fig)

    # one truth, three reveals
    records, truth, case = extra["records"], extra["truths"][0], extra["case"]
    share = np.array([r["share"] for r in records], dtype=float)
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8), sharey=True)
    months = np.arange(share.shape[1])
    for ax, k in zip(axes, REVEALED, strict=True):
        observed = pd.DataFrame({"month": np.arange(k + 1), "market_share": truth["share"][: k + 1]})
        picked, _ = condition(observed, records, accept, case.entrants[0].capital)
        for level, alpha in ((0.9, 0.2), (0.8, 0.3), (0.5, 0.45)):
            lo, hi = np.quantile(share[picked], [(1 - level) / 2, (1 + level) / 2], axis=0)
            ax.fill_between(months, lo, hi, color="#4C72B0", alpha=alpha, lw=0, label=f"{int(level * 100)} % band")
        ax.plot(months, np.median(share[picked], axis=0), color="#4C72B0", label="median")
        ax.plot(months, truth["share"], color="black", lw=1, label="truth (hidden after the line)")
        ax.axvline(k, color="grey", ls=":")
        ax.set_title(f"{k} months revealed", fontsize=10)
        ax.set_xlabel("month")
    axes[0].set_ylabel("market share")
    axes[0].legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(DOCS / "backtest_fans.png", dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=int, default=2000, help="reference runs")
    parser.add_argument("--truths", type=int, default=100, help="synthetic true entries")
    parser.add_argument("--accept", type=float, default=0.05)
    parser.add_argument("--workers", default=None)
    parser.add_argument("--scenario", default="alpha-beta")
    args = parser.parse_args()
    started = time.perf_counter()
    with Runner(args.workers) as runner:
        frame, extra = backtest(args.scenario, args.reference, args.truths, args.accept, runner)
        executor = runner.describe()
    elapsed = time.perf_counter() - started
    out = HERE / "output"
    out.mkdir(exist_ok=True)
    frame.to_csv(out / "backtest.csv", index=False)
    figures(frame, extra, args.accept)
    agg = frame.groupby(["method", "revealed", "level"]).agg(coverage=("coverage", "mean"), width=("width", "mean"))
    print(agg.round(3).to_string())
    print(f"{args.reference + args.truths} runs in {elapsed:.0f} s on {executor}")


if __name__ == "__main__":
    main()
