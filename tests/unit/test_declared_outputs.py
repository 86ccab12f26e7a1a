"""The report and meta read declared inputs only (issue 15 item 3): a stale table of a method the run no longer
has never enters the report; a missing sidecar is an error, not a silent default; core.layout spells the paths."""

import json

import pandas as pd
import pytest

from seedsig.core import layout
from seedsig.core.errors import SeedsigError
from seedsig.meta.stage import meta_run
from seedsig.report.load import _load_cohort


def _scores(path, value):
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"SS": [value, value + 1]}, index=pd.Index(["s1", "s2"], name="sample")).to_csv(path, sep="\t")


def test_report_reads_the_run_methods_only(tmp_path):
    d = tmp_path / "c1"
    _scores(d / "scores" / "ssgsea.tsv", 1.0)
    _scores(d / "scores" / "gsva.tsv", 5.0)  # left by an earlier run with another method
    c = _load_cohort("c1", d, ["ssgsea"])
    assert list(c["scores"]) == ["ssgsea"]
    assert c["scores"]["ssgsea"]["SS"].tolist() == [1.0, 2.0]
    assert sorted(_load_cohort("c1", d)["scores"]) == ["gsva", "ssgsea"]  # library use without a method list


def _survival(path, endpoint):
    pd.DataFrame(
        {
            "endpoint": [endpoint],
            "signature": ["SS"],
            "method": ["zscore"],
            "hr": [1.5],
            "ci_low": [1.1],
            "ci_high": [2.0],
            "p": [0.01],
            "n": [100],
            "n_events": [40],
        }
    ).to_csv(path, sep="\t", index=False)


def test_meta_needs_the_declared_survival_sidecar(tmp_path):
    corr = tmp_path / "corr.tsv"
    pd.DataFrame(columns=["signature_a", "signature_b", "method", "statistic", "r", "n"]).to_csv(corr, sep="\t")
    s1, s2 = tmp_path / "a" / "survival.tsv", tmp_path / "b" / "survival.tsv"
    for p in (s1, s2):
        p.parent.mkdir()
        _survival(p, "mfs")
    (tmp_path / "a" / "survival.json").write_text(json.dumps({"primary_endpoint": "mfs"}))
    with pytest.raises(SeedsigError, match=r"b/survival.json .*is missing: rerun the survival step of cohort 'b'"):
        meta_run({"a": corr, "b": corr}, {"a": s1, "b": s2}, tmp_path / "mc.tsv", tmp_path / "ms.tsv")
    assert not (tmp_path / "ms.tsv").exists()


def test_layout_spells_each_path_once():
    assert layout.cohort_file("scores", "c1", "ssgsea") == "results/c1/scores/ssgsea.tsv"
    assert layout.cohort_file("coverage") == "results/{cohort}/coverage.tsv"
    assert layout.sidecar(layout.cohort_file("cell_scores", "c1", "zscore")) == "results/c1/cell_scores/zscore.json"
    assert layout.meta_file("survival") == "results/meta/survival.tsv"
