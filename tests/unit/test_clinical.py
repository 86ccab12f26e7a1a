"""Clinical harmonization: time units, event codings, free-text sites of relapse, settings, real GEO tables."""

import json

import numpy as np
import pandas as pd
import pytest
from conftest import shared_file

from seedsig.core.errors import SeedsigError
from seedsig.core.tables import read_clinical
from seedsig.ingest.clinical import harmonize_clinical, harmonize_settings
from seedsig.ingest.clinical_values import DEFAULT_EVENT_CODES, TIME_UNITS, event_lookup, parse_event, parse_time
from seedsig.ingest.relapse_sites import DEFAULT_SITE_TERMS, parse_site, site_indicators

SITES = ["lung", "bone", "brain", "liver"]


# ------------------------------------------------------------------------------------------------- time
def test_time_unit_factors_exact():
    assert TIME_UNITS == {"days": 12 / 365.25, "weeks": 12 * 7 / 365.25, "months": 1.0, "years": 12.0}
    t = pd.Series([365.25, 730.5, 0, np.nan], index=list("abcd"))
    np.testing.assert_allclose(
        parse_time(t, "days", source="f", column="t").to_numpy(), [12, 24, 0, np.nan], rtol=1e-15
    )
    np.testing.assert_allclose(
        parse_time(pd.Series([52.17857142857143, 1.0]), "weeks", source="f", column="t"),
        [12.0, 12 * 7 / 365.25],
        rtol=1e-12,
    )
    np.testing.assert_array_equal(parse_time(pd.Series([2.5, 1]), "years", source="f", column="t"), [30.0, 12.0])
    np.testing.assert_array_equal(parse_time(pd.Series([34, 7]), "months", source="f", column="t"), [34.0, 7.0])


def test_time_units_in_values_override_column_unit():
    t = pd.Series(
        ["34 months", "1020 days", "2.5 y", "12", " 6 wk ", "10 mo.", "NA", None, "3.5", "not available"],
        index=[f"s{i}" for i in range(10)],
    )
    got = parse_time(t, "years", source="f", column="t")
    exp = [34.0, 1020 * 12 / 365.25, 30.0, 144.0, 6 * 84 / 365.25, 10.0, np.nan, np.nan, 42.0, np.nan]
    np.testing.assert_allclose(got.to_numpy(), exp, rtol=1e-14)
    assert list(got.index) == list(t.index)
    assert got.dtype == float


def test_time_errors_name_file_column_values_samples():
    t = pd.Series(["34", "abc", "5 hours", "abc", "1,5"], index=["p1", "p2", "p3", "p4", "p5"])
    with pytest.raises(SeedsigError) as e:
        parse_time(t, "months", source="clin.tsv", column="rfs")
    msg = str(e.value)
    for s in ("clin.tsv", "'rfs'", "'abc' (2 samples)", "'5 hours'", "'1,5'", "p2", "p3", "4 time value(s)"):
        assert s in msg, s
    with pytest.raises(SeedsigError, match=r"negative time.*q2 \('-3 days'\)"):
        parse_time(pd.Series(["3", "-3 days"], index=["q1", "q2"]), "months", source="clin.tsv", column="rfs")
    with pytest.raises(SeedsigError, match="negative"):
        parse_time(pd.Series([3.0, -0.5]), "months", source="clin.tsv", column="rfs")
    with pytest.raises(SeedsigError, match="time unit 'hours'"):
        parse_time(pd.Series([3.0]), "hours", source="clin.tsv", column="rfs")


