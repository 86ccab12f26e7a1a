"""Single-cell atlases out of core: the .h5ad read a chunk of cells at a time (never whole) gives the in-memory
results (pseudobulk exactly, per-cell scores of every method to rtol 1e-9 with chunks that split a sample's cells),
the same files whatever the chunk size or thread count, with memory bounded by the chunk; the atlas simulator."""

import gzip
import tracemalloc

import anndata as ad
import h5py
import numpy as np
import pandas as pd
import pytest
import scanpy as sc
import scipy.sparse as sp
from helpers.cells import SIGS, make_cells, normalized_whole
from scipy.stats import rankdata

from seedsig.core.errors import SeedsigError
from seedsig.core.tables import write_table, write_table_blocks
from seedsig.ingest.cells import open_cells, ordered_map
from seedsig.ingest.ids import resolve_ids
from seedsig.ingest.inputs import read_expression_input
from seedsig.ingest.single_cell import pseudobulk, read_single_cell
from seedsig.scoring.cell_passes import normalize_log1p, sparse_ranks
from seedsig.scoring.methods import score
from seedsig.scoring.per_cell import cell_scores
from seedsig.scoring.signatures import load_signatures
from seedsig.scoring.stage import cell_scores_cohort
from seedsig.simulate import SHIPPED_SIGNATURE_FILES, default_signature_dir
from seedsig.simulate_atlas import write_single_cell_atlas

ALL = ["ssgsea", "singscore", "zscore", "mean_z", "plage", "score_genes", "gsva", "ucell", "aucell"]


@pytest.fixture(scope="module")
def cells_file(tmp_path_factory):
    a = make_cells(seed=3, n_samples=6, cells=(20, 30))
    p = tmp_path_factory.mktemp("sc") / "cells.h5ad"
    a.write_h5ad(p)
    return a, p


# ------------------------------------------------------------------------------------------- the building blocks
def test_normalize_log1p_is_scanpy_exactly():
    rng = np.random.default_rng(1)
    x = sp.random(300, 200, density=0.1, format="csr", random_state=2, data_rvs=lambda n: rng.integers(1, 60, n))
    x = sp.csr_matrix(x.astype(np.float32))
    x.data[3] = 0.0  # a stored zero stays stored
    x = sp.csr_matrix((x.data, x.indices, x.indptr), shape=x.shape)
    empty = np.flatnonzero(np.diff(x.indptr) == 0)
    a = ad.AnnData(X=sp.csr_matrix(x, dtype=np.float64))
    with pytest.warns(UserWarning) if empty.size else _nothing():
        sc.pp.normalize_total(a, target_sum=1e4)
    sc.pp.log1p(a)
    got = normalize_log1p(x)
    np.testing.assert_array_equal(got.indptr, a.X.indptr)
    np.testing.assert_array_equal(got.data, a.X.data)  # bit for bit
    assert got.nnz == x.nnz and got.dtype == np.float64 and x.dtype == np.float32  # the input is not changed


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize("how", ["average", "min", "min_desc"])
def test_sparse_ranks_equal_dense_ranks(how):
    rng = np.random.default_rng(4)
    dense = rng.integers(0, 4, size=(40, 30)).astype(np.float64) * rng.choice([0.5, 1.0], size=(40, 1))
    dense[:, 7] = 0.0
    dense[3] = 0.0  # a cell without counts
    x = sp.csr_matrix(dense)
    x.data[::5] = 0.0  # stored zeros are zeros
    dense = x.toarray()
    cols = np.array([0, 7, 3, 29, 12])
    got = sparse_ranks(x, cols, how)
    if how == "min_desc":
        ref = np.vstack([rankdata(-row, method="min") for row in dense])
    else:
        ref = np.vstack([rankdata(row, method=how) for row in dense])
    np.testing.assert_array_equal(got, ref[:, cols].T)


def test_ordered_map_keeps_order_and_bounds_the_work_under_way():
    seen = []

    def items():
        for i in range(20):
            seen.append(i)
            yield i

    out = []
    for r in ordered_map(lambda i: i * i, items(), threads=3):
        out.append(r)
        assert len(seen) - len(out) <= 4  # at most threads + 1 drawn and not yet taken
    assert out == [i * i for i in range(20)]


