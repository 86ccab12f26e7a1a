"""Rule coverage: genes present / total per signature -> coverage.tsv; coverage + coherence -> signature_qc.tsv."""

from seedsig.pipeline import coverage_cohort, run_rule
from seedsig.progress import summarized


def main(smk):
    coverage_cohort(
        smk.input.h5ad,
        list(smk.input.signatures),
        smk.output.coverage,
        smk.output.qc,
        min_genes=smk.params.min_genes,
        min_fraction=smk.params.min_fraction,
    )


run_rule(snakemake, summarized(main))  # noqa: F821
