"""Input that is not what the sheet says (issue 14, item 2, and the 3-sample floor of ingest): one message naming
the file and what to change, raised before any output is written; `seedsig score` runs the same checks."""

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import GENES, GOLDEN, REPO, shared_file

from seedsig.cli import main
from seedsig.core.errors import SeedsigError
from seedsig.ingest.checks import LOG_SCALE_LIMIT, check_expression, check_finite, check_log_scale, looks_unlogged
from seedsig.ingest.ids import (
    check_mapping,
    guess_id_type,
    harmonize,
    looks_transposed,
    read_platform_annotation,
    resolve_ids,
)
from seedsig.ingest.stage import MIN_COHORT_SAMPLES, ingest_cohort, resolve_cohort_input

WHERE = "cohort 'tiny', expression 'x.tsv'"


SIGNATURES = str(REPO / "config" / "signatures" / "self_seeding.tsv")


def counts_frame(n: int = 24, genes=GENES, seed: int = 7, lam: float = 200) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        rng.poisson(lam, size=(len(genes), n)).astype(float),
        index=pd.Index(genes, name="gene"),
        columns=[f"P{i:02d}" for i in range(n)],
    )


def log_frame(n: int = 24, genes=GENES, seed: int = 7) -> pd.DataFrame:
    return np.log2(counts_frame(n, genes, seed) + 1)


def check(df, data_type="counts", gene_id="symbol", **kw):
    return check_expression(df, WHERE, data_type, gene_id, **kw)


# ------------------------------------------------------------------------------------- infinite values
@pytest.mark.parametrize("data_type", ["counts", "log_expression", "intensity", "tpm"])
def test_infinite_value_names_gene_and_sample(data_type):
    df = counts_frame() if data_type != "log_expression" else log_frame()
    df.loc["FSCN1", "P05"] = -np.inf
    df.loc["ESR1", "P01"] = np.inf
    with pytest.raises(SeedsigError) as e:
        check(df, data_type)
    msg = str(e.value)
    assert (
        msg.startswith(WHERE)
        and "infinite value -inf (gene 'FSCN1', sample 'P05'; 2 such value(s) in 2 gene row(s))" in msg
    )
    assert "write NA" in msg
    check_finite(log_frame(), WHERE)  # finite: nothing to say


# ------------------------------------------------------------------------------------------ transposed
def test_transposed_by_gene_names_in_columns():
    t = counts_frame().T  # rows P00..P23, columns gene symbols
    with pytest.raises(SeedsigError) as e:
        check(t)
    msg = str(e.value)
    assert "looks transposed" in msg and "orientation: samples_x_genes" in msg
    assert (
        "column names are gene symbols (88% resolve, e.g. IL6, IL8, FSCN1)" in msg
        and "0% resolve, e.g. P00, P01, P02" in msg
    )
    assert "zero library size" not in msg


def test_transposed_by_clinical_sample_ids_whatever_the_ids():
    t = counts_frame(genes=[f"X{i}" for i in range(50)]).T  # gene ids that resolve as nothing
    assert looks_transposed(t.index, t.columns, "symbol") is None  # ids alone say nothing
    with pytest.raises(
        SeedsigError,
        match=(
            r"row ids are the clinical table's sample ids \(24 of 24, e.g. P00, P01, P02\) and its column names are "
            r"not"
        ),
    ):
        check(t, sample_ids=[f"P{i:02d}" for i in range(24)])


def test_declared_samples_x_genes_for_a_genes_x_samples_file():
    t = counts_frame().T  # what read_table makes of a genes x samples file read as samples_x_genes
    with pytest.raises(SeedsigError) as e:
        check(t, orientation="samples_x_genes")
    msg = str(e.value)
    assert (
        "its row ids are gene symbols" in msg and "while its column names are not" in msg
    )  # the file's own rows/columns
    assert "set orientation: genes_x_samples" in msg


@pytest.mark.parametrize("fmt, fix", [("h5ad", "adata.T"), ("gct", "transpose it")])
def test_transposed_other_formats(fmt, fix):
    with pytest.raises(SeedsigError, match=fix):
        check(counts_frame().T, fmt=fmt)


def test_not_transposed_when_sample_ids_are_gene_aliases():
    # P1, S1, A1, ... are aliases (or even symbols) of genes: a matrix of unmapped probe ids with such sample names
    # is not transposed
    samples = ["P1", "S1", "A1", "C1", "C2", "WT1", "R1", "D1", "G6", "M1"]
    df = pd.DataFrame(
        np.random.default_rng(0).normal(8, 1, (40, 10)), index=[f"{1007 + i}_at" for i in range(40)], columns=samples
    )
    assert looks_transposed(df.index, df.columns, "symbol") is None
    assert looks_transposed(df.index, df.columns, "symbol", sample_ids=samples) is None
    normal = counts_frame()
    assert looks_transposed(normal.index, normal.columns, "symbol", sample_ids=list(normal.columns)) is None


