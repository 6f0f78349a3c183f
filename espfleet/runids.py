"""Run ids: unique, and ordered after a warehouse's last one; batch part names.

``20261126T204512.123456Z-1a2b``: the UTC time to the microsecond and a random
suffix. `espfleet.runs.next_run_id` makes each run's id under the run lock,
after the warehouse's last, so the views (which keep each bundle's rows from
its latest run by id) never see two runs tie or a clock that stepped back win.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta


def run_id_time(run_id: str) -> datetime | None:
    """When a run id was made (None for anything that is not a run id)."""
    stamp = run_id.split("-", 1)[0]
    for fmt in ("%Y%m%dT%H%M%S.%fZ", "%Y%m%dT%H%M%SZ"):
        try:
            return datetime.strptime(stamp, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def new_run_id(now: datetime | None = None, after: str | None = None) -> str:
    """Sortable, unique: ``20261126T204512.123456Z-1a2b``, after `after` if given.

    `after` is the warehouse's last run id (`espfleet.runs.next_run_id`): a
    clock that stepped back still gives a later id. Older warehouses hold ids
    of the second-precise form ``20261126T204512Z-1a2b3c4d``; both sort together.
    """
    now = now or datetime.now(UTC)
    last = run_id_time(after) if after else None
    if last is not None and now <= last:
        now = last + timedelta(microseconds=1)
    run_id = f"{now:%Y%m%dT%H%M%S.%fZ}-{uuid.uuid4().hex[:4]}"
    if after and run_id <= after:  # after is second-precise, of this very second
        run_id = f"{now + timedelta(seconds=1):%Y%m%dT%H%M%S.%fZ}-{run_id[-4:]}"
    return run_id


# A batch that holds too many rows writes them in parts (pipeline.FLUSH_BYTES):
# <run>-<batch>.part003.parquet, committed with <run>-<batch> by its manifest.
PART = ".part"


def part_name(batch: str, n: int) -> str:
    """The file name (after the run id) of part `n` of `batch`'s tables."""
    return f"{batch}{PART}{n:03d}"


def batch_file(stem: str) -> str:
    """The manifest stem that commits a data file of this stem (parts: their batch)."""
    return stem.split(PART, 1)[0]
