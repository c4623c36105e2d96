"""The app's parts that need no browser: settings, the live run, chart options, the
comparison, the results folder, the session actions, Mesa's SolaraViz, the command."""

from __future__ import annotations

import json
import socket

import numpy as np
import pandas as pd
import pytest

import abm
from abm import presets
from abm.app import charts, comparison, settings
from abm.app.classroom_page import PARTNERSHIP_ANSWERS, answers_of, lesson_of, questions, verdicts
from abm.app.live import MAP_POINTS, LiveRun
from abm.app.results_data import candidate_folders, load_folder
from abm.errors import InputError

# ---- settings ------------------------------------------------------------------------


def test_controls_start_at_the_scenarios_own_values_and_change_nothing():
    base = presets.load("alpha-beta")
    s = settings.settings_from(base)
    assert s.entry_mode == "alliance" and s.host_country == "MAL" and s.home_country == "USA"
    assert s.regulatory_stringency == base.regulators[0].stringency
    assert settings.overrides_for(base, s) == {}
    assert settings.apply_settings(base, s).to_dict() == base.to_dict()


def test_entry_mode_control_sets_the_focal_entrant_only():
    base = presets.load("two-entrants")
    s = settings.settings_from(base).replace(entry_mode="joint_venture")
    scenario = settings.apply_settings(base, s)
    assert scenario.entrants[0].entry_mode == "joint_venture"
    assert scenario.entrants[1].entry_mode == base.entrants[1].entry_mode


def test_incumbent_strength_scales_every_incumbents_loyalty():
    base = presets.load("alpha-beta")
    scenario = settings.apply_settings(base, settings.settings_from(base).replace(incumbent_strength=2.0))
    assert [i.loyalty for i in scenario.incumbents] == [2 * i.loyalty for i in base.incumbents]


def test_cultural_distance_slider_replaces_the_countries():
    base = presets.load("alpha-beta")
    scenario = settings.apply_settings(
        base, settings.settings_from(base).replace(use_countries=False, cultural_distance=0.5)
    )
    assert scenario.entrants[0].cultural_distance == 0.5


def test_impossible_country_pair_is_refused_with_a_readable_message():
    base = presets.load("alpha-beta")
    s = settings.settings_from(base).replace(home_country="ALB", host_country="BEF")
    with pytest.raises(InputError, match="host_country"):
        settings.apply_settings(base, s)


def test_partnering_without_partners_is_refused():
    base = presets.load("alpha-beta").with_overrides({"entrants[0].entry_mode": "alone"})
    base.partners = []
    base.check()
    with pytest.raises(InputError, match="no local partner"):
        settings.apply_settings(base, settings.settings_from(base).replace(entry_mode="alliance"))


def test_commitment_control_acts_on_the_partner_it_names():
    base = presets.load("two-entrants")
    s = settings.settings_from(base).replace(partner="Gamma Retail", partner_commitment=0.3)
    scenario = settings.apply_settings(base, s)
    assert [p.commitment for p in scenario.partners] == [
        base.partners[0].commitment,
        0.3,
        base.partners[2].commitment,
    ]  # the other candidates keep their own: the difference being compared stays
    assert "Gamma Retail's commitment 0.3" in settings.describe(base, s)
    first = settings.settings_from(base).replace(partner_commitment=0.5)  # no partner chosen: the first
    assert [p.commitment for p in settings.apply_settings(base, first).partners][:2] == [0.5, 0.85]


def test_one_partner_is_not_a_partner_comparison():
    with pytest.raises(InputError, match="only Beta Tech"):
        comparison.variants_for(presets.load("alpha-beta"), "partners")


# ---- the live run --------------------------------------------------------------------


