"""The phases of `espfleet.clock.correct`, one bundle at a time."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from espfleet.device import DeviceInfo
from espfleet.parsers.clock_schema import CLOCK_ANCHORS, CLOCK_ERAS

from . import anchors as anc
from .apply import Verdict, record, rewrite, unchanged
from .eras import Era, Votes, clock_eras, place, split_by_zones
from .streams import UTC_KIND, Stream, cm_streams, event_streams, setup_streams
from .zones import UNKNOWN, Segment, Zone, device_zone, segments

Parts = dict[str, list[tuple[str, pa.Table]]]
CORRECTED = ("events", "cm_log_entries", "setup_log_entries")


@dataclass
class Correction:
    """The corrected tables of one bundle and the eras and anchors behind them."""

    tables: Parts
    eras: pa.Table
    anchors: pa.Table


@dataclass
class _Bundle:
    parts: Parts
    device: DeviceInfo
    events: list[Stream]
    cm: list[Stream]
    setup: list[Stream]
    steps: list[anc.Step]
    anchors: list[anc.Anchor]

    @property
    def utc_streams(self) -> list[Stream]:
        return self.events + [s for s in self.cm if s.kind == UTC_KIND]

    def n_rows(self, stream: Stream) -> int:
        return self.parts[stream.table][stream.part][1].num_rows


def _jump_splits(b: _Bundle, eras: list[Era]) -> dict[int, list[tuple[int, int]]]:
    """Stream id -> (position, first era after) for every jump and event anchor."""
    first_of_clock: dict[int, int] = {}
    for j, era in enumerate(eras):
        first_of_clock.setdefault(era.clock_no, j)
    splits: dict[int, list[tuple[int, int]]] = {}
    for k, step in enumerate(b.steps):
        after = first_of_clock[k + 1]
        for jump in step.jumps:
            splits.setdefault(id(jump.stream), []).append((jump.pos, after))
        for a in step.anchors:
            for s in b.events:
                if s.member != a.member or a.seq is None:
                    continue
                hit = np.flatnonzero(s.seq == a.seq)
                if len(
                    hit
                ):  # 753: the last row before; Kernel-General 1: the first after
                    pos = int(hit[0]) + (1 if a.kind == "event_753" else 0)
                    splits.setdefault(id(s), []).append((pos, after))
    return splits


def _place_utc(b: _Bundle, eras: list[Era], verdicts: dict, votes: Votes) -> None:
    """Event and exact CMTrace streams; rows between two eras take the votes."""
    splits = _jump_splits(b, eras)
    found = []
    for s in b.utc_streams:
        era, dev = place(s, eras, splits.get(id(s), []), Votes())
        found.append((s, era, dev))
        votes.add(era, dev)
    for i, (s, era, dev) in enumerate(found):
        if len(eras) > 1 and ((era < 0) & s.has_device).any():  # a second look
            era, dev = place(s, eras, splits.get(id(s), []), votes)
            found[i] = (s, era, dev)
        record(verdicts, s, b.n_rows(s), era, dev)


def _setup_times(
    s: Stream, segs: list[Segment]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Device times of a setup log's lines: CSI stamps, else local via the segment."""
    dev = s.device.copy()
    known = s.has_device.copy()
    read_as = np.full(len(known), None, dtype=object)
    read_as[known] = "exact"
    for seg in segs:
        sl = slice(seg.start, seg.end)
        todo = ~s.has_device[sl] & s.has_local[sl]
        if not seg.zone.known or not todo.any():
            continue
        idx = np.flatnonzero(todo) + seg.start
        dev[idx] = seg.zone.to_device(s.local[idx])
        known[idx] = True
        read_as[idx] = seg.zone.confidence
    return dev, known, read_as


def _zone_changes(
    b: _Bundle, segs: dict[int, list[Segment]], clock: list[Era], final: Zone
) -> tuple[Zone, list[tuple[int, int, Zone, str]]]:
    """The zone before any change, and each change.

    Returns:
        (initial zone, [(device µs, clock era, new zone, note)]).
    """
    initial = final
    changes: list[tuple[int, int, Zone, str]] = []
    zoned = [
        s
        for s in b.setup
        if not (segs[id(s)][0].zone_line is None and len(segs[id(s)]) == 1)
    ]
    if not zoned:
        return initial, changes
    splits = _jump_splits(b, clock)
    votes = Votes()
    for s in b.utc_streams:
        era, dev = place(s, clock, splits.get(id(s), []), Votes())
        votes.add(era, dev)
    for s in zoned:
        cut = segs[id(s)]
        dev, known, _ = _setup_times(s, cut)
        era, _ = place(s, clock, splits.get(id(s), []), votes, dev, known)
        initial = prev = cut[0].zone
        for seg in cut[1:]:
            if seg.zone.same_as(prev):
                continue  # the line names the zone already in force
            if era[seg.start] < 0 or not known[seg.start]:
                seg.zone = UNKNOWN  # the change cannot be placed in time
            note = f"{s.member} line {int(s.seq[seg.start])}: zone set to "
            note += seg.zone.describe()
            changes.append((int(dev[seg.start]), int(era[seg.start]), seg.zone, note))
            prev = seg.zone
        last = cut[-1].zone
        if final.known and last.known and not _agree(last, final, b.device):
            end = len(s) - 1
            note = (
                f"the zone at collection ({final.describe()}, {final.source}) is not "
                f"the one {s.member} set last ({last.describe()}): when it changed "
                "is not recorded"
            )
            changes.append((int(dev[end]) + 1, int(max(era[end], 0)), UNKNOWN, note))
    return initial, [c for c in changes if c[1] >= 0]


