"""Figures of the survival curves of :mod:`seedsig.outcome.curves`: Kaplan-Meier step curves with a numbers-at-risk
table (:func:`plot_km`) and cumulative incidence per cause (:func:`plot_cif`). matplotlib is imported only when a
figure is drawn; figures are drawn on the Agg canvas and returned, never shown.
"""

from __future__ import annotations

import math
import textwrap
from typing import Sequence

import numpy as np
import pandas as pd

from seedsig.core.errors import SeedsigError
from seedsig.core.plotting import OKABE_ITO


def _figure(width: float, height: float, layout: str | None = None):
    """A matplotlib Figure on the Agg canvas (headless; the pyplot state and backend are left alone)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout=layout)
    FigureCanvasAgg(fig)
    return fig


def _wrap(title: str, width: int) -> str:
    return "\n".join(textwrap.fill(line, width) if line else line for line in str(title).split("\n"))


def _fmt_p(p: float) -> str:
    if p is None or not np.isfinite(p):
        return "NA"
    return f"{p:.1e}" if p < 1e-3 else f"{p:.2g}" if p < 0.1 else f"{p:.2f}"


def _groups_in_order(df: pd.DataFrame) -> list[str]:
    return [str(g) for g in pd.unique(df["group"].astype(str))]


def _risk_from_curves(curves: pd.DataFrame, groups: list[str], times: np.ndarray) -> dict[str, np.ndarray]:
    """n at risk at each time from a Kaplan-Meier table: n_risk of the first row at or after t, 0 after the last
    (R's rule; the table has a row at every distinct time, so this is the number with time >= t)."""
    out = {}
    for g in groups:
        sub = curves[(curves["group"].astype(str) == g) & curves["time"].notna()].sort_values("time")
        tt, nr = sub["time"].to_numpy(float), sub["n_risk"].to_numpy(float)
        idx = np.searchsorted(tt, times, side="left")
        out[g] = np.where(idx < tt.size, nr[np.minimum(idx, max(tt.size - 1, 0))] if tt.size else 0, 0).astype(int)
    return out


def plot_km(
    curves_df: pd.DataFrame,
    title: str,
    xlabel: str = "Time (months)",
    risk_times: Sequence[float] | None = None,
    at_risk_df: pd.DataFrame | None = None,
    logrank_p: float | None = None,
):
    """Kaplan-Meier step curves (Okabe-Ito colours, censoring ticks) with a numbers-at-risk table under the axes.

    ``curves_df``: a :func:`kaplan_meier` table (extra columns are ignored; groups are drawn in their row order).
    ``risk_times``: times of the at-risk table (default: the x-axis ticks). ``at_risk_df``: an
    :func:`~seedsig.outcome.curves.at_risk` table to print instead of the numbers read from ``curves_df`` (the same
    numbers when it comes from the same data).
    ``logrank_p``: printed in the panel. About 3.5 in wide (one column). Returns the Figure (not shown)."""
    from matplotlib.ticker import MaxNLocator

    df = curves_df.copy()
    _check_km_table(df)
    groups = _groups_in_order(df)
    fig = _figure(3.5, 2.75 + 0.16 * len(groups))
    gs = fig.add_gridspec(2, 1, height_ratios=[2.3, 0.25 + 0.17 * len(groups)], hspace=0.3)
    ax = fig.add_subplot(gs[0])
    tmax = float(np.nanmax(df["time"].to_numpy(float))) if df["time"].notna().any() else 1.0
    _draw_km_steps(ax, df, groups)
    ax.set_xlim(0, tmax * 1.02)
    ax.set_ylim(-0.02, 1.04)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=tmax >= 6))
    ax.set_ylabel("Survival probability", fontsize=8)
    ax.tick_params(labelsize=7, labelbottom=False)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(
        fontsize=7,
        frameon=False,
        loc="best",
        handlelength=1.5,
        title=None if logrank_p is None else f"log-rank p = {_fmt_p(logrank_p)}",
        title_fontsize=7,
        alignment="left",
    )
    ax.set_title(_wrap(title, 55), fontsize=8)
    # numbers at risk
    if risk_times is None:
        ticks = ax.get_xticks()
        rt = ticks[(ticks >= 0) & (ticks <= tmax)]
    else:
        rt = np.sort(np.asarray(risk_times, dtype=float))
        ax.set_xticks(rt)
    counts = _risk_counts(df, groups, rt, at_risk_df)
    _draw_risk_table(fig.add_subplot(gs[1], sharex=ax), groups, rt, counts, xlabel)
    fig.subplots_adjust(left=0.2, right=0.97, top=0.86 if "\n" in _wrap(title, 55) else 0.9, bottom=0.12)
    return fig


