"""pipeline.ingest_batch: one bad bundle is quarantined, its batch goes on."""

from __future__ import annotations

import gc
import json
import re
import weakref
from pathlib import Path

import pytest

from espfleet import pipeline
from espfleet.errors import exception_summary
from espfleet.parsers import DERIVERS
from espfleet.parsers.derivers import ccmsetup_runs
from espfleet.share import (
    BundleRef,
    SourceFile,
    content_id,
    discover,
    filesystem,
    streamed_content_id,
)
from espfleet.unpack import Limits, stored_over_budget
from tests.fixtures import SAMPLE


def _deriver_raising(error: BaseException):
    real = DERIVERS["ccmsetup_runs"]

    def derive(table):
        if table.num_rows and "CCMSETUP-BOOM" in str(table.column("message")):
            raise error
        return real.derive(table)

    return type(real)(real.tables, derive)


@pytest.mark.parametrize(
    "error, summary",
    [
        (ZeroDivisionError("division by zero"), "ZeroDivisionError: division by zero"),
        (MemoryError(), "MemoryError"),
        (RecursionError("maximum recursion depth exceeded"), "RecursionError"),
    ],
)
def test_an_exception_in_one_bundle_quarantines_it_and_the_batch_goes_on(
    tmp_path: Path, monkeypatch, error: BaseException, summary: str
) -> None:
    # Fault injection: the ccmsetup deriver fails on one bundle's log only.
    share = tmp_path / "share"
    for site in ("UK-LON", "JP-TYO"):
        for bundle in sorted((SAMPLE / site).iterdir())[:2]:
            target = share / site / bundle.name
            target.mkdir(parents=True)
            for f in bundle.iterdir():
                target.joinpath(f.name).write_bytes(f.read_bytes())
    bad = sorted(share.glob("UK-LON/*/ccmsetup.log"))[0]
    bad.write_bytes(
        bad.read_bytes()
        + b'<![LOG[CCMSETUP-BOOM]LOG]!><time="10:00:00.000+0" date="10-27-2025"'
        b' component="ccmsetup" context="" type="1" thread="1" file="x">\r\n'
    )
    monkeypatch.setitem(DERIVERS, "ccmsetup_runs", _deriver_raising(error))
    found = pipeline.find_new_bundles(str(share), tmp_path / "wh")
    summary_ = pipeline.ingest_batch(
        str(share), found.new, tmp_path / "wh", "r1", "b00000"
    )
    assert (summary_.ingested, summary_.quarantined) == (3, 1)
    ((uri, reason),) = summary_.quarantine_reasons
    assert uri == str(bad.parent)
    assert reason.startswith(f"parse failed: {summary}")
    # The innermost frame of espfleet's own code: where the deriver was called.
    assert re.search(r" \(at espfleet/ingest\.py:\d+ in _derive\)$", reason)
    (record,) = [
        json.loads(p.read_text()) for p in (tmp_path / "wh" / "quarantine").iterdir()
    ]
    assert record["reason"] == reason


class _Cycle:
    """An object in a reference cycle: only the cyclic collector frees it."""

    def __init__(self) -> None:
        self.me = self


def test_a_batch_runs_with_the_collector_off_and_collects_after_each_bundle(
    tmp_path: Path, monkeypatch
) -> None:
    real = DERIVERS["ccmsetup_runs"]
    seen: list[tuple[bool, bool | None]] = []
    last: list[weakref.ref] = []

    def derive(table):
        # (collector on?, the cycle the previous bundle made still alive?)
        seen.append((gc.isenabled(), last[-1]() is not None if last else None))
        cycle = _Cycle()
        last.append(weakref.ref(cycle))
        del cycle
        return real.derive(table)

    monkeypatch.setitem(DERIVERS, "ccmsetup_runs", type(real)(real.tables, derive))
    share = SAMPLE / "UK-LON"
    found = pipeline.find_new_bundles(str(share), tmp_path / "wh")
    summary = pipeline.ingest_batch(
        str(share), found.new[:3], tmp_path / "wh", "r1", "b00000"
    )
    assert summary.ingested == 3
    assert seen == [(False, None), (False, False), (False, False)]
    assert last[-1]() is None  # the batch's last collection
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_the_collector_is_back_as_it_was_when_the_last_batch_leaves() -> None:
    # Two batches in threads of one process: the collector is one per process.
    first, second = pipeline.collected_per_bundle(), pipeline.collected_per_bundle()
    with first:
        assert not gc.isenabled()
        with second:
            assert not gc.isenabled()
        assert not gc.isenabled()  # the first batch is still running
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
    gc.disable()  # a program that turned it off keeps it off
    try:
        with pipeline.collected_per_bundle():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_exception_summary_names_the_innermost_frame_of_ours() -> None:
    try:
        ccmsetup_runs.derive(None)  # type: ignore[arg-type]
    except Exception as error:  # noqa: BLE001
        text = exception_summary(error)
    assert text.startswith("AttributeError: 'NoneType' object has no attribute")
    assert "(at derivers/ccmsetup_runs.py:" in text


