"""parsers/cmtrace/rollover.py and cmtrace.parse_set: rollover sets read as one stream."""

from __future__ import annotations

from pathlib import Path

from espfleet.parsers import cmtrace
from espfleet.parsers.base import ParseContext
from espfleet.parsers.cmtrace import rollover

DATA = Path(__file__).parents[2] / "data" / "cmtrace" / "rollover"


def files(*names: str) -> list[tuple[str, bytes]]:
    return [(n, (DATA / n).read_bytes()) for n in names]


def test_groups_lo_before_log() -> None:
    got = rollover.rollover_groups(["ccmsetup.log", "ccmsetup.lo_", "client.msi.txt"])
    assert got == {"ccmsetup": ["ccmsetup.lo_", "ccmsetup.log"]}


def test_groups_dated_history_oldest_first() -> None:
    names = ["smsts.log", "smsts-20240102-101010.log", "smsts-20231230-080000.log"]
    assert rollover.rollover_groups(names) == {
        "smsts": ["smsts-20231230-080000.log", "smsts-20240102-101010.log", "smsts.log"]
    }


def test_groups_keep_folders_apart() -> None:
    got = rollover.rollover_groups(["a/smsts.log", "b/smsts.log", "a/smsts.LO_"])
    assert got == {
        "a/smsts": ["a/smsts.LO_", "a/smsts.log"],
        "b/smsts": ["b/smsts.log"],
    }


def test_record_split_mid_message_comes_out_whole() -> None:
    res = cmtrace.parse_set(files("ccmsetup.log", "ccmsetup.lo_"))
    got = res.table.to_pylist()
    assert (len(got), res.skipped, res.warnings) == (3, 0, [])
    assert got[1]["message"].endswith(
        "Service Pack (0.0). SuiteMask = 272. Product Type = 1"
    )
    assert [r["log_file"] for r in got] == [
        "ccmsetup.lo_",
        "ccmsetup.lo_",
        "ccmsetup.log",
    ]


def test_line_numbers_are_per_file() -> None:
    got = cmtrace.parse_set(files("ccmsetup.lo_", "ccmsetup.log")).table.to_pylist()
    assert [r["line_no"] for r in got] == [1, 2, 2]  # .log line 2


def test_record_split_inside_attributes_comes_out_whole() -> None:
    names = ("AppWorkload.log", "AppWorkload-20240402-161304.log")
    res = cmtrace.parse_set(files(*names), ParseContext(device_zone="Asia/Jerusalem"))
    got = res.table.to_pylist()
    assert [r["component"] for r in got] == ["AppWorkload", "AppWorkload"]
    assert got[1]["log_file"] == "AppWorkload-20240402-161304.log"
    assert res.skipped == 0


def test_parts_alone_report_the_damage() -> None:
    res = cmtrace.parse((DATA / "ccmsetup.log").read_bytes())
    assert (res.table.num_rows, res.skipped) == (2, 0)  # head-truncated, recovered
    assert res.warnings[0].reason.startswith("head-truncated")
    assert cmtrace.parse((DATA / "ccmsetup.lo_").read_bytes()).skipped == 1


def test_members_with_different_encodings_stitch() -> None:
    lo = (DATA / "ccmsetup.lo_").read_bytes()[3:].decode()
    utf16 = b"\xff\xfe" + lo.encode("utf-16-le")
    res = cmtrace.parse_set(
        [
            ("ccmsetup.log", (DATA / "ccmsetup.log").read_bytes()),
            ("ccmsetup.lo_", utf16),
        ]
    )
    assert (res.table.num_rows, res.skipped) == (3, 0)
    assert res.table.column("message").to_pylist()[1].endswith("Product Type = 1")
