"""seedsig.ingest.download against a local fake GEO server (tests/helpers/geo_server.py) serving real GEO files from
../shared: accession and URL rules, the checksum cache and offline mode, retries with backoff, resume with Range, gzip
checks, 404 handling and the .annot -> family SOFT fallback, concurrent fetches, and ``seedsig download``."""

import gzip
import hashlib
import threading
from pathlib import Path

import pytest
from helpers.geo_server import GPL97_ANNOT, GSE201926_COUNTS, GSE201926_MATRIX, geo_server  # noqa: F401 - fixture

from seedsig.cli import main
from seedsig.core.errors import SeedsigError
from seedsig.ingest.download import (
    fetch_geo_platform,
    fetch_geo_series,
    geo_files,
    geo_stub,
    geo_urls,
    parse_accession,
    series_matrix_info,
    series_platform,
)
from seedsig.ingest.http_cache import NotFoundError, fetch

MATRIX_REL = "series/GSE201nnn/GSE201926/matrix/GSE201926_series_matrix.txt.gz"
FAST = {"backoff": 0.001, "timeout": 5, "progress": False}


def files_in(root: Path) -> list[Path]:
    """Every file (not folder) under root; [] when root does not exist."""
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def get_matrix(server, cache: Path, **kw) -> Path:
    opts = {**FAST, **kw}
    return fetch(server.url(GSE201926_MATRIX), cache, MATRIX_REL, **opts)


def source(server, path: str) -> bytes:
    return server.route(path).file.read_bytes()


# --------------------------------------------------------------------------------------------- accessions and URLs


@pytest.mark.parametrize(
    "acc, stub",
    [
        ("GSE2034", "GSE2nnn"),
        ("GSE781", "GSEnnn"),
        ("GSE201926", "GSE201nnn"),
        ("GPL96", "GPLnnn"),
        ("GPL570", "GPLnnn"),
        ("GPL23227", "GPL23nnn"),
        ("GSE1", "GSEnnn"),
        ("GSE1000", "GSE1nnn"),
    ],
)
def test_geo_stub(acc, stub):
    assert geo_stub(acc) == stub


def test_parse_accession():
    assert parse_accession("geo:GSE2034") == ("GSE2034", None)
    assert parse_accession("geo:GSE781-GPL96") == ("GSE781", "GPL96")
    assert parse_accession(" geo:gpl96 ") == ("GPL96", None)
    assert parse_accession("GSE2034") == ("GSE2034", None)
    for bad in ["geo:GSE", "geo:GDS507", "geo:GSE2034-GSE3", "GSE2034x", "sra:SRP1", "geo:GPL96-GPL97", ""]:
        with pytest.raises(SeedsigError, match=r"is not a GEO accession: write geo:GSE2034"):
            parse_accession(bad)


def test_geo_urls():
    g, d = "https://ftp.ncbi.nlm.nih.gov/geo", "https://www.ncbi.nlm.nih.gov/geo/download"
    u = geo_urls("geo:GSE2034")
    assert u["series_matrix"] == f"{g}/series/GSE2nnn/GSE2034/matrix/GSE2034_series_matrix.txt.gz"
    assert u["family_soft"] == f"{g}/series/GSE2nnn/GSE2034/soft/GSE2034_family.soft.gz"
    assert (
        u["ncbi_counts"]
        == f"{d}/?type=rnaseq_counts&acc=GSE2034&format=file&file=GSE2034_raw_counts_GRCh38.p13_NCBI.tsv.gz"
    )
    assert (
        geo_urls("geo:GSE781-GPL96")["series_matrix"]
        == f"{g}/series/GSEnnn/GSE781/matrix/GSE781-GPL96_series_matrix.txt.gz"
    )
    assert (
        geo_urls("geo:GSE201926")["series_matrix"]
        == f"{g}/series/GSE201nnn/GSE201926/matrix/GSE201926_series_matrix.txt.gz"
    )
    assert geo_urls("geo:GPL96") == {
        "annot": f"{g}/platforms/GPLnnn/GPL96/annot/GPL96.annot.gz",
        "family_soft": f"{g}/platforms/GPLnnn/GPL96/soft/GPL96_family.soft.gz",
    }
    assert geo_urls("geo:GPL570")["annot"] == f"{g}/platforms/GPLnnn/GPL570/annot/GPL570.annot.gz"
    assert geo_urls("geo:GPL23227")["family_soft"] == f"{g}/platforms/GPL23nnn/GPL23227/soft/GPL23227_family.soft.gz"
    local = geo_files(
        "geo:GSE201926", geo_base="http://127.0.0.1:9/geo/", download_base="http://127.0.0.1:9/geo/download"
    )
    assert (
        local["series_matrix"].url
        == "http://127.0.0.1:9/geo/series/GSE201nnn/GSE201926/matrix/GSE201926_series_matrix.txt.gz"
    )
    assert local["series_matrix"].relpath == MATRIX_REL
    assert local["ncbi_counts"].relpath == "download/GSE201926/GSE201926_raw_counts_GRCh38.p13_NCBI.tsv.gz"


