"""sql/reports/event_floods.sql: bursts of one event kind, the real flood and edges.

The expected values of the real flood were read from the .evtx with pyevtx-rs
and the json module alone: 1,666 records, all ModernDeployment ManagementService
event 1005 (level 2), 07:59:06.797691 to 07:59:11.466529 UTC, the largest gap
4.0 s, six distinct EventData payloads (two HRESULT=0x8007000d lines of 825
events each, four others of 4 events each).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from espfleet.parsers.events import evtx
from tests.conftest import corpus_file
from tests.sql.conftest import given

FLOOD = "evtx/zip_Gsagar109-Public__moderndeployment-diagnostics-provider-managementservice.evtx"
MANAGEMENT_SERVICE = (
    "Microsoft-Windows-ModernDeployment-Diagnostics-Provider/ManagementService"
)
COLUMNS = (
    "bundle_id, channel, event_id, first_ts_utc, last_ts_utc, events, variants, "
    "sample, meaning"
)
T0 = datetime(2025, 3, 4, 10, 0, tzinfo=UTC)


def floods(duck) -> list[tuple]:
    return duck.execute(
        f"select {COLUMNS} from event_floods order by bundle_id, first_ts_utc"
    ).fetchall()


def test_real_flood_is_one_burst(duck, corpus):
    events = evtx.parse(corpus_file(corpus, FLOOD).read_bytes()).table
    given(
        duck,
        "stg_events__events",
        [r | {"bundle_id": "b1"} for r in events.to_pylist()],
    )
    ((*head, sample, meaning),) = floods(duck)
    assert head == [
        "b1",
        MANAGEMENT_SERVICE,
        1005,
        datetime(2026, 8, 20, 7, 59, 6, 797691, tzinfo=UTC),
        datetime(2026, 8, 20, 7, 59, 11, 466529, tzinfo=UTC),
        1666,
        6,
    ]
    assert json.loads(sample) == {
        "HRESULT": "0x8007000d",
        "File": "onecoreuap\\admin\\moderndeployment\\autopilot\\commonutils\\jsonhelpers.cpp",
        "Line": 127,
        "Message": "NULL",
    }
    assert meaning is None  # no meaning is recorded for ManagementService 1005


def burst(bundle: str, stamps: list[datetime], payload: str | None = None) -> list:
    """Event rows of channel ``ch``, event 1005, one per stamp."""
    data = payload or '{"HRESULT":"0x8007000d"}'
    return [
        {
            "bundle_id": bundle,
            "channel": "ch",
            "event_id": 1005,
            "ts_utc": ts,
            "event_data": data,
        }
        for ts in stamps
    ]


def test_flood_found_and_counted(duck):
    stamps = [T0 + timedelta(milliseconds=3 * i) for i in range(60)]
    given(duck, "stg_events__events", burst("b1", stamps))
    assert floods(duck) == [
        (
            "b1",
            "ch",
            1005,
            T0,
            T0 + timedelta(milliseconds=177),
            60,
            1,
            '{"HRESULT":"0x8007000d"}',
            None,
        )
    ]


def test_gap_splits_bursts_and_small_ones_dropped(duck):
    first = [T0 + timedelta(seconds=i) for i in range(55)]
    second = [T0 + timedelta(hours=1, seconds=i) for i in range(20)]
    given(duck, "stg_events__events", burst("b1", first + second))
    assert [(r[3], r[4], r[5]) for r in floods(duck)] == [
        (T0, T0 + timedelta(seconds=54), 55)
    ]


def test_ten_seconds_apart_is_still_one_burst(duck):
    stamps = [T0 + timedelta(seconds=10 * i) for i in range(50)]
    given(duck, "stg_events__events", burst("b1", stamps))
    assert [r[5] for r in floods(duck)] == [50]


def test_slow_trickle_is_not_a_flood(duck):
    stamps = [T0 + timedelta(seconds=30 * i) for i in range(100)]
    given(duck, "stg_events__events", burst("b1", stamps))
    assert floods(duck) == []


def test_bundles_and_payload_variants(duck):
    stamps = [T0 + timedelta(milliseconds=i) for i in range(50)]
    given(
        duck,
        "stg_events__events",
        burst("b1", stamps[:25], '{"Line":1}')
        + burst("b1", stamps[25:], '{"Line":2}')
        + burst("b2", stamps),
    )
    assert [(r[0], r[5], r[6], r[7]) for r in floods(duck)] == [
        ("b1", 50, 2, '{"Line":1}'),
        ("b2", 50, 1, '{"HRESULT":"0x8007000d"}'),
    ]


def test_no_events_no_floods(duck):
    assert floods(duck) == []


def test_lone_events_and_an_interleaved_kind_do_not_shift_the_pairing(duck):
    # Event 1005: a lone event, a burst of 50 one second apart, a lone event, a
    # run of 49 (not a flood), a burst of 51. Event 1006 of the same channel
    # interleaves a burst of 60 with them: kinds are sorted apart.
    lone = [T0 - timedelta(minutes=5), T0 + timedelta(minutes=5)]
    first = [T0 + timedelta(seconds=i) for i in range(50)]
    short = [T0 + timedelta(minutes=10, seconds=i) for i in range(49)]
    last = [T0 + timedelta(minutes=20, seconds=2 * i) for i in range(51)]
    other = [
        {**row, "event_id": 1006}
        for row in burst(
            "b1", [T0 + timedelta(milliseconds=500 + 900 * i) for i in range(60)]
        )
    ]
    given(duck, "stg_events__events", burst("b1", lone + first + short + last) + other)
    assert [(r[2], r[3], r[4], r[5]) for r in floods(duck)] == [
        (1005, T0, T0 + timedelta(seconds=49), 50),
        (
            1006,
            T0 + timedelta(milliseconds=500),
            T0 + timedelta(milliseconds=500 + 900 * 59),
            60,
        ),
        (1005, T0 + timedelta(minutes=20), T0 + timedelta(minutes=20, seconds=100), 51),
    ]
