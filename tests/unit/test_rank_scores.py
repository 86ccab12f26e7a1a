"""UCell and AUCell (issue 18 item 1): R UCell's formula on a hand-worked example; pyucell 0.8 and decoupler 2.x on
real data (goldens from tests/golden/rank_scores/make_golden.py); per-cell (chunked) = whole matrix; the vectorized
random null; the canonical tie order; the CLI and the API."""

import glob

import numpy as np
import pandas as pd
import pytest
from conftest import GOLDEN, REPO, shared_file
from helpers.cells import SIGS, make_cells, normalized_whole

import seedsig
from seedsig.cli import main
from seedsig.core.errors import SeedsigError
from seedsig.core.tables import read_matrix
from seedsig.ingest.ids import resolve_ids
from seedsig.scoring.methods import score
from seedsig.scoring.null import null_matrix, random_gene_sets, random_null_scores
from seedsig.scoring.per_cell import cell_scores
from seedsig.scoring.signatures import Signature, load_signatures

G = GOLDEN / "rank_scores"
SHIPPED = sorted(glob.glob(str(REPO / "config" / "signatures" / "*.tsv")))


def golden(name: str) -> pd.DataFrame:
    return pd.read_csv(G / name, sep="\t", index_col=0)


# ------------------------------------------------------------------------------------- R UCell, worked by hand
# Genes A..F in two samples. Ranks by decreasing value, ties "average":
#   s1 = 6 5 4 3 2 1   -> A 1, B 2, C 3, D 4, E 5, F 6
#   s2 = 1 2 3 3 5 6   -> F 1, E 2, C 3.5, D 3.5, B 5, A 6
# maxRank = 3: ranks above 3 become 4 (maxRank + 1); U = sum(r) - n (n + 1) / 2; score = 1 - U / (n maxRank), 0 when
# every gene of the set ranks above maxRank.
#   {A, B}:    s1 1 + 2 = 3, U = 0 -> 1;                 s2 6, 5: all beyond -> 0
#   {B, D}:    s1 2 + 4 = 6, U = 3 -> 1 - 3/6 = 0.5;     s2 5, 3.5: all beyond -> 0
#   {C, D, E}: s1 3 + 4 + 4 = 11, U = 5 -> 1 - 5/9;      s2 4 + 4 + 2 = 10, U = 4 -> 1 - 4/9
#   up {C, D, E}, down {A, B}: s1 max(0, 4/9 - 1) = 0;    s2 max(0, 5/9 - 0) = 5/9
#   up {B, D}, down {E, F} (E, F: s1 5, 6 all beyond -> 0; s2 2 + 1 = 3, U = 0 -> 1): s1 0.5; s2 max(0, 0 - 1) = 0
# maxRank = 1500 is lowered to the 6 genes: {B, D}: s1 U = 6 - 3 = 3 -> 1 - 3/12 = 0.75; s2 U = 8.5 - 3 -> 1 - 5.5/12
# pyucell flavor (maxRank 3 not lowered; ranks above it count 3; 1 - (sum - 3) / (2 x 3 - 3)): {B, D}: s1 2 + 3 = 5
# -> 1/3; s2 3 + 3 = 6 -> 0. maxRank 1500: s1 1 - 3 / 2997.
HAND = pd.DataFrame(
    {"s1": [6.0, 5, 4, 3, 2, 1], "s2": [1.0, 2, 3, 3, 5, 6]}, index=["A", "B", "C", "D", "E", "F"]
).iloc[::-1]  # rows in reverse: the canonical order does not depend on it
HAND_SIGS = [
    Signature("AB", ("A", "B"), (1, 1)),
    Signature("BD", ("B", "D"), (1, 1)),
    Signature("CDE", ("C", "D", "E"), (1, 1, 1)),
    Signature("CDE_vs_AB", ("C", "D", "E", "A", "B"), (1, 1, 1, -1, -1)),
    Signature("BD_vs_EF", ("B", "D", "E", "F"), (1, 1, -1, -1)),
]


