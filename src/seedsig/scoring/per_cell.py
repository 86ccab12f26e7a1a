"""Single-cell inputs: an AnnData of cells (``obs``) with a column naming each cell's sample.

* :func:`pseudobulk` sums the raw counts of each sample's cells (one sparse indicator-matrix product, samples x cells
  times cells x genes) into a genes x samples count matrix that goes through the bulk counts path (filter, TMM, the
  scoring engine, correlations, survival). obs columns constant within every sample become clinical columns, with
  ``n_cells``. Cells whose sample is missing (NA or empty) are left out and counted in ``info`` (a note says how many);
  if no cell has a sample, that is an error.
* :func:`cell_scores` scores every cell: scanpy's ``normalize_total(target_sum=1e4)`` + ``log1p`` on a copy of the
  counts, then the scoring engine, with bounded memory (the cells x genes matrix is never densified at once):

  ============ ======================================================================================================
  ssgsea       single-sample: :func:`seedsig.scoring.methods.score` per chunk of cells (``normalize=True``: divided by
  singscore    the range over all cells afterwards, as the engine does)
  zscore       cohort-relative: gene means and SDs (n-1) over all cells from the sparse matrix; only the signature
  mean_z       genes are standardized, per chunk of cells (genes constant over all cells left out, as the engine)
  plage        the first right singular vector from the k x k Gram matrix of each set's standardized genes,
               accumulated over chunks (v = Z u1 / s1), oriented as the engine (positive with the mean z)
  score_genes  scanpy's ``tl.score_genes`` on the whole (sparse) AnnData, genes in the engine's canonical order
  gsva         the engine on the whole dense matrix (its kernel density is over all cells: O(cells^2) per gene), so
               only up to :data:`GSVA_MAX_CELLS` cells; above, an error asks for another method
  ============ ======================================================================================================

  Every method gives the scores :func:`seedsig.scoring.methods.score` gives on the whole cells' matrix (tests check it
  with chunks smaller than the number of cells). Cells are processed in a canonical order (sorted by cell id), so a
  cell's scores do not depend on the order of the cells in the file."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from seedsig.core.errors import SeedsigError
from seedsig.core.settings import SCORING_DEFAULTS
from seedsig.ingest.single_cell import (
    CELL_COUNTS_HINT,
    check_raw_counts,
    check_unique_names,
    counts_values,
)
from seedsig.scoring.methods import SCORING_METHODS, coverage_of, score

GSVA_MAX_CELLS = 3000
CHUNKED = {
    "ssgsea": "chunked",
    "singscore": "chunked",
    "zscore": "chunked",
    "mean_z": "chunked",
    "plage": "chunked",
    "score_genes": "whole",
    "gsva": "whole",
}


# ---------------------------------------------------------------------------------------------- cell scores
def normalized_cells(
    adata, layer: str | None = None, *, where: str = "single-cell AnnData", order: np.ndarray | None = None
):
    """scanpy ``normalize_total(target_sum=1e4)`` + ``log1p`` of a float64 CSR copy of the raw counts (cells x genes,
    rows in ``order``). The input is not changed."""
    import anndata as ad
    import scanpy as sc
    import scipy.sparse as sp

    x, label = counts_values(adata, layer, where)
    check_raw_counts(adata, x, label, where, CELL_COUNTS_HINT)
    m = sp.csr_matrix(x, dtype=np.float64, copy=True)
    if order is not None:
        m = m[order]
    m.sort_indices()
    tmp = ad.AnnData(
        X=m,
        obs=pd.DataFrame(index=pd.RangeIndex(m.shape[0]).astype(str)),
        var=pd.DataFrame(index=pd.RangeIndex(m.shape[1]).astype(str)),
    )
    sc.pp.normalize_total(tmp, target_sum=1e4)
    sc.pp.log1p(tmp)
    return sp.csr_matrix(tmp.X, dtype=np.float64)


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


def _plan(signatures, coverage: pd.DataFrame, col: dict[str, int]) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """(signature index, up columns, down columns) of each scored signature, columns into the signature-gene block."""
    plan = []
    for i, (sig, ok) in enumerate(zip(signatures, coverage["scored"])):
        if ok:
            up = np.array(sorted(col[g] for g in sig.up if g in col), dtype=np.int64)
            down = np.array(sorted(col[g] for g in sig.down if g in col), dtype=np.int64)
            plan.append((i, up, down))
    return plan


def _gene_stats(xn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per gene over all cells of a CSR matrix: mean, SD (n-1; centered sums, no densifying) and whether constant."""
    n, g = xn.shape
    nnz = np.bincount(xn.indices, minlength=g)
    mean = np.bincount(xn.indices, weights=xn.data, minlength=g) / n
    d = xn.data - mean[xn.indices]
    ss = np.bincount(xn.indices, weights=d * d, minlength=g) + (n - nnz) * mean**2
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt(ss / (n - 1)) if n > 1 else np.full(g, np.nan)
    mx = np.asarray(xn.max(axis=0).todense()).ravel()
    mn = np.asarray(xn.min(axis=0).todense()).ravel()
    return mean, sd, mx == mn


