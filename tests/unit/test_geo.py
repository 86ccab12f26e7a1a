"""GEO readers (seedsig.ingest.geo) on real GEO files (GSE781 family SOFT, GDS507, GSE201926 series matrix and NCBI
counts, read in place from ../shared) and on small series matrices written here in GEO's format; bad input gives one
clear message; agreement with GEOparse on the GSE781 family SOFT."""

import gzip
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import shared_file

from seedsig.core.errors import SeedsigError
from seedsig.ingest.expression import ExpressionInput
from seedsig.ingest.geo import read_ncbi_counts
from seedsig.ingest.series_matrix import read_series_matrix, series_clinical
from seedsig.ingest.soft import read_soft


def gse781(name: str) -> Path:
    return shared_file("geo_geoquery_extdata_gse781_gds507", name)


def gse201926(name: str) -> Path:
    return shared_file("gse201926_endometrial_rnaseq_ncbi_counts_tpm", name)


@pytest.fixture(scope="module")
def family_gpl96() -> ExpressionInput:
    return read_soft(gse781("GSE781_family.soft.gz"), platform="GPL96")


@pytest.fixture(scope="module")
def family_gpl97() -> ExpressionInput:
    return read_soft(gse781("GSE781_family.soft.gz"), platform="GPL97")


# ---------------------------------------------------------------- a series matrix in GEO's layout
def series_matrix_text(
    rows: list[str] | None = None,
    gsms: tuple[str, ...] = ("GSM1001", "GSM1002", "GSM1003"),
    platforms: tuple[str, ...] | None = None,
    row_count: str | None = None,
) -> str:
    """A series matrix as GEO writes it: quoted header fields, characteristics whose key moves between lines,
    a keyless characteristic, 'null' values, then the table between the begin/end markers."""
    q = lambda vals: "\t".join(f'"{v}"' for v in vals)  # noqa: E731
    platforms = platforms or ("GPL96",) * len(gsms)
    rows = (
        rows
        if rows is not None
        else ['"1007_s_at"\t5.25\t6.5\t7', '"1053_at"\tnull\t3.125\t', '"117_at"\t-1.5e-1\t2\t3']
    )
    row_count = row_count if row_count is not None else str(len(rows))
    header = [
        '!Series_title\t"A small test series"',
        '!Series_geo_accession\t"GSE99999"',
        f'!Series_platform_id\t"{platforms[0]}"',
        "",
        f"!Sample_title\t{q(['tumour 1', 'tumour 2', 'normal 1'][: len(gsms)])}",
        f"!Sample_geo_accession\t{q(gsms)}",
        f"!Sample_source_name_ch1\t{q(['breast tumour', 'breast tumour', 'normal breast'][: len(gsms)])}",
        f"!Sample_characteristics_ch1\t{q(['age: 52', 'er status: positive', 'age: not available'][: len(gsms)])}",
        f"!Sample_characteristics_ch1\t{q(['er status: negative', 'age:  61 ', 'er status: NA'][: len(gsms)])}",
        f"!Sample_characteristics_ch1\t{q(['batch A', 'batch B', ''][: len(gsms)])}",
        f"!Sample_platform_id\t{q(platforms)}",
        f"!Sample_data_row_count\t{q([row_count] * len(gsms))}",
        "!series_matrix_table_begin",
        q(["ID_REF", *gsms]),
    ]
    return "\n".join(header + rows + ["!series_matrix_table_end", ""])


def write(path: Path, text: str) -> Path:
    if path.name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def table_line(text: str, row_id: str) -> int:
    """1-based line number of a table row in a series matrix text."""
    return next(i for i, line in enumerate(text.split("\n"), start=1) if line.startswith(f'"{row_id}"'))


