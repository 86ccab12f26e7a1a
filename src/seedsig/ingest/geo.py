"""Readers of GEO (Gene Expression Omnibus) files into :class:`~seedsig.ingest.expression.ExpressionInput`.

* :func:`seedsig.ingest.series_matrix.read_series_matrix` - a ``GSExxx(-GPLyyy)_series_matrix.txt.gz``:
  ``!Series_*`` / ``!Sample_*`` header lines (one tab-separated, double-quoted field per sample), then the table
  between ``!series_matrix_table_begin`` and ``!series_matrix_table_end`` (``"ID_REF"`` then one ``"GSMxxx"`` column
  per sample; ``null`` or empty = missing).
* :func:`seedsig.ingest.soft.read_soft` - a SOFT file: a *family* SOFT (``^SERIES``, ``^PLATFORM`` and ``^SAMPLE``
  blocks, each sample's table between ``!sample_table_begin`` / ``!sample_table_end`` with columns ``ID_REF``,
  ``VALUE``, ...; a single-sample ``GSMxxx`` SOFT reads the same way) or a curated *DataSet* SOFT (``^DATASET`` with
  one table ``ID_REF``, ``IDENTIFIER``, ``GSM...`` and ``^SUBSET`` blocks naming groups of samples).
* :func:`read_ncbi_counts` - the RNA-seq count table GEO's NCBI pipeline publishes for a series
  (``GSExxx_raw_counts_GRCh38.p13_NCBI.tsv.gz``: ``GeneID`` (Entrez) then one column per GSM).
* :func:`seedsig.ingest.series_matrix.series_clinical` - the sample annotation of a series matrix alone (for a series
  whose expression is in a separate count file).

Sample annotation becomes clinical columns: ``title``, ``source_name_ch1``, every ``!Sample_characteristics_ch1``
``key: value`` entry as column ``key`` (``key_ch2`` for channel 2; an entry without ``key:`` as
``characteristics_ch1_<n>``, n = its line), and ``!Sample_description`` entries of the form
``Key = value; Key2 = value2`` as columns ``Key``, ``Key2`` (other description text in ``description``). Values are
stripped strings; empty cells, pandas' NA words and :data:`seedsig.core.tables.CLINICAL_NA` are missing. Every user
mistake raises :class:`~seedsig.core.errors.SeedsigError` naming the file, the line or column, and what to do.

This module holds what the readers share (line and field checks, the numeric table parser, sample annotation
into clinical columns, the platform choice) and the NCBI count reader.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
import warnings
import zlib
from typing import Any

import numpy as np
import pandas as pd
from pandas._libs.parsers import STR_NA_VALUES

from seedsig.core.errors import SeedsigError
from seedsig.core.tables import (
    CLINICAL_NA,
    corrupt_file_message,
    read_matrix,
    require_file,
)
from seedsig.ingest.expression import ExpressionInput

NA_WORDS = frozenset(STR_NA_VALUES) | frozenset(CLINICAL_NA)
# missing expression values in GEO tables
_VALUE_NA = ["null", "NULL", "Null", "NA", "NaN", "nan", ""]
_BASE_COLUMNS = ("title", "source_name_ch1", "source_name_ch2", "description")
_KEY_COLON = re.compile(r"^\s*([^:]{1,100}?)\s*:\s?(.*)$", re.S)
# a description entry 'Key = value' (or 'Key: value' on a line of 'Key = value' entries): a short key of words
_DESC_EQ = re.compile(r"^\s*([A-Za-z][A-Za-z0-9 _./+-]{0,59}?)\s*=\s*(.*?)\s*$", re.S)
_DESC_COLON = re.compile(r"^\s*([A-Za-z][A-Za-z0-9 _./+-]{0,59}?)\s*:(?!//)\s*(.*?)\s*$", re.S)
_NUMERIC = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


# ---------------------------------------------------------------- shared helpers
def _decode(b: bytes) -> str:
    return b.decode("utf-8", errors="replace")


def _line_no(raw: bytes, pos: int) -> int:
    """1-based number of the line holding byte ``pos``."""
    return raw.count(b"\n", 0, pos) + 1


class _Line:
    """The file line number of byte ``pos``, counted only when a message needs it (counting is a pass over the file)."""

    def __init__(self, raw: bytes, pos: int) -> None:
        self.raw, self.pos = raw, pos

    def __int__(self) -> int:
        return _line_no(self.raw, self.pos)


def _line_fields(table: bytes, chunk: int = 1 << 24) -> tuple[np.ndarray, np.ndarray]:
    """(fields per line, blank?) of every line of a tab-separated block, vectorized (GEO fields hold no tabs),
    in pieces of about ``chunk`` bytes cut at line ends (the positions of all tabs of a large table at once would
    take as much memory as the table)."""
    if len(table) > chunk:
        parts, start = [], 0
        while start < len(table):
            stop = table.find(b"\n", min(start + chunk, len(table)) - 1)
            stop = len(table) if stop < 0 else stop + 1
            parts.append(_line_fields(table[start:stop], chunk=len(table) + 1))
            start = stop
        return np.concatenate([f for f, _ in parts]), np.concatenate([b for _, b in parts])
    buf = np.frombuffer(table, dtype=np.uint8)
    nl = np.flatnonzero(buf == 10)
    ends = nl if (len(buf) and buf[-1] == 10) else np.append(nl, len(buf))
    starts = np.concatenate(([0], nl[: len(ends) - 1] + 1)).astype(np.int64)
    tabs = np.flatnonzero(buf == 9)
    n_fields = np.searchsorted(tabs, ends) - np.searchsorted(tabs, starts) + 1
    cr = np.zeros(len(ends), dtype=bool)
    nonempty = ends > starts
    cr[nonempty] = buf[ends[nonempty] - 1] == 13
    blank = (ends - starts - cr) == 0
    return n_fields, blank


def _check_table(table: bytes, first_line: int | _Line, what: str, where: str) -> tuple[list[str], np.ndarray]:
    """Header names of a tab-separated table and the line offsets of its data rows from the header line; an error
    naming the line when a row has another number of fields than the header. ``first_line`` = the header's file line."""
    n_fields, blank = _line_fields(table)
    if len(blank) == 0 or blank[0]:
        raise SeedsigError(
            f"{what}: {where} has no header line (line {int(first_line)}); the file is damaged: download it again."
        )
    nl = table.find(b"\n")
    header = [_unquote(h) for h in _decode(table[: nl if nl >= 0 else len(table)]).rstrip("\r").split("\t")]
    expected = len(header)
    bad = np.flatnonzero(~blank & (n_fields != expected))
    if len(bad):
        i, first_line = int(bad[0]), int(first_line)
        more = f" ({len(bad) - 1} more such line(s))" if len(bad) > 1 else ""
        raise SeedsigError(
            f"{what}: line {first_line + i} has {int(n_fields[i])} tab-separated fields but the header of {where} "
            f"(line {first_line}) "
            f"has {expected}{more}. The file is damaged or was edited: download it again from GEO."
        )
    rows = np.flatnonzero(~blank)[1:]
    return header, rows


