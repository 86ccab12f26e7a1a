"""Scaled-down checks of issue 16's big-cohort claims through Snakemake: the rules' threads do not change any output,
and a 2,000-sample x 20,000-gene counts cohort runs with every job far below what a temporary of the matrix's size
in each step would take (benchmarks/bench_scale.py measures the full sizes)."""

import gzip
import os
import re
import subprocess
import sys

import pytest
import yaml
from conftest import REPO, SNAKEMAKE, new_workdir

from seedsig.simulate import simulate_cohort

pytestmark = pytest.mark.slow

# the largest child's maximum RSS of the command (GNU time's figure), in kB, printed last by this wrapper
WRAP = (
    "import resource, subprocess, sys; p = subprocess.run(sys.argv[1:]); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(p.returncode)"
)


def _workdir(tmp, name: str, n_samples: int, n_genes: int, **config) -> object:
    wd = new_workdir(tmp / name)
    simulate_cohort(wd / "cohort", seed=7, n_samples=n_samples, n_genes=n_genes)
    (wd / "config" / "cohorts.tsv").write_text(
        "cohort\texpression\tdata_type\tgene_id\tclinical\ttime\tevent\n"
        "big\tcohort/counts.tsv.gz\tcounts\tsymbol\tcohort/clinical.tsv\tmfs_months\tmfs_event\n"
    )
    cfg = yaml.safe_load((wd / "config" / "config.yaml").read_text())
    for section, values in config.items():
        cfg[section].update(values)
    (wd / "config" / "config.yaml").write_text(yaml.safe_dump(cfg))
    return wd


def _run(wd, *args: str) -> int:
    """The pipeline in ``wd`` (--cores 2); the largest job's maximum RSS in MB. Snakemake's output goes to
    ``wd/snakemake.log``."""
    env = {**os.environ, "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ.get('PATH', '')}"}
    cmd = [*SNAKEMAKE, "-s", str(REPO / "Snakefile"), "-d", str(wd), "--cores", "2", *args]
    p = subprocess.run([sys.executable, "-c", WRAP, *cmd], capture_output=True, text=True, env=env, timeout=1500)
    assert p.returncode == 0, f"snakemake failed:\n{p.stdout[-3000:]}\n{p.stderr[-5000:]}"
    (wd / "snakemake.log").write_text(p.stderr)
    return int(p.stdout.strip().splitlines()[-1]) // 1024


def _tables(results) -> dict[str, bytes]:
    return {
        str(p.relative_to(results)): gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes()
        for p in sorted(results.rglob("*"))
        if p.suffix in (".tsv", ".gz") and "logs" not in p.parts
    }


def _job_threads(log: str) -> dict[str, int]:
    """The threads of the normalize, associate and survival jobs in Snakemake's output."""
    out = {}
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", log):
        m = re.match(r"(?:local)?rule (normalize|associate|survival):", block)
        if m:
            t = re.search(r"^\s+threads: (\d+)", block.split("Shell command")[0], re.M)
            out[m.group(1)] = int(t.group(1)) if t else 1
    return out


FAST = {"associate": {"n_random": 150, "n_bootstrap": 150}, "survival": {"n_random": 150}}


def test_rule_threads_do_not_change_any_table(tmp_path):
    """normalize, associate and survival with 1 thread each and with their 2 threads: the same tables."""
    targets = ("results/big/correlations.tsv", "results/big/survival.tsv")  # the rules with threads, no report
    one = _workdir(tmp_path, "one", 80, 3000, **FAST)
    _run(one, *targets, "--set-threads", "normalize=1", "associate=1", "survival=1")  # (the option takes the rest)
    two = _workdir(tmp_path, "two", 80, 3000, **FAST)  # 0.24 M values: sized to 1 thread, given 2 here
    _run(two, *targets, "--set-threads", "normalize=2", "associate=2", "survival=2")
    for wd, n in ((one, 1), (two, 2)):  # the threads each run gave the rules (Snakemake prints them when > 1)
        assert _job_threads((wd / "snakemake.log").read_text()) == {"normalize": n, "associate": n, "survival": n}
    t1, t2 = _tables(one / "results"), _tables(two / "results")
    assert "big/correlations.tsv" in t1 and "big/survival.tsv" in t1 and "big/null_correlations.tsv.gz" in t1
    assert t1 == t2
    log = (two / "results" / "logs" / "associate" / "big.log").read_text()
    assert "random null B=150" in log


# Largest job (MB) of each step of the run below, run step by step (FAST: B = 150). Measured 2026-12-07 (20,000 genes
# x 2,000 samples; the count matrix is 320 MB as float64): ingest 898 MB (1,200 MB with the all-NA rows' copy, the
# NaN-free copy of the per-million check and the input matrix kept after harmonizing; 900-1,280 MB from run to run
# while pyarrow's pool kept the parsed table's freed buffers), normalize 973, score 1,150,
# associate/survival/meta/report 1,213 (associate). Each bound lies below measurement + 320 MB: one more temporary of
# the count matrix's size in a step fails it. tests/unit/test_scale.py bounds single temporaries (tracemalloc).
STEPS = (
    ("ingest", ("results/big/ingested.h5ad",), 1150),
    ("normalize", ("results/big/expression.h5ad",), 1250),
    ("score", ("results/big/scores/ssgsea.tsv", "results/big/scores/zscore.tsv", "results/big/coverage.tsv"), 1400),
    ("associate, survival, meta, report", (), 1500),
)


def test_a_two_thousand_sample_cohort_runs_in_bounded_memory(tmp_path):
    wd = _workdir(tmp_path, "big", 2000, 20000, **FAST)
    peaks = {}
    for name, targets, bound in STEPS:
        peaks[name] = _run(wd, "--notemp", *targets)
        assert peaks[name] < bound, f"{name}: largest job {peaks[name]} MB (bound {bound} MB)"
    assert (wd / "results" / "report.html").stat().st_size < 15e6
    print("largest job per step (MB):", peaks)
