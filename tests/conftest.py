"""Shared test fixtures: paths to the repository and to ../shared (real public datasets, read in place)."""

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DATASETS = SHARED / "datasets"
GOLDEN = REPO / "tests" / "golden"


def in_ci() -> bool:
    """CI sets CI=1 (.ci/run): there, what a test needs must be present."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def shared_file(*parts: str) -> Path:
    """A file of ../shared/datasets: skipped when absent locally, a failure in CI (which has ../shared beside the
    clone), so a moved or missing dataset cannot turn the real-data tests into silent skips."""
    p = DATASETS.joinpath(*parts)
    if not p.exists():
        if in_ci():
            pytest.fail(f"{p} is missing: CI runs with ../shared beside the repository (CI={os.environ['CI']!r})")
        pytest.skip(f"{p} not available (../shared is beside the repository in CI)")
    return p