def test_transposed_probe_and_ensembl_ids():
    ann = pd.DataFrame({"probe_id": [f"{200000 + i}_at" for i in range(30)], "symbol": GENES[:30], "entrez_id": ""})
    ann.attrs.update(source="GPLX.annot", id_column="ID", symbol_column="Gene Symbol", entrez_column=None)
    t = counts_frame(genes=list(ann["probe_id"])).T
    why = looks_transposed(t.index, t.columns, "probe", ann)
    assert why is not None and "column names are probe ids" in why
    with pytest.raises(SeedsigError, match="looks transposed"):
        check(t, gene_id="probe", annotation=ann)
    t = counts_frame(genes=["ENSG00000136244", "ENSG00000169429", "ENSG00000075618", "ENSG00000196611"]).T
    assert "ensembl ids" in looks_transposed(t.index, t.columns, "ensembl")


# ---------------------------------------------------------------------------------------- sample floor
@pytest.mark.parametrize("n", [1, 2])
def test_below_three_samples(n):
    with pytest.raises(SeedsigError) as e:
        check(counts_frame(n), min_samples=3)
    msg = str(e.value)
    assert msg.startswith(f"{WHERE} has {n} sample{'s' if n > 1 else ''} (P00")
    assert (
        "at least 3 are needed (by default 10 for correlations and survival: associate.min_samples, "
        "survival.min_samples)" in msg
    )
    assert check(counts_frame(3), min_samples=3).mapping.shape[0] == len(GENES)


# ------------------------------------------------------------------------------------ values vs data_type
def test_raw_counts_declared_log_expression():
    with pytest.raises(SeedsigError) as e:
        check(counts_frame(), "log_expression")
    msg = str(e.value)
    assert "whole number >= 0" in msg and "look like raw counts" in msg and "Set data_type to counts" in msg
    assert "values reach 249 (99th percentile 234)" in msg
    check(log_frame(), "log_expression")  # the same counts logged pass
    sparse = counts_frame(lam=0.5)  # low counts: 99th percentile below 100, but whole numbers up to > 1,000
    sparse.iloc[0, 0] = 5000
    with pytest.raises(SeedsigError, match="look like raw counts"):
        check(sparse, "log_expression")


def test_unlogged_values_declared_log_expression():
    x = 2.0 ** (log_frame() + 3.3)  # MAS5-like, not whole numbers
    with pytest.raises(SeedsigError, match="not logged. Set data_type to intensity .* tpm .* or counts"):
        check(x, "log_expression")


def test_log_scale_with_a_few_outlier_codes_passes():
    x = log_frame(n=30)
    x.iloc[0, :5] = 999.0  # 5 of 1,500 values: a missing-value code, not a scale
    assert not looks_unlogged(x.to_numpy())
    check_log_scale(x, WHERE)
    assert looks_unlogged(counts_frame().to_numpy()) and LOG_SCALE_LIMIT == 100
    z = log_frame()
    z = z.sub(z.mean(axis=1), axis=0)  # centred log values (negative) pass
    check(z, "log_expression")


def test_log_scale_declared_counts_still_rejected():
    with pytest.raises(SeedsigError, match="looks like log-scale data. Set data_type to log_expression"):
        check(log_frame() + 0.25, "counts")


def test_intensity_checks():
    with pytest.raises(SeedsigError, match="declared as intensity .* looks log-scale already"):
        check(log_frame() + 0.25, "intensity")
    res = check(counts_frame(), "intensity")
    assert (
        len(res.warnings) == 1
        and "declared intensity but every value is a whole number >= 0 (maximum 249)" in res.warnings[0]
    )
    assert "set data_type to counts" in res.warnings[0]
    assert check(2.0 ** (log_frame() + 3.3), "intensity").warnings == []
    tpm = counts_frame() + 0.5
    tpm.loc["ESR1", "P03"] = -1.5
    with pytest.raises(SeedsigError, match="negative TPM -1.5 \\(gene 'ESR1', sample 'P03'\\)"):
        check(tpm, "tpm")


