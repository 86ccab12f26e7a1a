"""Gene identifier resolution and matrix harmonization, on real identifiers (HGNC 2024-10 table shipped with the
package).

Exact counts below are for the shipped tables (``hgnc_version()``, ``refseq_version()`` = org.Hs.eg.db 3.16); rebuilding
a table from a newer release will move them, which is what these tests are for. Real files are read in place from
../shared/datasets (the test is skipped when it is absent); a few tests write small variants of them into tmp_path.
"""

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, shared_file

from seedsig.core.errors import SeedsigError
from seedsig.core.tables import read_matrix
from seedsig.ingest.ids import (
    COLLAPSE_RULES,
    ID_TYPES,
    harmonize,
    hgnc_table,
    hgnc_version,
    lookups,
    read_platform_annotation,
    refseq_table,
    refseq_version,
    representative_rows,
    resolve_ids,
)

MAPPING_COLUMNS = ["input_id", "symbol", "status", "detail", "kept"]


def one(x, kind="symbol"):
    return resolve_ids([x], kind).iloc[0]


def test_shipped_table_is_hgnc_2024_10():
    v = hgnc_version()
    assert v["source"] == "hgnc_complete_set_2024-10.txt.gz" and v["n_genes"] == len(hgnc_table()) == 43882


# ---------------------------------------------------------------- the "Checks done" table of
# hgnc_complete_set/SOURCE.md
@pytest.mark.parametrize(
    "query,symbol,status",
    [
        ("IL8", "CXCL8", "previous"),
        ("CTGF", "CCN2", "previous"),
        ("SEPT8", "SEPTIN8", "previous"),
        ("AK3", "AK3", "approved"),  # previous symbol of AK4, but approved for another gene: approved wins
        ("CXCL8", "CXCL8", "approved"),
        ("IL6", "IL6", "approved"),
        ("FSCN1", "FSCN1", "approved"),
        ("MMP1", "MMP1", "approved"),
        ("il6", "IL6", "case"),
        ("WHSC1", "NSD2", "previous"),
        ("IL-8", "CXCL8", "alias"),
        ("NOT_A_GENE", "NOT_A_GENE", "unmapped"),
        (" IL8 ", "CXCL8", "previous"),  # stray whitespace
    ],
)
def test_hgnc_checks(query, symbol, status):
    r = one(query)
    assert (r["symbol"], r["status"]) == (symbol, status)


@pytest.mark.parametrize("query,targets", [("COX2", ("MT-CO2", "PTGS2")), ("FANCD", ("BRCA2", "FANCD2"))])
def test_ambiguous_are_never_guessed(query, targets):
    r = one(query)
    assert r["status"] == "ambiguous" and r["symbol"] == query
    assert all(t in r["detail"] for t in targets) and "kept as given" in r["detail"]


@pytest.mark.parametrize(
    "entrez,ensembl,symbol",
    [
        ("3576", "ENSG00000169429", "CXCL8"),
        ("1490", "ENSG00000118523", "CCN2"),
        ("23176", "ENSG00000164402", "SEPTIN8"),
        ("3569", "ENSG00000136244", "IL6"),
        ("6624", "ENSG00000075618", "FSCN1"),
        ("4312", "ENSG00000196611", "MMP1"),
    ],
)
def test_entrez_and_ensembl(entrez, ensembl, symbol):
    for q in (entrez, entrez + ".0", f" {entrez} "):  # ids read as floats keep a '.0'
        r = one(q, "entrez")
        assert (r["symbol"], r["status"]) == (symbol, "mapped")
    for q in (ensembl, ensembl + ".11"):  # GENCODE-style versioned ids
        r = one(q, "ensembl")
        assert (r["symbol"], r["status"]) == (symbol, "mapped")


def test_xref_unmapped_kept_and_bad_id_type():
    assert tuple(one("ENSG99999999999", "ensembl")[["symbol", "status"]]) == ("ENSG99999999999", "unmapped")
    assert tuple(one("999999999", "entrez")[["symbol", "status"]]) == ("999999999", "unmapped")
    assert one("3576.5", "entrez")["status"] == "unmapped"  # only a float's '.0' is stripped
    assert ID_TYPES == ("symbol", "ensembl", "entrez", "refseq", "probe")
    with pytest.raises(SeedsigError, match="gene_id 'illumina' is not one of symbol, ensembl, entrez, refseq, probe"):
        resolve_ids(["IL8"], "illumina")


def test_resolve_ids_shape_order_and_repeats():
    r = resolve_ids(["MMP1", "IL8", "FOO", "IL8"], "symbol")
    assert list(r.columns) == ["input_id", "symbol", "status", "detail"]
    assert r["input_id"].tolist() == ["MMP1", "IL8", "FOO", "IL8"] and r["symbol"].tolist() == [
        "MMP1",
        "CXCL8",
        "FOO",
        "CXCL8",
    ]


def test_lookups_are_lazy_and_sorted():
    lk = lookups()
    assert lk["alias"]["COX2"] == ("MT-CO2", "PTGS2") and lk["previous_upper"]["IL8"] == ("CXCL8",)
    assert lk["entrez"]["3576"] == ("CXCL8",) and lk["approved"]["AK3"] == ("AK3",)
    assert lk["refseq_entrez"]["NM_000584"] == ("3576",) and lk["refseq"]["NM_000584"] == ("CXCL8",)
    with pytest.raises(KeyError):
        lk["probe"]


