"""Rule report: results/report.html over every cohort."""

from seedsig.pipeline import report_run, run_rule


def main(smk):
    report_run(dict(smk.params.cohorts), smk.output[0], list(smk.input.signatures), dict(smk.params.config), smk.params.focal, smk.params.primary_method, smk.params.meta)


run_rule(snakemake, main)  # noqa: F821
