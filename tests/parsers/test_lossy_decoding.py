"""Lossy decoding is counted as a warning on the member, and nothing else is lost.

Invalid UTF-16 (an unpaired surrogate, a trailing odd byte) is the only text
espfleet cannot decode exactly (parsers/textdecode.py); each text parser then
keeps its rows, with U+FFFD in place of the bad code unit, and records one
warning saying how many code units were replaced, which the member's report
in the `members` table counts.
"""

from __future__ import annotations

from espfleet.ingest import ingest_bundle
from espfleet.parsers import cmtrace, regfile, setuplog, textdecode
from espfleet.parsers.base import ParseContext

LONE = "\ud800"  # a high surrogate with no low one after it


def utf16(text: str) -> bytes:
    return b"\xff\xfe" + text.encode("utf-16-le", "surrogatepass")


REG = utf16(
    "Windows Registry Editor Version 5.00\r\n\r\n"
    "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Provisioning\\Diagnostics]\r\n"
    f'"DeviceName"="PC{LONE}01"\r\n'
    '"Other"="fine"\r\n'
)
WARNING = (
    "lossy decoding: 1 invalid utf-16-le code units replaced with U+FFFD or dropped"
)


def test_decode_counts_what_it_replaced():
    decoded = textdecode.decode(REG)
    assert (decoded.lossy, decoded.replaced, decoded.encoding) == (
        True,
        1,
        "utf-16-le",
    )
    assert "PC\ufffd01" in decoded.text
    odd = textdecode.decode(utf16("abc") + b"\x00")
    assert (odd.text, odd.lossy, odd.replaced) == ("abc", True, 1)
    clean = textdecode.decode(utf16("abc"))
    assert (clean.lossy, clean.replaced, textdecode.loss_warning(clean)) == (
        False,
        0,
        None,
    )


def test_a_registry_dump_with_invalid_utf16_keeps_its_rows_and_warns():
    result = regfile.parse(REG, ParseContext("MdmDiagReport_RegistryDump.reg"))
    texts = result.table.column("value_text").to_pylist()
    assert texts == ["PC\ufffd01", "fine"]
    assert [w.reason for w in result.warnings] == [WARNING]
    assert result.skipped == 0


def test_a_setup_log_with_invalid_utf16_keeps_its_rows_and_warns():
    data = utf16(
        "2025-10-21 08:00:01, Info                  [windeploy.exe] ok\r\n"
        f"2025-10-21 08:00:02, Info                  [windeploy.exe] bad {LONE}\r\n"
    )
    result = setuplog.parse(data, ParseContext("setupact.log"))
    assert result.table.column("message").to_pylist() == [
        "[windeploy.exe] ok",
        "[windeploy.exe] bad \ufffd",
    ]
    assert [w.reason for w in result.warnings] == [WARNING]


def test_the_member_report_counts_the_warning():
    result = ingest_bundle({"MdmDiagReport_RegistryDump.reg": REG})
    (report,) = result.members
    assert (report.parser, report.rows, report.warnings) == ("regfile", 2, 1)
    assert report.first_warning is not None and WARNING in report.first_warning


def test_a_ccmsetup_log_with_invalid_utf16_keeps_its_lines_and_warns():
    # ccmsetup.log in the CMTrace grammar (docs/formats.md §1.1), in UTF-16 (§1.6).
    line = (
        '<![LOG[{msg}]LOG]!><time="08:00:0{s}.000-120" date="10-21-2025"'
        ' component="ccmsetup" context="" type="1" thread="1" file="ccmsetup.cpp:1">'
        "\r\n"
    )
    data = utf16(line.format(msg="ok", s=1) + line.format(msg=f"bad {LONE}", s=2))
    result = cmtrace.parse(data, ParseContext("ccmsetup.log"))
    assert result.table.column("message").to_pylist() == ["ok", "bad \ufffd"]
    assert [w.reason for w in result.warnings] == [f"{WARNING} in 'ccmsetup.log'"]
