"""Readers of GCT, TSV/CSV (plain, nf-core, featureCounts; both orientations), Parquet and bulk h5ad."""

import gzip

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from conftest import shared_file

from seedsig.core.errors import SeedsigError
from seedsig.core.tables import read_matrix
from seedsig.ingest.expression import ExpressionInput
from seedsig.ingest.formats import detect_format, read_gct, read_h5ad_bulk, read_parquet, read_table
from seedsig.ingest.inputs import read_expression_input

MATRIX = pd.DataFrame(
    [[1.5, -2.0, 3.25], [0.0, 7.125, np.nan], [10.0, 11.0, 12.5], [-0.5, 1e-3, 2e5]],
    index=pd.Index(["TP53", "MKI67", "IL6", "CXCL8"], name="gene_id"),
    columns=["s1", "s2", "s3"],
)


def _write(path, text):
    path.write_text(text)
    return path


def _gct12(path, matrix=MATRIX, dims=None, extra=""):
    rows, cols = dims or matrix.shape
    lines = ["#1.2", f"{rows}\t{cols}", "\t".join(["Name", "Description", *matrix.columns])]
    for g, r in matrix.iterrows():
        lines.append("\t".join([g, f"desc {g}", *("NaN" if np.isnan(v) else repr(float(v)) for v in r)]))
    return _write(path, "\n".join(lines) + "\n" + extra)


def _gct13(path, matrix=MATRIX, dims=None, n_desc=2):
    rows, cols = matrix.shape
    dims = dims or (rows, cols, 2, n_desc)
    lines = ["#1.3", "\t".join(map(str, dims)), "\t".join(["id", "symbol", "chrom", *matrix.columns])]
    desc = [
        ("er_status", ["positive", "negative", "na"]),
        ("mfs_months", ["12.5", "40", "7"]),
        ("batch", ["a", "b", "a"]),
    ]
    for name, vals in desc[:n_desc]:
        lines.append("\t".join([name, "na", "na", *vals]))
    for i, (g, r) in enumerate(matrix.iterrows()):
        lines.append("\t".join([f"p{i}", g, f"chr{i + 1}", *("NaN" if np.isnan(v) else repr(float(v)) for v in r)]))
    return _write(path, "\n".join(lines) + "\n")


# --------------------------------------------------------------------------------------------------- GCT
def test_gct12_round_trip_exact(tmp_path):
    got = read_gct(_gct12(tmp_path / "x.gct"))
    assert isinstance(got, ExpressionInput)
    pd.testing.assert_frame_equal(got.matrix, MATRIX, check_names=False)
    assert got.matrix.index.name == "Name"
    assert got.clinical is None
    assert got.row_metadata["Description"].tolist() == [f"desc {g}" for g in MATRIX.index]
    assert (
        got.info["format"] == "gct"
        and got.info["version"] == "1.2"
        and got.info["n_rows"] == 4
        and got.info["n_samples"] == 3
    )


def test_gct13_round_trip_exact_with_descriptors(tmp_path):
    got = read_gct(_gct13(tmp_path / "x.gct"))
    expected = MATRIX.copy()
    expected.index = pd.Index([f"p{i}" for i in range(4)], name="id")
    pd.testing.assert_frame_equal(got.matrix, expected)
    assert got.row_metadata.columns.tolist() == ["symbol", "chrom"]
    assert got.row_metadata["symbol"].tolist() == MATRIX.index.tolist()
    assert got.clinical.index.tolist() == ["s1", "s2", "s3"]
    assert got.clinical["er_status"].tolist()[:2] == ["positive", "negative"] and pd.isna(
        got.clinical.loc["s3", "er_status"]
    )
    assert got.clinical["mfs_months"].tolist() == [12.5, 40.0, 7.0]
    assert got.info["column_descriptors"] == ["er_status", "mfs_months"]


def test_gct_gz_and_dispatch(tmp_path):
    plain = _gct12(tmp_path / "x.gct")
    gz = tmp_path / "y.gct.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    assert detect_format(str(gz)) == "gct"
    pd.testing.assert_frame_equal(read_expression_input(gz).matrix, read_gct(plain).matrix)


