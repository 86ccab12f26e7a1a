"""Rule score: one scoring method -> scores/{method}.tsv (+ sidecar JSON with parameters)."""

from seedsig.core.progress import summarized
from seedsig.core.rules import run_rule
from seedsig.scoring.stage import score_cohort


def main(smk):
    score_cohort(
        smk.input.h5ad,
        list(smk.input.signatures),
        smk.wildcards.method,
        smk.output.scores,
        min_genes=smk.params.min_genes,
        min_fraction=smk.params.min_fraction,
        params=dict(smk.params.method_params),
        threads=smk.threads,
        reference=getattr(smk.input, "reference", None),
    )


run_rule(snakemake, summarized(main))  # noqa: F821
