"""The report tells the truth about cohorts it cannot score (issue 14, item 5, and the report's side of item 1):
a focal signature that is not scored opens its cohort's summary box with '{signature} cannot be scored in
{cohort}: ...'; thin cohorts (below associate.min_samples / survival.min_samples) are never counted; the Outcome
section gives the real reason for a missing hazard ratio; pooled rows with nothing pooled are not shown; long
gene lists are cut (the rest behind <details>); p_random_null at its floor reads '< 0.001 (B = 1,000)'; the
endpoint is named, and 'relapse' only for a relapse endpoint; no warning from the report stage.

Fast tests build the report over small hand-written result directories (the formats of the README's Outputs
table); one slow test runs the pipeline on a cohort without the SS genes and a 3-sample cohort."""

import html as htmlmod
import logging
import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers.report_results import (
    BIG,
    FLOOR,
    FOCAL,
    SIGS,
    TARGETS,
    parse,
    report,
    section,
    write_cohort,
)

from seedsig.report.text import data_value, fmt_p_null


def write_meta(root: Path, k_by_target: dict[str, int]) -> Path:
    """results/meta/correlations.tsv and survival.tsv: SS with each target pooled over k cohorts (k = 0: the
    empty rows the meta stage writes when no cohort has an estimate)."""
    m = root / "meta"
    m.mkdir()
    rows = []
    for f in FOCAL:
        for t, k in k_by_target.items():
            for stat in ("spearman", "pearson"):
                for pooling in ("random_dl", "random_pm", "fixed"):
                    est = 0.3 if k >= 2 else np.nan
                    rows.append(
                        dict(
                            method="ssgsea",
                            signature_a=f,
                            signature_b=t,
                            statistic=stat,
                            pooling=pooling,
                            k=k,
                            cohorts="a;b" if k else "",
                            estimate=est,
                            ci_low=est - 0.1,
                            ci_high=est + 0.1,
                            p=0.01 if k >= 2 else np.nan,
                            tau2=0.0,
                            i2=0.0,
                            q=0.1,
                            q_p=0.7,
                            note="" if k else "no cohort has an estimate",
                        )
                    )
    pd.DataFrame(rows).to_csv(m / "correlations.tsv", sep="\t", index=False, na_rep="NA")
    k = min(k_by_target.values())
    srows = [
        dict(
            method="ssgsea",
            signature=f,
            endpoint="primary",
            model="univariate",
            pooling=p,
            k=k,
            cohorts="",
            estimate=1.5 if k >= 2 else np.nan,
            ci_low=1.1 if k >= 2 else np.nan,
            ci_high=2.0 if k >= 2 else np.nan,
            p=0.01 if k >= 2 else np.nan,
            tau2=np.nan,
            i2=np.nan,
            q=np.nan,
            q_p=np.nan,
            note="" if k else "no cohort has an estimate",
        )
        for f in FOCAL
        for p in ("random_dl", "random_pm", "fixed")
    ]
    pd.DataFrame(srows).to_csv(m / "survival.tsv", sep="\t", index=False, na_rep="NA")
    return m


# ------------------------------------------------------------------------------------------- not scored
def test_unscored_focal_opens_the_summary_box(tmp_path):
    write_cohort(tmp_path, "gse7390", 40, unscored=FOCAL)
    write_cohort(tmp_path, "gse2034", 40, seed=1)
    html = report(tmp_path, ["gse7390", "gse2034"])
    boxes = parse(html).boxes
    first = boxes["gse7390"][0]
    assert (
        first
        == "SS cannot be scored in gse7390: none of IL6, CXCL8, MMP1, FSCN1 is measured; needs at least 2 genes and 50%"
        " of the signature (scoring.min_genes, scoring.min_fraction)."
    )
    assert boxes["gse7390"][1].startswith("SS_attraction cannot be scored in gse7390: none of IL6, CXCL8 is measured;")
    text = " ".join(boxes["gse7390"])
    assert "0 of 0" not in html and "correlates positively" not in text
    assert (
        "Not tested: SS cannot be scored in gse7390" in text and "Not analysed: SS cannot be scored in gse7390" in text
    )
    assert "cannot be scored" not in " ".join(boxes["gse2034"])  # a scored cohort opens with its name
    assert boxes["gse2034"][0] == "Cohort gse2034 (40 samples)"
    # the Outcome section gives the real reason (the score), not the missing relapse-site column
    outcome = section(html, "outcome")
    assert (
        "No hazard ratio for cohort gse7390: SS cannot be scored in gse7390: none of IL6, CXCL8, MMP1, FSCN1 is"
        " measured" in outcome
    )
    assert "No hazard ratio for cohort gse7390: relapse-site" not in html


