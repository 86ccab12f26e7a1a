#!/usr/bin/env python3
"""Derive the compact RefSeq accession -> Entrez table shipped in src/seedsig/data/ from org.Hs.eg.db.

Usage: python scripts/build_refseq_table.py [SOURCE [OUT_DIR]]
  SOURCE  default ../shared/datasets/org_hs_eg_db_3.16_refseq_alias/refseq_to_entrez_symbol.tsv.gz
  OUT_DIR default src/seedsig/data (tests rebuild into a temporary directory and compare the bytes)

The source is the ``refseq_to_entrez_symbol`` export of Bioconductor org.Hs.eg.db 3.16.0 (NCBI Gene 2022-09-12; see
its SOURCE.md). Keeps the transcript accessions (NM_, NR_, XM_, XR_; unversioned) and their Entrez gene id; NCBI's
symbol is dropped on purpose: ``seedsig.ingest.ids`` names genes by joining the Entrez id to the HGNC table (NCBI and
HGNC symbols differ, e.g. for mitochondrial genes: COX2 vs MT-CO2).

Output ``refseq_entrez.tsv.gz``: one row per Entrez gene (sorted by Entrez number), columns ``entrez_id`` and
``refseq_accessions`` ('|'-joined, sorted), which is ~10% smaller than one row per accession. Deterministic (fixed
gzip mtime, no file name in the gzip header), so re-running gives the same bytes. ``refseq_entrez.json`` records the
source, its sha256 and the counts.
"""

import gzip
import hashlib
import io
import json
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SRC = (
    Path(sys.argv[1])
    if len(sys.argv) > 1
    else ROOT.parent / "shared/datasets/org_hs_eg_db_3.16_refseq_alias/refseq_to_entrez_symbol.tsv.gz"
)
OUT = (Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "src/seedsig/data") / "refseq_entrez.tsv.gz"
KINDS = ("NM_", "NR_", "XM_", "XR_")

df = pd.read_csv(SRC, sep="\t", dtype=str, usecols=["refseq_accession", "entrez_id"], keep_default_na=False)
df = df[df["refseq_accession"].str[:3].isin(KINDS)].drop_duplicates()
assert df["refseq_accession"].str.fullmatch(r"[NX][MR]_\d+").all(), "unexpected accession format (versioned?)"
assert df["entrez_id"].str.fullmatch(r"\d+").all(), "non-numeric Entrez id"
n_multi = int(df["refseq_accession"].duplicated().sum())  # accessions of several genes (none in 3.16)
df = df.sort_values("refseq_accession", kind="mergesort")
grouped = df.groupby("entrez_id", sort=False)["refseq_accession"].agg("|".join).reset_index()
grouped = grouped.rename(columns={"refseq_accession": "refseq_accessions"})
grouped = grouped.iloc[grouped["entrez_id"].astype(int).argsort(kind="mergesort")]
buf = io.StringIO()
grouped.to_csv(buf, sep="\t", index=False, lineterminator="\n")
OUT.parent.mkdir(parents=True, exist_ok=True)
with open(OUT, "wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", compresslevel=9, mtime=0, filename="") as gz:
    gz.write(buf.getvalue().encode())
meta = {
    "source": f"org.Hs.eg.db 3.16.0 (NCBI Gene 2022-09-12), {SRC.name}",
    "source_sha256": hashlib.sha256(SRC.read_bytes()).hexdigest(),
    "kinds": list(KINDS),
    "n_accessions": len(df),
    "n_accessions_by_kind": {k: int((df["refseq_accession"].str[:3] == k).sum()) for k in KINDS},
    "n_accessions_of_several_genes": n_multi,
    "n_entrez_genes": len(grouped),
    "columns": ["entrez_id", "refseq_accessions"],
}
(OUT.parent / "refseq_entrez.json").write_text(json.dumps(meta, indent=2) + "\n")
print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.2f} MB, {len(df)} accessions of {len(grouped)} Entrez genes)")
