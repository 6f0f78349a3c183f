"""A 3-hour clock correction announced by event 753: every record before it moves, none after."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest

from espfleet.ingest import ingest_bundle

from .bundle import CORRECTION_S, FAST, FIXED, START, bundle, device

KEYS = {
    "events": "record_id",
    "cm_log_entries": "record_no",
    "setup_log_entries": "line_no",
}


@pytest.fixture(scope="module")
def ingested():
    members, truth = bundle()
    return ingest_bundle(members), truth


def rows(out, table: str) -> list[dict]:
    found = []
    for member, part in out.tables[table]:
        found += [r | {"member": member} for r in part.to_pylist()]
    return found


@pytest.mark.parametrize("table", sorted(KEYS))
def test_every_record_before_the_sync_moves_by_the_measured_offset(ingested, table):
    out, truth = ingested
    checked = 0
    for r in rows(out, table):
        true = truth[(r["member"], r[KEYS[table]])]
        assert r["ts_utc"] == true, r
        if true < FIXED:
            assert r["clock_offset_s"] == CORRECTION_S, r
            assert r["ts_confidence"] == "corrected_clock", r
            assert r["clock_era"] == 0, r
        else:
            assert r["clock_offset_s"] == 0, r
            assert r["ts_confidence"] != "corrected_clock", r
            assert r["clock_era"] == 1, r
        checked += 1
    assert checked == sum(1 for m, _k in truth if _kind(m) == table)


def _kind(member: str) -> str:
    if member.endswith(".evtx"):
        return "events"
    if member.endswith("setupact.log"):
        return "setup_log_entries"
    return "cm_log_entries"


def test_the_raw_time_is_kept_beside_the_corrected_one(ingested):
    out, truth = ingested
    for r in rows(out, "events"):
        assert r["ts_device_utc"] == device(truth[(r["member"], r["record_id"])])
    first = next(r for r in rows(out, "cm_log_entries") if r["record_no"] == 1)
    # written 3 h late in Pacific daylight time: 15:15 UTC + 3 h = 11:15 local
    assert (first["ts_local"], first["tz_bias_min"]) == (
        datetime(2025, 10, 22, 11, 15),
        420,
    )


def test_the_eras_and_their_evidence_are_a_table(ingested):
    out, _ = ingested
    ((member, eras),) = out.tables["clock_eras"]
    got = eras.select(
        [
            "era_no",
            "started_at",
            "ended_at",
            "clock_offset_s",
            "clock_evidence",
            "opened_by",
        ]
    ).to_pylist()
    assert member == "" and got == [
        {
            "era_no": 0,
            "started_at": None,
            "ended_at": FIXED,
            "clock_offset_s": CORRECTION_S,
            "clock_evidence": "exact",
            "opened_by": "bundle_start",
        },
        {
            "era_no": 1,
            "started_at": FIXED,
            "ended_at": None,
            "clock_offset_s": 0.0,
            "clock_evidence": "none",
            "opened_by": "clock_correction",
        },
    ]
    assert "event_753" in eras.column("evidence")[0].as_py()
    anchors = pa.concat_tables(t for _m, t in out.tables["clock_anchors"]).to_pylist()
    kinds = {(a["kind"], a["used"], a["era_no"]) for a in anchors}
    assert ("event_753", True, 1) in kinds and ("record_order", True, 1) in kinds


def test_derived_facts_inherit_the_corrected_times(ingested):
    out, _ = ingested
    ((_, runs),) = out.tables["ccmsetup_runs"]
    run = runs.to_pylist()[-1]
    assert run["started_at"] == START + timedelta(minutes=15)
    assert run["ended_at"] == START + timedelta(minutes=33)
    assert (run["clock_offset_s"], run["ts_confidence"]) == (
        CORRECTION_S,
        "corrected_clock",
    )
    esp = pa.concat_tables(t for _m, t in out.tables["esp_events"]).to_pylist()
    region = next(
        e for e in esp if e["name"].startswith("CommercialOOBE_AutopilotRegion")
    )
    started = next(e for e in esp if e["name"].endswith("Category_Started"))
    assert (region["ts_utc"], region["clock_offset_s"]) == (
        START + timedelta(minutes=12),
        CORRECTION_S,
    )
    assert (started["ts_utc"], started["clock_offset_s"]) == (
        START + timedelta(minutes=25),
        0.0,
    )


def test_without_the_753_record_order_alone_estimates_the_correction():
    members, truth = bundle()
    from espfleet.simulator.evtx_writer import write_evtx  # noqa: F401 - same writer

    from .bundle import AUTOPILOT, CAB

    del members[f"{CAB}/{AUTOPILOT}"]
    out = ingest_bundle(members)
    ((_, eras),) = out.tables["clock_eras"]
    era0 = eras.to_pylist()[0]
    assert era0["clock_evidence"] == "estimated"
    # the hull of the jumps: ccmsetup 19 min -> 30 min, Shell-Core 12 -> 25 min
    # (device times 3 h apart): the correction is bounded within 11 minutes
    assert (
        -FAST.total_seconds() - 11 * 60
        <= era0["clock_offset_s"]
        < -FAST.total_seconds() + 11 * 60
    )
    shell = [r for r in rows(out, "events")]
    assert all(
        r["clock_era"] == (0 if truth[(r["member"], r["record_id"])] < FIXED else 1)
        for r in shell
    )


def test_a_752_after_the_753_means_the_sync_failed_and_nothing_moves():
    from espfleet.simulator.evtx_writer import EventRecord, write_evtx

    from .bundle import _MDDP

    written = datetime(2025, 10, 22, 18, 20, tzinfo=UTC)
    common = {
        "provider": _MDDP,
        "channel": f"{_MDDP}/Autopilot",
        "provider_guid": "{BAB3AD92-FB96-5902-450B-B8421BDEC7BD}",
    }
    data = (
        ("ServerTime", "2025-10-22T15:20:00Z"),
        ("ClientTime", "2025-10-22T18:20:00Z"),
    )
    evtx = write_evtx(
        [
            EventRecord(753, written, data, **common),
            EventRecord(
                752,
                written + timedelta(seconds=1),
                (("Message1", "0x80072ee7"),),
                **common,
            ),
        ]
    )
    out = ingest_bundle({"x.evtx": evtx})
    ((_, events),) = out.tables["events"]
    assert events.column("clock_offset_s").to_pylist() == [0.0, 0.0]
    ((_, anchors),) = out.tables["clock_anchors"]
    (anchor,) = anchors.to_pylist()
    assert anchor["used"] is False and "752 follows" in anchor["note"]


def test_two_753s_that_contradict_keep_the_raw_times_and_say_unknown():
    from espfleet.simulator.evtx_writer import EventRecord, write_evtx

    from .bundle import _MDDP

    common = {
        "provider": _MDDP,
        "channel": f"{_MDDP}/Autopilot",
        "provider_guid": "{BAB3AD92-FB96-5902-450B-B8421BDEC7BD}",
    }
    client = datetime(2025, 10, 22, 18, 20, tzinfo=UTC)
    before = EventRecord(160, client - timedelta(minutes=5), (), **common)
    one = EventRecord(
        753,
        client,
        (
            ("ServerTime", "2025-10-22T15:20:00Z"),
            ("ClientTime", "2025-10-22T18:20:00Z"),
        ),
        **common,
    )
    two = EventRecord(
        753,
        client,
        (
            ("ServerTime", "2025-10-22T16:20:00Z"),
            ("ClientTime", "2025-10-22T18:20:00Z"),
        ),
        **common,
    )
    after = EventRecord(161, datetime(2025, 10, 22, 15, 21, tzinfo=UTC), (), **common)
    out = ingest_bundle({"x.evtx": write_evtx([before, one, two, after])})
    ((_, events),) = out.tables["events"]
    got = events.select(
        ["event_id", "ts_utc", "ts_confidence", "clock_offset_s"]
    ).to_pylist()
    assert got[0] == {
        "event_id": 160,
        "ts_utc": client - timedelta(minutes=5),
        "ts_confidence": "unknown",
        "clock_offset_s": None,
    }
    assert got[-1]["ts_confidence"] == "exact" and got[-1]["clock_offset_s"] == 0.0
    ((_, eras),) = out.tables["clock_eras"]
    assert eras.column("clock_evidence").to_pylist() == ["contradictory", "none"]
