"""Download remote files into a local cache, and work offline from it (the GEO layer is :mod:`seedsig.ingest.download`).

Cache layout (``cache_dir`` = config ``geo.cache``): each file is stored at the path it has below ``geo_base``
(``series/GSE2nnn/GSE2034/matrix/GSE2034_series_matrix.txt.gz``, ``platforms/GPLnnn/GPL96/annot/GPL96.annot.gz``), the
NCBI counts at ``download/{GSE}/{GSE}_raw_counts_GRCh38.p13_NCBI.tsv.gz``, so a mirror (another ``geo_base``) shares the
cache. Next to each file a sidecar ``{file}.sha256`` holds its SHA-256 in ``sha256sum`` format (``<hex>  <name>``;
``sha256sum -c`` checks it). A file counts as cached only when its sidecar exists and matches: then it is used
without the network (offline works); a mismatch means the file is corrupt and it is downloaded again (offline: an
error). While a download runs, the cache also holds ``{file}.part`` (the bytes received so far) and ``{file}.lock``
(an ``fcntl`` lock, so concurrent Snakemake jobs fetching the same file wait for one download); both are removed
when the fetch ends, and a failed fetch leaves nothing (nor the empty folders it created).

Downloads use only the standard library (``urllib.request``): an attempt cut short (fewer bytes than
``Content-Length``, a reset connection, a timeout) resumes with an HTTP ``Range`` request; 5xx answers, connection
errors, timeouts and truncated bodies are retried with exponential backoff (``backoff * 2**attempt`` seconds, at most
:data:`MAX_BACKOFF`); 404/403 are not retried. A ``.gz`` file is decompressed completely (CRC check) before it is
accepted. Every failure raises :class:`~seedsig.core.errors.SeedsigError` with one message naming the file, the URL, the
cache path and what to do.
"""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import http.client
import logging
import os
import re
import socket
import sys
import time
import urllib.error
import urllib.request
import zlib
from pathlib import Path

from seedsig import __version__
from seedsig.core.errors import SeedsigError
from seedsig.core.progress import MININTERVAL, log_stream

log = logging.getLogger("seedsig")

MAX_BACKOFF = 60.0  # seconds: cap of the wait between two attempts
CHUNK = 1 << 16
USER_AGENT = f"seedsig/{__version__} (Python urllib)"


class NotFoundError(SeedsigError):
    """The server answered 404/403/410 (the accession or file does not exist there); never retried."""

    def __init__(self, message: str, url: str, status: int) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


