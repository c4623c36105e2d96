"""abm: agent-based simulation of international market entry.

A firm enters a foreign market alone, through a strategic alliance, through a joint
venture or by acquisition, against incumbents and regulators; the model shows what happens
to its market share, money and partnership month by month.

    import abm
    result = abm.simulate("alpha-beta", seed=1, entry_mode="joint_venture")
    result.steps, result.summary, result.events
    abm.evaluate(seed=1, cultural_distance=2.0)      # numbers only, for samplers
    abm.compare("alpha-beta", replications=50)       # every entry mode over the same seeds

Names load on first use, so the command line starts fast and Mesa, pandas, Dask and SALib
are imported only by the parts that need them.
"""

import importlib
import importlib.abc
import importlib.machinery
import multiprocessing
import sys

from abm._version import __version__ as __version__


class _KeepStartMethod(importlib.abc.MetaPathFinder):
    """Leaves the process's multiprocessing start method as the user set it.

    Mesa 3.3.1's batchrunner calls ``multiprocessing.set_start_method("spawn", force=True)``
    when it is imported (by ``import mesa``), which would make every other tool's process
    pool in this process start slowly and fail on functions defined in a notebook. Every
    import of ``abm`` or a submodule runs this file first, so the guard sits here: the
    first import of ``mesa.batchrunner`` after it runs with the start method saved before
    and restored after. Our own pools ask for fork explicitly (abm.executors).
    """

    def find_spec(self, fullname, path, target=None):
        if fullname != "mesa.batchrunner":
            return None
        sys.meta_path.remove(self)  # once is enough: Python imports a module once
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _RestoringLoader(spec.loader)
        return spec


class _RestoringLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        before = multiprocessing.get_start_method(allow_none=True)
        try:
            self._loader.exec_module(module)
        finally:
            multiprocessing.set_start_method(before, force=True)

    def __getattr__(self, name):  # get_source, get_code, ... for tracebacks and inspect
        return getattr(self._loader, name)


if "mesa.batchrunner" not in sys.modules and not any(isinstance(f, _KeepStartMethod) for f in sys.meta_path):
    sys.meta_path.insert(0, _KeepStartMethod())

_EXPORTS = {
    "InputError": "abm.errors",
    "MarketEntryModel": "abm.model",
    "Scenario": "abm.scenario",
    "ScenarioError": "abm.scenario",
    "ENTRY_MODES": "abm.scenario",
    "OVERRIDES": "abm.scenario",
    "RunResult": "abm.simulation",
    "simulate": "abm.simulation",
    "evaluate": "abm.outcomes",
    "decode": "abm.outcomes",
    "compare": ("abm.compare", None),  # the module, callable as compare() (see abm/compare.py)
    "Comparison": "abm.compare",
    "preset_names": ("abm.presets", "names"),
    "load_scenario": ("abm.presets", "resolve_scenario"),
    "sweep": "abm.sweeps",
    "analyze": "abm.sweeps",
    "load_results": "abm.sweeps",
    "calibrate": "abm.inference",
    "forecast": "abm.inference",
}


def __getattr__(name: str):
    target = _EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module 'abm' has no attribute {name!r}")
    module, attr = target if isinstance(target, tuple) else (target, name)
    value = importlib.import_module(module)
    if attr is not None:
        value = getattr(value, attr)
    globals()[name] = value
    return value


def __dir__():
    return sorted([*globals(), *_EXPORTS])


__all__ = sorted(_EXPORTS)
