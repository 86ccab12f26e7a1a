"""End-to-end on real cohorts: RefSeq log-ratio arrays with survival (vdv), probe-level intensities with a GEO
platform annotation (GDS507 / GPL97), and Ensembl RNA-seq counts (airway) through DESeq2's VST."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import GOLDEN, new_workdir, read_tsv, run_snakemake, shared_file

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    vdv = shared_file("vdv_vantveer2002_78_randomforestsrc", "expression.tsv.gz")
    vdv_clin = shared_file("vdv_vantveer2002_78_randomforestsrc", "clinical.tsv")
    gpl97 = shared_file("geo_geoquery_extdata_gse781_gds507", "GPL97.annot.gz")
    airway = shared_file("airway_rnaseq_counts", "airway_counts.tsv.gz")
    gse1992 = shared_file("gse1992_unc_hu2006_survjamda", "expression.tsv.gz")
    gse1992_clin = shared_file("gse1992_unc_hu2006_survjamda", "clinical.tsv")
    wd = new_workdir(tmp_path_factory.mktemp("real"))
    data = wd / "data"
    data.mkdir()
    # MAS5 intensities of GDS507 (first 5,000 GPL97 probes), un-logged as GEO gives them
    x = pd.read_csv(GOLDEN / "normalize" / "gds507_log2_input.tsv.gz", sep="\t", index_col=0)
    (2.0**x).to_csv(data / "gds507_intensity.tsv", sep="\t")
    shutil.copy(vdv_clin, data / "vdv_clinical.tsv")
    sheet = pd.DataFrame(
        [
            {
                "cohort": "vdv",
                "expression": str(vdv),
                "data_type": "log_expression",
                "gene_id": "refseq",
                "clinical": "data/vdv_clinical.tsv",
                "time": "time",
                "event": "event",
                "platform_annotation": "",
            },
            {
                "cohort": "gds507",
                "expression": "data/gds507_intensity.tsv",
                "data_type": "intensity",
                "gene_id": "probe",
                "clinical": "",
                "time": "",
                "event": "",
                "platform_annotation": str(gpl97),
            },
            {
                "cohort": "airway",
                "expression": str(airway),
                "data_type": "counts",
                "gene_id": "ensembl",
                "clinical": "",
                "time": "",
                "event": "",
                "platform_annotation": "",
            },
            {
                "cohort": "gse1992",
                "expression": str(gse1992),
                "data_type": "log_expression",
                "gene_id": "symbol",
                "clinical": str(gse1992_clin),
                "time": "time",
                "event": "event",
                "platform_annotation": "",
            },
        ]
    )
    sheet.to_csv(wd / "config" / "real.tsv", sep="\t", index=False)
    cfg = yaml.safe_load((wd / "config" / "config.yaml").read_text())
    cfg["cohorts"] = "config/real.tsv"
    cfg["normalize"]["counts"] = "deseq2_vst"
    cfg["scoring"]["methods"] = ["ssgsea", "zscore"]
    # GSE1992 records ER status as er_positive (0/1) and no relapse site: configured per cohort, as the README says
    cfg["associate"]["cohorts"] = {"gse1992": {"covariates": ["er_positive"]}}
    cfg["survival"]["cohorts"] = {"gse1992": {"covariates": ["er_positive", "age"], "relapse_site": {"column": ""}}}
    (wd / "config" / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    run_snakemake(wd)
    return wd


def test_refseq_cohort_maps_the_ss_genes_and_scores_survival(real_run):
    base = real_run / "results" / "vdv"
    mapping = read_tsv(base / "gene_mapping.tsv").set_index("input_id")
    for acc, sym in {"NM_000600": "IL6", "NM_000584": "CXCL8", "NM_003088": "FSCN1", "NM_002421": "MMP1"}.items():
        assert mapping.loc[acc, "symbol"] == sym and mapping.loc[acc, "status"] == "mapped"
    assert (mapping["status"] == "mapped").sum() == 2411
    cov = read_tsv(base / "coverage.tsv").set_index("signature")
    assert cov.loc["SS", "n_present"] == 4
    surv = read_tsv(base / "survival.tsv")
    fitted = surv[surv["n"] > 0]
    assert (
        set(fitted["method"]) == {"ssgsea", "zscore"} and (fitted["n"] == 78).all() and (fitted["events"] == 34).all()
    )
    assert set(fitted.query("method == 'ssgsea'")["signature"]) >= {"SS", "SS_attraction", "SS_infiltration"}
    import anndata as ad

    a = ad.read_h5ad(base / "expression.h5ad")
    assert a.uns["normalization"]["method"] == "none"
    raw = pd.read_csv(shared_file("vdv_vantveer2002_78_randomforestsrc", "expression.tsv.gz"), sep="\t", index_col=0)
    np.testing.assert_allclose(
        a[:, "IL6"].X.ravel(), raw.loc["NM_000600"].to_numpy()
    )  # a logged matrix reaches scoring unchanged


def test_probe_intensity_cohort_is_logged_and_quantile_normalized(real_run):
    import anndata as ad

    base = real_run / "results" / "gds507"
    a = ad.read_h5ad(base / "expression.h5ad")
    assert a.uns["normalization"]["method"] == "log2+quantile"
    x = np.asarray(a.X)
    # quantile normalization: every sample has the same distribution (up to limma's averaging of tied values)
    srt = np.sort(x, axis=1)
    spread = np.abs(srt - srt.mean(axis=0)).mean(axis=1)
    assert spread.max() < 0.01 and x.min() > 0 and x.max() < 20
    mapping = read_tsv(base / "gene_mapping.tsv")
    assert len(mapping) == 5000 and set(mapping["status"]) <= {"mapped", "unmapped", "ambiguous"}
    assert (mapping["status"] == "mapped").sum() > 2000
    side = json.loads((base / "gene_mapping.json").read_text())
    assert side["parameters"]["platform_annotation"].endswith("GPL97.annot.gz")


def test_counts_cohort_through_deseq2_vst_with_filtering(real_run):
    import anndata as ad

    base = real_run / "results" / "airway"
    a = ad.read_h5ad(base / "expression.h5ad")
    norm = a.uns["normalization"]
    assert norm["method"] == "deseq2_vst" and json.loads(norm["vst"])["fit_type"] == "parametric"
    assert json.loads(norm["filter"])["n_kept"] == a.n_vars
    assert "size_factor" in a.obs and np.isfinite(a.obs["size_factor"]).all()
    qc = read_tsv(base / "signature_qc.tsv").set_index("signature")
    assert {"filtered_genes", "not_expressed_genes"} <= set(qc.columns)
    cov = read_tsv(base / "coverage.tsv").set_index("signature")
    # airway (airway smooth muscle cells): IL6 and CXCL8 pass the filter; whatever a filter removed is named
    assert "IL6" in cov.loc["SS", "present_genes"]
    filtered = set(np.asarray(norm["filtered_genes"]).tolist())
    for sig, row in cov.iterrows():
        named = set(str(row["filtered_genes"]).split(";")) - {"nan", ""}
        assert named <= filtered
    surv = read_tsv(base / "survival.tsv")
    assert surv.empty  # no clinical data: the model is skipped, not an error


def test_gse1992_rfs_association_survival_and_meta(real_run):
    base = real_run / "results" / "gse1992"
    surv = read_tsv(base / "survival.tsv")
    uni = surv[(surv.method == "zscore") & (surv.signature == "SS") & (surv.model == "univariate")].iloc[0]
    # the pipeline's SS z-score Cox model on RFS equals R's coxph on the same score (tests/golden/survival)
    gold = pd.read_csv(GOLDEN / "survival" / "coxph.tsv", sep="\t", index_col=0).loc["gse1992_ss"]
    assert uni["endpoint"] == "time/event" and uni["n"] == gold["n"] and uni["events"] == gold["events"]
    for ours, theirs in (("hr_per_sd", "hr"), ("ci_low", "ci_low"), ("ci_high", "ci_high"), ("p", "p")):
        assert uni[ours] == pytest.approx(gold[theirs], rel=1e-6), ours
    assert 0 <= uni["p_random_null"] <= 1 and 0.3 < uni["concordance"] < 0.8 and 0 <= uni["ph_p"] <= 1
    adj = surv[(surv.method == "zscore") & (surv.signature == "SS") & (surv.model == "adjusted")].iloc[0]
    # er_positive is 'missing' for 2 samples: read as NA (not a third ER category), so the model has 122 complete cases
    # as R's
    gold_adj = pd.read_csv(GOLDEN / "survival" / "coxph_models.tsv", sep="\t", index_col=0).loc["gse1992_ss_adjusted"]
    assert (
        adj["covariates"] == "er_positive;age"
        and adj["n"] == gold_adj["n"] == 122
        and adj["events"] == gold_adj["events"]
    )
    for ours, theirs in (
        ("hr_per_sd", "hr"),
        ("ci_low", "ci_low"),
        ("ci_high", "ci_high"),
        ("p", "p"),
        ("concordance", "concordance"),
    ):
        assert adj[ours] == pytest.approx(gold_adj[theirs], rel=1e-6), ours
    assert not surv["endpoint"].str.startswith("relapse:").any()
    corr = read_tsv(base / "correlations.tsv")
    assert set(corr["covariates"].dropna()) == {"meta_pcna;er_positive"}
    assert corr["p_random_null"].notna().all() and corr["r"].notna().all()
    assert len(read_tsv(base / "km.tsv")) > 0 and len(read_tsv(base / "logrank.tsv")) == 2 * 3
    # meta-analysis: vdv and gse1992 both have the primary endpoint; correlations from every scored cohort
    meta = read_tsv(real_run / "results" / "meta" / "survival.tsv")
    m = meta[
        (meta.method == "zscore")
        & (meta.signature == "SS")
        & (meta.endpoint == "primary")
        & (meta.model == "univariate")
    ].set_index("pooling")
    assert (
        set(m.index) == {"random_dl", "random_pm", "fixed"}
        and (m["k"] == 2).all()
        and m.loc["fixed", "cohorts"] == "gse1992;vdv"
    )
    assert m.loc["random_dl", "ci_low"] <= m.loc["random_dl", "estimate"] <= m.loc["random_dl", "ci_high"]
    mc = read_tsv(real_run / "results" / "meta" / "correlations.tsv")
    lms = mc[
        (mc.method == "zscore") & (mc.signature_a == "SS") & (mc.signature_b == "LMS") & (mc.statistic == "spearman")
    ].set_index("pooling")
    assert lms.loc["random_dl", "k"] >= 2 and np.isfinite(lms.loc["random_dl", "i2"])
    html = (real_run / "results" / "report.html").read_text()
    assert "Across cohorts" in html and "pooled across cohorts" in html
