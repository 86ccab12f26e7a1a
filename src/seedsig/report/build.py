"""The run's report: one standalone HTML file (``results/report.html``) a biologist reads, and every figure of
it written to ``results/figures/`` as SVG and PDF (:mod:`seedsig.report.figures` draws them; the HTML embeds the SVG
that was written, as a data: URI; nothing is fetched from the network).

Sections: Summary (SS-organ correlations and SS hazard ratios per cohort and pooled, as tables and a heatmap,
and the caveats in plain words), Data and QC, Scores, Outcome, Across cohorts, Tables, Methods (a paste-able
paragraph, references, input checksums, the configuration, software versions). A section that cannot be
shown says why. Every table can be sorted (click a header) and filtered (the text box above it).

Machine-readable summary (read by the browser test): ``<table id="summary-correlations">``, one row per
(cohort or ``pooled``, method, signature_a, signature_b, statistic) with attributes ``data-cohort``,
``data-method``, ``data-signature-a``, ``data-signature-b``, ``data-statistic`` and cells
``<td data-col="r|ci_low|ci_high|p_random_null|r_without_shared" data-value="repr(float)">``;
``<table id="summary-survival">``, one row per (cohort or ``pooled``, method, signature, endpoint, model) of the
focal signatures with ``data-cohort``, ``data-method``, ``data-signature``, ``data-endpoint``, ``data-model`` and
cells ``data-col`` = ``hr_per_sd``, ``ci_low``, ``ci_high``, ``p``, ``p_random_null``, ``events``. ``data-value``
is the TSV's value as pandas reads it (``repr`` of the float, ``str`` of an integer; empty when missing);
the text shown is rounded: r, CI bounds and HR to 2 decimals (:func:`fmt_r`), p-values by :func:`fmt_p`.
Pooled rows come from ``results/meta/*.tsv``, pooling ``random_dl`` (estimate = pooled r, or pooled HR per SD), and
only the rows that pooled something (k >= 2; rows with k = 0 or 1 have no pooled estimate and are left out; the
Across cohorts section says why nothing was pooled). ``p_random_null`` at its floor 1/(B + 1) is shown as a bound
(:func:`fmt_p_null`: '< 0.001 (B = 1,000)' in sentences and the full tables, '< 0.001' in the summary cells,
whose caption gives B; data-value keeps the TSV's value).

What the report never does (issue 14): count a row it did not test. A focal signature that is not scored in a
cohort opens that cohort's summary box (``<div class="answer" data-cohort=...>``, first ``<p>``) with the
sentence ``{signature} cannot be scored in {cohort}: {the genes measured}; needs at least {scoring.min_genes}
genes and {scoring.min_fraction}% of the signature ...`` (a contract), and one that rests on one gene says so
there. Rows below the sample floors (``associate.min_samples``, ``survival.min_samples``: a ``note`` with NA
values, or in older files ``n`` below the floor) are left out of every count and said plainly ("too few samples
(n = 3, fewer than associate.min_samples = 10): no correlation tested"). The endpoint is called by its name
(the sheet's time/event label) and "relapse" only when its name says relapse (:func:`is_relapse_endpoint`).
Gene lists longer than :data:`LIST_SHOWN` show their first names and "and N more", the whole list in a
``<details>`` element."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import yaml

from seedsig.core.layout import figure_names
from seedsig.core.provenance import versions
from seedsig.core.tables import atomic_path
from seedsig.report.across_cohorts import _meta_section
from seedsig.report.load import _fig, _load_cohort, _prepare, _read, input_checksums
from seedsig.report.methods_text import _methods
from seedsig.report.placeholders import ReportFigures, table_reason
from seedsig.report.sections import _outcome_section, _qc_section, _scores_section
from seedsig.report.sentences import _cohort_sentences, _warnings
from seedsig.report.summary import _heatmap, _summary_rows, _tables
from seedsig.report.text import FEW_EVENTS, no_urls
from seedsig.scoring.signatures import Signature

log = logging.getLogger("seedsig")


# ------------------------------------------------------------------------------------------- build
def build_report(
    cohorts: dict[str, str | Path],
    out_html: str | Path,
    *,
    signatures: list[Signature],
    config: dict,
    focal: Sequence[str] = ("SS", "SS_attraction", "SS_infiltration"),
    primary_method: str | None = None,
    meta_dir: str | Path | None = None,
    figures_dir: str | Path | None = None,
    input_files: Sequence[tuple[str, str]] = (),
    figure_plan: dict | None = None,
) -> list:
    """Write the standalone HTML report over the cohorts' result directories, and every figure of it to
    ``figures_dir`` (default: ``figures/`` beside ``out_html``) as SVG and PDF. ``input_files``: (what, path) of
    every input (sheet files, signature files, config) whose sha256 the Methods section lists. ``figure_plan``:
    the arguments of :func:`seedsig.core.layout.figure_names` (:func:`seedsig.report.figure_plan.figure_plan`):
    every figure it names that the data do not allow is written as a "not drawn: why" placeholder (never shown
    in the HTML). Returns the figures drawn (:class:`seedsig.core.plotting.Written`)."""
    out_html = Path(out_html)
    declared = figure_names(**figure_plan) if figure_plan else []
    fw = ReportFigures(Path(figures_dir) if figures_dir else out_html.parent / "figures", declared)
    focal = tuple(focal) or ("SS",)
    main = focal[0]
    primary = primary_method or (config.get("scoring", {}).get("methods") or ["ssgsea"])[0]
    sigmeta = {s.name: s for s in signatures}
    data = _load_cohorts(cohorts, config, sigmeta, focal, primary)
    mdir = Path(meta_dir) if meta_dir else None
    mc = _read(mdir / "correlations.tsv") if mdir else None
    ms = _read(mdir / "survival.tsv") if mdir else None
    pooled_ok = len(data) >= 2
    meta = _meta_section(fw, data, mc, ms, primary, focal)
    heat, heat_why = _heatmap(fw, data, mc, primary, main, pooled_ok)
    corr_rows, surv_rows, corr_left_out, surv_left_out = _summary_rows(
        data, mc if pooled_ok else None, ms if pooled_ok else None, focal
    )
    warnings = _warnings(data, sigmeta, signatures, primary, focal, [meta["why"], meta.get("surv_why", "")])
    sections = [_cohort_section(fw, c, sigmeta, focal, primary, config) for c in data]
    vers = versions()
    html = _render(
        cohorts=sections,
        meta=meta,
        heatmap=_fig(heat) if heat else None,
        heatmap_why=heat_why,
        n_random={
            k: ", ".join(f"{b:,}" for b in sorted({c[key] for c in data if c[key]}))
            for k, key in (("correlations", "b_corr"), ("survival", "b_surv"))
        },
        warnings=warnings,
        corr_rows=corr_rows,
        corr_left_out=corr_left_out,
        surv_left_out=surv_left_out,
        surv_rows=surv_rows,
        focal=list(focal),
        primary=primary,
        few_events=FEW_EVENTS,
        signatures=signatures,
        versions=vers,
        methods=_methods(data, config, signatures, vers),
        checksums=input_checksums(list(input_files)),
        config=config,
        n_figures=len(fw.written),
    )
    by_name = {c["name"]: c for c in data}
    fw.write_placeholders(lambda name: table_reason(name, by_name))
    with atomic_path(out_html) as tmp:
        tmp.write_text(html, encoding="utf-8")
    log.info(
        "report: %s, %d figure(s) and %d 'not drawn' placeholder(s) in %s",
        out_html,
        len(fw.written),
        len(fw.placeholders),
        fw.root,
    )
    return fw.written


def _load_cohorts(
    cohorts: dict[str, str | Path], config: dict, sigmeta: dict[str, Signature], focal: Sequence[str], primary: str
) -> list[dict]:
    """Each cohort's declared outputs (the run's scoring methods only), what they allow (:func:`_prepare`) and
    its plain-words answers."""
    run_methods = list((config.get("scoring") or {}).get("methods") or []) or None
    data = [_load_cohort(name, Path(d), run_methods) for name, d in cohorts.items()]
    for c in data:
        _prepare(c, config, sigmeta, focal, primary)
        c["sentences"] = _cohort_sentences(c, primary, focal[0], focal)
    return data


def _cohort_section(
    fw, c: dict, sigmeta: dict[str, Signature], focal: Sequence[str], primary: str, config: dict
) -> dict:
    """Everything the template shows of one cohort: answers, QC, scores, outcome and its tables."""
    log.info("report: cohort %s", c["name"])
    sec = {
        "name": c["name"],
        "answers": c["sentences"],
        "n_samples": len(next(iter(c["scores"].values()))) if c["scores"] else 0,
        "methods": list(c["scores"]),
        "b_corr": c["b_corr"],
        "b_surv": c["b_surv"],
    }
    sec["qc"] = _qc_section(fw, c, sigmeta)
    sec["scores"] = _scores_section(fw, c, sigmeta, focal, primary, config)
    sec["outcome"] = _outcome_section(fw, c, focal, primary)
    sec.update(_tables(c))
    return sec


def _render(*, config: dict, **context) -> str:
    """The report's HTML from its template (the configuration shown as YAML; no URL left in the page)."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("seedsig.report.build", "templates"), autoescape=select_autoescape(["html"]))
    html = env.get_template("report.html").render(
        **context, config_yaml=yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
    )
    return no_urls(html)
