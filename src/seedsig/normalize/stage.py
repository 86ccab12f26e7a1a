"""Normalize stage: the cohort's normalization policy applied to expression.h5ad."""

from __future__ import annotations

import gc
import json
import logging
import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from seedsig.core.cohort import set_provenance, write_h5ad
from seedsig.core.errors import SeedsigError
from seedsig.core.provenance import provenance, to_jsonable
from seedsig.core.settings import NORMALIZE_DEFAULTS
from seedsig.normalize.lengths import match_lengths, read_gene_lengths
from seedsig.normalize.methods import (
    filter_by_expr,
    normalize_matrix,
    parse_steps,
)

log = logging.getLogger("seedsig")


# ------------------------------------------------------------------------------------------- normalize
def normalize_cohort(
    in_h5ad: str | Path,
    out_h5ad: str | Path,
    method: str | Sequence[str],
    prior_count: float = float(NORMALIZE_DEFAULTS["prior_count"]),
    *,
    filter: dict | None = None,
    gene_lengths: str | None = None,
    pseudocount: float | None = None,
    size_factors: str = "auto",
    threads: int = 1,
) -> None:
    """Filter (counts) and normalize X; raw counts kept in ``layers['counts']``; method and parameters in ``uns``.

    ``filter``: ``{"method": "filter_by_expr" | "none", "min_count", "min_total_count", "large_n",
    "min_prop", "group"}`` (edgeR filterByExpr arguments; ``group`` a clinical column). The genes it
    removes are listed in ``uns['normalization']['filtered_genes']``, so the coverage table can say when
    a signature gene was filtered. ``threads`` (the rule's): threads of the normalization (the result does not
    depend on it). Memory: the input counts, the kept counts and the normalized matrix, no other temporary of the
    matrix's size (every step works on chunks of genes or samples).
    """
    import anndata as ad

    adata = ad.read_h5ad(in_h5ad)
    cohort = adata.uns.get("cohort", "?")
    data_type = adata.uns.get("data_type", "counts")
    steps = parse_steps(method)
    where = f"cohort '{cohort}'"
    df = pd.DataFrame(np.asarray(adata.X).T, index=adata.var_names, columns=adata.obs_names)
    record: dict[str, Any] = {"method": "+".join(steps), "steps": list(steps), "data_type": data_type}
    filtered: list[str] = []
    filt = dict(filter or {})
    if data_type == "counts" and filt.get("method", "none") == "filter_by_expr":
        adata, df, filtered, record["filter"] = _filter_low_expression(adata, df, filt, cohort, where)
        gc.collect()  # the unfiltered AnnData (its internal references form cycles) and its counts go now
    else:
        record["filter"] = {"method": "none"}
    lengths = None
    if "tpm" in steps:
        lengths = _tpm_gene_lengths(adata, gene_lengths, where)
        record["gene_lengths"] = str(gene_lengths)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out, info = normalize_matrix(
            df,
            steps,
            data_type=data_type,
            prior_count=prior_count,
            gene_lengths=lengths,
            pseudocount=pseudocount,
            size_factors=size_factors,
            where=where,
            threads=threads,
        )
    for w in caught:
        log.warning("normalize %s: %s", cohort, w.message)
    adata = _normalized_anndata(adata, out, info, record, filtered)
    set_provenance(
        adata,
        "normalize",
        provenance(
            {
                "method": "+".join(steps),
                "prior_count": prior_count,
                "filter": filt,
                "gene_lengths": gene_lengths or "",
                "pseudocount": pseudocount,
                "size_factors": size_factors,
            },
            inputs=[str(in_h5ad), *([gene_lengths] if gene_lengths else [])],
            reference=info.get("reference", ""),
        ),
    )
    write_h5ad(adata, out_h5ad)
    log.info("normalize %s: %s on %d genes x %d samples", cohort, "+".join(steps), adata.n_vars, adata.n_obs)


def _filter_group(adata, gcol: str, cohort: str, where: str) -> np.ndarray | None:
    """The groups of edgeR filterByExpr: the clinical column ``gcol`` as text (None when not given, or absent from
    the clinical table, which is logged)."""
    if not gcol:
        return None
    if gcol not in adata.obs.columns:
        log.warning(
            "normalize %s: filter group column '%s' is not in the clinical table; filtering without groups",
            cohort,
            gcol,
        )
        return None
    g = adata.obs[gcol]
    if g.isna().any():
        raise SeedsigError(
            f"{where}: the filter group column '{gcol}' is missing for sample(s) "
            f"{', '.join(map(str, g.index[g.isna()][:5]))}. Give every sample a group or set normalize.filter.group "
            "to ''."
        )
    return g.astype(str).to_numpy()


