"""parsers/cmtrace (parse, parse_set, sniff): CCM records, time rules, damage, fixtures."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from espfleet.parsers import cmtrace, schema
from espfleet.parsers.base import ParseContext
from espfleet.parsers.cmtrace import blocks

DATA = Path(__file__).parents[2] / "data" / "cmtrace"
LINE = (
    b"<![LOG[==========[ ccmsetup started in process 10168 ]==========]LOG]!>"
    b'<time="13:28:46.510+480" date="01-13-2023" component="ccmsetup" context="" '
    b'type="1" thread="1456" file="ccmsetup.cpp:10632">\r\n'
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def rows(data: bytes, zone: str | None = None) -> list[dict]:
    return cmtrace.parse(data, ParseContext(device_zone=zone)).table.to_pylist()


def fixture(name: str, zone: str | None = None) -> cmtrace.ParseResult:
    return cmtrace.parse((DATA / name).read_bytes(), ParseContext(name, zone))


def test_sniff_accepts_ccm_record() -> None:
    assert cmtrace.sniff(b"\xef\xbb\xbf" + LINE)


def test_sniff_accepts_file_starting_mid_record() -> None:
    assert cmtrace.sniff(b'ess.]LOG]!><time="09:15:54.190+300" date="10-03-2013"')


def test_sniff_accepts_sms_trace_marker() -> None:
    head = b"Done.~~  $$<SMS_HM><07-15-2023 09:12:45.332+240><thread=4116 (0x1014)>"
    assert cmtrace.sniff(head)


def test_sniff_rejects_near_misses() -> None:
    assert not cmtrace.sniff(b"<LOG[not quite]LOG> time=13:28:46 component=x\r\n")
    assert not cmtrace.sniff(
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00$$<x>" + bytes(range(32))
    )
    assert not cmtrace.sniff(b"2024-04-03 10:29:00, Info  CSI  setupact line\r\n")
    assert not cmtrace.sniff(b"Write-Host '$$<name> is a template' -f x\r\n")


def test_golden_bias_sign_is_windows() -> None:
    # +480 is US Pacific standard (UTC-8): 13:28:46.510 local -> 21:28:46.510Z.
    (row,) = rows(LINE)
    assert row["ts_utc"] == utc(2023, 1, 13, 21, 28, 46, 510000)
    assert row["ts_local"] == datetime(2023, 1, 13, 13, 28, 46, 510000)
    assert (row["tz_bias_min"], row["ts_confidence"]) == (480, "exact")


def test_every_field_of_a_canonical_record() -> None:
    (row,) = rows(LINE)
    assert row["message"] == "==========[ ccmsetup started in process 10168 ]=========="
    assert (row["component"], row["context"], row["severity"]) == ("ccmsetup", "", 1)
    assert (row["thread"], row["file"], row["format"]) == (
        1456,
        "ccmsetup.cpp:10632",
        "ccm",
    )
    assert (row["record_no"], row["line_no"]) == (1, 1)


def test_table_matches_schema() -> None:
    assert cmtrace.parse(LINE).table.schema == schema.CM_LOG_ENTRIES


def test_message_keeps_brackets_quotes_angles_and_newlines() -> None:
    msg = b'a ] b ]LOG] c <x y="1"> "q" [d]\r\nline 2\nline 3'
    data = LINE.replace(
        b"==========[ ccmsetup started in process 10168 ]==========", msg
    )
    assert rows(data)[0]["message"] == msg.decode()


def test_unpadded_date_2digit_bias_empty_thread_missing_type() -> None:
    data = (
        b'<![LOG[x]LOG]!><time="7:05:09.1-60" date="1-2-2015" component="a b.c" '
        b'context="" type="" thread="" file="">'
    )
    (row,) = rows(data)
    assert row["ts_utc"] == utc(2015, 1, 2, 6, 5, 9, 100000)
    assert (row["component"], row["severity"], row["thread"]) == ("a b.c", None, None)


def test_seven_digit_fraction_kept_to_the_microsecond() -> None:
    data = LINE.replace(b"13:28:46.510+480", b"13:28:46.8422964")
    (row,) = rows(data)
    assert row["ts_local"] == datetime(2023, 1, 13, 13, 28, 46, 842296)
    assert (row["ts_utc"], row["ts_confidence"], row["tz_bias_min"]) == (
        None,
        "unknown",
        None,
    )


def test_reordered_and_missing_attributes_take_the_careful_path() -> None:
    data = b'<![LOG[m]LOG]!><date="01-13-2023" time="13:28:46.510-120" component="W">'
    (row,) = rows(data)
    assert row["ts_utc"] == utc(2023, 1, 13, 11, 28, 46, 510000)  # -120 = UTC+2
    assert (row["component"], row["file"], row["thread"]) == ("W", None, None)


def test_bad_time_kept_without_timestamp_and_warned() -> None:
    data = LINE + LINE.replace(b'date="01-13-2023"', b'date="13-45-2023"')
    result = cmtrace.parse(data)
    assert result.table.column("ts_local").to_pylist()[1] is None
    assert [w.line for w in result.warnings] == [2]


def test_unterminated_last_record_skipped_and_earlier_kept() -> None:
    result = cmtrace.parse(LINE * 3 + b"<![LOG[Raising event:\r\n")
    assert (result.table.num_rows, result.skipped) == (3, 1)
    assert result.warnings[0].reason == "unterminated last record skipped"
    assert result.warnings[0].line == 4


def test_unterminated_record_not_glued_to_next() -> None:
    result = cmtrace.parse(LINE + b"<![LOG[cut here\r\n" + LINE)
    assert [r["message"][:5] for r in result.table.to_pylist()] == ["=====", "====="]
    assert (result.skipped, result.table.column("line_no").to_pylist()) == (1, [1, 3])


def test_head_truncated_fragment_recovered_as_its_own_record() -> None:
    tail = LINE[LINE.index(b"process") :]
    result = cmtrace.parse(LINE + tail + LINE)
    messages = result.table.column("message").to_pylist()
    assert messages[1] == "process 10168 ]=========="
    assert result.warnings[0].reason.startswith("head-truncated")


def test_file_starting_mid_attributes_skips_the_fragment() -> None:
    result = cmtrace.parse(b'file="x.cpp:64">\r\n' + LINE)
    assert (result.table.num_rows, result.skipped) == (1, 1)
    assert result.table.column("line_no").to_pylist() == [2]


def test_garbage_bytes_never_raise() -> None:
    data = LINE + bytes(range(256)) * 4 + b"<![LOG[\xff\xfe]LOG]!><time=" + LINE
    result = cmtrace.parse(data)
    assert result.table.num_rows == 2 and result.skipped >= 1


def test_stops_after_20_consecutive_failures() -> None:
    result = cmtrace.parse(LINE + b"<![LOG[x\n" * 30 + LINE)
    assert result.table.num_rows == 1
    assert "consecutive failures" in result.warnings[-1].reason


def test_no_bias_uses_device_zone_dst_aware() -> None:
    res = fixture("ime_7digit_nobias.log", "Asia/Jerusalem")
    got = res.table.to_pylist()
    # 9:05:01.1234567 on 4-2-2024 is IDT (UTC+3): 06:05:01.123456Z.
    assert got[0]["ts_utc"] == utc(2024, 4, 2, 6, 5, 1, 123456)
    assert {r["ts_confidence"] for r in got} == {"from_device_zone"}


def test_ambiguous_local_time_takes_first_occurrence_and_warns() -> None:
    res = fixture("ime_7digit_nobias.log", "Asia/Jerusalem")
    # 01:30 on 2024-10-27 happens twice; the first is IDT (UTC+3) -> 22:30Z.
    assert res.table.to_pylist()[2]["ts_utc"] == utc(2024, 10, 26, 22, 30)
    assert "1 ambiguous" in res.warnings[-1].reason


def test_nonexistent_local_time_uses_pre_transition_offset() -> None:
    data = LINE.replace(b"13:28:46.510+480", b"02:30:00.000").replace(
        b"01-13-2023", b"03-09-2025"
    )
    (row,) = rows(data, "America/Los_Angeles")
    assert row["ts_utc"] == utc(2025, 3, 9, 10, 30)  # read as PST, UTC-8


def test_unknown_device_zone_warns_and_leaves_utc_null() -> None:
    data = LINE.replace(b"13:28:46.510+480", b"13:28:46.510")
    result = cmtrace.parse(data, ParseContext(device_zone="Mars/Olympus"))
    assert result.table.column("ts_utc").to_pylist() == [None]
    assert "unknown device zone" in result.warnings[0].reason


def test_dst_crossing_bias_changes_mid_file() -> None:
    got = fixture("dst_crossing_us.log").table.to_pylist()
    assert [r["tz_bias_min"] for r in got] == [480, 480, 420, 420]
    assert got[1]["ts_utc"] == utc(2025, 3, 9, 9, 59, 59, 900000)
    assert got[2]["ts_utc"] == utc(2025, 3, 9, 10, 0, 0, 100000)
    assert got[3]["message"].endswith("(Error: 80070002; Source: Windows)")


def test_mdt_plus_000_is_untrusted_and_uses_device_zone() -> None:
    data = (
        b'<![LOG[Property Debug is now = FALSE]LOG]!><time="16:52:13.000+000" '
        b'date="02-07-2024" component="LiteTouch" context="" type="1" thread="" '
        b'file="LiteTouch">'
    )
    assert rows(data)[0]["ts_utc"] is None
    (row,) = rows(data, "America/Los_Angeles")
    assert (row["ts_confidence"], row["tz_bias_min"]) == ("untrusted", 0)
    assert row["ts_utc"] == utc(2024, 2, 8, 0, 52, 13)


def test_nul_padding_is_ignored() -> None:
    res = fixture("nul_padding.log")
    assert (res.table.num_rows, res.skipped, res.warnings) == (3, 0, [])


def test_lone_cr_stays_inside_the_message() -> None:
    got = fixture("lone_cr.log").table.to_pylist()
    assert got[0]["message"] == (
        "  Console > \r    0 percent completed\r  100 percent completed"
    )
    assert [r["line_no"] for r in got] == [1, 2]


def test_utf16le_bom_file() -> None:
    got = fixture("utf16le_bom.log").table.to_pylist()
    assert got[0]["message"] == "Utilisateur connecté: ÄÖÜ ✓"
    assert got[0]["ts_utc"] == utc(2023, 9, 14, 7, 15, 0, 250000)  # -60 = UTC+1
    assert (got[1]["component"], got[1]["severity"]) == ("Custom.Writer", None)


def test_cp1252_bytes_decode() -> None:
    (row,) = fixture("cp1252.log").table.to_pylist()
    assert row["message"] == "Café “quoted” €5"


def test_log_file_is_the_member_name() -> None:
    assert fixture("lone_cr.log").table.column("log_file").to_pylist() == [
        "lone_cr.log",
        "lone_cr.log",
    ]


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("*.log")))
def test_every_fixture_parses_and_sniffs(name: str) -> None:
    data = (DATA / name).read_bytes()
    assert cmtrace.sniff(data[:65536], name)
    assert cmtrace.parse(data).table.num_rows > 0


def test_stop_rule_across_small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(blocks, "BLOCK_BYTES", 64)
    data = LINE * 3 + b"<![LOG[x\n" * 30 + LINE
    result = cmtrace.parse(data)
    assert result.table.num_rows == 3
    assert result.skipped == 31  # 20 failures, then 10 openers + 1 record not read


def test_warning_list_is_bounded() -> None:
    tail = LINE[LINE.index(b"process") :]
    result = cmtrace.parse(LINE + tail * 1500)
    assert result.table.num_rows == 1501
    assert len(result.warnings) == 1000
    assert result.warnings[-1].reason == "501 more warnings not listed"