# --------------------------------------------------------------------------------------------- cache and checksums


def test_clean_fetch_cache_and_offline(geo_server, tmp_path):
    cache = tmp_path / "geo"
    path = get_matrix(geo_server, cache)
    assert path == cache / MATRIX_REL
    data = source(geo_server, GSE201926_MATRIX)
    assert path.read_bytes() == data
    side = path.with_name(path.name + ".sha256")
    assert side.read_text() == f"{hashlib.sha256(data).hexdigest()}  {path.name}\n"
    assert files_in(cache) == sorted([path, side])  # no .part, no .lock
    assert geo_server.count(GSE201926_MATRIX) == 1
    assert get_matrix(geo_server, cache) == path
    assert get_matrix(geo_server, cache, offline=True) == path
    assert geo_server.count(GSE201926_MATRIX) == 1  # both from the cache


def test_corrupt_cache_is_downloaded_again(geo_server, tmp_path):
    cache = tmp_path / "geo"
    path = get_matrix(geo_server, cache)
    good = path.read_bytes()
    path.write_bytes(good[:-10] + b"x" * 10)
    with pytest.raises(
        SeedsigError, match=r"does not match its recorded checksum.*offline.*seedsig download <accession> --cache"
    ):
        get_matrix(geo_server, cache, offline=True)
    assert get_matrix(geo_server, cache) == path
    assert path.read_bytes() == good
    assert geo_server.count(GSE201926_MATRIX) == 2


def test_offline_without_cache(geo_server, tmp_path):
    cache = tmp_path / "geo"
    with pytest.raises(SeedsigError) as err:
        fetch_geo_series(
            "geo:GSE201926",
            cache,
            geo_base=geo_server.geo_base,
            download_base=geo_server.download_base,
            offline=True,
            **FAST,
        )
    msg = str(err.value)
    assert (
        "not in the cache" in msg
        and str(cache / MATRIX_REL) in msg
        and "seedsig download geo:GSE201926" in msg
        and "offline" in msg
    )
    assert geo_server.total_requests() == 0
    with pytest.raises(
        SeedsigError,
        match=(
            r"platform annotation of GPL97: neither .*GPL97.annot.gz nor .*GPL97_family.soft.gz.*seedsig download "
            r"geo:GPL97"
        ),
    ):
        fetch_geo_platform("geo:GPL97", cache, geo_base=geo_server.geo_base, offline=True, **FAST)
    assert not cache.exists()


# --------------------------------------------------------------------------------------------- retries, resume,
# failures


def test_500_twice_then_ok(geo_server, tmp_path):
    geo_server.fault(GSE201926_MATRIX, status500_times=2)
    path = get_matrix(geo_server, tmp_path / "geo", retries=5)
    assert geo_server.count(GSE201926_MATRIX) == 3
    assert path.read_bytes() == source(geo_server, GSE201926_MATRIX)


