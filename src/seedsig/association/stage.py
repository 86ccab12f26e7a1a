"""Associate stage: correlations of the self-seeding score with the organ signatures, per cohort."""

from __future__ import annotations

import gc
import logging
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from seedsig.association.correlation import correlation_table, in_sample_order
from seedsig.association.prerank import PRERANK_COLUMNS, prerank_table
from seedsig.core.cohort import (
    covariate_frame,
    expression_frame,
    method_params,
    read_scores,
)
from seedsig.core.progress import Timer, progress
from seedsig.core.provenance import provenance, write_sidecar
from seedsig.core.settings import ASSOCIATE_DEFAULTS, PRERANK_DEFAULTS, SCORING_DEFAULTS
from seedsig.core.tables import write_table
from seedsig.scoring.signatures import load_signatures

log = logging.getLogger("seedsig")


NULL_COLUMNS = ("method", "signature_a", "signature_b", "statistic", "draw", "r")
PARAM_KEYS = ("statistics", "n_bootstrap", "n_random", "seed", "proliferation", "covariates", "min_samples")


def params_of(settings: dict) -> dict:
    """The association settings recorded in the sidecars."""
    return {k: settings[k] for k in PARAM_KEYS}


def null_frame(nulls: dict) -> pd.DataFrame:
    """The null correlations in long form (NULL_COLUMNS), rows in the order of correlations.tsv, draws 1..B."""
    parts = [
        pd.DataFrame(
            {
                "method": m,
                "signature_a": a,
                "signature_b": b,
                "statistic": st,
                "draw": np.arange(1, len(rn) + 1),
                "r": rn,
            }
        )
        for (m, a, b, st), rn in nulls.items()
    ]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(NULL_COLUMNS))


def _correlations(
    expr: pd.DataFrame,
    scores: dict[str, pd.DataFrame],
    sigs: list,
    focal: Sequence[str],
    targets: Sequence[str],
    cov: pd.DataFrame | None,
    st: dict,
    scoring: dict,
    timer: Timer,
    threads: int = 1,
) -> tuple[pd.DataFrame, dict, dict]:
    """The correlation table, its info and the null correlations behind each p_random_null."""
    nulls: dict = {}
    table, info = correlation_table(
        expr,
        scores,
        sigs,
        list(focal),
        list(targets),
        statistics=tuple(st["statistics"]),
        n_bootstrap=int(st["n_bootstrap"]),
        n_random=int(st["n_random"]),
        seed=int(st["seed"]),
        covariates=cov,
        proliferation=bool(st["proliferation"]),
        min_genes=int(scoring.get("min_genes", SCORING_DEFAULTS["min_genes"])),
        min_fraction=float(scoring.get("min_fraction", SCORING_DEFAULTS["min_fraction"])),
        method_params=method_params(scoring, list(scores)),
        min_samples=int(st["min_samples"]),
        timer=timer,
        null_out=nulls,
        threads=threads,
    )
    return table, info, nulls


def _write_correlations(
    table: pd.DataFrame,
    info: dict,
    nulls: dict,
    out_correlations: str | Path,
    out_null: str | Path | None,
    record: dict,
    cov_notes: list[str],
) -> None:
    """correlations.tsv and, when asked for, null_correlations.tsv.gz, with their sidecars. ``record``: the
    parameters, inputs and cohort of both sidecars."""
    write_table(table, out_correlations)
    if out_null is not None:
        # full precision (round trip): the report's histograms are drawn from exactly the values p_random_null counted
        write_table(null_frame(nulls), out_null, float_format="%.17g")
        write_sidecar(
            out_null,
            provenance(
                record["params"],
                inputs=record["inputs"],
                cohort=record["cohort"],
                content="one row per random signature (draw 1..B) of each tested row of correlations.tsv with a"
                " random null: its correlation r with the target; p_random_null counts |r| >= |observed r|",
            ),
        )
    write_sidecar(
        out_correlations,
        provenance(
            record["params"],
            inputs=record["inputs"],
            cohort=record["cohort"],
            info=info,
            covariate_notes=cov_notes,
        ),
    )


def _warn_floor(cohort: str, n_samples: int, floor: int, n_below: int) -> None:
    """A warning in the rule log when the cohort, or some of its rows, are below associate.min_samples."""
    if n_samples < floor:
        log.warning(
            "associate %s: %d sample(s), fewer than associate.min_samples = %d: no correlation tested "
            "(r, p, q NA with a note); bootstrap, random null and prerank skipped",
            cohort,
            n_samples,
            floor,
        )
    elif n_below:
        log.warning(
            "associate %s: %d correlation row(s) with fewer than associate.min_samples = %d samples with both scores: "
            "not tested",
            cohort,
            n_below,
            floor,
        )


