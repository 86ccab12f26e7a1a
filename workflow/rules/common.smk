# Config and cohort-sheet handling: the one place for validation and input functions.
import re
import sys
from pathlib import Path

from snakemake.utils import min_version, validate

from seedsig import config as sconf
from seedsig.errors import SeedsigError

min_version("9.0")

ROOT = Path(workflow.main_snakefile).parent
SCHEMAS = ROOT / "workflow" / "schemas"
RESULTS = "results"
REPORT = f"{RESULTS}/report.html"
# Files the example rule generates (the sheet's example row points at them).
EXAMPLE_DIR = "resources/example"
EXAMPLE_FILES = {
    f"{EXAMPLE_DIR}/counts.tsv.gz",
    f"{EXAMPLE_DIR}/clinical.tsv",
    f"{EXAMPLE_DIR}/single_cell.h5ad",
}


def _fail(exc):
    print(f"\nseedsig error: {exc}\n", file=sys.stderr)
    sys.exit(1)


CONFIG_SOURCE = (
    "config (" + ", ".join(map(str, workflow.configfiles or ["--config"])) + ")"
)

try:
    sconf.check_against_schema(config, SCHEMAS / "config.schema.yaml", CONFIG_SOURCE)
    validate(config, schema="../schemas/config.schema.yaml")
    SHEET = sconf.read_sheet(config["cohorts"], SCHEMAS / "cohorts.schema.yaml")
    validate(SHEET, schema="../schemas/cohorts.schema.yaml")
    sconf.check_input_files(SHEET, config["cohorts"], generated=EXAMPLE_FILES)
    sconf.check_normalize(config, SHEET, CONFIG_SOURCE)
    from seedsig.signatures import load_signatures

    SIGNATURE_FILES = list(config["signatures"]["files"])
    SIGNATURE_NAMES = [s.name for s in load_signatures(SIGNATURE_FILES)]
    sconf.check_signature_names(config, SIGNATURE_NAMES, CONFIG_SOURCE)
    sconf.check_cohort_settings(config, SHEET, CONFIG_SOURCE)
except SeedsigError as exc:
    _fail(exc)

COHORTS = list(SHEET.index)
METHODS = list(config["scoring"]["methods"])
FOCAL = list(config["signatures"]["focal"])
TARGETS = sconf.target_signatures(config, SIGNATURE_NAMES)
COHORT_SETTINGS = {
    c: sconf.cohort_settings(config, c, dict(SHEET.loc[c])) for c in COHORTS
}
SINGLE_CELL = [c for c in COHORTS if SHEET.loc[c, "sample_column"]]
META = f"{RESULTS}/meta"
META_OUTPUTS = [f"{META}/correlations.tsv", f"{META}/survival.tsv"]


wildcard_constraints:
    cohort="|".join(re.escape(c) for c in COHORTS),
    method="|".join(re.escape(m) for m in METHODS),


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
    from seedsig.clinical import harmonize_settings

    row = dict(cohort_row(wildcards))
    surv = COHORT_SETTINGS[wildcards.cohort]["survival"]
    return {
        "row": row,
        "harmonization": harmonize_settings(config, wildcards.cohort, row),
        "endpoints": list(surv["endpoints"]),
        "site_column": surv["relapse_site"]["column"],
        "sites": list(surv["relapse_site"]["sites"]),
        "geo": dict(config.get("geo") or {}),
    }


def normalize_method(wildcards):
    return config["normalize"][cohort_row(wildcards)["data_type"]]


def normalize_inputs(wildcards):
    inputs = {"h5ad": f"{RESULTS}/{wildcards.cohort}/ingested.h5ad"}
    if config["normalize"]["gene_lengths"]:
        inputs["gene_lengths"] = config["normalize"]["gene_lengths"]
    return inputs


def score_files(wildcards):
    return {m: f"{RESULTS}/{wildcards.cohort}/scores/{m}.tsv" for m in METHODS}


def cohort_outputs(cohort):
    base = f"{RESULTS}/{cohort}"
    return [
        f"{base}/expression.h5ad",
        f"{base}/gene_mapping.tsv",
        f"{base}/clinical.tsv",
        f"{base}/coverage.tsv",
        f"{base}/signature_qc.tsv",
        *[f"{base}/scores/{m}.tsv" for m in METHODS],
        f"{base}/correlations.tsv",
        f"{base}/prerank.tsv",
        f"{base}/survival.tsv",
        f"{base}/km.tsv",
        f"{base}/logrank.tsv",
        f"{base}/cumulative_incidence.tsv",
        *(
            [f"{base}/cell_scores/{m}.tsv.gz" for m in METHODS]
            if cohort in SINGLE_CELL
            else []
        ),
    ]


def all_outputs():
    return [out for c in COHORTS for out in cohort_outputs(c)] + META_OUTPUTS + [REPORT]
