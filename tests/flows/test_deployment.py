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
