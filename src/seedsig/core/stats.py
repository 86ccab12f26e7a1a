"""Small statistics helpers every stage shares: BH q-values, the 97.5% normal quantile, seeds, ranks (the ranking
of genes within samples is :mod:`seedsig.core.ranking`, re-exported here)."""

from __future__ import annotations

import zlib

import numpy as np

from seedsig.core.ranking import rank_columns  # noqa: F401  (re-exported: the ranking of every stage)

# scipy.stats.norm.ppf(0.975), written out: importing scipy.stats costs 0.6 s, paid by every Snakemake process (the
# workflow's config check imports this module), twice per job on a cluster; tests/unit/test_stats.py checks it
Z975 = 1.959963984540054


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
    from scipy import stats

    return stats.rankdata(x, axis=-1)


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
