#!/usr/bin/env python3
"""Single-cell atlases out of core: a simulated atlas through ingest (pseudobulk) and per-cell scores, in bounded
memory, with scanpy's ``score_genes`` side by side where it can run.

    flock /work/bench.lock python benchmarks/bench_single_cell.py        # 100,000 and 1,000,000 cells (~20 GB disk)
    python benchmarks/bench_single_cell.py --cells 20000 --no-readme     # smoke run, ~2 min

For each size, an atlas of ``--genes`` x cells (``--samples`` samples, median ``--detected`` genes per cell) is
written by ``seedsig simulate --single-cell FILE --n-cells N`` (a block of cells at a time), then each step runs as
its own process, as the pipeline's rules run them (the same stage functions, in one process per step; GNU time's
wall and maximum RSS):

* ``ingest``: ``seedsig.ingest.stage.ingest_cohort`` (rule ``ingest``: the pseudobulk, a chunk of cells at a time,
  gene ids resolved, clinical data, expression.h5ad written);
* ``cell_scores <method>``: ``seedsig.scoring.stage.cell_scores_cohort`` (rule ``cell_scores``; 2 threads, the rule's)
  for the default methods (ssgsea, zscore) and score_genes, the signatures SS + the organ signatures
  (``self_seeding.tsv``, ``organ_metastasis.tsv``), the table written as it comes.

scanpy's ``tl.score_genes`` cannot run on a backed AnnData (it refuses), so it runs in memory: ``read_h5ad`` of the
whole file, ``normalize_total(target_sum=1e4)`` + ``log1p``, then ``score_genes`` per signature direction (the same
parameters: ctrl_size 50, n_bins 25, random_state 0; var names resolved to the same symbols), up to
``--scanpy-max-cells`` (default 100,000: at 1,000,000 cells the matrix alone is ~8 GB as float32 and twice that as
float64, beyond this machine). Max |difference| against seedsig's score_genes table. The atlases are removed at the
end (``--keep`` keeps them). Results: benchmarks/out/single_cell.{md,json} and the section between the BEGIN/END
single_cell markers of benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
sys.path.insert(0, str(HERE))
from bench_normalize import machine, run, seedsig_cli, write_readme_section  # noqa: E402  same directory

SIGNATURES = ["self_seeding.tsv", "organ_metastasis.tsv"]

INGEST = """
import sys, time, json
t0 = time.perf_counter()
from seedsig.ingest.stage import ingest_cohort
path, out, chunk = sys.argv[1], sys.argv[2], int(sys.argv[3])
t1 = time.perf_counter()
ingest_cohort("atlas", path, "counts", "symbol", f"{out}/expression.h5ad", f"{out}/gene_mapping.tsv",
              out_clinical=f"{out}/clinical.tsv", sample_column="sample", time="mfs_months", event="mfs_event",
              chunk_cells=chunk)
print(json.dumps({"compute_s": time.perf_counter() - t1}))
"""

CELL_SCORES = """
import sys, time, json
t0 = time.perf_counter()
from seedsig.scoring.stage import cell_scores_cohort
path, out, method, chunk, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
sigs = sys.argv[6:]
t1 = time.perf_counter()
cell_scores_cohort("atlas", path, "symbol", "sample", sigs, method, out, chunk_cells=chunk, threads=threads)
print(json.dumps({"compute_s": time.perf_counter() - t1}))
"""

SCANPY = """
import sys, time, json
t0 = time.perf_counter()
import anndata as ad, numpy as np, pandas as pd, scanpy as sc
from seedsig.ingest.ids import resolve_ids
from seedsig.scoring.signatures import load_signatures
path, out, order = sys.argv[1], sys.argv[2], sys.argv[3]
sigs = load_signatures(sys.argv[4:])
t1 = time.perf_counter()
a = ad.read_h5ad(path)
a.var_names = resolve_ids(list(a.var_names), "symbol")["symbol"].astype(str).to_numpy()
if order == "sorted":  # seedsig's gene order (score_genes draws control genes by position in the gene pool), float64
    a = a[:, np.argsort(np.asarray(a.var_names), kind="stable")].copy()
    a.X = a.X.astype(np.float64)
sc.pp.normalize_total(a, target_sum=1e4)
sc.pp.log1p(a)
scores = {}
for sig in sigs:
    total = np.zeros(a.n_obs)
    for genes, sign in ((sig.up, 1.0), (sig.down, -1.0)):
        genes = sorted(g for g in genes if g in set(a.var_names))
        if genes:
            sc.tl.score_genes(a, genes, ctrl_size=50, n_bins=25, random_state=0, score_name="s", use_raw=False)
            total += sign * a.obs["s"].to_numpy()
    scores[sig.name] = total
