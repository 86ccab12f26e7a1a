"""Offline gene identifier harmonization to current HGNC symbols.

The table ``data/hgnc_compact.tsv.gz`` is derived from the HGNC complete set by
``scripts/build_hgnc_table.py`` (version in ``data/hgnc_compact.json``).

Resolution order for symbols (the field's convention, as limma::alias2SymbolTable and HGNChelper):
1. an approved symbol is itself (``approved``), even when it is also another gene's previous symbol or alias;
2. a previous symbol of exactly one gene resolves to it (``previous``); of several genes: ``ambiguous``;
3. an alias of exactly one gene resolves to it (``alias``); of several: ``ambiguous``;
4. the same three steps case-insensitively (``case``);
5. otherwise ``unmapped``.
Ambiguous and unmapped ids are never guessed: they keep their original id and are reported.
"""

from __future__ import annotations

import json
import warnings
from functools import lru_cache
from importlib import resources
from typing import Sequence

import numpy as np
import pandas as pd

from .errors import SeedsigError

ID_TYPES = ("symbol", "ensembl", "entrez")


@lru_cache(maxsize=1)
def hgnc_table() -> pd.DataFrame:
    """The compact HGNC table (one row per approved gene; multi-valued fields '|'-joined)."""
    with resources.files("seedsig").joinpath("data/hgnc_compact.tsv.gz").open("rb") as fh:
        return pd.read_csv(fh, sep="\t", dtype=str, keep_default_na=False, compression="gzip")


@lru_cache(maxsize=1)
def hgnc_version() -> dict:
    return json.loads(resources.files("seedsig").joinpath("data/hgnc_compact.json").read_text())


_XREF_COLUMNS = {"previous": "prev_symbol", "alias": "alias_symbol", "ensembl": "ensembl_gene_id", "entrez": "entrez_id"}


def _build_kind(kind: str) -> dict[str, tuple[str, ...]]:
    """key -> sorted tuple of current symbols, for one kind of key (tens of milliseconds each)."""
    tab = hgnc_table()
    if kind == "approved":
        return {s: (s,) for s in tab["symbol"].tolist()}
    d: dict[str, set[str]] = {}
    if kind.endswith("_upper"):
        for key, syms in _LOOKUPS[kind[: -len("_upper")]].items():
            d.setdefault(key.upper(), set()).update(syms)
    else:
        for sym, field in zip(tab["symbol"].tolist(), tab[_XREF_COLUMNS[kind]].tolist()):
            if field:
                for key in field.split("|"):
                    key = key.strip()
                    if key:
                        d.setdefault(key, set()).add(sym)
    return {k: tuple(sorted(v)) for k, v in d.items()}


class _LazyLookups(dict):
    """``_lookups()[kind]`` -> {key: sorted tuple of current symbols}; each kind is built on first use.

    Kinds: approved, previous, alias, ensembl, entrez, and approved_upper / previous_upper / alias_upper
    (case-insensitive keys). A CLI call that only meets approved symbols builds only ``approved``.
    """

    KINDS = ("approved", "previous", "alias", "ensembl", "entrez", "approved_upper", "previous_upper", "alias_upper")

    def __missing__(self, kind: str) -> dict[str, tuple[str, ...]]:
        if kind not in self.KINDS:
            raise KeyError(kind)
        value = self[kind] = _build_kind(kind)
        return value


_LOOKUPS = _LazyLookups()


def _lookups() -> _LazyLookups:
    """Lookup tables by kind of key, built lazily (see ``_LazyLookups``)."""
    return _LOOKUPS