def test_after_the_entrant_leaves_the_status_says_so_and_counts_the_share_as_compare_does():
    # strong-incumbents, seed 24: licensed in month 4, the alliance misses its objectives and
    # going on alone is worth less than leaving, so the entrant exits in month 36 (Model 2 with
    # the partner's concession: no default seed of 400 exits after its licence)
    run = LiveRun(presets.load("strong-incumbents"), seed=24)
    while not run.done:
        run.step()
    f = run.frame()
    e = f.entrants[0]
    ref = abm.simulate("strong-incumbents", seed=24).summary.iloc[0]
    assert e.exit_kind == "exited" and e.exit_month == ref.exit_month == 36
    assert e.share == ref.share_final == 0.0 and e.last_share > 0
    assert e.licence_state == "lapsed" and "approved in month 4" in e.licence and "refused" not in e.licence
    assert e.npv_with_value_held == pytest.approx(ref.npv)  # what Compare reports
    assert max(f.shares["Alpha Co."][:36]) > 0 and f.shares["Alpha Co."][-1] == 0
    run.close()


def test_npv_with_the_business_held_matches_the_summary_mid_run():
    run = LiveRun(presets.load("alpha-beta"), seed=2)
    for _ in range(48):
        run.step()
    e = run.frame().entrants[0]
    ref = abm.simulate("alpha-beta", seed=2, steps=48).summary.iloc[0]
    assert e.npv_with_value_held == pytest.approx(ref.npv)  # ODD §8's npv, as Compare reports it
    assert e.npv_with_value_held > e.npv_to_date and ref.terminal_value > 0
    run.close()


def test_live_run_shows_the_same_shares_as_simulate():
    run = LiveRun(presets.load("alpha-beta"), seed=3)
    for _ in range(24):
        run.step()
    ref = abm.simulate("alpha-beta", seed=3, steps=24).steps
    for firm, path in run.shares.items():
        expected = ref[ref.firm == firm].sort_values("month").market_share.to_numpy()
        assert np.allclose(path, expected), firm
    run.close()


def test_each_step_adds_one_month_and_frames_never_change_afterwards():
    run = LiveRun(presets.load("alpha-beta"), seed=1)
    first = run.frame()
    assert first.month == 0 and first.months == [0]
    one = run.step()
    assert one.month == 1 and len(one.months) == 2
    for _ in range(5):
        run.step()
    assert one.months == [0, 1] and all(len(v) == 2 for v in one.shares.values())
    assert run.frame().month == 6
    run.close()


def test_run_stops_at_the_horizon():
    scenario = presets.load("alpha-beta").with_overrides({"months": 5})
    run = LiveRun(scenario, seed=1)
    for _ in range(8):
        run.step()
    assert run.done and run.frame().month == 5 and not run.frame().running
    run.close()


def test_map_draws_a_sample_coloured_by_the_brand_bought():
    run = LiveRun(presets.load("alpha-beta"), seed=2)
    for _ in range(30):
        run.step()
    f = run.frame()
    drawn = sum(len(x) for x, _ in f.map_brands.values())
    assert drawn <= MAP_POINTS
    leader = next(b for b, n in f.brand_names.items() if n == "Local Leader")
    share_on_map = len(f.map_brands[leader][0]) / drawn
    assert abs(share_on_map - f.shares["Local Leader"][-1]) < 0.05
    assert f.reach is not None and f.reach[0] == "Beta Tech" and len(f.reach[1]) == 9
    run.close()


def test_partnership_history_follows_trust_and_commitment():
    scenario = presets.load("unequal-commitment")
    run = LiveRun(scenario, seed=1)
    for _ in range(40):
        run.step()
    ((label, paths),) = run.partnerships.items()
    assert label == "Alpha Co. & Beta Tech"
    delivered = [v for v in paths["delivered_partner"] if v is not None]
    given = [v for v in paths["delivered_entrant"] if v is not None]
    assert np.mean(delivered) < np.mean(given) - 0.15  # the coasting partner delivers clearly less
    trust = [v for v in paths["trust_entrant"] if v is not None]
    signing = scenario.contract.initial_trust
    assert trust[0] == pytest.approx(signing) and min(trust) < signing - 0.2
    run.close()


# ---- charts --------------------------------------------------------------------------


def test_share_chart_has_every_firm_and_the_target():
    run = LiveRun(presets.load("alpha-beta"), seed=1)
    for _ in range(10):
        run.step()
    option = charts.share_option(run.frame())
    names = [s["name"] for s in option["series"]]
    assert names == list(run.shares)
    assert all(len(s["data"]) == 11 for s in option["series"])
    marks = option["series"][0]["markLine"]["data"]
    assert marks[0]["yAxis"] == pytest.approx(10.0) and marks[1]["xAxis"] == 36
    assert option["animation"] is False and option["xAxis"]["max"] == 120
    json.dumps(option)
    for make in (charts.map_option, charts.partnership_option, charts.money_option):
        json.dumps(make(run.frame()))
    run.close()


