"""Ingesting from a real SMB share (Samba on 127.0.0.1), through the Prefect engine."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from espfleet.warehouse import Warehouse
from tests.fixtures import RATES_SQL, bundles, expected_rates, ground_truth
from tests.flows.smb import PASSWORD, USER, samba_share

HAVE_SAMBA = shutil.which("smbd") is not None or os.path.exists("/usr/sbin/smbd")
# CI installs Samba and sets ESPFLEET_REQUIRE_SMB=1, so there this test cannot skip.
pytestmark = pytest.mark.skipif(
    not HAVE_SAMBA and not os.environ.get("ESPFLEET_REQUIRE_SMB"),
    reason="Samba is not installed (apt-get install samba; .ci/run does)",
)


def test_flow_ingests_a_fleet_from_an_smb_share(tmp_path, prefect_engine):
    from espfleet.flows.nightly import nightly
    from espfleet.simulator.fleet import simulate

    truth = simulate(devices=12, seed=445, out=tmp_path / "share")
    with samba_share(tmp_path / "share", tmp_path / "samba") as url:
        result = nightly(source=url, warehouse=tmp_path / "wh", batch_size=4)
        again = nightly(source=url, warehouse=tmp_path / "wh", batch_size=4)
    rows = bundles(ground_truth(truth))
    assert result["ingested"] == sum(r["expected_status"] == "ingested" for r in rows)
    assert (again["ingested"], again["already_seen"]) == (0, len(rows))
    with Warehouse(tmp_path / "wh").connect() as con:
        assert con.execute(RATES_SQL).fetchall() == expected_rates(ground_truth(truth))
        uris = [
            u
            for (u,) in con.execute(
                "select source_uri from stg_ingest__bundles"
            ).fetchall()
        ]
    assert all(u.startswith("/fleet/") and "espfleet-test" not in u for u in uris)


def _files_holding(secret: bytes, *roots) -> list[str]:
    """Every file under `roots` whose bytes hold `secret` (UTF-8 or UTF-16)."""
    needles = (secret, secret.decode().encode("utf-16-le"))
    hits = []
    for root in roots:
        for path in Path(root).rglob("*"):
            if path.is_file() and any(n in path.read_bytes() for n in needles):
                hits.append(str(path))
    return hits


def test_the_share_password_is_never_stored_or_shown(tmp_path, cli_home):
    """A real Samba share read by real CLI runs, the password given on the
    command line (the quick way) and through a Prefect Secret block: nothing
    the runs wrote (warehouse, Prefect's database and its WAL, logs, output)
    holds it, and a wrong password gives one line and exit 1."""
    from espfleet.simulator.fleet import simulate
    from tests.flows import cli_runs

    simulate(devices=6, seed=4451, out=tmp_path / "share")
    secret = PASSWORD.encode()
    logs = tmp_path / "logs"
    with samba_share(tmp_path / "share", tmp_path / "samba") as url:
        plain = url.replace(f"{USER}:{PASSWORD}@", f"{USER}@")
        quick = cli_runs.start(
            ["ingest", url, "--warehouse", str(tmp_path / "wh-url")], cli_home, logs
        )
        assert quick.wait() == 0, quick.stderr
        save = cli_runs.subprocess.run(
            [sys.executable, "-c", SAVE_SECRET, PASSWORD],
            env={**os.environ, "PREFECT_HOME": str(cli_home)},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert save.returncode == 0, save.stderr
        block = cli_runs.start(
            ["ingest", plain, "--warehouse", str(tmp_path / "wh-block")],
            cli_home,
            logs,
            env={"ESPFLEET_SHARE_SECRET": "espfleet-share"},
        )
        # The listing reads the Secret block on the server the flow then uses.
        assert cli_runs.most_api_servers(block) == 1
        assert block.wait() == 0, block.stderr
        wrong = cli_runs.start(
            ["ingest", plain, "--warehouse", str(tmp_path / "wh-wrong")],
            cli_home,
            logs,
            env={"ESPFLEET_SHARE_PASSWORD": "not-the-password"},
        )
        assert wrong.wait() == 1
    assert "6 bundles ingested" in quick.stdout and "6 bundles ingested" in block.stdout
    assert wrong.stderr.splitlines() == [
        f"espfleet: share {plain.replace(USER + '@', '')} refused the credentials"
        " (LogonFailure); check ESPFLEET_SHARE_USER / ESPFLEET_SHARE_PASSWORD or"
        " the Secret block in ESPFLEET_SHARE_SECRET"
    ]
    written = [tmp_path / d for d in ("wh-url", "wh-block", "wh-wrong", "logs")]
    assert sorted(p.name for p in Path(cli_home).glob("*.db*"))  # Prefect's database
    assert _files_holding(secret, cli_home, *written) == []


# The Secret block's value is the password; saved through the CLI runs' Prefect.
SAVE_SECRET = """
import sys
from espfleet.settings import configure_prefect
configure_prefect()
from prefect.blocks.system import Secret
Secret(value=sys.argv[1]).save("espfleet-share", overwrite=True)
"""
