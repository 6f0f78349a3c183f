"""Registry parser speed on the largest real MdmDiag dump: lines/s and MB/s.

Usage: ESPFLEET_CORPUS=../shared/corpus .venv/bin/python bench/bench_registry.py [N]
Times `sniff` and `parse` separately (best of N runs after one warm-up run, which
also pays pyarrow's one-off pandas import), then `derive_esp_tracking`.
"""

from __future__ import annotations

import gzip
import os
import sys
import time
from pathlib import Path

from espfleet.parsers import regfile
from espfleet.parsers.derivers.esp_tracking import derive_esp_tracking


def largest_dump(corpus: Path) -> tuple[Path, bytes]:
    best: tuple[Path, bytes] | None = None
    for path in sorted((corpus / "reg").glob("*.reg*")):
        raw = path.read_bytes()
        data = gzip.decompress(raw) if path.suffix == ".gz" else raw
        if best is None or len(data) > len(best[1]):
            best = (path, data)
    if best is None:
        raise SystemExit(f"no .reg files under {corpus / 'reg'}")
    return best


def best_of(n: int, fn) -> float:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    corpus = Path(os.environ.get("ESPFLEET_CORPUS", "../shared/corpus"))
    path, data = largest_dump(corpus)
    lines = data.count(b"\n")
    head = data[:65536]
    result = regfile.parse(data)  # warm-up
    sniff_s = best_of(runs, lambda: regfile.sniff(head, path.name))
    parse_s = best_of(runs, lambda: regfile.parse(data))
    derive_s = best_of(runs, lambda: derive_esp_tracking(result.table))
    mb = len(data) / 1e6
    rows = result.table.num_rows
    print(f"file      {path.name} ({mb:.2f} MB, {lines:,} lines, {rows:,} rows)")
    print(f"sniff     {sniff_s * 1e3:.2f} ms")
    print(
        f"parse     {parse_s:.3f} s  {lines / parse_s:,.0f} lines/s  "
        f"{mb / parse_s:.1f} MB/s  {rows / parse_s:,.0f} rows/s"
    )
    print(f"derive    {derive_s * 1e3:.1f} ms  (esp_tracking from registry_values)")


if __name__ == "__main__":
    main()
