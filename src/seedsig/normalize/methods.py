"""Normalization of expression matrices (genes x samples), with the semantics of edgeR, DESeq2 and limma.

A normalization is one method or a chain of steps (``normalize:`` in the config, per data type;
``seedsig normalize --method``). Defaults per data type of the cohort sheet:

=================  ==========================  ======================================================
data_type          default                     why
=================  ==========================  ======================================================
``counts``         ``tmm_logcpm``              edgeR's standard; low-expression filter in the pipeline
``log_expression`` ``none``                    already normalized and logged: reaches scoring unchanged
``intensity``      ``log2`` then ``quantile``  un-logged array values (MAS5, ...), as limma users do
``tpm``            ``log2``                    log2(TPM + 1)
=================  ==========================  ======================================================

Count methods (raw counts in, first step only):

* ``tmm_logcpm``: edgeR ``calcNormFactors(method="TMM")`` factors (rnanorm's TMM, equal to edgeR) then
  ``cpm(log=TRUE, prior.count=2)``.
* ``logcpm``: the same log-CPM with every factor 1.
* ``upperquartile_logcpm``: edgeR ``calcNormFactors(method="upperquartile")`` (rnanorm's UQ) then log-CPM.
* ``deseq2_log``: DESeq2 ``estimateSizeFactors`` (median of ratios; ``poscounts`` when every gene has a
  zero, where DESeq2's ratio method cannot work) then ``log2(counts / size factor + 1)``
  (DESeq2's ``normTransform``).
* ``deseq2_vst``: DESeq2 ``varianceStabilizingTransformation(blind=TRUE, fitType="parametric")``:
  gene-wise dispersions for the design ``~1``, the parametric trend ``asymptDisp + extraPois / mean``,
  and DESeq2's closed-form transform. Dispersions are fitted here, vectorized over genes (see
  :func:`deseq2_dispersion_trend`): pydeseq2 takes about a minute for the 64,000 airway genes and its
  trend differs from DESeq2's (it fits every gene, DESeq2 only genes with dispersion > 1e-6).
* ``tpm``: transcripts per million from gene lengths (a GTF's exonic union length per gene, as
  rnanorm and featureCounts compute it, or a two-column table id -> length). Not logged: chain ``log2``.

Value methods (any data type except counts):

* ``log2``: ``log2(x + pseudocount)``; pseudocount 1 for TPM, 0 for intensities. Values that are still
  <= 0 after the pseudocount cannot be logged: they are raised to the smallest positive value of the
  matrix first (counted in the record, with a warning).
* ``quantile``: limma ``normalizeBetweenArrays(method="quantile")`` (``normalizeQuantiles`` with
  ``ties=TRUE``, missing values handled as limma does).
* ``none``: unchanged.

Filtering (:func:`filter_by_expr`, edgeR's ``filterByExpr``) is a separate step the pipeline applies to
counts before normalizing (as edgeR's workflow: library sizes recomputed, ``keep.lib.sizes=FALSE``);
``seedsig normalize`` filters nothing unless asked, so on a full matrix it reproduces edgeR/DESeq2 exactly."""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np
import pandas as pd

from seedsig.core.errors import SeedsigError
from seedsig.core.parallel import check_threads, thread_map
from seedsig.core.stats import rank_columns
from seedsig.ingest.checks import check_counts, check_values
from seedsig.normalize.lengths import tpm

COUNT_METHODS = ("tmm_logcpm", "logcpm", "upperquartile_logcpm", "deseq2_log", "deseq2_vst", "tpm")
VALUE_METHODS = ("log2", "quantile")
NORMALIZATION_METHODS = (*COUNT_METHODS, *VALUE_METHODS, "none")
DATA_TYPES = ("counts", "log_expression", "intensity", "tpm")
DEFAULT_STEPS: dict[str, tuple[str, ...]] = {
    "counts": ("tmm_logcpm",),
    "log_expression": ("none",),
    "intensity": ("log2", "quantile"),
    "tpm": ("log2",),
}
DEFAULT_PRIOR_COUNT = 2.0
REFERENCES = {
    "tmm_logcpm": "edgeR calcNormFactors(method='TMM') + cpm(log=TRUE, prior.count)",
    "logcpm": "edgeR cpm(log=TRUE, prior.count), no normalization factors",
    "upperquartile_logcpm": "edgeR calcNormFactors(method='upperquartile') + cpm(log=TRUE, prior.count)",
    "deseq2_log": "DESeq2 estimateSizeFactors (median of ratios; poscounts when every gene has a zero) + "
    "log2(normalized + 1)",
    "deseq2_vst": "DESeq2 varianceStabilizingTransformation(blind=TRUE, fitType='parametric')",
    "tpm": "TPM from exonic union gene lengths (as rnanorm TPM)",
    "log2": "log2(x + pseudocount); values <= 0 raised to the smallest positive value",
    "quantile": "limma normalizeBetweenArrays(method='quantile')",
    "none": "unchanged",
}


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


