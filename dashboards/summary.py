"""The one-page summary image for a slide (16:9), drawn by vl-convert.

A Vega-Lite composition of the headline numbers and the three charts ops
review looks at first: the daily rate by phase, the error codes, the heat map.
"""

from __future__ import annotations

import altair as alt

from .data import DashboardData
from .style import FONT, INK, Chart

# The layout's width in points (export.slide_png pads the drawing to 16:9 and
# scales it to 1920 x 1080 pixels).
WIDTH = 1600


def _text_block(
    lines: list[tuple[str, int, bool]], width: int, height: int
) -> alt.LayerChart | alt.FacetChart:
    """Lines of (text, font size, bold) as a chart with no axes."""
    layers = []
    y = 0
    for text, size, bold in lines:
        y += size + 10
        layers.append(
            alt.Chart(alt.Data(values=[{"text": text}]))
            .mark_text(
                align="left",
                baseline="bottom",
                color=INK,
                font=FONT,
                fontSize=size,
                fontWeight="bold" if bold else "normal",
            )
            .encode(x=alt.value(0), y=alt.value(y), text="text:N")
        )
    return alt.layer(*layers).properties(width=width, height=height)


def headline(data: DashboardData) -> list[tuple[str, int, bool]]:
    """The summary's text: title, range, the latest night, the top error."""
    lines = [
        ("Autopilot ESP failures: ops review", 34, True),
        (
            f"Generated {data.generated_at:%Y-%m-%d %H:%M} UTC; data {data.first_day} "
            f"to {data.last_day} (UTC)" + ("; masked" if data.masked else ""),
            17,
            False,
        ),
    ]
    if data.days:
        n = data.days[-1]
        lines.append(
            (
                f"Latest night {n['day']}: {n['failed_devices']} of {n['devices']} "
                f"devices failed ({n['failure_rate']:.1%}), {n['attempts']} attempts",
                22,
                True,
            )
        )
    for r in data.rate_changes:
        if r["rate_change"] is not None:
            period = "night" if r["period"] == "night" else "week"
            lines.append(
                (
                    f"Since the previous {period}: {r['rate_change'] * 100:+.1f} "
                    f"points ({r['previous_rate']:.1%} -> {r['current_rate']:.1%})",
                    18,
                    False,
                )
            )
    if data.top_codes:
        top = max(data.top_codes, key=lambda r: r["failed_devices"])
        meaning = (top["meaning"] or "not in the catalogue").split(". ")[0][:110]
        lines.append(
            (
                f"Top error {top['error_code']}: {top['failed_devices']} failing "
                f"devices. {meaning}",
                18,
                False,
            )
        )
    flagged = sum(1 for r in data.deltas if r["flagged"])
    lines.append((f"Rate flags: {flagged}", 18, bool(flagged)))
    return lines


def summary_spec(data: DashboardData, charts: list[Chart]) -> dict:
    """The slide as one Vega-Lite spec (the charts' own specs, resized)."""
    top = _text_block(headline(data), WIDTH - 40, 200).to_dict()
    parts = []
    for key, width, height in (
        ("daily-rates", 640, 470),
        ("pareto", 600, 270),
        ("heat-map", 600, 180),
    ):
        chart = next((c for c in charts if c.key == key), None)
        if chart is None:
            continue
        spec = {k: v for k, v in chart.spec.items() if k not in ("config", "$schema")}
        spec = _resized(spec, width, height)
        parts.append({"title": chart.title, **spec})
    body: dict = {
        "hconcat": [{"vconcat": parts[:1]}, {"vconcat": parts[1:]}],
        "spacing": 60,
        "resolve": {"legend": {"color": "independent"}},
    }
    return {
        "$schema": top.get("$schema"),
        "vconcat": [
            {k: v for k, v in top.items() if k not in ("config", "$schema")},
            body,
        ],
        "config": charts[0].spec.get("config", {}) if charts else {},
        "background": "white",
        "padding": 20,
    }


def _resized(spec: dict, width: int, height: int) -> dict:
    if "vconcat" in spec:
        return spec | {
            "vconcat": [
                _resized(s, width, height if i == 0 else height // 4)
                for i, s in enumerate(spec["vconcat"])
            ]
        }
    return spec | {"width": width, "height": height}
