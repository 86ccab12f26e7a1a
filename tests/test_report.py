"""The report: standalone (no URL, figures embedded as the SVG written to results/figures/), the summary tables'
numbers equal the TSVs (machine-readable contract), every figure also as SVG + PDF, reproducible figures,
sortable/filterable tables, and it says plainly why a section is missing.

Shown values are rounded: r, CI bounds and hazard ratios to 2 decimals (fmt_r), p-values to 2 significant digits,
scientific below 0.001 (fmt_p); data-value holds repr() of the float pandas reads from the TSV."""

import base64
import re
import shutil
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO

from seedsig.report.build import build_report
from seedsig.report.text import data_value, fmt_p, fmt_p_null, fmt_r
from seedsig.scoring.signatures import load_signatures

SIGS = load_signatures([REPO / "config" / "signatures" / f for f in ("self_seeding.tsv", "organ_metastasis.tsv")])
CONFIG = {
    "ingest": {"collapse": "max_mean"},
    "normalize": {"prior_count": 2},
    "scoring": {
        "methods": ["zscore"],
        "min_genes": 2,
        "min_fraction": 0.5,
        "ssgsea": {"alpha": 0.25, "normalize": False},
    },
}
SVG_URI = "data:image/svg+xml;base64,"


def fake_cohort(d, with_survival: bool, seed: int):
    rng = np.random.default_rng(seed)
    (d / "scores").mkdir(parents=True)
    n = 40
    names = [s.name for s in SIGS]
    sc = pd.DataFrame(
        rng.normal(size=(n, len(names))), columns=names, index=pd.Index([f"s{i}" for i in range(n)], name="sample")
    )
    sc["BoMS"] = np.nan
    sc.reset_index().to_csv(d / "scores" / "zscore.tsv", sep="\t", index=False, na_rep="NA")
    corr = pd.DataFrame(
        [
            ("zscore", "SS", t, rng.uniform(-1, 1), rng.uniform(0, 0.1), rng.uniform(0, 0.1), n)
            for t in ["LMS", "BoMS", "BrMS"]
        ],
        columns=["method", "signature_a", "signature_b", "r", "p", "q", "n"],
    )
    corr.loc[1, ["r", "p", "q"]] = np.nan
    corr.to_csv(d / "correlations.tsv", sep="\t", index=False, na_rep="NA")
    corr = pd.read_csv(d / "correlations.tsv", sep="\t")  # the values as the report reads them
    surv = pd.DataFrame(
        columns=["method", "signature", "endpoint", "n", "events", "hr_per_sd", "ci_low", "ci_high", "p", "note"]
    )
    if with_survival:
        surv = pd.DataFrame(
            [("zscore", s, "t/e", n, 12, 1.5, 1.1, 2.0, 0.012, "") for s in ["SS", "SS_attraction", "SS_infiltration"]],
            columns=surv.columns,
        )
    surv.to_csv(d / "survival.tsv", sep="\t", index=False, na_rep="NA")
    cov = pd.DataFrame(
        [
            (
                s.name,
                s.organ,
                s.complete,
                s.size,
                s.size if s.name != "BoMS" else 0,
                1.0 if s.name != "BoMS" else 0.0,
                ",".join(s.genes),
                "" if s.name != "BoMS" else ",".join(s.genes),
                s.name != "BoMS",
                "" if s.name != "BoMS" else "no signature gene is in the cohort",
            )
            for s in SIGS
        ],
        columns=[
            "signature",
            "organ",
            "complete",
            "n_genes",
            "n_present",
            "fraction_present",
            "present_genes",
            "missing_genes",
            "scored",
            "reason",
        ],
    )
    cov.to_csv(d / "coverage.tsv", sep="\t", index=False)
    pd.DataFrame(
        {
            "input_id": ["IL8", "IL6", "COX2"],
            "symbol": ["CXCL8", "IL6", "COX2"],
            "status": ["previous", "approved", "ambiguous"],
            "detail": ["", "", ""],
            "kept": [True, True, True],
        }
    ).to_csv(d / "gene_mapping.tsv", sep="\t", index=False)
    return corr, surv


