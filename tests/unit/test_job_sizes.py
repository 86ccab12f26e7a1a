"""Job sizes (seedsig.core.resources): the formulas, the cheap reading of an input's shape, and a retried job of
a user error stopping at once with the recorded message (seedsig.core.rules.run_rule)."""

from __future__ import annotations

import gzip
import logging
import re
import subprocess
import sys
import types
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from seedsig.core import failure
from seedsig.core import resources as js
from seedsig.core.errors import SeedsigError
from seedsig.core.rules import USER_ERROR_EXIT, run_rule

REPO = Path(__file__).resolve().parents[2]


def test_memory_covers_the_benchmark_peaks_without_asking_for_far_more():
    # bench_scale's peaks (MB) per step at 2,000 / 5,000 / 10,000 samples x 20,000 genes (benchmarks/README.md)
    peaks = {
        "ingest": (1200, 2978, 6550),
        "normalize": (950, 2048, 3978),
        "coverage": (528, 871, 1504),
        "score": (1630, 2475, 4631),
        "associate": (1803, 2482, 4645),
        "survival": (1025, 1847, 3081),
    }
    for step, row in peaks.items():  # + the job's two Snakemake processes (~360 MB each in sacct)
        for mvalues, peak in zip((40, 100, 200), row):
            mem = js.job_size(step, mvalues).mem_mb
            assert peak + 700 < mem <= 3 * peak, (step, mvalues, peak, mem)


def test_sizes_grow_with_the_input_the_attempt_and_the_random_signatures():
    small, big = js.job_size("normalize", 0.5), js.job_size("normalize", 100)
    assert js.job_size("normalize", 9.9).threads == 1 and js.job_size("normalize", 10).threads == 2
    assert small.mem_mb < big.mem_mb and small.runtime <= big.runtime and small.disk_mb < big.disk_mb
    assert (small.threads, big.threads) == (1, 2)
    one, two, three = (js.job_size("associate", 10, attempt=a) for a in (1, 2, 3))
    assert one.mem_mb < two.mem_mb < three.mem_mb and two.mem_mb == pytest.approx(1.5 * one.mem_mb, abs=1)
    assert two.runtime >= 2 * one.runtime - 1
    assert js.job_size("survival", 100, n_random=5000).runtime > js.job_size("survival", 100, n_random=100).runtime
    assert js.job_size("score", 50, method="gsva").mem_mb > js.job_size("score", 50, method="ssgsea").mem_mb
    assert js.job_size("cell_scores", 0, cells=1_000_000).mem_mb > js.job_size("cell_scores", 0, cells=1000).mem_mb
    assert js.job_size("score", 5).disk_mb == 0  # writes a small table: no disk_mb


def test_threads_are_capped_and_a_new_rule_gets_the_default():
    assert js.job_size("ingest", 500).threads == 8
    assert js.job_size("ingest", 500, threads_cap=2).threads == 2
    assert js.job_size("ingest", 500, threads_cap=2, attempt=3).threads == 2
    assert js.job_size("a_new_rule", 10) == js.job_size("", 10)
    assert js.step_size("a_new_rule") is js.DEFAULT_STEP


def test_every_rule_of_the_workflow_is_sized_by_the_one_module():
    """Each rule of workflow/ takes its threads and resources from job_threads/job_resources (common.smk); a rule
    without its own line in STEPS gets DEFAULT_STEP (or, written with the earlier JOB_MEM_MB / JOB_RUNTIME
    placeholders, the same default through them)."""
    rules = {}
    for smk in [*(REPO / "workflow" / "rules").glob("*.smk"), REPO / "workflow" / "Snakefile"]:
        for m in re.finditer(r"^rule (\w+):\n(.*?)(?=^rule |\Z)", smk.read_text(), re.M | re.S):
            rules[m.group(1)] = m.group(2)
    assert {"ingest", "normalize", "score", "associate", "survival", "report"} <= set(rules) & set(js.STEPS)
    for name, body in rules.items():
        if name in js.STEPS:
            assert f'threads: job_threads("{name}")' in body, name
            assert f'**job_resources("{name}")' in body, name
        else:
            assert "job_resources(" in body or "mem_mb=JOB_MEM_MB" in body, name


