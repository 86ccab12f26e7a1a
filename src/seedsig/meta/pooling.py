"""Meta-analysis across cohorts: pooled correlations and hazard ratios, and forest plots.

Each cohort is scored and analysed on its own; only the per-cohort effect estimates are pooled, never raw
scores (cohorts differ in platform, normalization and score scale). Effects are pooled on a scale where
they are roughly normal, and the results are given back on the natural scale:

* correlations (:func:`pool_correlations`): Fisher z = atanh(r) with variance 1 / (n - 3) for Pearson and
  1.06 / (n - 3) for Spearman (Fieller, Hartley & Pearson 1957, *Biometrika* 44:470, the variance of
  atanh of Spearman's r for moderate |r|); the pooled z and its interval go back to r with tanh.
* hazard ratios (:func:`pool_hazard_ratios`): log HR with se = (log ci_high - log ci_low) / (2 z_0.975) from
  the cohort's 95% Wald interval (z_0.975 = 1.959963984540054); pooled log HR and its interval go back
  with exp.

:func:`pool` does the pooling of k estimates y_i with variances v_i, three ways (``pooling``):

``random_dl``
    random effects, DerSimonian-Laird tau^2 = max(0, (Q - (k - 1)) / (sum w - sum w^2 / sum w)), w = 1 / v.
``random_pm``
    random effects, Paule-Mandel tau^2: the root of sum (y_i - mu)^2 / (v_i + tau^2) = k - 1 (0 when
    Q <= k - 1).
``fixed``
    fixed (common) effect, inverse-variance weights 1 / v_i. Its ``tau2`` is 0, the model's assumption.

Random-effects estimates use weights 1 / (v_i + tau^2). Estimates come from statsmodels
``statsmodels.stats.meta_analysis.combine_effects`` (``method_re="dl"`` / ``"pm"``; the fixed effect from
the same call), with two corrections so that every number matches R ``metafor::rma(yi, vi, method = "DL" /
"PM" / "FE")``:

* statsmodels' DL tau^2 is not truncated at 0: with Q < k - 1 it is negative and the "random-effects"
  estimate moves away from the fixed one (by 0.017 on the homogeneous golden). We use tau^2 = 0, i.e. the
  fixed-effect numbers, as metafor does.
* its Paule-Mandel iteration stops at |Q_gen - (k - 1)| < 1e-5, which leaves tau^2 off by up to 2e-6
  relative (the k = 2 golden). We iterate to 1e-10 (k - 1), check the estimating equation, and fall back to a
  bracketing root (``scipy.optimize.brentq``) if the iteration did not get there.

Agreement with metafor 3.8-1 is tested to 1e-9 relative (tests/golden/meta; measured: tau2 within 4e-12
relative, everything else within 6e-11 absolute). metafor's own PM default (``uniroot`` tol = 1.2e-4) is
looser: its default tau^2 differs from the converged root by up to 2e-4 relative, so the goldens use a
converged ``uniroot``. I^2 follows metafor (percent, see below); statsmodels' ``i2`` is a fraction and not
truncated at 0.

Columns of every pooled row:

``k``, ``cohorts``
    studies pooled; the cohorts' names, sorted, ';'-joined (table functions).
``estimate``, ``ci_low``, ``ci_high``, ``p``
    pooled estimate, 95% interval estimate -/+ z_0.975 se (normal, as metafor's default ``test = "z"``), and
    the two-sided z-test p of estimate = 0 (r = 0, HR = 1). Back-transformed in the table functions.
``tau2``
    between-cohort variance on the pooling scale (Fisher z or log HR); 0 for ``fixed``.
``i2``
    I^2 **in percent (0-100)**, as metafor: for ``fixed`` max(0, 100 (Q - (k - 1)) / Q); for the random
    rows 100 tau^2 / (tau^2 + v~) with the typical within-study variance v~ = (k - 1) / (sum w - sum w^2 /
    sum w). For DL both are the same number; for PM it follows the PM tau^2.
``q``, ``q_p``
    Cochran's Q = sum w (y - y_fixed)^2 (w = 1 / v) and its chi-square p on k - 1 df (the same on the three
    rows).
``note``
    why something is NA, and which cohort rows were left out of the pool and why.

Data conditions never raise: with k = 1 the ``fixed`` row is that cohort's own estimate and interval
(note "one cohort: its own estimate, nothing pooled"), and the random rows, tau2, i2, q and q_p are NA
(note "one cohort: nothing to pool"); with k = 0 :func:`pool` returns no rows and the table functions give
the three rows with NA values and the reason. Cohort rows with an NA estimate, too few samples (n < 4), a
correlation of exactly +-1 or a hazard-ratio interval of zero width are left out and named in the note.
Mistakes in the input (missing columns, unknown statistic, |r| > 1, a cohort twice for one key, text where a
number belongs) raise :class:`~seedsig.core.errors.SeedsigError`.

:func:`forest_figure` draws one key: a row per cohort and the pooled DL and fixed-effect diamonds.

Results do not depend on the input row order: studies are sorted before pooling (so the sums are the same
to the last bit) and output rows are sorted by their keys, then by pooling in the order of
:data:`POOLINGS`.
"""

