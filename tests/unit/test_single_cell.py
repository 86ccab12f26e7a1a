"""Single-cell inputs: pseudobulk per sample, per-cell scores (chunked == whole), the simulated single-cell cohort."""

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from helpers.cells import SIGS, make_cells, normalized_whole

from seedsig.core.errors import SeedsigError
from seedsig.ingest.inputs import read_expression_input
from seedsig.ingest.single_cell import pseudobulk
from seedsig.scoring.methods import SCORING_METHODS, score
from seedsig.scoring.per_cell import CHUNKED, cell_scores


def snapshot(a):
    x = a.X.toarray() if sp.issparse(a.X) else np.array(a.X)
    return (
        x.copy(),
        {k: (v.toarray() if sp.issparse(v) else np.array(v)).copy() for k, v in a.layers.items()},
        a.obs.copy(),
        a.var.copy(),
        list(a.obs_names),
    )


def assert_unchanged(a, snap):
    x, layers, obs, var, names = snap
    now = snapshot(a)
    np.testing.assert_array_equal(now[0], x)
    assert now[1].keys() == layers.keys()
    for k in layers:
        np.testing.assert_array_equal(now[1][k], layers[k])
    pd.testing.assert_frame_equal(now[2], obs)
    pd.testing.assert_frame_equal(now[3], var)
    assert now[4] == names


# --------------------------------------------------------------------------------------------- pseudobulk
@pytest.mark.parametrize("sparse", [True, False])
def test_pseudobulk_equals_groupby_sum_and_clinical(sparse):
    a = make_cells(sparse=sparse)
    snap = snapshot(a)
    got = pseudobulk(a, "sample")
    counts = a.layers["counts"].toarray() if sparse else a.layers["counts"]
    expected = (
        pd.DataFrame(counts, index=a.obs_names, columns=a.var_names)
        .groupby(a.obs["sample"].astype(str).to_numpy())
        .sum()
        .T
    )
    pd.testing.assert_frame_equal(got.matrix, expected, check_names=False)
    assert got.matrix.dtypes.eq(np.float64).all()
    assert list(got.clinical.columns) == ["er_status", "age", "n_cells"]
    assert got.clinical.loc["P0", "er_status"] == "negative" and got.clinical.loc["P1", "age"] == 41
    assert got.clinical["n_cells"].to_dict() == a.obs["sample"].value_counts().to_dict()
    assert sorted(got.info["dropped_obs_columns"]) == ["cell_type", "n_counts"]
    assert got.info["values"] == "layers['counts']" and got.cells is a
    assert_unchanged(a, snap)


def test_pseudobulk_independent_of_cell_order():
    a = make_cells()
    perm = np.random.default_rng(1).permutation(a.n_obs)
    b = a[perm].copy()
    x, y = pseudobulk(a, "sample"), pseudobulk(b, "sample")
    pd.testing.assert_frame_equal(x.matrix, y.matrix)
    pd.testing.assert_frame_equal(x.clinical, y.clinical)


def test_pseudobulk_na_sample_cells_left_out():
    a = make_cells()
    s = a.obs["sample"].astype(object)
    s.iloc[:3] = None
    a.obs["sample"] = s
    got = pseudobulk(a, "sample")
    assert got.info["n_cells_without_sample"] == 3 and "3 cell(s) without a sample" in got.info["note"]
    assert int(got.clinical["n_cells"].sum()) == a.n_obs - 3
    keep = a[3:].copy()
    pd.testing.assert_frame_equal(got.matrix, pseudobulk(keep, "sample").matrix)
    a.obs["sample"] = None
    with pytest.raises(SeedsigError, match="no cell has a sample"):
        pseudobulk(a, "sample")


def test_pseudobulk_errors(tmp_path):
    a = make_cells()
    a.write_h5ad(tmp_path / "sc.h5ad")
    with pytest.raises(SeedsigError) as e:
        read_expression_input(tmp_path / "sc.h5ad", sample_column="donor")
    msg = str(e.value)
    assert "sc.h5ad" in msg and "no obs column 'donor'" in msg and "sample, er_status, age, n_counts, cell_type" in msg
    # a layer of log values is not counts
    c = a.copy()
    c.layers["log"] = c.X.copy()
    with pytest.raises(
        SeedsigError, match=r"layers\['log'\] holds non-integer values .*e.g. .* in cell 'c000', gene 'G\d+'"
    ):
        pseudobulk(c, "sample", layer="log")
    b = a.copy()
    del b.layers["counts"]
    with pytest.raises(SeedsigError) as e:
        pseudobulk(b, "sample", source="single-cell file 'x.h5ad'")
    msg = str(e.value)
    assert (
        "single-cell file 'x.h5ad': X holds non-integer values" in msg
        and "single-cell pseudobulk needs raw counts: name the counts layer in the sheet's `layer` column" in msg
    )
    c = a.copy()
    c.layers["neg"] = c.layers["counts"].copy()
    c.layers["neg"].data[0] = -1.0
    with pytest.raises(SeedsigError, match=r"layers\['neg'\] holds negative values"):
        pseudobulk(c, "sample", layer="neg")
    with pytest.raises(SeedsigError, match=r"no layer 'raw'.*Layers are: counts"):
        pseudobulk(a, "sample", layer="raw")


