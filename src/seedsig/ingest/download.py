"""Download GEO inputs by accession into a local cache, and work offline from it.

A cohort sheet row may name its inputs by accession: ``expression: geo:GSE2034`` (``geo:GSE781-GPL96`` for one
platform of a multi-platform series) and ``platform_annotation: geo:GPL96``. The files come from GEO's public HTTPS
layout (``stub`` = the accession with its last three digits replaced by ``nnn``, e.g. GSE2034 -> GSE2nnn,
GSE781 -> GSEnnn, GPL23227 -> GPL23nnn):

* series matrix  ``{geo_base}/series/{stub}/{GSE}/matrix/{GSE}[-{GPL}]_series_matrix.txt.gz``
* family SOFT    ``{geo_base}/series/{stub}/{GSE}/soft/{GSE}_family.soft.gz``
* platform       ``{geo_base}/platforms/{stub}/{GPL}/annot/{GPL}.annot.gz``, or when GEO has no ``.annot`` for the
  platform (HTTP 404) ``{geo_base}/platforms/{stub}/{GPL}/soft/{GPL}_family.soft.gz``
* NCBI-generated RNA-seq counts (an RNA-seq series' matrix has an empty table)
  ``{download_base}/?type=rnaseq_counts&acc={GSE}&format=file&file={GSE}_raw_counts_GRCh38.p13_NCBI.tsv.gz``

The files are fetched into the cache of :mod:`seedsig.ingest.http_cache` (layout, checksums, retries, offline).
"""

from __future__ import annotations

import gzip
import logging
import os
import re
import urllib.parse
import zlib
from dataclasses import dataclass
from pathlib import Path

from seedsig.core.errors import SeedsigError
from seedsig.ingest.http_cache import NotFoundError, _cache_path, _offline_hint, cached, fetch

log = logging.getLogger("seedsig")

GEO_BASE = "https://ftp.ncbi.nlm.nih.gov/geo"
DOWNLOAD_BASE = "https://www.ncbi.nlm.nih.gov/geo/download"

_ACCESSION = re.compile(r"^(?:geo:)?(?:(GSE\d+)(?:-(GPL\d+))?|(GPL\d+))$", re.IGNORECASE)
EXAMPLES = "geo:GSE2034, geo:GSE781-GPL96 (one platform of a multi-platform series) or geo:GPL96"


@dataclass(frozen=True)
class GeoFile:
    """One remote GEO file: its URL and its path inside the cache directory."""

    url: str
    relpath: str


# ----------------------------------------------------------------------------------------------------- accessions


def parse_accession(text: str) -> tuple[str, str | None]:
    """``geo:GSE2034`` -> ``("GSE2034", None)``; ``geo:GSE781-GPL96`` -> ``("GSE781", "GPL96")``; ``geo:GPL96`` ->
    ``("GPL96", None)``. The ``geo:`` prefix is optional and case is ignored; anything else is a SeedsigError."""
    s = str(text).strip()
    m = _ACCESSION.match(s)
    if not m:
        raise SeedsigError(f"'{text}' is not a GEO accession: write {EXAMPLES}.")
    gse, gpl, only_gpl = m.groups()
    if only_gpl:
        return only_gpl.upper(), None
    return gse.upper(), (gpl.upper() if gpl else None)


def geo_stub(acc: str) -> str:
    """GEO's folder of an accession: the last three digits replaced by ``nnn`` (GSE2034 -> GSE2nnn, GSE781 -> GSEnnn,
    GPL23227 -> GPL23nnn)."""
    m = re.fullmatch(r"(G[A-Z]{2})(\d+)", str(acc).strip().upper())
    if not m:
        raise SeedsigError(f"'{acc}' is not a GEO accession (GSE..., GPL..., GSM..., GDS... followed by digits).")
    prefix, digits = m.groups()
    return f"{prefix}{digits[:-3]}nnn"


def _base(url: str) -> str:
    return url.rstrip("/")


def geo_files(accession: str, *, geo_base: str = GEO_BASE, download_base: str = DOWNLOAD_BASE) -> dict[str, GeoFile]:
    """The remote files of an accession (any form :func:`parse_accession` takes) with their cache paths.

    A series gives ``series_matrix``, ``family_soft`` and ``ncbi_counts``; a platform gives ``annot`` and
    ``family_soft`` (the fallback when GEO has no ``.annot`` for it).
    """
    acc, platform = parse_accession(accession)
    geo, dl = _base(geo_base), _base(download_base)
    stub = geo_stub(acc)
    if acc.startswith("GPL"):
        annot = f"platforms/{stub}/{acc}/annot/{acc}.annot.gz"
        soft = f"platforms/{stub}/{acc}/soft/{acc}_family.soft.gz"
        return {"annot": GeoFile(f"{geo}/{annot}", annot), "family_soft": GeoFile(f"{geo}/{soft}", soft)}
    name = f"{acc}-{platform}" if platform else acc
    matrix = f"series/{stub}/{acc}/matrix/{name}_series_matrix.txt.gz"
    soft = f"series/{stub}/{acc}/soft/{acc}_family.soft.gz"
    counts_file = f"{acc}_raw_counts_GRCh38.p13_NCBI.tsv.gz"
    query = urllib.parse.urlencode({"type": "rnaseq_counts", "acc": acc, "format": "file", "file": counts_file})
    return {
        "series_matrix": GeoFile(f"{geo}/{matrix}", matrix),
        "family_soft": GeoFile(f"{geo}/{soft}", soft),
        "ncbi_counts": GeoFile(f"{dl}/?{query}", f"download/{acc}/{counts_file}"),
    }


