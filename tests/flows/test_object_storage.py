"""Share and warehouse on object storage, Dask workers in separate processes
(issue #12 item 5): a real S3-compatible server (moto's server mode) on
127.0.0.1, a `dask scheduler` and two `dask worker` processes, the real CLI.

The Dask run (S3 share -> S3 warehouse) must store exactly the rows a
thread-runner run (same S3 share -> a local folder) stores; the views must
answer from the warehouse on S3; the secret key must appear nowhere.
"""

from __future__ import annotations

from pathlib import Path

from espfleet.simulator.fleet import simulate
from espfleet.storage import location
from espfleet.warehouse import Warehouse
from tests.fixtures import RATES_SQL, expected_rates, ground_truth
from tests.flows import cli_runs
from tests.flows.s3 import dask_cluster, moto_server


def _executed(address: str) -> list[int]:
    from distributed import Client

    with Client(address, timeout=30) as client:
        counts = client.run(lambda dask_worker: dask_worker.state.executed_count)
    return sorted(counts.values())


def _secret_in_files(root: Path, secret: bytes) -> list[str]:
    return [str(p) for p in root.rglob("*") if p.is_file() and secret in p.read_bytes()]


def test_dask_workers_ingest_from_s3_into_one_s3_warehouse(
    tmp_path, cli_home, monkeypatch
):
    logs = tmp_path / "logs"
    truth = simulate(devices=8, seed=21, out=tmp_path / "share")
    with moto_server(tmp_path / "moto") as s3:
        fs = s3.filesystem()
        fs.mkdir("fleet")
        fs.put(str(tmp_path / "share"), "fleet/share", recursive=True)
        source = "s3://fleet/share"

        thread = cli_runs.start(
            ["ingest", source, "--warehouse", str(tmp_path / "wh-thread")]
            + ["--batch-size", "2"],
            cli_home,
            logs,
            env=s3.env,
        )
        assert thread.wait() == 0, thread.stderr

        with dask_cluster(tmp_path / "dask", s3.env) as address:
            dask = cli_runs.start(
                ["ingest", source, "--warehouse", "s3://fleet/wh", "--batch-size", "2"]
                + ["--task-runner", "dask", "--dask-address", address],
                cli_home,
                logs,
                env=s3.env,
            )
            assert dask.wait() == 0, dask.stderr
            executed = _executed(address)
        assert "8 bundles ingested" in dask.stdout, dask.stdout
        assert len(executed) == 2 and min(executed) > 0  # both workers worked

        for name, value in s3.env.items():
            monkeypatch.setenv(name, value)
        remote = location("s3://fleet/wh")  # options from the AWS_* environment
        assert cli_runs.raw_tables(remote) == cli_runs.raw_tables(
            tmp_path / "wh-thread"
        )
        with Warehouse("s3://fleet/wh").connect() as con:  # DuckDB reads S3
            assert con.execute(RATES_SQL).fetchall() == expected_rates(
                ground_truth(truth)
            )
        assert not fs.exists("fleet/wh/.espfleet.lock")  # the lease was released

        again = cli_runs.start(
            ["ingest", source, "--warehouse", "s3://fleet/wh"], cli_home, logs, s3.env
        )
        assert again.wait() == 0, again.stderr
        assert "nothing new: 8 bundles already seen" in again.stdout

        secret = s3.secret.encode()
        stored = [p for p in fs.find("fleet/wh") if secret in fs.cat_file(p)]
        assert stored == []
        for run in (thread, dask, again):
            assert s3.secret not in run.stdout + run.stderr
        assert _secret_in_files(cli_home, secret) == []  # Prefect's database
        assert _secret_in_files(tmp_path / "wh-thread", secret) == []
