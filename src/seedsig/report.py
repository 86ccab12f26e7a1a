"""The run's report: one standalone HTML file (figures embedded as PNG, no external URL).

It answers first, per cohort: does the self-seeding signature (SS) track the organ-specific metastasis
signatures, and does it predict relapse? Then it shows the evidence (coverage, gene mapping, score
distributions, scatter plots, full tables) and the methods with versions and citations.
"""

from __future__ import annotations

import base64
import io
import json
import math
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from .io import atomic_path, versions
from .signatures import Signature

# Okabe-Ito colour-blind-safe palette
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
FEW_EVENTS = 20


def fmt_r(x) -> str:
    return "NA" if x is None or not np.isfinite(x) else f"{x:.2f}"


def fmt_p(x) -> str:
    if x is None or not np.isfinite(x):
        return "NA"
    if x == 0:
        return "<1e-300"
    return f"{x:.1e}" if x < 0.001 else f"{x:.2g}"


def fmt_hr(row) -> str:
    if not np.isfinite(row["hr_per_sd"]):
        return "NA"
    return f"{row['hr_per_sd']:.2f} ({row['ci_low']:.2f}-{row['ci_high']:.2f})"


def fmt_ci(lo, hi) -> str:
    if lo is None or hi is None or not (np.isfinite(lo) and np.isfinite(hi)):
        return "NA"
    return f"{lo:.2f} to {hi:.2f}"


def _read(path: Path) -> pd.DataFrame | None:
    return pd.read_csv(path, sep="\t") if path.is_file() else None


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _distribution_figure(scores: pd.DataFrame, method: str, cohort: str) -> str:
    """Box and points per scored signature; '' when no signature was scored in this cohort."""
    import matplotlib.pyplot as plt

    cols = [c for c in scores.columns if scores[c].notna().any()]
    if not cols:
        return ""
    fig, ax = plt.subplots(figsize=(max(6, 0.55 * len(cols) + 2), 3.6))
    data = [scores[c].dropna().to_numpy() for c in cols]
    bp = ax.boxplot(data, patch_artist=True, widths=0.6, showfliers=False)
    for i, patch in enumerate(bp["boxes"]):
        patch.set_facecolor(PALETTE[0] if cols[i].startswith("SS") else "#BBBBBB")
    rng = np.random.default_rng(0)
    for i, d in enumerate(data, start=1):
        ax.scatter(i + rng.uniform(-0.18, 0.18, d.size), d, s=3, color="#333333", alpha=0.35, linewidths=0)
    ax.set_xticks(range(1, len(cols) + 1), cols, rotation=60, ha="right", fontsize=8)
    ax.set_ylabel(f"{method} score")
    ax.set_title(f"{cohort}: {method} scores per signature (n = {len(scores)} samples)", fontsize=10)
    return _png(fig)


def _scatter_figure(scores: pd.DataFrame, corr: pd.DataFrame, method: str, focal: str, targets: list[str], cohort: str) -> str:
    import matplotlib.pyplot as plt

    targets = [t for t in targets if t in scores.columns and scores[t].notna().any()]
    if focal not in scores.columns or not scores[focal].notna().any() or not targets:
        return ""
    ncol = min(4, len(targets))
    nrow = math.ceil(len(targets) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.0 * ncol, 2.7 * nrow), squeeze=False)
    c = corr[(corr.method == method) & (corr.signature_a == focal)]
    if "statistic" in c.columns:
        c = c[c["statistic"] == "spearman"]
    c = c.set_index("signature_b")
    for ax, t in zip(axes.flat, targets):
        ax.scatter(scores[focal], scores[t], s=8, color=PALETTE[0], alpha=0.6, linewidths=0)
        r, q = (c.loc[t, "r"], c.loc[t, "q"]) if t in c.index else (np.nan, np.nan)
        ax.set_title(f"{t}\nr = {fmt_r(r)}, q = {fmt_p(q)}", fontsize=8)
        ax.set_xlabel(f"{focal} ({method})", fontsize=8)
        ax.set_ylabel(f"{t}", fontsize=7)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(targets) :]:
        ax.axis("off")
    fig.suptitle(f"{cohort}: {focal} vs organ signatures ({method})", fontsize=10)
    fig.tight_layout()
    return _png(fig)


