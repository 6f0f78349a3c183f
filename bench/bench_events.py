"""Throughput of the event parsers; prints numbers, asserts nothing.

evtx: `parsers.events.evtx.parse` against bare pyevtx-rs iteration
(`records_json()`, nothing done per record) over the same corpus files, CPU
time, best of N repeats, sniff timed separately (issue #12 goal: >= 0.5x; run
pinned, `taskset -c 0`). eventxml / eventtext: synthetic 62407
streams built here.

Usage:
    ESPFLEET_CORPUS=../shared/corpus .venv/bin/python bench/bench_events.py [repeats]
"""

from __future__ import annotations

import io
import os
import sys
import time
from pathlib import Path

from evtx import PyEvtxParser

from espfleet.parsers.derivers import esp_events
from espfleet.parsers.events import evtx, exported_xml, rendered_text

NS = "http://schemas.microsoft.com/win/2004/08/events/event"


def best(fn, repeats: int) -> float:
    """The least CPU time of `repeats` calls (CPU: a shared machine disturbs it
    less than wall time)."""
    times = []
    for _ in range(repeats):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return min(times)


def bench_evtx(files: list[bytes], repeats: int) -> None:
    records = sum(evtx.parse(d).table.num_rows for d in files)

    def bare() -> None:
        for d in files:
            for _ in PyEvtxParser(io.BytesIO(d)).records_json():
                pass

    def ours() -> None:
        for d in files:
            evtx.parse(d)

    def sniff() -> None:
        for d in files:
            evtx.sniff(d[:65536])

    t_bare, t_ours, t_sniff = (
        best(bare, repeats),
        best(ours, repeats),
        best(sniff, repeats),
    )
    mb = sum(map(len, files)) / 1e6
    print(f"evtx corpus: {len(files)} files, {mb:.1f} MB, {records} records")
    for label, secs in (
        ("bare pyevtx-rs records_json", t_bare),
        ("events.evtx.parse", t_ours),
    ):
        print(f"  {label:<28}: {records / secs:10,.0f} records/s ({secs:.3f} s)")
    print(f"  ratio parse / bare          : {t_bare / t_ours:10.2f} x (goal >= 0.5)")
    print(f"  sniff                       : {len(files) / t_sniff:10,.0f} files/s")
    bench_evtx_stages(files, records, repeats)


def bench_evtx_stages(files: list[bytes], records: int, repeats: int) -> None:
    """Where parse's time goes, cumulative, in microseconds per record: the
    pyevtx-rs loop keeping its records, then the System regex over them (the
    least Python work that yields the columns), then the whole parse."""

    def keep() -> None:
        for d in files:
            evtx._collect(PyEvtxParser(io.BytesIO(d)).records_json())

    def fields() -> None:
        for d in files:
            recs, _ = evtx._collect(PyEvtxParser(io.BytesIO(d)).records_json())
            evtx._fields([rec["data"] for rec in recs])

    def bare() -> None:
        for d in files:
            for _ in PyEvtxParser(io.BytesIO(d)).records_json():
                pass

    stages = (
        ("bare loop", bare),
        ("+ keep records", keep),
        ("+ System regex (_fields)", fields),
        ("+ rows and table (parse)", lambda: [evtx.parse(d) for d in files]),
    )
    t_bare = best(bare, repeats)
    for label, fn in stages:
        secs = t_bare if fn is bare else best(fn, repeats)
        print(
            f"  {label:<28}: {secs / records * 1e6:10.2f} us/record"
            f" (ratio ceiling {t_bare / secs:4.2f} x)"
        )


def synthetic_xml(n: int) -> bytes:
    event = (
        f"<Event xmlns='{NS}'><System><Provider Name='Microsoft-Windows-Shell-Core'/>"
        "<EventID>62407</EventID><Level>4</Level>"
        "<TimeCreated SystemTime='2024-04-03T07:40:00.1234567Z'/>"
        "<EventRecordID>{i}</EventRecordID>"
        "<Channel>Microsoft-Windows-Shell-Core/Operational</Channel>"
        "<Computer>DESKTOP-TEST01</Computer></System><EventData>"
        "<Data Name='Name'>"
        "CommercialOOBE_ESPDeviceSetup_ApplicationsInstallation_Failed"
        '</Data><Data Name=\'Value\'>{{"message":"BootstrapStatus: failed.",'
        '"errorCode":2147943860}}</Data></EventData></Event>'
    )
    return "".join(event.format(i=i) for i in range(n)).encode("utf-16")


def synthetic_text(n: int) -> bytes:
    line = (
        "[ETW [2022-08-02T13:28:10.3350735Z] [Microsoft-Windows-Shell-Core] "
        "[Informational] - CloudExperienceHost Web App Event 2. Name: "
        "'CommercialOOBE_BootstrapStatusCategory_SubcategoryProcessing_Failed', "
        'Value: \'{"message":"BootstrapStatus: Subcategory ID = '
        'DeviceSetup.AppsSubcategory; state = failed.","errorCode":0}\'.\r\n'
    )
    return (line * n).encode()


def bench_other(repeats: int, n: int = 20_000) -> None:
    xml, text = synthetic_xml(n), synthetic_text(n)
    t_xml = best(lambda: exported_xml.parse(xml), repeats)
    t_text = best(lambda: rendered_text.parse(text), repeats)
    table = rendered_text.parse(text).table
    t_esp = best(lambda: esp_events.derive_esp_events(table), repeats)
    print(f"eventxml  (synthetic UTF-16, {n} events): {n / t_xml:10,.0f} events/s")
    print(f"eventtext ([ETW] lines, {n} events)     : {n / t_text:10,.0f} events/s")
    print(f"derive_esp_events ({n} rows)             : {n / t_esp:10,.0f} rows/s")


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    corpus = Path(os.environ.get("ESPFLEET_CORPUS", "../shared/corpus")) / "evtx"
    files = [p.read_bytes() for p in sorted(corpus.glob("*.evtx"))]
    if files:
        bench_evtx(files, repeats)
    else:
        print(f"no .evtx under {corpus}: evtx comparison skipped")
    bench_other(repeats)


if __name__ == "__main__":
    main()
