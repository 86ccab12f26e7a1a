"""Signature files: the shipped ones, user TSV/GMT files, and clear errors for bad files."""

import re

import numpy as np
import pandas as pd
import pytest
from conftest import REPO

from seedsig.core.errors import SeedsigError
from seedsig.scoring.methods import coverage_table, score
from seedsig.scoring.signatures import load_signatures, read_signature_file

SIGNATURE_DIR = REPO / "config" / "signatures"
SHIPPED = sorted(SIGNATURE_DIR.glob("*.tsv"))

# name -> (n genes, n up, n down, organ, complete); one gene per row of the shipped files: nothing is dropped
EXPECTED = {
    "SS": (4, 4, 0, "self-seeding", True),
    "SS_attraction": (2, 2, 0, "self-seeding", True),
    "SS_infiltration": (2, 2, 0, "self-seeding", True),
    "LMS": (14, 14, 0, "lung", False),
    "BoMS": (2, 2, 0, "bone", False),
    "BrMS": (3, 3, 0, "brain", False),
    "SMID_RELAPSE_LUNG": (58, 21, 37, "lung", True),
    "SMID_RELAPSE_BONE": (412, 97, 315, "bone", True),
    "SMID_RELAPSE_BRAIN": (124, 39, 85, "brain", True),
    "SMID_RELAPSE_LIVER": (16, 6, 10, "liver", True),
    "SMID_RELAPSE_PLEURA": (33, 6, 27, "pleura", True),
    "LANDEMAINE_LUNG_METASTASIS": (21, 21, 0, "lung", True),
    "TAVAZOIE_METASTASIS": (108, 108, 0, "metastasis", True),
}


@pytest.fixture(scope="module")
def shipped():
    return {s.name: s for s in load_signatures(SHIPPED)}


def test_shipped_files_present():
    assert [p.name for p in SHIPPED] == ["msigdb_metastasis.tsv", "organ_metastasis.tsv", "self_seeding.tsv"]


def test_shipped_signature_names_and_sizes(shipped):
    assert set(shipped) == set(EXPECTED)
    got = {n: (s.size, len(s.up), len(s.down), s.organ, s.complete) for n, s in shipped.items()}
    assert got == EXPECTED
    assert all(s.citation and s.source.endswith(".tsv") for s in shipped.values())


def test_self_seeding_signature(shipped):
    ss = shipped["SS"]
    assert set(ss.genes) == {"IL6", "CXCL8", "FSCN1", "MMP1"} and ss.directions == (1, 1, 1, 1) and not ss.signed
    assert set(ss.resolution) == {"approved"} and ss.weights is None and "Kim MY" in ss.citation
    assert shipped["SS_attraction"].genes == ("IL6", "CXCL8")
    assert set(shipped["SS_infiltration"].genes) == {"FSCN1", "MMP1"}
    assert "CCN2" in shipped["BoMS"].genes and "PTGS2" in shipped["BrMS"].genes


def test_msigdb_outdated_symbols_resolved(shipped):
    lung, bone = shipped["SMID_RELAPSE_LUNG"], shipped["SMID_RELAPSE_BONE"]
    assert lung.signed and "ACKR1" in lung.down and "ACKR1" not in lung.up
    for sig, old, new in [
        (bone, "WHSC1", "NSD2"),
        (bone, "CSDA", "YBX3"),
        (lung, "DARC", "ACKR1"),
        (lung, "CTSL2", "CTSV"),
    ]:
        i = sig.genes.index(new)
        assert sig.original_genes[i] == old and sig.resolution[i] == "previous"
    all_genes = {g for s in shipped.values() for g in s.genes}
    assert not {"WHSC1", "CSDA", "DARC", "IL8", "CTGF", "COX2"} & all_genes


def test_unresolvable_genes_kept_and_reported(shipped):
    unresolved = {n: s.unresolved() for n, s in shipped.items() if s.unresolved()}
    assert unresolved == {
        "SMID_RELAPSE_BONE": ["PP14571", "LOC652493", "LOC100505650"],
        "SMID_RELAPSE_BRAIN": ["PP14571"],
        "TAVAZOIE_METASTASIS": ["LOC100287602", "LOC100289109"],
    }
    assert all(g in shipped[n].genes for n, genes in unresolved.items() for g in genes)


