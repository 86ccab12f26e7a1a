"""One source of truth (issue 15 item 4): the config schema's ``default:`` values are the defaults. Snakemake fills
them in (``validate(..., set_default=True)``), ``seedsig.core.settings`` derives the same values, config/config.yaml
spells every one of them, the schema's enums are the registries' method lists, and the CLI takes its choices and
defaults from the schema."""

import argparse
import copy
import inspect

import yaml
from conftest import REPO
from snakemake.utils import validate

from seedsig import api, simulate
from seedsig.cli import build_parser
from seedsig.config import check_config, cohort_settings
from seedsig.core import settings
from seedsig.core.settings import load_schema, schema_choices, schema_defaults, schema_node, schema_path
from seedsig.ingest.hgnc import ID_TYPES
from seedsig.ingest.ids import COLLAPSE_RULES
from seedsig.normalize import methods as N
from seedsig.scoring.methods import SCORING_METHODS

CONFIG = REPO / "config" / "config.yaml"
SCHEMA = schema_path()
SHEET_SCHEMA = schema_path("cohorts.schema.yaml")


def _leaves(d: dict, prefix: tuple = ()) -> dict:
    """Nested dict -> {key path: value}; an empty dict is a value."""
    out = {}
    for k, v in d.items():
        if isinstance(v, dict) and v:
            out.update(_leaves(v, (*prefix, k)))
        else:
            out[(*prefix, k)] = v
    return out


def _same(a, b) -> bool:
    return a == b and type(a) is type(b)


def test_schema_defaults_are_what_snakemake_fills_in():
    filled: dict = {}
    validate(filled, str(SCHEMA), set_default=True)
    assert schema_defaults() == filled
    # into a config that has some keys, per-cohort settings included (their relapse_site is filled too)
    config = {
        "scoring": {"methods": ["gsva"], "gsva": {"tau": 0.5}},
        "survival": {"cohorts": {"c1": {"relapse_site": {"sites": ["lung"]}}, "c2": {"covariates": ["age"]}}},
    }
    ours = settings.fill_defaults(copy.deepcopy(config))
    validate(config, str(SCHEMA), set_default=True)
    assert ours == config
    assert ours["survival"]["cohorts"]["c1"]["relapse_site"] == {"sites": ["lung"], "column": ""}


def test_config_yaml_spells_every_schema_default():
    """Both ways: every default of the schema is in config/config.yaml with the same value (and type), and every key
    of config/config.yaml is a key of the schema with a default."""
    given = _leaves(yaml.safe_load(CONFIG.read_text()))
    defaults = _leaves(schema_defaults())
    missing = sorted(".".join(k) for k in defaults if k not in given)
    unknown = sorted(".".join(k) for k in given if k not in defaults)
    differ = {".".join(k): (given[k], v) for k, v in defaults.items() if k in given and not _same(given[k], v)}
    assert not missing, f"schema defaults missing from config/config.yaml: {missing}"
    assert not unknown, f"keys of config/config.yaml without a schema default: {unknown}"
    assert not differ, f"config/config.yaml value != schema default: {differ}"
    check_config(yaml.safe_load(CONFIG.read_text()), [CONFIG])


def test_every_config_key_has_a_default():
    """Every key of the schema (not the per-cohort maps' entries) has a ``default:``, so a config file may leave any
    key out."""

    def walk(node: dict, path: str) -> list[str]:
        node = settings.resolve_ref(node, load_schema(SCHEMA))
        out = []
        for name, sub in (node.get("properties") or {}).items():
            key = f"{path}.{name}" if path else name
            if "default" not in sub:
                out.append(key)
            out += walk(sub, key)
        return out

    assert walk(load_schema(SCHEMA), "") == []


def test_stage_defaults_are_the_schema_defaults():
    d = schema_defaults()
    assert settings.ASSOCIATE_DEFAULTS == {k: v for k, v in d["associate"].items() if k != "cohorts"}
    assert settings.PRERANK_DEFAULTS == d["associate"]["prerank"]
    assert settings.SURVIVAL_DEFAULTS == {k: v for k, v in d["survival"].items() if k != "cohorts"}
    assert settings.RELAPSE_DEFAULTS == d["survival"]["relapse_site"]
    assert settings.SCORING_DEFAULTS == d["scoring"] and settings.EXAMPLE_DEFAULTS == d["example"]
    # the pipeline's values (config/config.yaml), which the schema took over
    assert d["associate"]["covariates"] == d["survival"]["covariates"] == ["er_status"]
    assert d["survival"]["relapse_site"]["column"] == "relapse_site"
    # a cohort without settings gets the defaults; a cohort's own relapse_site: what it leaves out is the schema's
    # per-cohort default (column: none), not survival.relapse_site's
    s = cohort_settings({}, "x")
    assert s["associate"] == settings.ASSOCIATE_DEFAULTS and s["survival"] == settings.SURVIVAL_DEFAULTS
    own = {"survival": {"cohorts": {"x": {"relapse_site": {"sites": ["lung"]}}}}}
    assert cohort_settings(own, "x")["survival"]["relapse_site"] == {"column": "", "sites": ["lung"]}


