"""Pipeline stages: one function per Snakemake rule, usable without Snakemake.

ingest -> normalize -> score (per method) + coverage -> associate -> report. Each stage reads one
AnnData (``.h5ad``) or a few tables and writes its outputs atomically, with provenance in a sidecar
JSON (tables) or in ``uns`` (AnnData). The ``*_rule`` wrappers take Snakemake's ``snakemake`` object;
``run_rule`` turns a :class:`SeedsigError` into one clear message and a non-zero exit.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
import warnings
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from .errors import SeedsigError
from .failure import record_error
from .io import atomic_path, provenance, read_clinical, write_sidecar, write_table

log = logging.getLogger("seedsig")

MIN_COHORT_SAMPLES = 3  # below it ingest stops: no statistic of the pipeline means anything (correlations need 10)
EVENT_CODES = {"1": 1, "0": 0, "1.0": 1, "0.0": 0, "true": 1, "false": 0}


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


def prepare_clinical(clin: pd.DataFrame, samples: Sequence[str], path: str, time: str | None, event: str | None) -> pd.DataFrame:
    """Validate a clinical table against the matrix samples and the endpoint columns; align to samples."""
    samples = pd.Index(samples)
    extra = clin.index.difference(samples)
    if len(clin.index.intersection(samples)) == 0:
        raise SeedsigError(
            f"clinical file '{path}': none of its sample ids (first column, e.g. '{clin.index[0]}') matches a sample column of the "
            f"expression matrix (e.g. '{samples[0]}')."
            + (
                _id_spelling_hint(clin.index, samples)
                or " The first column must hold the sample ids used as expression column names."
            )
        )
    if len(extra):
        raise SeedsigError(
            f"clinical file '{path}': {len(extra)} sample(s) are not columns of the expression matrix: {', '.join(map(str, extra[:10]))}"
            f"{' ...' if len(extra) > 10 else ''}."
            + (_id_spelling_hint(extra, samples.difference(clin.index)) or " Remove these rows or fix their ids.")
        )
    for role, col in (("time", time), ("event", event)):
        if col and col not in clin.columns:
            raise SeedsigError(f"clinical file '{path}': no column '{col}' (named as '{role}' in the cohort sheet). Columns are: {', '.join(map(str, clin.columns))}.")
    out = clin.reindex(samples)
    if time:
        t = pd.to_numeric(out[time], errors="coerce")
        bad = out.index[t.isna() & out[time].notna()]
        if len(bad):
            raise SeedsigError(f"clinical file '{path}', column '{time}': non-numeric time '{out.loc[bad[0], time]}' for sample '{bad[0]}' ({len(bad)} such row(s)). Times must be numbers (NA for unknown).")
        if (t < 0).any():
            s = t.index[t < 0][0]
            raise SeedsigError(f"clinical file '{path}', column '{time}': negative time {t[s]:g} for sample '{s}'. Times must be >= 0.")
        out[time] = t
    if event:
        raw = out[event]
        norm = raw.map(lambda v: EVENT_CODES.get(str(v).strip().lower()) if pd.notna(v) else np.nan)
        bad = out.index[norm.isna() & raw.notna()]
        if len(bad):
            vals = sorted({str(v) for v in raw[bad]})
            raise SeedsigError(f"clinical file '{path}', column '{event}': event values {', '.join(map(repr, vals[:10]))} are not 1/0 (or TRUE/FALSE). Code events as 1 = event, 0 = censored.")
        out[event] = norm.astype(float)
    return out


def _obs_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Make clinical columns writable to h5ad (text columns become categoricals; NA kept)."""
    df = df.copy()
    for c in df.columns:
        if df[c].dtype == object or pd.api.types.is_string_dtype(df[c]):
            df[c] = df[c].astype("category")
    df.columns = [str(c) for c in df.columns]
    return df


def _write_h5ad(adata, path: str | Path) -> None:
    """Write ``adata`` atomically. anndata logs "... storing 'id_status' as categorical" at INFO for every repeated
    text column it converts, on its own handler (not ours): that is not a line for the terminal."""
    quiet = logging.getLogger("anndata")
    level = quiet.level
    quiet.setLevel(max(level, logging.WARNING))
    try:
        with atomic_path(path) as tmp:
            adata.write_h5ad(tmp)
    finally:
        quiet.setLevel(level)


def _set_provenance(adata, stage: str, record: dict) -> None:
    from .io import to_jsonable

    prov = dict(adata.uns.get("seedsig_provenance", {}))
    prov[stage] = json.dumps(to_jsonable(record))
    adata.uns["seedsig_provenance"] = prov


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
    from .download import DOWNLOAD_BASE, GEO_BASE

    g = {"cache": "resources/geo", "base_url": GEO_BASE, "download_url": DOWNLOAD_BASE, "retries": 5, "timeout": 60, "offline": False}
    g.update(geo or {})
    return g


def _fetch_series(accession: str, geo: dict) -> dict:
    from .download import fetch_geo_series

    return fetch_geo_series(accession, geo["cache"], geo_base=geo["base_url"], download_base=geo["download_url"], retries=int(geo["retries"]), timeout=float(geo["timeout"]), offline=bool(geo["offline"]))


def _fetch_platform(gpl: str, geo: dict) -> Path:
    from .download import fetch_geo_platform

    return fetch_geo_platform(gpl, geo["cache"], geo_base=geo["base_url"], retries=int(geo["retries"]), timeout=float(geo["timeout"]), offline=bool(geo["offline"]))


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
) -> CohortInput:
    """Read the expression entry of a sheet row (a file of any accepted format, or ``geo:GSE...`` downloaded into
    the cache), its probe annotation (file, ``geo:GPL...``, or the platform table of a family SOFT) and its
    clinical tables (the file's own sample annotation, plus the sheet's clinical file or series matrix)."""
    from .geo import read_ncbi_counts, read_series_matrix, series_clinical
    from .readers import detect_format, read_expression_input

    geo = _geo_settings(geo)
    files: list[str] = []
    notes: list[str] = []
    if expression.startswith("geo:"):
        got = _fetch_series(expression, geo)
        files.append(str(got["series_matrix"]))
        if got.get("ncbi_counts"):
            if gene_id != "entrez":
                raise SeedsigError(
                    f"cohort '{cohort}': {expression[4:]} is an RNA-seq series: its expression comes as GEO's NCBI-generated count table, "
                    f"whose rows are Entrez gene ids. Set gene_id to entrez (and data_type to counts) in the cohort sheet."
                )
            expr = read_ncbi_counts(got["ncbi_counts"])
            files.append(str(got["ncbi_counts"]))
            expr.clinical = series_clinical(got["series_matrix"])
            notes.append(f"RNA-seq series: counts from GEO's NCBI-generated table {Path(got['ncbi_counts']).name}, sample annotation from the series matrix")
        else:
            expr = read_series_matrix(got["series_matrix"], platform or None)
        if gene_id == "probe" and not platform_annotation:
            gpl = expr.platform or got.get("platform")
            if not gpl:
                raise SeedsigError(f"cohort '{cohort}': the series matrix of {expression[4:]} names no platform; give the platform annotation in the sheet's platform_annotation column.")
            platform_annotation = f"geo:{gpl}"
    else:
        expr = read_expression_input(expression, format=fmt or "auto", orientation=orientation or "genes_x_samples", platform=platform or None, layer=layer or None, sample_column=sample_column or None)
        files.append(expression)
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
            notes.append(f"probe annotation: the platform table of {expr.platform or 'the platform'} in the expression file")
        else:
            raise SeedsigError(f"cohort '{cohort}': gene_id is 'probe' but no platform annotation: give the platform annotation file (or geo:GPLxxx) in the sheet's platform_annotation column.")
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
    return CohortInput(expr, annotation, tables, files, notes)


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
            log.info("clinical file '%s': sample ids taken from column '%s' (its first column '%s' holds no sample id of the matrix)", path, c, first)
            out = clin.drop(columns=[c])
            out.insert(0, first, clin.index)
            out.index = pd.Index(vals.to_numpy(), name="sample")
            return out
    return clin


