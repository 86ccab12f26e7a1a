"""Survival curves in groups set at pre-set cut-points: Kaplan-Meier, log-rank test, Aalen-Johansen cumulative
incidence (the figures are in :mod:`seedsig.outcome.curve_plots`).

The cut-points are fixed before looking at the outcome (the median, tertiles, quartiles of the score, or values the
user gives). Nothing here searches for an "optimal" cut-point.

Every estimate equals R's survival package (3.5.3, tested against goldens to 1e-10):

- :func:`kaplan_meier` = ``summary(survfit(Surv(time, event) ~ group), censored = TRUE)`` with survfit's defaults:
  Greenwood variance, 95% confidence limits on the log scale (``conf.type = "log"``, upper limit capped at 1, limits NA
  where the survival is 0). ``std_err`` is the standard error of S(t) itself, as ``summary.survfit`` reports it
  (survfit stores the standard error of -log S; summary multiplies it by S).
- :func:`at_risk` = ``summary(fit, times = ..., extend = TRUE)$n.risk``: the number with time >= t (0 after the last).
- :func:`logrank` = ``survdiff(Surv(time, event) ~ group)`` (rho = 0): observed and expected events per group, the
  variance matrix, and chisq = (O-E)' V^-1 (O-E) over the groups but the first, among the groups with expected > 0.
- :func:`aalen_johansen` = the multi-state ``survfit(Surv(time, status) ~ group)`` with ``status`` a factor whose first
  level is censoring: ``pstate`` of each cause (the cumulative incidence, competing with the other causes) and its
  ``std.err``, survfit's infinitesimal-jackknife standard error (the square root of the sum over samples of the
  squared influence of each sample on the estimate).

Like R (``timefix = TRUE``, ``aeqSurv``), times closer than sqrt(machine epsilon) (absolute, or relative to the mean
absolute time) are merged into the smallest of them before anything is computed.

Inputs are plain arrays: ``time`` (>= 0), ``event`` (0 = censored, 1 = event), ``group`` (labels). Samples with a
missing time, event or group (NaN, None or '') are left out, as R's default ``na.action`` does. A group with no
samples, or a test without two groups at risk, gives NA and a note, never an error. User mistakes (negative times,
event codes other than 0/1, arrays of different lengths, an unknown cut) raise
:class:`~seedsig.core.errors.SeedsigError`.
Results do not depend on the order of the samples.

Groups are reported in the order of ``levels`` when given, else (for a pandas Categorical) in the order of its
categories, else in the natural order of the names :func:`cut_groups` makes (low < high, T1 < T2 < T3, Q1..Q4,
"<=a" < "(a,b]" < ">b") and alphabetically otherwise.
"""

from __future__ import annotations

import math
import re
from typing import Any, NamedTuple, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from seedsig.core.errors import SeedsigError
from seedsig.outcome.cox import aeq_times, below_floor_note

KM_COLUMNS = ("group", "time", "n_risk", "n_event", "n_censor", "survival", "std_err", "ci_low", "ci_high")
"""Columns of :func:`kaplan_meier` (one row per group and distinct time, events or censorings)."""
AT_RISK_COLUMNS = ("group", "time", "n_risk")
"""Columns of :func:`at_risk`."""
LOGRANK_COLUMNS = ("n", "n_events", "groups", "n_per_group", "observed", "expected", "chisq", "df", "p", "note")
"""The flat (table-ready) keys of :func:`logrank`: the per-group fields are ';'-joined in group order."""
AJ_COLUMNS = ("group", "time", "cause", "n_risk", "n_event", "cif", "std_err")
"""Columns of :func:`aalen_johansen` (one row per group, cause and distinct time)."""

NAMED_CUTS = {"median": (0.5,), "tertiles": (1 / 3, 2 / 3), "quartiles": (0.25, 0.5, 0.75)}
_CUT_NAMES = {"median": ["low", "high"], "tertiles": ["T1", "T2", "T3"], "quartiles": ["Q1", "Q2", "Q3", "Q4"]}
_Z95 = float(stats.norm.ppf(0.975))  # R: qnorm(0.975)


