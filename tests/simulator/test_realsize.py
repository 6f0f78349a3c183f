"""Real-size simulated CABs against the real CABs of the corpus (issue #12 item 1).

The corpus CABs ([S-MYRES] 2024, [S-JAENG] 2020) are listed and their .evtx
members counted here, with libarchive and the evtx reader; the simulated CABs
must hold the same member families, at sizes and record counts inside the range
the real ones span. A change to either side that makes them drift apart fails.
"""

from __future__ import annotations

import io
from collections import defaultdict
from pathlib import Path

import evtx
import libarchive
import pytest

from espfleet.simulator.channels import DMEDP_EVTX
from espfleet.simulator.fleet import simulate
from espfleet.simulator.real_cab import family
from espfleet.warehouse import Warehouse
from tests.conftest import corpus_file
from tests.fixtures import (
    OUTCOMES_SQL,
    expected_outcomes,
    ground_truth,
    ingest_without_prefect,
)

CABS = {
    "S-MYRES": "cab/MDMDiagReport_itziktdk-MyRes_2024.cab",
    "S-JAENG": "cab/MDMDiagReport_joopjaeng-jaeng_2020.cab",
}
KINDS = {  # kind -> how a member name says it is one
    "evtx": lambda n: n.endswith(".evtx"),
    "etl": lambda n: ".etl" in n,
    "ime_logs": lambda n: n.endswith(".log") and n != "setupact.log",
    "registry": lambda n: n.endswith(".reg"),
    "report_xml": lambda n: n == "mdmdiagreport.xml",
    "report_html": lambda n: n.endswith(".html"),
}


def members(path: Path) -> dict[str, bytes]:
    with libarchive.file_reader(str(path)) as archive:
        return {e.pathname: b"".join(e.get_blocks()) for e in archive}


def zip_listing(path: Path) -> dict[str, int]:
    """Name -> size from the [S-GSAGAR] ZIP's listing (``size | time | name``)."""
    out = {}
    for line in path.read_text().splitlines()[1:]:
        size, _, name = (part.strip() for part in line.split("|"))
        out[name] = int(size)
    return out


def records(data: bytes) -> int:
    return sum(1 for _ in evtx.PyEvtxParser(io.BytesIO(data)).records())


def by_kind(sizes: dict[str, int]) -> dict[str, int]:
    out = dict.fromkeys(KINDS, 0)
    for name, size in sizes.items():
        for kind, test in KINDS.items():
            if test(name.lower()):
                out[kind] += size
    return out


@pytest.fixture(scope="module")
def real(corpus) -> dict[str, dict[str, bytes]]:
    return {tag: members(corpus_file(corpus, rel)) for tag, rel in CABS.items()}


@pytest.fixture(scope="module")
def simulated(tmp_path_factory) -> tuple[Path, list[dict[str, bytes]]]:
    share = tmp_path_factory.mktemp("real-size") / "share"
    simulate(devices=3, seed=11, out=share, size="real")
    cabs = sorted(share.rglob("*.cab"))
    assert len(cabs) == 3
    return share, [members(c) for c in cabs]


def test_the_corpus_cabs_are_the_ones_the_reference_table_was_derived_from(real):
    assert (len(real["S-MYRES"]), len(real["S-JAENG"])) == (50, 29)
    total = {tag: sum(map(len, m.values())) for tag, m in real.items()}
    assert total == {"S-MYRES": 44930085, "S-JAENG": 13599481}


def test_a_real_size_cab_holds_the_member_families_of_a_real_collection(
    real, simulated
):
    seen = {tag: {family(n) for n in m} for tag, m in real.items()}
    for cab in simulated[1]:
        fams = {family(n) for n in cab}
        assert fams - (seen["S-MYRES"] | seen["S-JAENG"]) == set()
        assert seen["S-MYRES"] - fams == set()
        assert len(fams) == 43


def test_sizes_by_kind_fall_inside_the_range_of_the_real_cabs(real, simulated):
    real_kinds = [by_kind({n: len(d) for n, d in m.items()}) for m in real.values()]
    totals = [sum(map(len, m.values())) for m in real.values()]
    for cab in simulated[1]:
        total = sum(map(len, cab.values()))
        assert 0.8 * min(totals) <= total <= 1.2 * max(totals)
        kinds = by_kind({n: len(d) for n, d in cab.items()})
        for kind, size in kinds.items():
            low = min(k[kind] for k in real_kinds if k[kind]) * 0.5
            high = max(k[kind] for k in real_kinds) * 1.5
            assert low <= size <= high, (kind, size, low, high)


def test_every_large_member_is_the_size_of_its_family_in_the_real_cabs(
    real, simulated, corpus
):
    sizes: dict[str, list[int]] = defaultdict(list)
    for m in real.values():
        for name, data in m.items():
            sizes[family(name)].append(len(data))
    listing = corpus_file(
        corpus, "cab/MDMDiagReport_Gsagar109-Public_2026.zip.listing.txt"
    )
    for name, size in zip_listing(listing).items():
        sizes[family(name)].append(size)
    checked = 0
    for cab in simulated[1]:
        for name, data in cab.items():
            seen = sizes[family(name)]
            if max(seen) < 65536:
                continue
            checked += 1
            assert 0.5 * min(seen) <= len(data) <= 1.5 * max(seen), name
    assert checked >= 3 * 40


def test_every_channel_has_the_record_count_and_file_size_of_the_real_ones(
    real, simulated, corpus
):
    counts: dict[str, list[int]] = defaultdict(list)
    files: dict[str, set[int]] = defaultdict(set)
    for m in real.values():
        for name, data in m.items():
            if name.endswith(".evtx"):
                counts[name].append(records(data))
                files[name].add(len(data))
    for path in (corpus / "evtx").glob("zip_Gsagar109-Public__*.evtx"):
        stem = path.name.split("__", 1)[1].replace("user_device_", "user device ")
        counts[f"microsoft-windows-{stem}"].append(records(path.read_bytes()))
    for cab in simulated[1]:
        for name, data in cab.items():
            if not name.endswith(".evtx"):
                continue
            n = records(data)
            assert min(counts[name]) // 2 <= n <= 2 * max(counts[name]), (name, n)
            assert len(data) in {69632, 1118208, 2166784, 4263936}
            if len(files[name]) == 1:  # every real file of it the same size
                assert len(data) in files[name] or n > 0, name


def test_a_real_size_fleet_gives_the_ground_truth_through_the_pipeline(
    simulated, tmp_path
):
    share, _ = simulated
    totals = ingest_without_prefect(share, tmp_path / "wh")
    assert totals["ingested"] == 3 and totals["warnings"] == 0
    assert totals["rows"]["registry_values"] > 3 * 15000
    assert totals["rows"]["events"] > 3 * 3000
    with Warehouse(tmp_path / "wh").connect() as con:
        outcomes = con.execute(OUTCOMES_SQL).fetchall()
        floods = con.execute("select count(*) from event_floods").fetchone()
    assert outcomes == expected_outcomes(ground_truth(share / "ground_truth.csv"))
    assert floods == (0,)


def test_small_stays_the_default(tmp_path):
    simulate(devices=1, seed=11, out=tmp_path)
    (cab,) = tmp_path.rglob("*.cab")
    # the one device of seed 11 fails an MSI app: its CAB adds the DMEDP channel
    names = set(members(cab))
    assert DMEDP_EVTX in names
    assert len(names - {DMEDP_EVTX}) == 10 and cab.stat().st_size < 100_000