def _standardized_scores(
    method: str, xn, genes: np.ndarray, signatures, min_genes: int, min_fraction: float, chunk: int
) -> tuple[np.ndarray, pd.DataFrame]:
    """zscore / mean_z / plage per cell with statistics over all cells, only the signature genes standardized,
    chunk by chunk of cells (never cells x all genes dense)."""
    n = xn.shape[0]
    mean, sd, constant = _gene_stats(xn)
    usable = ~constant
    gi = {g: i for i, g in enumerate(genes)}
    cov = coverage_of(signatures, {g for g in genes[usable]}, {g for g in genes[constant]}, min_genes, min_fraction)
    sig_genes = sorted(
        {g for sig, ok in zip(signatures, cov["scored"]) if ok for g in sig.genes if g in gi and usable[gi[g]]}
    )
    cols = np.array([gi[g] for g in sig_genes], dtype=np.int64)
    col = {g: j for j, g in enumerate(sig_genes)}
    plan = _plan(signatures, cov, col)
    out = np.full((len(signatures), n), np.nan)
    if not plan:
        return out, cov
    sub = xn[:, cols].tocsr()  # cells x signature genes, sparse
    mu, s = mean[cols], sd[cols]

    def z(a: int) -> np.ndarray:
        return (sub[a : a + chunk].toarray() - mu) / s

    sets = [(i, idx, sign) for i, up, down in plan for idx, sign in ((up, 1.0), (down, -1.0)) if idx.size]
    if method in ("zscore", "mean_z"):
        for a in range(0, n, chunk):
            za = z(a)
            part = {}
            for i, idx, sign in sets:
                v = za[:, idx].sum(axis=1) / np.sqrt(idx.size) if method == "zscore" else za[:, idx].mean(axis=1)
                part[i] = part.get(i, 0.0) + sign * v
            for i, v in part.items():
                out[i, a : a + chunk] = v
        return out, cov
    # plage: Gram matrices over all cells, then v = Z u1 / s1 per chunk, oriented with the mean z-score
    gram = [np.zeros((idx.size, idx.size)) for _, idx, _ in sets]
    for a in range(0, n, chunk):
        za = z(a)
        for k, (_, idx, _) in enumerate(sets):
            zs = za[:, idx]
            gram[k] += zs.T @ zs
    vecs = []
    for g in gram:
        w, u = np.linalg.eigh(g)
        vecs.append((u[:, -1], np.sqrt(max(w[-1], 0.0))))
    v_all = np.empty((len(sets), n))
    mz_all = np.empty((len(sets), n))
    for a in range(0, n, chunk):
        za = z(a)
        for k, (_, idx, _) in enumerate(sets):
            zs = za[:, idx]
            u1, s1 = vecs[k]
            v_all[k, a : a + chunk] = zs @ u1 / s1
            mz_all[k, a : a + chunk] = zs.mean(axis=1)
    for k, (i, _, sign) in enumerate(sets):
        v, mz = v_all[k], mz_all[k]
        if np.dot(v - v.mean(), mz - mz.mean()) < 0:
            v = -v
        out[i] = np.where(np.isnan(out[i]), 0.0, out[i]) + sign * v
    return out, cov


