"""Single-cell inputs read as pseudobulk: cells summed per sample, obs turned into clinical data.

The counts are read a chunk of cells at a time (:class:`seedsig.ingest.cells.Cells`: from the .h5ad file, or an
AnnData in memory), checked, and summed per sample chunk by chunk: the cells x genes matrix is never loaded whole,
and memory grows with the chunk (``single_cell.chunk_cells``) and samples x genes, not with the cells. The sums are
of whole numbers in float64, so they do not depend on the chunking or on the order of the cells."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seedsig.core.errors import SeedsigError
from seedsig.core.settings import SINGLE_CELL_DEFAULTS
from seedsig.ingest.cells import Cells, as_cells, open_cells, ordered_map
from seedsig.ingest.expression import ExpressionInput
from seedsig.ingest.formats import matrix_key, obs_clinical

log = logging.getLogger(__name__)
CHUNK_CELLS = SINGLE_CELL_DEFAULTS["chunk_cells"]
RAW_COUNTS_HINT = "single-cell pseudobulk needs raw counts: name the counts layer in the sheet's `layer` column"
CELL_COUNTS_HINT = (
    "per-cell scores normalize raw counts per cell (normalize_total + log1p): "
    "name the counts layer in the sheet's `layer` column"
)


# ------------------------------------------------------------------------------------------------- counts
def counts_key(cells: Cells, layer: str | None, where: str) -> tuple[str | None, str]:
    """Which matrix holds the raw counts: ``layers[layer]`` if given, else ``layers['counts']`` if present, else X
    (None); and its label."""
    if not layer and "counts" in cells.layers:
        layer = "counts"
    return matrix_key(cells.layers, cells.has_x, layer, where)


class RawCountsCheck:
    """Whether every value of a matrix (checked a chunk of cells at a time) is a finite, non-negative whole number;
    :meth:`raise_if_bad` gives the one message (how many bad values, the first one's cell and gene)."""

    def __init__(self, label: str, where: str, hint: str = RAW_COUNTS_HINT) -> None:
        self.label, self.where, self.hint = label, where, hint
        self.n_bad = 0
        self.first: tuple[int, int, Any] | None = None  # (row, column, value)

    def scan(self, x, start: int) -> tuple[int, tuple[int, int, Any] | None]:
        """How many values of a CSR chunk (first row: cell ``start``) are bad, and the first one (row, column, value).
        Pure: chunks can be scanned in any thread; :meth:`add` the results in chunk order."""
        vals = x.data
        if not np.issubdtype(vals.dtype, np.number) or np.issubdtype(vals.dtype, np.bool_):
            raise SeedsigError(f"{self.where}: {self.label} holds {vals.dtype} values, not counts: {self.hint}.")
        if np.issubdtype(vals.dtype, np.integer):
            bad = vals < 0
        else:
            with np.errstate(invalid="ignore"):
                bad = ~np.isfinite(vals) | (vals < 0) | (np.abs(vals - np.rint(vals)) > 1e-6)
        n = int(np.count_nonzero(bad))
        if not n:
            return 0, None
        i = int(np.flatnonzero(bad)[0])
        return n, (start + int(np.searchsorted(x.indptr, i, side="right") - 1), int(x.indices[i]), vals[i])

    def add(self, result: tuple[int, tuple[int, int, Any] | None]) -> None:
        n, first = result
        if n and self.first is None:
            self.first = first
        self.n_bad += n

    def raise_if_bad(self, cells: Cells, var_names: pd.Index | None = None) -> None:
        if not self.n_bad:
            return
        row, col, v = self.first
        kind = "negative" if np.isfinite(v) and v < 0 else "non-integer" if np.isfinite(v) else "missing or infinite"
        layers = ", ".join(cells.layers) or "none"
        names = cells.var_names if var_names is None else var_names
        raise SeedsigError(
            f"{self.where}: {self.label} holds {kind} values ({self.n_bad} of them, e.g. {v!r} in cell "
            f"'{cells.obs_names[row]}', gene '{names[col]}'), "
            f"not raw counts: {self.hint} (layers in the file: {layers})."
        )


def _sample_labels(cells: Cells, sample_column: str, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Each cell's sample id (str) and whether it has one (NA and empty strings have none)."""
    if sample_column not in cells.obs.columns:
        raise SeedsigError(
            f"{where}: no obs column '{sample_column}' (the sheet's sample_column). obs columns are: "
            f"{', '.join(map(str, cells.obs.columns)) or 'none'}. "
            "Name the column that says which sample each cell comes from."
        )
    col = cells.obs[sample_column]
    has = col.notna().to_numpy() & (col.astype(str).str.strip() != "").to_numpy()
    return col.astype(str).to_numpy(dtype=object), has


def _sample_sums(
    cells: Cells, key: str | None, check: RawCountsCheck, cell_codes: np.ndarray, n_s: int, chunk: int, threads: int
) -> np.ndarray:
    """samples x genes sums of the counts (float64), a chunk of cells at a time (``cell_codes``: each cell's sample,
    -1 for none)."""
    import scipy.sparse as sp

    def part(item):
        a, b, x = item
        bad = check.scan(x, a)
        codes = cell_codes[a:b]
        keep = np.flatnonzero(codes >= 0)
        indicator = sp.csr_matrix((np.ones(keep.size), (codes[keep], keep)), shape=(n_s, b - a))
        s = indicator @ x  # scipy upcasts to float64
        return bad, s.toarray() if sp.issparse(s) else np.asarray(s)

    sums = np.zeros((n_s, cells.n_vars))
    for bad, s in ordered_map(part, cells.chunks(key, chunk), threads):
        check.add(bad)
        sums += s
    return sums


def gene_totals(cells: Cells, key: str | None, chunk: int = CHUNK_CELLS, threads: int = 1) -> np.ndarray:
    """Each gene's total count over all cells (float64), a chunk of cells at a time."""
    total = np.zeros(cells.n_vars)

    def part(item):
        _, _, x = item
        return np.bincount(x.indices, weights=x.data.astype(np.float64), minlength=cells.n_vars)

    for t in ordered_map(part, cells.chunks(key, max(1, int(chunk))), threads):
        total += t
    return total


def pseudobulk(
    adata,
    sample_column: str,
    layer: str | None = None,
    *,
    source: str | None = None,
    chunk_cells: int = CHUNK_CELLS,
    threads: int = 1,
) -> ExpressionInput:
    """Sum the raw counts of each sample's cells: a genes x samples count matrix (samples sorted by id).

    ``adata``: an AnnData or :class:`~seedsig.ingest.cells.Cells` (read from a file a chunk of ``chunk_cells`` cells
    at a time). Counts: ``layers[layer]`` if given, else ``layers['counts']`` if present, else X; they must be
    non-negative whole numbers. Cells without a sample (NA / empty) are left out (``info['n_cells_without_sample']``,
    a note). Clinical = the obs columns constant within every sample (the others are listed in
    ``info['dropped_obs_columns']``), plus ``n_cells``. The input AnnData is not changed."""
    where = source or "single-cell AnnData"
    cells = as_cells(adata, where)
    key, label = counts_key(cells, layer, where)
    labels, has = _sample_labels(cells, sample_column, where)
    if not has.any():
        raise SeedsigError(
            f"{where}: no cell has a sample in obs column '{sample_column}' (every value is missing). Fill the sample "
            "of each cell."
        )
    check_unique_names(cells.var_names, where, "var")
    keep = np.flatnonzero(has)
    codes, samples = pd.factorize(labels[keep], sort=True)
    n_s, n_c = len(samples), cells.n_obs
    cell_codes = np.full(n_c, -1, dtype=np.int64)
    cell_codes[keep] = codes
    check = RawCountsCheck(label, where)
    sums = _sample_sums(cells, key, check, cell_codes, n_s, max(1, int(chunk_cells)), threads)
    check.raise_if_bad(cells)
    matrix = pd.DataFrame(
        sums.T.astype(np.float64),
        index=pd.Index(cells.var_names, name="gene_id"),
        columns=[str(s) for s in samples],
    )
    clinical, kept_cols, dropped = _clinical(cells.obs.iloc[keep].drop(columns=[sample_column]), codes, n_s)
    clinical.index = pd.Index(matrix.columns, name="sample")
    clinical["n_cells"] = np.bincount(codes, minlength=n_s)
    n_na = int((~has).sum())
    info: dict[str, Any] = {
        "format": "h5ad",
        "mode": "single-cell pseudobulk",
        "sample_column": sample_column,
        "values": label,
        "n_cells": int(n_c),
        "n_cells_used": int(keep.size),
        "n_cells_without_sample": n_na,
        "n_rows": int(matrix.shape[0]),
        "n_samples": int(n_s),
        "clinical_columns": kept_cols,
        "dropped_obs_columns": dropped,
        "aggregation": "sum of raw counts per sample (sparse indicator matrix product)",
    }
    notes = []
    if n_na:
        notes.append(f"{n_na} cell(s) without a sample in obs column '{sample_column}' were left out of the pseudobulk")
    if dropped:
        notes.append(
            "obs column(s) varying within a sample left out of the clinical data: "
            f"{', '.join(dropped[:20])}{' ...' if len(dropped) > 20 else ''}"
        )
    if notes:
        info["note"] = "; ".join(notes)
        for n in notes:
            log.info("%s: %s", where, n)
    return ExpressionInput(matrix=matrix, clinical=clinical, info=info, cells=adata)


def _clinical(obs: pd.DataFrame, codes: np.ndarray, n_s: int) -> tuple[pd.DataFrame, list[str], list[str]]:
    """The obs columns constant within every sample (one row per sample code), and the names kept and dropped."""
    obs = obs_clinical(obs)
    obs.index = pd.RangeIndex(codes.size)
    kept_cols: list[str] = []
    dropped: list[str] = []
    if obs.shape[1]:
        grouped = obs.groupby(codes, sort=True)
        nunique = grouped.nunique(dropna=False)
        constant = nunique.le(1).all(axis=0)
        kept_cols = [c for c in obs.columns if constant[c]]
        dropped = [c for c in obs.columns if not constant[c]]
        clinical = grouped[kept_cols].first() if kept_cols else pd.DataFrame(index=range(n_s))
    else:
        clinical = pd.DataFrame(index=range(n_s))
    return clinical.reindex(range(n_s)), kept_cols, dropped


def read_single_cell(
    path: str | os.PathLike,
    sample_column: str,
    layer: str | None = None,
    *,
    chunk_cells: int = CHUNK_CELLS,
    threads: int = 1,
) -> ExpressionInput:
    """Read a single-cell .h5ad (a chunk of cells at a time) and return its pseudobulk (``cells`` = the file's
    :class:`~seedsig.ingest.cells.Cells`, for per-cell scores)."""
    p = Path(path)
    cells = open_cells(p, "single-cell file")
    out = pseudobulk(cells, sample_column, layer, source=cells.where, chunk_cells=chunk_cells, threads=threads)
    out.info = {"format": "h5ad", "file": str(p), **{k: v for k, v in out.info.items() if k != "format"}}
    if cells.info.get("note"):
        out.info["note"] = "; ".join(filter(None, [out.info.get("note"), cells.info["note"]]))
    return out


def check_unique_names(names: pd.Index, where: str, what: str) -> None:
    d = names[names.duplicated()].unique().tolist()
    if d:
        raise SeedsigError(
            f"{where}: duplicated {what} name(s) {', '.join(map(str, d[:10]))}. Make them unique "
            f"({what}_names_make_unique) or remove the duplicates."
        )
