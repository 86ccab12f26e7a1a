"""Per-cell scores of a single-cell cohort, a chunk of cells at a time (out of core).

Every cell is normalized as scanpy's ``normalize_total(target_sum=1e4)`` + ``log1p`` (each cell alone, so chunk by
chunk: :func:`seedsig.scoring.cell_passes.normalize_log1p`), then scored by the engine's methods without ever holding
the cells x genes matrix (nor a dense chunk of all genes):

============ ==========================================================================================================
ssgsea       single-sample: each cell's ranks of the signature genes from its detected genes alone (its zeros tied
singscore    at the bottom), then the engine's formulas (ssGSEA's ``normalize``: a first pass finds the range over all
             cells, as the engine divides by it)
zscore       cohort-relative: gene means and SDs (n - 1) over all cells, summed in cell order (two passes over the
mean_z       signature genes), then each chunk standardized and scored (genes constant over all cells left out, as
             the engine)
plage        the same statistics, then the k x k Gram matrix of each set's standardized genes accumulated over the
             chunks, its first eigenvector u1 (v = Z u1 / s1 per chunk), oriented as the engine (positive with the
             set's mean z-score: the sign of sum(u1), since the Gram is of centred columns)
score_genes  scanpy's ``tl.score_genes``: control genes from the gene means over all cells (a first pass; drawn with
             the seeded rule of scanpy, independent of the chunking), then each cell's set mean minus control mean
ucell        single-sample: each cell's decreasing ranks of the signature genes from its detected genes alone (n + 1
             minus the increasing 'average' ranks; pyucell: a zero is not ranked), then the engine's formulas
aucell       single-sample: each cell's decreasing ordinal ranks (ties, the zeros above all, in the canonical gene
             order), numba per cell, then the engine's formula
gsva         the engine on the whole dense matrix (its kernel density is over all cells: O(cells^2) per gene), so
             only up to :data:`GSVA_MAX_CELLS` cells; above, an error asks for another method
============ ==========================================================================================================

Every method gives the scores :func:`seedsig.scoring.methods.score` gives on the whole cells' matrix (tests check it
to rtol 1e-9 with chunks smaller than a sample's cells). Cells are read in the file's order; a cell's scores do not
depend on the chunk size or the thread count, and not on the order of the cells in the file but for the rounding of
the cohort sums (rtol 1e-12). :func:`cell_score_blocks` yields the scores a chunk at a time (the pipeline writes
them as they come: :func:`seedsig.core.tables.write_table_blocks`); :func:`cell_scores` gathers them in memory."""

from __future__ import annotations

from typing import Iterator, Sequence

import numpy as np
import pandas as pd

from seedsig.core.errors import SeedsigError
from seedsig.core.settings import SCORING_DEFAULTS
from seedsig.ingest.cells import as_cells
from seedsig.ingest.single_cell import CELL_COUNTS_HINT, CHUNK_CELLS, check_unique_names, counts_key
from seedsig.scoring.cell_passes import CellMatrix, control_genes, gene_means, gene_stats, ordinal_ranks, sparse_ranks
from seedsig.scoring.methods import SCORING_METHODS, _ssgsea_es, coverage_of, score, singscore_from_ranks
from seedsig.scoring.rank_scores import (
    aucell_from_ranks,
    aucell_n_up,
    check_ucell_size,
    ucell_from_ranks,
    ucell_max_rank,
)

GSVA_MAX_CELLS = 3000
CHUNKED = {
    "ssgsea": "chunked",
    "singscore": "chunked",
    "zscore": "chunked",
    "mean_z": "chunked",
    "plage": "chunked",
    "score_genes": "chunked",
    "gsva": "whole",
    "ucell": "chunked",
    "aucell": "chunked",
}
NORMALIZATION = "scanpy normalize_total(target_sum=1e4) + log1p per cell"
Plan = list[tuple[int, np.ndarray, np.ndarray]]  # (signature index, up columns, down columns)


def _plan(signatures, coverage: pd.DataFrame, col: dict[str, int]) -> Plan:
    """(signature index, up columns, down columns) of each scored signature; each set in gene-name order."""
    plan = []
    for i, (sig, ok) in enumerate(zip(signatures, coverage["scored"])):
        if ok:
            up = np.array([col[g] for g in sorted(sig.up) if g in col], dtype=np.int64)
            down = np.array([col[g] for g in sorted(sig.down) if g in col], dtype=np.int64)
            plan.append((i, up, down))
    return plan