def test_r_ucell_equals_the_hand_worked_example():
    got = score(HAND, HAND_SIGS, "ucell", params={"max_rank": 3}).scores
    expected = {
        "AB": [1.0, 0.0],
        "BD": [0.5, 0.0],
        "CDE": [1 - 5 / 9, 1 - 4 / 9],
        "CDE_vs_AB": [0.0, 5 / 9],
        "BD_vs_EF": [0.5, 0.0],
    }
    for name, values in expected.items():
        np.testing.assert_allclose(got[name].to_numpy(), values, atol=1e-15, err_msg=name)
    wide = score(HAND, HAND_SIGS, "ucell").scores  # maxRank 1500 lowered to 6 genes (R's calculate_Uscore)
    np.testing.assert_allclose(wide["BD"].to_numpy(), [0.75, 1 - 5.5 / 12], atol=1e-15)
    py = score(HAND, HAND_SIGS, "ucell", params={"max_rank": 3, "flavor": "pyucell"}).scores
    np.testing.assert_allclose(py["BD"].to_numpy(), [1 / 3, 0.0], atol=1e-15)
    py = score(HAND, HAND_SIGS, "ucell", params={"flavor": "pyucell"}).scores
    assert py["BD"].iloc[0] == pytest.approx(1 - 3 / 2997, abs=1e-15)


def test_ucell_refuses_a_set_larger_than_max_rank_and_a_bad_flavor():
    with pytest.raises(SeedsigError, match="larger than maxRank = 2 .*scoring.ucell.max_rank"):
        score(HAND, HAND_SIGS, "ucell", params={"max_rank": 2})
    with pytest.raises(SeedsigError, match="flavor 'R' is not one of r, pyucell"):
        score(HAND, HAND_SIGS, "ucell", params={"flavor": "R"})


def test_pyucell_ranks_only_non_zero_values():
    # s1: 5 0 -1 -2 (a zero above two negative values); pyucell ranks 5, -1, -2 as 1, 2, 3 and the zero counts maxRank
    x = pd.DataFrame({"s1": [5.0, 0.0, -1.0, -2.0], "s2": [1.0, 2.0, 3.0, 4.0]}, index=["W", "X", "Y", "Z"])
    sigs = [Signature("XY", ("X", "Y"), (1, 1))]
    py = score(x, sigs, "ucell", params={"flavor": "pyucell", "max_rank": 4}).scores["XY"]
    assert py["s1"] == pytest.approx(1 - (4 + 2 - 3) / (8 - 3), abs=1e-15)  # X: 4 (zero), Y: 2
    r = score(x, sigs, "ucell", params={"max_rank": 4}).scores["XY"]  # R ranks every value: X 2, Y 3
    assert r["s1"] == pytest.approx(1 - (5 - 3) / 8, abs=1e-15)


# ------------------------------------------------------------------------------------------------ pyucell 0.8
@pytest.fixture(scope="module")
def gse1992():
    e = read_matrix(shared_file("gse1992_unc_hu2006_survjamda", "expression.tsv.gz"))
    return e, resolve_ids(list(e.index), "symbol")["symbol"].tolist()  # IL8 -> CXCL8


@pytest.mark.parametrize(
    "params,file",
    [
        ({"flavor": "pyucell"}, "gse1992_ucell_pyucell.tsv"),
        ({"flavor": "pyucell", "max_rank": 200, "w_neg": 0.5}, "gse1992_ucell_pyucell_200.tsv"),
    ],
)
def test_pyucell_flavor_equals_pyucell_on_gse1992(gse1992, params, file):
    e, symbols = gse1992
    sigs = load_signatures(SHIPPED)
    if params.get("max_rank") == 200:  # its down list (291 measured genes) is larger than maxRank: refused
        with pytest.raises(SeedsigError, match="291 measured genes is larger than maxRank = 200"):
            score(e, sigs, "ucell", row_symbols=symbols, params=params)
        sigs = [s for s in sigs if s.name != "SMID_RELAPSE_BONE"]
    got = score(e, sigs, "ucell", row_symbols=symbols, params=params, threads=2).scores.T
    g = golden(file).loc[got.index]
    scored = got.index[got.notna().all(axis=1)]
    assert len(scored) >= 11 and any(s.signed for s in sigs if s.name in scored)  # signed and unsigned sets
    assert np.abs(got.loc[scored, g.columns].to_numpy() - g.loc[scored].to_numpy()).max() <= 1e-6  # float32
    assert (g.loc[scored].to_numpy() > 0).mean() > 0.25  # not a comparison of zeros


