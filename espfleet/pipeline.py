"""The steps of a nightly run as plain functions (the Prefect flow wraps each one).

discover -> (per batch: fetch -> identify -> unpack -> parse -> write) -> refresh.
A batch writes its Parquet files first and its manifest last, so a batch that
dies half-way is simply ingested again by the next run (staging views keep the
latest run of each bundle).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from . import reports
from .ingest import ingest_bundle
from .quality import CheckResult, check_views
from .share import BundleRef, content_id, discover, filesystem, read_bundle
from .unpack import BundleError, unpack
from .warehouse import BUNDLES, MEMBERS, Warehouse, with_provenance


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

    @property
    def bundles(self) -> int:
        return self.ingested + self.quarantined + self.duplicates + len(self.deferred)


def find_new_bundles(
    source: str, warehouse: Path, reprocess: bool = False
) -> Discovery:
    """Bundles on `source` whose fingerprint the manifest does not hold."""
    fs, root = filesystem(source)
    refs = list(discover(fs, root))
    if reprocess:
        return Discovery(new=refs, seen=0)
    fingerprints, ids = Warehouse(warehouse).known()
    new = [r for r in refs if r.fingerprint not in fingerprints]
    return Discovery(new=new, seen=len(refs) - len(new), known_ids=frozenset(ids))


def _bundle_row(**values: object) -> dict:
    row: dict[str, object] = {f.name: None for f in BUNDLES}
    row.update(values)
    return row


def ingest_batch(
    source: str,
    refs: list[BundleRef],
    warehouse: Path,
    run_id: str,
    batch: str,
    reprocess: bool = False,
    known_ids: frozenset[str] = frozenset(),
) -> BatchSummary:
    """Fetch, unpack, parse and write one batch of bundles.

    `known_ids` (from `find_new_bundles`) are bundles ingested by earlier runs: a
    bundle among them, or met twice in this batch, is recorded as a duplicate.
    A bundle the share cannot deliver even after retried reads is deferred (left
    out of the manifest, so the next run tries again); the batch goes on.

    Raises:
        OSError: writing to the warehouse failed (the flow retries the batch).
    """
    fs, _root = filesystem(source)
    wh = Warehouse(warehouse)
    ingested_here: set[str] = set()
    now = datetime.now(UTC)
    summary = BatchSummary(batch=batch)
    tables: dict[str, list[pa.Table]] = {}
    bundles: list[dict] = []
    members: list[dict] = []
    manifest: list[dict] = []

    for ref in refs:
        try:
            files = read_bundle(fs, ref)
        except OSError as error:
            summary.deferred.append((ref.uri, f"{type(error).__name__}: {error}"))
            continue
        bundle_id = content_id(files)
        seen = {
            "source_uri": ref.uri,
            "fingerprint": ref.fingerprint,
            "bundle_id": bundle_id,
            "ingest_run_id": run_id,
            "seen_at": now,
        }
        if (bundle_id in known_ids and not reprocess) or bundle_id in ingested_here:
            manifest.append(seen | {"status": "duplicate"})
            summary.duplicates += 1
            continue
        ingested_here.add(bundle_id)
        base = {
            "bundle_id": bundle_id,
            "ingest_run_id": run_id,
            "source_uri": ref.uri,
            "layout": ref.layout,
            "size_bytes": ref.size_bytes,
            "ingested_at": now,
        }
        try:
            unpacked = unpack(files)
        except BundleError as error:
            reason = str(error)
            wh.quarantine(bundle_id, ref.uri, reason, run_id)
            bundles.append(_bundle_row(**base, status="quarantined", reason=reason))
            manifest.append(seen | {"status": "quarantined"})
            summary.quarantined += 1
            summary.quarantine_reasons.append((ref.uri, reason))
            continue
        result = ingest_bundle(unpacked)
        for name, parts in result.tables.items():
            for member, table in parts:
                tables.setdefault(name, []).append(
                    with_provenance(
                        name, table, bundle_id=bundle_id, member=member, run_id=run_id
                    )
                )
        damaged = [m for m in result.members if m.skipped or m.warnings]
        device = result.device
        bundles.append(
            _bundle_row(
                **base,
                status="ingested",
                reason=(
                    "; ".join(
                        f"{m.member}: {m.warnings} warnings, {m.skipped} skipped"
                        for m in damaged
                    )
                    or None
                ),
                serial_number=device.serial_number,
                device_name=device.device_name,
                device_zone=device.device_zone,
                device_zone_source=device.zone_source,
                collected_at=device.collected_at,
                n_members=len(result.members),
                n_warnings=result.n_warnings,
            )
        )
        members.extend(
            {"bundle_id": bundle_id, "ingest_run_id": run_id} | vars(m)
            for m in result.members
        )
        manifest.append(seen | {"status": "ingested"})
        summary.ingested += 1
        summary.warnings += result.n_warnings

    day = now.date()
    for name, parts in sorted(tables.items()):
        table = pa.concat_tables(parts)
        wh.write_table(name, table, run_id, batch, day)
        summary.rows[name] = table.num_rows
    if bundles:
        wh.write_table(
            "bundles", pa.Table.from_pylist(bundles, schema=BUNDLES), run_id, batch, day
        )
    if members:
        wh.write_table(
            "members", pa.Table.from_pylist(members, schema=MEMBERS), run_id, batch, day
        )
    wh.write_manifest(manifest, run_id, batch)
    return summary


def refresh_warehouse(warehouse: Path, run_id: str) -> Path:
    """Make sure every table resolves, then rebuild the DuckDB views."""
    wh = Warehouse(warehouse)
    wh.ensure_tables(run_id, datetime.now(UTC).date())
    wh.refresh()
    return wh.db_path


def failure_rates(warehouse: Path) -> pa.Table:
    """The failure_rates report of the refreshed warehouse."""
    with Warehouse(warehouse).connect() as con:
        return reports.failure_rates(con)


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
    }


def run_markdown(totals: dict) -> str:
    """A short Markdown summary of a run, for the Prefect artifact."""
    lines = [
        f"# espfleet run {totals['run_id']}",
        "",
        f"- ingested: {totals['ingested']}",
        f"- quarantined: {totals['quarantined']}",
        f"- duplicates skipped: {totals['duplicates']}",
        f"- already seen: {totals['already_seen']}",
        f"- parser warnings: {totals['warnings']}",
        "",
        "| table | rows |",
        "|---|---|",
    ]
    lines += [f"| {name} | {n} |" for name, n in totals["rows"].items()]
    if totals["deferred"]:
        lines += ["", "## Deferred (share errors; retried next run)", ""]
        lines += [f"- `{uri}`: {reason}" for uri, reason in totals["deferred"]]
    if totals["quarantine_reasons"]:
        lines += ["", "## Quarantined", ""]
        lines += [
            f"- `{uri}`: {reason}" for uri, reason in totals["quarantine_reasons"]
        ]
    return "\n".join(lines)


def quality_gate(warehouse: Path) -> list[CheckResult]:
    """Run every view's declared tests on the warehouse (espfleet.quality)."""
    with Warehouse(warehouse).connect() as con:
        return check_views(con)


def quality_summary(results: list[CheckResult]) -> str:
    """One line (plus one per failed check) for the run's log."""
    failed = [r for r in results if not r.ok]
    lines = [f"data quality: {len(results)} checks, {len(failed)} failed"]
    lines += [f"  {r.view}: {r.check} ({r.failing_rows} rows)" for r in failed]
    return "\n".join(lines)
