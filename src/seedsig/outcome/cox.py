"""Survival stage: Cox proportional hazards models of the scores, per SD, as R ``survival::coxph`` fits them.

:func:`cox_table` gives one row per scoring method x signature x model, columns :data:`SURVIVAL_COLUMNS`:

``n``, ``events``
    Samples in the model (complete cases over score, time, event and, for the adjusted model, every
    covariate) and the events among them. Times and events that are not numbers count as missing.
``hr_per_sd``, ``ci_low``, ``ci_high``, ``p``
    The score divided by its sample SD (n - 1, over the samples in the model, as R's ``sd()``) in a Cox model
    fitted by statsmodels ``PHReg`` with Efron's tie handling (R ``coxph``'s default): HR per SD, 95% Wald
    interval exp(beta -/+ 1.96 se) and Wald p, as ``summary(coxph(...))`` reports them.
``model``, ``covariates``
    ``univariate`` (the score alone) or ``adjusted`` (the score plus the clinical covariates listed in
    ``covariates``, ';'-joined). Numeric covariates enter as they are; text, categorical and boolean ones as
    0/1 dummies of every level but the first in sorted order, the reference (as R ``factor()``; levels are
    sorted by code point, R sorts in the locale's collation).
``concordance``
    Harrell's C of the model's linear predictor, R ``coxph(...)$concordance["concordance"]``: over the pairs
    in which the shorter time is an event (a sample censored at the same time as an event counts as the
    longer one; two events at the same time are not compared), the fraction in which the sample with the
    shorter time has the higher predictor, ties in the predictor counting 1/2.
``ph_p``
    p of the score's term in the proportional-hazards test of R survival >= 3.0 ``cox.zph(fit)``
    (transform "km", terms=TRUE): a score test of adding g(t) x score to the model, g = 1 - the left-continuous
    Kaplan-Meier estimate, centred over the events (Grambsch & Therneau 1994; :func:`cox_zph`).
``p_random_null``
    Left NA here; the pipeline fills it with :func:`~seedsig.outcome.cox_many.random_null_p` on the univariate
    Wald z of the signature against the z of random signatures fitted together by
    :func:`~seedsig.outcome.cox_many.cox_univariate_many` (Venet et al. 2011).

Data conditions (fewer than ``min_samples`` samples, default :data:`MIN_SAMPLES_COX`, the pipeline's
``survival.min_samples``; no events, a constant score, a covariate with one
level, collinear covariates, a fit that does not converge or whose coefficient is infinite) give NA values and a
plain-words ``note``, never an exception; mistakes in what the caller gives (lengths that differ, event codes
other than 0/1, duplicated sample ids) raise :class:`seedsig.core.errors.SeedsigError`.

Times are made exact ties when they differ by less than sqrt(machine epsilon) (absolute, or relative to the mean
unique time), as R's ``aeqSurv`` does inside ``coxph`` and ``cox.zph``. Samples are put in one canonical order
(time, event, then the design's columns) before fitting, so no result depends on the input row order
(:func:`~seedsig.outcome.cox_many.cox_univariate_many` orders by time and event only: permuting tied samples can
move its results in the last digits). Nothing here is random.
"""

from __future__ import annotations

import math
import warnings
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from seedsig.core.errors import SeedsigError

SURVIVAL_COLUMNS = (
    "method",
    "signature",
    "endpoint",
    "n",
    "events",
    "hr_per_sd",
    "ci_low",
    "ci_high",
    "p",
    "note",
    "model",
    "covariates",
    "concordance",
    "ph_p",
    "p_random_null",
)
MIN_SAMPLES_COX = 10  # default floor of the Cox models (survival.min_samples): fewer complete cases, no model
Z975 = stats.norm.ppf(0.975)
EPS = 1e-9  # R coxph.control(): eps, relative change in the log partial likelihood
MAX_ITER = 20  # R coxph.control(): iter.max
TOLER_INF = math.sqrt(EPS)  # R coxph.control(): toler.inf, the "coefficient may be infinite" check
TIME_TOLERANCE = math.sqrt(np.finfo(float).eps)  # R aeqSurv()
CHUNK_ELEMENTS = 4_000_000  # event x sample comparisons per chunk of the concordance
NOT_AVAILABLE = "score not available (see coverage.tsv)"


