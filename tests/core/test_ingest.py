"""One bundle's members -> tables: dispatch, rollover sets, derived facts, damage."""

from __future__ import annotations

from espfleet.ingest import ingest_bundle, ingest_members

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


class _Counted(bytes):
    """A member's bytes that count how many of their kind are alive."""

    alive = 0

    def __new__(cls, data: bytes) -> _Counted:
        cls.alive += 1
        return super().__new__(cls, data)

    def __del__(self) -> None:
        type(self).alive -= 1


def _stream(members: list[tuple[str, bytes]], seen: list[int]):
    """Yields each member as fresh bytes, noting how many earlier ones are
    still alive each time the next is asked for."""
    for name, data in members:
        seen.append(_Counted.alive)
        yield name, _Counted(data)
    seen.append(_Counted.alive)


def test_a_member_parsed_on_its_own_is_let_go_before_the_next_is_read(corpus):
    from tests.conftest import corpus_file

    evtx = corpus_file(corpus, "evtx/DMEDP_Admin_tugix456-randaodcxjj.evtx")
    reg = b"\xff\xfe" + TZ_REG.encode("utf-16-le")
    seen: list[int] = []
    out = ingest_members(
        _stream(
            [
                ("a.evtx", evtx.read_bytes()),
                ("tz.reg", reg),
                ("b.evtx", evtx.read_bytes()),
            ],
            seen,
        )
    )
    assert seen == [0, 0, 0, 0]
    assert [m.member for m in out.members] == ["a.evtx", "b.evtx", "tz.reg"]
    assert out.device.zone_source == "registry TimeZoneKeyName"


def test_logs_that_wait_for_the_zone_are_held_to_the_end_of_the_stream():
    reg = b"\xff\xfe" + TZ_REG.encode("utf-16-le")
    seen: list[int] = []
    out = ingest_members(
        _stream(
            [("IntuneManagementExtension.log", IME.encode()), ("tz.reg", reg)], seen
        )
    )
    assert seen == [0, 1, 1]  # the log waits; the registry export goes at once
    assert _Counted.alive == 0
    ((_, entries),) = out.tables["cm_log_entries"]
    assert str(entries.column("ts_utc")[0].as_py()) == "2026-07-01 08:00:00+00:00"


def test_the_order_members_arrive_in_changes_nothing(corpus):
    from tests.conftest import corpus_file

    names = [
        "evtx/DMEDP_Admin_tugix456-randaodcxjj.evtx",
        "evtx/AAD_Operational_tugix456-randaodcxjj.evtx",
    ]
    members = [(f"x.cab/{n}", corpus_file(corpus, n).read_bytes()) for n in names]
    members += [("ccmsetup.log", CCM.encode()), ("notes.txt", b"hello")]
    forward = ingest_members(iter(members))
    backward = ingest_members(iter(members[::-1]))
    events = [m for m, _t in forward.tables["events"]]
    assert events == [
        "x.cab/evtx/AAD_Operational_tugix456-randaodcxjj.evtx",
        "x.cab/evtx/DMEDP_Admin_tugix456-randaodcxjj.evtx",
    ]
    assert [m.member for m in forward.members] == [
        "ccmsetup.log",
        "notes.txt",
        "x.cab/evtx/AAD_Operational_tugix456-randaodcxjj.evtx",
        "x.cab/evtx/DMEDP_Admin_tugix456-randaodcxjj.evtx",
    ]
    for table, parts in forward.tables.items():
        other = backward.tables[table]
        assert [m for m, _t in parts] == [m for m, _t in other], table
        assert all(a.equals(b) for (_m, a), (_n, b) in zip(parts, other, strict=True))
    assert forward.members == backward.members


def test_a_member_no_parser_reads_is_reported_from_its_digest():
    from espfleet.unpack import PassedOver

    out = ingest_members(iter([("x.cab/trace.etl", PassedOver(4194304, "ab" * 32))]))
    ((report,),) = [out.members]
    assert (report.member, report.size_bytes, report.sha256) == (
        "x.cab/trace.etl",
        4194304,
        "ab" * 32,
    )
    assert (report.parser, report.reason) == (None, "no parser for this format")
