#!/usr/bin/env python3
"""Scoring benchmark: seedsig vs the floor vs gseapy vs R GSVA, side by side in one run.

    python benchmarks/bench_scoring.py [--genes 20000] [--samples 1000] [--sets 50] [--repeats 3] [--big-samples 2000]

Whole process = what a user waits for, a fresh process that reads the same TSV, scores and writes the scores
(wall time and peak memory from GNU time), best of ``--repeats`` runs, the contenders taking turns (R and gseapy's
GSVA: ``--slow-repeats``, default 1): seedsig is the command line, ``seedsig score --expr X --signatures S --method M
--out O`` (every core by default); the floor is a fresh process doing pyarrow's read of the TSV and numpy's argsort
of the matrix (each sample's genes); gseapy is ``gseapy.ssgsea(..., min_size=1, threads=1)`` (``gseapy.gsva``) after
``pandas.read_csv``; R is ``GSVA::gsva`` after ``read.delim``. Compute only = scoring the matrix already in memory,
after imports (seedsig: in a separate harness process, once). Max |difference| is against seedsig's scores. R needs
`apt-get install r-bioc-gsva`; a contender that is not installed is reported as such. Results:
benchmarks/out/scoring.json and the table in benchmarks/README.md (between the BEGIN/END scoring markers).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from bench_normalize import write_readme_section  # same directory: one writer of the README's sections

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
ROOT = HERE.parent

FLOOR = """
import sys, time, json
import numpy as np, pyarrow.csv as pc
t = pc.read_csv(sys.argv[1], parse_options=pc.ParseOptions(delimiter="\\t"))
x = np.vstack([c.to_numpy() for c in t.columns[1:]])  # samples x genes
order = np.argsort(x, axis=1)
print(json.dumps({"genes": int(x.shape[1]), "samples": int(x.shape[0])}))
"""

SEEDSIG = """
import sys, time, json
t0 = time.perf_counter()
from seedsig.core.tables import read_matrix
from seedsig.scoring.signatures import Signature, load_signatures
from seedsig.scoring.methods import score
x = read_matrix(sys.argv[1]); sigs = load_signatures(sys.argv[2]); method = sys.argv[3]
warm = [Signature(name="warm", genes=tuple(x.index[:10]), directions=(1,) * 10)]
score(x.iloc[:50, :5], warm, method, min_genes=1, min_fraction=0)  # warm-up: lazy imports, numba (cached) JIT
t1 = time.perf_counter()
res = score(x, sigs, method, min_genes=1, min_fraction=0, threads=None)
t2 = time.perf_counter()
print(json.dumps({"compute_s": t2 - t1, "read_s": t1 - t0}))
"""

GSEAPY = """
import sys, time, json
t0 = time.perf_counter()
import pandas as pd, gseapy
x = pd.read_csv(sys.argv[1], sep="\\t", index_col=0)
gs = {l.split("\\t")[0]: l.rstrip("\\n").split("\\t")[2:] for l in open(sys.argv[2])}
method = sys.argv[3]
t1 = time.perf_counter()
if method == "ssgsea":
    r = gseapy.ssgsea(
        data=x, gene_sets=gs, sample_norm_method="rank", min_size=1, max_size=100000, weight=0.25, outdir=None,
        no_plot=True, threads=1, seed=0, verbose=False,
    )
else:
    r = gseapy.gsva(
        data=x, gene_sets=gs, kcdf="Gaussian", min_size=1, max_size=100000, outdir=None, threads=1, seed=0,
        verbose=False,
    )
t2 = time.perf_counter()
r.res2d.pivot(index="Term", columns="Name", values="ES").astype(float).to_csv(sys.argv[4], sep="\\t")
print(json.dumps({"compute_s": t2 - t1, "read_s": t1 - t0}))
"""

R_GSVA = r"""
args <- commandArgs(trailingOnly = TRUE)
t0 <- proc.time()[["elapsed"]]
suppressMessages(library(GSVA))
x <- as.matrix(read.delim(args[1], row.names = 1, check.names = FALSE))
lines <- strsplit(readLines(args[2]), "\t"); gs <- setNames(lapply(lines, function(l) l[-(1:2)]), sapply(lines, `[`, 1))
t1 <- proc.time()[["elapsed"]]
es <- if (args[3] == "ssgsea") {
  gsva(x, gs, method = "ssgsea", ssgsea.norm = FALSE, min.sz = 1, verbose = FALSE)
} else {
  gsva(x, gs, method = "gsva", kcdf = "Gaussian", min.sz = 1, verbose = FALSE)
}
t2 <- proc.time()[["elapsed"]]
write.table(es, args[4], sep = "\t", quote = FALSE, col.names = NA)
cat(sprintf('{"compute_s": %f, "read_s": %f}\n', t2 - t1, t1 - t0))
"""


def gene_symbols(n: int) -> list[str]:
    """n HGNC symbols (protein-coding genes first), so that ``seedsig score`` maps the rows as a user's would."""
    from seedsig.ingest.hgnc import hgnc_table

    t = hgnc_table().sort_values("locus_group", key=lambda s: s != "protein-coding gene", kind="stable")
    return t["symbol"].tolist()[:n]


