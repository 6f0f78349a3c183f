"""Write the dashboard: index.html, a PNG per chart, summary.png for a slide.

Every file is written to a temporary name in the output folder and renamed
into place, so a reader (a share, a mail client picking the file up) never
sees a partial one; images of charts the data no longer fills are removed.
"""

from __future__ import annotations

import functools
import os
import re
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import vl_convert as vlc

from espfleet import reports
from espfleet.masking import load_key
from espfleet.warehouse import Warehouse

from . import panels
from .charts import all_charts
from .data import DashboardData, load
from .page import page
from .style import Chart
from .summary import summary_spec

INDEX = "index.html"
SUMMARY = "summary.png"
PNG_SCALE = 2
# summary.png: a 16:9 slide, this many pixels wide.
SLIDE_WIDTH, SLIDE_HEIGHT = 1920, 1080
_SVG_SIZE = re.compile(r'<svg[^>]*?\bwidth="([\d.]+)"[^>]*?\bheight="([\d.]+)"')


@dataclass(frozen=True)
class Export:
    """What `export_dashboard` wrote.

    Attributes:
        index: the HTML file.
        images: the PNGs (one per chart, then the summary).
        seconds: time taken to read, draw and write.
        empty: the warehouse held no attempt ("no data yet" page).
    """

    index: Path
    images: tuple[Path, ...]
    seconds: float
    empty: bool

    @property
    def size_bytes(self) -> int:
        return self.index.stat().st_size


@functools.cache
def vega_bundle() -> str:
    """Vega, Vega-Lite and vega-embed as one script (vl-convert's own bundle).

    It defines ``vegaEmbed`` globally; building it takes a few seconds once
    per process.
    """
    return vlc.javascript_bundle()  # type: ignore[call-arg]  # snippet is optional


def _write(path: Path, content: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        tmp.write_bytes(content)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def png(spec: dict, scale: float = PNG_SCALE) -> bytes:
    """A Vega-Lite spec as PNG (vl-convert writes no text chunks)."""
    return vlc.vegalite_to_png(spec, scale=scale)


def slide_png(spec: dict) -> bytes:
    """`spec` as a SLIDE_WIDTH x SLIDE_HEIGHT PNG, whatever size it draws at.

    Vega sizes a composition to its content; the drawing is measured once (as
    SVG), padded with white to 16:9 and scaled to the slide's width.
    """
    vega = vlc.vegalite_to_vega(spec)
    match = _SVG_SIZE.search(vlc.vega_to_svg(vega))
    if match is None:  # pragma: no cover - vl-convert always writes both
        raise ValueError("vl-convert wrote an SVG with no size")
    width, height = float(match.group(1)), float(match.group(2))
    ratio = SLIDE_WIDTH / SLIDE_HEIGHT
    pad = spec.get("padding", 0)
    extra_x = max(height * ratio - width, 0) / 2
    extra_y = max(width / ratio - height, 0) / 2
    vega["padding"] = {
        "left": pad + extra_x,
        "right": pad + extra_x,
        "top": pad + extra_y,
        "bottom": pad + extra_y,
    }
    return vlc.vega_to_png(vega, scale=SLIDE_WIDTH / (width + 2 * extra_x))


def _summary(data: DashboardData, charts: list[Chart]) -> dict:
    spec = summary_spec(data, charts)
    datasets: dict = {}
    for chart in charts:
        datasets |= chart.spec.get("datasets", {})
    if datasets:
        spec["datasets"] = datasets
    return spec


def render(data: DashboardData, out: Path) -> tuple[Path, tuple[Path, ...]]:
    """Write `data` as the dashboard into `out`; returns (index, images)."""
    out.mkdir(parents=True, exist_ok=True)
    charts = all_charts(data)
    images = []
    for chart in charts:
        path = out / f"{chart.key}.png"
        _write(path, png(chart.spec))
        images.append(path)
    if not data.empty and charts:
        _write(out / SUMMARY, slide_png(_summary(data, charts)))
        images.append(out / SUMMARY)
    html = page(data, charts, panels.sections(data), vega_bundle())
    _write(out / INDEX, html.encode("utf-8"))
    keep = {p.name for p in images}
    for old in out.glob("*.png"):
        if old.name not in keep:
            old.unlink()
    return out / INDEX, tuple(images)


def export_dashboard(
    warehouse: Path,
    out: Path | None = None,
    since: date | None = None,
    mask: bool = False,
    threshold: float = reports.DEFAULT_DELTA_THRESHOLD,
    min_devices: int = reports.DEFAULT_MIN_DEVICES,
    now: datetime | None = None,
) -> Export:
    """Export the ops-review dashboard of `warehouse`.

    Args:
        warehouse: the warehouse folder.
        out: the output folder (default ``<warehouse>/dashboard``).
        since: first UTC day of the daily charts and of the devices to chase
            (default: the 30 days up to the latest night; every failing device).
        mask: replace device names, serials, users and tenants by pseudonyms
            (espfleet.masking; the key is created in the warehouse once).
        threshold, min_devices: the rate-flag rule (RunSettings).
        now: the generation time shown (default: now).

    Raises:
        WarehouseError: no warehouse database in `warehouse`.
    """
    started = time.perf_counter()
    out = out or warehouse / "dashboard"
    with Warehouse(warehouse).connect() as con:
        key = load_key(warehouse) if mask else None
        data = load(con, since, key, threshold, min_devices, now)
    index, images = render(data, out)
    return Export(index, images, time.perf_counter() - started, data.empty)
