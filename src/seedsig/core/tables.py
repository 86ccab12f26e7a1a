"""Reading user tables and writing result tables with their provenance sidecars.

Reading validates what a user can get wrong (missing file, duplicated ids, non-numeric cells) and
raises :class:`~seedsig.core.errors.SeedsigError` naming the file, the row or column and what to do.
Writing is atomic: a table appears complete or not at all, so a failed run leaves no partial output."""

from __future__ import annotations

import csv
import gzip
import io
import os
import tempfile
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Iterable, Iterator, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from seedsig.core.errors import SeedsigError
from seedsig.core.threads import chunk_bounds, map_chunks, resolve_threads

# what a cut or damaged gzip/bgzip stream raises (BadGzipFile is an OSError; EOFError: cut before the end marker)
COMPRESSION_ERRORS = (EOFError, zlib.error, gzip.BadGzipFile)


def corrupt_file_message(p: Path, what: str, exc: BaseException, problem: str = "is not a complete gzip file") -> str:
    """The one message for a truncated or corrupt compressed (or binary) input file."""
    detail = " ".join(str(exc).split()) or exc.__class__.__name__
    return (
        f"{what} '{p}' is truncated or corrupt: it {problem} ({detail}). It was cut short or damaged "
        "(an interrupted download or copy?): download it again (or copy it again from its source)."
    )


def _is_compression_error(exc: BaseException) -> bool:
    return isinstance(exc, COMPRESSION_ERRORS) or (isinstance(exc, OSError) and "gzip" in str(exc).lower())


def _sep_for(path: Path) -> str:
    name = path.name.lower().removesuffix(".gz")
    return "," if name.endswith(".csv") else "\t"


# Binary files given where a text table is read (by their first bytes)
BINARY_KINDS = (
    (b"PK\x03\x04", "a zip archive (an Excel .xlsx workbook?)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls workbook"),
    (b"PAR1", "a Parquet file"),
    (b"\x89HDF", "an HDF5 file (AnnData .h5ad?)"),
)
BINARY_SUFFIX = {"a Parquet file": ".parquet", "an HDF5 file (AnnData .h5ad?)": ".h5ad"}
HTML_STARTS = (b"<!doctype html", b"<html", b"<head", b"<body")


def html_page_message(p: Path, what: str) -> str:
    return (
        f"{what} '{p}' is an HTML web page (an error or login page saved in place of the data?), not a data file: "
        "download it again (check the link, or that the download finished) and check it opens as text."
    )


def compression_of(p: Path, what: str) -> str | None:
    """'gzip' when the file's content is gzip, whatever its name says (a gzipped 'x.tsv', a plain 'x.tsv.gz'), else
    None; a web page saved in place of the data is one clear error (:func:`html_page_message`)."""
    with open(p, "rb") as fh:
        head = fh.read(512)
    comp = "gzip" if head[:2] == b"\x1f\x8b" else None
    if comp:
        try:
            with gzip.open(p, "rb") as fh:
                head = fh.read(512)
        except COMPRESSION_ERRORS as exc:
            raise SeedsigError(corrupt_file_message(p, what, exc)) from None
    if head.removeprefix(b"\xef\xbb\xbf").lstrip().lower().startswith(HTML_STARTS):
        raise SeedsigError(html_page_message(p, what))
    kind = next((k for magic, k in BINARY_KINDS if head.startswith(magic)), None)
    if kind:
        raise SeedsigError(
            f"{what} '{p}' is {kind}, not a text table: save it as tab-separated text (.tsv) or CSV"
            + (f", or name it {ext} so that it is read as one." if (ext := BINARY_SUFFIX.get(kind)) else ".")
        )
    return comp


def open_text(p: Path, what: str):
    """The file as text, gunzipped when its content is gzip (:func:`compression_of`)."""
    return gzip.open(p, "rt") if compression_of(p, what) else open(p)


