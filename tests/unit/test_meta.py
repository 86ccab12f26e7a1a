"""Meta-analysis across cohorts (seedsig.meta.pooling) against R metafor goldens (tests/golden/meta, see its README)."""

import io
import math

import numpy as np
import pandas as pd
import pytest
from conftest import GOLDEN

from seedsig.core.errors import SeedsigError
from seedsig.meta import pooling as meta
from seedsig.meta.pooling import (
    META_CORRELATION_COLUMNS,
    META_SURVIVAL_COLUMNS,
    POOLINGS,
    forest_figure,
    pool,
    pool_correlations,
    pool_hazard_ratios,
)

G = GOLDEN / "meta"
METAFOR = {"random_dl": "DL", "random_pm": "PM", "fixed": "FE"}
FIELDS = {
    "estimate": "estimate",
    "se": "se",
    "ci_low": "ci_lb",
    "ci_high": "ci_ub",
    "p": "pval",
    "tau2": "tau2",
    "i2": "I2",
    "q": "QE",
    "q_p": "QEp",
}
TABLE_FIELDS = ("estimate", "ci_low", "ci_high", "p", "tau2", "i2", "q", "q_p")
RTOL, ATOL = (
    1e-9,
    1e-12,
)  # measured vs metafor: i2 (percent) <= 5.4e-11, Q <= 3.2e-13, the rest <= 6e-13 absolute; tau2 <= 3.5e-12 relative


def _inputs() -> pd.DataFrame:
    return pd.read_csv(G / "pool_input.tsv", sep="\t")


def _golden() -> pd.DataFrame:
    return pd.read_csv(G / "pool.tsv", sep="\t")


FIXTURES = ["zcor6", "loghr5", "homogeneous5", "k2"]


def _fixture(name: str) -> tuple[np.ndarray, np.ndarray]:
    d = _inputs()
    d = d[d["fixture"] == name]
    return d["yi"].to_numpy(), d["vi"].to_numpy()


def _gold(name: str, method: str) -> pd.Series:
    g = _golden()
    return g[(g["fixture"] == name) & (g["method"] == method)].iloc[0]


# ------------------------------------------------------------------------------------------------ pool()
@pytest.mark.parametrize("fixture", FIXTURES)
def test_pool_matches_metafor(fixture):
    y, v = _fixture(fixture)
    rows = pool(y, v)
    assert [r["pooling"] for r in rows] == list(POOLINGS)
    for r in rows:
        g = _gold(fixture, METAFOR[r["pooling"]])
        assert r["k"] == g["k"] == len(y)
        for ours, theirs in FIELDS.items():
            assert r[ours] == pytest.approx(g[theirs], rel=RTOL, abs=ATOL), (fixture, r["pooling"], ours)
        assert r["note"] == ""


def test_goldens_cover_the_cases():
    """The fixtures are what the README says: heterogeneous, tau2 = 0, k = 2; metafor's default PM is loose."""
    g = _golden()
    assert _gold("zcor6", "DL")["tau2"] > 0 and _gold("loghr5", "PM")["tau2"] > 0
    assert _gold("homogeneous5", "DL")["tau2"] == 0 and _gold("homogeneous5", "PM")["tau2"] == 0
    assert set(g.loc[g["fixture"] == "k2", "k"]) == {2}
    tight, loose = _gold("zcor6", "PM")["tau2"], _gold("zcor6", "PM_default")["tau2"]
    assert 1e-6 < abs(loose - tight) / tight < 1e-3  # why the goldens use a converged uniroot


