"""Rule meta: results/meta/correlations.tsv and survival.tsv (random- and fixed-effect pooling across cohorts)."""

from seedsig.core.progress import summarized
from seedsig.core.rules import run_rule
from seedsig.meta.stage import meta_run


def main(smk):
    meta_run(
        dict(zip(smk.params.cohorts, smk.input.correlations)),
        dict(zip(smk.params.cohorts, smk.input.survival)),
        smk.output.correlations,
        smk.output.survival,
        survival_sidecars=dict(zip(smk.params.cohorts, smk.input.survival_json)),
    )


run_rule(snakemake, summarized(main))  # noqa: F821
