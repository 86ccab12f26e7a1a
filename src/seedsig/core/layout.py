"""Where each output of a run lives: the one place that spells the paths of ``results/`` (the workflow's rules,
the meta stage and the report all build them here).

Per cohort, under ``results/{cohort}/``: :data:`COHORT_FILES`; across cohorts: :data:`META_FILES`; every table
has its provenance sidecar beside it (:func:`sidecar`, the name :func:`seedsig.core.provenance.sidecar_path`
gives). The report's figures, under ``results/figures/``: :func:`figure_names` (each as ``.svg`` and ``.pdf``),
a name set that follows from the configuration, the cohort sheet and the signature files only; a figure the data
do not allow is still written, as a "not drawn: why" placeholder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, NamedTuple, Sequence

from seedsig.core.plotting import safe_name
from seedsig.core.provenance import sidecar_path

RESULTS = "results"
REPORT = "report.html"
FIGURES = "figures"
LOGS = "logs"
META = "meta"


def endpoint_label(time: str, event: str) -> str:
    """The name of the sheet's endpoint in the outcome tables: ``time/event`` ('' without both columns)."""
    return f"{time}/{event}" if time and event else ""


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
    "contributions": "contributions/{method}.tsv",
    "correlations": "correlations.tsv",
    "null_correlations": "null_correlations.tsv.gz",
    "prerank": "prerank.tsv",
    "survival": "survival.tsv",
    "km": "km.tsv",
    "logrank": "logrank.tsv",
    "cumulative_incidence": "cumulative_incidence.tsv",
}
# the frozen statistics of a reference cohort (scoring.reference), per cohort-relative method
REFERENCE = "reference"
# name -> path relative to results/meta/
META_FILES = {"correlations": "correlations.tsv", "survival": "survival.tsv"}


def cohort_file(name: str, cohort: str = "{cohort}", method: str = "{method}", results: str = RESULTS) -> str:
    """``results/{cohort}/...`` of one output; wildcards not given stay as ``{cohort}`` / ``{method}``."""
    rel = COHORT_FILES[name].replace("{method}", method)
    return f"{results}/{cohort}/{rel}"


def reference_file(method: str = "{method}", results: str = RESULTS) -> str:
    """``results/reference/{method}.npz``: the reference of a cohort-relative method (its sidecar beside it)."""
    return f"{results}/{REFERENCE}/{method}.npz"


def meta_file(name: str, results: str = RESULTS) -> str:
    return f"{results}/{META}/{META_FILES[name]}"


def sidecar(path: str | Path) -> str:
    """The provenance sidecar JSON written beside a table (``x.tsv`` -> ``x.json``), as a string path."""
    return str(sidecar_path(path))


# ------------------------------------------------------------------------------------------- figures
FIGURE_SUFFIXES = (".svg", ".pdf")
# kinds of figure: drawn across cohorts (results/figures/), per cohort (results/figures/{cohort}/), pooled
# (results/figures/meta/)
RUN_FIGURES = ("summary_heatmap",)
COHORT_FIGURES = (
    "library_size",
    "expression_density",
    "score_distribution",
    "scatter_null",
    "prerank",
    "km",
    "cif",
    "contribution_share",
)
META_FIGURES = ("forest_r", "forest_hr")


class FigureName(NamedTuple):
    """One figure of the report: its kind, its cohort ('' for the run's and the pooled figures) and the names
    that tell it apart (method, signatures, direction or endpoint, as given: not yet made file-safe)."""

    kind: str
    cohort: str = ""
    parts: tuple[str, ...] = ()

    @property
    def stem(self) -> str:
        return figure_stem(self.kind, self.cohort, *self.parts)