def merge_clinical(tables: list[tuple[str, pd.DataFrame]], samples: Sequence[str], time: str | None, event: str | None) -> pd.DataFrame:
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
) -> None:
    """Read the expression input, harmonize gene ids to current HGNC symbols, harmonize and join the clinical
    data -> AnnData; gene_mapping.tsv; clinical.tsv (times in months, events 0/1, sites of relapse mapped).

    Rows whose values are all missing are removed (listed in gene_mapping.tsv and the log), never kept
    as NA rows. The matrix is checked against the sheet before anything is written
    (:func:`seedsig.normalize.check_expression`: finite values, not transposed, at least 3 samples, values that fit the
    data_type, ids that map as gene_id).
    ``harmonization``: time_unit, event_codes, site_terms (:func:`seedsig.clinical.harmonize_settings`);
    ``endpoints``: further {name, time, event} endpoints whose columns are harmonized too.
    """
    import anndata as ad

    from .clinical import harmonize_clinical
    from .ids import harmonize, resolve_ids
    from .normalize import check_expression

    where = f"cohort '{cohort}', expression '{expression}'"
    src = resolve_cohort_input(cohort, expression, gene_id, clinical=clinical, platform_annotation=platform_annotation, fmt=fmt, orientation=orientation, platform=platform, layer=layer, sample_column=sample_column, geo=geo)
    for n in src.notes:
        log.info("ingest %s: %s", cohort, n)
    matrix = src.expr.matrix
    if matrix.shape[0] == 0:
        raise SeedsigError(f"{where}: the expression table has no rows{' (an RNA-seq series matrix: give GEO NCBI-generated count table as the expression, or write geo:GSE... to fetch it)' if src.expr.info.get('empty_table') else ''}.")
    all_na = matrix.isna().all(axis=1).to_numpy()
    if all_na.all():
        raise SeedsigError(f"{where}: every value is NA.")
    kwargs = {}
    if gene_id == "probe":
        from .ids import read_platform_annotation

        ann = src.annotation
        kwargs["annotation"] = read_platform_annotation(ann) if not isinstance(ann, pd.DataFrame) else ann  # read once, used twice
    # every check of the matrix against the sheet, before anything is written (the same code path as `seedsig score`)
    clinical_ids = [str(i) for p, c in src.clinical if p == clinical for i in c.index] if clinical else None
    checked = check_expression(
        matrix.loc[~all_na],
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
        log.warning("ingest %s: %d row(s) with every value missing removed (e.g. %s)", cohort, len(ids), ", ".join(ids[:5]))
        removed = resolve_ids(ids, gene_id, **kwargs)
        removed["detail"] = removed["detail"].astype(str) + "; every value missing (NA): row removed"
        removed["kept"] = False
        matrix = matrix.loc[~all_na]
    for warning in checked.warnings:
        log.warning("ingest %s: %s", cohort, warning)
    if checked.n_fractional:
        log.warning(
            "ingest %s: %d count value(s) are not whole numbers (e.g. RSEM expected counts): fine for edgeR methods; "
            "DESeq2 methods need integers", cohort, checked.n_fractional,
        )
    rule = collapse if data_type == "counts" or collapse != "sum" else "max_mean"
    harmonized, mapping = harmonize(matrix, gene_id, collapse=rule, resolved=checked.mapping, **kwargs)
    if len(removed):
        mapping = pd.concat([mapping, removed[mapping.columns]], ignore_index=True).sort_values("input_id", kind="mergesort").reset_index(drop=True)
    samples = list(map(str, harmonized.columns))
    clin = merge_clinical(src.clinical, samples, time, event)
    eps = [{"name": "primary", "time": time, "event": event}] if time and event else []
    eps += [dict(e) for e in endpoints]
    h = dict(harmonization or {})
    clin, clin_record = harmonize_clinical(clin, endpoints=eps, site_column=site_column or None, sites=list(sites), source=" + ".join(p for p, _ in src.clinical) or expression, **h)
    if time or event:
        clin = prepare_clinical(clin, samples, " + ".join(p for p, _ in src.clinical), time, event)
    obs = _obs_frame(clin)
    obs.index = obs.index.astype(str)
    if data_type == "counts":
        obs["library_size"] = harmonized.sum(axis=0).to_numpy()
    kept = mapping[mapping["kept"]]
    ids_per_symbol = kept.groupby("symbol")["input_id"].agg(lambda s: ";".join(sorted(s)))
    status_per_symbol = kept.groupby("symbol")["status"].agg(lambda s: ";".join(sorted(set(s))))
    var = pd.DataFrame({"input_ids": ids_per_symbol.reindex(harmonized.index).to_numpy(), "id_status": status_per_symbol.reindex(harmonized.index).to_numpy()}, index=harmonized.index.astype(str))
    adata = ad.AnnData(X=harmonized.to_numpy(dtype=np.float64).T, obs=obs, var=var)
    adata.uns["cohort"] = cohort
    adata.uns["data_type"] = data_type
    adata.uns["endpoint"] = {"time": time or "", "event": event or ""}
    counts = mapping["status"].value_counts().to_dict()
    params = {
        "cohort": cohort, "expression": expression, "data_type": data_type, "gene_id": gene_id, "collapse": collapse, "time": time, "event": event,
        "platform_annotation": platform_annotation or "", "format": src.expr.info.get("format", fmt), "orientation": orientation, "platform": src.expr.platform or platform or "",
        "layer": layer or "", "sample_column": sample_column or "",
    }
    _set_provenance(
        adata,
        "ingest",
        provenance(
            params,
            inputs=src.files,
            id_status_counts=counts,
            n_input_rows=int(matrix.shape[0]),
            n_genes=int(harmonized.shape[0]),
            n_samples=int(harmonized.shape[1]),
            reader=src.expr.info,
            notes=src.notes,
        ),
    )
    write_table(mapping, out_mapping)
    write_sidecar(out_mapping, provenance({"cohort": cohort, "gene_id": gene_id, "collapse": collapse, "platform_annotation": platform_annotation or ""}, inputs=src.files, id_status_counts=counts))
    if out_clinical:
        table = clin.copy()
        table.index.name = "sample"
        write_table(table.reset_index(), out_clinical)
        write_sidecar(out_clinical, provenance({"cohort": cohort, **h, "time": time, "event": event, "endpoints": list(endpoints), "site_column": site_column or "", "sites": list(sites)}, inputs=[p for p, _ in src.clinical], harmonization=clin_record))
    _write_h5ad(adata, out_h5ad)
    log.info("ingest %s: %d input rows -> %d genes x %d samples; id status: %s; %d clinical column(s)", cohort, matrix.shape[0], harmonized.shape[0], harmonized.shape[1], counts, clin.shape[1])


def cell_scores_cohort(
    cohort: str,
    h5ad: str | Path,
    gene_id: str,
    sample_column: str,
    signature_files: Sequence[str],
    method: str,
    out_tsv: str | Path,
    *,
    layer: str | None = None,
    min_genes: int = 2,
    min_fraction: float = 0.5,
    params: dict | None = None,
) -> None:
    """Per-cell scores of a single-cell cohort: genes resolved to current HGNC symbols as in ingest (one column per
    symbol: the one with the most counts), scanpy-style per-cell normalization, the scoring engine."""
    import anndata as ad

    from .ids import representative_rows, resolve_ids
    from .single_cell import cell_scores
    from .signatures import load_signatures

    adata = ad.read_h5ad(h5ad)
    if sample_column not in adata.obs.columns:
        raise SeedsigError(f"single-cell file '{h5ad}' of cohort '{cohort}': no obs column '{sample_column}' (the sheet's sample_column). Columns are: {', '.join(map(str, adata.obs.columns))}.")
    res = resolve_ids(list(map(str, adata.var_names)), gene_id)
    kept = ~res["status"].isin(["unmapped", "ambiguous"]).to_numpy()
    symbols = res["symbol"].astype(str).to_numpy()
    x = adata.layers[layer] if layer else adata.layers["counts"] if "counts" in adata.layers else adata.X
    totals = np.asarray(x.sum(axis=0)).ravel()
    idx = np.flatnonzero(kept)
    rep = idx[representative_rows(symbols[idx], np.asarray(adata.var_names.astype(str))[idx], totals[idx])]
    sub = adata[:, rep].copy()
    sub.var_names = pd.Index(symbols[rep])
    sigs = load_signatures(signature_files)
    tables = cell_scores(sub, sigs, [method], layer=layer, min_genes=min_genes, min_fraction=min_fraction, params={method: dict(params or {})}, sample_column=sample_column)
    table = tables[method].copy()
    if "sample" not in table.columns:
        table.insert(0, "sample", sub.obs[sample_column].astype(str).reindex(table.index).to_numpy())
    table.index.name = "cell"
    write_table(table.reset_index(), out_tsv)
    write_sidecar(out_tsv, provenance({"method": method, "min_genes": min_genes, "min_fraction": min_fraction, "params": params or {}, "layer": layer or "", "sample_column": sample_column}, inputs=[str(h5ad), *map(str, signature_files)], cohort=cohort, n_cells=int(sub.n_obs), n_genes=int(sub.n_vars), normalization="scanpy normalize_total(target_sum=1e4) + log1p per cell"))
    log.info("cell_scores %s with %s: %d cells x %d signatures", cohort, method, table.shape[0], table.shape[1] - 1)


# ------------------------------------------------------------------------------------------- normalize
def normalize_cohort(
    in_h5ad: str | Path,
    out_h5ad: str | Path,
    method: str | Sequence[str],
    prior_count: float = 2.0,
    *,
    filter: dict | None = None,
    gene_lengths: str | None = None,
    pseudocount: float | None = None,
    size_factors: str = "auto",
) -> None:
    """Filter (counts) and normalize X; raw counts kept in ``layers['counts']``; method and parameters in ``uns``.

    ``filter``: ``{"method": "filter_by_expr" | "none", "min_count", "min_total_count", "large_n",
    "min_prop", "group"}`` (edgeR filterByExpr arguments; ``group`` a clinical column). The genes it
    removes are listed in ``uns['normalization']['filtered_genes']``, so the coverage table can say when
    a signature gene was filtered.
    """
    import anndata as ad

    from .normalize import filter_by_expr, match_lengths, normalize_matrix, parse_steps, read_gene_lengths

    adata = ad.read_h5ad(in_h5ad)
    cohort = adata.uns.get("cohort", "?")
    data_type = adata.uns.get("data_type", "counts")
    steps = parse_steps(method)
    where = f"cohort '{cohort}'"
    df = pd.DataFrame(np.asarray(adata.X).T, index=adata.var_names, columns=adata.obs_names)
    record: dict[str, Any] = {"method": "+".join(steps), "steps": list(steps), "data_type": data_type}
    filtered: list[str] = []
    filt = dict(filter or {})
    if data_type == "counts" and filt.get("method", "none") == "filter_by_expr":
        group = None
        gcol = filt.get("group") or ""
        if gcol:
            if gcol not in adata.obs.columns:
                log.warning("normalize %s: filter group column '%s' is not in the clinical table; filtering without groups", cohort, gcol)
            else:
                g = adata.obs[gcol]
                if g.isna().any():
                    raise SeedsigError(f"{where}: the filter group column '{gcol}' is missing for sample(s) {', '.join(map(str, g.index[g.isna()][:5]))}. Give every sample a group or set normalize.filter.group to ''.")
                group = g.astype(str).to_numpy()
        keep = filter_by_expr(df.to_numpy(), group, min_count=filt.get("min_count", 10), min_total_count=filt.get("min_total_count", 15), large_n=filt.get("large_n", 10), min_prop=filt.get("min_prop", 0.7))
        if not keep.any():
            raise SeedsigError(f"{where}: the low-expression filter (edgeR filterByExpr) removes every gene. Lower normalize.filter.min_count or set normalize.filter.method to none.")
        filtered = list(map(str, df.index[~keep]))
        adata = adata[:, keep].copy()
        df = df.loc[keep]
        adata.obs["library_size_filtered"] = df.sum(axis=0).to_numpy()  # what normalization uses (edgeR keep.lib.sizes=FALSE)
        record["filter"] = {"method": "filter_by_expr", "reference": "edgeR filterByExpr; library sizes recomputed after filtering (keep.lib.sizes=FALSE)", **{k: filt.get(k) for k in ("min_count", "min_total_count", "large_n", "min_prop", "group")}, "n_removed": len(filtered), "n_kept": int(keep.sum())}
        log.info("normalize %s: filterByExpr kept %d of %d genes", cohort, int(keep.sum()), len(keep))
    else:
        record["filter"] = {"method": "none"}
    lengths = None
    if "tpm" in steps:
        if not gene_lengths:
            raise SeedsigError(f"{where}: normalization 'tpm' needs gene lengths: set normalize.gene_lengths in the config to the GTF (or a two-column table id, length) the counts were made with.")
        table = read_gene_lengths(gene_lengths)
        ids = adata.var["input_ids"].astype(str).tolist() if "input_ids" in adata.var else [""] * adata.n_vars
        keys = [i.split(";") if i and i != "nan" else [] for i in ids]
        lengths = match_lengths(keys, table, fallback=list(map(str, adata.var_names)))
        record["gene_lengths"] = str(gene_lengths)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out, info = normalize_matrix(df, steps, data_type=data_type, prior_count=prior_count, gene_lengths=lengths, pseudocount=pseudocount, size_factors=size_factors, where=where)
    for w in caught:
        log.warning("normalize %s: %s", cohort, w.message)
    if len(out.index) < adata.n_vars:  # TPM: genes without a length left out
        adata = adata[:, adata.var_names.isin(out.index)].copy()
    if data_type == "counts":
        adata.layers["counts"] = np.asarray(adata.X).copy()
    adata.X = out.loc[adata.var_names].to_numpy().T
    for key in ("prior_count", "pseudocount", "size_factor_type", "vst", "values_raised_before_log2", "genes_without_length", "reference"):
        if key in info:
            record[key] = info[key]
    record["filtered_genes"] = filtered
    from .io import to_jsonable

    adata.uns["normalization"] = {k: (json.dumps(to_jsonable(v)) if isinstance(v, dict) else v) for k, v in record.items() if k != "filtered_genes"}
    adata.uns["normalization"]["filtered_genes"] = np.asarray(filtered, dtype=object) if filtered else np.asarray([], dtype=str)
    for key, col in (("norm_factors", "norm_factor"), ("size_factors", "size_factor")):
        if key in info:
            adata.obs[col] = pd.Series(info[key]).reindex(adata.obs_names).to_numpy()
    _set_provenance(
        adata,
        "normalize",
        provenance({"method": "+".join(steps), "prior_count": prior_count, "filter": filt, "gene_lengths": gene_lengths or "", "pseudocount": pseudocount, "size_factors": size_factors}, inputs=[str(in_h5ad), *([gene_lengths] if gene_lengths else [])], reference=info.get("reference", "")),
    )
    _write_h5ad(adata, out_h5ad)
    log.info("normalize %s: %s on %d genes x %d samples", cohort, "+".join(steps), adata.n_vars, adata.n_obs)


# ----------------------------------------------------------------------------------------------- score
def expression_frame(h5ad: str | Path) -> tuple[pd.DataFrame, Any]:
    import anndata as ad

    adata = ad.read_h5ad(h5ad)
    return pd.DataFrame(np.asarray(adata.X).T, index=adata.var_names.astype(str), columns=adata.obs_names.astype(str)), adata


def score_cohort(h5ad: str | Path, signature_files: Sequence[str], method: str, out_tsv: str | Path, *, min_genes: int = 2, min_fraction: float = 0.5, params: dict | None = None) -> None:
    from .progress import Timer
    from .scoring import score
    from .signatures import load_signatures

    timer = Timer()
    expr, adata = expression_frame(h5ad)
    sigs = load_signatures(signature_files)
    with timer("score"):
        res = score(expr, sigs, method, min_genes=min_genes, min_fraction=min_fraction, params=params)
    table = res.scores.copy()
    table.index.name = "sample"
    write_table(table.reset_index(), out_tsv)
    write_sidecar(
        out_tsv,
        provenance(
            res.provenance(),
            inputs=[str(h5ad), *map(str, signature_files)],
            cohort=adata.uns.get("cohort", ""),
            normalization=normalization_record(adata),
            signatures=[s.metadata() for s in sigs],
        ),
    )
    log.info("score %s with %s: %d samples x %d signatures (%d not scored) in %s", adata.uns.get("cohort", ""), method, table.shape[0], table.shape[1], int((~res.coverage["scored"]).sum()), timer.fmt("score"))


# columns the pipeline adds to coverage.tsv and signature_qc.tsv (after the scoring engine's columns)
EXTRA_COVERAGE_COLUMNS = ("filtered_genes", "not_expressed_genes")


def normalization_record(adata) -> dict:
    """The normalization record of an AnnData for a sidecar (the filtered genes as a count)."""
    rec = {k: v for k, v in dict(adata.uns.get("normalization", {})).items() if k != "filtered_genes"}
    rec["n_filtered_genes"] = int(len(np.asarray(adata.uns.get("normalization", {}).get("filtered_genes", []))))
    for k, v in list(rec.items()):
        if isinstance(v, np.ndarray):
            rec[k] = v.tolist()
        elif isinstance(v, str) and v.startswith("{"):
            try:
                rec[k] = json.loads(v)
            except ValueError:
                pass
    return rec


def coverage_cohort(h5ad: str | Path, signature_files: Sequence[str], out_tsv: str | Path, out_qc: str | Path | None = None, *, min_genes: int = 2, min_fraction: float = 0.5) -> None:
    """coverage.tsv (genes present per signature) and signature_qc.tsv (coverage + coherence)."""
    from .scoring import COVERAGE_COLUMNS, QC_COLUMNS, coherence_table
    from .signatures import load_signatures

    expr, adata = expression_frame(h5ad)
    sigs = load_signatures(signature_files)
    qc = coherence_table(expr, sigs, min_genes=min_genes, min_fraction=min_fraction)
    filtered = set(map(str, np.asarray(adata.uns.get("normalization", {}).get("filtered_genes", []))))
    silent = set()
    if "counts" in adata.layers:
        silent = set(adata.var_names[np.asarray(adata.layers["counts"]).sum(axis=0) == 0].astype(str))
    qc["filtered_genes"] = [";".join(g for g in s.genes if g in filtered) for s in sigs]
    qc["not_expressed_genes"] = [";".join(g for g in s.genes if g in silent) for s in sigs]
    reason = qc["reason"].fillna("").astype(str)
    lost = (~qc["scored"]) & (qc["filtered_genes"] != "")
    qc.loc[lost, "reason"] = reason[lost] + "; removed by the low-expression filter: " + qc.loc[lost, "filtered_genes"]
    record = provenance({"min_genes": min_genes, "min_fraction": min_fraction}, inputs=[str(h5ad), *map(str, signature_files)], cohort=adata.uns.get("cohort", ""))
    write_table(qc[[*COVERAGE_COLUMNS, *EXTRA_COVERAGE_COLUMNS]], out_tsv)
    write_sidecar(out_tsv, record)
    if out_qc:
        write_table(qc[[*QC_COLUMNS, *EXTRA_COVERAGE_COLUMNS]], out_qc)
        write_sidecar(out_qc, {**record, "coherence": "genes oriented by direction (down genes negated), standardized across samples; mean_inter_gene_r = mean off-diagonal Pearson r; cronbach_alpha = k r / (1 + (k - 1) r); gene_rest_r = each gene's r with the mean of the other genes"})
    log.info("coverage %s: %d signatures, %d not scored", adata.uns.get("cohort", ""), len(qc), int((~qc["scored"]).sum()))


# ------------------------------------------------------------------------------------------- associate
def read_scores(paths: dict[str, str | Path]) -> dict[str, pd.DataFrame]:
    return {m: pd.read_csv(p, sep="\t", index_col=0, dtype={0: str}) for m, p in paths.items()}


def covariate_frame(obs: pd.DataFrame, names: Sequence[str], cohort: str) -> tuple[pd.DataFrame | None, list[str]]:
    """The clinical covariates named in the config that the cohort has (samples x covariates), and a note
    for each one it lacks (skipped, never an error: cohorts differ in what they record)."""
    present = [c for c in names if c in obs.columns]
    notes = [f"covariate column '{c}' is not in the clinical table of cohort '{cohort}'" for c in names if c not in obs.columns]
    if not present:
        return None, notes
    df = obs[present].copy()
    for c in present:
        if isinstance(df[c].dtype, pd.CategoricalDtype):
            df[c] = df[c].astype(object)
    return df, notes


def method_params(scoring: dict, methods: Sequence[str]) -> dict[str, dict]:
    return {m: dict(scoring.get(m) or {}) for m in methods}


def associate_cohort(
    h5ad: str | Path,
    score_files: dict[str, str | Path],
    signature_files: Sequence[str],
    focal: Sequence[str],
    targets: Sequence[str],
    out_correlations: str | Path,
    out_prerank: str | Path,
    *,
    settings: dict | None = None,
    scoring: dict | None = None,
) -> None:
    """correlations.tsv: each focal score vs each target, per method and statistic, with CIs, overlap,
    the leave-shared-genes-out correlation, the random-signature null and the partial correlation;
    prerank.tsv: gseapy prerank of the targets on genes ranked by their correlation with each focal score."""
    from .associate import correlation_table
    from .config import ASSOCIATE_DEFAULTS, PRERANK_DEFAULTS
    from .prerank import PRERANK_COLUMNS, prerank_table
    from .progress import Timer, progress
    from .signatures import load_signatures

    timer = Timer()
    st = {**ASSOCIATE_DEFAULTS, **(settings or {})}
    pre = {**PRERANK_DEFAULTS, **(st.get("prerank") or {})}
    scoring = dict(scoring or {})
    expr, adata = expression_frame(h5ad)
    cohort = adata.uns.get("cohort", "")
    sigs = load_signatures(signature_files)
    scores = read_scores(score_files)
    cov, cov_notes = covariate_frame(adata.obs, st["covariates"], cohort)
    for n in cov_notes:
        log.warning("associate %s: %s: r_partial is not adjusted for it", cohort, n)
    table, info = correlation_table(
        expr,
        scores,
        sigs,
        list(focal),
        list(targets),
        statistics=tuple(st["statistics"]),
        n_bootstrap=int(st["n_bootstrap"]),
        n_random=int(st["n_random"]),
        seed=int(st["seed"]),
        covariates=cov,
        proliferation=bool(st["proliferation"]),
        min_genes=int(scoring.get("min_genes", 2)),
        min_fraction=float(scoring.get("min_fraction", 0.5)),
        method_params=method_params(scoring, list(scores)),
        min_samples=int(st["min_samples"]),
        timer=timer,
    )
    floor, n_samples = int(st["min_samples"]), int(info["samples"])
    keys = ("statistics", "n_bootstrap", "n_random", "seed", "proliferation", "covariates", "min_samples")
    params = {k: st[k] for k in keys}
    write_table(table, out_correlations)
    write_sidecar(out_correlations, provenance({**params, "focal": list(focal), "targets": list(targets)}, inputs=[str(h5ad), *map(str, score_files.values()), *map(str, signature_files)], cohort=cohort, info=info, covariate_notes=cov_notes))
    log.info("associate %s: %d correlation rows (%d focal x %d targets x %d methods x %d statistics)", cohort, len(table), len(focal), len(targets), len(scores), len(st["statistics"]))

    thin = n_samples < floor
    if thin:
        log.warning(
            "associate %s: %d sample(s), fewer than associate.min_samples = %d: no correlation tested "
            "(r, p, q NA with a note); bootstrap, random null and prerank skipped",
            cohort, n_samples, floor,
        )
    elif info["n_below_min_samples"]:
        log.warning(
            "associate %s: %d correlation row(s) with fewer than associate.min_samples = %d samples with both scores: "
            "not tested",
            cohort, info["n_below_min_samples"], floor,
        )
    parts, note = [], ""
    if thin:
        note = f"{n_samples} sample(s) in the cohort, fewer than associate.min_samples = {floor}: prerank not run"
    elif pre["enabled"]:
        for m, sc in progress(list(scores.items()), desc=f"prerank, {int(pre['permutations'])} permutations (method)", unit="method"):
            with timer("prerank"):
                res = prerank_table(
                    expr, sc, list(focal), sigs, statistic=pre["statistic"], permutations=int(pre["permutations"]),
                    seed=int(st["seed"]), min_size=int(pre["min_size"]),
                    exclude_focal_genes=bool(pre["exclude_focal_genes"]), min_samples=floor,
                )
            res.insert(0, "method", m)
            parts.append(res)
    else:
        note = "prerank disabled in the config (associate.prerank.enabled: false)"
    pr = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["method", *PRERANK_COLUMNS])
    write_table(pr, out_prerank)
    pre_params = {**pre, "seed": int(st["seed"]), "min_samples": floor}
    write_sidecar(
        out_prerank,
        provenance(
            pre_params, inputs=[str(h5ad), *map(str, score_files.values())], cohort=cohort, note=note,
            reference="gseapy prerank (Subramanian et al. 2005) on genes ranked by their correlation with the focal "
            "score",
        ),
    )
    n_focal = len({f for seeds in info.get("random_null_seeds", {}).values() for f in seeds})
    n_spearman = int(((table["statistic"] == "spearman") & table["r"].notna()).sum())
    log.info(
        "associate %s: %d correlation rows; random null B=%d for %d focal x %d methods in %s; bootstrap B=%d for %d Spearman rows in %s; prerank %s; %s in all",
        cohort, len(table), int(st["n_random"]), n_focal, len(scores), timer.fmt("random_null"), int(st["n_bootstrap"]), n_spearman, timer.fmt("bootstrap"),
        f"{len(pr)} rows for {len(parts)} method(s) in {timer.fmt('prerank')}" if parts
        else ("skipped (too few samples)" if thin else "disabled"),
        timer.fmt(),
    )


