"""A small single-cell AnnData with planted structure (the single-cell tests) and its whole-matrix normalization."""

import anndata as ad
import numpy as np
import pandas as pd
import scanpy as sc
import scipy.sparse as sp

from seedsig.scoring.signatures import Signature

N_GENES = 120
SIGS = [
    Signature("UP6", tuple(f"G{i}" for i in range(6)), (1,) * 6),
    Signature("SIGNED", tuple(f"G{i}" for i in range(6, 14)), (1, 1, 1, 1, -1, -1, -1, -1)),
    Signature("PAIR", ("G20", "G21"), (1, 1)),
    Signature("ONE_OF_FOUR", ("G30", "NOPE1", "NOPE2", "NOPE3"), (1, 1, 1, 1)),
    Signature("WITH_CONST", ("G40", "G41", "G42", "CONST"), (1, 1, 1, 1)),
]


def make_cells(seed=0, n_samples=5, cells=(9, 14), sparse=True):
    rng = np.random.default_rng(seed)
    per = rng.integers(cells[0], cells[1], size=n_samples)
    sample = np.repeat([f"P{i}" for i in range(n_samples)], per)
    n = sample.size
    prog = rng.normal(size=n_samples)[np.repeat(np.arange(n_samples), per)]
    mu = np.exp(rng.normal(0.0, 1.2, size=N_GENES))[None, :] * np.exp(rng.normal(0, 0.3, size=(n, 1)))
    mu[:, :14] *= np.exp(0.8 * prog)[:, None]
    mu[:, 10:14] /= np.exp(1.6 * prog)[:, None]
    mu[:, 20:22] *= np.exp(rng.normal(size=(n, 1)))
    counts = rng.poisson(mu * 3).astype(np.float64)
    genes = [f"G{i}" for i in range(N_GENES - 1)] + ["CONST"]
    counts[:, -1] = 0.0  # a gene constant over all cells
    obs = pd.DataFrame(
        {
            "sample": pd.Categorical(sample),
            "er_status": pd.Categorical(np.where(np.isin(sample, ["P0", "P3"]), "negative", "positive")),
            "age": pd.Series(sample).map({f"P{i}": 40 + i for i in range(n_samples)}).to_numpy(),
            "n_counts": counts.sum(axis=1),
            "cell_type": rng.choice(["tumour", "other"], size=n),
        },
        index=[f"c{i:03d}" for i in range(n)],
    )
    x = sp.csr_matrix(counts) if sparse else counts
    a = ad.AnnData(X=x, obs=obs, var=pd.DataFrame(index=genes))
    a.layers["counts"] = x.copy()
    a.X = sp.csr_matrix(np.log1p(counts)) if sparse else np.log1p(counts)  # X normalized: the counts layer is used
    return a


def normalized_whole(a):
    """The reference: scanpy normalize_total(1e4) + log1p of the counts, genes x cells dense."""
    b = ad.AnnData(
        X=np.asarray(
            a.layers["counts"].toarray() if sp.issparse(a.layers["counts"]) else a.layers["counts"], dtype=np.float64
        ),
        obs=pd.DataFrame(index=a.obs_names),
        var=pd.DataFrame(index=a.var_names),
    )
    sc.pp.normalize_total(b, target_sum=1e4)
    sc.pp.log1p(b)
    return pd.DataFrame(b.X.T, index=a.var_names, columns=a.obs_names)
