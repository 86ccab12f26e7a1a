"""The measures behind each row of the correlation table (:mod:`seedsig.association.correlation`): a correlation
and its p, its 95% interval (Fisher z, percentile bootstrap), the overlap of two gene lists, the proliferation
metagene (meta-PCNA) and the partial correlation adjusted for it and for clinical covariates.

Every function takes plain arrays or tables and returns numbers (NA when a data condition leaves the measure
undefined, never an exception for data); randomness comes from ``np.random.default_rng`` seeded by the caller."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from seedsig.core.errors import SeedsigError
from seedsig.core.stats import Z975, corr_rows, ranks
from seedsig.core.threads import check_threads, split, thread_map
from seedsig.scoring.methods import standardize, usable_rows

META_PCNA_FRACTION = 0.01  # Venet et al. 2011: the 1% of genes most positively correlated with PCNA
META_PCNA_EXACT_ELEMENTS = 25_000_000  # genes x samples standardized at once for meta-PCNA (a bigger matrix: chunks)
META_PCNA_MIN_GENES = 10  # floor for small matrices (1% of 2,000 genes would be a median of 20 genes; of 500, of 5)
MIN_SAMPLES = 3  # the least n at which r and its p are defined at all (correlation())
CHUNK_ELEMENTS = 5_000_000  # resamples x samples per chunk of the bootstrap


def correlation_p(r: float, n: int, k: int = 0) -> float:
    """Two-sided p of a (partial) correlation: t = r sqrt(df / (1 - r^2)) with df = n - 2 - k."""
    df = n - 2 - k
    if not np.isfinite(r) or df < 1:
        return np.nan
    if abs(r) >= 1.0:
        return 0.0
    t = r * math.sqrt(df / ((1.0 - r) * (1.0 + r)))
    return float(2.0 * stats.t.sf(abs(t), df))


def correlation(
    a: np.ndarray, b: np.ndarray, statistic: str = "spearman", min_samples: int = MIN_SAMPLES
) -> tuple[float, float, int]:
    """Spearman or Pearson r, two-sided p and n over the pairs where both values are finite (r and p NA with fewer
    than ``min_samples`` pairs, at least 3)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    ok = np.isfinite(a) & np.isfinite(b)
    n = int(ok.sum())
    if n < max(MIN_SAMPLES, int(min_samples)):
        return np.nan, np.nan, n
    x, y = a[ok], b[ok]
    if statistic == "spearman":
        x, y = ranks(x), ranks(y)
    r = float(corr_rows(x, y)[0])
    return r, correlation_p(r, n), n


def fisher_ci(r: float, n: int) -> tuple[float, float]:
    """95% interval of a Pearson r by Fisher's z: tanh(atanh(r) -/+ 1.96 / sqrt(n - 3))."""
    if not np.isfinite(r) or n < 4:
        return np.nan, np.nan
    z, se = np.arctanh(r), 1.0 / math.sqrt(n - 3)
    return float(np.tanh(z - Z975 * se)), float(np.tanh(z + Z975 * se))


def resample_ranks(value_class: np.ndarray, n_classes: int, idx: np.ndarray) -> np.ndarray:
    """Ranks (ties averaged) along each row of the resamples ``v[idx]`` (idx: B x n indices into v), from the class of
    each value of v (its position among v's distinct values, sorted: ``np.unique(v, return_inverse=True)[1]``),
    without sorting: a value's average rank in a resample is (resampled values below it) + (resampled values equal
    to it + 1) / 2, counted per row. The same numbers as :func:`seedsig.core.stats.ranks` of ``v[idx]``, exactly
    (integers and halves)."""
    cls = value_class[idx]  # B x n
    B = cls.shape[0]
    counts = np.bincount((np.arange(B)[:, None] * n_classes + cls).ravel(), minlength=B * n_classes)
    counts = counts.reshape(B, n_classes)
    rank_of_class = (np.cumsum(counts, axis=1) - counts) + (counts + 1) / 2.0
    return np.take_along_axis(rank_of_class, cls, axis=1)


