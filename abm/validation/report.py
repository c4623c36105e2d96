"""The validation report: a markdown file with its figures (PNG) and tables (CSV).

``write_report(folder, results, checks, ablations)`` writes ``report.md``, the figures it
shows, ``facts.csv`` (one row per fact) and ``runs.parquet`` (one row per run).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from abm import __version__
from abm.partnership import FAILURE_CAUSES
from abm.validation import bass, population
from abm.validation.ablations import AblationResult
from abm.validation.experiment import Results
from abm.validation.facts import FactCheck, facts_frame, partnership_period_returns

COLOURS = {"ok": "#2c7a3f", "no": "#c0392b", "band": "#f2c14e", "model": "#1f4e79", "grey": "0.55"}

NOT_REPRODUCED = [
    "**What carries seed 004's partnership rates and Bleeke & Ernst's success for both.** The three "
    "hold together on assumptions no source pins (docs/ODD.md §7.4, §7.16, §9): a partner pays for "
    "the resources it puts into an alliance's set-up at what they save the entrant (no synergy in "
    "the set-up, although seed 000 says synergy is real; with half of it synergy, success for both "
    "runs about 3 points higher in the calibration screen), and a side that breaks a JV before its "
    "planned life pays a fee of 0.9 of the equity it put in, whatever the settlement. Partnerships still running at year 10 "
    "succeed for both in almost every run, so success for both rests on how many end early; most "
    "failed alliances are ended by a partner taking an outside opportunity (seed 000's shifting "
    "priorities), a split of causes no source gives.",
    "**The mix of entry modes.** Left to choose, the population's entrants buy the local firm when "
    "it is priced like a greenfield set-up (11 m, the distance contrast), stay out where no mode "
    "pays, and take JVs or alliances when far from the host; going alone is rare. Real entries "
    "(e.g. Kogut & Singh's sample) include many greenfield entries. The rise in 'JV or greenfield' "
    "with distance is carried by JVs.",
    "**Magnitudes of the direction facts.** The sources give directions, not sizes; the model's "
    "effects are sometimes far larger (a fast-learning partner facing unguarded know-how defects "
    "in about two runs in three). Only the signs are validated.",
    "**Timing of the Bleeke & Ernst figures.** They describe alliances of mixed ages; the model "
    "scores each partnership once, at a 10-year horizon, with the terminal value of a venture "
    "still running.",
    "**Facts partly built in.** The 40 % set-up saving and the 3-10-year planned JV life are inputs "
    "fixed from the seed; the Bass coefficients are inputs from Sultan et al. (the check is that "
    "the awareness submodel delivers them); how often incumbents move follows from the drawn cost "
    "of a change (docs/ODD.md §7.10), so 'one move or none' rests on that distribution, an "
    "assumption; a foreign-ownership cap forces a JV by the licensing rule.",
    "**Not checked.** Golder & Tellis's pioneer failure rate, Harrigan's 54.7 % (close to the "
    "complement of success for both), and the spread of licence times are not targets here. The "
    "literature figures are taken as reported in the project's domain brief (docs/VALIDATION.md), "
    "not re-read at their source.",
]
"""What the model does not reproduce, whatever the run (the report adds the facts that fail)."""


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


# ---- figures ----------------------------------------------------------------------------


def facts_figure(checks: list[FactCheck], path: Path) -> Path | None:
    """Every fact on one page: levels against their target bands, contrasts against zero."""
    levels = [c for c in checks if c.kind == "level" and c.unit == "share"]
    share_dirs = [c for c in checks if c.kind == "direction" and c.unit == "share"]
    month_dirs = [c for c in checks if c.kind == "direction" and c.unit == "months"]
    panels = [
        (p, t)
        for p, t in (
            (levels, "Levels (share of runs) against their target band"),
            (share_dirs, "Contrasts: change in share choosing a mode"),
            (month_dirs, "Contrasts: change in months"),
        )
        if p
    ]
    if not panels:
        return None
    plt = _plt()
    heights = [max(1.6, 0.55 * len(p) + 0.9) for p, _ in panels]
    fig, axes = plt.subplots(
        len(panels), 1, figsize=(10, sum(heights) + 0.6), gridspec_kw={"height_ratios": heights}, squeeze=False
    )
    for ax, (items, title) in zip(axes[:, 0], panels, strict=True):
        items = list(reversed(items))
        y = np.arange(len(items))
        scale = 100.0 if items[0].unit == "share" else 1.0
        for i, c in enumerate(items):
            colour = COLOURS["ok"] if c.holds else COLOURS["no"]
            if c.kind == "level":
                assert c.band is not None  # a level fact has its band
                lo, hi = c.band
                ax.barh(
                    i,
                    (hi - lo) * scale,
                    left=lo * scale,
                    height=0.7,
                    color=COLOURS["band"],
                    alpha=0.55,
                    lw=0,
                    label="target band" if i == 0 else None,
                )
            ax.errorbar(
                c.estimate * scale,
                i,
                xerr=[[max(0.0, (c.estimate - c.low) * scale)], [max(0.0, (c.high - c.estimate) * scale)]],
                fmt="o",
                color=colour,
                ms=7,
                capsize=4,
                lw=2,
            )
        if items[0].kind == "direction":
            ax.axvline(0, color="0.3", lw=1)
        ax.set_yticks(y)
        ax.set_yticklabels([_wrap(c.fact, 52) for c in items], fontsize=9)
        ax.set_title(title, fontsize=11, loc="left", fontweight="bold")
        ax.grid(axis="x", alpha=0.3)
        unit = "%" if items[0].unit == "share" else "months"
        ax.set_xlabel(
            ("percentage points" if items[0].kind == "direction" else "% of runs")
            if unit == "%"
            else "months (treatment - control)"
        )
        if items[0].kind == "level":
            ax.set_xlim(0, 100)
            ax.legend(loc="lower right", fontsize=8, frameon=False)
    fig.suptitle("Documented facts: model estimate with 95 % CI (green: holds, red: does not)", fontsize=12)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _wrap(text: str, width: int) -> str:
    words, lines, line = text.split(), [], ""
    for w in words:
        if len(line) + len(w) + 1 > width and line:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    lines.append(line)
    return "\n".join(lines)


def outcomes_figure(results: Results, path: Path) -> Path | None:
    """Two definitions on the same partnerships: goals met / failed, and the two partners'
    returns (success for both, mixed, failure for both), beside the sources' figures."""
    have = [n for n in ("alliances", "joint_ventures") if n in results.runs]
    if not have:
        return None
    plt = _plt()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    labels, goals, failed = [], [], []
    for n in have:
        df = results.runs[n]
        df = df[df.partnership_formed.astype(bool)]
        labels.append("alliances" if n == "alliances" else "joint ventures")
        goals.append(df.partnership_goals_met.mean() * 100)
        failed.append(df.partnership_failed.mean() * 100)
    x = np.arange(len(labels))
    ax1.bar(x - 0.2, goals, 0.4, color=COLOURS["ok"], label="goals met")
    ax1.bar(x + 0.2, failed, 0.4, color=COLOURS["no"], label="failed")
    for xi, g, f in zip(x, goals, failed, strict=True):
        # inside the bars, clear of the target-band markers drawn at the bars' tops
        ax1.text(xi - 0.2, g / 2, f"{g:.0f}%", ha="center", va="center", fontsize=10, color="white")
        ax1.text(xi + 0.2, f / 2, f"{f:.0f}%", ha="center", va="center", fontsize=10, color="white")
    targets = {("joint_ventures", -0.2): (60, 70), ("alliances", 0.2): (30, 40)}
    first = True
    for (name, dx), (lo, hi) in targets.items():
        if name in have:
            i = have.index(name)
            ax1.errorbar(
                i + dx,
                (lo + hi) / 2,
                yerr=(hi - lo) / 2,
                fmt="none",
                ecolor="black",
                elinewidth=2.5,
                capsize=9,
                capthick=2,
                zorder=5,
                label="seed target band" if first else None,
            )
            first = False
    ax1.set_xticks(x)
    ax1.set_xticklabels(labels)
    ax1.set_ylim(0, 100)
    ax1.set_ylabel("% of partnerships")
    ax1.set_title("Goals met vs failed (seed 004)", fontsize=11, fontweight="bold")
    ax1.legend(fontsize=8, frameon=False, loc="upper right")

    pooled = pd.concat([results.runs[n][results.runs[n].partnership_formed.astype(bool)] for n in have])
    groups = {
        lab: results.runs[n][results.runs[n].partnership_formed.astype(bool)]
        for lab, n in zip(labels, have, strict=True)
    }
    groups["all partnerships"] = pooled
    names = [*groups, "Bleeke & Ernst\n1991"]
    s4b = [g.success_for_both.mean() * 100 for g in groups.values()] + [51.0]
    f4b = [g.failure_for_both.mean() * 100 for g in groups.values()] + [33.0]
    mixed = [100 - a - b for a, b in zip(s4b, f4b, strict=True)]
    x = np.arange(len(names))
    ax2.bar(x, s4b, color=COLOURS["ok"], label="success for both (NPV > 0 for each)")
    ax2.bar(x, mixed, bottom=s4b, color="0.75", label="one gains, one loses")
    ax2.bar(x, f4b, bottom=np.add(s4b, mixed), color=COLOURS["no"], label="failure for both")
    for xi, a, b in zip(x, s4b, f4b, strict=True):
        ax2.text(xi, a / 2, f"{a:.0f}%", ha="center", va="center", color="white", fontsize=9)
        ax2.text(xi, 100 - b / 2, f"{b:.0f}%", ha="center", va="center", color="white", fontsize=9)
    ax2.set_xticks(x)
    ax2.set_xticklabels(names, fontsize=9)
    ax2.set_ylim(0, 100)
    ax2.set_title("Returns for both partners (Bleeke & Ernst)", fontsize=11, fontweight="bold")
    ax2.legend(fontsize=8, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def jv_duration_figure(results: Results, path: Path) -> Path | None:
    if "joint_ventures" not in results.runs:
        return None
    df = results.runs["joint_ventures"]
    months = np.array([m for ms in df.jv_months for m in ms], dtype=float)
    if not len(months):
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 3.8))
    ax.axvspan(3, 10, color=COLOURS["band"], alpha=0.35, lw=0, label="planned life: 3-10 years (seed)")
    ax.hist(
        months / 12,
        bins=np.arange(0, 10.75, 0.5),
        color=COLOURS["model"],
        alpha=0.85,
        label=f"realised duration ({len(months)} JVs)",
    )
    inside = np.mean((months >= 36) & (months <= 120))
    ax.set_xlabel("years from formation to end")
    ax.set_ylabel("joint ventures")
    ax.set_title(f"Realised JV durations: {inside:.0%} within 3-10 years", fontsize=11, fontweight="bold")
    ax.legend(fontsize=9, frameon=False, loc="upper left")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def bass_figure(results: Results, checks: list[FactCheck], path: Path) -> Path | None:
    if "diffusion" not in results.runs:
        return None
    paths = np.array(results.runs["diffusion"].awareness_path.tolist(), dtype=float)
    p = next((c for c in checks if c.key == "bass_p"), None)
    q = next((c for c in checks if c.key == "bass_q"), None)
    if p is None or q is None:
        return None
    plt = _plt()
    t = np.arange(paths.shape[1]) / 12
    fig, ax = plt.subplots(figsize=(8, 4.2))
    lo, hi = np.percentile(paths, [10, 90], axis=0)
    ax.fill_between(t, lo * 100, hi * 100, color=COLOURS["model"], alpha=0.18, lw=0, label="model, 10-90 % of runs")
    ax.plot(t, paths.mean(axis=0) * 100, color=COLOURS["model"], lw=2.5, label=f"model, mean of {len(paths)} runs")
    ax.plot(
        t,
        bass.bass_cdf(t, p.estimate, q.estimate) * 100,
        color="#e67e22",
        lw=1.8,
        ls="--",
        label=f"Bass fit: p = {p.estimate:.3f}, q = {q.estimate:.3f} per year",
    )
    ax.plot(
        t,
        bass.bass_cdf(t, 0.03, 0.38) * 100,
        color="0.2",
        lw=1.2,
        ls=":",
        label="Bass with p = 0.03, q = 0.38 (Sultan et al. 1990)",
    )
    ax.set_xlabel("years on sale")
    ax.set_ylabel("consumers aware of the brand (%)")
    ax.set_ylim(0, 100)
    ax.set_xlim(0, t[-1])
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9, frameon=False, loc="lower right")
    ax.set_title("Awareness follows a Bass S-curve", fontsize=11, fontweight="bold")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# ---- markdown ---------------------------------------------------------------------------


