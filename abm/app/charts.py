"""Chart options for the app's views, as plain dicts for ECharts (``solara.FigureEcharts``).

ECharts is bundled with solara-assets, so the charts draw offline. The options are
projector-friendly: large text, thick lines, a legend on every chart, and the Okabe-Ito
colour-blind-safe palette (Okabe & Ito 2008) with line styles that differ by role, so
firms stay apart in grey-scale too. Animation is off: a month should draw at once.

Every function here is pure (plain data in, a dict out) and tested without a browser.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from abm.app.live import Frame

ENTRANT_COLOURS = ("#0072B2", "#56B4E9", "#332288")
INCUMBENT_COLOURS = ("#E69F00", "#D55E00", "#CC79A7", "#882255")
PARTNER_COLOURS = ("#009E73", "#117733", "#44AA99")
NO_PURCHASE_COLOUR = "#C8C8C8"
TARGET_COLOUR = "#000000"
VARIANT_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#882255", "#117733")
"""Okabe-Ito colours (with Tol's dark blue, wine and green for a third firm of a role)."""

FONT = 16
"""Base font size in pixels: readable from the back of a classroom."""

_LINE_TYPES = {
    "entrant": ("solid", [16, 4], [6, 3, 1, 3]),
    "incumbent": ("dashed", [12, 4, 2, 4], [3, 3]),
    "partner": ("dotted", [8, 3, 1, 3, 1, 3], [1, 6]),
}
"""Line style per role, and per firm within a role, so firms differ in grey-scale and for
colour-blind viewers too (solid: entrants, dashes: incumbents, dots: partners)."""


def line_types(roles: Mapping[str, str]) -> dict[str, str | list[int]]:
    """An ECharts line type per firm: its role's n-th style (cycling)."""
    seen: dict[str, int] = {}
    out = {}
    for name, role in roles.items():
        styles = _LINE_TYPES.get(role, ("solid",))
        i = seen.get(role, 0)
        seen[role] = i + 1
        out[name] = styles[i % len(styles)]
    return out


def firm_colours(roles: Mapping[str, str]) -> dict[str, str]:
    """A colour per firm: blues for entrants, oranges and purples for incumbents, greens
    for partners; a role's n-th firm takes its role's n-th colour (cycling)."""
    palettes = {"entrant": ENTRANT_COLOURS, "incumbent": INCUMBENT_COLOURS, "partner": PARTNER_COLOURS}
    seen: dict[str, int] = {}
    out = {}
    for name, role in roles.items():
        palette = palettes.get(role, VARIANT_COLOURS)
        i = seen.get(role, 0)
        seen[role] = i + 1
        out[name] = palette[i % len(palette)]
    return out


def _base(title: str | None = None, *, legend: bool = True, top: int = 70) -> dict[str, Any]:
    option: dict[str, Any] = {
        "animation": False,
        "textStyle": {"fontSize": FONT},
        "grid": {"left": 70, "right": 30, "top": top, "bottom": 60},
        "tooltip": {"trigger": "axis", "textStyle": {"fontSize": FONT}},
    }
    if title:
        option["title"] = {
            "text": title,
            "left": 0,
            "top": 0,
            "textStyle": {"fontSize": FONT + 2, "fontWeight": "bold"},
        }
    if legend:
        option["legend"] = {
            "top": 30 if title else 0,
            "left": 0,
            "right": 0,
            "textStyle": {"fontSize": FONT - 1},
            "itemWidth": 30,
            "itemGap": 14,
        }
    return option


def _fit_legend(option: dict[str, Any], width: int = 430) -> dict[str, Any]:
    """List the legend's entries (helper series, named ``_...``, left out) and move the
    plot down by the rows the legend needs at about ``width`` pixels."""
    legend = option.get("legend")
    if not legend or legend.get("show") is False:
        return option
    names = legend.get("data") or list(
        dict.fromkeys(s["name"] for s in option.get("series", []) if s.get("name") and not s["name"].startswith("_"))
    )
    legend["data"] = names
    rows = legend_rows(names, width)
    start = legend.get("top", 0)
    if rows > MAX_LEGEND_ROWS:  # a long legend pages instead of squashing the plot
        legend.update({"type": "scroll", "pageIconSize": 16, "pageTextStyle": {"fontSize": FONT - 2}})
        rows = 1
    option["grid"]["top"] = start + 26 * rows + 22
    return option


MAX_LEGEND_ROWS = 3
"""Legend rows a chart gives up for its legend; a longer one becomes a paging legend."""


def legend_rows(names: Sequence[str], width: int = 430) -> int:
    """Rows a legend of these entries needs at about ``width`` pixels."""
    rows, used = 1, 0.0
    for n in names:
        w = 0.55 * (FONT - 1) * len(n) + 30 + 5 + 14
        if used + w > width and used > 0:
            rows, used = rows + 1, 0.0
        used += w
    return rows


def _axis(
    name: str, *, lo: float | None = None, hi: float | None = None, kind: str = "value", gap: int = 30, **extra: Any
) -> dict[str, Any]:
    axis: dict[str, Any] = {
        "type": kind,
        "name": name,
        "nameLocation": "middle",
        "nameGap": gap,
        "nameTextStyle": {"fontSize": FONT},
        "axisLabel": {"fontSize": FONT - 1},
        **extra,
    }
    if lo is not None:
        axis["min"] = lo
    if hi is not None:
        axis["max"] = hi
    return axis


def _nice_ceiling(value: float, step: float) -> float:
    return max(step, math.ceil(value / step) * step)


def _pairs(xs: Sequence[int], ys: Sequence[float | None], scale: float = 1.0, digits: int = 3) -> list:
    return [[x, None if y is None else round(y * scale, digits)] for x, y in zip(xs, ys, strict=True)]


# ---- Simulate -----------------------------------------------------------------------


def share_option(frame: Frame) -> dict[str, Any]:
    """Every firm's market-share path (%), with the focal entrant's target and deadline."""
    colours = firm_colours(frame.roles)
    styles = line_types(frame.roles)
    option = _base()
    top = max((max(v) for v in frame.shares.values() if v), default=0.0)
    focal = frame.entrants[0]
    top = max(top, focal.target_share * 1.2)
    option["xAxis"] = _axis("month", lo=0, hi=frame.horizon)
    option["yAxis"] = _axis("market share (%)", lo=0, hi=_nice_ceiling(top * 100, 10), gap=45)
    series = []
    for name, path in frame.shares.items():
        role = frame.roles[name]
        s: dict[str, Any] = {
            "name": name,
            "type": "line",
            "showSymbol": False,
            "data": _pairs(frame.months, path, 100, 2),
            "lineStyle": {"width": 4 if role == "entrant" else 3, "type": styles[name]},
            "color": colours[name],
        }
        if name == focal.name:
            s["markLine"] = {
                "silent": True,
                "symbol": "none",
                "lineStyle": {"color": TARGET_COLOUR, "type": "dashed", "width": 2},
                "label": {"fontSize": FONT - 2, "formatter": "{b}", "position": "insideEndTop"},
                "data": [
                    {"yAxis": round(focal.target_share * 100, 3), "name": f"target {focal.target_share:.0%}"},
                    {"xAxis": focal.target_month, "name": "deadline"},
                ],
            }
        exited = next((e for e in frame.entrants if e.name == name and e.exit_kind), None)
        if exited is not None and exited.exit_month is not None:
            s["markPoint"] = {
                "symbol": "pin",
                "symbolSize": 44,
                "itemStyle": {"color": colours[name]},
                "label": {"show": False},
                "data": [
                    {
                        "name": f"{exited.exit_kind}, month {exited.exit_month}",
                        "coord": [exited.exit_month, round(exited.last_share * 100, 2)],
                    }
                ],
            }
            s["markLine"] = s.get("markLine") or {"silent": True, "symbol": "none", "data": []}
            s["markLine"]["data"] = [
                *s["markLine"]["data"],
                {
                    "xAxis": exited.exit_month,
                    "name": f"{name}: {exited.exit_kind} (month {exited.exit_month})",
                    "lineStyle": {"color": colours[name], "type": "solid", "width": 2},
                    "label": {"fontSize": FONT - 2, "formatter": "{b}", "position": "insideMiddleTop"},
                },
            ]
        series.append(s)
    option["series"] = series
    return _fit_legend(option)


def map_option(frame: Frame) -> dict[str, Any]:
    """The market map: sampled consumers coloured by the brand they bought this month,
    over the regions shaded by the partner's distribution reach."""
    colours = firm_colours(frame.roles)
    option = _base(legend=True, top=60)
    option["tooltip"] = {"trigger": "item", "textStyle": {"fontSize": FONT}}
    option["grid"] = {"left": 10, "right": 10, "top": 60, "bottom": 10}
    option["xAxis"] = {"type": "value", "min": 0, "max": 1, "show": False}
    option["yAxis"] = {"type": "value", "min": 0, "max": 1, "show": False}
    series = []
    for brand, (x, y) in sorted(frame.map_brands.items(), key=lambda kv: (kv[0] < 0, kv[0])):
        name = "buys nothing" if brand < 0 else frame.brand_names[brand]
        colour = NO_PURCHASE_COLOUR if brand < 0 else colours[name]
        series.append(
            {
                "name": name,
                "type": "scatter",
                "symbolSize": 6 if brand >= 0 else 4,
                "itemStyle": {"color": colour, "opacity": 0.9 if brand >= 0 else 0.6},
                "data": np.column_stack([x, y]).tolist(),
                "silent": True,
                "large": True,  # one path for all points instead of one element per point: a month draws in a few ms
                "largeThreshold": 100,
            }
        )
    nx, ny = frame.regions
    if frame.reach is not None:
        partner, reach = frame.reach
        areas = []
        for r, value in enumerate(reach):
            rx, ry = r % nx, r // nx
            areas.append(
                [
                    {
                        "xAxis": rx / nx,
                        "yAxis": ry / ny,
                        "itemStyle": {
                            "color": PARTNER_COLOURS[0],
                            "opacity": round(0.05 + 0.35 * float(value), 3),
                            "borderColor": "#444",
                            "borderWidth": 1,
                        },
                        "label": {
                            "show": True,
                            "position": "insideTopLeft",
                            "fontSize": FONT - 2,
                            "color": "#000",
                            "backgroundColor": "rgba(255,255,255,0.85)",
                            "padding": [1, 3],
                            "formatter": f"{float(value):.0%}",
                        },
                    },
                    {"xAxis": (rx + 1) / nx, "yAxis": (ry + 1) / ny},
                ]
            )
        series.append(
            {
                "name": f"{partner}'s reach (shading, % per region)",
                "type": "scatter",
                "data": [],
                "itemStyle": {"color": PARTNER_COLOURS[0]},
                "markArea": {"silent": True, "data": areas},
            }
        )
    option["series"] = series
    return _fit_legend(option)


def partnership_option(frame: Frame) -> dict[str, Any]:
    """Trust of each side, commitment each side delivers, and the partner's know-how."""
    option = _base()
    option["xAxis"] = _axis("month", lo=0, hi=frame.horizon)
    option["yAxis"] = _axis("level (0-1)", lo=0, hi=1, gap=45)
    series = []
    several = len(frame.partnerships) > 1
    for k, (label, paths) in enumerate(frame.partnerships.items()):
        entrant, partner = label.split(" & ", 1)
        partner = partner.split(" (from month", 1)[0]
        # the pair is in the names already; only a second partnership of the same pair needs its label
        prefix = f"{label.split(' & ', 1)[1]}: " if several and " (from month" in label else ""
        blue = ENTRANT_COLOURS[k % len(ENTRANT_COLOURS)]
        green = PARTNER_COLOURS[k % len(PARTNER_COLOURS)]
        spec = [
            ("trust_entrant", f"{entrant} trusts {partner}", blue, "solid", 4),
            ("trust_partner", f"{partner} trusts {entrant}", green, [14, 5], 4),
            ("delivered_entrant", f"{entrant} delivers", blue, [6, 4], 2),
            ("delivered_partner", f"{partner} delivers", green, [2, 3], 2),
            ("partner_know_how", f"{partner}'s know-how learned", INCUMBENT_COLOURS[1], [1, 6], 3),
        ]
        for key, name, colour, style, width in spec:
            s = {
                "name": prefix + name,
                "type": "line",
                "showSymbol": False,
                "connectNulls": False,
                "data": _pairs(frame.months, paths[key], 1, 3),
                "color": colour,
                "lineStyle": {"width": width, "type": style},
            }
            if k == 0 and key == "trust_entrant":
                s["markLine"] = {
                    "silent": True,
                    "symbol": "none",
                    "label": {"fontSize": FONT - 2, "formatter": "{b}", "position": "insideEndTop"},
                    "data": [
                        {
                            "yAxis": frame.trust_floor,
                            "name": "trust floor",
                            "lineStyle": {"color": "#D55E00", "type": "dashed", "width": 2},
                        },
                        {
                            "yAxis": frame.upgrade_trust,
                            "name": "JV upgrade level",
                            "lineStyle": {"color": "#555", "type": "dashed", "width": 1},
                        },
                    ],
                }
            series.append(s)
    if not series:
        option["legend"]["show"] = False
        option["graphic"] = [
            {
                "type": "text",
                "left": "center",
                "top": "middle",
                "style": {"text": "No partnership in this run", "fontSize": FONT + 2, "fill": "#333"},
            }
        ]
        series.append({"type": "line", "data": []})
    option["series"] = series
    return _fit_legend(option)


def money_option(frame: Frame) -> dict[str, Any]:
    """Each entrant's cash, NPV to date (discounted net cash flow) and NPV including the
    value of the business still held (docs/ODD.md §8, what Compare reports), in millions."""
    colours = firm_colours(frame.roles)
    option = _base()
    option["xAxis"] = _axis("month", lo=0, hi=frame.horizon)
    option["yAxis"] = _axis(f"{frame.currency} million", gap=50)
    option["grid"]["left"] = 80
    series = []
    for name, paths in frame.money.items():
        series.append(
            {
                "name": f"{name} cash",
                "type": "line",
                "showSymbol": False,
                "color": colours[name],
                "data": _pairs(frame.months, paths["cash"], 1, 2),
                "lineStyle": {"width": 4},
            }
        )
        series.append(
            {
                "name": f"{name} NPV to date",
                "type": "line",
                "showSymbol": False,
                "color": colours[name],
                "data": _pairs(frame.months, paths["npv"], 1, 2),
                "lineStyle": {"width": 3, "type": "dashed"},
            }
        )
        if "npv_held" in paths:
            series.append(
                {
                    "name": f"{name} NPV incl. business held",
                    "type": "line",
                    "showSymbol": False,
                    "color": colours[name],
                    "data": _pairs(frame.months, paths["npv_held"], 1, 2),
                    "lineStyle": {"width": 3, "type": "dotted"},
                }
            )
    if series:
        series[0]["markLine"] = {
            "silent": True,
            "symbol": "none",
            "label": {"show": False},
            "lineStyle": {"color": "#333", "width": 1},
            "data": [{"yAxis": 0}],
        }
    option["series"] = series
    return _fit_legend(option)


# ---- Compare ------------------------------------------------------------------------


def fan_option(
    quantiles: pd.DataFrame,
    variant: str,
    *,
    target_share: float,
    target_month: int,
    horizon: int,
    top: float,
    label: str | None = None,
    colour: str = VARIANT_COLOURS[0],
) -> dict[str, Any]:
    """One variant's fan chart: the focal entrant's share, median with 25-75 % and
    10-90 % bands across replications, other variants' medians in grey.

    Args:
        quantiles: ``abm.report.share_quantiles`` output (variant, month, p10..p90).
        top: upper end of the share axis, as a share in [0, 1] (the same for all panels).
    """
    months = list(range(horizon + 1))
    option = _base(label or variant.replace("_", " "))
    option["tooltip"] = {"trigger": "axis", "textStyle": {"fontSize": FONT - 2}}
    # a category axis of months: ECharts stacks the bands on the value axis only then
    option["xAxis"] = _axis(
        "month",
        kind="category",
        data=months,
        boundaryGap=False,
        axisLabel={"fontSize": FONT - 1, "interval": max(1, horizon // 6) - 1},
    )
    option["yAxis"] = _axis("share (%)", lo=0, hi=_nice_ceiling(top * 100, 5), gap=45)

    def column(g: pd.DataFrame, key: str) -> list[float | None]:
        values = dict(zip(g.month.astype(int), g[key], strict=True))
        return [None if m not in values or pd.isna(values[m]) else round(100 * float(values[m]), 2) for m in months]

    series = []
    for other, g in quantiles.groupby("variant", sort=False):
        if other != variant:
            series.append(
                {
                    "name": "other variants' medians",
                    "type": "line",
                    "showSymbol": False,
                    "silent": True,
                    "color": "#999",
                    "lineStyle": {"width": 1.5},
                    "data": column(g, "p50"),
                }
            )
    v = quantiles[quantiles.variant == variant].assign(w90=lambda d: d.p90 - d.p10, w75=lambda d: d.p75 - d.p25)
    for lo, width, name, opacity, stack in (
        ("p10", "w90", "10-90 % of runs", 0.18, "outer"),
        ("p25", "w75", "25-75 % of runs", 0.35, "inner"),
    ):
        series.append(
            {
                "name": f"_{stack}",
                "type": "line",
                "stack": stack,
                "showSymbol": False,
                "silent": True,
                "lineStyle": {"opacity": 0},
                "data": column(v, lo),
                "tooltip": {"show": False},
            }
        )
        series.append(
            {
                "name": name,
                "type": "line",
                "stack": stack,
                "showSymbol": False,
                "silent": True,
                "lineStyle": {"opacity": 0},
                "color": colour,
                "areaStyle": {"color": colour, "opacity": opacity},
                "data": column(v, width),
            }
        )
    series.append(
        {
            "name": "median",
            "type": "line",
            "showSymbol": False,
            "color": colour,
            "lineStyle": {"width": 4},
            "data": column(v, "p50"),
            "markLine": {
                "silent": True,
                "symbol": "none",
                "label": {"fontSize": FONT - 3, "formatter": "{b}", "position": "insideEndTop"},
                "lineStyle": {"color": TARGET_COLOUR, "type": "dashed", "width": 2},
                "data": [
                    {"yAxis": round(target_share * 100, 3), "name": "target"},
                    {"xAxis": target_month if target_month <= horizon else horizon, "name": "deadline"},
                ],
            },
        }
    )
    option["series"] = series
    option["legend"]["data"] = ["median", "25-75 % of runs", "10-90 % of runs"] + (
        ["other variants' medians"] if quantiles.variant.nunique() > 1 else []
    )
    return _fit_legend(option)


def npv_option(
    summary: pd.DataFrame, variants: Sequence[str], currency: str, labels: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """NPV across replications per variant: a box from the 25th to the 75th percentile,
    whiskers from the 10th to the 90th, and every run as a dot, spread sideways (a fixed
    jitter, the same on every draw) so that runs with similar NPVs stay visible."""
    option = _base(f"NPV per run ({currency} million)")
    option["tooltip"] = {"trigger": "item", "textStyle": {"fontSize": FONT - 2}}
    names = [(labels or {}).get(v, v.replace("_", " ")) for v in variants]
    option["xAxis"] = [
        _axis("", kind="category", data=names, axisLabel={"fontSize": FONT - 1, "interval": 0}),
        {"type": "value", "min": -0.5, "max": len(names) - 0.5, "show": False},  # the dots' sideways position
    ]
    option["yAxis"] = _axis(f"NPV ({currency} million)", gap=55, axisLine={"onZero": False})
    option["grid"]["left"] = 85
    jitter = np.random.default_rng(0)
    boxes: list[list[float | None]] = []
    dots: list[list[float]] = []
    for i, v in enumerate(variants):
        npv = summary.loc[summary.variant == v, "npv"].dropna().to_numpy()
        if len(npv):
            boxes.append([round(float(x), 2) for x in np.quantile(npv, [0.1, 0.25, 0.5, 0.75, 0.9])])
            offsets = jitter.uniform(-0.3, 0.3, len(npv))
            dots += [[round(i + float(o), 3), round(float(x), 2)] for o, x in zip(offsets, npv, strict=True)]
        else:
            boxes.append([None] * 5)
    option["series"] = [
        {
            "name": "10/25/50/75/90 % of runs",
            "type": "boxplot",
            "data": boxes,
            "boxWidth": ["30%", "70%"],
            "itemStyle": {"color": "#DCEBF5", "borderColor": "#0072B2", "borderWidth": 2},
            "z": 1,
        },
        {
            "name": "one run",
            "type": "scatter",
            "xAxisIndex": 1,
            "data": dots,
            "symbolSize": 6,
            "itemStyle": {"color": "#D55E00", "opacity": 0.45},
            "z": 3,
        },
    ]
    option["series"][0]["markLine"] = {
        "silent": True,
        "symbol": "none",
        "label": {"formatter": "break-even", "fontSize": FONT - 3, "position": "insideEndTop"},
        "lineStyle": {"color": "#333", "type": "dashed"},
        "data": [{"yAxis": 0}],
    }
    return _fit_legend(option)


def _error_bars(name: str, k: int, data: list, width: int, **extra: Any) -> dict[str, Any]:
    """Error bars in panel ``k`` as a boxplot collapsed to its middle: ``data`` rows are
    (lo, mid, mid, mid, hi), or five Nones for no bar; ``width``: the caps in pixels."""
    return {
        "name": name,
        "type": "boxplot",
        "xAxisIndex": k,
        "yAxisIndex": k,
        "data": data,
        "boxWidth": [width, width],
        "itemStyle": {"color": "rgba(0,0,0,0)", "borderColor": "#000", "borderWidth": 1.5},
        **extra,
    }


def _row_axis(k: int, names: list[str], label_width: int) -> dict[str, Any]:
    """Panel ``k``'s category axis of rows (top to bottom), labelled in the first panel only."""
    return {
        "type": "category",
        "gridIndex": k,
        "data": names,
        "inverse": True,
        "axisLabel": {"show": k == 0, "fontSize": FONT - 1, "width": label_width, "overflow": "break"},
        "axisTick": {"show": False},
    }


def probability_option(probabilities: pd.DataFrame) -> dict[str, Any]:
    """The probabilities per variant as horizontal bars, one panel per measure, each bar
    with its 95 % Wilson interval as an error bar and as text.

    The variants are the rows (their names written horizontally, once, left of the first
    panel); a measure that does not apply to a variant reads "n/a".

    Args:
        probabilities: rows (variant, measure, p, lo, hi, n) as from
            ``abm.app.comparison.probabilities``; p is NaN where the measure does not apply.
    """
    option = _base(None, legend=False)
    option["tooltip"] = {"trigger": "item", "textStyle": {"fontSize": FONT - 2}}
    measures = list(dict.fromkeys(probabilities.measure))
    variants = [str(v) for v in dict.fromkeys(probabilities.variant)]
    names = [v.replace("_", " ") for v in variants]
    left, gap = 17.0, 9.0  # the gap holds each bar's numbers, written after its interval
    width = (100 - left - gap * len(measures)) / max(len(measures), 1)
    option["title"] = [
        {
            "text": "Probabilities across runs (bars: 95 % Wilson interval)",
            "left": 0,
            "top": 0,
            "textStyle": {"fontSize": FONT + 2, "fontWeight": "bold"},
        }
    ]
    option["grid"], option["xAxis"], option["yAxis"], series = [], [], [], []
    for k, m in enumerate(measures):
        x0 = left + k * (width + gap)
        option["title"].append(
            {"text": m, "left": f"{x0:.1f}%", "top": 34, "textStyle": {"fontSize": FONT - 1, "fontWeight": "normal"}}
        )
        option["grid"].append({"left": f"{x0:.1f}%", "width": f"{width:.1f}%", "top": 64, "bottom": 50})
        option["xAxis"].append(
            {**_axis("%", lo=0, hi=100, gridIndex=k, gap=28), "interval": 50, "axisLabel": {"fontSize": FONT - 2}}
        )
        option["yAxis"].append(_row_axis(k, names, 150))
        bars: list[dict[str, Any]] = []
        errors: list[list[float | None]] = []
        numbers: list[dict[str, Any]] = []
        for i, v in enumerate(variants):
            row = probabilities[(probabilities.variant.astype(str) == v) & (probabilities.measure == m)]
            colour = VARIANT_COLOURS[i % len(VARIANT_COLOURS)]
            if row.empty or pd.isna(row.p.iloc[0]):
                bars.append(
                    {"value": 0, "label": {"show": True, "formatter": "n/a", "position": "right", "fontSize": FONT - 3}}
                )
                errors.append([None] * 5)
                numbers.append({"value": [None, i]})
                continue
            r = row.iloc[0]
            p, lo, hi = (round(100 * float(x), 1) for x in (r.p, r.lo, r.hi))
            bars.append({"value": p, "itemStyle": {"color": colour, "opacity": 0.8}})
            errors.append([lo, p, p, p, hi])
            numbers.append(
                {
                    "value": [hi, i],
                    "label": {
                        "show": True,
                        "position": "right",
                        "distance": 4,
                        "formatter": f"{100 * r.p:.0f}% ({100 * r.lo:.0f}-{100 * r.hi:.0f})",
                        "fontSize": FONT - 3,
                        "color": "#000",
                    },
                }
            )
        series.append(
            {"name": m, "type": "bar", "xAxisIndex": k, "yAxisIndex": k, "data": bars, "barWidth": "55%", "z": 2}
        )
        series.append(_error_bars(f"_interval {m}", k, errors, 14, z=3))
        series.append(
            {
                "name": f"_numbers {m}",
                "type": "scatter",
                "xAxisIndex": k,
                "yAxisIndex": k,
                "data": numbers,
                "symbolSize": 0,
                "silent": True,
                "tooltip": {"show": False},
            }
        )
    option["series"] = series
    return option


def paired_option(paired: pd.DataFrame, labels: Mapping[str, str], currency: str) -> dict[str, Any]:
    """The mean paired difference (a minus the baseline) per variant with its 95 % t
    interval, one panel per measure (NPV in currency millions, year-3 share in points)."""
    option = _base(None, legend=False)
    option["tooltip"] = {"trigger": "item", "textStyle": {"fontSize": FONT - 2}}
    base = str(paired.b.iloc[0]) if len(paired) else ""
    option["title"] = [
        {
            "text": f"Difference from {labels.get(base, base)}, run by run (mean, 95 % interval)",
            "left": 0,
            "top": 0,
            "textStyle": {"fontSize": FONT + 2, "fontWeight": "bold"},
        }
    ]
    measures = list(dict.fromkeys(paired.measure))
    units = {"npv": (f"NPV, {currency} m", 1.0), "share_y3": ("year-3 share, points", 100.0)}
    left, gap = 22.0, 6.0
    width = (100 - left - 3 - gap * (len(measures) - 1)) / max(len(measures), 1)
    option["grid"], option["xAxis"], option["yAxis"], series = [], [], [], []
    for k, m in enumerate(measures):
        g = paired[paired.measure == m]
        unit, scale = units.get(m, (m, 1.0))
        names = [labels.get(str(a), str(a)) for a in g.a]
        x0 = left + k * (width + gap)
        option["grid"].append({"left": f"{x0:.1f}%", "width": f"{width:.1f}%", "top": 40, "bottom": 70})
        option["xAxis"].append({**_axis(unit, gridIndex=k, gap=30), "axisLabel": {"fontSize": FONT - 2}})
        option["yAxis"].append(_row_axis(k, names, 190))
        means: list[dict[str, Any]] = []
        errors = []
        for _, r in g.iterrows():
            mean = None if pd.isna(r["mean"]) else round(scale * float(r["mean"]), 2)
            lo, hi = (None if pd.isna(x) else round(scale * float(x), 2) for x in (r.lo, r.hi))
            clear = lo is not None and hi is not None and (lo > 0 or hi < 0)
            means.append({"value": [mean, len(means)], "itemStyle": {"color": "#0072B2" if clear else "#777"}})
            errors.append([lo, mean, mean, mean, hi] if lo is not None else [None] * 5)
        series.append(
            _error_bars(
                f"_interval {m}",
                k,
                errors,
                16,
                markLine={
                    "silent": True,
                    "symbol": "none",
                    "label": {"show": False},
                    "lineStyle": {"color": "#333", "type": "dashed"},
                    "data": [{"xAxis": 0}],
                },
            )
        )
        series.append(
            {
                "name": m,
                "type": "scatter",
                "xAxisIndex": k,
                "yAxisIndex": k,
                "data": means,
                "symbolSize": 12,
                "z": 3,
            }
        )
    option["series"] = series
    return option


# ---- Results ------------------------------------------------------------------------


def outcome_option(frame: pd.DataFrame, parameter: str, outcome: str, *, bins: int = 10) -> dict[str, Any]:
    """An outcome against a parameter: every run as a dot, with the median and the
    10-90 % band per bin of the parameter (per value when it takes few values). A text
    parameter (e.g. ``entry_mode``) gets one column of dots per value."""
    df = frame[[parameter, outcome]].dropna()
    text = (
        len(df) and not pd.api.types.is_numeric_dtype(df[parameter]) and not pd.api.types.is_bool_dtype(df[parameter])
    )
    if text and pd.to_numeric(df[parameter], errors="coerce").isna().any():
        return _categorical_outcome(df, parameter, outcome)
    x = pd.to_numeric(df[parameter], errors="coerce")
    y = pd.to_numeric(df[outcome].astype(float) if df[outcome].dtype == bool else df[outcome], errors="coerce")
    ok = x.notna() & y.notna()
    x, y = x[ok], y[ok]
    option = _base(f"{outcome} against {parameter} ({len(x)} runs)")
    option["tooltip"] = {"trigger": "item", "textStyle": {"fontSize": FONT - 2}}
    option["xAxis"] = _axis(parameter, scale=True)
    option["yAxis"] = _axis(outcome, scale=True, gap=55)
    option["grid"]["left"] = 85
    sample = np.linspace(0, len(x) - 1, min(len(x), 4000)).astype(int) if len(x) else np.array([], dtype=int)
    dots = np.column_stack([x.to_numpy()[sample], y.to_numpy()[sample]]).round(4).tolist() if len(x) else []
    series = [
        {
            "name": "one run",
            "type": "scatter",
            "data": dots,
            "symbolSize": 8,
            "itemStyle": {"color": "#0072B2", "opacity": 0.55},
        }
    ]
    if len(x):
        if x.nunique() <= 12:
            groups = y.groupby(x)
        else:
            edges = np.unique(np.quantile(x, np.linspace(0, 1, bins + 1)))
            groups = y.groupby(pd.cut(x, edges, include_lowest=True), observed=True)
            centres = x.groupby(pd.cut(x, edges, include_lowest=True), observed=True).median()
        stats = groups.quantile([0.1, 0.5, 0.9]).unstack()
        xs = stats.index.to_numpy() if x.nunique() <= 12 else centres.loc[stats.index].to_numpy()
        line = [[round(float(a), 4), round(float(b), 4)] for a, b in zip(xs, stats[0.5], strict=True)]
        lo = [[round(float(a), 4), round(float(b), 4)] for a, b in zip(xs, stats[0.1], strict=True)]
        hi = [[round(float(a), 4), round(float(b), 4)] for a, b in zip(xs, stats[0.9], strict=True)]
        series += [
            {"name": "median", "type": "line", "data": line, "color": "#D55E00", "lineStyle": {"width": 4}},
            {
                "name": "10 % / 90 %",
                "type": "line",
                "data": lo,
                "color": "#D55E00",
                "showSymbol": False,
                "lineStyle": {"width": 2, "type": "dashed"},
            },
            {
                "name": "10 % / 90 %",
                "type": "line",
                "data": hi,
                "color": "#D55E00",
                "showSymbol": False,
                "lineStyle": {"width": 2, "type": "dashed"},
            },
        ]
    option["series"] = series
    return _fit_legend(option)


def _categorical_outcome(df: pd.DataFrame, parameter: str, outcome: str) -> dict[str, Any]:
    """``outcome_option`` for a text parameter: per value a column of runs (spread
    sideways by a fixed jitter), the median and the 10 % and 90 % marks."""
    y = pd.to_numeric(df[outcome].astype(float) if df[outcome].dtype == bool else df[outcome], errors="coerce")
    x = df[parameter].astype(str)
    ok = y.notna()
    x, y = x[ok], y[ok]
    values = sorted(x.unique())
    option = _base(f"{outcome} against {parameter} ({len(x)} runs)")
    option["tooltip"] = {"trigger": "item", "textStyle": {"fontSize": FONT - 2}}
    # the names on a category axis; the dots on a hidden value axis over the same bands,
    # so they can spread sideways within their value's band
    option["xAxis"] = [
        _axis(parameter, kind="category", data=values, boundaryGap=True),
        {"type": "value", "min": -0.5, "max": len(values) - 0.5, "show": False},
    ]
    option["yAxis"] = _axis(outcome, scale=True, gap=55)
    option["grid"]["left"] = 85
    index = {v: i for i, v in enumerate(values)}
    jitter = (np.random.default_rng(0).random(len(x)) - 0.5) * 0.5  # fixed: the same picture every time
    xs = np.array([index[v] for v in x], dtype=float) + jitter
    keep = np.linspace(0, len(x) - 1, min(len(x), 4000)).astype(int) if len(x) else np.array([], dtype=int)
    dots = np.column_stack([xs[keep], y.to_numpy()[keep]]).round(4).tolist() if len(x) else []
    stats = y.groupby(x).quantile([0.1, 0.5, 0.9]).unstack() if len(x) else None
    series: list[dict[str, Any]] = [
        {
            "name": "one run",
            "type": "scatter",
            "xAxisIndex": 1,
            "data": dots,
            "symbolSize": 7,
            "itemStyle": {"color": "#0072B2", "opacity": 0.45},
        }
    ]
    if stats is not None:
        for q, name, size in ((0.5, "median", 26), (0.1, "10 % / 90 %", 18), (0.9, "10 % / 90 %", 18)):
            series.append(
                {
                    "name": name,
                    "type": "scatter",
                    "symbol": "rect",
                    "symbolSize": [size * 2, 5 if q == 0.5 else 3],
                    "itemStyle": {"color": "#D55E00"},
                    "xAxisIndex": 1,
                    "data": [[index[v], round(float(stats.loc[v, q]), 4)] for v in values],
                }
            )
    option["series"] = series
    return _fit_legend(option)


def sensitivity_option(indices: pd.DataFrame, outcome: str | None = None) -> dict[str, Any]:
    """Horizontal bars of sensitivity indices per parameter (Sobol S1/ST, Morris mu*, ...).

    Args:
        indices: one row per parameter, a ``parameter`` column and one column per index
            (e.g. ``S1``, ``ST``, ``mu_star``); columns ending in ``_conf`` are shown in
            the tooltip only.
    """
    names = [
        c
        for c in indices.columns
        if c not in ("parameter", "outcome") and not c.endswith("_conf") and pd.api.types.is_numeric_dtype(indices[c])
    ]
    order = indices.sort_values(names[-1] if names else "parameter")
    option = _base(f"Sensitivity of {outcome}" if outcome else "Sensitivity indices")
    option["tooltip"] = {"trigger": "axis", "textStyle": {"fontSize": FONT - 2}}
    option["yAxis"] = _axis("", kind="category", data=order.parameter.astype(str).tolist())
    option["xAxis"] = _axis("index", gap=30)
    option["grid"]["left"] = 220
    option["series"] = [
        {
            "name": n,
            "type": "bar",
            "data": [None if pd.isna(v) else round(float(v), 4) for v in order[n]],
            "color": VARIANT_COLOURS[i % len(VARIANT_COLOURS)],
        }
        for i, n in enumerate(names)
    ]
    return _fit_legend(option)
