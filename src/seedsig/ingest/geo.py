"""Readers of GEO (Gene Expression Omnibus) files into :class:`~seedsig.ingest.expression.ExpressionInput`.

* :func:`read_series_matrix` - a ``GSExxx(-GPLyyy)_series_matrix.txt.gz``: ``!Series_*`` / ``!Sample_*`` header lines
  (one tab-separated, double-quoted field per sample), then the table between ``!series_matrix_table_begin`` and
  ``!series_matrix_table_end`` (``"ID_REF"`` then one ``"GSMxxx"`` column per sample; ``null`` or empty = missing).
* :func:`read_soft` - a SOFT file: a *family* SOFT (``^SERIES``, ``^PLATFORM`` and ``^SAMPLE`` blocks, each sample's
  table between ``!sample_table_begin`` / ``!sample_table_end`` with columns ``ID_REF``, ``VALUE``, ...; a single-sample
  ``GSMxxx`` SOFT reads the same way) or a curated *DataSet* SOFT (``^DATASET`` with one table ``ID_REF``,
  ``IDENTIFIER``, ``GSM...`` and ``^SUBSET`` blocks naming groups of samples).
* :func:`read_ncbi_counts` - the RNA-seq count table GEO's NCBI pipeline publishes for a series
  (``GSExxx_raw_counts_GRCh38.p13_NCBI.tsv.gz``: ``GeneID`` (Entrez) then one column per GSM).
* :func:`series_clinical` - the sample annotation of a series matrix alone (for a series whose expression is in a
  separate count file).

Sample annotation becomes clinical columns: ``title``, ``source_name_ch1``, every ``!Sample_characteristics_ch1``
``key: value`` entry as column ``key`` (``key_ch2`` for channel 2; an entry without ``key:`` as
``characteristics_ch1_<n>``, n = its line), and ``!Sample_description`` entries of the form ``Key = value; Key2 = value2``
as columns ``Key``, ``Key2`` (other description text in ``description``). Values are stripped strings; empty
cells, pandas' NA words and :data:`seedsig.core.tables.CLINICAL_NA` are missing. Every user mistake raises
:class:`~seedsig.core.errors.SeedsigError` naming the file, the line or column, and what to do.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
import warnings
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pandas._libs.parsers import STR_NA_VALUES

from seedsig.core.errors import SeedsigError
from seedsig.core.tables import (
    CLINICAL_NA,
    corrupt_file_message,
    read_bytes,
    read_matrix,
    require_file,
)
from seedsig.ingest.expression import ExpressionInput
from seedsig.ingest.ids import platform_annotation_from_table

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
            f"{what}: line {first_line + i} has {int(n_fields[i])} tab-separated fields but the header of {where} (line {first_line}) "
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
            f"{what}: line {int(first_line) + int(rows[empty[0]])} has an empty {id_col} in {where}; every row needs an id: download the file again."
        )
    dup = ids.duplicated(keep=False).to_numpy()
    if dup.any():
        first = ids[dup].iloc[0]
        lines = rows[(ids == first).to_numpy()][:5] + int(first_line)
        raise SeedsigError(
            f"{what}: {id_col} '{first}' appears {int((ids == first).sum())} times in {where} (lines {', '.join(map(str, lines.tolist()))})"
            f"{f'; {int(ids[dup].nunique())} ids are duplicated' if ids[dup].nunique() > 1 else ''}. Each row needs a unique id: download the file again or remove the duplicates."
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
                f"{what}: line {int(first_line) + int(rows[i])}, column '{c}' (row {ids.iloc[i]}) has the non-numeric value '{col.iloc[i]}'"
                f"{f' ({len(bad) - 1} more in this column)' if len(bad) > 1 else ''}. Expression values must be numbers (null or empty for missing)."
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
                f"{what}: the cohort sheet asks for platform {platform} but {where} holds only {', '.join(found)}; set the sheet's platform column to one of them."
            )
        return platform
    if len(found) > 1:
        raise SeedsigError(
            f"{what} holds samples of {len(found)} platforms ({', '.join(found)}); set the cohort sheet's platform column to the one to read."
        )
    return found[0] if found else None


# ---------------------------------------------------------------- series matrix
def _marker(raw: bytes, name: bytes, start: int = 0) -> tuple[int, int] | None:
    """(start, end) byte offsets of the first line at or after ``start`` that is exactly ``name`` (trailing blanks allowed)."""
    pos = start
    while True:
        if pos == 0 and raw.startswith(name):
            b = 0
        else:
            i = raw.find(b"\n" + name, max(pos - 1, 0))
            if i < 0:
                return None
            b = i + 1
        e = raw.find(b"\n", b)
        e = len(raw) if e < 0 else e
        if not raw[b + len(name) : e].strip():
            return b, e
        pos = e


def _series_header(
    raw: bytes, stop: int, what: str
) -> tuple[dict[str, list[list[str]]], dict[str, list[int]], list[str]]:
    """``!Sample_*`` / ``!Series_*`` header lines before byte ``stop``: sample key -> per-line field lists,
    key -> line numbers, and the sample accessions (``!Sample_geo_accession``)."""
    sample: dict[str, list[list[str]]] = {}
    lines_of: dict[str, list[int]] = {}
    for n, line in enumerate(_decode(raw[:stop]).split("\n"), start=1):
        if not line.startswith("!"):
            continue
        fields = line.rstrip("\r").split("\t")
        key = fields[0][1:].strip()
        sample.setdefault(key, []).append([_unquote(f) for f in fields[1:]])
        lines_of.setdefault(key, []).append(n)
    acc = sample.get("Sample_geo_accession")
    if not acc:
        raise SeedsigError(
            f"{what}: no '!Sample_geo_accession' line: this is not a GEO series matrix (GSExxx_series_matrix.txt.gz from GEO's "
            "'Series Matrix File(s)' link) or its header is cut; download it again, or set the sheet's format to the file's real format."
        )
    accessions = acc[0]
    while accessions and accessions[-1] == "":
        accessions.pop()
    dup = pd.Index(accessions)[pd.Index(accessions).duplicated()].unique().tolist()
    if dup:
        raise SeedsigError(
            f"{what}: line {lines_of['Sample_geo_accession'][0]}: sample(s) {', '.join(dup[:5])} appear twice in '!Sample_geo_accession'; download the file again."
        )
    return sample, lines_of, accessions


def _series_records(
    sample: dict[str, list[list[str]]], lines_of: dict[str, list[int]], accessions: list[str], what: str
) -> dict[str, dict[str, Any]]:
    """Clinical records of a series matrix's samples (checking that each used header line has one field per sample)."""
    n = len(accessions)
    used = (
        "Sample_title",
        "Sample_source_name_ch1",
        "Sample_source_name_ch2",
        "Sample_characteristics_ch1",
        "Sample_characteristics_ch2",
        "Sample_description",
    )
    per_sample: list[dict[str, list[str]]] = [{} for _ in range(n)]
    for key in used:
        for line_no, fields in zip(lines_of.get(key, []), sample.get(key, [])):
            if len(fields) > n and not any(fields[n:]):
                fields = fields[:n]
            if len(fields) != n:
                raise SeedsigError(
                    f"{what}: line {line_no} ('!{key}') has {len(fields)} sample fields but the file has {n} samples (!Sample_geo_accession); "
                    "the file is damaged: download it again."
                )
            for i, v in enumerate(fields):
                per_sample[i].setdefault(key.removeprefix("Sample_"), []).append(v)
    return {acc: _sample_record(meta) for acc, meta in zip(accessions, per_sample)}


