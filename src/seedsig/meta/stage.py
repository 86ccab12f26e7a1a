"""Meta stage: per-cohort correlations and hazard ratios pooled across cohorts."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from seedsig.core.errors import SeedsigError
from seedsig.core.provenance import provenance, sidecar_path, write_sidecar
from seedsig.core.tables import write_table
from seedsig.meta.pooling import pool_correlations, pool_hazard_ratios

log = logging.getLogger("seedsig")


# ------------------------------------------------------------------------------------------------ meta
def meta_run(
    correlations: dict[str, str | Path],
    survival: dict[str, str | Path],
    out_correlations: str | Path,
    out_survival: str | Path,
    survival_sidecars: dict[str, str | Path] | None = None,
) -> None:
    """Pool the per-cohort correlations (Fisher z) and hazard ratios (log HR) across cohorts: random effects
    (DerSimonian-Laird, Paule-Mandel) and fixed effect. The sheet's primary endpoints are pooled together as
    endpoint 'primary'; with one cohort nothing is pooled (header-only tables). ``survival_sidecars``: each
    cohort's survival.json (it names the primary endpoint); default: the sidecar beside its survival.tsv. A missing
    sidecar is an error (it is a declared output of the survival step), never read as 'no primary endpoint'."""

    corr = [pd.read_csv(p, sep="\t").assign(cohort=c) for c, p in correlations.items()]
    surv = []
    for c, p in survival.items():
        d = pd.read_csv(p, sep="\t").assign(cohort=c)
        side = Path((survival_sidecars or {}).get(c) or sidecar_path(p))
        if not side.is_file():
            raise SeedsigError(
                f"meta: {side} (the provenance of {p}) is missing: rerun the survival step of cohort '{c}'."
            )
        primary = json.loads(side.read_text()).get("primary_endpoint", "")
        if primary:
            d["endpoint"] = d["endpoint"].replace(primary, "primary")
        surv.append(d)
    note = "" if len(correlations) > 1 else "one cohort in the run: nothing to pool"
    mc = (
        pool_correlations(pd.concat(corr, ignore_index=True)) if len(corr) > 1 else pool_correlations(corr[0].iloc[0:0])
    )
    ms = (
        pool_hazard_ratios(pd.concat(surv, ignore_index=True))
        if len(surv) > 1
        else pool_hazard_ratios(surv[0].iloc[0:0])
    )
    record = dict(
        cohorts=list(correlations),
        note=note,
        reference=(
            "statsmodels combine_effects: random effects DerSimonian-Laird (random_dl) and Paule-Mandel (random_pm),"
            " fixed effect (fixed); checked against R metafor rma"
        ),
    )
    write_table(mc, out_correlations)
    write_sidecar(
        out_correlations,
        provenance(
            {
                "scale": (
                    "Fisher z = atanh(r), variance 1/(n-3) (Pearson) or 1.06/(n-3) (Spearman);"
                    " estimates back-transformed to r"
                )
            },
            inputs=[str(p) for p in correlations.values()],
            **record,
        ),
    )
    write_table(ms, out_survival)
    write_sidecar(
        out_survival,
        provenance(
            {
                "scale": "log hazard ratio per SD, SE from the 95% Wald CI; estimates back-transformed to HR per SD",
                "primary": "the cohort sheet's time/event endpoint of each cohort is pooled as endpoint 'primary'",
            },
            inputs=[str(p) for p in survival.values()],
            **record,
        ),
    )
    log.info(
        "meta: %d cohorts; %d pooled correlation rows, %d pooled survival rows%s",
        len(correlations),
        len(mc),
        len(ms),
        f" ({note})" if note else "",
    )
