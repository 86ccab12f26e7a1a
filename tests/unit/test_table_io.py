"""Tables at the I/O floor: read_matrix's pyarrow path gives pandas' table and messages; write_table's own formatter
gives to_csv's bytes."""

import gzip
import random

import numpy as np
import pandas as pd
import pytest
from conftest import shared_file

import seedsig.core.tables as tables
from seedsig.core.errors import SeedsigError
from seedsig.core.tables import read_matrix, write_table


def _read(path, *, pandas_only: bool, monkeypatch, **kw):
    """read_matrix's frame or its message, through pyarrow (and pandas where pyarrow cannot) or pandas alone;
    also whether pyarrow's table was used."""
    used = {}
    arrow = tables._parse_matrix_arrow

    def spy(*a, **k):
        out = None if pandas_only else arrow(*a, **k)
        used["arrow"] = out is not None
        return out

    monkeypatch.setattr(tables, "_parse_matrix_arrow", spy)
    try:
        return read_matrix(path, **kw), used.get("arrow", False)
    except SeedsigError as exc:
        return str(exc), used.get("arrow", False)
    finally:
        monkeypatch.setattr(tables, "_parse_matrix_arrow", arrow)


def _same(a, b) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return (
        a.index.equals(b.index)
        and a.index.name == b.index.name
        and list(a.columns) == list(b.columns)
        and a.dtypes.eq(np.float64).all()
        and np.array_equal(a.to_numpy(), b.to_numpy(), equal_nan=True)
        and np.array_equal(np.signbit(a.to_numpy()), np.signbit(b.to_numpy()))
    )


GOOD = {  # tables pyarrow reads (the fast path), each the same as pandas' reading
    "plain.tsv": "gene\ts1\ts2\nTP53\t1.5\t-2\nIL6\tNA\t3.25e2\nMMP1\t\t0.001\n",
    "csv.csv": 'gene,s1,s2\n"CXCL8",1,2\n"FSCN1",NaN,nan\n',
    "crlf_bom.tsv": "\ufeffgene\ts1\ts2\r\nTP53\t1\t2\r\nIL6\t3\t4\r\n",
    "r_style.tsv": "s1\ts2\nTP53\t1\t2\nIL6\t3\t4\n",
    "quoted.tsv": 'gene\t"s 1"\ts2\n"A B"\t1\t2\n"X""Y"\t"3"\t4\nG\t5\t6\n',
    "blank_line.tsv": "gene\ts1\ts2\nTP53\t1\t2\n\nIL6\t3\t4\n",
    "ints.tsv": "gene\ts1\ts2\nTP53\t1\t2\nIL6\t3\t4\n",
}
BAD = {  # pandas reads these (pyarrow fails, or would read them differently): the same table or message
    "text_value.tsv": "gene\ts1\ts2\nTP53\t1\tabc\n",
    "nan_word.tsv": "gene\ts1\ts2\nTP53\t1\tNAN\n",
    "inf.tsv": "gene\ts1\ts2\nTP53\t1\tinf\n",
    "overflow.tsv": "gene\ts1\ts2\nTP53\t1\t1e400\n",
    "huge_int.tsv": "gene\ts1\ts2\nTP53\t1\t99999999999999999999\n",
    "minus_zero.tsv": "gene\ts1\ts2\nTP53\t-0\t2\nIL6\t0\t1\n",
    "bool.tsv": "gene\ts1\ts2\nTP53\tTRUE\t1\n",
    "short_row.tsv": "gene\ts1\ts2\nTP53\t1\nIL6\t3\t4\n",
    "long_row.tsv": "gene\ts1\ts2\nTP53\t1\t2\nIL6\t3\t4\t5\n",
    "na_id.tsv": "gene\ts1\ts2\nNA\t1\t2\nIL6\t3\t4\n",
    "empty_id.tsv": "gene\ts1\ts2\n\t1\t2\nIL6\t3\t4\n",
    "dup_sample.tsv": "gene\ts1\ts1\nTP53\t1\t2\n",
    "header_only.tsv": "gene\ts1\ts2\n",
    "trailing_tab.tsv": "gene\ts1\ts2\t\nTP53\t1\t2\t\n",
    "comma_decimal.tsv": "gene\ts1\ts2\nTP53\t1,5\t2\n",
    "one_column.tsv": "gene\nTP53\n",
}


@pytest.mark.parametrize("name", sorted(GOOD))
@pytest.mark.parametrize("gz", [False, True])
def test_reader_pyarrow_path_equals_pandas(tmp_path, monkeypatch, name, gz):
    raw = GOOD[name].encode()
    p = tmp_path / name  # gzip judged by content: a gzipped file keeps its plain name
    p.write_bytes(gzip.compress(raw, mtime=0) if gz else raw)
    got, used = _read(p, pandas_only=False, monkeypatch=monkeypatch)
    ref, _ = _read(p, pandas_only=True, monkeypatch=monkeypatch)
    assert used, "pyarrow should read this table"
    assert not isinstance(got, str), got
    assert _same(got, ref)
    assert all(isinstance(i, str) for i in got.index) and got.index.name == "gene_id"


