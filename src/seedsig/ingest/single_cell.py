"""Single-cell inputs read as pseudobulk: cells summed per sample, obs turned into clinical data."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seedsig.core.errors import SeedsigError
from seedsig.ingest.expression import ExpressionInput
from seedsig.ingest.formats import h5ad_values, obs_clinical, read_h5ad

log = logging.getLogger(__name__)
RAW_COUNTS_HINT = "single-cell pseudobulk needs raw counts: name the counts layer in the sheet's `layer` column"
CELL_COUNTS_HINT = (
    "per-cell scores normalize raw counts per cell (normalize_total + log1p): "
    "name the counts layer in the sheet's `layer` column"
)


# ------------------------------------------------------------------------------------------------- counts
def counts_values(adata, layer: str | None, where: str):
    """The raw counts of the cells: ``layers[layer]`` if given, else ``layers['counts']`` if present, else X."""
    if not layer and "counts" in adata.layers:
        layer = "counts"
    return h5ad_values(adata, layer, where)


def check_raw_counts(adata, x, label: str, where: str, hint: str = RAW_COUNTS_HINT) -> None:
    """Raise unless every value of ``x`` (cells x genes, dense or sparse) is a finite, non-negative whole number."""
    import scipy.sparse as sp

    if sp.issparse(x):
        m = sp.csr_matrix(x)
        vals = m.data
    else:
        m = None
        vals = np.asarray(x).ravel()
    if not np.issubdtype(vals.dtype, np.number) or np.issubdtype(vals.dtype, np.bool_):
        raise SeedsigError(f"{where}: {label} holds {vals.dtype} values, not counts: {hint}.")
    if np.issubdtype(vals.dtype, np.integer):
        bad = vals < 0
    else:
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(vals) | (vals < 0) | (np.abs(vals - np.rint(vals)) > 1e-6)
    if not bad.any():
        return
    i = int(np.flatnonzero(bad)[0])
    if m is not None:
        row, col = int(np.searchsorted(m.indptr, i, side="right") - 1), int(m.indices[i])
    else:
        row, col = divmod(i, int(np.asarray(x).shape[1]))
    v = vals[i]
    kind = "negative" if np.isfinite(v) and v < 0 else "non-integer" if np.isfinite(v) else "missing or infinite"
    layers = ", ".join(map(str, adata.layers.keys())) or "none"
    raise SeedsigError(
        f"{where}: {label} holds {kind} values ({int(bad.sum())} of them, e.g. {v!r} in cell "
        f"'{adata.obs_names[row]}', gene '{adata.var_names[col]}'), "
        f"not raw counts: {hint} (layers in the file: {layers})."
    )


def _sample_labels(adata, sample_column: str, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Each cell's sample id (str) and whether it has one (NA and empty strings have none)."""
    if sample_column not in adata.obs.columns:
        raise SeedsigError(
            f"{where}: no obs column '{sample_column}' (the sheet's sample_column). obs columns are: "
            f"{', '.join(map(str, adata.obs.columns)) or 'none'}. "
            "Name the column that says which sample each cell comes from."
        )
    col = adata.obs[sample_column]
    has = col.notna().to_numpy() & (col.astype(str).str.strip() != "").to_numpy()
    return col.astype(str).to_numpy(dtype=object), has


def pseudobulk(adata, sample_column: str, layer: str | None = None, *, source: str | None = None) -> ExpressionInput:
    """Sum the raw counts of each sample's cells: a genes x samples count matrix (samples sorted by id).

    Counts: ``layers[layer]`` if given, else ``layers['counts']`` if present, else X; they must be non-negative whole
    numbers. Cells without a sample (NA / empty) are left out (``info['n_cells_without_sample']``, a note). Clinical =
    the obs columns constant within every sample (the others are listed in ``info['dropped_obs_columns']``), plus
    ``n_cells``. The input AnnData is not changed."""
    import scipy.sparse as sp

    where = source or "single-cell AnnData"
    x, label = counts_values(adata, layer, where)
    labels, has = _sample_labels(adata, sample_column, where)
    if not has.any():
        raise SeedsigError(
            f"{where}: no cell has a sample in obs column '{sample_column}' (every value is missing). Fill the sample "
            "of each cell."
        )
    check_unique_names(adata.var_names, where, "var")
    check_raw_counts(adata, x, label, where)
    keep = np.flatnonzero(has)
    codes, samples = pd.factorize(labels[keep], sort=True)
    n_s, n_c = len(samples), adata.n_obs
    indicator = sp.csr_matrix((np.ones(keep.size), (codes, keep)), shape=(n_s, n_c))  # samples x cells
    sums = indicator @ x  # samples x genes (scipy upcasts to float64)
    sums = sums.toarray() if sp.issparse(sums) else np.asarray(sums)
    matrix = pd.DataFrame(
        sums.T.astype(np.float64),
        index=pd.Index(adata.var_names.astype(str), name="gene_id"),
        columns=[str(s) for s in samples],
    )
    # clinical: obs columns constant within every sample
    obs = obs_clinical(adata.obs.iloc[keep].drop(columns=[sample_column]))
    obs.index = pd.RangeIndex(keep.size)
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
    clinical = clinical.reindex(range(n_s))
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


def read_single_cell(path: str | os.PathLike, sample_column: str, layer: str | None = None) -> ExpressionInput:
    """Read a single-cell .h5ad and return its pseudobulk (``cells`` = the AnnData, for per-cell scores)."""
    p = Path(path)
    adata = read_h5ad(p, "single-cell file")
    out = pseudobulk(adata, sample_column, layer, source=f"single-cell file '{p}'")
    out.info = {"format": "h5ad", "file": str(p), **{k: v for k, v in out.info.items() if k != "format"}}
    return out


def check_unique_names(names: pd.Index, where: str, what: str) -> None:
    d = names[names.duplicated()].unique().tolist()
    if d:
        raise SeedsigError(
            f"{where}: duplicated {what} name(s) {', '.join(map(str, d[:10]))}. Make them unique "
            f"({what}_names_make_unique) or remove the duplicates."
        )
