"""Zones of a bundle's eras, and the zone segments a setup log states.

A setup log is the one local-time witness of OOBE (docs/formats.md §10.2): its
``Set time zone to [...]`` lines say when the zone changed, its CSI stamps
measure the UTC offset of the lines around them. The log is cut into segments
at the lines that name a new zone:

* a segment opened by a zone line has that zone; CSI stamps in it that measure
  another offset contradict it, and the segment's zone becomes unknown;
* the segment before the first zone line has the offset its CSI stamps
  measure; without stamps, the zone of the first zone line when local time
  does not jump across that line (no change happened there); else unknown;
* a log with no zone line at all is in the device's zone, unless its CSI
  stamps measure another offset (the log's own evidence wins for its lines).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from espfleet.device import DeviceInfo
from espfleet.parsers.cmtrace.zones import local_to_utc
from espfleet.parsers.timezones import windows_to_iana

from .anchors import Anchor
from .streams import Stream

EPOCH = datetime(1970, 1, 1)
US_PER_MIN = 60_000_000
NO_JUMP_US = 15 * US_PER_MIN  # smaller than any difference between two zones


@dataclass(frozen=True)
class Zone:
    """A named zone, a bare UTC offset, or nothing known.

    Attributes:
        windows_zone: the key name, when named.
        iana: its IANA zone (DST history known).
        offset_min: a fixed UTC offset (ISO sign) when no zone is named.
        source: where it comes from (the `clock_eras.zone_source` value).
        confidence: the `ts_confidence` of local times converted with it.
    """

    windows_zone: str | None = None
    iana: str | None = None
    offset_min: int | None = None
    source: str = "unknown"
    confidence: str = "unknown"

    @property
    def known(self) -> bool:
        return self.iana is not None or self.offset_min is not None

    def same_as(self, other: Zone) -> bool:
        """Both known and the same zone (by IANA name, else by offset)."""
        if self.iana and other.iana:
            return self.iana == other.iana
        return self.known and self.offset_min == other.offset_min is not None

    def to_device(self, local: np.ndarray) -> np.ndarray:
        """Naive local microseconds -> the device's UTC microseconds."""
        if self.iana:
            return local_to_utc(local.astype(np.int64), self.iana)[0]
        assert self.offset_min is not None
        return local - self.offset_min * US_PER_MIN

    def describe(self) -> str:
        if self.windows_zone:
            return self.windows_zone
        if self.offset_min is not None:
            sign = "+" if self.offset_min >= 0 else "-"
            h, m = divmod(abs(self.offset_min), 60)
            return f"UTC{sign}{h:02d}:{m:02d}"
        return "unknown zone"


UNKNOWN = Zone()


def named(windows_zone: str, source: str) -> Zone:
    """The zone a key name gives (unknown names give an unknown zone)."""
    iana = windows_to_iana(windows_zone)
    if iana is None:
        return Zone(windows_zone, None, None, "unknown", "unknown")
    return Zone(windows_zone, iana, None, source, "from_device_zone")


def device_zone(info: DeviceInfo) -> Zone:
    """The zone ingestion resolved for the device (at collection)."""
    if info.device_zone:
        return Zone(
            info.windows_zone,
            info.device_zone,
            None,
            info.zone_source or "unknown",
            "from_device_zone",
        )
    if info.utc_offset_min is not None:
        return Zone(
            None,
            None,
            info.utc_offset_min,
            "cab_member_times",
            "from_collection_offset",
        )
    return UNKNOWN


@dataclass
class Segment:
    """Lines ``[start, end)`` of a setup log (stream positions) and their zone."""

    start: int
    end: int
    zone: Zone
    zone_line: int | None  # stream position of the line that opened it


