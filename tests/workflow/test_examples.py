"""Every configuration in config/examples/ runs as a user would run it: `snakemake --configfile
config/examples/<name>.yaml`, with the files its comments name (from ../shared) and, for the GEO accession,
GEO served from a local HTTP server (the config's base URLs pointed at it), including a server that fails."""

import gzip
import json
import shutil

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO, new_workdir, read_tsv, run_snakemake, shared_file
from helpers.geo_server import GSE201926_MATRIX, default_routes, serve_geo

pytestmark = pytest.mark.slow

# smaller nulls than the defaults, so the four runs stay within a few minutes (same code paths)
FAST = {
    "associate": {"n_random": 199, "n_bootstrap": 199, "prerank": {"permutations": 100}},
    "survival": {"n_random": 199},
}


def run_example(wd, name, *extra, check=True, overrides=None):
    fast = wd / "fast.yaml"
    fast.write_text(yaml.safe_dump({**FAST, **(overrides or {})}))
    return run_snakemake(wd, "--configfile", f"config/examples/{name}.yaml", str(fast), *extra, check=check)


def cache_files(cache):
    return sorted(p.relative_to(cache).as_posix() for p in cache.rglob("*") if p.is_file()) if cache.exists() else []


@pytest.fixture(scope="module")
def geo_example(tmp_path_factory):
    with serve_geo(default_routes()) as server:
        wd = new_workdir(tmp_path_factory.mktemp("geo_example"))
        cache = wd / "geo_cache"
        over = {
            "geo": {
                "cache": str(cache),
                "base_url": server.geo_base,
                "download_url": server.download_base,
                "retries": 2,
                "timeout": 5,
            }
        }
        run_example(wd, "geo_accession", overrides=over)
        first = server.total_requests()
        # offline from the cache: results removed, network forbidden, same outputs
        shutil.move(wd / "results", wd / "results_online")
        run_example(wd, "geo_accession", overrides={"geo": {**over["geo"], "offline": True}})
        yield wd, cache, server, first


def test_geo_accession_downloads_into_the_cache_and_runs(geo_example):
    wd, cache, server, first = geo_example
    files = cache_files(cache)
    assert "series/GSE201nnn/GSE201926/matrix/GSE201926_series_matrix.txt.gz" in files
    assert "download/GSE201926/GSE201926_raw_counts_GRCh38.p13_NCBI.tsv.gz" in files
    assert all(f + ".sha256" in files for f in files if not f.endswith(".sha256"))
    assert not [f for f in files if f.endswith((".part", ".lock"))]
    src = shared_file("gse201926_endometrial_rnaseq_ncbi_counts_tpm", "gse201926_series_matrix.txt.gz")
    assert (cache / "series/GSE201nnn/GSE201926/matrix/GSE201926_series_matrix.txt.gz").read_bytes() == src.read_bytes()
    import anndata as ad

    a = ad.read_h5ad(wd / "results" / "gse201926" / "expression.h5ad")
    assert a.n_obs == 12 and a["GSM6081174", "CXCL8"].layers["counts"].item() == 1965
    clin = read_tsv(wd / "results" / "gse201926" / "clinical.tsv").set_index("sample")
    assert clin.loc["GSM6081173", "age"] == 26
    corr = read_tsv(wd / "results" / "gse201926" / "correlations.tsv")
    assert set(corr["covariates"].dropna()) == {"meta_pcna;age"}
    # endometrial lesions: the low-expression filter removes IL6 and MMP1 (coverage.tsv names them); SS keeps 2 of 4
    cov = read_tsv(wd / "results" / "gse201926" / "coverage.tsv").set_index("signature")
    assert cov.loc["SS", "n_present"] == 2 and "IL6" in cov.loc["SS_attraction", "reason"]
    ss_lms = corr[(corr.signature_a == "SS") & (corr.signature_b == "LMS")]
    assert len(ss_lms) and ss_lms["r"].notna().all() and ss_lms["p_random_null"].notna().all()
    side = json.loads((wd / "results" / "gse201926" / "gene_mapping.json").read_text())
    assert any("GSE201926_raw_counts" in i for i in side["inputs"])


