"""Offline gene identifier harmonization to current HGNC symbols.

The table ``data/hgnc_compact.tsv.gz`` is derived from the HGNC complete set by
``scripts/build_hgnc_table.py`` (version in ``data/hgnc_compact.json``); ``data/refseq_entrez.tsv.gz`` (RefSeq
transcript accession -> Entrez gene, from Bioconductor org.Hs.eg.db 3.16 = NCBI Gene 2022-09-12) by
``scripts/build_refseq_table.py`` (counts in ``data/refseq_entrez.json``).

Resolution order for symbols (the field's convention, as limma::alias2SymbolTable and HGNChelper):
1. an approved symbol is itself (``approved``), even when it is also another gene's previous symbol or alias;
2. a previous symbol of exactly one gene resolves to it (``previous``); of several genes: ``ambiguous``;
3. an alias of exactly one gene resolves to it (``alias``); of several: ``ambiguous``;
4. the same three steps case-insensitively (``case``);
5. otherwise ``unmapped``.
Ambiguous and unmapped ids are never guessed: they keep their original id and are reported.

Other id types (``gene_id`` of the cohort sheet) give ``mapped`` | ``unmapped`` | ``ambiguous``; ``detail`` says how:

- ``ensembl``: HGNC's Ensembl gene id; a version suffix (``ENSG00000169429.11``) is ignored.
- ``entrez``: HGNC's Entrez id; a float's ``.0`` is ignored; TCGA-style ``SYMBOL|ENTREZ`` (``IL6|3569``,
  ``?|100130426``) resolves by its Entrez part alone (the symbol part is 2015-era and not used).
- ``refseq``: a transcript accession (NM_, NR_, XM_, XR_; version ``.N`` ignored) -> its Entrez gene
  (org.Hs.eg.db, which lists every NM_/NR_/XM_/XR_) -> the HGNC gene with that Entrez id; and the gene(s) whose
  HGNC record lists the accession (HGNC keeps about one per gene, some newer than org.Hs.eg.db). The join is on
  Entrez, never on NCBI's symbol (NCBI and HGNC symbols differ, e.g. COX2 vs MT-CO2). One current gene -> ``mapped``;
  several (the two sources disagree, e.g. after a gene split, or one source names several) -> ``ambiguous``.
  Unmapped: not a RefSeq transcript accession (GenBank ``AB002301``, ``Contig..._RC``), an accession in neither
  table (retired), or an Entrez gene without an HGNC symbol.
- ``probe``: needs the platform annotation (``annotation``: a GPL table, see :func:`read_platform_annotation`).
  A probe's Entrez column is used when it names at least one HGNC gene (Entrez ids are stable; 2009 symbols are
  not); otherwise its symbol column, each symbol resolved by the rules above (``IL8`` -> CXCL8 as a previous
  symbol). Multi-valued cells (``DDR1 /// MIR4640``) are split: one current gene -> ``mapped``; several ->
  ``ambiguous`` (never guessed); none -> ``unmapped``. Values naming no HGNC gene (``LOC`` ids, withdrawn ids) do
  not count, and are listed in ``detail``. ``detail`` names the annotation column used and quotes its text. A probe
  absent from the annotation is ``unmapped`` ("not in platform annotation <file>"); if no probe of the matrix is in
  the annotation, :func:`harmonize` raises (the annotation of another platform).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from seedsig.core.errors import SeedsigError
from seedsig.ingest.hgnc import (
    _UNRESOLVED,
    ID_TYPES,
    _resolve_refseq,
    _resolve_symbol,
    _resolve_xref,
    hgnc_table,
    hgnc_version,
    lookups,
    refseq_table,
    refseq_version,
)
from seedsig.ingest.platform import _resolve_probes, platform_annotation_from_table, read_platform_annotation

# the lookup tables (hgnc) and the platform annotation readers (platform) are part of this module's interface
__all__ = [
    "COLLAPSE_RULES",
    "GUESS_SAMPLE",
    "ID_TYPES",
    "check_mapping",
    "guess_id_type",
    "harmonize",
    "hgnc_table",
    "hgnc_version",
    "id_type_advice",
    "looks_transposed",
    "lookups",
    "platform_annotation_from_table",
    "read_platform_annotation",
    "refseq_table",
    "refseq_version",
    "representative_rows",
    "resolve_ids",
]


def resolve_ids(
    ids: Sequence[str],
    id_type: str = "symbol",
    annotation: str | Path | pd.DataFrame | None = None,
    *,
    require_match: bool = False,
) -> pd.DataFrame:
    """Resolve ids to current HGNC symbols.

    ``id_type`` is one of :data:`ID_TYPES`; ``annotation`` (id_type ``probe`` only, required then) is the path of the
    platform annotation file, or the table :func:`read_platform_annotation` returned. Probe ids absent from the
    annotation are ``unmapped``; with ``require_match`` (as :func:`harmonize` does for a whole matrix) it is an error
    when none of the ids is in the annotation (the annotation of another platform). A subset of a matrix's ids (e.g.
    its all-NA rows) may well be absent: hence the default False.

    Returns one row per input id, in input order, with columns ``input_id``, ``symbol`` (the current
    symbol, or the input id unchanged when unmapped/ambiguous), ``status`` (approved | previous | alias |
    case | mapped | unmapped | ambiguous) and ``detail`` (why, in words). Each distinct id is resolved once.
    """
    if id_type not in ID_TYPES:
        raise SeedsigError(f"gene_id '{id_type}' is not one of {', '.join(ID_TYPES)}.")
    has_annotation = annotation is not None and not (isinstance(annotation, str) and not annotation.strip())
    if id_type == "probe" and not has_annotation:
        raise SeedsigError(
            "gene_id 'probe' needs a platform annotation: give the GPL annotation file (probe -> gene symbol / Entrez "
            "id, e.g. GPL96.annot.gz from GEO) in the cohort sheet's platform_annotation column."
        )
    if id_type != "probe" and has_annotation:
        raise SeedsigError(
            f"a platform annotation ({annotation if not isinstance(annotation, pd.DataFrame) else 'table'}) is only "
            f"used with gene_id 'probe', but gene_id is '{id_type}'; set gene_id: probe or remove platform_annotation."
        )
    ids = [str(x).strip() for x in ids]
    codes, uniq = pd.factorize(pd.Index(ids, dtype=object))
    uniq = [str(x) for x in uniq]
    if id_type == "probe":
        rows = _resolve_probes(uniq, annotation, require_match)
    else:
        lk = lookups()
        if id_type == "symbol":
            rows = [_resolve_symbol(x, lk) for x in uniq]
        elif id_type == "refseq":
            rows = [_resolve_refseq(x, lk) for x in uniq]
        else:
            table = lk[id_type]
            rows = [_resolve_xref(x, table, id_type) for x in uniq]
    out = pd.DataFrame(rows, columns=["symbol", "status", "detail"], dtype=object).take(codes).reset_index(drop=True)
    out.insert(0, "input_id", ids)
    return out


def representative_rows(symbols: Sequence[str], labels: Sequence[str], means: np.ndarray) -> np.ndarray:
    """Positions of one row per distinct symbol: the row with the highest mean (ties: smallest label).

    Independent of row order. Used both to collapse rows in the pipeline (``max_mean``) and to match
    signature genes to rows of an uncollapsed matrix.
    """
    order = np.lexsort(
        (
            np.asarray(labels, dtype=object).astype(str),
            -np.nan_to_num(np.asarray(means, dtype=float), nan=-np.inf),
            np.asarray(symbols, dtype=object).astype(str),
        )
    )
    sym_sorted = np.asarray(symbols, dtype=object)[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = sym_sorted[1:] != sym_sorted[:-1]
    return np.sort(order[first])


COLLAPSE_RULES = ("max_mean", "max_variance", "mean", "sum")


def harmonize(
    matrix: pd.DataFrame,
    id_type: str,
    collapse: str = "max_mean",
    annotation: str | Path | pd.DataFrame | None = None,
    *,
    resolved: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rename rows to current HGNC symbols and collapse rows that map to the same gene.

    ``matrix``: genes x samples, index = input ids (unique). Every id is resolved with :func:`resolve_ids`
    (``annotation``: the platform annotation file, for ``id_type='probe'``; an error if none of the matrix's probe
    ids is in it);
    rows resolving to the same current symbol are collapsed by ``collapse``:

    - ``max_mean``: keep the row with the highest mean over samples (NAs skipped; ties: smallest input id);
    - ``max_variance``: keep the row with the highest variance (ddof=1, NAs skipped; ties: smallest input id);
    - ``mean`` / ``sum``: element-wise mean / sum of the rows (NAs skipped; all-NA stays NA). ``sum`` is for counts.

    Unmapped and ambiguous ids stay as rows under their original id.

    Returns ``(matrix, mapping)``: the matrix indexed by unique symbols (index name ``gene``), sorted by
    symbol, so independent of the input row order; and one mapping row per input id, sorted by
    ``input_id``, with columns ``input_id, symbol, status, detail, kept`` (``kept``: the row's values are
    in the output: only the chosen row for ``max_*``, every contributing row for ``mean``/``sum``).
    ``resolved``: the :func:`resolve_ids` table of the matrix's ids, when already made (by
    :func:`seedsig.ingest.checks.check_expression`): reused instead of resolving again.
    """
    if collapse not in COLLAPSE_RULES:
        raise SeedsigError(f"collapse rule '{collapse}' is not one of {', '.join(COLLAPSE_RULES)}.")
    index = _unique_ids(matrix)
    if resolved is not None and resolved["input_id"].tolist() == list(index):
        mapping = resolved[["input_id", "symbol", "status", "detail"]].copy()
    else:
        mapping = resolve_ids(list(index), id_type, annotation, require_match=True)
    symbols = mapping["symbol"].to_numpy(dtype=object)
    labels = mapping["input_id"].to_numpy(dtype=object)
    status = mapping["status"].to_numpy(dtype=object)
    values = matrix.to_numpy(dtype=np.float64)
    _check_no_clash(symbols, labels, status, id_type)

    dup = pd.Series(symbols).duplicated(keep=False).to_numpy()
    kept = np.ones(len(symbols), dtype=bool)
    detail = mapping["detail"].astype(str)
    if dup.any():
        if collapse in ("max_mean", "max_variance"):
            kept = _keep_best_rows(values, symbols, labels, collapse, detail)
            out = pd.DataFrame(values[kept], index=symbols[kept], columns=matrix.columns)
        else:
            out = _combine_rows(values, symbols, dup, collapse, detail, matrix.columns)
    else:
        out = pd.DataFrame(values, index=symbols, columns=matrix.columns)
    out.index = pd.Index(out.index.astype(str), name="gene")
    out = out.sort_index(kind="mergesort")
    mapping["detail"] = detail.to_numpy()
    mapping["kept"] = kept
    return out, mapping.sort_values("input_id", kind="mergesort").reset_index(drop=True)


