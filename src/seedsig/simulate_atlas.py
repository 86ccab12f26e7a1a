"""A simulated single-cell atlas of any size, written to an .h5ad a block of cells at a time (``seedsig simulate
--single-cell FILE --n-cells N``): a 1,000,000-cell atlas never exists in memory.

Built on the bulk simulator's per-sample programme, as the small single-cell example
(:func:`seedsig.simulate.simulate_single_cell`): :func:`seedsig.simulate.simulate_cohort` (same seed, samples,
genes) gives each sample's expression profile (driven by its latent self-seeding programme) and clinical data; the
cells are split evenly over the samples (in sample order); tumour cells (a per-sample fraction, uniform 0.5-0.85)
express their sample's profile, the other cells one shared profile. Each cell gets a number of detected genes
(log-normal around ``detected_genes``, SD 0.25 on the log scale, kept between 0.6 and 2 times it) and the number
of UMIs that detects that many genes of its profile on average; its UMIs are drawn from the profile (multinomial,
Walker's alias method). Cells are drawn :data:`ATLAS_BLOCK` at a time, each block from its own stream
``np.random.default_rng([seed, 3, block])`` (the per-cell numbers from ``[seed, 2]``): the atlas depends on the seed
and the sizes alone, not on the threads; the global RNG is not touched.

The file is an AnnData .h5ad: X the raw counts (CSR, float32; appended block by block with h5py), obs ``sample``,
``cell_type``, ``n_counts`` and the sample's clinical columns, var the gene symbols, ``uns['simulation']``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seedsig.core.errors import SeedsigError
from seedsig.core.tables import atomic_path
from seedsig.ingest.cells import ordered_map
from seedsig.simulate import DEFAULT_SEED, SC_N_GENES, SC_N_SAMPLES, add_clinical, bulk_profiles, other_profile

ATLAS_BLOCK = 500  # cells per random stream and per write
ATLAS_DETECTED = 1000  # default median detected genes per cell
DETECTED_SD = 0.25  # log-scale SD of the detected genes per cell
DETECTED_RANGE = (0.6, 2.0)  # kept between these multiples of the median


def _check_sizes(n_cells: int, n_samples: int, n_genes: int, detected_genes: int) -> None:
    if n_samples < 1:
        raise SeedsigError(f"--n-samples ({n_samples}) must be at least 1.")
    if n_cells < n_samples:
        raise SeedsigError(f"--n-cells ({n_cells}) must be at least --n-samples ({n_samples}): a cell per sample.")
    if not 1 <= detected_genes <= n_genes // 4:
        raise SeedsigError(
            f"--detected-genes ({detected_genes}) must be between 1 and a quarter of --n-genes ({n_genes // 4}): the "
            "cells that detect the most genes detect twice as many, within the genes each profile expresses."
        )


def _alias_tables(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walker's alias tables of a distribution over genes (Vose's construction): draw j uniform, keep it with
    probability prob[j], else take alias[j]."""
    g = p.size
    prob = p * g
    alias = np.arange(g)
    small = [i for i in range(g) if prob[i] < 1.0]
    large = [i for i in range(g) if prob[i] >= 1.0]
    while small and large:
        s, big = small.pop(), large.pop()
        alias[s] = big
        prob[big] -= 1.0 - prob[s]
        (small if prob[big] < 1.0 else large).append(big)
    for i in small + large:
        prob[i] = 1.0
    return prob, alias


def _umis_for_detected(profiles: np.ndarray, target: np.ndarray, which: np.ndarray) -> np.ndarray:
    """UMIs per cell such that its profile's expected detected genes, sum_g 1 - exp(-U p_g), is its target."""
    grid = np.logspace(0, 7, 300)
    umis = np.empty(target.size, dtype=np.int64)
    for k, p in enumerate(profiles):
        cells = np.flatnonzero(which == k)
        if cells.size:
            expected = np.array([(-np.expm1(-u * p)).sum() for u in grid])
            umis[cells] = np.rint(np.interp(target[cells], expected, grid)).astype(np.int64)
    return np.maximum(umis, 1)


def _draw_block(seed: int, block: int, umis: np.ndarray, which: np.ndarray, tables) -> tuple[np.ndarray, ...]:
    """One block of cells: CSR (data float32, indices int32, counts per cell) of UMIs drawn from their profiles."""
    prob, alias = tables
    n, g = umis.size, prob.shape[1]
    rng = np.random.default_rng([seed, 3, block])
    local = np.repeat(np.arange(n), umis)
    k = which[local]
    j = rng.integers(0, g, size=local.size)
    keep = rng.random(local.size) < prob[k, j]
    gene = np.where(keep, j, alias[k, j])
    counts = np.bincount(local * g + gene, minlength=n * g)
    nz = np.flatnonzero(counts)
    rows = nz // g
    return counts[nz].astype(np.float32), (nz - rows * g).astype(np.int32), np.bincount(rows, minlength=n)