# ----------------------------------------------------------------------------------------------------- the cache


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _recorded_sha(path: Path) -> str | None:
    try:
        text = _sidecar(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    h = text.split()[0].lower() if text else ""
    return h if re.fullmatch(r"[0-9a-f]{64}", h) else None


def _cache_state(path: Path) -> str:
    """``ok`` (file and matching sidecar), ``missing`` (no file or no sidecar) or ``corrupt`` (checksum mismatch)."""
    if not path.is_file():
        return "missing"
    recorded = _recorded_sha(path)
    if recorded is None:
        return "missing"
    try:
        return "ok" if _sha256(path) == recorded else "corrupt"
    except OSError:
        return "corrupt"


def _cache_path(cache_dir: str | os.PathLike, relpath: str) -> Path:
    rel = Path(relpath)
    if rel.is_absolute() or not rel.parts or ".." in rel.parts:
        raise SeedsigError(f"cache path '{relpath}' must be a relative path inside the cache directory (no '..').")
    return Path(cache_dir) / rel


def cached(cache_dir: str | os.PathLike, relpath: str) -> Path | None:
    """The cached file at ``cache_dir/relpath`` when it is present and matches its recorded SHA-256, else None."""
    path = _cache_path(cache_dir, relpath)
    return path if _cache_state(path) == "ok" else None


def _write_sidecar(path: Path, digest: str) -> None:
    side = _sidecar(path)
    tmp = side.with_name(side.name + f".tmp{os.getpid()}")
    tmp.write_text(f"{digest}  {path.name}\n", encoding="utf-8")
    os.replace(tmp, side)


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _make_dirs(path: Path, created: list[Path]) -> None:
    """Create ``path`` and its missing parents, recording each folder made in ``created`` (deepest first)."""
    missing: list[Path] = []
    p = path
    while not p.exists() and p.parent != p:
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        try:
            d.mkdir()
        except FileExistsError:
            continue
        created.insert(0, d)


def _remove_empty(dirs: list[Path]) -> None:
    for d in dirs:  # deepest first
        try:
            d.rmdir()
        except OSError:
            pass


class _Lock:
    """An exclusive ``fcntl.flock`` on ``{file}.lock``; the lock file is removed on release.

    Removing a lock file is safe because a waiter that obtains the lock checks that the path still names the file it
    locked (same inode) and otherwise locks the new file.
    """

    def __init__(self, path: Path, created_dirs: list[Path]) -> None:
        self.path = path
        self.created_dirs = created_dirs
        self.fd: int | None = None

    def __enter__(self) -> "_Lock":
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except FileNotFoundError:  # another job removed the (empty) folder after a failure: make it again
                _make_dirs(self.path.parent, self.created_dirs)
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                if os.fstat(fd).st_ino == os.stat(self.path).st_ino:
                    self.fd = fd
                    return self
            except FileNotFoundError:
                pass
            except BaseException:
                os.close(fd)
                raise
            os.close(fd)

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            _unlink(self.path)
            os.close(self.fd)  # releases the lock
            self.fd = None


# ----------------------------------------------------------------------------------------------------- fetching


class _Retry(Exception):
    """An attempt failed in a way worth retrying (``restart``: discard the bytes received)."""

    def __init__(self, reason: str, *, restart: bool = False) -> None:
        super().__init__(reason)
        self.restart = restart


def _progress_bar(total: int | None, initial: int, desc: str, enabled: bool):
    from tqdm import tqdm

    stream = log_stream()
    return tqdm(
        total=total,
        initial=initial,
        desc=desc,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        file=stream if stream is not None else sys.stderr,
        disable=not enabled,
        mininterval=MININTERVAL,
        ascii=True,
        ncols=100,
        leave=True,
    )


def _content_range_start(value: str | None) -> int | None:
    m = re.match(r"\s*bytes\s+(\d+)-\d+/(?:\d+|\*)", value or "")
    return int(m.group(1)) if m else None


def _attempt(url: str, part: Path, timeout: float, progress: bool, desc: str) -> None:
    """One HTTP request: append to ``part`` (resuming with ``Range`` from its size). Raises :class:`_Retry`,
    :class:`urllib.error.HTTPError` (not retryable) or returns when the whole body arrived."""
    offset = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    req = urllib.request.Request(url, headers=headers)
    try:
        resp = urllib.request.urlopen(req, timeout=timeout)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 416 and offset:
            raise _Retry("the server refused to resume (HTTP 416)", restart=True) from None
        if exc.code >= 500 or exc.code in (408, 425, 429):
            raise _Retry(f"HTTP {exc.code} {exc.reason}") from None
        raise
    except urllib.error.URLError as exc:
        raise _Retry(f"cannot connect ({exc.reason})") from None
    except (TimeoutError, socket.timeout):
        raise _Retry(f"no answer within {timeout:g} s (timeout)") from None
    except (ConnectionError, http.client.HTTPException, OSError) as exc:
        raise _Retry(f"connection failed ({exc.__class__.__name__}: {exc})") from None
    with resp:
        status = getattr(resp, "status", 200)
        length = resp.headers.get("Content-Length")
        body_len = int(length) if length and length.isdigit() else None
        if offset and status == 206:
            start = _content_range_start(resp.headers.get("Content-Range"))
            if start != offset:
                raise _Retry(
                    f"the server resumed at the wrong byte ({resp.headers.get('Content-Range')})", restart=True
                )
            mode = "ab"
        else:
            offset, mode = 0, "wb"  # a full answer (the server ignored Range, or a first attempt)
        total = offset + body_len if body_len is not None else None
        received = offset
        bar = _progress_bar(total, offset, desc, progress)
        try:
            with open(part, mode) as out:
                while True:
                    try:
                        block = resp.read(CHUNK)
                    except http.client.IncompleteRead as exc:
                        out.write(exc.partial)
                        received += len(exc.partial)
                        raise _Retry(f"the connection closed after {received} of {total} bytes") from None
                    except (OSError, http.client.HTTPException) as exc:  # timeouts, resets, TLS errors while reading
                        reason = (
                            "timeout" if isinstance(exc, (TimeoutError, socket.timeout)) else exc.__class__.__name__
                        )
                        raise _Retry(f"the connection broke after {received} bytes ({reason})") from None
                    if not block:
                        break
                    out.write(block)
                    received += len(block)
                    bar.update(len(block))
        finally:
            bar.close()
        if total is not None and received < total:
            raise _Retry(f"the connection closed after {received} of {total} bytes (truncated)")


def _check_gzip(path: Path) -> str | None:
    """None when ``path`` is a complete gzip stream (every member decompressed, CRCs checked), else the reason."""
    try:
        with open(path, "rb") as fh:
            magic = fh.read(2)
        if magic != b"\x1f\x8b":
            return "not gzip"
        with gzip.open(path, "rb") as fh:
            while fh.read(1 << 20):
                pass
    except (OSError, EOFError, zlib.error) as exc:
        return f"damaged gzip ({exc or exc.__class__.__name__})"
    return None


def _offline_hint(accession: str | None, cache_dir: Path) -> str:
    what = f"geo:{accession}" if accession else "<accession>"
    return (
        f"run `seedsig download {what} --cache <dir>` on a machine with network and copy that folder to {cache_dir} "
        "(or set geo.offline: false)"
    )


def fetch(
    url: str,
    cache_dir: str | os.PathLike,
    relpath: str,
    *,
    retries: int = 5,
    backoff: float = 1.0,
    timeout: float = 60,
    offline: bool = False,
    progress: bool = True,
    what: str | None = None,
    accession: str | None = None,
) -> Path:
    """Download ``url`` to ``cache_dir/relpath`` (or return the cached copy) and return its path.

    ``retries`` attempts follow the first, ``backoff * 2**attempt`` seconds apart (at most :data:`MAX_BACKOFF`);
    ``timeout`` is the seconds without data after which an attempt is abandoned. ``offline=True`` never uses the
    network. ``what`` names the file in messages (default: its file name) and ``accession`` fills the hint of the
    offline error. 404/403 raise :class:`NotFoundError` at once; every other failure a :class:`SeedsigError`. A failed
    fetch leaves nothing in the cache.
    """
    cache_dir = Path(cache_dir)
    dest = _cache_path(cache_dir, relpath)
    what = what or dest.name
    state = _cache_state(dest)
    if state == "ok":
        log.debug("%s: cached at %s", what, dest)
        return dest
    if offline:
        if state == "corrupt":
            raise SeedsigError(
                f"{what}: the cached file {dest} does not match its recorded checksum ({_sidecar(dest).name}); it is "
                "damaged "
                f"and offline mode cannot download it again from {url}: delete it and "
                f"{_offline_hint(accession, cache_dir)}."
            )
        raise SeedsigError(
            f"{what} is not in the cache ({dest}) and offline mode is on (no download from {url}): "
            f"{_offline_hint(accession, cache_dir)}."
        )

    part = dest.with_name(dest.name + ".part")
    created: list[Path] = []
    try:
        _make_dirs(dest.parent, created)
        with _Lock(dest.with_name(dest.name + ".lock"), created):
            try:
                state = _cache_state(dest)  # another job may have downloaded it while we waited for the lock
                if state == "ok":
                    return dest
                if state == "corrupt":
                    log.warning(
                        "%s: cached file %s does not match its recorded checksum: downloading it again", what, dest
                    )
                for stale in (dest, _sidecar(dest), part):
                    _unlink(stale)
                _download(
                    url, dest, part, what=what, retries=retries, backoff=backoff, timeout=timeout, progress=progress
                )
                return dest
            except BaseException:  # leave nothing behind (still holding the lock: no other job is writing here)
                _unlink(part)
                if _cache_state(dest) != "ok":
                    _unlink(dest)
                    _unlink(_sidecar(dest))
                raise
    except OSError as exc:
        _remove_empty(created)
        raise SeedsigError(
            f"{what}: cannot write {dest} ({exc}); check that the cache directory {cache_dir} (config geo.cache) is "
            "writable "
            "and has space, then run again."
        ) from None
    except BaseException:
        _remove_empty(created)
        raise


def _download(
    url: str, dest: Path, part: Path, *, what: str, retries: int, backoff: float, timeout: float, progress: bool
) -> None:
    """Download into ``part`` with retries and resume, verify, then move it to ``dest`` and record its checksum."""
    attempts = max(0, int(retries)) + 1
    failures: list[str] = []
    log.info("downloading %s: %s -> %s", what, url, dest)
    for attempt in range(attempts):
        if attempt:
            wait = min(backoff * 2 ** (attempt - 1), MAX_BACKOFF)
            log.warning(
                "%s: attempt %d/%d failed (%s); retrying in %.3g s", what, attempt, attempts, failures[-1], wait
            )
            time.sleep(max(0.0, wait))
        try:
            _attempt(url, part, timeout, progress, dest.name)
        except _Retry as exc:
            failures.append(str(exc))
            if exc.restart:
                _unlink(part)
            continue
        except urllib.error.HTTPError as exc:
            if exc.code in (403, 404, 410):
                raise NotFoundError(
                    f"{what} does not exist at {url} (HTTP {exc.code} {exc.reason}): check the accession and the base "
                    "URL "
                    f"(config geo.base_url / geo.download_url); nothing was written to {dest}.",
                    url,
                    exc.code,
                ) from None
            raise SeedsigError(
                f"{what}: the server answered HTTP {exc.code} {exc.reason} for {url}; check the URL (config "
                "geo.base_url / geo.download_url), then run again."
            ) from None
        if dest.name.endswith(".gz"):
            bad = _check_gzip(part)
            if bad == "not gzip":
                with open(part, "rb") as fh:
                    head = fh.read(80).decode("utf-8", "replace").strip().splitlines()
                raise SeedsigError(
                    f"{what}: {url} did not send a gzip file (it begins '{head[0] if head else ''}'); check the "
                    "accession and the base URL "
                    "(config geo.base_url / geo.download_url) - a proxy or an error page may have answered."
                )
            if bad:
                failures.append(f"{bad}: the download was damaged")
                _unlink(part)
                continue
        digest = _sha256(part)
        os.replace(part, dest)
        _write_sidecar(dest, digest)
        log.info("%s: %s (%d bytes, sha256 %s)", what, dest, dest.stat().st_size, digest[:12])
        return
    raise SeedsigError(
        f"{what}: download from {url} failed after {attempts} attempt{'s' if attempts > 1 else ''} (last: "
        f"{failures[-1]}); nothing was "
        f"written to {dest}. Check the network (or set geo.base_url / geo.download_url to a reachable mirror) and run "
        "again."
    )
