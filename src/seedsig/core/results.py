"""Result types of the notebook API (:mod:`seedsig.api`), statsmodels-style: :class:`Result` holds a library table
(``to_frame()``), the run's parameters and info, and prints a fixed-width ``summary()`` (a :class:`Summary`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd


def _num(v: Any, fmt: str = ".3f") -> str:
    return "NA" if v is None or not np.isfinite(float(v)) else format(float(v), fmt)


def _pval(v: Any) -> str:
    if v is None or not np.isfinite(float(v)):
        return "NA"
    return f"{float(v):.2e}" if float(v) < 0.001 else f"{float(v):.4f}"


def _ci(lo: Any, hi: Any, fmt: str = ".3f") -> str:
    return "NA" if not (np.isfinite(float(lo)) and np.isfinite(float(hi))) else f"[{lo:{fmt}}, {hi:{fmt}}]"


class Summary:
    """A fixed-width text table (statsmodels-style): ``print(result.summary())``; ``str()`` is the text."""

    def __init__(self, text: str) -> None:
        self.text = text

    def as_text(self) -> str:
        return self.text

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text


@dataclass(eq=False)
class Result:
    """What :func:`seedsig.associate` and :func:`seedsig.survival` return: the library's table (``to_frame()``),
    the run's parameters and the library's info dict (sidecar content), and a text ``summary()``."""

    kind: str
    table: pd.DataFrame
    params: dict
    info: dict = field(default_factory=dict)

    _TITLES = {"associate": "seedsig.associate: correlations", "survival": "seedsig.survival: Cox models"}

    def to_frame(self) -> pd.DataFrame:
        """The table as :func:`seedsig.association.correlation.correlation_table` /
        :func:`seedsig.outcome.cox.cox_table` gave it (a copy)."""
        return self.table.copy()

    def _header(self) -> list[tuple[str, str]]:
        p, t = self.params, self.table
        methods = ", ".join(dict.fromkeys(t["method"])) if len(t) else "none"
        if self.kind == "associate":
            return [
                ("Method", methods),
                ("Statistics", ", ".join(p["statistics"])),
                ("Samples (n)", str(self.info.get("samples", ""))),
                ("Bootstrap B", str(p["n_bootstrap"])),
                ("Random null B", str(p["n_random"])),
                ("Seed", str(p["seed"])),
                ("min_samples", str(p["min_samples"])),
                ("Adjusted for", ";".join(self.info.get("covariates", {}).get("adjusted_for", [])) or "nothing"),
                ("Tests (BH family)", str(self.info.get("n_tests", ""))),
            ]
        n = int(t["n"].max()) if len(t) else 0
        events = int(t["events"].max()) if len(t) else 0
        return [
            ("Method", methods),
            ("Endpoint", p["endpoint"]),
            ("Samples (n, max)", str(n)),
            ("Events (max)", str(events)),
            ("min_samples", str(p["min_samples"])),
            ("Covariates", ";".join(p["covariates"]) or "none"),
            ("Ties", "efron"),
            ("Random null", "not computed (p_random_null NA; the pipeline's survival step computes it)"),
        ]

    def _rows(self) -> tuple[list[str], list[list[str]], list[str]]:
        t = self.table
        if self.kind == "associate":
            cols = [
                "method",
                "focal",
                "target",
                "statistic",
                "n",
                "r",
                "95% CI",
                "q",
                "null p",
                "r w/o shared",
                "r partial",
                "note",
            ]
            vals = [
                [
                    r.method,
                    r.signature_a,
                    r.signature_b,
                    r.statistic,
                    str(int(r.n)),
                    _num(r.r),
                    _ci(r.ci_low, r.ci_high),
                    _pval(r.q),
                    _pval(r.p_random_null),
                    _num(r.r_without_shared),
                    _num(r.r_partial),
                ]
                for r in t.itertuples(index=False)
            ]
        else:
            cols = ["method", "signature", "model", "n", "events", "HR per SD", "95% CI", "p", "C", "PH p", "note"]
            vals = [
                [
                    r.method,
                    r.signature,
                    r.model,
                    str(int(r.n)),
                    str(int(r.events)),
                    _num(r.hr_per_sd),
                    _ci(r.ci_low, r.ci_high),
                    _pval(r.p),
                    _num(r.concordance),
                    _pval(r.ph_p),
                ]
                for r in t.itertuples(index=False)
            ]
        notes: list[str] = []
        for row, note in zip(vals, t["note"].fillna("").astype(str)):
            if note and note not in notes:
                notes.append(note)
            row.append(f"[{notes.index(note) + 1}]" if note else "")
        return cols, vals, notes

    def summary(self) -> Summary:
        """A fixed-width text table: a header with the method, n, B and seed, one line per row of
        :meth:`to_frame` with its numbers, and the rows' notes below as numbered footnotes."""
        cols, vals, notes = self._rows()
        width = [max([len(c), *(len(v[i]) for v in vals)]) for i, c in enumerate(cols)]
        text_cols = {"method", "focal", "target", "statistic", "signature", "model", "note"}

        def line(cells: Sequence[str]) -> str:
            return "  ".join(c.ljust(w) if h in text_cols else c.rjust(w) for c, w, h in zip(cells, width, cols))

        body = [line(cols), *(line(v) for v in vals)]
        rule_len = max(len(self._TITLES[self.kind]), *(len(b.rstrip()) for b in body))
        header = self._header()
        key_w = max(len(k) for k, _ in header)
        out = [self._TITLES[self.kind].center(rule_len).rstrip(), "=" * rule_len]
        out += [f"{k + ':':<{key_w + 1}} {v}" for k, v in header]
        out += ["-" * rule_len, *(b.rstrip() for b in body), "=" * rule_len]
        if notes:
            out += ["Notes:", *(f"[{i}] {n}" for i, n in enumerate(notes, start=1))]
        return Summary("\n".join(out))

    def __repr__(self) -> str:
        what = "correlation rows" if self.kind == "associate" else "Cox rows"
        methods = ", ".join(dict.fromkeys(self.table["method"])) if len(self.table) else "none"
        tested = int(np.isfinite(self.table["p"].to_numpy(dtype=float)).sum())
        return (
            f"<seedsig {self.kind} result: {len(self.table)} {what} ({methods}), {tested} tested; "
            ".summary(), .to_frame()>"
        )


__all__ = ["Result", "Summary"]
