"""A bundle's eras, and which era each row of a stream was written in.

Eras are spans with one clock correction and one zone. They are bounded in
*device* time (what the clock read), because that is what rows carry: an era
after a correction starts at the clock's reading just after it, the era before
ends at its reading just before. When the clock was fast and set back, the two
spans overlap, and a row in the overlap could be from either side.

A row's candidate eras are those whose device span holds its device time (for
a local-time row: its local time through the era's zone). Then, per stream:

1. the jumps that show a correction split the stream there, and a zone line
   splits its own setup log;
2. eras never go backwards within a stream, so each row's range is narrowed
   by the rows before and after it;
3. a row still between two eras takes the era of the nearest row, in device
   time, already placed in one of them (rows of every event channel vote);
4. a row with no candidate, or no neighbour, keeps its raw time and says so.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field

import numpy as np

from .anchors import SLACK_US, Step, at
from .streams import UTC_KIND, Stream
from .zones import Zone


@dataclass
class Era:
    """One era (a row of `clock_eras`)."""

    no: int
    start_dev: int | None  # device microseconds; None: open
    end_dev: int | None
    offset_s: float | None  # None: unknown (contradicting anchors)
    clock_evidence: str  # exact | estimated | none | contradictory
    zone: Zone
    opened_by: str
    clock_no: int
    evidence: list[str] = field(default_factory=list)
    n_records: int = 0

    def true_at(self, device_us: int | None):
        if device_us is None or self.offset_s is None:
            return None
        return at(device_us + round(self.offset_s * 1e6))


def clock_eras(steps: list[Step], zone: Zone) -> list[Era]:
    """One era per span between corrections, the last one trusted (offset 0)."""
    n = len(steps)
    offsets: list[float | None] = [0.0] * (n + 1)
    for k in range(n - 1, -1, -1):
        c, later = steps[k].correction_s, offsets[k + 1]
        offsets[k] = None if c is None or later is None else later + c
    eras = []
    for k in range(n + 1):
        nxt = steps[k] if k < n else None
        prev = steps[k - 1] if k else None
        if nxt is None:
            evidence = "none"
        elif nxt.correction_s is None:
            evidence = "contradictory"
        else:
            evidence = "exact" if nxt.exact else "estimated"
        eras.append(
            Era(
                k,
                prev.after_us if prev else None,
                nxt.before_us if nxt else None,
                offsets[k],
                evidence,
                zone,
                "clock_correction" if prev else "bundle_start",
                k,
            )
        )
    return eras


def split_by_zones(
    eras: list[Era], changes: list[tuple[int, int, Zone, str]]
) -> list[Era]:
    """Cut clock eras at zone changes: (device µs, clock era, new zone, note)."""
    out: list[Era] = []
    pending = sorted(changes, key=lambda c: (c[1], c[0]))
    for era in eras:
        here = [c for c in pending if c[1] == era.clock_no]
        current = out[-1].zone if out else era.zone
        start, opened = era.start_dev, era.opened_by
        evidence = list(era.evidence)
        for dev, _clock, zone, note in here:
            out.append(_piece(era, start, dev, current, opened, evidence))
            start, current, opened, evidence = dev, zone, "zone_change", [note]
        out.append(_piece(era, start, era.end_dev, current, opened, evidence))
    for no, era in enumerate(out):
        era.no = no
    return out


def _piece(era: Era, start, end, zone: Zone, opened: str, evidence) -> Era:
    return Era(
        0,
        start,
        end,
        era.offset_s,
        era.clock_evidence,
        zone,
        opened,
        era.clock_no,
        list(evidence),
    )


def candidates(eras: list[Era], device: np.ndarray, known: np.ndarray) -> np.ndarray:
    """rows x eras: the era's device span holds the row's device time."""
    cand = np.zeros((len(device), len(eras)), bool)
    for j, era in enumerate(eras):
        ok = known.copy()
        if era.start_dev is not None:
            ok &= device >= era.start_dev - SLACK_US
        if era.end_dev is not None:
            ok &= device < era.end_dev + SLACK_US
        cand[:, j] = ok
    return cand


def local_candidates(
    eras: list[Era], local: np.ndarray, known: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(rows x eras candidates, rows x eras device times) for local-time rows."""
    dev = np.zeros((len(local), len(eras)), np.int64)
    cand = np.zeros((len(local), len(eras)), bool)
    by_zone: dict[Zone, np.ndarray] = {}
    for j, era in enumerate(eras):
        if not era.zone.known or not known.any():
            continue
        if era.zone not in by_zone:
            by_zone[era.zone] = era.zone.to_device(np.where(known, local, 0))
        dev[:, j] = by_zone[era.zone]
        cand[:, j] = candidates([era], dev[:, j], known)[:, 0]
    return cand, dev