# -------------------------------------------------------------------------------------------- survival
KM_KEYS = ("method", "signature", "endpoint", "cut")


def _endpoint_values(obs: pd.DataFrame, time: str, event: str, cohort: str) -> tuple[pd.Series | None, pd.Series | None, str]:
    """Numeric time and 0/1 event of an endpoint, or a note saying why the endpoint cannot be used."""
    missing = [c for c in (time, event) if c not in obs.columns]
    if missing:
        return None, None, f"column(s) {', '.join(repr(c) for c in missing)} not in the clinical table of cohort '{cohort}': endpoint skipped"
    raw_t = obs[time].astype(object)
    t = pd.to_numeric(raw_t, errors="coerce")
    bad = t.isna() & raw_t.notna()
    if bad.any():
        return None, None, f"clinical column '{time}' has non-numeric time(s) such as {raw_t[bad].iloc[0]!r} (sample {raw_t.index[bad][0]}): endpoint skipped; times must be numbers (NA for unknown)"
    if (t < 0).any():
        return None, None, f"clinical column '{time}' has negative time(s) (sample {t.index[t < 0][0]}): endpoint skipped"
    raw_e = obs[event].astype(object)
    e = raw_e.map(lambda v: EVENT_CODES.get(str(v).strip().lower()) if pd.notna(v) else np.nan).astype(float)
    bad = e.isna() & raw_e.notna()
    if bad.any():
        return None, None, f"clinical column '{event}' has event value(s) {sorted({str(v) for v in raw_e[bad]})[:5]} that are not 1/0 or TRUE/FALSE: endpoint skipped"
    return t.astype(float), e, ""


