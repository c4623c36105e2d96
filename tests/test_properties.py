"""Property-based: random valid scenarios never break the model's invariants."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import abm

unit = st.floats(0.0, 1.0, allow_nan=False)
scenarios = st.fixed_dictionaries(
    {
        "preset": st.sampled_from(abm.preset_names()),
        "entry_mode": st.sampled_from(["alone", "alliance", "joint_venture", "acquisition", "auto"]),
        "partner_commitment": unit,
        "entrant_commitment": unit,
        "partner_cultural_fit": unit,
        "partner_regulatory_ties": unit,
        "partner_ambition": unit,
        "partner_outside_option": unit,
        "regulatory_stringency": unit,
        "know_how_protection": unit,
        "cultural_distance": st.floats(0.0, 8.0),
        "capital": st.floats(0.0, 200.0),
        "trust_floor": st.floats(0.0, 0.6),
        "surprise_rate": st.floats(0.0, 4.0),
        "incumbent_loyalty": st.floats(0.0, 4.0),
        "foreign_ownership_cap": unit,
        "seed": st.integers(0, 2**31 - 1),
    }
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios)
def test_random_valid_scenarios_keep_invariants(params):
    preset, seed = params.pop("preset"), params.pop("seed")
    r = abm.simulate(preset, seed=seed, months=36, consumers=300, **params)
    numeric = r.steps[["market_share", "awareness", "coverage", "revenue", "cash_flow", "cash"]]
    assert np.isfinite(numeric.to_numpy(dtype=float)).all()
    by_month = r.steps.groupby("month").market_share.sum()
    assert ((by_month >= 0) & (by_month <= 1 + 1e-12)).all()
    entrants = r.steps[r.steps.role == "entrant"]
    for col in ("trust_entrant", "trust_partner", "commitment_entrant", "commitment_partner", "partner_know_how"):
        v = entrants[col].dropna()
        assert ((v >= 0) & (v <= 1)).all(), col
    s = r.summary.iloc[0]
    assert np.isfinite(s["npv"]) and np.isfinite(s["cash_end"])
    assert s["share_final"] <= 1.0
