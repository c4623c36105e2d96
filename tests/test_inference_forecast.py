"""Forecasting a case from its first months (abm forecast): coverage, narrowing, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from abm.errors import InputError
from abm.inference.forecast import case_prior, condition, forecast, read_observed, reference_table
from abm.inference.runs import Runner

HORIZON = 48


@pytest.fixture(scope="module")
def quick_case():
    from abm.presets import resolve_scenario

    return resolve_scenario(None).with_overrides({"market.consumers": 1500, "months": HORIZON})


@pytest.fixture(scope="module")
def tables(quick_case):
    """A reference table and synthetic truths (another master seed) of the quick case."""
    prior = case_prior(quick_case)
    with Runner(workers=2, progress=False) as runner:
        _, records = reference_table(quick_case, prior, 400, 1, runner)
        _, truths = reference_table(quick_case, prior, 24, 2, runner)
    return records, truths


def band_stats(records, truths, revealed: int, capital: float, level: float = 0.8):
    share = np.array([r["share"] for r in records], dtype=float)
    covered, widths, prior_widths = [], [], []
    for truth in truths:
        observed = pd.DataFrame({"month": np.arange(revealed + 1), "market_share": truth["share"][: revealed + 1]})
        picked, _ = condition(observed, records, 0.05, capital)
        lo, hi = np.quantile(share[picked, revealed + 1 :], [(1 - level) / 2, (1 + level) / 2], axis=0)
        plo, phi = np.quantile(share[:, revealed + 1 :], [(1 - level) / 2, (1 + level) / 2], axis=0)
        hidden = truth["share"][revealed + 1 :]
        covered.append(np.mean((hidden >= lo - 1e-9) & (hidden <= hi + 1e-9)))
        widths.append(np.mean(hi - lo))
        prior_widths.append(np.mean(phi - plo))
    return float(np.mean(covered)), float(np.mean(widths)), float(np.mean(prior_widths))


@pytest.mark.slow
def test_forecast_bands_cover_hidden_months_near_their_nominal_rate(tables, quick_case):
    records, truths = tables
    coverage, width, prior_width = band_stats(records, truths, 12, quick_case.entrants[0].capital)
    # nominal 80 %; 24 truths x 36 hidden months, months of one truth correlated: a band of +/- 0.15
    assert 0.65 <= coverage <= 0.95, coverage
    # the data inform the forecast: bands narrower than with no data
    assert width < 0.85 * prior_width, (width, prior_width)


@pytest.mark.slow
def test_bands_narrow_as_more_months_are_revealed(tables, quick_case):
    records, truths = tables
    capital = quick_case.entrants[0].capital
    # widths over the same later months (25-48), revealing 6 or 24 months
    share = np.array([r["share"] for r in records], dtype=float)

    def width(revealed):
        out = []
        for truth in truths:
            observed = pd.DataFrame({"month": np.arange(revealed + 1), "market_share": truth["share"][: revealed + 1]})
            picked, _ = condition(observed, records, 0.05, capital)
            lo, hi = np.quantile(share[picked, 25:], [0.1, 0.9], axis=0)
            out.append(np.mean(hi - lo))
        return float(np.mean(out))

    assert width(24) < 0.9 * width(6)


@pytest.mark.slow
def test_conditioning_picks_runs_like_the_observed_one(tables, quick_case):
    records, truths = tables
    truth = truths[0]
    observed = pd.DataFrame({"month": np.arange(13), "market_share": truth["share"][:13]})
    picked, dist = condition(observed, records, 0.05, quick_case.entrants[0].capital)
    near = np.array([records[i]["share"][:13] for i in picked], dtype=float)
    everyone = np.array([r["share"][:13] for r in records], dtype=float)
    err = lambda paths: np.sqrt(np.mean((paths - truth["share"][:13]) ** 2))  # noqa: E731
    assert err(near) < 0.5 * err(everyone)
    assert dist[picked].max() <= np.sort(dist)[len(picked) - 1] + 1e-12


@pytest.mark.slow
def test_forecast_writes_fan_chart_and_table(quick_case, tmp_path):
    data = tmp_path / "obs.csv"
    pd.DataFrame(
        {"month": range(10), "market_share": np.linspace(0, 0.03, 10), "partnership_status": ["alliance"] * 10}
    ).to_csv(data, index=False)
    result = forecast(quick_case, data, out=tmp_path / "fc", reference_runs=60, workers=1, progress=False, echo=False)
    assert (tmp_path / "fc" / "fan_chart.png").stat().st_size > 10_000
    assert list(result.table.quantity[:3]) == ["market share, year 1", "market share, year 3", "market share, year 5"]
    assert result.accepted == 20 and len(result.posterior) == 20
    assert result.bands.month.max() == HORIZON
    b = result.bands
    assert (b.share_90_low <= b.share_median).all() and (b.share_median <= b.share_90_high).all()


# ---- bad input ------------------------------------------------------------------------------------


def write(tmp_path, text: str):
    path = tmp_path / "data.csv"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        ("month,share\n0,0.0\n", "DATA.csv columns", "market_share"),
        ("month,market_share\n0,0.0\n2,0.1\n1,0.1\n", "month (row 3)", "increasing"),
        ("month,market_share\n0,0.0\n1,1.5\n", "market_share (row 2)", "[0, 1]"),
        ("month,market_share\n0,0.0\n1,-0.1\n", "market_share (row 2)", "[0, 1]"),
        ("month,market_share\n0,0.0\n1,nan\n", "market_share (row 2)", "NaN"),
        ("month,market_share\n0,0.0\n1,\n", "market_share (row 2)", "blanks"),
        ("month,market_share\n0,0.0\n60,0.1\n", "month", "horizon"),
        ("month,market_share\n0,0.0\n1.5,0.1\n", "month (row 2)", "whole"),
        ("month,market_share,partnership_status\n0,0.0,married\n", "partnership_status (row 1)", "alliance"),
        ("month,market_share,licence_month\n0,0.0,\n1,0.0,5\n", "licence_month (row 2)", "at most"),
        ("month,market_share,colour\n0,0.0,red\n", "DATA.csv columns", "only"),
        ("month,market_share\n", "DATA.csv", "at least one"),
    ],
)
def test_bad_csv_names_field_value_and_what_is_allowed(tmp_path, text, field, words):
    with pytest.raises(InputError) as info:
        read_observed(write(tmp_path, text), HORIZON)
    assert info.value.field == field
    assert words in info.value.allowed


def test_more_rows_than_the_horizon_is_refused(tmp_path):
    rows = "\n".join(f"{m},0.01" for m in range(HORIZON + 1))
    with pytest.raises(InputError, match="horizon"):
        read_observed(write(tmp_path, "month,market_share\n" + rows + "\n"), HORIZON)


def test_cli_bad_csv_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys):
    from abm.cli import main

    data = write(tmp_path, "month,market_share\n0,0.0\n1,1.7\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("old")
    assert main(["forecast", "alpha-beta", str(data), "--out", str(tmp_path / "new")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "market_share (row 2) = 1.7" in err[0] and "[0, 1]" in err[0]
    assert not (tmp_path / "new").exists()
    good = write(tmp_path, "month,market_share\n0,0.0\n1,0.01\n")
    assert main(["forecast", "alpha-beta", str(good), "--out", str(out)]) == 2
    assert [p.name for p in out.iterdir()] == ["keep.txt"] and (out / "keep.txt").read_text() == "old"


def test_cli_calibrate_unknown_target_exits_2(tmp_path, capsys):
    from abm.cli import main

    spec = tmp_path / "spec.toml"
    spec.write_text('[parameters]\n"contract.trust_gain" = [0.04, 0.2]\n[targets]\nalliance_fail = {}\n')
    assert main(["calibrate", str(spec), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "targets = 'alliance_fail'" in err and "did you mean 'alliances_fail'" in err
    assert not (tmp_path / "o").exists()
