"""Rule simulate_example: write the built-in simulated cohort (seedsig.simulate)."""

from pathlib import Path

from seedsig.core.rules import run_rule


def main(smk):
    from seedsig.simulate import simulate_cohort

    out_dir = Path(smk.output.counts).parent
    simulate_cohort(
        out_dir,
        seed=smk.params.seed,
        n_samples=smk.params.n_samples,
        n_genes=smk.params.n_genes,
        signature_dir=smk.params.signature_dir,
    )


run_rule(snakemake, main)  # noqa: F821
