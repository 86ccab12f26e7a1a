"""Survival stage: the analysis plan of one cohort (endpoints, Cox models, curves, nulls)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from seedsig.association.correlation import random_null_scores
from seedsig.core.cohort import (
    EVENT_CODES,
    covariate_frame,
    expression_frame,
    read_scores,
)
from seedsig.core.errors import SeedsigError
from seedsig.core.progress import Timer, progress
from seedsig.core.provenance import provenance, write_sidecar
from seedsig.core.settings import RELAPSE_DEFAULTS, SURVIVAL_DEFAULTS
from seedsig.core.stats import stable_seed
from seedsig.core.tables import write_table
from seedsig.outcome.cox import (
    SURVIVAL_COLUMNS,
    cox_table,
)
from seedsig.outcome.cox_many import cox_univariate_many, random_null_p
from seedsig.outcome.curves import (
    AJ_COLUMNS,
    KM_COLUMNS,
    LOGRANK_COLUMNS,
    aalen_johansen,
    cut_groups,
    kaplan_meier,
    logrank,
)
from seedsig.scoring.signatures import load_signatures

log = logging.getLogger("seedsig")


# -------------------------------------------------------------------------------------------- survival
KM_KEYS = ("method", "signature", "endpoint", "cut")


def _endpoint_values(
    obs: pd.DataFrame, time: str, event: str, cohort: str
) -> tuple[pd.Series | None, pd.Series | None, str]:
    """Numeric time and 0/1 event of an endpoint, or a note saying why the endpoint cannot be used."""
    missing = [c for c in (time, event) if c not in obs.columns]
    if missing:
        return (
            None,
            None,
            f"column(s) {', '.join(repr(c) for c in missing)} not in the clinical table of cohort '{cohort}': endpoint skipped",
        )
    raw_t = obs[time].astype(object)
    t = pd.to_numeric(raw_t, errors="coerce")
    bad = t.isna() & raw_t.notna()
    if bad.any():
        return (
            None,
            None,
            f"clinical column '{time}' has non-numeric time(s) such as {raw_t[bad].iloc[0]!r} (sample {raw_t.index[bad][0]}): endpoint skipped; times must be numbers (NA for unknown)",
        )
    if (t < 0).any():
        return (
            None,
            None,
            f"clinical column '{time}' has negative time(s) (sample {t.index[t < 0][0]}): endpoint skipped",
        )
    raw_e = obs[event].astype(object)
    e = raw_e.map(lambda v: EVENT_CODES.get(str(v).strip().lower()) if pd.notna(v) else np.nan).astype(float)
    bad = e.isna() & raw_e.notna()
    if bad.any():
        return (
            None,
            None,
            f"clinical column '{event}' has event value(s) {sorted({str(v) for v in raw_e[bad]})[:5]} that are not 1/0 or TRUE/FALSE: endpoint skipped",
        )
    return t.astype(float), e, ""


def complete_cases(
    score: pd.Series, time: pd.Series, event: pd.Series
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Score, time and event aligned on the score's samples, and the mask of samples where all three are known."""
    x = score.to_numpy(dtype=float)
    t = time.reindex(score.index).to_numpy(dtype=float)
    e = event.reindex(score.index).to_numpy(dtype=float)
    return x, t, e, np.isfinite(x) & np.isfinite(t) & np.isfinite(e)


def relapse_sites(obs: pd.DataFrame, column: str, sites: Sequence[str], event: pd.Series) -> pd.Series:
    """Site of first relapse per sample, harmonized: one of ``sites`` (case-insensitive), 'other' for any
    other value, 'unknown' for an event without a site, '' for samples without an event."""
    raw = obs[column].astype(object)
    low = raw.map(lambda v: str(v).strip().lower() if pd.notna(v) and str(v).strip() not in ("", "NA", "nan") else "")
    wanted = {s.lower(): s for s in sites}
    site = low.map(lambda v: wanted.get(v, "other" if v else ""))
    ev = event.reindex(obs.index) == 1
    site = site.where(ev, "")
    return site.mask(ev & (site == ""), "unknown")


