"""DESeq2's side of the normalization methods (:mod:`seedsig.normalize.methods`): size factors (median of ratios,
poscounts), gene-wise dispersions and their parametric trend for the design ``~1``, and the variance-stabilizing
transform, each as DESeq2 computes it, vectorized over genes and worked by chunks of genes or samples."""

from __future__ import annotations

import warnings

import numpy as np

from seedsig.core.errors import SeedsigError
from seedsig.normalize.chunks import column_chunks, per_sample_chunks, row_chunks


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