# ---------------------------------------------------------------- series matrix
def test_series_matrix_gse201926_empty_table_and_clinical():
    r = read_series_matrix(gse201926("gse201926_series_matrix.txt.gz"))
    assert r.matrix.shape == (0, 12) and r.info["empty_table"] is True and r.info["n_rows"] == 0
    assert r.platform == "GPL23227" and r.info["series"] == "GSE201926" and r.info["format"] == "series_matrix"
    assert r.matrix.columns[0] == "GSM6081173" and r.matrix.columns[-1] == "GSM6081184"
    c = r.clinical
    assert list(c.columns) == ["title", "source_name_ch1", "tissue", "diagnosis", "phenotype", "age"]
    assert list(c.index) == list(r.matrix.columns)
    assert tuple(c.loc["GSM6081173", ["title", "age", "phenotype", "diagnosis"]]) == (
        "RNA_seq_PIS_1",
        "26",
        "progestin insensitivity",
        "endometrial endometrioid carcinoma",
    )
    assert c["phenotype"].value_counts().to_dict() == {"progestin insensitivity": 6, "progestin sensitivity": 6}
    assert c["age"].tolist() == ["26", "30", "28", "31", "34", "27", "36", "34", "30", "34", "31", "35"]
    assert (c["tissue"] == "endometrium lesion").all()
    pd.testing.assert_frame_equal(series_clinical(gse201926("gse201926_series_matrix.txt.gz")), c)


def test_series_matrix_synthetic_values_and_characteristics(tmp_path):
    text = series_matrix_text()
    r = read_series_matrix(write(tmp_path / "GSE99999_series_matrix.txt.gz", text))
    assert r.matrix.dtypes.eq(np.float64).all() and r.matrix.index.tolist() == ["1007_s_at", "1053_at", "117_at"]
    expected = np.array([[5.25, 6.5, 7.0], [np.nan, 3.125, np.nan], [-0.15, 2.0, 3.0]])
    np.testing.assert_array_equal(r.matrix.to_numpy(), expected)
    assert all(isinstance(i, str) for i in r.matrix.index) and r.info["empty_table"] is False and r.info["n_rows"] == 3
    c = r.clinical
    # the key moves between lines from sample to sample; values stripped; GEO's missing words are NA
    assert list(c.columns) == ["title", "source_name_ch1", "age", "er status", "characteristics_ch1_3"]
    assert c.loc["GSM1001"].tolist() == ["tumour 1", "breast tumour", "52", "negative", "batch A"]
    assert c.loc["GSM1002"].tolist() == ["tumour 2", "breast tumour", "61", "positive", "batch B"]
    assert c.loc["GSM1003", ["age", "er status", "characteristics_ch1_3"]].isna().all()
    # the same file uncompressed reads the same
    r2 = read_series_matrix(write(tmp_path / "plain_series_matrix.txt", text))
    pd.testing.assert_frame_equal(r2.matrix, r.matrix)
    pd.testing.assert_frame_equal(r2.clinical, r.clinical)


def test_series_matrix_platforms(tmp_path):
    path = write(tmp_path / "mixed_series_matrix.txt", series_matrix_text(platforms=("GPL96", "GPL97", "GPL96")))
    with pytest.raises(
        SeedsigError, match=r"holds samples of 2 platforms \(GPL96, GPL97\); set the cohort sheet's platform column"
    ):
        read_series_matrix(path)
    r = read_series_matrix(path, platform="GPL96")
    assert (
        list(r.matrix.columns) == ["GSM1001", "GSM1003"]
        and list(r.clinical.index) == ["GSM1001", "GSM1003"]
        and r.platform == "GPL96"
    )
    assert (
        r.matrix.index.tolist() == ["1007_s_at", "117_at"] and r.info["rows_without_value_dropped"] == 1
    )  # '1053_at': null in GSM1001, empty in GSM1003
    one = write(tmp_path / "one_series_matrix.txt", series_matrix_text())
    assert read_series_matrix(one, platform="GPL96").platform == "GPL96"
    with pytest.raises(SeedsigError, match="asks for platform GPL570 but the file holds only GPL96"):
        read_series_matrix(one, platform="GPL570")


