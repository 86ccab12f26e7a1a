"""Big bulk cohorts in bounded memory, and threads (issue 16): the chunked code paths give the results of one chunk,
no output depends on the thread count, and no step makes a temporary of the matrix's size."""

import gzip
import tracemalloc

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from conftest import REPO

import seedsig.association.measures as measures
import seedsig.association.prerank as prerank
import seedsig.ingest.checks as checks
import seedsig.normalize.chunks as chunks
import seedsig.normalize.methods as nm
import seedsig.outcome.cox_many as cox_many
import seedsig.scoring.null as null
from seedsig.association.stage import associate_cohort
from seedsig.core.tables import read_clinical, read_matrix
from seedsig.normalize.stage import normalize_cohort
from seedsig.outcome.stage import survival_cohort
from seedsig.scoring.signatures import load_signatures
from seedsig.scoring.stage import score_cohort
from seedsig.simulate import simulate_cohort

SIG_FILES = [
    str(REPO / "config" / "signatures" / f)
    for f in ("self_seeding.tsv", "organ_metastasis.tsv", "msigdb_metastasis.tsv")
]
FOCAL = ["SS", "SS_attraction", "SS_infiltration"]


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    """A simulated counts cohort (2,000 genes x 90 samples) as the ingest step leaves it, normalized and scored."""
    root = tmp_path_factory.mktemp("scale")
    simulate_cohort(root / "sim", seed=3, n_samples=90, n_genes=2000)
    counts = read_matrix(root / "sim" / "counts.tsv.gz")
    clin = read_clinical(root / "sim" / "clinical.tsv").reindex(counts.columns)
    for c in ("relapse_site", "er_status"):
        clin[c] = clin[c].astype("category")
    a = ad.AnnData(X=counts.to_numpy(dtype=np.float64).T, obs=clin, var=pd.DataFrame(index=counts.index))
    a.obs["library_size"] = a.X.sum(axis=1)
    a.uns.update(cohort="sim", data_type="counts", endpoint={"time": "mfs_months", "event": "mfs_event"})
    a.write_h5ad(root / "ingested.h5ad")
    normalize_cohort(
        root / "ingested.h5ad", root / "expression.h5ad", "tmm_logcpm", filter={"method": "filter_by_expr"}
    )
    for m in ("ssgsea", "zscore"):
        score_cohort(root / "expression.h5ad", SIG_FILES, m, root / f"{m}.tsv")
    return root


def _small_chunks(monkeypatch):
    """Chunks of a few genes, samples or rows everywhere, so that every chunked loop runs many times."""
    monkeypatch.setattr(chunks, "CHUNK_ELEMENTS", 2000)
    monkeypatch.setattr(checks, "CHECK_CHUNK_ELEMENTS", 1500)
    monkeypatch.setattr(null, "CHUNK_ELEMENTS", 3000)
    monkeypatch.setattr(measures, "CHUNK_ELEMENTS", 900)
    monkeypatch.setattr(cox_many, "MANY_CHUNK_ELEMENTS", 5000)
    monkeypatch.setattr(prerank, "SPEARMAN_CHUNK_ELEMENTS", 20000)
    monkeypatch.setattr(measures, "NULL_CHUNK_ELEMENTS", 4000)


def _run_stages(root, out, threads: int, n_random: int = 60) -> dict[str, bytes]:
    """associate and survival of the cohort into ``out``: every table's bytes."""
    out.mkdir()
    scores = {m: root / f"{m}.tsv" for m in ("ssgsea", "zscore")}
    targets = [s.name for s in load_signatures(SIG_FILES) if s.name not in FOCAL]
    associate_cohort(
        root / "expression.h5ad", scores, SIG_FILES, FOCAL, targets, out / "correlations.tsv", out / "prerank.tsv",
        out_null=out / "null_correlations.tsv.gz",
        settings={"n_random": n_random, "n_bootstrap": 80, "prerank": {"permutations": 50}},
        threads=threads,
    )  # fmt: skip
    outputs = {k: out / f"{k}.tsv" for k in ("survival", "km", "logrank", "incidence")}
    survival_cohort(
        root / "expression.h5ad", scores, SIG_FILES, FOCAL, outputs, settings={"n_random": n_random}, threads=threads
    )
    # the text of every table (a .gz file's header names its temporary file, so its content is compared)
    return {
        p.name: gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes()
        for p in sorted(out.iterdir())
        if p.suffix in (".tsv", ".gz")
    }


