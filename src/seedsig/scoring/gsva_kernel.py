"""GSVA's Gaussian kernel (the C loop of GSVA 1.46's ``matrix_density_R``), compiled with numba, parallel over genes.

Imported on first use by :func:`seedsig.scoring.methods.gsva_density` (numba is heavy to import); compiled once and
cached beside this file (numba's cache; recompiled when this file changes).

For gene i and sample j: acc_j = Phi(0) + the sum over the other samples l, in GSVA's order (l ascending), of
T((x_ij - x_il) / h_i) with h_i = sd(x_i) / 4 and T GSVA's table kernel: Phi tabulated for |v| <= 10 in steps of
0.001, index truncated, T(-v) = 1 - T(v) exactly (so each pair is computed once, as GSVA does); the density is
-log((1 - f) / f), f = acc_j / n. The numbers are GSVA's bit for bit (tests/unit/test_threads.py), computed faster:

- the table index int(|v| / 10 * 10000) is int(|d| * (1000 / h)), one multiplication instead of two divisions; the two
  differ only where the latter is within ``margin`` of an integer, and there GSVA's own expression is used;
- |v| > 10 reads the table's last entry (Phi(10) = 1.0 in double), as GSVA's branches give 0 or 1;
- the sums of four samples j run side by side (independent chains the CPU overlaps), each in GSVA's order.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(inline="always", fastmath=False, cache=True)
def _phi(d, bw, scale, table, res, top, margin):  # pragma: no cover - compiled
    """T(d / bw) from GSVA's table ``table`` (``res`` + 1 entries over [0, ``top``])."""
    y = min(abs(d) * scale, 2.0 * res)
    k = int(y)
    if y - k < margin or y - k > 1.0 - margin:  # near an index boundary: GSVA's own expression
        k = int(min(abs(d / bw) / top * res, 2.0 * res))
    t = table[min(k, res)]
    return 1.0 - t if d < 0 else t


@njit(inline="always", fastmath=False, cache=True)
def _pairs(xi, acc, a, b, bw, scale, table, res, top, margin):  # pragma: no cover - compiled
    """GSVA's pair loop over samples a..b-1 (j < k within the range), in its order."""
    for j in range(a, b):
        for k in range(j + 1, b):
            c = _phi(xi[j] - xi[k], bw, scale, table, res, top, margin)
            acc[j] += c
            acc[k] += 1.0 - c


@njit(parallel=True, fastmath=False, cache=True)
def gaussian_density(x, sd, table, res, top, margin):  # pragma: no cover - compiled
    """GSVA's Gaussian-kernel density (genes x samples) of ``x`` (genes x samples, C order), ``sd`` the genes' SDs,
    ``table`` GSVA's Phi table of ``res`` + 1 entries over [0, ``top``]; ``margin``: see the module's text."""
    g, n = x.shape
    out = np.empty((g, n))
    for i in prange(g):
        bw = sd[i] / 4.0
        scale = (res / top) / bw
        xi = x[i]
        acc = np.full(n, table[0])  # the k == j term: Phi(0) = 0.5
        j0 = 0
        while j0 + 4 <= n:  # samples j0..j0+3 against every later sample k
            _pairs(xi, acc, j0, j0 + 4, bw, scale, table, res, top, margin)
            a0, a1, a2, a3 = acc[j0], acc[j0 + 1], acc[j0 + 2], acc[j0 + 3]
            x0, x1, x2, x3 = xi[j0], xi[j0 + 1], xi[j0 + 2], xi[j0 + 3]
            for k in range(j0 + 4, n):
                xk = xi[k]
                c0 = _phi(x0 - xk, bw, scale, table, res, top, margin)
                c1 = _phi(x1 - xk, bw, scale, table, res, top, margin)
                c2 = _phi(x2 - xk, bw, scale, table, res, top, margin)
                c3 = _phi(x3 - xk, bw, scale, table, res, top, margin)
                a0 += c0
                a1 += c1
                a2 += c2
                a3 += c3
                acc[k] = (((acc[k] + (1.0 - c0)) + (1.0 - c1)) + (1.0 - c2)) + (1.0 - c3)
            acc[j0], acc[j0 + 1], acc[j0 + 2], acc[j0 + 3] = a0, a1, a2, a3
            j0 += 4
        _pairs(xi, acc, j0, n, bw, scale, table, res, top, margin)
        for j in range(n):
            f = acc[j] / n
            out[i, j] = -np.log((1.0 - f) / f)
    return out


@njit(parallel=True, fastmath=False, cache=True)
def gaussian_density_ref(y, r, sd, self_idx, table, res, top, margin):  # pragma: no cover - compiled
    """GSVA's Gaussian-kernel density of the test values ``y`` (genes x test samples) estimated on the reference
    values ``r`` (genes x reference samples; ``sd`` their SDs): GSVA's ``row_d`` with separate density and test
    samples, the mean over the reference samples l (in order) of T(y_j - r_l). A test sample that is reference sample
    ``self_idx[j]`` (>= 0) sums its terms as :func:`gaussian_density` does for it (the self term first, then
    1 - T(r_l - y_j) for l before it, T(y_j - r_l) after it), so the reference scored against itself is bit for bit
    the within-cohort density."""
    g, m = y.shape
    n = r.shape[1]
    out = np.empty((g, m))
    for i in prange(g):
        bw = sd[i] / 4.0
        scale = (res / top) / bw
        ri = r[i]
        for j in range(m):
            yj = y[i, j]
            s = self_idx[j]
            if s >= 0:
                acc = table[0]
                for k in range(s):
                    acc += 1.0 - _phi(ri[k] - yj, bw, scale, table, res, top, margin)
                for k in range(s + 1, n):
                    acc += _phi(yj - ri[k], bw, scale, table, res, top, margin)
            else:
                acc = 0.0
                for k in range(n):
                    acc += _phi(yj - ri[k], bw, scale, table, res, top, margin)
            f = acc / n
            out[i, j] = -np.log((1.0 - f) / f)
    return out
