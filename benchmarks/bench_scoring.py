#!/usr/bin/env python3
"""Scoring benchmark: seedsig vs gseapy vs R GSVA, side by side in one run.

    python benchmarks/bench_scoring.py [--genes 20000] [--samples 1000] [--sets 50] [--big-samples 2000]

Each contender runs as a whole process that reads the same TSV (what a user waits for: wall time and
peak memory from GNU time) and reports its compute-only time (scoring on the matrix already in memory).
Max |difference| is against seedsig's scores. R needs `apt-get install r-bioc-gsva`; a contender that is
not installed is reported as such. Results: benchmarks/out/scoring.json and the table in
benchmarks/README.md (between the BEGIN/END scoring markers).
"""

from __future__ import annotations

import argparse
import json
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

SEEDSIG = """
import sys, time, json
t0 = time.perf_counter()
from seedsig.core.tables import read_matrix
from seedsig.scoring.signatures import load_signatures
from seedsig.scoring.methods import score
x = read_matrix(sys.argv[1]); sigs = load_signatures(sys.argv[2]); method = sys.argv[3]
score(x.iloc[:50, :5], sigs[:1], method, min_genes=1, min_fraction=0)  # warm-up: lazy imports, numba JIT
t1 = time.perf_counter()
res = score(x, sigs, method, min_genes=1, min_fraction=0)
t2 = time.perf_counter()
res.scores.T.to_csv(sys.argv[4], sep="\\t")
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
        no_plot=True, threads=2, seed=0, verbose=False,
    )
else:
    r = gseapy.gsva(
        data=x, gene_sets=gs, kcdf="Gaussian", min_size=1, max_size=100000, outdir=None, threads=2, seed=0,
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


def make_inputs(genes: int, samples: int, n_sets: int, seed: int = 1) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    OUT.mkdir(parents=True, exist_ok=True)
    expr = OUT / f"expr_{genes}x{samples}.tsv"
    names = [f"G{i:05d}" for i in range(genes)]
    if not expr.exists():
        base = rng.normal(6, 2, size=(genes, 1))
        x = base + rng.normal(0, 1, size=(genes, samples))
        pd.DataFrame(x, index=pd.Index(names, name="gene"), columns=[f"S{j:04d}" for j in range(samples)]).to_csv(
            expr, sep="\t", float_format="%.10g"
        )  # tie-free
    gmt = OUT / f"sets_{n_sets}.gmt"
    sizes = np.unique(np.round(np.geomspace(4, 200, n_sets)).astype(int))
    sizes = np.resize(sizes, n_sets)
    with open(gmt, "w") as fh:
        for i, k in enumerate(sizes):
            fh.write("\t".join([f"set{i:02d}_{k}", "bench"] + list(rng.choice(names, size=k, replace=False))) + "\n")
    return expr, gmt


def run(cmd: list[str], label: str) -> dict:
    """Run a whole process under GNU time: wall seconds, peak RSS (MB), and the JSON line it prints."""
    t = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "__TIME__ %e %M", *cmd], capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        return {"label": label, "error": proc.stderr[-800:]}
    m = re.search(r"__TIME__ ([\d.]+) (\d+)", proc.stderr)
    info = json.loads([ln for ln in proc.stdout.splitlines() if ln.startswith("{")][-1])
    return {"label": label, "wall_s": wall, "peak_mb": int(m.group(2)) / 1024 if m else None, **info}


def max_diff(ours: Path, theirs: Path) -> float:
    a = pd.read_csv(ours, sep="\t", index_col=0)
    b = pd.read_csv(theirs, sep="\t", index_col=0).loc[a.index, a.columns]
    return float(np.abs(a.to_numpy() - b.to_numpy()).max())


def contenders(method: str, expr: Path, gmt: Path) -> list[dict]:
    rows = []
    ours = OUT / f"seedsig_{method}.tsv"
    (OUT / "run_seedsig.py").write_text(SEEDSIG)
    rows.append(
        run([sys.executable, str(OUT / "run_seedsig.py"), str(expr), str(gmt), method, str(ours)], f"seedsig {method}")
    )
    (OUT / "run_gseapy.py").write_text(GSEAPY)
    r = run(
        [sys.executable, str(OUT / "run_gseapy.py"), str(expr), str(gmt), method, str(OUT / f"gseapy_{method}.tsv")],
        f"gseapy {method}",
    )
    if "error" not in r and ours.exists():
        r["max_abs_diff"] = max_diff(ours, OUT / f"gseapy_{method}.tsv")
    rows.append(r)
    if shutil.which("Rscript"):
        (OUT / "run_gsva.R").write_text(R_GSVA)
        r = run(
            ["Rscript", str(OUT / "run_gsva.R"), str(expr), str(gmt), method, str(OUT / f"r_{method}.tsv")],
            f"R GSVA {method}",
        )
        if "error" not in r and ours.exists():
            r["max_abs_diff"] = max_diff(ours, OUT / f"r_{method}.tsv")
        rows.append(r)
    else:
        rows.append({"label": f"R GSVA {method}", "error": "Rscript not installed"})
    return rows


def engine_alone(genes: int, samples: int, n_random: int) -> dict:
    """seedsig on genes x samples: every shipped signature, plus n_random size- and expression-matched random
    signatures of SS (the Venet null), and numpy's time just to rank the matrix."""
    from seedsig.core.stats import rank_columns
    from seedsig.scoring.methods import score
    from seedsig.scoring.random_sets import random_signature_scores
    from seedsig.scoring.signatures import load_signatures

    sigs = load_signatures(sorted((ROOT / "config" / "signatures").glob("*.tsv")))
    rng = np.random.default_rng(3)
    symbols = sorted({g for s in sigs for g in s.genes})
    names = symbols + [f"G{i:05d}" for i in range(genes - len(symbols))]
    x = pd.DataFrame(rng.normal(6, 2, size=(genes, 1)) + rng.normal(0, 1, size=(genes, samples)), index=names)
    t = time.perf_counter()
    np.argsort(x.to_numpy(), axis=0)
    t_argsort = time.perf_counter() - t
    t = time.perf_counter()
    rank_columns(x.to_numpy())
    t_rank = time.perf_counter() - t
    t = time.perf_counter()
    score(x, sigs, "ssgsea")
    t_shipped = time.perf_counter() - t
    ss = next(s for s in sigs if s.name == "SS")
    t = time.perf_counter()
    random_signature_scores(x, ss, "ssgsea", n=n_random, seed=1)
    t_random = time.perf_counter() - t
    return {
        "genes": genes,
        "samples": samples,
        "numpy_argsort_s": t_argsort,
        "rank_s": t_rank,
        "shipped_ssgsea_s": t_shipped,
        "random_null_ssgsea_s": t_random,
        "n_random": n_random,
        "n_shipped": len(sigs),
    }


