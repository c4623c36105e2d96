"""Month 0: how an entrant appraises its entry modes, picks a partner and pays its way in.

The appraisal (docs/ODD.md §7.2) values each mode the way the run will pay it: the
discounted monthly profit the entrant keeps over its planning horizon, on a share that
ramps up to its target after the licence (faster with more reach and a better-fitted
product), plus the going concern at the horizon, less the outlay; "stay out" is worth 0.
A partner's profit share, stake, expected commitment and chance of leaving, and the
incumbents' best response to its arrival (:func:`answered_shares`), all enter; a risk term
(spread of value) is weighed by ``risk_aversion``. The entrant's policy then chooses (``abm.policies``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from abm import licensing, policies
from abm.partnership import OPPORTUNITY_SHIFT, OPPORTUNITY_SIGMA, cultural_fit
from abm.rules import bargaining, competition, demand, valuation
from abm.scenario import ENTRY_MODES, Entrant, Incumbent, Partner, Scenario
from abm.vocabulary import EntryMode, StayOut, is_entry_mode

if TYPE_CHECKING:
    from abm.agents import Entrant as EntrantAgent
    from abm.agents import LocalPartner
    from abm.model import MarketEntryModel

STAY_OUT: StayOut = "stay_out"


def partner_attractiveness(partner: Partner, cultural_distance: float) -> float:
    """``A = 0.3 knowledge + 0.3 reach + 0.2 ties + 0.2 fit``, in [0, 1]: a quick screen of
    what a local partner brings (seed 000); the choice itself is by value (``partner_choice``)."""
    fit = cultural_fit(partner.cultural_fit, cultural_distance)
    return (
        0.3 * partner.consumer_knowledge + 0.3 * partner.distribution_reach + 0.2 * partner.regulatory_ties + 0.2 * fit
    )


@dataclass
class ModeAppraisal:
    """An entrant's appraisal of one entry mode (money in millions)."""

    mode: EntryMode | StayOut
    feasible: bool
    reason: str
    outlay: float
    expected_value: float
    risk: float
    score: float  # risk-adjusted value: expected_value - risk_aversion * risk


def _licence_months(scenario: Scenario, ties: float) -> float:
    months = [
        licensing.mean_processing_months(r.processing_months, r.stringency, ties, r.tie_speedup)
        for r in scenario.regulators
    ]
    return max(months, default=0.0)


def ownership_cap(scenario: Scenario) -> float:
    return min((r.foreign_ownership_cap for r in scenario.regulators), default=1.0)


def jv_stake(scenario: Scenario, entrant: Entrant, partner: Partner | None = None) -> float:
    """The entrant's JV stake: the Nash bargain over the JV's value (threat points: the
    entrant's best other mode, the partner's outside option), within the entrant's wanted
    stake (``jv_stake``) and the strictest foreign-ownership cap."""
    cap = min(entrant.jv_stake, ownership_cap(scenario))
    if partner is None:
        return cap
    value = _mode_value(scenario, entrant, partner, "joint_venture", 1.0)
    best_other = max(
        [0.0] + [_mode_value(scenario, entrant, partner if m != "alone" else None, m) for m in ("alone", "alliance")]
    )
    threat_p = partner.outside_option * partner.opportunity_value
    return bargaining.jv_stake(value, best_other, threat_p, scenario.contract.bargaining_power, cap)


def mode_outlay(
    scenario: Scenario, entrant: Entrant, mode: EntryMode, partner: Partner | None, stake: float = 1.0
) -> float:
    """Cash the entrant puts in at entry under each mode."""
    c = scenario.contract
    if mode == "alone":
        return entrant.setup_cost
    if mode == "alliance":
        return entrant.setup_cost * (1.0 - c.alliance_setup_saving)
    if mode == "joint_venture":
        return stake * jv_setup_cost(scenario, entrant)
    return (partner.acquisition_price if partner else 0.0) + entrant.setup_cost * (1.0 - c.alliance_setup_saving)


