"""The committed sample: the warehouse's answers equal its ground truth exactly."""

from __future__ import annotations

from datetime import datetime, timedelta

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


def bundle_ids(con) -> dict[str, str]:
    """Ground-truth bundle_path -> bundle_id (a folder holding only a CAB is
    discovered as that archive)."""
    found = {}
    for uri, bundle_id in con.execute(
        "select source_uri, bundle_id from stg_ingest__bundles"
    ).fetchall():
        path = __import__("pathlib").Path(uri)
        if path.suffix.lower() in (".cab", ".zip") and "drop" not in path.parts:
            path = path.parent
        found[path.relative_to(SAMPLE).as_posix()] = bundle_id
    return found


def stored_time(con, bundle_id: str, member: str, key: int):
    table, column = (
        ("stg_events__events", "record_id")
        if member.endswith(".evtx")
        else ("stg_setup__entries", "line_no")
        if member.endswith("setupact.log")
        else ("stg_cmtrace__entries", "record_no")
    )
    return con.execute(
        f"select ts_utc, ts_confidence from {table} "  # noqa: S608 - our own names
        f"where bundle_id = ? and member = ? and {column} = ?",
        [bundle_id, member, key],
    ).fetchone()


def test_every_record_of_a_clock_case_bundle_is_stored_at_its_true_utc(
    sample_warehouse,
):
    import csv
    from datetime import datetime

    warehouse, _ = sample_warehouse
    with (SAMPLE / "record_times.csv").open(newline="", encoding="utf-8") as f:
        truth = list(csv.DictReader(f))
    cases = {
        r["bundle_path"]: r["clock_case"]
        for r in ground_truth(SAMPLE / "ground_truth.csv")
    }
    assert sorted(set(cases[r["bundle_path"]] for r in truth)) == [
        "no_zone_source",
        "skewed_clock",
        "zone_change",
    ]
    labels = set()
    with Warehouse(warehouse).connect() as con:
        ids = bundle_ids(con)
        for r in truth:
            bundle_id = ids[r["bundle_path"]]
            found = stored_time(con, bundle_id, r["member"], int(r["key"]))
            true = datetime.fromisoformat(r["true_utc"].replace("Z", "+00:00"))
            assert found is not None and found[0] == true, (r, found)
            labels.add(found[1])
    assert {"corrected_clock", "from_collection_offset", "from_log_offset"} <= labels


def test_clock_case_bundles_say_how_their_zone_and_clock_were_found(sample_warehouse):
    warehouse, _ = sample_warehouse
    truth = {r["bundle_path"]: r for r in ground_truth(SAMPLE / "ground_truth.csv")}
    with Warehouse(warehouse).connect() as con:
        paths = {v: k for k, v in bundle_ids(con).items()}
        rows = con.execute(
            "select b.bundle_id, b.device_zone_source,"
            " list(e.clock_offset_s order by e.era_no),"
            " list(e.opened_by order by e.era_no) from stg_ingest__bundles b"
            " join stg_clock__eras e using (bundle_id) group by all"
        ).fetchall()
    assert len(rows) == sum(r["expected_status"] == "ingested" for r in truth.values())
    for bundle_id, zone_source, offsets, opened in rows:
        uri = paths[bundle_id]
        expected = truth[uri]
        assert zone_source == expected["zone_source"], uri
        if expected["clock_case"] == "skewed_clock":
            assert offsets == [-float(expected["clock_skew_s"]), 0.0]
        elif expected["clock_case"] == "zone_change":
            assert opened == ["bundle_start", "zone_change"] and offsets == [0.0, 0.0]
        else:
            assert offsets == [0.0], uri


def test_device_timeline_of_a_skewed_bundle_fits_100_columns_and_marks_the_eras(
    sample_warehouse,
):
    warehouse, _ = sample_warehouse
    truth = ground_truth(SAMPLE / "ground_truth.csv")
    skewed = next(r for r in truth if r["clock_skew_s"] == "10800")
    out = invoke("device", skewed["serial_number"], "--warehouse", str(warehouse))
    lines = out.output.splitlines()
    assert out.exit_code == 0 and max(len(line) for line in lines) <= 100
    day = skewed["started_at"][:10]
    assert lines.count(f"{day} (UTC)") == 1  # the date once
    assert any(
        line.startswith(
            "  \u2500\u2500 era 0 (bundle_start): times corrected by -3 h 00 min"
        )
        for line in lines
    )
    assert any(
        line.startswith("  \u2500\u2500 era 1 (clock_correction)") for line in lines
    )
    moved = [line for line in lines if line[2:10].count(":") == 2 and line[10] == "*"]
    assert (
        moved and "  * time corrected for the device clock (raw time: --wide)" in lines
    )
    # the ESP started after the sync: its time is as written, minute 0
    start = skewed["started_at"][11:19]
    assert any(line.startswith(f"  {start}     +0 esp") for line in lines)


def test_device_wide_prints_the_raw_time_and_the_correction(sample_warehouse):
    warehouse, _ = sample_warehouse
    truth = ground_truth(SAMPLE / "ground_truth.csv")
    skewed = next(r for r in truth if r["clock_skew_s"] == "10800")
    out = invoke(
        "device", skewed["serial_number"], "--warehouse", str(warehouse), "--wide"
    )
    rows = [line.split("\t") for line in out.output.splitlines() if "\t" in line]
    header, body = rows[0], rows[1:]
    assert header[:6] == [
        "ts_utc",
        "ts_device_utc",
        "ts_local",
        "clock_offset_s",
        "clock_era",
        "ts_confidence",
    ]
    moved = [r for r in body if r[5] == "corrected_clock"]
    assert moved and all(r[3] == "-10800.0" for r in moved)
    first = moved[0]
    shown = datetime.fromisoformat(first[0].replace("Z", "+00:00"))
    raw = datetime.fromisoformat(first[1].replace("Z", "+00:00"))
    assert raw - shown == timedelta(hours=3)
