"""The dashboard's charts (Altair / Vega-Lite), each with its one-line caption.

Readable in print: colours come from viridis (perceptually even, monotonic in
lightness, so it survives colour blindness and greyscale), counts are written
on the marks where a colour carries them, every axis has a title in words and
every time axis says UTC. Nothing here knows the list of phases or outcomes:
`PHASE_ORDER` only puts the known ones first, in the order a device meets
them; any other value follows, alphabetically.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import altair as alt

from .data import DashboardData

FONT = "Liberation Sans, Arial, Helvetica, sans-serif"
INK = "#222222"
# viridis from dark to light, stopping before its yellow (too pale on paper).
VIRIDIS = ("#440154", "#3e4989", "#26828e", "#1f9e89", "#35b779", "#90d743")
BAR = "#3e4989"
FADED = "#b8bfd9"
# Ordering hints: stages before the ESP, then the ESP phases, in path order.
PHASE_ORDER = (
    "AutopilotProfile",
    "Network",
    "EntraJoin",
    "MdmEnrollment",
    "TpmAttestation",
    "DevicePreparation",
    "DeviceSetup",
    "AccountSetup",
)
WIDTH = 640


@dataclass(frozen=True)
class Chart:
    """One chart of the page: its anchor, title, caption and Vega-Lite spec."""

    key: str
    title: str
    caption: str
    spec: dict


def ordered(values: set[str | None], hints: tuple[str, ...] = PHASE_ORDER) -> list:
    """`values` with the hinted ones first (in hint order), then the rest sorted."""
    known = [h for h in hints if h in values]
    rest = sorted(str(v) for v in values if v not in hints and v is not None)
    return known + rest


def palette(n: int) -> list[str]:
    """`n` colours of even lightness steps (dark first)."""
    if n <= len(VIRIDIS):
        step = (len(VIRIDIS) - 1) / max(n - 1, 1)
        return [VIRIDIS[round(i * step)] for i in range(n)]
    return [VIRIDIS[i % len(VIRIDIS)] for i in range(n)]


def _config(chart: alt.TopLevelMixin) -> dict:
    spec = chart.configure(font=FONT, background="white").configure_axis(
        labelFontSize=12, titleFontSize=13, labelColor=INK, titleColor=INK
    )
    spec = spec.configure_legend(labelFontSize=12, titleFontSize=13)
    spec = spec.configure_view(stroke=None).configure_title(fontSize=15, color=INK)
    return spec.to_dict()


def count_axis(counts: list[int], title: str) -> alt.Axis:
    """An axis of whole counts: a tick per unit up to 10 (none at halves)."""
    top = max(counts, default=0)
    if top <= 10:
        return alt.Axis(title=title, values=list(range(top + 1)), format="d")
    return alt.Axis(title=title, tickMinStep=1, format="d")


def _pct(n: float | None) -> str:
    return "n/a" if n is None else f"{n:.1%}"


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
    spec = _config(alt.vconcat(rates, devices, spacing=8))
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
    spec = _config(chart.properties(width=WIDTH, height=240))
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
    base = alt.Chart(alt.Data(values=values)).encode(
        x=alt.X("code:N", title="Error code", axis=alt.Axis(labelAngle=-30)),
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
    spec = _config((cells + text).properties(width=WIDTH, height=40 * len(phases)))
    return Chart("heat-map", "Phase x error code", caption, spec)


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
    return _config(chart)


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
        f"failed attempts (the first held up {_pct(share)} of all failed attempts)."
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
        "durations", "Durations against the ESP timeout", caption, _config(chart)
    )


COHORT_NAMES = {
    "os_build": "OS build",
    "model": "model",
    "manufacturer": "manufacturer",
    "client_version": "ConfigMgr client version",
    "autopilot_profile": "Autopilot profile",
    "site": "site",
}


def cohort(data: DashboardData, name: str, limit: int = 10) -> Chart | None:
    """Failure rate per value of one cohort, small cohorts faded."""
    rows = [r for r in data.cohorts if r["cohort"] == name]
    if not rows or all(r["cohort_value"] == "(unknown)" for r in rows):
        return None
    rows = sorted(rows, key=lambda r: (-r["devices"], r["cohort_value"]))[:limit]
    values = [
        {
            "value": r["cohort_value"],
            "rate": r["failure_rate"],
            "label": f"{r['failed_devices']} of {r['devices']}",
            "size": f"fewer than {data.settings.get('min_devices', 3)} devices"
            if r["small"]
            else "enough devices",
        }
        for r in rows
    ]
    order = [v["value"] for v in sorted(values, key=lambda v: -v["rate"])]
    title = COHORT_NAMES.get(name, name.replace("_", " "))
    base = alt.Chart(alt.Data(values=values)).encode(
        y=alt.Y(
            "value:N",
            title=title[0].upper() + title[1:],
            sort=order,
            axis=alt.Axis(labelLimit=260),
        ),
        x=alt.X(
            "rate:Q",
            title="Devices failing (share of the cohort)",
            axis=alt.Axis(format="%"),
            scale=alt.Scale(domain=[0, 1]),
        ),
    )
    sizes = ["enough devices", values[0]["size"]]
    sizes = ["enough devices"] + [
        s for s in {v["size"] for v in values} if s != sizes[0]
    ]
    bars = base.mark_bar().encode(
        color=alt.Color(
            "size:N",
            title="Cohort size",
            scale=alt.Scale(domain=sizes, range=[BAR, FADED][: len(sizes)]),
            legend=alt.Legend(orient="bottom"),
        ),
        tooltip=[
            alt.Tooltip("value:N", title=title),
            alt.Tooltip("label:N", title="Failing devices"),
            alt.Tooltip("rate:Q", title="Rate", format=".1%"),
        ],
    )
    text = base.mark_text(align="left", dx=4, color=INK).encode(text="label:N")
    devices = sum(r["devices"] for r in data.cohorts if r["cohort"] == name)
    caption = (
        f"Share of devices failing by {title} (each of the {devices} "
        f"devices by its latest attempt; the {len(rows)} largest cohorts; "
        "faded: too few devices to read a rate from)."
    )
    spec = _config((bars + text).properties(width=WIDTH - 240, height=24 * len(rows)))
    return Chart(f"cohort-{name}", f"By {title}", caption, spec)


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