def bootstrap_ci(
    a: np.ndarray, b: np.ndarray, n_bootstrap: int, seed: int, level: float = 0.95, *, threads: int = 1
) -> tuple[float, float]:
    """Percentile bootstrap interval of Spearman's r of the complete pairs (a, b).

    All resamples at once: a (B x n) index matrix from ``np.random.default_rng(seed)``, each resample ranked
    row-wise (ties averaged, by counting: :func:`resample_ranks`) and correlated as row-wise dot products (chunked
    over B to bound memory, the chunks
    over ``threads`` threads: the interval does not depend on it). Resamples in which a score is constant are left
    out of the percentiles."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    n = a.size
    if n_bootstrap < 1 or n < MIN_SAMPLES:
        return np.nan, np.nan
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_bootstrap, n))
    r = np.empty(n_bootstrap)

    a_class, b_class = np.unique(a, return_inverse=True), np.unique(b, return_inverse=True)

    def chunk(part: slice) -> None:
        i = idx[part]
        r[part] = corr_rows(
            resample_ranks(a_class[1], a_class[0].size, i), resample_ranks(b_class[1], b_class[0].size, i)
        )

    thread_map(chunk, split(n_bootstrap, max(1, CHUNK_ELEMENTS // n), check_threads(threads)), threads)
    r = r[np.isfinite(r)]
    if r.size == 0:
        return np.nan, np.nan
    alpha = 100.0 * (1.0 - level) / 2.0
    lo, hi = np.percentile(r, [alpha, 100.0 - alpha])
    return float(lo), float(hi)


NULL_CHUNK_ELEMENTS = 4_000_000  # random scores x samples per chunk when ranking and correlating them


def ranked_rows(x: np.ndarray, threads: int) -> np.ndarray:
    """Each row of ``x`` ranked (ties averaged), in chunks of rows over ``threads`` threads."""
    out = np.empty(x.shape)

    def chunk(part: slice) -> None:
        out[part] = ranks(x[part])

    thread_map(chunk, split(x.shape[0], NULL_CHUNK_ELEMENTS // max(x.shape[1], 1), threads), threads)
    return out


def corr_rows_threads(x: np.ndarray, y: np.ndarray, threads: int) -> np.ndarray:
    """:func:`seedsig.core.stats.corr_rows` of the rows of ``x`` with ``y``, in chunks of rows over ``threads``."""
    parts = split(x.shape[0], NULL_CHUNK_ELEMENTS // max(x.shape[1], 1), threads)
    return np.concatenate(thread_map(lambda part: corr_rows(x[part], y), parts, threads)) if parts else np.empty(0)


def overlap(
    genes_a: Sequence[str], genes_b: Sequence[str], measured: Sequence[str] | set[str]
) -> tuple[int, float, float]:
    """Overlap of two gene lists restricted to the measured genes: (|A n B|, Jaccard |A n B| / |A u B|,
    hypergeometric P(X >= |A n B|) with population = measured genes, |A| draws and |B| successes).
    Jaccard is NA when neither list has a measured gene."""
    pop = set(measured)
    a, b = set(genes_a) & pop, set(genes_b) & pop
    shared, union = len(a & b), len(a | b)
    jac = shared / union if union else np.nan
    p = float(stats.hypergeom.sf(shared - 1, len(pop), len(b), len(a))) if pop else np.nan
    return shared, jac, min(1.0, p) if np.isfinite(p) else p


def measured_genes(expr: pd.DataFrame) -> set[str]:
    """Genes with a finite value in every sample (as the scoring coverage counts a gene present)."""
    finite = np.isfinite(expr.to_numpy(dtype=float)).all(axis=1)
    return set(expr.index.astype(str)[finite])


# -------------------------------------------------------------------------------------------- meta-PCNA
def meta_pcna(
    expr: pd.DataFrame, fraction: float = META_PCNA_FRACTION, min_genes: int = META_PCNA_MIN_GENES
) -> tuple[pd.Series, list[str]]:
    """Proliferation metagene of Venet et al. 2011 (meta-PCNA) in a genes x samples log-expression matrix.

    Genes: the ``ceil(fraction x measured genes)`` genes (at least ``min_genes``) most positively correlated
    (Pearson, across the samples) with PCNA, PCNA itself first. Measured genes: finite in every sample and not
    constant (one row per symbol: the highest mean). Score per sample: the median of the genes' z-scores
    (each gene standardized across samples, so that every gene weighs the same whatever its expression level).
    Ties in r are broken by gene symbol, so the choice does not depend on row order.
    Returns (score per sample, the genes); without a measured PCNA: (all-NA score, [])."""

    cols = expr.columns.astype(str)
    upos, rows, _ = usable_rows(expr, None, drop_constant=True)
    if "PCNA" not in rows or expr.shape[1] < 3:
        return pd.Series(np.nan, index=pd.Index(cols, name="sample"), name="meta_pcna"), []
    symbols = np.array(sorted(rows), dtype=object)
    order = upos[[rows[g] for g in symbols]]  # the rows of ``expr``, by symbol
    values = expr.to_numpy(dtype=np.float64)
    pcna = int(np.flatnonzero(symbols == "PCNA")[0])
    n = values.shape[1]
    if order.size * n <= META_PCNA_EXACT_ELEMENTS:  # the whole matrix at once (the matrix product's own rounding)
        z = standardize(values[order])
        r = z @ z[pcna] / (n - 1)
    else:  # big cohorts: standardized by chunks of genes, no copy of the matrix
        z = None
        zp = standardize(values[order[[pcna]]])[0]
        step = max(1, CHUNK_ELEMENTS // n)
        parts = [standardize(values[order[a : a + step]]) @ zp for a in range(0, order.size, step)]
        r = np.concatenate(parts) / (n - 1)
    r[pcna] = np.inf  # PCNA itself first
    k = min(len(symbols), max(int(min_genes), int(math.ceil(fraction * len(symbols)))))
    top = np.lexsort((symbols, -r))[:k]
    score = np.median(z[top] if z is not None else standardize(values[order[top]]), axis=0)
    return pd.Series(score, index=pd.Index(cols, name="sample"), name="meta_pcna"), symbols[top].tolist()


# ------------------------------------------------------------------------------------ partial correlation
def partial_correlation(
    a: np.ndarray, b: np.ndarray, z: np.ndarray | None, statistic: str = "pearson"
) -> tuple[float, float, int, int]:
    """Partial correlation of ``a`` and ``b`` given the columns of ``z`` (n x k; NA allowed): the correlation of
    the residuals of a and b after least-squares regression on [1, z], over the complete cases. Spearman: a, b
    and every column of z are ranked (ties averaged) over the complete cases first, as R ``ppcor::pcor.test``.
    p: t = r sqrt(df / (1 - r^2)) on df = n - 2 - k (k = rank of the centered z over the complete cases; ppcor
    1.1 uses the same statistic with a normal reference). Returns (r, p, n, k)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    z = np.empty((a.size, 0)) if z is None else np.asarray(z, dtype=float).reshape(a.size, -1)
    ok = np.isfinite(a) & np.isfinite(b) & np.isfinite(z).all(axis=1)
    n = int(ok.sum())
    x, y, zz = a[ok], b[ok], z[ok]
    if statistic == "spearman":
        x, y = ranks(x), ranks(y)
        zz = ranks(zz.T).T if zz.size else zz
    zc = zz - zz.mean(axis=0, keepdims=True) if zz.size else zz
    k = int(np.linalg.matrix_rank(zc)) if zc.size else 0
    if n - 2 - k < 1:
        return np.nan, np.nan, n, k
    design = np.column_stack([np.ones(n), zz])
    coef, *_ = np.linalg.lstsq(design, np.column_stack([x, y]), rcond=None)
    res = np.column_stack([x, y]) - design @ coef
    scale = np.abs(np.column_stack([x, y]) - np.column_stack([x, y]).mean(axis=0)).max(axis=0)
    if not (scale > 0).all() or (np.abs(res).max(axis=0) <= 1e-12 * scale).any():
        return np.nan, np.nan, n, k  # a score is constant or fully explained by the covariates
    r = float(corr_rows(res[:, 0], res[:, 1])[0])
    return r, correlation_p(r, n, k), n, k


