"""How many of the package's mode and status words would mypy catch if one were misspelt?

Copies ``abm/`` of a checkout to a scratch folder, then for each string literal that is a
word of the model's vocabularies (entry modes, licence statuses, partnership end causes and
exit routes, ``ended``) appends an ``X`` to it, runs mypy with the project's configuration
(incrementally, through ``dmypy``) and counts the misspellings that produce a new error.
One word is misspelt at a time. Takes a few minutes.

    python experiments/typing/misspelt_words.py [CHECKOUT] [--config pyproject.toml] [-v]

Before issue 14's typing work (mypy ignoring the core, words typed ``str``): 0 of 238 words
caught; after: see docs/ECOSYSTEM.md.
"""

from __future__ import annotations

import argparse
import ast
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tokenize
from pathlib import Path

WORDS = {
    *("alone", "alliance", "joint_venture", "acquisition"),
    *("pending", "approved", "rejected", "refused", "withdrawn", "ended"),
    *("trust_floor", "missed_objectives", "expired", "partner_defected", "partner_walked_away"),
    *("entrant_exited", "buyout_by_entrant", "buyout_by_partner", "ipo", "liquidation"),
    *("integration_failed", "planned_end", "ended_by_entrant"),
}
"""The words (``none`` left out: it is also an incumbent's reaction and a summary's placeholder)."""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkout", nargs="?", default=".", help="a checkout holding abm/ (default: here)")
    ap.add_argument("--config", default=None, help="mypy configuration (default: CHECKOUT/pyproject.toml)")
    ap.add_argument("-v", "--verbose", action="store_true", help="list every word, caught or missed")
    args = ap.parse_args()
    checkout = Path(args.checkout).resolve()
    config = Path(args.config).resolve() if args.config else checkout / "pyproject.toml"
    dmypy = Path(sys.executable).with_name("dmypy")
    with tempfile.TemporaryDirectory(prefix="abm-misspelt-") as scratch:
        work = Path(scratch)
        shutil.copytree(checkout / "abm", work / "abm")
        clock = time.time() + 10

        def write(path: Path, text: str) -> None:
            nonlocal clock
            path.write_text(text, encoding="utf-8")
            clock += 2  # dmypy notices a change by its time stamp: one that moves on every write
            os.utime(path, (clock, clock))

        def errors() -> set[tuple[str, int]]:
            out = subprocess.run(
                [dmypy, "run", "--", "--config-file", str(config), "abm"], cwd=work, capture_output=True, text=True
            ).stdout
            return {(m[1], int(m[2])) for m in re.finditer(r"^(abm/\S+\.py):(\d+): error", out, re.M)}

        try:
            base = errors()
            results = []
            for path in sorted((work / "abm").rglob("*.py")):
                if path.name == "vocabulary.py":
                    continue
                text = path.read_text(encoding="utf-8")
                lines = text.splitlines(keepends=True)
                for tok in tokenize.generate_tokens(io.StringIO(text).readline):
                    if tok.type != tokenize.STRING or tok.start[0] != tok.end[0]:
                        continue
                    try:
                        word = ast.literal_eval(tok.string)
                    except (ValueError, SyntaxError):
                        continue
                    if word not in WORDS:
                        continue
                    row, col = tok.start[0] - 1, tok.start[1]
                    changed = list(lines)
                    changed[row] = (
                        lines[row][:col] + tok.string.replace(word, word + "X", 1) + lines[row][col + len(tok.string) :]
                    )
                    write(path, "".join(changed))
                    caught = bool(errors() - base)
                    results.append((caught, f"{path.relative_to(work)}:{tok.start[0]}", word))
                write(path, text)
        finally:
            subprocess.run([dmypy, "stop"], cwd=work, capture_output=True)
    caught = sum(c for c, _, _ in results)
    print(f"{caught} of {len(results)} vocabulary words caught by mypy when misspelt (errors before: {len(base)})")
    if args.verbose:
        for c, where, word in results:
            print(("caught " if c else "missed ") + f"{where} {word}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
