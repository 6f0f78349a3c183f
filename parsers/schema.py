"""Every table the parsers, derivers and the clock correction write, declared once.

Each column carries its meaning in the field's metadata (``description``) and
each schema its grain (``description``): the staging views, their `.yml` docs,
`docs/warehouse.md` and the tests read them from here. The warehouse prepends
its provenance columns (`espfleet.warehouse.PROVENANCE`) before writing Parquet.

Conventions: timestamps are ``timestamp[us, tz=UTC]`` (`*_utc` / `*_at`), raw
local times are naive ``timestamp[us]`` (`*_local`); error codes are stored as
unsigned 32-bit integers beside their ``0x%08X`` spelling (`*_hex`).
"""

from __future__ import annotations

import pyarrow as pa

from .clock_schema import CLOCK_ANCHORS, CLOCK_COLUMNS, CLOCK_ERAS
from .columns import DESCRIPTION, LOCAL_TS, UTC_TS, column, description, table_schema

__all__ = [
    "CLOCK_COLUMNS",
    "DESCRIPTION",
    "LOCAL_TS",
    "PARSER_TABLES",
    "UTC_TS",
    "column",
    "description",
    "empty",
    "stored_schema",
    "table_schema",
]


def _error_code(what: str) -> tuple[pa.Field, pa.Field]:
    return (
        column("error_code", pa.uint32(), f"{what}, as unsigned 32-bit"),
        column("error_code_hex", pa.string(), "the same code as 0x%08X"),
    )


CM_LOG_ENTRIES = table_schema(
    "One row per CMTrace or SMS-trace log record.",
    column(
        "record_no",
        pa.int32(),
        "1-based, in stitched (oldest to newest) order of the rollover set",
        nullable=False,
    ),
    column("log_file", pa.string(), "member of the rollover set the record starts in"),
    column("line_no", pa.int32(), "line (in log_file) where the record starts"),
    column("format", pa.string(), "ccm | sms_trace | sms_trace_legacy"),
    column("ts_utc", UTC_TS, "the instant, when it can be known"),
    column(
        "ts_local",
        LOCAL_TS,
        "wall-clock time as written, to the microsecond (7-digit fractions cut)",
    ),
    column(
        "tz_bias_min",
        pa.int16(),
        "written bias in minutes, Windows sign: UTC = local + bias (+480 is UTC-8)",
    ),
    column(
        "ts_confidence",
        pa.string(),
        "exact (bias written) | from_device_zone | from_collection_offset (the "
        "UTC offset measured at collection, no zone name) | corrected_clock | "
        "untrusted (a writer known to write +000 whatever the zone) | unknown",
    ),
    column("component", pa.string(), "component attribute, as written"),
    column("context", pa.string(), "context attribute"),
    column(
        "severity",
        pa.int8(),
        "CMTrace type: 0 none, 1 info, 2 warning, 3 error; null when absent",
    ),
    column("thread", pa.int64(), "thread id; null when empty"),
    column("file", pa.string(), "source file attribute (ccmsetup.cpp:10632)"),
    column("message", pa.string(), "the text, line breaks kept"),
)

EVENTS = table_schema(
    "One row per event record of any channel (.evtx, exported XML or text).",
    column("source_format", pa.string(), "evtx | xml | text"),
    column("channel", pa.string(), "Microsoft-Windows-Shell-Core/Operational, ..."),
    column("provider", pa.string(), "Provider Name"),
    column("event_id", pa.int32(), "EventID"),
    column("record_id", pa.int64(), "EventRecordID (null for text renderings)"),
    column(
        "ts_utc",
        UTC_TS,
        "TimeCreated SystemTime (UTC), corrected when the device clock was off "
        "(ts_device_utc keeps it as written)",
    ),
    column(
        "ts_confidence",
        pa.string(),
        "exact (UTC as written) | from_device_zone (a text rendering's local date) "
        "| corrected_clock | unknown",
    ),
    column(
        "level", pa.int8(), "1 critical, 2 error, 3 warning, 4 information, 5 verbose"
    ),
    column("computer", pa.string(), "Computer"),
    column("event_data", pa.string(), "EventData (or UserData) as JSON"),
    column("name", pa.string(), "Shell-Core 62407 Name"),
    column("value", pa.string(), "Shell-Core 62407 Value"),
    column("message", pa.string(), "rendered message, when the source has one"),
    column("meaning", pa.string(), "decoded meaning of the event, when known"),
    *_error_code("HRESULT found in the event's data or message"),
)

