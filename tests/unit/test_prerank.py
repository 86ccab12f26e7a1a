"""Gene-level prerank (seedsig.association.prerank): correlations against scipy, gseapy's ES against a literal weighted
Kolmogorov-Smirnov walk, NES/p against gseapy's own null, seeding, planted signal, small sets, focal genes."""

import io
import time

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from seedsig.association.prerank import (
    PRERANK_COLUMNS,
    enrichment_plot,
    gene_correlations,
    gene_ranking,
    prerank_table,
    running_enrichment,
)
from seedsig.core.errors import SeedsigError
from seedsig.scoring.signatures import Signature


def sig(name, genes, directions=None, organ="NA"):
    genes = tuple(genes)
    return Signature(name=name, genes=genes, directions=tuple(directions or (1,) * len(genes)), organ=organ)


def literal_es(ranking: pd.Series, genes, p=1.0) -> float:
    """Subramanian et al. 2005, written out one gene at a time (reference only): walk down the ranking
    (decreasing), P_hit += |r_j|^p / N_R at a set gene, P_miss += 1 / (N - N_H) at any other gene;
    ES = the maximum deviation of P_hit - P_miss from zero."""
    genes = set(genes)
    names, values = list(ranking.index), list(ranking.to_numpy())
    n_r = sum(abs(v) ** p for g, v in zip(names, values) if g in genes)
    n_h = sum(g in genes for g in names)
    hit = miss = 0.0
    best = 0.0
    for g, v in zip(names, values):
        if g in genes:
            hit += abs(v) ** p / n_r
        else:
            miss += 1.0 / (len(names) - n_h)
        if abs(hit - miss) > abs(best):
            best = hit - miss
    return best


