"""Speed of parsers/cmtrace.py beside a plain `re.finditer` parser (and plaso).

Run (one core):
    taskset -c 0 .venv/bin/python bench/bench_cmtrace.py [--records 1000000]
        [--corpus /work/shared/corpus] [--plaso-python /tmp/plaso-venv/bin/python]

Prints records/s and MB/s for: sniff (64 KiB heads), espfleet parse, and the
baseline (the FORMATS.md 1.1 regex with `finditer` over the decoded text, fields
converted per match: UTC = local + bias), on a deterministic synthetic log and on
the real corpus files. plaso's sccm plugin runs in its own venv when given.
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa

from espfleet.parsers import cmtrace, schema
from espfleet.parsers.cmtrace import blocks, canonical

CCM = re.compile(
    r'<!\[LOG\[(?P<msg>.*?)\]LOG\]!><time="(?P<h>\d{1,2}):(?P<mi>\d{2}):(?P<s>\d{2})'
    r'(?:\.(?P<frac>\d+))?(?P<bias>[+-]\d+)?"\s+date="(?P<mo>\d{1,2})-(?P<d>\d{1,2})-'
    r'(?P<y>\d{4})"\s+component="(?P<comp>[^"]*)"(?:\s+context="(?P<ctx>[^"]*)")?'
    r'(?:\s+type="(?P<type>\d*)")?(?:\s+thread="(?P<thr>\d*)")?'
    r'(?:\s+file="(?P<file>[^"]*)")?\s*>',
    re.S,
)
MESSAGES = (
    "Failed to connect to policy namespace. Error 0x8004100e",
    "Sending message header '<Msg SchemaVersion=\"1.1\">'",
    "==========[ ccmsetup started in process 10168 ]==========",
    "Failed to run the action: Apply.\r\nThe parameter is incorrect. "
    "(Error: 80070057; Source: Windows)",
    "Process completed with exit code 0",
    "[Win32App] ExecManager: processing targeted app (id=7f0c3a1e)",
)
COMPONENTS = ("ccmsetup", "CcmExec", "TSManager", "AppEnforce", "AgentExecutor")


def synthetic(n: int) -> bytes:
    """`n` CCM records: 90% native (3-digit fraction, +480), 10% IME (no bias)."""
    out = []
    for i in range(n):
        sec = i % 86400
        hms = f"{sec // 3600:02d}:{sec // 60 % 60:02d}:{sec % 60:02d}"
        if i % 10 == 9:
            tm, date, src = (
                f"{hms}.{i % 10_000_000:07d}",
                f"{1 + i % 12}-{1 + i % 28}-2024",
                "",
            )
        else:
            tm, date = (
                f"{hms}.{i % 1000:03d}+480",
                f"{1 + i % 12:02d}-{1 + i % 28:02d}-2024",
            )
            src = "ccmsetup.cpp:10632"
        out.append(
            f'<![LOG[{MESSAGES[i % 6]} #{i}]LOG]!><time="{tm}" date="{date}" '
            f'component="{COMPONENTS[i % 5]}" context="" type="{i % 4}" '
            f'thread="{1000 + i % 50}" file="{src}">\r\n'
        )
    return "".join(out).encode()


def regex_parse(data: bytes) -> pa.Table:
    """The baseline: whole-text finditer, per-match conversion, column lists."""
    text = data.decode("utf-8-sig", errors="replace")
    cols: dict[str, list] = {
        k: []
        for k in (
            "ts_utc",
            "ts_local",
            "bias",
            "comp",
            "ctx",
            "type",
            "thr",
            "file",
            "msg",
        )
    }
    for m in CCM.finditer(text):
        g = m.groupdict()
        frac = (g["frac"] or "0")[:6].ljust(6, "0")
        local = datetime(
            int(g["y"]),
            int(g["mo"]),
            int(g["d"]),
            int(g["h"]),
            int(g["mi"]),
            int(g["s"]),
            int(frac),
        )
        bias = int(g["bias"]) if g["bias"] else None
        cols["ts_local"].append(local)
        cols["ts_utc"].append(
            local + timedelta(minutes=bias) if bias is not None else None
        )
        cols["bias"].append(bias)
        cols["comp"].append(g["comp"])
        cols["ctx"].append(g["ctx"])
        cols["type"].append(int(g["type"]) if g["type"] else None)
        cols["thr"].append(int(g["thr"]) if g["thr"] else None)
        cols["file"].append(g["file"])
        cols["msg"].append(g["msg"])
    return pa.table(
        {
            "ts_utc": pa.array(cols["ts_utc"], pa.timestamp("us")),
            "ts_local": pa.array(cols["ts_local"], schema.LOCAL_TS),
            "bias": pa.array(cols["bias"], pa.int16()),
            "component": cols["comp"],
            "context": cols["ctx"],
            "severity": pa.array(cols["type"], pa.int8()),
            "thread": pa.array(cols["thr"], pa.int64()),
            "file": cols["file"],
            "message": cols["msg"],
        }
    )


def numpy_share(blobs: list[bytes]) -> str:
    """How many records the canonical-record reader took, of all openers."""
    took = total = 0
    for data in blobs:
        body = cmtrace._utf8_body(data, "", [])
        for _, block, _ in blocks._blocks(body):
            found = canonical.scan_canonical(block)
            if found is not None:
                took += len(found["good"])
                total += len(found["openers"])
    return f"  numpy reader took {took} of {total} records ({took / max(total, 1):.1%})"


def best(fn, data, repeat: int) -> tuple[float, object]:
    """Best of `repeat` runs (the first run also pays for fresh memory pages)."""
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn(data)
        times.append(time.perf_counter() - t)
    if repeat > 1:
        print(f"  (runs: {', '.join(f'{x:.3f}' for x in times)} s)")
    return min(times), result


def line(label: str, seconds: float, records: int, size: int) -> None:
    print(
        f"  {label:28s} {seconds:8.3f} s  {records / seconds / 1e6:7.3f} M rec/s"
        f"  {size / seconds / 1e6:8.1f} MB/s  ({records} records)"
    )


def plaso_run(python: str, path: Path, timeout: float) -> tuple[int, float] | str:
    """(records, seconds) from plaso's sccm plugin on `path`, or why it failed."""
    script = Path(__file__).with_name("plaso_sccm.py")
    try:
        done = subprocess.run(
            [python, str(script), str(path)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return f"no result after {timeout:.0f} s (killed)"
    except OSError as exc:
        return f"did not start ({exc})"
    if done.returncode != 0:
        return "failed: " + (done.stderr or done.stdout).strip()[-300:]
    records, seconds = done.stdout.split()[:2]
    return int(records), float(seconds)


def plaso_section(python: str, n: int, blobs: dict[str, bytes], repeat: int) -> None:
    sub = synthetic(n)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "synthetic.log"
        path.write_bytes(sub)
        print(
            f"\nplaso sccm plugin vs espfleet, {n} synthetic records "
            f"({len(sub) / 1e6:.1f} MB):"
        )
        got = plaso_run(python, path, 1800)
        if isinstance(got, str):
            print("  plaso sccm plugin:", got)
        else:
            line("plaso sccm plugin", got[1], got[0], len(sub))
        sec, res = best(cmtrace.parse, sub, repeat)
        line("espfleet cmtrace.parse", sec, res.table.num_rows, len(sub))
        if not isinstance(got, str):
            print(f"  speed-up over plaso: {got[1] / sec:.0f}x")
        total_n, total_s, size, problems = 0, 0.0, 0, []
        for name, data in blobs.items():
            path = Path(tmp) / name
            path.write_bytes(data)
            got = plaso_run(python, path, 120)
            if isinstance(got, str):
                problems.append(f"{name}: {got}")
                continue
            total_n, total_s, size = (
                total_n + got[0],
                total_s + got[1],
                size + len(data),
            )
        print(
            f"plaso on the corpus files ({len(blobs) - len(problems)} of {len(blobs)} "
            "finished):"
        )
        if total_s:
            line("plaso sccm plugin", total_s, total_n, size)
        for problem in problems:
            print("  ", problem)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--corpus", default=os.environ.get("ESPFLEET_CORPUS", "/work/shared/corpus")
    )
    ap.add_argument("--plaso-python", default="")
    ap.add_argument("--plaso-records", type=int, default=20_000)
    args = ap.parse_args()
    print(
        f"python {sys.version.split()[0]}, pyarrow {pa.__version__}, "
        f"cpus allowed: {sorted(os.sched_getaffinity(0))}"
    )

    data = synthetic(args.records)
    print(f"\nsynthetic: {args.records} records, {len(data) / 1e6:.1f} MB")
    heads = [data[i : i + 65536] for i in range(0, min(len(data), 65536 * 200), 65536)]
    t = time.perf_counter()
    assert all(cmtrace.sniff(h) for h in heads)
    dt = (time.perf_counter() - t) / len(heads)
    print(f"  sniff (64 KiB head)          {dt * 1e6:8.1f} us per call")
    sec, res = best(cmtrace.parse, data, args.repeat)
    line("espfleet cmtrace.parse", sec, res.table.num_rows, len(data))
    print(numpy_share([data]))
    rsec, rtab = best(regex_parse, data, 1)
    line("re.finditer baseline", rsec, rtab.num_rows, len(data))
    print(f"  speed-up over baseline: {rsec / sec:.2f}x")

    root = Path(args.corpus)
    files = sorted((root / "cmtrace").glob("*")) if root.is_dir() else []
    blobs = [
        gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes()
        for p in files
    ]
    if blobs:
        size = sum(map(len, blobs))
        print(f"\ncorpus: {len(blobs)} files in {root}/cmtrace, {size / 1e6:.1f} MB")
        t = time.perf_counter()
        for b in blobs:
            cmtrace.sniff(b[:65536])
        dt = time.perf_counter() - t
        print(
            f"  sniff, all files             {dt * 1e3:8.2f} ms "
            f"({dt / len(blobs) * 1e6:.1f} us per file)"
        )
        sec, n = best(
            lambda bs: sum(cmtrace.parse(b).table.num_rows for b in bs),
            blobs,
            args.repeat,
        )
        line("espfleet cmtrace.parse", sec, n, size)
        print(numpy_share(blobs))
        rsec, rn = best(lambda bs: sum(regex_parse(b).num_rows for b in bs), blobs, 1)
        line("re.finditer baseline", rsec, rn, size)
        print(f"  speed-up over baseline: {rsec / sec:.2f}x")

    if args.plaso_python:
        named = {
            p.name.removesuffix(".gz"): b for p, b in zip(files, blobs, strict=True)
        }
        plaso_section(args.plaso_python, args.plaso_records, named, args.repeat)
    else:
        print("\nplaso: not run (pass --plaso-python PATH to a venv that has plaso)")


if __name__ == "__main__":
    main()
