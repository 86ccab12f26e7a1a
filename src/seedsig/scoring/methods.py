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

``plage``
    Tomfohr et al. 2005 as in GSVA: first right singular vector of the set's standardized genes (unit
    length across samples), oriented to correlate positively with the set's mean z-score. Cohort-relative.
``singscore``
    Foroutan et al. 2018: within-sample ranks (ties "min"), mean rank of the set scaled to [0, 1]
    between the lowest and highest possible mean rank, centered (-0.5); signed sets: up score + down score
    computed on reversed ranks (its native direction handling). Single-sample. Its dispersion (MAD of the
    set's ranks over the same range; up + down) is in ``ScoreResult.dispersion`` (API only).
``score_genes``
    scanpy's ``tl.score_genes`` (set mean minus the mean of expression-binned control genes), called
    through scanpy, seeded with ``random_state``; numpy's global RNG state is restored afterwards.
``mean_z``
    the signed mean of gene z-scores: the simplest transparent score. Cohort-relative.
``ucell``, ``aucell``
    UCell and AUCell, rank-based and single-sample (flavors, ties, signed sets: :mod:`seedsig.scoring.rank_scores`).

Rows are used in a canonical order (sorted by label), so no score depends on the input row order.

Signed signatures (``up`` and ``down`` genes) score as score(up genes) - score(down genes) for every
method except singscore (native direction); unsigned lists score as ``up``. A signature is scored when at
least ``min_genes`` of its genes and at least ``min_fraction`` of them are measured; otherwise its column is NA
and the coverage table gives the reason. Small signatures (2 or 4 genes) are never dropped."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Collection, Sequence

import numpy as np
import pandas as pd

from seedsig.core.errors import SeedsigError
from seedsig.core.ranking import rank_columns, sort_positions
from seedsig.core.settings import SCORING_DEFAULTS
from seedsig.core.threads import chunk_bounds, map_chunks, resolve_threads
from seedsig.ingest.ids import representative_rows
from seedsig.scoring.rank_scores import AUCELL, UCELL
from seedsig.scoring.signatures import Signature, up_minus_down

COVERAGE_COLUMNS = (
    "signature",
    "organ",
    "complete",
    "n_genes",
    "n_present",
    "fraction_present",
    "present_genes",
    "missing_genes",
    "scored",
    "reason",
)
# genes x samples per chunk of the rank-based single-sample methods (ssgsea, singscore): chunks of samples are ranked
# and scored on the threads, each holding a few arrays of this size (bounded memory for 20,000 x 10,000)
CHUNK_ELEMENTS = 4_000_000


@dataclass(frozen=True)
class MethodSpec:
    name: str
    func: Callable[..., np.ndarray]
    single_sample: Callable[[dict], bool]
    description: str
    defaults: dict = field(default_factory=dict)
    drops_constant_genes: bool = False
    # a signature's score from its up and down sets' scores (None: no down gene) and the parameters
    combine: Callable[[np.ndarray, np.ndarray | None, dict], np.ndarray] = up_minus_down


@dataclass
class ScoreResult:
    scores: pd.DataFrame
    coverage: pd.DataFrame
    method: str
    params: dict
    single_sample: bool
    n_genes: int = 0
    dispersion: pd.DataFrame | None = (
        None  # singscore: MAD of the set's ranks / (max - min possible mean rank), up + down
    )

    def provenance(self) -> dict:
        spec = SCORING_METHODS[self.method]
        return {
            "method": self.method,
            "parameters": self.params,
            "single_sample": self.single_sample,
            "score_scale": (
                "single-sample: a sample's score does not depend on the other samples or signatures of the run"
            )
            if self.single_sample
            else (
                "cohort-relative: scores depend on the other samples of "
                "the run (compare within a cohort, not across cohorts)"
            ),
            "description": spec.description,
            "signed_signatures": "max(0, score(up genes) - w_neg x score(down genes))"
            if self.method == "ucell"
            else "score(up genes) - score(down genes)",
            "n_samples": int(self.scores.shape[0]),
            "n_genes": int(self.n_genes),
        }


def _ssgsea_es(r: np.ndarray, n: int, alpha: float) -> np.ndarray:
    """The ssGSEA walk sum from the ranks ``r`` of a set's genes (shape ..., k, samples; n genes ranked)."""
    k = r.shape[-2]
    w = r**alpha
    return (w * r).sum(axis=-2) / w.sum(axis=-2) - (n * (n + 1) / 2.0 - r.sum(axis=-2)) / (n - k)


def _ssgsea(
    x: np.ndarray, sets: list[np.ndarray], *, alpha: float = 0.25, normalize: bool = False, **_: Any
) -> np.ndarray:
    ranks = rank_columns(x)
    return (
        np.vstack([_ssgsea_es(ranks[idx, :], x.shape[0], alpha) for idx in sets]) if sets else np.empty((0, x.shape[1]))
    )


def standardize(x: np.ndarray, center: np.ndarray | None = None, scale: np.ndarray | None = None) -> np.ndarray:
    """Genes standardized across samples; ``center``/``scale``: frozen means/SDs (a reference's) instead."""
    if center is not None:
        return (x - center[:, None]) / scale[:, None]
    return (x - x.mean(axis=1, keepdims=True)) / x.std(axis=1, ddof=1, keepdims=True)


def _zscore(x: np.ndarray, sets: list[np.ndarray], center=None, scale=None, **_: Any) -> np.ndarray:
    z = standardize(x, center, scale)
    return np.vstack([z[idx, :].sum(axis=0) / np.sqrt(idx.size) for idx in sets]) if sets else np.empty((0, x.shape[1]))


def _plage(x: np.ndarray, sets: list[np.ndarray], **_: Any) -> np.ndarray:
    """First right singular vector of the set's standardized genes (GSVA's plage), sign-oriented so that it
    correlates positively with the set's mean z-score (the SVD's sign is arbitrary)."""
    z = standardize(x)
    out = np.empty((len(sets), x.shape[1]))
    for i, idx in enumerate(sets):
        _, _, vt = np.linalg.svd(z[idx, :], full_matrices=False)
        v = vt[0]
        mean_z = z[idx, :].mean(axis=0)
        out[i] = v if np.dot(v - v.mean(), mean_z - mean_z.mean()) >= 0 else -v
    return out


def _mean_z(x: np.ndarray, sets: list[np.ndarray], center=None, scale=None, **_: Any) -> np.ndarray:
    z = standardize(x, center, scale)
    return np.vstack([z[idx, :].mean(axis=0) for idx in sets]) if sets else np.empty((0, x.shape[1]))


def _singscore_one(ranks: np.ndarray, idx: np.ndarray, centered: bool) -> tuple[np.ndarray, np.ndarray]:
    """singscore of one directional set from its 'min'-tie ranks: mean rank scaled to [0, 1] between the
    lowest and highest possible mean rank of k genes among n (Foroutan et al. 2018); dispersion = MAD / range."""
    return singscore_from_ranks(ranks[idx, :], ranks.shape[0], centered)


def singscore_from_ranks(r: np.ndarray, n: int, centered: bool) -> tuple[np.ndarray, np.ndarray]:
    """singscore and dispersion of one directional set from its genes' ranks ``r`` (k x samples) among ``n``."""
    k = r.shape[0]
    low, high = (k + 1) / 2.0, (2 * n - k + 1) / 2.0
    score = (r.mean(axis=0) - low) / (high - low)
    med = np.median(r, axis=0)
    mad = 1.4826 * np.median(np.abs(r - med), axis=0)
    return score - (0.5 if centered else 0.0), mad / (high - low)


def _score_genes(
    x: np.ndarray,
    sets: list[np.ndarray],
    *,
    ctrl_size: int = 50,
    n_bins: int = 25,
    random_state: int = 0,
    **_: Any,
) -> np.ndarray:
    """scanpy.tl.score_genes (mean of the set minus mean of expression-matched control genes), called through
    scanpy on an AnnData of the usable rows. scanpy seeds numpy's global RNG; its state is restored after."""
    import anndata as ad
    import scanpy as sc

    names = np.array([f"r{i}" for i in range(x.shape[0])])
    adata = ad.AnnData(X=np.ascontiguousarray(x.T), var=pd.DataFrame(index=names))
    out = np.empty((len(sets), x.shape[1]))
    state = np.random.get_state()
    try:
        for i, idx in enumerate(sets):
            out[i] = (
                sc.tl.score_genes(
                    adata,
                    names[idx].tolist(),
                    ctrl_size=ctrl_size,
                    n_bins=n_bins,
                    random_state=random_state,
                    copy=True,
                    use_raw=False,
                )
                .obs["score"]
                .to_numpy()
            )
    finally:
        np.random.set_state(state)
    return out


GSVA_CDF_MAX, GSVA_CDF_RESOLUTION = 10.0, 10000


# |y - y'| <= 6 ulp(y) < 2e-11 for y = |d / bw| / 10 * 10000 (GSVA's expression, three roundings) and
# y' = |d| * (1000 / bw) (two roundings) up to y = 20,000: int(y') = int(y) unless y' is this close to an integer
GSVA_INDEX_MARGIN = 1e-9


def _numba_threads(threads: int | None) -> int:
    """numba's thread count for the next parallel call: ``threads`` (None: every core), at most numba's pool."""
    from numba import config, set_num_threads

    n = min(resolve_threads(threads), config.NUMBA_NUM_THREADS)
    set_num_threads(n)
    return n


def gsva_density(x: np.ndarray, kcdf: str, *, threads: int | None = 1) -> np.ndarray:
    """GSVA's per-gene kernel estimate of each sample's CDF position, as logit (genes x samples).

    gaussian: mean_k Phi((x_ij - x_ik) / h_i), bandwidth h_i = sd(x_i) / 4, with Phi read from GSVA's table
    (|v| <= 10 in steps of 0.001, index truncated; it differs from Phi by < 4e-4) so the numbers are GSVA's;
    compiled with numba, parallel over genes (:mod:`seedsig.scoring.gsva_kernel`: GSVA's numbers bit for bit).
    poisson: mean_k P(Pois(x_ik + 0.5) <= x_ij), numpy, chunked
    over genes. none: the empirical CDF."""
    from scipy.special import pdtr

    g, n = x.shape
    out = np.empty((g, n))
    if kcdf == "none":
        f = rank_columns(x.T, "max", threads=threads).T / n  # ecdf(x)(x)
        with np.errstate(divide="ignore"):
            return np.log(f / (1.0 - f))
    sd = x.std(axis=1, ddof=1)
    if kcdf == "gaussian":
        from scipy.special import ndtr as _ndtr

        from seedsig.scoring.gsva_kernel import gaussian_density  # compiled with numba (imported on first use)

        table = _ndtr(np.arange(GSVA_CDF_RESOLUTION + 1) * GSVA_CDF_MAX / GSVA_CDF_RESOLUTION)
        _numba_threads(threads)
        with np.errstate(divide="ignore"):
            x = np.ascontiguousarray(x, dtype=np.float64)
            return gaussian_density(x, sd, table, GSVA_CDF_RESOLUTION, GSVA_CDF_MAX, GSVA_INDEX_MARGIN)

    def poisson(a: int, b: int) -> None:  # scipy's ufuncs release the GIL: chunks of genes on the threads
        xa = x[a:b]
        f = pdtr(xa[:, :, None], xa[:, None, :] + 0.5).mean(axis=2)
        with np.errstate(divide="ignore"):
            out[a:b] = np.log(f / (1.0 - f))

    map_chunks(poisson, chunk_bounds(g, int(4e6 // max(n * n, 1))), threads)
    return out


def gsva_kcdf(x: np.ndarray, kcdf: str) -> str:
    """kcdf "auto": poisson for non-negative integer counts, gaussian otherwise."""
    if kcdf != "auto":
        return kcdf
    return "poisson" if np.all(np.equal(np.mod(x, 1), 0)) and x.min() >= 0 else "gaussian"


def _gsva(
    x: np.ndarray,
    sets: list[np.ndarray],
    *,
    kcdf: str = "auto",
    max_diff: bool = True,
    abs_ranking: bool = False,
    tau: float = 1.0,
    threads: int | None = 1,
    density: np.ndarray | None = None,
) -> np.ndarray:
    """GSVA (Hanzelmann et al. 2013) as in GSVA 1.46: kernel CDF per gene, genes ordered per sample by
    decreasing density, rank scores |n - p + 1 - n/2| as walk weights (tau), and the KS-like random walk's
    maximum deviations (max_diff: positive + negative; abs_ranking: positive - negative).
    The walk is evaluated only at the set genes' positions (its extremes lie there), vectorized over samples.
    ``density``: the kernel CDFs already estimated (against a reference: :mod:`seedsig.scoring.reference`)."""
    dens = gsva_density(x, gsva_kcdf(x, kcdf), threads=threads) if density is None else density
    g, n = dens.shape
    # as R's order(decreasing=TRUE): tied densities keep row order. Exact ties across genes occur with few
    # samples (GSVA's tabulated kernel); the pipeline's rows are sorted by symbol, so its scores are deterministic.
    pos = np.ascontiguousarray(sort_positions(-dens.T, threads=threads).T)  # 0-based position of each gene
    rank_score = np.abs((g - pos).astype(float) - g / 2.0)  # abs(seq(n, 1) - n/2) at each gene's position
    out = np.empty((len(sets), n))
    for i, idx in enumerate(sets):
        k = idx.size
        p = pos[idx, :]  # k x samples
        srt = np.argsort(p, axis=0)
        p_sorted = np.take_along_axis(p, srt, axis=0)
        w = np.take_along_axis(rank_score[idx, :], srt, axis=0) ** tau
        cw = np.cumsum(w, axis=0) / w.sum(axis=0)
        misses = (p_sorted - np.arange(k)[:, None]) / (g - k)  # misses before each hit, times the decrement
        after = cw - misses
        before = cw - w / w.sum(axis=0) - misses
        mx_pos = np.maximum(after.max(axis=0), 0.0)
        mx_neg = np.minimum(before.min(axis=0), 0.0)
        if max_diff:
            out[i] = mx_pos - mx_neg if abs_ranking else mx_pos + mx_neg
        else:
            out[i] = np.where(mx_pos > np.abs(mx_neg), mx_pos, mx_neg)
    return out


SCORING_METHODS: dict[str, MethodSpec] = {
    "ssgsea": MethodSpec(
        "ssgsea",
        _ssgsea,
        single_sample=lambda p: not p.get("normalize", False),
        description=(
            "single-sample GSEA (Barbie et al. 2009) as in GSVA, rank-based random-walk sum with weight exponent alpha"
        ),
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
    "gsva": MethodSpec(
        "gsva",
        _gsva,
        single_sample=lambda p: False,
        description=(
            "GSVA (Hanzelmann et al. 2013) as in GSVA 1.46: per-gene kernel CDF across samples (kcdf auto "
            "= gaussian for continuous, poisson for integer counts), rank-score-weighted KS walk, max_diff"
        ),
        defaults={"kcdf": "auto", "max_diff": True, "abs_ranking": False, "tau": 1.0},
        drops_constant_genes=True,
    ),
    "plage": MethodSpec(
        "plage",
        _plage,
        single_sample=lambda p: False,
        description=(
            "PLAGE (Tomfohr et al. 2005) as in GSVA: first right singular vector of "
            "the standardized set genes, sign-oriented to agree with their mean z-score"
        ),
        defaults={},
        drops_constant_genes=True,
    ),
    "singscore": MethodSpec(
        "singscore",
        None,  # native up/down handling in score()
        single_sample=lambda p: True,
        description=(
            "singscore (Foroutan et al. 2018): mean within-sample rank (ties 'min') of the "
            "set, scaled to [0, 1] and centered; up + down (reversed ranks) for signed sets"
        ),
        defaults={"centered": True},
    ),
    "score_genes": MethodSpec(
        "score_genes",
        _score_genes,
        single_sample=lambda p: False,
        description=(
            "scanpy.tl.score_genes: mean expression of the set minus that of "
            "expression-binned control genes (seeded, global RNG untouched)"
        ),
        defaults={"ctrl_size": 50, "n_bins": 25, "random_state": 0},
    ),
    "mean_z": MethodSpec(
        "mean_z",
        _mean_z,
        single_sample=lambda p: False,
        description=(
            "signed mean of gene z-scores (genes standardized across "
            "samples): mean z of up genes minus mean z of down genes"
        ),
        defaults={},
        drops_constant_genes=True,
    ),
    "ucell": MethodSpec("ucell", **UCELL),
    "aucell": MethodSpec("aucell", **AUCELL),
}
RANK_METHODS = ("ssgsea", "singscore", "ucell", "aucell")  # ranked with each sample's values contiguous


# ------------------------------------------------------------------------------------------- coverage
def _row_positions(matrix: pd.DataFrame, row_symbols: Sequence[str] | None, usable: np.ndarray) -> dict[str, int]:
    """symbol -> row position of the one usable row representing it (highest mean when several)."""

    labels = np.asarray(matrix.index.astype(str))
    symbols = labels if row_symbols is None else np.asarray(list(map(str, row_symbols)), dtype=object)
    if len(symbols) != matrix.shape[0]:
        raise ValueError("row_symbols must have one entry per matrix row")
    pos = np.flatnonzero(usable)
    if pos.size == 0:
        return {}
    # the mean decides only between rows of one symbol: computed for those rows alone
    shared = pd.Index(symbols[pos]).duplicated(keep=False)
    means = np.zeros(pos.size)
    if shared.any():
        values, rows = matrix.to_numpy(), pos[shared]
        step = max(1, USABLE_CHUNK_ELEMENTS // max(values.shape[1], 1))  # chunks of rows: no copy of the matrix
        means[shared] = np.concatenate(
            [np.nanmean(values[rows[a : a + step]], axis=1) for a in range(0, rows.size, step)]
        )
    keep = pos[representative_rows(symbols[pos], labels[pos], means)]
    return {str(symbols[i]): int(i) for i in keep}


USABLE_CHUNK_ELEMENTS = 4_000_000  # values per chunk of rows when finding the usable rows


def _usable_rows(values: np.ndarray, drop_constant: bool) -> tuple[np.ndarray, np.ndarray]:
    finite = np.empty(values.shape[0], dtype=bool)
    constant = np.zeros(values.shape[0], dtype=bool)
    step = max(1, USABLE_CHUNK_ELEMENTS // max(values.shape[1], 1))
    for a in range(0, values.shape[0], step):  # chunks of rows: no temporary of the matrix's size
        v = values[a : a + step]
        f = np.isfinite(v).all(axis=1)
        finite[a : a + step] = f
        if drop_constant and values.shape[1] > 0:
            w = np.where(f[:, None], v, 0.0)
            constant[a : a + step] = f & (w.max(axis=1) == w.min(axis=1))
    return finite & ~constant, constant


def _coverage(
    sig: Signature, present: list[str], missing: list[str], constant: list[str], min_genes: int, min_fraction: float
) -> dict:
    n, k = sig.size, len(present)
    frac = k / n if n else 0.0
    reason = ""
    if k == 0:
        reason = (
            "no signature gene is in the cohort"
            if not constant
            else f"every measured gene is constant across samples ({', '.join(constant)}), which this method leaves out"
        )
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


def usable_matrix(
    matrix: pd.DataFrame, row_symbols: Sequence[str] | None, drop_constant: bool, *, order: str = "C"
) -> tuple[np.ndarray, dict[str, int], np.ndarray]:
    """The usable rows (finite; non-constant if asked) in a canonical order (sorted by row label, so no result
    depends on the input row order, ties in GSVA's density included), the row of each symbol in it (one row
    per symbol: highest mean), and their labels. No row is dropped or merged otherwise. ``order``: the memory
    layout of the rows returned, "C" (genes contiguous: the layout the methods that reduce over samples were
    written for) or "F" (samples contiguous: what ranking wants; a data frame's values already are)."""
    values = matrix.to_numpy(dtype=np.float64)
    upos, rows, labels = usable_rows(matrix, row_symbols, drop_constant)
    if order == "C":
        x = values[upos]
    elif upos.size == values.shape[0] and values.flags.f_contiguous and (upos == np.arange(upos.size)).all():
        x = values  # every row usable and already in label order (the pipeline's matrices): no copy
    else:
        x = np.take(values.T, upos, axis=1).T  # take gives samples x genes in C order
    return x, rows, labels


def usable_rows(
    matrix: pd.DataFrame, row_symbols: Sequence[str] | None, drop_constant: bool
) -> tuple[np.ndarray, dict[str, int], np.ndarray]:
    """What :func:`usable_matrix` gives without copying the matrix: the positions of the usable rows in
    ``matrix`` (in the canonical order), the row of each symbol among them, and their labels."""
    values = matrix.to_numpy(dtype=np.float64)
    usable, _ = _usable_rows(values, drop_constant)
    rows = _row_positions(matrix, row_symbols, usable)
    labels = np.asarray(matrix.index.astype(str))
    upos = np.flatnonzero(usable)
    upos = upos[np.argsort(labels[upos], kind="stable")]
    remap = np.full(values.shape[0], -1)
    remap[upos] = np.arange(upos.size)
    return upos, {g: int(remap[r]) for g, r in rows.items()}, labels[upos]


def coverage_table(
    matrix: pd.DataFrame,
    signatures: Sequence[Signature],
    *,
    row_symbols: Sequence[str] | None = None,
    min_genes: int = SCORING_DEFAULTS["min_genes"],
    min_fraction: float = SCORING_DEFAULTS["min_fraction"],
    drop_constant: bool = False,
) -> pd.DataFrame:
    """Genes present / total per signature (rows with a missing value do not count as present)."""
    usable, constant = _usable_rows(matrix.to_numpy(dtype=np.float64), drop_constant)
    rows = _row_positions(matrix, row_symbols, usable)
    const_rows = _row_positions(matrix, row_symbols, constant) if constant.any() else {}
    return coverage_of(signatures, rows, const_rows, min_genes, min_fraction)


def coverage_of(
    signatures: Sequence[Signature],
    present: Collection[str],
    constant: Collection[str],
    min_genes: int,
    min_fraction: float,
) -> pd.DataFrame:
    """The coverage table given the measured genes (``present``) and those measured but constant; every other
    signature gene is missing. Shared by the bulk engine and the per-cell scoring."""
    out = []
    for sig in signatures:
        pres = [g for g in sig.genes if g in present]
        const = [g for g in sig.genes if g not in present and g in constant]
        missing = [g for g in sig.genes if g not in present and g not in constant]
        out.append(_coverage(sig, pres, missing, const, min_genes, min_fraction))
    return pd.DataFrame(out, columns=list(COVERAGE_COLUMNS))


def _singscore_chunk(x: np.ndarray, sets: list[np.ndarray], plan, centered: bool) -> tuple[np.ndarray, np.ndarray]:
    """singscore scores and dispersions (signatures of ``plan`` x samples) of a chunk of samples."""
    up_ranks = rank_columns(x, "min")
    down_ranks = rank_columns(-x, "min")
    out, disp = np.empty((len(plan), x.shape[1])), np.empty((len(plan), x.shape[1]))
    for row, (_, u, d) in enumerate(plan):
        sc, dp = _singscore_one(up_ranks, sets[u], centered)
        if d >= 0:
            sc_d, dp_d = _singscore_one(down_ranks, sets[d], centered)
            sc, dp = sc + sc_d, dp + dp_d
        out[row], disp[row] = sc, dp
    return out, disp


def _scored(
    method: str, x: np.ndarray, sets: list[np.ndarray], plan, p: dict, n_signatures: int, threads: int | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """(scores, singscore dispersions or None), signatures x samples (NA where not scored). The rank-based
    single-sample methods run per chunk of samples on the threads (:data:`CHUNK_ELEMENTS`: the ranks of the whole
    matrix are never held at once); the others on the whole matrix (gsva's kernel on the threads)."""
    out = np.full((n_signatures, x.shape[1]), np.nan)
    disp = np.full_like(out, np.nan) if method == "singscore" else None
    if not sets:
        return out, disp
    rows = [i for i, _, _ in plan]
    if method in ("ssgsea", "singscore"):
        bounds = chunk_bounds(x.shape[1], CHUNK_ELEMENTS // max(x.shape[0], 1))
        if method == "singscore":
            parts = map_chunks(lambda a, b: _singscore_chunk(x[:, a:b], sets, plan, p["centered"]), bounds, threads)
            out[rows] = np.hstack([sc for sc, _ in parts])
            disp[rows] = np.hstack([dp for _, dp in parts])
            return out, disp
        es = np.hstack(map_chunks(lambda a, b: _ssgsea(x[:, a:b], sets, **p), bounds, threads))
    else:
        es = SCORING_METHODS[method].func(x, sets, **p, threads=threads)
    combine = SCORING_METHODS[method].combine
    for i, u, d in plan:
        out[i] = combine(es[u], es[d] if d >= 0 else None, p)
    if method == "ssgsea" and p.get("normalize"):
        rng = np.nanmax(out[rows]) - np.nanmin(out[rows])
        if rng > 0:
            out /= rng
    return out, disp


def method_params(method: str, params: dict | None) -> dict:
    """The registry method's defaults updated by ``params``; a clear error for a parameter it does not have."""
    defaults = SCORING_METHODS[method].defaults
    unknown = set(params or {}) - set(defaults)
    if unknown:
        raise SeedsigError(
            f"scoring method '{method}' has no parameter(s) {', '.join(sorted(unknown))}; "
            f"its parameters are: {', '.join(defaults) or 'none'}."
        )
    return {**defaults, **(params or {})}


# ---------------------------------------------------------------------------------------------- score
def score(
    matrix: pd.DataFrame,
    signatures: Sequence[Signature],
    method: str = "ssgsea",
    *,
    row_symbols: Sequence[str] | None = None,
    min_genes: int = SCORING_DEFAULTS["min_genes"],
    min_fraction: float = SCORING_DEFAULTS["min_fraction"],
    params: dict | None = None,
    threads: int | None = 1,
) -> ScoreResult:
    """Score every signature in every sample of a genes x samples log-expression matrix, on ``threads`` threads
    (None: every core; the scores do not depend on it)."""
    if method not in SCORING_METHODS:
        raise SeedsigError(f"scoring method '{method}' is not one of {', '.join(SCORING_METHODS)}.")
    spec = SCORING_METHODS[method]
    p = method_params(method, params)
    cov = coverage_table(
        matrix,
        signatures,
        row_symbols=row_symbols,
        min_genes=min_genes,
        min_fraction=min_fraction,
        drop_constant=spec.drops_constant_genes,
    )
    # Rank-based methods rank over every usable row of the matrix as given (no row dropped or merged).
    # ranks are exact whatever the layout: the rank-based methods take the rows with samples contiguous (no copy
    # across the layout); the others as they were written (their sums over samples keep their rounding)
    order = "F" if method in RANK_METHODS else "C"
    x, rows, _ = usable_matrix(matrix, row_symbols, spec.drops_constant_genes, order=order)
    sets: list[np.ndarray] = []
    plan: list[tuple[int, int, int]] = []  # (signature index, up set index, down set index or -1)
    for i, (sig, ok) in enumerate(zip(signatures, cov["scored"])):
        if not ok:
            continue
        up = np.array(sorted(rows[g] for g in sig.up if g in rows), dtype=np.int64)
        down = np.array(sorted(rows[g] for g in sig.down if g in rows), dtype=np.int64)
        sets.append(up)
        plan.append((i, len(sets) - 1, -1))
        if down.size:
            sets.append(down)
            plan[-1] = (i, plan[-1][1], len(sets) - 1)
    out, disp = _scored(method, x, sets, plan, p, len(signatures), threads)
    index = pd.Index(matrix.columns.astype(str), name="sample")
    scores = pd.DataFrame(out.T, index=index, columns=[s.name for s in signatures])
    dispersion = None if disp is None else pd.DataFrame(disp.T, index=index, columns=scores.columns)
    return ScoreResult(
        scores=scores,
        coverage=cov,
        method=method,
        params=p,
        single_sample=spec.single_sample(p),
        n_genes=int(x.shape[0]),
        dispersion=dispersion,
    )
