"""A share that fails mid-read: Prefect retries the batch and nothing is lost or doubled."""

from __future__ import annotations

import fsspec
from fsspec.implementations.local import LocalFileSystem

from espfleet.warehouse import Warehouse
from tests.fixtures import RATES_SQL, bundles, expected_rates, ground_truth


class FlakyFileSystem(LocalFileSystem):
    """A local filesystem whose every 7th read fails, like a share that drops out."""

    protocol = "flaky"
    reads = 0

    def cat_file(self, path, *args, **kwargs):
        type(self).reads += 1
        if type(self).reads % 7 == 0:
            raise ConnectionResetError(f"share dropped while reading {path}")
        return super().cat_file(path, *args, **kwargs)

    @classmethod
    def _strip_protocol(cls, path):
        return super()._strip_protocol(str(path).removeprefix("flaky://"))


def test_batches_are_retried_and_answers_stay_exact(tmp_path, prefect_engine):
    from prefect.task_runners import ThreadPoolTaskRunner

    from espfleet.flows.nightly import nightly
    from espfleet.simulator.fleet import simulate

    fsspec.register_implementation("flaky", FlakyFileSystem, clobber=True)
    truth = simulate(devices=8, seed=7, out=tmp_path / "share")
    # Threads: the flaky filesystem is registered in this process only (the
    # default runner's worker processes start from a fresh interpreter).
    in_threads = nightly.with_options(task_runner=ThreadPoolTaskRunner(max_workers=2))
    result = in_threads(
        source=f"flaky://{tmp_path / 'share'}", warehouse=tmp_path / "wh", batch_size=3
    )
    rows = bundles(ground_truth(truth))
    assert FlakyFileSystem.reads > len(rows)  # some reads failed and were redone
    assert result["ingested"] == sum(r["expected_status"] == "ingested" for r in rows)
    with Warehouse(tmp_path / "wh").connect() as con:
        assert con.execute(RATES_SQL).fetchall() == expected_rates(ground_truth(truth))
        dupes = con.execute(
            "select count(*) - count(distinct bundle_id) from stg_ingest__bundles"
        ).fetchone()
    assert dupes == (0,)


class DeadFileFileSystem(LocalFileSystem):
    """A local filesystem on which one file can never be read."""

    protocol = "deadfile"

    def cat_file(self, path, *args, **kwargs):
        if str(path).endswith("smsts.log"):
            raise TimeoutError(f"timed out reading {path}")
        return super().cat_file(path, *args, **kwargs)

    @classmethod
    def _strip_protocol(cls, path):
        return super()._strip_protocol(str(path).removeprefix("deadfile://"))


def test_unreadable_bundle_is_deferred_then_ingested_next_run(tmp_path, monkeypatch):
    from espfleet import share
    from tests.fixtures import ingest_without_prefect

    monkeypatch.setattr(share, "READ_RETRY_DELAYS_S", (0.0,))
    fsspec.register_implementation("deadfile", DeadFileFileSystem, clobber=True)
    truth = ground_truth(
        __import__("espfleet.simulator.fleet", fromlist=["x"]).simulate(
            devices=6, seed=3, out=tmp_path / "share"
        )
    )
    first = ingest_without_prefect(f"deadfile://{tmp_path / 'share'}", tmp_path / "wh")
    assert first["deferred"] and all(
        "timed out" in reason for _, reason in first["deferred"]
    )
    second = ingest_without_prefect(str(tmp_path / "share"), tmp_path / "wh")
    assert second["ingested"] == len(first["deferred"])
    with Warehouse(tmp_path / "wh").connect() as con:
        assert con.execute(RATES_SQL).fetchall() == expected_rates(truth)
