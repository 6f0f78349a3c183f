"""What a warehouse's data files cost DuckDB in cached footers.

    .venv/bin/python bench/bench_footers.py WAREHOUSE

DuckDB reads a Parquet file's footer for every query over it, and with
`parquet_metadata_cache` on (espfleet's connections, `database.reach`) keeps
it parsed, per column chunk: the cache follows the number of files times
their columns, not their rows (docs/scale.md "Fewer files"). This reads the
(bundle, file) pairs of each table, as `espfleet refresh` does to choose each
bundle's file, then prints the files per table, the column chunks, and the
object cache DuckDB reports (`duckdb_memory()`).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import duckdb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("warehouse", type=Path)
    root = parser.parse_args().warehouse / "parquet"
    con = duckdb.connect(config={"memory_limit": "4GB"})
    con.execute("set parquet_metadata_cache = true")
    started = time.perf_counter()
    files = chunks = 0
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        pattern = str(folder / "*" / "*.parquet")
        n, c = con.execute(
            "select count(distinct file_name), count(*) from parquet_metadata(?)",
            [pattern],
        ).fetchone()
        con.execute(
            "select count(*) from (select distinct bundle_id, filename"
            " from read_parquet(?, filename = true, union_by_name = true))",
            [pattern],
        ).fetchall()
        files, chunks = files + n, chunks + c
        print(f"  {folder.name:20s} {n:7,d} files {c:9,d} column chunks")
    cached = con.execute(
        "select coalesce(sum(memory_usage_bytes), 0) from duckdb_memory()"
        " where tag = 'OBJECT_CACHE'"
    ).fetchone()[0]
    print(
        f"{files:,d} files, {chunks:,d} column chunks: {cached / 2**20:.0f} MiB of"
        f" cached footers ({time.perf_counter() - started:.1f} s)"
    )


if __name__ == "__main__":
    main()