# ------------------------------------------------------------------------------------------------ cut-points
class CutGroups(NamedTuple):
    """What :func:`cut_groups` returns; unpacks as ``labels, breaks, names``.

    ``names`` are all the groups the cut defines, in order, whether or not a sample falls in them; ``labels`` use only
    the groups that have samples. :attr:`empty` and :attr:`note` say which groups have none (pass ``levels=names`` to
    :func:`kaplan_meier`, :func:`logrank` or :func:`aalen_johansen` to report them as NA rows with a note)."""

    labels: np.ndarray
    breaks: list[float]
    names: list[str]

    @property
    def empty(self) -> list[str]:
        """The groups without samples (for example the middle tertile when the two tertiles are tied)."""
        present = set(self.labels.tolist())
        return [n for n in self.names if n not in present]

    @property
    def note(self) -> str:
        """'' when every group has samples, else one sentence naming the empty groups and the cut-points."""
        if not (self.labels != "").any():
            return "no sample has a score: no groups"
        empty = self.empty
        if not empty:
            return ""
        brk = ", ".join(_fmt_num(b) for b in self.breaks)
        verb = "have" if len(empty) > 1 else "has"
        return (
            f"group{'s' if len(empty) > 1 else ''} {', '.join(empty)} {verb} no samples (cut-points {brk}; tied scores)"
        )


def r_quantile7(x: np.ndarray, probs: Sequence[float]) -> np.ndarray:
    """R's ``quantile(x, probs, type = 7)`` with R's own arithmetic: for ``h = 1 + (n - 1) p``,
    ``(1 - f) x[floor h] + f x[ceiling h]`` with ``f = h - floor h`` (x sorted, 1-based). NaNs are ignored."""
    xs = np.sort(np.asarray(x, dtype=float)[~np.isnan(np.asarray(x, dtype=float))])
    p = np.asarray(probs, dtype=float)
    if xs.size == 0:
        return np.full(p.shape, np.nan)
    index = 1 + (xs.size - 1) * p
    lo = np.floor(index).astype(int)
    hi = np.ceil(index).astype(int)
    qs = xs[lo - 1]
    xh = xs[hi - 1]
    h = index - lo
    interp = (index > lo) & (xh != qs)
    return np.where(interp, (1 - h) * qs + h * xh, qs)


def cut_groups(x: Any, cut: str | Sequence[float]) -> CutGroups:
    """Assign each sample a group from a pre-set cut of the score ``x``; cut-points come from the samples given.

    ``cut``:

    - ``"median"``: ``"low"`` = x <= median, ``"high"`` = x > median (the median is R's ``median``).
    - ``"tertiles"``: ``"T1"``, ``"T2"``, ``"T3"`` at q1, q2 = R ``quantile(x, c(1/3, 2/3), type = 7)``.
    - ``"quartiles"``: ``"Q1"`` .. ``"Q4"`` at the 0.25, 0.5, 0.75 quantiles (type 7).
    - a list of numbers ``[a, b, ...]`` (sorted here; distinct and finite): ``"<=a"``, ``"(a,b]"``, ..., ``">z"``.

    Every interval is closed on the right and open on the left, except that the lowest group also holds the minimum:
    group i holds ``breaks[i-1] < x <= breaks[i]``. This is R's
    ``cut(x, quantile(x, c(0, 1/3, 2/3, 1), type = 7), include.lowest = TRUE)`` (R's default ``right = TRUE``), the
    same rule as "low = at or below the median". A sample equal to a cut-point goes to the lower group.

    Returns :class:`CutGroups` ``(labels, breaks, names)``: ``labels`` a str array ('' where x is NaN), ``breaks`` the
    cut-points, ``names`` all the groups in order. Tied quantiles can leave a group empty; it is then absent from
    ``labels`` (R's ``cut`` would stop with "breaks are not unique") and named by ``.empty`` / ``.note``.
    """
    try:
        xv = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise SeedsigError(
            "cut_groups: the score must be numbers (NaN for missing); convert the column to numbers before cutting it"
        ) from None
    if xv.ndim != 1:
        raise SeedsigError(f"cut_groups: the score must be one value per sample (1-D), got shape {xv.shape}")
    if np.isinf(xv).any():
        raise SeedsigError(
            "cut_groups: the score has infinite values; replace them with NaN (missing) or finite numbers"
        )
    ok = ~np.isnan(xv)
    if isinstance(cut, str):
        if cut not in NAMED_CUTS:
            raise SeedsigError(
                f"cut_groups: unknown cut '{cut}'; use 'median', 'tertiles', 'quartiles' or a list of score values "
                "such as [-0.5, 0.5]"
            )
        breaks = r_quantile7(xv[ok], NAMED_CUTS[cut]).tolist()
        names = list(_CUT_NAMES[cut])
    else:
        breaks = _value_breaks(cut)
        names = _value_names(breaks)
    labels = np.full(xv.shape, "", dtype=object)
    if ok.any():
        idx = np.searchsorted(
            np.asarray(breaks, dtype=float), xv[ok], side="left"
        )  # number of breaks < x: right-closed
        labels[ok] = np.asarray(names, dtype=object)[idx]
    return CutGroups(labels.astype(str), [float(b) for b in breaks], names)


