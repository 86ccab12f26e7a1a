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
    size per direction, genes drawn from the same expression bins) correlate with the target at least as
    strongly (|r|) as the focal signature does (the tie rule of :func:`seedsig.core.stats.empirical_null_p`).
    Random scores are made once per (method, focal) by :func:`seedsig.scoring.null.random_null_scores` (the one
    random-signature null, shared with the survival stage; vectorized for ssgsea, zscore, mean_z, singscore, ucell
    and aucell, one ordinary score per random signature for gsva, plage and score_genes) with a seed derived from
    ``seed``, the method and the focal name, and all B correlations with a target are one matrix operation.
``r_partial``, ``covariates``
    Partial correlation adjusting for the proliferation metagene (meta-PCNA,
    :func:`seedsig.association.measures.meta_pcna`) and the given
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

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from seedsig.association.measures import (
    META_PCNA_FRACTION,
    META_PCNA_MIN_GENES,
    MIN_SAMPLES,
    bootstrap_ci,
    corr_rows_threads,
    correlation,
    covariate_design,
    fisher_ci,
    measured_genes,
    meta_pcna,
    overlap,
    partial_correlation,
    ranked_rows,
)
from seedsig.core.errors import SeedsigError
from seedsig.core.progress import Timer, progress
from seedsig.core.settings import ASSOCIATE_DEFAULTS, SCORING_DEFAULTS
from seedsig.core.stats import bh_qvalues, corr_rows, empirical_null_p, ranks, stable_seed
from seedsig.core.threads import check_threads
from seedsig.scoring.methods import SCORING_METHODS, score
from seedsig.scoring.null import NULL_METHODS, NullMatrix, null_matrix, random_null_scores
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
STATISTICS = ("spearman", "pearson")
MIN_SAMPLES_TESTED = 10  # default floor of correlation_table (associate.min_samples): below it a row is not tested
TEXT_COLUMNS = ("method", "signature_a", "signature_b", "statistic", "covariates", "note")
COUNT_COLUMNS = ("n", "n_shared_genes")


# ----------------------------------------------------------------------------------------- checks
def _whole(v: object) -> bool:
    """A whole number >= 0 (an int, or a float without fraction; not a bool)."""
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        return False
    return bool(np.isfinite(v)) and float(v).is_integer() and v >= 0


def _unique(names: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(map(str, names)))


def _checked_statistics(statistics: Sequence[str] | str) -> list[str]:
    """The statistics asked for (duplicates dropped), each one of :data:`STATISTICS`."""
    statistics = _unique([statistics] if isinstance(statistics, str) else statistics)
    bad = [s for s in statistics if s not in STATISTICS]
    if bad or not statistics:
        raise SeedsigError(
            f"associate.statistics: {', '.join(bad) or 'none given'}; use one or both of {', '.join(STATISTICS)}."
        )
    return statistics


def _check_counts(n_bootstrap: object, n_random: object, seed: object, min_samples: object) -> None:
    """B of the bootstrap and the null and the seed are whole numbers >= 0; the floor is at least 3."""
    for label, v in (("n_bootstrap", n_bootstrap), ("n_random", n_random), ("seed", seed)):
        if not _whole(v):
            raise SeedsigError(
                f"associate.{label} must be a whole number >= 0"
                f"{' (0 switches it off)' if label != 'seed' else ''}, not {v!r}."
            )
    if not _whole(min_samples) or min_samples < MIN_SAMPLES:
        raise SeedsigError(
            f"associate.min_samples must be a whole number >= {MIN_SAMPLES} (default {MIN_SAMPLES_TESTED}), "
            f"not {min_samples!r}."
        )


def _check_names(names: Sequence[str], sig_by_name: dict[str, Signature], methods: Sequence[str]) -> None:
    """Every focal / target signature is in the signature files and every score table's method is known."""
    unknown = [n for n in names if n not in sig_by_name]
    if unknown:
        raise SeedsigError(
            f"associate: signature(s) {', '.join(dict.fromkeys(unknown))} named as focal/target are not in the "
            f"signature files. Known: {', '.join(sig_by_name)}."
        )
    unknown_methods = [m for m in methods if m not in SCORING_METHODS]
    if unknown_methods:
        raise SeedsigError(
            f"associate: score tables for unknown method(s) {', '.join(unknown_methods)}; "
            f"methods: {', '.join(SCORING_METHODS)}."
        )


