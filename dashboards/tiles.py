"""The KPI tiles at the top of the page, each with the population it counts."""

from __future__ import annotations

import html

from .data import DashboardData


def _e(value: object) -> str:
    return "" if value is None else html.escape(str(value), quote=True)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _points(change: float | None) -> str:
    if change is None:
        return "n/a"
    return f"{change * 100:+.1f} points"


def tile(label: str, value: str, sub: str, css: str = "") -> str:
    """One tile; every argument is plain text (escaped here)."""
    return (
        f"<div class='tile {_e(css)}'><div class='label'>{_e(label)}</div>"
        f"<div class='value'>{_e(value)}</div><div class='sub'>{_e(sub)}</div></div>"
    )


def _change_tile(data: DashboardData, period: str) -> str:
    rows = [r for r in data.rate_changes if r["period"] == period]
    label = "Since the previous night" if period == "night" else "Since the week before"
    if not rows:
        return tile(label, "n/a", "no attempts")
    r = rows[0]
    unit = "day" if period == "night" else "week of"
    if r["previous_rate"] is None:
        sub = (
            f"{_pct(r['current_rate'])} ({r['current_failures']} of "
            f"{r['current_devices']} devices) in the {unit} {r['current_start']}; "
            f"no attempts in the {unit} {r['previous_start']} to compare with"
        )
        return tile(label, "no baseline", sub)
    sub = (
        f"failure rate {_pct(r['current_rate'])} ({r['current_failures']} of "
        f"{r['current_devices']} devices, {unit} {r['current_start']}) against "
        f"{_pct(r['previous_rate'])} ({r['previous_failures']} of "
        f"{r['previous_devices']}, {unit} {r['previous_start']})"
    )
    css = "up" if (r["rate_change"] or 0) > 0 else ""
    return tile(label, _points(r["rate_change"]), sub, css)


def kpi_tiles(data: DashboardData) -> str:
    """The tiles: the latest night, its top error, the changes and the flags."""
    night = data.days[-1] if data.days else None
    tiles = []
    if night is not None:
        day = night["day"]
        tiles.append(
            tile(
                "Attempts, latest night",
                f"{night['attempts']}",
                f"ESP attempts that started on {day} (UTC), by "
                f"{night['devices']} devices ({night['retried_devices']} retried)",
            )
        )
        ok = night["devices"] - night["failed_devices"]
        tiles.append(
            tile(
                "Success rate, latest night",
                _pct(ok / night["devices"]),
                f"{ok} of {night['devices']} devices did not fail, each by its "
                f"latest attempt on {day}",
            )
        )
        tiles.append(
            tile(
                "Failures, latest night",
                f"{night['failed_devices']}",
                f"of {night['devices']} devices on {day} "
                f"({_pct(night['failure_rate'])})",
            )
        )
    if data.top_codes:
        top = max(
            data.top_codes, key=lambda r: (r["failed_devices"], r["error_code"] or "")
        )
        failing = sum(r["failed_devices"] for r in data.top_codes)
        meaning = (top["meaning"] or "not in the catalogue").split(". ")[0]
        tiles.append(
            tile(
                "Top error",
                top["error_code"] or "(no code)",
                f"{top['failed_devices']} of {failing} failing devices (latest "
                f"attempts): {top['symbol'] or ''} {meaning}",
            )
        )
    tiles.append(_change_tile(data, "night"))
    tiles.append(_change_tile(data, "week"))
    flagged = [r for r in data.deltas if r["flagged"]]
    rule = (
        f"phase x code rates up {data.settings.get('threshold', 0.05) * 100:.1f} "
        f"points or more on {data.settings.get('min_devices', 3)}+ failing devices"
    )
    tiles.append(tile("Rate flags", str(len(flagged)), rule, "up" if flagged else ""))
    return "<h2 id='tiles'>Summary</h2><div class='tiles'>" + "".join(tiles) + "</div>"