@pytest.mark.parametrize("name", sorted(BAD))
def test_reader_falls_back_to_pandas_with_the_same_result(tmp_path, monkeypatch, name):
    p = tmp_path / name
    p.write_text(BAD[name])
    got, used = _read(p, pandas_only=False, monkeypatch=monkeypatch)
    ref, _ = _read(p, pandas_only=True, monkeypatch=monkeypatch)
    assert not used
    assert _same(got, ref), (got, ref)


def test_reader_checks_after_pyarrow_same_messages(tmp_path, monkeypatch):
    p = tmp_path / "dup.tsv"
    p.write_text("gene\ts1\ts2\nTP53\t1\t2\nTP53\t3\t4\n")
    got, used = _read(p, pandas_only=False, monkeypatch=monkeypatch)
    ref, _ = _read(p, pandas_only=True, monkeypatch=monkeypatch)
    assert used and got == ref and "duplicated gene id(s) in the first column: TP53" in got


def test_reader_corrupt_inputs_same_messages(tmp_path, monkeypatch):
    body = ("gene\ts1\ts2\n" + "".join(f"G{i}\t{i}.5\t{i}\n" for i in range(3000))).encode()
    cut = tmp_path / "cut.tsv.gz"
    cut.write_bytes(gzip.compress(body)[:2000])
    latin = tmp_path / "latin.tsv"
    latin.write_bytes(b"gene\ts1\ts2\nG\xe9ne\t1\t2\n")
    for p in (cut, latin):
        got, _ = _read(p, pandas_only=False, monkeypatch=monkeypatch)
        ref, _ = _read(p, pandas_only=True, monkeypatch=monkeypatch)
        assert isinstance(got, str) and got == ref


def test_reader_skip_lines_and_annotation_columns(tmp_path, monkeypatch):
    p = tmp_path / "fc.tsv"
    p.write_text(
        '# Program:featureCounts v2; Command:"featureCounts" "-a"\n'
        "Geneid\tChr\tStart\tEnd\tStrand\tLength\ta.bam\tb.bam\n"
        "ENSG1\tchr1\t1\t10\t+\t10\t5\t0\nENSG2\tchr2\t3\t30\t-\t28\t7\t1\n"
    )
    got, used = _read(p, pandas_only=False, monkeypatch=monkeypatch, skip_lines=1, skip_columns=5)
    ref, _ = _read(p, pandas_only=True, monkeypatch=monkeypatch, skip_lines=1, skip_columns=5)
    assert used and _same(got, ref)
    assert list(got.columns) == ["a.bam", "b.bam"] and got.loc["ENSG2", "b.bam"] == 1.0


def test_reader_ids_of_an_r_style_header_stay_strings(tmp_path, monkeypatch):
    """A declared improvement: pandas read the ids of a header one field short as numbers (001 -> 1)."""
    p = tmp_path / "r.tsv"
    p.write_text("s1\ts2\n001\t1\t2\n1.0\t3\t4\n")
    got, used = _read(p, pandas_only=False, monkeypatch=monkeypatch)
    assert used and list(got.index) == ["001", "1.0"]


def test_reader_random_tables_equal_pandas(tmp_path, monkeypatch):
    rng = random.Random(3)
    tokens = ["1.5", "-2", "", "NA", "NaN", "nan", "7e-3", '"4"', "abc", "inf", "-0", "TRUE", "1e400"]
    for k in range(60):
        rows = [
            "\t".join(
                [f"G{i}", *(rng.choice(tokens) if rng.random() < 0.15 else f"{rng.gauss(5, 2):.10g}" for _ in "abc")]
            )
            for i in range(rng.randint(1, 8))
        ]
        p = tmp_path / f"r{k}.tsv"
        p.write_text("gene\ta\tb\tc\n" + "\n".join(rows) + "\n")
        got, _ = _read(p, pandas_only=False, monkeypatch=monkeypatch)
        ref, _ = _read(p, pandas_only=True, monkeypatch=monkeypatch)
        assert _same(got, ref), p.read_text()


@pytest.mark.parametrize("fmt", ["%.10g", "%.12g", "%.17g"])
def test_reader_doubles_are_correctly_rounded(tmp_path, fmt):
    """pyarrow parses every decimal to the nearest double (Python's float()); pandas' default parser may be off by
    an ulp for 15+ significant digits or large exponents: the declared rounding change of the faster reader."""
    rng = np.random.default_rng(5)
    vals = np.concatenate([rng.normal(6, 3, 2000), np.exp(rng.normal(0, 12, 2000))]).reshape(-1, 4)
    text = ["gene\ta\tb\tc\td"] + ["\t".join([f"G{i}", *(fmt % v for v in row)]) for i, row in enumerate(vals)]
    p = tmp_path / "x.tsv"
    p.write_text("\n".join(text) + "\n")
    got = read_matrix(p).to_numpy()
    exact = np.array([[float(fmt % v) for v in row] for row in vals])
    assert np.array_equal(got, exact)