from __future__ import annotations

import math
import warnings
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import optimize, special

from seedsig.core.errors import SeedsigError
from seedsig.core.plotting import OKABE_ITO

Z975 = 1.959963984540054  # qnorm(0.975)
POOLINGS = ("random_dl", "random_pm", "fixed")
POOL_FIELDS = ("pooling", "k", "estimate", "se", "ci_low", "ci_high", "p", "tau2", "i2", "q", "q_p", "note")
STAT_COLUMNS = ("pooling", "k", "cohorts", "estimate", "ci_low", "ci_high", "p", "tau2", "i2", "q", "q_p", "note")
CORRELATION_KEYS = ("method", "signature_a", "signature_b", "statistic")
SURVIVAL_KEYS = ("method", "signature", "endpoint", "model")
META_CORRELATION_COLUMNS = (*CORRELATION_KEYS, *STAT_COLUMNS)
META_SURVIVAL_COLUMNS = (*SURVIVAL_KEYS, *STAT_COLUMNS)
SPEARMAN_VARIANCE_FACTOR = 1.06  # Fieller, Hartley & Pearson (1957): var(atanh r_s) ~ 1.06 / (n - 3)
PM_RTOL = 1e-10  # Paule-Mandel: |Q_gen(tau2) - (k - 1)| <= PM_RTOL * (k - 1)
ONE_FIXED = "one cohort: its own estimate, nothing pooled"
ONE_RANDOM = "one cohort: nothing to pool"
NONE_LEFT = "no cohort with an estimate: nothing to pool"


# ---------------------------------------------------------------------------------------------- pooling
def _z_p(est: float, se: float) -> tuple[float, float, float]:
    """95% normal interval and two-sided p of est / se."""
    return est - Z975 * se, est + Z975 * se, float(2.0 * special.ndtr(-abs(est / se)))


def _row(
    pooling: str,
    k: int,
    est: float = math.nan,
    se: float = math.nan,
    tau2: float = math.nan,
    i2: float = math.nan,
    q: float = math.nan,
    q_p: float = math.nan,
    note: str = "",
) -> dict:
    lo, hi, p = _z_p(est, se) if np.isfinite(est) and np.isfinite(se) and se > 0 else (math.nan, math.nan, math.nan)
    return dict(
        pooling=pooling,
        k=k,
        estimate=float(est),
        se=float(se),
        ci_low=float(lo),
        ci_high=float(hi),
        p=p,
        tau2=float(tau2),
        i2=float(i2),
        q=float(q),
        q_p=float(q_p),
        note=note,
    )


def _q_gen(y: np.ndarray, v: np.ndarray, tau2: float) -> float:
    """Generalized Q: sum w (y - mu_w)^2 with w = 1 / (v + tau2)."""
    w = 1.0 / (v + tau2)
    mu = float(w @ y / w.sum())
    return float(w @ (y - mu) ** 2)


def _pm_tau2_brentq(y: np.ndarray, v: np.ndarray) -> float:
    """Paule-Mandel tau2 by bracketing: the root of Q_gen(tau2) = k - 1 (0 if Q_gen(0) <= k - 1)."""
    df = len(y) - 1
    if _q_gen(y, v, 0.0) <= df:
        return 0.0
    hi = max(float(np.var(y)), float(v.max()), 1e-12)
    while _q_gen(y, v, hi) > df:  # Q_gen -> 0 as tau2 -> inf, so this ends
        hi *= 2.0
    return float(
        optimize.brentq(
            lambda t: _q_gen(y, v, t) - df, 0.0, hi, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=1000
        )
    )