def _unique_ids(matrix: pd.DataFrame) -> pd.Index:
    """The matrix's row ids, stripped; an error when some are duplicated."""
    index = matrix.index.astype(str).str.strip()
    if index.has_duplicates:
        dup = index[index.duplicated()].unique().tolist()
        raise SeedsigError(
            "gene ids must be unique before harmonizing; duplicated: "
            f"{', '.join(dup[:10])}{' ...' if len(dup) > 10 else ''}. Remove or rename the duplicated rows."
        )
    return index


def _check_no_clash(symbols: np.ndarray, labels: np.ndarray, status: np.ndarray, id_type: str) -> None:
    """Guard: an id kept as given must not take the name of a gene another row resolved to.

    Impossible for symbols, since approved symbols win; possible for a symbol mixed into Ensembl/Entrez ids."""
    unresolved = np.isin(status, _UNRESOLVED)
    clash = np.intersect1d(symbols[unresolved].astype(str), symbols[~unresolved].astype(str))
    if clash.size:
        assert id_type != "symbol", f"internal error: unresolved id(s) equal to resolved symbol(s): {list(clash[:10])}"
        pairs = [
            f"'{c}' (given as is) vs {', '.join(repr(x) for x in labels[(symbols == c) & ~unresolved])}"
            for c in clash[:5]
        ]
        raise SeedsigError(
            f"{id_type} ids: {len(clash)} id(s) that could not be resolved are the same text as the symbol another row "
            f"resolves to: {'; '.join(pairs)}. The matrix mixes id types; give one id type per matrix (gene_id) or "
            "remove those rows."
        )


