"""Scale-out on SLURM: the pipeline through `snakemake --profile profiles/slurm` on the local single-node cluster
(scripts/local_slurm.sh) against the same run with `snakemake --cores N` on the same cores.

Two workloads, each run once locally and twice on SLURM in fresh working directories with the default config: with
the profile as shipped (one job per cohort and step, a cohort's ingest and normalize as one: the profile's
`groups`) and with each cohort's steps grouped into one job of one CPU
(`--groups <every non-local rule>=cohort --cores 1`; `--no-groups` skips this variant):
- the example (the built-in 200 x 16,000 cohort);
- a sheet of 12 simulated counts cohorts of 200 to 2,000 samples (`seedsig simulate`, cached in
  benchmarks/out/cluster/).
Reported: wall times, their ratio (cluster / local; the targets of issue 17: <= 2x for the example, <= 1.3x for the
12 cohorts: one 2-core node cannot be faster than the local run), the scheduler's share of the cluster run
(1 - local / cluster wall), the SLURM jobs, their summed run time (sacct Elapsed) and their wait in the queue
(submit to start), and that the cluster's tables equal the local run's.

Run (root, the local cluster; ~50 min on 2 cores at the defaults), with the shared lock:

    scripts/local_slurm.sh start
    flock /work/bench.lock .venv/bin/python benchmarks/bench_cluster.py

`--cohorts 3 --max-samples 400 --genes 4000 --example-runs 1 --no-readme` is a smoke run; `--only-example` runs the
example alone (benchmarks/out/cluster_example.md; the README's section is left as it is). Results:
benchmarks/out/cluster.md and .json, and the section between the BEGIN/END cluster markers of benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_normalize import machine, write_readme_section  # same directory
from bench_scale import simulate

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VENV_BIN = Path(sys.executable).parent
HEADER = "cohort\texpression\tdata_type\tgene_id\tclinical\ttime\tevent\n"


def _env() -> dict:
    return {**os.environ, "PATH": f"{VENV_BIN}:{os.environ['PATH']}"}


def workdir(prefix: str, sheet: str | None) -> Path:
    work = Path(tempfile.mkdtemp(prefix=f"seedsig-cluster-{prefix}-"))
    shutil.copytree(ROOT / "config", work / "config")
    if sheet is not None:
        (work / "config" / "cohorts.tsv").write_text(sheet)
    return work


def run(work: Path, *args: str) -> float:
    """One pipeline run in ``work``: its wall time (s)."""
    cmd = [str(VENV_BIN / "snakemake"), "-s", str(ROOT / "Snakefile"), "-d", str(work), *args]
    t0 = time.monotonic()
    p = subprocess.run(cmd, env=_env(), capture_output=True, text=True)
    wall = time.monotonic() - t0
    (work / "snakemake.log").write_text(p.stdout + p.stderr)
    if p.returncode != 0:
        raise SystemExit(f"the run failed in {work} (see snakemake.log):\n{p.stderr[-3000:]}")
    return wall


def sacct_jobs(work: Path, since: str) -> list[dict]:
    """The run's SLURM jobs: elapsed and queue wait (s)."""
    out = subprocess.run(
        ["sacct", "-a", "-X", "-n", "-P", "-S", since, "-o", "JobIDRaw,Comment,State,Submit,Start,End,WorkDir"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    jobs = []
    for line in out.splitlines():
        jid, comment, state, submit, start, end, wd = line.split("|")
        if Path(wd) != work:
            continue

        def ts(x: str) -> float:
            return datetime.datetime.fromisoformat(x).timestamp()

        jobs.append(
            {
                "id": jid,
                "comment": comment,
                "state": state,
                "wait_s": ts(start) - ts(submit),
                "run_s": ts(end) - ts(start),
            }
        )
    return jobs


def tables(results: Path) -> dict[str, bytes]:
    return {p.relative_to(results).as_posix(): p.read_bytes() for p in sorted(results.rglob("*.tsv*"))}


def cluster_rules() -> list[str]:
    """The workflow's rules that run as SLURM jobs: every rule but the ``localrules`` of workflow/Snakefile."""
    text = "".join(f.read_text() for f in sorted((ROOT / "workflow" / "rules").glob("*.smk")))
    rules = re.findall(r"^rule (\w+):", text, re.M)
    block = re.search(r"^localrules:\n((?:\s+\w+,?\n)+)", (ROOT / "workflow" / "Snakefile").read_text(), re.M)
    local = set(re.findall(r"\w+", block.group(1)))
    return sorted(set(rules) - local)


def compare(name: str, sheet: str | None, cores: int, variants: dict[str, list[str]], keep: bool) -> list[dict]:
    """The workload run once locally (``--cores``) and once on SLURM per variant (label -> extra arguments)."""
    local = workdir(f"{name}-local", sheet)
    rows, dirs = [], [local]
    try:
        load = os.getloadavg()[0]
        local_s = run(local, "--cores", str(cores))
        for label, args in variants.items():
            cluster = workdir(f"{name}-slurm", sheet)
            dirs.append(cluster)
            since = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(time.time() - 2))
            cluster_s = run(cluster, "--profile", str(ROOT / "profiles" / "slurm"), *args)
            jobs = sacct_jobs(cluster, since)
            rows.append(
                {
                    "workload": f"{name}, {label}",
                    "local_s": round(local_s, 1),
                    "cluster_s": round(cluster_s, 1),
                    "ratio": round(cluster_s / local_s, 2),
                    "scheduler_share": round(1 - local_s / cluster_s, 2),
                    "jobs": len(jobs),
                    "jobs_run_s": round(sum(j["run_s"] for j in jobs)),
                    "jobs_wait_s": round(sum(j["wait_s"] for j in jobs)),
                    "states": sorted({j["state"] for j in jobs}),
                    "tables_equal": tables(local / "results") == tables(cluster / "results"),
                    "load_1min_at_start": round(load, 2),
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    finally:
        if not keep:
            for d in dirs:
                shutil.rmtree(d, ignore_errors=True)
    return rows


def cohort_sheet(cache: Path, n: int, lo: int, hi: int, genes: int, seed: int) -> str:
    rows = [HEADER]
    for i in range(n):
        samples = lo + round(i * (hi - lo) / max(n - 1, 1))
        d, _ = simulate(cache, genes, samples, seed + i)
        rows.append(f"c{i + 1:02d}\t{d}/counts.tsv.gz\tcounts\tsymbol\t{d}/clinical.tsv\tmfs_months\tmfs_event\n")
    return "".join(rows)


def median_runs(runs: list[list[dict]]) -> list[dict]:
    """Per variant, the run with the median ratio of several runs of one workload (all ratios kept)."""
    out = []
    for same in zip(*runs):
        ordered = sorted(same, key=lambda r: r["ratio"])
        out.append({**ordered[len(ordered) // 2], "ratios": [r["ratio"] for r in same]})
    return out


def table(rows: list[dict]) -> str:
    head = [
        "workload",
        "local (s)",
        "SLURM (s)",
        "ratio",
        "scheduler's share",
        "SLURM jobs",
        "jobs' run time (s)",
        "jobs' queue wait (s)",
        "tables equal",
        "target",
        "ratio of each run",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        lines.append(
            f"| {r['workload']} | {r['local_s']:.0f} | {r['cluster_s']:.0f} | {r['ratio']:.2f}x "
            f"| {100 * r['scheduler_share']:.0f}% | {r['jobs']} | {r['jobs_run_s']:,} | {r['jobs_wait_s']:,} "
            f"| {'yes' if r['tables_equal'] else 'NO'} | <= {r['target']}x "
            f"| {', '.join(f'{x:.2f}x' for x in r.get('ratios', [r['ratio']]))} |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cohorts", type=int, default=12)
    ap.add_argument("--min-samples", type=int, default=200)
    ap.add_argument("--max-samples", type=int, default=2000)
    ap.add_argument("--genes", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=1700)
    ap.add_argument("--cores", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--cache", type=Path, default=HERE / "out" / "cluster", help="simulated cohorts (reused)")
    ap.add_argument("--skip-example", action="store_true")
    ap.add_argument("--only-example", action="store_true", help="skip the simulated cohorts")
    ap.add_argument(
        "--example-runs", type=int, default=3, help="runs of the example (short, so noisy): the median's row"
    )
    ap.add_argument("--no-groups", action="store_true", help="only the profile as shipped")
    ap.add_argument("--keep", action="store_true", help="keep the working directories")
    ap.add_argument("--no-readme", action="store_true", help="do not write the table into benchmarks/README.md")
    a = ap.parse_args()
    a.example_runs = max(1, a.example_runs)
    a.cache.mkdir(parents=True, exist_ok=True)
    sheet = None if a.only_example else cohort_sheet(a.cache, a.cohorts, a.min_samples, a.max_samples, a.genes, a.seed)
    # A group job runs its steps one after another (the plugin's job step runs Snakemake with --jobs 1), yet asks
    # for the CPUs of its widest layer (up to --cores): with --cores 2 every cohort's job holds both CPUs of the node
    # and cohorts run one at a time, half the CPUs idle during one-thread steps. --cores 1 makes each group job ask
    # for one CPU (its steps run on one thread) and the node runs as many cohorts side by side as it has CPUs.
    groups = ["--cores", "1", "--groups", *(f"{r}=cohort" for r in cluster_rules())]
    variants = {"one job per step, ingest + normalize as one (the profile)": []}
    if not a.no_groups:
        variants["one job per cohort, one CPU each (--groups, --cores 1)"] = groups
    rows = []
    if not a.skip_example:
        runs = [compare("example", None, a.cores, variants, a.keep) for _ in range(a.example_runs)]
        rows += [{**r, "target": 2} for r in median_runs(runs)]
    if not a.only_example:
        name = f"{a.cohorts} cohorts ({a.min_samples:,}-{a.max_samples:,} x {a.genes:,})"
        rows += [{**r, "target": 1.3} for r in compare(name, sheet, a.cores, variants, a.keep)]
    mach = machine()
    md = (
        "## Scale-out on SLURM (one node)\n\n"
        f"Run {datetime.date.today().isoformat()}: `python benchmarks/bench_cluster.py --cohorts {a.cohorts} "
        f"--min-samples {a.min_samples} --max-samples {a.max_samples} --genes {a.genes} --example-runs "
        f"{a.example_runs}{' --only-example' if a.only_example else ''}` on {mach['cores']} cores "
        f"({mach['cpu'] or 'unknown CPU'}); the local single-node SLURM of scripts/local_slurm.sh (slurmctld, slurmd, "
        "slurmdbd; snakemake-executor-plugin-slurm 2.8.0, the profile profiles/slurm) against `snakemake --cores "
        f"{a.cores}` on the same machine, default config, each in a fresh working directory. Ratio: SLURM wall time "
        "over local; the scheduler's share: 1 - local / SLURM (submission, the job's own Snakemake start, the "
        "plugin's status polls, the queue); jobs' run time and queue wait from sacct (submit to start). Each "
        "workload runs locally once and on SLURM twice: with the profile as shipped (one job per cohort and step, "
        "a cohort's ingest and normalize as one job: the profile's `groups`) and with a cohort's steps grouped "
        "into one job of one CPU (`--groups "
        + " ".join(f"{r}=cohort" for r in cluster_rules())
        + " --cores 1`: a group job runs its steps one after another, so one CPU each lets the node run as many "
        "cohorts side by side as it has CPUs). The cluster adds work (two Snakemake starts per job, submission, "
        "polls); a grouped run of many cohorts can still end sooner than the local one, whose threaded steps of big "
        "cohorts leave a CPU idle while they wait for their inputs, where one-CPU cohorts keep both busy. The "
        f"example runs {a.example_runs} times (its local run too: a 30-s run varies by a few seconds); its "
        "rows are the runs with the median ratio, and every run's ratio is in the last column.\n\n" + table(rows) + "\n"
    )
    (HERE / "out").mkdir(exist_ok=True)
    stem = "cluster_example" if a.only_example else "cluster"
    (HERE / "out" / f"{stem}.md").write_text(md)
    (HERE / "out" / f"{stem}.json").write_text(json.dumps(rows, indent=1))
    print(md)
    if not (a.no_readme or a.only_example):  # the README's section holds both workloads
        write_readme_section("cluster", md)


if __name__ == "__main__":
    main()
