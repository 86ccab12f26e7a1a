"""Two identical pipeline runs write byte-identical sidecars and h5ad provenance naming the rule; lone MSigDB halves
keep their names in every output."""

import json
from importlib import metadata
from pathlib import Path

import anndata as ad
import pandas as pd
import pytest
from conftest import git_head, new_workdir, run_snakemake, write_cohort

pytestmark = pytest.mark.slow


LONE_UP = "MY_BREAST_CANCER_RELAPSE_IN_LUNG_UP"


SMALL = """\
associate: {n_random: 19, n_bootstrap: 25, prerank: {permutations: 20}}
survival: {n_random: 19}
"""


# the rule that writes each sidecar (results/<cohort>/...): its `command` must name it
RULE_OF = {
    "gene_mapping.json": "ingest",
    "clinical.json": "ingest",
    "coverage.json": "coverage",
    "signature_qc.json": "coverage",
    "correlations.json": "associate",
    "prerank.json": "associate",
    "null_correlations.json": "associate",
    "survival.json": "survival",
    "km.json": "survival",
    "logrank.json": "survival",
    "cumulative_incidence.json": "survival",
}


def _snapshot(results: Path) -> dict[str, bytes]:
    out = {p.relative_to(results).as_posix(): p.read_bytes() for p in sorted(results.rglob("*.json"))}
    for h5 in sorted(results.rglob("*.h5ad")):
        prov = ad.read_h5ad(h5).uns["seedsig_provenance"]
        for stage in sorted(prov):
            out[f"{h5.relative_to(results).as_posix()}:uns/seedsig_provenance/{stage}"] = str(prov[stage]).encode()
    return out


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    wd = new_workdir(tmp_path_factory.mktemp("repro"))
    files = write_cohort(wd)
    gmt = wd / "data" / "mine.gmt"
    gmt.write_text(
        f"{LONE_UP}\tlone up half\tID1\tTNC\tPTGS2\tHBEGF\n"
        "MY_LONE_DN\tlone down half\tESR1\tGAPDH\tACTB\n"
        "PAIR_UP\tup half\tIL11\tRPL3\tRPL5\nPAIR_DN\tdown half\tRPL4\tRPL6\tRPL7\n"
    )
    shipped = ("self_seeding.tsv", "organ_metastasis.tsv", "msigdb_metastasis.tsv")
    sig_files = "".join(f"    - config/signatures/{f}\n" for f in shipped)
    files["config"].write_text(files["config"].read_text() + SMALL + f"signatures:\n  files:\n{sig_files}    - {gmt}\n")
    # every rule but the report (it writes no sidecar and no h5ad)
    run_snakemake(wd, "--configfile", str(files["config"]), "--omit-from", "report")
    first = _snapshot(wd / "results")
    run_snakemake(wd, "--configfile", str(files["config"]), "--omit-from", "report", "--forceall")
    second = _snapshot(wd / "results")
    return wd, first, second


def test_sidecars_and_h5ad_provenance_identical_between_runs(two_runs):
    wd, first, second = two_runs
    assert len([k for k in first if k.endswith(".json")]) >= 12 and any(":uns/" in k for k in first)
    assert sorted(first) == sorted(second)
    differ = [k for k in first if first[k] != second[k]]
    assert differ == [], differ


def test_provenance_names_the_rule_not_a_temporary_script(two_runs):
    wd, first, _ = two_runs
    head, version = git_head(), metadata.version("seedsig")
    seen = set()
    for key, raw in first.items():
        text = raw.decode()
        assert ".snakemake/scripts" not in text and "tmp" not in json.loads(text).get("command", "tmp"), key
        rec = json.loads(text)
        name = key.split(":")[0].rsplit("/", 1)[-1]
        if key.startswith("tiny/scores/"):
            rule = "score"
        elif key.startswith("tiny/contributions/"):
            rule = "contributions"
        elif ":uns/" in key:
            rule = key.rsplit("/", 1)[-1]  # expression.h5ad: one record per stage, the stage is the rule
        elif key.startswith("meta/"):
            rule = "meta"
        else:
            rule = RULE_OF[name]
        want = "rule meta" if rule == "meta" else f"rule {rule} (cohort=tiny"  # meta has no wildcards
        assert rec["rule"] == rule and rec["command"].startswith(want), (key, rec["command"])
        assert rec["seedsig_version"] == version == rec["versions"]["seedsig"]
        assert rec["git_commit"] == head
        assert rec["git_modified"] in (True, False) if head else rec["git_modified"] is None
        seen.add(rule)
    assert {"ingest", "normalize", "coverage", "score", "associate", "survival", "meta"} <= seen
    score = json.loads(first["tiny/scores/ssgsea.json"])
    assert score["command"] == "rule score (cohort=tiny, method=ssgsea)"


def test_lone_gmt_halves_keep_their_names_in_every_output(two_runs):
    wd, _, _ = two_runs
    base = wd / "results" / "tiny"
    names = {LONE_UP, "MY_LONE_DN", "PAIR"}
    assert names <= set(pd.read_csv(base / "scores" / "zscore.tsv", sep="\t").columns)
    cov = pd.read_csv(base / "coverage.tsv", sep="\t").set_index("signature")
    assert names <= set(cov.index) and cov.loc[LONE_UP, "n_present"] == 4 and cov.loc["PAIR", "n_genes"] == 6
    assert not {"MY_BREAST_CANCER_RELAPSE_IN_LUNG", "MY_LONE", "PAIR_UP", "PAIR_DN"} & set(cov.index)
    corr = pd.read_csv(base / "correlations.tsv", sep="\t")
    assert names <= set(corr["signature_b"])
    side = json.loads((base / "scores" / "zscore.json").read_text())
    merged = {s["name"]: s["merged_from"] for s in side["signatures"]}
    assert merged[LONE_UP] == [] and merged["PAIR"] == ["PAIR_UP", "PAIR_DN"]