def table(rows: list[dict]) -> str:
    lines = [
        "| contender | whole process (s) | compute only (s) | peak memory (MB) | max abs diff vs seedsig | "
        "whole-process ratio | compute ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    ours = rows[0]
    for r in rows:
        if "error" in r:
            lines.append(
                f"| {r['label']} | failed: "
                f"{r['error'].strip().splitlines()[-1][:80] if r['error'].strip() else 'error'} | | | | | |"
            )
            continue
        ratio_w = r["wall_s"] / ours["wall_s"]
        ratio_c = r["compute_s"] / ours["compute_s"] if ours["compute_s"] > 0 else float("nan")
        diff = r.get("max_abs_diff")
        lines.append(
            f"| {r['label']} | {r['wall_s']:.1f} | {r['compute_s']:.2f} | {r['peak_mb']:.0f} | "
            f"{'' if diff is None else f'{diff:.1e}'} | {ratio_w:.1f}x | {ratio_c:.1f}x |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--genes", type=int, default=20000)
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--sets", type=int, default=50)
    ap.add_argument("--big-samples", type=int, default=2000)
    ap.add_argument("--random", type=int, default=1000)
    ap.add_argument("--skip-gsva", action="store_true")
    a = ap.parse_args()
    expr, gmt = make_inputs(a.genes, a.samples, a.sets)
    result = {"ssgsea": contenders("ssgsea", expr, gmt)}
    if not a.skip_gsva:
        result["gsva"] = contenders("gsva", expr, gmt)
    result["engine"] = engine_alone(a.genes, a.big_samples, a.random)
    result["machine"] = {"cores": __import__("os").cpu_count(), "python": sys.version.split()[0]}
    (OUT / "scoring.json").write_text(json.dumps(result, indent=2))
    e = result["engine"]
    md = (
        f"Run: `python benchmarks/bench_scoring.py --genes {a.genes} --samples {a.samples} --sets {a.sets}` on "
        f"{result['machine']['cores']} cores.\n"
        "Ratios are the contender's time over seedsig's (higher = seedsig faster). Compute only = scoring the matrix "
        "already in\n"
        "memory, after imports (and, for seedsig's GSVA, numba's compilation; both count in the whole-process "
        "time).\n\n"
        f"**ssGSEA** ({a.genes} genes x {a.samples} samples x {a.sets} sets of 4-200 genes; unnormalized; gseapy with "
        '`sample_norm_method="rank"`):\n\n'
        f"{table(result['ssgsea'])}\n"
    )
    if "gsva" in result:
        md += f"\n**GSVA** (Gaussian kernel, same data):\n\n{table(result['gsva'])}\n"
    md += (
        "\n"
        f"**seedsig alone**, {e['genes']} genes x {e['samples']} samples: ranking the matrix {e['rank_s']:.1f} s "
        f"(numpy argsort alone {e['numpy_argsort_s']:.1f} s); ssGSEA of the {e['n_shipped']} shipped signatures "
        f"{e['shipped_ssgsea_s']:.1f} s (ranking included); {e['n_random']} size- and expression-matched random "
        f"signatures of SS {e['random_null_ssgsea_s']:.1f} s (ranking included).\n"
    )
    write_readme_section("scoring", md)
    print(md)


if __name__ == "__main__":
    main()