def _check_km_table(df: pd.DataFrame) -> None:
    """Raise when the curve table given to :func:`plot_km` is empty or lacks a column it draws."""
    if not len(df):
        raise SeedsigError("plot_km: the curve table is empty; nothing to plot")
    missing = [c for c in ("group", "time", "n_risk", "n_censor", "survival") if c not in df.columns]
    if missing:
        raise SeedsigError(
            f"plot_km: the curve table lacks column(s) {', '.join(missing)}; pass the output of kaplan_meier"
        )


MAX_PLOT_STEPS = 2000  # rows of a curve (one group, one cause) above which it is thinned for drawing


def thin_steps(sub: pd.DataFrame, tmax: float, n_bins: int = 1000) -> pd.DataFrame:
    """The rows of one step curve (sorted by time) that are drawn when it has more than :data:`MAX_PLOT_STEPS`: in
    each of ``n_bins`` equal bins of [0, ``tmax``], its first and last row (a monotone step curve then stays within
    one bin, 1/1000 of the axis, of the full one). For the figures only: the tables keep every row."""
    if len(sub) <= MAX_PLOT_STEPS or not tmax > 0:
        return sub
    b = np.minimum((sub["time"].to_numpy(float) / tmax * n_bins).astype(np.int64), n_bins - 1)
    edge = np.ones(len(b), dtype=bool)
    edge[1:-1] = (b[1:-1] != b[:-2]) | (b[1:-1] != b[2:])
    return sub[edge]


def _draw_km_steps(ax, df: pd.DataFrame, groups: list[str]) -> None:
    """One survival step curve per group with its censoring ticks (an empty legend entry for an empty group);
    curves of more than :data:`MAX_PLOT_STEPS` rows drawn thinned (:func:`thin_steps`), one tick per bin."""
    tmax = float(np.nanmax(df["time"].to_numpy(float))) if df["time"].notna().any() else 0.0
    for i, g in enumerate(groups):
        sub = df[(df["group"].astype(str) == g) & df["time"].notna()].sort_values("time")
        col = OKABE_ITO[i % len(OKABE_ITO)]
        if not len(sub):
            ax.plot([], [], color=col, label=f"{g} (n = 0)")
            continue
        n_label = int(sub["n_risk"].iloc[0])
        cz = thin_steps(sub[sub["n_censor"] > 0], tmax)
        sub = thin_steps(sub, tmax)
        x = np.concatenate([[0.0], sub["time"].to_numpy(float)])
        y = np.concatenate([[1.0], sub["survival"].to_numpy(float)])
        ax.step(x, y, where="post", color=col, lw=1.3, label=f"{g} (n = {n_label})")
        ax.plot(cz["time"], cz["survival"], ls="none", marker="|", ms=5, mew=0.9, color=col)


def _risk_counts(
    df: pd.DataFrame, groups: list[str], rt: np.ndarray, at_risk_df: pd.DataFrame | None
) -> dict[str, np.ndarray]:
    """Numbers at risk per group at the times ``rt``: from ``at_risk_df`` when given, else read from the curves."""
    if at_risk_df is None:
        return _risk_from_curves(df, groups, rt)
    ar = at_risk_df
    return {
        g: np.array(
            [
                int(ar.loc[(ar["group"].astype(str) == g) & np.isclose(ar["time"].astype(float), t), "n_risk"].sum())
                for t in rt
            ]
        )
        for g in groups
    }


