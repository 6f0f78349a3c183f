"""The run lock on object storage: a lease object taken with conditional PUTs,
against a real S3-compatible server (moto's server mode) on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time

import pytest
from upath import UPath

from espfleet import runs
from espfleet.errors import WarehouseBusy
from espfleet.lease import Lease
from espfleet.storage import location
from tests.flows import cli_runs
from tests.flows.s3 import moto_server


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    with moto_server(tmp_path_factory.mktemp("moto")) as server:
        server.filesystem().mkdir("locks")
        yield server


@pytest.fixture
def s3_env(s3, monkeypatch):
    for name, value in s3.env.items():
        monkeypatch.setenv(name, value)
    return s3


def _root(name: str) -> UPath:
    root = location(f"s3://locks/{name}")  # options from the AWS_* environment
    assert isinstance(root, UPath)
    return root


def test_of_two_runs_taking_the_lease_at_once_exactly_one_holds_it(s3_env):
    lock = _root("race") / runs.LOCK_NAME
    outcomes: list[str] = []
    leases = [Lease(lock), Lease(lock)]
    start = threading.Barrier(2)

    def take(lease: Lease) -> None:
        start.wait()
        try:
            lease.take(wait_s=0)
            outcomes.append("held")
        except WarehouseBusy:
            outcomes.append("busy")

    threads = [threading.Thread(target=take, args=(lease,)) for lease in leases]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["busy", "held"]
    for lease in leases:
        lease.release()
    assert not lock.exists()


def test_a_second_run_waits_then_names_the_holder_in_one_line(
    s3_env, tmp_path, cli_home
):
    root = "s3://locks/busy"
    with runs.run_lock(root, wait_s=0):
        runs.note_run_id(root, "20261201T020000.000000Z-abcd")
        run = cli_runs.start(
            ["ingest", str(tmp_path), "--warehouse", root, "--lock-wait", "1"],
            cli_home,
            tmp_path / "logs",
            env=s3_env.env,
        )
        assert run.wait(180) == 75
    (line,) = run.stderr.strip().splitlines()
    assert line.startswith(
        "espfleet: warehouse s3://locks/busy is in use by run"
        " 20261201T020000.000000Z-abcd (pid "
    )
    assert "lease until" in line and "waited 1 s" in line
    assert not (_root("busy") / runs.LOCK_NAME).exists()  # released


def test_a_lease_past_its_expiry_is_taken_over(s3_env):
    lock = _root("stale") / runs.LOCK_NAME
    dead = {"owner": "dead", "pid": 1, "host": "gone", "expires_at": time.time() - 60}
    lock.write_bytes(json.dumps(dead).encode())
    started = time.monotonic()
    with runs.run_lock("s3://locks/stale", wait_s=10):
        assert json.loads(lock.read_bytes())["owner"] != "dead"
    assert time.monotonic() - started < 5


def test_a_live_lease_is_renewed_and_a_lost_one_stops_the_run(s3_env):
    lock = _root("renew") / runs.LOCK_NAME
    lease = Lease(lock, ttl_s=1.5)
    lease.take(wait_s=0)
    first = json.loads(lock.read_bytes())["expires_at"]
    time.sleep(1.2)
    assert json.loads(lock.read_bytes())["expires_at"] > first  # renewed
    other = {"owner": "thief", "expires_at": time.time() + 600}
    lock.write_bytes(json.dumps(other).encode())  # taken over behind its back
    time.sleep(1.2)
    with pytest.raises(WarehouseBusy, match="taken over by another run"):
        lease.check()
    lease.release()
    assert json.loads(lock.read_bytes())["owner"] == "thief"  # not ours to delete