def _unquote(v: str) -> str:
    v = v.strip()
    if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
        v = v[1:-1].strip()
    return v


def _numeric_table(
    table: bytes,
    header: list[str],
    rows: np.ndarray,
    first_line: int | _Line,
    value_cols: list[str],
    what: str,
    where: str,
    quoted: bool = True,
) -> pd.DataFrame:
    """Parse a checked table with pandas' C parser: first column the ids (str), ``value_cols`` as float64.
    ``rows``, ``first_line``: as :func:`_check_table` gives them (line of row i = first_line + rows[i]).
    ``quoted``: fields may be double-quoted (series matrix); SOFT tables are not (a quote there is text).
    Errors name the line and column of a non-numeric value and the lines of a duplicated id."""
    id_col = header[0]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter(
                "ignore", pd.errors.DtypeWarning
            )  # mixed types in a column: reported below as non-numeric
            df = pd.read_csv(
                io.BytesIO(table),
                sep="\t",
                header=0,
                names=header,
                usecols=[id_col, *value_cols] if value_cols != header[1:] else None,
                index_col=0,
                dtype={id_col: str},
                na_values={c: _VALUE_NA for c in value_cols},  # an id is never missing (an empty one is an error below)
                keep_default_na=False,
                quoting=csv.QUOTE_MINIMAL if quoted else csv.QUOTE_NONE,
                encoding="utf-8",
                encoding_errors="replace",
            )  # low_memory (the default) parses in chunks: half the time of low_memory=False on a large table
    except (pd.errors.ParserError, ValueError) as exc:
        raise SeedsigError(
            f"{what}: {where} cannot be parsed ({str(exc).strip()}); download the file again from GEO."
        ) from None
    ids = pd.Series(df.index, dtype=object).fillna("").astype(str)
    empty = np.flatnonzero((ids == "").to_numpy())
    if len(empty):
        raise SeedsigError(
            f"{what}: line {int(first_line) + int(rows[empty[0]])} has an empty {id_col} in {where}; every row needs "
            "an id: download the file again."
        )
    dup = ids.duplicated(keep=False).to_numpy()
    if dup.any():
        first = ids[dup].iloc[0]
        lines = rows[(ids == first).to_numpy()][:5] + int(first_line)
        raise SeedsigError(
            f"{what}: {id_col} '{first}' appears {int((ids == first).sum())} times in {where} (lines "
            f"{', '.join(map(str, lines.tolist()))})"
            f"{f'; {int(ids[dup].nunique())} ids are duplicated' if ids[dup].nunique() > 1 else ''}. Each row needs a "
            "unique id: download the file again or remove the duplicates."
        )
    for c in value_cols:
        col = df[c]
        if not pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype):
            conv = pd.to_numeric(col.astype(str).where(col.notna()), errors="coerce")
            bad = np.flatnonzero((conv.isna() & col.notna()).to_numpy())
            if not len(bad):
                df[c] = conv
                continue
            i = int(bad[0])
            raise SeedsigError(
                f"{what}: line {int(first_line) + int(rows[i])}, column '{c}' (row {ids.iloc[i]}) has the non-numeric "
                f"value '{col.iloc[i]}'"
                f"{f' ({len(bad) - 1} more in this column)' if len(bad) > 1 else ''}. Expression values must be "
                "numbers (null or empty for missing)."
            )
    # usecols keeps the file's column order, which value_cols follows
    out = pd.DataFrame(
        df[value_cols].to_numpy(dtype=np.float64),
        index=pd.Index(ids.to_numpy(dtype=object), name="ID_REF"),
        columns=pd.Index(value_cols, dtype=object),
    )
    return out


