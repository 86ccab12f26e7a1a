"""Mistakes a new user makes with their own files (QA of issue 14): each either reads as meant or stops with one
message naming the file, the row/column and what to do. Direct calls of the readers and checks; no Snakemake."""

import gzip

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, digest

from seedsig.config import check_config_file, check_workflow_config, read_sheet
from seedsig.core.errors import SeedsigError
from seedsig.core.tables import read_clinical, read_matrix
from seedsig.ingest.checks import check_counts, check_expression
from seedsig.ingest.clinical_values import parse_event
from seedsig.ingest.formats import read_table
from seedsig.ingest.stage import merge_clinical, prepare_clinical
from seedsig.scoring.signatures import read_signature_file

SHEET_SCHEMA = REPO / "workflow" / "schemas" / "cohorts.schema.yaml"
HEADER = "cohort\texpression\tdata_type\tgene_id\tclinical\ttime\tevent"
ROW = "tiny\tdata/counts.tsv\tcounts\tsymbol\tdata/clinical.tsv\tmonths\trelapse"


def counts_frame(n_genes: int = 6, n_samples: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    genes = ["IL6", "CXCL8", "FSCN1", "MMP1", "ID1", "TNC", "PTGS2", "HBEGF"][:n_genes]
    df = pd.DataFrame(
        rng.poisson(50, (n_genes, n_samples)).astype(float), index=genes, columns=[f"P{i}" for i in range(n_samples)]
    )
    df.index.name = "gene"
    return df


def raises(func, *args, needles=(), **kw) -> str:
    with pytest.raises(SeedsigError) as exc:
        func(*args, **kw)
    msg = str(exc.value)
    for needle in needles:
        assert needle in msg, f"{needle!r} not in: {msg}"
    assert "\n" not in msg
    return msg


# ------------------------------------------------------------------------------------------------ cohort sheet
def test_sheet_with_crlf_and_bom_reads_as_a_plain_sheet(tmp_path):
    sheet = tmp_path / "cohorts.tsv"
    sheet.write_bytes(b"\xef\xbb\xbf" + f"{HEADER}\n{ROW}\n".replace("\n", "\r\n").encode())
    got = read_sheet(sheet, SHEET_SCHEMA)
    assert list(got.index) == ["tiny"]
    assert got.loc["tiny", "event"] == "relapse" and got.loc["tiny", "expression"] == "data/counts.tsv"


def test_misspelled_sheet_column_names_the_header_column_and_the_right_name(tmp_path):
    sheet = tmp_path / "cohorts.tsv"
    sheet.write_text(f"{HEADER.replace('data_type', 'data type')}\n{ROW}\n")
    before = digest([sheet])
    msg = raises(
        read_sheet,
        sheet,
        SHEET_SCHEMA,
        needles=(
            f"cohort sheet '{sheet}', line 1 (header), column 3",
            "unknown column 'data type'",
            "Did you mean 'data_type'?",
        ),
    )
    assert "key" not in msg.split("Allowed")[0]  # a sheet has columns, not keys
    assert digest([sheet]) == before


def test_extra_sheet_column_is_named_with_its_position(tmp_path):
    sheet = tmp_path / "cohorts.tsv"
    sheet.write_text(f"{HEADER}\tnotes\n{ROW}\tmy note\n")
    raises(
        read_sheet,
        sheet,
        SHEET_SCHEMA,
        needles=("line 1 (header), column 8: unknown column 'notes'", "rename or remove it"),
    )


# ------------------------------------------------------------------------------------------------ file content
@pytest.mark.parametrize("name", ["counts.tsv", "counts.tsv.gz"])
def test_gzip_and_plain_text_are_told_by_content_not_by_name(tmp_path, name):
    df = counts_frame()
    text = df.to_csv(sep="\t")
    p = tmp_path / name
    # a gzipped file named .tsv, and a plain file named .tsv.gz
    p.write_bytes(gzip.compress(text.encode()) if not name.endswith(".gz") else text.encode())
    got = read_table(p).matrix
    np.testing.assert_array_equal(got.to_numpy(), df.to_numpy())
    assert list(got.columns) == list(df.columns)
    clin = tmp_path / ("clin.tsv" if not name.endswith(".gz") else "clin.tsv.gz")
    clin_text = "sample\tmonths\nP0\t3\nP1\t4\n"
    clin.write_bytes(gzip.compress(clin_text.encode()) if not name.endswith(".gz") else clin_text.encode())
    assert read_clinical(clin)["months"].tolist() == [3, 4]


@pytest.mark.parametrize("compress", [False, True])
def test_html_error_page_saved_as_expression_file(tmp_path, compress):
    page = b"<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body>Not Found</body></html>\n"
    p = tmp_path / "counts.tsv.gz"
    p.write_bytes(gzip.compress(page) if compress else page)
    raises(read_table, p, needles=(f"expression file '{p}' is an HTML web page", "download it again"))
    raises(read_clinical, p, needles=(f"clinical file '{p}' is an HTML web page",))


def test_trailing_empty_column_is_named_not_read_as_a_sample(tmp_path):
    p = tmp_path / "counts.tsv"
    p.write_text("".join(line + "\t\n" for line in counts_frame().to_csv(sep="\t").splitlines()))
    raises(
        read_matrix,
        p,
        needles=(f"'{p}': column 7 of the header has no name", "trailing tab", "remove the empty column"),
    )


def test_total_row_of_a_count_table_is_refused():
    df = counts_frame()
    df.loc["Total"] = df.sum()
    raises(
        check_counts,
        df,
        "cohort 'x'",
        needles=("cohort 'x': row 'Total' holds the sum of all the other rows", "Remove it"),
    )
    check_counts(counts_frame(), "cohort 'x'")  # a plain count table passes


def test_htseq_summary_rows_are_refused():
    df = counts_frame()
    df.loc["__no_feature"] = 1000.0
    df.loc["__ambiguous"] = 20.0
    raises(
        check_counts,
        df,
        "cohort 'x'",
        needles=("row(s) __no_feature, __ambiguous are the read-count summary of HTSeq", "Remove these rows"),
    )


# ------------------------------------------------------------------------------------------------ clinical ids
@pytest.mark.parametrize(
    "clinical_ids, matrix_ids, needle",
    [
        (["p0", "p1", "p2"], ["P0", "P1", "P2"], "only by letter case (e.g. 'p0' and 'P0')"),
        (["X1001", "X1002", "X1003"], ["1001", "1002", "1003"], "only by an 'X' in front, as R's make.names"),
        (["TCGA.A1.01", "TCGA.A1.02", "TCGA.A1.03"], ["TCGA-A1-01", "TCGA-A1-02", "TCGA-A1-03"], "'.' in place of '-'"),
    ],
)
def test_clinical_ids_spelled_differently_say_how(clinical_ids, matrix_ids, needle):
    clin = pd.DataFrame({"months": [1.0, 2.0, 3.0]}, index=pd.Index(clinical_ids, name="sample"))
    msg = raises(
        prepare_clinical, clin, matrix_ids, "clin.tsv", None, None, needles=("clinical file 'clin.tsv'", needle)
    )
    assert "write the ids in the clinical file exactly as the expression file's column names" in msg


def test_one_clinical_id_in_another_case_is_named():
    clin = pd.DataFrame({"months": [1.0, 2.0, 3.0]}, index=pd.Index(["P0", "P1", "p2"], name="sample"))
    raises(
        prepare_clinical,
        clin,
        ["P0", "P1", "P2"],
        "clin.tsv",
        None,
        None,
        needles=("1 sample(s) are not columns of the expression matrix: p2.", "letter case"),
    )


def test_clinical_ids_with_spaces_around_them_match(tmp_path):
    p = tmp_path / "clin.tsv"
    p.write_text("sample\tmonths\nP0 \t1\n P1\t2\nP2\t3\n")
    clin = read_clinical(p)
    out = prepare_clinical(clin, ["P0", "P1", "P2"], str(p), "months", None)
    assert out["months"].tolist() == [1, 2, 3]


def test_excel_exported_csv_clinical_reads_as_the_table(tmp_path):
    # Excel: UTF-8 BOM, CRLF line ends, rows of empty cells after the data, an empty column without a name
    p = tmp_path / "clinical.csv"
    p.write_bytes(b"\xef\xbb\xbfsample,months,relapse,\r\nP0,1.5,1,\r\nP1,2.5,0,\r\n,,,\r\n,,,\r\n")
    clin = read_clinical(p)
    assert list(clin.index) == ["P0", "P1"] and list(clin.columns) == ["months", "relapse"]
    assert clin["months"].tolist() == [1.5, 2.5]


def test_semicolon_csv_clinical_says_the_separator(tmp_path):
    p = tmp_path / "clinical.csv"
    p.write_text("sample;months;relapse\nP0;1,5;1\nP1;2,5;0\n")  # Excel in a decimal-comma locale
    raises(
        read_clinical,
        p,
        needles=(
            f"clinical file '{p}', line 1: the header 'sample;months;relapse' is separated by semicolons, not commas",
        ),
    )


def test_sheet_rows_of_empty_cells_are_no_cohort(tmp_path):
    sheet = tmp_path / "cohorts.tsv"
    sheet.write_text(f"{HEADER}\n{ROW}\n\t\t\t\t\t\t\n")
    assert list(read_sheet(sheet, SHEET_SCHEMA).index) == ["tiny"]


@pytest.mark.parametrize("name", ["meta", "logs", "figures"])
def test_cohort_named_like_a_results_directory(tmp_path, name):
    sheet = tmp_path / "cohorts.tsv"
    sheet.write_text(f"{HEADER}\n{ROW}\n{ROW.replace('tiny', name)}\n")
    raises(
        read_sheet,
        sheet,
        SHEET_SCHEMA,
        needles=(f"cohort sheet '{sheet}', line 3: cohort name '{name}' is taken", "another name"),
    )


def test_cohort_name_with_a_space_says_what_is_allowed(tmp_path):
    sheet = tmp_path / "cohorts.tsv"
    sheet.write_text(f"{HEADER}\n{ROW.replace('tiny', 'my cohort')}\n")
    msg = raises(
        read_sheet,
        sheet,
        SHEET_SCHEMA,
        needles=("line 2 (cohort 'my cohort'): 'cohort' is 'my cohort', which is not allowed", "letters, digits"),
    )
    assert "does not match" not in msg


def test_endpoint_column_in_another_case_is_suggested():
    clin = pd.DataFrame(
        {"months": [1.0, 2.0, 3.0], "relapse": [1, 0, 1]}, index=pd.Index(["P0", "P1", "P2"], name="sample")
    )
    raises(
        merge_clinical,
        [("clin.tsv", clin)],
        ["P0", "P1", "P2"],
        "Months",
        "relapse",
        needles=("no column 'Months'", "Did you mean 'months'"),
    )


# ------------------------------------------------------------------------------------------------ signature files
def test_gmt_with_a_bom_keeps_the_set_name(tmp_path):
    p = tmp_path / "mine.gmt"
    p.write_bytes(b"\xef\xbb\xbfSETA\tdesc\tIL6\tCXCL8\r\nSETB\tdesc\tFSCN1\tTNC\r\n")
    assert [(s.name, s.genes) for s in read_signature_file(p)] == [
        ("SETA", ("IL6", "CXCL8")),
        ("SETB", ("FSCN1", "TNC")),
    ]


def test_comma_separated_signature_tsv_says_the_separator(tmp_path):
    p = tmp_path / "mine.tsv"
    p.write_text("signature,gene,direction\nSETA,IL6,up\nSETA,CXCL8,up\n")
    raises(
        read_signature_file,
        p,
        needles=(
            f"signature file '{p}', line 1: the header 'signature,gene,direction' is separated by commas, not tabs",
        ),
    )


# ------------------------------------------------------------------------------------------------ config
def test_config_key_given_twice_is_an_error_not_a_silent_overwrite(tmp_path):
    p = tmp_path / "my.yaml"
    p.write_text("cohorts: cohorts.tsv\nassociate:\n  n_random: 20\nassociate:\n  n_bootstrap: 20\n")
    raises(
        check_config_file,
        p,
        needles=(f"{p}:4:1: key 'associate' is given twice in the same mapping (first at line 2)", "merge the two"),
    )
    # the workflow's check reads the --configfile files again for this (Snakemake keeps the last key silently)
    config = {"cohorts": "cohorts.tsv", "associate": {"n_bootstrap": 20}}
    raises(
        check_workflow_config, config, [str(p)], REPO / "workflow" / "schemas", needles=(f"{p}:4:1: key 'associate'",)
    )


def test_gene_symbols_a_spreadsheet_made_dates_are_named():
    ids = ["IL6", "CXCL8", "FSCN1", "MMP1", "ID1", "TNC", "1-Sep", "2-Mar", "Sep-05", "GAPDH"]
    df = pd.DataFrame(
        np.random.default_rng(0).poisson(100, (len(ids), 4)).astype(float), index=ids, columns=list("abcd")
    )
    warnings = check_expression(df, "cohort 'x'", "counts", "symbol").warnings
    assert len(warnings) == 1
    assert warnings[0].startswith(
        "cohort 'x': 3 row id(s) are dates a spreadsheet made of gene symbols (e.g. 1-Sep, 2-Mar, Sep-05"
    )
    assert check_expression(df.drop(["1-Sep", "2-Mar", "Sep-05"]), "cohort 'x'", "counts", "symbol").warnings == []


def test_excel_workbook_and_parquet_given_as_text_tables(tmp_path):
    import zipfile

    xlsx = tmp_path / "clinical.xlsx"
    with zipfile.ZipFile(xlsx, "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
    raises(
        read_clinical,
        xlsx,
        needles=(
            f"clinical file '{xlsx}' is a zip archive (an Excel .xlsx workbook?), not a text table",
            "save it as tab-separated",
        ),
    )
    parquet = tmp_path / "counts.tsv"
    counts_frame().to_parquet(parquet)
    raises(read_table, parquet, needles=(f"expression file '{parquet}' is a Parquet file", "or name it .parquet"))


def test_event_coded_1_2_as_r_survival_points_to_the_codes_that_read_it():
    status = pd.Series([1, 2, 2, 1, 2])
    raises(
        parse_event,
        status,
        source="clin.tsv",
        column="status",
        needles=(
            "clinical data 'clin.tsv', column 'status'",
            "R's survival coding (1 = censored, 2 = event)",
            "{event: [2], censored: [1]}",
        ),
    )
    assert parse_event(status, {"event": [2], "censored": [1]}, source="clin.tsv", column="status").tolist() == [
        0,
        1,
        1,
        0,
        1,
    ]
