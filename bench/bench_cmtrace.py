"""Speed of the CMTrace parser (parsers/cmtrace), and of plaso's sccm plugin.

Run (one core):
    taskset -c 0 .venv/bin/python bench/bench_cmtrace.py [--records 1000000]
        [--repeat 3] [--corpus ../shared/corpus]
        [--plaso-python /tmp/plaso-venv/bin/python]

Prints records/s and MB/s for sniff (64 KiB heads) and `cmtrace.parse`, and how
many records the canonical-record reader took, on a deterministic synthetic log
and on the real corpus files. plaso's sccm plugin runs in its own venv when given.
"""

from __future__ import annotations

import argparse
import gzip
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa

from espfleet.parsers import cmtrace
from espfleet.parsers.cmtrace import blocks, canonical

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


def canonical_share(blobs: list[bytes]) -> str:
    """How many records the canonical-record reader took, of all openers."""
    took = total = 0
    for data in blobs:
        body = cmtrace._utf8_body(data, "", [])
        for _, block, _ in blocks._blocks(body):
            found = canonical.scan_canonical(block)
            if found is not None:
                took += len(found["good"])
                total += len(found["openers"])
    share = took / max(total, 1)
    return f"  canonical reader took {took} of {total} records ({share:.1%})"


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
        "--corpus", default=os.environ.get("ESPFLEET_CORPUS", "../shared/corpus")
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
    print(canonical_share([data]))

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
        print(canonical_share(blobs))

    if args.plaso_python:
        named = {
            p.name.removesuffix(".gz"): b for p, b in zip(files, blobs, strict=True)
        }
        plaso_section(args.plaso_python, args.plaso_records, named, args.repeat)
    else:
        print("\nplaso: not run (pass --plaso-python PATH to a venv that has plaso)")


if __name__ == "__main__":
    main()
