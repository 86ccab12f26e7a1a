"""End-to-end: the Snakemake pipeline on the built-in example cohort recovers what was planted."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, SNAKEMAKE, read_tsv, run_snakemake

from seedsig.core.stats import empirical_null_p

pytestmark = pytest.mark.slow


def test_outputs_of_the_contract_exist(example_run):
    wd, proc = example_run
    base = wd / "results" / "example"
    for name in [
        "expression.h5ad",
        "gene_mapping.tsv",
        "coverage.tsv",
        "signature_qc.tsv",
        "scores/ssgsea.tsv",
        "scores/zscore.tsv",
        "correlations.tsv",
        "prerank.tsv",
        "survival.tsv",
        "km.tsv",
        "logrank.tsv",
        "cumulative_incidence.tsv",
    ]:
        assert (base / name).is_file(), name
    for name in ["correlations.tsv", "survival.tsv"]:
        assert (wd / "results" / "meta" / name).is_file(), name
    assert (wd / "results" / "report.html").is_file()
    assert "Report:" in proc.stdout + proc.stderr
    # every table is plain (one header line, no comments) and has its provenance sidecar
    for tsv in list(base.glob("*.tsv")) + list(base.glob("scores/*.tsv")):
        first = tsv.read_text().splitlines()[0]
        assert not first.startswith("#")
        side = json.loads(tsv.with_suffix(".json").read_text())
        assert side["versions"]["seedsig"] and side["versions"]["numpy"]
    corr = read_tsv(base / "correlations.tsv")
    # the contract columns first, in their order; the association issue's columns added after them
    assert list(corr.columns) == [
        "method",
        "signature_a",
        "signature_b",
        "r",
        "p",
        "q",
        "n",
        "statistic",
        "ci_low",
        "ci_high",
        "n_shared_genes",
        "jaccard",
        "p_overlap",
        "r_without_shared",
        "p_random_null",
        "r_partial",
        "covariates",
        "note",
    ]
    surv = read_tsv(base / "survival.tsv")
    assert list(surv.columns) == [
        "method",
        "signature",
        "endpoint",
        "n",
        "events",
        "hr_per_sd",
        "ci_low",
        "ci_high",
        "p",
        "note",
        "model",
        "covariates",
        "concordance",
        "ph_p",
        "p_random_null",
    ]
    scores = read_tsv(base / "scores" / "ssgsea.tsv")
    assert scores.columns[0] == "sample" and "SS" in scores.columns and len(scores) == 200
    side = json.loads((base / "scores" / "ssgsea.json").read_text())
    assert side["parameters"]["method"] == "ssgsea"


def test_example_recovers_planted_correlations(example_run):
    wd, _ = example_run
    truth = json.loads((wd / "resources" / "example" / "truth.json").read_text())
    corr = read_tsv(wd / "results" / "example" / "correlations.tsv")
    for method in ("ssgsea", "zscore"):
        ss = corr[(corr.method == method) & (corr.signature_a == "SS") & (corr.statistic == "spearman")].set_index(
            "signature_b"
        )
        for sig in truth["correlated_signatures"]:
            if sig.startswith("SS"):
                continue
            assert ss.loc[sig, "r"] > 0.2 and ss.loc[sig, "q"] < 0.05, (method, sig, ss.loc[sig].to_dict())
        for sig in truth["independent_signatures"]:
            assert ss.loc[sig, "q"] > 0.05, (method, sig, ss.loc[sig].to_dict())


def test_example_recovers_planted_hazard(example_run):
    wd, _ = example_run
    surv = read_tsv(wd / "results" / "example" / "survival.tsv")
    truth = json.loads((wd / "resources" / "example" / "truth.json").read_text())
    for method in ("ssgsea", "zscore"):
        uni = surv[(surv.method == method) & (surv.endpoint == "mfs_months/mfs_event") & (surv.model == "univariate")]
        row = uni[uni.signature == "SS"].iloc[0]
        assert row["n"] == 200 and row["events"] > 40
        assert row["hr_per_sd"] > 1.3 and row["p"] < 0.001 and row["ci_low"] > 1
        # independent signatures carry no hazard
        for sig in truth["independent_signatures"]:
            r = uni[uni.signature == sig].iloc[0]
            assert r["p"] > 0.01, (method, sig, r.to_dict())


def test_alias_resolution_and_coverage(example_run):
    wd, _ = example_run
    mapping = read_tsv(wd / "results" / "example" / "gene_mapping.tsv").set_index("input_id")
    assert mapping.loc["IL8", "symbol"] == "CXCL8" and mapping.loc["IL8", "status"] == "previous"
    assert mapping.loc["CTGF", "symbol"] == "CCN2"
    cov = read_tsv(wd / "results" / "example" / "coverage.tsv").set_index("signature")
    assert cov.loc["SS", "n_present"] == 4 and cov.loc["SS", "n_genes"] == 4 and bool(cov.loc["SS", "scored"])
    assert not bool(cov.loc["LMS", "complete"])
    qc = read_tsv(wd / "results" / "example" / "signature_qc.tsv").set_index("signature")
    assert qc.loc["SS", "mean_inter_gene_r"] > 0.2 and qc.loc["SS", "leading_gene"] in {"IL6", "CXCL8", "FSCN1", "MMP1"}


def test_h5ad_records_provenance_and_counts(example_run):
    import anndata as ad

    wd, _ = example_run
    a = ad.read_h5ad(wd / "results" / "example" / "expression.h5ad")
    assert a.n_obs == 200 and "counts" in a.layers and "CXCL8" in a.var_names and "IL8" not in a.var_names
    prov = {k: json.loads(v) for k, v in a.uns["seedsig_provenance"].items()}
    assert prov["normalize"]["parameters"]["method"] == "tmm_logcpm"
    # edgeR's workflow: filterByExpr, then library sizes of the kept genes (keep.lib.sizes=FALSE)
    np.testing.assert_allclose(a.obs["library_size_filtered"].to_numpy(), np.asarray(a.layers["counts"]).sum(axis=1))
    assert (a.obs["library_size"] > a.obs["library_size_filtered"]).all()
    norm = a.uns["normalization"]
    assert norm["method"] == "tmm_logcpm" and json.loads(norm["filter"])["method"] == "filter_by_expr"
    filtered = set(np.asarray(norm["filtered_genes"]).tolist())
    assert len(filtered) == json.loads(norm["filter"])["n_removed"] > 0 and not filtered & set(a.var_names)
    assert a.n_vars + len(filtered) == len(
        pd.read_csv(wd / "results" / "example" / "gene_mapping.tsv", sep="\t").query("kept").symbol.unique()
    )


def test_rerun_is_a_no_op(example_run):
    wd, _ = example_run
    proc = run_snakemake(wd, "-n")
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_every_file_under_results_is_declared(example_run):
    """Every sidecar JSON, table and figure a rule writes is a declared output: `snakemake --list-untracked` lists
    nothing under results/. The figures are declared one by one (core.layout.figure_names, from the config, the
    sheet and the signature files), each written: drawn, or a "not drawn: why" placeholder where the data do not
    allow it (none here: the session's run pools two cohorts)."""
    wd, _ = example_run
    proc = run_snakemake(wd, "--list-untracked")
    listed = [ln.strip() for ln in (proc.stdout + proc.stderr).splitlines() if ln.strip().startswith("results/")]
    assert not listed, listed
    assert (wd / "results" / "example" / "survival.json").is_file()  # a sidecar, now declared
    assert (wd / "results" / "figures" / "example" / "km_ssgsea_SS_mfs_months-mfs_event.pdf").is_file()
    svgs = sorted((wd / "results" / "figures").rglob("*.svg"))
    assert (wd / "results" / "figures" / "meta" / "forest_hr_ssgsea_SS.svg") in svgs
    assert [f for f in svgs if "not drawn: " in f.read_text()] == []
    assert all(f.with_suffix(".pdf").is_file() for f in svgs)
    assert not (wd / "results" / "figures" / ".snakemake_timestamp").exists()  # not a directory() output


def test_null_correlations_are_the_ones_p_random_null_counts(example_run):
    """associate writes the B null correlations of every tested row; (b + 1) / (B + 1) over them, with the one tie
    rule, is the row's p_random_null (the report draws its histograms from this file instead of recomputing)."""
    wd, _ = example_run
    base = wd / "results" / "example"
    corr = read_tsv(base / "correlations.tsv")
    null = pd.read_csv(base / "null_correlations.tsv.gz", sep="\t")
    assert list(null.columns) == ["method", "signature_a", "signature_b", "statistic", "draw", "r"]
    keys = ["method", "signature_a", "signature_b", "statistic"]
    tested = corr[corr["p_random_null"].notna()]
    assert len(tested) > 10
    groups = dict(list(null.groupby(keys, sort=False)))
    assert len(groups) == len(tested)
    for row in tested.to_dict("records"):
        g = groups[tuple(row[k] for k in keys)]
        assert g["draw"].tolist() == list(range(1, 1001))  # B = associate.n_random
        assert row["p_random_null"] == pytest.approx(empirical_null_p(row["r"], g["r"].to_numpy()), rel=1e-9)


def test_lint_and_format_are_clean():
    proc = subprocess.run(
        [*SNAKEMAKE, "--lint", "-s", str(REPO / "Snakefile"), "-d", str(REPO)], capture_output=True, text=True, cwd=REPO
    )
    assert proc.returncode == 0 and "good condition" in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    snakefmt = shutil.which("snakefmt", path=str(Path(sys.executable).parent)) or shutil.which("snakefmt")
    assert snakefmt, "snakefmt is a dev dependency"
    proc = subprocess.run(
        [snakefmt, "--check", "Snakefile", "workflow/Snakefile", "workflow/rules"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff, "ruff is a dev dependency"
    for args in (["check", "."], ["format", "--check", "."]):  # pyproject.toml [tool.ruff]: line length 120
        proc = subprocess.run([ruff, *args], capture_output=True, text=True, cwd=REPO)
        assert proc.returncode == 0, f"ruff {' '.join(args)}:\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}"


def test_example_association_beyond_chance_and_shared_genes(example_run):
    wd, _ = example_run
    base = wd / "results" / "example"
    truth = json.loads((wd / "resources" / "example" / "truth.json").read_text())
    corr = read_tsv(base / "correlations.tsv")
    assert set(corr["statistic"]) == {"spearman", "pearson"} and len(corr) == 2 * 2 * 3 * 10
    side = json.loads((base / "correlations.json").read_text())
    assert side["parameters"]["n_random"] == 1000 and "grid" in side["info"]
    ss = corr[(corr.signature_a == "SS") & (corr.statistic == "spearman")]
    for method in ("ssgsea", "zscore"):
        t = ss[ss.method == method].set_index("signature_b")
        for sig in ("LMS", "BoMS", "BrMS", "SMID_RELAPSE_LUNG", "SMID_RELAPSE_BRAIN"):
            row = t.loc[sig]
            # planted: beyond matched random signatures, CI excludes 0, survives proliferation/ER adjustment
            assert row["p_random_null"] <= 0.01 and row["ci_low"] > 0 and row["ci_low"] < row["r"] < row["ci_high"], (
                method,
                sig,
            )
            assert row["r_partial"] > 0.2 and row["covariates"] == "meta_pcna;er_status", (method, sig)
        for sig in truth["independent_signatures"]:
            assert t.loc[sig, "p_random_null"] > 0.01, (method, sig)
        # overlap bookkeeping: LMS shares FSCN1 with SS; BoMS shares nothing
        assert t.loc["LMS", "n_shared_genes"] == 1 and t.loc["LMS", "p_overlap"] < 0.05
        assert t.loc["BoMS", "n_shared_genes"] == 0 and t.loc["BoMS", "r_without_shared"] == pytest.approx(
            t.loc["BoMS", "r"]
        )
    pearson = corr[corr.statistic == "pearson"]
    z = np.arctanh(pearson["r"]) + 1.959963984540054 / np.sqrt(pearson["n"] - 3)
    np.testing.assert_allclose(
        pearson["ci_high"], np.tanh(z), rtol=1e-8, atol=1e-9
    )  # tables hold 10 significant digits
    pre = read_tsv(base / "prerank.tsv")
    lms = pre[(pre.method == "zscore") & (pre.focal == "SS") & (pre.signature == "LMS")].iloc[0]
    assert lms["nes"] > 1.5 and lms["fdr"] < 0.05 and "FSCN1" not in str(lms["leading_edge"]).split(";")


def test_example_survival_models_curves_and_sites(example_run):
    wd, _ = example_run
    base = wd / "results" / "example"
    surv = read_tsv(base / "survival.tsv")
    prim = surv[surv.endpoint == "mfs_months/mfs_event"]
    for method in ("ssgsea", "zscore"):
        uni = prim[(prim.method == method) & (prim.model == "univariate")].set_index("signature")
        adj = prim[(prim.method == method) & (prim.model == "adjusted")].set_index("signature")
        assert uni.loc["SS", "p_random_null"] <= 0.01 and 0.6 < uni.loc["SS", "concordance"] < 0.9
        assert 0 <= uni.loc["SS", "ph_p"] <= 1
        assert adj.loc["SS", "covariates"] == "er_status" and adj.loc["SS", "hr_per_sd"] > 1.3
        # cause-specific: the simulator sends high-SS relapses to lung, bone, brain; liver is independent of SS
        cs = surv[(surv.method == method) & (surv.model == "univariate") & (surv.signature == "SS")].set_index(
            "endpoint"
        )
        assert cs.loc["relapse:lung", "hr_per_sd"] > 1.3 and cs.loc["relapse:lung", "p"] < 0.01
        assert (
            cs.loc["relapse:liver", "events"] > 0
            and cs.loc["relapse:liver", "hr_per_sd"] < cs.loc["relapse:lung", "hr_per_sd"]
        )
    lr = read_tsv(base / "logrank.tsv")
    row = lr[(lr.method == "zscore") & (lr.signature == "SS") & (lr.endpoint == "mfs_months/mfs_event")].iloc[0]
    assert row["cut"] == "median" and row["p"] < 0.01
    km = read_tsv(base / "km.tsv")
    k = km[(km.method == "zscore") & (km.signature == "SS") & (km.endpoint == "mfs_months/mfs_event")]
    assert set(k["group"]) == {"low", "high"}
    last = k.groupby("group")["survival"].last()
    assert last["high"] < last["low"]
    aj = read_tsv(base / "cumulative_incidence.tsv")
    a = aj[(aj.method == "zscore") & (aj.signature == "SS")]
    assert {"lung", "bone", "brain", "liver"} <= set(a["cause"]) and a["cif"].between(0, 1).all()
    # the session's run pools the example with an identical copy (example_b): every pooled r is the cohort's own r,
    # with no heterogeneity
    meta = read_tsv(wd / "results" / "meta" / "correlations.tsv")
    corr = read_tsv(base / "correlations.tsv")
    own = corr.set_index(["method", "signature_a", "signature_b", "statistic"])["r"]
    pooled = meta[(meta["k"] == 2) & meta["estimate"].notna()]
    assert len(pooled) > 10 and set(pooled["cohorts"]) == {"example;example_b"}
    for row in pooled.to_dict("records"):
        assert row["estimate"] == pytest.approx(
            own[(row["method"], row["signature_a"], row["signature_b"], row["statistic"])], abs=1e-9
        )
        assert row["i2"] == pytest.approx(0, abs=1e-9) and row["tau2"] == pytest.approx(0, abs=1e-12)


def test_contributions_and_the_ss_gene_group_panel(example_run):
    """contributions/{method}.tsv per scoring method (contract columns, focal signatures only by default, exact
    terms summing to the zscore scores), signature_qc.tsv's last column, and the SS panel declared and drawn."""
    wd, _ = example_run
    base = wd / "results" / "example"
    for method in ("ssgsea", "zscore"):
        t = read_tsv(base / "contributions" / f"{method}.tsv")
        assert list(t.columns[:4]) == ["sample", "signature", "gene", "contribution"]
        assert list(dict.fromkeys(t["signature"])) == ["SS", "SS_attraction", "SS_infiltration"]
        assert len(t) == 200 * (4 + 2 + 2)
        assert list(t["gene"].iloc[:4]) == ["IL6", "CXCL8", "MMP1", "FSCN1"]
        side = json.loads((base / "contributions" / f"{method}.json").read_text())
        assert side["parameters"]["kind"] == ("exact" if method == "zscore" else "leave-one-out")
    z = read_tsv(base / "contributions" / "zscore.tsv")
    sums = z.groupby(["sample", "signature"])["contribution"].sum().unstack()
    scores = read_tsv(base / "scores" / "zscore.tsv").set_index("sample")
    np.testing.assert_allclose(sums.loc[scores.index, "SS"], scores["SS"], atol=1e-8)  # as written (%.10g)
    qc = read_tsv(base / "signature_qc.tsv")
    assert qc.columns[-1] == "top_variance_gene"
    top = dict(zip(qc["signature"], qc["top_variance_gene"]))
    gene, share = top["SS"].split(":")
    assert gene in {"IL6", "CXCL8", "MMP1", "FSCN1"} and 0 < float(share) < 1  # var(contribution) / var(score)
    assert ":" in top["LMS"]  # every scored signature, not only those of contributions.signatures
    svg = wd / "results" / "figures" / "example" / "contribution_share_ssgsea_SS.svg"
    assert svg.is_file() and "not drawn" not in svg.read_text()
    assert (svg.with_suffix(".pdf")).is_file()