def test_always_500_fails_and_leaves_nothing(geo_server, tmp_path):
    geo_server.fault(GSE201926_MATRIX, always500=True)
    cache = tmp_path / "geo"
    with pytest.raises(SeedsigError) as err:
        get_matrix(geo_server, cache, retries=3)
    msg = str(err.value)
    assert geo_server.url(GSE201926_MATRIX) in msg and "4 attempts" in msg and "HTTP 500" in msg
    assert "Check the network" in msg and "run again" in msg and str(cache / MATRIX_REL) in msg
    assert "\n" not in msg
    assert geo_server.count(GSE201926_MATRIX) == 4
    assert not cache.exists()  # every folder it created removed


def test_failure_keeps_existing_cache(geo_server, tmp_path):
    cache = tmp_path / "geo"
    cache.mkdir()
    (cache / "keep.txt").write_text("x")
    geo_server.fault(GSE201926_MATRIX, always500=True)
    with pytest.raises(SeedsigError):
        get_matrix(geo_server, cache, retries=0)
    assert files_in(cache) == [cache / "keep.txt"] and list(cache.iterdir()) == [cache / "keep.txt"]


def test_truncated_once_resumes_with_range(geo_server, tmp_path):
    geo_server.fault(GSE201926_COUNTS, truncate_first=1)
    cache = tmp_path / "geo"
    rel = "download/GSE201926/GSE201926_raw_counts_GRCh38.p13_NCBI.tsv.gz"
    path = fetch(geo_server.url(GSE201926_COUNTS), cache, rel, **FAST)
    data = source(geo_server, GSE201926_COUNTS)
    assert path.read_bytes() == data
    ranges = geo_server.ranges(GSE201926_COUNTS)
    assert ranges == [None, f"bytes={len(data) // 2}-"]  # the second request resumed after the half received
    assert files_in(cache) == sorted([path, path.with_name(path.name + ".sha256")])


def test_truncated_always_fails_and_leaves_nothing(geo_server, tmp_path):
    geo_server.fault(GSE201926_MATRIX, truncate_always=True)
    cache = tmp_path / "geo"
    with pytest.raises(
        SeedsigError,
        match=r"failed after 3 attempts \(last: the connection closed after \d+ of 3941 bytes \(truncated\)\)",
    ):
        get_matrix(geo_server, cache, retries=2)
    assert geo_server.count(GSE201926_MATRIX) == 3
    assert all(r is not None for r in geo_server.ranges(GSE201926_MATRIX)[1:])  # each retry resumed
    assert not cache.exists()


def test_slow_server_times_out(geo_server, tmp_path):
    geo_server.fault(GSE201926_MATRIX, slow=0.6)
    cache = tmp_path / "geo"
    with pytest.raises(
        SeedsigError, match=r"failed after 2 attempts \(last: no answer within 0.15 s \(timeout\)\).*Check the network"
    ):
        get_matrix(geo_server, cache, retries=1, timeout=0.15)
    assert geo_server.count(GSE201926_MATRIX) == 2
    assert not cache.exists()


def test_404_is_not_retried(geo_server, tmp_path):
    cache = tmp_path / "geo"
    with pytest.raises(NotFoundError) as err:
        fetch_geo_series(
            "geo:GSE999999",
            cache,
            geo_base=geo_server.geo_base,
            download_base=geo_server.download_base,
            retries=5,
            **{**FAST, "backoff": 5},
        )
    msg = str(err.value)
    assert "series matrix of geo:GSE999999 does not exist" in msg and "HTTP 404" in msg and "check the accession" in msg
    assert geo_server.url("/geo/series/GSE999nnn/GSE999999/matrix/GSE999999_series_matrix.txt.gz") in msg
    assert "geo:GSE999999-GPLxxx" in msg  # the hint for multi-platform series
    assert geo_server.total_requests() == 1
    assert not cache.exists()


def test_damaged_gzip_is_rejected(geo_server, tmp_path):
    data = bytearray(source(geo_server, GSE201926_MATRIX))
    data[-8] ^= 0xFF  # CRC of the gzip trailer
    bad = tmp_path / "bad.gz"
    bad.write_bytes(bytes(data))
    geo_server.add(GSE201926_MATRIX, bad)
    cache = tmp_path / "geo"
    with pytest.raises(SeedsigError, match=r"failed after 2 attempts \(last: damaged gzip"):
        get_matrix(geo_server, cache, retries=1)
    assert not cache.exists()
    html = tmp_path / "page.html"
    html.write_text("<html>Service unavailable</html>")
    geo_server.add(GSE201926_MATRIX, html)
    with pytest.raises(SeedsigError, match=r"did not send a gzip file \(it begins '<html>"):
        get_matrix(geo_server, cache, retries=3)
    assert not cache.exists()


