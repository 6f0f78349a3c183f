"""Flow tests run through the real Prefect engine against a temporary API server."""

from __future__ import annotations

import pytest

from espfleet.settings import configure_prefect


@pytest.fixture(scope="session")
def prefect_engine(tmp_path_factory):
    """One temporary Prefect server for the session (~20 s to start on 2 cores)."""
    configure_prefect(tmp_path_factory.mktemp("prefect-home"))
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