def split_at(cand: np.ndarray, pos: int, first_after: int) -> None:
    """Rows before `pos` are in eras before `first_after`, the rest not."""
    cand[:pos, first_after:] = False
    cand[pos:, :first_after] = False


def narrow(cand: np.ndarray) -> None:
    """Eras never go backwards along a stream: narrow each row's range."""
    n, m = cand.shape
    if n == 0 or m < 2:
        return
    has = cand.any(axis=1)
    lo = np.where(has, cand.argmax(axis=1), -1)
    hi = np.where(has, m - 1 - cand[:, ::-1].argmax(axis=1), m)
    lo = np.maximum.accumulate(lo)
    hi = np.minimum.accumulate(hi[::-1])[::-1]
    cols = np.arange(m)
    cand &= (cols[None, :] >= lo[:, None]) & (cols[None, :] <= hi[:, None])


@dataclass
class Votes:
    """Device times of rows already placed, by era (for rows between two eras)."""

    by_era: dict[int, list[int]] = field(default_factory=dict)

    def add(self, eras: np.ndarray, device: np.ndarray) -> None:
        for j in np.unique(eras[eras >= 0]).tolist():
            self.by_era.setdefault(j, []).extend(device[eras == j].tolist())
        for times in self.by_era.values():
            times.sort()

    def distance(self, era: int, device_us: int) -> float:
        times = self.by_era.get(era)
        if not times:
            return float("inf")
        i = bisect_left(times, device_us)
        near = [abs(times[k] - device_us) for k in (i - 1, i) if 0 <= k < len(times)]
        return float(min(near))


def choose(cand: np.ndarray, dev: np.ndarray, votes: Votes) -> np.ndarray:
    """Each row's era: its only candidate, else the nearest vote's; -1: none."""
    count = cand.sum(axis=1)
    era = np.where(count == 1, cand.argmax(axis=1), -1)
    for i in np.flatnonzero(count > 1).tolist():
        options = np.flatnonzero(cand[i]).tolist()
        scored = [(votes.distance(j, int(dev[i, j])), j) for j in options]
        best = min(scored)
        if best[0] != float("inf") and [s for s, _ in scored].count(best[0]) == 1:
            era[i] = best[1]
    return era


def keep_order(era: np.ndarray, cand: np.ndarray) -> np.ndarray:
    """Rows chosen one by one (by votes) still never go back to an earlier era:
    a row whose choice is before the latest era of the rows above it takes that
    era when it is one of its candidates."""
    if len(era) == 0:
        return era
    latest = np.maximum.accumulate(era)
    rows = np.arange(len(era))
    back = (era >= 0) & (era < latest) & cand[rows, np.maximum(latest, 0)]
    return np.where(back, latest, era)


def place(
    stream: Stream,
    eras: list[Era],
    splits: list[tuple[int, int]],
    votes: Votes,
    device: np.ndarray | None = None,
    known: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The era of every row of a stream, and the device time it implies.

    Args:
        stream: the rows.
        eras: the bundle's eras.
        splits: (stream position, first era after) from jumps and zone lines.
        votes: rows placed so far (rows between two eras take their side).
        device, known: device times to use instead of the stream's own (a
            setup log's lines, converted through their segment's zone).

    Returns:
        (era per row, -1 where none; device microseconds per row).
    """
    if stream.kind == UTC_KIND or device is not None:
        dev1 = stream.device if device is None else device
        ok = stream.has_device if known is None else known
        cand = candidates(eras, dev1, ok)
        dev = np.repeat(dev1[:, None], len(eras), axis=1)
    else:
        cand, dev = local_candidates(eras, stream.local, stream.has_local)
    for pos, first_after in splits:
        split_at(cand, pos, first_after)
    narrow(cand)
    era = keep_order(choose(cand, dev, votes), cand)
    picked = dev[np.arange(len(era)), np.maximum(era, 0)]
    return era, picked
