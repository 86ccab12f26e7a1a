"""Config and cohort-sheet validation with messages a user can act on.

The schemas live in ``workflow/schemas/`` (JSON Schema draft 2020-12). The Snakefile validates with
``snakemake.utils.validate`` too (which fills defaults); this module first turns the first schema
violation into one sentence naming the file, the key or sheet row/column, and what to do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from .errors import SeedsigError

SHEET_COLUMNS = ("cohort", "expression", "data_type", "gene_id", "clinical", "time", "event", "platform_annotation", "format", "orientation", "platform", "layer", "sample_column", "time_unit", "relapse_site")


def _load_schema(path: str | Path) -> dict:
    import yaml

    return yaml.safe_load(Path(path).read_text())


def _key(path) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


def _describe(err, where: str) -> str:
    key = _key(err.absolute_path)
    if err.validator == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}))
        extra = sorted(set(err.instance) - set(allowed)) if isinstance(err.instance, dict) else []
        scope = f"under '{key}'" if err.absolute_path else "at the top level"
        return f"{where}: unknown key {', '.join(repr(e) for e in extra)} {scope}. Allowed keys: {', '.join(allowed)} (see config/README.md)."
    if err.validator == "enum":
        return f"{where}: '{key}' is {err.instance!r}; allowed values: {', '.join(map(str, err.validator_value))}."
    if err.validator == "required":
        return f"{where}: {err.message}. Add it (see config/README.md)."
    if err.validator == "type":
        return f"{where}: '{key}' is {err.instance!r} but must be of type {err.validator_value}."
    return f"{where}: '{key}': {err.message} (see config/README.md)."


def check_against_schema(instance: Any, schema_path: str | Path, where: str) -> None:
    """Raise SeedsigError describing the first violation of the schema, if any."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    schema = _load_schema(schema_path)
    validator = Draft202012Validator(schema)
    err = best_match(validator.iter_errors(instance))
    if err is not None:
        raise SeedsigError(_describe(err, where))


def read_sheet(path: str | Path, schema_path: str | Path) -> pd.DataFrame:
    """Read and validate the cohort sheet; returns it indexed by cohort (all values strings, '' = empty)."""
    p = Path(path)
    if not p.is_file():
        raise SeedsigError(f"cohort sheet '{p}' does not exist: set 'cohorts' in the config to your sheet (see config/README.md).")
    try:
        sheet = pd.read_csv(p, sep="\t", dtype=str, keep_default_na=False, comment="#")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise SeedsigError(f"cohort sheet '{p}' cannot be parsed as a tab-separated table: {exc}") from None
    sheet.columns = [c.strip() for c in sheet.columns]
    if sheet.empty:
        raise SeedsigError(f"cohort sheet '{p}' has no cohort rows.")
    for col in SHEET_COLUMNS:
        if col not in sheet.columns:
            sheet[col] = ""
    sheet = sheet.apply(lambda c: c.str.strip())
    for i, rec in enumerate(sheet.to_dict("records"), start=2):
        row = {k: v for k, v in rec.items() if v != "" or k in ("cohort", "expression", "data_type", "gene_id")}
        check_against_schema(row, schema_path, f"cohort sheet '{p}', line {i} (cohort '{rec.get('cohort', '')}')")
        if bool(rec["time"]) != bool(rec["event"]):
            raise SeedsigError(f"cohort sheet '{p}', line {i} (cohort '{rec['cohort']}'): give both 'time' and 'event' columns of the endpoint, or neither.")
        fmt = expression_format(rec)
        if rec["gene_id"] == "probe" and not rec["platform_annotation"] and fmt not in ("geo", "soft"):
            raise SeedsigError(
                f"cohort sheet '{p}', line {i} (cohort '{rec['cohort']}'): gene_id is 'probe' but the 'platform_annotation' column is empty. "
                "Add the column with the platform annotation file (e.g. a GEO GPL table or GPLxxx.annot.gz) that maps probe ids to genes, or geo:GPLxxx to download it."
            )
        if rec["time"] and not rec["clinical"] and fmt in ("table", "parquet"):
            raise SeedsigError(f"cohort sheet '{p}', line {i} (cohort '{rec['cohort']}'): 'time'/'event' name clinical columns but 'clinical' is empty. Give the clinical file.")
        if rec["sample_column"] and fmt != "h5ad":
            raise SeedsigError(f"cohort sheet '{p}', line {i} (cohort '{rec['cohort']}'): 'sample_column' is for single-cell h5ad files, but the expression is read as {fmt}. Leave it empty, or give the .h5ad file.")
        if rec["sample_column"] and rec["data_type"] != "counts":
            raise SeedsigError(f"cohort sheet '{p}', line {i} (cohort '{rec['cohort']}'): a single-cell cohort (sample_column set) is summed to a pseudobulk of raw counts: set data_type to counts.")
        for col in ("expression", "platform_annotation", "clinical"):
            if rec[col].startswith("geo:"):
                check_geo_entry(rec[col], col, f"cohort sheet '{p}', line {i} (cohort '{rec['cohort']}')")
    sheet["format"] = sheet["format"].replace("", "auto")
    sheet["orientation"] = sheet["orientation"].replace("", "genes_x_samples")
    dup = sheet["cohort"][sheet["cohort"].duplicated()].tolist()
    if dup:
        raise SeedsigError(f"cohort sheet '{p}': cohort name(s) used twice: {', '.join(dup)}. Each cohort needs a unique name.")
    return sheet.set_index("cohort", drop=False)


