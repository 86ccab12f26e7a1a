"""Correlation stage (seedsig.association.correlation): against scipy, R (ppcor, p.adjust) and planted structure."""

import math

import numpy as np
import pandas as pd
import pytest
from conftest import GOLDEN
from scipy import stats

from seedsig.association.correlation import (
    CORRELATION_COLUMNS,
    bootstrap_ci,
    correlation,
    correlation_table,
    covariate_design,
    meta_pcna,
    overlap,
    partial_correlation,
    random_null_scores,
)
from seedsig.core.errors import SeedsigError
from seedsig.core.stats import bh_qvalues, stable_seed
from seedsig.scoring.methods import score
from seedsig.scoring.random_sets import random_signature_scores
from seedsig.scoring.signatures import Signature

G = GOLDEN / "associate"


# ------------------------------------------------------------------------------------------- fixtures
def sig(name, genes, directions=None):
    return Signature(name=name, genes=tuple(genes), directions=tuple(directions or [1] * len(genes)))


@pytest.fixture(scope="module")
def planted():
    """300 genes x 80 samples of noise with planted programs:
    f drives the shared genes S1-S3 only (A and B share them, nothing else links A and B);
    g drives F1-F4 (focal) and T1-T5 (target): a real correlation without shared genes;
    C1-C4 are pure noise."""
    rng = np.random.default_rng(7)
    n_genes, n = 300, 80
    genes = [f"N{i:03d}" for i in range(n_genes)]
    x = rng.normal(6.0, 1.0, size=(n_genes, n)) + rng.normal(0, 2.0, size=(n_genes, 1))
    f, g = rng.standard_normal(n), rng.standard_normal(n)
    named = {}
    for i, name in enumerate(
        [
            "S1",
            "S2",
            "S3",
            "A1",
            "A2",
            "A3",
            "B1",
            "B2",
            "B3",
            "F1",
            "F2",
            "F3",
            "F4",
            "T1",
            "T2",
            "T3",
            "T4",
            "T5",
            "C1",
            "C2",
            "C3",
            "C4",
        ]
    ):
        genes[i] = name
        named[name] = i
    for s in ("S1", "S2", "S3"):
        x[named[s]] += 3.0 * f
    for s in ("F1", "F2", "F3", "F4", "T1", "T2", "T3", "T4", "T5"):
        x[named[s]] += 1.5 * g
    samples = [f"X{i:02d}" for i in range(n)]
    expr = pd.DataFrame(x, index=genes, columns=samples)
    sigs = [
        sig("A", ["S1", "S2", "S3", "A1", "A2", "A3"]),
        sig("B", ["S1", "S2", "S3", "B1", "B2", "B3"]),
        sig("F", ["F1", "F2", "F3", "F4"]),
        sig("T", ["T1", "T2", "T3", "T4", "T5"]),
        sig("C", ["C1", "C2", "C3", "C4", "ABSENT1"]),
    ]
    scores = {m: score(expr, sigs, m).scores for m in ("zscore", "ssgsea")}
    return expr, sigs, scores


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    """A small example cohort from the simulator (2,000 genes x 80 samples), TMM logCPM, zscore scores."""
    from seedsig.core.tables import read_clinical, read_matrix
    from seedsig.ingest.ids import harmonize
    from seedsig.normalize.methods import normalize_matrix
    from seedsig.scoring.signatures import load_signatures
    from seedsig.simulate import SHIPPED_SIGNATURE_FILES, default_signature_dir, simulate_cohort

    out = tmp_path_factory.mktemp("assoc_cohort")
    truth = simulate_cohort(out, n_samples=80, n_genes=2000)
    counts, _ = harmonize(read_matrix(out / "counts.tsv.gz"), "symbol", collapse="sum")
    logcpm, _ = normalize_matrix(counts, ["tmm_logcpm"], data_type="counts")
    sigs = load_signatures([default_signature_dir() / f for f in SHIPPED_SIGNATURE_FILES])
    scores = {"zscore": score(logcpm, sigs, "zscore").scores}
    clin = read_clinical(out / "clinical.tsv")
    return logcpm, sigs, scores, clin, truth


