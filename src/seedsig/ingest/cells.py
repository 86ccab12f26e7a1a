"""Cells of a single-cell AnnData, read in chunks of cells: from an ``.h5ad`` file without loading its matrix, or
from an AnnData in memory, through one interface (:class:`Cells`).

From a file, ``obs``, ``var`` and the layer names are read whole (a few columns per cell); the matrix (X or a layer)
stays on disk and each pass reads it a chunk of rows at a time with h5py: a CSR matrix row range by row range
(``indptr`` once per pass, then the slice of ``data`` and ``indices``), a dense matrix as a row slice. A CSC matrix
(rare for cells x genes) cannot be read by rows and is loaded whole (``info['note']`` says so). Every chunk comes
back as a scipy CSR matrix of the stored dtype; nothing ever holds the cells x genes matrix dense.

:func:`ordered_map` runs the work of each chunk in a thread pool and yields the results in chunk order, with at
most a few chunks under way (memory bounded by the chunk size, results independent of the thread count)."""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np
import pandas as pd

from seedsig.core.errors import SeedsigError
from seedsig.core.tables import corrupt_file_message, require_file

WHAT = "single-cell file"
READ_ERRORS = (OSError, RuntimeError)  # h5py: truncated file, bad signature, unreadable chunk
LAYOUT_ERRORS = (KeyError, ValueError, TypeError)


def _corrupt(p: Path, what: str, exc: BaseException) -> SeedsigError:
    return SeedsigError(corrupt_file_message(p, what, exc, "cannot be read as an AnnData .h5ad file (HDF5)"))


def _layout(p: Path, what: str, exc: BaseException) -> SeedsigError:
    layout = "an HDF5 file without AnnData's layout?"
    return SeedsigError(f"{what} '{p}' cannot be read as an AnnData .h5ad file ({layout}): {exc}")


@dataclass
class Cells:
    """The cells (obs) and genes (var) of a single-cell AnnData and chunked access to its matrices.

    ``obs``: the obs table (index = cell ids, str); ``var_names``: gene ids (str); ``layers``: layer names; ``has_x``:
    whether X holds a matrix. :meth:`chunks` yields ``(start, stop, rows)`` over the cells in file order, ``rows``
    a scipy CSR matrix (stored dtype) of X (``key=None``) or ``layers[key]``."""

    obs: pd.DataFrame
    var_names: pd.Index
    layers: list[str]
    has_x: bool
    where: str
    path: Path | None = None
    adata: Any = None  # in memory: the AnnData
    info: dict = field(default_factory=dict)

    @property
    def n_obs(self) -> int:
        return int(self.obs.shape[0])

    @property
    def n_vars(self) -> int:
        return int(len(self.var_names))

    @property
    def obs_names(self) -> pd.Index:
        return self.obs.index

    def chunks(self, key: str | None, size: int, columns: np.ndarray | None = None) -> Iterator[tuple[int, int, Any]]:
        """``(start, stop, CSR rows)`` of X or ``layers[key]``, ``size`` cells at a time, in file order; only the
        ``columns`` (in that order) if given."""
        import scipy.sparse as sp

        if self.adata is not None:
            x = self.adata.X if key is None else self.adata.layers[key]
            rows = ((a, min(a + size, self.n_obs), sp.csr_matrix(x[a : a + size])) for a in range(0, self.n_obs, size))
        else:
            rows = self._file_chunks(key, size)
        for a, b, m in rows:
            yield a, b, (m if columns is None else m[:, columns])

    def _file_chunks(self, key: str | None, size: int) -> Iterator[tuple[int, int, Any]]:
        import h5py
        import scipy.sparse as sp

        assert self.path is not None
        name = "X" if key is None else f"layers/{key}"
        try:
            with h5py.File(self.path, "r") as f:
                elem = f[name]
                enc = elem.attrs.get("encoding-type", "")
                if isinstance(elem, h5py.Dataset):
                    for a in range(0, self.n_obs, size):
                        b = min(a + size, self.n_obs)
                        yield a, b, sp.csr_matrix(elem[a:b])
                    return
                if enc != "csr_matrix":
                    from anndata.io import read_elem

                    whole = sp.csr_matrix(read_elem(elem))  # CSC (or a legacy layout): only whole
                    self.info["note"] = f"{name} is stored as {enc or 'a legacy sparse layout'}: read whole"
                    for a in range(0, self.n_obs, size):
                        b = min(a + size, self.n_obs)
                        yield a, b, whole[a:b]
                    return
                indptr = elem["indptr"][:]
                data, indices = elem["data"], elem["indices"]
                for a in range(0, self.n_obs, size):
                    b = min(a + size, self.n_obs)
                    lo, hi = int(indptr[a]), int(indptr[b])
                    ptr = (indptr[a : b + 1] - lo).astype(np.int64)
                    yield a, b, sp.csr_matrix((data[lo:hi], indices[lo:hi], ptr), shape=(b - a, self.n_vars))
        except READ_ERRORS as exc:
            raise _corrupt(self.path, WHAT, exc) from None


def cells_of(adata, where: str = "single-cell AnnData") -> Cells:
    """The :class:`Cells` of an AnnData in memory (or backed: its matrices are sliced a chunk at a time)."""
    return Cells(
        obs=adata.obs.set_axis(pd.Index(adata.obs_names.astype(str), name=adata.obs.index.name), axis=0),
        var_names=pd.Index(adata.var_names.astype(str)),
        layers=[str(k) for k in adata.layers.keys()],
        has_x=adata.X is not None,
        where=where,
        adata=adata,
    )


def as_cells(cells_or_adata, where: str = "single-cell AnnData") -> Cells:
    return cells_or_adata if isinstance(cells_or_adata, Cells) else cells_of(cells_or_adata, where)


def open_cells(path: str | os.PathLike, what: str = WHAT, where: str | None = None) -> Cells:
    """The :class:`Cells` of an .h5ad file: obs, var and the layer names read now, the matrices a chunk at a time
    later. A file that is not an AnnData .h5ad is one clear error (as :func:`seedsig.ingest.formats.read_h5ad`)."""
    import h5py
    from anndata.io import read_elem

    p = require_file(path, what)
    try:
        with h5py.File(p, "r") as f:
            obs = read_elem(f["obs"])
            var = read_elem(f["var"])
            layers = [str(k) for k in f["layers"].keys()] if "layers" in f else []
            has_x = "X" in f
    except READ_ERRORS as exc:
        raise _corrupt(p, what, exc) from None
    except LAYOUT_ERRORS as exc:
        raise _layout(p, what, exc) from None
    obs.index = pd.Index(obs.index.astype(str), name=obs.index.name)
    return Cells(
        obs=obs,
        var_names=pd.Index(var.index.astype(str)),
        layers=layers,
        has_x=has_x,
        where=where or f"{what} '{p}'",
        path=p,
    )


def ordered_map(fn: Callable[[Any], Any], items: Iterable[Any], threads: int = 1) -> Iterator[Any]:
    """``fn(item)`` for each item, in order; with ``threads`` > 1 in a thread pool, at most ``threads + 1`` items
    under way (the items are drawn from ``items`` only as results are taken)."""
    if threads <= 1:
        for it in items:
            yield fn(it)
        return
    with ThreadPoolExecutor(max_workers=threads) as pool:
        pending: deque = deque()
        for it in items:
            pending.append(pool.submit(fn, it))
            if len(pending) > threads:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
