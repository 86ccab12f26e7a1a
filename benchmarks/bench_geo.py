#!/usr/bin/env python3
"""GEO reader benchmark: seedsig.ingest.geo vs GEOparse (and pandas as a floor), side by side in one run.

1. The real GSE781 family SOFT (../shared/datasets/geo_geoquery_extdata_gse781_gds507/GSE781_family.soft.gz: 10 MB
   gzipped, 810,277 lines, 2 platforms, 34 samples of ~22k probes): seedsig's ``read_soft`` for one platform (what a
   cohort reads) and for both (two calls) vs GEOparse ``get_GEO(filepath=...)`` + ``pivot_samples("VALUE")`` (all 34
   samples: GEOparse has no per-platform read). Max |diff| = over the VALUE matrices of the same samples and probes.
2. A large synthetic series matrix in GEO's layout (default 54,675 probes x 300 samples, the HG-U133 Plus 2 size;
   quoted ids, ``null`` for 0.1% missing values, gzipped; written once to /tmp and reused): seedsig's
   ``read_series_matrix`` vs ``pandas.read_csv`` of the table alone with the header lines to skip given (the floor: no
   header parsing, no checks). GEOparse has no series-matrix reader (``get_GEO`` parses SOFT files only), so it is
   not a contender here. Max |diff| = vs pandas' matrix and vs the values written.

Times are in-process wall times after imports, best of ``--repeat`` runs. Results: benchmarks/out/geo.md and .json,
and the section between the BEGIN/END geo markers of benchmarks/README.md (``--no-readme`` to skip).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
sys.path.insert(0, str(HERE))
from bench_normalize import machine, write_readme_section  # noqa: E402  same directory: one writer of the README's sections

from seedsig.ingest.series_matrix import read_series_matrix  # noqa: E402
from seedsig.ingest.soft import read_soft  # noqa: E402

GSE781 = HERE.parent.parent / "shared" / "datasets" / "geo_geoquery_extdata_gse781_gds507" / "GSE781_family.soft.gz"


def best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """(best wall time in s, best CPU time in s, result of the last call). CPU time (process_time) is inflated less
    than wall time by other processes on a busy machine."""
    best, cpu, out = float("inf"), float("inf"), None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        best, cpu = min(best, time.perf_counter() - t0), min(cpu, time.process_time() - c0)
    return best, cpu, out


def write_series_matrix(path: Path, n_probes: int, n_samples: int, seed: int) -> tuple[int, pd.DataFrame]:
    """Write a series matrix in GEO's layout; return (lines before the table header, the values written)."""
    rng = np.random.default_rng(seed)
    ids = [f"{i}_at" for i in range(n_probes)]
    gsms = [f"GSM{100000 + j}" for j in range(n_samples)]
    values = np.round(rng.normal(7.0, 2.0, size=(n_probes, n_samples)), 4)
    values[rng.random(values.shape) < 0.001] = np.nan
    df = pd.DataFrame(values, index=pd.Index(ids, name="ID_REF"), columns=gsms)
    q = lambda vals: "\t".join(f'"{v}"' for v in vals)  # noqa: E731
    er = ("er status: positive", "er status: negative")
    header = [
        '!Series_title\t"Synthetic benchmark series"',
        '!Series_geo_accession\t"GSE000000"',
        '!Series_platform_id\t"GPL570"',
        "",
        f"!Sample_title\t{q(f'sample {j}' for j in range(n_samples))}",
        f"!Sample_geo_accession\t{q(gsms)}",
        f"!Sample_source_name_ch1\t{q(['breast tumour'] * n_samples)}",
        f"!Sample_characteristics_ch1\t{q(f'age: {40 + j % 40}' for j in range(n_samples))}",
        f"!Sample_characteristics_ch1\t{q(er[j % 2] for j in range(n_samples))}",
        f"!Sample_platform_id\t{q(['GPL570'] * n_samples)}",
        f"!Sample_data_row_count\t{q([str(n_probes)] * n_samples)}",
        "!series_matrix_table_begin",
    ]
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        with gzip.open(tmp, "wt", compresslevel=6) as fh:
            fh.write("\n".join(header) + "\n")
            out = df.copy()
            out.index = [f'"{i}"' for i in out.index]
            out.columns = [f'"{c}"' for c in out.columns]
            out.index.name = '"ID_REF"'
            out.to_csv(fh, sep="\t", na_rep="null", float_format="%.4f", quoting=3)
            fh.write("!series_matrix_table_end\n")
        tmp.replace(path)
    return len(header), df