def read_series_matrix(path: str | os.PathLike, platform: str | None = None) -> ExpressionInput:
    """Read a GEO series matrix (``GSExxx_series_matrix.txt`` or ``.gz``).

    Expected layout: ``!Series_*`` and ``!Sample_*`` header lines (tab-separated, one double-quoted field per sample),
    then ``!series_matrix_table_begin``, a header line ``"ID_REF" "GSM..." ...``, one line per probe, and
    ``!series_matrix_table_end``. Values ``null`` or empty are missing. The table is parsed by pandas' C parser.

    ``platform``: the GPL to read when the file mixes platforms (an error names them when it is not given); when the
    file holds one platform and ``platform`` names another, an error. An empty table (an RNA-seq series: GEO puts the
    counts in a separate file) is not an error: the matrix has 0 rows and ``info['empty_table']`` is True.
    """
    what = f"series matrix '{Path(path)}'"
    p, raw = read_bytes(path, "series matrix")
    begin = _marker(raw, b"!series_matrix_table_begin")
    if begin is None:
        raise SeedsigError(
            f"{what}: no '!series_matrix_table_begin' line. A GEO series matrix (GSExxx_series_matrix.txt.gz) has its table between "
            "'!series_matrix_table_begin' and '!series_matrix_table_end'; the file is another format or cut short: download it again, "
            "or set the sheet's format column to the file's format."
        )
    end = _marker(raw, b"!series_matrix_table_end", begin[1])
    begin_line = _Line(raw, begin[0])
    if end is None:
        raise SeedsigError(
            f"{what}: '!series_matrix_table_begin' (line {int(begin_line)}) has no '!series_matrix_table_end': the file is truncated "
            "(an interrupted download). Download it again."
        )
    sample, lines_of, accessions = _series_header(raw, begin[0], what)
    records = _series_records(sample, lines_of, accessions, what)
    table = raw[begin[1] + 1 : end[0]] if begin[1] < end[0] else b""
    header_line = _Line(raw, begin[1] + 1)
    header, rows = _check_table(table, header_line, what, "the series matrix table")
    if header[0].upper() != "ID_REF":
        raise SeedsigError(
            f"{what}: line {int(header_line)}: the table's first column is '{header[0]}', expected 'ID_REF'; download the file again."
        )
    gsms = header[1:]
    dup = pd.Index(gsms)[pd.Index(gsms).duplicated()].unique().tolist()
    if dup:
        raise SeedsigError(
            f"{what}: line {int(header_line)}: sample column(s) {', '.join(dup[:5])} appear twice in the table header; download the file again."
        )
    unknown = [g for g in gsms if g not in records]
    if unknown:
        raise SeedsigError(
            f"{what}: line {int(header_line)}: table column(s) {', '.join(unknown[:5])} are not in '!Sample_geo_accession' "
            f"(line {lines_of['Sample_geo_accession'][0]}); the file is damaged: download it again."
        )
    # platform
    plat_of: dict[str, str] = {}
    if sample.get("Sample_platform_id"):
        plat_of = {a: v for a, v in zip(accessions, sample["Sample_platform_id"][0]) if v}
    series_plats = [f[0] for f in sample.get("Series_platform_id", []) if f and f[0]]
    found = list(dict.fromkeys(plat_of[g] for g in gsms if g in plat_of)) or list(dict.fromkeys(series_plats))
    chosen = _choose_platform(found, platform, what, "the file")
    keep = [g for g in gsms if not plat_of or plat_of.get(g) == chosen] if len(found) > 1 else gsms
    matrix = (
        _numeric_table(table, header, rows, header_line, keep, what, "the series matrix table")
        if len(rows)
        else pd.DataFrame(
            np.empty((0, len(keep))),
            index=pd.Index([], dtype=object, name="ID_REF"),
            columns=pd.Index(keep, dtype=object),
        )
    )
    # row count against !Sample_data_row_count: the table holds every row of every sample, so fewer rows than a
    # sample declares is a damaged file (more is normal when samples have different probe sets)
    counts = sample.get("Sample_data_row_count")
    declared = 0
    if counts:
        nums = [int(c) for c, a in zip(counts[0], accessions) if a in keep and c.strip().isdigit()]
        declared = max(nums, default=0)
    if declared and len(rows) < declared:
        raise SeedsigError(
            f"{what}: the table has {len(rows)} data rows but '!Sample_data_row_count' (line {lines_of['Sample_data_row_count'][0]}) "
            f"says {declared}: rows are missing (a damaged or cut file). Download it again."
        )
    dropped = 0
    if len(keep) < len(gsms) and matrix.shape[0]:  # rows of the other platforms' probes: no value in the kept samples
        has_value = matrix.notna().any(axis=1).to_numpy()
        dropped = int((~has_value).sum())
        matrix = matrix[has_value]
    clinical = _clinical_frame({g: records[g] for g in keep})
    series = [f[0] for f in sample.get("Series_geo_accession", []) if f]
    info: dict[str, Any] = {
        "format": "series_matrix",
        "file": str(p),
        "series": series[0] if series else None,
        "platform": chosen,
        "n_rows": int(matrix.shape[0]),
        "n_samples": int(matrix.shape[1]),
        "empty_table": bool(matrix.shape[0] == 0),
        "id_type": "probe (platform ID_REF)",
    }
    if declared:
        info["declared_row_count"] = declared
    if len(found) > 1:
        info["samples_of_other_platforms"] = len(gsms) - len(keep)
        info["rows_without_value_dropped"] = dropped
    if info["empty_table"]:
        info["note"] = (
            "the series matrix table has no data rows (an RNA-seq series: GEO publishes the counts in a separate file, "
            "e.g. the NCBI-generated GSExxx_raw_counts_GRCh38.p13_NCBI.tsv.gz); use that file as the expression and this one as clinical"
        )
    return ExpressionInput(matrix=matrix, clinical=clinical, annotation=None, platform=chosen, info=info)


