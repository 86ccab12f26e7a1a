"""The random-signature null (Venet et al. 2011), one code path for every scoring method and every stage.

:func:`random_null_scores` is the one entry point: given the prepared expression (genes x samples), a signature,
a method, B, a seed and the method's parameters, it returns the B x samples scores of B random signatures
matched to the signature. The association stage (``p_random_null`` of the correlations,
``null_correlations.tsv.gz``) and the outcome stage (``p_random_null`` of the Cox models) both call it.

How the random signatures are drawn (:func:`draw_random_sets`): the usable rows of the matrix (as
:func:`seedsig.scoring.methods.usable_matrix` gives them for the method) are put in :data:`N_BINS` equal-count
bins by mean expression (:func:`expression_bins`); for the up genes, then the down genes, of the signature,
:func:`matched_random_sets` draws B sets with the same number of genes from each bin, never a gene of the
signature itself. One ``np.random.default_rng(seed)`` draws everything, in that order; the global RNG is not
touched.

How they are scored: the methods in :data:`NULL_METHODS` are vectorized (the matrix is ranked or standardized
once and all sets of a size are scored together, with the kernels of :mod:`seedsig.scoring.methods` and
:mod:`seedsig.scoring.rank_scores`; ucell's ranks depend on its ``flavor``, so its matrix is prepared for one); the
other methods (gsva, plage, score_genes) score the same random sets as ordinary signatures with one call of
:func:`seedsig.scoring.methods.score`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from seedsig.core.errors import SeedsigError
from seedsig.core.stats import rank_columns
from seedsig.core.threads import check_threads, split, thread_map
from seedsig.scoring.methods import SCORING_METHODS, _ssgsea_es, score, standardize, usable_rows
from seedsig.scoring.rank_scores import (
    aucell_from_ranks,
    aucell_n_up,
    aucell_ranks,
    check_ucell_size,
    ucell_from_ranks,
    ucell_max_rank,
    ucell_ranks,
)
from seedsig.scoring.signatures import Signature, up_minus_down

N_BINS = 25  # expression bins of the matched random sets
NULL_METHODS = ("ssgsea", "zscore", "mean_z", "singscore", "ucell", "aucell")  # methods with a vectorized null
CHUNK_ELEMENTS = 4_000_000  # sets x genes x samples per chunk of the vectorized scores (~32 MB, per thread)


def expression_bins(means: np.ndarray, n_bins: int = N_BINS) -> np.ndarray:
    """Bin index (0..n_bins-1) of each gene by its mean expression (equal-count bins, as scanpy's controls)."""
    order = np.argsort(means, kind="mergesort")
    bins = np.empty(len(means), dtype=np.int64)
    bins[order] = np.arange(len(means)) * n_bins // max(len(means), 1)
    return bins


def matched_random_sets(bins: np.ndarray, idx: np.ndarray, n_sets: int, rng: np.random.Generator) -> np.ndarray:
    """``n_sets`` random gene sets (rows of row indices) matched to the set ``idx``: the same number of genes
    from each expression bin, distinct within a set, never a gene of ``idx`` itself."""
    out = np.empty((n_sets, idx.size), dtype=np.int64)
    col = 0
    exclude = np.zeros(len(bins), dtype=bool)
    exclude[idx] = True
    for b in np.unique(bins[idx]):
        need = int((bins[idx] == b).sum())
        pool = np.flatnonzero((bins == b) & ~exclude)
        if pool.size < need:  # tiny matrices: widen to all non-set genes
            pool = np.flatnonzero(~exclude)
        keys = rng.random((n_sets, pool.size))
        pick = (
            np.argpartition(keys, need - 1, axis=1)[:, :need]
            if need < pool.size
            else np.tile(np.arange(pool.size), (n_sets, 1))
        )
        out[:, col : col + need] = pool[pick]
        col += need
    return out


@dataclass(frozen=True)
class NullMatrix:
    """The expression prepared once for any number of random nulls of one method: the usable rows (``labels``; the row
    of each symbol in ``rows``), their expression bins, and for the vectorized methods the ranked or standardized
    matrix (``prep_up``, ``prep_down``: the same array unless the method ranks the down genes apart). Made by
    :func:`null_matrix`; reused by the stages over every signature of a method (one ranking of the matrix, not one per
    signature)."""

    method: str
    labels: np.ndarray
    rows: dict[str, int]
    bins: np.ndarray
    n_rows: int
    n_samples: int
    prep_up: np.ndarray | None
    prep_down: np.ndarray | None
    prepared_for: tuple = ()  # the parameters the prepared matrix depends on (:func:`_prep_key`)


def _prep_key(method: str, params: dict | None) -> tuple:
    """The parameters of ``method`` its prepared matrix depends on: ucell's flavor (which values it ranks)."""
    if method == "ucell":
        return (("flavor", {**SCORING_METHODS[method].defaults, **(params or {})}["flavor"]),)
    return ()


def null_matrix(
    expr: pd.DataFrame, method: str, *, vectorized: bool | None = None, params: dict | None = None
) -> NullMatrix:
    """The :class:`NullMatrix` of ``expr`` (genes x samples) for ``method`` (prepared for vectorized scoring when the
    method has it, or ``vectorized``; ``params``: the method's parameters, which ucell's ranks depend on)."""
    if method not in SCORING_METHODS:
        raise SeedsigError(f"scoring method '{method}' is not one of {', '.join(SCORING_METHODS)}.")
    if vectorized is None:
        vectorized = method in NULL_METHODS
    upos, rows, labels = usable_rows(expr, None, SCORING_METHODS[method].drops_constant_genes)
    values = expr.to_numpy(dtype=np.float64)
    n_cols = values.shape[1]
    by_rows = _chunks(upos.size, n_cols)  # the usable rows (C order, as usable_matrix copies them), by chunks
    bins = expression_bins(np.concatenate([values[upos[c]].mean(axis=1) for c in by_rows] or [np.empty(0)]), N_BINS)
    prep_up = prep_down = None
    if vectorized and method in NULL_METHODS:
        if method == "zscore" or method == "mean_z":  # per row
            prep_up = prep_down = np.empty((upos.size, n_cols))
            for c in by_rows:
                prep_up[c] = standardize(values[upos[c]])
        else:  # ranks per column (sample)
            prep_up = np.empty((upos.size, n_cols))
            prep_down = np.empty((upos.size, n_cols)) if method == "singscore" else prep_up
            key = dict(_prep_key(method, params))
            for c in _chunks(n_cols, upos.size):
                block = values[np.ix_(upos, np.arange(n_cols)[c])]
                if method == "ucell":
                    prep_up[:, c] = ucell_ranks(block, key["flavor"])
                elif method == "aucell":
                    prep_up[:, c] = aucell_ranks(block)
                else:
                    prep_up[:, c] = rank_columns(block) if method == "ssgsea" else rank_columns(block, "min")
                if method == "singscore":
                    prep_down[:, c] = rank_columns(-block, "min")
    return NullMatrix(method, labels, rows, bins, upos.size, n_cols, prep_up, prep_down, _prep_key(method, params))


def _chunks(n: int, other: int) -> list[slice]:
    """Slices of ``range(n)`` of about CHUNK_ELEMENTS / 2 values each (``other`` values per item)."""
    step = max(1, int(CHUNK_ELEMENTS // 2 // max(other, 1)))
    return [slice(a, min(a + step, n)) for a in range(0, n, step)]


@dataclass(frozen=True)
class RandomSets:
    """B random signatures matched to one signature, as rows of the usable matrix (labels ``labels``): ``up``
    (B x k_up) and ``down`` (B x k_down) row indices; a direction without a measured gene has 0 columns."""

    labels: np.ndarray
    up: np.ndarray
    down: np.ndarray

    def gene_sets(self) -> list[tuple[str, ...]]:
        """The random signatures as gene lists, up genes then down genes."""
        up, down = self.labels[self.up], self.labels[self.down]
        return [(*up[i], *down[i]) for i in range(self.up.shape[0])]


def draw_random_sets(
    expr: pd.DataFrame, signature: Signature, method: str, n: int, seed: int, *, matrix: NullMatrix | None = None
) -> RandomSets:
    """The ``n`` random signatures matched to ``signature`` in ``expr`` (genes x samples) for ``method`` (whose
    usable rows they are drawn from; ``matrix``: the :class:`NullMatrix` of ``expr`` and ``method`` when the caller
    has it), seeded with ``seed``: up genes first, then down genes, from one ``np.random.default_rng(seed)``. Raises
    :class:`SeedsigError` for an unknown method or a signature without a measured gene."""
    if matrix is None:
        matrix = null_matrix(expr, method, vectorized=False)
    rows, bins = matrix.rows, matrix.bins
    rng = np.random.default_rng(seed)
    parts = []
    for genes in (signature.up, signature.down):
        idx = np.array(sorted(rows[g] for g in genes if g in rows), dtype=np.int64)
        parts.append(matched_random_sets(bins, idx, n, rng) if idx.size else np.empty((n, 0), dtype=np.int64))
    if not any(p.shape[1] for p in parts):
        raise SeedsigError(
            f"signature '{signature.name}' has no gene in the matrix: no random null can be matched to it."
        )
    return RandomSets(labels=matrix.labels, up=parts[0], down=parts[1])


def random_gene_sets(expr: pd.DataFrame, signature: Signature, method: str, n: int, seed: int) -> list[tuple[str, ...]]:
    """The gene lists (up genes, then down genes) of the ``n`` random signatures that :func:`random_null_scores`
    scores with the same arguments."""
    return draw_random_sets(expr, signature, method, n, seed).gene_sets()


def random_null_scores(
    expr: pd.DataFrame,
    signature: Signature,
    method: str,
    n: int,
    seed: int,
    params: dict | None = None,
    *,
    vectorized: bool | None = None,
    threads: int = 1,
    matrix: NullMatrix | None = None,
) -> np.ndarray:
    """Scores (n x samples, samples in ``expr``'s column order) of ``n`` random signatures matched to
    ``signature`` (size per direction and expression bins of its measured genes), seeded with ``seed``, for
    any scoring method with its parameters ``params``.

    Methods in :data:`NULL_METHODS` are scored vectorized, in chunks of random signatures over ``threads`` threads
    (the scores do not depend on it); the others (or ``vectorized=False``) score the same random gene sets as
    ordinary signatures with :func:`seedsig.scoring.methods.score` (one call for all sets). ``matrix``: the
    :class:`NullMatrix` of ``expr`` and ``method`` (from :func:`null_matrix`), to prepare the matrix once for many
    signatures."""
    if method not in SCORING_METHODS:
        raise SeedsigError(f"scoring method '{method}' is not one of {', '.join(SCORING_METHODS)}.")
    if vectorized is None:
        vectorized = method in NULL_METHODS
    if vectorized and method not in NULL_METHODS:
        raise SeedsigError(f"random-signature nulls support the methods {', '.join(NULL_METHODS)}, not '{method}'.")
    if matrix is None or (vectorized and (matrix.prep_up is None or matrix.prepared_for != _prep_key(method, params))):
        matrix = null_matrix(expr, method, vectorized=vectorized, params=params)
    sets = draw_random_sets(expr, signature, method, n, seed, matrix=matrix)
    if vectorized:
        return _vectorized_scores(matrix, sets, params, check_threads(threads))
    return _scored_as_signatures(expr, sets, method, params)


def _scored_as_signatures(expr: pd.DataFrame, sets: RandomSets, method: str, params: dict | None) -> np.ndarray:
    """The random signatures scored one by one as ordinary signatures (every coverage rule off)."""
    up, down = sets.labels[sets.up], sets.labels[sets.down]
    directions = (1,) * up.shape[1] + (-1,) * down.shape[1]
    sigs = [Signature(name=f"random_{i}", genes=(*up[i], *down[i]), directions=directions) for i in range(len(up))]
    return score(expr, sigs, method, min_genes=1, min_fraction=0.0, params=params).scores.to_numpy().T


def _vectorized_scores(matrix: NullMatrix, sets: RandomSets, params: dict | None, threads: int) -> np.ndarray:
    """The random signatures scored all at once (methods of :data:`NULL_METHODS`): up score, then the down
    score subtracted (singscore: added, on reversed ranks)."""
    method = matrix.method
    p = {**SCORING_METHODS[method].defaults, **(params or {})}
    combine = SCORING_METHODS[method].combine
    if combine is not up_minus_down:  # ucell: max(0, up - w_neg down); no up gene scores 0 (as UCell)
        up, down = (
            _kernel_scores(method, prep, idx, p, matrix.n_rows, threads) if idx.shape[1] else None
            for idx, prep in ((sets.up, matrix.prep_up), (sets.down, matrix.prep_down))
        )
        return combine(np.zeros((sets.up.shape[0], matrix.n_samples)) if up is None else up, down, p)
    total = np.zeros((sets.up.shape[0], matrix.n_samples))
    for idx, prep, sign in ((sets.up, matrix.prep_up, 1.0), (sets.down, matrix.prep_down, -1.0)):
        if not idx.shape[1]:
            continue
        sc = _kernel_scores(method, prep, idx, p, matrix.n_rows, threads)
        total += sc if (method == "singscore" or sign > 0) else -sc
    return total


def _kernel_scores(
    method: str, prepared: np.ndarray, sets: np.ndarray, p: dict, n_rows: int, threads: int = 1
) -> np.ndarray:
    """Scores of many equal-size sets at once (sets: B x k row indices), in chunks of ~64 MB over ``threads``
    threads (each set's score is computed on its own: the chunking does not change it)."""
    B, k = sets.shape
    S = prepared.shape[1]
    out = np.empty((B, S))
    if method == "ucell":
        max_rank = ucell_max_rank(n_rows, p["max_rank"], p["flavor"])
        check_ucell_size(k, max_rank)
    n_up = aucell_n_up(n_rows, p["max_rank_fraction"]) if method == "aucell" else 0

    def chunk(part: slice) -> None:
        g = prepared[sets[part]]  # b x k x S
        if method == "ssgsea":
            out[part] = _ssgsea_es(g, n_rows, p.get("alpha", 0.25))
        elif method == "zscore":
            out[part] = g.sum(axis=1) / np.sqrt(k)
        elif method == "mean_z":
            out[part] = g.mean(axis=1)
        elif method == "ucell":
            out[part] = ucell_from_ranks(g, max_rank, p["flavor"])
        elif method == "aucell":
            out[part] = aucell_from_ranks(g, n_up)
        else:  # singscore on 'min' ranks
            low, high = (k + 1) / 2.0, (2 * n_rows - k + 1) / 2.0
            centre = 0.5 if p.get("centered", True) else 0.0
            out[part] = (g.mean(axis=1) - low) / (high - low) - centre

    thread_map(chunk, split(B, max(1, int(CHUNK_ELEMENTS // max(k * S, 1))), threads), threads)
    return out
