"""Normalization of expression matrices (genes x samples), with edgeR semantics for counts.

Methods (``normalize:`` in the config per data type; ``seedsig normalize --method``):

* ``tmm_logcpm`` (default for counts): edgeR ``calcNormFactors(method="TMM")`` factors (computed with
  rnanorm, which reproduces edgeR's TMM) then ``cpm(log=TRUE, prior.count=2)``.
* ``logcpm``: the same log-CPM without TMM factors (all factors 1).
* ``none``: values pass through unchanged (default for ``log_expression``).

Nothing is filtered here: every gene of the input reaches the output.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .errors import SeedsigError

METHODS = ("tmm_logcpm", "logcpm", "none")
COUNT_METHODS = ("tmm_logcpm", "logcpm")
DEFAULT_PRIOR_COUNT = 2.0


def tmm_factors(counts: np.ndarray) -> np.ndarray:
    """edgeR TMM normalization factors (geometric mean 1) for a genes x samples count matrix."""
    from rnanorm import TMM

    counts = np.asarray(counts, dtype=np.float64)
    # rnanorm works on samples x genes; all-zero genes carry no information for TMM (edgeR drops them too).
    keep = counts.sum(axis=1) > 0
    return np.asarray(TMM().fit(counts[keep].T).get_norm_factors(counts[keep].T), dtype=np.float64)


def log_cpm(counts: np.ndarray, norm_factors: np.ndarray | None = None, prior_count: float = DEFAULT_PRIOR_COUNT) -> np.ndarray:
    """edgeR ``cpm(y, log=TRUE, prior.count=prior_count)`` for a genes x samples count matrix.

    As edgeR: the effective library size is lib.size * norm.factors; the prior count is scaled by each
    sample's effective library size relative to their mean and added to the counts, and twice the
    scaled prior is added to the library size.
    """
    counts = np.asarray(counts, dtype=np.float64)
    lib = counts.sum(axis=0)
    if norm_factors is not None:
        lib = lib * np.asarray(norm_factors, dtype=np.float64)
    prior = prior_count * lib / lib.mean()
    lib_adj = lib + 2.0 * prior
    return np.log2((counts + prior[None, :]) / lib_adj[None, :] * 1e6)


def check_counts(df: pd.DataFrame, where: str) -> None:
    """Raise a clear error for a matrix that cannot be raw counts."""
    values = df.to_numpy()
    nan_rows = np.isnan(values).any(axis=1)
    if nan_rows.any():
        i = int(np.flatnonzero(nan_rows)[0])
        j = int(np.flatnonzero(np.isnan(values[i]))[0])
        raise SeedsigError(f"{where}: count matrix has a missing value (gene '{df.index[i]}', sample '{df.columns[j]}'; {int(nan_rows.sum())} gene row(s) with NA). Counts cannot be missing: use 0 or remove the gene.")
    neg = values < 0
    if neg.any():
        i, j = (int(a[0]) for a in np.nonzero(neg))
        raise SeedsigError(f"{where}: negative count {values[i, j]:g} (gene '{df.index[i]}', sample '{df.columns[j]}'). Counts must be >= 0; if the matrix is log-scale, set data_type to log_expression.")
    if values.size and np.nanmax(values) < 50 and not np.all(np.equal(np.mod(values, 1), 0)):
        raise SeedsigError(f"{where}: declared as counts but all values are below 50 and not whole numbers: this looks like log-scale data. Set data_type to log_expression in the cohort sheet.")
    lib = values.sum(axis=0)
    zero = np.flatnonzero(lib == 0)
    if zero.size:
        raise SeedsigError(f"{where}: sample(s) with zero library size (all counts 0): {', '.join(map(str, df.columns[zero][:10]))}. Remove them from the matrix.")


def normalize_matrix(df: pd.DataFrame, method: str, *, prior_count: float = DEFAULT_PRIOR_COUNT, where: str = "expression") -> tuple[pd.DataFrame, dict[str, Any]]:
    """Normalize a genes x samples DataFrame; returns (normalized, record of method and parameters).

    The output has the input's row and column labels unchanged.
    """
    if method not in METHODS:
        raise SeedsigError(f"normalization method '{method}' is not one of {', '.join(METHODS)}.")
    info: dict[str, Any] = {"method": method}
    if method == "none":
        return df.copy(), info
    check_counts(df, where)
    counts = df.to_numpy(dtype=np.float64)
    factors = tmm_factors(counts) if method == "tmm_logcpm" else np.ones(counts.shape[1])
    out = log_cpm(counts, factors, prior_count)
    info.update(
        {
            "prior_count": prior_count,
            "reference": "edgeR calcNormFactors(method='TMM') + cpm(log=TRUE)" if method == "tmm_logcpm" else "edgeR cpm(log=TRUE), no TMM",
            "norm_factors": dict(zip(map(str, df.columns), factors.tolist())),
            "library_sizes": dict(zip(map(str, df.columns), counts.sum(axis=0).tolist())),
        }
    )
    return pd.DataFrame(out, index=df.index, columns=df.columns), info
