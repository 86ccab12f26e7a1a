#!/usr/bin/env python3
"""Build the project's signature files in config/signatures/ from the curated facts in ../shared/signatures.

Usage: python scripts/build_signatures.py [path/to/shared/signatures]

Writes three files in the project's signature TSV format (columns: signature, gene, direction, weight,
organ, complete, citation, original_symbol; see config/README.md):
  self_seeding.tsv       SS (Kim 2009, 4 genes) and its sub-scores SS_attraction, SS_infiltration
  organ_metastasis.tsv   LMS, BoMS, BrMS (partial lists, marked complete=false)
  msigdb_metastasis.tsv  MSigDB SMID relapse sets (lung, bone, brain, liver, pleura; up/down merged),
                         LANDEMAINE_LUNG_METASTASIS, TAVAZOIE_METASTASIS
"""

import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SRC = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared/signatures"
OUT = ROOT / "config/signatures"

KIM = "Kim MY et al. (2009) Tumor self-seeding by circulating cancer cells. Cell 139:1315-1326. PMID 20064377"
SPEC = {
    "self_seeding.tsv": [
        ("SS", "SS.tsv", None, "self-seeding", True, KIM),
        (
            "SS_attraction",
            "SS.tsv",
            ["IL6", "CXCL8"],
            "self-seeding",
            True,
            KIM + " (IL6, IL8: CTC attractants made by the primary tumour)",
        ),
        (
            "SS_infiltration",
            "SS.tsv",
            ["FSCN1", "MMP1"],
            "self-seeding",
            True,
            KIM + " (FSCN1, MMP1: infiltration mediators of seeder cells)",
        ),
    ],
    "organ_metastasis.tsv": [
        (
            "LMS",
            "LMS.tsv",
            None,
            "lung",
            False,
            "Minn AJ et al. (2005) Genes that mediate breast cancer metastasis to lung. Nature 436:518-524. PMID "
            "16049480; 14 of 54 genes as tabulated in Williams et al. (2009) Breast Cancer Res 11:R26, Table 6; "
            "direction not given",
        ),
        (
            "BoMS",
            "BoMS.tsv",
            None,
            "bone",
            False,
            "Kang Y et al. (2003) A multigenic program mediating breast cancer metastasis to bone. Cancer Cell "
            "3:537-549. PMID 12842083; 2 of 102 genes (mediators named in the abstract)",
        ),
        (
            "BrMS",
            "BrMS.tsv",
            None,
            "brain",
            False,
            "Bos PD et al. (2009) Genes that mediate breast cancer metastasis to the brain. Nature 459:1005-1009. "
            "PMID 19421193; 3 of 17 genes (mediators named in the abstract)",
        ),
    ],
    "msigdb_metastasis.tsv": [
        (
            f"SMID_RELAPSE_{o.upper()}",
            f"MSIGDB_SMID_BREAST_CANCER_RELAPSE_IN_{o.upper()}.tsv",
            None,
            o,
            True,
            "Smid M et al. (2008) Subtypes of breast cancer show preferential site of relapse. Cancer Res "
            f"68:3108-3114. PMID 18451135; MSigDB C2 v6.2 SMID_BREAST_CANCER_RELAPSE_IN_{o.upper()}_UP/_DN",
        )
        for o in ("lung", "bone", "brain", "liver", "pleura")
    ]
    + [
        (
            "LANDEMAINE_LUNG_METASTASIS",
            "MSIGDB_LANDEMAINE_LUNG_METASTASIS.tsv",
            None,
            "lung",
            True,
            "Landemaine T et al. (2008) A six-gene signature predicting breast cancer lung metastasis. Cancer Res "
            "68:6092-6099. PMID 18676831; MSigDB C2 v6.2 LANDEMAINE_LUNG_METASTASIS (unsigned)",
        ),
        (
            "TAVAZOIE_METASTASIS",
            "MSIGDB_TAVAZOIE_METASTASIS.tsv",
            None,
            "metastasis",
            True,
            "Tavazoie SF et al. (2008) Endogenous human microRNAs that suppress breast cancer metastasis. Nature "
            "451:147-152. PMID 18185580; MSigDB C2 v6.2 TAVAZOIE_METASTASIS (unsigned)",
        ),
    ],
}

OUT.mkdir(parents=True, exist_ok=True)
for fname, entries in SPEC.items():
    rows = []
    for name, src, subset, organ, complete, citation in entries:
        df = pd.read_csv(SRC / src, sep="\t", dtype=str, keep_default_na=False)
        if subset is not None:
            df = df[df["gene_symbol"].isin(subset)]
            assert len(df) == len(subset), (name, subset)
        for r in df.itertuples(index=False):
            direction = r.direction if r.direction in ("up", "down") else "NA"
            rows.append(
                {
                    "signature": name,
                    "gene": r.gene_symbol,
                    "direction": direction,
                    "weight": r.weight or "",
                    "organ": organ,
                    "complete": str(complete).lower(),
                    "citation": citation,
                    "original_symbol": r.original_symbol,
                }
            )
    pd.DataFrame(rows).to_csv(OUT / fname, sep="\t", index=False)
    print(f"wrote {OUT / fname}: {len(rows)} rows, {len(entries)} signatures")
