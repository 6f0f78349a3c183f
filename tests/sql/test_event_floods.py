"""event_floods finds the real 1,666-event flood, as the Python summary does."""

from __future__ import annotations

from espfleet.parsers.events import channels, evtx
from tests.conftest import corpus_file
from tests.sql.conftest import given

FLOOD = "evtx/zip_Gsagar109-Public__moderndeployment-diagnostics-provider-managementservice.evtx"


def test_real_flood_is_one_burst_in_sql_and_python(duck, corpus):
    events = evtx.parse(corpus_file(corpus, FLOOD).read_bytes()).table
    given(
        duck,
        "stg_events__events",
        [r | {"bundle_id": "b1"} for r in events.to_pylist()],
    )
    sql = duck.execute(
        "select channel, event_id, events, variants from event_floods"
    ).fetchall()
    python = channels.summarise_floods(events).select(
        ["channel", "event_id", "count", "variants"]
    )
    assert sql == [tuple(r.values()) for r in python.to_pylist()]
    assert [(eid, n) for _, eid, n, _ in sql] == [(1005, 1666)]
