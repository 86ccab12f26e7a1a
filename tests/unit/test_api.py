"""The notebook API (seedsig.score, seedsig.api.associate, seedsig.api.survival; issue 15 item 6): the numbers of the
CLI and of the library functions, AnnData obsm/uns written and h5ad-writable, every signature input form, readable
summaries, and ``import seedsig`` without heavy imports. Small generated data, no Snakemake."""

import subprocess
import sys

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from conftest import REPO

import seedsig
from seedsig import api
from seedsig.association.correlation import CORRELATION_COLUMNS, correlation_table
from seedsig.cli import main
from seedsig.core.errors import SeedsigError
from seedsig.core.settings import ASSOCIATE_DEFAULTS, SURVIVAL_DEFAULTS
from seedsig.core.tables import write_table
from seedsig.outcome.cox import SURVIVAL_COLUMNS, cox_table
from seedsig.scoring.methods import score as library_score
from seedsig.scoring.signatures import Signature, load_signatures

SIGNATURE_FILES = [str(REPO / "config" / "signatures" / f) for f in ("self_seeding.tsv", "organ_metastasis.tsv")]
N_SAMPLES = 30


@pytest.fixture(scope="module")
def cohort():
    """62 genes (every gene of the shipped SS and organ signatures, PCNA, fillers) x 30 samples of log-scale values;
    the CXCL8 row is named by its old symbol IL8 (matched through the alias resolver, as the CLI does). SS and the
    brain signature share a factor; time, event and ER status in a clinical table."""
    sigs = load_signatures(SIGNATURE_FILES)
    genes = sorted({g for s in sigs for g in s.genes} | {"PCNA"})
    msigdb = load_signatures(REPO / "config" / "signatures" / "msigdb_metastasis.tsv")
    genes += [g for g in sorted({g for s in msigdb for g in s.genes}) if g not in genes][:40]
    rng = np.random.default_rng(2015)
    x = rng.normal(6.0, 1.0, size=(len(genes), N_SAMPLES))
    factor = rng.standard_normal(N_SAMPLES)
    brain = {g for s in sigs if s.name == "BrMS" for g in s.genes}
    for i, g in enumerate(genes):
        if g in ("IL6", "CXCL8", "MMP1", "FSCN1") or g in brain:
            x[i] += 1.5 * factor
    samples = [f"P{i:02d}" for i in range(N_SAMPLES)]
    expr = pd.DataFrame(
        x, index=pd.Index([("IL8" if g == "CXCL8" else g) for g in genes], name="gene"), columns=samples
    )
    clinical = pd.DataFrame(
        {
            "months": np.round(rng.exponential(40.0, N_SAMPLES) * np.exp(-0.4 * factor), 2),
            "relapse": rng.integers(0, 2, N_SAMPLES),
            "er": pd.Categorical(rng.choice(["pos", "neg"], N_SAMPLES)),
        },
        index=samples,
    )
    return expr, clinical, sigs


def symbol_frame(expr):
    """The matrix with current symbols as row names (as the pipeline's ingest writes it), for associate."""
    return expr.rename(index={"IL8": "CXCL8"})


def as_anndata(expr, clinical, *, layer=None, sparse=False):
    values = expr.T.to_numpy()
    x = sp.csr_matrix(values) if sparse else values
    adata = ad.AnnData(
        X=np.zeros_like(values) if layer else x, obs=clinical.copy(), var=pd.DataFrame(index=expr.index.astype(str))
    )
    if layer:
        adata.layers[layer] = x
    return adata


