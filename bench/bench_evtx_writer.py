"""Throughput of the EVTX writer on simulator-shaped events (prints records/s).

Run: .venv/bin/python bench/bench_evtx_writer.py [records]
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta

from espfleet.simulator.evtx_writer import EventRecord, shellcore_62407, write_evtx

AUTOPILOT = dict(
    provider="Microsoft-Windows-ModernDeployment-Diagnostics-Provider",
    provider_guid="{BAB3AD92-FB96-5902-450B-B8421BDEC7BD}",
    channel="Microsoft-Windows-ModernDeployment-Diagnostics-Provider/Autopilot",
    keywords=0x4000000000000000,
)


def _device_events(device: int, n: int) -> list[EventRecord]:
    """One device's log: mostly 62407 ESP progress JSON, some Autopilot events."""
    t0 = datetime(2025, 3, 4, tzinfo=UTC)
    computer = f"DESKTOP-{device:07d}"
    out: list[EventRecord] = []
    for i in range(n):
        ts = t0 + timedelta(seconds=i, microseconds=device)
        if i % 5 == 4:
            data = [("PolicyName", f"Policy{i}"), ("HRESULT", "0x800705B4")]
            out.append(EventRecord(100, ts, data, computer=computer, **AUTOPILOT))
        else:
            value = '{"category":"DeviceSetup","state":"InProgress","app":"%s"}' % (
                "x" * (i * 37 % 400)
            )
            out.append(
                shellcore_62407(ts, "ESPProgress_Apps", value, computer=computer)
            )
    return out


def main(total: int = 200_000) -> None:
    per_device = 40
    devices = [_device_events(d, per_device) for d in range(total // per_device)]
    start = time.perf_counter()
    size = sum(len(write_evtx(events)) for events in devices)
    elapsed = time.perf_counter() - start
    print(
        f"{len(devices)} files x {per_device} records:"
        f" {total / elapsed:,.0f} records/s,"
        f" {size / elapsed / 1e6:,.1f} MB/s written, {elapsed:.2f} s"
    )
    big = [r for events in devices[:250] for r in events]
    start = time.perf_counter()
    data = write_evtx(big)
    elapsed = time.perf_counter() - start
    print(
        f"1 file x {len(big)} records ({len(data) // 65536} chunks):"
        f" {len(big) / elapsed:,.0f} records/s"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000)