GEO_PATTERNS = {
    "expression": (r"^geo:GSE[0-9]+(-GPL[0-9]+)?$", "geo:GSE2034 (or geo:GSE781-GPL96 for one platform of a series of several)"),
    "platform_annotation": (r"^geo:GPL[0-9]+$", "geo:GPL96"),
    "clinical": (r"^geo:GSE[0-9]+(-GPL[0-9]+)?$", "geo:GSE2034 (the series' sample characteristics)"),
}


def check_geo_entry(value: str, column: str, where: str) -> None:
    import re

    pattern, example = GEO_PATTERNS[column]
    if not re.match(pattern, value):
        raise SeedsigError(f"{where}, column '{column}': '{value}' is not a GEO accession of the form {example}.")


def expression_format(rec: dict) -> str:
    """How the expression entry of a sheet row is read: 'geo' (download), or a file format of readers.FORMATS."""
    from .readers import detect_format

    expr = rec.get("expression", "")
    if expr.startswith("geo:"):
        return "geo"
    return detect_format(expr, rec.get("format") or "auto")


def check_input_files(sheet: pd.DataFrame, sheet_path: str | Path, generated: set[str] = frozenset()) -> None:
    """Every file the sheet names must exist (unless a rule of the workflow generates it)."""
    for cohort, rec in sheet.iterrows():
        for col in ("expression", "clinical", "platform_annotation"):
            f = rec[col]
            if f and not f.startswith("geo:") and f not in generated and not Path(f).is_file():
                raise SeedsigError(f"cohort sheet '{sheet_path}', cohort '{cohort}', column '{col}': file '{f}' does not exist. Fix the path (relative to the directory you run snakemake from).")


def check_signature_names(config: dict, names: list[str], where: str) -> None:
    """Focal and target signatures named in the config must exist in the signature files."""
    known = set(names)
    sig = config["signatures"]
    targets = sig["targets"] if isinstance(sig["targets"], list) else []
    for key, values in (("signatures.focal", sig["focal"]), ("signatures.targets", targets)):
        unknown = [v for v in values if v not in known]
        if unknown:
            raise SeedsigError(f"{where}: '{key}' names signature(s) {', '.join(unknown)} that are in none of the signature files. Known: {', '.join(names)}.")


def target_signatures(config: dict, names: list[str]) -> list[str]:
    sig = config["signatures"]
    if sig["targets"] == "all":
        return [n for n in names if n not in sig["focal"]]
    return list(sig["targets"])


