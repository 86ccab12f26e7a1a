"""The run's report: one standalone HTML file (``results/report.html``) a biologist reads, and every figure of
it written to ``results/figures/`` as SVG and PDF (:mod:`seedsig.figures` draws them; the HTML embeds the SVG
that was written, as a data: URI; nothing is fetched from the network).

Sections: Summary (SS-organ correlations and SS hazard ratios per cohort and pooled, as tables and a heatmap,
and the caveats in plain words), Data and QC, Scores, Outcome, Across cohorts, Tables, Methods (a paste-able
paragraph, references, input checksums, the configuration, software versions). A section that cannot be
shown says why. Every table can be sorted (click a header) and filtered (the text box above it).

Machine-readable summary (read by the browser test): ``<table id="summary-correlations">``, one row per
(cohort or ``pooled``, method, signature_a, signature_b, statistic) with attributes ``data-cohort``,
``data-method``, ``data-signature-a``, ``data-signature-b``, ``data-statistic`` and cells
``<td data-col="r|ci_low|ci_high|p_random_null|r_without_shared" data-value="repr(float)">``;
``<table id="summary-survival">``, one row per (cohort or ``pooled``, method, signature, endpoint, model) of the
focal signatures with ``data-cohort``, ``data-method``, ``data-signature``, ``data-endpoint``, ``data-model`` and
cells ``data-col`` = ``hr_per_sd``, ``ci_low``, ``ci_high``, ``p``, ``p_random_null``, ``events``. ``data-value``
is the TSV's value as pandas reads it (``repr`` of the float, ``str`` of an integer; empty when missing);
the text shown is rounded: r, CI bounds and HR to 2 decimals (:func:`fmt_r`), p-values by :func:`fmt_p`.
Pooled rows come from ``results/meta/*.tsv``, pooling ``random_dl`` (estimate = pooled r, or pooled HR per SD).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .io import atomic_path, versions
from .signatures import Signature

log = logging.getLogger("seedsig")

# Okabe-Ito colour-blind-safe palette (also used by prerank.enrichment_plot)
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
FEW_EVENTS = 20  # an endpoint with fewer events than this is flagged: its hazard ratios are imprecise
ALPHA = 0.05

REFERENCES = {
    "kim2009": "Kim MY, Oskarsson T, Acharyya S, et al. Tumor self-seeding by circulating cancer cells. Cell 2009;139:1315-1326.",
    "barbie2009": "Barbie DA, Tamayo P, Boehm JS, et al. Systematic RNA interference reveals that oncogenic KRAS-driven cancers require TBK1. Nature 2009;462:108-112. (ssGSEA)",
    "hanzelmann2013": "Hänzelmann S, Castelo R, Guinney J. GSVA: gene set variation analysis for microarray and RNA-seq data. BMC Bioinformatics 2013;14:7.",
    "lee2008": "Lee E, Chuang HY, Kim JW, Ideker T, Lee D. Inferring pathway activity toward precise disease classification. PLoS Comput Biol 2008;4:e1000217. (combined z-score)",
    "tomfohr2005": "Tomfohr J, Lu J, Kepler TB. Pathway level analysis of gene expression using singular value decomposition. BMC Bioinformatics 2005;6:225. (PLAGE)",
    "foroutan2018": "Foroutan M, Bhuva DD, Lyu R, et al. Single sample scoring of molecular phenotypes. BMC Bioinformatics 2018;19:404. (singscore)",
    "wolf2018": "Wolf FA, Angerer P, Theis FJ. SCANPY: large-scale single-cell gene expression data analysis. Genome Biol 2018;19:15. (score_genes)",
    "robinson2010": "Robinson MD, Oshlack A. A scaling normalization method for differential expression analysis of RNA-seq data. Genome Biol 2010;11:R25. (TMM)",
    "robinson2010edger": "Robinson MD, McCarthy DJ, Smyth GK. edgeR: a Bioconductor package for differential expression analysis of digital gene expression data. Bioinformatics 2010;26:139-140.",
    "chen2016": "Chen Y, Lun ATL, Smyth GK. From reads to genes to pathways: differential expression analysis of RNA-Seq experiments using Rsubread and the edgeR quasi-likelihood pipeline. F1000Research 2016;5:1438. (filterByExpr)",
    "love2014": "Love MI, Huber W, Anders S. Moderated estimation of fold change and dispersion for RNA-seq data with DESeq2. Genome Biol 2014;15:550.",
    "bolstad2003": "Bolstad BM, Irizarry RA, Astrand M, Speed TP. A comparison of normalization methods for high density oligonucleotide array data based on variance and bias. Bioinformatics 2003;19:185-193. (quantile normalization)",
    "ritchie2015": "Ritchie ME, Phipson B, Wu D, et al. limma powers differential expression analyses for RNA-sequencing and microarray studies. Nucleic Acids Res 2015;43:e47.",
    "venet2011": "Venet D, Dumont JE, Detours V. Most random gene expression signatures are significantly associated with breast cancer outcome. PLoS Comput Biol 2011;7:e1002240. (random-signature null, meta-PCNA)",
    "bh1995": "Benjamini Y, Hochberg Y. Controlling the false discovery rate: a practical and powerful approach to multiple testing. J R Stat Soc B 1995;57:289-300.",
    "subramanian2005": "Subramanian A, Tamayo P, Mootha VK, et al. Gene set enrichment analysis. Proc Natl Acad Sci USA 2005;102:15545-15550. (GSEA)",
    "fang2023": "Fang Z, Liu X, Peltz G. GSEApy: a comprehensive package for performing gene set enrichment analysis in Python. Bioinformatics 2023;39:btac757.",
    "cox1972": "Cox DR. Regression models and life-tables. J R Stat Soc B 1972;34:187-220.",
    "efron1977": "Efron B. The efficiency of Cox's likelihood function for censored data. J Am Stat Assoc 1977;72:557-565. (Efron ties)",
    "grambsch1994": "Grambsch PM, Therneau TM. Proportional hazards tests and diagnostics based on weighted residuals. Biometrika 1994;81:515-526. (cox.zph)",
    "harrell1982": "Harrell FE, Califf RM, Pryor DB, Lee KL, Rosati RA. Evaluating the yield of medical tests. JAMA 1982;247:2543-2546. (concordance)",
    "kaplan1958": "Kaplan EL, Meier P. Nonparametric estimation from incomplete observations. J Am Stat Assoc 1958;53:457-481.",
    "mantel1966": "Mantel N. Evaluation of survival data and two new rank order statistics arising in its consideration. Cancer Chemother Rep 1966;50:163-170. (log-rank test)",
    "aalen1978": "Aalen OO, Johansen S. An empirical transition matrix for non-homogeneous Markov chains based on censored observations. Scand J Stat 1978;5:141-150.",
    "dersimonian1986": "DerSimonian R, Laird N. Meta-analysis in clinical trials. Control Clin Trials 1986;7:177-188.",
    "paule1982": "Paule RC, Mandel J. Consensus values and weighting factors. J Res Natl Bur Stand 1982;87:377-385.",
    "higgins2002": "Higgins JPT, Thompson SG. Quantifying heterogeneity in a meta-analysis. Stat Med 2002;21:1539-1558. (I²)",
    "efron1993": "Efron B, Tibshirani RJ. An Introduction to the Bootstrap. Chapman & Hall 1993. (bootstrap CI)",
    "fisher1921": "Fisher RA. On the probable error of a coefficient of correlation deduced from a small sample. Metron 1921;1:3-32. (Fisher z)",
    "koster2012": "Köster J, Rahmann S. Snakemake: a scalable bioinformatics workflow engine. Bioinformatics 2012;28:2520-2522.",
    "seabold2010": "Seabold S, Perktold J. statsmodels: econometric and statistical modeling with Python. Proc 9th Python in Science Conf 2010.",
}
SCORING_REFS = {"ssgsea": ["barbie2009", "hanzelmann2013"], "gsva": ["hanzelmann2013"], "zscore": ["lee2008", "hanzelmann2013"], "plage": ["tomfohr2005", "hanzelmann2013"], "singscore": ["foroutan2018"], "score_genes": ["wolf2018"], "mean_z": []}
SCORING_TEXT = {
    "ssgsea": "ssGSEA (Barbie et al. 2009, as in GSVA; Hänzelmann et al. 2013)",
    "gsva": "GSVA (Hänzelmann et al. 2013, as GSVA 1.46)",
    "zscore": "the combined z-score (Lee et al. 2008, as in GSVA)",
    "plage": "PLAGE (Tomfohr et al. 2005, as in GSVA, sign-oriented)",
    "singscore": "singscore (Foroutan et al. 2018)",
    "score_genes": "scanpy's score_genes (Wolf et al. 2018, seeded)",
    "mean_z": "the signed mean z-score",
}


# ------------------------------------------------------------------------------------------- formatting
def _finite(x) -> bool:
    try:
        return x is not None and np.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def fmt_r(x) -> str:
    """r, CI bounds and hazard ratios as shown: 2 decimals; NA when missing."""
    return f"{float(x):.2f}" if _finite(x) else "NA"


def fmt_p(x) -> str:
    """p-values as shown: 2 significant digits, scientific below 0.001; NA when missing."""
    if not _finite(x):
        return "NA"
    x = float(x)
    if x == 0:
        return "<1e-300"
    return f"{x:.1e}" if x < 0.001 else f"{x:.2g}"


def fmt_hr(row) -> str:
    if not _finite(row.get("hr_per_sd")):
        return "NA"
    return f"{row['hr_per_sd']:.2f} ({fmt_r(row.get('ci_low'))}-{fmt_r(row.get('ci_high'))})"


def fmt_ci(lo, hi) -> str:
    if not (_finite(lo) and _finite(hi)):
        return "NA"
    return f"{float(lo):.2f} to {float(hi):.2f}"


def data_value(x) -> str:
    """The value as pandas read it, for data-value attributes: repr of a float, str of an integer, '' if missing."""
    if x is None or isinstance(x, str) and x == "":
        return ""
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    try:
        f = float(x)
    except (TypeError, ValueError):
        return str(x)
    return "" if math.isnan(f) else repr(f)


def _cell(col: str, value, shown: str) -> dict:
    return {"col": col, "value": data_value(value), "shown": shown}


def _text(x) -> str:
    return x if isinstance(x, str) else ""


def _true(x) -> bool:
    return str(x).strip().lower() == "true"


def _read(path: Path) -> pd.DataFrame | None:
    return pd.read_csv(path, sep="\t") if path.is_file() else None


def _json(path: Path) -> dict:
    try:
        return json.loads(path.read_text()) if path.is_file() else {}
    except (OSError, ValueError):
        return {}


def _params(side: dict) -> dict:
    p = side.get("parameters", {})
    return p if isinstance(p, dict) else {}


def _img(w) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(w.svg.encode("utf-8")).decode("ascii")


def _fig(w, caption: str = "") -> dict:
    return {"src": _img(w), "title": w.title, "caption": caption or w.caption, "file": f"figures/{w.stem}.svg", "pdf": f"figures/{w.stem}.pdf"}


def no_urls(html: str) -> str:
    """Write the '//' of any http(s):// in text (the config's GEO addresses, a citation) as character
    references: the page shows the same text but holds no URL a browser or a checker could take for a link."""
    return html.replace("http://", "http:&#47;&#47;").replace("https://", "https:&#47;&#47;")


# ------------------------------------------------------------------------------------------- checksums
def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """sha256 of a file, read in chunks (large inputs are never held in memory)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def input_checksums(files: Sequence[tuple[str, str]]) -> list[dict]:
    """(what, path) -> rows with size and sha256; geo: accessions and missing files say so."""
    rows, seen = [], set()
    for what, path in files:
        if not path or (what, path) in seen:
            continue
        seen.add((what, path))
        p = Path(str(path))
        if str(path).startswith("geo:"):
            rows.append({"what": what, "path": path, "bytes": "", "sha256": "", "note": "downloaded from GEO into the cache (geo.cache); the cache records a checksum per file"})
        elif p.is_file():
            rows.append({"what": what, "path": path, "bytes": p.stat().st_size, "sha256": sha256_file(p), "note": ""})
        else:
            rows.append({"what": what, "path": path, "bytes": "", "sha256": "", "note": "not found when the report was written"})
    return rows