def facts_table(checks: list[FactCheck]) -> list[str]:
    lines = ["| Fact | Source | Target band | Model value [95 % CI] | Holds? | Basis |", "|---|---|---|---|---|---|"]
    for c in checks:
        lines.append(f"| {c.fact} | {c.source} | {c.target} | {c.model_value()} | {c.verdict} | {c.basis} |")
    return lines


def _design_table(results: Results) -> list[str]:
    lines = ["| Condition | Arms | Runs per arm | Months | What |", "|---|---|---|---|---|"]
    for name, c in results.conditions.items():
        lines.append(
            f"| `{name}` | {', '.join(c.arms)} | {c.n} | {c.months} | "
            f"{c.description}{'' if c.population else ' (no population draw)'} |"
        )
    return lines


def _population_table() -> list[str]:
    lines = ["| Trait | Distribution | Why |", "|---|---|---|"]
    for path, law, why in population.describe():
        lines.append(f"| `{path}` | {law} | {why} |")
    return lines


def _ablation_lines(ablations: list[AblationResult], checks: list[FactCheck]) -> list[str]:
    reference = {c.key: c for c in checks}
    lines = [
        "| Mechanism switched off | Fact | With the mechanism | Without it | Fact broken? |",
        "|---|---|---|---|---|",
    ]
    for a in ablations:
        for key in a.ablation.breaks:
            after = next((c for c in a.checks if c.key == key), None)
            if after is None:
                continue
            before = reference.get(key)
            lines.append(
                f"| {a.ablation.mechanism} | {after.fact} | "
                f"{before.model_value() if before else 'n/a'} | {after.model_value()} | "
                f"{'yes' if a.broken(key) else '**no**'} |"
            )
    survived = [
        a.ablation
        for a in ablations
        if a.ablation.remainder and any(not a.broken(k) for k in a.ablation.breaks if any(c.key == k for c in a.checks))
    ]
    if survived:
        lines += ["", "Where a fact survives (**no**), the mechanism is not its only carrier:", ""]
        lines += [f"- *{ab.mechanism}*, {ab.remainder}." for ab in survived]
    return lines


