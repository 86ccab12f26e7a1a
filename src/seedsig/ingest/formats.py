"""Expression inputs of every format the cohort sheet accepts, read into one shape.

Each reader returns an :class:`ExpressionInput`: the matrix (input ids x samples, float64), the clinical
columns the file itself carries (GEO sample characteristics, GCT 1.3 column descriptors, h5ad ``obs``),
the platform annotation it carries (a GEO family SOFT's platform table), and facts for provenance.
:func:`read_expression_input` picks the reader from the sheet's ``format`` column (or the file name)."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from seedsig.core.errors import SeedsigError
from seedsig.core.tables import (
    COMPRESSION_ERRORS,
    compression_of,
    corrupt_file_message,
    open_text,
    read_bytes,
    read_matrix,
    require_file,
)
from seedsig.ingest.expression import ExpressionInput

FORMATS = ("auto", "table", "series_matrix", "soft", "gct", "parquet", "h5ad")
ORIENTATIONS = ("genes_x_samples", "samples_x_genes")


def detect_format(path: str, declared: str = "auto") -> str:
    """The format of an expression file: the sheet's ``format`` if given, else from the file name."""
    if declared and declared != "auto":
        if declared not in FORMATS:
            raise SeedsigError(f"expression file '{path}': format '{declared}' is not one of {', '.join(FORMATS)}.")
        return declared
    name = Path(path).name.lower().removesuffix(".gz")
    if name.endswith("_series_matrix.txt"):
        return "series_matrix"
    if name.endswith(".soft"):
        return "soft"
    if name.endswith(".gct"):
        return "gct"
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith(".h5ad"):
        return "h5ad"
    return "table"


# ---------------------------------------------------------------------------------------------------- shared
WHAT = "expression file"
VALUE_NA = ["NA", "NaN", "nan", "na", "N/A", "NULL", "null", ""]  # missing expression values (GCT writes NaN or na)
META_NA = {"NA", "NaN", "nan", "na", "N/A", "NULL", "null", ""}
# Annotation columns of count tables that are written next to the id column: nf-core/rnaseq merged tables
# (gene_id, gene_name, samples...) and featureCounts (Geneid Chr Start End Strand Length samples...).
NFCORE_COLUMNS = ("gene_id", "gene_name")
FEATURECOUNTS_COLUMNS = ("Geneid", "Chr", "Start", "End", "Strand", "Length")
ALTERNATIVE_ID_COLUMNS = ("gene_name",)


def _check_orientation(orientation: str, p: Path) -> str:
    orientation = orientation or "genes_x_samples"
    if orientation not in ORIENTATIONS:
        raise SeedsigError(
            f"expression file '{p}': orientation '{orientation}' is not one of {', '.join(ORIENTATIONS)}. Fix the "
            "sheet's orientation column."
        )
    return orientation


