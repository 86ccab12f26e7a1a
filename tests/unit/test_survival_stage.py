"""The survival stage on awkward clinical data: every condition gives rows with NA and a reason, never a crash."""

import json

import anndata as ad
import numpy as np
import pandas as pd
from conftest import REPO

from seedsig.outcome.stage import survival_cohort

SIGS = [str(REPO / "config" / "signatures" / "self_seeding.tsv")]


def make_cohort(tmp, n=60, seed=0):
    rng = np.random.default_rng(seed)
    samples = [f"s{i:02d}" for i in range(n)]
    genes = ["IL6", "CXCL8", "FSCN1", "MMP1"] + [f"G{i}" for i in range(40)]
    obs = pd.DataFrame(
        {
            "t": rng.uniform(1, 100, n).round(1),
            "e": rng.integers(0, 2, n).astype(float),
            "os_t": ["12", "abc"] + ["30"] * (n - 2),  # text in a time column
            "os_e": 1.0,
            "dfs_t": rng.uniform(1, 100, n),
            "dfs_e": 0.0,  # no events
            "er": pd.Categorical(["positive"] * n),  # one level
            "site": pd.Categorical(rng.choice(["Lung", "bone", "skin", "NA"], n)),
        },
        index=samples,
    )
    a = ad.AnnData(X=rng.normal(size=(n, len(genes))), obs=obs, var=pd.DataFrame(index=genes))
    a.uns["cohort"] = "odd"
    a.uns["endpoint"] = {"time": "t", "event": "e"}
    h5 = tmp / "expression.h5ad"
    a.write_h5ad(h5)
    scores = pd.DataFrame(
        {"SS": rng.normal(size=n), "SS_attraction": 1.0, "SS_infiltration": np.nan},
        index=pd.Index(samples, name="sample"),
    )
    (tmp / "scores").mkdir()
    scores.reset_index().to_csv(tmp / "scores" / "zscore.tsv", sep="\t", index=False, na_rep="NA")
    return h5


def test_awkward_clinical_data_give_notes(tmp_path):
    h5 = make_cohort(tmp_path)
    out = {k: tmp_path / f"{k}.tsv" for k in ("survival", "km", "logrank", "incidence")}
    settings = {
        "covariates": ["er", "missing_col"],
        "endpoints": [
            {"name": "os", "time": "os_t", "event": "os_e"},
            {"name": "dfs", "time": "dfs_t", "event": "dfs_e"},
            {"name": "pfs", "time": "nope", "event": "e"},
        ],
        "relapse_site": {"column": "site", "sites": ["lung", "bone"]},
        "n_random": 50,
    }
    survival_cohort(
        h5, {"zscore": tmp_path / "scores" / "zscore.tsv"}, SIGS, ["SS", "SS_attraction"], out, settings=settings
    )
    s = pd.read_csv(out["survival"], sep="\t")
    prim = s[s.endpoint == "t/e"].set_index(["signature", "model"])
    assert (
        np.isfinite(prim.loc[("SS", "univariate"), "hr_per_sd"])
        and 0 < prim.loc[("SS", "univariate"), "p_random_null"] <= 1
    )
    assert "constant" in prim.loc[("SS_attraction", "univariate"), "note"]
    assert "not available" in prim.loc[("SS_infiltration", "univariate"), "note"]
    # covariate with one level: the adjusted model is not fitted and the note says why; the absent one is named
    adj = prim.loc[("SS", "adjusted")]
    assert np.isnan(adj["hr_per_sd"]) and "one level" in adj["note"] and "missing_col" in adj["note"]
    os_rows = s[s.endpoint == "os"]
    assert len(os_rows) and os_rows["hr_per_sd"].isna().all() and os_rows["note"].str.contains("non-numeric").all()
    dfs = s[(s.endpoint == "dfs") & (s.signature == "SS") & (s.model == "univariate")].iloc[0]
    assert np.isnan(dfs["hr_per_sd"]) and "no events" in dfs["note"]
    assert s[s.endpoint == "pfs"]["note"].str.contains("not in the clinical table").all()
    # relapse sites: 'Lung' matched case-insensitively, 'skin' counted as other, 'NA' events as unknown
    assert {"relapse:lung", "relapse:bone", "relapse:other"} <= set(s["endpoint"])
    aj = pd.read_csv(out["incidence"], sep="\t")
    assert {"lung", "bone", "other"} <= set(aj["cause"]) and aj["cif"].dropna().between(0, 1).all()
    side = json.loads((tmp_path / "survival.json").read_text())
    assert "os" in side["note"] and side["primary_endpoint"] == "t/e"
    lr = pd.read_csv(out["logrank"], sep="\t")
    assert "constant" in lr.set_index(["signature", "endpoint"]).loc[("SS_attraction", "t/e"), "note"]
