"""Reading any expression input by its format (table, GCT, Parquet, h5ad, GEO, single-cell)."""

from __future__ import annotations

import os

from seedsig.core.errors import SeedsigError
from seedsig.ingest.expression import ExpressionInput
from seedsig.ingest.formats import (
    WHAT,
    detect_format,
    read_gct,
    read_h5ad_bulk,
    read_parquet,
    read_table,
)
from seedsig.ingest.series_matrix import read_series_matrix
from seedsig.ingest.single_cell import CHUNK_CELLS, read_single_cell
from seedsig.ingest.soft import read_soft


# ---------------------------------------------------------------------------------------------- dispatcher
def read_expression_input(
    path: str | os.PathLike,
    *,
    format: str = "auto",  # noqa: A002 - the sheet's column name
    orientation: str = "genes_x_samples",
    platform: str | None = None,
    layer: str | None = None,
    sample_column: str | None = None,
    chunk_cells: int | None = None,
) -> ExpressionInput:
    """Read an expression file of any accepted format (the sheet's ``format``, else from the file name);
    a single-cell file ``chunk_cells`` cells at a time (default: the config's ``single_cell.chunk_cells``)."""
    fmt = detect_format(str(path), format or "auto")
    if sample_column and fmt != "h5ad":
        raise SeedsigError(
            f"{WHAT} '{path}': sample_column '{sample_column}' is for single-cell .h5ad files, but the file is read "
            f"as {fmt}. Leave sample_column empty."
        )
    if fmt == "series_matrix":
        return read_series_matrix(path, platform)
    if fmt == "soft":
        return read_soft(path, platform)
    if fmt == "gct":
        return read_gct(path)
    if fmt == "parquet":
        return read_parquet(path, orientation)
    if fmt == "h5ad":
        if sample_column:
            return read_single_cell(path, sample_column, layer, chunk_cells=chunk_cells or CHUNK_CELLS)
        return read_h5ad_bulk(path, layer)
    return read_table(path, orientation)
