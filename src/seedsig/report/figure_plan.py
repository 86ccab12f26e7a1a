"""Which figures a run's report has: the arguments of :func:`seedsig.core.layout.figure_names`, from the
configuration, the cohort sheet and the signature files (the workflow declares the files from them, and the report
writes exactly those: each figure drawn, or a "not drawn: why" placeholder where the data do not allow it)."""

from __future__ import annotations

from typing import Mapping, Sequence

from seedsig.association.prerank import direction_sets
from seedsig.core.layout import endpoint_label
from seedsig.scoring.signatures import Signature


def summary_method(methods: Sequence[str], preferred: str) -> str:
    """The scoring method of the report's summary and figures: ``report.primary_method`` when it was run, else
    the first scoring method."""
    methods = list(methods) or [preferred]
    return preferred if preferred in methods else methods[0]


def prerank_sets(signatures: Sequence[Signature], focal: Sequence[str]) -> list[list[str]]:
    """(signature, direction) of each prerank set, as the associate step forms them
    (:func:`seedsig.association.prerank.direction_sets`): every signature not focal."""
    return [[sig.name, d] for sig in signatures if sig.name not in set(focal) for d, _ in direction_sets(sig)]


def figure_plan(
    config: dict,
    sheet_rows: Mapping[str, Mapping],
    cohort_settings: Mapping[str, Mapping],
    signatures: Sequence[Signature],
    targets: Sequence[str],
) -> dict:
    """The keyword arguments of :func:`seedsig.core.layout.figure_names` for a run. ``sheet_rows``: each
    cohort's row of the sheet (data_type, time, event); ``cohort_settings``: each cohort's associate and survival
    settings (:func:`seedsig.config.cohort_settings`); ``targets``: the target signatures of the run."""
    methods = list(config["scoring"]["methods"])
    cohorts = {}
    for name, row in sheet_rows.items():
        surv = cohort_settings[name]["survival"]
        pre = cohort_settings[name]["associate"].get("prerank") or {}
        cohorts[name] = {
            "data_type": str(row.get("data_type") or ""),
            "primary_endpoint": endpoint_label(row.get("time") or "", row.get("event") or ""),
            "endpoints": [str(e["name"]) for e in surv.get("endpoints") or []],
            "relapse_site": bool((surv.get("relapse_site") or {}).get("column")),
            "prerank": bool(pre.get("enabled", True)),
        }
    return {
        "cohorts": cohorts,
        "methods": methods,
        "primary": summary_method(methods, config["report"]["primary_method"]),
        "focal": list(config["signatures"]["focal"]),
        "targets": list(targets),
        "prerank_sets": prerank_sets(signatures, config["signatures"]["focal"]),
    }