def make_inputs(genes: int, samples: int, n_sets: int, seed: int = 1) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    OUT.mkdir(parents=True, exist_ok=True)
    expr = OUT / f"expr_sym_{genes}x{samples}.tsv"
    names = gene_symbols(genes)
    if not expr.exists():
        base = rng.normal(6, 2, size=(genes, 1))
        x = base + rng.normal(0, 1, size=(genes, samples))
        pd.DataFrame(x, index=pd.Index(names, name="gene"), columns=[f"S{j:04d}" for j in range(samples)]).to_csv(
            expr, sep="\t", float_format="%.10g"
        )
    else:
        rng.normal(size=(genes, samples + 1))  # the same draws as when the file was written
    gmt = OUT / f"sets_sym_{n_sets}.gmt"
    sizes = np.unique(np.round(np.geomspace(4, 200, n_sets)).astype(int))
    sizes = np.resize(sizes, n_sets)
    with open(gmt, "w") as fh:
        for i, k in enumerate(sizes):
            fh.write("\t".join([f"set{i:02d}_{k}", "bench"] + list(rng.choice(names, size=k, replace=False))) + "\n")
    return expr, gmt


def run_once(cmd: list[str]) -> dict:
    """One whole process under GNU time: wall seconds, peak RSS (MB), and the JSON line it prints (or its error)."""
    t = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "__TIME__ %e %M", *cmd], capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        return {"error": proc.stderr[-800:]}
    m = re.search(r"__TIME__ ([\d.]+) (\d+)", proc.stderr)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    info = json.loads(lines[-1]) if lines else {}
    return {"wall_s": wall, "peak_mb": int(m.group(2)) / 1024 if m else None, **info}


def rounds(plan: dict[str, tuple[list[str], int]]) -> dict[str, dict]:
    """label -> (command, runs): the contenders take turns, round after round (a passing load on the machine hits
    them alike); per contender its best run (wall seconds, that run's peak RSS and JSON) and every run's time."""
    runs: dict[str, list[dict]] = {label: [] for label in plan}
    for r in range(max(n for _, n in plan.values())):
        for label, (cmd, n) in plan.items():
            if r < n and not any("error" in x for x in runs[label]):
                runs[label].append(run_once(cmd))
    out = {}
    for label, rs in runs.items():
        err = next((x for x in rs if "error" in x), None)
        best = err or min(rs, key=lambda x: x["wall_s"])
        out[label] = {"label": label, **best, "runs_s": [x["wall_s"] for x in rs if "wall_s" in x]}
    return out


def run(cmd: list[str], label: str, repeats: int = 1) -> dict:
    return rounds({label: (cmd, repeats)})[label]


def max_diff(ours: Path, theirs: Path) -> float:
    a = pd.read_csv(ours, sep="\t", index_col=0)
    b = pd.read_csv(theirs, sep="\t", index_col=0)
    if set(a.index) != set(b.index):  # samples x signatures vs signatures x samples
        b = b.T
    b = b.loc[a.index, a.columns]
    return float(np.abs(a.to_numpy() - b.to_numpy()).max())