def series_clinical(path: str | os.PathLike) -> pd.DataFrame:
    """The sample annotation of a GEO series matrix alone (index = GSM ids; columns as :func:`read_series_matrix`),
    for a cohort whose expression is a separate file (an RNA-seq series' NCBI count table). The table is not read."""
    what = f"series matrix '{Path(path)}'"
    _, raw = read_bytes(path, "series matrix")
    begin = _marker(raw, b"!series_matrix_table_begin")
    sample, lines_of, accessions = _series_header(raw, begin[0] if begin else len(raw), what)
    return _clinical_frame(_series_records(sample, lines_of, accessions, what))


# ---------------------------------------------------------------- SOFT
_ENTITY = re.compile(rb"\^([A-Za-z]+)[ \t]*=[ \t]*([^\r\n]*)")


def _entities(raw: bytes) -> list[tuple[str, str, int, int]]:
    """(type, accession, start, end) of each ``^TYPE = id`` block (end = start of the next block)."""
    starts = [0] if raw.startswith(b"^") else []
    pos = 0
    while True:
        pos = raw.find(b"\n^", pos)
        if pos < 0:
            break
        starts.append(pos + 1)
        pos += 2
    out = []
    for i, s in enumerate(starts):
        m = _ENTITY.match(raw, s)
        if m is None:
            continue
        e = starts[i + 1] if i + 1 < len(starts) else len(raw)
        out.append((_decode(m.group(1)).upper(), _decode(m.group(2)).strip(), s, e))
    return out


