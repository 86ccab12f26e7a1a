"""numba kernels of the per-cell passes (imported only when cells are scored: numba loads in ~1 s). Compiled once
and cached on disk (numba's cache beside this file, else in the user's cache directory; where neither is writable,
compiled in each process); they release the GIL, so chunks of cells run them in threads."""

from __future__ import annotations

import numpy as np
from numba import njit


def _jit(fn):
    try:
        return njit(nogil=True, cache=True)(fn)
    except RuntimeError:  # numba finds no writable cache directory
        return njit(nogil=True)(fn)


@_jit
def scale_rows(indptr, data, target):  # pragma: no cover - compiled
    """Each row of a CSR matrix divided by its total / target, in place: scanpy's normalize_total arithmetic (the
    total summed in stored order; a row without counts is left as it is)."""
    for i in range(indptr.size - 1):
        total = 0.0
        for j in range(indptr[i], indptr[i + 1]):
            total += data[j]
        f = total / target
        if f == 0.0:
            f = 1.0
        for j in range(indptr[i], indptr[i + 1]):
            data[j] = data[j] / f


@_jit
def rank_genes(indptr, indices, data, where, n_genes, how, out):  # pragma: no cover - compiled
    """Ranks of the queried genes (``where[gene]`` = their row in ``out``, -1 for the others) in each row (cell) of a
    CSR matrix of non-negative values among ``n_genes``: zeros tied at the bottom, the positive values sorted.
    ``how``: 0 increasing with ties averaged, 1 increasing with ties 'min', 2 'min' ranks of minus the values."""
    for i in range(indptr.size - 1):
        a, b = indptr[i], indptr[i + 1]
        vals = data[a:b]
        s = np.sort(vals[vals > 0])
        m = s.size
        zeros = n_genes - m
        zero_rank = (zeros + 1) / 2.0 if how == 0 else (1.0 if how == 1 else m + 1.0)
        out[:, i] = zero_rank
        for t in range(a, b):
            q = where[indices[t]]
            v = data[t]
            if q >= 0 and v > 0:
                lo = np.searchsorted(s, v, side="left")  # first position of v's tie group (0-based)
                hi = np.searchsorted(s, v, side="right") - 1  # its last position
                if how == 0:
                    out[q, i] = zeros + (lo + hi) / 2.0 + 1.0
                elif how == 1:
                    out[q, i] = zeros + lo + 1.0
                else:
                    out[q, i] = m - hi


@_jit
def ordinal_ranks_desc(indptr, indices, data, where, qkeys, key, out):  # pragma: no cover - compiled
    """Ordinal ranks (1..genes) by decreasing value of the queried genes (``where[gene]`` = their row in ``out``, -1
    for the others; ``qkeys[row]`` = their position in the canonical gene order ``key``) in each row (cell) of a CSR
    matrix of non-negative values: tied values in the canonical order, zeros after every positive value."""
    for i in range(indptr.size - 1):
        a, b = indptr[i], indptr[i + 1]
        m = 0
        for t in range(a, b):
            if data[t] > 0:
                m += 1
        vals = np.empty(m)
        keys = np.empty(m, dtype=np.int64)
        rows = np.empty(m, dtype=np.int64)
        j = 0
        for t in range(a, b):
            if data[t] > 0:
                vals[j] = -data[t]
                keys[j] = key[indices[t]]
                rows[j] = where[indices[t]]
                j += 1
        by_key = np.argsort(keys, kind="mergesort")
        order = by_key[np.argsort(vals[by_key], kind="mergesort")]  # decreasing value, ties by key (stable)
        sorted_keys = keys[by_key]
        for q in range(qkeys.size):  # a zero: after the m positive values, among the zeros in key order
            out[q, i] = m + 1.0 + qkeys[q] - np.searchsorted(sorted_keys, qkeys[q])
        for pos in range(m):
            r = rows[order[pos]]
            if r >= 0:
                out[r, i] = pos + 1.0