def test_gmt_up_dn_merged(tmp_path):
    f = tmp_path / "x.gmt"
    f.write_text(
        "MYSIG_UP\tdesc\tIL6\tIL8\nMYSIG_DN\tdesc\tESR1\nOTHER\tmy set\tMMP1\tFSCN1\t\n"
        "B_up\td\tIL6\nB_DOWN\td\tCTGF\n\n"
    )
    sigs = {s.name: s for s in read_signature_file(f)}
    assert set(sigs) == {"MYSIG", "OTHER", "B"}
    assert sigs["MYSIG"].up == ["IL6", "CXCL8"] and sigs["MYSIG"].down == ["ESR1"] and sigs["MYSIG"].signed
    assert sigs["MYSIG"].original_genes == ("IL6", "IL8", "ESR1")
    assert sigs["OTHER"].up == ["MMP1", "FSCN1"] and not sigs["OTHER"].signed and sigs["OTHER"].citation == "my set"
    assert sigs["B"].up == ["IL6"] and sigs["B"].down == ["CCN2"]


def test_user_tsv(tmp_path):
    f = tmp_path / "mine.tsv"
    f.write_text(
        "signature\tgene\tdirection\tweight\torgan\tcomplete\n"
        "organ_x\tIL6\tup\t2\tliver\tyes\norgan_x\tCTGF\tdown\t0.5\tliver\tyes\norgan_x\tFSCN1\t-1\t1\tliver\tyes\n"
        "organ_y\tMMP1\t\t\t\t\norgan_y\tCOX2\tNA\t\t\t\n"
    )
    x, y = read_signature_file(f)
    assert x.name == "organ_x" and x.up == ["IL6"] and x.down == ["CCN2", "FSCN1"] and x.weights == (2.0, 0.5, 1.0)
    assert x.original_genes == ("IL6", "CTGF", "FSCN1") and x.organ == "liver" and x.complete is True
    assert y.up == ["MMP1", "COX2"] and y.weights is None and y.organ == "NA" and y.complete is None
    assert y.unresolved() == ["COX2"]  # ambiguous (PTGS2 or MT-CO2): kept as given, reported


def test_two_old_names_of_one_gene_kept_once(tmp_path):
    f = tmp_path / "dupgene.tsv"
    f.write_text("signature\tgene\nX\tIL8\nX\tCXCL8\nX\tIL6\n")
    (s,) = read_signature_file(f)
    assert s.genes == ("CXCL8", "IL6") and s.original_genes == ("IL8", "IL6")


@pytest.mark.parametrize(
    "name,content,needle",
    [
        ("bad.tsv", "name\tsymbol\nX\tIL6\n", "lacks the column\\(s\\) signature, gene"),
        ("bad.tsv", "signature\tgene\tdirection\nX\tIL6\tsideways\n", "line 2: direction 'sideways'"),
        ("bad.tsv", "signature\tgene\tdirection\nX\tIL6\tup\nX\tIL6\tdown\n", "gene 'IL6' is listed both up and down"),
        ("bad.tsv", "signature\tgene\tweight\nX\tIL6\tabc\n", "weight 'abc' is not a number"),
        ("bad.tsv", "signature\tgene\tweight\nX\tIL6\t1\nX\tMMP1\t\n", "some genes have a weight and others not"),
        ("bad.tsv", "signature\tgene\tcomplete\nX\tIL6\tmaybe\n", "complete 'maybe' is not true or false"),
        ("bad.tsv", "signature\tgene\nX\t\n", "line 2: empty signature name or gene"),
        ("bad.tsv", "signature\tgene\n", "has no gene rows"),
        ("bad.tsv", "", "cannot be parsed"),
        ("bad.tsv", "signature\tgene\nX\tIL6\nX\tIL6\tup\textra\n", "cannot be parsed as a tab-separated table"),
        ("bad.gmt", "X_UP\tdesc\tIL6\nX_DN\tdesc\tIL6\n", "gene 'IL6' is listed both up and down"),
        ("bad.gmt", "X_UP\tIL6\n", "line 1: a GMT line needs a set name"),
        ("bad.gmt", "\n\n", "holds no gene set"),
    ],
)
def test_bad_signature_files(tmp_path, name, content, needle):
    f = tmp_path / name
    f.write_text(content)
    with pytest.raises(SeedsigError, match=needle) as exc:
        read_signature_file(f)
    assert f"'{f}'" in str(exc.value)