def _value_breaks(cut: Any) -> list[float]:
    if isinstance(cut, (int, float, np.number)) and not isinstance(cut, bool):
        raise SeedsigError(
            f"cut_groups: a numeric cut must be a list of score values, e.g. [{cut}]; got the single number {cut}"
        )
    try:
        vals = list(cut)
    except TypeError:
        raise SeedsigError(
            f"cut_groups: cut must be 'median', 'tertiles', 'quartiles' or a list of score values, got {cut!r}"
        ) from None
    if not vals:
        raise SeedsigError("cut_groups: the list of cut-points is empty; give at least one score value, e.g. [0]")
    bad = [v for v in vals if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.number))]
    if bad:
        raise SeedsigError(
            f"cut_groups: cut-points must be numbers, got {bad[0]!r}; give score values such as [-0.5, 0.5]"
        )
    arr = np.asarray(vals, dtype=float)
    if not np.isfinite(arr).all():
        raise SeedsigError("cut_groups: cut-points must be finite numbers (no NaN or inf)")
    arr = np.sort(arr)
    if (np.diff(arr) == 0).any():
        raise SeedsigError(
            f"cut_groups: cut-points must be distinct, got {', '.join(_fmt_num(v) for v in vals)}; remove the "
            "duplicates"
        )
    return arr.tolist()


def _fmt_num(v: float) -> str:
    return f"{v:.15g}"


def _value_names(breaks: list[float]) -> list[str]:
    b = [_fmt_num(v) for v in breaks]
    return [f"<={b[0]}", *(f"({lo},{hi}]" for lo, hi in zip(b[:-1], b[1:])), f">{b[-1]}"]


_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?inf"


def _level_key(name: str) -> tuple:
    """Natural order of group names: low < high, T1 < T2 < T10, '<=a' < '(a,b]' < '>b' (by upper bound), then the
    rest alphabetically."""
    if name in ("low", "high"):
        return (0, 0.0 if name == "low" else 1.0, "", name)
    m = re.fullmatch(r"([A-Za-z]+)(\d+)", name)
    if m:
        return (1, m.group(1), int(m.group(2)), name)
    m = re.fullmatch(rf"<=({_NUM})|\(({_NUM}),({_NUM})\]|>({_NUM})", name)
    if m:  # value cuts, by their upper bound
        upper = math.inf if m.group(4) is not None else float(m.group(1) if m.group(1) is not None else m.group(3))
        return (2, upper, "", name)
    return (3, 0.0, name, name)


def order_levels(names: Sequence[str]) -> list[str]:
    """Group names in their natural order (see the module docstring); independent of the input order."""
    return sorted(set(names), key=_level_key)


# ------------------------------------------------------------------------------------------------ inputs
class _Data(NamedTuple):
    time: np.ndarray  # float, after timefix
    status: np.ndarray  # int: 0 censored, 1.. event (cause code)
    gidx: np.ndarray  # int index into levels
    levels: list[str]
    notes: list[str]


def _array(v: Any, what: str, fn: str) -> np.ndarray:
    arr = np.asarray(v.to_numpy() if isinstance(v, (pd.Series, pd.Index)) else v)
    if arr.ndim != 1:
        raise SeedsigError(f"{fn}: {what} must be one value per sample (1-D), got shape {arr.shape}")
    return arr


