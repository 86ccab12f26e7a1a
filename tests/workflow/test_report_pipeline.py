"""The report of real pipeline runs: summary tables equal the TSVs, figures written and embedded, the null histograms
from the associate stage, why sections are absent, Snakemake's report zip."""

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import new_workdir, run_snakemake
from helpers.report_html import check_cell, check_figures, check_standalone, parse

from seedsig.report.text import fmt_p, fmt_p_null, fmt_r

pytestmark = pytest.mark.slow


# ------------------------------------------------------------------------------------------- end to end
LOWCOV = "signature\tgene\tdirection\tweight\torgan\tcomplete\tcitation\toriginal_symbol\n" + "".join(
    f"LOWCOV\t{g}\tup\t\tlung\ttrue\tA test list whose genes are mostly absent\t{g}\n"
    for g in ("IL6", "NOTAGENE1", "NOTAGENE2", "NOTAGENE3")
)


def _workdir(tmp: Path, rows: list[str]) -> Path:
    wd = new_workdir(tmp)
    (wd / "config" / "signatures" / "lowcov.tsv").write_text(LOWCOV)
    header = "cohort\texpression\tdata_type\tgene_id\tclinical\ttime\tevent\n"
    (wd / "config" / "test_cohorts.tsv").write_text(header + "".join(r + "\n" for r in rows))
    cfg = yaml.safe_load((wd / "config" / "config.yaml").read_text())
    cfg["cohorts"] = "config/test_cohorts.tsv"
    cfg["signatures"]["files"] = [
        "config/signatures/self_seeding.tsv",
        "config/signatures/organ_metastasis.tsv",
        "config/signatures/lowcov.tsv",
    ]
    cfg["signatures"]["targets"] = ["LMS", "BoMS", "BrMS", "LOWCOV"]
    cfg["scoring"]["methods"] = ["ssgsea"]
    cfg["associate"].update(n_random=200, n_bootstrap=200)
    cfg["associate"]["prerank"]["permutations"] = 100
    cfg["survival"]["n_random"] = 100
    (wd / "config" / "test.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    return wd


EXAMPLE_ROW = (
    "example\tresources/example/counts.tsv.gz\tcounts\tsymbol\tresources/example/clinical.tsv\tmfs_months\tmfs_event"
)


NOSURV_ROW = "nosurv\tresources/example/counts.tsv.gz\tcounts\tsymbol\t\t\t"


@pytest.fixture(scope="module")
def two_cohort_run(tmp_path_factory):
    wd = _workdir(tmp_path_factory.mktemp("report_two"), [EXAMPLE_ROW, NOSURV_ROW])
    run_snakemake(wd, "--configfile", str(wd / "config" / "test.yaml"))
    return wd


@pytest.fixture(scope="module")
def one_cohort_run(two_cohort_run, tmp_path_factory):
    """The same workdir with the sheet reduced to one cohort: only meta and report run again."""
    wd = tmp_path_factory.mktemp("report_one") / "wd"
    shutil.copytree(two_cohort_run, wd, symlinks=True)
    (wd / "config" / "test_cohorts.tsv").write_text(
        "cohort\texpression\tdata_type\tgene_id\tclinical\ttime\tevent\n" + EXAMPLE_ROW + "\n"
    )
    proc = run_snakemake(wd, "--configfile", str(wd / "config" / "test.yaml"))
    return wd, proc


def test_e2e_summary_tables_equal_the_tsvs(two_cohort_run):
    wd = two_cohort_run
    html = (wd / "results" / "report.html").read_text()
    check_standalone(html)
    p = parse(html)
    cfg = yaml.safe_load(
        (wd / "config" / "test.yaml").read_text()
    )  # p_random_null at its floor 1/(B + 1) is shown as '< bound'
    fmt_null_corr, fmt_null_surv = (
        lambda v, b=cfg[k]["n_random"]: fmt_p_null(v, b, with_b=False) for k in ("associate", "survival")
    )
    rows = {
        tuple(
            r["attrs"][k]
            for k in ("data-cohort", "data-method", "data-signature-a", "data-signature-b", "data-statistic")
        ): r["cells"]
        for r in p.rows["summary-correlations"]
    }
    n = 0
    for cohort in ("example", "nosurv"):
        for r in pd.read_csv(wd / "results" / cohort / "correlations.tsv", sep="\t").to_dict("records"):
            cells = rows[(cohort, r["method"], r["signature_a"], r["signature_b"], r["statistic"])]
            for col in ("r", "ci_low", "ci_high", "r_without_shared"):
                check_cell(cells, col, r[col], fmt_r)
            check_cell(cells, "p_random_null", r["p_random_null"], fmt_null_corr)
            n += 1
    meta = pd.read_csv(wd / "results" / "meta" / "correlations.tsv", sep="\t")
    for r in meta[(meta["pooling"] == "random_dl") & (meta["k"] >= 2)].to_dict(
        "records"
    ):  # k < 2: nothing pooled, not shown
        cells = rows[("pooled", r["method"], r["signature_a"], r["signature_b"], r["statistic"])]
        check_cell(cells, "r", r["estimate"], fmt_r)
        check_cell(cells, "ci_low", r["ci_low"], fmt_r)
        check_cell(cells, "ci_high", r["ci_high"], fmt_r)
        assert cells["p_random_null"][0] == "" and cells["r_without_shared"][0] == ""
        n += 1
    assert len(rows) == n and any(k[0] == "pooled" for k in rows)
    srows = {
        tuple(
            r["attrs"][k] for k in ("data-cohort", "data-method", "data-signature", "data-endpoint", "data-model")
        ): r["cells"]
        for r in p.rows["summary-survival"]
    }
    surv = pd.read_csv(wd / "results" / "example" / "survival.tsv", sep="\t")
    surv = surv[surv["signature"].isin(["SS", "SS_attraction", "SS_infiltration"])]
    assert len(surv)
    for r in surv.to_dict("records"):
        cells = srows[("example", r["method"], r["signature"], r["endpoint"], r["model"])]
        for col in ("hr_per_sd", "ci_low", "ci_high"):
            check_cell(cells, col, r[col], fmt_r)
        check_cell(cells, "p", r["p"], fmt_p)
        check_cell(cells, "p_random_null", r["p_random_null"], fmt_null_surv)
        assert cells["events"][0] == str(int(r["events"]))
    ms = pd.read_csv(wd / "results" / "meta" / "survival.tsv", sep="\t")
    for r in ms[
        (ms["pooling"] == "random_dl")
        & (ms["k"] >= 2)
        & ms["signature"].isin(["SS", "SS_attraction", "SS_infiltration"])
    ].to_dict("records"):
        check_cell(
            srows[("pooled", r["method"], r["signature"], r["endpoint"], r["model"])], "hr_per_sd", r["estimate"], fmt_r
        )  # HR scale, as the meta table gives it
    assert not any(k[0] == "nosurv" for k in srows)


def test_e2e_figures_written_and_embedded(two_cohort_run):
    wd = two_cohort_run
    html = (wd / "results" / "report.html").read_text()
    figdir = wd / "results" / "figures"
    embedded = {f.relative_to(figdir).as_posix() for f in check_figures(html, figdir)}
    written = {f.relative_to(figdir).as_posix(): f.read_text() for f in figdir.rglob("*.svg")}
    placeholders = {n for n, svg in written.items() if "not drawn: " in svg}
    # every figure drawn is shown; a declared figure the data do not allow is a placeholder, never shown
    assert embedded == set(written) - placeholders
    assert "example/scatter_null_ssgsea_SS_LOWCOV.svg" in placeholders  # LOWCOV is not scored
    assert "not drawn: LOWCOV is not scored in this cohort" in written["example/scatter_null_ssgsea_SS_LOWCOV.svg"]
    for name in (
        "summary_heatmap.svg",
        "example/library_size.svg",
        "example/expression_density.svg",
        "example/score_distribution_ssgsea.svg",
        "example/scatter_null_ssgsea_SS_LMS.svg",
        "example/prerank_ssgsea_SS_LMS_up.svg",
        "example/km_ssgsea_SS_mfs_months-mfs_event.svg",
        "example/cif_ssgsea_SS_mfs_months-mfs_event.svg",
        "meta/forest_r_ssgsea_SS_LMS.svg",
        "nosurv/scatter_null_ssgsea_SS_LMS.svg",
    ):
        assert name in embedded, name
    assert not any(n.startswith("nosurv/km_") for n in embedded)


def test_e2e_null_equals_the_associate_stage(two_cohort_run):
    """The report's null histograms are the associate step's saved draws (null_correlations.tsv.gz, read by
    report.load.saved_null, never recomputed): B draws per tested row, whose (b + 1) / (B + 1) is the row's
    p_random_null."""
    from seedsig.core.stats import empirical_null_p
    from seedsig.report.load import saved_null

    wd = two_cohort_run
    cfg = yaml.safe_load((wd / "config" / "test.yaml").read_text())
    corr = pd.read_csv(wd / "results" / "example" / "correlations.tsv", sep="\t")
    null = pd.read_csv(wd / "results" / "example" / "null_correlations.tsv.gz", sep="\t")
    checked = 0
    for r in corr[(corr["signature_a"] == "SS") & corr["p_random_null"].notna()].to_dict("records"):
        rn = saved_null(null, r["method"], "SS", r["signature_b"], r["statistic"])
        assert rn.size == cfg["associate"]["n_random"]
        assert float(f"{empirical_null_p(r['r'], rn):.10g}") == r["p_random_null"], r
        checked += 1
    assert checked >= 4


def test_e2e_says_why_sections_are_absent(two_cohort_run, one_cohort_run):
    html = (two_cohort_run / "results" / "report.html").read_text()
    for sid in (
        "summary",
        "qc",
        "scores",
        "outcome",
        "meta",
        "tables",
        "methods",
        "summary-correlations",
        "summary-survival",
        "methods-paragraph",
        "references",
        "input-checksums",
        "config-yaml",
    ):
        assert f'id="{sid}"' in html, sid
    assert (
        "No survival analysis for cohort nosurv: no time/event columns in the cohort sheet for cohort nosurv." in html
    )
    assert "LOWCOV is not scored in cohort example:" in html and "Missing genes: NOTAGENE1,NOTAGENE2,NOTAGENE3." in html
    assert "No scatter plot of SS vs LOWCOV in cohort example: LOWCOV is not scored in this cohort" in html
    assert "Partial signature lists" in html and "pooling needs at least two cohorts" not in html
    for ref in (
        "Barbie DA",
        "Hänzelmann S",
        "Robinson MD, Oshlack A",
        "Venet D",
        "Benjamini Y",
        "Cox DR",
        "DerSimonian R",
        "Aalen OO",
        "Subramanian A",
        "Kim MY et al. (2009)",
        "Minn AJ et al. (2005)",
    ):
        assert ref in html, ref
    for path in (
        "resources/example/counts.tsv.gz",
        "config/signatures/lowcov.tsv",
        str(two_cohort_run / "config" / "test.yaml"),
    ):
        assert re.search(
            re.escape(f"<code>{path}</code>") + r"</td><td class=\"num\">\d+</td><td><code>[0-9a-f]{64}</code>", html
        ), path
    wd1, proc = one_cohort_run
    one = (wd1 / "results" / "report.html").read_text()
    check_standalone(one)
    assert "No meta-analysis: pooling needs at least two cohorts; this run has one (example)." in one
    assert not any(r["attrs"]["data-cohort"] == "pooled" for r in parse(one).rows["summary-correlations"])
    embedded = check_figures(one, wd1 / "results" / "figures")
    # a run of one cohort pools nothing: no forest plot is declared, drawn or shown (those of the two-cohort run, and
    # the removed cohort's files, are left over)
    assert embedded and not [f for f in embedded if "forest_" in f.name]
    proc = run_snakemake(wd1, "--configfile", str(wd1 / "config" / "test.yaml"), "--list-untracked")
    listed = [ln.strip() for ln in (proc.stdout + proc.stderr).splitlines() if ln.strip().startswith("results/")]
    assert all(ln.startswith("results/figures/meta/forest_") or "nosurv" in ln for ln in listed), listed
    # figures are reproducible: the same cohort drawn in two runs gives the same files
    for name in (
        "example/km_ssgsea_SS_mfs_months-mfs_event",
        "example/scatter_null_ssgsea_SS_LMS",
        "example/expression_density",
    ):
        for ext in (".svg", ".pdf"):
            assert (wd1 / "results" / "figures" / (name + ext)).read_bytes() == (
                two_cohort_run / "results" / "figures" / (name + ext)
            ).read_bytes(), name + ext


def test_e2e_snakemake_report_zip_has_the_figures(two_cohort_run):
    import zipfile

    wd = two_cohort_run
    run_snakemake(wd, "--configfile", str(wd / "config" / "test.yaml"), "--report", str(wd / "report.zip"))
    names = zipfile.ZipFile(wd / "report.zip").namelist()
    assert any(n.endswith("summary_heatmap.svg") for n in names)
    assert any(n.endswith("/km_ssgsea_SS_mfs_months-mfs_event.svg") for n in names)
    assert any(n.endswith("report.html") for n in names)
    # each figure registered one by one, labelled by its name under results/figures/
    index = zipfile.ZipFile(wd / "report.zip").read("report/report.html").decode()
    assert "example/km_ssgsea_SS_mfs_months-mfs_event" in index
