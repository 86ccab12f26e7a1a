"""The one figure style (Okabe-Ito palette, fonts, sizes) and the writer of SVG + PDF figures."""

from __future__ import annotations

import logging
import re
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

log = logging.getLogger("seedsig")

# Okabe-Ito colour-blind-safe palette (blue, orange, green, vermillion, purple, sky blue, yellow, black): the one
# palette of every figure (stages draw with it; the report embeds their figures)
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
    "axes.prop_cycle": None,  # set in figure_style()
    "axes.spines.top": False,
    "axes.spines.right": False,
    "savefig.dpi": 300,  # for the rasterized parts of dense figures (see rasterize_dense)
    "savefig.bbox": None,  # figures lay themselves out (constrained layout); "tight" would draw each twice
}
SVG_METADATA = {"Date": None}
logging.getLogger("fontTools").setLevel(logging.WARNING)  # the PDF backend's font subsetting is chatty at INFO
PDF_METADATA = {"CreationDate": None, "ModDate": None}


def figure_style() -> dict:
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

        t0 = time.perf_counter()
        with mpl.rc_context(figure_style()), warnings.catch_warnings(record=True) as caught:
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


def freeze_layout(fig) -> None:
    """Run the figure's layout engine (constrained layout) once and keep the result: the SVG and the PDF are
    then drawn without laying the figure out again (the layout is about half the cost of a small figure)."""
    eng = fig.get_layout_engine()
    if eng is None or not hasattr(eng, "execute"):
        return
    eng.execute(fig)
    fig.set_layout_engine("none")


def _n_points(art) -> tuple[int, bool]:
    """(vertices or points an artist draws, whether it is a scatter: one marker per offset)."""
    offsets = art.get_offsets() if hasattr(art, "get_offsets") else None
    if offsets is not None and len(offsets) > 1:
        return len(offsets), True
    if hasattr(art, "get_xydata"):
        return len(art.get_xydata()), False
    if hasattr(art, "get_paths"):
        return sum(len(p.vertices) for p in art.get_paths()), False
    if hasattr(art, "get_path"):
        return len(art.get_path().vertices), False
    return 0, False


def rasterize_dense(fig, max_points: int = 3000, max_figure_points: int = 10000) -> None:
    """Rasterize (at savefig.dpi) the artists drawing more than ``max_points`` vertices or points (e.g. a running
    enrichment score over every gene, a scatter of 10,000 samples), and every scatter of a figure whose scatters
    draw more than ``max_figure_points`` points in all (13 score distributions of 2,000 samples): the SVG/PDF stay
    small; axes, text and sparse artists stay vector."""
    arts = [(art, *_n_points(art)) for ax in fig.get_axes() for art in [*ax.lines, *ax.collections, *ax.patches]]
    scatter_total = sum(n for _, n, scatter in arts if scatter)
    for art, n, scatter in arts:
        if n > max_points or (scatter and scatter_total > max_figure_points):
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
