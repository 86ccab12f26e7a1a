"""The report tells the truth about cohorts it cannot score (issue 14, item 5, and the report's side of item 1):
a focal signature that is not scored opens its cohort's summary box with '{signature} cannot be scored in
{cohort}: ...'; thin cohorts (below associate.min_samples / survival.min_samples) are never counted; the Outcome
section gives the real reason for a missing hazard ratio; pooled rows with nothing pooled are not shown; long
gene lists are cut (the rest behind <details>); p_random_null at its floor reads '< 0.001 (B = 1,000)'; the
endpoint is named, and 'relapse' only for a relapse endpoint; no warning from the report stage.

Fast tests build the report over small hand-written result directories (the formats of the README's Outputs
table); one slow test runs the pipeline on a cohort without the SS genes and a 3-sample cohort."""

import html as htmlmod
import json
import logging
import re
import shutil
import warnings
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO

from seedsig.report.build import build_report
from seedsig.report.text import data_value, fmt_p_null
from seedsig.scoring.signatures import load_signatures

SIGS = load_signatures([REPO / "config" / "signatures" / f for f in ("self_seeding.tsv", "organ_metastasis.tsv")])
FOCAL = ("SS", "SS_attraction", "SS_infiltration")
TARGETS = ("LMS", "BoMS", "BrMS")
CONFIG = {
    "scoring": {"methods": ["ssgsea"], "min_genes": 2, "min_fraction": 0.5},
    "associate": {"n_random": 1000},
    "survival": {"n_random": 1000},
}
FLOOR = 1 / 1001  # p_random_null at its floor with B = 1,000
BIG = [f"GENE{i:03d}" for i in range(400)]  # a 400-gene signature of which 380 genes are missing
# (r, ci_low, ci_high, q, p_random_null) of SS with each target in a scored cohort
CORR = {
    "LMS": (0.45, 0.2, 0.62, 0.001, FLOOR),
    "BoMS": (0.1, -0.2, 0.38, 0.6, 0.3),
    "BrMS": (-0.5, -0.7, -0.25, 0.004, 0.02),
}
CORR_COLUMNS = [
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
]
SURV_COLUMNS = [
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


def write_cohort(
    root: Path,
    name: str,
    n: int,
    *,
    unscored=(),
    one_gene=(),
    thin=False,
    note_column=True,
    endpoint=("mfs_months", "mfs_event"),
    min_genes=2,
    h5ad=False,
    seed=0,
) -> Path:
    """A cohort's result directory as the pipeline writes it (coverage, scores, correlations, survival and
    their sidecars; expression.h5ad when ``h5ad``). ``thin``: fewer samples than associate.min_samples (rows
    NA with a note; ``note_column=False``: an older file without the note column, r computed on 3 samples)."""
    rng = np.random.default_rng(seed)
    d = root / name
    (d / "scores").mkdir(parents=True)
    samples = [f"{name}_{i}" for i in range(n)]
    cov = []
    for s in SIGS:
        present = [] if s.name in unscored else (list(s.genes[:1]) if s.name in one_gene else list(s.genes))
        missing = [g for g in s.genes if g not in present]
        cov.append(
            {
                "signature": s.name,
                "organ": s.organ,
                "complete": s.complete,
                "n_genes": s.size,
                "n_present": len(present),
                "fraction_present": len(present) / s.size,
                "present_genes": ",".join(present),
                "missing_genes": ",".join(missing),
                "scored": s.name not in unscored,
                "reason": "no signature gene is in the cohort" if s.name in unscored else "",
            }
        )
    cov.append(
        {
            "signature": "BIG",
            "organ": "lung",
            "complete": True,
            "n_genes": 400,
            "n_present": 20,
            "fraction_present": 0.05,
            "present_genes": ",".join(BIG[:20]),
            "missing_genes": ",".join(BIG[20:]),
            "scored": False,
            "reason": (
                "only 20 of 400 genes present; needs at least 2 genes and 50% of the signature (scoring.min_genes,"
                " scoring.min_fraction)"
            ),
        }
    )
    pd.DataFrame(cov).to_csv(d / "coverage.tsv", sep="\t", index=False)
    (d / "coverage.json").write_text(json.dumps({"parameters": {"min_genes": min_genes, "min_fraction": 0.5}}))
    scores = pd.DataFrame(
        rng.normal(size=(n, len(SIGS))), index=pd.Index(samples, name="sample"), columns=[s.name for s in SIGS]
    )
    scores[list(unscored)] = np.nan
    scores.reset_index().to_csv(d / "scores" / "ssgsea.tsv", sep="\t", index=False, na_rep="NA")
    rows = []
    for f in FOCAL:
        for t in TARGETS:
            for stat in ("spearman", "pearson"):
                r, lo, hi, q, pn = CORR[t] if f == "SS" else (0.2, -0.1, 0.5, 0.3, 0.4)
                row = dict(
                    method="ssgsea",
                    signature_a=f,
                    signature_b=t,
                    r=r,
                    p=q / 2,
                    q=q,
                    n=n,
                    statistic=stat,
                    ci_low=lo,
                    ci_high=hi,
                    n_shared_genes=0,
                    jaccard=0.0,
                    p_overlap=1.0,
                    r_without_shared=r,
                    p_random_null=pn,
                    r_partial=r,
                    covariates="meta_pcna",
                    note="",
                )
                if f in unscored or t in unscored:
                    row.update(
                        r=np.nan,
                        p=np.nan,
                        q=np.nan,
                        n=0,
                        ci_low=np.nan,
                        ci_high=np.nan,
                        r_without_shared=np.nan,
                        p_random_null=np.nan,
                        r_partial=np.nan,
                    )
                elif thin and note_column:
                    row.update(
                        r=np.nan,
                        p=np.nan,
                        q=np.nan,
                        ci_low=np.nan,
                        ci_high=np.nan,
                        r_without_shared=np.nan,
                        p_random_null=np.nan,
                        r_partial=np.nan,
                        note=f"{n} samples, fewer than associate.min_samples (10): not tested",
                    )
                elif thin:
                    row.update(
                        r=1.0, p=0.0, q=0.0, ci_low=1.0, ci_high=1.0
                    )  # what an older version wrote for 3 samples
                rows.append(row)
    corr = pd.DataFrame(rows)
    corr = corr[CORR_COLUMNS + (["note"] if note_column else [])]
    corr.to_csv(d / "correlations.tsv", sep="\t", index=False, na_rep="NA")
    (d / "correlations.json").write_text(json.dumps({"parameters": {"n_random": 1000, "min_samples": 10, "seed": 1}}))
    label = f"{endpoint[0]}/{endpoint[1]}"
    surv = []
    for f in FOCAL:
        row = dict(
            method="ssgsea",
            signature=f,
            endpoint=label,
            n=n,
            events=min(25, n - 1),
            hr_per_sd=1.8,
            ci_low=1.2,
            ci_high=2.7,
            p=0.004,
            note="",
            model="univariate",
            covariates="",
            concordance=0.64,
            ph_p=0.5,
            p_random_null=FLOOR,
        )
        if f in unscored:
            row.update(
                n=0,
                events=0,
                hr_per_sd=np.nan,
                ci_low=np.nan,
                ci_high=np.nan,
                p=np.nan,
                note="score not available (see coverage.tsv)",
                concordance=np.nan,
                ph_p=np.nan,
                p_random_null=np.nan,
            )
        elif thin:
            row.update(
                hr_per_sd=np.nan,
                ci_low=np.nan,
                ci_high=np.nan,
                p=np.nan,
                note="fewer than 10 samples with a score and follow-up",
                concordance=np.nan,
                ph_p=np.nan,
                p_random_null=np.nan,
            )
        surv.append(row)
    pd.DataFrame(surv, columns=SURV_COLUMNS).to_csv(d / "survival.tsv", sep="\t", index=False, na_rep="NA")
    note = (
        f"relapse-site column 'relapse_site' is not in the clinical table of cohort '{name}': no site-specific analysis"
    )
    (d / "survival.json").write_text(
        json.dumps(
            {
                "parameters": {
                    "n_random": 1000,
                    "endpoints": [{"name": label, "time": endpoint[0], "event": endpoint[1], "kind": "primary"}],
                    "relapse_site": {"column": "relapse_site"},
                },
                "primary_endpoint": label,
                "note": note,
            }
        )
    )
    if h5ad:
        import anndata as ad

        genes = list(dict.fromkeys([g for s in SIGS for g in s.genes] + [f"RPL{i}" for i in range(40)]))
        obs = pd.DataFrame({"library_size": rng.integers(10**6, 3 * 10**6, n).astype(float)}, index=samples)
        a = ad.AnnData(X=rng.normal(6, 2, size=(n, len(genes))), obs=obs, var=pd.DataFrame(index=genes))
        a.uns.update(data_type="counts", cohort=name, normalization={"method": "tmm_logcpm"})
        a.write_h5ad(d / "expression.h5ad")
    return d


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


def report(
    root: Path, cohorts: list[str], meta: Path | None = None, config: dict | None = None, figure_plan=None
) -> str:
    out = root / "report.html"
    build_report(
        {c: root / c for c in cohorts},
        out,
        signatures=SIGS,
        config=config or CONFIG,
        focal=FOCAL,
        primary_method="ssgsea",
        meta_dir=meta,
        figure_plan=figure_plan,
    )
    return out.read_text()


class Boxes(HTMLParser):
    """The summary boxes (<div class="answer" data-cohort=...>): their paragraphs as text; and the rows of the
    summary tables (data-cohort, data-col -> (data-value, shown))."""

    def __init__(self):
        super().__init__()
        self.boxes: dict[str, list[str]] = {}
        self.rows: dict[str, list[dict]] = {}
        self._box = self._p = self._table = self._row = self._cell = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "div" and a.get("class") == "answer":
            self._box = a.get("data-cohort")
            self.boxes[self._box] = []
        elif tag == "p" and self._box is not None:
            self._p = ""
        elif tag == "table":
            self._table = a.get("id")
            self.rows.setdefault(self._table, [])
        elif tag == "tr" and self._table and "data-cohort" in a:
            self._row = {"attrs": a, "cells": {}}
            self.rows[self._table].append(self._row)
        elif tag == "td" and self._row is not None and "data-col" in a:
            self._cell = [a["data-col"], a["data-value"], ""]

    def handle_data(self, data):
        if self._p is not None:
            self._p += data
        if self._cell is not None:
            self._cell[2] += data

    def handle_endtag(self, tag):
        if tag == "p" and self._p is not None:
            self.boxes[self._box].append(" ".join(self._p.split()))
            self._p = None
        elif tag == "div" and self._box is not None and self._p is None:
            self._box = None
        elif tag == "td" and self._cell is not None:
            self._row["cells"][self._cell[0]] = (self._cell[1], self._cell[2])
            self._cell = None
        elif tag == "tr":
            self._row = None
        elif tag == "table":
            self._table = None


def parse(html: str) -> Boxes:
    p = Boxes()
    p.feed(html)
    return p


def section(html: str, sid: str) -> str:
    """The text of a section (from its <h2 id> to the next <h2>), tags removed."""
    i = html.index(f'<h2 id="{sid}"')
    j = html.find("<h2", i + 1)
    return " ".join(htmlmod.unescape(re.sub(r"<[^>]+>", " ", html[i:j])).split())


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


# ------------------------------------------------------------------------------------------- end to end
GENES = [
    "IL6",
    "IL8",
    "FSCN1",
    "MMP1",
    "ID1",
    "TNC",
    "PTGS2",
    "HBEGF",
    "IL11",
    "CTGF",
    "ESR1",
    "GAPDH",
    "ACTB",
    "MKI67",
    "PCNA",
    "TOP2A",
    "CXCL1",
    "SPARC",
    "VCAM1",
    "ANGPTL4",
] + [f"RPL{i}" for i in range(3, 43)]


@pytest.mark.slow
def test_e2e_unscored_and_thin_cohorts(tmp_path):
    """The pipeline on three small cohorts: one scored with an overall-survival endpoint, one without any SS gene,
    one of 3 samples. The report says what it cannot score, counts nothing it did not test, and the report
    stage writes no warning to the terminal or its log."""
    from test_pipeline import new_workdir, run_snakemake

    wd = new_workdir(tmp_path)
    rng = np.random.default_rng(7)
    (wd / "data").mkdir()
    rows = []
    for name, n, drop, ep in (
        ("gse3143", 30, [], "os"),
        ("gse7390", 24, ["IL6", "IL8", "FSCN1", "MMP1"], "mfs"),
        ("thin", 3, [], "mfs"),
    ):
        genes = [g for g in GENES if g not in drop]
        samples = [f"{name}_{i:02d}" for i in range(n)]
        counts = pd.DataFrame(
            rng.poisson(rng.uniform(50, 500, size=(len(genes), 1)), size=(len(genes), n)),
            index=pd.Index(genes, name="gene"),
            columns=samples,
        )
        counts.to_csv(wd / "data" / f"{name}.tsv", sep="\t")
        pd.DataFrame(
            {"sample": samples, f"{ep}_months": rng.uniform(1, 100, n).round(1), f"{ep}_event": rng.integers(0, 2, n)}
        ).to_csv(wd / "data" / f"{name}_clin.tsv", sep="\t", index=False)
        rows.append(f"{name}\tdata/{name}.tsv\tcounts\tsymbol\tdata/{name}_clin.tsv\t{ep}_months\t{ep}_event")
    (wd / "config" / "t.tsv").write_text(
        "cohort\texpression\tdata_type\tgene_id\tclinical\ttime\tevent\n" + "\n".join(rows) + "\n"
    )
    cfg = yaml.safe_load((wd / "config" / "config.yaml").read_text())
    cfg["cohorts"] = "config/t.tsv"
    cfg["signatures"]["files"] = ["config/signatures/self_seeding.tsv", "config/signatures/organ_metastasis.tsv"]
    cfg["scoring"]["methods"] = ["ssgsea"]
    cfg["associate"].update(n_random=50, n_bootstrap=50)
    cfg["associate"]["prerank"]["permutations"] = 50
    cfg["survival"]["n_random"] = 50
    (wd / "config" / "t.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    proc = run_snakemake(wd, "--configfile", str(wd / "config" / "t.yaml"))
    html = (wd / "results" / "report.html").read_text()
    p = parse(html)
    assert p.boxes["gse7390"][0].startswith(
        "SS cannot be scored in gse7390: none of IL6, CXCL8, MMP1, FSCN1 is measured; needs at least 2 genes and 50%"
    )
    assert "0 of 0" not in html
    thin = " ".join(p.boxes["thin"])
    assert (
        "Not tested: too few samples (n = 3, fewer than associate.min_samples = 10)" in thin
        and "correlates positively" not in thin
    )
    os_box = " ".join(p.boxes["gse3143"])
    assert (
        "Does SS predict the outcome (os_months/os_event)?" in os_box
        and "predict the outcome os_months/os_event: hazard ratio" in os_box
    )
    assert "relapse" not in os_box.lower()
    outcome = section(html, "outcome")
    assert (
        "No hazard ratio for cohort gse7390: SS cannot be scored in gse7390" in outcome
        and "No hazard ratio for cohort thin: too few samples (n = 3" in outcome
    )
    # no pooled row without a pooled estimate
    mc = pd.read_csv(wd / "results" / "meta" / "correlations.tsv", sep="\t")
    shown = {
        (r["attrs"]["data-signature-a"], r["attrs"]["data-signature-b"], r["attrs"]["data-statistic"])
        for r in p.rows["summary-correlations"]
        if r["attrs"]["data-cohort"] == "pooled"
    }
    dl = mc[mc["pooling"] == "random_dl"]
    assert shown == {
        (a, b, s) for a, b, s, k in zip(dl["signature_a"], dl["signature_b"], dl["statistic"], dl["k"]) if k >= 2
    }
    # no warning from the report stage, in its log or on the terminal (everything after the report rule starts)
    log = (wd / "results" / "logs" / "report.log").read_text()
    assert " WARNING " not in log and "Warning" not in log, log
    out = proc.stdout + proc.stderr
    tail = out[out.rindex("rule report") :]
    assert "Warning" not in tail and "warning" not in tail.replace("warnings", ""), tail[-3000:]
