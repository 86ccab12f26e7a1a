"""seedsig.outcome.curves against R (survival 3.5.3: survfit, summary.survfit, survdiff, multi-state survfit; base R
quantile type 7 and cut). Goldens: tests/golden/curves/ (make_inputs.py, make_golden.R, README.md); no R needed here."""

import numpy as np
import pandas as pd
import pytest
from conftest import GOLDEN, shared_file

from seedsig.core.errors import SeedsigError
from seedsig.core.plotting import OKABE_ITO
from seedsig.outcome.curve_plots import plot_cif, plot_km
from seedsig.outcome.curves import (
    AJ_COLUMNS,
    AT_RISK_COLUMNS,
    KM_COLUMNS,
    LOGRANK_COLUMNS,
    aalen_johansen,
    at_risk,
    cut_groups,
    kaplan_meier,
    logrank,
)

G = GOLDEN / "curves"
TOL = 1e-10
CUTS = {"median": "median", "tertiles": "tertiles", "quartiles": "quartiles", "values": [-0.5, 0.5]}
RISK_TIMES = [0, 6, 12, 18, 24, 36, 48, 60, 120]


def golden(name: str) -> pd.DataFrame:
    return pd.read_csv(
        G / name,
        sep="\t",
        keep_default_na=False,
        na_values={
            c: ["NA"]
            for c in (
                "time",
                "survival",
                "std_err",
                "ci_low",
                "ci_high",
                "cif",
                "value",
                "chisq",
                "p",
                "observed",
                "expected",
                "var",
            )
        },
    )


def fixture() -> pd.DataFrame:
    return pd.read_csv(
        G / "fixture.tsv",
        sep="\t",
        keep_default_na=False,
        na_values={"score": ["NA"]},
        dtype={"site": str, "sample": str},
    )


def gse1992() -> pd.DataFrame:
    clin = pd.read_csv(
        shared_file("gse1992_unc_hu2006_survjamda", "clinical.tsv"), sep="\t", dtype={"sample_id": str}
    ).set_index("sample_id")
    ss = pd.read_csv(GOLDEN / "survival" / "gse1992_ss.tsv", sep="\t", dtype={"sample": str})
    return pd.DataFrame(
        {
            "sample": ss["sample"],
            "score": ss["ss"],
            "time": clin.loc[ss["sample"], "time"].to_numpy(float),
            "event": clin.loc[ss["sample"], "event"].to_numpy(float),
        }
    )


DATA = {"fixture": fixture, "gse1992": gse1992}


def groups_of(d: pd.DataFrame, cut: str) -> np.ndarray | None:
    return None if cut == "none" else cut_groups(d["score"].to_numpy(), CUTS[cut]).labels


def assert_close(ours: pd.DataFrame, r: pd.DataFrame, cols, tol=TOL) -> float:
    """Same NA pattern and |difference| <= tol in each column; returns the largest difference."""
    worst = 0.0
    for c in cols:
        a, b = ours[c].to_numpy(float), r[c].to_numpy(float)
        assert a.shape == b.shape, c
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=f"NA pattern of {c}")
        diff = float(np.nanmax(np.abs(a - b))) if np.isfinite(a).any() else 0.0
        assert diff <= tol, f"{c}: max |diff| {diff:.3g}"
        worst = max(worst, diff)
    return worst


# ---------------------------------------------------------------------------------------------- cut-points
@pytest.mark.parametrize("ds", list(DATA))
@pytest.mark.parametrize("cut", list(CUTS))
def test_cut_groups_match_r_quantile_and_cut(ds, cut):
    d = DATA[ds]()
    res = cut_groups(d["score"].to_numpy(), CUTS[cut])
    g = golden("groups.tsv").query("dataset == @ds and cut == @cut")
    assert g["sample"].tolist() == d["sample"].tolist()
    assert res.labels.tolist() == g["group"].tolist()
    b = golden("breaks.tsv").query("dataset == @ds and cut == @cut")["value"].to_numpy(float)
    np.testing.assert_allclose(res.breaks, b, rtol=0, atol=1e-14)
    assert res.empty == [] and res.note == ""


