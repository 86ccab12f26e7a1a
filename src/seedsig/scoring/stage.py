"""Score stage: scores, coverage and per-cell scores of one cohort, as the rules write them."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from seedsig.core.cohort import expression_frame, layer_column_sums, normalization_record
from seedsig.core.errors import SeedsigError
from seedsig.core.progress import Timer
from seedsig.core.provenance import provenance, write_sidecar
from seedsig.core.settings import SCORING_DEFAULTS
from seedsig.core.tables import write_table, write_table_blocks
from seedsig.core.threads import resolve_threads
from seedsig.ingest.cells import open_cells
from seedsig.ingest.ids import representative_rows, resolve_ids
from seedsig.ingest.single_cell import CHUNK_CELLS, counts_key, gene_totals
from seedsig.scoring.coherence import QC_COLUMNS, coherence_table
from seedsig.scoring.contributions import CONTRIBUTION_COLUMNS, contribution_blocks, top_variance_gene
from seedsig.scoring.methods import COVERAGE_COLUMNS, score
from seedsig.scoring.per_cell import NORMALIZATION, cell_matrix, cell_score_blocks, computation
from seedsig.scoring.reference import anchored_provenance, check_method, load_reference, score_with_reference
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
    chunk_cells: int = CHUNK_CELLS,
    threads: int = 1,
) -> None:
    """Per-cell scores of a single-cell cohort, read and written a chunk of ``chunk_cells`` cells at a time (scored in
    ``threads`` threads): genes resolved to current HGNC symbols as in ingest (one column per symbol: the one with
    the most counts), scanpy-style per-cell normalization, the scoring engine."""
    timer = Timer()
    cells = open_cells(h5ad, "single-cell file")
    if sample_column not in cells.obs.columns:
        raise SeedsigError(
            f"single-cell file '{h5ad}' of cohort '{cohort}': no obs column '{sample_column}' "
            f"(the sheet's sample_column). Columns are: {', '.join(map(str, cells.obs.columns))}."
        )
    where = "single-cell AnnData"
    genes, rep = _symbol_columns(cells, gene_id, counts_key(cells, layer, where)[0], chunk_cells, threads)
    cm = cell_matrix(cells, layer, genes=genes, columns=rep, chunk_size=chunk_cells, threads=threads, where=where)
    sigs = load_signatures(signature_files)
    names = [s.name for s in sigs]
    ids = np.asarray(cells.obs_names)
    samples = cells.obs[sample_column].astype(str).to_numpy()
    with timer("score"):
        cov, blocks = cell_score_blocks(
            cm, sigs, method, min_genes=min_genes, min_fraction=min_fraction, params=dict(params or {})
        )

        n = write_table_blocks(["cell", "sample", *names], _cell_frames(blocks, ids, samples, names), out_tsv)
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
            n_cells=int(cells.n_obs),
            n_genes=int(rep.size),
            normalization=NORMALIZATION,
        ),
    )
    log.info(
        "cell_scores %s with %s: %d cells x %d signatures (%s; %s cells per chunk, %d thread(s)) in %s",
        cohort,
        method,
        n,
        len(names),
        computation(method, chunk_cells).split(" ")[0],
        chunk_cells,
        threads,
        timer.fmt("score"),
    )


def _symbol_columns(cells, gene_id: str, key: str | None, chunk: int, threads: int) -> tuple[np.ndarray, np.ndarray]:
    """The genes scored per cell: their current HGNC symbols and file columns (ids that do not resolve left out; one
    column per symbol: the one with the most counts, which takes a pass over the cells only when ids share one)."""
    res = resolve_ids(list(cells.var_names), gene_id)
    kept = ~res["status"].isin(["unmapped", "ambiguous"]).to_numpy()
    symbols = res["symbol"].astype(str).to_numpy()
    rep = np.flatnonzero(kept)
    if pd.Index(symbols[rep]).has_duplicates:
        totals = gene_totals(cells, key, chunk, threads)
        rep = rep[representative_rows(symbols[rep], np.asarray(cells.var_names)[rep], totals[rep])]
    return symbols[rep], rep


def _cell_frames(blocks, ids: np.ndarray, samples: np.ndarray, names: list[str]):
    """The per-cell table a block at a time: cell, sample, one column per signature."""
    a = 0
    for block in blocks:
        b = a + block.shape[0]
        df = pd.DataFrame(block, columns=names)
        df.insert(0, "sample", samples[a:b])
        df.insert(0, "cell", ids[a:b])
        yield df
        a = b


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
    reference: str | Path | None = None,
) -> None:
    """scores/{method}.tsv of one cohort (+ its sidecar), scored on ``threads`` threads (the rule's); ``reference``:
    the reference file the scores are anchored to (scoring.reference)."""
    timer = Timer()
    expr, adata = expression_frame(h5ad, layers=False)  # the normalized values only (the raw counts are not read)
    sigs = load_signatures(signature_files)
    ref = None if reference is None else load_reference(reference)
    with timer("score"):
        kw = {"min_genes": min_genes, "min_fraction": min_fraction, "params": params, "threads": threads}
        if ref is None:
            res = score(expr, sigs, method, **kw)
        else:
            check_method(ref, method, reference)
            res = score_with_reference(expr, sigs, ref, **kw)
    table = res.scores.copy()
    table.index.name = "sample"
    write_table(table.reset_index(), out_tsv)
    write_sidecar(
        out_tsv,
        provenance(
            res.provenance() if ref is None else anchored_provenance(res.provenance(), ref, reference),
            inputs=[str(h5ad), *map(str, signature_files), *([str(reference)] if reference else [])],
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
# signature_qc.tsv's last column: the gene whose contribution (report.primary_method) varies most across samples
TOP_VARIANCE_COLUMN = "top_variance_gene"


def contributions_cohort(
    h5ad: str | Path,
    signature_files: Sequence[str],
    method: str,
    out_tsv: str | Path,
    *,
    select: Sequence[str] | None = None,
    min_genes: int = SCORING_DEFAULTS["min_genes"],
    min_fraction: float = SCORING_DEFAULTS["min_fraction"],
    params: dict | None = None,
    threads: int | None = 1,
) -> None:
    """contributions/{method}.tsv of one cohort (+ its sidecar): per sample, signature (``select``; None: every
    one) and gene, the gene's contribution to the score (:mod:`seedsig.scoring.contributions`), a signature at a
    time."""
    timer = Timer()
    expr, adata = expression_frame(h5ad, layers=False)
    sigs = load_signatures(signature_files)
    with timer("contributions"):
        blocks, _, p, kind = contribution_blocks(
            expr,
            sigs,
            method,
            select=select,
            min_genes=min_genes,
            min_fraction=min_fraction,
            params=params,
            threads=threads,
        )
        n = write_table_blocks(CONTRIBUTION_COLUMNS, blocks, out_tsv)
    write_sidecar(
        out_tsv,
        provenance(
            {"method": method, "parameters": p, "kind": kind, "signatures": "all" if select is None else list(select)},
            inputs=[str(h5ad), *map(str, signature_files)],
            cohort=adata.uns.get("cohort", ""),
            contribution=(
                "exact: a sample's contributions sum to its score"
                if kind == "exact"
                else "leave-one-gene-out: score(set) - score(set without the gene), the same method on the same "
                "matrix; a part left empty by the removal contributes its whole score"
            ),
            normalization=normalization_record(adata),
        ),
    )
    log.info(
        "contributions %s with %s (%s): %d rows in %s",
        adata.uns.get("cohort", ""),
        method,
        kind,
        n,
        timer.fmt("contributions"),
    )


def top_variance_genes(
    expr: pd.DataFrame, sigs: Sequence, method: str, params: dict | None, min_genes: int, min_fraction: float
) -> list[str]:
    """signature_qc.tsv's ``top_variance_gene`` of every signature ('' when not scored): ``GENE:share``
    (:func:`seedsig.scoring.contributions.top_variance_gene`) of the contributions under ``method``."""
    blocks, _, _, kind = contribution_blocks(
        expr, sigs, method, min_genes=min_genes, min_fraction=min_fraction, params=params
    )
    blocks = [b for b in blocks if len(b)]
    scores = None
    if kind != "exact":  # leave-one-gene-out terms do not add up to the score: the score itself
        scores = score(expr, sigs, method, min_genes=min_genes, min_fraction=min_fraction, params=params).scores
    found = {}
    for b in blocks:
        name = str(b["signature"].iloc[0])
        s = None if scores is None else scores[name].reindex(pd.unique(b["sample"].astype(str))).to_numpy()
        found[name] = top_variance_gene(b, s)
    return [found.get(s.name, "") for s in sigs]


def coverage_cohort(
    h5ad: str | Path,
    signature_files: Sequence[str],
    out_tsv: str | Path,
    out_qc: str | Path | None = None,
    *,
    min_genes: int = SCORING_DEFAULTS["min_genes"],
    min_fraction: float = SCORING_DEFAULTS["min_fraction"],
    method: str = "ssgsea",
    params: dict | None = None,
) -> None:
    """coverage.tsv (genes present per signature) and signature_qc.tsv (coverage + coherence; ``top_variance_gene``
    from the per-gene contributions under ``method``, the report's summary method, with ``params``)."""

    expr, adata = expression_frame(h5ad, layers=False)  # the counts are summed from the file by chunks
    sigs = load_signatures(signature_files)
    qc = coherence_table(expr, sigs, min_genes=min_genes, min_fraction=min_fraction)
    filtered = set(map(str, np.asarray(adata.uns.get("normalization", {}).get("filtered_genes", []))))
    silent = set()
    totals = layer_column_sums(h5ad, "counts")
    if totals is not None:
        silent = set(adata.var_names[totals == 0].astype(str))
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
        qc[TOP_VARIANCE_COLUMN] = top_variance_genes(expr, sigs, method, params, min_genes, min_fraction)
        write_table(qc[[*QC_COLUMNS, *EXTRA_COVERAGE_COLUMNS, TOP_VARIANCE_COLUMN]], out_qc)
        write_sidecar(
            out_qc,
            {
                **record,
                "top_variance_gene": {
                    "method": method,
                    "parameters": dict(params or {}),
                    "definition": "the gene whose contribution to the score (contributions/{method}.tsv's definition) "
                    "has the largest variance across samples (n - 1), and its share of the score's variance, "
                    "var(contribution_g) / var(score); every scored signature, '' when not scored",
                },
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