class Parse(HTMLParser):
    """Images, links, the rows of the two summary tables (attributes and data-col cells) and the tables."""

    def __init__(self):
        super().__init__()
        self.imgs, self.urls, self.tables, self.rows = [], [], [], {"summary-correlations": [], "summary-survival": []}
        self._table, self._row, self._cell = None, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.imgs.append((a.get("src", ""), a.get("data-file", "")))
        for k in ("src", "href"):
            if a.get(k) and not a[k].startswith(("#", "data:")):
                self.urls.append(a[k])
        if tag == "table":
            self.tables.append(a)
            self._table = a.get("id")
        elif tag == "tr" and self._table in self.rows and "data-cohort" in a:
            self._row = {"attrs": a, "cells": {}}
            self.rows[self._table].append(self._row)
        elif tag == "td" and self._row is not None and "data-col" in a:
            self._cell = [a["data-col"], a["data-value"], ""]

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[2] += data

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self._row["cells"][self._cell[0]] = (self._cell[1], self._cell[2])
            self._cell = None
        elif tag == "tr":
            self._row = None
        elif tag == "table":
            self._table = None


def parse(html: str) -> Parse:
    p = Parse()
    p.feed(html)
    return p


def check_cell(cells: dict, col: str, value, fmt) -> None:
    """The data-value is the TSV value exactly (repr of the float pandas reads); the shown text is its rounding."""
    got_value, shown = cells[col]
    assert got_value == data_value(value), (col, got_value, value)
    if got_value:
        assert float(got_value) == float(value)
        assert shown == fmt(value), (col, shown, value)


def check_figures(html: str, figdir: Path) -> list[Path]:
    """Every embedded figure is an SVG written in figdir, with its PDF beside it; every SVG there parses."""
    p = parse(html)
    embedded = []
    for src, name in p.imgs:
        assert src.startswith(SVG_URI), src[:40]
        assert name.startswith("figures/") and name.endswith(".svg"), name
        f = figdir / name[len("figures/") :]
        assert base64.b64decode(src[len(SVG_URI) :]) == f.read_bytes(), f"the embedded figure is not {f}"
        assert f.with_suffix(".pdf").read_bytes()[:5] == b"%PDF-"
        embedded.append(f)
    written = {f: f for f in figdir.rglob("*.svg")}
    for f in written.values():
        ET.fromstring(f.read_bytes())  # well-formed XML
        assert f.with_suffix(".pdf").is_file()
    return embedded


def check_standalone(html: str) -> None:
    p = parse(html)
    assert p.urls == []
    assert "http://" not in html and "https://" not in html and "url(" not in html
    assert "<link" not in html and "<script src" not in html
    assert "table.sortable" in html and "table-filter" in html and "localeCompare" in html  # the sort/filter script
    assert all("sortable" in (t.get("class") or "") for t in p.tables)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("rep")
    c1 = fake_cohort(root / "A", True, 1)
    c2 = fake_cohort(root / "B", False, 2)
    out = root / "report.html"
    build_report(
        {"A": root / "A", "B": root / "B"},
        out,
        signatures=SIGS,
        config=CONFIG,
        primary_method="zscore",
        input_files=[("A: scores", str(root / "A" / "scores" / "zscore.tsv")), ("x", "geo:GSE1")],
    )
    return out.read_text(), c1, c2, root


def test_standalone_and_figures_are_the_written_svgs(report):
    html, _, _, root = report
    check_standalone(html)
    embedded = check_figures(html, root / "figures")
    assert len(embedded) >= 4 and (root / "figures" / "summary_heatmap.svg") in embedded
    assert (root / "figures" / "A" / "score_distribution_zscore.svg") in embedded


def test_summary_numbers_equal_the_tsvs(report):
    html, (corr, surv), (corr_b, _), _ = report
    p = parse(html)
    rows = {
        (r["attrs"]["data-cohort"], r["attrs"]["data-signature-b"]): r["cells"] for r in p.rows["summary-correlations"]
    }
    assert len(rows) == len(corr) + len(corr_b)
    for r in corr.to_dict("records"):
        cells = rows[("A", r["signature_b"])]
        check_cell(cells, "r", r["r"], fmt_r)
        assert cells["p_random_null"] == ("", "NA") or cells["p_random_null"][0] == ""
    srows = p.rows["summary-survival"]
    assert len(srows) == 3 and {r["attrs"]["data-signature"] for r in srows} == {
        "SS",
        "SS_attraction",
        "SS_infiltration",
    }
    for r in srows:
        check_cell(r["cells"], "hr_per_sd", 1.5, fmt_r)
        check_cell(r["cells"], "p", 0.012, fmt_p)
        assert r["cells"]["events"] == ("12", "12")


