#!/usr/bin/env python3
"""Normalization benchmark: seedsig vs rnanorm / pydeseq2 vs R edgeR / DESeq2, side by side in one run.

    python benchmarks/bench_normalize.py [--genes 60000] [--samples 500] [--timeout 1200]
    python benchmarks/bench_normalize.py --genes 5000 --samples 100 --no-readme      # smoke run, ~1 min

Three count normalizations of one simulated RNA-seq count matrix (written once as a plain TSV into
benchmarks/out/):

* ``tmm_logcpm``: seedsig vs rnanorm (``TMM`` factors, then edgeR's log-CPM formula) vs R edgeR
  (``calcNormFactors(DGEList(x))``; ``cpm(y, log=TRUE, prior.count=2)``);
* ``deseq2_log``: seedsig vs pydeseq2 (``deseq2_norm`` on samples x genes, then log2(x + 1)) vs R DESeq2
  (``estimateSizeFactors``; ``log2(counts(dds, normalized=TRUE) + 1)``);
* ``deseq2_vst``: seedsig vs pydeseq2 (``DeseqDataSet(design="~1")``; ``vst(use_design=False,
  fit_type="parametric")``) vs R DESeq2 (the steps of ``varianceStabilizingTransformation(dds, blind=TRUE,
  fitType="parametric")`` spelled out, so that the fitted trend can be read: ``estimateSizeFactors``,
  ``estimateDispersionsGeneEst``, ``estimateDispersionsFit(fitType="parametric")`` on the design ~1, then
  ``varianceStabilizingTransformation(dds, blind=FALSE)``, which reuses that fit: the same computation).

As in bench_scoring.py, each contender runs as a whole process (a fresh subprocess that reads the TSV,
normalizes and writes the result TSV: what a user waits for; wall time and peak RSS from GNU time) and
reports its compute-only time (the normalization of the matrix already in memory, after imports; R:
``system.time``). seedsig's whole process is its CLI (``seedsig normalize``); its compute-only time comes
from a second process that calls ``normalize_matrix`` in-process. Max |difference| is against seedsig's
output on the same genes and samples; the factors (TMM factors, size factors) and the VST trend
coefficients (asymptDisp, extraPois) are compared too. pydeseq2's VST can take very long on large matrices:
it is stopped after ``--timeout`` seconds and reported as a timeout. Results: benchmarks/out/normalize.md
and .json, and the section between the BEGIN/END normalize markers of benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"

SEEDSIG_COMPUTE = """
import sys, time, json
t0 = time.perf_counter()
from seedsig.core.tables import read_matrix
from seedsig.normalize.methods import normalize_matrix
# normalize_matrix imports these lazily; the peers import theirs before timing too
import rnanorm, scipy.special, statsmodels.api
x = read_matrix(sys.argv[1]); method = sys.argv[2]
t1 = time.perf_counter()
out, info = normalize_matrix(x, method)
t2 = time.perf_counter()
f = info.get("norm_factors") or info.get("size_factors")
coef = [info["vst"]["asymptDisp"], info["vst"]["extraPois"]] if "vst" in info else []
print(json.dumps({"compute_s": t2 - t1, "read_s": t1 - t0, "factors": list(f.values()), "coef": coef}))
"""

PYTHON_PEER = """
import sys, time, json
t0 = time.perf_counter()
import numpy as np, pandas as pd
inp, method, outp = sys.argv[1:4]
if method == "tmm_logcpm":
    from rnanorm import TMM
else:
    from pydeseq2.dds import DeseqDataSet
    from pydeseq2.preprocessing import deseq2_norm
x = pd.read_csv(inp, sep="\\t", index_col=0)
t1 = time.perf_counter()
coef = []
if method == "tmm_logcpm":  # rnanorm's TMM factors, then edgeR's cpm(log=TRUE, prior.count=2)
    X = x.to_numpy(dtype=float).T
    f = TMM().fit(X).get_norm_factors(X)
    lib = X.sum(axis=1) * f
    prior = 2.0 * lib / lib.mean()
    out = np.log2((X + prior[:, None]) / (lib + 2.0 * prior)[:, None] * 1e6).T