# ------------------------------------------------------------------------------------------- loading
def _load_cohort(name: str, d: Path) -> dict:
    c: dict[str, Any] = {"name": name, "dir": d}
    for key, fn in (("coverage", "coverage.tsv"), ("qc", "signature_qc.tsv"), ("corr", "correlations.tsv"), ("surv", "survival.tsv"), ("mapping", "gene_mapping.tsv"), ("km", "km.tsv"), ("lr", "logrank.tsv"), ("aj", "cumulative_incidence.tsv"), ("prerank", "prerank.tsv")):
        c[key] = _read(d / fn)
    scores = {}
    for p in sorted((d / "scores").glob("*.tsv")):
        t = pd.read_csv(p, sep="\t", index_col=0)
        t.index = t.index.astype(str)
        scores[p.stem] = t
    c["scores"] = scores
    c["surv_side"], c["corr_side"], c["pre_side"] = _json(d / "survival.json"), _json(d / "correlations.json"), _json(d / "prerank.json")
    c["score_side"] = {m: _json(d / "scores" / f"{m}.json") for m in scores}
    c["h5ad"] = d / "expression.h5ad"
    return c


def _adata(c: dict):
    if "adata" not in c:
        c["adata"] = None
        if c["h5ad"].is_file():
            import anndata as ad

            c["adata"] = ad.read_h5ad(c["h5ad"])
    return c["adata"]


def _expr(c: dict) -> pd.DataFrame | None:
    """genes x samples normalized expression (as the associate stage reads it)."""
    a = _adata(c)
    if a is None:
        return None
    return pd.DataFrame(np.asarray(a.X).T, index=a.var_names.astype(str), columns=a.obs_names.astype(str))


# ------------------------------------------------------------------------------------------- random null
def null_correlations(expr: pd.DataFrame, scores: pd.DataFrame, signature: Signature, target: str, method: str, *, statistic: str, n_random: int, seed: int, params: dict | None, observed_r: float, null: np.ndarray | None = None) -> tuple[np.ndarray, float, np.ndarray]:
    """The random-signature null of one correlation, recomputed as the associate stage computed it
    (:func:`seedsig.associate.correlation_table`): the same ``n_random`` random signatures (seed
    ``stable_seed(seed, 'random_null', method, focal)``), scored by the same method and parameters, correlated
    with the target over the samples where both scores are finite. Returns (null correlations, p_random_null,
    the random scores for reuse over targets). The p equals the ``p_random_null`` of correlations.tsv."""
    from .associate import _null_p, _ranks, corr_rows, random_null_scores, stable_seed

    t = scores.loc[sorted(scores.index)]
    samples = list(t.index)
    if null is None:
        x = expr.copy()
        x.columns = x.columns.astype(str)
        x.index = x.index.astype(str)
        raw = random_null_scores(x[samples], signature, method, n_random, stable_seed(seed, "random_null", method, signature.name), params)
        null = pd.DataFrame(raw.T, index=samples).reindex(t.index).to_numpy().T
    va = t[signature.name].to_numpy(dtype=float)
    vb = t[target].to_numpy(dtype=float)
    both = np.isfinite(va) & np.isfinite(vb)
    if statistic == "spearman":
        nn, tv = _ranks(null[:, both]), _ranks(vb[both])
    else:
        nn, tv = null[:, both], vb[both]
    rn = corr_rows(nn, tv)
    p = _null_p(observed_r, nn, tv) if np.isfinite(observed_r) else np.nan
    return rn, p, null