def _outcome_figures(d: Path, method: str, focal: str, cohort: str) -> tuple[list[tuple[str, str]], list[dict]]:
    """Kaplan-Meier curves (with numbers at risk) and cumulative incidence by site for the focal score."""
    from .curves import plot_cif, plot_km

    figs, tests = [], []
    km, lr, aj = _read(d / "km.tsv"), _read(d / "logrank.tsv"), _read(d / "cumulative_incidence.tsv")
    if lr is not None and len(lr):
        for r in lr[(lr["method"] == method) & (lr["signature"] == focal)].to_dict("records"):
            tests.append({**r, "p": fmt_p(r.get("p", np.nan)), "chisq": fmt_r(r.get("chisq", np.nan))})
    if km is not None and len(km):
        k = km[(km["method"] == method) & (km["signature"] == focal)]
        for endpoint in k["endpoint"].drop_duplicates():
            sub = k[k["endpoint"] == endpoint]
            p = next((t["p"] for t in tests if t["endpoint"] == endpoint), "NA")
            fig = plot_km(sub, f"{cohort}: {focal} ({method}) groups at the {sub['cut'].iloc[0]}, {endpoint}\nlog-rank p = {p}")
            figs.append((f"Kaplan-Meier: {focal} groups, {endpoint}", _png(fig)))
    if aj is not None and len(aj):
        a = aj[(aj["method"] == method) & (aj["signature"] == focal)]
        if len(a):
            fig = plot_cif(a, f"{cohort}: site of first relapse by {focal} group ({method})")
            figs.append((f"Cumulative incidence of relapse by site, {focal} groups", _png(fig)))
    return figs, tests


def _meta_section(meta_dir: Path | None, cohorts: dict[str, Path], primary: str, focal: str) -> dict:
    """Pooled estimates (random effects, DerSimonian-Laird) and forest plots; says why when absent."""
    from .meta import forest_figure

    sec: dict = {"rows": [], "surv_rows": [], "figures": [], "why": ""}
    if len(cohorts) < 2:
        sec["why"] = "Only one cohort in this run: there is nothing to pool across cohorts."
        return sec
    mc = _read(meta_dir / "correlations.tsv") if meta_dir else None
    ms = _read(meta_dir / "survival.tsv") if meta_dir else None
    if mc is None or not len(mc):
        sec["why"] = "No pooled estimates were written (see results/meta/)."
        return sec
    pooled = mc[(mc["method"] == primary) & (mc["signature_a"] == focal) & (mc["statistic"] == "spearman")]
    sec["rows"] = [{**r, "est": fmt_r(r["estimate"]), "ci": fmt_ci(r["ci_low"], r["ci_high"]), "p": fmt_p(r["p"]), "i2": "NA" if not np.isfinite(r["i2"]) else f"{r['i2']:.0f}%", "tau2": "NA" if not np.isfinite(r["tau2"]) else f"{r['tau2']:.3g}"} for r in pooled[pooled["pooling"] == "random_dl"].to_dict("records")]
    per = []
    for name, d in cohorts.items():
        c = _read(Path(d) / "correlations.tsv")
        if c is not None and len(c):
            per.append(c[(c["method"] == primary) & (c["signature_a"] == focal) & (c["statistic"] == "spearman")].assign(cohort=name))
    per_c = pd.concat(per, ignore_index=True) if per else pd.DataFrame()
    for target in pooled["signature_b"].drop_duplicates():
        rows = per_c[per_c["signature_b"] == target] if len(per_c) else per_c
        rows = rows.assign(estimate=rows["r"]) if len(rows) else rows
        pl = pooled[pooled["signature_b"] == target]
        if len(rows) >= 2 and pl["estimate"].notna().any():
            sec["figures"].append((f"{focal} vs {target}: correlation across cohorts", _png(forest_figure(rows, pl, scale="r", title=f"{focal} vs {target} ({primary}, Spearman r)"))))
    if ms is not None and len(ms):
        s = ms[(ms["method"] == primary) & (ms["signature"] == focal)]
        sec["surv_rows"] = [{**r, "est": fmt_r(r["estimate"]), "ci": fmt_ci(r["ci_low"], r["ci_high"]), "p": fmt_p(r["p"]), "i2": "NA" if not np.isfinite(r["i2"]) else f"{r['i2']:.0f}%"} for r in s[s["pooling"] == "random_dl"].to_dict("records")]
        per = []
        for name, d in cohorts.items():
            t = _read(Path(d) / "survival.tsv")
            side = Path(d) / "survival.json"
            prim = json.loads(side.read_text()).get("primary_endpoint", "") if side.is_file() else ""
            if t is not None and len(t) and prim:
                per.append(t[(t["method"] == primary) & (t["signature"] == focal) & (t["endpoint"] == prim) & (t["model"] == "univariate")].assign(cohort=name, estimate=lambda x: x["hr_per_sd"]))
        pl = s[(s["endpoint"] == "primary") & (s["model"] == "univariate")]
        if per and len(pl) and pl["estimate"].notna().any():
            rows = pd.concat(per, ignore_index=True)
            if len(rows) >= 2:
                sec["figures"].append((f"{focal}: hazard ratio per SD across cohorts", _png(forest_figure(rows, pl, scale="hr", title=f"{focal} ({primary}): HR per SD, primary endpoint"))))
    return sec