def _sets(plan: Plan) -> list[tuple[int, np.ndarray, float]]:
    return [(i, idx, sign) for i, up, down in plan for idx, sign in ((up, 1.0), (down, -1.0)) if idx.size]


# ------------------------------------------------------------------------------------- single-sample methods
def _signature_rows(cm: CellMatrix, signatures, scoring: dict):
    """(coverage, the gene columns any scored signature needs, and per scored signature (index, rows of its up and
    down genes among those columns)): what the rank-based per-cell methods gather from each cell."""
    gi = {g: i for i, g in enumerate(cm.genes)}
    cov = coverage_of(signatures, gi, (), scoring["min_genes"], scoring["min_fraction"])
    plan = _plan(signatures, cov, gi)
    needed = np.array(sorted({int(c) for _, up, down in plan for c in (*up, *down)}), dtype=np.int64)
    at = {int(c): k for k, c in enumerate(needed)}
    rows = [(i, np.array([at[c] for c in up], dtype=np.int64), np.array([at[c] for c in down], dtype=np.int64))
            for i, up, down in plan]  # fmt: skip
    return cov, needed, rows


def _single_sample(m: str, cm: CellMatrix, signatures, p: dict, scoring: dict):
    """ssgsea / singscore: (coverage, blocks), each cell ranked alone (only its detected genes sorted)."""
    genes = cm.genes
    n_genes = genes.size
    cov, needed, rows = _signature_rows(cm, signatures, scoring)
    n_sig = len(signatures)

    def work(a: int, b: int, xn) -> np.ndarray:
        out = np.full((n_sig, b - a), np.nan)
        if not rows:
            return out.T
        if m == "ssgsea":
            r = sparse_ranks(xn, needed, "average")
            for i, up, down in rows:
                out[i] = _ssgsea_es(r[up, :], n_genes, p["alpha"]) - (
                    _ssgsea_es(r[down, :], n_genes, p["alpha"]) if down.size else 0.0
                )
            return out.T
        r_up = sparse_ranks(xn, needed, "min")
        r_down = sparse_ranks(xn, needed, "min_desc")
        for i, up, down in rows:
            sc, _ = singscore_from_ranks(r_up[up, :], n_genes, p["centered"])
            if down.size:
                sc = sc + singscore_from_ranks(r_down[down, :], n_genes, p["centered"])[0]
            out[i] = sc
        return out.T

    if m == "ssgsea" and p.get("normalize") and rows:
        scored = np.array([i for i, _, _ in rows])
        lo, hi = np.inf, -np.inf
        for block in cm.run(work):
            s = block[:, scored]
            if np.isfinite(s).any():
                lo, hi = min(lo, np.nanmin(s)), max(hi, np.nanmax(s))
        rng = hi - lo if np.isfinite(hi) else 0.0
        if rng > 0:
            return cov, cm.run(lambda a, b, xn: work(a, b, xn) / rng)
    return cov, cm.run(work)


def _ucell_aucell(m: str, cm: CellMatrix, signatures, p: dict, scoring: dict):
    """ucell / aucell: (coverage, blocks), each cell ranked alone (only its detected genes sorted)."""
    genes = cm.genes
    n_genes = genes.size
    cov, needed, rows = _signature_rows(cm, signatures, scoring)
    combine = SCORING_METHODS[m].combine
    flavor = p.get("flavor", "r")
    mr = ucell_max_rank(n_genes, p.get("max_rank", 1500), flavor)
    n_up = aucell_n_up(n_genes, p.get("max_rank_fraction", 0.05)) if m == "aucell" else 0
    if m == "ucell":
        for _, up, down in rows:
            for idx in (up, down):
                check_ucell_size(idx.size, mr)

    def one(r: np.ndarray) -> np.ndarray:
        return ucell_from_ranks(r, mr, flavor) if m == "ucell" else aucell_from_ranks(r, n_up)

    def work(a: int, b: int, xn) -> np.ndarray:
        out = np.full((len(signatures), b - a), np.nan)
        if not rows:
            return out.T
        if m == "aucell":
            r = ordinal_ranks(xn, needed, genes)
        else:
            r = n_genes + 1.0 - sparse_ranks(xn, needed, "average")
            if flavor == "pyucell":  # pyucell ranks the non-zero values alone
                r[~(xn[:, needed].toarray().T > 0)] = np.inf
        for i, up, down in rows:
            out[i] = combine(one(r[up, :]), one(r[down, :]) if down.size else None, p)
        return out.T

    return cov, cm.run(work)


