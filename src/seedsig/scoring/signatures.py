"""Signatures are data: gene lists with direction, organ, citation and completeness.

File formats a user can give (``signatures.files`` in the config, or ``seedsig score --signatures``):

* **TSV** (the project's own format, ``config/signatures/*.tsv``): one row per gene, columns
  ``signature`` and ``gene`` (required), ``direction`` (``up``/``down``/``NA``; NA or empty = up),
  ``weight`` (optional number), ``organ``, ``complete`` (``true``/``false``), ``citation``,
  ``original_symbol``. One file may hold several signatures.
* **GMT** (MSigDB): ``name<TAB>description<TAB>gene...``. A set ``X_UP`` and a set ``X_DN`` (or
  ``X_DOWN``; suffixes in any case) are merged into one signed signature ``X`` only when both halves are in
  the same file (``merged_from`` records the two names). Every other set keeps its name as given and is
  unsigned (all genes ``up``): a lone ``X_UP`` stays ``X_UP``, and a lone ``X_DN`` stays ``X_DN`` with its genes
  scored as a set of their own, so a high ``X_DN`` score means those genes are high. A set named ``X`` beside
  the halves ``X_UP``/``X_DN`` is an error (the merged set would take its name), as is a set name given twice.

A TSV never merges or renames: each ``signature`` value is one signature, signed by its ``direction`` column.

Gene symbols go through the same alias resolver as expression matrices: an outdated symbol (IL8,
CTGF, WHSC1) is resolved to its current HGNC symbol, and a symbol that cannot be resolved is kept as
given and reported, never dropped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from seedsig.core.errors import SeedsigError
from seedsig.ingest.ids import resolve_ids

_UP = {"up", "+", "+1", "1", "pos", "positive", "na", "", "nan"}
_DOWN = {"down", "dn", "-", "-1", "neg", "negative"}
_TRUE = {"true", "yes", "1", "complete"}
_FALSE = {"false", "no", "0", "partial"}


@dataclass(frozen=True)
class Signature:
    """One signature. ``genes`` are current HGNC symbols where resolvable (else as given)."""

    name: str
    genes: tuple[str, ...]
    directions: tuple[int, ...]
    weights: tuple[float, ...] | None = None
    organ: str = "NA"
    complete: bool | None = None
    citation: str = ""
    source: str = ""
    original_genes: tuple[str, ...] = ()
    resolution: tuple[str, ...] = field(default=(), compare=False)  # per gene: how it was resolved
    merged_from: tuple[str, ...] = ()  # GMT: the _UP and _DN/_DOWN sets merged into this signed signature

    def __post_init__(self) -> None:
        if len(self.genes) != len(self.directions):
            raise ValueError("genes and directions differ in length")

    @property
    def size(self) -> int:
        return len(self.genes)

    @property
    def up(self) -> list[str]:
        return [g for g, d in zip(self.genes, self.directions) if d > 0]

    @property
    def down(self) -> list[str]:
        return [g for g, d in zip(self.genes, self.directions) if d < 0]

    @property
    def signed(self) -> bool:
        return any(d < 0 for d in self.directions)

    def unresolved(self) -> list[str]:
        """Genes whose symbol could not be resolved to a unique current HGNC symbol."""
        return [g for g, r in zip(self.genes, self.resolution) if r in ("unmapped", "ambiguous")]

    def metadata(self) -> dict:
        return {
            "name": self.name,
            "n_genes": self.size,
            "n_up": len(self.up),
            "n_down": len(self.down),
            "organ": self.organ,
            "complete": self.complete,
            "citation": self.citation,
            "source": self.source,
            "merged_from": list(self.merged_from),
        }


def _direction(value: object, where: str) -> int:
    s = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value).strip().lower()
    if s in _UP:
        return 1
    if s in _DOWN:
        return -1
    raise SeedsigError(
        f"{where}: direction '{value}' is not one of up, down or NA. Use 'up' or 'down' (NA or empty means up)."
    )


def _complete(value: object, where: str) -> bool | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    s = str(value).strip().lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    if s in ("", "na", "unknown"):
        return None
    raise SeedsigError(f"{where}: complete '{value}' is not true or false.")


def _read_tsv(path: Path) -> list[dict]:
    try:
        df = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, comment=None)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise SeedsigError(
            f"signature file '{path}' cannot be parsed as a tab-separated "
            f"table: {exc}. See config/README.md for the format."
        ) from None
    missing = [c for c in ("signature", "gene") if c not in df.columns]
    if missing and len(df.columns) == 1 and ("," in df.columns[0] or ";" in df.columns[0]):
        sep = "commas" if "," in df.columns[0] else "semicolons"
        raise SeedsigError(
            f"signature file '{path}', line 1: the header '{df.columns[0][:60]}' is separated by {sep}, not tabs. "
            "A signature TSV must be tab-separated: save it as tab-separated text."
        )
    if missing:
        raise SeedsigError(
            f"signature file '{path}' lacks the column(s) {', '.join(missing)} "
            f"(found: {', '.join(map(str, df.columns))}). "
            "A signature TSV needs 'signature' and 'gene' columns (optional: "
            "direction, weight, organ, complete, citation), or use a .gmt file."
        )
    if df.empty:
        raise SeedsigError(f"signature file '{path}' has no gene rows.")
    groups: dict[str, dict] = {}
    for i, row in enumerate(df.to_dict("records"), start=2):
        where = f"signature file '{path}', line {i}"
        name = row["signature"].strip()
        gene = row["gene"].strip()
        if not name or not gene:
            raise SeedsigError(f"{where}: empty signature name or gene. Fill both columns or remove the line.")
        g = groups.setdefault(name, {"genes": [], "dirs": [], "weights": [], "meta": row, "line": i})
        g["genes"].append(gene)
        g["dirs"].append(_direction(row.get("direction"), where))
        w = (row.get("weight") or "").strip()
        if w and w.upper() != "NA":
            try:
                g["weights"].append(float(w))
            except ValueError:
                raise SeedsigError(f"{where}: weight '{w}' is not a number.") from None
        else:
            g["weights"].append(None)
    out = []
    for name, g in groups.items():
        meta = g["meta"]
        weights = g["weights"]
        if any(w is not None for w in weights) and any(w is None for w in weights):
            raise SeedsigError(
                f"signature file '{path}', signature '{name}': some genes have "
                "a weight and others not. Give every gene a weight or none."
            )
        out.append(
            {
                "name": name,
                "genes": g["genes"],
                "dirs": g["dirs"],
                "weights": None if weights[0] is None else weights,
                "organ": (meta.get("organ") or "NA").strip() or "NA",
                "complete": _complete(meta.get("complete"), f"signature file '{path}', line {g['line']}"),
                "citation": (meta.get("citation") or "").strip(),
            }
        )
    return out


_HALVES = (("_UP", 1), ("_DN", -1), ("_DOWN", -1))


def _half(name: str) -> tuple[str, int] | None:
    """``(base, direction)`` when ``name`` ends in _UP, _DN or _DOWN (any case), else None."""
    upper = name.upper()
    for suffix, d in _HALVES:
        if upper.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)], d
    return None


def _read_gmt(path: Path) -> list[dict]:
    """Sets of a GMT file, each under its own name; ``X_UP`` + ``X_DN``/``X_DOWN`` merged into a signed ``X``
    only when both an up and a down half are in the file. A lone half keeps its name, its genes direction up."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()  # without a BOM (Windows editors write one)
    except UnicodeDecodeError:
        raise SeedsigError(f"signature file '{path}' is not a text GMT file.") from None
    sets: list[tuple[int, str, str, list[str]]] = []  # line, name, description, genes
    line_of: dict[str, int] = {}
    for i, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.rstrip("\n").split("\t")]
        if len(parts) < 3 or not parts[0]:
            raise SeedsigError(
                f"signature file '{path}', line {i}: a GMT line needs a set "
                "name, a description and at least one gene, separated by tabs."
            )
        name = parts[0]
        if name in line_of:
            raise SeedsigError(
                f"signature file '{path}', line {i}: set '{name}' is already defined on line {line_of[name]}. "
                "Give each set one line, or rename one."
            )
        line_of[name] = i
        sets.append((i, name, parts[1], [g for g in parts[2:] if g]))
    if not sets:
        raise SeedsigError(f"signature file '{path}' holds no gene set.")
    halves: dict[str, set[int]] = {}
    for _, name, _, _ in sets:
        h = _half(name)
        if h:
            halves.setdefault(h[0], set()).add(h[1])
    merged = {base for base, dirs in halves.items() if dirs == {1, -1}}
    for i, name, _, _ in sets:
        if name in merged:
            parts = [n for _, n, _, _ in sets if (_half(n) or ("",))[0] == name]
            raise SeedsigError(
                f"signature file '{path}', line {i}: set '{name}' has the name of the signed set merged from "
                f"{' + '.join(parts)}. Rename '{name}' or the halves."
            )
    out: dict[str, dict] = {}
    for i, name, desc, genes in sets:
        h = _half(name)
        key, direction = (h[0], h[1]) if h and h[0] in merged else (name, 1)
        entry = out.setdefault(
            key,
            {
                "name": key,
                "genes": [],
                "dirs": [],
                "weights": None,
                "organ": "NA",
                "complete": None,
                "citation": desc,
                "merged_from": [],
            },
        )
        entry["genes"].extend(genes)
        entry["dirs"].extend([direction] * len(genes))
        if key != name:
            entry["merged_from"].append(name)
    return list(out.values())


