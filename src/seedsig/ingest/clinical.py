"""Clinical harmonization: times to months, event codings to 0/1, free-text sites of relapse to the configured sites.

Cohorts come with clinical data in their own words (GEO characteristics, survJamda/SurvSet tables, hospital
exports): times in days, weeks, months or years, sometimes with the unit in the value ("34 months",
"1020 days", "2.5 y"); events as 1/0, yes/no, TRUE/FALSE, dead/alive, relapse/no relapse; sites of relapse
as free text ("Lung", "pulmonary", "CNS", "Liver.", "lung and bone"). :func:`harmonize_clinical` converts
the columns the endpoints and the site of relapse name **in place** (same column names, so the endpoint
labels of the survival stage do not change) and returns a JSON-able record of every conversion for the
sidecar of ``results/{cohort}/clinical.tsv``. A value it cannot read is an error listing every distinct
such value with its count, the file, the column, and the config key to add it to. Nothing is guessed silently.

Conventions
-----------
* **Months**: 1 month = 365.25 / 12 days (30.4375 days), the usual convention of survival analyses
  (and of R's ``lubridate``/``survival`` users converting days). :data:`TIME_UNITS` gives months per unit:
  days 12/365.25, weeks 12*7/365.25, months 1, years 12. A unit in the value ("1020 days") overrides the
  column's unit. Negative or non-numeric times are errors.
* **Matching** of event codes and site terms is case-insensitive on the whole value after trimming
  whitespace and surrounding punctuation (``"Liver."`` = ``liver``), treating ``_`` and ``-`` as spaces
  (``no-relapse`` = ``no relapse``) and collapsing runs of spaces. Numbers are compared as numbers
  (``1``, ``1.0``, ``1.00`` and a float ``1.0`` are the same value).
* **Missing**: empty cells, pandas' NA words (NA, NaN, N/A, null, None, ...), :data:`seedsig.core.tables.CLINICAL_NA`
  and :data:`MISSING_WORDS` (unknown, not known, ...) are NA in every role column (counted in the record).
* **GEO characteristics** not split into columns ("relapse site: lung"): when every non-missing value of a
  role column starts with the same ``key:`` prefix, the prefix is removed (and noted in the record).

Sites of relapse
----------------
The survival stage (:func:`seedsig.outcome.stage.relapse_sites`, Aalen-Johansen cumulative incidence) needs **one
cause per sample**: the site of *first* relapse, competing risks. The harmonized site column therefore holds
one of the configured ``sites`` (e.g. lung, bone, brain, liver), ``other``, or NA (no relapse, ``none`` terms,
or unknown site; the survival stage tells these apart with the event: NA + event = ``unknown``).

* A default term of a site that is not configured for the cohort (e.g. ``brain`` terms when sites are
  [lung, bone]) maps to ``other``; a configured site's own name is always a term of it.
* **Several sites in one value** ("lung and bone", "lung, bone", "bone/liver"; split on ``, ; / + &`` and
  the word ``and`` when the whole value is not itself a term): if the parts name one category (``lung/pleura``
  -> lung, ``lung, lung``), that category; if they name two or more different categories (``lung and bone``,
  ``lung, lymph node``) the value is **``other``** and the record notes it. Rationale: with competing risks a
  sample has one cause of first relapse; giving a lung+bone first relapse to lung would count it as censored
  in the bone model and vice versa, an arbitrary choice; ``other`` counts it as a relapse at neither single
  site (conservative for every site-specific hazard) while keeping it an event in the overall endpoint. The
  record lists, per such value, the sites it names, so an analysis of "relapse involving site X" can be added
  (see :func:`site_indicators`).
* ``none`` terms (none, no relapse, ...) mean no relapse: NA in the harmonized column.
* Common qualifier words are ignored when the exact value is not a term: "bone metastases", "lung mets",
  "liver relapse", "distant brain metastasis" match bone, lung, liver, brain.

Config shape (to paste into ``config/config.yaml``; the JSON schema mirrors it)::

    clinical:
      # Harmonization of the clinical columns the sheet (time, event) and survival.* (endpoints,
      # relapse_site.column) name; results/{cohort}/clinical.tsv has times in months, events 0/1, sites mapped.
      time_unit: months   # unit of time columns whose values carry none: days, weeks, months, years
                          # (1 month = 365.25/12 days); a unit in a value ("1020 days") wins
      event_codes:        # words read as event (1) / censored (0) besides the built-in ones
        event: []         #   (1/0, yes/no, true/false, dead/alive, relapse/no relapse, ...), e.g. [DOD, DOC]
        censored: []      #   e.g. [NED, lost to follow-up]; a value listed here wins over a built-in code
      site_terms: {}      # extra free-text terms per site of relapse, e.g. {lung: [pulmonary nodule], other: [adrenal],
                          # none: [relapse free]}; keys: the sites of survival.relapse_site.sites, other, none
      cohorts: {}         # per cohort, same keys, e.g. {gse2034: {time_unit: days, event_codes: {event: [DOD]}}}

Precedence (:func:`harmonize_settings`): built-in defaults < ``clinical`` < ``clinical.cohorts.<cohort>`` < the
sheet row's ``time_unit`` column (when not empty). Lists are extended, not replaced; a value that a more
specific level puts under another code (or site) moves there. One level listing a value under both codes (or
under two sites) is an error.

Record (``harmonize_clinical``'s second result, JSON-able)::

    {"source": "data/gse2034_clinical.tsv", "time_unit": "days", "month": "365.25/12 days",
     "months_per_unit": {"days": 0.03285..., "weeks": 0.22997..., "months": 1.0, "years": 12.0},
     "sites": ["lung", "bone", "brain", "liver"], "user_event_codes": {...}, "user_site_terms": {...},
     "columns": {
        "<time column>":  {"role": "time", "endpoints": ["primary"], "unit": "days", "factor": 0.03285...,
                           "units_in_values": {"days": 3}, "n": 286, "missing": 0, "notes": []},
        "<event column>": {"role": "event", "endpoints": ["primary", "os"], "n": 286, "missing": 0, "events": 40,
                           "mapping": {"alive": {"code": 0, "n": 246}, "dead": {"code": 1, "n": 40}}, "notes": []},
        "<site column>":  {"role": "site", "endpoints": [], "sites": [...], "n": 286, "missing": 180,
                           "mapping": {"Lung": {"code": "lung", "n": 12}, "none": {"code": null, "n": 170},
                                       "lung and bone": {"code": "other", "n": 2, "sites": ["bone", "lung"]}},
                           "notes": ["2 sample(s) name several sites of relapse (...): site 'other' ..."]}},
     "absent": [{"column": "os_months", "role": "time", "endpoint": "os"}],
     "notes": ["3 sample(s) with an event in 'dmfs_event' have no site of relapse in 'relapse_site' ..."]}

``mapping`` keys are the original values as text (numbers as ``1``/``0``); missing values are counted in
``missing``, not in ``mapping``.

Sample ids: :func:`seedsig.ingest.stage.prepare_clinical` already checks the clinical ids against the matrix samples
(none matching, or ids that are not samples, are errors); this module does not repeat it.
"""