# ------------------------------------------------------------------------------------------------ event
def test_event_codings_to_01_with_na():
    raw = pd.Series(
        [
            1,
            0,
            "1",
            "0",
            "1.0",
            "yes",
            "No",
            "TRUE",
            "false",
            " Dead ",
            "ALIVE",
            "relapse",
            "No Relapse",
            "no-relapse",
            "Deceased",
            np.nan,
            "NA",
            "unknown",
            "censored",
            True,
            0.0,
        ]
    )
    exp = [1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1, 0, 0, 1, np.nan, np.nan, np.nan, 0, 1, 0]
    got = parse_event(raw, source="f", column="e")
    np.testing.assert_array_equal(got.to_numpy(), np.array(exp, dtype=float))
    assert got.dtype == float


def test_event_unmapped_lists_all_with_counts():
    raw = pd.Series(["dead", "DOD", "DOD", "lost", 2, "alive with disease", "alive"])
    with pytest.raises(SeedsigError) as e:
        parse_event(raw, source="data/gse_clin.tsv", column="os_status")
    msg = str(e.value)
    for s in (
        "data/gse_clin.tsv",
        "'os_status'",
        "4 distinct",
        "'DOD' (2 samples)",
        "'lost' (1 sample)",
        "'2' (1 sample)",
        "'alive with disease' (1 sample)",
        "clinical.event_codes (event: [...] or censored: [...])",
    ):
        assert s in msg, s
    assert "'dead'" not in msg and "'alive' (" not in msg


def test_default_codes_are_unambiguous():
    lk = event_lookup(DEFAULT_EVENT_CODES)  # raises if a value is under both codes
    assert lk["dead"] == 1 and lk["alive"] == 0 and lk["no relapse"] == 0 and lk["relapse"] == 1
    for ambiguous in ("2", "positive", "negative", "alive with disease", "dod", "doc", "unknown"):
        assert ambiguous not in lk
    with pytest.raises(SeedsigError, match="both event and censored"):
        event_lookup({"event": ["x"], "censored": ["X "]})


# ------------------------------------------------------------------------------------------------- site
def test_sites_free_text():
    raw = pd.Series(
        [
            "Lung",
            "pulmonary",
            "pleura",
            "bone",
            "Skeletal",
            "brain",
            "CNS",
            "Liver.",
            "hepatic",
            "lymph node",
            "none",
            "no relapse",
            "No",
            np.nan,
            "unknown",
            "bone metastases",
            "Lung mets",
            "  BRAIN ",
        ]
    )
    exp = [
        "lung",
        "lung",
        "lung",
        "bone",
        "bone",
        "brain",
        "brain",
        "liver",
        "liver",
        "other",
        None,
        None,
        None,
        None,
        None,
        "bone",
        "lung",
        "brain",
    ]
    got = parse_site(raw, None, SITES, source="f", column="site")
    assert [None if pd.isna(v) else v for v in got] == exp


def test_sites_multiple_become_other_and_are_recorded():
    raw = pd.Series(
        [
            "lung and bone",
            "lung, bone",
            "bone/liver",
            "lung/pleura",
            "lung; lung",
            "Lung + lymph node",
            "bone & none",
            "lung",
        ],
        index=[f"s{i}" for i in range(8)],
    )
    got = parse_site(raw, None, SITES, source="f", column="site")
    assert list(got) == ["other", "other", "other", "lung", "lung", "other", "bone", "lung"]
    clin = pd.DataFrame({"site": raw, "ev": 1, "t": 10})
    _, rec = harmonize_clinical(
        clin, endpoints=[{"name": "primary", "time": "t", "event": "ev"}], site_column="site", sites=SITES, source="f"
    )
    m = rec["columns"]["site"]["mapping"]
    assert m["lung and bone"] == {"code": "other", "n": 1, "sites": ["bone", "lung"]}
    assert m["Lung + lymph node"]["sites"] == ["lung", "other"]
    assert "sites" not in m["lung/pleura"]
    assert any("4 sample(s) name several sites" in n for n in rec["columns"]["site"]["notes"])
    ind = site_indicators(raw, None, SITES, source="f", column="site")
    assert (
        ind.loc["s0"].tolist() == [1, 1, 0, 0, 0]
        and ind.loc["s2"].tolist() == [0, 1, 0, 1, 0]
        and ind.loc["s5"].tolist() == [1, 0, 0, 0, 1]
    )


