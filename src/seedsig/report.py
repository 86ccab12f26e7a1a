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
Pooled rows come from ``results/meta/*.tsv``, pooling ``random_dl`` (estimate = pooled r, or pooled HR per SD), and
only the rows that pooled something (k >= 2; rows with k = 0 or 1 have no pooled estimate and are left out; the
Across cohorts section says why nothing was pooled). ``p_random_null`` at its floor 1/(B + 1) is shown as a bound
(:func:`fmt_p_null`: '< 0.001 (B = 1,000)' in sentences and the full tables, '< 0.001' in the summary cells,
whose caption gives B; data-value keeps the TSV's value).

What the report never does (issue 14): count a row it did not test. A focal signature that is not scored in a
cohort opens that cohort's summary box (``<div class="answer" data-cohort=...>``, first ``<p>``) with the
sentence ``{signature} cannot be scored in {cohort}: {the genes measured}; needs at least {scoring.min_genes}
genes and {scoring.min_fraction}% of the signature ...`` (a contract), and one that rests on one gene says so
there. Rows below the sample floors (``associate.min_samples``, ``survival.min_samples``: a ``note`` with NA
values, or in older files ``n`` below the floor) are left out of every count and said plainly ("too few samples
(n = 3, fewer than associate.min_samples = 10): no correlation tested"). The endpoint is called by its name
(the sheet's time/event label) and "relapse" only when its name says relapse (:func:`is_relapse_endpoint`).
Gene lists longer than :data:`LIST_SHOWN` show their first names and "and N more", the whole list in a
``<details>`` element.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import math
import re
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
ASSOCIATE_MIN_SAMPLES = 10  # associate.min_samples when neither the sidecar nor the config records it
SURVIVAL_MIN_SAMPLES = 10  # survival.min_samples likewise (the survival stage's floor)
LIST_SHOWN = 20  # gene lists longer than this show their first names and "and N more" (the rest in <details>)
RELAPSE_TERMS = ("relapse", "recurr", "mfs", "rfs", "dfs", "metasta")  # endpoint names that measure relapse

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


def fmt_p_null(p, n_random=None, *, with_b: bool = True) -> str:
    """p_random_null as shown. At its floor 1/(B + 1) (no random signature reached the observed one) it is an
    upper bound: '< 0.001 (B = 1,000)' for B = 1,000 random signatures (``with_b=False``: '< 0.001', for table
    cells whose caption names B); otherwise as :func:`fmt_p`."""
    if not _finite(p):
        return "NA"
    p = float(p)
    b = int(float(n_random)) if _finite(n_random) and float(n_random) > 0 else 0
    if b:
        floor = 1.0 / (b + 1)
        if p <= floor * (1 + 1e-9):
            e = math.floor(math.log10(floor))
            bound = float(f"{math.ceil(floor / 10.0**e - 1e-9) * 10.0**e:.1g}")
            if bound > floor * (1 + 1e-9):
                return f"< {bound:g}" + (f" (B = {b:,})" if with_b else "")
            return fmt_p(p) + (f" (the floor 1/(B + 1), B = {b:,})" if with_b else "")
    return fmt_p(p)


def p_null_phrase(p, n_random=None) -> str:
    """'null p < 0.001 (B = 1,000)' or 'null p = 0.35' (for sentences)."""
    s = fmt_p_null(p, n_random)
    return f"null p {s}" if s.startswith("<") else f"null p = {s}"


def is_relapse_endpoint(*names) -> bool:
    """Does an endpoint (its label, time and event column names) measure relapse (or metastasis, recurrence,
    MFS, DMFS, RFS, DFS)? Overall survival and other endpoints are called 'the outcome', never 'relapse'."""
    text = " ".join(str(n).lower() for n in names if n)
    return any(w in text for w in RELAPSE_TERMS)


def split_genes(x) -> list[str]:
    """The genes of a comma- (or ';'-) separated coverage cell."""
    return [g.strip() for g in re.split(r"[,;]", _text(x)) if g.strip()]


def gene_list(genes, limit: int = LIST_SHOWN) -> dict:
    """A gene list as shown: the first ``limit`` names, how many more, and the whole list (for a <details>)."""
    genes = [str(g) for g in genes] if isinstance(genes, (list, tuple)) else split_genes(genes)
    return {
        "shown": ", ".join(genes[:limit]),
        "n_more": max(0, len(genes) - limit),
        "all": ", ".join(genes),
        "n": len(genes),
    }


def genes_text(genes, limit: int = LIST_SHOWN) -> str:
    """A gene list in a sentence: 'A, B, C' or 'A, ..., T and 380 more'."""
    g = gene_list(genes, limit)
    return g["shown"] + (f" and {g['n_more']:,} more" if g["n_more"] else "")


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
    c["cov_side"] = _json(d / "coverage.json")
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


# ------------------------------------------------------------------------------------------- cohort state
def _int_param(*candidates, default: int) -> int:
    for x in candidates:
        if _finite(x):
            return int(float(x))
    return default


def _prepare(c: dict, config: dict, sigmeta: dict[str, Signature], focal: Sequence[str], primary: str) -> None:
    """What the sections need to tell the truth about one cohort: the coverage rule, the sample floors, B of
    the random nulls, whether each focal signature is scored (and the sentence saying why not), and per row of
    correlations.tsv / survival.tsv whether it was tested (``_thin``: below the sample floor) and why not
    (``_why``)."""
    sc_cfg, ac_cfg, sv_cfg = (config.get(k) or {} for k in ("scoring", "associate", "survival"))
    cov_p, corr_p, surv_p = _params(c["cov_side"]), _params(c["corr_side"]), _params(c["surv_side"])
    c["min_genes"] = _int_param(cov_p.get("min_genes"), sc_cfg.get("min_genes"), default=2)
    mf = cov_p.get("min_fraction", sc_cfg.get("min_fraction", 0.5))
    c["min_fraction"] = float(mf) if _finite(mf) else 0.5
    c["assoc_min"] = _int_param(corr_p.get("min_samples"), ac_cfg.get("min_samples"), default=ASSOCIATE_MIN_SAMPLES)
    c["surv_min"] = _int_param(surv_p.get("min_samples"), sv_cfg.get("min_samples"), default=SURVIVAL_MIN_SAMPLES)
    c["b_corr"] = _int_param(corr_p.get("n_random"), ac_cfg.get("n_random"), default=0)
    c["b_surv"] = _int_param(surv_p.get("n_random"), sv_cfg.get("n_random"), default=0)
    cov = c["coverage"]
    c["scored_map"] = (
        {str(r["signature"]): _true(r.get("scored")) for r in cov.to_dict("records")}
        if cov is not None and "signature" in cov.columns
        else {}
    )
    c["status"] = {f: _focal_status(c, f, primary, sigmeta) for f in focal}
    for f, st in c["status"].items():
        c["scored_map"][f] = st["scored"]
    c["corr"] = _annotate_corr(c)
    c["surv"] = _annotate_surv(c)


def _rule_text(c: dict) -> str:
    mg = c["min_genes"]
    return (
        f"needs at least {mg} gene{'' if mg == 1 else 's'} and {c['min_fraction']:.0%} of the signature"
        " (scoring.min_genes, scoring.min_fraction)"
    )


def _focal_status(c: dict, sig: str, primary: str, sigmeta: dict[str, Signature]) -> dict:
    """Is ``sig`` scored in the cohort? ``sentence``: '{sig} cannot be scored in {cohort}: ...' with the genes
    measured and the rule (a contract of the report); ``one_gene``: the sentence when the score rests on one gene."""
    name = c["name"]
    out = {"scored": True, "sentence": "", "one_gene": "", "reason": ""}
    row = None
    cov = c["coverage"]
    if cov is not None and len(cov) and "signature" in cov.columns:
        hit = cov[cov["signature"].astype(str) == sig]
        row = hit.iloc[0].to_dict() if len(hit) else None
    present = split_genes(row.get("present_genes")) if row else []
    missing = split_genes(row.get("missing_genes")) if row else []
    genes = list(sigmeta[sig].genes) if sig in sigmeta else present + missing
    n = int(row["n_genes"]) if row and _finite(row.get("n_genes")) else len(genes)
    k = int(row["n_present"]) if row and _finite(row.get("n_present")) else len(present)
    if row is not None and not _true(row.get("scored")):
        reason = _text(row.get("reason"))
        if k == 0 and "constant" not in reason:
            detail = f"none of {genes_text(genes)} is measured"
        elif reason.startswith("only "):
            detail = (
                f"only {k} of its {n} genes {'is' if k == 1 else 'are'} measured ({genes_text(present)}; missing:"
                f" {genes_text(missing)})"
            )
        else:
            detail = reason or "below the coverage threshold"
            detail += f" ({k} of its {n} genes measured)" if "genes" not in detail else ""
        out.update(
            scored=False, reason=detail, sentence=f"{sig} cannot be scored in {name}: {detail}; {_rule_text(c)}."
        )
        return out
    sc = c["scores"].get(primary)
    if sc is None or sig not in sc.columns or not sc[sig].notna().any():
        where = (
            f"no {primary} scores were written for it"
            if sc is None or sig not in sc.columns
            else f"its {primary} score is NA in every sample"
        )
        measured = (
            f", although {k} of its {n} genes are measured ({genes_text(present)}) and the rule is met" if row else ""
        )
        detail = where + measured
        out.update(
            scored=False,
            reason=detail,
            sentence=f"{sig} cannot be scored in {name}: {detail} (the rule {_rule_text(c)}).",
        )
        return out
    if k == 1:
        out["one_gene"] = (
            f"{sig} rests on one gene in {name}: only {present[0] if present else 'one'} of its {n} genes"
            f" ({genes_text(genes)}) is measured (scoring.min_genes = {c['min_genes']} allows it), so its score follows"
            " that gene's expression alone."
        )
    return out


def _thin_corr_text(c: dict, n) -> str:
    shown = int(n) if _finite(n) else "NA"
    return f"too few samples (n = {shown}, fewer than associate.min_samples = {c['assoc_min']}): no correlation tested"


def _thin_surv_text(c: dict, n) -> str:
    shown = int(n) if _finite(n) else "NA"
    return (
        f"too few samples (n = {shown} with a score and follow-up, fewer than survival.min_samples = {c['surv_min']}):"
        " no Cox model fitted"
    )


def _col(t: pd.DataFrame, name: str, default) -> pd.Series:
    return t[name] if name in t.columns else pd.Series(default, index=t.index)


def _annotate_corr(c: dict) -> pd.DataFrame | None:
    """correlations.tsv with ``_thin`` (a row not tested for too few samples: its note, or n below
    associate.min_samples, also in older files without the note column) and ``_why`` (why a row has no tested r)."""
    t = c["corr"]
    if t is None:
        return None
    t = t.copy()
    n = pd.to_numeric(_col(t, "n", np.nan), errors="coerce")
    note = _col(t, "note", "").fillna("").astype(str)
    r = pd.to_numeric(_col(t, "r", np.nan), errors="coerce")
    scored = c["scored_map"]
    a_ok = _col(t, "signature_a", "").astype(str).map(lambda s: scored.get(s, True))
    b_ok = _col(t, "signature_b", "").astype(str).map(lambda s: scored.get(s, True))
    thin_note = note.str.contains("min_samples|too few samples|fewer than", regex=True) & r.isna()
    t["_thin"] = ((n < c["assoc_min"]) | thin_note) & a_ok & b_ok
    why = pd.Series("", index=t.index, dtype=object)
    with_note = r.isna() & (note != "")
    why[with_note] = note[with_note]
    why[t["_thin"]] = [_thin_corr_text(c, x) for x in n[t["_thin"]]]
    why[~b_ok] = _col(t, "signature_b", "").astype(str)[~b_ok] + " is not scored in this cohort"
    why[~a_ok] = _col(t, "signature_a", "").astype(str)[~a_ok] + " is not scored in this cohort"
    why[(why == "") & r.isna()] = "not computed"
    t["_why"] = why
    return t


def _annotate_surv(c: dict) -> pd.DataFrame | None:
    """survival.tsv with ``_thin`` (no estimate: fewer samples than survival.min_samples) and ``_why``."""
    t = c["surv"]
    if t is None:
        return None
    t = t.copy()
    n = pd.to_numeric(_col(t, "n", np.nan), errors="coerce")
    note = _col(t, "note", "").fillna("").astype(str)
    hr = pd.to_numeric(_col(t, "hr_per_sd", np.nan), errors="coerce")
    scored = c["scored_map"]
    ok = _col(t, "signature", "").astype(str).map(lambda s: scored.get(s, True))
    t["_thin"] = (
        hr.isna()
        & ok
        & (note.str.startswith("fewer than") | note.str.contains("min_samples") | ((n < c["surv_min"]) & (n > 0)))
    )
    why = pd.Series("", index=t.index, dtype=object)
    why[hr.isna()] = note[hr.isna()]
    why[t["_thin"]] = [_thin_surv_text(c, x) for x in n[t["_thin"]]]
    why[hr.isna() & ~ok] = (
        _col(t, "signature", "").astype(str)[hr.isna() & ~ok] + " is not scored in this cohort (see Data and QC)"
    )
    why[(why == "") & hr.isna()] = "not estimable"
    t["_why"] = why
    return t


def _main_corr(c: dict, primary: str, main: str) -> pd.DataFrame | None:
    """The main focal signature's correlations (primary method, Spearman when there is one)."""
    corr = c["corr"]
    if corr is None or not len(corr):
        return None
    sel = corr[(corr["method"] == primary) & (corr["signature_a"] == main)]
    if "statistic" in sel.columns and (sel["statistic"] == "spearman").any():
        sel = sel[sel["statistic"] == "spearman"]
    return sel


def _primary_endpoint(c: dict) -> str:
    return _text(c["surv_side"].get("primary_endpoint"))


def _endpoint_is_relapse(c: dict, label: str) -> bool:
    cols = [
        (e.get("time"), e.get("event"))
        for e in _params(c["surv_side"]).get("endpoints", []) or []
        if isinstance(e, dict) and e.get("name") == label
    ]
    return is_relapse_endpoint(label, *(x for pair in cols for x in pair))


def _outcome_words(c: dict, label: str) -> str:
    """'relapse (mfs_months/mfs_event)' for a relapse endpoint, else 'the outcome os_months/os_event'."""
    return f"relapse ({label})" if _endpoint_is_relapse(c, label) else f"the outcome {label}"


def _main_surv(c: dict, primary: str, main: str) -> pd.DataFrame | None:
    """The main focal signature's univariate Cox rows (primary method), the sheet's endpoint first."""
    surv = c["surv"]
    if surv is None or not len(surv):
        return None
    s = surv[
        (surv["method"] == primary)
        & (surv["signature"] == main)
        & ~surv["endpoint"].astype(str).str.startswith("relapse:")
    ]
    if "model" in s.columns:
        s = s[s["model"] == "univariate"]
    prim = _primary_endpoint(c)
    return s.iloc[np.argsort((s["endpoint"] != prim).to_numpy(), kind="stable")] if prim else s


# ------------------------------------------------------------------------------------------- sections
def _warn_coverage(c: dict, sigmeta: dict[str, Signature]) -> tuple[list[dict], list[dict]]:
    """(not scored sentences, partially covered sentences) of one cohort; long gene lists are cut to their
    first names, the whole list in ``details``."""
    cov = c["coverage"]
    out, low = [], []
    if cov is None:
        return out, low
    for r in cov.to_dict("records"):
        genes = split_genes(r.get("missing_genes"))
        g = gene_list(genes)
        shown = (
            ",".join(genes[:LIST_SHOWN]) + (f" and {g['n_more']:,} more" if g["n_more"] else "") if genes else "none"
        )
        details = {"summary": f"all {g['n']:,} missing genes", "text": g["all"]} if g["n_more"] else None
        if not _true(r.get("scored")):
            text = (
                f"{r['signature']} is not scored in cohort {c['name']}:"
                f" {_text(r.get('reason')) or 'below the coverage threshold'}. Missing genes: {shown}."
            )
            out.append({"text": text, "details": details})
        elif _finite(r.get("fraction_present")) and float(r["fraction_present"]) < 1:
            low.append(
                {
                    "text": (
                        f"{r['signature']} in cohort {c['name']}: {int(r['n_present'])} of {int(r['n_genes'])} genes"
                        f" measured (missing: {shown})."
                    ),
                    "details": details,
                }
            )
    return out, low


def _hr_reason(c: dict, sig: str, primary: str) -> str:
    """Why ``sig`` has no hazard ratio on the cohort's endpoint ('' when it has one)."""
    st = c["status"].get(sig)
    if st is not None and not st["scored"]:
        return st["sentence"].rstrip(".")
    s = _main_surv(c, primary, sig)
    if s is None or not len(s):
        return f"no Cox model of {sig} ({primary}) in survival.tsv"
    if _finite(s["hr_per_sd"].iloc[0]):
        return ""
    return _text(s["_why"].iloc[0]) or "not estimable"


def _survival_why(c: dict, focal: Sequence[str], primary: str) -> str:
    """Why a cohort has no hazard ratio of its focal signatures ('' when it has one): no endpoint in the sheet,
    the focal signature not scored, too few samples, or the note of its Cox rows."""
    surv = c["surv"]
    name = c["name"]
    if surv is None or not len(surv) or (c["surv_side"] and not _primary_endpoint(c)):
        # the stage's own "no endpoint given in the cohort sheet" note says the same thing again: leave it out
        parts = _text(c["surv_side"].get("note")).split("; ")
        note = "; ".join(x for x in parts if x and not x.startswith("no endpoint given in the cohort sheet"))
        why = f"No survival analysis for cohort {name}: no time/event columns in the cohort sheet for cohort {name}."
        return why + (f" (survival stage: {note}.)" if note else "")
    s = surv[surv["signature"].isin(list(focal)) & (surv["method"] == primary)] if "method" in surv.columns else surv
    if len(s) and s["hr_per_sd"].notna().any():
        return ""
    main = focal[0] if focal else "SS"
    reason = _hr_reason(c, main, primary) or "every Cox model of the cohort was skipped (see the notes of survival.tsv)"
    return f"No hazard ratio for cohort {name}: {reason}."


def _named(rows: pd.DataFrame) -> str:
    """'LMS: r = 0.45, 95% CI 0.20 to 0.62, q = 0.001; ...' for the signatures a headline names."""
    return "; ".join(
        f"{r['signature_b']}: r = {fmt_r(r['r'])}, 95% CI {fmt_ci(r.get('ci_low'), r.get('ci_high'))}, q ="
        f" {fmt_p(r.get('q'))}"
        for r in rows.to_dict("records")
    )


def _cohort_sentences(c: dict, primary: str, main_focal: str, focal: Sequence[str] = ()) -> dict:
    """The plain-words answers of one cohort (primary method, main focal signature). ``first``: the lines that
    open the cohort's summary box: '{signature} cannot be scored in {cohort}: ...' for each focal signature not
    scored, then '... rests on one gene ...'."""
    name = c["name"]
    focal = list(focal) or [main_focal]
    status = c["status"]
    out: dict = {"first": [], "corr": "", "surv": "", "surv_q": "", "notes": []}
    out["first"] = [status[f]["sentence"] for f in focal if f in status and not status[f]["scored"]]
    out["first"] += [status[f]["one_gene"] for f in focal if f in status and status[f]["one_gene"]]
    main_st = status.get(main_focal, {"scored": True})
    corr = c["corr"]
    sel = _main_corr(c, primary, main_focal)
    if not main_st["scored"]:
        out["corr"] = f"Not tested: {main_focal} cannot be scored in {name} (see above)."
    elif sel is not None and len(sel):
        thin = sel[sel["_thin"]]
        tested = sel[~sel["_thin"] & sel["r"].notna()]
        untested = sel[~sel["_thin"] & sel["r"].isna()]
        if not len(tested):
            whys = list(dict.fromkeys(thin["_why"].tolist() + untested["_why"].tolist()))
            out["corr"] = f"Not tested: {'; '.join(whys) or 'no correlation was computed'}."
        else:
            sig = tested[(tested["q"] < ALPHA) & (tested["r"] > 0)].sort_values("r", ascending=False)
            neg = tested[(tested["q"] < ALPHA) & (tested["r"] < 0)].sort_values("r")
            n_bh = int((corr["q"].notna() & ~corr["_thin"]).sum()) if "q" in corr.columns else len(tested)
            s = f"{main_focal} correlates positively with {len(sig)} of {len(tested)} signatures at q < 0.05"
            s += f" ({_named(sig)})" if len(sig) else ""
            s += f" and negatively with {len(neg)} ({_named(neg)})" if len(neg) else ""
            s += f" ({primary} scores, Spearman, Benjamini-Hochberg over {n_bh} tests)."
            if "p_random_null" in sel.columns:
                beyond = tested[tested["p_random_null"] < ALPHA]
                listed = "; ".join(
                    f"{r['signature_b']}, r = {fmt_r(r['r'])}, {p_null_phrase(r['p_random_null'], c['b_corr'])}"
                    for r in beyond.to_dict("records")
                )
                s += f" Beyond matched random signatures (null p < 0.05): {listed or 'none'}."
            for part in (thin, untested):
                names = part["signature_b"].astype(str)
                # one clause for every target not scored here, not one "(X is not scored ...): X." per target
                own = part["_why"] == names + " is not scored in this cohort"
                key = part["_why"].where(~own, "not scored in this cohort")
                for why, grp in names.groupby(key, sort=False):
                    s += f" Not tested ({why}): {', '.join(grp)}."
            out["corr"] = s
        for r in tested.to_dict("records"):
            shared = int(r.get("n_shared_genes", 0)) if _finite(r.get("n_shared_genes")) else 0
            rws = r.get("r_without_shared", np.nan)
            if shared and _finite(r["q"]) and r["q"] < ALPHA and _finite(rws) and abs(rws) < abs(r["r"]) / 2:
                out["notes"].append(
                    f"Cohort {name}, {main_focal} vs {r['signature_b']}: r = {fmt_r(r['r'])} falls to {fmt_r(rws)}"
                    f" without the {shared} shared gene(s): the correlation is carried by genes the two signatures"
                    " share."
                )
            if shared and _finite(r["q"]) and r["q"] < ALPHA and not _finite(rws):
                out["notes"].append(
                    f"Cohort {name}, {main_focal} vs {r['signature_b']}: r = {fmt_r(r['r'])} cannot be checked"
                    f" without the {shared} shared gene(s) ({_text(r.get('note')) or 'r_without_shared is NA'}):"
                    " the correlation may be carried by genes the two signatures share."
                )
            pn = r.get("p_random_null", np.nan)
            if _finite(r["q"]) and r["q"] < ALPHA and _finite(pn) and pn >= ALPHA:
                out["notes"].append(
                    f"Cohort {name}, {main_focal} vs {r['signature_b']}: significant (q = {fmt_p(r['q'])}) but not"
                    f" beyond random signatures of the same size and expression ({p_null_phrase(pn, c['b_corr'])})."
                )
    label = _primary_endpoint(c)
    out["surv_q"] = (
        f"Does {main_focal} predict relapse?"
        if label and _endpoint_is_relapse(c, label)
        else f"Does {main_focal} predict the outcome{f' ({label})' if label else ''}?"
    )
    s = _main_surv(c, primary, main_focal)
    if not label and not (s is not None and len(s)):
        return out
    if not main_st["scored"]:
        out["surv"] = f"Not analysed: {main_focal} cannot be scored in {name} (see above)."
    elif s is not None and len(s) and _finite(s["hr_per_sd"].iloc[0]):
        r0 = s.iloc[0]
        verdict = "predicts" if _finite(r0["p"]) and r0["p"] < ALPHA else "does not significantly predict"
        out["surv"] = (
            f"{main_focal} {verdict} {_outcome_words(c, str(r0['endpoint']))}: hazard ratio {r0['hr_per_sd']:.2f} per"
            f" SD of the score (95% CI {fmt_r(r0['ci_low'])}-{fmt_r(r0['ci_high'])}, p = {fmt_p(r0['p'])};"
            f" {int(r0['n'])} samples, {int(r0['events'])} events; Cox, {primary})."
        )
        if _finite(r0.get("p_random_null")):
            out["surv"] += (
                " Against random signatures of the same size and expression:"
                f" {p_null_phrase(r0['p_random_null'], c['b_surv'])} (Venet et al. 2011)."
            )
    elif s is not None and len(s):
        out["surv"] = (
            f"No hazard ratio for {main_focal} on {s['endpoint'].iloc[0]}:"
            f" {_text(s['_why'].iloc[0]) or 'not estimable'}."
        )
    return out


def _warnings(
    cohorts: list[dict],
    sigmeta: dict[str, Signature],
    signatures: Sequence[Signature],
    primary: str,
    focal: Sequence[str],
    meta_why: Sequence[str],
) -> list[dict]:
    """Caveats in plain words, grouped: partial lists, coverage, sample size, events, proportional hazards,
    missing data. A line is a string or {"text", "details"} (details: a long list behind a <details>)."""
    groups: list[dict] = []
    main = focal[0] if focal else "SS"
    partial = [s for s in signatures if s.complete is False]
    if partial:
        groups.append({"title": "Partial signature lists", "lines": [f"{s.name} ({s.organ or 'no organ given'}): only part of the published gene list is available ({s.size} genes here); its score approximates the published signature." for s in partial]})
    cov_items: list = []
    for c in cohorts:
        not_scored, low = _warn_coverage(c, sigmeta)
        cov_items += not_scored + low
    if cov_items:
        groups.append({"title": "Signature coverage (not scored, or not every gene measured)", "lines": cov_items})
    thin_items = []
    for c in cohorts:
        sel = _main_corr(c, primary, main)
        if sel is not None and len(sel) and sel["_thin"].all():
            thin_items.append(f"Cohort {c['name']}: {sel['_why'].iloc[0]}.")
    if thin_items:
        groups.append({"title": "Too few samples", "lines": thin_items})
    ev_items, ph_items, surv_items = [], [], []
    for c in cohorts:
        why = _survival_why(c, focal, primary)
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
    missing = surv_items + [w for w in meta_why if w]
    if missing:
        groups.append({"title": "Not analysed", "lines": missing})
    return groups


def _pooled(t: pd.DataFrame | None) -> pd.DataFrame | None:
    """The random-effects (DerSimonian-Laird) rows of a results/meta table that pooled something: rows with
    k < 2 (k = 0: no cohort had an estimate; k = 1: nothing to pool) have no pooled estimate and are left out."""
    if t is None or not len(t):
        return t
    k = pd.to_numeric(_col(t, "k", np.nan), errors="coerce")
    return t[(t["pooling"] == "random_dl") & (k >= 2)]


def _untested_blocks(c: dict) -> tuple[pd.DataFrame | None, str]:
    """(the cohort's correlation rows of the blocks (method x focal signature) with at least one tested row, the
    sentence naming the blocks left out and why: '' when none). A block with no tested row (its focal signature not
    scored, or fewer samples than associate.min_samples) would fill the summary table with NA rows (120 for a
    real cohort); the cohort's box and the Tables section already say why."""
    corr = c["corr"]
    if corr is None or not len(corr):
        return corr, ""
    tested = pd.to_numeric(_col(corr, "r", np.nan), errors="coerce").notna() & ~corr["_thin"].astype(bool)
    keys = [corr["method"].astype(str), corr["signature_a"].astype(str)]
    keep = tested.groupby(keys).transform("any").astype(bool)
    gone = corr[~keep]
    if not len(gone):
        return corr, ""
    scored = c["scored_map"]
    reasons: dict[str, list[str]] = {}  # why -> the focal signatures left out for it
    for (_, a), block in gone.groupby(keys, sort=False):
        if not scored.get(a, True):
            why = "not scored in this cohort"
        elif block["_thin"].any():
            why = _text(block.loc[block["_thin"].astype(bool), "_why"].iloc[0])
        else:
            why = "; ".join(dict.fromkeys(block["_why"].astype(str)))
        names = reasons.setdefault(why, [])
        if a not in names:
            names.append(a)
    return corr[keep], f"{c['name']}: " + "; ".join(f"{', '.join(v)} ({k})" for k, v in reasons.items())


def _untested_hr(c: dict, focal: Sequence[str]) -> tuple[pd.DataFrame | None, str]:
    """(the cohort's Cox rows of its focal signatures, or none when not one has a hazard ratio; then the sentence
    naming the cohort and why, as :func:`_untested_blocks` does for correlations)."""
    surv = c["surv"]
    if surv is None or not len(surv):
        return surv, ""
    surv = surv[surv["signature"].isin(list(focal))]
    if not len(surv) or pd.to_numeric(_col(surv, "hr_per_sd", np.nan), errors="coerce").notna().any():
        return surv, ""
    scored = c["scored_map"]
    reasons: dict[str, list[str]] = {}
    for sig, rows in surv.groupby("signature", sort=False):
        why = "not scored in this cohort" if not scored.get(sig, True) else _text(rows["_why"].iloc[0])
        reasons.setdefault(why or "not estimable", []).append(str(sig))
    return surv.iloc[:0], f"{c['name']}: " + "; ".join(f"{', '.join(v)} ({k})" for k, v in reasons.items())


def _summary_rows(
    cohorts: list[dict], mc: pd.DataFrame | None, ms: pd.DataFrame | None, focal: Sequence[str]
) -> tuple[list[dict], list[dict], list[str], list[str]]:
    """(correlation rows, hazard-ratio rows, sentences naming the untested correlation blocks and the cohorts
    without any hazard ratio left out)."""
    corr_rows, surv_rows, left_out, surv_left_out = [], [], [], []
    for c in cohorts:
        corr, why = _untested_blocks(c)
        if why:
            left_out.append(why)
        if corr is not None:
            for r in corr.to_dict("records"):
                note = r["_why"] or _text(r.get("note"))
                corr_rows.append(
                    {
                        "cohort": c["name"],
                        "method": r["method"],
                        "a": r["signature_a"],
                        "b": r["signature_b"],
                        "statistic": r.get("statistic", "spearman"),
                        "cells": [
                            _cell("r", r.get("r"), fmt_r(r.get("r"))),
                            _cell("ci_low", r.get("ci_low"), fmt_r(r.get("ci_low"))),
                            _cell("ci_high", r.get("ci_high"), fmt_r(r.get("ci_high"))),
                            _cell("q", r.get("q"), fmt_p(r.get("q"))),
                            _cell(
                                "p_random_null",
                                r.get("p_random_null"),
                                fmt_p_null(r.get("p_random_null"), c["b_corr"], with_b=False),
                            ),
                            _cell("r_without_shared", r.get("r_without_shared"), fmt_r(r.get("r_without_shared"))),
                            _cell("n", r.get("n"), str(int(r["n"])) if _finite(r.get("n")) else "NA"),
                        ],
                        "sig": _finite(r.get("q")) and r["q"] < ALPHA and not r["_thin"],
                        "note": note,
                    }
                )
        surv, why = _untested_hr(c, focal)
        if why:
            surv_left_out.append(why)
        if surv is not None and len(surv):
            for r in surv.to_dict("records"):
                surv_rows.append(
                    {
                        "cohort": c["name"],
                        "method": r["method"],
                        "signature": r["signature"],
                        "endpoint": r["endpoint"],
                        "model": r.get("model", "univariate"),
                        "cells": [
                            _cell(
                                "events", r.get("events"), str(int(r["events"])) if _finite(r.get("events")) else "NA"
                            ),
                            _cell("hr_per_sd", r.get("hr_per_sd"), fmt_r(r.get("hr_per_sd"))),
                            _cell("ci_low", r.get("ci_low"), fmt_r(r.get("ci_low"))),
                            _cell("ci_high", r.get("ci_high"), fmt_r(r.get("ci_high"))),
                            _cell("p", r.get("p"), fmt_p(r.get("p"))),
                            _cell(
                                "p_random_null",
                                r.get("p_random_null"),
                                fmt_p_null(r.get("p_random_null"), c["b_surv"], with_b=False),
                            ),
                            _cell("ph_p", r.get("ph_p"), fmt_p(r.get("ph_p"))),
                        ],
                        "note": r["_why"] if not _finite(r.get("hr_per_sd")) else _text(r.get("note")),
                        "sig": _finite(r.get("p")) and r["p"] < ALPHA,
                    }
                )
    mc, ms = _pooled(mc), _pooled(ms)
    if mc is not None and len(mc):
        for r in mc.to_dict("records"):
            corr_rows.append(
                {
                    "cohort": "pooled",
                    "method": r["method"],
                    "a": r["signature_a"],
                    "b": r["signature_b"],
                    "statistic": r["statistic"],
                    "cells": [
                        _cell("r", r.get("estimate"), fmt_r(r.get("estimate"))),
                        _cell("ci_low", r.get("ci_low"), fmt_r(r.get("ci_low"))),
                        _cell("ci_high", r.get("ci_high"), fmt_r(r.get("ci_high"))),
                        _cell("q", None, ""),
                        _cell("p_random_null", None, ""),
                        _cell("r_without_shared", None, ""),
                        _cell("n", r.get("k"), f"k = {int(r['k'])}" if _finite(r.get("k")) else "NA"),
                    ],
                    "sig": False,
                    "note": (
                        f"pooled p = {fmt_p(r.get('p'))}, I² = {fmt_i2(r.get('i2'))}"
                        + (f"; {_text(r.get('note'))}" if _text(r.get("note")) else "")
                    ),
                }
            )
    if ms is not None and len(ms):
        for r in ms[ms["signature"].isin(list(focal))].to_dict("records"):
            surv_rows.append(
                {
                    "cohort": "pooled",
                    "method": r["method"],
                    "signature": r["signature"],
                    "endpoint": r["endpoint"],
                    "model": r["model"],
                    "cells": [
                        _cell("events", None, ""),
                        _cell("hr_per_sd", r.get("estimate"), fmt_r(r.get("estimate"))),
                        _cell("ci_low", r.get("ci_low"), fmt_r(r.get("ci_low"))),
                        _cell("ci_high", r.get("ci_high"), fmt_r(r.get("ci_high"))),
                        _cell("p", r.get("p"), fmt_p(r.get("p"))),
                        _cell("p_random_null", None, ""),
                        _cell("ph_p", None, ""),
                    ],
                    "note": (
                        (f"k = {int(r['k'])} cohorts, I² = {fmt_i2(r.get('i2'))}" if _finite(r.get("k")) else "")
                        + (f"; {_text(r.get('note'))}" if _text(r.get("note")) else "")
                    ),
                    "sig": _finite(r.get("p")) and r["p"] < ALPHA,
                }
            )
    return corr_rows, surv_rows, left_out, surv_left_out


def _heatmap(fw, cohorts: list[dict], mc: pd.DataFrame | None, primary: str, focal: str, pooled_ok: bool):
    """(the summary heatmap, or None and why not). Rows not tested (too few samples) are NA; a pooled column
    only where something was pooled."""
    from .figures import summary_heatmap

    cols, marks = {}, {}
    targets: list[str] = []
    for c in cohorts:
        s = _main_corr(c, primary, focal)
        if s is None or not len(s):
            continue
        s = s.drop_duplicates("signature_b").set_index("signature_b")
        targets += [t for t in s.index if t not in targets]
        cols[c["name"]] = s["r"].where(~s["_thin"])
        marks[c["name"]] = (s["p_random_null"] < ALPHA if "p_random_null" in s.columns else s["q"] < ALPHA) & ~s[
            "_thin"
        ]
    pooled = _pooled(mc) if pooled_ok else None
    if pooled is not None and len(pooled):
        s = pooled[
            (pooled["method"] == primary) & (pooled["signature_a"] == focal) & (pooled["statistic"] == "spearman")
        ].set_index("signature_b")
        if s["estimate"].notna().any():
            cols["pooled"] = s["estimate"]
            marks["pooled"] = s["p"] < ALPHA
    if not targets:
        return None, f"No summary heatmap: no correlation of {focal} was computed in any cohort."
    values = pd.DataFrame({k: v.reindex(targets) for k, v in cols.items()}, index=targets)
    if not np.isfinite(values.to_numpy(dtype=float)).any():
        return (
            None,
            (
                f"No summary heatmap: no correlation of {focal} was tested in any cohort"
                f" ({'; '.join(_cohort_gaps(cohorts, focal, primary, 'corr')[1])})."
            ),
        )
    mk = pd.DataFrame({k: v.reindex(targets, fill_value=False).astype(bool) for k, v in marks.items()}, index=targets)
    label = "null p < 0.05 (random-signature null)" + ("\npooled: random-effects p < 0.05" if "pooled" in values.columns else "")
    w = fw(
        "summary_heatmap",
        lambda: summary_heatmap(values, mk, title=f"{focal} vs each signature\n({primary} scores)", mark_label=label),
        f"{focal} vs each signature: Spearman r per cohort" + (" and pooled" if "pooled" in values.columns else ""),
        f"Colour: Spearman r of {focal} with each signature ({primary} scores), per cohort"
        + (" and pooled across cohorts (random effects, DerSimonian-Laird)" if "pooled" in values.columns else "")
        + f". Dot: {label}. NA (grey): not scored in that cohort, too few samples to test, or not computed.",
    )
    return w, ""


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
            sec["coverage"].append(
                {
                    "signature": r["signature"],
                    "organ": _text(r.get("organ")),
                    "complete": (
                        "partial list"
                        if str(r.get("complete")).lower() == "false"
                        else ("yes" if str(r.get("complete")).lower() == "true" else "NA")
                    ),
                    "n_present": r.get("n_present"),
                    "n_genes": r.get("n_genes"),
                    "present": gene_list(r.get("present_genes")),
                    "missing": gene_list(r.get("missing_genes")),
                    "scored": "yes" if _true(r.get("scored")) else f"no: {_text(r.get('reason'))}",
                    "mean_r": r.get("mean_inter_gene_r"),
                    "alpha": r.get("cronbach_alpha"),
                    "leading": _text(r.get("leading_gene")),
                    "gene_rest_r": gene_list(r.get("gene_rest_r")),
                    "filtered": _text(r.get("filtered_genes")).replace(";", ", "),
                    "mean_r_s": fmt_r(r.get("mean_inter_gene_r")),
                    "alpha_s": fmt_r(r.get("cronbach_alpha")),
                }
            )
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
    if main not in scores.columns or not scores[main].notna().any():
        sec["why"].append(f"No scatter plots for cohort {name}: {main} is not scored in this cohort ({primary}).")
        return sec
    thin = bool(len(sel)) and bool(sel["_thin"].all())
    if thin:
        sec["why"].append(f"No scatter plots or enrichment plots for cohort {name}: {sel['_why'].iloc[0]}.")
        return sec
    expr = _expr(c) if n_random > 0 and main in sigmeta else None
    mparams = dict((config.get("scoring", {}) or {}).get(primary) or {})
    null_scores = None
    if expr is None:
        sec["why"].append(f"No random-signature null histograms for cohort {name}: " + ("the random null is switched off (associate.n_random: 0)." if n_random <= 0 else "the expression matrix is not available."))
    for r in sel.to_dict("records"):
        t = r["signature_b"]
        if t not in scores.columns or not scores[t].notna().any():
            sec["why"].append(f"No scatter plot of {main} vs {t} in cohort {name}: {t} is not scored in this cohort (see Data and QC).")
            continue
        if r["_thin"] or not _finite(r.get("r")):
            sec["why"].append(
                f"No scatter plot of {main} vs {t} in cohort {name}: {r['_why'] or 'no correlation computed'}."
            )
            continue
        null_r, p = np.array([]), r.get("p_random_null", np.nan)
        if expr is not None:
            try:
                null_r, p, null_scores = null_correlations(expr, scores, sigmeta[main], t, primary, statistic=stat, n_random=n_random, seed=seed, params=mparams, observed_r=float(r["r"]), null=null_scores)
            except Exception as exc:  # noqa: BLE001 - a missing null is reported, not fatal
                sec["why"].append(f"No random-signature null for {main} in cohort {name}: {exc}")
                expr = None
        x, y = scores[main].rename(main), scores[t].rename(t)
        b = len(null_r) or n_random
        w = fw(
            f"{safe_name(name)}/scatter_null_{safe_name(primary, main, t)}",
            lambda x=x, y=y, null_r=null_r, r=r, p=p, b=b: scatter_null_figure(
                x,
                y,
                null_r,
                float(r["r"]),
                p,
                method=primary,
                statistic=stat,
                cohort=name,
                q=r.get("q", np.nan),
                p_label=fmt_p_null(p, b),
            ),
            f"{name}: {main} vs {t}",
            f"Top: {main} against {t} ({primary} scores, one point per sample; {stat} r = {fmt_r(r.get('r'))}, q ="
            f" {fmt_p(r.get('q'))}). Bottom: {stat} correlation of {len(null_r)} random signatures matched to {main} in"
            f" size and expression with {t}; red line: the observed r (dotted: its mirror); {p_null_phrase(p, b)}"
            " (Venet et al. 2011).",
        )
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


def _no_curves_why(c: dict, main: str, primary: str, what: str) -> str:
    """Why a cohort has no Kaplan-Meier curves / cumulative incidence of its main focal signature."""
    reason = _hr_reason(c, main, primary)
    if reason:
        return f"No {what} for cohort {c['name']}: {reason}."
    return ""


def _outcome_section(fw, c: dict, focal: Sequence[str], primary: str) -> dict:
    from .curves import plot_cif, plot_km
    from .figures import safe_name

    name = c["name"]
    main = focal[0] if focal else "SS"
    sec: dict = {"figures": [], "logrank": [], "hr": [], "why": []}
    why = _survival_why(c, focal, primary)
    if why:
        sec["why"].append(why)
        return sec
    main_why = _hr_reason(c, main, primary)
    if main_why:
        sec["why"].append(f"No hazard ratio for {main} in cohort {name}: {main_why}.")
    surv = c["surv"]
    s = surv[(surv["method"] == primary) & surv["signature"].isin(list(focal))]
    sec["hr"] = [
        {
            "signature": r["signature"],
            "endpoint": r["endpoint"],
            "model": r.get("model", "univariate"),
            "covariates": _text(r.get("covariates")),
            "n": int(r["n"]) if _finite(r.get("n")) else "NA",
            "events": int(r["events"]) if _finite(r.get("events")) else "NA",
            "hr": fmt_hr(r),
            "p": fmt_p(r.get("p")),
            "c": fmt_r(r.get("concordance")),
            "ph_p": fmt_p(r.get("ph_p")),
            "p_null": fmt_p_null(r.get("p_random_null"), c["b_surv"]),
            "note": r["_why"] if not _finite(r.get("hr_per_sd")) else _text(r.get("note")),
        }
        for r in s.to_dict("records")
    ]
    km, lr, aj = c["km"], c["lr"], c["aj"]
    if lr is not None and len(lr):
        for r in lr[(lr["method"] == primary) & lr["signature"].isin(list(focal))].to_dict("records"):
            sec["logrank"].append({**r, "p_s": fmt_p(r.get("p")), "chisq_s": fmt_r(r.get("chisq")), "note": _text(r.get("note"))})
    cut = ""
    for f in focal:
        if c["status"].get(f, {"scored": True})["scored"] is False:
            continue
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
        col = (_params(c["surv_side"]).get("relapse_site") or {}).get("column", "relapse_site")
        note = _text(c["surv_side"].get("note"))
        if not col:
            sec["why"].append(
                f"No cumulative incidence by site for cohort {name}: no site-of-relapse column is set"
                " (survival.relapse_site.column is empty)."
            )
        elif f"relapse-site column '{col}' is not in" in note or not c["surv_side"]:
            sec["why"].append(
                f"No cumulative incidence by site for cohort {name}: no site-of-relapse column (survival.relapse_site)"
                " in its clinical data."
            )
        else:
            sec["why"].append(
                _no_curves_why(c, main, primary, "cumulative incidence by site")
                or f"No cumulative incidence by site for cohort {name}: cumulative_incidence.tsv is empty."
            )
    if km is None or not len(km):
        sec["why"].append(
            _no_curves_why(c, main, primary, "Kaplan-Meier curves")
            or f"No Kaplan-Meier curves for cohort {name}: km.tsv is empty."
        )
    return sec


def _cohort_gaps(cohorts: list[dict], main: str, primary: str, kind: str) -> tuple[list[str], list[str]]:
    """(cohorts that have a tested correlation (``kind`` 'corr') or a hazard ratio ('surv') of the main focal
    signature, 'cohort: why not' for the others)."""
    ok, parts = [], []
    for c in cohorts:
        st = c["status"].get(main, {"scored": True})
        if not st["scored"]:
            parts.append(f"{c['name']}: {main} cannot be scored ({st['reason']})")
        elif kind == "corr":
            sel = _main_corr(c, primary, main)
            if sel is not None and len(sel) and (~sel["_thin"] & sel["r"].notna()).any():
                ok.append(c["name"])
            else:
                parts.append(
                    f"{c['name']}: "
                    + (
                        sel["_why"].iloc[0]
                        if sel is not None and len(sel)
                        else f"no correlation of {main} in correlations.tsv"
                    )
                )
        else:
            has_endpoint = bool(_primary_endpoint(c)) or (
                c["surv"] is not None and len(c["surv"]) and not c["surv_side"]
            )
            reason = _hr_reason(c, main, primary) if has_endpoint else "no time/event columns in the cohort sheet"
            if reason:
                parts.append(f"{c['name']}: {reason}")
            else:
                ok.append(c["name"])
    return ok, parts


def _nothing_pooled_why(cohorts: list[dict], main: str, primary: str, kind: str) -> str:
    """Why no correlation (``kind`` 'corr') or hazard ratio ('surv') of the main focal signature was pooled."""
    ok, parts = _cohort_gaps(cohorts, main, primary, kind)
    what = "correlations" if kind == "corr" else "hazard ratio on its primary endpoint"
    s = (
        f"pooling needs {main}'s {what} from at least two cohorts; {len(ok)} of the {len(cohorts)} cohorts"
        f" {'has' if len(ok) == 1 else 'have'} {'them' if kind == 'corr' else 'one'}"
    )
    s += f" ({', '.join(ok)})" if ok else ""
    return s + (": " + "; ".join(parts) if parts else "") + "."


def _meta_section(fw, cohorts: list[dict], mc: pd.DataFrame | None, ms: pd.DataFrame | None, primary: str, focal: Sequence[str]) -> dict:
    from .figures import safe_name
    from .meta import forest_figure

    main = focal[0] if focal else "SS"
    sec: dict = {"rows": [], "surv_rows": [], "figures": [], "why": "", "surv_why": ""}
    if len(cohorts) < 2:
        sec["why"] = f"No meta-analysis: pooling needs at least two cohorts; this run has one ({', '.join(c['name'] for c in cohorts) or 'none'})."
        return sec
    if mc is None or not len(mc):
        sec["why"] = "No meta-analysis: no pooled estimates were written (results/meta/correlations.tsv is empty)."
        return sec
    mc_all = mc[
        (mc["method"] == primary)
        & (mc["signature_a"] == main)
        & (mc["statistic"] == "spearman")
        & (mc["pooling"] == "random_dl")
    ]
    pooled = _pooled(mc_all)
    if not len(pooled):
        sec["why"] = f"No correlation of {main} was pooled across cohorts: " + _nothing_pooled_why(
            cohorts, main, primary, "corr"
        )
    sec["rows"] = [
        {
            **r,
            "est": fmt_r(r["estimate"]),
            "ci": fmt_ci(r["ci_low"], r["ci_high"]),
            "p": fmt_p(r["p"]),
            "i2": fmt_i2(r.get("i2")),
            "tau2": f"{r['tau2']:.3g}" if _finite(r.get("tau2")) else "NA",
            "note": _text(r.get("note")),
        }
        for r in pooled.to_dict("records")
    ]
    sec["n_left_out"] = int(len(mc_all) - len(pooled))
    per = []
    for c in cohorts:
        t = _main_corr(c, primary, main)
        if t is not None and len(t) and "statistic" in t.columns:
            t = t[(t["statistic"] == "spearman") & ~t["_thin"] & t["r"].notna()]
            if len(t):
                per.append(t.assign(cohort=c["name"]))
    per_c = pd.concat(per, ignore_index=True) if per else pd.DataFrame()
    for target in pooled["signature_b"].drop_duplicates():
        rows = per_c[per_c["signature_b"] == target].assign(estimate=lambda x: x["r"]) if len(per_c) else per_c
        pl = mc[
            (mc["method"] == primary)
            & (mc["signature_a"] == main)
            & (mc["statistic"] == "spearman")
            & (mc["signature_b"] == target)
        ]
        if len(rows) >= 2 and pl["estimate"].notna().any():
            dl = pl[pl["pooling"] == "random_dl"].iloc[0]
            w = fw(f"meta/forest_r_{safe_name(primary, main, target)}", lambda rows=rows, pl=pl, target=target: forest_figure(rows, pl, scale="r", title=f"{main} vs {target} ({primary}, Spearman r)"),
                   f"{main} vs {target}: correlation across cohorts", f"Forest plot: Spearman r of {main} with {target} ({primary}) per cohort (95% CI) and pooled (random effects DerSimonian-Laird, fixed effect); I² = {fmt_i2(dl.get('i2'))}.")
            sec["figures"].append(_fig(w))
    if ms is not None and len(ms):
        s = _pooled(ms[(ms["method"] == primary) & ms["signature"].isin(list(focal))])
        sec["surv_rows"] = [
            {
                **r,
                "est": fmt_r(r["estimate"]),
                "ci": fmt_ci(r["ci_low"], r["ci_high"]),
                "p": fmt_p(r["p"]),
                "i2": fmt_i2(r.get("i2")),
                "note": _text(r.get("note")),
            }
            for r in s.to_dict("records")
        ]
        for f in focal:
            per = []
            for c in cohorts:
                t, prim = c["surv"], _primary_endpoint(c)
                if t is not None and len(t) and prim:
                    t = t[
                        (t["method"] == primary)
                        & (t["signature"] == f)
                        & (t["endpoint"] == prim)
                        & (t["model"] == "univariate")
                        & t["hr_per_sd"].notna()
                    ]
                    if len(t):
                        per.append(t.assign(cohort=c["name"], estimate=lambda x: x["hr_per_sd"]))
            pl = ms[
                (ms["method"] == primary)
                & (ms["signature"] == f)
                & (ms["endpoint"] == "primary")
                & (ms["model"] == "univariate")
            ]
            rows = pd.concat(per, ignore_index=True) if per else pd.DataFrame()
            if len(rows) >= 2 and len(pl) and pl["estimate"].notna().any():
                dl = pl[pl["pooling"] == "random_dl"].iloc[0]
                w = fw(f"meta/forest_hr_{safe_name(primary, f)}", lambda rows=rows, pl=pl, f=f: forest_figure(rows, pl, scale="hr", title=f"{f} ({primary}): HR per SD, primary endpoint"),
                       f"{f}: hazard ratio per SD across cohorts", f"Forest plot: Cox hazard ratio per SD of {f} ({primary}, univariate, each cohort's primary endpoint) per cohort and pooled; I² = {fmt_i2(dl.get('i2'))}.")
                sec["figures"].append(_fig(w))
            elif f == main:
                sec["surv_why"] = f"No pooled hazard ratio for {main}: " + _nothing_pooled_why(
                    cohorts, main, primary, "surv"
                )
    return sec


def fmt_i2(x) -> str:
    return f"{float(x):.0f}%" if _finite(x) else "NA"


def _tables(c: dict) -> dict:
    corr, surv = c["corr"], c["surv"]
    return {
        "corr_table": (
            []
            if corr is None
            else [
                {
                    **r,
                    "statistic": r.get("statistic", "spearman"),
                    "r_s": fmt_r(r.get("r")),
                    "ci": fmt_ci(r.get("ci_low"), r.get("ci_high")),
                    "p_s": fmt_p(r.get("p")),
                    "q_s": fmt_p(r.get("q")),
                    "p_null": fmt_p_null(r.get("p_random_null"), c["b_corr"]),
                    "rws": fmt_r(r.get("r_without_shared")),
                    "rp": fmt_r(r.get("r_partial")),
                    "note": r["_why"] or _text(r.get("note")),
                }
                for r in corr.to_dict("records")
            ]
        ),
        "surv_table": (
            []
            if surv is None
            else [
                {
                    **r,
                    "model": r.get("model", "univariate"),
                    "hr": fmt_hr(r),
                    "p_s": fmt_p(r.get("p")),
                    "c": fmt_r(r.get("concordance")),
                    "ph_p_s": fmt_p(r.get("ph_p")),
                    "p_null": fmt_p_null(r.get("p_random_null"), c["b_surv"]),
                    "note": r["_why"] if not _finite(r.get("hr_per_sd")) else _text(r.get("note")),
                    "n": int(r["n"]) if _finite(r.get("n")) else "NA",
                    "events": int(r["events"]) if _finite(r.get("events")) else "NA",
                }
                for r in surv.to_dict("records")
            ]
        ),
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
        f"Expression cohorts ({len(cohorts)}: {', '.join(c['name'] for c in cohorts)}) were processed with the seedsig"
        f" pipeline {vers.get('seedsig', '')} (Snakemake {vers.get('snakemake', '')}; Köster and Rahmann 2012). Gene"
        " identifiers were mapped offline to current HGNC symbols (approved, then previous, then alias symbols;"
        " ambiguous identifiers were left unmapped) and rows mapping to one gene were collapsed"
        f" ({(config.get('ingest') or {}).get('collapse', 'max_mean')}). "
        + (f"Normalization per cohort: {'; '.join(norm_parts)}. " if norm_parts else "")
        + "Signatures (the self-seeding signature SS of Kim et al. 2009, its sub-scores and the organ-specific"
        " metastasis signatures listed below with their sources) were scored per sample with"
        f" {', '.join(scoring_txt)}; signed signatures scored as the up-gene score minus the down-gene score, and a"
        f" signature was scored in a cohort only when at least {sc.get('min_genes', 2)} of its genes and"
        f" {round(100 * float(sc.get('min_fraction', 0.5)))}% of them were measured. Each self-seeding score was"
        " correlated with every other signature by Spearman's rank correlation (95% CI: percentile bootstrap,"
        f" {ac.get('n_bootstrap', 1000)} resamples, seed {ac.get('seed', '')}) and Pearson's correlation (Fisher z"
        " CI), with Benjamini-Hochberg false-discovery-rate control (Benjamini and Hochberg 1995) over all"
        f" correlations of a cohort. Each correlation was compared with those of {ac.get('n_random', 1000)} random"
        " signatures matched to the focal signature in size and mean expression and scored by the same method"
        " (empirical p = (b + 1)/(B + 1); Venet et al. 2011), recomputed after removing the genes shared by the two"
        " signatures from both, and adjusted by partial correlation for proliferation (meta-PCNA; Venet et al. 2011)"
        f" and clinical covariates ({', '.join(ac.get('covariates') or []) or 'none'}). Genes were ranked by their"
        f" {pre.get('statistic', 'spearman')} correlation with the focal score (its own genes left out) and the"
        f" signatures tested by GSEA prerank (Subramanian et al. 2005; gseapy {vers.get('gseapy', '')}, Fang et al."
        f" 2023; {pre.get('permutations', 1000)} gene permutations). "
        + f"Correlations were tested only in cohorts with at least {ac.get('min_samples', ASSOCIATE_MIN_SAMPLES)}"
        " samples (associate.min_samples) and Cox models fitted only with at least"
        f" {sv.get('min_samples', SURVIVAL_MIN_SAMPLES)} samples with a score and follow-up (survival.min_samples). "
        + "Association with outcome (each cohort's time-to-event endpoint) was tested with Cox proportional-hazards"
        " models (Cox 1972; Efron ties, Efron 1977) of each score scaled to its standard deviation (hazard ratio per"
        f" SD), univariate and adjusted for {', '.join(sv.get('covariates') or []) or 'no covariate'}, with Harrell's"
        " concordance (Harrell et al. 1982), the proportional-hazards test of Grambsch and Therneau (1994) and a"
        f" null of {sv.get('n_random', 1000)} matched random signatures (Venet et al. 2011); Kaplan-Meier curves"
        " (Kaplan and Meier 1958) and log-rank tests (Mantel 1966) used groups at cut-points fixed before the"
        f" analysis ({sv.get('cut_points', 'median')}). The site of first relapse was analysed with cause-specific"
        " Cox models and Aalen-Johansen cumulative incidence (Aalen and Johansen 1978). Cohorts were pooled"
        " (Fisher-z correlations, log hazard ratios; each cohort scored on its own) by random-effects meta-analysis"
        " (DerSimonian and Laird 1986; Paule and Mandel 1982) and fixed-effect meta-analysis, with tau² and I²"
        f" (Higgins and Thompson 2002). Software: Python {vers.get('python', '')}, numpy {vers.get('numpy', '')},"
        f" scipy {vers.get('scipy', '')}, pandas {vers.get('pandas', '')}, statsmodels {vers.get('statsmodels', '')}"
        f" (Seabold and Perktold 2010), rnanorm {vers.get('rnanorm', '')}, anndata {vers.get('anndata', '')}, scanpy"
        f" {vers.get('scanpy', '')}, gseapy {vers.get('gseapy', '')}, matplotlib {vers.get('matplotlib', '')}."
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
        _prepare(c, config, sigmeta, focal, primary)
        c["sentences"] = _cohort_sentences(c, primary, main, focal)
    mdir = Path(meta_dir) if meta_dir else None
    mc = _read(mdir / "correlations.tsv") if mdir else None
    ms = _read(mdir / "survival.tsv") if mdir else None
    pooled_ok = len(data) >= 2
    meta = _meta_section(fw, data, mc, ms, primary, focal)
    heat, heat_why = _heatmap(fw, data, mc, primary, main, pooled_ok)
    corr_rows, surv_rows, corr_left_out, surv_left_out = _summary_rows(
        data, mc if pooled_ok else None, ms if pooled_ok else None, focal
    )
    warnings = _warnings(data, sigmeta, signatures, primary, focal, [meta["why"], meta.get("surv_why", "")])
    sections = []
    for c in data:
        log.info("report: cohort %s", c["name"])
        sec = {
            "name": c["name"],
            "answers": c["sentences"],
            "n_samples": len(next(iter(c["scores"].values()))) if c["scores"] else 0,
            "methods": list(c["scores"]),
            "b_corr": c["b_corr"],
            "b_surv": c["b_surv"],
        }
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
        heatmap_why=heat_why,
        n_random={
            k: ", ".join(f"{b:,}" for b in sorted({c[key] for c in data if c[key]}))
            for k, key in (("correlations", "b_corr"), ("survival", "b_surv"))
        },
        warnings=warnings,
        corr_rows=corr_rows,
        corr_left_out=corr_left_out,
        surv_left_out=surv_left_out,
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