def report_markdown(
    results: Results,
    checks: list[FactCheck],
    ablations: list[AblationResult],
    figures: dict[str, str],
    elapsed_s: float,
) -> str:
    n_runs = sum(len(df) for df in results.runs.values())
    holding = sum(c.holds for c in checks)
    failing = [c for c in checks if not c.holds]
    lines = [
        "# Validation report: does the model reproduce what is known?",
        "",
        f"`abm validate` ({results.plan.name} mode), abm {__version__}, master seed {results.master_seed}: "
        f"{n_runs:,} runs in {len(results.runs)} conditions"
        + (
            f", plus {sum(sum(len(d) for d in a.results.runs.values()) for a in ablations):,} runs of mechanism checks"
            if ablations
            else ""
        )
        + f"; {elapsed_s:.0f} s on {results.workers} worker{'s' if results.workers != 1 else ''}.",
        "",
        f"**{holding} of {len(checks)} facts hold.**"
        + ("" if not failing else " Not holding: " + "; ".join(c.fact for c in failing) + "."),
        "",
    ]
    if results.plan.name != "full":
        lines += [
            "*Quick mode: few runs per condition, so intervals are wide; a level fact whose interval "
            "overlaps its band is marked consistent. Run `abm validate` (full mode, >= 1,000 runs per "
            "condition) for the figures quoted in docs/VALIDATION.md.*",
            "",
        ]
    lines += ["## Facts", "", *facts_table(checks), ""]
    if "facts" in figures:
        lines += [f"![facts]({figures['facts']})", ""]
    lines += ["Notes:", ""]
    lines += [f"- **{c.fact}**: {c.note} (n = {c.n:,})." for c in checks]
    lines += [
        "",
        "Basis: *emergent* comes out of the dynamics (and, for the first four, of the calibration); "
        "*rule* means the direction is written into a decision rule and the check shows it survives a "
        "heterogeneous population; *input* means a value fixed from a source that the check shows the "
        "implementation delivers.",
        "",
    ]
    lines += ["## What the model does not reproduce", ""]
    for c in failing:
        lines.append(f"- **Fails here: {c.fact}** (target {c.target}; model {c.model_value()}). {c.note}.")
    lines += [f"- {text}" for text in NOT_REPRODUCED]
    lines += [
        "",
        "## Two definitions of success, one population",
        "",
        "Defined once in `abm/simulation.py` (docs/ODD.md, *Success and failure*):",
        "",
        "- *partnership failed*: the partnership ended by one of: "
        + ", ".join(c.replace("_", " ") for c in FAILURE_CAUSES)
        + ", or a JV that was liquidated (even at "
        "its planned end);",
        "- *partnership goals met*: it did not fail and the entrant's share while partnered reached the "
        "review objective (half the target share) - the seeds' 'JVs meet their primary goals';",
        "- *success for both* / *failure for both*: NPV at each partner's own cost of capital (terminal value "
        "of a live venture included) above zero for both / for neither - Bleeke & Ernst's 'returns above the "
        "cost of capital'.",
        "",
        "A partnership can meet its goals and still not pay one partner back (set-up costs, a thin share of "
        "the profit), so the share meeting goals exceeds the share succeeding for both; both figures come "
        "from the same runs.",
        "",
    ]
    alt = partnership_period_returns(results)
    if alt is not None:
        lines += [
            f"Bleeke & Ernst scored alliances, not whole entries. Scoring each partnership when it ends (the "
            f"entrant's NPV up to that month plus the going-concern value of what it then holds; the partner's "
            f"NPV from the partnership) instead of the entrant's whole entry to year 10 gives "
            f"{alt['success_for_both']:.0%} success for both and {alt['failure_for_both']:.0%} failure for both "
            f"(n = {alt['n']:,}; a diagnostic, not the project's definition).",
            "",
        ]
    if "outcomes" in figures:
        lines += [f"![outcomes]({figures['outcomes']})", ""]
    for key, title in (("jv_durations", "JV durations"), ("bass", "Awareness diffusion")):
        if key in figures:
            lines += [f"## {title}", "", f"![{key}]({figures[key]})", ""]
    if ablations:
        lines += [
            "## Mechanism checks",
            "",
            "Each mechanism is switched off and its conditions re-run on the same entries and seeds; a "
            "fact is broken when its 95 % interval no longer reaches the target (for a contrast: no longer "
            "excludes zero on the expected side).",
            "",
            *_ablation_lines(ablations, checks),
            "",
        ]
    lines += [
        "## Design",
        "",
        "Each condition runs the same entries in every arm, with the same seeds (common random numbers), so "
        "arms differ only by the factor named. Runs simulate the scenario's full consumer market; horizons "
        "are cut where the fact allows (licences: 3 years; mode choice: the decision at month 0).",
        "",
    ]
    lines += [
        *_design_table(results),
        "",
        "### The population of entries",
        "",
        "Each entry starts from the default preset (`alpha-beta`) and redraws:",
        "",
        *_population_table(),
        "",
    ]
    if results.failures:
        lines += [f"{len(results.failures)} runs raised an error; see failures.csv.", ""]
    return "\n".join(lines) + "\n"