@pytest.fixture(scope="module")
def sc_example():
    from seedsig.simulate import simulate_single_cell

    return simulate_single_cell(seed=2010)  # the pipeline's single-cell example (seedsig simulate --single-cell)


def test_pyucell_flavor_equals_pyucell_per_cell_on_the_single_cell_example(sc_example):
    sigs = load_signatures(SHIPPED)
    p = {"ucell": {"flavor": "pyucell"}}
    got = cell_scores(sc_example, sigs, ["ucell"], params=p, chunk_size=500, threads=2)["ucell"]
    g = golden("sc_example_ucell_pyucell.tsv.gz").T.loc[got.index]
    scored = [s.name for s in sigs if got[s.name].notna().all()]
    assert len(scored) >= 10 and "SS" in scored and "SMID_RELAPSE_LUNG" in scored
    assert np.abs(got[scored].to_numpy() - g[scored].to_numpy()).max() <= 1e-6


# ------------------------------------------------------------------------------------------- decoupler AUCell
@pytest.mark.parametrize(
    "params,file", [({}, "fixture_aucell.tsv"), ({"max_rank_fraction": 0.25}, "fixture_aucell_n_up75.tsv")]
)
def test_aucell_equals_decoupler_on_tie_free_data(params, file):
    x = read_matrix(GOLDEN / "scoring" / "fixture_expr.tsv")
    sigs = load_signatures(GOLDEN / "scoring" / "fixture_sets.gmt")
    got = score(x, sigs, "aucell", min_genes=1, min_fraction=0.0, params=params).scores.T
    g = golden(file)
    assert np.abs(got.loc[g.index, g.columns].to_numpy() - g.to_numpy()).max() <= 1e-9
    assert (g.to_numpy() > 0).any(axis=1).all()


def test_aucell_ties_in_canonical_order_equal_decoupler_on_the_tie_broken_cohort(gse1992):
    # the golden: decoupler on GSE1992 (3-decimal values: ties) with each tie broken in the canonical order (sorted
    # labels) by a shift far below the values' resolution; our AUCell on the tied values gives the same numbers
    e, symbols = gse1992
    sigs = [s for s in load_signatures(SHIPPED) if not s.signed]
    got = score(e, sigs, "aucell", row_symbols=symbols).scores.T
    g = golden("gse1992_aucell.tsv")
    scored = got.index[got.notna().all(axis=1)]
    assert {"SS", "LMS", "TAVAZOIE_METASTASIS"} <= set(scored)
    assert np.abs(got.loc[scored, g.columns].to_numpy() - g.loc[scored].to_numpy()).max() <= 1e-9
    assert e.apply(lambda c: c.duplicated().any()).all()  # every sample has ties


@pytest.mark.parametrize("method", ["ucell", "aucell"])
def test_rank_scores_do_not_depend_on_row_order_or_threads(method):
    rng = np.random.default_rng(4)
    x = pd.DataFrame(
        np.log2(rng.poisson(rng.gamma(0.5, 4, size=(300, 1)), size=(300, 12)) + 1.0),  # many ties (zeros)
        index=[f"G{i}" for i in range(300)],
    )
    sigs = [Signature("S", tuple(f"G{i}" for i in range(0, 40, 3)), (1,) * 14)]
    for p in ({}, {"flavor": "pyucell"}) if method == "ucell" else ({}, {"max_rank_fraction": 0.3}):
        a = score(x, sigs, method, params=p).scores
        b = score(x.iloc[rng.permutation(300)], sigs, method, params=p, threads=2).scores
        pd.testing.assert_frame_equal(a, b, check_exact=True)
        assert a["S"].std() > 0


# ----------------------------------------------------------------------------------------- per cell, the null
CELL_CASES = [("ucell", {}), ("ucell", {"flavor": "pyucell", "max_rank": 40}), ("aucell", {})]


@pytest.mark.parametrize("method,params", [*CELL_CASES, ("aucell", {"max_rank_fraction": 0.3})])
def test_cell_scores_chunk_by_chunk_equal_the_whole_matrix(method, params):
    cells = make_cells(seed=3)
    got = cell_scores(cells, SIGS, [method], params={method: params}, chunk_size=7, threads=2)[method]
    ref = score(normalized_whole(cells), SIGS, method, params=params).scores
    np.testing.assert_array_equal(got[ref.columns].to_numpy(), ref.to_numpy())
    assert np.isfinite(ref["UP6"]).all() and ref["UP6"].std() > 0 and ref["SIGNED"].notna().all()