def _filter_low_expression(
    adata, df: pd.DataFrame, filt: dict, cohort: str, where: str
) -> tuple[Any, pd.DataFrame, list, dict]:
    """edgeR filterByExpr on the counts: (AnnData and counts of the genes kept, with the library sizes after
    filtering in ``obs``; the genes removed; the filter's record)."""
    group = _filter_group(adata, filt.get("group") or "", cohort, where)
    keep = filter_by_expr(
        df.to_numpy(),
        group,
        min_count=filt.get("min_count", 10),
        min_total_count=filt.get("min_total_count", 15),
        large_n=filt.get("large_n", 10),
        min_prop=filt.get("min_prop", 0.7),
    )
    if not keep.any():
        raise SeedsigError(
            f"{where}: the low-expression filter (edgeR filterByExpr) removes every gene. Lower "
            "normalize.filter.min_count or set normalize.filter.method to none."
        )
    filtered = list(map(str, df.index[~keep]))
    adata = adata[:, keep].copy()
    df = pd.DataFrame(np.asarray(adata.X).T, index=df.index[keep], columns=df.columns)  # a view of the kept counts
    adata.obs["library_size_filtered"] = df.sum(
        axis=0
    ).to_numpy()  # what normalization uses (edgeR keep.lib.sizes=FALSE)
    record = {
        "method": "filter_by_expr",
        "reference": "edgeR filterByExpr; library sizes recomputed after filtering (keep.lib.sizes=FALSE)",
        **{k: filt.get(k) for k in ("min_count", "min_total_count", "large_n", "min_prop", "group")},
        "n_removed": len(filtered),
        "n_kept": int(keep.sum()),
    }
    log.info("normalize %s: filterByExpr kept %d of %d genes", cohort, int(keep.sum()), len(keep))
    return adata, df, filtered, record


def _tpm_gene_lengths(adata, gene_lengths: str | None, where: str) -> np.ndarray:
    """The length of each gene of the AnnData for TPM, matched by its input ids (else its symbol)."""
    if not gene_lengths:
        raise SeedsigError(
            f"{where}: normalization 'tpm' needs gene lengths: set normalize.gene_lengths in the config to the GTF (or "
            "a two-column table id, length) the counts were made with."
        )
    table = read_gene_lengths(gene_lengths)
    ids = adata.var["input_ids"].astype(str).tolist() if "input_ids" in adata.var else [""] * adata.n_vars
    keys = [i.split(";") if i and i != "nan" else [] for i in ids]
    return match_lengths(keys, table, fallback=list(map(str, adata.var_names)))


# what normalize_matrix reports that the normalization record of ``uns`` keeps
RECORDED_INFO = (
    "prior_count",
    "pseudocount",
    "size_factor_type",
    "vst",
    "values_raised_before_log2",
    "genes_without_length",
    "reference",
)


def _normalized_anndata(adata, out: pd.DataFrame, info: dict, record: dict, filtered: list[str]):
    """The AnnData with the normalized values as X (raw counts in ``layers['counts']``; genes TPM left out
    dropped), the normalization record in ``uns`` and the per-sample factors in ``obs``."""
    if len(out.index) < adata.n_vars:  # TPM: genes without a length left out
        adata = adata[:, adata.var_names.isin(out.index)].copy()
    if record["data_type"] == "counts":
        adata.layers["counts"] = np.asarray(adata.X)  # X is replaced below: the counts array moves, no copy
    same = out.index.equals(adata.var_names)  # no gene dropped: the normalized array as it is (no reindexed copy)
    adata.X = (out if same else out.loc[adata.var_names]).to_numpy().T
    for key in RECORDED_INFO:
        if key in info:
            record[key] = info[key]
    record["filtered_genes"] = filtered

    adata.uns["normalization"] = {
        k: (json.dumps(to_jsonable(v)) if isinstance(v, dict) else v)
        for k, v in record.items()
        if k != "filtered_genes"
    }
    adata.uns["normalization"]["filtered_genes"] = (
        np.asarray(filtered, dtype=object) if filtered else np.asarray([], dtype=str)
    )
    for key, col in (("norm_factors", "norm_factor"), ("size_factors", "size_factor")):
        if key in info:
            adata.obs[col] = pd.Series(info[key]).reindex(adata.obs_names).to_numpy()
    return adata
