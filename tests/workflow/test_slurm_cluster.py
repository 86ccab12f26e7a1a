"""The workflow on a real SLURM cluster (a single node on this machine, scripts/local_slurm.sh), through
`snakemake --profile profiles/slurm` as the README says.

One run of a sheet of four cohorts (the example + three simulated cohorts of different sizes), during which one
running job is cancelled with scancel (the run completes through the profile's retries); then one cohort's results
are removed and the run is killed (SIGKILL) while that cohort's jobs run, unlocked and resumed; then the README's
command for many cohorts (each cohort's steps grouped into one job of one CPU) runs the sheet afresh. Checked: every
table equals the local run's byte for byte (the example's against the session's `example_run`, the others against a
local run of the same sheet), and through sacct: every job of the cluster rules ran as a SLURM job (its rule in the job
comment; a cohort's ingest and normalize as one job, the profile's group, whose comment names both) and COMPLETED,
no local rule was submitted, and each job's MaxRSS (its batch step's Snakemake + its step, which run side by side)
<= its memory request <= 3 x max(MaxRSS, 500 MB). A cohort with bad input: the seedsig
one-line message ends the terminal output, and the retry stops at once.

Needs root, the Debian packages slurm-wlm munge slurmdbd mariadb-server and the plugin (`pip install '.[slurm]'`);
without them the test is skipped with the reason, except in CI (CI=1), where it fails. The cluster is started
(idempotently) by scripts/local_slurm.sh start; .ci/run starts it before the tests and stops it at the end.
"""

from __future__ import annotations

import importlib.util
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import REPO, SNAKEMAKE, in_ci, new_workdir, write_cohort

from seedsig.core.resources import MEM_RETRY_FACTOR

pytestmark = [pytest.mark.slow, pytest.mark.slurm]

SCRIPT = REPO / "scripts" / "local_slurm.sh"
PROFILE = REPO / "profiles" / "slurm"
# samples x genes of the three simulated cohorts (the example: 200 x 16,000)
COHORTS = {"sim_small": (40, 2500), "sim_mid": (90, 4000), "sim_big": (160, 6000)}
CLUSTER_RULES = ("ingest", "normalize", "score", "associate", "survival")  # each must run as a SLURM job
LOCAL_RULES = {"all", "simulate_example", "simulate_single_cell_example", "coverage", "meta", "report"}
PER_METHOD = {"score", "contributions"}  # one job per cohort and scoring method
METHODS = ("ssgsea", "zscore")
# the test's command line besides the profile as shipped: a missing output is reported after 10 s, not 60
FAST = ("--latency-wait", "10")
TIMINGS: dict[str, float] = {}
SACCT_FIELDS = "JobIDRaw,Comment,State,ReqMem,MaxRSS,WorkDir,Elapsed,AllocCPUS,SubmitLine"  # SubmitLine last
# the profile's group: a cohort's ingest and normalize in one job (comment rule_{group}_{rules}, no wildcards)
PROFILE_GROUP = ("ingest", "normalize")


