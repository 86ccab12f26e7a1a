"""Reference-anchored scoring: the gene-wise statistics of a reference cohort, frozen and applied to any cohort.

A cohort-relative method (zscore, mean_z, gsva, plage, score_genes, ssgsea with ``normalize: true``) gives a sample a
score that depends on the other samples of the run. Anchored to a reference, what the method estimates from the
samples is estimated once, on the reference cohort, and applied unchanged to every cohort, so a sample's score
depends on that sample and the reference only (two halves of a cohort scored apart agree with the whole; a new
cohort lands on the reference's scale):

``zscore``, ``mean_z``
    each gene's mean and SD (n - 1) across the reference samples: z = (x - mean_ref) / sd_ref.
``plage``
    the same standardization, and per signature set its first left singular vector on the reference (the loadings,
    sign-oriented as the method orients the score) and singular value s: score = loadings . z / s (on the reference
    itself this is the method's right singular vector).
``gsva``
    each gene's kernel CDF estimated on the reference samples and evaluated at the cohort's values, as GSVA 1.46's
    ``compute.gene.density(expr, sample.idxs)`` does with density samples apart from test samples (C ``row_d``:
    mean over the density samples of the kernel at y - x_l, bandwidth sd(x_ref) / 4; poisson: P(Pois(x_l + 0.5) <=
    y); none: the reference's ECDF at y). kcdf "auto" is decided on the reference. A sample of the reference (same
    name, same values) sums its kernel terms as the within-cohort estimate does, so the reference cohort scored
    against itself gives today's gsva scores bit for bit.
``score_genes``
    per signature set the control genes (drawn as scanpy's ``tl.score_genes`` draws them, on the reference, seeded):
    score = mean of the set's genes - mean of the control genes, in each cohort.
``ssgsea`` (``normalize: true``)
    the range of the reference's scores (all scored signatures): each cohort's walk sums are divided by it.

Single-sample methods (ssgsea without ``normalize``, singscore and any other single-sample method) take no reference:
their scores are the same with or without one.

Genes (the coverage rule with a reference): a signature gene counts as present when the cohort measures it (finite in
every sample) and the reference has its statistics (measured there, and not constant for the methods that leave
constant genes out); then ``min_genes`` / ``min_fraction`` apply as without a reference. gsva ranks the genes the
cohort and the reference share. Statistics frozen per signature set (plage's loadings, score_genes' control genes)
need every gene the reference used for that set: a signature missing one in the cohort is not scored (NA, with the
reason in the coverage table); control genes absent from the cohort are left out of the control mean (warned).

The reference is saved as a ``.npz`` file (numpy arrays, no pickles; written byte-reproducibly) with a provenance
sidecar JSON; :func:`load_reference` checks it and says what is wrong with a file that is not one.
"""

from __future__ import annotations

import io
import json
import logging
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
from scipy.special import ndtr, pdtr

from seedsig.core.cohort import expression_frame, normalization_record
from seedsig.core.errors import SeedsigError
from seedsig.core.provenance import provenance, write_sidecar
from seedsig.core.settings import SCORING_DEFAULTS
from seedsig.core.tables import atomic_path
from seedsig.core.threads import chunk_bounds, map_chunks
from seedsig.scoring.methods import (
    GSVA_CDF_MAX,
    GSVA_CDF_RESOLUTION,
    GSVA_INDEX_MARGIN,
    SCORING_METHODS,
    ScoreResult,
    _numba_threads,
    coverage_of,
    coverage_table,
    gsva_kcdf,
    score,
    standardize,
    usable_matrix,
    usable_rows,
)
from seedsig.scoring.signatures import Signature, load_signatures

log = logging.getLogger("seedsig")

FORMAT = "seedsig-reference"
FORMAT_VERSION = 1
# the arrays each method's reference holds (besides "format", "meta" and "genes")
METHOD_ARRAYS = {
    "zscore": ("mean", "sd"),
    "mean_z": ("mean", "sd"),
    "plage": ("mean", "sd", "set_keys", "set_genes", "set_offsets", "loadings", "singular"),
    "gsva": ("values", "sd", "samples"),
    "score_genes": ("set_keys", "set_genes", "set_offsets", "control_genes", "control_offsets"),
    "ssgsea": ("score_range",),
}
HOW_TO_MAKE = (
    "make one with `seedsig reference --expression FILE --method METHOD --out FILE`, seedsig.build_reference(), "
    "or take results/reference/{method}.npz of a pipeline run with scoring.reference set"
)


