"""The package behaves in other people's tools: notebooks, samplers, process pools, readers."""

import subprocess
import sys
import textwrap

import pytest

NOTEBOOK_CELL = textwrap.dedent(
    """
    import multiprocessing
    multiprocessing.set_start_method("fork")
    import abm
    abm.simulate("alpha-beta", seed=1, steps=6, consumers=300)
    print("method", multiprocessing.get_start_method(allow_none=True))

    def npv(seed):  # defined in __main__, as in a notebook cell
        return float(abm.simulate("alpha-beta", seed=seed, steps=6, consumers=300).summary["npv"].iloc[0])

    with multiprocessing.Pool(2) as pool:
        values = pool.map_async(npv, range(4)).get(timeout=60)
    print("pool", len(values))
    """
)


def _run_stdin(script: str) -> subprocess.CompletedProcess:
    # fed on stdin, the script's __main__ has no file: a spawned worker could not find `npv`
    return subprocess.run([sys.executable, "-"], input=script, capture_output=True, text=True, timeout=120, check=False)


def test_importing_abm_keeps_the_users_start_method_and_notebook_pools_work():
    out = _run_stdin(NOTEBOOK_CELL)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "method fork" in out.stdout
    assert "pool 4" in out.stdout


@pytest.mark.parametrize("module", ["abm.model", "abm.sweeps.runner", "abm.compare"])
def test_every_import_path_leaves_an_unset_start_method_unset(module):
    script = f"import multiprocessing, {module}, mesa; print(repr(multiprocessing.get_start_method(allow_none=True)))"
    out = _run_stdin(script)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "None"