def test_cut_rules_and_names():
    x = np.array([1.0, 2.0, 3.0, 4.0, np.nan, 2.5])
    lab, brk, names = cut_groups(x, "median")  # unpacks as a 3-tuple (the pipeline does this)
    assert brk == [2.5] and names == ["low", "high"]
    assert lab.tolist() == ["low", "low", "high", "high", "", "low"]  # x == median -> low
    lab, brk, names = cut_groups(x, [3, 1.5])  # sorted; right-closed
    assert names == ["<=1.5", "(1.5,3]", ">3"] and brk == [1.5, 3.0]
    assert lab.tolist() == ["<=1.5", "(1.5,3]", "(1.5,3]", ">3", "", "(1.5,3]"]
    # quantile type 7 on 1..10: 1/3 -> 4, 2/3 -> 7 exactly; samples equal to a cut-point go to the lower group
    r = cut_groups(np.arange(1, 11, dtype=float), "tertiles")
    assert r.breaks == [4.0, 7.0]
    assert r.labels.tolist() == ["T1"] * 4 + ["T2"] * 3 + ["T3"] * 3


def test_tied_cut_points_leave_a_group_empty_with_a_note():
    x = np.array([0.0] * 7 + [1.0, 2.0])  # q1/3 = q2/3 = 0
    r = cut_groups(x, "tertiles")
    assert r.breaks == [0.0, 0.0] and r.names == ["T1", "T2", "T3"]
    assert set(r.labels) == {"T1", "T3"} and r.empty == ["T2"]
    assert "T2" in r.note and "no samples" in r.note
    # the empty group is reported as NA when its name is passed on as a level
    t, e = np.arange(1, 10, dtype=float), np.array([1, 0, 1, 1, 0, 1, 1, 0, 1])
    km = kaplan_meier(t, e, r.labels, levels=r.names)
    row = km[km["group"] == "T2"]
    assert len(row) == 1 and np.isnan(row["survival"].iloc[0]) and row["n_risk"].iloc[0] == 0
    assert any("T2" in n for n in km.attrs["notes"])
    lr = logrank(t, e, r.labels, levels=r.names)
    assert lr["df"] == 1 and "T2" in lr["note"] and lr["table"]["n"].tolist() == [7, 0, 2]
    assert np.isclose(lr["chisq"], logrank(t, e, r.labels)["chisq"], rtol=0, atol=1e-14)


def test_all_missing_scores_give_no_groups_not_an_error():
    r = cut_groups(np.array([np.nan, np.nan]), "median")
    assert r.labels.tolist() == ["", ""] and np.isnan(r.breaks[0]) and "no sample" in r.note


@pytest.mark.parametrize(
    "cut, msg",
    [
        ("optimal", "unknown cut 'optimal'"),
        ([0.5, 0.5], "distinct"),
        ([], "empty"),
        (["a"], "must be numbers"),
        ([np.nan], "finite"),
        (0.5, "list of score values"),
    ],
)
def test_bad_cut_is_a_user_error(cut, msg):
    with pytest.raises(SeedsigError, match=msg):
        cut_groups(np.array([1.0, 2.0, 3.0]), cut)


def test_text_score_is_a_user_error():
    with pytest.raises(SeedsigError, match="score must be numbers"):
        cut_groups(np.array(["a", "b"]), "median")