def _score_genes_whole(
    xn, genes: np.ndarray, signatures, p: dict, min_genes: int, min_fraction: float
) -> tuple[np.ndarray, pd.DataFrame]:
    """scanpy's score_genes on the whole sparse AnnData (genes sorted, as the engine orders rows); up - down."""
    import anndata as ad
    import scanpy as sc

    order = np.argsort(genes, kind="stable")
    g_sorted = genes[order]
    adata = ad.AnnData(
        X=xn[:, order].tocsr(),
        obs=pd.DataFrame(index=pd.RangeIndex(xn.shape[0]).astype(str)),
        var=pd.DataFrame(index=pd.Index(g_sorted)),
    )
    present = set(g_sorted)
    cov = coverage_of(signatures, present, set(), min_genes, min_fraction)
    out = np.full((len(signatures), xn.shape[0]), np.nan)
    state = np.random.get_state()
    try:
        for i, (sig, ok) in enumerate(zip(signatures, cov["scored"])):
            if not ok:
                continue
            total = np.zeros(xn.shape[0])
            for gl, sign in ((sig.up, 1.0), (sig.down, -1.0)):
                gl = sorted(g for g in gl if g in present)
                if gl:
                    sc.tl.score_genes(
                        adata,
                        gl,
                        ctrl_size=p["ctrl_size"],
                        n_bins=p["n_bins"],
                        random_state=p["random_state"],
                        score_name="_seedsig_score",
                        use_raw=False,
                    )
                    total += sign * adata.obs["_seedsig_score"].to_numpy(dtype=np.float64)
            out[i] = total
    finally:
        np.random.set_state(state)
    return out, cov


def _checked_methods(methods: Sequence[str] | str, chunk_size: int) -> tuple[list[str], int]:
    """The methods as a list (each a scoring method) and the chunk size (at least 1)."""
    methods = [methods] if isinstance(methods, str) else list(methods)
    unknown = [m for m in methods if m not in SCORING_METHODS]
    if unknown:
        raise SeedsigError(f"cell scores: method(s) {', '.join(unknown)} not one of {', '.join(SCORING_METHODS)}.")
    if int(chunk_size) < 1:
        raise SeedsigError(f"cell scores: chunk_size must be at least 1, not {chunk_size}.")
    return methods, int(chunk_size)


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


def _single_sample_chunks(
    m: str, xn, genes: np.ndarray, cells: np.ndarray, signatures, params: dict, scoring: dict
) -> tuple[np.ndarray, pd.DataFrame | None]:
    """ssgsea and singscore per chunk of cells (``scoring``: min_genes, min_fraction, chunk); ssgsea's
    ``normalize`` divides by the range over all cells afterwards, as the engine does."""
    chunk = scoring["chunk"]
    pc = dict(params)
    if m == "ssgsea":
        pc["normalize"] = False
    parts, cov = [], None
    for a in range(0, cells.size, chunk):
        block = pd.DataFrame(xn[a : a + chunk].toarray().T, index=genes, columns=cells[a : a + chunk])
        res = score(
            block, signatures, m, min_genes=scoring["min_genes"], min_fraction=scoring["min_fraction"], params=pc
        )
        parts.append(res.scores.to_numpy().T)
        cov = res.coverage if cov is None else cov
    out = np.hstack(parts) if parts else np.full((len(signatures), 0), np.nan)
    if m == "ssgsea" and {**SCORING_METHODS[m].defaults, **params}.get("normalize") and cov is not None:
        scored = out[cov["scored"].to_numpy()]
        rng = np.nanmax(scored) - np.nanmin(scored) if scored.size and np.isfinite(scored).any() else 0.0
        if rng > 0:
            out = out / rng
    return out, cov


def _gsva_whole(
    xn, genes: np.ndarray, cells: np.ndarray, signatures, params: dict, scoring: dict
) -> tuple[np.ndarray, pd.DataFrame]:
    """gsva on the whole dense matrix of at most :data:`GSVA_MAX_CELLS` cells."""
    n = cells.size
    if n > GSVA_MAX_CELLS:
        raise SeedsigError(
            "cell scores: gsva estimates each gene's density over all cells (time grows with cells squared); "
            f"{n} cells is more than {GSVA_MAX_CELLS}. Score cells with ssgsea, singscore, zscore, mean_z, plage or "
            "score_genes (the pseudobulk samples can use gsva)."
        )
    whole = pd.DataFrame(xn.toarray().T, index=genes, columns=cells)
    res = score(
        whole, signatures, "gsva", min_genes=scoring["min_genes"], min_fraction=scoring["min_fraction"], params=params
    )
    return res.scores.to_numpy().T, res.coverage