def _float(v: Any, what: str, fn: str) -> np.ndarray:
    arr = _array(v, what, fn)
    if arr.dtype.kind in "biuf":
        return arr.astype(float)
    try:
        return pd.to_numeric(pd.Series(arr, dtype=object), errors="raise").to_numpy(dtype=float)
    except (TypeError, ValueError):
        text = pd.Series(arr, dtype=object)
        bad = text[pd.to_numeric(text, errors="coerce").isna() & text.notna()]
        raise SeedsigError(
            f"{fn}: {what} must be numbers (NaN for missing); found {bad.iloc[0]!r}. Convert the column to numbers"
        ) from None


def _text(v: Any, what: str, fn: str) -> tuple[pd.Series, np.ndarray]:
    """(stripped text, missing mask): None, NaN and '' are missing."""
    s = pd.Series(_array(v, what, fn), dtype=object)
    miss = s.isna().to_numpy()
    txt = s.astype(str).str.strip()
    miss |= (txt == "").to_numpy()
    return txt.where(~miss, ""), miss


def _labels(group: Any, n: int, levels: Sequence[str] | None, fn: str) -> tuple[pd.Series, np.ndarray, list[str]]:
    """(labels, missing mask, levels)."""
    cats: list[str] | None = None
    if group is None:
        lab, miss = pd.Series(["all"] * n, dtype=object), np.zeros(n, dtype=bool)
    else:
        if isinstance(group, pd.Series) and isinstance(group.dtype, pd.CategoricalDtype):
            cats = [str(c).strip() for c in group.cat.categories]
        elif isinstance(group, pd.Categorical):
            cats = [str(c).strip() for c in group.categories]
        lab, miss = _text(np.asarray(group, dtype=object), "group", fn)
        if lab.shape[0] != n:
            raise SeedsigError(f"{fn}: group has {lab.shape[0]} values but time has {n}; give one group per sample")
    present = set(lab[~miss].unique().tolist())
    if levels is not None:
        lv = [str(v).strip() for v in levels]
        if len(set(lv)) != len(lv):
            raise SeedsigError(f"{fn}: levels has duplicates ({', '.join(lv)}); list each group once")
        unknown = sorted(present - set(lv))
        if unknown:
            raise SeedsigError(
                f"{fn}: group{'s' if len(unknown) > 1 else ''} {', '.join(repr(u) for u in unknown)} not in levels "
                f"({', '.join(lv)}); add them to levels or recode the groups"
            )
    elif cats is not None:
        lv = cats
    else:
        lv = order_levels(present)
    return lab, miss, lv


def _prepare(
    fn: str,
    time: Any,
    status: Any,
    group: Any,
    levels: Sequence[str] | None,
    causes: Sequence[str] | None = None,
    competing: bool = False,
) -> tuple[_Data, list[str]]:
    t = _float(time, "time", fn)
    n = t.shape[0]
    if competing:
        names, cens = _text(np.asarray(status, dtype=object), "cause", fn)
        if names.shape[0] != n:
            raise SeedsigError(
                f"{fn}: cause has {names.shape[0]} values but time has {n}; give one cause (or '' for censored) per "
                "sample"
            )
        found = sorted(set(names[~cens].unique().tolist()))
        if causes is None:
            cause_list = found
        else:
            cause_list = [str(c) for c in causes]
            if len(set(cause_list)) != len(cause_list) or "" in cause_list:
                raise SeedsigError(f"{fn}: causes must be distinct, non-empty names, got {cause_list}")
            unknown = [c for c in found if c not in cause_list]
            if unknown:
                raise SeedsigError(
                    f"{fn}: cause{'s' if len(unknown) > 1 else ''} {', '.join(repr(u) for u in unknown)} not in causes "
                    f"({', '.join(cause_list)}); add them to causes or recode them"
                )
        st = pd.Categorical(names.where(~cens), categories=cause_list).codes.astype(int) + 1  # censored: code -1 -> 0
        st_miss = np.zeros(n, dtype=bool)
    else:
        e = _float(status, "event", fn)
        if e.shape[0] != n:
            raise SeedsigError(
                f"{fn}: event has {e.shape[0]} values but time has {n}; give one event indicator per sample"
            )
        st_miss = np.isnan(e)
        bad = np.unique(e[~st_miss & (e != 0) & (e != 1)])
        if bad.size:
            raise SeedsigError(
                f"{fn}: event must be 0 (censored) or 1 (event); found {', '.join(_fmt_num(b) for b in bad[:5])}. "
                "Recode the event column"
            )
        st = np.where(st_miss, 0, e).astype(int)
        cause_list = []
    if np.isinf(t).any():
        raise SeedsigError(f"{fn}: time has infinite values; give finite follow-up times (NaN for missing)")
    if (t[~np.isnan(t)] < 0).any():
        raise SeedsigError(f"{fn}: time has negative values (smallest {np.nanmin(t):g}); follow-up times must be >= 0")
    lab, gmiss, lv = _labels(group, n, levels, fn)
    keep = ~np.isnan(t) & ~st_miss & ~gmiss
    notes = []
    if (~keep).any():
        notes.append(
            f"{int((~keep).sum())} sample(s) without {'time or group' if competing else 'time, event or group'} left "
            "out"
        )
    gidx = pd.Categorical(lab[keep], categories=lv).codes.astype(int)
    counts = np.bincount(gidx, minlength=len(lv))
    empty = [g for g, c in zip(lv, counts) if c == 0]
    if empty:
        notes.append(f"group{'s' if len(empty) > 1 else ''} {', '.join(empty)}: no samples")
    return _Data(aeq_times(t[keep]), st[keep], gidx, lv, notes), cause_list