# ------------------------------------------------------------------------------------------- helpers
def _as_float(v, label: str) -> np.ndarray:
    try:
        a = np.asarray(v, dtype=float)
    except (TypeError, ValueError):
        a = pd.to_numeric(pd.Series(np.asarray(v, dtype=object)), errors="coerce").to_numpy(dtype=float)
    if a.ndim != 1:
        raise SeedsigError(f"{label} must be one value per sample (a 1-d array), not an array of shape {a.shape}.")
    return a


def _check_event(event: np.ndarray) -> None:
    e = event[np.isfinite(event)]
    bad = e[(e != 0) & (e != 1)]
    if bad.size:
        raise SeedsigError(
            f"event must be coded 1 (event) or 0 (censored); found {bad[0]:g}. Recode the event column (NA for "
            "unknown)."
        )


def aeq_times(time: np.ndarray) -> np.ndarray:
    """Times that differ by less than sqrt(machine epsilon), absolutely or relative to the mean absolute unique
    time, set to the smallest of them: R ``survival::aeqSurv`` (applied by ``coxph`` and ``cox.zph``)."""
    t = np.asarray(time, dtype=float)
    y = np.unique(t[np.isfinite(t)])
    if y.size < 2:
        return t
    dy = np.diff(y)
    tied = (dy <= TIME_TOLERANCE) | (dy / np.mean(np.abs(y)) <= TIME_TOLERANCE)
    if not tied.any():
        return t
    cuts = y[np.concatenate([[True], ~tied])]
    out = t.copy()
    ok = np.isfinite(t)
    out[ok] = cuts[np.searchsorted(cuts, t[ok], side="right") - 1]
    return out


class _RiskSets:
    """Risk-set and tie structure of right-censored data sorted by time (ascending).

    K distinct event times; ``start[k]``: first sorted sample with time >= the k-th event time (its risk set is
    ``start[k]:``); ``dead``: sorted positions of the events, grouped by event time, ``group[k]`` the first of
    the k-th group and ``d[k]`` its size. Efron's approximation has one term per event: term j belongs to
    event time ``tk[j]`` and removes the fraction ``tf[j]`` = l / d (l = 0 .. d - 1) of the tied events' risk."""

    def __init__(self, time_sorted: np.ndarray, event_sorted: np.ndarray):
        t, e = time_sorted, event_sorted.astype(bool)
        self.n = t.size
        self.dead = np.flatnonzero(e)
        self.etimes, self.d = np.unique(t[self.dead], return_counts=True)
        self.start = np.searchsorted(t, self.etimes, side="left")
        self.group = np.concatenate([[0], np.cumsum(self.d)[:-1]]).astype(np.int64)
        self.tk = np.repeat(np.arange(self.etimes.size), self.d)
        self.tf = (np.arange(self.dead.size) - self.group[self.tk]) / self.d[self.tk]
        # number at risk at each event time (for the Kaplan-Meier transform of cox.zph)
        self.n_risk = self.n - self.start


def _rev_cumsum(a: np.ndarray, axis: int) -> np.ndarray:
    """Sums from each position to the end along ``axis`` (added from the end: no cancellation)."""
    return np.flip(np.cumsum(np.flip(a, axis=axis), axis=axis), axis=axis)


def _canonical_order(*keys: np.ndarray) -> np.ndarray:
    """Sample order by the first key (time), then the following ones: the same whatever the input order."""
    return np.lexsort(tuple(np.asarray(k) for k in reversed(keys)))


