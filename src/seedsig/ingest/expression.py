"""The one result type of every expression reader: ExpressionInput."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass
class ExpressionInput:
    """What a reader found in one expression file.

    ``matrix``: rows = input ids (str, unique), columns = sample ids (str, unique), float64 values (NaN missing).
    ``clinical``: samples x columns (index = sample ids, a subset of the matrix columns) or None.
    ``annotation``: a probe annotation in the form :func:`seedsig.ingest.ids.read_platform_annotation` returns, or None.
    ``platform``: the platform id (e.g. ``GPL96``) when the file names one.
    ``info``: format, file, counts and notes for the provenance record (JSON-able).
    ``cells``: for single-cell inputs, the cells: the AnnData given, or the file's :class:`~seedsig.ingest.cells.Cells`
    (read a chunk at a time; per-cell scores); None for bulk.
    ``row_metadata``: per-row annotation columns the file carries besides the values (rows = matrix rows): nf-core's
    ``gene_name``, featureCounts' ``Chr Start End Strand Length``, GCT's ``Description`` / 1.3 row metadata; or None.
    Their names are in ``info['annotation_columns']`` (``info['alternative_id_columns']``: those usable as ids).
    """

    matrix: pd.DataFrame
    clinical: pd.DataFrame | None = None
    annotation: pd.DataFrame | None = None
    platform: str | None = None
    info: dict[str, Any] = field(default_factory=dict)
    cells: Any = None
    row_metadata: pd.DataFrame | None = None
