"""parsers/events/exported_xml.py: wevtutil streams, Event Viewer exports, hostile DTDs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from espfleet.parsers.events import evtx, exported_xml
from espfleet.simulator.evtx_writer import shellcore_62407, write_evtx

DATA = Path(__file__).parents[2] / "data" / "events"
NS = "http://schemas.microsoft.com/win/2004/08/events/event"


def parse(name: str):
    return exported_xml.parse((DATA / name).read_bytes())


def test_sniff_accepts_wevtutil_fragment():
    assert exported_xml.sniff(f"<Event xmlns='{NS}'><System>".encode())


def test_sniff_rejects_other_xml_and_evtx():
    assert not exported_xml.sniff(
        b"<?xml version='1.0'?><MDMEnterpriseDiagnosticsReport>"
    )
    assert not exported_xml.sniff(b"ElfFile\x00" + f"<Event xmlns='{NS}'>".encode())


def test_sniff_accepts_utf16_export():
    assert exported_xml.sniff((DATA / "eventviewer_saveas_utf16le.xml").read_bytes())


def test_golden_noroot_stream():
    result = parse("wevtutil_stream_noroot.xml")
    assert (result.table.num_rows, result.warnings, result.skipped) == (3, [], 0)


def test_golden_noroot_first_event():
    # <TimeCreated SystemTime='2024-04-03T07:40:00.1234567Z'/> <EventRecordID>101
    row = parse("wevtutil_stream_noroot.xml").table.to_pylist()[0]
    assert row["source_format"] == "xml" and row["record_id"] == 101
    assert row["ts_utc"] == datetime(2024, 4, 3, 7, 40, 0, 123456, tzinfo=UTC)
    assert row["name"] == "CommercialOOBE_ESPProgress_Category_Started"
    assert (row["level"], row["computer"]) == (4, "DESKTOP-TEST01")


def test_escapes_decoded_and_string_error_code():
    row = parse("wevtutil_stream_noroot.xml").table.to_pylist()[1]
    value = json.loads(row["value"])
    assert value["message"] == "BootstrapStatus: Apps & policies not done <60 min>"
    assert row["error_code_hex"] == "0x800705B4"


def test_hresult_data_item():
    row = parse("wevtutil_stream_noroot.xml").table.to_pylist()[2]
    assert (row["event_id"], row["level"], row["error_code_hex"]) == (
        172,
        2,
        "0x800705B4",
    )
    assert json.loads(row["event_data"]) == {"HRESULT": "0x800705b4"}


def test_utf16_save_as_with_root_and_message():
    result = parse("eventviewer_saveas_utf16le.xml")
    rows = result.table.to_pylist()
    assert (len(rows), result.warnings) == (2, [])
    assert rows[0]["message"].startswith("CloudExperienceHost Web App Event 2. Name:")
    assert rows[1]["message"] is None


def test_doctype_entities_are_never_expanded():
    result = parse("xml_doctype_entity.xml")
    text = json.dumps(result.table.to_pylist(), default=str)
    assert "LOLLOLLOLLOL" not in text
    assert (DATA / "xml_doctype_entity.xml").read_text().count("LOLLOLLOLLOL") == 1


def test_doctype_event_skipped_clean_event_kept():
    result = parse("xml_doctype_entity.xml")
    assert result.table.column("record_id").to_pylist() == [302]
    assert result.skipped == 1
    assert any("entit" in w.reason for w in result.warnings)


def test_broken_event_does_not_stop_the_file():
    good = (DATA / "wevtutil_stream_noroot.xml").read_text()
    bad = f"<Event xmlns='{NS}'><System><EventID>1</Event>"
    result = exported_xml.parse((bad + good).encode())
    assert (result.table.num_rows, result.skipped) == (3, 1)


def test_no_events_is_a_warning():
    result = exported_xml.parse(b"<Events></Events>")
    assert result.table.num_rows == 0 and result.warnings


def test_same_event_from_evtx_and_xml_agrees():
    name, value = (
        "CommercialOOBE_ESPProgress_Page_Exiting",
        '{"message":"x","errorCode":0}',
    )
    ts = datetime(2024, 4, 3, 7, 50, tzinfo=UTC)
    from_evtx = evtx.parse(write_evtx([shellcore_62407(ts, name, value)])).table
    xml = (
        f"<Event xmlns='{NS}'><System><Provider Name='Microsoft-Windows-Shell-Core'/>"
        "<EventID>62407</EventID><Level>4</Level>"
        "<TimeCreated SystemTime='2024-04-03T07:50:00.0000000Z'/>"
        "<EventRecordID>1</EventRecordID>"
        "<Channel>Microsoft-Windows-Shell-Core/Operational</Channel>"
        "<Computer>DESKTOP-0000000</Computer></System><EventData>"
        f"<Data Name='Name'>{name}</Data><Data Name='Value'>{value}</Data>"
        "</EventData></Event>"
    )
    from_xml = exported_xml.parse(xml.encode()).table
    expected = {
        "channel": "Microsoft-Windows-Shell-Core/Operational",
        "provider": "Microsoft-Windows-Shell-Core",
        "event_id": 62407,
        "record_id": 1,
        "ts_utc": ts,
        "ts_confidence": "exact",
        "level": 4,
        "computer": "DESKTOP-0000000",
        "event_data": json.dumps({"Name": name, "Value": value}, separators=(",", ":")),
        "name": name,
        "value": value,
        "message": None,
        "meaning": "ESP page exiting (written at the DeviceSetup -> AccountSetup "
        "hand-off and at the end; not by itself success)",
        "error_code": None,
        "error_code_hex": None,
    }
    for table, source_format in ((from_evtx, "evtx"), (from_xml, "xml")):
        assert table.to_pylist() == [expected | {"source_format": source_format}]


def test_event_and_record_ids_too_large_for_their_columns_are_null():
    # Found by the fuzzer (make soak): an EventID of 2**63 failed the whole file.
    xml = (
        b'<Events><Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event">'
        b"<System><Provider Name='P'/><EventID>9223372036854775808</EventID>"
        b"<EventRecordID>99999999999999999999</EventRecordID>"
        b"<TimeCreated SystemTime='2024-04-03T09:41:12.1230000Z'/>"
        b"<Channel>Application</Channel></System></Event></Events>"
    )
    (row,) = exported_xml.parse(xml).table.to_pylist()
    assert (row["event_id"], row["record_id"], row["channel"]) == (
        None,
        None,
        "Application",
    )
