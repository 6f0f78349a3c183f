"""The dashboard's tables: codes, durations, rate flags, devices, data quality."""

from __future__ import annotations

from .data import CHASE_LIMIT, DashboardData
from .page import Flagged, Markup, anchor, esc, pct, table, timeline_section

QUARANTINE_ROWS = 50


def codes(data: DashboardData, limit: int = 15) -> str:
    """The error codes of the failing devices with what they mean."""
    rows = data.top_codes[:limit]
    cells = [
        (
            r["error_code"] or "(no code)",
            r["symbol"] or "",
            r["meaning"] or "not in the catalogue",
            r["failed_devices"],
            pct(r["share_of_failures"]),
            r["failed_attempts"],
            r["phases"],
        )
        for r in rows
    ]
    return (
        "<p class='note'>Each failing device by its latest attempt; failed attempts "
        "count retries too. Meanings from espfleet's catalogue "
        "(<code>espfleet explain CODE</code>).</p>"
        + table(
            [
                "code",
                "symbol",
                "meaning",
                "failing devices",
                "share",
                "failed attempts",
                "phases",
            ],
            cells,
            numeric={3, 4, 5},
            nowrap={0},
        )
    )


def duration_table(data: DashboardData) -> str:
    names = {"ccmsetup": "ccmsetup", "task_sequence": "task sequence"}
    cells = [
        (
            names.get(r["component"], r["component"]),
            r["attempts"],
            r["finished"],
            _minutes(r["p50_min"]),
            _minutes(r["p90_min"]),
            _minutes(r["max_min"]),
            r["within_20pct_of_timeout"],
            r["over_timeout"],
        )
        for r in data.duration_summary
    ]
    return "<h3>Durations in minutes from the ESP start</h3>" + table(
        [
            "component",
            "attempts",
            "finished",
            "median",
            "90th percentile",
            "longest",
            "in the last 20% of the timeout",
            "over the timeout or unfinished",
        ],
        cells,
        numeric=set(range(1, 8)),
    )