def _block(
    raw: bytes, etype: str, acc: str, start: int, end: int, what: str
) -> tuple[dict[str, list[str]], tuple[int, int] | None]:
    """Attributes (``!Entity_key = value`` -> values, key without the entity prefix) of one SOFT block, and the byte
    span of its table (header line .. last row) when it has one; an error when the table has no end marker."""
    kind = {"SAMPLE": "sample", "PLATFORM": "platform", "DATASET": "dataset", "SERIES": "series"}.get(
        etype, etype.lower()
    )
    tb = raw.find(f"\n!{kind}_table_begin".encode(), start, end)
    span = None
    head_end = end
    if tb >= 0:
        head_end = tb
        body = raw.find(b"\n", tb + 1, end)
        te = raw.find(f"\n!{kind}_table_end".encode(), tb + 1, end)
        if te < 0 or body < 0:
            line = _line_no(raw, tb + 1)
            cut = "the file ends" if end == len(raw) else f"the next block ('^' at line {_line_no(raw, end)}) starts"
            raise SeedsigError(
                f"{what}: the table of ^{etype} {acc} ('!{kind}_table_begin', line {line}) has no '!{kind}_table_end' before {cut}: "
                "the file is truncated (an interrupted download). Download it again."
            )
        span = (body + 1, te + 1)
    attrs: dict[str, list[str]] = {}
    for line in _decode(raw[start:head_end]).split("\n"):
        if not line.startswith("!"):
            continue
        key, _, value = line[1:].partition("=")
        prefix, _, key = key.strip().partition("_")
        if (
            prefix.lower() == kind
        ):  # '!Sample_title' of a ^SAMPLE; '!subset_type' lines of ^SUBSETs are not the dataset's
            attrs.setdefault(key, []).append(value.rstrip("\r").strip())
    return attrs, span


