"""Config and cohort-sheet validation with messages a user can act on.

The schemas live in ``workflow/schemas/`` (JSON Schema draft 2020-12); an installed package carries them as
``seedsig/schemas/`` (package data mapped from that folder by pyproject.toml, not a copy): :func:`schema_path`
finds them either way. The config schema's ``default:`` values are the defaults (:mod:`seedsig.core.settings`).
The Snakefile validates with ``snakemake.utils.validate`` too (which fills those defaults); this module first turns
the first schema violation into one sentence naming the file, the key or sheet row/column, and what to do.
:func:`load_yaml` and :func:`check_config_file` report a YAML file's mistakes as
``file:line:column: what is wrong`` (``seedsig check-config``)."""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from seedsig.core.errors import SeedsigError
from seedsig.core.settings import (
    ASSOCIATE_DEFAULTS,
    COHORT_RELAPSE_DEFAULTS,
    PRERANK_DEFAULTS,
    RELAPSE_DEFAULTS,
    SURVIVAL_DEFAULTS,
    describe_range,  # noqa: F401  (the ranges live in core.settings: `seedsig score` checks them without this module)
    in_range,  # noqa: F401
    load_schema,
    schema_path,
    schema_range,  # noqa: F401
)
from seedsig.ingest.formats import detect_format
from seedsig.normalize.methods import check_steps, parse_steps
from seedsig.scoring.signatures import load_signatures

SHEET_COLUMNS = (
    "cohort",
    "expression",
    "data_type",
    "gene_id",
    "clinical",
    "time",
    "event",
    "platform_annotation",
    "format",
    "orientation",
    "platform",
    "layer",
    "sample_column",
    "time_unit",
    "relapse_site",
)


def _mark(mark) -> str:
    return f"{mark.line + 1}:{mark.column + 1}"


class _DuplicateKey(yaml.constructor.ConstructorError):
    pass


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, except that a key given twice in one mapping is an error (safe_load keeps the last one,
    so a second ``associate:`` block silently drops the first)."""

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise _DuplicateKey(
                    None,
                    None,
                    f"key '{key}' is given twice in the same mapping (first at line {seen[key] + 1})",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def load_yaml(path: str | Path, what: str = "config file") -> Any:
    """Parse a YAML file; a syntax error raises SeedsigError ``file:line:column: what is wrong``."""
    p = Path(path)
    if not p.is_file():
        raise SeedsigError(f"{what} '{p}' does not exist.")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SeedsigError(f"{p}: {what} is not UTF-8 text ({exc.reason} at byte {exc.start}).") from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = f"{p}:{_mark(mark)}" if mark is not None else str(p)
        what_wrong = exc.problem or "invalid YAML"
        ctx = f" ({exc.context} at line {exc.context_mark.line + 1})" if exc.context and exc.context_mark else ""
        if isinstance(exc, _DuplicateKey):
            raise SeedsigError(
                f"{loc}: {what_wrong}: YAML keeps only the last one. Give each key once: merge the two."
            ) from None
        hint = f"Fix the {what} (indentation, quotes, ':')."
        raise SeedsigError(f"{loc}: YAML syntax error: {what_wrong}{ctx}. {hint}") from None
    except yaml.YAMLError as exc:
        raise SeedsigError(f"{p}: YAML syntax error: {exc}") from None


def _node_at(node, path, key_node: bool = False) -> tuple[Any, bool]:
    """The YAML node at a key path (the deepest one that exists) and whether the whole path exists;
    ``key_node``: the node of the last key itself rather than of its value."""
    for i, key in enumerate(path):
        nxt = None
        if isinstance(node, yaml.MappingNode):
            last = key_node and i == len(path) - 1
            nxt = next((k if last else v for k, v in node.value if k.value == str(key)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            nxt = node.value[key]
        if nxt is None:
            return node, False
        node = nxt
    return node, True


def _error_path(err) -> list:
    """The key path of a schema violation; for an unknown key, the path of that key."""
    path = list(err.absolute_path)
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
        path += extra[:1]
    return path


def _locate(err, files) -> str | None:
    """'file:line:column' of the config file that holds the key of a schema violation (the first of ``files``
    whose value there is the offending one), or None."""
    path = _error_path(err)
    for f in files:
        p = Path(f)
        if not p.is_file():
            continue
        try:
            text = p.read_text(encoding="utf-8")
            root, data = yaml.compose(text), yaml.safe_load(text)
        except (yaml.YAMLError, UnicodeDecodeError):
            continue
        node, found = _node_at(root, path, key_node=err.validator == "additionalProperties")
        if not found:
            continue
        value = data
        for key in path:
            value = value[key]
        if err.validator == "additionalProperties" or value == err.instance:
            return f"{p}:{_mark(node.start_mark)}"
    return None


def config_source(configfiles) -> str:
    """How messages name the workflow's merged configuration: 'config (my.yaml, config/config.yaml)'."""
    return "config (" + ", ".join(map(str, configfiles or ["--config"])) + ")"


