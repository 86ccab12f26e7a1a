"""User errors met by a running workflow: one message, printed once as the last line after Snakemake's rule-error block;
a failed run marks an earlier report stale."""

import re

import pytest
from conftest import cut_gzip, expect_failure, new_workdir, run_snakemake, write_cohort

from seedsig.core import failure

pytestmark = pytest.mark.slow


# a run of the tiny cohort that takes seconds, not minutes
FAST = (
    "scoring:\n  methods: [zscore]\n"
    "associate:\n  n_bootstrap: 20\n  n_random: 20\n  prerank:\n    permutations: 20\n"
    "survival:\n  n_random: 20\n"
)


def seedsig_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("seedsig error:")]


def assert_once_and_last(out: str, needle: str, rule: str) -> str:
    """``needle`` appears once, on a 'seedsig error:' line after Snakemake's rule-error block, and ends the output."""
    assert out.count(needle) == 1, out[-4000:]
    lines = [line for line in out.splitlines() if line.strip()]
    assert lines[-1].startswith("seedsig error:") and needle in lines[-1], lines[-5:]
    assert out.index(f"Error in rule {rule}:") < out.index(lines[-1])
    assert "WorkflowError" not in out and "Please report it" not in out and "Traceback" not in out
    return lines[-1]


# ------------------------------------------------------------------------------ truncated / corrupt inputs
def test_truncated_gz_counts_one_message_after_the_rule_block(tmp_path):
    wd = new_workdir(tmp_path)
    files = write_cohort(wd)
    gz = cut_gzip(files["counts"], wd / "data" / "counts.tsv.gz")
    files["sheet"].write_text(files["sheet"].read_text().replace(str(files["counts"]), str(gz)))
    files["counts"] = gz
    out = expect_failure(wd, files, "truncated or corrupt")
    last = assert_once_and_last(out, "is truncated or corrupt", "ingest")
    assert str(gz) in last and "download it again" in last
    assert "truncated or corrupt" in (wd / "results" / "logs" / "ingest" / "tiny.log").read_text()  # the log keeps it


def test_default_config_yaml_error_names_line_and_column(tmp_path):
    wd = new_workdir(tmp_path)
    cfg = wd / "config" / "config.yaml"
    n = len(cfg.read_text().splitlines())
    cfg.write_text(cfg.read_text() + "extra:\n  - [a, b\n  - c: d\n")
    proc = run_snakemake(wd, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1
    assert seedsig_lines(out) == [
        f"seedsig error: config/config.yaml:{n + 3}:6: YAML syntax error: expected ',' or ']', but got ':' "
        f"(while parsing a flow sequence at line {n + 2}). Fix the config file (indentation, quotes, ':')."
    ], out
    assert "not valid JSON or YAML" not in out


def test_config_key_error_in_the_workflow_names_file_line_column_once(tmp_path):
    wd = new_workdir(tmp_path)
    files = write_cohort(wd)
    files["config"].write_text(files["config"].read_text() + "scoring:\n  method: [ssgsea]\n")
    out = expect_failure(wd, files, "unknown key 'method'")
    assert seedsig_lines(out) == [
        f"seedsig error: {files['config']}:3:3: unknown key 'method' under 'scoring'. Allowed keys: aucell, gsva, "
        "methods, min_fraction, min_genes, reference, score_genes, singscore, ssgsea, ucell (see config/README.md)."
    ]
    assert out.count("unknown key 'method'") == 1


# ------------------------------------------------------------------------------- once, last, and stale
def test_rule_error_message_appears_once_after_the_rule_block(tmp_path):
    wd = new_workdir(tmp_path)

    def dup(p):
        lines = p.read_text().splitlines()
        p.write_text("\n".join(lines + [lines[3]]) + "\n")

    files = write_cohort(wd, counts_edit=dup)
    out = expect_failure(wd, files, "duplicated gene id")
    assert_once_and_last(out, "duplicated gene id(s) in the first column: FSCN1", "ingest")
    assert not list((wd / ".snakemake" / "seedsig" / "errors").glob("*.json"))  # printed, then cleared


def test_failed_run_marks_the_earlier_report_stale_and_the_next_run_rebuilds_it(tmp_path):
    wd = new_workdir(tmp_path)
    files = write_cohort(wd)
    files["config"].write_text(files["config"].read_text() + FAST)
    report = wd / "results" / "report.html"
    run_snakemake(wd, "--configfile", str(files["config"]))
    assert report.is_file() and not failure.is_stale(report) and "stale" not in report.read_text().lower()
    good = files["counts"].read_text()
    lines = good.splitlines()
    files["counts"].write_text("\n".join(lines + [lines[5]]) + "\n")  # a duplicated gene id: ingest fails
    proc = run_snakemake(wd, "--configfile", str(files["config"]), check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1
    assert_once_and_last(out, "duplicated gene id", "ingest")
    assert "results/report.html is from an earlier run and is marked stale" in out
    html = report.read_text()
    banner = re.search(r'<body[^>]*>\s*<div id="seedsig-stale-banner"[^>]*>(.*?)</div>', html, re.S)
    assert banner, html[:2000]
    assert "This report is stale" in banner.group(1) and "failed in step ingest (cohort tiny)" in banner.group(1)
    assert re.search(r"the run of \d{4}-\d\d-\d\d \d\d:\d\d:\d\d", banner.group(1))
    files["counts"].write_text(good)
    proc = run_snakemake(wd, "--configfile", str(files["config"]))
    assert "rule report:" in proc.stdout + proc.stderr  # rebuilt
    assert report.is_file() and not failure.is_stale(report) and "stale" not in report.read_text().lower()