def test_input_shapes_are_read_cheaply(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.poisson(5, size=(3000, 40))
    text = "gene\t" + "\t".join(f"s{j}" for j in range(40)) + "\n"
    text += "".join(f"G{i}\t" + "\t".join(map(str, row)) + "\n" for i, row in enumerate(x))
    (tmp_path / "m.tsv").write_text(text)
    with gzip.open(tmp_path / "m.tsv.gz", "wt") as f:
        f.write(text)
    for name in ("m.tsv", "m.tsv.gz"):
        rows, cols = js.input_shape(tmp_path / name)
        assert cols == 40 and abs(rows - 3000) < 150, (name, rows)
        assert js.text_size_exact(tmp_path / name) == (3000, 40)
    # a GCT gives its size in its second line; a GEO series matrix's metadata lines (!) are not its header
    (tmp_path / "m.gct").write_text("#1.2\n3000\t40\nName\tDescription\t" + text.split("\t", 1)[1])
    assert js.input_shape(tmp_path / "m.gct") == (3000, 40)
    meta = "".join(f'!Series_note_{i}\t"{"x" * 200}"\n' for i in range(50))
    (tmp_path / "series_matrix.txt").write_text(meta + text + "!series_matrix_table_end\n")
    rows, cols = js.input_shape(tmp_path / "series_matrix.txt")
    assert cols == 40 and abs(rows - 3000) < 150, rows
    ad.AnnData(X=np.zeros((7, 11))).write_h5ad(tmp_path / "dense.h5ad")
    ad.AnnData(X=sp.random(5000, 30, density=0.1, format="csr", random_state=1)).write_h5ad(tmp_path / "sparse.h5ad")
    assert js.input_shape(tmp_path / "dense.h5ad") == (7, 11)
    assert js.input_shape(tmp_path / "sparse.h5ad") == (5000, 30)
    assert js.input_shape(tmp_path / "missing.h5ad") is None and js.input_shape(None) is None


def test_an_atlas_pseudobulk_size_comes_from_its_sample_categories(tmp_path):
    cells = 600
    obs = pd.DataFrame(
        {"sample": pd.Categorical([f"S{i % 8}" for i in range(cells)]), "donor": [f"D{i % 5}" for i in range(cells)]},
        index=[f"c{i}" for i in range(cells)],
    )
    atlas = ad.AnnData(X=sp.random(cells, 45, density=0.1, format="csr", random_state=2), obs=obs)
    atlas.write_h5ad(tmp_path / "atlas.h5ad", convert_strings_to_categoricals=False)
    assert js.input_shape(tmp_path / "atlas.h5ad") == (600, 45)  # the cells
    assert js.pseudobulk_shape(tmp_path / "atlas.h5ad", "sample") == (8, 45)  # the pseudobulk: samples x genes
    # a column stored as strings (its samples would be read cell by cell), a missing column or file: unknown
    assert js.pseudobulk_shape(tmp_path / "atlas.h5ad", "donor") is None
    assert js.pseudobulk_shape(tmp_path / "atlas.h5ad", "nope") is None
    assert js.pseudobulk_shape(tmp_path / "missing.h5ad", "sample") is None


def test_the_cpus_a_slurm_job_holds_are_read_from_its_environment(monkeypatch):
    monkeypatch.delenv("SLURM_CPUS_ON_NODE", raising=False)
    assert js.slurm_job_cpus() is None  # not in a SLURM job
    monkeypatch.setenv("SLURM_CPUS_ON_NODE", "3")
    assert js.slurm_job_cpus() == 3
    monkeypatch.setenv("SLURM_CPUS_ON_NODE", "")
    assert js.slurm_job_cpus() is None


def test_slurm_node_cpus_can_be_set(monkeypatch):
    js.slurm_node_cpus.cache_clear()
    monkeypatch.setenv("SEEDSIG_MAX_THREADS", "3")
    assert js.slurm_node_cpus() == 3
    js.slurm_node_cpus.cache_clear()


def test_a_retry_of_a_user_error_stops_at_once_with_the_same_message(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    calls = []

    def bad_input(_):
        calls.append(1)
        raise SeedsigError("expression file x.tsv: no numeric columns; give the samples as columns.")

    def smk(rule="ingest", cohort="c1"):
        log = str(tmp_path / "logs" / f"{rule}.{cohort}.log")
        return types.SimpleNamespace(log=[log], rule=rule, wildcards={"cohort": cohort})

    for _attempt in range(3):
        with pytest.raises(SystemExit) as exc:
            run_rule(smk(), bad_input)
        assert exc.value.code == USER_ERROR_EXIT != 1
    logging.getLogger().handlers.clear()
    assert len(calls) == 1  # the retries computed nothing
    assert "not retried" in (tmp_path / "logs" / "ingest.c1.log").read_text()
    # another cohort, and an unexpected error, run (an unexpected error may be transient: retried)
    with pytest.raises(SystemExit):
        run_rule(smk(cohort="c2"), bad_input)
    logging.getLogger().handlers.clear()
    assert len(calls) == 2
    lines = failure.report_failure(tmp_path / "results" / "report.html", exit=False)
    assert lines == ["seedsig error: expression file x.tsv: no numeric columns; give the samples as columns."]
    assert failure.recorded_user_error("ingest", {"cohort": "c1"}) is None  # cleared with the run's messages


def test_the_workflow_starts_without_scipy_stats():
    """Every Snakemake process parses the workflow (two per SLURM job): what workflow/rules/common.smk imports from
    seedsig must not pull in scipy.stats (0.6 s; the 97.5% z is written out instead)."""
    from scipy import stats

    from seedsig.core.stats import Z975

    assert Z975 == stats.norm.ppf(0.975)
    common = (REPO / "workflow" / "rules" / "common.smk").read_text()
    imports = re.findall(r"^from seedsig[\w.]* import (?:\([^)]*\)|.*)$", common, re.M)  # as written there
    assert any("config" in i for i in imports) and any("figure_plan" in i for i in imports)
    code = "\n".join(["import sys", *imports, "print(sorted(m for m in sys.modules if m.startswith('scipy.stats')))"])
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"
