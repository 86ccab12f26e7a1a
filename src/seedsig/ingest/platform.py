"""Platform (GPL) probe annotations: reading a GEO ``.annot`` / SOFT / plain annotation table, and resolving probe
ids to current HGNC symbols through it (Entrez column first, else the symbol column; see :mod:`seedsig.ingest.ids`)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from seedsig.core.errors import SeedsigError
from seedsig.core.tables import read_bytes
from seedsig.ingest.hgnc import _UNRESOLVED, Result, _entrez_genes, _symbol_hit, _symbol_result, lookups


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
            f"platform annotation {path} holds {len(begins)} platform tables (a family SOFT file of several "
            "platforms); "
            "give the annotation of the matrix's platform alone (GPLxxx.annot.gz or the GPL's SOFT file)."
        )
    if begins:
        start = begins[0] + 1
        end = re.search(r"(?im)^!platform_table_end", text[start:])
        if end is None:
            raise SeedsigError(
                f"platform annotation {path}: '!platform_table_begin' without '!platform_table_end'; the file is "
                "truncated: download it again."
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
            f"platform annotation {p} not found; give the path of the platform's annotation table (e.g. GPL96.annot.gz "
            "from GEO) in the cohort sheet's platform_annotation column."
        )
    text = read_bytes(p, "platform annotation")[1].decode("utf-8", errors="replace")
    return platform_annotation_from_table(_table_text(text, p), str(p))


def platform_annotation_from_table(table: str, source: str) -> pd.DataFrame:
    """The annotation :func:`read_platform_annotation` returns, from the text of a platform table (header line, then
    one row per probe; tab- or comma-separated) already cut out of its file; ``source`` names it in messages and
    ``attrs['source']`` (a path, or e.g. ``'GSE781_family.soft.gz (platform GPL96)'`` for a table inside a family
    SOFT)."""
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
            f"platform annotation {p}: cannot read its table ({str(e).strip()}); give a tab-separated GPL table with a "
            "header line."
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
            "(e.g. the GEO GPL table with 'Gene Symbol' and 'ENTREZ_GENE_ID', or GPLxxx.annot.gz), or rename its gene "
            "column."
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
            f"platform annotation {p}: probe ids annotated twice with different genes: "
            f"{', '.join(dup[:5])}{' ...' if len(dup) > 5 else ''}. Give one row per probe."
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
            f"platform annotation {source}: none of the {len(ids)} probe ids of the matrix is in its "
            f"{ann.attrs.get('id_column', 'ID')} column "
            f"(e.g. matrix '{min(ids)}', annotation '{ann['probe_id'].iloc[0]}'). Give the annotation of the matrix's "
            "platform (the GPL of the series), or check gene_id."
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