def geo_urls(accession: str, *, geo_base: str = GEO_BASE, download_base: str = DOWNLOAD_BASE) -> dict[str, str]:
    """The URLs of :func:`geo_files` (same keys)."""
    return {k: f.url for k, f in geo_files(accession, geo_base=geo_base, download_base=download_base).items()}


# ------------------------------------------------------------------------------------------- GEO series / platforms


@dataclass(frozen=True)
class MatrixInfo:
    """What :func:`series_matrix_info` reads from a series matrix: its platform ids and the rows of its table."""

    platforms: tuple[str, ...]
    has_table: bool
    n_rows: int

    @property
    def empty(self) -> bool:
        """True when the table has no data rows (an RNA-seq series: the data is in the NCBI counts)."""
        return self.n_rows == 0


def series_matrix_info(path: str | os.PathLike) -> MatrixInfo:
    """Scan a (gzipped) series matrix for ``!Series_platform_id`` and the data rows between
    ``!series_matrix_table_begin`` and ``!series_matrix_table_end`` (the ``"ID_REF"`` header excluded)."""
    platforms: list[str] = []
    has_table, in_table, header_seen, n_rows = False, False, False, 0
    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if in_table:
                    if line.startswith("!series_matrix_table_end"):
                        break
                    if not line.strip():
                        continue
                    if not header_seen:
                        header_seen = True
                        continue
                    n_rows += 1
                elif line.startswith("!Series_platform_id"):
                    fields = line.rstrip("\r\n").split("\t")[1:] or [line.split("=", 1)[-1]]
                    platforms += [f.strip().strip('"').strip() for f in fields if f.strip().strip('"').strip()]
                elif line.startswith("!series_matrix_table_begin"):
                    has_table = in_table = True
    except (OSError, EOFError, zlib.error) as exc:
        raise SeedsigError(
            f"series matrix {path} cannot be read ({exc}); delete it from the cache and run again."
        ) from None
    return MatrixInfo(tuple(dict.fromkeys(platforms)), has_table, n_rows)


def series_platform(matrix: str | os.PathLike, accession: str) -> str:
    """The platform (GPL) of a downloaded series matrix: the one of ``geo:GSExxx-GPLyyy``, else the matrix's only
    ``!Series_platform_id``. Several platforms (or none) is a SeedsigError telling the user what to write."""
    gse, gpl = parse_accession(accession)
    platforms = series_matrix_info(matrix).platforms
    if gpl:
        if platforms and gpl not in platforms:
            raise SeedsigError(
                f"geo:{gse}-{gpl}: the series matrix {matrix} is for platform {', '.join(platforms)}, not {gpl}; "
                "check the accession."
            )
        return gpl
    if len(platforms) == 1:
        return platforms[0]
    if not platforms:
        raise SeedsigError(
            f"geo:{gse}: the series matrix {matrix} names no platform (!Series_platform_id); give the platform "
            "annotation in the sheet."
        )
    choices = " or ".join(f"geo:{gse}-{p}" for p in platforms)
    raise SeedsigError(
        f"geo:{gse} has {len(platforms)} platforms ({', '.join(platforms)}): write {choices} to choose one."
    )