def versions() -> dict[str, str]:
    v = {"python": sys.version.split()[0]}
    for name in ("seedsig", "numpy", "pandas", "GEOparse"):
        try:
            v[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            v[name] = "not installed"
    return v


def maxdiff(a: pd.DataFrame, b: pd.DataFrame) -> float:
    x, y = a.to_numpy(dtype=float), b.loc[a.index, a.columns].to_numpy(dtype=float)
    if not np.array_equal(np.isnan(x), np.isnan(y)):
        return float("inf")
    d = np.abs(x - y)
    return float(np.nanmax(d)) if np.isfinite(d).any() else 0.0


def bench_soft(repeat: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    t96, c96, r96 = best_of(lambda: read_soft(GSE781, platform="GPL96"), repeat)
    t_both, c_both, both = best_of(
        lambda: (read_soft(GSE781, platform="GPL96"), read_soft(GSE781, platform="GPL97")), repeat
    )
    ours = pd.concat([both[0].matrix, both[1].matrix], axis=1)
    rows.append({"tool": "seedsig read_soft (GPL96: 17 samples x 22,283)", "seconds": t96, "cpu": c96})
    rows.append({"tool": "seedsig read_soft GPL96 + GPL97 (2 calls, 34 samples)", "seconds": t_both, "cpu": c_both})
    try:
        import GEOparse

        def geoparse() -> pd.DataFrame:
            gse = GEOparse.get_GEO(filepath=str(GSE781), silent=True)
            return gse.pivot_samples("VALUE")

        tg, cg, piv = best_of(geoparse, repeat)
        d = max(maxdiff(m.matrix, piv) for m in both)
        rows.append(
            {"tool": "GEOparse get_GEO + pivot_samples (34 samples)", "seconds": tg, "cpu": cg, "max_abs_diff": d}
        )
    except ImportError as exc:
        rows.append({"tool": f"GEOparse: not available ({exc})", "seconds": float("nan"), "cpu": float("nan")})
    for r in rows:
        r["ratio"], r["cpu_ratio"] = r["seconds"] / rows[0]["seconds"], r["cpu"] / rows[0]["cpu"]
    rows[0]["n"] = f"{r96.matrix.shape[0]:,} x {r96.matrix.shape[1]}"
    rows[1]["n"] = f"{ours.shape[0]:,} x {ours.shape[1]}"
    return rows


def bench_series(n_probes: int, n_samples: int, seed: int, repeat: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    path = Path(f"/tmp/seedsig_bench_GSE000000_{n_probes}x{n_samples}_s{seed}_series_matrix.txt.gz")
    t0 = time.perf_counter()
    skip, truth = write_series_matrix(path, n_probes, n_samples, seed)
    t_write = time.perf_counter() - t0
    ts, cs, r = best_of(lambda: read_series_matrix(path), repeat)
    tp, cp, floor = best_of(
        lambda: pd.read_csv(
            path,
            sep="\t",
            skiprows=skip,
            nrows=n_probes,
            index_col=0,
            na_values=["null"],
            keep_default_na=False,
            dtype={0: str},
        ),
        repeat,
    )
    assert r.matrix.shape == (n_probes, n_samples) and r.clinical.shape[0] == n_samples
    rows = [
        {"tool": "seedsig read_series_matrix", "seconds": ts, "cpu": cs, "max_abs_diff": maxdiff(r.matrix, truth)},
        {
            "tool": "pandas.read_csv of the table alone (floor)",
            "seconds": tp,
            "cpu": cp,
            "max_abs_diff": maxdiff(r.matrix, floor),
        },
    ]
    for row in rows:
        row["ratio"], row["cpu_ratio"] = row["seconds"] / ts, row["cpu"] / rows[0]["cpu"]
    data = {
        "file": str(path),
        "size_mb": round(path.stat().st_size / 1e6, 1),
        "write_s": round(t_write, 1),
        "probes": n_probes,
        "samples": n_samples,
    }
    return rows, data


def table(rows: list[dict[str, Any]], diff_label: str) -> str:
    out = [f"| tool | seconds (wall) | ratio | CPU seconds | CPU ratio | {diff_label} |", "|---|---|---|---|---|---|"]
    for r in rows:
        d = r.get("max_abs_diff")
        out.append(
            f"| {r['tool']} | {r['seconds']:.2f} | {r['ratio']:.1f}x | {r['cpu']:.2f} | {r['cpu_ratio']:.1f}x | "
            f"{'' if d is None else f'{d:.1e}' if d else '0'} |"
        )
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--probes", type=int, default=54675)
    ap.add_argument("--samples", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-readme", action="store_true", help="do not write the section into benchmarks/README.md")
    a = ap.parse_args()
    if not GSE781.exists():
        sys.exit(f"{GSE781} not found (../shared beside the repository)")
    load = os.getloadavg()[0]  # other processes on the machine inflate the wall times
    soft_rows = bench_soft(a.repeat)
    sm_rows, data = bench_series(a.probes, a.samples, a.seed, a.repeat)
    v, mach = versions(), machine()
    cmd = "python benchmarks/bench_geo.py" + (
        "" if (a.probes, a.samples) == (54675, 300) else f" --probes {a.probes} --samples {a.samples}"
    )
    md = (
        "## GEO readers\n\n"
        f"Run: `{cmd}` on {mach['cores']} cores ({mach['cpu']}; 1-min load average {load:.1f} at the start); "
        f"in-process times after imports, best of {a.repeat}: wall, and CPU (process_time, which other work on a busy "
        "machine inflates less). Ratio = the tool's time over the first row's.\n\n"
        "**Family SOFT** (real GSE781_family.soft.gz: 10 MB gzipped, 2 platforms, 34 samples; max abs diff = the "
        "VALUE matrices of the same samples and probes, seedsig vs GEOparse):\n\n"
        f"{table(soft_rows, 'max abs diff vs seedsig')}\n\n"
        f"**Series matrix** (synthetic, GEO's layout: {a.probes:,} probes x {a.samples} samples, 4 decimals, 0.1% "
        f"`null`, gzipped {data['size_mb']} MB; GEOparse has no series-matrix reader, so pandas.read_csv of the table "
        "alone, told which lines to skip, is the floor; max abs diff of seedsig's matrix vs the values written, and "
        "vs pandas'):\n\n"
        f"{table(sm_rows, 'max abs diff')}\n\n"
        f"Versions: {', '.join(f'{k} {val}' for k, val in v.items())}.\n"
    )
    print(md)
    OUT.mkdir(exist_ok=True)
    (OUT / "geo.md").write_text(md)
    (OUT / "geo.json").write_text(
        json.dumps(
            {
                "load_average": load,
                "soft": soft_rows,
                "series_matrix": sm_rows,
                "data": data,
                "versions": v,
                "machine": mach,
            },
            indent=2,
        )
    )
    if not a.no_readme:
        write_readme_section("geo", md)


if __name__ == "__main__":
    main()
