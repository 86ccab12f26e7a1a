"""The config schema (workflow/schemas/) and the defaults the stages read from it."""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

from seedsig.core.errors import SeedsigError

_PACKAGED_SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
_REPO_SCHEMAS = Path(__file__).resolve().parents[3] / "workflow" / "schemas"


def schema_path(name: str = "config.schema.yaml") -> Path:
    """A schema of ``workflow/schemas/``: from the installed package, else from the repository checkout."""
    for d in (_PACKAGED_SCHEMAS, _REPO_SCHEMAS):
        if (d / name).is_file():
            return d / name
    raise SeedsigError(
        f"schema '{name}' is not installed with seedsig (looked in {_PACKAGED_SCHEMAS} and {_REPO_SCHEMAS}): "
        "reinstall seedsig (pip install .)."
    )


@functools.lru_cache(maxsize=8)
def _load_schema_cached(path: str, mtime: float) -> dict:
    return yaml.safe_load(Path(path).read_text())


def load_schema(path: str | Path) -> dict:
    p = Path(path)
    return _load_schema_cached(str(p.resolve()), p.stat().st_mtime)


# min_samples: the floors below which a correlation row / a Cox model, log-rank test or curve is not computed
# (associate.MIN_SAMPLES_TESTED and survival.MIN_SAMPLES_COX; tests/test_thin_cohorts.py checks they agree)
ASSOCIATE_DEFAULTS = {
    "statistics": ["spearman", "pearson"],
    "n_bootstrap": 1000,
    "n_random": 1000,
    "seed": 2010,
    "proliferation": True,
    "covariates": [],
    "prerank": {},
    "min_samples": 10,
}
PRERANK_DEFAULTS = {
    "enabled": True,
    "statistic": "spearman",
    "permutations": 1000,
    "min_size": 2,
    "exclude_focal_genes": True,
}
SURVIVAL_DEFAULTS = {
    "covariates": [],
    "cut_points": "median",
    "n_random": 1000,
    "seed": 2010,
    "endpoints": [],
    "min_samples": 10,
}
RELAPSE_DEFAULTS = {"column": "", "sites": ["lung", "bone", "brain", "liver"]}
