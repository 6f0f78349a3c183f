"""The tables and columns of ingestion's clock correction (`espfleet.clock`).

`clock_anchors` and `clock_eras` describe each bundle's timeline; `CLOCK_COLUMNS`
are the columns the correction adds to the tables whose times it corrects,
after each table's own (`schema.stored_schema`). docs/architecture.md "Clock
eras" explains the design.
"""

from __future__ import annotations

import pyarrow as pa

from .columns import LOCAL_TS, UTC_TS, column, table_schema

CLOCK_ANCHORS = table_schema(
    "One row per piece of time evidence in a bundle: clock corrections, zone "
    "names and offsets, and what was concluded from each.",
    column(
        "kind",
        pa.string(),
        "event_753 | kernel_general_1 | record_order | zone_set | csi_offset | "
        "cab_member_times | device_zone",
        nullable=False,
    ),
    column("seq", pa.int64(), "record_id, record_no or line_no of the evidence"),
    column("device_at", UTC_TS, "the device clock's UTC when it was written"),
    column("utc_at", UTC_TS, "the true UTC it states (ServerTime, NewTime, ...)"),
    column("local_at", LOCAL_TS, "the local wall-clock time it was written at, if any"),
    column(
        "measured_s",
        pa.float64(),
        "the clock correction it measures, seconds (true - device; negative: "
        "the clock was fast)",
    ),
    column("utc_offset_min", pa.int16(), "the UTC offset it measures, minutes"),
    column("windows_zone", pa.string(), "the zone it names"),
    column(
        "era_no",
        pa.int16(),
        "the era it opens or describes (clock_eras.era_no); null when unused",
    ),
    column("used", pa.bool_(), "whether the eras were built from it"),
    column("note", pa.string(), "what it says, or why it was not used"),
)

CLOCK_ERAS = table_schema(
    "One row per era of a bundle's timeline: a span with one clock correction "
    "and one time zone.",
    column("era_no", pa.int16(), "0, 1, ... in time order", nullable=False),
    column("started_at", UTC_TS, "true UTC the era starts (null: open start)"),
    column("ended_at", UTC_TS, "true UTC the era ends (null: still current)"),
    column(
        "clock_offset_s",
        pa.float64(),
        "seconds added to the device clock's time in this era to get UTC "
        "(0: the clock was right)",
    ),
    column(
        "clock_evidence",
        pa.string(),
        "exact (753 / Kernel-General 1) | estimated (record order only) | none",
    ),
    column("windows_zone", pa.string(), "the era's zone, when named"),
    column("device_zone", pa.string(), "its IANA zone"),
    column(
        "utc_offset_min",
        pa.int16(),
        "the era's UTC offset when only a number is known (CSI stamps, CAB "
        "member times)",
    ),
    column(
        "zone_source",
        pa.string(),
        "setupact.log | setupact.log CSI | cab_member_times | the device zone's "
        "source | unknown",
    ),
    column("opened_by", pa.string(), "bundle_start | clock_correction | zone_change"),
    column("evidence", pa.string(), "the anchors behind it, in words"),
    column("n_records", pa.int64(), "records placed in the era"),
)

# Columns ingestion's clock correction (espfleet.clock) adds to the tables whose
# times it corrects, after the parser's own columns.
CLOCK_ERA = column(
    "clock_era",
    pa.int16(),
    "the era of the bundle's timeline the row belongs to (clock_eras.era_no); "
    "null when no era could be chosen",
)
CLOCK_OFFSET = column(
    "clock_offset_s",
    pa.float64(),
    "seconds added to the device clock's time to correct it (null or 0: not "
    "moved); the raw time is kept beside it",
)
TS_DEVICE_UTC = column(
    "ts_device_utc",
    UTC_TS,
    "the UTC time as the device clock stated it, before any correction",
)
TS_CONFIDENCE_DERIVED = column(
    "ts_confidence",
    pa.string(),
    "confidence of the time the row was derived from (see events.ts_confidence)",
)
CLOCK_COLUMNS: dict[str, tuple[pa.Field, ...]] = {
    "events": (TS_DEVICE_UTC, CLOCK_ERA, CLOCK_OFFSET),
    "cm_log_entries": (CLOCK_ERA, CLOCK_OFFSET),
    "setup_log_entries": (CLOCK_ERA, CLOCK_OFFSET),
    "esp_events": (TS_CONFIDENCE_DERIVED, CLOCK_ERA, CLOCK_OFFSET),
    "ccmsetup_runs": (CLOCK_ERA, CLOCK_OFFSET),
    "ts_steps": (CLOCK_ERA, CLOCK_OFFSET),
    "ts_runs": (CLOCK_ERA, CLOCK_OFFSET),
    "ime_app_reports": (CLOCK_ERA, CLOCK_OFFSET),
}
