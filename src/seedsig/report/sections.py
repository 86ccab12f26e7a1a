"""The report's per-cohort sections: Data and QC, Scores, Outcome (the pooled section: :mod:`.across_cohorts`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from seedsig.association.prerank import enrichment_plot, gene_ranking
from seedsig.core.layout import COHORT_FILES, figure_stem
from seedsig.core.plotting import resize
from seedsig.outcome.curve_plots import plot_cif, plot_km
from seedsig.report.figures import (
    contribution_share_figure,
    expression_density_figure,
    library_size_figure,
    scatter_null_figure,
    score_distribution_figure,
)
from seedsig.report.load import _adata, _expr, _fig, saved_null
from seedsig.report.sentences import (
    _hr_reason,
    _survival_why,
)
from seedsig.report.text import (
    _finite,
    _params,
    _text,
    _true,
    fmt_hr,
    fmt_p,
    fmt_p_null,
    fmt_r,
    gene_list,
    p_null_phrase,
)
from seedsig.scoring.contributions import group_shares, sub_signature_groups
from seedsig.scoring.signatures import Signature


def _qc_section(fw, c: dict, sigmeta: dict[str, Signature]) -> dict:
    """Data and QC of one cohort: library sizes and expression distributions, gene mapping, coverage."""
    name = c["name"]
    sec: dict = {"figures": [], "mapping_counts": [], "coverage": [], "why": []}
    a = _adata(c)
    if a is not None:
        _expression_figures(fw, c, a, sec)
    else:
        sec["why"].append(f"No expression plots for cohort {name}: results/{name}/expression.h5ad is not available.")
        fw.not_drawn(sec["why"][-1], ("library_size", "expression_density"), name)
    mapping = c["mapping"]
    if mapping is not None and len(mapping):
        sec.update(_mapping_summary(mapping))
    qc = c["qc"] if c["qc"] is not None else c["coverage"]
    if qc is not None:
        sec["coverage"] = [_coverage_row(r) for r in qc.to_dict("records")]
    return sec


def _expression_figures(fw, c: dict, a, sec: dict) -> None:
    """The library sizes (count data) and the expression distribution per sample of the cohort's matrix."""
    name = c["name"]
    data_type = str(a.uns.get("data_type", ""))
    norm = a.uns.get("normalization", {})
    method = str(norm.get("method", "")) if hasattr(norm, "get") else ""
    sec.update(n_samples=int(a.n_obs), n_genes_matrix=int(a.n_vars), data_type=data_type, norm_method=method)
    if "library_size" in a.obs.columns and data_type == "counts":
        ls = a.obs["library_size"].astype(float)
        w = fw(
            figure_stem("library_size", name),
            lambda: library_size_figure(ls, name),
            f"{name}: library sizes",
            "Library size of each sample (sum of the raw counts over all input genes), in million reads; dashed:"
            f" median. {int(ls.notna().sum())} samples.",
        )
        sec["figures"].append(_fig(w))
    elif data_type == "counts":
        sec["why"].append(f"No library-size plot for cohort {name}: obs['library_size'] is not in its expression.h5ad.")
        fw.not_drawn(sec["why"][-1], "library_size", name)
    else:
        fw.not_drawn(
            f"the data type of cohort {name} is {data_type or 'not recorded'}, not counts", "library_size", name
        )
    unit = {
        "counts": "Normalized expression (log2 CPM)"
        if "cpm" in method.lower()
        else f"Normalized expression (log2, {method or 'as normalized'})",
        "intensity": "Expression (log2 intensity, normalized)",
        "tpm": "Expression (log2(TPM + 1))",
    }.get(data_type, "Expression (log2, as given)")
    X = np.asarray(a.X, dtype=float)
    w = fw(
        figure_stem("expression_density", name),
        lambda: expression_density_figure(X, name, unit),
        f"{name}: expression distribution per sample",
        f"Density of the normalized expression of each sample over the {a.n_vars} genes of the matrix"
        f" ({method or data_type}); one line per sample.",
    )
    sec["figures"].append(_fig(w))


