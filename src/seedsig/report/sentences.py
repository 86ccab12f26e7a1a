"""The report's sentences: headline results, what could not be tested and why, warnings."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from seedsig.report.text import (
    ALPHA,
    FEW_EVENTS,
    LIST_SHOWN,
    _finite,
    _params,
    _text,
    _true,
    fmt_ci,
    fmt_p,
    fmt_r,
    gene_list,
    genes_text,
    is_relapse_endpoint,
    p_null_phrase,
    split_genes,
)
from seedsig.scoring.signatures import Signature


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
    sel = _main_corr(c, primary, main_focal)
    if not main_st["scored"]:
        out["corr"] = f"Not tested: {main_focal} cannot be scored in {name} (see above)."
    elif sel is not None and len(sel):
        tested = sel[~sel["_thin"] & sel["r"].notna()]
        out["corr"] = _corr_answer(c, sel, primary, main_focal)
        out["notes"] = _corr_notes(c, tested, main_focal)
    label = _primary_endpoint(c)
    out["surv_q"] = (
        f"Does {main_focal} predict relapse?"
        if label and _endpoint_is_relapse(c, label)
        else f"Does {main_focal} predict the outcome{f' ({label})' if label else ''}?"
    )
    s = _main_surv(c, primary, main_focal)
    if not label and not (s is not None and len(s)):
        return out
    out["surv"] = _surv_answer(c, s, primary, main_focal, main_st["scored"])
    return out


def _corr_answer(c: dict, sel: pd.DataFrame, primary: str, main_focal: str) -> str:
    """Does the main focal signature correlate with the targets: the significant ones by sign, those beyond
    the random null, and the targets not tested and why."""
    corr = c["corr"]
    thin = sel[sel["_thin"]]
    tested = sel[~sel["_thin"] & sel["r"].notna()]
    untested = sel[~sel["_thin"] & sel["r"].isna()]
    if not len(tested):
        whys = list(dict.fromkeys(thin["_why"].tolist() + untested["_why"].tolist()))
        return f"Not tested: {'; '.join(whys) or 'no correlation was computed'}."
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
    return s


def _corr_notes(c: dict, tested: pd.DataFrame, main_focal: str) -> list[str]:
    """Significant correlations to read with care: carried by shared genes, or not beyond the random null."""
    name = c["name"]
    notes = []
    for r in tested.to_dict("records"):
        shared = int(r.get("n_shared_genes", 0)) if _finite(r.get("n_shared_genes")) else 0
        rws = r.get("r_without_shared", np.nan)
        if shared and _finite(r["q"]) and r["q"] < ALPHA and _finite(rws) and abs(rws) < abs(r["r"]) / 2:
            notes.append(
                f"Cohort {name}, {main_focal} vs {r['signature_b']}: r = {fmt_r(r['r'])} falls to {fmt_r(rws)}"
                f" without the {shared} shared gene(s): the correlation is carried by genes the two signatures"
                " share."
            )
        if shared and _finite(r["q"]) and r["q"] < ALPHA and not _finite(rws):
            notes.append(
                f"Cohort {name}, {main_focal} vs {r['signature_b']}: r = {fmt_r(r['r'])} cannot be checked"
                f" without the {shared} shared gene(s) ({_text(r.get('note')) or 'r_without_shared is NA'}):"
                " the correlation may be carried by genes the two signatures share."
            )
        pn = r.get("p_random_null", np.nan)
        if _finite(r["q"]) and r["q"] < ALPHA and _finite(pn) and pn >= ALPHA:
            notes.append(
                f"Cohort {name}, {main_focal} vs {r['signature_b']}: significant (q = {fmt_p(r['q'])}) but not"
                f" beyond random signatures of the same size and expression ({p_null_phrase(pn, c['b_corr'])})."
            )
    return notes


def _surv_answer(c: dict, s: pd.DataFrame | None, primary: str, main_focal: str, scored: bool) -> str:
    """Does the main focal signature predict the outcome: its hazard ratio on the first endpoint, or why not."""
    if not scored:
        return f"Not analysed: {main_focal} cannot be scored in {c['name']} (see above)."
    if s is not None and len(s) and _finite(s["hr_per_sd"].iloc[0]):
        r0 = s.iloc[0]
        verdict = "predicts" if _finite(r0["p"]) and r0["p"] < ALPHA else "does not significantly predict"
        text = (
            f"{main_focal} {verdict} {_outcome_words(c, str(r0['endpoint']))}: hazard ratio {r0['hr_per_sd']:.2f} per"
            f" SD of the score (95% CI {fmt_r(r0['ci_low'])}-{fmt_r(r0['ci_high'])}, p = {fmt_p(r0['p'])};"
            f" {int(r0['n'])} samples, {int(r0['events'])} events; Cox, {primary})."
        )
        if _finite(r0.get("p_random_null")):
            text += (
                " Against random signatures of the same size and expression:"
                f" {p_null_phrase(r0['p_random_null'], c['b_surv'])} (Venet et al. 2011)."
            )
        return text
    if s is not None and len(s):
        return (
            f"No hazard ratio for {main_focal} on {s['endpoint'].iloc[0]}:"
            f" {_text(s['_why'].iloc[0]) or 'not estimable'}."
        )
    return ""


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
        groups.append(
            {
                "title": "Partial signature lists",
                "lines": [
                    f"{s.name} ({s.organ or 'no organ given'}): only part of the published gene list is available"
                    f" ({s.size} genes here); its score approximates the published signature."
                    for s in partial
                ],
            }
        )
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
                ev_items.append(
                    f"Cohort {c['name']}, endpoint {endpoint}: only {int(e)} events (fewer than {FEW_EVENTS}, the"
                    " threshold below which this report flags a model): its hazard ratios are imprecise."
                )
        if "ph_p" in s.columns:
            u = s[s["signature"].isin(list(focal)) & (s["ph_p"] < ALPHA)]
            if "model" in u.columns:
                u = u[u["model"] == "univariate"]
            for r in u.to_dict("records"):
                ph_items.append(
                    f"Cohort {c['name']}, {r['signature']} on {r['endpoint']} ({primary}): proportional hazards"
                    f" violated (cox.zph p = {fmt_p(r['ph_p'])} < 0.05); the hazard ratio is an average over"
                    " follow-up."
                )
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
