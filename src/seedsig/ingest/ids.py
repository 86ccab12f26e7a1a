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

import csv
import io
import json
import re
import warnings
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from seedsig.core.errors import SeedsigError
from seedsig.core.tables import read_bytes

ID_TYPES = ("symbol", "ensembl", "entrez", "refseq", "probe")


@lru_cache(maxsize=1)
def hgnc_table() -> pd.DataFrame:
    """The compact HGNC table (one row per approved gene; multi-valued fields '|'-joined)."""
    with resources.files("seedsig").joinpath("data/hgnc_compact.tsv.gz").open("rb") as fh:
        return pd.read_csv(fh, sep="\t", dtype=str, keep_default_na=False, compression="gzip")


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
    """key -> sorted tuple of current symbols (Entrez ids for ``refseq_entrez``), for one kind of key (tens of ms each)."""
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
            f"RefSeq accession {acc} not in HGNC nor in org.Hs.eg.db 3.16 (NCBI Gene 2022-09-12), e.g. retired; kept as given",
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


# ---------------------------------------------------------------- platform (probe) annotations
def _norm_name(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


# accepted column names, compared case-insensitively without spaces/underscores/dots, in order of preference
_ID_NAMES = ("ID", "ID_REF", "PROBE_ID", "Probe Set ID", "PROBE")
_SYMBOL_NAMES = ("Gene Symbol", "Symbol", "GENE_SYMBOL", "HGNC_Symbol", "Gene Symbols")
_ENTREZ_NAMES = (
    "ENTREZ_GENE_ID",
    "Gene ID",
    "Entrez_Gene_ID",
    "Entrez",
    "entrez_id",
    "Entrez Gene",
    "ENTREZID",
    "GENE",
)
_MULTI = re.compile(r"\s*///\s*")
_EMPTY_VALUES = ("", "---", "-", "NA", "null")


def _split_multi(text: str) -> list[str]:
    """Values of a multi-valued GEO cell (``A /// B`` or ``A///B``), stripped, without empties, in order, unique."""
    return list(dict.fromkeys(v for v in _MULTI.split(text.strip()) if v not in _EMPTY_VALUES))


def _pick_column(columns: list[str], names: Sequence[str]) -> str | None:
    norm = [_norm_name(c) for c in columns]
    for name in names:
        n = _norm_name(name)
        if n in norm:
            return columns[norm.index(n)]
    return None


def _table_text(text: str, path: Path) -> str:
    """The tab-separated table of a GEO .annot / SOFT platform file, or of a plain table after its header lines."""
    begins = [m.end() for m in re.finditer(r"(?im)^!platform_table_begin[ \t\r]*$", text)]
    if len(begins) > 1:
        raise SeedsigError(
            f"platform annotation {path} holds {len(begins)} platform tables (a family SOFT file of several platforms); "
            "give the annotation of the matrix's platform alone (GPLxxx.annot.gz or the GPL's SOFT file)."
        )
    if begins:
        start = begins[0] + 1
        end = re.search(r"(?im)^!platform_table_end", text[start:])
        if end is None:
            raise SeedsigError(
                f"platform annotation {path}: '!platform_table_begin' without '!platform_table_end'; the file is truncated: download it again."
            )
        return text[start : start + end.start()]
    pos = 0  # skip GEO / Affymetrix header lines (^..., !..., #...) and blank lines before the table
    while pos < len(text):
        nl = text.find("\n", pos)
        line = text[pos : nl if nl >= 0 else len(text)]
        if line.strip() and line[0] not in "^!#":
            break
        pos = len(text) if nl < 0 else nl + 1
    return text[pos:]


def _strip(s: pd.Series) -> pd.Series:
    return pd.Series([v.strip() for v in s.tolist()], index=s.index, dtype=object)


def _mostly_entrez(values: pd.Series) -> bool:
    """An Entrez column holds numbers (a column named 'GENE' may hold symbols): judged on its first 1,000 values."""
    first = [v.split("///", 1)[0].strip() for v in values.tolist() if v.strip()][:1000]
    return not first or sum(bool(re.fullmatch(r"\d+(\.0)?", v)) for v in first) >= 0.5 * len(first)


def read_platform_annotation(path: str | Path) -> pd.DataFrame:
    """Read a platform (GPL) annotation table mapping probe ids to gene symbols and/or Entrez ids.

    Accepted forms (gzipped or not): a GEO ``.annot`` or platform SOFT file (the table between
    ``!platform_table_begin`` and ``!platform_table_end``; columns ``ID``, ``Gene symbol``, ``Gene ID``); a plain
    tab- or comma-separated table with an ``ID`` column, after optional ``^``/``!``/``#`` header lines (the GEO platform
    table, e.g. columns ``ID``, ``Gene Symbol``, ``ENTREZ_GENE_ID``; an Affymetrix CSV with ``Probe Set ID``).
    Column names are matched case-insensitively, ignoring spaces, ``_`` and ``.``: probe id one of
    ``ID, ID_REF, PROBE_ID, Probe Set ID, PROBE``; symbol one of ``Gene Symbol, Symbol, GENE_SYMBOL, HGNC_Symbol``;
    Entrez one of ``ENTREZ_GENE_ID, Gene ID, Entrez_Gene_ID, Entrez, entrez_id, Entrez Gene, ENTREZID, GENE``
    (``GENE`` only when it holds numbers). At least one of symbol / Entrez is required.

    Returns one row per probe, in file order, with columns ``probe_id``, ``symbol``, ``entrez_id`` (the cells as
    written, multi-valued with ``///``; ``""`` when empty or when the file has no such column). ``attrs`` records
    ``source`` (the path), ``id_column``, ``symbol_column`` and ``entrez_column`` (original names, or None).
    """
    p = Path(path)
    if not p.is_file():
        raise SeedsigError(
            f"platform annotation {p} not found; give the path of the platform's annotation table (e.g. GPL96.annot.gz from GEO) in the cohort sheet's platform_annotation column."
        )
    text = read_bytes(p, "platform annotation")[1].decode("utf-8", errors="replace")
    return platform_annotation_from_table(_table_text(text, p), str(p))


def platform_annotation_from_table(table: str, source: str) -> pd.DataFrame:
    """The annotation :func:`read_platform_annotation` returns, from the text of a platform table (header line, then
    one row per probe; tab- or comma-separated) already cut out of its file; ``source`` names it in messages and
    ``attrs['source']`` (a path, or e.g. ``'GSE781_family.soft.gz (platform GPL96)'`` for a table inside a family SOFT)."""
    p = source
    header = table.split("\n", 1)[0]
    sep = "\t" if "\t" in header or "," not in header else ","
    quoted = sep == "," or header.lstrip().startswith('"')  # else quotes are text (a GEO title may start with one)
    try:
        df = pd.read_csv(
            io.StringIO(table),
            sep=sep,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            quoting=csv.QUOTE_MINIMAL if quoted else csv.QUOTE_NONE,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise SeedsigError(
            f"platform annotation {p}: cannot read its table ({str(e).strip()}); give a tab-separated GPL table with a header line."
        ) from None
    df.columns = [str(c).strip() for c in df.columns]
    columns = list(df.columns)
    found = ", ".join(columns[:30]) + (" ..." if len(columns) > 30 else "")
    id_col = _pick_column(columns, _ID_NAMES)
    if id_col is None:
        raise SeedsigError(
            f"platform annotation {p}: no probe id column ({', '.join(_ID_NAMES)}); columns found: {found}. "
            "Give the GEO platform table (first column ID) or the GPL .annot file, with its header line."
        )
    sym_col = _pick_column(columns, _SYMBOL_NAMES)
    entrez_col = None
    for name in _ENTREZ_NAMES:  # first accepted name whose column holds numbers
        c = _pick_column(columns, (name,))
        if c is not None and c not in (id_col, sym_col) and _mostly_entrez(df[c]):
            entrez_col = c
            break
    if sym_col is None and entrez_col is None:
        raise SeedsigError(
            f"platform annotation {p}: no gene symbol column ({', '.join(_SYMBOL_NAMES)}) and no Entrez gene id column "
            f"({', '.join(_ENTREZ_NAMES)}); columns found: {found}. Give an annotation mapping probes to genes "
            "(e.g. the GEO GPL table with 'Gene Symbol' and 'ENTREZ_GENE_ID', or GPLxxx.annot.gz), or rename its gene column."
        )
    out = pd.DataFrame(
        {
            "probe_id": _strip(df[id_col]),
            "symbol": _strip(df[sym_col]) if sym_col else "",
            "entrez_id": _strip(df[entrez_col]) if entrez_col else "",
        }
    )
    out = out[(out["probe_id"] != "") & ~out["probe_id"].str.startswith("!")]  # GEO '!..._table_end' lines
    out = out.drop_duplicates().reset_index(drop=True)
    dup = out["probe_id"][out["probe_id"].duplicated()].unique().tolist()
    if dup:
        raise SeedsigError(
            f"platform annotation {p}: probe ids annotated twice with different genes: {', '.join(dup[:5])}{' ...' if len(dup) > 5 else ''}. Give one row per probe."
        )
    if out.empty:
        raise SeedsigError(f"platform annotation {p}: the table has no probe rows; download the annotation again.")
    out.attrs.update(source=source, id_column=id_col, symbol_column=sym_col, entrez_column=entrez_col)
    return out


def _annotation_result(
    sym_text: str, entrez_text: str, sym_col: str | None, entrez_col: str | None, lk: dict, sym_cache: dict
) -> tuple[str | None, str, str]:
    """(current symbol or None, status, detail) of one probe's annotation cells."""
    prefix = ""
    entrez = (
        [e.removesuffix(".0") for e in _split_multi(entrez_text) if e.replace(".", "", 1).isdigit()]
        if entrez_col
        else []
    )
    if entrez:
        genes, missing = _entrez_genes(entrez, lk)
        what = f"{entrez_col} '{entrez_text}'"
        if genes:
            rest = f" ({', '.join(missing)}: no HGNC gene)" if missing else ""
            if len(genes) == 1:
                return (
                    genes[0],
                    "mapped",
                    f"{what}: Entrez {', '.join(e for e in entrez if e not in missing)} of {genes[0]}{rest}",
                )
            return None, "ambiguous", f"{what}: {len(genes)} genes ({', '.join(genes)}){rest}; kept as given"
        prefix = f"{what}: no HGNC gene; "
    symbols = _split_multi(sym_text) if sym_col else []
    if not symbols:
        if prefix:
            return None, "unmapped", f"{prefix}no {sym_col or 'symbol'}; kept as given"
        cols = " and ".join(f"'{c}'" for c in (sym_col, entrez_col) if c)
        return None, "unmapped", f"no gene in the platform annotation ({cols} empty); kept as given"
    what = f"{sym_col} '{sym_text}'"
    hits = []
    for s in symbols:
        h = sym_cache.get(s)
        if h is None:
            h = sym_cache[s] = _symbol_hit(s, lk)
        hits.append(h)
    if len(symbols) == 1:
        sym, status, detail = _symbol_result(symbols[0], *hits[0])
        return (
            (None if status in _UNRESOLVED else sym),
            ("mapped" if status not in _UNRESOLVED else status),
            f"{prefix}{what}: {detail}",
        )
    genes = tuple(sorted({g for _, hit in hits for g in hit}))
    parts = "; ".join(f"{s}: {_symbol_result(s, *h)[2].removesuffix('; kept as given')}" for s, h in zip(symbols, hits))
    if len(genes) == 1:
        return genes[0], "mapped", f"{prefix}{what}: {genes[0]} ({parts})"
    if genes:
        return None, "ambiguous", f"{prefix}{what}: {len(genes)} genes ({', '.join(genes)}) ({parts}); kept as given"
    return None, "unmapped", f"{prefix}{what}: no HGNC gene ({parts}); kept as given"


def _resolve_probes(ids: list[str], annotation: str | Path | pd.DataFrame, require_match: bool) -> list[Result]:
    """Results for distinct probe ids: one index lookup per id, one resolution per distinct annotation text."""
    ann = annotation if isinstance(annotation, pd.DataFrame) else read_platform_annotation(annotation)
    if not {"probe_id", "symbol", "entrez_id"} <= set(ann.columns) or "source" not in ann.attrs:
        raise SeedsigError(
            "annotation must be the path of a platform annotation file (or the table read_platform_annotation returns)."
        )
    source = ann.attrs["source"]
    name = Path(source).name
    pos = pd.Index(ann["probe_id"]).get_indexer(ids)
    if require_match and len(ids) and (pos < 0).all():
        raise SeedsigError(
            f"platform annotation {source}: none of the {len(ids)} probe ids of the matrix is in its {ann.attrs.get('id_column', 'ID')} column "
            f"(e.g. matrix '{min(ids)}', annotation '{ann['probe_id'].iloc[0]}'). Give the annotation of the matrix's platform (the GPL of the series), or check gene_id."
        )
    lk = lookups()
    sym_col, entrez_col = ann.attrs.get("symbol_column"), ann.attrs.get("entrez_column")
    symbols, entrez = ann["symbol"].to_numpy(dtype=object), ann["entrez_id"].to_numpy(dtype=object)
    by_text: dict[tuple[str, str], tuple[str | None, str, str]] = {}
    sym_cache: dict[str, tuple[str, tuple[str, ...]]] = {}
    absent = ("unmapped", f"not in platform annotation {name}; kept as given")
    out: list[Result] = []
    for x, i in zip(ids, pos.tolist()):
        if i < 0:
            out.append((x, *absent))
            continue
        key = (symbols[i], entrez[i])
        r = by_text.get(key)
        if r is None:
            r = by_text[key] = _annotation_result(key[0], key[1], sym_col, entrez_col, lk, sym_cache)
        out.append((x if r[0] is None else r[0], r[1], r[2]))
    return out


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
            "gene_id 'probe' needs a platform annotation: give the GPL annotation file (probe -> gene symbol / Entrez id, e.g. GPL96.annot.gz from GEO) in the cohort sheet's platform_annotation column."
        )
    if id_type != "probe" and has_annotation:
        raise SeedsigError(
            f"a platform annotation ({annotation if not isinstance(annotation, pd.DataFrame) else 'table'}) is only used with gene_id 'probe', but gene_id is '{id_type}'; set gene_id: probe or remove platform_annotation."
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
    index = matrix.index.astype(str).str.strip()
    if index.has_duplicates:
        dup = index[index.duplicated()].unique().tolist()
        raise SeedsigError(
            f"gene ids must be unique before harmonizing; duplicated: {', '.join(dup[:10])}{' ...' if len(dup) > 10 else ''}. Remove or rename the duplicated rows."
        )
    if resolved is not None and resolved["input_id"].tolist() == list(index):
        mapping = resolved[["input_id", "symbol", "status", "detail"]].copy()
    else:
        mapping = resolve_ids(list(index), id_type, annotation, require_match=True)
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
        pairs = [
            f"'{c}' (given as is) vs {', '.join(repr(x) for x in labels[(symbols == c) & ~unresolved])}"
            for c in clash[:5]
        ]
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
            w = (
                pd.Series(keep_pos, index=symbols[keep_pos]).reindex(symbols[lost]).to_numpy()
            )  # winner of each lost row
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
            out = pd.DataFrame(values[kept], index=symbols[kept], columns=matrix.columns)
        else:
            grouped = pd.DataFrame(values, columns=matrix.columns).groupby(symbols, sort=False)
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
    else:
        out = pd.DataFrame(values, index=symbols, columns=matrix.columns)
    out.index = pd.Index(out.index.astype(str), name="gene")
    out = out.sort_index(kind="mergesort")
    mapping["detail"] = detail.to_numpy()
    mapping["kept"] = kept
    return out, mapping.sort_values("input_id", kind="mergesort").reset_index(drop=True)


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