def _mapping_summary(mapping: pd.DataFrame) -> dict:
    """Gene mapping of the cohort: ids per status, the renamed and ambiguous ids (first 30), genes kept."""
    out: dict = {"mapping_counts": [{"status": k, "n": int(v)} for k, v in mapping["status"].value_counts().items()]}
    renamed = mapping[mapping["status"].isin(["previous", "alias", "case"])]
    out["renamed"] = ", ".join(
        f"{x} → {y}" for x, y in zip(renamed["input_id"].head(30), renamed["symbol"].head(30))
    ) + (f" (and {len(renamed) - 30} more)" if len(renamed) > 30 else "")
    amb = mapping[mapping["status"] == "ambiguous"]["input_id"].astype(str).tolist()
    out["ambiguous"] = ", ".join(amb[:30]) + (f" (and {len(amb) - 30} more)" if len(amb) > 30 else "")
    out["n_input_ids"] = len(mapping)
    out["n_genes"] = int(mapping["kept"].astype(str).str.lower().eq("true").sum()) if "kept" in mapping.columns else ""
    return out


def _coverage_row(r: dict) -> dict:
    """One signature's row of the coverage and coherence table."""
    return {
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


def _scores_section(
    fw, c: dict, sigmeta: dict[str, Signature], focal: Sequence[str], primary: str, config: dict
) -> dict:
    """Scores of one cohort: the score distributions, the main focal signature against each target with its
    random-signature null, and the prerank enrichment of the targets (table and running-score plots)."""
    main = focal[0] if focal else "SS"
    sec: dict = {"dist": [], "contrib": [], "scatter": [], "prerank_figs": [], "prerank": [], "why": []}
    _distribution_figures(fw, c, focal, sec)
    _contribution_figure(fw, c, sigmeta, main, primary, sec)
    if _scatter_figures(fw, c, main, primary, config, sec):
        _prerank_part(fw, c, sigmeta, main, primary, sec)
    return sec


def _distribution_figures(fw, c: dict, focal: Sequence[str], sec: dict) -> None:
    """One box plot of the scores per scoring method."""
    name = c["name"]
    for m, t in c["scores"].items():
        if t.notna().any().any():
            w = fw(
                figure_stem("score_distribution", name, m),
                lambda t=t, m=m: score_distribution_figure(t, m, name, focal),
                f"{name}: {m} scores per signature",
                f"{m} score of every sample per signature (box: quartiles, whiskers: 1.5 IQR, points: samples);"
                " focal signatures in blue. Signatures not scored in this cohort are left out.",
            )
            sec["dist"].append(_fig(w))
        else:
            sec["why"].append(f"No {m} score distribution for cohort {name}: no signature was scored.")
            fw.not_drawn(sec["why"][-1], "score_distribution", name, m)


def _contribution_figure(fw, c: dict, sigmeta: dict[str, Signature], main: str, primary: str, sec: dict) -> None:
    """The share of the main focal score carried by each of its sub-signatures' genes (e.g. SS: attraction =
    IL6, CXCL8 vs infiltration = FSCN1, MMP1, as the signature files define SS_attraction and SS_infiltration)."""
    name = c["name"]
    path = c["dir"] / COHORT_FILES["contributions"].replace("{method}", primary)
    groups = sub_signature_groups(sigmeta[main], list(sigmeta.values())) if main in sigmeta else {}
    table = pd.read_csv(path, sep="\t", keep_default_na=False, na_values=["NA"]) if path.is_file() else None
    why = ""
    if len(groups) < 2:
        why = f"no two signatures of the signature files are parts of {main} (its gene groups)"
    elif table is None:
        why = f"results/{name}/contributions/{primary}.tsv was not read"
    elif not (table["signature"].astype(str) == main).any():
        why = f"contributions/{primary}.tsv has no rows of {main} (not scored, or not in contributions.signatures)"
    shares = None if why else group_shares(table, main, groups)
    if shares is not None and shares.dropna().empty:
        why = f"every contribution to {main} is 0"
    if why:
        sec["why"].append(f"No gene-group shares of {main} for cohort {name}: {why}.")
        fw.not_drawn(sec["why"][-1], "contribution_share", name, primary, main)
        return
    w = fw(
        figure_stem("contribution_share", name, primary, main),
        lambda: contribution_share_figure(shares, groups, main, primary, name),
        f"{name}: which genes carry {main} ({primary})",
        f"Per sample, the share of the {primary} score of {main} carried by each gene group: the sum of the group's "
        "absolute per-gene contributions over the sum for all its genes (results/{cohort}/contributions/; "
        "leave-one-gene-out changes for ssgsea and gsva, exact terms for the additive methods). Samples sorted by "
        "the first group's share; the groups are the signatures whose genes are part of "
        f"{main} ({', '.join(groups)}).".replace("{cohort}", name),
    )
    sec["contrib"].append(_fig(w))


def _scatter_statistic(sel: pd.DataFrame) -> str:
    """The statistic of the scatter plots: Spearman when the table has it, else its first statistic."""
    if "statistic" not in sel.columns or (sel["statistic"] == "spearman").any():
        return "spearman"
    return str(sel["statistic"].iloc[0])


@dataclass
class _NullSource:
    """The random-signature null of each scatter plot: the draws the associate step saved
    (null_correlations.tsv.gz, a declared input of the report); the report never recomputes them."""

    c: dict
    main: str
    primary: str
    statistic: str
    n_random: int
    saved: pd.DataFrame | None = None

    def for_row(self, r: dict) -> tuple[np.ndarray, float]:
        """(the null correlations of one row of correlations.tsv, its p_random_null)."""
        null_r = np.array([])
        if self.saved is not None:
            null_r = saved_null(self.saved, self.primary, self.main, r["signature_b"], self.statistic)
        return null_r, r.get("p_random_null", np.nan)


def _null_source(c: dict, main: str, primary: str, stat: str, config: dict) -> _NullSource:
    """The :class:`_NullSource` of a cohort's scatter plots (B from correlations.json)."""
    params = _params(c["corr_side"])
    n_random = int(params.get("n_random", config.get("associate", {}).get("n_random", 0)) or 0)
    saved = c.get("null") if n_random > 0 else None  # null_correlations.tsv.gz of the associate step
    return _NullSource(c, main, primary, stat, n_random, saved=saved)


def _scatter_figures(fw, c: dict, main: str, primary: str, config: dict, sec: dict) -> bool:
    """The scatter plot (with its null histogram) of the main focal signature against each target. Returns
    False when the cohort has none at all (no scores, main not scored, too few samples: no prerank
    part either), else True."""
    name = c["name"]
    corr, scores = c["corr"], c["scores"].get(primary)
    if corr is None or scores is None or not len(corr):
        sec["why"].append(f"No scatter plots for cohort {name}: no {primary} scores or correlations.")
        fw.not_drawn(sec["why"][-1], ("scatter_null", "prerank"), name)
        return False
    sel = corr[(corr["method"] == primary) & (corr["signature_a"] == main)]
    stat = _scatter_statistic(sel)
    if "statistic" in sel.columns:
        sel = sel[sel["statistic"] == stat]
    if main not in scores.columns or not scores[main].notna().any():
        sec["why"].append(f"No scatter plots for cohort {name}: {main} is not scored in this cohort ({primary}).")
        fw.not_drawn(sec["why"][-1], ("scatter_null", "prerank"), name)
        return False
    if bool(len(sel)) and bool(sel["_thin"].all()):
        sec["why"].append(f"No scatter plots or enrichment plots for cohort {name}: {sel['_why'].iloc[0]}.")
        fw.not_drawn(sec["why"][-1], ("scatter_null", "prerank"), name)
        return False
    src = _null_source(c, main, primary, stat, config)
    if src.saved is None:
        sec["why"].append(
            f"No random-signature null histograms for cohort {name}: "
            + (
                "the random null is switched off (associate.n_random: 0)."
                if src.n_random <= 0
                else "the associate step saved no random-signature null (null_correlations.tsv.gz)."
            )
        )
    for r in sel.to_dict("records"):
        t = r["signature_b"]
        if t not in scores.columns or not scores[t].notna().any():
            sec["why"].append(
                f"No scatter plot of {main} vs {t} in cohort {name}: {t} is not scored in this cohort"
                " (see Data and QC)."
            )
            fw.not_drawn(sec["why"][-1], "scatter_null", name, primary, main, t)
            continue
        if r["_thin"] or not _finite(r.get("r")):
            sec["why"].append(
                f"No scatter plot of {main} vs {t} in cohort {name}: {r['_why'] or 'no correlation computed'}."
            )
            fw.not_drawn(sec["why"][-1], "scatter_null", name, primary, main, t)
            continue
        null_r, p = src.for_row(r)
        sec["scatter"].append(_fig(_scatter_figure(fw, name, scores, main, r, null_r, p, src)))
    return True


def _scatter_figure(fw, name: str, scores: pd.DataFrame, main: str, r: dict, null_r, p, src: _NullSource):
    """One scatter plot of ``main`` against the row's target, with the null histogram below."""
    t, primary, stat = r["signature_b"], src.primary, src.statistic
    x, y = scores[main].rename(main), scores[t].rename(t)
    b = len(null_r) or src.n_random
    w = fw(
        figure_stem("scatter_null", name, primary, main, t),
        lambda: scatter_null_figure(
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
    return w


def _prerank_part(fw, c: dict, sigmeta: dict[str, Signature], main: str, primary: str, sec: dict) -> None:
    """The prerank table of the main focal signature and a running-enrichment plot per tested set."""
    name = c["name"]
    pre = c["prerank"]
    if pre is None or not len(pre):
        sec["why"].append(
            f"No prerank enrichment for cohort {name}: "
            + (_text(c["pre_side"].get("note")) or "prerank.tsv is empty")
            + "."
        )
        fw.not_drawn(sec["why"][-1], "prerank", name)
        return
    p_sel = pre[(pre["method"] == primary) & (pre["focal"] == main)].sort_values(
        "nes", ascending=False, na_position="last"
    )
    sec["prerank"] = [
        {
            **r,
            "nes_s": fmt_r(r.get("nes")),
            "fdr_s": fmt_p(r.get("fdr")),
            "p_s": fmt_p(r.get("p")),
            "note": _text(r.get("note")),
            "leading_edge": _text(r.get("leading_edge")).replace(";", ", "),
        }
        for r in p_sel.to_dict("records")
    ]
    expr = _expr(c)
    if expr is None:
        sec["why"].append(f"No enrichment plots for cohort {name}: the expression matrix is not available.")
        fw.not_drawn(sec["why"][-1], "prerank", name)
        return
    scores = c["scores"][primary]
    scored = expr.columns.isin(scores.index)
    expr = expr if scored.all() else expr.loc[:, scored]  # the scored samples (no copy when all are)
    statistic = str(_params(c["pre_side"]).get("statistic", "spearman"))
    rankings: dict[str, pd.Series] = {}
    for r in p_sel.to_dict("records"):
        sig = sigmeta.get(r["signature"])
        if sig is None or not _finite(r.get("es")):
            why = _text(r.get("note")) or ("not a signature of this run" if sig is None else "no enrichment score")
            fw.not_drawn(why, "prerank", name, primary, main, r["signature"], r["direction"])
            continue
        genes = sig.down if r.get("direction") == "down" else (sig.up or list(sig.genes))
        removed = _text(r.get("genes_removed"))
        if removed not in rankings:
            rankings[removed] = gene_ranking(
                expr,
                scores[main],
                statistic=statistic,
                exclude=[g for g in removed.split(";") if g],
            )
        try:
            w = _enrichment_figure(fw, name, main, primary, r, genes, rankings[removed], statistic)
            sec["prerank_figs"].append(_fig(w))
        except Exception as exc:  # noqa: BLE001
            sec["why"].append(f"No enrichment plot of {r['signature']} ({r['direction']}) in cohort {name}: {exc}")
            fw.not_drawn(sec["why"][-1], "prerank", name, primary, main, r["signature"], r["direction"])


def _enrichment_figure(fw, name: str, main: str, primary: str, r: dict, genes, ranking: pd.Series, statistic: str):
    """gseapy's running enrichment score of one prerank set, at the report's column width."""
    sig, direction = r["signature"], r["direction"]
    return fw(
        figure_stem("prerank", name, primary, main, sig, direction),
        lambda: resize(
            enrichment_plot(ranking, genes, f"{sig} ({direction}) on genes ranked by r with {main}"),
            height=3.2,
        ),
        f"{name}: enrichment of {sig} ({direction})",
        f"gseapy prerank: running enrichment score of {sig} {direction} genes on all genes ranked by their"
        f" {statistic} correlation with {main} ({primary}); NES = {fmt_r(r.get('nes'))},"
        f" FDR = {fmt_p(r.get('fdr'))}.",
    )


def _no_curves_why(c: dict, main: str, primary: str, what: str) -> str:
    """Why a cohort has no Kaplan-Meier curves / cumulative incidence of its main focal signature."""
    reason = _hr_reason(c, main, primary)
    if reason:
        return f"No {what} for cohort {c['name']}: {reason}."
    return ""


def _outcome_section(fw, c: dict, focal: Sequence[str], primary: str) -> dict:
    """Outcome of one cohort: the hazard ratios of the focal signatures, the log-rank tests, Kaplan-Meier curves
    and cumulative incidence by site of relapse (primary method), or why not."""
    name = c["name"]
    main = focal[0] if focal else "SS"
    sec: dict = {"figures": [], "logrank": [], "hr": [], "why": []}
    for f in focal:  # the curves of a focal signature not scored: its own sentence says why
        if c["status"].get(f, {"scored": True})["scored"] is False:
            fw.not_drawn(c["status"][f]["sentence"], ("km", "cif"), name, primary, f)
    why = _survival_why(c, focal, primary)
    if why:
        sec["why"].append(why)
        fw.not_drawn(why, ("km", "cif"), name)
        return sec
    main_why = _hr_reason(c, main, primary)
    if main_why:
        sec["why"].append(f"No hazard ratio for {main} in cohort {name}: {main_why}.")
    surv = c["surv"]
    sec["hr"] = _hr_rows(c, surv[(surv["method"] == primary) & surv["signature"].isin(list(focal))])
    km, lr, aj = c["km"], c["lr"], c["aj"]
    if lr is not None and len(lr):
        for r in lr[(lr["method"] == primary) & lr["signature"].isin(list(focal))].to_dict("records"):
            sec["logrank"].append(
                {**r, "p_s": fmt_p(r.get("p")), "chisq_s": fmt_r(r.get("chisq")), "note": _text(r.get("note"))}
            )
    for f in focal:
        if c["status"].get(f, {"scored": True})["scored"] is False:
            continue
        if km is not None and len(km):
            sec["figures"] += _km_figures(fw, c, f, primary)
        if aj is not None and len(aj):
            sec["figures"] += _cif_figures(fw, c, f, primary)
    if aj is None or not len(aj):
        sec["why"].append(_no_incidence_why(c, main, primary))
        fw.not_drawn(sec["why"][-1], "cif", name)
    if km is None or not len(km):
        sec["why"].append(
            _no_curves_why(c, main, primary, "Kaplan-Meier curves")
            or f"No Kaplan-Meier curves for cohort {name}: km.tsv is empty."
        )
        fw.not_drawn(sec["why"][-1], "km", name)
    return sec


def _hr_rows(c: dict, s: pd.DataFrame) -> list[dict]:
    """The rows of the cohort's hazard-ratio table (focal signatures, primary method)."""
    return [
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


def _km_figures(fw, c: dict, f: str, primary: str) -> list[dict]:
    """Kaplan-Meier curves of the groups of ``f`` on each endpoint of km.tsv, with the log-rank p."""
    name, km, lr = c["name"], c["km"], c["lr"]
    out = []
    k = km[(km["method"] == primary) & (km["signature"] == f)]
    for endpoint in k["endpoint"].drop_duplicates():
        sub = k[k["endpoint"] == endpoint]
        cut = str(sub["cut"].iloc[0])
        lrp = (
            lr[(lr["method"] == primary) & (lr["signature"] == f) & (lr["endpoint"] == endpoint)]["p"]
            if lr is not None and len(lr)
            else pd.Series(dtype=float)
        )
        p = float(lrp.iloc[0]) if len(lrp) and _finite(lrp.iloc[0]) else None
        w = fw(
            figure_stem("km", name, primary, f, endpoint),
            lambda sub=sub, endpoint=endpoint, cut=cut, p=p: plot_km(
                sub, f"{name}: {f} ({primary}) groups at the {cut} cut, {endpoint}", logrank_p=p
            ),
            f"{name}: Kaplan-Meier, {f} groups, {endpoint}",
            f"Kaplan-Meier estimate of {endpoint} in groups of the {f} score ({primary}) at the pre-set cut-points"
            f" ({cut}; set in the config before the analysis, never searched), numbers at risk below; ticks:"
            f" censored samples; log-rank p = {fmt_p(p)}.",
        )
        out.append(_fig(w))
    return out


def _cif_figures(fw, c: dict, f: str, primary: str) -> list[dict]:
    """Cumulative incidence of first relapse by site in the groups of ``f``, per endpoint of the table."""
    name, aj = c["name"], c["aj"]
    out = []
    a = aj[(aj["method"] == primary) & (aj["signature"] == f)]
    for endpoint in a["endpoint"].drop_duplicates():
        sub = a[a["endpoint"] == endpoint]
        w = fw(
            figure_stem("cif", name, primary, f, endpoint),
            lambda sub=sub: plot_cif(sub, f"{name}: site of first relapse by {f} group ({primary})"),
            f"{name}: cumulative incidence of relapse by site, {f} groups",
            f"Aalen-Johansen cumulative incidence of first relapse at each site (competing with the other sites),"
            f" per {f} group ({primary}, {endpoint}).",
        )
        out.append(_fig(w))
    return out


def _no_incidence_why(c: dict, main: str, primary: str) -> str:
    """Why a cohort has no cumulative incidence by site: no site column set or found, or its own reason."""
    name = c["name"]
    col = (_params(c["surv_side"]).get("relapse_site") or {}).get("column", "relapse_site")
    note = _text(c["surv_side"].get("note"))
    if not col:
        return (
            f"No cumulative incidence by site for cohort {name}: no site-of-relapse column is set"
            " (survival.relapse_site.column is empty)."
        )
    if f"relapse-site column '{col}' is not in" in note or not c["surv_side"]:
        return (
            f"No cumulative incidence by site for cohort {name}: no site-of-relapse column (survival.relapse_site)"
            " in its clinical data."
        )
    return (
        _no_curves_why(c, main, primary, "cumulative incidence by site")
        or f"No cumulative incidence by site for cohort {name}: cumulative_incidence.tsv is empty."
    )
