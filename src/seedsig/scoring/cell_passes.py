"""Passes over the cells of a single-cell matrix, a chunk at a time, for the per-cell scores.

* :func:`normalize_log1p`: scanpy's ``normalize_total(target_sum=1e4)`` + ``log1p`` of a chunk of cells, computed
  with scanpy's own arithmetic (each cell's total summed in stored order, divided by 1e4, every value divided by
  it, ``log1p``): the same float64 numbers as scanpy on the whole matrix, since each cell is normalized alone.
* :func:`sparse_ranks`: within-cell ranks of a few genes from a CSR chunk without densifying it: a cell's zeros
  are tied (they take the lowest ranks), only its detected genes are sorted; :func:`ordinal_ranks` (AUCell's): the
  decreasing ordinal ranks, ties in the canonical gene order.
* :class:`CellMatrix` and :meth:`CellMatrix.run`: one pass (read, select the scored genes, check the counts on the
  first pass, normalize, then the method's work on each chunk in a thread pool; results in chunk order).
* :class:`GeneStats`: per-gene mean, SD (n - 1) and constancy over all cells, summed in cell order as one
  ``np.bincount`` over the whole matrix would (the same float64 numbers whatever the chunking).
* :func:`control_genes`: scanpy ``tl.score_genes``'s control genes from the gene means over all cells."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterator

import numpy as np
import pandas as pd

from seedsig.core.errors import SeedsigError
from seedsig.ingest.cells import Cells, ordered_map
from seedsig.ingest.single_cell import RawCountsCheck

TARGET_SUM = 1e4


def normalize_log1p(x):
    """scanpy ``normalize_total(target_sum=1e4)`` + ``log1p`` of a CSR chunk (cells x genes, raw counts), as a new
    float64 CSR matrix with sorted indices (explicit zeros kept, as scanpy keeps them): the same numbers as scanpy."""
    import scipy.sparse as sp

    from seedsig.scoring.cell_kernels import scale_rows

    m = sp.csr_matrix(x, dtype=np.float64, copy=True)
    m.sort_indices()
    scale_rows(m.indptr, m.data, TARGET_SUM)
    np.log1p(m.data, out=m.data)
    return m


RANKINGS = {"average": 0, "min": 1, "min_desc": 2}


def sparse_ranks(xn, cols: np.ndarray, how: str = "average") -> np.ndarray:
    """Ranks (1..genes, float64) of the genes ``cols`` within each cell of a CSR chunk of non-negative values,
    shape ``(len(cols), cells)``: ``average`` (increasing, ties averaged: scipy's rankdata), ``min`` (increasing,
    ties min) or ``min_desc`` (the 'min' ranks of minus the values). Zeros (implicit or stored) are tied at the
    bottom; only the positive values of each cell are sorted (numba, one cell at a time)."""
    from seedsig.scoring.cell_kernels import rank_genes

    n_genes = xn.shape[1]
    where = np.full(n_genes, -1, dtype=np.int64)
    where[cols] = np.arange(len(cols))
    out = np.empty((len(cols), xn.shape[0]))
    rank_genes(
        xn.indptr,
        xn.indices,
        np.ascontiguousarray(xn.data, dtype=np.float64),
        where,
        int(n_genes),
        RANKINGS[how],
        out,
    )
    return out


def ordinal_ranks(xn, cols: np.ndarray, genes: np.ndarray) -> np.ndarray:
    """Ordinal ranks (1..genes) by decreasing value of the genes ``cols`` within each cell of a CSR chunk of
    non-negative values, shape ``(len(cols), cells)``: tied values (the zeros above all) in the canonical gene order
    (sorted names ``genes``, as :func:`seedsig.scoring.methods.usable_matrix` orders the rows); numba, per cell."""
    from seedsig.scoring.cell_kernels import ordinal_ranks_desc

    n_genes = xn.shape[1]
    key = np.empty(n_genes, dtype=np.int64)
    key[np.argsort(np.asarray(genes).astype(str), kind="stable")] = np.arange(n_genes)
    where = np.full(n_genes, -1, dtype=np.int64)
    where[cols] = np.arange(len(cols))
    out = np.empty((len(cols), xn.shape[0]))
    data = np.ascontiguousarray(xn.data, dtype=np.float64)
    ordinal_ranks_desc(xn.indptr, xn.indices, data, where, key[cols], key, out)
    return out


@dataclass
class CellMatrix:
    """The raw counts per-cell scoring reads: ``cells`` (a file or an AnnData), the matrix ``key`` (None = X) and its
    ``label``, the scored genes (``columns`` of the file, None = all, named ``genes``), chunk size and threads."""

    cells: Cells
    key: str | None
    label: str
    genes: np.ndarray
    columns: np.ndarray | None
    chunk: int
    threads: int
    where: str
    hint: str
    checked: bool = False

    @property
    def n_obs(self) -> int:
        return self.cells.n_obs

    def run(self, work: Callable[[int, int, Any], Any]) -> Iterator[Any]:
        """``work(start, stop, normalized CSR chunk)`` of every chunk of cells, in chunk order (computed in a pool of
        ``threads``). The first pass checks the raw counts (an error once the pass is over)."""
        check = None if self.checked else RawCountsCheck(self.label, self.where, self.hint)

        def task(item):
            a, b, x = item
            bad = check.scan(x, a) if check is not None else None
            return bad, work(a, b, normalize_log1p(x))

        chunks = self.cells.chunks(self.key, self.chunk, self.columns)
        for bad, res in ordered_map(task, chunks, self.threads):
            if check is not None:
                check.add(bad)
            yield res
        if check is not None:
            check.raise_if_bad(self.cells, pd.Index(self.genes))
            self.checked = True

    def collect(self, work: Callable[[int, int, Any], Any]) -> list:
        return list(self.run(work))


def _accumulate(acc: np.ndarray, indices: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``acc`` plus ``weights`` summed per index, added one by one in order after ``acc``: as one ``np.bincount`` over
    all chunks would sum them (bincount adds its weights in order)."""
    n = acc.size
    return np.bincount(np.concatenate((np.arange(n), indices)), weights=np.concatenate((acc, weights)), minlength=n)


