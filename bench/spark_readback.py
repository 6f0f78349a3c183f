"""Read every table of a warehouse with Apache Spark in local mode (run by hand).

Spark needs Java (OpenJDK 17 works) and pyspark, which espfleet does not depend
on; run it from a venv of its own::

    python -m venv /tmp/spark && /tmp/spark/bin/pip install pyspark pyarrow
    /tmp/spark/bin/python bench/spark_readback.py warehouse

It prints, per table, the rows and columns Spark reads (Hive partitions
included), the rows pyarrow reads, the Spark type of each unsigned or
timestamp column, and the schema version in the files' metadata. The result of
a run is in docs/warehouse.md ("Reading the Parquet elsewhere").
"""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow.parquet as pq
from pyspark.sql import SparkSession


def main(root: Path) -> int:
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("espfleet-readback")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    status = 0
    folders = sorted((root / "parquet").iterdir()) + [root / "reference"]
    for folder in folders:
        paths = sorted(folder.rglob("*.parquet"))
        arrow_rows = sum(pq.read_metadata(p).num_rows for p in paths)
        version = pq.read_metadata(paths[0]).metadata[b"espfleet.schema_version"]
        frame = spark.read.option("mergeSchema", "true").parquet(str(folder))
        spark_rows = frame.count()
        special = {
            f.name: f.dataType.simpleString()
            for f in frame.schema.fields
            if f.name in ("error_code", "code_u32", "ingested_at", "ts_utc")
        }
        ok = spark_rows == arrow_rows
        status |= not ok
        print(
            f"{folder.name:16} spark {spark_rows:7} rows {len(frame.columns):3} cols"
            f"  pyarrow {arrow_rows:7}  v{version.decode()}"
            f"  {'ok' if ok else 'DIFFERENT'}  {special}"
        )
    print(f"spark {spark.version}")
    spark.stop()
    return status


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "warehouse")))