def test_sites_not_configured_become_other():
    got = parse_site(pd.Series(["brain", "CNS", "lung", "Bone"]), None, ["lung", "bone"], source="f", column="site")
    assert list(got) == ["other", "other", "lung", "bone"]
    # a configured site without built-in terms is a term of itself
    got = parse_site(pd.Series(["Adrenal", "lung"]), None, ["lung", "adrenal"], source="f", column="site")
    assert list(got) == ["adrenal", "lung"]


def test_site_unmapped_lists_all_with_counts():
    raw = pd.Series(["lung", "spleenx", "spleenx", "lung and kidneyx", "foo"])
    with pytest.raises(SeedsigError) as e:
        parse_site(raw, None, SITES, source="clin.tsv", column="relapse_site")
    msg = str(e.value)
    for s in (
        "clin.tsv",
        "'relapse_site'",
        "3 distinct",
        "'spleenx' (2 samples)",
        "'foo' (1 sample)",
        "'lung and kidneyx' (1 sample; 'kidneyx' not known)",
        "clinical.site_terms.<site>",
    ):
        assert s in msg, s


# ------------------------------------------------------------------------------------- user extensions
def test_user_extensions_and_precedence():
    clin = pd.DataFrame(
        {
            "os": ["DOD", "NED", "alive", "dead", "no"],
            "t": [1, 2, 3, 4, 5],
            "site": ["pulmonary nodule", "adrenal", "lung", "breast", "spleen"],
        },
        index=list("abcde"),
    )
    eps = [{"name": "os", "time": "t", "event": "os"}]
    # user: DOD is an event, NED censored; "no" moved to event (user wins over the built-in code); terms added
    out, rec = harmonize_clinical(
        clin,
        endpoints=eps,
        site_column="site",
        sites=SITES,
        event_codes={"event": ["DOD", "No"], "censored": ["NED"]},
        site_terms={"lung": ["pulmonary nodule"], "liver": ["breast"], "other": ["spleen"]},
        source="f",
    )
    assert out["os"].tolist() == [1.0, 0.0, 0.0, 1.0, 1.0]
    assert out["site"].tolist() == ["lung", "other", "lung", "liver", "other"]
    assert rec["columns"]["os"]["mapping"]["no"] == {"code": 1, "n": 1}
    with pytest.raises(SeedsigError, match="both event and censored"):
        harmonize_clinical(
            clin,
            endpoints=eps,
            site_column=None,
            sites=SITES,
            event_codes={"event": ["DOD"], "censored": ["dod"]},
            source="f",
        )
    with pytest.raises(SeedsigError, match="two sites"):
        harmonize_clinical(
            clin,
            endpoints=eps,
            site_column="site",
            sites=SITES,
            event_codes={"event": ["DOD"], "censored": ["NED"]},
            site_terms={"lung": ["x"], "bone": ["X."]},
            source="f",
        )


