"""Real public bundles through the pipeline: what the warehouse says about each device."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import pytest

from espfleet.warehouse import Warehouse
from tests.conftest import corpus_file
from tests.fixtures import ingest_without_prefect

CABS = (
    "cab/MDMDiagReport_itziktdk-MyRes_2024.cab",
    "cab/MDMDiagReport_joopjaeng-jaeng_2020.cab",
)
LONE_EVTX = "evtx/cab_joopjaeng-jaeng__shell-core-operational.evtx"


@pytest.fixture(scope="module")
def warehouse(corpus, tmp_path_factory):
    root = tmp_path_factory.mktemp("real")
    share = root / "share"
    for n, relative in enumerate(CABS + (LONE_EVTX,)):
        folder = share / f"bundle{n}"
        folder.mkdir(parents=True)
        source = corpus_file(corpus, relative)
        name = source.name if n < len(CABS) else "shell-core-operational.evtx"
        shutil.copy(source, folder / name)
    ingest_without_prefect(share, root / "wh")
    return root / "wh"


def attributes(warehouse) -> dict[str, dict]:
    """The CABs' rows by device name (the lone .evtx, bundle2, is LAPTOP-CHANADA too:
    without this cut, which of the two rows a dict keeps depends on row order)."""
    with Warehouse(warehouse).connect() as con:
        cur = con.execute(
            "select device_attributes.* from device_attributes"
            " inner join stg_ingest__bundles using (bundle_id)"
            " where stg_ingest__bundles.source_uri not like ?",
            [f"%bundle{len(CABS)}"],
        )
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    return {r["device_name"]: r for r in rows}


def test_real_cabs_give_their_os_build_from_the_report_xml(warehouse):
    found = attributes(warehouse)
    myres, jaeng = found["PAW-CSM-FKF6D54"], found["LAPTOP-CHANADA"]
    assert (myres["os_version"], myres["os_build"], myres["ubr"]) == (
        "10.0.22631.3296",
        "22631.3296",
        3296,
    )
    assert (jaeng["os_version"], jaeng["os_build"], jaeng["build_number"]) == (
        "10.0.19592.1001",
        "19592.1001",
        19592,
    )
    assert (myres["edition"], myres["manufacturer"], myres["model"]) == (
        "Professional",
        "HP",
        "HP ProDesk 600 G6 Small Form Factor PC",
    )
    assert myres["collected_at"] == datetime(2024, 4, 3, 7, 45, 12, tzinfo=UTC)
    assert myres["tenant_id"] == "78820852-55fa-450b-908d-45c0d911e76b"  # JoinInfo
    assert (
        jaeng["utc_offset_min"] == 420
        and jaeng["device_zone_source"] == "cab_member_times"
    )


def test_a_lone_evtx_bundle_is_named_by_its_records(warehouse):
    with Warehouse(warehouse).connect() as con:
        names = con.execute(
            "select device_name, layout from stg_ingest__bundles order by all"
        ).fetchall()
    assert ("LAPTOP-CHANADA", "folder") in names and len(names) == 3


def test_members_no_parser_reads_are_counted_by_kind(warehouse):
    with Warehouse(warehouse).connect() as con:
        kinds = dict(
            con.execute(
                "select file_kind, members from unread_members "
                "where reason = 'no parser for this format'"
            ).fetchall()
        )
    assert kinds["MDMDiagHTMLReport.html"] == 1 and kinds["MDMDiagHtmlReport.html"] == 1
    assert kinds["DiagnosticLogCSP_Collector_Autopilot_#_#_#_#_#_#.etl"] == 4


def test_the_real_warehouse_passes_every_declared_check(warehouse):
    from espfleet.quality import check_views

    with Warehouse(warehouse).connect() as con:
        failed = [r for r in check_views(con) if not r.ok]
    assert failed == []
