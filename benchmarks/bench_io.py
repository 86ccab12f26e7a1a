#!/usr/bin/env python3
"""Table I/O benchmark: seedsig's reader and writer against the floor, side by side in one run.

    python benchmarks/bench_io.py [--genes 20000] [--samples 1000] [--write-genes 60000] [--write-samples 500]

Reading: ``seedsig.core.tables.read_matrix`` vs ``pyarrow.csv.read_csv`` alone (default options) vs
``pandas.read_csv`` (the C parser, as read_matrix used it before) on the same genes x samples TSV (``%.10g``).
Writing: ``seedsig.core.tables.write_table`` (``%.12g``, NA, the format of ``seedsig normalize``) vs
``np.savetxt(fmt="%.12g")`` vs ``DataFrame.to_csv`` of the same matrix (with its gene-id column). Each contender runs
in its own process: the time of the call after imports, best of ``--repeats``, and the process's peak RSS (GNU
time). Parsing: how many values pandas' and pyarrow's parsers read differently, on random text and on the real
matrices of ../shared/datasets. Results: benchmarks/out/io.json and the README section between the io markers.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from bench_normalize import run, write_readme_section  # same directory: the timed-process runner, the README writer

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
ROOT = HERE.parent
DATASETS = ROOT.parent / "shared" / "datasets"

READERS = {
    "seedsig read_matrix": "from seedsig.core.tables import read_matrix\nf = lambda: read_matrix(path)",
    "pyarrow.csv.read_csv": (
        "import pyarrow.csv as pc\nf = lambda: pc.read_csv(path, parse_options=pc.ParseOptions(delimiter='\\t'))"
    ),
    "pandas.read_csv": "import pandas as pd\nf = lambda: pd.read_csv(path, sep='\\t', index_col=0)",
}
WRITERS = {
    "seedsig write_table": (
        "from seedsig.core.tables import write_table\nf = lambda: write_table(df, out, float_format='%.12g')"
    ),
    "np.savetxt": "f = lambda: np.savetxt(out, x, fmt='%.12g', delimiter='\\t')",
    "DataFrame.to_csv": "f = lambda: df.to_csv(out, sep='\\t', index=False, na_rep='NA', float_format='%.12g')",
}
HARNESS = """
import json, sys, time
import numpy as np, pandas as pd
path, out, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
if out != "-":
    m = pd.read_pickle(path)
    df, x = m.reset_index(), m.to_numpy()
{setup}
times = []
for _ in range(repeats):
    t = time.perf_counter(); f(); times.append(time.perf_counter() - t)
