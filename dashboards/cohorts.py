"""The cohort charts: the failure rate per OS build, model, client, profile, site."""

from __future__ import annotations

import altair as alt

from .data import DashboardData
from .style import BAR, FADED, INK, WIDTH, Chart, config

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
    spec = config((bars + text).properties(width=WIDTH - 240, height=24 * len(rows)))
    return Chart(f"cohort-{name}", f"By {title}", caption, spec)
