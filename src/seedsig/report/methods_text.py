"""The report's methods paragraph and references."""

from __future__ import annotations

import json
from typing import Sequence

from seedsig.report.load import _adata
from seedsig.report.text import ASSOCIATE_MIN_SAMPLES, SURVIVAL_MIN_SAMPLES
from seedsig.scoring.methods import SCORING_METHODS
from seedsig.scoring.reference import needs_reference
from seedsig.scoring.signatures import Signature

REFERENCES = {
    "kim2009": (
        "Kim MY, Oskarsson T, Acharyya S, et al. Tumor self-seeding by circulating cancer cells. Cell "
        "2009;139:1315-1326."
    ),
    "barbie2009": (
        "Barbie DA, Tamayo P, Boehm JS, et al. Systematic RNA interference reveals that oncogenic KRAS-driven cancers "
        "require TBK1. Nature 2009;462:108-112. (ssGSEA)"
    ),
    "hanzelmann2013": (
        "Hänzelmann S, Castelo R, Guinney J. GSVA: gene set variation analysis for microarray and RNA-seq data. BMC "
        "Bioinformatics 2013;14:7."
    ),
    "lee2008": (
        "Lee E, Chuang HY, Kim JW, Ideker T, Lee D. Inferring pathway activity toward precise disease classification. "
        "PLoS Comput Biol 2008;4:e1000217. (combined z-score)"
    ),
    "tomfohr2005": (
        "Tomfohr J, Lu J, Kepler TB. Pathway level analysis of gene expression using singular value decomposition. BMC "
        "Bioinformatics 2005;6:225. (PLAGE)"
    ),
    "foroutan2018": (
        "Foroutan M, Bhuva DD, Lyu R, et al. Single sample scoring of molecular phenotypes. BMC Bioinformatics "
        "2018;19:404. (singscore)"
    ),
    "wolf2018": (
        "Wolf FA, Angerer P, Theis FJ. SCANPY: large-scale single-cell gene expression data analysis. Genome Biol "
        "2018;19:15. (score_genes)"
    ),
    "andreatta2021": (
        "Andreatta M, Carmona SJ. UCell: robust and scalable single-cell gene signature scoring. Comput Struct "
        "Biotechnol J 2021;19:3796-3798. (UCell)"
    ),
    "aibar2017": (
        "Aibar S, González-Blas CB, Moerman T, et al. SCENIC: single-cell regulatory network inference and clustering. "
        "Nat Methods 2017;14:1083-1086. (AUCell)"
    ),
    "badia2022": (
        "Badia-i-Mompel P, Vélez Santiago J, Braunger J, et al. decoupleR: ensemble of computational methods to infer "
        "biological activities from omics data. Bioinform Adv 2022;2:vbac016. (decoupler)"
    ),
    "robinson2010": (
        "Robinson MD, Oshlack A. A scaling normalization method for differential expression analysis of RNA-seq data. "
        "Genome Biol 2010;11:R25. (TMM)"
    ),
    "robinson2010edger": (
        "Robinson MD, McCarthy DJ, Smyth GK. edgeR: a Bioconductor package for differential expression analysis of "
        "digital gene expression data. Bioinformatics 2010;26:139-140."
    ),
    "chen2016": (
        "Chen Y, Lun ATL, Smyth GK. From reads to genes to pathways: differential expression analysis of RNA-Seq "
        "experiments using Rsubread and the edgeR quasi-likelihood pipeline. F1000Research 2016;5:1438. (filterByExpr)"
    ),
    "love2014": (
        "Love MI, Huber W, Anders S. Moderated estimation of fold change and dispersion for RNA-seq data with DESeq2. "
        "Genome Biol 2014;15:550."
    ),
    "bolstad2003": (
        "Bolstad BM, Irizarry RA, Astrand M, Speed TP. A comparison of normalization methods for high density "
        "oligonucleotide array data based on variance and bias. Bioinformatics 2003;19:185-193. (quantile "
        "normalization)"
    ),
    "ritchie2015": (
        "Ritchie ME, Phipson B, Wu D, et al. limma powers differential expression analyses for RNA-sequencing and "
        "microarray studies. Nucleic Acids Res 2015;43:e47."
    ),
    "venet2011": (
        "Venet D, Dumont JE, Detours V. Most random gene expression signatures are significantly associated with "
        "breast cancer outcome. PLoS Comput Biol 2011;7:e1002240. (random-signature null, meta-PCNA)"
    ),
    "bh1995": (
        "Benjamini Y, Hochberg Y. Controlling the false discovery rate: a practical and powerful approach to multiple "
        "testing. J R Stat Soc B 1995;57:289-300."
    ),
    "subramanian2005": (
        "Subramanian A, Tamayo P, Mootha VK, et al. Gene set enrichment analysis. Proc Natl Acad Sci USA "
        "2005;102:15545-15550. (GSEA)"
    ),
    "fang2023": (
        "Fang Z, Liu X, Peltz G. GSEApy: a comprehensive package for performing gene set enrichment analysis in "
        "Python. Bioinformatics 2023;39:btac757."
    ),
    "cox1972": "Cox DR. Regression models and life-tables. J R Stat Soc B 1972;34:187-220.",
    "efron1977": (
        "Efron B. The efficiency of Cox's likelihood function for censored data. J Am Stat Assoc 1977;72:557-565. "
        "(Efron ties)"
    ),
    "grambsch1994": (
        "Grambsch PM, Therneau TM. Proportional hazards tests and diagnostics based on weighted residuals. Biometrika "
        "1994;81:515-526. (cox.zph)"
    ),
    "harrell1982": (
        "Harrell FE, Califf RM, Pryor DB, Lee KL, Rosati RA. Evaluating the yield of medical tests. JAMA "
        "1982;247:2543-2546. (concordance)"
    ),
    "kaplan1958": (
        "Kaplan EL, Meier P. Nonparametric estimation from incomplete observations. J Am Stat Assoc 1958;53:457-481."
    ),
    "mantel1966": (
        "Mantel N. Evaluation of survival data and two new rank order statistics arising in its consideration. Cancer "
        "Chemother Rep 1966;50:163-170. (log-rank test)"
    ),
    "aalen1978": (
        "Aalen OO, Johansen S. An empirical transition matrix for non-homogeneous Markov chains based on censored "
        "observations. Scand J Stat 1978;5:141-150."
    ),
    "dersimonian1986": "DerSimonian R, Laird N. Meta-analysis in clinical trials. Control Clin Trials 1986;7:177-188.",
    "paule1982": "Paule RC, Mandel J. Consensus values and weighting factors. J Res Natl Bur Stand 1982;87:377-385.",
    "higgins2002": (
        "Higgins JPT, Thompson SG. Quantifying heterogeneity in a meta-analysis. Stat Med 2002;21:1539-1558. (I²)"
    ),
    "efron1993": "Efron B, Tibshirani RJ. An Introduction to the Bootstrap. Chapman & Hall 1993. (bootstrap CI)",
    "fisher1921": (
        "Fisher RA. On the probable error of a coefficient of correlation deduced from a small sample. Metron "
        "1921;1:3-32. (Fisher z)"
    ),
    "koster2012": (
        "Köster J, Rahmann S. Snakemake: a scalable bioinformatics workflow engine. Bioinformatics 2012;28:2520-2522."
    ),
    "seabold2010": (
        "Seabold S, Perktold J. statsmodels: econometric and statistical modeling with Python. Proc 9th Python in "
        "Science Conf 2010."
    ),
}
SCORING_REFS = {
    "ssgsea": ["barbie2009", "hanzelmann2013"],
    "gsva": ["hanzelmann2013"],
    "zscore": ["lee2008", "hanzelmann2013"],
    "plage": ["tomfohr2005", "hanzelmann2013"],
    "singscore": ["foroutan2018"],
    "score_genes": ["wolf2018"],
    "mean_z": [],
    "ucell": ["andreatta2021"],
    "aucell": ["aibar2017", "badia2022"],
}
SCORING_TEXT = {
    "ssgsea": "ssGSEA (Barbie et al. 2009, as in GSVA; Hänzelmann et al. 2013)",
    "gsva": "GSVA (Hänzelmann et al. 2013, as GSVA 1.46)",
    "zscore": "the combined z-score (Lee et al. 2008, as in GSVA)",
    "plage": "PLAGE (Tomfohr et al. 2005, as in GSVA, sign-oriented)",
    "singscore": "singscore (Foroutan et al. 2018)",
    "score_genes": "scanpy's score_genes (Wolf et al. 2018, seeded)",
    "mean_z": "the signed mean z-score",
    "ucell": "UCell (Andreatta and Carmona 2021; Mann-Whitney U of the within-sample ranks)",
    "aucell": "AUCell (Aibar et al. 2017, as decoupler; ties in gene-name order)",
}
# how a method scores signed signatures where it is not the up-gene score minus the down-gene score
SIGNED_TEXT = {"ucell": "UCell: max(0, U of the up genes - w_neg x U of the down genes), as UCell does"}