def test_one_gene_signature_is_said(tmp_path):
    write_cohort(tmp_path, "gse3143", 40, one_gene=("SS_attraction",), min_genes=1)
    boxes = parse(report(tmp_path, ["gse3143"])).boxes["gse3143"]
    assert boxes[0].startswith(
        "SS_attraction rests on one gene in gse3143: only IL6 of its 2 genes (IL6, CXCL8) is measured"
        " (scoring.min_genes = 1 allows it)"
    )
    assert boxes[1] == "Cohort gse3143 (40 samples)"


def test_rule_comes_from_the_coverage_sidecar(tmp_path):
    write_cohort(tmp_path, "c1", 40, unscored=FOCAL, min_genes=3)
    first = parse(report(tmp_path, ["c1"])).boxes["c1"][0]
    assert first.endswith(
        "is measured; needs at least 3 genes and 50% of the signature (scoring.min_genes, scoring.min_fraction)."
    )


# ------------------------------------------------------------------------------------------- thin cohorts
@pytest.mark.parametrize("note_column", [True, False], ids=["note", "older-file"])
def test_thin_cohort_is_never_counted(tmp_path, note_column):
    write_cohort(tmp_path, "thin", 3, thin=True, note_column=note_column)
    html = report(tmp_path, ["thin"])
    p = parse(html)
    text = " ".join(p.boxes["thin"])
    assert "Not tested: too few samples (n = 3, fewer than associate.min_samples = 10): no correlation tested." in text
    assert "correlates positively" not in text and "of 3 signatures" not in text
    assert (
        "No hazard ratio for SS on mfs_months/mfs_event: too few samples (n = 3 with a score and follow-up, fewer than"
        " survival.min_samples = 10): no Cox model fitted." in text
    )
    rows = [r for r in p.rows["summary-correlations"] if r["attrs"]["data-cohort"] == "thin"]
    assert not rows  # nothing tested: not 18 NA rows in the summary table (never a hit), said below it
    assert (
        "Not shown above, since nothing was tested (every row is in the Tables section): thin: SS, SS_attraction,"
        " SS_infiltration (too few samples (n = 3, fewer than associate.min_samples = 10): no correlation tested)."
        in " ".join(htmlmod.unescape(html).split())
    )
    assert "too few samples (n = 3, fewer than associate.min_samples = 10)" in section(html, "tables")
    assert (
        "Cohort thin: too few samples (n = 3, fewer than associate.min_samples = 10): no correlation tested." in html
    )  # caveats
    outcome = section(html, "outcome")
    assert (
        "No hazard ratio for cohort thin: too few samples (n = 3 with a score and follow-up, fewer than"
        " survival.min_samples = 10)" in outcome
    )
    assert "relapse-site" not in outcome
    assert "No scatter plots or enrichment plots for cohort thin: too few samples" in section(html, "scores")


def test_thin_rows_beside_tested_rows_are_left_out_of_the_counts(tmp_path):
    """A cohort where some rows are below the floor (older file: n = 5 rows with r computed) counts only the rest."""
    d = write_cohort(tmp_path, "mixed", 40)
    corr = pd.read_csv(d / "correlations.tsv", sep="\t")
    corr.loc[corr["signature_b"] == "BrMS", ["n", "r", "q"]] = [5, 0.99, 0.0]
    corr.to_csv(d / "correlations.tsv", sep="\t", index=False, na_rep="NA")
    text = " ".join(parse(report(tmp_path, ["mixed"])).boxes["mixed"])
    assert (
        "SS correlates positively with 1 of 2 signatures at q < 0.05 (LMS: r = 0.45, 95% CI 0.20 to 0.62, q = 0.001)"
        in text
    )
    assert "negatively" not in text
    assert (
        "Not tested (too few samples (n = 5, fewer than associate.min_samples = 10): no correlation tested): BrMS."
        in text
    )