def _cluster() -> None:
    """Skip (fail in CI) without what a local cluster needs; else start it (idempotent)."""
    missing = []
    if os.geteuid() != 0:
        missing.append("root (the cluster's daemons run as system users)")
    for tool in ("sbatch", "sacct", "slurmctld", "slurmd", "slurmdbd", "munged", "mysqld"):
        if not shutil.which(tool) and not Path(f"/usr/sbin/{tool}").exists():
            missing.append(tool)
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        missing.append("snakemake-executor-plugin-slurm (pip install '.[slurm]')")
    if missing:
        reason = "no local SLURM cluster: missing " + ", ".join(missing) + " (apt-get install slurm-wlm munge "
        reason += "slurmdbd mariadb-server; then scripts/local_slurm.sh start, as root)"
        (pytest.fail if in_ci() else pytest.skip)(reason)
    proc = subprocess.run(["bash", str(SCRIPT), "start"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]


def _env() -> dict:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def _cluster_cmd(wd: Path, *args: str) -> list[str]:
    return [*SNAKEMAKE, "-s", str(REPO / "Snakefile"), "-d", str(wd), "--profile", str(PROFILE), *FAST, *args]


def _run(cmd: list[str], check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=1500)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")
    return proc


def _local(wd: Path, *args: str) -> None:
    _run([*SNAKEMAKE, "-s", str(REPO / "Snakefile"), "-d", str(wd), "--cores", "2", *args])


def _squeue(wd: Path) -> list[dict]:
    """This working directory's jobs in the queue: id, comment (the rule), state, seconds running."""
    out = subprocess.run(["squeue", "-h", "-o", "%i|%k|%T|%M|%Z"], capture_output=True, text=True, check=True).stdout
    jobs = []
    for line in out.splitlines():
        jid, comment, state, elapsed, workdir = line.split("|")
        if Path(workdir) == wd:
            secs = sum(int(x) * 60**i for i, x in enumerate(reversed(re.split(r"[:-]", elapsed))))
            jobs.append({"id": jid, "comment": comment, "state": state, "seconds": secs})
    return jobs


def _sacct(wd: Path, since: str) -> list[dict]:
    """Every job of this working directory since ``since``: comment, state, requested and peak memory (MB), and
    the steps it ran (rule, wildcards) from its sbatch line's --target-jobs."""
    out = subprocess.run(
        ["sacct", "-a", "-n", "-P", "-S", since, "-o", SACCT_FIELDS],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    jobs: dict[str, dict] = {}
    for line in out.splitlines():
        jid, comment, state, reqmem, maxrss, workdir, elapsed, cpus, submit = line.split("|", 8)
        root = jid.split(".")[0]
        if "." not in jid:
            if Path(workdir) != wd:
                continue
            jobs[root] = {"id": root, "comment": comment, "state": state.split()[0], "req_mb": _mb(reqmem)}
            jobs[root].update(max_rss_mb=0.0, batch_mb=0.0, elapsed=elapsed, cpus=int(cpus or 0))
            jobs[root]["targets"] = _targets(submit)
        elif root in jobs:
            key = "batch_mb" if jid.endswith(".batch") else "max_rss_mb"
            jobs[root][key] = max(jobs[root][key], _mb(maxrss))
    return list(jobs.values())


def _targets(submit_line: str) -> tuple[tuple[str, str, str], ...]:
    """(rule, cohort, method or "") of each step a job ran: its Snakemake's --target-jobs 'rule:cohort=x,method=y'."""
    m = re.search(r"--target-jobs((?: '[^']+')+)", submit_line)
    assert m, submit_line[:2000]
    steps = []
    for rule, wildcards in re.findall(r"'(\w+):([^']*)'", m.group(1)):
        values = dict(kv.split("=", 1) for kv in wildcards.split(",") if kv)
        steps.append((rule, values.get("cohort", ""), values.get("method", "")))
    return tuple(sorted(steps))


def _mb(text: str) -> float:
    m = re.match(r"([\d.]+)([KMGT]?)", text or "")
    if not m:
        return 0.0
    return float(m.group(1)) * {"K": 1 / 1024, "M": 1, "G": 1024, "T": 1024**2, "": 1 / 1024**2}[m.group(2)]


def _tables(results: Path, cohorts) -> dict[str, bytes]:
    out = {}
    for c in cohorts:
        for p in sorted((results / c).rglob("*.tsv*")):
            out[p.relative_to(results).as_posix()] = p.read_bytes()
    return out


def _sheet_workdir(base: Path) -> Path:
    """The repository's config/ with a sheet of the example and three simulated cohorts."""
    wd = new_workdir(base)
    lines = (wd / "config" / "cohorts.tsv").read_text().splitlines()
    for i, (name, (n, g)) in enumerate(COHORTS.items()):
        out = wd / "data" / name
        cmd = ["seedsig", "simulate", "--out", str(out), "--seed", str(20 + i), "--n-samples", str(n)]
        subprocess.run([*cmd, "--n-genes", str(g)], check=True, env=_env(), capture_output=True, timeout=300)
        lines.append(
            f"{name}\tdata/{name}/counts.tsv.gz\tcounts\tsymbol\tdata/{name}/clinical.tsv\tmfs_months\tmfs_event"
        )
    (wd / "config" / "cohorts.tsv").write_text("\n".join(lines) + "\n")
    return wd


def _cancel_one_running_job(wd: Path, stop: threading.Event, cancelled: list) -> None:
    """scancel the first associate or survival job seen running for 2 s (once)."""
    while not stop.is_set() and not cancelled:
        for job in _squeue(wd):
            if (
                job["state"] == "RUNNING"
                and job["seconds"] >= 2
                and re.match(r"rule_(associate|survival)", job["comment"])
            ):
                subprocess.run(["scancel", job["id"]], check=True)
                cancelled.append(job)
                return
        time.sleep(0.5)


def _kill_and_resume(wd: Path, cohort: str) -> subprocess.CompletedProcess:
    """Remove a cohort's results, start the run, SIGKILL snakemake while that cohort's ingest/normalize job runs,
    cancel its leftover jobs, unlock and run the same command again (README, "Running on a cluster")."""
    shutil.rmtree(wd / "results" / cohort)
    proc = subprocess.Popen(
        _cluster_cmd(wd), env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.time() + 600
    while time.time() < deadline:
        if any(j["state"] == "RUNNING" and "normalize" in j["comment"] for j in _squeue(wd)):
            break
        assert proc.poll() is None, "the run ended before it could be killed"
        time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    for job in _squeue(wd):  # a killed snakemake leaves its jobs running
        subprocess.run(["scancel", job["id"]], check=True)
    while _squeue(wd):
        time.sleep(0.5)
    locked = _run(_cluster_cmd(wd), check=False)
    assert locked.returncode != 0 and "cannot be locked" in locked.stdout + locked.stderr
    _run(_cluster_cmd(wd, "--unlock"))
    return _run(_cluster_cmd(wd))  # the same command (the profile sets rerun-incomplete)


def test_the_pipeline_on_a_slurm_cluster(tmp_path, example_run):
    t0 = time.time()
    _cluster()
    since = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(time.time() - 2))
    cohorts = ["example", *COHORTS]

    # the local reference: the sheet run with --cores 2 (the example's results copied from the session's run)
    local = _sheet_workdir(tmp_path / "local")
    example_wd = example_run[0]
    shutil.copytree(example_wd / "resources", local / "resources")
    shutil.copytree(example_wd / "results" / "example", local / "results" / "example")
    _local(local)
    t1 = time.time()

    wd = tmp_path / "cluster"
    shutil.copytree(local / "config", wd / "config")
    shutil.copytree(local / "data", wd / "data")
    stop, cancelled = threading.Event(), []
    watcher = threading.Thread(target=_cancel_one_running_job, args=(wd, stop, cancelled))
    watcher.start()
    try:
        proc = _run(_cluster_cmd(wd))
    finally:
        stop.set()
        watcher.join()
    t2 = time.time()
    assert cancelled, "no associate/survival job was seen running to cancel"
    out = proc.stdout + proc.stderr
    assert "seedsig: done." in out

    expected = _tables(local / "results", cohorts)
    assert len(expected) >= 4 * 13  # 13 tables per cohort at least (scores of two methods)
    got = _tables(wd / "results", cohorts)
    assert got.keys() == expected.keys()
    assert [k for k in got if got[k] != expected[k]] == []
    assert (wd / "results" / "meta" / "correlations.tsv").read_bytes() == (
        local / "results" / "meta" / "correlations.tsv"
    ).read_bytes()
    # the example cohort's tables are those of the session's local example run
    ex = _tables(example_wd / "results", ["example"])
    assert ex and all(got[k] == v for k, v in ex.items())

    resumed = _kill_and_resume(wd, "sim_mid")
    t3 = time.time()
    assert "seedsig: done." in resumed.stdout + resumed.stderr
    again = _tables(wd / "results", cohorts)
    assert [k for k in expected if again.get(k) != expected[k]] == []

    jobs = _sacct(wd, since)
    _check_jobs(jobs, cohorts, cancelled[0]["id"])

    # the README's command for many cohorts: each cohort's steps in one job of one CPU
    grouped = tmp_path / "grouped"
    shutil.copytree(local / "config", grouped / "config")
    shutil.copytree(local / "data", grouped / "data")
    proc = _run(_cluster_cmd(grouped, *_readme_grouped_args()))
    t4 = time.time()
    assert "seedsig: done." in proc.stdout + proc.stderr
    got = _tables(grouped / "results", cohorts)
    assert got.keys() == expected.keys() and [k for k in got if got[k] != expected[k]] == []
    group_jobs = _sacct(grouped, since)
    assert len(group_jobs) == len(cohorts), group_jobs  # one job per cohort
    for j in group_jobs:
        assert j["state"] == "COMPLETED" and j["cpus"] == 1, j
        assert 0 < j["max_rss_mb"] and j["batch_mb"] + j["max_rss_mb"] <= j["req_mb"], j
    TIMINGS.update(local=t1 - t0, cluster_run=t2 - t1, kill_resume=t3 - t2, grouped=t4 - t3)


def _readme_grouped_args() -> list[str]:
    """The arguments after the profile of the README's command for many cohorts, as written there."""
    text = (REPO / "README.md").read_text().replace("\\\n", " ")
    m = re.search(r"^snakemake --profile profiles/slurm (--cores 1 --groups [^\n]+)$", text, re.M)
    assert m, "README.md: the grouped command of 'Running on a cluster' is missing"
    return m.group(1).split()


def _check_jobs(jobs: list[dict], cohorts: list[str], cancelled_id: str) -> None:
    group = "rule_cohort_" + "_".join(PROFILE_GROUP)
    for j in jobs:  # the comment names the job's rules: rule_{rule}_wildcards_{cohort}[_{method}], or the group's
        rules = {rule for rule, _, _ in j["targets"]}
        if len(j["targets"]) == 1:
            ((rule, cohort, method),) = j["targets"]
            assert j["comment"] == f"rule_{rule}_wildcards_{cohort}" + (f"_{method}" if method else ""), j
        else:
            assert j["comment"] == group and rules == set(PROFILE_GROUP), j
            assert len({cohort for _, cohort, _ in j["targets"]}) == 1, j  # one cohort per group job
    submitted = {rule for j in jobs for rule, _, _ in j["targets"]}
    assert set(CLUSTER_RULES) <= submitted and not submitted & LOCAL_RULES, submitted  # no local rule submitted
    completed = [j for j in jobs if j["state"] == "COMPLETED"]
    others = [j for j in jobs if j["state"] != "COMPLETED"]
    assert {j["state"] for j in others} <= {"CANCELLED"}, others
    assert cancelled_id in {j["id"] for j in others}
    for cohort in cohorts:
        for rule in submitted:
            runs = [j for j in completed for r, c, _ in j["targets"] if (r, c) == (rule, cohort)]
            assert len(runs) >= (len(METHODS) if rule in PER_METHOD else 1), (rule, cohort, jobs)
    first_request = {}  # per job's steps: a retry runs the same steps
    for j in jobs:
        first_request[j["targets"]] = min(first_request.get(j["targets"], j["req_mb"]), j["req_mb"])
    for j in completed:  # honest memory requests: the batch step's Snakemake runs beside the job's step
        peak = max(j["max_rss_mb"], j["batch_mb"])
        assert 0 < j["max_rss_mb"] and j["batch_mb"] + j["max_rss_mb"] <= j["req_mb"], j
        # a retry asks for MEM_RETRY_FACTOR x more by design: its first attempt's request is the sizing checked
        attempt = 1 + round(math.log(j["req_mb"] / first_request[j["targets"]]) / math.log(MEM_RETRY_FACTOR))
        assert j["req_mb"] / MEM_RETRY_FACTOR ** (attempt - 1) <= 3 * max(peak, 500), j
    sizes = [(j["comment"], round(j["batch_mb"]), round(j["max_rss_mb"]), j["req_mb"]) for j in completed]
    print("\nSLURM jobs:", len(jobs), "batch / step peak / requested MB:", sizes)


def test_a_user_error_on_the_cluster_is_said_once_and_not_retried(tmp_path):
    """Bad input on a cluster: the seedsig one-line message ends the terminal output; the retry stops at once."""
    _cluster()
    since = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(time.time() - 2))
    wd = new_workdir(tmp_path)

    def text(p):
        p.write_text(p.read_text().replace("\n", "\nBADGENE\t" + "\t".join(["x"] * 24) + "\n", 1))

    files = write_cohort(wd, counts_edit=text)
    t0 = time.time()
    proc = _run(_cluster_cmd(wd, "--configfile", str(files["config"]), "--retries", "1"), check=False)
    TIMINGS["user_error"] = time.time() - t0
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    last = [ln for ln in out.splitlines() if ln.strip()][-1]
    assert last.startswith("seedsig error:") and "non-numeric value 'x'" in last and "BADGENE" in last, out[-3000:]
    assert "Traceback (most recent call last)" not in out
    jobs = _sacct(wd, since)
    assert [j["state"] for j in jobs] == ["FAILED", "FAILED"], jobs  # the first attempt and its retry
    assert jobs[1]["req_mb"] > jobs[0]["req_mb"]  # the retry asked for more memory ...
    log = (wd / "results" / "logs" / "ingest" / "tiny.log").read_text()
    assert "not retried" in log  # ... but stopped at once with the recorded message
    print("\ncluster test timings (s):", {k: round(v) for k, v in TIMINGS.items()})
