"""Survival stage: the analysis plan of one cohort (endpoints, Cox models, curves, nulls)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from seedsig.core.cohort import (
    EVENT_CODES,
    covariate_frame,
    expression_frame,
    read_scores,
)
from seedsig.core.errors import SeedsigError
from seedsig.core.layout import endpoint_label
from seedsig.core.progress import Timer, progress
from seedsig.core.provenance import provenance, write_sidecar
from seedsig.core.settings import RELAPSE_DEFAULTS, SURVIVAL_DEFAULTS
from seedsig.core.stats import stable_seed
from seedsig.core.tables import write_table
from seedsig.core.threads import check_threads
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
from seedsig.scoring.null import null_matrix, random_null_scores
from seedsig.scoring.signatures import Signature, load_signatures

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
            f"column(s) {', '.join(repr(c) for c in missing)} not in the clinical table of cohort '{cohort}': "
            "endpoint skipped",
        )
    raw_t = obs[time].astype(object)
    t = pd.to_numeric(raw_t, errors="coerce")
    bad = t.isna() & raw_t.notna()
    if bad.any():
        return (
            None,
            None,
            f"clinical column '{time}' has non-numeric time(s) such as {raw_t[bad].iloc[0]!r} "
            f"(sample {raw_t.index[bad][0]}): endpoint skipped; times must be numbers (NA for unknown)",
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
            f"clinical column '{event}' has event value(s) {sorted({str(v) for v in raw_e[bad]})[:5]} "
            "that are not 1/0 or TRUE/FALSE: endpoint skipped",
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


# -------------------------------------------------------------------------------------------- the Cox null
@dataclass
class CoxRandomNull:
    """The random-signature null of a cohort's Cox models (Venet et al. 2011): the univariate Wald z of a
    signature against the z of ``n_random`` random signatures matched to it, fitted together by
    :func:`~seedsig.outcome.cox_many.cox_univariate_many`, p by :func:`~seedsig.outcome.cox_many.random_null_p`.

    The Cox tables of every endpoint ask for their p values (:meth:`request`); :meth:`run` then makes the random scores
    of one (method, signature) at a time, from :func:`seedsig.scoring.null.random_null_scores` (the one
    random-signature null, shared with the association stage) with the seed ``stable_seed(seed, 'survival', method,
    signature)``, fits them on every endpoint that asked, and drops them (memory: one B x samples array at a time; the
    matrix is ranked or standardized once per method). A signature whose null cannot be drawn gets NA, with the
    reason in ``unavailable`` (``method/signature`` -> message). ``threads``: threads of the random scores and the
    Cox fits (no p value depends on it)."""

    expr: pd.DataFrame
    signatures: dict[str, Signature]
    scores: dict[str, pd.DataFrame]
    n_random: int
    seed: int
    method_params: dict
    min_samples: int
    threads: int = 1
    unavailable: dict[str, str] = field(default_factory=dict)
    n_fits: int = 0  # univariate Cox rows tested against the random null
    n_sets: int = 0  # method x signature random score sets made
    pending: list = field(default_factory=list)  # (Cox table, time, event) waiting for their p values

    def request(self, tab: pd.DataFrame, time: pd.Series, event: pd.Series) -> None:
        """Give ``tab`` (a Cox table, :data:`SURVIVAL_COLUMNS`) a ``p_random_null`` column, NA until :meth:`run`
        fills its univariate rows with a hazard ratio."""
        tab["p_random_null"] = np.nan
        if self.n_random > 0:
            self.pending.append((tab, time, event))

    def _expr_of(self, method: str) -> pd.DataFrame:
        samples = list(self.scores[method].index)
        return self.expr if samples == list(self.expr.columns) else self.expr[samples]

    def scores_of(self, method: str, signature: str, matrix: dict | None = None) -> np.ndarray | None:
        """The B x samples random scores of (method, signature), samples as the method's score table; None when the
        null cannot be drawn. ``matrix``: a dict holding the prepared matrix of the current method, reused across
        signatures."""
        matrix = {} if matrix is None else matrix
        try:
            expr = self._expr_of(method)
            if method not in matrix:
                matrix.clear()
                matrix[method] = null_matrix(expr, method, params=self.method_params.get(method))
            seed = stable_seed(self.seed, "survival", method, signature)
            params = self.method_params.get(method) or {}
            return random_null_scores(
                expr,
                self.signatures[signature],
                method,
                self.n_random,
                seed,
                params,
                threads=self.threads,
                matrix=matrix[method],
            )
        except SeedsigError as exc:
            self.unavailable[f"{method}/{signature}"] = str(exc)
            return None

    def run(self) -> None:
        """p_random_null of every requested row, one (method, signature) random score set at a time."""
        work: dict[tuple[str, str], list] = {}
        for tab, time, event in self.pending:
            for i, r in enumerate(tab.itertuples(index=False)):
                if r.model == "univariate" and np.isfinite(r.hr_per_sd):
                    work.setdefault((r.method, r.signature), []).append((tab, i, time, event))
        self.n_fits = sum(len(v) for v in work.values())
        matrix: dict = {}
        for method, signature in progress(
            list(work), desc=f"random null B={self.n_random} (method x signature)", unit="sig"
        ):
            null = self.scores_of(method, signature, matrix)
            self.n_sets += 1
            if null is None:
                continue
            for tab, i, time, event in work[(method, signature)]:
                x, t, e, ok = complete_cases(self.scores[method][signature], time, event)
                b, se = cox_univariate_many(
                    np.vstack([x[ok], null[:, ok]]),
                    t[ok],
                    e[ok].astype(int),
                    min_samples=self.min_samples,
                    threads=self.threads,
                )
                z = b / se
                tab.iat[i, tab.columns.get_loc("p_random_null")] = random_null_p(z[0], z[1:])
        self.pending.clear()


# -------------------------------------------------------------------------------------------- the plan
@dataclass
class _Plan:
    """The analysis plan of one cohort and what its steps have produced so far."""

    scores: dict[str, pd.DataFrame]
    focal: Sequence[str]
    floor: int
    covariates: list[str]
    cov: pd.DataFrame | None
    cov_notes: list[str]
    cut: str | Sequence[float]
    null: CoxRandomNull
    timer: Timer
    rows: list[pd.DataFrame] = field(default_factory=list)
    km_parts: list[pd.DataFrame] = field(default_factory=list)
    lr_rows: list[dict] = field(default_factory=list)
    aj_parts: list[pd.DataFrame] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    thin: list[str] = field(default_factory=list)  # endpoints with fewer samples than survival.min_samples

    @property
    def cut_label(self) -> str:
        return self.cut if isinstance(self.cut, str) else "values:" + ",".join(f"{v:g}" for v in self.cut)

    def focal_scores(self):
        """(method, focal signature, its scores) for every focal signature in every score table."""
        for m, sc in self.scores.items():
            for g in [f for f in self.focal if f in sc.columns]:
                yield m, g, sc[g]


def _endpoints(endpoint: dict, configured: Sequence[dict], notes: list[str]) -> tuple[list[tuple], str]:
    """The endpoints (label, time, event, kind): the sheet's primary one, then the configured ones."""
    endpoints: list[tuple[str, str, str, str]] = []
    primary_label = ""
    if endpoint.get("time") and endpoint.get("event"):
        primary_label = endpoint_label(endpoint["time"], endpoint["event"])
        endpoints.append((primary_label, endpoint["time"], endpoint["event"], "primary"))
    else:
        notes.append("no endpoint given in the cohort sheet (time/event columns): no primary survival model")
    for e in configured:
        endpoints.append((e["name"], e["time"], e["event"], "secondary"))
    return endpoints, primary_label


