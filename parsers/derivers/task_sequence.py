"""smsts.log records -> task-sequence steps (`ts_steps`) and runs (`ts_runs`).

Works on the `cm_log_entries` rows of ONE smsts log (rollover set already
stitched), in record order. Pure: no I/O. Templates: docs/formats.md §2.2 and the
corpus smsts logs (smsts_ErnestoLeon87-log_reader_1.log,
smsts_maxmoonACR-MDTLOGFiles_1.log).

Every ``Start executing an instruction`` opens an instruction (old form
``Instruction name: <n>. Instruction pointer: <p>``; new form ``Instruction
name: '<n>'.  Pointer: <p>. Type: '<t>'. Disabled: <0/1>``). Groups are
instructions too: ``The group (<n>) has been successfully started / completed /
skipped`` turns the open instruction into a group start or end, which is not a
step row but drives the group stack. Everything else is a step row.

ts_steps columns (schema.TS_STEPS):
    step_no: 1, 2, ... in execution order (a step re-run after a reboot, such
        as Setup Windows and ConfigMgr, gets a second row).
    name / instruction_pointer / action_type: from the start line (action_type
        only in the new form).
    group_name: innermost group running at the start. When a log starts mid
        run, steps before the first known group get the group whose end is
        logged first.
    started_at / ended_at: UTC of the start line and of the outcome line.
    exit_code: ``exit win32 code <n>`` of the outcome line, else the last
        ``Process completed with exit code <n>`` (unsigned decimal) of the step.
    error_code / error_code_hex: failed or aborted steps only, normalised from
        ``Failed to run the action: <n>. Error <signed>``, the bare hex of
        ``(Error: 80070002; Source: Windows)`` inside that same record,
        ``Command line execution failed (800705B4)``, ``Operation aborted
        (Error: 80004004; ...)``, else from the exit code (Win32 codes as
        HRESULT_FROM_WIN32, unsigned decimals as the HRESULT they spell).
    outcome: succeeded | failed | skipped | aborted (a group abort while the
        step had no outcome yet) | running (no outcome at the end of the log);
        null when a later instruction starts before any outcome was logged.
    reboots: reboot requests / initiations attributed to the step (the step
        running, or the last step when logged between steps); markers up to
        the engine resuming count once.
    first_record_no / last_record_no: start line and last line of the step.

ts_runs columns (schema.TS_RUNS): one row per task-sequence execution, which
survives reboots (the engine restarts and resumes at the saved pointer); a new
run starts when a step or the engine starts after the previous run ended.
    package_id: ``_SMSTSPackageID=<id>``, ``Executing task sequence <id>`` and
        similar lines, when logged (the corpus logs do not name it).
    started_at / ended_at: first record of the run / last end-of-run line
        (null while running).
    duration_s: ended_at - started_at; while running, last record -
        started_at. Computed from UTC, or from local time when UTC is unknown.
    outcome: succeeded (``Execution engine result code: Success (0)``, ``The
        task exeuction engine successfully completed the execution`` [sic],
        ``Task sequence completed 0x00000000``), failed (``Task Sequence Engine
        failed! Code: ...``, ``Task sequence execution failed with error code
        ...``, ``Task Sequence Manaqer failed to execute task sequence. Code
        0x...`` [sic], ``Failed to run the last action: ...``, a result code
        other than Success), else running.
    engine_code: ``enExecutionFail`` and the like.
    failed_step: ``Failed to run the last action: <n>``, else the run's last
        failed step.
    error_code / error_code_hex: from the engine lines, else the failed step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from .. import schema
from ..columns import fits
from ..errorcodes import hresult_from_win32, parse_code, to_hex
from . import smsts_templates as line_kinds


@dataclass
class _Step:
    name: str
    ptr: int | None
    action_type: str | None
    group: str | None
    first: int  # row index of the start line
    run: int
    last: int = -1  # row index of the outcome line, or of the step's last record
    end: int | None = None  # row index of the outcome line
    kind: str = "unknown"  # unknown | action | group
    exit_code: int | None = None
    error: int | None = None
    outcome: str | None = None
    reboots: int = 0


@dataclass
class _Run:
    first: int  # row index of the run's first record
    last: int = -1  # row index of its last record
    end: int | None = None  # row index of its last end-of-run line
    package_id: str | None = None
    outcome: str | None = None
    engine_code: str | None = None
    failed_step: str | None = None
    error: int | None = None
    has_ts: bool = False  # saw a step or the engine: worth a row
    last_failed: str | None = None
    failed_error: int | None = None


class _State:
    """Walks the records once; holds the open instruction, groups and runs."""

    def __init__(self) -> None:
        self.steps: list[_Step] = []
        self.runs: list[_Run] = []
        self.open: _Step | None = None
        self.last_action: _Step | None = None
        self.groups: list[str] = []
        self.ungrouped: list[_Step] = []  # steps before any known group
        self.reboot_open = False

    def run_for(self, i: int, opens: bool) -> _Run:
        if not self.runs:
            self.runs.append(_Run(0))  # the log's first record starts run 1
        elif opens and self.runs[-1].outcome is not None:
            self.runs[-1].last = i - 1
            self.runs.append(_Run(i))
        return self.runs[-1]

    def close_open(self, i: int) -> None:
        """The open instruction ends before row `i`: keep it unless a group."""
        step = self.open
        self.open = None
        if step is None or step.kind == "group":
            return
        if step.end is None:
            step.last = i - 1
        self.steps.append(step)
        self.last_action = step
        if step.group is None and not self.groups:
            self.ungrouped.append(step)
        if step.outcome == "failed":
            run = self.runs[step.run]
            run.last_failed, run.failed_error = step.name, step.error


def derive_steps(entries: pa.Table) -> tuple[pa.Table, pa.Table]:
    """Turn the records of one smsts log into steps and task-sequence runs.

    Args:
        entries: rows of schema.CM_LOG_ENTRIES for one log, in record order.

    Returns:
        (ts_steps, ts_runs) tables with schema.TS_STEPS and schema.TS_RUNS.
    """
    n = entries.num_rows
    messages = entries.column("message")
    wanted = pc.fill_null(pc.match_substring_regex(messages, line_kinds.WANTED), False)
    rows = pc.indices_nonzero(wanted)
    st = _State()
    for i, message in zip(
        rows.to_pylist(), messages.take(rows).to_pylist(), strict=True
    ):
        _record(st, i, message or "")
    last = st.open
    st.close_open(n)
    if last is not None and last.kind != "group" and last.outcome is None:
        if st.runs[last.run].outcome is None:
            last.outcome = "running"
    if st.runs:
        st.runs[-1].last = n - 1
    return _steps_table(st.steps, entries), _runs_table(st.runs, entries)


def _record(st: _State, i: int, message: str) -> None:
    first_line = message.split("\n", 1)[0].rstrip("\r")
    start = None
    if first_line.startswith("Start executing an instruction"):
        start = line_kinds.START_NEW.search(first_line) or line_kinds.START_OLD.search(
            first_line
        )
    opens = start is not None or bool(line_kinds.ENGINE_START.match(first_line))
    run = st.run_for(i, opens)
    if start:
        st.close_open(i)
        st.reboot_open = False
        st.open = _Step(
            name=start["name"],
            ptr=fits(int(start["ptr"]), pa.int32()),
            action_type=start.groupdict().get("type"),
            group=st.groups[-1] if st.groups else None,
            first=i,
            run=len(st.runs) - 1,
        )
        run.has_ts = True
        return
    if opens:
        run.has_ts = True
    if _step_line(st, st.open, i, first_line, message):
        return
    _reboot_line(st, first_line)
    _run_line(run, i, first_line)


def _step_line(st: _State, step: _Step | None, i: int, line: str, message: str) -> bool:
    """Outcome and group lines of the open instruction; True when consumed."""
    if m := line_kinds.GROUP.match(line):
        how = m["how"]
        if step is not None and step.outcome is None:
            step.kind = "group"
        if how == "started":
            st.groups.append(m["name"])
        elif how == "completed":
            _pop_group(st, m["name"])
        return True
    if m := line_kinds.GROUP_ABORT.match(line):
        if step is not None and step.kind != "group" and step.outcome is None:
            _end(step, i, "aborted")
            if e := line_kinds.BARE_ERROR.search(
                message
            ):  # "Operation aborted (Error: ...)"
                step.error = parse_code(e["hex"], bare_hex=True)
        _pop_group(st, m["name"])
        return True
    if step is None:
        return False
    if m := line_kinds.OP_ABORTED.match(line):
        if step.outcome == "aborted" and step.error is None:
            step.error = parse_code(m["hex"], bare_hex=True)
        return True
    if step.outcome is not None:
        return False
    if m := line_kinds.SUCCEEDED.match(line):
        step.exit_code = fits(int(m["code"]), pa.int64())
        _end(step, i, "succeeded")
    elif m := line_kinds.FAILED.match(line):
        if m["err"] is not None:
            step.error = parse_code(m["err"])
        elif e := line_kinds.BARE_ERROR.search(message):
            step.error = parse_code(e["hex"], bare_hex=True)
        _end(step, i, "failed")
        if step.error is None and step.exit_code:
            step.error = _exit_to_error(step.exit_code)
    elif line_kinds.SKIPPED.match(line) or line_kinds.INSTR_SKIPPED.match(line):
        if step.kind != "group":
            _end(step, i, "skipped")
    elif m := line_kinds.PROCESS_EXIT.match(line):
        step.exit_code = fits(int(m["code"]), pa.int64())
    elif m := line_kinds.CMD_FAILED.match(line):
        step.error = parse_code(m["hex"], bare_hex=True)
    else:
        return False
    return True


def _end(step: _Step, i: int, outcome: str) -> None:
    step.kind = "action"
    step.outcome = outcome
    step.end = step.last = i


def _exit_to_error(code: int) -> int | None:
    if code == 0:
        return None
    if 0 < code <= 0xFFFF:
        return hresult_from_win32(code)
    return parse_code(code)


def _pop_group(st: _State, name: str) -> None:
    if name in st.groups:
        while st.groups and st.groups.pop() != name:
            pass
        return
    # The log started inside this group: the steps seen so far without a group
    # ran in it (inner groups already claimed theirs).
    for step in st.ungrouped:
        if step.group is None:
            step.group = name
    st.ungrouped.clear()


def _reboot_line(st: _State, line: str) -> None:
    if line_kinds.RESUME.match(line):
        st.reboot_open = False
        return
    if not line_kinds.REBOOT.search(line) or st.reboot_open:
        return
    is_step = st.open is not None and st.open.kind != "group"
    target = st.open if is_step else st.last_action
    if target is not None:
        target.reboots += 1
    st.reboot_open = True


def _run_line(run: _Run, i: int, line: str) -> None:
    if run.package_id is None and (m := line_kinds.PACKAGE.search(line)):
        run.package_id = m["id"]
    if m := line_kinds.ENGINE_FAILED.search(line):
        run.engine_code = m["code"]
        _finish(run, "failed")
    elif m := line_kinds.EXEC_FAILED.search(line) or line_kinds.MANAGER_FAILED.search(
        line
    ):
        run.error = run.error or parse_code(m["hex"], bare_hex=True)
        _finish(run, "failed")
    elif m := line_kinds.LAST_ACTION.match(line):
        run.failed_step = m["name"]
        _finish(run, "failed")
    elif m := line_kinds.RESULT.match(line):
        _finish(run, "succeeded" if m["word"].lower() == "success" else "failed")
    elif line_kinds.ENGINE_OK.match(line):
        _finish(run, "succeeded")
    elif m := line_kinds.TS_COMPLETED.match(line):
        code = parse_code(m["hex"], bare_hex=True)
        if code:
            run.error = run.error or code
        _finish(run, "failed" if code else "succeeded")
    else:
        return
    run.has_ts = True
    run.end = i


def _finish(run: _Run, outcome: str) -> None:
    # A failure seen anywhere in the run wins over a later generic success line.
    if run.outcome != "failed":
        run.outcome = outcome


def _at(column: pa.ChunkedArray, idx: Sequence[int | None]) -> pa.Array:
    """`column` values at row indices (null where the index is None)."""
    return column.take(pa.array(idx, pa.int64())).combine_chunks()


def _steps_table(steps: list[_Step], entries: pa.Table) -> pa.Table:
    errors = [s.error if s.outcome in ("failed", "aborted") else None for s in steps]
    record_no, ts_utc = entries.column("record_no"), entries.column("ts_utc")
    return pa.table(
        {
            "step_no": pa.array(range(1, len(steps) + 1), pa.int32()),
            "name": [s.name for s in steps],
            "group_name": [s.group for s in steps],
            "instruction_pointer": [s.ptr for s in steps],
            "action_type": [s.action_type for s in steps],
            "started_at": _at(ts_utc, [s.first for s in steps]),
            "ended_at": _at(ts_utc, [s.end for s in steps]),
            "exit_code": [s.exit_code for s in steps],
            "error_code": errors,
            "error_code_hex": [to_hex(e) for e in errors],
            "outcome": [s.outcome for s in steps],
            "reboots": [s.reboots for s in steps],
            "first_record_no": _at(record_no, [s.first for s in steps]),
            "last_record_no": _at(record_no, [s.last for s in steps]),
        },
        schema=schema.TS_STEPS,
    )


def _runs_table(runs: list[_Run], entries: pa.Table) -> pa.Table:
    runs = [r for r in runs if r.has_ts]
    # A running TS is measured to its last record; a finished one to its end line.
    ends = [r.end if r.outcome else r.last for r in runs]
    firsts = [r.first for r in runs]
    ts_utc, ts_local = entries.column("ts_utc"), entries.column("ts_local")
    starts_utc, ends_utc = _at(ts_utc, firsts), _at(ts_utc, ends)
    starts_local = _at(ts_local, firsts).to_pylist()
    ends_local = _at(ts_local, ends).to_pylist()
    durations = []
    for n, (s, e) in enumerate(
        zip(starts_utc.to_pylist(), ends_utc.to_pylist(), strict=True)
    ):
        if s is None or e is None:  # unknown zone: wall-clock time is all we have
            s, e = starts_local[n], ends_local[n]
        durations.append(None if s is None or e is None else (e - s).total_seconds())
    outcomes = [r.outcome or "running" for r in runs]
    errors = [
        r.error if r.error is not None or o != "failed" else r.failed_error
        for r, o in zip(runs, outcomes, strict=True)
    ]
    return pa.table(
        {
            "run_no": pa.array(range(1, len(runs) + 1), pa.int32()),
            "package_id": [r.package_id for r in runs],
            "started_at": starts_utc,
            "ended_at": _at(ts_utc, [r.end if r.outcome else None for r in runs]),
            "duration_s": durations,
            "outcome": outcomes,
            "engine_code": [r.engine_code for r in runs],
            "failed_step": [
                r.failed_step or (r.last_failed if o == "failed" else None)
                for r, o in zip(runs, outcomes, strict=True)
            ],
            "error_code": errors,
            "error_code_hex": [to_hex(e) for e in errors],
        },
        schema=schema.TS_RUNS,
    )


TABLES = ("ts_steps", "ts_runs")


def derive(entries: pa.Table) -> dict[str, pa.Table]:
    """The `Derivation` entry point: one smsts log's records -> steps and runs."""
    steps, runs = derive_steps(entries)
    return {"ts_steps": steps, "ts_runs": runs}
