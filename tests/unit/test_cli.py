"""The seedsig CLI: same code paths as the pipeline, clear errors, fast start."""

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from conftest import GOLDEN, REPO, shared_file

from seedsig.cli import main
from seedsig.core.tables import read_matrix


def seedsig(*args: str) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "seedsig"
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=300)


def test_normalize_cli_reproduces_edger_and_keeps_ids(tmp_path):
    src = shared_file("airway_rnaseq_counts", "airway_counts.tsv.gz")
    out = tmp_path / "logcpm.tsv"
    assert main(["normalize", "--input", str(src), "--method", "tmm_logcpm", "--out", str(out)]) == 0
    res = read_matrix(out)
    raw = read_matrix(src)
    assert list(res.index) == list(raw.index) and list(res.columns) == list(raw.columns)  # nothing mapped or filtered
    gold = pd.read_csv(GOLDEN / "normalize" / "airway_tmm_logcpm.tsv", sep="\t", index_col=0)
    np.testing.assert_allclose(res.loc[gold.index].to_numpy(), gold.to_numpy(), atol=1e-9)
    assert out.with_suffix(".json").is_file()


def test_score_cli_matches_old_symbols_without_dropping_rows(tmp_path):
    rng = np.random.default_rng(3)
    genes = ["IL6", "IL8", "FSCN1", "MMP1"] + [f"G{i}" for i in range(200)]
    expr = pd.DataFrame(
        rng.normal(8, 2, size=(len(genes), 10)),
        index=pd.Index(genes, name="gene"),
        columns=[f"s{i}" for i in range(10)],
    )
    f = tmp_path / "expr.tsv"
    expr.to_csv(f, sep="\t")
    out = tmp_path / "scores.tsv"
    assert (
        main(
            [
                "score",
                "--expr",
                str(f),
                "--signatures",
                str(REPO / "config/signatures/self_seeding.tsv"),
                "--method",
                "zscore",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    s = pd.read_csv(out, sep="\t", index_col=0)
    assert list(s.columns) == ["SS", "SS_attraction", "SS_infiltration"]
    z = expr.sub(expr.mean(axis=1), axis=0).div(expr.std(axis=1, ddof=1), axis=0)
    np.testing.assert_allclose(
        s["SS"].to_numpy(), z.loc[["IL6", "IL8", "FSCN1", "MMP1"]].sum().to_numpy() / 2.0, atol=1e-9
    )
    np.testing.assert_allclose(
        s["SS_attraction"].to_numpy(), z.loc[["IL6", "IL8"]].sum().to_numpy() / np.sqrt(2), atol=1e-9
    )


def test_cli_user_error_is_one_line_exit_2(tmp_path):
    proc = seedsig(
        "normalize", "--input", str(tmp_path / "nope.tsv"), "--method", "tmm_logcpm", "--out", str(tmp_path / "o.tsv")
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("seedsig: error: input matrix") and "does not exist" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "o.tsv").exists()


def test_cli_starts_fast_without_heavy_imports():
    code = (
        "import sys, seedsig.cli; "
        "heavy = [m for m in ('scanpy', 'anndata', 'gseapy', 'matplotlib', 'statsmodels') if m in sys.modules]; "
        "print(heavy)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.strip() == "[]"
    t0 = time.perf_counter()
    proc = seedsig("--help")
    assert proc.returncode == 0 and "simulate" in proc.stdout
    assert time.perf_counter() - t0 < 5


def test_simulate_cli_writes_example(tmp_path):
    out = tmp_path / "ex"
    assert main(["simulate", "--out", str(out), "--n-samples", "30", "--n-genes", "3000"]) == 0
    counts = read_matrix(out / "counts.tsv.gz")
    assert counts.shape == (3000, 30)
    clin = pd.read_csv(out / "clinical.tsv", sep="\t")
    assert {"mfs_months", "mfs_event", "relapse_site", "er_status", "age"} <= set(clin.columns)


def test_cli_method_list_is_the_library_list():
    from seedsig import cli
    from seedsig.normalize import methods as N

    assert cli.NORMALIZATION_METHODS == N.NORMALIZATION_METHODS


def test_normalize_cli_every_count_method_equals_its_reference(tmp_path):
    src = shared_file("airway_rnaseq_counts", "airway_counts.tsv.gz")
    for method, golden in [
        ("deseq2_log", "airway_deseq2_log.tsv"),
        ("upperquartile_logcpm", "airway_uq_logcpm.tsv"),
        ("deseq2_vst", "airway_deseq2_vst.tsv"),
    ]:
        out = tmp_path / f"{method}.tsv"
        assert main(["normalize", "--input", str(src), "--method", method, "--out", str(out)]) == 0
        got = pd.read_csv(out, sep="\t", index_col=0)
        gold = pd.read_csv(GOLDEN / "normalize" / golden, sep="\t", index_col=0)
        np.testing.assert_allclose(
            got.loc[gold.index].to_numpy(), gold.to_numpy(), rtol=0, atol=1e-4 if method == "deseq2_vst" else 1e-9
        )
        side = json.loads(out.with_suffix(".json").read_text())
        assert side["parameters"]["method"] == method and side["parameters"]["n_filtered_genes"] == 0
    # filtering only when asked: edgeR's filterByExpr, then TMM on the kept genes
    out = tmp_path / "filtered.tsv"
    assert (
        main(["normalize", "--input", str(src), "--method", "tmm_logcpm", "--filter-by-expr", "--out", str(out)]) == 0
    )
    got = pd.read_csv(out, sep="\t", index_col=0)
    assert len(got) == 14224
    gold = pd.read_csv(GOLDEN / "normalize" / "airway_filtered_tmm_logcpm.tsv", sep="\t", index_col=0)
    np.testing.assert_allclose(got.loc[gold.index].to_numpy(), gold.to_numpy(), rtol=0, atol=1e-9)


def test_normalize_cli_steps_and_gene_lengths(tmp_path):
    x = pd.read_csv(GOLDEN / "normalize" / "gds507_log2_input.tsv.gz", sep="\t", index_col=0)
    src = tmp_path / "mas5.tsv"
    (2.0**x).to_csv(src, sep="\t")
    out = tmp_path / "q.tsv"
    assert (
        main(
            [
                "normalize",
                "--input",
                str(src),
                "--method",
                "log2",
                "quantile",
                "--data-type",
                "intensity",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    gold = pd.read_csv(GOLDEN / "normalize" / "gds507_quantile_limma.tsv", sep="\t", index_col=0)
    np.testing.assert_allclose(
        pd.read_csv(out, sep="\t", index_col=0).loc[gold.index].to_numpy(), gold.to_numpy(), atol=1e-9
    )
    # TPM with an Ensembl length table (TCGAbiolinks' geneInfoHT: id, length, GC): ids with a version suffix match
    lengths = shared_file("gene_lengths_human", "ensembl_gene_length_gc_tcgabiolinks_geneInfoHT.tsv.gz")
    counts = shared_file("gtex_lung_chr21_rnanorm", "gtex_lung.first30.chr21.csv.gz")
    m = pd.read_csv(counts, index_col=0).T
    m.index.name = "gene"
    csrc = tmp_path / "gtex.tsv"
    m.to_csv(csrc, sep="\t")
    out = tmp_path / "tpm.tsv"
    assert (
        main(["normalize", "--input", str(csrc), "--method", "tpm", "--gene-lengths", str(lengths), "--out", str(out)])
        == 0
    )
    tpm = pd.read_csv(out, sep="\t", index_col=0)
    assert len(tpm) == 808  # genes of the table (808 of 818, see its SOURCE.md)
    np.testing.assert_allclose(tpm.sum(axis=0), 1e6)
    table = pd.read_csv(lengths, sep="\t", index_col=0)["gene_length"]
    g = tpm.index[0]
    rate = m.loc[tpm.index].div(table.reindex(tpm.index.str.split(".").str[0]).to_numpy(), axis=0)
    np.testing.assert_allclose(
        tpm[m.columns[0]].to_numpy(), (rate[m.columns[0]] / rate[m.columns[0]].sum() * 1e6).to_numpy(), rtol=1e-10
    )  # written with 12 significant digits
    assert g.startswith("ENSG")