def figure_stem(kind: str, cohort: str = "", *parts: str) -> str:
    """The name of a figure under ``results/figures/`` without its suffix: ``summary_heatmap``,
    ``{cohort}/{kind}[_{part}...]`` or ``meta/{kind}_{part}...`` (names made file-safe by
    :func:`seedsig.core.plotting.safe_name`)."""
    tail = f"_{safe_name(*parts)}" if parts else ""
    if kind in RUN_FIGURES:
        return f"{kind}{tail}"
    if kind in META_FIGURES:
        return f"{META}/{kind}{tail}"
    if kind in COHORT_FIGURES:
        return f"{safe_name(cohort)}/{kind}{tail}"
    raise ValueError(f"unknown kind of figure {kind!r}")


def _cohort_figures(
    cohort: str,
    plan: Mapping,
    *,
    methods: Sequence[str],
    primary: str,
    focal: Sequence[str],
    targets: Sequence[str],
    prerank_sets: Sequence[Sequence[str]],
) -> list[FigureName]:
    main = focal[0]
    names = [FigureName("library_size", cohort)] if plan.get("data_type") == "counts" else []
    names.append(FigureName("expression_density", cohort))
    names += [FigureName("score_distribution", cohort, (m,)) for m in methods]
    names += [FigureName("scatter_null", cohort, (primary, main, t)) for t in targets]
    names.append(FigureName("contribution_share", cohort, (primary, main)))
    if plan.get("prerank", True):
        names += [FigureName("prerank", cohort, (primary, main, s, d)) for s, d in prerank_sets]
    first = plan.get("primary_endpoint") or ""
    endpoints = [e for e in [first, *plan.get("endpoints", [])] if e]
    names += [FigureName("km", cohort, (primary, f, e)) for f in focal for e in endpoints]
    if first and plan.get("relapse_site"):
        names += [FigureName("cif", cohort, (primary, f, first)) for f in focal]
    return names


def figure_names(
    *,
    cohorts: Mapping[str, Mapping],
    methods: Sequence[str],
    primary: str,
    focal: Sequence[str],
    targets: Sequence[str],
    prerank_sets: Sequence[Sequence[str]] = (),
) -> list[FigureName]:
    """Every figure of a run's report, from what the configuration, the cohort sheet and the signature files say.

    ``cohorts``: per cohort of the sheet, ``data_type`` (the library sizes are drawn for counts),
    ``primary_endpoint`` (the sheet's ``time/event`` label, '' without one), ``endpoints`` (the names of the
    further endpoints of ``survival.endpoints``), ``relapse_site`` (a site-of-relapse column is set: cumulative
    incidence on the primary endpoint) and ``prerank`` (the prerank step runs). ``methods``: the scoring methods
    (one score distribution each); ``primary``: the report's summary method, of every other figure; ``focal``:
    the focal signatures (the first one against each of ``targets``; each of them in the survival figures);
    ``prerank_sets``: (signature, direction) of each prerank set (every signature not focal, on the first focal
    one). Per cohort, the share of the first focal score carried by each of its sub-signatures' genes
    (``contribution_share``). Kaplan-Meier curves per focal signature and endpoint, forest plots per target and
    focal signature (with two cohorts or more)."""
    focal = list(focal) or ["SS"]
    names = [FigureName("summary_heatmap")]
    for cohort, plan in cohorts.items():
        names += _cohort_figures(
            cohort, plan, methods=methods, primary=primary, focal=focal, targets=targets, prerank_sets=prerank_sets
        )
    if len(cohorts) >= 2:  # a run of one cohort pools nothing: no forest plots
        names += [FigureName("forest_r", "", (primary, focal[0], t)) for t in targets]
        names += [FigureName("forest_hr", "", (primary, f)) for f in focal]
    unique: dict[str, FigureName] = {}
    for n in names:
        unique.setdefault(n.stem, n)
    return list(unique.values())


def figures_dir(results: str = RESULTS) -> str:
    return f"{results}/{FIGURES}"


def figure_files(*, results: str = RESULTS, **plan) -> list[str]:
    """``results/figures/{stem}.svg`` and ``.pdf`` of every figure of :func:`figure_names` (``plan``: its
    arguments)."""
    return [f"{figures_dir(results)}/{n.stem}{suffix}" for n in figure_names(**plan) for suffix in FIGURE_SUFFIXES]