# ---------------------------------------------------------------------------------------------- Kaplan-Meier
@pytest.mark.parametrize("ds", list(DATA))
@pytest.mark.parametrize("cut", ["none", "median", "tertiles", "quartiles"])
def test_kaplan_meier_matches_summary_survfit(ds, cut):
    d = DATA[ds]()
    km = kaplan_meier(d["time"], d["event"], groups_of(d, cut))
    assert tuple(km.columns) == KM_COLUMNS
    r = golden("km.tsv").query("dataset == @ds and cut == @cut").reset_index(drop=True)
    assert km["group"].tolist() == r["group"].tolist()  # group order low/high, T1..T3 as R's factor levels
    assert_close(km, r, ["time", "n_risk", "n_event", "n_censor"], tol=0)
    assert_close(km, r, ["survival", "std_err", "ci_low", "ci_high"])


def test_kaplan_meier_edge_rows():
    d = fixture()
    km = kaplan_meier(d["time"], d["event"])
    last = km.iloc[-1]
    assert (
        last["time"] == 61
        and last["survival"] == 0
        and np.isnan(last[["std_err", "ci_low", "ci_high"]].astype(float)).all()
    )  # as R: NA
    # timefix: 12 and 12 + 1e-9 are one time, reported as 12 (R's aeqSurv)
    assert (km["time"] == 12).sum() == 1 and not ((km["time"] > 12) & (km["time"] < 12.5)).any()
    assert km.loc[km["time"] == 12, ["n_event", "n_censor"]].values.tolist() == [[3, 1]]
    # one group without events: survival 1, std_err 0, limits (1, 1) as R
    one = kaplan_meier([1.0, 2.0, 3.0], [0, 0, 0])
    assert (
        one["survival"].tolist() == [1, 1, 1]
        and one["std_err"].tolist() == [0, 0, 0]
        and one["ci_low"].tolist() == [1, 1, 1]
    )


@pytest.mark.parametrize("ds", list(DATA))
@pytest.mark.parametrize("cut", ["none", "median", "tertiles", "quartiles"])
def test_at_risk_matches_summary_times(ds, cut):
    d = DATA[ds]()
    ar = at_risk(d["time"], groups_of(d, cut), RISK_TIMES)
    assert tuple(ar.columns) == AT_RISK_COLUMNS
    r = golden("at_risk.tsv").query("dataset == @ds and cut == @cut").reset_index(drop=True)
    assert ar["group"].tolist() == r["group"].tolist()
    assert_close(ar, r, ["time", "n_risk"], tol=0)


# ---------------------------------------------------------------------------------------------- log-rank
@pytest.mark.parametrize("ds", list(DATA))
@pytest.mark.parametrize("cut", list(CUTS))
def test_logrank_matches_survdiff(ds, cut):
    d = DATA[ds]()
    res = logrank(d["time"], d["event"], groups_of(d, cut))
    assert set(LOGRANK_COLUMNS) <= set(res)
    r = golden("logrank.tsv").query("dataset == @ds and cut == @cut").iloc[0]
    assert res["n"] == r["n"] and res["df"] == r["df"]
    assert abs(res["chisq"] - r["chisq"]) <= TOL
    assert abs(res["p"] - r["p"]) <= TOL * max(r["p"], 1e-300) or abs(res["p"] - r["p"]) <= 1e-15
    rg = golden("logrank_groups.tsv").query("dataset == @ds and cut == @cut").reset_index(drop=True)
    tab = res["table"]
    assert tab["group"].tolist() == rg["group"].tolist() == res["groups"].split(";")
    assert_close(tab, rg, ["n", "observed"], tol=0)
    assert_close(tab, rg, ["expected"])
    rv = golden("logrank_var.tsv").query("dataset == @ds and cut == @cut")
    ours = np.array([res["var"].loc[a, b] for a, b in zip(rv["group_a"], rv["group_b"])])
    assert np.max(np.abs(ours - rv["var"].to_numpy(float))) <= TOL
    assert res["note"] == (
        "1 sample(s) without time, event or group left out" if ds == "fixture" else ""
    )  # the NA score


