"""Partnership lifecycle: forming, evolving each month, upgrading, and ending.

The transitions of docs/ODD.md, *Partnership lifecycle*: an alliance can be terminated
(trust floor, missed objectives at the review), expire, or graduate into a JV when trust
and results hold; a JV ends at its planned life, or earlier, by buyout, IPO or liquidation;
after a break-up the entrant goes on alone or leaves. The pure rules live in
``partnership.py``; this module applies them to the agents.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from abm import partnership as rules
from abm.entry_mode import jv_setup_cost
from abm.partnership import END_CAUSES, Partnership

if TYPE_CHECKING:
    from abm.agents import Entrant, LocalPartner
    from abm.model import MarketEntryModel


def form(
    model: MarketEntryModel, entrant: Entrant, partner: LocalPartner, kind: str, stake: float = 1.0
) -> Partnership:
    c = model.scenario.contract
    fit = rules.cultural_fit(partner.config.cultural_fit, entrant.cultural_distance)
    p = Partnership(entrant.name, partner.name, kind, model.month, c.initial_trust, c.initial_trust, fit, stake=stake)
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


def deliver_commitment(model: MarketEntryModel, p: Partnership) -> None:
    """Each side delivers a noisy share of what it promised; the entrant's view of the
    partner's engagement is smoothed over months."""
    c = model.scenario.contract
    entrant = model.entrant_by_name[p.entrant]
    partner = model.partner_by_name[p.partner]
    z = model.rng.standard_normal(2)
    p.delivered_entrant = rules.delivered_commitment(entrant.config.commitment, c.commitment_noise, z[0])
    p.delivered_partner = rules.delivered_commitment(partner.config.commitment, c.commitment_noise, z[1])
    entrant.partner_engagement = 0.8 * entrant.partner_engagement + 0.2 * p.delivered_partner


def evolve(model: MarketEntryModel, p: Partnership) -> None:
    """One month of a live partnership: trust, learning race, priorities, clauses."""
    c = model.scenario.contract
    month = model.month
    entrant = model.entrant_by_name[p.entrant]
    partner = model.partner_by_name[p.partner]
    cfg, pcfg = entrant.config, partner.config

    results = 0.0
    if entrant.licence_month is not None:
        results = rules.results_signal(
            entrant.market_share, cfg.target_share, month - entrant.licence_month, cfg.target_month
        )
    s_e = rules.trust_signal(p.delivered_partner, p.delivered_entrant, c.expected_commitment, p.fit, results)
    s_p = rules.trust_signal(p.delivered_entrant, p.delivered_partner, c.expected_commitment, p.fit, results)
    p.trust_entrant = rules.update_trust(p.trust_entrant, s_e, c.trust_gain, c.trust_loss)
    p.trust_partner = rules.update_trust(p.trust_partner, s_p, c.trust_gain, c.trust_loss)
    p.partner_know_how += rules.know_how_gain(
        p.partner_know_how, c.know_how_leak, pcfg.absorptive_capacity, cfg.know_how_protection, p.delivered_entrant
    )
    draws = model.rng.random(2)
    if draws[0] < rules.defection_hazard(
        p.partner_know_how, entrant.local_knowledge, pcfg.ambition, c.defection_knowledge
    ):
        end(model, p, "partner_defected")
        partner.launch_rival_brand(p.partner_know_how, entrant)
        model.consumers.seed_awareness(partner.brand, 0.3, partner.coverage)
        model.log(
            partner.name, "rival_launched", f"{partner.name} launches a rival brand with the know-how it absorbed"
        )
        return
    if draws[1] < rules.walk_away_hazard(pcfg.outside_option, p.trust_partner):
        end(model, p, "partner_walked_away")
        return
    if min(p.trust_entrant, p.trust_partner) < c.trust_floor:
        end(model, p, "trust_floor")
        return
    on_sale = 0 if entrant.licence_month is None else month - entrant.licence_month
    objective = c.review_objective * cfg.target_share * min(1.0, on_sale / cfg.target_month)
    if p.kind == "alliance":
        if month >= c.review_month and (month - c.review_month) % 12 == 0 and entrant.licence_month is None:
            model.log(entrant.name, "review", "review: not yet licensed, nothing to judge; the alliance goes on")
        elif month >= c.review_month and (month - c.review_month) % 12 == 0:
            if entrant.market_share < objective:
                end(model, p, "missed_objectives")
                return
            if c.allow_upgrade and min(p.trust_entrant, p.trust_partner) >= c.upgrade_trust:
                upgrade_to_jv(model, p)
                return
            model.log(
                entrant.name,
                "review",
                f"review: share {entrant.market_share:.1%}, trust {min(p.trust_entrant, p.trust_partner):.2f}: the alliance goes on",
            )
        if month == p.planned_end:
            if min(p.trust_entrant, p.trust_partner) >= 0.5 and entrant.market_share >= objective:
                p.planned_end += c.alliance_term_months
                model.log(
                    entrant.name,
                    "alliance_renewed",
                    f"alliance with {partner.name} renewed for {c.alliance_term_months} months",
                )
            else:
                end(model, p, "expired")
    elif month == p.planned_end:
        end(model, p, "planned_end")