def _clean(v: str | None) -> Any:
    if v is None:
        return np.nan
    v = v.strip()
    return np.nan if v in NA_WORDS else v


def _add(rec: dict[str, Any], key: str, value: Any) -> None:
    """Set a clinical cell; a key given twice for one sample keeps both (distinct) values, '; '-joined."""
    old = rec.get(key)
    if isinstance(value, str) and isinstance(old, str):
        if value not in old.split("; "):
            rec[key] = f"{old}; {value}"
    elif isinstance(value, str) or key not in rec:
        rec[key] = value


def _characteristics(rec: dict[str, Any], entries: list[str], channel: str) -> None:
    """``key: value`` entries (one per characteristics line, in line order) into ``rec``."""
    for n, entry in enumerate(entries, start=1):
        entry = entry.strip()
        if not entry:
            continue
        m = _KEY_COLON.match(entry)
        if m and m.group(1).strip():
            key = " ".join(m.group(1).split())
            if channel != "ch1":
                key = f"{key}_{channel}"
            elif key in _BASE_COLUMNS:
                key = f"{key}_ch1"
            _add(rec, key, _clean(m.group(2)))
        else:
            _add(rec, f"characteristics_{channel}_{n}", _clean(entry))


def _description(rec: dict[str, Any], lines: list[str]) -> None:
    """``Key = value; Key2 = value2`` description entries into columns; other description text into ``description``."""
    free: list[str] = []
    for line in lines:
        parts = [s for s in (x.strip() for x in line.split(";")) if s]
        eq = [_DESC_EQ.match(part) for part in parts]
        if not any(m and m.group(2) for m in eq):  # free text (a sentence may hold ':' or ';')
            if line.strip():
                free.append(line.strip())
            continue
        for k, part in enumerate(parts):
            m = eq[k] if eq[k] and eq[k].group(2) else _DESC_COLON.match(part)
            if m and m.group(2):
                value = m.group(2)
                if k == len(parts) - 1 and value.endswith(".") and _NUMERIC.match(value[:-1]):
                    value = value[:-1]  # 'Background = 56.96.' ends the sentence
                key = " ".join(m.group(1).split())
                _add(rec, f"{key}_description" if key in _BASE_COLUMNS else key, _clean(value))
            else:
                free.append(part)
    if free:
        rec["description"] = "; ".join(dict.fromkeys(free))


