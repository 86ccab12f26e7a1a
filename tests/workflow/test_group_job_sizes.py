"""A cohort's steps grouped into one cluster job (README, "Running on a cluster": `--groups ...=cohort --cores 1`)
are sized when the group is submitted, before ingest has written the cohort's h5ad: the later steps take the
cohort's size from its own expression file, not the fallback for a cohort whose size cannot be read (a geo:
accession), which asked every grouped cohort for the memory of a 30,000 x 800 one."""

from __future__ import annotations

import re

from conftest import new_workdir, run_snakemake, write_cohort

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
