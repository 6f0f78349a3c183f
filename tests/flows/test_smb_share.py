"""Ingesting from a real SMB share (Samba on 127.0.0.1), through the Prefect engine."""

from __future__ import annotations

import os
import shutil

import pytest

from espfleet.warehouse import Warehouse
from tests.fixtures import RATES_SQL, expected_rates, ground_truth
from tests.flows.smb import samba_share

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
    rows = ground_truth(truth)
    assert result["ingested"] == sum(r["expected_status"] == "ingested" for r in rows)
    assert (again["ingested"], again["already_seen"]) == (0, len(rows))
    with Warehouse(tmp_path / "wh").connect() as con:
        assert con.execute(RATES_SQL).fetchall() == expected_rates(rows)
        uris = [
            u
            for (u,) in con.execute(
                "select source_uri from stg_ingest__bundles"
            ).fetchall()
        ]
    assert all(u.startswith("/fleet/") and "espfleet-test" not in u for u in uris)
