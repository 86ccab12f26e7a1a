"""A local stand-in for GEO's HTTPS layout, for tests of :mod:`seedsig.ingest.download` and of the pipeline with
``geo:`` inputs: ``from helpers.geo_server import geo_server`` (a pytest fixture) or ``with serve_geo() as server:
...``.

A ``ThreadingHTTPServer`` on 127.0.0.1 (port 0) in a thread serves local files through a route table (request path,
with its query string for the NCBI download URL -> local file). It honours ``Range: bytes=N-`` (206 with
``Content-Range``), answers 404 for unknown paths, counts requests per path and records their ``Range`` headers, and
injects faults per path:

* ``status500_times=n`` - HTTP 500 for the first n requests, then the file
* ``always500=True`` - HTTP 500 every time
* ``truncate_first=n`` - for the first n requests send the full ``Content-Length`` but only half of the body, then close
* ``truncate_always=True`` - the same on every request
* ``slow=seconds`` - sleep before answering
* ``status=code`` - always answer this status (e.g. 404, 403) with an empty body

API: ``server.geo_base`` / ``server.download_base`` (the values for the config keys ``geo.base_url`` /
``geo.download_url``), ``server.add(path, file, **faults)`` (add or replace a route), ``server.fault(path, **faults)``
(change the faults of a route; also works for a path without a file, e.g. ``status=404``), ``server.route(path)`` (its
:class:`Route`: ``.file``, faults), ``server.count(path)``, ``server.ranges(path)`` (the ``Range`` header of each
request, None when absent), ``server.total_requests()``, ``server.reset_counts()``, ``server.url(path)``. Paths may be
given with or without a query string; query parameters are compared in any order. The default routes
(:data:`GSE201926_MATRIX`, :data:`GSE201926_COUNTS`, :data:`GPL97_ANNOT`,
:data:`GSE781_SOFT`) serve the real GEO files in ``../shared/datasets`` (the fixture skips when they are absent).
"""

from __future__ import annotations

import threading
import time
import urllib.parse
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest
from conftest import shared_file

GSE201926_MATRIX = "/geo/series/GSE201nnn/GSE201926/matrix/GSE201926_series_matrix.txt.gz"
GSE201926_COUNTS = (
    "/geo/download/?type=rnaseq_counts&acc=GSE201926&format=file&file=GSE201926_raw_counts_GRCh38.p13_NCBI.tsv.gz"
)
GPL97_ANNOT = "/geo/platforms/GPLnnn/GPL97/annot/GPL97.annot.gz"
GSE781_SOFT = "/geo/series/GSEnnn/GSE781/soft/GSE781_family.soft.gz"

DEFAULT_ROUTES = {
    GSE201926_MATRIX: ("gse201926_endometrial_rnaseq_ncbi_counts_tpm", "gse201926_series_matrix.txt.gz"),
    GSE201926_COUNTS: ("gse201926_endometrial_rnaseq_ncbi_counts_tpm", "gse201926_raw_counts.tsv.gz"),
    GPL97_ANNOT: ("geo_geoquery_extdata_gse781_gds507", "GPL97.annot.gz"),
    GSE781_SOFT: ("geo_geoquery_extdata_gse781_gds507", "GSE781_family.soft.gz"),
}


def norm_path(target: str) -> str:
    """A request target with its query parameters sorted (so routes match whatever the order)."""
    parts = urllib.parse.urlsplit(target)
    path = parts.path or "/"
    if not parts.query:
        return path
    return f"{path}?{urllib.parse.urlencode(sorted(urllib.parse.parse_qsl(parts.query, keep_blank_values=True)))}"


@dataclass
class Route:
    """One served path: its file (None: only a fault status) and its faults."""

    file: Path | None = None
    status500_times: int = 0
    always500: bool = False
    truncate_first: int = 0
    truncate_always: bool = False
    slow: float = 0.0
    status: int | None = None


