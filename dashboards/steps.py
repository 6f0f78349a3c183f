"""The charts of what held the ESP up: task-sequence steps, apps, durations."""

from __future__ import annotations

import altair as alt

from .data import DashboardData
from .style import FADED, INK, VIRIDIS, WIDTH, Chart, config, count_axis, palette, pct


def _hbar(
    values: list[dict], y_title: str, series: list[tuple[str, str]], height: int
) -> dict:
    """Horizontal grouped bars of `series` (field, legend label) per `label`."""
    long = [
        {"label": v["label"], "count": v[f], "what": title, "tip": v.get("tip", "")}
        for v in values
        for f, title in series
    ]
    whats = [t for _f, t in series]
    chart = (
        alt.Chart(alt.Data(values=long))
        .mark_bar()
        .encode(
            y=alt.Y(
                "label:N",
                title=y_title,
                sort=[v["label"] for v in values],
                axis=alt.Axis(labelLimit=320),
            ),
            yOffset=alt.YOffset("what:N", sort=whats),
            x=alt.X(
                "count:Q",
                axis=count_axis([v["count"] for v in long], "Failed attempts"),
            ),
            color=alt.Color(
                "what:N",
                title=None,
                sort=whats,
                scale=alt.Scale(domain=whats, range=palette(len(whats))),
                legend=alt.Legend(orient="bottom", labelLimit=400),
            ),
            tooltip=[
                alt.Tooltip("label:N", title=y_title),
                alt.Tooltip("what:N", title="Count"),
                alt.Tooltip("count:Q", title="Attempts"),
                alt.Tooltip("tip:N", title="Detail"),
            ],
        )
        .properties(width=WIDTH - 200, height=height)
    )
    return config(chart)


def ts_steps(data: DashboardData, limit: int = 12) -> Chart | None:
    """The task-sequence steps that failed or were running at the ESP timeout."""
    rows = [r for r in data.ts_steps if r["failures"] or r["running_at_esp_timeout"]][
        :limit
    ]
    if not rows:
        return None
    values = [
        {
            "label": r["step_name"],
            "failures": r["failures"],
            "running": r["running_at_esp_timeout"],
            "tip": f"{r['executions']} runs on {r['devices']} devices; "
            f"top code {r['top_error_code'] or 'none'}",
        }
        for r in rows
    ]
    spec = _hbar(
        values,
        "Task-sequence step",
        [("failures", "Step failed"), ("running", "Running when the ESP gave up")],
        28 * len(values),
    )
    runs = sum(r["executions"] for r in data.ts_steps)
    caption = (
        f"Steps of the task sequence that failed, or were still running when a "
        f"failed attempt's ESP gave up (of {runs} step executions in all)."
    )
    return Chart("ts-steps", "Failing task-sequence steps", caption, spec)


def blockers(data: DashboardData, limit: int = 12) -> Chart | None:
    """What the ESP was waiting for when it failed."""
    rows = data.blockers[:limit]
    if not rows:
        return None
    values = [
        {
            "label": f"{r['item']} ({r['state']})",
            "failed_attempts": r["failed_attempts"],
            "tip": f"{r['kind']}; {r['devices']} devices; phases {r['phases']}; "
            f"top code {r['top_error_code'] or 'none'}",
        }
        for r in rows
    ]
    spec = _hbar(
        values,
        "App, policy or provider (state)",
        [("failed_attempts", "Failed attempts waiting on it")],
        24 * len(values),
    )
    share = rows[0]["share_of_failed_attempts"]
    caption = (
        "Apps, policies and providers not done when an attempt failed, ranked by "
        f"failed attempts (the first held up {pct(share)} of all failed attempts)."
    )
    return Chart("blockers", "What blocked the ESP", caption, spec)


def durations(data: DashboardData) -> Chart | None:
    """ccmsetup and task-sequence durations against each device's ESP timeout."""
    if not data.durations:
        return None
    names = {"ccmsetup": "ccmsetup (client install)", "task_sequence": "task sequence"}
    values = [
        r
        | {
            "component": names.get(r["component"], r["component"]),
            "within": r["attempts"] - r["over_timeout"],
        }
        for r in data.durations
    ]
    long = [
        v | {"count": v[f], "what": what}
        for v in values
        for f, what in (("within", "within the timeout"), ("over_timeout", "over it"))
        if v[f]
    ]
    whats = ["within the timeout", "over it"]
    bars = (
        alt.Chart()
        .mark_bar(stroke="white", strokeWidth=0.5, orient="vertical")
        .encode(
            x=alt.X(
                "share_from:Q",
                title="Time from the ESP start, as a share of the device's ESP timeout",
                axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1.6]),
            ),
            x2="share_to:Q",
            y=alt.Y("count:Q", title="Attempts", stack="zero"),
            color=alt.Color(
                "what:N",
                title="Finished",
                sort=whats,
                scale=alt.Scale(domain=whats, range=[FADED, VIRIDIS[0]]),
            ),
            tooltip=[
                alt.Tooltip("component:N", title="Component"),
                alt.Tooltip("share_from:Q", title="From", format=".0%"),
                alt.Tooltip("share_to:Q", title="To", format=".0%"),
                alt.Tooltip("what:N", title="Finished"),
                alt.Tooltip("count:Q", title="Attempts"),
            ],
        )
    )
    rule = alt.Chart().mark_rule(color=INK, strokeDash=[4, 3]).encode(x=alt.datum(1))
    label = (
        alt.Chart()
        .mark_text(align="left", dx=4, dy=-4, color=INK, baseline="top")
        .encode(x=alt.datum(1), y=alt.value(0), text=alt.datum("ESP timeout"))
    )
    chart = (
        alt.layer(bars, rule, label, data=alt.Data(values=long))
        .properties(width=WIDTH - 80, height=110)
        .facet(
            row=alt.Row(
                "component:N",
                title=None,
                header=alt.Header(labelAngle=0, labelAlign="left", labelFontSize=13),
            )
        )
    )
    over = sum(r["over_timeout"] for r in data.durations)
    total = sum(r["attempts"] for r in data.durations)
    caption = (
        "How long ccmsetup and the task sequence took to finish after the ESP "
        "started, against each device's own ESP timeout (100%): "
        f"{over} of {total} runs ended past it or never finished."
    )
    return Chart(
        "durations", "Durations against the ESP timeout", caption, config(chart)
    )
