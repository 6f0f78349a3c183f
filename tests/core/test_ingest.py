"""One bundle's members -> tables: dispatch, rollover sets, derived facts, damage."""

from __future__ import annotations

from espfleet.ingest import ingest_bundle

CCM = (
    "<![LOG[==========[ ccmsetup started in process 4242 ]==========]LOG]!>"
    '<time="08:00:00.000+480" date="11-20-2026" component="ccmsetup" context="" '
    'type="1" thread="1" file="ccmsetup.cpp:1">\r\n'
    "<![LOG[CcmSetup is exiting with return code 0]LOG]!>"
    '<time="08:05:00.000+480" date="11-20-2026" component="ccmsetup" context="" '
    'type="1" thread="1" file="ccmsetup.cpp:2">\r\n'
)


def test_ccmsetup_log_gives_records_and_runs_in_utc():
    out = ingest_bundle({"ccmsetup.log": CCM.encode()})
    ((member, entries),) = out.tables["cm_log_entries"]
    ((_, runs),) = out.tables["ccmsetup_runs"]
    assert member == "ccmsetup.log" and entries.num_rows == 2
    assert runs.column("return_code").to_pylist() == [0]
    assert str(runs.column("started_at")[0].as_py()) == "2026-11-20 16:00:00+00:00"


def test_rollover_pair_is_parsed_as_one_stream():
    half = len(CCM) // 2
    out = ingest_bundle(
        {"ccmsetup.lo_": CCM[:half].encode(), "ccmsetup.log": CCM[half:].encode()}
    )
    ((member, entries),) = out.tables["cm_log_entries"]
    assert member == "ccmsetup.log" and entries.num_rows == 2


def test_empty_member_is_reported_as_damage():
    out = ingest_bundle({"smsts.log": b"", "ccmsetup.log": CCM.encode()})
    report = next(m for m in out.members if m.member == "smsts.log")
    assert (report.parser, report.warnings, report.first_warning) == (
        None,
        1,
        "empty file",
    )


def test_unknown_member_is_listed_with_no_parser():
    out = ingest_bundle({"notes.txt": b"hello"})
    assert [(m.member, m.parser) for m in out.members] == [("notes.txt", None)]
    assert out.tables == {}


IME = (
    '<![LOG[Hello from IME]LOG]!><time="10:00:00.0000000" date="7-1-2026" '
    'component="IntuneManagementExtension" context="" type="1" thread="5" file="">\r\n'
)
TZ_REG = (
    "Windows Registry Editor Version 5.00\r\n\r\n"
    "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\TimeZoneInformation]\r\n"
    '"TimeZoneKeyName"="W. Europe Standard Time"\r\n'
)


def utc_of_ime(members: dict[str, bytes]):
    out = ingest_bundle(members | {"IntuneManagementExtension.log": IME.encode()})
    ((_, entries),) = out.tables["cm_log_entries"]
    return str(entries.column("ts_utc")[0].as_py()), out.device.zone_source


def test_bias_less_lines_take_the_zone_of_a_registry_export():
    reg = b"\xff\xfe" + TZ_REG.encode("utf-16-le")
    assert utc_of_ime({"tz.reg": reg}) == (
        "2026-07-01 08:00:00+00:00",
        "registry TimeZoneKeyName",
    )


def test_bias_less_lines_take_the_zone_setup_set_last():
    setupact = (
        "2026-07-01 09:00:00, Info                         [msoobe.exe] Set time zone "
        "to [Tokyo Standard Time]\r\n"
    )
    got = utc_of_ime({"x.cab/setupact.log": setupact.encode()})
    assert got == ("2026-07-01 01:00:00+00:00", "setupact.log")


def test_bias_less_lines_without_a_declared_zone_have_no_utc():
    assert utc_of_ime({}) == ("None", None)


def test_unknown_member_says_why_no_parser_read_it():
    out = ingest_bundle({"x.cab/MDMDiagHTMLReport.html": b"<html></html>"})
    ((report),) = out.members
    assert (report.parser, report.reason) == (None, "no parser for this format")
    assert out.unread == [report]


def test_a_lone_evtx_is_named_by_the_computer_of_its_records(corpus):
    from tests.conftest import corpus_file

    path = corpus_file(corpus, "evtx/cab_joopjaeng-jaeng__shell-core-operational.evtx")
    out = ingest_bundle({path.name: path.read_bytes()})
    assert out.device.device_name == "LAPTOP-CHANADA"


def test_the_setup_log_is_read_once_by_its_own_parser():
    setupact = (
        "2026-07-01 09:00:00, Info                         [msoobe.exe] Set time zone "
        "to [Tokyo Standard Time]\r\n"
    )
    out = ingest_bundle({"x.cab/setupact.log": setupact.encode()})
    assert [(m.member, m.parser) for m in out.members] == [
        ("x.cab/setupact.log", "setuplog")
    ]
    assert "device_facts" not in out.tables
    ((_, lines),) = out.tables["setup_log_entries"]
    assert (
        lines.column("ts_utc").to_pylist()[0].isoformat() == "2026-07-01T00:00:00+00:00"
    )
