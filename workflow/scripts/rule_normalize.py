"""Rule normalize: X -> normalized log-expression (counts kept in layers['counts'])."""

from seedsig.pipeline import normalize_cohort, run_rule


def main(smk):
    normalize_cohort(smk.input[0], smk.output[0], smk.params.method, smk.params.prior_count)


run_rule(snakemake, main)  # noqa: F821
