"""Every table espfleet writes, declared once.

Parser modules return tables with these columns (no provenance); the ingest flow
prepends `PROVENANCE` before writing Parquet. Tests, the writer and the SQL
staging views all read the column names from here.

Conventions: timestamps are ``timestamp[us, tz=UTC]`` (`*_utc` / `*_at`), raw
local times are naive ``timestamp[us]`` (`*_local`); error codes are stored as
unsigned 32-bit integers beside their ``0x%08X`` spelling (`*_hex`).
"""

from __future__ import annotations

import pyarrow as pa

UTC_TS = pa.timestamp("us", tz="UTC")
LOCAL_TS = pa.timestamp("us")

# Added by the ingest flow to every parser table.
PROVENANCE = pa.schema(
    [
        pa.field("bundle_id", pa.string(), nullable=False),  # sha256 of the bundle
        pa.field("member", pa.string(), nullable=False),  # path inside the bundle
        pa.field("ingest_run_id", pa.string(), nullable=False),
    ]
)

CM_LOG_ENTRIES = pa.schema(
    [
        pa.field("record_no", pa.int32(), nullable=False),  # 1-based, stitched order
        pa.field("log_file", pa.string()),  # file of a rollover set it came from
        pa.field("line_no", pa.int32()),  # line where the record starts
        pa.field("format", pa.string()),  # ccm | sms_trace | sms_trace_legacy
        pa.field("ts_utc", UTC_TS),
        pa.field("ts_local", LOCAL_TS),
        pa.field("tz_bias_min", pa.int16()),  # Windows sign: UTC = local + bias
        # exact | from_device_zone | untrusted | unknown
        pa.field("ts_confidence", pa.string()),
        pa.field("component", pa.string()),
        pa.field("context", pa.string()),
        pa.field("severity", pa.int8()),  # CMTrace type: 0 none,1 info,2 warn,3 error
        pa.field("thread", pa.int64()),
        pa.field("file", pa.string()),  # source file attribute (ccmsetup.cpp:10632)
        pa.field("message", pa.string()),
    ]
)

EVENTS = pa.schema(
    [
        pa.field("source_format", pa.string()),  # evtx | xml | text
        pa.field("channel", pa.string()),
        pa.field("provider", pa.string()),
        pa.field("event_id", pa.int32()),
        pa.field("record_id", pa.int64()),
        pa.field("ts_utc", UTC_TS),
        pa.field("level", pa.int8()),
        pa.field("computer", pa.string()),
        pa.field("event_data", pa.string()),  # EventData/UserData as JSON
        pa.field("name", pa.string()),  # 62407 Name
        pa.field("value", pa.string()),  # 62407 Value
        pa.field("message", pa.string()),  # rendered text, when the source has it
        pa.field("meaning", pa.string()),  # decoded meaning of (channel, event_id)
        pa.field("error_code", pa.uint32()),  # HRESULT found in the data, if any
        pa.field("error_code_hex", pa.string()),
    ]
)

REGISTRY_VALUES = pa.schema(
    [
        pa.field("line_no", pa.int32()),
        pa.field("dialect", pa.string()),  # regedit5 | regedit4 | mdmdiag
        pa.field("key_path", pa.string()),  # as written, root spelled out
        pa.field("value_name", pa.string()),  # "" for the default value (@)
        pa.field("value_type", pa.string()),  # REG_SZ, REG_DWORD, ... or KEY
        pa.field("value_text", pa.string()),
        pa.field("value_int", pa.int64()),  # DWORD/QWORD; QWORD kept two's complement
        pa.field("value_hex", pa.string()),  # raw bytes as hex, binary types
        pa.field("is_deletion", pa.bool_()),
    ]
)

ESP_EVENTS = pa.schema(
    [
        pa.field("record_id", pa.int64()),
        pa.field("ts_utc", UTC_TS),
        pa.field("name", pa.string()),
        pa.field("area", pa.string()),  # ESPDevicePreparation, ESPProgress, ...
        pa.field("phase", pa.string()),  # DevicePreparation|DeviceSetup|AccountSetup
        pa.field("subcategory", pa.string()),
        pa.field("outcome", pa.string()),  # started|succeeded|failed|timed_out|...
        pa.field("error_code", pa.uint32()),
        pa.field("error_code_hex", pa.string()),
        pa.field("message", pa.string()),
        pa.field("is_known_name", pa.bool_()),
        pa.field("meaning", pa.string()),
    ]
)

ESP_TRACKING = pa.schema(
    [
        pa.field("kind", pa.string()),  # policy_provider|setup_app|snapshot|first_sync|
        # autopilot_profile|os_build|configmgr_client
        pa.field("key_path", pa.string()),
        pa.field("item", pa.string()),  # ConfigMgr, Provisioning_TS, Win32App_<id>...
        pa.field("setting", pa.string()),  # value name
        pa.field("value_int", pa.int64()),
        pa.field("value_text", pa.string()),
        pa.field("state", pa.string()),  # decoded with the key's own scale
        pa.field("scale", pa.string()),  # which scale decoded it
        pa.field("snapshot_at", UTC_TS),
    ]
)