def partner_setup_cost(scenario: Scenario, entrant: Entrant) -> float:
    """What the partner's contribution to an alliance's set-up costs it: ``partner_setup_share
    x alliance_setup_saving x setup_cost`` (seed 000's case: the partner provides warehousing
    and staff, and the entrant's set-up falls by 40 %; the split between the partner's cost
    and synergy is an assumption)."""
    c = scenario.contract
    return c.partner_setup_share * c.alliance_setup_saving * entrant.setup_cost


def jv_setup_cost(scenario: Scenario, entrant: Entrant) -> float:
    """Set-up cost of a JV entity, shared by the partners' equity in proportion to stake."""
    c = scenario.contract
    return entrant.setup_cost * (1.0 - c.jv_setup_saving) + c.jv_formation_cost


def _rivals(scenario: Scenario) -> list[Incumbent]:
    """The firms already selling: incumbents and the partners' own brands."""
    return [*scenario.incumbents, *(p.brand_config() for p in scenario.partners if p.brand_share > 0)]


def expected_share(scenario: Scenario, entrant_utility: float, coverage: float) -> float:
    """The entrant's expected long-run market share once the incumbents have answered it
    (see :func:`answered_shares`)."""
    return answered_shares(scenario, entrant_utility, coverage)[0]


def answered_shares(scenario: Scenario, entrant_utility: float, coverage: float) -> tuple[float, np.ndarray]:
    """The entrant's and each rival's (:func:`_rivals`) expected long-run market shares once
    the incumbents have answered the entrant.

    The entrant predicts shares with the market's nested logit (:mod:`abm.rules.demand`,
    utilities ``(u - u_0) / choice_noise``) among the consumers it reaches (``coverage``),
    before and after its arrival. Each rival then reviews its price and marketing once, as
    the simulation's incumbents do (:func:`abm.rules.competition.best_response` on the
    demand it calibrates at its pre-entry status quo, with the instruments its ``reaction``
    names), and revises only if the year's perceived gain beats its ``adjustment_cost``.
    The revisions move the rivals' utilities (price through the consumers' price weight,
    marketing through the perceived quality it buys) and the entrant's share is read again:
    the expected answer (a price fight, or a marketing retreat where sales fall) is implied by
    the competition model, not a constant.
    """
    m = scenario.market
    rivals = _rivals(scenario)
    scale, lam = m.choice_noise, m.category_expansion

    def utility(quality: float, price: float) -> float:
        return (quality - m.price_sensitivity * price / m.reference_price - m.no_purchase_utility) / scale

    v_e = (entrant_utility - m.no_purchase_utility) / scale
    if not rivals:
        p_in, _ = demand.choice_probabilities(np.array([v_e]), None, lam)
        return float(p_in[0]) * coverage, np.zeros(0)
    v = np.array([utility(i.quality, i.price) for i in rivals])
    before, _ = demand.choice_probabilities(v, None, lam)
    after, _ = demand.choice_probabilities(np.append(v, v_e), None, lam)
    # what each rival observes: its month-0 share (it calibrates its demand on it, as in the
    # run), then that share less what the entrant is predicted to take from it
    seen = np.array([i.initial_share for i in rivals])
    share = seen * (coverage * after[:-1] / before + (1.0 - coverage))
    inside = min(float(share.sum() + coverage * after[-1]), 0.999)
    price = np.array([i.price for i in rivals])
    mkt = np.array([i.marketing for i in rivals])
    perceived = competition.calibrate(
        price,
        [i.unit_cost for i in rivals],
        mkt,
        seen,
        min(float(seen.sum()), 0.999),
        m.buyers,
        lam,
        [i.capacity for i in rivals],
    )
    kinds = [i.reaction for i in rivals]
    new_price, new_mkt, gain = competition.review(perceived, share, inside, price, mkt, kinds)
    cost = np.array([i.adjustment_cost for i in rivals]) * price * m.buyers * share / 1e6
    moves = (gain > cost) & np.array([k != "none" for k in kinds])
    moved = moves & (mkt > 0)
    ratio = np.where(moved, new_mkt, 1.0) / np.where(moved, mkt, 1.0)
    dv = np.where(moves, -m.price_sensitivity * (new_price - price) / m.reference_price / scale, 0.0)
    dv = dv + perceived.gamma * np.log(ratio)
    answered, _ = demand.choice_probabilities(np.append(v + dv, v_e), None, lam)
    unreached, _ = demand.choice_probabilities(v + dv, None, lam)
    return float(answered[-1]) * coverage, coverage * answered[:-1] + (1.0 - coverage) * unreached