def _re_summary(y: np.ndarray, v: np.ndarray, tau2: float) -> tuple[float, float]:
    """Random-effects estimate and se for a given tau2 (weights 1 / (v + tau2))."""
    w = 1.0 / (v + tau2)
    return float(w @ y / w.sum()), float(math.sqrt(1.0 / w.sum()))


def _combine(y: np.ndarray, v: np.ndarray, method_re: str):
    from statsmodels.stats.meta_analysis import combine_effects

    kw = {"atol": PM_RTOL * (len(y) - 1), "maxiter": 1000} if method_re == "pm" else {}
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # HKSJ sqrt of a negative DL variance, 1 / Q with Q = 0
        return combine_effects(y, v, method_re=method_re, use_t=False, **kw)


def _as_float(x, name: str) -> np.ndarray:
    """A float array of ``x`` (NA, None and pd.NA become NaN); text raises SeedsigError."""
    try:
        return np.array(x, dtype=np.float64)
    except (TypeError, ValueError):
        pass
    try:
        return pd.to_numeric(pd.Series(list(x), dtype=object), errors="raise").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
    except (TypeError, ValueError) as exc:
        raise SeedsigError(f"pool(): {name} must be numbers (NA allowed): {exc}.") from None


def pool(effects: Sequence[float] | np.ndarray, variances: Sequence[float] | np.ndarray) -> list[dict]:
    """Pool k effect estimates with their sampling variances: one dict per pooling in :data:`POOLINGS`
    (random_dl, random_pm, fixed), keys :data:`POOL_FIELDS` (``se`` is the pooled estimate's standard error;
    everything on the scale of ``effects``; ``i2`` in percent). See the module docstring for the methods.

    Studies with a non-finite effect or variance, or a variance <= 0, are left out (said in ``note``);
    k = 0 left gives an empty list, k = 1 the single study as ``fixed`` and NA random rows."""
    y, v = _as_float(effects, "effects"), _as_float(variances, "variances")
    if y.ndim != 1 or v.ndim != 1 or y.shape != v.shape:
        raise SeedsigError(
            "pool(): effects and variances must be two 1-D sequences of the same length"
            f" (got shapes {y.shape} and {v.shape})."
        )
    ok = np.isfinite(y) & np.isfinite(v) & (v > 0)
    dropped = int((~ok).sum())
    y, v = y[ok], v[ok]
    order = np.lexsort((v, y))  # the sums in a fixed order: bit-identical results for any input order
    y, v = y[order], v[order]
    k = len(y)
    base = (
        f"{dropped} stud{'y' if dropped == 1 else 'ies'} left out (effect or variance not finite, or variance <= 0)"
        if dropped
        else ""
    )
    join = lambda *s: "; ".join(x for x in s if x)  # noqa: E731
    if k == 0:
        return []
    if k == 1:
        return [
            _row("random_dl", 1, note=join(base, ONE_RANDOM)),
            _row("random_pm", 1, note=join(base, ONE_RANDOM)),
            _row("fixed", 1, y[0], math.sqrt(v[0]), note=join(base, ONE_FIXED)),
        ]

    df = k - 1
    dl = _combine(y, v, "dl")
    q = max(float(dl.q), 0.0)
    q_p = float(special.chdtrc(df, q))
    w = 1.0 / v
    vt = df / (w.sum() - (w @ w) / w.sum())  # metafor's typical within-study variance (i2def "1")
    i2_fixed = max(0.0, 100.0 * (q - df) / q) if q > 0 else 0.0
    fixed = _row("fixed", k, float(dl.mean_effect_fe), float(dl.sd_eff_w_fe), 0.0, i2_fixed, q, q_p, base)

    if dl.tau2 > 0:
        tau2_dl, est_dl, se_dl = float(dl.tau2), float(dl.mean_effect_re), float(dl.sd_eff_w_re)
    else:  # truncated at 0 (statsmodels leaves it negative): the fixed-effect numbers
        tau2_dl, est_dl, se_dl = 0.0, float(dl.mean_effect_fe), float(dl.sd_eff_w_fe)
    random_dl = _row("random_dl", k, est_dl, se_dl, tau2_dl, 100.0 * tau2_dl / (vt + tau2_dl), q, q_p, base)

    pm = _combine(y, v, "pm")
    tau2_pm = float(pm.tau2)
    ee = _q_gen(y, v, tau2_pm) - df
    if (tau2_pm > 0 and abs(ee) <= 1e3 * PM_RTOL * df) or (tau2_pm == 0 and ee <= 1e3 * PM_RTOL * df):
        est_pm, se_pm = float(pm.mean_effect_re), float(pm.sd_eff_w_re)
    else:  # the iteration did not reach the root: bracket it
        tau2_pm = _pm_tau2_brentq(y, v)
        est_pm, se_pm = _re_summary(y, v, tau2_pm)
    random_pm = _row("random_pm", k, est_pm, se_pm, tau2_pm, 100.0 * tau2_pm / (vt + tau2_pm), q, q_p, base)
    return [random_dl, random_pm, fixed]


