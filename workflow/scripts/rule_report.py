"""Rule report: results/report.html over every cohort, and every declared figure in results/figures/ (SVG + PDF)."""

from seedsig.core.progress import summarized
from seedsig.core.rules import run_rule
from seedsig.report.stage import report_run


def main(smk):
    report_run(
        dict(smk.params.cohorts),
        smk.output.html,
        list(smk.input.signatures),
        dict(smk.params.config),
        smk.params.focal,
        smk.params.primary_method,
        smk.params.meta,
        input_files=smk.params.input_files,
        figure_plan=smk.params.figure_plan,
    )


run_rule(snakemake, summarized(main))  # noqa: F821
