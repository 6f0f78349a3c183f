"""The dashboard's charts (Altair / Vega-Lite), each with its one-line caption.

The trend, the error codes and the heat map are here; the steps, apps and
durations in `steps`, the cohorts in `cohorts`; what they share in `style`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import altair as alt

from .cohorts import COHORT_NAMES, cohort
from .data import DashboardData
from .steps import blockers, durations, ts_steps
from .style import BAR, FADED, INK, WIDTH, Chart, config, count_axis, ordered, palette


def daily_rates(data: DashboardData) -> Chart | None:
    """Failure rate by phase per UTC day, over the devices of each day."""
    if not data.days:
        return None
    phases = ordered({r["phase"] for r in data.phase_rates})
    rows = [r | {"day": r["day"].isoformat()} for r in data.phase_rates]
    days = [d | {"day": d["day"].isoformat()} for d in data.days]
    start = max(data.since or data.days[0]["day"], data.days[0]["day"])
    end = data.last_day + timedelta(days=1) if data.last_day else None
    x = alt.X(
        "utcyearmonthdate(day):T",
        title="Day (UTC)",
        axis=alt.Axis(format="%d %b", labelAngle=0, labelOverlap=True),
        scale=alt.Scale(domain=[start.isoformat(), str(end)]),
    )
    rates = (
        alt.Chart(alt.Data(values=rows))
        .mark_bar(stroke="white", strokeWidth=0.5)
        .encode(
            x=x,
            y=alt.Y(
                "rate:Q",
                stack="zero",
                title="Devices failing (share of the day's devices)",
                axis=alt.Axis(format="%"),
            ),
            color=alt.Color(
                "phase:N",
                title="Phase that failed",
                scale=alt.Scale(domain=phases, range=palette(len(phases))),
                sort=phases,
            ),
            order=alt.Order("phase_rank:Q"),
            tooltip=[
                alt.Tooltip(
                    "utcyearmonthdate(day):T", title="Day (UTC)", format="%Y-%m-%d"
                ),
                alt.Tooltip("phase:N", title="Phase"),
                alt.Tooltip("failures:Q", title="Failing devices"),
                alt.Tooltip("devices:Q", title="Devices that day"),
                alt.Tooltip("rate:Q", title="Rate", format=".1%"),
            ],
        )
        .transform_calculate(
            phase_rank=f"indexof({phases!r}, datum.phase)".replace("'", '"')
        )
        .properties(width=WIDTH, height=220)
    )
    devices = (
        alt.Chart(alt.Data(values=days))
        .mark_bar(color=FADED)
        .encode(
            x=x,
            y=alt.Y(
                "devices:Q",
                axis=count_axis([d["devices"] for d in data.days], "Devices"),
            ),
            tooltip=[
                alt.Tooltip(
                    "utcyearmonthdate(day):T", title="Day (UTC)", format="%Y-%m-%d"
                ),
                alt.Tooltip("devices:Q", title="Devices"),
                alt.Tooltip("failed_devices:Q", title="Failing"),
                alt.Tooltip("attempts:Q", title="Attempts"),
            ],
        )
        .properties(width=WIDTH, height=90)
    )
    total = sum(d["devices"] for d in data.days)
    failed = sum(d["failed_devices"] for d in data.days)
    caption = (
        f"Share of each UTC day's devices whose latest attempt that day failed, "
        f"by the phase that failed ({failed} failing of {total} device-days "
        f"from {start} to {data.last_day}); below, the devices with an attempt "
        "each day, the denominator."
    )
    spec = config(alt.vconcat(rates, devices, spacing=8))
    return Chart("daily-rates", "Failure rate by phase, per day", caption, spec)


def pareto(data: DashboardData, limit: int = 15) -> Chart | None:
    """The failing devices' error codes, most frequent first, with the running share."""
    if not data.top_codes:
        return None
    rows = sorted(
        data.top_codes, key=lambda r: (-r["failed_devices"], r["error_code"] or "")
    )[:limit]
    values = []
    running = 0.0
    for rank, r in enumerate(rows):
        running += r["share_of_failures"]
        values.append(
            {
                "code": r["error_code"] or "(no code)",
                "rank": rank,
                "failed_devices": r["failed_devices"],
                "share": r["share_of_failures"],
                "cumulative": min(running, 1.0),
                "meaning": (r["meaning"] or "not in the catalogue")[:160],
            }
        )
    total = sum(r["failed_devices"] for r in data.top_codes)
    x = alt.X(
        "code:N",
        sort=alt.EncodingSortField("rank"),
        title="Error code",
        axis=alt.Axis(labelAngle=-30),
    )
    tooltip = [
        alt.Tooltip("code:N", title="Code"),
        alt.Tooltip("failed_devices:Q", title="Failing devices"),
        alt.Tooltip("share:Q", title="Share of failing devices", format=".1%"),
        alt.Tooltip("meaning:N", title="Meaning"),
    ]
    base = alt.Chart(alt.Data(values=values)).encode(x=x)
    bars = base.mark_bar(color=BAR).encode(
        y=alt.Y("failed_devices:Q", title="Failing devices"), tooltip=tooltip
    )
    labels = base.mark_text(dy=-7, color=INK).encode(
        y="failed_devices:Q", text="failed_devices:Q"
    )
    line = base.mark_line(color=INK, point=alt.OverlayMarkDef(color=INK)).encode(
        y=alt.Y(
            "cumulative:Q",
            title="Running share of failing devices",
            axis=alt.Axis(format="%"),
            scale=alt.Scale(domain=[0, 1]),
        ),
        tooltip=tooltip,
    )
    chart = alt.layer(bars + labels, line).resolve_scale(y="independent")
    caption = (
        f"The error codes of the {total} failing devices (each by its latest "
        f"attempt), most frequent first, with the running share they add up to."
    )
    spec = config(chart.properties(width=WIDTH, height=240))
    return Chart("pareto", "Error codes that matter", caption, spec)