REGISTRY_VALUES = table_schema(
    "One row per registry value (or empty key) of a .reg export or registry dump.",
    column("line_no", pa.int32(), "line where the value (or key) starts"),
    column("dialect", pa.string(), "regedit5 | regedit4 | mdmdiag"),
    column("key_path", pa.string(), "key as written, root spelled out"),
    column("value_name", pa.string(), '"" for the default value (@); null on a key'),
    column(
        "value_type",
        pa.string(),
        "REG_SZ, REG_EXPAND_SZ, REG_MULTI_SZ, REG_DWORD, REG_QWORD, REG_BINARY, ..., "
        "REG_0x<N> for unknown types; KEY for a key with no values or a deleted "
        "key; null for a deleted value",
    ),
    column(
        "value_text",
        pa.string(),
        "string data; REG_MULTI_SZ items joined with \\n; hex(1)/(2)/(6)/(7) "
        "decoded (UTF-16LE, or cp1252 in REGEDIT4)",
    ),
    column("value_int", pa.int64(), "DWORD or QWORD (QWORD as two's complement)"),
    column("value_hex", pa.string(), "raw bytes of hex data, lower case, no commas"),
    column("is_deletion", pa.bool_(), 'a [-KEY] or "value"=- deletion'),
)

ESP_EVENTS = table_schema(
    "One row per Shell-Core 62407 CommercialOOBE_* event (or free-text "
    "'BootstrapStatus: ...' Name), split into area, phase, subcategory and outcome.",
    column("record_id", pa.int64(), "EventRecordID of the event"),
    column("ts_utc", UTC_TS, "time of the event (UTC)"),
    column(
        "name",
        pa.string(),
        "the 62407 Name (CommercialOOBE_... or BootstrapStatus: ...)",
    ),
    column("area", pa.string(), "ESPProgress, ESPDevicePreparation, WhiteGlove, ..."),
    column("phase", pa.string(), "DevicePreparation | DeviceSetup | AccountSetup"),
    column("subcategory", pa.string(), "AppsSubcategory, TPMAttestation, ..."),
    column(
        "outcome",
        pa.string(),
        "started, succeeded, failed, timed_out, cancelled, reboot_required, ...",
    ),
    *_error_code("the Value's error code (0 means none: null)"),
    column("message", pa.string(), "the Value's message, or the raw Value"),
    column("is_known_name", pa.bool_(), "the name is in the known-names table"),
    column("meaning", pa.string(), "what the event means"),
)

ESP_TRACKING = table_schema(
    "One row per decoded ESP tracking state, snapshot, FirstSync, Autopilot "
    "profile, OS build or client-version setting.",
    column(
        "kind",
        pa.string(),
        "policy_provider | setup_app | snapshot | first_sync | autopilot_profile "
        "| os_build | configmgr_client",
    ),
    column("key_path", pa.string(), "registry key (or file) it was read from"),
    column("item", pa.string(), "ConfigMgr, Provisioning_TS, Win32App_<id>, ..."),
    column("setting", pa.string(), "value name (InstallationState, ...)"),
    column("value_int", pa.int64(), "the number, when the value is one"),
    column("value_text", pa.string(), "the text, when the value is one"),
    column("state", pa.string(), "value decoded on the scale of its key"),
    column("scale", pa.string(), "which scale decoded it (setup_app_1_4, ...)"),
    column("snapshot_at", UTC_TS, "time of an ESP tracking snapshot"),
)

