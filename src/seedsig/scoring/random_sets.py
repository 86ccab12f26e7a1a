"""Random signatures for the random-signature null: :func:`expression_bins` and :func:`matched_random_sets` draw
gene sets of the same size from the same expression bins as a signature, and :func:`random_signature_scores`
scores many of them at once for the methods in :data:`NULL_METHODS` (the kernels of :mod:`seedsig.scoring.methods`).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from seedsig.core.errors import SeedsigError
from seedsig.core.stats import rank_columns
from seedsig.scoring.methods import SCORING_METHODS, _ssgsea_es, standardize, usable_matrix
from seedsig.scoring.signatures import Signature


def expression_bins(means: np.ndarray, n_bins: int = 25) -> np.ndarray:
    """Bin index (0..n_bins-1) of each gene by its mean expression (equal-count bins, as scanpy's controls)."""
    order = np.argsort(means, kind="mergesort")
    bins = np.empty(len(means), dtype=np.int64)
    bins[order] = np.arange(len(means)) * n_bins // max(len(means), 1)
    return bins


def matched_random_sets(bins: np.ndarray, idx: np.ndarray, n_sets: int, rng: np.random.Generator) -> np.ndarray:
    """``n_sets`` random gene sets (rows of row indices) matched to the set ``idx``: the same number of genes
    from each expression bin, distinct within a set, never a gene of ``idx`` itself."""
    out = np.empty((n_sets, idx.size), dtype=np.int64)
    col = 0
    exclude = np.zeros(len(bins), dtype=bool)
    exclude[idx] = True
    for b in np.unique(bins[idx]):
        need = int((bins[idx] == b).sum())
        pool = np.flatnonzero((bins == b) & ~exclude)
        if pool.size < need:  # tiny matrices: widen to all non-set genes
            pool = np.flatnonzero(~exclude)
        keys = rng.random((n_sets, pool.size))
        pick = (
            np.argpartition(keys, need - 1, axis=1)[:, :need]
            if need < pool.size
            else np.tile(np.arange(pool.size), (n_sets, 1))
        )
        out[:, col : col + need] = pool[pick]
        col += need
    return out


NULL_METHODS = ("ssgsea", "zscore", "mean_z", "singscore")


def _null_scores(method: str, prepared: np.ndarray, sets: np.ndarray, p: dict, n_rows: int) -> np.ndarray:
    """Scores of many equal-size sets at once (sets: B x k row indices), chunked to ~64 MB."""
    B, k = sets.shape
    S = prepared.shape[1]
    out = np.empty((B, S))
    step = max(1, int(8e6 // max(k * S, 1)))
    for a in range(0, B, step):
        g = prepared[sets[a : a + step]]  # b x k x S
        if method == "ssgsea":
            out[a : a + step] = _ssgsea_es(g, n_rows, p.get("alpha", 0.25))
        elif method == "zscore":
            out[a : a + step] = g.sum(axis=1) / np.sqrt(k)
        elif method == "mean_z":
            out[a : a + step] = g.mean(axis=1)
        else:  # singscore on 'min' ranks
            low, high = (k + 1) / 2.0, (2 * n_rows - k + 1) / 2.0
            out[a : a + step] = (g.mean(axis=1) - low) / (high - low) - (0.5 if p.get("centered", True) else 0.0)
    return out


def random_signature_scores(
    matrix: pd.DataFrame,
    signature: Signature,
    method: str,
    n: int = 1000,
    seed: int = 0,
    *,
    row_symbols: Sequence[str] | None = None,
    n_bins: int = 25,
    params: dict | None = None,
) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    """Scores of ``n`` random signatures matched to ``signature``'s size and the mean expression of its genes
    (per direction), in every sample: an (n x samples) array and the random gene sets (row labels).

    Vectorized: the matrix is ranked / standardized once and all sets of a size are scored together.
    Seeded with ``np.random.default_rng(seed)``; the global RNG is not touched."""
    if method not in NULL_METHODS:
        raise SeedsigError(f"random-signature nulls support the methods {', '.join(NULL_METHODS)}, not '{method}'.")
    spec = SCORING_METHODS[method]
    p = {**spec.defaults, **(params or {})}
    x, rows, labels = usable_matrix(matrix, row_symbols, spec.drops_constant_genes)
    bins = expression_bins(x.mean(axis=1), n_bins)
    rng = np.random.default_rng(seed)
    parts = []
    for genes, sign in ((signature.up, 1.0), (signature.down, -1.0)):
        idx = np.array(sorted(rows[g] for g in genes if g in rows), dtype=np.int64)
        if idx.size:
            parts.append((idx, sign))
    if not parts:
        raise SeedsigError(
            f"signature '{signature.name}' has no gene in the matrix: no random null can be matched to it."
        )
    if method == "ssgsea":
        prep_up = prep_down = rank_columns(x)
    elif method == "singscore":
        prep_up, prep_down = rank_columns(x, "min"), rank_columns(-x, "min")
    else:
        prep_up = prep_down = standardize(x)
    total = np.zeros((n, x.shape[1]))
    sets_out: list[list[str]] = [[] for _ in range(n)]
    for idx, sign in parts:
        sets = matched_random_sets(bins, idx, n, rng)
        prep = prep_up if sign > 0 else prep_down
        sc = _null_scores(method, prep, sets, p, x.shape[0])
        total += sc if (method == "singscore" or sign > 0) else -sc
        for i in range(n):
            sets_out[i].extend(labels[sets[i]].tolist())
    return total, [tuple(s) for s in sets_out]
