# Config and cohort-sheet handling: the one place for validation, input functions, output paths, job sizes
# and the report() registration of tables (included first by workflow/Snakefile).
import re
from pathlib import Path

from snakemake.utils import min_version

from seedsig import config as sconf
from seedsig.core import layout
from seedsig.core import resources as jobsize
from seedsig.core.errors import SeedsigError
from seedsig.core.failure import fail
from seedsig.ingest.clinical import harmonize_settings
from seedsig.report.figure_plan import figure_plan
from seedsig.scoring.reference import (
    needs_reference,
    reference_file_of,
    reference_setting,
)
from seedsig.scoring.signatures import load_signatures

min_version("9.0")

# The repository root (this file is workflow/rules/common.smk), whichever Snakefile includes the workflow.
ROOT = Path(workflow.current_basedir).parents[1]
SCHEMAS = ROOT / "workflow" / "schemas"
# Output paths: seedsig.core.layout spells every one (the rules, the meta stage and the report use it).
RESULTS = layout.RESULTS
REPORT = f"{RESULTS}/{layout.REPORT}"
cohort_file = (
    layout.cohort_file
)  # cohort_file("coverage") -> "results/{cohort}/coverage.tsv"
sidecar = (
    layout.sidecar
)  # the provenance JSON beside a table: a declared output of the rule writing the table
# Files the example rule generates (the sheet's example row points at them).
EXAMPLE_DIR = "resources/example"
EXAMPLE_FILES = {
    f"{EXAMPLE_DIR}/counts.tsv.gz",
    f"{EXAMPLE_DIR}/clinical.tsv",
    f"{EXAMPLE_DIR}/single_cell.h5ad",
}


def _fail(exc):
    fail(exc)  # the one message, exit 1


# The one validation call: config schema (file:line:column of the offending key), sheet, files, normalization,
# signatures, per-cohort settings (seedsig.config.check_workflow_config; the tests call it directly).
# A cluster job's own Snakemake processes (two per job) skip mapping the signature genes to HGNC symbols (0.4 s each):
# the main process did it, and stopped on any error.
JOB_PROCESS = not workflow.is_main_process
try:
    CHECKED = sconf.check_workflow_config(
        config,
        workflow.configfiles,
        SCHEMAS,
        generated=EXAMPLE_FILES,
        resolve_signatures=not JOB_PROCESS,
    )
except SeedsigError as exc:
    _fail(exc)
CONFIG_SOURCE = CHECKED["source"]
SHEET = CHECKED["sheet"]
SIGNATURE_FILES = CHECKED["signature_files"]
SIGNATURE_NAMES = CHECKED["signature_names"]

COHORTS = list(SHEET.index)
RUN_METHODS = list(config["scoring"]["methods"])
FOCAL = list(config["signatures"]["focal"])
TARGETS = sconf.target_signatures(config, SIGNATURE_NAMES)
CONTRIBUTION_SIGNATURES = sconf.contribution_signatures(config)  # None: every signature
COHORT_SETTINGS = {
    c: sconf.cohort_settings(config, c, dict(SHEET.loc[c])) for c in COHORTS
}
SINGLE_CELL = [c for c in COHORTS if SHEET.loc[c, "sample_column"]]
META_OUTPUTS = [layout.meta_file("correlations"), layout.meta_file("survival")]
# scoring.reference: ("", "") none, ("cohort", name) or ("file", path); the methods it anchors (cohort-relative)
try:
    REFERENCE_KIND, REFERENCE_VALUE = reference_setting(
        config["scoring"].get("reference"), COHORTS, CONFIG_SOURCE
    )
except SeedsigError as exc:
    _fail(exc)
ANCHORED_METHODS = [
    m
    for m in RUN_METHODS
    if REFERENCE_KIND and needs_reference(m, config["scoring"].get(m, {}))
]
# the reference files the rule reference writes (scoring.reference names a cohort of the sheet)
REFERENCE_OUTPUTS = (
    [layout.reference_file(m) for m in ANCHORED_METHODS]
    if REFERENCE_KIND == "cohort"
    else []
)


wildcard_constraints:
    cohort="|".join(re.escape(c) for c in COHORTS),
    method="|".join(re.escape(m) for m in RUN_METHODS),