def test_write_table_blocks_same_text_as_write_table(tmp_path):
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(50, 3)) * 10.0 ** rng.integers(-9, 9, size=(50, 3)), columns=list("xyz"))
    df.iloc[3, 1], df.iloc[4, 2], df.iloc[5, 0] = np.nan, -0.0, np.inf
    df.insert(0, "cell", [f"c{i}" for i in range(50)])
    df["n"] = np.arange(50)
    for name in ("a.tsv", "a.tsv.gz"):
        write_table(df, tmp_path / f"whole_{name}")
        n = write_table_blocks(list(df.columns), (df.iloc[i : i + 7] for i in range(0, 50, 7)), tmp_path / name)
        assert n == 50

        def text(p):
            return gzip.open(p).read() if p.name.endswith(".gz") else p.read_bytes()

        assert text(tmp_path / name) == text(tmp_path / f"whole_{name}")
    odd = df.assign(cell=["a\tb"] + [f"c{i}" for i in range(1, 50)])  # quoted by pandas: the slow path, same text
    write_table(odd, tmp_path / "w.tsv")
    write_table_blocks(list(odd.columns), [odd.iloc[:20], odd.iloc[20:]], tmp_path / "b.tsv")
    assert (tmp_path / "b.tsv").read_bytes() == (tmp_path / "w.tsv").read_bytes()
    write_table_blocks(["a", "b"], [], tmp_path / "empty.tsv")
    assert (tmp_path / "empty.tsv").read_text() == "a\tb\n"


# ------------------------------------------------------------------------------------------------- pseudobulk
@pytest.mark.parametrize("chunk", [1, 7, 10_000])
def test_pseudobulk_from_file_in_chunks_equals_in_memory(cells_file, chunk):
    a, p = cells_file
    ref = pseudobulk(a, "sample")
    got = read_single_cell(p, "sample", chunk_cells=chunk, threads=2 if chunk == 7 else 1)
    pd.testing.assert_frame_equal(got.matrix, ref.matrix)
    pd.testing.assert_frame_equal(got.clinical, ref.clinical)
    assert {k: v for k, v in got.info.items() if k != "file"} == {**ref.info, "format": "h5ad"}
    assert got.cells.n_obs == a.n_obs and got.cells.path == p


def test_dense_and_csc_files_read_in_chunks(tmp_path):
    a = make_cells(seed=5, sparse=False)
    a.write_h5ad(tmp_path / "dense.h5ad")
    ref = pseudobulk(a, "sample").matrix
    pd.testing.assert_frame_equal(read_single_cell(tmp_path / "dense.h5ad", "sample", chunk_cells=5).matrix, ref)
    c = a.copy()
    c.layers["counts"] = sp.csc_matrix(c.layers["counts"])
    c.write_h5ad(tmp_path / "csc.h5ad")
    got = read_single_cell(tmp_path / "csc.h5ad", "sample", chunk_cells=5)
    pd.testing.assert_frame_equal(got.matrix, ref)
    assert "csc_matrix" in got.info["note"]


