# ruff: noqa: F811
# (the fixture session comes from test_app by import)
"""The scenario editor's logic and actions, without a browser (the browser walkthrough is in
test_app_editor_browser.py): every field is editable, each refusal is the TOML loader's own
message, an impossible edit keeps the last good case and run, lists grow and shrink, and the
edited case survives a TOML file and a link."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from test_app import session  # noqa: F401 - the fixture

from abm import limits, presets
from abm.app import editor as ed
from abm.app import links
from abm.app.widgets import pack_large_series
from abm.scenario import Scenario, ScenarioError
from abm.simulation import simulate


def _field(cls, name: str) -> ed.FieldSpec:
    return next(f for f in ed.fields_of(cls) if f.name == name)


def test_every_field_of_every_section_is_in_a_form():
    for spec in ed.SECTIONS:
        declared = {f.name for f in dataclasses.fields(spec.cls) if f.metadata}
        assert {f.name for f in ed.fields_of(spec.cls)} == declared, spec.label
    covered = {s.key for s in ed.SECTIONS if s.key}
    nested = set(Scenario._sections) | set(Scenario._item_types)
    assert covered == nested  # market, contract, mode_choice, entrants, partners, incumbents, regulators
    kinds = {f.name: f.kind for f in ed.fields_of(ed.Entrant)}
    assert kinds["entry_mode"] == "choice" and kinds["cultural_distance"] == "optional-number"
    assert kinds["build_months"] == "whole" and kinds["capital"] == "number" and kinds["name"] == "text"
    assert _field(ed.Regulator, "requires_local_entity").kind == "yes-no"
    assert _field(ed.Market, "consumers").allowed == f"a number in [50, {limits.MAX_CONSUMERS}]"
    assert (
        _field(ed.Market, "choice_noise").allowed == "a number in (0, 20]" and _field(ed.Entrant, "name").allowed == ""
    )


@pytest.mark.parametrize(
    "path, text, toml",
    [
        ("partners[0].commitment", "1.7", "[[partners]]\ncommitment = 1.7\n"),
        ("partners[0].commitment", "lots", '[[partners]]\ncommitment = "lots"\n'),
        ("market.consumers", "10", "[market]\nconsumers = 10\n"),
        ("entrants[0].entry_mode", "merger", '[[entrants]]\nentry_mode = "merger"\n'),
        ("entrants[0].build_months", "2.5", "[[entrants]]\nbuild_months = 2.5\n"),
    ],
)
def test_a_refused_value_gets_the_toml_loaders_own_message(path, text, toml):
    section, name = path.split(".")
    cls = {"partners[0]": ed.Partner, "market": ed.Market, "entrants[0]": ed.Entrant}[section]
    with pytest.raises(ScenarioError) as from_file:
        Scenario.from_toml(toml)
    with pytest.raises(ScenarioError) as from_editor:
        ed.edit(presets.load("alpha-beta"), path, ed.parse(_field(cls, name), text))
    assert str(from_editor.value) == str(from_file.value)
    assert from_editor.value.field == path


def test_an_impossible_combination_keeps_the_last_good_case_and_run(session):
    session.step_once()
    run, frame, base = session.live.value, session.frame.value, session.base_scenario().to_dict()
    # a base region beyond the 3 x 3 map: every value is in range, the combination is not
    assert not session.apply_edit("partners[0].base_region", lambda s: ed.edit(s, "partners[0].base_region", 12))
    message = session.edit_errors.value["partners[0].base_region"]
    assert message == "partners[0].base_region = 12 is not allowed: a region index in [0, 8] (the map has 9 regions)"
    assert session.live.value is run and session.frame.value is frame and session.base_scenario().to_dict() == base
    assert session.frame.value.month == 1
    # a good value clears the message and restarts the run with the edited case
    assert session.apply_edit("partners[0].base_region", lambda s: ed.edit(s, "partners[0].base_region", 2))
    assert "partners[0].base_region" not in session.edit_errors.value
    assert session.live.value is not run and session.frame.value.month == 0
    assert session.base_scenario().partners[0].base_region == 2
    assert session.base_choice.value == session.FILE_PREFIX + session.EDITED


def test_partners_and_incumbents_are_added_and_removed():
    base = presets.load("alpha-beta")
    two = ed.add_item(base, "partners")
    assert [p.name for p in two.partners] == ["Beta Tech", "Partner 2"]
    assert two.partners[1].base_region < two.market.regions_x * two.market.regions_y
    more = ed.add_item(two, "incumbents")
    held = sum(i.initial_share for i in more.incumbents) + sum(p.brand_share for p in more.partners)
    assert len(more.incumbents) == len(base.incumbents) + 1 and held <= 1
    assert ed.remove_item(more, "incumbents", 0).incumbents == more.incumbents[1:]
    assert [p.name for p in ed.remove_item(two, "partners", 0).partners] == ["Partner 2"]
    assert base.partners == presets.load("alpha-beta").partners  # the edits made copies


def test_removing_what_the_case_needs_is_refused_with_the_loaders_message():
    base = presets.load("alpha-beta")
    with pytest.raises(ScenarioError, match="at least one entrant"):
        ed.remove_item(base, "entrants", 0)
    with pytest.raises(ScenarioError, match="'alone' or 'auto' when the scenario has no local partners"):
        ed.remove_item(base, "partners", 0)  # the entrant enters by alliance
    named = ed.edit(ed.add_item(base, "partners"), "entrants[0].preferred_partner", "Partner 2")
    with pytest.raises(ScenarioError, match="preferred_partner"):
        ed.remove_item(named, "partners", 1)


def test_an_empty_optional_number_means_derive_it():
    spec = _field(ed.Entrant, "cultural_distance")
    assert ed.parse(spec, "") is None and ed.parse(spec, " 2.5 ") == 2.5
    edited = ed.edit(presets.load("culturally-distant"), "entrants[0].cultural_distance", ed.parse(spec, "1.5"))
    assert edited.entrants[0].cultural_distance == 1.5
    assert ed.edit(edited, "entrants[0].cultural_distance", None).entrants[0].cultural_distance is None
    assert ed.shown(None) == "" and ed.shown(0.85) == "0.85" and ed.shown(12.0) == "12.0"


def test_an_edited_case_saved_as_toml_and_loaded_again_runs_identically(tmp_path):
    s = presets.load("alpha-beta")
    s = ed.add_item(s, "partners")
    for path, value in (
        ("market.host_country", "VIE"),
        ("entrants[0].home_country", "GER"),
        ("partners[1].commitment", 0.6),
        ("partners[1].regulatory_ties", 0.9),
        ("months", 24),
    ):
        s = ed.edit(s, path, value)
    file = tmp_path / "vietnam.toml"
    file.write_text(s.to_toml(), encoding="utf-8")
    again = Scenario.load(file)
    assert again.to_dict() == s.to_dict()
    a, b = simulate(s, seed=3), simulate(again, seed=3)
    assert a.summary.equals(b.summary) and a.steps.equals(b.steps)


def test_a_link_carries_the_edited_case_whole(session):
    assert session.apply_edit("partners", lambda s: ed.add_item(s, "partners"))
    assert session.apply_edit("partners[1].commitment", lambda s: ed.edit(s, "partners[1].commitment", 0.55))
    query = session.share_query()
    assert "scenario=" in query and "preset=" not in query
    asked = links.parse_query(query)
    assert asked.scenario.to_dict() == session.current_scenario().to_dict()
    assert asked.scenario.partners[1].commitment == 0.55


def test_a_loaded_file_or_preset_clears_the_editors_messages(session):
    session.apply_edit("months", lambda s: ed.edit(s, "months", 0))
    assert "months" in session.edit_errors.value
    generation = session.edit_generation.value
    session.choose_base("jv-exit")
    assert session.edit_errors.value == {} and session.edit_generation.value > generation


def test_the_maps_points_travel_as_float32_bytes():
    points = [[0.125, 0.5], [0.25, 0.75], [1.0, 0.0]]
    option = {"series": [{"type": "scatter", "large": True, "data": points}, {"type": "line", "data": [1, 2]}]}
    packed, buffers = pack_large_series(option)
    assert packed["series"][0]["data"] == {"buffer": 0, "columns": 2}
    assert packed["series"][1] == option["series"][1] and option["series"][0]["data"] is points
    assert np.frombuffer(buffers[0], dtype=np.float32).reshape(-1, 2).tolist() == points
    assert pack_large_series({"series": [{"type": "line", "data": [1]}]})[1] == []