def _note_rows(scores: dict[str, pd.DataFrame], label: str, model: str, note: str, covs: str = "") -> list[dict]:
    """One row per method and signature saying why no model was fitted."""
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


def _with_covariate_notes(plan: _Plan, tab: pd.DataFrame, label: str) -> pd.DataFrame:
    """A Cox table with the covariates that could not be used said: note rows for an adjusted model that could
    not be fitted at all, or a note on each adjusted row fitted without some of them."""
    if not (plan.cov_notes and plan.covariates):
        return tab
    said = "; ".join(plan.cov_notes)
    if plan.cov is None:
        rows = _note_rows(
            plan.scores, label, "adjusted", said + ": adjusted model not fitted", ";".join(plan.covariates)
        )
        return pd.concat([tab, pd.DataFrame(rows)], ignore_index=True)
    adj = tab["model"] == "adjusted"
    tab.loc[adj, "note"] = (
        tab.loc[adj, "note"]
        .fillna("")
        .astype(str)
        .map(lambda s: "; ".join(x for x in (s, said + ": not adjusted for it") if x))
    )
    return tab


def _fit_endpoint(plan: _Plan, label: str, time: pd.Series, event: pd.Series) -> None:
    """The Cox models of every score on one endpoint, with their random-signature null."""
    with plan.timer("cox"):
        tab = cox_table(plan.scores, time, event, label, covariates=plan.cov, min_samples=plan.floor)
    tab = _with_covariate_notes(plan, tab, label)
    plan.null.request(tab, time, event)  # filled by plan.null.run() once every endpoint asked
    plan.rows.append(tab)