@pytest.mark.parametrize("name", ["binary.tsv", "binary.gmt"])
def test_unparseable_binary_file(tmp_path, name):
    f = tmp_path / name
    f.write_bytes(b"\x1f\x8b\x08\x00\xff\xfe\x00\x00\xc3\x28\xa0\xa1" * 50)
    with pytest.raises(SeedsigError) as exc:
        read_signature_file(f)
    assert str(f) in str(exc.value)


def test_missing_file(tmp_path):
    with pytest.raises(SeedsigError, match="does not exist"):
        load_signatures([tmp_path / "nope.tsv"])


def test_duplicate_names_across_files(tmp_path):
    f = tmp_path / "dup.tsv"
    f.write_text("signature\tgene\nSS\tIL6\n")
    ss_file = SIGNATURE_DIR / "self_seeding.tsv"
    with pytest.raises(SeedsigError, match="signature 'SS' is defined twice") as exc:
        load_signatures([ss_file, f])
    assert str(ss_file) in str(exc.value) and str(f) in str(exc.value)


def test_conflict_after_resolution_is_an_error(tmp_path):
    f = tmp_path / "conflict.tsv"
    f.write_text("signature\tgene\tdirection\nX\tIL8\tup\nX\tCXCL8\tdown\n")
    with pytest.raises(SeedsigError, match="both up and down"):
        read_signature_file(f)


# --- a GMT set keeps the user's name unless both halves of X_UP / X_DN are in the file (issue 14, item 6) ---
SMID_LUNG_UP = "SMID_BREAST_CANCER_RELAPSE_IN_LUNG_UP"
LONE_GMT = (
    f"{SMID_LUNG_UP}\thttp://www.gsea-msigdb.org\tIL6\tIL8\tFSCN1\n"
    "LONE_SET_DN\tdesc\tESR1\tGAPDH\n"
    "PAIR_UP\td\tMMP1\nPAIR_DOWN\td\tACTB\n"
)


def test_gmt_lone_halves_keep_their_names(tmp_path):
    f = tmp_path / "msigdb.gmt"
    f.write_text(LONE_GMT)
    sigs = {s.name: s for s in read_signature_file(f)}
    assert list(sigs) == [SMID_LUNG_UP, "LONE_SET_DN", "PAIR"]
    lung, lone_dn, pair = sigs[SMID_LUNG_UP], sigs["LONE_SET_DN"], sigs["PAIR"]
    assert lung.genes == ("IL6", "CXCL8", "FSCN1") and lung.directions == (1, 1, 1) and lung.merged_from == ()
    # a lone DN set is a set of its own: its genes are the set, scored up (high score = those genes high)
    assert lone_dn.genes == ("ESR1", "GAPDH") and lone_dn.directions == (1, 1) and not lone_dn.signed
    assert pair.up == ["MMP1"] and pair.down == ["ACTB"] and pair.merged_from == ("PAIR_UP", "PAIR_DOWN")
    meta = {m["name"]: m for m in (s.metadata() for s in sigs.values())}
    assert meta["PAIR"]["merged_from"] == ["PAIR_UP", "PAIR_DOWN"] and meta[SMID_LUNG_UP]["merged_from"] == []
    assert (meta["LONE_SET_DN"]["n_up"], meta["LONE_SET_DN"]["n_down"]) == (2, 0)


def test_halves_of_different_bases_are_not_merged(tmp_path):
    f = tmp_path / "two.gmt"
    f.write_text("A_UP\td\tIL6\nB_DN\td\tESR1\nc_UP\td\tMMP1\nC_DN\td\tACTB\n")
    sigs = {s.name: s for s in read_signature_file(f)}
    assert list(sigs) == ["A_UP", "B_DN", "c_UP", "C_DN"]  # the base is compared as written: c != C
    assert all(not s.signed for s in sigs.values())