def test_concurrent_fetch_downloads_once(geo_server, tmp_path):
    geo_server.fault(GSE201926_MATRIX, slow=0.3)
    cache = tmp_path / "geo"
    results: list[Path] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            results.append(get_matrix(geo_server, cache))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert not errors
    assert results == [cache / MATRIX_REL] * 3
    assert geo_server.count(GSE201926_MATRIX) == 1
    assert (cache / MATRIX_REL).read_bytes() == source(geo_server, GSE201926_MATRIX)
    assert not any(p.name.endswith((".lock", ".part")) for p in files_in(cache))


# --------------------------------------------------------------------------------------------- series and platforms


def test_fetch_geo_series_rnaseq_gets_ncbi_counts(geo_server, tmp_path):
    cache = tmp_path / "geo"
    out = fetch_geo_series(
        "geo:GSE201926", cache, geo_base=geo_server.geo_base, download_base=geo_server.download_base, **FAST
    )
    assert set(out) == {"series_matrix", "ncbi_counts"}
    assert out["ncbi_counts"] == cache / "download/GSE201926/GSE201926_raw_counts_GRCh38.p13_NCBI.tsv.gz"
    assert out["ncbi_counts"].read_bytes() == source(geo_server, GSE201926_COUNTS)
    info = series_matrix_info(out["series_matrix"])
    assert info.has_table and info.empty and info.platforms == ("GPL23227",)
    assert series_platform(out["series_matrix"], "geo:GSE201926") == "GPL23227"
    assert gzip.open(out["ncbi_counts"], "rt").readline().startswith("GeneID\tGSM6081173")
    # offline from the cache, no new requests; need_counts=False skips the counts
    n = geo_server.total_requests()
    again = fetch_geo_series(
        "geo:GSE201926",
        cache,
        geo_base=geo_server.geo_base,
        download_base=geo_server.download_base,
        offline=True,
        **FAST,
    )
    assert again == out and geo_server.total_requests() == n
    only = fetch_geo_series(
        "geo:GSE201926",
        tmp_path / "g2",
        geo_base=geo_server.geo_base,
        download_base=geo_server.download_base,
        need_counts=False,
        **FAST,
    )
    assert set(only) == {"series_matrix"}


def test_microarray_series_and_several_platforms(geo_server, tmp_path):
    rows = "\n".join(f'"{i}_at"\t{i}.5\t{i}.25' for i in range(5))
    header = (
        '!Series_title\t"x"\n!Series_geo_accession\t"GSE781"\n'
        '!Series_platform_id\t"GPL96"\n!Series_platform_id\t"GPL97"\n'
    )
    text = header + f'!series_matrix_table_begin\n"ID_REF"\t"GSM1"\t"GSM2"\n{rows}\n!series_matrix_table_end\n'
    mat = tmp_path / "m.txt.gz"
    mat.write_bytes(gzip.compress(text.encode()))
    geo_server.add("/geo/series/GSEnnn/GSE781/matrix/GSE781_series_matrix.txt.gz", mat)
    geo_server.add("/geo/series/GSEnnn/GSE781/matrix/GSE781-GPL97_series_matrix.txt.gz", mat)
    kw = {"geo_base": geo_server.geo_base, "download_base": geo_server.download_base, **FAST}
    with pytest.raises(
        SeedsigError, match=r"geo:GSE781 has 2 platforms \(GPL96, GPL97\): write geo:GSE781-GPL96 or geo:GSE781-GPL97"
    ):
        fetch_geo_series("geo:GSE781", tmp_path / "c", **kw)
    out = fetch_geo_series("geo:GSE781-GPL97", tmp_path / "c", **kw)
    assert set(out) == {"series_matrix"}  # a table with rows: no NCBI counts
    assert out["series_matrix"].name == "GSE781-GPL97_series_matrix.txt.gz"
    assert series_matrix_info(out["series_matrix"]).n_rows == 5
    assert series_platform(out["series_matrix"], "geo:GSE781-GPL97") == "GPL97"
    assert geo_server.total_requests() == 2  # no counts request


