"""Setup logs -> setup_log_entries: the layout, CSI stamps, zone lines, damage."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from espfleet.parsers import PARSERS, setuplog
from espfleet.parsers.base import ParseContext
from tests.conftest import corpus_file

FIXTURE = Path(__file__).resolve().parent.parent / "data" / "setuplog"
CSI_ZONE = (FIXTURE / "setupact_csi_zone_change.log").read_bytes()


def parse(data: bytes, name: str = "setupact.log"):
    return setuplog.parse(data, ParseContext(name))


def test_sniff_by_name_by_first_line_and_a_near_miss():
    assert setuplog.sniff(b"anything", "x.cab/setupact.log")
    assert setuplog.sniff(b"anything", "Panther/SETUPERR.LOG")
    assert setuplog.sniff(CSI_ZONE[:200], "CBS.log")
    # A CMTrace line is not a setup line, and the dispatch leaves it to CMTrace.
    ccm = b'<![LOG[x]LOG]!><time="08:00:00.000+480" date="11-20-2026" component="c">'
    assert not setuplog.sniff(ccm, "ccmsetup.log")
    assert next(p for p in PARSERS if p.sniff(CSI_ZONE, "CBS.log")).name == "setuplog"


def test_fixture_lines_give_every_column():
    result = parse(CSI_ZONE)
    rows = result.table.to_pylist()
    assert (len(rows), result.skipped, result.warnings) == (15, 0, [])
    by_line = {r["line_no"]: r for r in rows}
    first = by_line[1]
    assert (first["level"], first["component"], first["process"]) == (
        "Info",
        None,
        "windeploy.exe",
    )
    assert first["ts_local"] == datetime(2025, 10, 21, 8, 0, 1)
    assert first["message"] == "[windeploy.exe] " + "-" * 48
    csi = by_line[3]
    assert (csi["component"], csi["csi_sequence"], csi["csi_utc"]) == (
        "CSI",
        1,
        datetime(2025, 10, 21, 15, 0, 5, 122000, tzinfo=UTC),
    )
    assert (csi["ts_utc"], csi["ts_confidence"]) == (csi["csi_utc"], "exact")
    assert csi["message"] == "WcpInitialize: wcp.dll version 0.0.0.6"
    unstamped = by_line[4]
    assert (unstamped["csi_sequence"], unstamped["csi_utc"]) == (2, None)
    assert unstamped["ts_confidence"] == "unknown" and unstamped["ts_utc"] is None
    assert by_line[6]["component"] == "DISM"
    assert (by_line[7]["level"], by_line[11]["level"]) == ("Warning", "Error")
    assert by_line[11]["message"].startswith("0x80070002 in PbrGetOSMetadata")
    mig = by_line[13]
    assert (mig["message_id"], mig["component"], mig["message"]) == (
        "0x080489",
        "MIG",
        "Setting system object filter context (System)",
    )
    assert by_line[15]["message"] == "[PowerSourceIsUnreliable]: [True]"


def test_both_zone_line_shapes_name_the_zone():
    rows = parse(CSI_ZONE).table.to_pylist()
    named = [(r["line_no"], r["zone_set"]) for r in rows if r["zone_set"]]
    assert named == [
        (9, "W. Europe Standard Time"),
        (14, "W. Europe Standard Time"),
    ]


def test_utf16_copy_reads_the_same():
    text = CSI_ZONE.decode("utf-8-sig")
    utf16 = b"\xff\xfe" + text.encode("utf-16-le")
    assert parse(utf16).table == parse(CSI_ZONE).table


def test_a_log_cut_mid_line_keeps_every_line_before_and_counts_the_cut():
    cut = CSI_ZONE[: CSI_ZONE.rindex(b"\r\n", 0, len(CSI_ZONE) - 2) + 20]
    result = parse(cut)
    assert result.table.num_rows == 14  # the 15th line lost its time: skipped
    assert result.skipped == 1
    assert result.warnings[0].reason == "not a setup log line"


def test_a_cut_that_leaves_a_whole_prefix_keeps_the_line_and_warns():
    cut = CSI_ZONE[: len(CSI_ZONE) - 8]
    result = parse(cut)
    assert (result.table.num_rows, result.skipped) == (15, 0)
    assert result.warnings[-1].reason == "last line has no line end (file cut?)"


def test_lines_in_an_unknown_shape_are_skipped_and_counted():
    lines = CSI_ZONE.split(b"\r\n")
    junk = [b"<html>", b"  continuation of nothing", b"2025/10/21 08:00 Info x"]
    damaged = b"\r\n".join(lines[:4] + junk + lines[4:])
    result = parse(damaged)
    assert (result.table.num_rows, result.skipped) == (15, 3)
    assert [w.line for w in result.warnings] == [5, 6, 7]


def test_twenty_bad_lines_in_a_row_end_the_parse():
    data = b"\r\n".join([b"not a setup line"] * 30)
    result = parse(data)
    assert result.table.num_rows == 0 and result.skipped == 20
    assert result.warnings[-1].reason.startswith("gave up after 20")


@pytest.mark.parametrize(
    ("sample", "lines", "zones"),
    [
        ("cab/extracted_Gsagar109-Public/setupact.log", 3563, 7),
        ("cab/extracted_itziktdk-MyRes/setupact.log", 308, 0),
        ("cab/extracted_joopjaeng-jaeng/setupact.log", 320, 0),
    ],
)
def test_real_setupact_logs_read_every_line(corpus, sample, lines, zones):
    result = parse(corpus_file(corpus, sample).read_bytes())
    table = result.table
    assert (table.num_rows, result.skipped) == (lines, 0)
    assert sum(z is not None for z in table.column("zone_set").to_pylist()) == zones


def test_real_csi_line_without_a_stamp(corpus):
    data = corpus_file(
        corpus, "cab/extracted_Gsagar109-Public/setupact.log"
    ).read_bytes()
    rows = [r for r in parse(data).table.to_pylist() if r["component"] == "CSI"]
    assert [(r["line_no"], r["csi_sequence"], r["csi_utc"]) for r in rows] == [
        (1087, 1, None),
        (2597, 1, None),
    ]
    assert rows[0]["message"].startswith("Shim considered [l:123]")