def contenders(method: str, expr: Path, gmt: Path, repeats: int, slow_repeats: int) -> list[dict]:
    ours = OUT / f"seedsig_{method}.tsv"
    seedsig = str(Path(sys.executable).parent / "seedsig")
    cli = [seedsig, "score", "--expr", str(expr), "--signatures", str(gmt), "--method", method, "--out", str(ours)]
    plan = {f"seedsig {method}": ([*cli, "--min-genes", "1", "--min-fraction", "0"], repeats)}
    if method == "ssgsea":
        (OUT / "run_floor.py").write_text(FLOOR)
        plan["floor: pyarrow read + argsort"] = ([sys.executable, str(OUT / "run_floor.py"), str(expr)], repeats)
    (OUT / "run_gseapy.py").write_text(GSEAPY)
    theirs = {f"gseapy {method}": OUT / f"gseapy_{method}.tsv"}
    cmd = [sys.executable, str(OUT / "run_gseapy.py"), str(expr), str(gmt), method, str(theirs[f"gseapy {method}"])]
    plan[f"gseapy {method}"] = (cmd, repeats if method == "ssgsea" else slow_repeats)
    if shutil.which("Rscript"):
        (OUT / "run_gsva.R").write_text(R_GSVA)
        theirs[f"R GSVA {method}"] = OUT / f"r_{method}.tsv"
        cmd = ["Rscript", str(OUT / "run_gsva.R"), str(expr), str(gmt), method, str(theirs[f"R GSVA {method}"])]
        plan[f"R GSVA {method}"] = (cmd, slow_repeats)
    rows = rounds(plan)
    (OUT / "run_seedsig.py").write_text(SEEDSIG)
    harness = run([sys.executable, str(OUT / "run_seedsig.py"), str(expr), str(gmt), method], "harness")
    rows[f"seedsig {method}"]["compute_s"] = harness.get("compute_s")
    for label, path in theirs.items():
        if "error" not in rows[label] and ours.exists():
            rows[label]["max_abs_diff"] = max_diff(ours, path)
    if not shutil.which("Rscript"):
        rows[f"R GSVA {method}"] = {"label": f"R GSVA {method}", "error": "Rscript not installed"}
    return list(rows.values())


def engine_alone(genes: int, samples: int, n_random: int) -> dict:
    """seedsig on genes x samples, in memory: ranking (1 thread and every core) against numpy's argsort, the shipped
    signatures, and n_random size- and expression-matched random signatures of SS (the Venet null)."""
    from seedsig.core.ranking import rank_columns
    from seedsig.core.threads import resolve_threads
    from seedsig.scoring.methods import score
    from seedsig.scoring.null import random_null_scores
    from seedsig.scoring.signatures import load_signatures

    sigs = load_signatures(sorted((ROOT / "config" / "signatures").glob("*.tsv")))
    rng = np.random.default_rng(3)
    symbols = sorted({g for s in sigs for g in s.genes})
    names = symbols + [f"G{i:05d}" for i in range(genes - len(symbols))]
    x = pd.DataFrame(rng.normal(6, 2, size=(genes, 1)) + rng.normal(0, 1, size=(genes, samples)), index=names)
    xt = np.ascontiguousarray(x.to_numpy().T)
    t = time.perf_counter()
    np.argsort(xt, axis=1)
    t_argsort = time.perf_counter() - t
    times = {}
    for threads in (1, None):
        t = time.perf_counter()
        rank_columns(x.to_numpy(), threads=threads)
        times[threads] = time.perf_counter() - t
    t = time.perf_counter()
    score(x, sigs, "ssgsea", threads=None)
    t_shipped = time.perf_counter() - t
    ss = next(s for s in sigs if s.name == "SS")
    t = time.perf_counter()
    random_null_scores(x, ss, "ssgsea", n_random, 1)
    t_random = time.perf_counter() - t
    return {
        "genes": genes,
        "samples": samples,
        "numpy_argsort_s": t_argsort,
        "rank_1_thread_s": times[1],
        "rank_all_threads_s": times[None],
        "threads": resolve_threads(None),
        "shipped_ssgsea_s": t_shipped,
        "random_null_ssgsea_s": t_random,
        "n_random": n_random,
        "n_shipped": len(sigs),
    }


def startup(repeats: int) -> dict:
    """Best wall seconds of ``python -c "import seedsig"`` and of ``seedsig --help`` (the CLI's start)."""
    seedsig = str(Path(sys.executable).parent / "seedsig")
    out = {}
    for key, cmd in (("import_s", [sys.executable, "-c", "import seedsig"]), ("cli_help_s", [seedsig, "--help"])):
        out[key] = run(cmd, key, repeats).get("wall_s")
    return out


def table(rows: list[dict]) -> str:
    lines = [
        "| contender | whole process, best (s) | runs (s) | compute only (s) | peak memory (MB) | max abs diff vs "
        "seedsig | time / seedsig's |",
        "|---|---|---|---|---|---|---|",
    ]
    ours = rows[0]
    for r in rows:
        if "error" in r:
            err = r["error"].strip().splitlines()[-1][:80] if r["error"].strip() else "error"
            lines.append(f"| {r['label']} | failed: {err} | | | | | |")
            continue
        compute = f"{r['compute_s']:.2f}" if r.get("compute_s") is not None else ""
        diff = r.get("max_abs_diff")
        lines.append(
            f"| {r['label']} | {r['wall_s']:.1f} | {', '.join(f'{s:.1f}' for s in r['runs_s'])} | {compute} | "
            f"{r['peak_mb']:.0f} | {'' if diff is None else f'{diff:.1e}'} | {r['wall_s'] / ours['wall_s']:.2f}x |"
        )
    return "\n".join(lines)


