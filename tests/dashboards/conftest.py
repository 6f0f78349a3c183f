"""Dashboard tests: a simulated fleet with markup planted in it, a real browser."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from espfleet.simulator.fleet import COLUMNS, plan_fleet, truth_rows, write_bundle
from tests.fixtures import ingest_without_prefect

ROOT = Path(__file__).resolve().parents[2]
# Kept after the run (not committed: /tmp/ is ignored): the screenshots.
ARTIFACTS = ROOT / "tmp" / "test-artifacts" / "dashboard"
CHROMIUM = "/usr/bin/chromium"
# Headless as root (no sandbox), and no network: every host name fails to
# resolve, so nothing outside the file could load even if a page asked.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND",
]
# Planted in a device name and in a log message of a failing device.
NAME_PAYLOAD = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
LOG_PAYLOAD = "</script><img src=x onerror=window.__pwned=3> <b>bold</b> & done"
# A log message naming a user twice (UPN, profile folder): --mask hides both.
PROFILE = "jsmith"
USER_LINE = (
    "Token for autopilot@contoso.onmicrosoft.com cached in "
    f"C:\\Users\\{PROFILE}\\AppData\\Local\\Temp"
)
# Planted as the failing task-sequence step of another device: it reaches the
# charts (axis labels, tooltips) and that device's diagnosis.
STEP_PAYLOAD = "<img src=x onerror=window.__pwned=4><i>Step</i>"
FLEET_SEED = 5


def _plant_log_lines(folder: Path, messages: list[str]) -> None:
    """Error records with these messages, before the log's last record."""
    log = folder / "ccmsetup.log"
    lines = log.read_text(encoding="utf-8").splitlines(keepends=True)
    last = lines[-1]
    attrs = last[last.index("]LOG]!>") :].replace('type="1"', 'type="3"')
    planted = [f"<![LOG[{message}]LOG]!>{attrs}" for message in messages]
    lines[-1:-1] = planted
    log.write_text("".join(lines), encoding="utf-8")


@pytest.fixture(scope="session")
def planted(tmp_path_factory) -> dict:
    """A 30-device simulated share (one device named with markup), ingested."""
    out = tmp_path_factory.mktemp("planted")
    share, warehouse = out / "share", out / "warehouse"
    plans = plan_fleet(30, FLEET_SEED)
    victim = next(
        p
        for p in plans
        if p.layout == "folder"
        and not p.damage
        and p.scenario.startswith("ccmsetup_failed")
    )
    victim_serial = victim.serial
    for p in plans:
        if p.serial == victim_serial:
            p.device_name = NAME_PAYLOAD
    stepper = next(p for p in plans if p.scenario == "ts_step_failed" and not p.damage)
    stepper.ts_steps = [
        replace(s, name=STEP_PAYLOAD) if s.name == stepper.failing_step else s
        for s in stepper.ts_steps
    ]
    stepper.failing_step = STEP_PAYLOAD
    paths = [write_bundle(p, FLEET_SEED, share) for p in plans]
    victim_path = share / paths[plans.index(victim)]
    _plant_log_lines(victim_path, [LOG_PAYLOAD, USER_LINE])
    rows = truth_rows(plans, paths)
    with (share / "ground_truth.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    ingest_without_prefect(share, warehouse)
    return {
        "share": share,
        "warehouse": warehouse,
        "truth": rows,
        "victim_serial": victim_serial,
        "stepper_serial": stepper.serial,
    }


def _install_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.fail(f"no {CHROMIUM}: apt-get install -y chromium (as root)")
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-q", "chromium", "fonts-liberation"],
        check=True,
        env=env,
    )


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium, headless, driven by Playwright over its protocol.

    Playwright gives every launch a fresh profile (its own --user-data-dir)
    and downloads nothing: the executable is Debian's. Per module: while
    Playwright's sync API is open, its event loop counts as running, and
    Prefect would then hand later tests coroutines instead of results.
    """
    _install_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def sample_warehouse(tmp_path_factory) -> Path:
    """The committed sample (data/sample), ingested without Prefect."""
    from tests.fixtures import SAMPLE

    warehouse = tmp_path_factory.mktemp("sample") / "warehouse"
    ingest_without_prefect(SAMPLE, warehouse)
    return warehouse