# ------------------------------------------------------------------------------------------------ Kaplan-Meier
def _km_one(t: np.ndarray, e: np.ndarray) -> dict[str, np.ndarray]:
    ut, inv = np.unique(t, return_inverse=True)
    d = np.bincount(inv, weights=e, minlength=ut.size)
    c = np.bincount(inv, minlength=ut.size)
    n = np.cumsum(c[::-1])[::-1]
    surv = np.cumprod(1.0 - d / n)
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(d > 0, d / (n * (n - d)), 0.0)  # Greenwood; inf where every sample at risk has the event
        se_log = np.sqrt(np.cumsum(term))
        std_err = np.where(surv > 0, se_log * surv, np.nan)
        lo = np.where(surv > 0, np.exp(np.log(surv) - _Z95 * se_log), np.nan)
        hi = np.where(surv > 0, np.minimum(np.exp(np.log(surv) + _Z95 * se_log), 1.0), np.nan)
    return {
        "time": ut,
        "n_risk": n.astype(int),
        "n_event": d.astype(int),
        "n_censor": (c - d).astype(int),
        "survival": surv,
        "std_err": std_err,
        "ci_low": lo,
        "ci_high": hi,
    }


def kaplan_meier(time: Any, event: Any, group: Any = None, *, levels: Sequence[str] | None = None) -> pd.DataFrame:
    """Kaplan-Meier curves per group: a row per group and distinct time (events or censorings), columns
    :data:`KM_COLUMNS` (group, time, n_risk, n_event, n_censor, survival, std_err, ci_low, ci_high).

    Equals R ``summary(survfit(Surv(time, event) ~ group), censored = TRUE)``: ``std_err`` is the Greenwood standard
    error of S(t) (R's summary column ``std.err``), ``ci_low``/``ci_high`` the 95% log-scale limits (upper capped at
    1; NA where S = 0, and ``std_err`` NA there too). Without ``group`` the one curve is group ``"all"``.

    ``levels`` fixes the group order; a level without samples gives one row with time NA, n_risk 0 and NA estimates.
    Notes (samples left out, empty groups) are in ``df.attrs["notes"]``.
    """
    dat, _ = _prepare("kaplan_meier", time, event, group, levels)
    parts = []
    for i, g in enumerate(dat.levels):
        sel = dat.gidx == i
        if not sel.any():
            parts.append(
                pd.DataFrame(
                    {
                        "group": [g],
                        "time": [np.nan],
                        "n_risk": [0],
                        "n_event": [0],
                        "n_censor": [0],
                        "survival": [np.nan],
                        "std_err": [np.nan],
                        "ci_low": [np.nan],
                        "ci_high": [np.nan],
                    }
                )
            )
            continue
        parts.append(pd.DataFrame({"group": g, **_km_one(dat.time[sel], dat.status[sel].astype(float))}))
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(KM_COLUMNS))
    out = out[list(KM_COLUMNS)]
    out.attrs["notes"] = dat.notes
    return out


