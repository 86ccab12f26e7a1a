"""The report in a real browser: headless Chromium driven over the DevTools protocol (CDP).

One run of the example pipeline (shared with test_snakemake_report.py), then results/report.html opened from
file:// with the network blocked: no console error or exception, no request leaving the file, every image
decoded and not blank, a non-blank screenshot, the summary tables' numbers equal to the TSV outputs, and the
tables' sort and filter working. Without chromium the test skips, except in CI (``CI`` set by .ci/run), where a
missing browser is a failure.
"""

from __future__ import annotations

import base64
import io
import json
import math
import os
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.slow

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def chromium_path() -> str:
    found = os.environ.get("CHROMIUM") or next((p for p in map(shutil.which, CHROMIUM_NAMES) if p), None)
    if not found:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: CI (.ci/run) installs it with apt-get install chromium")
        pytest.skip("chromium is not installed (Debian: apt-get install chromium); the browser test runs in CI")
    return found


class CDP:
    """A minimal DevTools-protocol client over one page target's websocket."""

    def __init__(self, ws_url: str):
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=60, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []

    def call(self, method: str, timeout: float = 60, **params):
        self.next_id += 1
        mid = self.next_id
        self.ws.send(json.dumps({"id": mid, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == mid:
                if "error" in msg:
                    raise AssertionError(f"CDP {method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)
        raise AssertionError(f"CDP {method}: no answer in {timeout} s")

    def wait_event(self, method: str, timeout: float = 60) -> dict:
        seen = [e for e in self.events if e["method"] == method]
        if seen:
            return seen[0]
        deadline = time.monotonic() + timeout
        self.ws.settimeout(1)
        try:
            while time.monotonic() < deadline:
                try:
                    msg = json.loads(self.ws.recv())
                except Exception as exc:  # websocket timeout: keep waiting until the deadline
                    if type(exc).__name__ == "WebSocketTimeoutException":
                        continue
                    raise
                if "method" in msg:
                    self.events.append(msg)
                    if msg["method"] == method:
                        return msg
        finally:
            self.ws.settimeout(60)
        raise AssertionError(f"no {method} event in {timeout} s")

    def drain(self, seconds: float) -> None:
        """Collect the events of the next ``seconds`` (late console messages, requests)."""
        self.ws.settimeout(0.2)
        end = time.monotonic() + seconds
        try:
            while time.monotonic() < end:
                try:
                    msg = json.loads(self.ws.recv())
                except Exception as exc:
                    if type(exc).__name__ == "WebSocketTimeoutException":
                        continue
                    raise
                if "method" in msg:
                    self.events.append(msg)
        finally:
            self.ws.settimeout(60)

    def js(self, expression: str):
        """Evaluate in the page (promises awaited) and return the value; a JS exception fails the test."""
        res = self.call("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in res:
            raise AssertionError(f"JS error: {res['exceptionDetails']}")
        return res["result"].get("value")

    def close(self):
        self.ws.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Chromium headless, network off (every host name resolves to nothing), one page target."""
    exe = chromium_path()
    profile = tmp_path_factory.mktemp("chromium-profile")
    args = [
        exe,
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--remote-debugging-port=0",
        f"--user-data-dir={profile}",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--hide-scrollbars",
        "--window-size=1200,1500",
        "about:blank",
    ]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    port_file = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 30
    while not (port_file.is_file() and len(port_file.read_text().split()) >= 2):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"chromium did not start: {proc.stderr.read()[-2000:]}")
        time.sleep(0.1)
    port = int(port_file.read_text().split()[0])
    import urllib.request

    # the page targets, from the DevTools HTTP endpoint on this machine (not the network the page sees)
    targets = []
    while time.monotonic() < deadline and not targets:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            targets = [t for t in json.load(r) if t.get("type") == "page"]
        if not targets:
            time.sleep(0.1)
    assert targets, "chromium has no page target"
    cdp = CDP(targets[0]["webSocketDebuggerUrl"])
    try:
        yield cdp
    finally:
        cdp.close()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def page(browser, example_run):
    """results/report.html of the example run loaded in the browser; returns (cdp, workdir, file URL)."""
    wd, _ = example_run
    html = (wd / "results" / "report.html").resolve()
    url = html.as_uri()
    cdp = browser
    for domain in ("Runtime", "Log", "Network", "Page"):
        cdp.call(f"{domain}.enable")
    cdp.call("Emulation.setDeviceMetricsOverride", width=1200, height=1500, deviceScaleFactor=1, mobile=False)
    cdp.events.clear()
    nav = cdp.call("Page.navigate", url=url)
    assert not nav.get("errorText"), nav
    cdp.wait_event("Page.loadEventFired", timeout=120)
    cdp.drain(1.0)
    return cdp, wd, url


def test_no_console_errors_or_exceptions(page):
    cdp, _, _ = page
    errors = []
    for e in cdp.events:
        m, p = e["method"], e.get("params", {})
        if m == "Runtime.exceptionThrown":
            errors.append(
                p["exceptionDetails"].get("exception", {}).get("description") or p["exceptionDetails"].get("text")
            )
        elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", [])))
        elif m == "Log.entryAdded" and p["entry"].get("level") == "error":
            errors.append(f"{p['entry'].get('source')}: {p['entry'].get('text')} {p['entry'].get('url', '')}")
    assert not errors, errors


def test_no_request_leaves_the_file(page):
    cdp, _, url = page
    requests = [e["params"]["request"]["url"] for e in cdp.events if e["method"] == "Network.requestWillBeSent"]
    assert url in requests, requests  # the page itself was seen: the Network domain was listening
    outside = [u for u in requests if u != url and not u.startswith("data:")]
    assert not outside, f"the report requests resources outside itself: {outside[:10]}"
    failed = [e["params"] for e in cdp.events if e["method"] == "Network.loadingFailed"]
    assert not failed, failed


IMAGES_JS = r"""
(async () => {
  function blank(ctx, w, h) {
    const d = ctx.getImageData(0, 0, w, h).data;
    for (let i = 4; i < d.length; i += 4) {
      if (d[i] !== d[0] || d[i + 1] !== d[1] || d[i + 2] !== d[2] || d[i + 3] !== d[3]) return false;
    }
    return true;
  }
  function draw(img, w, h) {
    const c = document.createElement('canvas');
    c.width = Math.max(1, Math.min(w, 4000)); c.height = Math.max(1, Math.min(h, 4000));
    const ctx = c.getContext('2d');
    ctx.drawImage(img, 0, 0, c.width, c.height);
    return blank(ctx, c.width, c.height);
  }
  const out = {images: [], svgs: []};
  for (const img of document.images) {
    try { await img.decode(); } catch (e) {}
    const r = {src: img.src.slice(0, 60), alt: img.alt, complete: img.complete, w: img.naturalWidth,
               h: img.naturalHeight, blank: null, error: null};
    if (img.complete && img.naturalWidth > 0) {
      try { r.blank = draw(img, img.naturalWidth, img.naturalHeight); } catch (e) { r.error = String(e); }
    }
    out.images.push(r);
  }
  const drawable = 'path,rect,circle,ellipse,line,polyline,polygon,text,use,image';
  for (const svg of document.querySelectorAll('svg')) {
    if (svg.parentElement && svg.parentElement.closest('svg')) continue;  // nested: part of its parent
    const box = svg.getBoundingClientRect();
    const r = {id: svg.id, n_drawable: svg.querySelectorAll(drawable).length, w: box.width, h: box.height,
               bbox: null, blank: null, error: null};
    try { const b = svg.getBBox(); r.bbox = [b.width, b.height]; } catch (e) { r.error = String(e); }
    try {
      const xml = new XMLSerializer().serializeToString(svg);
      const im = new Image();
      im.src = 'data:image/svg+xml;base64,' + btoa(unescape(encodeURIComponent(xml)));
      await im.decode();
      r.blank = draw(im, Math.ceil(box.width) || 300, Math.ceil(box.height) || 150);
    } catch (e) { r.error = String(e); }
    out.svgs.push(r);
  }
  return out;
})()
"""


def test_every_image_is_decoded_and_not_blank(page):
    cdp, _, _ = page
    res = cdp.js(IMAGES_JS)
    figures = res["images"] + res["svgs"]
    assert figures, "the report has no figure"
    for r in res["images"]:
        assert r["complete"] and r["w"] > 0 and r["h"] > 0, f"image not decoded: {r}"
        assert r["error"] is None and r["blank"] is False, f"blank or unreadable image: {r}"
    for r in res["svgs"]:
        assert r["n_drawable"] > 0 and r["w"] > 0 and r["h"] > 0, f"empty inline SVG: {r}"
        assert r["bbox"] and r["bbox"][0] > 0 and r["bbox"][1] > 0, f"inline SVG draws nothing: {r}"
        assert r["error"] is None and r["blank"] is False, f"inline SVG rasterizes blank: {r}"


def decode_png(data: bytes) -> np.ndarray:
    try:
        from PIL import Image

        return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    except ImportError:
        import matplotlib.pyplot as plt

        return np.asarray(plt.imread(io.BytesIO(data), format="png"))[..., :3]


def test_screenshot_is_not_blank(page, tmp_path):
    cdp, _, _ = page
    cdp.js("window.scrollTo(0, 0)")
    shot = cdp.call("Page.captureScreenshot", format="png")
    data = base64.b64decode(shot["data"])
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    (tmp_path / "report.png").write_bytes(data)
    px = decode_png(data)
    assert px.shape[0] >= 500 and px.shape[1] >= 500, px.shape
    flat = px.reshape(-1, px.shape[-1])
    colours = np.unique(flat[:: max(1, len(flat) // 200_000)], axis=0)
    assert len(colours) > 20, f"the screenshot is (nearly) one colour: {len(colours)} colours"
    # text on a light page: a good share of the pixels are not the background
    background = np.all(flat == flat[0], axis=1).mean()
    assert background < 0.995, background


# -------------------------------------------------------------------------------- summary tables vs the TSVs
ROWS_JS = r"""
((id) => {
  const t = document.getElementById(id);
  if (!t) return null;
  return Array.from(t.querySelectorAll('tbody tr, tr')).filter(tr => tr.querySelector('td[data-col]')).map(tr => ({
    attrs: Object.fromEntries(Array.from(tr.attributes).filter(a => a.name.startsWith('data-'))
                               .map(a => [a.name.slice(5), a.value])),
    cells: Array.from(tr.querySelectorAll('td[data-col]'))
                .map(td => ({col: td.dataset.col, value: td.dataset.value, text: td.textContent.trim()})),
    visible: tr.offsetParent !== null && getComputedStyle(tr).display !== 'none',
  }));
})
"""

CORR_KEYS = {
    "cohort": None,
    "method": "method",
    "signature-a": "signature_a",
    "signature-b": "signature_b",
    "statistic": "statistic",
}
SURV_KEYS = {"cohort": None, "method": "method", "signature": "signature", "endpoint": "endpoint", "model": "model"}
# pooled rows (results/meta/*.tsv, pooling random_dl): the pooled estimate, its CI and p, k cohorts in the n column;
# the other cells of a pooled row are empty
META_COLUMN = {"r": "estimate", "hr_per_sd": "estimate", "ci_low": "ci_low", "ci_high": "ci_high", "p": "p", "n": "k"}


def parse_value(v: str | None) -> float:
    if v is None or v.strip() in ("", "NA", "NaN", "nan"):
        return math.nan
    return float(v)


def shown_matches(value: float, text: str) -> bool:
    """Is ``text`` the value rounded as shown (same decimals / significant digits; NA for missing; '<x' bounds)?"""
    t = text.replace("\u2212", "-").replace("\u00a0", " ").strip()
    t = t[len("k = ") :] if t.startswith("k = ") else t  # pooled rows: number of cohorts
    if not math.isfinite(value):
        return t in ("NA", "", "\u2014", "-", "n/a")
    if t.startswith("<"):
        return value < float(t[1:]) or f"{value:.0e}" == t[1:]
    if t.startswith(">"):
        return value > float(t[1:])
    try:
        shown = float(t)
    except ValueError:
        return False
    if "e" in t.lower():
        mant = t.lower().split("e")[0]
        digits = len(mant.split(".")[1]) if "." in mant else 0
        return f"{value:.{digits}e}" == f"{shown:.{digits}e}"
    digits = len(t.split(".")[1]) if "." in t else 0
    return f"{value:.{digits}f}" == f"{shown:.{digits}f}" or (digits == 0 and float(round(value)) == shown)


def check_rows(rows, key_attrs, tables, what):
    assert rows, f"{what}: the table has no data row"
    for row in rows:
        a = row["attrs"]
        cohort = a.get("cohort")
        assert cohort, (what, a)
        pooled = cohort == "pooled"
        df = tables("meta" if pooled else cohort)
        sel = np.ones(len(df), bool)
        for attr, col in key_attrs.items():
            if col is None:
                continue
            assert attr in a, (what, attr, a)
            want = "primary" if pooled and col == "endpoint" and a[attr] not in set(df[col]) else a[attr]
            sel &= (df[col].astype(str) == want).to_numpy()
        if pooled:
            sel &= (df["pooling"] == "random_dl").to_numpy()
        hits = df[sel]
        assert len(hits) == 1, (what, a, len(hits))
        src, exact = hits.iloc[0], df.attrs["round_trip"].loc[hits.index[0]]
        for cell in row["cells"]:
            col = META_COLUMN.get(cell["col"]) if pooled else cell["col"]
            # the TSV's number parsed exactly (round trip), or as pandas' default parser reads it (it can be one
            # unit in the last place off for long decimals): either is the TSV's value
            candidates = {float(v) for v in (src.get(col), exact.get(col)) if col is not None and pd.notna(v)}
            got = parse_value(cell["value"])
            if not candidates:
                assert math.isnan(got) and shown_matches(math.nan, cell["text"]), (what, a, cell, "expected NA")
                continue
            assert got in candidates, (what, a, cell, sorted(candidates))
            assert shown_matches(got, cell["text"]), (what, a, cell, got)


def _tables(wd: Path, name: str):
    cache: dict[str, pd.DataFrame] = {}

    def get(cohort: str) -> pd.DataFrame:
        if cohort not in cache:
            path = wd / "results" / ("meta" if cohort == "meta" else cohort) / name
            cache[cohort] = pd.read_csv(path, sep="\t")
            cache[cohort].attrs["round_trip"] = pd.read_csv(path, sep="\t", float_precision="round_trip")
        return cache[cohort]

    return get


def test_summary_correlations_equal_the_tsv(page):
    cdp, wd, _ = page
    rows = cdp.js(ROWS_JS + "('summary-correlations')")
    assert rows is not None, "no <table id='summary-correlations'> in the report"
    check_rows(rows, CORR_KEYS, _tables(wd, "correlations.tsv"), "summary-correlations")
    cols = {c["col"] for r in rows for c in r["cells"]}
    assert {"r", "ci_low", "ci_high", "p_random_null", "r_without_shared"} <= cols, cols


def test_summary_survival_equals_the_tsv(page):
    cdp, wd, _ = page
    rows = cdp.js(ROWS_JS + "('summary-survival')")
    assert rows is not None, "no <table id='summary-survival'> in the report"
    check_rows(rows, SURV_KEYS, _tables(wd, "survival.tsv"), "summary-survival")
    cols = {c["col"] for r in rows for c in r["cells"]}
    assert {"hr_per_sd", "ci_low", "ci_high", "p", "p_random_null", "events"} <= cols, cols


# ------------------------------------------------------------------------------------------- interactivity
def click(cdp: CDP, selector: str) -> None:
    """A real mouse click (Input.dispatchMouseEvent) in the middle of the element."""
    box = cdp.js(
        f"(() => {{ const e = document.querySelector({json.dumps(selector)}); if (!e) return null;"
        " e.scrollIntoView({block: 'center'});"
        " const r = e.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()"
    )
    assert box, f"nothing matches {selector}"
    x, y = box
    for kind in ("mousePressed", "mouseReleased"):
        cdp.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)


def column_values(cdp: CDP, table: str, col: str) -> list[float]:
    rows = cdp.js(ROWS_JS + f"({json.dumps(table)})")
    out = []
    for r in rows:
        if not r["visible"]:
            continue
        cell = next((c for c in r["cells"] if c["col"] == col), None)
        out.append(parse_value(cell["value"]) if cell else math.nan)
    return out


def header_selector(cdp: CDP, table: str, col: str) -> str | None:
    """A selector for the header cell above the cells ``data-col=col`` of the table (marked for the click)."""
    return cdp.js(
        f"""(() => {{
        const t = document.getElementById({json.dumps(table)});
        const td = t && t.querySelector('tbody td[data-col={col}]');
        if (!td || !t.tHead) return null;
        const th = t.tHead.rows[t.tHead.rows.length - 1].cells[td.cellIndex];
        if (!th) return null;
        th.setAttribute('data-test-sort', {json.dumps(col)});
        return '#{table} th[data-test-sort={col}]';
      }})()"""
    )


def test_sorting_a_summary_column_orders_rows_numerically(page):
    cdp, _, _ = page
    table, col = "summary-correlations", "r"
    sel = header_selector(cdp, table, col)
    assert sel, f"no header above the {col} cells of #{table}"
    seen = []
    for _ in range(2):
        click(cdp, sel)
        vals = [v for v in column_values(cdp, table, col) if not math.isnan(v)]
        assert len(vals) > 2
        asc, desc = vals == sorted(vals), vals == sorted(vals, reverse=True)
        assert asc or desc, f"clicking the {col} header did not sort numerically: {vals}"
        seen.append("asc" if asc and not desc else "desc")
    assert seen[0] != seen[1], f"a second click should reverse the order: {seen}"


def test_filter_box_hides_non_matching_rows(page):
    cdp, _, _ = page
    table = "summary-correlations"
    sel = cdp.js(
        f"""(() => {{
        const t = document.getElementById({json.dumps(table)});
        const cands = Array.from(document.querySelectorAll(
          'input[data-filter], input[data-table], input.table-filter, input[type=search]'));
        const mine = cands.find(i => [i.dataset.filter, i.dataset.table, i.getAttribute('aria-controls')]
                                  .includes({json.dumps(table)}))
          || cands.find(i => t && (t.parentElement.contains(i)
                                   || (t.previousElementSibling && t.previousElementSibling.contains(i))));
        if (!mine) return null;
        mine.id = mine.id || 'seedsig-test-filter';
        return '#' + mine.id;
      }})()"""
    )
    assert sel, f"no filter box for #{table}"
    rows = cdp.js(ROWS_JS + f"({json.dumps(table)})")
    target = rows[0]["attrs"]["signature-b"]
    click(cdp, sel)
    cdp.call("Input.insertText", text=target)
    cdp.drain(0.3)
    after = cdp.js(ROWS_JS + f"({json.dumps(table)})")
    texts = cdp.js(
        f"Array.from(document.querySelectorAll('#{table} tr'))"
        ".filter(tr => tr.querySelector('td[data-col]')).map(tr => tr.textContent)"
    )
    shown = [r for r, t in zip(after, texts) if r["visible"]]
    hidden = [r for r, t in zip(after, texts) if not r["visible"]]
    assert shown and all(target.lower() in t.lower() for r, t in zip(after, texts) if r["visible"]), (
        "a shown row does not match the filter"
    )
    assert hidden, "the filter hid nothing"
    assert all(target.lower() not in t.lower() for r, t in zip(after, texts) if not r["visible"]), (
        "a matching row was hidden"
    )
    # clearing the box shows every row again
    cdp.js(f"(() => {{ const i = document.querySelector({json.dumps(sel)}); i.select(); }})()")
    cdp.call("Input.dispatchKeyEvent", type="keyDown", key="Backspace", code="Backspace", windowsVirtualKeyCode=8)
    cdp.call("Input.dispatchKeyEvent", type="keyUp", key="Backspace", code="Backspace", windowsVirtualKeyCode=8)
    cdp.drain(0.3)
    assert all(r["visible"] for r in cdp.js(ROWS_JS + f"({json.dumps(table)})"))