def test_tsv_never_merges_or_renames(tmp_path):
    f = tmp_path / "halves.tsv"
    f.write_text("signature\tgene\tdirection\nX_UP\tIL6\tup\nX_DN\tESR1\tNA\n")
    sigs = {s.name: s for s in read_signature_file(f)}
    assert list(sigs) == ["X_UP", "X_DN"] and sigs["X_DN"].directions == (1,)


@pytest.mark.parametrize(
    "content,needle",
    [
        ("X_UP\td\tIL6\nX_UP\td\tMMP1\n", "line 2: set 'X_UP' is already defined on line 1"),
        (
            "X\td\tIL6\nX_UP\td\tMMP1\nX_DN\td\tESR1\n",
            "line 1: set 'X' has the name of the signed set merged from X_UP + X_DN.",
        ),
    ],
)
def test_gmt_name_clashes_are_errors(tmp_path, content, needle):
    f = tmp_path / "clash.gmt"
    f.write_text(content)
    with pytest.raises(SeedsigError, match=re.escape(needle)) as exc:
        read_signature_file(f)
    assert f"'{f}'" in str(exc.value)


def test_lone_up_set_keeps_its_name_in_scores_and_coverage(tmp_path):
    f = tmp_path / "msigdb.gmt"
    f.write_text(LONE_GMT)
    sigs = read_signature_file(f)
    genes = ["IL6", "IL8", "FSCN1", "ESR1", "GAPDH", "MMP1", "ACTB", "TNC", "ID1", "HBEGF"]
    rng = np.random.default_rng(3)
    expr = pd.DataFrame(rng.normal(5, 1, size=(len(genes), 8)), index=genes, columns=[f"S{i}" for i in range(8)])
    symbols = [{"IL8": "CXCL8"}.get(g, g) for g in genes]
    res = score(expr, sigs, "zscore", row_symbols=symbols, min_genes=1, min_fraction=0.5)
    assert list(res.scores.columns) == [SMID_LUNG_UP, "LONE_SET_DN", "PAIR"]
    # the lone DN set scores its genes up: sum of the z of ESR1 and GAPDH / sqrt(2), not minus that
    z = expr.sub(expr.mean(axis=1), axis=0).div(expr.std(axis=1, ddof=1), axis=0)
    assert np.allclose(res.scores["LONE_SET_DN"], z.loc[["ESR1", "GAPDH"]].sum() / np.sqrt(2), atol=1e-12)
    assert np.allclose(res.scores["PAIR"], z.loc["MMP1"] - z.loc["ACTB"], atol=1e-12)
    cov = coverage_table(expr, sigs, row_symbols=symbols, min_genes=1)
    assert cov["signature"].tolist() == [SMID_LUNG_UP, "LONE_SET_DN", "PAIR"]
    assert cov.set_index("signature").loc[SMID_LUNG_UP, "n_present"] == 3


def test_unresolved_reading_gives_the_names_and_directions_of_the_resolved_one(tmp_path):
    """What a cluster job's Snakemake process reads (resolve=False): the same signatures by name, direction sets and
    weights; the genes as written (CTSL2 stays CTSL2), no resolution status; the same file errors."""
    import yaml

    files = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["signatures"]["files"]
    files = [REPO / f for f in files]
    resolved, raw = load_signatures(files), load_signatures(files, resolve=False)
    assert [s.name for s in raw] == [s.name for s in resolved] and len(raw) > 5
    assert [(s.signed, s.weights is None, s.organ) for s in raw] == [
        (s.signed, s.weights is None, s.organ) for s in resolved
    ]
    lung = {s.name: s for s in raw}["SMID_RELAPSE_LUNG"]
    assert "CTSL2" in lung.genes and set(lung.resolution) == {""}
    assert "CTSV" in {s.name: s for s in resolved}["SMID_RELAPSE_LUNG"].genes
    bad = tmp_path / "bad.gmt"
    bad.write_text("A\tdesc\tIL6\nA\tdesc\tMMP1\n")
    for resolve in (True, False):
        with pytest.raises(SeedsigError, match="already defined on line 1"):
            load_signatures(bad, resolve=resolve)