def covariate_design(
    covariates: pd.DataFrame | None, samples: Sequence[str]
) -> tuple[pd.DataFrame, dict[str, list[str]], dict]:
    """Numeric design columns of the clinical covariates for ``samples``: numeric covariates as they are, others
    (text, categorical, boolean) as 0/1 dummies of every level but the first in sorted order (the reference).
    Missing values stay NA (those samples drop out of the partial correlation). A covariate with one level or
    value, or with no value, is skipped. Returns (samples x columns, covariate -> its columns, info)."""
    idx = pd.Index(list(samples), name="sample")
    cols: dict[str, pd.Series] = {}
    groups: dict[str, list[str]] = {}
    info: dict = {"used": [], "skipped": {}, "coding": {}}
    if covariates is None or covariates.shape[1] == 0:
        return pd.DataFrame(index=idx), groups, info
    cov = covariates.copy()
    cov.index = cov.index.astype(str)
    if cov.index.duplicated().any():
        raise SeedsigError("the covariate table has duplicated sample ids: give one row per sample.")
    if not cov.index.isin(idx).any():
        raise SeedsigError(
            f"the covariate table shares no sample id with the scores (e.g. '{cov.index[0]}' vs '{idx[0]}'): "
            "its index must hold the sample ids."
        )
    cov = cov.reindex(idx)
    for name in cov.columns:
        s = cov[name]
        label = str(name)
        n_missing = int(s.isna().sum())
        if s.notna().sum() == 0:
            info["skipped"][label] = "no value in any sample"
            continue
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            v = s.astype(float)
            if v.nunique(dropna=True) < 2:
                info["skipped"][label] = f"one value only ({v.dropna().iloc[0]:g}) across the samples"
                continue
            cols[label] = v
            groups[label] = [label]
            info["coding"][label] = {"type": "numeric", "n_missing": n_missing}
        else:
            text = s.map(lambda v: v if pd.isna(v) else str(v))
            levels = sorted(text.dropna().unique())
            if len(levels) < 2:
                info["skipped"][label] = f"one level only ('{levels[0]}') across the samples"
                continue
            groups[label] = []
            for lev in levels[1:]:
                c = f"{label}={lev}"
                cols[c] = (text == lev).astype(float).where(text.notna())
                groups[label].append(c)
            info["coding"][label] = {
                "type": "categorical",
                "reference": levels[0],
                "levels": levels,
                "n_missing": n_missing,
            }
        info["used"].append(label)
    return pd.DataFrame(cols, index=idx), groups, info