@pytest.mark.parametrize("fixture", FIXTURES)
def test_dl_by_hand(fixture):
    """DerSimonian & Laird (1986) by the published formulas, independently of statsmodels and metafor."""
    y, v = _fixture(fixture)
    k = len(y)
    w = 1 / v
    ybar = np.sum(w * y) / np.sum(w)
    q = np.sum(w * (y - ybar) ** 2)
    tau2 = max(0.0, (q - (k - 1)) / (np.sum(w) - np.sum(w**2) / np.sum(w)))
    i2 = max(0.0, (q - (k - 1)) / q)
    wr = 1 / (v + tau2)
    mu = np.sum(wr * y) / np.sum(wr)
    se = math.sqrt(1 / np.sum(wr))
    dl, _, fe = pool(y, v)
    assert dl["q"] == pytest.approx(q, rel=1e-12) and fe["q"] == pytest.approx(q, rel=1e-12)
    assert dl["tau2"] == pytest.approx(tau2, rel=1e-12, abs=1e-15)
    assert dl["i2"] == pytest.approx(100 * i2, rel=1e-12, abs=1e-12)
    assert fe["i2"] == pytest.approx(100 * i2, rel=1e-12, abs=1e-12)
    assert dl["estimate"] == pytest.approx(mu, rel=1e-12) and dl["se"] == pytest.approx(se, rel=1e-12)
    assert (dl["ci_low"], dl["ci_high"]) == pytest.approx(
        (mu - 1.959963984540054 * se, mu + 1.959963984540054 * se), rel=1e-12
    )
    assert fe["estimate"] == pytest.approx(ybar, rel=1e-12) and fe["se"] == pytest.approx(
        math.sqrt(1 / np.sum(w)), rel=1e-12
    )
    assert fe["tau2"] == 0.0
    assert dl["p"] == pytest.approx(math.erfc(abs(mu / se) / math.sqrt(2)), rel=1e-9)


def test_dl_truncated_at_zero_equals_fixed():
    """Q < k - 1: statsmodels' raw DL tau2 is negative; ours is 0 and the random-effects numbers are the fixed ones."""
    y, v = _fixture("homogeneous5")
    dl, pm, fe = pool(y, v)
    assert dl["tau2"] == 0.0 and pm["tau2"] == 0.0 and dl["i2"] == 0.0 and pm["i2"] == 0.0
    for f in ("estimate", "se", "ci_low", "ci_high", "p"):
        assert dl[f] == fe[f] == pm[f]


@pytest.mark.parametrize("fixture", ["zcor6", "loghr5", "k2"])
def test_pm_fallback_brackets_the_root(fixture, monkeypatch):
    """If statsmodels' Paule-Mandel iteration stops short (here: forced to return 0), pool() finds the root itself."""
    import statsmodels.stats.meta_analysis as sm

    y, v = _fixture(fixture)
    g = _gold(fixture, "PM")
    assert meta._pm_tau2_brentq(y, v) == pytest.approx(g["tau2"], rel=1e-10)
    monkeypatch.setattr(sm, "_fit_tau_iterative", lambda eff, var_eff, **kw: (0, False))
    pm = pool(y, v)[1]
    for ours, theirs in FIELDS.items():
        assert pm[ours] == pytest.approx(g[theirs], rel=RTOL, abs=ATOL), ours


def test_pool_order_invariant_and_series_input():
    y, v = _fixture("zcor6")
    ref = pool(y, v)
    rng = np.random.default_rng(1)
    for _ in range(5):
        o = rng.permutation(len(y))
        assert pool(pd.Series(y[o]), list(v[o])) == ref  # exactly, not approximately