def write_report(
    folder: Path,
    results: Results,
    checks: list[FactCheck],
    ablations: list[AblationResult] | None = None,
    elapsed_s: float | None = None,
) -> Path:
    """Write report.md, its figures, facts.csv and runs.parquet into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    ablations = ablations or []
    figures = {}
    for key, make in (
        ("facts", lambda p: facts_figure(checks, p)),
        ("outcomes", lambda p: outcomes_figure(results, p)),
        ("jv_durations", lambda p: jv_duration_figure(results, p)),
        ("bass", lambda p: bass_figure(results, checks, p)),
    ):
        if make(folder / f"{key}.png") is not None:
            figures[key] = f"{key}.png"
    facts_frame(checks).to_csv(folder / "facts.csv", index=False)
    runs = pd.concat([df.assign(condition=name) for name, df in results.runs.items()], ignore_index=True)
    for col in ("jv_months", "jv_ended", "incumbent_moves", "awareness_path"):
        if col in runs:
            runs[col] = runs[col].map(
                lambda v: None if v is None or (isinstance(v, float) and math.isnan(v)) else list(v)
            )
    runs.to_parquet(folder / "runs.parquet", index=False)
    if results.failures:
        pd.DataFrame(results.failures).to_csv(folder / "failures.csv", index=False)
    text = report_markdown(results, checks, ablations, figures, results.elapsed_s if elapsed_s is None else elapsed_s)
    (folder / "report.md").write_text(text, encoding="utf-8")
    return folder / "report.md"
