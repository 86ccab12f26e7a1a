"""Rule contributions: per-gene contributions of one scoring method -> contributions/{method}.tsv (+ sidecar)."""

from seedsig.core.progress import summarized
from seedsig.core.rules import run_rule
from seedsig.scoring.stage import contributions_cohort


def main(smk):
    contributions_cohort(
        smk.input.h5ad,
        list(smk.input.signatures),
        smk.wildcards.method,
        smk.output.contributions,
        select=smk.params.select,
        min_genes=smk.params.min_genes,
        min_fraction=smk.params.min_fraction,
        params=dict(smk.params.method_params),
        threads=smk.threads,
    )


run_rule(snakemake, summarized(main))  # noqa: F821
