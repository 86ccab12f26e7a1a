"""Report stage: the run's report.html built from the declared outputs of the other stages."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

from seedsig.report.build import build_report
from seedsig.report.figure_plan import summary_method
from seedsig.scoring.signatures import load_signatures

log = logging.getLogger("seedsig")


# ---------------------------------------------------------------------------------------------- report
def report_run(
    cohorts: dict[str, str],
    out_html: str | Path,
    signature_files: Sequence[str],
    config: dict,
    focal: Sequence[str],
    primary_method: str,
    meta_dir: str | Path | None = None,
    *,
    figures_dir: str | Path | None = None,
    input_files: Sequence[tuple[str, str]] = (),
    figure_plan: dict | None = None,
) -> None:
    """results/report.html (and every figure in ``figures_dir``); the summary uses ``primary_method`` when it was
    run, else the first scoring method. ``input_files``: (label, path) pairs whose sha256 the methods section
    lists. ``figure_plan``: the figures the workflow declares (:func:`seedsig.report.figure_plan.figure_plan`),
    each written, drawn or as a "not drawn" placeholder."""

    primary = summary_method(config.get("scoring", {}).get("methods", [primary_method]), primary_method)
    inputs = [*map(tuple, input_files), *(("signatures", f) for f in signature_files)]
    build_report(
        cohorts,
        out_html,
        signatures=load_signatures(signature_files),
        config=config,
        focal=tuple(focal),
        primary_method=primary,
        meta_dir=meta_dir,
        figures_dir=figures_dir,
        input_files=inputs,
        figure_plan=figure_plan,
    )
    log.info("report: %s (%d cohort(s), summary method %s)", out_html, len(cohorts), primary)