# -------------------------------------------------------------------------------------------- r, p, q
def test_bh_equals_r_p_adjust():
    g = pd.read_csv(G / "bh.tsv", sep="\t")
    np.testing.assert_allclose(bh_qvalues(g["p"].to_numpy()), g["q"].to_numpy(), atol=1e-12)
    assert np.isnan(bh_qvalues(g["p"].to_numpy())[g["p"].isna().to_numpy()]).all()


def test_spearman_and_pearson_equal_scipy():
    rng = np.random.default_rng(0)
    a = rng.normal(size=60)
    b = np.round(0.5 * a + rng.normal(size=60), 1)  # ties
    a[[4, 9]] = np.nan
    b[20] = np.inf
    ok = np.isfinite(a) & np.isfinite(b)
    for st, ref in (("spearman", stats.spearmanr), ("pearson", stats.pearsonr)):
        r, p, n = correlation(a, b, st)
        rr, pp = ref(a[ok], b[ok])
        assert n == 57
        assert r == pytest.approx(rr, abs=1e-12) and p == pytest.approx(pp, rel=1e-9), st
    assert np.isnan(correlation(a, np.ones(60), "spearman")[0])
    assert np.isnan(correlation(a[:2], b[:2], "pearson")[0])


def test_table_columns_order_and_grid_q(planted):
    expr, sigs, scores = planted
    tab, info = correlation_table(
        expr, scores, sigs, ["A", "F"], ["B", "T", "C"], n_bootstrap=50, n_random=20, seed=3, proliferation=False
    )
    assert list(tab.columns) == list(CORRELATION_COLUMNS)
    assert len(tab) == 2 * 2 * 3 * 2 and info["n_rows"] == 24
    keys = list(zip(tab.method, tab.signature_a, tab.signature_b, tab.statistic))
    assert keys[:3] == [
        ("ssgsea", "A", "B", "spearman"),
        ("ssgsea", "A", "B", "pearson"),
        ("ssgsea", "A", "T", "spearman"),
    ]
    assert keys[-1] == ("zscore", "F", "C", "pearson")
    # q covers the whole grid: every method, focal, target and statistic
    np.testing.assert_allclose(tab["q"], bh_qvalues(tab["p"].to_numpy()), atol=0)
    assert "2 method(s) x 2 focal x 3 target" in info["grid"]
    # r and p of a row are scipy's on the score table
    row = tab[
        (tab.method == "zscore") & (tab.signature_a == "F") & (tab.signature_b == "T") & (tab.statistic == "spearman")
    ].iloc[0]
    r, p = stats.spearmanr(scores["zscore"]["F"], scores["zscore"]["T"])
    assert row["r"] == pytest.approx(r, abs=1e-12) and row["p"] == pytest.approx(p, rel=1e-9) and row["n"] == 80


# ------------------------------------------------------------------------------------------------ CIs
def test_pearson_ci_is_fisher_z(planted):
    expr, sigs, scores = planted
    tab, _ = correlation_table(
        expr, scores, sigs, ["F"], ["T", "A"], statistics=("pearson",), n_bootstrap=0, n_random=0, proliferation=False
    )
    for _, row in tab.iterrows():
        r, n = row["r"], row["n"]
        assert row["ci_low"] == pytest.approx(
            math.tanh(math.atanh(r) - 1.959963984540054 / math.sqrt(n - 3)), abs=1e-12
        )
        assert row["ci_high"] == pytest.approx(
            math.tanh(math.atanh(r) + 1.959963984540054 / math.sqrt(n - 3)), abs=1e-12
        )


def test_bootstrap_ci_reproducible_covers_r_and_equals_a_loop():
    rng = np.random.default_rng(11)
    a = rng.normal(size=40)
    b = np.round(0.6 * a + rng.normal(size=40), 1)
    r = stats.spearmanr(a, b)[0]
    lo, hi = bootstrap_ci(a, b, 500, seed=5)
    assert (lo, hi) == bootstrap_ci(a, b, 500, seed=5)
    assert (lo, hi) != bootstrap_ci(a, b, 500, seed=6)
    assert lo < r < hi and 0.2 < hi - lo < 0.8
    # the same resamples, one at a time with scipy
    idx = np.random.default_rng(5).integers(0, 40, size=(500, 40))
    boot = [stats.spearmanr(a[i], b[i])[0] for i in idx]
    np.testing.assert_allclose([lo, hi], np.percentile(boot, [2.5, 97.5]), atol=1e-12)
    assert np.isnan(bootstrap_ci(a, b, 0, seed=5)).all()


