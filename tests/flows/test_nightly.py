"""The nightly flow end to end, through the real Prefect engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from espfleet.warehouse import Warehouse
from tests.fixtures import (
    OUTCOMES_SQL,
    RATES_SQL,
    bundles,
    expected_outcomes,
    expected_rates,
    ground_truth,
)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory, prefect_engine):
    """A freshly simulated fleet, ingested once by the flow."""
    from espfleet.flows.nightly import nightly
    from espfleet.simulator.fleet import simulate

    root = tmp_path_factory.mktemp("fleet")
    truth = simulate(devices=36, seed=20261126, out=root / "share")
    first = nightly(source=str(root / "share"), warehouse=root / "wh", batch_size=8)
    return root, Path(truth), first


def test_flow_rates_equal_ground_truth(fleet):
    root, truth, _ = fleet
    with Warehouse(root / "wh").connect() as con:
        assert con.execute(RATES_SQL).fetchall() == expected_rates(ground_truth(truth))
        assert con.execute(OUTCOMES_SQL).fetchall() == expected_outcomes(
            ground_truth(truth)
        )


def test_flow_reports_rates_and_passes_quality_checks(fleet):
    _, truth, first = fleet
    rows = bundles(ground_truth(truth))
    assert first["ingested"] == sum(r["expected_status"] == "ingested" for r in rows)
    assert first["quarantined"] == sum(
        r["expected_status"] == "quarantined" for r in rows
    )
    assert first["failed_checks"] == []
    assert len(first["failure_rates"]) == len(expected_rates(ground_truth(truth)))


def test_the_process_runner_writes_the_same_answers_as_threads(
    fleet, tmp_path, monkeypatch
):
    """`--task-runner auto` on a night that weighs PROCESS_NIGHT_BYTES: batches
    in two spawned worker processes (each imports espfleet afresh), every
    batch's rows in the warehouse, the same answers as the thread runner's
    warehouse and the ground truth; the workers end with the batches, before
    the refresh."""
    import multiprocessing

    from espfleet import api, pipeline, settings

    workers_at_refresh = []
    refresh = pipeline.refresh_warehouse

    def counting_workers(*args):
        workers_at_refresh.append(len(multiprocessing.active_children()))
        return refresh(*args)

    monkeypatch.setattr(pipeline, "refresh_warehouse", counting_workers)

    root, truth, first = fleet
    weight = sum(p.stat().st_size for p in (root / "share").rglob("*") if p.is_file())
    assert settings.task_runner_for(weight) == "thread"  # 36 small devices
    monkeypatch.setattr(settings, "PROCESS_NIGHT_BYTES", weight // 2)
    got = api.ingest(
        settings.RunSettings(
            source=str(root / "share"), warehouse=tmp_path / "wh", batch_size=8
        )
    )
    assert got["task_runner"] == "process"
    assert workers_at_refresh == [0]  # two while the batches ran
    assert (got["ingested"], got["quarantined"]) == (
        first["ingested"],
        first["quarantined"],
    )
    assert got["rows"] == first["rows"] and got["failed_checks"] == []
    assert got["batch_seconds"] > 0
    with Warehouse(tmp_path / "wh").connect() as con:
        assert con.execute(OUTCOMES_SQL).fetchall() == expected_outcomes(
            ground_truth(truth)
        )


def test_auto_chooses_processes_from_what_the_night_weighs():
    from espfleet.settings import PROCESS_NIGHT_BYTES, task_runner_for

    assert PROCESS_NIGHT_BYTES == 268_435_456
    assert task_runner_for(0) == "thread"
    assert task_runner_for(268_435_455) == "thread"
    assert task_runner_for(268_435_456) == "process"
    assert task_runner_for(3_465_000_000) == "process"  # 1,000 real-size devices


def test_second_run_ingests_nothing_and_changes_nothing(fleet):
    from espfleet.flows.nightly import nightly

    root, truth, _ = fleet
    again = nightly(source=str(root / "share"), warehouse=root / "wh", batch_size=8)
    assert (again["ingested"], again["quarantined"]) == (0, 0)
    assert again["already_seen"] == len(bundles(ground_truth(truth)))
    with Warehouse(root / "wh").connect() as con:
        assert con.execute(RATES_SQL).fetchall() == expected_rates(ground_truth(truth))


def test_moved_bundle_is_recognised_by_content(fleet, tmp_path):
    import shutil

    from espfleet.flows.nightly import nightly

    root, _, _ = fleet
    moved = tmp_path / "moved"
    first_bundle = next(
        p
        for p in sorted((root / "share").rglob("*"))
        if p.is_dir() and any(p.glob("*.log"))
    )
    shutil.copytree(first_bundle, moved / "elsewhere" / first_bundle.name)
    result = nightly(source=str(moved), warehouse=root / "wh", batch_size=8)
    assert (result["ingested"], result["duplicates"]) == (0, 1)


def test_every_table_file_reads_with_fastparquet(fleet):
    import fastparquet

    root, _, _ = fleet
    files = sorted((root / "wh" / "parquet").rglob("*.parquet"))
    # bundles, members and every parser, deriver and clock table
    assert len({f.parts[-3] for f in files}) == 15  # ime_app_reports since #9
    for f in files:
        frame = fastparquet.ParquetFile(str(f)).to_pandas()
        assert list(frame.columns)[:2] in (
            ["bundle_id", "member"],
            ["bundle_id", "ingest_run_id"],
        )


def test_no_temporary_or_partial_file_is_left_in_the_warehouse(fleet):
    root, _, _ = fleet
    # The marker and the (released) lock file are the warehouse's own.
    assert not [
        p
        for p in (root / "wh").rglob("*")
        if (p.name.startswith(".") or p.suffix == ".tmp")
        and p.name not in (".espfleet-warehouse", ".espfleet.lock")
    ]
    assert (root / "wh" / ".espfleet.lock").read_bytes() == b""


def test_dry_run_lists_new_bundles_and_writes_nothing(fleet, tmp_path):
    from espfleet.flows.nightly import nightly

    root, truth, _ = fleet
    result = nightly(
        source=str(root / "share"), warehouse=tmp_path / "wh", dry_run=True
    )
    assert len(result["new"]) == len(bundles(ground_truth(truth)))
    assert result["seen"] == 0
    assert not (tmp_path / "wh").exists()


def test_flow_publishes_the_rate_flags_and_newly_failing_devices(fleet):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from espfleet import reports

    root, _, first = fleet
    with Warehouse(root / "wh").connect() as con:
        flagged = reports.rate_flags(con).to_pylist()
        newly = reports.run(con, "newly_failing_devices").to_pylist()
    assert first["rate_flags"] == flagged
    assert first["newly_failing"] == newly
    assert "at least 5.0%" in first["flag_rule"]
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["rate-flags"]))
        )
        summary = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["espfleet-run"]))
        )
    ours = [a for a in found if a.description.startswith(first["run_id"] + ": ")]
    assert len(ours) == 1 and ours[0].description.endswith(first["flag_rule"])
    published = json.loads(ours[0].data)
    assert [(r["period"], r["phase"], r["error_code"]) for r in published] == [
        (r["period"], r["phase"], r["error_code"]) for r in flagged
    ]
    (markdown,) = [a.data for a in summary if a.description == first["run_id"]]
    assert "## Rate flags" in markdown
    assert f"Newly failing devices: {len(newly)}" in markdown


def test_the_flows_last_step_writes_the_dashboard_and_links_it(fleet):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    root, _, first = fleet
    index = root / "wh" / "dashboard" / "index.html"
    assert first["dashboard"] == index
    html = index.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "Devices to chase" in html
    assert (index.parent / "summary.png").read_bytes()[:4] == b"\x89PNG"
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["dashboard"]))
        )
    ours = [a for a in found if a.description == f"{first['run_id']}: {index}"]
    assert len(ours) == 1
    assert f"({index.resolve().as_uri()})" in ours[0].data


def test_the_end_of_the_run_says_where_the_dashboard_is(fleet, capsys):
    from espfleet.api import print_run
    from espfleet.settings import RunSettings

    root, _, first = fleet
    print_run(first, RunSettings(warehouse=root / "wh"))
    out = " ".join(capsys.readouterr().out.split())  # rich wraps at 80 columns
    index = root / "wh" / "dashboard" / "index.html"
    assert f"dashboard: {index} (one file; opens offline)" in out


def test_espfleet_check_runs_every_test_on_every_row(fleet, tmp_path):
    import shutil

    import duckdb
    from click.testing import CliRunner

    from espfleet.cli import main
    from espfleet.quality import view_docs

    root, _, _ = fleet
    declared = sum(
        len(c.get("tests", [])) for d in view_docs() for c in d.get("columns", [])
    ) + sum(len(d.get("tests", [])) for d in view_docs())
    done = CliRunner().invoke(main, ["check", "--warehouse", str(root / "wh")])
    assert (done.exit_code, done.output) == (
        0,
        f"data quality: {declared} checks, 0 failed\n",
    )
    # A DuckDB file an older espfleet built lacks the newer views: one line.
    copy = tmp_path / "wh"
    shutil.copytree(root / "wh", copy)
    with duckdb.connect(str(copy / "espfleet.duckdb")) as con:
        con.execute("drop view device_periods")
    done = CliRunner().invoke(main, ["check", "--warehouse", str(copy)])
    assert done.exit_code == 2
    assert done.output.splitlines() == [
        "espfleet: the warehouse's DuckDB file has no view device_periods: it was"
        " built by another espfleet; run `espfleet refresh` first"
    ]
