"""Threads: chunks of samples ranked and scored on a thread pool, GSVA's kernel on numba's threads; the numbers never
depend on the thread count (bit for bit), and GSVA's kernel is GSVA's loop."""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import ndtr
from scipy.stats import rankdata

from seedsig.cli import main
from seedsig.core.ranking import rank_columns, sort_positions
from seedsig.core.threads import chunk_bounds, default_threads, resolve_threads
from seedsig.ingest.hgnc import hgnc_table
from seedsig.scoring import methods as scoring
from seedsig.scoring.methods import GSVA_CDF_MAX, GSVA_CDF_RESOLUTION, gsva_density, score
from seedsig.scoring.signatures import Signature

REPO = Path(__file__).resolve().parents[2]
METHODS = ["ssgsea", "singscore", "gsva", "zscore", "mean_z", "plage"]


def test_chunk_bounds_cover_and_never_leave_one_sample_alone():
    for n in range(0, 60):
        for step in (1, 2, 3, 7, 10, 100):
            b = chunk_bounds(n, step)
            assert [i for a, e in b for i in range(a, e)] == list(range(n))
            if step >= 2 and n >= 2:
                assert all(e - a >= 2 for a, e in b)


def test_thread_counts():
    assert resolve_threads(3) == 3 and resolve_threads(None) >= 1
    with default_threads(2):
        assert resolve_threads(None) == 2 and resolve_threads(0) == 2 and resolve_threads(1) == 1


@pytest.mark.parametrize("method", ["average", "min", "max"])
def test_rank_columns_threads_and_scipy(monkeypatch, method):
    import seedsig.core.ranking as ranking

    monkeypatch.setattr(ranking, "RANK_CHUNK_ELEMENTS", 40 * 3)  # chunks of 3 samples
    rng = np.random.default_rng(4)
    x = np.round(rng.normal(size=(40, 23)), 1)  # ties in every column
    x[:, 5] = rng.normal(size=40)  # one tie-free column
    one, two = rank_columns(x, method, threads=1), rank_columns(x, method, threads=2)
    assert np.array_equal(one, two)
    assert np.array_equal(one, rankdata(x, axis=0, method=method))
    x[3, 4] = np.nan  # NaN ranks after every number
    assert rank_columns(x, method, threads=2)[3, 4] == 40


def test_sort_positions_is_the_stable_order():
    rng = np.random.default_rng(1)
    xt = np.round(rng.normal(size=(9, 300)), 1)
    pos = sort_positions(xt, threads=2)
    order = np.argsort(xt, axis=1, kind="stable")
    assert np.array_equal(np.take_along_axis(pos, order, axis=1), np.broadcast_to(np.arange(300), xt.shape))


def _matrix(n_genes=400, n_samples=37, seed=9):
    rng = np.random.default_rng(seed)
    genes = [f"G{i}" for i in range(n_genes)]
    x = pd.DataFrame(np.round(rng.normal(6, 2, size=(n_genes, n_samples)), 2), index=genes)
    sigs = [
        Signature(name="up", genes=tuple(genes[:10]), directions=(1,) * 10),
        Signature(name="signed", genes=tuple(genes[10:40]), directions=(1,) * 15 + (-1,) * 15),
        Signature(name="small", genes=tuple(genes[50:52]), directions=(1, 1)),
    ]
    return x.add_prefix("s"), sigs


@pytest.mark.parametrize("method", METHODS)
def test_scores_do_not_depend_on_threads_or_chunks(monkeypatch, method):
    x, sigs = _matrix()
    whole = score(x, sigs, method, min_genes=1, min_fraction=0, threads=1).scores
    monkeypatch.setattr(scoring, "CHUNK_ELEMENTS", x.shape[0] * 4)  # chunks of 4 samples (the last of 5)
    for threads in (1, 2):
        got = score(x, sigs, method, min_genes=1, min_fraction=0, threads=threads)
        pd.testing.assert_frame_equal(got.scores, whole, check_exact=True)


