"""The config schema (workflow/schemas/) and the defaults the stages read from it.

The schema's ``default:`` values are the one source of the configuration defaults: Snakemake fills them into the
workflow's config (``snakemake.utils.validate(..., set_default=True)``), :func:`schema_defaults` computes the same
values here for the library, the API and the CLI, and ``config/config.yaml`` spells each of them with a comment
(``tests/unit/test_defaults.py`` checks the three agree). Light on purpose: ``seedsig --help`` reads its choices and
defaults through this module (PyYAML only; no numpy, pandas or jsonschema)."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import yaml

from seedsig.core.errors import SeedsigError

_PACKAGED_SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
_REPO_SCHEMAS = Path(__file__).resolve().parents[3] / "workflow" / "schemas"
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: the CLI parses the schema


def schema_path(name: str = "config.schema.yaml") -> Path:
    """A schema of ``workflow/schemas/``: from the installed package, else from the repository checkout."""
    for d in (_PACKAGED_SCHEMAS, _REPO_SCHEMAS):
        if (d / name).is_file():
            return d / name
    raise SeedsigError(
        f"schema '{name}' is not installed with seedsig (looked in {_PACKAGED_SCHEMAS} and {_REPO_SCHEMAS}): "
        "reinstall seedsig (pip install .)."
    )


@functools.lru_cache(maxsize=8)
def _load_schema_cached(path: str, mtime: float) -> dict:
    return yaml.load(Path(path).read_text(), Loader=_YAML_LOADER)


def load_schema(path: str | Path) -> dict:
    """The parsed schema (cached: do not modify it)."""
    p = Path(path)
    return _load_schema_cached(str(p.resolve()), p.stat().st_mtime)


def resolve_ref(node: dict, root: dict) -> dict:
    """``node`` with a local ``$ref`` ("#/$defs/name") followed (the keys beside the ``$ref`` kept)."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = root
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _fill_defaults(instance: dict, node: dict, root: dict) -> None:
    """Set the ``default:`` of every property missing from ``instance``, then descend into its objects: what
    Snakemake's ``validate(..., set_default=True)`` does (its validator sets defaults wherever a ``properties``
    keyword applies, following ``$ref``)."""
    node = resolve_ref(node, root)
    properties = node.get("properties") or {}
    for name, sub in properties.items():
        if "default" in sub and name not in instance:
            instance[name] = copy.deepcopy(sub["default"])
        if isinstance(instance.get(name), dict):
            _fill_defaults(instance[name], sub, root)
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):  # e.g. survival.cohorts.<cohort>
        for name, value in instance.items():
            if name not in properties and isinstance(value, dict):
                _fill_defaults(value, extra, root)


def fill_defaults(config: dict, schema: str | Path | dict | None = None) -> dict:
    """``config`` with the schema's defaults set where a key is missing (in place, and returned), as Snakemake's
    ``validate(config, schema, set_default=True)`` sets them."""
    root = schema if isinstance(schema, dict) else load_schema(schema or schema_path())
    _fill_defaults(config, root, root)
    return config


def schema_defaults(schema: str | Path | dict | None = None) -> dict:
    """The configuration made of the schema's defaults alone: what ``validate({}, schema, set_default=True)`` fills
    into an empty config (a new dict on every call)."""
    return fill_defaults({}, schema)


def schema_node(key: str, schema: str | Path | dict | None = None) -> dict:
    """The schema of a dotted config key (``scoring.ssgsea.alpha``; ``$ref`` followed)."""
    root = schema if isinstance(schema, dict) else load_schema(schema or schema_path())
    node = root
    for part in key.split("."):
        node = resolve_ref(node, root)["properties"][part]
    return resolve_ref(node, root)