# ---------------------------------------------------------------- real matrices in ../shared/datasets
def test_hgnc_2018_symbols_resolve_in_2024():
    """Version drift: every approved symbol of the 2018 HGNC release, resolved with the 2024 table."""
    old = pd.read_csv(
        shared_file("hgnc_complete_set", "hgnc_complete_set_2018-11.txt.gz"),
        sep="\t",
        dtype=str,
        keep_default_na=False,
        usecols=["symbol", "status", "entrez_id"],
    )
    old = old[old["status"] == "Approved"]
    by_symbol = resolve_ids(old["symbol"].tolist(), "symbol")
    counts = by_symbol["status"].value_counts().to_dict()
    assert counts == {"approved": 39741, "previous": 1177, "unmapped": 608, "alias": 28, "ambiguous": 5, "case": 3}
    assert by_symbol.set_index("input_id").loc["SEPT8", "symbol"] == "SEPTIN8"
    # the same genes through their (stable) Entrez ids land on the same symbol almost always
    by_entrez = resolve_ids(old["entrez_id"].tolist(), "entrez")
    both = (by_entrez["status"] == "mapped").to_numpy() & ~by_symbol["status"].isin(
        ["unmapped", "ambiguous"]
    ).to_numpy()
    agree = (by_entrez["symbol"].to_numpy()[both] == by_symbol["symbol"].to_numpy()[both]).mean()
    assert both.sum() > 40000 and agree > 0.999


def test_gse1992_old_symbols():
    e = read_matrix(shared_file("gse1992_unc_hu2006_survjamda", "expression.tsv.gz"))
    m = resolve_ids(list(e.index), "symbol").set_index("input_id")
    assert m["status"].value_counts().to_dict() == {
        "approved": 13386,
        "previous": 2121,
        "unmapped": 13,
        "ambiguous": 7,
        "alias": 1,
    }
    assert tuple(m.loc["IL8", ["symbol", "status"]]) == ("CXCL8", "previous")
    assert tuple(m.loc["CTGF", ["symbol", "status"]]) == ("CCN2", "previous")
    assert tuple(m.loc["PEO1", ["symbol", "status"]]) == ("TWNK", "alias")
    assert m.loc["MUM1", "status"] == "ambiguous" and m.loc["MUM1", "symbol"] == "MUM1"
    assert (m.loc[["IL6", "FSCN1", "MMP1"], "status"] == "approved").all()
    unresolved = m[m["status"].isin(["unmapped", "ambiguous"])]
    assert (unresolved["symbol"] == unresolved.index).all()  # kept under their own id


def test_gse1992_harmonize_collapses_old_and_new_symbols():
    e = read_matrix(shared_file("gse1992_unc_hu2006_survjamda", "expression.tsv.gz"))
    out, mp = harmonize(e, "symbol", "max_mean")
    assert out.shape == (15516, 124) and out.index.is_unique and out.index.is_monotonic_increasing
    assert list(mp.columns) == MAPPING_COLUMNS and len(mp) == len(e) and int((~mp["kept"]).sum()) == 12
    assert {"CXCL8", "IL6", "FSCN1", "MMP1", "CCN2"} <= set(out.index) and "IL8" not in out.index
    mp = mp.set_index("input_id")
    # GJA7 (old name of GJC1) and GJC1 are both on the array: the row with the higher mean is kept
    means = e.loc[["GJA7", "GJC1"]].mean(axis=1)
    winner, loser = means.idxmax(), means.idxmin()
    assert mp.loc[winner, "kept"] and not mp.loc[loser, "kept"]
    assert f"collapsed into GJC1 (max_mean: lower mean than '{winner}')" in mp.loc[loser, "detail"]
    np.testing.assert_array_equal(out.loc["GJC1"].to_numpy(), e.loc[winner].to_numpy())
    assert out.loc["CXCL8"].equals(e.loc["IL8"].rename("CXCL8"))


def test_airway_ensembl_ids():
    e = read_matrix(shared_file("airway_rnaseq_counts", "airway_counts.tsv.gz"))
    m = resolve_ids(list(e.index), "ensembl").set_index("input_id")
    assert m["status"].value_counts().to_dict() == {"mapped": 39117, "unmapped": 24984, "ambiguous": 1}
    for ens, sym in [
        ("ENSG00000169429", "CXCL8"),
        ("ENSG00000136244", "IL6"),
        ("ENSG00000075618", "FSCN1"),
        ("ENSG00000196611", "MMP1"),
    ]:
        assert m.loc[ens, "symbol"] == sym
    unmapped = m[m["status"] == "unmapped"]
    assert (unmapped["symbol"] == unmapped.index).all()
    # the same ids with a GENCODE version suffix resolve identically
    versioned = resolve_ids([f"{i}.7" for i in e.index], "ensembl")
    assert (versioned["status"].to_numpy() == m["status"].to_numpy()).all()
    mapped = (m["status"] == "mapped").to_numpy()
    assert (versioned["symbol"].to_numpy()[mapped] == m["symbol"].to_numpy()[mapped]).all()
    # counts are summed per gene; here no two Ensembl ids share a symbol, so the totals are unchanged
    out, mp = harmonize(e, "ensembl", "sum")
    assert out.shape == e.shape and mp["kept"].all() and out.to_numpy().sum() == e.to_numpy().sum()
    assert out.loc["CXCL8"].tolist() == [3, 5, 29, 15, 28, 22, 3, 3] and out.loc["TNMD"].sum() == 0  # ENSG00000000005
    assert (
        "ENSG00000005955" in out.index and "ENSG00000230417" in out.index
    )  # unmapped / ambiguous (LINC00595, LINC00856)
    assert int(out.index.str.startswith("LRG_").sum()) == 425  # LRG ids are not Ensembl genes: kept as given


