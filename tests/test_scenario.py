"""Scenarios: presets, TOML round trips, overrides, and clear errors for bad input."""

import pytest

import abm
from abm.presets import load, names
from abm.scenario import OVERRIDES, Scenario, ScenarioError


@pytest.mark.parametrize("name", names())
def test_every_preset_round_trips_through_toml(name):
    s = load(name)
    again = Scenario.from_toml(s.to_toml())
    assert again == s
    assert s.title and s.lesson and s.description


def test_default_is_the_alpha_beta_case():
    s = abm.load_scenario(None)
    assert s.name == "alpha-beta"
    assert s.entrants[0].name == "Alpha Co." and s.partners[0].name == "Beta Tech"
    assert s.contract.alliance_setup_saving == pytest.approx(0.40)
    assert s.entrants[0].target_share == pytest.approx(0.10) and s.entrants[0].target_month == 36


def test_presets_cover_the_required_cases():
    required = {"alpha-beta", "regulated-local-entity", "strong-incumbents", "culturally-distant"}
    assert required <= set(names())
    assert load("regulated-local-entity").regulators[0].requires_local_entity


@pytest.mark.parametrize("alias", sorted(OVERRIDES))
def test_every_flat_override_names_real_fields(alias):
    s = load("two-entrants")
    value = {
        "entry_mode": "alone",
        "incumbent_reaction": "none",
        "home_country": "GER",
        "host_country": "VIE",
        "partner": "Gamma Retail",
        "requires_local_entity": False,
        "allow_upgrade": False,
        "cultural_distance": 1.0,
        "consumers": 800,
        "months": 24,
        "capital": 40.0,
        "policy": "cautious",
    }.get(alias, 0.5)
    s.with_overrides({alias: value})


def test_dotted_paths_reach_nested_fields():
    s = load("two-entrants")
    t = s.with_overrides(
        {
            "partners[1].commitment": 0.3,
            "partners.2.regulatory_ties": 0.1,
            "contract.trust_floor": 0.2,
            "market.consumers": 900,
        }
    )
    assert t.partners[1].commitment == 0.3 and t.partners[2].regulatory_ties == 0.1
    assert t.partners[0].commitment == s.partners[0].commitment
    assert t.contract.trust_floor == 0.2 and t.market.consumers == 900
    everyone = s.with_overrides({"partners.commitment": 0.6})
    assert {p.commitment for p in everyone.partners} == {0.6}


def test_overrides_leave_the_original_untouched():
    s = load("alpha-beta")
    s.with_overrides(partner_commitment=0.2)
    assert s.partners[0].commitment != 0.2


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"partner_commitment": 1.5}, "partners[0].commitment", "[0, 1]"),
        ({"trust_floor": -0.1}, "contract.trust_floor", "[0, 1]"),
        ({"entrants[0].setup_cost": -5}, "entrants[0].setup_cost", ">= 0"),
        ({"target_share": 1.2}, "entrants[0].target_share", "1]"),
        ({"consumers": "many"}, "market.consumers", "whole number"),
        ({"consumers": 10.5}, "market.consumers", "whole number"),
        ({"entry_mode": "franchise"}, "entrants[0].entry_mode", "alliance"),
        ({"host_country": "Atlantis"}, "market.host_country", "Hofstede"),
        ({"allow_upgrade": "yes"}, "contract.allow_upgrade", "true or false"),
        ({"partner_comitment": 0.5}, "partner_comitment", "flat override"),
        ({"partners[5].commitment": 0.5}, "partners[5].commitment", "index below"),
    ],
)
def test_bad_values_name_field_value_and_what_is_allowed(overrides, field, words):
    with pytest.raises(ScenarioError) as err:
        load("alpha-beta").with_overrides(overrides)
    assert err.value.field == field
    assert words in str(err.value)
    assert repr(next(iter(overrides.values()))) in str(err.value)


