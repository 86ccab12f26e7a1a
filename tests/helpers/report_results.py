"""Synthetic results trees for report tests: a cohort's tables as the pipeline writes them (``write_cohort``), pooled
tables (``write_meta``), the report built from them (``report``) and its summary boxes parsed (``parse``)."""

import html as htmlmod
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
from conftest import REPO

from seedsig.report.build import build_report
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