def _mode_value(
    scenario: Scenario,
    entrant: Entrant,
    partner: Partner | None,
    mode: EntryMode,
    keep_override: float | None = None,
    cultural_distance: float | None = None,
) -> float:
    """Expected value of a mode before risk: see :func:`appraise_modes`."""
    m, c, mc = scenario.market, scenario.contract, scenario.mode_choice
    cd = cultural_distance if cultural_distance is not None else (entrant.cultural_distance or 0.0)
    H = mc.horizon_months
    p = partner if mode != "alone" else None
    ties = p.regulatory_ties if p else 0.0
    knowledge = p.consumer_knowledge if p else 0.0
    licence = _licence_months(scenario, ties)
    margin = m.buyers * (entrant.price - entrant.unit_cost) / 1e6
    fixed = entrant.operating_cost + entrant.marketing
    # coverage once built: its own network, and the partner's delivered as committed for as
    # long as the partner is expected to stay (a monthly hazard of leaving for an opportunity
    # worth more to it than staying; ODD §7.2, §7.14)
    own = entrant.own_reach
    partnered = p is not None and mode in ("alliance", "joint_venture")

    def value(stay: float) -> tuple[float, float]:
        """(the entrant's value of the mode, the partner's value of staying in it) when the
        partner is expected to deliver for ``stay`` of the horizon."""
        engagement = (p.commitment * stay) if (p is not None and partnered) else 1.0
        partner_reach = (0.75 * p.distribution_reach * engagement) if p is not None else 0.0
        cov_final = 1.0 - (1.0 - own) * (1.0 - partner_reach)
        early = 1.0 - (1.0 - 0.5 * own) * (1.0 - partner_reach)  # coverage in the first year
        # the long-run share among the consumers it reaches: the nested logit of its offer against
        # the incumbents' (and partners' own brands) and buying nothing (market research), after the
        # incumbents' best response to its arrival (ODD §7.2, §7.10)
        share, rival_shares = answered_shares(scenario, u_e, cov_final)
        # diffusion: about 24 / (p + q) months to the long-run share (Bass), slower with a network
        # still to build and a culturally distant product, faster with a partner's consumer knowledge
        bass = 24.0 / max(m.bass_p + m.bass_q, 1e-6)
        ramp = bass * math.sqrt(max(0.5, cov_final / max(early, 1e-9))) * (1.0 + 0.15 * cd * (1.0 - knowledge))
        ramp /= 1.0 + 0.5 * knowledge * engagement
        if mode == "acquisition":
            fail = 1.0 - math.exp(-c.integration_risk * cd * 24)
            share *= 1.0 - 0.5 * fail
        gross_pv = margin * share * float(valuation.ramp_factor(selling, ramp, entrant.cost_of_capital)) * df_licence
        kept_at_h = keep_gross * margin * share - keep_fixed * (fixed + coordination)  # the long-run profit
        going_concern = gc * max(0.0, kept_at_h)
        expected_rebuild = (1.0 - stay) * c.alliance_setup_saving * entrant.setup_cost if partnered else 0.0
        ev = keep_gross * gross_pv - keep_fixed * costs_pv + going_concern - expected_rebuild
        if mode == "acquisition" and p is not None and p.brand_share > 0:
            # the acquired firm's own brand earns for the entrant (its cash flow goes to the owner)
            k = [r.name for r in _rivals(scenario)].index(p.brand_name)
            brand = (p.brand_price - p.brand_unit_cost) * m.buyers * float(rival_shares[k]) / 1e6 - p.brand_marketing
            ev += brand * annuity + gc * max(0.0, brand)
        partner_value = 0.0
        if p is not None and mode == "alliance":
            partner_value = p.profit_share * (gross_pv + gc * margin * share) - p.service_cost * p.commitment * annuity
        elif p is not None and mode == "joint_venture":
            # the partner's part: 1 - the stake (bargained, or given); for the whole venture's value
            # (keep_override 1.0, from jv_stake, before the stake is bargained) 1 - the wanted stake
            if keep_override is None or keep_override < 1.0:
                part = 1.0 - keep_gross
            else:
                part = 1.0 - min(entrant.jv_stake, ownership_cap(scenario))
            venture = gross_pv - costs_pv + gc * max(0.0, margin * share - fixed - coordination)
            partner_value = part * venture + c.exit_cost * part * jv_setup_cost(scenario, entrant)
        return float(ev), float(partner_value)

    misfit = m.misfit_per_distance * cd * (1.0 - knowledge) * 0.5
    u_e = entrant.quality - m.price_sensitivity * entrant.price / m.reference_price - m.fit_weight * misfit**2
    fit = cultural_fit(p.cultural_fit, cd) if p is not None else 1.0
    coordination = c.coordination_cost * cd * (1.0 - fit) if partnered else 0.0
    keep_gross, keep_fixed = 1.0, 1.0
    if mode == "alliance":
        keep_gross = 1.0 - (p.profit_share if p else 0.0)
    elif mode == "joint_venture":
        keep_gross = keep_fixed = keep_override if keep_override is not None else jv_stake(scenario, entrant, p)
    selling = max(0.0, H - licence)
    df_licence = (1.0 + entrant.cost_of_capital) ** (-licence / 12.0)
    annuity = float(valuation.annuity_factor(H, entrant.cost_of_capital))
    costs_pv = (fixed + coordination) * annuity
    gc = c.valuation_multiple * 12 * (1.0 + entrant.cost_of_capital) ** (-H / 12)  # going concern per unit profit
    ev, partner_value = value(1.0)
    if partnered and p is not None:
        lam = c.opportunity_rate * p.outside_option / 12.0 * offer_taken(partner_value, p.opportunity_value)
        if lam > 0:
            ev, _ = value((1.0 - math.exp(-lam * H)) / (lam * H))
    return ev