def test_a_long_legend_pages_instead_of_squashing_the_plot():
    run = LiveRun(presets.load("two-entrants"), seed=1)
    for _ in range(12):
        run.step()
    option = charts.partnership_option(run.frame())
    assert len(option["legend"]["data"]) >= 10
    assert option["legend"]["type"] == "scroll" and option["grid"]["top"] <= 80
    run.close()


def test_outcome_against_a_text_parameter_draws_every_run():
    df = pd.DataFrame({"entry_mode": ["alone", "alliance"] * 5, "npv": np.arange(10.0)})
    option = charts.outcome_option(df, "entry_mode", "npv")
    assert option["title"]["text"] == "npv against entry_mode (10 runs)"
    assert option["xAxis"][0]["data"] == ["alliance", "alone"]
    dots = next(s for s in option["series"] if s["name"] == "one run")["data"]
    assert len(dots) == 10 and all(abs(x - round(x)) <= 0.25 for x, _ in dots)
    median = next(s for s in option["series"] if s["name"] == "median")["data"]
    assert median == [[0, 5.0], [1, 4.0]]  # alliance: 1,3,5,7,9; alone: 0,2,4,6,8
    json.dumps(option)


def test_partnership_chart_says_so_when_there_is_none():
    run = LiveRun(presets.load("alpha-beta").with_overrides({"entry_mode": "alone"}), seed=1)
    option = charts.partnership_option(run.step())
    assert option["graphic"][0]["style"]["text"] == "No partnership in this run"
    run.close()


def test_colours_differ_within_and_across_roles():
    colours = charts.firm_colours({"A": "entrant", "B": "entrant", "C": "incumbent", "D": "incumbent", "E": "partner"})
    assert len(set(colours.values())) == 5


def test_fan_chart_bands_span_the_quantiles():
    q = pd.DataFrame(
        {
            "variant": ["a"] * 3 + ["b"] * 3,
            "month": [0, 1, 2] * 2,
            "p10": [0.0, 0.01, 0.02] * 2,
            "p25": [0.0, 0.02, 0.03] * 2,
            "p50": [0.0, 0.03, 0.05] * 2,
            "p75": [0.0, 0.04, 0.06] * 2,
            "p90": [0.0, 0.05, 0.09] * 2,
        }
    )
    option = charts.fan_option(q, "a", target_share=0.1, target_month=1, horizon=2, top=0.1)
    by_name = {s["name"]: s for s in option["series"]}
    assert by_name["_outer"]["data"] == [0.0, 1.0, 2.0]
    assert by_name["10-90 % of runs"]["data"] == [0.0, 4.0, 7.0]  # p90 - p10, stacked on p10
    assert by_name["median"]["data"] == [0.0, 3.0, 5.0]
    assert by_name["other variants' medians"]["data"] == [0.0, 3.0, 5.0]
    assert "_outer" not in option["legend"]["data"]


# ---- comparison ----------------------------------------------------------------------


def test_variants_are_entry_modes_or_partners():
    s = presets.load("two-entrants")
    assert list(comparison.variants_for(s, "modes", ("alone", "alliance"))) == ["alone", "alliance"]
    assert list(comparison.variants_for(s, "partners")) == ["Beta Tech", "Gamma Retail", "Delta Logistics"]
    with pytest.raises(InputError, match="entry modes"):
        comparison.variants_for(s, "modes", ())
    with pytest.raises(InputError, match="merger"):
        comparison.variants_for(s, "modes", ("merger",))