@dataclass
class _State:
    routes: dict[str, Route] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    range_headers: dict[str, list[str | None]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: _State  # set on the subclass made per server

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - keep test output quiet
        pass

    def _send_status(self, code: int) -> None:
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        key = norm_path(self.path)
        st = self.state
        with st.lock:
            n = st.counts.get(key, 0)
            st.counts[key] = n + 1
            st.range_headers.setdefault(key, []).append(self.headers.get("Range"))
            route = st.routes.get(key)
        try:
            if route is None:
                return self._send_status(404)
            if route.slow:
                time.sleep(route.slow)
            if route.status is not None:
                return self._send_status(route.status)
            if route.always500 or n < route.status500_times:
                return self._send_status(500)
            if route.file is None:
                return self._send_status(404)
            self._send_file(route.file, truncate=route.truncate_always or n < route.truncate_first)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True

    def _send_file(self, file: Path, *, truncate: bool) -> None:
        data = file.read_bytes()
        size = len(data)
        start = 0
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes=") and rng[6:].split("-")[0].isdigit():
            start = int(rng[6:].split("-")[0])
            if start >= size:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        if truncate:
            self.send_header("Connection", "close")
        self.end_headers()
        if truncate:
            self.wfile.write(body[: max(1, len(body) // 2)])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


class GeoServer:
    """A running fake GEO server (see the module docstring for its API)."""

    def __init__(self, httpd: ThreadingHTTPServer, state: _State) -> None:
        self._httpd = httpd
        self._state = state
        host, port = httpd.server_address[:2]
        self.base_url = f"http://{host}:{port}"
        self.geo_base = f"{self.base_url}/geo"
        self.download_base = f"{self.base_url}/geo/download"

    def url(self, path: str) -> str:
        """The full URL of a route path."""
        return self.base_url + path

    def add(self, path: str, file: str | Path | None, **faults: object) -> None:
        """Serve ``file`` at ``path`` (replacing any route there) with the given faults."""
        with self._state.lock:
            self._state.routes[norm_path(path)] = Route(file=Path(file) if file is not None else None, **faults)  # type: ignore[arg-type]

    def fault(self, path: str, **faults: object) -> None:
        """Set faults on a route (keeping its file; a new path gets a route without a file)."""
        key = norm_path(path)
        with self._state.lock:
            route = self._state.routes.setdefault(key, Route())
            for k, v in faults.items():
                if not hasattr(route, k) or k == "file":
                    raise TypeError(f"unknown fault {k!r}")
                setattr(route, k, v)

    def route(self, path: str) -> Route:
        """The route of ``path`` (KeyError when none)."""
        with self._state.lock:
            return self._state.routes[norm_path(path)]

    def count(self, path: str) -> int:
        """How many requests ``path`` received."""
        with self._state.lock:
            return self._state.counts.get(norm_path(path), 0)

    def ranges(self, path: str) -> list[str | None]:
        """The ``Range`` header of each request to ``path`` (None when it had none)."""
        with self._state.lock:
            return list(self._state.range_headers.get(norm_path(path), []))

    def total_requests(self) -> int:
        """Requests received on every path."""
        with self._state.lock:
            return sum(self._state.counts.values())

    def reset_counts(self) -> None:
        """Forget the request counts and Range headers."""
        with self._state.lock:
            self._state.counts.clear()
            self._state.range_headers.clear()

    @property
    def routes(self) -> dict[str, Route]:
        """The route table (path -> :class:`Route`); edit it through :meth:`add` / :meth:`fault`."""
        return self._state.routes


@contextmanager
def serve_geo(routes: dict[str, str | Path] | None = None) -> Iterator[GeoServer]:
    """Run a fake GEO server with the given routes (path -> local file) until the block ends."""
    state = _State()
    handler = type("GeoHandler", (_Handler,), {"state": state})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    server = GeoServer(httpd, state)
    for path, file in (routes or {}).items():
        server.add(path, file)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def default_routes() -> dict[str, Path]:
    """The default routes to the real GEO files in ../shared/datasets (skips the test when they are absent)."""
    return {path: shared_file(*parts) for path, parts in DEFAULT_ROUTES.items()}


@pytest.fixture
def geo_server() -> Iterator[GeoServer]:
    """A fake GEO server with the default routes (fresh counts for each test)."""
    with serve_geo(default_routes()) as server:
        yield server
