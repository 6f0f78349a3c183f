"""parsers/cmtrace against every real CMTrace / SMS-trace sample in the corpus.

Record counts are checked against an independent count: the number of
``]LOG]!><time=`` tails (``$$<`` markers for SMS trace) found with bytes.count,
minus the damaged tails listed by hand below after reading each file.
"""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import libarchive
import pytest

from espfleet.parsers import cmtrace
from espfleet.parsers.base import ParseContext
from espfleet.parsers.cmtrace import blocks

# name -> (damaged tails, expected skipped), read by eye in each file.
DAMAGE = {
    # ends with `<![LOG[Raising event:` (39 openers, 38 closers)
    "cmlogtracer_Busted-CcmMessaging.log": (0, 1),
    # starts with `t="" type="1" ...>`; line 7 is cut inside `component="CcmRes`
    # and continues with another record's tail (a head-truncated fragment, kept)
    "cmlogtracer_Busted-CcmRestart.log": (1, 2),
    # UTF-16LE `0x0000117E` after the NUL padding
    "cmlogtracer_wedmtrace.log": (0, 1),
    # three `#` comment blocks written by the sample's curator
    "ime_AgentExecutor_two-writer-eras_okieselbach-AutopilotMonitor.log": (0, 3),
    # `This record is truncated and has no closing tag`
    "cmtraceopen_ccm_truncated.log": (0, 1),
    # KB prose after the last marker
    "kbarchive_Q227025_excerpt_lines21-56.log": (0, 1),
    "kbarchive_Q234360_excerpt_lines69-83.log": (0, 1),
    "kbarchive_Q268500_excerpt_lines60-86.log": (0, 1),
    "kbarchive_Q275191_excerpt_lines25-47.log": (0, 1),
}
NOT_CMTRACE = {"cmlogtracer_Busted-CcmNotificationAgent-20131014-063030.log"}  # a BOM