def _agree(zone: Zone, final: Zone, device: DeviceInfo) -> bool:
    if zone.same_as(final):
        return True
    if final.offset_min is not None and zone.iana and device.collected_at:
        local = device.collected_at.astimezone(
            __import__("zoneinfo").ZoneInfo(zone.iana)
        )
        offset = local.utcoffset()
        return offset is not None and offset.total_seconds() / 60 == final.offset_min
    return False


def _final_zone(b: _Bundle) -> Zone:
    """The zone at collection, with its anchors; a contradicted zone is unknown."""
    d = b.device
    final = device_zone(d)
    if d.device_zone:
        b.anchors.append(
            anc.Anchor(
                "device_zone",
                "",
                windows_zone=d.windows_zone,
                used=True,
                note=f"named by {d.zone_source}",
            )
        )
    if d.utc_offset_min is None:
        return final
    cab = anc.Anchor(
        "cab_member_times",
        "",
        utc_at=d.collected_at,
        utc_offset_min=d.utc_offset_min,
        used=d.offset_only,
        note=f"CAB member times - collection time = {d.utc_offset_min:+d} min",
    )
    b.anchors.append(cab)
    if d.device_zone and not _agree(final, Zone(offset_min=d.utc_offset_min), d):
        cab.note += f"; contradicts {final.describe()}: zone unknown"
        return UNKNOWN
    if d.device_zone:
        cab.note += f"; agrees with {final.describe()}"
    return final


def _zone_sets(b: _Bundle, s: Stream) -> list[str | None]:
    table = b.parts[s.table][s.part][1]
    return table.column("zone_set").take(pa.array(s.rows)).to_pylist()


def _opened(eras: list[Era], change: tuple[int, int, Zone, str]) -> int | None:
    dev, clock_no, _zone, note = change
    for j, era in enumerate(eras):
        if era.opened_by == "zone_change" and era.start_dev == dev:
            if era.clock_no == clock_no and note in era.evidence:
                return j
    return None


def _place_setup(
    b: _Bundle,
    segs: dict[int, list[Segment]],
    changes: list[tuple[int, int, Zone, str]],
    eras: list[Era],
    verdicts: dict,
    votes: Votes,
) -> None:
    splits = _jump_splits(b, eras)
    for s in b.setup:
        cut = segs[id(s)]
        dev, known, read_as = _setup_times(s, cut)
        mine = list(splits.get(id(s), []))
        for seg in cut[1:]:
            for change in changes:
                if change[3].startswith(f"{s.member} line {int(s.seq[seg.start])}:"):
                    j = _opened(eras, change)
                    if j is not None:
                        mine.append((seg.start, j))
        era, picked = place(s, eras, mine, votes, dev, known)
        record(verdicts, s, b.n_rows(s), era, picked, read_as)


def _place_local(b: _Bundle, eras: list[Era], verdicts: dict, votes: Votes) -> None:
    for s in b.cm:
        if s.kind == UTC_KIND:
            continue
        era, dev = place(s, eras, [], votes)
        labels = np.array([e.zone.confidence for e in eras] + [None], dtype=object)
        record(verdicts, s, b.n_rows(s), era, dev, labels[era])


def _step_summary(step: anc.Step) -> str:
    said = [f"{a.kind} ({a.member} record {a.seq}): {a.note}" for a in step.anchors]
    if step.jumps:
        labels = sorted({j.stream.label for j in step.jumps})
        said.append(f"record order jumps back in {len(labels)} stream(s)")
    return "; ".join(said)


def _describe(eras: list[Era], steps: list[anc.Step]) -> None:
    for era in eras:
        k = era.clock_no
        if k < len(steps):
            off = "unknown" if era.offset_s is None else f"{-era.offset_s:+.0f} s"
            text = (
                f"device clock off by {off} until corrected: {_step_summary(steps[k])}"
            )
        else:
            text = "the clock at collection (the reference)"
        zone = f"zone {era.zone.describe()} ({era.zone.source})"
        era.evidence = [text, zone] + [e for e in era.evidence if e not in (text, zone)]


