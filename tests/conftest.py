"""Shared test fixtures: the corpus location and small helpers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The real-sample corpus (../shared/corpus via ESPFLEET_CORPUS).

    Skips when ESPFLEET_CORPUS is unset (a user's own clone); when it is set the
    folder must exist, so CI fails loudly instead of skipping.
    """
    root = os.environ.get("ESPFLEET_CORPUS")
    if not root:
        pytest.skip("ESPFLEET_CORPUS is not set")
    path = Path(root)
    assert path.is_dir(), f"ESPFLEET_CORPUS={root} does not exist"
    return path


def corpus_file(corpus: Path, relative: str) -> Path:
    """A corpus file that must exist when the corpus is configured."""
    path = corpus / relative
    assert path.exists(), f"corpus file missing: {relative}"
    return path