def upgrade_to_jv(model: MarketEntryModel, p: Partnership) -> None:
    """The alliance graduates into a JV (seed 004's "dating phase" ends): both put in the
    formation cost by stake, profits are split by stake from now on."""
    c = model.scenario.contract
    entrant = model.entrant_by_name[p.entrant]
    stake = min(entrant.config.jv_stake, model.ownership_cap)
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
        f"trust and results hold: alliance with {p.partner} upgraded to joint venture ({stake:.0%} stake)",
    )


def end(model: MarketEntryModel, p: Partnership, cause: str) -> None:
    """End a partnership; a JV's end also settles the entity by its exit route."""
    entrant = model.entrant_by_name[p.entrant]
    partner = model.partner_by_name[p.partner]
    kind_word = "alliance" if p.kind == "alliance" else "joint venture"
    p.end_month, p.end_cause = model.month, cause
    if cause != "planned_end":
        model.log(entrant.name, f"ended_{cause}", END_CAUSES.get(cause, cause).format(kind=kind_word))
    relicense = False
    if p.kind == "joint_venture":
        relicense = _settle_joint_venture(model, p, entrant, partner)
    entrant.partner, entrant.partnership = None, None
    entrant.partner_engagement = 0.0
    partner.engaged_with = None
    owns_it_all = p.exit_route == "buyout_by_entrant"  # it bought the JV to carry on with it
    if entrant.in_market and entrant.brand_owner == entrant.name and cause != "entrant_exited" and not owns_it_all:
        after_breakup(model, entrant, relicense)


def _settle_joint_venture(model: MarketEntryModel, p: Partnership, entrant: Entrant, partner: LocalPartner) -> bool:
    """Apply the JV exit rule; returns whether the entrant must apply for its own licence."""
    c = model.scenario.contract
    month = model.month
    trailing = sum(entrant.venture_flows[-12:])
    value = max(rules.venture_value(trailing, c.valuation_multiple), p.jv_equity)  # never below book equity
    stake = p.stake
    if p.end_cause == "entrant_exited":  # the entrant cannot fund it any more
        route = "buyout_by_partner" if trailing > 0 else "liquidation"
    elif p.end_cause in ("partner_defected", "partner_walked_away"):
        can_buy = entrant.cash >= (1 - stake) * value and model.ownership_cap >= 1.0
        route = "buyout_by_entrant" if trailing > 0 and can_buy else "liquidation"
    else:
        route, _ = rules.jv_exit_route(
            trailing,
            entrant.market_share,
            min(p.trust_entrant, p.trust_partner),
            c.ipo_min_share,
            c.upgrade_trust,
            p.partner_know_how,
            entrant.local_knowledge,
            entrant.cash,
            (1 - stake) * value,
        )
        if route == "buyout_by_entrant" and model.ownership_cap < 1.0:
            route = "buyout_by_partner"  # the cap forbids full foreign ownership
    p.exit_route = route
    pcoc = partner.config.cost_of_capital
    df_p = model.discount(month, pcoc)

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
        return True
    if route == "buyout_by_entrant":
        price = (1 - stake) * value
        entrant.invest(price, month)
        partner_gets(price)
        entrant.inherited_coverage = entrant.coverage.copy()
        entrant.mode = "alone"
        model.log(
            entrant.name,
            "jv_buyout",
            f"JV bought out by {entrant.name} for {price:.1f}m; it carries on alone with the JV's channels",
        )
        return False
    if route == "buyout_by_partner":
        price = stake * value
        # the partner pays for the entrant's stake and gains a business worth `value`, which
        # then runs on outside the model's books (an independent local firm)
        partner_gets(value - price)
        entrant.receive(price, month)
        entrant.brand_owner = partner.name
        model.log(
            partner.name,
            "jv_buyout",
            f"JV bought out by {partner.name}: {entrant.name} sells its {stake:.0%} stake for {price:.1f}m",
        )
        entrant.leave_market("sold its JV stake to the partner")
        return False
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


def after_breakup(model: MarketEntryModel, entrant: Entrant, relicense: bool) -> None:
    """Go on alone or leave (``after_breakup`` = decide/stay/leave).

    "decide" stays when cash is positive and the entrant is not yet selling (its set-up is
    sunk), or its share is on the review objective's planned path, or the last six months'
    operating result is positive; otherwise it leaves.
    """
    cfg, c = entrant.config, model.scenario.contract
    policy = cfg.after_breakup
    if policy == "decide":
        if entrant.licence_month is None:
            doing_well = True  # not yet selling: its set-up is sunk, so it launches alone
        else:
            on_sale = model.month - entrant.licence_month
            planned = c.review_objective * cfg.target_share * min(1.0, on_sale / cfg.target_month)
            doing_well = entrant.market_share >= planned or sum(entrant.venture_flows[-6:]) > 0
        policy = "stay" if entrant.cash > 0 and doing_well else "leave"
    if policy == "leave" or entrant.cash <= 0:
        entrant.leave_market("the partnership ended and going on alone did not pay")
        return
    entrant.mode = "alone"
    model.log(entrant.name, "goes_alone", f"{entrant.name} goes on alone, without its partner's reach")
    if relicense:
        model.apply_for_licences(entrant, "alone", foreign_equity=1.0, ties=0.0)
