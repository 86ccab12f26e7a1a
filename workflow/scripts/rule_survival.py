"""Rule survival: survival.tsv (Cox per SD, random-signature null), km.tsv + logrank.tsv (pre-set cut-points),
cumulative_incidence.tsv (site of relapse)."""

from seedsig.core.progress import summarized
from seedsig.core.rules import run_rule
from seedsig.outcome.stage import survival_cohort


def main(smk):
    score_files = {m: smk.input[m] for m in smk.params.methods}
    survival_cohort(
        smk.input.h5ad,
        score_files,
        list(smk.input.signatures),
        smk.params.focal,
        {k: smk.output[k] for k in ("survival", "km", "logrank", "incidence")},
        settings=dict(smk.params.settings),
        scoring=dict(smk.params.scoring),
        threads=smk.threads,
    )


run_rule(snakemake, summarized(main))  # noqa: F821
