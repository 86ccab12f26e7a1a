"""Sites of relapse: free-text site values to the configured sites, ``other`` or NA (one cause of first relapse per
sample).

Rules (several sites in one value, qualifier words, ``none`` terms): see :mod:`seedsig.ingest.clinical`.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from seedsig.core.errors import SeedsigError
from seedsig.ingest.clinical_values import (
    _MISSING,
    _PUNCT,
    _as_series,
    _display,
    _listing,
    _norm_text,
    _strip_key_prefix,
    _where,
    norm_value,
)

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


# qualifier words ignored in a site value when the exact value is not a term ("bone metastases", "distant lung relapse")
_SITE_QUALIFIERS = re.compile(
    r"\b(?:distant|metastas[ie]s|metastatic|mets?|relapses?|recurrences?|lesions?|involvement|only|site)\b"
)
_SITE_SPLIT = re.compile(r"\s*(?:[,;/+&]|\band\b)\s*")


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
            "survival.relapse_site.sites: 'other' and 'none' are not sites (other = any site not listed; none = no "
            "relapse)."
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
    """``base`` (default: the built-in terms) extended by ``extra``; a term ``extra`` lists under another site
    moves there."""
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
            f"Add them to clinical.site_terms.<site> in the config (sites: {', '.join(sites)}, other, or none for no "
            "relapse), "
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