def test_platform_annot_and_soft_fallback(geo_server, tmp_path):
    cache = tmp_path / "geo"
    annot = fetch_geo_platform("geo:GPL97", cache, geo_base=geo_server.geo_base, **FAST)
    assert annot == cache / "platforms/GPLnnn/GPL97/annot/GPL97.annot.gz"
    assert annot.read_bytes() == source(geo_server, GPL97_ANNOT)
    # GPL96 has no .annot here (404): the platform's family SOFT is fetched instead
    soft_path = "/geo/platforms/GPLnnn/GPL96/soft/GPL96_family.soft.gz"
    soft_src = tmp_path / "GPL96_family.soft.gz"
    soft_src.write_bytes(
        gzip.compress(
            b"^PLATFORM = GPL96\n!platform_table_begin\nID\tGene Symbol\n1007_s_at\tDDR1\n!platform_table_end\n"
        )
    )
    geo_server.add(soft_path, soft_src)
    got = fetch_geo_platform("GPL96", cache, geo_base=geo_server.geo_base, **FAST)
    assert (
        got == cache / "platforms/GPLnnn/GPL96/soft/GPL96_family.soft.gz" and got.read_bytes() == soft_src.read_bytes()
    )
    annot96 = "/geo/platforms/GPLnnn/GPL96/annot/GPL96.annot.gz"
    assert geo_server.count(annot96) == 1 and geo_server.count(soft_path) == 1
    assert (
        fetch_geo_platform("GPL96", cache, geo_base=geo_server.geo_base, **FAST) == got
    )  # cached: no new request to the .annot
    assert fetch_geo_platform("GPL96", cache, geo_base=geo_server.geo_base, offline=True, **FAST) == got
    assert geo_server.count(annot96) == 1
    assert not (cache / "platforms/GPLnnn/GPL96/annot").exists()  # the 404 left no folder
    with pytest.raises(
        NotFoundError,
        match=(
            r"platform GPL1: GEO has neither .*GPL1.annot.gz nor .*GPL1_family.soft.gz \(HTTP 404\): check the "
            r"platform accession"
        ),
    ):
        fetch_geo_platform("GPL1", cache, geo_base=geo_server.geo_base, **FAST)


# --------------------------------------------------------------------------------------------- CLI


def test_cli_download(geo_server, tmp_path, capsys):
    cache = tmp_path / "geo"
    base = [
        "--cache",
        str(cache),
        "--geo-base",
        geo_server.geo_base,
        "--download-base",
        geo_server.download_base,
        "--no-progress",
    ]
    assert main(["download", "geo:GSE201926", "geo:GPL97", *base]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"geo:GSE201926 series_matrix: {cache / MATRIX_REL}",
        f"geo:GSE201926 ncbi_counts: {cache / 'download/GSE201926/GSE201926_raw_counts_GRCh38.p13_NCBI.tsv.gz'}",
        f"geo:GPL97 platform_annotation: {cache / 'platforms/GPLnnn/GPL97/annot/GPL97.annot.gz'}",
    ]
    assert geo_server.total_requests() == 3

    assert main(["download", "geo:GSE2034x", *base]) == 2
    err = capsys.readouterr().err
    assert (
        err
        == "seedsig: error: 'geo:GSE2034x' is not a GEO accession: write geo:GSE2034, geo:GSE781-GPL96 (one platform "
        "of a multi-platform series) or geo:GPL96.\n"
    )

    geo_server.fault(GPL97_ANNOT, always500=True)
    cache2 = tmp_path / "geo2"
    assert main(["download", "geo:GPL97", "--retries", "0", *base[:1], str(cache2), *base[2:]]) == 2
    err = capsys.readouterr().err
    assert err.startswith("seedsig: error: platform annotation GPL97.annot.gz: download from ") and err.count("\n") == 1
    assert "Traceback" not in err and "Check the network" in err
    assert not cache2.exists()