# ------------------------------------------------------------------------------------------- sections
def _warn_coverage(c: dict, sigmeta: dict[str, Signature]) -> tuple[list[str], list[str]]:
    """(not scored sentences, partially covered sentences) of one cohort."""
    cov = c["coverage"]
    out, low = [], []
    if cov is None:
        return out, low
    for r in cov.to_dict("records"):
        missing = _text(r.get("missing_genes")) or "none"
        if not _true(r.get("scored")):
            out.append(f"{r['signature']} is not scored in cohort {c['name']}: {_text(r.get('reason')) or 'below the coverage threshold'}. Missing genes: {missing}.")
        elif _finite(r.get("fraction_present")) and float(r["fraction_present"]) < 1:
            low.append(f"{r['signature']} in cohort {c['name']}: {int(r['n_present'])} of {int(r['n_genes'])} genes measured (missing: {missing}).")
    return out, low


def _survival_why(c: dict) -> str:
    """Why a cohort has no hazard ratio ('' when it has one)."""
    surv = c["surv"]
    if surv is not None and len(surv) and "hr_per_sd" in surv.columns and surv["hr_per_sd"].notna().any():
        return ""
    note = _text(c["surv_side"].get("note"))
    if surv is None or not len(surv) or (c["surv_side"] and not c["surv_side"].get("primary_endpoint")):
        why = f"No survival analysis for cohort {c['name']}: no time/event columns in the cohort sheet for cohort {c['name']}."
        return why + (f" (survival stage: {note}.)" if note else "")
    return f"No hazard ratio for cohort {c['name']}: {note or 'every Cox model of the cohort was skipped (see the notes of survival.tsv)'}."


def _cohort_sentences(c: dict, primary: str, main_focal: str) -> dict:
    """The plain-words answers of one cohort (primary method, main focal signature)."""
    out = {"corr": "", "surv": "", "notes": []}
    corr = c["corr"]
    if corr is not None and len(corr):
        sel = corr[(corr["method"] == primary) & (corr["signature_a"] == main_focal)]
        if "statistic" in sel.columns:
            sel = sel[sel["statistic"] == "spearman"]
        tested = sel[sel["r"].notna()]
        sig = tested[(tested["q"] < ALPHA) & (tested["r"] > 0)].sort_values("r", ascending=False)
        neg = tested[(tested["q"] < ALPHA) & (tested["r"] < 0)]
        s = f"{main_focal} correlates positively with {len(sig)} of {len(tested)} signatures at q < 0.05"
        s += f" ({', '.join(sig['signature_b'])})" if len(sig) else ""
        s += f" and negatively with {len(neg)} ({', '.join(neg['signature_b'])})" if len(neg) else ""
        s += f" ({primary} scores, Spearman, Benjamini-Hochberg over {len(corr)} tests)."
        if "p_random_null" in sel.columns:
            beyond = tested[tested["p_random_null"] < ALPHA]["signature_b"].tolist()
            s += f" Beyond matched random signatures (null p < 0.05): {', '.join(beyond) or 'none'}."
        out["corr"] = s
        for r in sel.to_dict("records"):
            shared = int(r.get("n_shared_genes", 0)) if _finite(r.get("n_shared_genes")) else 0
            rws = r.get("r_without_shared", np.nan)
            if shared and _finite(r["q"]) and r["q"] < ALPHA and _finite(rws) and abs(rws) < abs(r["r"]) / 2:
                out["notes"].append(f"Cohort {c['name']}, {main_focal} vs {r['signature_b']}: r = {fmt_r(r['r'])} falls to {fmt_r(rws)} without the {shared} shared gene(s): the correlation is carried by genes the two signatures share.")
            pn = r.get("p_random_null", np.nan)
            if _finite(r["q"]) and r["q"] < ALPHA and _finite(pn) and pn >= ALPHA:
                out["notes"].append(f"Cohort {c['name']}, {main_focal} vs {r['signature_b']}: significant (q = {fmt_p(r['q'])}) but not beyond random signatures of the same size and expression (null p = {fmt_p(pn)}).")
    surv = c["surv"]
    if surv is not None and len(surv):
        s = surv[(surv["method"] == primary) & (surv["signature"] == main_focal) & ~surv["endpoint"].astype(str).str.startswith("relapse:")]
        if "model" in s.columns:
            s = s[s["model"] == "univariate"]
        if len(s) and _finite(s["hr_per_sd"].iloc[0]):
            r0 = s.iloc[0]
            verdict = "predicts" if r0["p"] < ALPHA else "does not significantly predict"
            out["surv"] = (
                f"{main_focal} {verdict} relapse ({r0['endpoint']}): hazard ratio {r0['hr_per_sd']:.2f} per SD of the score "
                f"(95% CI {fmt_r(r0['ci_low'])}-{fmt_r(r0['ci_high'])}, p = {fmt_p(r0['p'])}; {int(r0['n'])} samples, {int(r0['events'])} events; Cox, {primary})."
            )
            if _finite(r0.get("p_random_null")):
                out["surv"] += f" Random signatures of the same size and expression predict relapse at least as strongly with probability {fmt_p(r0['p_random_null'])} (Venet et al. 2011)."
        elif len(s):
            out["surv"] = f"No hazard ratio for {main_focal}: {_text(s['note'].iloc[0]) or 'not estimable'}."
    return out


def _warnings(cohorts: list[dict], sigmeta: dict[str, Signature], signatures: Sequence[Signature], primary: str, focal: Sequence[str], meta_why: str) -> list[dict]:
    """Caveats in plain words, grouped: partial lists, coverage, events, proportional hazards, missing data."""
    groups: list[dict] = []
    partial = [s for s in signatures if s.complete is False]
    if partial:
        groups.append({"title": "Partial signature lists", "lines": [f"{s.name} ({s.organ or 'no organ given'}): only part of the published gene list is available ({s.size} genes here); its score approximates the published signature." for s in partial]})
    cov_items = []
    for c in cohorts:
        not_scored, low = _warn_coverage(c, sigmeta)
        cov_items += not_scored + low
    if cov_items:
        groups.append({"title": "Signature coverage (not scored, or not every gene measured)", "lines": cov_items})
    ev_items, ph_items, surv_items = [], [], []
    for c in cohorts:
        why = _survival_why(c)
        if why:
            surv_items.append(why)
        surv = c["surv"]
        if surv is None or not len(surv) or "events" not in surv.columns:
            continue
        s = surv[(surv["method"] == primary) & surv["hr_per_sd"].notna()]
        for endpoint, e in s.groupby("endpoint", sort=False)["events"].max().items():
            if _finite(e) and e < FEW_EVENTS:
                ev_items.append(f"Cohort {c['name']}, endpoint {endpoint}: only {int(e)} events (fewer than {FEW_EVENTS}, the threshold below which this report flags a model): its hazard ratios are imprecise.")
        if "ph_p" in s.columns:
            u = s[s["signature"].isin(list(focal)) & (s["ph_p"] < ALPHA)]
            if "model" in u.columns:
                u = u[u["model"] == "univariate"]
            for r in u.to_dict("records"):
                ph_items.append(f"Cohort {c['name']}, {r['signature']} on {r['endpoint']} ({primary}): proportional hazards violated (cox.zph p = {fmt_p(r['ph_p'])} < 0.05); the hazard ratio is an average over follow-up.")
    if ev_items:
        groups.append({"title": f"Too few events (fewer than {FEW_EVENTS} per model)", "lines": ev_items})
    if ph_items:
        groups.append({"title": "Proportional hazards violated (PH test p < 0.05)", "lines": ph_items})
    notes = [n for c in cohorts for n in c["sentences"]["notes"]]
    if notes:
        groups.append({"title": "Correlations to read with care", "lines": notes})
    missing = surv_items + ([meta_why] if meta_why else [])
    if missing:
        groups.append({"title": "Not analysed", "lines": missing})
    return groups