def cohort(n_genes=600, n_samples=60, seed=0, loading=1.0):
    """Log-scale expression with one latent program: genes P000-P029 load on it (+), N000-N009 (-);
    the rest (R...) is noise. Symbols are mixed case on purpose (gseapy would upper-case them)."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=n_samples)
    pos = [f"P{i:03d}" for i in range(30)]
    neg = [f"N{i:03d}" for i in range(10)]
    rest = [f"R{i:04d}" if i % 3 else f"c{i}orf{i}" for i in range(n_genes - 40)]
    x = rng.normal(size=(n_genes, n_samples)) + 8.0
    x[:30] += loading * latent
    x[30:40] -= loading * latent
    expr = pd.DataFrame(x, index=pos + neg + rest, columns=[f"S{j:03d}" for j in range(n_samples)])
    return expr, rest


def focal_scores(expr, focal_genes=("P000", "P001", "P002", "P003")):
    s = expr.loc[list(focal_genes)].mean()
    return pd.DataFrame({"SS": s, "SS_attraction": expr.loc[list(focal_genes[:2])].mean()})


# ----------------------------------------------------------------------------------- correlations
@pytest.mark.parametrize("statistic", ["spearman", "pearson"])
def test_gene_correlations_equal_scipy_on_finite_samples(statistic):
    rng = np.random.default_rng(3)
    x = np.round(rng.normal(size=(40, 25)), 1)  # rounded: ties within genes
    x[5] = 2.0  # constant gene
    x[6, 4] = np.nan  # missing value in a used sample
    x[7, 0] = np.nan  # missing value only where the score is NA: the gene is kept
    expr = pd.DataFrame(x, index=[f"g{i}" for i in range(40)], columns=[f"s{j}" for j in range(25)])
    score = pd.Series(np.round(rng.normal(size=25), 1), index=expr.columns)
    score.iloc[0] = np.nan
    score.iloc[3] = np.inf
    r = gene_correlations(expr, score, statistic)
    use = np.isfinite(score.to_numpy())
    ref = stats.spearmanr if statistic == "spearman" else stats.pearsonr
    for g in expr.index:
        if g in ("g5", "g6"):
            assert np.isnan(r[g])
        else:
            assert abs(r[g] - ref(expr.loc[g].to_numpy()[use], score.to_numpy()[use])[0]) < 1e-12
    assert list(r.index) == sorted(expr.index)
    assert r.name == statistic
    # independent of row and column order, to the last bit
    perm = expr.iloc[rng.permutation(40), rng.permutation(25)]
    pd.testing.assert_series_equal(
        gene_correlations(perm, score.iloc[rng.permutation(25)], statistic), r, check_exact=True
    )


def test_constant_or_too_short_score_gives_nan():
    expr, _ = cohort(n_genes=60, n_samples=10)
    assert gene_correlations(expr, pd.Series(1.0, index=expr.columns)).isna().all()
    short = pd.Series(np.nan, index=expr.columns)
    short.iloc[:2] = [1.0, 2.0]
    assert gene_correlations(expr, short).isna().all()


def test_ranking_breaks_ties_by_symbol_and_excludes():
    expr, _ = cohort(n_genes=80, n_samples=20)
    expr.loc["ZZZ"] = expr.loc["P005"]  # identical rows: identical r, ordered by symbol
    expr.loc["AAA"] = expr.loc["P005"]
    score = focal_scores(expr)["SS"]
    rk = gene_ranking(expr, score, exclude=["P000", "P001"])
    assert "P000" not in rk.index and "P001" not in rk.index and rk.notna().all()
    assert np.all(np.diff(rk.to_numpy()) <= 0)
    pos = [list(rk.index).index(g) for g in ("AAA", "P005", "ZZZ")]
    assert pos == [pos[0], pos[0] + 1, pos[0] + 2]
    assert rk["AAA"] == rk["P005"] == rk["ZZZ"]
    assert len(rk) == expr.shape[0] - 2


# ------------------------------------------------------------------------------ ES / NES vs reference
@pytest.mark.parametrize("weight", [1.0, 2.0, 0.0])
def test_es_equals_literal_weighted_ks_walk(weight):
    expr, rest = cohort(n_genes=300, n_samples=40, seed=1)
    scores = focal_scores(expr)
    targets = [
        sig("TWO", ["P010", "R0002"]),  # 2-gene set
        sig("MIXED", ["P011", "P012", "N001", "R0004", "R0005", "c0orf0"]),
        sig("SIGNED", ["P020", "P021", "P022", "N002", "N003", "N004"], [1, 1, 1, -1, -1, -1]),
        sig("NOISE", rest[10:40]),
    ]
    focal = sig("SS", ["P000", "P001", "P002", "P003"])
    tab = prerank_table(expr, scores[["SS"]], ["SS"], [focal, *targets], permutations=200, seed=7, weight=weight)
    rk = gene_ranking(expr, scores["SS"], exclude=focal.genes)
    sets = {
        ("TWO", "up"): ["P010", "R0002"],
        ("MIXED", "up"): targets[1].genes,
        ("SIGNED", "up"): targets[2].up,
        ("SIGNED", "down"): targets[2].down,
        ("NOISE", "up"): rest[10:40],
    }
    for row in tab.itertuples():
        genes = sets[(row.signature, row.direction)]
        assert abs(row.es - literal_es(rk, genes, weight)) < 1e-10
        res = running_enrichment(rk, genes, weight)
        assert abs(res[np.argmax(np.abs(res))] - row.es) < 1e-12
        assert row.n_genes == len(genes)
    # the planted up genes sit at the top, the planted down genes at the bottom
    signed = tab.set_index(["signature", "direction"])
    assert signed.loc[("SIGNED", "up"), "es"] > 0.9 and signed.loc[("SIGNED", "down"), "es"] < -0.9


def test_nes_and_p_are_es_over_gseapy_gene_set_null():
    """NES = ES / mean of the same-signed null ESs; p = share of same-signed null ESs at least as extreme.
    The null comes from gseapy's core with the same seed and set size (it does not depend on set names)."""
    from gseapy.gse import prerank_rs

    expr, rest = cohort(n_genes=300, n_samples=40, seed=2)
    scores = focal_scores(expr)
    focal = sig("SS", ["P000", "P001", "P002", "P003"])
    targets = [
        sig("A", ["P010", "P011", "P012", "R0001", "R0002"]),
        sig("B", rest[:12]),
        sig("C", ["N000", "N001", "N005"]),
    ]
    tab = prerank_table(expr, scores, ["SS"], [focal, *targets], permutations=300, seed=11).set_index("signature")
    rk = gene_ranking(expr, scores["SS"], exclude=focal.genes)
    gmt = {t.name: list(t.genes) for t in targets}
    out = prerank_rs(list(rk.index), rk.to_list(), gmt, 1.0, 1, 1000, 300, 1, 11)
    for s in out.summaries:
        null = np.array(s.esnull)
        same = null[null >= 0] if s.es >= 0 else null[null < 0]
        assert abs(tab.loc[s.term, "nes"] - s.es / abs(same.mean())) < 1e-10
        p = (same >= s.es).mean() if s.es >= 0 else (same <= s.es).mean()
        assert abs(tab.loc[s.term, "p"] - p) < 1e-12
    assert tab.loc["A", "nes"] > 1.5 and tab.loc["C", "nes"] < -1.3