def complete_cases(score: pd.Series, time: pd.Series, event: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Score, time and event aligned on the score's samples, and the mask of samples where all three are known."""
    x = score.to_numpy(dtype=float)
    t = time.reindex(score.index).to_numpy(dtype=float)
    e = event.reindex(score.index).to_numpy(dtype=float)
    return x, t, e, np.isfinite(x) & np.isfinite(t) & np.isfinite(e)


def relapse_sites(obs: pd.DataFrame, column: str, sites: Sequence[str], event: pd.Series) -> pd.Series:
    """Site of first relapse per sample, harmonized: one of ``sites`` (case-insensitive), 'other' for any
    other value, 'unknown' for an event without a site, '' for samples without an event."""
    raw = obs[column].astype(object)
    low = raw.map(lambda v: str(v).strip().lower() if pd.notna(v) and str(v).strip() not in ("", "NA", "nan") else "")
    wanted = {s.lower(): s for s in sites}
    site = low.map(lambda v: wanted.get(v, "other" if v else ""))
    ev = event.reindex(obs.index) == 1
    site = site.where(ev, "")
    return site.mask(ev & (site == ""), "unknown")


def survival_cohort(
    h5ad: str | Path,
    score_files: dict[str, str | Path],
    signature_files: Sequence[str],
    focal: Sequence[str],
    outputs: dict[str, str | Path],
    *,
    settings: dict | None = None,
    scoring: dict | None = None,
) -> None:
    """survival.tsv (Cox per SD, univariate and adjusted, concordance, PH test, random-signature null),
    km.tsv and logrank.tsv (focal scores in groups at pre-set cut-points), cumulative_incidence.tsv
    (site of first relapse, Aalen-Johansen by score group). ``outputs``: keys survival, km, logrank, incidence."""
    from .config import RELAPSE_DEFAULTS, SURVIVAL_DEFAULTS
    from .curves import AJ_COLUMNS, KM_COLUMNS, LOGRANK_COLUMNS, aalen_johansen, cut_groups, kaplan_meier, logrank
    from .progress import Timer, progress
    from .signatures import load_signatures
    from .survival import SURVIVAL_COLUMNS, cox_table

    timer = Timer()
    st = {**SURVIVAL_DEFAULTS, **(settings or {})}
    rs = {**RELAPSE_DEFAULTS, **(st.get("relapse_site") or {})}
    floor = int(st["min_samples"])
    scoring = dict(scoring or {})
    expr, adata = expression_frame(h5ad)
    obs = adata.obs
    cohort = adata.uns.get("cohort", "")
    endpoint = dict(adata.uns.get("endpoint", {}))
    sigs = {s.name: s for s in load_signatures(signature_files)}
    scores = read_scores(score_files)
    notes: list[str] = []

    # endpoints: the sheet's primary one, then the configured ones
    endpoints: list[tuple[str, str, str, str]] = []  # (label, time, event, kind)
    primary_label = ""
    if endpoint.get("time") and endpoint.get("event"):
        primary_label = f"{endpoint['time']}/{endpoint['event']}"
        endpoints.append((primary_label, endpoint["time"], endpoint["event"], "primary"))
    else:
        notes.append("no endpoint given in the cohort sheet (time/event columns): no primary survival model")
    for e in st["endpoints"]:
        endpoints.append((e["name"], e["time"], e["event"], "secondary"))
    cov, cov_notes = covariate_frame(obs, st["covariates"], cohort)
    rows, km_parts, lr_rows, aj_parts = [], [], [], []
    cut = st["cut_points"]
    cut_label = cut if isinstance(cut, str) else "values:" + ",".join(f"{v:g}" for v in cut)
    null_cache: dict[tuple[str, str], np.ndarray | None] = {}
    null_notes: dict[str, str] = {}
    null_fits = [0]  # univariate Cox rows tested against the random null
    thin: list[str] = []  # endpoints with fewer samples than survival.min_samples

    def note_rows(label: str, model: str, note: str, covs: str = "") -> list[dict]:
        return [{"method": m, "signature": g, "endpoint": label, "n": 0, "events": 0, "note": note, "model": model, "covariates": covs} for m, t in scores.items() for g in t.columns]

    def fit_endpoint(label: str, time: pd.Series, event: pd.Series) -> None:
        with timer("cox"):
            tab = cox_table(scores, time, event, label, covariates=cov, min_samples=floor)
        if cov_notes and st["covariates"]:
            if cov is None:
                tab = pd.concat([tab, pd.DataFrame(note_rows(label, "adjusted", "; ".join(cov_notes) + ": adjusted model not fitted", ";".join(st["covariates"])))], ignore_index=True)
            else:
                adj = tab["model"] == "adjusted"
                tab.loc[adj, "note"] = tab.loc[adj, "note"].fillna("").astype(str).map(lambda s: "; ".join(x for x in (s, "; ".join(cov_notes) + ": not adjusted for it") if x))
        with timer("random_null"):
            tab["p_random_null"] = _random_null(tab, time, event, label)
        rows.append(tab)

    def _random_null(tab: pd.DataFrame, time: pd.Series, event: pd.Series, label: str) -> np.ndarray:
        from .survival import cox_univariate_many, random_null_p

        out = np.full(len(tab), np.nan)
        if int(st["n_random"]) <= 0:
            return out
        todo = [i for i, r in enumerate(tab.itertuples(index=False)) if r.model == "univariate" and np.isfinite(r.hr_per_sd)]
        null_fits[0] += len(todo)
        for i in progress(todo, desc=f"random null B={int(st['n_random'])} {label} (method x signature)", unit="sig"):
            method, signature = tab["method"].iat[i], tab["signature"].iat[i]
            sc = scores[method]
            null = _null_scores(method, signature, sc.index)
            if null is None:
                continue
            x, t, e, ok = complete_cases(sc[signature], time, event)
            b, se = cox_univariate_many(np.vstack([x[ok], null[:, ok]]), t[ok], e[ok].astype(int), min_samples=floor)
            z = b / se
            out[i] = random_null_p(z[0], z[1:])
        return out

    def _null_scores(method: str, signature: str, samples: pd.Index) -> np.ndarray | None:
        from .associate import random_null_scores, stable_seed

        key = (method, signature)
        if key not in null_cache:
            try:
                seed = stable_seed(int(st["seed"]), "survival", method, signature)
                null_cache[key] = random_null_scores(expr[list(samples)], sigs[signature], method, int(st["n_random"]), seed, scoring.get(method) or {})
            except SeedsigError as exc:
                null_cache[key] = None
                null_notes[f"{method}/{signature}"] = str(exc)
        return null_cache[key]

    for label, tcol, ecol, kind in endpoints:
        time, event, why = _endpoint_values(obs, tcol, ecol, cohort)
        if why:
            rows.append(pd.DataFrame(note_rows(label, "univariate", why)))
            notes.append(f"endpoint {label}: {why}")
            continue
        fit_endpoint(label, time, event)
        n_follow = int((time.reindex(obs.index).notna() & event.reindex(obs.index).notna()).sum())
        if n_follow < floor:
            thin.append(f"{label}: {n_follow} sample(s) with follow-up")
        for m, sc in scores.items():
            for g in [f for f in focal if f in sc.columns]:
                x, t, e, ok = complete_cases(sc[g], time, event)
                keys = {"method": m, "signature": g, "endpoint": label, "cut": cut_label}
                if not ok.any() or (ok.sum() >= floor and np.nanstd(x[ok]) == 0):
                    lr_rows.append({**keys, "note": "score not available or constant"})
                    continue
                cg = cut_groups(x[ok], cut)
                lr = logrank(t[ok], e[ok], cg.labels, levels=cg.names, min_samples=floor)
                if ok.sum() >= floor:
                    km = kaplan_meier(t[ok], e[ok], cg.labels, levels=cg.names)
                    km_parts.append(km.assign(**keys)[[*KM_KEYS, *KM_COLUMNS]])
                else:
                    lr["note"] += "; no Kaplan-Meier curve or cumulative incidence"
                lr["note"] = "; ".join(x for x in (cg.note, lr.get("note") or "") if x)
                lr_rows.append({**keys, **{k: lr.get(k) for k in LOGRANK_COLUMNS}})
        # site of first relapse: cause-specific Cox per site, cumulative incidence by score group
        if kind == "primary":
            col = rs["column"]
            if not col:
                continue
            if col not in obs.columns:
                notes.append(f"relapse-site column '{col}' is not in the clinical table of cohort '{cohort}': no site-specific analysis")
                continue
            site = relapse_sites(obs, col, rs["sites"], event)
            for s_name in list(rs["sites"]) + (["other"] if (site == "other").any() else []):
                ev_s = ((event == 1) & (site == s_name)).astype(float).where(event.notna())
                fit_endpoint(f"relapse:{s_name}", time, ev_s)
            n_unknown = int((site == "unknown").sum())
            if n_unknown:
                notes.append(f"{n_unknown} event(s) without a relapse site: censored in every cause-specific model, counted as cause 'unknown' in the cumulative incidence")
            for m, sc in scores.items():
                for g in [f for f in focal if f in sc.columns]:
                    x, t, e, ok = complete_cases(sc[g], time, event)
                    if ok.sum() < max(2, floor) or np.nanstd(x[ok]) == 0:
                        continue
                    cg = cut_groups(x[ok], cut)
                    cause = site.reindex(sc.index).to_numpy(dtype=object)[ok]
                    causes = [c for c in [*rs["sites"], "other", "unknown"] if c in set(cause) or c in rs["sites"]]
                    aj = aalen_johansen(t[ok], cause, cg.labels, causes=causes, levels=cg.names)
                    aj_parts.append(aj.assign(method=m, signature=g, endpoint=label, cut=cut_label)[[*KM_KEYS, *AJ_COLUMNS]])

    surv = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=list(SURVIVAL_COLUMNS))
    surv = surv.reindex(columns=list(SURVIVAL_COLUMNS))
    inputs = [str(h5ad), *map(str, score_files.values())]
    write_table(surv, outputs["survival"])
    write_sidecar(
        outputs["survival"],
        provenance(
            {
                "model": "Cox proportional hazards, HR per sample SD (n-1) of the score over the samples in the model",
                "ties": "efron", "covariates": list(st["covariates"]), "n_random": int(st["n_random"]),
                "seed": int(st["seed"]), "min_samples": floor,
                "endpoints": [{"name": a, "time": b, "event": c, "kind": d} for a, b, c, d in endpoints],
                "relapse_site": rs,
            },
            inputs=inputs,
            cohort=cohort,
            primary_endpoint=primary_label,
            note="; ".join([*notes, *(f"fewer than survival.min_samples = {floor} samples for {t}" for t in thin)]),
            covariate_notes=cov_notes,
            random_null="p_random_null = (b + 1) / (B + 1), b = random signatures (matched to the signature's size and genes' mean expression) whose univariate Cox |z| >= the signature's",
            random_null_unavailable=null_notes,
        ),
    )
    km = pd.concat(km_parts, ignore_index=True) if km_parts else pd.DataFrame(columns=[*KM_KEYS, *KM_COLUMNS])
    lr = pd.DataFrame(lr_rows).reindex(columns=[*KM_KEYS, *LOGRANK_COLUMNS])
    aj = pd.concat(aj_parts, ignore_index=True) if aj_parts else pd.DataFrame(columns=[*KM_KEYS, *AJ_COLUMNS])
    thin_notes = [f"fewer than survival.min_samples = {floor} samples for {t}: no test, no curve" for t in thin]
    curve_params = {"cut_points": cut, "focal": list(focal), "min_samples": floor}
    curve_record = provenance(curve_params, inputs=inputs, cohort=cohort, note="; ".join([*notes, *thin_notes]))
    for key, df in (("km", km), ("logrank", lr), ("incidence", aj)):
        write_table(df, outputs[key])
        write_sidecar(outputs[key], curve_record)
    if notes:
        log.info("survival %s: %s", cohort, "; ".join(notes))
    if thin:
        log.warning(
            "survival %s: fewer than survival.min_samples = %d samples (%s): "
            "no Cox model, log-rank test or curve for them",
            cohort, floor, "; ".join(thin),
        )
    log.info(
        "survival %s: %d Cox rows (%d endpoint(s) x %d methods) in %s; random null B=%d for %d univariate rows from %d method x signature score sets in %s; %d KM groups, %d log-rank tests, %d cumulative-incidence rows; %s in all",
        cohort, len(surv), int(surv["endpoint"].nunique()), len(scores), timer.fmt("cox"), int(st["n_random"]), null_fits[0], len(null_cache), timer.fmt("random_null"),
        km.groupby([*KM_KEYS, "group"]).ngroups if len(km) else 0, len(lr), len(aj), timer.fmt(),
    )