def heat_map(data: DashboardData) -> Chart | None:
    """Failing devices by phase x error code."""
    if not data.matrix:
        return None
    phases = ordered({r["phase"] for r in data.matrix})
    values = [
        {
            "phase": r["phase"],
            "code": r["error_code"] or "(no code)",
            "failed_devices": r["failed_devices"],
            "share": r["share_of_failures"],
        }
        for r in data.matrix
    ]
    totals: dict[str, int] = {}
    for v in values:
        totals[v["code"]] = totals.get(v["code"], 0) + v["failed_devices"]
    codes = sorted(totals, key=lambda c: (-totals[c], c))  # the Pareto's order
    base = alt.Chart(alt.Data(values=values)).encode(
        x=alt.X(
            "code:N", title="Error code", sort=codes, axis=alt.Axis(labelAngle=-30)
        ),
        y=alt.Y("phase:N", title="Phase that failed", sort=phases),
    )
    cells = base.mark_rect(stroke="white").encode(
        color=alt.Color(
            "failed_devices:Q",
            title="Failing devices",
            scale=alt.Scale(scheme="blues"),
        ),
        tooltip=[
            alt.Tooltip("phase:N", title="Phase"),
            alt.Tooltip("code:N", title="Code"),
            alt.Tooltip("failed_devices:Q", title="Failing devices"),
            alt.Tooltip("share:Q", title="Share of failing devices", format=".1%"),
        ],
    )
    text = base.mark_text(fontSize=13).encode(
        text="failed_devices:Q",
        color=alt.condition("datum.share > 0.3", alt.value("white"), alt.value(INK)),
    )
    total = sum(r["failed_devices"] for r in data.matrix)
    caption = (
        f"Where and how the {total} failing devices fail: devices per phase and "
        "error code (each by its latest attempt; the number is written in each cell)."
    )
    spec = config((cells + text).properties(width=WIDTH, height=40 * len(phases)))
    return Chart("heat-map", "Phase x error code", caption, spec)


BUILDERS: tuple[Callable[[DashboardData], Chart | None], ...] = (
    daily_rates,
    pareto,
    heat_map,
    ts_steps,
    blockers,
    durations,
)


def all_charts(data: DashboardData) -> list[Chart]:
    """Every chart the data can fill (a panel with no rows gets none)."""
    charts = [c for build in BUILDERS if (c := build(data)) is not None]
    charts += [c for name in COHORT_NAMES if (c := cohort(data, name)) is not None]
    return charts