def test_mixed_case_symbols_are_not_upper_cased():
    """gseapy upper-cases mostly lower-case gene names when the sets are upper case: 'abc' would then take
    the hit meant for 'ABC'. Neutral ids keep symbols exact."""
    expr, _ = cohort(n_genes=200, n_samples=40, seed=10)
    expr = expr.rename(index=lambda g: g.lower() if g.startswith("R") else g)  # mostly lower case
    expr = expr.rename(index={"P010": "ABC", "N005": "abc"})  # ABC rises with the score, abc falls
    scores = focal_scores(expr)
    focal = sig("SS", ["P000", "P001", "P002", "P003"])
    tab = prerank_table(
        expr, scores[["SS"]], ["SS"], [focal, sig("UPPER", ["ABC", "P011"])], permutations=100, seed=1
    ).iloc[0]
    rk = gene_ranking(expr, scores["SS"], exclude=focal.genes)
    assert abs(tab["es"] - literal_es(rk, ["ABC", "P011"])) < 1e-10 and tab["es"] > 0.85
    assert sorted(tab["leading_edge"].split(";")) == ["ABC", "P011"]


# ------------------------------------------------------------------------------------ reproducibility
def test_same_seed_same_table_and_global_rng_untouched():
    expr, rest = cohort(n_genes=400, n_samples=40, seed=4)
    scores = focal_scores(expr)
    sigs = [
        sig("SS", ["P000", "P001", "P002", "P003"]),
        sig("SS_attraction", ["P000", "P001"]),
        sig("LUNG", ["P004", "P005", "P006", "R0001"]),
        sig("BONE", rest[5:25]),
        sig("BRAIN", ["N000", "N001"]),
    ]
    np.random.seed(12345)
    before = np.random.get_state()
    a = prerank_table(expr, scores, ["SS", "SS_attraction"], sigs, permutations=500, seed=3)
    after = np.random.get_state()
    assert before[0] == after[0] and np.array_equal(before[1], after[1]) and before[2:] == after[2:]
    np.random.seed(999)  # a different global state does not change the table
    b = prerank_table(expr, scores, ["SS", "SS_attraction"], sigs, permutations=500, seed=3)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    c = prerank_table(expr, scores, ["SS", "SS_attraction"], sigs, permutations=500, seed=4)
    assert np.array_equal(a["es"], c["es"]) and not np.array_equal(a["p"], c["p"])
    assert list(a["focal"]) == ["SS"] * 3 + ["SS_attraction"] * 3


def test_independent_of_row_column_and_signature_order():
    expr, rest = cohort(n_genes=300, n_samples=40, seed=5)
    scores = focal_scores(expr)
    sigs = [
        sig("SS", ["P000", "P001", "P002", "P003"]),
        sig("A", ["P010", "P011", "R0001"]),
        sig("B", rest[:15], [1] * 7 + [-1] * 8),
        sig("C", ["N000", "N001"]),
    ]
    a = prerank_table(expr, scores, ["SS"], sigs, permutations=200, seed=1)
    rng = np.random.default_rng(0)
    b = prerank_table(
        expr.iloc[rng.permutation(300), rng.permutation(40)],
        scores.iloc[rng.permutation(40)],
        ["SS"],
        sigs[::-1],
        permutations=200,
        seed=1,
    )
    key = ["focal", "signature", "direction"]
    pd.testing.assert_frame_equal(
        a.sort_values(key).reset_index(drop=True), b.sort_values(key).reset_index(drop=True), check_exact=True
    )


