"""The notebook face of seedsig (scverse style): ``score``, ``contributions``, ``associate``, ``survival``.

The same code paths as the pipeline and the CLI, called on objects in memory:

* :func:`score` checks the matrix as ``seedsig score`` does (:func:`seedsig.ingest.checks.check_expression`) and
  calls :func:`seedsig.scoring.methods.score`; for an AnnData it writes the scores to
  ``adata.obsm[f"seedsig_{method}"]`` and the coverage table and parameters to ``adata.uns[f"seedsig_{method}"]``.
* :func:`associate` calls :func:`seedsig.association.correlation.correlation_table` as the pipeline's associate step
  does.
* :func:`survival` calls :func:`seedsig.outcome.cox.cox_table` as the pipeline's survival step does (its Cox part).

Both return a :class:`~seedsig.core.results.Result`: ``.to_frame()`` is the table the library function gave (the
README's columns), ``.summary()`` a fixed-width text table. Defaults not given here are the pipeline's: the config
schema's (:mod:`seedsig.core.settings`).
Nothing the caller passes is modified, except that :func:`score` adds its entries to the AnnData it is given.
``import seedsig`` does not import this module (it is loaded on the first use of ``seedsig.score``).
"""

from __future__ import annotations

import re
import sys
import tempfile
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from seedsig.association.correlation import correlation_table
from seedsig.core.errors import SeedsigError
from seedsig.core.results import Result, Summary
from seedsig.core.settings import ASSOCIATE_DEFAULTS, SCORING_DEFAULTS, SURVIVAL_DEFAULTS
from seedsig.ingest.checks import check_expression
from seedsig.ingest.formats import h5ad_values
from seedsig.ingest.ids import resolve_ids
from seedsig.outcome.cox import cox_table
from seedsig.scoring.contributions import contributions as _contributions
from seedsig.scoring.methods import score as _score_matrix
from seedsig.scoring.reference import Reference, as_reference, save_reference, score_with_reference
from seedsig.scoring.reference import build_reference as _build_reference
from seedsig.scoring.signatures import Signature, load_signatures

UNS_PREFIX = "seedsig_"  # obsm / uns key: f"seedsig_{method}"
DICT_SOURCE = "signatures dict"


# ------------------------------------------------------------------------------------------ inputs
def _is_anndata(obj: Any) -> bool:
    """An AnnData, recognised without importing anndata (``import seedsig`` stays light)."""
    ad = sys.modules.get("anndata")
    return ad is not None and isinstance(obj, ad.AnnData)


def _unique_names(names: pd.Index, where: str, what: str) -> None:
    dup = names[names.duplicated()].unique().tolist()
    if dup:
        raise SeedsigError(
            f"{where}: duplicated {what} {', '.join(map(str, dup[:10]))}. Make them unique (e.g. AnnData's "
            f"{'obs' if what == 'sample ids' else 'var'}_names_make_unique) or remove the duplicates."
        )


def _anndata_matrix(adata, layer: str | None) -> tuple[pd.DataFrame, str]:
    """genes x samples float64 DataFrame of an AnnData (samples x genes) from X or ``layers[layer]``."""
    import scipy.sparse as sp

    if layer is not None and layer not in adata.layers:
        known = ", ".join(map(str, adata.layers.keys())) or "none (layer=None uses X)"
        raise SeedsigError(f"AnnData has no layer '{layer}'. Layers are: {known}.")
    where = "AnnData " + (f"layers['{layer}']" if layer else "X")
    x, _ = h5ad_values(adata, layer, where)
    dense = x.toarray() if sp.issparse(x) else np.asarray(x)
    if not np.issubdtype(dense.dtype, np.number) or np.issubdtype(dense.dtype, np.bool_):
        raise SeedsigError(f"{where} holds {dense.dtype} values, not numbers.")
    genes = pd.Index(adata.var_names.astype(str), name="gene_id")
    samples = pd.Index(adata.obs_names.astype(str))
    _unique_names(samples, where, "sample ids")
    _unique_names(genes, where, "gene ids")
    return pd.DataFrame(dense.T.astype(np.float64), index=genes, columns=samples), f"{where} (samples x genes)"


