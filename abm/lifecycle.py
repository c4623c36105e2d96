"""Partnership lifecycle: forming, living with trouble and repair, deciding, ending.

The transitions of docs/ODD.md §7.4–7.8. Every choice goes through the deciding firm's
policy (``abm.policies``) as a :class:`~abm.policies.Decision` whose options carry the
firm's own estimate of their value (``estimates`` below): the year-two review (deepen,
continue, pivot, end), renegotiation when the partnership is in trouble, continue-or-end,
the JV's planned end (extend, buyout, IPO, liquidation), buyout bids and the partner's
walk-away when an outside opportunity arrives. The pure rules live in ``abm.rules`` and
``partnership.py``; this module applies them to the agents.
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING, Literal

import numpy as np

from abm import partnership as rules
from abm.entry import jv_setup_cost
from abm.partnership import END_CAUSES, Partnership, end_event
from abm.policies import Option
from abm.rules import bargaining, commitment, valuation
from abm.rules import trust as trust_rules
from abm.vocabulary import JvExitRoute, PartnershipEndCause, PartnershipKind

if TYPE_CHECKING:
    from abm.agents import Entrant, LocalPartner
    from abm.model import MarketEntryModel

QUARTER = 3


def _mean(x: np.ndarray) -> float:
    """``float(np.mean(x))`` bit for bit (the same sum and division) without numpy's wrapper,
    which costs more than the sum on these 9-region arrays."""
    return float(np.add.reduce(x)) / x.size


# ---- forming ------------------------------------------------------------------------------


def form(
    model: MarketEntryModel, entrant: Entrant, partner: LocalPartner, kind: PartnershipKind, stake: float = 1.0
) -> Partnership:
    c = model.scenario.contract
    fit = rules.cultural_fit(partner.config.cultural_fit, entrant.cultural_distance)
    p = Partnership(entrant.name, partner.name, kind, model.month, c.initial_trust, c.initial_trust, fit, stake=stake)
    p.profit_share = partner.config.profit_share
    p.promised_partner = partner.config.commitment
    if kind == "alliance":
        p.planned_end = model.month + c.alliance_term_months
    else:
        p.jv_start_month = model.month
        p.jv_equity = jv_setup_cost(model.scenario, entrant.config)
        p.planned_end = model.month + rules.planned_jv_life(model.rng.random(), c.jv_life_min, c.jv_life_max)
    entrant.partner, entrant.partnership = partner, p
    partner.engaged_with = entrant
    entrant.partner_engagement = partner.config.commitment
    model.partnerships.append(p)
    label = (
        "strategic alliance"
        if kind == "alliance"
        else f"joint venture ({stake:.0%} stake, planned for {p.planned_end - model.month} months)"
    )
    model.log(entrant.name, "partnership_formed", f"{entrant.name} forms a {label} with {partner.name}")
    return p


# ---- each month -----------------------------------------------------------------------------


def deliver_commitment(model: MarketEntryModel, p: Partnership) -> None:
    """Each side delivers a noisy share of what it promised; the partner scales its promise
    by the share of it it chose to put in this quarter (``partner_commits``). The entrant's
    working view of the partner's engagement is smoothed over months; each side's quarter
    totals feed its trust."""
    c = model.scenario.contract
    entrant = model.entrant_by_name[p.entrant]
    z = model.rng.standard_normal(2).tolist()  # floats: the same values, cheaper arithmetic
    p.delivered_entrant = rules.delivered_commitment(entrant.config.commitment, c.commitment_noise, z[0])
    p.delivered_partner = rules.delivered_commitment(p.promised_partner * p.motivation, c.commitment_noise, z[1])
    p.quarter_entrant += p.delivered_entrant
    p.quarter_partner += p.delivered_partner
    entrant.partner_engagement = 0.8 * entrant.partner_engagement + 0.2 * p.delivered_partner


def evolve(model: MarketEntryModel, p: Partnership) -> None:
    """One month of a live partnership: the learning race, the partner's outside
    opportunities, and each quarter trust, trouble and the decisions that follow."""
    c = model.scenario.contract
    entrant = model.entrant_by_name[p.entrant]
    partner = model.partner_by_name[p.partner]
    cfg, pcfg = entrant.config, partner.config
    p.partner_know_how += rules.know_how_gain(
        p.partner_know_how, c.know_how_leak, pcfg.absorptive_capacity, cfg.know_how_protection, p.delivered_entrant
    )
    draws = model.rng.random(3).tolist()
    if draws[0] < rules.defection_hazard(
        p.partner_know_how, entrant.local_knowledge, pcfg.ambition, c.defection_knowledge
    ):
        cost = partner_exit_cost(model, p)
        end(model, p, "partner_defected")
        charge_partner(model, p, cost)  # breaking a JV early costs the defector as any walk-out
        seller = partner.launch_rival_brand(p.partner_know_how, entrant)
        model.consumers.seed_awareness(seller.brand, 0.3, seller.coverage)
        what = "a rival brand" if seller is partner else f"its own brand ({seller.name})"
        model.log(partner.name, "rival_launched", f"{partner.name} launches {what} with the know-how it absorbed")
        return
    rate = c.opportunity_rate * pcfg.outside_option / 12.0
    if draws[1] < 1.0 - math.exp(-rate):
        z = model.rng.standard_normal()
        offer = pcfg.opportunity_value * math.exp(rules.OPPORTUNITY_SIGMA * z - rules.OPPORTUNITY_SHIFT)
        if partner_considers_leaving(model, p, offer):
            return
    together = model.month - p.start_month
    quarter = together > 0 and together % QUARTER == 0
    if quarter:
        quarter_review(model, p)
    month = model.month
    if month >= c.review_month and (month - c.review_month) % 12 == 0:
        kind = p.kind
        year_review(model, p)
        if not p.active or p.kind != kind:
            return
    if quarter and month >= p.calm_until and in_trouble(model, p):
        trouble(model, p)
        if not p.active:
            return
    if p.planned_end is not None and month >= p.planned_end:
        if p.kind == "alliance":
            term_ends(model, p)
        else:
            jv_planned_end(model, p)


def quarter_review(model: MarketEntryModel, p: Partnership) -> None:
    """Each side updates its belief about the other from the quarter's deliveries (read with
    noise that grows with cultural distance and poor fit) and results against plan."""
    c = model.scenario.contract
    entrant = model.entrant_by_name[p.entrant]
    d_p, d_e = p.quarter_partner / QUARTER, p.quarter_entrant / QUARTER
    p.quarter_partner = p.quarter_entrant = 0.0
    results = 0.0
    if entrant.licence_month is not None:
        results = rules.results_signal(
            entrant.market_share,
            entrant.config.target_share,
            model.month - entrant.licence_month,
            entrant.config.target_month,
        )
    sigma = float(trust_rules.reading_noise(c.reading_noise, entrant.cultural_distance, p.fit))
    fr = float(trust_rules.friction(model.month - p.start_month, c.startup_friction))
    z = model.rng.standard_normal(2).tolist()
    p.trust_entrant, p.trust_partner = trust_rules.quarter_update(
        (p.trust_entrant, p.trust_partner), (d_e, d_p), results, z, sigma, fr, c.trust_gain, c.trust_loss
    )
    partner_commits(model, p, results)


def brand_diversion(model: MarketEntryModel, p: Partnership, entrant_share: float) -> float:
    """Monthly margin (millions) the partner's own brand loses while the entrant holds
    ``entrant_share``: the entrant's customers come from the brands bought in proportion to
    their shares (diversion by share, the logit's proportional substitution), so the brand
    loses ``s_e b / inside`` of the market at its unit margin. Zero for a partner with no brand."""
    brand = model.partner_brands.get(p.partner)
    if brand is None:
        return 0.0
    inside = max(1.0 - model.consumers.no_purchase_share, 1e-6)
    diverted = entrant_share * min(1.0, brand.market_share / inside)
    return model.scenario.market.buyers * diverted * max(0.0, brand.price - brand.unit_cost) / 1e6


def commitment_values(model: MarketEntryModel, p: Partnership, results: float) -> dict[str, tuple[float, float]]:
    """The partner's options for its effort this quarter: ``{option: (level, value)}``
    (docs/ODD.md §7.7, ``abm.rules.commitment``). Its payoff at a level: its part of the
    gross margin on the share its channels help to reach (coverage ``1 - (1 - own)(1 -
    network x promise x level)``), less its service cost and the margin its own brand loses
    beyond what the entrant would take from it alone;
    how long that lasts depends on how the entrant will read the effort; afterwards it falls
    back on its outside option."""
    partner = model.partner_by_name[p.partner]
    entrant = model.entrant_by_name[p.entrant]
    pcfg = partner.config
    est = estimates(model, p)
    options = commitment.levels(p.motivation)
    promised = p.promised_partner
    effort = [promised * level for level in options.values()]
    step = 24.0 / entrant.config.build_months
    own = entrant.own_coverage(progress=min(1.0, entrant.build_progress + 0.5 * step))
    cov = (
        np.add.reduce(1.0 - (1.0 - own)[None, :] * (1.0 - partner.network[None, :] * np.array(effort)[:, None]), axis=1)
        / own.size
    ).tolist()
    cap, conversion, margin = est["cap"], est["conversion"], est["margin"]
    share = [min(cap, conversion * c) for c in cov]  # np.minimum's pick for numbers
    gross = [margin * s for s in share]
    # its brand's extra losses: beyond what the entrant would take from it alone
    lost = [0.0] * len(share)
    if p.partner in model.partner_brands:
        alone = brand_diversion(model, p, est["share_alone"])
        lost = [brand_diversion(model, p, s) - alone for s in share]
    if p.kind == "alliance":
        ps, service = p.profit_share, pcfg.service_cost
        flow = [ps * g - service * e - x for g, e, x in zip(gross, effort, lost, strict=True)]
    else:
        kept, fixed = 1.0 - p.stake, est["fixed"]
        flow = [kept * (g - fixed) - x for g, x in zip(gross, lost, strict=True)]
    fallback = pcfg.outside_option * pcfg.opportunity_value
    v = commitment.value_of_levels(
        effort,
        flow,
        p.trust_partner * entrant.config.commitment,
        results,
        model.scenario.mode_choice.horizon_months,
        pcfg.cost_of_capital,
        fallback,
    )
    return {name: (float(lv), x) for (name, lv), x in zip(options.items(), v, strict=True)}


def partner_commits(model: MarketEntryModel, p: Partnership, results: float) -> None:
    """The partner's quarterly ``commitment`` decision: cut, hold or raise the share of its
    promise it delivers, by its own estimate of each level's value (its policy decides)."""
    partner = model.partner_by_name[p.partner]
    values = commitment_values(model, p, results)
    unc = 1.0 - 0.5 * (p.trust_partner + p.fit)
    before = p.motivation
    choice = model.ask(
        partner,
        "commitment",
        [_opt(name, v, unc) for name, (_, v) in values.items()],
        f"quarterly commitment: it delivers {before:.0%} of its promise; trust in {p.entrant} {p.trust_partner:.2f}",
    )
    p.motivation = values[choice][0]
    if choice != "hold":
        verb = "cuts" if choice == "cut" else "raises"
        model.log(
            partner.name,
            f"commitment_{choice}",
            f"{partner.name} {verb} its commitment to {p.motivation:.0%} of its promise "
            f"(worth {values[choice][1]:.1f}m to it against {values['hold'][1]:.1f}m holding)",
        )


def planned_share(model: MarketEntryModel, entrant: Entrant) -> float:
    """The share the plan called for by now (``review_objective`` of the target path)."""
    cfg, c = entrant.config, model.scenario.contract
    if entrant.licence_month is None:
        return 0.0
    on_sale = model.month - entrant.licence_month
    return c.review_objective * cfg.target_share * min(1.0, on_sale / cfg.target_month)


def in_trouble(model: MarketEntryModel, p: Partnership) -> Literal["trust_floor", "missed_objectives", ""]:
    """Why the partnership is in trouble ("trust_floor", "missed_objectives") or "" if not:
    a side's trust below the contract's floor, or the share below the planned objective
    after six months on sale (not while a suspended licence keeps it off the shelves)."""
    entrant = model.entrant_by_name[p.entrant]
    if min(p.trust_entrant, p.trust_partner) < model.scenario.contract.trust_floor:
        return "trust_floor"
    if (
        entrant.licence_month is not None
        and entrant.on_sale  # a suspended licence is not a missed objective
        and model.month - entrant.licence_month >= 6
        and entrant.market_share < planned_share(model, entrant)
    ):
        return "missed_objectives"
    return ""


# ---- what the options are worth to each side ------------------------------------------------


def estimates(model: MarketEntryModel, p: Partnership, as_kind: str | None = None) -> dict[str, float]:
    """Each side's estimate of its options (:func:`_estimates`), computed once per month for
    a given state of the partnership (a decision asks for them several times)."""
    entrant = model.entrant_by_name[p.entrant]
    key = (
        model.month,
        as_kind or p.kind,
        p.kind,
        p.trust_entrant,
        p.trust_partner,
        p.motivation,
        p.profit_share,
        p.stake,
        p.promised_partner,
        p.partner_know_how,
        p.jv_equity,
        entrant.build_progress,
        entrant.partner_engagement,
        entrant.conditions_cost,
        entrant.licence_month,
        entrant.on_sale,
        entrant.taught,
        entrant.invested,
        len(entrant.share_history),
    )
    cache = p.estimates_cache
    if cache.get("month") != model.month:
        cache.clear()
        cache["month"] = model.month
    if key not in cache:
        cache[key] = _estimates(model, p, as_kind)
    return cache[key]


def _discounting(model: MarketEntryModel, p: Partnership) -> tuple[float, float, float, float]:
    """The entrant's and the partner's annuity factors over the planning horizon ``H`` and
    their going-concern factors at ``H`` (``valuation_multiple`` x 12 months, discounted):
    ``(a_e, a_p, gc_e, gc_p)``, each at its own cost of capital."""
    return _discount_factors(
        model.scenario.mode_choice.horizon_months,
        model.scenario.contract.valuation_multiple,
        model.entrant_by_name[p.entrant].config.cost_of_capital,
        model.partner_by_name[p.partner].config.cost_of_capital,
    )


@functools.lru_cache(maxsize=256)
def _discount_factors(H: int, multiple: float, r_e: float, r_p: float) -> tuple[float, float, float, float]:
    """:func:`_discounting`'s factors, computed once for a horizon, multiple and two rates."""
    a_e = float(valuation.annuity_factor(H, r_e))
    a_p = float(valuation.annuity_factor(H, r_p))
    gc_e = multiple * 12 * (1.0 + r_e) ** (-H / 12)  # going concern at H
    gc_p = multiple * 12 * (1.0 + r_p) ** (-H / 12)
    return a_e, a_p, gc_e, gc_p


def _estimates(model: MarketEntryModel, p: Partnership, as_kind: str | None = None) -> dict[str, float]:
    """Each side's estimate of its options, from what it observes (docs/ODD.md §7.5).

    Money in millions: present values over the planning horizon ``H`` at each side's cost of
    capital, plus the going concern at ``H`` (``valuation_multiple`` x a year's profit). The
    share is forecast to move from today's ``s0`` to ``s1`` over ``R`` months: ``s1`` blends
    the plan (the target share by the target month) with today's share plus a year of its
    trend, the plan weighing less as months on sale accumulate (``w = t / target_month``).
    The partner's channels carry ``rho`` of the share (the partner network's part of the
    entrant's coverage); continuing keeps that part as reliably as the partner is trusted.
    """
    c, mc = model.scenario.contract, model.scenario.mode_choice
    entrant = model.entrant_by_name[p.entrant]
    partner = model.partner_by_name[p.partner]
    cfg, pcfg = entrant.config, partner.config
    H = mc.horizon_months
    m = model.scenario.market
    margin = m.buyers * (entrant.price - entrant.unit_cost) / 1e6  # gross margin per month at share 1
    hist = entrant.share_history
    on_sale = 0 if entrant.licence_month is None else model.month - entrant.licence_month
    s0 = hist[-1] if (hist and entrant.licence_month is not None) else 0.0
    if hist and entrant.licence_month is not None and not entrant.on_sale:
        s0 = max(hist[-12:])  # a suspended licence: it expects its customers back
    trend = (hist[-1] - hist[-7]) / 6.0 if (on_sale >= 6 and len(hist) >= 7) else 0.0
    w = min(1.0, on_sale / cfg.target_month)
    aware = float(model.awareness[entrant.brand]) if entrant.licence_month is not None else 0.0
    reached = float(model.consumers.reached[entrant.brand])
    forecast = valuation.expected_share(s0, trend, 3.0 * cfg.target_share)
    if aware > 0.02:  # share among those who know the brand, once its channels reach everyone they can
        forecast = max(forecast, valuation.settled_share(s0, aware, reached, 3.0 * cfg.target_share))
    s1 = max(forecast, (1.0 - w) * cfg.target_share + w * forecast)
    R = 6.0 + 36.0 * (1.0 - aware)
    if entrant.licence_month is None:
        R += 6.0  # the licence is still to come
    kind = as_kind or p.kind
    coord = coordination_cost(model, p)
    fixed_alone = cfg.operating_cost + cfg.marketing + entrant.conditions_cost
    fixed = fixed_alone + coord
    if kind == "joint_venture":  # the JV employs what the partner puts in
        fixed += pcfg.service_cost * p.promised_partner * p.motivation
    a_e, a_p, gc_e, gc_p = _discounting(model, p)
    r_e = float(valuation.ramp_factor(H, R, cfg.cost_of_capital))

    def share_pv(start: float, end_: float, ramp: float = r_e) -> float:
        return float(start * a_e + (end_ - start) * ramp)

    # share per unit of coverage, and the coverage each option will give in two years: the
    # partner delivering its network as reliably as it is trusted, the own build going on at
    # half pace with a partner and at full pace alone
    own_now = entrant.own_coverage()
    cov_now = max(_mean(entrant.coverage), 1e-6)
    conv = s1 / cov_now
    step = 24.0 / cfg.build_months
    own_cont = entrant.own_coverage(progress=min(1.0, entrant.build_progress + 0.5 * step))
    own_alone = entrant.own_coverage(progress=min(1.0, entrant.build_progress + step))
    # what the entrant counts on the partner's network delivering: as much as it trusts the
    # partner in an alliance; what the partner promised in a JV, where the partner's equity
    # is a hostage to its commitment (Kogut 1988; Hennart 1988; trust and equity as
    # substitutes, Gulati 1995)
    reliance = p.trust_entrant if kind == "alliance" else p.promised_partner
    cov_cont = _mean(1.0 - (1.0 - own_cont) * (1.0 - partner.network * reliance))
    cap = 3.0 * cfg.target_share
    s_cont = min(cap, conv * cov_cont)
    own_mean = _mean(own_now)
    s_alone0 = s0 * own_mean / cov_now
    # without the partner: what it taught partly leaves with it (the product fits less) and
    # its consumer knowledge no longer speeds awareness
    taught_lost = (
        c.learning_loss * entrant.taught * model.scenario.market.misfit_per_distance * entrant.cultural_distance
    )
    s_alone1 = min(cap, conv * _mean(own_alone) * max(0.0, 1.0 - taught_lost))
    rho = 1.0 - own_mean / cov_now
    full_pv = margin * share_pv(s0, s_cont)  # the partner knows what it will deliver
    gross_pv, gross_end = full_pv, margin * s_cont
    if kind == "alliance":
        e_pv = (1.0 - p.profit_share) * gross_pv - fixed * a_e
        e_end = (1.0 - p.profit_share) * gross_end - fixed
        p_end, p_pv = _partner_alliance_lines(
            p.profit_share, full_pv, gross_end, pcfg.service_cost * p.promised_partner, a_e, a_p
        )
    else:
        e_pv = p.stake * (gross_pv - fixed * a_e)
        e_end = p.stake * (gross_end - fixed)
        p_end = (1.0 - p.stake) * (gross_end - fixed)
        p_pv = (1.0 - p.stake) * (full_pv - fixed * a_e) * a_p / a_e
    # going alone: the partner's channels leave at once; its own, built at full pace, win
    # back what it can reach alone; it pays for that build (the set-up saving) now
    build_left = max(1.0, step * cfg.build_months - 0.0) if entrant.build_progress < 1.0 else 1.0
    slower = 1.0 + 0.5 * pcfg.consumer_knowledge * entrant.partner_engagement
    r_alone = float(valuation.ramp_factor(H, max(R * slower, build_left), cfg.cost_of_capital))
    alone_end = margin * s_alone1 - fixed_alone
    whole_alone = margin * share_pv(s_alone0, s_alone1, r_alone) - fixed_alone * a_e
    whole_alone += max(0.0, alone_end) * gc_e
    s1 = s_cont
    salvage = c.salvage_fraction * (p.jv_equity * p.stake if p.kind == "joint_venture" else entrant.invested)
    # the partner running the venture itself: its own channels only (the entrant's network
    # leaves with the entrant, as the partner's leaves with the partner when the entrant goes
    # alone), the product as far as it learned it, no coordination across cultures
    cov_partner = _mean(partner.network)
    product = 0.5 + 0.5 * p.partner_know_how
    s_partner0 = s0 * min(1.0, cov_partner / cov_now)
    s_partner1 = min(cap, conv * cov_partner)
    partner_alone_end = (margin * s_partner1 * product) - fixed_alone
    partner_alone = (margin * product * share_pv(s_partner0, s_partner1) - fixed_alone * a_e) * a_p / a_e
    partner_alone += max(0.0, partner_alone_end) * gc_p
    gross_value = full_pv + max(0.0, gross_end) * gc_e
    return {
        "share": s1,
        "rho": rho,
        "conversion": float(conv),
        "share_alone": float(s_alone1),
        "gross_pv": float(full_pv),
        "gross_end": float(gross_end),
        "cap": float(cap),
        "margin": float(margin),
        "fixed": float(fixed),
        "gross_value": float(gross_value),
        "entrant_continue": float(e_pv + max(0.0, e_end) * gc_e),
        "partner_continue": float(p_pv + max(0.0, p_end) * gc_p),
        "entrant_flow": float(e_end),
        "partner_flow": float(p_end),
        "entrant_alone": float(whole_alone - rebuild_cost(model, entrant)),
        "entrant_leave": float(salvage),
        "partner_alone": float(partner_alone),
        "venture_whole_entrant": float(whole_alone),
        "salvage_whole": float(c.salvage_fraction * max(p.jv_equity, entrant.invested)),
        "uncertainty": float(1.0 - 0.5 * (p.trust_entrant + p.fit)),
    }


def venture_costs(model: MarketEntryModel, p: Partnership) -> float:
    """Monthly costs a partnership adds to the venture's fixed costs: the coordination cost
    across cultures, and in a JV the partner's service cost at the commitment it delivers
    (the JV employs what the partner puts in; in an alliance the partner bears it)."""
    cost = coordination_cost(model, p)
    if p.kind == "joint_venture":
        cost += model.partner_by_name[p.partner].config.service_cost * p.delivered_partner
    return cost


def coordination_cost(model: MarketEntryModel, p: Partnership) -> float:
    """Monthly cost of working across cultures: ``k CD (1 - fit)`` (Kogut & Singh 1988:
    distance raises the cost of managing a foreign operation; Barkema & Vermeulen 1997 for
    IJVs). Borne by the venture; the form is an assumption."""
    entrant = model.entrant_by_name[p.entrant]
    return model.scenario.contract.coordination_cost * entrant.cultural_distance * (1.0 - p.fit)


def rebuild_cost(model: MarketEntryModel, entrant: Entrant) -> float:
    """What an entrant pays to replace what its partner gave it: the set-up saving it had
    from the partner (``alliance_setup_saving x setup_cost``); the saving is not a gift."""
    c = model.scenario.contract
    return c.alliance_setup_saving * entrant.config.setup_cost


def _opt(name: str, value: float, unc: float) -> Option:
    return Option(name, float(value), float(valuation.spread(value, unc)))


def _power(model: MarketEntryModel, p: Partnership) -> float:
    c = model.scenario.contract
    entrant = model.entrant_by_name[p.entrant]
    partner = model.partner_by_name[p.partner]
    return float(
        bargaining.partner_power(
            c.bargaining_power, p.partner_know_how, entrant.local_knowledge, partner.config.outside_option
        )
    )


# ---- the partner's outside opportunities ----------------------------------------------------


def partner_exit_cost(model: MarketEntryModel, p: Partnership) -> float:
    """What breaking a JV early costs the partner: ``exit_cost`` x the equity it put in (the
    cost of unwinding the venture before its planned life: termination penalties, lock-ups,
    write-offs; paid to no one, whatever the settlement route; the mirror of
    :func:`entrant_exit_cost`). Nothing for an alliance (its future is in the stay value), nor
    at or after the planned end."""
    return _early_exit(model, p) * (1.0 - p.stake) * p.jv_equity


def _early_exit(model: MarketEntryModel, p: Partnership) -> float:
    """``exit_cost`` while breaking the partnership would cut a JV short of its planned life;
    0 for an alliance and at or after the planned end."""
    if p.kind != "joint_venture" or (p.planned_end is not None and model.month >= p.planned_end):
        return 0.0
    return model.scenario.contract.exit_cost


def walkout_settlement(model: MarketEntryModel, p: Partnership, est: dict[str, float]) -> tuple[JvExitRoute, float]:
    """How a JV is settled when the partner walks away for an outside opportunity: it no
    longer runs the venture, so it cannot buy it (:func:`settlement` without the partner as a
    buyer): the entrant buys its stake at the Nash price over the partner's salvage, or the
    venture is liquidated."""
    route, price, _ = settlement(model, p, est, partner_runs=False)
    return route, float(price)


def partner_walkout_proceeds(model: MarketEntryModel, p: Partnership, est: dict[str, float]) -> float:
    """What the partner walking out of a JV gets for its stake (:func:`walkout_settlement`):
    the entrant's price, or its part of the liquidation's salvage; nothing from an alliance."""
    if p.kind != "joint_venture":
        return 0.0
    route, price = walkout_settlement(model, p, est)
    if route == "buyout_by_entrant":
        return price
    return (1.0 - p.stake) * model.scenario.contract.salvage_fraction * p.jv_equity


def partner_considers_leaving(model: MarketEntryModel, p: Partnership, offer: float) -> bool:
    """An outside opportunity worth ``offer`` arrives: the partner stays or leaves by value.

    Staying is worth its part of the partnership less the margin its own brand keeps losing
    to the entrant's brand while its channels carry it (more than it would lose to an entrant
    left alone); leaving, the offer less what it gives up of a JV. A partner that would leave
    an alliance may be kept: the entrant decides whether to match the offer by raising the
    partner's profit share (a renegotiation), or let it go (:func:`match_offer`)."""
    partner = model.partner_by_name[p.partner]
    est = estimates(model, p)
    a_p = _discounting(model, p)[1]
    diverted = brand_diversion(model, p, est["share"]) - brand_diversion(model, p, est["share_alone"])
    stay = est["partner_continue"] - max(0.0, diverted) * float(a_p)
    leave = offer + partner_walkout_proceeds(model, p, est) - partner_exit_cost(model, p)
    unc = est["uncertainty"]
    choice = model.ask(
        partner,
        "walk_away",
        [_opt("stay", stay, unc), _opt("leave", leave, 0.3)],
        f"an outside opportunity worth {offer:.1f}m arrives",
    )
    if choice == "stay":
        model.log(
            partner.name,
            "opportunity_declined",
            f"{partner.name} turns down an outside opportunity worth {offer:.1f}m "
            f"(the partnership is worth {stay:.1f}m to it)",
        )
        return False
    if p.kind == "alliance" and match_offer(model, p, est, leave - stay, offer):
        return False
    model.log(
        partner.name,
        "outside_opportunity",
        f"{partner.name} takes an outside opportunity worth {offer:.1f}m (staying was worth {stay:.1f}m to it)",
    )
    cost = partner_exit_cost(model, p)  # what its decision counted, it pays
    end(model, p, "partner_walked_away")
    charge_partner(model, p, cost)
    return True


def match_offer(model: MarketEntryModel, p: Partnership, est: dict[str, float], gap: float, offer: float) -> bool:
    """The entrant's answer to a partner about to leave the alliance for an offer: raise the
    partner's profit share just enough that staying is worth as much to it as leaving (its
    outside option now binds; Binmore, Rubinstein & Wolinsky 1986), at the cost of the talks,
    or let it go. A ``renegotiation`` decision of the entrant by value; returns whether the
    partner was kept. No match is possible above the share's bound (0.6)."""
    entrant = model.entrant_by_name[p.entrant]
    partner = model.partner_by_name[p.partner]
    c = model.scenario.contract
    a_e, a_p, gc_e, gc_p = _discounting(model, p)
    # what one point of profit share is worth to each side over the horizon
    slope_p = est["gross_pv"] * a_p / a_e + est["gross_end"] * gc_p
    slope_e = est["gross_pv"] + est["gross_end"] * gc_e
    if slope_p <= 0:
        return False
    share = p.profit_share + gap / slope_p
    if share > 0.6:
        return False
    keep = est["entrant_continue"] - (share - p.profit_share) * slope_e - c.renegotiation_cost
    choice = model.ask(
        entrant,
        "renegotiation",
        [_opt("renegotiate", keep, est["uncertainty"]), _opt("end", _end_options(model, p, est), 0.2)],
        f"{partner.name} has an outside offer worth {offer:.1f}m: match it with a profit share of {share:.0%}?",
    )
    if choice != "renegotiate":
        return False
    pay_for_talks(model, p)
    old, p.profit_share = p.profit_share, float(share)
    model.log(
        entrant.name,
        "renegotiated",
        f"{entrant.name} keeps {partner.name}, which had an outside offer worth {offer:.1f}m: "
        f"partner's profit share {old:.1%} -> {p.profit_share:.1%}",
    )
    return True


def pay_for_talks(model: MarketEntryModel, p: Partnership) -> None:
    """Each side pays ``renegotiation_cost`` for a round of talks, which counts as a
    renegotiation (the summary's ``renegotiations``)."""
    cost = model.scenario.contract.renegotiation_cost
    model.entrant_by_name[p.entrant].invest(cost, model.month)
    charge_partner(model, p, cost)
    p.renegotiations += 1


def charge_partner(model: MarketEntryModel, p: Partnership, amount: float) -> None:
    """The partner pays ``amount`` now for the partnership: its cash flow and its NPV (at its
    own cost of capital) from the partnership fall by it."""
    p.partner_cash_flow -= amount
    p.partner_npv -= amount * model.discount(model.month, model.partner_by_name[p.partner].config.cost_of_capital)


def partner_concedes(model: MarketEntryModel, p: Partnership, way_out: float) -> bool:
    """The partner's answer to an entrant about to end the alliance: concede part of its profit
    share so that carrying on is worth the entrant's way out (going alone or leaving, worth
    ``way_out``) plus the cost of the talks, or let it go. The mirror of :func:`match_offer`:
    the entrant's way out now binds and it gets exactly that; the partner keeps the rest
    (the outside-option principle, Binmore, Rubinstein & Wolinsky 1986). A deal exists when the
    partner's value of carrying on at the lower share, less the talks and its brand's extra
    losses, beats its own way out (its expected outside opportunity) and the share stays at
    or above 0.05. The partner decides (``concession``: concede or let go), then the entrant
    (``renegotiation``: renegotiate, i.e. accept, or end). Returns whether the alliance goes on."""
    c = model.scenario.contract
    entrant = model.entrant_by_name[p.entrant]
    partner = model.partner_by_name[p.partner]
    cost = c.renegotiation_cost
    old = p.profit_share
    share = bargaining.share_to_keep(
        lambda phi: estimates_at_share(model, p, phi)["entrant_continue"] - cost, way_out, old, 0.05
    )
    if share is None or share >= old:
        return False
    new = estimates_at_share(model, p, share)
    a_p = _discounting(model, p)[1]
    diverted = brand_diversion(model, p, new["share"]) - brand_diversion(model, p, new["share_alone"])
    keep = new["partner_continue"] - max(0.0, diverted) * float(a_p) - cost
    let_go = partner.config.outside_option * partner.config.opportunity_value
    offer = f"cut its profit share {old:.1%} -> {share:.1%}"
    choice = model.ask(
        partner,
        "concession",
        [_opt("concede", keep, new["uncertainty"]), _opt("let_go", let_go, 0.3)],
        f"{entrant.name} is about to end the alliance (its way out is worth {way_out:.1f}m): {offer} to keep it?",
    )
    if choice != "concede":
        return False
    answer = model.ask(
        entrant,
        "renegotiation",
        [_opt("renegotiate", new["entrant_continue"] - cost, new["uncertainty"]), _opt("end", way_out, 0.2)],
        f"{partner.name} offers to {offer} to keep the alliance",
    )
    if answer != "renegotiate":
        return False
    pay_for_talks(model, p)
    p.profit_share = share
    model.log(
        partner.name,
        "renegotiated",
        f"{partner.name} keeps {entrant.name}, which was about to end the alliance: "
        f"partner's profit share {old:.1%} -> {share:.1%} (carrying on now worth {new['entrant_continue']:.1f}m "
        f"to {entrant.name} against {way_out:.1f}m for its way out)",
    )
    return True


# ---- decisions of the entrant ---------------------------------------------------------------


def renegotiation_odds(p: Partnership) -> float:
    """Chance a renegotiation succeeds: ``0.2 + 0.6 (T_e + T_p)/2 + 0.2 fit`` less nothing:
    partners who still trust each other and fit find terms (Ariño & de la Torre 1998: repair
    works when goodwill remains). The form is an assumption."""
    return min(0.95, 0.2 + 0.3 * (p.trust_entrant + p.trust_partner) + 0.2 * p.fit)


def _renegotiation_value(model: MarketEntryModel, p: Partnership, est: dict[str, float]) -> float:
    """Value to the entrant of renegotiating: with the odds of success, the partnership as it
    would be after it (trust partly repaired, the profit share
    re-bargained, a partner that cut its commitment recommitted), else as it is (or ended);
    less the cost of the talks."""
    c = model.scenario.contract
    odds = renegotiation_odds(p)
    saved = (p.trust_entrant, p.trust_partner, p.motivation, p.profit_share)
    try:
        _apply_new_terms(model, p, est)
        after = estimates(model, p)["entrant_continue"]
    finally:
        p.trust_entrant, p.trust_partner, p.motivation, p.profit_share = saved
    failed = max(est["entrant_continue"], _end_options(model, p, est))
    return float(odds * after + (1 - odds) * failed - c.renegotiation_cost)


def _apply_new_terms(model: MarketEntryModel, p: Partnership, est: dict[str, float]) -> None:
    """The terms after a successful renegotiation: trust partly repaired, a partner that had
    cut its commitment recommits to its promise, and (alliance) the profit share re-bargained.
    Nothing is promised that the partner would not deliver by its own choice: it keeps
    deciding its commitment each quarter on the new terms."""
    c = model.scenario.contract
    p.trust_entrant = float(trust_rules.repaired(p.trust_entrant, c.initial_trust, c.renegotiation_repair))
    p.trust_partner = float(trust_rules.repaired(p.trust_partner, c.initial_trust, c.renegotiation_repair))
    p.motivation = 1.0
    if p.kind == "alliance":
        p.profit_share = rebargained_profit_share(model, p, est)


def _end_options(model: MarketEntryModel, p: Partnership, est: dict[str, float]) -> float:
    """Value to the entrant of ending the partnership now (the better of going alone and
    leaving; for a JV, what the settlement would bring, less what walking out of it before
    its planned life costs the entrant)."""
    if p.kind == "joint_venture":
        route, price, _ = settlement(model, p, est)
        if route == "buyout_by_entrant":
            value = est["venture_whole_entrant"] - rebuild_cost(model, model.entrant_by_name[p.entrant]) - price
        elif route == "buyout_by_partner":
            value = price
        else:
            value = p.stake * est["salvage_whole"]
        return value - entrant_exit_cost(model, p)
    return max(est["entrant_alone"], est["entrant_leave"])


def entrant_exit_cost(model: MarketEntryModel, p: Partnership) -> float:
    """What the entrant loses by walking out of a JV before its planned life: ``exit_cost``
    of its equity (unwinding, equity at stake; the mirror of :func:`partner_exit_cost`);
    nothing at or after the planned end, nor for an alliance."""
    return _early_exit(model, p) * p.stake * p.jv_equity


def entrant_ends(model: MarketEntryModel, p: Partnership, cause: PartnershipEndCause) -> None:
    """The entrant ends the partnership; the settlement is the one its decision valued, then
    it pays what breaking a JV early costs it (a fee, not an investment)."""
    cost = entrant_exit_cost(model, p)
    end(model, p, cause)
    if cost > 0:
        model.entrant_by_name[p.entrant].pay(cost, model.month)


def trouble(model: MarketEntryModel, p: Partnership) -> None:
    """A partnership in trouble: the entrant renegotiates, carries on, or ends it."""
    why = in_trouble(model, p)
    assert why, "called only for a partnership in trouble (evolve)"
    entrant = model.entrant_by_name[p.entrant]
    est = estimates(model, p)
    unc = est["uncertainty"]
    opts = [
        _opt("renegotiate", _renegotiation_value(model, p, est), unc),
        _opt("carry_on", est["entrant_continue"], unc),
        _opt("end", _end_options(model, p, est), 0.2),
    ]
    choice = model.ask(
        entrant,
        "renegotiation",
        opts,
        f"in trouble ({why.replace('_', ' ')}): trust {p.trust_entrant:.2f}/{p.trust_partner:.2f}, "
        f"share {entrant.market_share:.1%}",
    )
    p.calm_until = model.month + 6
    if choice == "renegotiate":
        renegotiate(model, p, why)
    elif choice == "end" and not (p.kind == "alliance" and partner_concedes(model, p, opts[-1].value)):
        entrant_ends(model, p, why)


def renegotiate(model: MarketEntryModel, p: Partnership, why: str) -> bool:
    """Renegotiate the terms at a cost to both; on success trust is partly repaired and the
    profit share (alliance) or stakes (JV) are re-bargained; it may fail, and a failed
    attempt costs trust."""
    entrant = model.entrant_by_name[p.entrant]
    partner = model.partner_by_name[p.partner]
    pay_for_talks(model, p)
    if model.rng.random() < renegotiation_odds(p):
        old = p.profit_share
        _apply_new_terms(model, p, estimates(model, p))
        terms = f"; partner's profit share {old:.1%} -> {p.profit_share:.1%}" if p.kind == "alliance" else ""
        model.log(
            entrant.name,
            "renegotiated",
            f"{entrant.name} and {partner.name} renegotiate ({why.replace('_', ' ')}): "
            f"trust repaired to {p.trust_entrant:.2f}/{p.trust_partner:.2f}{terms}",
        )
        return True
    p.trust_entrant *= 0.85
    p.trust_partner *= 0.85
    model.log(
        entrant.name,
        "renegotiation_failed",
        f"renegotiation between {entrant.name} and {partner.name} fails; trust falls further",
    )
    return False


def rebargained_profit_share(model: MarketEntryModel, p: Partnership, before: dict[str, float]) -> float:
    """The alliance's profit share after a renegotiation during its term, by the outside-option
    principle (Binmore, Rubinstein & Wolinsky 1986; ``bargaining.outside_option_split``): the
    talks split what they add to the status quo (repaired trust, a recommitted partner) by
    bargaining power, unless a side's way out (the entrant's going alone or leaving, the
    partner's expected outside opportunity) is worth more than that split: the way out then
    binds and bounds the split (a way out is no threat point: the other side's status quo is
    not available once it is taken). The share pays the partner ``x_p`` by its own estimate
    (:func:`share_paying`), within [0.05, 0.6]; no deal
    that beats both ways out leaves the share as it was."""
    after = estimates(model, p)
    partner = model.partner_by_name[p.partner]
    if after["gross_value"] <= 0:
        return p.profit_share
    x_p = bargaining.outside_option_split(
        after["entrant_continue"] + after["partner_continue"],
        before["entrant_continue"],
        before["partner_continue"],
        _end_options(model, p, before),
        partner.config.outside_option * partner.config.opportunity_value,
        _power(model, p),
    )
    if x_p is None:
        return p.profit_share
    return share_paying(model, p, x_p)


def renewal_profit_share(model: MarketEntryModel, p: Partnership, est: dict[str, float]) -> float:
    """The profit share of a renewed alliance: the old contract has ended, so the threat points
    are the break-up (the entrant's best way out, the partner's expected outside opportunity). Nash bargaining with the partner's power grown with its learning
    and options, shrunk with the entrant's learning of the market (the obsolescing bargain:
    Inkpen & Beamish 1997). The share pays the partner ``d_p + beta (V - d_e - d_p)`` by its own
    estimate (:func:`share_paying`),
    within [0.05, 0.6]; no surplus over the threat points leaves the share as it was."""
    partner = model.partner_by_name[p.partner]
    d_e = max(est["entrant_alone"], est["entrant_leave"])
    d_p = partner.config.outside_option * partner.config.opportunity_value
    total = est["entrant_continue"] + est["partner_continue"]
    if est["gross_value"] <= 0 or total <= d_e + d_p:
        return p.profit_share
    target = d_p + _power(model, p) * (total - d_e - d_p)
    return share_paying(model, p, target)


def share_paying(model: MarketEntryModel, p: Partnership, target: float) -> float:
    """The alliance profit share in [0.05, 0.6] at which the partner's own estimate of the
    alliance (at its cost of capital, ``partner_continue``) is worth ``target``: the share
    that pays it its bargained part (``bargaining.share_giving``)."""
    if p.kind != "alliance":
        return bargaining.share_giving(
            lambda phi: estimates_at_share(model, p, phi)["partner_continue"], target, 0.05, 0.6
        )
    # in an alliance only the partner's own terms move with the share: its value at ``phi`` is
    # _estimates' two lines for it, on the gross margin estimated once (the same numbers as
    # re-estimating the whole partnership at each trial share, without doing so)
    est = estimates(model, p)
    gross_pv, gross_end = est["gross_pv"], est["gross_end"]
    a_e, a_p, _, gc_p = _discounting(model, p)
    service = model.partner_by_name[p.partner].config.service_cost * p.promised_partner

    def partner_continue(phi: float) -> float:
        p_end, p_pv = _partner_alliance_lines(phi, gross_pv, gross_end, service, a_e, a_p)
        return float(p_pv + max(0.0, p_end) * gc_p)

    return bargaining.share_giving(partner_continue, target, 0.05, 0.6)


def _partner_alliance_lines(
    phi: float, gross_pv: float, gross_end: float, service: float, a_e: float, a_p: float
) -> tuple[float, float]:
    """The partner's flow at the horizon and present value of an alliance at profit share
    ``phi``: its share of the gross margin less its service cost (discounted at its own rate,
    ``a_p / a_e`` rescaling the entrant's annuity). One place for :func:`_estimates` and
    :func:`share_paying`."""
    p_end = phi * gross_end - service
    p_pv = (phi * gross_pv - service * a_e) * a_p / a_e
    return p_end, p_pv


def estimates_at_share(model: MarketEntryModel, p: Partnership, share: float) -> dict[str, float]:
    """Both sides' estimates (:func:`estimates`) as if the alliance's profit share were ``share``;
    the partnership is left as it was."""
    old = p.profit_share
    p.profit_share = share
    try:
        return estimates(model, p)
    finally:
        p.profit_share = old


def year_review(model: MarketEntryModel, p: Partnership) -> None:
    """The year-two review, and each year after (a JV's board reviews it too): deepen (an
    alliance into a JV), continue, pivot (renegotiate) or end, by the entrant's estimates; deepening also needs the partner to
    gain from it and both sides' trust at the level at which firms tie equity together."""
    entrant = model.entrant_by_name[p.entrant]
    if entrant.licence_month is None:
        model.log(entrant.name, "review", "review: not yet licensed, nothing to judge; the alliance goes on")
        return
    est = estimates(model, p)
    unc = est["uncertainty"]
    opts = [_opt("continue", est["entrant_continue"], unc)]
    deepen = jv_terms(model, p, est) if p.kind == "alliance" else None
    if deepen is not None:
        opts.insert(0, _opt("deepen", deepen[0], unc + 0.1))
    opts += [
        _opt("pivot", _renegotiation_value(model, p, est), unc),
        _opt("end", _end_options(model, p, est), 0.2),
    ]
    choice = model.ask(
        entrant,
        "review",
        opts,
        f"review: share {entrant.market_share:.1%}, trust {p.trust_entrant:.2f}/{p.trust_partner:.2f}",
    )
    if choice == "deepen":
        assert deepen is not None  # offered only with terms
        upgrade_to_jv(model, p, deepen[1])
    elif choice == "pivot":
        renegotiate(model, p, "pivot at the review")
    elif choice == "end":
        if p.kind == "alliance" and partner_concedes(model, p, opts[-1].value):
            return
        entrant_ends(model, p, in_trouble(model, p) or "ended_by_entrant")
    else:
        word = "alliance" if p.kind == "alliance" else "joint venture"
        model.log(
            entrant.name,
            "review",
            f"review: share {entrant.market_share:.1%}, trust {p.trust_entrant:.2f}/{p.trust_partner:.2f}, "
            f"worth {est['entrant_continue']:.0f}m to {entrant.name} going on: the {word} goes on",
        )


def jv_terms(model: MarketEntryModel, p: Partnership, est: dict[str, float]) -> tuple[float, float] | None:
    """(entrant's value, its stake) of deepening the alliance into a JV, or None when the
    partner would not agree (it gains nothing, trust is short, or upgrades are not allowed).

    The JV is valued on the same share path as the alliance (``estimates``), with what
    differs: the venture employs the partner's service, and the entrant counts on the
    partner's promise rather than only on its trust (the partner's equity is a hostage to its
    commitment). Both put in the formation cost by stake; the operating profit is split by
    stake, the stake set by Nash bargaining over the two sides' values of the alliance as it
    is (the threat points), within the ownership cap.
    """
    c = model.scenario.contract
    entrant = model.entrant_by_name[p.entrant]
    partner = model.partner_by_name[p.partner]
    if not c.allow_upgrade or min(p.trust_entrant, p.trust_partner) < c.upgrade_trust:
        return None
    H = model.scenario.mode_choice.horizon_months
    jv = estimates(model, p, "joint_venture")  # the same venture run as a JV
    r_e, r_p = entrant.config.cost_of_capital, partner.config.cost_of_capital
    a_e, a_p = float(valuation.annuity_factor(H, r_e)), float(valuation.annuity_factor(H, r_p))
    fixed = jv["fixed"]
    end_profit = jv["gross_end"] - fixed

    def whole(rate: float, annuity: float) -> float:
        gc = c.valuation_multiple * 12 * (1.0 + rate) ** (-H / 12)
        return (jv["gross_pv"] - fixed * a_e) * annuity / a_e + max(0.0, end_profit) * gc

    value = whole(r_e, a_e)
    stake = bargaining.jv_stake(
        value,
        max(0.0, est["entrant_continue"]),
        max(0.0, est["partner_continue"]),
        _power(model, p),
        min(model.ownership_cap, entrant.config.jv_stake),
    )
    e_val = stake * value - stake * c.jv_formation_cost
    p_val = (1.0 - stake) * (whole(r_p, a_p) - c.jv_formation_cost)
    if p_val < est["partner_continue"]:
        return None
    return float(e_val), float(stake)


def upgrade_to_jv(model: MarketEntryModel, p: Partnership, stake: float) -> None:
    """The alliance graduates into a JV (seed 004's "dating phase" ends): both put in the
    formation cost by stake, profits are split by the bargained stake from now on."""
    c = model.scenario.contract
    entrant = model.entrant_by_name[p.entrant]
    entrant.invest(stake * c.jv_formation_cost, model.month)
    p.partner_cash_flow -= (1.0 - stake) * c.jv_formation_cost
    p.partner_npv -= (
        (1.0 - stake)
        * c.jv_formation_cost
        * model.discount(model.month, model.partner_by_name[p.partner].config.cost_of_capital)
    )
    p.kind, p.upgraded, p.stake, p.jv_start_month = "joint_venture", True, stake, model.month
    p.jv_equity = c.jv_formation_cost
    p.planned_end = model.month + rules.planned_jv_life(model.rng.random(), c.jv_life_min, c.jv_life_max)
    entrant.mode = "joint_venture"
    model.log(
        entrant.name,
        "upgraded_to_jv",
        f"the review deepens the alliance with {p.partner} into a joint venture ({stake:.0%} stake, bargained)",
    )


def term_ends(model: MarketEntryModel, p: Partnership) -> None:
    """The alliance's term is up: renew, go alone or leave, by the entrant's estimates;
    the partner renews only if staying is worth something to it."""
    c = model.scenario.contract
    entrant = model.entrant_by_name[p.entrant]
    est = estimates(model, p)
    opts = []
    if est["partner_continue"] > 0:
        opts.append(_opt("continue", est["entrant_continue"], est["uncertainty"]))
    opts += [_opt("go_alone", est["entrant_alone"], 0.2), _opt("leave", est["entrant_leave"], 0.0)]
    choice = model.ask(entrant, "continue_or_end", opts, f"the alliance's {c.alliance_term_months}-month term is up")
    if choice == "continue":
        assert p.planned_end is not None  # an alliance has a term
        p.planned_end += c.alliance_term_months
        old = p.profit_share
        p.profit_share = renewal_profit_share(model, p, est)
        model.log(
            entrant.name,
            "alliance_renewed",
            f"alliance with {p.partner} renewed for {c.alliance_term_months} months; "
            f"partner's profit share {old:.1%} -> {p.profit_share:.1%} (bargained anew)",
        )
        return
    end(model, p, "expired", then="leave" if choice == "leave" else "alone")


def settlement(
    model: MarketEntryModel, p: Partnership, est: dict[str, float], partner_runs: bool = True
) -> tuple[JvExitRoute, float, str]:
    """How a JV would be settled now, by value: (route, price, buyer).

    Each side values the whole venture as it would run it alone (the entrant having to
    rebuild the partner's channels; the partner with the product as far as it learned it).
    Whoever values it more buys the other's stake at the Nash price; a foreign-ownership cap
    below 1 rules out the entrant buying; a venture worth less to both than its salvage is
    liquidated. ``partner_runs=False``: a partner that is leaving values the venture at its
    salvage only and does not buy.
    """
    entrant = model.entrant_by_name[p.entrant]
    v_e = est["venture_whole_entrant"] - rebuild_cost(model, entrant)
    v_p = est["partner_alone"] if partner_runs else -math.inf
    salvage = est["salvage_whole"]
    beta = _power(model, p)
    if max(v_e, v_p) < salvage:
        return "liquidation", 0.0, ""
    if v_e >= v_p and model.ownership_cap >= 1.0:
        ok, price = bargaining.buyout(1.0 - p.stake, max(v_p, salvage), v_e, beta)
        if ok and entrant.cash >= price:
            return "buyout_by_entrant", price, "entrant"
    if not partner_runs:
        return "liquidation", 0.0, ""
    ok, price = bargaining.buyout(p.stake, max(v_e, salvage), max(v_p, salvage + 1e-9), 1.0 - beta)
    if ok:
        return "buyout_by_partner", price, "partner"
    return "liquidation", 0.0, ""


def jv_planned_end(model: MarketEntryModel, p: Partnership) -> None:
    """A JV at its planned life: extend, buy out (whoever values it more), float (only a
    large, mature, profitable venture) or liquidate, by the entrant's estimates; extending
    needs the partner to prefer it to its own settlement."""
    c = model.scenario.contract
    entrant = model.entrant_by_name[p.entrant]
    est = estimates(model, p)
    unc = est["uncertainty"]
    route, price, _ = settlement(model, p, est)
    opts = []
    partner_settle = (
        price
        if route == "buyout_by_entrant"
        else (est["partner_alone"] - price if route == "buyout_by_partner" else (1 - p.stake) * est["salvage_whole"])
    )
    if est["partner_continue"] >= partner_settle:
        opts.append(_opt("extend", est["entrant_continue"], unc))
    if route != "liquidation":
        opts.append(_opt("buyout", _end_options(model, p, est), unc))
    trailing = sum(entrant.venture_flows[-12:])
    age = model.month - (p.jv_start_month or p.start_month)
    if entrant.market_share >= c.ipo_min_share and trailing > 0 and age >= c.ipo_min_age:
        ipo_value = (1.0 - c.ipo_discount) * c.valuation_multiple * trailing
        opts.append(_opt("ipo", p.stake * ipo_value, 0.2))
    opts.append(_opt("liquidate", p.stake * est["salvage_whole"], 0.0))
    choice = model.ask(entrant, "jv_end", opts, f"the JV with {p.partner} reaches its planned life")
    if choice == "extend":
        p.planned_end = model.month + c.jv_life_min
        model.log(entrant.name, "jv_extended", f"JV with {p.partner} extended by {c.jv_life_min} months")
        return
    routes: dict[str, JvExitRoute] = {"buyout": route, "ipo": "ipo", "liquidate": "liquidation"}
    p.forced_route = routes[choice]
    end(model, p, "planned_end")


# ---- ending ---------------------------------------------------------------------------------


def end(model: MarketEntryModel, p: Partnership, cause: PartnershipEndCause, then: str = "") -> None:
    """End a partnership; a JV's end also settles the entity. ``then`` ("alone", "leave")
    is what the entrant already chose to do next; otherwise it decides (after_breakup)."""
    entrant = model.entrant_by_name[p.entrant]
    partner = model.partner_by_name[p.partner]
    kind_word = "alliance" if p.kind == "alliance" else "joint venture"
    est = estimates(model, p)
    p.end_month, p.end_cause = model.month, cause
    if cause != "planned_end":
        model.log(entrant.name, end_event(cause), END_CAUSES.get(cause, cause).format(kind=kind_word))
    relicense = False
    if p.kind == "joint_venture":
        relicense = _settle_joint_venture(model, p, entrant, partner, est)
    entrant.partner, entrant.partnership = None, None
    entrant.partner_engagement = 0.0
    entrant.lose_partner_teaching(model.scenario.contract.learning_loss)
    partner.engaged_with = None
    if entrant.in_market and entrant.brand_owner == entrant.name and cause != "entrant_exited":
        after_breakup(model, entrant, relicense, est, then)


def _settle_joint_venture(
    model: MarketEntryModel, p: Partnership, entrant: Entrant, partner: LocalPartner, est: dict[str, float]
) -> bool:
    """Settle the JV by its route; returns whether the entrant must apply for its own licence
    (a JV formed at entry held the licence; an upgraded alliance's licence was the entrant's)."""
    c = model.scenario.contract
    month = model.month
    stake = p.stake
    route: JvExitRoute
    if p.end_cause == "entrant_exited":  # the entrant cannot fund it any more: the partner takes it
        route, price = ("buyout_by_partner", 0.0) if est["partner_alone"] > 0 else ("liquidation", 0.0)
    elif p.end_cause == "partner_walked_away":  # it left for another opportunity: it cannot buy
        route, price = walkout_settlement(model, p, est)
    elif p.forced_route:
        route = p.forced_route
        price = settlement(model, p, est)[1] if route.startswith("buyout") else 0.0
    else:
        route, price, _ = settlement(model, p, est)
    if route == "buyout_by_entrant":
        keep = est["venture_whole_entrant"] - rebuild_cost(model, entrant) - price
        bid = model.ask(
            entrant,
            "buyout_bid",
            [_opt("buy", keep, est["uncertainty"]), _opt("decline", stake * est["salvage_whole"], 0.0)],
            f"buy {partner.name}'s {1 - stake:.0%} stake for {price:.1f}m",
        )
        if bid == "decline":
            route = "liquidation"
    p.exit_route = route
    df_p = model.discount(month, partner.config.cost_of_capital)

    def partner_gets(amount: float) -> None:
        p.partner_cash_flow += amount
        p.partner_npv += amount * df_p

    if route == "liquidation":
        salvage = c.salvage_fraction * p.jv_equity
        entrant.receive(stake * salvage, month)
        partner_gets((1 - stake) * salvage)
        model.log(
            entrant.name, "jv_liquidated", f"JV with {partner.name} liquidated; {salvage:.1f}m salvage shared by stake"
        )
        if not p.upgraded:
            model.close_brand(entrant)  # the venture's business is gone with the entity
        return not p.upgraded
    if route == "buyout_by_entrant":
        entrant.invest(price, month)
        partner_gets(price)
        entrant.mode = "alone"
        model.log(
            entrant.name,
            "jv_buyout",
            f"JV bought out by {entrant.name} for {price:.1f}m; {partner.name}'s channels leave with {partner.name}",
        )
        return False
    if route == "buyout_by_partner":
        # the partner pays for the entrant's stake and runs the business on outside the books
        partner_gets(est["partner_alone"] - price)
        entrant.receive(price, month)
        entrant.brand_owner = partner.name
        if p.end_cause == "entrant_exited":
            model.log(
                partner.name, "jv_taken_over", f"{partner.name} takes over the JV {entrant.name} can no longer fund"
            )
            return False
        model.log(
            partner.name,
            "jv_buyout",
            f"JV bought out by {partner.name}: {entrant.name} sells its {stake:.0%} stake for {price:.1f}m",
        )
        entrant.leave_market("sold its JV stake to the partner")
        return False
    trailing = sum(entrant.venture_flows[-12:])
    value = (1.0 - c.ipo_discount) * c.valuation_multiple * max(trailing, 0.0)
    entrant.receive(stake * value, month)
    partner_gets((1 - stake) * value)
    entrant.brand_owner = "public (IPO)"
    model.log(
        entrant.name,
        "jv_ipo",
        f"JV floated in an IPO valued at {value:.1f}m; {entrant.name} realises {stake * value:.1f}m",
    )
    entrant.leave_market("exited through the JV's IPO")
    return False


def after_breakup(
    model: MarketEntryModel, entrant: Entrant, relicense: bool, est: dict[str, float], then: str = ""
) -> None:
    """Go on alone or leave. ``after_breakup`` = stay/leave forces it; "decide" asks the
    entrant's policy with its estimates (going alone: paying to rebuild the partner's reach;
    leaving: salvage). Going alone pays the set-up saving back as the cost of its own build."""
    cfg = entrant.config
    policy = cfg.after_breakup
    if then:
        choice = then
    elif policy == "decide":
        alone = est["entrant_alone"] if entrant.brand_owner == entrant.name else -math.inf
        if relicense:
            alone -= cfg.setup_cost * (1.0 - model.scenario.contract.alliance_setup_saving)  # restart from scratch
        choice = model.ask(
            entrant,
            "continue_or_end",
            [_opt("go_alone", alone, 0.2), _opt("leave", est["entrant_leave"], 0.0)],
            "the partnership has ended",
        )
        choice = "alone" if choice == "go_alone" else "leave"
    else:
        choice = "alone" if policy == "stay" else "leave"
    cost = rebuild_cost(model, entrant)
    if relicense:
        cost += cfg.setup_cost * (1.0 - model.scenario.contract.alliance_setup_saving)
    if choice == "leave" or entrant.cash <= cost:
        entrant.receive(est["entrant_leave"] if entrant.brand_owner == entrant.name else 0.0, model.month)
        entrant.leave_market("the partnership ended and going on alone was worth less than leaving")
        return
    entrant.invest(cost, model.month)
    entrant.mode = "alone"
    model.log(
        entrant.name,
        "goes_alone",
        f"{entrant.name} goes on alone: it pays {cost:.1f}m to build the reach its partner took with it",
    )
    if relicense:
        model.apply_for_licences(entrant, "alone", foreign_equity=1.0, ties=0.0)
