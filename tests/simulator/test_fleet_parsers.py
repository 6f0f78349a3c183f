"""Simulated bundles read cleanly through the project's own parsers.

The facts each parser reads must match the
ground truth the simulator wrote.
"""

from __future__ import annotations

import csv
from pathlib import Path

import libarchive
import pytest

from espfleet.parsers import cmtrace, regfile
from espfleet.parsers.events import evtx as pevtx
from espfleet.simulator.fleet import simulate


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[dict, Path, dict]]:
    out = tmp_path_factory.mktemp("share")
    gt = simulate(30, 5, out)
    rows = list(csv.DictReader(gt.open(encoding="utf-8")))
    result = []
    for row in rows:
        path = out / row["bundle_path"]
        if row["expected_status"] != "ingested" or not path.is_dir():
            continue
        with libarchive.memory_reader(next(path.glob("*.cab")).read_bytes()) as arc:
            members = {e.pathname: b"".join(e.get_blocks()) for e in arc}
        result.append((row, path, members))
    assert len(result) >= 15
    return result


def test_registry_dump_parses_without_warnings(bundles: list) -> None:
    for _, _, members in bundles:
        res = regfile.parse(members["MdmDiagReport_RegistryDump.reg"])
        assert not res.warnings and res.skipped == 0
        assert set(res.table.column("dialect").to_pylist()) == {"mdmdiag"}


def test_shell_core_evtx_parses_every_record(bundles: list) -> None:
    for _, _, members in bundles:
        res = pevtx.parse(members["microsoft-windows-shell-core-operational.evtx"])
        assert not res.warnings and res.skipped == 0
        assert set(res.table.column("event_id").to_pylist()) == {62407}


def test_cm_logs_parse_and_keep_the_written_bias(bundles: list) -> None:
    for row, path, members in bundles:
        ime = cmtrace.parse(members["IntuneManagementExtension.log"])
        assert ime.skipped == 0 and ime.table.num_rows > 5
        for stem in ("ccmsetup", "smsts"):
            files = [
                (f.name, f.read_bytes())
                for f in path.iterdir()
                if f.name.startswith(stem)
            ]
            if not files or (stem == "smsts" and row["cause"] == "ok"):
                continue  # ok bundles may carry a deliberately damaged smsts.log
            res = cmtrace.parse_set(files)
            assert not res.warnings and res.skipped == 0, (
                row["bundle_path"],
                res.warnings,
            )
            t = res.table
            assert set(t.column("ts_confidence").to_pylist()) == {"exact"}
