"""Every figure of the run, drawn once and written to ``results/figures/`` as SVG and PDF.

One function draws each kind of figure (or reuses the drawing function of its stage: ``curve_plots.plot_km``,
``curve_plots.plot_cif``, ``meta.forest_figure``, ``prerank.enrichment_plot``); :class:`FigureWriter` writes it as
``{stem}.svg`` and ``{stem}.pdf`` under a shared style (Okabe-Ito colours, DejaVu Sans, 7-8 pt text, one
journal column = 3.5 in wide) and returns the SVG bytes it wrote, which the HTML report embeds: the report
never draws a figure of its own.

The files are reproducible: ``svg.hashsalt`` is fixed (ids in the SVG do not change between runs) and the
creation dates are left out of the SVG and PDF metadata. The figures are built on the Agg canvas without
pyplot (headless; the global pyplot state is never touched).

File names (under the figures directory): ``summary_heatmap``, ``{cohort}/{kind}_{method}_{signature...}``
and ``meta/{kind}_{method}_{signature...}``; names are reduced to letters, digits, ``_``, ``-`` and ``.``
(:func:`seedsig.core.layout.figure_stem` spells them). A declared figure the data do not allow is written as
:func:`not_drawn_figure` (:mod:`seedsig.report.placeholders`)."""

from __future__ import annotations

import math
import textwrap
from typing import Sequence

import numpy as np
import pandas as pd

from seedsig.core.plotting import OKABE_ITO, WIDTH, new_figure


# ------------------------------------------------------------------------------------------- summary
def summary_heatmap(
    values: pd.DataFrame, marks: pd.DataFrame, *, title: str, mark_label: str, colour_label: str = "Spearman r"
):
    """Heatmap of ``values`` (rows = signatures, columns = cohorts then 'pooled'; colour = r on a diverging
    Okabe-Ito-derived blue-white-vermillion scale, -1 to 1), the value printed in each cell, a dot where
    ``marks`` is true and hatching where the value is missing (not scored / not computed)."""
    from matplotlib.colors import LinearSegmentedColormap
    from matplotlib.lines import Line2D

    cmap = LinearSegmentedColormap.from_list("bwv", [OKABE_ITO[0], "#FFFFFF", OKABE_ITO[3]]).with_extremes(
        bad="#EEEEEE"
    )
    nr, nc = values.shape
    fig = new_figure(WIDTH, 1.25 + 0.2 * nr)
    ax = fig.add_subplot()
    v = values.to_numpy(dtype=float)
    im = ax.imshow(np.ma.masked_invalid(v), cmap=cmap, vmin=-1, vmax=1, aspect="auto")
    for i in range(nr):
        for j in range(nc):
            if np.isfinite(v[i, j]):
                ax.text(
                    j,
                    i,
                    f"{v[i, j]:.2f}",
                    ha="center",
                    va="center",
                    fontsize=5.5,
                    color="#000000" if abs(v[i, j]) < 0.6 else "#FFFFFF",
                )
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
    fig.legend(
        handles=[Line2D([], [], ls="none", marker="o", ms=3, color="#000000", label=mark_label)],
        loc="outside lower left",
        frameon=False,
        fontsize=6,
    )
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


DENSITY_EXACT_ELEMENTS = 20_000_000  # values of a matrix whose density range is read from all its values


def expression_density_figure(x: np.ndarray, cohort: str, unit: str, max_lines: int = 400):
    """Distribution of the normalized expression of each sample (one thin line per sample: a histogram
    density over the genes of the matrix on a shared grid of 80 bins); samples whose distribution differs
    stand out."""
    fig = new_figure(WIDTH, 2.3)
    ax = fig.add_subplot()
    x = np.asarray(x, dtype=float)  # samples x genes
    rng = np.random.default_rng(0)
    rows = (
        np.arange(x.shape[0]) if x.shape[0] <= max_lines else np.sort(rng.choice(x.shape[0], max_lines, replace=False))
    )
    # the x range from every value, or above DENSITY_EXACT_ELEMENTS values from the samples drawn (no full copy)
    finite = x[np.isfinite(x)] if x.size <= DENSITY_EXACT_ELEMENTS else x[rows][np.isfinite(x[rows])]
    lo, hi = (np.percentile(finite, 0.1), np.percentile(finite, 99.9)) if finite.size else (0.0, 1.0)
    if hi <= lo:
        hi = lo + 1.0
    edges = np.linspace(lo, hi, 81)
    mids = (edges[:-1] + edges[1:]) / 2
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
        bp = ax.boxplot(
            data,
            orientation="horizontal",
            patch_artist=True,
            widths=0.6,
            showfliers=False,
            medianprops={"color": "#000000", "lw": 0.8},
            boxprops={"lw": 0.6},
            whiskerprops={"lw": 0.6},
            capprops={"lw": 0.6},
        )
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
    x: pd.Series,
    y: pd.Series,
    null_r: np.ndarray,
    observed_r: float,
    p_null: float,
    *,
    method: str,
    statistic: str,
    cohort: str,
    q: float = math.nan,
    p_label: str | None = None,
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


# ------------------------------------------------------------------------------------------ not drawn
def not_drawn_figure(name: str, why: str):
    """The placeholder of a declared figure the data do not allow: its name and 'not drawn: {why}', in the
    report's style (one column wide, as short as its text)."""
    lines = textwrap.wrap(f"not drawn: {why}", width=64, break_on_hyphens=False) or ["not drawn"]
    fig = new_figure(WIDTH, 0.32 + 0.13 * len(lines))
    ax = fig.add_subplot()
    ax.axis("off")
    ax.text(0.0, 1.0, "\n".join(lines), ha="left", va="top", fontsize=7, color="#555555", transform=ax.transAxes)
    fig.suptitle(name)
    return fig


# ------------------------------------------------------------------------------------------ contributions
def contribution_share_figure(shares: pd.DataFrame, groups: dict, signature: str, method: str, cohort: str):
    """The share of a score carried by each gene group in every sample (stacked to 1; samples sorted by the first
    group's share), with the median share of each group in the legend."""
    data = shares.dropna()
    data = data.iloc[np.lexsort((np.arange(len(data)), -data.iloc[:, 0].to_numpy()))]
    fig = new_figure(WIDTH, 2.9)
    ax = fig.add_subplot()
    x = np.arange(1, len(data) + 1)
    labels = [
        f"{g} ({', '.join(groups.get(g, []))}): median {data[g].median():.2f}" if g in groups else f"{g} genes"
        for g in data.columns
    ]
    ax.stackplot(x, data.to_numpy().T, labels=labels, colors=OKABE_ITO[: data.shape[1]], linewidth=0)
    ax.axhline(0.5, color="#333333", lw=0.5, ls=":")
    ax.set_xlim(0.5, max(len(data), 1) + 0.5)
    ax.set_ylim(0, 1)
    ax.set_xlabel("samples (sorted by the first group's share)")
    ax.set_ylabel(f"share of |{method} contribution|")
    ax.legend(frameon=False, fontsize=6, loc="upper left", bbox_to_anchor=(0.0, -0.25))
    fig.suptitle(f"{cohort}: genes carrying {signature} ({method}, n = {len(data)})")
    return fig
