"""The nightly ingest flow: new bundles on a share -> Parquet -> DuckDB -> reports.

Thin on purpose: each task wraps one function of `espfleet.pipeline`, which
holds the logic and is tested without Prefect. Tasks work on batches of
bundles, because a task costs ~14 ms of orchestration (docs/architecture.md).

A run holds the warehouse's lock throughout (`espfleet.runs`), sweeps what a
killed run left, and ends, on a user error (share missing or unreachable,
credentials refused, disk full, warehouse in use or not ours), in a Failed
state carrying that error: no task fails with a traceback for it, and the CLI
prints its one line. `run()` (the CLI's entry) also starts the watchdog that
ends the run's helper processes however the run ends (`espfleet.supervise`).
"""

import dataclasses
import os
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from espfleet.settings import RunSettings, configure_prefect

configure_prefect()

from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.artifacts import (  # noqa: E402
    create_link_artifact,
    create_markdown_artifact,
    create_table_artifact,
)
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.futures import PrefectFuture, as_completed  # noqa: E402
from prefect.states import Failed  # noqa: E402
from prefect.task_runners import (  # noqa: E402
    ProcessPoolTaskRunner,
    TaskRunner,
    ThreadPoolTaskRunner,
)
from prefect.utilities.annotations import quote  # noqa: E402

from espfleet import (  # noqa: E402
    pipeline,
    run_summary,
    runs,
    share,
    storage,
    supervise,
    temporary_api,
)
from espfleet.errors import DiskFull, UserError  # noqa: E402
from espfleet.progress import progress_bar  # noqa: E402
from espfleet.temporary_api import TemporaryApi  # noqa: E402
from espfleet.warehouse import Warehouse  # noqa: E402


# Every task reads or writes live state (the share, the warehouse): a cached result
# would skip real work, and hashing a batch's inputs for a cache key costs time.
@dataclasses.dataclass(frozen=True)
class Refusal:
    """A user error a task met, returned (not raised: no traceback in the logs)."""

    error: UserError


# share.open_share retries the connection itself and says how long it tried.
@task(cache_policy=NO_CACHE)
def discover_bundles(
    source: str, warehouse: str | Path, reprocess: bool
) -> pipeline.Discovery | Refusal:
    try:
        return pipeline.find_new_bundles(source, warehouse, reprocess)
    except UserError as error:
        return Refusal(error)


@task(retries=2, retry_delay_seconds=[5, 30], cache_policy=NO_CACHE)
def ingest_batch(
    source: str,
    refs: list,
    warehouse: str | Path,
    run_id: str,
    batch: str,
    reprocess: bool,
    known_ids: frozenset[str],
) -> pipeline.BatchSummary | Refusal:
    try:
        return pipeline.ingest_batch(
            source, refs, warehouse, run_id, batch, reprocess, known_ids
        )
    except UserError as error:  # a full disk: retrying cannot help
        return Refusal(error)


@task(cache_policy=NO_CACHE)
def refresh_warehouse(warehouse: str | Path, run_id: str) -> storage.Location | Refusal:
    try:
        return pipeline.refresh_warehouse(warehouse, run_id)
    except UserError as error:  # a full disk
        return Refusal(error)


@task(cache_policy=NO_CACHE)
def check_data_quality(warehouse: str | Path, run_id: str) -> list:
    return pipeline.quality_gate(warehouse, run_id)


@task(cache_policy=NO_CACHE)
def failure_rates(warehouse: str | Path) -> list[dict]:
    return pipeline.failure_rates(warehouse).to_pylist()


@task(cache_policy=NO_CACHE)
def rate_flags(warehouse: str | Path, delta_threshold: float, min_devices: int) -> dict:
    return pipeline.rate_flags(warehouse, delta_threshold, min_devices)


@task(cache_policy=NO_CACHE)
def export_dashboard(
    warehouse: str | Path, delta_threshold: float, min_devices: int, mask: bool
) -> Path:
    return pipeline.export_dashboard(warehouse, delta_threshold, min_devices, mask)


DASK_ADDRESS_ENV = "ESPFLEET_DASK_ADDRESS"


@flow(name="espfleet-nightly")
def nightly(
    source: str = "data/sample",
    warehouse: str | Path = "warehouse",
    batch_size: int = 25,
    reprocess: bool = False,
    dry_run: bool = False,
    lock_wait_s: float = runs.DEFAULT_WAIT_S,
    delta_threshold: float = 0.05,
    min_devices: int = 3,
    mask_dashboard: bool = False,
    task_runner: str | None = None,
    max_workers: int = 2,
    dask_address: str | None = None,
):
    """Ingest what is new on `source` into `warehouse` and refresh the reports.

    `source` never carries a password here (README "Share credentials").
    Rates that rose by `delta_threshold` or more night over night or week over
    week on at least `min_devices` failing devices are flagged in the
    ``rate-flags`` artifact and the run's summary. The last step writes the
    dashboard (``<warehouse>/dashboard/index.html``; masked with
    `mask_dashboard`), linked in the ``dashboard`` artifact. The batches run
    on `task_runner` (``thread``, ``process`` or ``dask``, `max_workers` of
    them, or the cluster at `dask_address`; None: a deployment's default,
    `batch_runner`). Returns the run's totals, or a Failed state whose data is
    the `UserError`.
    """
    try:
        if dry_run:
            return _dry_run(source, warehouse, reprocess)
        with runs.run_lock(warehouse, lock_wait_s):
            return _ingest(
                source,
                warehouse,
                batch_size,
                reprocess,
                delta_threshold,
                min_devices,
                mask_dashboard,
                batch_runner(task_runner, max_workers, dask_address),
                max_workers,
            )
    except UserError as error:
        return Failed(message=share.redact(str(error)), data=error)


