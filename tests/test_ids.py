"""Gene identifier resolution on real identifiers (HGNC 2024-10 table shipped with the package)."""

import numpy as np
import pandas as pd
import pytest

from seedsig.ids import harmonize, representative_rows, resolve_ids
from seedsig.io import read_matrix

from conftest import shared_file


def one(x, kind="symbol"):
    return resolve_ids([x], kind).iloc[0]


@pytest.mark.parametrize(
    "query,symbol,status",
    [("IL8", "CXCL8", "previous"), ("CTGF", "CCN2", "previous"), ("SEPT8", "SEPTIN8", "previous"), ("AK3", "AK3", "approved"), ("CXCL8", "CXCL8", "approved"), ("il6", "IL6", "case"), ("WHSC1", "NSD2", "previous"), ("NOT_A_GENE", "NOT_A_GENE", "unmapped")],
)
def test_hgnc_checks(query, symbol, status):
    r = one(query)
    assert (r["symbol"], r["status"]) == (symbol, status)


def test_ambiguous_are_never_guessed():
    r = one("COX2")
    assert r["status"] == "ambiguous" and r["symbol"] == "COX2" and "PTGS2" in r["detail"] and "MT-CO2" in r["detail"]
    assert one("FANCD")["status"] == "ambiguous"


def test_entrez_and_ensembl():
    assert one("3576", "entrez")["symbol"] == "CXCL8" and one("3576.0", "entrez")["symbol"] == "CXCL8"
    assert one("ENSG00000169429.11", "ensembl")["symbol"] == "CXCL8"
    assert one("ENSG00000169429", "ensembl")["status"] == "mapped"
    assert one("ENSG99999999999", "ensembl")["status"] == "unmapped"


def test_gse1992_old_symbols():
    e = read_matrix(shared_file("gse1992_unc_hu2006_survjamda", "expression.tsv.gz"))
    m = resolve_ids(list(e.index), "symbol").set_index("input_id")
    assert m.loc["IL8", "symbol"] == "CXCL8" and m.loc["IL8", "status"] == "previous"
    assert {"IL6", "FSCN1", "MMP1"} <= set(m.index[m["status"] == "approved"])
    counts = m["status"].value_counts()
    assert counts["approved"] > 12000 and counts["previous"] > 500 and counts.get("ambiguous", 0) > 0


def test_airway_versioned_ensembl():
    e = read_matrix(shared_file("airway_rnaseq_counts", "airway_counts.tsv.gz"))
    m = resolve_ids(list(e.index), "ensembl").set_index("input_id")
    mapped = (m["status"] == "mapped").mean()
    assert mapped > 0.5
    il6 = [i for i in m.index if i.split(".")[0] == "ENSG00000136244"]
    assert il6 and m.loc[il6[0], "symbol"] == "IL6"
    assert (m.loc[m["status"] == "unmapped", "symbol"] == m.index[m["status"] == "unmapped"]).all()


def test_harmonize_collapse_rules_and_order_independence():
    m = pd.DataFrame([[1, 2], [5, 6], [3, 3], [0, 1]], index=["IL8", "CXCL8", "COX2", "FOO"], columns=["a", "b"], dtype=float)
    out, mp = harmonize(m, "symbol", "max_mean")
    assert list(out.index) == ["COX2", "CXCL8", "FOO"] and out.loc["CXCL8"].tolist() == [5, 6]
    mp = mp.set_index("input_id")
    assert not mp.loc["IL8", "kept"] and mp.loc["CXCL8", "kept"] and "collapsed into CXCL8" in mp.loc["IL8", "detail"]
    assert harmonize(m, "symbol", "sum")[0].loc["CXCL8"].tolist() == [6, 8]
    assert harmonize(m, "symbol", "mean")[0].loc["CXCL8"].tolist() == [3, 4]
    assert harmonize(m, "symbol", "max_variance")[0].loc["CXCL8"].tolist() in ([1, 2], [5, 6])
    shuffled = m.iloc[[3, 1, 0, 2]]
    pd.testing.assert_frame_equal(harmonize(shuffled, "symbol")[0], out)


def test_representative_rows_ties_by_label():
    pos = representative_rows(["A", "A", "B"], ["z", "y", "x"], np.array([1.0, 1.0, 0.0]))
    assert list(pos) == [1, 2]