# ------------------------------------------------------------------------------------ planted signal
def test_planted_signal_positive_nes_small_fdr_random_sets_small():
    expr, rest = cohort(n_genes=3000, n_samples=80, seed=6)
    scores = focal_scores(expr)
    rng = np.random.default_rng(1)
    randoms = [sig(f"RANDOM{i}", rng.choice(rest, 25, replace=False)) for i in range(6)]
    sigs = [
        sig("SS", ["P000", "P001", "P002", "P003"]),
        sig("PLANTED", [f"P{i:03d}" for i in range(4, 24)]),
        sig("PLANTED_SIGNED", ["P024", "P025", "P026", "N000", "N001", "N002"], [1, 1, 1, -1, -1, -1]),
        *randoms,
    ]
    tab = prerank_table(expr, scores[["SS"]], ["SS"], sigs, permutations=1000, seed=2010).set_index(
        ["signature", "direction"]
    )
    planted = tab.loc[("PLANTED", "up")]
    assert planted["es"] > 0.99 and planted["nes"] > 2.5 and planted["p"] == 0.0 and planted["fdr"] == 0.0
    # 3-gene sets: ES near +-1, but a small set's null is wide, so NES stays modest
    assert tab.loc[("PLANTED_SIGNED", "up"), "nes"] > 1.6 and tab.loc[("PLANTED_SIGNED", "down"), "nes"] < -1.6
    assert tab.loc[("PLANTED_SIGNED", "up"), "fdr"] < 0.05 and tab.loc[("PLANTED_SIGNED", "down"), "fdr"] < 0.05
    rnd = tab.loc[[(f"RANDOM{i}", "up") for i in range(6)]]
    assert (
        (rnd["es"].abs() < 0.4).all()
        and (rnd["nes"].abs() < 1.3).all()
        and (rnd["p"] > 0.1).all()
        and (rnd["fdr"] > 0.3).all()
    )
    assert planted["leading_edge"].split(";")[0] in {f"P{i:03d}" for i in range(4, 24)}


# -------------------------------------------------------------------------- small sets, focal genes
def test_two_gene_set_is_scored_and_short_set_gives_na_row():
    expr, rest = cohort(n_genes=300, n_samples=40, seed=7)
    scores = focal_scores(expr)
    sigs = [
        sig("SS", ["P000", "P001", "P002", "P003"]),
        sig("BoMS", ["P010", "P011"], organ="bone"),  # 2 genes: kept and scored (gseapy's default min_size=15 drops it)
        sig("BrMS", ["P012", "NOT_MEASURED", "ALSO_MISSING"], organ="brain"),  # 1 gene present
        sig("LIVER", ["P013", "P014", "P015"], [1, 1, -1]),  # signed: its down set has 1 gene
    ]
    tab = prerank_table(expr, scores[["SS"]], ["SS"], sigs, permutations=300, seed=1)
    assert list(tab.columns) == list(PRERANK_COLUMNS)
    assert list(zip(tab["signature"], tab["direction"])) == [
        ("BoMS", "up"),
        ("BrMS", "up"),
        ("LIVER", "up"),
        ("LIVER", "down"),
    ]
    t = tab.set_index(["signature", "direction"])
    boms = t.loc[("BoMS", "up")]
    assert (
        boms["n_genes"] == 2
        and boms["es"] > 0.9
        and np.isfinite(boms["nes"])
        and boms["p"] < 0.05
        and boms["note"] == ""
    )
    assert sorted(boms["leading_edge"].split(";")) == ["P010", "P011"]
    brms = t.loc[("BrMS", "up")]
    assert brms["n_genes"] == 1 and np.isnan(brms["es"]) and np.isnan(brms["nes"]) and np.isnan(brms["fdr"])
    assert (
        "1 of 3 gene(s)" in brms["note"]
        and "min_size is 2" in brms["note"]
        and "NOT_MEASURED, ALSO_MISSING" in brms["note"]
    )
    assert t.loc[("LIVER", "up"), "n_genes"] == 2 and np.isfinite(t.loc[("LIVER", "up"), "es"])
    assert t.loc[("LIVER", "down"), "n_genes"] == 1 and np.isnan(t.loc[("LIVER", "down"), "es"])
    # min_size=1 scores the 1-gene sets too
    one = prerank_table(expr, scores[["SS"]], ["SS"], sigs, permutations=300, seed=1, min_size=1)
    assert one["es"].notna().all()


