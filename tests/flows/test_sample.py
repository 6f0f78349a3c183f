"""The committed sample: the warehouse's answers equal its ground truth exactly."""

from __future__ import annotations

import pytest

from espfleet.warehouse import Warehouse
from tests.fixtures import (
    OUTCOMES_SQL,
    RATES_BY_ATTEMPT_SQL,
    RATES_SQL,
    SAMPLE,
    expected_outcomes,
    expected_rates,
    expected_rates_by_attempt,
    ground_truth,
    ingest_without_prefect,
)


@pytest.fixture(scope="module")
def sample_warehouse(tmp_path_factory):
    warehouse = tmp_path_factory.mktemp("sample") / "warehouse"
    totals = ingest_without_prefect(SAMPLE, warehouse)
    return warehouse, totals


def test_sample_failure_rates_equal_ground_truth(sample_warehouse):
    warehouse, _ = sample_warehouse
    with Warehouse(warehouse).connect() as con:
        got = con.execute(RATES_SQL).fetchall()
    assert got == expected_rates(ground_truth(SAMPLE / "ground_truth.csv"))


def test_sample_rates_per_attempt_equal_ground_truth(sample_warehouse):
    warehouse, _ = sample_warehouse
    with Warehouse(warehouse).connect() as con:
        got = con.execute(RATES_BY_ATTEMPT_SQL).fetchall()
    assert got == expected_rates_by_attempt(ground_truth(SAMPLE / "ground_truth.csv"))


def test_sample_device_outcomes_equal_ground_truth(sample_warehouse):
    warehouse, _ = sample_warehouse
    with Warehouse(warehouse).connect() as con:
        got = con.execute(OUTCOMES_SQL).fetchall()
    assert got == expected_outcomes(ground_truth(SAMPLE / "ground_truth.csv"))


def test_sample_quarantines_exactly_the_damaged_bundles(sample_warehouse):
    _, totals = sample_warehouse
    truth = ground_truth(SAMPLE / "ground_truth.csv")
    expected = sorted(
        r["bundle_path"] for r in truth if r["expected_status"] == "quarantined"
    )
    got = sorted(
        str(__import__("pathlib").Path(uri).relative_to(SAMPLE))
        for uri, _ in totals["quarantine_reasons"]
    )
    assert got == expected and expected


def test_sample_warehouse_passes_every_declared_check(sample_warehouse):
    from espfleet.quality import check_views

    warehouse, _ = sample_warehouse
    with Warehouse(warehouse).connect() as con:
        failed = [r for r in check_views(con) if not r.ok]
    assert failed == []


def invoke(*args: str):
    from click.testing import CliRunner

    from espfleet.cli import main

    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_device_command_prints_diagnosis_and_timeline(sample_warehouse):
    warehouse, _ = sample_warehouse
    truth = ground_truth(SAMPLE / "ground_truth.csv")
    failed = next(r for r in truth if r["cause"] == "ts_step_failed")
    out = invoke(
        "device", failed["serial_number"], "--warehouse", str(warehouse)
    ).output
    assert "PROVISIONTS task sequence failed at step" in out
    assert failed["error_code"] in out and "smsts" in out


def test_device_command_fails_for_an_unknown_device(sample_warehouse):
    warehouse, _ = sample_warehouse
    result = invoke("device", "NO-SUCH-DEVICE", "--warehouse", str(warehouse))
    assert result.exit_code == 1 and "no device" in result.output


def test_report_csv_is_the_failure_rates(sample_warehouse):
    warehouse, _ = sample_warehouse
    lines = invoke(
        "report", "failure_rates", "--format", "csv", "--warehouse", str(warehouse)
    ).output.splitlines()
    expected = expected_rates(ground_truth(SAMPLE / "ground_truth.csv"))
    assert lines[0] == '"day","phase","error_code","devices","failures","rate"'
    assert len(lines) - 1 == len(expected)


def test_report_since_filters_days(sample_warehouse):
    warehouse, _ = sample_warehouse
    expected = expected_rates(ground_truth(SAMPLE / "ground_truth.csv"))
    last_day = expected[-1][0]
    out = invoke(
        "report",
        "failure_rates",
        "--since",
        last_day,
        "--format",
        "json",
        "--warehouse",
        str(warehouse),
    ).output
    assert {__import__("json").loads(line)["day"] for line in out.splitlines()} == {
        last_day
    }


def copies_of_one_bundle(tmp_path):
    import shutil

    folder = next(
        p for p in sorted(SAMPLE.rglob("*")) if p.is_dir() and any(p.glob("*.log"))
    )
    for copy in ("a", "b"):
        shutil.copytree(folder, tmp_path / "share" / copy / folder.name)
    return tmp_path / "share"


def test_a_second_copy_of_a_bundle_is_a_duplicate(tmp_path):
    from tests.fixtures import ingest_without_prefect

    totals = ingest_without_prefect(copies_of_one_bundle(tmp_path), tmp_path / "wh")
    assert (totals["ingested"], totals["duplicates"]) == (1, 1)


def test_copies_ingested_by_parallel_batches_count_once(tmp_path):
    from espfleet import pipeline
    from espfleet.warehouse import new_run_id

    share, wh = str(copies_of_one_bundle(tmp_path)), tmp_path / "wh"
    run_id = new_run_id()
    refs = pipeline.find_new_bundles(share, wh).new
    for n, ref in enumerate(
        refs
    ):  # as two concurrent batches would: neither sees the other
        pipeline.ingest_batch(share, [ref], wh, run_id, f"b{n}", reprocess=True)
    pipeline.refresh_warehouse(wh, run_id)
    with Warehouse(wh).connect() as con:
        assert con.execute("select count(*) from device_outcomes").fetchone() == (1,)
        assert con.execute(
            "select count(*) = count(distinct (member, record_no)) from stg_cmtrace__entries"
        ).fetchone() == (True,)