def _resolve_symbol(x: str, lk: dict) -> tuple[str, str, str]:
    if x in lk["approved"]:
        return x, "approved", "approved HGNC symbol"
    for kind in ("previous", "alias"):
        hit = lk[kind].get(x)
        if hit:
            if len(hit) == 1:
                return hit[0], kind, f"{kind} symbol of {hit[0]}"
            return x, "ambiguous", f"{kind} symbol of {len(hit)} genes ({', '.join(hit)}); kept as given"
    u = x.upper()
    for kind in ("approved", "previous", "alias"):
        hit = lk[kind + "_upper"].get(u)
        if hit:
            if len(hit) == 1:
                return hit[0], "case", f"case-insensitive match to {'approved' if kind == 'approved' else kind} symbol of {hit[0]}"
            return x, "ambiguous", f"case-insensitive {kind} symbol of {len(hit)} genes ({', '.join(hit)}); kept as given"
    return x, "unmapped", "not an HGNC approved, previous or alias symbol; kept as given"


def _resolve_xref(x: str, table: dict, what: str) -> tuple[str, str, str]:
    key = x
    if what == "ensembl":
        key = x.split(".", 1)[0] if x.upper().startswith("ENSG") else x
    elif what == "entrez":
        key = x[:-2] if x.endswith(".0") else x
    hit = table.get(key)
    if not hit:
        return x, "unmapped", f"{what} id not in HGNC; kept as given"
    if len(hit) == 1:
        return hit[0], "mapped", f"{what} id of {hit[0]}"
    return x, "ambiguous", f"{what} id of {len(hit)} genes ({', '.join(hit)}); kept as given"


def resolve_ids(ids: Sequence[str], id_type: str = "symbol") -> pd.DataFrame:
    """Resolve ids to current HGNC symbols.

    Returns one row per input id, in input order, with columns ``input_id``, ``symbol`` (the current
    symbol, or the input id unchanged when unmapped/ambiguous), ``status`` (approved | previous | alias |
    case | mapped | unmapped | ambiguous) and ``detail`` (why, in words).
    """
    if id_type not in ID_TYPES:
        raise SeedsigError(f"gene_id '{id_type}' is not one of {', '.join(ID_TYPES)}.")
    lk = _lookups()
    ids = [str(x).strip() for x in ids]
    cache: dict[str, tuple[str, str, str]] = {}
    rows = []
    for x in ids:  # one dict lookup per distinct id; 20k ids take milliseconds
        r = cache.get(x)
        if r is None:
            r = _resolve_symbol(x, lk) if id_type == "symbol" else _resolve_xref(x, lk[id_type], id_type)
            cache[x] = r
        rows.append(r)
    out = pd.DataFrame(rows, columns=["symbol", "status", "detail"])
    out.insert(0, "input_id", ids)
    return out