@dataclass
class Reference:
    """The frozen statistics of one method on one reference cohort (see the module's text)."""

    method: str
    params: dict
    genes: np.ndarray  # labels of the rows with statistics, in the canonical (sorted) order
    arrays: dict
    info: dict  # cohort, n_samples, n_genes, signatures, kcdf (gsva)

    def record(self) -> dict:
        """What a score's provenance says about the reference it is anchored to."""
        return {"method": self.method, "parameters": self.params, **self.info}

    def sets(self) -> dict[str, np.ndarray]:
        """signature set key ("name\\tup" / "name\\tdown") -> the labels of its genes (plage, score_genes)."""
        return _unpack(self.arrays["set_keys"], self.arrays["set_genes"], self.arrays["set_offsets"])


def needs_reference(method: str, params: dict | None = None) -> bool:
    """True when ``method`` with ``params`` is cohort-relative (a reference anchors it); False: single-sample."""
    spec = SCORING_METHODS[method]
    return not spec.single_sample({**spec.defaults, **(params or {})})


def _unpack(keys: np.ndarray, flat: np.ndarray, offsets: np.ndarray) -> dict[str, np.ndarray]:
    return {str(k): flat[offsets[i] : offsets[i + 1]] for i, k in enumerate(keys)}


def _pack(groups: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    keys = np.array(list(groups), dtype=str)
    flat = np.concatenate([np.asarray(v, dtype=str) for v in groups.values()]) if groups else np.array([], dtype=str)
    offsets = np.concatenate([[0], np.cumsum([len(v) for v in groups.values()], dtype=np.int64)]).astype(np.int64)
    return keys, flat.astype(str), offsets


def _signature_plan(signatures: Sequence[Signature], scored, rows: dict[str, int]):
    """(sets of row indices, plan of (signature index, up set, down set or -1), set keys) as the scoring engine
    builds them: the genes of each scored signature present in ``rows``, sorted by row."""
    sets: list[np.ndarray] = []
    plan: list[tuple[int, int, int]] = []
    keys: list[str] = []
    for i, (sig, ok) in enumerate(zip(signatures, scored)):
        if not ok:
            continue
        up = np.array(sorted(rows[g] for g in sig.up if g in rows), dtype=np.int64)
        down = np.array(sorted(rows[g] for g in sig.down if g in rows), dtype=np.int64)
        sets.append(up)
        keys.append(f"{sig.name}\tup")
        plan.append((i, len(sets) - 1, -1))
        if down.size:
            sets.append(down)
            keys.append(f"{sig.name}\tdown")
            plan[-1] = (i, plan[-1][1], len(sets) - 1)
    return sets, plan, keys


def _method_params(method: str, params: dict | None) -> dict:
    if method not in SCORING_METHODS:
        raise SeedsigError(f"scoring method '{method}' is not one of {', '.join(SCORING_METHODS)}.")
    spec = SCORING_METHODS[method]
    unknown = set(params or {}) - set(spec.defaults)
    if unknown:
        raise SeedsigError(f"scoring method '{method}' has no parameter(s) {', '.join(sorted(unknown))}.")
    return {**spec.defaults, **(params or {})}


# ------------------------------------------------------------------------------------------------ build
def build_reference(
    matrix: pd.DataFrame,
    signatures: Sequence[Signature],
    method: str,
    *,
    row_symbols: Sequence[str] | None = None,
    params: dict | None = None,
    min_genes: int = SCORING_DEFAULTS["min_genes"],
    min_fraction: float = SCORING_DEFAULTS["min_fraction"],
    cohort: str = "",
    threads: int | None = 1,
) -> Reference:
    """The frozen statistics of ``method`` on the reference cohort ``matrix`` (genes x samples, log expression)."""
    p = _method_params(method, params)
    if not needs_reference(method, p):
        raise SeedsigError(
            f"scoring method '{method}' with these parameters is single-sample (a sample's score does not depend on "
            "the other samples): it takes no reference."
        )
    if method not in METHOD_ARRAYS:
        raise SeedsigError(f"scoring method '{method}' has no reference-anchored form.")
    info = {"cohort": cohort, "n_samples": int(matrix.shape[1]), "signatures": [s.name for s in signatures]}
    if method == "ssgsea":
        res = score(matrix, signatures, method, row_symbols=row_symbols, min_genes=min_genes,
                    min_fraction=min_fraction, params={**p, "normalize": False}, threads=threads)  # fmt: skip
        raw = res.scores.loc[:, res.coverage["scored"].to_numpy()].to_numpy()
        rng = float(np.nanmax(raw) - np.nanmin(raw)) if raw.size else 0.0
        info["n_genes"] = int(res.n_genes)
        return Reference(method, p, np.array([], dtype=str), {"score_range": np.array([rng])}, info)
    drop = SCORING_METHODS[method].drops_constant_genes
    x, rows, labels = usable_matrix(matrix, row_symbols, drop)
    if pd.Index(labels).has_duplicates:
        raise SeedsigError("a reference needs unique row labels (gene symbols): collapse duplicated rows first.")
    info["n_genes"] = int(x.shape[0])
    arrays: dict[str, np.ndarray] = {}
    if method in ("zscore", "mean_z", "plage"):
        arrays["mean"], arrays["sd"] = x.mean(axis=1), x.std(axis=1, ddof=1)
    if method == "gsva":
        info["kcdf"] = gsva_kcdf(x, p["kcdf"]) if x.size else "gaussian"
        arrays.update(values=x, sd=x.std(axis=1, ddof=1), samples=np.asarray(matrix.columns.astype(str), dtype=str))
    if method in ("plage", "score_genes"):
        cov = coverage_table(matrix, signatures, row_symbols=row_symbols, min_genes=min_genes,
                             min_fraction=min_fraction, drop_constant=drop)  # fmt: skip
        sets, _, keys = _signature_plan(signatures, cov["scored"], rows)
        arrays["set_keys"], arrays["set_genes"], arrays["set_offsets"] = _pack(
            {k: labels[idx] for k, idx in zip(keys, sets)}
        )
        if method == "plage":
            arrays["loadings"], arrays["singular"] = _plage_loadings(x, sets, arrays["mean"], arrays["sd"])
        else:
            ctrl = {k: labels[_control_rows(x, idx, **p)] for k, idx in zip(keys, sets)}
            _, arrays["control_genes"], arrays["control_offsets"] = _pack(ctrl)
    return Reference(method, p, labels.astype(str), arrays, info)


def _plage_loadings(x, sets, mean, sd) -> tuple[np.ndarray, np.ndarray]:
    """Per set: its first left singular vector on the standardized genes, sign-oriented as plage orients the score
    (positive correlation with the set's mean z-score), and the first singular value."""
    z = standardize(x, mean, sd)
    loadings, singular = [], []
    for idx in sets:
        u, s, vt = np.linalg.svd(z[idx, :], full_matrices=False)
        v, mean_z = vt[0], z[idx, :].mean(axis=0)
        sign = 1.0 if np.dot(v - v.mean(), mean_z - mean_z.mean()) >= 0 else -1.0
        loadings.append(sign * u[:, 0])
        singular.append(s[0])
    flat = np.concatenate(loadings) if loadings else np.array([], dtype=float)
    return flat, np.array(singular, dtype=float)


def _control_rows(x: np.ndarray, idx: np.ndarray, *, ctrl_size: int, n_bins: int, random_state: int) -> np.ndarray:
    """The control genes scanpy's ``tl.score_genes`` (1.11) draws for the set ``idx`` (rows of ``x``, genes x samples,
    named r0, r1, ... as the scoring engine names them): genes binned by mean expression into ``n_bins`` cuts,
    ``ctrl_size`` genes drawn from each cut of a set gene (numpy seeded with ``random_state``, here a local
    RandomState: the global RNG is not touched), set genes removed. Rows, in scanpy's order (sorted names)."""
    names = pd.Index([f"r{i}" for i in range(x.shape[0])], dtype="string")
    rs = np.random.RandomState(random_state)
    gene_list = pd.Index(names[idx])
    obs_avg = pd.Series(np.nanmean(np.ascontiguousarray(x.T), axis=0), index=names)
    obs_avg = obs_avg[np.isfinite(obs_avg)]
    n_items = int(np.round(len(obs_avg) / (n_bins - 1)))
    obs_cut = obs_avg.rank(method="min") // n_items
    control = pd.Index([], dtype="string")
    for cut in np.unique(obs_cut.loc[gene_list]):
        r_genes = obs_cut[obs_cut == cut].index
        if ctrl_size < len(r_genes):
            r_genes = r_genes.to_series().sample(ctrl_size, random_state=rs).index
        control = control.union(r_genes.difference(gene_list))
    return np.array([int(str(g)[1:]) for g in control], dtype=np.int64)


# ------------------------------------------------------------------------------------------------ apply
def score_with_reference(
    matrix: pd.DataFrame,
    signatures: Sequence[Signature],
    reference: Reference,
    *,
    row_symbols: Sequence[str] | None = None,
    min_genes: int = SCORING_DEFAULTS["min_genes"],
    min_fraction: float = SCORING_DEFAULTS["min_fraction"],
    params: dict | None = None,
    threads: int | None = 1,
) -> ScoreResult:
    """Scores of ``matrix`` (genes x samples) anchored to ``reference`` (its method and parameters; ``params``, when
    given, must agree with them). The result is the engine's :class:`ScoreResult`; ``single_sample`` is False."""
    method, p = reference.method, reference.params
    given = _method_params(method, params)
    if params is not None and given != p:
        raise SeedsigError(
            f"the {method} reference was built with parameters {p}, not {given}: score with the reference's "
            "parameters or build the reference again with these."
        )
    if method == "ssgsea":
        res = score(matrix, signatures, method, row_symbols=row_symbols, min_genes=min_genes,
                    min_fraction=min_fraction, params={**p, "normalize": False}, threads=threads)  # fmt: skip
        rng = float(reference.arrays["score_range"][0])
        return replace(res, scores=res.scores / rng if rng > 0 else res.scores, params=p, single_sample=False)
    x, rows, refpos, cov = _anchored_rows(matrix, signatures, reference, row_symbols, min_genes, min_fraction)
    sets, plan, keys = _signature_plan(signatures, cov["scored"], rows)
    labels = reference.genes[refpos]
    if method in ("plage", "score_genes"):
        sets, plan, keys = _frozen_sets(signatures, cov, sets, plan, keys, labels, reference)
    es = _anchored_es(x, sets, keys, labels, refpos, reference, matrix.columns, threads)
    out = np.full((len(signatures), x.shape[1]), np.nan)
    for i, u, d in plan:
        out[i] = es[u] - (es[d] if d >= 0 else 0.0)
    index = pd.Index(matrix.columns.astype(str), name="sample")
    scores = pd.DataFrame(out.T, index=index, columns=[s.name for s in signatures])
    return ScoreResult(scores=scores, coverage=cov, method=method, params=p, single_sample=False,
                       n_genes=int(x.shape[0]))  # fmt: skip


def _anchored_rows(matrix, signatures, reference, row_symbols, min_genes, min_fraction):
    """The cohort's rows measured in every sample that the reference has statistics for (canonical order), the row
    of each symbol among them, their positions in the reference, and the coverage table (genes measured in the
    cohort but not in the reference are marked so among the missing genes)."""
    upos, rows, labels = usable_rows(matrix, row_symbols, drop_constant=False)
    refpos_all = pd.Index(reference.genes).get_indexer(labels)
    kept = np.flatnonzero(refpos_all >= 0)
    remap = np.full(labels.size, -1)
    remap[kept] = np.arange(kept.size)
    anchored = {g: int(remap[r]) for g, r in rows.items() if remap[r] >= 0}
    x = matrix.to_numpy(dtype=np.float64)[upos[kept]]
    cov = coverage_of(signatures, anchored, (), min_genes, min_fraction)
    outside = {g for g in rows if g not in anchored}
    if outside:
        cov["missing_genes"] = [
            ",".join(f"{g} (not in the reference)" if g in outside else g for g in str(m).split(",") if g)
            for m in cov["missing_genes"]
        ]
    ref_genes = set(map(str, reference.genes))
    lacking = sorted({g for s in signatures for g in s.genes if g in ref_genes and g not in rows})
    if lacking:
        log.warning(
            "the cohort lacks %d signature gene(s) the %s reference has statistics for (%s): they are left out of "
            "its scores (scoring.reference)",
            len(lacking),
            reference.method,
            ", ".join(lacking[:10]) + (", ..." if len(lacking) > 10 else ""),
        )
    return x, anchored, refpos_all[kept], cov


def _frozen_sets(signatures, cov, sets, plan, keys, labels, reference):
    """plage / score_genes: a signature is scored only when each of its sets has the genes the reference froze its
    statistics on; otherwise it is NA and the coverage table says which genes the cohort lacks."""
    frozen = reference.sets()
    bad: dict[int, str] = {}
    for i, u, d in plan:
        for s in (u, d):
            if s < 0:
                continue
            want = frozen.get(keys[s])
            have = labels[sets[s]]
            if want is None:
                bad[i] = f"the {reference.method} reference has no statistics for this signature (built without it)"
            elif not np.array_equal(np.asarray(want, dtype=str), np.asarray(have, dtype=str)):
                miss = sorted(set(map(str, want)) - set(map(str, have)))
                bad[i] = (
                    f"the {reference.method} reference's statistics for this signature need "
                    f"{', '.join(miss) or 'other genes'}, not in this cohort"
                )
    for i, why in bad.items():
        cov.loc[i, "scored"] = False
        cov.loc[i, "reason"] = why
    used = sorted({s for i, u, d in plan if i not in bad for s in (u, d) if s >= 0})
    new = {s: j for j, s in enumerate(used)}
    plan = [(i, new[u], new[d] if d >= 0 else -1) for i, u, d in plan if i not in bad]
    return [sets[s] for s in used], plan, [keys[s] for s in used]


def _anchored_es(x, sets, keys, labels, refpos, reference, columns, threads) -> np.ndarray:
    """Each set's score (sets x samples) with the reference's frozen statistics."""
    method, arrays, p = reference.method, reference.arrays, reference.params
    if not sets:
        return np.empty((0, x.shape[1]))
    if method in ("zscore", "mean_z"):
        return SCORING_METHODS[method].func(x, sets, center=arrays["mean"][refpos], scale=arrays["sd"][refpos])
    if method == "plage":
        z = standardize(x, arrays["mean"][refpos], arrays["sd"][refpos])
        load = _unpack(arrays["set_keys"], arrays["loadings"], arrays["set_offsets"])
        sing = dict(zip(map(str, arrays["set_keys"]), arrays["singular"]))
        return np.vstack([load[k] @ z[idx, :] / sing[k] for k, idx in zip(keys, sets)])
    if method == "score_genes":
        ctrl = _unpack(arrays["set_keys"], arrays["control_genes"], arrays["control_offsets"])
        position = pd.Index(labels)
        out = np.empty((len(sets), x.shape[1]))
        for s, (k, idx) in enumerate(zip(keys, sets)):
            c = position.get_indexer(ctrl[k])
            if (c < 0).any():
                log.warning("%s: %d of the reference's control genes are not in the cohort; left out of the control "
                            "mean", k.replace("\t", " "), int((c < 0).sum()))  # fmt: skip
            out[s] = x[idx].mean(axis=0) - x[c[c >= 0]].mean(axis=0)
        return out
    ref_values = arrays["values"][refpos]
    names = pd.Index(arrays["samples"]).get_indexer(np.asarray(columns.astype(str)))
    self_idx = np.full(x.shape[1], -1, dtype=np.int64)
    js = np.flatnonzero(names >= 0)
    same = (x[:, js] == ref_values[:, names[js]]).all(axis=0)
    self_idx[js[same]] = names[js[same]]
    dens = reference_density(x, ref_values, arrays["sd"][refpos], reference.info["kcdf"], self_idx, threads=threads)
    gp = {k: v for k, v in p.items() if k != "kcdf"}
    return SCORING_METHODS["gsva"].func(x, sets, **gp, threads=threads, density=dens)


def reference_density(
    y: np.ndarray, r: np.ndarray, sd: np.ndarray, kcdf: str, self_idx: np.ndarray, *, threads: int | None = 1
) -> np.ndarray:
    """GSVA's per-gene CDF estimate (as logit, genes x test samples) of the test values ``y`` on the reference
    values ``r`` (genes x reference samples, ``sd`` their SDs): GSVA 1.46's ``row_d`` with density samples apart
    from the test samples. ``self_idx``: per test sample, the reference sample it is (-1: none; the Gaussian kernel
    then sums as :func:`seedsig.scoring.methods.gsva_density` does, bit for bit)."""
    g, m = y.shape
    n = r.shape[1]
    if kcdf == "gaussian":
        from seedsig.scoring.gsva_kernel import gaussian_density_ref  # numba: compiled on first use

        table = ndtr(np.arange(GSVA_CDF_RESOLUTION + 1) * GSVA_CDF_MAX / GSVA_CDF_RESOLUTION)
        _numba_threads(threads)
        with np.errstate(divide="ignore"):
            y, r = np.ascontiguousarray(y, dtype=np.float64), np.ascontiguousarray(r, dtype=np.float64)
            return gaussian_density_ref(y, r, sd, self_idx, table, GSVA_CDF_RESOLUTION, GSVA_CDF_MAX,
                                        GSVA_INDEX_MARGIN)  # fmt: skip
    out = np.empty((g, m))

    def chunk(a: int, b: int) -> None:  # chunks of genes on the threads
        if kcdf == "poisson":
            f = pdtr(y[a:b, :, None], r[a:b, None, :] + 0.5).mean(axis=2)
        else:  # none: the reference's ECDF, as GSVA's ecdf(x[sample.idxs])(x)
            f = (r[a:b, None, :] <= y[a:b, :, None]).sum(axis=2) / n
        with np.errstate(divide="ignore"):
            out[a:b] = np.log(f / (1.0 - f))

    map_chunks(chunk, chunk_bounds(g, int(4e6 // max(m * n, 1))), threads)
    return out


# ------------------------------------------------------------------------------------------ save / load
def save_reference(reference: Reference, path: str | Path) -> Path:
    """Write ``reference`` as a ``.npz`` (arrays only, no pickles), byte-reproducibly (fixed member order and dates)."""
    meta = {
        "format_version": FORMAT_VERSION,
        "method": reference.method,
        "parameters": reference.params,
        **reference.info,
    }
    arrays = {
        "format": np.array(FORMAT),
        "meta": np.array(json.dumps(meta, sort_keys=True)),
        "genes": np.asarray(reference.genes, dtype=str),
        **reference.arrays,
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for key in sorted(arrays):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asarray(arrays[key]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buf.getvalue())
    return path


def load_reference(path: str | Path) -> Reference:
    """The reference saved at ``path``; a clear error naming the file when it is not one."""
    path = Path(path)
    if not path.is_file():
        raise SeedsigError(f"reference file '{path}' does not exist: {HOW_TO_MAKE}.")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise SeedsigError(
            f"reference file '{path}' is not a seedsig reference (not a readable .npz: {exc}): {HOW_TO_MAKE}."
        ) from None
    if "format" not in arrays or str(arrays["format"]) != FORMAT or "meta" not in arrays:
        raise SeedsigError(f"'{path}' is a .npz file but not a seedsig reference: {HOW_TO_MAKE}.")
    meta = json.loads(str(arrays.pop("meta")))
    if meta.get("format_version") != FORMAT_VERSION:
        raise SeedsigError(
            f"reference file '{path}' has format version {meta.get('format_version')}; this seedsig reads version "
            f"{FORMAT_VERSION}: build the reference again."
        )
    method = meta.pop("method", "")
    missing = [k for k in ("genes", *METHOD_ARRAYS.get(method, ())) if k not in arrays]
    if method not in METHOD_ARRAYS or missing:
        raise SeedsigError(
            f"reference file '{path}' is incomplete (method '{method}', missing {', '.join(missing) or '-'}): "
            f"{HOW_TO_MAKE}."
        )
    params = meta.pop("parameters", {})
    meta.pop("format_version")
    arrays.pop("format")
    genes = arrays.pop("genes")
    return Reference(method, params, genes, arrays, meta)


def check_method(reference: Reference, method: str, path: str | Path) -> None:
    """A clear error when the reference at ``path`` is for another scoring method."""
    if reference.method != method:
        raise SeedsigError(
            f"reference file '{path}' is a {reference.method} reference; it cannot anchor {method} scores: give the "
            f"{method} reference (results/reference/{method}.npz) or build one."
        )


def anchored_provenance(record: dict, reference: Reference, path: str | Path | None = None) -> dict:
    """A score's provenance record, saying it is anchored to ``reference`` (the score scale and the reference)."""
    return {
        **record,
        "single_sample": False,
        "score_scale": (
            f"reference-anchored: the {reference.method} statistics estimated on the reference cohort "
            f"'{reference.info.get('cohort', '')}' are applied to every cohort (a sample's score depends on it and the "
            "reference only: comparable across cohorts scored against the same reference)"
        ),
        "reference": {**reference.record(), "file": "" if path is None else str(path)},
    }


def as_reference(reference: Reference | str | Path, method: str) -> Reference:
    """A :class:`Reference` given as one or as the path of a saved one, checked to be a ``method`` reference."""
    ref = reference if isinstance(reference, Reference) else load_reference(reference)
    check_method(ref, method, reference if not isinstance(reference, Reference) else "(given)")
    return ref


# ------------------------------------------------------------------------------------------ pipeline
def reference_setting(value: str | None, cohorts: Sequence[str], where: str = "the config") -> tuple[str, str]:
    """``scoring.reference`` read: ("", "") none, ("cohort", NAME) or ("file", PATH); a clear error otherwise."""
    value = (value or "").strip()
    if not value:
        return "", ""
    if value.startswith("file:"):
        path = value[len("file:") :]
        if not Path(path).exists():
            raise SeedsigError(
                f"{where}: scoring.reference is '{value}' but '{path}' does not exist: give a saved reference file "
                f"(.npz) or a folder of {{method}}.npz files ({HOW_TO_MAKE})."
            )
        return "file", path
    if value not in cohorts:
        raise SeedsigError(
            f"{where}: scoring.reference is '{value}', which is not a cohort of the sheet ({', '.join(cohorts)}): "
            "name one of them, or give file:PATH of a saved reference."
        )
    return "cohort", value


def reference_file_of(path: str | Path, method: str) -> str:
    """The reference file of ``method`` at ``file:PATH``: PATH itself, or PATH/{method}.npz for a folder."""
    path = Path(path)
    return str(path / f"{method}.npz") if path.is_dir() else str(path)


def reference_cohort(
    h5ad: str | Path,
    signature_files: Sequence[str],
    method: str,
    out_npz: str | Path,
    *,
    cohort: str,
    min_genes: int = SCORING_DEFAULTS["min_genes"],
    min_fraction: float = SCORING_DEFAULTS["min_fraction"],
    params: dict | None = None,
    threads: int | None = 1,
) -> None:
    """results/reference/{method}.npz of the reference cohort (+ its provenance sidecar)."""
    expr, adata = expression_frame(h5ad, layers=False)
    sigs = load_signatures(signature_files)
    ref = build_reference(expr, sigs, method, params=params, min_genes=min_genes, min_fraction=min_fraction,
                          cohort=cohort, threads=threads)  # fmt: skip
    save_reference(ref, out_npz)
    record = {**ref.record(), "min_genes": min_genes, "min_fraction": min_fraction}
    write_sidecar(out_npz, provenance(record, inputs=[str(h5ad), *map(str, signature_files)],
                                      normalization=normalization_record(adata)))  # fmt: skip
    log.info("reference %s of cohort %s: %d samples x %d genes", method, cohort, ref.info["n_samples"],
             ref.info["n_genes"])  # fmt: skip