def _summary_rows(cohorts: list[dict], mc: pd.DataFrame | None, ms: pd.DataFrame | None, focal: Sequence[str]) -> tuple[list[dict], list[dict]]:
    corr_rows, surv_rows = [], []
    for c in cohorts:
        corr = c["corr"]
        if corr is not None:
            for r in corr.to_dict("records"):
                corr_rows.append({
                    "cohort": c["name"], "method": r["method"], "a": r["signature_a"], "b": r["signature_b"], "statistic": r.get("statistic", "spearman"),
                    "cells": [_cell("r", r.get("r"), fmt_r(r.get("r"))), _cell("ci_low", r.get("ci_low"), fmt_r(r.get("ci_low"))), _cell("ci_high", r.get("ci_high"), fmt_r(r.get("ci_high"))),
                              _cell("q", r.get("q"), fmt_p(r.get("q"))), _cell("p_random_null", r.get("p_random_null"), fmt_p(r.get("p_random_null"))), _cell("r_without_shared", r.get("r_without_shared"), fmt_r(r.get("r_without_shared"))),
                              _cell("n", r.get("n"), str(int(r["n"])) if _finite(r.get("n")) else "NA")],
                    "sig": _finite(r.get("q")) and r["q"] < ALPHA,
                })
        surv = c["surv"]
        if surv is not None and len(surv):
            for r in surv[surv["signature"].isin(list(focal))].to_dict("records"):
                surv_rows.append({
                    "cohort": c["name"], "method": r["method"], "signature": r["signature"], "endpoint": r["endpoint"], "model": r.get("model", "univariate"),
                    "cells": [_cell("events", r.get("events"), str(int(r["events"])) if _finite(r.get("events")) else "NA"), _cell("hr_per_sd", r.get("hr_per_sd"), fmt_r(r.get("hr_per_sd"))), _cell("ci_low", r.get("ci_low"), fmt_r(r.get("ci_low"))), _cell("ci_high", r.get("ci_high"), fmt_r(r.get("ci_high"))),
                              _cell("p", r.get("p"), fmt_p(r.get("p"))), _cell("p_random_null", r.get("p_random_null"), fmt_p(r.get("p_random_null"))), _cell("ph_p", r.get("ph_p"), fmt_p(r.get("ph_p")))],
                    "note": _text(r.get("note")), "sig": _finite(r.get("p")) and r["p"] < ALPHA,
                })
    if mc is not None and len(mc):
        for r in mc[mc["pooling"] == "random_dl"].to_dict("records"):
            corr_rows.append({
                "cohort": "pooled", "method": r["method"], "a": r["signature_a"], "b": r["signature_b"], "statistic": r["statistic"],
                "cells": [_cell("r", r.get("estimate"), fmt_r(r.get("estimate"))), _cell("ci_low", r.get("ci_low"), fmt_r(r.get("ci_low"))), _cell("ci_high", r.get("ci_high"), fmt_r(r.get("ci_high"))),
                          _cell("q", None, ""), _cell("p_random_null", None, ""), _cell("r_without_shared", None, ""), _cell("n", r.get("k"), f"k = {int(r['k'])}" if _finite(r.get("k")) else "NA")],
                "sig": False, "pooled_p": fmt_p(r.get("p")), "i2": fmt_r(r.get("i2")),
            })
    if ms is not None and len(ms):
        for r in ms[(ms["pooling"] == "random_dl") & ms["signature"].isin(list(focal))].to_dict("records"):
            surv_rows.append({
                "cohort": "pooled", "method": r["method"], "signature": r["signature"], "endpoint": r["endpoint"], "model": r["model"],
                "cells": [_cell("events", None, ""), _cell("hr_per_sd", r.get("estimate"), fmt_r(r.get("estimate"))), _cell("ci_low", r.get("ci_low"), fmt_r(r.get("ci_low"))), _cell("ci_high", r.get("ci_high"), fmt_r(r.get("ci_high"))),
                          _cell("p", r.get("p"), fmt_p(r.get("p"))), _cell("p_random_null", None, ""), _cell("ph_p", None, "")],
                "note": (f"k = {int(r['k'])} cohorts, I² = {fmt_r(r.get('i2'))}%" if _finite(r.get("k")) else "") + (f"; {_text(r.get('note'))}" if _text(r.get("note")) else ""), "sig": _finite(r.get("p")) and r["p"] < ALPHA,
            })
    return corr_rows, surv_rows


def _heatmap(fw, cohorts: list[dict], mc: pd.DataFrame | None, primary: str, focal: str, pooled_ok: bool):
    from .figures import summary_heatmap

    cols, marks = {}, {}
    targets: list[str] = []
    for c in cohorts:
        corr = c["corr"]
        if corr is None or not len(corr):
            continue
        s = corr[(corr["method"] == primary) & (corr["signature_a"] == focal)]
        if "statistic" in s.columns:
            s = s[s["statistic"] == "spearman"]
        s = s.drop_duplicates("signature_b").set_index("signature_b")
        targets += [t for t in s.index if t not in targets]
        cols[c["name"]] = s["r"]
        marks[c["name"]] = s["p_random_null"] < ALPHA if "p_random_null" in s.columns else s["q"] < ALPHA
    if pooled_ok and mc is not None and len(mc):
        s = mc[(mc["method"] == primary) & (mc["signature_a"] == focal) & (mc["statistic"] == "spearman") & (mc["pooling"] == "random_dl")].set_index("signature_b")
        cols["pooled"] = s["estimate"]
        marks["pooled"] = s["p"] < ALPHA
    if not targets:
        return None
    values = pd.DataFrame({k: v.reindex(targets) for k, v in cols.items()}, index=targets)
    mk = pd.DataFrame({k: v.reindex(targets).fillna(False).astype(bool) for k, v in marks.items()}, index=targets)
    label = "null p < 0.05 (random-signature null)" + ("\npooled: random-effects p < 0.05" if "pooled" in values.columns else "")
    return fw("summary_heatmap", lambda: summary_heatmap(values, mk, title=f"{focal} vs each signature\n({primary} scores)", mark_label=label),
              f"{focal} vs each signature: Spearman r per cohort" + (" and pooled" if "pooled" in values.columns else ""),
              f"Colour: Spearman r of {focal} with each signature ({primary} scores), per cohort" + (" and pooled across cohorts (random effects, DerSimonian-Laird)" if "pooled" in values.columns else "") + f". Dot: {label}. NA (grey): not scored in that cohort or not computed.")