# ---------------------------------------------------------------- harmonize on a hand-made matrix
def hand_matrix():
    # IL8 (previous) and CXCL8 (approved) are one gene; COX2 is ambiguous, FOO unmapped; 3576 is not a symbol
    return pd.DataFrame(
        [[1, 2, 3], [5, 6, 4], [3, 3, 3], [0, 1, 2], [np.nan, 10, 0]],
        index=["IL8", "CXCL8", "COX2", "FOO", "IL-8"],
        columns=["s1", "s2", "s3"],
        dtype=float,
    )


@pytest.mark.parametrize(
    "rule,cxcl8,kept",
    [
        # means: IL8 2, CXCL8 5, IL-8 5 (NA skipped) -> tie 5/5, smallest id 'CXCL8' wins
        ("max_mean", [5, 6, 4], {"CXCL8"}),
        # variances (ddof=1, NA skipped): IL8 1, CXCL8 1, IL-8 50
        ("max_variance", [np.nan, 10, 0], {"IL-8"}),
        ("mean", [3, 6, 7 / 3], {"IL8", "CXCL8", "IL-8"}),
        ("sum", [6, 18, 7], {"IL8", "CXCL8", "IL-8"}),
    ],
)
def test_harmonize_collapse_rules(rule, cxcl8, kept):
    out, mp = harmonize(hand_matrix(), "symbol", rule)
    assert (
        list(out.index) == ["COX2", "CXCL8", "FOO"]
        and out.index.name == "gene"
        and list(out.columns) == ["s1", "s2", "s3"]
    )
    np.testing.assert_array_equal(out.loc["CXCL8"].to_numpy(), np.array(cxcl8, dtype=float))
    np.testing.assert_array_equal(out.loc["COX2"].to_numpy(), [3, 3, 3])  # ambiguous: kept under its own id
    assert list(mp.columns) == MAPPING_COLUMNS and mp["input_id"].tolist() == sorted(hand_matrix().index)
    mp = mp.set_index("input_id")
    assert set(mp.index[mp["kept"] & (mp["symbol"] == "CXCL8")]) == kept
    assert mp.loc["COX2", "kept"] and mp.loc["FOO", "kept"] and mp.loc["COX2", "status"] == "ambiguous"


def test_harmonize_details_of_dropped_rows():
    mp = harmonize(hand_matrix(), "symbol", "max_mean")[1].set_index("input_id")
    assert (
        mp.loc["IL8", "detail"] == "previous symbol of CXCL8; collapsed into CXCL8 (max_mean: lower mean than 'CXCL8')"
    )
    assert (
        mp.loc["IL-8", "detail"]
        == "alias symbol of CXCL8; collapsed into CXCL8 (max_mean: same mean as, and sorts after, 'CXCL8')"
    )
    assert mp.loc["CXCL8", "detail"] == "approved HGNC symbol"
    mp = harmonize(hand_matrix(), "symbol", "max_variance")[1].set_index("input_id")
    assert mp.loc["IL8", "detail"].endswith("(max_variance: lower variance than 'IL-8')")
    mp = harmonize(hand_matrix(), "symbol", "sum")[1].set_index("input_id")
    assert mp.loc["IL8", "detail"].endswith("; sum of 3 rows for CXCL8") and mp.loc["FOO", "detail"].endswith(
        "kept as given"
    )


@pytest.mark.parametrize("rule", COLLAPSE_RULES)
def test_harmonize_independent_of_row_and_id_order(rule):
    m = hand_matrix()
    out, mp = harmonize(m, "symbol", rule)
    rng = np.random.default_rng(7)
    for _ in range(5):
        shuffled = m.iloc[rng.permutation(len(m))]
        o2, mp2 = harmonize(shuffled, "symbol", rule)
        pd.testing.assert_frame_equal(o2, out)
        pd.testing.assert_frame_equal(mp2, mp)


def test_harmonize_all_na_row_never_wins_and_all_na_sum_stays_na():
    m = pd.DataFrame([[np.nan, np.nan], [1, 2]], index=["IL8", "CXCL8"], columns=["a", "b"])
    out, mp = harmonize(m, "symbol", "max_mean")
    assert (
        out.loc["CXCL8"].tolist() == [1, 2]
        and "mean not computable (all NA)" in mp.set_index("input_id").loc["IL8", "detail"]
    )
    m2 = pd.DataFrame([[np.nan, 1], [np.nan, 2]], index=["IL8", "CXCL8"], columns=["a", "b"])
    s = harmonize(m2, "symbol", "sum")[0].loc["CXCL8"]
    assert np.isnan(s["a"]) and s["b"] == 3


def test_harmonize_entrez_and_single_sample():
    m = pd.DataFrame({"x": [1.0, 7.0, 2.0]}, index=["3576", "3569.0", "999999999"])
    out, mp = harmonize(m, "entrez", "max_variance")
    assert list(out.index) == ["999999999", "CXCL8", "IL6"] and out["x"].tolist() == [2, 1, 7]
    assert mp["status"].tolist() == ["mapped", "mapped", "unmapped"]


