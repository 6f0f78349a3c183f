"""The library behind the CLI: one function per command, same arguments.

Printing lives here (rich tables) so the CLI stays a thin mirror.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
from rich.table import Table

from . import reports
from .errors import UnknownCode
from .ingest import ingest_bundle
from .printing import csv_safe, json_line, say, show
from .printing import table as literal_table
from .settings import RunSettings
from .unpack import BundleError, unpack
from .warehouse import Warehouse


def ingest(settings: RunSettings) -> dict:
    """Run the nightly Prefect flow with `settings`; returns the run totals."""
    from espfleet.flows.nightly import run

    return run(settings)


def serve(settings: RunSettings, cron: str) -> None:
    """Serve the nightly deployment on `cron` (blocks; Ctrl-C stops it)."""
    from espfleet.flows.nightly import serve as serve_flow

    serve_flow(settings, cron)


def simulate(devices: int, seed: int, out: Path) -> Path:
    """Write a simulated share; returns the ground_truth.csv path."""
    from espfleet.simulator.fleet import simulate as write_fleet

    return write_fleet(devices=devices, seed=seed, out=out)


def parse_file(path: Path, table: str | None = None) -> pa.Table:
    """Parse one file (a log, .evtx, .reg, exported events, or a whole CAB/ZIP).

    Args:
        path: the file.
        table: which table to return; default: the one with the most rows.

    Raises:
        BundleError: an archive that cannot be read.
        KeyError: `table` was not produced from this file.
    """
    members = unpack({path.name: path.read_bytes()})
    result = ingest_bundle(members)
    produced = {
        name: pa.concat_tables([t for _m, t in parts])
        for name, parts in result.tables.items()
    }
    if table is None:
        if not produced:
            return pa.table({})
        table = max(produced, key=lambda n: produced[n].num_rows)
    if table not in produced:
        raise KeyError(
            f"{path.name} gives no {table!r} rows; it gives: "
            + (", ".join(sorted(produced)) or "nothing")
        )
    return produced[table]


def _jsonable(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


def parse_file_jsonl(path: Path, table: str | None = None) -> Iterator[str]:
    """`parse_file` as JSON lines."""
    try:
        rows = parse_file(path, table).to_pylist()
    except (BundleError, KeyError) as error:
        raise SystemExit(f"espfleet parse: {error}") from error
    for row in rows:
        yield json_line({k: _jsonable(v) for k, v in row.items()})


def explain(code: str) -> str:
    """What `espfleet explain CODE` prints."""
    return explain_code(code)[0]


def explain_code(code: str) -> tuple[str, bool]:
    """What `espfleet explain CODE` prints, and whether the catalogue knows it.

    Raises:
        UnknownCode: `code` is no spelling of an error code at all.
    """
    from espfleet.parsers import errorcodes

    found = errorcodes.explain(code)
    if found.code is None and found.symbol is None:
        raise UnknownCode(
            f"{code!r} is not an error code (give one as 0x800705B4, 2147943860,"
            " -2147023436, 1603 or a symbol such as ERROR_TIMEOUT)"
        )
    return errorcodes.format_explanation(found), found.meaning is not None


def failure_rates(warehouse: Path, since: date | None = None) -> pa.Table:
    """The failure_rates report, optionally from `since` on."""
    with Warehouse(warehouse).connect() as con:
        return reports.failure_rates(con, since)


def failure_causes(warehouse: Path) -> pa.Table:
    """The failure_causes report, most frequent first."""
    with Warehouse(warehouse).connect() as con:
        return reports.failure_causes(con)


def _rich_table(table: pa.Table, title: str) -> Table:
    """Every cell shown literally (espfleet.printing): data is never markup."""
    return literal_table(table.to_pylist(), table.column_names, title, _cell)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1%}"
    return str(_jsonable(value))


def print_table(table: pa.Table, fmt: str, title: str = "") -> None:
    """Print an Arrow table as a rich table, CSV or JSON lines."""
    if fmt == "json":
        for row in table.to_pylist():
            print(json_line({k: _jsonable(v) for k, v in row.items()}))
    elif fmt == "csv":
        import pyarrow.csv as pacsv

        sink = pa.BufferOutputStream()
        pacsv.write_csv(table, sink)
        print(csv_safe(sink.getvalue().to_pybytes().decode()), end="")
    else:
        show(_rich_table(table, title))


def print_report(warehouse: Path, since: date | None, fmt: str) -> None:
    """Print failure rates as a table, CSV or JSON."""
    rates = failure_rates(warehouse, since)
    print_table(rates, fmt, "ESP failure rates (day x phase x error code)")


def print_run(totals: dict, settings: RunSettings) -> None:
    """What `espfleet run` / `ingest` print at the end."""
    if settings.dry_run:
        say(f"{len(totals['new'])} new bundles, {totals['seen']} already seen:")
        for uri in totals["new"]:
            say("  ", uri)
        return
    say(
        f"run {totals['run_id']}: {totals['ingested']} bundles ingested, "
        f"{totals['quarantined']} quarantined, {totals['duplicates']} duplicates, "
        f"{totals['already_seen']} already seen"
    )
    for uri, reason in totals["quarantine_reasons"]:
        say("  quarantined ", uri, ": ", reason)
    for uri, reason in totals["deferred"]:
        say("  deferred to the next run (share error) ", uri, ": ", reason)
    print_report(settings.warehouse, None, "table")
    show(_rich_table(failure_causes(settings.warehouse), "Why they failed"))
    root = settings.warehouse
    say()
    say("warehouse: ", root / "espfleet.duckdb", " (views over ", root / "parquet", ")")
    say("quarantine: ", root / "quarantine")
    say('query it:   espfleet sql "select * from device_outcomes" --warehouse ', root)


DEVICE_SQL = """
select * from device_outcomes
where serial_number = ? or lower(device_name) = lower(?)
order by attempt
"""

TIMELINE_SQL = """
select * from device_timeline
where bundle_id = ?
order by ts_utc nulls last, source, seq
"""


def print_device(warehouse: Path, who: str) -> bool:
    """Print one device's attempts and timeline; False when it is unknown."""
    with Warehouse(warehouse).connect() as con:
        attempts = con.sql(DEVICE_SQL, params=[who, who]).to_arrow_table()
        if attempts.num_rows == 0:
            say("no device with serial number or name ", repr(who))
            return False
        for row in attempts.to_pylist():
            # Every value is data from a bundle: printed literally (printing.say).
            say(
                ("bold", f"attempt {row['attempt']}"),
                " ",
                row["device_name"],
                " (",
                row["serial_number"],
                ") started ",
                _cell(row["started_at"]),
                ": ",
                ("bold", row["outcome"]),
                " ",
                row["failed_phase"] or "",
                " ",
                row["error_code"] or "",
            )
            say("  ", row["diagnosis"])
            timeline = con.sql(TIMELINE_SQL, params=[row["bundle_id"]]).to_arrow_table()
            show(_rich_table(timeline.drop_columns(["bundle_id", "seq"]), ""))
    return True


def run_sql(warehouse: Path, query: str | None, fmt: str = "table") -> None:
    """Run one query and print it, or say how to open a shell."""
    if query is None:
        say("cd ", warehouse, " && duckdb ", Warehouse(warehouse).db_path.name)
        say("(views read parquet/ relative to the warehouse folder)")
        return
    with Warehouse(warehouse).connect() as con:
        print_table(con.sql(query).to_arrow_table(), fmt)