# ------------------------------------------------------------------------------------------ table input
def _check_columns(table: pd.DataFrame, needed: Sequence[str], what: str) -> None:
    if not isinstance(table, pd.DataFrame):
        raise SeedsigError(f"{what}: expected a table (pandas DataFrame), got {type(table).__name__}.")
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise SeedsigError(
            f"{what}: the table has no column(s) {', '.join(repr(c) for c in missing)}; it needs {', '.join(needed)}."
        )


def _numeric(table: pd.DataFrame, col: str, what: str) -> np.ndarray:
    raw = table[col]
    val = pd.to_numeric(raw, errors="coerce")
    bad = val.isna() & raw.notna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise SeedsigError(
            f"{what}: column '{col}' has the non-numeric value {raw.iloc[i]!r} (cohort {table['cohort'].iloc[i]!r});"
            " give a number, or NA when unknown."
        )
    return val.to_numpy(dtype=np.float64)


def _keys_and_cohorts(
    table: pd.DataFrame, keys: Sequence[str], what: str, lower: Sequence[str] = (), allowed: dict | None = None
) -> pd.DataFrame:
    """The key columns and cohort as text (``lower`` ones lower-cased and checked against ``allowed``); every
    row must have them all, and a cohort may appear once per key."""
    t = table.loc[:, [*keys, "cohort"]]
    na = t.isna().any(axis=1)
    if na.any():
        i = int(np.flatnonzero(na.to_numpy())[0])
        raise SeedsigError(
            f"{what}: row {i + 1} has no value in {', '.join(c for c in t.columns if pd.isna(t.iloc[i][c]))};"
            f" every row needs {', '.join([*keys, 'cohort'])}."
        )
    t = t.astype(str)
    for c in lower:
        t[c] = t[c].str.lower()
        unknown = sorted(set(t[c]) - set((allowed or {}).get(c, set(t[c]))))
        if unknown:
            raise SeedsigError(
                f"{what}: unknown {c}(s) {', '.join(map(repr, unknown))} in column '{c}';"
                f" use {' or '.join(repr(x) for x in sorted(allowed[c]))}."
            )
    dup = t.duplicated()
    if dup.any():
        r = t[dup].iloc[0]
        raise SeedsigError(
            f"{what}: cohort '{r['cohort']}' appears more than once for {', '.join(f'{c}={r[c]}' for c in keys)};"
            " each cohort gives one estimate per key (did two cohorts get the same name?)."
        )
    return t