def _cohort_section(name: str, d: Path, focal: Sequence[str], primary: str, sigmeta: dict[str, Signature]) -> dict:
    coverage = _read(d / "coverage.tsv")
    corr = _read(d / "correlations.tsv")
    surv = _read(d / "survival.tsv")
    mapping = _read(d / "gene_mapping.tsv")
    score_files = sorted((d / "scores").glob("*.tsv"))
    scores = {p.stem: pd.read_csv(p, sep="\t", index_col=0) for p in score_files}
    methods = list(scores)
    primary = primary if primary in scores else (methods[0] if methods else primary)
    main_focal = focal[0] if focal else "SS"
    warnings: list[str] = []
    sec: dict = {"name": name, "methods": methods, "primary": primary, "n_samples": len(next(iter(scores.values()))) if scores else 0}

    # Summary table: focal (SS) vs each target, primary method
    summary_rows = []
    if corr is not None and len(corr):
        c = corr[(corr.method == primary) & (corr.signature_a == main_focal)]
        if "statistic" in c.columns:
            c = c[c["statistic"] == "spearman"]
        for r in c.to_dict("records"):
            meta = sigmeta.get(r["signature_b"])
            shared = int(r.get("n_shared_genes", 0) or 0) if np.isfinite(r.get("n_shared_genes", 0) or 0) else 0
            summary_rows.append(
                {
                    "target": r["signature_b"],
                    "organ": meta.organ if meta else "NA",
                    "complete": "" if meta is None or meta.complete is not False else "partial list",
                    "r": fmt_r(r["r"]),
                    "ci": fmt_ci(r.get("ci_low"), r.get("ci_high")),
                    "q": fmt_p(r["q"]),
                    "p_null": fmt_p(r.get("p_random_null", np.nan)),
                    "shared": shared,
                    "r_without_shared": fmt_r(r.get("r_without_shared", np.nan)),
                    "r_partial": fmt_r(r.get("r_partial", np.nan)),
                    "n": int(r["n"]),
                    "significant": bool(np.isfinite(r["q"]) and r["q"] < 0.05),
                    "r_value": r["r"],
                }
            )
            rws = r.get("r_without_shared", np.nan)
            if shared and np.isfinite(r["q"]) and r["q"] < 0.05 and np.isfinite(rws) and abs(rws) < abs(r["r"]) / 2:
                warnings.append(f"{main_focal} vs {r['signature_b']}: r = {fmt_r(r['r'])} falls to {fmt_r(rws)} without the {shared} shared gene(s): the correlation is carried by genes the two signatures share.")
            pn = r.get("p_random_null", np.nan)
            if np.isfinite(r["q"]) and r["q"] < 0.05 and np.isfinite(pn) and pn >= 0.05:
                warnings.append(f"{main_focal} vs {r['signature_b']}: significant (q = {fmt_p(r['q'])}) but not beyond random signatures of the same size and expression (p_random_null = {fmt_p(pn)}).")
        sig = [x for x in summary_rows if x["significant"] and x["r_value"] > 0]
        neg = [x for x in summary_rows if x["significant"] and x["r_value"] < 0]
        tested = [x for x in summary_rows if x["r"] != "NA"]
        sentence = (
            f"{main_focal} correlates positively with {len(sig)} of {len(tested)} signatures at q < 0.05"
            + (f" ({', '.join(x['target'] for x in sorted(sig, key=lambda x: -x['r_value']))})" if sig else "")
            + (f" and negatively with {len(neg)} ({', '.join(x['target'] for x in neg)})" if neg else "")
            + f" ({primary} scores, Spearman, Benjamini-Hochberg over {len(corr)} tests)."
            + (f" Beyond matched random signatures (p_random_null < 0.05): {', '.join(x['target'] for x in summary_rows if x['p_null'] not in ('NA',) and float(x['p_null'].lstrip('<')) < 0.05) or 'none'}." if "p_random_null" in corr.columns else "")
        )
        sec["corr_sentence"] = sentence
    sec["summary_rows"] = summary_rows

    # Survival summary
    sec["has_survival"] = surv is not None and len(surv) > 0
    if sec["has_survival"]:
        s = surv[(surv.method == primary) & (surv.signature.isin(list(focal)))]
        sec["surv_rows"] = [
            {
                "signature": r["signature"],
                "endpoint": r["endpoint"],
                "model": r.get("model", "univariate"),
                "covariates": r.get("covariates", "") if isinstance(r.get("covariates", ""), str) else "",
                "n": int(r["n"]),
                "events": int(r["events"]),
                "hr": fmt_hr(r),
                "p": fmt_p(r["p"]),
                "c": fmt_r(r.get("concordance", np.nan)),
                "ph_p": fmt_p(r.get("ph_p", np.nan)),
                "p_null": fmt_p(r.get("p_random_null", np.nan)),
                "note": r["note"] if isinstance(r["note"], str) else "",
            }
            for _, r in s.iterrows()
            if not str(r["endpoint"]).startswith("relapse:") or r["signature"] == main_focal
        ]
        if "model" in s.columns:
            s = s[(s["model"] == "univariate") & ~s["endpoint"].astype(str).str.startswith("relapse:")]
            for _, r in s.iterrows():
                if np.isfinite(r.get("ph_p", np.nan)) and r["ph_p"] < 0.05:
                    warnings.append(f"{r['signature']} ({r['endpoint']}): proportional hazards violated (cox.zph p = {fmt_p(r['ph_p'])}); the hazard ratio is an average over follow-up.")
        ss = s[s.signature == main_focal]
        if len(ss) and np.isfinite(ss["hr_per_sd"].iloc[0]):
            r0 = ss.iloc[0]
            verdict = "predicts" if r0["p"] < 0.05 else "does not significantly predict"
            sec["surv_sentence"] = (
                f"{main_focal} {verdict} relapse ({r0['endpoint']}): hazard ratio {r0['hr_per_sd']:.2f} per SD of the score "
                f"(95% CI {r0['ci_low']:.2f}-{r0['ci_high']:.2f}, p = {fmt_p(r0['p'])}; {int(r0['n'])} samples, {int(r0['events'])} events; Cox, {primary})."
            )
            if np.isfinite(r0.get("p_random_null", np.nan)):
                sec["surv_sentence"] += f" Random signatures of the same size and expression predict relapse at least as strongly with probability {fmt_p(r0['p_random_null'])} (Venet et al. 2011)."
            if r0["events"] < FEW_EVENTS:
                warnings.append(f"Only {int(r0['events'])} events: hazard ratios are imprecise.")
        elif len(ss):
            sec["surv_sentence"] = f"No hazard ratio for {main_focal}: {ss['note'].iloc[0]}."
    else:
        warnings.append("No survival endpoint for this cohort (no time/event columns in the cohort sheet): outcome is not analysed.")
        sec["surv_rows"] = []

    # Coverage and warnings
    if coverage is not None:
        cov = coverage.copy()
        partial = cov[cov["complete"].astype(str).str.lower() == "false"]["signature"].tolist()
        if partial:
            warnings.append(f"Partial signature lists (only part of the published genes are available): {', '.join(partial)}. Their scores approximate the published signatures.")
        not_scored = cov[~cov["scored"].astype(str).str.lower().eq("true")]
        for r in not_scored.itertuples(index=False):
            warnings.append(f"{r.signature} was not scored: {r.reason}.")
        low = cov[cov["scored"].astype(str).str.lower().eq("true") & (cov["fraction_present"] < 0.8)]
        for r in low.itertuples(index=False):
            warnings.append(f"{r.signature}: only {r.n_present} of {r.n_genes} genes measured (missing: {r.missing_genes}).")
        sec["coverage"] = cov.fillna("").to_dict("records")
    else:
        sec["coverage"] = []
    sec["warnings"] = warnings

    if mapping is not None:
        counts = mapping["status"].value_counts()
        sec["mapping_counts"] = [{"status": k, "n": int(v)} for k, v in counts.items()]
        renamed = mapping[mapping["status"].isin(["previous", "alias", "case"])]
        sec["renamed"] = ", ".join(f"{a} → {b}" for a, b in zip(renamed["input_id"].head(30), renamed["symbol"].head(30)))
        amb = mapping[mapping["status"] == "ambiguous"]["input_id"].tolist()
        sec["ambiguous"] = ", ".join(amb[:30]) + (f" (and {len(amb) - 30} more)" if len(amb) > 30 else "")
        sec["n_input_ids"] = len(mapping)
        sec["n_genes"] = int(mapping["kept"].astype(str).str.lower().eq("true").sum())

    # Figures
    figs = []
    if primary in scores:
        dist = _distribution_figure(scores[primary], primary, name)
        if dist:
            figs.append(("Score distributions", dist))
        if corr is not None:
            targets = corr[(corr.method == primary) & (corr.signature_a == main_focal)]["signature_b"].tolist()
            sc = _scatter_figure(scores[primary], corr, primary, main_focal, targets, name)
            if sc:
                figs.append((f"{main_focal} vs organ signatures", sc))
    sec["figures"] = figs
    sec["outcome_figures"], sec["logrank"] = _outcome_figures(d, primary, main_focal, name)
    pre = _read(d / "prerank.tsv")
    sec["prerank"] = [] if pre is None or not len(pre) else [
        {**r, "nes": fmt_r(r["nes"]), "fdr": fmt_p(r["fdr"]), "p": fmt_p(r["p"]), "note": r["note"] if isinstance(r["note"], str) else ""}
        for r in pre[(pre["method"] == primary) & (pre["focal"] == main_focal)].sort_values("nes", ascending=False, na_position="last").to_dict("records")
    ]

    sec["corr_table"] = [] if corr is None else [
        {**r, "statistic": r.get("statistic", "spearman"), "r": fmt_r(r["r"]), "ci": fmt_ci(r.get("ci_low"), r.get("ci_high")), "p": fmt_p(r["p"]), "q": fmt_p(r["q"]), "p_null": fmt_p(r.get("p_random_null", np.nan)), "rws": fmt_r(r.get("r_without_shared", np.nan)), "rp": fmt_r(r.get("r_partial", np.nan))}
        for r in corr.to_dict("records")
    ]
    sec["surv_table"] = [] if surv is None else [
        {**r, "model": r.get("model", "univariate"), "hr": fmt_hr(pd.Series(r)), "p": fmt_p(r["p"]), "c": fmt_r(r.get("concordance", np.nan)), "ph_p": fmt_p(r.get("ph_p", np.nan)), "p_null": fmt_p(r.get("p_random_null", np.nan)), "note": r["note"] if isinstance(r["note"], str) else ""}
        for r in surv.to_dict("records")
    ]
    # Provenance from sidecars
    prov = {}
    for m, p in ((m, d / "scores" / f"{m}.json") for m in methods):
        if p.is_file():
            prov[m] = json.loads(p.read_text())
    sec["score_params"] = {m: v.get("parameters", {}) for m, v in prov.items()}
    sec["normalization"] = next((v.get("normalization", {}) for v in prov.values()), {})
    return sec