def test_series_matrix_bad_input(tmp_path):
    good = series_matrix_text()
    # truncated download: the table end is cut off
    cut = good[: good.index('"117_at"')]
    p = write(tmp_path / "cut_series_matrix.txt.gz", cut)
    with pytest.raises(
        SeedsigError,
        match=(
            r"cut_series_matrix\.txt\.gz.*'!series_matrix_table_begin' \(line 13\) has no '!series_matrix_table_end': "
            r"the file is truncated.*Download it again"
        ),
    ):
        read_series_matrix(p)
    # a cut gzip stream
    p = tmp_path / "cutgz_series_matrix.txt.gz"
    p.write_bytes(gzip.compress(good.encode())[:-20])
    with pytest.raises(SeedsigError, match="not a complete gzip file .*download it again"):
        read_series_matrix(p)
    # no table at all
    p = write(tmp_path / "notable_series_matrix.txt", good.split("!series_matrix_table_begin")[0])
    with pytest.raises(SeedsigError, match="no '!series_matrix_table_begin' line"):
        read_series_matrix(p)
    # a row with an extra field: its line number
    bad = good.replace('"1053_at"\tnull\t3.125\t', '"1053_at"\tnull\t3.125\t\t4')
    p = write(tmp_path / "fields_series_matrix.txt", bad)
    with pytest.raises(
        SeedsigError,
        match=(
            rf"fields_series_matrix\.txt': line {table_line(bad, '1053_at')} has 5 tab-separated fields but the header "
            rf".*\(line 14\) has 4"
        ),
    ):
        read_series_matrix(p)
    # a row with a missing field (pandas would fill NaN silently)
    bad = good.replace('"117_at"\t-1.5e-1\t2\t3', '"117_at"\t-1.5e-1\t2')
    with pytest.raises(SeedsigError, match=rf"line {table_line(bad, '117_at')} has 3 tab-separated fields"):
        read_series_matrix(write(tmp_path / "short_series_matrix.txt", bad))
    # duplicated ID_REF: both lines named
    bad = series_matrix_text(rows=['"1007_s_at"\t1\t2\t3', '"117_at"\t1\t2\t3', '"1007_s_at"\t4\t5\t6'])
    with pytest.raises(
        SeedsigError, match=r"ID_REF '1007_s_at' appears 2 times in the series matrix table \(lines 15, 17\)"
    ):
        read_series_matrix(write(tmp_path / "dup_series_matrix.txt", bad))
    # a non-numeric value: line and column
    bad = good.replace("6.5", "6,5")
    with pytest.raises(
        SeedsigError,
        match=rf"line {table_line(bad, '1007_s_at')}, column 'GSM1002' \(row 1007_s_at\) "
        r"has the non-numeric value '6,5'",
    ):
        read_series_matrix(write(tmp_path / "text_series_matrix.txt", bad))
    # fewer rows than !Sample_data_row_count
    bad = series_matrix_text(row_count="4")
    with pytest.raises(
        SeedsigError, match=r"the table has 3 data rows but '!Sample_data_row_count' \(line 12\) says 4"
    ):
        read_series_matrix(write(tmp_path / "count_series_matrix.txt", bad))
    # a header line with another number of sample fields than !Sample_geo_accession
    bad = good.replace('!Sample_title\t"tumour 1"\t"tumour 2"\t"normal 1"', '!Sample_title\t"tumour 1"\t"tumour 2"')
    with pytest.raises(
        SeedsigError, match=r"line 5 \('!Sample_title'\) has 2 sample fields but the file has 3 samples"
    ):
        read_series_matrix(write(tmp_path / "title_series_matrix.txt", bad))
    # a table column that is no sample of the header
    bad = good.replace('"ID_REF"\t"GSM1001"', '"ID_REF"\t"GSM9999"')
    with pytest.raises(SeedsigError, match=r"line 14: table column\(s\) GSM9999 are not in '!Sample_geo_accession'"):
        read_series_matrix(write(tmp_path / "cols_series_matrix.txt", bad))
    with pytest.raises(SeedsigError, match="series matrix '.*absent_series_matrix.txt' does not exist"):
        read_series_matrix(tmp_path / "absent_series_matrix.txt")