def test_harmonize_errors():
    with pytest.raises(SeedsigError, match="collapse rule 'median'"):
        harmonize(hand_matrix(), "symbol", "median")
    dup = pd.DataFrame([[1.0], [2.0]], index=["IL6", "IL6"], columns=["a"])
    with pytest.raises(SeedsigError, match="duplicated: IL6"):
        harmonize(dup, "symbol")
    # a symbol mixed into Ensembl ids would silently merge with the gene it names: refused, naming both ids
    mixed = pd.DataFrame([[1.0], [2.0]], index=["ENSG00000169429", "CXCL8"], columns=["a"])
    with pytest.raises(SeedsigError, match="'CXCL8' \\(given as is\\) vs 'ENSG00000169429'"):
        harmonize(mixed, "ensembl")


@pytest.mark.slow
def test_harmonize_large_matrix_is_fast():
    import time

    tab = hgnc_table()
    prev = tab.loc[tab["prev_symbol"] != "", "prev_symbol"].str.split("|").str[0]
    ids = list(dict.fromkeys(list(tab["symbol"][:40000]) + list(prev[:15000]) + [f"X{i}" for i in range(5000)]))
    m = pd.DataFrame(np.random.default_rng(0).normal(size=(len(ids), 500)), index=ids)
    t = time.perf_counter()
    out, mp = harmonize(m, "symbol", "max_mean")
    assert time.perf_counter() - t < 10 and out.index.is_unique and int(mp["kept"].sum()) == len(out)


def test_representative_rows_ties_by_label():
    pos = representative_rows(["A", "A", "B"], ["z", "y", "x"], np.array([1.0, 1.0, 0.0]))
    assert list(pos) == [1, 2]
    pos = representative_rows(["A", "A"], ["a", "b"], np.array([np.nan, 0.0]))
    assert list(pos) == [1]


# ---------------------------------------------------------------- RefSeq accessions (org.Hs.eg.db 3.16 table shipped
# with the package)
def test_shipped_refseq_table():
    v = refseq_version()
    assert v["n_accessions"] == len(refseq_table()) == 210551 and v["n_entrez_genes"] == 45809
    assert (
        v["n_accessions_by_kind"] == {"NM_": 69525, "NR_": 19643, "XM_": 67731, "XR_": 53652}
        and v["n_accessions_of_several_genes"] == 0
    )
    assert v["source_sha256"].startswith("b2dd6155") and v["source_sha256"].endswith(
        "ccb8"
    )  # as in org_hs_eg_db_3.16_refseq_alias/SOURCE.md


def test_refseq_table_rebuilds_to_the_same_bytes(tmp_path):
    import subprocess
    import sys
    from importlib import resources

    src = shared_file("org_hs_eg_db_3.16_refseq_alias", "refseq_to_entrez_symbol.tsv.gz")
    script = REPO / "scripts" / "build_refseq_table.py"
    subprocess.run([sys.executable, str(script), str(src), str(tmp_path)], check=True, capture_output=True)
    data = resources.files("seedsig").joinpath("data")
    for name in ("refseq_entrez.tsv.gz", "refseq_entrez.json"):
        assert (tmp_path / name).read_bytes() == data.joinpath(name).read_bytes(), name


@pytest.mark.parametrize(
    "query,symbol,status,detail",
    [
        ("NM_000584", "CXCL8", "mapped", "RefSeq NM_000584: Entrez 3576 of CXCL8; HGNC RefSeq accession of CXCL8"),
        ("NM_000584.4", "CXCL8", "mapped", None),  # versioned
        ("nm_000584.4", "CXCL8", "mapped", None),
        (
            "NM_001354840",
            "CXCL8",
            "mapped",
            "RefSeq NM_001354840: Entrez 3576 of CXCL8",
        ),  # not HGNC's accession: through Entrez
        ("NM_001318095", "IL6", "mapped", None),
        ("NM_001901", "CCN2", "mapped", None),  # org.Hs.eg.db's NCBI symbol is CCN2 too, but the join is on Entrez
        ("NM_000963", "PTGS2", "mapped", None),  # COX2: NCBI's symbol for MT-CO2, never used
        (
            "NM_000060",
            "BTD",
            "mapped",
            "RefSeq NM_000060: HGNC RefSeq accession of BTD",
        ),  # retired from NCBI, still HGNC's
        (
            "NM_001001731",
            "NM_001001731",
            "unmapped",
            "RefSeq NM_001001731: Entrez 10639 (no HGNC gene has this Entrez id); kept as given",
        ),  # NCBI locus HHCM
        (
            "NM_000323",
            "NM_000323",
            "unmapped",
            "RefSeq accession NM_000323 not in HGNC nor in org.Hs.eg.db 3.16 (NCBI Gene 2022-09-12), e.g. retired; "
            "kept as given",
        ),
        (
            "NP_000575.1",
            "NP_000575.1",
            "unmapped",
            "RefSeq accession of a kind not mapped (only NM_, NR_, XM_, XR_ transcripts); kept as given",
        ),
        (
            "AB002301",
            "AB002301",
            "unmapped",
            "not a RefSeq accession (NM_, NR_, XM_, XR_; e.g. a GenBank accession or array contig); kept as given",
        ),
        ("Contig1778_RC", "Contig1778_RC", "unmapped", None),
        # the two sources name different current genes (gene split after org.Hs.eg.db 3.16): never guessed
        (
            "NM_020683",
            "NM_020683",
            "ambiguous",
            "RefSeq NM_020683: 2 genes (ADORA3, TMIGD3): Entrez 57413 of TMIGD3; HGNC RefSeq accession of ADORA3; kept "
            "as given",
        ),
        ("NM_005692", "NM_005692", "ambiguous", None),  # HGNC lists it for ABCF2 and the ABCF2-H2BK1 readthrough
    ],
)
def test_refseq_ids(query, symbol, status, detail):
    r = one(query, "refseq")
    assert (r["symbol"], r["status"]) == (symbol, status)
    if detail:
        assert r["detail"] == detail