def test_threads_and_chunks_do_not_change_any_output(cohort, tmp_path, monkeypatch):
    """associate + survival with 1 and 2 threads, and with chunks of a few rows: the same bytes in every table."""
    one = _run_stages(cohort, tmp_path / "one", threads=1)
    assert set(one) >= {"correlations.tsv", "prerank.tsv", "null_correlations.tsv.gz", "survival.tsv", "km.tsv"}
    surv = pd.read_csv(tmp_path / "one" / "survival.tsv", sep="\t")
    assert surv["p_random_null"].notna().sum() > 20  # the Cox null ran
    assert pd.read_csv(tmp_path / "one" / "correlations.tsv", sep="\t")["ci_low"].notna().sum() > 20  # bootstrap
    assert _run_stages(cohort, tmp_path / "two", threads=2) == one
    _small_chunks(monkeypatch)
    assert _run_stages(cohort, tmp_path / "chunked", threads=2) == one


def test_normalize_chunked_and_threaded_equals_one_pass(cohort, tmp_path, monkeypatch):
    a = ad.read_h5ad(cohort / "expression.h5ad")
    _small_chunks(monkeypatch)
    normalize_cohort(
        cohort / "ingested.h5ad", tmp_path / "e.h5ad", "tmm_logcpm", filter={"method": "filter_by_expr"}, threads=2
    )
    b = ad.read_h5ad(tmp_path / "e.h5ad")
    assert np.array_equal(a.X, b.X) and np.array_equal(a.layers["counts"], b.layers["counts"])
    pd.testing.assert_frame_equal(a.obs, b.obs)
    assert a.uns["normalization"]["filter"] == b.uns["normalization"]["filter"]


def _peak_mb(fn) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def test_normalize_makes_no_temporary_of_the_matrix_size(monkeypatch):
    """TMM log-CPM of a 4,000 x 500 count matrix (16 MB as float64): the checks, filterByExpr, the factors and
    log-CPM allocate the output and chunk-sized temporaries only (the whole-matrix code held ~10 matrices)."""
    # chunks of 50,000 values (12 samples): TMM's ~20 temporaries per chunk, on 2 threads, stay far below a matrix
    monkeypatch.setattr(chunks, "CHUNK_ELEMENTS", 50_000)
    monkeypatch.setattr(checks, "CHECK_CHUNK_ELEMENTS", 100_000)
    rng = np.random.default_rng(1)
    counts = rng.negative_binomial(3, 0.02, size=(4000, 500)).astype(np.float64)
    df = pd.DataFrame(counts, index=[f"G{i}" for i in range(4000)], columns=[f"S{j}" for j in range(500)])
    matrix_mb = counts.nbytes / 1e6

    def run():
        keep = nm.filter_by_expr(df.to_numpy())
        assert keep.sum() > 3000
        out, _ = nm.normalize_matrix(df, "tmm_logcpm", data_type="counts", threads=2)
        assert out.shape == df.shape

    peak = _peak_mb(run)
    assert peak < 1.6 * matrix_mb, f"peak {peak:.1f} MB for a {matrix_mb:.1f} MB matrix"


def test_random_null_and_cox_null_memory_is_bounded(monkeypatch):
    """1,000 random signatures of a 6,000 x 400 matrix and their Cox fits: beyond the prepared matrix (ranks) and
    the B x samples scores, only chunks (no copy of the matrix: the usable rows are ranked by chunks)."""
    from seedsig.scoring.signatures import Signature

    rng = np.random.default_rng(2)
    x = rng.normal(size=(6000, 400))
    expr = pd.DataFrame(x, index=[f"G{i}" for i in range(6000)], columns=[f"S{j}" for j in range(400)])
    sig = Signature("F", tuple(f"G{i}" for i in range(20)), (1,) * 20)
    B = 1000
    matrix_mb, scores_mb = x.nbytes / 1e6, B * 400 * 8 / 1e6
    monkeypatch.setattr(null, "CHUNK_ELEMENTS", 250_000)  # 2 MB of gathered ranks per chunk
    peak = _peak_mb(lambda: null.random_null_scores(expr, sig, "ssgsea", B, 7, threads=2))
    # the ranks, the scores and their sum, a few temporaries of a chunk per thread; a copy of the matrix would add 19 MB
    assert peak < 1.5 * matrix_mb + 2 * scores_mb + 2 * 4 * 2, peak
    scores = null.random_null_scores(expr, sig, "ssgsea", B, 7)
    t, e = rng.exponential(10, 400), rng.integers(0, 2, 400)
    monkeypatch.setattr(cox_many, "MANY_CHUNK_ELEMENTS", 40_000)
    peak = _peak_mb(lambda: cox_many.cox_univariate_many(scores, t, e, threads=2))
    assert peak < 4 * scores_mb, peak  # two sorted copies and per-chunk arrays (one chunk of all rows: ~12)
