"""Reading one clinical value: cell normalization and missing words, times to months, event codes to 0/1.

Conventions (months, matching, missing values, GEO ``key:`` prefixes): see :mod:`seedsig.ingest.clinical`.
"""

from __future__ import annotations

import math
import re
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from seedsig.core.errors import SeedsigError
from seedsig.core.tables import CLINICAL_NA

DAYS_PER_MONTH = 365.25 / 12
# months per unit
TIME_UNITS: dict[str, float] = {"days": 12 / 365.25, "weeks": 12 * 7 / 365.25, "months": 1.0, "years": 12.0}

# unit words allowed after a number in a time value ("34 months", "1020 d", "2.5 y")
UNIT_SUFFIXES: dict[str, str] = {
    **dict.fromkeys(("d", "dy", "dys", "day", "days"), "days"),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), "weeks"),
    **dict.fromkeys(("m", "mo", "mos", "mon", "mth", "mths", "month", "months"), "months"),
    **dict.fromkeys(("y", "yr", "yrs", "year", "years"), "years"),
}

# Built-in event codings. Nothing ambiguous: words whose meaning depends on the endpoint (e.g. "alive with
# disease": censored for overall survival, an event for relapse; "positive"; "2" for a competing event;
# "DOD"/"DOC" which are events for OS but not both for disease-specific survival) are left to the user.
DEFAULT_EVENT_CODES: dict[str, list] = {
    "event": [
        "1",
        "yes",
        "y",
        "true",
        "t",
        "event",
        "dead",
        "deceased",
        "died",
        "death",
        "relapse",
        "relapsed",
        "recurrence",
        "recurred",
        "recurrent",
        "metastasis",
        "metastases",
        "metastasized",
        "distant metastasis",
        "distant relapse",
        "distant recurrence",
        "progression",
        "progressed",
        "progressive disease",
    ],
    "censored": [
        "0",
        "no",
        "n",
        "false",
        "f",
        "censored",
        "censor",
        "no event",
        "alive",
        "living",
        "not dead",
        "no relapse",
        "not relapsed",
        "relapse free",
        "no recurrence",
        "recurrence free",
        "disease free",
        "no metastasis",
        "no metastases",
        "metastasis free",
        "no distant metastasis",
        "distant metastasis free",
        "no progression",
        "progression free",
        "event free",
    ],
}

# missing-value words beyond pandas' defaults and CLINICAL_NA (compared after normalization)
MISSING_WORDS = (
    "unknown",
    "unk",
    "not known",
    "not recorded",
    "not specified",
    "unspecified",
    "site unknown",
    "not available",
    "not reported",
)
_PANDAS_NA = (
    "",
    "#n/a",
    "#n/a n/a",
    "#na",
    "-1.#ind",
    "-1.#qnan",
    "-nan",
    "1.#ind",
    "1.#qnan",
    "<na>",
    "n/a",
    "na",
    "null",
    "nan",
    "none",
)

_PUNCT = " \t\r\n.,;:!?'\"()[]{}*"
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?"
_TIME_RE = re.compile(rf"^(?P<num>{_NUMBER})\s*(?P<unit>[a-z]+)?$")
_KEY_PREFIX = re.compile(r"^\s*([^:]{1,80}):\s*(.*)$", re.S)
_MAX_LISTED = 100


# ----------------------------------------------------------------------------------------------- helpers
def _norm_text(s: str) -> str:
    s = s.strip().lower().replace("_", " ").replace("-", " ")
    s = re.sub(r"\s+", " ", s).strip(_PUNCT)
    return re.sub(r"\s+", " ", s).strip()