# the references every report cites after those of its normalization and scoring methods (statistics, software)
ANALYSIS_REFS = [
    "efron1993",
    "fisher1921",
    "bh1995",
    "venet2011",
    "subramanian2005",
    "fang2023",
    "cox1972",
    "efron1977",
    "harrell1982",
    "grambsch1994",
    "kaplan1958",
    "mantel1966",
    "aalen1978",
    "dersimonian1986",
    "paule1982",
    "higgins2002",
    "seabold2010",
    "koster2012",
]


def _normalization_text(c: dict, a) -> tuple[str, list[str]]:
    """'{cohort} ({data type}): {method} ...' of one cohort's normalization, and the references it cites."""
    refs: list[str] = []
    dt = str(a.uns.get("data_type", ""))
    n = a.uns.get("normalization", {})
    m = str(n.get("method", "")) if hasattr(n, "get") else ""
    flt = n.get("filter") if hasattr(n, "get") else None
    try:
        flt = json.loads(flt) if isinstance(flt, str) else (flt or {})
    except ValueError:
        flt = {}
    txt = f"{c['name']} ({dt}): {m or 'none'}"
    if flt.get("method") == "filter_by_expr":
        txt += (
            f" after removing {flt.get('n_removed')} low-expression genes as edgeR's filterByExpr"
            f" (min.count {flt.get('min_count')})"
        )
        refs += ["chen2016"]
    if "tmm" in m:
        txt += f", edgeR TMM normalization factors and log2 CPM (prior count {n.get('prior_count', 2)})"
        refs += ["robinson2010", "robinson2010edger"]
    if "deseq2" in m:
        refs += ["love2014"]
    if "quantile" in m:
        refs += ["bolstad2003", "ritchie2015"]
    return txt, refs