def _sample_values(raw: bytes, span: tuple[int, int], gsm: str, what: str) -> pd.Series:
    table = raw[span[0] : span[1]]
    first = _Line(raw, span[0])
    header, rows = _check_table(table, first, what, f"the table of sample {gsm}")
    if header[0] != "ID_REF" or "VALUE" not in header:
        raise SeedsigError(
            f"{what}: line {int(first)}: the table of sample {gsm} has columns {', '.join(header[:10])}; expected ID_REF and VALUE. Download the file again."
        )
    if not len(rows):
        return pd.Series([], index=pd.Index([], dtype=object, name="ID_REF"), name=gsm, dtype=np.float64)
    df = _numeric_table(table, header, rows, first, ["VALUE"], what, f"the table of sample {gsm}", quoted=False)
    return df["VALUE"].rename(gsm)


def _join_samples(values: list[pd.Series]) -> pd.DataFrame:
    """Samples' VALUE columns joined on ID_REF (one block copy when all share the same rows, else an outer join)."""
    if not values:
        return pd.DataFrame(index=pd.Index([], dtype=object, name="ID_REF"), dtype=np.float64)
    idx = values[0].index
    if all(v.index.equals(idx) for v in values[1:]):
        m = pd.DataFrame(
            np.column_stack([v.to_numpy() for v in values]),
            index=idx,
            columns=pd.Index([v.name for v in values], dtype=object),
        )
    else:
        m = pd.concat(values, axis=1, join="outer", sort=False)
    m.index.name = "ID_REF"
    return m.astype(np.float64, copy=False)


def read_soft(path: str | os.PathLike, platform: str | None = None) -> ExpressionInput:
    """Read a GEO SOFT file: a family SOFT (``GSExxx_family.soft.gz``), a single-sample SOFT, or a DataSet SOFT (``GDSxxx.soft.gz``).

    Family layout: ``^SERIES``, ``^PLATFORM`` (table between ``!platform_table_begin``/``_end``) and ``^SAMPLE`` blocks
    (``!Sample_platform_id``, ``!Sample_title``, ``!Sample_characteristics_ch1``, ``!Sample_description``; table
    ``ID_REF``, ``VALUE``, ... between ``!sample_table_begin``/``_end``). The matrix is the ``VALUE`` column of each sample
    of the chosen platform, joined on ``ID_REF``; ``annotation`` is that platform's table in the form
    :func:`seedsig.ingest.ids.read_platform_annotation` returns (None when the file has no such table, or it has no gene column).
    With samples of several platforms, ``platform`` must name one.

    DataSet layout: ``^DATASET`` (``!dataset_platform``; table ``ID_REF``, ``IDENTIFIER``, ``GSM...`` between
    ``!dataset_table_begin``/``_end``) and ``^SUBSET`` blocks (``!subset_type``, ``!subset_description``,
    ``!subset_sample_id``): clinical column ``subset_type`` holds each sample's ``subset_description``; the annotation
    maps ``ID_REF`` to the ``IDENTIFIER`` (GEO's gene symbol) column.
    """
    what = f"SOFT file '{Path(path)}'"
    p, raw = read_bytes(path, "SOFT file")
    ents = _entities(raw)
    types = {e[0] for e in ents}
    if "DATASET" in types:
        return _read_gds(p, raw, ents, platform, what)
    if "SAMPLE" in types:
        return _read_family(p, raw, ents, platform, what)
    if "PLATFORM" in types:
        raise SeedsigError(
            f"{what} holds a platform (^PLATFORM) but no samples (^SAMPLE): it is an annotation; give it in the sheet's platform_annotation column and the series' family SOFT or series matrix as the expression."
        )
    raise SeedsigError(
        f"{what}: no '^SAMPLE' or '^DATASET' lines: not a GEO SOFT file (a series matrix starts with '!Series_title'; set the sheet's "
        "format to series_matrix), or the file is damaged: download it again."
    )


