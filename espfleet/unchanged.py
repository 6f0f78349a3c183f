"""A run that finds nothing new ends before Prefect starts (issue #12, item 4).

Starting the Prefect engine with no server configured means starting a
temporary API server: seconds of imports and start-up (and a database
migration on a new PREFECT_HOME), for a night that may have nothing to do. So
`espfleet ingest` / `run` first list the share and read the manifest, under
the warehouse's run lock, with no Prefect imported at all. When every bundle
on the share is already in the manifest and the views are current (the DuckDB
file is of this espfleet's format and was built after the last committed
batch), the run ends there: no flow run is created, nothing is written but
the sweep of what a killed run left, and the CLI prints the reports as they
stand. Anything else (a new bundle, a deferred one, views older than a
committed batch because a run died before its refresh, a missing or older
database) goes through the engine as before.

``--reprocess`` and ``--dry-run`` always go through the engine. A run started
by a Prefect deployment is already inside the engine and does not use this.
"""

from __future__ import annotations

from .database import WarehouseError, connect
from .pipeline import Discovery, find_new_bundles
from .runs import MARKER_NAME, refuse_foreign, run_lock, sweep
from .settings import RunSettings
from .storage import is_remote
from .warehouse import Warehouse


def views_current(wh: Warehouse) -> bool:
    """Whether the DuckDB file opens and was built after every committed batch.

    A run commits its batches (their manifest files) before it refreshes the
    views, so a run killed in between leaves a manifest newer than the file:
    then the derived tables miss that run's bundles and the engine must run.
    """
    db = wh.db_path
    if not db.is_file():
        return False
    newest = max(
        (p.stat().st_mtime for p in (wh.root / "manifest").glob("*.parquet")),
        default=0.0,
    )
    if db.stat().st_mtime < newest:
        return False
    try:
        with connect(wh.root):
            pass
    except WarehouseError:
        return False
    return True


def last_run_id(wh: Warehouse) -> str | None:
    """The id of the last run that started on the warehouse (its marker)."""
    import json

    try:
        text = (wh.root / MARKER_NAME).read_text(encoding="utf-8")
        return json.loads(text).get("last_run_id")
    except (OSError, ValueError, AttributeError):
        return None


def check(settings: RunSettings) -> tuple[dict | None, Discovery | None]:
    """The totals of a run with nothing to do (None when the engine must run),
    and the share's new bundles when they were listed here (else None).

    Raises:
        ShareError: the share is missing, unreachable or refuses us (one line).
        WarehouseBusy: another run held the warehouse past ``lock_wait_s``.
        WarehouseError: the folder is not an espfleet warehouse.
    """
    wh = Warehouse(settings.warehouse)
    if settings.dry_run or settings.reprocess or not views_current(wh):
        return None, None
    refuse_foreign(wh)
    with run_lock(settings.warehouse, settings.lock_wait_s):
        if not views_current(wh):  # another run may have died under the lock
            return None, None
        found = find_new_bundles(settings.source, settings.warehouse)
        if found.new:
            return None, found
        swept = sweep(wh)
        return {
            "nothing_new": True,
            "run_id": None,
            "last_run_id": last_run_id(wh),
            "already_seen": found.seen,
            "ingested": 0,
            "quarantined": 0,
            "duplicates": 0,
            "warnings": 0,
            "rows": {},
            "quarantine_reasons": [],
            "deferred": [],
            "swept": len(swept),
            "dashboard": _dashboard(wh),
        }, found


def _dashboard(wh: Warehouse) -> object:
    """The dashboard the last run wrote (a folder's), if there is one."""
    index = wh.root / "dashboard" / "index.html"
    return index if not is_remote(wh.root) and index.is_file() else None
