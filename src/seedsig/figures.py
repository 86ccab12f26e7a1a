"""Every figure of the run, drawn once and written to ``results/figures/`` as SVG and PDF.

One function draws each kind of figure (or reuses the drawing function of its stage: ``curves.plot_km``,
``curves.plot_cif``, ``meta.forest_figure``, ``prerank.enrichment_plot``); :class:`FigureWriter` writes it as
``{stem}.svg`` and ``{stem}.pdf`` under a shared style (Okabe-Ito colours, DejaVu Sans, 7-8 pt text, one
journal column = 3.5 in wide) and returns the SVG bytes it wrote, which the HTML report embeds: the report
never draws a figure of its own.

The files are reproducible: ``svg.hashsalt`` is fixed (ids in the SVG do not change between runs) and the
creation dates are left out of the SVG and PDF metadata. The figures are built on the Agg canvas without
pyplot (headless; the global pyplot state is never touched).

File names (under the figures directory): ``summary_heatmap``, ``{cohort}/{kind}_{method}_{signature...}``
and ``meta/{kind}_{method}_{signature...}``; names are reduced to letters, digits, ``_``, ``-`` and ``.``.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

# Okabe-Ito colour-blind-safe palette (blue, orange, green, vermillion, purple, sky blue, yellow, black)
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
GREY = "#999999"
WIDTH = 3.5  # inches: one journal column

STYLE = {
    "svg.hashsalt": "seedsig",
    "svg.fonttype": "none",  # text stays text (searchable, editable), in the font named below
    "pdf.fonttype": 3,  # subsetted Type 3 fonts (TrueType/42 subsetting costs ~0.5 s per file)
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 7.0,
    "axes.titlesize": 8.0,
    "axes.labelsize": 7.5,
    "xtick.labelsize": 7.0,
    "ytick.labelsize": 7.0,
    "legend.fontsize": 7.0,
    "figure.titlesize": 8.0,
    "axes.linewidth": 0.7,
    "lines.linewidth": 1.2,
    "axes.prop_cycle": None,  # set in _style()
    "axes.spines.top": False,
    "axes.spines.right": False,
    "savefig.dpi": 300,  # for the rasterized parts of dense figures (see rasterize_dense)
    "savefig.bbox": None,  # figures lay themselves out (constrained layout); "tight" would draw each twice
}
SVG_METADATA = {"Date": None}
log = logging.getLogger("seedsig")
logging.getLogger("fontTools").setLevel(logging.WARNING)  # the PDF backend's font subsetting is chatty at INFO
PDF_METADATA = {"CreationDate": None, "ModDate": None}


def _style() -> dict:
    from cycler import cycler

    return {**STYLE, "axes.prop_cycle": cycler(color=OKABE_ITO)}


def safe_name(*parts: str) -> str:
    """A file-name part from signature, method, cohort or endpoint names: other characters become '-'."""
    return "_".join(re.sub(r"[^A-Za-z0-9_.-]+", "-", str(p)).strip("-") or "x" for p in parts if str(p) != "")


def new_figure(width: float = WIDTH, height: float = 2.6, layout: str | None = "constrained"):
    """A matplotlib Figure on the Agg canvas (no pyplot)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout=layout)
    FigureCanvasAgg(fig)
    return fig


@dataclass
class Written:
    """One written figure: ``stem`` relative to the figures directory (no suffix), the SVG text, a title."""

    stem: str
    svg: str
    title: str
    caption: str = ""
    extra: dict = field(default_factory=dict)


