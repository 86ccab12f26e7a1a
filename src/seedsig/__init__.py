"""seedsig: self-seeding and organ-specific metastasis signatures across tumour cohorts.

``seedsig.score(adata_or_frame, signatures, method=...)`` is the notebook API (:mod:`seedsig.api`, with
``seedsig.api.associate`` and ``seedsig.api.survival``); it is imported on first use, so ``import seedsig`` stays
light (no numpy, pandas, scanpy or matplotlib).
"""

from __future__ import annotations

__version__ = "0.1.0"

# seedsig.associate and seedsig.survival are still the stage modules (issue 15 item 1 renames them to
# association/ and outcome/); until then their API functions are seedsig.api.associate / seedsig.api.survival.
_API = ("score",)


def __getattr__(name: str):  # PEP 562: the API module is loaded on first use
    if name in _API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'seedsig' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])
