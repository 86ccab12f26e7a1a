"""Rule coverage: genes present / total per signature -> coverage.tsv; coverage + coherence -> signature_qc.tsv."""

from seedsig.core.progress import summarized
from seedsig.core.rules import run_rule
from seedsig.scoring.stage import coverage_cohort


def main(smk):
    coverage_cohort(
        smk.input.h5ad,
        list(smk.input.signatures),
        smk.output.coverage,
        smk.output.qc,
        min_genes=smk.params.min_genes,
        min_fraction=smk.params.min_fraction,
        method=smk.params.qc_method,
        params=dict(smk.params.qc_params),
    )


run_rule(snakemake, summarized(main))  # noqa: F821
