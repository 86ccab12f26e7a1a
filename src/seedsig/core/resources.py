"""Job sizes: the threads, memory (MB), run time (minutes) and disk (MB) each pipeline step asks for, from the size
of its input. The one place for the formulas and their constants (the rules call :func:`job_size` through
``workflow/rules/common.smk``; config/README.md, "Job sizes", documents them).

A cohort's size is its number of matrix values V (samples x genes, in millions) or, for the steps that read a
single-cell atlas a chunk of cells at a time, its cells. The constants come from ``benchmarks/bench_scale.py``
(peak RSS and seconds per rule at 2,000-10,000 samples x 20,000 genes, where the peaks grow linearly in V) and from
the cluster test (tests/workflow/test_slurm_cluster.py: sacct's MaxRSS of every job of small cohorts, which the base
must cover: a cluster job runs Snakemake's own job process beside the step's Python).

    mem_mb  = (JOB_MB + base_mb + mb_per_mvalue * V [+ mb_per_kcell * cells / 1000])
              * MEM_RETRY_FACTOR ** (attempt - 1)
    runtime = (base_min + seconds / 60 * RUNTIME_SAFETY) * attempt,  seconds = s_per_mvalue * V
              (x n_random / 1000 for the steps that compute random signatures) [+ S_PER_KCELL * cells / 1000]
    threads = 1 below THREADS_MIN_MVALUES (threads would save less than they cost, and the job would wait
              longer for free cores), else max_threads; never more than --cores or the node's CPUs
    disk_mb = DISK_MB_PER_MVALUE * V + 100 (the steps that write a matrix)

A rule not listed in :data:`STEPS` gets :data:`DEFAULT_STEP` (sized like the heaviest per-cohort step), so a new
rule is sized sensibly until its own line is added here.
"""

from __future__ import annotations

import gzip
import math
import os
import shutil
import subprocess
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import h5py

# Memory of the two Snakemake processes of a cluster job besides the step's script (sbatch's and srun's step; sacct:
# ~360 MB each), which a cluster that enforces memory counts with the job.
JOB_MB = 750
# A cohort with fewer matrix values (millions; 10 = 500 samples x 20,000 genes) runs each step on one thread: threads
# would save less than they cost, and two one-thread jobs share a 2-CPU node instead of waiting for each other.
THREADS_MIN_MVALUES = 10.0
# Each retry of a failed job (killed for memory, cancelled, timed out) asks for this much more memory ...
MEM_RETRY_FACTOR = 1.5
# ... and attempt x the run time. Run time requested: the estimate from the benchmark times this.
RUNTIME_SAFETY = 3.0
# Seconds per 1,000 cells of the single-cell steps (bench_single_cell: 33 s for 1,000,000 cells, on 2 threads).
S_PER_KCELL = 0.1
# A cohort whose size cannot be read before the run (a geo: accession, downloaded by ingest): 30,000 x 800.
UNKNOWN_MVALUES = 24.0
# Bytes of uncompressed text per matrix value, for a text table whose lines cannot be sampled (fallback only).
TEXT_BYTES_PER_VALUE = 8.0


@dataclass(frozen=True)
class StepSize:
    """One step's constants (memory in MB, times in minutes or seconds; V = matrix values in millions)."""

    base_mb: float  # memory of the step's own process on a tiny cohort (Python, imports), above JOB_MB
    mb_per_mvalue: float  # + MB per million values (bench_scale's peak growth x 1.2)
    max_threads: int  # threads the step uses on a big cohort
    base_min: float = 5.0  # run time of a job on a tiny cohort (start, imports), with room for a busy node
    s_per_mvalue: float = 0.5  # + seconds per million values (bench_scale, 2 cores)
    per_random: bool = False  # the seconds scale with the random signatures (n_random / 1000)
    threads_min_mvalues: float = THREADS_MIN_MVALUES  # a smaller cohort runs on one thread
    mb_per_kcell: float = 0.0  # + MB per 1,000 cells (single-cell steps, chunked: small)