def _draw_risk_table(tab, groups: list[str], rt: np.ndarray, counts: dict[str, np.ndarray], xlabel: str) -> None:
    """The numbers-at-risk table under the curves: one coloured row per group, one column per time."""
    tab.set_ylim(len(groups) - 0.5, -0.5)
    for i, g in enumerate(groups):
        for t, v in zip(rt, counts[g]):
            tab.text(t, i, str(v), ha="center", va="center", fontsize=7, color=OKABE_ITO[i % len(OKABE_ITO)])
    tab.set_yticks(range(len(groups)))
    tab.set_yticklabels(groups, fontsize=7)
    for lab, i in zip(tab.get_yticklabels(), range(len(groups))):
        lab.set_color(OKABE_ITO[i % len(OKABE_ITO)])
    tab.tick_params(axis="y", length=0, pad=10)
    tab.tick_params(axis="x", labelsize=7)
    tab.spines[["top", "right", "left"]].set_visible(False)
    tab.set_xlabel(xlabel, fontsize=8)
    tab.set_title("Number at risk", fontsize=7, loc="left", style="italic", pad=2)


def plot_cif(cif_df: pd.DataFrame, title: str, xlabel: str = "Time (months)"):
    """Cumulative incidence of each cause: one panel per cause, one colour per group (Okabe-Ito), a shared y axis.

    ``cif_df``: an :func:`~seedsig.outcome.curves.aalen_johansen` table (extra columns are ignored; groups and
    causes in their row order).
    One panel is 3.5 in wide; several are 2.3 in each, up to three per row (2 x 2 for four causes).
    Returns the Figure (not shown)."""
    df = cif_df[cif_df["time"].notna()] if "time" in cif_df.columns else cif_df
    missing = [c for c in ("group", "time", "cause", "cif") if c not in cif_df.columns]
    if missing:
        raise SeedsigError(
            f"plot_cif: the table lacks column(s) {', '.join(missing)}; pass the output of aalen_johansen"
        )
    if not len(df):
        raise SeedsigError("plot_cif: the cumulative-incidence table has no rows; nothing to plot")
    groups = _groups_in_order(cif_df)
    causes = [str(c) for c in pd.unique(df["cause"].astype(str))]
    ncol = 2 if len(causes) == 4 else min(3, len(causes))
    nrow = math.ceil(len(causes) / ncol)
    pw = 3.5 if ncol == 1 else 2.3
    wrapped = _wrap(title, int(16 * pw * ncol))
    fig = _figure(pw * ncol, 2.1 * nrow + 0.3 + 0.15 * wrapped.count("\n"), layout="constrained")
    axes = fig.subplots(nrow, ncol, squeeze=False, sharex=True, sharey=True)
    tmax = float(df["time"].max())
    ymax = float(np.nanmax(df["cif"].to_numpy(float))) if df["cif"].notna().any() else 0.0
    for ax, cause in zip(axes.flat, causes):
        for i, g in enumerate(groups):
            sub = df[(df["cause"].astype(str) == cause) & (df["group"].astype(str) == g)].sort_values("time")
            sub = thin_steps(sub, tmax)  # drawn thinned above MAX_PLOT_STEPS rows
            col = OKABE_ITO[i % len(OKABE_ITO)]
            if not len(sub):
                continue
            ax.step(
                np.concatenate([[0.0], sub["time"].to_numpy(float)]),
                np.concatenate([[0.0], sub["cif"].to_numpy(float)]),
                where="post",
                color=col,
                lw=1.3,
                label=g,
            )
        ax.set_title(cause, fontsize=8)
        ax.set_xlim(0, tmax * 1.02)
        ax.set_ylim(0, min(1.0, max(0.05, ymax * 1.1)))
        ax.tick_params(labelsize=7)
        ax.spines[["top", "right"]].set_visible(False)
    for ax in list(axes.flat)[len(causes) :]:
        ax.axis("off")
    for ax in axes[:, 0]:
        ax.set_ylabel("Cumulative incidence", fontsize=8)
    for c in range(ncol):
        col_axes = [axes[r, c] for r in range(nrow) if r * ncol + c < len(causes)]
        if col_axes:
            col_axes[-1].set_xlabel(xlabel, fontsize=8)
            col_axes[-1].tick_params(labelbottom=True)
    axes.flat[0].legend(fontsize=7, frameon=False, loc="upper left", handlelength=1.5)
    fig.suptitle(wrapped, fontsize=8)
    return fig