def test_refseq_whole_table():
    """Every accession of the shipped table, resolved: the XR_ of LOC genes without an HGNC symbol stay unmapped."""
    rs = refseq_table()
    r = resolve_ids(rs["refseq_accession"].tolist(), "refseq")
    counts = r.groupby([rs["refseq_accession"].str[:3].to_numpy(), r["status"].to_numpy()]).size().to_dict()
    assert counts == {
        ("NM_", "mapped"): 69293, ("NM_", "unmapped"): 225, ("NM_", "ambiguous"): 7,
        ("NR_", "mapped"): 18156, ("NR_", "unmapped"): 1483, ("NR_", "ambiguous"): 4,
        ("XM_", "mapped"): 65390, ("XM_", "unmapped"): 2341,
        ("XR_", "mapped"): 8993, ("XR_", "unmapped"): 44659,
    }  # fmt: skip


def test_vdv_genbank_and_refseq_ids():
    e = read_matrix(shared_file("vdv_vantveer2002_78_randomforestsrc", "expression.tsv.gz"))
    assert e.shape == (4705, 78)
    m = resolve_ids(list(e.index), "refseq").set_index("input_id")
    for acc, sym in [("NM_000600", "IL6"), ("NM_000584", "CXCL8"), ("NM_003088", "FSCN1"), ("NM_002421", "MMP1")]:
        assert tuple(m.loc[acc, ["symbol", "status"]]) == (sym, "mapped")
    nm = m.index.str.startswith("NM_")
    assert int(nm.sum()) == 2432 and m[nm]["status"].value_counts().to_dict() == {"mapped": 2411, "unmapped": 21}
    assert (
        m[nm & (m["status"] == "unmapped")]["detail"].str.contains("not in HGNC nor in org.Hs.eg.db").all()
    )  # retired accessions
    # 2,273 GenBank accessions (AB002301, ...) and Agilent contigs (Contig..._RC): not RefSeq, reported, kept as given
    other = m[~nm]
    assert len(other) == 2273 and int(other.index.str.startswith("Contig").sum()) == 1460
    assert (other["status"] == "unmapped").all() and (other["symbol"] == other.index).all()
    assert other["detail"].str.startswith("not a RefSeq accession").all()
    out, mp = harmonize(e, "refseq", "max_mean")
    assert (
        out.shape == (4671, 78)
        and int((~mp["kept"]).sum()) == 34
        and {"IL6", "CXCL8", "FSCN1", "MMP1"} <= set(out.index)
    )
    mp = mp.set_index("input_id")  # AGL: three accessions on the array, the one with the highest mean is kept
    assert mp.loc["NM_000642", "detail"].startswith(
        "RefSeq NM_000642: Entrez 178 of AGL; collapsed into AGL (max_mean: "
    )


def test_mane_refseq_transcripts_land_on_the_mane_gene():
    """MANE v1.5 (2025) Select transcripts, versioned: the resolved gene is MANE's HGNC id for every one that maps."""
    mane = pd.read_csv(shared_file("mane_grch38_v1.5", "MANE.GRCh38.v1.5.summary.txt.gz"), sep="\t", dtype=str)
    r = resolve_ids(mane["RefSeq_nuc"].tolist(), "refseq")
    assert len(mane) == 19437 and r["status"].value_counts().to_dict() == {
        "mapped": 19339,
        "unmapped": 93,
        "ambiguous": 5,
    }
    mapped = (r["status"] == "mapped").to_numpy()
    hgnc_id = hgnc_table().set_index("symbol")["hgnc_id"].reindex(r["symbol"][mapped]).to_numpy()
    agree = hgnc_id == mane["HGNC_ID"].to_numpy()[mapped]
    assert int(agree.sum()) == 19336
    assert (
        mane["HGNC_ID"].to_numpy()[mapped][~agree].tolist() == [np.nan] * 3
    )  # MANE's new LOC genes (split after 2022)
    assert set(r.loc[r["status"] == "ambiguous", "input_id"].str.split(".").str[0]) == {
        "NM_020683",
        "NM_032687",
        "NM_207355",
        "NM_145309",
        "NM_001007271",
    }


# ---------------------------------------------------------------- TCGA 'SYMBOL|ENTREZ' ids
def test_tcga_symbol_entrez_ids_resolve_by_entrez():
    e = read_matrix(shared_file("tcga_brca_10samples_tcgabiolinks", "dataBRCA_counts.tsv.gz"))
    m = resolve_ids(list(e.index), "entrez").set_index("input_id")
    assert m["status"].value_counts().to_dict() == {"mapped": 20288, "unmapped": 242}
    for tid, sym in [
        ("IL6|3569", "IL6"),
        ("IL8|3576", "CXCL8"),
        ("CTGF|1490", "CCN2"),
        ("FSCN1|6624", "FSCN1"),
        ("MMP1|4312", "MMP1"),
        ("?|10357", "HMGB1P1"),
    ]:
        assert tuple(m.loc[tid, ["symbol", "status"]]) == (sym, "mapped")
    assert m.loc["IL8|3576", "detail"] == "entrez id 3576 (Entrez part of 'IL8|3576') of CXCL8"
    assert tuple(m.loc["?|100133144", ["symbol", "status"]]) == ("?|100133144", "unmapped")
    assert one("IL6|3569.0", "entrez")["symbol"] == "IL6"
    out, mp = harmonize(e, "entrez", "sum")
    assert out.shape == (20530, 10) and mp["kept"].all()


