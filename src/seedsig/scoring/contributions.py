"""Per-gene contributions: for each sample, signature and gene, the gene's part in the signature's score.

:func:`contributions` scores like :func:`seedsig.scoring.methods.score` (the same usable rows in the same canonical
order, the same coverage rule and parameters) and returns a long table, ``sample``, ``signature``, ``gene``,
``contribution``, ``direction`` (:data:`CONTRIBUTION_COLUMNS`): rows of one signature together, in the order of the
signature files; within it the samples in the matrix's column order; within a sample the genes in the signature's
order (genes not measured have no row; a signature not scored has none), then any extra term (score_genes' control).

Methods whose score is a sum over genes are decomposed exactly: the contributions of a sample sum to its score
(to rounding, 1e-12). Signed sets: a down gene's term carries the sign with which its part enters the score.

``zscore``
    z_g / sqrt(k) (up), -z_g / sqrt(k_down) (down): z_g the gene standardized across samples.
``mean_z``
    z_g / k (up), -z_g / k_down (down).
``singscore``
    ((r_g - low) / (high - low) - 0.5) / k: the gene's within-sample rank (ties 'min'; down genes on reversed
    ranks, added as singscore adds its down score) scaled as the mean rank is, so the centring (-0.5, with
    ``centered``) is shared equally by the part's k genes.
``plage``
    loading x standardized value: with z the set's standardized genes and z = U S V' its SVD, the score is
    V[:, 0] = U[:, 0]' z / S[0], oriented as plage orients it (with its mean z-score): gene g contributes
    +-U[g, 0] z_g / S[0] (down part: negated).
``ucell``
    1 / k - (r_g - (k + 1) / 2) / D: the gene's rank as the flavor counts it and D = k maxRank (R UCell) or
    k max_rank - k (k + 1) / 2 (pyucell); down genes times -w_neg; a sample whose signed score is clipped at 0 has
    every term 0.
``score_genes``
    the set mean minus the mean of scanpy's control genes: each set gene contributes x_g / k, and the control part
    is one extra row per part, gene ``(control genes)`` (``(control genes, down)`` for the down part of a signed
    set): the score minus the set genes' terms, i.e. minus the control genes' mean (negated for the down part).

Other methods (``ssgsea``, ``gsva``, ``aucell``) are not sums over genes: a gene's contribution is the
leave-one-gene-out change, score(set) - score(set without the gene), each reduced set scored in the one call of the
method's kernel that scores the full sets too (ssgsea: the samples ranked once per chunk of samples; gsva: GSVA's CDFs
and the per-sample gene order computed once), so it equals what :func:`~seedsig.scoring.methods.score` gives for the
reduced set. These contributions need not sum to the score. When removing the gene leaves its part empty (a set of
one present gene, or the only up or down gene of a signed set) the contribution is that part's whole score (for
a set of one present gene: the score). ssgsea with ``normalize``: both scores divided by the range of the run's
scores (every scored signature), as in ``scores/ssgsea.tsv``.

Adding a method: one function ``(x, parts, params, threads) -> [Terms per signature]`` registered in
:data:`CONTRIBUTIONS` (an exact decomposition where the score is additive), or ``leave_one_out`` for any other
registry method scored through :func:`seedsig.scoring.methods.score`'s engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

import numpy as np
import pandas as pd

from seedsig.core.errors import SeedsigError
from seedsig.core.ranking import rank_columns
from seedsig.core.settings import SCORING_DEFAULTS
from seedsig.core.threads import chunk_bounds, map_chunks
from seedsig.scoring.methods import (
    CHUNK_ELEMENTS,
    SCORING_METHODS,
    _scored,
    coverage_table,
    method_params,
    score,
    standardize,
    usable_matrix,
)
from seedsig.scoring.rank_scores import check_ucell_size, ucell_max_rank, ucell_ranks
from seedsig.scoring.signatures import Signature

CONTRIBUTION_COLUMNS = ("sample", "signature", "gene", "contribution", "direction")
CONTROL_GENES = "(control genes)"


@dataclass(frozen=True)
class Parts:
    """A scored signature's genes in the prepared matrix: the rows of its up and down genes (sorted, as
    :func:`~seedsig.scoring.methods.score` forms its sets) and their symbols in that order."""

    name: str
    up: np.ndarray
    down: np.ndarray
    up_genes: tuple[str, ...]
    down_genes: tuple[str, ...]


@dataclass(frozen=True)
class Terms:
    """Contributions of one signature: rows = its up genes, down genes (as in :class:`Parts`), then ``extra``
    (label, direction) rows; columns = samples."""

    values: np.ndarray
    extra: tuple[tuple[str, str], ...] = ()


ContributionFunc = Callable[[np.ndarray, Sequence[Parts], dict, "int | None"], list[Terms]]


@dataclass(frozen=True)
class ContributionSpec:
    kind: str  # "exact" (the terms sum to the score) or "leave-one-out"
    func: ContributionFunc


# ------------------------------------------------------------------------------------------- exact
def _z_terms(x: np.ndarray, parts: Sequence[Parts], scale: Callable[[int], float]) -> list[Terms]:
    out = []
    for s in parts:
        up = standardize(x[s.up]) / scale(s.up.size)
        down = -standardize(x[s.down]) / scale(s.down.size) if s.down.size else np.empty((0, x.shape[1]))
        out.append(Terms(np.vstack([up, down])))
    return out


def _zscore_terms(x: np.ndarray, parts: Sequence[Parts], p: dict, threads: int | None) -> list[Terms]:
    return _z_terms(x, parts, np.sqrt)


def _mean_z_terms(x: np.ndarray, parts: Sequence[Parts], p: dict, threads: int | None) -> list[Terms]:
    return _z_terms(x, parts, float)


def _plage_part(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Loadings x standardized values of one directional set, oriented as plage's score (its own function)."""
    z = standardize(x[rows])
    u, s, _ = np.linalg.svd(z, full_matrices=False)
    terms = (u[:, 0] / s[0])[:, None] * z
    v = SCORING_METHODS["plage"].func(x[rows], [np.arange(rows.size)])[0]
    return terms if np.dot(terms.sum(axis=0), v) >= 0 else -terms


