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
from .io import atomic_path, provenance, read_clinical, read_matrix, write_sidecar, write_table

log = logging.getLogger("seedsig")

EVENT_CODES = {"1": 1, "0": 0, "1.0": 1, "0.0": 0, "true": 1, "false": 0}


# ---------------------------------------------------------------------------------------------- ingest
def prepare_clinical(clin: pd.DataFrame, samples: Sequence[str], path: str, time: str | None, event: str | None) -> pd.DataFrame:
    """Validate a clinical table against the matrix samples and the endpoint columns; align to samples."""
    samples = pd.Index(samples)
    extra = clin.index.difference(samples)
    if len(clin.index.intersection(samples)) == 0:
        raise SeedsigError(
            f"clinical file '{path}': none of its sample ids (first column, e.g. '{clin.index[0]}') matches a sample column of the "
            f"expression matrix (e.g. '{samples[0]}'). The first column must hold the sample ids used as expression column names."
        )
    if len(extra):
        raise SeedsigError(
            f"clinical file '{path}': {len(extra)} sample(s) are not columns of the expression matrix: {', '.join(map(str, extra[:10]))}"
            f"{' ...' if len(extra) > 10 else ''}. Remove these rows or fix their ids."
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
    with atomic_path(path) as tmp:
        adata.write_h5ad(tmp)


def _set_provenance(adata, stage: str, record: dict) -> None:
    from .io import to_jsonable

    prov = dict(adata.uns.get("seedsig_provenance", {}))
    prov[stage] = json.dumps(to_jsonable(record))
    adata.uns["seedsig_provenance"] = prov


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
) -> None:
    """Read the matrix, harmonize gene ids to current HGNC symbols, join the clinical table -> AnnData.

    Rows whose values are all missing are removed (listed in gene_mapping.tsv and the log), never kept
    as NA rows. Counts are checked (no NA, no negative value, no zero library, not log-scale).
    """
    import anndata as ad

    from .ids import harmonize, resolve_ids
    from .normalize import check_counts, check_values

    where = f"cohort '{cohort}', expression file '{expression}'"
    matrix = read_matrix(expression, what=f"expression file of cohort '{cohort}'")
    if gene_id == "probe" and not platform_annotation:
        raise SeedsigError(f"cohort '{cohort}': gene_id is 'probe' but the sheet's platform_annotation column is empty. Give the platform annotation file (e.g. a GEO GPL table) that maps the probe ids to genes.")
    all_na = matrix.isna().all(axis=1).to_numpy()
    if all_na.all():
        raise SeedsigError(f"{where}: every value is NA.")
    kwargs = {}
    if gene_id == "probe":
        from .ids import read_platform_annotation

        kwargs["annotation"] = read_platform_annotation(platform_annotation)  # read once, used twice
    removed = pd.DataFrame(columns=["input_id", "symbol", "status", "detail", "kept"])
    if all_na.any():
        ids = list(matrix.index[all_na])
        log.warning("ingest %s: %d row(s) with every value missing removed (e.g. %s)", cohort, len(ids), ", ".join(ids[:5]))
        removed = resolve_ids(ids, gene_id, **kwargs)
        removed["detail"] = removed["detail"].astype(str) + "; every value missing (NA): row removed"
        removed["kept"] = False
        matrix = matrix.loc[~all_na]
    if data_type == "counts":
        n_frac = check_counts(matrix, where)
        if n_frac:
            log.warning("ingest %s: %d count value(s) are not whole numbers (e.g. RSEM expected counts): fine for edgeR methods; DESeq2 methods need integers", cohort, n_frac)
    else:
        check_values(matrix, where, data_type)
    harmonized, mapping = harmonize(matrix, gene_id, collapse=collapse if data_type == "counts" or collapse != "sum" else "max_mean", **kwargs)
    if len(removed):
        mapping = pd.concat([mapping, removed[mapping.columns]], ignore_index=True).sort_values("input_id", kind="mergesort").reset_index(drop=True)
    samples = list(map(str, harmonized.columns))
    if clinical:
        clin = prepare_clinical(read_clinical(clinical, what=f"clinical file of cohort '{cohort}'"), samples, clinical, time, event)
    else:
        clin = pd.DataFrame(index=pd.Index(samples, name="sample"))
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
    _set_provenance(
        adata,
        "ingest",
        provenance(
            {"cohort": cohort, "data_type": data_type, "gene_id": gene_id, "collapse": collapse, "time": time, "event": event, "platform_annotation": platform_annotation or ""},
            inputs=[p for p in (expression, clinical, platform_annotation) if p],
            id_status_counts=counts,
            n_input_rows=int(matrix.shape[0]),
            n_genes=int(harmonized.shape[0]),
            n_samples=int(harmonized.shape[1]),
        ),
    )
    write_table(mapping, out_mapping)
    write_sidecar(out_mapping, provenance({"cohort": cohort, "gene_id": gene_id, "collapse": collapse, "platform_annotation": platform_annotation or ""}, inputs=[p for p in (expression, platform_annotation) if p], id_status_counts=counts))
    _write_h5ad(adata, out_h5ad)
    log.info("ingest %s: %d input rows -> %d genes x %d samples; id status: %s", cohort, matrix.shape[0], harmonized.shape[0], harmonized.shape[1], counts)


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
    from .scoring import score
    from .signatures import load_signatures

    expr, adata = expression_frame(h5ad)
    sigs = load_signatures(signature_files)
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
    log.info("score %s with %s: %d samples x %d signatures (%d not scored)", adata.uns.get("cohort", ""), method, table.shape[0], table.shape[1], int((~res.coverage["scored"]).sum()))


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


