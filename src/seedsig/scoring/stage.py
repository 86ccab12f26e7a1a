"""Score stage: scores, coverage and per-cell scores of one cohort, as the rules write them."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from seedsig.core.cohort import expression_frame, normalization_record
from seedsig.core.errors import SeedsigError
from seedsig.core.progress import Timer
from seedsig.core.provenance import provenance, write_sidecar
from seedsig.core.settings import SCORING_DEFAULTS
from seedsig.core.tables import write_table
from seedsig.core.threads import resolve_threads
from seedsig.ingest.ids import representative_rows, resolve_ids
from seedsig.scoring.methods import COVERAGE_COLUMNS, QC_COLUMNS, coherence_table, score
from seedsig.scoring.per_cell import cell_scores
from seedsig.scoring.signatures import load_signatures

log = logging.getLogger("seedsig")


def cell_scores_cohort(
    cohort: str,
    h5ad: str | Path,
    gene_id: str,
    sample_column: str,
    signature_files: Sequence[str],
    method: str,
    out_tsv: str | Path,
    *,
    layer: str | None = None,
    min_genes: int = SCORING_DEFAULTS["min_genes"],
    min_fraction: float = SCORING_DEFAULTS["min_fraction"],
    params: dict | None = None,
) -> None:
    """Per-cell scores of a single-cell cohort: genes resolved to current HGNC symbols as in ingest (one column per
    symbol: the one with the most counts), scanpy-style per-cell normalization, the scoring engine."""
    import anndata as ad

    adata = ad.read_h5ad(h5ad)
    if sample_column not in adata.obs.columns:
        raise SeedsigError(
            f"single-cell file '{h5ad}' of cohort '{cohort}': no obs column '{sample_column}' "
            f"(the sheet's sample_column). Columns are: {', '.join(map(str, adata.obs.columns))}."
        )
    res = resolve_ids(list(map(str, adata.var_names)), gene_id)
    kept = ~res["status"].isin(["unmapped", "ambiguous"]).to_numpy()
    symbols = res["symbol"].astype(str).to_numpy()
    x = adata.layers[layer] if layer else adata.layers["counts"] if "counts" in adata.layers else adata.X
    totals = np.asarray(x.sum(axis=0)).ravel()
    idx = np.flatnonzero(kept)
    rep = idx[representative_rows(symbols[idx], np.asarray(adata.var_names.astype(str))[idx], totals[idx])]
    sub = adata[:, rep].copy()
    sub.var_names = pd.Index(symbols[rep])
    sigs = load_signatures(signature_files)
    tables = cell_scores(
        sub,
        sigs,
        [method],
        layer=layer,
        min_genes=min_genes,
        min_fraction=min_fraction,
        params={method: dict(params or {})},
        sample_column=sample_column,
    )
    table = tables[method].copy()
    if "sample" not in table.columns:
        table.insert(0, "sample", sub.obs[sample_column].astype(str).reindex(table.index).to_numpy())
    table.index.name = "cell"
    write_table(table.reset_index(), out_tsv)
    write_sidecar(
        out_tsv,
        provenance(
            {
                "method": method,
                "min_genes": min_genes,
                "min_fraction": min_fraction,
                "params": params or {},
                "layer": layer or "",
                "sample_column": sample_column,
            },
            inputs=[str(h5ad), *map(str, signature_files)],
            cohort=cohort,
            n_cells=int(sub.n_obs),
            n_genes=int(sub.n_vars),
            normalization="scanpy normalize_total(target_sum=1e4) + log1p per cell",
        ),
    )
    log.info("cell_scores %s with %s: %d cells x %d signatures", cohort, method, table.shape[0], table.shape[1] - 1)


def score_cohort(
    h5ad: str | Path,
    signature_files: Sequence[str],
    method: str,
    out_tsv: str | Path,
    *,
    min_genes: int = SCORING_DEFAULTS["min_genes"],
    min_fraction: float = SCORING_DEFAULTS["min_fraction"],
    params: dict | None = None,
    threads: int | None = 1,
) -> None:
    """scores/{method}.tsv of one cohort (+ its sidecar), scored on ``threads`` threads (the rule's)."""
    timer = Timer()
    expr, adata = expression_frame(h5ad)
    sigs = load_signatures(signature_files)
    with timer("score"):
        res = score(expr, sigs, method, min_genes=min_genes, min_fraction=min_fraction, params=params, threads=threads)
    table = res.scores.copy()
    table.index.name = "sample"
    write_table(table.reset_index(), out_tsv)
    write_sidecar(
        out_tsv,
        provenance(
            res.provenance(),
            inputs=[str(h5ad), *map(str, signature_files)],
            cohort=adata.uns.get("cohort", ""),
            normalization=normalization_record(adata),
            signatures=[s.metadata() for s in sigs],
        ),
    )
    log.info(
        "score %s with %s: %d samples x %d signatures (%d not scored) in %s on %d thread(s)",
        adata.uns.get("cohort", ""),
        method,
        table.shape[0],
        table.shape[1],
        int((~res.coverage["scored"]).sum()),
        timer.fmt("score"),
        resolve_threads(threads),
    )


# columns the pipeline adds to coverage.tsv and signature_qc.tsv (after the scoring engine's columns)
EXTRA_COVERAGE_COLUMNS = ("filtered_genes", "not_expressed_genes")


def coverage_cohort(
    h5ad: str | Path,
    signature_files: Sequence[str],
    out_tsv: str | Path,
    out_qc: str | Path | None = None,
    *,
    min_genes: int = SCORING_DEFAULTS["min_genes"],
    min_fraction: float = SCORING_DEFAULTS["min_fraction"],
) -> None:
    """coverage.tsv (genes present per signature) and signature_qc.tsv (coverage + coherence)."""

    expr, adata = expression_frame(h5ad)
    sigs = load_signatures(signature_files)
    qc = coherence_table(expr, sigs, min_genes=min_genes, min_fraction=min_fraction)
    filtered = set(map(str, np.asarray(adata.uns.get("normalization", {}).get("filtered_genes", []))))
    silent = set()
    if "counts" in adata.layers:
        silent = set(adata.var_names[np.asarray(adata.layers["counts"]).sum(axis=0) == 0].astype(str))
    qc["filtered_genes"] = [";".join(g for g in s.genes if g in filtered) for s in sigs]
    qc["not_expressed_genes"] = [";".join(g for g in s.genes if g in silent) for s in sigs]
    reason = qc["reason"].fillna("").astype(str)
    lost = (~qc["scored"]) & (qc["filtered_genes"] != "")
    qc.loc[lost, "reason"] = reason[lost] + "; removed by the low-expression filter: " + qc.loc[lost, "filtered_genes"]
    record = provenance(
        {"min_genes": min_genes, "min_fraction": min_fraction},
        inputs=[str(h5ad), *map(str, signature_files)],
        cohort=adata.uns.get("cohort", ""),
    )
    write_table(qc[[*COVERAGE_COLUMNS, *EXTRA_COVERAGE_COLUMNS]], out_tsv)
    write_sidecar(out_tsv, record)
    if out_qc:
        write_table(qc[[*QC_COLUMNS, *EXTRA_COVERAGE_COLUMNS]], out_qc)
        write_sidecar(
            out_qc,
            {
                **record,
                "coherence": (
                    "genes oriented by direction (down genes negated), standardized across samples; "
                    "mean_inter_gene_r = mean off-diagonal Pearson r; cronbach_alpha = k r / (1 + "
                    "(k - 1) r); gene_rest_r = each gene's r with the mean of the other genes"
                ),
            },
        )
    log.info(
        "coverage %s: %d signatures, %d not scored", adata.uns.get("cohort", ""), len(qc), int((~qc["scored"]).sum())
    )