def schema_choices(key: str, schema: str | Path | dict | None = None) -> list:
    """Every value an ``enum`` allows for a dotted key, in the schema's order (through ``oneOf`` and array items):
    ``schema_choices("scoring.methods")`` -> ``['ssgsea', 'gsva', ...]``; a key of several (``normalize``) gives the
    values of all its keys."""
    root = schema if isinstance(schema, dict) else load_schema(schema or schema_path())
    out: dict = {}

    def walk(node: Any) -> None:
        node = resolve_ref(node, root)
        if not isinstance(node, dict):
            return
        out.update(dict.fromkeys(node.get("enum") or ()))
        for sub in node.get("oneOf") or ():
            walk(sub)
        for sub in (node.get("properties") or {}).values():
            walk(sub)
        if isinstance(node.get("items"), dict):
            walk(node["items"])

    walk(schema_node(key, root))
    return list(out)


@functools.lru_cache(maxsize=1)
def _config_defaults() -> dict:
    return schema_defaults()


def config_defaults(section: str | None = None) -> Any:
    """A copy of the shipped schema's defaults: the whole config, or one dotted ``section`` (``"scoring"``)."""
    node: Any = _config_defaults()
    for part in (section or "").split(".") if section else ():
        node = node[part]
    return copy.deepcopy(node)


def _settings_defaults(section: str) -> dict:
    """A section's defaults as the stages take them: without ``cohorts`` (the per-cohort overrides)."""
    return {k: v for k, v in config_defaults(section).items() if k != "cohorts"}


def _cohort_relapse_defaults() -> dict:
    """What the schema fills into a ``survival.cohorts.<cohort>.relapse_site`` given as ``{}``."""
    root = load_schema(schema_path())
    out: dict = {"relapse_site": {}}
    _fill_defaults(out, schema_node("survival.cohorts", root)["additionalProperties"], root)
    return out["relapse_site"]


# The defaults of the settings each stage receives (seedsig.config.cohort_settings merges the config over them).
# min_samples: the floors below which a correlation row / a Cox model, log-rank test or curve is not computed
# (associate.MIN_SAMPLES_TESTED and survival.MIN_SAMPLES_COX; tests/test_thin_cohorts.py checks they agree)
ASSOCIATE_DEFAULTS = _settings_defaults("associate")
PRERANK_DEFAULTS = config_defaults("associate.prerank")
SURVIVAL_DEFAULTS = _settings_defaults("survival")
RELAPSE_DEFAULTS = config_defaults("survival.relapse_site")
# A cohort's own survival.cohorts.<cohort>.relapse_site: a key left out takes these (column: none), not the
# survival.relapse_site values
COHORT_RELAPSE_DEFAULTS = _cohort_relapse_defaults()
SCORING_DEFAULTS = config_defaults("scoring")
NORMALIZE_DEFAULTS = config_defaults("normalize")
CLINICAL_DEFAULTS = _settings_defaults("clinical")
GEO_DEFAULTS = config_defaults("geo")
EXAMPLE_DEFAULTS = config_defaults("example")
SINGLE_CELL_DEFAULTS = config_defaults("single_cell")


def schema_range(key: str, schema: str | Path | None = None) -> dict:
    """The numeric bounds (minimum, maximum, exclusiveMinimum, exclusiveMaximum) of a dotted config key."""
    node = load_schema(schema or schema_path())
    for part in key.split("."):
        node = node["properties"][part]
    return {k: node[k] for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum") if k in node}


def describe_range(bounds: dict) -> str:
    """'> 0 and <= 100' for {'exclusiveMinimum': 0, 'maximum': 100}."""
    ops = {"exclusiveMinimum": ">", "minimum": ">=", "exclusiveMaximum": "<", "maximum": "<="}
    return " and ".join(f"{ops[k]} {bounds[k]:g}" for k in ops if k in bounds)


def in_range(value: float, bounds: dict) -> bool:
    if value != value:  # NaN
        return False
    return not (
        ("minimum" in bounds and value < bounds["minimum"])
        or ("exclusiveMinimum" in bounds and value <= bounds["exclusiveMinimum"])
        or ("maximum" in bounds and value > bounds["maximum"])
        or ("exclusiveMaximum" in bounds and value >= bounds["exclusiveMaximum"])
    )