def test_table_bootstrap_ci_same_seed_same_interval(planted):
    expr, sigs, scores = planted
    one = correlation_table(
        expr,
        scores,
        sigs,
        ["F"],
        ["T"],
        statistics=("spearman",),
        n_bootstrap=300,
        n_random=0,
        seed=9,
        proliferation=False,
    )[0]
    two = correlation_table(
        expr,
        scores,
        sigs,
        ["F"],
        ["T"],
        statistics=("spearman",),
        n_bootstrap=300,
        n_random=0,
        seed=9,
        proliferation=False,
    )[0]
    other = correlation_table(
        expr,
        scores,
        sigs,
        ["F"],
        ["T"],
        statistics=("spearman",),
        n_bootstrap=300,
        n_random=0,
        seed=10,
        proliferation=False,
    )[0]
    pd.testing.assert_frame_equal(one, two)
    assert (one["ci_low"] != other["ci_low"]).all()
    assert (one["ci_low"] < one["r"]).all() and (one["r"] < one["ci_high"]).all()


# -------------------------------------------------------------------------------------------- overlap
def test_overlap_by_hand_and_hypergeometric_by_brute_force():
    measured = [f"g{i}" for i in range(1, 9)] + [f"x{i}" for i in range(92)]  # 100 genes; g9 is not measured
    a = ["g1", "g2", "g3", "g4", "g5"]
    b = ["g4", "g5", "g6", "g7", "g8", "g9"]
    shared, jac, p = overlap(a, b, measured)
    assert shared == 2 and jac == pytest.approx(2 / 8)  # A u B measured = g1..g8
    # P(X >= 2), X ~ hypergeometric: 5 draws (A) from 100 genes of which 5 are B's (g4..g8)
    brute = sum(math.comb(5, k) * math.comb(95, 5 - k) for k in range(2, 6)) / math.comb(100, 5)
    assert p == pytest.approx(brute, rel=1e-12)
    assert overlap(["g1"], ["g2"], measured) == (0, 0.0, 1.0)
    assert np.isnan(overlap(["zz"], ["yy"], measured)[1])


# ---------------------------------------------------------------------------------- r_without_shared
def test_r_without_shared_removes_a_shared_gene_correlation(planted):
    expr, sigs, scores = planted
    tab, info = correlation_table(
        expr, scores, sigs, ["A", "F"], ["B", "T"], n_bootstrap=0, n_random=0, proliferation=False
    )
    for m in ("zscore", "ssgsea"):
        ab = tab[(tab.method == m) & (tab.signature_a == "A") & (tab.signature_b == "B")]
        assert (ab["n_shared_genes"] == 3).all() and np.allclose(ab["jaccard"], 3 / 9)
        assert (ab["r"] > 0.6).all(), m  # A and B correlate through S1-S3 alone
        assert (ab["r_without_shared"].abs() < 0.3).all(), m
        ft = tab[(tab.method == m) & (tab.signature_a == "F") & (tab.signature_b == "T")]
        assert (ft["n_shared_genes"] == 0).all() and (ft["r_without_shared"] == ft["r"]).all()
    # the re-scored reduced lists are the ordinary scores of A1-A3 and B1-B3
    red = score(expr, [sig("a", ["A1", "A2", "A3"]), sig("b", ["B1", "B2", "B3"])], "zscore").scores
    row = tab[
        (tab.method == "zscore") & (tab.signature_a == "A") & (tab.signature_b == "B") & (tab.statistic == "pearson")
    ].iloc[0]
    assert row["r_without_shared"] == pytest.approx(stats.pearsonr(red["a"], red["b"])[0], abs=1e-12)
    assert {"A without S1,S2,S3", "B without S1,S2,S3"} <= {r["signature"] for r in info["reduced_signatures"]}