# ------------------------------------------------------------------------------------------- import
def test_import_seedsig_is_light_and_score_is_the_api():
    heavy = ("scanpy", "matplotlib", "anndata", "gseapy", "statsmodels")
    code = (
        "import sys, seedsig; before = [m for m in %r if m in sys.modules]; f = seedsig.score; "
        "after = [m for m in %r if m in sys.modules]; print(before, after, f.__module__, 'pandas' in sys.modules)"
    ) % (heavy, heavy)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.split() == ["[]", "[]", "seedsig.api", "True"]
    assert seedsig.associate is api.associate and seedsig.survival is api.survival
    assert {"score", "associate", "survival"} <= set(dir(seedsig))
    proc = subprocess.run(
        [sys.executable, "-c", "import sys, seedsig; print('pandas' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout.strip() == "False"  # the API module (numpy, pandas, scipy) loads on first use only
    assert seedsig.score is api.score and "score" in dir(seedsig)
    with pytest.raises(AttributeError):
        seedsig.no_such_function  # noqa: B018


# -------------------------------------------------------------------------------------------- score
@pytest.mark.parametrize(
    "method, params, options",
    [
        ("ssgsea", {}, []),
        ("ssgsea", {"alpha": 0.5, "normalize": True}, ["--alpha", "0.5", "--ssgsea-normalize"]),
        ("singscore", {}, []),
        ("zscore", {}, []),
        ("plage", {}, []),
        ("score_genes", {"random_state": 3}, ["--seed", "3"]),
    ],
)
def test_score_equals_the_cli(tmp_path, cohort, method, params, options):
    expr, _, _ = cohort
    src = tmp_path / "expr.tsv"
    write_table(expr.reset_index(), src, float_format="%.17g")
    out = tmp_path / "cli.tsv"
    args = ["score", "--expr", str(src), "--signatures", *SIGNATURE_FILES, "--method", method, "--out", str(out)]
    assert main(args + options) == 0
    scores = seedsig.score(expr, SIGNATURE_FILES, method, **params)
    assert list(scores.columns) == ["SS", "SS_attraction", "SS_infiltration", "LMS", "BoMS", "BrMS"]
    assert scores.shape == (N_SAMPLES, 6) and np.isfinite(scores.to_numpy()).all()
    mine = tmp_path / "api.tsv"
    write_table(scores.reset_index(), mine, float_format="%.12g")  # as the CLI writes its table
    assert mine.read_bytes() == out.read_bytes()
    # and in memory, the library engine on the same rows (IL8 matched to CXCL8 through the resolver)
    symbols = ["CXCL8" if g == "IL8" else g for g in expr.index]
    direct = library_score(expr, load_signatures(SIGNATURE_FILES), method, row_symbols=symbols, params=params).scores
    pd.testing.assert_frame_equal(scores, direct, check_exact=True)


@pytest.mark.filterwarnings("ignore:.* not scored:UserWarning")
def test_score_anndata_equals_dataframe_and_writes_obsm_uns(tmp_path, cohort):
    expr, clinical, _ = cohort
    frame = seedsig.score(expr, SIGNATURE_FILES, "singscore", min_genes=3)
    for adata, layer in (
        (as_anndata(expr, clinical), None),
        (as_anndata(expr, clinical, layer="logexpr"), "logexpr"),
        (as_anndata(expr, clinical, sparse=True), None),
    ):
        before = adata.X.copy()
        got = seedsig.score(adata, SIGNATURE_FILES, "singscore", layer=layer, min_genes=3)
        pd.testing.assert_frame_equal(got, frame, check_exact=True)
        stored = adata.obsm["seedsig_singscore"]
        assert list(stored.index) == list(adata.obs_names)
        np.testing.assert_array_equal(stored.to_numpy(), frame.to_numpy())
        uns = adata.uns["seedsig_singscore"]
        assert uns["params"] == {"centered": True} and uns["min_genes"] == 3 and uns["layer"] == (layer or "")
        cov = uns["coverage"]
        # BoMS has 2 genes: below min_genes = 3, not scored, its column NA and the coverage says why
        boms = cov.set_index("signature").loc["BoMS"]
        assert not boms["scored"] and "needs at least 3 genes" in boms["reason"]
        assert frame["BoMS"].isna().all() and cov["n_present"].tolist() == [4, 2, 2, 14, 2, 3]
        diff = adata.X != before
        assert not (diff.nnz if sp.issparse(diff) else diff.any())  # the values are not modified
        path = tmp_path / "scored.h5ad"
        adata.write_h5ad(path)
        back = ad.read_h5ad(path)
        np.testing.assert_array_equal(back.obsm["seedsig_singscore"].to_numpy(), frame.to_numpy())
        assert back.uns["seedsig_singscore"]["coverage"]["present_genes"].tolist() == cov["present_genes"].tolist()
        stored_sigs = back.uns["seedsig_singscore"]["signatures"]
        assert stored_sigs.loc[stored_sigs["signature"] == "SS", "gene"].tolist() == ["IL6", "CXCL8", "MMP1", "FSCN1"]
    # a second method adds its own keys beside the first
    seedsig.score(adata, SIGNATURE_FILES, "zscore")
    assert {"seedsig_singscore", "seedsig_zscore"} <= set(adata.obsm) and {"seedsig_zscore"} <= set(adata.uns)


def test_score_checks_the_matrix_as_the_cli(cohort):
    expr, clinical, _ = cohort
    with pytest.raises(SeedsigError, match="look like raw counts"):
        seedsig.score(np.round(2.0**expr * 10), SIGNATURE_FILES)
    with pytest.raises(SeedsigError, match="infinite value"):
        seedsig.score(expr.replace(expr.iloc[0, 0], -np.inf), SIGNATURE_FILES)
    with pytest.raises(SeedsigError, match="no layer 'counts'. Layers are: none"):
        seedsig.score(as_anndata(expr, clinical), SIGNATURE_FILES, layer="counts")
    with pytest.raises(SeedsigError, match="give an AnnData"):
        seedsig.score(expr.to_numpy(), SIGNATURE_FILES)
    with pytest.raises(SeedsigError, match="has no parameter"):
        seedsig.score(expr, SIGNATURE_FILES, "ssgsea", kcdf="gaussian")
    with pytest.warns(UserWarning, match="BoMS not scored: only 1 of 2 genes present"):
        seedsig.score(expr.drop(index="IL11"), SIGNATURE_FILES)


def test_signature_input_forms(tmp_path, cohort):
    expr, _, sigs = cohort
    by_file = seedsig.score(expr, SIGNATURE_FILES[0])  # one path
    ss = list(next(s for s in sigs if s.name == "SS").genes)
    as_dict = seedsig.score(expr, {"SS": ["IL6", "IL8", "MMP1", "FSCN1"]})  # old symbol IL8 resolved
    pd.testing.assert_series_equal(as_dict["SS"], by_file["SS"], check_exact=True)
    signed = seedsig.score(expr, {"X": {"IL6": "up", "MMP1": "down", "FSCN1": -1}})
    obj = Signature(name="X", genes=("IL6", "MMP1", "FSCN1"), directions=(1, -1, -1))
    pd.testing.assert_frame_equal(signed, seedsig.score(expr, obj), check_exact=True)
    gmt = tmp_path / "x.gmt"
    gmt.write_text("X_UP\tdesc\tIL6\nX_DN\tdesc\tMMP1\tFSCN1\n")  # merged into a signed X by the GMT reader
    pd.testing.assert_frame_equal(signed, seedsig.score(expr, str(gmt)), check_exact=True)
    mixed = seedsig.score(expr, [SIGNATURE_FILES[1], {"MY": ss[:2]}, obj])
    assert list(mixed.columns) == ["LMS", "BoMS", "BrMS", "MY", "X"]
    pd.testing.assert_series_equal(mixed["X"], signed["X"], check_exact=True)
    pd.testing.assert_series_equal(mixed["MY"], by_file["SS_attraction"].rename("MY"), check_exact=True)
    # mistakes name the dict entry (never a temporary file)
    with pytest.raises(SeedsigError, match=r"signatures dict, signature 'X', gene 'MMP1': direction 'sideways'") as e:
        seedsig.score(expr, {"X": {"IL6": "up", "MMP1": "sideways"}})
    assert "/tmp" not in str(e.value) and "seedsig-signatures-" not in str(e.value)
    with pytest.raises(SeedsigError, match="signatures dict, signature 'Y': gene 'CXCL8' is listed both up and down"):
        seedsig.score(expr, {"Y": {"IL8": "up", "CXCL8": "down"}})
    with pytest.raises(SeedsigError, match="must be a list of gene symbols"):
        seedsig.score(expr, {"Z": "IL6"})
    with pytest.raises(SeedsigError, match="signature 'SS' is defined twice"):
        seedsig.score(expr, [SIGNATURE_FILES[0], {"SS": ["IL6", "MMP1"]}])


# ---------------------------------------------------------------------------------------- associate
def test_associate_equals_correlation_table(cohort):
    expr, clinical, sigs = cohort
    scores = seedsig.score(expr, SIGNATURE_FILES, "ssgsea", alpha=0.5)
    # expression as given to score (its IL8 row named CXCL8 as score matched it, as ingest names it)
    res = api.associate(
        scores,
        "SS",
        ["LMS", "BrMS"],
        expression=expr,
        n_bootstrap=40,
        n_random=60,
        seed=7,
        covariates=["er"],
        clinical=clinical,
    )
    table, info = correlation_table(
        symbol_frame(expr),
        {"ssgsea": scores},
        sigs,
        ["SS"],
        ["LMS", "BrMS"],
        statistics=("spearman", "pearson"),
        n_bootstrap=40,
        n_random=60,
        seed=7,
        covariates=clinical[["er"]].astype(object),
        proliferation=True,
        min_genes=2,
        min_fraction=0.5,
        method_params={"ssgsea": {"alpha": 0.5, "normalize": False}},
        min_samples=10,
    )
    frame = res.to_frame()
    pd.testing.assert_frame_equal(frame, table, check_exact=True)
    assert tuple(frame.columns) == CORRELATION_COLUMNS and len(frame) == 4
    assert res.info["random_null_seeds"] == info["random_null_seeds"]
    brain = frame[(frame["signature_b"] == "BrMS") & (frame["statistic"] == "pearson")].iloc[0]
    assert brain["r"] > 0.5 and brain["q"] < 0.01 and brain["covariates"] == "meta_pcna;er"
    # the score's parameters reach the re-scoring and the null: with alpha 0.25 the null differs
    other, _ = correlation_table(
        symbol_frame(expr),
        {"ssgsea": scores},
        sigs,
        ["SS"],
        ["LMS"],
        n_bootstrap=0,
        n_random=60,
        seed=7,
        method_params={"ssgsea": {"alpha": 0.25}},
    )
    assert not np.allclose(other["r_without_shared"], frame.loc[frame["signature_b"] == "LMS", "r_without_shared"])
    # the summary: header with method, n, B, seed; one line per row with its numbers; notes as footnotes
    text = str(res.summary())
    for expected in (
        "Method:            ssgsea",
        "Samples (n):       30",
        "Bootstrap B:       40",
        "Random null B:     60",
        "Seed:              7",
        "Adjusted for:      meta_pcna;er",
    ):
        assert expected in text
    line = next(ln for ln in text.splitlines() if ln.startswith("ssgsea  SS     BrMS") and "pearson" in ln)
    for value in (
        f"{brain['r']:.3f}",
        f"[{brain['ci_low']:.3f}, {brain['ci_high']:.3f}]",
        f"{brain['p_random_null']:.4f}",
        f"{brain['r_partial']:.3f}",
    ):
        assert value in line
    q = brain["q"]
    assert (f"{q:.2e}" if q < 0.001 else f"{q:.4f}") in line
    assert repr(res) == "<seedsig associate result: 4 correlation rows (ssgsea), 4 tested; .summary(), .to_frame()>"


def test_associate_anndata_defaults_and_thin_cohort(tmp_path, cohort):
    expr, clinical, sigs = cohort
    adata = as_anndata(expr, clinical, layer="logexpr")
    seedsig.score(adata, SIGNATURE_FILES, "zscore", layer="logexpr")
    res = api.associate(adata, "SS", "BrMS", statistics="pearson")  # the pipeline's defaults: B = 1000, seed 2010
    d = ASSOCIATE_DEFAULTS
    assert [res.params[k] for k in ("n_bootstrap", "n_random", "seed", "min_samples")] == [
        d["n_bootstrap"],
        d["n_random"],
        d["seed"],
        d["min_samples"],
    ]
    frame = seedsig.score(symbol_frame(expr), SIGNATURE_FILES, "zscore")
    table, _ = correlation_table(
        symbol_frame(expr), {"zscore": frame}, sigs, ["SS"], ["BrMS"], statistics=("pearson",), seed=d["seed"]
    )
    pd.testing.assert_frame_equal(res.to_frame(), table, check_exact=True)
    assert res.to_frame()["p_random_null"].iloc[0] == pytest.approx(1 / 1001)
    assert "Random null B:     1000" in str(res.summary())
    # two methods scored into one AnnData: both in one grid (one BH family), each with its own parameters
    seedsig.score(adata, SIGNATURE_FILES, "ssgsea", layer="logexpr", alpha=0.4)
    both = api.associate(adata, "SS", "BrMS", statistics="pearson", n_bootstrap=0, n_random=30)
    ssgsea = seedsig.score(expr, SIGNATURE_FILES, "ssgsea", alpha=0.4)
    table, _ = correlation_table(
        symbol_frame(expr),
        {"zscore": frame, "ssgsea": ssgsea},
        sigs,
        ["SS"],
        ["BrMS"],
        statistics=("pearson",),
        n_bootstrap=0,
        n_random=30,
        seed=d["seed"],
        method_params={"ssgsea": {"alpha": 0.4}},
    )
    pd.testing.assert_frame_equal(both.to_frame(), table, check_exact=True)
    adata.write_h5ad(tmp_path / "scored.h5ad")  # the record in uns survives the file
    back = api.associate(
        ad.read_h5ad(tmp_path / "scored.h5ad"), "SS", "BrMS", statistics="pearson", n_bootstrap=0, n_random=30
    )
    pd.testing.assert_frame_equal(back.to_frame(), table, check_exact=True)
    assert both.to_frame()["method"].tolist() == ["ssgsea", "zscore"] and "Method:            ssgsea, zscore" in str(
        both.summary()
    )
    as_dict = api.associate(
        {"zscore": frame, "ssgsea": ssgsea},
        "SS",
        "BrMS",
        expression=expr,
        statistics="pearson",
        n_bootstrap=0,
        n_random=30,
    )
    pd.testing.assert_frame_equal(as_dict.to_frame(), table, check_exact=True)
    # 8 samples: below associate.min_samples, nothing tested, said in the summary
    thin = api.associate(frame.iloc[:8], "SS", "BrMS", expression=symbol_frame(expr), n_random=20, n_bootstrap=20)
    row = thin.to_frame().iloc[0]
    assert np.isnan(row["r"]) and "fewer than associate.min_samples = 10: not tested" in row["note"]
    text = str(thin.summary())
    assert "[1] 8 samples with both scores, fewer than associate.min_samples = 10: not tested" in text
    assert "0 tested" in repr(thin)
    with pytest.raises(SeedsigError, match="needs the expression matrix"):
        api.associate(frame, "SS")
    with pytest.raises(SeedsigError, match="say which method made it"):
        api.associate(
            pd.DataFrame(frame.to_numpy(), index=frame.index, columns=frame.columns),
            "SS",
            expression=expr,
            signatures=SIGNATURE_FILES,
        )


# ----------------------------------------------------------------------------------------- survival
def test_survival_equals_cox_table(cohort):
    expr, clinical, _ = cohort
    scores = seedsig.score(expr, SIGNATURE_FILES, "mean_z")
    res = api.survival(scores, "months", "relapse", clinical=clinical, covariates=["er"])
    cov = clinical[["er"]].astype(object)
    table = cox_table(
        {"mean_z": scores},
        clinical["months"],
        clinical["relapse"],
        "months/relapse",
        covariates=cov,
        min_samples=SURVIVAL_DEFAULTS["min_samples"],
    )
    frame = res.to_frame()
    pd.testing.assert_frame_equal(frame, table, check_exact=True)
    assert tuple(frame.columns) == SURVIVAL_COLUMNS and len(frame) == 12 and frame["p_random_null"].isna().all()
    ss = frame[(frame["signature"] == "SS") & (frame["model"] == "univariate")].iloc[0]
    assert ss["hr_per_sd"] > 1 and ss["n"] == N_SAMPLES and ss["events"] == int(clinical["relapse"].sum())
    text = str(res.summary())
    assert "Endpoint:         months/relapse" in text and "Covariates:       er" in text
    line = next(ln for ln in text.splitlines() if ln.startswith("mean_z  SS ") and "univariate" in ln)
    p = ss["p"]
    for value in (
        f"{ss['hr_per_sd']:.3f}",
        f"[{ss['ci_low']:.3f}, {ss['ci_high']:.3f}]",
        f"{p:.2e}" if p < 0.001 else f"{p:.4f}",
        f"{ss['concordance']:.3f}",
    ):
        assert value in line
    # Series instead of column names, an AnnData's obs as the clinical table: the same rows
    series = api.survival(scores, clinical["months"], clinical["relapse"], covariates=cov, endpoint="months/relapse")
    pd.testing.assert_frame_equal(series.to_frame(), table, check_exact=True)
    adata = as_anndata(expr, clinical)
    seedsig.score(adata, SIGNATURE_FILES, "mean_z")
    pd.testing.assert_frame_equal(
        api.survival(adata, "months", "relapse", covariates="er").to_frame(), table, check_exact=True
    )
    thin = api.survival(scores.iloc[:6], clinical["months"], clinical["relapse"], signatures="SS")
    assert len(thin.to_frame()) == 1 and "survival.min_samples" in str(thin.summary())
    with pytest.raises(SeedsigError, match="column 'os' is not in clinical"):
        api.survival(scores, "os", "relapse", clinical=clinical)