def check_config(config: dict, configfiles=(), schema: str | Path | None = None) -> None:
    """The (merged) config against the config schema; the first violation raises SeedsigError naming
    ``file:line:column`` of the key in the config file that sets it (else the config files)."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    err = best_match(Draft202012Validator(load_schema(schema or schema_path())).iter_errors(config))
    if err is not None:
        raise SeedsigError(_describe(err, _locate(err, list(configfiles)) or config_source(configfiles)))


def check_config_file(path: str | Path, schema: str | Path | None = None) -> dict:
    """Check one config YAML file: syntax, then the config schema. Raises SeedsigError
    ``file:line:column: what is wrong``; returns the parsed config."""
    p = Path(path)
    data = load_yaml(p)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        kind = type(data).__name__
        raise SeedsigError(f"{p}:1:1: a config file is a mapping of keys (cohorts:, scoring:, ...), not a {kind}.")
    try:
        check_config(data, [p], schema)
    except SeedsigError as exc:
        msg = str(exc)
        if not msg.startswith(f"{p}:"):  # not located (a key that is missing): the file's first line
            msg = f"{p}:1:1: " + msg.removeprefix(f"{config_source([p])}: ")
        raise SeedsigError(msg) from None
    return data


def check_workflow_config(
    config: dict, configfiles, schemas: str | Path, generated=frozenset(), resolve_signatures: bool = True
) -> dict:
    """Everything the workflow checks before it builds its jobs, in order (the Snakefile's one validation call):
    the config schema (defaults filled in), the cohort sheet and its files, the normalization per data type, the
    signature files and the names the config gives them, per-cohort settings. Returns ``sheet``,
    ``signature_files``, ``signature_names``, ``source`` (how messages name the config). ``resolve_signatures=False``
    (a cluster job's own Snakemake processes, after the main process checked everything) reads the signature names
    without mapping the genes to HGNC symbols."""
    from snakemake.utils import validate

    schemas = Path(schemas)
    where = config_source(configfiles)
    for f in configfiles:  # Snakemake has parsed them, but keeps the last of a key given twice without a word
        if Path(f).is_file():
            load_yaml(f)
    check_config(config, configfiles, schemas / "config.schema.yaml")
    validate(config, schema=str(schemas / "config.schema.yaml"), set_default=True)  # the schema's defaults
    sheet = read_sheet(config["cohorts"], schemas / "cohorts.schema.yaml")
    validate(sheet, schema=str(schemas / "cohorts.schema.yaml"))
    check_input_files(sheet, config["cohorts"], generated=generated)
    check_normalize(config, sheet, where)
    files = list(config["signatures"]["files"])
    names = [s.name for s in load_signatures(files, resolve=resolve_signatures)]
    check_signature_names(config, names, where)
    check_cohort_settings(config, sheet, where)
    return {"sheet": sheet, "signature_files": files, "signature_names": names, "source": where}


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
        return (
            f"{where}: unknown key {', '.join(repr(e) for e in extra)} {scope}. "
            f"Allowed keys: {', '.join(allowed)} (see config/README.md)."
        )
    if err.validator == "enum":
        return f"{where}: '{key}' is {err.instance!r}; allowed values: {', '.join(map(str, err.validator_value))}."
    if err.validator == "required":
        return f"{where}: {err.message}. Add it (see config/README.md)."
    if err.validator == "type":
        return f"{where}: '{key}' is {err.instance!r} but must be of type {err.validator_value}."
    if err.validator == "pattern" and err.schema.get("description"):
        rule = err.schema["description"]
        return f"{where}: '{key}' is {err.instance!r}, which is not allowed: {rule}. Change it (see config/README.md)."
    return f"{where}: '{key}': {err.message} (see config/README.md)."


def check_against_schema(instance: Any, schema_path: str | Path, where: str) -> None:
    """Raise SeedsigError describing the first violation of the schema, if any."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    schema = load_schema(schema_path)
    validator = Draft202012Validator(schema)
    err = best_match(validator.iter_errors(instance))
    if err is not None:
        raise SeedsigError(_describe(err, where))


def _check_tab_separated(sheet: pd.DataFrame, p: Path) -> None:
    """A sheet written with commas or semicolons reads as one column (or rows of one field): say so."""

    def other_sep(text: str) -> str | None:
        counts = {name: text.count(ch) for ch, name in ((",", "commas"), (";", "semicolons"))}
        best = max(counts, key=counts.get)
        return best if counts[best] else None

    if len(sheet.columns) == 1 and (sep := other_sep(sheet.columns[0])):
        raise SeedsigError(
            f"cohort sheet '{p}', line 1: the header '{sheet.columns[0][:60]}' is separated by {sep}, not tabs. "
            "The sheet must be tab-separated (one tab between columns): save it as tab-separated text (TSV)."
        )
    if len(sheet.columns) > 1:
        rest = sheet.iloc[:, 1:].apply(lambda c: c.fillna("").astype(str).str.strip() == "").all(axis=1)
        first = sheet.iloc[:, 0].fillna("").astype(str)
        bad = (rest & first.str.contains("[,;]")).to_numpy()
        if bad.any():
            i = int(bad.argmax())
            raise SeedsigError(
                f"cohort sheet '{p}', line {i + 2}: the row is separated by {other_sep(first.iloc[i])}, not tabs. "
                "The sheet must be tab-separated (one tab between columns): fix that row."
            )


# Directories of results/ that are not a cohort's: a cohort of that name would write into them.
RESULT_DIRS = {
    "meta": "the meta-analysis across cohorts",
    "logs": "the logs of every rule",
    "figures": "the report's figures",
}


def _check_sheet_columns(sheet: pd.DataFrame, p: Path, schema_path: str | Path) -> None:
    """A header column the schema does not know (a typo such as 'data type', a column of the user's own): the header
    line, the column, the closest allowed name."""

    allowed = sorted(load_schema(schema_path)["properties"])
    for k, col in enumerate(sheet.columns, start=1):
        if col in allowed:
            continue
        near = difflib.get_close_matches(col.lower().replace(" ", "_").replace("-", "_"), allowed, n=1, cutoff=0.6)
        hint = f" Did you mean '{near[0]}'?" if near else ""
        name = f"'{col}'" if col and not col.startswith("Unnamed: ") else "with no name (a trailing tab?)"
        raise SeedsigError(
            f"cohort sheet '{p}', line 1 (header), column {k}: unknown column {name}.{hint} Allowed columns: "
            f"{', '.join(allowed)}; rename or remove it (see config/README.md)."
        )


def _check_sheet_row(rec: dict, where: str, schema_path: str | Path) -> None:
    """One row of the cohort sheet: the schema, then the columns that go together (``where``: file, line, cohort)."""
    row = {k: v for k, v in rec.items() if v != "" or k in ("cohort", "expression", "data_type", "gene_id")}
    check_against_schema(row, schema_path, where)
    if bool(rec["time"]) != bool(rec["event"]):
        raise SeedsigError(f"{where}: give both 'time' and 'event' columns of the endpoint, or neither.")
    fmt = expression_format(rec)
    if rec["gene_id"] == "probe" and not rec["platform_annotation"] and fmt not in ("geo", "soft"):
        raise SeedsigError(
            f"{where}: gene_id is 'probe' but the 'platform_annotation' column is empty. "
            "Add the column with the platform annotation file (e.g. a GEO GPL table or GPLxxx.annot.gz) that maps "
            "probe ids to genes, or geo:GPLxxx to download it."
        )
    if rec["time"] and not rec["clinical"] and fmt in ("table", "parquet"):
        raise SeedsigError(
            f"{where}: 'time'/'event' name clinical columns but 'clinical' is empty. Give the clinical file."
        )
    if rec["sample_column"] and fmt != "h5ad":
        raise SeedsigError(
            f"{where}: 'sample_column' is for single-cell h5ad files, but the expression is read as {fmt}. "
            "Leave it empty, or give the .h5ad file."
        )
    if rec["sample_column"] and rec["data_type"] != "counts":
        raise SeedsigError(
            f"{where}: a single-cell cohort (sample_column set) is summed to a pseudobulk of raw counts: "
            "set data_type to counts."
        )
    for col in ("expression", "platform_annotation", "clinical"):
        if rec[col].startswith("geo:"):
            check_geo_entry(rec[col], col, where)


def read_sheet(path: str | Path, schema_path: str | Path) -> pd.DataFrame:
    """Read and validate the cohort sheet; returns it indexed by cohort (all values strings, '' = empty)."""
    p = Path(path)
    if not p.is_file():
        raise SeedsigError(
            f"cohort sheet '{p}' does not exist: set 'cohorts' in the config to your sheet (see config/README.md)."
        )
    try:
        sheet = pd.read_csv(p, sep="\t", dtype=str, keep_default_na=False, comment="#")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise SeedsigError(f"cohort sheet '{p}' cannot be parsed as a tab-separated table: {exc}") from None
    sheet.columns = [c.strip() for c in sheet.columns]
    _check_tab_separated(sheet, p)
    if sheet.empty:
        raise SeedsigError(f"cohort sheet '{p}' has no cohort rows.")
    for col in SHEET_COLUMNS:
        if col not in sheet.columns:
            sheet[col] = ""
    _check_sheet_columns(sheet, p, schema_path)
    sheet = sheet.apply(lambda c: c.str.strip())
    sheet = sheet.loc[(sheet != "").any(axis=1)]  # rows of empty cells (tabs left by a spreadsheet) are no cohort
    if sheet.empty:
        raise SeedsigError(f"cohort sheet '{p}' has no cohort rows.")
    for i, rec in zip(sheet.index + 2, sheet.to_dict("records")):  # the file's line (empty rows left out)
        _check_sheet_row(rec, f"cohort sheet '{p}', line {i} (cohort '{rec.get('cohort', '')}')", schema_path)
    sheet["format"] = sheet["format"].replace("", "auto")
    sheet["orientation"] = sheet["orientation"].replace("", "genes_x_samples")
    clash = sheet.index[sheet["cohort"].isin(list(RESULT_DIRS))]
    if len(clash):
        name = sheet.loc[clash[0], "cohort"]
        raise SeedsigError(
            f"cohort sheet '{p}', line {clash[0] + 2}: cohort name '{name}' is taken by the pipeline "
            f"(results/{name}/ holds {RESULT_DIRS[name]}). Give the cohort another name."
        )
    dup = sheet["cohort"][sheet["cohort"].duplicated()].tolist()
    if dup:
        raise SeedsigError(
            f"cohort sheet '{p}': cohort name(s) used twice: {', '.join(dup)}. Each cohort needs a unique name."
        )
    return sheet.set_index("cohort", drop=False)


GEO_PATTERNS = {
    "expression": (
        r"^geo:GSE[0-9]+(-GPL[0-9]+)?$",
        "geo:GSE2034 (or geo:GSE781-GPL96 for one platform of a series of several)",
    ),
    "platform_annotation": (r"^geo:GPL[0-9]+$", "geo:GPL96"),
    "clinical": (r"^geo:GSE[0-9]+(-GPL[0-9]+)?$", "geo:GSE2034 (the series' sample characteristics)"),
}


def check_geo_entry(value: str, column: str, where: str) -> None:

    pattern, example = GEO_PATTERNS[column]
    if not re.match(pattern, value):
        raise SeedsigError(f"{where}, column '{column}': '{value}' is not a GEO accession of the form {example}.")


def expression_format(rec: dict) -> str:
    """How the expression entry of a sheet row is read: 'geo' (download), or a file format of readers.FORMATS."""

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
                raise SeedsigError(
                    f"cohort sheet '{sheet_path}', cohort '{cohort}', column '{col}': file '{f}' does not exist. "
                    "Fix the path (relative to the directory you run snakemake from)."
                )


def check_signature_names(config: dict, names: list[str], where: str) -> None:
    """Focal and target signatures named in the config must exist in the signature files."""
    known = set(names)
    sig = config["signatures"]
    targets = sig["targets"] if isinstance(sig["targets"], list) else []
    chosen = (config.get("contributions") or {}).get("signatures", "focal")
    bounded = chosen if isinstance(chosen, list) else []
    for key, values in (
        ("signatures.focal", sig["focal"]),
        ("signatures.targets", targets),
        ("contributions.signatures", bounded),
    ):
        unknown = [v for v in values if v not in known]
        if unknown:
            raise SeedsigError(
                f"{where}: '{key}' names signature(s) {', '.join(unknown)} that are in none of the signature files. "
                f"Known: {', '.join(names)}."
            )


def contribution_signatures(config: dict) -> list[str] | None:
    """The signatures of results/{cohort}/contributions/: ``contributions.signatures`` = focal (the focal
    signatures), all (None: every one) or a list of names."""
    chosen = (config.get("contributions") or {}).get("signatures", "focal")
    if chosen == "focal":
        return list(config["signatures"]["focal"])
    return None if chosen == "all" else list(chosen)


def target_signatures(config: dict, names: list[str]) -> list[str]:
    sig = config["signatures"]
    if sig["targets"] == "all":
        return [n for n in names if n not in sig["focal"]]
    return list(sig["targets"])


def check_normalize(config: dict, sheet: pd.DataFrame, where: str) -> None:
    """The normalization of each data type in the sheet must be valid for it; tpm needs gene lengths."""

    norm = config["normalize"]
    lengths = norm.get("gene_lengths") or ""
    if lengths and not Path(lengths).is_file():
        raise SeedsigError(
            f"{where}: 'normalize.gene_lengths' is '{lengths}', which does not exist. "
            "Give the GTF (or two-column table id, length) the counts were made with, or ''."
        )
    for data_type in sorted(set(sheet["data_type"])):
        steps = parse_steps(norm[data_type])
        check_steps(steps, data_type, f"{where}: 'normalize.{data_type}'")
        if "tpm" in steps and not lengths:
            raise SeedsigError(
                f"{where}: 'normalize.{data_type}' uses tpm, which needs gene lengths: "
                "set 'normalize.gene_lengths' to a GTF or a two-column table (id, length)."
            )


def check_cohort_settings(config: dict, sheet: pd.DataFrame, where: str) -> None:
    """Per-cohort settings (``associate.cohorts``, ``survival.cohorts``) must name cohorts of the sheet;
    endpoint names must be unique and not clash with the site-of-relapse endpoints."""
    known = set(sheet.index)
    for section in ("associate", "survival"):
        for name in (config.get(section) or {}).get("cohorts") or {}:
            if name not in known:
                raise SeedsigError(
                    f"{where}: '{section}.cohorts' has settings for cohort '{name}', which is not in the cohort "
                    f"sheet. Cohorts: {', '.join(sorted(known))}."
                )
    for cohort in sheet.index:
        s = cohort_settings(config, cohort)["survival"]
        names = [e["name"] for e in s["endpoints"]]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise SeedsigError(
                f"{where}: survival endpoints of cohort '{cohort}' repeat the name(s) {', '.join(dup)}. "
                "Give each endpoint its own name."
            )


def cohort_settings(config: dict, cohort: str, sheet_row: dict | None = None) -> dict:
    """The association and survival settings of one cohort: defaults < config section < ``{section}.cohorts[cohort]``
    < the sheet row's ``relapse_site`` column (when not empty)."""
    a = {**ASSOCIATE_DEFAULTS, **{k: v for k, v in (config.get("associate") or {}).items() if k != "cohorts"}}
    a["prerank"] = {**PRERANK_DEFAULTS, **(a.get("prerank") or {})}
    a.update(((config.get("associate") or {}).get("cohorts") or {}).get(cohort) or {})
    s = {**SURVIVAL_DEFAULTS, **{k: v for k, v in (config.get("survival") or {}).items() if k != "cohorts"}}
    s["relapse_site"] = {**RELAPSE_DEFAULTS, **(s.get("relapse_site") or {})}
    override = dict(((config.get("survival") or {}).get("cohorts") or {}).get(cohort) or {})
    if "relapse_site" in override:  # a cohort's own relapse_site: what it leaves out takes the schema's defaults
        override["relapse_site"] = {**COHORT_RELAPSE_DEFAULTS, **override["relapse_site"]}
    s.update(override)
    if sheet_row and (sheet_row.get("relapse_site") or ""):
        s["relapse_site"] = {**s["relapse_site"], "column": sheet_row["relapse_site"]}
    return {"associate": a, "survival": s}