# ------------------------------------------------------------------------------------- cohort-relative methods
def _standardized(m: str, cm: CellMatrix, signatures, scoring: dict):
    """zscore / mean_z / plage: (coverage, blocks) with gene statistics over all cells; only the signature genes
    are standardized, a chunk at a time."""
    genes = cm.genes
    gi = {g: i for i, g in enumerate(genes)}
    in_sigs = sorted({g for sig in signatures for g in sig.genes if g in gi})
    cols = np.array([gi[g] for g in in_sigs], dtype=np.int64)
    stats = gene_stats(cm, cols)
    usable = ~stats.constant
    present = [g for g, u in zip(in_sigs, usable) if u]
    constant = [g for g, u in zip(in_sigs, usable) if not u]
    cov = coverage_of(signatures, set(present), set(constant), scoring["min_genes"], scoring["min_fraction"])
    sig_genes = sorted({g for sig, ok in zip(signatures, cov["scored"]) if ok for g in sig.genes if g in present})
    pos = {g: j for j, g in enumerate(in_sigs)}
    use = np.array([pos[g] for g in sig_genes], dtype=np.int64)
    sub_cols = cols[use]
    mu, s = stats.mean[use], stats.sd[use]
    sets = _sets(_plan(signatures, cov, {g: j for j, g in enumerate(sig_genes)}))
    n_sig = len(signatures)

    def z(xn) -> np.ndarray:
        return (xn[:, sub_cols].toarray() - mu) / s

    if not sets:
        return cov, cm.run(lambda a, b, xn: np.full((b - a, n_sig), np.nan))
    if m in ("zscore", "mean_z"):

        def work(a: int, b: int, xn) -> np.ndarray:
            za = z(xn)
            out = np.full((n_sig, b - a), np.nan)
            part: dict[int, np.ndarray] = {}
            for i, idx, sign in sets:
                v = za[:, idx].sum(axis=1) / np.sqrt(idx.size) if m == "zscore" else za[:, idx].mean(axis=1)
                part[i] = part.get(i, 0.0) + sign * v
            for i, v in part.items():
                out[i] = v
            return out.T

        return cov, cm.run(work)
    return cov, _plage_blocks(cm, z, sets, n_sig)


def _plage_blocks(cm: CellMatrix, z, sets, n_sig: int) -> Iterator[np.ndarray]:
    """PLAGE: the Gram matrix of each set's z-scores over all cells, then v = Z u1 / s1 per chunk."""

    def grams(a: int, b: int, xn) -> list[np.ndarray]:
        za = z(xn)
        return [za[:, idx].T @ za[:, idx] for _, idx, _ in sets]

    gram = [np.zeros((idx.size, idx.size)) for _, idx, _ in sets]
    for part in cm.run(grams):
        for k, g in enumerate(part):
            gram[k] += g
    vecs = []
    for g in gram:
        w, u = np.linalg.eigh(g)
        u1 = u[:, -1]
        vecs.append((u1 if u1.sum() >= 0 else -u1, np.sqrt(max(w[-1], 0.0))))

    def work(a: int, b: int, xn) -> np.ndarray:
        za = z(xn)
        out = np.full((n_sig, b - a), np.nan)
        for (i, idx, sign), (u1, s1) in zip(sets, vecs):
            out[i] = np.where(np.isnan(out[i]), 0.0, out[i]) + sign * (za[:, idx] @ u1 / s1)
        return out.T

    return cm.run(work)


def _score_genes(cm: CellMatrix, signatures, p: dict, scoring: dict):
    """scanpy's score_genes per cell: (coverage, blocks); control genes from the means over all cells."""
    genes = cm.genes
    order = np.argsort(genes, kind="stable")  # the engine's canonical gene order
    gi = {g: i for i, g in enumerate(genes)}
    cov = coverage_of(signatures, gi, (), scoring["min_genes"], scoring["min_fraction"])
    if not cov["scored"].any():
        return cov, cm.run(lambda a, b, xn: np.full((b - a, len(signatures)), np.nan))
    means = pd.Series(gene_means(cm)[order], index=genes[order])
    terms = []  # (signature index, sign): columns 2t (the set) and 2t + 1 (its control genes) of ``member``
    cols: list[np.ndarray] = []
    for i, (sig, ok) in enumerate(zip(signatures, cov["scored"])):
        if ok:
            for gl, sign in ((sig.up, 1.0), (sig.down, -1.0)):
                gl = sorted(g for g in gl if g in gi)
                if gl:
                    ctrl = control_genes(means, gl, p["ctrl_size"], p["n_bins"], p["random_state"])
                    terms.append((i, sign))
                    cols += [np.array([gi[g] for g in gl]), np.array([gi[g] for g in ctrl])]
    member = _membership(cols, genes.size)  # genes x 2 terms, ones: one sparse product sums every set per cell
    sizes = np.array([c.size for c in cols], dtype=np.float64)
    n_sig = len(signatures)

    def work(a: int, b: int, xn) -> np.ndarray:
        set_means = np.asarray((xn @ member).todense()) / sizes  # cells x 2 terms
        out = np.full((n_sig, b - a), np.nan)
        for t, (i, sign) in enumerate(terms):
            v = set_means[:, 2 * t] - set_means[:, 2 * t + 1]
            out[i] = np.where(np.isnan(out[i]), 0.0, out[i]) + sign * v
        return out.T

    return cov, cm.run(work)


