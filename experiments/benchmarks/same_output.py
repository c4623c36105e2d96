"""Check that a speed change left the model's output alone: the same scenario and seed give
the same frames, bit for bit, on this checkout and on a base commit.

    python experiments/benchmarks/same_output.py --base b378ce4 [--seeds 20] [--presets a,b]

Extracts the base commit (``git archive``) into a temporary folder, runs every preset x seed
there and here in fresh processes (``ABM_NUMBA=0``: the numpy path, and, here, also the
compiled loops), and compares the five frames of each run exactly. Exit status 1 and the
first differing run if any differ. Model changes (another session's) make it differ by
design: compare against the commit the speed change started from.
"""

from __future__ import annotations

import argparse
import os
import pickle
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRESETS = ("alpha-beta", "two-entrants", "strong-incumbents")
FRAMES = ("steps", "summary", "entrants", "partnerships", "events")

_RUN = """
import pickle, sys
from abm import consumer_kernels
FRAMES = ("steps", "summary", "entrants", "partnerships", "events")
if sys.argv[3] == "compiled":
    assert consumer_kernels.enable(), "numba not available"
import abm
out = {}
for preset in sys.argv[1].split(","):
    for seed in range(int(sys.argv[2])):
        r = abm.simulate(preset, seed=seed)
        out[preset, seed] = {name: getattr(r, name) for name in FRAMES}
pickle.dump(out, sys.stdout.buffer)
"""


def _frames(source: Path, presets: list[str], seeds: int, path: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(source), "ABM_NUMBA": "0" if path == "numpy" else "1"}
    with tempfile.TemporaryDirectory() as cwd:  # not the checkout: its abm/ would shadow PYTHONPATH
        done = subprocess.run(
            [sys.executable, "-c", _RUN, ",".join(presets), str(seeds), path],
            cwd=cwd,
            env=env,
            capture_output=True,
            check=False,
        )
    if done.returncode:
        sys.exit(f"runs from {source} failed:\n{done.stderr.decode()[-3000:]}")
    return pickle.loads(done.stdout)


def _first_difference(a: dict, b: dict) -> str | None:
    for key in a:
        for name in FRAMES:
            x, y = a[key][name], b[key][name]
            if not (x.columns.equals(y.columns) and x.dtypes.equals(y.dtypes) and x.equals(y)):
                return f"{key[0]} seed {key[1]}: {name} differs"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="git revision to compare against")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--presets", default=",".join(PRESETS))
    args = parser.parse_args(argv)
    presets = args.presets.split(",")
    with tempfile.TemporaryDirectory() as base:
        archive = Path(base) / "base.tar"
        subprocess.run(["git", "archive", "-o", str(archive), args.base], cwd=ROOT, check=True)
        with tarfile.open(archive) as tar:
            tar.extractall(base, filter="data")
        reference = _frames(Path(base), presets, args.seeds, "numpy")
    failed = False
    for path in ("numpy", "compiled"):
        here = _frames(ROOT, presets, args.seeds, path)
        difference = _first_difference(reference, here)
        print(f"{path} path vs {args.base}: {len(here)} runs, " + (difference or "all frames identical"))
        failed = failed or difference is not None
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
