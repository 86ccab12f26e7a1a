"""Rule simulate_single_cell_example: the built-in simulated single-cell cohort (seedsig.simulate)."""

from seedsig.pipeline import run_rule
from seedsig.progress import summarized


def main(smk):
    from seedsig.pipeline import _write_h5ad
    from seedsig.simulate import simulate_single_cell

    _write_h5ad(simulate_single_cell(seed=smk.params.seed), smk.output[0])


run_rule(snakemake, summarized(main))  # noqa: F821