def _line_spans(raw: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start and end (exclusive, without '\r') of every line, and its number of tab-separated fields (vectorized)."""
    a = np.frombuffer(raw, dtype=np.uint8)
    nl = np.flatnonzero(a == 10)
    starts = np.concatenate([[0], nl + 1])
    ends = np.concatenate([nl, [a.size]])
    if starts[-1] >= a.size:  # the file ends with a newline: no line after it
        starts, ends = starts[:-1], ends[:-1]
    cr = (ends > starts) & (a[np.maximum(ends - 1, 0)] == 13)
    ends = ends - cr
    tabs = np.flatnonzero(a == 9)
    fields = np.searchsorted(tabs, ends) - np.searchsorted(tabs, starts) + 1
    return starts, ends, fields


def _line(raw: bytes, starts: np.ndarray, ends: np.ndarray, i: int) -> str:
    return raw[starts[i] : ends[i]].decode("utf-8", errors="replace")


def _numeric_frame(df: pd.DataFrame, p: Path, where_row, kind: str) -> None:
    """Raise for the first non-numeric column of ``df``: name the line/row and column (``where_row(i)`` says where
    row i is in the file)."""
    bad_cols = [
        c for c, t in df.dtypes.items() if not (pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t))
    ]
    if not bad_cols:
        return
    c = bad_cols[0]
    conv = pd.to_numeric(df[c], errors="coerce")
    bad = np.flatnonzero((conv.isna() & df[c].notna()).to_numpy())
    i = int(bad[0]) if bad.size else 0
    raise SeedsigError(
        f"{WHAT} '{p}': {where_row(i)}, column '{c}': value '{df[c].iloc[i]}' is not a number"
        f"{f' (and {len(bad_cols) - 1} more column(s) have text)' if len(bad_cols) > 1 else ''}. {kind} values must "
        "be numbers (NA or empty for missing)."
    )


def _clinical_from_strings(values: dict[str, list[str]], samples: list[str]) -> pd.DataFrame:
    """Clinical columns from text (GCT descriptors): NA words missing, wholly numeric columns numbers."""
    df = pd.DataFrame(values, index=pd.Index(samples, name="sample"), dtype=object)
    df = df.mask(df.isin(META_NA))
    for c in df.columns:
        num = pd.to_numeric(df[c], errors="coerce")
        if df[c].notna().any() and num.notna().sum() == df[c].notna().sum():
            df[c] = num
    return df


# ------------------------------------------------------------------------------------------------------- GCT
class _GctLayout(NamedTuple):
    """What the first three lines of a GCT file declare."""

    version: str  # '#1.2' or '#1.3'
    n_rows: int  # data rows
    n_cols: int  # sample columns
    rmc: int  # row-metadata columns after the id (1.2: Description)
    cmc: int  # column-descriptor lines before the data rows (1.3)
    header: list[str]

    @property
    def v13(self) -> bool:
        return self.version == "#1.3"


def read_gct(path: str | os.PathLike) -> ExpressionInput:
    """Read a GCT 1.2 or 1.3 file (GenePattern / MSigDB / CMap).

    1.2: ``#1.2``, ``rows cols``, header ``Name Description s1 ...``, then one row per gene.
    1.3: ``#1.3``, ``rows cols row_meta_cols col_meta_cols``, header ``id <row metadata names> <samples>``, then
    ``col_meta_cols`` column-descriptor lines (first field the descriptor's name; the row-metadata fields are filler)
    which become clinical columns, then the data rows. The counts of line 2 are checked against the body.
    ``matrix`` rows are the Name / id column; Description and the 1.3 row metadata go to ``row_metadata``.
    """
    p, raw = read_bytes(path, WHAT)
    starts, ends, fields = _line_spans(raw)
    layout = _gct_layout(p, raw, starts, ends)
    version, v13, rmc, cmc, header = layout.version, layout.v13, layout.rmc, layout.cmc, layout.header
    id_col, row_meta, samples = header[0], header[1 : 1 + rmc], header[1 + rmc :]
    body = _gct_body(p, raw, starts, ends, fields, layout)
    # column descriptors -> clinical columns (a handful of lines)
    clinical = _gct_descriptors(p, raw, starts, ends, body[:cmc], rmc, samples) if cmc else None
    data_lines = body[cmc:]
    df, matrix = _gct_matrix(p, raw, starts, data_lines, header, rmc)
    meta_names = row_meta if v13 else [header[1] or "Description"]
    row_metadata = (
        pd.DataFrame(df.iloc[:, 1 : 1 + rmc].to_numpy(), index=matrix.index, columns=meta_names) if rmc else None
    )
    info: dict[str, Any] = {
        "format": "gct",
        "file": str(p),
        "version": version[1:],
        "n_rows": int(matrix.shape[0]),
        "n_samples": int(matrix.shape[1]),
        "id_column": id_col,
        "annotation_columns": list(meta_names) if rmc else [],
        "column_descriptors": list(clinical.columns) if clinical is not None else [],
    }
    return ExpressionInput(matrix=matrix, clinical=clinical, info=info, row_metadata=row_metadata)


def _gct_layout(p: Path, raw: bytes, starts: np.ndarray, ends: np.ndarray) -> _GctLayout:
    """The version line, the dimensions line and the header of a GCT file, checked against each other."""
    if starts.size == 0:
        raise SeedsigError(f"{WHAT} '{p}' is empty: a GCT file starts with '#1.2' or '#1.3'.")
    version = _line(raw, starts, ends, 0).strip()
    if version not in ("#1.2", "#1.3"):
        raise SeedsigError(
            f"{WHAT} '{p}', line 1: '{version[:40]}' is not a GCT version line; a GCT file starts with '#1.2' or "
            "'#1.3'. For other tables set the sheet's format to 'table'."
        )
    v13 = version == "#1.3"
    if starts.size < 3:
        raise SeedsigError(
            f"{WHAT} '{p}': a GCT file needs a version line, a dimensions line and a header line; it has "
            f"{starts.size} line(s)."
        )
    dims_text = _line(raw, starts, ends, 1)
    want = 4 if v13 else 2
    try:
        dims = [int(x) for x in dims_text.split()]
    except ValueError:
        dims = []
    if len(dims) != want or min(dims) < 0:
        layout = "'rows cols row_meta_cols col_meta_cols'" if v13 else "'rows cols'"
        raise SeedsigError(
            f"{WHAT} '{p}', line 2: '{dims_text.strip()[:60]}' is not a GCT {version[1:]} dimensions line: expected "
            f"{want} whole numbers {layout}, tab-separated."
        )
    n_rows, n_cols = dims[0], dims[1]
    rmc, cmc = (dims[2], dims[3]) if v13 else (1, 0)  # 1.2: Description is the one row-metadata column
    header = [h.strip() for h in _line(raw, starts, ends, 2).split("\t")]
    while len(header) > 1 + rmc + n_cols and header[-1] == "":  # trailing tabs
        header.pop()
    found_cols = len(header) - 1 - rmc
    if found_cols != n_cols:
        what_meta = f"the id and {rmc} row-metadata column(s)" if v13 else "Name and Description"
        hint = (
            f" (line 2 also declares {rmc} row-metadata column(s): if that count is wrong, the header's {len(header)} "
            "fields are 1 id + "
            f"{len(header) - 1 - n_cols} row-metadata + {n_cols} samples)"
            if v13 and len(header) - 1 - n_cols >= 0
            else ""
        )
        raise SeedsigError(
            f"{WHAT} '{p}': the header (line 3) has {found_cols} sample column(s) after {what_meta}, but line 2 says "
            f"{n_cols}{hint}. Fix line 2 or the header."
        )
    samples = header[1 + rmc :]
    dup = pd.Index(samples)[pd.Index(samples).duplicated()].unique().tolist()
    if dup:
        raise SeedsigError(
            f"{WHAT} '{p}', line 3: duplicated sample id(s) {', '.join(dup[:10])}. Give each sample column a unique "
            "name."
        )
    return _GctLayout(version, n_rows, n_cols, rmc, cmc, header)


def _gct_body(
    p: Path, raw: bytes, starts: np.ndarray, ends: np.ndarray, fields: np.ndarray, layout: _GctLayout
) -> np.ndarray:
    """The non-empty lines after the header (0-based), checked against the counts of line 2 and the header's
    number of fields."""
    v13, n_rows, rmc, cmc, header = layout.v13, layout.n_rows, layout.rmc, layout.cmc, layout.header
    body = np.flatnonzero(ends[3:] > starts[3:]) + 3  # non-empty lines after the header (0-based)
    n_body = int(body.size)
    if n_body != n_rows + cmc:
        # Which count is wrong? Column descriptors have filler row-metadata fields (or text values when there is none).
        n_desc = _gct_descriptor_lines(raw, starts, ends, body, rmc, cmc) if v13 else cmc
        if v13 and n_desc != cmc and n_body - n_desc == n_rows:
            raise SeedsigError(
                f"{WHAT} '{p}': line 2 declares {cmc} column-descriptor line(s) (col_meta_cols) but the file has "
                f"{n_desc} "
                f"(lines 4-{3 + n_desc}, whose row-metadata fields are filler); the {n_rows} data rows match. Fix the "
                "fourth number of line 2."
            )
        first, last = (int(body[cmc]) + 1, int(body[-1]) + 1) if n_body > cmc else (0, 0)
        raise SeedsigError(
            f"{WHAT} '{p}': line 2 declares {n_rows} data "
            f"row(s){f' after {cmc} column-descriptor line(s)' if v13 else ''}, but the file has "
            f"{max(n_body - cmc, 0)} data row(s){f' (lines {first}-{last})' if first else ''}. A cut or edited file: "
            "fix line 2 or write the file again."
        )
    bad_fields = np.flatnonzero(fields[body] != len(header))
    if bad_fields.size:
        i = int(body[bad_fields[0]])
        raise SeedsigError(
            f"{WHAT} '{p}', line {i + 1}: {int(fields[i])} tab-separated field(s), but the header (line 3) has "
            f"{len(header)}. Every line needs one field per header column."
        )
    return body


def _gct_descriptor_lines(
    raw: bytes, starts: np.ndarray, ends: np.ndarray, body: np.ndarray, rmc: int, cmc: int
) -> int:
    """How many GCT 1.3 body lines look like column descriptors: filler row-metadata fields (those of the first
    body line, or NA words), or, without row metadata, text values."""
    filler = META_NA | {"-666"}
    if cmc and rmc:
        filler = set(_line(raw, starts, ends, int(body[0])).split("\t")[1 : 1 + rmc]) | filler
    n_desc = 0
    for i in body[: cmc + 100]:
        f = _line(raw, starts, ends, int(i)).split("\t")
        meta = f[1 : 1 + rmc]
        vals = pd.to_numeric(pd.Series(f[1 + rmc :]).replace(list(META_NA), np.nan), errors="coerce")
        is_desc = (
            all(m in filler for m in meta) if rmc else bool(vals.isna().any() and not all(x in META_NA for x in f[1:]))
        )
        if not is_desc:
            break
        n_desc += 1
    return n_desc


def _gct_descriptors(
    p: Path, raw: bytes, starts: np.ndarray, ends: np.ndarray, lines: np.ndarray, rmc: int, samples: list[str]
) -> pd.DataFrame:
    """The column-descriptor lines of a GCT 1.3 file as clinical columns (one per descriptor name)."""
    desc: dict[str, list[str]] = {}
    for i in lines:
        f = [x.strip() for x in _line(raw, starts, ends, int(i)).split("\t")]
        if f[0] in desc or not f[0]:
            raise SeedsigError(
                f"{WHAT} '{p}', line {int(i) + 1}: column descriptor name '{f[0]}' is "
                f"{'empty' if not f[0] else 'duplicated'}. Each descriptor line starts with a unique name."
            )
        desc[f[0]] = f[1 + rmc :]
    return _clinical_from_strings(desc, samples)


def _gct_matrix(
    p: Path, raw: bytes, starts: np.ndarray, data_lines: np.ndarray, header: list[str], rmc: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The data rows of a GCT file parsed (id, row metadata and values as read) and the checked matrix: numeric
    values, non-empty unique ids."""
    id_col, samples = header[0], header[1 + rmc :]
    names = [f"c{j}" for j in range(len(header))]
    try:
        df = pd.read_csv(
            io.BytesIO(raw[int(starts[data_lines[0]]) :]) if data_lines.size else io.BytesIO(b""),
            sep="\t",
            header=None,
            names=names,
            dtype={n: str for n in names[: 1 + rmc]},
            na_values=VALUE_NA,
            keep_default_na=False,
            low_memory=False,
            quoting=3,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise SeedsigError(f"{WHAT} '{p}' cannot be parsed as GCT: {exc}.") from None
    values = df.iloc[:, 1 + rmc :]
    values.columns = samples
    _numeric_frame(values, p, lambda i: f"line {int(data_lines[i]) + 1}", "GCT")
    ids = df.iloc[:, 0].fillna("").astype(str).str.strip()
    empty = np.flatnonzero(ids.to_numpy() == "")
    if empty.size:
        raise SeedsigError(
            f"{WHAT} '{p}', line {int(data_lines[empty[0]]) + 1}: empty {id_col or 'id'} (first column). Give every "
            "row an id."
        )
    dupmask = ids.duplicated(keep=False).to_numpy()
    if dupmask.any():
        d = ids[dupmask]
        lines = {
            k: [int(data_lines[j]) + 1 for j in np.flatnonzero(dupmask)[(d == k).to_numpy()]] for k in d.unique()[:5]
        }
        raise SeedsigError(
            f"{WHAT} '{p}': duplicated id(s) in the {id_col or 'first'} column: "
            + "; ".join(f"'{k}' on lines {', '.join(map(str, v))}" for k, v in lines.items())
            + ". Each row needs a unique id; remove or rename the duplicates."
        )
    matrix = pd.DataFrame(
        values.to_numpy(dtype=np.float64), index=pd.Index(ids.to_numpy(), name=id_col or "id"), columns=samples
    )
    return df, matrix


# ----------------------------------------------------------------------------------------------- TSV / CSV
def _table_layout(p: Path) -> tuple[int, int, str, list[str]]:
    """(lines before the header, annotation columns after the id, layout name, header) of a genes x samples table."""
    sep = "," if p.name.lower().removesuffix(".gz").endswith(".csv") else "\t"
    skip, header = 0, []
    try:
        with open_text(p, WHAT) as fh:
            for line in fh:
                if line.startswith("#") and skip < 50:
                    skip += 1
                    continue
                header = [c.strip().strip('"') for c in line.rstrip("\r\n").split(sep)]
                break
    except COMPRESSION_ERRORS as exc:
        raise SeedsigError(corrupt_file_message(p, WHAT, exc)) from None
    except (UnicodeDecodeError, OSError) as exc:
        raise SeedsigError(f"{WHAT} '{p}' cannot be read as a text table: {exc}") from None
    if tuple(header[: len(FEATURECOUNTS_COLUMNS)]) == FEATURECOUNTS_COLUMNS:
        return skip, len(FEATURECOUNTS_COLUMNS) - 1, "featureCounts", header
    if skip == 0 and tuple(header[:2]) == NFCORE_COLUMNS:
        return 0, 1, "nf-core/rnaseq merged table", header
    return 0, 0, "plain", header


def read_table(path: str | os.PathLike, orientation: str = "genes_x_samples") -> ExpressionInput:
    """Read a TSV/CSV (optionally .gz) expression table.

    ``genes_x_samples``: first column the row id, one numeric column per sample
    (:func:`seedsig.core.tables.read_matrix`).
    nf-core/rnaseq merged tables (``gene_id gene_name`` then samples, e.g. ``salmon.merged.gene_counts.tsv``) and
    featureCounts tables (``Geneid Chr Start End Strand Length`` then samples, after its ``#`` comment line) are
    recognised by their header: the annotation columns are left out of the matrix (``row_metadata``).
    ``samples_x_genes``: first column the sample id, one column per gene; transposed (messages speak of the file's
    own rows and columns).
    """
    p = require_file(path, WHAT)
    orientation = _check_orientation(orientation, p)
    row_metadata = None
    annotation_columns: list[str] = []
    if orientation == "samples_x_genes":
        df = read_matrix(p, WHAT, rows="sample", columns="gene")
        matrix = df.T
        matrix.index.name = "gene_id"
        matrix.columns.name = None
        layout = "plain"
    else:
        skip, n_ann, layout, header = _table_layout(p)
        matrix = read_matrix(p, WHAT, skip_lines=skip, skip_columns=n_ann)
        if n_ann:
            sep = "," if p.name.lower().removesuffix(".gz").endswith(".csv") else "\t"
            ann = pd.read_csv(
                p,
                sep=sep,
                skiprows=skip,
                usecols=list(range(1 + n_ann)),
                dtype=str,
                keep_default_na=False,
                low_memory=False,
                compression=compression_of(p, WHAT),
            )
            annotation_columns = [str(c) for c in ann.columns[1:]]
            row_metadata = pd.DataFrame(ann.iloc[:, 1:].to_numpy(), index=matrix.index, columns=annotation_columns)
            matrix.index.name = header[0]
    info: dict[str, Any] = {
        "format": "table",
        "file": str(p),
        "orientation": orientation,
        "layout": layout,
        "n_rows": int(matrix.shape[0]),
        "n_samples": int(matrix.shape[1]),
        "annotation_columns": annotation_columns,
        "alternative_id_columns": [c for c in annotation_columns if c in ALTERNATIVE_ID_COLUMNS],
    }
    return ExpressionInput(matrix=matrix.astype(np.float64, copy=False), info=info, row_metadata=row_metadata)


# ------------------------------------------------------------------------------------------------- Parquet
def read_parquet(path: str | os.PathLike, orientation: str = "genes_x_samples") -> ExpressionInput:
    """Read a Parquet table (pyarrow). The id is the index when it is named or holds text (as pandas writes it),
    else the first non-numeric column; every other column must be numeric (nf-core's ``gene_name`` and
    featureCounts' annotation columns are recognised and kept in ``row_metadata``). Orientation as
    :func:`read_table`."""
    p = require_file(path, WHAT)
    orientation = _check_orientation(orientation, p)
    rows, cols = ("gene", "sample") if orientation == "genes_x_samples" else ("sample", "gene")
    df = _parquet_frame(p, cols)
    numeric = {c: pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t) for c, t in df.dtypes.items()}
    id_name, ids, body = _parquet_ids(p, df, numeric, rows)
    row_metadata, annotation_columns = None, []
    if orientation == "genes_x_samples":
        known = [
            c
            for c in body.columns
            if c in ALTERNATIVE_ID_COLUMNS or (id_name == FEATURECOUNTS_COLUMNS[0] and c in FEATURECOUNTS_COLUMNS[1:])
        ]
        if known:
            annotation_columns = known
            row_metadata = body[known].astype(object)
            body = body.drop(columns=known)
    ids = _checked_parquet_body(p, body, ids, numeric, id_name, rows, cols)
    values = body.to_numpy(dtype=np.float64, na_value=np.nan)
    matrix = pd.DataFrame(values, index=pd.Index(ids.to_numpy(), name=id_name), columns=list(body.columns))
    if orientation == "samples_x_genes":
        matrix = matrix.T
        matrix.index.name, matrix.columns.name = "gene_id", None
    if row_metadata is not None:
        row_metadata.index = matrix.index
    info: dict[str, Any] = {
        "format": "parquet",
        "file": str(p),
        "orientation": orientation,
        "id_column": id_name,
        "n_rows": int(matrix.shape[0]),
        "n_samples": int(matrix.shape[1]),
        "annotation_columns": annotation_columns,
        "alternative_id_columns": [c for c in annotation_columns if c in ALTERNATIVE_ID_COLUMNS],
    }
    return ExpressionInput(matrix=matrix, info=info, row_metadata=row_metadata)


def _parquet_frame(p: Path, cols: str) -> pd.DataFrame:
    """A Parquet file as pandas reads it (a damaged file said so), its column names as text and unique."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(p)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise SeedsigError(corrupt_file_message(p, WHAT, exc, "cannot be read as a Parquet file")) from None
    try:
        df = table.to_pandas()
    except (pa.ArrowException, ValueError, TypeError) as exc:
        raise SeedsigError(f"{WHAT} '{p}' cannot be converted to a table of numbers: {exc}") from None
    names = [str(c) for c in df.columns]
    dup = pd.Index(names)[pd.Index(names).duplicated()].unique().tolist()
    if dup:
        raise SeedsigError(
            f"{WHAT} '{p}': duplicated column name(s) {', '.join(dup[:10])}. Give each {cols} column a unique name."
        )
    df.columns = names
    return df


def _parquet_ids(p: Path, df: pd.DataFrame, numeric: dict[str, bool], rows: str) -> tuple[str, pd.Series, pd.DataFrame]:
    """(id column name, ids, the other columns) of a Parquet table: the index when it is named or holds text, else
    the first non-numeric column."""
    idx = df.index
    if not isinstance(idx, pd.RangeIndex) and (idx.name is not None or not pd.api.types.is_numeric_dtype(idx.dtype)):
        id_name = str(idx.name) if idx.name is not None else "index"
        ids = pd.Series(idx, dtype=object)
        body = df.reset_index(drop=True)
    else:
        text = [c for c in df.columns if not numeric[c]]
        if not text:
            raise SeedsigError(
                f"{WHAT} '{p}': no id column: the index is unnamed and every column is numeric. Store the {rows} ids "
                "as the "
                f"index (DataFrame.to_parquet keeps it) or as a text column first."
            )
        id_name = text[0]
        ids = df[id_name].astype(object)
        body = df.drop(columns=[id_name])
    return id_name, ids, body


def _checked_parquet_body(
    p: Path, body: pd.DataFrame, ids: pd.Series, numeric: dict[str, bool], id_name: str, rows: str, cols: str
) -> pd.Series:
    """The ids as text, once the value columns are numeric and not empty and every id is present and unique."""
    bad = [c for c in body.columns if not numeric[c]]
    if bad:
        raise SeedsigError(
            f"{WHAT} '{p}': column(s) {', '.join(repr(c) for c in bad[:10])} are not numeric "
            f"({', '.join(str(body[c].dtype) for c in bad[:10])}). "
            f"Every column besides the id ('{id_name}') must hold numbers, one column per {cols}."
        )
    if body.shape[1] == 0 or body.shape[0] == 0:
        raise SeedsigError(
            f"{WHAT} '{p}' has {body.shape[0]} row(s) and {body.shape[1]} value column(s): expected a {rows} id and "
            f"one numeric column per {cols}."
        )
    na = ids.isna().to_numpy() | (ids.astype(str).str.strip() == "").to_numpy()
    if na.any():
        raise SeedsigError(
            f"{WHAT} '{p}': {int(na.sum())} row(s) have an empty {rows} id ('{id_name}'), e.g. row "
            f"{int(np.flatnonzero(na)[0]) + 1}. Give every row an id or remove it."
        )
    ids = ids.astype(str)
    d = ids[ids.duplicated()].unique().tolist()
    if d:
        raise SeedsigError(
            f"{WHAT} '{p}': duplicated {rows} id(s) in '{id_name}': "
            f"{', '.join(d[:10])}{' ...' if len(d) > 10 else ''}. Each row needs a unique id; remove or rename the "
            "duplicates."
        )
    return ids


# ---------------------------------------------------------------------------------------------------- h5ad
def read_h5ad(path: str | os.PathLike, what: str = WHAT):
    """An AnnData from an .h5ad file, or a clear error."""
    import anndata as ad

    p = require_file(path, what)
    try:
        return ad.read_h5ad(p)
    except (OSError, RuntimeError) as exc:  # h5py: truncated file, bad signature, unreadable chunk
        problem = "cannot be read as an AnnData .h5ad file (HDF5)"
        raise SeedsigError(corrupt_file_message(p, what, exc, problem)) from None
    except (KeyError, ValueError, TypeError) as exc:
        layout = "an HDF5 file without AnnData's layout?"
        raise SeedsigError(f"{what} '{p}' cannot be read as an AnnData .h5ad file ({layout}): {exc}") from None


def h5ad_values(adata, layer: str | None, where: str):
    """X, or ``layers[layer]`` (an unknown layer: an error listing the layers); and its label."""
    key, label = matrix_key([str(k) for k in adata.layers.keys()], adata.X is not None, layer, where)
    return (adata.X if key is None else adata.layers[key]), label


def matrix_key(layers: list[str], has_x: bool, layer: str | None, where: str) -> tuple[str | None, str]:
    """Which matrix of an AnnData holds the values: ``layer`` (None = X; an unknown layer, or an empty X, is an error
    listing the layers), and its label."""
    if layer:
        if layer not in layers:
            raise SeedsigError(
                f"{where}: no layer '{layer}' (the sheet's layer column). Layers are: "
                f"{', '.join(layers) or 'none (leave layer empty to use X)'}."
            )
        return layer, f"layers['{layer}']"
    if not has_x:
        raise SeedsigError(
            f"{where}: X is empty. Name the layer holding the values in the sheet's layer column (layers: "
            f"{', '.join(layers) or 'none'})."
        )
    return None, "X"


def _unique_names(names: pd.Index, where: str, what: str) -> None:
    d = names[names.duplicated()].unique().tolist()
    if d:
        raise SeedsigError(
            f"{where}: duplicated {what} name(s) {', '.join(map(str, d[:10]))}. Make them unique (AnnData's "
            f"{'obs' if what == 'obs' else 'var'}_names_make_unique) or remove the duplicates."
        )


def obs_clinical(obs: pd.DataFrame) -> pd.DataFrame:
    """obs columns as clinical columns: categoricals become plain objects (NA kept)."""
    out = obs.copy()
    for c in out.columns:
        if isinstance(out[c].dtype, pd.CategoricalDtype):
            out[c] = out[c].astype(object).where(out[c].notna(), np.nan)
    out.columns = [str(c) for c in out.columns]
    out.index = pd.Index(out.index.astype(str), name="sample")
    return out


def read_h5ad_bulk(path: str | os.PathLike, layer: str | None = None) -> ExpressionInput:
    """A bulk AnnData: samples in ``obs``, genes in ``var`` (``var_names`` the gene ids). Values from X (dense or
    sparse) or ``layers[layer]``; the obs columns become clinical columns. ``matrix`` = genes x samples."""
    import scipy.sparse as sp

    p = Path(path)
    adata = read_h5ad(p)
    where = f"{WHAT} '{p}'"
    x, label = h5ad_values(adata, layer, where)
    _unique_names(adata.obs_names, where, "obs")
    _unique_names(adata.var_names, where, "var")
    sparse = sp.issparse(x)
    dense = x.toarray() if sparse else np.asarray(x)
    if not (np.issubdtype(dense.dtype, np.number) and not np.issubdtype(dense.dtype, np.bool_)):
        raise SeedsigError(f"{where}: {label} holds {dense.dtype} values, not numbers.")
    matrix = pd.DataFrame(
        dense.T.astype(np.float64),
        index=pd.Index(adata.var_names.astype(str), name="gene_id"),
        columns=list(adata.obs_names.astype(str)),
    )
    clinical = obs_clinical(adata.obs) if adata.obs.shape[1] else None
    info: dict[str, Any] = {
        "format": "h5ad",
        "file": str(p),
        "mode": "bulk",
        "values": label,
        "sparse": bool(sparse),
        "n_rows": int(matrix.shape[0]),
        "n_samples": int(matrix.shape[1]),
        "layers": [str(k) for k in adata.layers.keys()],
    }
    if adata.n_obs > 5000:
        info["note"] = (
            f"{adata.n_obs} observations read as samples: if they are cells, name the sample column in the sheet's "
            "sample_column"
        )
    return ExpressionInput(matrix=matrix, clinical=clinical, info=info)
