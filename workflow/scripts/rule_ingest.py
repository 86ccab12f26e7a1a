"""Rule ingest: matrix + clinical -> AnnData with current HGNC symbols; gene_mapping.tsv."""

from seedsig.pipeline import ingest_cohort, run_rule


def main(smk):
    row = smk.params.row
    ingest_cohort(
        row["cohort"],
        smk.input.expression,
        row["data_type"],
        row["gene_id"],
        smk.output.h5ad,
        smk.output.mapping,
        clinical=smk.input.get("clinical"),
        time=row["time"] or None,
        event=row["event"] or None,
        collapse=smk.params.collapse,
        platform_annotation=smk.input.get("platform_annotation"),
    )


run_rule(snakemake, main)  # noqa: F821
