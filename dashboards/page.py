"""The dashboard as one HTML page: tiles, charts, tables, device timelines.

Everything that came from a bundle goes through `esc` (HTML) or `script_json`
(JSON inside a ``<script>``, where ``<``, ``>`` and ``&`` are written as
``\\u003c``... so a ``</script>`` in a device name cannot end the block). The
page carries a Content-Security-Policy that lets only its own two scripts run
(by their SHA-256) and fetch nothing: an injected ``<script>`` or ``onerror``
would not run even if it got through.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from importlib import resources

from .data import TIMELINE_ROWS, DashboardData
from .style import Chart
from .tiles import kpi_tiles

ASSETS = resources.files("espfleet.dashboards").joinpath("assets")
STYLE = ASSETS.joinpath("page.css").read_text(encoding="utf-8")
RENDER_JS = ASSETS.joinpath("render.js").read_text(encoding="utf-8")


def esc(value: object) -> str:
    """A value as HTML text (quotes too: safe in attributes)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return html.escape(value.strftime("%Y-%m-%d %H:%M:%S UTC"))
    if isinstance(value, date):
        return html.escape(value.isoformat())
    return html.escape(str(value), quote=True)


def script_json(value: object) -> str:
    """JSON safe inside ``<script>``: no ``<``, ``>``, ``&`` or line separators."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    for raw, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(raw, escaped)
    return text


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def anchor(bundle_id: str) -> str:
    """The id of a device attempt's timeline section (hex: always a valid id)."""
    return "attempt-" + hashlib.sha256(bundle_id.encode()).hexdigest()[:16]


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[object] | Flagged],
    numeric: frozenset[int] | set[int] = frozenset(),
    nowrap: frozenset[int] | set[int] = frozenset(),
) -> str:
    """An HTML table; cells are escaped unless given as `Markup`.

    `numeric` columns are right-aligned, `nowrap` ones kept on one line.
    """

    def css(i: int) -> str:
        return "num" if i in numeric else "nowrap" if i in nowrap else "text"

    head = "".join(
        f'<th class="num">{esc(h)}</th>' if i in numeric else f"<th>{esc(h)}</th>"
        for i, h in enumerate(headers)
    )
    body = []
    for row in rows:
        row_class = ""
        values: Sequence[object]
        if isinstance(row, Flagged):
            row_class, values = ' class="flagged"', row.cells
        else:
            values = row
        cells = "".join(
            f'<td class="{css(i)}">{v if isinstance(v, Markup) else esc(v)}</td>'
            for i, v in enumerate(values)
        )
        body.append(f"<tr{row_class}>{cells}</tr>")
    return (
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


class Markup(str):
    """HTML built here from escaped parts (never from raw bundle text)."""


class Flagged:
    """A table row shown in bold."""

    def __init__(self, cells: Sequence[object]) -> None:
        self.cells = cells


def header(data: DashboardData) -> str:
    built = data.info.get("built_at", "?")
    version = data.info.get("espfleet_version", "?")
    span = (
        f"data from {esc(data.first_day)} to {esc(data.last_day)} (UTC days with "
        "ESP attempts)"
        if not data.empty
        else "no ESP attempt in the warehouse yet"
    )
    masked = (
        " · <strong>masked</strong>: device names, serial numbers, users and "
        "tenants are pseudonyms"
        if data.masked
        else ""
    )
    return (
        "<header><h1>Autopilot ESP failures: ops review</h1>"
        f'<p class="meta">Generated {esc(data.generated_at)} · {span} · '
        f"warehouse views built {esc(built)} by espfleet {esc(version)}{masked}."
        " All times are UTC.</p></header>"
    )


def figure(chart: Chart, index: int) -> tuple[str, str]:
    """(the figure's HTML, its spec's script block)."""
    spec_id = f"spec-{index}"
    body = (
        f'<figure id="{esc(chart.key)}"><h3>{esc(chart.title)}</h3>'
        f'<div class="chart" id="chart-{esc(chart.key)}" data-spec="{spec_id}"></div>'
        f"<figcaption>{esc(chart.caption)} "
        f'<a href="{esc(chart.key)}.png">Image</a></figcaption></figure>'
    )
    script = (
        f'<script type="application/json" id="{spec_id}">'
        f"{script_json(chart.spec)}</script>"
    )
    return body, script


def page(
    data: DashboardData, charts: list[Chart], sections: list[str], bundle_js: str
) -> str:
    """The whole page. `sections` are HTML built by `panels` (escaped there)."""
    figures = [figure(c, i) for i, c in enumerate(charts)]
    by_key = {c.key: html_ for c, (html_, _s) in zip(charts, figures, strict=True)}
    body = [header(data)]
    if data.empty:
        body.append(no_data(data))
    else:
        body.append(
            "<nav><a href='#tiles'>Summary</a><a href='#trend'>Trend</a>"
            "<a href='#codes'>Error codes</a><a href='#blocking'>Steps and apps</a>"
            "<a href='#cohorts'>Cohorts</a><a href='#flags'>Rate flags</a>"
            "<a href='#chase'>Devices to chase</a><a href='#quality'>Data quality</a>"
            "</nav>"
        )
        body.append(kpi_tiles(data))
        body.append("<h2 id='trend'>Trend</h2>" + by_key.get("daily-rates", ""))
        body.append(
            "<h2 id='codes'>Error codes</h2>"
            + by_key.get("pareto", "")
            + sections[0]
            + by_key.get("heat-map", "")
        )
        body.append(
            "<h2 id='blocking'>Steps, apps and durations</h2>"
            + "".join(by_key.get(k, "") for k in ("ts-steps", "blockers", "durations"))
            + sections[1]
        )
        cohort_html = "".join(v for k, v in by_key.items() if k.startswith("cohort-"))
        body.append("<h2 id='cohorts'>Cohorts</h2>" + (cohort_html or _none("cohort")))
    body.extend(sections[2:])
    scripts = "".join(s for _h, s in figures)
    csp = content_security_policy([bundle_js, RENDER_JS])
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>espfleet ops review: {esc(data.last_day or 'no data yet')}</title>"
        f"<style>{STYLE}</style><script>{bundle_js}</script></head>"
        f"<body data-charts='rendering'>{''.join(body)}{scripts}"
        f"<script>{RENDER_JS}</script></body></html>\n"
    )