def _found(result: pipeline.Discovery | Refusal) -> pipeline.Discovery:
    if isinstance(result, Refusal):
        raise result.error
    return result


def _dry_run(source: str, warehouse: str | Path, reprocess: bool) -> dict:
    found = _found(discover_bundles(source, warehouse, reprocess))
    return {"new": [r.uri for r in found.new], "seen": found.seen}


def _ingest(
    source: str,
    warehouse: str | Path,
    batch_size: int,
    reprocess: bool,
    delta_threshold: float,
    min_devices: int,
    mask_dashboard: bool,
    workers: TaskRunner,
    max_workers: int,
) -> dict:
    wh = Warehouse(warehouse)
    runs.claim(wh)
    swept = runs.sweep(wh)
    run_id = runs.next_run_id(wh)
    runs.note_run_id(warehouse, run_id)
    if swept:
        get_run_logger().info(f"removed {len(swept)} files a killed run left")
    found = _found(discover_bundles(source, warehouse, reprocess))
    batches = pipeline.batches(found.new, batch_size, max_workers)
    # quote(): Prefect would otherwise walk the whole id set looking for futures.
    known_ids = quote(found.known_ids)
    summaries, refusals = [], []
    # The workers live for the batches alone: the refresh, checks and
    # dashboard run in this process, and idle workers held ~500 MiB through them.
    with workers, progress_bar(len(found.new)) as advance:
        futures: list[PrefectFuture] = [
            workers.submit(
                ingest_batch,
                parameters={
                    "source": source,
                    "refs": refs,
                    "warehouse": warehouse,
                    "run_id": run_id,
                    "batch": f"b{n:05d}",
                    "reprocess": reprocess,
                    "known_ids": known_ids,
                },
            )
            for n, refs in enumerate(batches)
        ]
        for future in as_completed(futures):
            result = future.result()
            if isinstance(result, Refusal):
                refusals.append(result.error)
                continue
            summaries.append(result)
            advance(summaries[-1].bundles)
    if refusals:
        raise _disk_full(refusals[0], summaries, len(batches), found, source, warehouse)
    runs.check_lock(warehouse)  # a lease on object storage may have been lost
    if isinstance(refreshed := refresh_warehouse(warehouse, run_id), Refusal):
        raise refreshed.error
    checks = check_data_quality(warehouse, run_id)
    failed_checks = [c for c in checks if not c.ok]
    get_run_logger().info(pipeline.quality_summary(checks))
    rates = failure_rates(warehouse)
    totals = pipeline.add_up(summaries, seen=found.seen, run_id=run_id)
    totals["failed_checks"] = [f"{c.view}: {c.check}" for c in failed_checks]
    totals |= rate_flags(warehouse, delta_threshold, min_devices)
    create_markdown_artifact(
        key="espfleet-run",
        markdown=run_summary.run_markdown(totals),
        description=run_id,
    )
    create_table_artifact(key="failure-rates", table=_jsonable(rates))
    create_table_artifact(
        key="rate-flags",
        table=_jsonable(totals["rate_flags"]),
        description=f"{run_id}: {totals['flag_rule']}",
    )
    if storage.is_remote(storage.location(warehouse)):
        # The dashboard is a local file (and its mask key a local secret).
        get_run_logger().info(
            "dashboard: not written for a warehouse on object storage"
        )
        return totals | {"failure_rates": rates}
    index = export_dashboard(warehouse, delta_threshold, min_devices, mask_dashboard)
    create_link_artifact(
        key="dashboard",
        link=index.resolve().as_uri(),
        link_text="ops-review dashboard",
        description=f"{run_id}: {index}",
    )
    return totals | {"failure_rates": rates, "dashboard": index}


def _disk_full(
    error: UserError,
    summaries: list[pipeline.BatchSummary],
    n_batches: int,
    found: pipeline.Discovery,
    source: str,
    warehouse: str | Path,
) -> UserError:
    """The one line for a run some of whose batches could not be written."""
    if not isinstance(error, DiskFull):
        return error
    kept = sum(s.ingested + s.quarantined + s.duplicates for s in summaries)
    return DiskFull(
        f"{error}: kept {len(summaries)} of {n_batches} batches ({kept} of"
        f" {len(found.new)} new bundles are in the warehouse); free space and"
        f" re-run `espfleet ingest {source} --warehouse {warehouse}` to ingest"
        f" the other {len(found.new) - kept}"
    )