def test_focal_genes_removed_from_ranking():
    expr, rest = cohort(n_genes=300, n_samples=40, seed=8)
    scores = focal_scores(expr)
    ss = sig("SS", ["P000", "P001", "P002", "P003", "GONE"])  # GONE: not measured, so not 'removed'
    lms = sig("LMS", ["P000", "P001", "R0001", "R0002", "R0004"], organ="lung")  # shares two SS genes
    on = prerank_table(
        expr,
        scores,
        ["SS", "SS_attraction"],
        [ss, sig("SS_attraction", ["P000", "P001"]), lms],
        permutations=300,
        seed=1,
    )
    row = on.set_index("focal").loc["SS"]
    assert row["genes_removed"] == "P000;P001;P002;P003"
    assert row["n_genes"] == 3 and row["note"] == "left out as gene(s) of the focal signature: P000, P001"
    assert on.set_index("focal").loc["SS_attraction", "genes_removed"] == "P000;P001"
    off = prerank_table(expr, scores, ["SS"], [ss, lms], permutations=300, seed=1, exclude_focal_genes=False).iloc[0]
    assert off["genes_removed"] == "" and off["n_genes"] == 5 and off["note"] == ""
    assert off["leading_edge"].split(";")[:2] == ["P000", "P001"] or off["leading_edge"].split(";")[:2] == [
        "P001",
        "P000",
    ]
    assert off["es"] > row["es"] + 0.3  # the shared genes inflate the enrichment by construction


def test_constant_focal_score_gives_na_rows_with_note():
    expr, _ = cohort(n_genes=100, n_samples=20)
    scores = pd.DataFrame({"SS": 1.0, "SS2": np.nan}, index=expr.columns)
    tab = prerank_table(
        expr,
        scores,
        ["SS", "SS2"],
        [sig("SS", ["P000"]), sig("SS2", ["P001"]), sig("A", ["P010", "P011"])],
        permutations=100,
    )
    assert len(tab) == 2 and tab["es"].isna().all() and tab["n_genes"].tolist() == [0, 0]
    assert "score is constant" in tab["note"].iloc[0]
    assert "0 finite value(s)" in tab["note"].iloc[1]