# ------------------------------------------------------------------------------------------------ meta
def meta_run(correlations: dict[str, str | Path], survival: dict[str, str | Path], out_correlations: str | Path, out_survival: str | Path) -> None:
    """Pool the per-cohort correlations (Fisher z) and hazard ratios (log HR) across cohorts: random effects
    (DerSimonian-Laird, Paule-Mandel) and fixed effect. The sheet's primary endpoints are pooled together as
    endpoint 'primary'; with one cohort nothing is pooled (header-only tables)."""
    from .io import sidecar_path
    from .meta import pool_correlations, pool_hazard_ratios

    corr = [pd.read_csv(p, sep="\t").assign(cohort=c) for c, p in correlations.items()]
    surv = []
    for c, p in survival.items():
        d = pd.read_csv(p, sep="\t").assign(cohort=c)
        side = sidecar_path(p)
        primary = json.loads(side.read_text()).get("primary_endpoint", "") if side.is_file() else ""
        if primary:
            d["endpoint"] = d["endpoint"].replace(primary, "primary")
        surv.append(d)
    note = "" if len(correlations) > 1 else "one cohort in the run: nothing to pool"
    mc = pool_correlations(pd.concat(corr, ignore_index=True)) if len(corr) > 1 else pool_correlations(corr[0].iloc[0:0])
    ms = pool_hazard_ratios(pd.concat(surv, ignore_index=True)) if len(surv) > 1 else pool_hazard_ratios(surv[0].iloc[0:0])
    record = dict(cohorts=list(correlations), note=note, reference="statsmodels combine_effects: random effects DerSimonian-Laird (random_dl) and Paule-Mandel (random_pm), fixed effect (fixed); checked against R metafor rma")
    write_table(mc, out_correlations)
    write_sidecar(out_correlations, provenance({"scale": "Fisher z = atanh(r), variance 1/(n-3) (Pearson) or 1.06/(n-3) (Spearman); estimates back-transformed to r"}, inputs=[str(p) for p in correlations.values()], **record))
    write_table(ms, out_survival)
    write_sidecar(out_survival, provenance({"scale": "log hazard ratio per SD, SE from the 95% Wald CI; estimates back-transformed to HR per SD", "primary": "the cohort sheet's time/event endpoint of each cohort is pooled as endpoint 'primary'"}, inputs=[str(p) for p in survival.values()], **record))
    log.info("meta: %d cohorts; %d pooled correlation rows, %d pooled survival rows%s", len(correlations), len(mc), len(ms), f" ({note})" if note else "")


