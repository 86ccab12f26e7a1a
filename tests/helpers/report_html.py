"""The report HTML parsed for tests: its tables (`Parse`, `parse`), cells checked against the TSVs, the figures and that
the file is standalone (shared by tests/unit/test_report.py and tests/workflow/test_report_pipeline.py)."""

import base64
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

from seedsig.report.text import data_value

SVG_URI = "data:image/svg+xml;base64,"


class Parse(HTMLParser):
    """Images, links, the rows of the two summary tables (attributes and data-col cells) and the tables."""

    def __init__(self):
        super().__init__()
        self.imgs, self.urls, self.tables, self.rows = [], [], [], {"summary-correlations": [], "summary-survival": []}
        self._table, self._row, self._cell = None, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.imgs.append((a.get("src", ""), a.get("data-file", "")))
        for k in ("src", "href"):
            if a.get(k) and not a[k].startswith(("#", "data:")):
                self.urls.append(a[k])
        if tag == "table":
            self.tables.append(a)
            self._table = a.get("id")
        elif tag == "tr" and self._table in self.rows and "data-cohort" in a:
            self._row = {"attrs": a, "cells": {}}
            self.rows[self._table].append(self._row)
        elif tag == "td" and self._row is not None and "data-col" in a:
            self._cell = [a["data-col"], a["data-value"], ""]

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[2] += data

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self._row["cells"][self._cell[0]] = (self._cell[1], self._cell[2])
            self._cell = None
        elif tag == "tr":
            self._row = None
        elif tag == "table":
            self._table = None


def parse(html: str) -> Parse:
    p = Parse()
    p.feed(html)
    return p


def check_cell(cells: dict, col: str, value, fmt) -> None:
    """The data-value is the TSV value exactly (repr of the float pandas reads); the shown text is its rounding."""
    got_value, shown = cells[col]
    assert got_value == data_value(value), (col, got_value, value)
    if got_value:
        assert float(got_value) == float(value)
        assert shown == fmt(value), (col, shown, value)


def check_figures(html: str, figdir: Path) -> list[Path]:
    """Every embedded figure is an SVG written in figdir, with its PDF beside it; every SVG there parses."""
    p = parse(html)
    embedded = []
    for src, name in p.imgs:
        assert src.startswith(SVG_URI), src[:40]
        assert name.startswith("figures/") and name.endswith(".svg"), name
        f = figdir / name[len("figures/") :]
        assert base64.b64decode(src[len(SVG_URI) :]) == f.read_bytes(), f"the embedded figure is not {f}"
        assert f.with_suffix(".pdf").read_bytes()[:5] == b"%PDF-"
        embedded.append(f)
    written = {f: f for f in figdir.rglob("*.svg")}
    for f in written.values():
        ET.fromstring(f.read_bytes())  # well-formed XML
        assert f.with_suffix(".pdf").is_file()
    return embedded


def check_standalone(html: str) -> None:
    p = parse(html)
    assert p.urls == []
    assert "http://" not in html and "https://" not in html and "url(" not in html
    assert "<link" not in html and "<script src" not in html
    assert "table.sortable" in html and "table-filter" in html and "localeCompare" in html  # the sort/filter script
    assert all("sortable" in (t.get("class") or "") for t in p.tables)