def test_gct_unknown_version(tmp_path):
    p = _write(tmp_path / "x.gct", "#1.4\n1\t1\nName\tDescription\ts1\ng\td\t1\n")
    with pytest.raises(SeedsigError, match=r"line 1: '#1.4' is not a GCT version line.*'#1.2' or '#1.3'"):
        read_gct(p)


def test_gct_row_count_disagrees(tmp_path):
    p = _gct12(tmp_path / "x.gct", dims=(6, 3))
    with pytest.raises(SeedsigError) as e:
        read_gct(p)
    msg = str(e.value)
    assert "x.gct" in msg and "line 2 declares 6 data row(s)" in msg and "has 4 data row(s) (lines 4-7)" in msg


def test_gct_column_count_disagrees(tmp_path):
    p = _gct12(tmp_path / "x.gct", dims=(4, 5))
    with pytest.raises(SeedsigError, match=r"x.gct'.*header \(line 3\) has 3 sample column\(s\).*line 2 says 5"):
        read_gct(p)


def test_gct13_column_descriptor_count_disagrees(tmp_path):
    p = _gct13(tmp_path / "x.gct", dims=(4, 3, 2, 3), n_desc=2)
    with pytest.raises(SeedsigError) as e:
        read_gct(p)
    msg = str(e.value)
    assert (
        "line 2 declares 3 column-descriptor line(s)" in msg
        and "the file has 2 (lines 4-5" in msg
        and "fourth number of line 2" in msg
    )


def test_gct13_row_metadata_count_disagrees(tmp_path):
    p = _gct13(tmp_path / "x.gct", dims=(4, 3, 1, 2))
    with pytest.raises(SeedsigError) as e:
        read_gct(p)
    msg = str(e.value)
    assert "has 4 sample column(s) after the id and 1 row-metadata column(s), but line 2 says 3" in msg
    assert "1 id + 2 row-metadata + 3 samples" in msg


def test_gct_non_numeric_value_and_duplicates_and_fields(tmp_path):
    p = _gct12(tmp_path / "x.gct")
    p.write_text(p.read_text().replace("7.125", "high"))
    with pytest.raises(SeedsigError, match=r"line 5, column 's2': value 'high' is not a number"):
        read_gct(p)
    dup = MATRIX.copy()
    dup.index = ["A", "B", "A", "C"]
    with pytest.raises(SeedsigError, match=r"duplicated id\(s\) in the Name column: 'A' on lines 4, 6"):
        read_gct(_gct12(tmp_path / "d.gct", matrix=dup))
    p = _gct12(tmp_path / "f.gct")
    p.write_text(p.read_text().replace("\t10.0", ""))
    with pytest.raises(SeedsigError, match=r"line 6: 4 tab-separated field\(s\), but the header \(line 3\) has 5"):
        read_gct(p)


# ------------------------------------------------------------------------------------------------ tables
def test_table_orientations_identical(tmp_path):
    MATRIX.to_csv(tmp_path / "g.tsv", sep="\t")
    t = MATRIX.T.copy()
    t.index.name = "sample"
    t.to_csv(tmp_path / "s.csv")
    a = read_table(tmp_path / "g.tsv")
    b = read_table(tmp_path / "s.csv", orientation="samples_x_genes")
    pd.testing.assert_frame_equal(a.matrix, b.matrix)
    pd.testing.assert_frame_equal(a.matrix, MATRIX)
    assert b.info["orientation"] == "samples_x_genes"
    c = read_expression_input(tmp_path / "s.csv", orientation="samples_x_genes")
    pd.testing.assert_frame_equal(c.matrix, MATRIX)