CCMSETUP_RUNS = table_schema(
    "One row per ccmsetup run (segmented by its start banner).",
    column(
        "run_no",
        pa.int32(),
        "0 before the first banner, then 1, 2, ...",
        nullable=False,
    ),
    column("pid", pa.int64(), "process id from the banner"),
    column("started_at", UTC_TS, "UTC of the run's first record"),
    column("ended_at", UTC_TS, "UTC of the run's last record"),
    column("started_local", LOCAL_TS, "local wall-clock time of the first record"),
    column("ts_confidence", pa.string(), "confidence of the first record's UTC"),
    column("return_code", pa.int32(), "CcmSetup is exiting with return code <N>"),
    column(
        "return_meaning",
        pa.string(),
        "return code decoded: success, error, reboot required, ...",
    ),
    *_error_code("CcmSetup failed with error code ..., else the MSI failure"),
    column("client_version", pa.string(), "client version being installed"),
    column("mp_host", pa.string(), "management point or CMG host"),
    column("used_cmg", pa.bool_(), "the run went through a cloud management gateway"),
    column("provisionts", pa.string(), "PROVISIONTS property (co-management TS id)"),
    column("command_line", pa.string(), "the run's command line"),
    column("properties", pa.string(), "JSON object of the command-line properties"),
    column("last_msi_action", pa.string(), "the last MSI action logged"),
    column("first_record_no", pa.int32(), "record_no of the run's first record"),
    column("last_record_no", pa.int32(), "record_no of the run's last record"),
)

TS_STEPS = table_schema(
    "One row per executed task-sequence step.",
    column("step_no", pa.int32(), "1, 2, ... in execution order", nullable=False),
    column("name", pa.string(), "step (instruction) name"),
    column("group_name", pa.string(), "innermost group running at the start"),
    column("instruction_pointer", pa.int32(), "the engine's instruction pointer"),
    column("action_type", pa.string(), "action type (newer logs only)"),
    column("started_at", UTC_TS, "UTC of the start line"),
    column("ended_at", UTC_TS, "UTC of the outcome line"),
    column("exit_code", pa.int64(), "exit code of the step's action"),
    *_error_code("error of a failed or aborted step"),
    column(
        "outcome",
        pa.string(),
        "succeeded | failed | skipped | aborted | running",
    ),
    column("reboots", pa.int16(), "reboots requested or initiated by the step"),
    column("first_record_no", pa.int32(), "record_no of the start line"),
    column("last_record_no", pa.int32(), "record_no of the step's last line"),
)

TS_RUNS = table_schema(
    "One row per task-sequence run.",
    column("run_no", pa.int32(), "1, 2, ... per smsts log", nullable=False),
    column("package_id", pa.string(), "task sequence package id, when logged"),
    column("started_at", UTC_TS, "UTC of the run's first record"),
    column("ended_at", UTC_TS, "UTC of its last end-of-run line (null while running)"),
    column(
        "duration_s",
        pa.float64(),
        "ended_at - started_at; while running, to the last record",
    ),
    column("outcome", pa.string(), "succeeded | failed | running"),
    column("engine_code", pa.string(), "engine result name (enExecutionFail, ...)"),
    column("failed_step", pa.string(), "the step that failed the run"),
    *_error_code("the run's error"),
)

DEVICE_FACTS = table_schema(
    "One row per statement an identity file of a bundle makes about its device.",
    column(
        "source",
        pa.string(),
        "DiagnosticsFrameworkData.json | DeviceHash | MDMDiagReport.xml | "
        "MdmDiagLogMetadata.json | MdmLogCollectorFootPrint.txt",
        nullable=False,
    ),
    column(
        "attribute",
        pa.string(),
        "serial_number | device_name | windows_zone | os_version (10.0.22631.3296) "
        "| os_build (22631.3296) | build_number | ubr | edition | build_lab | "
        "manufacturer | model | collected_at",
        nullable=False,
    ),
    column("value", pa.string(), "the value as written"),
    column("value_at", UTC_TS, "the value, for instants (collected_at)"),
)