def test_harmonize_settings_precedence():
    cfg = {
        "clinical": {
            "time_unit": "days",
            "event_codes": {"event": ["DOD"], "censored": ["NED"]},
            "site_terms": {"other": ["spleen"]},
            "cohorts": {
                "gse1": {
                    "time_unit": "weeks",
                    "event_codes": {"censored": ["DOD"]},
                    "site_terms": {"liver": ["spleen"]},
                }
            },
        }
    }
    assert harmonize_settings({}, "x", {}) == {
        "time_unit": "months",
        "event_codes": {"event": [], "censored": []},
        "site_terms": {},
    }
    g = harmonize_settings(cfg, "other_cohort", {"time_unit": ""})
    assert g == {
        "time_unit": "days",
        "event_codes": {"event": ["DOD"], "censored": ["NED"]},
        "site_terms": {"other": ["spleen"]},
    }
    c = harmonize_settings(cfg, "gse1", {"time_unit": np.nan})
    assert (
        c["time_unit"] == "weeks"
        and c["event_codes"] == {"event": [], "censored": ["NED", "DOD"]}
        and c["site_terms"] == {"other": [], "liver": ["spleen"]}
    )
    assert harmonize_settings(cfg, "gse1", {"time_unit": "years"})["time_unit"] == "years"
    with pytest.raises(SeedsigError, match="cohort sheet, cohort 'gse1', column 'time_unit'"):
        harmonize_settings(cfg, "gse1", {"time_unit": "hours"})
    with pytest.raises(SeedsigError, match="clinical.time_unit"):
        harmonize_settings({"clinical": {"time_unit": "fortnights"}}, "x", {})
    # the settings feed harmonize_clinical directly
    clin = pd.DataFrame({"t": [7.0, 14.0], "e": ["DOD", "NED"]}, index=["a", "b"])
    out, rec = harmonize_clinical(
        clin,
        endpoints=[{"name": "primary", "time": "t", "event": "e"}],
        site_column=None,
        sites=SITES,
        source="f",
        **harmonize_settings(cfg, "gse1", {}),
    )
    np.testing.assert_allclose(out["t"], [7 * 84 / 365.25, 14 * 84 / 365.25])
    assert out["e"].tolist() == [0.0, 0.0]
    assert rec["columns"]["t"]["unit"] == "weeks"


# ----------------------------------------------------------------------------------------- harmonize
def _toy():
    return pd.DataFrame(
        {
            "os_days": ["1020 days", 365.25, "NA", 30, 3000],
            "os_status": ["dead", "alive", "alive", "Dead", None],
            "dmfs_days": [100, 200, 300, 400, 500],
            "dmfs_event": ["relapse", "no relapse", "relapse", "No Relapse", "relapse"],
            "site": ["Lung", None, "lung and bone", "bone", np.nan],
            "er": ["ER+", "ER-", "ER+", "ER+", None],
            "age": [50, 60, 70, 40, 55],
        },
        index=pd.Index(["p1", "p2", "p3", "p4", "p5"], name="sample"),
    )


def test_harmonize_clinical_in_place_record_and_input_untouched():
    clin = _toy()
    before = clin.copy()
    eps = [
        {"name": "primary", "time": "dmfs_days", "event": "dmfs_event"},
        {"name": "os", "time": "os_days", "event": "os_status"},
        {"name": "pfs", "time": "pfs_t", "event": "pfs_e"},
    ]
    out, rec = harmonize_clinical(
        clin, endpoints=eps, site_column="site", sites=SITES, time_unit="days", source="clin.tsv"
    )
    pd.testing.assert_frame_equal(clin, before)
    assert list(out.columns) == list(clin.columns) and list(out.index) == list(clin.index)
    pd.testing.assert_frame_equal(out[["er", "age"]], clin[["er", "age"]])
    np.testing.assert_allclose(
        out["os_days"].to_numpy(), [1020 * 12 / 365.25, 12.0, np.nan, 30 * 12 / 365.25, 3000 * 12 / 365.25]
    )
    assert out["os_status"].tolist()[:4] == [1.0, 0.0, 0.0, 1.0] and np.isnan(out["os_status"].iloc[4])
    assert out["dmfs_event"].tolist() == [1.0, 0.0, 1.0, 0.0, 1.0]
    assert [None if pd.isna(v) else v for v in out["site"]] == ["lung", None, "other", "bone", None]
    cols = rec["columns"]
    assert (
        cols["os_days"]["unit"] == "days"
        and cols["os_days"]["factor"] == 12 / 365.25
        and cols["os_days"]["units_in_values"] == {"days": 1}
        and cols["os_days"]["missing"] == 1
    )
    assert cols["os_status"]["mapping"] == {
        "Dead": {"code": 1, "n": 1},
        "alive": {"code": 0, "n": 2},
        "dead": {"code": 1, "n": 1},
    }
    assert cols["os_status"]["missing"] == 1 and cols["os_status"]["endpoints"] == ["os"]
    assert cols["dmfs_event"]["events"] == 3
    assert {"column": "pfs_t", "role": "time", "endpoint": "pfs"} in rec["absent"] and {
        "column": "pfs_e",
        "role": "event",
        "endpoint": "pfs",
    } in rec["absent"]
    # consistency notes against the first endpoint: p5 relapsed without a site; p4 censored with a site
    assert any("1 sample(s) with an event in 'dmfs_event' have no site" in n for n in rec["notes"])
    assert any("1 sample(s) censored in 'dmfs_event' have a site" in n for n in rec["notes"])
    json.dumps(rec)  # JSON-able


