"""The `espfleet` command line: each command calls one library function.

Every command takes ``--warehouse DIR`` (default ``./warehouse``).
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click

from . import api
from .settings import DEFAULT_WAREHOUSE, SAMPLE_SOURCE, RunSettings

WAREHOUSE = click.option(
    "--warehouse",
    type=click.Path(path_type=Path, file_okay=False),
    default=DEFAULT_WAREHOUSE,
    show_default=True,
    help="Warehouse folder.",
)


@click.group()
@click.version_option(package_name="espfleet")
def main() -> None:
    """Fleet-scale diagnosis of Autopilot + ConfigMgr co-management ESP failures."""


def _ingest(settings: RunSettings) -> None:
    totals = api.ingest(settings)
    api.print_run(totals, settings)


@main.command()
@WAREHOUSE
@click.option("--source", default=str(SAMPLE_SOURCE), show_default=True)
def run(warehouse: Path, source: str) -> None:
    """The nightly job on the committed sample (what `make run` calls).

    Example: espfleet run --warehouse warehouse
    """
    _ingest(RunSettings(source=source, warehouse=warehouse))


@main.command()
@WAREHOUSE
@click.argument("source")
@click.option("--batch-size", default=25, show_default=True)
@click.option("--reprocess", is_flag=True, help="Ingest bundles already seen.")
@click.option("--dry-run", is_flag=True, help="List what would be ingested.")
@click.option("--task-runner", type=click.Choice(["thread", "dask"]), default="thread")
@click.option("--workers", default=2, show_default=True)
def ingest(
    warehouse: Path,
    source: str,
    batch_size: int,
    reprocess: bool,
    dry_run: bool,
    task_runner: str,
    workers: int,
) -> None:
    """The nightly flow on any share: new bundles -> Parquet -> DuckDB -> reports.

    Example: espfleet ingest smb://user:pw@fileserver/autopilot-logs
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
        )
    )


@main.command()
@WAREHOUSE
@click.argument("source")
@click.option(
    "--cron", default="0 2 * * *", show_default=True, help="When to run (UTC)."
)
@click.option("--batch-size", default=25, show_default=True)
def serve(warehouse: Path, source: str, cron: str, batch_size: int) -> None:
    """Run the nightly flow on SOURCE on a cron schedule, as a Prefect deployment.

    Needs a Prefect API (`prefect server start`, then PREFECT_API_URL); blocks
    until interrupted. For a work pool and workers, see prefect.yaml.

    Example: espfleet serve //fileserver/autopilot-logs --cron "30 1 * * *"
    """
    api.serve(
        RunSettings(source=source, warehouse=warehouse, batch_size=batch_size), cron
    )


@main.command()
@click.option("--devices", default=40, show_default=True)
@click.option("--seed", default=7, show_default=True)
@click.option("--out", type=click.Path(path_type=Path), required=True)
def simulate(devices: int, seed: int, out: Path) -> None:
    """Write a realistic share of bundles with ground_truth.csv.

    Example: espfleet simulate --devices 1000 --seed 1 --out /tmp/share
    """
    truth = api.simulate(devices=devices, seed=seed, out=out)
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

    Example: espfleet explain -2147023436
    """
    click.echo(api.explain(code))


@main.command()
@WAREHOUSE
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table"
)
def report(warehouse: Path, since, fmt: str) -> None:
    """Fleet failure rates by day, ESP phase and error code.

    Example: espfleet report --since 2026-11-01 --format csv
    """
    since_day: date | None = since.date() if since else None
    api.print_report(warehouse, since_day, fmt)


@main.command()
@WAREHOUSE
@click.argument("who")
@click.option(
    "--wide",
    is_flag=True,
    help="Every timeline column in full (raw times, corrections, eras).",
)
def device(warehouse: Path, who: str, wide: bool) -> None:
    """One device's attempts, diagnosis and merged UTC timeline.

    Times are UTC, corrected when the device clock was off (marked *); the
    compact view fits 100 columns.

    Example: espfleet device 5CG1234XYZ --wide
    """
    if not api.print_device(warehouse, who, wide):
        sys.exit(1)


@main.command()
@WAREHOUSE
@click.argument("query", required=False)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table"
)
def sql(warehouse: Path, query: str | None, fmt: str) -> None:
    """Run QUERY on the warehouse, or print how to open a DuckDB shell on it.

    Example: espfleet sql "select * from device_outcomes limit 5" --format csv
    """
    api.run_sql(warehouse, query, fmt)


if __name__ == "__main__":
    main()
