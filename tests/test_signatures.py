"""Signature files: the shipped ones, user TSV/GMT files, and clear errors for bad files."""

import pytest

from seedsig.errors import SeedsigError
from seedsig.signatures import load_signatures, read_signature_file

from conftest import REPO

SHIPPED = [REPO / "config" / "signatures" / f for f in ("self_seeding.tsv", "organ_metastasis.tsv", "msigdb_metastasis.tsv")]


def test_shipped_signatures():
    sigs = {s.name: s for s in load_signatures(SHIPPED)}
    assert set(sigs["SS"].genes) == {"IL6", "CXCL8", "FSCN1", "MMP1"} and sigs["SS"].complete is True
    assert sigs["SS_attraction"].genes == ("IL6", "CXCL8") and set(sigs["SS_infiltration"].genes) == {"FSCN1", "MMP1"}
    for name in ("LMS", "BoMS", "BrMS"):
        assert sigs[name].complete is False
    assert "CCN2" in sigs["BoMS"].genes and sigs["BrMS"].organ == "brain"
    lung = sigs["SMID_RELAPSE_LUNG"]
    assert (len(lung.up), len(lung.down)) == (21, 37) and lung.signed
    bone = sigs["SMID_RELAPSE_BONE"]
    assert {"NSD2", "YBX3"} <= set(bone.genes) and "ACKR1" in lung.genes
    all_genes = {g for s in sigs.values() for g in s.genes}
    assert not {"WHSC1", "CSDA", "DARC"} & all_genes  # outdated symbols resolved
    unresolved = [g for s in sigs.values() for g in s.unresolved()]
    assert unresolved and all(g.startswith(("LOC", "PP")) for g in unresolved)  # kept and reported, not dropped
    assert all(s.citation for s in sigs.values())


def test_gmt_up_dn_merged(tmp_path):
    f = tmp_path / "x.gmt"
    f.write_text("MYSIG_UP\tdesc\tIL6\tIL8\nMYSIG_DN\tdesc\tESR1\nOTHER\tdesc\tMMP1\tFSCN1\n")
    sigs = {s.name: s for s in read_signature_file(f)}
    assert sigs["MYSIG"].up == ["IL6", "CXCL8"] and sigs["MYSIG"].down == ["ESR1"]
    assert sigs["OTHER"].up == ["MMP1", "FSCN1"] and not sigs["OTHER"].signed


def test_user_tsv(tmp_path):
    f = tmp_path / "mine.tsv"
    f.write_text("signature\tgene\tdirection\norgan_x\tIL6\tup\norgan_x\tCTGF\tdown\n")
    (s,) = read_signature_file(f)
    assert s.up == ["IL6"] and s.down == ["CCN2"] and s.original_genes == ("IL6", "CTGF")


@pytest.mark.parametrize(
    "content,needle",
    [
        ("name\tsymbol\nX\tIL6\n", "'signature' and 'gene' columns"),
        ("signature\tgene\tdirection\nX\tIL6\tsideways\n", "direction 'sideways'"),
        ("signature\tgene\tdirection\nX\tIL6\tup\nX\tIL6\tdown\n", "both up and down"),
        ("signature\tgene\tweight\nX\tIL6\tabc\n", "weight 'abc' is not a number"),
    ],
)
def test_bad_signature_files(tmp_path, content, needle):
    f = tmp_path / "bad.tsv"
    f.write_text(content)
    with pytest.raises(SeedsigError, match=needle) as exc:
        read_signature_file(f)
    assert str(f) in str(exc.value)


def test_duplicate_names_across_files(tmp_path):
    f = tmp_path / "dup.tsv"
    f.write_text("signature\tgene\nSS\tIL6\n")
    with pytest.raises(SeedsigError, match="defined twice"):
        load_signatures([SHIPPED[0], f])