def _number_key(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(float(x))


def norm_value(v: Any) -> str | None:
    """The matching key of a cell: None for missing; numbers as canonical numbers ('1.0' -> '1'); text
    lower-cased, trimmed of whitespace and surrounding punctuation, '_'/'-' as spaces, spaces collapsed."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return None if math.isnan(v) else _number_key(float(v))
    s = str(v)
    raw = s.strip()
    if raw.lower() in _MISSING or raw in CLINICAL_NA:
        return None
    try:
        x = float(raw)
    except ValueError:
        x = None
    if x is not None and math.isfinite(x):
        return _number_key(x)
    key = _norm_text(s)
    return None if key in _MISSING else key


_MISSING = frozenset([*_PANDAS_NA, *(_norm_text(w) for w in CLINICAL_NA), *MISSING_WORDS])


def _where(source: str, column: str) -> str:
    return f"clinical data '{source}', column '{column}'"


def _display(v: Any) -> str:
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _listing(counts: Mapping[str, int], extra: Mapping[str, str] | None = None) -> str:
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    parts = [
        f"{k!r} ({n} sample{'s' if n != 1 else ''}{'; ' + extra[k] if extra and extra.get(k) else ''})"
        for k, n in items[:_MAX_LISTED]
    ]
    more = f" ... and {len(items) - _MAX_LISTED} more" if len(items) > _MAX_LISTED else ""
    return ", ".join(parts) + more


def _as_series(values: Any) -> pd.Series:
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if (
        isinstance(s.dtype, pd.CategoricalDtype)
        or pd.api.types.is_string_dtype(s.dtype)
        or pd.api.types.is_extension_array_dtype(s.dtype)
    ):
        s = s.astype(object)
    return s


def _strip_key_prefix(s: pd.Series) -> tuple[pd.Series, str]:
    """GEO characteristics left unsplit ('relapse site: lung'): drop a 'key:' prefix shared by every non-missing
    value."""
    if s.dtype != object:
        return s, ""
    present = s[s.notna()]
    if present.empty or not all(isinstance(v, str) for v in present):
        return s, ""
    m = present.str.extract(_KEY_PREFIX)
    keys = m[0].str.strip()
    if m[0].isna().any() or keys.nunique() != 1:
        return s, ""
    key = keys.iloc[0]
    out = s.copy()
    out[present.index] = m[1].str.strip().to_numpy()
    return out, f"the prefix '{key}:' shared by every value (GEO characteristics) was removed"


# ------------------------------------------------------------------------------------------------- times
def _parse_time(values: Any, unit: str, source: str, column: str) -> tuple[pd.Series, dict]:
    if unit not in TIME_UNITS:
        raise SeedsigError(
            f"{_where(source, column)}: time unit '{unit}' is not one of {', '.join(TIME_UNITS)}. Set "
            "clinical.time_unit (or the sheet's time_unit column) to one of them."
        )
    s, prefix_note = _strip_key_prefix(_as_series(values))
    factor = TIME_UNITS[unit]
    info: dict[str, Any] = {
        "role": "time",
        "unit": unit,
        "factor": factor,
        "units_in_values": {},
        "n": int(len(s)),
        "missing": 0,
        "notes": [prefix_note] if prefix_note else [],
    }
    if pd.api.types.is_bool_dtype(s.dtype):
        raise SeedsigError(
            f"{_where(source, column)}: the time column holds TRUE/FALSE values. Name the time column (a number of "
            "days, weeks, months or years) as the endpoint's time."
        )
    if pd.api.types.is_numeric_dtype(s.dtype):
        num = s.astype(float)
        unit_factor = pd.Series(factor, index=s.index)
        missing = num.isna()
        bad = ~missing & ~np.isfinite(num)
    else:
        text = s.astype(str).where(s.notna())
        low = text.str.strip().str.lower().str.rstrip(". ").str.strip()
        missing = text.isna() | low.isin(_MISSING) | text.str.strip().isin(CLINICAL_NA)
        m = low.str.extract(_TIME_RE)
        num = pd.to_numeric(m["num"], errors="coerce").astype(float)
        suffix_unit = m["unit"].map(UNIT_SUFFIXES, na_action="ignore")
        bad_unit = m["unit"].notna() & suffix_unit.isna()
        unit_factor = suffix_unit.map(TIME_UNITS, na_action="ignore").astype(float).fillna(factor)
        bad = ~missing & (num.isna() | bad_unit | ~np.isfinite(num.fillna(0.0)))
        used = suffix_unit[~missing & ~bad & suffix_unit.notna()]
        info["units_in_values"] = {k: int(v) for k, v in sorted(used.value_counts().items())}
        num = num.where(~missing)
    if bad.any():
        vals = s[bad]
        first = sorted(zip(vals.index.astype(str), map(_display, vals)), key=lambda t: t[0])[:5]
        distinct = vals.map(_display).value_counts()
        raise SeedsigError(
            f"{_where(source, column)}: {int(bad.sum())} time value(s) are not a number or a number with a unit "
            f"(days, weeks, months, years): {_listing(distinct.to_dict())}; first samples: "
            f"{', '.join(f'{k} ({v!r})' for k, v in first)}. "
            "Times must be numbers >= 0 (e.g. 34, 34 months, 1020 days; NA for unknown)."
        )
    months = (num * unit_factor).where(~missing)
    neg = months < 0
    if neg.any():
        vals = s[neg]
        first = sorted(zip(vals.index.astype(str), map(_display, vals)), key=lambda t: t[0])[:5]
        raise SeedsigError(
            f"{_where(source, column)}: {int(neg.sum())} negative time(s): "
            f"{', '.join(f'{k} ({v!r})' for k, v in first)}. Times must be >= 0 (NA for unknown)."
        )
    info["missing"] = int(missing.sum())
    if info["units_in_values"] and sum(info["units_in_values"].values()) == int((~missing).sum()):
        info["notes"].append("every value carries its unit: the column unit is not used")
    top = months.max()
    if pd.notna(top) and top > 600:
        info["notes"].append(
            f"largest time is {top:.0f} months ({top / 12:.0f} years): check the unit (clinical.time_unit, now "
            f"'{unit}')"
        )
    return months.astype(float).rename(s.name), info


def parse_time(values: Any, unit: str, *, source: str, column: str) -> pd.Series:
    """Times as float months. Numbers are in ``unit`` (days, weeks, months, years); a number followed by a unit
    ("34 months", "1020 days", "2.5 y", "12 wk") is in that unit. Missing words are NaN. Raises
    :class:`SeedsigError` for non-numeric, non-finite or negative values (naming file, column, values, samples)."""
    return _parse_time(values, unit, source, column)[0]


# ------------------------------------------------------------------------------------------------ events
def event_lookup(codes: Mapping[str, Iterable] | None = None, *, where: str = "clinical.event_codes") -> dict[str, int]:
    """{normalized value: 1 or 0} of a complete code table {event: [...], censored: [...]} (default
    :data:`DEFAULT_EVENT_CODES`). A value under both codes is an error."""
    codes = DEFAULT_EVENT_CODES if codes is None else codes
    unknown = set(codes) - {"event", "censored"}
    if unknown:
        raise SeedsigError(
            f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}; the keys are event (values read as 1) "
            "and censored (values read as 0)."
        )
    out: dict[str, int] = {}
    for name, code in (("event", 1), ("censored", 0)):
        for v in codes.get(name) or []:
            k = norm_value(v)
            if k is None:
                raise SeedsigError(f"{where}.{name}: {v!r} is a missing-value word; it cannot be an event code.")
            if out.get(k, code) != code:
                raise SeedsigError(
                    f"{where}: {v!r} is listed under both event and censored. Keep it under one of them."
                )
            out[k] = code
    return out


def merge_event_codes(
    extra: Mapping[str, Iterable] | None,
    base: Mapping[str, Iterable] | None = None,
    *,
    where: str = "clinical.event_codes",
) -> dict[str, list]:
    """``base`` (default: the built-in codes) extended by ``extra``; a value ``extra`` lists under the other code
    moves there."""
    base = DEFAULT_EVENT_CODES if base is None else base
    extra = dict(extra or {})
    event_lookup(extra, where=where)  # conflicts within one level are errors
    moved = {norm_value(v) for name in ("event", "censored") for v in extra.get(name) or []}
    out = {name: [v for v in (base.get(name) or []) if norm_value(v) not in moved] for name in ("event", "censored")}
    for name in ("event", "censored"):
        out[name] += [v for v in extra.get(name) or [] if v not in out[name]]
    return out


def _parse_event(values: Any, codes: Mapping[str, Iterable] | None, source: str, column: str) -> tuple[pd.Series, dict]:
    lookup = event_lookup(codes)
    s, prefix_note = _strip_key_prefix(_as_series(values))
    uniq = pd.unique(s[s.notna()].to_numpy(dtype=object))
    keys = {u: norm_value(u) for u in uniq}
    code_of = {u: (np.nan if k is None else lookup.get(k)) for u, k in keys.items()}
    out = s.map(code_of)
    unmapped = [u for u, c in code_of.items() if c is None]
    if unmapped:
        counts = s[s.isin(unmapped)].map(_display).value_counts().to_dict()
        r_coding = {k for k in keys.values() if k is not None} == {norm_value(1), norm_value(2)}
        hint = (
            (
                "The column holds 1 and 2, R's survival coding (1 = censored, 2 = event)? Then set "
                "clinical.event_codes: "
                "{event: [2], censored: [1]} (1 is read as an event by default). Otherwise add"
            )
            if r_coding
            else "Add"
        )
        raise SeedsigError(
            f"{_where(source, column)}: {len(counts)} distinct value(s) are not event codes: {_listing(counts)}. "
            f"{hint} them to clinical.event_codes (event: [...] or censored: [...]) in the config "
            "(or clinical.cohorts.<cohort>.event_codes for this cohort only); values read as missing: NA, empty, "
            "unknown."
        )
    out = out.astype(float)
    mapping: dict[str, dict] = {}
    for u, n in s.value_counts(dropna=True).items():
        c = code_of[u]
        if c is None or (isinstance(c, float) and math.isnan(c)):
            continue
        d = mapping.setdefault(_display(u), {"code": int(c), "n": 0})
        d["n"] += int(n)
    info = {
        "role": "event",
        "n": int(len(s)),
        "missing": int((out.isna()).sum()),
        "events": int((out == 1).sum()),
        "mapping": dict(sorted(mapping.items())),
        "notes": [prefix_note] if prefix_note else [],
    }
    return out.rename(s.name), info


def parse_event(values: Any, codes: Mapping[str, Iterable] | None = None, *, source: str, column: str) -> pd.Series:
    """Events as float 1 (event) / 0 (censored), NaN for missing. ``codes``: the complete code table
    {event: [...], censored: [...]} (default :data:`DEFAULT_EVENT_CODES`; :func:`merge_event_codes` extends it).
    Unmapped values raise :class:`SeedsigError` listing every distinct one with its count."""
    return _parse_event(values, codes, source, column)[0]