# Peaks and seconds of bench_scale (20,000 genes; V = 40, 100, 200): ingest 1,200 / 2,978 / 6,550 MB, 8 / 17 / 30 s;
# normalize 950 / 2,048 / 3,978 MB, 8 / 19 / 37 s; coverage 528 / 871 / 1,504 MB; score 1,630 / 2,475 / 4,631 MB,
# 9 / 18 / 28 s; associate 1,803 / 2,482 / 4,645 MB, 22 / 46 / 99 s; survival 1,025 / 1,847 / 3,081 MB,
# 56 / 141 / 313 s; report 851 / 1,206 / 1,779 MB; meta 160 MB. Single cell (bench_single_cell, 100,000 and
# 1,000,000 cells): ingest 302 / 538 MB, cell_scores 819-928 / 1,134-1,174 MB.
STEPS: dict[str, StepSize] = {
    "simulate_example": StepSize(base_mb=300, mb_per_mvalue=0, max_threads=1, s_per_mvalue=0),
    "simulate_single_cell_example": StepSize(base_mb=300, mb_per_mvalue=0, max_threads=1, s_per_mvalue=0),
    "ingest": StepSize(base_mb=450, mb_per_mvalue=40, max_threads=8, s_per_mvalue=0.2, mb_per_kcell=0.4),
    "normalize": StepSize(base_mb=450, mb_per_mvalue=23, max_threads=2, s_per_mvalue=0.25),
    "coverage": StepSize(base_mb=300, mb_per_mvalue=8, max_threads=1, s_per_mvalue=0.05),
    "score": StepSize(base_mb=450, mb_per_mvalue=33, max_threads=8, s_per_mvalue=0.25),
    "reference": StepSize(base_mb=450, mb_per_mvalue=33, max_threads=8, s_per_mvalue=0.25),
    "contributions": StepSize(base_mb=450, mb_per_mvalue=40, max_threads=8, s_per_mvalue=0.5),
    "cell_scores": StepSize(base_mb=500, mb_per_mvalue=0, max_threads=2, mb_per_kcell=0.4),
    "associate": StepSize(base_mb=1000, mb_per_mvalue=25, max_threads=2, s_per_mvalue=0.6, per_random=True),
    "survival": StepSize(base_mb=650, mb_per_mvalue=16, max_threads=2, s_per_mvalue=1.8, per_random=True),
    "meta": StepSize(base_mb=100, mb_per_mvalue=0, max_threads=1, s_per_mvalue=0),
    "report": StepSize(base_mb=400, mb_per_mvalue=5, max_threads=1, s_per_mvalue=0.2),
    "all": StepSize(base_mb=0, mb_per_mvalue=0, max_threads=1, base_min=1, s_per_mvalue=0),
}
# A rule without its own line: sized like the heaviest per-cohort step.
DEFAULT_STEP = StepSize(base_mb=1000, mb_per_mvalue=33, max_threads=2, s_per_mvalue=2.0, per_random=True)
# Steps that write a matrix: disk_mb (MB per million values; the .h5ad is float64 plus its indices)
DISK_MB_PER_MVALUE = {"ingest": 12.0, "normalize": 12.0, "contributions": 40.0}
# Scoring methods whose memory per value is larger than ssGSEA's (bench_scoring: GSVA 1.6 GB where ssGSEA takes
# 0.8 GB on 20,000 x 1,000): the score step's mb_per_mvalue is multiplied by this.
METHOD_MEMORY = {"gsva": 3.5}


@dataclass(frozen=True)
class JobSize:
    threads: int
    mem_mb: int
    runtime: int  # minutes
    disk_mb: int  # 0: not declared


def step_size(step: str) -> StepSize:
    return STEPS.get(step, DEFAULT_STEP)


