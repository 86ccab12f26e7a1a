"""One cohort's AnnData and tables as the stages pass them on (expression.h5ad, scores, covariates)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from seedsig.core.provenance import to_jsonable
from seedsig.core.tables import atomic_path

EVENT_CODES = {"1": 1, "0": 0, "1.0": 1, "0.0": 0, "true": 1, "false": 0}


def obs_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Make clinical columns writable to h5ad (text columns become categoricals; NA kept)."""
    df = df.copy()
    for c in df.columns:
        if df[c].dtype == object or pd.api.types.is_string_dtype(df[c]):
            df[c] = df[c].astype("category")
    df.columns = [str(c) for c in df.columns]
    return df


def write_h5ad(adata, path: str | Path) -> None:
    """Write ``adata`` atomically. anndata logs "... storing 'id_status' as categorical" at INFO for every repeated
    text column it converts, on its own handler (not ours): that is not a line for the terminal."""
    quiet = logging.getLogger("anndata")
    level = quiet.level
    quiet.setLevel(max(level, logging.WARNING))
    try:
        with atomic_path(path) as tmp:
            adata.write_h5ad(tmp)
    finally:
        quiet.setLevel(level)


def set_provenance(adata, stage: str, record: dict) -> None:

    prov = dict(adata.uns.get("seedsig_provenance", {}))
    prov[stage] = json.dumps(to_jsonable(record))
    adata.uns["seedsig_provenance"] = prov


# ----------------------------------------------------------------------------------------------- score
def read_expression(h5ad: str | Path, *, layers: bool = True):
    """The cohort's AnnData; ``layers=False`` leaves ``layers`` (the raw counts, as large as X) unread, for the stages
    that use only the normalized values."""
    import anndata as ad

    if layers:
        return ad.read_h5ad(h5ad)
    import h5py
    from anndata.io import read_elem

    with h5py.File(h5ad, "r") as f:
        parts = {k: read_elem(f[k]) for k in ("X", "obs", "var", "uns", "obsm", "varm", "obsp", "varp") if k in f}
    return ad.AnnData(**parts)


def layer_column_sums(h5ad: str | Path, layer: str) -> np.ndarray | None:
    """Per gene, the sum over the samples of ``layers[layer]`` of an expression.h5ad (samples x genes), read by chunks
    of samples (the layer is never held whole); None when the file has no such layer."""
    import h5py

    with h5py.File(h5ad, "r") as f:
        if f"layers/{layer}" not in f:
            return None
        node = f[f"layers/{layer}"]
        if not isinstance(node, h5py.Dataset):  # a sparse layer: small enough to read whole
            from anndata.io import read_elem

            return np.asarray(read_elem(node).sum(axis=0)).ravel()
        out = np.zeros(node.shape[1])
        step = max(1, 4_000_000 // max(node.shape[1], 1))
        for a in range(0, node.shape[0], step):
            out += np.asarray(node[a : a + step], dtype=np.float64).sum(axis=0)
        return out


def expression_frame(h5ad: str | Path, *, layers: bool = True) -> tuple[pd.DataFrame, Any]:
    """genes x samples normalized expression (a view of X) and the AnnData (``layers=False``: without its layers)."""
    adata = read_expression(h5ad, layers=layers)
    return pd.DataFrame(
        np.asarray(adata.X).T, index=adata.var_names.astype(str), columns=adata.obs_names.astype(str)
    ), adata


def normalization_record(adata) -> dict:
    """The normalization record of an AnnData for a sidecar (the filtered genes as a count)."""
    rec = {k: v for k, v in dict(adata.uns.get("normalization", {})).items() if k != "filtered_genes"}
    rec["n_filtered_genes"] = int(len(np.asarray(adata.uns.get("normalization", {}).get("filtered_genes", []))))
    for k, v in list(rec.items()):
        if isinstance(v, np.ndarray):
            rec[k] = v.tolist()
        elif isinstance(v, str) and v.startswith("{"):
            try:
                rec[k] = json.loads(v)
            except ValueError:
                pass
    return rec


# ------------------------------------------------------------------------------------------- associate
def read_scores(paths: dict[str, str | Path]) -> dict[str, pd.DataFrame]:
    return {m: pd.read_csv(p, sep="\t", index_col=0, dtype={0: str}) for m, p in paths.items()}


def covariate_frame(obs: pd.DataFrame, names: Sequence[str], cohort: str) -> tuple[pd.DataFrame | None, list[str]]:
    """The clinical covariates named in the config that the cohort has (samples x covariates), and a note
    for each one it lacks (skipped, never an error: cohorts differ in what they record)."""
    present = [c for c in names if c in obs.columns]
    notes = [
        f"covariate column '{c}' is not in the clinical table of cohort '{cohort}'"
        for c in names
        if c not in obs.columns
    ]
    if not present:
        return None, notes
    df = obs[present].copy()
    for c in present:
        if isinstance(df[c].dtype, pd.CategoricalDtype):
            df[c] = df[c].astype(object)
    return df, notes


def method_params(scoring: dict, methods: Sequence[str]) -> dict[str, dict]:
    return {m: dict(scoring.get(m) or {}) for m in methods}