def _csi_offsets(stream: Stream, lo: int, hi: int) -> list[tuple[int, int]]:
    """(position, local - UTC in minutes) of the CSI-stamped lines in [lo, hi)."""
    pos = np.flatnonzero(stream.has_device[lo:hi] & stream.has_local[lo:hi]) + lo
    diff = stream.local[pos] - stream.device[pos]
    minutes = np.rint(diff / US_PER_MIN).astype(np.int64)
    return list(zip(pos.tolist(), minutes.tolist(), strict=True))


def _zone_offset_min(zone: Zone, local_us: int) -> int:
    utc = zone.to_device(np.array([local_us], np.int64))[0]
    return round((local_us - int(utc)) / US_PER_MIN)


def _check_csi(seg: Segment, stream: Stream, anchors: list[Anchor]) -> None:
    """A CSI offset in the segment: confirm its zone, give it one, or contradict."""
    found = _csi_offsets(stream, seg.start, seg.end)
    if not found:
        return
    offsets = {m for _p, m in found}
    first = found[0][0]
    anchor = Anchor(
        "csi_offset",
        stream.member,
        int(stream.seq[first]),
        local_at=local_at(stream.local[first]),
        utc_offset_min=found[0][1],
        note=f"{len(found)} CSI stamp(s) measure UTC{found[0][1]:+d} min",
        used=True,
    )
    anchors.append(anchor)
    if len(offsets) > 1:
        anchor.note += f"; they disagree ({sorted(offsets)}): zone unknown"
        seg.zone = UNKNOWN
        return
    (offset,) = offsets
    if seg.zone.known and seg.zone.iana:
        if _zone_offset_min(seg.zone, int(stream.local[first])) != offset:
            anchor.note += f"; contradicts {seg.zone.describe()}: zone unknown"
            seg.zone = UNKNOWN
        return
    seg.zone = Zone(None, None, offset, "setupact.log CSI", "from_log_offset")


def local_at(micro: int) -> datetime:
    """The naive datetime of naive local microseconds since 1970."""
    return EPOCH + timedelta(microseconds=int(micro))


def segments(
    stream: Stream, zone_set: list[str | None], final: Zone, anchors: list[Anchor]
) -> list[Segment]:
    """A setup log cut at the lines that name a new zone (see the module doc).

    Args:
        stream: the log as a stream.
        zone_set: each row's named zone (by stream position), or None.
        final: the device's zone at collection (for a log with no zone line).
        anchors: receives the zone_set and csi_offset anchors.

    Returns:
        Segments covering the whole stream, in order.
    """
    n = len(stream)
    changes: list[int] = []
    current = None
    for p, zone in enumerate(zone_set):
        if zone and zone != current:
            changes.append(p)
            current = zone
    if not changes:
        seg = Segment(0, n, final, None)
        _check_csi(seg, stream, anchors)
        return [seg]
    bounds = changes + [n]
    segs = [
        Segment(a, b, named(zone_set[a] or "", "setupact.log"), a)
        for a, b in zip(bounds, bounds[1:], strict=False)
    ]
    for seg in segs:
        anchors.append(
            Anchor(
                "zone_set",
                stream.member,
                int(stream.seq[seg.start]),
                local_at=local_at(stream.local[seg.start]),
                windows_zone=seg.zone.windows_zone,
                used=seg.zone.known,
                note=f"the zone is {seg.zone.describe()} from this line on"
                + ("" if seg.zone.known else " (not a known zone name)"),
            )
        )
        _check_csi(seg, stream, anchors)
    if changes[0] > 0:
        head = Segment(0, changes[0], UNKNOWN, None)
        _check_csi(head, stream, anchors)
        first = segs[0].zone
        last_local = int(stream.local[changes[0] - 1])
        if head.zone.offset_min is not None and first.iana:
            if _zone_offset_min(first, last_local) == head.zone.offset_min:
                head.zone = first  # the stamps measure the zone the line names
        elif not head.zone.known and first.known:
            jump = stream.local[changes[0]] - last_local
            if abs(int(jump)) < NO_JUMP_US:  # no change at the first zone line
                head.zone = first
        segs.insert(0, head)
    return segs