def _qc_section(fw, c: dict, sigmeta: dict[str, Signature]) -> dict:
    from .figures import expression_density_figure, library_size_figure, safe_name

    name = c["name"]
    sec: dict = {"figures": [], "mapping_counts": [], "coverage": [], "why": []}
    a = _adata(c)
    if a is not None:
        data_type = str(a.uns.get("data_type", ""))
        norm = a.uns.get("normalization", {})
        method = str(norm.get("method", "")) if hasattr(norm, "get") else ""
        sec.update(n_samples=int(a.n_obs), n_genes_matrix=int(a.n_vars), data_type=data_type, norm_method=method)
        if "library_size" in a.obs.columns and data_type == "counts":
            ls = a.obs["library_size"].astype(float)
            w = fw(f"{safe_name(name)}/library_size", lambda: library_size_figure(ls, name), f"{name}: library sizes", f"Library size of each sample (sum of the raw counts over all input genes), in million reads; dashed: median. {int(ls.notna().sum())} samples.")
            sec["figures"].append(_fig(w))
        elif data_type == "counts":
            sec["why"].append(f"No library-size plot for cohort {name}: obs['library_size'] is not in its expression.h5ad.")
        unit = {"counts": "Normalized expression (log2 CPM)" if "cpm" in method.lower() else f"Normalized expression (log2, {method or 'as normalized'})", "intensity": "Expression (log2 intensity, normalized)", "tpm": "Expression (log2(TPM + 1))"}.get(data_type, "Expression (log2, as given)")
        X = np.asarray(a.X, dtype=float)
        w = fw(f"{safe_name(name)}/expression_density", lambda: expression_density_figure(X, name, unit), f"{name}: expression distribution per sample", f"Density of the normalized expression of each sample over the {a.n_vars} genes of the matrix ({method or data_type}); one line per sample.")
        sec["figures"].append(_fig(w))
    else:
        sec["why"].append(f"No expression plots for cohort {name}: results/{name}/expression.h5ad is not available.")
    mapping = c["mapping"]
    if mapping is not None and len(mapping):
        sec["mapping_counts"] = [{"status": k, "n": int(v)} for k, v in mapping["status"].value_counts().items()]
        renamed = mapping[mapping["status"].isin(["previous", "alias", "case"])]
        sec["renamed"] = ", ".join(f"{x} → {y}" for x, y in zip(renamed["input_id"].head(30), renamed["symbol"].head(30))) + (f" (and {len(renamed) - 30} more)" if len(renamed) > 30 else "")
        amb = mapping[mapping["status"] == "ambiguous"]["input_id"].astype(str).tolist()
        sec["ambiguous"] = ", ".join(amb[:30]) + (f" (and {len(amb) - 30} more)" if len(amb) > 30 else "")
        sec["n_input_ids"] = len(mapping)
        sec["n_genes"] = int(mapping["kept"].astype(str).str.lower().eq("true").sum()) if "kept" in mapping.columns else ""
    qc = c["qc"] if c["qc"] is not None else c["coverage"]
    if qc is not None:
        for r in qc.to_dict("records"):
            sec["coverage"].append({
                "signature": r["signature"], "organ": _text(r.get("organ")), "complete": "partial list" if str(r.get("complete")).lower() == "false" else ("yes" if str(r.get("complete")).lower() == "true" else "NA"),
                "n_present": r.get("n_present"), "n_genes": r.get("n_genes"), "present": _text(r.get("present_genes")).replace(",", ", "), "missing": _text(r.get("missing_genes")).replace(",", ", "),
                "scored": "yes" if _true(r.get("scored")) else f"no: {_text(r.get('reason'))}", "mean_r": r.get("mean_inter_gene_r"), "alpha": r.get("cronbach_alpha"),
                "leading": _text(r.get("leading_gene")), "gene_rest_r": _text(r.get("gene_rest_r")).replace(",", ", "), "filtered": _text(r.get("filtered_genes")).replace(";", ", "),
                "mean_r_s": fmt_r(r.get("mean_inter_gene_r")), "alpha_s": fmt_r(r.get("cronbach_alpha")),
            })
    return sec


def _scores_section(fw, c: dict, sigmeta: dict[str, Signature], focal: Sequence[str], primary: str, config: dict) -> dict:
    from .figures import resize, safe_name, scatter_null_figure, score_distribution_figure
    from .prerank import enrichment_plot, gene_ranking

    name = c["name"]
    main = focal[0] if focal else "SS"
    sec: dict = {"dist": [], "scatter": [], "prerank_figs": [], "prerank": [], "why": []}
    for m, t in c["scores"].items():
        if t.notna().any().any():
            w = fw(f"{safe_name(name)}/score_distribution_{safe_name(m)}", lambda t=t, m=m: score_distribution_figure(t, m, name, focal), f"{name}: {m} scores per signature", f"{m} score of every sample per signature (box: quartiles, whiskers: 1.5 IQR, points: samples); focal signatures in blue. Signatures not scored in this cohort are left out.")
            sec["dist"].append(_fig(w))
        else:
            sec["why"].append(f"No {m} score distribution for cohort {name}: no signature was scored.")
    corr, scores = c["corr"], c["scores"].get(primary)
    if corr is None or scores is None or not len(corr):
        sec["why"].append(f"No scatter plots for cohort {name}: no {primary} scores or correlations.")
        return sec
    sel = corr[(corr["method"] == primary) & (corr["signature_a"] == main)]
    stat = "spearman" if "statistic" not in sel.columns or (sel["statistic"] == "spearman").any() else str(sel["statistic"].iloc[0])
    if "statistic" in sel.columns:
        sel = sel[sel["statistic"] == stat]
    params = _params(c["corr_side"])
    n_random, seed = int(params.get("n_random", config.get("associate", {}).get("n_random", 0)) or 0), int(params.get("seed", config.get("associate", {}).get("seed", 0)) or 0)
    expr = _expr(c) if n_random > 0 and main in sigmeta else None
    mparams = dict((config.get("scoring", {}) or {}).get(primary) or {})
    null_scores = None
    if main not in scores.columns or not scores[main].notna().any():
        sec["why"].append(f"No scatter plots for cohort {name}: {main} is not scored in this cohort ({primary}).")
        return sec
    if expr is None:
        sec["why"].append(f"No random-signature null histograms for cohort {name}: " + ("the random null is switched off (associate.n_random: 0)." if n_random <= 0 else "the expression matrix is not available."))
    for r in sel.to_dict("records"):
        t = r["signature_b"]
        if t not in scores.columns or not scores[t].notna().any():
            sec["why"].append(f"No scatter plot of {main} vs {t} in cohort {name}: {t} is not scored in this cohort (see Data and QC).")
            continue
        null_r, p = np.array([]), r.get("p_random_null", np.nan)
        if expr is not None and _finite(r.get("r")):
            try:
                null_r, p, null_scores = null_correlations(expr, scores, sigmeta[main], t, primary, statistic=stat, n_random=n_random, seed=seed, params=mparams, observed_r=float(r["r"]), null=null_scores)
            except Exception as exc:  # noqa: BLE001 - a missing null is reported, not fatal
                sec["why"].append(f"No random-signature null for {main} in cohort {name}: {exc}")
                expr = None
        x, y = scores[main].rename(main), scores[t].rename(t)
        w = fw(f"{safe_name(name)}/scatter_null_{safe_name(primary, main, t)}", lambda x=x, y=y, null_r=null_r, r=r, p=p: scatter_null_figure(x, y, null_r, float(r["r"]) if _finite(r.get("r")) else np.nan, p, method=primary, statistic=stat, cohort=name, q=r.get("q", np.nan)),
               f"{name}: {main} vs {t}", f"Top: {main} against {t} ({primary} scores, one point per sample; {stat} r = {fmt_r(r.get('r'))}, q = {fmt_p(r.get('q'))}). Bottom: {stat} correlation of {len(null_r)} random signatures matched to {main} in size and expression with {t}; red line: the observed r (dotted: its mirror); null p = {fmt_p(p)} (Venet et al. 2011).")
        w.extra = {"null_p": p, "target": t}
        sec["scatter"].append(_fig(w))
    # prerank
    pre = c["prerank"]
    if pre is None or not len(pre):
        sec["why"].append(f"No prerank enrichment for cohort {name}: " + (_text(c["pre_side"].get("note")) or "prerank.tsv is empty") + ".")
        return sec
    p_sel = pre[(pre["method"] == primary) & (pre["focal"] == main)].sort_values("nes", ascending=False, na_position="last")
    sec["prerank"] = [{**r, "nes_s": fmt_r(r.get("nes")), "fdr_s": fmt_p(r.get("fdr")), "p_s": fmt_p(r.get("p")), "note": _text(r.get("note")), "leading_edge": _text(r.get("leading_edge")).replace(";", ", ")} for r in p_sel.to_dict("records")]
    pp = _params(c["pre_side"])
    expr = expr if expr is not None else _expr(c)
    if expr is None:
        sec["why"].append(f"No enrichment plots for cohort {name}: the expression matrix is not available.")
        return sec
    rankings: dict[str, pd.Series] = {}
    for r in p_sel.to_dict("records"):
        sig = sigmeta.get(r["signature"])
        if sig is None or not _finite(r.get("es")):
            continue
        genes = sig.down if r.get("direction") == "down" else (sig.up or list(sig.genes))
        removed = _text(r.get("genes_removed"))
        if removed not in rankings:
            rankings[removed] = gene_ranking(expr[[s for s in expr.columns if s in scores.index]], scores[main], statistic=str(pp.get("statistic", "spearman")), exclude=[g for g in removed.split(";") if g])
        try:
            w = fw(f"{safe_name(name)}/prerank_{safe_name(primary, main, r['signature'], r['direction'])}", lambda g=genes, rk=rankings[removed], r=r: resize(enrichment_plot(rk, g, f"{r['signature']} ({r['direction']}) on genes ranked by r with {main}"), height=3.2),
                   f"{name}: enrichment of {r['signature']} ({r['direction']})", f"gseapy prerank: running enrichment score of {r['signature']} {r['direction']} genes on all genes ranked by their {pp.get('statistic', 'spearman')} correlation with {main} ({primary}); NES = {fmt_r(r.get('nes'))}, FDR = {fmt_p(r.get('fdr'))}.")
            sec["prerank_figs"].append(_fig(w))
        except Exception as exc:  # noqa: BLE001
            sec["why"].append(f"No enrichment plot of {r['signature']} ({r['direction']}) in cohort {name}: {exc}")
    return sec


