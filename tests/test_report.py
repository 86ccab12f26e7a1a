"""The report: standalone (no external URL, images embedded and decodable), numbers equal the TSVs,
and it says plainly when data are missing."""

import base64
import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from seedsig.report import build_report, fmt_p, fmt_r
from seedsig.signatures import load_signatures

from conftest import REPO

SIGS = load_signatures([REPO / "config" / "signatures" / f for f in ("self_seeding.tsv", "organ_metastasis.tsv")])
CONFIG = {"ingest": {"collapse": "max_mean"}, "normalize": {"prior_count": 2}, "scoring": {"methods": ["zscore"], "min_genes": 2, "min_fraction": 0.5, "ssgsea": {"alpha": 0.25, "normalize": False}}}


def fake_cohort(d, with_survival: bool, seed: int):
    rng = np.random.default_rng(seed)
    (d / "scores").mkdir(parents=True)
    n = 40
    names = [s.name for s in SIGS]
    sc = pd.DataFrame(rng.normal(size=(n, len(names))), columns=names, index=pd.Index([f"s{i}" for i in range(n)], name="sample"))
    sc["BoMS"] = np.nan
    sc.reset_index().to_csv(d / "scores" / "zscore.tsv", sep="\t", index=False, na_rep="NA")
    corr = pd.DataFrame([("zscore", "SS", t, rng.uniform(-1, 1), rng.uniform(0, 0.1), rng.uniform(0, 0.1), n) for t in ["LMS", "BoMS", "BrMS"]], columns=["method", "signature_a", "signature_b", "r", "p", "q", "n"])
    corr.loc[1, ["r", "p", "q"]] = np.nan
    corr.to_csv(d / "correlations.tsv", sep="\t", index=False, na_rep="NA")
    surv = pd.DataFrame(columns=["method", "signature", "endpoint", "n", "events", "hr_per_sd", "ci_low", "ci_high", "p", "note"])
    if with_survival:
        surv = pd.DataFrame([("zscore", s, "t/e", n, 12, 1.5, 1.1, 2.0, 0.012, "") for s in ["SS", "SS_attraction", "SS_infiltration"]], columns=surv.columns)
    surv.to_csv(d / "survival.tsv", sep="\t", index=False, na_rep="NA")
    cov = pd.DataFrame(
        [(s.name, s.organ, s.complete, s.size, s.size if s.name != "BoMS" else 0, 1.0 if s.name != "BoMS" else 0.0, ",".join(s.genes), "" if s.name != "BoMS" else ",".join(s.genes), s.name != "BoMS", "" if s.name != "BoMS" else "no signature gene is in the cohort") for s in SIGS],
        columns=["signature", "organ", "complete", "n_genes", "n_present", "fraction_present", "present_genes", "missing_genes", "scored", "reason"],
    )
    cov.to_csv(d / "coverage.tsv", sep="\t", index=False)
    pd.DataFrame({"input_id": ["IL8", "IL6", "COX2"], "symbol": ["CXCL8", "IL6", "COX2"], "status": ["previous", "approved", "ambiguous"], "detail": ["", "", ""], "kept": [True, True, True]}).to_csv(d / "gene_mapping.tsv", sep="\t", index=False)
    return corr, surv


class Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.imgs, self.urls = [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.imgs.append(a.get("src", ""))
        for k in ("src", "href"):
            if a.get(k) and not a[k].startswith(("#", "data:")):
                self.urls.append(a[k])


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("rep")
    c1 = fake_cohort(root / "A", True, 1)
    c2 = fake_cohort(root / "B", False, 2)
    out = root / "report.html"
    build_report({"A": root / "A", "B": root / "B"}, out, signatures=SIGS, config=CONFIG, primary_method="zscore")
    return out.read_text(), c1, c2


def test_standalone_and_images_decode(report):
    html, _, _ = report
    p = Collect()
    p.feed(html)
    assert p.urls == [] and "url(" not in html and "http://" not in html and "https://" not in html
    assert len(p.imgs) >= 4
    for src in p.imgs:
        assert src.startswith("data:image/png;base64,")
        raw = base64.b64decode(src.split(",", 1)[1])
        assert raw[:8] == b"\x89PNG\r\n\x1a\n" and len(raw) > 2000


def test_summary_numbers_equal_the_tsvs(report):
    html, (corr, surv), _ = report
    table = re.search(r'<table class="summary" data-cohort="A">(.*?)</table>', html, re.S).group(1)
    for r in corr.itertuples():
        assert f"<td>{r.signature_b}</td>" in table
        assert f">{fmt_r(r.r)}</td>" in table and f">{fmt_p(r.q)}</td>" in table
    assert "1.50 (1.10-2.00)" in html and fmt_p(0.012) in html


def test_says_why_things_are_missing(report):
    html, _, _ = report
    assert "Partial signature lists" in html and "LMS" in html
    assert "BoMS was not scored: no signature gene is in the cohort" in html
    assert "No survival endpoint for this cohort" in html  # cohort B
    assert "Only 12 events" in html