t2 = time.perf_counter()
pd.DataFrame(scores, index=a.obs_names).to_csv(out, sep="\\t")
print(json.dumps({"compute_s": t2 - t1, "n_cells": int(a.n_obs)}))
"""


def load() -> str:
    return Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"


def simulate(path: Path, cells: int, a: argparse.Namespace) -> dict:
    cmd = [
        *seedsig_cli(),
        "simulate",
        "--single-cell",
        str(path),
        "--n-cells",
        str(cells),
        "--n-genes",
        str(a.genes),
        "--n-samples",
        str(a.samples),
        "--detected-genes",
        str(a.detected),
        "--threads",
        str(a.threads),
        "--seed",
        str(a.seed),
    ]
    r = run(cmd, "simulate", a.max_time)
    if "wall_s" in r:
        import h5py

        with h5py.File(path) as f:
            indptr = f["X/indptr"][:]
        detected = np.diff(indptr)
        r.update(
            nnz=int(indptr[-1]),
            detected_min=int(detected.min()),
            detected_median=float(np.median(detected)),
            detected_max=int(detected.max()),
            file_gb=path.stat().st_size / 1e9,
        )
    return r


def bench_size(cells: int, work: Path, a: argparse.Namespace, sig_files: list[str]) -> list[dict]:
    work.mkdir(parents=True, exist_ok=True)
    atlas = work / f"atlas_{cells}.h5ad"
    rows = []

    def step(label: str, cmd: list[str]) -> dict:
        print(f"{cells:,} cells: {label} (load {load()}) ...", file=sys.stderr, flush=True)
        r = {"cells": cells, "load_1min": load(), **run(cmd, label, a.max_time)}
        r["label"] = label
        rows.append(r)
        print(f"  {json.dumps(r)}", file=sys.stderr, flush=True)
        return r

    print(f"{cells:,} cells: simulate (load {load()}) ...", file=sys.stderr, flush=True)
    rows.append({"cells": cells, "load_1min": load(), **simulate(atlas, cells, a)})
    print(f"  {json.dumps(rows[-1])}", file=sys.stderr, flush=True)
    ing = work / f"ingest_{cells}"
    ing.mkdir(exist_ok=True)
    step("ingest (pseudobulk)", [sys.executable, str(OUT / "run_sc_ingest.py"), str(atlas), str(ing), str(a.chunk)])
    for m in ("ssgsea", "zscore", "score_genes"):
        out = work / f"{m}_{cells}.tsv.gz"
        cmd = [sys.executable, str(OUT / "run_sc_cell_scores.py"), str(atlas), str(out), m, str(a.chunk)]
        step(f"cell_scores {m}", [*cmd, str(a.threads), *sig_files])
    if cells <= a.scanpy_max_cells:
        for order in ("file", "sorted"):
            out = work / f"scanpy_{order}_{cells}.tsv"
            label = "scanpy score_genes (in memory)" + ("" if order == "file" else ", seedsig's gene order, float64")
            cmd = [sys.executable, str(OUT / "run_sc_scanpy.py"), str(atlas), str(out), order]
            r = step(label, cmd + sig_files)
            if "wall_s" in r:
                ours = pd.read_csv(work / f"score_genes_{cells}.tsv.gz", sep="\t", index_col=0)
                theirs = pd.read_csv(out, sep="\t", index_col=0)
                cols = [c for c in theirs.columns if c in ours.columns]
                diff = ours.loc[theirs.index, cols].to_numpy() - theirs[cols].to_numpy()
                r["max_abs_diff"] = float(np.nanmax(np.abs(diff)))
                r["order"] = order
                ours_run = next((x for x in rows if x.get("label") == "cell_scores score_genes"), {})
                if "wall_s" in ours_run:
                    r["ratio_vs_seedsig"] = r["wall_s"] / ours_run["wall_s"]
    else:
        rows.append({"cells": cells, "label": "scanpy score_genes (in memory)", "skipped": True})
    if not a.keep:
        shutil.rmtree(work / f"ingest_{cells}", ignore_errors=True)
        for p in work.glob(f"*_{cells}.*"):
            p.unlink()
    return rows


def table(rows: list[dict]) -> str:
    lines = [
        "| cells | step | wall (s) | cells/s | peak RSS (MB) | load (1 min) | note |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        note = ""
        if r["label"] == "simulate" and "nnz" in r:
            note = (
                f"{r['nnz']:,} stored counts ({r['file_gb']:.1f} GB); detected genes per cell {r['detected_min']}-"
                f"{r['detected_max']}, median {r['detected_median']:g}"
            )
        if "max_abs_diff" in r:
            ratio = f"{r['ratio_vs_seedsig']:.1f}x seedsig's score_genes time; " if "ratio_vs_seedsig" in r else ""
            note = f"{ratio}max abs diff vs seedsig score_genes {r['max_abs_diff']:.1e}" + (
                " (control genes drawn in the file's gene order; X float32 as stored)"
                if r.get("order") == "file"
                else " (a column-reordered copy: its time and memory are not scanpy's own)"
            )
        if r.get("skipped"):
            lines.append(f"| {r['cells']:,} | {r['label']} | not run | | | | in memory beyond this machine |")
            continue
        if "wall_s" not in r:
            err = r.get("error", f"timeout after {r.get('timeout_s')} s")
            lines.append(f"| {r['cells']:,} | {r['label']} | failed | | | {r.get('load_1min', '')} | {err[-200:]} |")
            continue
        lines.append(
            f"| {r['cells']:,} | {r['label']} | {r['wall_s']:.1f} | {r['cells'] / r['wall_s']:,.0f} | "
            f"{r['peak_mb']:,.0f} | {r['load_1min']} | {note} |"
        )
    return "\n".join(lines)


def versions() -> dict:
    v = {"python": sys.version.split()[0]}
    for name in ("seedsig", "numpy", "scipy", "pandas", "anndata", "scanpy", "h5py", "numba"):
        try:
            v[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            v[name] = "not installed"
    git = subprocess.run(["git", "-C", str(HERE.parent), "log", "-1", "--format=%h"], capture_output=True, text=True)
    if git.returncode == 0:
        v["seedsig"] += f" ({git.stdout.strip()})"
    return v


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cells", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--genes", type=int, default=20000)
    ap.add_argument("--samples", type=int, default=48)
    ap.add_argument("--detected", type=int, default=1000, help="median detected genes per cell (default 1000)")
    ap.add_argument("--chunk", type=int, default=5000, help="cells per chunk (single_cell.chunk_cells; default 5000)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=2010)
    ap.add_argument("--scanpy-max-cells", type=int, default=100_000)
    ap.add_argument("--work", type=Path, default=OUT / "single_cell", help="where the atlases are written")
    ap.add_argument("--max-time", type=float, default=7200)
    ap.add_argument("--keep", action="store_true", help="keep the atlases and outputs")
    ap.add_argument("--no-readme", action="store_true")
    a = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    (OUT / "run_sc_ingest.py").write_text(INGEST)
    (OUT / "run_sc_cell_scores.py").write_text(CELL_SCORES)
    (OUT / "run_sc_scanpy.py").write_text(SCANPY)
    from seedsig.simulate import default_signature_dir

    sig_files = [str(default_signature_dir() / f) for f in SIGNATURES]
    vers, mach, start = versions(), machine(), time.strftime("%Y-%m-%d")
    rows: list[dict] = []
    for cells in a.cells:
        rows += bench_size(cells, a.work, a, sig_files)
    result = {"rows": rows, "versions": vers, "machine": mach, "args": {k: str(v) for k, v in vars(a).items()}}
    (OUT / "single_cell.json").write_text(json.dumps(result, indent=2))
    cmd = "python benchmarks/bench_single_cell.py" + (
        "" if a.cells == [100_000, 1_000_000] else " --cells " + " ".join(map(str, a.cells))
    )
    md = (
        "## Single-cell atlases out of core\n\n"
        f"Run {start}: `flock /work/bench.lock {cmd}` on {mach['cores']} cores ({mach['cpu']}; other work on the "
        "machine: the 1-minute load average at the start of each step is in the table). A simulated atlas of "
        f"{a.genes:,} genes, {a.samples} samples, median {a.detected:,} detected genes per cell (`seedsig simulate "
        f"--single-cell FILE --n-cells N --n-genes {a.genes} --n-samples {a.samples} --detected-genes {a.detected} "
        f"--threads {a.threads}`: X raw counts, CSR float32, written a block of cells at a time), then each step in "
        "its own process, as the rules run it (the same stage functions): `ingest` = `ingest_cohort` (the pseudobulk "
        "a chunk of cells at a time, ids, clinical data, expression.h5ad), `cell_scores M` = `cell_scores_cohort` "
        f"(SS + the organ signatures: {', '.join(SIGNATURES)}; {a.chunk:,} cells per chunk, {a.threads} threads, the "
        "rule's; the table written as it comes). Wall = the whole process (start, imports, reading, writing); peak "
        "RSS = GNU time's maximum resident set size. scanpy's `score_genes` cannot run on a backed AnnData, so it "
        "runs in memory (`read_h5ad` of the whole file, `normalize_total` + `log1p`, `score_genes` per signature "
        f"direction) up to {a.scanpy_max_cells:,} cells.\n\n{table(rows)}\n\n"
        + "Versions: "
        + ", ".join(f"{k} {val}" for k, val in vers.items())
        + ".\n"
    )
    (OUT / "single_cell.md").write_text(md)
    if not a.no_readme:
        write_readme_section("single_cell", md)
    print(md)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
