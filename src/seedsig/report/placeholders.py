"""The figures a run declares but its data do not allow: each is still written, as a small "not drawn: why"
figure in the report's style, so that ``results/figures/`` holds exactly the files the workflow declares
(:func:`seedsig.core.layout.figure_names`). The HTML report never embeds a placeholder: it says why in words
where it shows nothing.

The sections tell :class:`ReportFigures` why a figure is not drawn (:meth:`ReportFigures.not_drawn`, for one
figure or for every figure of a kind whose names begin with the given parts); a declared figure no section
spoke of gets its reason from the cohort's tables (:func:`table_reason`)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, Sequence

import pandas as pd

from seedsig.core.layout import FigureName
from seedsig.core.plotting import FigureWriter, Written
from seedsig.report.figures import not_drawn_figure
from seedsig.report.text import _text

log = logging.getLogger("seedsig")


class ReportFigures(FigureWriter):
    """The report's figure writer: draws each figure (:class:`FigureWriter`), records why a declared figure is
    not drawn, and writes the placeholders of the declared figures left (:meth:`write_placeholders`)."""

    def __init__(self, root: str | Path, declared: Sequence[FigureName] = ()):
        super().__init__(root)
        self.declared = list(declared)
        self.placeholders: list[Written] = []
        self._reasons: list[tuple[str, str, tuple[str, ...], str]] = []

    def not_drawn(self, why: str, kinds: str | Sequence[str], cohort: str = "", *parts: str) -> None:
        """Why the figures of ``kinds`` (of ``cohort``, whose names begin with ``parts``) are not drawn; the
        reason given with the most parts wins, and of two with as many, the first."""
        for kind in (kinds,) if isinstance(kinds, str) else kinds:
            self._reasons.append((kind, cohort, tuple(str(p) for p in parts), why))

    def reason(self, name: FigureName) -> str:
        best, why = -1, ""
        for kind, cohort, parts, text in self._reasons:
            if kind == name.kind and cohort == name.cohort and name.parts[: len(parts)] == parts and len(parts) > best:
                best, why = len(parts), text
        return why

    def write_placeholders(self, fallback: Callable[[FigureName], str]) -> list[Written]:
        """A "not drawn: why" figure for every declared figure that was not drawn (``fallback``: the reason of
        one no section gave a reason for). A drawn figure that is not declared is logged (a workflow would not
        track it)."""
        drawn = {w.stem for w in self.written}
        declared = {n.stem for n in self.declared}
        extra = sorted(drawn - declared)
        if self.declared and extra:
            log.warning("report: %d figure(s) drawn but not declared: %s", len(extra), ", ".join(extra[:10]))
        writer = FigureWriter(self.root)
        for name in self.declared:
            if name.stem in drawn:
                continue
            why = _clause(self.reason(name) or fallback(name) or "the results of this run do not allow it")
            writer(name.stem, lambda name=name, why=why: not_drawn_figure(name.stem, why), name.stem, why)
        self.placeholders = writer.written
        return self.placeholders


def _clause(why: str) -> str:
    """The reason of a report sentence 'No X for cohort C: reason.' ('reason'), else the sentence itself."""
    why = why.strip()
    if why.startswith("No ") and ": " in why:
        why = why.split(": ", 1)[1]
    return why[:-1] if why.endswith(".") and not why.endswith("..") else why


def _rows(t: pd.DataFrame | None, **match: str) -> pd.DataFrame | None:
    if t is None or not len(t) or any(k not in t.columns for k in match):
        return None
    sel = t
    for k, v in match.items():
        sel = sel[sel[k].astype(str) == v]
    return sel


def _first_note(*tables: pd.DataFrame | None) -> str:
    for t in tables:
        if t is not None and len(t) and "note" in t.columns:
            notes = [n for n in (_text(x) for x in t["note"]) if n]
            if notes:
                return notes[0]
    return ""


def table_reason(name: FigureName, cohorts: dict[str, dict]) -> str:
    """Why a declared figure is not drawn, from its cohort's tables: the note of its log-rank, Cox or prerank
    row, or the table that has no row for it."""
    if name.kind == "forest_r":
        method, focal, target = name.parts
        return f"results/meta/correlations.tsv has no pooled correlation of {focal} with {target} ({method})"
    if name.kind == "forest_hr":
        method, sig = name.parts
        return f"results/meta/survival.tsv has no pooled hazard ratio of {sig} ({method}) on the primary endpoint"
    c = cohorts.get(name.cohort)
    if c is None:
        return ""
    if name.kind == "score_distribution":
        return f"results/{name.cohort}/scores/{name.parts[0]}.tsv was not read (no scores of this method)"
    if name.kind in ("km", "cif"):
        method, sig, endpoint = name.parts
        keys = {"method": method, "signature": sig, "endpoint": endpoint}
        note = _first_note(_rows(c["lr"], **keys), _rows(c["surv"], **keys))
        table = "km.tsv" if name.kind == "km" else "cumulative_incidence.tsv"
        return note or f"{table} has no rows of {sig} ({method}) on {endpoint}"
    if name.kind == "prerank":
        method, focal, sig, direction = name.parts
        rows = _rows(c["prerank"], method=method, focal=focal, signature=sig, direction=direction)
        return _first_note(rows) or f"prerank.tsv has no enrichment score of {sig} ({direction}) for {focal}"
    if name.kind == "scatter_null":
        method, focal, target = name.parts
        rows = _rows(c["corr"], method=method, signature_a=focal, signature_b=target)
        return _first_note(rows) or f"correlations.tsv has no correlation of {focal} with {target} ({method})"
    return ""
