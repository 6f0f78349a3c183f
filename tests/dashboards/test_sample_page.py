"""The committed sample's dashboard in Debian's chromium: the numbers a reader
sees are the sample's own (data/sample/ground_truth.csv), every chart is drawn
with its axis titles and caption, and nothing is fetched."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime

import pytest

from espfleet.dashboards import export_dashboard
from tests.fixtures import SAMPLE, ground_truth

from .test_browser import MARKS, failing_codes, open_page

GENERATED = datetime(2025, 11, 3, 6, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def sample_page(sample_warehouse, browser, artifacts):
    result = export_dashboard(sample_warehouse, artifacts / "sample", now=GENERATED)
    context, page, errors, outside, _seconds = open_page(browser, result.index)
    page.screenshot(path=str(artifacts / "sample.png"), full_page=True)
    yield page, errors, outside, result
    context.close()


def latest_failing(truth: list[dict]) -> dict[str, dict]:
    """serial -> the latest attempt, for devices whose latest attempt failed."""
    latest: dict[str, dict] = {}
    for r in truth:
        if r["expected_status"] == "ingested" and (
            r["serial_number"] not in latest
            or r["started_at"] > latest[r["serial_number"]]["started_at"]
        ):
            latest[r["serial_number"]] = r
    return {
        s: r for s, r in latest.items() if r["outcome"] in ("failed", "unsupported")
    }


def tiles(page) -> dict[str, tuple[str, str]]:
    """Tile label -> (value, the line under it)."""
    found = {}
    for tile in page.locator(".tile").all():
        label = tile.locator(".label").inner_text().strip().lower()
        found[label] = (
            tile.locator(".value").inner_text().strip(),
            " ".join(tile.locator(".sub").inner_text().split()),
        )
    return found


def test_the_header_states_the_generation_time_and_the_data_range(sample_page):
    page, errors, outside, _ = sample_page
    assert errors == [] and outside == []
    meta = " ".join(page.locator("header .meta").inner_text().split())
    assert meta.startswith(
        "Generated 2025-11-03 06:30:00 UTC · data from 2025-10-21 to 2025-11-02 "
        "(UTC days with ESP attempts)"
    )
    assert meta.endswith("All times are UTC.")


def test_the_tiles_show_the_samples_numbers_with_their_populations(sample_page):
    page = sample_page[0]
    truth = ground_truth(SAMPLE / "ground_truth.csv")
    failing = latest_failing(truth)
    assert len(failing) == 11
    shown = tiles(page)
    assert shown["attempts, latest night"] == (
        "2",
        "ESP attempts that started on 2025-11-02 (UTC), by 2 devices (0 retried)",
    )
    assert shown["success rate, latest night"][0] == "50.0%"
    assert shown["success rate, latest night"][1].startswith("1 of 2 devices")
    assert shown["failures, latest night"] == (
        "1",
        "of 2 devices on 2025-11-02 (50.0%)",
    )
    value, sub = shown["top error"]
    assert value == "0x800705B4"
    assert sub.startswith("10 of 11 failing devices (latest attempts): ")
    assert "ERROR_TIMEOUT" in sub
    assert sum(r["error_code"] == "0x800705B4" for r in failing.values()) == 10
    assert shown["since the previous night"] == (
        "-30.0 points",
        "failure rate 50.0% (1 of 2 devices, day 2025-11-02) against 80.0% "
        "(4 of 5, day 2025-11-01)",
    )
    assert shown["since the week before"][0] == "+31.7 points"
    assert shown["rate flags"][0] == "1"


def test_every_chart_is_drawn_with_axis_titles_and_a_caption(sample_page):
    page = sample_page[0]
    marks = page.evaluate(MARKS)
    assert [m[0] for m in marks] == [
        "chart-daily-rates",
        "chart-pareto",
        "chart-heat-map",
        "chart-ts-steps",
        "chart-blockers",
        "chart-durations",
        "chart-cohort-os_build",
        "chart-cohort-model",
        "chart-cohort-manufacturer",
        "chart-cohort-client_version",
        "chart-cohort-autopilot_profile",
        "chart-cohort-site",
    ]
    assert all(rendered == "yes" and count > 0 for _c, rendered, count in marks)
    for figure in page.locator("figure").all():
        key = figure.get_attribute("id")
        titles = figure.locator("g.role-axis-title text").all_text_contents()
        assert titles and all(t.strip() for t in titles), key
        caption = figure.locator("figcaption").inner_text()
        assert len(caption.split()) >= 10, key
    daily = page.locator("#daily-rates g.role-axis-title text").all_text_contents()
    assert "Day (UTC)" in daily


def test_the_pareto_and_heat_map_hold_the_samples_codes(sample_page):
    page = sample_page[0]
    truth = ground_truth(SAMPLE / "ground_truth.csv")
    bars = page.locator("#chart-pareto g.mark-rect.role-mark path")
    assert bars.count() == len(failing_codes(truth)) == 2
    labels = page.locator(
        "#chart-pareto g.mark-text.role-mark text"
    ).all_text_contents()
    assert labels == ["10", "1"]
    cells = page.locator(
        "#chart-heat-map g.mark-text.role-mark text"
    ).all_text_contents()
    assert sorted(cells) == ["1", "2", "8"]
    codes = page.locator("#codes ~ table").first.locator("tbody tr")
    assert codes.count() == 2
    first = codes.first.locator("td").all_inner_texts()
    assert first[:2] == ["0x800705B4", "HRESULT_FROM_WIN32(ERROR_TIMEOUT)"]
    assert first[2].startswith("A wait ran out of time (Win32 1460).")
    assert first[3:6] == ["10", "90.9%", "11"]


def luminance(colour: str) -> float:
    """Relative luminance (WCAG) of ``#rrggbb`` or ``rgb(r, g, b)``: its grey."""
    if colour.startswith("#"):
        rgb = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    else:
        rgb = [int(v) / 255 for v in re.findall(r"\d+", colour)[:3]]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def test_colours_that_tell_series_apart_differ_in_grey_too(sample_page):
    page = sample_page[0]
    for chart in ("daily-rates", "ts-steps", "durations"):
        fills = set(
            page.locator(f"#chart-{chart} g.role-legend-symbol path").evaluate_all(
                "els => els.map(e => getComputedStyle(e).fill)"
            )
        )
        assert len(fills) >= 2, chart
        greys = sorted(luminance(f) for f in fills)
        assert min(b - a for a, b in itertools.pairwise(greys)) > 0.2, (chart, fills)


