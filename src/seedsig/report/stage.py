"""Report stage: the run's report.html built from the declared outputs of the other stages."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

from seedsig.report.build import build_report
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
) -> None:
    """results/report.html (and every figure in ``figures_dir``); the summary uses ``primary_method`` when it was
    run, else the first scoring method. ``input_files``: (label, path) pairs whose sha256 the methods section lists."""

    methods = list(config.get("scoring", {}).get("methods", [primary_method]))
    primary = primary_method if primary_method in methods else methods[0]
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
    )
    log.info("report: %s (%d cohort(s), summary method %s)", out_html, len(cohorts), primary)