def test_pseudobulk_prefers_the_counts_layer():
    # the counts layer is used by default even when X holds log values
    a = make_cells()
    assert pseudobulk(a, "sample").info["values"] == "layers['counts']"


def test_read_single_cell_dispatch(tmp_path):
    a = make_cells()
    a.write_h5ad(tmp_path / "sc.h5ad")
    got = read_expression_input(tmp_path / "sc.h5ad", sample_column="sample")
    pd.testing.assert_frame_equal(got.matrix, pseudobulk(a, "sample").matrix)
    assert (
        got.info["file"].endswith("sc.h5ad")
        and got.info["mode"] == "single-cell pseudobulk"
        and got.cells.n_obs == a.n_obs
    )
    bulk = read_expression_input(tmp_path / "sc.h5ad")  # without sample_column: bulk (cells as samples)
    assert bulk.matrix.shape == (a.n_vars, a.n_obs)


# -------------------------------------------------------------------------------------------- cell scores
ALL = ["ssgsea", "singscore", "zscore", "mean_z", "plage", "score_genes", "gsva", "ucell", "aucell"]


@pytest.fixture(scope="module")
def cells():
    return make_cells(seed=3)


@pytest.fixture(scope="module")
def whole(cells):
    return normalized_whole(cells)


@pytest.mark.parametrize("method", ALL)
def test_cell_scores_chunked_equal_whole_matrix(cells, whole, method):
    snap = snapshot(cells)
    assert cells.n_obs > 7
    got = cell_scores(cells, SIGS, [method], chunk_size=7)[method]
    assert_unchanged(cells, snap)
    ref = score(whole, SIGS, method)
    assert list(got.columns) == ["sample", *[s.name for s in SIGS]]
    assert got.index.tolist() == list(cells.obs_names) and got.index.name == "cell"
    assert got["sample"].tolist() == cells.obs["sample"].astype(str).tolist()
    np.testing.assert_allclose(got[ref.scores.columns].to_numpy(), ref.scores.to_numpy(), rtol=1e-9, atol=1e-12)
    cov = pd.DataFrame(got.attrs["coverage"])
    assert cov["scored"].tolist() == ref.coverage["scored"].tolist()
    assert cov["reason"].tolist() == ref.coverage["reason"].tolist()
    assert got.attrs["computation"].startswith(CHUNKED[method])
    # one chunk == many chunks
    one = cell_scores(cells, SIGS, method, chunk_size=10_000)[method]
    np.testing.assert_allclose(one.iloc[:, 1:].to_numpy(), got.iloc[:, 1:].to_numpy(), rtol=1e-9, atol=1e-12)


def test_cell_scores_coverage_constant_gene_and_unscored(cells):
    got = cell_scores(cells, SIGS, ["zscore", "ssgsea"], chunk_size=5)
    assert got["zscore"]["ONE_OF_FOUR"].isna().all() and got["ssgsea"]["ONE_OF_FOUR"].isna().all()
    cov = pd.DataFrame(got["zscore"].attrs["coverage"]).set_index("signature")
    assert "CONST (constant)" in cov.loc["WITH_CONST", "missing_genes"]


def test_ssgsea_normalized_chunked_equals_whole(cells, whole):
    got = cell_scores(cells, SIGS, ["ssgsea"], params={"ssgsea": {"normalize": True}}, chunk_size=6)["ssgsea"]
    ref = score(whole, SIGS, "ssgsea", params={"normalize": True}).scores
    np.testing.assert_allclose(got[ref.columns].to_numpy(), ref.to_numpy(), rtol=1e-9)


@pytest.mark.parametrize("method", ["ssgsea", "singscore", "ucell", "aucell"])
def test_single_cell_score_equals_engine_on_that_cell_alone(cells, whole, method):
    got = cell_scores(cells, SIGS, [method], chunk_size=4)[method]
    cell = cells.obs_names[11]
    alone = score(whole[[cell]], SIGS, method).scores
    np.testing.assert_allclose(got.loc[[cell], alone.columns].to_numpy(), alone.to_numpy(), rtol=1e-12)