# ---------------------------------------------------------------- probe ids with a platform annotation (GEO GPL tables)
def gse781(name):
    return shared_file("geo_geoquery_extdata_gse781_gds507", name)


def test_gpl96_platform_table():
    path = gse781("GPL96_annotation_from_GSE781_family.tsv.gz")
    ann = read_platform_annotation(path)
    assert list(ann.columns) == ["probe_id", "symbol", "entrez_id"] and len(ann) == 22283
    assert (ann.attrs["id_column"], ann.attrs["symbol_column"], ann.attrs["entrez_column"]) == (
        "ID",
        "Gene Symbol",
        "ENTREZ_GENE_ID",
    )
    r = resolve_ids(ann["probe_id"].tolist(), "probe", path)
    assert r["status"].value_counts().to_dict() == {"mapped": 20148, "unmapped": 1469, "ambiguous": 666}
    m = r.set_index("input_id")
    for probe, sym in [
        ("202859_x_at", "CXCL8"),
        ("211506_s_at", "CXCL8"),
        ("209101_at", "CCN2"),
        ("205207_at", "IL6"),
        ("204475_at", "MMP1"),
        ("208999_at", "SEPTIN8"),
        ("201564_s_at", "FSCN1"),
    ]:
        assert tuple(m.loc[probe, ["symbol", "status"]]) == (sym, "mapped")
    assert (
        m.loc["202859_x_at", "detail"] == "ENTREZ_GENE_ID '3576': Entrez 3576 of CXCL8"
    )  # 2009 symbol IL8; the Entrez id is stable
    # LOC653737 and LOC729402 are now RPL21 pseudogenes: three current genes, never guessed
    assert m.loc["200012_x_at", "status"] == "ambiguous" and m.loc["200012_x_at", "symbol"] == "200012_x_at"
    assert (
        m.loc["200012_x_at", "detail"]
        == "ENTREZ_GENE_ID '6144 /// 653737 /// 729402': 3 genes (RPL21, RPL21P119, RPL21P16); kept as given"
    )
    # an id that is no HGNC gene does not count
    assert tuple(m.loc["1598_g_at", ["symbol", "status"]]) == ("GAS6", "mapped") and m.loc[
        "1598_g_at", "detail"
    ].endswith("(100133684: no HGNC gene)")
    # Entrez ids that are no HGNC gene (changed since 2009): the symbol column is used
    assert (
        m.loc["205904_at", "detail"] == "ENTREZ_GENE_ID '4276': no HGNC gene; Gene Symbol 'MICA': approved HGNC symbol"
    )
    assert tuple(m.loc["206711_at", ["symbol", "status"]]) == ("SLITRK2", "mapped")  # CXorf1, previous symbol
    fallback = r["detail"].str.contains(": no HGNC gene; Gene Symbol")
    assert int(fallback.sum()) == 223 and int((fallback & (r["status"] == "mapped")).sum()) == 39
    # 68 AFFX controls and other probes without annotation
    empty = (
        r["detail"] == "no gene in the platform annotation ('Gene Symbol' and 'ENTREZ_GENE_ID' empty); kept as given"
    )
    assert int(empty.sum()) == 1288 and m.loc["AFFX-BioB-5_at", "status"] == "unmapped"


def test_gpl96_symbols_alone_resolve_2009_symbols(tmp_path):
    """The same table without its Entrez column: 2009 symbols through HGNC previous symbols (IL8 -> CXCL8)."""
    full = pd.read_csv(gse781("GPL96_annotation_from_GSE781_family.tsv.gz"), sep="\t", dtype=str, keep_default_na=False)
    full[["ID", "Gene Symbol"]].to_csv(tmp_path / "GPL96_symbols.tsv", sep="\t", index=False)
    by_symbol = resolve_ids(full["ID"], "probe", tmp_path / "GPL96_symbols.tsv")
    assert by_symbol["status"].value_counts().to_dict() == {"mapped": 20055, "unmapped": 1607, "ambiguous": 621}
    m = by_symbol.set_index("input_id")
    assert (
        m.loc["202859_x_at", "detail"] == "Gene Symbol 'IL8': previous symbol of CXCL8"
        and m.loc["202859_x_at", "symbol"] == "CXCL8"
    )
    assert m.loc["209101_at", "symbol"] == "CCN2" and m.loc["208999_at", "symbol"] == "SEPTIN8"
    assert m.loc["200012_x_at", "symbol"] == "RPL21"  # LOC653737 / LOC729402 are no symbols any more
    # against the Entrez route: agree on all but 8 of 19,987 probes both map (2009 symbols now approved for another
    # gene, e.g. PRG2)
    by_entrez = resolve_ids(full["ID"], "probe", gse781("GPL96_annotation_from_GSE781_family.tsv.gz"))
    both = ((by_symbol["status"] == "mapped") & (by_entrez["status"] == "mapped")).to_numpy()
    assert (
        int(both.sum()) == 19987
        and int((by_symbol["symbol"].to_numpy()[both] != by_entrez["symbol"].to_numpy()[both]).sum()) == 8
    )