def associate_cohort(h5ad: str | Path, score_files: dict[str, str | Path], focal: Sequence[str], targets: Sequence[str], out_correlations: str | Path, out_survival: str | Path) -> None:
    import anndata as ad

    from .associate import correlation_grid, cox_per_sd

    adata = ad.read_h5ad(h5ad, backed="r")
    obs = adata.obs.copy()
    endpoint = dict(adata.uns.get("endpoint", {}))
    cohort = adata.uns.get("cohort", "")
    adata.file.close()
    scores = read_scores(score_files)
    focal = [f for f in focal]
    corr = correlation_grid(scores, focal, list(targets))
    write_table(corr, out_correlations)
    write_sidecar(
        out_correlations,
        provenance({"statistic": "spearman", "focal": list(focal), "targets": list(targets), "multiple_testing": "Benjamini-Hochberg over every row of this table (all methods x focal x target pairs)"}, inputs=[str(p) for p in score_files.values()], cohort=cohort),
    )
    time, event = endpoint.get("time", ""), endpoint.get("event", "")
    if time and event:
        surv = cox_per_sd(scores, obs[time].astype(float), obs[event].astype(float), endpoint=f"{time}/{event}")
        note = ""
    else:
        from .associate import SURVIVAL_COLUMNS

        surv = pd.DataFrame(columns=list(SURVIVAL_COLUMNS))
        note = "no endpoint given in the cohort sheet (time/event columns): no survival model was fitted"
    write_table(surv, out_survival)
    write_sidecar(
        out_survival,
        provenance({"model": "Cox proportional hazards, one score per model, HR per sample SD (n-1) of the score", "ties": "efron", "time": time, "event": event}, inputs=[str(h5ad)], cohort=cohort, note=note),
    )
    log.info("associate %s: %d correlations, %d survival rows", cohort, len(corr), len(surv))


# -------------------------------------------------------------------------------------- snakemake glue
def run_rule(snakemake: Any, func: Callable[[Any], None]) -> None:
    """Run a rule body with its log; a user mistake exits 1 with one message, no traceback on screen.

    The rule log gets every message (and the traceback of an unexpected error); the terminal gets
    the one-line summaries and the error message.
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
    try:
        func(snakemake)
    except SeedsigError as exc:
        log.error("error in rule %s: %s", snakemake.rule, exc)
        sys.exit(1)
    except Exception:
        if log_path:
            with open(log_path, "a") as fh_:
                fh_.write(traceback.format_exc())
        log.error("unexpected error in rule %s (%s); the traceback is in %s. Please report it.", snakemake.rule, sys.exc_info()[1].__class__.__name__, log_path)
        sys.exit(1)


# ---------------------------------------------------------------------------------------------- report
def report_run(cohorts: dict[str, str], out_html: str | Path, signature_files: Sequence[str], config: dict, focal: Sequence[str], primary_method: str) -> None:
    from .report import build_report
    from .signatures import load_signatures

    methods = list(config.get("scoring", {}).get("methods", [primary_method]))
    primary = primary_method if primary_method in methods else methods[0]
    build_report(cohorts, out_html, signatures=load_signatures(signature_files), config=config, focal=tuple(focal), primary_method=primary)
    log.info("report: %s (%d cohort(s), summary method %s)", out_html, len(cohorts), primary)
