"""Task-sequence steps and runs derived from smsts.log records
(parsers/derivers/task_sequence.py).

Inputs are read by the real CMTrace parser (`cm_log`), so the instants checked
here are the parser's: UTC = local + bias minutes (docs/formats.md §1.2).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from espfleet.parsers import schema
from espfleet.parsers.derivers.task_sequence import derive_steps
from tests.conftest import corpus_file
from tests.parsers.derivers.cm_log import entries_from_file, entries_from_text, record

DATA = Path(__file__).parents[2] / "data" / "smsts"
D = "11-20-2026"


def derive(name: str, **kw) -> tuple[list[dict], list[dict]]:
    steps, runs = derive_steps(entries_from_file(DATA / name), **kw)
    return steps.to_pylist(), runs.to_pylist()


def derive_text(*records: str) -> tuple[list[dict], list[dict]]:
    steps, runs = derive_steps(entries_from_text("".join(records), "smsts.log"))
    return steps.to_pylist(), runs.to_pylist()


def rec(message: str, time: str = "14:00:00.000+480", component: str = "TSManager"):
    return record(message, time, D, component=component)


def start_old(name: str, ptr: int, time: str = "14:00:00.000+480") -> str:
    return rec(
        f"Start executing an instruction. Instruction name: {name}. "
        f"Instruction pointer: {ptr}",
        time,
    )


def test_schemas_are_ts_steps_and_ts_runs():
    steps, runs = derive_steps(entries_from_file(DATA / "smsts_dst_crossing.log"))
    assert steps.schema == schema.TS_STEPS and runs.schema == schema.TS_RUNS


def test_empty_log_gives_empty_tables():
    steps, runs = derive_steps(schema.empty(schema.CM_LOG_ENTRIES))
    assert (steps.num_rows, runs.num_rows) == (0, 0)


def test_log_without_task_sequence_gives_no_run():
    steps, runs = derive_text(rec("Successfully intialized Logging for TS Manager."))
    assert (steps, runs) == ([], [])


# --- new-style Pointer lines, multi-line failure, engine failure (fixture) ---


def test_new_style_pointer_lines_give_name_pointer_type():
    steps, _ = derive("smsts_pointer_multiline_failure.log")
    assert [(s["name"], s["instruction_pointer"]) for s in steps] == [
        ("Set Time Zone", 1),
        ("Install Company Portal", 2),
    ]
    assert steps[1]["action_type"] == "SMS_TaskSequence_InstallApplicationAction"
    assert {s["group_name"] for s in steps} == {"Co-management"}


def test_multiline_failure_reads_bare_hex_inside_the_record():
    steps, _ = derive("smsts_pointer_multiline_failure.log")
    failed = steps[1]
    assert failed["outcome"] == "failed"
    assert failed["error_code_hex"] == "0x80070002"
    assert failed["exit_code"] == 2147942402  # the unsigned spelling, kept raw
    assert failed["ended_at"] == datetime(2026, 11, 20, 22, 12, 40, 16000, tzinfo=UTC)
    assert (failed["first_record_no"], failed["last_record_no"]) == (10, 12)


def test_engine_failure_summary():
    _, (run,) = derive("smsts_pointer_multiline_failure.log")
    assert run["outcome"] == "failed"
    assert run["engine_code"] == "enExecutionFail"
    assert run["failed_step"] == "Install Company Portal"
    assert run["error_code_hex"] == "0x80070002"
    assert run["package_id"] == "ABC00045"
    assert run["duration_s"] == pytest.approx(160.079)


def test_succeeded_step_keeps_win32_exit_code():
    steps, _ = derive("smsts_pointer_multiline_failure.log")
    assert steps[0]["outcome"] == "succeeded" and steps[0]["exit_code"] == 0
    assert steps[0]["error_code"] is None


# --- error spellings ---


def test_signed_decimal_error_is_normalised():
    steps, _ = derive_text(
        start_old("Apply Driver Package", 4),
        rec("Failed to run the action: Apply Driver Package. Error -2147024894"),
    )
    assert steps[0]["error_code_hex"] == "0x80070002"


def test_unsigned_exit_code_gives_error_when_nothing_better():
    steps, _ = derive_text(
        start_old("Run Script", 4),
        rec("Process completed with exit code 2147942402"),
        rec("Failed to run the action: Run Script."),
    )
    assert steps[0]["error_code_hex"] == "0x80070002"


def test_win32_exit_code_becomes_hresult():
    steps, _ = derive_text(
        start_old("Install MSI", 4),
        rec("Process completed with exit code 1603"),
        rec("Failed to run the action: Install MSI."),
    )
    assert steps[0]["error_code_hex"] == "0x80070643"


def test_command_line_execution_failed_hex():
    steps, _ = derive_text(
        start_old("Upgrade Windows", 9),
        rec("Command line execution failed (800705B4)"),
        rec("Failed to run the action: Upgrade Windows."),
    )
    assert steps[0]["error_code_hex"] == "0x800705B4"


def test_step_names_with_dots_and_parentheses():
    steps, _ = derive_text(
        start_old("Config. Start Menu (v2)", 64),
        rec("Failed to run the action: Config. Start Menu (v2). Error -2147467259"),
    )
    assert steps[0]["name"] == "Config. Start Menu (v2)"
    assert steps[0]["error_code_hex"] == "0x80004005"


# --- outcomes ---


def test_skipped_action():
    steps, _ = derive_text(
        start_old("Set CcmExec to Auto", 34),
        rec("The action (Set CcmExec to Auto) has been skipped because it is disabled"),
    )
    assert steps[0]["outcome"] == "skipped"


def test_group_instructions_are_not_steps_but_name_the_group():
    steps, _ = derive_text(
        start_old("Install Software", 41),
        rec("The group (Install Software) has been successfully started"),
        start_old("Install Teams", 42),
        rec(
            "Successfully completed the action (Install Teams) with the exit win32 code 0"
        ),
        start_old("Install Software", 43),
        rec("The group (Install Software) has been successfully completed"),
        start_old("Finalize", 44),
        rec("Successfully completed the action (Finalize) with the exit win32 code 0"),
    )
    assert [(s["name"], s["group_name"]) for s in steps] == [
        ("Install Teams", "Install Software"),
        ("Finalize", None),
    ]


def test_group_abort_marks_a_step_without_outcome_aborted():
    steps, _ = derive_text(
        rec("The group (Apps) has been successfully started"),
        start_old("Install App", 5),
        rec(
            "The execution of the group (Apps) has failed and the execution has "
            "been aborted. An action failed.\r\n"
            "Operation aborted (Error: 80004004; Source: Windows)"
        ),
    )
    assert steps[0]["outcome"] == "aborted"
    assert steps[0]["error_code_hex"] == "0x80004004"


def test_log_starting_inside_a_group_backfills_the_group():
    steps, _ = derive_text(
        start_old("Setup Windows and Configuration Manager", 33),
        rec(
            "Successfully completed the action (Setup Windows and Configuration Manager) with the exit win32 code 0"
        ),
        start_old("Install Operating System", 37),
        rec("The group (Install Operating System) has been successfully completed"),
    )
    assert steps[0]["group_name"] == "Install Operating System"


def test_reboot_markers_count_once_per_reboot():
    steps, _ = derive_text(
        start_old("Restart computer", 54),
        rec("SMSTSRebootRequested=WinPE", component="Reboot"),
        rec(
            "Successfully completed the action (Restart computer) with the exit win32 code 0"
        ),
        rec(
            "Created volatile registry entry for pending reboot initiated by this task sequence"
        ),
        rec("Resuming Task Sequence in Full OS", component="TSMBootstrap"),
        start_old("Next", 55),
        rec("Set a global environment variable SMSTSRebootRequested="),
    )
    assert [s["reboots"] for s in steps] == [1, 0]


# --- time: running past the ESP timeout, DST ---


def test_task_sequence_still_running_past_esp_timeout():
    steps, (run,) = derive("smsts_running_past_esp.log")
    assert steps[-1]["name"] == "Install Line-of-Business Apps"
    assert steps[-1]["outcome"] == "running" and steps[-1]["ended_at"] is None
    assert run["outcome"] == "running" and run["ended_at"] is None
    assert run["duration_s"] == 65 * 60
    assert run["package_id"] == "ABC0004F"


def test_run_across_dst_change_measures_utc_duration():
    # 01:40:00+480 (PST) -> 03:10:00+420 (PDT): 90 wall-clock minutes, 30 real.
    steps, (run,) = derive("smsts_dst_crossing.log")
    assert run["started_at"] == datetime(2026, 3, 8, 9, 40, tzinfo=UTC)
    assert run["ended_at"] == datetime(2026, 3, 8, 10, 10, tzinfo=UTC)
    assert run["duration_s"] == 1800.0 and run["outcome"] == "succeeded"
    assert steps[0]["ended_at"] == datetime(2026, 3, 8, 10, 9, 31, tzinfo=UTC)


def test_unknown_zone_falls_back_on_local_time():
    steps, runs = derive_text(
        record("Starting Task Sequence Engine . . . ", "09:00:00.0000000", "2-10-2026", "TSManager"),
        record("Execution engine result code: Failed (2)", "09:30:00.0000000", "2-10-2026", "TSManager"),
    )  # fmt: skip
    assert runs[0]["started_at"] is None and runs[0]["duration_s"] == 1800.0
    assert runs[0]["outcome"] == "failed"


def test_new_run_after_a_finished_one():
    _, runs = derive_text(
        start_old("A", 0, "10:00:00.000+0"),
        rec("Task Sequence Manaqer failed to execute task sequence. Code 0x80004005",
            "10:01:00.000+0"),
        start_old("A", 0, "11:00:00.000+0"),
        rec("Execution engine result code: Success (0)", "11:02:00.000+0"),
    )  # fmt: skip
    assert [(r["run_no"], r["outcome"]) for r in runs] == [
        (1, "failed"),
        (2, "succeeded"),
    ]
    assert runs[0]["error_code_hex"] == "0x80004005"
    assert runs[1]["duration_s"] == 120.0


# --- real corpus smsts logs ---

ERNESTO = "cmtrace/smsts_ErnestoLeon87-log_reader_1.log"
MAXMOON = "cmtrace/smsts_maxmoonACR-MDTLOGFiles_1.log"


def test_corpus_mdt_log_steps(corpus):
    steps, runs = derive_steps(entries_from_file(corpus_file(corpus, MAXMOON)))
    steps = steps.to_pylist()
    assert len(steps) == 20
    assert steps[0]["name"] == "Gather local only"
    assert steps[0]["group_name"] == "Initialization"
    assert steps[3]["name"] == "Format and Partition Disk (BIOS)"
    assert steps[3]["outcome"] == "skipped"
    last = steps[-1]
    assert (last["name"], last["instruction_pointer"], last["reboots"]) == (
        "Restart computer", 54, 1,
    )  # fmt: skip
    # 16:53:52.712+480 on 02-07-2024 is 00:53:52.712Z the next day.
    (run,) = runs.to_pylist()
    assert run["started_at"] == datetime(2024, 2, 8, 0, 53, 52, 712000, tzinfo=UTC)
    assert run["outcome"] == "running"  # handed over to WinPE at the reboot


def test_corpus_osd_log_resumes_after_reboot_and_succeeds(corpus):
    steps, runs = derive_steps(entries_from_file(corpus_file(corpus, ERNESTO)))
    steps = steps.to_pylist()
    assert len(steps) == 27
    setup = [s for s in steps if s["instruction_pointer"] == 33]
    assert [s["reboots"] for s in setup] == [1, 0]  # re-run after the reboot
    assert setup[0]["group_name"] == "Install Operating System"
    assert sum(s["outcome"] == "skipped" for s in steps) == 5
    assert all(s["outcome"] in ("succeeded", "skipped") for s in steps)
    (run,) = runs.to_pylist()
    assert run["outcome"] == "succeeded" and run["failed_step"] is None
    # 10:19:13.567+240 -> 10:30:43.424+240 (Task sequence completed 0x00000000).
    assert run["duration_s"] == pytest.approx(689.857)


def test_a_pointer_or_exit_code_too_big_for_its_column_is_null():
    # Found by atheris: an 18-digit instruction pointer or exit code overflowed
    # its column and lost the bundle's ts_steps; the step is kept.
    steps, _ = derive_text(
        start_old("Run PowerShell Script", 200000000000000000),
        rec(
            "Successfully completed the action (Run PowerShell Script) with the"
            " exit win32 code 99999999999999999999",
            "14:00:01.000+480",
        ),
    )
    assert [
        (s["name"], s["instruction_pointer"], s["exit_code"], s["outcome"])
        for s in steps
    ] == [("Run PowerShell Script", None, None, "succeeded")]
