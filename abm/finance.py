"""Monthly accounts of a venture and how its result is split between the partners.

Money in millions per month. A venture's operating profit is
``revenue - variable cost - fixed cost`` (fixed: operating cost, marketing while on sale,
costs of regulatory conditions). How it is split depends on the entry mode:

- alone, acquisition: all of it is the entrant's;
- alliance: the partner keeps ``profit_share`` of the gross profit (revenue - variable
  cost) for distributing, and bears its own service cost;
- joint venture: each partner takes its equity stake of the operating profit.
"""

from __future__ import annotations

from dataclasses import dataclass

from abm.vocabulary import EntryMode


@dataclass(frozen=True)
class MonthlyAccounts:
    revenue: float
    variable_cost: float
    fixed_cost: float
    entrant_cash_flow: float  # what the entrant books
    partner_take: float  # what the venture pays to / shares with the partner
    partner_cash_flow: float  # the partner's net, after its own service cost

    @property
    def operating_profit(self) -> float:
        return self.revenue - self.variable_cost - self.fixed_cost


def split_month(
    mode: EntryMode,
    revenue: float,
    variable_cost: float,
    fixed_cost: float,
    *,
    stake: float = 1.0,
    profit_share: float = 0.0,
    partner_service_cost: float = 0.0,
    partner_delivered: float = 0.0,
) -> MonthlyAccounts:
    """One month of a venture's accounts under ``mode``; money is conserved:
    ``entrant_cash_flow + partner_take == revenue - variable_cost - fixed_cost``."""
    operating = revenue - variable_cost - fixed_cost
    if mode == "alliance":
        take = profit_share * max(0.0, revenue - variable_cost)
        partner = take - partner_service_cost * partner_delivered
    elif mode == "joint_venture":
        take = (1.0 - stake) * operating
        partner = take
    else:
        take, partner = 0.0, 0.0
    return MonthlyAccounts(revenue, variable_cost, fixed_cost, operating - take, take, partner)


def discount_factor(month: int, annual_rate: float) -> float:
    """Present value of 1 paid at ``month`` at an annual cost of capital."""
    return (1.0 + annual_rate) ** (-month / 12.0)


def terminal_value(trailing_cash_flows: list[float], multiple: float) -> float:
    """Going-concern value of a business still running at the horizon: a multiple of its
    trailing twelve months' cash flow, never negative (it could be closed instead)."""
    return max(0.0, multiple * sum(trailing_cash_flows[-12:]))
