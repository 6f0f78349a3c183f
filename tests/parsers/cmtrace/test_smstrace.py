"""parsers/cmtrace/smstrace.py through cmtrace.parse: SMS-trace server and legacy formats."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from espfleet.parsers import cmtrace

DATA = Path(__file__).parents[2] / "data" / "cmtrace"


def rows(data: bytes) -> list[dict]:
    return cmtrace.parse(data).table.to_pylist()


def test_modern_server_log_fixture() -> None:
    res = cmtrace.parse((DATA / "sms_trace_server_modern.log").read_bytes())
    got = res.table.to_pylist()
    assert (len(got), res.skipped, res.warnings) == (5, 0, [])
    # 09:12:45.332+240 -> 13:12:45.332Z; the `~~` tail is stripped.
    assert got[0]["ts_utc"] == datetime(2023, 7, 15, 13, 12, 45, 332000, tzinfo=UTC)
    assert (got[0]["message"], got[0]["thread"]) == (
        "SMS_HIERARCHY_MANAGER started.",
        4116,
    )
    assert {r["format"] for r in got} == {"sms_trace"}


def test_two_digit_bias() -> None:
    got = rows((DATA / "sms_trace_server_modern.log").read_bytes())[3]
    assert (got["component"], got["tz_bias_min"], got["thread"]) == (
        "CMGService",
        0,
        4992,
    )
    assert got["line_no"] == 4


def test_sms1_ctime_hex_thread_marker_on_next_line() -> None:
    data = b"   ~Executing instruction~\r\n   $$<SMS_DESPOOLER><Mon Dec 04 15:41:45 1995~><thread=E0>\r\n"
    (row,) = rows(data)
    assert (row["thread"], row["format"], row["ts_confidence"]) == (
        224,
        "sms_trace_legacy",
        "unknown",
    )
    assert row["ts_local"] == datetime(1995, 12, 4, 15, 41, 45)
    assert row["message"] == "   ~Executing instruction"


def test_sms2_stamp_without_zone() -> None:
    data = b"Returning action code 2.~  $$<APM><Tue May 16 13:17:10.804 2000><thread=1512 (0x5E8)>"
    (row,) = rows(data)
    assert row["ts_local"] == datetime(2000, 5, 16, 13, 17, 10, 804000)
    assert (row["ts_utc"], row["thread"]) == (None, 1512)


def test_component_only_markers() -> None:
    data = b"Begin CliEx processing.  $$<C:\\WINNT\\MS\\SMS\\CORE\\BIN\\Boot32wn.exe>\r\nnext  $$<CliEx32.dll>\r\n"
    got = rows(data)
    assert [r["component"] for r in got] == [
        "C:\\WINNT\\MS\\SMS\\CORE\\BIN\\Boot32wn.exe",
        "CliEx32.dll",
    ]
    assert [r["ts_local"] for r in got] == [None, None]


def test_wrapped_marker_still_read() -> None:
    data = b"Loaded data dictionary   $$<SMS_DESPOOLER><Mon Dec 04\r\n   15:41:46 1995~><thread=E0>\r\n"
    (row,) = rows(data)
    assert row["ts_local"] == datetime(1995, 12, 4, 15, 41, 46)


def test_trailing_text_counts_as_skipped() -> None:
    res = cmtrace.parse(
        b"a  $$<X><01-02-2024 10:00:00.000+60><thread=1 (0x1)>\r\nhalf a message"
    )
    assert (res.table.num_rows, res.skipped) == (1, 1)
    assert res.table.column("ts_utc").to_pylist()[0] == datetime(
        2024, 1, 2, 11, 0, tzinfo=UTC
    )


def test_a_thread_id_too_big_for_its_column_is_null_and_warned() -> None:
    # Found by atheris: 20 digits overflowed the int64 column and lost the file.
    data = (
        b"ok  $$<SMS_HIERARCHY_MANAGER><07-15-2023 09:12:45.332+240>"
        b"<thread=4116 (0x1014)>\r\n"
        b"big  $$<SMS_HIERARCHY_MANAGER><07-15-2023 09:12:46.332+240>"
        b"<thread=99999999999999999999 (0x1014)>\r\n"
    )
    res = cmtrace.parse(data)
    got = res.table.to_pylist()
    assert [(r["message"], r["thread"]) for r in got] == [("ok", 4116), ("big", None)]
    assert [w.reason for w in res.warnings] == ["bad thread"]