def test_harmonize_clinical_independent_of_row_order():
    clin = _toy()
    eps = [
        {"name": "primary", "time": "dmfs_days", "event": "dmfs_event"},
        {"name": "os", "time": "os_days", "event": "os_status"},
    ]
    out, rec = harmonize_clinical(clin, endpoints=eps, site_column="site", sites=SITES, time_unit="days", source="f")
    perm = clin.iloc[[3, 0, 4, 2, 1]]
    out2, rec2 = harmonize_clinical(perm, endpoints=eps, site_column="site", sites=SITES, time_unit="days", source="f")
    pd.testing.assert_frame_equal(out2.loc[out.index], out)
    assert json.dumps(rec2, sort_keys=True) == json.dumps(rec, sort_keys=True)


def test_harmonize_clinical_role_conflict_and_shared_time():
    clin = _toy()
    with pytest.raises(SeedsigError, match="named as time"):
        harmonize_clinical(
            clin,
            endpoints=[{"name": "a", "time": "dmfs_days", "event": "dmfs_days"}],
            site_column=None,
            sites=SITES,
            source="f",
        )
    # two endpoints sharing the time column: converted once
    out, rec = harmonize_clinical(
        clin,
        endpoints=[
            {"name": "a", "time": "dmfs_days", "event": "dmfs_event"},
            {"name": "b", "time": "dmfs_days", "event": "os_status"},
        ],
        site_column=None,
        sites=SITES,
        time_unit="years",
        source="f",
    )
    assert out["dmfs_days"].tolist() == [1200.0, 2400.0, 3600.0, 4800.0, 6000.0]
    assert rec["columns"]["dmfs_days"]["endpoints"] == ["a", "b"]


def test_geo_characteristics_prefix():
    clin = pd.DataFrame(
        {
            "t": ["dmfs_time: 12", "dmfs_time: 1 y"],
            "e": ["dmfs_event: 1", "dmfs_event: 0"],
            "s": ["relapse site: Lung", "relapse site: none"],
        },
        index=["a", "b"],
    )
    out, rec = harmonize_clinical(
        clin, endpoints=[{"name": "p", "time": "t", "event": "e"}], site_column="s", sites=SITES, source="f"
    )
    assert (
        out["t"].tolist() == [12.0, 12.0]
        and out["e"].tolist() == [1.0, 0.0]
        and out["s"].iloc[0] == "lung"
        and pd.isna(out["s"].iloc[1])
    )
    assert "prefix 'relapse site:'" in rec["columns"]["s"]["notes"][0]


# ------------------------------------------------------------------------------------------ real data
def _gse2034() -> pd.DataFrame:
    path = shared_file("gse2034_emc_wang2005", "GSE2034_Clinical.txt")
    df = pd.read_csv(path, sep="\t", comment="#", dtype={"GEO asscession number": str})
    return df.set_index("GEO asscession number"), str(path)


