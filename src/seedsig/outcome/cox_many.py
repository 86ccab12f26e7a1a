"""Many one-covariate Cox models at once (the random-signature null of the survival stage):
:func:`cox_univariate_many` fits one Efron model per row of a matrix by a vectorized Newton iteration, and
:func:`random_null_p` is the empirical p of an observed Wald z against the random signatures' z. The rules
(ties, convergence, floors) are those of :mod:`seedsig.outcome.cox`.
"""

from __future__ import annotations

import numpy as np

from seedsig.core.errors import SeedsigError
from seedsig.core.stats import empirical_null_p
from seedsig.core.threads import check_threads, split, thread_map
from seedsig.outcome.cox import (
    EPS,
    MAX_ITER,
    MIN_SAMPLES_COX,
    TOLER_INF,
    _as_float,
    _canonical_order,
    _check_event,
    _check_min_samples,
    _rev_cumsum,
    _RiskSets,
    aeq_times,
)

MANY_CHUNK_ELEMENTS = 4_000_000  # rows x samples per chunk of cox_univariate_many (a few 32 MB arrays)


def _efron_many(xs: np.ndarray, beta: np.ndarray, rs: _RiskSets) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Efron log partial likelihood, score and information of B one-covariate models sharing the risk sets:
    rows of ``xs`` (B x n, samples sorted by time) at ``beta`` (B). Risk-set sums are reverse cumulative sums
    read at each event time's first sample, tied-event sums ``np.add.reduceat`` over the event groups, and the
    Efron terms (one per event) B x E matrices."""
    with np.errstate(
        over="ignore", under="ignore", divide="ignore", invalid="ignore"
    ):  # a diverging row: NaN/inf, caught by the caller
        eta = beta[:, None] * xs
        c = eta.max(axis=1, keepdims=True)  # exp() of at most 0: no overflow; c cancels in every ratio
        w = np.exp(eta - c)
        wx = w * xs
        s0 = _rev_cumsum(w, 1)[:, rs.start]
        s1 = _rev_cumsum(wx, 1)[:, rs.start]
        s2 = _rev_cumsum(wx * xs, 1)[:, rs.start]
        wd, wxd = w[:, rs.dead], wx[:, rs.dead]
        d0 = np.add.reduceat(wd, rs.group, axis=1)
        d1 = np.add.reduceat(wxd, rs.group, axis=1)
        d2 = np.add.reduceat(wxd * xs[:, rs.dead], rs.group, axis=1)
        k, f = rs.tk, rs.tf
        den = s0[:, k] - f * d0[:, k]
        m = (s1[:, k] - f * d1[:, k]) / den
        loglik = eta[:, rs.dead].sum(axis=1) - np.log(den).sum(axis=1) - rs.dead.size * c[:, 0]
        score = xs[:, rs.dead].sum(axis=1) - m.sum(axis=1)
        info = ((s2[:, k] - f * d2[:, k]) / den - m * m).sum(axis=1)
    return loglik, score, info


def cox_univariate_many(
    X, time, event, *, min_samples: int = MIN_SAMPLES_COX, threads: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """B one-covariate Cox models (Efron ties) fitted together: the log HR per SD of each row of ``X`` (B x n;
    each row divided by its own SD, n - 1) and its SE, with the samples' ``time`` and ``event`` (n) shared.

    Newton-Raphson vectorized over the rows, as R ``coxph`` iterates: start at 0, stop when the relative change
    of the log partial likelihood is <= 1e-9 (at most 20 iterations); a row whose likelihood went down has its
    step shortened towards the last accepted beta (1/2, then 1/6, ...: the step-halving of survival's
    ``coxfit6.c``; survival 3.5 used a trust region there instead, which ends at the same maximum). A row that
    then fails R's "coefficient may be infinite" check (the next Newton step larger than 1e-9 and than
    sqrt(1e-9) x |beta|: the likelihood is still rising, e.g. the row separates the events), that does not
    converge, is constant, or has a non-finite value gives NaN. Converged rows take one more Newton step
    (beta to machine precision, as PHReg's own tolerance gives) and the SE is 1 / sqrt(information) there.
    Samples with a missing time or event are left out of every row; with fewer than ``min_samples`` (default
    :data:`MIN_SAMPLES_COX`) samples left, or no event, every row is NaN.

    The risk-set and tie structure is computed once from the sorted times; every iteration is a handful of
    B x n and B x events matrix operations (B = 1000, n = 2000: about a second). The rows are fitted in chunks
    (at most :data:`MANY_CHUNK_ELEMENTS` values) over ``threads`` threads; each row's fit is its own, so no result
    depends on the chunks or the thread count."""
    min_samples = _check_min_samples(min_samples)
    threads = check_threads(threads)
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[None, :]
    t, e = _as_float(time, "time"), _as_float(event, "event")
    if X.ndim != 2 or t.size != X.shape[1] or e.size != X.shape[1]:
        raise SeedsigError(
            "cox_univariate_many: X must be rows x samples with one time and event per sample; got X of shape "
            f"{X.shape}, {t.size} times and {e.size} events."
        )
    _check_event(e)
    B = X.shape[0]
    beta_out, se_out = np.full(B, np.nan), np.full(B, np.nan)
    keep = np.isfinite(t) & np.isfinite(e)
    X, t, e = X[:, keep], aeq_times(t[keep]), e[keep]
    n = t.size
    if B == 0 or n < min_samples or e.sum() == 0:
        return beta_out, se_out
    order = _canonical_order(t, e)
    X, t, e = X[:, order], t[order], e[order]
    rs = _RiskSets(t, e)
    usable = np.isfinite(X).all(axis=1)
    usable[usable] = X[usable].max(axis=1) > X[usable].min(axis=1)
    rows = np.flatnonzero(usable)

    def fit(part: slice) -> None:  # rows per chunk: bounded memory, each row's fit on its own
        r = rows[part]
        beta_out[r], se_out[r] = _newton_many(X[r], rs)

    thread_map(fit, split(rows.size, max(1, MANY_CHUNK_ELEMENTS // n), threads), threads)
    return beta_out, se_out


def _newton_many(xs: np.ndarray, rs: _RiskSets) -> tuple[np.ndarray, np.ndarray]:
    """Newton-Raphson of :func:`cox_univariate_many` for usable rows (finite, not constant; samples sorted)."""
    n = xs.shape[1]
    beta_out, se_out = np.full(xs.shape[0], np.nan), np.full(xs.shape[0], np.nan)
    rows = np.arange(xs.shape[0])
    xs = xs - xs.mean(axis=1, keepdims=True)
    xs /= np.sqrt((xs * xs).sum(axis=1, keepdims=True) / (n - 1))
    R = rows.size
    # iteration 0 at beta = 0
    beta = np.zeros(R)
    best, u, info = _efron_many(xs, beta, rs)
    with np.errstate(divide="ignore", invalid="ignore"):
        newbeta = beta + u / info
    halving = np.zeros(R)
    done = np.zeros(R, dtype=bool)
    failed = ~(np.isfinite(best) & np.isfinite(newbeta) & (info > 0))
    fin_u, fin_info = np.full(R, np.nan), np.full(R, np.nan)
    for _ in range(MAX_ITER):
        act = np.flatnonzero(~done & ~failed)
        if act.size == 0:
            break
        ll, u, info = _efron_many(xs[act], newbeta[act], rs)
        finite = np.isfinite(ll) & np.isfinite(u) & np.isfinite(info)
        with np.errstate(divide="ignore", invalid="ignore"):
            conv = finite & (np.abs(1.0 - best[act] / ll) <= EPS)
        ci = act[conv]
        done[ci] = True
        beta[ci] = newbeta[ci]
        fin_u[ci], fin_info[ci] = u[conv], info[conv]
        worse = ~conv & (~finite | (ll < best[act]))
        wi = act[worse]
        halving[wi] += 1
        newbeta[wi] = (newbeta[wi] + halving[wi] * beta[wi]) / (halving[wi] + 1.0)
        good = ~conv & ~worse
        gi = act[good]
        halving[gi] = 0
        best[gi] = ll[good]
        beta[gi] = newbeta[gi]
        with np.errstate(divide="ignore", invalid="ignore"):
            newbeta[gi] = newbeta[gi] + u[good] / info[good]
        failed[gi[~(info[good] > 0)]] = True
    ok = done & ~failed & (fin_info > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.abs(fin_u / fin_info)
    ok &= ~((step > EPS) & (step > TOLER_INF * np.abs(beta)))
    fi = np.flatnonzero(ok)
    if fi.size:
        b = beta[fi] + fin_u[fi] / fin_info[fi]  # one more Newton step
        _, _, info = _efron_many(xs[fi], b, rs)
        good = np.isfinite(b) & (info > 0)
        beta_out[rows[fi[good]]] = b[good]
        se_out[rows[fi[good]]] = 1.0 / np.sqrt(info[good])
    return beta_out, se_out


def random_null_p(observed_z: float, null_z) -> float:
    """Empirical two-sided p of a Wald z against random signatures' z: (b + 1) / (B + 1), B = the finite null
    values, b = those with |z| >= |observed z| (the tie rule of :func:`seedsig.core.stats.empirical_null_p`, shared
    with the correlations' null). NA when the observed z is NA or no null value is finite."""
    return empirical_null_p(observed_z, null_z)