def _dedupe(name: str, genes: list[str], dirs: list[int], path: Path) -> None:
    seen: dict[str, int] = {}
    for g, d in zip(genes, dirs):
        if g in seen and seen[g] != d:
            raise SeedsigError(
                f"signature file '{path}', signature '{name}': gene "
                f"'{g}' is listed both up and down. Keep one direction."
            )
        seen[g] = d


def read_signature_file(path: str | Path, resolve: bool = True) -> list[Signature]:
    """Parse one TSV or GMT signature file, resolving gene symbols to current HGNC symbols (``resolve=False``: the
    symbols as written, resolution ''; names, directions and file errors are the same, in a tenth of the time)."""

    p = Path(path)
    if not p.is_file():
        raise SeedsigError(
            f"signature file '{p}' does not exist: check 'signatures.files' "
            "in the config (paths are relative to the working directory)."
        )
    raw = _read_gmt(p) if p.suffix.lower() == ".gmt" else _read_tsv(p)
    out = []
    for s in raw:
        if resolve:
            mapping = resolve_ids(s["genes"], "symbol")
            symbols, status = mapping["symbol"].tolist(), mapping["status"].tolist()
        else:
            symbols, status = list(s["genes"]), [""] * len(s["genes"])
        _dedupe(s["name"], symbols, s["dirs"], p)  # after resolution: IL8 up + CXCL8 down is a conflict
        # Two input symbols resolving to one current gene: keep the first occurrence.
        genes, dirs, weights, origs, res, seen = [], [], [], [], [], set()
        for j, (g, d) in enumerate(zip(symbols, s["dirs"])):
            if g in seen:
                continue
            seen.add(g)
            genes.append(g)
            dirs.append(d)
            origs.append(s["genes"][j])
            res.append(status[j])
            if s["weights"] is not None:
                weights.append(s["weights"][j])
        out.append(
            Signature(
                name=s["name"],
                genes=tuple(genes),
                directions=tuple(dirs),
                weights=tuple(weights) if s["weights"] is not None else None,
                organ=s["organ"],
                complete=s["complete"],
                citation=s["citation"],
                source=str(p),
                original_genes=tuple(origs),
                resolution=tuple(res),
                merged_from=tuple(s.get("merged_from", ())),
            )
        )
    return out


