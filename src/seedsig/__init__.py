"""seedsig: self-seeding and organ-specific metastasis signatures across tumour cohorts.

The notebook API (:mod:`seedsig.api`): ``seedsig.score(adata_or_frame, signatures, method=...)``,
``seedsig.contributions(...)`` (each gene's part in each score), ``seedsig.associate(...)`` and
``seedsig.survival(...)``; it is imported on first use, so ``import seedsig`` stays light (no numpy, pandas, scanpy
or matplotlib). The stages are the packages ``core``, ``ingest``, ``normalize``,
``scoring``, ``association``, ``outcome``, ``meta`` and ``report``.
"""

from __future__ import annotations

__version__ = "0.1.0"

_API = ("score", "contributions", "associate", "survival", "build_reference")


def __getattr__(name: str):  # PEP 562: the API module is loaded on first use
    if name in _API:
        from seedsig import api

        return getattr(api, name)
    raise AttributeError(f"module 'seedsig' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])
