#!/usr/bin/env python3
"""Derive the compact HGNC id table shipped in src/seedsig/data/ from the HGNC complete set.

Usage: python scripts/build_hgnc_table.py [../shared/datasets/hgnc_complete_set/hgnc_complete_set_2024-10.txt.gz]

Keeps, for every approved gene: hgnc_id, symbol, locus_group, entrez_id, ensembl_gene_id,
refseq_accession, prev_symbol, alias_symbol (multi-valued fields '|'-joined as in HGNC).
The output is deterministic (sorted by hgnc_id number, fixed gzip mtime) so re-running gives the same bytes.
"""

import gzip
import io
import json
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SRC = (
    Path(sys.argv[1])
    if len(sys.argv) > 1
    else ROOT.parent / "shared/datasets/hgnc_complete_set/hgnc_complete_set_2024-10.txt.gz"
)
OUT = ROOT / "src/seedsig/data/hgnc_compact.tsv.gz"
COLS = [
    "hgnc_id",
    "symbol",
    "locus_group",
    "entrez_id",
    "ensembl_gene_id",
    "refseq_accession",
    "prev_symbol",
    "alias_symbol",
]

df = pd.read_csv(SRC, sep="\t", dtype=str, usecols=COLS + ["status", "date_modified"], keep_default_na=False)
df = df[df["status"] == "Approved"]
version = df["date_modified"].max()
df["_n"] = df["hgnc_id"].str.replace("HGNC:", "", regex=False).astype(int)
df = df.sort_values("_n")[COLS]
buf = io.StringIO()
df.to_csv(buf, sep="\t", index=False)
OUT.parent.mkdir(parents=True, exist_ok=True)
with open(OUT, "wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", compresslevel=9, mtime=0, filename="") as gz:
    gz.write(buf.getvalue().encode())
(OUT.parent / "hgnc_compact.json").write_text(
    json.dumps(
        {"source": SRC.name, "hgnc_version_date_modified_max": version, "n_genes": int(len(df)), "columns": COLS},
        indent=2,
    )
    + "\n"
)
print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.2f} MB, {len(df)} genes, HGNC {version})")
