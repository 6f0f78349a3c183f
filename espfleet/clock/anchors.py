"""Evidence that a device's clock was set: anchors, and the corrections they prove.

Three kinds of evidence (docs/formats.md §8.4):

* ModernDeployment-Diagnostics-Provider/Autopilot event **753**: the
  Autopilot downloader found the clock too far from the server's and forces a
  time sync; its data carry ``ServerTime`` and ``ClientTime`` (the device
  clock), so the correction is ServerTime - ClientTime, to the second. A 752
  (time sync failed) after it, before the next 751/753, means nothing changed.
* Kernel-General event **1** (System channel, "The system time has changed"):
  ``OldTime`` -> ``NewTime`` **(community)**; steps under `JUMP_MIN_S` are the
  routine NTP trims and are ignored.
* **Record order**: in a stream whose rows are written in order, a time that
  drops by `JUMP_MIN_S` or more from one row to the next means the clock was
  set back between them. The drop itself understates the correction by the
  time that passed between the two rows; several streams bound it better
  (the correction is at most min(after) - max(before)).

A jump belongs to an exact correction (753, Kernel-General 1) when the row
before it is no later than the clock's reading before the correction and the
row after it no earlier than its reading after; other jumps that overlap form
one estimated correction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .streams import UTC_KIND, Stream

JUMP_MIN_S = 120
MERGE_S = 120  # two exact anchors of one correction agree within this
SLACK_US = 2_000_000
_MDDP = "microsoft-windows-moderndeployment-diagnostics-provider"
_KERNEL_GENERAL = "microsoft-windows-kernel-general"


@dataclass
class Anchor:
    """One piece of time evidence (a row of `clock_anchors`)."""

    kind: str
    member: str
    seq: int | None = None
    device_at: datetime | None = None
    utc_at: datetime | None = None
    local_at: datetime | None = None
    measured_s: float | None = None
    utc_offset_min: int | None = None
    windows_zone: str | None = None
    era_no: int | None = None
    used: bool = False
    note: str = ""


@dataclass
class Jump:
    """A drop in time between two consecutive rows of a stream."""

    stream: Stream
    pos: int  # index in the stream of the row after the drop
    before_us: int
    after_us: int

    @property
    def drop_s(self) -> float:
        return (self.after_us - self.before_us) / 1e6


@dataclass
class Step:
    """A clock correction: the device clock read `before_us`, then `after_us`.

    `correction_s` is None when exact anchors contradict each other.
    """

    before_us: int
    after_us: int
    exact: bool
    correction_s: float | None
    anchors: list[Anchor] = field(default_factory=list)
    jumps: list[Jump] = field(default_factory=list)


def us(when: datetime) -> int:
    """Microseconds since 1970 of an aware datetime."""
    return round(when.timestamp() * 1_000_000)


def at(micro: int) -> datetime:
    """The aware UTC datetime of microseconds since 1970."""
    return datetime.fromtimestamp(micro / 1_000_000, UTC)


def _iso(value: object) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _data(text: str | None) -> dict:
    try:
        obj = json.loads(text or "")
    except ValueError:
        return {}
    return obj if isinstance(obj, dict) else {}


def _picked(t: pa.Table) -> list[dict]:
    provider = pc.utf8_lower(pc.fill_null(t.column("provider"), ""))
    mddp = pc.and_(
        pc.starts_with(provider, _MDDP),
        pc.is_in(t.column("event_id"), pa.array([751, 752, 753], pa.int32())),
    )
    kernel = pc.and_(
        pc.equal(provider, _KERNEL_GENERAL), pc.equal(t.column("event_id"), 1)
    )
    mask = pc.fill_null(pc.or_(mddp, kernel), False)
    cols = ["provider", "channel", "event_id", "record_id", "ts_utc", "event_data"]
    return t.filter(mask).select(cols).to_pylist()


def _sync_failed(rows: list[dict], row: dict) -> bool:
    """A 752 follows this 753 in its channel before the next 751 or 753."""
    later = sorted(
        (r for r in rows if r["channel"] == row["channel"] and r["event_id"] != 1),
        key=lambda r: r["record_id"] or 0,
    )
    after = [r for r in later if (r["record_id"] or 0) > (row["record_id"] or 0)]
    for r in after:
        if r["event_id"] in (751, 753):
            return False
        if r["event_id"] == 752:
            return True
    return False


def event_steps(parts: list[tuple[str, pa.Table]]) -> tuple[list[Step], list[Anchor]]:
    """Exact corrections announced by events 753 and Kernel-General 1."""
    steps: list[Step] = []
    anchors: list[Anchor] = []
    for member, t in parts:
        rows = _picked(t) if t.num_rows else []
        for row in rows:
            data = _data(row["event_data"])
            if row["event_id"] == 753:
                kind, new, old = (
                    "event_753",
                    data.get("ServerTime"),
                    data.get("ClientTime"),
                )
            elif row["event_id"] == 1 and row["provider"].lower() == _KERNEL_GENERAL:
                kind, new, old = (
                    "kernel_general_1",
                    data.get("NewTime"),
                    data.get("OldTime"),
                )
            else:
                continue
            after, before = _iso(new), _iso(old)
            anchor = Anchor(kind, member, row["record_id"], row["ts_utc"], after)
            anchors.append(anchor)
            if after is None or before is None:
                anchor.note = "no readable time in the event data"
                continue
            anchor.measured_s = (after - before).total_seconds()
            anchor.note = (
                f"the device clock read {before:%Y-%m-%dT%H:%M:%SZ}, "
                f"the true time was {after:%Y-%m-%dT%H:%M:%SZ}"
            )
            if abs(anchor.measured_s) < JUMP_MIN_S:
                anchor.note += f" (under {JUMP_MIN_S} s: not a correction)"
            elif kind == "event_753" and _sync_failed(rows, row):
                anchor.note += " (752 follows: the time sync failed)"
            else:
                steps.append(
                    Step(us(before), us(after), True, anchor.measured_s, [anchor])
                )
    return _merge_exact(steps), anchors


def _merge_exact(steps: list[Step]) -> list[Step]:
    """One step per correction; contradicting exact anchors leave it unknown."""
    merged: list[Step] = []
    for step in sorted(steps, key=lambda s: s.after_us):
        same = next(
            (
                m
                for m in merged
                if abs(m.before_us - step.before_us) <= MERGE_S * 1e6
                or abs(m.after_us - step.after_us) <= MERGE_S * 1e6
            ),
            None,
        )
        if same is None:
            merged.append(step)
            continue
        same.anchors += step.anchors
        if same.correction_s is not None and step.correction_s is not None:
            if abs(same.correction_s - step.correction_s) > MERGE_S:
                same.correction_s = None
                for a in same.anchors:
                    a.note += "; contradicts another anchor of the same moment"
    return merged


def jumps(streams: list[Stream]) -> list[Jump]:
    """Every drop of `JUMP_MIN_S` or more between consecutive known device times."""
    found = []
    for s in streams:
        if not s.ordered or (s.kind != UTC_KIND and not s.has_device.any()):
            continue
        idx = np.flatnonzero(s.has_device)
        if len(idx) < 2:
            continue
        dev = s.device[idx]
        drops = np.flatnonzero(np.diff(dev) <= -JUMP_MIN_S * 1_000_000)
        for k in drops.tolist():
            found.append(Jump(s, int(idx[k + 1]), int(dev[k]), int(dev[k + 1])))
    return found


def attach(steps: list[Step], found: list[Jump]) -> list[Step]:
    """Give each jump to the exact step it belongs to; the rest make new steps."""
    loose = []
    for j in found:
        fits = [
            s
            for s in steps
            if s.after_us < s.before_us
            and j.before_us <= s.before_us + SLACK_US
            and j.after_us >= s.after_us - SLACK_US
        ]
        if fits:
            best = min(
                fits,
                key=lambda s: (j.after_us - s.after_us) + (s.before_us - j.before_us),
            )
            best.jumps.append(j)
        else:
            loose.append(j)
    return sorted(steps + _estimated(loose), key=lambda s: s.after_us)


def _estimated(loose: list[Jump]) -> list[Step]:
    """Overlapping jumps of no exact step: one estimated correction each group."""
    groups: list[list[Jump]] = []
    for j in sorted(loose, key=lambda j: j.after_us):
        group = next(
            (
                g
                for g in groups
                if j.after_us <= max(x.before_us for x in g)
                and j.before_us >= min(x.after_us for x in g)
            ),
            None,
        )
        if group is None:
            groups.append([j])
        else:
            group.append(j)
    steps = []
    for g in groups:
        before = max(j.before_us for j in g)
        after = min(j.after_us for j in g)
        steps.append(Step(before, after, False, (after - before) / 1e6, [], g))
    return steps


def jump_anchor(step: Step) -> Anchor | None:
    """A `record_order` anchor summing up the jumps that show one step."""
    if not step.jumps:
        return None
    streams = sorted({j.stream.label for j in step.jumps})
    drops = [j.drop_s for j in step.jumps]
    first = min(step.jumps, key=lambda j: j.after_us)
    return Anchor(
        "record_order",
        first.stream.member,
        int(first.stream.seq[first.pos]),
        at(first.before_us),
        at(first.after_us),
        measured_s=min(drops),
        note=(
            f"time drops {-max(drops):.0f}-{-min(drops):.0f} s between consecutive "
            f"records of {len(streams)} stream(s): " + ", ".join(streams[:4])
        ),
    )