NULL_CASES = [("ucell", {"flavor": "pyucell", "max_rank": 50, "w_neg": 0.5}), ("aucell", {"max_rank_fraction": 0.2})]


@pytest.mark.parametrize("method,params", NULL_CASES)
def test_the_null_scores_the_random_sets_vectorized(method, params):
    rng = np.random.default_rng(3)
    expr = pd.DataFrame(
        rng.uniform(2, 10, (200, 1)) + rng.normal(size=(200, 20)), index=[f"G{i:03d}" for i in range(200)]
    )
    sig = Signature("F", ("G001", "G002", "G003", "G004"), (1, 1, -1, -1))
    rand = random_null_scores(expr, sig, method, 40, 5, params)
    sets = random_gene_sets(expr, sig, method, 40, 5)
    one_by_one = score(expr, [Signature(f"r{i}", s, sig.directions) for i, s in enumerate(sets)], method, params=params)
    np.testing.assert_allclose(rand, one_by_one.scores.to_numpy().T, atol=1e-12)
    assert rand.std() > 0
    # a matrix prepared for another flavor is prepared again, not reused
    stale = null_matrix(expr, method, params={"flavor": "r"} if method == "ucell" else None)
    np.testing.assert_array_equal(random_null_scores(expr, sig, method, 40, 5, params, matrix=stale), rand)


# ---------------------------------------------------------------------------------------------- CLI and API
def test_cli_score_ucell_pyucell_and_api_aucell(tmp_path):
    # the hand-worked matrix with gene symbols (in the same sorted order), log-scale values and a third sample
    names = {"A": "AKT1", "B": "BRCA1", "C": "CDK4", "D": "DDR1", "E": "EGFR", "F": "FOS"}
    hand = (HAND + 0.5).rename(index=names).assign(s3=[2.5, 1.5, 6.5, 5.5, 4.5, 3.5])
    expr = tmp_path / "hand.tsv"
    hand.rename_axis("gene").to_csv(expr, sep="\t")
    sig = tmp_path / "sigs.gmt"
    sig.write_text("BD\tx\tBRCA1\tDDR1\nCDE\tx\tCDK4\tDDR1\tEGFR\n")
    out = tmp_path / "ucell.tsv"
    argv = ["score", "--expr", str(expr), "--signatures", str(sig), "--method", "ucell", "--out", str(out)]
    assert main([*argv, "--ucell-flavor", "pyucell", "--ucell-max-rank", "3", "--gene-id", "symbol"]) in (0, None)
    got = pd.read_csv(out, sep="\t", index_col=0)
    np.testing.assert_allclose(got["BD"].to_numpy()[:2], [1 / 3, 0.0], atol=1e-12)
    import json

    side = json.loads(out.with_suffix(".json").read_text())
    rec = side["parameters"]
    assert rec["parameters"] == {"max_rank": 3, "w_neg": 1.0, "flavor": "pyucell"} and rec["single_sample"]
    assert rec["signed_signatures"] == "max(0, score(up genes) - w_neg x score(down genes))"
    api = seedsig.score(hand, {"CDE": ["CDK4", "DDR1", "EGFR"]}, method="aucell", max_rank_fraction=0.5)
    cde = Signature("CDE", ("CDK4", "DDR1", "EGFR"), (1, 1, 1))
    ref = score(hand, [cde], "aucell", params={"max_rank_fraction": 0.5})
    pd.testing.assert_frame_equal(api, ref.scores, check_names=False)
    with pytest.raises(SystemExit):
        main([*argv, "--ucell-max-rank", "0"])


def test_the_report_names_and_cites_every_scoring_method():
    from seedsig.report.methods_text import REFERENCES, SCORING_REFS, SCORING_TEXT
    from seedsig.scoring.methods import SCORING_METHODS

    assert set(SCORING_TEXT) == set(SCORING_METHODS) == set(SCORING_REFS)
    assert all(k in REFERENCES for refs in SCORING_REFS.values() for k in refs)
    assert "UCell" in REFERENCES["andreatta2021"] and "AUCell" in REFERENCES["aibar2017"]