# ------------------------------------------------------------------------------------------ gene ids
@pytest.mark.parametrize(
    "ids, kind",
    [
        ([f"ENSG{i:011d}.{i % 3}" for i in range(20)], "ensembl"),
        ([f"NM_{i:06d}" for i in range(20)], "refseq"),
        ([f"{1007 + i}_s_at" for i in range(20)] + ["AFFX-BioB-5_at"], "probe"),
        ([f"ILMN_{1343291 + i}" for i in range(20)], "probe"),
        ([f"A_23_P{100001 + i}" for i in range(20)], "probe"),
        (["3569", "3576", "56934", "4312", "3398", "7148", "5743", "1839"], "entrez"),
        (["IL6|3569", "?|100130426", "FSCN1|6624"], "entrez"),
        (GENES, "symbol"),
        ([f"ENST{i:011d}" for i in range(20)], None),
    ],
)
def test_guess_id_type(ids, kind):
    guess = guess_id_type(ids)
    assert guess is not None and guess[0] == kind
    assert guess_id_type([f"zz{i}qq" for i in range(10)]) is None


def test_numeric_ids_that_are_not_entrez_are_probes():
    ids = [str(7892501 + i) for i in range(50)]  # Affymetrix Gene ST transcript clusters
    kind, what = guess_id_type(ids)
    assert kind == "probe" and "not Entrez genes" in what


def test_nothing_maps_stops_naming_the_likely_type():
    probes = [f"{1007 + i}_s_at" for i in range(76)]
    df = pd.DataFrame(
        np.random.default_rng(1).normal(8, 2, (76, 10)), index=probes, columns=[f"s{i}" for i in range(10)]
    )
    with pytest.raises(SeedsigError) as e:
        check(df, "log_expression", "symbol")
    msg = str(e.value)
    assert msg.startswith(WHERE) and "76 of 76 ids are unmapped as gene_id 'symbol' (e.g. 1007_s_at" in msg
    assert "Affymetrix probe set ids" in msg and "gene_id column to probe" in msg


def test_more_than_half_unmapped_warns_not_stops():
    ids = GENES[:20] + [f"ENSG{i:011d}" for i in range(30)]
    mapping = resolve_ids(ids, "symbol")
    warning = check_mapping(mapping, WHERE, "symbol")
    assert warning.startswith(WHERE) and "30 of 50 ids are unmapped as gene_id 'symbol'" in warning
    assert "Ensembl gene ids" in warning and "gene_id column to ensembl" in warning
    assert (
        check_mapping(resolve_ids(GENES[:13] + [f"ENSG{i:011d}" for i in range(13)], "symbol"), WHERE, "symbol") is None
    )  # half: fine
    df = counts_frame(genes=ids)
    assert check(df).warnings == [warning]


def test_unmapped_of_the_declared_kind_say_so():
    w = check_mapping(
        resolve_ids([f"ENSG{990000 + i:011d}" for i in range(10)] + ["ENSG00000136244"], "ensembl"), WHERE, "ensembl"
    )
    assert "10 of 11" in w and "as declared" in w


def test_harmonize_reuses_the_checked_mapping():
    df = counts_frame(genes=GENES + ["IL-6x"])
    checked = check(df)
    a, ma = harmonize(df, "symbol", resolved=checked.mapping)
    b, mb = harmonize(df, "symbol")
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(ma, mb)
    assert "CXCL8" in a.index


# -------------------------------------------------------------------------- ingest: stops before output
def write_files(tmp_path: Path, df: pd.DataFrame, *, clinical_samples=None, name="x.tsv") -> tuple[Path, Path]:
    expr = tmp_path / name
    df.to_csv(expr, sep="\t")
    clin = tmp_path / "clinical.tsv"
    samples = list(clinical_samples if clinical_samples is not None else df.columns)
    rng = np.random.default_rng(3)
    pd.DataFrame(
        {
            "sample": samples,
            "months": rng.uniform(1, 100, len(samples)).round(1),
            "relapse": rng.integers(0, 2, len(samples)),
        }
    ).to_csv(clin, sep="\t", index=False)
    return expr, clin


def ingest(tmp_path: Path, expr: Path, clin: Path | None, data_type="counts", gene_id="symbol", **kw):
    out = tmp_path / "results"
    out.mkdir(exist_ok=True)
    ingest_cohort(
        "tiny",
        str(expr),
        data_type,
        gene_id,
        out / "ingested.h5ad",
        out / "gene_mapping.tsv",
        out_clinical=out / "clinical.tsv",
        clinical=str(clin) if clin else None,
        time="months" if clin else None,
        event="relapse" if clin else None,
        **kw,
    )
    return out