def test_pipeline_can_prepend_method_column():
    expr, _ = cohort(n_genes=100, n_samples=20)
    tab = prerank_table(
        expr,
        focal_scores(expr),
        ["SS", "SS_attraction", "SS_infiltration"],
        [
            sig("SS", ["P000", "P001", "P002", "P003"]),
            sig("SS_attraction", ["P000", "P001"]),
            sig("LMS", ["P005", "P006", "R0001"]),
        ],
        permutations=50,
    )
    tab.insert(0, "method", "ssgsea")
    assert list(tab.columns) == ["method", *PRERANK_COLUMNS] and len(tab) == 2  # SS_infiltration: not a score column


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"statistic": "kendall"}, "not one of spearman, pearson"),
        ({"permutations": 0}, "permutations must be a whole number >= 1"),
        ({"seed": -1}, "seed must be a whole number >= 0"),
        ({"min_size": 0}, "min_size must be"),
        ({"weight": -1.0}, "weight must be a number >= 0"),
        ({"focal": ["NOPE"]}, "none of the focal signatures (NOPE)"),
        ({"focal": ["SS_attraction"]}, "not among the given signatures"),
    ],
)
def test_user_mistakes_raise_seedsig_error(kwargs, message):
    expr, _ = cohort(n_genes=60, n_samples=10)
    args = {"focal": ["SS"], **kwargs}
    focal = args.pop("focal")
    with pytest.raises(SeedsigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        prerank_table(expr, focal_scores(expr), focal, [sig("SS", ["P000"]), sig("A", ["P001", "P002"])], **args)


def test_input_mistakes_raise_seedsig_error():
    expr, _ = cohort(n_genes=60, n_samples=10)
    scores = focal_scores(expr)
    dup = pd.concat([expr, expr.iloc[:1]])
    with pytest.raises(SeedsigError, match="duplicated gene"):
        gene_correlations(dup, scores["SS"])
    with pytest.raises(SeedsigError, match="no sample of the score table"):
        gene_correlations(expr, scores["SS"].set_axis([f"x{i}" for i in range(10)]))
    with pytest.raises(SeedsigError, match="non-numeric"):
        bad = expr.astype(object)
        bad.iloc[0, 0] = "high"
        gene_correlations(bad, scores["SS"])


# ------------------------------------------------------------------------------------------- plotting
def test_enrichment_plot_headless_figure(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    from seedsig.core.plotting import OKABE_ITO as PALETTE

    monkeypatch.chdir(tmp_path)
    expr, _ = cohort(n_genes=300, n_samples=40, seed=9)
    rk = gene_ranking(expr, focal_scores(expr)["SS"], exclude=["P000", "P001", "P002", "P003"])
    genes = [f"P{i:03d}" for i in range(4, 14)]
    fig = enrichment_plot(rk, genes, "SS vs PLANTED")
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    es_ax, hit_ax, r_ax = fig.axes
    assert es_ax.get_title() == "SS vs PLANTED" and es_ax.get_ylabel() == "enrichment score"
    assert r_ax.get_xlabel().startswith("gene rank") and r_ax.get_ylabel() == "correlation\nwith score"
    line = es_ax.lines[0]
    assert line.get_color() == PALETTE[0]
    res = running_enrichment(rk, genes)
    np.testing.assert_allclose(line.get_ydata(), res)
    assert abs(res.max() - literal_es(rk, genes)) < 1e-12
    assert len(hit_ax.collections[0].get_segments()) == 10
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    assert buf.getvalue()[:4] == b"\x89PNG"
    assert list(tmp_path.iterdir()) == []  # nothing written
    with pytest.raises(SeedsigError, match="0 of the"):
        enrichment_plot(rk, ["NOPE"], "x")


# -------------------------------------------------------------------------------------------- timing
@pytest.mark.slow
def test_time_16000_genes_200_samples_13_sets_1000_permutations():
    rng = np.random.default_rng(0)
    genes = np.array([f"GENE{i:05d}" for i in range(16000)])
    x = rng.normal(size=(16000, 200)) + 6.0
    x[:40] += rng.normal(size=200)
    expr = pd.DataFrame(x, index=genes, columns=[f"S{j}" for j in range(200)])
    scores = pd.DataFrame({"SS": x[:4].mean(axis=0)}, index=expr.columns)
    sizes = [2, 2, 3, 4, 14, 15, 20, 30, 50, 60, 100, 150, 200]
    sigs = [sig("SS", genes[:4])] + [sig(f"T{i}", rng.choice(genes[4:], k, replace=False)) for i, k in enumerate(sizes)]
    prerank_table(expr.iloc[:500], scores, ["SS"], sigs[:3], permutations=10)  # import gseapy outside the timing
    t0 = time.perf_counter()
    tab = prerank_table(expr, scores, ["SS"], sigs, permutations=1000, seed=0)
    elapsed = time.perf_counter() - t0
    print(f"\nprerank 16,000 genes x 200 samples, 13 sets, 1000 permutations: {elapsed:.2f} s")
    assert len(tab) == 13 and tab["nes"].notna().all()
    assert elapsed < 10.0
