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


@lru_cache(maxsize=1)
def _lookups() -> dict[str, dict[str, tuple[str, ...]]]:
    """key -> sorted tuple of current symbols, for each kind of key (built once, ~0.2 s)."""
    tab = hgnc_table()
    symbols = tab["symbol"].tolist()
    out: dict[str, dict[str, tuple[str, ...]]] = {"approved": {s: (s,) for s in symbols}}
    for kind, col in (("previous", "prev_symbol"), ("alias", "alias_symbol"), ("ensembl", "ensembl_gene_id"), ("entrez", "entrez_id")):
        d: dict[str, set[str]] = {}
        for sym, field in zip(symbols, tab[col].tolist()):
            if field:
                for key in field.split("|"):
                    key = key.strip()
                    if key:
                        d.setdefault(key, set()).add(sym)
        out[kind] = {k: tuple(sorted(v)) for k, v in d.items()}
    # case-insensitive variants of approved, previous and alias
    for kind in ("approved", "previous", "alias"):
        up: dict[str, set[str]] = {}
        for k, v in out[kind].items():
            up.setdefault(k.upper(), set()).update(v)
        out[kind + "_upper"] = {k: tuple(sorted(v)) for k, v in up.items()}
    return out


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


def harmonize(matrix: pd.DataFrame, id_type: str, collapse: str = "max_mean") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rename rows to current HGNC symbols and collapse rows that map to the same gene.

    Returns ``(matrix, mapping)``: the matrix indexed by unique symbols, sorted (so independent of the
    input row order; unmapped and ambiguous ids stay under their original id), and one mapping row per
    input id with ``input_id, symbol, status, detail, kept``.
    """
    if collapse not in COLLAPSE_RULES:
        raise SeedsigError(f"collapse rule '{collapse}' is not one of {', '.join(COLLAPSE_RULES)}.")
    mapping = resolve_ids(list(matrix.index.astype(str)), id_type)
    symbols = mapping["symbol"].to_numpy(dtype=object)
    labels = mapping["input_id"].to_numpy(dtype=object)
    values = matrix.to_numpy(dtype=np.float64)
    dup = pd.Series(symbols).duplicated(keep=False).to_numpy()
    kept = np.ones(len(symbols), dtype=bool)
    detail = mapping["detail"].to_numpy(dtype=object).copy()
    if dup.any():
        if collapse in ("max_mean", "max_variance"):
            stat = np.nanmean(values, axis=1) if collapse == "max_mean" else np.nanvar(values, axis=1, ddof=1)
            keep_pos = representative_rows(symbols, labels, stat)
            kept[:] = False
            kept[keep_pos] = True
            winner = dict(zip(symbols[keep_pos], labels[keep_pos]))
            for i in np.flatnonzero(~kept):
                detail[i] = f"{detail[i]}; collapsed into {symbols[i]} ({collapse}: '{winner[symbols[i]]}' kept)"
            out = pd.DataFrame(values[kept], index=symbols[kept], columns=matrix.columns)
        else:
            grouped = pd.DataFrame(values, columns=matrix.columns).groupby(symbols, sort=False)
            out = grouped.sum(min_count=1) if collapse == "sum" else grouped.mean()
            for i in np.flatnonzero(dup):
                detail[i] = f"{detail[i]}; combined with the other rows of {symbols[i]} ({collapse})"
    else:
        out = pd.DataFrame(values, index=symbols, columns=matrix.columns)
    out.index = out.index.astype(str)
    out.index.name = "gene"
    out = out.sort_index(kind="mergesort")
    mapping["detail"] = detail
    mapping["kept"] = kept
    return out, mapping.sort_values("input_id", kind="mergesort").reset_index(drop=True)
