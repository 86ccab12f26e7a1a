"""Loading the declared inputs of the report (cohort tables, sidecars, expression) and checksums."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from seedsig.core.cohort import read_expression
from seedsig.core.layout import COHORT_FILES, sidecar
from seedsig.report.sentences import _annotate_corr, _annotate_surv, _focal_status
from seedsig.report.text import (
    ASSOCIATE_MIN_SAMPLES,
    SURVIVAL_MIN_SAMPLES,
    _finite,
    _params,
    _true,
)
from seedsig.scoring.signatures import Signature


def _read(path: Path) -> pd.DataFrame | None:
    return pd.read_csv(path, sep="\t") if path.is_file() else None


def _json(path: Path) -> dict:
    try:
        return json.loads(path.read_text()) if path.is_file() else {}
    except (OSError, ValueError):
        return {}


def _img(w) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(w.svg.encode("utf-8")).decode("ascii")


def _fig(w, caption: str = "") -> dict:
    return {
        "src": _img(w),
        "title": w.title,
        "caption": caption or w.caption,
        "file": f"figures/{w.stem}.svg",
        "pdf": f"figures/{w.stem}.pdf",
    }


# ------------------------------------------------------------------------------------------- checksums
def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """sha256 of a file, read in chunks (large inputs are never held in memory)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def input_checksums(files: Sequence[tuple[str, str]]) -> list[dict]:
    """(what, path) -> rows with size and sha256; geo: accessions and missing files say so."""
    rows, seen = [], set()
    for what, path in files:
        if not path or (what, path) in seen:
            continue
        seen.add((what, path))
        p = Path(str(path))
        if str(path).startswith("geo:"):
            rows.append(
                {
                    "what": what,
                    "path": path,
                    "bytes": "",
                    "sha256": "",
                    "note": "downloaded from GEO into the cache (geo.cache); the cache records a checksum per file",
                }
            )
        elif p.is_file():
            rows.append({"what": what, "path": path, "bytes": p.stat().st_size, "sha256": sha256_file(p), "note": ""})
        else:
            rows.append(
                {"what": what, "path": path, "bytes": "", "sha256": "", "note": "not found when the report was written"}
            )
    return rows


# ------------------------------------------------------------------------------------------- loading
def _load_cohort(name: str, d: Path, methods: Sequence[str] | None = None) -> dict:
    """One cohort's declared outputs (file names from :mod:`seedsig.core.layout`). ``methods``: the scoring methods
    of the run, whose score tables are read; None (library use) reads every ``scores/*.tsv`` in ``d``. A pipeline
    run always passes them: a table left by an earlier run with another method never enters the report."""
    c: dict[str, Any] = {"name": name, "dir": d}

    def at(key: str, method: str = "{method}") -> Path:
        return d / COHORT_FILES[key].replace("{method}", method)

    for key, name_ in (
        ("coverage", "coverage"),
        ("qc", "signature_qc"),
        ("corr", "correlations"),
        ("surv", "survival"),
        ("mapping", "gene_mapping"),
        ("km", "km"),
        ("lr", "logrank"),
        ("aj", "cumulative_incidence"),
        ("prerank", "prerank"),
    ):
        c[key] = _read(at(name_))
    if methods is None:
        methods = [p.stem for p in sorted(at("scores", "*").parent.glob("*.tsv"))]
    scores = {}
    for m in methods:
        p = at("scores", m)
        if p.is_file():
            t = pd.read_csv(p, sep="\t", index_col=0)
            t.index = t.index.astype(str)
            scores[m] = t
    c["scores"] = scores
    c["surv_side"], c["corr_side"], c["pre_side"] = (
        _json(Path(sidecar(at("survival")))),
        _json(Path(sidecar(at("correlations")))),
        _json(Path(sidecar(at("prerank")))),
    )
    c["cov_side"] = _json(Path(sidecar(at("coverage"))))
    c["score_side"] = {m: _json(Path(sidecar(at("scores", m)))) for m in scores}
    c["h5ad"] = at("expression")
    p = at("null_correlations")
    c["null"] = pd.read_csv(p, sep="\t", keep_default_na=False, na_values=["NA"]) if p.is_file() else None
    return c


def saved_null(null: pd.DataFrame, method: str, focal: str, target: str, statistic: str) -> np.ndarray:
    """The B null correlations of one row of correlations.tsv, as the associate step saved them (draw order)."""
    sel = null[
        (null["method"].astype(str) == method)
        & (null["signature_a"].astype(str) == focal)
        & (null["signature_b"].astype(str) == target)
        & (null["statistic"].astype(str) == statistic)
    ]
    return sel.sort_values("draw")["r"].to_numpy(dtype=float)


def _adata(c: dict):
    if "adata" not in c:
        c["adata"] = None
        if c["h5ad"].is_file():
            c["adata"] = read_expression(c["h5ad"], layers=False)  # the raw counts are not shown
    return c["adata"]


def _expr(c: dict) -> pd.DataFrame | None:
    """genes x samples normalized expression (as the associate stage reads it)."""
    a = _adata(c)
    if a is None:
        return None
    return pd.DataFrame(np.asarray(a.X).T, index=a.var_names.astype(str), columns=a.obs_names.astype(str))


# ------------------------------------------------------------------------------------------- cohort state
def _int_param(*candidates, default: int) -> int:
    for x in candidates:
        if _finite(x):
            return int(float(x))
    return default


def _prepare(c: dict, config: dict, sigmeta: dict[str, Signature], focal: Sequence[str], primary: str) -> None:
    """What the sections need to tell the truth about one cohort: the coverage rule, the sample floors, B of
    the random nulls, whether each focal signature is scored (and the sentence saying why not), and per row of
    correlations.tsv / survival.tsv whether it was tested (``_thin``: below the sample floor) and why not
    (``_why``)."""
    sc_cfg, ac_cfg, sv_cfg = (config.get(k) or {} for k in ("scoring", "associate", "survival"))
    cov_p, corr_p, surv_p = _params(c["cov_side"]), _params(c["corr_side"]), _params(c["surv_side"])
    c["min_genes"] = _int_param(cov_p.get("min_genes"), sc_cfg.get("min_genes"), default=2)
    mf = cov_p.get("min_fraction", sc_cfg.get("min_fraction", 0.5))
    c["min_fraction"] = float(mf) if _finite(mf) else 0.5
    c["assoc_min"] = _int_param(corr_p.get("min_samples"), ac_cfg.get("min_samples"), default=ASSOCIATE_MIN_SAMPLES)
    c["surv_min"] = _int_param(surv_p.get("min_samples"), sv_cfg.get("min_samples"), default=SURVIVAL_MIN_SAMPLES)
    c["b_corr"] = _int_param(corr_p.get("n_random"), ac_cfg.get("n_random"), default=0)
    c["b_surv"] = _int_param(surv_p.get("n_random"), sv_cfg.get("n_random"), default=0)
    cov = c["coverage"]
    c["scored_map"] = (
        {str(r["signature"]): _true(r.get("scored")) for r in cov.to_dict("records")}
        if cov is not None and "signature" in cov.columns
        else {}
    )
    c["status"] = {f: _focal_status(c, f, primary, sigmeta) for f in focal}
    for f, st in c["status"].items():
        c["scored_map"][f] = st["scored"]
    c["corr"] = _annotate_corr(c)
    c["surv"] = _annotate_surv(c)
