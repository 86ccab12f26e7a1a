"""Gene-level view: does the self-seeding (SS) score track the organ-metastasis signatures?

The correlation grid (:mod:`seedsig.association.correlation`) compares scores with scores. This module asks the same
question one level down, with pre-ranked GSEA (Subramanian et al. 2005, PNAS 102:15545):

1. :func:`gene_correlations` correlates every gene with the focal score (Spearman or Pearson, over the
   samples where the score is finite); :func:`gene_ranking` orders the genes by that correlation.
2. :func:`prerank_table` runs ``gseapy`` prerank on that ranking with every target signature (every
   signature except the focal ones) as gene sets: do the organ-signature genes sit among the genes that
   rise with the SS score (ES > 0), among those that fall with it (ES < 0), or nowhere in particular?
3. :func:`enrichment_plot` draws the running enrichment score of one set on a ranking.

Correlations
------------
Genes are ranked across the used samples once (ties: average rank, as Spearman) and every gene's
correlation with the score is one matrix product of centred values. A gene with a missing/non-finite value
in any used sample, or constant over them, gets NaN and is left out of the ranking. Genes and samples
are put in a canonical order (sorted by label) before any arithmetic, so nothing depends on the input
row or column order (not even in the last bit). Fewer than 3 samples with a finite score, or a constant
score, gives NaN for every gene.

Ranking and ties
----------------
The ranking is sorted by decreasing correlation; genes with exactly the same correlation (common with
Spearman: r takes few distinct values when n is small) are ordered by gene symbol. GSEA's result depends on
the order of tied genes; gseapy orders them by an unstable sort, so we sort ourselves and tell gseapy
not to re-sort (``ascending=None``).

Gene sets
---------
A signed signature gives two sets, its ``up`` genes and its ``down`` genes (rows with ``direction`` "up"
and "down"); one would expect the up set at ES > 0 and the down set at ES < 0 if the focal score tracks the
signature. An unsigned signature (organ lists whose direction is not given, e.g. LMS) is tested as one
set with ``direction`` "up": its sign of ES then says on which side of the ranking its genes sit.
Gene weights of a signature are not used (set membership only). Genes of a set that are not in the ranking
are dropped from the set; a set with fewer than ``min_size`` genes left (default 2: our 2- to 4-gene lists
are kept, where gseapy's default of 15 would silently drop them) gives a row with NA and a note instead of
vanishing.

Focal genes
-----------
The focal score is computed from the focal signature's genes, so those genes correlate with it by
construction and sit at the top of the ranking; organ signatures that share them (FSCN1 is in the SS list
and in LMS; MMP1 in SS and in lung/relapse lists) would look enriched for that reason alone.
``exclude_focal_genes=True`` (default) leaves the focal signature's own genes out of the ranking; the
removed genes are listed in ``genes_removed``, and a set that lost genes that way says so in ``note``.

Statistics (gseapy's permutation method, checked in tests/test_prerank.py)
-------------------------------------------------------------------------
* ``es``: the weighted Kolmogorov-Smirnov running sum of Subramanian et al. 2005 with weight p
  (``weight``, default 1): walking down the ranking, a set gene adds |r_j|^p / sum_set |r|^p, any other
  gene subtracts 1 / (N - N_set); ES is the largest deviation from 0 (signed). gseapy's ES equals this
  hand-computed value to 1e-10.
* ``nes``: ES divided by the mean of the same-signed ESs of ``permutations`` random gene sets of the same
  size (gene-set permutation); ``p``: the fraction of same-signed random ESs at least as extreme (0 means
  below 1/number of same-signed random sets; it is not floored); ``fdr``: gseapy's FDR q-value computed
  over the sets of that focal signature (one gseapy call per focal signature).
* The permutations are seeded (``seed``) inside gseapy's compiled core: the same seed gives the same
  table, the random sets of a set depend only on its size, the seed and the ranking (not on the other
  sets, their order or ``threads``), and numpy's global RNG state is not touched.
* Caveat: a gene-set permutation null treats genes as independent. Signature genes are co-expressed, so
  when one is correlated with the score its neighbours are too, and small p/FDR overstate the evidence
  (Goeman & Buehlmann 2007; Wu & Smyth 2012). Read NES as an effect direction/size; sample-level evidence
  is in the correlation grid.

gseapy behaviours worked around (gseapy 1.3.1)
----------------------------------------------
* ``min_size`` defaults to 15 and sets below it vanish silently: sets are filtered here first (each gets a
  row, NA with a note if too small) and gseapy gets ``min_size`` as given and ``max_size`` = all ranked
  genes. gseapy raises ``LookupError`` when no set passes its filter, so it is only called with sets that
  pass; it also drops a set holding every ranked gene, which gets an NA row here.
* Ties: gseapy sorts the ranking with pandas' unstable sort, so tied genes (with Spearman at n = 200 about 5%
  of 16,000 genes are tied) land in an input-order-dependent order and ES moves with the input row order.
  The ranking is sorted here (ties by symbol) and passed with ``ascending=None`` (gseapy does not re-sort);
  its "order of those genes will be arbitrary" warning no longer applies and is silenced.
* Gene names: when fewer than 90% of the ranked names are upper case (``C1orf112``, mouse symbols) and the
  sets' genes are, gseapy upper-cases the ranked names, so ``abc`` and ``ABC`` collide and a set gene can hit
  the wrong gene; it also renames duplicated ids and splits set names on ``__``. gseapy therefore only sees
  neutral ids (``G000001``, ``S0001``), mapped back to symbols and signatures afterwards.
* ``outdir=None`` writes no file and draws no plot; gseapy's own ``gseaplot`` returns axes, not a figure,
  and needs NES/p/FDR, so :func:`enrichment_plot` is a small own plot.
* ``threads`` is capped by gseapy at (CPUs - 1); the results do not depend on it.

Timing (16,000 genes x 200 samples, 13 sets, 1,000 permutations, one focal score; tests/test_prerank.py):
about 1.8 s on one thread (0.2 s correlations, the rest gseapy's compiled permutations), plus about 2.5 s
once per process to import gseapy.
"""

