"""Time the fleet reports over 1,000,000 synthetic device attempts.

The warehouse tables are generated directly at that size (no simulator, no
parsing): bundles, their ESP events (a start and a success or a failure each),
ESP tracking rows (ConfigMgr provider state, Autopilot profile, OS build, client
version) and a ccmsetup run per attempt; about 10% of devices are retried, 20
sites, 15% of attempts fail. The views then run over those Parquet files as
they do on a real warehouse (staging -> facts -> device_outcomes -> reports).
Each report is timed best of N (the machine is shared) and printed with its
row count.

    python bench/bench_reports.py [--attempts 1000000] [--repeat 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa

from espfleet import reports
from espfleet.warehouse import Warehouse, warehouse_schema

T0 = datetime(2026, 11, 1, tzinfo=UTC)
SITES = [f"SITE-{i:02d}" for i in range(20)]
BUILDS = ["22631.4317", "26100.6899", "19045.5131", "22621.4460"]
CLIENTS = ["5.00.9128.1012", "5.00.9129.1017", "5.00.9132.1011"]
TIMEOUT = 0x800705B4


def table(name: str, columns: dict[str, object], n: int) -> pa.Table:
    """`columns` as the warehouse's `name` table, other columns null."""
    schema = warehouse_schema(name)
    arrays = []
    for field in schema:
        if field.name in columns:
            arrays.append(pa.array(columns[field.name]).cast(field.type))
        else:
            arrays.append(pa.nulls(n, field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def generate(n: int, seed: int = 1) -> dict[str, pa.Table]:
    """The tables of `n` attempts."""
    rng = np.random.default_rng(seed)
    ids = np.char.add("b", np.arange(n).astype(str))
    device = rng.integers(0, int(n * 0.9), n)
    serial = np.char.add("S", device.astype(str))
    site = np.array(SITES)[device % len(SITES)]
    start_s = rng.integers(0, 28 * 86400, n)
    started = pa.array(
        np.datetime64(T0.replace(tzinfo=None)) + start_s.astype("timedelta64[s]")
    ).cast(pa.timestamp("us", "UTC"))
    failed = rng.random(n) < 0.15
    ended = pa.array(
        np.datetime64(T0.replace(tzinfo=None))
        + (start_s + rng.integers(600, 5400, n)).astype("timedelta64[s]")
    ).cast(pa.timestamp("us", "UTC"))
    run = np.full(n, "r1")
    bundles = table(
        "bundles",
        {
            "bundle_id": ids,
            "ingest_run_id": run,
            "source_uri": np.char.add(np.char.add("/share/", site), ids),
            "site": site,
            "status": np.full(n, "ingested"),
            "serial_number": serial,
            "device_name": np.char.add("PC-", serial),
        },
        n,
    )
    end_name = np.where(
        failed,
        "CommercialOOBE_ESPDevicePreparation_PolicyProvidersInstallation_TimedOut",
        "CommercialOOBE_ESPProgress_Category_Success",
    )
    events = table(
        "esp_events",
        {
            "bundle_id": np.concatenate([ids, ids]),
            "member": np.full(2 * n, "Microsoft-Windows-Shell-Core.evtx"),
            "ingest_run_id": np.full(2 * n, "r1"),
            "record_id": np.concatenate([np.ones(n), np.full(n, 2)]).astype(int),
            "ts_utc": pa.concat_arrays([started, ended]),
            "name": np.concatenate(
                [np.full(n, "CommercialOOBE_ESPProgress_Category_Started"), end_name]
            ),
            "phase": np.concatenate(
                [
                    np.full(n, "DevicePreparation"),
                    np.where(failed, "DevicePreparation", "DeviceSetup"),
                ]
            ),
            "outcome": np.concatenate(
                [np.full(n, "started"), np.where(failed, "timed_out", "succeeded")]
            ),
            "error_code": pa.array(
                np.concatenate([np.zeros(n), np.where(failed, TIMEOUT, 0)]).astype(
                    np.uint32
                )
            ),
        },
        2 * n,
    )
    kinds = ["policy_provider", "autopilot_profile", "os_build", "configmgr_client"]
    items = ["ConfigMgr", "Profile", "CurrentVersion", "Client"]
    settings = [
        "InstallationState",
        "DeploymentProfileName",
        "FullBuild",
        "ProductVersion",
    ]
    state = np.where(failed, "not_installed", "complete")
    texts = [
        np.full(n, None, object),
        np.array(["Contoso Co-managed", "Contoso Kiosk"])[device % 2],
        np.array(BUILDS)[device % len(BUILDS)],
        np.array(CLIENTS)[device % len(CLIENTS)],
    ]
    tracking = table(
        "esp_tracking",
        {
            "bundle_id": np.concatenate([ids] * 4),
            "member": np.full(4 * n, "MdmDiagReport_RegistryDump.reg"),
            "ingest_run_id": np.full(4 * n, "r1"),
            "kind": np.repeat(kinds, n),
            "item": np.repeat(items, n),
            "setting": np.repeat(settings, n),
            "state": np.concatenate([state, np.full(3 * n, None, object)]),
            "value_text": np.concatenate(texts),
        },
        4 * n,
    )
    ccmsetup = table(
        "ccmsetup_runs",
        {
            "bundle_id": ids,
            "member": np.full(n, "ccmsetup.log"),
            "ingest_run_id": run,
            "run_no": np.ones(n, int),
            "started_at": started,
            "ended_at": ended,
            "return_code": np.where(failed, 1603, 0),
        },
        n,
    )
    # A bundle's rows of one table sit in one file, as a batch writes them.
    return {
        "bundles": bundles,
        "esp_events": events.sort_by("bundle_id"),
        "esp_tracking": tracking.sort_by("bundle_id"),
        "ccmsetup_runs": ccmsetup,
    }


def write(root: Path, tables: dict[str, pa.Table], files: int = 8) -> float:
    """Write the tables in `files` batches, then refresh; the refresh's seconds."""
    wh = Warehouse(root)
    for name, data in tables.items():
        per_bundle = data.num_rows // tables["bundles"].num_rows
        step = -(-tables["bundles"].num_rows // files) * per_bundle
        for i in range(files):
            part = data.slice(i * step, step)
            wh.write_table(name, part, "r1", f"b{i:05d}", date(2026, 11, 28))
    wh.ensure_tables("r1", date(2026, 11, 28))
    began = time.perf_counter()
    wh.refresh()
    return time.perf_counter() - began


TIMED = [
    (
        "device_outcomes",
        "select count(*), count(distinct device_key) from device_outcomes",
    ),
    ("failure_rates", None),
    ("failure_rates_weekly", None),
    ("cohort_failure_rates", None),
    ("rate_deltas", None),
    ("top_error_codes", None),
    ("newly_failing_devices", None),
    ("fleet_status", "select count(*) from fleet_status"),
]


def best_of(con, name: str, sql: str | None, repeat: int) -> tuple[float, int]:
    times, rows = [], 0
    for _ in range(repeat):
        began = time.perf_counter()
        if sql is None:
            rows = reports.run(con, name).num_rows
        else:
            rows = len(con.execute(sql).fetchall())
        times.append(time.perf_counter() - began)
    return min(times), rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, default=None)
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-reports-")) / "wh"
    began = time.perf_counter()
    if not (root / "espfleet.duckdb").exists():
        refresh = write(root, generate(args.attempts))
        print(
            f"{args.attempts:,} attempts written to {root} in "
            f"{time.perf_counter() - began:.1f} s; the refresh (views, derived "
            f"tables) took {refresh:.1f} s"
        )
    with Warehouse(root).connect() as con:
        for name, sql in TIMED:
            seconds, rows = best_of(con, name, sql, args.repeat)
            verdict = "ok" if seconds < 1 else "OVER 1 s"
            print(
                f"  {name:24} {seconds:6.3f} s  best of {args.repeat}  "
                f"{rows:>8} rows  {verdict}"
            )
    if args.keep is None:
        shutil.rmtree(root.parent)


if __name__ == "__main__":
    main()