def _outcome_section(fw, c: dict, focal: Sequence[str], primary: str) -> dict:
    from .curves import plot_cif, plot_km
    from .figures import safe_name

    name = c["name"]
    sec: dict = {"figures": [], "logrank": [], "hr": [], "why": []}
    why = _survival_why(c)
    if why:
        sec["why"].append(why)
        return sec
    surv = c["surv"]
    s = surv[(surv["method"] == primary) & surv["signature"].isin(list(focal))]
    sec["hr"] = [{"signature": r["signature"], "endpoint": r["endpoint"], "model": r.get("model", "univariate"), "covariates": _text(r.get("covariates")), "n": int(r["n"]) if _finite(r.get("n")) else "NA",
                  "events": int(r["events"]) if _finite(r.get("events")) else "NA", "hr": fmt_hr(r), "p": fmt_p(r.get("p")), "c": fmt_r(r.get("concordance")), "ph_p": fmt_p(r.get("ph_p")), "p_null": fmt_p(r.get("p_random_null")), "note": _text(r.get("note"))} for r in s.to_dict("records")]
    km, lr, aj = c["km"], c["lr"], c["aj"]
    if lr is not None and len(lr):
        for r in lr[(lr["method"] == primary) & lr["signature"].isin(list(focal))].to_dict("records"):
            sec["logrank"].append({**r, "p_s": fmt_p(r.get("p")), "chisq_s": fmt_r(r.get("chisq")), "note": _text(r.get("note"))})
    cut = ""
    for f in focal:
        if km is not None and len(km):
            k = km[(km["method"] == primary) & (km["signature"] == f)]
            for endpoint in k["endpoint"].drop_duplicates():
                sub = k[k["endpoint"] == endpoint]
                cut = str(sub["cut"].iloc[0])
                lrp = lr[(lr["method"] == primary) & (lr["signature"] == f) & (lr["endpoint"] == endpoint)]["p"] if lr is not None and len(lr) else pd.Series(dtype=float)
                p = float(lrp.iloc[0]) if len(lrp) and _finite(lrp.iloc[0]) else None
                w = fw(f"{safe_name(name)}/km_{safe_name(primary, f, endpoint)}", lambda sub=sub, f=f, endpoint=endpoint, p=p: plot_km(sub, f"{name}: {f} ({primary}) groups at the {cut} cut, {endpoint}", logrank_p=p),
                       f"{name}: Kaplan-Meier, {f} groups, {endpoint}", f"Kaplan-Meier estimate of {endpoint} in groups of the {f} score ({primary}) at the pre-set cut-points ({cut}; set in the config before the analysis, never searched), numbers at risk below; ticks: censored samples; log-rank p = {fmt_p(p)}.")
                sec["figures"].append(_fig(w))
        if aj is not None and len(aj):
            a = aj[(aj["method"] == primary) & (aj["signature"] == f)]
            for endpoint in a["endpoint"].drop_duplicates():
                sub = a[a["endpoint"] == endpoint]
                w = fw(f"{safe_name(name)}/cif_{safe_name(primary, f, endpoint)}", lambda sub=sub, f=f: plot_cif(sub, f"{name}: site of first relapse by {f} group ({primary})"),
                       f"{name}: cumulative incidence of relapse by site, {f} groups", f"Aalen-Johansen cumulative incidence of first relapse at each site (competing with the other sites), per {f} group ({primary}, {endpoint}).")
                sec["figures"].append(_fig(w))
    if aj is None or not len(aj):
        sec["why"].append(f"No cumulative incidence by site for cohort {name}: no site-of-relapse column (survival.relapse_site) in its clinical data.")
    if km is None or not len(km):
        sec["why"].append(f"No Kaplan-Meier curves for cohort {name}: km.tsv is empty.")
    return sec


