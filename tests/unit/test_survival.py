"""Survival stage (seedsig.outcome.cox): Cox models against R survival 3.5.3 (coxph, $concordance, cox.zph), the
vectorized random-signature fits against statsmodels PHReg, and the data conditions.

Goldens: tests/golden/survival/*.tsv, written by make_golden.R (R versions in VERSIONS.txt) from the inputs that
make_inputs.py writes; the tests need no R."""

import math
import time as clock
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import GOLDEN

from seedsig.core.errors import SeedsigError
from seedsig.outcome.cox import (
    MIN_SAMPLES_COX,
    SURVIVAL_COLUMNS,
    aeq_times,
    concordance,
    cox_model,
    cox_table,
    cox_zph,
)
from seedsig.outcome.cox_many import cox_univariate_many, random_null_p

G = GOLDEN / "survival"


@pytest.fixture(scope="module")
def gold():
    return pd.read_csv(G / "coxph.tsv", sep="\t", index_col=0)


@pytest.fixture(scope="module")
def models():
    return pd.read_csv(G / "coxph_models.tsv", sep="\t", keep_default_na=False, index_col=0)


@pytest.fixture(scope="module")
def zph_gold():
    return pd.read_csv(G / "cox_zph.tsv", sep="\t")


def read(file):
    return pd.read_csv(G / file, sep="\t")


def model_inputs(row):
    """Score, time, event and covariates of a coxph_models.tsv row (as make_golden.R builds them)."""
    d = read(row["file"])
    x = d[row["score"]].to_numpy(dtype=float)
    if row["transform"] == "floor":
        x = np.floor(x)
    cov = d[row["covariates"].split(";")] if row["covariates"] else None
    return x, d["time"].to_numpy(dtype=float), d["event"].to_numpy(dtype=int), cov


