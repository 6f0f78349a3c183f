"""The `espfleet` command line: each command calls one library function.

Every command takes ``--warehouse DIR`` (default ``./warehouse``). A user error
(`espfleet.errors.UserError`: a missing share, a full disk, a busy warehouse...)
prints one line, ``espfleet: <what happened and what to do>``, on stderr and
exits non-zero (75 when the warehouse is in use, so a scheduler can retry);
anything else is a defect and keeps its traceback.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Any

import click

from . import api, runs
from .errors import UserError, WarehouseError
from .printing import visible
from .reports import UnknownReport
from .settings import DEFAULT_WAREHOUSE, SAMPLE_SOURCE, RunSettings
from .share import redact
from .storage import Location, location
from .warehouse import Warehouse


class _Where(click.ParamType):
    """A warehouse folder, or a prefix on object storage (s3://bucket/prefix)."""

    name = "DIR|URL"

    def convert(self, value: Any, param: Any, ctx: Any) -> Location:
        try:
            return location(value)
        except UserError as error:
            self.fail(redact(str(error)), param, ctx)


WAREHOUSE = click.option(
    "--warehouse",
    type=_Where(),
    default=str(DEFAULT_WAREHOUSE),
    show_default=True,
    help="Warehouse folder, or s3://bucket/prefix (credentials from AWS_*).",
)


LOCK_WAIT = click.option(
    "--lock-wait",
    type=float,
    default=60.0,
    show_default=True,
    help="Seconds to wait for another run on the warehouse to finish.",
)
THRESHOLD = click.option(
    "--threshold",
    "delta_threshold",
    type=click.FloatRange(0, 1),
    default=0.05,
    show_default=True,
    help="Flag a failure rate that rises by at least this much (0.05 = 5 points).",
)
MIN_DEVICES = click.option(
    "--min-devices",
    type=click.IntRange(1),
    default=3,
    show_default=True,
    help="...on at least this many failing devices; smaller cohorts are marked.",
)


MASK = click.option(
    "--mask",
    is_flag=True,
    help="Show device names, serials, users and tenants as stable pseudonyms "
    "(a keyed hash; the key stays in the warehouse).",
)


MASK_DASHBOARD = click.option(
    "--mask-dashboard",
    is_flag=True,
    help="Write the run's dashboard with pseudonyms (see espfleet dashboard --mask).",
)


class _Commands(click.Group):
    """User errors as one line and a non-zero exit, no traceback: 2 for a
    warehouse that cannot be opened and an unknown report, 75 for a warehouse
    in use, else 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UnknownReport as error:
            click.echo(f"espfleet: {visible(str(error))}", err=True)
            ctx.exit(2)
        except UserError as error:  # database.WarehouseError among them
            click.echo(f"espfleet: {visible(redact(str(error)))}", err=True)
            ctx.exit(error.exit_code)


@click.group(cls=_Commands)
@click.version_option(package_name="espfleet")
def main() -> None:
    """Fleet-scale diagnosis of Autopilot + ConfigMgr co-management ESP failures."""


def _ingest(settings: RunSettings) -> None:
    totals = api.ingest(settings)
    api.print_run(totals, settings)


def _readable(warehouse: Location) -> None:
    """Refuse, in one line, a warehouse that is missing, not ours or not built."""
    runs.require(Warehouse(warehouse))


@main.command()
@WAREHOUSE
@click.option("--source", default=str(SAMPLE_SOURCE), show_default=True)
@LOCK_WAIT
@THRESHOLD
@MIN_DEVICES
@MASK_DASHBOARD
def run(
    warehouse: Location,
    source: str,
    lock_wait: float,
    delta_threshold: float,
    min_devices: int,
    mask_dashboard: bool,
) -> None:
    """The nightly job on the committed sample (what `make run` calls).

    Example: espfleet run --warehouse warehouse
    """
    _ingest(
        RunSettings(
            source=source,
            warehouse=warehouse,
            lock_wait_s=lock_wait,
            delta_threshold=delta_threshold,
            min_devices=min_devices,
            mask_dashboard=mask_dashboard,
        )
    )


@main.command()
@WAREHOUSE
@click.argument("source")
@click.option("--batch-size", default=25, show_default=True)
@click.option("--reprocess", is_flag=True, help="Ingest bundles already seen.")
@click.option("--dry-run", is_flag=True, help="List what would be ingested.")
@click.option(
    "--task-runner",
    type=click.Choice(["auto", "thread", "process", "dask"]),
    default="auto",
    show_default=True,
    help="Where the batches run: threads; worker processes on this machine (the"
    " parsers hold the GIL: on a night of a thousand real-size bundles, 1.5x"
    " faster on 2 cores, docs/scale.md); Dask; or auto: processes when the new"
    " bundles weigh 256 MB or more on the share, else threads.",
)
@click.option("--workers", default=2, show_default=True)
@click.option(
    "--dask-address",
    default=None,
    envvar="ESPFLEET_DASK_ADDRESS",
    help="A running Dask scheduler (tcp://host:8786) whose workers, on any "
    "machine, run the batches (with --task-runner dask).",
)
@LOCK_WAIT
@THRESHOLD
@MIN_DEVICES
@MASK_DASHBOARD
def ingest(
    warehouse: Location,
    source: str,
    batch_size: int,
    reprocess: bool,
    dry_run: bool,
    task_runner: str,
    workers: int,
    dask_address: str | None,
    lock_wait: float,
    delta_threshold: float,
    min_devices: int,
    mask_dashboard: bool,
) -> None:
    """The nightly flow on any share: new bundles -> Parquet -> DuckDB -> reports.

    SOURCE is a folder or an fsspec URL (smb://host/share, s3://bucket/prefix);
    so is --warehouse (s3://bucket/prefix, shared by Dask workers on several
    machines with --task-runner dask --dask-address tcp://scheduler:8786).
    The share's password comes from ESPFLEET_SHARE_PASSWORD (user:
    ESPFLEET_SHARE_USER) or the Prefect Secret block named by
    ESPFLEET_SHARE_SECRET; smb://user:pw@host/share works for a quick try and
    is never stored.

    Example: espfleet ingest smb://svc-espfleet@fileserver/autopilot-logs
    """
    _ingest(
        RunSettings(
            source=source,
            warehouse=warehouse,
            batch_size=batch_size,
            reprocess=reprocess,
            dry_run=dry_run,
            task_runner=task_runner,
            max_workers=workers,
            dask_address=dask_address,
            lock_wait_s=lock_wait,
            delta_threshold=delta_threshold,
            min_devices=min_devices,
            mask_dashboard=mask_dashboard,
        )
    )


@main.command()
@WAREHOUSE
@click.argument("source")
@click.option(
    "--cron", default="0 2 * * *", show_default=True, help="When to run (UTC)."
)
@click.option("--batch-size", default=25, show_default=True)
@click.option(
    "--server-port",
    default=4200,
    show_default=True,
    help="Port of the local Prefect server started when PREFECT_API_URL is unset.",
)
def serve(
    warehouse: Location, source: str, cron: str, batch_size: int, server_port: int
) -> None:
    """Run the nightly flow on SOURCE on a cron schedule, as a Prefect deployment.

    The runs are scheduled by the Prefect API in PREFECT_API_URL, or, when it
    is unset, by a local Prefect server this command starts on 127.0.0.1
    (database under PREFECT_HOME), supervises and stops. Blocks until
    interrupted (Ctrl-C, SIGTERM). For a work pool and workers, see prefect.yaml.

    Example: espfleet serve smb://fileserver/autopilot-logs --cron "30 1 * * *"
    """
    api.serve(
        RunSettings(source=source, warehouse=warehouse, batch_size=batch_size),
        cron,
        server_port,
    )


@main.command()
@click.option("--devices", default=40, show_default=True)
@click.option("--seed", default=7, show_default=True)
@click.option("--out", type=click.Path(path_type=Path), required=True)
@click.option(
    "--size",
    type=click.Choice(["small", "real"]),
    default="small",
    show_default=True,
    help="small: ~190 KB CABs (tests, the sample); real: a real collection's "
    "member set and sizes (~15-45 MB unpacked, ~1-3 MB packed).",
)
def simulate(devices: int, seed: int, out: Path, size: str) -> None:
    """Write a realistic share of bundles with ground_truth.csv.

    Example: espfleet simulate --devices 1000 --seed 1 --out /tmp/share --size real
    """
    truth = api.simulate(devices=devices, seed=seed, out=out, size=size)
    click.echo(f"wrote {devices} devices to {out}; ground truth: {truth}")


@main.command()
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option(
    "--table", default=None, help="Which table to print (default: the main one)."
)
def parse(file: Path, table: str | None) -> None:
    """One file's records as JSON lines (any supported format, detected).

    Example: espfleet parse ccmsetup.log --table ccmsetup_runs
    """
    for line in api.parse_file_jsonl(file, table):
        click.echo(line)


# Negative decimals (-2147023436) must reach CODE, not be taken for options.
@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("code")
def explain(code: str) -> None:
    """Any spelling of an error code -> normalised code, symbol, meaning, source.

    Exits 1 for a code that is not in the catalogue (its structure is still
    shown), and with one line for something that is not an error code.

    Example: espfleet explain -2147023436
    """
    text, known = api.explain_code(code)
    click.echo(text)
    if not known:
        sys.exit(1)


@main.command()
@WAREHOUSE
@click.argument("name", required=False)
@click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Only rows from this UTC day on (reports with a day or week).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table"
)
@THRESHOLD
@MIN_DEVICES
@MASK
def report(
    warehouse: Location,
    name: str | None,
    since,
    fmt: str,
    delta_threshold: float,
    min_devices: int,
    mask: bool,
) -> None:
    """Print the fleet report NAME; with no NAME, list the reports.

    Reports: failure rates (per device-day, per attempt, weekly), failure
    causes, top error codes, cohorts, night/week deltas with flags, newly
    failing devices, task-sequence steps, durations against the ESP timeout,
    ESP blockers, fleet status. Each is a view of the same name.

    Example: espfleet report failure_rates --since 2026-11-01 --format csv
    """
    since_day: date | None = since.date() if since else None
    settings = RunSettings(
        warehouse=warehouse, delta_threshold=delta_threshold, min_devices=min_devices
    )
    _readable(warehouse)
    api.print_report(warehouse, name, since_day, fmt, settings, mask)


@main.command()
@WAREHOUSE
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Output folder  [default: WAREHOUSE/dashboard]",
)
@click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="First UTC day of the daily charts and the devices to chase "
    "(default: the 30 days up to the latest night).",
)
@THRESHOLD
@MIN_DEVICES
@MASK
def dashboard(
    warehouse: Path,
    out: Path | None,
    since,
    delta_threshold: float,
    min_devices: int,
    mask: bool,
) -> None:
    """Export the ops-review dashboard: index.html, a PNG per chart, summary.png.

    One self-contained HTML file (no network, no server needed: open it from
    a share or a mail), an image per chart and a one-page summary for a slide.
    The nightly run writes it too.

    Example: espfleet dashboard --warehouse warehouse --mask --out /srv/share/ops
    """
    settings = RunSettings(
        warehouse=warehouse, delta_threshold=delta_threshold, min_devices=min_devices
    )
    _readable(warehouse)
    result = api.dashboard(
        warehouse, out, since.date() if since else None, mask, settings
    )
    click.echo(
        f"dashboard: {result.index} ({result.size_bytes / 1e6:.1f} MB, "
        f"{len(result.images)} images, {result.seconds:.1f} s)"
        + (" - no data yet" if result.empty else "")
    )


@main.command()
@WAREHOUSE
@LOCK_WAIT
def refresh(warehouse: Location, lock_wait: float) -> None:
    """Rebuild the warehouse's DuckDB file from its Parquet tables.

    Run it after moving or copying a warehouse folder (the file records the
    folder's absolute path for the DuckDB CLI) or when espfleet says the file
    was built by an older version. Nothing is re-ingested; it waits for a run
    that holds the warehouse.

    Example: espfleet refresh --warehouse /data/espfleet-copy
    """
    _readable(warehouse)
    with runs.run_lock(warehouse, lock_wait):
        click.echo(f"rebuilt {api.refresh(warehouse)}")


@main.command()
@WAREHOUSE
@click.option(
    "--run",
    "run_id",
    default=None,
    help="Check only that run's bundles in the per-bundle views, as the nightly "
    "run does after ingesting (default: every row).",
)
def check(warehouse: Location, run_id: str | None) -> None:
    """Run every view's declared tests on the warehouse; exit 1 if any fails.

    The tests are the ones each view's .yml declares (docs/warehouse.md). The
    nightly run checks the rows of the bundles it ingested; this checks every
    row: run it after upgrading espfleet or on a warehouse copied from
    elsewhere. Prints one line, plus one per failed test.

    Example: espfleet check --warehouse /data/espfleet
    """
    from .pipeline import quality_gate, quality_summary

    _readable(warehouse)
    results = quality_gate(warehouse, run_id)
    click.echo(quality_summary(results))
    sys.exit(1 if any(not r.ok for r in results) else 0)


@main.command()
@WAREHOUSE
@click.argument("who")
@click.option(
    "--wide",
    is_flag=True,
    help="Every timeline column in full (raw times, corrections, eras).",
)
def device(warehouse: Location, who: str, wide: bool) -> None:
    """One device's attempts, diagnosis and merged UTC timeline.

    Times are UTC, corrected when the device clock was off (marked *); the
    compact view fits 100 columns.

    Example: espfleet device 5CG1234XYZ --wide
    """
    _readable(warehouse)
    if not api.print_device(warehouse, who, wide):
        sys.exit(1)


@main.command()
@WAREHOUSE
@click.argument("query", required=False)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table"
)
@click.option(
    "--shell",
    type=click.Choice(["builtin", "duckdb"]),
    default="builtin",
    show_default=True,
    help="With no QUERY: the built-in shell (every guard), or the DuckDB CLI "
    "(read-only, confined; it can still COPY into the warehouse's data folders).",
)
def sql(warehouse: Location, query: str | None, fmt: str, shell: str) -> None:
    """Run read-only QUERY on the warehouse, or open a read-only SQL shell.

    Only SELECT (SHOW, DESCRIBE, SUMMARIZE...), EXPLAIN and SET VARIABLE run;
    files outside the warehouse cannot be read. A refused statement or a SQL
    error prints one line and exits 1.

    Example: espfleet sql "select * from device_outcomes limit 5" --format csv
    """
    if not isinstance(warehouse, Path):
        raise WarehouseError(
            f"espfleet sql reads a warehouse folder; for {warehouse} use"
            " `espfleet report` and `espfleet device`, or copy the folder locally"
        )
    _readable(warehouse)
    sys.exit(api.run_sql(warehouse, query, fmt, shell))


if __name__ == "__main__":
    main()
