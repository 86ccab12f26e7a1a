"""Gene identifier resolution and matrix harmonization, on real identifiers (HGNC 2024-10 table shipped with the package).

Exact counts below are for the shipped table (``hgnc_version()``); rebuilding the table from a newer HGNC release
will move them, which is what these tests are for.
"""

import numpy as np
import pandas as pd
import pytest

from seedsig.errors import SeedsigError
from seedsig.ids import COLLAPSE_RULES, _lookups, harmonize, hgnc_table, hgnc_version, representative_rows, resolve_ids
from seedsig.io import read_matrix

from conftest import shared_file

MAPPING_COLUMNS = ["input_id", "symbol", "status", "detail", "kept"]


def one(x, kind="symbol"):
    return resolve_ids([x], kind).iloc[0]


def test_shipped_table_is_hgnc_2024_10():
    v = hgnc_version()
    assert v["source"] == "hgnc_complete_set_2024-10.txt.gz" and v["n_genes"] == len(hgnc_table()) == 43882


# ---------------------------------------------------------------- the "Checks done" table of hgnc_complete_set/SOURCE.md
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
    [("3576", "ENSG00000169429", "CXCL8"), ("1490", "ENSG00000118523", "CCN2"), ("23176", "ENSG00000164402", "SEPTIN8"), ("3569", "ENSG00000136244", "IL6"), ("6624", "ENSG00000075618", "FSCN1"), ("4312", "ENSG00000196611", "MMP1")],
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
    with pytest.raises(SeedsigError, match="gene_id 'probe'"):
        resolve_ids(["IL8"], "probe")


def test_resolve_ids_shape_order_and_repeats():
    r = resolve_ids(["MMP1", "IL8", "FOO", "IL8"], "symbol")
    assert list(r.columns) == ["input_id", "symbol", "status", "detail"]
    assert r["input_id"].tolist() == ["MMP1", "IL8", "FOO", "IL8"] and r["symbol"].tolist() == ["MMP1", "CXCL8", "FOO", "CXCL8"]


def test_lookups_are_lazy_and_sorted():
    lk = _lookups()
    assert lk["alias"]["COX2"] == ("MT-CO2", "PTGS2") and lk["previous_upper"]["IL8"] == ("CXCL8",)
    assert lk["entrez"]["3576"] == ("CXCL8",) and lk["approved"]["AK3"] == ("AK3",)
    with pytest.raises(KeyError):
        lk["refseq"]


# ---------------------------------------------------------------- real matrices in ../shared/datasets
def test_hgnc_2018_symbols_resolve_in_2024():
    """Version drift: every approved symbol of the 2018 HGNC release, resolved with the 2024 table."""
    old = pd.read_csv(shared_file("hgnc_complete_set", "hgnc_complete_set_2018-11.txt.gz"), sep="\t", dtype=str, keep_default_na=False, usecols=["symbol", "status", "entrez_id"])
    old = old[old["status"] == "Approved"]
    by_symbol = resolve_ids(old["symbol"].tolist(), "symbol")
    counts = by_symbol["status"].value_counts().to_dict()
    assert counts == {"approved": 39741, "previous": 1177, "unmapped": 608, "alias": 28, "ambiguous": 5, "case": 3}
    assert by_symbol.set_index("input_id").loc["SEPT8", "symbol"] == "SEPTIN8"
    # the same genes through their (stable) Entrez ids land on the same symbol almost always
    by_entrez = resolve_ids(old["entrez_id"].tolist(), "entrez")
    both = (by_entrez["status"] == "mapped").to_numpy() & ~by_symbol["status"].isin(["unmapped", "ambiguous"]).to_numpy()
    agree = (by_entrez["symbol"].to_numpy()[both] == by_symbol["symbol"].to_numpy()[both]).mean()
    assert both.sum() > 40000 and agree > 0.999


def test_gse1992_old_symbols():
    e = read_matrix(shared_file("gse1992_unc_hu2006_survjamda", "expression.tsv.gz"))
    m = resolve_ids(list(e.index), "symbol").set_index("input_id")
    assert m["status"].value_counts().to_dict() == {"approved": 13386, "previous": 2121, "unmapped": 13, "ambiguous": 7, "alias": 1}
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
    for ens, sym in [("ENSG00000169429", "CXCL8"), ("ENSG00000136244", "IL6"), ("ENSG00000075618", "FSCN1"), ("ENSG00000196611", "MMP1")]:
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
    assert "ENSG00000005955" in out.index and "ENSG00000230417" in out.index  # unmapped / ambiguous (LINC00595, LINC00856)
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
    assert list(out.index) == ["COX2", "CXCL8", "FOO"] and out.index.name == "gene" and list(out.columns) == ["s1", "s2", "s3"]
    np.testing.assert_array_equal(out.loc["CXCL8"].to_numpy(), np.array(cxcl8, dtype=float))
    np.testing.assert_array_equal(out.loc["COX2"].to_numpy(), [3, 3, 3])  # ambiguous: kept under its own id
    assert list(mp.columns) == MAPPING_COLUMNS and mp["input_id"].tolist() == sorted(hand_matrix().index)
    mp = mp.set_index("input_id")
    assert set(mp.index[mp["kept"] & (mp["symbol"] == "CXCL8")]) == kept
    assert mp.loc["COX2", "kept"] and mp.loc["FOO", "kept"] and mp.loc["COX2", "status"] == "ambiguous"


def test_harmonize_details_of_dropped_rows():
    mp = harmonize(hand_matrix(), "symbol", "max_mean")[1].set_index("input_id")
    assert mp.loc["IL8", "detail"] == "previous symbol of CXCL8; collapsed into CXCL8 (max_mean: lower mean than 'CXCL8')"
    assert mp.loc["IL-8", "detail"] == "alias symbol of CXCL8; collapsed into CXCL8 (max_mean: same mean as, and sorts after, 'CXCL8')"
    assert mp.loc["CXCL8", "detail"] == "approved HGNC symbol"
    mp = harmonize(hand_matrix(), "symbol", "max_variance")[1].set_index("input_id")
    assert mp.loc["IL8", "detail"].endswith("(max_variance: lower variance than 'IL-8')")
    mp = harmonize(hand_matrix(), "symbol", "sum")[1].set_index("input_id")
    assert mp.loc["IL8", "detail"].endswith("; sum of 3 rows for CXCL8") and mp.loc["FOO", "detail"].endswith("kept as given")


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
    assert out.loc["CXCL8"].tolist() == [1, 2] and "mean not computable (all NA)" in mp.set_index("input_id").loc["IL8", "detail"]
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
