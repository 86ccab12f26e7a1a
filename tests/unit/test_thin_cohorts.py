"""Thin cohorts (issue 14, item 1): below ``associate.min_samples`` / ``survival.min_samples`` nothing is tested,
every such row says why, and no library warning reaches the terminal or a rule log.

Fast unit tests of the floors (correlation_table, cox_model / cox_table / cox_univariate_many, logrank,
prerank_table, the config defaults and schema), then one slow end-to-end run of a 3-sample and a 6-sample cohort."""

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO
from helpers.thin_cohorts import FLOOR_NOTE, NA_WHEN_UNTESTED

from seedsig.association import correlation as associate
from seedsig.association import prerank as prerank
from seedsig.association.correlation import MIN_SAMPLES_TESTED, correlation_table
from seedsig.config import check_against_schema, cohort_settings
from seedsig.core.errors import SeedsigError
from seedsig.core.settings import ASSOCIATE_DEFAULTS, SURVIVAL_DEFAULTS
from seedsig.core.stats import bh_qvalues
from seedsig.outcome.cox import MIN_SAMPLES_COX, cox_model, cox_table
from seedsig.outcome.cox_many import cox_univariate_many
from seedsig.outcome.curves import logrank
from seedsig.scoring.methods import score
from seedsig.scoring.signatures import Signature

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


def sig(name, genes):
    return Signature(name=name, genes=tuple(genes), directions=(1,) * len(genes))


@pytest.fixture(scope="module")
def small():
    """60 genes x 12 samples; F and T share S1 and are driven by one factor (a real correlation at n = 12);
    PCNA and its neighbours make meta-PCNA computable."""
    rng = np.random.default_rng(14)
    n = 12
    names = ["S1", "F1", "F2", "F3", "T1", "T2", "T3", "C1", "C2", "C3", "PCNA"] + [f"N{i:02d}" for i in range(49)]
    x = rng.normal(6.0, 1.0, size=(len(names), n))
    g = rng.standard_normal(n)
    for i, name in enumerate(names):
        if name[0] in "FTS":
            x[i] += 2.0 * g
    samples = [f"X{i:02d}" for i in range(n)]
    expr = pd.DataFrame(x, index=names, columns=samples)
    sigs = [sig("F", ["S1", "F1", "F2", "F3"]), sig("T", ["S1", "T1", "T2", "T3"]), sig("C", ["C1", "C2", "C3"])]
    scores = {"zscore": score(expr, sigs, "zscore").scores}
    return expr, sigs, scores


def _no_call(name):
    def fail(*args, **kwargs):
        raise AssertionError(f"{name} was called for a row below the floor")

    return fail


# ------------------------------------------------------------------------------------- correlation_table
def test_three_samples_are_not_tested_and_nothing_is_computed(small, monkeypatch):
    expr, sigs, scores = small
    cols = list(expr.columns[:3])
    sc = {"zscore": scores["zscore"].loc[cols]}
    # before the floor: Spearman on these 3 samples is r = 1, p = 0 (a "hit"); with the floor nothing is computed
    ref, _ = correlation_table(
        expr[cols], sc, sigs, ["F"], ["T", "C"], n_bootstrap=0, n_random=0, min_samples=3, proliferation=False
    )
    assert ref["r"].notna().all() and (ref["r"].abs() == 1).any()
    for fn in ("bootstrap_ci", "random_null_scores", "partial_correlation", "meta_pcna"):
        monkeypatch.setattr(associate, fn, _no_call(fn))
    tab, info = correlation_table(expr[cols], sc, sigs, ["F"], ["T", "C"], n_bootstrap=50, n_random=20, seed=1)
    assert list(tab.columns)[-1] == "note" and len(tab) == 4
    assert tab[NA_WHEN_UNTESTED].isna().all().all()
    assert (tab["n"] == 3).all() and (tab["note"] == f"3 {FLOOR_NOTE}").all()
    assert (tab.loc[tab["signature_b"] == "T", "n_shared_genes"] == 1).all()  # descriptive columns stay
    assert info["n_tests"] == 0 and info["n_below_min_samples"] == 4 and info["min_samples"] == 10
    assert info["random_null_seeds"] == {} and info["reduced_signatures"] == []  # no null, no re-scoring
    assert not info["meta_pcna"]["used"] and "associate.min_samples" in info["meta_pcna"]["reason"]