def survival_cohort(
    h5ad: str | Path,
    score_files: dict[str, str | Path],
    signature_files: Sequence[str],
    focal: Sequence[str],
    outputs: dict[str, str | Path],
    *,
    settings: dict | None = None,
    scoring: dict | None = None,
) -> None:
    """survival.tsv (Cox per SD, univariate and adjusted, concordance, PH test, random-signature null),
    km.tsv and logrank.tsv (focal scores in groups at pre-set cut-points), cumulative_incidence.tsv
    (site of first relapse, Aalen-Johansen by score group). ``outputs``: keys survival, km, logrank, incidence."""

    timer = Timer()
    st = {**SURVIVAL_DEFAULTS, **(settings or {})}
    rs = {**RELAPSE_DEFAULTS, **(st.get("relapse_site") or {})}
    floor = int(st["min_samples"])
    scoring = dict(scoring or {})
    expr, adata = expression_frame(h5ad)
    obs = adata.obs
    cohort = adata.uns.get("cohort", "")
    endpoint = dict(adata.uns.get("endpoint", {}))
    sigs = {s.name: s for s in load_signatures(signature_files)}
    scores = read_scores(score_files)
    notes: list[str] = []

    # endpoints: the sheet's primary one, then the configured ones
    endpoints: list[tuple[str, str, str, str]] = []  # (label, time, event, kind)
    primary_label = ""
    if endpoint.get("time") and endpoint.get("event"):
        primary_label = f"{endpoint['time']}/{endpoint['event']}"
        endpoints.append((primary_label, endpoint["time"], endpoint["event"], "primary"))
    else:
        notes.append("no endpoint given in the cohort sheet (time/event columns): no primary survival model")
    for e in st["endpoints"]:
        endpoints.append((e["name"], e["time"], e["event"], "secondary"))
    cov, cov_notes = covariate_frame(obs, st["covariates"], cohort)
    rows, km_parts, lr_rows, aj_parts = [], [], [], []
    cut = st["cut_points"]
    cut_label = cut if isinstance(cut, str) else "values:" + ",".join(f"{v:g}" for v in cut)
    null_cache: dict[tuple[str, str], np.ndarray | None] = {}
    null_notes: dict[str, str] = {}
    null_fits = [0]  # univariate Cox rows tested against the random null
    thin: list[str] = []  # endpoints with fewer samples than survival.min_samples

    def note_rows(label: str, model: str, note: str, covs: str = "") -> list[dict]:
        return [
            {
                "method": m,
                "signature": g,
                "endpoint": label,
                "n": 0,
                "events": 0,
                "note": note,
                "model": model,
                "covariates": covs,
            }
            for m, t in scores.items()
            for g in t.columns
        ]

    def fit_endpoint(label: str, time: pd.Series, event: pd.Series) -> None:
        with timer("cox"):
            tab = cox_table(scores, time, event, label, covariates=cov, min_samples=floor)
        if cov_notes and st["covariates"]:
            if cov is None:
                tab = pd.concat(
                    [
                        tab,
                        pd.DataFrame(
                            note_rows(
                                label,
                                "adjusted",
                                "; ".join(cov_notes) + ": adjusted model not fitted",
                                ";".join(st["covariates"]),
                            )
                        ),
                    ],
                    ignore_index=True,
                )
            else:
                adj = tab["model"] == "adjusted"
                tab.loc[adj, "note"] = (
                    tab.loc[adj, "note"]
                    .fillna("")
                    .astype(str)
                    .map(lambda s: "; ".join(x for x in (s, "; ".join(cov_notes) + ": not adjusted for it") if x))
                )
        with timer("random_null"):
            tab["p_random_null"] = _random_null(tab, time, event, label)
        rows.append(tab)

    def _random_null(tab: pd.DataFrame, time: pd.Series, event: pd.Series, label: str) -> np.ndarray:

        out = np.full(len(tab), np.nan)
        if int(st["n_random"]) <= 0:
            return out
        todo = [
            i for i, r in enumerate(tab.itertuples(index=False)) if r.model == "univariate" and np.isfinite(r.hr_per_sd)
        ]
        null_fits[0] += len(todo)
        for i in progress(todo, desc=f"random null B={int(st['n_random'])} {label} (method x signature)", unit="sig"):
            method, signature = tab["method"].iat[i], tab["signature"].iat[i]
            sc = scores[method]
            null = _null_scores(method, signature, sc.index)
            if null is None:
                continue
            x, t, e, ok = complete_cases(sc[signature], time, event)
            b, se = cox_univariate_many(np.vstack([x[ok], null[:, ok]]), t[ok], e[ok].astype(int), min_samples=floor)
            z = b / se
            out[i] = random_null_p(z[0], z[1:])
        return out

    def _null_scores(method: str, signature: str, samples: pd.Index) -> np.ndarray | None:

        key = (method, signature)
        if key not in null_cache:
            try:
                seed = stable_seed(int(st["seed"]), "survival", method, signature)
                null_cache[key] = random_null_scores(
                    expr[list(samples)], sigs[signature], method, int(st["n_random"]), seed, scoring.get(method) or {}
                )
            except SeedsigError as exc:
                null_cache[key] = None
                null_notes[f"{method}/{signature}"] = str(exc)
        return null_cache[key]

    for label, tcol, ecol, kind in endpoints:
        time, event, why = _endpoint_values(obs, tcol, ecol, cohort)
        if why:
            rows.append(pd.DataFrame(note_rows(label, "univariate", why)))
            notes.append(f"endpoint {label}: {why}")
            continue
        fit_endpoint(label, time, event)
        n_follow = int((time.reindex(obs.index).notna() & event.reindex(obs.index).notna()).sum())
        if n_follow < floor:
            thin.append(f"{label}: {n_follow} sample(s) with follow-up")
        for m, sc in scores.items():
            for g in [f for f in focal if f in sc.columns]:
                x, t, e, ok = complete_cases(sc[g], time, event)
                keys = {"method": m, "signature": g, "endpoint": label, "cut": cut_label}
                if not ok.any() or (ok.sum() >= floor and np.nanstd(x[ok]) == 0):
                    lr_rows.append({**keys, "note": "score not available or constant"})
                    continue
                cg = cut_groups(x[ok], cut)
                lr = logrank(t[ok], e[ok], cg.labels, levels=cg.names, min_samples=floor)
                if ok.sum() >= floor:
                    km = kaplan_meier(t[ok], e[ok], cg.labels, levels=cg.names)
                    km_parts.append(km.assign(**keys)[[*KM_KEYS, *KM_COLUMNS]])
                else:
                    lr["note"] += "; no Kaplan-Meier curve or cumulative incidence"
                lr["note"] = "; ".join(x for x in (cg.note, lr.get("note") or "") if x)
                lr_rows.append({**keys, **{k: lr.get(k) for k in LOGRANK_COLUMNS}})
        # site of first relapse: cause-specific Cox per site, cumulative incidence by score group
        if kind == "primary":
            col = rs["column"]
            if not col:
                continue
            if col not in obs.columns:
                notes.append(
                    f"relapse-site column '{col}' is not in the clinical table of cohort '{cohort}': no site-specific analysis"
                )
                continue
            site = relapse_sites(obs, col, rs["sites"], event)
            for s_name in list(rs["sites"]) + (["other"] if (site == "other").any() else []):
                ev_s = ((event == 1) & (site == s_name)).astype(float).where(event.notna())
                fit_endpoint(f"relapse:{s_name}", time, ev_s)
            n_unknown = int((site == "unknown").sum())
            if n_unknown:
                notes.append(
                    f"{n_unknown} event(s) without a relapse site: censored in every cause-specific model, counted as cause 'unknown' in the cumulative incidence"
                )
            for m, sc in scores.items():
                for g in [f for f in focal if f in sc.columns]:
                    x, t, e, ok = complete_cases(sc[g], time, event)
                    if ok.sum() < max(2, floor) or np.nanstd(x[ok]) == 0:
                        continue
                    cg = cut_groups(x[ok], cut)
                    cause = site.reindex(sc.index).to_numpy(dtype=object)[ok]
                    causes = [c for c in [*rs["sites"], "other", "unknown"] if c in set(cause) or c in rs["sites"]]
                    aj = aalen_johansen(t[ok], cause, cg.labels, causes=causes, levels=cg.names)
                    aj_parts.append(
                        aj.assign(method=m, signature=g, endpoint=label, cut=cut_label)[[*KM_KEYS, *AJ_COLUMNS]]
                    )

    surv = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=list(SURVIVAL_COLUMNS))
    surv = surv.reindex(columns=list(SURVIVAL_COLUMNS))
    inputs = [str(h5ad), *map(str, score_files.values())]
    write_table(surv, outputs["survival"])
    write_sidecar(
        outputs["survival"],
        provenance(
            {
                "model": "Cox proportional hazards, HR per sample SD (n-1) of the score over the samples in the model",
                "ties": "efron",
                "covariates": list(st["covariates"]),
                "n_random": int(st["n_random"]),
                "seed": int(st["seed"]),
                "min_samples": floor,
                "endpoints": [{"name": a, "time": b, "event": c, "kind": d} for a, b, c, d in endpoints],
                "relapse_site": rs,
            },
            inputs=inputs,
            cohort=cohort,
            primary_endpoint=primary_label,
            note="; ".join([*notes, *(f"fewer than survival.min_samples = {floor} samples for {t}" for t in thin)]),
            covariate_notes=cov_notes,
            random_null="p_random_null = (b + 1) / (B + 1), b = random signatures (matched to the signature's size and genes' mean expression) whose univariate Cox |z| >= the signature's",
            random_null_unavailable=null_notes,
        ),
    )
    km = pd.concat(km_parts, ignore_index=True) if km_parts else pd.DataFrame(columns=[*KM_KEYS, *KM_COLUMNS])
    lr = pd.DataFrame(lr_rows).reindex(columns=[*KM_KEYS, *LOGRANK_COLUMNS])
    aj = pd.concat(aj_parts, ignore_index=True) if aj_parts else pd.DataFrame(columns=[*KM_KEYS, *AJ_COLUMNS])
    thin_notes = [f"fewer than survival.min_samples = {floor} samples for {t}: no test, no curve" for t in thin]
    curve_params = {"cut_points": cut, "focal": list(focal), "min_samples": floor}
    curve_record = provenance(curve_params, inputs=inputs, cohort=cohort, note="; ".join([*notes, *thin_notes]))
    for key, df in (("km", km), ("logrank", lr), ("incidence", aj)):
        write_table(df, outputs[key])
        write_sidecar(outputs[key], curve_record)
    if notes:
        log.info("survival %s: %s", cohort, "; ".join(notes))
    if thin:
        log.warning(
            "survival %s: fewer than survival.min_samples = %d samples (%s): "
            "no Cox model, log-rank test or curve for them",
            cohort,
            floor,
            "; ".join(thin),
        )
    log.info(
        "survival %s: %d Cox rows (%d endpoint(s) x %d methods) in %s; random null B=%d for %d univariate rows from %d method x signature score sets in %s; %d KM groups, %d log-rank tests, %d cumulative-incidence rows; %s in all",
        cohort,
        len(surv),
        int(surv["endpoint"].nunique()),
        len(scores),
        timer.fmt("cox"),
        int(st["n_random"]),
        null_fits[0],
        len(null_cache),
        timer.fmt("random_null"),
        km.groupby([*KM_KEYS, "group"]).ngroups if len(km) else 0,
        len(lr),
        len(aj),
        timer.fmt(),
    )
