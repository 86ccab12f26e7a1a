"""Rule cell_scores: per-cell scores of a single-cell cohort (scanpy-style normalization, the scoring engine)."""

from seedsig.core.progress import summarized
from seedsig.core.rules import run_rule
from seedsig.scoring.stage import cell_scores_cohort


def main(smk):
    row = smk.params.row
    cell_scores_cohort(
        row["cohort"],
        smk.input.expression,
        row["gene_id"],
        row["sample_column"],
        list(smk.input.signatures),
        smk.wildcards.method,
        smk.output.cell_scores,
        layer=row["layer"] or None,
        min_genes=smk.params.min_genes,
        min_fraction=smk.params.min_fraction,
        params=smk.params.method_params,
        chunk_cells=smk.params.chunk_cells,
        threads=smk.threads,
    )


run_rule(snakemake, summarized(main))  # noqa: F821