@pytest.mark.parametrize(
    "name",
    [
        "genefu_vdxs_subset/expression.tsv.gz",
        "nki70_penalized/expression.tsv.gz",
        "gse2034_emc_wang2005/gse2034_552probe_subset_springer-surv.tsv.gz",
        "gtex_lung_chr21_rnanorm/gtex_lung.first30.chr21.csv.gz",
    ],
)
def test_reader_real_matrices_equal_pandas(monkeypatch, name):
    p = shared_file(name)
    got, used = _read(p, pandas_only=False, monkeypatch=monkeypatch)
    ref, _ = _read(p, pandas_only=True, monkeypatch=monkeypatch)
    assert used and _same(got, ref)


def test_reader_threads_do_not_change_the_table(tmp_path):
    rng = np.random.default_rng(1)
    df = pd.DataFrame(rng.normal(size=(3000, 40)), index=[f"G{i}" for i in range(3000)]).add_prefix("s")
    p = tmp_path / "x.tsv"
    df.to_csv(p, sep="\t", float_format="%.12g")
    one, two = read_matrix(p, threads=1), read_matrix(p, threads=2)
    pd.testing.assert_frame_equal(one, two, check_exact=True)


# ----------------------------------------------------------------------------------------------- writer
AWKWARD = [np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-300, 5e-324, 1e300, 3.0, -2.0, 1e16, 123456789012.5, 1 / 3, 2.5e-7]
IDS = ["TP53", "with space", 'q"uote', "tab\there", "new\nline", "", "NA", "comma,x", "é", "cr\rx", " lead"]


def _frame(rng: np.random.Generator, n: int) -> pd.DataFrame:
    vals = rng.normal(0, 10.0 ** rng.integers(-8, 9, size=(n, 4)))
    mask = rng.random(vals.shape) < 0.3
    vals[mask] = rng.choice(AWKWARD, size=int(mask.sum()))
    df = pd.DataFrame(vals, columns=["s 1", 'q"2', "s3", "s4"])
    df.insert(0, "gene_id", [IDS[i % len(IDS)] + str(i // len(IDS)) if i % 3 else IDS[i % len(IDS)] for i in range(n)])
    df["n"] = rng.integers(-(10**12), 10**12, size=n)
    df["flag"] = rng.random(n) < 0.5
    df["note"] = pd.Series([None if i % 4 == 0 else IDS[i % len(IDS)] for i in range(n)], dtype=object)
    return df


@pytest.mark.parametrize("fmt", ["%.10g", "%.12g", "%.17g", "%.3f"])
@pytest.mark.parametrize("gz", [False, True])
def test_writer_bytes_equal_to_csv(tmp_path, fmt, gz):
    df = _frame(np.random.default_rng(len(fmt) + gz), 300)
    assert tables._fast_text(df, "\t", fmt, "NA") is not None  # the fast writer, not to_csv
    p = tmp_path / f"t.tsv{'.gz' if gz else ''}"
    write_table(df, p, float_format=fmt)
    got = gzip.decompress(p.read_bytes()) if gz else p.read_bytes()
    assert got == df.to_csv(sep="\t", index=False, na_rep="NA", float_format=fmt).encode()
    if gz:
        assert p.read_bytes()[4:8] == b"\0\0\0\0"  # gzip mtime 0, as before


def test_writer_matrix_and_unsupported_tables(tmp_path):
    rng = np.random.default_rng(2)
    m = pd.DataFrame(rng.normal(6, 2, size=(5000, 30)), columns=[f"S{j}" for j in range(30)])
    m.insert(0, "gene_id", [f"G{i}" for i in range(5000)])
    m.iloc[7, 3] = np.nan
    write_table(m, tmp_path / "m.tsv", float_format="%.12g")
    assert (tmp_path / "m.tsv").read_bytes() == m.to_csv(
        sep="\t", index=False, na_rep="NA", float_format="%.12g"
    ).encode()
    odd = pd.DataFrame({"a": pd.array([1, None], dtype="Int64"), "b": [0.5, 1.5], "c": [1, "x"]})
    assert tables._fast_text(odd, "\t", "%.10g", "NA") is None  # left to to_csv
    write_table(odd, tmp_path / "odd.tsv")
    assert (tmp_path / "odd.tsv").read_text() == odd.to_csv(sep="\t", index=False, na_rep="NA", float_format="%.10g")


def test_hgnc_table_read_by_pyarrow_equals_pandas():
    from importlib import resources

    from seedsig.ingest.hgnc import hgnc_table

    with resources.files("seedsig").joinpath("data/hgnc_compact.tsv.gz").open("rb") as fh:
        ref = pd.read_csv(fh, sep="\t", dtype=str, keep_default_na=False, compression="gzip")
    pd.testing.assert_frame_equal(hgnc_table(), ref)
