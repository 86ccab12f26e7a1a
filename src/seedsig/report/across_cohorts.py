"""The report's Across cohorts section: the pooled correlations and hazard ratios (random effects, k >= 2) with
their forest plots, or why nothing was pooled."""

from __future__ import annotations

from typing import Sequence

import pandas as pd

from seedsig.core.layout import figure_stem
from seedsig.meta.pooling import forest_figure
from seedsig.report.load import _fig
from seedsig.report.sentences import _hr_reason, _main_corr, _pooled, _primary_endpoint
from seedsig.report.text import _finite, _text, fmt_ci, fmt_i2, fmt_p, fmt_r


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


def _meta_section(
    fw, cohorts: list[dict], mc: pd.DataFrame | None, ms: pd.DataFrame | None, primary: str, focal: Sequence[str]
) -> dict:
    """Across cohorts: the pooled correlations of the main focal signature and the pooled hazard ratios of the
    focal signatures (random effects, k >= 2), with their forest plots, or why nothing was pooled."""
    main = focal[0] if focal else "SS"
    sec: dict = {"rows": [], "surv_rows": [], "figures": [], "why": "", "surv_why": ""}
    if len(cohorts) < 2:
        names = ", ".join(c["name"] for c in cohorts) or "none"
        sec["why"] = f"No meta-analysis: pooling needs at least two cohorts; this run has one ({names})."
        fw.not_drawn(sec["why"], ("forest_r", "forest_hr"))
        return sec
    if mc is None or not len(mc):
        sec["why"] = "No meta-analysis: no pooled estimates were written (results/meta/correlations.tsv is empty)."
        fw.not_drawn(sec["why"], ("forest_r", "forest_hr"))
        return sec
    _meta_correlation_part(fw, cohorts, mc, primary, main, sec)
    if ms is not None and len(ms):
        _meta_survival_part(fw, cohorts, ms, primary, focal, sec)
    else:
        fw.not_drawn("no pooled hazard ratios were written (results/meta/survival.tsv is empty)", "forest_hr")
    return sec


def _pooled_row(r: dict, *, tau2: bool = False) -> dict:
    """A pooled row as shown: estimate, CI, p, I² (and tau², for correlations) and the note."""
    return {
        **r,
        "est": fmt_r(r["estimate"]),
        "ci": fmt_ci(r["ci_low"], r["ci_high"]),
        "p": fmt_p(r["p"]),
        "i2": fmt_i2(r.get("i2")),
        **({"tau2": f"{r['tau2']:.3g}" if _finite(r.get("tau2")) else "NA"} if tau2 else {}),
        "note": _text(r.get("note")),
    }


def _main_spearman(mc: pd.DataFrame, primary: str, main: str) -> pd.Series:
    """The rows of the main focal signature's pooled Spearman correlations (primary method)."""
    return (mc["method"] == primary) & (mc["signature_a"] == main) & (mc["statistic"] == "spearman")


def _cohort_correlations(cohorts: list[dict], primary: str, main: str) -> pd.DataFrame:
    """The tested Spearman correlations of the main focal signature in every cohort (column cohort added)."""
    per = []
    for c in cohorts:
        t = _main_corr(c, primary, main)
        if t is not None and len(t) and "statistic" in t.columns:
            t = t[(t["statistic"] == "spearman") & ~t["_thin"] & t["r"].notna()]
            if len(t):
                per.append(t.assign(cohort=c["name"]))
    return pd.concat(per, ignore_index=True) if per else pd.DataFrame()