def _matrix(data: Any, layer: str | None) -> tuple[pd.DataFrame, str]:
    """The genes x samples matrix of ``data`` (AnnData samples x genes, or a genes x samples DataFrame)."""
    if _is_anndata(data):
        return _anndata_matrix(data, layer)
    if isinstance(data, pd.DataFrame):
        if layer is not None:
            raise SeedsigError("layer= picks a layer of an AnnData; a DataFrame has none: leave layer=None.")
        where = "expression DataFrame (genes x samples)"
        try:
            values = data.to_numpy(dtype=np.float64)
        except (TypeError, ValueError):
            bad = [str(c) for c in data.columns if not pd.api.types.is_numeric_dtype(data[c])]
            raise SeedsigError(f"{where}: column(s) {', '.join(bad[:5])} are not numeric.") from None
        matrix = pd.DataFrame(
            values, index=pd.Index(data.index.astype(str), name="gene_id"), columns=pd.Index(data.columns.astype(str))
        )
        _unique_names(matrix.columns, where, "sample ids")
        _unique_names(matrix.index, where, "gene ids")
        return matrix, where
    raise SeedsigError(
        f"data is a {type(data).__name__}: give an AnnData (samples x genes) or a pandas DataFrame (genes x samples)."
    )


def _dict_signatures(sets: Mapping) -> list[Signature]:
    """Signatures from a dict name -> genes (list of symbols) or name -> {gene: direction}, read by the signature
    file reader (:func:`seedsig.scoring.signatures.load_signatures`: directions, alias resolution, duplicate genes)
    from a temporary project-format TSV, so that a dict and a file give the same Signature objects."""
    rows: list[tuple[str, str, str]] = []
    for name, genes in sets.items():
        if isinstance(genes, Signature):
            raise SeedsigError(
                f"{DICT_SOURCE}: '{name}' is a Signature object: pass it in a list, not as a dict value."
            )
        if isinstance(genes, Mapping):
            items = [(str(g), "" if d is None else str(d)) for g, d in genes.items()]
        elif isinstance(genes, (str, bytes)) or not isinstance(genes, Iterable):
            raise SeedsigError(
                f"{DICT_SOURCE}: the genes of '{name}' must be a list of gene symbols or a dict gene -> direction "
                f"(up/down), not {type(genes).__name__} {genes!r}."
            )
        else:
            items = [(str(g), "up") for g in genes]
        if not items:
            raise SeedsigError(f"{DICT_SOURCE}: signature '{name}' has no gene. Give at least one gene symbol.")
        rows.extend((str(name), g, d) for g, d in items)
    if not rows:
        raise SeedsigError(f"{DICT_SOURCE} is empty: give at least one signature name -> genes.")
    with tempfile.TemporaryDirectory(prefix="seedsig-signatures-") as tmp:
        path = Path(tmp) / "signatures.tsv"
        pd.DataFrame(rows, columns=["signature", "gene", "direction"]).to_csv(path, sep="\t", index=False)
        try:
            sigs = load_signatures(path)
        except SeedsigError as exc:  # name the dict entry, not the temporary file

            def entry(m: re.Match) -> str:
                name, gene, _ = rows[int(m.group(1)) - 2]
                return f"{DICT_SOURCE}, signature '{name}', gene '{gene}'"

            msg = re.sub(rf"signature file '{re.escape(str(path))}', line (\d+)", entry, str(exc))
            raise SeedsigError(msg.replace(f"signature file '{path}'", DICT_SOURCE)) from None
    return [replace(s, source=DICT_SOURCE) for s in sigs]


