"""The dashboard in a real browser: Debian's chromium, headless, no network."""

from __future__ import annotations

import struct
import time
from datetime import date
from pathlib import Path

from espfleet.dashboards import export_dashboard
from espfleet.warehouse import Warehouse

from .conftest import LOG_PAYLOAD, NAME_PAYLOAD, STEP_PAYLOAD

MARKS = """
Array.from(document.querySelectorAll('[data-spec]')).map(el => [
  el.id, el.dataset.rendered,
  el.querySelectorAll('g.role-mark > path, g.role-mark > rect, g.role-mark > text').length
])
"""


def open_page(browser, index: Path):
    """The page, with every console message and request outside the file kept."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    outside: list[str] = []

    def refuse(route) -> None:
        outside.append(route.request.url)
        route.abort()

    context.route("http*://**", refuse)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    started = time.perf_counter()
    page.goto(index.as_uri())
    page.wait_for_function("document.body.dataset.charts === 'done'", timeout=30000)
    seconds = time.perf_counter() - started
    return context, page, errors, outside, seconds


def failing_codes(truth: list[dict]) -> set[str]:
    """Error codes of the devices whose latest attempt failed (ground truth)."""
    latest: dict[str, dict] = {}
    for r in truth:
        if r["expected_status"] == "ingested":
            if (
                r["serial_number"] not in latest
                or r["started_at"] > latest[r["serial_number"]]["started_at"]
            ):
                latest[r["serial_number"]] = r
    return {
        r["error_code"]
        for r in latest.values()
        if r["outcome"] in ("failed", "unsupported")
    }


def test_the_page_draws_every_chart_offline_and_planted_markup_stays_text(
    planted, browser, artifacts, capsys
):
    out = artifacts / "planted"
    result = export_dashboard(planted["warehouse"], out)
    context, page, errors, outside, seconds = open_page(browser, result.index)
    with capsys.disabled():
        print(f"\ndashboard test artifacts: {artifacts} (drawn in {seconds:.2f} s)")
    page.screenshot(path=str(artifacts / "dashboard.png"), full_page=True)

    assert errors == []
    assert outside == []  # nothing fetched: the page is one file
    marks = page.evaluate(MARKS)
    assert len(marks) >= 8
    for chart, rendered, count in marks:
        assert rendered == "yes", chart
        assert count > 0, chart
    # The Pareto has one bar per error code of the failing devices.
    pareto = page.locator("#chart-pareto g.mark-rect.role-mark path").count()
    assert pareto == len(failing_codes(planted["truth"]))

    # Markup from the bundle: shown as text, never run, never an element.
    assert page.evaluate("window.__pwned") is None
    assert page.locator("img[src='x']").count() == 0
    assert page.evaluate("document.querySelectorAll('script:not([type])').length") == 2
    chase = page.locator("#chase + p + table")
    assert NAME_PAYLOAD in chase.inner_text()

    # The device links open that device's timeline in the same file.
    link = chase.get_by_role("link", name=NAME_PAYLOAD)
    target = link.get_attribute("href")
    assert target and target.startswith("#attempt-")
    section = page.locator(target)
    assert not section.is_visible()
    link.click()
    assert page.evaluate("location.hash") == target
    assert section.is_visible()
    assert NAME_PAYLOAD in section.locator("h3").inner_text()
    assert LOG_PAYLOAD in section.inner_text()
    assert section.locator("b, img").count() == 0
    assert page.evaluate("window.__pwned") is None
    page.screenshot(path=str(artifacts / "timeline.png"), full_page=False)
    section.get_by_role("link", name="Back to the devices to chase").click()
    first = chase.locator("tbody tr").first.get_by_role("link")
    first.click()
    assert page.locator(first.get_attribute("href") or "").is_visible()
    assert not section.is_visible()
    assert errors == []
    context.close()


def test_a_planted_step_name_is_text_in_charts_tooltips_and_diagnosis(
    planted, browser, artifacts
):
    result = export_dashboard(planted["warehouse"], artifacts / "planted-step")
    context, page, errors, _outside, _seconds = open_page(browser, result.index)
    chart = page.locator("#chart-ts-steps")
    labels = chart.locator("g.role-axis-label text").all_text_contents()
    assert any(label.startswith("<img src=x") for label in labels), labels
    # The bar's tooltip (vega-tooltip, HTML) shows the name as text.
    tooltip = page.locator("#vg-tooltip-element")
    shown = []
    for bar in chart.locator("g.mark-rect.role-mark path").all():
        label = bar.get_attribute("aria-label") or ""
        if STEP_PAYLOAD in label and "Attempts: 0;" not in label:
            bar.hover()
            tooltip.wait_for(state="visible")
            shown.append(tooltip.inner_text())
    assert any(STEP_PAYLOAD in text for text in shown), shown
    assert tooltip.locator("img, i").count() == 0
    page.screenshot(path=str(artifacts / "tooltip.png"))
    # The diagnosis of the devices to chase names the step, as text.
    chase = page.locator("#chase + p + table")
    assert STEP_PAYLOAD in chase.inner_text()
    assert page.locator("img[src='x'], td i").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert errors == []
    context.close()


def test_an_empty_warehouse_gives_a_no_data_page(tmp_path, browser, artifacts):
    wh = Warehouse(tmp_path / "warehouse")
    wh.ensure_tables("20260101T000000Z-empty000", date(2026, 1, 1))
    wh.refresh()
    result = export_dashboard(wh.root)
    assert result.empty
    assert result.images == ()
    context, page, errors, outside, _seconds = open_page(browser, result.index)
    page.screenshot(path=str(artifacts / "no-data.png"))
    assert errors == [] and outside == []
    assert "No data yet." in page.locator("#no-data").inner_text()
    assert page.locator("[data-spec]").count() == 0
    context.close()


def test_the_summary_and_chart_images_are_written(planted, tmp_path):
    result = export_dashboard(planted["warehouse"], tmp_path / "dash")
    names = sorted(p.name for p in result.images)
    assert (
        "summary.png" in names and "pareto.png" in names and "daily-rates.png" in names
    )
    for image in result.images:
        assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # A 16:9 slide: the IHDR chunk's width and height.
    head = (tmp_path / "dash" / "summary.png").read_bytes()[16:24]
    assert struct.unpack(">II", head) == (1920, 1080)
    assert (tmp_path / "dash" / "index.html").is_file()
    assert not list((tmp_path / "dash").glob(".*.tmp"))
