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