def test_gpl97_annot_file():
    path = gse781("GPL97.annot.gz")
    ann = read_platform_annotation(path)
    assert len(ann) == 22645 and (ann.attrs["symbol_column"], ann.attrs["entrez_column"]) == ("Gene symbol", "Gene ID")
    assert ann["probe_id"].iloc[0] == "200000_s_at" and ann["probe_id"].iloc[-1] == "AFFX-TrpnX-M_at"
    m = resolve_ids(ann["probe_id"].tolist(), "probe", ann).set_index("input_id")  # the table read once can be passed
    assert m["status"].value_counts().to_dict() == {"mapped": 12197, "unmapped": 10003, "ambiguous": 445}
    assert (
        m.loc["200067_x_at", "detail"] == "Gene ID '8724///7101': 2 genes (NR2E1, SNX3); kept as given"
    )  # '///' without spaces
    assert tuple(m.loc["200080_s_at", ["symbol", "status"]]) == ("H3-3A", "mapped")  # H3F3A in 2008


def test_gpl570_multi_gene_probe_is_ambiguous():
    path = shared_file("gpl570_probe_symbol_entrez_map", "GPL570.map.tsv.gz")
    ann = read_platform_annotation(path)
    m = resolve_ids(ann["probe_id"].tolist(), "probe", ann).set_index("input_id")
    assert len(ann) == 54675 and m["status"].value_counts().to_dict() == {
        "mapped": 41592,
        "unmapped": 11376,
        "ambiguous": 1707,
    }
    # MIR4640 is an HGNC gene (Entrez 100616237): DDR1 /// MIR4640 is two current genes
    assert hgnc_table().set_index("symbol").loc["MIR4640", "entrez_id"] == "100616237"
    assert (
        m.loc["1007_s_at", "status"] == "ambiguous"
        and m.loc["1007_s_at", "detail"] == "ENTREZ_GENE_ID '780 /// 100616237': 2 genes (DDR1, MIR4640); kept as given"
    )
    assert (
        m.loc["209101_at", "symbol"] == "CCN2" and m.loc["226627_at", "symbol"] == "SEPTIN8"
    )  # CTGF, SEPT8 in the map


def gpl96_matrix():
    # two CXCL8 probes (IL8 in the 2009 annotation), IL6, an ambiguous probe and an id absent from the annotation
    return pd.DataFrame(
        [[1.0, 2.0, 3.0], [4.0, 5.0, 9.0], [7.0, 7.0, 7.0], [0.5, 0.5, 0.5], [2.0, 2.0, 2.0]],
        index=["202859_x_at", "211506_s_at", "205207_at", "200012_x_at", "not_a_probe"],
        columns=["GSM1", "GSM2", "GSM3"],
    )


def test_harmonize_gpl96_probes():
    path = gse781("GPL96_annotation_from_GSE781_family.tsv.gz")
    out, mp = harmonize(gpl96_matrix(), "probe", "max_mean", annotation=path)
    assert list(out.index) == ["200012_x_at", "CXCL8", "IL6", "not_a_probe"]
    assert out.loc["CXCL8"].tolist() == [4.0, 5.0, 9.0]  # 211506_s_at: mean 6 > 2
    assert list(mp.columns) == MAPPING_COLUMNS
    mp = mp.set_index("input_id")
    assert (
        mp.loc["202859_x_at", "detail"]
        == "ENTREZ_GENE_ID '3576': Entrez 3576 of CXCL8; collapsed into CXCL8 (max_mean: lower mean than '211506_s_at')"
    )
    assert not mp.loc["202859_x_at", "kept"] and mp.loc["211506_s_at", "kept"]
    assert tuple(mp.loc["not_a_probe", ["status", "detail"]]) == (
        "unmapped",
        "not in platform annotation GPL96_annotation_from_GSE781_family.tsv.gz; kept as given",
    )
    # independent of row order
    shuffled = gpl96_matrix().iloc[[4, 2, 0, 3, 1]]
    o2, mp2 = harmonize(shuffled, "probe", "max_mean", annotation=str(path))
    pd.testing.assert_frame_equal(o2, out)
    pd.testing.assert_frame_equal(mp2.set_index("input_id"), mp)


