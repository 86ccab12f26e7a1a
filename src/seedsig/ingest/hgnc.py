"""The HGNC and RefSeq lookup tables (built lazily from ``data/``) and the resolution of one gene id to current
HGNC symbols by kind (symbol, Ensembl, Entrez, RefSeq); the rules are in :mod:`seedsig.ingest.ids`."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

ID_TYPES = ("symbol", "ensembl", "entrez", "refseq", "probe")


HGNC_COLUMNS = (
    "hgnc_id",
    "symbol",
    "locus_group",
    "entrez_id",
    "ensembl_gene_id",
    "refseq_accession",
    "prev_symbol",
    "alias_symbol",
)


@lru_cache(maxsize=1)
def hgnc_table() -> pd.DataFrame:
    """The compact HGNC table (one row per approved gene; multi-valued fields '|'-joined; every field a string, ''
    when empty), read with pyarrow (twice as fast as pandas: ``seedsig score`` reads it on every call)."""
    with resources.files("seedsig").joinpath("data/hgnc_compact.tsv.gz").open("rb") as fh:
        table = pacsv.read_csv(
            pa.CompressedInputStream(pa.PythonFile(fh, mode="r"), "gzip"),
            parse_options=pacsv.ParseOptions(delimiter="\t"),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(HGNC_COLUMNS, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    return table.to_pandas()


@lru_cache(maxsize=1)
def hgnc_version() -> dict:
    return json.loads(resources.files("seedsig").joinpath("data/hgnc_compact.json").read_text())


@lru_cache(maxsize=1)
def refseq_table() -> pd.DataFrame:
    """RefSeq transcript accession (unversioned NM_/NR_/XM_/XR_) -> Entrez gene id, one row per accession."""
    with resources.files("seedsig").joinpath("data/refseq_entrez.tsv.gz").open("rb") as fh:
        g = pd.read_csv(fh, sep="\t", dtype=str, keep_default_na=False, compression="gzip")
    acc = [a.split("|") for a in g["refseq_accessions"].tolist()]
    return pd.DataFrame(
        {
            "refseq_accession": [a for group in acc for a in group],
            "entrez_id": np.repeat(g["entrez_id"].to_numpy(), [len(a) for a in acc]),
        }
    )


@lru_cache(maxsize=1)
def refseq_version() -> dict:
    return json.loads(resources.files("seedsig").joinpath("data/refseq_entrez.json").read_text())


_XREF_COLUMNS = {
    "previous": "prev_symbol",
    "alias": "alias_symbol",
    "ensembl": "ensembl_gene_id",
    "entrez": "entrez_id",
    "refseq": "refseq_accession",
}


def _build_kind(kind: str) -> dict[str, tuple[str, ...]]:
    """key -> sorted tuple of current symbols (Entrez ids for ``refseq_entrez``), for one kind of key (tens of ms
    each)."""
    tab = hgnc_table()
    if kind == "approved":
        return {s: (s,) for s in tab["symbol"].tolist()}
    d: dict[str, set[str]] = {}
    if kind.endswith("_upper"):
        for key, syms in _LOOKUPS[kind[: -len("_upper")]].items():
            d.setdefault(key.upper(), set()).update(syms)
    elif kind == "refseq_entrez":
        rs = refseq_table()
        several = rs["refseq_accession"].duplicated(keep=False).to_numpy()  # accessions of several genes (none in 3.16)
        one = rs[~several]
        out = dict(zip(one["refseq_accession"].tolist(), zip(one["entrez_id"].tolist())))
        for acc, entrez in zip(rs["refseq_accession"][several].tolist(), rs["entrez_id"][several].tolist()):
            d.setdefault(acc, set()).add(entrez)
        out.update((k, tuple(sorted(v, key=int))) for k, v in d.items())
        return out
    else:
        for sym, field in zip(tab["symbol"].tolist(), tab[_XREF_COLUMNS[kind]].tolist()):
            if field:
                for key in field.split("|"):
                    key = key.strip()
                    if key:
                        d.setdefault(key, set()).add(sym)
    return {k: tuple(sorted(v)) for k, v in d.items()}


class _LazyLookups(dict):
    """``lookups()[kind]`` -> {key: sorted tuple of current symbols}; each kind is built on first use.

    Kinds: approved, previous, alias, ensembl, entrez, refseq (HGNC's one RefSeq accession per gene), and
    approved_upper / previous_upper / alias_upper (case-insensitive keys); refseq_entrez maps an unversioned RefSeq
    accession to its Entrez id(s) (org.Hs.eg.db), not to symbols.
    A CLI call that only meets approved symbols builds only ``approved``.
    """

    KINDS = (
        "approved",
        "previous",
        "alias",
        "ensembl",
        "entrez",
        "refseq",
        "approved_upper",
        "previous_upper",
        "alias_upper",
        "refseq_entrez",
    )

    def __missing__(self, kind: str) -> dict[str, tuple[str, ...]]:
        if kind not in self.KINDS:
            raise KeyError(kind)
        value = self[kind] = _build_kind(kind)
        return value


_LOOKUPS = _LazyLookups()


def lookups() -> _LazyLookups:
    """Lookup tables by kind of key, built lazily (see ``_LazyLookups``)."""
    return _LOOKUPS


Result = tuple[str, str, str]  # (symbol, status, detail)
_UNRESOLVED = ("unmapped", "ambiguous")


def _symbol_hit(x: str, lk: dict) -> tuple[str, tuple[str, ...]]:
    """(how, current symbols) by the resolution order: how is approved | previous | alias | case-<kind> | unmapped."""
    if x in lk["approved"]:
        return "approved", (x,)
    for kind in ("previous", "alias"):
        hit = lk[kind].get(x)
        if hit:
            return kind, hit
    u = x.upper()
    for kind in ("approved", "previous", "alias"):
        hit = lk[kind + "_upper"].get(u)
        if hit:
            return "case-" + kind, hit
    return "unmapped", ()


def _symbol_result(x: str, how: str, hit: tuple[str, ...]) -> Result:
    if how == "approved":
        return x, "approved", "approved HGNC symbol"
    if how == "unmapped":
        return x, "unmapped", "not an HGNC approved, previous or alias symbol; kept as given"
    case = how.startswith("case-")
    kind = how[len("case-") :] if case else how
    if len(hit) > 1:
        return (
            x,
            "ambiguous",
            f"{'case-insensitive ' if case else ''}{kind} symbol of {len(hit)} genes ({', '.join(hit)}); kept as given",
        )
    if case:
        return hit[0], "case", f"case-insensitive match to {kind} symbol of {hit[0]}"
    return hit[0], kind, f"{kind} symbol of {hit[0]}"


def _resolve_symbol(x: str, lk: dict) -> Result:
    return _symbol_result(x, *_symbol_hit(x, lk))


def _resolve_xref(x: str, table: dict, what: str) -> Result:
    key, note = x, ""
    if what == "ensembl":
        key = x.split(".", 1)[0] if x.upper().startswith("ENSG") else x
    elif what == "entrez":
        if "|" in x:  # TCGA-style SYMBOL|ENTREZ: the Entrez part
            key = x.rsplit("|", 1)[1].strip()
            note = f" {key} (Entrez part of '{x}')"
        key = key.removesuffix(".0")
    hit = table.get(key)
    if not hit:
        return x, "unmapped", f"{what} id{note} not in HGNC; kept as given"
    if len(hit) == 1:
        return hit[0], "mapped", f"{what} id{note} of {hit[0]}"
    return x, "ambiguous", f"{what} id{note} of {len(hit)} genes ({', '.join(hit)}); kept as given"


def _entrez_genes(entrez: Sequence[str], lk: dict) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(sorted current symbols of these Entrez ids, the ids that are no HGNC gene)."""
    table = lk["entrez"]
    genes: set[str] = set()
    missing = []
    for e in entrez:
        hit = table.get(e)
        if hit:
            genes.update(hit)
        else:
            missing.append(e)
    return tuple(sorted(genes)), tuple(missing)


_REFSEQ_TRANSCRIPT = re.compile(r"([NX][MR]_\d+)(?:\.\d+)?")
_REFSEQ_ANY = re.compile(r"[A-Z]{2}_\d+(?:\.\d+)?")


def _resolve_refseq(x: str, lk: dict) -> Result:
    m = _REFSEQ_TRANSCRIPT.fullmatch(x.upper())
    if m is None:
        if _REFSEQ_ANY.fullmatch(x.upper()):
            return (
                x,
                "unmapped",
                "RefSeq accession of a kind not mapped (only NM_, NR_, XM_, XR_ transcripts); kept as given",
            )
        return (
            x,
            "unmapped",
            "not a RefSeq accession (NM_, NR_, XM_, XR_; e.g. a GenBank accession or array contig); kept as given",
        )
    acc = m.group(1)
    entrez = lk["refseq_entrez"].get(acc, ())
    by_entrez = _entrez_genes(entrez, lk)[0] if entrez else ()
    by_hgnc = lk["refseq"].get(acc, ())  # HGNC's own RefSeq accession of a gene
    if not entrez and not by_hgnc:
        return (
            x,
            "unmapped",
            f"RefSeq accession {acc} not in HGNC nor in org.Hs.eg.db 3.16 (NCBI Gene 2022-09-12), e.g. retired; kept "
            "as given",
        )
    sources = (
        [
            f"Entrez {', '.join(entrez)} "
            + (f"of {', '.join(by_entrez)}" if by_entrez else "(no HGNC gene has this Entrez id)")
        ]
        if entrez
        else []
    )
    sources += [f"HGNC RefSeq accession of {', '.join(by_hgnc)}"] if by_hgnc else []
    genes = tuple(sorted(set(by_entrez) | set(by_hgnc)))
    if not genes:
        return x, "unmapped", f"RefSeq {acc}: {'; '.join(sources)}; kept as given"
    if len(genes) == 1:
        return genes[0], "mapped", f"RefSeq {acc}: {'; '.join(sources)}"
    return x, "ambiguous", f"RefSeq {acc}: {len(genes)} genes ({', '.join(genes)}): {'; '.join(sources)}; kept as given"