def _read_family(
    p: Path, raw: bytes, ents: list[tuple[str, str, int, int]], platform: str | None, what: str
) -> ExpressionInput:
    samples: list[tuple[str, dict[str, list[str]], tuple[int, int] | None]] = []
    platforms: dict[str, tuple[int, int] | None] = {}
    series: list[str] = []
    for etype, acc, s, e in ents:
        if etype == "SAMPLE":
            attrs, span = _block(raw, etype, acc, s, e, what)
            samples.append((acc, attrs, span))
        elif etype == "PLATFORM":
            platforms[acc] = _block(raw, etype, acc, s, e, what)[1]
        elif etype == "SERIES":
            series.append(acc)
    dup = pd.Index([a for a, _, _ in samples])
    if dup.duplicated().any():
        raise SeedsigError(
            f"{what}: sample {dup[dup.duplicated()][0]} has two ^SAMPLE blocks; download the file again."
        )
    plat_of = {acc: (attrs.get("platform_id") or [""])[0] for acc, attrs, _ in samples}
    found = list(dict.fromkeys(v for v in plat_of.values() if v))
    chosen = _choose_platform(found, platform, what, "the file")
    chosen_samples = [x for x in samples if len(found) <= 1 or plat_of[x[0]] == chosen]
    values = []
    for acc, attrs, span in chosen_samples:
        v = (
            _sample_values(raw, span, acc, what)
            if span
            else pd.Series([], index=pd.Index([], dtype=object, name="ID_REF"), name=acc, dtype=np.float64)
        )
        declared = (attrs.get("data_row_count") or [""])[0]
        if declared.isdigit() and int(declared) and int(declared) != len(v):
            raise SeedsigError(
                f"{what}: the table of sample {acc} has {len(v)} rows but its '!Sample_data_row_count' says {declared}: the file is damaged or cut. Download it again."
            )
        values.append(v)
    matrix = _join_samples(values)
    clinical = _clinical_frame({acc: _sample_record(attrs) for acc, attrs, _ in chosen_samples})
    annotation, note = None, None
    span = platforms.get(chosen) if chosen else None
    if span is not None:
        try:
            annotation = platform_annotation_from_table(_decode(raw[span[0] : span[1]]), f"{p} (platform {chosen})")
        except SeedsigError as exc:
            note = f"platform {chosen} table not used as annotation: {exc}"
    info: dict[str, Any] = {
        "format": "soft",
        "soft_kind": "family" if series else "sample",
        "file": str(p),
        "series": series[0] if series else None,
        "platform": chosen,
        "platforms_in_file": found,
        "n_rows": int(matrix.shape[0]),
        "n_samples": int(matrix.shape[1]),
        "empty_table": bool(matrix.shape[0] == 0),
        "value_column": "VALUE",
        "id_type": "probe (platform ID_REF)",
        "annotation": annotation.attrs["source"] if annotation is not None else None,
    }
    if note:
        info["note"] = note
    return ExpressionInput(matrix=matrix, clinical=clinical, annotation=annotation, platform=chosen, info=info)


