"""GEO series matrix reader (:func:`read_series_matrix`) and its sample annotation alone (:func:`series_clinical`).

Layout and clinical columns: see :mod:`seedsig.ingest.geo`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seedsig.core.errors import SeedsigError
from seedsig.core.tables import read_bytes
from seedsig.ingest.expression import ExpressionInput
from seedsig.ingest.geo import (
    _check_table,
    _choose_platform,
    _clinical_frame,
    _decode,
    _Line,
    _numeric_table,
    _sample_record,
    _unquote,
)


def _marker(raw: bytes, name: bytes, start: int = 0) -> tuple[int, int] | None:
    """(start, end) byte offsets of the first line at or after ``start`` that is exactly ``name`` (trailing blanks
    allowed)."""
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
            f"{what}: no '!Sample_geo_accession' line: this is not a GEO series matrix (GSExxx_series_matrix.txt.gz "
            "from GEO's "
            "'Series Matrix File(s)' link) or its header is cut; download it again, or set the sheet's format to the "
            "file's real format."
        )
    accessions = acc[0]
    while accessions and accessions[-1] == "":
        accessions.pop()
    dup = pd.Index(accessions)[pd.Index(accessions).duplicated()].unique().tolist()
    if dup:
        raise SeedsigError(
            f"{what}: line {lines_of['Sample_geo_accession'][0]}: sample(s) {', '.join(dup[:5])} appear twice in "
            "'!Sample_geo_accession'; download the file again."
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
                    f"{what}: line {line_no} ('!{key}') has {len(fields)} sample fields but the file has {n} samples "
                    "(!Sample_geo_accession); "
                    "the file is damaged: download it again."
                )
            for i, v in enumerate(fields):
                per_sample[i].setdefault(key.removeprefix("Sample_"), []).append(v)
    return {acc: _sample_record(meta) for acc, meta in zip(accessions, per_sample)}


def _table_markers(raw: bytes, what: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """Byte spans of the '!series_matrix_table_begin' and '!series_matrix_table_end' lines (errors when absent)."""
    begin = _marker(raw, b"!series_matrix_table_begin")
    if begin is None:
        raise SeedsigError(
            f"{what}: no '!series_matrix_table_begin' line. A GEO series matrix (GSExxx_series_matrix.txt.gz) has its "
            "table between "
            "'!series_matrix_table_begin' and '!series_matrix_table_end'; the file is another format or cut short: "
            "download it again, "
            "or set the sheet's format column to the file's format."
        )
    end = _marker(raw, b"!series_matrix_table_end", begin[1])
    begin_line = _Line(raw, begin[0])
    if end is None:
        raise SeedsigError(
            f"{what}: '!series_matrix_table_begin' (line {int(begin_line)}) has no '!series_matrix_table_end': the "
            "file is truncated "
            "(an interrupted download). Download it again."
        )
    return begin, end


def _checked_sample_columns(
    header: list[str], header_line: _Line, records: dict, lines_of: dict[str, list[int]], what: str
) -> list[str]:
    """The sample columns of the table header, checked: ID_REF first, no duplicate, each a '!Sample_geo_accession'."""
    if header[0].upper() != "ID_REF":
        raise SeedsigError(
            f"{what}: line {int(header_line)}: the table's first column is '{header[0]}', expected 'ID_REF'; download "
            "the file again."
        )
    gsms = header[1:]
    dup = pd.Index(gsms)[pd.Index(gsms).duplicated()].unique().tolist()
    if dup:
        raise SeedsigError(
            f"{what}: line {int(header_line)}: sample column(s) {', '.join(dup[:5])} appear twice in the table "
            "header; download the file again."
        )
    unknown = [g for g in gsms if g not in records]
    if unknown:
        raise SeedsigError(
            f"{what}: line {int(header_line)}: table column(s) {', '.join(unknown[:5])} are not in "
            "'!Sample_geo_accession' "
            f"(line {lines_of['Sample_geo_accession'][0]}); the file is damaged: download it again."
        )
    return gsms


def _platform_columns(
    sample: dict[str, list[list[str]]], accessions: list[str], gsms: list[str], platform: str | None, what: str
) -> tuple[list[str], str | None, list[str]]:
    """(platforms in the file, the one read, the sample columns of that platform)."""
    plat_of: dict[str, str] = {}
    if sample.get("Sample_platform_id"):
        plat_of = {a: v for a, v in zip(accessions, sample["Sample_platform_id"][0]) if v}
    series_plats = [f[0] for f in sample.get("Series_platform_id", []) if f and f[0]]
    found = list(dict.fromkeys(plat_of[g] for g in gsms if g in plat_of)) or list(dict.fromkeys(series_plats))
    chosen = _choose_platform(found, platform, what, "the file")
    keep = [g for g in gsms if not plat_of or plat_of.get(g) == chosen] if len(found) > 1 else gsms
    return found, chosen, keep


def _declared_row_count(
    sample: dict[str, list[list[str]]],
    accessions: list[str],
    keep: list[str],
    n_rows: int,
    lines_of: dict[str, list[int]],
    what: str,
) -> int:
    """The largest '!Sample_data_row_count' of the kept samples (0 when none), checked against the table's rows."""
    # row count against !Sample_data_row_count: the table holds every row of every sample, so fewer rows than a
    # sample declares is a damaged file (more is normal when samples have different probe sets)
    counts = sample.get("Sample_data_row_count")
    declared = 0
    if counts:
        nums = [int(c) for c, a in zip(counts[0], accessions) if a in keep and c.strip().isdigit()]
        declared = max(nums, default=0)
    if declared and n_rows < declared:
        raise SeedsigError(
            f"{what}: the table has {n_rows} data rows but '!Sample_data_row_count' (line "
            f"{lines_of['Sample_data_row_count'][0]}) "
            f"says {declared}: rows are missing (a damaged or cut file). Download it again."
        )
    return declared


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
    begin, end = _table_markers(raw, what)
    sample, lines_of, accessions = _series_header(raw, begin[0], what)
    records = _series_records(sample, lines_of, accessions, what)
    table = raw[begin[1] + 1 : end[0]] if begin[1] < end[0] else b""
    header_line = _Line(raw, begin[1] + 1)
    header, rows = _check_table(table, header_line, what, "the series matrix table")
    gsms = _checked_sample_columns(header, header_line, records, lines_of, what)
    found, chosen, keep = _platform_columns(sample, accessions, gsms, platform, what)
    matrix = (
        _numeric_table(table, header, rows, header_line, keep, what, "the series matrix table")
        if len(rows)
        else pd.DataFrame(
            np.empty((0, len(keep))),
            index=pd.Index([], dtype=object, name="ID_REF"),
            columns=pd.Index(keep, dtype=object),
        )
    )
    declared = _declared_row_count(sample, accessions, keep, len(rows), lines_of, what)
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
            "e.g. the NCBI-generated GSExxx_raw_counts_GRCh38.p13_NCBI.tsv.gz); use that file as the expression and "
            "this one as clinical"
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