def _method_scores(
    m: str, xn, genes: np.ndarray, cells: np.ndarray, signatures, params: dict, scoring: dict
) -> tuple[np.ndarray, pd.DataFrame | None]:
    """signatures x cells scores of one method (cells in canonical order) and its coverage table."""
    p = {**SCORING_METHODS[m].defaults, **params}
    min_genes, min_fraction = scoring["min_genes"], scoring["min_fraction"]
    if m in ("ssgsea", "singscore"):
        return _single_sample_chunks(m, xn, genes, cells, signatures, params, scoring)
    if m in ("zscore", "mean_z", "plage"):
        return _standardized_scores(m, xn, genes, signatures, min_genes, min_fraction, scoring["chunk"])
    if m == "score_genes":
        return _score_genes_whole(xn, genes, signatures, p, min_genes, min_fraction)
    return _gsva_whole(xn, genes, cells, signatures, params, scoring)


def cell_scores(
    adata,
    signatures,
    methods: Sequence[str] | str,
    *,
    layer: str | None = None,
    min_genes: int = SCORING_DEFAULTS["min_genes"],
    min_fraction: float = SCORING_DEFAULTS["min_fraction"],
    params: dict | None = None,
    chunk_size: int = 2000,
    sample_column: str | None = "sample",
) -> dict[str, pd.DataFrame]:
    """Score every cell with each method: ``{method: DataFrame}``, cells x signatures (index = cell ids, name
    ``cell``), with a first column ``sample`` (from ``obs[sample_column]`` when that column exists).

    Counts as :func:`pseudobulk` (``layer``, else ``layers['counts']``, else X; raw counts required), normalized per
    cell on a copy (scanpy normalize_total 1e4 + log1p). ``params``: ``{method: {...}}`` (or one dict when one method).
    Each table's ``attrs`` hold the coverage records and how it was computed (chunked / whole)."""

    methods, chunk = _checked_methods(methods, chunk_size)
    where = "single-cell AnnData"
    check_unique_names(adata.obs_names, where, "obs")
    check_unique_names(adata.var_names, where, "var")
    per = _checked_params(params, methods)
    cells = np.asarray(adata.obs_names.astype(str))
    order = np.argsort(cells, kind="stable")  # canonical cell order: results do not depend on the file's order
    genes = np.asarray(adata.var_names.astype(str))
    n = cells.size
    xn = None
    if any(m != "gsva" or n <= GSVA_MAX_CELLS for m in methods):
        xn = normalized_cells(adata, layer, where=where, order=order)
    samples = None
    if sample_column and sample_column in adata.obs.columns:
        samples = adata.obs[sample_column].astype(str).to_numpy()
    back = np.empty_like(order)
    back[order] = np.arange(n)
    scoring = {"min_genes": min_genes, "min_fraction": min_fraction, "chunk": chunk}
    results: dict[str, pd.DataFrame] = {}
    for m in methods:
        out, cov = _method_scores(m, xn, genes, cells[order], signatures, per[m], scoring)
        table = pd.DataFrame(out.T[back], index=pd.Index(cells, name="cell"), columns=[s.name for s in signatures])
        if samples is not None:
            table.insert(0, "sample", samples)
        mode = CHUNKED[m]
        table.attrs = {
            "method": m,
            "parameters": {**SCORING_METHODS[m].defaults, **per[m]},
            "computation": f"{mode}{f' ({chunk} cells per chunk)' if mode == 'chunked' else ''}",
            "normalization": "scanpy normalize_total(target_sum=1e4) + log1p per cell",
            "n_cells": int(n),
            "n_genes": int(genes.size),
            "coverage": cov.to_dict("records") if cov is not None else [],
        }
        results[m] = table
    return results