class FigureWriter:
    """Builds figures under the shared style and writes each as SVG + PDF under ``root``."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.written: list[Written] = []

    def __call__(self, stem: str, build: Callable[[], object], title: str, caption: str = "") -> Written:
        import matplotlib as mpl

        import time
        import warnings

        t0 = time.perf_counter()
        with mpl.rc_context(_style()), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fig = build()
            rasterize_dense(fig)
            freeze_layout(fig)
            path = self.root / f"{stem}.svg"
            path.parent.mkdir(parents=True, exist_ok=True)
            fig.savefig(path, format="svg", metadata=SVG_METADATA)
            fig.savefig(path.with_suffix(".pdf"), format="pdf", metadata=PDF_METADATA)
        for w in {str(w.message) for w in caught}:
            log.warning("figure %s: %s", stem, w)
        log.debug("figure %s: %.2f s", stem, time.perf_counter() - t0)
        w = Written(stem=stem, svg=path.read_text(encoding="utf-8"), title=title, caption=caption)
        self.written.append(w)
        return w


# ------------------------------------------------------------------------------------------- summary
def summary_heatmap(values: pd.DataFrame, marks: pd.DataFrame, *, title: str, mark_label: str, colour_label: str = "Spearman r"):
    """Heatmap of ``values`` (rows = signatures, columns = cohorts then 'pooled'; colour = r on a diverging
    Okabe-Ito-derived blue-white-vermillion scale, -1 to 1), the value printed in each cell, a dot where
    ``marks`` is true and hatching where the value is missing (not scored / not computed)."""
    from matplotlib.colors import LinearSegmentedColormap
    from matplotlib.lines import Line2D

    cmap = LinearSegmentedColormap.from_list("bwv", [OKABE_ITO[0], "#FFFFFF", OKABE_ITO[3]]).with_extremes(bad="#EEEEEE")
    nr, nc = values.shape
    fig = new_figure(WIDTH, 1.25 + 0.2 * nr)
    ax = fig.add_subplot()
    v = values.to_numpy(dtype=float)
    im = ax.imshow(np.ma.masked_invalid(v), cmap=cmap, vmin=-1, vmax=1, aspect="auto")
    for i in range(nr):
        for j in range(nc):
            if np.isfinite(v[i, j]):
                ax.text(j, i, f"{v[i, j]:.2f}", ha="center", va="center", fontsize=5.5, color="#000000" if abs(v[i, j]) < 0.6 else "#FFFFFF")
                if bool(marks.iat[i, j]):
                    ax.plot(j + 0.36, i - 0.28, marker="o", ms=2.6, color="#000000", mec="#FFFFFF", mew=0.4)
            else:
                ax.text(j, i, "NA", ha="center", va="center", fontsize=5.5, color="#555555")
    ax.set_xticks(range(nc), [str(c) for c in values.columns], rotation=35, ha="right")
    ax.set_yticks(range(nr), [str(r) for r in values.index])
    ax.set_xlabel("Cohort")
    ax.set_ylabel("Signature")
    ax.spines[["top", "right", "left", "bottom"]].set_visible(False)
    ax.tick_params(length=0)
    cb = fig.colorbar(im, ax=ax, shrink=0.8, pad=0.02)
    cb.set_label(colour_label, fontsize=7)
    cb.ax.tick_params(labelsize=6)
    fig.legend(handles=[Line2D([], [], ls="none", marker="o", ms=3, color="#000000", label=mark_label)], loc="outside lower left", frameon=False, fontsize=6)
    fig.suptitle(title)
    return fig


# ---------------------------------------------------------------------------------------------- QC
def library_size_figure(library_size: pd.Series, cohort: str):
    """Histogram of the samples' library sizes (million reads) with the median marked."""
    x = library_size.dropna().to_numpy(dtype=float) / 1e6
    fig = new_figure(WIDTH, 2.2)
    ax = fig.add_subplot()
    ax.hist(x, bins=min(30, max(5, int(np.sqrt(x.size)) + 1)), color=OKABE_ITO[0], edgecolor="#FFFFFF", linewidth=0.4)
    if x.size:
        ax.axvline(np.median(x), color=OKABE_ITO[3], ls="--", lw=0.9, label=f"median {np.median(x):.2f} M")
        ax.legend(frameon=False)
    ax.set_xlabel("Library size (million reads, all input genes)")
    ax.set_ylabel("Samples")
    fig.suptitle(f"{cohort}: library sizes (n = {x.size})")
    return fig