def read(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def corpus_logs(root: Path) -> list[Path]:
    return sorted(
        p for d in ("cmtrace", "synthetic", "sms_trace") for p in (root / d).iterdir()
    )


def independent_count(data: bytes) -> int:
    tails = data.count(b"]LOG]!><time=")
    return tails if tails or b"<![LOG[" in data else data.count(b"$$<")


def test_every_corpus_log_counts_match(corpus: Path) -> None:
    seen = 0
    for path in corpus_logs(corpus):
        data = read(path)
        name = path.name.removesuffix(".gz")
        result = cmtrace.parse(data, ParseContext(name))
        damaged, skipped = DAMAGE.get(name, (0, 0))
        assert result.table.num_rows == independent_count(data) - damaged, name
        assert result.skipped == skipped, name
        assert cmtrace.sniff(data[:65536], name) == (name not in NOT_CMTRACE), name
        seen += 1
    assert seen >= 40


def test_cab_ime_logs_parse(corpus: Path) -> None:
    cab = corpus / "cab" / "MDMDiagReport_itziktdk-MyRes_2024.cab"
    members: dict[str, bytes] = {}
    with libarchive.file_reader(str(cab)) as archive:
        for entry in archive:
            if entry.pathname.lower().endswith(".log"):
                members[entry.pathname] = b"".join(entry.get_blocks())
    assert not cmtrace.sniff(members.pop("setupact.log")[:65536])  # Panther, not CM
    for name, data in members.items():
        result = cmtrace.parse(data, ParseContext(name, "Asia/Jerusalem"))
        assert result.table.num_rows == independent_count(data), name
        assert result.skipped == 0, name
    assert len(members) == 10


def test_cab_ime_rollover_set_stitches(corpus: Path) -> None:
    cab = corpus / "cab" / "MDMDiagReport_itziktdk-MyRes_2024.cab"
    with libarchive.file_reader(str(cab)) as archive:
        files = [
            (e.pathname, b"".join(e.get_blocks()))
            for e in archive
            if e.pathname.startswith("IntuneManagementExtension")
        ]
    groups = cmtrace.rollover_groups(name for name, _ in files)
    assert groups == {
        "IntuneManagementExtension": [
            "IntuneManagementExtension-20240402-161304.log",
            "IntuneManagementExtension.log",
        ]
    }
    table = cmtrace.parse_set(files, ParseContext(device_zone="Asia/Jerusalem")).table
    assert table.num_rows == sum(independent_count(d) for _, d in files)
    assert table.column("log_file").to_pylist()[0].endswith("161304.log")
    assert table.column("log_file").to_pylist()[-1] == "IntuneManagementExtension.log"


def find(corpus: Path, name: str, line: int, zone: str | None = None) -> dict:
    data = read(corpus / "cmtrace" / name)
    table = cmtrace.parse(data, ParseContext(name, zone)).table
    (row,) = [r for r in table.to_pylist() if r["line_no"] == line]
    return row


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# Hand-checked rows. Each comment is the raw line; the UTC value is computed by
# hand as local + bias minutes (Windows sign).


def test_plaso_minus_330(corpus: Path) -> None:
    # <![LOG[    A user is logged on to the system.]LOG]!><time="19:33:19.766-330"
    # date="11-28-2014" component="AppEnforce" context="" type="1" thread="8744"
    # file="appprovider.cpp:2083">   19:33:19.766 - 5:30 = 14:03:19.766Z
    row = find(corpus, "sccm_various_plaso_1.log", 2)
    assert row["ts_utc"] == utc(2014, 11, 28, 14, 3, 19, 766000)
    assert (row["severity"], row["component"], row["thread"], row["file"]) == (
        1,
        "AppEnforce",
        8744,
        "appprovider.cpp:2083",
    )


def test_plaso_minus_60(corpus: Path) -> None:
    # <![LOG[Applying policy Windows/SomeDevices/VI/VS]LOG]!><time="04:20:47.594-60"
    # date="11-26-2014" component="setuppolicyevaluator" context="" type="1"
    # thread="6228" file="policyutil.cpp:5555">   04:20:47.594 - 1:00 = 03:20:47.594Z
    row = find(corpus, "sccm_various_plaso_1.log", 85)
    assert row["ts_utc"] == utc(2014, 11, 26, 3, 20, 47, 594000)
    assert (row["severity"], row["component"], row["thread"], row["file"]) == (
        1,
        "setuppolicyevaluator",
        6228,
        "policyutil.cpp:5555",
    )


def test_plaso_plus_480(corpus: Path) -> None:
    # <![LOG[Some stuff happened.]LOG]!><time="01:52:13.827+480" date="11-24-2014"
    # component="PeerDPAgent" context="" type="1" thread="2444" file="somefile.cpp:100">
    # 01:52:13.827 + 8:00 = 09:52:13.827Z
    row = find(corpus, "sccm_various_plaso_1.log", 86)
    assert row["ts_utc"] == utc(2014, 11, 24, 9, 52, 13, 827000)
    assert (row["severity"], row["component"], row["thread"], row["file"]) == (
        1,
        "PeerDPAgent",
        2444,
        "somefile.cpp:100",
    )


def test_plaso_scclient_multiline_no_bias(corpus: Path) -> None:
    # line 3: <![LOG[Event object details: ... (14 more lines) ...
    # (Microsoft.SoftwareCenter.Client.Data.Widget at Thingamabob)]LOG]!>
    # <time="10:22:50.8422964" date="1-2-2015" component="SCClient" context=""
    # type="0" thread="16" file="">   no bias: local only, UTC unknown
    row = find(corpus, "sccm_various_plaso_1.log", 3)
    assert row["ts_local"] == datetime(2015, 1, 2, 10, 22, 50, 842296)
    assert (row["ts_utc"], row["ts_confidence"]) == (None, "unknown")
    assert (row["severity"], row["component"], row["thread"], row["file"]) == (
        0,
        "SCClient",
        16,
        "",
    )
    assert row["message"].count("\n") == 13


def test_ccmsetup_two_digit_zero_bias(corpus: Path) -> None:
    # <![LOG[Failed to connect to policy namespace. Error 0x8004100e]LOG]!>
    # <time="15:10:35.411+00" date="02-04-2020" component="ccmsetup" context=""
    # type="3" thread="3396" file="localpolicy.cpp:367">   +00 -> 15:10:35.411Z
    row = find(corpus, "ccmsetup_jimbocalvo-Reddit_1.log", 38)
    assert row["ts_utc"] == utc(2020, 2, 4, 15, 10, 35, 411000)
    assert (row["severity"], row["component"], row["thread"], row["file"]) == (
        3,
        "ccmsetup",
        3396,
        "localpolicy.cpp:367",
    )


def test_smsts_multiline_error_plus_480(corpus: Path) -> None:
    # line 59: <![LOG[Failed to save the current environment block. ...
    # line 60: The parameter is incorrect. (Error: 80070057; Source: Windows)]LOG]!>
    # <time="16:53:52.899+480" date="02-07-2024" component="TSManager" context=""
    # type="3" thread="1328" file="executionenv.cxx:836">  -> 2024-02-08 00:53:52.899Z
    row = find(corpus, "smsts_maxmoonACR-MDTLOGFiles_1.log", 59)
    assert row["ts_utc"] == utc(2024, 2, 8, 0, 53, 52, 899000)
    assert (row["severity"], row["component"], row["thread"], row["file"]) == (
        3,
        "TSManager",
        1328,
        "executionenv.cxx:836",
    )
    assert row["message"].endswith("(Error: 80070057; Source: Windows)")


def test_ccmexec_plus_300(corpus: Path) -> None:
    # <![LOG[END ExecuteSystemTasks('Lock')]LOG]!><time="08:52:45.380+300"
    # date="10-09-2013" component="CcmExec" context="" type="1" thread="4532"
    # file="systemtask.cpp:680">   08:52:45.380 + 5:00 = 13:52:45.380Z
    row = find(corpus, "cmlogtracer_CcmExec.log", 5)
    assert row["ts_utc"] == utc(2013, 10, 9, 13, 52, 45, 380000)
    assert (row["severity"], row["component"], row["thread"], row["file"]) == (
        1,
        "CcmExec",
        4532,
        "systemtask.cpp:680",
    )


def test_ime_agentexecutor_device_zone(corpus: Path) -> None:
    # <![LOG[ExecutorLog AgentExecutor gets invoked]LOG]!><time="14:58:28.2241733"
    # date="4-1-2024" component="AgentExecutor" context="" type="1" thread="1" file="">
    # Israel on 2024-04-01 is IDT (UTC+3): 11:58:28.224173Z
    row = find(corpus, "ime_itziktdk-MyRes__AgentExecutor.log", 1, "Asia/Jerusalem")
    assert row["ts_utc"] == utc(2024, 4, 1, 11, 58, 28, 224173)
    assert row["ts_confidence"] == "from_device_zone"
    assert (row["severity"], row["component"], row["thread"], row["file"]) == (
        1,
        "AgentExecutor",
        1,
        "",
    )


def test_mdt_litetouch_untrusted(corpus: Path) -> None:
    # <![LOG[Property LogPath is now = X:\MININT\SMSOSD\OSDLOGS]LOG]!>
    # <time="16:52:13.000+000" date="02-07-2024" component="LiteTouch" context=""
    # type="1" thread="" file="LiteTouch">  same run's smsts writes +480 -> Pacific
    row = find(corpus, "mdt_BDD_maxmoonACR-MDTLOGFiles_1.log", 1, "America/Los_Angeles")
    assert (row["ts_confidence"], row["tz_bias_min"]) == ("untrusted", 0)
    assert row["ts_utc"] == utc(2024, 2, 8, 0, 52, 13)
    assert (row["severity"], row["component"], row["thread"], row["file"]) == (
        1,
        "LiteTouch",
        None,
        "LiteTouch",
    )


def test_smsts_head_truncated_fragment(corpus: Path) -> None:
    # line 357 starts `ding file /SMS_DP_SMSPKG$/MAX00ADA/...` with no opener
    row = find(corpus, "smsts_ErnestoLeon87-log_reader_1.log", 357)
    assert row["message"].startswith("ding file /SMS_DP_SMSPKG$/MAX00ADA/")
    assert row["ts_confidence"] == "exact" and row["tz_bias_min"] == 240


def test_sms2_zone_name_matches_gmtdate(corpus: Path) -> None:
    # Warn>: Interval 8 not found in the OfferSummaryDetail record EN120014
    # $$<SMS_OFFER_STATUS_SUMMARIZER><Tue Jul 18 17:38:07.530 2000 Eastern Daylight
    # Time><thread=170 (0xAA)>  ... and its STATMSG says GMTDATE=Tue Jul 18
    # 21:38:07.530 2000: EDT is UTC-4 (bias 240).
    data = read(corpus / "sms_trace" / "kbarchive_Q271181_excerpt_lines28-62.log")
    row = cmtrace.parse(data).table.to_pylist()[2]
    assert row["ts_utc"] == utc(2000, 7, 18, 21, 38, 7, 530000)
    assert (row["tz_bias_min"], row["thread"], row["severity"]) == (240, 170, None)
    assert row["component"] == "SMS_OFFER_STATUS_SUMMARIZER"


@pytest.mark.parametrize("line", [2, 85, 86])
def test_plaso_lines_are_not_iso_signed(corpus: Path, line: int) -> None:
    row = find(corpus, "sccm_various_plaso_1.log", line)
    delta = row["ts_utc"].replace(tzinfo=None) - row["ts_local"]
    assert delta.total_seconds() == row["tz_bias_min"] * 60


def test_small_blocks_give_identical_results(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = [
        "cmlogtracer_Busted-CcmRestart.log",
        "smsts_ErnestoLeon87-log_reader_1.log",
        "cmlogtracer_Busted-CcmMessaging.log",
        "ime_itziktdk-MyRes__ClientHealth.log",
    ]
    whole = [
        cmtrace.parse(read(corpus / "cmtrace" / n), ParseContext(n)) for n in names
    ]
    monkeypatch.setattr(blocks, "BLOCK_BYTES", 3000)
    for name, ref in zip(names, whole, strict=True):
        got = cmtrace.parse(read(corpus / "cmtrace" / name), ParseContext(name))
        assert got.table.equals(ref.table), name
        assert (got.warnings, got.skipped) == (ref.warnings, ref.skipped), name