from __future__ import annotations

import logging
import math
from numbers import Integral, Real
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from seedsig.core.errors import SeedsigError
from seedsig.core.plotting import OKABE_ITO
from seedsig.core.stats import rank_columns
from seedsig.scoring.signatures import Signature

PRERANK_COLUMNS = (
    "focal",
    "signature",
    "direction",
    "n_genes",
    "es",
    "nes",
    "p",
    "fdr",
    "leading_edge",
    "genes_removed",
    "note",
)
STATISTICS = ("spearman", "pearson")
MIN_SAMPLES = 3


# ------------------------------------------------------------------------------------ correlations
def _check_frame(expr: pd.DataFrame) -> np.ndarray:
    if not isinstance(expr, pd.DataFrame):
        raise SeedsigError("the expression matrix must be a pandas DataFrame (genes x samples).")
    for what, labels in (("gene (row)", expr.index), ("sample (column)", expr.columns)):
        dup = labels[labels.duplicated()]
        if len(dup):
            raise SeedsigError(
                f"the expression matrix has duplicated {what} labels ({', '.join(map(str, dup[:5]))}): "
                "collapse rows to one per gene (seedsig.ingest.ids.harmonize) and give every sample a unique name."
            )
    try:
        return expr.to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise SeedsigError(
            "the expression matrix holds non-numeric values: it must be normalized log-scale numbers."
        ) from None


def _check_statistic(statistic: str) -> None:
    if statistic not in STATISTICS:
        raise SeedsigError(f"correlation statistic '{statistic}' is not one of {', '.join(STATISTICS)}.")