def _plage_terms(x: np.ndarray, parts: Sequence[Parts], p: dict, threads: int | None) -> list[Terms]:
    out = []
    for s in parts:
        down = -_plage_part(x, s.down) if s.down.size else np.empty((0, x.shape[1]))
        out.append(Terms(np.vstack([_plage_part(x, s.up), down])))
    return out


def _singscore_terms(x: np.ndarray, parts: Sequence[Parts], p: dict, threads: int | None) -> list[Terms]:
    n, centre = x.shape[0], 0.5 if p.get("centered", True) else 0.0

    def scaled(r: np.ndarray) -> np.ndarray:  # a part's share of singscore_from_ranks's scaled mean rank
        k = r.shape[0]
        low, high = (k + 1) / 2.0, (2 * n - k + 1) / 2.0
        return ((r - low) / (high - low) - centre) / k

    def chunk(a: int, b: int) -> list[np.ndarray]:
        up_ranks, down_ranks = rank_columns(x[:, a:b], "min"), rank_columns(-x[:, a:b], "min")
        return [
            np.vstack([scaled(up_ranks[s.up]), *([scaled(down_ranks[s.down])] if s.down.size else [])]) for s in parts
        ]

    blocks = map_chunks(chunk, chunk_bounds(x.shape[1], CHUNK_ELEMENTS // max(n, 1)), threads)
    return [Terms(np.hstack([b[i] for b in blocks])) for i in range(len(parts))]


def _score_genes_terms(x: np.ndarray, parts: Sequence[Parts], p: dict, threads: int | None) -> list[Terms]:
    sets = [r for s in parts for r in ((s.up, s.down) if s.down.size else (s.up,))]
    es = iter(SCORING_METHODS["score_genes"].func(x, sets, **p))  # scanpy's set means minus control means
    out = []
    for s in parts:
        rows, extra = [], []
        for idx, sign, label, direction in ((s.up, 1.0, CONTROL_GENES, "up"), (s.down, -1.0, "", "down")):
            if not idx.size:
                continue
            genes = x[idx] / idx.size
            rows.append(sign * genes)
            extra.append((sign * (next(es) - genes.sum(axis=0)), label or f"{CONTROL_GENES[:-1]}, down)", direction))
        out.append(Terms(np.vstack([*rows, *(e[0] for e in extra)]), tuple((lab, d) for _, lab, d in extra)))
    return out


def _ucell_terms(x: np.ndarray, parts: Sequence[Parts], p: dict, threads: int | None) -> list[Terms]:
    """UCell's rank terms: with r the gene's rank as the flavor counts it (R: beyond maxRank -> maxRank + 1;
    pyucell: capped at max_rank) and D = k maxRank (R) or k max_rank - k (k + 1) / 2 (pyucell), the score
    1 - (sum r - k (k + 1) / 2) / D is the sum of the genes' 1 / k - (r - (k + 1) / 2) / D. A part scored 0 (every
    gene beyond maxRank, R; D = 0, pyucell) has terms 0; down genes' terms are multiplied by -w_neg, and a sample
    whose signed score is clipped at 0 (up - w_neg down < 0) has every term 0."""
    flavor, w_neg = str(p.get("flavor", "r")), float(p.get("w_neg", 1.0))
    mr = ucell_max_rank(x.shape[0], int(p.get("max_rank", 1500)), flavor)
    for s in parts:
        for idx in (s.up, s.down):
            check_ucell_size(idx.size, mr)

    def part_terms(r: np.ndarray) -> np.ndarray:
        k = r.shape[0]
        s_min = k * (k + 1) / 2.0
        if flavor == "pyucell":
            d = k * mr - s_min
            return np.zeros(r.shape) if d == 0 else 1.0 / k - (np.minimum(r, mr) - (k + 1) / 2.0) / d
        beyond = r > mr
        terms = 1.0 / k - (np.where(beyond, mr + 1.0, r) - (k + 1) / 2.0) / (k * mr)
        return np.where(beyond.all(axis=0), 0.0, terms)

    def chunk(a: int, b: int) -> list[np.ndarray]:
        r = ucell_ranks(x[:, a:b], flavor)
        out = []
        for s in parts:
            up = part_terms(r[s.up])
            if not s.down.size:
                out.append(up)
                continue
            down = -w_neg * part_terms(r[s.down])
            clipped = up.sum(axis=0) + down.sum(axis=0) < 0  # max(0, up - w_neg down) = 0
            out.append(np.where(clipped, 0.0, np.vstack([up, down])))
        return out

    blocks = map_chunks(chunk, chunk_bounds(x.shape[1], CHUNK_ELEMENTS // max(x.shape[0], 1)), threads)
    return [Terms(np.hstack([b[i] for b in blocks])) for i in range(len(parts))]


# ---------------------------------------------------------------------------------- leave one out
def _without(rows: np.ndarray, j: int) -> np.ndarray:
    return np.delete(rows, j)


def leave_one_out(method: str) -> ContributionFunc:
    """Contributions as score(set) - score(set without the gene), every reduced set scored with the full sets in
    one call of the scoring engine on the prepared matrix (:func:`seedsig.scoring.methods.score`'s numbers)."""

    def terms(x: np.ndarray, parts: Sequence[Parts], p: dict, threads: int | None) -> list[Terms]:
        sets: list[np.ndarray] = []
        plan: list[tuple[int, int, int]] = []
        # per signature: the plan row of its full score, then per gene (plan row, whole): whole = the contribution
        # is that row's score (the part left empty), else the full score minus it
        layout: list[tuple[int, list[tuple[int, bool, float]]]] = []

        def add(u: int, d: int) -> int:
            plan.append((len(plan), u, d))
            return len(plan) - 1

        def add_set(idx: np.ndarray) -> int:
            sets.append(idx)
            return len(sets) - 1

        for s in parts:
            u, d = add_set(s.up), (add_set(s.down) if s.down.size else -1)
            full, genes = add(u, d), []
            for j in range(s.up.size):
                genes.append(
                    (add(u, -1), True, 1.0) if s.up.size == 1 else (add(add_set(_without(s.up, j)), d), False, 1.0)
                )
            for j in range(s.down.size):
                genes.append(
                    (add(d, -1), True, -1.0) if s.down.size == 1 else (add(u, add_set(_without(s.down, j))), False, 1.0)
                )
            layout.append((full, genes))
        out, _ = _scored(method, x, sets, plan, p, len(plan), threads)
        return [
            Terms(np.vstack([sign * out[r] if whole else out[full] - out[r] for r, whole, sign in genes]))
            for full, genes in layout
        ]

    return terms


# One entry per scoring method of the registry (seedsig.scoring.methods.SCORING_METHODS).
CONTRIBUTIONS: dict[str, ContributionSpec] = {
    "ssgsea": ContributionSpec("leave-one-out", leave_one_out("ssgsea")),
    "gsva": ContributionSpec("leave-one-out", leave_one_out("gsva")),
    "zscore": ContributionSpec("exact", _zscore_terms),
    "mean_z": ContributionSpec("exact", _mean_z_terms),
    "singscore": ContributionSpec("exact", _singscore_terms),
    "plage": ContributionSpec("exact", _plage_terms),
    "score_genes": ContributionSpec("exact", _score_genes_terms),
    "ucell": ContributionSpec("exact", _ucell_terms),
    "aucell": ContributionSpec("leave-one-out", leave_one_out("aucell")),
}


# ------------------------------------------------------------------------------------------- table
@dataclass
class ContributionResult:
    """The long table (:data:`CONTRIBUTION_COLUMNS`), the coverage table of the run, and how it was computed."""

    table: pd.DataFrame
    coverage: pd.DataFrame
    method: str
    kind: str
    params: dict

    def provenance(self) -> dict:
        return {
            "method": self.method,
            "parameters": self.params,
            "contribution": (
                "exact decomposition: a sample's contributions sum to its score"
                if self.kind == "exact"
                else "leave-one-gene-out: score(set) - score(set without the gene), scored by the same method on the "
                "same matrix (a part left empty: the part's whole score); they need not sum to the score"
            ),
            "kind": self.kind,
            "signatures": sorted(set(self.table["signature"]), key=list(self.table["signature"].unique()).index),
            "n_rows": int(len(self.table)),
        }


def _parts(signatures: Sequence[Signature], scored: Sequence[bool], rows: dict[str, int]) -> list[Parts]:
    out = []
    for sig, ok in zip(signatures, scored):
        if not ok:
            continue
        up = sorted((rows[g], g) for g in sig.up if g in rows)
        down = sorted((rows[g], g) for g in sig.down if g in rows)
        out.append(
            Parts(
                sig.name,
                np.array([r for r, _ in up], dtype=np.int64),
                np.array([r for r, _ in down], dtype=np.int64),
                tuple(g for _, g in up),
                tuple(g for _, g in down),
            )
        )
    return out


def _block(sig: Signature, part: Parts, terms: Terms, samples: np.ndarray) -> pd.DataFrame:
    """One signature's rows: samples in matrix order, genes in the signature's order, then the extra terms."""
    labels = [*part.up_genes, *part.down_genes, *(lab for lab, _ in terms.extra)]
    directions = ["up"] * len(part.up_genes) + ["down"] * len(part.down_genes) + [d for _, d in terms.extra]
    where = {g: i for i, g in enumerate(labels)}
    order = [where[g] for g in sig.genes if g in where] + list(range(len(labels) - len(terms.extra), len(labels)))
    m, n = len(order), samples.size
    return pd.DataFrame(
        {
            "sample": np.repeat(samples, m),
            "signature": sig.name,
            "gene": np.tile(np.asarray(labels, dtype=object)[order], n),
            "contribution": terms.values[order].T.reshape(-1),
            "direction": np.tile(np.asarray(directions, dtype=object)[order], n),
        },
        columns=list(CONTRIBUTION_COLUMNS),
    )


def contribution_blocks(
    matrix: pd.DataFrame,
    signatures: Sequence[Signature],
    method: str,
    *,
    select: Sequence[str] | None = None,
    row_symbols: Sequence[str] | None = None,
    min_genes: int = SCORING_DEFAULTS["min_genes"],
    min_fraction: float = SCORING_DEFAULTS["min_fraction"],
    params: dict | None = None,
    threads: int | None = 1,
) -> tuple[Iterator[pd.DataFrame], pd.DataFrame, dict, str]:
    """(one block of :data:`CONTRIBUTION_COLUMNS` rows per scored signature of ``select`` (None: every one), the
    coverage table, the method's parameters, its kind). Blocks are computed a signature at a time."""
    if method not in CONTRIBUTIONS:
        raise SeedsigError(
            f"scoring method '{method}' has no per-gene contributions (known: {', '.join(CONTRIBUTIONS)})."
        )
    spec, engine = CONTRIBUTIONS[method], SCORING_METHODS[method]
    p = method_params(method, params)
    names = [s.name for s in signatures]
    missing = [s for s in (select or []) if s not in names]
    if missing:
        raise SeedsigError(f"contributions: signature(s) {', '.join(missing)} are not among {', '.join(names)}.")
    cov = coverage_table(
        matrix,
        signatures,
        row_symbols=row_symbols,
        min_genes=min_genes,
        min_fraction=min_fraction,
        drop_constant=engine.drops_constant_genes,
    )
    order = "F" if method in ("ssgsea", "singscore") else "C"  # as score(): the layout only changes the speed
    x, rows, _ = usable_matrix(matrix, row_symbols, engine.drops_constant_genes, order=order)
    scale = 1.0
    if p.get("normalize"):  # ssgsea normalized: both scores over the range of the run's (unnormalized) scores
        raw = score(
            matrix,
            signatures,
            method,
            row_symbols=row_symbols,
            min_genes=min_genes,
            min_fraction=min_fraction,
            params={**p, "normalize": False},
            threads=threads,
        ).scores.to_numpy()
        rng = np.nanmax(raw) - np.nanmin(raw) if np.isfinite(raw).any() else 0.0
        scale = rng if rng > 0 else 1.0
    chosen = set(names if select is None else select)
    keep = [ok and s.name in chosen for s, ok in zip(signatures, cov["scored"])]
    parts = _parts(signatures, keep, rows)
    by_name = {s.name: s for s in signatures}
    samples = np.asarray(matrix.columns.astype(str), dtype=object)
    q = {**p, "normalize": False} if "normalize" in p else p

    def blocks() -> Iterator[pd.DataFrame]:
        # one call for every signature: the ranks, CDFs or control genes are computed once
        for part, terms in zip(parts, spec.func(x, parts, q, threads) if parts else []):
            yield _block(by_name[part.name], part, Terms(terms.values / scale, terms.extra), samples)

    return blocks(), cov, p, spec.kind


def contributions(
    matrix: pd.DataFrame, signatures: Sequence[Signature], method: str = "ssgsea", **kwargs
) -> ContributionResult:
    """Per-gene contributions of every scored signature (``select``: only these) in every sample of a genes x
    samples log-expression matrix, as a long table; keywords as :func:`contribution_blocks`."""
    blocks, cov, p, kind = contribution_blocks(matrix, signatures, method, **kwargs)
    parts = list(blocks)
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(CONTRIBUTION_COLUMNS))
    return ContributionResult(table=table, coverage=cov, method=method, kind=kind, params=p)


def top_variance_gene(block: pd.DataFrame, scores: np.ndarray | None = None) -> str:
    """``GENE:share`` of one signature's contributions (:func:`_block`'s rows): the gene whose contribution varies
    most across samples (variance, n - 1; ties within 1e-12: the first in the signature's order) and its share of
    the score's variance, var(contribution_g) / var(score) (rounded to 3 decimals; near 1: the gene alone moves
    the score; the genes' shares add up to more than 1 when genes move together, less when they offset). ``scores``: the
    signature's score per sample in the block's sample order; None: the sum of the block's terms (the score of an
    additive method). '' with fewer than 2 samples or a score that does not vary."""
    is_gene = ~block["gene"].astype(str).str.startswith("(").to_numpy()  # extra terms (score_genes' control)
    if not is_gene.any():
        return ""
    n_terms = int(block["sample"].eq(block["sample"].iloc[0]).sum())
    terms = block["contribution"].to_numpy(dtype=float).reshape(-1, n_terms)  # samples x terms
    names = block["gene"].to_numpy(dtype=object)[:n_terms]
    genes = is_gene[:n_terms]
    s = terms.sum(axis=1) if scores is None else np.asarray(scores, dtype=float)
    ok = np.isfinite(s) & np.isfinite(terms[:, genes]).all(axis=1)
    if ok.sum() < 2:
        return ""
    x, s = terms[ok][:, genes], s[ok]
    var_s = s.var(ddof=1)
    if not np.isfinite(var_s) or var_s <= 0:
        return ""
    var = x.var(axis=0, ddof=1)
    i = int(np.argmax(np.round(var / var.max(), 12))) if var.max() > 0 else 0
    share = float(var[i] / var_s)
    return f"{names[genes][i]}:{share:.3f}"


# ------------------------------------------------------------------------------------------- groups
def sub_signature_groups(main: Signature, signatures: Sequence[Signature]) -> dict[str, list[str]]:
    """The gene groups of ``main`` given by the signatures whose genes all belong to it (e.g. SS_attraction =
    IL6, CXCL8 and SS_infiltration = FSCN1, MMP1 of SS): name -> genes, in the order of ``signatures``; the
    grouping lives in the signature files, not in code."""
    genes = set(main.genes)
    return {
        s.name: list(s.genes)
        for s in signatures
        if s.name != main.name and s.genes and set(s.genes) <= genes and set(s.genes) != genes
    }


def group_shares(table: pd.DataFrame, signature: str, groups: dict[str, list[str]]) -> pd.DataFrame:
    """Per sample (rows, in the table's order), the share of ``signature``'s score carried by each gene group:
    sum over the group's genes of |contribution| / sum over every gene of |contribution| (absolute values: the
    leave-one-out contributions of ssgsea and gsva may have either sign and need not sum to the score); genes in
    no group form ``other``. NA when every contribution of the sample is 0."""
    rows = table[(table["signature"].astype(str) == signature) & ~table["gene"].astype(str).str.startswith("(")]
    mag = rows.assign(a=rows["contribution"].astype(float).abs()).pivot_table(
        index="sample", columns="gene", values="a", sort=False
    )
    total = mag.sum(axis=1)
    out = pd.DataFrame(index=mag.index)
    grouped: set[str] = set()
    for name, genes in groups.items():
        present = [g for g in genes if g in mag.columns and g not in grouped]
        grouped.update(present)
        out[name] = mag[present].sum(axis=1) / total if present else 0.0
    rest = [g for g in mag.columns if g not in grouped]
    if rest:
        out["other"] = mag[rest].sum(axis=1) / total
    return out.where(total > 0)
