"""The model's vocabularies are types, the version is written once.

Entry modes, licence and partnership statuses, end causes and exit routes are ``Literal``
types (``abm/vocabulary.py``) used by the fields and parameters that hold them, so that mypy
(``make lint``) rejects a misspelt word; the core's tuples are the vocabulary's.
"""

import dataclasses
import inspect
import re
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest

import abm
from abm import finance, licensing, partnership, scenario, vocabulary
from abm.agents import Regulator
from abm.entry import ModeAppraisal, mode_outlay
from abm.lifecycle import end, form
from abm.scenario import Entrant, Incumbent

ROOT = Path(__file__).resolve().parents[1]


def _choices(cls: type, name: str) -> tuple:
    return next(f.metadata["choices"] for f in dataclasses.fields(cls) if f.name == name)


def test_the_core_tuples_are_the_vocabularies():
    assert scenario.ENTRY_MODES == vocabulary.ENTRY_MODES == ("alone", "alliance", "joint_venture", "acquisition")
    assert _choices(Entrant, "entry_mode") == vocabulary.ENTRY_MODE_SETTINGS
    assert _choices(Entrant, "after_breakup") == vocabulary.AFTER_BREAKUP
    assert _choices(Incumbent, "reaction") == vocabulary.REACTIONS
    assert {*partnership.END_CAUSES, "planned_end"} == set(vocabulary.PARTNERSHIP_END_CAUSES)
    assert set(partnership.FAILURE_CAUSES) < set(vocabulary.PARTNERSHIP_END_CAUSES)
    assert set(vocabulary.JV_EXIT_ROUTES) <= set(partnership.END_CAUSES)
    assert set(licensing.LOCAL_ENTITY_MODES) < set(vocabulary.ENTRY_MODES)


@pytest.mark.parametrize(
    ("owner", "name", "expected"),
    [
        (Entrant, "entry_mode", vocabulary.EntryModeSetting),
        (Entrant, "after_breakup", vocabulary.AfterBreakup),
        (Incumbent, "reaction", vocabulary.Reaction),
        (partnership.Partnership, "kind", vocabulary.PartnershipKind),
        (partnership.Partnership, "end_cause", vocabulary.PartnershipEndCause | None),
        (partnership.Partnership, "exit_route", vocabulary.JvExitRoute | None),
        (licensing.Application, "status", vocabulary.LicenceStatus),
        (licensing.Application, "mode", vocabulary.EntryMode),
        (ModeAppraisal, "mode", vocabulary.EntryMode | vocabulary.StayOut),
        (finance.split_month, "mode", vocabulary.EntryMode),
        (mode_outlay, "mode", vocabulary.EntryMode),
        (licensing.eligibility, "mode", vocabulary.EntryMode),
        (Regulator.receive, "mode", vocabulary.EntryMode),
        (form, "kind", vocabulary.PartnershipKind),
        (end, "cause", vocabulary.PartnershipEndCause),
    ],
)
def test_fields_and_parameters_holding_a_word_are_typed_with_its_vocabulary(owner, name, expected):
    annotation = inspect.get_annotations(owner)[name]  # text (postponed annotations), read in its module
    assert eval(annotation, vars(sys.modules[owner.__module__])) == expected


def test_is_entry_mode_narrows_only_the_modes():
    assert all(vocabulary.is_entry_mode(m) for m in vocabulary.ENTRY_MODES)
    assert not any(vocabulary.is_entry_mode(w) for w in ("auto", "stay_out", "none", "Alliance", None, 1))


@pytest.mark.slow
def test_mypy_rejects_a_misspelt_mode_status_or_kind(tmp_path):
    """The point of the Literal types: each misspelt word is an error, the right words are not.
    Uses the project's mypy configuration (and its cache, warm after ``make lint``)."""
    right = tmp_path / "right.py"
    wrong = tmp_path / "wrong.py"
    template = (
        "from abm.finance import split_month\n"
        "from abm.licensing import Application\n"
        "from abm.partnership import Partnership\n"
        "from abm.scenario import Entrant\n"
        "\n"
        "app = Application('Alpha', {mode!r}, 0.5, 0.0, 1.0, 0)\n"
        "app.status = {status!r}\n"
        "Entrant(entry_mode={setting!r})\n"
        "split_month({mode!r}, 1.0, 0.5, 0.1)\n"
        "\n"
        "\n"
        "def is_alliance(p: Partnership) -> bool:\n"
        "    return p.kind == {kind!r}\n"
    )
    right.write_text(template.format(mode="alliance", status="approved", setting="auto", kind="alliance"))
    wrong.write_text(template.format(mode="alliances", status="aproved", setting="joint-venture", kind="aliance"))
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), str(right), str(wrong)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    errors = re.findall(r"^(\S+\.py):(\d+): error", out.stdout, re.M)
    assert {Path(f).name for f, _ in errors} == {"wrong.py"}, out.stdout + out.stderr
    assert sorted(int(line) for _, line in errors) == [6, 7, 8, 9, 13], out.stdout


def test_the_version_is_written_once():
    """pyproject.toml holds it; the package and the CLI read it from the installed metadata."""
    written = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert abm.__version__ == version("abm-market-entry") == written
    cli = subprocess.run([sys.executable, "-m", "abm.cli", "--version"], capture_output=True, text=True, timeout=60)
    assert cli.stdout.strip() == f"abm {written}", cli.stdout + cli.stderr
    hard_coded = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "abm").rglob("*.py")
        if re.search(r"""__version__\s*=\s*["']\d+\.\d+""", p.read_text(encoding="utf-8"))
    ]
    assert hard_coded == []
