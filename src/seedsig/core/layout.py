"""Where each output of a run lives: the one place that spells the paths of ``results/`` (the workflow's rules,
the meta stage and the report all build them here).

Per cohort, under ``results/{cohort}/``: :data:`COHORT_FILES`; across cohorts: :data:`META_FILES`; every table
has its provenance sidecar beside it (:func:`sidecar`, the name :func:`seedsig.core.provenance.sidecar_path`
gives).
"""

from __future__ import annotations

from pathlib import Path

from seedsig.core.provenance import sidecar_path

RESULTS = "results"
REPORT = "report.html"
FIGURES = "figures"
LOGS = "logs"
META = "meta"

# name -> path relative to results/{cohort}/ ({method}: a scoring method of the config)
COHORT_FILES = {
    "ingested": "ingested.h5ad",
    "expression": "expression.h5ad",
    "gene_mapping": "gene_mapping.tsv",
    "clinical": "clinical.tsv",
    "coverage": "coverage.tsv",
    "signature_qc": "signature_qc.tsv",
    "scores": "scores/{method}.tsv",
    "cell_scores": "cell_scores/{method}.tsv.gz",
    "correlations": "correlations.tsv",
    "null_correlations": "null_correlations.tsv.gz",
    "prerank": "prerank.tsv",
    "survival": "survival.tsv",
    "km": "km.tsv",
    "logrank": "logrank.tsv",
    "cumulative_incidence": "cumulative_incidence.tsv",
}
# name -> path relative to results/meta/
META_FILES = {"correlations": "correlations.tsv", "survival": "survival.tsv"}


def cohort_file(name: str, cohort: str = "{cohort}", method: str = "{method}", results: str = RESULTS) -> str:
    """``results/{cohort}/...`` of one output; wildcards not given stay as ``{cohort}`` / ``{method}``."""
    rel = COHORT_FILES[name].replace("{method}", method)
    return f"{results}/{cohort}/{rel}"


def meta_file(name: str, results: str = RESULTS) -> str:
    return f"{results}/{META}/{META_FILES[name]}"


def sidecar(path: str | Path) -> str:
    """The provenance sidecar JSON written beside a table (``x.tsv`` -> ``x.json``), as a string path."""
    return str(sidecar_path(path))
