"""Reproducible sidecars: two identical runs write byte-identical sidecar JSON and h5ad provenance, which record the
rule (or command line), the seedsig version and the git commit of the workflow, never a temporary script name."""

import json
import sys
from importlib import metadata
from types import SimpleNamespace

import numpy as np
import pandas as pd
from conftest import REPO, git_head

from seedsig.core import provenance as sio
from seedsig.core.tables import write_table, write_table_blocks


# ------------------------------------------------------------------------------------------------ fast unit tests
def test_provenance_of_a_rule_records_rule_version_and_commit():
    scripts = str(REPO / "workflow" / "scripts")
    smk = SimpleNamespace(rule="score", wildcards={"cohort": "gse1", "method": "zscore"}, scriptdir=scripts)
    ctx = sio.run_context(smk)
    assert ctx["command"] == "rule score (cohort=gse1, method=zscore)" and ctx["rule"] == "score"
    assert ctx["seedsig_version"] == metadata.version("seedsig")
    head = git_head()
    assert ctx["git_commit"] == head and len(head) in (0, 40)
    assert sio.run_context(smk) == ctx  # stable within a process (git asked once per directory)


def test_provenance_of_a_rule_script_found_without_passing_it(monkeypatch):
    smk = SimpleNamespace(rule="meta", wildcards={}, scriptdir=str(REPO / "workflow" / "scripts"))
    main = SimpleNamespace(snakemake=smk)
    monkeypatch.setitem(sys.modules, "__main__", main)
    monkeypatch.setattr(sys, "argv", ["/w/.snakemake/scripts/tmpab12cd.rule_meta.py"])
    rec = sio.provenance({"a": 1}, inputs=["x.tsv"])
    assert rec["command"] == "rule meta" and rec["rule"] == "meta" and "tmp" not in json.dumps(rec)
    assert list(rec)[:5] == ["tool", "versions", "parameters", "inputs", "command"]


def test_provenance_of_the_cli_keeps_the_arguments_as_given(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "__main__", SimpleNamespace())
    monkeypatch.setattr(sys, "argv", ["/opt/venv/bin/seedsig", "score", "--expr", "my file.tsv", "--method", "zscore"])
    ctx = sio.run_context()
    assert ctx["command"] == "seedsig score --expr 'my file.tsv' --method zscore" and ctx["rule"] == ""


def test_git_state_outside_a_checkout_or_without_git(tmp_path, monkeypatch):
    assert sio.git_state(str(tmp_path)) == ("", None)
    sio.git_state.cache_clear()
    monkeypatch.setenv("PATH", str(tmp_path))  # no git on PATH: empty, no error
    assert sio.git_state(str(REPO)) == ("", None)
    sio.git_state.cache_clear()


def test_gzip_tables_are_the_same_bytes_in_two_runs(tmp_path):
    """A .tsv.gz is written through a temporary file: gzip's header must not carry that (random) name, nor a time.
    Both writers, the fast path and to_csv's (an object column of mixed types), in two directories."""
    fast = pd.DataFrame({"gene": ["A", "B"], "x": [1.5, np.nan]})
    mixed = pd.DataFrame({"gene": ["A", "B"], "x": [1.5, "text"]})
    blobs = []
    for run in ("a", "b"):
        d = tmp_path / run
        write_table(fast, d / "fast.tsv.gz")
        write_table(mixed, d / "mixed.tsv.gz")
        write_table_blocks(["gene", "x"], [fast, fast], d / "blocks.tsv.gz")
        blobs.append([(d / n).read_bytes() for n in ("fast.tsv.gz", "mixed.tsv.gz", "blocks.tsv.gz")])
    assert blobs[0] == blobs[1]
    for blob in blobs[0]:
        assert blob[3] & 0x08 == 0, "no FNAME field in the gzip header"
        assert blob[4:8] == b"\0\0\0\0", "mtime 0"
    back = pd.read_csv(tmp_path / "a" / "mixed.tsv.gz", sep="\t", dtype=str)
    assert back.to_dict("list") == {"gene": ["A", "B"], "x": ["1.5", "text"]}
