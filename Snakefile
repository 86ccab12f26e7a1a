# seedsig: score the self-seeding signature and organ-specific metastasis signatures across cohorts.
# Run: snakemake --cores all   (see README.md; every config key is documented in config/README.md)


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


onsuccess:
    print(f"\nseedsig: done. Report: {Path(REPORT).resolve()}\n")
