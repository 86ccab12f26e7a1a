"""Rule associate: correlations.tsv (SS vs organ signatures) and survival.tsv (Cox per SD)."""

from seedsig.pipeline import associate_cohort, run_rule


def main(smk):
    score_files = {m: smk.input[m] for m in smk.params.methods}
    associate_cohort(smk.input.h5ad, score_files, smk.params.focal, smk.params.targets, smk.output.correlations, smk.output.survival)


run_rule(snakemake, main)  # noqa: F821