def _sample_record(meta: dict[str, list[str]]) -> dict[str, Any]:
    """One sample's clinical cells from its metadata (key -> the values of its lines, in order)."""
    rec: dict[str, Any] = {}
    for key in ("title", "source_name_ch1"):
        rec[key] = _clean(meta[key][0]) if meta.get(key) else np.nan
    if meta.get("source_name_ch2"):
        rec["source_name_ch2"] = _clean(meta["source_name_ch2"][0])
    _characteristics(rec, meta.get("characteristics_ch1", []), "ch1")
    _characteristics(rec, meta.get("characteristics_ch2", []), "ch2")
    _description(rec, meta.get("description", []))
    return rec


def _clinical_frame(records: dict[str, dict[str, Any]]) -> pd.DataFrame:
    cols: dict[str, None] = {}
    for rec in records.values():
        cols.update(dict.fromkeys(rec))
    df = pd.DataFrame(
        [[rec.get(c, np.nan) for c in cols] for rec in records.values()],
        index=pd.Index(list(records), name="sample", dtype=object),
        columns=list(cols),
        dtype=object,
    )
    return df


def _choose_platform(found: list[str], platform: str | None, what: str, where: str) -> str | None:
    """The platform to read among those a file holds (in file order)."""
    if platform:
        if found and platform not in found:
            raise SeedsigError(
                f"{what}: the cohort sheet asks for platform {platform} but {where} holds only {', '.join(found)}; "
                "set the sheet's platform column to one of them."
            )
        return platform
    if len(found) > 1:
        raise SeedsigError(
            f"{what} holds samples of {len(found)} platforms ({', '.join(found)}); set the cohort sheet's platform "
            "column to the one to read."
        )
    return found[0] if found else None


# ---------------------------------------------------------------- NCBI-generated RNA-seq counts
def read_ncbi_counts(path: str | os.PathLike) -> ExpressionInput:
    """Read GEO's NCBI-generated RNA-seq count table of a series (``GSExxx_raw_counts_GRCh38.p13_NCBI.tsv.gz``):
    tab-separated, first column ``GeneID`` (Entrez gene ids), then one column of integer counts per GSM.

    ``info['id_type']`` is ``'entrez'``; ``info['integer_counts']`` says whether every value is a non-negative integer
    (False for the NCBI TPM / FPKM files of the same layout: the caller decides whether that is acceptable)."""
    what = "NCBI count table"
    p = require_file(path, what)
    try:
        with (
            gzip.open(p, "rt", encoding="utf-8", errors="replace")
            if p.read_bytes()[:2] == b"\x1f\x8b"
            else open(p, encoding="utf-8", errors="replace")
        ) as fh:
            first = fh.readline().rstrip("\r\n")
    except (OSError, EOFError, zlib.error) as exc:
        raise SeedsigError(corrupt_file_message(p, what, exc)) from None
    col0 = _unquote(first.split("\t", 1)[0]) if first else ""
    if col0 != "GeneID":
        raise SeedsigError(
            f"{what} '{p}': line 1 starts with '{col0[:40]}', expected 'GeneID' (GEO's NCBI-generated counts: GeneID "
            "then one column per GSM, "
            "tab-separated). For another count table set the sheet's format to 'table'."
        )
    matrix = read_matrix(p, what)
    matrix.index.name = "GeneID"
    vals = matrix.to_numpy()
    finite = vals[np.isfinite(vals)]
    integer = bool(finite.size == vals.size and (finite >= 0).all() and (finite == np.round(finite)).all())
    info = {
        "format": "ncbi_counts",
        "file": str(p),
        "id_type": "entrez",
        "n_rows": int(matrix.shape[0]),
        "n_samples": int(matrix.shape[1]),
        "integer_counts": integer,
    }
    return ExpressionInput(matrix=matrix, clinical=None, annotation=None, platform=None, info=info)
