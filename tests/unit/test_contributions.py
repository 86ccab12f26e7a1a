"""Per-gene contributions (seedsig.scoring.contributions): exact decompositions sum to the score, leave-one-gene-out
equals scoring the reduced set, the long table's columns and order, and its independence of the input row order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from seedsig.core.errors import SeedsigError
from seedsig.scoring.contributions import (
    CONTRIBUTION_COLUMNS,
    CONTRIBUTIONS,
    CONTROL_GENES,
    contributions,
    top_variance_gene,
)
from seedsig.scoring.methods import SCORING_METHODS, score
from seedsig.scoring.signatures import Signature

EXACT = [m for m, s in CONTRIBUTIONS.items() if s.kind == "exact"]
LOO = [m for m, s in CONTRIBUTIONS.items() if s.kind == "leave-one-out"]


@pytest.fixture(scope="module")
def matrix() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    x = rng.normal(6.0, 1.5, size=(300, 24)) + rng.normal(0, 1, size=(300, 1))
    x[:4] += np.linspace(-1, 1, 24)  # a shared signal in G000..G003
    return pd.DataFrame(x, index=[f"G{i:03d}" for i in range(300)], columns=[f"S{j:02d}" for j in range(24)])


SIGS = [
    Signature("four", ("G003", "G000", "G002", "G001"), (1, 1, 1, 1)),
    Signature("signed", ("G010", "G005", "G020", "G007", "G030"), (1, 1, -1, -1, -1)),
    Signature("one_up", ("G040", "G041", "G042"), (1, -1, -1)),
    Signature("one_down", ("G050", "G051", "G052"), (1, 1, -1)),
    Signature("partial", ("G060", "G061", "NOTHERE"), (1, 1, 1)),
    Signature("big", tuple(f"G{i:03d}" for i in range(100, 130)), (1,) * 30),
]


def _sums(table: pd.DataFrame) -> pd.DataFrame:
    return table.groupby(["sample", "signature"], sort=False)["contribution"].sum().unstack("signature")


def test_every_registry_method_has_contributions():
    assert set(CONTRIBUTIONS) == set(SCORING_METHODS)


@pytest.mark.parametrize("method", EXACT)
def test_exact_contributions_sum_to_the_score(matrix, method):
    res = contributions(matrix, SIGS, method)
    assert res.kind == "exact"
    got = _sums(res.table)
    want = score(matrix, SIGS, method).scores
    assert list(got.columns) == [s.name for s in SIGS]
    np.testing.assert_allclose(got.loc[want.index, want.columns].to_numpy(), want.to_numpy(), rtol=0, atol=1e-12)
    assert np.ptp(got["signed"].to_numpy()) > 0.1  # not trivially zero


def test_exact_decompositions_have_the_documented_form(matrix):
    z = matrix.sub(matrix.mean(axis=1), axis=0).div(matrix.std(axis=1, ddof=1), axis=0)
    t = contributions(matrix, SIGS, "mean_z", select=["signed"]).table
    il = t[(t["sample"] == "S03") & (t["gene"] == "G020")]
    assert il["direction"].item() == "down"
    assert il["contribution"].item() == pytest.approx(-z.loc["G020", "S03"] / 3, abs=1e-12)
    t = contributions(matrix, SIGS, "zscore", select=["four"]).table
    row = t[(t["sample"] == "S05") & (t["gene"] == "G002")]
    assert row["contribution"].item() == pytest.approx(z.loc["G002", "S05"] / 2, abs=1e-12)
    # singscore: the gene's scaled rank minus 0.5, over k ('min' ranks among the 300 genes)
    t = contributions(matrix, SIGS, "singscore", select=["four"]).table
    r = matrix["S05"].rank(method="min")["G002"]
    low, high = 2.5, (600 - 4 + 1) / 2
    row = t[(t["sample"] == "S05") & (t["gene"] == "G002")]
    assert row["contribution"].item() == pytest.approx(((r - low) / (high - low) - 0.5) / 4, abs=1e-12)
    # score_genes: set genes x_g / k, the control term one extra row per part
    t = contributions(matrix, SIGS, "score_genes", select=["signed"]).table
    s5 = t[t["sample"] == "S05"]
    assert list(s5["gene"]) == ["G010", "G005", "G020", "G007", "G030", CONTROL_GENES, "(control genes, down)"]
    assert s5["contribution"].iloc[0] == pytest.approx(matrix.loc["G010", "S05"] / 2, abs=1e-12)
    assert s5["contribution"].iloc[2] == pytest.approx(-matrix.loc["G020", "S05"] / 3, abs=1e-12)


def test_plage_contributions_are_loadings_times_standardized_values(matrix):
    t = contributions(matrix, SIGS, "plage", select=["four"]).table
    c = t.pivot(index="sample", columns="gene", values="contribution")
    z = matrix.loc[["G000", "G001", "G002", "G003"]]
    z = z.sub(z.mean(axis=1), axis=0).div(z.std(axis=1, ddof=1), axis=0)
    loading = c.div(z.T.loc[c.index, c.columns])  # the same loading in every sample
    assert np.ptp(loading.to_numpy(), axis=0).max() < 1e-9
    u = np.linalg.svd(z.to_numpy(), full_matrices=False)[0][:, 0]
    np.testing.assert_allclose(np.abs(loading.iloc[0].to_numpy()), np.abs(u) / np.linalg.norm(z.to_numpy(), 2))


def _reduced(sig: Signature, gene: str) -> Signature:
    keep = [(g, d) for g, d in zip(sig.genes, sig.directions) if g != gene]
    return Signature(sig.name + "_minus", tuple(g for g, _ in keep), tuple(d for _, d in keep))


@pytest.mark.parametrize(
    ("method", "params"), [*((m, {}) for m in LOO), ("ssgsea", {"normalize": True})], ids=[*LOO, "ssgsea_normalized"]
)
def test_leave_one_out_equals_scoring_the_reduced_set(matrix, method, params):
    sigs = [SIGS[0], SIGS[1], SIGS[4]]
    res = contributions(matrix, sigs, method, params=params)
    assert res.kind == "leave-one-out"
    raw = score(matrix, sigs, method).scores
    full = score(matrix, sigs, method, params=params).scores
    scale = (raw.to_numpy().max() - raw.to_numpy().min()) if params else 1.0  # normalize: the run's range
    if params:
        np.testing.assert_allclose(full.to_numpy(), raw.to_numpy() / scale, atol=1e-12)
    for sig in sigs:
        for gene in [g for g in sig.genes if g in matrix.index]:
            reduced = score(matrix, [_reduced(sig, gene)], method, min_genes=1, min_fraction=0).scores.iloc[:, 0]
            rows = res.table[(res.table["signature"] == sig.name) & (res.table["gene"] == gene)]
            want = (raw[sig.name] - reduced) / scale
            np.testing.assert_allclose(rows["contribution"].to_numpy(), want.loc[rows["sample"]].to_numpy(), atol=1e-12)


@pytest.mark.parametrize("method", LOO)
def test_a_part_left_empty_contributes_its_whole_score(matrix, method):
    sigs = [SIGS[2], SIGS[3], Signature("single", ("G070", "NOTHERE"), (1, 1))]
    res = contributions(matrix, sigs, method, min_genes=1)
    full = score(matrix, sigs, method, min_genes=1).scores
    t = res.table.set_index(["signature", "gene", "sample"])["contribution"].sort_index()
    # one_up: its only up gene carries the up part's whole score: score + score of the down part alone
    down_only = score(matrix, [Signature("d", ("G041", "G042"), (1, 1))], method, min_genes=1).scores.iloc[:, 0]
    np.testing.assert_allclose(
        t.loc[("one_up", "G040")].loc[full.index].to_numpy(), (full["one_up"] + down_only).to_numpy(), atol=1e-9
    )
    up_only = score(matrix, [Signature("u", ("G050", "G051"), (1, 1))], method, min_genes=1).scores.iloc[:, 0]
    np.testing.assert_allclose(
        t.loc[("one_down", "G052")].loc[full.index].to_numpy(), (full["one_down"] - up_only).to_numpy(), atol=1e-9
    )
    np.testing.assert_allclose(
        t.loc[("single", "G070")].loc[full.index].to_numpy(), full["single"].to_numpy(), atol=1e-12
    )


def test_table_columns_and_order(matrix):
    t = contributions(matrix, SIGS, "ssgsea").table
    assert tuple(t.columns) == CONTRIBUTION_COLUMNS
    assert list(dict.fromkeys(t["signature"])) == [s.name for s in SIGS]
    four = t[t["signature"] == "four"]
    assert list(dict.fromkeys(four["sample"])) == list(matrix.columns)
    assert list(four["gene"].iloc[:4]) == ["G003", "G000", "G002", "G001"]  # the signature's order
    assert "NOTHERE" not in set(t["gene"])
    signed = t[(t["signature"] == "signed") & (t["sample"] == "S00")]
    assert list(signed["direction"]) == ["up", "up", "down", "down", "down"]
    assert len(t) == 24 * (4 + 5 + 3 + 3 + 2 + 30)


@pytest.mark.parametrize("method", ["ssgsea", "gsva", "singscore", "plage", "zscore"])
def test_input_row_order_does_not_change_the_table(matrix, method):
    a = contributions(matrix, SIGS[:3], method).table
    shuffled = matrix.iloc[np.random.default_rng(3).permutation(matrix.shape[0])]
    b = contributions(shuffled, SIGS[:3], method).table
    pd.testing.assert_frame_equal(a, b, check_exact=False, atol=1e-12, rtol=0)


def test_select_bounds_the_table_and_unknown_names_are_refused(matrix):
    t = contributions(matrix, SIGS, "zscore", select=["signed", "four"]).table
    assert list(dict.fromkeys(t["signature"])) == ["four", "signed"]  # the signature files' order
    with pytest.raises(SeedsigError, match="NOPE"):
        contributions(matrix, SIGS, "zscore", select=["NOPE"])
    not_scored = contributions(matrix, [Signature("x", ("G001", "A", "B", "C"), (1, 1, 1, 1))], "zscore").table
    assert not_scored.empty and tuple(not_scored.columns) == CONTRIBUTION_COLUMNS


def test_top_variance_gene():
    block = pd.DataFrame(
        {
            "sample": np.repeat(["a", "b", "c"], 3),
            "signature": "s",
            "gene": ["G1", "G2", CONTROL_GENES] * 3,
            "contribution": [0.0, 1.0, 9.0, 1.0, 1.0, -9.0, 2.0, 4.0, 0.0],
        }
    )
    # var G1 = 1, var G2 = 3: G2 (the control term is not a gene); the score (the sum of the terms) is 10, -7, 6,
    # var(score) = (49 + 100 + 9) / 2 = 79 -> 3 / 79 = 0.038
    assert top_variance_gene(block) == "G2:0.038"
    # the score given (a leave-one-gene-out method's): var(s) = 1 -> 3.000
    assert top_variance_gene(block, np.array([0.0, 1.0, 2.0])) == "G2:3.000"
    assert top_variance_gene(block, np.array([1.0, 1.0, 1.0])) == ""  # a score that does not vary
    assert top_variance_gene(block[block["sample"] == "a"]) == ""
    tie = block.assign(contribution=[1.0, 1.0, 0, 2.0, 2.0, 0, 3.0, 3.0, 0])
    assert top_variance_gene(tie) == "G1:0.250"  # var 1 each, score 2, 4, 6: var 4


def test_config_bound_of_the_table():
    from seedsig.config import contribution_signatures

    config = {"signatures": {"focal": ["SS", "SS_attraction"]}, "contributions": {"signatures": "focal"}}
    assert contribution_signatures(config) == ["SS", "SS_attraction"]
    assert contribution_signatures({**config, "contributions": {"signatures": "all"}}) is None
    assert contribution_signatures({**config, "contributions": {"signatures": ["LMS"]}}) == ["LMS"]
    assert contribution_signatures({"signatures": {"focal": ["SS"]}}) == ["SS"]  # the schema's default: focal


def test_cli_and_api_write_the_same_table(tmp_path, matrix):
    import seedsig
    from seedsig.cli import main

    genes = ["IL6", "CXCL8", "FSCN1", "MMP1", "ID1", "TNC", "PTGS2", "HBEGF", "IL11", "ESR1", "GAPDH", "ACTB"]
    genes += [f"RPL{i}" for i in range(3, 40)]
    expr = pd.DataFrame(matrix.to_numpy()[: len(genes)], index=pd.Index(genes, name="gene"), columns=matrix.columns)
    expr.to_csv(tmp_path / "m.tsv", sep="\t")
    sig = tmp_path / "s.gmt"
    sig.write_text("SS\tna\tIL6\tCXCL8\tMMP1\tFSCN1\nX_UP\tna\tID1\tTNC\nX_DN\tna\tPTGS2\tESR1\tACTB\n")
    out, con = tmp_path / "scores.tsv", tmp_path / "contrib.tsv"
    argv = ["score", "--expr", str(tmp_path / "m.tsv"), "--signatures", str(sig), "--method", "singscore"]
    assert main([*argv, "--out", str(out), "--contributions", str(con), "--threads", "1"]) == 0
    got = pd.read_csv(con, sep="\t")
    assert list(got.columns) == list(CONTRIBUTION_COLUMNS)
    scores = pd.read_csv(out, sep="\t", index_col=0)
    sums = got.groupby(["sample", "signature"])["contribution"].sum().unstack()
    np.testing.assert_allclose(sums.loc[scores.index, scores.columns], scores, atol=1e-10)
    assert (tmp_path / "contrib.json").is_file()
    api = seedsig.contributions(expr, str(sig), "singscore", threads=1)
    assert api.attrs["seedsig"]["kind"] == "exact"
    np.testing.assert_allclose(api["contribution"].to_numpy(), got["contribution"].to_numpy(), atol=1e-11)
    assert api["gene"].tolist() == got["gene"].tolist()


@pytest.mark.parametrize(
    "params",
    [
        {"flavor": "r", "max_rank": 40},
        {"flavor": "pyucell", "max_rank": 40},
        {"flavor": "pyucell", "w_neg": 2.0, "max_rank": 100},
    ],
    ids=["r_maxrank40", "pyucell_maxrank40", "pyucell_wneg2"],
)
def test_ucell_rank_terms_sum_to_the_score_beyond_max_rank_and_where_clipped(matrix, params):
    """UCell's terms with genes beyond maxRank (every gene of a set beyond it: score 0) and signed sets clipped at 0
    (zeros in the matrix for pyucell's unranked values)."""
    x = matrix.copy()
    x.iloc[5:8, :6] = 0.0  # pyucell ranks only non-zero values
    res = contributions(x, SIGS[:5], "ucell", params=params)
    want = score(x, SIGS[:5], "ucell", params=params).scores
    got = _sums(res.table).loc[want.index, want.columns]
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=0, atol=1e-12)
    assert (want.to_numpy() == 0).any() and (want.to_numpy() > 0).any()  # clipped and not
    clipped = res.table[res.table["signature"].eq("signed")].groupby("sample")["contribution"]
    zero = want.index[want["signed"].eq(0)]
    assert clipped.apply(lambda c: (c == 0).all()).loc[zero].all()  # a clipped sample: every term 0