def test_probe_annotation_errors(tmp_path):
    gpl96 = gse781("GPL96_annotation_from_GSE781_family.tsv.gz")
    with pytest.raises(SeedsigError, match="gene_id 'probe' needs a platform annotation"):
        resolve_ids(["202859_x_at"], "probe")
    with pytest.raises(SeedsigError, match="gene_id 'probe' needs a platform annotation"):
        harmonize(gpl96_matrix(), "probe", annotation="")
    with pytest.raises(SeedsigError, match="only used with gene_id 'probe', but gene_id is 'symbol'"):
        resolve_ids(["IL8"], "symbol", gpl96)
    with pytest.raises(SeedsigError, match="platform annotation .*GPL96.annot.gz not found"):
        resolve_ids(["202859_x_at"], "probe", tmp_path / "GPL96.annot.gz")
    # an annotation without a gene column: the message names the columns found
    full = pd.read_csv(gpl96, sep="\t", dtype=str, keep_default_na=False)
    full[["ID", "GB_ACC", "Gene Title"]].to_csv(tmp_path / "no_genes.tsv", sep="\t", index=False)
    with pytest.raises(
        SeedsigError,
        match=r"no gene symbol column \(Gene Symbol, Symbol.*columns found: ID, GB_ACC, Gene Title\. "
        r"Give an annotation",
    ):
        resolve_ids(["202859_x_at"], "probe", tmp_path / "no_genes.tsv")
    # a GEO sample file is no annotation (ID_REF, VALUE, ABS_CALL)
    with pytest.raises(SeedsigError, match="columns found: ID_REF, VALUE, ABS_CALL"):
        read_platform_annotation(gse781("GSM11805.txt.gz"))
    full[["Gene Symbol", "ENTREZ_GENE_ID"]].to_csv(tmp_path / "no_ids.tsv", sep="\t", index=False)
    with pytest.raises(
        SeedsigError,
        match=(
            r"no probe id column \(ID, ID_REF, PROBE_ID, Probe Set ID, PROBE\); columns found: Gene Symbol, "
            r"ENTREZ_GENE_ID"
        ),
    ):
        read_platform_annotation(tmp_path / "no_ids.tsv")
    # the annotation of another platform (HG-U133B for HG-U133A probes): no matrix probe is in it
    wrong = (
        r"GPL97.annot.gz: none of the 2 probe ids of the matrix is in its ID column \(e.g. matrix '202859_x_at', "
        r"annotation '200000_s_at'\)"
    )
    with pytest.raises(SeedsigError, match=wrong):
        resolve_ids(["205207_at", "202859_x_at"], "probe", gse781("GPL97.annot.gz"), require_match=True)
    with pytest.raises(SeedsigError, match=wrong):
        harmonize(
            pd.DataFrame({"a": [1.0, 2.0]}, index=["205207_at", "202859_x_at"]),
            "probe",
            annotation=gse781("GPL97.annot.gz"),
        )
    # a subset of a matrix's ids (e.g. its all-NA rows) may all be absent: unmapped, no error, unless require_match
    r = resolve_ids(["205207_at", "202859_x_at"], "probe", gse781("GPL97.annot.gz"))
    assert (
        r["status"].tolist() == ["unmapped"] * 2
        and r["detail"].iloc[0] == "not in platform annotation GPL97.annot.gz; kept as given"
    )
    with pytest.raises(SeedsigError, match="holds 2 platform tables"):
        read_platform_annotation(gse781("GSE781_family.soft.gz"))


def test_platform_annotation_other_layouts(tmp_path):
    """Affymetrix CSV (quoted, '---' for none, 'Probe Set ID' / 'Entrez Gene'); quoted TSV; GEO header lines; '.0'
    Entrez."""
    full = pd.read_csv(gse781("GPL96_annotation_from_GSE781_family.tsv.gz"), sep="\t", dtype=str, keep_default_na=False)
    rows = full[full["ID"].isin(["202859_x_at", "205207_at", "1007_s_at", "AFFX-BioB-5_at"])]
    csv_t = rows.rename(columns={"ID": "Probe Set ID", "ENTREZ_GENE_ID": "Entrez Gene"}).replace("", "---")
    (tmp_path / "affy.csv").write_text("#%create_date=2009\n" + csv_t.to_csv(index=False, quoting=1))
    tsv = rows[["ID", "Gene Symbol", "ENTREZ_GENE_ID"]].assign(
        ENTREZ_GENE_ID=lambda d: d["ENTREZ_GENE_ID"].where(d["ENTREZ_GENE_ID"] == "", d["ENTREZ_GENE_ID"] + ".0")
    )
    (tmp_path / "quoted.txt").write_text(
        "^PLATFORM = GPL96\n!Platform_title = x\n#ID = probe\n" + tsv.to_csv(sep="\t", index=False, quoting=1)
    )
    for name, entrez_col in [("affy.csv", "Entrez Gene"), ("quoted.txt", "ENTREZ_GENE_ID")]:
        ann = read_platform_annotation(tmp_path / name)
        assert len(ann) == 4 and ann.attrs["entrez_column"] == entrez_col
        m = resolve_ids(["202859_x_at", "205207_at", "1007_s_at", "AFFX-BioB-5_at"], "probe", ann)
        assert m["symbol"].tolist() == ["CXCL8", "IL6", "DDR1", "AFFX-BioB-5_at"] and m["status"].tolist() == [
            "mapped"
        ] * 3 + ["unmapped"]
    # a 'GENE' column of symbols is not taken for Entrez ids
    (tmp_path / "gene.tsv").write_text("ID\tGENE\n202859_x_at\tIL8\n")
    with pytest.raises(SeedsigError, match="columns found: ID, GENE"):
        read_platform_annotation(tmp_path / "gene.tsv")


def test_probe_resolution_is_fast():
    import time

    ann = read_platform_annotation(shared_file("gpl570_probe_symbol_entrez_map", "GPL570.map.tsv.gz"))
    resolve_ids(["1007_s_at", "205904_at"], "probe", ann)  # builds the lookups
    ids = ann["probe_id"].tolist()[:49000] + [f"unknown_{i}" for i in range(1000)]
    t = time.perf_counter()
    r = resolve_ids(ids, "probe", ann)
    assert time.perf_counter() - t < 1.0 and len(r) == 50000 and int((r["status"] == "unmapped").sum()) > 1000