def at_risk(
    time: Any, group: Any = None, times: Sequence[float] = (), *, levels: Sequence[str] | None = None
) -> pd.DataFrame:
    """Numbers at risk (time >= t) per group at the given ``times`` (sorted), columns :data:`AT_RISK_COLUMNS`
    (group, time, n_risk). Equals R ``summary(survfit(...), times = times, extend = TRUE)$n.risk`` (0 after a group's
    last time; R without ``extend = TRUE`` drops those rows)."""
    tq = _float(times, "times", "at_risk")
    if np.isnan(tq).any():
        raise SeedsigError("at_risk: times must be numbers without NaN")
    tq = np.sort(tq)
    dat, _ = _prepare("at_risk", time, np.zeros(len(np.asarray(time, dtype=object))), group, levels)
    parts = []
    for i, g in enumerate(dat.levels):
        tg = np.sort(dat.time[dat.gidx == i])
        parts.append(
            pd.DataFrame(
                {"group": g, "time": tq, "n_risk": (tg.size - np.searchsorted(tg, tq, side="left")).astype(int)}
            )
        )
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(AT_RISK_COLUMNS))
    return out[list(AT_RISK_COLUMNS)]


# ------------------------------------------------------------------------------------------------ log-rank
def _logrank_result(
    dat: _Data,
    nk: np.ndarray,
    obs: np.ndarray,
    exp: np.ndarray | None,
    var: np.ndarray,
    test: tuple[float, float, float],
    notes: list[str],
) -> dict[str, Any]:
    """The dict :func:`logrank` returns; ``exp`` None when nothing was tested (below the floor: NA)."""
    chisq, df, p = test
    expected = np.nan if exp is None else ";".join(f"{v:.10g}" for v in exp)
    exp = np.full(len(dat.levels), np.nan) if exp is None else exp
    return {
        "n": int(nk.sum()),
        "n_events": int(round(obs.sum())),
        "groups": ";".join(dat.levels),
        "n_per_group": ";".join(str(int(v)) for v in nk),
        "observed": ";".join(f"{v:.10g}" for v in obs),
        "expected": expected,
        "chisq": chisq,
        "df": df,
        "p": p,
        "note": "; ".join(notes),
        "table": pd.DataFrame({"group": dat.levels, "n": nk.astype(int), "observed": obs, "expected": exp}),
        "var": pd.DataFrame(var, index=dat.levels, columns=dat.levels),
    }


