"""Pipeline stages: one function per Snakemake rule, usable without Snakemake.

ingest -> normalize -> score (per method) + coverage -> associate -> report. Each stage reads one
AnnData (``.h5ad``) or a few tables and writes its outputs atomically, with provenance in a sidecar
JSON (tables) or in ``uns`` (AnnData). The ``*_rule`` wrappers take Snakemake's ``snakemake`` object;
``run_rule`` turns a :class:`SeedsigError` into one clear message and a non-zero exit."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from seedsig.core.cohort import EVENT_CODES, obs_frame, set_provenance, write_h5ad
from seedsig.core.errors import SeedsigError
from seedsig.core.provenance import provenance, write_sidecar
from seedsig.core.tables import read_clinical, write_table
from seedsig.core.threads import default_threads
from seedsig.ingest.checks import check_expression, rows_all_na
from seedsig.ingest.clinical import harmonize_clinical
from seedsig.ingest.download import (
    DOWNLOAD_BASE,
    GEO_BASE,
    fetch_geo_platform,
    fetch_geo_series,
)
from seedsig.ingest.formats import detect_format
from seedsig.ingest.geo import read_ncbi_counts
from seedsig.ingest.ids import harmonize, read_platform_annotation, resolve_ids
from seedsig.ingest.inputs import read_expression_input
from seedsig.ingest.series_matrix import read_series_matrix, series_clinical

log = logging.getLogger("seedsig")

EMPTY_SERIES_HINT = (
    " (an RNA-seq series matrix: give GEO NCBI-generated count table as the expression, or write "
    "geo:GSE... to fetch it)"
)
MIN_COHORT_SAMPLES = 3  # below it ingest stops: no statistic of the pipeline means anything (correlations need 10)
# the ingest parameters recorded in the sidecar of gene_mapping.tsv (those the mapping depends on)
MAPPING_SETTINGS = ("cohort", "gene_id", "collapse", "platform_annotation")


# ---------------------------------------------------------------------------------------------- ingest
# Ways a sample id gets changed on its way through a spreadsheet or R: letter case, R's make.names ('X' before an id
# that starts with a digit, '.' for '-' and ' '); a clinical id and a matrix column equal after one are the same sample.
ID_SPELLINGS = (
    ("letter case", lambda s: s.str.lower()),
    ("an 'X' in front, as R's make.names (read.csv) adds,", lambda s: s.str.replace(r"^X(?=[0-9.])", "", regex=True)),
    ("'.' in place of '-' or ' ', as R's make.names writes,", lambda s: s.str.replace(r"[-. ]", ".", regex=True)),
)


def _id_spelling_hint(clin_ids: pd.Index, samples: pd.Index) -> str:
    """' They match the matrix's ... when ... is ignored (e.g. 'x' = 'y'): ...' when a spelling change explains the
    clinical ids that are not matrix columns; '' otherwise."""
    a, b = pd.Series(clin_ids.astype(str)), pd.Series(samples.astype(str))
    for what, norm in ID_SPELLINGS:
        na, nb = norm(a), norm(b)
        hit = na.isin(set(nb)) & ~a.isin(set(b))
        if hit.sum() >= max(1, 0.5 * (~a.isin(set(b))).sum()):
            i = int(np.flatnonzero(hit.to_numpy())[0])
            other = b[nb == na.iloc[i]].iloc[0]
            return (
                f" They differ from the matrix's sample columns only by {what} (e.g. '{a.iloc[i]}' and '{other}'): "
                "write the ids in the clinical file exactly as the expression file's column names."
            )
    return ""


def prepare_clinical(
    clin: pd.DataFrame, samples: Sequence[str], path: str, time: str | None, event: str | None
) -> pd.DataFrame:
    """Validate a clinical table against the matrix samples and the endpoint columns; align to samples."""
    samples = pd.Index(samples)
    extra = clin.index.difference(samples)
    if len(clin.index.intersection(samples)) == 0:
        raise SeedsigError(
            f"clinical file '{path}': none of its sample ids (first column, e.g. '{clin.index[0]}') matches a sample "
            "column of the "
            f"expression matrix (e.g. '{samples[0]}')."
            + (
                _id_spelling_hint(clin.index, samples)
                or " The first column must hold the sample ids used as expression column names."
            )
        )
    if len(extra):
        raise SeedsigError(
            f"clinical file '{path}': {len(extra)} sample(s) are not columns of the expression matrix: "
            f"{', '.join(map(str, extra[:10]))}"
            f"{' ...' if len(extra) > 10 else ''}."
            + (_id_spelling_hint(extra, samples.difference(clin.index)) or " Remove these rows or fix their ids.")
        )
    for role, col in (("time", time), ("event", event)):
        if col and col not in clin.columns:
            raise SeedsigError(
                f"clinical file '{path}': no column '{col}' (named as '{role}' in the cohort sheet). Columns are: "
                f"{', '.join(map(str, clin.columns))}."
            )
    out = clin.reindex(samples)
    if time:
        t = pd.to_numeric(out[time], errors="coerce")
        bad = out.index[t.isna() & out[time].notna()]
        if len(bad):
            raise SeedsigError(
                f"clinical file '{path}', column '{time}': non-numeric time '{out.loc[bad[0], time]}' for sample "
                f"'{bad[0]}' ({len(bad)} such row(s)). Times must be numbers (NA for unknown)."
            )
        if (t < 0).any():
            s = t.index[t < 0][0]
            raise SeedsigError(
                f"clinical file '{path}', column '{time}': negative time {t[s]:g} for sample '{s}'. Times must be >= 0."
            )
        out[time] = t
    if event:
        raw = out[event]
        norm = raw.map(lambda v: EVENT_CODES.get(str(v).strip().lower()) if pd.notna(v) else np.nan)
        bad = out.index[norm.isna() & raw.notna()]
        if len(bad):
            vals = sorted({str(v) for v in raw[bad]})
            raise SeedsigError(
                f"clinical file '{path}', column '{event}': event values {', '.join(map(repr, vals[:10]))} are not "
                "1/0 (or TRUE/FALSE). Code events as 1 = event, 0 = censored."
            )
        out[event] = norm.astype(float)
    return out


class CohortInput:
    """Everything ingest reads for one sheet row: the expression input, the probe annotation, the clinical
    tables (embedded in the expression file and/or given separately) and the local files used."""

    def __init__(self, expr, annotation, clinical: list[tuple[str, pd.DataFrame]], files: list[str], notes: list[str]):
        self.expr = expr
        self.annotation = annotation
        self.clinical = clinical
        self.files = files
        self.notes = notes


def _geo_settings(geo: dict | None) -> dict:

    g = {
        "cache": "resources/geo",
        "base_url": GEO_BASE,
        "download_url": DOWNLOAD_BASE,
        "retries": 5,
        "timeout": 60,
        "offline": False,
    }
    g.update(geo or {})
    return g


def _fetch_series(accession: str, geo: dict) -> dict:

    return fetch_geo_series(
        accession,
        geo["cache"],
        geo_base=geo["base_url"],
        download_base=geo["download_url"],
        retries=int(geo["retries"]),
        timeout=float(geo["timeout"]),
        offline=bool(geo["offline"]),
    )


def _fetch_platform(gpl: str, geo: dict) -> Path:

    return fetch_geo_platform(
        gpl,
        geo["cache"],
        geo_base=geo["base_url"],
        retries=int(geo["retries"]),
        timeout=float(geo["timeout"]),
        offline=bool(geo["offline"]),
    )


def resolve_cohort_input(
    cohort: str,
    expression: str,
    gene_id: str,
    *,
    clinical: str | None = None,
    platform_annotation: str | None = None,
    fmt: str = "auto",
    orientation: str = "genes_x_samples",
    platform: str | None = None,
    layer: str | None = None,
    sample_column: str | None = None,
    geo: dict | None = None,
    chunk_cells: int | None = None,
) -> CohortInput:
    """Read the expression entry of a sheet row (a file of any accepted format, or ``geo:GSE...`` downloaded into
    the cache), its probe annotation (file, ``geo:GPL...``, or the platform table of a family SOFT) and its
    clinical tables (the file's own sample annotation, plus the sheet's clinical file or series matrix)."""

    geo = _geo_settings(geo)
    files: list[str] = []
    notes: list[str] = []
    if expression.startswith("geo:"):
        expr, platform_annotation = _read_geo_expression(
            cohort, expression, gene_id, platform, platform_annotation, geo, files, notes
        )
    else:
        expr = read_expression_input(
            expression,
            format=fmt or "auto",
            orientation=orientation or "genes_x_samples",
            platform=platform or None,
            layer=layer or None,
            sample_column=sample_column or None,
            chunk_cells=chunk_cells,
        )
        files.append(expression)
    annotation = _probe_annotation(cohort, gene_id, platform_annotation, expr, geo, files, notes)
    tables = _clinical_tables(cohort, expression, clinical, expr, geo, files)
    return CohortInput(expr, annotation, tables, files, notes)


def _read_geo_expression(
    cohort: str,
    expression: str,
    gene_id: str,
    platform: str | None,
    platform_annotation: str | None,
    geo: dict,
    files: list[str],
    notes: list[str],
):
    """A ``geo:GSE...`` expression entry fetched and read (series matrix, or the NCBI counts of an RNA-seq series),
    and the platform annotation to use (``geo:GPL...`` of the series when the sheet gives none for probe ids)."""
    got = _fetch_series(expression, geo)
    files.append(str(got["series_matrix"]))
    if got.get("ncbi_counts"):
        if gene_id != "entrez":
            raise SeedsigError(
                f"cohort '{cohort}': {expression[4:]} is an RNA-seq series: its expression comes as GEO's "
                "NCBI-generated count table, "
                "whose rows are Entrez gene ids. Set gene_id to entrez (and data_type to counts) in the cohort "
                "sheet."
            )
        expr = read_ncbi_counts(got["ncbi_counts"])
        files.append(str(got["ncbi_counts"]))
        expr.clinical = series_clinical(got["series_matrix"])
        notes.append(
            f"RNA-seq series: counts from GEO's NCBI-generated table {Path(got['ncbi_counts']).name}, sample "
            "annotation from the series matrix"
        )
    else:
        expr = read_series_matrix(got["series_matrix"], platform or None)
    if gene_id == "probe" and not platform_annotation:
        gpl = expr.platform or got.get("platform")
        if not gpl:
            raise SeedsigError(
                f"cohort '{cohort}': the series matrix of {expression[4:]} names no platform; give the platform "
                "annotation in the sheet's platform_annotation column."
            )
        platform_annotation = f"geo:{gpl}"
    return expr, platform_annotation


def _probe_annotation(
    cohort: str, gene_id: str, platform_annotation: str | None, expr, geo: dict, files: list[str], notes: list[str]
) -> Any:
    """The probe annotation of a ``probe`` cohort: a fetched ``geo:GPL...``, the sheet's file, or the platform table
    of the expression file; None for other gene ids."""
    annotation: Any = None
    if gene_id == "probe":
        if platform_annotation and platform_annotation.startswith("geo:"):
            path = _fetch_platform(platform_annotation[4:], geo)
            files.append(str(path))
            annotation = str(path)
        elif platform_annotation:
            annotation = platform_annotation
            files.append(platform_annotation)
        elif expr.annotation is not None:
            annotation = expr.annotation
            notes.append(
                f"probe annotation: the platform table of {expr.platform or 'the platform'} in the expression file"
            )
        else:
            raise SeedsigError(
                f"cohort '{cohort}': gene_id is 'probe' but no platform annotation: give the platform annotation file "
                "(or geo:GPLxxx) in the sheet's platform_annotation column."
            )
    return annotation


def _clinical_tables(
    cohort: str, expression: str, clinical: str | None, expr, geo: dict, files: list[str]
) -> list[tuple[str, pd.DataFrame]]:
    """The clinical tables of a sheet row: the expression file's own sample annotation, then the sheet's clinical
    file (a table, a series matrix, or ``geo:GSE...``)."""
    tables: list[tuple[str, pd.DataFrame]] = []
    if expr.clinical is not None and expr.clinical.shape[1]:
        tables.append((expression, expr.clinical))
    if clinical:
        what = f"clinical file of cohort '{cohort}'"
        if clinical.startswith("geo:"):
            got = _fetch_series(clinical, geo)
            files.append(str(got["series_matrix"]))
            tables.append((clinical, series_clinical(got["series_matrix"])))
        elif detect_format(clinical) == "series_matrix":
            files.append(clinical)
            tables.append((clinical, series_clinical(clinical)))
        else:
            files.append(clinical)
            tables.append((clinical, read_clinical(clinical, what=what)))
    return tables


def _sample_id_column(clin: pd.DataFrame, samples: pd.Index, path: str) -> pd.DataFrame:
    """A clinical table keyed by the matrix's sample ids: its first column, or else the one column whose values are
    all sample ids of the matrix (e.g. GSE2034's table: patient id first, GEO accession second), said in the log."""
    if len(clin.index.intersection(samples)) or clin.empty:
        return clin
    for c in clin.columns:
        vals = clin[c].dropna().astype(str).str.strip()
        if len(vals) == len(clin) and vals.is_unique and vals.isin(samples).all():
            first = str(clin.attrs.get("id_column") or "id")
            first = first if first not in ("sample", c) else f"{first}_id"
            log.info(
                "clinical file '%s': sample ids taken from column '%s' (its first column '%s' holds no sample id of "
                "the matrix)",
                path,
                c,
                first,
            )
            out = clin.drop(columns=[c])
            out.insert(0, first, clin.index)
            out.index = pd.Index(vals.to_numpy(), name="sample")
            return out
    return clin


def merge_clinical(
    tables: list[tuple[str, pd.DataFrame]], samples: Sequence[str], time: str | None, event: str | None
) -> pd.DataFrame:
    """One clinical table over the matrix samples: the expression file's own annotation first, then the clinical
    file's columns (a column in both takes the clinical file's values). Every table is checked against the samples."""
    samples = pd.Index(samples)
    out = pd.DataFrame(index=pd.Index(samples, name="sample"))
    for path, clin in tables:
        clin = _sample_id_column(clin, samples, path)
        aligned = prepare_clinical(clin, samples, path, None, None)
        for c in aligned.columns:
            col = aligned[c]
            if col.dtype == object:  # GEO characteristics are text: "age: 26" -> a number, as a table reader would
                num = pd.to_numeric(col, errors="coerce")
                if num.notna().sum() == col.notna().sum() and col.notna().any():
                    col = num
            out[c] = col
    for role, col in (("time", time), ("event", event)):
        if col and col not in out.columns:
            names = " and ".join(f"'{p}'" for p, _ in tables) or "(none given)"
            near = [c for c in out.columns if str(c).lower() == col.lower()]
            hint = f" Did you mean '{near[0]}' (names are case-sensitive)?" if near else ""
            raise SeedsigError(
                f"clinical data of {names}: no column '{col}' (named as '{role}' in the cohort sheet).{hint} "
                f"Columns are: {', '.join(map(str, out.columns)) or 'none'}."
            )
    return out


def ingest_cohort(
    cohort: str,
    expression: str,
    data_type: str,
    gene_id: str,
    out_h5ad: str | Path,
    out_mapping: str | Path,
    *,
    clinical: str | None = None,
    time: str | None = None,
    event: str | None = None,
    collapse: str = "max_mean",
    platform_annotation: str | None = None,
    out_clinical: str | Path | None = None,
    fmt: str = "auto",
    orientation: str = "genes_x_samples",
    platform: str | None = None,
    layer: str | None = None,
    sample_column: str | None = None,
    geo: dict | None = None,
    harmonization: dict | None = None,
    endpoints: Sequence[dict] = (),
    site_column: str | None = None,
    sites: Sequence[str] = ("lung", "bone", "brain", "liver"),
    chunk_cells: int | None = None,
    threads: int | None = 1,
) -> None:
    """Read the expression input, harmonize gene ids to current HGNC symbols, harmonize and join the clinical
    data -> AnnData; gene_mapping.tsv; clinical.tsv (times in months, events 0/1, sites of relapse mapped).

    Rows whose values are all missing are removed (listed in gene_mapping.tsv and the log), never kept
    as NA rows. The matrix is checked against the sheet before anything is written
    (:func:`seedsig.ingest.checks.check_expression`: finite values, not transposed, at least 3 samples, values that
    fit the data_type, ids that map as gene_id).
    ``harmonization``: time_unit, event_codes, site_terms (:func:`seedsig.ingest.clinical.harmonize_settings`);
    ``endpoints``: further {name, time, event} endpoints whose columns are harmonized too. ``threads``: threads of
    the text-table reader (None: every core).
    """
    with default_threads(threads):
        src = resolve_cohort_input(
            cohort,
            expression,
            gene_id,
            clinical=clinical,
            platform_annotation=platform_annotation,
            fmt=fmt,
            orientation=orientation,
            platform=platform,
            layer=layer,
            sample_column=sample_column,
            geo=geo,
            chunk_cells=chunk_cells,
        )
    for n in src.notes:
        log.info("ingest %s: %s", cohort, n)
    matrix, harmonized, mapping = _harmonized_matrix(
        src, cohort, expression, data_type, gene_id, collapse, clinical=clinical, orientation=orientation
    )
    settings = {
        "cohort": cohort,
        "expression": expression,
        "data_type": data_type,
        "gene_id": gene_id,
        "collapse": collapse,
        "time": time,
        "event": event,
        "platform_annotation": platform_annotation or "",
        "format": src.expr.info.get("format", fmt),
        "orientation": orientation,
        "platform": src.expr.platform or platform or "",
        "layer": layer or "",
        "sample_column": sample_column or "",
    }
    clin, clin_sidecar = _cohort_clinical(
        src, harmonized, cohort, expression, time, event, endpoints, harmonization, site_column, sites
    )
    n_input_rows = int(matrix.shape[0])
    del matrix  # the input's matrix is not needed once harmonized (a big cohort's memory: one matrix, not two)
    src.expr.matrix = None
    adata = _cohort_anndata(src, settings, n_input_rows, harmonized, mapping, clin)
    del harmonized
    _write_ingest_outputs(
        src, settings, n_input_rows, adata, mapping, clin, clin_sidecar, out_h5ad, out_mapping, out_clinical
    )


def _checked_matrix(
    src: CohortInput,
    cohort: str,
    expression: str,
    data_type: str,
    gene_id: str,
    clinical: str | None,
    orientation: str,
) -> tuple[pd.DataFrame, Any, pd.DataFrame, dict]:
    """The expression matrix checked against the sheet (:func:`check_expression`, before anything is written; the
    same code path as `seedsig score`), without its rows of NA only: (matrix, check result, gene mapping rows of the
    removed rows, the probe annotation as keyword arguments of the id functions)."""
    where = f"cohort '{cohort}', expression '{expression}'"
    matrix = src.expr.matrix
    if matrix.shape[0] == 0:
        raise SeedsigError(
            f"{where}: the expression table has no rows{EMPTY_SERIES_HINT if src.expr.info.get('empty_table') else ''}."
        )
    all_na = rows_all_na(matrix.to_numpy(dtype=np.float64))
    if all_na.all():
        raise SeedsigError(f"{where}: every value is NA.")
    kwargs = {}
    if gene_id == "probe":
        ann = src.annotation
        kwargs["annotation"] = (
            read_platform_annotation(ann) if not isinstance(ann, pd.DataFrame) else ann
        )  # read once, used twice
    clinical_ids = [str(i) for p, c in src.clinical if p == clinical for i in c.index] if clinical else None
    checked = check_expression(
        matrix.loc[~all_na] if all_na.any() else matrix,  # no copy of a matrix with no all-NA row
        where,
        data_type,
        gene_id,
        annotation=kwargs.get("annotation"),
        sample_ids=clinical_ids,
        min_samples=MIN_COHORT_SAMPLES,
        orientation=orientation or "genes_x_samples",
        fmt=str(src.expr.info.get("format", "table")),
    )
    removed = pd.DataFrame(columns=["input_id", "symbol", "status", "detail", "kept"])
    if all_na.any():
        ids = list(matrix.index[all_na])
        log.warning(
            "ingest %s: %d row(s) with every value missing removed (e.g. %s)", cohort, len(ids), ", ".join(ids[:5])
        )
        removed = resolve_ids(ids, gene_id, **kwargs)
        removed["detail"] = removed["detail"].astype(str) + "; every value missing (NA): row removed"
        removed["kept"] = False
        matrix = matrix.loc[~all_na]
    return matrix, checked, removed, kwargs


def _harmonized_matrix(
    src: CohortInput,
    cohort: str,
    expression: str,
    data_type: str,
    gene_id: str,
    collapse: str,
    *,
    clinical: str | None,
    orientation: str,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(checked matrix, matrix harmonized to HGNC symbols, gene mapping with the removed rows of NA only); the
    check's warnings in the log."""
    matrix, checked, removed, kwargs = _checked_matrix(
        src, cohort, expression, data_type, gene_id, clinical, orientation
    )
    for warning in checked.warnings:
        log.warning("ingest %s: %s", cohort, warning)
    if checked.n_fractional:
        log.warning(
            "ingest %s: %d count value(s) are not whole numbers (e.g. RSEM expected counts): fine for edgeR methods; "
            "DESeq2 methods need integers",
            cohort,
            checked.n_fractional,
        )
    rule = collapse if data_type == "counts" or collapse != "sum" else "max_mean"
    harmonized, mapping = harmonize(matrix, gene_id, collapse=rule, resolved=checked.mapping, **kwargs)
    if len(removed):
        mapping = (
            pd.concat([mapping, removed[mapping.columns]], ignore_index=True)
            .sort_values("input_id", kind="mergesort")
            .reset_index(drop=True)
        )
    return matrix, harmonized, mapping


def _cohort_clinical(
    src: CohortInput,
    harmonized: pd.DataFrame,
    cohort: str,
    expression: str,
    time: str | None,
    event: str | None,
    endpoints: Sequence[dict],
    harmonization: dict | None,
    site_column: str | None,
    sites: Sequence[str],
) -> tuple[pd.DataFrame, dict]:
    """The clinical tables merged over the matrix samples and harmonized (the primary endpoint checked), and the
    provenance record of clinical.tsv."""
    samples = list(map(str, harmonized.columns))
    clin = merge_clinical(src.clinical, samples, time, event)
    eps = [{"name": "primary", "time": time, "event": event}] if time and event else []
    eps += [dict(e) for e in endpoints]
    h = dict(harmonization or {})
    clin, clin_record = harmonize_clinical(
        clin,
        endpoints=eps,
        site_column=site_column or None,
        sites=list(sites),
        source=" + ".join(p for p, _ in src.clinical) or expression,
        **h,
    )
    if time or event:
        clin = prepare_clinical(clin, samples, " + ".join(p for p, _ in src.clinical), time, event)
    sidecar = provenance(
        {
            "cohort": cohort,
            **h,
            "time": time,
            "event": event,
            "endpoints": list(endpoints),
            "site_column": site_column or "",
            "sites": list(sites),
        },
        inputs=[p for p, _ in src.clinical],
        harmonization=clin_record,
    )
    return clin, sidecar


def _cohort_anndata(
    src: CohortInput,
    settings: dict,
    n_input_rows: int,
    harmonized: pd.DataFrame,
    mapping: pd.DataFrame,
    clin: pd.DataFrame,
):
    """The cohort's AnnData: samples x HGNC symbols, the clinical columns in ``obs`` (with the library size of
    counts), the input ids and their status in ``var``, the ingest provenance in ``uns``."""
    import anndata as ad

    obs = obs_frame(clin)
    obs.index = obs.index.astype(str)
    if settings["data_type"] == "counts":
        obs["library_size"] = harmonized.sum(axis=0).to_numpy()
    kept = mapping[mapping["kept"]]
    ids_per_symbol = kept.groupby("symbol")["input_id"].agg(lambda s: ";".join(sorted(s)))
    status_per_symbol = kept.groupby("symbol")["status"].agg(lambda s: ";".join(sorted(set(s))))
    var = pd.DataFrame(
        {
            "input_ids": ids_per_symbol.reindex(harmonized.index).to_numpy(),
            "id_status": status_per_symbol.reindex(harmonized.index).to_numpy(),
        },
        index=harmonized.index.astype(str),
    )
    adata = ad.AnnData(X=harmonized.to_numpy(dtype=np.float64).T, obs=obs, var=var)
    adata.uns["cohort"] = settings["cohort"]
    adata.uns["data_type"] = settings["data_type"]
    adata.uns["endpoint"] = {"time": settings["time"] or "", "event": settings["event"] or ""}
    set_provenance(
        adata,
        "ingest",
        provenance(
            settings,
            inputs=src.files,
            id_status_counts=mapping["status"].value_counts().to_dict(),
            n_input_rows=n_input_rows,
            n_genes=int(harmonized.shape[0]),
            n_samples=int(harmonized.shape[1]),
            reader=src.expr.info,
            notes=src.notes,
        ),
    )
    return adata


def _write_ingest_outputs(
    src: CohortInput,
    settings: dict,
    n_input_rows: int,
    adata,
    mapping: pd.DataFrame,
    clin: pd.DataFrame,
    clin_sidecar: dict,
    out_h5ad: str | Path,
    out_mapping: str | Path,
    out_clinical: str | Path | None,
) -> None:
    """gene_mapping.tsv, clinical.tsv (when asked for) with their sidecars, then the AnnData; the summary in the
    log."""
    counts = mapping["status"].value_counts().to_dict()
    write_table(mapping, out_mapping)
    write_sidecar(
        out_mapping,
        provenance({k: settings[k] for k in MAPPING_SETTINGS}, inputs=src.files, id_status_counts=counts),
    )
    if out_clinical:
        table = clin.copy()
        table.index.name = "sample"
        write_table(table.reset_index(), out_clinical)
        write_sidecar(out_clinical, clin_sidecar)
    write_h5ad(adata, out_h5ad)
    log.info(
        "ingest %s: %d input rows -> %d genes x %d samples; id status: %s; %d clinical column(s)",
        settings["cohort"],
        n_input_rows,
        adata.n_vars,
        adata.n_obs,
        counts,
        clin.shape[1],
    )
