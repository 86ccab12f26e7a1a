"""QA on real public cohorts (../shared/datasets), configured as the README says: what the user sees on the terminal
and in the report, and that real inputs pass the input checks. Fast direct calls; each test names the cohort."""

import json
import logging
import re

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from conftest import shared_file
from helpers.report_results import BIG, SURV_COLUMNS, parse, report, write_cohort
from helpers.report_results import FOCAL as FOCAL_SIGS

from seedsig.core.cohort import write_h5ad
from seedsig.core.errors import SeedsigError
from seedsig.ingest.checks import check_expression
from seedsig.ingest.ids import check_mapping, resolve_ids
from seedsig.ingest.inputs import read_expression_input


def test_h5ad_write_prints_no_anndata_line(tmp_path):
    """Every real cohort's ingest printed "... storing 'id_status' as categorical" (anndata's own handler, at INFO,
    which the rule's logging.basicConfig(level=INFO) lets through) between seedsig's summary lines."""
    root, quiet = logging.getLogger(), logging.getLogger("anndata")
    level = root.level
    seen: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())
    root.setLevel(logging.INFO)  # as run_rule sets it
    quiet.addHandler(handler)
    try:
        var = pd.DataFrame({"id_status": ["approved", "previous", "approved"]}, index=["IL6", "CXCL8", "MMP1"])
        adata = ad.AnnData(X=np.arange(6, dtype=np.float64).reshape(2, 3), var=var)
        write_h5ad(adata, tmp_path / "x.h5ad")
    finally:
        root.setLevel(level)
        quiet.removeHandler(handler)
    assert not seen, seen
    back = ad.read_h5ad(tmp_path / "x.h5ad")
    assert list(back.var["id_status"].astype(str)) == ["approved", "previous", "approved"]
    assert quiet.level == logging.NOTSET  # left as it was


# ------------------------------------------------------------------------------------------- the report's summary
def test_targets_not_scored_are_named_in_one_clause(tmp_path):
    """vdv (RefSeq ids, 78 samples): five targets not scored gave five clauses "Not tested (BoMS is not scored in
    this cohort): BoMS. Not tested (BrMS is not scored in this cohort): BrMS. ..." in the headline."""
    write_cohort(tmp_path, "vdv", 78, unscored=("BoMS", "BrMS"))
    text = " ".join(parse(report(tmp_path, ["vdv"])).boxes["vdv"])
    assert "Not tested (not scored in this cohort): BoMS, BrMS." in text, text
    assert "is not scored in this cohort): " not in text
    assert "SS correlates positively with 1 of 1 signatures at q < 0.05 (LMS: r = 0.45" in text


def test_shared_gene_correlation_that_cannot_be_checked_is_a_caveat(tmp_path):
    """gse201926 (NCBI counts, 12 samples): SS is scored from CXCL8 and FSCN1, and LMS holds FSCN1; without the
    shared gene SS no longer meets the coverage rule, so r_without_shared is NA. The headline counted SS vs LMS
    (r = 0.78, q = 0.042) as a hit and the report said nothing about the shared gene."""
    d = write_cohort(tmp_path, "gse201926", 12)
    corr = pd.read_csv(d / "correlations.tsv", sep="\t")
    lms = corr["signature_b"] == "LMS"
    corr.loc[lms, ["n_shared_genes", "r_without_shared"]] = [1, np.nan]
    corr["note"] = corr["note"].fillna("").astype(object)
    corr.loc[lms, "note"] = "r_without_shared NA: SS without the shared genes no longer meets the coverage rule"
    corr.to_csv(d / "correlations.tsv", sep="\t", index=False, na_rep="NA")
    html = report(tmp_path, ["gse201926"])
    assert (
        "Cohort gse201926, SS vs LMS: r = 0.45 cannot be checked without the 1 shared gene(s) (r_without_shared NA:"
        " SS without the shared genes no longer meets the coverage rule): the correlation may be carried by genes"
        " the two signatures share." in html
    )
    assert "Correlations to read with care" in html


