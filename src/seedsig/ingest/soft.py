"""GEO SOFT reader (:func:`read_soft`): family SOFT, single-sample SOFT and curated DataSet (GDS) SOFT files.

Layout and clinical columns: see :mod:`seedsig.ingest.geo`.
"""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seedsig.core.errors import SeedsigError
from seedsig.core.tables import read_bytes
from seedsig.ingest.expression import ExpressionInput
from seedsig.ingest.geo import (
    _add,
    _check_table,
    _choose_platform,
    _clean,
    _clinical_frame,
    _decode,
    _Line,
    _line_no,
    _numeric_table,
    _sample_record,
)
from seedsig.ingest.ids import platform_annotation_from_table

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
                f"{what}: the table of ^{etype} {acc} ('!{kind}_table_begin', line {line}) has no '!{kind}_table_end' "
                f"before {cut}: "
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
            f"{what}: line {int(first)}: the table of sample {gsm} has columns {', '.join(header[:10])}; expected "
            "ID_REF and VALUE. Download the file again."
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
    """Read a GEO SOFT file: a family SOFT (``GSExxx_family.soft.gz``), a single-sample SOFT, or a DataSet SOFT
    (``GDSxxx.soft.gz``).

    Family layout: ``^SERIES``, ``^PLATFORM`` (table between ``!platform_table_begin``/``_end``) and ``^SAMPLE`` blocks
    (``!Sample_platform_id``, ``!Sample_title``, ``!Sample_characteristics_ch1``, ``!Sample_description``; table
    ``ID_REF``, ``VALUE``, ... between ``!sample_table_begin``/``_end``). The matrix is the ``VALUE`` column of each
    sample of the chosen platform, joined on ``ID_REF``; ``annotation`` is that platform's table in the form
    :func:`seedsig.ingest.ids.read_platform_annotation` returns (None when the file has no such table, or it has no
    gene column).
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
            f"{what} holds a platform (^PLATFORM) but no samples (^SAMPLE): it is an annotation; give it in the "
            "sheet's platform_annotation column and the series' family SOFT or series matrix as the expression."
        )
    raise SeedsigError(
        f"{what}: no '^SAMPLE' or '^DATASET' lines: not a GEO SOFT file (a series matrix starts with '!Series_title'; "
        "set the sheet's "
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
                f"{what}: the table of sample {acc} has {len(v)} rows but its '!Sample_data_row_count' says "
                f"{declared}: the file is damaged or cut. Download it again."
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
    # GEO's layout: ^DATASET (attributes), the ^SUBSET blocks, then ^DATASET again with the column descriptions
    # and table
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
            f"{what}: line {int(first)}: the ^DATASET table has columns {', '.join(header[:6])} ...; expected ID_REF, "
            "IDENTIFIER and one GSM column per sample. Download the file again."
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
    clinical = _gds_subset_clinical(subsets, gsms)
    annotation = _gds_identifiers(p, table, gds) if "IDENTIFIER" in header else None
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


def _gds_subset_clinical(subsets: list[dict[str, list[str]]], gsms: list[str]) -> pd.DataFrame:
    """Clinical columns of a GDS: one per subset type (e.g. 'disease state'), each sample's subset description."""
    records: dict[str, dict[str, Any]] = {g: {} for g in gsms}
    for sub in subsets:
        stype = " ".join((sub.get("type") or ["subset"])[0].split())
        desc = _clean((sub.get("description") or [""])[0])
        for g in ",".join(sub.get("sample_id", [])).split(","):
            g = g.strip()
            if g in records:
                _add(records[g], stype, desc)
    return _clinical_frame(records)


def _gds_identifiers(p: Path, table: bytes, gds: str) -> pd.DataFrame:
    """The probe annotation a GDS table carries: its IDENTIFIER column (the gene symbol of each ID_REF)."""
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
    return annotation