def _scoring_texts(methods: Sequence[str], sc: dict) -> tuple[list[str], list[str]]:
    """Each scoring method as the paragraph names it (with its parameters), and the references they cite."""
    refs: list[str] = []
    texts = []
    for m in methods:
        refs += SCORING_REFS.get(m, [])
        p = sc.get(m) or {}
        if m == "ucell":  # which implementation its flavor reproduces
            flavor = p.get("flavor", "r")
            p = {**p, "flavor": f"{flavor} ({'R UCell 2.0-2.6' if flavor == 'r' else 'pyucell 0.8'})"}
        texts.append(
            SCORING_TEXT.get(m, m) + (f" (parameters: {', '.join(f'{k} = {v}' for k, v in p.items())})" if p else "")
        )
    return texts, refs


def _data_sentences(
    cohorts: list[dict],
    config: dict,
    vers: dict,
    norm_parts: list[str],
    scoring_txt: list[str],
    methods: Sequence[str] = (),
) -> str:
    """The paragraph's opening: cohorts, pipeline, gene identifiers, normalization, scoring and its rule."""
    sc = config.get("scoring", {})
    return (
        f"Expression cohorts ({len(cohorts)}: {', '.join(c['name'] for c in cohorts)}) were processed with the seedsig"
        f" pipeline {vers.get('seedsig', '')} (Snakemake {vers.get('snakemake', '')}; Köster and Rahmann 2012). Gene"
        " identifiers were mapped offline to current HGNC symbols (approved, then previous, then alias symbols;"
        " ambiguous identifiers were left unmapped) and rows mapping to one gene were collapsed"
        f" ({(config.get('ingest') or {}).get('collapse', 'max_mean')}). "
        + (f"Normalization per cohort: {'; '.join(norm_parts)}. " if norm_parts else "")
        + "Signatures (the self-seeding signature SS of Kim et al. 2009, its sub-scores and the organ-specific"
        " metastasis signatures listed below with their sources) were scored per sample with"
        f" {', '.join(scoring_txt)}; signed signatures scored as the up-gene score minus the down-gene score"
        + "".join(f" ({SIGNED_TEXT[m]})" for m in methods if m in SIGNED_TEXT)
        + ", and a"
        f" signature was scored in a cohort only when at least {sc.get('min_genes', 2)} of its genes and"
        f" {round(100 * float(sc.get('min_fraction', 0.5)))}% of them were measured. "
    )