def expression_density_figure(x: np.ndarray, cohort: str, unit: str, max_lines: int = 400):
    """Distribution of the normalized expression of each sample (one thin line per sample: a histogram
    density over the genes of the matrix on a shared grid of 80 bins); samples whose distribution differs
    stand out."""
    fig = new_figure(WIDTH, 2.3)
    ax = fig.add_subplot()
    x = np.asarray(x, dtype=float)  # samples x genes
    finite = x[np.isfinite(x)]
    lo, hi = (np.percentile(finite, 0.1), np.percentile(finite, 99.9)) if finite.size else (0.0, 1.0)
    if hi <= lo:
        hi = lo + 1.0
    edges = np.linspace(lo, hi, 81)
    mids = (edges[:-1] + edges[1:]) / 2
    rng = np.random.default_rng(0)
    rows = np.arange(x.shape[0]) if x.shape[0] <= max_lines else np.sort(rng.choice(x.shape[0], max_lines, replace=False))
    from matplotlib.collections import LineCollection

    segs = []
    for i in rows:
        v = x[i][np.isfinite(x[i])]
        if v.size < 3:
            continue
        dens, _ = np.histogram(v, bins=edges, density=True)
        segs.append(np.column_stack([mids, dens]))
    if segs:
        ax.add_collection(LineCollection(segs, colors=OKABE_ITO[0], alpha=0.25, linewidths=0.5))
        ax.set_xlim(lo, hi)
        ax.set_ylim(0, max(float(s[:, 1].max()) for s in segs) * 1.05)
    ax.set_xlabel(unit)
    ax.set_ylabel("Density (fraction of genes per unit)")
    shown = f"{len(rows)} of {x.shape[0]}" if len(rows) < x.shape[0] else f"{x.shape[0]}"
    fig.suptitle(f"{cohort}: expression per sample\n({shown} samples, {x.shape[1]} genes)")
    return fig


# -------------------------------------------------------------------------------------------- scores
def score_distribution_figure(scores: pd.DataFrame, method: str, cohort: str, focal: Sequence[str] = ()):
    """Horizontal box plot (with the samples as points) of each scored signature's scores; focal signatures in
    blue, the others grey."""
    cols = [c for c in scores.columns if scores[c].notna().any()]
    fig = new_figure(WIDTH, 0.8 + 0.2 * max(len(cols), 1))
    ax = fig.add_subplot()
    data = [scores[c].dropna().to_numpy(dtype=float) for c in cols][::-1]
    labels = cols[::-1]
    if data:
        bp = ax.boxplot(data, orientation="horizontal", patch_artist=True, widths=0.6, showfliers=False, medianprops={"color": "#000000", "lw": 0.8}, boxprops={"lw": 0.6}, whiskerprops={"lw": 0.6}, capprops={"lw": 0.6})
        for patch, name in zip(bp["boxes"], labels):
            patch.set_facecolor(OKABE_ITO[5] if name in focal else "#DDDDDD")
        rng = np.random.default_rng(0)
        for i, d in enumerate(data, start=1):
            ax.scatter(d, i + rng.uniform(-0.2, 0.2, d.size), s=1.5, color="#333333", alpha=0.35, linewidths=0)
        ax.set_yticks(range(1, len(labels) + 1), labels, fontsize=6.5)
    ax.set_xlabel(f"{method} score (arbitrary units)")
    fig.suptitle(f"{cohort}: {method} scores (n = {len(scores)} samples)")
    return fig


