"""Real GEO files through the pipeline from a sheet a user would write: a family SOFT of two platforms (GSE781,
GPL96 samples, its own platform table), a GEO DataSet SOFT (GDS507) with a GPL .annot file, an RNA-seq series
(GSE201926: NCBI-generated counts + the series matrix as the clinical table) and GSE2034 (probe subset annotated by
the GPL570 map, GEO's supplementary clinical table with '#' header lines and the patient id in its first column)."""

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import new_workdir, read_tsv, run_snakemake, shared_file

pytestmark = pytest.mark.slow

GEO = "geo_geoquery_extdata_gse781_gds507"
RNA = "gse201926_endometrial_rnaseq_ncbi_counts_tpm"
EMC = "gse2034_emc_wang2005"


@pytest.fixture(scope="module")
def geo_run(tmp_path_factory):
    wd = new_workdir(tmp_path_factory.mktemp("geo"))
    rows = [
        {
            "cohort": "gse781",
            "expression": str(shared_file(GEO, "GSE781_family.soft.gz")),
            "platform": "GPL96",
            "data_type": "intensity",
            "gene_id": "probe",
        },
        {
            "cohort": "gds507",
            "expression": str(shared_file(GEO, "GDS507.soft.gz")),
            "data_type": "intensity",
            "gene_id": "probe",
            "platform_annotation": str(shared_file(GEO, "GPL97.annot.gz")),
        },
        {
            "cohort": "gse201926",
            "expression": str(shared_file(RNA, "gse201926_raw_counts.tsv.gz")),
            "data_type": "counts",
            "gene_id": "entrez",
            "clinical": str(shared_file(RNA, "gse201926_series_matrix.txt.gz")),
        },
        {
            "cohort": "gse2034",
            "expression": str(shared_file(EMC, "gse2034_552probe_subset_springer-surv.tsv.gz")),
            "data_type": "log_expression",
            "gene_id": "probe",
            "platform_annotation": str(shared_file("gpl570_probe_symbol_entrez_map", "GPL570.map.tsv.gz")),
            "clinical": str(shared_file(EMC, "GSE2034_Clinical.txt")),
            "time": "time to relapse or last follow-up (months)",
            "event": "relapse (1=True)",
        },
    ]
    pd.DataFrame(rows).fillna("").to_csv(wd / "config" / "geo.tsv", sep="\t", index=False)
    cfg = {
        "cohorts": "config/geo.tsv",
        "scoring": {"methods": ["zscore"]},
        "associate": {
            "covariates": [],
            "n_random": 200,
            "n_bootstrap": 200,
            "prerank": {"permutations": 100},
            "cohorts": {"gse2034": {"covariates": ["ER Status"]}},
        },
        "survival": {"covariates": [], "n_random": 200, "relapse_site": {"column": ""}},
        "report": {"primary_method": "zscore"},
    }
    (wd / "config" / "geo.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    run_snakemake(wd, "--configfile", str(wd / "config" / "geo.yaml"))
    return wd / "results"


def test_family_soft_platform_samples_and_embedded_annotation(geo_run):
    import anndata as ad

    a = ad.read_h5ad(geo_run / "gse781" / "expression.h5ad")
    assert a.n_obs == 17 and a.uns["normalization"]["method"] == "log2+quantile"
    mapping = read_tsv(geo_run / "gse781" / "gene_mapping.tsv").set_index("input_id")
    # GPL96's 2009 table says IL8; resolved to the current symbol through HGNC
    assert mapping.loc["202859_x_at", "symbol"] == "CXCL8" and mapping.loc["205207_at", "symbol"] == "IL6"
    assert len(mapping) == 22283
    cov = read_tsv(geo_run / "gse781" / "coverage.tsv").set_index("signature")
    assert cov.loc["SS", "n_present"] == 4
    clin = read_tsv(geo_run / "gse781" / "clinical.tsv").set_index("sample")
    assert len(clin) == 17 and "Age" in clin.columns and pd.api.types.is_numeric_dtype(clin["Age"])
    side = json.loads((geo_run / "gse781" / "gene_mapping.json").read_text())
    assert any("GSE781_family.soft.gz" in i for i in side["inputs"])


def test_gds_subsets_become_clinical_columns(geo_run):
    clin = read_tsv(geo_run / "gds507" / "clinical.tsv").set_index("sample")
    assert len(clin) == 17
    assert clin["disease state"].value_counts().to_dict() == {"RCC": 9, "normal": 8}
    mapping = read_tsv(geo_run / "gds507" / "gene_mapping.tsv")
    assert len(mapping) == 22645 and (mapping["status"] == "mapped").sum() > 5000


def test_rnaseq_series_counts_with_series_matrix_characteristics(geo_run):
    import anndata as ad

    a = ad.read_h5ad(geo_run / "gse201926" / "expression.h5ad")
    assert a.n_obs == 12
    assert a["GSM6081174", "CXCL8"].layers["counts"].item() == 1965
    clin = read_tsv(geo_run / "gse201926" / "clinical.tsv").set_index("sample")
    assert clin.loc["GSM6081173", "age"] == 26 and clin.loc["GSM6081173", "phenotype"] == "progestin insensitivity"
    assert (clin["phenotype"] == "progestin sensitivity").sum() == 6
    assert read_tsv(geo_run / "gse201926" / "survival.tsv").empty  # no endpoint: noted, not an error


def test_gse2034_supplementary_clinical_table_and_survival(geo_run):
    clin = read_tsv(geo_run / "gse2034" / "clinical.tsv").set_index("sample")
    # the table's first column is the patient id; the GSM column is recognised as the sample id
    assert len(clin) == 286 and clin.loc["GSM36793", "PID"] == 3
    assert (
        clin["relapse (1=True)"].sum() == 107
        and clin.loc["GSM36793", "time to relapse or last follow-up (months)"] == 101
    )
    cov = read_tsv(geo_run / "gse2034" / "coverage.tsv").set_index("signature")
    assert cov.loc["SS", "n_present"] == 1 and not cov.loc["SS", "scored"]  # only MMP1 among the 552 probes
    # 552 probes: no signature reaches the coverage threshold, so every Cox row says why instead of a number
    surv = read_tsv(geo_run / "gse2034" / "survival.tsv")
    assert len(surv) and surv["hr_per_sd"].isna().all() and surv["note"].str.contains("score not available").all()
    assert set(surv["endpoint"]) == {"time to relapse or last follow-up (months)/relapse (1=True)"}
    corr = read_tsv(geo_run / "gse2034" / "correlations.tsv")
    assert set(corr["covariates"].dropna()) <= {"meta_pcna;ER Status", "meta_pcna"}
    html = (geo_run / "report.html").read_text()
    for c in ("gse781", "gds507", "gse201926", "gse2034"):
        assert c in html
    assert np.isfinite(read_tsv(geo_run / "meta" / "correlations.tsv")["estimate"]).any()