def _signatures(signatures: Any) -> list[Signature]:
    """Signature objects from paths (TSV/GMT), a dict, Signature objects, or a list mixing them."""
    items = list(signatures) if isinstance(signatures, (list, tuple)) else [signatures]
    if not items:
        raise SeedsigError("signatures is empty: give signature file paths, a dict name -> genes or Signature objects.")
    if all(isinstance(i, (str, Path)) for i in items):
        return load_signatures(items)  # as seedsig score --signatures
    out: list[Signature] = []
    for item in items:
        if isinstance(item, (str, Path)):
            out.extend(load_signatures(item))
        elif isinstance(item, Signature):
            out.append(item)
        elif isinstance(item, Mapping):
            out.extend(_dict_signatures(item))
        else:
            raise SeedsigError(
                f"signatures: {type(item).__name__} {item!r} is not a file path, a dict name -> genes or a Signature."
            )
    where: dict[str, str] = {}
    for s in out:
        if s.name in where:
            raise SeedsigError(
                f"signature '{s.name}' is defined twice: in '{where[s.name]}' and in '{s.source or 'a Signature'}'. "
                "Rename one of them."
            )
        where[s.name] = s.source or "a Signature"
    return out


def _h5ad_safe(df: pd.DataFrame) -> pd.DataFrame:
    """A copy whose object columns are strings (h5ad stores a column of one type)."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = out[c].astype(str)
    return out


# ------------------------------------------------------------------------------------------- score
def _checked_input(
    data: Any, signatures: Any, layer: str | None, gene_id: str, platform_annotation: Any, command: str = "score"
) -> tuple[list[Signature], pd.DataFrame, list[str]]:
    """The signatures, the genes x samples matrix and its rows' symbols, checked as ``seedsig score`` checks them
    (warnings as :class:`UserWarning`)."""
    sigs = _signatures(signatures)
    matrix, where = _matrix(data, layer)
    annotation = platform_annotation if gene_id == "probe" else None
    if gene_id == "probe" and platform_annotation is None:
        raise SeedsigError("gene_id='probe' needs platform_annotation= (a GEO GPL table or .annot file, or its table).")
    checked = check_expression(
        matrix, where, "log_expression", gene_id, annotation=annotation, orientation=None, command=command
    )
    for message in checked.warnings:
        warnings.warn(message, UserWarning, stacklevel=3)
    return sigs, matrix, checked.mapping["symbol"].tolist()


def score(
    data: Any,
    signatures: Any,
    method: str = "ssgsea",
    *,
    layer: str | None = None,
    gene_id: str = "symbol",
    min_genes: int = SCORING_DEFAULTS["min_genes"],
    min_fraction: float = SCORING_DEFAULTS["min_fraction"],
    platform_annotation: str | Path | pd.DataFrame | None = None,
    threads: int | None = None,
    reference: str | Path | Reference | None = None,
    **params: Any,
) -> pd.DataFrame:
    """Score signatures in every sample; the numbers of ``seedsig score`` on the same matrix.

    ``data``: an AnnData (samples x genes; ``layer`` picks ``layers[layer]`` instead of X) or a genes x samples
    DataFrame, of log-scale expression. Its row ids are genes as ``gene_id`` says (symbol, ensembl, entrez, refseq,
    or probe with ``platform_annotation``); they are checked as the CLI checks them (infinite values, a transposed
    matrix, raw counts or un-logged values, ids that do not map: :class:`SeedsigError`; warnings as
    :class:`UserWarning`), and every row is scored as given.
    ``signatures``: a path or a list of paths of TSV/GMT files, a dict name -> list of symbols (or name ->
    {gene: "up"/"down"}), Signature objects, or a list mixing them. ``method``: one of
    :data:`seedsig.scoring.methods.SCORING_METHODS`; ``**params``: its parameters (e.g. ``alpha=0.25`` for ssgsea,
    ``random_state=0`` for score_genes). A signature with fewer than ``min_genes`` genes or ``min_fraction`` of
    its genes measured is not scored (NA column; the coverage table says why, and a warning names it). ``threads``:
    threads for ranking and scoring (None: every core; the scores do not depend on it).

    Returns the scores, samples x signatures. For an AnnData the same table (index = obs_names) is also written to
    ``adata.obsm[f"seedsig_{method}"]`` and ``adata.uns[f"seedsig_{method}"]`` gets ``coverage`` (the coverage
    table), ``params`` (the method's parameters), ``method``, ``single_sample``, ``min_genes``, ``min_fraction``,
    ``gene_id``, ``layer`` and ``signatures`` (signature, gene, direction, organ; for :func:`associate`): h5ad types.
    The returned DataFrame carries what :func:`associate` needs in ``.attrs["seedsig"]``.
    ``reference``: a saved reference file (``.npz``, see :func:`build_reference`) or a :class:`Reference` of
    ``method``: the cohort-relative method's statistics are the reference's (reference-anchored scores,
    :mod:`seedsig.scoring.reference`); ``**params`` may be left out (the reference's are used)."""
    sigs, matrix, symbols = _checked_input(data, signatures, layer, gene_id, platform_annotation)
    kwargs = {"row_symbols": symbols, "min_genes": min_genes, "min_fraction": min_fraction, "threads": threads}
    if reference is None:
        res = _score_matrix(matrix, sigs, method, params=params, **kwargs)
    else:
        ref = as_reference(reference, method)
        res = score_with_reference(matrix, sigs, ref, params=params or None, **kwargs)
    for rec in res.coverage.loc[~res.coverage["scored"], ["signature", "reason"]].itertuples(index=False):
        warnings.warn(f"{rec.signature} not scored: {rec.reason}", UserWarning, stacklevel=2)
    scores = res.scores.copy()
    record = {"min_genes": int(min_genes), "min_fraction": float(min_fraction), "gene_id": gene_id}
    if _is_anndata(data):
        _write_anndata(data, method, res, sigs, record, layer)
    scores.attrs["seedsig"] = {
        "method": method,
        "params": dict(res.params),
        **record,
        "reference": None if reference is None else ref.record(),
        "layer": layer,
        "signatures": list(sigs),
    }
    return scores


def contributions(
    data: Any,
    signatures: Any,
    method: str = "ssgsea",
    *,
    select: Sequence[str] | None = None,
    layer: str | None = None,
    gene_id: str = "symbol",
    min_genes: int = SCORING_DEFAULTS["min_genes"],
    min_fraction: float = SCORING_DEFAULTS["min_fraction"],
    platform_annotation: str | Path | pd.DataFrame | None = None,
    threads: int | None = None,
    **params: Any,
) -> pd.DataFrame:
    """Each gene's contribution to each signature's score in every sample, as :func:`score` would score them (same
    inputs, checks and parameters): a long table ``sample``, ``signature``, ``gene``, ``contribution``,
    ``direction`` (the pipeline's ``contributions/{method}.tsv``; :mod:`seedsig.scoring.contributions` says how
    each method is decomposed: exact terms summing to the score for zscore, mean_z, singscore, plage and
    score_genes, the leave-one-gene-out change for ssgsea, gsva and aucell). ``select``: only these signatures (None:
    every scored one). ``.attrs["seedsig"]`` records the method, its parameters and the kind of decomposition."""
    sigs, matrix, symbols = _checked_input(data, signatures, layer, gene_id, platform_annotation)
    res = _contributions(
        matrix,
        sigs,
        method,
        select=select,
        row_symbols=symbols,
        min_genes=min_genes,
        min_fraction=min_fraction,
        params=params,
        threads=threads,
    )
    table = res.table
    table.attrs["seedsig"] = {"method": method, "params": dict(res.params), "kind": res.kind}
    return table


def build_reference(
    data: Any,
    signatures: Any,
    method: str,
    *,
    out: str | Path | None = None,
    layer: str | None = None,
    gene_id: str = "symbol",
    min_genes: int = SCORING_DEFAULTS["min_genes"],
    min_fraction: float = SCORING_DEFAULTS["min_fraction"],
    platform_annotation: str | Path | pd.DataFrame | None = None,
    cohort: str = "",
    threads: int | None = None,
    **params: Any,
) -> Reference:
    """The reference of a cohort-relative ``method`` (zscore, mean_z, gsva, plage, score_genes, ssgsea with
    ``normalize=True``) on ``data`` (as :func:`score` takes it; checked the same way): its gene-wise statistics,
    to anchor :func:`score` (``reference=``) of any cohort. ``out``: also saved there (``.npz``)."""
    sigs, matrix, symbols = _checked_input(data, signatures, layer, gene_id, platform_annotation, "reference")
    ref = _build_reference(
        matrix,
        sigs,
        method,
        row_symbols=symbols,
        params=params,
        min_genes=min_genes,
        min_fraction=min_fraction,
        cohort=cohort,
        threads=threads,
    )
    if out is not None:
        save_reference(ref, out)
    return ref


def _write_anndata(adata, method: str, res, sigs: list[Signature], record: dict, layer: str | None) -> None:
    """The scores into ``obsm[f"seedsig_{method}"]``, the run's record (h5ad types) into ``uns[...]``."""
    key = f"{UNS_PREFIX}{method}"
    scores = res.scores
    adata.obsm[key] = pd.DataFrame(scores.to_numpy(), index=adata.obs_names.copy(), columns=scores.columns)
    adata.uns[key] = {
        "method": method,
        "params": dict(res.params),
        "single_sample": bool(res.single_sample),
        **record,
        "layer": layer or "",
        "coverage": _h5ad_safe(res.coverage),
        "signatures": pd.DataFrame(  # long table: any signature name is h5ad-safe, the order is kept
            [(s.name, g, int(d), s.organ) for s in sigs for g, d in zip(s.genes, s.directions)],
            columns=["signature", "gene", "direction", "organ"],
        ),
    }


# ---------------------------------------------------------------------------------- score inputs
def _from_anndata(adata, method: str | None) -> tuple[dict[str, pd.DataFrame], dict[str, dict]]:
    """Score tables (method -> samples x signatures) and their uns records of an AnnData scored by :func:`score`."""
    keys = [k for k in adata.obsm.keys() if str(k).startswith(UNS_PREFIX) and k in adata.uns]
    methods = [k[len(UNS_PREFIX) :] for k in keys]
    if method is not None:
        methods = [method] if method in methods else []
    if not methods:
        have = ", ".join(keys) or "none"
        raise SeedsigError(
            f"the AnnData has no seedsig scores{f' for method {method!r}' if method else ''} (obsm keys seedsig_*: "
            f"{have}): run seedsig.score(adata, signatures, method=...) first."
        )
    tables, records = {}, {}
    for m in methods:
        t = pd.DataFrame(adata.obsm[f"{UNS_PREFIX}{m}"]).copy()
        t.index = pd.Index(adata.obs_names.astype(str), name="sample")
        tables[m], records[m] = t, dict(adata.uns[f"{UNS_PREFIX}{m}"])
    return tables, records


def _uns_signatures(record: dict) -> list[Signature]:
    """The signatures :func:`score` stored in ``uns`` (already resolved gene symbols: no file is read again)."""
    table = pd.DataFrame(record["signatures"])
    return [
        Signature(
            name=str(name),
            genes=tuple(map(str, g["gene"])),
            directions=tuple(map(int, g["direction"])),
            organ=str(g["organ"].iloc[0]),
        )
        for name, g in table.groupby("signature", sort=False)
    ]


@dataclass
class _Scores:
    tables: dict[str, pd.DataFrame]
    signatures: list[Signature] | None
    method_params: dict[str, dict]
    min_genes: int | None
    min_fraction: float | None
    adata: Any = None
    layer: str | None = None
    gene_id: str = "symbol"


def _scores_input(scores: Any, method: str | None) -> _Scores:
    """Score tables from an AnnData scored by :func:`score`, a DataFrame :func:`score` returned (or any samples x
    signatures DataFrame, with ``method``), or a dict method -> DataFrame."""
    if _is_anndata(scores):
        tables, recs = _from_anndata(scores, method)
        first = next(iter(recs.values()))
        sigs: dict[str, Signature] = {}
        for r in recs.values():
            sigs.update({s.name: s for s in _uns_signatures(r)})
        order = dict.fromkeys(c for t in tables.values() for c in t.columns)  # h5ad sorts uns keys: score order
        ordered = [sigs[n] for n in order if n in sigs] + [s for n, s in sigs.items() if n not in order]
        return _Scores(
            tables,
            ordered,
            {m: dict(r["params"]) for m, r in recs.items()},
            int(first["min_genes"]),
            float(first["min_fraction"]),
            scores,
            first["layer"] or None,
            str(first["gene_id"]),
        )
    if isinstance(scores, pd.DataFrame):
        meta = scores.attrs.get("seedsig", {})
        m = method or meta.get("method")
        if m is None:
            raise SeedsigError("scores is a DataFrame without seedsig's record: say which method made it (method=...).")
        scores = {m: scores}
    if not isinstance(scores, Mapping) or not scores:
        raise SeedsigError(
            "scores: give what seedsig.score returned, an AnnData it scored, or a dict method -> scores DataFrame."
        )
    tables, params, sigs_by_name = {}, {}, {}
    sizes, gene_id = None, "symbol"
    for m, t in scores.items():
        if not isinstance(t, pd.DataFrame):
            raise SeedsigError(f"scores['{m}'] is a {type(t).__name__}, not a samples x signatures DataFrame.")
        meta = t.attrs.get("seedsig", {})
        tables[str(m)] = t
        if meta:
            params[str(m)] = dict(meta["params"])
            sigs_by_name.update({s.name: s for s in meta["signatures"]})
            sizes = sizes or (meta["min_genes"], meta["min_fraction"])
            gene_id = meta["gene_id"]
    if method is not None and method not in tables:
        raise SeedsigError(f"method {method!r} is not among the score tables given ({', '.join(tables)}).")
    if method is not None:
        tables = {method: tables[method]}
    return _Scores(tables, list(sigs_by_name.values()) or None, params, *(sizes or (None, None)), gene_id=gene_id)


def _symbol_rows(expr: pd.DataFrame, gene_id: str) -> pd.DataFrame:
    """The matrix with each row named by its current symbol (:func:`seedsig.ingest.ids.resolve_ids`, the mapping
    :func:`score` scored with), as the pipeline's ingest names them: an ``IL8`` row becomes ``CXCL8``."""

    if gene_id == "probe":
        raise SeedsigError(
            "associate needs expression rows named by gene (the scores were made from probe ids): collapse the probes "
            "to genes first (the pipeline's ingest does) and pass that matrix as expression=."
        )
    out = expr.copy()
    out.index = pd.Index(resolve_ids(list(map(str, expr.index)), gene_id)["symbol"].to_numpy(), name=expr.index.name)
    return out


def _setting(value: Any, defaults: dict, key: str) -> Any:
    return defaults[key] if value is None else value


def _clinical_columns(names: Any, clinical: pd.DataFrame | None, what: str) -> pd.DataFrame | None:
    """Covariates as a DataFrame: given as one, or as column name(s) of ``clinical`` (e.g. adata.obs)."""
    if names is None or isinstance(names, pd.DataFrame):
        return names
    names = [names] if isinstance(names, str) else list(names)
    if not names:
        return None
    if clinical is None:
        raise SeedsigError(
            f"{what}: column names {names} need clinical= (a samples x columns DataFrame, e.g. adata.obs)."
        )
    missing = [c for c in names if c not in clinical.columns]
    if missing:
        raise SeedsigError(
            f"{what}: column(s) {', '.join(missing)} are not in clinical (columns: "
            f"{', '.join(map(str, clinical.columns))})."
        )
    out = clinical[names].copy()
    for c in names:  # categoricals as plain values (as the pipeline's covariate_frame)
        if isinstance(out[c].dtype, pd.CategoricalDtype):
            out[c] = out[c].astype(object)
    out.index = out.index.astype(str)
    return out


def _expression_of(given: _Scores, expression: Any, layer: str | None) -> pd.DataFrame:
    """The genes x samples matrix :func:`associate` re-scores, its rows named by their current symbols: ``expression``
    if given, else the AnnData the scores are in (its scored layer, unless ``layer`` says otherwise)."""
    expr_data = given.adata if expression is None else expression
    if expr_data is None:
        raise SeedsigError(
            "associate needs the expression matrix the scores were computed from (expression=, an "
            "AnnData or a genes x samples DataFrame): the random-signature null, the shared-gene "
            "re-scoring and meta-PCNA are computed from it."
        )
    expr, _ = _matrix(expr_data, layer if (layer is not None or expression is not None) else given.layer)
    return _symbol_rows(expr, given.gene_id)


def _associate_settings(given: _Scores, **given_settings: Any) -> dict:
    """The settings of :func:`associate`: those given, else the pipeline's defaults (``associate.*`` of the config
    schema); ``min_genes`` / ``min_fraction`` default to those :func:`score` used, else ``scoring.*``."""
    d = {**ASSOCIATE_DEFAULTS, **{k: v for k, v in given_settings.items() if v is not None}}
    statistics = d["statistics"]
    min_genes, min_fraction = d.get("min_genes"), d.get("min_fraction")
    return {
        "statistics": [statistics] if isinstance(statistics, str) else list(statistics),
        "n_bootstrap": d["n_bootstrap"],
        "n_random": d["n_random"],
        "seed": d["seed"],
        "proliferation": bool(d["proliferation"]),
        "min_samples": d["min_samples"],
        "min_genes": int(min_genes if min_genes is not None else (given.min_genes or SCORING_DEFAULTS["min_genes"])),
        "min_fraction": float(
            min_fraction if min_fraction is not None else (given.min_fraction or SCORING_DEFAULTS["min_fraction"])
        ),
    }


# --------------------------------------------------------------------------------------- associate
def associate(
    scores: Any,
    focal: str | Sequence[str],
    targets: str | Sequence[str] | None = None,
    *,
    expression: Any = None,
    layer: str | None = None,
    signatures: Any = None,
    method: str | None = None,
    statistics: str | Sequence[str] | None = None,
    n_bootstrap: int | None = None,
    n_random: int | None = None,
    seed: int | None = None,
    covariates: Any = None,
    clinical: pd.DataFrame | None = None,
    proliferation: bool | None = None,
    min_samples: int | None = None,
    min_genes: int | None = None,
    min_fraction: float | None = None,
    method_params: dict[str, dict] | None = None,
) -> Result:
    """Correlate each focal signature's score with each target's, as the pipeline's associate step does
    (:func:`seedsig.association.correlation.correlation_table`: r, 95% CI, BH q over the grid, gene overlap, r without
    shared genes, the matched random-signature null, the partial correlation adjusted for meta-PCNA and
    ``covariates``).

    ``scores``: what :func:`score` returned, an AnnData :func:`score` wrote to (every ``obsm["seedsig_*"]``, or
    ``method``'s), or a dict method -> samples x signatures DataFrame. ``targets``: default every other signature.
    ``expression``: the matrix the scores were computed from (AnnData or genes x samples DataFrame, with the row ids
    :func:`score` was given; default the AnnData of ``scores``, its scored layer), its rows named by their current
    symbols as :func:`score` matched them; it gives the random-signature null, the shared-gene re-scoring and
    meta-PCNA. ``signatures``: as for :func:`score` (default: those :func:`score` used).
    ``covariates``: a samples x covariates DataFrame, or column name(s) of ``clinical`` (default ``adata.obs``).
    Settings left None take the pipeline's defaults (the config schema's ``associate.*``,
    :data:`seedsig.core.settings.ASSOCIATE_DEFAULTS`: both statistics, B = 1000 bootstrap and random, seed 2010,
    proliferation on, min_samples 10); ``min_genes``, ``min_fraction`` and ``method_params`` (method -> parameters)
    default to those :func:`score` used. ``covariates`` has no default here (the pipeline's ``associate.covariates``
    names columns of its clinical table).

    Returns a :class:`Result`: ``to_frame()`` is the correlation table (README columns), ``info`` its sidecar info."""
    given = _scores_input(scores, method)
    sigs = _signatures(signatures) if signatures is not None else given.signatures
    if sigs is None:
        raise SeedsigError(
            "associate needs the signatures the scores come from (signatures=...): the random-signature "
            "null and the shared genes are computed from their gene lists."
        )
    expr = _expression_of(given, expression, layer)
    if clinical is None and given.adata is not None:
        clinical = given.adata.obs
    focal = [focal] if isinstance(focal, str) else list(focal)
    if targets is None:
        targets = [s.name for s in sigs if s.name not in focal]
    targets = [targets] if isinstance(targets, str) else list(targets)
    settings = _associate_settings(
        given,
        statistics=statistics,
        n_bootstrap=n_bootstrap,
        n_random=n_random,
        seed=seed,
        proliferation=proliferation,
        min_samples=min_samples,
        min_genes=min_genes,
        min_fraction=min_fraction,
    )
    params = {**given.method_params, **(method_params or {})}
    cov = _clinical_columns(covariates, clinical, "covariates")
    table, info = correlation_table(
        expr,
        given.tables,
        sigs,
        focal,
        targets,
        **{**settings, "statistics": tuple(settings["statistics"])},  # n_bootstrap, n_random, seed, ...
        covariates=cov,
        method_params={m: params.get(m, {}) for m in given.tables},
    )
    settings.update(focal=focal, targets=targets, covariates=[] if cov is None else list(map(str, cov.columns)))
    return Result("associate", table, settings, info)


# ---------------------------------------------------------------------------------------- survival
def _endpoint_series(value: Any, clinical: pd.DataFrame | None, what: str) -> tuple[pd.Series, str]:
    if isinstance(value, str):
        if clinical is None:
            raise SeedsigError(f"{what} '{value}' is a column name: give clinical= (e.g. adata.obs) or a Series.")
        if value not in clinical.columns:
            raise SeedsigError(
                f"{what} column '{value}' is not in clinical (columns: {', '.join(map(str, clinical.columns))})."
            )
        return clinical[value], value
    if isinstance(value, pd.Series):
        return value, str(value.name) if value.name is not None else what
    raise SeedsigError(f"{what}: give a pandas Series indexed by sample id, or a column name of clinical=.")


def survival(
    scores: Any,
    time: str | pd.Series,
    event: str | pd.Series,
    *,
    clinical: pd.DataFrame | None = None,
    covariates: Any = None,
    endpoint: str | None = None,
    signatures: str | Sequence[str] | None = None,
    method: str | None = None,
    min_samples: int | None = None,
) -> Result:
    """Cox proportional hazards (Efron ties) of each score per SD on one endpoint, univariate and, with
    ``covariates``, adjusted: :func:`seedsig.outcome.cox.cox_table`, as the pipeline's survival step fits them (HR per
    SD, 95% CI, Wald p, concordance, proportional-hazards p).

    ``scores``: as for :func:`associate`. ``time`` / ``event``: Series indexed by sample id (event 1/0), or column
    names of ``clinical`` (a samples x columns DataFrame; default ``adata.obs`` when ``scores`` is an AnnData).
    ``covariates``: a samples x covariates DataFrame or column name(s) of ``clinical``. ``endpoint``: the label in
    the table (default ``"time/event"``). ``signatures``: names to fit (default every score column).
    ``min_samples``: default the pipeline's ``survival.min_samples``
    (:data:`seedsig.core.settings.SURVIVAL_DEFAULTS`); fewer complete cases give an NA row with a note.

    The random-signature null of the pipeline (``p_random_null``) is not computed here: the column stays NA, as
    :func:`cox_table` leaves it (the pipeline composes it from the random scores of the expression matrix; one
    shared null function for associate and survival is issue 15 item 2). Kaplan-Meier curves, log-rank tests and
    cumulative incidence are the pipeline's (``seedsig.outcome.curves``)."""
    given = _scores_input(scores, method)
    if clinical is None and given.adata is not None:
        clinical = given.adata.obs
    t, t_name = _endpoint_series(time, clinical, "time")
    e, e_name = _endpoint_series(event, clinical, "event")
    label = endpoint or f"{t_name}/{e_name}"
    cov = _clinical_columns(covariates, clinical, "covariates")
    floor = _setting(min_samples, SURVIVAL_DEFAULTS, "min_samples")
    names = [signatures] if isinstance(signatures, str) else signatures
    table = cox_table(given.tables, t, e, label, signatures=names, covariates=cov, min_samples=floor)
    params = {
        "endpoint": label,
        "min_samples": floor,
        "covariates": [] if cov is None else list(map(str, cov.columns)),
        "methods": list(given.tables),
    }
    return Result("survival", table, params, {"random_null": "not computed by seedsig.outcome.cox (p_random_null NA)"})


__all__ = ["score", "associate", "survival", "Result", "Summary"]