def test_schema_method_lists_are_the_registries():
    methods = schema_choices("scoring.methods")
    assert sorted(methods) == sorted(SCORING_METHODS) and len(methods) == len(SCORING_METHODS)
    assert schema_choices("report.primary_method") == methods
    counts = schema_node("normalize.counts")["oneOf"]
    assert counts[0]["enum"] == list(N.COUNT_METHODS)
    assert counts[1]["items"]["enum"] == [*N.COUNT_METHODS, *N.VALUE_METHODS]
    assert schema_choices("data_type", SHEET_SCHEMA) == list(N.DATA_TYPES)
    steps = {t: schema_choices(f"normalize.{t}") for t in N.DATA_TYPES}
    assert tuple(dict.fromkeys(s for t in N.DATA_TYPES for s in steps[t])) == N.NORMALIZATION_METHODS
    for t in ("log_expression", "intensity", "tpm"):  # value steps only (and none)
        assert set(steps[t]) <= {*N.VALUE_METHODS, "none"}
    assert schema_choices("ingest.collapse") == list(COLLAPSE_RULES)
    assert schema_choices("gene_id", SHEET_SCHEMA) == list(ID_TYPES)


def test_library_defaults_are_the_schema_defaults():
    d = schema_defaults()
    for data_type, steps in N.DEFAULT_STEPS.items():
        assert N.parse_steps(d["normalize"][data_type]) == steps
    assert N.DEFAULT_PRIOR_COUNT == d["normalize"]["prior_count"]
    for name, spec in SCORING_METHODS.items():  # the methods' parameters: scoring.<method>
        assert spec.defaults == d["scoring"].get(name, {}), name
    score = inspect.signature(api.score).parameters
    assert score["min_genes"].default == d["scoring"]["min_genes"]
    assert score["min_fraction"].default == d["scoring"]["min_fraction"]
    sim = inspect.signature(simulate.simulate_cohort).parameters
    assert {k: sim[k].default for k in ("seed", "n_samples", "n_genes")} == d["example"]


def _commands() -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def _option(parser: argparse.ArgumentParser, dest: str) -> argparse.Action:
    return next(a for a in parser._actions if a.dest == dest)


def test_cli_choices_and_defaults_are_the_schemas():
    d = schema_defaults()
    cmd = _commands()
    assert list(_option(cmd["score"], "method").choices) == schema_choices("scoring.methods")
    assert list(_option(cmd["score"], "ucell_flavor").choices) == schema_choices("scoring.ucell.flavor")
    assert list(_option(cmd["score"], "gene_id").choices) == list(ID_TYPES)
    assert tuple(_option(cmd["normalize"], "method").choices) == N.NORMALIZATION_METHODS
    assert list(_option(cmd["normalize"], "data_type").choices) == list(N.DATA_TYPES)
    assert list(_option(cmd["normalize"], "size_factors").choices) == schema_choices("normalize.size_factors")
    expected = {
        ("normalize", "prior_count"): float(d["normalize"]["prior_count"]),
        ("normalize", "pseudocount"): d["normalize"]["pseudocount"],
        ("normalize", "size_factors"): d["normalize"]["size_factors"],
        ("score", "min_genes"): d["scoring"]["min_genes"],
        ("score", "min_fraction"): d["scoring"]["min_fraction"],
        ("score", "alpha"): d["scoring"]["ssgsea"]["alpha"],
        ("score", "ssgsea_normalize"): d["scoring"]["ssgsea"]["normalize"],
        ("score", "seed"): d["scoring"]["score_genes"]["random_state"],
        ("score", "ucell_flavor"): d["scoring"]["ucell"]["flavor"],
        ("score", "ucell_max_rank"): d["scoring"]["ucell"]["max_rank"],
        ("score", "ucell_w_neg"): d["scoring"]["ucell"]["w_neg"],
        ("score", "aucell_max_rank_fraction"): d["scoring"]["aucell"]["max_rank_fraction"],
        ("download", "cache"): d["geo"]["cache"],
        ("download", "geo_base"): d["geo"]["base_url"],
        ("download", "download_base"): d["geo"]["download_url"],
        ("download", "retries"): d["geo"]["retries"],
        ("download", "timeout"): d["geo"]["timeout"],
        ("simulate", "seed"): d["example"]["seed"],
    }
    for (command, dest), value in expected.items():
        assert _same(_option(cmd[command], dest).default, value), (command, dest)
    # --help shows them
    help_text = cmd["score"].format_help()
    assert all(m in help_text for m in SCORING_METHODS) and f"(default {d['scoring']['ssgsea']['alpha']})" in help_text