def test_no_endpoint_is_said_once(tmp_path):
    """tcga, airway, gse201926, gtex (no time/event in the sheet): the outcome answer said it twice, "... no
    time/event columns in the cohort sheet for cohort tcga. (survival stage: no endpoint given in the cohort sheet
    (time/event columns): no primary survival model.)"."""
    d = write_cohort(tmp_path, "tcga", 10)
    pd.DataFrame(columns=SURV_COLUMNS).to_csv(d / "survival.tsv", sep="\t", index=False)
    side = {
        "parameters": {"n_random": 1000, "endpoints": [], "relapse_site": {"column": "relapse_site"}},
        "primary_endpoint": "",
        "note": "no endpoint given in the cohort sheet (time/event columns): no primary survival model",
    }
    (d / "survival.json").write_text(json.dumps(side))
    boxes = parse(report(tmp_path, ["tcga"])).boxes["tcga"]
    outcome = [b for b in boxes if b.startswith("Does SS predict")]
    assert outcome == [
        "Does SS predict the outcome? Not analysed: No survival analysis for cohort tcga: no time/event columns in"
        " the cohort sheet for cohort tcga."
    ], boxes
    side["note"] += "; relapse-site column 'relapse_site' is not in the clinical table of cohort 'tcga'"
    (d / "survival.json").write_text(json.dumps(side))
    text = " ".join(parse(report(tmp_path, ["tcga"])).boxes["tcga"])
    assert "(survival stage: relapse-site column 'relapse_site' is not in the clinical table of cohort 'tcga'.)" in text


def test_cohorts_with_nothing_tested_do_not_flood_the_summary_table(tmp_path):
    """nki70, gse2034, genefu vdxs, gtex (SS not measured) and airway (8 samples) each put 120 NA rows in the summary
    correlation table (240 of 240 rows NA for gse2034 + vdxs). Now only blocks with a tested row are shown; a sentence
    below the table names the rest and why. A block of one focal signature not scored goes, its siblings stay."""
    write_cohort(tmp_path, "gse1992", 40)
    write_cohort(tmp_path, "nki70", 144, unscored=("SS", "SS_attraction", "SS_infiltration"))
    write_cohort(tmp_path, "tcga", 12, unscored=("SS_infiltration",))
    html = report(tmp_path, ["gse1992", "nki70", "tcga"])
    rows = parse(html).rows["summary-correlations"]
    shown = {(r["attrs"]["data-cohort"], r["attrs"]["data-signature-a"]) for r in rows}
    assert shown == {("gse1992", f) for f in FOCAL_SIGS} | {("tcga", "SS"), ("tcga", "SS_attraction")}, shown
    assert len(rows) == 18 + 12  # gse1992: 3 focal x 3 targets x 2 statistics; tcga: 2 focal
    text = " ".join(html.split())
    assert (
        "Not shown above, since nothing was tested (every row is in the Tables section): nki70: SS, SS_attraction,"
        " SS_infiltration (not scored in this cohort). tcga: SS_infiltration (not scored in this cohort).</p>" in text
    )


# ------------------------------------------------------------------------------------------- input checks, real ids
def _ids(*parts: str) -> list[str]:
    return read_expression_input(shared_file(*parts)).matrix.index.astype(str).tolist()


def test_entrez_ids_declared_symbol_stop_although_three_match_aliases():
    """GSE201926's NCBI count table (Entrez GeneID) declared gene_id symbol: 3 of 39,376 ids (52, 225, 3635) are
    aliases of other genes, so "nothing maps" did not fire and the run went on to report SS as unmeasured."""
    ids = _ids("gse201926_endometrial_rnaseq_ncbi_counts_tpm", "gse201926_raw_counts.tsv.gz")
    with pytest.raises(SeedsigError) as e:
        check_mapping(resolve_ids(ids, "symbol"), "cohort 'gse201926'", "symbol")
    msg = str(e.value)
    assert msg.startswith("cohort 'gse201926': no row id maps to a gene: 39373 of 39376 ids are unmapped as gene_id")
    assert "they look like numeric Entrez gene ids: set the cohort sheet's gene_id column to entrez." in msg
    assert "The other 3 match only as aliases or ambiguously (e.g. 52 -> SCARNA10, " in msg
    # declared right, the same ids map (26% unmapped: no warning)
    assert check_mapping(resolve_ids(ids, "entrez"), "cohort 'gse201926'", "entrez") is None
    # nki70 (70 MammaPrint genes, 14 of them Contig/accession ids, one an alias): real symbols still pass
    mapping = resolve_ids(_ids("nki70_penalized", "expression.tsv.gz"), "symbol")
    assert (mapping["status"] == "unmapped").sum() == 14 and (mapping["status"] == "alias").sum() == 1
    assert check_mapping(mapping, "cohort 'nki70'", "symbol") is None