def build_report(cohorts: dict[str, str | Path], out_html: str | Path, *, signatures: list[Signature], config: dict, focal: Sequence[str] = ("SS", "SS_attraction", "SS_infiltration"), primary_method: str | None = None, meta_dir: str | Path | None = None) -> None:
    """Write the standalone HTML report over the cohorts' result directories."""
    import matplotlib

    matplotlib.use("Agg")
    import yaml
    from jinja2 import Environment, PackageLoader, select_autoescape

    primary = primary_method or (config.get("scoring", {}).get("methods") or ["ssgsea"])[0]
    sigmeta = {s.name: s for s in signatures}
    sections = [_cohort_section(name, Path(d), focal, primary, sigmeta) for name, d in cohorts.items()]
    meta = _meta_section(Path(meta_dir) if meta_dir else None, {k: Path(v) for k, v in cohorts.items()}, primary, focal[0] if focal else "SS")
    env = Environment(loader=PackageLoader("seedsig", "templates"), autoescape=select_autoescape(["html"]))
    html = env.get_template("report.html").render(
        cohorts=sections,
        meta=meta,
        focal=list(focal),
        primary=primary,
        signatures=signatures,
        versions=versions(),
        config_yaml=yaml.safe_dump(config, sort_keys=False),
        config=config,
    )
    with atomic_path(out_html) as tmp:
        tmp.write_text(html, encoding="utf-8")
