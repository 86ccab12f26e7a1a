"""UCell and AUCell: rank-based single-sample scores (each sample's genes ranked alone; no cohort statistics).

Both rank the usable rows of the matrix (every gene of the cohort, in the canonical order of
:func:`seedsig.scoring.methods.usable_matrix`: sorted by label) by decreasing expression in each sample, then score
every set from a gather of its genes' ranks, vectorized over samples and sets (chunks of samples on the threads).
Signature genes absent from the cohort are dropped (the coverage rule), never imputed.

``ucell`` (Andreatta & Carmona 2021), flavor ``r`` (default): Bioconductor UCell 2.0-2.6 (Bioconductor 3.14-3.18,
the versions of R 4.1-4.3), ``u_stat``: ranks by decreasing expression over all genes, ties "average"; ``maxRank``
is lowered to the number of genes when the cohort has fewer (``calculate_Uscore``); ranks above ``maxRank`` are set
to ``maxRank + 1``; for a set of n genes U = sum(r) - n (n + 1) / 2 and the score is 1 - U / (n maxRank), or 0
when every gene of the set ranks beyond ``maxRank``. Flavor ``pyucell``: pyucell 0.8 ``compute_ucell_scores``: only
non-zero values are ranked (ties "average"; NaN counts as 0), a zero or a rank above ``max_rank`` counts as
``max_rank`` (which is not lowered to the number of genes), and the score is 1 - (sum(r) - s_min) / (n max_rank -
s_min), s_min = n (n + 1) / 2 (0 when n max_rank = s_min). UCell 2.8 and later (Bioconductor 3.19-) normalize
as pyucell does, but rank every gene (zeros included). Signed sets (both flavors, as both tools):
max(0, score(up) - w_neg score(down)). A set larger than ``max_rank`` is refused (UCell stops too).

``aucell`` (Aibar et al. 2017), as decoupler 2.x ``dc.mt.aucell``: ordinal ranks of the decreasing expression,
ties in the canonical row order (R's AUCell breaks ties at random, decoupler in input row order: on tie-free data
all three agree); n_up = ceil(max_rank_fraction x genes) clipped to [2, genes] (AUCell's ``aucMaxRank``); the area
under the recovery curve of the set over the top n_up genes, sum over set genes of max(0, n_up - r), divided by its
maximum, sum_{i = 1..min(k, n_up)} (n_up - i). Signed sets: score(up) - score(down), the registry's rule."""

from __future__ import annotations

import math

import numpy as np

from seedsig.core.errors import SeedsigError
from seedsig.core.ranking import rank_samples, sort_positions
from seedsig.core.threads import chunk_bounds, map_chunks

UCELL_FLAVORS = ("r", "pyucell")
CHUNK_ELEMENTS = 4_000_000  # genes x samples per chunk of samples ranked at once (a few 32 MB arrays per thread)


# ------------------------------------------------------------------------------------------------ UCell
def ucell_ranks(x: np.ndarray, flavor: str = "r") -> np.ndarray:
    """Ranks by decreasing value of each column of ``x`` (genes x samples), ties "average", float64 genes x
    samples: over every gene (flavor ``r``), or over the non-zero values alone with zeros (and NaN) ranked ``inf``
    (flavor ``pyucell``)."""
    xt = -np.asarray(x, dtype=np.float64).T  # samples x genes: a copy
    if flavor == "pyucell":
        zero = ~(xt != 0)  # 0 and NaN
        xt[zero] = np.inf
        r = rank_samples(xt, "average")
        r[zero] = np.inf
        return r.T
    return rank_samples(xt, "average").T


def ucell_max_rank(n_genes: int, max_rank: int, flavor: str = "r") -> int:
    """The ``maxRank`` UCell uses: lowered to the number of genes by R UCell, as given by pyucell."""
    return int(min(max_rank, n_genes)) if flavor == "r" else int(max_rank)


def check_ucell_size(k: int, max_rank: int) -> None:
    if k > max_rank:
        raise SeedsigError(
            f"ucell: a gene set of {k} measured genes is larger than maxRank = {max_rank} (scoring.ucell.max_rank, "
            "lowered to the number of genes of the cohort); UCell needs sets no larger than maxRank: raise "
            "scoring.ucell.max_rank or score shorter signatures."
        )


def ucell_from_ranks(r: np.ndarray, max_rank: int, flavor: str = "r") -> np.ndarray:
    """UCell of sets from their genes' ranks ``r`` (shape ..., k, samples; from :func:`ucell_ranks`) with the
    ``maxRank`` of :func:`ucell_max_rank`: shape ..., samples."""
    k = r.shape[-2]
    s_min = k * (k + 1) / 2.0
    if flavor == "pyucell":
        total = np.minimum(r, max_rank).sum(axis=-2)
        if k * max_rank == s_min:
            return np.zeros(total.shape)
        return 1.0 - (total - s_min) / (k * max_rank - s_min)
    beyond = r > max_rank
    total = np.where(beyond, max_rank + 1.0, r).sum(axis=-2)
    return np.where(beyond.all(axis=-2), 0.0, 1.0 - (total - s_min) / (k * max_rank))


