"""Reference-anchored scoring (scoring.reference): halves against a reference equal the whole, the reference scored
against itself equals today's cohort-relative scores, the file round-trips exactly, bad files give a clear error."""

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seedsig.core.errors import SeedsigError
from seedsig.scoring.methods import score
from seedsig.scoring.reference import (
    build_reference,
    load_reference,
    needs_reference,
    reference_setting,
    save_reference,
    score_with_reference,
)
from seedsig.scoring.signatures import Signature

REPO = Path(__file__).resolve().parents[2]
SIG_FILES = ("self_seeding.tsv", "organ_metastasis.tsv")
GENES = [f"G{i:03d}" for i in range(240)]
CASES = [
    ("zscore", {}),
    ("mean_z", {}),
    ("ssgsea", {"normalize": True}),
    ("score_genes", {}),
    ("plage", {}),
    ("gsva", {}),
    ("gsva", {"kcdf": "none"}),
]


def sig(name, up, down=()):
    return Signature(name, tuple(up) + tuple(down), (1,) * len(up) + (-1,) * len(down))


SIGS = [sig("A", GENES[:8]), sig("B", GENES[10:15], GENES[20:24]), sig("C", ["G100", "NOT_A_GENE"]), sig("D", ["X1"])]


def cohort(seed, n, shift=0.0, prefix="s"):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        rng.normal(5 + shift, 2, (len(GENES), n)), index=GENES, columns=[f"{prefix}{i:02d}" for i in range(n)]
    )


REF, OTHER = cohort(1, 36), cohort(2, 29, 0.7, "c")


@pytest.mark.parametrize("method,params", CASES)
def test_reference_against_itself_is_todays_score(method, params):
    ref = build_reference(REF, SIGS, method, params=params, cohort="ref")
    today = score(REF, SIGS, method, params=params).scores
    anchored = score_with_reference(REF, SIGS, ref).scores
    assert today.columns.equals(anchored.columns) and today.index.equals(anchored.index)
    assert np.array_equal(today.isna(), anchored.isna())
    assert np.nanmax(np.abs(today.to_numpy() - anchored.to_numpy())) <= 1e-12
    assert today[["A", "B"]].notna().all().all() and anchored["D"].isna().all()


@pytest.mark.parametrize("method,params", CASES)
def test_halves_equal_whole_and_differ_from_cohort_relative(method, params):
    ref = build_reference(REF, SIGS, method, params=params)
    whole = score_with_reference(OTHER, SIGS, ref).scores
    halves = pd.concat([score_with_reference(OTHER.iloc[:, a:b], SIGS, ref).scores for a, b in ((0, 11), (11, 29))])
    assert np.nanmax(np.abs(whole.to_numpy() - halves.to_numpy())) <= 1e-12
    # without the reference, the halves disagree with the whole (what the reference is for)
    apart = pd.concat([score(OTHER.iloc[:, a:b], SIGS, method, params=params).scores for a, b in ((0, 11), (11, 29))])
    assert np.nanmax(np.abs(score(OTHER, SIGS, method, params=params).scores.to_numpy() - apart.to_numpy())) > 1e-6


def test_zscore_is_the_references_standardization():
    ref = build_reference(REF, SIGS, "zscore")
    a = GENES[:8]
    z = (OTHER.loc[a].T - REF.loc[a].mean(axis=1)) / REF.loc[a].std(axis=1, ddof=1)
    expected = z.sum(axis=1) / np.sqrt(8)
    assert np.allclose(score_with_reference(OTHER, SIGS, ref).scores["A"], expected, atol=1e-12, rtol=0)


