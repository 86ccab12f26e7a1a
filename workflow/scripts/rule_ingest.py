"""Rule ingest: expression input (file or geo: accession) + clinical -> AnnData with current HGNC symbols;
gene_mapping.tsv; clinical.tsv (harmonized)."""

from seedsig.core.progress import summarized
from seedsig.core.rules import run_rule
from seedsig.ingest.stage import ingest_cohort


def main(smk):
    st = smk.params.settings
    row = st["row"]
    ingest_cohort(
        row["cohort"],
        row["expression"],
        row["data_type"],
        row["gene_id"],
        smk.output.h5ad,
        smk.output.mapping,
        out_clinical=smk.output.clinical,
        clinical=row["clinical"] or None,
        time=row["time"] or None,
        event=row["event"] or None,
        collapse=smk.params.collapse,
        platform_annotation=row["platform_annotation"] or None,
        fmt=row["format"],
        orientation=row["orientation"],
        platform=row["platform"] or None,
        layer=row["layer"] or None,
        sample_column=row["sample_column"] or None,
        geo=st["geo"],
        harmonization=st["harmonization"],
        endpoints=st["endpoints"],
        site_column=st["site_column"] or None,
        sites=st["sites"],
        chunk_cells=st["chunk_cells"],
        threads=smk.threads,
    )


run_rule(snakemake, summarized(main))  # noqa: F821
