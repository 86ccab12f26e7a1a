"""The whole pipeline on big simulated bulk cohorts: time, memory and report size as the samples grow.

For each size (default 20,000 genes x 2,000, 5,000 and 10,000 samples) the bulk simulator writes a counts cohort
(`seedsig simulate`, cached in benchmarks/out/scale/), then the pipeline runs on it with the default config (ssgsea +
zscore, B = 1,000 random signatures, bootstrap, prerank, Cox null, report) as `snakemake --cores 2` in a fresh working
directory under GNU time. Reported: wall time of the run, time and peak RSS of every rule's job (a /proc poller, every
0.2 s, over the job's processes), the largest sum of the RSS of the jobs running side by side, GNU time's maximum RSS of
`snakemake` (the largest child), the size of results/report.html, and the ratios time(n)/time(smallest n).

Run (the big sizes take the shared lock, ~1 h in all on 2 cores):

    flock /work/bench.lock .venv/bin/python benchmarks/bench_scale.py

`--samples 300 --genes 4000 --no-readme` is a two-minute smoke run. Results: benchmarks/out/scale.md and .json, and
the section between the BEGIN/END scale markers of benchmarks/README.md.
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
import threading
import time
from pathlib import Path

from bench_normalize import machine, write_readme_section  # same directory

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VENV_BIN = Path(sys.executable).parent
RULE = re.compile(r"rule_(\w+)\.py")


class Poller(threading.Thread):
    """Samples /proc every ``interval`` s: per Snakemake job (a process running a rule script of ``workdir``, with
    its children) its RSS; per rule the peak RSS and the time it was seen running; the peak of the jobs' sum."""

    def __init__(self, workdir: Path, interval: float = 0.2):
        super().__init__(daemon=True)
        self.where, self.interval = str(workdir), interval
        self.rules: dict[str, dict] = {}
        self.peak_sum = 0
        self.stop = threading.Event()

    def _snapshot(self) -> dict[int, tuple[int, str, int]]:
        procs = {}
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="ignore").replace("\0", " ")
                stat = Path(f"/proc/{pid}/stat").read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                rss = int(stat.rsplit(")", 1)[1].split()[21]) * os.sysconf("SC_PAGE_SIZE")
            except (OSError, ValueError, IndexError):
                continue
            procs[int(pid)] = (ppid, cmd, rss)
        return procs

    def run(self) -> None:
        while not self.stop.is_set():
            procs = self._snapshot()
            jobs: dict[int, tuple[str, int]] = {}
            for pid, (_, cmd, rss) in procs.items():
                m = RULE.search(cmd)
                if m and self.where in cmd:
                    jobs[pid] = (m.group(1), rss)
            for pid, (ppid, _, rss) in procs.items():  # children of a job (e.g. numba, R) count for it
                if ppid in jobs and pid not in jobs:
                    name, total = jobs[ppid]
                    jobs[ppid] = (name, total + rss)
            now = time.monotonic()
            for pid, (name, rss) in jobs.items():
                r = self.rules.setdefault(f"{name}", {"peak_rss": 0, "jobs": {}})
                r["peak_rss"] = max(r["peak_rss"], rss)
                first, _ = r["jobs"].get(pid, (now, now))
                r["jobs"][pid] = (first, now)
            self.peak_sum = max(self.peak_sum, sum(rss for _, rss in jobs.values()))
            time.sleep(self.interval)

    def summary(self) -> dict[str, dict]:
        return {
            name: {
                "peak_rss_mb": round(r["peak_rss"] / 1e6),
                "seconds": round(sum(b - a for a, b in r["jobs"].values()), 1),
                "jobs": len(r["jobs"]),
            }
            for name, r in self.rules.items()
        }


def gnu_time(path: Path) -> dict:
    text = path.read_text()
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    return {"max_rss_mb": round(int(rss.group(1)) / 1e3) if rss else None}


def simulate(cache: Path, genes: int, samples: int, seed: int) -> tuple[Path, dict]:
    """The simulated cohort (cached): its directory and how long the simulation took."""
    out = cache / f"cohort_{genes}x{samples}_seed{seed}"
    info_path = out / "simulation.json"
    if info_path.is_file():
        return out, json.loads(info_path.read_text())
    tfile = cache / f".time_{genes}x{samples}"
    t0 = time.monotonic()
    cmd = [str(VENV_BIN / "seedsig"), "simulate", "--out", str(out), "--n-genes", str(genes)]
    cmd += ["--n-samples", str(samples), "--seed", str(seed)]
    subprocess.run(["/usr/bin/time", "-v", "-o", str(tfile), *cmd], check=True, capture_output=True)
    info = {"seconds": round(time.monotonic() - t0, 1), **gnu_time(tfile)}
    info_path.write_text(json.dumps(info))
    return out, info


