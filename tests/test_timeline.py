"""The terminal timeline: plain text only, 100 columns, control characters gone."""

from __future__ import annotations

from datetime import UTC, datetime

from espfleet import timeline


def row(**values) -> dict:
    base = {
        "ts_utc": datetime(2026, 11, 20, 8, 0, 5, tzinfo=UTC),
        "ts_local": None,
        "clock_offset_s": None,
        "minutes_since_start": 0.2,
        "source": "log:x.cab/IntuneManagementExtension.log",
        "what": "IntuneManagementExtension",
        "outcome": "warning",
        "detail": "ok",
    }
    return base | values


def test_a_log_line_cannot_move_the_cursor_or_become_markup():
    evil = "[bold red]x[/]\x1b[2J\x1b]0;title\x07\r\nnext"
    (line,) = [
        x for x in timeline.compact([row(detail=evil)]) if x.startswith("  08:00:05")
    ]
    assert "\x1b" not in line and "\x07" not in line and "\n" not in line
    assert "[bold red]x[/]" in line  # printed as text (console.print(markup=False))


def test_every_compact_line_fits_100_columns():
    long = "word " * 80
    lines = timeline.compact(
        [row(what=long, source="event:" + long, outcome=long, detail=long)]
    )
    assert max(len(x) for x in lines) == 100


def test_the_date_is_printed_once_per_day_and_unknown_times_say_so():
    rows = [
        row(),
        row(ts_utc=datetime(2026, 11, 21, 0, 0, 1, tzinfo=UTC)),
        row(ts_utc=None, ts_local=datetime(2026, 11, 21, 1, 2, 3)),
    ]
    lines = timeline.compact(rows)
    assert lines.count("2026-11-20 (UTC)") == 1 and lines.count("2026-11-21 (UTC)") == 1
    assert any(x.startswith("  (01:02)") for x in lines)