def test_unknown_toml_key_suggests_the_right_one():
    text = load("alpha-beta").to_toml().replace("regulatory_ties", "regulatory_tie")
    with pytest.raises(ScenarioError) as err:
        Scenario.from_toml(text)
    assert err.value.field == "partners[0].regulatory_tie"
    assert "did you mean 'regulatory_ties'" in str(err.value)


def test_malformed_toml_is_a_scenario_error():
    with pytest.raises(ScenarioError) as err:
        Scenario.from_toml("months = = 3", "bad.toml")
    assert err.value.field == "bad.toml" and "valid TOML" in str(err.value)


def test_incumbent_shares_above_one_are_refused():
    with pytest.raises(ScenarioError, match="add up to at most 1"):
        load("alpha-beta").with_overrides({"incumbents.initial_share": 0.6})


def test_impossible_combinations_are_refused():
    with pytest.raises(ScenarioError, match="no local partners"):
        Scenario.from_dict({"partners": [], "entrants": [{"entry_mode": "alliance"}]}, "")
    with pytest.raises(ScenarioError, match="names unique"):
        Scenario.from_dict({"partners": [{"name": "A"}, {"name": "A"}]}, "")
    with pytest.raises(ScenarioError, match="region index"):
        load("alpha-beta").with_overrides({"partners[0].base_region": 9})
    with pytest.raises(ScenarioError, match="jv_life_min"):
        load("alpha-beta").with_overrides({"contract.jv_life_min": 100, "contract.jv_life_max": 50})


def test_missing_file_and_unknown_preset_are_clear():
    with pytest.raises(ScenarioError, match="preset"):
        abm.load_scenario("no-such-preset")
    with pytest.raises(ScenarioError, match="existing TOML file"):
        abm.load_scenario("missing/file.toml")


def test_model_rejects_unknown_keyword():
    with pytest.raises(ScenarioError):
        abm.MarketEntryModel(seed=1, colour="blue")


def test_parameter_reference_is_current():
    from abm import parameters_doc

    assert parameters_doc.path().read_text(encoding="utf-8") == parameters_doc.render(), (
        "docs/PARAMETERS.md is stale: run python -m abm.parameters_doc"
    )


@pytest.mark.parametrize(
    "overrides",
    [
        {"months": float("nan")},
        {"months": float("inf")},
        {"market": 5},
        {"entrants": 5},
        {"": 1},
        {3: 4},
        {"contract": {"trust_flor": 0.3}},
        {"partners[0].comitment": 0.2},
    ],
)
def test_malformed_overrides_are_scenario_errors(overrides):
    with pytest.raises(ScenarioError):
        load("alpha-beta").with_overrides(overrides)


def test_typo_is_caught_even_when_the_list_is_empty():
    s = load("alpha-beta").with_overrides({"incumbents": []})
    with pytest.raises(ScenarioError, match="did you mean 'loyalty'"):
        s.with_overrides({"incumbents.loyalyt": 3})


def test_whole_sections_can_be_replaced_by_tables():
    s = load("alpha-beta").with_overrides({"contract": {"trust_floor": 0.3}, "partners": [{"name": "Solo"}]})
    assert s.contract.trust_floor == 0.3 and s.contract.trust_gain == load("alpha-beta").contract.trust_gain
    assert [p.name for p in s.partners] == ["Solo"]


def test_firm_names_are_unique_across_roles():
    with pytest.raises(ScenarioError, match="different name"):
        load("alpha-beta").with_overrides({"partners[0].name": "Alpha Co."})


@pytest.mark.parametrize(
    ("kw", "field"),
    [({"seed": "abc"}, "seed"), ({"seed": -1}, "seed"), ({"steps": "x"}, "steps"), ({"steps": -3}, "steps")],
)
def test_simulate_rejects_bad_seed_and_steps(kw, field):
    with pytest.raises(abm.InputError) as err:
        abm.simulate(**kw)
    assert err.value.field == field
