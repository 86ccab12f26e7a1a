"""Bad input: one clear message naming the file and the row/column or key, non-zero exit,
no partial output in results/, inputs untouched."""

import os
import textwrap
from pathlib import Path

import pytest
import yaml
from conftest import REPO, digest, write_cohort
from snakemake.utils import update_config

from seedsig.config import check_workflow_config
from seedsig.core.errors import SeedsigError


def expect_config_error(wd: Path, files: dict, *needles: str) -> str:
    """The config and sheet of ``files`` as Snakemake merges them (config/config.yaml, then --configfile) go through the
    workflow's validation: a SeedsigError naming every needle, nothing written, inputs unchanged."""
    before = digest(v for v in files.values() if Path(v).is_file())
    config = yaml.safe_load((wd / "config" / "config.yaml").read_text())
    update_config(config, yaml.safe_load(files["config"].read_text()) or {})
    cwd = Path.cwd()
    os.chdir(wd)
    try:
        with pytest.raises(SeedsigError) as exc:
            check_workflow_config(config, [str(files["config"]), "config/config.yaml"], REPO / "workflow" / "schemas")
    finally:
        os.chdir(cwd)
    msg = str(exc.value)
    for needle in needles:
        assert needle in msg, f"{needle!r} not in: {msg}"
    assert not (wd / "results").exists()
    assert digest(before) == before
    return msg


def test_missing_expression_file(wd):
    files = write_cohort(wd)
    files["counts"].unlink()
    expect_config_error(wd, files, "column 'expression'", "does not exist", "tiny")


def test_unknown_data_type(wd):
    files = write_cohort(wd)
    files["sheet"].write_text(files["sheet"].read_text().replace("\tcounts\t", "\tmicroarray\t"))
    expect_config_error(wd, files, "line 2", "'data_type' is 'microarray'", "counts, log_expression")


def test_unknown_config_key(wd):
    files = write_cohort(wd)
    files["config"].write_text(files["config"].read_text() + "scoring:\n  method: [ssgsea]\n")
    expect_config_error(wd, files, "unknown key 'method' under 'scoring'", "my.yaml")


def test_config_value_out_of_range(wd):
    files = write_cohort(wd)
    files["config"].write_text(files["config"].read_text() + "scoring:\n  min_fraction: 2\n")
    expect_config_error(wd, files, "scoring.min_fraction")


def test_unparseable_signature_file(wd):
    files = write_cohort(wd)
    bad = wd / "mysig.tsv"
    bad.write_text("name\tsymbols\nX\tIL6\n")
    files["config"].write_text(
        files["config"].read_text()
        + textwrap.dedent(
            f"""\
            signatures:
              files: [config/signatures/self_seeding.tsv, {bad}]
            """
        )
    )
    files["sig"] = bad
    expect_config_error(wd, files, str(bad), "'signature' and 'gene' columns")


def test_unknown_focal_signature(wd):
    files = write_cohort(wd)
    files["config"].write_text(files["config"].read_text() + "signatures:\n  focal: [SELF_SEEDING]\n")
    expect_config_error(wd, files, "SELF_SEEDING", "signatures.focal")


def test_unknown_contribution_signature(wd):
    files = write_cohort(wd)
    files["config"].write_text(files["config"].read_text() + "contributions:\n  signatures: [SS, NOPE]\n")
    expect_config_error(wd, files, "NOPE", "contributions.signatures")


def test_probe_ids_without_platform_annotation(wd):
    files = write_cohort(wd)
    files["sheet"].write_text(files["sheet"].read_text().replace("\tcounts\tsymbol\t", "\tcounts\tprobe\t"))
    expect_config_error(wd, files, "line 2", "gene_id is 'probe'", "platform_annotation")


def test_tpm_without_gene_lengths(wd):
    files = write_cohort(wd)
    files["config"].write_text(files["config"].read_text() + "normalize:\n  counts: [tpm, log2]\n")
    expect_config_error(wd, files, "normalize.counts", "tpm", "normalize.gene_lengths")


def test_count_method_for_log_data_in_config(wd):
    files = write_cohort(wd)
    files["config"].write_text(files["config"].read_text() + "normalize:\n  counts: [quantile]\n")
    expect_config_error(wd, files, "normalize.counts")