def offer_taken(value_of_staying: float, opportunity_value: float) -> float:
    """Chance that one outside opportunity (log-normal, mean ``opportunity_value``, sigma 0.6:
    ``V_o = opportunity_value exp(0.6 z - 0.18)``, ODD §7.14) is worth more to the partner
    than staying: ``P(z > (ln(V_stay / opportunity_value) + 0.18) / 0.6)``."""
    if opportunity_value <= 0:
        return 0.0
    if value_of_staying <= 0:
        return 1.0
    z = (math.log(value_of_staying / opportunity_value) + OPPORTUNITY_SHIFT) / OPPORTUNITY_SIGMA
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def appraise_modes(
    scenario: Scenario, entrant: Entrant, partner: Partner | None, cultural_distance: float
) -> list[ModeAppraisal]:
    """Value and risk of staying out and of each mode, as the entrant estimates them.

    ``EV = k_g PV(margin s(t)) - k_f PV(fixed + coordination) + k GC - outlay - E[rebuild]``:
    ``s(t)`` ramps after the expected licence delay to the long-run share (after the incumbents'
    answer, :func:`answered_shares`) over the diffusion time, slower with cultural
    distance not offset by the partner's consumer knowledge; ``k`` is the part kept (alliance:
    ``1 - profit_share`` of the gross margin; JV: the bargained stake); GC the going concern
    at the horizon (``valuation_multiple`` x a year's profit); E[rebuild] the expected cost
    of rebuilding the partner's reach should it leave. Risk: the value at stake in a
    failure plus capital strain ``outlay^2 / capital``. A small firm (capital below
    ``small_firm_capital``) does not tie up equity in a JV or acquisition unless a local
    entity is required (seed 004).
    """
    mc = scenario.mode_choice
    cap = ownership_cap(scenario)
    local_needed = any(r.requires_local_entity for r in scenario.regulators)
    out = [ModeAppraisal(STAY_OUT, True, "", 0.0, 0.0, 0.0, 0.0)]
    for mode in ENTRY_MODES:
        p = partner if mode != "alone" else None
        stake = jv_stake(scenario, entrant, p) if mode == "joint_venture" else 1.0
        outlay = mode_outlay(scenario, entrant, mode, p, stake)
        feasible, reason = True, ""
        if mode != "alone" and p is None:
            feasible, reason = False, "no partner available"
        if not feasible:
            out.append(ModeAppraisal(mode, False, reason, outlay, -math.inf, 0.0, -math.inf))
            continue
        ev = _mode_value(scenario, entrant, p, mode, stake if mode == "joint_venture" else None, cultural_distance)
        ev -= outlay
        fail = {
            "alone": 0.25 * (1.0 - math.exp(-0.3 * cultural_distance)),
            "alliance": 0.35,
            "joint_venture": 0.30,
            "acquisition": 1.0 - math.exp(-scenario.contract.integration_risk * cultural_distance * 24),
        }[mode]
        at_stake = abs(ev) + outlay
        risk = math.sqrt(fail * (1.0 - fail)) * at_stake * 0.5 + outlay * outlay / max(entrant.capital, 1e-9)
        why = licensing.eligibility(mode, stake, local_needed, cap)
        if why:
            feasible, reason = False, why
        if feasible and outlay > entrant.capital:
            feasible, reason = False, f"outlay {outlay:.1f} exceeds capital {entrant.capital:.1f}"
        small = entrant.capital < mc.small_firm_capital
        if feasible and small and mode in ("joint_venture", "acquisition") and not (local_needed or cap < 1.0):
            feasible, reason = False, "a small firm does not tie up equity in a local entity unless it must"
        score = ev - mc.risk_aversion * risk if feasible else -math.inf
        out.append(ModeAppraisal(mode, feasible, reason, outlay, ev, risk, score))
    return out