@dataclass
class GeneStats:
    """Mean, SD (n - 1) and constancy over all cells of the genes ``cols`` (columns of the normalized chunks)."""

    mean: np.ndarray
    sd: np.ndarray
    constant: np.ndarray


def gene_stats(cm: CellMatrix, cols: np.ndarray) -> GeneStats:
    """Two passes: sums, stored values, max and min; then centered sums of squares (no densifying)."""
    g, n = cols.size, cm.n_obs
    total, nnz = np.zeros(g), np.zeros(g, dtype=np.int64)
    mx, mn = np.full(g, -np.inf), np.full(g, np.inf)
    for sub in cm.run(lambda a, b, xn: xn[:, cols].tocsr()):
        total = _accumulate(total, sub.indices, sub.data)
        nnz += np.bincount(sub.indices, minlength=g)
        mx = np.maximum(mx, sub.max(axis=0).toarray().ravel())
        mn = np.minimum(mn, sub.min(axis=0).toarray().ravel())
    mean = total / n
    ss = np.zeros(g)
    for sub in cm.run(lambda a, b, xn: xn[:, cols].tocsr()):
        d = sub.data - mean[sub.indices]
        ss = _accumulate(ss, sub.indices, d * d)
    ss = ss + (n - nnz) * mean**2
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt(ss / (n - 1)) if n > 1 else np.full(g, np.nan)
    return GeneStats(mean, sd, mx == mn)


def gene_means(cm: CellMatrix) -> np.ndarray:
    """The mean over all cells of every scored gene (summed in cell order)."""
    g = cm.genes.size
    total = np.zeros(g)
    for xn in cm.run(lambda a, b, xn: xn):
        total = _accumulate(total, xn.indices, xn.data)
    return total / cm.n_obs


def control_genes(means: pd.Series, gene_list: list[str], ctrl_size: int, n_bins: int, random_state: int) -> list[str]:
    """scanpy ``tl.score_genes``'s control genes of ``gene_list``: the genes binned by mean expression (``n_bins``
    bins of equal counts, ranks 'min'), ``ctrl_size`` drawn from each bin holding a listed gene (numpy's legacy RNG
    seeded with ``random_state``, as scanpy seeds the global one; the global state is not touched), minus the
    listed genes; sorted."""
    avg = means[np.isfinite(means)]
    n_items = int(np.round(len(avg) / (n_bins - 1)))
    cut = avg.rank(method="min") // n_items
    rng = np.random.RandomState(random_state)
    out: set[str] = set()
    listed = pd.Index(gene_list)
    for c in np.unique(cut.loc[listed]):
        r_genes = cut.index[(cut == c).to_numpy()]
        if ctrl_size < len(r_genes):
            r_genes = r_genes[rng.choice(len(r_genes), size=ctrl_size, replace=False)]
        out.update(r_genes.difference(listed))
    if not out:
        raise SeedsigError(
            f"score_genes: no control genes for {', '.join(gene_list[:10])} (every gene of their expression bins is "
            "in the set): too few genes for scoring.score_genes.n_bins."
        )
    return sorted(out)