def job_size(
    step: str,
    mvalues: float,
    *,
    cells: int = 0,
    attempt: int = 1,
    threads_cap: int | None = None,
    n_random: int = 1000,
    method: str | None = None,
) -> JobSize:
    """The size of one job of ``step`` on a cohort of ``mvalues`` million matrix values (and ``cells`` cells)."""
    s = step_size(step)
    attempt = max(1, int(attempt))
    per_value = s.mb_per_mvalue * METHOD_MEMORY.get(method or "", 1.0)
    mem = (JOB_MB + s.base_mb + per_value * mvalues + s.mb_per_kcell * cells / 1000) * MEM_RETRY_FACTOR ** (attempt - 1)
    seconds = s.s_per_mvalue * mvalues * (max(n_random, 1) / 1000 if s.per_random else 1.0)
    seconds += S_PER_KCELL * cells / 1000 if s.mb_per_kcell else 0.0
    runtime = (s.base_min + seconds / 60 * RUNTIME_SAFETY) * attempt
    big = mvalues >= s.threads_min_mvalues or cells >= 100_000
    threads = s.max_threads if big else 1
    if threads_cap:
        threads = max(1, min(threads, int(threads_cap)))
    disk = DISK_MB_PER_MVALUE[step] * mvalues + 100 if step in DISK_MB_PER_MVALUE else 0
    return JobSize(threads=threads, mem_mb=int(math.ceil(mem)), runtime=int(math.ceil(runtime)), disk_mb=int(disk))


# ------------------------------------------------------------------------------------------------ input sizes
def input_shape(path: str | Path | None) -> tuple[int, int] | None:
    """(rows, columns) of an expression input, read cheaply: an .h5ad's shape from its header (cells x genes for
    an atlas, samples x genes for a cohort), a text table's (genes x samples) estimated from its size and a sample
    of its lines. None for a path that does not exist yet or cannot be read."""
    key = _file_key(path)
    return None if key is None else _input_shape(*key)


def _file_key(path: str | Path | None) -> tuple[str, int, int] | None:
    """(resolved path, size, mtime) of an existing file: the cache key of the shape readers (a rewritten file is
    read again), or None for no path or a file that does not exist (yet)."""
    if not path:
        return None
    p = Path(path)
    try:
        st = p.stat()
    except OSError:
        return None
    return str(p.resolve()), st.st_size, st.st_mtime_ns


@lru_cache(maxsize=256)
def _input_shape(path: str, size: int, mtime_ns: int) -> tuple[int, int] | None:
    try:
        if path.endswith(".h5ad"):
            return _h5ad_shape(path)
        return _text_shape(path, size)
    except (OSError, ValueError, KeyError, TypeError, zlib.error, EOFError):
        return None


def pseudobulk_shape(path: str | Path | None, sample_column: str) -> tuple[int, int] | None:
    """(samples, genes) of the pseudobulk a single-cell atlas (.h5ad) sums to, read from its header: the categories
    of its ``obs`` column ``sample_column`` and its genes. None when the column is not stored as categories (its
    samples would have to be read cell by cell) or the file cannot be read."""
    key = _file_key(path)
    return None if key is None else _pseudobulk_shape(*key, sample_column)


@lru_cache(maxsize=64)
def _pseudobulk_shape(path: str, size: int, mtime_ns: int, column: str) -> tuple[int, int] | None:
    try:
        with h5py.File(path, "r") as f:
            genes = _x_shape(f)[1]
            node = f["obs"].get(column)
            if isinstance(node, h5py.Group) and "categories" in node:
                return int(node["categories"].shape[0]), genes
            old = f["obs"].get("__categories")  # anndata < 0.8
            if isinstance(old, h5py.Group) and column in old:
                return int(old[column].shape[0]), genes
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return None


def _h5ad_shape(path: str) -> tuple[int, int]:
    with h5py.File(path, "r") as f:
        return _x_shape(f)


