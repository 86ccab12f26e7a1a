"""A cohort's steps grouped into one cluster job (README, "Running on a cluster": `--groups ...=cohort --cores 1`)
are sized when the group is submitted, before ingest has written the cohort's h5ad: the later steps take the
cohort's size from its own expression file, not the fallback for a cohort whose size cannot be read (a geo:
accession), which asked every grouped cohort for the memory of a 30,000 x 800 one. The SLURM profile's own group
(a cohort's ingest and normalize) is sized the same way, a single-cell atlas's normalize from its pseudobulk."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import anndata as ad
import pandas as pd
import scipy.sparse as sp
import yaml
from conftest import REPO, new_workdir, run_snakemake, write_cohort

from seedsig.core import resources as js

GROUPS = [f"{r}=cohort" for r in ("ingest", "normalize", "score", "contributions", "associate", "survival")]


def _requests(out: str) -> dict[str, int]:
    """rule -> mem_mb of the dry run's jobs (the first job of each rule)."""
    found = {}
    for m in re.finditer(r"rule (\w+):\n(?:.*\n)*?\s+resources: [^\n]*?mem_mb=(\d+)", out):
        found.setdefault(m.group(1), int(m.group(2)))
    return found


def test_a_group_job_sizes_its_later_steps_from_the_cohorts_own_matrix(tmp_path):
    wd = new_workdir(tmp_path)
    files = write_cohort(wd, n=60)
    proc = run_snakemake(wd, "--configfile", str(files["config"]), "-n", "--cores", "1", "--groups", *GROUPS)
    out = proc.stdout + proc.stderr
    assert "Group job cohort" in out, out[-2000:]
    assert not (wd / "results" / "tiny" / "ingested.h5ad").exists()  # a dry run: nothing written yet
    rows, cols = js.input_shape(files["counts"])
    mvalues = rows * cols / 1e6
    got = _requests(out)
    for step in ("normalize", "associate", "survival"):
        assert got[step] == js.job_size(step, mvalues, threads_cap=1).mem_mb, (step, got)
        assert got[step] < js.job_size(step, js.UNKNOWN_MVALUES, threads_cap=1).mem_mb


def test_the_slurm_profiles_group_sizes_normalize_from_the_cohort_and_the_atlas_pseudobulk(tmp_path):
    profile = yaml.safe_load((REPO / "profiles" / "slurm" / "config.yaml").read_text())
    assert profile["groups"] == ["ingest=cohort", "normalize=cohort"]
    wd = new_workdir(tmp_path)
    atlas = wd / "data" / "atlas.h5ad"
    sim = [str(Path(sys.executable).parent / "seedsig"), "simulate", "--out", str(wd / "data" / "sim")]
    sim += ["--single-cell", str(atlas), "--n-samples", "9", "--n-genes", "1500"]
    subprocess.run(sim, check=True, capture_output=True, timeout=300)
    files = write_cohort(wd, n=60)
    sheet = files["sheet"].read_text().splitlines()
    sheet[0] += "\tsample_column\tlayer"
    sheet[1] += "\t\t"
    sheet.append(f"atlas\t{atlas}\tcounts\tsymbol\t\tmfs_months\tmfs_event\tsample\tcounts")
    files["sheet"].write_text("\n".join(sheet) + "\n")
    proc = run_snakemake(wd, "--configfile", str(files["config"]), "-n", "--cores", "2", "--groups", *profile["groups"])
    out = proc.stdout + proc.stderr
    assert out.count("Group job cohort") == 2, out[-3000:]  # one job per cohort: its ingest, then its normalize
    requests = {}
    job = r"rule normalize:\n(?:.*\n)*?\s+wildcards: cohort=(\w+)\n(?:.*\n)*?\s+resources: [^\n]*?mem_mb=(\d+)"
    for m in re.finditer(job, out):
        requests[m.group(1)] = int(m.group(2))
    rows, cols = js.input_shape(files["counts"])
    assert js.pseudobulk_shape(atlas, "sample") == (9, 1500)
    expected = {"tiny": rows * cols / 1e6, "atlas": 9 * 1500 / 1e6}
    for cohort, mvalues in expected.items():
        assert requests[cohort] == js.job_size("normalize", mvalues, threads_cap=2).mem_mb, (cohort, requests)
        assert requests[cohort] < js.job_size("normalize", js.UNKNOWN_MVALUES, threads_cap=2).mem_mb


def test_in_a_cluster_job_a_step_never_asks_for_more_threads_than_the_job_holds(tmp_path, monkeypatch):
    """A group job is submitted with the threads its steps need by the estimate at submission; its own Snakemake
    sizes the later steps again from what ingest wrote. A cohort near the threads threshold (V = 10) then asked for
    2 threads in a 1-CPU job and srun refused the step ("More processors requested than permitted"): in a job's own
    processes (Snakemake's --mode remote) the threads never exceed the job's CPUs (SLURM_CPUS_ON_NODE)."""
    wd = new_workdir(tmp_path)
    files = write_cohort(wd, n=60)
    ingested = wd / "results" / "tiny" / "ingested.h5ad"
    ingested.parent.mkdir(parents=True)
    n, g = 1000, 10_001  # V = 10.001: normalize's max_threads (2) by its size
    ad.AnnData(X=sp.csr_matrix((n, g)), var=pd.DataFrame(index=[f"G{i}" for i in range(g)])).write_h5ad(ingested)
    assert js.job_size("normalize", n * g / 1e6, threads_cap=2).threads == 2
    args = ["--configfile", str(files["config"]), "-n", "-f", "--nolock", "results/tiny/expression.h5ad"]

    def normalize_threads(*extra: str) -> int:
        out = run_snakemake(wd, *args, *extra).stdout
        job = re.search(r"rule normalize:\n((?:\s+\w+: .*\n)+)", out)
        assert job, out[-3000:]
        m = re.search(r"threads: (\d+)", job.group(1))
        return int(m.group(1)) if m else 1  # Snakemake prints threads above 1 only

    monkeypatch.setenv("SLURM_CPUS_ON_NODE", "1")
    assert normalize_threads() == 2  # the main process: the job is submitted with what the step needs
    assert normalize_threads("--mode", "remote") == 1  # the job's own process, in a 1-CPU job
    monkeypatch.delenv("SLURM_CPUS_ON_NODE")
    assert normalize_threads("--mode", "remote") == 2  # outside SLURM: --cores only