def test_rows_below_the_floor_leave_the_bh_family(small):
    expr, sigs, scores = small
    t = scores["zscore"].copy()
    t.loc[t.index[:4], "C"] = np.nan  # C has a score in 8 of the 12 samples
    tab, info = correlation_table(
        expr, {"zscore": t}, sigs, ["F"], ["T", "C"], n_bootstrap=30, n_random=10, seed=2, proliferation=False
    )
    low, ok = tab[tab["signature_b"] == "C"], tab[tab["signature_b"] == "T"]
    assert (
        (low["n"] == 8).all() and low[NA_WHEN_UNTESTED].isna().all().all() and (low["note"] == f"8 {FLOOR_NOTE}").all()
    )
    assert (
        (ok["n"] == 12).all()
        and ok["r"].notna().all()
        and ok["p_random_null"].notna().all()
        and (ok["note"] == "").all()
    )
    assert ok.loc[ok["statistic"] == "spearman", ["ci_low", "ci_high"]].notna().all().all()
    np.testing.assert_allclose(ok["q"], bh_qvalues(ok["p"].to_numpy()), rtol=1e-12)  # q over the tested rows only
    assert info["n_tests"] == 2 and info["n_below_min_samples"] == 2
    # the random null is drawn for F (it has tested rows) but C's reduced list is never re-scored
    assert list(info["random_null_seeds"]["zscore"]) == ["F"]
    assert all(not r["signature"].startswith("C") for r in info["reduced_signatures"])
    # the floor is configurable: at 8 the C rows are tested
    tab8, _ = correlation_table(
        expr, {"zscore": t}, sigs, ["F"], ["T", "C"], n_bootstrap=0, n_random=0, proliferation=False, min_samples=8
    )
    assert tab8["r"].notna().all() and (tab8["note"] == "").all()


def test_notes_for_unscored_and_constant_scores(small):
    expr, sigs, scores = small
    t = scores["zscore"].copy()
    t["C"] = np.nan  # not scored
    tab, _ = correlation_table(expr, {"zscore": t}, sigs, ["F"], ["C"], n_bootstrap=0, n_random=0, proliferation=False)
    assert (tab["note"] == "C is not scored with zscore in this cohort (see coverage.tsv): not tested").all() and (
        tab["n"] == 0
    ).all()
    t["C"] = 1.5  # constant
    tab, _ = correlation_table(expr, {"zscore": t}, sigs, ["F"], ["C"], n_bootstrap=0, n_random=0, proliferation=False)
    assert (
        tab["r"].isna().all() and (tab["note"] == "the C score is constant across the 12 samples: no correlation").all()
    )


@pytest.mark.parametrize("bad", [2, 0, 3.5, "10", True])
def test_min_samples_must_be_a_whole_number_of_at_least_3(small, bad):
    expr, sigs, scores = small
    with pytest.raises(SeedsigError, match="associate.min_samples must be a whole number >= 3"):
        correlation_table(expr, scores, sigs, ["F"], ["T"], n_bootstrap=0, n_random=0, min_samples=bad)


# ----------------------------------------------------------------------------------------------- survival
def _surv(n, seed=3):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    time = np.exp(-0.3 * x + rng.normal(scale=1.0, size=n)) * 20
    event = np.tile([1, 1, 0], n)[:n].astype(float)
    return x, time, event