def _pool_table(
    keyed: pd.DataFrame, keys: Sequence[str], y: np.ndarray, v: np.ndarray, reason: np.ndarray, back
) -> pd.DataFrame:
    """Pool per key: ``keyed`` holds the key columns and cohort (str), ``y``/``v`` the pooling-scale estimate and
    variance per row, ``reason`` '' for usable rows or why the row is left out; ``back`` maps estimates and
    interval bounds back to the natural scale."""
    columns = [*keys, *STAT_COLUMNS]
    if not len(keyed):
        return pd.DataFrame(columns=columns)
    d = keyed.assign(_y=y, _v=v, _why=reason).sort_values([*keys, "cohort"], kind="mergesort")
    out = []
    for key, g in d.groupby(list(keys), sort=True):
        use = g["_why"].to_numpy() == ""
        skipped = ", ".join(f"{c} ({w})" for c, w in zip(g["cohort"][~use], g["_why"][~use]))
        skip_note = f"left out: {skipped}" if skipped else ""
        cohorts = ";".join(g["cohort"][use])
        rows = pool(g["_y"].to_numpy()[use], g["_v"].to_numpy()[use])
        if not rows:
            rows = [_row(p, 0, note=NONE_LEFT) for p in POOLINGS]
        for r in rows:
            note = "; ".join(x for x in (skip_note, r["note"]) if x)
            out.append(
                {
                    **dict(zip(keys, key)),
                    "pooling": r["pooling"],
                    "k": r["k"],
                    "cohorts": cohorts,
                    "estimate": back(r["estimate"]),
                    "ci_low": back(r["ci_low"]),
                    "ci_high": back(r["ci_high"]),
                    "p": r["p"],
                    "tau2": r["tau2"],
                    "i2": r["i2"],
                    "q": r["q"],
                    "q_p": r["q_p"],
                    "note": note,
                }
            )
    res = pd.DataFrame(out, columns=columns)
    res["_o"] = res["pooling"].map({p: i for i, p in enumerate(POOLINGS)})
    res = res.sort_values([*keys, "_o"], kind="mergesort").drop(columns="_o").reset_index(drop=True)
    res["k"] = res["k"].astype(int)
    return res


def pool_correlations(table: pd.DataFrame) -> pd.DataFrame:
    """Pool per-cohort correlations across cohorts on Fisher's z, per (method, signature_a, signature_b, statistic).

    ``table``: one row per cohort and key with columns cohort, method, signature_a, signature_b, statistic
    (``spearman`` / ``pearson``), r, n (the per-cohort correlation tables with a ``cohort`` column; other
    columns are ignored). Returns :data:`META_CORRELATION_COLUMNS`: the keys, then pooling (random_dl,
    random_pm, fixed), k, cohorts, estimate, ci_low, ci_high (r scale, tanh of the pooled z), p, tau2 (z
    scale), i2 (percent), q, q_p, note. Rows with NA r, NA n or n < 4, or r = +-1, are left out and named in
    the note."""
    what = "pooling correlations across cohorts"
    _check_columns(table, ["cohort", *CORRELATION_KEYS, "r", "n"], what)
    keyed = _keys_and_cohorts(
        table, CORRELATION_KEYS, what, lower=("statistic",), allowed={"statistic": {"spearman", "pearson"}}
    )
    stat = keyed["statistic"]
    r = _numeric(table, "r", what)
    n = _numeric(table, "n", what)
    if np.any(np.abs(r) > 1):
        i = int(np.flatnonzero(np.abs(r) > 1)[0])
        raise SeedsigError(
            f"{what}: r = {r[i]} for cohort '{keyed['cohort'].iloc[i]}' is outside [-1, 1];"
            " is column 'r' a correlation?"
        )
    reason = np.full(len(r), "", dtype=object)
    reason[np.abs(r) == 1] = "r = +-1, no sampling variance"
    reason[~(n >= 4)] = "n < 4"
    reason[np.isnan(n)] = "n is NA"
    reason[np.isnan(r)] = "r is NA"
    use = reason == ""
    with np.errstate(all="ignore"):
        z = np.where(use, np.arctanh(np.where(use, r, 0.0)), np.nan)
        var = np.where(use, np.where(stat.to_numpy() == "spearman", SPEARMAN_VARIANCE_FACTOR, 1.0) / (n - 3.0), np.nan)
    return _pool_table(keyed, CORRELATION_KEYS, z, var, reason, lambda x: float(np.tanh(x)))