# Job sizes: every rule's threads and resources (mem_mb, runtime, disk_mb where it writes a matrix) follow from the
# size of its input (samples x genes of the cohort, cells of an atlas, random signatures), attempt-scaled; the
# formulas and their constants are seedsig.core.resources (config/README.md, "Job sizes"). Threads never exceed
# --cores, or on a cluster run (no --cores) the CPUs of the smallest SLURM node (sinfo), nor in a cluster job's
# own processes the CPUs the job holds. A rule not listed there is sized like the heaviest per-cohort step. mem_mb
# limits a local run only with `--resources mem_mb=...`.
def _threads_cap():
    try:
        cap = workflow.cores
    except Exception:  # no --cores: a cluster executor
        cap = jobsize.slurm_node_cpus()
    held = jobsize.slurm_job_cpus() if JOB_PROCESS else None
    return min(filter(None, (cap, held)), default=None)


THREADS_CAP = _threads_cap()
# which input holds the cohort's matrix, by step (the others read the h5ad input; meta and report every cohort's)
SIZE_INPUT = {"ingest": "expression", "cell_scores": "expression"}


def _own_matrix_shape(cohort):
    """(rows, columns) of a cohort's matrix read from the sheet's expression file (a single-cell atlas: the
    pseudobulk it sums to), for a step whose input h5ad is not written yet."""
    expression = SHEET.loc[cohort, "expression"]
    if cohort in SINGLE_CELL:
        return jobsize.pseudobulk_shape(expression, SHEET.loc[cohort, "sample_column"])
    return jobsize.input_shape(expression)


def _job_size(step, wildcards, input, attempt=1):
    cohort = getattr(wildcards, "cohort", None)
    key = SIZE_INPUT.get(step, "h5ad")
    paths = [getattr(input, key, None)] if hasattr(input, key) else []
    if step in ("meta", "report"):
        paths = [cohort_file("expression", c) for c in COHORTS]
    mvalues, cells = 0.0, 0
    for path in paths:
        shape = jobsize.input_shape(path)
        if shape is None and key == "h5ad" and cohort in COHORTS:
            # not written yet (a group job sizes its later steps when it is submitted): the cohort's own matrix
            shape = _own_matrix_shape(cohort)
        if shape is None:
            mvalues += jobsize.UNKNOWN_MVALUES if path else 0.0
        elif cohort in SINGLE_CELL and key == "expression":
            cells += shape[0]
        else:
            mvalues += shape[0] * shape[1] / 1e6
    section = {"associate": "associate", "survival": "survival"}.get(step)
    n_random = (
        COHORT_SETTINGS[cohort][section]["n_random"] if section and cohort else 1000
    )
    return jobsize.job_size(
        step,
        mvalues,
        cells=cells,
        attempt=attempt,
        threads_cap=THREADS_CAP,
        n_random=n_random,
        method=getattr(wildcards, "method", None),
    )


def job_threads(step):
    """A rule's `threads:` (seedsig.core.resources.job_size)."""
    return lambda wildcards, input: _job_size(step, wildcards, input).threads


def job_resources(step):
    """A rule's `resources:` (mem_mb, runtime in minutes, disk_mb for the steps that write a matrix)."""
    res = {
        "mem_mb": lambda wildcards, input, attempt: _job_size(
            step, wildcards, input, attempt
        ).mem_mb,
        "runtime": lambda wildcards, input, attempt: _job_size(
            step, wildcards, input, attempt
        ).runtime,
    }
    if step in jobsize.DISK_MB_PER_MVALUE:
        res["disk_mb"] = lambda wildcards, input: _job_size(
            step, wildcards, input
        ).disk_mb
    return res


# A rule written with the earlier placeholders (mem_mb=JOB_MEM_MB, runtime=JOB_RUNTIME) is sized like the heaviest
# per-cohort step from its h5ad input; give it its own line in seedsig.core.resources.STEPS and job_resources().
JOB_MEM_MB = job_resources("")["mem_mb"]
JOB_RUNTIME = job_resources("")["runtime"]


def tsv_report(path, caption, subcategory, table, method="all"):
    """A per-cohort table for `snakemake --report`; caption: relative to the rule's .smk file."""
    return report(
        path,
        caption=caption,
        category="Cohort {cohort}",
        subcategory=subcategory,
        labels={"cohort": "{cohort}", "table": table, "method": method},
    )


