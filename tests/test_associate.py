"""Association statistics against R (survival::coxph, p.adjust) and scipy."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from seedsig.associate import CORRELATION_COLUMNS, SURVIVAL_COLUMNS, bh_qvalues, correlation_grid, cox_fit, cox_per_sd

from conftest import GOLDEN

G = GOLDEN / "survival"


@pytest.fixture(scope="module")
def gold():
    return pd.read_csv(G / "coxph.tsv", sep="\t", index_col=0)


@pytest.mark.parametrize("label,file,col", [("fixture_x1", "fixture.tsv", "x1"), ("fixture_x2", "fixture.tsv", "x2"), ("gse1992_ss", "gse1992_ss.tsv", "ss"), ("gse1992_ss_attraction", "gse1992_ss.tsv", "ss_attraction")])
def test_cox_per_sd_equals_r_coxph(gold, label, file, col):
    d = pd.read_csv(G / file, sep="\t")
    res = cox_fit(d[col].to_numpy(), d["time"].to_numpy(float), d["event"].to_numpy(int))
    g = gold.loc[label]
    assert res["n"] == g["n"] and res["events"] == g["events"]
    for ours, theirs in (("hr_per_sd", "hr"), ("ci_low", "ci_low"), ("ci_high", "ci_high"), ("p", "p")):
        assert res[ours] == pytest.approx(g[theirs], abs=1e-6, rel=1e-6), ours


def test_bh_equals_r_p_adjust():
    g = pd.read_csv(G / "bh.tsv", sep="\t")
    np.testing.assert_allclose(bh_qvalues(g["p"].to_numpy()), g["q"].to_numpy(), atol=1e-12)


def test_correlation_grid_spearman_and_bh():
    rng = np.random.default_rng(0)
    n = 50
    a = rng.normal(size=n)
    t = pd.DataFrame({"SS": a, "X": a + rng.normal(size=n), "Y": rng.normal(size=n), "NA_SIG": np.nan, "CONST": 1.0}, index=[f"s{i}" for i in range(n)])
    t.loc["s3", "Y"] = np.nan
    grid = correlation_grid({"m1": t, "m2": -t}, ["SS"], ["X", "Y", "NA_SIG", "CONST"])
    assert list(grid.columns) == list(CORRELATION_COLUMNS) and len(grid) == 8
    row = grid.iloc[0]
    r, p = stats.spearmanr(t["SS"], t["X"])
    assert row["r"] == pytest.approx(r, abs=1e-12) and row["p"] == pytest.approx(p, rel=1e-10)
    y = grid[(grid.method == "m1") & (grid.signature_b == "Y")].iloc[0]
    ok = t["Y"].notna()
    assert y["n"] == 49 and y["r"] == pytest.approx(stats.spearmanr(t["SS"][ok], t["Y"][ok])[0], abs=1e-12)
    na = grid[grid.signature_b.isin(["NA_SIG", "CONST"])]
    assert na[["r", "p", "q"]].isna().all().all()
    finite = grid["p"].notna()
    np.testing.assert_allclose(grid.loc[finite, "q"], bh_qvalues(grid.loc[finite, "p"].to_numpy()))
    # sample order does not matter
    perm = t.sample(frac=1, random_state=1)
    pd.testing.assert_frame_equal(correlation_grid({"m1": perm, "m2": -perm}, ["SS"], ["X", "Y", "NA_SIG", "CONST"]), grid)


def test_cox_data_conditions_give_notes_not_errors():
    n = 30
    idx = [f"s{i}" for i in range(n)]
    rng = np.random.default_rng(1)
    scores = pd.DataFrame({"A": rng.normal(size=n), "CONST": 2.0, "NA_SIG": np.nan}, index=idx)
    time = pd.Series(rng.uniform(1, 50, n), index=idx)
    time.iloc[0] = np.nan
    event = pd.Series(rng.integers(0, 2, n), index=idx)
    res = cox_per_sd({"zscore": scores}, time, event, "rfs")
    assert list(res.columns) == list(SURVIVAL_COLUMNS)
    res = res.set_index("signature")
    assert res.loc["A", "n"] == 29 and np.isfinite(res.loc["A", "hr_per_sd"])
    assert "constant" in res.loc["CONST", "note"] and np.isnan(res.loc["CONST", "hr_per_sd"])
    assert "not available" in res.loc["NA_SIG", "note"]
    none = cox_per_sd({"zscore": scores}, time, event * 0, "rfs").set_index("signature")
    assert "no events" in none.loc["A", "note"]
