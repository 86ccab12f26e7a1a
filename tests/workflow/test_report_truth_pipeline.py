"""The report of a pipeline run on an unscored and a thin cohort says what it cannot score and counts nothing it did not
test."""

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import new_workdir, run_snakemake
from helpers.report_results import parse, section

pytestmark = pytest.mark.slow


# ------------------------------------------------------------------------------------------- end to end
GENES = [
    "IL6",
    "IL8",
    "FSCN1",
    "MMP1",
    "ID1",
    "TNC",
    "PTGS2",
    "HBEGF",
    "IL11",
    "CTGF",
    "ESR1",
    "GAPDH",
    "ACTB",
    "MKI67",
    "PCNA",
    "TOP2A",
    "CXCL1",
    "SPARC",
    "VCAM1",
    "ANGPTL4",
] + [f"RPL{i}" for i in range(3, 43)]


def test_e2e_unscored_and_thin_cohorts(tmp_path):
    """The pipeline on three small cohorts: one scored with an overall-survival endpoint, one without any SS gene,
    one of 3 samples. The report says what it cannot score, counts nothing it did not test, and the report
    stage writes no warning to the terminal or its log."""
    wd = new_workdir(tmp_path)
    rng = np.random.default_rng(7)
    (wd / "data").mkdir()
    rows = []
    for name, n, drop, ep in (
        ("gse3143", 30, [], "os"),
        ("gse7390", 24, ["IL6", "IL8", "FSCN1", "MMP1"], "mfs"),
        ("thin", 3, [], "mfs"),
    ):
        genes = [g for g in GENES if g not in drop]
        samples = [f"{name}_{i:02d}" for i in range(n)]
        counts = pd.DataFrame(
            rng.poisson(rng.uniform(50, 500, size=(len(genes), 1)), size=(len(genes), n)),
            index=pd.Index(genes, name="gene"),
            columns=samples,
        )
        counts.to_csv(wd / "data" / f"{name}.tsv", sep="\t")
        pd.DataFrame(
            {"sample": samples, f"{ep}_months": rng.uniform(1, 100, n).round(1), f"{ep}_event": rng.integers(0, 2, n)}
        ).to_csv(wd / "data" / f"{name}_clin.tsv", sep="\t", index=False)
        rows.append(f"{name}\tdata/{name}.tsv\tcounts\tsymbol\tdata/{name}_clin.tsv\t{ep}_months\t{ep}_event")
    (wd / "config" / "t.tsv").write_text(
        "cohort\texpression\tdata_type\tgene_id\tclinical\ttime\tevent\n" + "\n".join(rows) + "\n"
    )
    cfg = yaml.safe_load((wd / "config" / "config.yaml").read_text())
    cfg["cohorts"] = "config/t.tsv"
    cfg["signatures"]["files"] = ["config/signatures/self_seeding.tsv", "config/signatures/organ_metastasis.tsv"]
    cfg["scoring"]["methods"] = ["ssgsea"]
    cfg["associate"].update(n_random=50, n_bootstrap=50)
    cfg["associate"]["prerank"]["permutations"] = 50
    cfg["survival"]["n_random"] = 50
    (wd / "config" / "t.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    proc = run_snakemake(wd, "--configfile", str(wd / "config" / "t.yaml"))
    html = (wd / "results" / "report.html").read_text()
    p = parse(html)
    assert p.boxes["gse7390"][0].startswith(
        "SS cannot be scored in gse7390: none of IL6, CXCL8, MMP1, FSCN1 is measured; needs at least 2 genes and 50%"
    )
    assert "0 of 0" not in html
    thin = " ".join(p.boxes["thin"])
    assert (
        "Not tested: too few samples (n = 3, fewer than associate.min_samples = 10)" in thin
        and "correlates positively" not in thin
    )
    os_box = " ".join(p.boxes["gse3143"])
    assert (
        "Does SS predict the outcome (os_months/os_event)?" in os_box
        and "predict the outcome os_months/os_event: hazard ratio" in os_box
    )
    assert "relapse" not in os_box.lower()
    outcome = section(html, "outcome")
    assert (
        "No hazard ratio for cohort gse7390: SS cannot be scored in gse7390" in outcome
        and "No hazard ratio for cohort thin: too few samples (n = 3" in outcome
    )
    # no pooled row without a pooled estimate
    mc = pd.read_csv(wd / "results" / "meta" / "correlations.tsv", sep="\t")
    shown = {
        (r["attrs"]["data-signature-a"], r["attrs"]["data-signature-b"], r["attrs"]["data-statistic"])
        for r in p.rows["summary-correlations"]
        if r["attrs"]["data-cohort"] == "pooled"
    }
    dl = mc[mc["pooling"] == "random_dl"]
    assert shown == {
        (a, b, s) for a, b, s, k in zip(dl["signature_a"], dl["signature_b"], dl["statistic"], dl["k"]) if k >= 2
    }
    # no warning from the report stage, in its log or on the terminal (everything after the report rule starts)
    log = (wd / "results" / "logs" / "report.log").read_text()
    assert " WARNING " not in log and "Warning" not in log, log
    out = proc.stdout + proc.stderr
    tail = out[out.rindex("rule report") :]
    assert "Warning" not in tail and "warning" not in tail.replace("warnings", ""), tail[-3000:]