def _aligned(expr: pd.DataFrame, scores: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The expression matrix with string labels and the score tables (methods sorted, samples sorted), checked:
    no duplicated sample id, no scored sample missing from the matrix."""
    expr = expr.copy(deep=False)  # new labels, the same values (no copy of the matrix)
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
                f"the {m} score table has {len(missing)} sample(s) not in the expression matrix "
                f"(e.g. '{missing[0]}'): scores and expression must come from the same cohort."
            )
        tables[m] = t.loc[sorted(t.index)]
    return expr, tables


def in_sample_order(expr: pd.DataFrame) -> pd.DataFrame:
    """``expr`` with its columns in the order :func:`correlation_table` works in (sample ids as text, sorted), so
    that it makes no reordered copy of the matrix (the same frame when already in that order)."""
    cols = sorted(map(str, expr.columns))
    return expr if list(map(str, expr.columns)) == cols else expr[cols]


# ----------------------------------------------------------------------------------------- the grid's state
@dataclass
class _Grid:
    """What the steps of :func:`correlation_table` share: the checked settings and inputs, and what the steps
    add (pairs, score columns, which rows are tested, the partial-correlation design, the re-scored reduced
    lists, the random scores). ``info`` is the sidecar's dict, filled step by step."""

    x_expr: pd.DataFrame
    tables: dict[str, pd.DataFrame]
    samples: list[str]
    sig_by_name: dict[str, Signature]
    statistics: list[str]
    n_bootstrap: int
    n_random: int
    seed: int
    min_samples: int
    info: dict
    timer: Timer
    null_out: dict | None
    threads: int = 1
    pairs: list[tuple[str, str, int, float, float, frozenset]] = field(default_factory=list)
    cols: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    n_pair: dict[tuple[str, str, str], int] = field(default_factory=dict)
    tested: dict[tuple[str, str, str], bool] = field(default_factory=dict)
    z_all: np.ndarray | None = None
    cov_label: str = ""
    reduced: dict[tuple[str, str, frozenset], pd.Series] = field(default_factory=dict)
    null_scores: dict[tuple[str, str], np.ndarray | None] = field(default_factory=dict)


def _info(g: _Grid, focal: Sequence[str], targets: Sequence[str], n_measured: int) -> dict:
    """The sidecar's definitions and counters, before any step has filled its lists."""
    min_samples = g.min_samples
    return {
        "grid": (
            f"q = Benjamini-Hochberg over every row of the table with a p-value: {len(g.tables)} method(s) x "
            f"{len(focal)} focal x {len(targets)} target signature(s) x {len(g.statistics)} statistic(s), "
            "less the rows below min_samples"
        ),
        "methods": list(g.tables),
        "statistics": g.statistics,
        "order": "rows by method (sorted), then focal, target and statistic in the order given",
        "p": "two-sided, t = r sqrt((n - 2) / (1 - r^2)) on n - 2 df (Spearman: scipy's t approximation; "
        "Pearson: exact)",
        "ci": "95%: Pearson Fisher z, tanh(atanh(r) -/+ 1.96 / sqrt(n - 3)); Spearman percentile bootstrap over "
        "samples",
        "n_bootstrap": g.n_bootstrap,
        "n_random": g.n_random,
        "seed": int(g.seed),
        "min_samples": min_samples,
        "floor": (
            f"a row with fewer than {min_samples} samples where both scores are finite is not tested: r, p, q, CI, "
            "r_without_shared, r_partial, p_random_null NA, a note, not in the BH family"
        ),
        "overlap": f"gene lists restricted to the {n_measured} genes measured in every sample; "
        "p_overlap = hypergeometric P(X >= shared)",
        "r_without_shared": "both signatures re-scored without the measured shared genes (same method, parameters "
        "and coverage rule on the reduced lists)",
        "random_null": "(b + 1) / (B + 1), b = random signatures matched to the focal one (size per direction, "
        "expression bins) with |r| >= |r observed| against the target; seed per method and focal from seed",
        "partial": "correlation of the residuals of both scores regressed on [1, covariates] over complete cases; "
        "Spearman ranks both scores and every covariate column first (as ppcor)",
        "samples": len(g.samples),
        "skipped_pairs": [],
        "missing_scores": {},
        "reduced_signatures": [],
        "random_null_methods": {},
        "random_null_unavailable": {},
        "random_null_seeds": {},
    }


# ----------------------------------------------------------------------------------------- the steps
def _add_pairs(g: _Grid, focal: Sequence[str], targets: Sequence[str], measured: set[str]) -> None:
    """The (focal, target) pairs with their gene overlap and the measured shared genes."""
    for a in focal:
        for b in targets:
            if a == b:
                g.info["skipped_pairs"].append(f"{a} vs itself")
                continue
            genes_a, genes_b = g.sig_by_name[a].genes, g.sig_by_name[b].genes
            shared, jac, p_ov = overlap(genes_a, genes_b, measured)
            drop = frozenset(set(genes_a) & set(genes_b) & measured)
            g.pairs.append((a, b, shared, jac, p_ov, drop))


def _add_score_columns(g: _Grid, names: Sequence[str]) -> None:
    """Each method's score of each named signature (all NA when its table lacks it), the n of each pair, and
    which rows reach the floor (nothing is computed for the others)."""
    for m, table in g.tables.items():
        g.cols[m] = {}
        for s in dict.fromkeys(names):
            if s in table.columns:
                g.cols[m][s] = table[s].to_numpy(dtype=float)
            else:
                g.cols[m][s] = np.full(len(table), np.nan)
                g.info["missing_scores"].setdefault(m, []).append(s)
    g.n_pair = {
        (m, a, b): int((np.isfinite(g.cols[m][a]) & np.isfinite(g.cols[m][b])).sum())
        for m in g.tables
        for a, b, *_ in g.pairs
    }
    g.tested = {k: n >= g.min_samples for k, n in g.n_pair.items()}


def _add_partial_design(g: _Grid, covariates: pd.DataFrame | None, proliferation: bool) -> None:
    """The design of the partial correlation: meta-PCNA (when asked for and measured) and the clinical
    covariates, with what was used and why not in the info."""
    design, groups, cov_info = covariate_design(covariates, g.samples)
    pcna_info: dict = {"used": False, "genes": [], "reason": ""}
    if proliferation and not any(g.tested.values()):
        pcna_info["reason"] = f"not computed: no correlation row has {g.min_samples} samples (associate.min_samples)"
    elif proliferation:
        mp, genes = meta_pcna(g.x_expr)
        if genes:
            design.insert(0, "meta_pcna", mp.reindex(g.samples).to_numpy())
            groups = {"meta_pcna": ["meta_pcna"], **groups}
            pcna_info = {
                "used": True,
                "genes": genes,
                "n_genes": len(genes),
                "reason": "",
                "definition": f"the ceil({META_PCNA_FRACTION:.0%} of measured genes), at least "
                f"{META_PCNA_MIN_GENES}, genes most positively correlated (Pearson) with PCNA, PCNA included; "
                "score = median of their z-scores per sample (Venet et al. 2011)",
            }
        else:
            pcna_info["reason"] = "PCNA is not measured in every sample of the cohort: no meta-PCNA adjustment"
    else:
        pcna_info["reason"] = "proliferation adjustment switched off (associate.proliferation: false)"
    g.info["meta_pcna"] = pcna_info
    g.info["covariates"] = {**cov_info, "adjusted_for": list(groups)}
    g.z_all = design.to_numpy(dtype=float) if design.shape[1] else None
    g.cov_label = ";".join(groups)


def _reduced(sig: Signature, drop: frozenset[str]) -> Signature:
    keep = [(g, d) for g, d in zip(sig.genes, sig.directions) if g not in drop]
    return Signature(
        name=f"{sig.name} without {','.join(sorted(drop))}",
        genes=tuple(g for g, _ in keep),
        directions=tuple(d for _, d in keep),
        organ=sig.organ,
    )


def _add_reduced_scores(g: _Grid, min_genes: int, min_fraction: float, method_params: dict[str, dict]) -> None:
    """The shared-genes-removed signatures of the tested pairs that share genes: one score call per method, each
    gene set once, with its coverage in the info."""
    for m in g.tables:
        todo: dict[tuple[str, frozenset], Signature] = {}
        for a, b, shared, _, _, drop in g.pairs:
            if shared and g.tested[(m, a, b)]:
                for s in (a, b):
                    todo.setdefault((s, drop), _reduced(g.sig_by_name[s], drop))
        if not todo:
            continue
        res = score(
            g.x_expr,
            list(todo.values()),
            m,
            min_genes=min_genes,
            min_fraction=min_fraction,
            params=method_params.get(m),
        )
        for (s, drop), sig in todo.items():
            g.reduced[(m, s, drop)] = res.scores[sig.name].reindex(g.tables[m].index)
        for rec in res.coverage.to_dict("records"):
            g.info["reduced_signatures"].append(
                {
                    "method": m,
                    "signature": rec["signature"],
                    "n_genes": int(rec["n_genes"]),
                    "n_present": int(rec["n_present"]),
                    "scored": bool(rec["scored"]),
                    "reason": rec["reason"],
                }
            )


def _add_random_nulls(g: _Grid, method_params: dict[str, dict]) -> None:
    """The random-signature nulls: one set of B random scores per method x focal signature with a tested row."""
    if g.n_random <= 0:
        return
    steps = list(dict.fromkeys((m, a) for m in g.tables for a, b, *_ in g.pairs if g.tested[(m, a, b)]))
    matrix: dict[str, NullMatrix] = {}  # the matrix prepared for the current method (steps come method by method)
    for m, a in progress(steps, desc=f"random null B={g.n_random} (method x focal)", unit="set"):
        with g.timer("random_null"):
            if m not in matrix and np.isfinite(g.cols[m][a]).any():
                matrix.clear()
                try:
                    matrix[m] = null_matrix(g.x_expr, m, params=method_params.get(m))
                except SeedsigError:
                    pass  # said per focal signature by random_null_scores below
            g.null_scores[(m, a)] = _random_scores(
                g.x_expr,
                g.sig_by_name[a],
                m,
                g.n_random,
                g.seed,
                method_params.get(m),
                g.cols[m][a],
                g.tables[m].index,
                g.info,
                threads=g.threads,
                matrix=matrix.get(m),
            )


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
    *,
    threads: int = 1,
    matrix: NullMatrix | None = None,
) -> np.ndarray | None:
    """Random-signature scores (n_random x samples of ``index``) for one (method, focal), from
    :func:`seedsig.scoring.null.random_null_scores`, or None with a reason in the info."""

    if not np.isfinite(observed).any():
        return None
    s = stable_seed(seed, "random_null", method, sig.name)
    info["random_null_seeds"].setdefault(method, {})[sig.name] = s
    info["random_null_methods"][method] = (
        "vectorized (scoring.null.random_null_scores)"
        if method in NULL_METHODS
        else "random signatures scored with scoring.score (scoring.null.random_null_scores)"
    )
    try:
        null = random_null_scores(expr, sig, method, n_random, s, params, threads=threads, matrix=matrix)
    except SeedsigError as exc:
        info["random_null_unavailable"].setdefault(method, {})[sig.name] = str(exc)
        return None
    return pd.DataFrame(null.T, index=expr.columns).reindex(index).to_numpy().T


