"""Shared test helpers and fixtures: paths to the repository and to ../shared (real public datasets, read in place),
running Snakemake on a working directory, the one example run of the session, and the small counts cohort of the
bad-input tests. Test modules import helpers from here (or from tests/helpers/), never from another test module."""

import gzip
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DATASETS = SHARED / "datasets"
GOLDEN = REPO / "tests" / "golden"


def in_ci() -> bool:
    """CI sets CI=1 (.ci/run): there, what a test needs must be present."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def shared_file(*parts: str) -> Path:
    """A file of ../shared/datasets: skipped when absent locally, a failure in CI (which has ../shared beside the
    clone), so a moved or missing dataset cannot turn the real-data tests into silent skips."""
    p = DATASETS.joinpath(*parts)
    if not p.exists():
        if in_ci():
            pytest.fail(f"{p} is missing: CI runs with ../shared beside the repository (CI={os.environ['CI']!r})")
        pytest.skip(f"{p} not available (../shared is beside the repository in CI)")
    return p


# ------------------------------------------------------------------------------------------- Snakemake runs
SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def run_snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    proc = subprocess.run(
        [*SNAKEMAKE, "-s", str(REPO / "Snakefile"), "-d", str(workdir), "--cores", "2", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}")
    return proc


def new_workdir(tmp: Path) -> Path:
    """A working directory as a user has it: the repository's config/ (sheet, config, signatures)."""
    shutil.copytree(REPO / "config", tmp / "config")
    return tmp


def read_tsv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t")


EXAMPLE_COHORTS = ("example", "example_b")


@pytest.fixture(scope="session")
def example_run(tmp_path_factory):
    """The example pipeline, run once per test session (tests/workflow/test_pipeline.py, test_snakemake_report.py and
    test_browser.py share it): the example cohort and a second sheet row on the same files (``example_b``), so that
    the meta-analysis pools something and the report shows pooled rows. Returns (workdir, CompletedProcess)."""
    wd = new_workdir(tmp_path_factory.mktemp("example"))
    sheet = wd / "config" / "cohorts.tsv"
    lines = sheet.read_text().splitlines()
    example = next(ln for ln in lines if ln.startswith("example\t"))
    sheet.write_text("\n".join([*lines, "example_b" + example[len("example") :]]) + "\n")
    return wd, run_snakemake(wd)


# ---------------------------------------------------------------------- the bad-input tests' small cohort
GENES = ["IL6", "IL8", "FSCN1", "MMP1", "ID1", "TNC", "PTGS2", "HBEGF", "IL11", "CTGF", "ESR1", "GAPDH", "ACTB"] + [
    f"RPL{i}" for i in range(3, 40)
]


def write_cohort(wd: Path, n: int = 24, counts_edit=None, clinical_edit=None, sheet_extra: str = "") -> dict:
    rng = np.random.default_rng(7)
    samples = [f"P{i:02d}" for i in range(n)]
    counts = pd.DataFrame(rng.poisson(200, size=(len(GENES), n)), index=pd.Index(GENES, name="gene"), columns=samples)
    clinical = pd.DataFrame(
        {"sample": samples, "months": rng.uniform(1, 100, n).round(1), "relapse": rng.integers(0, 2, n)}
    )
    data = wd / "data"
    data.mkdir(exist_ok=True)
    counts_path, clin_path = data / "counts.tsv", data / "clinical.tsv"
    counts.to_csv(counts_path, sep="\t")
    clinical.to_csv(clin_path, sep="\t", index=False)
    if counts_edit:
        counts_edit(counts_path)
    if clinical_edit:
        clinical_edit(clin_path)
    sheet = wd / "cohorts.tsv"
    sheet.write_text(
        "cohort\texpression\tdata_type\tgene_id\tclinical\ttime\tevent\n"
        f"tiny\t{counts_path}\tcounts\tsymbol\t{clin_path}\tmonths\trelapse\n" + sheet_extra
    )
    cfg = wd / "my.yaml"
    cfg.write_text(f"cohorts: {sheet}\n")
    return {"counts": counts_path, "clinical": clin_path, "sheet": sheet, "config": cfg}


def digest(paths) -> dict:
    return {str(p): hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in paths}


def expect_failure(wd: Path, files: dict, *needles: str, extra_args=(), completed=()) -> str:
    """``completed``: outputs of rules that finished before the failing one (complete and valid, reused by
    Snakemake after the fix); nothing else may be left in results/."""
    before = digest(v for v in files.values() if Path(v).is_file())
    proc = run_snakemake(wd, "--configfile", str(files["config"]), *extra_args, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-3000:]
    for needle in needles:
        assert needle in out, f"{needle!r} not in:\n{out[-3000:]}"
    assert "Traceback (most recent call last)" not in out, out[-3000:]
    results = wd / "results"
    leftovers = (
        [
            p
            for p in results.rglob("*")
            if p.is_file() and "logs" not in p.parts and p.relative_to(results).as_posix() not in completed
        ]
        if results.exists()
        else []
    )
    assert leftovers == [], leftovers
    assert digest(before) == before  # inputs never modified
    return out


@pytest.fixture
def wd(tmp_path):
    """A working directory with the repository's config/ (the bad-input tests' fixture)."""
    return new_workdir(tmp_path)


# ------------------------------------------------------------------------------------------------ misc
def git_head() -> str:
    git = shutil.which("git")
    if git is None:
        return ""
    cmd = [git, "-C", str(REPO), "rev-parse", "--verify", "--quiet", "HEAD"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    return proc.stdout.strip() if proc.returncode == 0 else ""


def cut_gzip(src: Path, dst: Path) -> Path:
    gz = gzip.compress(src.read_bytes())
    dst.write_bytes(gz[: len(gz) // 2])
    return dst
