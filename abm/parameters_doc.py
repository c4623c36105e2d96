"""Render the parameter reference (docs/PARAMETERS.md) from the scenario's own field specs,
so the documentation cannot drift from the code. ``python -m abm.parameters_doc`` rewrites it
in a checkout; installed from a wheel it prints the reference (or writes the FILE named).
"""

from __future__ import annotations

from pathlib import Path

from abm.scenario import (
    OVERRIDES,
    Contract,
    Entrant,
    Incumbent,
    Market,
    ModeChoice,
    Partner,
    Regulator,
    Scenario,
    field_docs,
)

SECTIONS = [
    ("Scenario (top level)", "", Scenario),
    ("Market `[market]`", "market.", Market),
    ("Entrants `[[entrants]]`", "entrants[i].", Entrant),
    ("Local partners `[[partners]]`", "partners[i].", Partner),
    ("Incumbents `[[incumbents]]`", "incumbents[i].", Incumbent),
    ("Regulators `[[regulators]]`", "regulators[i].", Regulator),
    ("Partnership contract `[contract]`", "contract.", Contract),
    ("Entry-mode choice `[mode_choice]`", "mode_choice.", ModeChoice),
]


def render() -> str:
    lines = [
        "# Scenario parameters",
        "",
        "Generated from `abm/scenario.py` by `python -m abm.parameters_doc`; do not edit by hand.",
        "Units: months; shares, probabilities, trust and commitment in [0, 1]; money in millions of",
        "the scenario's currency, prices in currency per buyer-month.",
        "",
    ]
    for title, prefix, cls in SECTIONS:
        lines += [f"## {title}", "", "| field | default | unit | meaning |", "|---|---|---|---|"]
        for name, default, unit, doc in field_docs(cls):
            shown = "(derived)" if default is None else f"`{default!r}`"
            lines.append(f"| `{prefix}{name}` | {shown} | {unit} | {doc.replace('|', '/')} |")
        lines.append("")
    lines += [
        "## Flat overrides",
        "",
        "Keyword arguments of `MarketEntryModel`/`abm.simulate`, `--set` on the CLI and sweep",
        "parameters accept these names (applied to every matching item) or any dotted path above",
        "(`partners[0].commitment`, `partners.commitment` for all).",
        "",
        "| name | sets |",
        "|---|---|",
    ]
    for name, paths in sorted(OVERRIDES.items()):
        lines.append(f"| `{name}` | {', '.join(f'`{p}`' for p in paths)} |")
    return "\n".join(lines) + "\n"


def path() -> Path | None:
    """docs/PARAMETERS.md of the checkout this package is imported from; None when installed
    from a wheel (there is no docs/ folder beside the package then)."""
    root = Path(__file__).resolve().parent.parent
    return root / "docs" / "PARAMETERS.md" if (root / "pyproject.toml").is_file() else None


def main(argv: list[str] | None = None) -> int:
    """``python -m abm.parameters_doc [FILE]``: write the reference to FILE, to the checkout's
    docs/PARAMETERS.md, or (installed from a wheel) print it."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else path()
    if target is None:
        sys.stdout.write(render())
        return 0
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