def pool_hazard_ratios(table: pd.DataFrame) -> pd.DataFrame:
    """Pool per-cohort hazard ratios across cohorts on the log scale, per (method, signature, endpoint, model).

    ``table``: one row per cohort and key with columns cohort, method, signature, endpoint, model, hr_per_sd,
    ci_low, ci_high (95% Wald interval; other columns are ignored). log HR is pooled with variance
    ((log ci_high - log ci_low) / (2 z_0.975))^2. Returns :data:`META_SURVIVAL_COLUMNS`: the keys, then
    pooling, k, cohorts, estimate, ci_low, ci_high (HR scale, exp of the pooled log HR), p, tau2 (log-HR
    scale), i2 (percent), q, q_p, note. Rows with an NA or non-positive HR or bound, or an interval of zero
    width, are left out and named in the note. Adjusted models are pooled as given: check that the cohorts
    adjusted for the same covariates."""
    what = "pooling hazard ratios across cohorts"
    _check_columns(table, ["cohort", *SURVIVAL_KEYS, "hr_per_sd", "ci_low", "ci_high"], what)
    keyed = _keys_and_cohorts(table, SURVIVAL_KEYS, what)
    hr, lo, hi = (_numeric(table, c, what) for c in ("hr_per_sd", "ci_low", "ci_high"))
    reason = np.full(len(hr), "", dtype=object)
    with np.errstate(all="ignore"):
        reason[~(hi > lo)] = "interval of zero width"
        reason[~((hr > 0) & (lo > 0) & (hi > 0) & np.isfinite(hi))] = "HR or interval not positive and finite"
        reason[np.isnan(lo) | np.isnan(hi)] = "interval is NA"
        reason[np.isnan(hr)] = "HR is NA"
        use = reason == ""
        y = np.where(use, np.log(hr), np.nan)
        var = np.where(use, ((np.log(hi) - np.log(lo)) / (2.0 * Z975)) ** 2, np.nan)
    return _pool_table(keyed, SURVIVAL_KEYS, y, var, reason, lambda x: float(np.exp(x)))


# ------------------------------------------------------------------------------------------ forest plot
def _ci_text(est: float, lo: float, hi: float) -> str:
    if not np.isfinite(est):
        return "NA"
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return f"{est:.2f}"
    return f"{est:.2f} [{lo:.2f}, {hi:.2f}]"


