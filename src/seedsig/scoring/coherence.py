"""Coherence of each signature in a cohort: how well its genes move together (signature_qc.tsv's columns after the
coverage ones)."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from seedsig.core.settings import SCORING_DEFAULTS
from seedsig.scoring.methods import COVERAGE_COLUMNS, coverage_table, standardize, usable_rows
from seedsig.scoring.signatures import Signature

QC_COLUMNS = (*COVERAGE_COLUMNS, "mean_inter_gene_r", "cronbach_alpha", "gene_rest_r", "leading_gene")


def coherence_table(
    matrix: pd.DataFrame,
    signatures: Sequence[Signature],
    *,
    row_symbols: Sequence[str] | None = None,
    min_genes: int = SCORING_DEFAULTS["min_genes"],
    min_fraction: float = SCORING_DEFAULTS["min_fraction"],
) -> pd.DataFrame:
    """Coverage plus coherence of each signature in the cohort (genes oriented by direction):
    mean inter-gene Pearson correlation, standardized Cronbach's alpha k r / (1 + (k - 1) r), and each gene's
    correlation with the mean z-score of the other genes ('gene_rest_r'; the highest is the 'leading_gene',
    the gene that carries the score in this cohort)."""
    upos, rows, _ = usable_rows(matrix, row_symbols, drop_constant=True)
    values = matrix.to_numpy(dtype=np.float64)  # only the signatures' rows are standardized (no copy of the matrix)
    cov = coverage_table(matrix, signatures, row_symbols=row_symbols, min_genes=min_genes, min_fraction=min_fraction)
    extra = []
    for sig in signatures:
        genes = [g for g in sig.genes if g in rows]
        rec = {"mean_inter_gene_r": np.nan, "cronbach_alpha": np.nan, "gene_rest_r": "", "leading_gene": ""}
        if len(genes) >= 2:
            sign = np.array([d for g, d in zip(sig.genes, sig.directions) if g in rows], dtype=float)
            zs = standardize(values[upos[[rows[g] for g in genes]]]) * sign[:, None]
            k = len(genes)
            r = np.corrcoef(zs)
            rbar = (r.sum() - k) / (k * (k - 1))
            rest = (zs.sum(axis=0, keepdims=True) - zs) / (k - 1)
            zc, rc = zs - zs.mean(axis=1, keepdims=True), rest - rest.mean(axis=1, keepdims=True)
            item = (zc * rc).sum(axis=1) / np.sqrt((zc**2).sum(axis=1) * (rc**2).sum(axis=1))
            rec = {
                "mean_inter_gene_r": round(float(rbar), 6),
                "cronbach_alpha": round(float(k * rbar / (1 + (k - 1) * rbar)), 6),
                "gene_rest_r": ",".join(f"{g}:{v:.3f}" for g, v in zip(genes, item)),
                "leading_gene": genes[int(np.nanargmax(item))] if np.isfinite(item).any() else "",
            }
        extra.append(rec)
    return pd.concat([cov, pd.DataFrame(extra)], axis=1)[list(QC_COLUMNS)]