def choose_mode(appraisals: list[ModeAppraisal]) -> ModeAppraisal | None:
    """The feasible appraisal with the best score (staying out included), by the value rule."""
    feasible = [a for a in appraisals if a.feasible]
    return max(feasible, key=lambda a: a.score) if feasible else None


# ---- the month-0 procedure ----------------------------------------------------------------


def enter_market(model: MarketEntryModel) -> None:
    """Entrants, in random order, pick a partner and a mode, file for licences and pay
    their way in. A rival that moves first can take the partner one wanted."""
    order = list(model.entrants)
    model.random.shuffle(order)
    for entrant in order:
        enter(model, entrant)


def _best_value(model: MarketEntryModel, entrant: EntrantAgent, partner: LocalPartner) -> float:
    cfg = entrant.config
    apps = appraise_modes(model.scenario, cfg, partner.config, entrant.cultural_distance)
    if cfg.entry_mode == "auto":
        return max(a.score for a in apps)
    return next(a.score for a in apps if a.mode == cfg.entry_mode)


def pick_partner(model: MarketEntryModel, entrant: EntrantAgent) -> LocalPartner | None:
    free = [p for p in model.partners if p.free]
    if not free or entrant.config.entry_mode == "alone":
        return None
    wanted = entrant.config.preferred_partner
    if wanted:
        match = [p for p in free if p.name == wanted]
        if match:
            return match[0]
        model.log(
            entrant.name, "partner_taken", f"{wanted} is already taken by a rival; {entrant.name} looks elsewhere"
        )
    if len(free) == 1:
        return free[0]
    options = [policies.Option(p.name, _best_value(model, entrant, p), 0.0) for p in free]
    options = [o if math.isfinite(o.value) else policies.Option(o.name, -1e9, 0.0) for o in options]
    name = model.ask(entrant, "partner_choice", options, "which local partner to approach")
    return model.partner_by_name[name]