def test_the_devices_to_chase_are_the_failing_devices_worst_first(sample_page):
    page = sample_page[0]
    failing = latest_failing(ground_truth(SAMPLE / "ground_truth.csv"))
    rows = page.locator("#chase + p + table tbody tr")
    assert rows.count() == len(failing) == 11
    first = rows.first.locator("td").all_inner_texts()
    assert first[:8] == [
        "1",
        "TLV-5CG2405W3Q",
        "IL-TLV",
        "2025-11-02",
        "1 of 1",
        "failed",
        "DevicePreparation",
        "0x800705B4",
    ]
    names = {" ".join(r.locator("td").nth(1).inner_text().split()) for r in rows.all()}
    assert names == {r["device_name"] for r in failing.values()}
    rows.first.get_by_role("link", name="TLV-5CG2405W3Q").click()
    section = page.locator("section.timeline:target")
    assert section.count() == 1 and section.is_visible()
    text = section.inner_text()
    assert "ccmsetup.msi never ran" in text and "time (UTC)" in text
    assert section.locator("tbody tr").count() > 5


def test_rate_flags_and_data_quality_panels(sample_page):
    page = sample_page[0]
    flagged = page.locator("#flags + p + table tr.flagged")
    assert flagged.count() == 1
    assert flagged.locator("td").all_inner_texts() == [
        "week",
        "2025-10-27 vs 2025-10-20",
        "DevicePreparation",
        "0x800705B4",
        "11.1% (2 of 18)",
        "28.6% (6 of 21)",
        "+17.5",
        "FLAGGED",
    ]
    quality = page.locator("#quality ~ table").all()
    quarantined = quality[0].locator("tbody tr")
    assert quarantined.count() == 1
    assert (
        quarantined.first.locator("td")
        .nth(3)
        .inner_text()
        .endswith("unreadable archive: Truncated CAB header")
    )
    headings = page.locator("#quality ~ h3").all_inner_texts()
    assert headings == [
        "Bundles quarantined: 1",
        "Members no parser reads: 12",
        "Parse warnings: 3",
    ]


def test_the_file_refers_to_nothing_outside_itself_but_its_images(sample_page):
    result = sample_page[3]
    html = result.index.read_text(encoding="utf-8")
    # The page's own markup: every script's body removed (the inlined Vega).
    markup = re.sub(r"(?s)(<script[^>]*>).*?</script>", r"\1</script>", html)
    assert markup.count("<script") == len(re.findall(r"<script[^>]*>", html))
    refs = re.findall(r"""\b(?:src|href|action|data)\s*=\s*["']?([^"'\s>]+)""", markup)
    outside = [r for r in refs if not r.startswith("#")]
    assert outside and all(
        re.fullmatch(r"[a-z0-9-_]+\.png", r) and (result.index.parent / r).is_file()
        for r in outside
    ), outside
    assert "<script src" not in markup and "<link" not in markup
    assert "connect-src 'none'" in markup and "default-src 'none'" in markup