def _correlate(x: np.ndarray, s: np.ndarray, statistic: str) -> np.ndarray:
    """Correlation of every row of ``x`` (genes x n) with every column of ``s`` (n x F, finite): genes x F.

    Rows with a non-finite value or constant get NaN; a constant column gets NaN."""
    finite = np.isfinite(x).all(axis=1)
    x = np.where(finite[:, None], x, 0.0)
    constant = x.max(axis=1, initial=-np.inf) == x.min(axis=1, initial=np.inf)
    s_constant = s.max(axis=0, initial=-np.inf) == s.min(axis=0, initial=np.inf)
    if statistic == "spearman":
        x = rank_columns(x.T).T  # each gene ranked across the samples (ties: average)
        s = rank_columns(s)
    xc = x - x.mean(axis=1, keepdims=True)
    sc = s - s.mean(axis=0, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (xc @ sc) / np.outer(np.sqrt(np.einsum("ij,ij->i", xc, xc)), np.sqrt(np.einsum("ij,ij->j", sc, sc)))
    r = np.clip(r, -1.0, 1.0)
    r[~finite | constant, :] = np.nan
    r[:, s_constant] = np.nan
    return r


# genes x samples per chunk of the gene correlations. Spearman: ranks and their products are exact (whole numbers and
# halves), so any chunking gives the same bits; Pearson's matrix product may round differently with the number of rows
# of a chunk, so its chunks are large (a matrix of up to 25 M values is one chunk: the bits of the whole-matrix code).
CORRELATION_CHUNK_ELEMENTS = 25_000_000
SPEARMAN_CHUNK_ELEMENTS = 4_000_000


def _correlation_frame(
    expr: pd.DataFrame, scores: pd.DataFrame, statistic: str, min_samples: int = MIN_SAMPLES
) -> pd.DataFrame:
    """genes (sorted by label) x score columns. Columns whose finite samples coincide share one ranking
    of the genes and one matrix product; a column with fewer than ``min_samples`` finite samples stays NaN."""
    _check_statistic(statistic)
    values = _check_frame(expr)
    if scores.index.duplicated().any():
        dup = scores.index[scores.index.duplicated()][:5]
        raise SeedsigError(f"the score table has duplicated sample labels ({', '.join(map(str, dup))}).")
    genes = expr.index.astype(str)
    gorder = np.argsort(np.asarray(genes, dtype=str), kind="stable")
    samples = expr.columns.astype(str)
    score_samples = scores.index.astype(str)
    shared = np.intersect1d(
        np.asarray(samples, dtype=str), np.asarray(score_samples, dtype=str)
    )  # sorted: canonical order
    if shared.size == 0:
        raise SeedsigError(
            "no sample of the score table is a column of the expression matrix: scores and expression must come "
            f"from the same cohort (score samples e.g. {', '.join(map(str, score_samples[:3]))}; "
            f"expression columns e.g. {', '.join(map(str, samples[:3]))})."
        )
    col_idx = pd.Index(samples).get_indexer(shared)
    try:
        s_all = scores.set_axis(score_samples, axis=0).loc[shared].to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise SeedsigError("the score table holds non-numeric values.") from None
    out = np.full((values.shape[0], scores.shape[1]), np.nan)
    ok = np.isfinite(s_all)
    groups: dict[bytes, list[int]] = {}
    for j in range(scores.shape[1]):
        groups.setdefault(ok[:, j].tobytes(), []).append(j)
    chunk = SPEARMAN_CHUNK_ELEMENTS if statistic == "spearman" else CORRELATION_CHUNK_ELEMENTS
    step = max(1, chunk // max(shared.size, 1))
    for a in range(0, values.shape[0], step):  # chunks of genes
        x = values[gorder[a : a + step]][:, col_idx]
        for cols in groups.values():
            use = ok[:, cols[0]]
            if use.sum() >= max(MIN_SAMPLES, min_samples):
                out[a : a + step, cols] = _correlate(x[:, use], s_all[np.ix_(use, cols)], statistic)
    return pd.DataFrame(out, index=pd.Index(np.asarray(genes)[gorder], name="gene"), columns=scores.columns)


def gene_correlations(expr: pd.DataFrame, score: pd.Series, statistic: str = "spearman") -> pd.Series:
    """Correlation of every gene of ``expr`` (genes x samples, normalized log scale) with ``score``
    (indexed by sample), over the samples where the score is finite.

    Returns a Series indexed by gene symbol in sorted order (NaN for genes with a non-finite value in a
    used sample or constant over them; all NaN if the score is constant or has fewer than 3 finite
    values). Vectorized: genes are ranked once, then one matrix product."""
    if not isinstance(score, pd.Series):
        raise SeedsigError("the score must be a pandas Series indexed by sample.")
    r = _correlation_frame(expr, score.to_frame("score"), statistic)["score"]
    return r.rename(statistic)


def _order_ranking(r: pd.Series) -> pd.Series:
    """Finite values, decreasing; ties ordered by gene symbol."""
    r = r[np.isfinite(r.to_numpy(dtype=np.float64))]
    labels = np.asarray(r.index.astype(str), dtype=str)
    by_label = np.argsort(labels, kind="stable")
    values = r.to_numpy(dtype=np.float64)[by_label]
    order = by_label[np.argsort(-values, kind="stable")]
    return r.iloc[order]


def gene_ranking(
    expr: pd.DataFrame, score: pd.Series, statistic: str = "spearman", exclude: Iterable[str] = ()
) -> pd.Series:
    """The ranking prerank uses: :func:`gene_correlations` without NaN and without the genes in
    ``exclude``, sorted by decreasing correlation (ties by gene symbol).

    To get the ranking behind a :func:`prerank_table` row: ``exclude`` = the focal signature's genes
    when ``exclude_focal_genes`` is on (they are listed in the row's ``genes_removed``)."""
    r = gene_correlations(expr, score, statistic)
    ex = set(map(str, exclude))
    return _order_ranking(r[~r.index.isin(ex)])


# ------------------------------------------------------------------------------------------ prerank
def _check_int(name: str, value: object, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or int(value) < low:
        raise SeedsigError(f"prerank: {name} must be a whole number >= {low}, not {value!r}.")
    return int(value)


def direction_sets(sig: Signature) -> list[tuple[str, list[str]]]:
    """(direction, genes) of the sets a signature gives: up and down if signed, else one 'up' set."""
    if sig.signed:
        return [("up", list(dict.fromkeys(sig.up))), ("down", list(dict.fromkeys(sig.down)))]
    return [("up", list(dict.fromkeys(sig.genes)))]


def _run_gseapy(
    ranking: pd.Series,
    sets: dict[str, list[str]],
    *,
    permutations: int,
    seed: int,
    min_size: int,
    weight: float,
    threads: int,
) -> dict[str, dict]:
    """gseapy prerank on a sorted ranking with neutral gene and set ids; results by set key."""
    import gseapy

    ids = np.array([f"G{i:06d}" for i in range(len(ranking))], dtype=object)
    to_id = dict(zip(ranking.index.astype(str), ids))
    to_gene = dict(zip(ids, ranking.index.astype(str)))
    keys = {f"S{i:04d}": key for i, key in enumerate(sets)}
    gmt = {k: [to_id[g] for g in sets[key]] for k, key in keys.items()}
    rnk = pd.Series(ranking.to_numpy(dtype=np.float64), index=pd.Index(ids, dtype=object), name="r")
    pre = gseapy.Prerank(
        rnk=rnk,
        gene_sets=gmt,
        outdir=None,
        min_size=min_size,
        max_size=len(ranking),
        permutation_num=permutations,
        weight=weight,
        ascending=None,  # already sorted, ties by symbol: gseapy's sort is not stable
        threads=threads,
        no_plot=True,
        seed=seed,
        verbose=False,
    )
    if isinstance(getattr(pre, "_logger", None), logging.Logger):
        pre._logger.setLevel(logging.ERROR)  # the tie warning does not apply: ties are ordered by symbol
    pre.run()
    out = {}
    for rec in pre.res2d.to_dict("records"):
        lead = [to_gene[g] for g in str(rec.get("Lead_genes") or "").split(";") if g in to_gene]
        out[keys[rec["Term"]]] = {
            "es": float(rec["ES"]),
            "nes": float(rec["NES"]),
            "p": float(rec["NOM p-val"]),
            "fdr": float(rec["FDR q-val"]),
            "leading_edge": ";".join(lead),
        }
    return out


def _checked_focal(
    scores: pd.DataFrame, focal: Sequence[str] | str, signatures: Sequence[Signature], exclude_focal_genes: bool
) -> tuple[list[str], list[str], dict[str, Signature]]:
    """The focal names as given, those that are columns of the score table, and the signatures by name;
    raises for duplicated signature names, no focal score, or focal genes that cannot be left out."""
    if not isinstance(scores, pd.DataFrame):
        raise SeedsigError("the score table must be a pandas DataFrame (samples x signatures).")
    focal = [focal] if isinstance(focal, str) else list(focal)
    names = [s.name for s in signatures]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise SeedsigError(f"signature name(s) {', '.join(dup)} occur more than once: names must be unique.")
    by_name = {s.name: s for s in signatures}
    present = [f for f in dict.fromkeys(focal) if f in scores.columns]
    if not present:
        raise SeedsigError(
            f"none of the focal signatures ({', '.join(focal) or 'none given'}) is a column of the score table "
            f"(columns: {', '.join(map(str, scores.columns[:10]))}): check 'signatures.focal' in the config."
        )
    if exclude_focal_genes:
        unknown = [f for f in present if f not in by_name]
        if unknown:
            raise SeedsigError(
                f"focal signature(s) {', '.join(unknown)} are not among the given signatures, so their genes "
                "cannot be left out of the ranking: pass their signature or set exclude_focal_genes to false."
            )
    return focal, present, by_name


def _focal_note(f: str, n_finite: int, finite: pd.Series, ranking: pd.Series, min_samples: int) -> str:
    """Why no set can be tested on the ranking of focal score ``f`` ('' when it can)."""
    if n_finite < min_samples:
        return (
            f"the focal score '{f}' has {n_finite} finite value(s) in samples of the expression matrix; "
            f"at least {min_samples} are needed"
        )
    if finite.empty:
        return (
            f"no gene correlates with the focal score '{f}': the score is constant, or every gene is constant or "
            "has missing values"
        )
    if len(ranking) < 2:
        return f"only {len(ranking)} gene(s) left in the ranking"
    return ""


def _set_plan(
    targets: Sequence[Signature], ranking: pd.Series, removed: set[str], focal_note: str, min_size: int
) -> tuple[list[tuple[str, str, int, str]], dict[tuple[str, str], list[str]]]:
    """Each target set (signature, direction) with its genes in the ranking and its note, and the sets gseapy is
    run on (those without a reason not to)."""
    in_ranking = set(ranking.index)
    plan, sets = [], {}
    for sig in targets:
        for direction, genes in direction_sets(sig):
            kept = [g for g in genes if g in in_ranking]
            lost = [g for g in genes if g in removed]
            note = f"left out as gene(s) of the focal signature: {', '.join(lost)}" if lost else ""
            if focal_note:
                note = focal_note
            elif len(kept) < min_size:
                absent = [g for g in genes if g not in in_ranking and g not in removed]
                parts = [
                    f"{len(kept)} of {len(genes)} gene(s) of the set in the ranking ({', '.join(kept) or 'none'}); "
                    f"min_size is {min_size}"
                ]
                if absent:
                    parts.append(f"not measured, constant or with missing values: {', '.join(absent)}")
                if lost:
                    parts.append(note)
                note = "; ".join(parts)
            elif len(kept) >= len(ranking):
                note = "the set holds every ranked gene: enrichment cannot be measured"
            else:
                sets[(sig.name, direction)] = kept
            plan.append((sig.name, direction, len(kept), note))
    return plan, sets


def _focal_rows(f: str, plan: list[tuple[str, str, int, str]], res: dict, removed: list[str]) -> list[dict]:
    """The rows of one focal score: one per planned set, gseapy's statistics where it ran."""
    rows = []
    for name, direction, n, note in plan:
        g = res.get((name, direction), {})
        rows.append(
            {
                "focal": f,
                "signature": name,
                "direction": direction,
                "n_genes": n,
                "es": g.get("es", np.nan),
                "nes": g.get("nes", np.nan),
                "p": g.get("p", np.nan),
                "fdr": g.get("fdr", np.nan),
                "leading_edge": g.get("leading_edge", ""),
                "genes_removed": ";".join(removed),
                "note": note,
            }
        )
    return rows


def prerank_table(
    expr: pd.DataFrame,
    scores: pd.DataFrame,
    focal: Sequence[str],
    signatures: Sequence[Signature],
    *,
    statistic: str = "spearman",
    permutations: int = 1000,
    seed: int = 0,
    min_size: int = 2,
    weight: float = 1.0,
    exclude_focal_genes: bool = True,
    threads: int = 1,
    min_samples: int = MIN_SAMPLES,
) -> pd.DataFrame:
    """Pre-ranked GSEA of the target signatures on genes ranked by their correlation with each focal score.

    ``expr``: genes x samples (normalized log scale, one row per gene symbol); ``scores``: samples x
    signatures; ``focal``: focal signature names (those that are columns of ``scores`` are used);
    ``signatures``: every signature; the targets are all signatures not named in ``focal``.

    One row per focal x target set, columns :data:`PRERANK_COLUMNS`: ``focal``, ``signature``,
    ``direction`` (up/down; unsigned signatures: up), ``n_genes`` (genes of the set in the ranking), ``es``,
    ``nes``, ``p`` (nominal), ``fdr`` (gseapy's FDR q over the sets of that focal), ``leading_edge``
    (';'-joined), ``genes_removed`` (focal genes left out of the ranking, ';'-joined) and ``note``
    (why a row is NA; focal genes a set lost). The ranking of a row: :func:`gene_ranking`.

    ``min_samples`` (at least 3; the pipeline passes ``associate.min_samples``): a focal score with fewer finite
    values in samples of the matrix gives NA rows with a note, and gseapy is not run for it.
    """
    _check_statistic(statistic)
    permutations = _check_int("permutations", permutations, 1)
    seed = _check_int("seed", seed, 0)
    if seed >= 2**64:
        raise SeedsigError(f"prerank: seed must be below 2**64, not {seed}.")
    min_size = _check_int("min_size", min_size, 1)
    threads = _check_int("threads", threads, 1)
    min_samples = _check_int("min_samples", min_samples, MIN_SAMPLES)
    if isinstance(weight, bool) or not isinstance(weight, Real) or not math.isfinite(weight) or weight < 0:
        raise SeedsigError(f"prerank: weight must be a number >= 0 (1 = GSEA's default), not {weight!r}.")
    focal, present, by_name = _checked_focal(scores, focal, signatures, exclude_focal_genes)
    focal_set = set(focal)
    targets = [s for s in signatures if s.name not in focal_set]
    corr = _correlation_frame(expr, scores[present], statistic, min_samples)
    in_expr = scores.index.astype(str).isin(set(expr.columns.astype(str)))

    rows = []
    for f in present:
        r = corr[f]
        finite = r[np.isfinite(r.to_numpy())]
        removed = [g for g in dict.fromkeys(by_name[f].genes) if g in finite.index] if exclude_focal_genes else []
        ranking = _order_ranking(finite.drop(index=removed))
        n_finite = int(np.isfinite(scores[f].to_numpy(dtype=np.float64)[in_expr]).sum())
        focal_note = _focal_note(f, n_finite, finite, ranking, min_samples)
        plan, sets = _set_plan(targets, ranking, set(removed), focal_note, min_size)
        res = (
            _run_gseapy(
                ranking, sets, permutations=permutations, seed=seed, min_size=min_size, weight=weight, threads=threads
            )
            if sets
            else {}
        )
        rows.extend(_focal_rows(f, plan, res, removed))
    out = pd.DataFrame(rows, columns=list(PRERANK_COLUMNS))
    out["n_genes"] = out["n_genes"].astype("int64")
    for c in ("es", "nes", "p", "fdr"):
        out[c] = out[c].astype("float64")
    return out


# ---------------------------------------------------------------------------------------- plotting
def running_enrichment(ranking: pd.Series, genes: Iterable[str], weight: float = 1.0) -> np.ndarray:
    """The running enrichment score along ``ranking`` (sorted as :func:`gene_ranking`: decreasing, ties by
    symbol) for the set ``genes`` (those not in the ranking are ignored): set genes step up by
    |r|^weight / sum over the set, other genes down by 1 / (N - N_set). ES = the value farthest from 0."""
    r = _order_ranking(ranking)
    hit = r.index.isin(set(map(str, genes)))
    k, n = int(hit.sum()), len(r)
    if k == 0 or k == n:
        raise SeedsigError(
            f"the gene set has {k} of the {n} ranked genes: a running enrichment score needs some but not all of them."
        )
    w = np.where(hit, np.abs(r.to_numpy(dtype=np.float64)) ** weight if weight else 1.0, 0.0)
    return np.cumsum(np.where(hit, w / w.sum(), -1.0 / (n - k)))


def enrichment_plot(ranking: pd.Series, genes: Iterable[str], title: str, *, weight: float = 1.0):
    """Running enrichment score of ``genes`` on ``ranking`` (a gene -> correlation Series, e.g. from
    :func:`gene_ranking`): the running-ES line with its extreme marked, a tick per set gene, and the ranked
    metric below. Returns a matplotlib Figure built without pyplot (headless, nothing shown or written)."""
    from matplotlib.figure import Figure

    genes = list(map(str, genes))
    r = _order_ranking(ranking)
    res = running_enrichment(r, genes, weight)
    hit = np.flatnonzero(r.index.isin(set(genes)))
    i = int(np.argmax(np.abs(res)))
    x = np.arange(1, len(r) + 1)
    fig = Figure(figsize=(6.0, 5.0), layout="constrained")
    ax_es, ax_hit, ax_r = fig.subplots(3, 1, sharex=True, gridspec_kw={"height_ratios": [3, 0.6, 1.6]})
    ax_es.plot(x, res, color=OKABE_ITO[0], lw=1.5, label=f"running ES (ES = {res[i]:.3f})")
    ax_es.axhline(0.0, color=OKABE_ITO[7], lw=0.6)
    ax_es.axvline(x[i], color=OKABE_ITO[3], lw=0.8, ls="--", label=f"peak at rank {x[i]}")
    ax_es.set_ylabel("enrichment score")
    ax_es.set_title(title)
    ax_es.legend(loc="best", fontsize=8, frameon=False)
    ax_hit.vlines(x[hit], 0, 1, color=OKABE_ITO[7], lw=0.8)
    ax_hit.set_yticks([])
    ax_hit.set_ylabel(f"set\n({hit.size})", rotation=0, ha="right", va="center", fontsize=8)
    vals = r.to_numpy(dtype=np.float64)
    ax_r.fill_between(x, vals, 0, where=vals >= 0, color=OKABE_ITO[1], lw=0, step="mid")
    ax_r.fill_between(x, vals, 0, where=vals < 0, color=OKABE_ITO[5], lw=0, step="mid")
    ax_r.axhline(0.0, color=OKABE_ITO[7], lw=0.6)
    ax_r.set_ylabel("correlation\nwith score")
    ax_r.set_xlabel(f"gene rank (1 = most positively correlated; {len(r)} genes)")
    ax_r.set_xlim(1, len(r))
    return fig
