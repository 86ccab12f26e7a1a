"""Gene lengths for TPM: :func:`read_gene_lengths` reads a GTF/GFF (exonic union length per gene) or a two-column
table, :func:`match_lengths` gives each matrix row its length, and :func:`tpm` turns counts into transcripts per
million with them.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from seedsig.core.errors import SeedsigError


def _union_exon_lengths(exons: pd.DataFrame) -> pd.Series:
    """Exonic union length per gene (columns gene, chrom, strand, start, end; 1-based inclusive), vectorized.

    The same model as rnanorm's GTF lengths and featureCounts' merged exons: overlapping exons of one
    gene on one chromosome and strand are merged, lengths of the merged blocks summed (over chromosomes too).
    """
    e = exons.sort_values(["gene", "chrom", "strand", "start", "end"], kind="mergesort")
    key = e["gene"].astype(str) + "\t" + e["chrom"].astype(str) + "\t" + e["strand"].astype(str)
    k = pd.factorize(key)[0]
    start = e["start"].to_numpy(np.int64)
    end = e["end"].to_numpy(np.int64) + 1  # half-open
    # running max of the previous ends within a group: a block starts where start > that max
    prev_end = np.empty_like(end)
    prev_end[0] = -1
    if len(end) > 1:
        grp_end = pd.Series(end).groupby(k).cummax().to_numpy()
        prev_end[1:] = grp_end[:-1]
        prev_end[1:][k[1:] != k[:-1]] = -1
    # each exon adds the part beyond everything before it in its group
    add = np.maximum(end - np.maximum(start, prev_end), 0)
    return pd.Series(add).groupby(e["gene"].to_numpy()).sum()


def read_gene_lengths(path: str | Path) -> pd.Series:
    """Gene lengths from a GTF (exonic union per gene_id) or a two-column table (id, length).

    Returns the length in bp indexed by id (each id once). A GTF's lengths are keyed by its ``gene_id`` (as
    written and without a version suffix) and by ``gene_name`` (names shared by several gene_ids are left out).
    """
    p = Path(path)
    if not p.is_file():
        raise SeedsigError(
            f"gene length file '{p}' does not exist: set normalize.gene_lengths to a GTF or a two-column table (id, "
            "length)."
        )
    name = p.name.lower().removesuffix(".gz")
    if name.endswith((".gtf", ".gff", ".gff3")):
        return _gtf_gene_lengths(p)
    return _table_gene_lengths(p, name)


def _gtf_gene_lengths(p: Path) -> pd.Series:
    """Exonic union lengths of a GTF's genes, keyed by gene_id as written, then without version, then gene_name."""
    opener = gzip.open if p.name.lower().endswith(".gz") else open
    try:
        with opener(p, "rt") as fh:
            df = pd.read_csv(
                fh,
                sep="\t",
                comment="#",
                header=None,
                usecols=[0, 2, 3, 4, 6, 8],
                dtype={0: str, 2: str, 6: str, 8: str},
                low_memory=False,
            )
    except (pd.errors.ParserError, ValueError, OSError, UnicodeDecodeError) as exc:
        raise SeedsigError(f"gene length file '{p}' cannot be read as a GTF (9 tab-separated columns): {exc}") from None
    df = df[df[2] == "exon"]
    if df.empty:
        raise SeedsigError(
            f"gene length file '{p}': no 'exon' lines (column 3), so no exonic lengths. Give the GTF the counts "
            "were made with."
        )
    gid = df[8].str.extract(r'gene_id "([^"]+)"', expand=False)
    if gid.isna().all():
        raise SeedsigError(f"gene length file '{p}': exon lines have no gene_id attribute.")
    gname = df[8].str.extract(r'gene_name "([^"]+)"', expand=False)
    exons = pd.DataFrame(
        {
            "gene": gid.to_numpy(),
            "chrom": df[0].to_numpy(),
            "strand": df[6].to_numpy(),
            "start": df[3].to_numpy(),
            "end": df[4].to_numpy(),
        }
    ).dropna(subset=["gene"])
    lengths = _union_exon_lengths(exons)
    lengths.index = lengths.index.astype(str)
    stripped = pd.Series(lengths.to_numpy(), index=lengths.index.str.replace(r"\.\d+$", "", regex=True))
    names = pd.DataFrame({"gene": gid, "name": gname}).dropna().drop_duplicates().drop_duplicates("name", keep=False)
    by_name = pd.Series(
        lengths.reindex(names["gene"].astype(str)).to_numpy(), index=names["name"].astype(str).to_numpy()
    )
    # priority: gene_id as written, then without version (ids unique after stripping), then gene_name
    return _first_per_key(lengths, stripped[~stripped.index.duplicated(keep=False)], by_name)