# ----------------------------------------------------------------------------------------- one row
def _blank_row(m: str, pair: tuple, st: str, n: int) -> dict:
    """A row of the table with its descriptive columns and every statistic NA."""
    a, b, shared, jac, p_ov, _ = pair
    return {
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


def _untested_note(method: str, values: dict[str, np.ndarray], n: int, min_samples: int) -> str:
    """Why a row below the floor is not tested: a signature without any score, or too few samples."""
    unscored = [s for s, v in values.items() if not np.isfinite(v).any()]
    if unscored:
        verb = "is" if len(unscored) == 1 else "are"
        return f"{' and '.join(unscored)} {verb} not scored with {method} in this cohort (see coverage.tsv): not tested"
    samples = f"{n} sample{'s' if n != 1 else ''}"
    return f"{samples} with both scores, fewer than associate.min_samples = {min_samples}: not tested"


def _constant_note(values: dict[str, np.ndarray], both: np.ndarray, n: int) -> str:
    """Why a tested row has no r: a score constant over the samples with both scores."""
    const = [s for s, v in values.items() if v[both].max() == v[both].min()]
    what = f"the {' and '.join(const) or 'a'} score{'s are' if len(const) > 1 else ' is'}"
    return f"{what} constant across the {n} samples: no correlation"


def _interval(g: _Grid, m: str, a: str, b: str, st: str, r: float, va: np.ndarray, vb: np.ndarray) -> tuple:
    """95% interval of r over the complete pairs (va, vb): Fisher z (Pearson) or the seeded bootstrap (Spearman)."""
    if st == "pearson":
        return fisher_ci(r, va.size)
    with g.timer("bootstrap"):
        return bootstrap_ci(va, vb, g.n_bootstrap, stable_seed(g.seed, "bootstrap", m, a, b), threads=g.threads)


def _random_null_p(
    g: _Grid, key: tuple[str, str, str, str], r: float, null: np.ndarray, vb: np.ndarray, both: np.ndarray, ranked: dict
) -> float:
    """p_random_null of one row: the B random scores (ranked once per focal, statistic and sample set, in
    ``ranked``) correlated with the target; the B correlations go to ``null_out``."""
    m, a, b, st = key
    with g.timer("random_null"):
        cache_key = (a, st, both.tobytes())
        if cache_key not in ranked:
            if any(k[0] != a for k in ranked):  # pairs come focal by focal: keep one focal's
                ranked.clear()
            ranked[cache_key] = ranked_rows(null[:, both], g.threads) if st == "spearman" else null[:, both]
        target = ranks(vb[both]) if st == "spearman" else vb[both]
        rn = corr_rows_threads(ranked[cache_key], target, g.threads)
        if g.null_out is not None:  # the B null correlations, written by the associate stage
            g.null_out[key] = rn
        return empirical_null_p(r, rn)


def _without_shared(g: _Grid, m: str, pair: tuple, st: str, r: float) -> tuple[float, str]:
    """r of the two signatures re-scored without their shared genes (r itself when nothing is shared), and a
    note when a reduced list no longer meets the coverage rule."""
    a, b, shared, _, _, drop = pair
    if shared == 0:
        return r, ""
    ra, rb = (g.reduced[(m, s, drop)].to_numpy(dtype=float) for s in (a, b))
    value = correlation(ra, rb, st, g.min_samples)[0]
    lost = [s for s, v in ((a, ra), (b, rb)) if not np.isfinite(v).any()]
    if not lost:
        return value, ""
    verb = "meets" if len(lost) == 1 else "meet"
    lost_text = " and ".join(lost)
    return value, f"r_without_shared NA: {lost_text} without the shared genes no longer {verb} the coverage rule"


def _row(g: _Grid, m: str, pair: tuple, st: str, z_m: np.ndarray | None, ranked: dict) -> dict:
    """One row of the table (method ``m``, a pair, a statistic)."""
    a, b = pair[0], pair[1]
    va, vb = g.cols[m][a], g.cols[m][b]
    n = g.n_pair[(m, a, b)]
    rec = _blank_row(m, pair, st, n)
    if not g.tested[(m, a, b)]:
        rec["note"] = _untested_note(m, {a: va, b: vb}, n, g.min_samples)
        return rec
    both = np.isfinite(va) & np.isfinite(vb)
    r, p, _ = correlation(va, vb, st, g.min_samples)
    rec["r"], rec["p"] = r, p
    if not np.isfinite(r):
        rec["note"] = _constant_note({a: va, b: vb}, both, n)
        return rec
    notes = []
    rec["ci_low"], rec["ci_high"] = _interval(g, m, a, b, st, r, va[both], vb[both])
    null = g.null_scores.get((m, a))
    if null is not None:
        rec["p_random_null"] = _random_null_p(g, (m, a, b, st), r, null, vb, both, ranked)
    elif g.n_random > 0 and a in g.info["random_null_unavailable"].get(m, {}):
        notes.append(f"p_random_null NA: {g.info['random_null_unavailable'][m][a]}")
    if z_m is not None:
        rp, _, _, _ = partial_correlation(va, vb, z_m, st)
        rec["r_partial"], rec["covariates"] = rp, g.cov_label
    rec["r_without_shared"], note = _without_shared(g, m, pair, st, r)
    if note:
        notes.append(note)
    rec["note"] = "; ".join(notes)
    return rec


def _rows(g: _Grid) -> list[dict]:
    """Every row of the grid: methods, then pairs, then statistics."""
    rows = []
    bar = progress(
        total=len(g.tables) * len(g.pairs),
        desc=f"correlations, bootstrap B={g.n_bootstrap} (method x pair)",
        unit="pair",
    )
    for m, table in g.tables.items():
        z_m = None if g.z_all is None else pd.DataFrame(g.z_all, index=g.samples).reindex(table.index).to_numpy()
        ranked: dict[tuple, np.ndarray] = {}  # the random scores ranked, for one focal at a time
        for pair in g.pairs:
            bar.update(1)
            for st in g.statistics:
                rows.append(_row(g, m, pair, st, z_m, ranked))
    bar.close()
    return rows


def _finished(rows: list[dict], info: dict) -> pd.DataFrame:
    """The table with its column types and q over the grid; the counts go to the info."""
    table_out = pd.DataFrame(rows, columns=list(CORRELATION_COLUMNS))
    for c in CORRELATION_COLUMNS:
        if c in COUNT_COLUMNS:
            table_out[c] = table_out[c].astype(int)
        elif c not in TEXT_COLUMNS:
            table_out[c] = table_out[c].astype(float)
    table_out["q"] = bh_qvalues(table_out["p"].to_numpy())
    info["n_rows"] = int(len(table_out))
    info["n_tests"] = int(np.isfinite(table_out["p"].to_numpy(dtype=float)).sum())
    info["n_below_min_samples"] = int(table_out["note"].str.contains("associate.min_samples", regex=False).sum())
    return table_out


# ----------------------------------------------------------------------------------------- the table
def correlation_table(
    expr: pd.DataFrame,
    scores: dict[str, pd.DataFrame],
    signatures: Sequence[Signature],
    focal: Sequence[str],
    targets: Sequence[str],
    *,
    statistics: Sequence[str] = STATISTICS,
    n_bootstrap: int = ASSOCIATE_DEFAULTS["n_bootstrap"],
    n_random: int = ASSOCIATE_DEFAULTS["n_random"],
    seed: int = 0,
    covariates: pd.DataFrame | None = None,
    proliferation: bool = True,
    min_genes: int = SCORING_DEFAULTS["min_genes"],
    min_fraction: float = SCORING_DEFAULTS["min_fraction"],
    method_params: dict[str, dict] | None = None,
    min_samples: int = MIN_SAMPLES_TESTED,
    timer=None,
    null_out: dict | None = None,
    threads: int = 1,
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
    random score has no finite correlation), the values its ``p_random_null`` counts. ``threads``: threads of the
    random nulls, their correlations and the bootstrap (no result depends on it)."""
    statistics = _checked_statistics(statistics)
    _check_counts(n_bootstrap, n_random, seed, min_samples)
    focal, targets = _unique(focal), _unique(targets)
    sig_by_name = {s.name: s for s in signatures}
    _check_names([*focal, *targets], sig_by_name, list(scores))
    expr, tables = _aligned(expr, scores)
    samples = sorted(set().union(*(t.index for t in tables.values()))) if tables else []
    x_expr = expr if list(expr.columns) == samples else expr[samples]  # a copy only when not in sample order
    measured = measured_genes(x_expr)
    g = _Grid(
        x_expr=x_expr,
        tables=tables,
        samples=samples,
        sig_by_name=sig_by_name,
        statistics=statistics,
        n_bootstrap=int(n_bootstrap),
        n_random=int(n_random),
        seed=int(seed),
        min_samples=int(min_samples),
        info={},
        timer=timer if timer is not None else Timer(),
        null_out=null_out,
        threads=check_threads(threads),
    )
    g.info = _info(g, focal, targets, len(measured))
    _add_pairs(g, focal, targets, measured)
    _add_score_columns(g, [*focal, *targets])
    _add_partial_design(g, covariates, proliferation)
    method_params = dict(method_params or {})
    _add_reduced_scores(g, min_genes, min_fraction, method_params)
    _add_random_nulls(g, method_params)
    return _finished(_rows(g), g.info), g.info


def null_p(r: float, null: np.ndarray, target: np.ndarray) -> float:
    """(b + 1) / (B + 1) over the random scores (B x n, ranked row-wise for Spearman) with a finite correlation
    with the target (ranked for Spearman): all B correlations as one matrix operation; ties as
    :func:`seedsig.core.stats.empirical_null_p` (the one rule of every random-signature null)."""
    return empirical_null_p(r, corr_rows(null, target))