SETUP_LOG_ENTRIES = table_schema(
    "One row per line of a Windows setup log (setupact.log, setuperr.log).",
    column("line_no", pa.int32(), "1-based line in the file", nullable=False),
    column(
        "ts_local",
        LOCAL_TS,
        "the line's date and time as written: the device's local wall-clock time",
    ),
    column(
        "ts_utc",
        UTC_TS,
        "the instant: the CSI stamp, else ts_local through the zone of the "
        "line's era; corrected when the device clock was off",
    ),
    column(
        "ts_confidence",
        pa.string(),
        "exact (a CSI UTC stamp) | from_log_offset (the offset the file's CSI "
        "stamps measure) | from_device_zone | from_collection_offset | "
        "corrected_clock | unknown",
    ),
    column("level", pa.string(), "Info | Warning | Error | Fatal Error, as written"),
    column("message_id", pa.string(), "the [0x080489] message id, when written"),
    column("component", pa.string(), "logging component (CSI, DISM, MIG, SP, ...)"),
    column("process", pa.string(), "the [msoobe.exe] process prefix of the message"),
    column("csi_sequence", pa.int64(), "a CSI line's 8-hex-digit sequence number"),
    column(
        "csi_utc",
        UTC_TS,
        "a CSI line's @YYYY/M/D:HH:MM:SS.fff stamp: the device clock's UTC",
    ),
    column(
        "zone_set",
        pa.string(),
        "the Windows zone a 'Set time zone to [...]' or 'Successfully set "
        "timezone (...)' line names",
    ),
    column("message", pa.string(), "the text after the component"),
)

IME_APP_REPORTS = table_schema(
    "One row per Win32 app result the IME reported to the service (an element "
    "of a [Win32App] Sending reports record).",
    column("record_no", pa.int32(), "record_no of the IME log record", nullable=False),
    column("ts_utc", UTC_TS, "UTC of that record"),
    column("app_id", pa.string(), "the app's Intune id (AppId)"),
    column("app_name", pa.string(), "ApplicationName, when the IME wrote it"),
    column("exit_code", pa.int64(), "the installer's exit code (ExitCode)"),
    column(
        "enforcement_state",
        pa.int32(),
        "EnforcementStateMessage.EnforcementState as written",
    ),
    column(
        "enforcement_status",
        pa.string(),
        "the state's band: succeeded | in_progress | not_applicable | unknown | "
        "error (1000s ... 5000s)",
    ),
    *_error_code("EnforcementStateMessage.ErrorCode"),
    column("esp_phase", pa.int32(), "EspPhase of the report's Info (0: not in ESP)"),
)

# Every table a parser, deriver or the clock correction writes, by name.
PARSER_TABLES: dict[str, pa.Schema] = {
    "cm_log_entries": CM_LOG_ENTRIES,
    "events": EVENTS,
    "registry_values": REGISTRY_VALUES,
    "esp_events": ESP_EVENTS,
    "esp_tracking": ESP_TRACKING,
    "ccmsetup_runs": CCMSETUP_RUNS,
    "ts_steps": TS_STEPS,
    "ts_runs": TS_RUNS,
    "ime_app_reports": IME_APP_REPORTS,
    "device_facts": DEVICE_FACTS,
    "setup_log_entries": SETUP_LOG_ENTRIES,
    "clock_anchors": CLOCK_ANCHORS,
    "clock_eras": CLOCK_ERAS,
}


def stored_schema(name: str) -> pa.Schema:
    """A table's columns as ingestion hands them over: its own, then the clock's."""
    own = PARSER_TABLES[name]
    extra = [f for f in CLOCK_COLUMNS.get(name, ()) if f.name not in own.names]
    return pa.schema(list(own) + extra, metadata=own.metadata)


def empty(schema: pa.Schema) -> pa.Table:
    """An empty table of `schema`, for parsers that found nothing."""
    return schema.empty_table()