def test_pool_small_k_and_bad_values():
    assert pool([], []) == []
    assert pool([np.nan], [0.1]) == []
    dl, pm, fe = pool([0.3], [0.04])
    assert fe["k"] == 1 and fe["estimate"] == 0.3 and fe["se"] == pytest.approx(0.2)
    assert (fe["ci_low"], fe["ci_high"]) == pytest.approx(
        (0.3 - 1.959963984540054 * 0.2, 0.3 + 1.959963984540054 * 0.2)
    )
    assert all(math.isnan(fe[c]) for c in ("tau2", "i2", "q", "q_p"))
    assert "one cohort" in fe["note"]
    for r in (dl, pm):
        assert r["note"] == "one cohort: nothing to pool" and all(
            math.isnan(r[c]) for c in ("estimate", "ci_low", "ci_high", "p", "tau2", "i2")
        )
    # non-finite effects, NA and zero variances are left out and counted in the note
    y, v = _fixture("k2")
    rows = pool([*y, np.nan, 0.4, None], [*v, 0.1, 0.0, 0.1])
    assert [r["k"] for r in rows] == [2, 2, 2] and "3 studies left out" in rows[0]["note"]
    assert rows[0]["estimate"] == pytest.approx(_gold("k2", "DL")["estimate"], rel=RTOL)
    # identical effects: Q = 0, I2 = 0, no warnings, no NaN
    with np.errstate(all="raise"):
        same = pool([0.2, 0.2, 0.2], [0.01, 0.02, 0.03])
    assert (
        [r["i2"] for r in same] == [0.0, 0.0, 0.0]
        and same[0]["q"] == pytest.approx(0.0, abs=1e-12)
        and same[0]["estimate"] == pytest.approx(0.2)
    )
    with pytest.raises(SeedsigError, match="same length"):
        pool([0.1, 0.2], [0.1])
    with pytest.raises(SeedsigError, match="numbers"):
        pool(["a", 0.2], [0.1, 0.1])


# ------------------------------------------------------------------------------------- pool_correlations()
def _corr_input() -> pd.DataFrame:
    return pd.read_csv(G / "correlations_input.tsv", sep="\t")


def _check_against(out: pd.DataFrame, gold: pd.DataFrame, keys: dict) -> None:
    for g in gold.to_dict("records"):
        sel = out[(out["pooling"] == {"DL": "random_dl", "PM": "random_pm", "FE": "fixed"}[g["method_re"]])]
        for c, val in keys.items():
            sel = sel[sel[c] == (g[val] if val in g else val)]
        assert len(sel) == 1, g
        r = sel.iloc[0]
        assert r["k"] == g["k"]
        for f in TABLE_FIELDS:
            assert r[f] == pytest.approx(g[f], rel=RTOL, abs=ATOL), (g, f)


def test_pool_correlations_matches_metafor():
    out = pool_correlations(_corr_input())
    assert list(out.columns) == list(META_CORRELATION_COLUMNS)
    assert list(out.columns) == [
        "method",
        "signature_a",
        "signature_b",
        "statistic",
        "pooling",
        "k",
        "cohorts",
        "estimate",
        "ci_low",
        "ci_high",
        "p",
        "tau2",
        "i2",
        "q",
        "q_p",
        "note",
    ]
    assert len(out) == 9
    gold = pd.read_csv(G / "correlations_pooled.tsv", sep="\t")
    _check_against(out, gold, {"signature_b": "signature_b", "statistic": "statistic"})
    # sorted by key, pooling in POOLINGS order
    assert (
        list(out["signature_b"] + "/" + out["statistic"])
        == ["BoMS/spearman"] * 3 + ["LMS/pearson"] * 3 + ["LMS/spearman"] * 3
    )
    assert list(out["pooling"]) == list(POOLINGS) * 3
    assert set(out.loc[out["signature_b"] == "LMS", "cohorts"]) == {"C1;C2;C3;C4;C5;C6"}
    assert (out["note"] == "").all()


def test_pool_correlations_back_transformation_by_hand():
    """estimate and interval on the r scale are tanh of the pooled Fisher z; Spearman variance 1.06 / (n - 3)."""
    d = _corr_input()
    d = d[(d["signature_b"] == "LMS") & (d["statistic"] == "spearman")]
    z, var = np.arctanh(d["r"].to_numpy()), 1.06 / (d["n"].to_numpy() - 3)
    want = {r["pooling"]: r for r in pool(z, var)}
    got = pool_correlations(d)
    for r in got.to_dict("records"):
        w = want[r["pooling"]]
        assert (r["estimate"], r["ci_low"], r["ci_high"]) == pytest.approx(
            (math.tanh(w["estimate"]), math.tanh(w["ci_low"]), math.tanh(w["ci_high"])), rel=1e-14
        )
        assert r["tau2"] == pytest.approx(w["tau2"], rel=1e-14, abs=1e-300) and r["p"] == w["p"]