def test_gse2034_geo_clinical_table():
    clin, path = _gse2034()
    before = clin.copy()
    time, relapse, brain = (
        "time to relapse or last follow-up (months)",
        "relapse (1=True)",
        "Brain relapses (1=yes, 0=no)",
    )
    eps = [{"name": "primary", "time": time, "event": relapse}, {"name": "brain", "time": time, "event": brain}]
    out, rec = harmonize_clinical(clin, endpoints=eps, site_column=None, sites=SITES, source=path)
    pd.testing.assert_frame_equal(clin, before)
    assert out.shape == (286, 6)
    assert int(out[relapse].sum()) == 107 and out[relapse].notna().all()
    assert int(out[brain].sum()) == 10 and set(out[brain].unique()) == {0.0, 1.0}
    pd.testing.assert_series_equal(out[time], clin[time].astype(float))  # months stay months
    assert out.loc["GSM36793", time] == 101.0 and out.loc["GSM36797", relapse] == 1.0
    assert rec["columns"][relapse]["mapping"] == {"0": {"code": 0, "n": 179}, "1": {"code": 1, "n": 107}}
    assert rec["columns"][brain]["mapping"] == {"0": {"code": 0, "n": 276}, "1": {"code": 1, "n": 10}}
    assert rec["columns"][time]["factor"] == 1.0 and rec["columns"][time]["endpoints"] == ["primary", "brain"]
    pd.testing.assert_frame_equal(
        out[["PID", "lymph node status", "ER Status"]], clin[["PID", "lymph node status", "ER Status"]]
    )
    # the same times given in days come back as the same months
    days = clin.assign(**{time: (clin[time] * 365.25 / 12).round(6).map(lambda d: f"{d} days")})
    back, _ = harmonize_clinical(days, endpoints=eps[:1], site_column=None, sites=SITES, source=path)
    np.testing.assert_allclose(back[time], clin[time], rtol=1e-9)


def test_gse1992_survjamda_clinical():
    path = shared_file("gse1992_unc_hu2006_survjamda", "clinical.tsv")
    clin = read_clinical(path)
    assert clin.shape[0] == 124
    # SOURCE.md: time = RFS months, event = RFS (1 = relapse at any site or died of disease)
    out, rec = harmonize_clinical(
        clin,
        endpoints=[{"name": "rfs", "time": "time", "event": "event"}],
        site_column="relapse_site",
        sites=SITES,
        source=str(path),
    )
    assert int(out["event"].sum()) == 35
    assert (
        out.loc["BR00-0504", "time"] == 39.0
        and out.loc["BR94-1083", "time"] == 23.0
        and out.loc["BR94-1083", "event"] == 1.0
    )
    assert rec["absent"] == [{"column": "relapse_site", "role": "site", "endpoint": ""}]
    # the full survJamda table: RFS and OS in months; OS read as years converts by 12
    full_path = shared_file("gse1992_unc_hu2006_survjamda", "clinical_full_survJamda.tsv")
    full = read_clinical(full_path)
    os_e, os_t = "Overall_Survival_Event_.0.alive.1.DOD_or_DOC.", "Overall_suvival_months"
    out, rec = harmonize_clinical(
        full,
        endpoints=[{"name": "os", "time": os_t, "event": os_e}],
        site_column=None,
        sites=SITES,
        source=str(full_path),
    )
    assert int(out[os_e].sum()) == 26 and out.loc["BR00-0504", os_t] == 39.0
    yrs, _ = harmonize_clinical(
        full.assign(**{os_t: full[os_t] / 12}),
        endpoints=[{"name": "os", "time": os_t, "event": os_e}],
        site_column=None,
        sites=SITES,
        time_unit="years",
        source=str(full_path),
    )
    np.testing.assert_allclose(yrs[os_t], out[os_t], rtol=1e-12)


def test_default_site_terms_disjoint():
    seen = {}
    for site, words in DEFAULT_SITE_TERMS.items():
        for w in words:
            assert seen.setdefault(w, site) == site, (w, seen[w], site)