@pytest.mark.parametrize(
    "method", ["ssgsea", "zscore", "mean_z", "plage", "singscore", "score_genes", "ucell", "aucell"]
)
def test_cell_scores_independent_of_cell_order(cells, method):
    perm = np.random.default_rng(5).permutation(cells.n_obs)
    shuffled = cells[perm].copy()
    a = cell_scores(cells, SIGS, [method], chunk_size=6)[method]
    b = cell_scores(shuffled, SIGS, [method], chunk_size=9)[method]
    pd.testing.assert_frame_equal(a, b.loc[a.index], check_exact=False, rtol=1e-12)


def test_cell_scores_errors(cells):
    with pytest.raises(SeedsigError, match="not one of"):
        cell_scores(cells, SIGS, ["nope"])
    with pytest.raises(SeedsigError, match="has no parameter"):
        cell_scores(cells, SIGS, ["ssgsea"], params={"ssgsea": {"beta": 1}})
    b = cells.copy()
    del b.layers["counts"]
    with pytest.raises(SeedsigError, match="per-cell scores normalize raw counts"):
        cell_scores(b, SIGS, ["ssgsea"])
    from seedsig.scoring import per_cell as scm

    old = scm.GSVA_MAX_CELLS
    scm.GSVA_MAX_CELLS = 10
    try:
        with pytest.raises(SeedsigError, match="gsva estimates each gene's density over all cells"):
            cell_scores(cells, SIGS, ["gsva"])
    finally:
        scm.GSVA_MAX_CELLS = old


def test_every_method_has_a_cell_mode():
    assert set(CHUNKED) == set(SCORING_METHODS)


# ------------------------------------------------------------------------------------------ simulated data
@pytest.fixture(scope="module")
def simulated():
    from seedsig.simulate import simulate_single_cell

    return simulate_single_cell(seed=11, cells_per_sample=60)


def test_simulate_single_cell_structure(simulated):
    from seedsig.simulate import simulate_single_cell

    a = simulated
    assert a.n_obs == 12 * 60 and a.n_vars == 3000
    assert sp.isspmatrix_csr(a.X) and sp.isspmatrix_csr(a.layers["counts"])
    np.testing.assert_array_equal(a.X.toarray(), a.layers["counts"].toarray())
    assert set(a.obs["cell_type"]) == {"tumour", "other"}
    pb = pseudobulk(a, "sample")
    assert {"er_status", "mfs_months", "mfs_event", "age", "n_cells"} <= set(pb.clinical.columns)
    assert "n_counts" in pb.info["dropped_obs_columns"]
    state = np.random.get_state()
    again = simulate_single_cell(seed=11, cells_per_sample=60)
    assert np.random.get_state()[1].tolist() == state[1].tolist()
    np.testing.assert_array_equal(again.layers["counts"].toarray(), a.layers["counts"].toarray())


def test_simulated_pseudobulk_scores_follow_the_programme(simulated):
    from seedsig.ingest.ids import resolve_ids
    from seedsig.scoring.signatures import load_signatures
    from seedsig.simulate import SHIPPED_SIGNATURE_FILES, default_signature_dir

    pb = pseudobulk(simulated, "sample").matrix
    sigs = load_signatures([default_signature_dir() / f for f in SHIPPED_SIGNATURE_FILES])
    genes = {g for s in sigs for g, r in zip(s.genes, s.resolution) if r not in ("unmapped", "ambiguous")}
    symbols = resolve_ids(list(pb.index), "symbol")["symbol"].tolist()
    assert genes <= set(symbols)
    logcpm = np.log2(pb / pb.sum() * 1e6 + 1)
    s = score(logcpm, sigs, "ssgsea", row_symbols=symbols).scores
    latent = pd.Series(simulated.uns["simulation"]["latent_ss"])
    assert s["SS"].std() > 0
    assert s["SS"].corr(latent, method="spearman") > 0.8
    assert s["SS"].corr(s["LMS"], method="spearman") > 0.3


def test_cli_simulate_single_cell(tmp_path):
    from seedsig.cli import main

    out = tmp_path / "sc" / "single_cell.h5ad"
    assert main(["simulate", "--single-cell", str(out), "--seed", "4", "--cells-per-sample", "10"]) == 0
    a = ad.read_h5ad(out)
    assert a.n_obs == 120 and a.uns["simulation"]["seed"] == 4
    assert [p.name for p in out.parent.iterdir()] == ["single_cell.h5ad"]