# ------------------------------------------------------------------------------------------ edgeR side
def tmm_factors(
    counts: np.ndarray, logratio_trim: float = 0.3, sum_trim: float = 0.05, *, threads: int = 1
) -> np.ndarray:
    """edgeR ``calcNormFactors(method="TMM")`` factors (geometric mean 1) for a genes x samples count matrix.

    edgeR 3.40's algorithm with its floating-point expressions, vectorized over samples: all-zero genes
    dropped; the reference is the sample whose upper-quartile factor is closest to their mean; per sample,
    M = log2((obs/nO)/(ref/nR)), A = (log2(obs/nO) + log2(ref/nR))/2, genes trimmed by the ranks of M (30%)
    and A (5%) (average ranks for ties), precision-weighted mean of M. rnanorm's TMM computes A as
    log2(obs/nO * ref/nR)/2, which breaks ties between genes differently and moves factors by ~1e-5 on
    integer counts with many ties; this follows edgeR exactly (tests: 1e-10 against edgeR). Computed on chunks
    of samples (every step is per sample), so the temporaries are of the chunk's size; the chunks run on
    ``threads`` threads (the factors do not depend on it).
    """

    counts = np.asarray(counts)
    nonzero = np.zeros(counts.shape[0], dtype=bool)
    for rows in row_chunks(*counts.shape):
        nonzero[rows] = counts[rows].sum(axis=1) > 0
    chunks = column_chunks(int(nonzero.sum()), counts.shape[1])

    def block(cols: slice) -> np.ndarray:
        """The chunk's samples over the genes with a count, float64, C order (as edgeR's algorithm on the whole
        matrix indexed the genes: the sums over genes run in the same order, the factors agree to the last bit)."""
        return np.ascontiguousarray(counts[:, cols][nonzero], dtype=np.float64)

    lib = np.empty(counts.shape[1])
    f75 = np.empty(counts.shape[1])
    for cols in chunks:
        x = block(cols)
        lib[cols] = x.sum(axis=0)
        f75[cols] = np.quantile(x, 0.75, axis=0) / lib[cols]  # R's quantile type 7
    if np.median(f75) < 1e-20:
        ref_col = int(np.argmax(np.concatenate([np.sqrt(block(cols)).sum(axis=0) for cols in chunks])))
    else:
        ref_col = int(np.argmin(np.abs(f75 - f75.mean())))
    ref = block(slice(ref_col, ref_col + 1))
    factors = np.concatenate(
        thread_map(
            lambda cols: _tmm_log_factors(block(cols), lib[cols], ref, lib[ref_col], logratio_trim, sum_trim),
            chunks,
            threads,
        )
    )
    factors = 2.0**factors
    return factors / np.exp(np.mean(np.log(factors)))


