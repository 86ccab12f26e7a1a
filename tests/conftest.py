"""Shared test fixtures: paths to the repository and to ../shared (real public datasets, read in place)."""

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DATASETS = SHARED / "datasets"
GOLDEN = REPO / "tests" / "golden"


def shared_file(*parts: str) -> Path:
    p = DATASETS.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"{p} not available (../shared is beside the repository in CI)")
    return p