def test_logrank_without_a_test_gives_na_and_a_note():
    one = logrank([1.0, 2.0, 3.0], [1, 0, 1], ["a", "a", "a"])
    assert np.isnan(one["chisq"]) and np.isnan(one["p"]) and "fewer than two groups" in one["note"]
    none = logrank([1.0, 2.0, 3.0, 4.0], [0, 0, 0, 0], ["a", "b", "a", "b"])
    assert np.isnan(none["chisq"]) and "no events" in none["note"]
    # a group whose samples all leave before the first event has expected 0 and is left out, as survdiff
    late = logrank([1.0, 5.0, 6.0, 7.0, 8.0, 9.0], [0, 1, 1, 0, 1, 0], ["x", "a", "b", "a", "b", "a"])
    assert late["df"] == 1 and "x: no sample at risk" in late["note"]
    with pytest.raises(SeedsigError, match="group is required"):
        logrank([1.0, 2.0], [1, 0], None)


# ---------------------------------------------------------------------------------------------- Aalen-Johansen
@pytest.mark.parametrize("cut", ["none", "median", "tertiles"])
def test_aalen_johansen_matches_multistate_survfit(cut):
    d = fixture()
    aj = aalen_johansen(d["time"], d["site"], groups_of(d, cut))
    assert tuple(aj.columns) == AJ_COLUMNS
    r = golden("cif.tsv").query("cut == @cut")
    keys = ["group", "cause", "time"]
    assert len(aj) == len(r) and not aj.duplicated(keys).any()
    m = aj.merge(r, on=keys, suffixes=("", "_r"), validate="one_to_one")
    assert len(m) == len(r)
    rr = m[[c + "_r" for c in ("n_risk", "n_event", "cif", "std_err")]].set_axis(
        ["n_risk", "n_event", "cif", "std_err"], axis=1
    )
    assert_close(m, rr, ["n_risk", "n_event"], tol=0)
    assert_close(m, rr, ["cif", "std_err"])
    if cut == "tertiles":  # T1 has no brain relapse: cif 0, std_err 0 (R keeps every state in every curve)
        z = aj.query("group == 'T1' and cause == 'brain'")
        assert (z["cif"] == 0).all() and (z["std_err"] == 0).all()


def test_aalen_johansen_sums_to_one_minus_km_and_codes_censoring():
    d = fixture()
    aj = aalen_johansen(d["time"], d["site"])
    km = kaplan_meier(d["time"], d["event"])
    total = aj.groupby("time")["cif"].sum().to_numpy()
    np.testing.assert_allclose(total, 1 - km["survival"].to_numpy(), rtol=0, atol=1e-14)
    # '' , None and NaN are all censored
    cause = d["site"].astype(object).where(d["site"] != "", None).to_numpy()
    cause[::2] = np.where(pd.isna(cause[::2]), np.nan, cause[::2])
    again = aalen_johansen(d["time"], cause)
    pd.testing.assert_frame_equal(again, aj)
    # a cause listed without events gets cif 0; an unlisted cause is a user error
    more = aalen_johansen(d["time"], d["site"], causes=["lung", "bone", "brain", "liver", "other"])
    assert more["cause"].drop_duplicates().tolist() == ["lung", "bone", "brain", "liver", "other"]
    assert (more.query("cause == 'other'")["cif"] == 0).all()
    with pytest.raises(SeedsigError, match="'lung' not in causes"):
        aalen_johansen(d["time"], d["site"], causes=["bone", "brain", "liver"])


# ---------------------------------------------------------------------------------------------- order, input errors
def test_results_do_not_depend_on_row_order():
    d = fixture()
    g = groups_of(d, "tertiles")
    perm = np.random.default_rng(0).permutation(len(d))  # a fixed permutation of the rows
    dp, gp = d.iloc[perm].reset_index(drop=True), g[perm]
    pd.testing.assert_frame_equal(kaplan_meier(dp["time"], dp["event"], gp), kaplan_meier(d["time"], d["event"], g))
    pd.testing.assert_frame_equal(aalen_johansen(dp["time"], dp["site"], gp), aalen_johansen(d["time"], d["site"], g))
    a, b = logrank(dp["time"], dp["event"], gp), logrank(d["time"], d["event"], g)
    assert a["chisq"] == b["chisq"] and a["expected"] == b["expected"]
    assert (cut_groups(dp["score"].to_numpy(), "tertiles").labels == gp).all()