def test_r_without_shared_is_na_when_the_reduced_list_is_too_small(planted):
    expr, sigs, scores = planted
    small = [*sigs, sig("S", ["S1", "S2", "A1"])]
    sc = {"zscore": score(expr, small, "zscore").scores}
    tab, info = correlation_table(
        expr, sc, small, ["S"], ["A"], statistics=("pearson",), n_bootstrap=0, n_random=0, proliferation=False
    )
    row = tab.iloc[0]
    assert row["n_shared_genes"] == 3 and np.isfinite(row["r"]) and np.isnan(row["r_without_shared"])
    why = [r for r in info["reduced_signatures"] if r["signature"].startswith("S without")]
    assert why and not why[0]["scored"] and "no signature gene" in why[0]["reason"]


# --------------------------------------------------------------------------------------- random null
def test_random_null_p_is_minimal_for_a_planted_correlation(planted):
    expr, sigs, scores = planted
    B = 199
    tab, info = correlation_table(
        expr, scores, sigs, ["F"], ["T", "C"], n_bootstrap=0, n_random=B, seed=1, proliferation=False
    )
    ft = tab[tab.signature_b == "T"]
    assert (ft["p_random_null"] == 1 / (B + 1)).all()
    fc = tab[tab.signature_b == "C"]  # noise: an ordinary random-null p
    assert (fc["p_random_null"] > 0.05).all()
    assert set(info["random_null_seeds"]) == {"ssgsea", "zscore"}


@pytest.mark.parametrize("method", ["zscore", "ssgsea"])
def test_random_null_equals_a_slow_per_set_loop(planted, method):
    expr, sigs, scores = planted
    B, seed = 40, 4
    tab, info = correlation_table(
        expr,
        {method: scores[method]},
        sigs,
        ["A"],
        ["T", "F"],
        n_bootstrap=0,
        n_random=B,
        seed=seed,
        proliferation=False,
    )
    s = stable_seed(seed, "random_null", method, "A")
    assert info["random_null_seeds"][method]["A"] == s
    _, sets = random_signature_scores(expr, sigs[0], method, B, s)
    rand = score(
        expr, [sig(f"r{i}", genes) for i, genes in enumerate(sets)], method
    ).scores  # one ordinary score per random set
    for _, row in tab.iterrows():
        target = scores[method][row["signature_b"]]
        ref = stats.spearmanr if row["statistic"] == "spearman" else stats.pearsonr
        rs = np.array([ref(rand[c], target)[0] for c in rand.columns])
        expected = (np.sum(np.abs(rs) >= abs(row["r"])) + 1) / (B + 1)
        assert row["p_random_null"] == pytest.approx(expected, abs=1e-15), (row["signature_b"], row["statistic"])
    # the generic path (random sets scored by scoring.score, used for gsva / plage / score_genes) draws the same sets
    np.testing.assert_allclose(
        random_null_scores(expr, sigs[0], method, B, s, vectorized=False), rand.to_numpy().T, atol=1e-10
    )


def test_random_null_for_a_method_without_vectorized_null(planted):
    expr, sigs, _ = planted
    sc = {"plage": score(expr, sigs, "plage").scores}
    tab, info = correlation_table(
        expr, sc, sigs, ["F"], ["T"], statistics=("pearson",), n_bootstrap=0, n_random=30, seed=2, proliferation=False
    )
    assert tab["p_random_null"].iloc[0] == pytest.approx(1 / 31)
    assert "scoring.score" in info["random_null_methods"]["plage"]


# ---------------------------------------------------------------------------------------- partial r
@pytest.fixture(scope="module")
def partial_golden():
    inp = pd.read_csv(G / "partial_input.tsv", sep="\t", index_col=0)
    gold = pd.read_csv(G / "partial.tsv", sep="\t")
    return inp, gold