def test_small_comparison_gives_tables_charts_and_csv():
    scenario = presets.load("alpha-beta").with_overrides({"months": 40, "consumers": 800})
    seen = []
    out = comparison.run_comparison(
        scenario,
        comparison.variants_for(scenario, "modes", ("alone", "alliance")),
        replications=4,
        master_seed=7,
        workers=1,
        progress=lambda d, t: seen.append((d, t)),
    )
    assert seen[-1] == (8, 8)
    assert list(out.kpi.columns) == ["alone", "alliance"]
    p = out.probabilities.set_index(["variant", "measure"])
    assert np.isnan(p.loc[("alone", "Partnership survives"), "p"])  # alone forms no partnership
    assert p.loc[("alliance", "Partnership survives"), "n"] == 4
    lo, hi = p.loc[("alliance", "Loss (NPV < 0)"), ["lo", "hi"]]
    assert 0 <= lo <= p.loc[("alliance", "Loss (NPV < 0)"), "p"] <= hi <= 1
    assert pd.read_csv(__import__("io").StringIO(out.kpi_csv())).KPI.iloc[0] == "Runs"
    assert len(pd.read_csv(__import__("io").StringIO(out.runs_csv()))) == 8
    json.dumps(charts.npv_option(out.comparison.summary, out.variants, "USD"))
    json.dumps(charts.probability_option(out.probabilities))


def test_paired_differences_match_a_direct_computation_from_the_frames():
    scenario = presets.load("alpha-beta").with_overrides({"months": 40, "consumers": 800})
    out = comparison.run_comparison(
        scenario,
        comparison.variants_for(scenario, "modes", ("alone", "alliance", "joint_venture")),
        replications=6,
        master_seed=3,
        workers=1,
    )
    s = out.comparison.summary
    table = out.paired.set_index(["a", "measure"])
    assert set(out.paired.b) == {"alone"} and len(out.paired) == 4  # two variants x (NPV, year-3 share)
    for variant in ("alliance", "joint_venture"):
        for measure in ("npv", "share_y3"):
            a = s[s.variant == variant].set_index("replication")[measure].sort_index()
            b = s[s.variant == "alone"].set_index("replication")[measure].sort_index()
            d = (a - b).dropna().to_numpy()
            row = table.loc[(variant, measure)]
            half = 2.5705818366147395 * d.std(ddof=1) / np.sqrt(len(d))  # t(0.975, 5)
            assert row.n == len(d) == 6
            assert row["mean"] == pytest.approx(d.mean())
            assert (row.lo, row.hi) == pytest.approx((d.mean() - half, d.mean() + half))
            assert row.a_wins == pytest.approx((d > 0).mean()) and row.b_wins == pytest.approx((d < 0).mean())
            assert row.a_wins + row.b_wins + row.ties == pytest.approx(1)
    sentences = out.verdicts(settings.MODE_LABELS)
    assert len(sentences) == 4 and all(s.endswith(".") for s in sentences)


def test_the_verdict_says_who_wins_only_when_the_interval_excludes_zero():
    summary = pd.DataFrame(
        {
            "variant": ["alone"] * 4 + ["alliance"] * 4,
            "replication": [0, 1, 2, 3] * 2,
            "npv": [1.0, 2.0, 3.0, 4.0, 11.0, 13.0, 12.0, 14.0],
        }
    )
    row = comparison.paired_differences(summary, "alliance", "alone", "npv")
    assert row["a_wins"] == 1.0 and row["lo"] > 0
    text = comparison.verdict(row, settings.MODE_LABELS, "EUR")
    assert text.startswith("Strategic alliance beats Alone (greenfield) on NPV in 100% of 4 paired runs")
    assert "+10.0 m EUR" in text
    summary.loc[summary.variant == "alliance", "npv"] = [3.0, 0.0, 5.0, 2.5]  # differences +2, -2, +2, -1.5
    row = comparison.paired_differences(summary, "alliance", "alone", "npv")
    assert row["lo"] < 0 < row["hi"] and row["a_wins"] == 0.5
    assert comparison.verdict(row, settings.MODE_LABELS, "EUR").startswith(
        "No clear difference between Strategic alliance and Alone (greenfield) on NPV"
    )
    one = comparison.paired_differences(summary[summary.replication == 0], "alliance", "alone", "npv")
    assert one["n"] == 1 and np.isnan(one["lo"]) and "No clear difference" in comparison.verdict(one)


