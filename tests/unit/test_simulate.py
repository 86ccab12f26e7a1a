"""The built-in example cohort: deterministic, realistic, and carrying exactly the planted structure."""

import hashlib

import numpy as np
import pandas as pd
import pytest
from conftest import REPO

from seedsig.association.correlation import correlation_table
from seedsig.core.tables import read_clinical, read_matrix
from seedsig.ingest.ids import harmonize
from seedsig.normalize.methods import normalize_matrix
from seedsig.outcome.cox import cox_table
from seedsig.scoring.methods import score
from seedsig.scoring.signatures import load_signatures
from seedsig.simulate import simulate_cohort

SIG_FILES = [
    REPO / "config" / "signatures" / f for f in ("self_seeding.tsv", "organ_metastasis.tsv", "msigdb_metastasis.tsv")
]


def sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim")
    truth = simulate_cohort(out, seed=11, n_samples=120, n_genes=4000)
    return out, truth


def test_deterministic_and_seed_dependent(tmp_path, small):
    out, _ = small
    again = tmp_path / "again"
    simulate_cohort(again, seed=11, n_samples=120, n_genes=4000)
    for name in ("counts.tsv.gz", "clinical.tsv", "truth.json"):
        assert sha(out / name) == sha(again / name), name
    other = tmp_path / "other"
    simulate_cohort(other, seed=12, n_samples=120, n_genes=4000)
    assert sha(out / "counts.tsv.gz") != sha(other / "counts.tsv.gz")


def test_shapes_counts_and_old_symbols(small):
    out, truth = small
    counts = read_matrix(out / "counts.tsv.gz")
    assert counts.shape == (4000, 120)
    v = counts.to_numpy()
    assert (v >= 0).all() and np.array_equal(v, np.round(v))
    assert {"IL8", "CTGF"} <= set(counts.index) and not {"CXCL8", "CCN2"} & set(counts.index)
    assert truth["aliased_genes"]["IL8"] == "CXCL8" and len(truth["aliased_genes"]) >= 6
    lib = v.sum(axis=0)
    spread = np.percentile(lib, 95) / np.percentile(lib, 5)
    assert 2.5 < spread < 6 and 1e7 < np.median(lib) < 4e7
    assert (v == 0).mean() > 0.01  # low genes and zeros exist
    clin = pd.read_csv(out / "clinical.tsv", sep="\t")
    assert list(clin.columns) == ["sample", "mfs_months", "mfs_event", "relapse_site", "er_status", "age"]
    assert 0.25 < clin["mfs_event"].mean() < 0.55 and (clin["mfs_months"] > 0).all()
    assert set(clin.loc[clin.mfs_event == 1, "relapse_site"]) <= {"lung", "bone", "brain", "liver"}
    assert clin.loc[clin.mfs_event == 0, "relapse_site"].isna().all()
    assert set(clin["er_status"]) == {"positive", "negative"}


def test_every_signature_gene_is_measured(small):
    out, truth = small
    counts, _ = harmonize(read_matrix(out / "counts.tsv.gz"), "symbol")
    sigs = load_signatures(SIG_FILES)
    for s in sigs:
        approved = [g for g, r in zip(s.genes, s.resolution) if r not in ("unmapped", "ambiguous")]
        present = counts.index.intersection(approved)
        assert len(present) == len(set(approved)), s.name
        assert (counts.loc[present].mean(axis=1) > 5).all(), s.name


def cohort_stats(out):
    counts, _ = harmonize(read_matrix(out / "counts.tsv.gz"), "symbol")
    x, _ = normalize_matrix(counts, "tmm_logcpm")
    sigs = load_signatures(SIG_FILES)
    sc = {m: score(x, sigs, m).scores for m in ("ssgsea", "zscore")}
    names = [s.name for s in sigs]
    corr, _ = correlation_table(
        x,
        sc,
        sigs,
        ["SS"],
        [n for n in names if not n.startswith("SS")],
        statistics=("spearman",),
        n_bootstrap=0,
        n_random=0,
        proliferation=False,
    )
    clin = read_clinical(out / "clinical.tsv")
    surv = cox_table(sc, clin["mfs_months"], clin["mfs_event"], "mfs")
    return corr, surv