def _meta_section(fw, cohorts: list[dict], mc: pd.DataFrame | None, ms: pd.DataFrame | None, primary: str, focal: Sequence[str]) -> dict:
    from .figures import safe_name
    from .meta import forest_figure

    main = focal[0] if focal else "SS"
    sec: dict = {"rows": [], "surv_rows": [], "figures": [], "why": ""}
    if len(cohorts) < 2:
        sec["why"] = f"No meta-analysis: pooling needs at least two cohorts; this run has one ({', '.join(c['name'] for c in cohorts) or 'none'})."
        return sec
    if mc is None or not len(mc):
        sec["why"] = "No meta-analysis: no pooled estimates were written (results/meta/correlations.tsv is empty)."
        return sec
    pooled = mc[(mc["method"] == primary) & (mc["signature_a"] == main) & (mc["statistic"] == "spearman")]
    sec["rows"] = [{**r, "est": fmt_r(r["estimate"]), "ci": fmt_ci(r["ci_low"], r["ci_high"]), "p": fmt_p(r["p"]), "i2": fmt_i2(r.get("i2")), "tau2": f"{r['tau2']:.3g}" if _finite(r.get("tau2")) else "NA", "note": _text(r.get("note"))} for r in pooled[pooled["pooling"] == "random_dl"].to_dict("records")]
    per = []
    for c in cohorts:
        t = c["corr"]
        if t is not None and len(t):
            per.append(t[(t["method"] == primary) & (t["signature_a"] == main) & (t["statistic"] == "spearman")].assign(cohort=c["name"]))
    per_c = pd.concat(per, ignore_index=True) if per else pd.DataFrame()
    for target in pooled["signature_b"].drop_duplicates():
        rows = per_c[(per_c["signature_b"] == target) & per_c["r"].notna()].assign(estimate=lambda x: x["r"]) if len(per_c) else per_c
        pl = pooled[pooled["signature_b"] == target]
        if len(rows) >= 2 and pl["estimate"].notna().any():
            dl = pl[pl["pooling"] == "random_dl"].iloc[0]
            w = fw(f"meta/forest_r_{safe_name(primary, main, target)}", lambda rows=rows, pl=pl, target=target: forest_figure(rows, pl, scale="r", title=f"{main} vs {target} ({primary}, Spearman r)"),
                   f"{main} vs {target}: correlation across cohorts", f"Forest plot: Spearman r of {main} with {target} ({primary}) per cohort (95% CI) and pooled (random effects DerSimonian-Laird, fixed effect); I² = {fmt_i2(dl.get('i2'))}.")
            sec["figures"].append(_fig(w))
    if ms is not None and len(ms):
        s = ms[(ms["method"] == primary) & ms["signature"].isin(list(focal))]
        sec["surv_rows"] = [{**r, "est": fmt_r(r["estimate"]), "ci": fmt_ci(r["ci_low"], r["ci_high"]), "p": fmt_p(r["p"]), "i2": fmt_i2(r.get("i2")), "note": _text(r.get("note"))} for r in s[s["pooling"] == "random_dl"].to_dict("records")]
        for f in focal:
            per = []
            for c in cohorts:
                t, prim = c["surv"], c["surv_side"].get("primary_endpoint", "")
                if t is not None and len(t) and prim:
                    per.append(t[(t["method"] == primary) & (t["signature"] == f) & (t["endpoint"] == prim) & (t["model"] == "univariate")].assign(cohort=c["name"], estimate=lambda x: x["hr_per_sd"]))
            pl = s[(s["signature"] == f) & (s["endpoint"] == "primary") & (s["model"] == "univariate")]
            rows = pd.concat(per, ignore_index=True) if per else pd.DataFrame()
            rows = rows[rows["estimate"].notna()] if len(rows) else rows
            if len(rows) >= 2 and len(pl) and pl["estimate"].notna().any():
                dl = pl[pl["pooling"] == "random_dl"].iloc[0]
                w = fw(f"meta/forest_hr_{safe_name(primary, f)}", lambda rows=rows, pl=pl, f=f: forest_figure(rows, pl, scale="hr", title=f"{f} ({primary}): HR per SD, primary endpoint"),
                       f"{f}: hazard ratio per SD across cohorts", f"Forest plot: Cox hazard ratio per SD of {f} ({primary}, univariate, each cohort's primary endpoint) per cohort and pooled; I² = {fmt_i2(dl.get('i2'))}.")
                sec["figures"].append(_fig(w))
            elif f == main:
                sec["surv_why"] = f"No pooled hazard ratio for {main}: fewer than two cohorts have a hazard ratio on their primary endpoint."
    return sec


def fmt_i2(x) -> str:
    return f"{float(x):.0f}%" if _finite(x) else "NA"


def _tables(c: dict) -> dict:
    corr, surv = c["corr"], c["surv"]
    return {
        "corr_table": [] if corr is None else [
            {**r, "statistic": r.get("statistic", "spearman"), "r_s": fmt_r(r.get("r")), "ci": fmt_ci(r.get("ci_low"), r.get("ci_high")), "p_s": fmt_p(r.get("p")), "q_s": fmt_p(r.get("q")), "p_null": fmt_p(r.get("p_random_null")), "rws": fmt_r(r.get("r_without_shared")), "rp": fmt_r(r.get("r_partial"))}
            for r in corr.to_dict("records")
        ],
        "surv_table": [] if surv is None else [
            {**r, "model": r.get("model", "univariate"), "hr": fmt_hr(r), "p_s": fmt_p(r.get("p")), "c": fmt_r(r.get("concordance")), "ph_p_s": fmt_p(r.get("ph_p")), "p_null": fmt_p(r.get("p_random_null")), "note": _text(r.get("note")), "n": int(r["n"]) if _finite(r.get("n")) else "NA", "events": int(r["events"]) if _finite(r.get("events")) else "NA"}
            for r in surv.to_dict("records")
        ],
    }


