"""Rule reference: the reference cohort's statistics of one cohort-relative method -> reference/{method}.npz."""

from seedsig.core.progress import summarized
from seedsig.core.rules import run_rule
from seedsig.scoring.reference import reference_cohort


def main(smk):
    reference_cohort(
        smk.input.h5ad,
        list(smk.input.signatures),
        smk.wildcards.method,
        smk.output.reference,
        cohort=smk.params.cohort,
        min_genes=smk.params.min_genes,
        min_fraction=smk.params.min_fraction,
        params=dict(smk.params.method_params),
        threads=smk.threads,
    )


run_rule(snakemake, summarized(main))  # noqa: F821