def test_geo_accession_offline_rerun_uses_only_the_cache(geo_example):
    wd, cache, server, first = geo_example
    assert server.total_requests() == first  # the offline run made no request
    a = read_tsv(wd / "results_online" / "gse201926" / "scores" / "ssgsea.tsv")
    b = read_tsv(wd / "results" / "gse201926" / "scores" / "ssgsea.tsv")
    pd.testing.assert_frame_equal(a, b)


def test_geo_accession_server_failure_leaves_nothing(tmp_path):
    with serve_geo(default_routes()) as server:
        server.fault(GSE201926_MATRIX, always500=True)
        wd = new_workdir(tmp_path)
        cache = wd / "geo_cache"
        over = {
            "geo": {
                "cache": str(cache),
                "base_url": server.geo_base,
                "download_url": server.download_base,
                "retries": 1,
                "timeout": 5,
            }
        }
        proc = run_example(wd, "geo_accession", check=False, overrides=over)
        out = proc.stdout + proc.stderr
        assert proc.returncode != 0
        assert "GSE201926_series_matrix.txt.gz" in out and "500" in out and "Traceback" not in out
        assert server.count(GSE201926_MATRIX) == 2  # first attempt + 1 retry
        assert cache_files(cache) == []
        results = wd / "results"
        left = [p for p in results.rglob("*") if p.is_file() and "logs" not in p.parts] if results.exists() else []
        assert left == []