def test_says_why_things_are_missing(report):
    html, _, _, _ = report
    assert "Partial signature lists" in html and "LMS (lung): only part of the published gene list" in html
    assert "BoMS is not scored in cohort A: no signature gene is in the cohort. Missing genes:" in html
    assert "No survival analysis for cohort B: no time/event columns in the cohort sheet for cohort B." in html
    assert "Cohort A, endpoint t/e: only 12 events (fewer than 20" in html
    assert "No scatter plot of SS vs BoMS in cohort A: BoMS is not scored in this cohort" in html
    assert "not found when the report was written" not in html and "downloaded from GEO" in html
    assert re.search(r"<td><code>[0-9a-f]{64}</code></td>", html)  # sha256 of the input file


FOCAL = ["SS", "SS_attraction", "SS_infiltration"]


def test_every_declared_figure_is_written_and_only_those(tmp_path, report):
    """layout.figure_names (from config, sheet and signatures) names exactly the files the report writes under
    figures/: the figures it draws, and a "not drawn: why" placeholder for each the data do not allow; the HTML
    is the same as without the plan (placeholders are never shown)."""
    from seedsig.core import layout
    from seedsig.report.figure_plan import prerank_sets

    html_without, *_ = report
    root = tmp_path / "results"
    fake_cohort(root / "A", True, 1)
    fake_cohort(root / "B", False, 2)
    plan = {
        "cohorts": {
            "A": {"data_type": "counts", "primary_endpoint": "t/e", "endpoints": ["os"], "relapse_site": True},
            "B": {"data_type": "log_expression", "primary_endpoint": "", "endpoints": [], "relapse_site": False},
        },
        "methods": ["zscore"],
        "primary": "zscore",
        "focal": FOCAL,
        "targets": ["LMS", "BoMS", "BrMS"],
        "prerank_sets": prerank_sets(SIGS, FOCAL),
    }
    drawn = build_report(
        {"A": root / "A", "B": root / "B"},
        root / "report.html",
        signatures=SIGS,
        config=CONFIG,
        primary_method="zscore",
        input_files=[("A: scores", str(root / "A" / "scores" / "zscore.tsv")), ("x", "geo:GSE1")],
        figure_plan=plan,
    )
    declared = layout.figure_files(results=str(root), **plan)
    written = sorted(str(p) for p in (root / "figures").rglob("*") if p.is_file())
    assert written == sorted(declared)
    assert "A/library_size.svg" in "".join(declared) and "B/library_size" not in "".join(declared)
    assert f"{root}/figures/A/km_zscore_SS_t-e.svg" in declared and f"{root}/figures/A/km_zscore_SS_os.pdf" in declared
    names = {n.stem: n for n in layout.figure_names(**plan)}
    placeholders = sorted(set(names) - {w.stem for w in drawn})
    assert {w.stem for w in drawn} <= set(names) and placeholders
    for stem in placeholders:
        svg = (root / "figures" / f"{stem}.svg").read_text()
        assert "not drawn: " in svg and stem in svg, stem
    svg = (root / "figures" / "A" / "scatter_null_zscore_SS_BoMS.svg").read_text()
    assert "not drawn: SS vs BoMS in cohort A: BoMS is not scored in this cohort" not in svg  # the clause only
    assert "not drawn: BoMS is not scored in this cohort" in svg
    assert "one cohort" not in (root / "figures" / "meta" / "forest_hr_zscore_SS.svg").read_text()
    html = (root / "report.html").read_text()
    assert html == html_without.replace(str(report[3]), str(root))
    embedded = check_figures(html, root / "figures")
    assert {str(f.relative_to(root / "figures"))[: -len(".svg")] for f in embedded} == {w.stem for w in drawn}


def test_figures_are_reproducible(tmp_path):
    from seedsig.core.plotting import FigureWriter
    from seedsig.report.figures import summary_heatmap

    v = pd.DataFrame({"c1": [0.5, np.nan], "pooled": [0.2, -0.4]}, index=["LMS", "BoMS"])
    m = pd.DataFrame({"c1": [True, False], "pooled": [False, True]}, index=v.index)
    out = []
    for d in ("a", "b"):
        w = FigureWriter(tmp_path / d)
        w("h", lambda: summary_heatmap(v, m, title="t", mark_label="null p < 0.05"), "t")
        out.append(((tmp_path / d / "h.svg").read_bytes(), (tmp_path / d / "h.pdf").read_bytes()))
    assert out[0] == out[1]
    assert b"<dc:date>" not in out[0][0] and b"CreationDate" not in out[0][1]