def fetch_geo_series(
    accession: str,
    cache_dir: str | os.PathLike,
    *,
    geo_base: str = GEO_BASE,
    download_base: str = DOWNLOAD_BASE,
    retries: int = 5,
    backoff: float = 1.0,
    timeout: float = 60,
    offline: bool = False,
    progress: bool = True,
    need_counts: bool | None = None,
    family_soft: bool = False,
) -> dict[str, Path]:
    """Fetch a series (``geo:GSE2034`` or ``geo:GSE781-GPL96``) into the cache; return local paths by kind.

    Always ``series_matrix``; ``ncbi_counts`` when ``need_counts`` is True, or when it is None and the matrix's data
    table is empty (an RNA-seq series); ``family_soft`` when asked. The series' platform is checked here (several
    platforms without ``-GPLyyy`` is an error) and read with :func:`series_platform`.
    """
    gse, gpl = parse_accession(accession)
    if gse.startswith("GPL"):
        raise SeedsigError(
            f"'{accession}' is a platform, not a series: write a series accession (geo:GSE...) here, e.g. {EXAMPLES}."
        )
    acc = f"{gse}-{gpl}" if gpl else gse
    files = geo_files(acc, geo_base=geo_base, download_base=download_base)
    opts = dict(retries=retries, backoff=backoff, timeout=timeout, offline=offline, progress=progress, accession=acc)
    f = files["series_matrix"]
    try:
        out = {"series_matrix": fetch(f.url, cache_dir, f.relpath, what=f"series matrix of {acc}", **opts)}
    except NotFoundError as exc:
        hint = "" if gpl else f"; a series with several platforms has one matrix per platform: write geo:{gse}-GPLxxx"
        raise NotFoundError(
            f"series matrix of geo:{acc} does not exist at {exc.url} (HTTP {exc.status}): check the accession{hint}, "
            "or the base URL (config geo.base_url).",
            exc.url,
            exc.status,
        ) from None
    info = series_matrix_info(out["series_matrix"])
    series_platform(out["series_matrix"], acc)
    if need_counts or (need_counts is None and info.empty):
        f = files["ncbi_counts"]
        try:
            out["ncbi_counts"] = fetch(f.url, cache_dir, f.relpath, what=f"NCBI RNA-seq counts of {gse}", **opts)
        except NotFoundError as exc:
            raise NotFoundError(
                f"GEO has no NCBI-generated RNA-seq counts for {gse} ({exc.url}: HTTP {exc.status})"
                + (
                    "; its series matrix has no data rows either: download the series' supplementary expression file "
                    "and give its path in the sheet."
                    if info.empty
                    else "; check the accession or the download URL (config geo.download_url)."
                ),
                exc.url,
                exc.status,
            ) from None
    if family_soft:
        f = files["family_soft"]
        out["family_soft"] = fetch(f.url, cache_dir, f.relpath, what=f"family SOFT of {gse}", **opts)
    return out


def fetch_geo_platform(
    gpl: str,
    cache_dir: str | os.PathLike,
    *,
    geo_base: str = GEO_BASE,
    retries: int = 5,
    backoff: float = 1.0,
    timeout: float = 60,
    offline: bool = False,
    progress: bool = True,
) -> Path:
    """Fetch a platform's annotation (``geo:GPL96`` or ``GPL96``): ``{GPL}.annot.gz``, or when GEO has none (404) the
    platform's family SOFT ``{GPL}_family.soft.gz``. A cached copy of either is used without the network."""
    acc, _ = parse_accession(gpl)
    if not acc.startswith("GPL"):
        raise SeedsigError(
            f"'{gpl}' is not a platform accession: write geo:GPL96 (a GEO platform, GPL followed by digits)."
        )
    files = geo_files(acc, geo_base=geo_base)
    for f in (files["annot"], files["family_soft"]):
        hit = cached(cache_dir, f.relpath)
        if hit is not None:
            return hit
    opts = dict(retries=retries, backoff=backoff, timeout=timeout, offline=offline, progress=progress, accession=acc)
    if offline:
        a, s = (_cache_path(cache_dir, files[k].relpath) for k in ("annot", "family_soft"))
        raise SeedsigError(
            f"platform annotation of {acc}: neither {a} nor {s} is in the cache and offline mode is on (no download "
            "from "
            f"{files['annot'].url}): {_offline_hint(acc, Path(cache_dir))}."
        )
    try:
        return fetch(
            files["annot"].url, cache_dir, files["annot"].relpath, what=f"platform annotation {acc}.annot.gz", **opts
        )
    except NotFoundError as exc:
        log.info("%s: no .annot file at %s (HTTP %d); using the platform's family SOFT", acc, exc.url, exc.status)
    f = files["family_soft"]
    try:
        return fetch(f.url, cache_dir, f.relpath, what=f"platform family SOFT of {acc}", **opts)
    except NotFoundError as exc:
        raise NotFoundError(
            f"platform {acc}: GEO has neither {files['annot'].url} nor {exc.url} (HTTP {exc.status}): check the "
            "platform accession "
            f"geo:{acc} and the base URL (config geo.base_url).",
            exc.url,
            exc.status,
        ) from None


def fetch_geo(
    accession: str,
    cache_dir: str | os.PathLike,
    *,
    geo_base: str = GEO_BASE,
    download_base: str = DOWNLOAD_BASE,
    retries: int = 5,
    backoff: float = 1.0,
    timeout: float = 60,
    offline: bool = False,
    progress: bool = True,
) -> dict[str, Path]:
    """Fetch whatever an accession names: a series (:func:`fetch_geo_series`) or a platform (``{"platform_annotation":
    path}``, :func:`fetch_geo_platform`)."""
    acc, _ = parse_accession(accession)
    opts = dict(retries=retries, backoff=backoff, timeout=timeout, offline=offline, progress=progress)
    if acc.startswith("GPL"):
        return {"platform_annotation": fetch_geo_platform(acc, cache_dir, geo_base=geo_base, **opts)}
    return fetch_geo_series(accession, cache_dir, geo_base=geo_base, download_base=download_base, **opts)