print(json.dumps({{"best_s": min(times), "times_s": times}}))
"""


def matrix(genes: int, samples: int, seed: int) -> pd.DataFrame:
    """A log-expression-like genes x samples matrix (gene means N(6, 2), values N(mean, 1)); 0.1% NA."""
    rng = np.random.default_rng(seed)
    x = rng.normal(6, 2, size=(genes, 1)) + rng.normal(0, 1, size=(genes, samples))
    x[rng.random(x.shape) < 0.001] = np.nan
    return pd.DataFrame(
        x,
        index=pd.Index([f"G{i:05d}" for i in range(genes)], name="gene_id"),
        columns=[f"S{j:04d}" for j in range(samples)],
    )


def timed(contenders: dict[str, str], data: Path, out: dict[str, str], repeats: int, timeout: float) -> list[dict]:
    """Each contender's call timed in its own process, the contenders taking turns (round after round, so that a
    passing load on the machine hits them alike): the best time over ``repeats`` rounds, the largest peak RSS."""
    scripts = {}
    for i, (label, setup) in enumerate(contenders.items()):
        scripts[label] = OUT / f"io_contender_{i}.py"
        scripts[label].write_text(HARNESS.format(setup=setup))
    runs: dict[str, list[dict]] = {label: [] for label in contenders}
    for _ in range(repeats):
        for label, script in scripts.items():
            runs[label].append(run([sys.executable, str(script), str(data), out[label], "1"], label, timeout))
    rows = []
    for label, rs in runs.items():
        ok = [r for r in rs if "best_s" in r]
        if len(ok) < len(rs):
            rows.append(next(r for r in rs if "best_s" not in r))
            continue
        rows.append(
            {
                "label": label,
                "best_s": min(r["best_s"] for r in ok),
                "times_s": [r["best_s"] for r in ok],
                "peak_mb": max(r["peak_mb"] for r in ok),
            }
        )
    return rows


def parse_differences() -> dict:
    """Values pandas' C parser and pyarrow read differently: random text, and the real matrices read_matrix reads
    (pyarrow's is the correctly rounded one: Python's float() of the same text)."""
    import io

    import pyarrow as pa
    import pyarrow.csv as pc

    import seedsig.core.tables as tables
    from seedsig.core.errors import SeedsigError

    rng = np.random.default_rng(5)
    vals = np.concatenate([rng.normal(6, 3, 200000), np.exp(rng.normal(0, 10, 200000)), rng.random(200000) * 1e-5])
    random_text = {}
    for fmt in ("%.10g", "%.12g", "%.17g"):
        text = ("a\n" + "\n".join(fmt % v for v in vals) + "\n").encode()
        p = pd.read_csv(io.BytesIO(text), dtype={"a": np.float64})["a"].to_numpy()
        a = pc.read_csv(io.BytesIO(text), convert_options=pc.ConvertOptions(column_types={"a": pa.float64()}))
        a = a.column("a").to_numpy()
        exact = np.array([float(fmt % v) for v in vals])
        random_text[fmt] = {
            "values": int(vals.size),
            "pandas_vs_pyarrow": int((p != a).sum()),
            "pandas_not_correctly_rounded": int((p != exact).sum()),
            "pyarrow_not_correctly_rounded": int((a != exact).sum()),
        }
    real = {}
    for path in sorted(DATASETS.rglob("*")) if DATASETS.is_dir() else []:
        if not path.is_file() or not any(s in path.name for s in (".tsv", ".csv", ".txt")):
            continue
        frames = []
        for pandas_only in (False, True):
            arrow = tables._parse_matrix_arrow
            if pandas_only:
                tables._parse_matrix_arrow = lambda *a, **k: None
            try:
                frames.append(tables.read_matrix(path))
            except SeedsigError:
                frames.append(None)
            finally:
                tables._parse_matrix_arrow = arrow
        if frames[0] is None or frames[1] is None:
            continue
        x, y = frames[0].to_numpy(), frames[1].to_numpy()
        same = ~((x == y) | (np.isnan(x) & np.isnan(y)))
        real[str(path.relative_to(DATASETS))] = {"shape": list(x.shape), "values_differing": int(same.sum())}
    return {"random_text": random_text, "real_matrices": real}


def table(rows: list[dict], floor: str) -> str:
    base = next((r for r in rows if r["label"] == floor and "best_s" in r), None)
    lines = ["| contender | seconds (best) | vs " + floor + " | peak memory (MB) |", "|---|---|---|---|"]
    for r in rows:
        if "best_s" not in r:
            lines.append(f"| {r['label']} | failed | | |")
            continue
        ratio = f"{r['best_s'] / base['best_s']:.2f}x" if base else ""
        lines.append(f"| {r['label']} | {r['best_s']:.2f} | {ratio} | {r['peak_mb']:.0f} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--genes", type=int, default=20000)
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--write-genes", type=int, default=60000)
    ap.add_argument("--write-samples", type=int, default=500)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--no-readme", action="store_true")
    a = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    tsv = OUT / f"io_read_{a.genes}x{a.samples}.tsv"
    if not tsv.exists():
        matrix(a.genes, a.samples, 1).to_csv(tsv, sep="\t", float_format="%.10g", na_rep="NA")
    reads = timed(READERS, tsv, dict.fromkeys(READERS, "-"), a.repeats, a.timeout)
    pkl = OUT / f"io_write_{a.write_genes}x{a.write_samples}.pkl"
    matrix(a.write_genes, a.write_samples, 2).to_pickle(pkl)
    outs = {label: str(OUT / f"io_written_{i}.tsv") for i, label in enumerate(WRITERS)}
    writes = timed(WRITERS, pkl, outs, a.repeats, a.timeout)
    digests = {k: hashlib.sha256(Path(v).read_bytes()).hexdigest() if Path(v).exists() else k for k, v in outs.items()}
    for v in outs.values():
        Path(v).unlink(missing_ok=True)
    same_bytes = digests["seedsig write_table"] == digests["DataFrame.to_csv"]
    parsing = parse_differences()
    load = os.getloadavg()[0]
    result = {"read": reads, "write": writes, "write_table_bytes_equal_to_csv": same_bytes, "parsing": parsing}
    result["machine"] = {"cores": os.cpu_count(), "load_1min_at_start": load, "python": sys.version.split()[0]}
    (OUT / "io.json").write_text(json.dumps(result, indent=2))
    rt = parsing["random_text"]
    real = parsing["real_matrices"]
    md = (
        f"Run: `python benchmarks/bench_io.py` on {os.cpu_count()} cores (1-minute load average {load:.1f} at the "
        f"end). Each contender in its own process: the call after imports, best of {a.repeats}; peak memory = GNU "
        "time's maximum RSS of that process. The contenders take turns, round after round.\n\n"
        f"**Reading** a {a.genes:,} x {a.samples:,} TSV (`%.10g`, 0.1% NA; "
        f"{tsv.stat().st_size / 1e6:.0f} MB) into a matrix:\n\n{table(reads, 'pyarrow.csv.read_csv')}\n\n"
        f"**Writing** a {a.write_genes:,} x {a.write_samples:,} matrix with its gene-id column (`%.12g`, NA, as "
        f"`seedsig normalize` writes it); write_table's bytes equal to_csv's: {'yes' if same_bytes else 'NO'}:\n\n"
        f"{table(writes, 'np.savetxt')}\n\n"
        "**Parsing the same text**: values pandas' C parser reads differently from pyarrow (pyarrow's double is the "
        "correctly rounded one, as Python's `float()`; pandas' is not always): 600,000 random values "
        "(200,000 each of normal(6, 3), log-normal(0, 10), uniform x 1e-5) written "
        + ", ".join(
            f"`{f}`: {v['pandas_vs_pyarrow']:,} (pyarrow not correctly rounded: {v['pyarrow_not_correctly_rounded']})"
            for f, v in rt.items()
        )
        + f"; the {len(real)} matrices of ../shared/datasets that read_matrix reads: "
        + f"{sum(v['values_differing'] for v in real.values())} of "
        + f"{sum(v['shape'][0] * v['shape'][1] for v in real.values()):,} values differ.\n"
    )
    if not a.no_readme:
        write_readme_section("io", md)
    print(md)


if __name__ == "__main__":
    main()