# -------------------------------------------------------------------------------------- snakemake glue
def run_rule(snakemake: Any, func: Callable[[Any], None]) -> None:
    """Run a rule body with its log; a user mistake exits 1 with one message, no traceback on screen.

    The rule log gets every message (and the traceback of an unexpected error); the terminal gets the one-line
    summaries during the run. The message of a failure is not printed here: it is recorded
    (:func:`seedsig.failure.record_error`) and the Snakefile's ``onerror`` handler prints it once, after
    Snakemake's rule-error block.
    """
    import warnings

    log_path = snakemake.log[0] if len(snakemake.log) else None
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    handlers[0].setFormatter(logging.Formatter("seedsig: %(message)s"))
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        fh = logging.FileHandler(log_path, mode="w")
        fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        handlers.append(fh)
    logging.basicConfig(level=logging.INFO, handlers=handlers, force=True)
    logging.captureWarnings(True)
    warnings.simplefilter("default")
    wildcards = dict(snakemake.wildcards.items()) if hasattr(snakemake.wildcards, "items") else {}

    def _to_log_only(level: int, msg: str, *args: Any) -> None:
        logging.getLogger().removeHandler(handlers[0])  # the terminal gets the message once, from onerror
        log.log(level, msg, *args)

    try:
        func(snakemake)
    except SeedsigError as exc:
        _to_log_only(logging.ERROR, "error in rule %s: %s", snakemake.rule, exc)
        record_error(snakemake.rule, wildcards, str(exc))
        sys.exit(1)
    except Exception:
        name = sys.exc_info()[1].__class__.__name__
        where = f"the traceback is in {log_path}" if log_path else "no rule log to hold the traceback"
        msg = f"unexpected error in rule {snakemake.rule} ({name}); {where}. Please report it."
        # one record through the log's own handler (a second writer would overwrite the start of the file)
        _to_log_only(logging.ERROR, "%s\n%s", msg, traceback.format_exc().rstrip())
        record_error(snakemake.rule, wildcards, msg, unexpected=True)
        sys.exit(1)


# ---------------------------------------------------------------------------------------------- report
def report_run(
    cohorts: dict[str, str],
    out_html: str | Path,
    signature_files: Sequence[str],
    config: dict,
    focal: Sequence[str],
    primary_method: str,
    meta_dir: str | Path | None = None,
    *,
    figures_dir: str | Path | None = None,
    input_files: Sequence[tuple[str, str]] = (),
) -> None:
    """results/report.html (and every figure in ``figures_dir``); the summary uses ``primary_method`` when it was
    run, else the first scoring method. ``input_files``: (label, path) pairs whose sha256 the methods section lists."""
    from .report import build_report
    from .signatures import load_signatures

    methods = list(config.get("scoring", {}).get("methods", [primary_method]))
    primary = primary_method if primary_method in methods else methods[0]
    inputs = [*map(tuple, input_files), *(("signatures", f) for f in signature_files)]
    build_report(cohorts, out_html, signatures=load_signatures(signature_files), config=config, focal=tuple(focal), primary_method=primary, meta_dir=meta_dir, figures_dir=figures_dir, input_files=inputs)
    log.info("report: %s (%d cohort(s), summary method %s)", out_html, len(cohorts), primary)
