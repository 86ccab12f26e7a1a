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
from seedsig.core.stats import rank_columns
from seedsig.core.threads import check_threads, thread_map
from seedsig.ingest.checks import check_counts, check_values
from seedsig.normalize.chunks import column_chunks, per_sample_chunks, row_chunks
from seedsig.normalize.deseq2 import (  # noqa: F401 (the DESeq2 methods are part of this module's API)
    deseq2_dispersion_trend,
    deseq2_gene_dispersions,
    deseq2_size_factors,
    deseq2_vst,
)
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