def test_cox_uses_the_configured_floor():
    x, time, event = _surv(8)
    res = cox_model(x, time, event)
    assert (
        np.isnan(res["hr_per_sd"])
        and res["note"] == "fewer than 10 samples with a score and follow-up (8; survival.min_samples = 10): not fitted"
    )
    low = cox_model(x, time, event, min_samples=5)
    assert np.isfinite(low["hr_per_sd"]) and low["n"] == 8 and low["note"] == ""
    with pytest.raises(SeedsigError, match="survival.min_samples must be a whole number >= 3"):
        cox_model(x, time, event, min_samples=2)
    ids = [f"s{i}" for i in range(8)]
    scores = {"zscore": pd.DataFrame({"SS": x}, index=ids)}
    tab = cox_table(scores, pd.Series(time, index=ids), pd.Series(event, index=ids), "t/e", min_samples=5)
    assert tab["hr_per_sd"].iat[0] == pytest.approx(low["hr_per_sd"], rel=1e-12)
    assert (
        "survival.min_samples = 10"
        in cox_table(scores, pd.Series(time, index=ids), pd.Series(event, index=ids), "t/e")["note"].iat[0]
    )
    b, se = cox_univariate_many(np.vstack([x, x[::-1]]), time, event, min_samples=5)
    assert b[0] == pytest.approx(np.log(low["hr_per_sd"]), rel=1e-6) and np.isfinite(se).all()
    assert np.isnan(cox_univariate_many(np.vstack([x, x[::-1]]), time, event)[0]).all()


def test_logrank_below_the_floor_reports_no_statistic():
    x, time, event = _surv(6)
    group = np.where(x > np.median(x), "high", "low")
    full = logrank(time, event, group, levels=["low", "high"])
    assert np.isfinite(full["p"]) and full["note"] == ""  # survdiff's numbers without a floor
    thin = logrank(time, event, group, levels=["low", "high"], min_samples=10)
    assert np.isnan(thin["chisq"]) and np.isnan(thin["df"]) and np.isnan(thin["p"])
    assert pd.isna(thin["expected"]) and thin["table"]["expected"].isna().all()
    assert thin["note"] == "fewer than 10 samples with a score and follow-up (6; survival.min_samples = 10): not tested"
    assert (thin["n"], thin["n_events"], thin["n_per_group"], thin["observed"]) == (6, 4, "3;3", full["observed"])
    assert np.isfinite(logrank(time, event, group, levels=["low", "high"], min_samples=6)["p"])


def test_prerank_skips_a_focal_score_below_the_floor(small, monkeypatch):
    expr, sigs, scores = small
    monkeypatch.setattr(prerank, "_run_gseapy", _no_call("gseapy"))
    sc = scores["zscore"].copy()
    sc.loc[sc.index[:5], "F"] = np.nan  # 7 finite values
    out = prerank.prerank_table(expr, sc, ["F"], sigs, permutations=10, min_samples=10)
    assert len(out) == 2 and out[["es", "nes", "p", "fdr"]].isna().all().all()
    assert (
        out["note"]
        == "the focal score 'F' has 7 finite value(s) in samples of the expression matrix; at least 10 are needed"
    ).all()


# ------------------------------------------------------------------------------------------------ config
def test_config_keys_defaults_and_overrides():
    schema = yaml.safe_load(SCHEMA.read_text())
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    for section, defaults, const in (
        ("associate", ASSOCIATE_DEFAULTS, MIN_SAMPLES_TESTED),
        ("survival", SURVIVAL_DEFAULTS, MIN_SAMPLES_COX),
    ):
        assert (
            schema["properties"][section]["properties"]["min_samples"]["default"]
            == defaults["min_samples"]
            == const
            == 10
        )
        assert cfg[section]["min_samples"] == 10
        check_against_schema({section: {"min_samples": 3, "cohorts": {"x": {"min_samples": 5}}}}, SCHEMA, "my.yaml")
        for bad in (2, 9.5, "ten"):
            with pytest.raises(SeedsigError, match=rf"{section}.min_samples"):
                check_against_schema({section: {"min_samples": bad}}, SCHEMA, "my.yaml")
        with pytest.raises(SeedsigError, match="unknown key 'min_sample'"):  # additionalProperties: false kept
            check_against_schema({section: {"min_sample": 10}}, SCHEMA, "my.yaml")
    config = {
        "associate": {"min_samples": 12, "cohorts": {"a": {"min_samples": 4}}},
        "survival": {"cohorts": {"b": {"min_samples": 6}}},
    }
    assert (
        cohort_settings(config, "a")["associate"]["min_samples"] == 4
        and cohort_settings(config, "b")["associate"]["min_samples"] == 12
    )
    assert (
        cohort_settings(config, "b")["survival"]["min_samples"] == 6
        and cohort_settings(config, "a")["survival"]["min_samples"] == 10
    )