def run_pipeline(cohort: Path, work: Path, cores: int) -> dict:
    """The pipeline with the default config on ``cohort`` in ``work``: the run's figures."""
    shutil.copytree(ROOT / "config", work / "config")
    (work / "config" / "cohorts.tsv").write_text(
        "cohort\texpression\tdata_type\tgene_id\tclinical\ttime\tevent\n"
        f"big\t{cohort}/counts.tsv.gz\tcounts\tsymbol\t{cohort}/clinical.tsv\tmfs_months\tmfs_event\n"
    )
    env = {**os.environ, "PATH": f"{VENV_BIN}:{os.environ['PATH']}"}
    cmd = [str(VENV_BIN / "snakemake"), "-s", str(ROOT / "Snakefile"), "-d", str(work), "--cores", str(cores)]
    poller = Poller(work)
    poller.start()
    load = os.getloadavg()[0]
    t0 = time.monotonic()
    p = subprocess.run(
        ["/usr/bin/time", "-v", "-o", str(work / "time.txt"), *cmd], env=env, capture_output=True, text=True
    )
    wall = time.monotonic() - t0
    poller.stop.set()
    poller.join()
    (work / "snakemake.log").write_text(p.stdout + p.stderr)
    if p.returncode != 0:
        raise SystemExit(f"the pipeline failed in {work} (see snakemake.log):\n{p.stderr[-3000:]}")
    report = work / "results" / "report.html"
    return {
        "wall_s": round(wall, 1),
        "load_1min_at_start": round(load, 2),
        "snakemake": gnu_time(work / "time.txt"),
        "rules": poller.summary(),
        "peak_jobs_side_by_side_mb": round(poller.peak_sum / 1e6),
        "report_html_mb": round(report.stat().st_size / 1e6, 2),
    }


RULE_ORDER = ("ingest", "normalize", "coverage", "score", "associate", "survival", "meta", "report")


def table(rows: list[dict]) -> str:
    base = rows[0]["wall_s"]
    head = ["samples", "wall (s)", "ratio", "snakemake max RSS (MB)", "jobs side by side (MB)", "report.html (MB)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        lines.append(
            f"| {r['samples']:,} | {r['wall_s']:.0f} | {r['wall_s'] / base:.2f}x | {r['snakemake']['max_rss_mb']:,} "
            f"| {r['peak_jobs_side_by_side_mb']:,} | {r['report_html_mb']:.2f} |"
        )
    rules = [n for n in RULE_ORDER if any(n in r["rules"] for r in rows)]
    rules += sorted({n for r in rows for n in r["rules"]} - set(rules))
    head2 = ["rule"] + [f"{r['samples']:,}: s / peak MB" for r in rows]
    lines += ["", "| " + " | ".join(head2) + " |", "|" + "---|" * len(head2)]
    for n in rules:
        cells = [
            f"{r['rules'][n]['seconds']:.0f} / {r['rules'][n]['peak_rss_mb']:,}" if n in r["rules"] else ""
            for r in rows
        ]
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--genes", type=int, default=20000)
    ap.add_argument("--samples", type=int, nargs="+", default=[2000, 5000, 10000])
    ap.add_argument("--seed", type=int, default=2010)
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--cache", type=Path, default=HERE / "out" / "scale", help="simulated cohorts (reused)")
    ap.add_argument("--keep", action="store_true", help="keep the working directories of the runs")
    ap.add_argument("--no-readme", action="store_true", help="do not write the table into benchmarks/README.md")
    a = ap.parse_args()
    a.cache.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in sorted(a.samples):
        cohort, sim = simulate(a.cache, a.genes, n, a.seed)
        work = Path(tempfile.mkdtemp(prefix=f"seedsig-scale-{n}-"))
        try:
            res = run_pipeline(cohort, work, a.cores)
        finally:
            if not a.keep:
                shutil.rmtree(work, ignore_errors=True)
        rows.append({"samples": n, "genes": a.genes, "simulation": sim, **res})
        print(json.dumps(rows[-1]), flush=True)
    mach = machine()
    loads = ", ".join(f"{r['load_1min_at_start']:.1f}" for r in rows)
    when = datetime.date.today().isoformat()
    md = (
        "## Big bulk cohorts end to end\n\n"
        f"Run {when}: `python benchmarks/bench_scale.py --genes {a.genes} --samples "
        f"{' '.join(map(str, a.samples))} --cores {a.cores}` on {mach['cores']} cores ({mach['cpu'] or 'unknown CPU'});"
        f" 1-minute load average at the start of each run: {loads}. Simulated counts cohorts (`seedsig simulate`, seed "
        f"{a.seed}), the default config (ssgsea + zscore, B = 1,000 random signatures, bootstrap, prerank, Cox null, "
        "report) as `snakemake --cores 2`. Ratio: wall time over the smallest cohort's. Snakemake max RSS: GNU time's "
        "maximum resident set size of `snakemake` (its largest child: the largest job); jobs side by side: the largest "
        "sum of the RSS of the jobs running at once (sampled every 0.2 s); per rule: the seconds its job ran and its "
        "peak RSS (sampled).\n\n" + table(rows) + "\n"
    )
    (HERE / "out").mkdir(exist_ok=True)
    (HERE / "out" / "scale.md").write_text(md)
    (HERE / "out" / "scale.json").write_text(json.dumps(rows, indent=1))
    print(md)
    if not a.no_readme:
        write_readme_section("scale", md)


if __name__ == "__main__":
    main()
