"""Checks that expression input is what the cohort sheet says it is (counts, log scale, orientation)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from seedsig.core.errors import SeedsigError
from seedsig.ingest.ids import check_mapping, looks_transposed, resolve_ids


# ------------------------------------------------------------------------------------------- checks
def looks_logged(values: np.ndarray) -> bool:
    """The obvious case of log-scale data: every value below 50 and not all whole numbers."""
    finite = values[np.isfinite(values)]
    return bool(finite.size) and float(finite.max()) < 50 and not np.all(np.equal(np.mod(finite, 1), 0))


CHECK_CHUNK_ELEMENTS = 4_000_000  # values per chunk of rows of check_counts (no temporary of the matrix's size)


def _row_chunks(values: np.ndarray):
    """(row offset, rows) of ``values`` in chunks of about CHECK_CHUNK_ELEMENTS values, in order."""
    step = max(1, CHECK_CHUNK_ELEMENTS // max(values.shape[1], 1))
    for a in range(0, values.shape[0], step):
        yield a, values[a : a + step]


def rows_all_na(values: np.ndarray) -> np.ndarray:
    """Per row: every value NaN (a chunk of rows at a time: no boolean matrix of the matrix's size)."""
    out = np.empty(values.shape[0], dtype=bool)
    for a, rows in _row_chunks(values):
        out[a : a + rows.shape[0]] = np.isnan(rows).all(axis=1)
    return out


def _first_in_rows(values: np.ndarray, test) -> tuple[int, int, int] | None:
    """(row, column, number of rows) of the first value (row-major order) where ``test(chunk)`` is true, with the
    number of rows holding one; None if there is none. Chunked over rows."""
    first, n_rows = None, 0
    for a, chunk in _row_chunks(values):
        hit = test(chunk)
        rows = hit.any(axis=1)
        n_rows += int(rows.sum())
        if first is None and rows.any():
            i = int(np.flatnonzero(rows)[0])
            first = (a + i, int(np.flatnonzero(hit[i])[0]))
    return None if first is None else (*first, n_rows)


def _looks_logged_rows(values: np.ndarray) -> bool:
    """:func:`looks_logged` of the whole matrix, chunked over rows."""
    top, whole, any_finite = -np.inf, True, False
    for _, chunk in _row_chunks(values):
        finite = chunk[np.isfinite(chunk)]
        if finite.size:
            any_finite = True
            top = max(top, float(finite.max()))
            whole = whole and bool(np.all(np.equal(np.mod(finite, 1), 0)))
    return any_finite and top < 50 and not whole


def check_counts(df: pd.DataFrame, where: str, *, integers: bool = False) -> int:
    """Raise a clear error for a matrix that cannot be raw counts; returns the number of non-integer values.

    ``integers=True`` (DESeq2 methods, which model integer counts) makes non-integer values an error. Every check
    works on chunks of rows (a 20,000 x 10,000 matrix needs no temporary of its size)."""
    values = df.to_numpy()
    nan = _first_in_rows(values, np.isnan)
    if nan is not None:
        i, j, n_rows = nan
        raise SeedsigError(
            f"{where}: count matrix has a missing value (gene '{df.index[i]}', sample '{df.columns[j]}'; "
            f"{n_rows} gene row(s) with NA). Counts cannot be missing: use 0 or remove the gene."
        )
    neg = _first_in_rows(values, lambda c: c < 0)
    if neg is not None:
        i, j, _ = neg
        raise SeedsigError(
            f"{where}: negative count {values[i, j]:g} (gene '{df.index[i]}', sample '{df.columns[j]}'). Counts must "
            "be >= 0; if the matrix is log-scale, set data_type to log_expression."
        )
    if _looks_logged_rows(values):
        raise SeedsigError(
            f"{where}: declared as counts but all values are below 50 and not whole numbers: this looks like "
            "log-scale data. Set data_type to log_expression in the cohort sheet."
        )
    summary = pd.Index(map(str, df.index)).str.match(r"^(__|N_(unmapped|multimapping|noFeature|ambiguous)$)")
    if summary.any():
        ids = list(map(str, df.index[summary]))
        raise SeedsigError(
            f"{where}: row(s) {', '.join(ids[:6])} are the read-count summary of HTSeq or STAR (reads not counted to a "
            "gene), not genes. Remove these rows from the matrix."
        )
    lib = values.sum(axis=0)
    total = _first_in_rows(
        values, lambda c: (np.isclose(2 * c, lib, rtol=1e-9, atol=0).all(axis=1) & (c.sum(axis=1) > 0))[:, None]
    )
    if len(df) > 2 and total is not None:
        raise SeedsigError(
            f"{where}: row '{df.index[total[0]]}' holds the sum of all the other rows in every sample (a total row, "
            "not a gene). Remove it from the matrix."
        )
    zero = np.flatnonzero(lib == 0)
    if zero.size:
        raise SeedsigError(
            f"{where}: sample(s) with zero library size (all counts 0): {', '.join(map(str, df.columns[zero][:10]))}. "
            "Remove them from the matrix."
        )
    frac = _first_in_rows(values, lambda c: c != np.round(c))
    n_frac = sum(int((c != np.round(c)).sum()) for _, c in _row_chunks(values)) if frac is not None else 0
    if n_frac and integers:
        i, j, _ = frac
        raise SeedsigError(
            f"{where}: DESeq2 models integer counts, but {n_frac} value(s) are not whole numbers (e.g. "
            f"{values[i, j]:g}, gene '{df.index[i]}', "
            f"sample '{df.columns[j]}'). Round the matrix first (as tximport/RSEM users do) or use tmm_logcpm, which "
            "accepts expected counts."
        )
    return n_frac


def check_values(df: pd.DataFrame, where: str, data_type: str) -> None:
    """Raise a clear error for a matrix that cannot be un-logged ``intensity`` or ``tpm`` values."""
    values = df.to_numpy()
    if np.isnan(values).all():
        raise SeedsigError(f"{where}: every value is missing (NA).")
    if data_type in ("intensity", "tpm") and looks_logged(values):
        raise SeedsigError(
            f"{where}: declared as {data_type} (un-logged) but every value is below 50 and not whole: this looks "
            "log-scale already. Set data_type to log_expression in the cohort sheet."
        )
    if data_type == "tpm" and (values < 0).any():
        i, j = (int(a[0]) for a in np.nonzero(values < 0))
        raise SeedsigError(
            f"{where}: negative TPM {values[i, j]:g} (gene '{df.index[i]}', sample '{df.columns[j]}'). TPM values are "
            ">= 0; if the matrix is log-scale, set data_type to log_expression."
        )


LOG_SCALE_LIMIT = 100.0  # log2 expression stays below ~25 (2^25 reads per gene); no log scale of expression reaches 100


def check_finite(df: pd.DataFrame, where: str) -> None:
    """Raise for an infinite value (inf, -inf; 'Inf' in a file), naming its gene and sample."""
    values = df.to_numpy(dtype=np.float64)
    inf_rows = np.zeros(values.shape[0], dtype=bool)
    n_inf = 0
    for a, rows in _row_chunks(values):  # chunks of rows: no boolean matrix of the matrix's size
        inf = np.isinf(rows)
        inf_rows[a : a + rows.shape[0]] = inf.any(axis=1)
        n_inf += int(inf.sum())
    if n_inf:
        rows = np.flatnonzero(inf_rows)
        i = int(rows[0])
        j = int(np.flatnonzero(np.isinf(values[i]))[0])
        raise SeedsigError(
            f"{where}: infinite value {values[i, j]:g} (gene '{df.index[i]}', sample '{df.columns[j]}'; "
            f"{n_inf} such value(s) in {rows.size} gene row(s)). Expression values must be finite: "
            "write NA for a missing value (a log of 0 gives -inf: use log2(x + 1))."
        )


def _magnitude(values: np.ndarray) -> tuple[float, float, bool]:
    """(99th percentile, maximum, every value a whole number >= 0) of the finite values."""
    finite = values[np.isfinite(values)]
    if not finite.size:
        return np.nan, np.nan, False
    whole = bool(finite.min() >= 0 and np.all(np.equal(np.mod(finite, 1), 0)))
    return float(np.quantile(finite, 0.99)), float(finite.max()), whole


def _q99_above(values: np.ndarray, limit: float) -> bool:
    """``_magnitude(values)[0] > limit``, decided by counting the values above ``limit`` where that settles it (no
    sort, no copy): the 99th percentile interpolates between the sorted values at floor and ceil of (N - 1) x 0.99,
    and lies between them."""
    v = values.ravel(order="K")
    n = int(np.count_nonzero(np.isfinite(v)))
    if n == 0:
        return False
    above = int(np.count_nonzero(v > limit)) - int(np.count_nonzero(v == np.inf))
    lo = int(np.floor((n - 1) * 0.99))
    if lo + 2 < n - above:  # both neighbours (and one more, for safety) at or below the limit
        return False
    if lo - 1 >= n - above:  # both above
        return True
    return bool(_magnitude(values)[0] > limit)


def looks_unlogged(values: np.ndarray) -> bool:
    """Values that cannot be log-scale expression: more than 1% of them above :data:`LOG_SCALE_LIMIT` (a few
    outliers, e.g. a 999 missing-value code, do not count)."""
    return _q99_above(values, LOG_SCALE_LIMIT)


def _not_log_scale(values: np.ndarray) -> bool:
    """``q99 > LOG_SCALE_LIMIT or (whole and vmax > 10 * LOG_SCALE_LIMIT)`` of :func:`_magnitude`, computed only as
    far as needed (the check of every ``seedsig score`` input: 20,000 x 1,000 values in a few passes)."""
    if _q99_above(values, LOG_SCALE_LIMIT):
        return True
    v = values.ravel(order="K")
    finite = np.isfinite(v)
    if not finite.any() or np.max(v, where=finite, initial=-np.inf) <= 10 * LOG_SCALE_LIMIT:
        return False
    return _magnitude(values)[2]


def check_log_scale(df: pd.DataFrame, where: str, *, command: str | None = None) -> None:
    """Raise for values declared log-scale (``log_expression``; ``seedsig score`` input) that are not: raw counts
    (every value a whole number >= 0, and :func:`looks_unlogged` or a maximum above 1,000) or un-logged values
    (intensities, TPM: :func:`looks_unlogged`)."""
    values = df.to_numpy(dtype=np.float64)
    if not _not_log_scale(values):  # whole numbers up to > 1,000: counts
        return
    q99, vmax, whole = _magnitude(values)
    seen = f"values reach {vmax:,.0f} (99th percentile {q99:,.0f}), while log2 expression stays below ~25"
    if whole:
        if command == "score":
            fix = (
                "seedsig score expects log-scale values: normalize the counts first "
                "(seedsig normalize --method tmm_logcpm)."
            )
        else:
            fix = "Set data_type to counts in the cohort sheet."
        raise SeedsigError(
            f"{where}: every value is a whole number >= 0 and {seen}: these look like raw counts, not log-scale "
            f"values. {fix}"
        )
    if command == "score":
        fix = (
            "seedsig score expects log-scale values: log-transform first (seedsig normalize --method log2 quantile "
            "--data-type intensity for array intensities, --method log2 --data-type tpm for TPM)."
        )
    else:
        fix = (
            "Set data_type to intensity (un-logged array values), tpm (TPM) or counts (e.g. expected counts) in the "
            "cohort sheet, or give log-scale values."
        )
    raise SeedsigError(f"{where}: declared log-scale but {seen}: these values are not logged. {fix}")


def check_not_per_million(df: pd.DataFrame, where: str) -> None:
    """Raise for values declared raw counts whose every sample sums to one million: TPM or CPM (GEO's NCBI TPM
    tables, e.g. GSE201926's, sum to 1e6 +/- 60 per sample), which the count methods would normalize again."""
    values = df.to_numpy(dtype=np.float64)
    lib = np.zeros(values.shape[1])
    for _, rows in _row_chunks(values):  # nansum's NaN-free copy a chunk of rows at a time
        lib += np.nansum(rows, axis=0)
    if lib.size < 3 or not np.allclose(lib, 1e6, rtol=0.005, atol=0):
        return
    raise SeedsigError(
        f"{where}: declared counts, but every sample's values sum to one million ({lib.min():,.0f} to "
        f"{lib.max():,.0f} over {lib.size} samples): these look like TPM (or CPM), not raw counts. Set data_type "
        "to tpm in the cohort sheet, or give the raw counts."
    )


@dataclass
class ExpressionCheck:
    """What :func:`check_expression` found: the id resolution of every row (:func:`seedsig.ingest.ids.resolve_ids`),
    warnings for the terminal, and the number of count values that are not whole numbers."""

    mapping: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    n_fractional: int = 0


def _transposed_fix(orientation: str | None, fmt: str, command: str | None) -> str:
    if command == "score":
        return "seedsig score reads genes as rows and samples as columns: transpose the file."
    if fmt in ("table", "parquet"):
        if orientation == "samples_x_genes":
            return (
                "The sheet says orientation: samples_x_genes; for a file with genes as rows set orientation: "
                "genes_x_samples (or leave the sheet's orientation column empty)."
            )
        return (
            "For a file with samples as rows and genes as columns, set orientation: samples_x_genes in the cohort "
            "sheet (its orientation column)."
        )
    if fmt == "h5ad":
        return "An AnnData holds samples in obs and genes in var: transpose it (adata.T) and write it again."
    return "The file must have genes as rows and samples as columns: transpose it."


# Gene symbols a spreadsheet turned into dates (Zeeberg 2004, Ziemann 2016): 1-Sep, Sep-01, 2001-09-01.
_MONTHS = "(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
SPREADSHEET_DATE = rf"(?i)^(\d{{1,2}}-{_MONTHS}|{_MONTHS}-\d{{1,2}}|\d{{4}}-\d{{2}}-\d{{2}}( 00:00:00)?)$"


def check_expression(
    df: pd.DataFrame,
    where: str,
    data_type: str,
    gene_id: str,
    *,
    annotation: Any = None,
    sample_ids: Sequence[str] | None = None,
    min_samples: int | None = None,
    orientation: str | None = "genes_x_samples",
    fmt: str = "table",
    command: str | None = None,
) -> ExpressionCheck:
    """Every check of an expression matrix (genes x samples) against what the cohort sheet (or the CLI) says it is,
    before anything is written; the one code path of ingest and ``seedsig score`` (``command='score'``: messages name
    the command's options instead of the sheet's columns). In order:

    1. no infinite value (any data type);
    2. not transposed (:func:`seedsig.ingest.ids.looks_transposed`: the column names are gene ids and the row ids are
       not, or the row ids are the clinical table's ``sample_ids``); the message names the sheet's ``orientation``;
    3. for probes: some probe id is in the platform annotation;
    4. at least ``min_samples`` samples;
    5. the values fit ``data_type``: counts (:func:`check_counts`), log_expression (:func:`check_log_scale`: raw
       counts or un-logged values stop), intensity/tpm (:func:`check_values`; whole numbers warn: counts?);
    6. the ids map as ``gene_id`` (:func:`seedsig.ingest.ids.check_mapping`: none -> error, more than half unmapped ->
       a warning).
    """
    check_finite(df, where)
    ids = list(map(str, df.index))
    mapping = resolve_ids(ids, gene_id, annotation if gene_id == "probe" else None)
    if orientation == "samples_x_genes" and command is None:  # the file's rows are the matrix's columns
        words = {"rows_are": "column names", "columns_are": "row ids"}
    else:
        words = {"rows_are": "row ids", "columns_are": "column names"}
    why = looks_transposed(df.index, df.columns, gene_id, annotation, sample_ids, **words)
    if why:
        raise SeedsigError(f"{where}: the matrix looks transposed: {why}. {_transposed_fix(orientation, fmt, command)}")
    absent = mapping["detail"].str.startswith("not in platform annotation")
    if gene_id == "probe" and len(ids) and absent.all():
        resolve_ids(ids, gene_id, annotation, require_match=True)  # raises: the annotation of another platform
    n = df.shape[1]
    if min_samples is not None and n < min_samples:
        example = f" ({', '.join(map(str, df.columns[:5]))})" if n else ""
        raise SeedsigError(
            f"{where} has {n} sample{'' if n == 1 else 's'}{example}; at least {min_samples} are needed (by default 10 "
            "for correlations and survival: associate.min_samples, survival.min_samples). Add samples, or remove the "
            "cohort from the sheet."
        )
    out = ExpressionCheck(mapping)
    if data_type == "counts":
        out.n_fractional = check_counts(df, where)
        check_not_per_million(df, where)
    elif data_type == "log_expression":
        check_log_scale(df, where, command=command)
    else:
        check_values(df, where, data_type)
        values = df.to_numpy(dtype=np.float64)
        q99, vmax, whole = _magnitude(values) if looks_unlogged(values) else (np.nan, np.nan, False)
        if whole and q99 > LOG_SCALE_LIMIT:
            out.warnings.append(
                f"{where}: declared {data_type} but every value is a whole number >= 0 (maximum {vmax:,.0f}), as read "
                "counts are; if these are raw counts, set data_type to counts in the cohort sheet."
            )
    id_series = pd.Series(ids, dtype=object)
    dates = id_series[id_series.str.match(SPREADSHEET_DATE)].tolist()
    if dates and gene_id == "symbol":
        out.warnings.append(
            f"{where}: {len(dates)} row id(s) are dates a spreadsheet made of gene symbols "
            f"(e.g. {', '.join(dates[:3])}; SEPTIN/SEPT, MARCHF/MARCH and DEC1 become 1-Sep, 1-Mar, 1-Dec): they map "
            "to no gene. Export the table again without opening it in a spreadsheet (or import the id column as text)."
        )
    option = "--gene-id" if command == "score" else "the cohort sheet's gene_id column"
    warning = check_mapping(mapping, where, gene_id, option=option)
    if warning:
        out.warnings.append(warning)
    return out