def _curves(plan: _Plan, label: str, time: pd.Series, event: pd.Series) -> None:
    """Kaplan-Meier curves and log-rank tests of the focal scores in groups at the pre-set cut-points."""
    floor = plan.floor
    for m, g, score in plan.focal_scores():
        x, t, e, ok = complete_cases(score, time, event)
        keys = {"method": m, "signature": g, "endpoint": label, "cut": plan.cut_label}
        if not ok.any() or (ok.sum() >= floor and np.nanstd(x[ok]) == 0):
            plan.lr_rows.append({**keys, "note": "score not available or constant"})
            continue
        cg = cut_groups(x[ok], plan.cut)
        lr = logrank(t[ok], e[ok], cg.labels, levels=cg.names, min_samples=floor)
        if ok.sum() >= floor:
            km = kaplan_meier(t[ok], e[ok], cg.labels, levels=cg.names)
            plan.km_parts.append(km.assign(**keys)[[*KM_KEYS, *KM_COLUMNS]])
        else:
            lr["note"] += "; no Kaplan-Meier curve or cumulative incidence"
        lr["note"] = "; ".join(x for x in (cg.note, lr.get("note") or "") if x)
        plan.lr_rows.append({**keys, **{k: lr.get(k) for k in LOGRANK_COLUMNS}})


def _relapse_site_analysis(
    plan: _Plan, obs: pd.DataFrame, rs: dict, cohort: str, label: str, time: pd.Series, event: pd.Series
) -> None:
    """Site of first relapse on the primary endpoint: cause-specific Cox per site, cumulative incidence by score
    group."""
    col = rs["column"]
    if not col:
        return
    if col not in obs.columns:
        plan.notes.append(
            f"relapse-site column '{col}' is not in the clinical table of cohort '{cohort}': no site-specific analysis"
        )
        return
    site = relapse_sites(obs, col, rs["sites"], event)
    for s_name in list(rs["sites"]) + (["other"] if (site == "other").any() else []):
        ev_s = ((event == 1) & (site == s_name)).astype(float).where(event.notna())
        _fit_endpoint(plan, f"relapse:{s_name}", time, ev_s)
    n_unknown = int((site == "unknown").sum())
    if n_unknown:
        plan.notes.append(
            f"{n_unknown} event(s) without a relapse site: censored in every cause-specific model, counted as cause "
            "'unknown' in the cumulative incidence"
        )
    for m, g, score in plan.focal_scores():
        x, t, e, ok = complete_cases(score, time, event)
        if ok.sum() < max(2, plan.floor) or np.nanstd(x[ok]) == 0:
            continue
        cg = cut_groups(x[ok], plan.cut)
        cause = site.reindex(score.index).to_numpy(dtype=object)[ok]
        causes = [c for c in [*rs["sites"], "other", "unknown"] if c in set(cause) or c in rs["sites"]]
        aj = aalen_johansen(t[ok], cause, cg.labels, causes=causes, levels=cg.names)
        plan.aj_parts.append(
            aj.assign(method=m, signature=g, endpoint=label, cut=plan.cut_label)[[*KM_KEYS, *AJ_COLUMNS]]
        )