# ------------------------------------------------------------------------------------------ concordance
def concordance(time: np.ndarray, event: np.ndarray, risk: np.ndarray) -> float:
    """Harrell's C of ``risk`` (higher = shorter survival), as R ``survival::concordance`` with ``reverse=TRUE``
    and its default tie handling (what ``coxph`` stores in ``$concordance``).

    A pair is comparable when the sample with the shorter time had an event; a sample censored at the time of an
    event counts as the longer-lived one, two events at the same time are not compared (tied.y). C = (concordant
    + tied.x / 2) / (concordant + discordant + tied.x). Comparisons: events x samples boolean matrices, chunked
    over the events (O(n^2) time, O(chunk) memory). NA without a comparable pair."""
    t, e, r = (np.asarray(a, dtype=float) for a in (time, event, risk))
    ok = np.isfinite(t) & np.isfinite(e) & np.isfinite(r)
    t, e, r = t[ok], e[ok].astype(bool), r[ok]
    ev = np.flatnonzero(e)
    if ev.size == 0:
        return np.nan
    conc = disc = tied = 0
    step = max(1, CHUNK_ELEMENTS // max(t.size, 1))
    for s in range(0, ev.size, step):
        i = ev[s : s + step]
        ti, ri = t[i, None], r[i, None]
        comparable = (t[None, :] > ti) | ((t[None, :] == ti) & ~e[None, :])
        conc += int((comparable & (r[None, :] < ri)).sum())
        disc += int((comparable & (r[None, :] > ri)).sum())
        tied += int((comparable & (r[None, :] == ri)).sum())
    total = conc + disc + tied
    return (conc + tied / 2.0) / total if total else np.nan


# ------------------------------------------------------------------------------------------- cox.zph
def _efron_moments(rs: _RiskSets, x: np.ndarray, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Efron terms of a Cox model with covariates ``x`` (n x p, samples sorted by time) at ``beta``: the events'
    covariates (E x p, in term order), and per term the weighted mean (E x p) and covariance (E x p x p) of the
    covariates over its risk set, the tied events' risk reduced by the term's fraction. Score = xd.sum(0) -
    mean.sum(0), information = var.sum(0). Risk-set sums are reverse cumulative sums read at each event time's
    first sample; tied-event sums ``np.add.reduceat`` over the event groups."""
    eta = x @ beta
    w = np.exp(eta - eta.max())  # the constant cancels in every ratio
    s0 = _rev_cumsum(w, 0)[rs.start]
    s1 = _rev_cumsum(w[:, None] * x, 0)[rs.start]
    s2 = _rev_cumsum(w[:, None, None] * x[:, :, None] * x[:, None, :], 0)[rs.start]
    wd, xd = w[rs.dead], x[rs.dead]
    d0 = np.add.reduceat(wd, rs.group)
    d1 = np.add.reduceat(wd[:, None] * xd, rs.group, axis=0)
    d2 = np.add.reduceat(wd[:, None, None] * xd[:, :, None] * xd[:, None, :], rs.group, axis=0)
    k, f = rs.tk, rs.tf
    den = s0[k] - f * d0[k]
    mean = (s1[k] - f[:, None] * d1[k]) / den[:, None]
    var = (s2[k] - f[:, None, None] * d2[k]) / den[:, None, None] - mean[:, :, None] * mean[:, None, :]
    return xd, mean, var


def _km_gtime(rs: _RiskSets) -> np.ndarray:
    """g(t) of cox.zph(transform="km") at the distinct event times: 1 - S(t-) (left-continuous Kaplan-Meier of
    all samples), centred by its mean over the events (each event counted once)."""
    surv = np.cumprod(1.0 - rs.d / rs.n_risk)
    before = np.concatenate([[1.0], surv[:-1]])  # S(t-) at each event time
    g = 1.0 - before
    return g - np.sum(g * rs.d) / rs.d.sum()


def cox_zph(
    time: np.ndarray, event: np.ndarray, X, beta, terms: dict[str, Sequence[int]] | None = None
) -> pd.DataFrame:
    """Proportional-hazards test of a fitted Cox model, R survival >= 3.0 ``cox.zph(fit)`` (transform "km",
    terms=TRUE, global=TRUE, Efron ties).

    The score test, at the fitted ``beta``, of adding g(t) x X to the model (g = 1 - left-continuous Kaplan-Meier
    of all samples, centred over the events): the 2p score vector (its first p elements set to 0, the fit's own
    score) and the 2p x 2p information matrix are accumulated over the Efron terms of each event time as
    survival's C routine ``zph1`` does; each term's chi-square uses the first p rows and the term's time-
    interaction rows, with df = the term's columns; GLOBAL uses all 2p.

    ``X``: n x p covariates of the fit (array or DataFrame; complete, as in the model), ``beta``: p fitted
    coefficients, ``terms``: name -> column indices (default one term per column, named by the DataFrame's
    columns or x1..xp). Returns a table indexed by term names and ``GLOBAL`` with columns chisq, df, p."""
    names = list(X.columns.astype(str)) if isinstance(X, pd.DataFrame) else None
    x = np.asarray(X, dtype=float)
    t, e = _as_float(time, "time"), _as_float(event, "event")
    x = x.reshape(t.size, -1) if x.ndim == 1 else x
    b = np.atleast_1d(np.asarray(beta, dtype=float))
    n, p = x.shape
    if t.size != n or e.size != n or b.size != p:
        raise SeedsigError(
            f"cox_zph: time ({t.size}), event ({e.size}) and X ({n} x {p}) must describe the same samples, and beta "
            f"({b.size}) one value per column of X."
        )
    if terms is None:
        terms = {(names[j] if names else f"x{j + 1}"): [j] for j in range(p)}
    empty = pd.DataFrame(
        {"chisq": np.nan, "df": [len(v) for v in terms.values()] + [p], "p": np.nan}, index=[*terms, "GLOBAL"]
    )
    if (
        not (np.isfinite(t).all() and np.isfinite(e).all() and np.isfinite(x).all() and np.isfinite(b).all())
        or e.sum() == 0
    ):
        return empty
    _check_event(e)
    t = aeq_times(t)
    order = _canonical_order(t, e, *x.T)
    t, e, x = t[order], e[order], x[order]
    x = x - x.mean(axis=0)  # as zph1: recentred for a more stable variance
    rs = _RiskSets(t, e)
    xd, mean, var = _efron_moments(rs, x, b)
    k = rs.tk
    g = _km_gtime(rs)[k]  # g of each term's event time (each event's own)
    u2 = (g[:, None] * (xd - mean)).sum(axis=0)
    i11, i12, i22 = var.sum(axis=0), (g[:, None, None] * var).sum(axis=0), ((g * g)[:, None, None] * var).sum(axis=0)
    imat = np.block([[i11, i12], [i12.T, i22]])
    u = np.concatenate([np.zeros(p), u2])
    rows = []
    for name, cols in terms.items():
        jj = np.asarray(list(cols), dtype=np.int64)
        kk = np.concatenate([np.arange(p), jj + p])
        rows.append((name, *_chisq(imat[np.ix_(kk, kk)], u[kk], jj.size)))
    rows.append(("GLOBAL", *_chisq(imat, u, p)))
    return pd.DataFrame([r[1:] for r in rows], index=[r[0] for r in rows], columns=["chisq", "df", "p"])


def _chisq(imat: np.ndarray, u: np.ndarray, df: int) -> tuple[float, int, float]:
    try:
        stat = float(u @ np.linalg.solve(imat, u))
    except np.linalg.LinAlgError:
        return np.nan, df, np.nan
    if not np.isfinite(stat):
        return np.nan, df, np.nan
    return stat, df, float(stats.chi2.sf(stat, df))


# ------------------------------------------------------------------------------------ the Cox model
def _result(n: int, events: int, note: str = "", covariates: str = "") -> dict:
    return {
        "n": int(n),
        "events": int(events),
        "hr_per_sd": np.nan,
        "ci_low": np.nan,
        "ci_high": np.nan,
        "p": np.nan,
        "concordance": np.nan,
        "ph_p": np.nan,
        "ph_chisq": np.nan,
        "ph_global_p": np.nan,
        "ph_terms": {},
        "note": note,
        "beta": np.nan,
        "se": np.nan,
        "covariates": covariates,
    }


def _covariate_columns(covariates: pd.DataFrame, n: int) -> tuple[list[tuple[str, pd.Series, bool]], np.ndarray]:
    """(name, values, numeric) per covariate and the per-sample mask of non-missing values over all of them."""
    if not isinstance(covariates, pd.DataFrame):
        raise SeedsigError(
            f"covariates must be a table (pandas DataFrame) with one row per sample, not {type(covariates).__name__}."
        )
    if len(covariates) != n:
        raise SeedsigError(
            f"the covariate table has {len(covariates)} rows for {n} samples: give one row per sample, in the order of "
            "the scores."
        )
    if covariates.columns.duplicated().any():
        raise SeedsigError(
            "the covariate table has duplicated column names "
            f"({', '.join(map(str, covariates.columns[covariates.columns.duplicated()]))})."
        )
    cols, present = [], np.ones(n, dtype=bool)
    for name in covariates.columns:
        s = covariates[name].reset_index(drop=True)
        if isinstance(s.dtype, pd.CategoricalDtype):
            s = s.astype(object)
        numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
        if numeric:
            s = s.astype(float)
            present &= np.isfinite(s.to_numpy())
        else:
            s = s.map(lambda v: v if pd.isna(v) else str(v))
            present &= s.notna().to_numpy()
        cols.append((str(name), s, numeric))
    return cols, present


def _check_min_samples(min_samples) -> int:
    if isinstance(min_samples, bool) or not isinstance(min_samples, (int, np.integer)) or min_samples < 3:
        raise SeedsigError(
            f"survival.min_samples must be a whole number >= 3 (default {MIN_SAMPLES_COX}), not {min_samples!r}."
        )
    return int(min_samples)


def below_floor_note(n: int, min_samples: int, what: str = "a score and follow-up", outcome: str = "not fitted") -> str:
    """The note of a model or test left out for want of samples (the wording every survival table uses)."""
    return f"fewer than {min_samples} samples with {what} ({n}; survival.min_samples = {min_samples}): {outcome}"


def _covariate_without_values(base: np.ndarray, cov_cols: list) -> str:
    """The note of a covariate with no value among the samples with a score and follow-up ('' when none)."""
    for name, s, numeric in cov_cols:
        have = np.isfinite(s.to_numpy(dtype=float)) if numeric else s.notna().to_numpy()
        if base.any() and not (have & base).any():
            return (
                f"covariate '{name}' has no value among the {int(base.sum())} samples with a score and follow-up: "
                "adjusted model not fitted"
            )
    return ""


def _not_fittable(x: np.ndarray, e: np.ndarray, ok: np.ndarray, n_covariates: int, min_samples: int) -> str:
    """Why no model is fitted on the complete cases ``ok`` (too few samples, no events, a constant score), or ''."""
    n, events = int(ok.sum()), int(e[ok].sum())
    if n < min_samples:
        what = "a score and follow-up" + (" and every covariate" if n_covariates else "")
        return below_floor_note(n, min_samples, what)
    if events == 0:
        return f"no events among the {n} samples"
    sd = float(np.std(x[ok], ddof=1))
    if not np.isfinite(sd) or sd == 0 or x[ok].max() == x[ok].min():
        return "score is constant across samples"
    return ""


def _score_term(cov_cols: list) -> str:
    """The name of the score's term: ``score``, or ``score (the signature)`` when a covariate is called score."""
    return "score" if "score" not in (c[0] for c in cov_cols) else "score (the signature)"


def _design(x: np.ndarray, ok: np.ndarray, cov_cols: list) -> tuple[np.ndarray | None, dict[str, list[int]], str]:
    """The design over the complete cases: the score per SD, then the covariates (numeric, or dummies of every
    level but the first), the columns of each term, and ''; or (None, {}, why not) for a constant covariate, one
    with a single level, or collinear columns."""
    n = int(ok.sum())
    sd = float(np.std(x[ok], ddof=1))
    columns, terms = [x[ok] / sd], {_score_term(cov_cols): [0]}
    for name, s, numeric in cov_cols:
        v = s[ok]
        if numeric:
            vals = v.to_numpy(dtype=float)
            if vals.max() == vals.min():
                why = f"covariate '{name}' is constant ({vals[0]:g}) among the {n} samples: adjusted model not fitted"
                return None, {}, why
            terms[name] = [len(columns)]
            columns.append(vals)
        else:
            levels = sorted(v.unique())
            if len(levels) < 2:
                why = (
                    f"covariate '{name}' has one level ('{levels[0]}') among the {n} samples: adjusted model not fitted"
                )
                return None, {}, why
            terms[name] = list(range(len(columns), len(columns) + len(levels) - 1))
            columns.extend((v == lev).to_numpy(dtype=float) for lev in levels[1:])
    design = np.column_stack(columns)
    if design.shape[1] > 1 and np.linalg.matrix_rank(design - design.mean(axis=0)) < design.shape[1]:
        why = (
            "the score and covariates are collinear among the model samples (a covariate is a combination of the "
            "others): adjusted model not fitted"
        )
        return None, {}, why
    return design, terms, ""


def _phreg(
    tt: np.ndarray, ee: np.ndarray, design: np.ndarray, has_covariates: bool
) -> tuple[np.ndarray, np.ndarray, str]:
    """statsmodels PHReg (Efron ties): the coefficients and their SEs, or a note when the fit failed, did not
    converge or diverged (then the arrays are empty)."""
    from statsmodels.duration.hazard_regression import PHReg
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = PHReg(tt, design, status=ee, ties="efron").fit(disp=False)
            params, bse = np.asarray(fit.params, dtype=float), np.asarray(fit.bse, dtype=float)
        except (np.linalg.LinAlgError, ValueError, FloatingPointError) as exc:
            return np.empty(0), np.empty(0), f"fit failed: {exc}"
    not_converged = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    if (
        not_converged
        or not (np.isfinite(params).all() and np.isfinite(bse).all())
        or not (bse > 0).all()
        or _diverged(tt, ee, design, params)
    ):
        who = "the score or a covariate separates" if has_covariates else "the score separates"
        return (
            np.empty(0),
            np.empty(0),
            f"fit did not converge (a coefficient may be infinite: {who} the samples with events from the others)",
        )
    return params, bse, ""


def cox_model(x, time, event, covariates: pd.DataFrame | None = None, *, min_samples: int = MIN_SAMPLES_COX) -> dict:
    """Cox model (Efron ties, statsmodels ``PHReg``) of the score ``x`` per sample SD, alone or with covariates.

    ``x``, ``time``, ``event``: one value per sample (NA/text = missing; event 1 = event, 0 = censored);
    ``covariates``: samples x covariates in the same order (numeric columns as they are, others dummy-coded
    against their first sorted level). The model uses the complete cases over all of them; the score is divided
    by its SD (n - 1) over those samples. With fewer than ``min_samples`` complete cases (at least 3) nothing is
    fitted: NA with a note.

    Returns a dict: ``n``, ``events``, ``beta`` and ``se`` (log HR per SD), ``hr_per_sd``, ``ci_low``, ``ci_high``
    (95% Wald), ``p`` (Wald), ``concordance`` (:func:`concordance` of the linear predictor), ``ph_p``,
    ``ph_chisq`` (the score's term in :func:`cox_zph`), ``ph_global_p``, ``ph_terms`` (term -> (chisq, df, p);
    the score's term is ``score``, or ``score (the signature)`` when a covariate is called score), ``covariates``
    (';'-joined names, '' without) and ``note`` (why the values are NA, '' when they are not)."""
    min_samples = _check_min_samples(min_samples)
    x, t, e = _as_float(x, "x (the score)"), _as_float(time, "time"), _as_float(event, "event")
    if not (x.size == t.size == e.size):
        raise SeedsigError(
            f"score ({x.size}), time ({t.size}) and event ({e.size}) must have one value per sample each."
        )
    _check_event(e)
    ok = np.isfinite(x) & np.isfinite(t) & np.isfinite(e)
    cov_cols: list = []
    if covariates is not None:
        cov_cols, present = _covariate_columns(covariates, x.size)
        ok &= present
    cov_label = ";".join(c[0] for c in cov_cols)
    note = _covariate_without_values(np.isfinite(x) & np.isfinite(t) & np.isfinite(e), cov_cols)
    if note:
        return _result(0, 0, note, cov_label)
    n, events = int(ok.sum()), int(e[ok].sum())
    note = _not_fittable(x, e, ok, len(cov_cols), min_samples)
    if note:
        return _result(n, events, note, cov_label)
    design, terms, note = _design(x, ok, cov_cols)
    if design is None:
        return _result(n, events, note, cov_label)
    key = _score_term(cov_cols)
    tt, ee = aeq_times(t[ok]), e[ok]
    order = _canonical_order(tt, ee, *design.T)
    tt, ee, design = tt[order], ee[order], design[order]
    res = _result(n, events, "", cov_label)
    params, bse, note = _phreg(tt, ee, design, bool(cov_cols))
    if note:
        res["note"] = note
        return res
    beta, se = float(params[0]), float(bse[0])
    res.update(
        beta=beta,
        se=se,
        hr_per_sd=math.exp(beta),
        ci_low=math.exp(beta - Z975 * se),
        ci_high=math.exp(beta + Z975 * se),
        p=float(2.0 * stats.norm.sf(abs(beta / se))),
        concordance=concordance(tt, ee, design @ params),
    )
    zph = cox_zph(tt, ee, design, params, terms)
    res.update(
        ph_chisq=float(zph.loc[key, "chisq"]),
        ph_p=float(zph.loc[key, "p"]),
        ph_global_p=float(zph.loc["GLOBAL", "p"]),
        ph_terms={k: (float(r.chisq), int(r.df), float(r.p)) for k, r in zph.iterrows() if k != "GLOBAL"},
    )
    return res


def _diverged(time: np.ndarray, event: np.ndarray, design: np.ndarray, params: np.ndarray) -> bool:
    """R ``coxph``'s checks of a converged fit, at PHReg's coefficients: the information matrix must be finite and
    positive definite, and no coefficient may be flagged "may be infinite", i.e. have a next Newton step larger
    than 1e-9 and than sqrt(1e-9) x |beta| (the likelihood still rising towards an infinite coefficient, e.g.
    a score that separates the samples with events from the others; PHReg runs on until exp() overflows)."""
    rs = _RiskSets(time, event)
    x = design - design.mean(axis=0)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        xd, mean, var = _efron_moments(rs, x, params)
        u, imat = xd.sum(axis=0) - mean.sum(axis=0), var.sum(axis=0)
    if not (np.isfinite(u).all() and np.isfinite(imat).all()):
        return True
    try:
        np.linalg.cholesky(imat)
        step = np.abs(np.linalg.solve(imat, u))
    except np.linalg.LinAlgError:
        return True
    return bool(((step > EPS) & (step > TOLER_INF * np.abs(params))).any())


# ------------------------------------------------------------------------------------------ the table
MODEL_KEYS = ("n", "events", "hr_per_sd", "ci_low", "ci_high", "p", "note", "covariates", "concordance", "ph_p")


def _str_index(obj, what: str):
    obj = obj.copy()
    obj.index = obj.index.astype(str)
    if obj.index.duplicated().any():
        raise SeedsigError(
            f"the {what} has duplicated sample ids (e.g. '{obj.index[obj.index.duplicated()][0]}'): give one row per "
            "sample."
        )
    return obj


def cox_table(
    scores: dict[str, pd.DataFrame],
    time: pd.Series,
    event: pd.Series,
    endpoint: str,
    *,
    signatures: Sequence[str] | None = None,
    covariates: pd.DataFrame | None = None,
    min_samples: int = MIN_SAMPLES_COX,
) -> pd.DataFrame:
    """Cox models of every score on one endpoint: :data:`SURVIVAL_COLUMNS`, for each method (in the order of
    ``scores``) and signature (``signatures`` in the order given, default the score table's columns), a
    ``univariate`` row and, when ``covariates`` has a column, an ``adjusted`` row (:func:`cox_model`).

    ``scores``: method -> samples x signatures; ``time``, ``event``, ``covariates``: indexed by sample id, aligned
    on each score table's samples (samples they lack, and values that are not numbers, are missing). A signature
    absent from a table, or without any score, gives NA rows noting it. ``p_random_null`` is left NA. Models with
    fewer than ``min_samples`` complete cases are not fitted (NA, a note)."""
    min_samples = _check_min_samples(min_samples)
    time = _str_index(pd.Series(time), "time series")
    event = _str_index(pd.Series(event), "event series")
    cov = None
    if covariates is not None and covariates.shape[1] > 0:
        cov = _str_index(covariates, "covariate table")
    rows = []
    for method, table in scores.items():
        table = _str_index(table, f"{method} score table")
        if cov is not None and not cov.index.isin(table.index).any():
            raise SeedsigError(
                f"the covariate table shares no sample id with the {method} scores (e.g. '{cov.index[0]}' vs "
                f"'{table.index[0]}'): its index must hold the sample ids."
            )
        for what, ser in (("time", time), ("event", event)):
            if len(table) and not ser.index.isin(table.index).any():
                raise SeedsigError(
                    f"the {what} values share no sample id with the {method} scores (e.g. "
                    f"'{ser.index[0] if len(ser) else ''}' vs '{table.index[0]}'): index them by sample id."
                )
        t = pd.to_numeric(time.reindex(table.index), errors="coerce").to_numpy(dtype=float)
        ev = pd.to_numeric(event.reindex(table.index), errors="coerce").to_numpy(dtype=float)
        c = None if cov is None else cov.reindex(table.index)
        cov_label = "" if c is None else ";".join(map(str, c.columns))
        for sig in list(signatures) if signatures is not None else list(table.columns):
            keys = {"method": method, "signature": sig, "endpoint": endpoint}
            x = table[sig].to_numpy(dtype=float) if sig in table.columns else np.full(len(table), np.nan)
            models = [("univariate", None)] + ([("adjusted", c)] if c is not None else [])
            for model, cv in models:
                if not np.isfinite(x).any():
                    res = _result(0, 0, NOT_AVAILABLE, cov_label if cv is not None else "")
                else:
                    res = cox_model(x, t, ev, cv, min_samples=min_samples)
                rows.append({**keys, **{k: res[k] for k in MODEL_KEYS}, "model": model, "p_random_null": np.nan})
    out = pd.DataFrame(rows, columns=list(SURVIVAL_COLUMNS))
    for col in ("n", "events"):
        out[col] = out[col].astype(int)
    for col in ("hr_per_sd", "ci_low", "ci_high", "p", "concordance", "ph_p", "p_random_null"):
        out[col] = out[col].astype(float)
    return out