def content_security_policy(scripts: list[str]) -> str:
    """Only `scripts` run (by hash); nothing is fetched from anywhere."""
    hashes = " ".join(
        "'sha256-"
        + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()
        + "'"
        for s in scripts
    )
    # Vega compiles its expressions with Function(): hence 'unsafe-eval'.
    return (
        f"default-src 'none'; script-src {hashes} 'unsafe-eval'; "
        "style-src 'unsafe-inline'; img-src data:; font-src data:; "
        "connect-src 'none'; form-action 'none'; base-uri 'none'"
    )


def _none(what: str) -> str:
    return f"<p class='note'>No {esc(what)} data in the warehouse.</p>"


def no_data(data: DashboardData) -> str:
    seen = len(data.quarantined)
    more = (
        f" {seen} bundles were refused (quarantined): see the data-quality panel below."
        if seen
        else ""
    )
    return (
        "<div class='nodata' id='no-data'><strong>No data yet.</strong> The warehouse "
        "holds no ESP attempt: no bundle has been ingested."
        f"{esc(more)} Run <code>espfleet ingest SOURCE</code> (or wait for the "
        "nightly run) and export the dashboard again.</div>"
    )


def timeline_section(row: dict, data: DashboardData) -> str:
    """One chased device's latest attempt: its diagnosis and merged UTC timeline."""
    bundle = row["bundle_id"]
    rows = data.timelines.get(bundle, [])
    total = data.timeline_total.get(bundle, 0)
    cut = (
        f"<p class='note'>The first {TIMELINE_ROWS} of {total} rows; "
        f"<code>espfleet device {esc(row['device_key'])}</code> prints them all.</p>"
        if total > len(rows)
        else ""
    )
    cells = [
        (
            r["ts_utc"].strftime("%Y-%m-%d %H:%M:%S") if r["ts_utc"] else "unknown",
            r["source"],
            r["what"],
            r["outcome"],
            r["detail"],
        )
        for r in rows
    ]
    return (
        f"<section class='timeline' id='{anchor(bundle)}'>"
        f"<h3>{esc(row['device_name'] or row['device_key'])} · serial "
        f"{esc(row['serial_number'] or 'unknown')} · "
        f"site {esc(row['site'] or '-')}</h3>"
        f"<p><strong>{esc(row['outcome'])}</strong> "
        f"in {esc(row['failed_phase'] or '-')}"
        f" with {esc(row['error_code'] or 'no code')} on {esc(row['day'])} (UTC), "
        f"attempt {esc(row['attempts'])}: {esc(row['diagnosis'])}</p>"
        + table(
            ["time (UTC)", "source", "what", "outcome", "detail"], cells, nowrap={0}
        )
        + cut
        + "<p><a href='#chase'>Back to the devices to chase</a></p></section>"
    )