def test_ncbi_tpm_declared_counts_stops():
    """GSE201926's NCBI TPM table declared data_type counts went through TMM + log-CPM without a word (TPM values
    are fractional, as expected counts are, so check_counts let them through)."""
    path = shared_file("gse201926_endometrial_rnaseq_ncbi_counts_tpm", "gse201926_tpm_counts.tsv.gz")
    tpm = read_expression_input(path).matrix
    with pytest.raises(SeedsigError) as e:
        check_expression(tpm, "cohort 'gse201926tpm'", "counts", "entrez", min_samples=3)
    assert str(e.value) == (
        "cohort 'gse201926tpm': declared counts, but every sample's values sum to one million (999,949 to 1,000,034"
        " over 12 samples): these look like TPM (or CPM), not raw counts. Set data_type to tpm in the cohort sheet,"
        " or give the raw counts."
    )
    assert check_expression(tpm, "cohort 'gse201926tpm'", "tpm", "entrez", min_samples=3).warnings == []
    counts = read_expression_input(path.with_name("gse201926_raw_counts.tsv.gz")).matrix  # the raw counts pass
    assert check_expression(counts, "cohort 'gse201926'", "counts", "entrez", min_samples=3).n_fractional == 0


def test_thin_cohort_left_out_names_each_reason_once(tmp_path):
    """airway (8 samples; SS_attraction not scored, CXCL8 filtered out): the sentence below the summary table read
    "too few samples ...; BrMS is not scored in this cohort; SMID_RELAPSE_PLEURA is not scored ...; not scored"."""
    write_cohort(tmp_path, "airway", 8, thin=True, unscored=("SS_attraction", "BrMS"))
    html = " ".join(report(tmp_path, ["airway"]).split())
    assert not parse(html).rows["summary-correlations"]
    assert (
        "(every row is in the Tables section): airway: SS, SS_infiltration (too few samples (n = 8, fewer than"
        " associate.min_samples = 10): no correlation tested); SS_attraction (not scored in this cohort).</p>" in html
    )


def test_filtered_gene_list_in_the_coverage_table_wraps(tmp_path):
    """gse201926 (12 samples): the 'scored' cell of SMID_RELAPSE_PLEURA held "removed by the low-expression filter:
    TENM3;SYNGR3;PEG10;...;POPDC3" (17 genes, one word without spaces) in a cell that did not wrap: that column was
    599 px wide and the coverage table 1,469 px, wider than the page (a horizontal scroll bar)."""
    d = write_cohort(tmp_path, "gse201926", 12)
    cov = pd.read_csv(d / "coverage.tsv", sep="\t", keep_default_na=False)
    filtered = ";".join(BIG[:17])
    cov.loc[cov["signature"] == "BIG", "reason"] += f"; removed by the low-expression filter: {filtered}"
    cov.to_csv(d / "coverage.tsv", sep="\t", index=False)
    html = report(tmp_path, ["gse201926"])
    assert '<td class="wrap">no: only 20 of 400 genes present; needs at least 2 genes and 50% of the signature' in html
    assert re.search(r'<td class="wrap">no: [^<]*' + re.escape(filtered) + "</td>", html)


def test_cohorts_without_any_hazard_ratio_do_not_flood_the_summary_table(tmp_path):
    """gse2034 (552 probes: only MMP1) and genefu vdxs (no SS gene) put 24 NA rows in the summary hazard-ratio table
    beside nothing else; nki70 beside vdv likewise. Rows of cohorts with a hazard ratio stay."""
    write_cohort(tmp_path, "vdv", 78)
    write_cohort(tmp_path, "nki70", 144, unscored=("SS", "SS_attraction", "SS_infiltration"))
    write_cohort(tmp_path, "thin", 8, thin=True)
    html = " ".join(report(tmp_path, ["vdv", "nki70", "thin"]).split())
    rows = parse(html).rows["summary-survival"]
    assert sorted(r["attrs"]["data-cohort"] for r in rows) == ["vdv"] * 3
    assert (
        "Not shown above, since no hazard ratio was estimated (every row is in the Tables section): nki70: SS,"
        " SS_attraction, SS_infiltration (not scored in this cohort). thin: SS, SS_attraction, SS_infiltration (too"
        " few samples (n = 8 with a score and follow-up, fewer than survival.min_samples = 10): no Cox model"
        " fitted).</p>" in html
    )
