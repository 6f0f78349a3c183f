"""espfleet.runs: the lock, ordered run ids, the marker, the sweep."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from espfleet import runs
from espfleet.errors import WarehouseBusy, WarehouseError
from espfleet.warehouse import MANIFEST, Warehouse, new_run_id, write_parquet

HOLD = """
import sys, time
from pathlib import Path
from espfleet import runs
with runs.run_lock(Path(sys.argv[1]), 0):
    runs.note_run_id(Path(sys.argv[1]), "20261201T010203.000004Z-abcd")
    print("held", flush=True)
    time.sleep(600)
"""


def holder(warehouse: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(warehouse)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline() == "held\n"
    return proc


def test_a_second_run_waits_then_names_the_holder(tmp_path):
    proc = holder(tmp_path)
    try:
        started = time.monotonic()
        with pytest.raises(WarehouseBusy) as caught:
            with runs.run_lock(tmp_path, wait_s=1.0):
                pass
        assert 1.0 <= time.monotonic() - started < 5
        assert re.fullmatch(
            rf"warehouse {re.escape(str(tmp_path))} is in use by run"
            rf" 20261201T010203\.000004Z-abcd \(pid {proc.pid} on \S+, since \S+:"
            r" .*\); waited 1 s \(--lock-wait to wait longer\)",
            str(caught.value),
        )
        assert caught.value.exit_code == 75
    finally:
        proc.kill()
        proc.wait()


def test_a_holder_killed_with_sigkill_leaves_no_stale_lock(tmp_path):
    proc = holder(tmp_path)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    started = time.monotonic()
    with runs.run_lock(tmp_path, wait_s=0):
        assert time.monotonic() - started < 1


def test_the_lock_is_reentrant_and_released_on_an_exception(tmp_path):
    with pytest.raises(ZeroDivisionError):
        with runs.run_lock(tmp_path, 0):
            with runs.run_lock(tmp_path, 0):
                record = json.loads((tmp_path / runs.LOCK_NAME).read_text())
                assert record["pid"] == os.getpid() and record["boot_id"]
            raise ZeroDivisionError
    assert (tmp_path / runs.LOCK_NAME).read_bytes() == b""
    proc = holder(tmp_path)  # another process can take it now
    proc.kill()
    proc.wait()


def test_run_ids_are_unique_and_ordered_even_within_a_microsecond():
    now = datetime(2026, 12, 1, 1, 2, 3, 4, tzinfo=UTC)
    ids = [new_run_id(now)]
    for _ in range(50):
        ids.append(new_run_id(now, after=ids[-1]))
    assert ids == sorted(ids) and len(set(ids)) == 51
    assert ids[0].startswith("20261201T010203.000004Z-")
    # after an id of the older, second-precise form, of the same second
    assert (
        new_run_id(now, after="20261201T010203Z-1a2b3c4d") > "20261201T010203Z-1a2b3c4d"
    )
    # a clock that stepped back
    assert (
        new_run_id(now, after="20261202T000000.000000Z-ffff")
        > "20261202T000000.000000Z-ffff"
    )


def test_next_run_id_follows_the_warehouse_not_the_clock(tmp_path):
    wh = Warehouse(tmp_path)
    later = "20991231T235959.999999Z-ffff"
    write_parquet(
        MANIFEST.empty_table(), tmp_path / "manifest" / f"{later}-b00000.parquet"
    )
    first = runs.next_run_id(wh)
    assert first > later and runs.next_run_id(wh) > first


def test_claim_marks_a_new_folder_and_refuses_a_foreign_one(tmp_path):
    runs.claim(Warehouse(tmp_path / "new"))
    assert (
        json.loads((tmp_path / "new" / runs.MARKER_NAME).read_text())[
            "espfleet_warehouse"
        ]
        == 1
    )
    foreign = tmp_path / "home"
    foreign.mkdir()
    for name in ("thesis.docx", "photos", "notes.txt", "x.csv"):
        (foreign / name).write_text("mine")
    with pytest.raises(
        WarehouseError,
        match=r"is not an espfleet warehouse: it holds 4 other entries \(notes\.txt, photos, thesis\.docx, \.\.\.\) and no \.espfleet-warehouse marker",
    ):
        runs.claim(Warehouse(foreign))
    assert sorted(p.name for p in foreign.iterdir()) == [
        "notes.txt",
        "photos",
        "thesis.docx",
        "x.csv",
    ]


def test_an_unmarked_warehouse_of_an_older_espfleet_is_adopted(tmp_path):
    for sub in ("parquet", "manifest", "quarantine"):
        (tmp_path / sub).mkdir()
    (tmp_path / "espfleet.duckdb").write_bytes(b"")
    runs.claim(Warehouse(tmp_path))
    assert (tmp_path / runs.MARKER_NAME).exists()


def test_readers_refuse_a_foreign_folder_in_one_line_and_say_what_to_run(tmp_path):
    from click.testing import CliRunner

    from espfleet.cli import main

    foreign = tmp_path / "home"
    foreign.mkdir()
    (foreign / "thesis.docx").write_text("mine")
    with pytest.raises(
        WarehouseError,
        match=r"is not an espfleet warehouse \(no \.espfleet-warehouse marker",
    ):
        runs.require(Warehouse(foreign))
    runs.require(Warehouse(tmp_path / "nowhere"))  # espfleet.database explains these
    for folder, code, line in (
        (
            foreign,
            2,
            f"espfleet: {foreign} is not an espfleet warehouse (no .espfleet-warehouse marker, no espfleet.duckdb): give --warehouse the folder `espfleet ingest` wrote",
        ),
        (
            tmp_path / "nowhere",
            2,
            f"espfleet: no warehouse in {tmp_path / 'nowhere'}: run `espfleet ingest SOURCE --warehouse {tmp_path / 'nowhere'}` (or `espfleet run` for the sample)",
        ),
    ):
        for command in (
            ["report", "failure_rates"],
            ["device", "X"],
            ["sql", "select 1"],
        ):
            result = CliRunner().invoke(main, [*command, "--warehouse", str(folder)])
            assert (result.exit_code, result.output.splitlines()) == (code, [line]), (
                command
            )


def test_sweep_removes_what_uncommitted_batches_left(tmp_path):
    wh = Warehouse(tmp_path)
    table = pa.table({"bundle_id": ["b1"], "ingest_run_id": ["r1"]})
    day = tmp_path / "parquet" / "bundles" / "ingest_date=2026-12-01"
    for stem in ("r1-b00000", "r1-b00001", "r0-empty"):
        write_parquet(table, day / f"{stem}.parquet")
    rows = [{"bundle_id": "b1", "status": "ingested", "ingest_run_id": "r1"}]
    write_parquet(
        pa.Table.from_pylist(rows, schema=MANIFEST),
        tmp_path / "manifest" / "r1-b00000.parquet",
    )
    wh.quarantine("q1", "share/q1", "bad", "r1")
    wh.quarantine("q2", "share/q2", "bad", "r2")  # its run never committed
    (day / ".r1-b00002.parquet.1234abcd.tmp").write_bytes(b"partial")
    gone = sorted(p.name for p in runs.sweep(wh))
    assert gone == [".r1-b00002.parquet.1234abcd.tmp", "q2.json", "r1-b00001.parquet"]
    assert sorted(p.name for p in day.iterdir()) == [
        "r0-empty.parquet",
        "r1-b00000.parquet",
    ]