def _mark(b: _Bundle, eras: list[Era]) -> None:
    first_of_clock: dict[int, int] = {}
    for j, era in enumerate(eras):
        first_of_clock.setdefault(era.clock_no, j)
    for k, step in enumerate(b.steps):
        summary = anc.jump_anchor(step)
        for a in step.anchors + ([summary] if summary else []):
            a.used = step.correction_s is not None
            a.era_no = first_of_clock[k + 1]
        if summary:
            b.anchors.append(summary)
    for a in b.anchors:
        if a.kind == "device_zone" or (a.kind == "cab_member_times" and a.used):
            a.era_no = len(eras) - 1
        elif a.kind == "zone_set":
            for j, era in enumerate(eras):
                if any(f"line {a.seq}:" in e for e in era.evidence):
                    a.era_no = j


def _eras_table(eras: list[Era]) -> pa.Table:
    rows = [
        {
            "era_no": e.no,
            "started_at": e.true_at(e.start_dev),
            "ended_at": e.true_at(e.end_dev),
            "clock_offset_s": e.offset_s,
            "clock_evidence": e.clock_evidence,
            "windows_zone": e.zone.windows_zone,
            "device_zone": e.zone.iana,
            "utc_offset_min": e.zone.offset_min,
            "zone_source": e.zone.source,
            "opened_by": e.opened_by,
            "evidence": "; ".join(e.evidence),
            "n_records": e.n_records,
        }
        for e in eras
    ]
    return pa.Table.from_pylist(rows, schema=CLOCK_ERAS)


def _anchors_table(found: list[anc.Anchor]) -> pa.Table:
    rows = [
        {f.name: getattr(a, f.name, None) for f in CLOCK_ANCHORS} | {"member": a.member}
        for a in found
    ]
    cols = [f.name for f in CLOCK_ANCHORS]
    table = pa.Table.from_pylist(
        [{k: r[k] for k in cols} for r in rows], schema=CLOCK_ANCHORS
    )
    return table.append_column("member", pa.array([a.member for a in found]))


def _rewritten(
    name: str,
    i: int,
    member: str,
    table: pa.Table,
    verdicts: dict,
    eras: list[Era],
    trivial: bool,
) -> tuple[str, pa.Table]:
    if trivial and name != "setup_log_entries":
        return member, unchanged(name, table)
    return member, rewrite(name, table, verdicts.get((name, i)), eras)


def correct(parts: Parts, device: DeviceInfo) -> Correction:
    """Place every timed row of a bundle on its eras and correct its time.

    Args:
        parts: table name -> [(member, table)] as the parsers gave them.
        device: the resolved device (its zone at collection, measured offset).

    Returns:
        The tables with corrected times and clock columns, and the bundle's
        `clock_eras` and `clock_anchors` (the latter with a ``member`` column).
    """
    events = parts.get("events", [])
    b = _Bundle(
        parts,
        device,
        event_streams(events),
        cm_streams(parts.get("cm_log_entries", [])),
        setup_streams(parts.get("setup_log_entries", [])),
        [],
        [],
    )
    steps, b.anchors = anc.event_steps(events)
    b.steps = anc.attach(steps, anc.jumps(b.utc_streams + b.setup))
    final = _final_zone(b)
    segs = {id(s): segments(s, _zone_sets(b, s), final, b.anchors) for s in b.setup}
    clock = clock_eras(b.steps, final)
    initial, changes = _zone_changes(b, segs, clock, final)
    clock[0].zone = initial
    for era in clock[1:]:
        era.zone = initial
    eras = split_by_zones(clock, changes)
    verdicts: dict[tuple[str, int], Verdict] = {}
    votes = Votes()
    # one era in the zone the parsers used: events and logs stay as they are
    trivial = len(eras) == 1 and eras[0].zone.iana == device.device_zone is not None
    if not trivial:
        _place_utc(b, eras, verdicts, votes)
        _place_local(b, eras, verdicts, votes)
    _place_setup(b, segs, changes, eras, verdicts, votes)
    tables = {
        name: [
            _rewritten(name, i, m, t, verdicts, eras, trivial)
            for i, (m, t) in enumerate(ps)
        ]
        if name in CORRECTED
        else ps
        for name, ps in parts.items()
    }
    for v in verdicts.values():
        for j in v.era[v.era >= 0].tolist():
            eras[j].n_records += 1
    if trivial:
        for name in ("events", "cm_log_entries"):
            eras[0].n_records += sum(
                len(t.column("ts_utc")) - t.column("ts_utc").null_count
                for _m, t in tables.get(name, [])
            )
    _describe(eras, b.steps)
    _mark(b, eras)
    timed = b.events or b.cm or b.setup
    return Correction(
        tables,
        _eras_table(eras if timed else []),
        _anchors_table(b.anchors if timed else []),
    )