def check_normalize(config: dict, sheet: pd.DataFrame, where: str) -> None:
    """The normalization of each data type in the sheet must be valid for it; tpm needs gene lengths."""
    from .normalize import check_steps, parse_steps

    norm = config["normalize"]
    lengths = norm.get("gene_lengths") or ""
    if lengths and not Path(lengths).is_file():
        raise SeedsigError(f"{where}: 'normalize.gene_lengths' is '{lengths}', which does not exist. Give the GTF (or two-column table id, length) the counts were made with, or ''.")
    for data_type in sorted(set(sheet["data_type"])):
        steps = parse_steps(norm[data_type])
        check_steps(steps, data_type, f"{where}: 'normalize.{data_type}'")
        if "tpm" in steps and not lengths:
            raise SeedsigError(f"{where}: 'normalize.{data_type}' uses tpm, which needs gene lengths: set 'normalize.gene_lengths' to a GTF or a two-column table (id, length).")


ASSOCIATE_DEFAULTS = {"statistics": ["spearman", "pearson"], "n_bootstrap": 1000, "n_random": 1000, "seed": 2010, "proliferation": True, "covariates": [], "prerank": {}}
PRERANK_DEFAULTS = {"enabled": True, "statistic": "spearman", "permutations": 1000, "min_size": 2, "exclude_focal_genes": True}
SURVIVAL_DEFAULTS = {"covariates": [], "cut_points": "median", "n_random": 1000, "seed": 2010, "endpoints": []}
RELAPSE_DEFAULTS = {"column": "", "sites": ["lung", "bone", "brain", "liver"]}


def check_cohort_settings(config: dict, sheet: pd.DataFrame, where: str) -> None:
    """Per-cohort settings (``associate.cohorts``, ``survival.cohorts``) must name cohorts of the sheet;
    endpoint names must be unique and not clash with the site-of-relapse endpoints."""
    known = set(sheet.index)
    for section in ("associate", "survival"):
        for name in (config.get(section) or {}).get("cohorts") or {}:
            if name not in known:
                raise SeedsigError(f"{where}: '{section}.cohorts' has settings for cohort '{name}', which is not in the cohort sheet. Cohorts: {', '.join(sorted(known))}.")
    for cohort in sheet.index:
        s = cohort_settings(config, cohort)["survival"]
        names = [e["name"] for e in s["endpoints"]]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise SeedsigError(f"{where}: survival endpoints of cohort '{cohort}' repeat the name(s) {', '.join(dup)}. Give each endpoint its own name.")


def cohort_settings(config: dict, cohort: str, sheet_row: dict | None = None) -> dict:
    """The association and survival settings of one cohort: defaults < config section < ``{section}.cohorts[cohort]``
    < the sheet row's ``relapse_site`` column (when not empty)."""
    a = {**ASSOCIATE_DEFAULTS, **{k: v for k, v in (config.get("associate") or {}).items() if k != "cohorts"}}
    a["prerank"] = {**PRERANK_DEFAULTS, **(a.get("prerank") or {})}
    a.update(((config.get("associate") or {}).get("cohorts") or {}).get(cohort) or {})
    s = {**SURVIVAL_DEFAULTS, **{k: v for k, v in (config.get("survival") or {}).items() if k != "cohorts"}}
    s["relapse_site"] = {**RELAPSE_DEFAULTS, **(s.get("relapse_site") or {})}
    override = dict(((config.get("survival") or {}).get("cohorts") or {}).get(cohort) or {})
    if "relapse_site" in override:
        override["relapse_site"] = {**RELAPSE_DEFAULTS, **override["relapse_site"]}
    s.update(override)
    if sheet_row and (sheet_row.get("relapse_site") or ""):
        s["relapse_site"] = {**s["relapse_site"], "column": sheet_row["relapse_site"]}
    return {"associate": a, "survival": s}