def test_file_errors_name_the_file(tmp_path, cells_file):
    a, p = cells_file
    raw = p.read_bytes()
    (tmp_path / "cut.h5ad").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(SeedsigError, match=r"cut.h5ad' is truncated or corrupt: it cannot be read as an AnnData"):
        read_expression_input(tmp_path / "cut.h5ad", sample_column="sample")
    with h5py.File(tmp_path / "plain.h5", "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(SeedsigError, match=r"plain.h5' cannot be read as an AnnData .h5ad file \(an HDF5 file without"):
        read_expression_input(tmp_path / "plain.h5", format="h5ad", sample_column="sample")
    b = a.copy()
    b.layers["counts"] = b.layers["counts"].copy()
    b.layers["counts"].data[-1] = 2.5  # in the last chunk
    b.write_h5ad(tmp_path / "bad.h5ad")
    with pytest.raises(SeedsigError) as e:
        read_single_cell(tmp_path / "bad.h5ad", "sample", chunk_cells=4)
    with pytest.raises(SeedsigError) as whole:
        pseudobulk(b, "sample", source=f"single-cell file '{tmp_path / 'bad.h5ad'}'")
    assert str(e.value) == str(whole.value)
    assert "holds non-integer values (1 of them, e.g. " in str(e.value) and "2.5" in str(e.value)


# ---------------------------------------------------------------------------------------------- per-cell scores
@pytest.mark.parametrize("method", ALL)
def test_cell_scores_from_file_in_chunks_equal_whole_matrix(cells_file, method):
    a, p = cells_file
    ref = score(normalized_whole(a), SIGS, method)
    n_min = int(a.obs["sample"].value_counts().min())
    chunk = n_min // 2 + 1  # splits every sample's cells
    got = cell_scores(open_cells(p), SIGS, [method], chunk_size=chunk, threads=2)[method]
    np.testing.assert_allclose(got[ref.scores.columns].to_numpy(), ref.scores.to_numpy(), rtol=1e-9, atol=1e-12)
    assert got.index.tolist() == list(a.obs_names) and got["sample"].tolist() == a.obs["sample"].astype(str).tolist()
    cov = pd.DataFrame(got.attrs["coverage"])
    assert cov["scored"].tolist() == ref.coverage["scored"].tolist()


@pytest.fixture(scope="module")
def atlas(tmp_path_factory):
    p = tmp_path_factory.mktemp("atlas") / "atlas.h5ad"
    write_single_cell_atlas(p, n_cells=700, n_samples=6, n_genes=2200, detected_genes=250, seed=3)
    return p


@pytest.mark.parametrize(
    "method", ["ssgsea", "singscore", "zscore", "mean_z", "plage", "score_genes", "ucell", "aucell"]
)
def test_cell_scores_files_independent_of_chunks_and_threads(tmp_path, atlas, method):
    sig_files = [default_signature_dir() / f for f in SHIPPED_SIGNATURE_FILES]
    outs = []
    for chunk, threads in ((45, 1), (45, 2), (1000, 1)):  # 45 splits the samples' cells (116-117 each)
        out = tmp_path / f"{method}_{chunk}_{threads}.tsv.gz"
        cell_scores_cohort("c", atlas, "symbol", "sample", sig_files, method, out, chunk_cells=chunk, threads=threads)
        outs.append(gzip.open(out).read())
    assert outs[0] == outs[1]  # 1 vs 2 threads: byte for byte
    if method != "plage":  # plage sums its Gram matrices chunk by chunk (rounding only)
        assert outs[0] == outs[2]
    table = pd.read_csv(tmp_path / f"{method}_1000_1.tsv.gz", sep="\t", index_col=0)
    assert len(table) == 700 and table["SS"].notna().all() and table["SS"].std() > 0


def test_cell_scores_cohort_scores_the_resolved_symbols(tmp_path):
    a = make_cells(seed=2)
    a.var_names = ["IL6", "IL8", "FSCN1", "MMP1", "CXCL8x"] + list(a.var_names[5:])  # IL8: CXCL8's old symbol
    a.write_h5ad(tmp_path / "sc.h5ad")
    sig = [default_signature_dir() / "self_seeding.tsv"]
    out = tmp_path / "z.tsv.gz"
    cell_scores_cohort("c", tmp_path / "sc.h5ad", "symbol", "sample", sig, "zscore", out, chunk_cells=6)
    got = pd.read_csv(out, sep="\t", index_col=0)
    res = resolve_ids(list(a.var_names), "symbol")
    kept = ~res["status"].isin(["unmapped", "ambiguous"]).to_numpy()  # normalized over the genes that resolve
    sub = a[:, kept].copy()
    sub.var_names = res["symbol"][kept].astype(str).to_numpy()
    assert {"IL6", "CXCL8", "FSCN1", "MMP1"} <= set(sub.var_names) and "CXCL8x" not in set(sub.var_names)
    ref = score(normalized_whole(sub), load_signatures(sig), "zscore").scores
    assert ref["SS"].notna().all() and list(got.columns[:1]) == ["sample"]
    np.testing.assert_allclose(got["SS"].to_numpy(), ref["SS"].to_numpy(), rtol=1e-9)


def test_cell_scores_cohort_one_column_per_symbol_the_one_with_most_counts(tmp_path):
    a = make_cells(seed=2)
    a.var_names = ["IL6", "IL8", "FSCN1", "MMP1", "CXCL8"] + list(a.var_names[5:])  # IL8 and CXCL8: one symbol
    counts = a.layers["counts"].toarray()
    assert counts[:, 4].sum() != counts[:, 1].sum()
    a.write_h5ad(tmp_path / "sc.h5ad")
    sig = [default_signature_dir() / "self_seeding.tsv"]
    out = tmp_path / "z.tsv.gz"
    cell_scores_cohort("c", tmp_path / "sc.h5ad", "symbol", "sample", sig, "zscore", out, chunk_cells=6, threads=2)
    got = pd.read_csv(out, sep="\t", index_col=0)
    res = resolve_ids(list(a.var_names), "symbol")
    loser = "IL8" if counts[:, 1].sum() < counts[:, 4].sum() else "CXCL8"
    kept = ~res["status"].isin(["unmapped", "ambiguous"]).to_numpy() & (np.asarray(a.var_names) != loser)
    sub = a[:, kept].copy()
    sub.var_names = res["symbol"][kept].astype(str).to_numpy()
    ref = score(normalized_whole(sub), load_signatures(sig), "zscore").scores
    np.testing.assert_allclose(got["SS"].to_numpy(), ref["SS"].to_numpy(), rtol=1e-9)


def _peak_bytes(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_grows_with_the_chunk_not_with_the_cells(tmp_path):
    """1,000 and 8,000 cells read 100 at a time: the peak of the pseudobulk and of the per-cell scores (numpy's and
    Python's allocations, traced) stays far below the normalized matrix held whole, and grows by a small fraction of
    what the whole matrix grows (the obs columns of the extra cells), not with the matrix."""
    sig_files = [default_signature_dir() / f for f in SHIPPED_SIGNATURE_FILES]
    peaks, whole = {}, {}
    for n in (1000, 8000):
        p = tmp_path / f"atlas{n}.h5ad"
        info = write_single_cell_atlas(p, n_cells=n, n_samples=8, n_genes=2500, detected_genes=300, seed=1)
        whole[n] = info["nnz"] * 12  # the normalized matrix held whole: float64 values + int32 indices
        cells = open_cells(p)
        out = tmp_path / f"s{n}.tsv.gz"
        read_single_cell(p, "sample", chunk_cells=100)  # warm up (numba, HGNC tables)
        cell_scores_cohort("c", p, "symbol", "sample", sig_files, "ssgsea", out, chunk_cells=100)
        peaks[n] = {
            m: _peak_bytes(
                lambda m=m: cell_scores_cohort("c", p, "symbol", "sample", sig_files, m, out, chunk_cells=100)
            )
            for m in ("ssgsea", "zscore")
        }
        peaks[n]["pseudobulk"] = _peak_bytes(lambda: pseudobulk(cells, "sample", chunk_cells=100))
    for m in peaks[8000]:
        assert peaks[8000][m] < whole[8000] / 5, (m, peaks, whole)
        assert peaks[8000][m] - peaks[1000][m] < (whole[8000] - whole[1000]) / 8, (m, peaks, whole)


# --------------------------------------------------------------------------------------------- the atlas simulator
def test_atlas_is_an_anndata_and_does_not_depend_on_threads(tmp_path):
    state = np.random.get_state()
    one = write_single_cell_atlas(tmp_path / "a1.h5ad", n_cells=1234, n_samples=5, n_genes=2400, detected_genes=200)
    two = write_single_cell_atlas(
        tmp_path / "a2.h5ad", n_cells=1234, n_samples=5, n_genes=2400, detected_genes=200, threads=2
    )
    assert np.random.get_state()[1].tolist() == state[1].tolist()
    assert one == two and one["n_cells"] == 1234 and one["n_samples"] == 5
    a, b = ad.read_h5ad(tmp_path / "a1.h5ad"), ad.read_h5ad(tmp_path / "a2.h5ad")
    assert sp.issparse(a.X) and a.X.dtype == np.float32 and a.shape == (1234, 2400)
    assert (a.X != b.X).nnz == 0
    pd.testing.assert_frame_equal(a.obs, b.obs)
    detected = np.diff(a.X.indptr)
    assert detected.min() == one["detected_genes"]["min"] and 100 <= detected.min() and detected.max() <= 420
    assert abs(np.median(detected) - 200) < 20
    np.testing.assert_array_equal(np.asarray(a.X.sum(axis=1)).ravel(), a.obs["n_counts"].to_numpy())
    counts = a.obs["sample"].value_counts()
    assert counts.max() - counts.min() <= 1 and list(a.obs["sample"].cat.categories) == sorted(counts.index)
    assert {"mfs_months", "er_status", "cell_type"} <= set(a.obs.columns)
    pb = pseudobulk(a, "sample")
    assert "er_status" in pb.clinical.columns and pb.clinical["n_cells"].sum() == 1234


def test_atlas_sizes_refused_with_a_clear_message(tmp_path):
    with pytest.raises(SeedsigError, match=r"--n-cells \(3\) must be at least --n-samples \(5\)"):
        write_single_cell_atlas(tmp_path / "x.h5ad", n_cells=3, n_samples=5)
    with pytest.raises(SeedsigError, match=r"--detected-genes \(1000\) must be between 1 and a quarter of --n-genes"):
        write_single_cell_atlas(tmp_path / "x.h5ad", n_cells=30, n_samples=5, n_genes=3000, detected_genes=1000)
    assert not (tmp_path / "x.h5ad").exists()


def test_cli_simulate_atlas(tmp_path, capsys):
    from seedsig.cli import main

    out = tmp_path / "atlas.h5ad"
    args = ["simulate", "--single-cell", str(out), "--n-cells", "300", "--n-samples", "4", "--n-genes", "2000"]
    assert main([*args, "--detected-genes", "150", "--threads", "2"]) == 0
    assert "300 cells x 2000 genes, 4 samples" in capsys.readouterr().out
    assert ad.read_h5ad(out).n_obs == 300
    with pytest.raises(SystemExit):
        main(["simulate", "--single-cell", str(out), "--detected-genes", "150"])
    assert "only with --single-cell and --n-cells" in capsys.readouterr().err
