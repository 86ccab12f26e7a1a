# seedsig: score the self-seeding signature and organ-specific metastasis signatures across cohorts.
# Run: snakemake --cores all   (see README.md; every config key is documented in config/README.md)


import os

from seedsig import config as _sconf
from seedsig import failure as _failure
from seedsig.errors import SeedsigError as _SeedsigError

# The default config file is read through seedsig first, so a YAML mistake in it names the file, line and
# column (Snakemake's own parser does not); --configfile files are parsed by Snakemake before this runs:
# `seedsig check-config FILE` checks them the same way.
if os.path.isfile("config/config.yaml"):
    try:
        _sconf.load_yaml("config/config.yaml")
    except _SeedsigError as _exc:
        _failure.fail(_exc)


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/example.smk"
include: "workflow/rules/cohort.smk"
include: "workflow/rules/meta.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        all_outputs(),


onstart:
    _failure.clear_errors()


onsuccess:
    _failure.clear_errors()
    print(f"\nseedsig: done. Report: {Path(REPORT).resolve()}\n")


# Each failed step's seedsig message once, after Snakemake's rule-error block; an earlier report is marked stale.
onerror:
    _failure.report_failure(REPORT, log=log)
