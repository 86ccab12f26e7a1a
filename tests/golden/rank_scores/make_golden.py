"""Golden UCell and AUCell scores from the reference implementations (run from the repository root with a Python that
has pyucell 0.8 and decoupler 2.x, e.g. ``/work/venv18/bin/python tests/golden/rank_scores/make_golden.py``; the tests
need neither package). seedsig is imported from ``src/`` only to prepare the inputs (signature files, gene ids, the
simulated single-cell example), never to score.

* ``gse1992_ucell_pyucell*.tsv``: ``pyucell.compute_ucell_scores(missing_genes="skip")`` on GSE1992 (../shared; log
  ratios: 49% negative values and 1,133 exact zeros, so pyucell's ranking of the non-zero values alone matters) for
  the shipped signatures (signed ones as ``GENE+`` / ``GENE-``), max_rank 1500 / w_neg 1 and max_rank 200 / w_neg 0.5.
* ``sc_example_ucell_pyucell.tsv.gz``: the same on the simulated single-cell example (``seedsig simulate
  --single-cell``, seed 2010: 1,800 cells x 3,000 genes), counts normalized as the per-cell scores are (scanpy
  ``normalize_total(target_sum=1e4)`` + ``log1p``).
* ``fixture_aucell.tsv``: ``decoupler.mt.aucell`` (n_up = ceil(0.05 x genes)) on the tie-free scoring fixture
  (tests/golden/scoring/fixture_expr.tsv and fixture_sets.gmt; also with n_up = 75); ``gse1992_aucell.tsv`` on
  GSE1992 made tie-free: rows sorted by label, row i lowered by 1e-6 * i / n (the values have 3 decimals, so only
  ties are broken, in the canonical row order, which decoupler's own tie order, a fixed random permutation of the
  genes, would not give).

Every table: one row per signature, one column per sample or cell (rows of the references' float32 written with 9
significant digits)."""

from __future__ import annotations

import sys
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import scanpy as sc

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "src"))

from seedsig.ingest.ids import resolve_ids  # noqa: E402
from seedsig.scoring.signatures import load_signatures  # noqa: E402
from seedsig.simulate import simulate_single_cell  # noqa: E402

OUT = REPO / "tests" / "golden" / "rank_scores"
GSE1992 = REPO.parent / "shared" / "datasets" / "gse1992_unc_hu2006_survjamda" / "expression.tsv.gz"
SIGNATURES = sorted((REPO / "config" / "signatures").glob("*.tsv"))


def pyucell_sets(sigs, symbol_to_id: dict[str, str]) -> dict[str, list[str]]:
    """Signatures as pyucell writes them (GENE+ / GENE-), genes named by the matrix's ids (absent genes kept: pyucell
    skips them with missing_genes='skip')."""
    out = {}
    for s in sigs:
        genes = [symbol_to_id.get(g, g) for g in s.genes]
        out[s.name] = [g + ("+" if d > 0 else "-") for g, d in zip(genes, s.directions)]
    return out


def ucell(adata: ad.AnnData, sets: dict, **kw) -> pd.DataFrame:
    import pyucell

    a = adata.copy()
    pyucell.compute_ucell_scores(a, sets, missing_genes="skip", n_jobs=1, suffix="", **kw)
    return a.obs[list(sets)].T.astype(np.float64)


def aucell(x: pd.DataFrame, sets: dict[str, list[str]], **kw) -> pd.DataFrame:
    """decoupler 2.x AUCell of a genes x samples frame (default n_up, or ``n_up=``)."""
    import decoupler as dc

    net = pd.DataFrame([(k, g) for k, v in sets.items() for g in v], columns=["source", "target"])
    es, _ = dc.mt.aucell(x.T, net, tmin=1, **kw)
    return es.T.loc[list(sets)]


def write(df: pd.DataFrame, name: str) -> None:
    df = df.copy()
    df.index.name = "set"
    df.to_csv(OUT / name, sep="\t", float_format="%.9g" if "pyucell" in name else "%.17g")


def gse1992() -> None:
    e = pd.read_csv(GSE1992, sep="\t", index_col=0)
    assert np.isfinite(e.to_numpy()).all() and not e.index.duplicated().any()
    symbols = resolve_ids(list(e.index), "symbol")["symbol"].tolist()  # IL8 -> CXCL8
    shared = set(pd.Index(symbols)[pd.Index(symbols).duplicated()])  # symbols of several rows: none is a signature's
    to_id = {sym: rid for rid, sym in zip(e.index, symbols) if sym not in shared}
    assert not shared & {g for s in load_signatures(SIGNATURES) for g in s.genes}
    sets = pyucell_sets(load_signatures(SIGNATURES), to_id)
    a = ad.AnnData(X=np.ascontiguousarray(e.T.to_numpy()), obs=pd.DataFrame(index=e.columns))
    a.var_names = list(e.index)
    write(ucell(a, sets), "gse1992_ucell_pyucell.tsv")
    write(ucell(a, sets, max_rank=200, w_neg=0.5), "gse1992_ucell_pyucell_200.tsv")
    sigs = load_signatures(SIGNATURES)
    plain = {s.name: [to_id.get(g, g) for g in s.up] for s in sigs}  # AUCell: the up genes as one set
    e = e.sort_index()
    jitter = e.to_numpy() - 1e-6 * (np.arange(e.shape[0]) / e.shape[0])[:, None]
    tie_free = pd.DataFrame(jitter, index=e.index, columns=e.columns)
    assert not tie_free.apply(lambda c: c.duplicated().any()).any()
    write(aucell(tie_free, {k: [g for g in v if g in e.index] for k, v in plain.items()}), "gse1992_aucell.tsv")


def single_cell() -> None:
    a = simulate_single_cell(seed=2010)
    b = ad.AnnData(X=a.layers["counts"].astype(np.float64), obs=pd.DataFrame(index=a.obs_names))
    b.var_names = list(a.var_names)
    sc.pp.normalize_total(b, target_sum=1e4)
    sc.pp.log1p(b)
    sets = pyucell_sets(load_signatures(SIGNATURES), {})
    write(ucell(b, sets), "sc_example_ucell_pyucell.tsv.gz")


def fixture() -> None:
    g = REPO / "tests" / "golden" / "scoring"
    x = pd.read_csv(g / "fixture_expr.tsv", sep="\t", index_col=0)
    sets = {}
    for line in (g / "fixture_sets.gmt").read_text().splitlines():
        name, _, *genes = line.split("\t")
        sets[name] = [s for s in genes if s in x.index]
    write(aucell(x, sets), "fixture_aucell.tsv")
    write(aucell(x, sets, n_up=75), "fixture_aucell_n_up75.tsv")  # max_rank_fraction 0.25 of 300 genes


def versions() -> None:
    from importlib.metadata import version

    lines = [f"{p} {version(p)}" for p in ("pyucell", "decoupler", "scanpy", "numpy")]
    (OUT / "VERSIONS.txt").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    fixture()
    gse1992()
    single_cell()
    versions()