def load_signatures(paths: Sequence[str | Path] | str | Path, resolve: bool = True) -> list[Signature]:
    """Load every signature from one or more files; signature names must be unique across files. ``resolve``:
    :func:`read_signature_file`."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    sigs: list[Signature] = []
    where: dict[str, str] = {}
    for path in paths:
        for s in read_signature_file(path, resolve):
            if s.name in where:
                raise SeedsigError(
                    f"signature '{s.name}' is defined twice: in '{where[s.name]}' and in '{path}'. Rename one of them."
                )
            where[s.name] = str(path)
            sigs.append(s)
    if not sigs:
        raise SeedsigError("no signature was loaded: list at least one file in 'signatures.files'.")
    return sigs


def signatures_table(sigs: Iterable[Signature]) -> pd.DataFrame:
    """Long table of every signature gene (for reports and sidecars)."""
    rows = []
    for s in sigs:
        for g, d, o, r in zip(s.genes, s.directions, s.original_genes or s.genes, s.resolution or ("",) * s.size):
            rows.append(
                {
                    "signature": s.name,
                    "gene": g,
                    "direction": "up" if d > 0 else "down",
                    "original_symbol": o,
                    "resolution": r,
                    "organ": s.organ,
                    "complete": s.complete,
                }
            )
    return pd.DataFrame(rows)


def up_minus_down(up: np.ndarray, down: np.ndarray | None, params: dict) -> np.ndarray:
    """A signed signature's score from the scores of its up genes and of its down genes (None: no down gene):
    up - down, the rule of every scoring method but singscore (native) and ucell (its own, in its registry entry)."""
    return up if down is None else up - down