def expect_ingest_error(tmp_path, expr, clin, *needles, **kw) -> str:
    before = {p: p.read_bytes() for p in (expr, clin) if p}
    with pytest.raises(SeedsigError) as e:
        ingest(tmp_path, expr, clin, **kw)
    msg = str(e.value)
    for needle in needles:
        assert needle in msg, msg
    assert list((tmp_path / "results").iterdir()) == []  # no gene_mapping.tsv, clinical.tsv, ingested.h5ad
    assert {p: p.read_bytes() for p in before} == before
    return msg


def test_ingest_two_samples(tmp_path):
    expr, clin = write_files(tmp_path, counts_frame(2))
    msg = expect_ingest_error(
        tmp_path, expr, clin, "cohort 'tiny', expression", "x.tsv' has 2 samples (P00, P01); at least 3 are needed"
    )
    assert "associate.min_samples, survival.min_samples" in msg


def test_ingest_transposed(tmp_path):
    df = counts_frame().T
    df.index.name = "sample"
    expr, clin = write_files(tmp_path, df, clinical_samples=df.index)
    msg = expect_ingest_error(tmp_path, expr, clin, "looks transposed", "orientation: samples_x_genes", "x.tsv")
    assert "zero library size" not in msg
    out = ingest(tmp_path, expr, clin, orientation="samples_x_genes")  # the fix the message names works
    assert (out / "ingested.h5ad").is_file()


def test_ingest_raw_counts_declared_log_expression(tmp_path):
    expr, clin = write_files(tmp_path, counts_frame())
    expect_ingest_error(
        tmp_path, expr, clin, "x.tsv", "look like raw counts", "Set data_type to counts", data_type="log_expression"
    )


def test_ingest_infinite_value_from_text(tmp_path):
    expr, clin = write_files(tmp_path, log_frame())
    text = expr.read_text().splitlines()  # FSCN1's value for P00 written "Inf", as R writes it
    row = [i for i, line in enumerate(text) if line.startswith("FSCN1\t")][0]
    fields = text[row].split("\t")
    fields[1] = "Inf"
    text[row] = "\t".join(fields)
    expr.write_text("\n".join(text) + "\n")
    expect_ingest_error(
        tmp_path, expr, clin, "x.tsv", "infinite value inf (gene 'FSCN1', sample 'P00'", data_type="log_expression"
    )


def test_ingest_probe_ids_declared_symbol(tmp_path):
    df = log_frame(genes=[f"{1007 + i}_s_at" for i in range(76)])
    expr, clin = write_files(tmp_path, df)
    expect_ingest_error(
        tmp_path,
        expr,
        clin,
        "x.tsv",
        "76 of 76 ids are unmapped",
        "Affymetrix probe set ids",
        "gene_id",
        data_type="log_expression",
    )


def test_ingest_mostly_unmapped_warns_and_runs(tmp_path, caplog):
    df = log_frame(genes=GENES[:20] + [f"ILMN_{1343291 + i}" for i in range(30)])
    expr, clin = write_files(tmp_path, df)
    with caplog.at_level(logging.WARNING, logger="seedsig"):
        out = ingest(tmp_path, expr, clin, data_type="log_expression")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("30 of 50 ids are unmapped as gene_id 'symbol'" in w and "Illumina probe ids" in w for w in warnings), (
        warnings
    )
    assert (out / "ingested.h5ad").is_file() and len(pd.read_csv(out / "gene_mapping.tsv", sep="\t")) == 50


# ------------------------------------------------------------------------------- seedsig score: same checks
def score(tmp_path, df, capsys, *extra):
    f = tmp_path / "expr.tsv"
    df.to_csv(f, sep="\t")
    out = tmp_path / "scores.tsv"
    rc = main(["score", "--expr", str(f), "--signatures", SIGNATURES, "--method", "zscore", "--out", str(out), *extra])
    return rc, capsys.readouterr().err, out


def test_score_cli_transposed(tmp_path, capsys):
    rc, err, out = score(tmp_path, log_frame().T, capsys)
    assert rc == 2 and err.startswith("seedsig: error: expression matrix") and "looks transposed" in err
    assert "seedsig score reads genes as rows and samples as columns" in err and err.count("\n") == 1
    assert not out.exists()


def test_score_cli_raw_counts(tmp_path, capsys):
    rc, err, out = score(tmp_path, counts_frame(), capsys)
    assert rc == 2 and "look like raw counts" in err and "seedsig normalize --method tmm_logcpm" in err
    assert not out.exists()


def test_score_cli_mostly_unmapped_warns(tmp_path, capsys):
    rc, err, out = score(tmp_path, log_frame(genes=GENES[:20] + [f"A_23_P{100001 + i}" for i in range(30)]), capsys)
    assert rc == 0 and out.is_file()
    assert "seedsig: warning: expression matrix" in err and "Agilent probe ids" in err and "--gene-id to probe" in err


