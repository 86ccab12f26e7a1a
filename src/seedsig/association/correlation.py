"""Correlation stage: does the self-seeding (SS) score track the organ signatures, beyond chance and
beyond shared genes?

:func:`correlation_table` gives one row per scoring method x focal signature (SS and its sub-scores) x
target signature x statistic (``spearman``, ``pearson``), columns :data:`CORRELATION_COLUMNS`:

``r``, ``p``, ``n``
    Spearman's or Pearson's r of the two scores over the samples where both are finite. p: two-sided, from
    t = r sqrt((n - 2) / (1 - r^2)) with n - 2 df (``scipy.stats.spearmanr``'s t approximation; for Pearson
    this is the exact test, equal to ``scipy.stats.pearsonr``). Fewer than 3 samples or a constant score: NA.
``q``
    Benjamini-Hochberg over **the grid**: every row of the table (all methods x focal x targets x statistics)
    that has a p-value (rows below ``min_samples`` have none and are not in the family).
``ci_low``, ``ci_high``
    95% interval. Pearson: Fisher z, tanh(atanh(r) -/+ 1.96 / sqrt(n - 3)). Spearman: percentile bootstrap over
    samples, ``n_bootstrap`` resamples drawn at once (a B x n index matrix), each resample ranked row-wise
    (ties averaged) and correlated as row-wise dot products; seeded per row from ``seed`` and the row's
    method / signatures (same seed, same interval).
``n_shared_genes``, ``jaccard``, ``p_overlap``
    Overlap of the two gene lists as measured in the cohort (genes with a value in every sample):
    |A n B|, |A n B| / |A u B|, and the hypergeometric P(X >= |A n B|) drawing |A| genes from the measured
    genes of which |B| are B's (``scipy.stats.hypergeom.sf``).
``r_without_shared``
    Both signatures re-scored (same method, parameters and coverage rule, on the reduced lists) with the
    shared genes removed, and the correlation recomputed: what is left of r without the genes the two lists
    have in common. Equal to ``r`` when nothing is shared; NA when a reduced list no longer meets the
    coverage rule (``min_genes``, ``min_fraction`` of the reduced list).
``p_random_null``
    Empirical (b + 1) / (B + 1): b of ``n_random`` random signatures matched to the focal signature (same
    size per direction, genes drawn from the same expression bins: :func:`seedsig.scoring.random_sets.matched_random_sets`)
    correlate with the target at least as strongly (|r|) as the focal signature does. Random scores are made
    once per (method, focal) with a seed derived from ``seed``, the method and the focal name, and all B
    correlations with a target are one matrix operation. Methods without a vectorized null
    (gsva, plage, score_genes) score the random signatures with :func:`seedsig.scoring.methods.score`.
``r_partial``, ``covariates``
    Partial correlation adjusting for the proliferation metagene (meta-PCNA, :func:`meta_pcna`) and the given
    clinical covariates: the correlation of the residuals of both scores after least-squares regression on
    [1, covariates], over the complete cases. For Spearman every variable (both scores, every covariate
    column) is ranked over the complete cases first, as R ``ppcor`` does (ranking a 0/1 dummy changes
    nothing). Numeric covariates enter as they are, text ones as dummies (the first sorted level is the
    reference). ``covariates`` lists what was adjusted for (``meta_pcna;er_status``); with nothing to adjust
    for ``r_partial`` is NA and ``covariates`` is empty.
``note``
    Why a row has no r (or lacks one of its statistics): a signature that is not scored, fewer samples with both
    scores than ``min_samples`` (``associate.min_samples``, default 10), a constant score, a reduced list that no
    longer meets the coverage rule, a random null that could not be drawn. Empty when nothing is missing.

The floor: a row whose n (samples where both scores are finite) is below ``min_samples`` is not tested. Its
``r``, ``p``, ``q``, ``ci_low``, ``ci_high``, ``r_without_shared``, ``r_partial`` and ``p_random_null`` are NA, its
``note`` says why, it is not in the BH family, and nothing is computed for it (no bootstrap, no re-scoring without
shared genes, no random-signature scores for a focal signature none of whose rows is tested). Spearman's |r| on 3
samples is 1 (p = 0) one time in three by chance alone: such numbers must not look like results.

Data conditions (a score that could not be computed, a constant score, a covariate with one level, too few
samples) give NA values and a reason in the info dict, never an exception. Samples are used in sorted order
(every result is independent of the input sample and gene order); randomness comes from
``np.random.default_rng`` seeded from ``seed`` (the global RNG is untouched)."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from seedsig.core.errors import SeedsigError
from seedsig.core.progress import Timer, progress
from seedsig.core.stats import Z975, bh_qvalues, corr_rows, empirical_null_p, ranks, stable_seed
from seedsig.scoring.methods import SCORING_METHODS, score, standardize, usable_matrix
from seedsig.scoring.random_sets import NULL_METHODS, expression_bins, matched_random_sets, random_signature_scores
from seedsig.scoring.signatures import Signature

CORRELATION_COLUMNS = (
    "method",
    "signature_a",
    "signature_b",
    "r",
    "p",
    "q",
    "n",
    "statistic",
    "ci_low",
    "ci_high",
    "n_shared_genes",
    "jaccard",
    "p_overlap",
    "r_without_shared",
    "p_random_null",
    "r_partial",
    "covariates",
    "note",
)
STATISTICS = ("spearman", "pearson")
META_PCNA_FRACTION = 0.01  # Venet et al. 2011: the 1% of genes most positively correlated with PCNA
META_PCNA_MIN_GENES = 10  # floor for small matrices (1% of 2,000 genes would be a median of 20 genes; of 500, of 5)
MIN_SAMPLES = 3  # the least n at which r and its p are defined at all (correlation())
MIN_SAMPLES_TESTED = 10  # default floor of correlation_table (associate.min_samples): below it a row is not tested
CHUNK_ELEMENTS = 5_000_000  # resamples x samples per chunk of the bootstrap


def correlation_p(r: float, n: int, k: int = 0) -> float:
    """Two-sided p of a (partial) correlation: t = r sqrt(df / (1 - r^2)) with df = n - 2 - k."""
    df = n - 2 - k
    if not np.isfinite(r) or df < 1:
        return np.nan
    if abs(r) >= 1.0:
        return 0.0
    t = r * math.sqrt(df / ((1.0 - r) * (1.0 + r)))
    return float(2.0 * stats.t.sf(abs(t), df))


def correlation(
    a: np.ndarray, b: np.ndarray, statistic: str = "spearman", min_samples: int = MIN_SAMPLES
) -> tuple[float, float, int]:
    """Spearman or Pearson r, two-sided p and n over the pairs where both values are finite (r and p NA with fewer
    than ``min_samples`` pairs, at least 3)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    ok = np.isfinite(a) & np.isfinite(b)
    n = int(ok.sum())
    if n < max(MIN_SAMPLES, int(min_samples)):
        return np.nan, np.nan, n
    x, y = a[ok], b[ok]
    if statistic == "spearman":
        x, y = ranks(x), ranks(y)
    r = float(corr_rows(x, y)[0])
    return r, correlation_p(r, n), n


