"""The same flow scaled out on a local Dask cluster (prefect-dask)."""

from __future__ import annotations

from espfleet.settings import RunSettings
from espfleet.warehouse import Warehouse
from tests.fixtures import RATES_SQL, expected_rates, ground_truth


def test_dask_task_runner_gives_the_same_answers(tmp_path, prefect_engine):
    from espfleet.flows.nightly import run
    from espfleet.simulator.fleet import simulate

    truth = simulate(devices=10, seed=99, out=tmp_path / "share")
    settings = RunSettings(
        source=str(tmp_path / "share"),
        warehouse=tmp_path / "wh",
        batch_size=3,
        task_runner="dask",
        max_workers=2,
    )
    result = run(settings)
    rows = ground_truth(truth)
    assert result["ingested"] == sum(r["expected_status"] == "ingested" for r in rows)
    with Warehouse(tmp_path / "wh").connect() as con:
        assert con.execute(RATES_SQL).fetchall() == expected_rates(rows)
