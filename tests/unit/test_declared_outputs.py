"""The report and meta read declared inputs only (issue 15 item 3): a stale table of a method the run no longer
has never enters the report; a missing sidecar is an error, not a silent default; core.layout spells the paths."""

import json

import pandas as pd
import pytest
from conftest import REPO

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


def test_layout_spells_the_figure_names():
    """Figure names follow from the config, the sheet and the signature files: per cohort its data type (library
    sizes for counts), its endpoints (the sheet's time/event, then survival.endpoints) and whether a relapse-site
    column is set; the same names whatever the data then allow (a figure not drawn is a placeholder)."""
    from seedsig import config as sconf
    from seedsig.report.figure_plan import figure_plan
    from seedsig.scoring.signatures import load_signatures

    assert layout.figure_stem("km", "c 1", "ssgsea", "SS", "t/e") == "c-1/km_ssgsea_SS_t-e"
    assert layout.figure_stem("forest_hr", "", "zscore", "SS") == "meta/forest_hr_zscore_SS"
    assert layout.figure_stem("summary_heatmap") == "summary_heatmap"
    sigs = load_signatures([REPO / "config" / "signatures" / f for f in ("self_seeding.tsv", "msigdb_metastasis.tsv")])
    config = {
        "scoring": {"methods": ["zscore", "ssgsea"]},
        "report": {"primary_method": "ssgsea"},
        "signatures": {"focal": ["SS", "SS_attraction"], "targets": ["SMID_RELAPSE_LUNG"]},
        "survival": {
            "endpoints": [{"name": "os", "time": "os_m", "event": "os_e"}],
            "relapse_site": {"column": "site"},
            "cohorts": {"b": {"endpoints": []}},
        },
    }
    rows = {
        "a": {"data_type": "counts", "time": "t", "event": "e", "relapse_site": ""},
        "b": {"data_type": "intensity", "time": "", "event": "", "relapse_site": ""},
    }
    settings = {c: sconf.cohort_settings(config, c, r) for c, r in rows.items()}
    plan = figure_plan(config, rows, settings, sigs, ["SMID_RELAPSE_LUNG"])
    stems = [n.stem for n in layout.figure_names(**plan)]
    assert stems[0] == "summary_heatmap" and len(stems) == len(set(stems))
    a = [s[2:] for s in stems if s.startswith("a/")]
    assert a[:4] == ["library_size", "expression_density", "score_distribution_zscore", "score_distribution_ssgsea"]
    assert "scatter_null_ssgsea_SS_SMID_RELAPSE_LUNG" in a and "prerank_ssgsea_SS_SMID_RELAPSE_LUNG_down" in a
    assert [s for s in a if s.startswith(("km_", "cif_"))] == [
        "km_ssgsea_SS_t-e",
        "km_ssgsea_SS_os",
        "km_ssgsea_SS_attraction_t-e",
        "km_ssgsea_SS_attraction_os",
        "cif_ssgsea_SS_t-e",
        "cif_ssgsea_SS_attraction_t-e",
    ]  # a relapse-site column is set: cumulative incidence on the sheet's endpoint
    b = [s[2:] for s in stems if s.startswith("b/")]
    assert "library_size" not in b and not [s for s in b if s.startswith(("km_", "cif_"))]
    assert stems[-3:] == [
        "meta/forest_r_ssgsea_SS_SMID_RELAPSE_LUNG",
        "meta/forest_hr_ssgsea_SS",
        "meta/forest_hr_ssgsea_SS_attraction",
    ]
    files = layout.figure_files(**plan)
    assert files[:2] == ["results/figures/summary_heatmap.svg", "results/figures/summary_heatmap.pdf"]
    assert len(files) == 2 * len(stems)
