"""Chunks of genes or samples for the normalization methods: every step works on slices of a count matrix of about
:data:`CHUNK_ELEMENTS` values, so a 20,000 x 10,000 matrix needs no temporary of its size."""

from __future__ import annotations

import numpy as np

CHUNK_ELEMENTS = 2_000_000  # values per chunk of genes or samples (16 MB; TMM holds ~10 such per thread)


def column_chunks(n_rows: int, n_cols: int) -> list[slice]:
    """Chunks of columns of about CHUNK_ELEMENTS values, none of one column unless the matrix has one (a column sum
    over a (rows x 1) block would be summed pairwise, over wider blocks row by row as over the whole matrix)."""
    step = max(2, CHUNK_ELEMENTS // max(n_rows, 1))
    starts = list(range(0, n_cols, step))
    if len(starts) > 1 and n_cols - starts[-1] == 1:
        starts.pop()
    return [slice(a, starts[i + 1] if i + 1 < len(starts) else n_cols) for i, a in enumerate(starts)]


def row_chunks(n_rows: int, n_cols: int) -> list[slice]:
    """Chunks of rows of about CHUNK_ELEMENTS values."""
    step = max(1, CHUNK_ELEMENTS // max(n_cols, 1))
    return [slice(a, min(a + step, n_rows)) for a in range(0, n_rows, step)]


def per_sample_chunks(counts: np.ndarray, fn) -> np.ndarray:
    """``fn(counts[:, cols] as float64, cols)`` of an elementwise transform over chunks of samples, into a genes x
    samples view of a samples x genes C-order array (what an AnnData's X holds): no temporary of the matrix's size."""
    counts = np.asarray(counts)
    out = np.empty((counts.shape[1], counts.shape[0]))
    for cols in column_chunks(*counts.shape):
        out[cols] = fn(np.asarray(counts[:, cols], dtype=np.float64), cols).T
    return out.T
