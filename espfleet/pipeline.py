"""The steps of a nightly run as plain functions (the Prefect flow wraps each one).

discover -> (per batch: fetch -> identify -> unpack -> parse -> write) -> refresh.
A batch writes its Parquet files first and its manifest last, so a batch that
dies half-way is simply ingested again by the next run: the views read only
what a manifest names, and the next run sweeps the rest (`espfleet.runs`).
"""

from __future__ import annotations

import ctypes
import gc
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

import pyarrow as pa
from fsspec import AbstractFileSystem

from . import reports
from .errors import DiskFull, exception_summary, is_disk_full
from .ingest import KEEP, BundleTables, ingest_members
from .quality import CheckResult, check_views
from .runids import part_name
from .share import (
    BundleRef,
    content_id,
    discover,
    filesystem,
    open_share,
    read_bundle,
    redact,
    streamed_content_id,
)
from .storage import Location
from .unpack import BundleError, Limits, iter_members, stored_over_budget
from .warehouse import BUNDLES, MEMBERS, Warehouse, with_provenance

# Rows a batch holds before it writes them out as a part (Arrow buffer bytes):
# a real-size bundle's rows take ~40 MB, so a batch's memory is bounded by a
# few bundles, not by the batch size.
FLUSH_BYTES = 128 << 20


@dataclass
class Discovery:
    """What a share holds that this warehouse has not seen."""

    new: list[BundleRef]
    seen: int
    # Bundle ids already ingested or quarantined: read once here, not per batch.
    known_ids: frozenset[str] = frozenset()


@dataclass
class BatchSummary:
    """What one batch did (the flow adds these up and publishes them)."""

    batch: str
    ingested: int = 0
    quarantined: int = 0
    duplicates: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    warnings: int = 0
    quarantine_reasons: list[tuple[str, str]] = field(default_factory=list)
    # Unreadable now (share errors): not recorded, so the next run tries again.
    deferred: list[tuple[str, str]] = field(default_factory=list)
    # Wall seconds the batch took in its worker (the orchestration is the rest).
    seconds: float = 0.0

    @property
    def bundles(self) -> int:
        return self.ingested + self.quarantined + self.duplicates + len(self.deferred)


def find_new_bundles(
    source: str, warehouse: Location | str, reprocess: bool = False
) -> Discovery:
    """Bundles on `source` whose fingerprint the manifest does not hold.

    Raises:
        ShareError: the share is missing, unreachable or refuses us (one line).
    """
    fs, root = open_share(source)
    refs = list(discover(fs, root))
    if reprocess:
        return Discovery(new=refs, seen=0)
    fingerprints, ids = Warehouse(warehouse).known()
    new = [r for r in refs if r.fingerprint not in fingerprints]
    return Discovery(new=new, seen=len(refs) - len(new), known_ids=frozenset(ids))