# ------------------------------------------------------------------------------------------- pooled tables
def test_nothing_pooled_is_said_not_shown(tmp_path):
    write_cohort(tmp_path, "gse7390", 40, unscored=FOCAL)
    write_cohort(tmp_path, "thin", 3, thin=True, seed=2)
    meta = write_meta(tmp_path, {t: 0 for t in TARGETS})
    html = report(tmp_path, ["gse7390", "thin"], meta)
    p = parse(html)
    assert not [r for r in p.rows["summary-correlations"] if r["attrs"]["data-cohort"] == "pooled"]
    assert not [r for r in p.rows["summary-survival"] if r["attrs"]["data-cohort"] == "pooled"]
    across = section(html, "meta")
    assert (
        "No correlation of SS was pooled across cohorts: pooling needs SS's correlations from at least two cohorts; 0"
        " of the 2 cohorts have them: gse7390: SS cannot be scored (none of IL6, CXCL8, MMP1, FSCN1 is measured); thin:"
        " too few samples (n = 3, fewer than associate.min_samples = 10): no correlation tested." in across
    )
    assert (
        "No pooled hazard ratio for SS: pooling needs SS's hazard ratio on its primary endpoint from at least two"
        " cohorts; 0 of the 2 cohorts have one" in across
    )
    assert '<table class="sortable meta"' not in html
    assert "No summary heatmap: no correlation of SS was tested in any cohort (gse7390: SS cannot be scored" in html


def test_rows_with_k_0_are_left_out_of_pooled_tables(tmp_path):
    write_cohort(tmp_path, "a", 40)
    write_cohort(tmp_path, "b", 40, seed=3)
    meta = write_meta(tmp_path, {"LMS": 2, "BoMS": 2, "BrMS": 0})
    html = report(tmp_path, ["a", "b"], meta)
    pooled = [r for r in parse(html).rows["summary-correlations"] if r["attrs"]["data-cohort"] == "pooled"]
    assert sorted({r["attrs"]["data-signature-b"] for r in pooled}) == ["BoMS", "LMS"] and len(pooled) == 3 * 2 * 2
    for r in pooled:
        assert r["cells"]["r"] == (data_value(0.3), "0.30") and r["cells"]["n"] == ("2", "k = 2")
    assert (
        "1 signature(s) with no pooled estimate (fewer than two cohorts with a correlation) are not shown"
        in section(html, "meta")
    )


# ------------------------------------------------------------------------------------------- long gene lists
def test_long_gene_lists_are_cut_with_details(tmp_path):
    write_cohort(tmp_path, "c1", 40)
    html = report(tmp_path, ["c1"])
    assert "overflow-wrap: anywhere" in html
    missing = BIG[20:]
    # the coverage table: the first 20 missing genes, "and 360 more", the whole list behind <details>
    cell = re.search(
        r"<td class=\"wrap\">("
        + re.escape(", ".join(missing[:20]))
        + r" and 360 more <details><summary>all 380</summary>([^<]*)</details>)</td>",
        html,
    )
    assert cell and cell.group(2) == ", ".join(missing)
    # the caveat line likewise
    line = re.search(
        r"<li>BIG is not scored in cohort c1: [^<]*Missing genes: ("
        + re.escape(",".join(missing[:20]))
        + r") and 360 more\. <details><summary>all 380 missing genes</summary>([^<]*)</details></li>",
        html,
    )
    assert line and line.group(2) == ", ".join(missing)
    assert ",".join(missing[:21]) not in html  # nowhere the whole list as one unbreakable run


# ------------------------------------------------------------------------------------------- p null, headline, endpoint
def test_fmt_p_null():
    assert fmt_p_null(FLOOR, 1000) == "< 0.001 (B = 1,000)"
    assert fmt_p_null(FLOOR, 1000, with_b=False) == "< 0.001"
    assert fmt_p_null(1 / 201, 200) == "< 0.005 (B = 200)"
    assert fmt_p_null(1 / 51, 50) == "< 0.02 (B = 50)"
    assert fmt_p_null(0.01, 99) == "0.01 (the floor 1/(B + 1), B = 99)"
    assert fmt_p_null(0.035, 1000) == "0.035" and fmt_p_null(np.nan, 1000) == "NA" and fmt_p_null(FLOOR) == "1.0e-03"