def _write_matrix(f, n_cells: int, n_genes: int, blocks) -> None:
    """X as a CSR group appended a block at a time."""
    x = f.create_group("X")
    x.attrs.update({"encoding-type": "csr_matrix", "encoding-version": "0.1.0", "shape": np.array([n_cells, n_genes])})
    chunk = (1 << 18,)
    data = x.create_dataset("data", shape=(0,), maxshape=(None,), dtype=np.float32, chunks=chunk)
    indices = x.create_dataset("indices", shape=(0,), maxshape=(None,), dtype=np.int32, chunks=chunk)
    indptr = x.create_dataset("indptr", shape=(n_cells + 1,), dtype=np.int64)
    indptr[0] = 0
    row, nnz = 0, 0
    for d, i, per_cell in blocks:
        data.resize((nnz + d.size,))
        indices.resize((nnz + d.size,))
        data[nnz:], indices[nnz:] = d, i
        indptr[row + 1 : row + 1 + per_cell.size] = nnz + np.cumsum(per_cell)
        row, nnz = row + per_cell.size, nnz + d.size


def write_single_cell_atlas(
    path: str | os.PathLike,
    *,
    n_cells: int,
    n_samples: int = SC_N_SAMPLES,
    n_genes: int = SC_N_GENES,
    detected_genes: int = ATLAS_DETECTED,
    seed: int = DEFAULT_SEED,
    signature_dir: str | Path | None = None,
    threads: int = 1,
) -> dict[str, Any]:
    """Write the atlas (see the module) to ``path`` atomically; return its sizes (cells, genes, samples, stored
    counts, detected genes per cell: min / median / max)."""
    import anndata as ad
    import h5py

    _check_sizes(n_cells, n_samples, n_genes, detected_genes)
    bulk = bulk_profiles(seed, n_samples, n_genes, signature_dir)
    g, n = bulk.prop.shape
    rng = np.random.default_rng([seed, 2])
    profiles = np.vstack([bulk.prop.T, other_profile(rng, bulk.prop)])  # samples' profiles, then the other cells'
    tumour_fraction = rng.uniform(0.5, 0.85, size=n)
    per = np.full(n, n_cells // n)
    per[: n_cells % n] += 1
    sample_idx = np.repeat(np.arange(n), per)
    tumour = rng.random(n_cells) < tumour_fraction[sample_idx]
    lo, hi = int(np.ceil(DETECTED_RANGE[0] * detected_genes)), int(DETECTED_RANGE[1] * detected_genes)
    target = np.clip(np.rint(detected_genes * np.exp(rng.normal(0.0, DETECTED_SD, n_cells))), lo, hi)
    which = np.where(tumour, sample_idx, n)
    umis = _umis_for_detected(profiles, target, which)
    tables = tuple(np.vstack(t) for t in zip(*(_alias_tables(p.copy()) for p in profiles)))
    detected = np.empty(n_cells, dtype=np.int64)

    def block(a: int):
        b = min(a + ATLAS_BLOCK, n_cells)
        out = _draw_block(seed, a // ATLAS_BLOCK, umis[a:b], which[a:b], tables)
        detected[a:b] = out[2]
        return out

    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        f.attrs.update({"encoding-type": "anndata", "encoding-version": "0.1.0"})
        _write_matrix(f, n_cells, g, ordered_map(block, range(0, n_cells, ATLAS_BLOCK), threads))
        within = np.arange(n_cells) - np.repeat(np.cumsum(per) - per, per)
        width = len(str(int(per.max())))
        samples = np.array(bulk.samples, dtype=object)
        obs = pd.DataFrame(
            {"sample": pd.Categorical(samples[sample_idx], categories=bulk.samples)},
            index=pd.Index([f"{samples[s]}_c{i:0{width}d}" for s, i in zip(sample_idx, within)], name="cell"),
        )
        obs["cell_type"] = pd.Categorical(np.where(tumour, "tumour", "other"), categories=["tumour", "other"])
        obs["n_counts"] = umis.astype(np.float32)
        add_clinical(obs, bulk.clinical, bulk.samples, sample_idx)
        ad.io.write_elem(f, "obs", obs)
        ad.io.write_elem(f, "var", pd.DataFrame(index=pd.Index(bulk.genes, name="gene")))
        for name in ("layers", "obsm", "obsp", "varm", "varp"):
            ad.io.write_elem(f, name, {})
        ad.io.write_elem(f, "uns", {"simulation": _uns(seed, bulk, samples, tumour_fraction, detected_genes)})
    return {
        "n_cells": int(n_cells),
        "n_genes": int(g),
        "n_samples": int(n),
        "nnz": int(detected.sum()),
        "detected_genes": {
            "min": int(detected.min()),
            "median": float(np.median(detected)),
            "max": int(detected.max()),
        },
    }


def _uns(seed: int, bulk, samples, tumour_fraction, detected_genes: int) -> dict:
    return {
        "seed": int(seed),
        "model": "cells of each bulk-simulated sample: tumour cells express the sample's profile (its self-seeding "
        "programme), other cells one shared profile; UMIs drawn from the profile (multinomial), as many as detect "
        "the cell's number of genes on average",
        "latent_ss": {k: float(v) for k, v in bulk.truth["latent_ss"].items()},
        "tumour_fraction": {s: round(float(f), 6) for s, f in zip(samples, tumour_fraction)},
        "median_detected_genes": int(detected_genes),
    }