def meta_report(path, caption, table):
    """A table pooled across cohorts, registered for `snakemake --report` (category "Across cohorts")."""
    return report(
        path,
        caption=caption,
        category="Across cohorts",
        subcategory="meta-analysis",
        labels={"table": table},
    )


def cohort_row(wildcards):
    return SHEET.loc[wildcards.cohort]


def ingest_inputs(wildcards):
    """The sheet's local files of a cohort (geo: entries are downloaded by the ingest rule itself)."""
    row = cohort_row(wildcards)
    return {
        col: row[col]
        for col in ("expression", "clinical", "platform_annotation")
        if row[col] and not row[col].startswith("geo:")
    }


def ingest_settings(wildcards):
    """What ingest needs besides the files: the sheet row, clinical harmonization, endpoints, relapse site."""
    row = dict(cohort_row(wildcards))
    surv = COHORT_SETTINGS[wildcards.cohort]["survival"]
    return {
        "row": row,
        "harmonization": harmonize_settings(config, wildcards.cohort, row),
        "endpoints": list(surv["endpoints"]),
        "site_column": surv["relapse_site"]["column"],
        "sites": list(surv["relapse_site"]["sites"]),
        "geo": dict(config.get("geo") or {}),
        "chunk_cells": config["single_cell"]["chunk_cells"],
    }


def normalize_method(wildcards):
    return config["normalize"][cohort_row(wildcards)["data_type"]]


def normalize_inputs(wildcards):
    inputs = {"h5ad": cohort_file("ingested", wildcards.cohort)}
    if config["normalize"]["gene_lengths"]:
        inputs["gene_lengths"] = config["normalize"]["gene_lengths"]
    return inputs


def reference_input(wildcards):
    """The reference file a cohort's scores of a method are anchored to ({} when none: cohort-relative scores)."""
    if wildcards.method not in ANCHORED_METHODS:
        return {}
    if REFERENCE_KIND == "cohort":
        return {"reference": layout.reference_file(wildcards.method)}
    return {"reference": reference_file_of(REFERENCE_VALUE, wildcards.method)}


def score_files(wildcards):
    return {m: cohort_file("scores", wildcards.cohort, m) for m in RUN_METHODS}


def cohort_outputs(cohort):
    """Every file the rules write for one cohort (tables with their sidecar JSONs); the report reads them."""
    tables = [
        cohort_file(name, cohort)
        for name in (
            "gene_mapping",
            "clinical",
            "coverage",
            "signature_qc",
            "correlations",
            "null_correlations",
            "prerank",
            "survival",
            "km",
            "logrank",
            "cumulative_incidence",
        )
    ]
    tables += [cohort_file("scores", cohort, m) for m in RUN_METHODS]
    tables += [cohort_file("contributions", cohort, m) for m in RUN_METHODS]
    if cohort in SINGLE_CELL:
        tables += [cohort_file("cell_scores", cohort, m) for m in RUN_METHODS]
    return [
        cohort_file("expression", cohort),
        *tables,
        *[sidecar(t) for t in tables],
    ]


def all_outputs():
    return (
        [out for c in COHORTS for out in cohort_outputs(c)]
        + META_OUTPUTS
        + [sidecar(m) for m in META_OUTPUTS]
        + REFERENCE_OUTPUTS
        + [sidecar(r) for r in REFERENCE_OUTPUTS]
        + [REPORT]
    )


# The report's figures, declared one by one (results/figures/, never a directory() output): their names follow from
# the config, the sheet and the signature files (seedsig.core.layout.figure_names); the report writes a "not drawn"
# placeholder for each figure the data do not allow.
FIGURE_PLAN = figure_plan(
    config,
    {c: dict(SHEET.loc[c]) for c in COHORTS},
    COHORT_SETTINGS,
    load_signatures(SIGNATURE_FILES, resolve=not JOB_PROCESS),
    TARGETS,
)


def figure_report(path):
    """An SVG figure of the report registered for `snakemake --report` (labelled by its name)."""
    name = path[len(layout.figures_dir(RESULTS)) + 1 : -len(".svg")]
    return report(
        path,
        caption="../report/figures_svg.rst",
        category="Figures",
        labels={"figure": name},
    )


def figure_outputs():
    """Every figure file of the report: the SVGs registered for `snakemake --report`, their PDF twins plain."""
    files = layout.figure_files(results=RESULTS, **FIGURE_PLAN)
    return [figure_report(f) if f.endswith(".svg") else f for f in files]