def require_file(path: str | os.PathLike, what: str) -> Path:
    """Return ``path`` as a Path, or raise a clear error if it is not a readable file."""
    p = Path(path)
    if not p.is_file():
        raise SeedsigError(
            f"{what} '{p}' does not exist or is not a file: check the path (relative paths are relative to the "
            "working directory)."
        )
    return p


def read_bytes(path: str | os.PathLike, what: str) -> tuple[Path, bytes]:
    """A file's bytes, gunzipped when gzipped (judged by content, not name), without a UTF-8 BOM; a cut or damaged
    gzip stream is one clear error. The one raw reader of the GEO, GCT and platform-annotation parsers."""
    p = require_file(path, what)
    raw = p.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise SeedsigError(corrupt_file_message(p, what, exc)) from None
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    if raw[:512].lstrip().lower().startswith(HTML_STARTS):
        raise SeedsigError(html_page_message(p, what))
    return p, raw


def read_matrix(
    path: str | os.PathLike,
    what: str = "expression file",
    *,
    skip_lines: int = 0,
    skip_columns: int = 0,
    rows: str = "gene",
    columns: str = "sample",
    threads: int | None = None,
) -> pd.DataFrame:
    """Read a genes x samples table: first column gene id, one numeric column per sample.

    Returns a float64 DataFrame indexed by the gene ids (as strings) with the sample ids as columns.
    Raises :class:`SeedsigError` for an empty table, duplicated gene or sample ids, or non-numeric cells.
    ``skip_lines``: lines before the header (e.g. featureCounts' '# Program' line); ``skip_columns``: annotation
    columns after the id column left out (nf-core's gene_name, featureCounts' Chr..Length); ``rows``/``columns``:
    what the file's rows and columns hold, for the messages (a samples x genes table: rows="sample", columns="gene").

    Parsed by pyarrow's multithreaded CSV reader on ``threads`` threads (None: every core); a table pyarrow does not
    parse exactly as pandas' C parser would (a parse error, a value that is not a plain number, NA word or empty
    cell, an infinite value, -0, an id that is an NA word) is read by pandas instead, which gives the same table and
    the same messages as before. pyarrow's doubles are correctly rounded; pandas' default parser is not always
    (values with 15 or more significant digits, or beyond 1e+/-100, may differ in the last bit).
    """
    p = require_file(path, what)
    sep = _sep_for(p)
    comp, first, second = _matrix_header_lines(p, what, sep, skip_lines)
    cols, samples = _matrix_columns(p, what, sep, first, second, skip_columns, rows, columns)
    df = _parse_matrix_arrow(p, sep, cols, comp, skip_lines, skip_columns, threads)
    if df is None:
        df = _parse_matrix(p, what, sep, cols, comp, skip_lines, skip_columns)
    df.columns = samples
    return _checked_matrix(df, p, what, rows)


def _matrix_header_lines(p: Path, what: str, sep: str, skip_lines: int) -> tuple[str | None, str, str]:
    """(compression, header line, first data line), read raw: pandas would silently rename a duplicated column
    (P1 -> P1.1)."""
    try:
        comp = compression_of(p, what)
        with open_text(p, what) as fh:
            for _ in range(skip_lines):
                fh.readline()
            first = fh.readline().rstrip("\r\n")
            second = fh.readline().rstrip("\r\n")
    except COMPRESSION_ERRORS as exc:
        raise SeedsigError(corrupt_file_message(p, what, exc)) from None
    except (UnicodeDecodeError, OSError) as exc:
        raise SeedsigError(
            f"{what} '{p}' cannot be read as a {'comma' if sep == ',' else 'tab'}-separated text table: {exc}"
        ) from None
    return comp, first, second


