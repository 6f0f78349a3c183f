"""The DuckDB file: opened by the real DuckDB 1.x CLI and by DuckDB 2 from anywhere,
moved with one command, and refused with one line when missing or too old."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from espfleet import sandbox
from espfleet.database import DB_NAME, sql_views
from espfleet.warehouse import Warehouse
from tests.fixtures import SAMPLE, ingest_without_prefect

ESPFLEET = str(Path(sys.executable).with_name("espfleet"))
# Every view of sql/ and the analysts' plain names.
VIEWS = [name for name, _ in sql_views()] + ["bundles", "events", "error_codes"]


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("db") / "warehouse"
    ingest_without_prefect(SAMPLE, root)
    return root


def counts_sql() -> str:
    return " union all ".join(
        f"select '{v}' as view, count(*) as n from \"{v}\"" for v in VIEWS
    )


def cli(db: Path, sql: str, cwd: Path) -> subprocess.CompletedProcess:
    command = [sandbox.duckdb_cli() or "duckdb", "-readonly", "-csv", str(db)]
    return subprocess.run(
        command + ["-c", sql], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def python_counts(root: Path) -> dict[str, int]:
    with Warehouse(root).connect() as con:
        return dict(con.execute(counts_sql()).fetchall())


def test_the_cli_is_the_1x_one_from_pypi():
    out = subprocess.run(
        [sandbox.duckdb_cli() or "duckdb", "--version"], capture_output=True, text=True
    )
    assert out.stdout.startswith("v1."), out.stdout


@pytest.mark.parametrize("where", ["warehouse", "elsewhere"])
def test_duckdb_1x_cli_answers_every_view_from_any_directory(sample, tmp_path, where):
    cwd = sample if where == "warehouse" else tmp_path
    db = Path(DB_NAME) if where == "warehouse" else sample / DB_NAME
    out = cli(db, counts_sql(), cwd)
    assert out.returncode == 0, out.stderr
    rows = dict(line.split(",") for line in out.stdout.splitlines()[1:])
    expected = python_counts(sample)
    assert {k: int(v) for k, v in rows.items()} == expected
    assert expected["device_outcomes"] == 42  # 40 bundles, 2 with Try again
    assert expected["bundles"] == 41
    assert expected["error_codes"] > 150


def test_duckdb_2_answers_from_another_directory_with_no_settings(sample, tmp_path):
    script = (
        "import duckdb, sys\n"
        "con = duckdb.connect(sys.argv[1], read_only=True)\n"
        "print(con.execute('select count(*) from device_outcomes').fetchall()[0][0])\n"
        "print(duckdb.__version__)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(sample / DB_NAME)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    count, version = out.stdout.split()
    assert (count, version.split(".")[0]) == ("42", "2")


def test_a_moved_warehouse_needs_one_refresh_for_the_cli(sample, tmp_path):
    moved = tmp_path / "moved"
    shutil.copytree(sample, moved)
    original = sample.with_name("parked")
    sample.rename(original)  # the recorded path no longer exists
    try:
        # espfleet's own connections follow the folder at once...
        assert python_counts(moved)["device_outcomes"] == 42
        # ...the CLI reads the recorded path until `espfleet refresh`.
        before = cli(moved / DB_NAME, "select count(*) from bundles", tmp_path)
        assert before.returncode != 0
        assert "No files found" in before.stderr
        done = subprocess.run(
            [ESPFLEET, "refresh", "--warehouse", str(moved)],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        after = cli(moved / DB_NAME, "select count(*) from bundles", tmp_path)
        assert after.stdout.splitlines()[1:] == ["41"]
    finally:
        original.rename(sample)


def run_espfleet(*args: str) -> subprocess.CompletedProcess:
    wide = os.environ | {"COLUMNS": "250"}  # a terminal wide enough for headers
    return subprocess.run([ESPFLEET, *args], capture_output=True, text=True, env=wide)


def test_a_folder_with_no_database_gets_one_line_saying_what_to_run(tmp_path):
    for command in (["report", "failure_rates"], ["sql", "select 1"]):
        out = run_espfleet(*command, "--warehouse", str(tmp_path / "none"))
        assert out.returncode == 2
        assert out.stderr.count("\n") == 1, out.stderr
        assert "espfleet ingest SOURCE --warehouse" in out.stderr
        assert "Traceback" not in out.stderr


def test_parquet_without_a_database_says_refresh(sample, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(sample / "parquet", copy / "parquet")
    out = run_espfleet("report", "failure_rates", "--warehouse", str(copy))
    assert out.returncode == 2
    assert out.stderr.strip().endswith(f"run `espfleet refresh --warehouse {copy}`")


def test_a_database_from_an_older_espfleet_says_refresh(sample, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(sample / "parquet", old / "parquet")
    # What espfleet 0.1.0 wrote: views only, no warehouse_info.
    con = duckdb.connect(str(old / DB_NAME))
    con.execute("create view failure_rates as select 1 as day")
    con.close()
    out = run_espfleet("report", "failure_rates", "--warehouse", str(old))
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1
    assert "built by an older espfleet" in out.stderr
    assert f"espfleet refresh --warehouse {old}" in out.stderr
    assert run_espfleet("refresh", "--warehouse", str(old)).returncode == 0
    again = run_espfleet("report", "failure_rates", "--warehouse", str(old))
    assert again.returncode == 0, again.stderr


def test_a_day_with_no_data_prints_the_header_and_exits_0(sample):
    out = run_espfleet(
        "report", "failure_rates", "--since", "2031-01-01", "--format", "csv",
        "--warehouse", str(sample),
    )  # fmt: skip
    assert out.returncode == 0
    assert out.stdout == '"day","phase","error_code","devices","failures","rate"\n'
    table = run_espfleet(
        "report", "newly_failing_devices", "--since", "2031-01-01",
        "--warehouse", str(sample),
    )  # fmt: skip
    assert table.returncode == 0
    assert "device_name" in table.stdout


def test_an_unknown_report_lists_the_reports(sample):
    out = run_espfleet("report", "nope", "--warehouse", str(sample))
    assert out.returncode == 2
    assert "no report 'nope'; reports: failure_rates," in out.stderr
    listing = run_espfleet("report", "--warehouse", str(sample))
    assert "cohort_failure_rates" in listing.stdout
