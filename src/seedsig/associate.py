"""Association of scores: Spearman correlation grid with BH q-values, and Cox models per SD.

* ``correlation_grid``: for every scoring method, every focal signature (SS and its sub-scores) against
  every target signature: Spearman's r over the samples where both scores exist, its p-value (t
  approximation, as ``scipy.stats.spearmanr``), and Benjamini-Hochberg q over the whole grid.
* ``cox_per_sd``: Cox proportional hazards (statsmodels ``PHReg``, Efron ties as R's ``coxph``) of each
  score divided by its sample SD (n-1, over the samples in the model, as R's ``sd()``): HR per SD,
  95% Wald CI and p.
Data conditions (a score that could not be computed, a constant score, no events) give a row with NA
and a plain-words note, never an exception.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

CORRELATION_COLUMNS = ("method", "signature_a", "signature_b", "r", "p", "q", "n")
SURVIVAL_COLUMNS = ("method", "signature", "endpoint", "n", "events", "hr_per_sd", "ci_low", "ci_high", "p", "note")
Z975 = stats.norm.ppf(0.975)
MIN_SAMPLES_COX = 10


def bh_qvalues(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (R ``p.adjust(method="BH")``); NA stays NA."""
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(p, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        q[ok] = multipletests(p[ok], method="fdr_bh")[1]
    return q


def spearman(a: np.ndarray, b: np.ndarray) -> tuple[float, float, int]:
    """Spearman r, two-sided p (t approximation, as scipy) and n over pairs where both are finite."""
    ok = np.isfinite(a) & np.isfinite(b)
    n = int(ok.sum())
    if n < 3:
        return np.nan, np.nan, n
    ra, rb = stats.rankdata(a[ok]), stats.rankdata(b[ok])
    if ra.std() == 0 or rb.std() == 0:
        return np.nan, np.nan, n
    r = float(np.corrcoef(ra, rb)[0, 1])
    r = min(1.0, max(-1.0, r))
    if abs(r) == 1.0:
        return r, 0.0, n
    t = r * np.sqrt((n - 2) / ((1.0 - r) * (1.0 + r)))
    return r, float(2 * stats.t.sf(abs(t), n - 2)), n


def correlation_grid(scores: dict[str, pd.DataFrame], focal: Sequence[str], targets: Sequence[str]) -> pd.DataFrame:
    """Spearman correlation of each focal signature with each target, per method; BH q over the grid."""
    rows = []
    for method, table in scores.items():
        for a in focal:
            if a not in table.columns:
                continue
            va = table[a].to_numpy(dtype=float)
            for b in targets:
                if b == a or b not in table.columns:
                    continue
                r, p, n = spearman(va, table[b].to_numpy(dtype=float))
                rows.append((method, a, b, r, p, n))
    df = pd.DataFrame(rows, columns=["method", "signature_a", "signature_b", "r", "p", "n"])
    df["q"] = bh_qvalues(df["p"].to_numpy())
    return df[list(CORRELATION_COLUMNS)]


def cox_fit(x: np.ndarray, time: np.ndarray, event: np.ndarray) -> dict:
    """One-covariate Cox model (Efron ties) of x per sample SD; returns hr_per_sd, CI, p (or a note)."""
    import warnings

    from statsmodels.duration.hazard_regression import PHReg

    n, events = len(x), int(np.sum(event))
    res = {"n": n, "events": events, "hr_per_sd": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p": np.nan, "note": ""}
    if n < MIN_SAMPLES_COX:
        res["note"] = f"fewer than {MIN_SAMPLES_COX} samples with a score and follow-up"
        return res
    if events == 0:
        res["note"] = f"no events among the {n} samples"
        return res
    sd = np.std(x, ddof=1)
    if not np.isfinite(sd) or sd == 0:
        res["note"] = "score is constant across samples"
        return res
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fit = PHReg(time, (x / sd)[:, None], status=event, ties="efron").fit(disp=False)
        except (np.linalg.LinAlgError, ValueError) as exc:
            res["note"] = f"fit failed: {exc}"
            return res
    beta, se = float(fit.params[0]), float(fit.bse[0])
    if not (np.isfinite(beta) and np.isfinite(se)):
        res["note"] = "fit did not converge"
        return res
    res.update(hr_per_sd=np.exp(beta), ci_low=np.exp(beta - Z975 * se), ci_high=np.exp(beta + Z975 * se), p=float(2 * stats.norm.sf(abs(beta / se))))
    return res


def cox_per_sd(scores: dict[str, pd.DataFrame], time: pd.Series, event: pd.Series, endpoint: str, signatures: Sequence[str] | None = None) -> pd.DataFrame:
    """Cox HR per SD of every score (method x signature) on one endpoint."""
    rows = []
    for method, table in scores.items():
        t = pd.to_numeric(time.reindex(table.index), errors="coerce").to_numpy(dtype=float)
        e = pd.to_numeric(event.reindex(table.index), errors="coerce").to_numpy(dtype=float)
        follow = np.isfinite(t) & np.isfinite(e)
        for sig in signatures or list(table.columns):
            x = table[sig].to_numpy(dtype=float) if sig in table.columns else np.full(len(table), np.nan)
            ok = follow & np.isfinite(x)
            if not np.isfinite(x).any():
                res = {"n": 0, "events": 0, "hr_per_sd": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p": np.nan, "note": "score not available (see coverage.tsv)"}
            else:
                res = cox_fit(x[ok], t[ok], e[ok].astype(int))
            rows.append({"method": method, "signature": sig, "endpoint": endpoint, **res})
    return pd.DataFrame(rows, columns=list(SURVIVAL_COLUMNS))