def _jsonable(rows: list[dict]) -> list[dict]:
    return [
        {k: (str(v) if v is not None else None) for k, v in r.items()} for r in rows
    ]


def _without_password(settings: RunSettings) -> RunSettings:
    """`settings` whose source URL holds no credentials; they move to this
    process's environment (inherited by its workers, never recorded)."""
    clean, user, password = share.split_credentials(settings.source)
    if password is not None:
        os.environ[share.PASSWORD_ENV] = password
    if user:
        os.environ[share.USER_ENV] = user
    return dataclasses.replace(settings, source=clean)


def run(settings: RunSettings, prefect_api: TemporaryApi | None = None) -> dict:
    """Run the flow with `settings` (the CLI's entry point).

    With no Prefect API configured, its clients and worker processes use the
    temporary API server of `prefect_api`, started early by the CLI, or here
    when None (`espfleet.temporary_api`).

    Raises:
        UserError: the run ended on a user error (one line for the CLI).
    """
    settings = _without_password(settings)
    supervise.watch()
    if settings.dry_run:
        with _api(settings, prefect_api):
            return _run_flow(settings)
    runs.refuse_foreign(Warehouse(settings.warehouse))  # before the lock file
    with runs.run_lock(settings.warehouse, settings.lock_wait_s):
        with _api(settings, prefect_api):
            return _run_flow(settings)


def _api(
    settings: RunSettings, prefect_api: TemporaryApi | None
) -> AbstractContextManager:
    if not temporary_api.serves(settings):
        return nullcontext()
    return temporary_api.in_use(prefect_api)


def batch_runner(
    task_runner: str | None, max_workers: int = 2, dask_address: str | None = None
) -> TaskRunner:
    """The task runner a night's batches run on, entered for them alone.

    ``thread`` (the parsers hold the GIL: for small nights), ``process``
    (worker processes) or ``dask`` (a local cluster of `max_workers`
    processes, or the running scheduler at `dask_address`: workers on other
    machines). None, a deployment's run: the Dask scheduler its work pool
    names in ESPFLEET_DASK_ADDRESS (docs/scale.md), else threads. ``auto`` is
    resolved before the engine starts (`espfleet.api.ingest`, from the
    listing).
    """
    if task_runner is None:
        dask_address = os.environ.get(DASK_ADDRESS_ENV)
        task_runner = "dask" if dask_address else "thread"
    if task_runner == "dask":
        from prefect_dask import DaskTaskRunner

        if dask_address:  # a running cluster (workers on other machines)
            return DaskTaskRunner(address=dask_address)
        return DaskTaskRunner(
            cluster_kwargs={"n_workers": max_workers, "processes": True}
        )
    if task_runner == "process":
        return ProcessPoolTaskRunner(max_workers=max_workers)
    return ThreadPoolTaskRunner(max_workers=max_workers)


def _run_flow(settings: RunSettings) -> dict:
    state = nightly(
        source=settings.source,
        warehouse=str(settings.warehouse),
        batch_size=settings.batch_size,
        reprocess=settings.reprocess,
        dry_run=settings.dry_run,
        lock_wait_s=settings.lock_wait_s,
        delta_threshold=settings.delta_threshold,
        min_devices=settings.min_devices,
        mask_dashboard=settings.mask_dashboard,
        task_runner=settings.task_runner,
        max_workers=settings.max_workers,
        dask_address=settings.dask_address,
        return_state=True,
    )
    result = state.result(raise_on_failure=False)  # type: ignore[attr-defined]
    if isinstance(result, BaseException):
        raise result
    return result


def _parameters(settings: RunSettings) -> dict:
    return {
        "source": _without_password(settings).source,
        "warehouse": storage.absolute(settings.warehouse),
        "batch_size": settings.batch_size,
        "reprocess": False,
        "dry_run": False,
        "delta_threshold": settings.delta_threshold,
        "min_devices": settings.min_devices,
        "mask_dashboard": settings.mask_dashboard,
    }


def deployment(settings: RunSettings, cron: str, name: str = "nightly"):
    """The nightly deployment: `nightly` on a cron schedule with these settings."""
    # One run at a time: two overlapping runs would both ingest the same bundles.
    return nightly.to_deployment(
        name=name,
        cron=cron,
        parameters=_parameters(settings),
        tags=["espfleet"],
        concurrency_limit=1,
    )


def serve(settings: RunSettings, cron: str, name: str = "nightly") -> None:
    """Register the deployment and run it on schedule until interrupted."""
    nightly.serve(
        name=name,
        cron=cron,
        parameters=_parameters(settings),
        tags=["espfleet"],
        limit=1,
    )


if __name__ == "__main__":
    nightly()