def fisher_ci(r: float, n: int) -> tuple[float, float]:
    """95% interval of a Pearson r by Fisher's z: tanh(atanh(r) -/+ 1.96 / sqrt(n - 3))."""
    if not np.isfinite(r) or n < 4:
        return np.nan, np.nan
    z, se = np.arctanh(r), 1.0 / math.sqrt(n - 3)
    return float(np.tanh(z - Z975 * se)), float(np.tanh(z + Z975 * se))


def bootstrap_ci(a: np.ndarray, b: np.ndarray, n_bootstrap: int, seed: int, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of Spearman's r of the complete pairs (a, b).

    All resamples at once: a (B x n) index matrix from ``np.random.default_rng(seed)``, each resample ranked
    row-wise (ties averaged) and correlated as row-wise dot products (chunked over B to bound memory).
    Resamples in which a score is constant are left out of the percentiles."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    n = a.size
    if n_bootstrap < 1 or n < MIN_SAMPLES:
        return np.nan, np.nan
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_bootstrap, n))
    r = np.empty(n_bootstrap)
    step = max(1, CHUNK_ELEMENTS // n)
    for s in range(0, n_bootstrap, step):
        i = idx[s : s + step]
        r[s : s + step] = corr_rows(ranks(a[i]), ranks(b[i]))
    r = r[np.isfinite(r)]
    if r.size == 0:
        return np.nan, np.nan
    alpha = 100.0 * (1.0 - level) / 2.0
    lo, hi = np.percentile(r, [alpha, 100.0 - alpha])
    return float(lo), float(hi)


def overlap(
    genes_a: Sequence[str], genes_b: Sequence[str], measured: Sequence[str] | set[str]
) -> tuple[int, float, float]:
    """Overlap of two gene lists restricted to the measured genes: (|A n B|, Jaccard |A n B| / |A u B|,
    hypergeometric P(X >= |A n B|) with population = measured genes, |A| draws and |B| successes).
    Jaccard is NA when neither list has a measured gene."""
    pop = set(measured)
    a, b = set(genes_a) & pop, set(genes_b) & pop
    shared, union = len(a & b), len(a | b)
    jac = shared / union if union else np.nan
    p = float(stats.hypergeom.sf(shared - 1, len(pop), len(b), len(a))) if pop else np.nan
    return shared, jac, min(1.0, p) if np.isfinite(p) else p


def measured_genes(expr: pd.DataFrame) -> set[str]:
    """Genes with a finite value in every sample (as the scoring coverage counts a gene present)."""
    finite = np.isfinite(expr.to_numpy(dtype=float)).all(axis=1)
    return set(expr.index.astype(str)[finite])


# -------------------------------------------------------------------------------------------- meta-PCNA
def meta_pcna(
    expr: pd.DataFrame, fraction: float = META_PCNA_FRACTION, min_genes: int = META_PCNA_MIN_GENES
) -> tuple[pd.Series, list[str]]:
    """Proliferation metagene of Venet et al. 2011 (meta-PCNA) in a genes x samples log-expression matrix.

    Genes: the ``ceil(fraction x measured genes)`` genes (at least ``min_genes``) most positively correlated
    (Pearson, across the samples) with PCNA, PCNA itself first. Measured genes: finite in every sample and not
    constant (one row per symbol: the highest mean). Score per sample: the median of the genes' z-scores
    (each gene standardized across samples, so that every gene weighs the same whatever its expression level).
    Ties in r are broken by gene symbol, so the choice does not depend on row order.
    Returns (score per sample, the genes); without a measured PCNA: (all-NA score, [])."""

    cols = expr.columns.astype(str)
    x, rows, _ = usable_matrix(expr, None, drop_constant=True)
    if "PCNA" not in rows or x.shape[1] < 3:
        return pd.Series(np.nan, index=pd.Index(cols, name="sample"), name="meta_pcna"), []
    symbols = np.array(sorted(rows), dtype=object)
    z = standardize(x[[rows[g] for g in symbols]])
    pcna = int(np.flatnonzero(symbols == "PCNA")[0])
    r = z @ z[pcna] / (z.shape[1] - 1)
    r[pcna] = np.inf  # PCNA itself first
    k = min(len(symbols), max(int(min_genes), int(math.ceil(fraction * len(symbols)))))
    top = np.lexsort((symbols, -r))[:k]
    score = np.median(z[top], axis=0)
    return pd.Series(score, index=pd.Index(cols, name="sample"), name="meta_pcna"), symbols[top].tolist()


# ------------------------------------------------------------------------------------ partial correlation
def partial_correlation(
    a: np.ndarray, b: np.ndarray, z: np.ndarray | None, statistic: str = "pearson"
) -> tuple[float, float, int, int]:
    """Partial correlation of ``a`` and ``b`` given the columns of ``z`` (n x k; NA allowed): the correlation of
    the residuals of a and b after least-squares regression on [1, z], over the complete cases. Spearman: a, b
    and every column of z are ranked (ties averaged) over the complete cases first, as R ``ppcor::pcor.test``.
    p: t = r sqrt(df / (1 - r^2)) on df = n - 2 - k (k = rank of the centered z over the complete cases; ppcor
    1.1 uses the same statistic with a normal reference). Returns (r, p, n, k)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    z = np.empty((a.size, 0)) if z is None else np.asarray(z, dtype=float).reshape(a.size, -1)
    ok = np.isfinite(a) & np.isfinite(b) & np.isfinite(z).all(axis=1)
    n = int(ok.sum())
    x, y, zz = a[ok], b[ok], z[ok]
    if statistic == "spearman":
        x, y = ranks(x), ranks(y)
        zz = ranks(zz.T).T if zz.size else zz
    zc = zz - zz.mean(axis=0, keepdims=True) if zz.size else zz
    k = int(np.linalg.matrix_rank(zc)) if zc.size else 0
    if n - 2 - k < 1:
        return np.nan, np.nan, n, k
    design = np.column_stack([np.ones(n), zz])
    coef, *_ = np.linalg.lstsq(design, np.column_stack([x, y]), rcond=None)
    res = np.column_stack([x, y]) - design @ coef
    scale = np.abs(np.column_stack([x, y]) - np.column_stack([x, y]).mean(axis=0)).max(axis=0)
    if not (scale > 0).all() or (np.abs(res).max(axis=0) <= 1e-12 * scale).any():
        return np.nan, np.nan, n, k  # a score is constant or fully explained by the covariates
    r = float(corr_rows(res[:, 0], res[:, 1])[0])
    return r, correlation_p(r, n, k), n, k


def covariate_design(
    covariates: pd.DataFrame | None, samples: Sequence[str]
) -> tuple[pd.DataFrame, dict[str, list[str]], dict]:
    """Numeric design columns of the clinical covariates for ``samples``: numeric covariates as they are, others
    (text, categorical, boolean) as 0/1 dummies of every level but the first in sorted order (the reference).
    Missing values stay NA (those samples drop out of the partial correlation). A covariate with one level or
    value, or with no value, is skipped. Returns (samples x columns, covariate -> its columns, info)."""
    idx = pd.Index(list(samples), name="sample")
    cols: dict[str, pd.Series] = {}
    groups: dict[str, list[str]] = {}
    info: dict = {"used": [], "skipped": {}, "coding": {}}
    if covariates is None or covariates.shape[1] == 0:
        return pd.DataFrame(index=idx), groups, info
    cov = covariates.copy()
    cov.index = cov.index.astype(str)
    if cov.index.duplicated().any():
        raise SeedsigError("the covariate table has duplicated sample ids: give one row per sample.")
    if not cov.index.isin(idx).any():
        raise SeedsigError(
            f"the covariate table shares no sample id with the scores (e.g. '{cov.index[0]}' vs '{idx[0]}'): its index must hold the sample ids."
        )
    cov = cov.reindex(idx)
    for name in cov.columns:
        s = cov[name]
        label = str(name)
        n_missing = int(s.isna().sum())
        if s.notna().sum() == 0:
            info["skipped"][label] = "no value in any sample"
            continue
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            v = s.astype(float)
            if v.nunique(dropna=True) < 2:
                info["skipped"][label] = f"one value only ({v.dropna().iloc[0]:g}) across the samples"
                continue
            cols[label] = v
            groups[label] = [label]
            info["coding"][label] = {"type": "numeric", "n_missing": n_missing}
        else:
            text = s.map(lambda v: v if pd.isna(v) else str(v))
            levels = sorted(text.dropna().unique())
            if len(levels) < 2:
                info["skipped"][label] = f"one level only ('{levels[0]}') across the samples"
                continue
            groups[label] = []
            for lev in levels[1:]:
                c = f"{label}={lev}"
                cols[c] = (text == lev).astype(float).where(text.notna())
                groups[label].append(c)
            info["coding"][label] = {
                "type": "categorical",
                "reference": levels[0],
                "levels": levels,
                "n_missing": n_missing,
            }
        info["used"].append(label)
    return pd.DataFrame(cols, index=idx), groups, info


# ----------------------------------------------------------------------------------------- random nulls
def random_null_scores(
    expr: pd.DataFrame,
    signature: Signature,
    method: str,
    n: int,
    seed: int,
    params: dict | None = None,
    *,
    vectorized: bool | None = None,
) -> np.ndarray:
    """Scores (n x samples, samples in ``expr``'s column order) of ``n`` random signatures matched to
    ``signature`` (size per direction and expression bins of its measured genes), seeded with ``seed``.

    Methods in :data:`seedsig.scoring.random_sets.NULL_METHODS` use the vectorized
    :func:`seedsig.scoring.random_sets.random_signature_scores`; the others (or ``vectorized=False``) draw the same
    random gene sets and score them as ordinary signatures with :func:`seedsig.scoring.methods.score`."""

    if vectorized is None:
        vectorized = method in NULL_METHODS
    if vectorized:
        return random_signature_scores(expr, signature, method, n, seed, params=params)[0]
    if method not in SCORING_METHODS:
        raise SeedsigError(f"scoring method '{method}' is not one of {', '.join(SCORING_METHODS)}.")
    x, rows, labels = usable_matrix(expr, None, SCORING_METHODS[method].drops_constant_genes)
    bins = expression_bins(x.mean(axis=1), 25)  # as random_signature_scores (same rng use: identical sets)
    rng = np.random.default_rng(seed)
    parts = []
    for genes in (signature.up, signature.down):
        idx = np.array(sorted(rows[g] for g in genes if g in rows), dtype=np.int64)
        parts.append(matched_random_sets(bins, idx, n, rng) if idx.size else np.empty((n, 0), dtype=np.int64))
    if not any(p.shape[1] for p in parts):
        raise SeedsigError(
            f"signature '{signature.name}' has no gene in the matrix: no random null can be matched to it."
        )
    up, down = labels[parts[0]], labels[parts[1]]
    sigs = [
        Signature(name=f"random_{i}", genes=(*up[i], *down[i]), directions=(1,) * up.shape[1] + (-1,) * down.shape[1])
        for i in range(n)
    ]
    return score(expr, sigs, method, min_genes=1, min_fraction=0.0, params=params).scores.to_numpy().T


# ----------------------------------------------------------------------------------------- the grid
def _whole(v: object) -> bool:
    """A whole number >= 0 (an int, or a float without fraction; not a bool)."""
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        return False
    return bool(np.isfinite(v)) and float(v).is_integer() and v >= 0


def _unique(names: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(map(str, names)))


def _reduced(sig: Signature, drop: frozenset[str]) -> Signature:
    keep = [(g, d) for g, d in zip(sig.genes, sig.directions) if g not in drop]
    return Signature(
        name=f"{sig.name} without {','.join(sorted(drop))}",
        genes=tuple(g for g, _ in keep),
        directions=tuple(d for _, d in keep),
        organ=sig.organ,
    )


def correlation_table(
    expr: pd.DataFrame,
    scores: dict[str, pd.DataFrame],
    signatures: Sequence[Signature],
    focal: Sequence[str],
    targets: Sequence[str],
    *,
    statistics: Sequence[str] = STATISTICS,
    n_bootstrap: int = 1000,
    n_random: int = 1000,
    seed: int = 0,
    covariates: pd.DataFrame | None = None,
    proliferation: bool = True,
    min_genes: int = 2,
    min_fraction: float = 0.5,
    method_params: dict[str, dict] | None = None,
    min_samples: int = MIN_SAMPLES_TESTED,
    timer=None,
    null_out: dict | None = None,
) -> tuple[pd.DataFrame, dict]:
    """The correlation table (:data:`CORRELATION_COLUMNS`, one row per method x focal x target x statistic) and
    an info dict for the sidecar. See the module docstring for every column.

    ``expr``: genes x samples normalized log expression (index = gene symbols), the matrix the scores were
    computed from; ``scores``: method -> samples x signatures (the score stage's tables); ``covariates``:
    samples x clinical covariates. Rows: methods in sorted order, then focal, targets and statistics in the
    order given (duplicates dropped; a signature is not correlated with itself). ``min_samples`` (whole number
    >= 3, ``associate.min_samples``): rows with fewer samples where both scores are finite are not tested (NA,
    with a ``note``; nothing is computed for them).

    Info keys: ``grid`` (what q covers), ``methods``, ``statistics``, ``order``, ``p``, ``ci``, ``n_bootstrap``,
    ``n_random``, ``seed``, ``min_samples``, ``overlap``, ``r_without_shared``, ``random_null``, ``partial``
    (definitions), ``samples``, ``skipped_pairs`` (focal = target), ``missing_scores`` (method -> signatures absent
    from its score table: NA rows), ``reduced_signatures`` (each re-scored reduced list with its coverage and
    reason), ``random_null_methods`` (method -> how its random scores were made), ``random_null_seeds`` (method ->
    focal -> seed), ``random_null_unavailable`` (method -> focal -> reason), ``meta_pcna`` (used, genes, reason),
    ``covariates`` (used, skipped with reasons, coding, adjusted_for), ``n_rows``, ``n_tests``, ``n_below_min_samples``
    (rows not tested for want of samples).

    ``timer``: an optional :class:`seedsig.core.progress.Timer` that gets the seconds spent on the random null
    (``random_null``) and the bootstrap (``bootstrap``), for the log (never in the table or the info). Progress
    bars (:func:`seedsig.core.progress.progress`) go to the rule log. ``null_out``: a dict that receives, per tested
    row with a random null, ``(method, signature_a, signature_b, statistic) -> the B null correlations`` (NaN where a
    random score has no finite correlation), the values its ``p_random_null`` counts."""

    timer = timer if timer is not None else Timer()

    statistics = _unique([statistics] if isinstance(statistics, str) else statistics)
    bad = [s for s in statistics if s not in STATISTICS]
    if bad or not statistics:
        raise SeedsigError(
            f"associate.statistics: {', '.join(bad) or 'none given'}; use one or both of {', '.join(STATISTICS)}."
        )
    for label, v in (("n_bootstrap", n_bootstrap), ("n_random", n_random), ("seed", seed)):
        if not _whole(v):
            raise SeedsigError(
                f"associate.{label} must be a whole number >= 0{' (0 switches it off)' if label != 'seed' else ''}, not {v!r}."
            )
    if not _whole(min_samples) or min_samples < MIN_SAMPLES:
        raise SeedsigError(
            f"associate.min_samples must be a whole number >= {MIN_SAMPLES} (default {MIN_SAMPLES_TESTED}), "
            f"not {min_samples!r}."
        )
    n_bootstrap, n_random, seed, min_samples = int(n_bootstrap), int(n_random), int(seed), int(min_samples)
    focal, targets = _unique(focal), _unique(targets)
    sig_by_name = {s.name: s for s in signatures}
    unknown = [n for n in [*focal, *targets] if n not in sig_by_name]
    if unknown:
        raise SeedsigError(
            f"associate: signature(s) {', '.join(dict.fromkeys(unknown))} named as focal/target are not in the signature files. Known: {', '.join(sig_by_name)}."
        )
    unknown_methods = [m for m in scores if m not in SCORING_METHODS]
    if unknown_methods:
        raise SeedsigError(
            f"associate: score tables for unknown method(s) {', '.join(unknown_methods)}; methods: {', '.join(SCORING_METHODS)}."
        )
    method_params = dict(method_params or {})
    expr = expr.copy()
    expr.columns = expr.columns.astype(str)
    expr.index = expr.index.astype(str)
    if expr.columns.duplicated().any():
        raise SeedsigError("the expression matrix has duplicated sample ids.")
    tables: dict[str, pd.DataFrame] = {}
    for m in sorted(scores):
        t = scores[m].copy()
        t.index = t.index.astype(str)
        if t.index.duplicated().any():
            raise SeedsigError(f"the {m} score table has duplicated sample ids.")
        missing = t.index.difference(expr.columns)
        if len(missing):
            raise SeedsigError(
                f"the {m} score table has {len(missing)} sample(s) not in the expression matrix (e.g. '{missing[0]}'): scores and expression must come from the same cohort."
            )
        tables[m] = t.loc[sorted(t.index)]
    samples = sorted(set().union(*(t.index for t in tables.values()))) if tables else []
    x_expr = expr[samples]
    measured = measured_genes(x_expr)

    info: dict = {
        "grid": (
            f"q = Benjamini-Hochberg over every row of the table with a p-value: {len(tables)} method(s) x "
            f"{len(focal)} focal x {len(targets)} target signature(s) x {len(statistics)} statistic(s), "
            "less the rows below min_samples"
        ),
        "methods": list(tables),
        "statistics": statistics,
        "order": "rows by method (sorted), then focal, target and statistic in the order given",
        "p": "two-sided, t = r sqrt((n - 2) / (1 - r^2)) on n - 2 df (Spearman: scipy's t approximation; Pearson: exact)",
        "ci": "95%: Pearson Fisher z, tanh(atanh(r) -/+ 1.96 / sqrt(n - 3)); Spearman percentile bootstrap over samples",
        "n_bootstrap": n_bootstrap,
        "n_random": n_random,
        "seed": int(seed),
        "min_samples": min_samples,
        "floor": (
            f"a row with fewer than {min_samples} samples where both scores are finite is not tested: r, p, q, CI, "
            "r_without_shared, r_partial, p_random_null NA, a note, not in the BH family"
        ),
        "overlap": f"gene lists restricted to the {len(measured)} genes measured in every sample; p_overlap = hypergeometric P(X >= shared)",
        "r_without_shared": "both signatures re-scored without the measured shared genes (same method, parameters and coverage rule on the reduced lists)",
        "random_null": "(b + 1) / (B + 1), b = random signatures matched to the focal one (size per direction, expression bins) with |r| >= |r observed| against the target; seed per method and focal from seed",
        "partial": "correlation of the residuals of both scores regressed on [1, covariates] over complete cases; Spearman ranks both scores and every covariate column first (as ppcor)",
        "samples": len(samples),
        "skipped_pairs": [],
        "missing_scores": {},
        "reduced_signatures": [],
        "random_null_methods": {},
        "random_null_unavailable": {},
        "random_null_seeds": {},
    }

    # ---- the pairs, the score columns, and which rows reach the floor (nothing is computed for the others)
    pairs = []
    for a in focal:
        for b in targets:
            if a == b:
                info["skipped_pairs"].append(f"{a} vs itself")
                continue
            shared, jac, p_ov = overlap(sig_by_name[a].genes, sig_by_name[b].genes, measured)
            drop = frozenset(set(sig_by_name[a].genes) & set(sig_by_name[b].genes) & measured)
            pairs.append((a, b, shared, jac, p_ov, drop))
    cols: dict[str, dict[str, np.ndarray]] = {}
    for m, table in tables.items():
        cols[m] = {}
        for s in dict.fromkeys([*focal, *targets]):
            if s in table.columns:
                cols[m][s] = table[s].to_numpy(dtype=float)
            else:
                cols[m][s] = np.full(len(table), np.nan)
                info["missing_scores"].setdefault(m, []).append(s)
    n_pair = {
        (m, a, b): int((np.isfinite(cols[m][a]) & np.isfinite(cols[m][b])).sum()) for m in tables for a, b, *_ in pairs
    }
    tested = {k: n >= min_samples for k, n in n_pair.items()}
    any_tested = any(tested.values())

    # ---- covariates for the partial correlation
    design, groups, cov_info = covariate_design(covariates, samples)
    pcna_info: dict = {"used": False, "genes": [], "reason": ""}
    if proliferation and not any_tested:
        pcna_info["reason"] = f"not computed: no correlation row has {min_samples} samples (associate.min_samples)"
    elif proliferation:
        mp, genes = meta_pcna(x_expr)
        if genes:
            design.insert(0, "meta_pcna", mp.reindex(samples).to_numpy())
            groups = {"meta_pcna": ["meta_pcna"], **groups}
            pcna_info = {
                "used": True,
                "genes": genes,
                "n_genes": len(genes),
                "reason": "",
                "definition": f"the ceil({META_PCNA_FRACTION:.0%} of measured genes), at least {META_PCNA_MIN_GENES}, genes most positively correlated (Pearson) with PCNA, PCNA included; score = median of their z-scores per sample (Venet et al. 2011)",
            }
        else:
            pcna_info["reason"] = "PCNA is not measured in every sample of the cohort: no meta-PCNA adjustment"
    else:
        pcna_info["reason"] = "proliferation adjustment switched off (associate.proliferation: false)"
    info["meta_pcna"] = pcna_info
    info["covariates"] = {**cov_info, "adjusted_for": list(groups)}
    z_all = design.to_numpy(dtype=float) if design.shape[1] else None
    cov_label = ";".join(groups)

    # ---- reduced (shared-genes-removed) signatures: one score call per method, each gene set once
    reduced: dict[tuple[str, str, frozenset], pd.Series] = {}
    for m in tables:
        todo: dict[tuple[str, frozenset], Signature] = {}
        for a, b, shared, _, _, drop in pairs:
            if shared and tested[(m, a, b)]:
                for s in (a, b):
                    todo.setdefault((s, drop), _reduced(sig_by_name[s], drop))
        if not todo:
            continue
        res = score(
            x_expr, list(todo.values()), m, min_genes=min_genes, min_fraction=min_fraction, params=method_params.get(m)
        )
        for (s, drop), sig in todo.items():
            reduced[(m, s, drop)] = res.scores[sig.name].reindex(tables[m].index)
        for rec in res.coverage.to_dict("records"):
            info["reduced_signatures"].append(
                {
                    "method": m,
                    "signature": rec["signature"],
                    "n_genes": int(rec["n_genes"]),
                    "n_present": int(rec["n_present"]),
                    "scored": bool(rec["scored"]),
                    "reason": rec["reason"],
                }
            )

    # ---- the random-signature nulls: one set of B random scores per method x focal signature with a tested row
    null_scores: dict[tuple[str, str], np.ndarray | None] = {}
    if n_random > 0:
        steps = list(dict.fromkeys((m, a) for m in tables for a, b, *_ in pairs if tested[(m, a, b)]))
        for m, a in progress(steps, desc=f"random null B={n_random} (method x focal)", unit="set"):
            with timer("random_null"):
                null_scores[(m, a)] = _random_scores(
                    x_expr, sig_by_name[a], m, n_random, seed, method_params.get(m), cols[m][a], tables[m].index, info
                )

    # ---- the grid
    rows = []
    bar = progress(
        total=len(tables) * len(pairs), desc=f"correlations, bootstrap B={n_bootstrap} (method x pair)", unit="pair"
    )
    for m, table in tables.items():
        col = cols[m]
        z_m = None if z_all is None else pd.DataFrame(z_all, index=samples).reindex(table.index).to_numpy()
        null_cache_ranked: dict[tuple, np.ndarray] = {}
        for a, b, shared, jac, p_ov, drop in pairs:
            bar.update(1)
            va, vb = col[a], col[b]
            both = np.isfinite(va) & np.isfinite(vb)
            n = n_pair[(m, a, b)]
            null = null_scores.get((m, a))
            for st in statistics:
                rec = {
                    "method": m,
                    "signature_a": a,
                    "signature_b": b,
                    "r": np.nan,
                    "p": np.nan,
                    "q": np.nan,
                    "n": n,
                    "statistic": st,
                    "ci_low": np.nan,
                    "ci_high": np.nan,
                    "n_shared_genes": shared,
                    "jaccard": jac,
                    "p_overlap": p_ov,
                    "r_without_shared": np.nan,
                    "p_random_null": np.nan,
                    "r_partial": np.nan,
                    "covariates": "",
                    "note": "",
                }
                rows.append(rec)
                if not tested[(m, a, b)]:
                    rec["note"] = _untested_note(m, {a: va, b: vb}, n, min_samples)
                    continue
                r, p, _ = correlation(va, vb, st, min_samples)
                rec["r"], rec["p"] = r, p
                if not np.isfinite(r):
                    const = [s for s, v in ((a, va), (b, vb)) if v[both].max() == v[both].min()]
                    what = f"the {' and '.join(const) or 'a'} score{'s are' if len(const) > 1 else ' is'}"
                    rec["note"] = f"{what} constant across the {n} samples: no correlation"
                    continue
                notes = []
                if st == "pearson":
                    rec["ci_low"], rec["ci_high"] = fisher_ci(r, n)
                else:
                    with timer("bootstrap"):
                        boot_seed = stable_seed(seed, "bootstrap", m, a, b)
                        rec["ci_low"], rec["ci_high"] = bootstrap_ci(va[both], vb[both], n_bootstrap, boot_seed)
                if null is not None:
                    with timer("random_null"):
                        key = (a, st, both.tobytes())  # random scores ranked once per focal, statistic and sample set
                        if key not in null_cache_ranked:
                            if any(k[0] != a for k in null_cache_ranked):  # pairs come focal by focal: keep one focal's
                                null_cache_ranked.clear()
                            null_cache_ranked[key] = ranks(null[:, both]) if st == "spearman" else null[:, both]
                        target = ranks(vb[both]) if st == "spearman" else vb[both]
                        rn = corr_rows(null_cache_ranked[key], target)
                        rec["p_random_null"] = empirical_null_p(r, rn)
                        if null_out is not None:  # the B null correlations, written by the associate stage
                            null_out[(m, a, b, st)] = rn
                elif n_random > 0 and a in info["random_null_unavailable"].get(m, {}):
                    notes.append(f"p_random_null NA: {info['random_null_unavailable'][m][a]}")
                if z_m is not None:
                    rp, _, _, _ = partial_correlation(va, vb, z_m, st)
                    rec["r_partial"], rec["covariates"] = rp, cov_label
                if shared == 0:
                    rec["r_without_shared"] = r
                else:
                    ra, rb = (reduced[(m, s, drop)].to_numpy(dtype=float) for s in (a, b))
                    rec["r_without_shared"] = correlation(ra, rb, st, min_samples)[0]
                    lost = [s for s, v in ((a, ra), (b, rb)) if not np.isfinite(v).any()]
                    if lost:
                        verb = "meets" if len(lost) == 1 else "meet"
                        lost_text = " and ".join(lost)
                        notes.append(
                            f"r_without_shared NA: {lost_text} without the shared genes no longer {verb} the "
                            "coverage rule"
                        )
                rec["note"] = "; ".join(notes)
    bar.close()
    table_out = pd.DataFrame(rows, columns=list(CORRELATION_COLUMNS))
    for c in CORRELATION_COLUMNS:
        if c in ("n", "n_shared_genes"):
            table_out[c] = table_out[c].astype(int)
        elif c not in ("method", "signature_a", "signature_b", "statistic", "covariates", "note"):
            table_out[c] = table_out[c].astype(float)
    table_out["q"] = bh_qvalues(table_out["p"].to_numpy())
    info["n_rows"] = int(len(table_out))
    info["n_tests"] = int(np.isfinite(table_out["p"].to_numpy(dtype=float)).sum())
    info["n_below_min_samples"] = int(table_out["note"].str.contains("associate.min_samples", regex=False).sum())
    return table_out, info


def _untested_note(method: str, values: dict[str, np.ndarray], n: int, min_samples: int) -> str:
    """Why a row below the floor is not tested: a signature without any score, or too few samples."""
    unscored = [s for s, v in values.items() if not np.isfinite(v).any()]
    if unscored:
        verb = "is" if len(unscored) == 1 else "are"
        return f"{' and '.join(unscored)} {verb} not scored with {method} in this cohort (see coverage.tsv): not tested"
    samples = f"{n} sample{'s' if n != 1 else ''}"
    return f"{samples} with both scores, fewer than associate.min_samples = {min_samples}: not tested"


def _random_scores(
    expr: pd.DataFrame,
    sig: Signature,
    method: str,
    n_random: int,
    seed: int,
    params: dict | None,
    observed: np.ndarray,
    index: pd.Index,
    info: dict,
) -> np.ndarray | None:
    """Random-signature scores (n_random x samples of ``index``) for one (method, focal), or None with a reason."""

    if not np.isfinite(observed).any():
        return None
    s = stable_seed(seed, "random_null", method, sig.name)
    info["random_null_seeds"].setdefault(method, {})[sig.name] = s
    info["random_null_methods"][method] = (
        "vectorized (scoring.random_signature_scores)"
        if method in NULL_METHODS
        else "random signatures scored with scoring.score"
    )
    try:
        null = random_null_scores(expr, sig, method, n_random, s, params)
    except SeedsigError as exc:
        info["random_null_unavailable"].setdefault(method, {})[sig.name] = str(exc)
        return None
    return pd.DataFrame(null.T, index=expr.columns).reindex(index).to_numpy().T


def null_p(r: float, null: np.ndarray, target: np.ndarray) -> float:
    """(b + 1) / (B + 1) over the random scores (B x n, ranked row-wise for Spearman) with a finite correlation
    with the target (ranked for Spearman): all B correlations as one matrix operation; ties as
    :func:`seedsig.core.stats.empirical_null_p` (the one rule of every random-signature null)."""
    return empirical_null_p(r, corr_rows(null, target))