def _membership(cols: list[np.ndarray], n_genes: int):
    """genes x sets sparse matrix of ones: column j holds the genes ``cols[j]``."""
    import scipy.sparse as sp

    rows = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    which = np.repeat(np.arange(len(cols)), [c.size for c in cols])
    return sp.csr_matrix((np.ones(rows.size), (rows, which)), shape=(n_genes, len(cols)))


def _gsva_whole(cm: CellMatrix, signatures, params: dict, scoring: dict):
    """gsva on the whole dense matrix of at most :data:`GSVA_MAX_CELLS` cells."""
    import scipy.sparse as sp

    n = cm.n_obs
    if n > GSVA_MAX_CELLS:
        raise SeedsigError(
            "cell scores: gsva estimates each gene's density over all cells (time grows with cells squared); "
            f"{n} cells is more than {GSVA_MAX_CELLS}. Score cells with ssgsea, singscore, zscore, mean_z, plage or "
            "score_genes (the pseudobulk samples can use gsva)."
        )
    xn = sp.vstack(cm.collect(lambda a, b, xn: xn)).tocsr()
    whole = pd.DataFrame(xn.toarray().T, index=cm.genes, columns=[f"c{i}" for i in range(n)])
    res = score(
        whole, signatures, "gsva", min_genes=scoring["min_genes"], min_fraction=scoring["min_fraction"], params=params
    )
    return res.coverage, iter([res.scores.to_numpy()])


# ------------------------------------------------------------------------------------------------ the API
def _checked_methods(methods: Sequence[str] | str, chunk_size: int) -> tuple[list[str], int]:
    """The methods as a list (each a scoring method) and the chunk size (at least 1)."""
    methods = [methods] if isinstance(methods, str) else list(methods)
    unknown = [m for m in methods if m not in SCORING_METHODS]
    if unknown:
        raise SeedsigError(f"cell scores: method(s) {', '.join(unknown)} not one of {', '.join(SCORING_METHODS)}.")
    if int(chunk_size) < 1:
        raise SeedsigError(f"cell scores: chunk_size must be at least 1, not {chunk_size}.")
    return methods, int(chunk_size)


def _method_params(params: dict | None, methods: Sequence[str]) -> dict[str, dict]:
    if not params:
        return {m: {} for m in methods}
    if all(k in SCORING_METHODS for k in params):
        return {m: dict(params.get(m) or {}) for m in methods}
    if len(methods) == 1:
        return {methods[0]: dict(params)}
    raise SeedsigError(
        "cell_scores params: give one dict of parameters per method "
        f"(keys {', '.join(methods)}), not {', '.join(map(str, params))}."
    )


def _checked_params(params: dict | None, methods: list[str]) -> dict[str, dict]:
    """Each method's parameters, each one a parameter of that method."""
    per = _method_params(params, methods)
    for m in methods:
        bad = set(per[m]) - set(SCORING_METHODS[m].defaults)
        if bad:
            raise SeedsigError(
                f"scoring method '{m}' has no parameter(s) {', '.join(sorted(bad))}; "
                f"its parameters are: {', '.join(SCORING_METHODS[m].defaults) or 'none'}."
            )
    return per


