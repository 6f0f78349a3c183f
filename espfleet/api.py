"""The library behind the CLI: one function per command, same arguments.

Printing lives here (rich tables) so the CLI stays a thin mirror.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
from rich.table import Table

from . import reports, timeline
from .errors import UnknownCode
from .ingest import KEEP, BundleTables, ingest_members
from .printing import csv_safe, inert, json_line, say, show
from .run_summary import flag_lines
from .settings import RunSettings, task_runner_for
from .storage import Location, location
from .unpack import BundleError, iter_members
from .warehouse import Warehouse, WarehouseError


def ingest(settings: RunSettings) -> dict:
    """Run the nightly Prefect flow with `settings`; returns the run totals.

    When the share holds nothing new, the run ends before Prefect is even
    imported (`espfleet.unchanged`): its totals say ``nothing_new`` (unless
    the share's password is in a Prefect Secret block, which takes the API). With
    ``task_runner="auto"`` the runner is chosen from what the new bundles
    weigh (`settings.task_runner_for`), listed before the engine starts.
    """
    from . import share, supervise, temporary_api, unchanged

    if not temporary_api.serves(settings):
        return _listed_then_run(settings, None)
    supervise.watch()  # the server carries the run's token
    if os.environ.get(share.SECRET_ENV):
        # The share's password is in a Prefect Secret block: the listing
        # itself needs the API (else Prefect would start a second server).
        with (
            temporary_api.TemporaryApi.start() as prefect_api,
            temporary_api.in_use(prefect_api),
        ):
            return _listed_then_run(settings, prefect_api)
    totals, found = unchanged.check(settings)
    if totals is not None:
        return totals
    # The server starts on the other core while this process lists the share
    # (for ``auto``) and imports the engine.
    with temporary_api.TemporaryApi.start() as prefect_api:
        return _run(settings, found, prefect_api)


def _listed_then_run(settings: RunSettings, prefect_api) -> dict:
    from . import unchanged

    totals, found = unchanged.check(settings)
    if totals is not None:
        return totals
    return _run(settings, found, prefect_api)


def _run(settings: RunSettings, found, prefect_api) -> dict:
    if settings.task_runner == "auto":
        new_bytes = 0
        if not settings.dry_run:  # a dry run ingests nothing
            from .pipeline import find_new_bundles

            found = found or find_new_bundles(
                settings.source, settings.warehouse, settings.reprocess
            )
            new_bytes = sum(ref.size_bytes for ref in found.new)
        settings = dataclasses.replace(settings, task_runner=task_runner_for(new_bytes))
    from espfleet.flows.nightly import run

    return run(settings, prefect_api) | {"task_runner": settings.task_runner}


def serve(settings: RunSettings, cron: str, server_port: int = 4200) -> None:
    """Serve the nightly deployment on `cron` on a Prefect API that schedules
    (`espfleet.server.serve_nightly`; blocks until Ctrl-C or SIGTERM)."""
    from .server import serve_nightly

    serve_nightly(settings, cron, server_port)


def simulate(devices: int, seed: int, out: Path, size: str = "small") -> Path:
    """Write a simulated share (``size`` small or real); returns ground_truth.csv."""
    from espfleet.simulator.fleet import simulate as write_fleet

    return write_fleet(devices=devices, seed=seed, out=out, size=size)


class UnsupportedFile(Exception):
    """A file (or every member of an archive) in no format espfleet reads."""


# Tables that describe a bundle's time rather than its records: never the default.
_ABOUT_TIME = ("clock_eras", "clock_anchors")


def _nothing_read(path: Path, result: BundleTables) -> UnsupportedFile:
    reports = result.members
    if len(reports) == 1 and reports[0].member == path.name:
        why = reports[0].reason or (
            f"no records ({reports[0].first_warning})"
            if reports[0].first_warning
            else "no records"
        )
        return UnsupportedFile(f"{path.name}: {why}")
    return UnsupportedFile(
        f"{path.name}: none of its {len(reports)} members is in a format espfleet reads"
    )


def parse_file(path: Path, table: str | None = None) -> pa.Table:
    """Parse one file (a log, .evtx, .reg, exported events, or a whole CAB/ZIP).

    Args:
        path: the file.
        table: which table to return; default: the one with the most rows.

    Raises:
        BundleError: an archive that cannot be read.
        UnsupportedFile: no parser reads the file (or any member of it).
        KeyError: `table` was not produced from this file.
    """
    written_at: dict[str, datetime] = {}
    members = iter_members({path.name: path.read_bytes()}, written_at, keep=KEEP)
    result = ingest_members(members, written_at)
    produced = {
        name: pa.concat_tables([t for _m, t in parts])
        for name, parts in result.tables.items()
    }
    records = [n for n in produced if n not in _ABOUT_TIME]
    if not records:
        raise _nothing_read(path, result)
    if table is None:
        table = max(records, key=lambda n: produced[n].num_rows)
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
    except (BundleError, KeyError, UnsupportedFile) as error:
        message = error.args[0] if isinstance(error, KeyError) else error
        raise SystemExit(f"espfleet parse: {message}") from error
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


def failure_rates(warehouse: Location | str, since: date | None = None) -> pa.Table:
    """The failure_rates report, optionally from `since` on."""
    with Warehouse(warehouse).connect() as con:
        return reports.failure_rates(con, since)


def failure_causes(warehouse: Location | str) -> pa.Table:
    """The failure_causes report, most frequent first."""
    with Warehouse(warehouse).connect() as con:
        return reports.failure_causes(con)


def _rich_table(table: pa.Table, title: str) -> Table:
    """Every cell shown literally (espfleet.printing): data is never markup."""
    out = Table(title=inert(title) if title else None)
    rows = table.to_pylist()
    for name in table.column_names:
        longest = max((len(_cell(r[name], name)) for r in rows), default=0)
        if longest > 48:  # long texts (meanings, diagnoses) stay on one line
            out.add_column(inert(name), max_width=48, no_wrap=True, overflow="ellipsis")
        else:
            out.add_column(inert(name))
    for row in rows:
        out.add_row(*[inert(_cell(v, k)) for k, v in row.items()])
    return out


def _cell(value: object, name: str = "rate") -> str:
    """A value as printed; floats named *rate* or *share* as percentages."""
    if value is None:
        return ""
    if isinstance(value, float):
        if "rate" in name or "share" in name:
            return f"{value:+.1%}" if name == "rate_change" else f"{value:.1%}"
        return f"{value:.1f}"
    return str(_jsonable(value))


def print_table(table: pa.Table, fmt: str, title: str = "") -> None:
    """Print an Arrow table as a rich table, CSV or JSON lines.

    An empty table still prints its header (table and CSV).
    """
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


def report_list() -> str:
    """What `espfleet report` with no name prints: every report and its view."""
    width = max(len(n) for n in reports.REPORTS)
    lines = ["reports (espfleet report NAME; each is a view of the warehouse):"]
    lines += [f"  {n:<{width}}  {r.title}" for n, r in reports.REPORTS.items()]
    return "\n".join(lines)


def print_report(
    warehouse: Location | str,
    name: str | None,
    since: date | None,
    fmt: str,
    settings: RunSettings | None = None,
    mask: bool = False,
) -> None:
    """Print report `name` (or the list of reports) as a table, CSV or JSON.

    With `mask`, device names, serials, users and tenants are shown as their
    pseudonyms (espfleet.masking), the same as in a masked dashboard.

    Raises:
        reports.UnknownReport: `name` is not a report.
        WarehouseError: no database in `warehouse`, or an older one.
    """
    if name is None:
        print(report_list())
        return
    settings = settings or RunSettings(warehouse=location(warehouse))
    with Warehouse(warehouse).connect() as con:
        table = reports.run(
            con, name, since, settings.delta_threshold, settings.min_devices
        )
        if mask:
            root = location(warehouse)
            if not isinstance(root, Path):  # the mask key is a local secret
                raise WarehouseError(f"--mask needs a warehouse folder, not {root}")
            table = _masker(con, root).table(table)
    print_table(table, fmt, reports.REPORTS[name].title)


def _masker(con, warehouse: Path):
    """The warehouse's Masker (its key created on first use)."""
    from .masking import Masker, load_key

    return Masker(load_key(warehouse), reports.identities(con))


def dashboard(
    warehouse: Path,
    out: Path | None = None,
    since: date | None = None,
    mask: bool = False,
    settings: RunSettings | None = None,
):
    """Export the ops-review dashboard (espfleet.dashboards.export_dashboard).

    Returns:
        The `Export`: the HTML file, the images, the time taken.

    Raises:
        WarehouseError: no database in `warehouse`, or an older one.
    """
    from espfleet.dashboards import export_dashboard

    settings = settings or RunSettings(warehouse=warehouse)
    return export_dashboard(
        warehouse,
        out,
        since,
        mask,
        settings.delta_threshold,
        settings.min_devices,
    )


def print_flags(warehouse: Location | str, settings: RunSettings) -> None:
    """Print `flag_lines` for the warehouse (the end of `espfleet run`)."""
    with Warehouse(warehouse).connect() as con:
        flags = reports.rate_flags(con, settings.delta_threshold, settings.min_devices)
        newly = reports.run(con, "newly_failing_devices")
    for line in flag_lines(flags.to_pylist(), newly.to_pylist(), settings):
        say(line)  # device names are a bundle's text: printed literally


def print_run(totals: dict, settings: RunSettings) -> None:
    """What `espfleet run` / `ingest` print at the end."""
    if settings.dry_run:
        say(f"{len(totals['new'])} new bundles, {totals['seen']} already seen:")
        for uri in totals["new"]:
            say("  ", uri)
        return
    if totals.get("nothing_new"):
        last = totals.get("last_run_id")
        say(
            f"nothing new: {totals['already_seen']} bundles already seen; no run "
            "started, the warehouse is as "
            + (f"run {last}" if last else "the last run")
            + " left it"
        )
    else:
        say(
            f"run {totals['run_id']}: {totals['ingested']} bundles ingested, "
            f"{totals['quarantined']} quarantined, {totals['duplicates']} "
            f"duplicates, {totals['already_seen']} already seen"
        )
    for uri, reason in totals["quarantine_reasons"]:
        say("  quarantined ", uri, ": ", reason)
    for uri, reason in totals["deferred"]:
        say("  deferred to the next run (share error) ", uri, ": ", reason)
    print_report(settings.warehouse, "failure_rates", None, "table", settings)
    print_report(settings.warehouse, "failure_causes", None, "table", settings)
    print_flags(settings.warehouse, settings)
    root = settings.warehouse
    say()
    say("warehouse: ", root / "espfleet.duckdb", " (views over ", root / "parquet", ")")
    say("quarantine: ", root / "quarantine")
    if isinstance(root, Path):
        say(
            'query it:   espfleet sql "select * from device_outcomes" --warehouse ',
            root,
        )
    else:
        say("query it:   espfleet report device_outcomes --warehouse ", root)
    if totals.get("dashboard"):
        say("dashboard:  ", totals["dashboard"], " (one file; opens offline)")


DEVICE_SQL = """
select * from device_outcomes
where serial_number = ? or lower(device_name) = lower(?)
order by attempt
"""

ATTRIBUTES_SQL = "select * from device_attributes where bundle_id = ?"

LINT_SQL = """
select severity, rule, finding from device_lint
where bundle_id = ? order by severity, rule
"""

TIMELINE_SQL = """
select * from device_timeline
where bundle_id = ?
order by ts_utc nulls last, source != 'clock', source, seq
"""


def print_device(warehouse: Location | str, who: str, wide: bool = False) -> bool:
    """Print one device's attempts and timeline; False when it is unknown.

    Args:
        warehouse: the warehouse folder.
        who: a serial number or device name (case-insensitive).
        wide: every timeline column in full instead of 100 columns.
    """
    with Warehouse(warehouse).connect() as con:
        attempts = con.sql(DEVICE_SQL, params=[who, who]).to_arrow_table()
        if attempts.num_rows == 0:
            print(f"no device with serial number or name {timeline.clean(who)!r}")
            return False
        for row in attempts.to_pylist():
            bundle = [row["bundle_id"]]
            attributes = con.sql(ATTRIBUTES_SQL, params=bundle).to_arrow_table()
            rows = con.sql(TIMELINE_SQL, params=bundle).to_arrow_table().to_pylist()
            lines = timeline.attempt_header(row, (attributes.to_pylist() or [None])[0])
            lint = con.sql(LINT_SQL, params=bundle).to_arrow_table().to_pylist()
            lines += timeline.lint_lines(lint)
            lines += timeline.wide(rows) if wide else timeline.compact(rows)
            # plain print: no markup, no tab expansion, nothing interpreted
            print("\n".join(lines + [""]))
    return True


def refresh(warehouse: Location) -> Location:
    """Rebuild the warehouse's DuckDB file (after a move, or an older espfleet)."""
    from datetime import UTC, datetime

    from .warehouse import new_run_id

    if not (warehouse / "parquet").is_dir():
        raise WarehouseError(
            f"no Parquet tables in {warehouse}: run "
            f"`espfleet ingest SOURCE --warehouse {warehouse}` first"
        )
    wh = Warehouse(warehouse)
    wh.ensure_tables(new_run_id(), datetime.now(UTC).date())
    wh.refresh()
    return wh.db_path


def run_sql(
    warehouse: Path,
    query: str | None,
    fmt: str = "table",
    shell: str = "builtin",
) -> int:
    """Run one read-only query and print it, or open a read-only shell.

    Args:
        warehouse: the warehouse folder.
        query: SQL (statements separated by ``;``; the last one's rows print);
            None opens a shell.
        fmt: table, csv or json.
        shell: ``builtin`` (the statement check and DuckDB's own settings) or
            ``duckdb`` (the DuckDB CLI, read-only and confined to the warehouse,
            but without the statement check: DuckDB lets an allowed folder be
            written, so a ``COPY ... TO`` into the warehouse's data folders works
            there; the CLI says so when it opens).

    Returns:
        The exit code: 0, or 1 when a statement was refused or failed (its one
        line goes to stderr).
    """
    import duckdb

    from . import sandbox

    if query is None:
        return _shell(warehouse, fmt, shell)
    with sandbox.sandboxed(warehouse) as con:
        try:
            table = sandbox.run_query(con, query)
        except (sandbox.Refused, duckdb.Error) as error:
            print(f"espfleet sql: {sandbox.error_line(error)}", file=sys.stderr)
            return 1
    if table is not None:
        print_table(table, fmt)
    return 0


def _shell(warehouse: Path, fmt: str, shell: str) -> int:
    from . import sandbox

    if shell == "duckdb":
        if not sandbox.duckdb_cli():
            raise WarehouseError("no DuckDB CLI on PATH: pip install duckdb-cli")
        with Warehouse(warehouse).connect():
            pass  # the one-line errors of a missing or older database, first
        print(
            "espfleet sql: the DuckDB CLI is read-only but has no statement check: "
            "COPY ... TO can still write into the warehouse's data folders",
            file=sys.stderr,
        )
        return sandbox.run_cli(warehouse)
    with sandbox.sandboxed(warehouse) as con:
        return sandbox.repl(con, lambda table: print_table(table, fmt))