def test_table_samples_x_genes_errors_in_file_orientation(tmp_path):
    p = _write(tmp_path / "s.tsv", "sample\tTP53\tTP53\ns1\t1\t2\n")
    with pytest.raises(SeedsigError, match=r"duplicated gene id\(s\) in the header: TP53"):
        read_table(p, orientation="samples_x_genes")
    p = _write(tmp_path / "s2.tsv", "sample\tTP53\tIL6\ns1\t1\t2\ns1\t3\t4\n")
    with pytest.raises(SeedsigError, match=r"duplicated sample id\(s\) in the first column: s1"):
        read_table(p, orientation="samples_x_genes")
    p = _write(tmp_path / "s3.tsv", "sample\tTP53\tIL6\ns1\t1\tx\n")
    with pytest.raises(SeedsigError, match=r"column 'IL6' has non-numeric value 'x' in row 's1'"):
        read_table(p, orientation="samples_x_genes")
    with pytest.raises(SeedsigError, match="orientation 'wide' is not one of"):
        read_table(p, orientation="wide")


def test_nfcore_gene_counts_layout_equals_plain(tmp_path):
    src = shared_file("airway_rnaseq_counts", "airway_counts.tsv.gz")
    plain = read_table(src)
    df = pd.read_csv(src, sep="\t", dtype={"gene_id": str})
    df.insert(1, "gene_name", "SYM" + df["gene_id"].str[-6:])
    nf = tmp_path / "salmon.merged.gene_counts.tsv"
    df.to_csv(nf, sep="\t", index=False)
    got = read_expression_input(nf)
    pd.testing.assert_frame_equal(got.matrix, plain.matrix, check_names=False)
    assert got.info["layout"] == "nf-core/rnaseq merged table"
    assert got.info["annotation_columns"] == ["gene_name"] and got.info["alternative_id_columns"] == ["gene_name"]
    assert got.row_metadata["gene_name"].tolist() == df["gene_name"].tolist()
    assert plain.info["layout"] == "plain" and plain.row_metadata is None
    # featureCounts: '# Program' line, then Geneid Chr Start End Strand Length samples
    fc = df.drop(columns=["gene_name"]).rename(columns={"gene_id": "Geneid"}).head(500)
    for i, c in enumerate(["Chr", "Start", "End", "Strand", "Length"]):
        fc.insert(1 + i, c, ["1", "100", "200", "+", "101"][i])
    path = tmp_path / "counts.txt"
    path.write_text(
        '# Program:featureCounts v2.0.3; Command:"featureCounts" "-a" "x.gtf"\n' + fc.to_csv(sep="\t", index=False)
    )
    got = read_table(path)
    pd.testing.assert_frame_equal(got.matrix, plain.matrix.head(500), check_names=False)
    assert got.info["layout"] == "featureCounts" and got.info["annotation_columns"] == [
        "Chr",
        "Start",
        "End",
        "Strand",
        "Length",
    ]


def test_read_matrix_unchanged_for_plain_tables(tmp_path):
    MATRIX.to_csv(tmp_path / "g.tsv", sep="\t")
    pd.testing.assert_frame_equal(read_matrix(tmp_path / "g.tsv"), MATRIX)


# ------------------------------------------------------------------------------------------------ parquet
def test_parquet_both_orientations_equal_tsv(tmp_path):
    MATRIX.to_csv(tmp_path / "g.tsv", sep="\t")
    tsv = read_table(tmp_path / "g.tsv").matrix
    MATRIX.to_parquet(tmp_path / "index.parquet")  # id as the named index
    MATRIX.reset_index().to_parquet(tmp_path / "col.parquet", index=False)  # id as the first text column
    t = MATRIX.T.copy()
    t.index.name = "sample"
    t.to_parquet(tmp_path / "t.parquet")
    t.reset_index().to_parquet(tmp_path / "t2.pq", index=False)
    for name, orient in (
        ("index.parquet", "genes_x_samples"),
        ("col.parquet", "genes_x_samples"),
        ("t.parquet", "samples_x_genes"),
        ("t2.pq", "samples_x_genes"),
    ):
        got = read_expression_input(tmp_path / name, orientation=orient)
        pd.testing.assert_frame_equal(got.matrix, tsv, check_names=False)
        assert got.info["format"] == "parquet"