def test_gsva_poisson_against_itself_and_halves():
    rng = np.random.default_rng(3)
    counts = pd.DataFrame(
        rng.poisson(20, (len(GENES), 25)).astype(float), index=GENES, columns=[f"p{i}" for i in range(25)]
    )
    other = pd.DataFrame(
        rng.poisson(25, (len(GENES), 12)).astype(float), index=GENES, columns=[f"q{i}" for i in range(12)]
    )
    ref = build_reference(counts, SIGS, "gsva")
    assert ref.info["kcdf"] == "poisson"
    today = score(counts, SIGS, "gsva").scores.to_numpy()
    assert np.nanmax(np.abs(today - score_with_reference(counts, SIGS, ref).scores.to_numpy())) <= 1e-12
    whole = score_with_reference(other, SIGS, ref).scores.to_numpy()
    halves = np.vstack(
        [score_with_reference(other.iloc[:, s], SIGS, ref).scores.to_numpy() for s in (slice(0, 5), slice(5, 12))]
    )
    assert np.nanmax(np.abs(whole - halves)) <= 1e-12


@pytest.mark.parametrize("method,params", CASES)
def test_save_load_round_trips_exactly(tmp_path, method, params):
    ref = build_reference(REF, SIGS, method, params=params, cohort="ref")
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    save_reference(ref, a)
    back = load_reference(a)
    assert back.method == ref.method and back.params == ref.params and back.info == ref.info
    assert np.array_equal(back.genes, ref.genes)
    assert set(back.arrays) == set(ref.arrays)
    for k, v in ref.arrays.items():
        assert back.arrays[k].dtype.kind == np.asarray(v).dtype.kind and np.array_equal(back.arrays[k], v), k
    save_reference(back, b)
    assert a.read_bytes() == b.read_bytes()  # byte-reproducible
    assert score_with_reference(OTHER, SIGS, back).scores.equals(score_with_reference(OTHER, SIGS, ref).scores)


def test_bad_reference_files(tmp_path):
    with pytest.raises(SeedsigError, match="does not exist"):
        load_reference(tmp_path / "missing.npz")
    junk = tmp_path / "junk.npz"
    junk.write_text("not a zip")
    with pytest.raises(SeedsigError, match=r"junk.npz' is not a seedsig reference.*seedsig reference --expression"):
        load_reference(junk)
    other = tmp_path / "other.npz"
    np.savez(other, x=np.arange(3))
    with pytest.raises(SeedsigError, match="a .npz file but not a seedsig reference"):
        load_reference(other)
    good = tmp_path / "good.npz"
    save_reference(build_reference(REF, SIGS, "zscore"), good)
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(tmp_path / "cut.npz", "w") as zout:
        for item in zin.infolist():
            if item.filename != "sd.npy":
                zout.writestr(item, zin.read(item.filename))
    with pytest.raises(SeedsigError, match="incomplete .*missing sd"):
        load_reference(tmp_path / "cut.npz")


def test_reference_rules_and_coverage():
    assert not needs_reference("ssgsea") and needs_reference("ssgsea", {"normalize": True})
    assert not needs_reference("singscore") and needs_reference("zscore") and needs_reference("gsva")
    with pytest.raises(SeedsigError, match="single-sample"):
        build_reference(REF, SIGS, "ssgsea")
    ref = build_reference(REF, SIGS, "zscore")
    with pytest.raises(SeedsigError, match="built with parameters"):
        score_with_reference(REF, SIGS, build_reference(REF, SIGS, "score_genes"), params={"random_state": 3})
    # a cohort without some genes of the reference: zscore drops them (the coverage rule) ...
    thin = OTHER.drop(index=GENES[:3])
    res = score_with_reference(thin, SIGS, ref)
    a = GENES[3:8]
    z = (thin.loc[a].T - REF.loc[a].mean(axis=1)) / REF.loc[a].std(axis=1, ddof=1)
    assert np.allclose(res.scores["A"], z.sum(axis=1) / np.sqrt(5), atol=1e-12, rtol=0)
    # ... a gene the cohort measures but the reference lacks is not present, and said so
    extra = pd.concat([OTHER, pd.DataFrame(1.0, index=["X1"], columns=OTHER.columns)])
    cov = score_with_reference(extra, SIGS, ref).coverage.set_index("signature")
    assert "X1 (not in the reference)" in cov.loc["D", "missing_genes"] and not cov.loc["D", "scored"]
    # plage's loadings need every gene the reference used for the set: NA with the reason
    pl = score_with_reference(thin, SIGS, build_reference(REF, SIGS, "plage"))
    row = pl.coverage.set_index("signature").loc["A"]
    assert pl.scores["A"].isna().all() and "G000, G001, G002" in row["reason"] and pl.scores["B"].notna().all()