def test_pool_correlations_skips_na_and_small_n_and_k1():
    d = _corr_input().assign(p=0.5, q=0.1)  # extra columns are ignored
    extra = pd.DataFrame(
        [
            dict(
                method="zscore", signature_a="SS", signature_b="LMS", statistic="pearson", cohort="C7", r=np.nan, n=50
            ),
            dict(method="zscore", signature_a="SS", signature_b="LMS", statistic="pearson", cohort="C8", r=0.9, n=3),
            dict(method="zscore", signature_a="SS", signature_b="LMS", statistic="pearson", cohort="C9", r=1.0, n=30),
            dict(method="zscore", signature_a="SS", signature_b="HMS", statistic="spearman", cohort="C1", r=0.3, n=53),
            dict(
                method="zscore", signature_a="SS", signature_b="HMS", statistic="spearman", cohort="C2", r=np.nan, n=40
            ),
            dict(
                method="zscore", signature_a="SS", signature_b="NONE", statistic="pearson", cohort="C1", r=np.nan, n=40
            ),
        ]
    )
    out = pool_correlations(pd.concat([d, extra], ignore_index=True))
    gold = pd.read_csv(G / "correlations_pooled.tsv", sep="\t")
    _check_against(
        out, gold, {"signature_b": "signature_b", "statistic": "statistic"}
    )  # the skipped rows change nothing
    lms = out[(out["signature_b"] == "LMS") & (out["statistic"] == "pearson")]
    assert set(lms["note"]) == {"left out: C7 (r is NA), C8 (n < 4), C9 (r = +-1, no sampling variance)"}
    assert set(lms["cohorts"]) == {"C1;C2;C3;C4;C5;C6"} and set(lms["k"]) == {6}
    # k = 1: the fixed row is the cohort's own r with its Fisher interval; random rows NA
    hms = out[out["signature_b"] == "HMS"].set_index("pooling")
    assert (hms["k"] == 1).all() and (hms["cohorts"] == "C1").all()
    se = math.sqrt(1.06 / 50)
    fx = hms.loc["fixed"]
    assert fx["estimate"] == pytest.approx(0.3, rel=1e-14)
    assert (fx["ci_low"], fx["ci_high"]) == pytest.approx(
        (math.tanh(math.atanh(0.3) - 1.959963984540054 * se), math.tanh(math.atanh(0.3) + 1.959963984540054 * se)),
        rel=1e-13,
    )
    assert np.isnan(fx[["tau2", "i2", "q", "q_p"]].astype(float)).all()
    assert fx["note"] == "left out: C2 (r is NA); one cohort: its own estimate, nothing pooled"
    for p in ("random_dl", "random_pm"):
        assert np.isnan(hms.loc[p, ["estimate", "ci_low", "ci_high", "p", "tau2", "i2"]].astype(float)).all()
        assert hms.loc[p, "note"] == "left out: C2 (r is NA); one cohort: nothing to pool"
    # k = 0: three NA rows with the reason
    none = out[out["signature_b"] == "NONE"]
    assert list(none["pooling"]) == list(POOLINGS) and (none["k"] == 0).all() and (none["cohorts"] == "").all()
    assert none["estimate"].isna().all() and set(none["note"]) == {
        "left out: C1 (r is NA); no cohort with an estimate: nothing to pool"
    }


def test_pool_correlations_row_order_invariant():
    d = _corr_input()
    ref = pool_correlations(d)
    for seed in range(4):
        shuffled = d.sample(frac=1.0, random_state=seed).reset_index(drop=True)
        shuffled = shuffled[list(reversed(shuffled.columns))]
        pd.testing.assert_frame_equal(pool_correlations(shuffled), ref)