def _minutes(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def flags(data: DashboardData, limit: int = 20) -> str:
    """The night-over-night and week-over-week changes, flagged ones first."""
    rows = sorted(
        data.deltas,
        key=lambda r: (not r["flagged"], -(r["rate_change"] or 0), r["phase"] or ""),
    )[:limit]
    cells = []
    for r in rows:
        cell = (
            "night" if r["period"] == "night" else "week",
            f"{r['current_start']} vs {r['previous_start']}",
            r["phase"],
            r["error_code"] or "(no code)",
            f"{pct(r['previous_rate'])} ({r['previous_failures']} of "
            f"{r['previous_devices']})",
            f"{pct(r['current_rate'])} ({r['current_failures']} of "
            f"{r['current_devices']})",
            "n/a" if r["rate_change"] is None else f"{r['rate_change'] * 100:+.1f}",
            "FLAGGED" if r["flagged"] else "",
        )
        cells.append(Flagged(cell) if r["flagged"] else cell)
    rule = (
        f"a rate up by {data.settings.get('threshold', 0.05) * 100:.1f} points or "
        f"more on at least {data.settings.get('min_devices', 3)} failing devices"
    )
    return (
        "<h2 id='flags'>Rate flags</h2><p class='note'>Failure rate per phase and "
        "code in the latest UTC day (and ISO week) against the one before, each "
        f"device once per period by its latest attempt. Flagged: {esc(rule)}. "
        f"{len(data.deltas)} changes, the {len(rows)} largest shown.</p>"
        + table(
            [
                "period",
                "days (UTC)",
                "phase",
                "code",
                "before",
                "now",
                "change (points)",
                "flag",
            ],
            cells,
            numeric={6},
            nowrap={0, 1, 3, 4, 5},
        )
    )


def chase(data: DashboardData) -> str:
    """The devices to chase, worst first, each linking to its timeline below."""
    cells = []
    for r in data.chase:
        name = r["device_name"] or r["device_key"]
        link = Markup(f"<a href='#{anchor(r['bundle_id'])}'>{esc(name)}</a>")
        cells.append(
            (
                r["rank"],
                link,
                r["site"] or "",
                r["day"],
                f"{r['failed_attempts']} of {r['attempts']}",
                r["outcome"],
                r["failed_phase"] or "",
                r["error_code"] or "",
                r["diagnosis"] or r["cause"],
                "new" if r["newly_failing"] else "",
            )
        )
    more = (
        f" The {len(data.chase)} worst of {data.chase_total} are listed; "
        "<code>espfleet report devices_to_chase</code> lists them all."
        if data.chase_total > len(data.chase)
        else ""
    )
    since = (
        f" with a latest attempt from {esc(data.chase_since)} on"
        if data.chase_since
        else ""
    )
    return (
        "<h2 id='chase'>Devices to chase</h2><p class='note'>Devices whose latest "
        f"attempt failed{since}, worst first (most failed attempts, then the most "
        "recent). A name opens that attempt's diagnosis and UTC timeline."
        + more
        + "</p>"
        + table(
            [
                "#",
                "device",
                "site",
                "latest attempt (UTC day)",
                "failed attempts",
                "outcome",
                "phase",
                "code",
                "diagnosis",
                "new",
            ],
            cells,
            numeric={0},
            nowrap={1, 2, 3, 5, 6, 7},
        )
    )


def quality(data: DashboardData) -> str:
    """Bundles refused and why, members with no parser, parse warnings."""
    q = data.quarantined[:QUARANTINE_ROWS]
    cells = [
        (
            r["site"] or "",
            r["bundle_id"][:12],
            "(masked)" if data.masked else r["source_uri"],
            r["reason"],
        )
        for r in q
    ]
    shown = f" (the latest {len(q)} shown)" if len(data.quarantined) > len(q) else ""
    parts = [
        "<h2 id='quality'>Data quality</h2>",
        f"<h3>Bundles quarantined: {len(data.quarantined)}{shown}</h3>",
        "<p class='note'>Refused bundles stay on the share; the reason is in "
        "<code>quarantine/</code> of the warehouse.</p>",
        table(["site", "bundle", "where", "reason"], cells, nowrap={0, 1})
        if cells
        else "",
    ]
    unread = data.unread_members
    parts.append(
        f"<h3>Members no parser reads: {sum(r['members'] for r in unread)}</h3>"
        "<p class='note'>Files inside ingested bundles that espfleet does not read "
        "(digits in the name written #), and why.</p>"
        + table(
            ["reason", "kind of file", "members", "bundles", "example"],
            [
                (r["reason"], r["file_kind"], r["members"], r["bundles"], r["example"])
                for r in unread
            ],
            numeric={2, 3},
        )
    )
    warned = data.parse_warnings
    total = sum(r["warnings"] + r["skipped"] for r in warned)
    parts.append(
        f"<h3>Parse warnings: {total}</h3>"
        "<p class='note'>Members read with warnings or records that could not be "
        "read (the records before the damage are kept).</p>"
        + table(
            [
                "parser",
                "members",
                "bundles",
                "warnings",
                "skipped records",
                "first warning",
            ],
            [
                (
                    r["parser"],
                    r["members"],
                    r["bundles"],
                    r["warnings"],
                    r["skipped"],
                    r["first_warning"],
                )
                for r in warned
            ],
            numeric={1, 2, 3, 4},
        )
    )
    return "".join(parts)


def timelines(data: DashboardData) -> str:
    return "".join(timeline_section(r, data) for r in data.chase[:CHASE_LIMIT])


def sections(data: DashboardData) -> list[str]:
    """The table sections in page order (page.page places the first two)."""
    if data.empty:
        return ["", "", quality(data)]
    return [
        codes(data),
        duration_table(data),
        flags(data),
        chase(data),
        quality(data),
        timelines(data),
    ]
