"""One clear message for every user error (printed once, last), nothing stale, nothing overwritten (issue 14, 3-4)."""

import gzip
import hashlib
import logging
import re
import types
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from conftest import REPO, cut_gzip

from seedsig import config as sconf
from seedsig.cli import main
from seedsig.core import failure
from seedsig.core.errors import SeedsigError
from seedsig.core.rules import run_rule
from seedsig.core.settings import load_schema, schema_path
from seedsig.core.tables import read_clinical, read_matrix
from seedsig.ingest.formats import read_h5ad_bulk, read_parquet, read_table

SHEET_SCHEMA = REPO / "workflow" / "schemas" / "cohorts.schema.yaml"


def sha(p: Path) -> str:
    return hashlib.sha256(Path(p).read_bytes()).hexdigest()


@pytest.mark.parametrize("reader", [read_matrix, read_clinical, read_table])
def test_truncated_and_damaged_gzip_tables(tmp_path, reader):
    src = tmp_path / "t.tsv"
    pd.DataFrame(np.arange(600.0).reshape(100, 6), index=[f"G{i}" for i in range(100)]).to_csv(src, sep="\t")
    cut = cut_gzip(src, tmp_path / "cut.tsv.gz")
    gz = bytearray(gzip.compress(src.read_bytes()))
    gz[len(gz) // 2 : len(gz) // 2 + 30] = bytes(30)
    (tmp_path / "bad.tsv.gz").write_bytes(bytes(gz))
    for p in (cut, tmp_path / "bad.tsv.gz"):
        with pytest.raises(
            SeedsigError, match=rf"'{re.escape(str(p))}' is truncated or corrupt: it is not a complete gzip file"
        ):
            reader(p)


def _matrix() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    df = pd.DataFrame(
        rng.poisson(50, (80, 12)).astype(float),
        index=[f"G{i}" for i in range(80)],
        columns=[f"S{i}" for i in range(12)],
    )
    df.index.name = "gene"
    return df


def test_truncated_and_corrupt_parquet(tmp_path):
    _matrix().to_parquet(tmp_path / "ok.parquet")
    raw = (tmp_path / "ok.parquet").read_bytes()
    assert read_parquet(tmp_path / "ok.parquet").matrix.shape == (80, 12)
    (tmp_path / "cut.parquet").write_bytes(raw[: len(raw) // 2])
    damaged = bytearray(raw)
    damaged[len(raw) // 3 : len(raw) // 3 + 200] = bytes(200)
    (tmp_path / "bad.parquet").write_bytes(bytes(damaged))
    for name in ("cut.parquet", "bad.parquet"):
        with pytest.raises(
            SeedsigError, match=rf"{name}' is truncated or corrupt: it cannot be read as a Parquet file"
        ):
            read_parquet(tmp_path / name)


def test_truncated_and_corrupt_h5ad(tmp_path):
    m = _matrix()
    ad.AnnData(m.T.to_numpy(), obs=pd.DataFrame(index=m.columns), var=pd.DataFrame(index=m.index)).write_h5ad(
        tmp_path / "ok.h5ad"
    )
    raw = (tmp_path / "ok.h5ad").read_bytes()
    assert read_h5ad_bulk(tmp_path / "ok.h5ad").matrix.shape == (80, 12)
    (tmp_path / "cut.h5ad").write_bytes(raw[: len(raw) // 2])
    damaged = bytearray(raw)
    for off in range(2000, len(damaged), 997):
        damaged[off : off + 50] = bytes(50)
    (tmp_path / "bad.h5ad").write_bytes(bytes(damaged))
    for name in ("cut.h5ad", "bad.h5ad"):
        with pytest.raises(
            SeedsigError, match=rf"{name}' is truncated or corrupt: it cannot be read as an AnnData .h5ad file"
        ):
            read_h5ad_bulk(tmp_path / name)


# ----------------------------------------------------------------------------------- config YAML, sheet
def test_check_config_yaml_syntax_error(tmp_path, capsys):
    f = tmp_path / "my.yaml"
    f.write_text("cohorts: my.tsv\nscoring:\n  methods: [ssgsea\n  min_genes: 2\n")
    assert main(["check-config", str(f)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"{f}:4:12: YAML syntax error:") and "line 3" in err and len(err.splitlines()) == 1


def test_check_config_schema_errors_and_ok(tmp_path, capsys):
    bad_value, bad_key, ok = tmp_path / "v.yaml", tmp_path / "k.yaml", tmp_path / "ok.yaml"
    bad_value.write_text("cohorts: my.tsv\nscoring:\n  min_fraction: 2\n")
    bad_key.write_text("scoring:\n  methods: [ssgsea]\n  method: [zscore]\n")
    ok.write_text("cohorts: my.tsv\nscoring:\n  min_fraction: 0.25\n")
    assert main(["check-config", str(bad_value), str(bad_key), str(ok)]) == 1
    cap = capsys.readouterr()
    err = cap.err.strip().splitlines()
    assert (
        err[0]
        == f"{bad_value}:3:17: 'scoring.min_fraction': 2 is greater than the maximum of 1 (see config/README.md)."
    )
    assert err[1].startswith(f"{bad_key}:3:3: unknown key 'method' under 'scoring'. Allowed keys:")
    assert cap.out.strip() == f"{ok}: ok"
    assert main(["check-config", str(REPO / "config" / "config.yaml")]) == 0
    assert sconf.schema_path().samefile(REPO / "workflow" / "schemas" / "config.schema.yaml")  # the one schema


@pytest.mark.parametrize("sep,word", [(",", "commas"), (";", "semicolons")])
def test_sheet_that_is_not_tab_separated(tmp_path, sep, word):
    sheet = tmp_path / "cohorts.csv"
    sheet.write_text(
        sep.join(["cohort", "expression", "data_type", "gene_id"])
        + "\n"
        + sep.join(["x", "a.tsv", "counts", "symbol"])
        + "\n"
    )
    with pytest.raises(
        SeedsigError,
        match=rf"cohort sheet '{re.escape(str(sheet))}', line 1: .* separated by {word}, not tabs\. "
        "The sheet must be tab-separated",
    ):
        sconf.read_sheet(sheet, SHEET_SCHEMA)
    mixed = tmp_path / "mixed.tsv"  # a tab-separated header, a row written with the other separator
    mixed.write_text("cohort\texpression\tdata_type\tgene_id\n" + sep.join(["x", "a.tsv", "counts", "symbol"]) + "\n")
    with pytest.raises(
        SeedsigError,
        match=rf"'{re.escape(str(mixed))}', line 2: the row is separated by {word}, not tabs\. "
        "The sheet must be tab-separated",
    ):
        sconf.read_sheet(mixed, SHEET_SCHEMA)


def test_unexpected_error_says_where_the_traceback_is(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    smk = types.SimpleNamespace(log=[str(tmp_path / "logs" / "x.log")], rule="normalize", wildcards={"cohort": "c1"})

    def bug(_):
        raise ZeroDivisionError("division by zero")

    with pytest.raises(SystemExit) as exc:
        run_rule(smk, bug)
    logging.getLogger().handlers.clear()
    assert exc.value.code == 1
    assert "ZeroDivisionError" not in capsys.readouterr().err  # not on the terminal during the run
    assert "Traceback (most recent call last)" in (tmp_path / "logs" / "x.log").read_text()
    lines = failure.report_failure(tmp_path / "results" / "report.html", exit=False)
    assert lines == [
        "seedsig: unexpected error in rule normalize (ZeroDivisionError); "
        f"the traceback is in {tmp_path / 'logs' / 'x.log'}. Please report it."
    ]
    assert failure.collected_errors() == []


def test_mark_stale_replaces_an_earlier_banner(tmp_path):
    report = tmp_path / "report.html"
    report.write_text(
        "<!doctype html><html><head><title>r</title></head><body class='x'><h1>seedsig</h1></body></html>"
    )
    assert failure.mark_stale(report, "ingest (cohort a)", when=0)
    assert failure.mark_stale(report, "score (cohort b, method zscore)")
    html = report.read_text()
    assert (
        html.count("seedsig-stale-banner") == 1 and "score (cohort b, method zscore)" in html and "cohort a" not in html
    )
    assert html.index("<body class='x'>") < html.index("seedsig-stale-banner") < html.index("<h1>seedsig</h1>")
    assert report.stat().st_mtime == failure.STALE_MTIME  # older than any input: the next run rebuilds it
    assert not failure.mark_stale(tmp_path / "none.html", "ingest")


# ------------------------------------------------------------------------------------ CLI never overwrites
def _counts(tmp_path: Path) -> Path:
    p = tmp_path / "counts.tsv"
    rng = np.random.default_rng(2)
    genes = ["IL6", "CXCL8", "FSCN1", "MMP1"] + [f"RPL{i}" for i in range(3, 60)]
    pd.DataFrame(
        rng.poisson(100, (len(genes), 12)), index=pd.Index(genes, name="gene"), columns=[f"S{i}" for i in range(12)]
    ).to_csv(p, sep="\t")
    return p


def test_out_that_is_an_input_is_refused(tmp_path, capsys, monkeypatch):
    counts = _counts(tmp_path)
    before = sha(counts)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.tsv").symlink_to(counts)
    sig = REPO / "config" / "signatures" / "self_seeding.tsv"
    cases = [
        (
            ["normalize", "--input", str(counts), "--method", "logcpm", "--out", "sub/../counts.tsv"],
            "--out 'sub/../counts.tsv' is the input file",
        ),
        (["normalize", "--input", "link.tsv", "--method", "logcpm", "--out", str(counts)], "(--input)"),
        (
            ["score", "--expr", str(counts), "--signatures", str(sig), "--method", "zscore", "--out", "counts.tsv"],
            "(--expr)",
        ),
        (
            ["score", "--expr", str(counts), "--signatures", str(sig), "--method", "zscore", "--out", str(sig)],
            "(--signatures)",
        ),
    ]
    for argv, needle in cases:
        with pytest.raises(SystemExit) as exc:
            main(argv)
        err = capsys.readouterr().err.strip().splitlines()[-1]
        assert exc.value.code == 2 and needle in err and "seedsig never writes over an input" in err, err
    assert sha(counts) == before and (tmp_path / "link.tsv").is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["counts.tsv", "link.tsv", "sub"]


# ------------------------------------------------------------------------------ CLI ranges = schema ranges
@pytest.mark.parametrize(
    "argv,option,rng",
    [
        (["normalize", "--method", "tmm_logcpm", "--prior-count", "-3"], "--prior-count", "> 0 and <= 100"),
        (["normalize", "--method", "tmm_logcpm", "--prior-count", "0"], "--prior-count", "> 0 and <= 100"),
        (["score", "--method", "zscore", "--min-fraction", "-1"], "--min-fraction", ">= 0 and <= 1"),
        (["score", "--method", "zscore", "--min-fraction", "1.5"], "--min-fraction", ">= 0 and <= 1"),
        (["score", "--method", "zscore", "--min-genes", "0"], "--min-genes", ">= 1"),
        (["score", "--method", "ssgsea", "--alpha", "-0.5"], "--alpha", ">= 0 and <= 10"),
        (["download", "geo:GSE1", "--retries", "-1"], "--retries", ">= 0 and <= 20"),
        (["download", "geo:GSE1", "--timeout", "0"], "--timeout", "> 0"),
    ],
)
def test_cli_numeric_ranges_come_from_the_schema(tmp_path, capsys, argv, option, rng):
    counts = _counts(tmp_path)
    out = tmp_path / "out.tsv"
    io_args = {"normalize": ["--input", str(counts), "--out", str(out)], "download": ["--cache", str(tmp_path / "geo")]}
    io_args["score"] = [
        "--expr",
        str(counts),
        "--signatures",
        str(REPO / "config" / "signatures" / "self_seeding.tsv"),
        "--out",
        str(out),
    ]
    with pytest.raises(SystemExit) as exc:
        main([*argv, *io_args[argv[0]]])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert exc.value.code == 2
    assert err.startswith(f"seedsig {argv[0]}: error: argument {option}: ") and f"it must be {rng}" in err, err
    assert not out.exists() and not (tmp_path / "geo").exists()


def test_cli_ranges_are_read_from_the_config_schema(tmp_path, capsys):
    schema = load_schema(schema_path())
    assert schema["properties"]["scoring"]["properties"]["min_fraction"]["maximum"] == 1
    assert sconf.schema_range("normalize.prior_count") == {"exclusiveMinimum": 0, "maximum": 100}
    counts = _counts(tmp_path)
    assert (
        main(
            [
                "normalize",
                "--input",
                str(counts),
                "--method",
                "logcpm",
                "--prior-count",
                "0.5",
                "--out",
                str(tmp_path / "o.tsv"),
            ]
        )
        == 0
    )
    assert np.isfinite(read_matrix(tmp_path / "o.tsv").to_numpy()).all()