# ---------------------------------------------------------------- family SOFT
def test_family_soft_gpl96(family_gpl96):
    r = family_gpl96
    assert r.matrix.shape == (22283, 17) and r.platform == "GPL96" and r.matrix.dtypes.eq(np.float64).all()
    assert (
        r.info["series"] == "GSE781"
        and r.info["platforms_in_file"] == ["GPL96", "GPL97"]
        and r.info["soft_kind"] == "family"
    )
    # values as written in the file: GSM11814 (C035 carcinoma, U133A) '205207_at 98.9 P', '202859_x_at 159.6 P'
    assert r.matrix.loc["205207_at", "GSM11814"] == 98.9 and r.matrix.loc["202859_x_at", "GSM11814"] == 159.6
    assert r.matrix.loc["AFFX-BioB-5_at", "GSM11805"] == 953.9
    # free-text '!Sample_description = Age = 70; Gender = Female; ...' into columns
    c = r.clinical
    assert list(c.index) == list(r.matrix.columns) and c.shape[0] == 17
    assert tuple(c.loc["GSM11805", ["title", "Age", "Gender", "Adjacent Tumor Fuhrman Grade", "description"]]) == (
        "N035 Normal Human Kidney U133A",
        "70",
        "Female",
        "3",
        "Right Kidney",
    )
    assert tuple(c.loc["GSM11814", ["Age", "Gender", "Tumor Fuhrman Grade", "Scaling Factor", "Background"]]) == (
        "70",
        "Female",
        "3",
        "4.44",
        "60.24",
    )
    assert c["Gender"].value_counts().to_dict() == {
        "Male": 12,
        "Female": 5,
    }  # as grep counts them in the file and c["Age"].notna().all()
    assert (
        c.loc["GSM11805", "source_name_ch1"]
        == "Trizol isolation of total RNA from normal tissue adjacent to Renal Cell Carcinoma"
    )
    # the GPL96 platform table as annotation (2009 symbols: IL8; Entrez 3576)
    a = r.annotation.set_index("probe_id")
    assert (
        len(a) == 22283
        and r.annotation.attrs["symbol_column"] == "Gene Symbol"
        and r.annotation.attrs["entrez_column"] == "ENTREZ_GENE_ID"
    )
    assert a.loc["205207_at", "symbol"] == "IL6" and tuple(a.loc["202859_x_at", ["symbol", "entrez_id"]]) == (
        "IL8",
        "3576",
    )
    assert r.annotation.attrs["source"].endswith("GSE781_family.soft.gz (platform GPL96)")


def test_family_soft_gpl97_and_platform_choice(family_gpl97):
    assert family_gpl97.matrix.shape == (22645, 17) and family_gpl97.platform == "GPL97"
    assert family_gpl97.matrix.loc["200000_s_at", "GSM11810"] == 2756.8
    assert not set(family_gpl97.matrix.columns) & set(read_soft(gse781("GSM11805.txt.gz")).matrix.columns)
    with pytest.raises(
        SeedsigError,
        match=(
            r"GSE781_family.soft.gz' holds samples of 2 platforms \(GPL96, GPL97\); set the cohort sheet's platform "
            r"column"
        ),
    ):
        read_soft(gse781("GSE781_family.soft.gz"))
    with pytest.raises(SeedsigError, match="asks for platform GPL570 but the file holds only GPL96, GPL97"):
        read_soft(gse781("GSE781_family.soft.gz"), platform="GPL570")


def test_single_sample_soft():
    r = read_soft(gse781("GSM11805.txt.gz"))
    assert (
        r.matrix.shape == (22283, 1)
        and r.platform == "GPL96"
        and r.annotation is None
        and r.info["soft_kind"] == "sample"
    )
    assert r.matrix.loc["AFFX-BioB-5_at", "GSM11805"] == 953.9 and r.clinical.loc["GSM11805", "Age"] == "70"


