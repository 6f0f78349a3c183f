"""Shared row building for the three event parsers (evtx, exported XML, text).

Not a parser itself: it turns the fields each source yields into `schema.EVENTS`
columns, so Name/Value, error codes and meanings are derived one way for all of
them. Sources append raw fields to lists; `EventRows.table` builds Arrow once
and derives the rest in bulk, visiting in Python only the rows that can carry
something (62407 events, EventData with a non-zero error-like item, messages).

A row's error code (`codes`): a 62407 row's from its Value
(`codes.value_error_code`), another row's from its EventData items
(`codes.data_error_code`); a row still without one takes its rendered
message's (`codes.message_error_code`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from itertools import repeat
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from .. import schema
from .channels import meaning_of
from .codes import DATA_CODE_HINT, data_error_code, message_error_code, value_error_code

loads = orjson.loads


def dumps(obj: object) -> str:
    """Compact JSON text (orjson: several times faster than json on event data)."""
    return orjson.dumps(obj).decode()


SHELL_CORE_62407 = 62407
LEVELS = {
    "critical": 1,
    "error": 2,
    "warning": 3,
    "information": 4,
    "informational": 4,
    "info": 4,
    "verbose": 5,
}
_ISO = re.compile(
    r"^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?\s*(Z|UTC|[+-]00:?00)?$"
)


def parse_iso_utc(text: str | None) -> datetime | None:
    """``2022-08-02T13:28:10.3350735Z`` (any fraction length) -> aware UTC."""
    if not text:
        return None
    m = _ISO.match(text.strip())
    if not m:
        return None
    y, mo, d, h, mi, s, frac, _ = m.groups()
    us = int((frac or "0")[:6].ljust(6, "0"))
    try:
        return datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), us, UTC)
    except ValueError:
        return None


def name_value(event_id: int | None, event_data) -> tuple[str | None, str | None]:
    """Name and Value of a 62407 event, by item name or else by position."""
    if event_id != SHELL_CORE_62407 or not event_data:
        return None, None
    if isinstance(event_data, dict):
        if "Name" in event_data or "Value" in event_data:
            n, v = event_data.get("Name"), event_data.get("Value")
        else:
            items = event_data.get("Data")
            items = items if isinstance(items, list) else list(event_data.values())
            n = items[0] if items else None
            v = items[1] if len(items) > 1 else None
        return (None if n is None else str(n)), (None if v is None else str(v))
    return None, None


class EventRows:
    """Column-wise accumulator of `schema.EVENTS` rows.

    `add` (or a parser's hot loop, through `raw`) only stores what the source
    says; Name/Value, error codes and meanings are derived for all rows at once
    in `table`, touching in Python only the rows that can carry them.
    """

    RAW = (
        "channel",
        "provider",
        "event_id",
        "record_id",
        "ts_utc",
        "level",
        "computer",
        "event_data",
        "message",
    )

    def __init__(self, source_format: str) -> None:
        self.source_format = source_format
        self.raw: dict[str, Any] = {name: [] for name in self.RAW}
        # Rows whose time was a local date turned into UTC through the device zone.
        self.zone_dated: set[int] = set()
        # Set by a parser that reads them factorised (evtx: one per distinct
        # System text) instead of filling raw event_id and level: the distinct
        # (event_id, level) pairs and each row's index into them.
        self.kinds: tuple[list[tuple], list[int]] | None = None

    def __len__(self) -> int:
        if self.kinds is not None:
            return len(self.kinds[1])
        return len(self.raw["event_id"])

    def add(
        self,
        channel: str | None,
        provider: str | None,
        event_id: int | None,
        record_id: int | None,
        ts_utc: datetime | str | None,
        level: int | None,
        computer: str | None,
        event_data: dict | None,
        message: str | None = None,
        zone_dated: bool = False,
    ) -> None:
        """Add one event as read from its source.

        Args:
            channel, provider, event_id, record_id, level, computer: as read.
            ts_utc: an aware datetime, or ISO text with ``Z`` (cast in bulk).
            event_data: EventData/UserData as a dict (None when absent).
            message: the rendered message, when the source has one.
            zone_dated: `ts_utc` came from a local date through the device zone.
        """
        r = self.raw
        if zone_dated:
            self.zone_dated.add(len(self))
        r["channel"].append(channel)
        r["provider"].append(provider)
        # Numbers outside their column's type become null, as levels do: a bad
        # record must not fail the file (the fuzzer's EventID of 2**63).
        r["event_id"].append(_fits(event_id, 31))
        r["record_id"].append(_fits(record_id, 63))
        r["ts_utc"].append(ts_utc)
        r["level"].append(level)
        r["computer"].append(computer)
        r["event_data"].append(None if event_data is None else dumps(event_data))
        r["message"].append(message)

    def table(self) -> pa.Table:
        """The accumulated rows as a `schema.EVENTS` table.

        Event ids and levels are taken per distinct (event_id, level) pair
        (a file has a few dozen): checked, and given their meanings, once.
        """
        r = self.raw
        n = len(self)
        if n == 0:  # an empty channel (a third of a CAB's): no column to build
            return schema.EVENTS.empty_table()
        pairs, index = self.kinds or _factorised(r["event_id"], r["level"])
        kind_ids = [_fits(p[0], 31) for p in pairs]
        kind_levels = _levels([p[1] for p in pairs])
        kind_array = pa.array(index, pa.int32())
        texts = r["event_data"]
        event_data = pa.array(texts, pa.string())
        kinds_62407 = {k for k, eid in enumerate(kind_ids) if eid == SHELL_CORE_62407}
        rows_62407 = (
            [i for i, k in enumerate(index) if k in kinds_62407] if kinds_62407 else []
        )
        names, values, codes, hexes = _names_values_codes(
            rows_62407, texts, event_data, r["message"]
        )
        ts_utc = _timestamps(r["ts_utc"])
        cols = {
            "source_format": pa.repeat(pa.scalar(self.source_format, pa.string()), n),
            "event_id": pa.array(kind_ids, pa.int32()).take(kind_array),
            "ts_utc": ts_utc,
            "ts_confidence": _confidences(ts_utc, self.zone_dated),
            "level": pa.array(kind_levels, pa.int8()).take(kind_array),
            "event_data": event_data,
            "name": names,
            "value": values,
            "meaning": _meanings(
                r["channel"],
                r["provider"],
                list(zip(kind_ids, kind_levels, strict=True)),
                (index, kind_array),
                (rows_62407, names),
            ),
            "error_code": codes,
            "error_code_hex": hexes,
            "channel": _strings(r["channel"]),
            "provider": _strings(r["provider"]),
            "computer": _strings(r["computer"]),
            "message": _strings(r["message"]),
        }
        arrays = []
        for f in schema.EVENTS:
            col = cols[f.name] if f.name in cols else r[f.name]
            arrays.append(col if isinstance(col, pa.Array) else pa.array(col, f.type))
        return pa.table(arrays, schema=schema.EVENTS)


def _factorised(ids: list, levels: list) -> tuple[list[tuple], list[int]]:
    """The distinct (event_id, level) pairs of the rows, and each row's index."""
    keys = list(zip(ids, levels, strict=True))
    position = {key: i for i, key in enumerate(dict.fromkeys(keys))}
    return list(position), list(map(position.__getitem__, keys))


def _names_values_codes(
    rows_62407: list[int], texts: list, event_data: pa.Array, messages: list
) -> tuple:
    """Name, Value, error code and its hex of every row (module docstring): as
    lists, or as all-null arrays when no row has one.

    Floods repeat the same EventData, so each distinct text is decoded once.
    """
    n = len(texts)
    names: list = [None] * n
    values: list = [None] * n
    codes: list = [None] * n
    found: list[int] = []  # rows given a code, for the hex column
    skip = set(rows_62407)
    hinted = _hinted(texts, event_data)
    seen: dict = {}
    for i in hinted:
        if i in skip:
            continue
        text = texts[i]
        if text not in seen:
            seen[text] = data_error_code(_loads_or_none(text))
        codes[i] = seen[text]
        found.append(i)
    seen = {}
    for i in rows_62407:
        text = texts[i]
        if text is not None:
            if text not in seen:
                name, value = name_value(SHELL_CORE_62407, _loads_or_none(text))
                seen[text] = (name, value, value_error_code(name, value))
            names[i], values[i], codes[i] = seen[text]
            found.append(i)
    if any(messages):
        for i, msg in enumerate(messages):
            if msg and codes[i] is None:
                codes[i] = message_error_code(msg)
                found.append(i)
    hexes: list = [None] * n
    for i in found:
        if codes[i] is not None:
            hexes[i] = f"0x{codes[i]:08X}"
    if not found:  # the common case: all-null columns without a list walk
        codes, hexes = pa.nulls(n, pa.uint32()), pa.nulls(n, pa.string())
    if not rows_62407:
        names = values = pa.nulls(n, pa.string())
    return names, values, codes, hexes


def _confidences(ts_utc: pa.Array, zone_dated: set[int]) -> pa.Array:
    """exact where a UTC time was read, from_device_zone where it was local."""
    if not ts_utc.null_count and not zone_dated:  # every .evtx file's case
        return pa.repeat(pa.scalar("exact", pa.string()), len(ts_utc))
    exact = pc.if_else(pc.is_null(ts_utc), "unknown", "exact")
    if not zone_dated:
        return exact
    values = exact.to_pylist()
    for i in zone_dated:
        if values[i] == "exact":
            values[i] = "from_device_zone"
    return pa.array(values, pa.string())


# Rows below which Python beats an Arrow kernel's fixed cost (a compiled RE2
# pattern): small channels are most of a CAB's files.
_ARROW_FROM_ROWS = 256
_DATA_CODE_HINT = re.compile(DATA_CODE_HINT, re.ASCII)  # the same language as RE2's


def _hinted(texts: list, event_data: pa.Array) -> list[int]:
    """Rows whose EventData has a non-zero value under an error-like key."""
    if len(texts) < _ARROW_FROM_ROWS:
        search = _DATA_CODE_HINT.search
        return [i for i, text in enumerate(texts) if text is not None and search(text)]
    hint = pc.match_substring_regex(event_data, DATA_CODE_HINT)
    return pc.indices_nonzero(pc.fill_null(hint, False)).to_pylist()


def _strings(values) -> pa.Array:
    """A string column; one value repeated (the usual evtx file), or none at
    all (an .evtx file's messages), is built without converting each row."""
    if values and values.count(values[0]) == len(values):
        if values[0] is None:
            return pa.nulls(len(values), pa.string())
        if isinstance(values[0], str):
            return pa.repeat(pa.scalar(values[0], pa.string()), len(values))
    return pa.array(values, pa.string())


def _fits(value: int | None, bits: int) -> int | None:
    """`value` if a signed integer of `bits` + 1 bits holds it, else None."""
    if value is None or -(1 << bits) <= value < (1 << bits):
        return value
    return None


def _levels(values: list) -> list:
    """Levels outside int8 become null (a bad record must not fail the file)."""
    try:
        if not values or (-128 <= min(values) and max(values) < 128):
            return values
    except TypeError:  # None among them
        pass
    return [x if x is None or -128 <= x < 128 else None for x in values]


def _meanings(
    channel: list,
    provider: list,
    kinds: list[tuple],
    index: tuple[list[int], pa.Array],
    named: tuple[list[int], list | pa.Array],
) -> list | pa.Array:
    """`meaning_of` per row, computed once per distinct key.

    Args:
        channel, provider: the rows' raw values.
        kinds: the distinct (event_id, level) pairs, checked.
        index: each row's index into `kinds`, as a list and as an int32 array.
        named: the 62407 rows and the Name column (null where not 62407).
    """
    index_list, index_array = index
    rows_62407, names = named
    if len(set(channel)) == 1 and len(set(provider)) == 1:
        ch, pr = channel[0], provider[0]
        known = [meaning_of(ch, pr, eid, level, None) for eid, level in kinds]
        if not rows_62407:  # no Name (the usual file): a meaning per kind
            return pa.array(known, pa.string()).take(index_array)
        per_row = list(map(known.__getitem__, index_list))
        by_name: dict[tuple, str | None] = {}
        for i in rows_62407:
            named_kind = (index_list[i], names[i])
            if named_kind not in by_name:
                eid, level = kinds[named_kind[0]]
                by_name[named_kind] = meaning_of(ch, pr, eid, level, named_kind[1])
            per_row[i] = by_name[named_kind]
        return per_row
    if isinstance(names, pa.Array):  # all null
        names = [None] * len(index_list)
    keys = list(zip(channel, provider, index_list, names, strict=True))
    found: dict[tuple, str | None] = {}
    for key in set(keys):
        ch, pr, k, name = key
        eid, level = kinds[k]
        found[key] = meaning_of(ch, pr, eid, level, name)
    return list(map(found.__getitem__, keys))


def _loads_or_none(text: str | None):
    if text is None:
        return None
    try:
        return loads(text)
    except ValueError:
        return None


def _timestamps(values: list) -> pa.Array:
    """ISO ``...Z`` strings cast in bulk; anything else parsed one by one."""
    if values and all(map(isinstance, values, repeat(str))):
        try:
            return pa.array(values, pa.string()).cast(schema.UTC_TS)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    parsed = [parse_iso_utc(v) if isinstance(v, str) else v for v in values]
    return pa.array(parsed, schema.UTC_TS)