def representative_rows(symbols: Sequence[str], labels: Sequence[str], means: np.ndarray) -> np.ndarray:
    """Positions of one row per distinct symbol: the row with the highest mean (ties: smallest label).

    Independent of row order. Used both to collapse rows in the pipeline (``max_mean``) and to match
    signature genes to rows of an uncollapsed matrix.
    """
    order = np.lexsort((np.asarray(labels, dtype=object).astype(str), -np.nan_to_num(np.asarray(means, dtype=float), nan=-np.inf), np.asarray(symbols, dtype=object).astype(str)))
    sym_sorted = np.asarray(symbols, dtype=object)[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = sym_sorted[1:] != sym_sorted[:-1]
    return np.sort(order[first])


COLLAPSE_RULES = ("max_mean", "max_variance", "mean", "sum")
_UNRESOLVED = ("unmapped", "ambiguous")


def harmonize(matrix: pd.DataFrame, id_type: str, collapse: str = "max_mean") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rename rows to current HGNC symbols and collapse rows that map to the same gene.

    ``matrix``: genes x samples, index = input ids (unique). Every id is resolved with :func:`resolve_ids`;
    rows resolving to the same current symbol are collapsed by ``collapse``:

    - ``max_mean``: keep the row with the highest mean over samples (NAs skipped; ties: smallest input id);
    - ``max_variance``: keep the row with the highest variance (ddof=1, NAs skipped; ties: smallest input id);
    - ``mean`` / ``sum``: element-wise mean / sum of the rows (NAs skipped; all-NA stays NA). ``sum`` is for counts.

    Unmapped and ambiguous ids stay as rows under their original id.

    Returns ``(matrix, mapping)``: the matrix indexed by unique symbols (index name ``gene``), sorted by
    symbol, so independent of the input row order; and one mapping row per input id, sorted by
    ``input_id``, with columns ``input_id, symbol, status, detail, kept`` (``kept``: the row's values are
    in the output: only the chosen row for ``max_*``, every contributing row for ``mean``/``sum``).
    """
    if collapse not in COLLAPSE_RULES:
        raise SeedsigError(f"collapse rule '{collapse}' is not one of {', '.join(COLLAPSE_RULES)}.")
    index = matrix.index.astype(str).str.strip()
    if index.has_duplicates:
        dup = index[index.duplicated()].unique().tolist()
        raise SeedsigError(f"gene ids must be unique before harmonizing; duplicated: {', '.join(dup[:10])}{' ...' if len(dup) > 10 else ''}. Remove or rename the duplicated rows.")
    mapping = resolve_ids(list(index), id_type)
    symbols = mapping["symbol"].to_numpy(dtype=object)
    labels = mapping["input_id"].to_numpy(dtype=object)
    status = mapping["status"].to_numpy(dtype=object)
    values = matrix.to_numpy(dtype=np.float64)

    # guard: an id kept as given must not take the name of a gene another row resolved to
    # (impossible for symbols, since approved symbols win; possible for a symbol mixed into Ensembl/Entrez ids)
    unresolved = np.isin(status, _UNRESOLVED)
    clash = np.intersect1d(symbols[unresolved].astype(str), symbols[~unresolved].astype(str))
    if clash.size:
        assert id_type != "symbol", f"internal error: unresolved id(s) equal to resolved symbol(s): {list(clash[:10])}"
        pairs = [f"'{c}' (given as is) vs {', '.join(repr(x) for x in labels[(symbols == c) & ~unresolved])}" for c in clash[:5]]
        raise SeedsigError(
            f"{id_type} ids: {len(clash)} id(s) that could not be resolved are the same text as the symbol another row "
            f"resolves to: {'; '.join(pairs)}. The matrix mixes id types; give one id type per matrix (gene_id) or remove those rows."
        )

    dup = pd.Series(symbols).duplicated(keep=False).to_numpy()
    kept = np.ones(len(symbols), dtype=bool)
    detail = mapping["detail"].astype(str)
    if dup.any():
        if collapse in ("max_mean", "max_variance"):
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NA rows / one sample: stat NA, never chosen first
                stat = np.nanmean(values, axis=1) if collapse == "max_mean" else np.nanvar(values, axis=1, ddof=1)
            keep_pos = representative_rows(symbols, labels, stat)
            kept[:] = False
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
                + "; collapsed into " + symbols[lost].astype(str).astype(object)
                + f" ({collapse}: " + reason + " '" + labels[w].astype(str).astype(object) + "')"
            )
            out = pd.DataFrame(values[kept], index=symbols[kept], columns=matrix.columns)
        else:
            grouped = pd.DataFrame(values, columns=matrix.columns).groupby(symbols, sort=False)
            out = grouped.sum(min_count=1) if collapse == "sum" else grouped.mean()
            n_rows = pd.Series(symbols).map(pd.Series(symbols).value_counts()).to_numpy()
            pos = np.flatnonzero(dup)
            detail.iloc[pos] = (
                detail.iloc[pos].to_numpy().astype(object)
                + f"; {collapse} of " + n_rows[pos].astype(str).astype(object) + " rows for " + symbols[pos].astype(str).astype(object)
            )
    else:
        out = pd.DataFrame(values, index=symbols, columns=matrix.columns)
    out.index = pd.Index(out.index.astype(str), name="gene")
    out = out.sort_index(kind="mergesort")
    mapping["detail"] = detail.to_numpy()
    mapping["kept"] = kept
    return out, mapping.sort_values("input_id", kind="mergesort").reset_index(drop=True)