def ucell_combine(up: np.ndarray, down: np.ndarray | None, p: dict) -> np.ndarray:
    """A signature's UCell from its up and down sets' scores: max(0, up - w_neg down) (R UCell and pyucell)."""
    if down is None:
        return up
    return np.maximum(up - float(p.get("w_neg", 1.0)) * down, 0.0)


def _ucell(
    x: np.ndarray,
    sets: list[np.ndarray],
    *,
    max_rank: int = 1500,
    w_neg: float = 1.0,
    flavor: str = "r",
    threads: int | None = 1,
) -> np.ndarray:
    """UCell of every set (sets x samples), chunks of samples ranked and scored on ``threads`` threads."""
    if flavor not in UCELL_FLAVORS:
        raise SeedsigError(f"ucell: flavor '{flavor}' is not one of {', '.join(UCELL_FLAVORS)} (scoring.ucell.flavor).")
    mr = ucell_max_rank(x.shape[0], max_rank, flavor)
    for idx in sets:
        check_ucell_size(idx.size, mr)

    def chunk(a: int, b: int) -> np.ndarray:
        r = ucell_ranks(x[:, a:b], flavor)
        return np.vstack([ucell_from_ranks(r[idx, :], mr, flavor) for idx in sets])

    return _by_sample_chunks(x, sets, chunk, threads)


def _by_sample_chunks(x: np.ndarray, sets: list[np.ndarray], chunk, threads: int | None) -> np.ndarray:
    if not sets:
        return np.empty((0, x.shape[1]))
    bounds = chunk_bounds(x.shape[1], CHUNK_ELEMENTS // max(x.shape[0], 1))
    return np.hstack(map_chunks(chunk, bounds, threads)) if bounds else np.empty((len(sets), 0))


# ----------------------------------------------------------------------------------------------- AUCell
def aucell_ranks(x: np.ndarray) -> np.ndarray:
    """Ordinal ranks (1..genes) by decreasing value of each column of ``x`` (genes x samples), tied values in row
    order (a stable sort, as scipy's ``rankdata(-x, "ordinal")``), float64 genes x samples."""
    return (sort_positions(-np.asarray(x, dtype=np.float64).T) + 1.0).T


def aucell_n_up(n_genes: int, fraction: float = 0.05) -> int:
    """AUCell's ``aucMaxRank``: ceil(fraction x genes), clipped to [2, genes] (decoupler's ``n_up``)."""
    return int(min(max(math.ceil(fraction * n_genes), 2), n_genes))


def aucell_from_ranks(r: np.ndarray, n_up: int) -> np.ndarray:
    """AUCell of sets from their genes' ordinal ranks ``r`` (shape ..., k, samples): the area under the recovery
    curve over the top ``n_up`` genes, sum(max(0, n_up - r)), over its maximum; shape ..., samples."""
    k = r.shape[-2]
    m = min(k, n_up)
    max_auc = m * n_up - m * (m + 1) / 2.0
    return np.maximum(n_up - r, 0.0).sum(axis=-2) / max_auc


def _aucell(
    x: np.ndarray, sets: list[np.ndarray], *, max_rank_fraction: float = 0.05, threads: int | None = 1
) -> np.ndarray:
    """AUCell of every set (sets x samples), chunks of samples ranked and scored on ``threads`` threads."""
    n_up = aucell_n_up(x.shape[0], max_rank_fraction)
    if x.shape[0] < 2:
        raise SeedsigError(f"aucell: {x.shape[0]} gene(s) in the cohort; AUCell needs at least 2.")

    def chunk(a: int, b: int) -> np.ndarray:
        r = aucell_ranks(x[:, a:b])
        return np.vstack([aucell_from_ranks(r[idx, :], n_up) for idx in sets])

    return _by_sample_chunks(x, sets, chunk, threads)


# ------------------------------------------------------------------- the registry's entries (scoring.methods)
def _always(p: dict) -> bool:
    return True


UCELL = {
    "func": _ucell,
    "single_sample": _always,
    "description": (
        "UCell (Andreatta & Carmona 2021): Mann-Whitney U of the set's within-sample ranks (decreasing, ties "
        "average) capped at max_rank, 1 - U / Umax (flavor r: R UCell 2.0-2.6; pyucell: pyucell 0.8); signed sets "
        "max(0, up - w_neg x down)"
    ),
    "defaults": {"max_rank": 1500, "w_neg": 1.0, "flavor": "r"},
    "combine": ucell_combine,
}
AUCELL = {
    "func": _aucell,
    "single_sample": _always,
    "description": (
        "AUCell (Aibar et al. 2017) as decoupler: area under the recovery curve of the set over the sample's top "
        "ceil(max_rank_fraction x genes) genes, over its maximum (ordinal ranks, ties in gene-name order)"
    ),
    "defaults": {"max_rank_fraction": 0.05},
}
