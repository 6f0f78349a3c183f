"""ccmsetup runs derived from CMTrace records (parsers/derivers/ccmsetup_runs.py).

Inputs are read by the real CMTrace parser (`cm_log`), so the instants checked
here are the parser's: UTC = local + bias minutes (docs/formats.md §1.2).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from espfleet.parsers import schema
from espfleet.parsers.derivers.ccmsetup_runs import derive_runs, parse_command_line
from tests.conftest import corpus_file
from tests.parsers.derivers.cm_log import entries_from_file, entries_from_text, record

DATA = Path(__file__).parents[2] / "data" / "ccmsetup"
D = "03-02-2026"


def runs_of(name: str) -> list[dict]:
    return derive_runs(entries_from_file(DATA / name)).to_pylist()


def runs_text(*records: str) -> list[dict]:
    return derive_runs(entries_from_text("".join(records), "ccmsetup.log")).to_pylist()


def rec(message: str, time: str = "08:00:00.000+300", thread: int = 10) -> str:
    return record(message, time, D, component="ccmsetup", thread=thread)


def test_schema_is_ccmsetup_runs():
    table = derive_runs(entries_from_file(DATA / "ccmsetup_cmg_install.log"))
    assert table.schema == schema.CCMSETUP_RUNS


def test_empty_log_gives_no_runs():
    assert derive_runs(schema.empty(schema.CM_LOG_ENTRIES)).num_rows == 0


def test_cmg_install_facts():
    (run,) = runs_of("ccmsetup_cmg_install.log")
    assert run["pid"] == 4120
    assert run["return_code"] == 0 and run["return_meaning"] == "success"
    assert run["client_version"] == "5.00.9128.1005"
    assert run["mp_host"] == "contoso.cloudapp.net"
    assert run["used_cmg"] is True
    assert run["provisionts"] == "ABC00045"
    assert run["last_msi_action"] == "InstallFinalize"
    assert (run["first_record_no"], run["last_record_no"]) == (1, 20)


def test_cmg_install_times_apply_windows_bias():
    # 14:05:01.120+480 on 11-20-2026 is 22:05:01.120Z (UTC = local + bias).
    (run,) = runs_of("ccmsetup_cmg_install.log")
    assert run["started_at"] == datetime(2026, 11, 20, 22, 5, 1, 120000, tzinfo=UTC)
    assert run["ended_at"] == datetime(2026, 11, 20, 22, 7, 53, 101000, tzinfo=UTC)
    assert run["started_local"] == datetime(2026, 11, 20, 14, 5, 1, 120000)


def test_cmg_install_properties_are_json():
    (run,) = runs_of("ccmsetup_cmg_install.log")
    props = json.loads(run["properties"])
    assert props["/runservice"] is True
    assert props["AADTENANTID"] == "daf4a1c2-3a0c-401b-966f-0b855d3abd1a"
    assert props["CCMHOSTNAME"].endswith("/CCM_Proxy_MutualAuth/72186325152220500")


def test_failed_run_then_successful_retry():
    failed, retry = runs_of("ccmsetup_failed_then_retry.log")
    assert (failed["run_no"], failed["pid"], failed["return_code"]) == (1, 2212, 6)
    assert failed["return_meaning"] == "error"
    assert failed["error_code"] == 0x80004005
    assert failed["error_code_hex"] == "0x80004005"
    assert (retry["run_no"], retry["pid"], retry["return_code"]) == (2, 5140, 0)
    assert retry["error_code"] is None
    assert (failed["last_record_no"], retry["first_record_no"]) == (7, 8)


def test_msi_1603_becomes_hresult():
    (run,) = runs_of("ccmsetup_msi_1603.log")
    assert run["error_code_hex"] == "0x80070643"
    assert run["return_code"] == 6
    assert run["last_msi_action"] == "Rollback"
    # -120 is UTC+2: 16:20 local is 14:20Z.
    assert run["started_at"] == datetime(2026, 7, 14, 14, 20, tzinfo=UTC)


def test_ccmsetup_failed_code_wins_over_msi_code():
    (run,) = runs_text(
        rec("==========[ ccmsetup started in process 1 ]=========="),
        rec("Installation failed with error code 1618"),
        rec("CcmSetup failed with error code 0x80070652"),
    )
    assert run["error_code_hex"] == "0x80070652"


@pytest.mark.parametrize(
    ("code", "meaning"),
    [(7, "reboot required"), (8, "setup already running"),
     (9, "prerequisite evaluation failure"),
     (10, "setup manifest hash validation failure"), (42, "unknown")],
)  # fmt: skip
def test_return_codes_are_decoded(code, meaning):
    (run,) = runs_text(
        rec("==========[ ccmsetup started in process 1 ]=========="),
        rec(f"CcmSetup is exiting with return code {code}"),
    )
    assert run["return_meaning"] == meaning


def test_records_before_first_banner_form_run_zero():
    runs = runs_text(
        rec("MSI: Action 8:00:00: InstallFiles. Copying new files", thread=5),
        rec("CcmSetup is exiting with return code 7", thread=5),
        rec("==========[ ccmsetup started in process 99 ]==========", thread=6),
    )
    assert [(r["run_no"], r["pid"]) for r in runs] == [(0, None), (1, 99)]
    assert runs[0]["return_meaning"] == "reboot required"
    assert runs[0]["last_msi_action"] == "InstallFiles"


def test_launcher_lines_after_service_banner_stay_with_launcher():
    launcher, service = runs_text(
        rec("==========[ ccmsetup started in process 476 ]==========", thread=1),
        rec("==========[ ccmsetup started in process 3324 ]==========", thread=2),
        rec("CcmSetup is exiting with return code 0", thread=1),
        rec("In ServiceMain", thread=3),  # a new thread: the newest run's
        rec("CcmSetup failed with error code 0x80190194", thread=3),
    )
    assert (launcher["return_code"], launcher["last_record_no"]) == (0, 3)
    assert (service["return_code"], service["error_code_hex"]) == (None, "0x80190194")
    assert (service["first_record_no"], service["last_record_no"]) == (2, 5)


def test_no_run_zero_when_log_starts_with_banner():
    runs = runs_of("ccmsetup_failed_then_retry.log")
    assert [r["run_no"] for r in runs] == [1, 2]


def test_unknown_zone_keeps_local_and_nulls_utc():
    (run,) = runs_text(
        record("==========[ ccmsetup started in process 3 ]==========",
               "08:00:00.1234567", "3-2-2026", "ccmsetup"),
    )  # fmt: skip
    assert run["started_at"] is None and run["ended_at"] is None
    assert run["started_local"] == datetime(2026, 3, 2, 8, 0, 0, 123456)
    assert run["ts_confidence"] == "unknown"


def test_command_line_switches_and_quoted_properties():
    props = parse_command_line(
        '"C:\\Windows\\ccmsetup\\ccmsetup.exe" /runservice  "/mp:server.dmz" '
        'FSP="primary.lan" SMSSITECODE="abc" CCMLOGLEVEL=0 NOTE="two words"'
    )
    assert props == {
        "/runservice": True, "/mp": "server.dmz", "FSP": "primary.lan",
        "SMSSITECODE": "abc", "CCMLOGLEVEL": "0", "NOTE": "two words",
    }  # fmt: skip


def test_ccmsetupcmd_is_expanded():
    props = parse_command_line(
        'CCMSETUPCMD="CCMHOSTNAME=cmg.example.com/CCM_Proxy_ServerAuth/7 '
        'SMSSiteCode=ABC PROVISIONTS=ABC00045"'
    )
    assert props["PROVISIONTS"] == "ABC00045"
    assert props["CCMHOSTNAME"] == "cmg.example.com/CCM_Proxy_ServerAuth/7"


def test_ccmhostname_alone_means_cmg():
    (run,) = runs_text(
        rec("==========[ ccmsetup started in process 1 ]=========="),
        rec("Command line: ccmsetup.exe CCMHOSTNAME=cmg.example.com SMSSITECODE=ABC"),
    )
    assert run["used_cmg"] is True and run["mp_host"] == "cmg.example.com"


def test_server_auth_url_means_cmg_case_insensitively():
    (run,) = runs_text(
        rec("==========[ ccmsetup started in process 1 ]=========="),
        rec("Checking the URL 'https://cmg.example.com/ccm_proxy_serverauth/72/x.cab'"),
    )
    assert run["used_cmg"] is True


def test_smsmp_property_gives_mp_host():
    (run,) = runs_text(
        rec("==========[ ccmsetup started in process 1 ]=========="),
        rec("Command line: ccmsetup.exe SMSMP=https://mp2.corp.example.com"),
    )
    assert run["mp_host"] == "mp2.corp.example.com" and run["used_cmg"] is False


def test_a_bracket_in_the_mp_gives_no_host_instead_of_an_error():
    # Found by the fuzzer (make soak): urlsplit raises "Invalid IPv6 URL" on an
    # unclosed "["; the run is kept and only its mp_host is unknown.
    (run,) = runs_text(
        rec("==========[ ccmsetup started in process 1 ]=========="),
        rec("Command line: ccmsetup.exe SMSMP=https://[mp2.corp.example.com"),
    )
    assert run["mp_host"] is None and run["used_cmg"] is False


# --- the real corpus ccmsetup.log (launcher + service process interleaved) ---

REDDIT = "cmtrace/ccmsetup_jimbocalvo-Reddit_1.log"


def test_corpus_log_has_launcher_and_service_runs(corpus):
    runs = derive_runs(entries_from_file(corpus_file(corpus, REDDIT))).to_pylist()
    assert [(r["run_no"], r["pid"]) for r in runs] == [(1, 476), (2, 3324)]


def test_corpus_launcher_exit_line_stays_with_its_own_run(corpus):
    # "CcmSetup is exiting with return code 0" (thread 3396, record 66) is
    # logged after the service's banner (record 31): it belongs to pid 476.
    launcher, service = derive_runs(
        entries_from_file(corpus_file(corpus, REDDIT))
    ).to_pylist()
    assert launcher["return_code"] == 0 and launcher["last_record_no"] == 66
    assert service["return_code"] is None
    assert service["error_code_hex"] == "0x80190194"  # BITS HTTP 404
    assert service["first_record_no"] == 31 and service["last_record_no"] == 195


def test_corpus_command_lines_and_versions(corpus):
    launcher, service = derive_runs(
        entries_from_file(corpus_file(corpus, REDDIT))
    ).to_pylist()
    assert json.loads(launcher["properties"]) == {
        "/mp": "server.dmz", "SMSSITECODE": "abc", "FSP": "primary.lan",
    }  # fmt: skip
    assert json.loads(service["properties"])["/runservice"] is True
    assert service["client_version"] == "5.0.8458.1007"
    assert service["mp_host"] == "server.dmz" and service["used_cmg"] is False
    # +00 (two-digit bias): 15:10:35.396 local is 15:10:35.396Z.
    assert service["started_at"] == datetime(2020, 2, 4, 15, 10, 35, 396000, tzinfo=UTC)


def test_a_pid_or_return_code_too_big_for_its_column_is_null():
    # Found by atheris: a 20-digit pid overflowed the int64 column and lost the
    # bundle's ccmsetup_runs; the run is kept, the number is not.
    (run,) = runs_text(
        rec("==========[ ccmsetup started in process 99999999999999999999 ]=========="),
        rec("CcmSetup is exiting with return code 99999999999", "08:00:01.000+300"),
    )
    assert (run["run_no"], run["pid"], run["return_code"]) == (1, None, None)
