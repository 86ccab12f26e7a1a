"""Single-sample signature scoring: one interface, methods in a registry.

``score(matrix, signatures, method)`` takes a genes x samples log-expression matrix and returns a
:class:`ScoreResult` with the same shape for every method: samples x signatures (every signature is a
column, NA where it could not be scored) and a coverage table saying why.

Methods
-------
``ssgsea``
    Barbie et al. 2009 as implemented in GSVA (``method="ssgsea"``, ``tau = alpha = 0.25``). In each
    sample genes are ranked by expression; the score is the sum over the ranked list of the difference
    between the weighted ECDF of the set genes and the ECDF of the other genes. That sum depends only on
    the ranks of the set genes: with ``R_j`` the increasing rank (1..n) of set gene ``j``, ``w_j = R_j^alpha``,

        ES = sum_j w_j R_j / sum_j w_j  -  (n (n + 1) / 2 - sum_j R_j) / (n - k),

    so each sample is ranked once and every set is scored from a gather of its ranks (vectorized
    over samples and sets). ``normalize`` (default **off**) divides every score by the range of all
    scores of the run, as GSVA does by default; off, a sample's score depends on that sample alone
    (single-sample). Ties: GSVA ranks with ``ties="average"``, truncates to integers and breaks the walk's
    order by input row order, so on tied data its scores change when rows are permuted. Here tied genes
    get their average rank (not truncated) both as weight and as position: deterministic, independent of
    row order, and identical to GSVA on tie-free data.
``zscore``
    Lee et al. 2008 as in GSVA: each gene standardized across samples (mean, SD with n-1), score =
    sum of the set's z-scores / sqrt(k). Cohort-relative. Genes constant across samples are left out
    (as GSVA 1.46 does) and reported.

Signed signatures (``up`` and ``down`` genes) score as score(up genes) - score(down genes) for both
methods; unsigned lists score as ``up``. A signature is scored when at least ``min_genes`` of its
genes and at least ``min_fraction`` of them are measured; otherwise its column is NA and the coverage
table gives the reason. Small signatures (2 or 4 genes) are never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from .errors import SeedsigError
from .signatures import Signature

COVERAGE_COLUMNS = ("signature", "organ", "complete", "n_genes", "n_present", "fraction_present", "present_genes", "missing_genes", "scored", "reason")
CHUNK_ELEMENTS = 20_000_000  # genes x samples per chunk when ranking (bounded memory)


@dataclass(frozen=True)
class MethodSpec:
    name: str
    func: Callable[..., np.ndarray]
    single_sample: Callable[[dict], bool]
    description: str
    defaults: dict = field(default_factory=dict)
    drops_constant_genes: bool = False


@dataclass
class ScoreResult:
    scores: pd.DataFrame
    coverage: pd.DataFrame
    method: str
    params: dict
    single_sample: bool
    n_genes: int = 0

    def provenance(self) -> dict:
        spec = METHODS[self.method]
        return {
            "method": self.method,
            "parameters": self.params,
            "single_sample": self.single_sample,
            "score_scale": "single-sample: a sample's score does not depend on the other samples or signatures of the run"
            if self.single_sample
            else "cohort-relative: scores depend on the other samples of the run (compare within a cohort, not across cohorts)",
            "description": spec.description,
            "signed_signatures": "score(up genes) - score(down genes)",
            "n_samples": int(self.scores.shape[0]),
            "n_genes": int(self.n_genes),
        }


# ------------------------------------------------------------------------------------------- ranking
def rank_columns(x: np.ndarray) -> np.ndarray:
    """Average ranks (1..n, ties averaged) of each column, vectorized; float64."""
    from scipy.stats import rankdata

    n, m = x.shape
    out = np.empty((n, m), dtype=np.float64)
    step = max(1, CHUNK_ELEMENTS // max(n, 1))
    for start in range(0, m, step):  # chunks of samples: bounded memory for 20,000 x 10,000
        out[:, start : start + step] = rankdata(x[:, start : start + step], axis=0, method="average")
    return out


def _ssgsea_from_ranks(ranks: np.ndarray, idx: np.ndarray, alpha: float) -> np.ndarray:
    """ES of one gene set (row indices ``idx``) in every sample, from the rank matrix (genes x samples)."""
    n = ranks.shape[0]
    k = idx.size
    r = ranks[idx, :]  # k x samples
    w = r**alpha
    hit = (w * r).sum(axis=0) / w.sum(axis=0)
    miss = (n * (n + 1) / 2.0 - r.sum(axis=0)) / (n - k)
    return hit - miss


def _ssgsea(x: np.ndarray, sets: list[np.ndarray], *, alpha: float = 0.25, normalize: bool = False, ranks: np.ndarray | None = None) -> np.ndarray:
    ranks = rank_columns(x) if ranks is None else ranks
    out = np.vstack([_ssgsea_from_ranks(ranks, idx, alpha) for idx in sets]) if sets else np.empty((0, x.shape[1]))
    return out


def _zscore(x: np.ndarray, sets: list[np.ndarray], **_: Any) -> np.ndarray:
    mu = x.mean(axis=1, keepdims=True)
    sd = x.std(axis=1, ddof=1, keepdims=True)
    z = (x - mu) / sd
    return np.vstack([z[idx, :].sum(axis=0) / np.sqrt(idx.size) for idx in sets]) if sets else np.empty((0, x.shape[1]))


METHODS: dict[str, MethodSpec] = {
    "ssgsea": MethodSpec(
        "ssgsea",
        _ssgsea,
        single_sample=lambda p: not p.get("normalize", False),
        description="single-sample GSEA (Barbie et al. 2009) as in GSVA, rank-based random-walk sum with weight exponent alpha",
        defaults={"alpha": 0.25, "normalize": False},
    ),
    "zscore": MethodSpec(
        "zscore",
        _zscore,
        single_sample=lambda p: False,
        description="combined z-score (Lee et al. 2008) as in GSVA: genes standardized across samples, sum / sqrt(k)",
        defaults={},
        drops_constant_genes=True,
    ),
}


# ------------------------------------------------------------------------------------------- coverage
def _row_positions(matrix: pd.DataFrame, row_symbols: Sequence[str] | None, usable: np.ndarray) -> dict[str, int]:
    """symbol -> row position of the one usable row representing it (highest mean when several)."""
    from .ids import representative_rows

    labels = np.asarray(matrix.index.astype(str))
    symbols = labels if row_symbols is None else np.asarray(list(map(str, row_symbols)), dtype=object)
    if len(symbols) != matrix.shape[0]:
        raise ValueError("row_symbols must have one entry per matrix row")
    pos = np.flatnonzero(usable)
    if pos.size == 0:
        return {}
    means = np.nanmean(matrix.to_numpy()[pos], axis=1)
    keep = pos[representative_rows(symbols[pos], labels[pos], means)]
    return {str(symbols[i]): int(i) for i in keep}


def _usable_rows(values: np.ndarray, drop_constant: bool) -> tuple[np.ndarray, np.ndarray]:
    finite = np.isfinite(values).all(axis=1)
    constant = np.zeros(values.shape[0], dtype=bool)
    if drop_constant and values.shape[1] > 0:
        v = np.where(finite[:, None], values, 0.0)
        constant = finite & (v.max(axis=1) == v.min(axis=1))
    return finite & ~constant, constant


def _coverage(sig: Signature, present: list[str], missing: list[str], constant: list[str], min_genes: int, min_fraction: float) -> dict:
    n, k = sig.size, len(present)
    frac = k / n if n else 0.0
    reason = ""
    if k == 0:
        reason = "no signature gene is in the cohort" if not constant else f"every measured gene is constant across samples ({', '.join(constant)}), which this method leaves out"
    elif k < min_genes or frac < min_fraction:
        reason = (
            f"only {k} of {n} genes present; needs at least {min_genes} genes and {min_fraction:.0%} of the signature "
            "(scoring.min_genes, scoring.min_fraction)"
        )
    elif sig.signed and not [g for g in present if g in set(sig.up)]:
        reason = "no up gene of this signed signature is present"
    elif sig.signed and not [g for g in present if g in set(sig.down)]:
        reason = "no down gene of this signed signature is present"
    if constant and not reason:
        pass
    return {
        "signature": sig.name,
        "organ": sig.organ,
        "complete": "NA" if sig.complete is None else sig.complete,
        "n_genes": n,
        "n_present": k,
        "fraction_present": round(frac, 6),
        "present_genes": ",".join(present),
        "missing_genes": ",".join(missing + [f"{g} (constant)" for g in constant]),
        "scored": reason == "",
        "reason": reason,
    }


def coverage_table(matrix: pd.DataFrame, signatures: Sequence[Signature], *, row_symbols: Sequence[str] | None = None, min_genes: int = 2, min_fraction: float = 0.5, drop_constant: bool = False) -> pd.DataFrame:
    """Genes present / total per signature (rows with a missing value do not count as present)."""
    usable, constant = _usable_rows(matrix.to_numpy(dtype=np.float64), drop_constant)
    rows = _row_positions(matrix, row_symbols, usable)
    const_rows = _row_positions(matrix, row_symbols, constant) if constant.any() else {}
    out = []
    for sig in signatures:
        present = [g for g in sig.genes if g in rows]
        const = [g for g in sig.genes if g not in rows and g in const_rows]
        missing = [g for g in sig.genes if g not in rows and g not in const_rows]
        out.append(_coverage(sig, present, missing, const, min_genes, min_fraction))
    return pd.DataFrame(out, columns=list(COVERAGE_COLUMNS))


# ---------------------------------------------------------------------------------------------- score
def score(
    matrix: pd.DataFrame,
    signatures: Sequence[Signature],
    method: str = "ssgsea",
    *,
    row_symbols: Sequence[str] | None = None,
    min_genes: int = 2,
    min_fraction: float = 0.5,
    params: dict | None = None,
) -> ScoreResult:
    """Score every signature in every sample of a genes x samples log-expression matrix."""
    if method not in METHODS:
        raise SeedsigError(f"scoring method '{method}' is not one of {', '.join(METHODS)}.")
    spec = METHODS[method]
    unknown = set(params or {}) - set(spec.defaults)
    if unknown:
        raise SeedsigError(f"scoring method '{method}' has no parameter(s) {', '.join(sorted(unknown))}; its parameters are: {', '.join(spec.defaults) or 'none'}.")
    p = {**spec.defaults, **(params or {})}
    values = matrix.to_numpy(dtype=np.float64)
    usable, _ = _usable_rows(values, spec.drops_constant_genes)
    cov = coverage_table(matrix, signatures, row_symbols=row_symbols, min_genes=min_genes, min_fraction=min_fraction, drop_constant=spec.drops_constant_genes)
    rows = _row_positions(matrix, row_symbols, usable)
    # Rank-based methods rank over every usable row of the matrix as given (no row dropped or merged).
    upos = np.flatnonzero(usable)
    x = values[upos]
    remap = np.full(values.shape[0], -1)
    remap[upos] = np.arange(upos.size)
    sets: list[np.ndarray] = []
    plan: list[tuple[int, int, int]] = []  # (signature index, up set index, down set index or -1)
    for i, (sig, ok) in enumerate(zip(signatures, cov["scored"])):
        if not ok:
            continue
        up = np.array(sorted(remap[rows[g]] for g in sig.up if g in rows), dtype=np.int64)
        down = np.array(sorted(remap[rows[g]] for g in sig.down if g in rows), dtype=np.int64)
        sets.append(up)
        plan.append((i, len(sets) - 1, -1))
        if down.size:
            sets.append(down)
            plan[-1] = (i, plan[-1][1], len(sets) - 1)
    out = np.full((len(signatures), values.shape[1]), np.nan)
    if sets:
        es = spec.func(x, sets, **p)
        for i, u, d in plan:
            out[i] = es[u] - (es[d] if d >= 0 else 0.0)
        if method == "ssgsea" and p.get("normalize"):
            scored = out[[i for i, _, _ in plan]]
            rng = np.nanmax(scored) - np.nanmin(scored)
            if rng > 0:
                out /= rng
    scores = pd.DataFrame(out.T, index=pd.Index(matrix.columns.astype(str), name="sample"), columns=[s.name for s in signatures])
    return ScoreResult(scores=scores, coverage=cov, method=method, params=p, single_sample=spec.single_sample(p), n_genes=int(upos.size))