# ---------------------------------------------------------- the real cohorts of the pipeline tests still pass
GEO, EMC, RNA = (
    "geo_geoquery_extdata_gse781_gds507",
    "gse2034_emc_wang2005",
    "gse201926_endometrial_rnaseq_ncbi_counts_tpm",
)


REAL = {  # the sheet rows of test_pipeline_real.py, test_pipeline_geo.py and test_examples.py
    "vdv": dict(
        expression=("vdv_vantveer2002_78_randomforestsrc", "expression.tsv.gz"),
        data_type="log_expression",
        gene_id="refseq",
        clinical=("vdv_vantveer2002_78_randomforestsrc", "clinical.tsv"),
    ),
    "airway": dict(expression=("airway_rnaseq_counts", "airway_counts.tsv.gz"), data_type="counts", gene_id="ensembl"),
    "gse1992": dict(
        expression=("gse1992_unc_hu2006_survjamda", "expression.tsv.gz"),
        data_type="log_expression",
        gene_id="symbol",
        clinical=("gse1992_unc_hu2006_survjamda", "clinical.tsv"),
    ),
    "gse781": dict(expression=(GEO, "GSE781_family.soft.gz"), platform="GPL96", data_type="intensity", gene_id="probe"),
    "gds507": dict(
        expression=(GEO, "GDS507.soft.gz"),
        data_type="intensity",
        gene_id="probe",
        platform_annotation=(GEO, "GPL97.annot.gz"),
    ),
    "gse201926": dict(
        expression=(RNA, "gse201926_raw_counts.tsv.gz"),
        data_type="counts",
        gene_id="entrez",
        clinical=(RNA, "gse201926_series_matrix.txt.gz"),
    ),
    "gse2034": dict(
        expression=(EMC, "gse2034_552probe_subset_springer-surv.tsv.gz"),
        data_type="log_expression",
        gene_id="probe",
        platform_annotation=("gpl570_probe_symbol_entrez_map", "GPL570.map.tsv.gz"),
        clinical=(EMC, "GSE2034_Clinical.txt"),
    ),
}


def real_check(cohort: str, row: dict):
    files = {k: str(shared_file(*v)) for k, v in row.items() if isinstance(v, tuple)}
    opts = {k: row[k] for k in ("platform",) if k in row}
    src = resolve_cohort_input(
        cohort,
        files["expression"],
        row["gene_id"],
        clinical=files.get("clinical"),
        platform_annotation=files.get("platform_annotation"),
        **opts,
    )
    m = src.expr.matrix
    m = m.loc[~m.isna().all(axis=1).to_numpy()]
    ann = src.annotation if row["gene_id"] == "probe" else None
    ann = read_platform_annotation(ann) if ann is not None and not isinstance(ann, pd.DataFrame) else ann
    clin = files.get("clinical")
    ids = [str(i) for p, c in src.clinical if p == clin for i in c.index] if clin else None
    return check_expression(
        m,
        cohort,
        row["data_type"],
        row["gene_id"],
        annotation=ann,
        sample_ids=ids,
        min_samples=MIN_COHORT_SAMPLES,
        fmt=str(src.expr.info.get("format", "table")),
    )


@pytest.mark.parametrize("cohort", sorted(REAL))
def test_real_cohorts_pass_every_check(cohort):
    res = real_check(cohort, REAL[cohort])
    assert res.warnings == [] and (res.mapping["status"] != "unmapped").mean() > 0.5


def test_real_intensities_and_nfcore_counts_pass(tmp_path):
    x = pd.read_csv(
        GOLDEN / "normalize" / "gds507_log2_input.tsv.gz", sep="\t", index_col=0
    )  # test_pipeline_real's gds507
    ann = read_platform_annotation(shared_file(GEO, "GPL97.annot.gz"))
    assert check_expression(2.0**x, "gds507", "intensity", "probe", annotation=ann).warnings == []
    counts = pd.read_csv(shared_file("airway_rnaseq_counts", "airway_counts.tsv.gz"), sep="\t", index_col=0)
    assert (
        check_expression(
            counts.astype(float), "my_rnaseq", "counts", "ensembl", sample_ids=list(counts.columns)
        ).warnings
        == []
    )
    with pytest.raises(SeedsigError, match="look like raw counts"):  # and the same counts declared log-scale stop
        check_expression(counts.astype(float), "airway", "log_expression", "ensembl")
    with pytest.raises(SeedsigError, match="looks transposed"):
        check_expression(counts.T.astype(float), "airway", "counts", "ensembl", sample_ids=list(counts.columns))
