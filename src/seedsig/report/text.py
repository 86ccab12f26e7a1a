"""How numbers, p-values and gene lists are written in the report."""

from __future__ import annotations

import math
import re

import numpy as np

FEW_EVENTS = 20  # an endpoint with fewer events than this is flagged: its hazard ratios are imprecise
ALPHA = 0.05
ASSOCIATE_MIN_SAMPLES = 10  # associate.min_samples when neither the sidecar nor the config records it
SURVIVAL_MIN_SAMPLES = 10  # survival.min_samples likewise (the survival stage's floor)
LIST_SHOWN = 20  # gene lists longer than this show their first names and "and N more" (the rest in <details>)
RELAPSE_TERMS = ("relapse", "recurr", "mfs", "rfs", "dfs", "metasta")  # endpoint names that measure relapse


# ------------------------------------------------------------------------------------------- formatting
def _finite(x) -> bool:
    try:
        return x is not None and np.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def fmt_r(x) -> str:
    """r, CI bounds and hazard ratios as shown: 2 decimals; NA when missing."""
    return f"{float(x):.2f}" if _finite(x) else "NA"


def fmt_p(x) -> str:
    """p-values as shown: 2 significant digits, scientific below 0.001; NA when missing."""
    if not _finite(x):
        return "NA"
    x = float(x)
    if x == 0:
        return "<1e-300"
    return f"{x:.1e}" if x < 0.001 else f"{x:.2g}"


def fmt_hr(row) -> str:
    if not _finite(row.get("hr_per_sd")):
        return "NA"
    return f"{row['hr_per_sd']:.2f} ({fmt_r(row.get('ci_low'))}-{fmt_r(row.get('ci_high'))})"


def fmt_ci(lo, hi) -> str:
    if not (_finite(lo) and _finite(hi)):
        return "NA"
    return f"{float(lo):.2f} to {float(hi):.2f}"


def fmt_p_null(p, n_random=None, *, with_b: bool = True) -> str:
    """p_random_null as shown. At its floor 1/(B + 1) (no random signature reached the observed one) it is an
    upper bound: '< 0.001 (B = 1,000)' for B = 1,000 random signatures (``with_b=False``: '< 0.001', for table
    cells whose caption names B); otherwise as :func:`fmt_p`."""
    if not _finite(p):
        return "NA"
    p = float(p)
    b = int(float(n_random)) if _finite(n_random) and float(n_random) > 0 else 0
    if b:
        floor = 1.0 / (b + 1)
        if p <= floor * (1 + 1e-9):
            e = math.floor(math.log10(floor))
            bound = float(f"{math.ceil(floor / 10.0**e - 1e-9) * 10.0**e:.1g}")
            if bound > floor * (1 + 1e-9):
                return f"< {bound:g}" + (f" (B = {b:,})" if with_b else "")
            return fmt_p(p) + (f" (the floor 1/(B + 1), B = {b:,})" if with_b else "")
    return fmt_p(p)


def p_null_phrase(p, n_random=None) -> str:
    """'null p < 0.001 (B = 1,000)' or 'null p = 0.35' (for sentences)."""
    s = fmt_p_null(p, n_random)
    return f"null p {s}" if s.startswith("<") else f"null p = {s}"


def is_relapse_endpoint(*names) -> bool:
    """Does an endpoint (its label, time and event column names) measure relapse (or metastasis, recurrence,
    MFS, DMFS, RFS, DFS)? Overall survival and other endpoints are called 'the outcome', never 'relapse'."""
    text = " ".join(str(n).lower() for n in names if n)
    return any(w in text for w in RELAPSE_TERMS)


def split_genes(x) -> list[str]:
    """The genes of a comma- (or ';'-) separated coverage cell."""
    return [g.strip() for g in re.split(r"[,;]", _text(x)) if g.strip()]


def gene_list(genes, limit: int = LIST_SHOWN) -> dict:
    """A gene list as shown: the first ``limit`` names, how many more, and the whole list (for a <details>)."""
    genes = [str(g) for g in genes] if isinstance(genes, (list, tuple)) else split_genes(genes)
    return {
        "shown": ", ".join(genes[:limit]),
        "n_more": max(0, len(genes) - limit),
        "all": ", ".join(genes),
        "n": len(genes),
    }


def genes_text(genes, limit: int = LIST_SHOWN) -> str:
    """A gene list in a sentence: 'A, B, C' or 'A, ..., T and 380 more'."""
    g = gene_list(genes, limit)
    return g["shown"] + (f" and {g['n_more']:,} more" if g["n_more"] else "")


def data_value(x) -> str:
    """The value as pandas read it, for data-value attributes: repr of a float, str of an integer, '' if missing."""
    if x is None or isinstance(x, str) and x == "":
        return ""
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    try:
        f = float(x)
    except (TypeError, ValueError):
        return str(x)
    return "" if math.isnan(f) else repr(f)


def _cell(col: str, value, shown: str) -> dict:
    return {"col": col, "value": data_value(value), "shown": shown}


def _text(x) -> str:
    return x if isinstance(x, str) else ""


def _true(x) -> bool:
    return str(x).strip().lower() == "true"


def _params(side: dict) -> dict:
    p = side.get("parameters", {})
    return p if isinstance(p, dict) else {}


def no_urls(html: str) -> str:
    """Write the '//' of any http(s):// in text (the config's GEO addresses, a citation) as character
    references: the page shows the same text but holds no URL a browser or a checker could take for a link."""
    return html.replace("http://", "http:&#47;&#47;").replace("https://", "https:&#47;&#47;")


def fmt_i2(x) -> str:
    return f"{float(x):.0f}%" if _finite(x) else "NA"