def _analyse_endpoint(
    plan: _Plan, obs: pd.DataFrame, rs: dict, cohort: str, endpoint: tuple[str, str, str, str]
) -> None:
    """Everything on one endpoint: Cox models, curves and, on the primary endpoint, the sites of relapse."""
    label, tcol, ecol, kind = endpoint
    time, event, why = _endpoint_values(obs, tcol, ecol, cohort)
    if why:
        plan.rows.append(pd.DataFrame(_note_rows(plan.scores, label, "univariate", why)))
        plan.notes.append(f"endpoint {label}: {why}")
        return
    _fit_endpoint(plan, label, time, event)
    n_follow = int((time.reindex(obs.index).notna() & event.reindex(obs.index).notna()).sum())
    if n_follow < plan.floor:
        plan.thin.append(f"{label}: {n_follow} sample(s) with follow-up")
    _curves(plan, label, time, event)
    if kind == "primary":
        _relapse_site_analysis(plan, obs, rs, cohort, label, time, event)


# -------------------------------------------------------------------------------------------- the outputs
def _write_survival(
    plan: _Plan, path: str | Path, inputs: list[str], st: dict, rs: dict, endpoints: list[tuple], about: dict
) -> pd.DataFrame:
    """survival.tsv and its sidecar; ``about``: cohort and primary_endpoint."""
    surv = pd.concat(plan.rows, ignore_index=True) if plan.rows else pd.DataFrame(columns=list(SURVIVAL_COLUMNS))
    surv = surv.reindex(columns=list(SURVIVAL_COLUMNS))
    floor = plan.floor
    write_table(surv, path)
    write_sidecar(
        path,
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
            **about,
            note="; ".join(
                [*plan.notes, *(f"fewer than survival.min_samples = {floor} samples for {t}" for t in plan.thin)]
            ),
            covariate_notes=plan.cov_notes,
            random_null="p_random_null = (b + 1) / (B + 1), b = random signatures (matched to the signature's size and "
            "genes' mean expression) whose univariate Cox |z| >= the signature's",
            random_null_unavailable=plan.null.unavailable,
        ),
    )
    return surv


