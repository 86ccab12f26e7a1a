"""Bad input that only a running rule meets: one clear message naming the file and the row/column, non-zero exit, no
partial output in results/, inputs untouched (the sheet/config-only cases are tests/unit/test_bad_input.py)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import GENES, expect_failure, run_snakemake, write_cohort

pytestmark = pytest.mark.slow


def test_valid_tiny_cohort_runs(wd):
    files = write_cohort(wd)
    run_snakemake(wd, "--configfile", str(files["config"]))
    corr = pd.read_csv(wd / "results" / "tiny" / "correlations.tsv", sep="\t")
    assert set(corr["method"]) == {"ssgsea", "zscore"}
    scored = corr[corr["r"].notna()]
    assert len(scored) and (scored["n"] == 24).all()
    cov = pd.read_csv(wd / "results" / "tiny" / "coverage.tsv", sep="\t").set_index("signature")
    assert cov.loc["SS", "n_present"] == 4  # IL8 resolved to CXCL8
    assert (
        not bool(cov.loc["SMID_RELAPSE_BONE", "scored"]) and "genes present" in cov.loc["SMID_RELAPSE_BONE", "reason"]
    )


def test_duplicated_sample_ids(wd):
    def dup(p):
        lines = p.read_text().splitlines()
        header = lines[0].split("\t")
        header[2] = header[1]
        p.write_text("\n".join(["\t".join(header)] + lines[1:]) + "\n")

    files = write_cohort(wd, counts_edit=dup)
    expect_failure(wd, files, "duplicated sample id", "P00", str(files["counts"]))


def test_duplicated_gene_ids(wd):
    def dup(p):
        lines = p.read_text().splitlines()
        p.write_text("\n".join(lines + [lines[3]]) + "\n")

    files = write_cohort(wd, counts_edit=dup)
    expect_failure(wd, files, "duplicated gene id", "FSCN1")


def test_non_numeric_counts(wd):
    def text(p):
        p.write_text(p.read_text().replace("\n", "\nBADGENE\t" + "\t".join(["x"] * 24) + "\n", 1))

    files = write_cohort(wd, counts_edit=text)
    expect_failure(wd, files, "non-numeric value 'x'", "BADGENE")


def test_negative_counts(wd):
    def neg(p):
        lines = p.read_text().splitlines()
        f = lines[5].split("\t")
        f[3] = "-5"
        lines[5] = "\t".join(f)
        p.write_text("\n".join(lines) + "\n")

    files = write_cohort(wd, counts_edit=neg)
    expect_failure(wd, files, "negative count", "sample 'P02'", "log_expression")


def test_clinical_samples_do_not_match(wd):
    def rename(p):
        p.write_text(p.read_text().replace("P05\t", "Q05\t"))

    files = write_cohort(wd, clinical_edit=rename)
    expect_failure(wd, files, "Q05", "not columns of the expression matrix", str(files["clinical"]))


def test_clinical_time_with_text(wd):
    def text(p):
        df = pd.read_csv(p, sep="\t")
        df["months"] = df["months"].astype(object)
        df.loc[3, "months"] = "twelve"
        df.to_csv(p, sep="\t", index=False)

    files = write_cohort(wd, clinical_edit=text)
    expect_failure(wd, files, "column 'months'", "'twelve'", "P03", "not a number")


INGESTED = (
    "tiny/ingested.h5ad",
    "tiny/gene_mapping.tsv",
    "tiny/gene_mapping.json",
    "tiny/clinical.tsv",
    "tiny/clinical.json",
)  # the ingest rule finished; normalize failed


def _probe_cohort(wd: Path, annotation_text: str) -> dict:
    files = write_cohort(wd)
    probes = [f"{i}_at" for i in range(len(GENES))]
    counts = pd.read_csv(files["counts"], sep="\t", index_col=0)
    counts.index = pd.Index(probes, name="ID_REF")
    counts.to_csv(files["counts"], sep="\t")
    ann = wd / "data" / "GPLX.tsv"
    ann.write_text(annotation_text.format(rows="\n".join(f"{p}\t{g}" for p, g in zip(probes, GENES))))
    files["annotation"] = ann
    files["sheet"].write_text(
        "cohort\texpression\tdata_type\tgene_id\tclinical\ttime\tevent\tplatform_annotation\n"
        f"tiny\t{files['counts']}\tintensity\tprobe\t{files['clinical']}\tmonths\trelapse\t{ann}\n"
    )
    return files


def test_platform_annotation_without_a_gene_column(wd):
    files = _probe_cohort(wd, "ID\tDescription\n{rows}\n")
    expect_failure(wd, files, "platform annotation", "GPLX.tsv", "Description")


def test_probe_cohort_runs_and_maps_old_symbols(wd):
    files = _probe_cohort(wd, "ID\tGene Symbol\n{rows}\n")
    run_snakemake(wd, "--configfile", str(files["config"]))
    mapping = pd.read_csv(wd / "results" / "tiny" / "gene_mapping.tsv", sep="\t").set_index("input_id")
    assert (
        mapping.loc["1_at", "symbol"] == "CXCL8" and mapping.loc["9_at", "symbol"] == "CCN2"
    )  # IL8, CTGF via previous symbols


def test_gene_lengths_for_other_genes(wd):
    files = write_cohort(wd)
    lengths = wd / "data" / "lengths.tsv"
    lengths.write_text("gene\tlength\n" + "\n".join(f"OTHER{i}\t{1000 + i}" for i in range(30)) + "\n")
    files["lengths"] = lengths
    files["config"].write_text(
        files["config"].read_text() + f"normalize:\n  counts: [tpm, log2]\n  gene_lengths: {lengths}\n"
    )
    expect_failure(wd, files, "none of the", "has a length", "cohort 'tiny'", completed=INGESTED)


def test_non_integer_counts_with_deseq2(wd):
    def frac(p):
        df = pd.read_csv(p, sep="\t", index_col=0).astype(float)
        df.iloc[4, 3] = 210.5
        df.to_csv(p, sep="\t")

    files = write_cohort(wd, counts_edit=frac)
    files["config"].write_text(files["config"].read_text() + "normalize:\n  counts: deseq2_vst\n")
    expect_failure(
        wd, files, "DESeq2 models integer counts", "gene 'ID1'", "sample 'P03'", "tmm_logcpm", completed=INGESTED
    )


def test_logged_values_declared_as_intensity(wd):
    def logged(p):
        df = pd.read_csv(p, sep="\t", index_col=0)
        np.log2(df + 0.5).to_csv(p, sep="\t")

    files = write_cohort(wd, counts_edit=logged)
    files["sheet"].write_text(files["sheet"].read_text().replace("\tcounts\t", "\tintensity\t"))
    expect_failure(wd, files, "declared as intensity", "log_expression")


def test_all_na_rows_are_removed_and_reported(wd):
    def na_row(p):
        np.log2(pd.read_csv(p, sep="\t", index_col=0) + 1).to_csv(
            p, sep="\t"
        )  # log-scale values, as the sheet declares
        lines = p.read_text().splitlines()
        p.write_text("\n".join(lines + ["EMPTYGENE\t" + "\t".join(["NA"] * 24)]) + "\n")

    files = write_cohort(wd, counts_edit=na_row)
    files["sheet"].write_text(files["sheet"].read_text().replace("\tcounts\t", "\tlog_expression\t"))
    proc = run_snakemake(wd, "--configfile", str(files["config"]))
    mapping = pd.read_csv(wd / "results" / "tiny" / "gene_mapping.tsv", sep="\t").set_index("input_id")
    assert "row removed" in mapping.loc["EMPTYGENE", "detail"] and not mapping.loc["EMPTYGENE", "kept"]
    assert "every value missing removed" in proc.stdout + proc.stderr


def test_tpm_with_a_length_table_runs(wd):
    files = write_cohort(wd)
    lengths = wd / "data" / "lengths.tsv"
    # keyed by current symbols: IL8 / CTGF rows find their lengths through the symbol they resolve to
    names = ["CXCL8" if g == "IL8" else "CCN2" if g == "CTGF" else g for g in GENES]
    lengths.write_text("gene\tlength\n" + "\n".join(f"{g}\t{1000 + 10 * i}" for i, g in enumerate(names)) + "\n")
    files["config"].write_text(
        files["config"].read_text()
        + f"normalize:\n  counts: [tpm, log2]\n  gene_lengths: {lengths}\n  filter:\n    method: none\n"
    )
    run_snakemake(wd, "--configfile", str(files["config"]))
    import anndata as ad

    a = ad.read_h5ad(wd / "results" / "tiny" / "expression.h5ad")
    assert a.uns["normalization"]["method"] == "tpm+log2" and a.n_vars == len(GENES)
    counts = pd.read_csv(files["counts"], sep="\t", index_col=0)
    rate = counts["P00"].to_numpy() / np.array([1000 + 10 * i for i in range(len(GENES))])
    expect = pd.Series(np.log2(rate / rate.sum() * 1e6 + 1), index=names)
    np.testing.assert_allclose(a[:, "CXCL8"].X[0, 0], expect["CXCL8"], rtol=1e-12)
    np.testing.assert_allclose(a[:, "RPL3"].X[0, 0], expect["RPL3"], rtol=1e-12)
