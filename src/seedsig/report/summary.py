"""The report's summary heatmap and summary tables across cohorts."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from seedsig.core.layout import figure_stem
from seedsig.report.across_cohorts import _cohort_gaps
from seedsig.report.figures import summary_heatmap
from seedsig.report.sentences import _main_corr, _pooled, _untested_blocks, _untested_hr
from seedsig.report.text import (
    ALPHA,
    _cell,
    _finite,
    _text,
    fmt_ci,
    fmt_hr,
    fmt_i2,
    fmt_p,
    fmt_p_null,
    fmt_r,
)


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
            corr_rows += [_corr_summary_row(c, r) for r in corr.to_dict("records")]
        surv, why = _untested_hr(c, focal)
        if why:
            surv_left_out.append(why)
        if surv is not None and len(surv):
            surv_rows += [_surv_summary_row(c, r) for r in surv.to_dict("records")]
    mc, ms = _pooled(mc), _pooled(ms)
    if mc is not None and len(mc):
        corr_rows += [_pooled_corr_summary_row(r) for r in mc.to_dict("records")]
    if ms is not None and len(ms):
        surv_rows += [_pooled_surv_summary_row(r) for r in ms[ms["signature"].isin(list(focal))].to_dict("records")]
    return corr_rows, surv_rows, left_out, surv_left_out


def _corr_summary_row(c: dict, r: dict) -> dict:
    """One cohort's correlation as a row of the summary table (cells with the TSV's values)."""
    return {
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
        "note": r["_why"] or _text(r.get("note")),
    }


def _surv_summary_row(c: dict, r: dict) -> dict:
    """One cohort's Cox model as a row of the summary table."""
    return {
        "cohort": c["name"],
        "method": r["method"],
        "signature": r["signature"],
        "endpoint": r["endpoint"],
        "model": r.get("model", "univariate"),
        "cells": [
            _cell("events", r.get("events"), str(int(r["events"])) if _finite(r.get("events")) else "NA"),
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


def _pooled_corr_summary_row(r: dict) -> dict:
    """A pooled correlation (random effects) as a row of the summary table."""
    return {
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


def _pooled_surv_summary_row(r: dict) -> dict:
    """A pooled hazard ratio (random effects) as a row of the summary table."""
    return {
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


def _heatmap(fw, cohorts: list[dict], mc: pd.DataFrame | None, primary: str, focal: str, pooled_ok: bool):
    """(the summary heatmap, or None and why not). Rows not tested (too few samples) are NA; a pooled column
    only where something was pooled."""
    heat, why = _draw_heatmap(fw, cohorts, mc, primary, focal, pooled_ok)
    if heat is None:
        fw.not_drawn(why, "summary_heatmap")
    return heat, why


def _draw_heatmap(fw, cohorts: list[dict], mc: pd.DataFrame | None, primary: str, focal: str, pooled_ok: bool):

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
    label = "null p < 0.05 (random-signature null)" + (
        "\npooled: random-effects p < 0.05" if "pooled" in values.columns else ""
    )
    w = fw(
        figure_stem("summary_heatmap"),
        lambda: summary_heatmap(values, mk, title=f"{focal} vs each signature\n({primary} scores)", mark_label=label),
        f"{focal} vs each signature: Spearman r per cohort" + (" and pooled" if "pooled" in values.columns else ""),
        f"Colour: Spearman r of {focal} with each signature ({primary} scores), per cohort"
        + (" and pooled across cohorts (random effects, DerSimonian-Laird)" if "pooled" in values.columns else "")
        + f". Dot: {label}. NA (grey): not scored in that cohort, too few samples to test, or not computed.",
    )
    return w, ""


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