def test_headline_names_r_null_floor_and_endpoint(tmp_path):
    write_cohort(tmp_path, "gse3143", 40, endpoint=("os_months", "os_event"))
    write_cohort(tmp_path, "gse2034", 40, seed=4)
    html = report(tmp_path, ["gse3143", "gse2034"])
    p = parse(html)
    os_box = " ".join(p.boxes["gse3143"])
    assert (
        "SS correlates positively with 1 of 3 signatures at q < 0.05 (LMS: r = 0.45, 95% CI 0.20 to 0.62, q = 0.001) "
        "and negatively with 1 (BrMS: r = -0.50, 95% CI -0.70 to -0.25, q = 0.004)" in os_box
    )
    assert (
        "Beyond matched random signatures (null p < 0.05): LMS, r = 0.45, null p < 0.001 (B = 1,000); BrMS, r = -0.50,"
        " null p = 0.02." in os_box
    )
    assert "Does SS predict the outcome (os_months/os_event)?" in os_box
    assert "SS predicts the outcome os_months/os_event: hazard ratio 1.80 per SD" in os_box
    assert "null p < 0.001 (B = 1,000) (Venet et al. 2011)" in os_box
    assert "relapse" not in os_box.lower()
    mfs_box = " ".join(p.boxes["gse2034"])
    assert (
        "Does SS predict relapse?" in mfs_box
        and "SS predicts relapse (mfs_months/mfs_event): hazard ratio 1.80" in mfs_box
    )
    assert "1.0e-03" not in html
    # the summary tables keep the TSV's value in data-value; the shown text is the bound
    cells = [
        r["cells"]["p_random_null"]
        for r in p.rows["summary-correlations"]
        if r["attrs"]["data-signature-b"] == "LMS" and r["attrs"]["data-signature-a"] == "SS"
    ]
    assert cells and all(
        c
        == (
            data_value(pd.read_csv(tmp_path / "gse3143" / "correlations.tsv", sep="\t")["p_random_null"].iloc[0]),
            "< 0.001",
        )
        for c in cells
    )
    assert "< 0.001 (B = 1,000)" in section(html, "tables")


# ------------------------------------------------------------------------------------------- no warnings
def test_no_warning_on_a_thin_and_an_unscored_cohort(tmp_path, caplog):
    write_cohort(tmp_path, "thin", 3, thin=True, h5ad=True)
    write_cohort(tmp_path, "noss", 24, unscored=FOCAL, h5ad=True, seed=5)
    meta = write_meta(tmp_path, {t: 0 for t in TARGETS})
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.INFO, logger="seedsig"):
        warnings.simplefilter("always")
        report(tmp_path, ["thin", "noss"], meta)
    caught = [w for w in caught if not issubclass(w.category, ResourceWarning)]
    assert caught == [], [str(w.message) for w in caught]
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    for name in (
        "thin/expression_density.svg",
        "thin/library_size.svg",
        "thin/score_distribution_ssgsea.svg",
        "noss/expression_density.svg",
    ):
        assert (tmp_path / "figures" / name).is_file(), name


def test_declared_figures_of_a_thin_and_an_unscored_cohort_are_placeholders(tmp_path, caplog):
    """With the run's figure plan, every declared figure is written: the ones the data do not allow (too few
    samples, SS not scored, nothing pooled) as 'not drawn: why' placeholders; the HTML does not change."""
    from seedsig.core import layout
    from seedsig.report.figure_plan import prerank_sets

    write_cohort(tmp_path, "thin", 3, thin=True, h5ad=True)
    write_cohort(tmp_path, "noss", 24, unscored=FOCAL, h5ad=True, seed=5)
    meta = write_meta(tmp_path, {t: 0 for t in TARGETS})
    html = report(tmp_path, ["thin", "noss"], meta)
    shutil.rmtree(tmp_path / "figures")
    cohort = {"data_type": "counts", "primary_endpoint": "mfs_months/mfs_event", "endpoints": [], "relapse_site": False}
    plan = {
        "cohorts": {"thin": cohort, "noss": cohort},
        "methods": ["ssgsea"],
        "primary": "ssgsea",
        "focal": list(FOCAL),
        "targets": list(TARGETS),
        "prerank_sets": prerank_sets(SIGS, FOCAL),
    }
    with caplog.at_level(logging.INFO, logger="seedsig"):
        assert report(tmp_path, ["thin", "noss"], meta, figure_plan=plan) == html
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    figures = tmp_path / "figures"
    assert sorted(str(p) for p in figures.rglob("*") if p.is_file()) == sorted(
        layout.figure_files(results=str(tmp_path), **plan)
    )

    def text(stem: str) -> str:
        return " ".join(re.findall(r">([^<]+)</text>", (figures / f"{stem}.svg").read_text()))

    assert "not drawn: too few samples (n = 3, fewer than associate.min_samples = 10)" in text(
        "thin/scatter_null_ssgsea_SS_LMS"
    )
    assert "not drawn: SS cannot be scored in noss" in text("noss/km_ssgsea_SS_mfs_months-mfs_event")
    assert "not drawn: SS_attraction cannot be scored in noss" in text(
        "noss/km_ssgsea_SS_attraction_mfs_months-mfs_event"
    )
    assert "not drawn" in text("meta/forest_r_ssgsea_SS_LMS") and "not drawn" in text("meta/forest_hr_ssgsea_SS")
    assert "not drawn" not in text("thin/expression_density")