from __future__ import annotations

import math
import re
from typing import Any, Iterable, Mapping, Sequence

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

# Built-in site terms. Pleura counts as lung (lung/pleura, as breast-cancer metastasis studies group them);
# leptomeningeal and spinal-cord disease as brain (CNS); vertebral/spine and bone marrow as bone.
DEFAULT_SITE_TERMS: dict[str, list[str]] = {
    "lung": [
        "lung",
        "lungs",
        "pulmonary",
        "pulmonal",
        "pleura",
        "pleural",
        "pleural effusion",
        "lung pleura",
        "thoracic lung",
    ],
    "bone": [
        "bone",
        "bones",
        "skeletal",
        "skeleton",
        "osseous",
        "ossal",
        "bone marrow",
        "spine",
        "spinal",
        "vertebra",
        "vertebrae",
        "vertebral",
        "pelvis",
        "rib",
        "ribs",
    ],
    "brain": [
        "brain",
        "cns",
        "central nervous system",
        "cerebral",
        "cerebrum",
        "cerebellum",
        "cerebellar",
        "intracranial",
        "leptomeningeal",
        "meningeal",
        "meninges",
        "spinal cord",
    ],
    "liver": ["liver", "hepatic", "hepar", "hepatic metastasis"],
    "other": [
        "other",
        "lymph node",
        "lymph nodes",
        "node",
        "nodes",
        "nodal",
        "ln",
        "axilla",
        "axillary",
        "axillary lymph node",
        "supraclavicular",
        "mediastinum",
        "mediastinal",
        "local",
        "locoregional",
        "loco regional",
        "regional",
        "local recurrence",
        "chest wall",
        "breast",
        "contralateral breast",
        "skin",
        "soft tissue",
        "muscle",
        "adrenal",
        "adrenal gland",
        "ovary",
        "ovaries",
        "peritoneum",
        "peritoneal",
        "pericardium",
        "pericardial",
        "kidney",
        "spleen",
        "pancreas",
        "gastrointestinal",
        "stomach",
        "bowel",
        "eye",
        "orbit",
        "thyroid",
        "multiple",
        "multiple sites",
        "visceral",
        "distant other",
    ],
    "none": [
        "none",
        "no",
        "no relapse",
        "no recurrence",
        "no metastasis",
        "no metastases",
        "no distant metastasis",
        "relapse free",
        "disease free",
        "nil",
        "not relapsed",
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

# qualifier words ignored in a site value when the exact value is not a term ("bone metastases", "distant lung relapse")
_SITE_QUALIFIERS = re.compile(
    r"\b(?:distant|metastas[ie]s|metastatic|mets?|relapses?|recurrences?|lesions?|involvement|only|site)\b"
)
_SITE_SPLIT = re.compile(r"\s*(?:[,;/+&]|\band\b)\s*")
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
    """GEO characteristics left unsplit ('relapse site: lung'): drop a 'key:' prefix shared by every non-missing value."""
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
            f"{_where(source, column)}: time unit '{unit}' is not one of {', '.join(TIME_UNITS)}. Set clinical.time_unit (or the sheet's time_unit column) to one of them."
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
            f"{_where(source, column)}: the time column holds TRUE/FALSE values. Name the time column (a number of days, weeks, months or years) as the endpoint's time."
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
            f"(days, weeks, months, years): {_listing(distinct.to_dict())}; first samples: {', '.join(f'{k} ({v!r})' for k, v in first)}. "
            "Times must be numbers >= 0 (e.g. 34, 34 months, 1020 days; NA for unknown)."
        )
    months = (num * unit_factor).where(~missing)
    neg = months < 0
    if neg.any():
        vals = s[neg]
        first = sorted(zip(vals.index.astype(str), map(_display, vals)), key=lambda t: t[0])[:5]
        raise SeedsigError(
            f"{_where(source, column)}: {int(neg.sum())} negative time(s): {', '.join(f'{k} ({v!r})' for k, v in first)}. Times must be >= 0 (NA for unknown)."
        )
    info["missing"] = int(missing.sum())
    if info["units_in_values"] and sum(info["units_in_values"].values()) == int((~missing).sum()):
        info["notes"].append("every value carries its unit: the column unit is not used")
    top = months.max()
    if pd.notna(top) and top > 600:
        info["notes"].append(
            f"largest time is {top:.0f} months ({top / 12:.0f} years): check the unit (clinical.time_unit, now '{unit}')"
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
            f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}; the keys are event (values read as 1) and censored (values read as 0)."
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
    """``base`` (default: the built-in codes) extended by ``extra``; a value ``extra`` lists under the other code moves there."""
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
                "The column holds 1 and 2, R's survival coding (1 = censored, 2 = event)? Then set clinical.event_codes: "
                "{event: [2], censored: [1]} (1 is read as an event by default). Otherwise add"
            )
            if r_coding
            else "Add"
        )
        raise SeedsigError(
            f"{_where(source, column)}: {len(counts)} distinct value(s) are not event codes: {_listing(counts)}. "
            f"{hint} them to clinical.event_codes (event: [...] or censored: [...]) in the config "
            "(or clinical.cohorts.<cohort>.event_codes for this cohort only); values read as missing: NA, empty, unknown."
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


# ------------------------------------------------------------------------------------------------- sites
def site_lookup(
    terms: Mapping[str, Iterable[str]] | None, sites: Sequence[str], *, where: str = "clinical.site_terms"
) -> tuple[dict[str, str], list[str]]:
    """{normalized term: category} with categories = ``sites`` (as spelled), 'other' or 'none', and notes.
    A term of a key that is not a configured site is ``other``; each site's own name is a term of it."""
    terms = DEFAULT_SITE_TERMS if terms is None else terms
    canon = {_norm_text(s): s for s in sites}
    if "other" in canon or "none" in canon:
        raise SeedsigError(
            "survival.relapse_site.sites: 'other' and 'none' are not sites (other = any site not listed; none = no relapse)."
        )
    out: dict[str, str] = {}
    notes: list[str] = []
    for key, words in terms.items():
        k = _norm_text(str(key))
        if k in ("other", "none"):
            cat, own = k, []
        elif k in canon:
            cat, own = canon[k], [key]
        else:
            cat, own = "other", [key]
            notes.append(f"terms of '{key}' are read as 'other' ('{key}' is not one of the sites {', '.join(sites)})")
        for w in [*own, *(words or [])]:
            t = norm_value(w)
            if t is None:
                continue
            if out.get(t, cat) != cat:
                raise SeedsigError(
                    f"{where}: the term {w!r} is listed under two sites ({out[t]} and {cat}). Keep it under one."
                )
            out[t] = cat
    for k, site in canon.items():
        out[k] = site
    return out, notes


def merge_site_terms(
    extra: Mapping[str, Iterable[str]] | None,
    base: Mapping[str, Iterable[str]] | None = None,
    *,
    where: str = "clinical.site_terms",
) -> dict[str, list[str]]:
    """``base`` (default: the built-in terms) extended by ``extra``; a term ``extra`` lists under another site moves there."""
    base = DEFAULT_SITE_TERMS if base is None else base
    extra = {str(k): list(v or []) for k, v in (extra or {}).items()}
    seen: dict[str, str] = {}
    for k, words in extra.items():
        for w in words:
            t = norm_value(w)
            if t is not None and seen.get(t, k) != k:
                raise SeedsigError(
                    f"{where}: the term {w!r} is listed under two sites ({seen[t]} and {k}). Keep it under one."
                )
            if t is not None:
                seen[t] = k
    out = {k: [w for w in (v or []) if norm_value(w) not in seen or seen[norm_value(w)] == k] for k, v in base.items()}
    for k, words in extra.items():
        out.setdefault(k, [])
        out[k] += [w for w in words if w not in out[k]]
    return out


def _site_of(key: str, lookup: Mapping[str, str]) -> tuple[str | None, list[str], str]:
    """(category, categories named, unmapped part) of a normalized value. Category None = unmapped."""
    if key in lookup:
        return lookup[key], [lookup[key]], ""
    parts = [p.strip(_PUNCT) for p in _SITE_SPLIT.split(key)]
    parts = [p for p in parts if p]
    cats: list[str] = []
    for p in parts:
        if p in _MISSING:
            continue
        c = lookup.get(p)
        if c is None:
            q = re.sub(r"\s+", " ", _SITE_QUALIFIERS.sub(" ", p)).strip(_PUNCT)
            c = lookup.get(q) if q else None
            if c is None and not q:
                continue  # only qualifiers ('distant metastasis'): a relapse of unknown site
        if c is None:
            return None, [], p
        if c not in cats:
            cats.append(c)
    named = [c for c in cats if c != "none"]
    if not named:
        return "none", cats, ""
    if len(named) == 1:
        return named[0], named, ""
    return "other", sorted(named), ""


def _parse_site(
    values: Any, terms: Mapping[str, Iterable[str]] | None, sites: Sequence[str], source: str, column: str
) -> tuple[pd.Series, dict]:
    lookup, term_notes = site_lookup(terms, sites)
    s, prefix_note = _strip_key_prefix(_as_series(values))
    uniq = pd.unique(s[s.notna()].to_numpy(dtype=object))
    res: dict[Any, tuple[str | None, list[str], str]] = {}
    for u in uniq:
        k = norm_value(u)
        res[u] = ("none", [], "") if k is None else _site_of(k, lookup)
    unmapped = {u: r[2] for u, r in res.items() if r[0] is None}
    if unmapped:
        counts = s[s.isin(list(unmapped))].map(_display).value_counts().to_dict()
        parts = {_display(u): (f"'{p}' not known" if p and p != norm_value(u) else "") for u, p in unmapped.items()}
        raise SeedsigError(
            f"{_where(source, column)}: {len(counts)} distinct site value(s) are not known: {_listing(counts, parts)}. "
            f"Add them to clinical.site_terms.<site> in the config (sites: {', '.join(sites)}, other, or none for no relapse), "
            "e.g. site_terms: {other: [adrenal]} (or clinical.cohorts.<cohort>.site_terms for this cohort only)."
        )
    code = {u: (r[0] if r[0] != "none" else np.nan) for u, r in res.items()}
    out = s.map(code).astype(object)
    out = out.where(out.notna(), np.nan)
    mapping: dict[str, dict] = {}
    multi: dict[str, int] = {}
    for u, n in s.value_counts(dropna=True).items():
        cat, named, _ = res[u]
        n = int(n)
        d = mapping.setdefault(_display(u), {"code": None if cat == "none" else cat, "n": 0})
        d["n"] += n
        if len([c for c in named if c != "none"]) > 1:
            d["sites"] = named
            multi[_display(u)] = multi.get(_display(u), 0) + n
    notes = [prefix_note] if prefix_note else []
    notes += term_notes
    if multi:
        notes.append(
            f"{sum(multi.values())} sample(s) name several sites of relapse ({_listing(multi)}): site 'other' "
            "(one cause of first relapse per sample; counted at no single site)"
        )
    info = {
        "role": "site",
        "sites": list(sites),
        "n": int(len(s)),
        "missing": int(out.isna().sum()),
        "mapping": dict(sorted(mapping.items())),
        "notes": notes,
    }
    return out.rename(s.name), info


def parse_site(
    values: Any, terms: Mapping[str, Iterable[str]] | None, sites: Sequence[str], *, source: str, column: str
) -> pd.Series:
    """Site of first relapse as one of ``sites``, 'other', or NaN (no relapse, none terms, missing, unknown).
    ``terms``: the complete term table {site: [...], other: [...], none: [...]} (default :data:`DEFAULT_SITE_TERMS`;
    :func:`merge_site_terms` extends it). Several different sites in one value -> 'other'. Unmapped values raise
    :class:`SeedsigError` listing every distinct one with its count."""
    return _parse_site(values, terms, sites, source, column)[0]


def site_indicators(
    values: Any, terms: Mapping[str, Iterable[str]] | None, sites: Sequence[str], *, source: str, column: str
) -> pd.DataFrame:
    """Samples x (sites + other): 1.0 if the value names the site (several may be 1 for 'lung and bone'),
    0.0 if not, NaN where the value is missing. For analyses of "relapse involving site X"."""
    lookup, _ = site_lookup(terms, sites)
    s = _as_series(values)
    parse_site(s, terms, sites, source=source, column=column)  # raises for unmapped values
    cols = [*sites, "other"]
    out = pd.DataFrame(np.nan, index=s.index, columns=cols)
    for u in pd.unique(s[s.notna()].to_numpy(dtype=object)):
        k = norm_value(u)
        if k is None:
            continue
        _, named, _ = _site_of(k, lookup)
        row = [1.0 if c in named else 0.0 for c in cols]
        out.loc[(s == u).to_numpy()] = row
    return out


# ------------------------------------------------------------------------------------------- harmonize
def harmonize_clinical(
    clin: pd.DataFrame,
    *,
    endpoints: Sequence[Mapping[str, str]],
    site_column: str | None,
    sites: Sequence[str],
    time_unit: str = "months",
    event_codes: Mapping[str, Iterable] | None = None,
    site_terms: Mapping[str, Iterable[str]] | None = None,
    source: str,
) -> tuple[pd.DataFrame, dict]:
    """Convert the role columns of ``clin`` in place (a copy; same names, original values not kept): every
    endpoint's ``time`` column to float months, ``event`` column to float 0/1, ``site_column`` to one of
    ``sites``/'other'/NaN. Other columns are unchanged. ``event_codes``/``site_terms`` extend the built-in tables
    (a value the user lists under another code or site than the built-in one takes the user's). A role column
    absent from the table is recorded in ``absent`` (the survival stage notes the endpoint), not an error.
    Returns the table and the record (see the module docstring)."""
    codes = merge_event_codes(event_codes)
    terms = merge_site_terms(site_terms)
    out = clin.copy()
    roles: dict[str, dict] = {}  # column -> {"role", "endpoints"}
    absent: list[dict] = []

    def claim(col: str, role: str, endpoint: str) -> None:
        r = roles.setdefault(col, {"role": role, "endpoints": []})
        if r["role"] != role:
            raise SeedsigError(
                f"{_where(source, col)}: named as {r['role']} ({', '.join(r['endpoints']) or 'site of relapse'}) and as {role} ({endpoint or 'site of relapse'}). A column holds one kind of value; check the sheet and survival.endpoints."
            )
        if endpoint and endpoint not in r["endpoints"]:
            r["endpoints"].append(endpoint)

    for ep in endpoints:
        name = str(ep.get("name") or "")
        for role in ("time", "event"):
            col = ep.get(role)
            if not col:
                continue
            if col in out.columns:
                claim(col, role, name)
            else:
                absent.append({"column": col, "role": role, "endpoint": name})
    if site_column:
        if site_column in out.columns:
            claim(site_column, "site", "")
        else:
            absent.append({"column": site_column, "role": "site", "endpoint": ""})

    columns: dict[str, dict] = {}
    for col in sorted(roles, key=str):
        r = roles[col]
        if r["role"] == "time":
            new, info = _parse_time(out[col], time_unit, source, col)
        elif r["role"] == "event":
            new, info = _parse_event(out[col], codes, source, col)
        else:
            new, info = _parse_site(out[col], terms, sites, source, col)
        out[col] = new.to_numpy() if r["role"] != "site" else new.astype(object).to_numpy()
        if r["role"] != "site":
            out[col] = out[col].astype(float)
        columns[str(col)] = {
            "role": r["role"],
            "endpoints": r["endpoints"],
            **{k: v for k, v in info.items() if k != "role"},
        }

    notes: list[str] = []
    first = next((e for e in endpoints if e.get("event") in roles and roles[e["event"]]["role"] == "event"), None)
    if site_column and site_column in roles and first is not None:
        ev, st = out[first["event"]], out[site_column]
        no_site = int(((ev == 1) & st.isna()).sum())
        site_no_event = int(((ev == 0) & st.notna()).sum())
        if no_site:
            notes.append(
                f"{no_site} sample(s) with an event in '{first['event']}' have no site of relapse in '{site_column}' (site 'unknown' in the survival stage)"
            )
        if site_no_event:
            notes.append(
                f"{site_no_event} sample(s) censored in '{first['event']}' have a site of relapse in '{site_column}' (ignored by the site-specific analyses)"
            )
    for a in absent:
        notes.append(
            f"column '{a['column']}' ({a['role']}{' of endpoint ' + repr(a['endpoint']) if a['endpoint'] else ' of relapse'}) is not in the clinical table: not harmonized"
        )
    record = {
        "source": source,
        "time_unit": time_unit,
        "months_per_unit": dict(TIME_UNITS),
        "month": "365.25/12 days",
        "sites": list(sites),
        "user_event_codes": {k: list(v or []) for k, v in (event_codes or {}).items()},
        "user_site_terms": {k: list(v or []) for k, v in (site_terms or {}).items()},
        "columns": columns,
        "absent": absent,
        "notes": notes,
    }
    return out, record


# -------------------------------------------------------------------------------------------- settings
def _merge_level(acc: dict, level: Mapping | None, key: str, where: str | None = None) -> dict:
    """Merge one level of settings; ``key``: its config key (for messages), ``where``: how to name a time_unit source."""
    level = dict(level or {})
    unknown = set(level) - {"time_unit", "event_codes", "site_terms"}
    if unknown:
        raise SeedsigError(
            f"config key '{key}': unknown key(s) {', '.join(sorted(map(str, unknown)))}; allowed: time_unit, event_codes, site_terms (see config/README.md)."
        )
    if level.get("time_unit"):
        u = str(level["time_unit"]).strip().lower()
        if u not in TIME_UNITS:
            place = where or f"config key '{key}.time_unit'"
            raise SeedsigError(
                f"{place}: {level['time_unit']!r} is not a time unit; use one of {', '.join(TIME_UNITS)}."
            )
        acc["time_unit"] = u
    if level.get("event_codes"):
        acc["event_codes"] = merge_event_codes(
            level["event_codes"], acc["event_codes"], where=f"config key '{key}.event_codes'"
        )
    if level.get("site_terms"):
        acc["site_terms"] = merge_site_terms(
            level["site_terms"], acc["site_terms"], where=f"config key '{key}.site_terms'"
        )
    return acc


def harmonize_settings(config: Mapping, cohort: str, sheet_row: Mapping | None = None) -> dict:
    """``{time_unit, event_codes, site_terms}`` for :func:`harmonize_clinical` (the user's extensions only; the
    built-in tables are added there): built-in defaults < ``config['clinical']`` < ``config['clinical']['cohorts'][cohort]``
    < the sheet row's ``time_unit`` (when not empty). Lists extend; a more specific level moves a value to its code/site."""
    clinical = dict((config or {}).get("clinical") or {})
    acc: dict[str, Any] = {"time_unit": "months", "event_codes": {"event": [], "censored": []}, "site_terms": {}}
    acc = _merge_level(acc, {k: v for k, v in clinical.items() if k != "cohorts"}, "clinical")
    acc = _merge_level(acc, ((clinical.get("cohorts") or {}).get(cohort) or {}), f"clinical.cohorts.{cohort}")
    u = (sheet_row or {}).get("time_unit")
    if isinstance(u, str) and u.strip():
        acc = _merge_level(acc, {"time_unit": u}, "", f"cohort sheet, cohort '{cohort}', column 'time_unit'")
    return acc
