"""Signature files: the shipped ones, user TSV/GMT files, and clear errors for bad files."""

from pathlib import Path

import pytest

from seedsig.errors import SeedsigError
from seedsig.signatures import load_signatures, read_signature_file

REPO = Path(__file__).resolve().parents[1]
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
    for sig, old, new in [(bone, "WHSC1", "NSD2"), (bone, "CSDA", "YBX3"), (lung, "DARC", "ACKR1"), (lung, "CTSL2", "CTSV")]:
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
    f.write_text("MYSIG_UP\tdesc\tIL6\tIL8\nMYSIG_DN\tdesc\tESR1\nOTHER\tmy set\tMMP1\tFSCN1\t\nB_up\td\tIL6\nB_DOWN\td\tCTGF\n\n")
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