def _meta_correlation_part(fw, cohorts: list[dict], mc: pd.DataFrame, primary: str, main: str, sec: dict) -> None:
    """The pooled correlation rows and one forest plot per target pooled from at least two cohorts."""
    mc_all = mc[_main_spearman(mc, primary, main) & (mc["pooling"] == "random_dl")]
    pooled = _pooled(mc_all)
    if not len(pooled):
        sec["why"] = f"No correlation of {main} was pooled across cohorts: " + _nothing_pooled_why(
            cohorts, main, primary, "corr"
        )
    sec["rows"] = [_pooled_row(r, tau2=True) for r in pooled.to_dict("records")]
    sec["n_left_out"] = int(len(mc_all) - len(pooled))
    per_c = _cohort_correlations(cohorts, primary, main)
    for target in pooled["signature_b"].drop_duplicates():
        rows = per_c[per_c["signature_b"] == target].assign(estimate=lambda x: x["r"]) if len(per_c) else per_c
        pl = mc[_main_spearman(mc, primary, main) & (mc["signature_b"] == target)]
        if len(rows) >= 2 and pl["estimate"].notna().any():
            dl = pl[pl["pooling"] == "random_dl"].iloc[0]
            w = fw(
                figure_stem("forest_r", "", primary, main, target),
                lambda rows=rows, pl=pl, target=target: forest_figure(
                    rows, pl, scale="r", title=f"{main} vs {target} ({primary}, Spearman r)"
                ),
                f"{main} vs {target}: correlation across cohorts",
                f"Forest plot: Spearman r of {main} with {target} ({primary}) per cohort (95% CI) and pooled"
                f" (random effects DerSimonian-Laird, fixed effect); I² = {fmt_i2(dl.get('i2'))}.",
            )
            sec["figures"].append(_fig(w))
        else:
            fw.not_drawn(
                _not_pooled_why(mc_all, "signature_b", target, len(rows), main), "forest_r", "", primary, main, target
            )
    for target in mc_all["signature_b"].drop_duplicates():
        if target not in set(pooled["signature_b"]):
            fw.not_drawn(_not_pooled_why(mc_all, "signature_b", target, 0, main), "forest_r", "", primary, main, target)


def _not_pooled_why(pooled: pd.DataFrame, col: str, key: str, n_cohorts: int, main: str) -> str:
    """Why one key (a target of the main focal signature, or a focal signature) has no forest plot: the note of
    its random-effects row (e.g. 'one cohort: nothing to pool'), else the cohorts with an estimate."""
    rows = pooled[(pooled[col] == key) & (pooled["pooling"] == "random_dl")]
    note = _text(rows["note"].iloc[0]) if len(rows) and "note" in rows.columns else ""
    what = f"{main} vs {key}" if col == "signature_b" else key
    return f"{what} was not pooled: " + (note or f"{n_cohorts} cohort(s) with an estimate; pooling needs at least two")


def _cohort_hazard_ratios(cohorts: list[dict], primary: str, f: str) -> pd.DataFrame:
    """The univariate hazard ratios of ``f`` on each cohort's primary endpoint (columns cohort, estimate added)."""
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
    return pd.concat(per, ignore_index=True) if per else pd.DataFrame()


def _meta_survival_part(
    fw, cohorts: list[dict], ms: pd.DataFrame, primary: str, focal: Sequence[str], sec: dict
) -> None:
    """The pooled hazard-ratio rows and one forest plot per focal signature pooled from at least two cohorts."""
    main = focal[0] if focal else "SS"
    s = _pooled(ms[(ms["method"] == primary) & ms["signature"].isin(list(focal))])
    sec["surv_rows"] = [_pooled_row(r) for r in s.to_dict("records")]
    for f in focal:
        rows = _cohort_hazard_ratios(cohorts, primary, f)
        pl = ms[
            (ms["method"] == primary)
            & (ms["signature"] == f)
            & (ms["endpoint"] == "primary")
            & (ms["model"] == "univariate")
        ]
        if len(rows) >= 2 and len(pl) and pl["estimate"].notna().any():
            dl = pl[pl["pooling"] == "random_dl"].iloc[0]
            w = fw(
                figure_stem("forest_hr", "", primary, f),
                lambda rows=rows, pl=pl, f=f: forest_figure(
                    rows, pl, scale="hr", title=f"{f} ({primary}): HR per SD, primary endpoint"
                ),
                f"{f}: hazard ratio per SD across cohorts",
                f"Forest plot: Cox hazard ratio per SD of {f} ({primary}, univariate, each cohort's primary endpoint)"
                f" per cohort and pooled; I² = {fmt_i2(dl.get('i2'))}.",
            )
            sec["figures"].append(_fig(w))
        elif f == main:
            sec["surv_why"] = f"No pooled hazard ratio for {main}: " + _nothing_pooled_why(
                cohorts, main, primary, "surv"
            )
            fw.not_drawn(sec["surv_why"], "forest_hr", "", primary, f)
        else:
            prim = ms[(ms["method"] == primary) & (ms["endpoint"] == "primary") & (ms["model"] == "univariate")]
            fw.not_drawn(_not_pooled_why(prim, "signature", f, len(rows), main), "forest_hr", "", primary, f)