def test_pool_correlations_mistakes_and_empty():
    d = _corr_input()
    with pytest.raises(SeedsigError, match="'n'"):
        pool_correlations(d.drop(columns="n"))
    with pytest.raises(SeedsigError, match="unknown statistic"):
        pool_correlations(d.assign(statistic="kendall"))
    with pytest.raises(SeedsigError, match="outside"):
        pool_correlations(d.assign(r=d["r"] * 3))
    with pytest.raises(SeedsigError, match="more than once"):
        pool_correlations(pd.concat([d, d.iloc[:1]], ignore_index=True))
    with pytest.raises(SeedsigError, match="non-numeric"):
        pool_correlations(d.assign(r=d["r"].astype(object).where(d.index != 2, "high")))
    empty = pool_correlations(d.iloc[0:0])
    assert len(empty) == 0 and list(empty.columns) == list(META_CORRELATION_COLUMNS)


# ------------------------------------------------------------------------------------ pool_hazard_ratios()
def _surv_input() -> pd.DataFrame:
    return pd.read_csv(G / "survival_input.tsv", sep="\t")


def test_pool_hazard_ratios_matches_metafor():
    out = pool_hazard_ratios(_surv_input())
    assert list(out.columns) == list(META_SURVIVAL_COLUMNS)
    assert list(out.columns) == [
        "method",
        "signature",
        "endpoint",
        "model",
        "pooling",
        "k",
        "cohorts",
        "estimate",
        "ci_low",
        "ci_high",
        "p",
        "tau2",
        "i2",
        "q",
        "q_p",
        "note",
    ]
    gold = pd.read_csv(G / "survival_pooled.tsv", sep="\t")
    _check_against(out, gold, {})
    # the same numbers as pool() on log HR from fixture (b): the SE recovered from the interval is the SE given
    y, v = _fixture("loghr5")
    for r, p in zip(out.to_dict("records"), pool(y, v)):
        assert r["estimate"] == pytest.approx(math.exp(p["estimate"]), rel=1e-12)
        assert (r["ci_low"], r["ci_high"]) == pytest.approx((math.exp(p["ci_low"]), math.exp(p["ci_high"])), rel=1e-12)
        assert r["tau2"] == pytest.approx(p["tau2"], rel=1e-10)


def test_pool_hazard_ratios_skips_k1_and_order():
    d = _surv_input().assign(n=100, events=30, note="")
    extra = pd.DataFrame(
        [
            dict(
                method="zscore",
                signature="SS",
                endpoint="primary",
                model="univariate",
                cohort="C6",
                hr_per_sd=np.nan,
                ci_low=np.nan,
                ci_high=np.nan,
                note="no events",
            ),
            dict(
                method="zscore",
                signature="SS",
                endpoint="primary",
                model="univariate",
                cohort="C7",
                hr_per_sd=1.2,
                ci_low=1.2,
                ci_high=1.2,
            ),
            dict(
                method="zscore",
                signature="SS",
                endpoint="primary",
                model="adjusted",
                cohort="C1",
                hr_per_sd=1.5,
                ci_low=1.1,
                ci_high=2.0,
            ),
            dict(
                method="zscore",
                signature="SS",
                endpoint="primary",
                model="adjusted",
                cohort="C2",
                hr_per_sd=np.nan,
                ci_low=np.nan,
                ci_high=np.nan,
            ),
        ]
    )
    full = pd.concat([d, extra], ignore_index=True)
    out = pool_hazard_ratios(full)
    uni = out[out["model"] == "univariate"]
    _check_against(uni, pd.read_csv(G / "survival_pooled.tsv", sep="\t"), {})
    assert set(uni["note"]) == {"left out: C6 (HR is NA), C7 (interval of zero width)"}
    adj = out[out["model"] == "adjusted"].set_index("pooling")
    assert (adj["k"] == 1).all() and adj.loc["fixed", "estimate"] == pytest.approx(1.5, rel=1e-14)
    se = (math.log(2.0) - math.log(1.1)) / (2 * 1.959963984540054)
    assert adj.loc["fixed", "ci_low"] == pytest.approx(1.5 * math.exp(-1.959963984540054 * se), rel=1e-13)
    assert adj.loc["fixed", "p"] == pytest.approx(math.erfc(abs(math.log(1.5) / se) / math.sqrt(2)), rel=1e-9)
    assert adj.loc[["random_dl", "random_pm"], "estimate"].isna().all()
    # sorted by key: adjusted before univariate
    assert list(out["model"]) == ["adjusted"] * 3 + ["univariate"] * 3
    for seed in range(3):
        pd.testing.assert_frame_equal(pool_hazard_ratios(full.sample(frac=1.0, random_state=seed)), out)
    with pytest.raises(SeedsigError, match="hr_per_sd"):
        pool_hazard_ratios(d.drop(columns="hr_per_sd"))
    empty = pool_hazard_ratios(d.iloc[0:0])
    assert len(empty) == 0 and list(empty.columns) == list(META_SURVIVAL_COLUMNS)