def enter(model: MarketEntryModel, entrant: EntrantAgent) -> None:
    from abm import lifecycle

    cfg = entrant.config
    partner = pick_partner(model, entrant)
    mode: str = cfg.entry_mode  # narrowed to an EntryMode below, once "auto" is resolved
    if mode == "auto":
        appraisals = appraise_modes(model.scenario, cfg, partner.config if partner else None, entrant.cultural_distance)
        feasible = [a for a in appraisals if a.feasible]
        options = [policies.Option(a.mode, a.score, a.risk) for a in feasible]
        mode = model.ask(entrant, "mode_choice", options, "how to enter the market")
        if mode == STAY_OUT:
            why = "; ".join(f"{a.mode}: {a.reason}" for a in appraisals if not a.feasible)
            entrant.entered = False
            model.log(entrant.name, "stays_out", f"{entrant.name} stays out: no entry mode is worth its cost")
            entrant.leave_market("stayed out: no mode worth entering" + (f" ({why})" if why else ""))
            return
        chosen = next(a for a in feasible if a.mode == mode)
        ranked = sorted(feasible, key=lambda a: -a.score)
        nxt = next((a for a in ranked if a.mode != mode), None)
        model.log(
            entrant.name,
            "mode_chosen",
            f"{entrant.name} chooses {mode.replace('_', ' ')} "
            f"(risk-adjusted value {chosen.score:.1f}m; next best: "
            f"{nxt.mode.replace('_', ' ') if nxt else 'none'})",
        )
    if mode != "alone" and partner is None:
        model.log(entrant.name, "no_partner", f"no free local partner: {entrant.name} enters alone")
        mode = "alone"
    assert is_entry_mode(mode), mode  # the policy chose among the feasible modes
    entrant.mode = entrant.initial_mode = mode
    stake = 1.0
    if mode == "joint_venture":
        assert partner is not None  # a mode with a partner has one: else it went alone above
        stake = jv_stake(model.scenario, cfg, partner.config)
        if stake < cfg.jv_stake - 1e-9:
            model.log(
                entrant.name,
                "stake_bargained",
                f"{entrant.name}'s JV stake set at {stake:.0%} (bargained within the ownership cap)",
            )
    ties = partner.config.regulatory_ties if (partner is not None and mode != "alone") else 0.0
    if not model.apply_for_licences(entrant, mode, stake, ties):
        return
    entrant.entered = True
    outlay = mode_outlay(model.scenario, cfg, mode, partner.config if partner else None, stake)
    entrant.invest(outlay, model.month)
    if mode in ("alliance", "joint_venture"):
        assert partner is not None
        p = lifecycle.form(model, entrant, partner, mode, stake)
        if mode == "joint_venture":
            p.partner_cash_flow -= (1 - stake) * jv_setup_cost(model.scenario, cfg)
            p.partner_npv = p.partner_cash_flow
        else:
            lifecycle.charge_partner(model, p, partner_setup_cost(model.scenario, cfg))
    elif mode == "acquisition":
        assert partner is not None
        entrant.acquired = partner
        partner.acquired_by = entrant
        if partner.own_brand is not None:  # its brand is the entrant's now: it earns and is priced for it
            partner.own_brand.brand_owner = entrant.name
        model.log(
            entrant.name,
            "acquisition",
            f"{entrant.name} acquires {partner.name} for {partner.config.acquisition_price:.1f}m",
        )
    else:
        model.log(entrant.name, "enters_alone", f"{entrant.name} enters alone (set-up {outlay:.1f}m)")
