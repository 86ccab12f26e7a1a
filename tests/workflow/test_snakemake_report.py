"""Snakemake's own report (`snakemake --report`), the rule logs (progress bars, summaries with numbers) and the
terminal (one summary line per rule), on one run of the example pipeline shared with test_browser.py.

The run has two cohorts, the example and a second sheet row on the same files (``example_b``), so that the
meta-analysis pools something and the report shows pooled rows."""

import re
import zipfile
from pathlib import Path

import pytest
from conftest import run_snakemake

pytestmark = pytest.mark.slow

_RUN: dict = {}


# tables registered with report(...) in workflow/rules/*.smk, per rule (normalize writes no table)
COHORTS = ("example", "example_b")
REGISTERED = {
    "coverage": [f"{c}/{t}" for c in COHORTS for t in ("coverage.tsv", "signature_qc.tsv")],
    "score": [f"{c}/scores/{m}.tsv" for c in COHORTS for m in ("ssgsea", "zscore")],
    "contributions": [f"{c}/contributions/{m}.tsv" for c in COHORTS for m in ("ssgsea", "zscore")],
    "associate": [f"{c}/{t}" for c in COHORTS for t in ("correlations.tsv", "prerank.tsv")],
    "survival": [
        f"{c}/{t}" for c in COHORTS for t in ("survival.tsv", "km.tsv", "logrank.tsv", "cumulative_incidence.tsv")
    ],
    "meta": ["meta/correlations.tsv", "meta/survival.tsv"],
}


def test_snakemake_report_zip(example_run):
    wd, _ = example_run
    proc = run_snakemake(wd, "--report", "report.zip")
    assert "Report created" in proc.stdout + proc.stderr
    with zipfile.ZipFile(wd / "report.zip") as z:
        names = z.namelist()
        assert "report/report.html" in names, names
        index = z.read("report/report.html").decode()
        raw = sorted(n for n in names if n.startswith("report/data/raw/") and n.endswith(".tsv"))
        # each registered table is in the zip, byte for byte
        by_content = {z.read(n): n for n in raw}
    expected = [p for tables in REGISTERED.values() for p in tables]
    assert len(raw) == len(expected), raw
    for rel in expected:
        data = (wd / "results" / rel).read_bytes()
        assert data in by_content, f"{rel} is not in the report"
        assert Path(by_content[data]).name == Path(rel).name
    # captions rendered (RST + Jinja): the question, the method and the parameters of the run
    assert "Does the self-seeding signature track the organ-specific metastasis signatures in cohort" in index
    assert "seeded percentile bootstrap, 1000" in index and "1000 random signatures matched" in index
    assert "Signature scores in cohort example, method ssgsea" in index
    assert "Hazard ratios pooled across the 2 cohort(s)" in index and "Cohort example_b" in index
    # categories by cohort and stage, and across cohorts
    for cat in ("Cohort example", "Across cohorts", "association", "survival", "coverage and scores", "meta-analysis"):
        assert cat in index, cat


def _log(wd: Path, rule: str, name: str = "example") -> str:
    return (wd / "results" / "logs" / rule / f"{name}.log").read_text()


def test_rule_logs_have_progress_bars_and_summaries(example_run):
    wd, _ = example_run
    assoc = _log(wd, "associate")
    # the summary with the numbers and the time of each long step
    m = re.search(
        r"associate example: (\d+) correlation rows; random null B=1000 for 3 focal x 2 methods in [\d.]+ s; "
        r"bootstrap B=1000 for (\d+) Spearman rows in [\d.]+ s; prerank (\d+) rows for 2 method\(s\) in [\d.]+ s; "
        r"[\d.]+ s in all",
        assoc,
    )
    assert m, assoc
    assert int(m.group(1)) == 120 and int(m.group(2)) == 60 and int(m.group(3)) > 0
    # progress bars: the random null per method x focal, the bootstrap grid, prerank per method, each to 100%
    for desc, total in (
        ("random null B=1000 (method x focal)", 6),
        ("correlations, bootstrap B=1000 (method x pair)", 60),
        ("prerank, 1000 permutations (method)", 2),
    ):
        assert re.search(re.escape(desc) + r": 100%\|[^|]*\| " + f"{total}/{total}", assoc), (desc, assoc)
    surv = _log(wd, "survival")
    m = re.search(
        r"survival example: (\d+) Cox rows \((\d+) endpoint\(s\) x 2 methods\) in [\d.]+ s; random null B=1000 for "
        r"(\d+) univariate rows from (\d+) method x signature score sets in [\d.]+ s",
        surv,
    )
    assert m, surv
    assert int(m.group(1)) > 0 and int(m.group(3)) > 0 and int(m.group(4)) == 26
    # one null per method x signature, shared by the endpoints (each endpoint's Cox fits use the same draws)
    assert re.search(r"random null B=1000 \(method x signature\): 100%\|[^|]*\| 26/26", surv), surv
    # logs stay short: a bar leaves a few updates, not one line per step
    assert len(assoc.splitlines()) < 30 and len(surv.splitlines()) < 40
    for rule, name in (
        ("score", "example.ssgsea"),
        ("coverage", "example"),
        ("normalize", "example"),
        ("meta", "meta"),
    ):
        path = wd / "results" / "logs" / (f"{rule}/{name}.log" if rule != "meta" else "meta.log")
        assert " INFO " in path.read_text(), path


def test_terminal_gets_one_summary_line_per_rule(example_run):
    wd, proc = example_run
    out = proc.stdout + proc.stderr
    lines = out.splitlines()
    expected = {"meta: 2 cohorts;": 1}
    for c in COHORTS:
        for rule in ("normalize", "coverage", "score", "associate", "survival"):
            if rule == "score":
                expected.update({f"score {c} with ssgsea:": 1, f"score {c} with zscore:": 1})
            else:
                expected[f"{rule} {c}:"] = 1
    for prefix, n in expected.items():
        hits = [ln for ln in lines if ln.startswith(f"seedsig: {prefix}")]
        assert len(hits) == n, (prefix, hits)
    summary = next(ln for ln in lines if ln.startswith("seedsig: associate example:"))
    assert "random null B=1000" in summary and "bootstrap B=1000" in summary
    # the detail (the intermediate INFO lines) and the progress bars stay in the logs
    assert not any(ln.startswith("seedsig: associate example: prerank") for ln in lines)
    assert "%|" not in out, "a progress bar reached the terminal"


def test_no_progress_output_in_tables_or_sidecars(example_run):
    wd, _ = example_run
    files = [p for p in (wd / "results").rglob("*") if p.suffix in (".tsv", ".json") and "logs" not in p.parts]
    assert len(files) > 20
    for p in files:
        text = p.read_text()
        assert "%|" not in text and "\r" not in text and "random null B=" not in text, p
