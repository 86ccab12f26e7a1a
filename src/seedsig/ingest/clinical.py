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
  (and of R's ``lubridate``/``survival`` users converting days).
  :data:`~seedsig.ingest.clinical_values.TIME_UNITS` gives months per unit: days 12/365.25, weeks 12*7/365.25,
  months 1, years 12. A unit in the value ("1020 days") overrides the column's unit. Negative or non-numeric times
  are errors.
* **Matching** of event codes and site terms is case-insensitive on the whole value after trimming
  whitespace and surrounding punctuation (``"Liver."`` = ``liver``), treating ``_`` and ``-`` as spaces
  (``no-relapse`` = ``no relapse``) and collapsing runs of spaces. Numbers are compared as numbers
  (``1``, ``1.0``, ``1.00`` and a float ``1.0`` are the same value).
* **Missing**: empty cells, pandas' NA words (NA, NaN, N/A, null, None, ...), :data:`seedsig.core.tables.CLINICAL_NA`
  and :data:`~seedsig.ingest.clinical_values.MISSING_WORDS` (unknown, not known, ...) are NA in every role column
  (counted in the record).
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
  (see :func:`~seedsig.ingest.relapse_sites.site_indicators`).
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

from typing import Any, Iterable, Mapping, Sequence

import pandas as pd

from seedsig.core.errors import SeedsigError
from seedsig.ingest.clinical_values import TIME_UNITS, _parse_event, _parse_time, _where, merge_event_codes
from seedsig.ingest.relapse_sites import _parse_site, merge_site_terms


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
    roles, absent = _role_columns(out, endpoints, site_column, source)

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

    notes = _harmonization_notes(out, endpoints, roles, absent, site_column)
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


def _role_columns(
    out: pd.DataFrame, endpoints: Sequence[Mapping[str, str]], site_column: str | None, source: str
) -> tuple[dict[str, dict], list[dict]]:
    """{column: {role, endpoints}} of the role columns present in the table, and the absent ones (a column named
    for two kinds of value is an error)."""
    roles: dict[str, dict] = {}  # column -> {"role", "endpoints"}
    absent: list[dict] = []

    def claim(col: str, role: str, endpoint: str) -> None:
        r = roles.setdefault(col, {"role": role, "endpoints": []})
        if r["role"] != role:
            raise SeedsigError(
                f"{_where(source, col)}: named as {r['role']} ({', '.join(r['endpoints']) or 'site of relapse'}) and "
                f"as {role} ({endpoint or 'site of relapse'}). A column holds one kind of value; check the sheet and "
                "survival.endpoints."
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
    return roles, absent


def _harmonization_notes(
    out: pd.DataFrame,
    endpoints: Sequence[Mapping[str, str]],
    roles: dict[str, dict],
    absent: list[dict],
    site_column: str | None,
) -> list[str]:
    """Notes of the record: events without a site, sites without an event (first endpoint), absent columns."""
    notes: list[str] = []
    first = next((e for e in endpoints if e.get("event") in roles and roles[e["event"]]["role"] == "event"), None)
    if site_column and site_column in roles and first is not None:
        ev, st = out[first["event"]], out[site_column]
        no_site = int(((ev == 1) & st.isna()).sum())
        site_no_event = int(((ev == 0) & st.notna()).sum())
        if no_site:
            notes.append(
                f"{no_site} sample(s) with an event in '{first['event']}' have no site of relapse in '{site_column}' "
                "(site 'unknown' in the survival stage)"
            )
        if site_no_event:
            notes.append(
                f"{site_no_event} sample(s) censored in '{first['event']}' have a site of relapse in '{site_column}' "
                "(ignored by the site-specific analyses)"
            )
    for a in absent:
        notes.append(
            f"column '{a['column']}' "
            f"({a['role']}{' of endpoint ' + repr(a['endpoint']) if a['endpoint'] else ' of relapse'}) is not in the "
            "clinical table: not harmonized"
        )
    return notes


# -------------------------------------------------------------------------------------------- settings
def _merge_level(acc: dict, level: Mapping | None, key: str, where: str | None = None) -> dict:
    """Merge one level of settings; ``key``: its config key (for messages), ``where``: how to name a time_unit
    source."""
    level = dict(level or {})
    unknown = set(level) - {"time_unit", "event_codes", "site_terms"}
    if unknown:
        raise SeedsigError(
            f"config key '{key}': unknown key(s) {', '.join(sorted(map(str, unknown)))}; allowed: time_unit, "
            "event_codes, site_terms (see config/README.md)."
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
    built-in tables are added there): built-in defaults < ``config['clinical']`` <
    ``config['clinical']['cohorts'][cohort]`` < the sheet row's ``time_unit`` (when not empty). Lists extend; a more
    specific level moves a value to its code/site."""
    clinical = dict((config or {}).get("clinical") or {})
    acc: dict[str, Any] = {"time_unit": "months", "event_codes": {"event": [], "censored": []}, "site_terms": {}}
    acc = _merge_level(acc, {k: v for k, v in clinical.items() if k != "cohorts"}, "clinical")
    acc = _merge_level(acc, ((clinical.get("cohorts") or {}).get(cohort) or {}), f"clinical.cohorts.{cohort}")
    u = (sheet_row or {}).get("time_unit")
    if isinstance(u, str) and u.strip():
        acc = _merge_level(acc, {"time_unit": u}, "", f"cohort sheet, cohort '{cohort}', column 'time_unit'")
    return acc