def test_counts_ensembl_example_harmonizes_days_words_and_sites(tmp_path):
    wd = new_workdir(tmp_path)
    data = wd / "data"
    data.mkdir()
    counts = pd.read_csv(shared_file("airway_rnaseq_counts", "airway_counts.tsv.gz"), sep="\t", index_col=0)
    nf = counts.copy()
    nf.insert(0, "gene_name", [f"name{i}" for i in range(len(nf))])  # nf-core layout: gene_id, gene_name, samples
    nf.index.name = "gene_id"
    nf.to_csv(data / "salmon.merged.gene_counts.tsv", sep="\t")
    samples = list(counts.columns)
    clin = pd.DataFrame(
        {
            "sample": samples,
            "dmfs_days": [3650, 400, 1200, 2900, 95, 800, 3000, 1500],
            "dmfs_status": [
                "no relapse",
                "relapse",
                "distant relapse",
                "disease free",
                "Relapse",
                "relapse",
                "No",
                "yes",
            ],
            "site_of_relapse": ["", "Lung", "pleura", "", "CNS", "adrenal", "", "hepatic"],
            "er_status": ["positive", "negative"] * 4,
        }
    )
    clin.to_csv(data / "clinical.tsv", sep="\t", index=False)
    run_example(wd, "counts_ensembl")
    out = read_tsv(wd / "results" / "my_rnaseq" / "clinical.tsv").set_index("sample").loc[samples]
    np.testing.assert_allclose(out["dmfs_days"], np.array([3650, 400, 1200, 2900, 95, 800, 3000, 1500]) * 12 / 365.25)
    assert out["dmfs_status"].tolist() == [0, 1, 1, 0, 1, 1, 0, 1]
    assert out["site_of_relapse"].fillna("").tolist() == ["", "lung", "lung", "", "brain", "other", "", "liver"]
    side = json.loads((wd / "results" / "my_rnaseq" / "clinical.json").read_text())
    assert side["harmonization"]["columns"]["dmfs_days"]["unit"] == "days"
    surv = read_tsv(wd / "results" / "my_rnaseq" / "survival.tsv")
    primary = surv[(surv["n"] > 0) & (surv["endpoint"] == "dmfs_days/dmfs_status")]
    assert len(primary) and set(primary["events"]) == {5}
    assert 2 in set(surv.loc[surv["endpoint"] == "relapse:lung", "events"])  # Lung + pleura
    import anndata as ad

    a = ad.read_h5ad(wd / "results" / "my_rnaseq" / "expression.h5ad")
    assert a.n_obs == 8 and "IL6" in a.var_names  # the gene_name column is not a sample

    # a site the mapping does not know: one message listing it, nothing left behind
    clin.loc[1, "site_of_relapse"] = "left flank"
    clin.to_csv(data / "clinical.tsv", sep="\t", index=False)
    shutil.rmtree(wd / "results")
    proc = run_example(wd, "counts_ensembl", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "left flank" in out and "clinical.site_terms" in out and "Traceback" not in out
    left = [p for p in (wd / "results").rglob("*") if p.is_file() and "logs" not in p.parts]
    assert left == []


def test_microarray_probe_example(tmp_path):
    wd = new_workdir(tmp_path)
    data = wd / "data"
    data.mkdir()
    geo = "geo_geoquery_extdata_gse781_gds507"
    (data / "GSE781_family.soft.gz").symlink_to(shared_file(geo, "GSE781_family.soft.gz"))
    (data / "GPL96_annotation.tsv.gz").symlink_to(shared_file(geo, "GPL96_annotation_from_GSE781_family.tsv.gz"))
    run_example(wd, "microarray_probe")
    base = wd / "results" / "gse781_u133a"
    mapping = read_tsv(base / "gene_mapping.tsv").set_index("input_id")
    assert len(mapping) == 22283 and mapping.loc["202859_x_at", "symbol"] == "CXCL8"
    import anndata as ad

    a = ad.read_h5ad(base / "expression.h5ad")
    assert a.n_obs == 17 and a.uns["normalization"]["method"] == "log2+quantile"
    assert read_tsv(base / "coverage.tsv").set_index("signature").loc["SS", "n_present"] == 4
    with gzip.open(data / "GSE781_family.soft.gz", "rt") as fh:  # the input was read in place, not modified
        assert fh.readline().startswith("^DATABASE")


def test_single_cell_example_pseudobulk_and_cell_scores(tmp_path):
    wd = new_workdir(tmp_path)
    run_example(wd, "single_cell")
    import anndata as ad

    cells = ad.read_h5ad(wd / "resources" / "example" / "single_cell.h5ad")
    bulk = ad.read_h5ad(wd / "results" / "sc_example" / "expression.h5ad")
    n_samples = cells.obs["sample"].nunique()
    assert (
        bulk.n_obs == n_samples
        and (bulk.obs["n_cells"] == cells.obs["sample"].value_counts().reindex(bulk.obs_names)).all()
    )
    # pseudobulk = the per-sample sum of the raw counts
    gene = "IL6"
    col = list(cells.var_names).index(gene)
    x = (
        cells.layers["counts"][:, col].toarray().ravel()
        if hasattr(cells.layers["counts"], "toarray")
        else np.asarray(cells.layers["counts"])[:, col]
    )
    sums = pd.Series(x, index=cells.obs_names).groupby(cells.obs["sample"].astype(str).to_numpy()).sum()
    np.testing.assert_array_equal(bulk[:, gene].layers["counts"].ravel(), sums.reindex(bulk.obs_names).to_numpy())
    for m in ("ssgsea", "zscore"):
        cs = pd.read_csv(wd / "results" / "sc_example" / "cell_scores" / f"{m}.tsv.gz", sep="\t")
        assert len(cs) == cells.n_obs and list(cs.columns[:2]) == ["cell", "sample"] and cs["SS"].notna().all()
    corr = read_tsv(wd / "results" / "sc_example" / "correlations.tsv")
    assert corr["r"].notna().any() and (corr["n"] == n_samples).all()
    assert (REPO / "config" / "examples" / "single_cell.tsv").read_text().count(
        "resources/example/single_cell.h5ad"
    ) == 1