def test_partial_correlation_equals_r_ppcor(partial_golden):
    inp, gold = partial_golden
    design, groups, cov_info = covariate_design(inp[["z1", "grp"]], inp.index)
    assert groups == {"z1": ["z1"], "grp": ["grp=low", "grp=mid"]} and cov_info["coding"]["grp"]["reference"] == "high"
    cases = {"both": design.to_numpy(), "numeric": design[["z1"]].to_numpy(), "none": None}
    ok = design.notna().all(axis=1).to_numpy()  # the golden's complete cases are those of every variable
    a, b = np.where(ok, inp["a"].to_numpy(), np.nan), inp["b"].to_numpy()
    for _, g in gold.iterrows():
        z = cases[g["case"]]
        r, p, n, k = partial_correlation(a, b, z, g["statistic"])
        assert (n, k) == (g["n"], g["gp"]), g["case"]
        assert r == pytest.approx(g["estimate"], abs=1e-10) and r == pytest.approx(g["r_lm"], abs=1e-10)
        assert p == pytest.approx(g["p_t"], rel=1e-9, abs=1e-15)


def test_table_r_partial_adjusts_for_the_covariates(partial_golden):
    inp, gold = partial_golden
    samples = inp.index
    scores = {"zscore": pd.DataFrame({"PA": inp["a"], "PB": inp["b"]}, index=samples)}
    expr = pd.DataFrame(
        np.random.default_rng(0).normal(size=(30, len(samples))), index=[f"G{i}" for i in range(30)], columns=samples
    )
    sigs = [sig("PA", ["NOT_MEASURED1", "NOT_MEASURED2"]), sig("PB", ["NOT_MEASURED3"])]
    cov = inp[["z1", "grp"]].assign(const="same", empty=np.nan)
    tab, info = correlation_table(
        expr, scores, sigs, ["PA"], ["PB"], n_bootstrap=0, n_random=10, covariates=cov, proliferation=True
    )
    gold = gold[gold.case == "both"].set_index("statistic")
    for _, row in tab.iterrows():
        assert row["covariates"] == "z1;grp"
        assert row["r_partial"] == pytest.approx(gold.loc[row["statistic"], "estimate"], abs=1e-10)
    # one-level / empty covariates and a missing PCNA are skipped with a reason, never an error
    assert (
        "one level" in info["covariates"]["skipped"]["const"] and "no value" in info["covariates"]["skipped"]["empty"]
    )
    assert info["meta_pcna"]["used"] is False and "PCNA" in info["meta_pcna"]["reason"]
    # a focal signature with no measured gene has no random null: NA and a reason
    assert tab["p_random_null"].isna().all() and "PA" in info["random_null_unavailable"]["zscore"]
    assert tab["n_shared_genes"].eq(0).all() and (tab["r_without_shared"] == tab["r"]).all()


def test_partial_correlation_data_conditions():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=20), rng.normal(size=20)
    r, p, n, k = partial_correlation(a, b, a[:, None] * 2.0 + 1.0)  # a fully explained by the covariate
    assert np.isnan(r) and np.isnan(p) and (n, k) == (20, 1)
    r, p, n, k = partial_correlation(a[:4], b[:4], rng.normal(size=(4, 2)))  # df = 4 - 2 - 2 = 0
    assert np.isnan(r) and k == 2


# ---------------------------------------------------------------------------------------- meta-PCNA
def test_meta_pcna_picks_the_planted_proliferation_genes(cohort):
    logcpm, *_, truth = cohort
    score_pcna, genes = meta_pcna(logcpm)
    prolif = set(truth["proliferation_genes"])
    assert genes[0] == "PCNA" and len(genes) == 20  # 1% of 2,000 measured genes
    assert len(set(genes) & prolif) >= 18
    # the metagene is the median z-score of its genes, per sample
    x = logcpm.loc[genes]
    z = x.sub(x.mean(axis=1), axis=0).div(x.std(axis=1, ddof=1), axis=0)
    np.testing.assert_allclose(score_pcna.to_numpy(), z.median(axis=0).to_numpy(), atol=1e-12)
    # it tracks the proliferation genes' mean more than any single non-proliferation gene does
    assert stats.pearsonr(score_pcna, logcpm.loc[sorted(prolif & set(logcpm.index))].mean())[0] > 0.8
    assert meta_pcna(logcpm.drop(index="PCNA"))[1] == []