def _write_curves(
    plan: _Plan, outputs: dict[str, str | Path], inputs: list[str], cohort: str
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """km.tsv, logrank.tsv and cumulative_incidence.tsv with their (shared) sidecar."""
    km = pd.concat(plan.km_parts, ignore_index=True) if plan.km_parts else pd.DataFrame(columns=[*KM_KEYS, *KM_COLUMNS])
    lr = pd.DataFrame(plan.lr_rows).reindex(columns=[*KM_KEYS, *LOGRANK_COLUMNS])
    aj = pd.concat(plan.aj_parts, ignore_index=True) if plan.aj_parts else pd.DataFrame(columns=[*KM_KEYS, *AJ_COLUMNS])
    floor = plan.floor
    thin_notes = [f"fewer than survival.min_samples = {floor} samples for {t}: no test, no curve" for t in plan.thin]
    curve_params = {"cut_points": plan.cut, "focal": list(plan.focal), "min_samples": floor}
    curve_record = provenance(curve_params, inputs=inputs, cohort=cohort, note="; ".join([*plan.notes, *thin_notes]))
    for key, df in (("km", km), ("logrank", lr), ("incidence", aj)):
        write_table(df, outputs[key])
        write_sidecar(outputs[key], curve_record)
    return km, lr, aj


def _log_run(
    plan: _Plan, cohort: str, surv: pd.DataFrame, km: pd.DataFrame, lr: pd.DataFrame, aj: pd.DataFrame
) -> None:
    """The stage's lines in the rule log: notes, thin endpoints, and what was computed in how long."""
    if plan.notes:
        log.info("survival %s: %s", cohort, "; ".join(plan.notes))
    if plan.thin:
        log.warning(
            "survival %s: fewer than survival.min_samples = %d samples (%s): "
            "no Cox model, log-rank test or curve for them",
            cohort,
            plan.floor,
            "; ".join(plan.thin),
        )
    log.info(
        "survival %s: %d Cox rows (%d endpoint(s) x %d methods) in %s; random null B=%d for %d univariate rows "
        "from %d method x signature score sets in %s; %d KM groups, %d log-rank tests, %d cumulative-incidence rows; "
        "%s in all",
        cohort,
        len(surv),
        int(surv["endpoint"].nunique()),
        len(plan.scores),
        plan.timer.fmt("cox"),
        plan.null.n_random,
        plan.null.n_fits,
        plan.null.n_sets,
        plan.timer.fmt("random_null"),
        km.groupby([*KM_KEYS, "group"]).ngroups if len(km) else 0,
        len(lr),
        len(aj),
        plan.timer.fmt(),
    )


# -------------------------------------------------------------------------------------------- the stage
def survival_cohort(
    h5ad: str | Path,
    score_files: dict[str, str | Path],
    signature_files: Sequence[str],
    focal: Sequence[str],
    outputs: dict[str, str | Path],
    *,
    settings: dict | None = None,
    scoring: dict | None = None,
    threads: int = 1,
) -> None:
    """survival.tsv (Cox per SD, univariate and adjusted, concordance, PH test, random-signature null),
    km.tsv and logrank.tsv (focal scores in groups at pre-set cut-points), cumulative_incidence.tsv
    (site of first relapse, Aalen-Johansen by score group). ``outputs``: keys survival, km, logrank, incidence.
    ``threads`` (the rule's): threads of the random-signature null (its scores, its Cox fits); no output depends
    on it."""

    timer = Timer()
    st = {**SURVIVAL_DEFAULTS, **(settings or {})}
    rs = {**RELAPSE_DEFAULTS, **(st.get("relapse_site") or {})}
    floor = int(st["min_samples"])
    expr, adata = expression_frame(h5ad, layers=False)
    obs = adata.obs
    cohort = adata.uns.get("cohort", "")
    scores = read_scores(score_files)
    notes: list[str] = []
    endpoints, primary_label = _endpoints(dict(adata.uns.get("endpoint", {})), st["endpoints"], notes)
    cov, cov_notes = covariate_frame(obs, st["covariates"], cohort)
    null = CoxRandomNull(
        expr=expr,
        signatures={s.name: s for s in load_signatures(signature_files)},
        scores=scores,
        n_random=int(st["n_random"]),
        seed=int(st["seed"]),
        method_params=dict(scoring or {}),
        min_samples=floor,
        threads=check_threads(threads),
    )
    plan = _Plan(
        scores=scores,
        focal=focal,
        floor=floor,
        covariates=st["covariates"],
        cov=cov,
        cov_notes=cov_notes,
        cut=st["cut_points"],
        null=null,
        timer=timer,
        notes=notes,
    )
    for endpoint in endpoints:
        _analyse_endpoint(plan, obs, rs, cohort, endpoint)
    with timer("random_null"):
        null.run()
    inputs = [str(h5ad), *map(str, score_files.values())]
    about = {"cohort": cohort, "primary_endpoint": primary_label}
    surv = _write_survival(plan, outputs["survival"], inputs, st, rs, endpoints, about)
    km, lr, aj = _write_curves(plan, outputs, inputs, cohort)
    _log_run(plan, cohort, surv, km, lr, aj)