def test_parquet_errors(tmp_path):
    df = MATRIX.reset_index()
    df["batch"] = "x"
    df.to_parquet(tmp_path / "a.parquet", index=False)
    with pytest.raises(
        SeedsigError,
        match=r"a.parquet'.*column\(s\) 'batch' are not numeric.*besides the id \('gene_id'\).*one column per sample",
    ):
        read_parquet(tmp_path / "a.parquet")
    d = MATRIX.reset_index()
    d.loc[2, "gene_id"] = "TP53"
    d.to_parquet(tmp_path / "b.parquet", index=False)
    with pytest.raises(SeedsigError, match=r"duplicated gene id\(s\) in 'gene_id': TP53"):
        read_parquet(tmp_path / "b.parquet")
    t = MATRIX.T.reset_index(drop=True)
    t.to_parquet(tmp_path / "c.parquet")
    with pytest.raises(SeedsigError, match="no id column"):
        read_parquet(tmp_path / "c.parquet", orientation="samples_x_genes")
    (tmp_path / "d.parquet").write_text("not parquet")
    with pytest.raises(SeedsigError, match="cannot be read as a Parquet file"):
        read_parquet(tmp_path / "d.parquet")
    nf = MATRIX.reset_index()
    nf.insert(1, "gene_name", ["a", "b", "c", "d"])
    nf.to_parquet(tmp_path / "nf.parquet", index=False)
    got = read_parquet(tmp_path / "nf.parquet")
    pd.testing.assert_frame_equal(got.matrix, MATRIX)
    assert got.row_metadata["gene_name"].tolist() == ["a", "b", "c", "d"]


# --------------------------------------------------------------------------------------------------- h5ad
def _bulk_adata(sparse=False):
    x = np.nan_to_num(MATRIX.to_numpy().T)
    obs = pd.DataFrame(
        {"er_status": pd.Categorical(["positive", None, "negative"]), "mfs_months": [1.0, 2.5, np.nan]},
        index=MATRIX.columns,
    )
    a = ad.AnnData(X=sp.csr_matrix(x) if sparse else x, obs=obs, var=pd.DataFrame(index=MATRIX.index.rename(None)))
    a.layers["counts"] = np.arange(12, dtype=float).reshape(3, 4)
    return a


@pytest.mark.parametrize("sparse", [False, True])
def test_h5ad_bulk_equals_source(tmp_path, sparse):
    a = _bulk_adata(sparse)
    a.write_h5ad(tmp_path / "b.h5ad")
    got = read_expression_input(tmp_path / "b.h5ad")
    expected = MATRIX.fillna(0.0)
    pd.testing.assert_frame_equal(got.matrix, expected, check_names=False)
    assert got.info["sparse"] is sparse and got.info["values"] == "X"
    assert got.clinical["er_status"].tolist()[::2] == ["positive", "negative"] and pd.isna(
        got.clinical.loc["s2", "er_status"]
    )
    assert got.clinical["er_status"].dtype == object
    layer = read_h5ad_bulk(tmp_path / "b.h5ad", layer="counts")
    np.testing.assert_array_equal(layer.matrix.to_numpy(), np.arange(12, dtype=float).reshape(3, 4).T)


def test_h5ad_unknown_layer(tmp_path):
    _bulk_adata().write_h5ad(tmp_path / "b.h5ad")
    with pytest.raises(SeedsigError, match=r"b.h5ad': no layer 'raw'.*Layers are: counts"):
        read_h5ad_bulk(tmp_path / "b.h5ad", layer="raw")
    (tmp_path / "bad.h5ad").write_text("no")
    with pytest.raises(SeedsigError, match="cannot be read as an AnnData"):
        read_h5ad_bulk(tmp_path / "bad.h5ad")


def test_dispatcher_rejects_sample_column_for_tables(tmp_path):
    MATRIX.to_csv(tmp_path / "g.tsv", sep="\t")
    with pytest.raises(SeedsigError, match="sample_column 'sample' is for single-cell .h5ad files"):
        read_expression_input(tmp_path / "g.tsv", sample_column="sample")
    with pytest.raises(SeedsigError, match="format 'xlsx' is not one of"):
        read_expression_input(tmp_path / "g.tsv", format="xlsx")