def _matrix_columns(
    p: Path, what: str, sep: str, first: str, second: str, skip_columns: int, rows: str, columns: str
) -> tuple[list[str], list[str]]:
    """(header fields, sample names) of a matrix, checked: enough columns, every sample named, no duplicate."""
    cols = [c.strip().strip('"') for c in first.split(sep)] if first else []
    if second and len(second.split(sep)) == len(cols) + 1:
        cols = ["gene_id", *cols]  # R write.table style: the header has no field for the row names
    if len(cols) < 2 + skip_columns:
        raise SeedsigError(
            f"{what} '{p}' has {len(cols)} column(s); expected a {rows} id column followed by one column per "
            f"{columns}, separated by {'commas' if sep == ',' else 'tabs'}."
        )
    samples = [str(c) for c in cols[1 + skip_columns :]]
    if "" in samples:
        k = samples.index("") + 2 + skip_columns
        last = " (the last one: a trailing tab or comma at the ends of the lines?)" if k == len(cols) else ""
        raise SeedsigError(
            f"{what} '{p}': column {k} of the header has no name{last}. Give every {columns} column a name, "
            "or remove the empty column."
        )
    dup = pd.Index(samples)[pd.Index(samples).duplicated()].unique().tolist()
    if dup:
        raise SeedsigError(
            f"{what} '{p}': duplicated {columns} id(s) in the header: {', '.join(map(str, dup[:10]))}. Give each "
            f"{columns} column a unique name."
        )
    return cols, samples


MATRIX_NA = ("NA", "NaN", "nan", "")  # the missing-value words of a matrix (pandas' defaults are not used)
ARROW_BLOCK_BYTES = 16 << 20  # bytes per block of pyarrow's CSV reader: blocks are parsed in parallel


@contextmanager
def arrow_threads(threads: int | None) -> Iterator[bool]:
    """pyarrow's CPU pool at ``threads`` threads for the block (:func:`seedsig.core.threads.resolve_threads`);
    yields whether to use threads at all."""
    n = resolve_threads(threads)
    before = pa.cpu_count()
    if n != before:
        pa.set_cpu_count(n)
    try:
        yield n > 1
    finally:
        if n != before:
            pa.set_cpu_count(before)


def _data_offset(p: Path, comp: str | None, n_lines: int) -> int:
    """Bytes (uncompressed) of the first ``n_lines`` lines: where the data rows start."""
    with gzip.open(p, "rb") if comp else open(p, "rb") as fh:
        return sum(len(fh.readline()) for _ in range(n_lines))