def _reference_sentence(config: dict, methods: Sequence[str]) -> str:
    """Which scores are reference-anchored (scoring.reference), or nothing when none is."""
    sc = config.get("scoring", {}) or {}
    ref = str(sc.get("reference") or "").strip()
    anchored = [m for m in methods if m in SCORING_METHODS and needs_reference(m, sc.get(m) or {})]
    if not ref or not anchored:
        return ""
    source = f"the saved reference {ref[len('file:') :]}" if ref.startswith("file:") else f"the cohort {ref}"
    return (
        f"Scores of the cohort-relative method(s) {', '.join(anchored)} were reference-anchored: their gene-wise"
        f" statistics (means and SDs, kernel CDFs, loadings, control genes or score range) were estimated once on"
        f" {source} and applied unchanged to every cohort (scoring.reference), so these scores share the reference's"
        " scale across cohorts; single-sample methods were unaffected. "
    )


def _association_sentences(config: dict, vers: dict) -> str:
    """Correlations, their CI, BH, the random-signature null, shared genes, partial correlation, prerank."""
    ac = config.get("associate", {}) or {}
    pre = ac.get("prerank", {}) or {}
    return (
        "Each self-seeding score was"
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
    )


def _outcome_sentences(config: dict) -> str:
    """The sample floors, Cox models, curves, the site of first relapse and the meta-analysis."""
    ac, sv = config.get("associate", {}) or {}, config.get("survival", {}) or {}
    return (
        f"Correlations were tested only in cohorts with at least {ac.get('min_samples', ASSOCIATE_MIN_SAMPLES)}"
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
        " (Higgins and Thompson 2002). "
    )


def _software_sentence(vers: dict) -> str:
    return (
        f"Software: Python {vers.get('python', '')}, numpy {vers.get('numpy', '')},"
        f" scipy {vers.get('scipy', '')}, pandas {vers.get('pandas', '')}, statsmodels {vers.get('statsmodels', '')}"
        f" (Seabold and Perktold 2010), rnanorm {vers.get('rnanorm', '')}, anndata {vers.get('anndata', '')}, scanpy"
        f" {vers.get('scanpy', '')}, gseapy {vers.get('gseapy', '')}, matplotlib {vers.get('matplotlib', '')}."
    )


def _methods(cohorts: list[dict], config: dict, signatures: Sequence[Signature], vers: dict) -> dict:
    """The paste-able methods paragraph and the references it cites (every method and every signature)."""
    methods = list(dict.fromkeys(m for c in cohorts for m in c["scores"])) or list(
        config.get("scoring", {}).get("methods", [])
    )
    refs = ["kim2009"]
    norm_parts = []
    for c in cohorts:
        a = _adata(c)
        if a is None:
            continue
        txt, cited = _normalization_text(c, a)
        norm_parts.append(txt)
        refs += cited
    scoring_txt, cited = _scoring_texts(methods, config.get("scoring", {}))
    refs += cited + ANALYSIS_REFS
    para = (
        _data_sentences(cohorts, config, vers, norm_parts, scoring_txt, methods)
        + _reference_sentence(config, methods)
        + _association_sentences(config, vers)
        + _outcome_sentences(config)
        + _software_sentence(vers)
    )
    sig_cites = list(dict.fromkeys(s.citation for s in signatures if s.citation))
    return {
        "paragraph": para,
        "references": [REFERENCES[k] for k in dict.fromkeys(refs)],
        "signature_citations": sig_cites,
    }