def _x_shape(f: h5py.File) -> tuple[int, int]:
    """The shape of an open .h5ad's X (dense, or sparse from its attributes)."""
    x = f["X"]
    if isinstance(x, h5py.Dataset):
        return int(x.shape[0]), int(x.shape[1])
    shape = x.attrs.get("shape", x.attrs.get("h5sparse_shape"))
    return int(shape[0]), int(shape[1])


def _text_shape(path: str, size: int, sample: int = 1 << 20) -> tuple[int, int]:
    """(data lines, columns - 1) of a delimited text table (gzip or plain): the columns of its header; the lines
    estimated from the uncompressed size of a sample (for gzip: the compression ratio of its first MB)."""
    if path.endswith(".gz"):
        with open(path, "rb") as raw:
            d = zlib.decompressobj(wbits=47)
            data = b""
            read = 0
            while len(data) < sample:
                chunk = raw.read(65536)
                if not chunk:
                    break
                read += len(chunk)
                data += d.decompress(chunk)
        total = len(data) * size / max(read, 1)
    else:
        with open(path, "rb") as f:
            data = f.read(sample)
        total = float(size)
    lines = data.split(b"\n")
    if lines[0].startswith(b"#1.") and len(lines) > 1:  # GCT: its version, then "rows<TAB>columns[...]"
        dims = lines[1].split(b"\t")
        if len(dims) >= 2 and dims[0].strip().isdigit() and dims[1].strip().isdigit():
            return int(dims[0]), int(dims[1])
    skip = 0  # comment and metadata lines before the header (#, GEO series matrix's !Series_...)
    while skip < len(lines) - 1 and lines[skip][:1] in (b"#", b"!"):
        skip += 1
    header = lines[skip]
    ncol = max(1, len(header.split(b"\t" if b"\t" in header else b",")) - 1)
    body = [x for x in lines[skip + 1 : -1] if x[:1] != b"!"]
    if not body:
        return int(total / TEXT_BYTES_PER_VALUE / ncol), ncol
    per_line = sum(len(x) + 1 for x in body) / len(body)
    head_bytes = sum(len(x) + 1 for x in lines[: skip + 1])
    return int(round(max(0.0, (total - head_bytes) / per_line))), ncol


def text_size_exact(path: str | Path) -> tuple[int, int]:
    """(data rows, columns - 1) of a small text table, counted (the tests check the estimate against it)."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        header = f.readline()
        rows = sum(1 for line in f if line.strip())
    return rows, len(header.split(b"\t" if b"\t" in header else b",")) - 1


# ------------------------------------------------------------------------------------------------ the node
def slurm_job_cpus() -> int | None:
    """The CPUs SLURM gave the job this process runs in (``SLURM_CPUS_ON_NODE``), or None outside a SLURM job.

    A cluster job's own Snakemake processes size their steps again, from inputs that may have been written since the
    job was submitted (a group job's later steps: the exact matrix where the submission had an estimate). A step
    asking for more threads than the job holds makes srun fail ("More processors requested than permitted"), so in a
    job the threads never exceed its CPUs."""
    env = os.environ.get("SLURM_CPUS_ON_NODE", "")
    return int(env) if env.isdigit() and int(env) > 0 else None


@lru_cache(maxsize=1)
def slurm_node_cpus() -> int | None:
    """The CPUs of the smallest node of the SLURM cluster this host submits to (``sinfo``), or None without
    SLURM (set ``SEEDSIG_MAX_THREADS`` to override). sbatch rejects a job asking for more CPUs than a node has."""
    env = os.environ.get("SEEDSIG_MAX_THREADS")
    if env and env.isdigit() and int(env) > 0:
        return int(env)
    if not shutil.which("sinfo"):
        return None
    try:
        out = subprocess.run(
            ["sinfo", "-h", "-N", "-o", "%c"], capture_output=True, text=True, timeout=20, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    cpus = [int(x) for x in out.split() if x.isdigit()]
    return min(cpus) if cpus else None