def test_a_cancelled_comparison_stops():
    scenario = presets.load("alpha-beta").with_overrides({"months": 12, "consumers": 300})
    with pytest.raises(comparison.Cancelled):
        comparison.run_comparison(
            scenario,
            {"alone": {"entry_mode": "alone"}},
            replications=5,
            master_seed=1,
            workers=1,
            cancelled=lambda: True,
        )


# ---- classroom -----------------------------------------------------------------------


def test_each_preset_carries_a_lesson_with_an_idea_and_what_to_watch():
    ideas = {lesson_of(presets.load(n)).idea for n in presets.names()}
    for idea in (
        "Regulatory barrier",
        "Cultural barrier",
        "Unequal commitment",
        "Regulatory surprise",
        "Alliance to JV",
        "JV exit routes",
    ):
        assert idea in ideas
    assert any(i.startswith("IP leakage") for i in ideas)
    assert all(lesson_of(presets.load(n)).watch for n in presets.names())


def test_predictions_are_judged_against_the_runs():
    summary = pd.DataFrame(
        {
            "objective_met": [True, True, False],
            "npv": [1.0, -2.0, 3.0],
            "partnership_formed": [True, True, False],
            "partnership_failed": [False, True, False],
        }
    )
    answers = answers_of(summary)
    assert list(answers.partnership) == [PARTNERSHIP_ANSWERS[0], PARTNERSHIP_ANSWERS[1], PARTNERSHIP_ANSWERS[2]]
    v = {
        k: (guess, typical, share, right)
        for k, guess, typical, share, right in verdicts(
            {"target": "No", "npv": "Yes", "partnership": PARTNERSHIP_ANSWERS[1]}, answers
        )
    }
    assert v["target"] == ("No", "Yes", pytest.approx(1 / 3), False)
    assert v["npv"][1:] == ("Yes", pytest.approx(2 / 3), True)
    assert len(questions(presets.load("alpha-beta"))) == 3


# ---- results folder ------------------------------------------------------------------


@pytest.fixture(scope="module")
def morris_folder(tmp_path_factory):
    """A real (small) Morris sweep with its analysis, as `abm sweep` and `abm analyze` write it."""
    data = {
        "name": "app-morris",
        "months": 12,
        "design": {"kind": "morris", "samples": 4},
        "master_seed": 5,
        "common_random_numbers": True,
        "fixed": {"consumers": 300},
        "parameters": {"entrants.price": {"min": 18.0, "max": 40.0}, "partner_commitment": {"min": 0.2, "max": 1.0}},
        "analysis": {"outcomes": ["npv", "share_y1"]},
    }
    out = abm.sweep(data, workers=1, out=tmp_path_factory.mktemp("sweeps") / "morris", progress=False)
    abm.analyze(out)
    return out


def test_results_view_reads_a_sweep_with_its_sensitivity(morris_folder):
    f = load_folder(morris_folder)
    assert f.parameters == ["entrants_price", "partner_commitment"]
    assert "npv" in f.outcomes and len(f.summary) == 12
    assert any("morris_npv" in k for k in f.sensitivity)
    idx = next(v for k, v in f.sensitivity.items() if "morris_npv" in k)
    assert set(idx.parameter) == {"entrants.price", "partner_commitment"} and "mu_star" in idx.columns
    option = charts.outcome_option(f.summary, "entrants_price", "npv")
    assert len(option["series"][0]["data"]) == 12
    json.dumps(charts.sensitivity_option(idx, "npv"))
    assert str(morris_folder) in candidate_folders(morris_folder.parent)


def test_results_view_reads_plain_files_too(tmp_path):
    summary = pd.DataFrame(
        {
            "run_id": range(6),
            "seed": range(6),
            "partner_commitment": [0.2, 0.5, 0.8] * 2,
            "npv": [1.0, 2.0, 3.0, 1.5, 2.5, 3.5],
            "objective_met": [False, True, True] * 2,
        }
    )
    summary.to_parquet(tmp_path / "summary.parquet")
    pd.DataFrame({"parameter": ["partner_commitment"], "S1": [0.7], "ST": [0.8]}).to_csv(tmp_path / "sobol_npv.csv")
    f = load_folder(tmp_path)
    assert f.source == "files" and f.parameters == ["partner_commitment"]
    assert f.outcomes[:2] == ["npv", "objective_met"]
    median = next(
        s for s in charts.outcome_option(f.summary, "partner_commitment", "npv")["series"] if s["name"] == "median"
    )
    assert median["data"] == [[0.2, 1.25], [0.5, 2.25], [0.8, 3.25]]


