"""pipeline.ingest_batch: one bad bundle is quarantined, its batch goes on."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from espfleet import pipeline
from espfleet.errors import exception_summary
from espfleet.parsers import DERIVERS
from espfleet.parsers.derivers import ccmsetup_runs
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


def test_exception_summary_names_the_innermost_frame_of_ours() -> None:
    try:
        ccmsetup_runs.derive(None)  # type: ignore[arg-type]
    except Exception as error:  # noqa: BLE001
        text = exception_summary(error)
    assert text.startswith("AttributeError: 'NoneType' object has no attribute")
    assert "(at derivers/ccmsetup_runs.py:" in text

