"""`espfleet sql` reads the warehouse and nothing else: each refusal is one line and
a non-zero exit, never a traceback, and nothing is written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from espfleet import sandbox
from tests.fixtures import SAMPLE, ingest_without_prefect

ESPFLEET = str(Path(sys.executable).with_name("espfleet"))


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sandbox") / "warehouse"
    ingest_without_prefect(SAMPLE, root)
    return root


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if p.is_file()
    }


def sql(root: Path, query: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [ESPFLEET, "sql", query, "--warehouse", str(root)],
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize(
    ("query", "says"),
    [
        # The write the issue found: a data file of the warehouse overwritten.
        (
            "copy (select * from bundles limit 0) to "
            "'{root}/parquet/bundles/ingest_date=2025-01-01/x.parquet'",
            "refused: COPY is not allowed",
        ),
        ("copy (select 1) to '/tmp/espfleet-sandbox-test.csv'", "refused: COPY"),
        ("select * from read_text('/etc/passwd')", 'Cannot access file "/etc/passwd"'),
        ("select * from read_csv('/etc/passwd', sep=':')", "Permission Error"),
        ("attach '{root}/other.duckdb' as other", "refused: ATTACH is not allowed"),
        ("install httpfs", "refused: INSTALL is not allowed"),
        ("load httpfs", "refused: LOAD is not allowed"),
        ("set enable_external_access = true", "refused: SET is not allowed"),
        ("pragma enable_profiling", "refused: PRAGMA is not allowed"),
        ("create table t as select 1", "refused: CREATE is not allowed"),
        ("select 1; copy (select 1) to '{root}/x.csv'", "refused: COPY"),
        ("selct * from bundles", 'Parser Error: syntax error at or near "selct"'),
        ("select * from no_such_view", "Catalog Error"),
    ],
)
def test_each_refusal_is_one_line_and_a_nonzero_exit(sample, query, says):
    before = snapshot(sample)
    out = sql(sample, query.format(root=sample))
    assert out.returncode == 1
    assert out.stdout == ""
    assert out.stderr.count("\n") == 1, out.stderr
    assert out.stderr.startswith("espfleet sql: ")
    assert says in out.stderr
    assert "Traceback" not in out.stderr
    assert snapshot(sample) == before
    assert not Path("/tmp/espfleet-sandbox-test.csv").exists()


def test_reading_queries_and_variables_run(sample):
    out = sql(
        sample,
        "set variable espfleet_min_devices = 50; "
        "select count(*) filter (where small) as small from cohort_failure_rates",
    )
    assert out.returncode == 0, out.stderr
    with sandbox.sandboxed(sample) as con:
        cohorts = con.execute("select count(*) from cohort_failure_rates").fetchall()
    assert f"│ {cohorts[0][0]}" in out.stdout  # every cohort is small under 50
    csv = subprocess.run(
        [ESPFLEET, "sql", "describe bundles", "--format", "csv"]
        + ["--warehouse", str(sample)],
        capture_output=True,
        text=True,
    )
    assert '"site"' in csv.stdout


def test_duckdb_settings_alone_refuse_what_the_statement_check_would(sample):
    """Even a statement the check let through could not read or write outside."""
    with sandbox.sandboxed(sample) as con:
        for statement in (
            "copy (select 1) to '/tmp/espfleet-sandbox-test.csv'",
            "select * from read_text('/etc/passwd')",
            f"attach '{sample.parent}/x.duckdb' as x",
        ):
            with pytest.raises(duckdb.PermissionException):
                con.execute(statement).fetchall()
        with pytest.raises(duckdb.InvalidInputException, match="locked"):
            con.execute("set enable_external_access = true").fetchall()
        with pytest.raises(duckdb.InvalidInputException, match="locked"):
            con.execute("set allowed_directories = ['/']").fetchall()


def test_the_builtin_shell_applies_the_same_guards(sample):
    lines = iter(
        [
            "select count(*) as n",
            "from device_outcomes;",
            "copy (select 1) to 'x.csv';",
            ".quit",
        ]
    )
    shown, said = [], []
    with sandbox.sandboxed(sample) as con:
        status = sandbox.repl(
            con, shown.append, read=lambda _prompt: next(lines), say=said.append
        )
    # 40 ingested bundles, two of them with Try again: 42 attempts
    assert [t.to_pylist() for t in shown] == [[{"n": 42}]]
    assert said[-1] == (
        "refused: COPY is not allowed: espfleet sql only reads "
        "(SELECT, EXPLAIN and SET VARIABLE run)"
    )
    assert status == 1


def test_the_duckdb_cli_shell_is_read_only_and_confined(sample, tmp_path):
    script = "\n".join(
        [
            "select count(*) as n from device_outcomes;",
            "select * from read_text('/etc/passwd');",
            f"copy (select 1) to '{tmp_path}/out.csv';",
            f"attach '{tmp_path}/x.duckdb' as x;",
            "create view v as select 1;",
            ".once /tmp/espfleet-sandbox-test.txt",
            "set enable_external_access = true;",
            "",
        ]
    )
    out = subprocess.run(
        [ESPFLEET, "sql", "--warehouse", str(sample), "--shell", "duckdb"],
        input=script,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert "42" in out.stdout
    assert 'Cannot access file "/etc/passwd"' in out.stderr
    assert list(tmp_path.iterdir()) == []
    assert "read-only" in out.stderr
    assert "cannot be used in -safe mode" in out.stderr
    assert "COPY ... TO can still write into the warehouse's data folders" in out.stderr
    assert "the configuration has been locked" in out.stderr
    assert not Path("/tmp/espfleet-sandbox-test.txt").exists()


def test_the_default_shell_is_the_builtin_one_with_every_guard(sample, tmp_path):
    script = "select count(*) as n from device_outcomes;\ncopy (select 1) to 'x.csv';\n"
    out = subprocess.run(
        [ESPFLEET, "sql", "--warehouse", str(sample)],
        input=script,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert "42" in out.stdout and "refused: COPY is not allowed" in out.stdout
    assert list(tmp_path.iterdir()) == [] and out.returncode == 1