def _prerank(
    expr: pd.DataFrame,
    scores: dict[str, pd.DataFrame],
    sigs: list,
    focal: Sequence[str],
    st: dict,
    pre: dict,
    n_samples: int,
    timer: Timer,
    threads: int = 1,
) -> tuple[list[pd.DataFrame], str]:
    """gseapy prerank per method (its table per method), or why it was not run."""
    floor = int(st["min_samples"])
    if n_samples < floor:
        return [], f"{n_samples} sample(s) in the cohort, fewer than associate.min_samples = {floor}: prerank not run"
    if not pre["enabled"]:
        return [], "prerank disabled in the config (associate.prerank.enabled: false)"
    parts = []
    for m, sc in progress(
        list(scores.items()), desc=f"prerank, {int(pre['permutations'])} permutations (method)", unit="method"
    ):
        with timer("prerank"):
            res = prerank_table(
                expr,
                sc,
                list(focal),
                sigs,
                statistic=pre["statistic"],
                permutations=int(pre["permutations"]),
                seed=int(st["seed"]),
                min_size=int(pre["min_size"]),
                exclude_focal_genes=bool(pre["exclude_focal_genes"]),
                min_samples=floor,
                threads=threads,
            )
        res.insert(0, "method", m)
        parts.append(res)
    return parts, ""


def _write_prerank(
    parts: list[pd.DataFrame], out_prerank: str | Path, pre: dict, st: dict, inputs: list[str], cohort: str, note: str
) -> pd.DataFrame:
    """prerank.tsv (the methods' tables one after the other) and its sidecar."""
    pr = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["method", *PRERANK_COLUMNS])
    write_table(pr, out_prerank)
    pre_params = {**pre, "seed": int(st["seed"]), "min_samples": int(st["min_samples"])}
    write_sidecar(
        out_prerank,
        provenance(
            pre_params,
            inputs=inputs,
            cohort=cohort,
            note=note,
            reference="gseapy prerank (Subramanian et al. 2005) on genes ranked by their correlation with the focal "
            "score",
        ),
    )
    return pr


def _log_run(
    cohort: str, table: pd.DataFrame, info: dict, pr: pd.DataFrame, n_parts: int, st: dict, n_methods: int, timer
) -> None:
    """What was computed in how long, in the rule log."""
    thin = int(info["samples"]) < int(st["min_samples"])
    n_focal = len({f for seeds in info.get("random_null_seeds", {}).values() for f in seeds})
    n_spearman = int(((table["statistic"] == "spearman") & table["r"].notna()).sum())
    log.info(
        "associate %s: %d correlation rows; random null B=%d for %d focal x %d methods in %s; bootstrap B=%d for %d "
        "Spearman rows in %s; prerank %s; %s in all",
        cohort,
        len(table),
        int(st["n_random"]),
        n_focal,
        n_methods,
        timer.fmt("random_null"),
        int(st["n_bootstrap"]),
        n_spearman,
        timer.fmt("bootstrap"),
        f"{len(pr)} rows for {n_parts} method(s) in {timer.fmt('prerank')}"
        if n_parts
        else ("skipped (too few samples)" if thin else "disabled"),
        timer.fmt(),
    )


def associate_cohort(
    h5ad: str | Path,
    score_files: dict[str, str | Path],
    signature_files: Sequence[str],
    focal: Sequence[str],
    targets: Sequence[str],
    out_correlations: str | Path,
    out_prerank: str | Path,
    *,
    out_null: str | Path | None = None,
    settings: dict | None = None,
    scoring: dict | None = None,
    threads: int = 1,
) -> None:
    """correlations.tsv: each focal score vs each target, per method and statistic, with CIs, overlap,
    the leave-shared-genes-out correlation, the random-signature null and the partial correlation;
    prerank.tsv: gseapy prerank of the targets on genes ranked by their correlation with each focal score;
    ``out_null`` (null_correlations.tsv.gz): the random-signature null correlations behind each p_random_null.
    ``threads`` (the rule's): threads of the random nulls, the bootstrap and prerank (no output depends on it)."""

    timer = Timer()
    st = {**ASSOCIATE_DEFAULTS, **(settings or {})}
    pre = {**PRERANK_DEFAULTS, **(st.get("prerank") or {})}
    scoring = dict(scoring or {})
    expr, adata = expression_frame(h5ad, layers=False)
    obs, cohort = adata.obs, adata.uns.get("cohort", "")
    expr = in_sample_order(expr)
    del adata  # the matrix is held once, by ``expr`` in sample order (the order of the correlations)
    gc.collect()  # an AnnData's internal references form cycles: its X goes only with the cycle collector
    sigs = load_signatures(signature_files)
    scores = read_scores(score_files)
    cov, cov_notes = covariate_frame(obs, st["covariates"], cohort)
    for n in cov_notes:
        log.warning("associate %s: %s: r_partial is not adjusted for it", cohort, n)
    table, info, nulls = _correlations(expr, scores, sigs, focal, targets, cov, st, scoring, timer, threads)
    score_inputs = [str(h5ad), *map(str, score_files.values())]
    record = {
        "params": {**params_of(st), "focal": list(focal), "targets": list(targets)},
        "inputs": [*score_inputs, *map(str, signature_files)],
        "cohort": cohort,
    }
    _write_correlations(table, info, nulls, out_correlations, out_null, record, cov_notes)
    log.info(
        "associate %s: %d correlation rows (%d focal x %d targets x %d methods x %d statistics)",
        cohort,
        len(table),
        len(focal),
        len(targets),
        len(scores),
        len(st["statistics"]),
    )
    n_samples = int(info["samples"])
    _warn_floor(cohort, n_samples, int(st["min_samples"]), info["n_below_min_samples"])
    parts, note = _prerank(expr, scores, sigs, focal, st, pre, n_samples, timer, threads)
    pr = _write_prerank(parts, out_prerank, pre, st, score_inputs, cohort, note)
    _log_run(cohort, table, info, pr, len(parts), st, len(scores), timer)
