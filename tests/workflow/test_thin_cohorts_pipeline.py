"""Thin cohorts through the pipeline: rows below the floors are not tested, nothing is computed for them, and no library
warning reaches the terminal or a log."""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import new_workdir, run_snakemake
from helpers.thin_cohorts import FLOOR_NOTE, NA_WHEN_UNTESTED

from seedsig.association import prerank as prerank

pytestmark = pytest.mark.slow


# ------------------------------------------------------------------------------------------- end to end
GENES = (
    ["IL6", "IL8", "FSCN1", "MMP1"]  # SS (IL8: the old symbol of CXCL8)
    + [
        "ID1",
        "TNC",
        "LY6E",
        "LTBP1",
        "ANGPTL4",
        "PTGS2",
        "CXCL1",
        "EREG",
        "KYNU",
        "MAN1A1",
        "VCAM1",
        "CXCR4",
        "NEDD9",
    ]  # LMS
    + ["HBEGF", "ST6GALNAC5", "IL11", "CTGF"]  # BrMS, BoMS
    + ["PCNA", "MKI67", "TOP2A", "MCM2", "MCM3", "CCNB1", "BUB1", "ESR1", "GAPDH", "ACTB"]
    + [f"RPL{i}" for i in range(3, 40)]
)


# a library warning, as Python prints it or as seedsig's logging re-logs a captured one ("figure x: <message>")
WARNING = re.compile(
    r"Warning|warning:|Degrees of freedom|invalid value encountered|divide by zero|No artists with labels"
)


def write_thin_cohorts(wd: Path, sizes=(3, 6)) -> Path:
    """Counts cohorts of the given sizes (as conftest.write_cohort, with an ER status and a site
    of relapse) in one sheet, and a config with small B."""
    data = wd / "data"
    data.mkdir()
    rows = ["cohort\texpression\tdata_type\tgene_id\tclinical\ttime\tevent"]
    for k, n in enumerate(sizes):
        rng = np.random.default_rng(20 + k)
        samples = [f"T{n}_{i:02d}" for i in range(n)]
        counts = pd.DataFrame(
            rng.negative_binomial(5, 5 / 205, size=(len(GENES), n)), index=pd.Index(GENES, name="gene"), columns=samples
        )
        clinical = pd.DataFrame(
            {
                "sample": samples,
                "months": rng.uniform(1, 100, n).round(1),
                "relapse": np.tile([1, 0], n)[:n],
                "er_status": np.tile(["pos", "neg"], n)[:n],
                "relapse_site": np.tile(["lung", "", "bone"], n)[:n],
            }
        )
        counts.to_csv(data / f"counts_{n}.tsv", sep="\t")
        clinical.to_csv(data / f"clinical_{n}.tsv", sep="\t", index=False)
        rows.append(
            f"thin{n}\t{data / f'counts_{n}.tsv'}\tcounts\tsymbol\t{data / f'clinical_{n}.tsv'}\tmonths\trelapse"
        )
    (wd / "cohorts.tsv").write_text("\n".join(rows) + "\n")
    cfg = wd / "my.yaml"
    cfg.write_text(
        f"cohorts: {wd / 'cohorts.tsv'}\n"
        "associate:\n  n_random: 20\n  n_bootstrap: 20\n  prerank: {permutations: 20}\n"
        "survival:\n  n_random: 20\n"
    )
    return cfg


@pytest.fixture(scope="module")
def thin_run(tmp_path_factory):
    wd = new_workdir(tmp_path_factory.mktemp("thin"))
    cfg = write_thin_cohorts(wd)
    stages = run_snakemake(wd, "meta", "--configfile", str(cfg))  # every stage up to the meta-analysis
    report = run_snakemake(wd, "--configfile", str(cfg), check=False)  # then the report
    return wd, stages, report


def _warning_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if WARNING.search(line)]


def test_thin_cohorts_end_to_end(thin_run):
    wd, stages, _ = thin_run
    res = wd / "results"
    for n in (3, 6):
        base = res / f"thin{n}"
        corr = pd.read_csv(base / "correlations.tsv", sep="\t", keep_default_na=False, na_values=["NA"])
        assert list(corr.columns)[-1] == "note" and len(corr)
        assert corr[NA_WHEN_UNTESTED].isna().all().all(), n
        scored = ~corr["note"].str.contains("not scored")
        assert scored.sum() >= 12 and (corr.loc[scored, "n"] == n).all()
        assert (corr.loc[scored, "note"] == f"{n} {FLOOR_NOTE}").all()
        side = json.loads((base / "correlations.json").read_text())
        assert side["info"]["n_tests"] == 0 and side["parameters"]["min_samples"] == 10
        # prerank: header only, the reason in the sidecar
        assert (base / "prerank.tsv").read_text().count("\n") == 1
        assert (
            "fewer than associate.min_samples = 10: prerank not run"
            in json.loads((base / "prerank.json").read_text())["note"]
        )
        # survival: no model, no test, no curve
        surv = pd.read_csv(base / "survival.tsv", sep="\t")
        assert len(surv) and surv[["hr_per_sd", "p", "concordance", "p_random_null"]].isna().all().all()
        assert surv["note"].str.contains(f"({n}; survival.min_samples = 10): not fitted", regex=False).any()
        lr = pd.read_csv(base / "logrank.tsv", sep="\t")
        assert len(lr) and lr[["chisq", "df", "p"]].isna().all().all()
        assert lr["note"].str.contains(f"({n}; survival.min_samples = 10): not tested", regex=False).all()
        for name in ("km.tsv", "cumulative_incidence.tsv"):
            assert (base / name).read_text().count("\n") == 1, name
        # the terminal says it in plain words
        out = stages.stdout + stages.stderr
        assert f"associate thin{n}: {n} sample(s), fewer than associate.min_samples = 10: no correlation tested" in out
        thin_survival = f"survival thin{n}: fewer than survival.min_samples = 10 samples"
        assert f"{thin_survival} (months/relapse: {n} sample(s) with follow-up)" in out
    # nothing is pooled from rows that were not tested
    meta = pd.read_csv(res / "meta" / "correlations.tsv", sep="\t")
    assert (meta["k"] == 0).all() and meta["estimate"].isna().all()
    # no library warning on the terminal or in the log of any stage before the report
    logs = [p for p in (res / "logs").rglob("*.log") if p.name != "report.log"]
    assert len(logs) >= 10
    for log in logs:
        assert _warning_lines(log.read_text()) == [], log
    assert _warning_lines(stages.stdout + stages.stderr) == []


def test_thin_cohorts_report_free_of_warnings(thin_run):
    # The report stage (report.py, figures.py) is another part of issue 14; it used to relog matplotlib's "No artists
    # with labels found to put in legend" for the null figures of untested rows ("figure ...: ..."). Fixed there.
    wd, _, report = thin_run
    out = report.stdout + report.stderr
    assert report.returncode == 0, out[-3000:]
    assert _warning_lines((wd / "results" / "logs" / "report.log").read_text()) == []
    assert _warning_lines(out) == []