def tied_data(seed, n=120, b=50):
    """Integer times (many ties, events and censorings at the same time) and b score rows, some rounded (ties
    in the score), some with a real effect."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=n)
    t = np.ceil(rng.exponential(8 * np.exp(-0.8 * latent)))
    e = (rng.random(n) < 0.65).astype(int)
    X = latent[None, :] * rng.uniform(-1.5, 1.5, (b, 1)) + rng.normal(size=(b, n))
    X[:10] = np.round(X[:10])
    return X, t, e


# -------------------------------------------------------------------------------- against R: coxph
@pytest.mark.parametrize(
    "label,file,col",
    [
        ("fixture_x1", "fixture.tsv", "x1"),
        ("fixture_x2", "fixture.tsv", "x2"),
        ("gse1992_ss", "gse1992_ss.tsv", "ss"),
        ("gse1992_ss_attraction", "gse1992_ss.tsv", "ss_attraction"),
    ],
)
def test_cox_per_sd_equals_r_coxph(gold, label, file, col):
    d = read(file)
    res = cox_model(d[col].to_numpy(), d["time"].to_numpy(float), d["event"].to_numpy(int))
    g = gold.loc[label]
    assert res["n"] == g["n"] and res["events"] == g["events"] and res["note"] == "" and res["covariates"] == ""
    assert res["beta"] == pytest.approx(g["coef"], abs=1e-6) and res["se"] == pytest.approx(g["se"], abs=1e-6)
    for ours, theirs in (("hr_per_sd", "hr"), ("ci_low", "ci_low"), ("ci_high", "ci_high"), ("p", "p")):
        assert res[ours] == pytest.approx(g[theirs], abs=1e-6, rel=1e-6), ours


MODEL_LABELS = [
    "fixture_x1",
    "fixture_x2",
    "fixture_x1_floor",
    "fixture_x1_adjusted",
    "fixture_x2_adjusted",
    "fixture_x1_floor_adjusted",
    "gse1992_ss",
    "gse1992_ss_attraction",
    "gse1992_ss_adjusted",
    "gse1992_ss_attraction_adjusted",
]


@pytest.mark.parametrize("label", MODEL_LABELS)
def test_cox_model_equals_r_coxph_concordance_and_cox_zph(models, zph_gold, label):
    """Univariate and adjusted (text covariate as a factor, numeric ones as they are, complete cases, the score
    per SD over them), a score with ties (floor), on the synthetic fixture and on GSE1992 with ER status and age."""
    row = models.loc[label]
    x, t, e, cov = model_inputs(row)
    res = cox_model(x, t, e, cov)
    assert res["note"] == ""
    assert (res["n"], res["events"]) == (row["n"], row["events"])
    assert res["covariates"] == row["covariates"]
    assert res["beta"] == pytest.approx(row["coef"], abs=1e-6)
    assert res["se"] == pytest.approx(row["se"], abs=1e-6)
    for ours, theirs in (
        ("hr_per_sd", "hr"),
        ("ci_low", "ci_low"),
        ("ci_high", "ci_high"),
        ("p", "p"),
        ("concordance", "concordance"),
    ):
        assert res[ours] == pytest.approx(row[theirs], abs=1e-6, rel=1e-6), ours
    z = zph_gold[zph_gold["label"] == label].set_index("term")
    assert set(res["ph_terms"]) | {"GLOBAL"} == set(z.index)
    for term, (chisq, df, p) in res["ph_terms"].items():
        assert df == z.loc[term, "df"], term
        assert p == pytest.approx(z.loc[term, "p"], abs=1e-4), term
        assert chisq == pytest.approx(z.loc[term, "chisq"], rel=1e-4, abs=1e-6), term
    assert res["ph_p"] == pytest.approx(z.loc["score", "p"], abs=1e-4)
    assert res["ph_chisq"] == pytest.approx(z.loc["score", "chisq"], rel=1e-4)
    assert res["ph_global_p"] == pytest.approx(z.loc["GLOBAL", "p"], abs=1e-4)


def test_cox_zph_called_directly_with_a_design_and_terms(models, zph_gold):
    """cox_zph on a design matrix and R's fitted coefficients: grade's two dummies form one 2-df term."""
    row = models.loc["fixture_x1_adjusted"]
    x, t, e, cov = model_inputs(row)
    ok = np.isfinite(x) & cov["grade"].notna().to_numpy() & cov["age"].notna().to_numpy()
    res = cox_model(x, t, e, cov)
    design = pd.DataFrame(
        {
            "score": x[ok] / x[ok].std(ddof=1),
            "grade=low": (cov["grade"][ok] == "low").astype(float),
            "grade=mid": (cov["grade"][ok] == "mid").astype(float),
            "age": cov["age"][ok],
        }
    )
    from statsmodels.duration.hazard_regression import PHReg

    beta = PHReg(t[ok], design.to_numpy(), status=e[ok], ties="efron").fit().params
    assert beta[0] == pytest.approx(res["beta"], abs=1e-10)
    tab = cox_zph(t[ok], e[ok], design, beta, {"score": [0], "grade": [1, 2], "age": [3]})
    z = zph_gold[zph_gold["label"] == "fixture_x1_adjusted"].set_index("term")
    np.testing.assert_allclose(tab["p"].to_numpy(), z.loc[tab.index, "p"].to_numpy(), atol=1e-4)
    assert tab["df"].tolist() == [1, 2, 1, 4]
    # default terms: one per column, named after the DataFrame's columns; the order of the samples is irrelevant
    perm = np.random.default_rng(0).permutation(int(ok.sum()))
    tab1 = cox_zph(t[ok][perm], e[ok][perm], design.iloc[perm], beta)
    assert list(tab1.index) == ["score", "grade=low", "grade=mid", "age", "GLOBAL"]
    assert tab1.loc["GLOBAL", "chisq"] == pytest.approx(tab.loc["GLOBAL", "chisq"], rel=1e-12)


# ------------------------------------------------------------------------------------ concordance
def brute_concordance(t, e, r):
    conc = disc = tied = 0
    for i in range(len(t)):
        if not e[i]:
            continue
        for j in range(len(t)):
            if t[j] > t[i] or (t[j] == t[i] and not e[j]):
                conc += r[i] > r[j]
                disc += r[i] < r[j]
                tied += r[i] == r[j]
    return (conc + tied / 2) / (conc + disc + tied)


def test_concordance_definition_and_ties():
    # hand-checked: events at 1 and 3, a censoring at 3 (compared with the event at 3), two events at 4 (not compared)
    t = np.array([1, 3, 3, 4, 4, 6.0])
    e = np.array([1, 1, 0, 1, 1, 0])
    r = np.array([5, 2, 2, 3, 1, 0.0])
    # event at 1 (r=5) beats all 5 others: 5 concordant; event at 3 (r=2) vs censored 3 (tie), 4, 4, 6:
    # r=2 vs 2 tied, vs 3 discordant, vs 1 concordant, vs 0 concordant; events at 4 vs 6: r=3 > 0, r=1 > 0
    assert concordance(t, e, r) == pytest.approx((5 + 2 + 2 + 0.5) / (5 + 4 + 2))
    X, tt, ee = tied_data(3, n=90, b=3)
    for x in X:
        assert concordance(tt, ee, x) == pytest.approx(brute_concordance(tt, ee, x), abs=1e-14)
    assert np.isnan(concordance(tt, ee * 0, X[0]))


# -------------------------------------------------------------------------- the random-signature fits
def test_univariate_many_equals_phreg_row_by_row():
    from statsmodels.duration.hazard_regression import PHReg

    X, t, e = tied_data(11)
    beta, se = cox_univariate_many(X, t, e)
    assert np.isfinite(beta).all() and np.isfinite(se).all()
    for i, x in enumerate(X):
        fit = PHReg(t, (x / x.std(ddof=1))[:, None], status=e, ties="efron").fit()
        assert beta[i] == pytest.approx(fit.params[0], abs=1e-8), i
        assert se[i] == pytest.approx(fit.bse[0], abs=1e-8), i
    # and cox_model gives the same log HR and SE
    res = cox_model(X[3], t, e)
    assert (res["beta"], res["se"]) == pytest.approx((beta[3], se[3]), abs=1e-8)


def test_univariate_many_equals_r(gold):
    d = read("gse1992_ss.tsv")
    beta, se = cox_univariate_many(d[["ss", "ss_attraction"]].to_numpy().T, d["time"], d["event"])
    np.testing.assert_allclose(beta, gold.loc[["gse1992_ss", "gse1992_ss_attraction"], "coef"], atol=1e-6)
    np.testing.assert_allclose(se, gold.loc[["gse1992_ss", "gse1992_ss_attraction"], "se"], atol=1e-6)
    f = read("fixture.tsv")
    beta, se = cox_univariate_many(
        f[["x1", "x2"]].to_numpy().T * 3.0 + 7.0, f["time"], f["event"]
    )  # per SD: scale-free
    np.testing.assert_allclose(beta, gold.loc[["fixture_x1", "fixture_x2"], "coef"], atol=1e-6)


def test_univariate_many_bad_rows_order_and_shared_samples():
    X, t, e = tied_data(5, n=80, b=12)
    X[2] = 4.0  # constant
    X[5, 7] = np.nan  # a missing value
    X[8] = -t  # the score orders the times perfectly: the likelihood rises for ever (beta -> +inf)
    beta, se = cox_univariate_many(X, t, e)
    assert np.isnan(beta[[2, 5, 8]]).all() and np.isnan(se[[2, 5, 8]]).all()
    good = np.setdiff1d(np.arange(12), [2, 5, 8])
    assert np.isfinite(beta[good]).all()
    # the same fit one row at a time, with the rows permuted, and with the samples permuted
    for i in good[:3]:
        b1, s1 = cox_univariate_many(X[i], t, e)
        assert (b1[0], s1[0]) == pytest.approx((beta[i], se[i]), abs=1e-12)
    rows = np.random.default_rng(1).permutation(12)
    b2, _ = cox_univariate_many(X[rows], t, e)
    np.testing.assert_allclose(b2, beta[rows], atol=1e-12)
    samples = np.random.default_rng(2).permutation(80)
    b3, s3 = cox_univariate_many(X[:, samples], t[samples], e[samples])
    np.testing.assert_allclose(b3, beta, atol=1e-12)
    np.testing.assert_allclose(s3, se, atol=1e-12)
    # the separating row is also NA in cox_model, with a note
    res = cox_model(X[8], t, e)
    assert np.isnan(res["hr_per_sd"]) and "did not converge" in res["note"]
    # samples without follow-up are left out of every row
    t4 = t.copy()
    t4[:3] = np.nan
    b4, _ = cox_univariate_many(X[good], t4, e)
    b5, _ = cox_univariate_many(X[good][:, 3:], t[3:], e[3:])
    np.testing.assert_allclose(b4, b5, atol=1e-12)
    # too few samples, or no events: all NaN
    assert np.isnan(
        cox_univariate_many(X[good][:, : MIN_SAMPLES_COX - 1], t[: MIN_SAMPLES_COX - 1], e[: MIN_SAMPLES_COX - 1])[0]
    ).all()
    assert np.isnan(cox_univariate_many(X[good], t, e * 0)[0]).all()


def test_univariate_many_speed_is_reported_not_asserted(capsys):
    rng = np.random.default_rng(0)
    for n in (200, 2000):
        t = np.ceil(rng.exponential(10, n))
        e = (rng.random(n) < 0.6).astype(int)
        X = rng.normal(size=(1000, n))
        start = clock.perf_counter()
        beta, _ = cox_univariate_many(X, t, e)
        with capsys.disabled():
            print(f"\ncox_univariate_many 1000 x {n}: {clock.perf_counter() - start:.2f} s")
        assert np.isfinite(beta).all()
        assert (
            abs(beta.mean()) < 0.02 and 0.5 < beta.std() / (1 / math.sqrt(e.sum())) < 1.5
        )  # null rows: beta ~ N(0, 1/events)


def test_random_null_p():
    null = np.array([-3.0, -1.0, 0.5, 2.0, np.nan, np.inf, 2.5])
    # finite: -3, -1, 0.5, 2, 2.5 (B = 5); |z| >= 2: -3, 2, 2.5 (b = 3)
    assert random_null_p(2.0, null) == pytest.approx(4 / 6)
    assert random_null_p(-2.0, null) == pytest.approx(4 / 6)
    assert random_null_p(10.0, null) == pytest.approx(1 / 6)
    assert random_null_p(0.0, null) == pytest.approx(1.0)
    assert np.isnan(random_null_p(np.nan, null)) and np.isnan(random_null_p(1.0, [np.nan, np.inf]))
    # an observed z computed in the same fit as a null row equal to it counts as >=
    X, t, e = tied_data(2, b=3)
    beta, se = cox_univariate_many(np.vstack([X[0], X]), t, e)
    z = beta / se
    assert random_null_p(z[0], z[1:]) == pytest.approx((1 + int((np.abs(z[1:]) >= abs(z[0]) - 1e-9).sum())) / 4)


# ------------------------------------------------------------------------------------------- the table
def cohort(n=80, seed=1):
    rng = np.random.default_rng(seed)
    idx = [f"s{i:02d}" for i in range(n)]
    a = rng.normal(size=n)
    scores = pd.DataFrame({"A": a, "B": rng.normal(size=n), "CONST": 2.0, "NA_SIG": np.nan}, index=idx)
    time = pd.Series(np.ceil(rng.exponential(20 * np.exp(-0.5 * a))), index=idx)
    event = pd.Series((rng.random(n) < 0.7).astype(int), index=idx)
    cov = pd.DataFrame(
        {
            "er_status": rng.choice(["positive", "negative"], n),
            "age": rng.normal(60, 8, n).round(),
            "grade": rng.choice([1, 2, 3], n).astype(str),
        },
        index=idx,
    )
    return scores, time, event, cov


def test_cox_data_conditions_give_notes_not_errors():
    n = 30
    idx = [f"s{i}" for i in range(n)]
    rng = np.random.default_rng(1)
    scores = pd.DataFrame({"A": rng.normal(size=n), "CONST": 2.0, "NA_SIG": np.nan}, index=idx)
    time = pd.Series(rng.uniform(1, 50, n), index=idx)
    time.iloc[0] = np.nan
    event = pd.Series(rng.integers(0, 2, n), index=idx)
    res = cox_table({"zscore": scores}, time, event, "rfs")
    assert list(res.columns) == list(SURVIVAL_COLUMNS)
    res = res.set_index("signature")
    assert res.loc["A", "n"] == 29 and np.isfinite(res.loc["A", "hr_per_sd"])
    assert "constant" in res.loc["CONST", "note"] and np.isnan(res.loc["CONST", "hr_per_sd"])
    assert "not available" in res.loc["NA_SIG", "note"]
    none = cox_table({"zscore": scores}, time, event * 0, "rfs").set_index("signature")
    assert "no events" in none.loc["A", "note"] and none.loc["A", "n"] == 29 and none.loc["A", "events"] == 0


def test_table_rows_columns_and_adjusted_models():
    scores, time, event, cov = cohort()
    scores2 = scores[["B", "A"]] * 2.0
    tab = cox_table(
        {"zscore": scores, "ssgsea": scores2},
        time,
        event,
        "os",
        signatures=["A", "B", "MISSING"],
        covariates=cov[["er_status", "age"]],
    )
    assert list(tab.columns) == list(SURVIVAL_COLUMNS)
    assert list(zip(tab.method, tab.signature, tab.model))[:4] == [
        ("zscore", "A", "univariate"),
        ("zscore", "A", "adjusted"),
        ("zscore", "B", "univariate"),
        ("zscore", "B", "adjusted"),
    ]
    assert len(tab) == 2 * 3 * 2 and (tab.endpoint == "os").all()
    assert tab.loc[tab.model == "univariate", "covariates"].eq("").all()
    assert tab.loc[tab.model == "adjusted", "covariates"].eq("er_status;age").all()
    assert tab["p_random_null"].isna().all()
    assert tab.loc[tab.signature == "MISSING", "note"].eq("score not available (see coverage.tsv)").all()
    # each row is cox_model's, the adjusted one with the covariates aligned by sample id
    row = tab[(tab.method == "zscore") & (tab.signature == "A") & (tab.model == "adjusted")].iloc[0]
    ref = cox_model(scores["A"].to_numpy(), time.to_numpy(float), event.to_numpy(int), cov[["er_status", "age"]])
    for k in ("n", "events", "hr_per_sd", "ci_low", "ci_high", "p", "concordance", "ph_p"):
        assert row[k] == pytest.approx(ref[k], rel=1e-12), k
    # HR per SD: scaling a score changes nothing
    same = tab[(tab.signature == "A")].set_index(["method", "model"])
    np.testing.assert_allclose(
        same.loc["ssgsea"][["hr_per_sd", "p", "concordance", "ph_p"]].to_numpy(),
        same.loc["zscore"][["hr_per_sd", "p", "concordance", "ph_p"]].to_numpy(),
        rtol=1e-9,
    )
    # no adjusted rows without covariate columns
    assert set(cox_table({"zscore": scores}, time, event, "os", covariates=cov[[]]).model) == {"univariate"}


def test_table_does_not_depend_on_sample_order():
    scores, time, event, cov = cohort()
    tab = cox_table({"zscore": scores}, time, event, "os", covariates=cov)
    perm = np.random.default_rng(4).permutation(len(scores))
    tab2 = cox_table(
        {"zscore": scores.iloc[perm]},
        time.iloc[perm[::-1]],
        event.sample(frac=1, random_state=3),
        "os",
        covariates=cov.iloc[perm[::-1]],
    )
    pd.testing.assert_frame_equal(tab, tab2, check_exact=False, rtol=1e-12)


def test_text_in_time_column_and_covariate_levels():
    scores, time, event, cov = cohort()
    t = time.astype(object)
    t.iloc[[0, 5, 9]] = ["unknown", "", "12 months"]
    tab = cox_table({"zscore": scores[["A"]]}, t, event, "os", covariates=cov[["grade", "age"]])
    uni, adj = tab.iloc[0], tab.iloc[1]
    assert uni["n"] == 77 and adj["n"] == 77 and uni["note"] == "" and adj["note"] == ""
    keep = np.setdiff1d(np.arange(80), [0, 5, 9])
    ref = cox_model(
        scores["A"].to_numpy()[keep],
        time.to_numpy(float)[keep],
        event.to_numpy()[keep],
        cov[["grade", "age"]].iloc[keep],
    )
    assert adj["hr_per_sd"] == pytest.approx(ref["hr_per_sd"], rel=1e-12)
    assert ref["ph_terms"]["grade"][1] == 2  # three levels: two dummies, one 2-df term
    # a covariate called 'score' does not hide the score's own PH term
    named = cox_model(scores["A"].to_numpy(), time, event, cov[["age"]].rename(columns={"age": "score"}))
    plain = cox_model(scores["A"].to_numpy(), time, event, cov[["age"]])
    assert set(named["ph_terms"]) == {"score (the signature)", "score"} and named["ph_p"] == pytest.approx(
        plain["ph_p"], rel=1e-12
    )
    # a categorical column coded as pandas categories is the same as text
    cat = cov[["grade", "age"]].astype({"grade": "category"})
    assert cox_model(scores["A"].to_numpy(), time, event, cat)["hr_per_sd"] == pytest.approx(
        cox_model(scores["A"].to_numpy(), time, event, cov[["grade", "age"]])["hr_per_sd"], rel=1e-12
    )


def test_data_conditions_of_the_adjusted_model():
    scores, time, event, cov = cohort()
    x = scores["A"].to_numpy()
    # one level among the model samples (the other level only where the score is missing)
    c = cov[["er_status"]].copy()
    c["er_status"] = "positive"
    x2 = x.copy()
    x2[:3] = np.nan
    c.iloc[:3, 0] = "negative"
    res = cox_model(x2, time, event, c)
    assert (
        res["note"]
        == "covariate 'er_status' has one level ('positive') among the 77 samples: adjusted model not fitted"
    )
    assert np.isnan(res["hr_per_sd"]) and res["n"] == 77 and res["covariates"] == "er_status"
    c2 = cov[["age"]].assign(age=61.0)
    assert "covariate 'age' is constant (61)" in cox_model(x, time, event, c2)["note"]
    c3 = cov[["age"]].assign(age=np.nan)
    assert "covariate 'age' has no value" in cox_model(x, time, event, c3)["note"]
    c4 = cov[["age"]].assign(age2=cov["age"] * 2)  # collinear
    assert "collinear" in cox_model(x, time, event, c4)["note"]
    # too few samples, no events, a constant score
    assert "fewer than 10 samples" in cox_model(x[:9], time[:9], event[:9])["note"]
    assert (
        "fewer than 10 samples with a score and follow-up and every covariate"
        in cox_model(x, time, event, cov[["age"]].assign(age=[1.0] * 9 + [np.nan] * 71))["note"]
    )
    assert cox_model(x, time, event * 0, cov)["note"] == "no events among the 80 samples"
    assert cox_model(np.full(80, 1.5), time, event)["note"] == "score is constant across samples"
    # in the table: the adjusted rows carry the note, the univariate rows are fitted
    tab = cox_table({"zscore": scores[["A"]]}, time, event, "os", covariates=c.assign(er_status="positive"))
    assert tab.loc[0, "note"] == "" and "one level ('positive') among the 80 samples" in tab.loc[1, "note"]


def test_user_mistakes_raise_one_clear_error():
    scores, time, event, cov = cohort()
    x = scores["A"].to_numpy()
    with pytest.raises(SeedsigError, match="one value per sample"):
        cox_model(x[:-1], time, event)
    with pytest.raises(SeedsigError, match="coded 1 .event. or 0"):
        cox_model(x, time, event.replace({1: 2}))
    with pytest.raises(SeedsigError, match="rows for 80 samples"):
        cox_model(x, time, event, cov.iloc[:10])
    with pytest.raises(SeedsigError, match="shares no sample id"):
        cox_table({"zscore": scores}, time, event, "os", covariates=cov.set_axis([f"other{i}" for i in range(80)]))
    with pytest.raises(SeedsigError, match="time values share no sample id"):
        cox_table({"zscore": scores}, time.reset_index(drop=True), event, "os")
    with pytest.raises(SeedsigError, match="duplicated sample ids"):
        cox_table({"zscore": scores}, pd.concat([time, time.iloc[:1]]), event, "os")
    with pytest.raises(SeedsigError, match="time and event per sample"):
        cox_univariate_many(np.ones((3, 5)), np.ones(4), np.ones(4))


def test_nearly_equal_times_are_ties_as_in_r():
    t = np.array([1.0, 2.0, 2.0 * (1 + 1e-12), 3.0, 3.0 + 1e-9, 4.0])
    assert aeq_times(t).tolist() == [1.0, 2.0, 2.0, 3.0, 3.0, 4.0]
    X, tt, e = tied_data(8, b=2)
    jitter = tt * (1 + 1e-13 * (np.arange(tt.size) % 7))
    a, b = cox_model(X[0], tt, e), cox_model(X[0], jitter, e)
    assert (
        a["beta"] == pytest.approx(b["beta"], abs=1e-12)
        and a["concordance"] == b["concordance"]
        and a["ph_p"] == pytest.approx(b["ph_p"], abs=1e-10)
    )
    np.testing.assert_allclose(cox_univariate_many(X, tt, e)[0], cox_univariate_many(X, jitter, e)[0], atol=1e-12)


def test_no_warnings_leak_from_a_diverging_fit():
    t = np.arange(1, 41, dtype=float)
    e = np.ones(40, dtype=int)
    e[::3] = 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = cox_model(-t, t, e)  # the score orders the times perfectly: infinite HR
        beta, _ = cox_univariate_many(-t[None, :], t, e)
    assert np.isnan(res["hr_per_sd"]) and "did not converge" in res["note"] and np.isnan(beta[0])
    assert res["n"] == 40 and res["events"] == 26