def test_gds507_and_family_gpl97_agree(family_gpl97):
    g = read_soft(gse781("GDS507.soft.gz"))
    assert (
        g.matrix.shape == (22645, 17)
        and g.platform == "GPL97"
        and g.info["soft_kind"] == "dataset"
        and g.info["dataset"] == "GDS507"
    )
    assert g.clinical["disease state"].value_counts().to_dict() == {"RCC": 9, "normal": 8}
    assert g.clinical.loc["GSM11815", "disease state"] == "RCC" and g.clinical.loc["GSM11815", "individual"] == "035"
    assert g.clinical.loc["GSM11810", ["disease state", "individual"]].tolist() == ["normal", "035"]  # the patient pair
    assert g.matrix.loc["200000_s_at", "GSM11815"] == 4254.0
    assert g.annotation.set_index("probe_id").loc["200000_s_at", "symbol"] == "PRPF8"
    # the curated GDS holds exactly the GPL97 samples' VALUE columns of the family SOFT (same probes, other row order)
    assert set(g.matrix.columns) == set(family_gpl97.matrix.columns) and set(g.matrix.index) == set(
        family_gpl97.matrix.index
    )
    fam = family_gpl97.matrix.loc[g.matrix.index, g.matrix.columns]
    np.testing.assert_array_equal(fam.to_numpy(), g.matrix.to_numpy())
    with pytest.raises(SeedsigError, match=r"asks for platform GPL96 but \^DATASET GDS507 holds only GPL97"):
        read_soft(gse781("GDS507.soft.gz"), platform="GPL96")


def test_soft_bad_input(tmp_path):
    text = gzip.decompress(gse781("GSE781_family.soft.gz").read_bytes())
    first = text.index(b"^SAMPLE = GSM11805")
    cut = text[: text.index(b"AFFX-HUMISGF3A/M97935_5_at", first)]  # inside GSM11805's table
    (tmp_path / "GSE781_family.soft").write_bytes(cut)
    begin_line = cut[: cut.index(b"!sample_table_begin", first)].count(b"\n") + 1
    with pytest.raises(
        SeedsigError,
        match=(
            rf"table of \^SAMPLE GSM11805 \('!sample_table_begin', line {begin_line}\) has no '!sample_table_end' "
            rf"before the file ends: the file is truncated.*Download it again"
        ),
    ):
        read_soft(tmp_path / "GSE781_family.soft", platform="GPL96")
    # a cut gzip download
    (tmp_path / "cut.soft.gz").write_bytes(gse781("GSE781_family.soft.gz").read_bytes()[:100000])
    with pytest.raises(SeedsigError, match="not a complete gzip file .*download it again"):
        read_soft(tmp_path / "cut.soft.gz")
    # a sample table with a non-numeric VALUE
    small = (
        b"^SAMPLE = GSM1\n!Sample_title = a\n!Sample_platform_id = "
        b"GPL1\n!sample_table_begin\nID_REF\tVALUE\np1\t1.5\np2\thigh\n!sample_table_end\n"
    )
    (tmp_path / "GSM1.soft").write_bytes(small)
    with pytest.raises(
        SeedsigError, match=r"GSM1.soft': line 7, column 'VALUE' \(row p2\) has the non-numeric value 'high'"
    ):
        read_soft(tmp_path / "GSM1.soft")
    # a series matrix given as SOFT
    (tmp_path / "x_series_matrix.txt").write_text(series_matrix_text())
    with pytest.raises(SeedsigError, match="no '\\^SAMPLE' or '\\^DATASET' lines: not a GEO SOFT file"):
        read_soft(tmp_path / "x_series_matrix.txt")


def test_description_and_characteristics_parsing(tmp_path):
    """GEO's free-text forms: 'Key = value; ...' descriptions (with 'Key: value' entries and a sentence-ending '.'),
    repeated keys joined, free text kept in 'description'; ch2 characteristics suffixed; keyless ones numbered."""
    soft = "\n".join(
        [
            "^SAMPLE = GSM1",
            "!Sample_title = t1",
            "!Sample_source_name_ch1 = tumour",
            "!Sample_platform_id = GPL1",
            "!Sample_characteristics_ch1 = grade: 2",
            "!Sample_characteristics_ch1 = Missing",
            "!Sample_characteristics_ch1 = untreated",
            "!Sample_characteristics_ch2 = grade: reference",
            "!Sample_description = Age = 61; Gender = Male; Left Kidney; Tumor Location: upper; Background = 56.96.",
            "!Sample_description = Keywords = kidney",
            "!Sample_description = Keywords = renal",
            "!Sample_description = RNA was extracted (n = 3): see protocol",
            "!sample_table_begin",
            "ID_REF\tVALUE",
            "p1\t1.5",
            "p2\tnull",
            "!sample_table_end",
            "",
        ]
    )
    r = read_soft(write(tmp_path / "GSM1.soft", soft))
    c = r.clinical.loc["GSM1"]
    assert c["grade"] == "2" and c["grade_ch2"] == "reference" and c["characteristics_ch1_3"] == "untreated"
    assert pd.isna(c["characteristics_ch1_2"])  # 'Missing' is a missing value
    assert (c["Age"], c["Gender"], c["Tumor Location"], c["Background"], c["Keywords"]) == (
        "61",
        "Male",
        "upper",
        "56.96",
        "kidney; renal",
    )
    assert c["description"] == "Left Kidney; RNA was extracted (n = 3): see protocol"
    assert r.matrix["GSM1"].tolist()[0] == 1.5 and np.isnan(r.matrix.loc["p2", "GSM1"])


