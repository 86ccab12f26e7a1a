"""Rule associate: correlations.tsv (focal vs target signatures, with nulls), null_correlations.tsv.gz (the random
signatures' correlations behind p_random_null) and prerank.tsv (gseapy prerank)."""

from seedsig.association.stage import associate_cohort
from seedsig.core.progress import summarized
from seedsig.core.rules import run_rule


def main(smk):
    score_files = {m: smk.input[m] for m in smk.params.methods}
    associate_cohort(
        smk.input.h5ad,
        score_files,
        list(smk.input.signatures),
        smk.params.focal,
        smk.params.targets,
        smk.output.correlations,
        smk.output.prerank,
        out_null=smk.output.null,
        settings=dict(smk.params.settings),
        scoring=dict(smk.params.scoring),
        threads=smk.threads,
    )


run_rule(snakemake, summarized(main))  # noqa: F821