def _event_time_sums(dat: _Data, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Observed and expected events per group, their variance matrix, and the mask of the distinct times with an
    event (survdiff's sums over the event times, all groups pooled)."""
    ut, tix = np.unique(dat.time, return_inverse=True)
    m = ut.size
    cnt = np.bincount(dat.gidx * m + tix, minlength=k * m).reshape(k, m).astype(float)
    dk = np.bincount(dat.gidx * m + tix, weights=dat.status.astype(float), minlength=k * m).reshape(k, m)
    nrisk = np.cumsum(cnt[:, ::-1], axis=1)[:, ::-1]
    ev = dk.sum(axis=0) > 0
    nrisk, dk = nrisk[:, ev], dk[:, ev]
    n_all, d_all = nrisk.sum(axis=0), dk.sum(axis=0)
    share = nrisk / n_all  # n_k / n
    obs = dk.sum(axis=1)
    exp = (share * d_all).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(n_all > 1, d_all * (n_all - d_all) / (n_all - 1), 0.0)
    var = np.diag((share * w).sum(axis=1)) - (share * w) @ share.T
    return obs, exp, var, ev


def _chisq_test(
    obs: np.ndarray, exp: np.ndarray, var: np.ndarray, any_event: bool, notes: list[str]
) -> tuple[float, float, float]:
    """chisq, df and p over the groups with expected events but the first (NA, with a note, when not testable)."""
    usable = exp > 0
    if not any_event:
        notes.append("no events: no test")
    elif usable.sum() < 2:
        notes.append("fewer than two groups with samples at risk at an event time: no test")
    else:
        oe = (obs - exp)[usable][1:]
        vv = var[np.ix_(usable, usable)][1:, 1:]
        try:
            chisq = float(oe @ np.linalg.solve(vv, oe))
            df = int(usable.sum() - 1)
            return chisq, df, float(stats.chi2.sf(chisq, df))
        except np.linalg.LinAlgError:
            notes.append("singular variance matrix: no test")
    return np.nan, np.nan, np.nan


def logrank(
    time: Any, event: Any, group: Any, *, levels: Sequence[str] | None = None, min_samples: int = 0
) -> dict[str, Any]:
    """Log-rank test between groups, as R ``survdiff(Surv(time, event) ~ group)`` (rho = 0).

    At each distinct event time t (all groups pooled), with n_k at risk in group k, n = sum n_k and d events:
    E_k += d n_k / n and V_kl += d (n - d) / (n - 1) * (n_k / n) (delta_kl - n_l / n). As survdiff, the groups
    with E_k = 0 are left out, and chisq = (O-E)' V^-1 (O-E) over the remaining groups but the first (df = their
    number - 1). p = P(chi2_df > chisq).

    Returns a dict. The keys of :data:`LOGRANK_COLUMNS` are table-ready: n (samples), n_events, chisq, df, p, note,
    and groups / n_per_group / observed / expected as ';'-joined text in group order. ``table`` (DataFrame: group,
    n, observed, expected) and ``var`` (DataFrame, groups x groups) hold the exact per-group numbers. With fewer
    than two groups at risk at an event time (one group, no events) chisq, df and p are NA and ``note`` says why
    (R's survdiff stops on one group, and reports chisq 0 for the other cases).

    ``min_samples`` (default 0: none, as survdiff): with fewer samples (time, event and group known) nothing is
    tested: ``expected``, chisq, df and p are NA and ``note`` says so (the pipeline passes ``survival.min_samples``).
    """
    if group is None:
        raise SeedsigError(
            "logrank: group is required (one label per sample); cut the score first, e.g. cut_groups(score, 'median')"
        )
    if isinstance(min_samples, bool) or not isinstance(min_samples, (int, np.integer)) or min_samples < 0:
        raise SeedsigError(f"logrank: min_samples must be a whole number >= 0, not {min_samples!r}.")
    dat, _ = _prepare("logrank", time, event, group, levels)
    k = len(dat.levels)
    notes = list(dat.notes)
    nk = np.bincount(dat.gidx, minlength=k)
    if dat.time.size < min_samples:
        obs = np.bincount(dat.gidx, weights=dat.status.astype(float), minlength=k)
        notes.append(below_floor_note(int(dat.time.size), int(min_samples), outcome="not tested"))
        return _logrank_result(dat, nk, obs, None, np.full((k, k), np.nan), (np.nan, np.nan, np.nan), notes)
    obs, exp, var, ev = _event_time_sums(dat, k)
    unreached = [g for g, u, c in zip(dat.levels, exp > 0, nk) if not u and c > 0]
    if unreached and ev.any():
        notes.append(
            f"group{'s' if len(unreached) > 1 else ''} {', '.join(unreached)}: no sample at risk at any event time, "
            "left out of the test (as survdiff)"
        )
    test = _chisq_test(obs, exp, var, bool(ev.any()), notes)
    return _logrank_result(dat, nk, obs, exp, var, test, notes)


# ------------------------------------------------------------------------------------------------ Aalen-Johansen
def _aj_one(
    t: np.ndarray, st: np.ndarray, n_causes: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(times, n_risk, n_event[K, m], cif[K, m], std_err[K, m]) for one group (status 0 = censored, 1..K = cause)."""
    ut, tix = np.unique(t, return_inverse=True)
    m = ut.size
    c = np.bincount(tix, minlength=m)
    n = np.cumsum(c[::-1])[::-1].astype(float)
    ev = st > 0
    dk = np.bincount((st[ev] - 1) * m + tix[ev], minlength=n_causes * m).reshape(n_causes, m).astype(float)
    hk = dk / n  # cause-specific hazard increments
    h = dk.sum(axis=0) / n
    p0 = np.cumprod(1.0 - h)  # event-free probability
    p0_prev = np.concatenate([[1.0], p0[:-1]])
    cif = np.cumsum(p0_prev * hk, axis=1)
    # infinitesimal jackknife: influence of each sample on the estimates at every time, by recursion
    # p0(t) = p0(t-) (1 - h(t)), F_k(t) = F_k(t-) + p0(t-) h_k(t); dh_k/dw_i = (dN_ik - Y_i h_k) / n.
    # Samples with the same (time, status) have the same influence: one row per distinct pair, weighted by its count.
    # Rows are processed in blocks so that the (rows x times) matrices stay below ~4 million entries.
    pairs, w_all = np.unique(np.stack([tix, st], axis=1), axis=0, return_counts=True)
    with np.errstate(divide="ignore"):
        ratio = np.where(h < 1, 1.0 / (1.0 - h), 0.0)  # h = 1 only where p0 drops to 0 (then the influence on p0 is 0)
    j = np.arange(m)
    var = np.zeros((n_causes, m))
    block = max(1, 4_000_000 // max(m, 1))
    for start in range(0, pairs.shape[0], block):  # blocks of rows, not single samples
        ti, si, w = pairs[start : start + block, 0], pairs[start : start + block, 1], w_all[start : start + block]
        y = (j[None, :] <= ti[:, None]).astype(float)  # at risk
        at = j[None, :] == ti[:, None]  # the row's own time
        dh = ((at & (si[:, None] > 0)).astype(float) - y * h) / n
        u0 = -p0 * np.cumsum(dh * ratio, axis=1)  # influence on p0: U0(t) = U0(t-) (1 - h) - p0(t-) dh
        u0_prev = np.concatenate([np.zeros((u0.shape[0], 1)), u0[:, :-1]], axis=1)
        for k in range(n_causes):  # a handful of causes
            dhk = ((at & (si[:, None] == k + 1)).astype(float) - y * hk[k]) / n
            uk = np.cumsum(u0_prev * hk[k] + p0_prev * dhk, axis=1)  # Uk(t) = Uk(t-) + U0(t-) h_k + p0(t-) dh_k
            var[k] += (w[:, None] * uk**2).sum(axis=0)
    se = np.sqrt(var)
    return ut, n.astype(int), dk.astype(int), cif, se


def aalen_johansen(
    time: Any,
    cause: Any,
    group: Any = None,
    causes: Sequence[str] | None = None,
    *,
    levels: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Cumulative incidence of each cause (competing risks, Aalen-Johansen) per group: a row per group, cause and
    distinct time (events or censorings), columns :data:`AJ_COLUMNS` (group, time, cause, n_risk, n_event, cif,
    std_err).

    ``cause`` is the event type of each sample (e.g. lung, bone, brain, liver, other); '' / None / NaN = censored.
    ``causes`` fixes the causes reported and their order (a cause without events gives cif 0); default: the causes
    found, sorted. Equals R ``survfit(Surv(time, status) ~ group)`` with ``status = factor(cause, levels = c("censor",
    causes))``: ``cif`` = ``pstate`` of the cause, ``std_err`` = its ``std.err`` (survfit's infinitesimal jackknife),
    ``n_risk`` = the number still event-free and under follow-up (``n.risk`` of the initial state), ``n_event`` = events
    of that cause at that time. F_k(t) = sum over t_j <= t of S(t_j-) d_kj / n_j, with S the all-cause Kaplan-Meier.

    ``levels`` fixes the group order; a level without samples gives one row per cause with NA. Notes are in
    ``df.attrs["notes"]``.
    """
    dat, cause_list = _prepare("aalen_johansen", time, cause, group, levels, causes=causes, competing=True)
    k = len(cause_list)
    parts = []
    if k == 0:
        dat.notes.append("no events of any cause")
    for i, g in enumerate(dat.levels):
        sel = dat.gidx == i
        if not sel.any():
            parts.append(
                pd.DataFrame(
                    {
                        "group": g,
                        "time": np.nan,
                        "cause": cause_list,
                        "n_risk": 0,
                        "n_event": 0,
                        "cif": np.nan,
                        "std_err": np.nan,
                    }
                )
            )
            continue
        if k == 0:
            continue
        ut, n, dk, cif, se = _aj_one(dat.time[sel], dat.status[sel], k)
        m = ut.size
        parts.append(
            pd.DataFrame(
                {
                    "group": g,
                    "time": np.tile(ut, k),
                    "cause": np.repeat(cause_list, m),
                    "n_risk": np.tile(n, k),
                    "n_event": dk.ravel(),
                    "cif": cif.ravel(),
                    "std_err": se.ravel(),
                }
            )
        )
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(AJ_COLUMNS))
    out = out[list(AJ_COLUMNS)]
    out.attrs["notes"] = dat.notes
    return out