# ------------------------------------------------------------------------------------- invariances
def test_whole_table_is_sample_and_gene_order_invariant(cohort):
    logcpm, sigs, scores, clin, _ = cohort
    focal, targets = ["SS", "SS_infiltration"], ["LMS", "TAVAZOIE_METASTASIS", "SMID_RELAPSE_LIVER"]
    cov = clin[["er_status", "age"]]
    kw = dict(n_bootstrap=100, n_random=50, seed=12)
    tab, info = correlation_table(logcpm, scores, sigs, focal, targets, covariates=cov, **kw)
    rng = np.random.default_rng(0)
    perm_s = rng.permutation(logcpm.columns)
    perm_g = rng.permutation(logcpm.index)
    tab2, info2 = correlation_table(
        logcpm.loc[perm_g, perm_s],
        {"zscore": scores["zscore"].loc[perm_s[::-1]]},
        sigs,
        focal,
        targets,
        covariates=cov.loc[perm_s],
        **kw,
    )
    pd.testing.assert_frame_equal(tab, tab2, check_exact=False, rtol=1e-12, atol=1e-12)
    assert info == info2
    assert (tab["covariates"] == "meta_pcna;er_status;age").all()
    ss_lms = tab[(tab.signature_a == "SS") & (tab.signature_b == "LMS")]
    assert (ss_lms["r"] > 0.4).all() and (ss_lms["p_random_null"] == 1 / 51).all()


def test_constant_and_na_scores_give_na_rows(planted):
    expr, sigs, scores = planted
    t = scores["zscore"].copy()
    t["C"] = np.nan  # a signature that could not be scored
    t["A"] = 2.0  # constant
    tab, info = correlation_table(
        expr, {"zscore": t}, sigs, ["F", "A"], ["C", "T"], n_bootstrap=20, n_random=10, proliferation=True
    )
    na = tab[(tab.signature_b == "C") | (tab.signature_a == "A")]
    assert len(na) == 6
    assert na[["r", "p", "q", "ci_low", "ci_high", "p_random_null", "r_partial"]].isna().all().all()
    ok = tab[(tab.signature_a == "F") & (tab.signature_b == "T")]
    assert ok[["r", "p", "q", "ci_low", "ci_high", "p_random_null"]].notna().all().all()
    assert (ok["covariates"] == "").all() and ok["r_partial"].isna().all()  # nothing to adjust for: no PCNA here


def test_one_level_covariate_is_skipped_with_a_reason(cohort):
    logcpm, sigs, scores, clin, _ = cohort
    cov = clin[["er_status", "age"]].assign(er_status="positive", cohort_age=55)
    tab, info = correlation_table(logcpm, scores, sigs, ["SS"], ["LMS"], n_bootstrap=0, n_random=0, covariates=cov)
    assert info["covariates"]["skipped"] == {
        "er_status": "one level only ('positive') across the samples",
        "cohort_age": "one value only (55) across the samples",
    }
    assert (tab["covariates"] == "meta_pcna;age").all() and tab["r_partial"].notna().all()
    assert (
        np.isnan(tab.loc[tab.statistic == "spearman", "ci_low"]).all() and tab["p_random_null"].isna().all()
    )  # switched off


def test_user_mistakes_raise(planted):
    expr, sigs, scores = planted
    with pytest.raises(SeedsigError, match="statistics"):
        correlation_table(expr, scores, sigs, ["F"], ["T"], statistics=("kendall",))
    assert (
        len(correlation_table(expr, scores, sigs, ["F"], ["T"], statistics="pearson", n_bootstrap=0, n_random=0)[0])
        == 2
    )  # one statistic as a string
    with pytest.raises(SeedsigError, match="NOPE"):
        correlation_table(expr, scores, sigs, ["NOPE"], ["T"])
    with pytest.raises(SeedsigError, match="not in the expression matrix"):
        correlation_table(expr.iloc[:, :-1], scores, sigs, ["F"], ["T"])
    with pytest.raises(SeedsigError, match="n_random"):
        correlation_table(expr, scores, sigs, ["F"], ["T"], n_random=-1)
    with pytest.raises(SeedsigError, match="seed"):
        correlation_table(expr, scores, sigs, ["F"], ["T"], seed="x")
    with pytest.raises(SeedsigError, match="no sample id"):
        correlation_table(expr, scores, sigs, ["F"], ["T"], covariates=pd.DataFrame({"age": [1, 2]}, index=["u", "v"]))
