"""Small statistics helpers every stage shares: BH q-values, the 97.5% normal quantile, seeds, ranks."""

from __future__ import annotations

import zlib

import numpy as np
from scipy import stats

Z975 = stats.norm.ppf(0.975)

RANK_CHUNK_ELEMENTS = 20_000_000  # genes x samples per chunk when ranking (bounded memory)


# ------------------------------------------------------------------------------------------ helpers
def bh_qvalues(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (R ``p.adjust(method="BH")``); NA stays NA."""
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(p, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        q[ok] = multipletests(p[ok], method="fdr_bh")[1]
    return q


def stable_seed(seed: int, *keys: str) -> int:
    """A seed derived from ``seed`` and text keys, the same in every run and process (crc32 of the keys through
    ``np.random.SeedSequence``; Python's ``hash()`` is salted per process)."""
    return int(np.random.SeedSequence([int(seed), *(zlib.crc32(str(k).encode()) for k in keys)]).generate_state(1)[0])


def corr_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson r of each row of ``x`` (B x n) with ``y`` (n or B x n), as row-wise dot products of centered
    rows. A constant row gives NA."""
    x = np.atleast_2d(np.asarray(x, dtype=float))
    y = np.asarray(y, dtype=float)
    const = (x.max(axis=-1) == x.min(axis=-1)) | (y.max(axis=-1) == y.min(axis=-1))
    xc = x - x.mean(axis=-1, keepdims=True)
    yc = y - y.mean(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (xc * yc).sum(axis=-1) / np.sqrt((xc * xc).sum(axis=-1) * (yc * yc).sum(axis=-1))
    return np.where(const, np.nan, np.clip(r, -1.0, 1.0))


def ranks(x: np.ndarray) -> np.ndarray:
    """Ranks along the last axis, ties averaged."""
    return stats.rankdata(x, axis=-1)


RANK_CHUNK_ELEMENTS = 20_000_000  # genes x samples per chunk when ranking (bounded memory)


# ------------------------------------------------------------------------------------------- ranking
def rank_columns(x: np.ndarray, method: str = "average") -> np.ndarray:
    """Ranks (1..n) of each column with ties 'average', 'min' or 'max' (as scipy.stats.rankdata), float64.

    One argsort per chunk of columns plus vectorized tie runs (scipy's rankdata with axis loops over
    columns in Python); chunks of samples keep memory bounded for 20,000 x 10,000."""
    n, m = x.shape
    out = np.empty((m, n), dtype=np.float64)  # samples x genes: sorting along contiguous rows is fast
    step = max(1, RANK_CHUNK_ELEMENTS // max(n, 1))
    pos = np.arange(1, n + 1, dtype=np.float64)[None, :]
    for a in range(0, m, step):
        xa = np.ascontiguousarray(x[:, a : a + step].T)
        order = np.argsort(xa, axis=1)  # ties get one rank whatever their order: no need for a stable sort
        xs = np.take_along_axis(xa, order, axis=1)
        same_as_prev = np.zeros(xs.shape, dtype=bool)
        same_as_prev[:, 1:] = xs[:, 1:] == xs[:, :-1]
        if not same_as_prev.any():  # tie-free: the position is the rank
            r = np.broadcast_to(pos, xs.shape)
        else:
            if method in ("average", "min"):
                first = np.maximum.accumulate(np.where(same_as_prev, 0.0, pos), axis=1)
            if method in ("average", "max"):
                same_as_next = np.zeros(xs.shape, dtype=bool)
                same_as_next[:, :-1] = same_as_prev[:, 1:]
                last = np.minimum.accumulate(np.where(same_as_next, n + 1.0, pos)[:, ::-1], axis=1)[:, ::-1]
            r = (first + last) / 2.0 if method == "average" else (first if method == "min" else last)
        np.put_along_axis(out[a : a + step], order, r, axis=1)
    return out.T


# ------------------------------------------------------------------------------- random-signature null p
NULL_TIE_TOLERANCE = 1e-12


def empirical_null_p(observed: float, null) -> float:
    """Two-sided empirical p of a statistic against its random-signature null (Venet et al. 2011):
    (b + 1) / (B + 1), B = the finite null values, b = those at least as extreme, |null| >= |observed|.
    The one tie rule of every random-signature null (correlations and Cox z): a null value within
    1e-12 x max(1, |observed|) below |observed| counts as a tie, so that a random signature equal to the observed one
    counts whatever rounding its statistic went through. NA when the observed value is NA or no null value is
    finite."""
    x = float(observed) if observed is not None else np.nan
    null = np.asarray(null, dtype=float).ravel()
    null = null[np.isfinite(null)]
    if not np.isfinite(x) or null.size == 0:
        return np.nan
    b = int((np.abs(null) >= abs(x) - NULL_TIE_TOLERANCE * max(1.0, abs(x))).sum())
    return (b + 1.0) / (null.size + 1.0)