elif method == "deseq2_log":
    normed, f = deseq2_norm(x.to_numpy().T)
    out = np.log2(normed + 1.0).T
else:
    counts = x.T
    dds = DeseqDataSet(
        counts=counts, metadata=pd.DataFrame({"condition": "A"}, index=counts.index), design="~1", n_cpus=2, quiet=True
    )
    dds.vst(use_design=False, fit_type="parametric")
    out = np.asarray(dds.layers["vst_counts"]).T
    f = dds.obs["size_factors"].to_numpy()
    coef = [float(c) for c in dds.uns["vst_trend_coeffs"]]
t2 = time.perf_counter()
pd.DataFrame(out, index=x.index, columns=x.columns).to_csv(outp, sep="\\t", float_format="%.12g")
print(json.dumps({"compute_s": t2 - t1, "read_s": t1 - t0, "factors": [float(v) for v in f], "coef": coef}))
"""

R_PEER = r"""
args <- commandArgs(trailingOnly = TRUE)
t0 <- proc.time()[["elapsed"]]
method <- args[2]
suppressMessages(if (method == "tmm_logcpm") library(edgeR) else library(DESeq2))
x <- as.matrix(read.delim(args[1], row.names = 1, check.names = FALSE))
t1 <- proc.time()[["elapsed"]]
coef <- numeric(0)
tm <- system.time({
  if (method == "tmm_logcpm") {
    y <- calcNormFactors(DGEList(x))
    out <- cpm(y, log = TRUE, prior.count = 2)
    fac <- y$samples$norm.factors
  } else {
    dds <- DESeqDataSetFromMatrix(x, DataFrame(row.names = colnames(x)), ~1)
    dds <- estimateSizeFactors(dds)
    if (method == "deseq2_log") {
      out <- log2(counts(dds, normalized = TRUE) + 1)
    } else {  # = varianceStabilizingTransformation(dds, blind = TRUE, fitType = "parametric"), trend kept in dds
      dds <- estimateDispersionsGeneEst(dds, quiet = TRUE)
      dds <- estimateDispersionsFit(dds, fitType = "parametric", quiet = TRUE)
      out <- assay(varianceStabilizingTransformation(dds, blind = FALSE))
      coef <- attr(dispersionFunction(dds), "coefficients")
    }
    fac <- sizeFactors(dds)
  }
})[["elapsed"]]
write.table(out, args[3], sep = "\t", quote = FALSE, col.names = NA)
num <- function(v) paste0("[", paste(sprintf("%.17g", v), collapse = ", "), "]")
cat(sprintf('{"compute_s": %f, "read_s": %f, "factors": %s, "coef": %s}\n', tm, t1 - t0, num(fac), num(coef)))
"""

METHODS = {
    "tmm_logcpm": ("rnanorm", "R edgeR"),
    "deseq2_log": ("pydeseq2", "R DESeq2"),
    "deseq2_vst": ("pydeseq2", "R DESeq2"),
}


def make_counts(genes: int, samples: int, seed: int = 1) -> tuple[Path, dict]:
    """Negative binomial counts, written once as a plain TSV (genes x samples, integers).

    Gene means log-normal (meanlog 3, sdlog 2); 30% of the genes mostly zero (means 10^U(-3, -1), like the
    many unexpressed genes of GENCODE's 60,000); dispersion 0.05 + 2 / mean; library size factors U(0.5, 2).
    """
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"counts_{genes}x{samples}_seed{seed}.tsv"
    rng = np.random.default_rng(seed)
    mean = rng.lognormal(3.0, 2.0, size=genes)
    low = rng.permutation(genes)[: int(round(0.3 * genes))]
    mean[low] = 10.0 ** rng.uniform(-3.0, -1.0, size=low.size)
    disp = 0.05 + 2.0 / mean
    sf = rng.uniform(0.5, 2.0, size=samples)
    r = 1.0 / disp
    counts = rng.negative_binomial(r[:, None], r[:, None] / (r[:, None] + mean[:, None] * sf[None, :]))
    if not (counts > 0).all(axis=1).any():
        raise SystemExit(
            "every simulated gene has a zero: median-of-ratios size factors impossible; raise --samples or change "
            "--seed"
        )
    lib = counts.sum(axis=0)
    stats = {
        "genes": genes,
        "samples": samples,
        "seed": seed,
        "file": str(path),
        "all_zero_genes": int((counts.sum(axis=1) == 0).sum()),
        "genes_without_zero": int((counts > 0).all(axis=1).sum()),
        "zero_fraction": float((counts == 0).mean()),
        "library_size_min": int(lib.min()),
        "library_size_median": float(np.median(lib)),
        "library_size_max": int(lib.max()),
    }
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        df = pd.DataFrame(
            counts,
            index=pd.Index([f"G{i:05d}" for i in range(genes)], name="gene_id"),
            columns=[f"S{j:04d}" for j in range(samples)],
        )
        df.to_csv(tmp, sep="\t")
        tmp.replace(path)
    return path, stats


def run(cmd: list[str], label: str, timeout: float) -> dict:
    """bench_scoring.run with a time limit, for commands that may print no JSON line (the seedsig CLI).

    Wall seconds, peak RSS (MB, GNU time's %M: the largest single process) and the last JSON line printed.
    On timeout the whole process group (the contender and any workers it started) is killed.
    """
    t = time.perf_counter()
    proc = subprocess.Popen(
        ["/usr/bin/time", "-f", "__TIME__ %e %M", *cmd],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return {"label": label, "timeout_s": timeout}
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        return {"label": label, "error": stderr[-800:]}
    m = re.search(r"__TIME__ ([\d.]+) (\d+)", stderr)
    lines = [ln for ln in stdout.splitlines() if ln.startswith("{")]
    info = json.loads(lines[-1]) if lines else {}
    return {"label": label, "wall_s": wall, "peak_mb": int(m.group(2)) / 1024 if m else None, **info}


def read_result(path: Path, ref: pd.DataFrame | None = None) -> pd.DataFrame:
    df = pd.read_csv(path, sep="\t", index_col=0)
    df.index = df.index.astype(str)
    return df if ref is None else df.loc[ref.index, ref.columns]


def compare(ours: pd.DataFrame, theirs: pd.DataFrame) -> dict:
    """Max |difference| where both are finite, and how many cells are missing in exactly one of them."""
    a, b = ours.to_numpy(dtype=float), theirs.to_numpy(dtype=float)
    both = np.isfinite(a) & np.isfinite(b)
    return {
        "max_abs_diff": float(np.abs(a[both] - b[both]).max()) if both.any() else None,
        "nonfinite_mismatch": int((np.isfinite(a) != np.isfinite(b)).sum()),
    }


def seedsig_cli() -> list[str]:
    exe = Path(sys.executable).with_name("seedsig")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "seedsig.cli"]


def contenders(method: str, counts: Path, a: argparse.Namespace) -> list[dict]:
    ours_out = OUT / f"norm_seedsig_{method}.tsv"
    rows = [
        run(
            [*seedsig_cli(), "normalize", "--input", str(counts), "--method", method, "--out", str(ours_out)],
            "seedsig",
            a.max_time,
        )
    ]
    comp = run(
        [sys.executable, str(OUT / "run_seedsig_normalize.py"), str(counts), method], "seedsig compute", a.max_time
    )
    rows[0].update({k: comp[k] for k in ("compute_s", "read_s", "factors", "coef") if k in comp})
    rows[0]["compute_run"] = {k: comp.get(k) for k in ("wall_s", "peak_mb", "error", "timeout_s")}
    ours = read_result(ours_out) if ours_out.exists() and "error" not in rows[0] else None
    py, rr = METHODS[method]
    peers = [
        (py, [sys.executable, str(OUT / "run_python_peer.py")], a.timeout if method == "deseq2_vst" else a.max_time)
    ]
    if shutil.which("Rscript"):
        peers.append((rr, ["Rscript", str(OUT / "run_r_peer.R")], a.max_time))
    else:
        rows.append({"label": rr, "error": "Rscript not installed"})
    for label, cmd, limit in peers:
        out = OUT / f"norm_{label.replace(' ', '_')}_{method}.tsv"
        out.unlink(missing_ok=True)
        r = run([*cmd, str(counts), method, str(out)], label, limit)
        if "wall_s" in r and ours is not None:
            r.update(compare(ours, read_result(out, ours)))
            if r.get("factors") and rows[0].get("factors"):
                r["factors_max_abs_diff"] = float(
                    np.abs(np.asarray(r["factors"]) - np.asarray(rows[0]["factors"])).max()
                )
            if r.get("coef") and rows[0].get("coef"):
                r["coef_abs_diff"] = np.abs(np.asarray(r["coef"]) - np.asarray(rows[0]["coef"])).tolist()
        rows.append(r)
        print(f"  {method} {label}: {status(r)}", file=sys.stderr, flush=True)
    for r in rows:
        r["method"] = method
    return rows


def status(r: dict) -> str:
    if "timeout_s" in r:
        return f"timeout (> {r['timeout_s']:.0f} s)"
    if "error" in r:
        err = r["error"].strip()
        return "failed: " + (err.splitlines()[-1][:80] if err else "error")
    return f"{r['wall_s']:.1f} s whole, {r.get('compute_s', float('nan')):.2f} s compute"


def fmt(v: float | None, spec: str) -> str:
    return "" if v is None else format(v, spec)


def table(rows: list[dict]) -> str:
    lines = [
        "| method | tool | whole process (s) | compute only (s) | peak memory (MB) | max abs diff vs seedsig | "
        "factors: max abs diff | whole-process ratio | compute ratio |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    ours: dict = {}
    for r in rows:
        if r["label"] == "seedsig":
            ours = r
        if "wall_s" not in r:
            lines.append(f"| {r['method']} | {r['label']} | {status(r)} | | | | | | |")
            continue
        diff = fmt(r.get("max_abs_diff"), ".1e") + (
            f" ({r['nonfinite_mismatch']} NaN mismatches)" if r.get("nonfinite_mismatch") else ""
        )
        rw = r["wall_s"] / ours["wall_s"] if ours.get("wall_s") else None
        rc = r["compute_s"] / ours["compute_s"] if ours.get("compute_s") and r.get("compute_s") is not None else None
        lines.append(
            f"| {r['method']} | {r['label']} | {r['wall_s']:.1f} | {fmt(r.get('compute_s'), '.2f')} | "
            f"{fmt(r.get('peak_mb'), '.0f')} | {diff} | {fmt(r.get('factors_max_abs_diff'), '.1e')} | "
            f"{fmt(rw, '.1f')}{'x' if rw else ''} | {fmt(rc, '.1f')}{'x' if rc else ''} |"
        )
    return "\n".join(lines)


def trend_table(rows: list[dict]) -> str:
    lines = [
        "| tool | asymptDisp (a0) | extraPois (a1) | abs diff a0 vs seedsig | abs diff a1 vs seedsig |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        if r.get("method") == "deseq2_vst" and r.get("coef"):
            d = r.get("coef_abs_diff") or [None, None]
            lines.append(
                f"| {r['label']} | {r['coef'][0]:.6g} | {r['coef'][1]:.6g} | {fmt(d[0], '.1e')} | {fmt(d[1], '.1e')} |"
            )
    return "\n".join(lines)


def versions() -> dict:
    v = {"python": sys.version.split()[0]}
    for name in ("seedsig", "numpy", "pandas", "scipy", "statsmodels", "rnanorm", "pydeseq2", "anndata"):
        try:
            v[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            v[name] = "not installed"
    git = subprocess.run(
        ["git", "-C", str(HERE.parent), "log", "-1", "--format=%h", "--", "src"], capture_output=True, text=True
    )
    dirty = subprocess.run(
        ["git", "-C", str(HERE.parent), "status", "--porcelain", "--", "src"], capture_output=True, text=True
    )
    if git.returncode == 0 and git.stdout.strip():
        v["seedsig"] += f" (src at {git.stdout.strip()}{', modified' if dirty.stdout.strip() else ''})"
    if shutil.which("Rscript"):
        expr = (
            'cat(paste(R.version$major, R.version$minor, sep="."), as.character(packageVersion("edgeR")), '
            'as.character(packageVersion("DESeq2")))'
        )
        p = subprocess.run(["Rscript", "-e", expr], capture_output=True, text=True)
        if p.returncode == 0 and len(p.stdout.split()) == 3:
            v["R"], v["edgeR"], v["DESeq2"] = p.stdout.split()
    return v


def machine() -> dict:
    cpu = (
        next(
            (
                ln.split(":", 1)[1].strip()
                for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")
            ),
            "",
        )
        if Path("/proc/cpuinfo").exists()
        else ""
    )
    return {"cores": os.cpu_count(), "cpu": cpu}


def write_readme_section(name: str, md: str) -> None:
    """Put ``md`` between the ``<!-- BEGIN name -->`` / ``<!-- END name -->`` markers of benchmarks/README.md
    (appended at the end when the markers are not there yet)."""
    readme = HERE / "README.md"
    text = readme.read_text() if readme.exists() else ""
    begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
    block = f"{begin}\n{md}\n{end}"
    text = (
        re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S)
        if begin in text
        else text.rstrip("\n") + "\n\n" + block + "\n"
    )
    readme.write_text(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--genes", type=int, default=60000)
    ap.add_argument("--samples", type=int, default=500)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--methods", nargs="+", choices=list(METHODS), default=list(METHODS))
    ap.add_argument(
        "--timeout", type=float, default=1200, help="time limit (s) for pydeseq2's VST, whole process (default 1200)"
    )
    ap.add_argument(
        "--max-time", type=float, default=7200, help="time limit (s) for every other process (default 7200)"
    )
    ap.add_argument("--no-readme", action="store_true", help="do not write the table into benchmarks/README.md")
    a = ap.parse_args()
    counts, data = make_counts(a.genes, a.samples, a.seed)
    (OUT / "run_seedsig_normalize.py").write_text(SEEDSIG_COMPUTE)
    (OUT / "run_python_peer.py").write_text(PYTHON_PEER)
    (OUT / "run_r_peer.R").write_text(R_PEER)
    vers = versions()  # before the runs: the seedsig source measured
    rows: list[dict] = []
    for method in a.methods:
        print(f"{method} ...", file=sys.stderr, flush=True)
        rows += contenders(method, counts, a)
    result = {"data": data, "timeout_s": a.timeout, "rows": rows, "versions": vers, "machine": machine()}
    (OUT / "normalize.json").write_text(json.dumps(result, indent=2))
    v, mach = result["versions"], result["machine"]
    cmd = "python benchmarks/bench_normalize.py" + (
        "" if (a.genes, a.samples) == (60000, 500) else f" --genes {a.genes} --samples {a.samples}"
    )
    md = (
        f"## Normalization ({a.genes:,} genes x {a.samples:,} samples)\n\n"
        f"Run: `{cmd}` on {mach['cores']} cores ({mach['cpu']}). Simulated negative binomial counts (seed {a.seed}): "
        f"gene means log-normal(3, 2), 30% of the genes mostly zero ({data['all_zero_genes']:,} all zero), dispersion "
        f"0.05 + 2/mean, library size factors U(0.5, 2); {data['genes_without_zero']:,} genes without a zero; library "
        f"sizes {data['library_size_min'] / 1e6:.1f}-{data['library_size_max'] / 1e6:.1f} M. Whole process = a fresh "
        "process that reads the same counts TSV, normalizes and writes the result TSV (seedsig: `seedsig normalize "
        "--input counts.tsv --method M --out out.tsv`; R: base `read.delim`/`write.table`, as in the scoring "
        "benchmark); compute only = the normalization of the matrix already in memory, after imports (R: "
        "`system.time`). Ratios are the tool's time over seedsig's (higher = seedsig faster). Peak memory: GNU time's "
        "maximum RSS of the largest process. Factors: TMM normalization factors (tmm_logcpm) or size factors "
        "(deseq2_*).\n\n"
        f"{table(rows)}\n"
    )
    if "deseq2_vst" in a.methods:
        md += f"\nVST dispersion trend a0 + a1/mean (design ~1, parametric):\n\n{trend_table(rows)}\n"
    md += "\nVersions: " + ", ".join(f"{k} {val}" for k, val in v.items()) + ".\n"
    (OUT / "normalize.md").write_text(md)
    if not a.no_readme:
        write_readme_section("normalize", md)
    print(md)


if __name__ == "__main__":
    main()