def _table_gene_lengths(p: Path, name: str) -> pd.Series:
    """Lengths of a two-column table (id, length in bp; CSV when ``name`` ends in .csv), keyed by id as written, then
    without version."""
    try:
        tab = pd.read_csv(p, sep="," if name.endswith(".csv") else "\t", dtype=str, comment="#")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, OSError, UnicodeDecodeError) as exc:
        raise SeedsigError(f"gene length file '{p}' cannot be read as a table: {exc}") from None
    if tab.shape[1] < 2:
        raise SeedsigError(
            f"gene length file '{p}' has {tab.shape[1]} column(s); expected two: gene id, length in bp (with a header "
            "line), or a GTF."
        )
    ln = pd.to_numeric(tab.iloc[:, 1], errors="coerce")
    bad = tab.index[ln.isna() | (ln <= 0)]
    if len(bad):
        raise SeedsigError(
            f"gene length file '{p}', line {int(bad[0]) + 2}: length '{tab.iloc[bad[0], 1]}' of "
            f"'{tab.iloc[bad[0], 0]}' is not a positive number."
        )
    ids = tab.iloc[:, 0].astype(str).str.strip()
    if ids.duplicated().any():
        raise SeedsigError(
            f"gene length file '{p}': id '{ids[ids.duplicated()].iloc[0]}' has two lengths. Give one length per id."
        )
    full = pd.Series(ln.astype(float).to_numpy(), index=ids.to_numpy())
    return _first_per_key(full, pd.Series(full.to_numpy(), index=ids.str.replace(r"\.\d+$", "", regex=True).to_numpy()))


def _first_per_key(*tables: pd.Series) -> pd.Series:
    """One length per key: from the first table that has the key."""
    out = pd.concat(tables)
    return out[~out.index.duplicated(keep="first")].astype(float)


def match_lengths(
    keys: Sequence[Sequence[str]], lengths: pd.Series | Mapping[str, float], fallback: Sequence[str] | None = None
) -> np.ndarray:
    """One length per gene from its candidate keys (its input ids; Ensembl ids also without version);
    where none matches, from its ``fallback`` key (e.g. the current symbol, matched to a GTF's gene_name).

    A gene made of several input rows (``mean``/``sum`` collapse) gets the mean length of its rows. NaN when
    nothing matches. Vectorized (pandas lookups, no loop over genes).
    """
    table = lengths if isinstance(lengths, pd.Series) else pd.Series(lengths, dtype=float)
    n = len(keys)
    sizes = np.fromiter((len(k) for k in keys), dtype=np.int64, count=n)
    flat = pd.Series([str(k) for ks in keys for k in ks], dtype=object)
    owner = np.repeat(np.arange(n), sizes)
    val = flat.map(table)
    ens = flat.str.upper().str.startswith("ENS")
    val = val.fillna(flat.where(ens).str.split(".").str[0].map(table))
    out = val.groupby(owner).mean().reindex(np.arange(n)).to_numpy(dtype=float)
    if fallback is not None:
        fb = pd.Series(list(map(str, fallback)), dtype=object).map(table).to_numpy(dtype=float)
        out = np.where(np.isnan(out), fb, out)
    return out


def tpm(counts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Transcripts per million: counts / length, scaled to sum 1e6 per sample (as rnanorm's TPM)."""
    rate = np.asarray(counts, dtype=np.float64) / np.asarray(lengths, dtype=np.float64)[:, None] * 1e3
    return rate / rate.sum(axis=0, keepdims=True) * 1e6
