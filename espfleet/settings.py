"""Run settings shared by the CLI and the flows, and Prefect's environment.

Prefect must work on a fresh machine with no server: its temporary API server
needs about 27 s of migrations on the first run on 2 cores (the default 20 s
startup timeout fails), telemetry has no network to talk to, and its home goes
under the working directory unless the user chose one (measured on a 2-core
machine; docs/architecture.md "Prefect").
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .storage import Location

DEFAULT_WAREHOUSE = Path("warehouse")
SAMPLE_SOURCE = Path("data/sample")


@dataclass(frozen=True)
class RunSettings:
    """One nightly run.

    Attributes:
        source: share root: a local path or an fsspec URL (smb://, s3://...).
        warehouse: warehouse folder, or a prefix on object storage (s3://).
        batch_size: bundles per task (a task costs ~14 ms of orchestration).
        reprocess: ingest bundles again even if the manifest has them.
        dry_run: discover and report what would be ingested, write nothing.
        task_runner: ``auto`` (the default: `task_runner_for` chooses from
            what the night's new bundles weigh), ``thread``, ``process``
            (worker processes: the parsers run on every core, for large
            nights) or ``dask``.
        max_workers: worker threads (or processes, or Dask workers).
        dask_address: a running Dask scheduler (``tcp://host:8786``) to run the
            tasks on, instead of a local cluster of `max_workers` processes.
        lock_wait_s: how long to wait for another run to release the
            warehouse before giving up (espfleet.runs).
        delta_threshold: a failure rate that rises by at least this much (0.05:
            five percentage points) night over night or week over week is
            flagged...
        min_devices: ...when at least this many devices fail that way; cohorts
            smaller than this are marked small.
        mask_dashboard: the run's dashboard shows pseudonyms for device
            names, serials, users and tenants (espfleet.masking).
    """

    source: str = str(SAMPLE_SOURCE)
    warehouse: Location = DEFAULT_WAREHOUSE
    batch_size: int = 25
    reprocess: bool = False
    dry_run: bool = False
    task_runner: str = "auto"
    max_workers: int = 2
    lock_wait_s: float = 60.0
    dask_address: str | None = None
    delta_threshold: float = 0.05
    min_devices: int = 3
    mask_dashboard: bool = False


# What a night's new bundles must weigh on the share for worker processes to
# pay for themselves: about 75 real-size bundles, a minute or more of parsing
# on one core (docs/scale.md "The night, measured").
PROCESS_NIGHT_BYTES = 256 * 2**20


def task_runner_for(new_bytes: int) -> str:
    """The runner of ``--task-runner auto`` for a night of `new_bytes` to ingest.

    The parsers hold the GIL, so two threads parse no faster than one process
    (0.82x of it on 231 real-size bundles), and two worker processes ingest
    1.6-1.9x faster than one on 2 cores; but each run then starts two
    interpreters that import the whole stack (about 8 s before the first
    batch runs), which a small night does not win back.
    """
    return "process" if new_bytes >= PROCESS_NIGHT_BYTES else "thread"


def configure_prefect(workdir: Path | None = None) -> None:
    """Environment defaults for Prefect; values the user already set are kept."""
    home = (workdir or Path.cwd()) / ".prefect"
    os.environ.setdefault("PREFECT_HOME", str(home))
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