# ---------------------------------------------------------------- NCBI counts
def test_ncbi_counts(tmp_path):
    r = read_ncbi_counts(gse201926("gse201926_raw_counts.tsv.gz"))
    assert r.matrix.shape == (39376, 12) and r.info["id_type"] == "entrez" and r.info["integer_counts"] is True
    assert r.matrix.loc["3576", "GSM6081174"] == 1965 and r.matrix.dtypes.eq(np.float64).all()
    assert list(r.matrix.columns) == list(
        read_series_matrix(gse201926("gse201926_series_matrix.txt.gz")).matrix.columns
    )
    assert read_ncbi_counts(gse201926("gse201926_tpm_counts.tsv.gz")).info["integer_counts"] is False
    (tmp_path / "counts.tsv").write_text("gene\tGSM1\nA\t1\n")
    with pytest.raises(SeedsigError, match="counts.tsv': line 1 starts with 'gene', expected 'GeneID'"):
        read_ncbi_counts(tmp_path / "counts.tsv")


# ---------------------------------------------------------------- agreement with GEOparse
@pytest.mark.slow  # GEOparse takes ~3 s to parse the file
def test_agrees_with_geoparse_on_gse781(family_gpl96, family_gpl97):
    GEOparse = pytest.importorskip("GEOparse")
    gse = GEOparse.get_GEO(filepath=str(gse781("GSE781_family.soft.gz")), silent=True)
    ours = family_gpl96
    pivot_all = gse.pivot_samples("VALUE")  # all 34 samples, outer join on ID_REF
    for r, gpl in [(ours, "GPL96"), (family_gpl97, "GPL97")]:
        theirs_samples = [n for n, s in gse.gsms.items() if s.metadata["platform_id"] == [gpl]]
        assert list(r.matrix.columns) == theirs_samples
        pivot = pivot_all.loc[r.matrix.index, theirs_samples]
        np.testing.assert_array_equal(pivot.to_numpy(dtype=float), r.matrix.to_numpy())
        for gsm in theirs_samples:
            meta = gse.gsms[gsm].metadata
            assert (
                r.clinical.loc[gsm, "title"] == meta["title"][0]
                and r.clinical.loc[gsm, "source_name_ch1"] == meta["source_name_ch1"][0]
            )
            assert "characteristics_ch1" not in meta  # a 2003 submission: the annotation is in the description
            line = next((d for d in meta["description"] if d.startswith("Age = ")), None)
            if line is None:  # GSM11810's description is its title and keywords alone
                assert gsm == "GSM11810" and r.clinical.loc[gsm, ["Age", "Gender"]].isna().all()
                assert r.clinical.loc[gsm, "description"] == meta["description"][0] == "N035 Normal Human Kidney U133B"
                continue
            first = dict(
                re.match(r"\s*(.+?)\s*=\s*(.+?)\s*$", part).groups() for part in line.split(";") if "=" in part
            )
            assert r.clinical.loc[gsm, "Age"] == first["Age"] and r.clinical.loc[gsm, "Gender"] == first["Gender"]
            assert r.clinical.loc[gsm, "Scaling Factor"] == first["Scaling Factor"]
    ann = gse.gpls["GPL96"].table.set_index("ID")
    a = ours.annotation.set_index("probe_id")
    assert list(a.index) == list(ann.index)
    assert (a["symbol"] == ann["Gene Symbol"].fillna("").str.strip()).all()