def scatter_null_figure(
    x: pd.Series, y: pd.Series, null_r: np.ndarray, observed_r: float, p_null: float, *, method: str, statistic: str,
    cohort: str, q: float = math.nan, p_label: str | None = None,
):
    """Top: the focal score against the target score (one point per sample). Bottom: the correlations of the
    random signatures (matched to the focal one in size and expression) with the target, the observed
    correlation marked; p_random_null = (b + 1) / (B + 1) with b = random |r| >= observed |r|. ``p_label``: the
    p as the report writes it (e.g. '< 0.001 (B = 1,000)' at its floor); default: rounded, with B."""
    fig = new_figure(WIDTH, 3.7)
    ax, axn = fig.subplots(2, 1, gridspec_kw={"height_ratios": [1.5, 1.0]})
    ok = x.notna() & y.notna()
    ax.scatter(x[ok], y[ok], s=4, color=OKABE_ITO[0], alpha=0.6, linewidths=0)
    ax.set_xlabel(f"{x.name} ({method} score)")
    ax.set_ylabel(f"{y.name} ({method} score)")
    label = "Spearman r" if statistic == "spearman" else "Pearson r"
    r_text = f"{label} = {observed_r:.2f}" if np.isfinite(observed_r) else f"{label} not computed"
    q_text = f", q = {_p(q)}" if np.isfinite(q) else ""
    ax.set_title(f"{cohort}: {x.name} vs {y.name}\n{r_text}{q_text}", fontsize=7.5)
    null_r = np.asarray(null_r, dtype=float)
    null_r = null_r[np.isfinite(null_r)]
    if null_r.size:
        axn.hist(null_r, bins=30, color="#BBBBBB", edgecolor="#FFFFFF", linewidth=0.3)
    if np.isfinite(observed_r):
        axn.axvline(observed_r, color=OKABE_ITO[3], lw=1.2, label=f"observed {observed_r:.2f}")
        axn.axvline(-observed_r, color=OKABE_ITO[3], lw=0.7, ls=":")
    axn.set_xlabel(f"r of random signatures with {y.name}")
    axn.set_ylabel("Random signatures")
    shown = p_label if p_label is not None else _p(p_null)
    shown += f" (B = {null_r.size:,})" if "B =" not in shown else ""
    axn.set_title(f"Random-signature null: p {shown if shown.startswith('<') else '= ' + shown}", fontsize=7.5)
    if np.isfinite(observed_r):  # a legend without a labelled artist warns
        axn.legend(frameon=False, fontsize=6, loc="upper left")
    return fig


def _p(p: float) -> str:
    if p is None or not np.isfinite(p):
        return "NA"
    return f"{p:.1e}" if p < 1e-3 else f"{p:.2g}"


def freeze_layout(fig) -> None:
    """Run the figure's layout engine (constrained layout) once and keep the result: the SVG and the PDF are
    then drawn without laying the figure out again (the layout is about half the cost of a small figure)."""
    eng = fig.get_layout_engine()
    if eng is None or not hasattr(eng, "execute"):
        return
    eng.execute(fig)
    fig.set_layout_engine("none")


def rasterize_dense(fig, max_points: int = 3000) -> None:
    """Rasterize (at savefig.dpi) the artists drawing more than ``max_points`` vertices (e.g. a running
    enrichment score over every gene): the SVG/PDF stay small; axes, text and sparse artists stay vector."""
    for ax in fig.get_axes():
        for art in [*ax.lines, *ax.collections, *ax.patches]:
            n = 0
            if hasattr(art, "get_xydata"):
                n = len(art.get_xydata())
            elif hasattr(art, "get_paths"):
                n = sum(len(p.vertices) for p in art.get_paths())
            elif hasattr(art, "get_path"):
                n = len(art.get_path().vertices)
            if n > max_points:
                art.set_rasterized(True)


def resize(fig, width: float = WIDTH, height: float | None = None, wrap_labels: bool = True):
    """Resize a figure drawn by a stage's own function to the report's column width; axis labels longer than
    the column allows are broken at their first ' (' onto a second line."""
    w, h = fig.get_size_inches()
    fig.set_size_inches(width, height if height is not None else h * width / w)
    if wrap_labels:
        for ax in fig.get_axes():
            lab = ax.get_xlabel()
            if len(lab) > 45 and " (" in lab and "\n" not in lab:
                ax.set_xlabel(lab.replace(" (", "\n(", 1))
    return fig