def _arrow_table(p: Path, sep: str, cols: list[str], comp: str | None, skip_lines: int, skip_columns: int, threads):
    """The data rows as a pyarrow Table: column 0 the ids (strings), then the value columns as float64."""
    names = [f"c{i}" for i in range(len(cols))]
    keep = [names[0], *names[1 + skip_columns :]]
    offset = _data_offset(p, comp, skip_lines + 1)
    with arrow_threads(threads) as use_threads, pa.input_stream(str(p), compression=comp) as stream:
        stream.read(offset)
        return pacsv.read_csv(
            stream,
            read_options=pacsv.ReadOptions(
                column_names=names, use_threads=use_threads, block_size=ARROW_BLOCK_BYTES, encoding="utf8"
            ),
            parse_options=pacsv.ParseOptions(delimiter=sep),
            convert_options=pacsv.ConvertOptions(
                include_columns=keep,
                column_types={n: (pa.string() if n == names[0] else pa.float64()) for n in keep},
                null_values=list(MATRIX_NA),
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )


def _parse_matrix_arrow(
    p: Path, sep: str, cols: list[str], comp: str | None, skip_lines: int, skip_columns: int, threads: int | None
) -> pd.DataFrame | None:
    """The table parsed by pyarrow (ids as strings, values float64, samples x genes in memory), or None when pandas
    must read it: pyarrow fails (the pandas path then gives the error), the table is empty or an id is missing, or a
    value is one where pandas' reading differs: a NaN or infinity that is no NA word ('NAN', '1e400'), -0 (+0 in an
    integer column for pandas) or a magnitude >= 2**64 (an integer pandas keeps as text)."""
    try:
        table = _arrow_table(p, sep, cols, comp, skip_lines, skip_columns, threads)
    except MemoryError:
        raise
    except Exception:  # any failure: pandas reads the file and says what is wrong, as before
        return None
    ids = table.column(0)
    if table.num_rows == 0 or ids.null_count:
        return None
    values = np.empty((table.num_columns - 1, table.num_rows))  # samples x genes: each column contiguous
    columns = table.columns[1:]

    def fill(a: int, b: int) -> bool:
        """Columns a..b-1 copied into place (one copy per block; NA: NaN); whether pandas would read them alike."""
        for j in range(a, b):
            start = 0
            for chunk in columns[j].chunks:
                values[j, start : start + len(chunk)] = chunk.to_numpy(zero_copy_only=False)
                start += len(chunk)
        v = values[a:b]
        n_null = sum(columns[j].null_count for j in range(a, b))
        if v.size - int(np.count_nonzero(np.isfinite(v))) != n_null:  # NaN or inf from no NA word
            return False
        zero = v == 0
        if zero.any() and np.signbit(v[zero]).any():
            return False
        return bool(v.size == 0 or max(-np.fmin.reduce(v, axis=None), np.fmax.reduce(v, axis=None)) < 2.0**64)

    bounds = chunk_bounds(values.shape[0], max(1, (1 << 22) // max(values.shape[1], 1)))
    if not all(map_chunks(fill, bounds, threads)):
        return None
    del table
    columns.clear()  # the last references to pyarrow's buffers
    # pyarrow's pool (mimalloc or jemalloc) keeps freed buffers for reuse: give them back now, or the next steps'
    # allocations stack on a table-sized block the process no longer uses (+350 MB at 20,000 x 2,000, by timing)
    pa.default_memory_pool().release_unused()
    index = pd.Index(ids.to_numpy(zero_copy_only=False).astype(object), dtype=object)
    return pd.DataFrame(values.T, index=index, copy=False)


def _parse_matrix(
    p: Path, what: str, sep: str, cols: list[str], comp: str | None, skip_lines: int, skip_columns: int
) -> pd.DataFrame:
    """The table with the ids as strings and the values as float, in one pass of pandas' C parser: the reference
    reading, and the messages, for every table pyarrow does not read (:func:`_parse_matrix_arrow`)."""
    dtypes: dict[Any, Any] = {cols[0]: str}
    extra: dict[str, Any] = {"skiprows": skip_lines} if skip_lines else {}
    if skip_columns:
        extra["usecols"] = [0, *range(1 + skip_columns, len(cols))]
        dtypes = {0: str}
    try:
        df = pd.read_csv(
            p,
            sep=sep,
            dtype=dtypes,
            index_col=0,
            na_values=list(MATRIX_NA),
            keep_default_na=False,
            low_memory=False,
            compression=comp,
            **extra,
        )
    except COMPRESSION_ERRORS as exc:
        raise SeedsigError(corrupt_file_message(p, what, exc)) from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError) as exc:
        if _is_compression_error(exc):
            raise SeedsigError(corrupt_file_message(p, what, exc)) from None
        raise SeedsigError(
            f"{what} '{p}' cannot be parsed: {exc}. Check that every row has the same number of fields as the header."
        ) from None
    return df


def _checked_matrix(df: pd.DataFrame, p: Path, what: str, rows: str) -> pd.DataFrame:
    """The parsed matrix as float64 with string ids, after checking: rows present, numbers only, ids present and
    unique."""
    if df.shape[0] == 0:
        raise SeedsigError(f"{what} '{p}' has a header but no {rows} rows.")
    bad_cols = [c for c, t in df.dtypes.items() if not np.issubdtype(t, np.number)]
    if bad_cols:
        c = bad_cols[0]
        conv = pd.to_numeric(df[c], errors="coerce")
        bad_rows = df.index[conv.isna() & df[c].notna()]
        example = df.loc[bad_rows[0], c] if len(bad_rows) else "?"
        if isinstance(example, pd.Series):
            example = example.iloc[0]
        raise SeedsigError(
            f"{what} '{p}': column '{c}' has non-numeric value '{example}' in row "
            f"'{bad_rows[0] if len(bad_rows) else '?'}'"
            f"{f' (and {len(bad_cols) - 1} more column(s))' if len(bad_cols) > 1 else ''}. "
            "Expression values must be numbers (NA for missing)."
        )
    df.index = df.index.astype(str)
    df.index.name = "gene_id"
    missing_id = df.index.isin(["nan", ""])
    if missing_id.any():
        raise SeedsigError(
            f"{what} '{p}': {int(missing_id.sum())} row(s) have an empty {rows} id in the first column. Give every "
            "row an id or remove it."
        )
    dup_genes = df.index[df.index.duplicated()].unique().tolist()
    if dup_genes:
        raise SeedsigError(
            f"{what} '{p}': duplicated {rows} id(s) in the first column: {', '.join(dup_genes[:10])}"
            f"{' ...' if len(dup_genes) > 10 else ''}. Each row needs a unique id; remove or rename the duplicates."
        )
    return df.astype(np.float64, copy=False)


# Missing-value words of clinical tables besides pandas' defaults (NA, NaN, '', N/A, null, ...): GEO and
# survJamda tables write "missing" or "not available"; they must not become a category of a covariate.
CLINICAL_NA = (
    "missing",
    "Missing",
    "MISSING",
    "not available",
    "Not available",
    "Not Available",
    "not reported",
    "Not reported",
    "--",
)


def read_clinical(path: str | os.PathLike, what: str = "clinical file") -> pd.DataFrame:
    """Read a clinical table: first column holds the sample ids (unique), other columns as given; empty cells,
    pandas' NA words and :data:`CLINICAL_NA` are missing values; leading ``#`` comment lines are skipped."""
    p = require_file(path, what)
    sep = _sep_for(p)
    skip = 0  # leading '#' comment lines (GEO supplementary tables describe their columns this way)
    try:
        comp = compression_of(p, what)
        with open_text(p, what) as fh:
            header = ""
            for line in fh:
                if not line.startswith("#"):
                    header = line.removeprefix("\ufeff").rstrip("\r\n")
                    break
                skip += 1
        df = pd.read_csv(
            p,
            sep=sep,
            dtype={0: str},
            index_col=0,
            keep_default_na=True,
            na_values=list(CLINICAL_NA),
            skiprows=skip,
            compression=comp,
        )
    except COMPRESSION_ERRORS as exc:
        raise SeedsigError(corrupt_file_message(p, what, exc)) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError, EOFError) as exc:
        raise SeedsigError(f"{what} '{p}' cannot be read as a table: {exc}") from None
    other = [name for ch, name in ((",", "commas"), (";", "semicolons"), ("\t", "tabs")) if ch != sep and ch in header]
    if sep not in header and other:
        raise SeedsigError(
            f"{what} '{p}', line {skip + 1}: the header '{header[:60]}' is separated by {other[0]}, not "
            f"{'commas' if sep == ',' else 'tabs'}: a file named .csv is read as comma-separated, any other as "
            "tab-separated. Save it with that separator, or rename it to match its separator."
        )
    # what a spreadsheet export adds: rows with no cell filled, columns with neither a name nor a value
    df = df.loc[~(df.index.isna() & df.isna().all(axis=1).to_numpy())]
    df = df.drop(columns=[c for c in df.columns if str(c).startswith("Unnamed: ") and df[c].isna().all()])
    first_column = str(df.index.name) if df.index.name is not None else "sample"
    df.index = df.index.astype(str).str.strip()  # as the matrix's sample columns and the sheet's cells
    df.index.name = "sample"
    df.attrs["id_column"] = first_column
    dup = df.index[df.index.duplicated()].unique().tolist()
    if dup:
        raise SeedsigError(
            f"{what} '{p}': duplicated sample id(s) in the first column: {', '.join(dup[:10])}. Each sample must "
            "appear once."
        )
    return df


_CSV_SPECIAL = ("\t", '"', "\n", "\r")


def _block_lines(block: pd.DataFrame, float_format: str) -> str | None:
    """The rows of ``block`` as :func:`write_table` writes them (floats ``float_format % value``, NA as 'NA'), or None
    when a column needs pandas (a text value with a tab, quote or newline; a type other than float, int or text)."""
    cols = []
    for c in block.columns:
        v = block[c].to_numpy()
        if v.dtype.kind == "f":
            vals = v.tolist()
            cols.append(["NA" if x != x else float_format % x for x in vals])
        elif v.dtype.kind in "iu":
            cols.append([str(x) for x in v.tolist()])
        elif v.dtype.kind == "O" and all(isinstance(x, str) for x in v):
            if any(ch in x for x in v for ch in _CSV_SPECIAL):
                return None
            cols.append(v.tolist())
        else:
            return None
    return "".join("\t".join(r) + "\n" for r in zip(*cols))


def write_table_blocks(
    header: Sequence[str], blocks: Iterable[pd.DataFrame], path: str | os.PathLike, float_format: str = "%.10g"
) -> int:
    """Write a table a block of rows at a time, atomically: the same text as :func:`write_table` of the blocks
    concatenated (``header`` = the column names; each block's columns in that order); gzip (mtime 0) when ``path``
    ends in .gz (level 1: these tables can be large). Memory holds one block. Returns the number of rows written."""
    n = 0
    with atomic_path(path) as tmp:
        gz = str(path).endswith(".gz")
        with binary_output(tmp, gz, compresslevel=1) as raw:
            fh = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            pd.DataFrame(columns=list(header)).to_csv(fh, sep="\t", index=False)
            for block in blocks:
                text = _block_lines(block, float_format)
                if text is None:
                    block.to_csv(fh, sep="\t", index=False, header=False, na_rep="NA", float_format=float_format)
                else:
                    fh.write(text)
                n += len(block)
            fh.flush()
            fh.detach()
    return n


@contextmanager
def binary_output(path: Path, gz: bool, compresslevel: int = 9) -> Iterator[BinaryIO]:
    """``path`` opened for binary writing, through gzip when ``gz``: with mtime 0 and no file name in the gzip
    header (the temporary's name would be there otherwise), so that two identical runs write identical bytes."""
    with open(path, "wb") as fh:
        if not gz:
            yield fh
            return
        with gzip.GzipFile(fileobj=fh, mode="wb", compresslevel=compresslevel, mtime=0, filename="") as z:
            yield z


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only if the block succeeds."""
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)
        os.replace(tmp_path, final)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


WRITE_CHUNK_ROWS = 2000  # rows formatted per piece of text written
_QUOTED = ('"', "\n", "\r")  # with the separator: what csv's minimal quoting quotes a field for


def _csv_line(fields: list[str], sep: str) -> str:
    """One line as pandas' csv writer spells it (QUOTE_MINIMAL, '"' doubled, '\n' at the end)."""
    buf = io.StringIO()
    csv.writer(buf, delimiter=sep, lineterminator="\n", quoting=csv.QUOTE_MINIMAL).writerow(fields)
    return buf.getvalue()


def _text_cells(col: pd.Series, sep: str, na_rep: str) -> list[str] | None:
    """A non-float column as to_csv writes its cells (ints and booleans as str(), strings quoted where csv quotes
    them, missing strings as ``na_rep``), or None for a column the fast writer leaves to pandas."""
    if col.dtype.kind in "iub" and isinstance(col.dtype, np.dtype):
        return [str(v) for v in col.tolist()]
    if col.dtype != object or pd.api.types.infer_dtype(col, skipna=True) not in ("string", "empty"):
        return None
    cells = [na_rep if m else v for v, m in zip(col.tolist(), col.isna().to_numpy())]
    return [_csv_line([v], sep)[:-1] if any(c in v for c in (sep, *_QUOTED)) else v for v in cells]


def _row_plan(is_float: list[bool]) -> list[tuple[int, int, int]]:
    """The columns as runs: (-1, a, b) = float values a..b-1 of the row, (j, 0, 0) = text column j."""
    plan: list[tuple[int, int, int]] = []
    k = 0
    for j, f in enumerate(is_float):
        if not f:
            plan.append((j, 0, 0))
        elif plan and plan[-1][0] == -1:
            plan[-1] = (-1, plan[-1][1], k + 1)
        else:
            plan.append((-1, k, k + 1))
        k += f
    return plan


def _fast_text(df: pd.DataFrame, sep: str, float_format: str | None, na_rep: str) -> Iterator[str] | None:
    """``df.to_csv(sep=sep, index=False, na_rep=na_rep, float_format=float_format)``'s text in pieces of
    :data:`WRITE_CHUNK_ROWS` rows, for a table of float64 columns (``float_format % value``; NaN as ``na_rep``) and
    int, bool or string columns (as to_csv spells them); None for any other table (pandas writes it)."""
    if float_format is None or df.shape[1] < 2 or not all(isinstance(c, str) for c in df.columns):
        return None
    is_float = [t == np.float64 for t in df.dtypes]
    text = {j: _text_cells(df.iloc[:, j], sep, na_rep) for j, f in enumerate(is_float) if not f}
    if any(cells is None for cells in text.values()):
        return None
    floats = [j for j, f in enumerate(is_float) if f]
    line = sep.join(float_format if f else "%s" for f in is_float) + "\n"
    plan = _row_plan(is_float)

    def pieces() -> Iterator[str]:
        yield _csv_line([str(c) for c in df.columns], sep)
        for a in range(0, len(df), WRITE_CHUNK_ROWS):  # the float values a chunk of rows at a time (no copy of all)
            block = df.iloc[a : a + WRITE_CHUNK_ROWS, floats].to_numpy(dtype=np.float64)
            out = []
            for i, (row, na) in enumerate(zip(block.tolist(), np.isnan(block).any(axis=1).tolist()), start=a):
                cells: list = []
                for j, lo, hi in plan:
                    if j < 0:
                        cells.extend(row[lo:hi])
                    else:
                        cells.append(text[j][i])
                if na:  # NaN as na_rep: this row cell by cell
                    cells = [
                        na_rep if f and v != v else (float_format % v if f else v) for v, f in zip(cells, is_float)
                    ]
                    out.append(sep.join(cells) + "\n")
                else:
                    out.append(line % tuple(cells))
            yield "".join(out)

    return pieces()


def write_table(
    df: pd.DataFrame, path: str | os.PathLike, index: bool = False, float_format: str | None = "%.10g"
) -> None:
    """Write a plain TSV (one header line, no comments) atomically; NA is written as 'NA'.

    The text is pandas' ``to_csv``'s byte for byte (gzip with mtime 0 for a '.gz' path, as pandas compresses it);
    a table of float, int, bool and string columns (every table seedsig writes; e.g. 60,000 x 500 values) is
    formatted by :func:`_fast_text`, as fast as ``np.savetxt``, other tables by ``to_csv``."""
    gz = str(path).endswith(".gz")
    text = None if index else _fast_text(df, "\t", float_format, "NA")
    with atomic_path(path) as tmp:
        with binary_output(tmp, gz) as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as fh:
            if text is None:
                df.to_csv(fh, sep="\t", index=index, na_rep="NA", float_format=float_format)
                return
            for piece in text:
                fh.write(piece)