def ratios(result: dict) -> str:
    """The targets: seedsig's ssGSEA whole process over the floor's (<= 1.3) and gseapy's over seedsig's (>= 4);
    R's GSVA over seedsig's (>= 8)."""
    by = {r["label"]: r for rows in (result.get("ssgsea", []), result.get("gsva", [])) for r in rows if "wall_s" in r}
    out = []
    ss, floor, gp = by.get("seedsig ssgsea"), by.get("floor: pyarrow read + argsort"), by.get("gseapy ssgsea")
    if ss and floor:
        out.append(f"seedsig ssGSEA / floor = {ss['wall_s'] / floor['wall_s']:.2f} (target <= 1.3)")
    if ss and gp:
        out.append(f"gseapy ssGSEA / seedsig = {gp['wall_s'] / ss['wall_s']:.1f}x (target >= 4x)")
    gs, rg = by.get("seedsig gsva"), by.get("R GSVA gsva")
    if gs and rg:
        out.append(f"R GSVA / seedsig GSVA = {rg['wall_s'] / gs['wall_s']:.1f}x (target >= 8x)")
    return "; ".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--genes", type=int, default=20000)
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--sets", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--slow-repeats", type=int, default=1, help="runs of R and of gseapy's GSVA (default 1)")
    ap.add_argument("--big-samples", type=int, default=2000)
    ap.add_argument("--random", type=int, default=1000)
    ap.add_argument("--skip-gsva", action="store_true")
    ap.add_argument("--no-readme", action="store_true")
    a = ap.parse_args()
    expr, gmt = make_inputs(a.genes, a.samples, a.sets)
    load_start = os.getloadavg()[0]
    result = {"ssgsea": contenders("ssgsea", expr, gmt, a.repeats, a.slow_repeats)}
    if not a.skip_gsva:
        result["gsva"] = contenders("gsva", expr, gmt, a.repeats, a.slow_repeats)
    result["engine"] = engine_alone(a.genes, a.big_samples, a.random)
    result["startup"] = startup(a.repeats)
    result["machine"] = {"cores": os.cpu_count(), "python": sys.version.split()[0], "load_1min_at_start": load_start}
    (OUT / "scoring.json").write_text(json.dumps(result, indent=2))
    e = result["engine"]
    md = (
        f"Run: `python benchmarks/bench_scoring.py --genes {a.genes} --samples {a.samples} --sets {a.sets}` on "
        f"{result['machine']['cores']} cores (1-minute load average {load_start:.1f} at the start). Whole process: "
        f"best of {a.repeats} runs (R and gseapy's GSVA: {a.slow_repeats}), the contenders taking turns; time / "
        "seedsig's > 1 = seedsig faster. "
        "seedsig = `seedsig score` (every core); compute only = scoring the matrix already in memory, after imports "
        "(and, for GSVA, numba's compilation; both count in the whole process).\n\n"
        f"**ssGSEA** ({a.genes} genes (HGNC symbols) x {a.samples} samples x {a.sets} sets of 4-200 genes; "
        'unnormalized; gseapy with `sample_norm_method="rank"`, `threads=1`):\n\n'
        f"{table(result['ssgsea'])}\n"
    )
    if "gsva" in result:
        md += f"\n**GSVA** (Gaussian kernel, same data):\n\n{table(result['gsva'])}\n"
    md += (
        f"\n**Ratios**: {ratios(result)}.\n\n"
        f"**seedsig alone**, {e['genes']} genes x {e['samples']} samples in memory: ranking the matrix "
        f"{e['rank_1_thread_s']:.2f} s on 1 thread, {e['rank_all_threads_s']:.2f} s on {e['threads']} (numpy argsort "
        f"alone {e['numpy_argsort_s']:.2f} s); ssGSEA of the {e['n_shipped']} shipped signatures "
        f"{e['shipped_ssgsea_s']:.2f} s (ranking included); {e['n_random']} size- and expression-matched random "
        f"signatures of SS {e['random_null_ssgsea_s']:.1f} s (ranking included).\n\n"
        f'**Start-up** (best of {a.repeats}): `python -c "import seedsig"` {result["startup"]["import_s"]:.2f} s, '
        f"`seedsig --help` {result['startup']['cli_help_s']:.2f} s (target < 0.5 s).\n"
    )
    if not a.no_readme:
        write_readme_section("scoring", md)
    print(md)


if __name__ == "__main__":
    main()
