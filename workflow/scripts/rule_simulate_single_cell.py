"""Rule simulate_single_cell_example: the built-in simulated single-cell cohort (seedsig.simulate)."""

from seedsig.core.progress import summarized
from seedsig.core.rules import run_rule


def main(smk):
    from seedsig.core.cohort import write_h5ad
    from seedsig.simulate import simulate_single_cell

    write_h5ad(simulate_single_cell(seed=smk.params.seed), smk.output[0])


run_rule(snakemake, summarized(main))  # noqa: F821