@pytest.mark.parametrize(
    "kwargs, msg",
    [
        ({"time": [1.0, -2.0], "event": [1, 0]}, "negative"),
        ({"time": [1.0, 2.0], "event": [1, 2]}, "0 \\(censored\\) or 1"),
        ({"time": [1.0, 2.0, 3.0], "event": [1, 0]}, "event has 2 values but time has 3"),
        ({"time": ["a", "b"], "event": [1, 0]}, "time must be numbers"),
        ({"time": [1.0, np.inf], "event": [1, 0]}, "infinite"),
        ({"time": [1.0, 2.0], "event": [1, 0], "group": ["a"]}, "group has 1 values"),
        ({"time": [1.0, 2.0], "event": [1, 0], "group": ["a", "b"], "levels": ["a"]}, "'b' not in levels"),
    ],
)
def test_user_mistakes_raise_one_clear_error(kwargs, msg):
    with pytest.raises(SeedsigError, match=msg):
        kaplan_meier(**kwargs)


def test_missing_values_are_left_out_with_a_note():
    km = kaplan_meier([1.0, np.nan, 3.0, 4.0], [1, 1, np.nan, 0], ["a", "a", "a", None])
    assert km["time"].tolist() == [1.0] and km.attrs["notes"] == ["3 sample(s) without time, event or group left out"]


# ---------------------------------------------------------------------------------------------- figures
def test_plot_km_draws_curves_and_the_risk_table():
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    d = fixture()
    g = groups_of(d, "tertiles")
    km = kaplan_meier(d["time"], d["event"], g)
    before = plt.get_fignums()
    fig = plot_km(
        km.assign(method="zscore"),
        "fixture: SS tertiles",
        risk_times=[0, 12, 24, 36, 48, 60],
        logrank_p=logrank(d["time"], d["event"], g)["p"],
    )
    assert isinstance(fig, Figure) and plt.get_fignums() == before  # no pyplot state
    ax, tab = fig.axes
    assert ax.get_ylabel() == "Survival probability" and tab.get_xlabel() == "Time (months)"
    assert [line.get_color().lower() for line in ax.get_lines()][::2] == [c.lower() for c in OKABE_ITO[:3]]
    # the table shows R's numbers at risk
    shown = [int(t.get_text()) for t in tab.texts]
    expect = at_risk(d["time"], g, [0, 12, 24, 36, 48, 60])["n_risk"].tolist()
    assert shown == expect
    assert "log-rank p = 2.9e-05" in [t.get_text() for t in ax.get_legend().texts] + [
        ax.get_legend().get_title().get_text()
    ]
    fig.savefig(__import__("io").BytesIO(), format="png")
    w, h = fig.get_size_inches()
    assert w == pytest.approx(3.5)


def test_plot_cif_one_panel_per_cause():
    from matplotlib.figure import Figure

    d = fixture()
    aj = aalen_johansen(d["time"], d["site"], groups_of(d, "median"))
    fig = plot_cif(aj, "fixture: site of first relapse", xlabel="Time (months)")
    assert isinstance(fig, Figure)
    titled = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in titled] == ["bone", "brain", "liver", "lung"]
    assert all(ax.get_ylim()[0] == 0 for ax in titled)
    assert {ax.get_xlabel() for ax in titled[-2:]} == {"Time (months)"}
    fig.savefig(__import__("io").BytesIO(), format="png")
    single = plot_cif(aj[aj["cause"] == "bone"], "bone only")
    assert single.get_size_inches()[0] == pytest.approx(3.5)