def test_a_bundle_too_large_to_read_is_quarantined_unread_and_the_batch_goes_on(
    tmp_path: Path,
) -> None:
    # A 3 MiB loose log with a 2 MB member limit: refused by its size on the
    # share (nothing read into memory), identified by its streamed SHA-256.
    share = tmp_path / "share"
    good = SAMPLE / "UK-LON" / "LON-9H2XGPX_20251026-135934"
    for name in ("A_20251027-103415", "B_20251027-103415"):
        target = share / "UK-LON" / name
        target.mkdir(parents=True)
        for f in good.iterdir():
            target.joinpath(f.name).write_bytes(f.read_bytes())
    huge = share / "UK-LON" / "B_20251027-103415" / "ccmsetup.log"
    huge.write_bytes(huge.read_bytes() * (1 + (3 << 20) // huge.stat().st_size))
    found = pipeline.find_new_bundles(str(share), tmp_path / "wh")
    limits = Limits(max_member_mb=2)
    got = pipeline.ingest_batch(
        str(share), found.new, tmp_path / "wh", "r1", "b00000", limits=limits
    )
    assert (got.ingested, got.quarantined) == (1, 1)
    ((uri, reason),) = got.quarantine_reasons
    assert uri == str(huge.parent)
    size = huge.stat().st_size
    assert reason == (
        f"ccmsetup.log: over budget: {size} bytes on the share, more than 2 MB"
        " (ESPFLEET_MAX_MEMBER_MB)"
    )
    files = {f.name: f.read_bytes() for f in huge.parent.iterdir()}
    (record,) = (tmp_path / "wh" / "quarantine").iterdir()
    assert content_id(files) in record.name


def test_the_bundle_total_on_the_share_is_a_budget_too() -> None:
    limits = Limits(max_member_mb=2, max_unpacked_mb=3)
    sizes = {"a.log": 2 << 20, "b.log": 2 << 20}
    assert stored_over_budget(sizes, limits) == (
        "over budget: the bundle's files hold 4194304 bytes on the share, more"
        " than 3 MB (ESPFLEET_MAX_UNPACKED_MB)"
    )
    assert stored_over_budget({"a.log": 3 << 20}, limits) == (
        "a.log: over budget: 3145728 bytes on the share, more than 2 MB"
        " (ESPFLEET_MAX_MEMBER_MB)"
    )
    assert stored_over_budget({"a.log": 2 << 20}, limits) is None


def test_the_streamed_identity_is_the_bundle_id() -> None:
    fs, root = filesystem(str(SAMPLE / "UK-LON"))
    refs = list(discover(fs, root))
    assert refs
    for ref in refs:
        files = {f.name: fs.cat_file(f.path) for f in ref.files}
        assert streamed_content_id(fs, ref) == content_id(files)


def _bundles(n: int, size: int) -> list[BundleRef]:
    return [
        BundleRef(f"b{i}", "folder", (SourceFile(f"b{i}/x", "x", size, None),))
        for i in range(n)
    ]


def test_batches_are_full_until_the_end_of_the_night_then_smaller():
    batches = pipeline.batches
    # 40 bundles of 10 bytes, 2 workers: a batch takes at most a quarter of
    # the bytes still to come, at least a quarter of the batch size
    got = [len(b) for b in batches(_bundles(40, 10), batch_size=4, workers=2)]
    assert got == [4, 4, 4, 4, 4, 4, 4, 3, 2, 1, 1, 1, 1, 1, 1, 1]
    got = [len(b) for b in batches(_bundles(40, 10), batch_size=8, workers=2)]
    assert got == [8, 8, 6, 4, 3, 2, 2, 2, 2, 2, 1]
    refs = _bundles(40, 10)
    assert [r for b in batches(refs, 8, 2) for r in b] == refs  # all, in order
