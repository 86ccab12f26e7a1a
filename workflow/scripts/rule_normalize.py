"""Rule normalize: filter low-expression genes (counts) and normalize X (counts kept in layers['counts'])."""

from seedsig.core.progress import summarized
from seedsig.core.rules import run_rule
from seedsig.normalize.stage import normalize_cohort


def main(smk):
    normalize_cohort(
        smk.input.h5ad,
        smk.output[0],
        smk.params.method,
        smk.params.prior_count,
        filter=dict(smk.params.filter),
        gene_lengths=smk.input.get("gene_lengths"),
        pseudocount=smk.params.pseudocount,
        size_factors=smk.params.size_factors,
        threads=smk.threads,
    )


run_rule(snakemake, summarized(main))  # noqa: F821