def cell_matrix(
    adata,
    layer: str | None = None,
    *,
    genes: Sequence[str] | None = None,
    columns: np.ndarray | None = None,
    chunk_size: int = CHUNK_CELLS,
    threads: int = 1,
    where: str = "single-cell AnnData",
) -> CellMatrix:
    """What the per-cell scores read: the raw counts of ``adata`` (an AnnData or :class:`~seedsig.ingest.cells.Cells`;
    ``layer``, else ``layers['counts']``, else X), optionally only the file's ``columns`` named ``genes``."""
    cells = as_cells(adata, where)
    check_unique_names(cells.obs_names, where, "obs")
    names = np.asarray(list(genes) if genes is not None else cells.var_names, dtype=object).astype(str)
    check_unique_names(pd.Index(names), where, "var")
    key, label = counts_key(cells, layer, where)
    return CellMatrix(
        cells, key, label, names, columns, max(1, int(chunk_size)), max(1, int(threads)), where, CELL_COUNTS_HINT
    )


def cell_score_blocks(
    cm: CellMatrix,
    signatures,
    method: str,
    *,
    min_genes: int = SCORING_DEFAULTS["min_genes"],
    min_fraction: float = SCORING_DEFAULTS["min_fraction"],
    params: dict | None = None,
) -> tuple[pd.DataFrame, Iterator[np.ndarray]]:
    """One method's coverage table and its scores, cells x signatures blocks in the cells' order (the passes the
    method needs before its first block run when this is called; the blocks are computed as they are taken)."""
    p = {**SCORING_METHODS[method].defaults, **(params or {})}
    scoring = {"min_genes": min_genes, "min_fraction": min_fraction}
    if method in ("ssgsea", "singscore"):
        return _single_sample(method, cm, signatures, p, scoring)
    if method in ("zscore", "mean_z", "plage"):
        return _standardized(method, cm, signatures, scoring)
    if method == "score_genes":
        return _score_genes(cm, signatures, p, scoring)
    if method in ("ucell", "aucell"):
        return _ucell_aucell(method, cm, signatures, p, scoring)
    return _gsva_whole(cm, signatures, params or {}, scoring)


def computation(method: str, chunk: int) -> str:
    mode = CHUNKED[method]
    return f"{mode}{f' ({chunk} cells per chunk)' if mode == 'chunked' else ''}"


def cell_scores(
    adata,
    signatures,
    methods: Sequence[str] | str,
    *,
    layer: str | None = None,
    min_genes: int = SCORING_DEFAULTS["min_genes"],
    min_fraction: float = SCORING_DEFAULTS["min_fraction"],
    params: dict | None = None,
    chunk_size: int = CHUNK_CELLS,
    sample_column: str | None = "sample",
    threads: int = 1,
) -> dict[str, pd.DataFrame]:
    """Score every cell with each method: ``{method: DataFrame}``, cells x signatures (index = cell ids, name
    ``cell``), with a first column ``sample`` (from ``obs[sample_column]`` when that column exists).

    ``adata``: an AnnData or :class:`~seedsig.ingest.cells.Cells` (read ``chunk_size`` cells at a time, the chunks
    scored in ``threads`` threads). Counts as :func:`seedsig.ingest.single_cell.pseudobulk` (``layer``, else
    ``layers['counts']``, else X; raw counts required), normalized per cell (scanpy normalize_total 1e4 + log1p).
    ``params``: ``{method: {...}}`` (or one dict when one method). Each table's ``attrs`` hold the coverage records
    and how it was computed (chunked / whole). The tables are built in memory; the pipeline writes the blocks of
    :func:`cell_score_blocks` as they come instead."""
    methods, chunk = _checked_methods(methods, chunk_size)
    per = _checked_params(params, methods)
    cm = cell_matrix(adata, layer, chunk_size=chunk, threads=threads)
    cells = cm.cells
    samples = None
    if sample_column and sample_column in cells.obs.columns:
        samples = cells.obs[sample_column].astype(str).to_numpy()
    results: dict[str, pd.DataFrame] = {}
    for m in methods:
        cov, blocks = cell_score_blocks(
            cm, signatures, m, min_genes=min_genes, min_fraction=min_fraction, params=per[m]
        )
        parts = list(blocks)
        out = np.vstack(parts) if parts else np.full((0, len(signatures)), np.nan)
        table = pd.DataFrame(out, index=pd.Index(cells.obs_names, name="cell"), columns=[s.name for s in signatures])
        if samples is not None:
            table.insert(0, "sample", samples)
        table.attrs = {
            "method": m,
            "parameters": {**SCORING_METHODS[m].defaults, **per[m]},
            "computation": computation(m, chunk),
            "normalization": NORMALIZATION,
            "n_cells": int(cells.n_obs),
            "n_genes": int(cm.genes.size),
            "coverage": cov.to_dict("records") if cov is not None else [],
        }
        results[m] = table
    return results
