"""The reference tables espfleet ships (parsers/data/*.csv), rewritten at each refresh.

`REFERENCE_TABLES` names their schemas; `reference_rows(root)` gives each one's
rows, which `warehouse.write_reference_tables` writes under
``<warehouse>/reference/`` and the staging views read through the
``reference_rows()`` macro.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pyarrow as pa

from espfleet.parsers.schema import column, table_schema

DATA = Path(__file__).resolve().parent / "parsers" / "data"

ERROR_CODES = table_schema(
    "One row per error code of the catalogue espfleet ships "
    "(parsers/data/error_codes.csv).",
    column("code", pa.string(), "0x%08X for 32-bit codes, else the decimal value"),
    column("code_u32", pa.uint32(), "the code as unsigned 32-bit, when it is one"),
    column(
        "domain",
        pa.string(),
        "hresult, configmgr, msi_exit, ccmsetup_exit, dds, ime_exit or ts_engine",
    ),
    column("symbol", pa.string(), "the code's symbolic name"),
    column("meaning", pa.string(), "what the code means on the Autopilot path"),
    column("source", pa.string(), "the public source of the meaning"),
    column("confidence", pa.string(), "high, medium or low"),
)

WINDOWS_RELEASES = table_schema(
    "One row per Windows 10/11 build espfleet knows: its version, the last "
    "cumulative update listed and the end of servicing "
    "(parsers/data/windows_releases.csv).",
    column("build", pa.int32(), "CurrentBuild (19045, 26100, ...)"),
    column("os", pa.string(), "Windows 10 | Windows 11"),
    column("version", pa.string(), "DisplayVersion (20H2, 24H2, ...)"),
    column("latest_ubr", pa.int32(), "UBR of the latest cumulative update listed"),
    column("latest_kb", pa.string(), "that update's KB article"),
    column("latest_released", pa.date32(), "that update's release date"),
    column(
        "servicing_ends",
        pa.date32(),
        "end of servicing for Enterprise and Education editions",
    ),
    column("source", pa.string(), "the public source of the row"),
    column("confidence", pa.string(), "high, medium or low"),
)

REFERENCE_TABLES: dict[str, pa.Schema] = {
    "error_codes": ERROR_CODES,
    "windows_releases": WINDOWS_RELEASES,
}


def _error_code_rows() -> list[dict]:
    from espfleet.parsers import errorcodes

    return [
        vars(e)
        | {
            "code_u32": int(e.code, 16) & 0xFFFFFFFF
            if e.code.startswith("0x")
            else None
        }
        for e in errorcodes.catalogue()
    ]


def _release_rows() -> list[dict]:
    with (DATA / "windows_releases.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        for key in ("build", "latest_ubr"):
            r[key] = int(r[key])
        for key in ("latest_released", "servicing_ends"):
            r[key] = date.fromisoformat(r[key])
    return rows


def reference_tables() -> dict[str, pa.Table]:
    """Every reference table's rows, by name."""
    return {
        "error_codes": pa.Table.from_pylist(_error_code_rows(), schema=ERROR_CODES),
        "windows_releases": pa.Table.from_pylist(
            _release_rows(), schema=WINDOWS_RELEASES
        ),
    }