# ------------------------------------------------------------------------------------------- end to end
LOWCOV = "signature\tgene\tdirection\tweight\torgan\tcomplete\tcitation\toriginal_symbol\n" + "".join(
    f"LOWCOV\t{g}\tup\t\tlung\ttrue\tA test list whose genes are mostly absent\t{g}\n"
    for g in ("IL6", "NOTAGENE1", "NOTAGENE2", "NOTAGENE3")
)


def _workdir(tmp: Path, rows: list[str]) -> Path:
    from test_pipeline import new_workdir

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
    from test_pipeline import run_snakemake

    wd = _workdir(tmp_path_factory.mktemp("report_two"), [EXAMPLE_ROW, NOSURV_ROW])
    run_snakemake(wd, "--configfile", str(wd / "config" / "test.yaml"))
    return wd


@pytest.fixture(scope="module")
def one_cohort_run(two_cohort_run, tmp_path_factory):
    """The same workdir with the sheet reduced to one cohort: only meta and report run again."""
    from test_pipeline import run_snakemake

    wd = tmp_path_factory.mktemp("report_one") / "wd"
    shutil.copytree(two_cohort_run, wd, symlinks=True)
    (wd / "config" / "test_cohorts.tsv").write_text(
        "cohort\texpression\tdata_type\tgene_id\tclinical\ttime\tevent\n" + EXAMPLE_ROW + "\n"
    )
    proc = run_snakemake(wd, "--configfile", str(wd / "config" / "test.yaml"))
    return wd, proc


@pytest.mark.slow
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


@pytest.mark.slow
def test_e2e_figures_written_and_embedded(two_cohort_run):
    wd = two_cohort_run
    html = (wd / "results" / "report.html").read_text()
    figdir = wd / "results" / "figures"
    embedded = {f.relative_to(figdir).as_posix() for f in check_figures(html, figdir)}
    assert embedded == {
        f.relative_to(figdir).as_posix() for f in figdir.rglob("*.svg")
    }  # every written figure is shown
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


@pytest.mark.slow
def test_e2e_null_equals_the_associate_stage(two_cohort_run):
    """The null histograms are recomputed in the report stage; their p equals correlations.tsv's p_random_null."""
    import anndata as ad

    from seedsig.report.load import null_correlations

    wd = two_cohort_run
    cfg = yaml.safe_load((wd / "config" / "test.yaml").read_text())
    a = ad.read_h5ad(wd / "results" / "example" / "expression.h5ad")
    expr = pd.DataFrame(np.asarray(a.X).T, index=a.var_names.astype(str), columns=a.obs_names.astype(str))
    scores = pd.read_csv(wd / "results" / "example" / "scores" / "ssgsea.tsv", sep="\t", index_col=0)
    scores.index = scores.index.astype(str)
    sigs = {s.name: s for s in load_signatures([wd / f for f in cfg["signatures"]["files"]])}
    corr = pd.read_csv(wd / "results" / "example" / "correlations.tsv", sep="\t")
    null = None
    checked = 0
    for r in corr[(corr["signature_a"] == "SS") & corr["p_random_null"].notna()].to_dict("records"):
        rn, p, null = null_correlations(
            expr,
            scores,
            sigs["SS"],
            r["signature_b"],
            "ssgsea",
            statistic=r["statistic"],
            n_random=cfg["associate"]["n_random"],
            seed=cfg["associate"]["seed"],
            params=cfg["scoring"]["ssgsea"],
            observed_r=r["r"],
            null=null,
        )
        assert float(f"{p:.10g}") == r["p_random_null"], r
        assert rn.size == cfg["associate"]["n_random"]
        checked += 1
    assert checked >= 4


@pytest.mark.slow
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
    check_figures(one, wd1 / "results" / "figures")
    assert not (wd1 / "results" / "figures" / "meta").exists()
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


@pytest.mark.slow
def test_e2e_snakemake_report_zip_has_the_figures(two_cohort_run):
    import zipfile

    from test_pipeline import run_snakemake

    wd = two_cohort_run
    run_snakemake(wd, "--configfile", str(wd / "config" / "test.yaml"), "--report", str(wd / "report.zip"))
    names = zipfile.ZipFile(wd / "report.zip").namelist()
    assert any(n.endswith("summary_heatmap.svg") for n in names)
    assert any(n.endswith("example/km_ssgsea_SS_mfs_months-mfs_event.svg") for n in names)
    assert any(n.endswith("report.html") for n in names)