def _gsva_reference(x: np.ndarray) -> np.ndarray:
    """GSVA 1.46's matrix_density_R (Gaussian kernel) as written in its C code: for j < k, v = (x_j - x_k) / h with
    GSVA's branches and table; sum_j gets the k > j terms, sum_k gets 1 - term; each sum in GSVA's order (the terms
    of the samples before it, then after it), summed one by one (cumsum); the logit with libm's log."""
    table = ndtr(np.arange(GSVA_CDF_RESOLUTION + 1) * GSVA_CDF_MAX / GSVA_CDF_RESOLUTION)
    out = np.empty_like(x)
    for i, (xi, sd) in enumerate(zip(x, x.std(axis=1, ddof=1))):
        n = xi.size
        bw = sd / 4.0
        v = (xi[:, None] - xi[None, :]) / bw
        idx = np.minimum((np.abs(v) / GSVA_CDF_MAX * GSVA_CDF_RESOLUTION), GSVA_CDF_RESOLUTION).astype(int)
        t = table[idx]
        c = np.where(v < -GSVA_CDF_MAX, 0.0, np.where(v > GSVA_CDF_MAX, 1.0, np.where(v < 0, 1.0 - t, t)))
        terms = np.where(np.triu(np.ones((n, n), dtype=bool), 1), c, 1.0 - c.T)  # [j, l]: j's term from pair (j, l)
        acc = np.empty(n)
        for j in range(n):
            acc[j] = np.cumsum(np.concatenate([[table[0]], np.delete(terms[j], j)]))[-1]
        out[i] = [-math.log((1.0 - f) / f) for f in acc / n]  # libm's log, as compiled (numpy's may be an ulp off)
    return out


def _boundary_gene(seed: int) -> np.ndarray:
    """A gene whose samples 0 and 1 differ by a table-index boundary: GSVA's index int(|d / h| / 10 * 10000) and
    the kernel's fast int(|d| * (1000 / h)) differ there, so the kernel must take GSVA's expression."""
    rng = np.random.default_rng(seed)
    x = np.round(rng.normal(5, 2, 12), 3)
    k = int(rng.integers(100, 4000))
    for _ in range(30):  # x1 = x0 + k h / 1000, with h = sd(x) / 4 of the gene as it ends up
        x1 = x[0] + k * (x[None, :].std(axis=1, ddof=1)[0] / 4.0) / 1000.0
        if x1 == x[1]:
            break
        x[1] = x1
    return x


def test_gsva_kernel_is_gsvas_loop_bit_for_bit():
    rng = np.random.default_rng(12)
    x = np.round(rng.normal(6, 2, size=(30, 12)), 3)
    x[:6] = [_boundary_gene(seed) for seed in (26, 30, 42, 54, 56, 62)]
    h = x[:6].std(axis=1, ddof=1) / 4.0
    d = x[:6, 1] - x[:6, 0]
    exact, fast = (
        (np.abs(d / h) / GSVA_CDF_MAX * GSVA_CDF_RESOLUTION).astype(int),
        (np.abs(d) * (1000.0 / h)).astype(int),
    )
    assert (exact != fast).all()  # the kernel's shortcut alone would read the wrong table entry here
    x[6, :5] = x[6, 5]  # ties
    x[7] = [-1.0, 0.0, 1.0] * 4  # differences on exact boundaries (sd = 1)
    x[8] = np.linspace(0, 1, 12) ** 3  # |v| beyond 10 for some pairs
    for threads in (1, 2):
        got = gsva_density(x, "gaussian", threads=threads)
        assert np.array_equal(got, _gsva_reference(x))


def _cli_matrix(tmp_path: Path) -> Path:
    symbols = hgnc_table().query("locus_group == 'protein-coding gene'")["symbol"].tolist()[:600]
    genes = ["IL6", "CXCL8", "FSCN1", "MMP1", *[s for s in symbols if s not in {"IL6", "CXCL8", "FSCN1", "MMP1"}]]
    rng = np.random.default_rng(2)
    expr = pd.DataFrame(rng.normal(7, 2, size=(len(genes), 41)), index=pd.Index(genes, name="gene"))
    f = tmp_path / "expr.tsv"
    expr.add_prefix("s").to_csv(f, sep="\t", float_format="%.6f")
    return f


@pytest.mark.parametrize("method", ["ssgsea", "gsva", "singscore"])
def test_score_cli_threads_one_and_two_write_the_same_bytes(tmp_path, monkeypatch, method):
    f = _cli_matrix(tmp_path)
    monkeypatch.setattr(scoring, "CHUNK_ELEMENTS", 604 * 5)  # several chunks of samples
    sigs = [str(REPO / "config/signatures/self_seeding.tsv"), str(REPO / "config/signatures/organ_metastasis.tsv")]
    outs = []
    for threads in ("1", "2"):
        out = tmp_path / f"scores_{threads}.tsv"
        args = ["score", "--expr", str(f), "--signatures", *sigs, "--method", method, "--out", str(out)]
        assert main([*args, "--threads", threads]) == 0
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    assert (
        main(["score", "--expr", str(f), "--signatures", sigs[0], "--method", method, "--out", str(tmp_path / "d")])
        == 0
    )