CCMSETUP_RUNS = pa.schema(
    [
        pa.field("run_no", pa.int32(), nullable=False),
        pa.field("pid", pa.int64()),
        pa.field("started_at", UTC_TS),
        pa.field("ended_at", UTC_TS),
        pa.field("started_local", LOCAL_TS),
        pa.field("ts_confidence", pa.string()),
        pa.field("return_code", pa.int32()),
        pa.field("return_meaning", pa.string()),
        pa.field("error_code", pa.uint32()),
        pa.field("error_code_hex", pa.string()),
        pa.field("client_version", pa.string()),
        pa.field("mp_host", pa.string()),
        pa.field("used_cmg", pa.bool_()),
        pa.field("provisionts", pa.string()),
        pa.field("command_line", pa.string()),
        pa.field("properties", pa.string()),  # JSON object of command-line properties
        pa.field("last_msi_action", pa.string()),
        pa.field("first_record_no", pa.int32()),
        pa.field("last_record_no", pa.int32()),
    ]
)

TS_STEPS = pa.schema(
    [
        pa.field("step_no", pa.int32(), nullable=False),  # execution order
        pa.field("name", pa.string()),
        pa.field("group_name", pa.string()),
        pa.field("instruction_pointer", pa.int32()),
        pa.field("action_type", pa.string()),
        pa.field("started_at", UTC_TS),
        pa.field("ended_at", UTC_TS),
        pa.field("exit_code", pa.int64()),
        pa.field("error_code", pa.uint32()),
        pa.field("error_code_hex", pa.string()),
        pa.field("outcome", pa.string()),  # succeeded|failed|skipped|aborted|running
        pa.field("reboots", pa.int16()),
        pa.field("first_record_no", pa.int32()),
        pa.field("last_record_no", pa.int32()),
    ]
)

TS_RUNS = pa.schema(
    [
        pa.field("run_no", pa.int32(), nullable=False),
        pa.field("package_id", pa.string()),
        pa.field("started_at", UTC_TS),
        pa.field("ended_at", UTC_TS),
        pa.field("duration_s", pa.float64()),
        pa.field("outcome", pa.string()),  # succeeded|failed|running
        pa.field("engine_code", pa.string()),  # enExecutionFail, ...
        pa.field("failed_step", pa.string()),
        pa.field("error_code", pa.uint32()),
        pa.field("error_code_hex", pa.string()),
        pa.field("esp_timeout_min", pa.int32()),
        pa.field("ran_past_esp_timeout", pa.bool_()),
    ]
)

DEVICE_FACTS = pa.schema(
    [
        # DiagnosticsFrameworkData.json | DeviceHash | MDMDiagReport.xml |
        # MdmDiagLogMetadata.json | setupact.log
        pa.field("source", pa.string(), nullable=False),
        # serial_number | device_name | windows_zone | os_build | model | collected_at
        pa.field("attribute", pa.string(), nullable=False),
        pa.field("value", pa.string()),  # as written
        pa.field("value_at", UTC_TS),  # instants (collected_at), in UTC
    ]
)

# Written by the ingest flow itself (no PROVENANCE prefix: they are the provenance).
BUNDLES = pa.schema(
    [
        pa.field("bundle_id", pa.string(), nullable=False),
        pa.field("ingest_run_id", pa.string(), nullable=False),
        pa.field("source_uri", pa.string()),
        pa.field("layout", pa.string()),  # folder | archive
        pa.field("size_bytes", pa.int64()),
        pa.field("ingested_at", UTC_TS),
        pa.field("status", pa.string()),  # ingested | quarantined
        pa.field("reason", pa.string()),  # why quarantined, or damage summary
        pa.field("serial_number", pa.string()),
        pa.field("device_name", pa.string()),
        pa.field("device_zone", pa.string()),  # IANA zone, when declared
        pa.field("device_zone_source", pa.string()),  # which member declared it
        pa.field("collected_at", UTC_TS),
        pa.field("n_members", pa.int32()),
        pa.field("n_warnings", pa.int32()),
    ]
)

MEMBERS = pa.schema(
    [
        pa.field("bundle_id", pa.string(), nullable=False),
        pa.field("ingest_run_id", pa.string(), nullable=False),
        pa.field("member", pa.string(), nullable=False),
        pa.field("size_bytes", pa.int64()),
        pa.field("sha256", pa.string()),
        pa.field("parser", pa.string()),  # NAME of the parser used, null if none
        pa.field("rows", pa.int64()),
        pa.field("warnings", pa.int32()),
        pa.field("skipped", pa.int32()),
        pa.field("first_warning", pa.string()),
    ]
)

# Parser tables: rows get PROVENANCE prepended when written.
PARSER_TABLES: dict[str, pa.Schema] = {
    "cm_log_entries": CM_LOG_ENTRIES,
    "events": EVENTS,
    "registry_values": REGISTRY_VALUES,
    "esp_events": ESP_EVENTS,
    "esp_tracking": ESP_TRACKING,
    "ccmsetup_runs": CCMSETUP_RUNS,
    "ts_steps": TS_STEPS,
    "ts_runs": TS_RUNS,
    "device_facts": DEVICE_FACTS,
}

FLOW_TABLES: dict[str, pa.Schema] = {"bundles": BUNDLES, "members": MEMBERS}


def warehouse_schema(table: str) -> pa.Schema:
    """The schema a table has in the warehouse (provenance first for parser tables)."""
    if table in FLOW_TABLES:
        return FLOW_TABLES[table]
    return pa.schema(list(PROVENANCE) + list(PARSER_TABLES[table]))


def empty(schema: pa.Schema) -> pa.Table:
    """An empty table of `schema`, for parsers that found nothing."""
    return schema.empty_table()
