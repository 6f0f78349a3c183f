"""Decoded meanings of the event channels used in diagnosis, and flood summaries.

The meanings are data (`data/event_meanings.csv`: channel, event id or ``*``,
highest level it applies to, meaning, source), written from FORMATS.md 3.1,
3.4 and 3.5. Shell-Core 62407 events whose Name is a known ``CommercialOOBE_*``
name (`data/esp_names.csv`) get that name's exact meaning instead.

`summarise_floods` turns bursts of one event kind (the 1,666 x ModernDeployment
1005 in five seconds seen in a real bundle) into one row each for reports; the
event rows themselves are kept.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from functools import cache, lru_cache
from pathlib import Path

import pyarrow as pa

from .. import schema

DATA = Path(__file__).parents[1] / "data"

# Older builds and text renderings name the same source differently.
CHANNEL_ALIASES = {
    # before 1903 the Autopilot channel lived under Provisioning (FORMATS.md 3.4)
    "microsoft-windows-provisioning-diagnostics-provider/autopilot": (
        "microsoft-windows-moderndeployment-diagnostics-provider/autopilot"
    ),
}

# Provider -> the channel its diagnosis events live in, for sources without a
# channel (the `[ETW] [Provider] [Level] - message` rendering).
PROVIDER_CHANNELS = {
    "microsoft-windows-shell-core": "Microsoft-Windows-Shell-Core/Operational",
    "microsoft-windows-moderndeployment-diagnostics-provider": (
        "Microsoft-Windows-ModernDeployment-Diagnostics-Provider/Autopilot"
    ),
    "microsoft-windows-devicemanagement-enterprise-diagnostics-provider": (
        "Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider/Admin"
    ),
    "microsoft-windows-user device registration": (
        "Microsoft-Windows-User Device Registration/Admin"
    ),
    "microsoft-windows-aad": "Microsoft-Windows-AAD/Operational",
}

FLOODS = pa.schema(
    [
        pa.field("channel", pa.string()),
        pa.field("event_id", pa.int32()),
        pa.field("first_ts_utc", schema.UTC_TS),
        pa.field("last_ts_utc", schema.UTC_TS),
        pa.field("count", pa.int64()),
        pa.field("variants", pa.int64()),  # distinct event_data/message payloads
        pa.field("sample", pa.string()),  # event_data, else message, of the first
    ]
)


@cache
def meanings() -> dict[tuple[str, int | None], tuple[int | None, str]]:
    """The meaning table: (lower-case channel, event id or None for ``*``) ->
    (highest level it applies to or None, meaning)."""
    table: dict[tuple[str, int | None], tuple[int | None, str]] = {}
    with open(DATA / "event_meanings.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            eid = None if row["event_id"] == "*" else int(row["event_id"])
            max_level = int(row["max_level"]) if row["max_level"] else None
            table[(row["channel"].lower(), eid)] = (max_level, row["meaning"])
    return table


@cache
def esp_names() -> dict[str, dict[str, str]]:
    """Known ``CommercialOOBE_*`` names (`data/esp_names.csv`) keyed by name."""
    with open(DATA / "esp_names.csv", newline="", encoding="utf-8") as f:
        return {row["name"]: row for row in csv.DictReader(f)}


def channel_for(channel: str | None, provider: str | None) -> str | None:
    """The canonical lower-case channel key of an event (alias or provider map)."""
    if channel:
        key = channel.lower()
        return CHANNEL_ALIASES.get(key, key)
    if provider:
        mapped = PROVIDER_CHANNELS.get(provider.lower())
        return mapped.lower() if mapped else None
    return None


@lru_cache(maxsize=8192)
def meaning_of(
    channel: str | None,
    provider: str | None,
    event_id: int | None,
    level: int | None = None,
    name: str | None = None,
) -> str | None:
    """Decoded meaning of one event, or None when nothing is known.

    Args:
        channel: event channel (``Microsoft-Windows-AAD/Operational``), any case.
        provider: provider name, used when the channel is unknown.
        event_id: the event id.
        level: event level (1 critical .. 5 verbose); some entries only apply
            at or below a level (AAD errors).
        name: the 62407 Name, looked up in the known ESP names first.

    Returns:
        The meaning text, or None.
    """
    if name and event_id == 62407:
        known = esp_names().get(name)
        if known:
            return known["meaning"]
    key = channel_for(channel, provider)
    if key is None:
        return None
    table = meanings()
    for eid in (event_id, None):
        hit = table.get((key, eid))
        if hit is None:
            continue
        max_level, meaning = hit
        if max_level is None or (level is not None and 0 < level <= max_level):
            return meaning
    return None


def summarise_floods(
    events: pa.Table, window_s: float = 10, min_count: int = 50
) -> pa.Table:
    """Bursts of events of one kind, one row per burst, for reports.

    Events are grouped by channel and event id. A burst is a run of them in time
    order where each follows the previous by at most `window_s` seconds; bursts
    of at least `min_count` events are returned. The real 1,666 x
    ModernDeployment 1005 flood carries a few HRESULT/line variants, so the
    payload is not part of the key: `variants` counts the distinct payloads and
    `sample` is the first one.

    Args:
        events: a table with the `schema.EVENTS` columns.
        window_s: largest gap in seconds inside one burst.
        min_count: smallest burst reported.

    Returns:
        A `FLOODS` table sorted by first timestamp.
    """
    cols = events.select(["channel", "event_id", "ts_utc", "event_data", "message"])
    lists = [c.to_pylist() for c in cols.columns]
    groups: dict[tuple, list] = defaultdict(list)
    for ch, eid, ts, data, msg in zip(*lists, strict=True):
        if ts is not None:
            groups[(ch, eid)].append((ts, data if data is not None else msg))
    rows = []
    for (ch, eid), items in groups.items():
        if len(items) < min_count:
            continue
        items.sort(key=lambda x: x[0])
        burst: list = []
        for item in items + [None]:
            if item is not None and (
                not burst or (item[0] - burst[-1][0]).total_seconds() <= window_s
            ):
                burst.append(item)
                continue
            if len(burst) >= min_count:
                payloads = {p for _, p in burst}
                rows.append(
                    (
                        ch,
                        eid,
                        burst[0][0],
                        burst[-1][0],
                        len(burst),
                        len(payloads),
                        burst[0][1],
                    )
                )
            burst = [item] if item is not None else []
    rows.sort(key=lambda r: r[2])
    return pa.table(
        [pa.array([r[i] for r in rows], f.type) for i, f in enumerate(FLOODS)],
        schema=FLOODS,
    )
