"""scoring.reference through the pipeline: a sheet of two cohorts, one of them the reference. The reference's files
are declared outputs, every cohort's cohort-relative scores are anchored to it (the reference cohort's equal its
cohort-relative scores), single-sample methods are unchanged, and the report says which scores are anchored."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import GENES, new_workdir, run_snakemake

from seedsig.core.cohort import expression_frame
from seedsig.scoring.methods import score
from seedsig.scoring.reference import load_reference, score_with_reference
from seedsig.scoring.signatures import load_signatures

pytestmark = pytest.mark.slow

METHODS = ["ssgsea", "zscore", "gsva"]


def write_two_cohorts(wd: Path) -> Path:
    data = wd / "data"
    data.mkdir()
    rows = ["cohort\texpression\tdata_type\tgene_id\tclinical\ttime\tevent"]
    for name, seed, n, lam in (("refc", 5, 20, 200), ("newc", 6, 14, 260)):
        rng = np.random.default_rng(seed)
        samples = [f"{name}_{i:02d}" for i in range(n)]
        counts = pd.DataFrame(
            rng.poisson(lam, size=(len(GENES), n)) * rng.uniform(0.5, 2, size=(len(GENES), 1)).round(0).clip(1),
            index=pd.Index(GENES, name="gene"),
            columns=samples,
        )
        clinical = pd.DataFrame(
            {"sample": samples, "months": rng.uniform(1, 100, n).round(1), "relapse": np.tile([1, 0], n)[:n]}
        )
        counts.to_csv(data / f"{name}.tsv", sep="\t")
        clinical.to_csv(data / f"{name}_clin.tsv", sep="\t", index=False)
        rows.append(f"{name}\t{data / f'{name}.tsv'}\tcounts\tsymbol\t{data / f'{name}_clin.tsv'}\tmonths\trelapse")
    (wd / "cohorts.tsv").write_text("\n".join(rows) + "\n")
    cfg = wd / "my.yaml"
    cfg.write_text(
        f"cohorts: {wd / 'cohorts.tsv'}\n"
        f"scoring:\n  methods: [{', '.join(METHODS)}]\n  reference: refc\n"
        "associate:\n  n_random: 20\n  n_bootstrap: 20\n  prerank: {permutations: 20}\n"
        "survival:\n  n_random: 20\n"
    )
    return cfg


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory):
    wd = new_workdir(tmp_path_factory.mktemp("reference"))
    cfg = write_two_cohorts(wd)
    run_snakemake(wd, "--configfile", str(cfg))
    return wd, cfg


def test_reference_pipeline(reference_run):
    wd, cfg = reference_run
    res = wd / "results"
    # the reference of each cohort-relative method (not of ssgsea without normalize), with its provenance
    assert sorted(p.name for p in (res / "reference").iterdir()) == [
        "gsva.json",
        "gsva.npz",
        "zscore.json",
        "zscore.npz",
    ]
    side = json.loads((res / "reference" / "zscore.json").read_text())
    assert side["parameters"]["cohort"] == "refc" and side["parameters"]["n_samples"] == 20
    assert side["versions"]["seedsig"] and side["inputs"][0] == "results/refc/expression.h5ad"
    sigs = load_signatures(sorted((wd / "config" / "signatures").glob("*.tsv")))
    for cohort in ("refc", "newc"):
        expr, _ = expression_frame(res / cohort / "expression.h5ad", layers=False)
        for method in METHODS:
            got = pd.read_csv(res / cohort / "scores" / f"{method}.tsv", sep="\t", index_col=0)
            scored = json.loads((res / cohort / "scores" / f"{method}.json").read_text())["parameters"]
            today = score(expr, sigs, method).scores
            if method == "ssgsea":  # single-sample: unchanged, not anchored
                assert "reference" not in scored and np.allclose(got, today[got.columns], atol=1e-9, equal_nan=True)
                continue
            assert scored["score_scale"].startswith("reference-anchored") and scored["reference"]["cohort"] == "refc"
            ref = load_reference(res / "reference" / f"{method}.npz")
            want = score_with_reference(expr, sigs, ref).scores[got.columns]
            assert np.allclose(got, want, atol=1e-9, equal_nan=True), (cohort, method)
            if cohort == "refc":  # the reference scored against itself: its cohort-relative scores
                assert np.allclose(got, today[got.columns], atol=1e-9, equal_nan=True), method
            else:
                assert not np.allclose(got, today[got.columns], atol=1e-3, equal_nan=True), method
    html = (res / "report.html").read_text()
    assert "were reference-anchored" in html and "the cohort refc" in html
    proc = run_snakemake(wd, "--configfile", str(cfg), "--list-untracked")
    listed = [ln.strip() for ln in (proc.stdout + proc.stderr).splitlines() if ln.strip().startswith("results/")]
    assert not listed, listed


def test_reference_file_setting(reference_run, tmp_path):
    """scoring.reference: file:PATH (a folder of {method}.npz) uses the saved files as they are; a cohort that is not
    in the sheet is a clear error."""
    wd, cfg = reference_run
    saved = tmp_path / "saved"
    saved.mkdir()
    for m in ("zscore", "gsva"):
        (saved / f"{m}.npz").write_bytes((wd / "results" / "reference" / f"{m}.npz").read_bytes())
    before = {p.name: p.read_bytes() for p in saved.iterdir()}
    text = cfg.read_text()
    cfg2 = wd / "file.yaml"
    cfg2.write_text(text.replace("reference: refc", f"reference: file:{saved}"))
    out = run_snakemake(wd, "--configfile", str(cfg2), "-n", "--forceall")
    assert "rule reference" not in out.stdout
    run_snakemake(wd, "results/newc/scores/zscore.tsv", "--configfile", str(cfg2), "--forcerun", "score")
    assert {p.name: p.read_bytes() for p in saved.iterdir()} == before
    side = json.loads((wd / "results" / "newc" / "scores" / "zscore.json").read_text())
    assert side["parameters"]["reference"]["file"] == str(saved / "zscore.npz")
    cfg3 = wd / "bad.yaml"
    cfg3.write_text(text.replace("reference: refc", "reference: nosuch"))
    proc = run_snakemake(wd, "--configfile", str(cfg3), "-n", check=False)
    assert proc.returncode != 0 and "'nosuch', which is not a cohort of the sheet" in proc.stdout + proc.stderr