@pytest.mark.parametrize(
    "make, needle",
    [
        (lambda p: p / "missing", "an existing folder"),
        (lambda p: p, "summary.parquet"),
        (lambda p: (p / "summary.parquet").write_text("not parquet") and p, "readable summary files"),
    ],
)
def test_bad_results_folder_gives_a_readable_message(tmp_path, make, needle):
    with pytest.raises(InputError, match=needle):
        load_folder(make(tmp_path))


# ---- the session's actions (what the pages call) -------------------------------------


@pytest.fixture
def session():
    from abm.app import state

    state.base_choice.value = presets.DEFAULT
    state.file_scenario.value = None
    state.settings.value = None
    state.message.value = None
    state.live.value = None
    state.restart()
    yield state
    if state.live.value is not None:
        state.live.value.close()


def test_malformed_scenario_file_shows_a_message_and_keeps_the_run(session, tmp_path):
    run = session.live.value
    assert not session.load_scenario_text(b"[market\nconsumers = 5", "broken.toml")
    assert "broken.toml was not loaded" in session.message.value and "valid TOML" in session.message.value
    assert session.live.value is run
    bad = tmp_path / "bad.toml"
    bad.write_text('[market]\nconsumers = "many"\n', encoding="utf-8")
    assert not session.load_scenario_path(str(bad))
    assert "market.consumers" in session.message.value


