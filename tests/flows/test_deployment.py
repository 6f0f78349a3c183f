"""The nightly deployment: schedule and parameters as configured."""

from __future__ import annotations

from pathlib import Path

import yaml

from espfleet.settings import RunSettings

ROOT = Path(__file__).resolve().parents[2]


def test_deployment_runs_nightly_flow_on_cron_with_settings(tmp_path):
    from espfleet.flows.nightly import deployment

    d = deployment(RunSettings(source="smb://h/s", warehouse=tmp_path), "30 1 * * *")
    assert d.flow_name == "espfleet-nightly"
    assert d.schedules[0].schedule.cron == "30 1 * * *"
    assert d.parameters["source"] == "smb://h/s"
    assert d.parameters["warehouse"] == str(tmp_path.resolve())
    assert d.concurrency_limit == 1


def test_prefect_yaml_points_at_the_flow():
    config = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    entry = config["deployments"][0]["entrypoint"]
    path, func = entry.split(":")
    assert (ROOT / path).is_file() and f"def {func}(" in (ROOT / path).read_text()


def test_a_deployment_run_uses_the_dask_cluster_its_environment_names():
    """A work pool's env ESPFLEET_DASK_ADDRESS=tcp://... spreads a deployment
    run's batches over that cluster (docs/scale.md); unset, two threads."""
    import os
    import subprocess
    import sys

    probe = (
        "from espfleet.flows.nightly import batch_runner; r = batch_runner(None); "
        "print(type(r).__name__, getattr(r, 'address', None), getattr(r, '_max_workers', ''))"
    )

    def runner(env: dict) -> str:
        clean = {k: v for k, v in os.environ.items() if k != "ESPFLEET_DASK_ADDRESS"}
        done = subprocess.run(
            [sys.executable, "-c", probe],
            env=clean | env,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()

    assert runner({"ESPFLEET_DASK_ADDRESS": "tcp://127.0.0.1:8786"}) == (
        "DaskTaskRunner tcp://127.0.0.1:8786"
    )
    assert runner({}) == "ThreadPoolTaskRunner None 2"