# ------------------------------------------------------------------------------------------- forest_figure()
def _labels(fig) -> list[str]:
    return [t.get_text() for t in fig.axes[0].get_yticklabels()]


def test_forest_figure_correlations():
    d = _corr_input()
    d = d[(d["signature_b"] == "LMS") & (d["statistic"] == "spearman")].assign(estimate=lambda x: x["r"])
    d.loc[d["cohort"] == "C4", ["r", "estimate"]] = np.nan
    pooled = pool_correlations(d)
    fig = forest_figure(d.sample(frac=1.0, random_state=0), pooled, scale="r", title="SS vs LMS")
    assert _labels(fig) == ["C1", "C2", "C3", "C4", "C5", "C6", "Random effects", "Fixed effect"]
    ax = fig.axes[0]
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_xscale() == "linear"
    assert fig.get_size_inches()[0] == pytest.approx(3.5)
    texts = " ".join(t.get_text() for a in fig.axes for t in a.texts) + " " + fig._supxlabel.get_text()
    dl = pooled[pooled["pooling"] == "random_dl"].iloc[0]
    assert f"{dl['estimate']:.2f} [{dl['ci_low']:.2f}, {dl['ci_high']:.2f}]" in texts
    assert f"I\u00b2 = {dl['i2']:.0f}%" in texts and "\u03c4\u00b2" in texts
    fig.savefig(io.BytesIO(), format="png")  # renders headless


def test_forest_figure_hazard_ratios_and_mistakes():
    d = _surv_input().assign(estimate=lambda x: x["hr_per_sd"])
    pooled = pool_hazard_ratios(d)
    fig = forest_figure(d, pooled, scale="hr", title="SS: HR per SD")
    assert len(_labels(fig)) == 5 + 2
    assert fig.axes[0].get_xscale() == "log"
    lines = [ln for ln in fig.axes[0].lines if list(ln.get_xdata()) == [1.0, 1.0]]
    assert lines, "reference line at HR = 1"
    from matplotlib.colors import to_hex

    colours = {to_hex(p.get_facecolor()) for p in fig.axes[0].patches}
    assert colours <= {c.lower() for c in meta.OKABE_ITO} and len(colours) == 2
    # only the fixed row pooled (k = 1): one diamond label
    one = pool_hazard_ratios(d.iloc[:1])
    assert _labels(forest_figure(d.iloc[:1], one, scale="hr", title="one")) == ["C1", "Random effects", "Fixed effect"]
    with pytest.raises(SeedsigError, match="scale"):
        forest_figure(d, pooled, scale="log", title="x")
    with pytest.raises(SeedsigError, match="cohort"):
        forest_figure(d.drop(columns="cohort"), pooled, scale="hr", title="x")