def _methods(cohorts: list[dict], config: dict, signatures: Sequence[Signature], vers: dict) -> dict:
    """The paste-able methods paragraph and the references it cites (every method and every signature)."""
    methods = list(dict.fromkeys(m for c in cohorts for m in c["scores"])) or list(config.get("scoring", {}).get("methods", []))
    refs = ["kim2009"]
    norm_parts, data_types = [], set()
    for c in cohorts:
        a = _adata(c)
        if a is None:
            continue
        dt = str(a.uns.get("data_type", ""))
        data_types.add(dt)
        n = a.uns.get("normalization", {})
        m = str(n.get("method", "")) if hasattr(n, "get") else ""
        flt = n.get("filter") if hasattr(n, "get") else None
        try:
            flt = json.loads(flt) if isinstance(flt, str) else (flt or {})
        except ValueError:
            flt = {}
        txt = f"{c['name']} ({dt}): {m or 'none'}"
        if flt.get("method") == "filter_by_expr":
            txt += f" after removing {flt.get('n_removed')} low-expression genes as edgeR's filterByExpr (min.count {flt.get('min_count')})"
            refs += ["chen2016"]
        if "tmm" in m:
            txt += f", edgeR TMM normalization factors and log2 CPM (prior count {n.get('prior_count', 2)})"
            refs += ["robinson2010", "robinson2010edger"]
        if "deseq2" in m:
            refs += ["love2014"]
        if "quantile" in m:
            refs += ["bolstad2003", "ritchie2015"]
        norm_parts.append(txt)
    sc = config.get("scoring", {})
    scoring_txt = []
    for m in methods:
        refs += SCORING_REFS.get(m, [])
        p = sc.get(m) or {}
        scoring_txt.append(SCORING_TEXT.get(m, m) + (f" (parameters: {', '.join(f'{k} = {v}' for k, v in p.items())})" if p else ""))
    ac, sv = config.get("associate", {}) or {}, config.get("survival", {}) or {}
    pre = ac.get("prerank", {}) or {}
    refs += ["efron1993", "fisher1921", "bh1995", "venet2011", "subramanian2005", "fang2023", "cox1972", "efron1977", "harrell1982", "grambsch1994", "kaplan1958", "mantel1966", "aalen1978", "dersimonian1986", "paule1982", "higgins2002", "seabold2010", "koster2012"]
    para = (
        f"Expression cohorts ({len(cohorts)}: {', '.join(c['name'] for c in cohorts)}) were processed with the seedsig pipeline {vers.get('seedsig', '')} (Snakemake {vers.get('snakemake', '')}; Köster and Rahmann 2012). "
        f"Gene identifiers were mapped offline to current HGNC symbols (approved, then previous, then alias symbols; ambiguous identifiers were left unmapped) and rows mapping to one gene were collapsed ({(config.get('ingest') or {}).get('collapse', 'max_mean')}). "
        + (f"Normalization per cohort: {'; '.join(norm_parts)}. " if norm_parts else "")
        + f"Signatures (the self-seeding signature SS of Kim et al. 2009, its sub-scores and the organ-specific metastasis signatures listed below with their sources) were scored per sample with {', '.join(scoring_txt)}; "
        f"signed signatures scored as the up-gene score minus the down-gene score, and a signature was scored in a cohort only when at least {sc.get('min_genes', 2)} of its genes and {round(100 * float(sc.get('min_fraction', 0.5)))}% of them were measured. "
        f"Each self-seeding score was correlated with every other signature by Spearman's rank correlation (95% CI: percentile bootstrap, {ac.get('n_bootstrap', 1000)} resamples, seed {ac.get('seed', '')}) and Pearson's correlation (Fisher z CI), "
        f"with Benjamini-Hochberg false-discovery-rate control (Benjamini and Hochberg 1995) over all correlations of a cohort. "
        f"Each correlation was compared with those of {ac.get('n_random', 1000)} random signatures matched to the focal signature in size and mean expression and scored by the same method (empirical p = (b + 1)/(B + 1); Venet et al. 2011), "
        f"recomputed after removing the genes shared by the two signatures from both, and adjusted by partial correlation for proliferation (meta-PCNA; Venet et al. 2011) and clinical covariates ({', '.join(ac.get('covariates') or []) or 'none'}). "
        f"Genes were ranked by their {pre.get('statistic', 'spearman')} correlation with the focal score (its own genes left out) and the signatures tested by GSEA prerank (Subramanian et al. 2005; gseapy {vers.get('gseapy', '')}, Fang et al. 2023; {pre.get('permutations', 1000)} gene permutations). "
        f"Association with relapse was tested with Cox proportional-hazards models (Cox 1972; Efron ties, Efron 1977) of each score scaled to its standard deviation (hazard ratio per SD), univariate and adjusted for {', '.join(sv.get('covariates') or []) or 'no covariate'}, "
        f"with Harrell's concordance (Harrell et al. 1982), the proportional-hazards test of Grambsch and Therneau (1994) and a null of {sv.get('n_random', 1000)} matched random signatures (Venet et al. 2011); "
        f"Kaplan-Meier curves (Kaplan and Meier 1958) and log-rank tests (Mantel 1966) used groups at cut-points fixed before the analysis ({sv.get('cut_points', 'median')}). "
        f"The site of first relapse was analysed with cause-specific Cox models and Aalen-Johansen cumulative incidence (Aalen and Johansen 1978). "
        f"Cohorts were pooled (Fisher-z correlations, log hazard ratios; each cohort scored on its own) by random-effects meta-analysis (DerSimonian and Laird 1986; Paule and Mandel 1982) and fixed-effect meta-analysis, with tau² and I² (Higgins and Thompson 2002). "
        f"Software: Python {vers.get('python', '')}, numpy {vers.get('numpy', '')}, scipy {vers.get('scipy', '')}, pandas {vers.get('pandas', '')}, statsmodels {vers.get('statsmodels', '')} (Seabold and Perktold 2010), "
        f"rnanorm {vers.get('rnanorm', '')}, anndata {vers.get('anndata', '')}, scanpy {vers.get('scanpy', '')}, gseapy {vers.get('gseapy', '')}, matplotlib {vers.get('matplotlib', '')}."
    )
    sig_cites = list(dict.fromkeys(s.citation for s in signatures if s.citation))
    return {"paragraph": para, "references": [REFERENCES[k] for k in dict.fromkeys(refs)], "signature_citations": sig_cites}


# ------------------------------------------------------------------------------------------- build
def build_report(
    cohorts: dict[str, str | Path],
    out_html: str | Path,
    *,
    signatures: list[Signature],
    config: dict,
    focal: Sequence[str] = ("SS", "SS_attraction", "SS_infiltration"),
    primary_method: str | None = None,
    meta_dir: str | Path | None = None,
    figures_dir: str | Path | None = None,
    input_files: Sequence[tuple[str, str]] = (),
) -> list:
    """Write the standalone HTML report over the cohorts' result directories, and every figure of it to
    ``figures_dir`` (default: ``figures/`` beside ``out_html``) as SVG and PDF. ``input_files``: (what, path) of
    every input (sheet files, signature files, config) whose sha256 the Methods section lists. Returns the
    figures written (:class:`seedsig.figures.Written`)."""
    import yaml
    from jinja2 import Environment, PackageLoader, select_autoescape

    from .figures import FigureWriter

    out_html = Path(out_html)
    fw = FigureWriter(Path(figures_dir) if figures_dir else out_html.parent / "figures")
    focal = tuple(focal) or ("SS",)
    main = focal[0]
    primary = primary_method or (config.get("scoring", {}).get("methods") or ["ssgsea"])[0]
    sigmeta = {s.name: s for s in signatures}
    data = [_load_cohort(name, Path(d)) for name, d in cohorts.items()]
    for c in data:
        c["sentences"] = _cohort_sentences(c, primary, main)
    mdir = Path(meta_dir) if meta_dir else None
    mc = _read(mdir / "correlations.tsv") if mdir else None
    ms = _read(mdir / "survival.tsv") if mdir else None
    pooled_ok = len(data) >= 2
    meta = _meta_section(fw, data, mc, ms, primary, focal)
    heat = _heatmap(fw, data, mc, primary, main, pooled_ok)
    corr_rows, surv_rows = _summary_rows(data, mc if pooled_ok else None, ms if pooled_ok else None, focal)
    warnings = _warnings(data, sigmeta, signatures, primary, focal, meta["why"])
    sections = []
    for c in data:
        log.info("report: cohort %s", c["name"])
        sec = {"name": c["name"], "answers": c["sentences"], "n_samples": len(next(iter(c["scores"].values()))) if c["scores"] else 0, "methods": list(c["scores"])}
        sec["qc"] = _qc_section(fw, c, sigmeta)
        sec["scores"] = _scores_section(fw, c, sigmeta, focal, primary, config)
        sec["outcome"] = _outcome_section(fw, c, focal, primary)
        sec.update(_tables(c))
        sections.append(sec)
    vers = versions()
    env = Environment(loader=PackageLoader("seedsig", "templates"), autoescape=select_autoescape(["html"]))
    html = env.get_template("report.html").render(
        cohorts=sections,
        meta=meta,
        heatmap=_fig(heat) if heat else None,
        warnings=warnings,
        corr_rows=corr_rows,
        surv_rows=surv_rows,
        focal=list(focal),
        primary=primary,
        few_events=FEW_EVENTS,
        signatures=signatures,
        versions=vers,
        methods=_methods(data, config, signatures, vers),
        checksums=input_checksums(list(input_files)),
        config_yaml=yaml.safe_dump(config, sort_keys=False, allow_unicode=True),
        n_figures=len(fw.written),
    )
    html = no_urls(html)
    with atomic_path(out_html) as tmp:
        tmp.write_text(html, encoding="utf-8")
    log.info("report: %s, %d figure(s) in %s", out_html, len(fw.written), fw.root)
    return fw.written