def _read_gds(
    p: Path, raw: bytes, ents: list[tuple[str, str, int, int]], platform: str | None, what: str
) -> ExpressionInput:
    # GEO's layout: ^DATASET (attributes), the ^SUBSET blocks, then ^DATASET again with the column descriptions and table
    datasets = [x for x in ents if x[0] == "DATASET"]
    accs = list(dict.fromkeys(x[1] for x in datasets))
    if len(accs) > 1:
        raise SeedsigError(f"{what} holds {len(accs)} datasets ({', '.join(accs)}); give one GDS SOFT file per cohort.")
    gds = accs[0]
    attrs: dict[str, list[str]] = {}
    span = None
    for _, _, s, e in datasets:
        a, sp = _block(raw, "DATASET", gds, s, e, what)
        for k, v in a.items():
            attrs.setdefault(k, []).extend(v)
        span = sp or span
    subsets = [_block(raw, "SUBSET", acc, s2, e2, what)[0] for t, acc, s2, e2 in ents if t == "SUBSET"]
    if span is None:
        raise SeedsigError(f"{what}: ^DATASET {gds} has no '!dataset_table_begin' table; download the file again.")
    found = [v for v in attrs.get("platform", []) if v][:1]
    chosen = _choose_platform(found, platform, what, f"^DATASET {gds}")
    table = raw[span[0] : span[1]]
    first = _Line(raw, span[0])
    header, rows = _check_table(table, first, what, f"the table of ^DATASET {gds}")
    gsms = [h for h in header[1:] if re.fullmatch(r"GSM\d+", h)]
    if header[0] != "ID_REF" or not gsms:
        raise SeedsigError(
            f"{what}: line {int(first)}: the ^DATASET table has columns {', '.join(header[:6])} ...; expected ID_REF, IDENTIFIER and one GSM column per sample. Download the file again."
        )
    matrix = (
        _numeric_table(table, header, rows, first, gsms, what, f"the table of ^DATASET {gds}", quoted=False)
        if len(rows)
        else pd.DataFrame(
            np.empty((0, len(gsms))),
            index=pd.Index([], dtype=object, name="ID_REF"),
            columns=pd.Index(gsms, dtype=object),
        )
    )
    records: dict[str, dict[str, Any]] = {g: {} for g in gsms}
    for sub in subsets:
        stype = " ".join((sub.get("type") or ["subset"])[0].split())
        desc = _clean((sub.get("description") or [""])[0])
        for g in ",".join(sub.get("sample_id", [])).split(","):
            g = g.strip()
            if g in records:
                _add(records[g], stype, desc)
    clinical = _clinical_frame(records)
    annotation = None
    if "IDENTIFIER" in header:
        ident = pd.read_csv(
            io.BytesIO(table),
            sep="\t",
            usecols=["ID_REF", "IDENTIFIER"],
            dtype=str,
            keep_default_na=False,
            quoting=csv.QUOTE_NONE,
            encoding_errors="replace",
        )
        annotation = pd.DataFrame(
            {"probe_id": ident["ID_REF"].str.strip(), "symbol": ident["IDENTIFIER"].str.strip(), "entrez_id": ""}
        )
        annotation.attrs.update(
            source=f"{p} (IDENTIFIER of {gds})", id_column="ID_REF", symbol_column="IDENTIFIER", entrez_column=None
        )
    series = [v for v in attrs.get("reference_series", []) if v]
    info: dict[str, Any] = {
        "format": "soft",
        "soft_kind": "dataset",
        "file": str(p),
        "dataset": gds,
        "series": series[0] if series else None,
        "platform": chosen,
        "value_type": (attrs.get("value_type") or [None])[0],
        "n_rows": int(matrix.shape[0]),
        "n_samples": int(matrix.shape[1]),
        "empty_table": bool(matrix.shape[0] == 0),
        "id_type": "probe (platform ID_REF)",
        "subset_types": list(clinical.columns),
    }
    return ExpressionInput(matrix=matrix, clinical=clinical, annotation=annotation, platform=chosen, info=info)


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
            f"{what} '{p}': line 1 starts with '{col0[:40]}', expected 'GeneID' (GEO's NCBI-generated counts: GeneID then one column per GSM, "
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