def _keep_best_rows(
    values: np.ndarray, symbols: np.ndarray, labels: np.ndarray, collapse: str, detail: pd.Series
) -> np.ndarray:
    """``max_mean`` / ``max_variance``: which rows are kept (one per symbol); ``detail`` of the others (changed in
    place) says into which row they were collapsed and why."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NA rows / one sample: stat NA, never chosen first
        stat = np.nanmean(values, axis=1) if collapse == "max_mean" else np.nanvar(values, axis=1, ddof=1)
    keep_pos = representative_rows(symbols, labels, stat)
    kept = np.zeros(len(symbols), dtype=bool)
    kept[keep_pos] = True
    lost = np.flatnonzero(~kept)
    w = pd.Series(keep_pos, index=symbols[keep_pos]).reindex(symbols[lost]).to_numpy()  # winner of each lost row
    what = "mean" if collapse == "max_mean" else "variance"
    mine, theirs = stat[lost], stat[w]
    reason = np.select(
        [np.isnan(mine), mine < theirs],
        [f"{what} not computable (all NA); kept", f"lower {what} than"],
        default=f"same {what} as, and sorts after,",
    ).astype(object)
    detail.iloc[lost] = (
        detail.iloc[lost].to_numpy(dtype=object)
        + "; collapsed into "
        + symbols[lost].astype(str).astype(object)
        + f" ({collapse}: "
        + reason
        + " '"
        + labels[w].astype(str).astype(object)
        + "')"
    )
    return kept


def _combine_rows(
    values: np.ndarray, symbols: np.ndarray, dup: np.ndarray, collapse: str, detail: pd.Series, columns: pd.Index
) -> pd.DataFrame:
    """``mean`` / ``sum``: one row per symbol, the element-wise mean / sum of its rows; ``detail`` of the
    duplicated rows (changed in place) says how many rows were combined."""
    grouped = pd.DataFrame(values, columns=columns).groupby(symbols, sort=False)
    out = grouped.sum(min_count=1) if collapse == "sum" else grouped.mean()
    n_rows = pd.Series(symbols).map(pd.Series(symbols).value_counts()).to_numpy()
    pos = np.flatnonzero(dup)
    detail.iloc[pos] = (
        detail.iloc[pos].to_numpy().astype(object)
        + f"; {collapse} of "
        + n_rows[pos].astype(str).astype(object)
        + " rows for "
        + symbols[pos].astype(str).astype(object)
    )
    return out


# ------------------------------------------------------------- what kind of ids a matrix has (for messages)
_RESOLVED_STRONGLY = ("approved", "mapped")  # an alias match is weak evidence: short sample ids (P1, S1) are aliases
_ID_PATTERNS = (  # (pattern, gene_id to declare or None when seedsig cannot map them, description)
    (re.compile(r"ENSG\d{6,}(\.\d+)?(_PAR_Y)?", re.I), "ensembl", "Ensembl gene ids (ENSG...)"),
    (
        re.compile(r"ENST\d{6,}(\.\d+)?", re.I),
        None,
        "Ensembl transcript ids (ENST...): summarize them to genes first (e.g. tximport)",
    ),
    (
        re.compile(r"ENS[A-Z]{3,}G\d{6,}(\.\d+)?", re.I),
        None,
        "Ensembl gene ids of another species (seedsig maps human genes)",
    ),
    (re.compile(r"[NX][MR]_\d+(\.\d+)?", re.I), "refseq", "RefSeq transcript accessions (NM_/XM_...)"),
    (re.compile(r"[^|\s]+\|\d+"), "entrez", "TCGA-style SYMBOL|ENTREZ ids"),
    (re.compile(r"AFFX-\S+|\S+_at", re.I), "probe", "Affymetrix probe set ids (..._at)"),
    (re.compile(r"ILMN_\d+", re.I), "probe", "Illumina probe ids (ILMN_...)"),
    (re.compile(r"A_\d+_P\d+", re.I), "probe", "Agilent probe ids (A_23_P...)"),
    (re.compile(r"\d+(\.0)?"), "entrez", "numeric Entrez gene ids"),
)
GUESS_SAMPLE = 2000  # ids looked at to guess a type or an orientation (evenly spaced, so deterministic)


def _spread(ids: Sequence[str], n: int = GUESS_SAMPLE) -> list[str]:
    """At most ``n`` of ``ids``, evenly spaced over the list."""
    ids = [str(x).strip() for x in ids]
    if len(ids) <= n:
        return ids
    return [ids[i] for i in np.linspace(0, len(ids) - 1, n).round().astype(int)]


def guess_id_type(ids: Sequence[str]) -> tuple[str | None, str] | None:
    """The kind of gene ids ``ids`` look like, from their patterns: ``(gene_id, description)``; gene_id is one of
    :data:`ID_TYPES`, or None for ids seedsig cannot map (Ensembl transcripts, another species). None when no kind
    covers at least half of the ids. Numeric ids are Entrez ids when at least half of them are HGNC Entrez ids, else
    probe ids (e.g. Affymetrix Gene ST transcript clusters); other ids are symbols when at least half resolve."""
    sample = [x for x in _spread(ids) if x]
    if not sample:
        return None
    hits = [sum(bool(p.fullmatch(x)) for x in sample) for p, _, _ in _ID_PATTERNS]
    best = int(np.argmax(hits))
    if hits[best] >= 0.5 * len(sample):
        pattern, gene_id, what = _ID_PATTERNS[best]
        if what.startswith("numeric"):
            numeric = [x for x in sample if pattern.fullmatch(x)]
            n_entrez = int((resolve_ids(numeric, "entrez")["status"] != "unmapped").sum())
            if n_entrez < 0.5 * len(numeric):
                return "probe", f"numeric ids mostly not Entrez genes ({n_entrez} of {len(numeric)} are): probe ids?"
        return gene_id, what
    if (resolve_ids(sample, "symbol")["status"] != "unmapped").mean() >= 0.5:
        return "symbol", "gene symbols"
    return None


def _strong_fraction(ids: Sequence[str], gene_id: str, annotation) -> float:
    """Fraction of (at most GUESS_SAMPLE of) ``ids`` resolving as ``gene_id`` to an approved symbol or a mapped id."""
    sample = _spread(ids)
    if not sample:
        return 0.0
    if gene_id == "symbol":  # strong = approved: the previous-symbol and alias tables need not be built
        approved = lookups()["approved"]
        return sum(x in approved for x in sample) / len(sample)
    status = resolve_ids(sample, gene_id, annotation if gene_id == "probe" else None)["status"]
    return float(status.isin(_RESOLVED_STRONGLY).mean())


def looks_transposed(
    rows: Sequence[str],
    columns: Sequence[str],
    gene_id: str,
    annotation=None,
    sample_ids: Sequence[str] | None = None,
    *,
    rows_are: str = "row ids",
    columns_are: str = "column names",
) -> str | None:
    """Why a genes x samples matrix with these row and column ids looks transposed (samples as rows), or None.

    Transposed when (1) most row ids are sample ids of the clinical table (``sample_ids``) and no column name is; or
    (2) at least half of the column names (and at least 3) resolve as ``gene_id`` to an approved symbol / a mapped id
    while at most a tenth of the row ids do. Alias matches do not count, since short sample ids (P1, S1) are aliases
    of genes. Never when most column names are sample ids of the clinical table. ``rows_are``/``columns_are``: what
    the matrix's rows and columns are in the file, for the message (a table read as ``samples_x_genes`` has them the
    other way round).
    """
    rows, columns = [str(x).strip() for x in rows], [str(x).strip() for x in columns]
    if sample_ids is not None:
        known = set(map(str, sample_ids))
        in_rows = sum(x in known for x in rows)
        in_cols = sum(x in known for x in columns)
        if in_cols >= 0.5 * len(columns):
            return None
        if in_rows >= 0.5 * len(rows) and in_cols == 0:
            return (
                f"its {rows_are} are the clinical table's sample ids ({in_rows} of {len(rows)}, "
                f"e.g. {', '.join(rows[:3])}) and its {columns_are} are not"
            )
    if len(columns) < 3:
        return None
    f_cols = _strong_fraction(columns, gene_id, annotation)
    if f_cols < 0.5 or f_cols * len(columns) < 3:
        return None
    f_rows = _strong_fraction(rows, gene_id, annotation)
    if f_rows > 0.1:
        return None
    what = "gene symbols" if gene_id == "symbol" else f"{gene_id} ids"
    return (
        f"its {columns_are} are {what} ({f_cols:.0%} resolve, e.g. {', '.join(columns[:3])}) while its {rows_are} "
        f"are not ({f_rows:.0%} resolve, e.g. {', '.join(rows[:3])})"
    )


def id_type_advice(ids: Sequence[str], gene_id: str, *, option: str = "the cohort sheet's gene_id column") -> str:
    """What the unmapped ``ids`` look like and what to change (``option``: where the user sets the id type)."""
    guess = guess_id_type(ids)
    if guess is None:
        return f"their kind is not recognised: check {option} ({', '.join(ID_TYPES)})"
    kind, what = guess
    if kind is None:
        return f"they look like {what}"
    if kind == gene_id:
        return f"they look like {what}, as declared: genes without an HGNC entry (e.g. novel genes), or check {option}"
    extra = " (and give the platform annotation)" if kind == "probe" else ""
    return f"they look like {what}: set {option} to {kind}{extra}"


def check_mapping(
    mapping: pd.DataFrame, where: str, gene_id: str, *, option: str = "the cohort sheet's gene_id column"
) -> str | None:
    """Raise when none of the ids of ``mapping`` (as :func:`resolve_ids` returns) maps to a gene as ``gene_id``;
    return a warning (text) when more than half do not, else None. Both name the kind the unmapped ids look like."""
    status = mapping["status"].to_numpy()
    unmapped = status == "unmapped"
    n, k = len(mapping), int(unmapped.sum())
    if n == 0 or 2 * k <= n:
        return None
    ids = mapping["input_id"][unmapped].tolist()
    advice = id_type_advice(ids, gene_id, option=option)
    text = f"{k} of {n} ids are unmapped as gene_id '{gene_id}' (e.g. {', '.join(ids[:5])}); {advice}."
    # Entrez ids declared symbol: 3 of 39,376 (52, 225, 3635) match aliases of other genes; that is nothing mapped
    weak = np.isin(status, ("alias", "ambiguous"))
    if k == n or k + int(weak.sum()) == n:
        if k < n:
            seen = mapping[weak].head(3)
            pairs = ", ".join(f"{i} -> {s}" for i, s in zip(seen["input_id"], seen["symbol"].fillna("?")))
            text += f" The other {n - k} match only as aliases or ambiguously (e.g. {pairs}): no evidence of the id"
            text += " type."
        raise SeedsigError(f"{where}: no row id maps to a gene: {text}")
    return f"{where}: {text}"
