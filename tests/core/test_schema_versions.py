"""Every Parquet file names its table and schema version; pyarrow, fastparquet,
DuckDB and polars read every table back with its rows and columns."""

from __future__ import annotations

from pathlib import Path

import duckdb
import fastparquet
import polars as pl
import pyarrow.parquet as pq
import pytest

from espfleet import warehouse as wh
from espfleet.database import DERIVED
from tests.fixtures import SAMPLE, ingest_without_prefect


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("versions") / "warehouse"
    ingest_without_prefect(SAMPLE, root)
    return root


def files(root: Path) -> list[Path]:
    return sorted(
        list((root / "parquet").glob("*/*/*.parquet"))
        + list((root / "reference").glob("*.parquet"))
        + list((root / "derived").glob("*.parquet"))
        + list((root / "manifest").glob("*.parquet"))
    )


def table_of(path: Path) -> str:
    if path.parent.name in ("reference", "derived"):
        return path.stem
    if path.parent.name == "manifest":
        return "manifest"
    return path.parent.parent.name


DECLARED = sorted(set(wh.SCHEMA_VERSIONS) - set(DERIVED))


@pytest.mark.parametrize("table", DECLARED)
def test_a_schema_change_comes_with_a_new_version(table):
    version, fingerprint = wh.SCHEMA_VERSIONS[table]
    assert wh.schema_fingerprint(wh.warehouse_schema(table)) == fingerprint, (
        f"{table}'s columns changed: give it a new version in "
        "warehouse.SCHEMA_VERSIONS by the rule of docs/warehouse.md "
        "'Schema versions', with the new fingerprint"
    )
    major, minor = version.split(".")
    assert major.isdigit() and minor.isdigit()


def test_every_table_has_a_version():
    tables = set(wh.ALL_TABLES) | set(wh.REFERENCE_TABLES) | set(DERIVED)
    assert set(wh.SCHEMA_VERSIONS) == tables | {"manifest"}


def test_every_file_records_its_table_and_schema_version(sample):
    found = files(sample)
    assert {table_of(p) for p in found} == set(wh.SCHEMA_VERSIONS)
    for path in found:
        meta = pq.read_metadata(path).metadata
        table = table_of(path)
        assert meta[b"espfleet.table"] == table.encode(), path
        assert meta[b"espfleet.schema_version"] == (
            wh.SCHEMA_VERSIONS[table][0].encode()
        ), path
        # A derived view's file holds the columns the view has now.
        assert meta[b"espfleet.schema_fingerprint"] == (
            wh.SCHEMA_VERSIONS[table][1].encode()
        ), f"{table}'s columns changed: give it a new version in SCHEMA_VERSIONS"
    derived = [p for p in found if p.parent.name == "derived"]
    assert sorted(p.stem for p in derived) == sorted(DERIVED)


def test_duckdb_reads_the_version_from_the_file(sample):
    path = next((sample / "parquet" / "bundles").glob("*/*.parquet"))
    got = duckdb.execute(
        "select decode(value) from parquet_kv_metadata(?)"
        " where decode(key) = 'espfleet.schema_version'",
        [str(path)],
    ).fetchall()
    assert got == [("1.1",)]  # bundles 1.1 (utc_offset_min)


@pytest.mark.parametrize("table", sorted(wh.SCHEMA_VERSIONS))
def test_four_readers_agree_on_every_table(sample, table):
    paths = [p for p in files(sample) if table_of(p) == table]
    names = (
        pq.read_schema(paths[0]).names
        if table in DERIVED
        else wh.warehouse_schema(table).names
    )
    arrow = sum(pq.read_table(p).num_rows for p in paths)
    assert all(pq.read_table(p).schema.names == names for p in paths)
    fp = sum(len(fastparquet.ParquetFile(str(p)).to_pandas()) for p in paths)
    assert all(fastparquet.ParquetFile(str(p)).columns == names for p in paths)
    duck = duckdb.execute(
        "select count(*) from read_parquet(?, union_by_name = true)",
        [[str(p) for p in paths]],
    ).fetchall()[0][0]
    polar = sum(pl.read_parquet(p).height for p in paths)
    assert all(pl.read_parquet(p).columns == names for p in paths)
    assert arrow == fp == duck == polar
    if table in ("bundles", "cm_log_entries", "error_codes", "device_outcomes"):
        assert arrow > 0