def test_reference_setting():
    assert reference_setting("", ["a"]) == ("", "") and reference_setting(None, ["a"]) == ("", "")
    assert reference_setting("a", ["a", "b"]) == ("cohort", "a")
    with pytest.raises(SeedsigError, match="not a cohort of the sheet"):
        reference_setting("zz", ["a", "b"])
    with pytest.raises(SeedsigError, match="does not exist"):
        reference_setting("file:/nonexistent/ref.npz", ["a"])


def test_cli_reference_and_score(tmp_path):
    table = pd.concat([pd.read_csv(REPO / "config" / "signatures" / f, sep="\t") for f in SIG_FILES])
    symbols = sorted(set(table["gene"]))  # real symbols (the CLI checks the ids)
    ref_m, other_m = REF.iloc[: len(symbols)].set_axis(symbols), OTHER.iloc[: len(symbols)].set_axis(symbols)
    ref_m.rename_axis("gene").to_csv(tmp_path / "ref.tsv", sep="\t")
    other_m.rename_axis("gene").to_csv(tmp_path / "other.tsv", sep="\t")
    sigfile = tmp_path / "sigs.tsv"
    sigfile.write_text("signature\tgene\tdirection\nA\t" + "\nA\t".join(f"{g}\tup" for g in symbols[:8]) + "\n")
    sigs = [sig("A", symbols[:8])]
    cli = [sys.executable, "-m", "seedsig.cli"]
    run = subprocess.run(
        [*cli, "reference", "--expression", str(tmp_path / "ref.tsv"), "--signatures", str(sigfile), "--method",
         "zscore", "--out", str(tmp_path / "r" / "zscore.npz"), "--gene-id", "symbol"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    side = json.loads((tmp_path / "r" / "zscore.json").read_text())
    assert side["parameters"]["n_samples"] == 36 and side["parameters"]["method"] == "zscore"
    run = subprocess.run(
        [*cli, "score", "--expr", str(tmp_path / "other.tsv"), "--signatures", str(sigfile), "--method", "zscore",
         "--out", str(tmp_path / "s.tsv"), "--reference", str(tmp_path / "r" / "zscore.npz")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    got = pd.read_csv(tmp_path / "s.tsv", sep="\t", index_col=0)["A"]
    want = score_with_reference(other_m, sigs, build_reference(ref_m, sigs, "zscore")).scores["A"]
    assert np.allclose(got, want, atol=1e-10, rtol=0)
    assert "reference-anchored" in json.loads((tmp_path / "s.json").read_text())["parameters"]["score_scale"]
    run = subprocess.run(
        [*cli, "score", "--expr", str(tmp_path / "other.tsv"), "--signatures", str(sigfile), "--method", "mean_z",
         "--out", str(tmp_path / "s2.tsv"), "--reference", str(tmp_path / "r" / "zscore.npz")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode == 2 and "is a zscore reference; it cannot anchor mean_z" in run.stderr
    assert "Traceback" not in run.stderr
    run = subprocess.run(
        [*cli, "score", "--expr", str(tmp_path / "other.tsv"), "--signatures", str(sigfile), "--method", "zscore",
         "--out", str(tmp_path / "s3.tsv"), "--reference", str(tmp_path / "r" / "zscore.npz"),
         "--contributions", str(tmp_path / "c3.tsv")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode == 2 and "leave out --reference or --contributions" in run.stderr
    assert "Traceback" not in run.stderr and not (tmp_path / "s3.tsv").exists()
