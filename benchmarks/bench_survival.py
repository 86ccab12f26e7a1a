#!/usr/bin/env python3
"""Random-signature Cox benchmark: seedsig vs statsmodels PHReg vs R survival::coxph, side by side in one run.

    python benchmarks/bench_survival.py [--B 1000] [--n 200 2000] [--sm-budget 180] [--sm-subset 200]
    python benchmarks/bench_survival.py --B 100 --n 200 --no-readme      # smoke run, ~10 s

The hazard-ratio null of Venet et al. (2011): B one-covariate Cox models (Efron ties) on the same survival
data, one per random signature score, each row divided by its sample SD (n - 1), the log HR per SD and its
SE kept. Simulated data (seeded): X (B x n) standard normal, row 0 with a true log HR of ``--effect`` per
unit; event times exponential (baseline mean 24), independent exponential censoring set for about
``--event-fraction`` events, times rounded to 0.1 (ties; at least 0.1). X and the survival data are written
once as plain TSVs into a temporary directory, which every contender reads:

* seedsig: ``seedsig.outcome.cox_many.cox_univariate_many(X, time, event)``, all rows at once (vectorized Newton);
* statsmodels: ``PHReg(time, z[:, None], status=event, ties="efron").fit(disp=False)`` once per row,
  z = row / its SD; ``params[0]``, ``bse[0]``;
* R: one Rscript process looping ``coxph(Surv(time, event) ~ z, ties = "efron")`` over the rows, the same z;
  ``coef(fit)``, ``sqrt(vcov(fit))``.

As in the other benchmarks each contender runs as a whole process (a fresh subprocess that starts, reads the
TSVs, fits and writes its B betas and SEs: wall time from here, peak RSS from GNU time) and reports its
compute-only time (the B fits on the data already in memory, SD scaling included; R: ``system.time`` of the
loop). statsmodels can take minutes at n = 2000: when its first 20 fits project the B fits beyond
``--sm-budget`` seconds it fits only the first ``--sm-subset`` rows, and its times are extrapolated to B rows
(compute x B / rows; whole process = measured whole process - measured compute + extrapolated compute),
which the table says. Max |difference| of beta and SE is against seedsig on the rows both fitted.
Results: benchmarks/out/survival.md and .json, and the section between the BEGIN/END survival markers of
benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
from bench_normalize import fmt, machine, run, write_readme_section  # same directory: GNU-time runner with a time limit

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"

SEEDSIG = """
import sys, time, json
t0 = time.perf_counter()
import numpy as np, pandas as pd
from seedsig.core.tables import read_matrix
from seedsig.outcome.cox_many import cox_univariate_many
x = read_matrix(sys.argv[1], "random scores"); s = pd.read_csv(sys.argv[2], sep="\\t", index_col=0).loc[x.columns]
X, t, e = x.to_numpy(), s["time"].to_numpy(dtype=float), s["event"].to_numpy(dtype=float)
t1 = time.perf_counter()
beta, se = cox_univariate_many(X, t, e)
t2 = time.perf_counter()
pd.DataFrame({"beta": beta, "se": se}, index=x.index).to_csv(sys.argv[3], sep="\\t", float_format="%.17g")
print(json.dumps({"compute_s": t2 - t1, "read_s": t1 - t0, "rows": len(beta)}))
"""

STATSMODELS = """
import sys, time, json
t0 = time.perf_counter()
import warnings
import numpy as np, pandas as pd
from statsmodels.duration.hazard_regression import PHReg
x = pd.read_csv(sys.argv[1], sep="\\t", index_col=0)
s = pd.read_csv(sys.argv[2], sep="\\t", index_col=0).loc[x.columns]
budget, subset = float(sys.argv[4]), int(sys.argv[5])
X, t, e = x.to_numpy(dtype=float), s["time"].to_numpy(dtype=float), s["event"].to_numpy(dtype=float)
B = X.shape[0]
beta, se = np.full(B, np.nan), np.full(B, np.nan)
t1 = time.perf_counter()
stop, probe = B, min(20, B)
for i in range(B):
    if i == probe and (time.perf_counter() - t1) / probe * B > budget:
        stop = max(probe, min(subset, B))  # projected beyond the budget: fit a subset and extrapolate
    if i == stop:
        break
    z = X[i] / X[i].std(ddof=1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = PHReg(t, z[:, None], status=e, ties="efron").fit(disp=False)
        beta[i], se[i] = r.params[0], r.bse[0]
    except Exception:
        pass
t2 = time.perf_counter()
pd.DataFrame({"beta": beta, "se": se}, index=x.index).to_csv(sys.argv[3], sep="\\t", float_format="%.17g")
print(json.dumps({"compute_s": t2 - t1, "read_s": t1 - t0, "rows": stop}))
"""

R_COXPH = r"""
args <- commandArgs(trailingOnly = TRUE)
t0 <- proc.time()[["elapsed"]]
suppressMessages(library(survival))
x <- as.matrix(read.delim(args[1], row.names = 1, check.names = FALSE))
s <- read.delim(args[2], row.names = 1, check.names = FALSE)[colnames(x), ]
time <- s$time; event <- s$event
B <- nrow(x); beta <- rep(NA_real_, B); se <- rep(NA_real_, B)
t1 <- proc.time()[["elapsed"]]
tm <- system.time(for (i in seq_len(B)) {
  z <- x[i, ] / sd(x[i, ])
  fit <- tryCatch(coxph(Surv(time, event) ~ z, ties = "efron"), error = function(e) NULL)
  if (!is.null(fit)) { beta[i] <- coef(fit)[[1]]; se[i] <- sqrt(vcov(fit)[1, 1]) }
})[["elapsed"]]
out <- data.frame(beta = sprintf("%.17g", beta), se = sprintf("%.17g", se), row.names = rownames(x))
write.table(out, args[3], sep = "\t", quote = FALSE, col.names = NA)
cat(sprintf('{"compute_s": %f, "read_s": %f, "rows": %d}\n', tm, t1 - t0, B))
"""


def make_data(work: Path, B: int, n: int, seed: int, effect: float, event_fraction: float) -> tuple[Path, Path, dict]:
    """X (B x n, standard normal; row 0 with a true log HR of ``effect``) and (time, event), written as TSVs."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((B, n))
    T = rng.exponential(24.0 / np.exp(effect * X[0]))
    C = rng.exponential(24.0 * event_fraction / (1.0 - event_fraction), size=n)  # P(T < C) ~ event_fraction
    time = np.maximum(np.round(np.minimum(T, C), 1), 0.1)
    event = (T <= C).astype(int)
    samples = [f"S{j:05d}" for j in range(n)]
    xp, sp = work / f"scores_{B}x{n}_seed{seed}.tsv", work / f"surv_{n}_seed{seed}.tsv"
    pd.DataFrame(X, index=pd.Index([f"R{i:05d}" for i in range(B)], name="signature"), columns=samples).to_csv(
        xp, sep="\t", float_format="%.17g"
    )
    pd.DataFrame({"time": time, "event": event}, index=pd.Index(samples, name="sample")).to_csv(
        sp, sep="\t", float_format="%.10g"
    )
    et = time[event == 1]
    _, counts = np.unique(et, return_counts=True)
    stats = {
        "B": B,
        "n": n,
        "seed": seed,
        "effect": effect,
        "events": int(event.sum()),
        "event_fraction": float(event.mean()),
        "distinct_times": int(np.unique(time).size),
        "distinct_event_times": int(counts.size),
        "events_at_tied_times": int(counts[counts > 1].sum()),
    }
    return xp, sp, stats


def read_out(path: Path, index: pd.Index | None = None) -> pd.DataFrame:
    df = pd.read_csv(path, sep="\t", index_col=0, na_values=["NA", "nan", "NaN"])
    df.index = df.index.astype(str)
    return df if index is None else df.loc[index]


def compare(ours: pd.DataFrame, theirs: pd.DataFrame, rows: int) -> dict:
    """Max |difference| of beta and SE on the first ``rows`` rows where both are finite; NaN in one only."""
    a, b = ours.iloc[:rows], theirs.loc[ours.index[:rows]]
    out = {}
    for col in ("beta", "se"):
        x, y = a[col].to_numpy(dtype=float), b[col].to_numpy(dtype=float)
        both = np.isfinite(x) & np.isfinite(y)
        out[f"{col}_max_abs_diff"] = float(np.abs(x[both] - y[both]).max()) if both.any() else None
        out[f"{col}_nan_mismatch"] = int((np.isfinite(x) != np.isfinite(y)).sum())
    return out


def contenders(xp: Path, sp: Path, work: Path, B: int, n: int, a: argparse.Namespace) -> list[dict]:
    rows = []
    ours_out = work / f"cox_seedsig_{n}.tsv"
    rows.append(
        run([sys.executable, str(work / "run_seedsig.py"), str(xp), str(sp), str(ours_out)], "seedsig", a.max_time)
    )
    print(f"  n={n} seedsig: {status(rows[-1])}", file=sys.stderr, flush=True)
    ours = read_out(ours_out) if "wall_s" in rows[0] else None
    if ours is not None:
        rows[0]["nan_rows"] = int(ours["beta"].isna().sum())
    peers = [
        ("statsmodels PHReg", [sys.executable, str(work / "run_statsmodels.py")], [str(a.sm_budget), str(a.sm_subset)])
    ]
    if shutil.which("Rscript"):
        peers.append(("R coxph", ["Rscript", str(work / "run_coxph.R")], []))
    else:
        rows.append({"label": "R coxph", "error": "Rscript not installed"})
    for label, cmd, extra in peers:
        out = work / f"cox_{label.split()[0]}_{n}.tsv"
        r = run([*cmd, str(xp), str(sp), str(out), *extra], label, a.max_time)
        if "wall_s" in r:
            if r.get("rows", B) < B:  # statsmodels on a subset: extrapolate to B rows
                r["measured"] = {"wall_s": r["wall_s"], "compute_s": r["compute_s"]}
                est = r["compute_s"] * B / r["rows"]
                r["wall_s"], r["compute_s"], r["extrapolated"] = r["wall_s"] - r["compute_s"] + est, est, True
            if ours is not None:
                r.update(compare(ours, read_out(out, ours.index), r.get("rows", B)))
        rows.append(r)
        print(f"  n={n} {label}: {status(r)}", file=sys.stderr, flush=True)
    for r in rows:
        r["n"], r["B"] = n, B
    return rows


def status(r: dict) -> str:
    if "timeout_s" in r:
        return f"timeout (> {r['timeout_s']:.0f} s)"
    if "error" in r:
        err = r["error"].strip()
        return "failed: " + (err.splitlines()[-1][:80] if err else "error")
    extra = f" (extrapolated from {r['rows']} rows)" if r.get("extrapolated") else ""
    return f"{r['wall_s']:.1f} s whole, {r['compute_s']:.3f} s compute{extra}"


def ratio(v: float | None) -> str:
    return "" if v is None else (f"{v:.0f}x" if v >= 10 else f"{v:.1f}x")


def diff(r: dict, col: str) -> str:
    s = fmt(r.get(f"{col}_max_abs_diff"), ".1e")
    return s + (f" ({r[f'{col}_nan_mismatch']} NaN in one only)" if r.get(f"{col}_nan_mismatch") else "")


def table(rows: list[dict]) -> str:
    lines = [
        "| n | tool | whole process (s) | compute only (s) | peak memory (MB) | max abs diff beta vs seedsig | max "
        "abs diff SE vs seedsig | whole-process ratio | compute ratio | note |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    ours: dict = {}
    for r in rows:
        if r["label"] == "seedsig":
            ours = r
        if "wall_s" not in r:
            lines.append(f"| {r['n']:,} | {r['label']} | {status(r)} | | | | | | | |")
            continue
        rw = r["wall_s"] / ours["wall_s"] if ours.get("wall_s") else None
        rc = r["compute_s"] / ours["compute_s"] if ours.get("compute_s") else None
        if r.get("extrapolated"):
            m = r["measured"]
            note = (
                f"extrapolated: {r['rows']} of {r['B']:,} rows fitted (measured {m['compute_s']:.1f} s compute, "
                f"{m['wall_s']:.1f} s whole); diffs on those rows"
            )
        else:
            note = f"{r['nan_rows']} rows NaN" if r.get("nan_rows") else ""
        lines.append(
            f"| {r['n']:,} | {r['label']} | {r['wall_s']:.1f}{'*' if r.get('extrapolated') else ''} | "
            f"{r['compute_s']:.3f}{'*' if r.get('extrapolated') else ''} | {fmt(r.get('peak_mb'), '.0f')} | "
            f"{diff(r, 'beta')} | {diff(r, 'se')} | {ratio(rw)} | {ratio(rc)} | {note} |"
        )
    return "\n".join(lines)


def versions() -> dict:
    v = {"python": sys.version.split()[0]}
    for name in ("seedsig", "numpy", "pandas", "scipy", "statsmodels"):
        try:
            v[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            v[name] = "not installed"
    if shutil.which("Rscript"):
        p = subprocess.run(
            [
                "Rscript",
                "-e",
                'cat(paste(R.version$major, R.version$minor, sep="."), as.character(packageVersion("survival")))',
            ],
            capture_output=True,
            text=True,
        )
        if p.returncode == 0 and len(p.stdout.split()) == 2:
            v["R"], v["survival"] = p.stdout.split()
    return v


def git_state() -> str:
    """HEAD's short hash, and whether the working tree (src/ in particular) differs from it."""
    root = str(HERE.parent)
    head = subprocess.run(
        ["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    if not head:
        return "not a git checkout"
    src = subprocess.run(
        ["git", "-C", root, "status", "--porcelain", "--", "src"], capture_output=True, text=True
    ).stdout.splitlines()
    allc = subprocess.run(
        ["git", "-C", root, "status", "--porcelain"], capture_output=True, text=True
    ).stdout.splitlines()
    if not allc:
        return f"commit {head} (clean working tree)"
    surv = [ln[3:] for ln in src if ln[3:].endswith("outcome/cox.py")]
    note = f"commit {head} with uncommitted changes ({len(src)} paths under src/ modified or untracked"
    untracked = any(ln.startswith("??") and ln.endswith("outcome/cox.py") for ln in src)
    note += f", among them `{surv[0]}`{' (untracked)' if untracked else ''}" if surv else ""
    return note + "): the measured code is the working tree, not that commit"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--B", type=int, default=1000, help="random signatures = Cox models per data set (default 1000)")
    ap.add_argument(
        "--n", type=int, nargs="+", default=[200, 2000], help="sample sizes, one data set each (default 200 2000)"
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--effect", type=float, default=0.3, help="true log HR of row 0 per unit (default 0.3)")
    ap.add_argument("--event-fraction", type=float, default=0.4, help="expected fraction of events (default 0.4)")
    ap.add_argument(
        "--sm-budget",
        type=float,
        default=180,
        help="statsmodels: projected compute (s) beyond which only a subset is fitted (default 180)",
    )
    ap.add_argument(
        "--sm-subset", type=int, default=200, help="statsmodels: rows fitted when over budget (default 200)"
    )
    ap.add_argument("--max-time", type=float, default=1800, help="time limit (s) for every process (default 1800)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory with the data and every output")
    ap.add_argument("--no-readme", action="store_true", help="do not write the table into benchmarks/README.md")
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="seedsig_bench_survival_"))
    (work / "run_seedsig.py").write_text(SEEDSIG)
    (work / "run_statsmodels.py").write_text(STATSMODELS)
    (work / "run_coxph.R").write_text(R_COXPH)
    vers, git = versions(), git_state()
    rows, data = [], []
    try:
        for n in a.n:
            xp, sp, stats = make_data(work, a.B, n, a.seed, a.effect, a.event_fraction)
            data.append(stats)
            print(
                f"n={n}: {stats['events']} events, {stats['distinct_event_times']} distinct event times ...",
                file=sys.stderr,
                flush=True,
            )
            rows += contenders(xp, sp, work, a.B, n, a)
    finally:
        if a.keep:
            print(f"data and outputs kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    mach = machine()
    today = datetime.date.today().isoformat()
    result = {"date": today, "git": git, "data": data, "rows": rows, "versions": vers, "machine": mach, "args": vars(a)}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "survival.json").write_text(json.dumps(result, indent=2))
    default = (a.B, a.n, a.sm_budget, a.sm_subset) == (1000, [200, 2000], 180, 200)
    cmd = "python benchmarks/bench_survival.py" + (
        ""
        if default
        else f" --B {a.B} --n {' '.join(map(str, a.n))} --sm-budget {a.sm_budget:g} --sm-subset {a.sm_subset}"
    )
    sim = "; ".join(
        f"n = {d['n']:,}: {d['events']:,} events ({100 * d['event_fraction']:.0f}%), {d['distinct_event_times']:,} "
        f"distinct event times, {d['events_at_tied_times']:,} events at tied times"
        for d in data
    )
    md = (
        f"## Cox models of random signatures (B = {a.B:,})\n\n"
        f"Run {today}: `{cmd}` on {mach['cores']} cores ({mach['cpu']}); {git}. B one-covariate Cox models (Efron "
        "ties) on the same survival data, each row of X divided by its sample SD (n - 1), the Venet random-signature "
        f"null. Simulated (seed {a.seed}): X standard normal, row 0 with a true log HR of {a.effect:g}; exponential "
        f"event times, independent exponential censoring, times rounded to 0.1; {sim}. Tools: seedsig "
        "`cox_univariate_many(X, time, event)` (all rows at once); statsmodels `PHReg(time, z[:, None], status=event, "
        'ties="efron").fit()` once per row; R `coxph(Surv(time, event) ~ z, ties = "efron")` looped over the rows '
        "in one Rscript. Whole process = a fresh process that starts, reads the same TSVs (X and time/event), fits "
        "the B models and writes the betas and SEs (R: startup, `library(survival)`, `read.delim` included); compute "
        "only = the B fits on the data in memory, SD scaling included (R: `system.time` of the loop). Ratios are the "
        "tool's time over seedsig's (higher = seedsig faster). Peak memory: GNU time's maximum RSS. Diffs: max |beta| "
        f"and |SE| difference vs seedsig. \\* = extrapolated to B rows from a subset (statsmodels fits {a.sm_subset} "
        f"rows when its first 20 fits project the B fits beyond {a.sm_budget:g} s).\n\n"
        f"{table(rows)}\n\n"
        "Versions: " + ", ".join(f"{k} {val}" for k, val in vers.items()) + ".\n"
    )
    (OUT / "survival.md").write_text(md)
    if not a.no_readme:
        write_readme_section("survival", md)
    print(md)


if __name__ == "__main__":
    main()
