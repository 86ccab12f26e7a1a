"""The report: standalone (no URL, figures embedded as the SVG written to results/figures/), the summary tables'
numbers equal the TSVs (machine-readable contract), every figure also as SVG + PDF, reproducible figures,
sortable/filterable tables, and it says plainly why a section is missing.

Shown values are rounded: r, CI bounds and hazard ratios to 2 decimals (fmt_r), p-values to 2 significant digits,
scientific below 0.001 (fmt_p); data-value holds repr() of the float pandas reads from the TSV."""

import re

import numpy as np
import pandas as pd
import pytest
from conftest import REPO
from helpers.report_html import check_cell, check_figures, check_standalone, parse

from seedsig.report.build import build_report
from seedsig.report.text import fmt_p, fmt_r
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