def _per_cohort(rows: pd.DataFrame, scale: str) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-cohort rows sorted by cohort, with estimate, interval and pooling-scale variance arrays."""
    per = rows.assign(cohort=rows["cohort"].astype(str)).sort_values("cohort", kind="mergesort").reset_index(drop=True)
    num = lambda c: (
        pd.to_numeric(per[c], errors="coerce").to_numpy(dtype=np.float64) if c in per else np.full(len(per), np.nan)
    )  # noqa: E731
    est, lo, hi = num("estimate"), num("ci_low"), num("ci_high")
    with np.errstate(all="ignore"):
        if scale == "r" and "n" in per:
            n = num("n")
            spear = (
                per["statistic"].astype(str).str.lower().to_numpy() == "spearman"
                if "statistic" in per
                else np.zeros(len(per), bool)
            )
            var = np.where(spear, SPEARMAN_VARIANCE_FACTOR, 1.0) / (n - 3.0)
            var[~(n >= 4)] = np.nan
            z, se = np.arctanh(est), np.sqrt(var)
            lo = np.where(np.isfinite(lo), lo, np.tanh(z - Z975 * se))
            hi = np.where(np.isfinite(hi), hi, np.tanh(z + Z975 * se))
        elif scale == "r":
            var = ((np.arctanh(hi) - np.arctanh(lo)) / (2 * Z975)) ** 2
        else:
            var = ((np.log(hi) - np.log(lo)) / (2 * Z975)) ** 2
    return per, est, lo, hi, var


def _num(r: dict, c: str) -> float:
    """A value of a pooled row as a float (NaN when missing or not numeric)."""
    return float(pd.to_numeric(pd.Series([r.get(c)]), errors="coerce").iloc[0])


def _forest_weights(est: np.ndarray, var: np.ndarray, dl: dict) -> tuple[float, np.ndarray]:
    """(tau2 of the DL pool, each cohort's random-effects weight 1 / (v + tau2) in percent of their sum)."""
    tau2 = _num(dl, "tau2") if dl else math.nan
    with np.errstate(all="ignore"):
        w = 1.0 / (var + (tau2 if np.isfinite(tau2) else 0.0))
    w[~(np.isfinite(w) & np.isfinite(est) & (w > 0))] = np.nan
    wpct = 100.0 * w / np.nansum(w) if np.isfinite(w).any() else w
    return tau2, wpct


def _forest_cohort_rows(ax, axt, axw, ypos, est, lo, hi, wpct) -> None:
    """One row per cohort: its interval as a line, a square sized by its weight, the estimate text and weight."""
    size = 10.0 + 110.0 * np.nan_to_num(wpct) / 100.0
    for i in range(len(est)):
        y = ypos[i]
        if np.isfinite(lo[i]) and np.isfinite(hi[i]):
            ax.plot([lo[i], hi[i]], [y, y], color=OKABE_ITO[0], lw=1.0, solid_capstyle="butt")
        if np.isfinite(est[i]):
            ax.scatter([est[i]], [y], s=size[i], marker="s", color=OKABE_ITO[0], zorder=3, linewidths=0)
        axt.text(0.0, y, _ci_text(est[i], lo[i], hi[i]), va="center", ha="left", fontsize=6.5)
        axw.text(1.0, y, f"{wpct[i]:.0f}%" if np.isfinite(wpct[i]) else "", va="center", ha="right", fontsize=6.5)


def _forest_diamonds(ax, axt, ypos, pr: dict, diamonds: list, labels: list) -> None:
    """A diamond (and its estimate text) per pooled row below the cohorts; their labels appended to ``labels``."""
    from matplotlib.patches import Polygon

    first = len(ypos) - len(diamonds)
    for j, (p, lab, col) in enumerate(diamonds):
        y = ypos[first + j]
        e, a, b = _num(pr[p], "estimate"), _num(pr[p], "ci_low"), _num(pr[p], "ci_high")
        labels.append(lab)
        if np.isfinite(e) and np.isfinite(a) and np.isfinite(b):
            ax.add_patch(
                Polygon(
                    [(a, y), (e, y + 0.32), (b, y), (e, y - 0.32)], closed=True, facecolor=col, edgecolor=col, zorder=3
                )
            )
        axt.text(0.0, y, _ci_text(e, a, b), va="center", ha="left", fontsize=6.5, fontweight="bold")


def _forest_frame(ax, axt, axw, ypos, labels: list, n_per: int, n_diamonds: int, scale: str) -> None:
    """Column heads, the line between cohorts and pooled rows, the reference line and the y axis."""
    n_rows = len(ypos)
    head = "r [95% CI]" if scale == "r" else "HR [95% CI]"
    axt.text(0.0, n_rows + 0.75, head, va="center", ha="left", fontsize=6.5, fontstyle="italic")
    axw.text(1.0, n_rows + 0.75, "weight", va="center", ha="right", fontsize=6.5, fontstyle="italic")
    for a_ in (axt, axw):
        a_.set_xlim(0.0, 1.0)
        a_.axis("off")
    if n_per and n_diamonds:
        ax.axhline(ypos[n_per - 1] - 0.5, color=OKABE_ITO[7], lw=0.5)
    ax.axvline(0.0 if scale == "r" else 1.0, color=OKABE_ITO[7], lw=0.7, ls="--", zorder=1)
    ax.set_yticks(ypos, labels, fontsize=7)
    ax.set_ylim(0.4, n_rows + 1.1)
    ax.tick_params(axis="x", labelsize=7)
    ax.spines[["top", "right"]].set_visible(False)


def _forest_x_axis(ax, ends: np.ndarray, scale: str) -> None:
    """The x axis over every interval end: log scale with round ticks for HR, within [-1, 1] for r."""
    from matplotlib.ticker import FixedLocator, NullFormatter, StrMethodFormatter

    ends = ends[np.isfinite(ends)]
    if scale == "hr":
        ends = ends[ends > 0]
        ax.set_xscale("log")
        a, b = (min(ends.min(), 1.0), max(ends.max(), 1.0)) if ends.size else (0.5, 2.0)
        a, b = a / 1.08, b * 1.08
        ax.set_xlim(a, b)
        nice = np.array([0.1, 0.2, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 10.0, 20.0])
        ticks = nice[(nice >= a) & (nice <= b)]
        if ticks.size > 5:
            ticks = ticks[np.isin(ticks, [0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 10.0, 20.0])]
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_major_formatter(StrMethodFormatter("{x:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("Hazard ratio per SD (log scale)", fontsize=7.5)
    else:
        a, b = (min(ends.min(), 0.0), max(ends.max(), 0.0)) if ends.size else (-1.0, 1.0)
        pad = 0.05 * (b - a if b > a else 1.0)
        ax.set_xlim(max(-1.0, a - pad), min(1.0, b + pad))
        ax.set_xlabel("Correlation r", fontsize=7.5)


def _forest_caption(dl: dict, tau2: float, scale: str) -> str:
    """The text below the plot: I², tau² and Q of the DL pool (or why there is no pooled estimate), the key."""
    if dl and np.isfinite(_num(dl, "estimate")):
        cap = (
            f"Random effects (DerSimonian-Laird), k = {int(_num(dl, 'k'))}:\nI\u00b2 = {_num(dl, 'i2'):.0f}%,"
            f" \u03c4\u00b2 = {tau2:.3g}, Q = {_num(dl, 'q'):.2f} (p = {_num(dl, 'q_p'):.2g})"
        )
    elif dl:
        cap = str(dl.get("note", "")) or "no pooled estimate"
    else:
        cap = "no pooled estimate"
    cap += "\nBars: 95% CI; squares sized by random-effects weight;\n\u03c4\u00b2 on the " + (
        "Fisher z scale" if scale == "r" else "log-HR scale"
    )
    return cap


def forest_figure(rows: pd.DataFrame, pooled: pd.DataFrame, *, scale: str = "r", title: str = ""):
    """Forest plot of one key: a row per cohort (square sized by its random-effects weight, 95% interval as a
    line) and diamonds for the pooled random-effects (DerSimonian-Laird) and fixed-effect estimates.

    ``rows``: per-cohort estimates with columns cohort, estimate, and ci_low / ci_high when available (r or HR
    scale). For ``scale="r"`` a column n (with statistic) gives the Fisher-z variance used in pooling (and the
    Fisher interval where ci_low / ci_high are missing), else the variance comes from the interval; for
    ``scale="hr"`` it comes from the (Wald) interval on the log scale. Weights are 1 / (v + tau2_DL), in
    percent of their sum. ``pooled``: the pooled rows of that key (as from :func:`pool_correlations` /
    :func:`pool_hazard_ratios`). The reference line is at 0 (r) or 1 (HR, log x-axis); a text column gives
    each row's estimate [95% CI] and weight; I^2, tau^2 and Q of the DL pool are in the caption. Returns a
    matplotlib Figure built without pyplot (headless, nothing shown or written), 3.5 inches wide (one
    journal column); the y tick labels are the cohorts (sorted) then the pooled rows."""
    from matplotlib.figure import Figure

    if scale not in ("r", "hr"):
        raise SeedsigError(f"forest_figure(): scale must be 'r' or 'hr', not {scale!r}.")
    _check_columns(rows, ["cohort", "estimate"], "forest plot")
    _check_columns(pooled, ["pooling", "estimate", "ci_low", "ci_high"], "forest plot (pooled rows)")
    per, est, lo, hi, var = _per_cohort(rows, scale)
    pr = {p: r for p, r in zip(pooled["pooling"], pooled.to_dict("records"))}
    dl = pr.get("random_dl", {})
    tau2, wpct = _forest_weights(est, var, dl)

    diamonds = [
        (p, lab, col)
        for p, lab, col in (("random_dl", "Random effects", OKABE_ITO[3]), ("fixed", "Fixed effect", OKABE_ITO[2]))
        if p in pr
    ]
    n_rows = len(per) + len(diamonds)
    fig = Figure(figsize=(3.5, 1.45 + 0.24 * n_rows), layout="constrained")
    ax, axt, axw = fig.subplots(1, 3, sharey=True, gridspec_kw={"width_ratios": [1.0, 0.85, 0.27], "wspace": 0.0})
    ypos = np.arange(n_rows, 0, -1, dtype=float)  # first row at the top
    labels = list(per["cohort"])
    _forest_cohort_rows(ax, axt, axw, ypos, est, lo, hi, wpct)
    _forest_diamonds(ax, axt, ypos, pr, diamonds, labels)
    _forest_frame(ax, axt, axw, ypos, labels, len(per), len(diamonds), scale)
    ends = np.concatenate([lo, hi, est, [_num(pr[p], c) for p, _, _ in diamonds for c in ("ci_low", "ci_high")]])
    _forest_x_axis(ax, ends, scale)
    ax.set_ylabel("Cohort", fontsize=7.5)
    if title:
        fig.suptitle(title, fontsize=8)
    fig.supxlabel(_forest_caption(dl, tau2, scale), fontsize=6, x=0.02, ha="left", multialignment="left")
    return fig