def batches(
    refs: list[BundleRef], batch_size: int, workers: int
) -> list[list[BundleRef]]:
    """The night's bundles in batches, in listing order: `batch_size` bundles
    each, then smaller ones at the end, so that the workers finish together.

    Guided self-scheduling (Polychronopoulos and Kuck, "Guided
    Self-Scheduling", IEEE Trans. Computers 36(12), 1987): a batch takes at
    most 1/(2 * `workers`) of the bytes still to come, which binds only near
    the end, and at least a quarter of `batch_size` bundles (each batch writes
    a file per table, which the views then read). With batches of one size, a
    worker that ended first waited for the other's last batch: half a batch of
    real-size bundles on average, about 11 s of an idle core.
    """
    least = max(1, batch_size // 4)
    left = sum(ref.size_bytes for ref in refs)
    out: list[list[BundleRef]] = []
    start = 0
    while start < len(refs):
        cap = left / (2 * max(1, workers))
        end, weight = start, 0
        while end < len(refs) and end - start < batch_size:
            if end - start >= least and weight + refs[end].size_bytes > cap:
                break
            weight += refs[end].size_bytes
            end += 1
        out.append(refs[start:end])
        left -= weight
        start = end
    return out


def _bundle_row(**values: object) -> dict:
    row: dict[str, object] = {f.name: None for f in BUNDLES}
    row.update(values)
    return row


@dataclass
class _Batch:
    """What one batch has read so far, and will write at its end."""

    run_id: str
    now: datetime
    summary: BatchSummary
    root: str = ""  # the share root inside its filesystem (for each bundle's site)
    tables: dict[str, list[pa.Table]] = field(default_factory=dict)
    # The Arrow bytes of each table's parts: summing them again after every
    # bundle cost 16 ms a real-size bundle by the end of a batch.
    held: dict[str, int] = field(default_factory=dict)
    bundles: list[dict] = field(default_factory=list)
    members: list[dict] = field(default_factory=list)
    manifest: list[dict] = field(default_factory=list)
    ingested_ids: set[str] = field(default_factory=set)
    # (bundle_id, source_uri, reason): written with the batch, before its manifest.
    quarantined: list[tuple[str, str, str]] = field(default_factory=list)
    limits: Limits = field(default_factory=Limits)
    parts: int = 0  # table parts written before the batch's end (`_flush`)
    written: list[Location | None] = field(default_factory=list)  # undone on failure


def site_of(uri: str, root: str) -> str | None:
    """The share folder of a bundle: the first folder under the share root.

    ``site_of("/share/US-NYC/drop/x.cab", "/share")`` is ``"US-NYC"``; a bundle
    right at the root has none.
    """
    root = root.rstrip("/")
    rel = uri[len(root) :] if root and uri.startswith(root + "/") else uri
    parts = [p for p in rel.split("/") if p]
    return parts[0] if len(parts) > 1 else None


def _damage(result: BundleTables) -> str | None:
    """A bundle's damage summary: the members with warnings or skips."""
    damaged = [m for m in result.members if m.skipped or m.warnings]
    text = "; ".join(
        f"{m.member}: {m.warnings} warnings, {m.skipped} skipped" for m in damaged
    )
    return text or None


def _add_ingested(out: _Batch, base: dict, result: BundleTables) -> None:
    bundle_id, run_id = base["bundle_id"], out.run_id
    for name, parts in result.tables.items():
        for member, table in parts:
            stored = with_provenance(
                name, table, bundle_id=bundle_id, member=member, run_id=run_id
            )
            out.tables.setdefault(name, []).append(stored)
            out.held[name] = out.held.get(name, 0) + stored.nbytes
    device = result.device
    out.bundles.append(
        _bundle_row(
            **base,
            status="ingested",
            reason=_damage(result),
            serial_number=device.serial_number,
            device_name=device.device_name,
            device_zone=device.device_zone,
            device_zone_source=device.zone_source,
            utc_offset_min=device.utc_offset_min,
            collected_at=device.collected_at,
            n_members=len(result.members),
            n_warnings=result.n_warnings,
        )
    )
    out.members.extend(
        {"bundle_id": bundle_id, "ingest_run_id": run_id} | vars(m)
        for m in result.members
    )
    out.summary.ingested += 1
    out.summary.warnings += result.n_warnings


def _quarantine(out: _Batch, base: dict, seen: dict, reason: str) -> None:
    out.quarantined.append((base["bundle_id"], base["source_uri"], reason))
    out.bundles.append(_bundle_row(**base, status="quarantined", reason=reason))
    out.manifest.append(seen | {"status": "quarantined"})
    out.summary.quarantined += 1
    out.summary.quarantine_reasons.append((base["source_uri"], reason))


def _ingest_one(
    out: _Batch,
    fs: AbstractFileSystem,
    ref: BundleRef,
    skip_ids: frozenset[str],
) -> None:
    """Read one bundle into `out`: duplicate, quarantined or ingested.

    A bundle whose files are too large to read (by their sizes on the share),
    over its unpacking budget, with a damaged archive, or on which a parser or
    deriver raised anything at all (a defect, or a MemoryError) is quarantined
    with the reason; the batch goes on with the next bundle.

    Raises:
        OSError: the share could not deliver the bundle (the caller defers it).
    """
    listed = {f.name: f.size for f in ref.files}
    too_large = stored_over_budget(listed, out.limits)
    files = {} if too_large else read_bundle(fs, ref)
    if not too_large:  # a listing can be wrong: the bytes read decide
        too_large = stored_over_budget(
            {n: len(d) for n, d in files.items()}, out.limits
        )
    bundle_id = streamed_content_id(fs, ref) if too_large else content_id(files)
    seen = {
        "source_uri": ref.uri,
        "fingerprint": ref.fingerprint,
        "bundle_id": bundle_id,
        "ingest_run_id": out.run_id,
        "seen_at": out.now,
    }
    if bundle_id in skip_ids or bundle_id in out.ingested_ids:
        out.manifest.append(seen | {"status": "duplicate"})
        out.summary.duplicates += 1
        return
    out.ingested_ids.add(bundle_id)
    base = {
        "bundle_id": bundle_id,
        "ingest_run_id": out.run_id,
        "source_uri": ref.uri,
        "site": site_of(ref.uri, out.root),
        "layout": ref.layout,
        "size_bytes": ref.size_bytes,
        "ingested_at": out.now,
    }
    if too_large:
        _quarantine(out, base, seen, too_large)
        return
    written_at: dict[str, datetime] = {}
    try:
        members = iter_members(files, written_at, out.limits, KEEP)
        result = ingest_members(members, written_at)
    except BundleError as error:
        _quarantine(out, base, seen, str(error))
        return
    except Exception as error:  # any defect in one bundle must not cost the batch
        reason = "parse failed: " + redact(exception_summary(error))
        _quarantine(out, base, seen, reason)
        return
    _add_ingested(out, base, result)
    out.manifest.append(seen | {"status": "ingested"})


def _held_bytes(out: _Batch) -> int:
    """The Arrow buffers the batch holds for tables not yet written."""
    return sum(out.held.values())


def _flush(wh: Warehouse, out: _Batch, name_as: str, keep: int = 0) -> None:
    """Write the tables read so far, one Parquet file each, largest first,
    and let them go, until the batch holds at most `keep` bytes of rows.

    Parts (`runids.part_name`, past `FLUSH_BYTES`) count once the batch's
    manifest is written, last as before; a batch that fails removes them.
    Mid-batch, the small tables stay until the batch ends: every file costs
    the views its footer, which DuckDB reads and caches per column chunk
    (about 1.7 KB each) whatever its rows. When a part wrote every table, a
    night of 1,025 real-size bundles left 3,335 files (91 MiB of cached
    footers); now 1,242 (34 MiB), and at 10,250 bundles the refresh's peak
    went from 2,344 to 1,350 MiB (docs/scale.md "Fewer files").
    """
    day, run_id = out.now.date(), out.run_id
    held = sorted(((out.held[name], name) for name in out.tables), reverse=True)
    left = _held_bytes(out)
    for nbytes, name in held:
        if keep and left <= keep:
            break
        table = pa.concat_tables(out.tables.pop(name))
        del out.held[name]
        out.written.append(wh.write_table(name, table, run_id, name_as, day))
        out.summary.rows[name] = out.summary.rows.get(name, 0) + table.num_rows
        left -= nbytes


def _undo(wh: Warehouse, out: _Batch, error: OSError) -> NoReturn:
    """Remove what the batch wrote, then raise (DiskFull when the disk is full)."""
    for path in out.written:
        if path is not None:
            path.unlink(missing_ok=True)
    if is_disk_full(error):
        raise DiskFull(f"disk full writing to warehouse {wh.root}") from None
    raise error


def _write(wh: Warehouse, out: _Batch, batch: str) -> None:
    """Every table of the batch, then its manifest (last: it commits the batch).

    A batch that cannot be written whole leaves nothing behind.

    Raises:
        DiskFull: no space left (not retried: the flow says what was kept).
        OSError: any other write error (the flow retries the batch).
    """
    day, run_id = out.now.date(), out.run_id
    try:
        for bundle_id, uri, reason in out.quarantined:
            out.written.append(wh.quarantine(bundle_id, uri, reason, run_id))
        _flush(wh, out, part_name(batch, out.parts) if out.parts else batch)
        for name, rows, schema in (
            ("bundles", out.bundles, BUNDLES),
            ("members", out.members, MEMBERS),
        ):
            if rows:
                table = pa.Table.from_pylist(rows, schema=schema)
                out.written.append(wh.write_table(name, table, run_id, batch, day))
        wh.write_manifest(out.manifest, run_id, batch)
    except OSError as error:
        _undo(wh, out, error)


def ingest_batch(
    source: str,
    refs: list[BundleRef],
    warehouse: Location | str,
    run_id: str,
    batch: str,
    reprocess: bool = False,
    known_ids: frozenset[str] = frozenset(),
    limits: Limits | None = None,
) -> BatchSummary:
    """Fetch, unpack, parse and write one batch of bundles.

    `known_ids` (from `find_new_bundles`) are bundles ingested by earlier runs: a
    bundle among them, or met twice in this batch, is recorded as a duplicate.
    A bundle the share cannot deliver even after retried reads is deferred (left
    out of the manifest, so the next run tries again); the batch goes on.
    `limits` is each bundle's unpacking budget (default: `Limits.from_env()`).

    Raises:
        OSError: writing to the warehouse failed (the flow retries the batch).
    """
    started = time.perf_counter()
    fs, root = filesystem(source)
    wh = Warehouse(warehouse)
    out = _Batch(run_id, datetime.now(UTC), BatchSummary(batch=batch), root=root)
    out.limits = limits or Limits.from_env()
    skip_ids = frozenset() if reprocess else known_ids
    with collected_per_bundle() as collect:
        for ref in refs:
            try:
                _ingest_one(out, fs, ref, skip_ids)
            except OSError as error:
                reason = redact(f"{type(error).__name__}: {error}")
                out.summary.deferred.append((ref.uri, reason))
            collect()
            if _held_bytes(out) > FLUSH_BYTES:
                try:
                    _flush(wh, out, part_name(batch, out.parts), FLUSH_BYTES // 4)
                except OSError as error:
                    _undo(wh, out, error)
                out.parts += 1
        _write(wh, out, batch)
    give_back_memory()
    out.summary.seconds = time.perf_counter() - started
    return out.summary


_gc_lock = threading.Lock()
_gc_batches = 0  # batches of this process inside collected_per_bundle()
_gc_was_enabled = True


@contextmanager
def collected_per_bundle() -> Iterator[Callable[[], int]]:
    """Python's cyclic garbage collector off for a batch; yields the collection
    to run after each bundle.

    A batch's parsers make millions of short-lived containers, and each
    automatic collection of the oldest generation walked every object the
    process holds, Prefect's engine and its models included (168,000 objects
    in a worker, 78,000 without Prefect). On one batch of 40 real-size
    bundles (`bench/bench_gc.py`), collections took 3.8 of 19.5 s with Prefect
    imported and 2.1 of 17.7 s without; off, with one collection per bundle,
    the batch took 15.5 and 15.1 s, at the same peak RSS: the parsers make
    next to no cycles (their garbage goes by reference counting), and what
    one bundle makes is collected before the next. The objects alive before
    the batch are frozen (`gc.freeze`), so a bundle's collection walks only
    what came after; the batch ends by collecting everything
    (`give_back_memory`). The collector is one per process: batches in
    threads share this state, and it is back as it was when the last one
    leaves.
    """
    global _gc_batches, _gc_was_enabled
    with _gc_lock:
        if _gc_batches == 0:
            _gc_was_enabled = gc.isenabled()
            gc.collect()
            gc.freeze()
            gc.disable()
        _gc_batches += 1
    try:
        yield gc.collect
    finally:
        with _gc_lock:
            _gc_batches -= 1
            if _gc_batches == 0:
                gc.unfreeze()
                if _gc_was_enabled:
                    gc.enable()


def _malloc_trim() -> None:
    """glibc's malloc_trim(0), where the C library has it (not musl, not macOS)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def give_back_memory() -> None:
    """Return what a batch freed to the system, so that a worker process that
    waits for the next batch (or for the end of the run) does not hold its
    peak. Measured on batches of 25 real-size bundles: a worker held 390-450
    MiB after each one; 230 after Arrow's allocator (mimalloc) let its unused
    pages go, 170 after glibc's malloc_trim."""
    gc.collect()
    pa.default_memory_pool().release_unused()
    _malloc_trim()


def refresh_warehouse(warehouse: Location | str, run_id: str) -> Location:
    """Make sure every table resolves, then rebuild the DuckDB views.

    Raises:
        DiskFull: no space for the database (the batches are all kept).
    """
    wh = Warehouse(warehouse)
    try:
        wh.ensure_tables(run_id, datetime.now(UTC).date())
        wh.refresh()
    except Exception as error:  # OSError, or DuckDB's own IOException
        if is_disk_full(error):
            raise DiskFull(
                f"disk full writing to warehouse {wh.root}: every batch was kept;"
                " free space and re-run the same command to rebuild the views"
            ) from None
        raise
    return wh.db_path


def failure_rates(warehouse: Location | str) -> pa.Table:
    """The failure_rates report of the refreshed warehouse."""
    with Warehouse(warehouse).connect() as con:
        return reports.failure_rates(con)


def rate_flags(warehouse: Location | str, threshold: float, min_devices: int) -> dict:
    """The run's flags: rates that rose past the threshold, newly failing devices.

    Returns:
        ``rate_flags`` (flagged rows of rate_deltas), ``newly_failing`` (the
        latest night's newly failing devices) and ``flag_rule`` (in words).
    """
    with Warehouse(warehouse).connect() as con:
        flags = reports.rate_flags(con, threshold, min_devices)
        newly = reports.run(con, "newly_failing_devices")
    return {
        "rate_flags": flags.to_pylist(),
        "newly_failing": newly.to_pylist(),
        "flag_rule": f"a failure rate up by at least {threshold:.1%} (night over "
        f"night or week over week) on at least {min_devices} failing devices",
    }


def export_dashboard(
    warehouse: Path | str, threshold: float, min_devices: int, mask: bool = False
) -> Path:
    """Write the ops-review dashboard of the refreshed warehouse folder; its
    index.html."""
    from espfleet.dashboards import export_dashboard as export

    return export(
        Path(warehouse), mask=mask, threshold=threshold, min_devices=min_devices
    ).index


def add_up(summaries: list[BatchSummary], seen: int, run_id: str) -> dict:
    """One run's totals from its batch summaries."""
    rows: dict[str, int] = {}
    for s in summaries:
        for name, n in s.rows.items():
            rows[name] = rows.get(name, 0) + n
    return {
        "run_id": run_id,
        "already_seen": seen,
        "ingested": sum(s.ingested for s in summaries),
        "quarantined": sum(s.quarantined for s in summaries),
        "duplicates": sum(s.duplicates for s in summaries),
        "warnings": sum(s.warnings for s in summaries),
        "rows": dict(sorted(rows.items())),
        "quarantine_reasons": [r for s in summaries for r in s.quarantine_reasons],
        "deferred": [r for s in summaries for r in s.deferred],
        "batch_seconds": round(sum(s.seconds for s in summaries), 1),
    }


def quality_gate(
    warehouse: Location | str,
    run_id: str | None = None,
    seconds: dict[str, float] | None = None,
) -> list[CheckResult]:
    """Run every view's declared tests on the warehouse (espfleet.quality).

    Args:
        warehouse: the warehouse folder or URL.
        run_id: the run whose bundles the per-bundle views' tests cover (the
            rows of earlier runs were checked by them); None, or a run that
            ingested every bundle of the warehouse, checks every row.
        seconds: filled with each view's seconds (`quality.check_views`).
    """
    with Warehouse(warehouse).connect() as con:
        bundles = None
        if run_id is not None:
            rows = con.execute(
                "select bundle_id, ingest_run_id = ? from stg_ingest__bundles", [run_id]
            ).fetchall()
            if not all(of_run for _, of_run in rows):  # else: the first night
                bundles = [bundle for bundle, of_run in rows if of_run]
        return check_views(con, bundles, seconds)


def quality_summary(results: list[CheckResult]) -> str:
    """One line (plus one per failed check) for the run's log."""
    failed = [r for r in results if not r.ok]
    lines = [f"data quality: {len(results)} checks, {len(failed)} failed"]
    lines += [f"  {r.view}: {r.check} ({r.failing_rows} rows)" for r in failed]
    return "\n".join(lines)
