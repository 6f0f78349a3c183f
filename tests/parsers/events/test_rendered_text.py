"""parsers/events/rendered_text.py: [ETW] lines (wrapped, timestamped) and wevtutil text."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from espfleet.parsers.base import ParseContext
from espfleet.parsers.events import rendered_text

DATA = Path(__file__).parents[2] / "data" / "events"
LINE = (
    "[ETW] [Microsoft-Windows-Shell-Core] [Informational] - CloudExperienceHost Web "
    "App Event 2. Name: 'CDJUIError', Value: '80180014'."
)


def rows(name: str, context: ParseContext | None = None) -> list[dict]:
    return rendered_text.parse((DATA / name).read_bytes(), context).table.to_pylist()


def test_sniff_accepts_etw_line():
    assert rendered_text.sniff(LINE.encode())


def test_sniff_rejects_cmtrace_and_binary():
    assert not rendered_text.sniff(
        b'<![LOG[ETW]LOG]!><time="10:00:00.000+000" date="1-1-2024">'
    )
    assert not rendered_text.sniff(b"[ETW] no brackets here\r\n")
    assert not rendered_text.sniff(b"ElfFile\x00" + LINE.encode())


def test_sniff_accepts_wevtutil_blocks():
    assert rendered_text.sniff((DATA / "wevtutil_text_shellcore.txt").read_bytes())


def test_single_line_decodes():
    (row,) = rendered_text.parse(LINE.encode()).table.to_pylist()
    assert (row["event_id"], row["name"], row["value"]) == (
        62407,
        "CDJUIError",
        "80180014",
    )
    assert (row["level"], row["error_code_hex"]) == (4, "0x80180014")


def test_golden_paste_counts():
    result = rendered_text.parse((DATA / "etw_shellcore_paste.txt").read_bytes())
    assert (result.table.num_rows, result.skipped) == (6, 0)
    assert [w.reason for w in result.warnings] == ["1 lines outside any event ignored"]


def test_wrapped_timed_out_is_rejoined():
    # [ETW] ... Name:\n'CommercialOOBE_..._TimedOut', Value: '{"message":\n"BootstrapStatus: ..."}'.
    row = rows("etw_shellcore_paste.txt")[0]
    assert row["name"].endswith("PolicyProvidersInstallation_TimedOut")
    assert row["value"].endswith('"errorCode":2147943860}')
    assert row["error_code_hex"] == "0x800705B4"
    assert row["channel"] == "Microsoft-Windows-Shell-Core/Operational"


def test_timestamp_variants_are_utc():
    found = rows("etw_shellcore_paste.txt")
    got = [r["ts_utc"] for r in found]
    assert got[2] == datetime(2022, 8, 2, 13, 28, 10, 335073, tzinfo=UTC)
    assert got[3] == datetime(2022, 8, 2, 13, 29, 11, tzinfo=UTC)
    assert got[0] is None
    assert [r["ts_confidence"] for r in found[:4]] == [
        "unknown",
        "unknown",
        "exact",
        "exact",
    ]


def test_signed_negative_error_code():
    row = rows("etw_shellcore_paste.txt")[3]
    assert (row["error_code"], row["error_code_hex"]) == (0x80070005, "0x80070005")


def test_value_with_quotes_kept_whole():
    row = rows("etw_shellcore_paste.txt")[4]
    assert row["value"] == "We couldn't reach 'login.microsoftonline.com'. Try again."


def test_other_provider_line_kept_as_message():
    row = rows("etw_shellcore_paste.txt")[5]
    assert row["event_id"] is None and row["message"].startswith("The following URI")
    assert row["provider"].endswith("DeviceManagement-Enterprise-Diagnostics-Provider")


def test_hard_wrapped_utf16_line():
    (row,) = rows("etw_hardwrap_utf16le.txt")
    assert (
        row["name"] == "CommercialOOBE_ESPDeviceSetup_ApplicationsInstallation_Failed"
    )
    assert row["error_code_hex"] == "0x80070002"


def test_wevtutil_blocks_with_zone():
    got = rows("wevtutil_text_shellcore.txt", ParseContext(device_zone="Europe/Berlin"))
    assert [r["event_id"] for r in got] == [62407, 171, 62404]
    # Date: 2024-04-03T09:41:12.123 local (CEST, UTC+2)
    assert got[0]["ts_utc"] == datetime(2024, 4, 3, 7, 41, 12, 123000, tzinfo=UTC)
    assert got[0]["name"] == "CommercialOOBE_ESPDeviceSetup_RebootCoalescing_Required"
    assert {r["ts_confidence"] for r in got} == {"from_device_zone"}


def test_wevtutil_hresult_and_meaning():
    row = rows("wevtutil_text_shellcore.txt")[1]
    assert (row["level"], row["error_code_hex"], row["computer"]) == (
        2,
        "0x800705B4",
        "DESKTOP-TEST01",
    )
    assert row["meaning"].startswith("Failed to set TPM identity confirmed")


def test_wevtutil_without_zone_has_null_time_and_warning():
    result = rendered_text.parse((DATA / "wevtutil_text_shellcore.txt").read_bytes())
    assert result.table.column("ts_utc").null_count == 3
    assert set(result.table.column("ts_confidence").to_pylist()) == {"unknown"}
    assert "no zone" in result.warnings[0].reason


def test_cxid_event_data():
    row = rows("wevtutil_text_shellcore.txt")[2]
    assert row["event_data"] == '{"CXID":"AadWebAuth"}'


def test_garbage_never_raises():
    result = rendered_text.parse(b"[ETW] [x\n" * 30)
    assert result.table.num_rows == 0 and result.skipped == 20


@pytest.mark.parametrize("given", ["6\u00b2407", "99999999999", "70000"])
def test_an_event_id_that_is_no_16_bit_number_is_null(given):
    # "²" passes str.isdigit() and int() raised; 11 digits overflowed int32.
    text = (
        "Event[0]:\r\n  Log Name: Microsoft-Windows-Shell-Core/Operational\r\n"
        "  Source: Microsoft-Windows-Shell-Core\r\n  Date: 2024-04-03T09:41:12.123\r\n"
        f"  Event ID: {given}\r\n  Level: Information\r\n  Description:\r\nhello\r\n"
    )
    result = rendered_text.parse(text.encode("utf-8"))
    ((event_id, message),) = [
        (r["event_id"], r["message"]) for r in result.table.to_pylist()
    ]
    assert (event_id, message) == (None, "hello")