def _tmm_log_factors(
    x: np.ndarray, lib: np.ndarray, ref: np.ndarray, n_r: float, logratio_trim: float, sum_trim: float
) -> np.ndarray:
    """log2 TMM factors of the samples (columns) of ``x`` against the reference column ``ref`` (library ``n_r``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log_r = np.log2((x / lib) / (ref / n_r))
        abs_e = (np.log2(x / lib) + np.log2(ref / n_r)) / 2.0
        v = (lib - x) / lib / x + (n_r - ref) / n_r / ref
    fin = np.isfinite(log_r) & np.isfinite(abs_e)
    n = fin.sum(axis=0)
    lo_l = np.floor(n * logratio_trim) + 1
    hi_l = n + 1 - lo_l
    lo_s = np.floor(n * sum_trim) + 1
    hi_s = n + 1 - lo_s
    r_l = rank_columns(np.where(fin, log_r, np.nan))  # missing values rank after every finite one
    r_s = rank_columns(np.where(fin, abs_e, np.nan))
    keep = fin & (r_l >= lo_l) & (r_l <= hi_l) & (r_s >= lo_s) & (r_s <= hi_s)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(keep, log_r / v, 0.0).sum(axis=0) / np.where(keep, 1.0 / v, 0.0).sum(axis=0)
        same = np.nanmax(np.where(fin, np.abs(log_r), np.nan), axis=0) < 1e-6
    return np.where(np.isnan(f) | same, 0.0, f)


def upperquartile_factors(counts: np.ndarray) -> np.ndarray:
    """edgeR ``calcNormFactors(method="upperquartile")`` factors (rnanorm's UQ; all-zero genes dropped)."""
    from rnanorm import UQ

    counts = np.asarray(counts, dtype=np.float64)
    keep = counts.sum(axis=1) > 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        f = np.asarray(UQ().fit(counts[keep].T).get_norm_factors(counts[keep].T), dtype=np.float64)
    if not np.all(np.isfinite(f) & (f > 0)):
        raise SeedsigError(
            "upper-quartile normalization: the 75th percentile of the counts is 0 in some sample(s) "
            "(too many zeros), so the factors are undefined, as in edgeR. Filter low-expression genes first or use "
            "tmm_logcpm."
        )
    return f


def log_cpm(
    counts: np.ndarray, norm_factors: np.ndarray | None = None, prior_count: float = DEFAULT_PRIOR_COUNT
) -> np.ndarray:
    """edgeR ``cpm(y, log=TRUE, prior.count=prior_count)`` for a genes x samples count matrix.

    As edgeR: the effective library size is lib.size * norm.factors; the prior count is scaled by each
    sample's effective library size relative to their mean and added to the counts, and twice the
    scaled prior is added to the library size. Computed on chunks of samples; the result is a genes x samples
    view of a samples x genes C-order array (what an AnnData's X holds).
    """
    counts = np.asarray(counts)
    lib = np.empty(counts.shape[1])
    out = np.empty((counts.shape[1], counts.shape[0]))
    chunks = column_chunks(*counts.shape)
    for cols in chunks:  # column sums in the memory order of ``counts``, as over the whole matrix
        lib[cols] = np.asarray(counts[:, cols], dtype=np.float64).sum(axis=0)
    if norm_factors is not None:
        lib = lib * np.asarray(norm_factors, dtype=np.float64)
    prior = prior_count * lib / lib.mean()
    lib_adj = lib + 2.0 * prior
    for cols in chunks:
        x = np.asarray(counts[:, cols], dtype=np.float64)
        out[cols] = np.log2((x + prior[None, cols]) / lib_adj[None, cols] * 1e6).T
    return out.T


def filter_by_expr(
    counts: np.ndarray,
    group: Sequence[Any] | None = None,
    *,
    min_count: float = 10,
    min_total_count: float = 15,
    large_n: int = 10,
    min_prop: float = 0.7,
) -> np.ndarray:
    """edgeR ``filterByExpr`` (no design): which genes (rows) have enough counts to keep.

    A gene is kept if its CPM reaches ``min_count`` / median library size * 1e6 in at least
    ``MinSampleSize`` samples (the smallest group's size, or all samples without a group; above
    ``large_n`` only ``min_prop`` of the excess is needed) and its total count is >= ``min_total_count``.
    """
    counts = np.asarray(counts)
    lib = np.empty(counts.shape[1])
    for cols in column_chunks(*counts.shape):  # column sums in the memory order of ``counts``
        lib[cols] = np.asarray(counts[:, cols], dtype=np.float64).sum(axis=0)
    if group is None:
        n_min = float(counts.shape[1])
    else:
        _, sizes = np.unique(np.asarray(group, dtype=str), return_counts=True)
        n_min = float(sizes.min())
    if n_min > large_n:
        n_min = large_n + (n_min - large_n) * min_prop
    cutoff = min_count / np.median(lib) * 1e6
    tol = 1e-14
    keep = np.empty(counts.shape[0], dtype=bool)
    for rows in row_chunks(*counts.shape):  # chunks of genes: no temporary of the matrix's size
        x = np.asarray(counts[rows], dtype=np.float64)
        keep_cpm = (x / lib[None, :] * 1e6 >= cutoff).sum(axis=1) >= n_min - tol
        keep[rows] = keep_cpm & (x.sum(axis=1) >= min_total_count - tol)
    return keep


# ----------------------------------------------------------------------------------------- DESeq2 side
def deseq2_size_factors(counts: np.ndarray, kind: str = "auto") -> tuple[np.ndarray, str]:
    """DESeq2 ``estimateSizeFactors`` for a genes x samples count matrix; returns (factors, kind used).

    ``ratio``: median over the genes without zeros of count / geometric mean of the gene (DESeq2's
    default; impossible when every gene has a zero). ``poscounts``: geometric means over the positive
    counts (divided by the number of all samples), medians over each sample's positive counts, factors
    scaled to geometric mean 1 (DESeq2 ``type="poscounts"``). ``auto``: ``ratio``, or ``poscounts``
    when every gene has a zero.
    """
    counts = np.asarray(counts)
    by_rows = row_chunks(*counts.shape)

    def log_rows(rows) -> tuple[np.ndarray, np.ndarray]:  # (log counts, positive) of some genes, float64
        c = np.asarray(counts[rows], dtype=np.float64)
        with np.errstate(divide="ignore"):
            return np.log(c), c > 0

    all_pos = np.concatenate([(np.asarray(counts[r]) > 0).all(axis=1) for r in by_rows] or [np.empty(0, bool)])
    if kind == "auto":
        kind = "ratio" if all_pos.any() else "poscounts"
    if kind == "ratio":
        use = np.flatnonzero(all_pos)
        if not use.size:
            raise SeedsigError(
                "DESeq2 median-of-ratios size factors: every gene has a zero count in some sample; use the poscounts "
                "estimator."
            )
        lg = np.concatenate([log_rows(use[r])[0].mean(axis=1) for r in row_chunks(use.size, counts.shape[1])])
        sf = np.empty(counts.shape[1])
        for cols in column_chunks(use.size, counts.shape[1]):  # medians per sample
            with np.errstate(divide="ignore"):
                block = np.log(np.asarray(counts[:, cols][use], dtype=np.float64))
            sf[cols] = np.exp(np.median(block - lg[:, None], axis=0))
        return sf, kind
    if kind != "poscounts":
        raise SeedsigError(f"size factor estimator '{kind}' is not one of ratio, poscounts, auto.")
    lg = np.empty(counts.shape[0])  # log of geoMeanNZ; -inf (excluded) for all-zero genes
    for r in by_rows:
        logc, positive = log_rows(r)
        lg[r] = np.where(positive, logc, 0.0).sum(axis=1) / counts.shape[1]
        lg[r][~positive.any(axis=1)] = -np.inf
    fin = np.isfinite(lg)
    sf = np.empty(counts.shape[1])
    for cols in column_chunks(*counts.shape):
        c = np.asarray(counts[:, cols], dtype=np.float64)
        with np.errstate(divide="ignore"):
            logc = np.log(c)
        ok = fin[:, None] & (c > 0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            sf[cols] = np.exp(np.nanmedian(np.where(ok, logc - lg[:, None], np.nan), axis=0))
    sf = sf / np.exp(np.mean(np.log(sf)))
    return sf, kind


_MIN_DISP = 1e-8


def _nb_log_posterior(y: np.ndarray, mu: np.ndarray, log_alpha: np.ndarray) -> np.ndarray:
    """DESeq2's ``log_posterior`` for the design ~1 without prior: NB log likelihood (terms that depend
    on alpha) + Cox-Reid adjustment -0.5 log(sum of w), w = 1 / (1/mu + alpha). One value per gene (row)."""
    from scipy.special import gammaln

    alpha = np.exp(log_alpha)[:, None]
    r = 1.0 / alpha
    ll = (gammaln(y + r) - gammaln(r) - y * np.log(mu + r) - r * np.log(1.0 + mu * alpha)).sum(axis=1)
    cr = -0.5 * np.log((1.0 / (1.0 / mu + alpha)).sum(axis=1))
    return ll + cr


def _nb_dlog_posterior(y: np.ndarray, mu: np.ndarray, log_alpha: np.ndarray) -> np.ndarray:
    """DESeq2's ``dlog_posterior``: derivative of :func:`_nb_log_posterior` with respect to log(alpha)."""
    from scipy.special import digamma

    a = np.exp(log_alpha)
    alpha = a[:, None]
    r = 1.0 / alpha
    ll = (digamma(r) + np.log(1.0 + mu * alpha) - mu * alpha / (1.0 + mu * alpha) - digamma(y + r) + y / (mu + r)).sum(
        axis=1
    ) / a**2
    w = 1.0 / (1.0 / mu + alpha)
    dw = -1.0 / (1.0 / mu + alpha) ** 2
    cr = -0.5 * dw.sum(axis=1) / w.sum(axis=1)
    return (ll + cr) * a


def deseq2_gene_dispersions(
    counts: np.ndarray, size_factors: np.ndarray, *, max_iter: int = 100, tol: float = 1e-6
) -> tuple[np.ndarray, np.ndarray]:
    """DESeq2 ``estimateDispersionsGeneEst`` for the design ``~1``; returns (dispersions, base means).

    DESeq2's algorithm step by step, vectorized over genes instead of its per-gene C++ loop: mu = size
    factor x mean normalized count (at least 0.5); the start is the smaller of the rough and moments
    estimates, clamped to [1e-8, max(10, n)]; gradient ascent on log(alpha) with DESeq2's Armijo line
    search (kappa_0 = 1, epsilon 1e-4, kappa x 1.1 after an accepted step and halved every 5 accepts,
    stop when the objective rises by less than ``tol`` or log(alpha) < log(1e-9), at most 100 steps);
    a fit that does not raise the objective by 1e-6 relative keeps the start; genes whose search
    stopped after one step or ran out of steps are refitted on DESeq2's two-stage grid of 20 points;
    all-zero genes get NaN. The stopping rules matter: the line search stops short of the maximum
    where the likelihood is flat, and DESeq2's estimates are those stopped values.
    """
    counts = np.asarray(counts)
    if counts.shape[1] < 2:
        raise SeedsigError("DESeq2 dispersions need at least 2 samples (the design ~1 has no replicates otherwise).")
    disp, base_mean = np.empty(counts.shape[0]), np.empty(counts.shape[0])
    for rows in row_chunks(*counts.shape):  # every gene is fitted on its own: chunks of genes bound the memory
        disp[rows], base_mean[rows] = _gene_dispersions(counts[rows], size_factors, max_iter, tol)
    return disp, base_mean


def _gene_dispersions(
    counts: np.ndarray, size_factors: np.ndarray, max_iter: int, tol: float
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`deseq2_gene_dispersions` of some genes (rows)."""
    y_all = np.asarray(counts, dtype=np.float64)
    sf = np.asarray(size_factors, dtype=np.float64)
    n = y_all.shape[1]
    ncounts = y_all / sf[None, :]
    base_mean = ncounts.mean(axis=1)
    disp = np.full(y_all.shape[0], np.nan)
    nz = y_all.sum(axis=1) > 0
    y = y_all[nz]
    bm = base_mean[nz]
    max_disp = max(10.0, float(n))
    alpha_init = _dispersion_start(ncounts[nz], bm, sf, max_disp)
    mu = np.maximum(bm[:, None] * sf[None, :], 0.5)
    a, lp, initial_lp, iters = _dispersion_line_search(y, mu, np.log(alpha_init), max_iter, tol)
    est = np.minimum(np.exp(a), max_disp)
    no_increase = lp < initial_lp + np.abs(initial_lp) / 1e6
    est[no_increase] = alpha_init[no_increase]
    converged = (iters < max_iter) & (iters != 1)
    refit = np.flatnonzero(~converged & (est > _MIN_DISP * 10))
    if refit.size:
        est[refit] = _dispersion_grid_fit(y[refit], mu[refit], max_disp)
    disp[nz] = np.clip(est, _MIN_DISP, max_disp)
    return disp, base_mean


def _dispersion_start(nc: np.ndarray, bm: np.ndarray, sf: np.ndarray, max_disp: float) -> np.ndarray:
    """DESeq2's starting dispersions: the smaller of ``roughDispEstimate`` and ``momentsDispEstimate``, clamped to
    [1e-8, max_disp] (``nc``: normalized counts of the genes with a count; ``bm``: their base means)."""
    n = nc.shape[1]
    bv = nc.var(axis=1, ddof=1)
    mu_rough = np.maximum(1.0, bm)[:, None]
    rough = np.maximum((((nc - mu_rough) ** 2 - mu_rough) / mu_rough**2).sum(axis=1) / (n - 1), 0.0)
    moments = (bv - np.mean(1.0 / sf) * bm) / bm**2
    return np.clip(np.minimum(rough, moments), _MIN_DISP, max_disp)


def _dispersion_line_search(
    y: np.ndarray, mu: np.ndarray, a: np.ndarray, max_iter: int, tol: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """DESeq2's Armijo line search on log(alpha) from ``a`` (updated in place), vectorized over genes: (log alpha,
    final objective, starting objective, steps taken per gene)."""
    min_log_alpha = np.log(_MIN_DISP / 10.0)
    g = len(a)
    lp = _nb_log_posterior(y, mu, a)
    initial_lp = lp.copy()
    dlp = _nb_dlog_posterior(y, mu, a)
    kappa = np.ones(g)
    iters = np.zeros(g, dtype=np.int64)
    accepts = np.zeros(g, dtype=np.int64)
    active = np.ones(g, dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        for _ in range(max_iter):
            idx = np.flatnonzero(active)
            if idx.size == 0:
                break
            iters[idx] += 1
            ai, di, ki = a[idx], dlp[idx], kappa[idx]
            prop = ai + ki * di
            ki = np.where(prop < -30.0, (-30.0 - ai) / di, np.where(prop > 10.0, (10.0 - ai) / di, ki))
            new_a = ai + ki * di
            lp_new = _nb_log_posterior(y[idx], mu[idx], new_a)
            ok = -lp_new <= -lp[idx] - ki * 1e-4 * di**2
            kappa[idx] = np.where(ok, ki, ki / 2.0)
            acc = idx[ok]
            if acc.size:
                accepts[acc] += 1
                a[acc] = new_a[ok]
                change = lp_new[ok] - lp[acc]
                stop = change < tol
                lp[acc[stop]] = lp_new[ok][stop]
                # log alpha heading to -infinity: stop, keeping the previous objective
                low = ~stop & (a[acc] < min_log_alpha)
                go = acc[~stop & ~low]
                active[acc[stop | low]] = False
                if go.size:
                    lp[go] = lp_new[ok][~stop & ~low]
                    dlp[go] = _nb_dlog_posterior(y[go], mu[go], a[go])
                    kappa[go] = np.minimum(kappa[go] * 1.1, 1.0)
                    halve = accepts[go] % 5 == 0
                    kappa[go[halve]] /= 2.0
    return a, lp, initial_lp, iters


def _dispersion_grid_fit(yr: np.ndarray, mr: np.ndarray, max_disp: float) -> np.ndarray:
    """DESeq2's grid refit of the genes whose line search did not converge: the best of 20 log-spaced points from
    1e-8 to max_disp, then of 20 points around it."""
    grid = np.linspace(np.log(1e-8), np.log(max_disp), 20)
    delta = grid[1] - grid[0]

    def best(points: np.ndarray) -> np.ndarray:  # points: genes x 20 -> the first maximizing point per gene
        vals = np.column_stack([_nb_log_posterior(yr, mr, points[:, t]) for t in range(points.shape[1])])
        return points[np.arange(len(points)), np.argmax(vals, axis=1)]

    a_hat = best(np.broadcast_to(grid, (yr.shape[0], grid.size)))
    fine = a_hat[:, None] + np.linspace(-delta, delta, 20)[None, :]
    return np.exp(best(fine))


def deseq2_dispersion_trend(base_mean: np.ndarray, dispersions: np.ndarray) -> tuple[float, float]:
    """DESeq2 ``parametricDispersionFit``: (asymptDisp, extraPois) of disp = a0 + a1 / mean.

    Fitted as DESeq2 does: genes with dispersion > 100 x 1e-8; a gamma GLM with identity link on
    1/mean, refitted on the genes whose residual ratio is within (1e-4, 15) until the coefficients
    change by less than 1e-6 (sum of squared log ratios); at most 10 refits.
    """
    import statsmodels.api as sm

    ok = np.isfinite(dispersions) & (dispersions > 100 * _MIN_DISP)
    means, disps = base_mean[ok], dispersions[ok]
    coefs = np.array([0.1, 1.0])
    for it in range(12):
        resid = disps / (coefs[0] + coefs[1] / means)
        good = (resid > 1e-4) & (resid < 15)
        design = np.column_stack([np.ones(good.sum()), 1.0 / means[good]])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = sm.GLM(disps[good], design, family=sm.families.Gamma(sm.families.links.Identity())).fit(
                start_params=coefs, tol=1e-8, maxiter=25
            )
        old, coefs = coefs, np.asarray(fit.params, dtype=float)
        if not np.all(coefs > 0):
            raise SeedsigError(
                "DESeq2 VST: the parametric dispersion trend a0 + a1/mean has a non-positive coefficient on this "
                "matrix (DESeq2 would switch to a local fit). Use deseq2_log or tmm_logcpm."
            )
        if np.sum(np.log(coefs / old) ** 2) < 1e-6 and fit.converged:
            return float(coefs[0]), float(coefs[1])
    raise SeedsigError(
        "DESeq2 VST: the parametric dispersion trend did not converge in 10 refits (as DESeq2 would report). Use "
        "deseq2_log or tmm_logcpm."
    )


def deseq2_vst(counts: np.ndarray, size_factors: np.ndarray, coefficients: tuple[float, float]) -> np.ndarray:
    """DESeq2's variance-stabilizing transform for the parametric trend (``getVarianceStabilizedData``)."""
    a0, a1 = coefficients
    sf = np.asarray(size_factors, dtype=np.float64)

    def vst(x: np.ndarray, cols: slice) -> np.ndarray:
        q = x / sf[None, cols]
        return np.log2((1.0 + a1 + 2.0 * a0 * q + 2.0 * np.sqrt(a0 * q * (1.0 + a1 + a0 * q))) / (4.0 * a0))

    return per_sample_chunks(counts, vst)


def per_sample_chunks(counts: np.ndarray, fn) -> np.ndarray:
    """``fn(counts[:, cols] as float64, cols)`` of an elementwise transform over chunks of samples, into a genes x
    samples view of a samples x genes C-order array (what an AnnData's X holds): no temporary of the matrix's size."""
    counts = np.asarray(counts)
    out = np.empty((counts.shape[1], counts.shape[0]))
    for cols in column_chunks(*counts.shape):
        out[cols] = fn(np.asarray(counts[:, cols], dtype=np.float64), cols).T
    return out.T


# ------------------------------------------------------------------------------------------ limma side
def quantile_normalize(x: np.ndarray) -> np.ndarray:
    """limma ``normalizeQuantiles(A, ties=TRUE)`` (what ``normalizeBetweenArrays(method="quantile")`` calls).

    The target distribution is the mean over samples of the sorted values; each value takes the target
    at its rank (tied values: the average rank, interpolated). With missing values, as limma: a sample's
    sorted observed values are interpolated onto the full grid before averaging, and its ranks are
    mapped onto the grid; missing values stay missing. Vectorized over samples.
    """
    a = np.asarray(x, dtype=np.float64)
    n, m = a.shape
    if m == 1 or n == 0:
        return a.copy()

    nobs = (~np.isnan(a)).sum(axis=0)
    if (nobs < 2).any():
        j = int(np.flatnonzero(nobs < 2)[0])
        raise SeedsigError(
            f"quantile normalization: sample column {j + 1} has fewer than 2 values that are not missing."
        )
    s = np.sort(a, axis=0)  # NaN last
    grid = np.arange(n, dtype=np.float64) / (n - 1) if n > 1 else np.zeros(1)

    def interp_columns(values: np.ndarray, pos: np.ndarray) -> np.ndarray:
        """values[pos] with linear interpolation at fractional row positions ``pos``: per column for a
        matrix of values, or from one column (a 1-D array) shared by all."""
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, values.shape[0] - 1)
        frac = pos - lo
        if values.ndim == 1:
            vlo, vhi = values[lo], values[hi]
        else:
            vlo = np.take_along_axis(values, lo, axis=0)
            vhi = np.take_along_axis(values, hi, axis=0)
        return np.where(frac == 0, vlo, vlo + frac * (vhi - vlo))

    if (nobs < n).any():
        pos = grid[:, None] * (nobs[None, :] - 1)  # where each grid point falls among a sample's sorted observed values
        s = interp_columns(s, pos)
    target = s.mean(axis=1)
    r = rank_columns(a)  # NaN ranked last; observed values get 1..nobs with average ties
    q = (r - 1.0) / (nobs[None, :] - 1.0) * (n - 1)
    q = np.where(np.isnan(a), 0.0, np.clip(q, 0.0, n - 1))
    out = interp_columns(target, q)  # the target at each value's rank
    out[np.isnan(a)] = np.nan
    return out


def log2_transform(x: np.ndarray, pseudocount: float) -> tuple[np.ndarray, int]:
    """log2(x + pseudocount); values still <= 0 are raised to the smallest positive value first.

    Returns (values, number of values raised). Missing values stay missing.
    """
    v = np.asarray(x, dtype=np.float64) + pseudocount
    low = v <= 0
    n_low = int(low.sum())
    if n_low:
        pos = v[v > 0]
        if pos.size == 0:
            raise SeedsigError(
                "log2: no value is positive, so nothing can be logged. Check the data type of the matrix."
            )
        v = np.where(low, pos.min(), v)
    return np.log2(v), n_low


# ------------------------------------------------------------------------------------------- driver
def parse_steps(method: str | Sequence[str]) -> tuple[str, ...]:
    steps = (method,) if isinstance(method, str) else tuple(method)
    steps = tuple(s for part in steps for s in str(part).split("+") if s)
    if not steps:
        raise SeedsigError("normalization: no method given.")
    for s in steps:
        if s not in NORMALIZATION_METHODS:
            raise SeedsigError(f"normalization method '{s}' is not one of {', '.join(NORMALIZATION_METHODS)}.")
    return steps


def check_steps(steps: Sequence[str], data_type: str | None, where: str) -> None:
    """Count methods only first and only on counts; value methods never on raw counts."""
    for i, s in enumerate(steps):
        if s in COUNT_METHODS and i > 0:
            raise SeedsigError(
                f"{where}: '{s}' needs raw counts, so it can only be the first normalization step (steps given: "
                f"{', '.join(steps)})."
            )
        if s == "none" and len(steps) > 1:
            raise SeedsigError(f"{where}: 'none' cannot be combined with other steps ({', '.join(steps)}).")
    if data_type is None:
        return
    first = steps[0]
    if data_type == "counts" and first not in COUNT_METHODS:
        raise SeedsigError(
            f"{where}: data_type counts needs a count method first ({', '.join(COUNT_METHODS)}); got '{first}'. "
            "If the matrix is already normalized, set its data_type to log_expression (or intensity/tpm)."
        )
    if data_type != "counts" and first in COUNT_METHODS:
        raise SeedsigError(
            f"{where}: '{first}' is a method for raw counts, but the data_type is {data_type}. Use "
            f"{', '.join(DEFAULT_STEPS[data_type])} or set data_type to counts."
        )


def normalize_matrix(
    df: pd.DataFrame,
    method: str | Sequence[str],
    *,
    data_type: str | None = None,
    prior_count: float = DEFAULT_PRIOR_COUNT,
    gene_lengths: np.ndarray | None = None,
    pseudocount: float | None = None,
    size_factors: str = "auto",
    where: str = "expression",
    threads: int = 1,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Normalize a genes x samples DataFrame with one method or a chain of steps.

    Returns ``(normalized, record)``; the output has the input's row and column labels (TPM drops genes
    without a length, listed in the record). ``record`` has ``method`` (steps joined by '+'), ``steps``,
    the parameters, the reference each step reproduces, and per-sample factors where a method has them.
    ``gene_lengths``: one length per row (NaN where unknown), needed by ``tpm``. ``threads``: threads of the TMM
    factors (the result does not depend on it).
    """
    steps = parse_steps(method)
    threads = check_threads(threads)
    if data_type is None:
        data_type = "counts" if steps[0] in COUNT_METHODS else None
    check_steps(steps, data_type, where)
    info: dict[str, Any] = {
        "method": "+".join(steps),
        "steps": list(steps),
        "data_type": data_type,
        "reference": "; ".join(REFERENCES[s] for s in steps),
    }
    if steps == ("none",):
        return df.copy(), {**info, "method": "none"}
    samples = list(map(str, df.columns))
    values = df.to_numpy(dtype=np.float64)
    index = df.index
    after_tpm = data_type == "tpm"
    for step in steps:
        if step in COUNT_METHODS:
            n_frac = check_counts(df, where, integers=step.startswith("deseq2"))
            if n_frac:
                warnings.warn(
                    f"{where}: {n_frac} count value(s) are not whole numbers (e.g. RSEM expected counts); edgeR "
                    "methods accept them as they are.",
                    stacklevel=2,
                )
            info["library_sizes"] = dict(zip(samples, values.sum(axis=0).tolist()))
        if step in ("tmm_logcpm", "logcpm", "upperquartile_logcpm"):
            values = _logcpm_step(values, step, prior_count, samples, info, threads)
        elif step in ("deseq2_log", "deseq2_vst"):
            values = _deseq2_step(values, step, size_factors, samples, info)
        elif step == "tpm":
            values, index = _tpm_step(values, index, gene_lengths, where, info)
            after_tpm = True
        elif step == "log2":
            if data_type != "tpm" and not after_tpm:
                check_values(pd.DataFrame(values, index=index, columns=df.columns), where, data_type or "intensity")
            pc = (1.0 if after_tpm else 0.0) if pseudocount is None else float(pseudocount)
            values, n_low = log2_transform(values, pc)
            info["pseudocount"] = pc
            info["values_raised_before_log2"] = n_low
            if n_low:
                warnings.warn(
                    f"{where}: {n_low} value(s) <= 0 after adding the pseudocount {pc:g} were raised to the smallest "
                    "positive value before log2.",
                    stacklevel=2,
                )
        elif step == "quantile":
            values = quantile_normalize(values)
    return pd.DataFrame(values, index=index, columns=df.columns), info


def _logcpm_step(
    values: np.ndarray, step: str, prior_count: float, samples: list[str], info: dict, threads: int = 1
) -> np.ndarray:
    """log2 CPM with TMM (``tmm_logcpm``), upper-quartile (``upperquartile_logcpm``) or no (``logcpm``)
    normalization factors, recorded in ``info``."""
    f = (
        tmm_factors(values, threads=threads)
        if step == "tmm_logcpm"
        else upperquartile_factors(values)
        if step == "upperquartile_logcpm"
        else np.ones(values.shape[1])
    )
    info["prior_count"] = prior_count
    info["norm_factors"] = dict(zip(samples, f.tolist()))
    return log_cpm(values, f, prior_count)


def _deseq2_step(values: np.ndarray, step: str, size_factors: str, samples: list[str], info: dict) -> np.ndarray:
    """DESeq2's log2(normalized counts + 1) (``deseq2_log``) or blind parametric VST (``deseq2_vst``); the size
    factors (and the VST's dispersion trend) recorded in ``info``."""
    sf, kind = deseq2_size_factors(values, size_factors)
    info["size_factor_type"] = kind
    info["size_factors"] = dict(zip(samples, sf.tolist()))
    if step == "deseq2_log":
        return per_sample_chunks(values, lambda x, cols: np.log2(x / sf[None, cols] + 1.0))
    disp, base_mean = deseq2_gene_dispersions(values, sf)
    coef = deseq2_dispersion_trend(base_mean, disp)
    info["vst"] = {"blind": True, "fit_type": "parametric", "asymptDisp": coef[0], "extraPois": coef[1]}
    return deseq2_vst(values, sf, coef)


def _tpm_step(
    values: np.ndarray, index: pd.Index, gene_lengths: np.ndarray | None, where: str, info: dict
) -> tuple[np.ndarray, pd.Index]:
    """TPM from counts and gene lengths: genes without a length left out (a warning; an error when that is half
    of them or more), recorded in ``info``."""
    if gene_lengths is None:
        raise SeedsigError(
            f"{where}: 'tpm' needs gene lengths: set normalize.gene_lengths (a GTF or a two-column table id, length) "
            "in the config, or --gene-lengths."
        )
    gl = np.asarray(gene_lengths, dtype=np.float64)
    known = np.isfinite(gl) & (gl > 0)
    if not known.any():
        raise SeedsigError(
            f"{where}: none of the {len(gl)} genes has a length in the gene length file (e.g. '{index[0]}'). Give "
            "the GTF or length table matching the matrix's gene ids."
        )
    if known.mean() < 0.5:
        missing = index[~known]
        raise SeedsigError(
            f"{where}: only {int(known.sum())} of {len(gl)} genes have a length in the gene length file (missing "
            f"e.g. {', '.join(map(str, missing[:5]))}). "
            "Give the GTF or length table the counts were made with."
        )
    if not known.all():
        missing = index[~known]
        info["genes_without_length"] = list(map(str, missing))
        warnings.warn(
            f"{where}: {int((~known).sum())} gene(s) have no length and are left out of the TPM matrix (e.g. "
            f"{', '.join(map(str, missing[:5]))}).",
            stacklevel=3,  # the caller of normalize_matrix
        )
        values, index, gl = values[known], index[known], gl[known]
    info["gene_lengths"] = "given"
    return tpm(values, gl), index