def test_planted_structure_is_there(small):
    out, truth = small
    corr, surv = cohort_stats(out)
    z = corr[corr.method == "zscore"].set_index("signature_b")
    for sig in ("LMS", "SMID_RELAPSE_BONE", "SMID_RELAPSE_BRAIN"):
        assert z.loc[sig, "r"] > 0.3, sig
    for sig in truth["independent_signatures"]:
        assert abs(z.loc[sig, "r"]) < 0.3, sig
    assert truth["shared_gene_signatures"] == {"TAVAZOIE_METASTASIS": ["MMP1"]}
    ss = surv[(surv.method == "zscore") & (surv.signature == "SS")].iloc[0]
    assert ss["hr_per_sd"] > 1.3 and ss["p"] < 0.01
    latent = pd.Series(truth["latent_ss"])
    clin = pd.read_csv(out / "clinical.tsv", sep="\t", index_col=0)
    high = latent.reindex(clin.index) > 0
    assert clin.loc[high, "mfs_event"].mean() > clin.loc[~high, "mfs_event"].mean()


@pytest.mark.slow
def test_null_associations_are_calibrated_across_seeds(tmp_path):
    """Over several seeds the independent signatures' p-values behave like a null: the fraction below
    0.05 lies within its binomial 99% interval (so the demo's clean result is not a property of its seed)."""
    from scipy.stats import binom

    ps = []
    for seed in range(101, 107):
        truth = simulate_cohort(tmp_path / str(seed), seed=seed, n_samples=200, n_genes=4000)
        corr, surv = cohort_stats(tmp_path / str(seed))
        ind = truth["independent_signatures"]
        for m in ("ssgsea", "zscore"):
            ps += corr[(corr.method == m) & corr.signature_b.isin(ind)]["p"].tolist()
            ps += surv[(surv.method == m) & surv.signature.isin(ind)]["p"].tolist()
    ps = np.array(ps)
    k, n = int((ps < 0.05).sum()), len(ps)
    lo, hi = binom.ppf(0.005, n, 0.05), binom.ppf(0.995, n, 0.05)
    assert lo <= k <= hi, (k, n, lo, hi)
    assert 0.3 < np.median(ps) < 0.7


def test_chunked_simulation_equals_one_pass(tmp_path, small, monkeypatch):
    """Counts simulated and written in chunks of a few genes give the same files as the default chunks (which hold
    the whole 4,000 x 120 matrix in one chunk): the draws and the text do not depend on the chunking."""
    import seedsig.simulate as sim

    out, _ = small
    monkeypatch.setattr(sim, "CHUNK_ELEMENTS", 7 * 120 + 5)  # 7 genes per chunk, a ragged last chunk
    simulate_cohort(tmp_path, seed=11, n_samples=120, n_genes=4000)
    for name in ("counts.tsv.gz", "clinical.tsv", "truth.json"):
        assert sha(tmp_path / name) == sha(out / name), name


def test_more_genes_than_protein_coding(tmp_path):
    """20,000 genes: beyond the ~19,300 protein-coding genes the simulator draws other approved HGNC symbols."""
    from seedsig.ingest.ids import hgnc_table

    truth = simulate_cohort(tmp_path, seed=5, n_samples=4, n_genes=20000)
    counts = read_matrix(tmp_path / "counts.tsv.gz")
    assert counts.shape == (20000, 4) and truth["n_genes"] == 20000
    tab = hgnc_table().set_index("symbol")
    groups = tab["locus_group"].reindex(counts.index)  # the few planted outdated symbols are not approved: NaN
    assert groups.notna().sum() >= 20000 - 8
    assert (groups == "protein-coding gene").sum() > 18000 and (groups != "protein-coding gene").sum() > 500


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (
            {"n_genes": 50000},
            r"n_genes \(--n-genes, config example.n_genes\) is 50000; it must be a whole number from "
            r"\d+ .* to 43882 \(every approved symbol",
        ),
        ({"n_genes": 500}, r"n_genes .* is 500; it must be a whole number from 783 \(the 683 genes"),
        ({"n_samples": 2}, r"n_samples \(--n-samples, config example.n_samples\) is 2; it must be a whole number >= 3"),
        ({"n_samples": 10.5}, r"n_samples .* is 10.5"),
    ],
)
def test_impossible_size_is_refused(tmp_path, kwargs, match):
    from seedsig.core.errors import SeedsigError

    with pytest.raises(SeedsigError, match=match):
        simulate_cohort(tmp_path / "x", **{"n_samples": 20, "n_genes": 2000, **kwargs})
    assert not (tmp_path / "x").exists()


def test_schema_maximum_of_n_genes_is_the_hgnc_table():
    """config example.n_genes / --n-genes: the schema's maximum is what the simulator can make."""
    from seedsig.config import schema_range
    from seedsig.ingest.ids import hgnc_table

    assert schema_range("example.n_genes")["maximum"] == hgnc_table()["symbol"].nunique()