def test_a_good_scenario_file_becomes_the_base(session, tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(presets.load("jv-exit").to_toml().replace("jv-exit", "my-case"), encoding="utf-8")
    assert session.load_scenario_path(str(path))
    assert session.base_choice.value == "file: mine.toml" and session.message.value is None
    assert session.live.value.scenario.name == "my-case"


def test_impossible_settings_show_a_message_instead_of_a_run(session):
    session.change(home_country="ALB", host_country="BEF")
    assert session.live.value is None and "cannot run" in session.message.value
    session.choose_base("alpha-beta")
    assert session.live.value is not None and session.message.value is None


def test_a_run_that_raises_shows_a_message(session, monkeypatch):
    run = session.live.value

    def broken():
        raise ZeroDivisionError("division by zero in a submodel")

    monkeypatch.setattr(run.model, "step", broken)
    assert not session.step_once()
    assert "stopped in month 1" in session.message.value and "ZeroDivisionError" in session.message.value
    assert session.live.value is None and session.frame.value is not None  # the last good month stays
    session.restart()
    assert session.step_once() and session.frame.value.month == 1


# ---- Mesa's SolaraViz ----------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:.*found despite early return:UserWarning")
@pytest.mark.filterwarnings("ignore:Failed to validate hooks:UserWarning")
def test_mesa_solaraviz_builds_and_steps_the_model():
    import ipyvuetify as v
    import ipywidgets
    import solara
    from mesa.visualization import SolaraViz

    from abm.app.mesa_page import MODEL_PARAMS, components, make_model

    model = make_model()

    @solara.component
    def Page():
        with solara.AppLayout():  # SolaraViz puts its controls in the layout's sidebar
            SolaraViz(model, components=components(), model_params=MODEL_PARAMS)

    _, rc = solara.render(Page(), handle_error=False)
    assert len(rc.find(ipywidgets.Image).widgets) == 3  # shares, trust, cash (matplotlib)
    step = rc.find(v.Btn, children=["Step"])
    step.assert_single()
    step.widget.click()
    step.widget.click()
    assert model.steps == 2 and model.month == 2
    frame = model.datacollector.get_model_vars_dataframe()
    assert len(frame) == 3 and {"Share: Alpha Co.", "Share: Local Leader", "Trust", "Cash"} <= set(frame.columns)
    rc.close()
    model.release()


# ---- the command ---------------------------------------------------------------------


def test_app_command_refuses_a_bad_port(capsys):
    from abm.cli import main

    assert main(["app", "--port", "http"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["abm: error: --port = 'http' is not allowed: a whole number from 1 to 65535"]


def test_app_command_refuses_a_port_in_use(capsys):
    from abm.cli import main

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["app", "--port", str(port)]) == 2
    assert "a free port" in capsys.readouterr().err


# ---- links ---------------------------------------------------------------------------


def test_a_link_carries_the_preset_the_changed_controls_and_the_month():
    from abm.app import links

    base = presets.load("two-entrants")
    s = settings.settings_from(base, seed=7).replace(partner="Gamma Retail", partner_commitment=0.6)
    query = links.query_for("two-entrants", base, s, month=30, present=True)
    assert query == "preset=two-entrants&partner=Gamma+Retail&commitment=0.6&seed=7&month=30&present=1"
    back = links.parse_query(query)
    assert back.preset == "two-entrants" and back.settings == s and back.month == 30 and back.present
    assert settings.apply_settings(back.base, back.settings).to_dict() == settings.apply_settings(base, s).to_dict()


def test_a_link_carries_a_scenario_that_is_no_preset_whole():
    from abm.app import links

    base = presets.load("alpha-beta").with_overrides({"months": 50, "partners[0].name": "Mekong Trading"})
    s = settings.settings_from(base, seed=3)
    back = links.parse_query(links.query_for(None, base, s))
    assert back.preset is None and back.scenario.to_dict() == base.to_dict() and back.settings == s


@pytest.mark.parametrize(
    ("query", "needle"),
    [
        ("preset=nowhere", "link preset"),
        ("preset=alpha-beta&seed=-3", "link seed"),
        ("preset=alpha-beta&commitment=1.7", "link commitment"),
        ("preset=alpha-beta&commitment=nan", "link commitment"),
        ("preset=alpha-beta&mode=merger", "link mode"),
        ("preset=alpha-beta&partner=Nobody", "link partner"),
        ("preset=alpha-beta&host=XXX", "link host"),
        ("preset=alpha-beta&month=999", "link month"),
        ("preset=alpha-beta&color=red", "color"),
        ("preset=alpha-beta&seed=1&seed=2", "one value"),
        ("scenario=AAAA", "link scenario"),
        ("scenario=" + "A" * 20_000, "at most"),
        ("%%%", "link"),
    ],
)
def test_a_tampered_link_is_refused_with_a_readable_message(query, needle):
    from abm.app import links

    with pytest.raises(InputError, match=needle):
        links.parse_query(query)


def test_a_link_scenario_that_inflates_too_far_is_refused():
    import base64
    import zlib

    from abm.app import links

    bomb = base64.urlsafe_b64encode(zlib.compress(b"#" * 5_000_000, 9)).decode().rstrip("=")
    with pytest.raises(InputError, match="at most"):
        links.decode_scenario(bomb)


def test_the_comparison_report_is_one_self_contained_page():
    from html.parser import HTMLParser

    from abm.app.compare_report import report_html

    scenario = presets.load("alpha-beta").with_overrides({"months": 30, "consumers": 600})
    out = comparison.run_comparison(
        scenario,
        comparison.variants_for(scenario, "modes", ("alone", "alliance")),
        replications=4,
        master_seed=2,
        workers=1,
    )
    assert list(out.paired.measure) == ["npv"]  # 30 months: no year-3 share to compare
    page = report_html(out, settings.MODE_LABELS)
    tags, refs = [], []

    class Reader(HTMLParser):
        def handle_starttag(self, tag, attrs):
            tags.append(tag)
            refs.extend(v for k, v in attrs if k in ("src", "href") and v)

    Reader().feed(page)
    assert tags.count("svg") == 2 and tags.count("img") == 1  # NPV and probabilities inline, the fan chart as PNG
    assert all(r.startswith("data:image/png;base64,") for r in refs) and len(refs) == 1  # nothing outside the file
    for sentence in out.verdicts(settings.MODE_LABELS):
        assert __import__("html").escape(sentence) in page
    assert "P(target share by deadline)" in page and "Strategic alliance − Alone (greenfield)" in page
