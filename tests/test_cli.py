"""The seedsig CLI: same code paths as the pipeline, clear errors, fast start."""

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seedsig.cli import main
from seedsig.io import read_matrix
from seedsig.normalize import normalize_matrix

from conftest import GOLDEN, REPO, shared_file


def seedsig(*args: str) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "seedsig"
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=300)


def test_normalize_cli_reproduces_edger_and_keeps_ids(tmp_path):
    src = shared_file("airway_rnaseq_counts", "airway_counts.tsv.gz")
    out = tmp_path / "logcpm.tsv"
    assert main(["normalize", "--input", str(src), "--method", "tmm_logcpm", "--out", str(out)]) == 0
    res = read_matrix(out)
    raw = read_matrix(src)
    assert list(res.index) == list(raw.index) and list(res.columns) == list(raw.columns)  # nothing mapped or filtered
    gold = pd.read_csv(GOLDEN / "normalize" / "airway_tmm_logcpm.tsv", sep="\t", index_col=0)
    np.testing.assert_allclose(res.loc[gold.index].to_numpy(), gold.to_numpy(), atol=1e-9)
    assert out.with_suffix(".json").is_file()


def test_score_cli_matches_old_symbols_without_dropping_rows(tmp_path):
    rng = np.random.default_rng(3)
    genes = ["IL6", "IL8", "FSCN1", "MMP1"] + [f"G{i}" for i in range(200)]
    expr = pd.DataFrame(rng.normal(8, 2, size=(len(genes), 10)), index=pd.Index(genes, name="gene"), columns=[f"s{i}" for i in range(10)])
    f = tmp_path / "expr.tsv"
    expr.to_csv(f, sep="\t")
    out = tmp_path / "scores.tsv"
    assert main(["score", "--expr", str(f), "--signatures", str(REPO / "config/signatures/self_seeding.tsv"), "--method", "zscore", "--out", str(out)]) == 0
    s = pd.read_csv(out, sep="\t", index_col=0)
    assert list(s.columns) == ["SS", "SS_attraction", "SS_infiltration"]
    z = expr.sub(expr.mean(axis=1), axis=0).div(expr.std(axis=1, ddof=1), axis=0)
    np.testing.assert_allclose(s["SS"].to_numpy(), z.loc[["IL6", "IL8", "FSCN1", "MMP1"]].sum().to_numpy() / 2.0, atol=1e-9)
    np.testing.assert_allclose(s["SS_attraction"].to_numpy(), z.loc[["IL6", "IL8"]].sum().to_numpy() / np.sqrt(2), atol=1e-9)


def test_cli_user_error_is_one_line_exit_2(tmp_path):
    proc = seedsig("normalize", "--input", str(tmp_path / "nope.tsv"), "--method", "tmm_logcpm", "--out", str(tmp_path / "o.tsv"))
    assert proc.returncode == 2
    assert proc.stderr.startswith("seedsig: error: input matrix") and "does not exist" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "o.tsv").exists()


def test_cli_starts_fast_without_heavy_imports():
    code = "import sys, seedsig.cli; heavy = [m for m in ('scanpy', 'anndata', 'gseapy', 'matplotlib', 'statsmodels') if m in sys.modules]; print(heavy)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.strip() == "[]"
    t0 = time.perf_counter()
    proc = seedsig("--help")
    assert proc.returncode == 0 and "simulate" in proc.stdout
    assert time.perf_counter() - t0 < 5


def test_simulate_cli_writes_example(tmp_path):
    out = tmp_path / "ex"
    assert main(["simulate", "--out", str(out), "--n-samples", "30", "--n-genes", "3000"]) == 0
    counts = read_matrix(out / "counts.tsv.gz")
    assert counts.shape == (3000, 30)
    clin = pd.read_csv(out / "clinical.tsv", sep="\t")
    assert {"mfs_months", "mfs_event", "relapse_site", "er_status", "age"} <= set(clin.columns)
