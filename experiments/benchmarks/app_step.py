"""How fast the app redraws a Step, and how soon Compare shows its progress, in headless Chromium.

Issue 13 asks for a Step redraw of at most 150 ms (median of 30 clicks, presentation mode
included) and Compare's progress visible within 1 s. The machine is shared, so one run
measures the app of this checkout against a baseline (another git revision, exported to a
temporary folder and served from there) under the same load, alternating between them, and
reports each median with the load average at the time.

A Step's time is from the click until the month label has changed and all four live charts
have fired ECharts' ``finished`` event for the new month (tests/test_app_browser.py's
``STEP_TIMER``).

Run:  nice .venv/bin/python experiments/benchmarks/app_step.py [--baseline d038f95] [--clicks 30]
Writes results/benchmarks/app_step-<time>.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from app_server import CHROMIUM, CHROMIUM_ARGS, running_app  # noqa: E402
from test_app_browser import STEP_TIMER  # noqa: E402
from test_app_views import PROGRESS  # noqa: E402

VIEWS = {
    # name: (query, viewport)
    "simulate 1440x1000": ("", (1440, 1000)),
    "presentation 1280x800": ("?present=1", (1280, 800)),
}


def export(revision: str, into: Path) -> Path:
    """The package as it is at ``revision`` (``git archive``), for serving the baseline."""
    archive = subprocess.run(["git", "archive", revision, "abm"], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def measure(src: Path | None, clicks: int, log: Path) -> dict:
    """Step times in each view and Compare's time to progress, for the app served from ``src``
    (None: this checkout)."""
    from playwright.sync_api import sync_playwright

    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}
    if src is not None:
        env["PYTHONPATH"] = str(src)
    out: dict = {}
    cmd_cwd = src if src is not None else ROOT
    with running_app([], cwd=cmd_cwd, log=log, env=env) as (base, _pid), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for view, (query, (w, h)) in VIEWS.items():
                page = browser.new_page(viewport={"width": w, "height": h})
                page.goto(base + "/" + query, wait_until="networkidle")
                page.wait_for_selector(".abm-month", timeout=120_000)
                for name in ("share", "map", "trust", "money"):
                    page.wait_for_selector(f".abm-chart-{name} canvas", timeout=60_000)
                page.evaluate(STEP_TIMER, 3)  # warm up: the first steps load code
                load = os.getloadavg()[0]
                times = page.evaluate(STEP_TIMER, clicks)
                drawn = [t for t in times if t is not None]
                out[view] = {
                    "median_ms": round(statistics.median(drawn), 1) if drawn else None,
                    "p90_ms": round(sorted(drawn)[int(0.9 * len(drawn)) - 1], 1) if drawn else None,
                    "clicks": clicks,
                    "not_drawn_within_10s": len(times) - len(drawn),
                    "load_1min": round((load + os.getloadavg()[0]) / 2, 2),
                }
                page.close()
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.goto(base + "/compare", wait_until="networkidle")
            page.wait_for_selector(".abm-compare-run", timeout=120_000)
            page.locator(".abm-replications .v-slider__thumb-container").focus()
            page.keyboard.press("Home")
            page.wait_for_selector(".abm-replications:has-text('variant: 10')")
            shown = page.evaluate(PROGRESS)
            out["compare progress"] = {
                "shown_ms": None if shown is None else round(shown),
                "load_1min": os.getloadavg()[0],
            }
            page.close()
        finally:
            browser.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", default="", help="git revision to measure against (e.g. d038f95)")
    parser.add_argument("--clicks", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=1, help="alternations of baseline and this checkout")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="abm-app-step-"))
    apps: dict[str, Path | None] = {}
    if args.baseline:
        (work / "baseline").mkdir()
        apps[f"baseline {args.baseline}"] = export(args.baseline, work / "baseline")
    apps["this checkout"] = None
    results: dict[str, list] = {name: [] for name in apps}
    for r in range(args.rounds):
        for name, src in apps.items():
            results[name].append(measure(src, args.clicks, work / f"server-{r}-{len(results[name])}.log"))
    report = {"when": time.strftime("%Y-%m-%dT%H:%M:%S"), "cpus": os.cpu_count(), "results": results}
    dest = ROOT / "results" / "benchmarks" / f"app_step-{time.strftime('%Y%m%d-%H%M%S')}.json"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(report, indent=2) + "\n")
    print(f"{'app':<22} {'view':<24} {'median ms':>10} {'p90 ms':>8} {'load':>6}")
    for name, rounds in results.items():
        for res in rounds:
            for view, row in res.items():
                value = row.get("median_ms", row.get("shown_ms"))
                print(f"{name:<22} {view:<24} {value!s:>10} {row.get('p90_ms', '')!s:>8} {row['load_1min']:>6.2f}")
    print(f"written to {dest.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
