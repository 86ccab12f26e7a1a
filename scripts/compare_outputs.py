#!/usr/bin/env python3
"""Compare two results directories of seedsig runs made before and after a change that must not change outputs.

    python scripts/compare_outputs.py BEFORE_DIR AFTER_DIR [--mask-paths A=B ...]

- every ``.tsv`` / ``.tsv.gz`` (decompressed) must be byte-identical;
- every sidecar ``.json`` must be equal after masking what legitimately differs between two code versions
  (package versions, the git commit, the command/rule record) and after mapping the ``--mask-paths`` prefixes;
- every ``.h5ad``: X, layers, obs, var and uns equal (uns['seedsig_provenance'] compared as JSON, masked as above);
- every ``.svg`` / ``.html`` equal after masking version strings, commits and sha256 checksums; ``.pdf`` files are
  compared by size only (their streams embed font subsets in an order matplotlib does not fix).
Files present on one side only are listed. Exit status 0 when everything is equal, 1 otherwise; one line per file.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from pathlib import Path

MASKED_KEYS = {"versions", "git_commit", "git_modified", "command", "rule", "seedsig_version"}
HEX = re.compile(r"\b[0-9a-f]{40,64}\b")
VERSION = re.compile(
    r"(seedsig|numpy|scipy|pandas|anndata|scanpy|statsmodels|rnanorm|gseapy|snakemake|matplotlib|python)"
    r"([ =:\"'</>a-z]{1,40}?)\d+\.\d+[\w.+-]*",
    re.I,
)


def _mask(obj, paths):
    if isinstance(obj, dict):
        return {k: ("<masked>" if k in MASKED_KEYS else _mask(v, paths)) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_mask(v, paths) for v in obj]
    if isinstance(obj, str):
        return _mask_text(obj, paths)
    return obj


def _mask_text(text: str, paths) -> str:
    for a, b in paths:
        text = text.replace(a, b)
    return VERSION.sub(lambda m: m.group(1) + m.group(2) + "<v>", HEX.sub("<hex>", text))


def _read(p: Path) -> bytes:
    raw = p.read_bytes()
    return gzip.decompress(raw) if p.name.endswith(".gz") else raw


def _h5ad_equal(a: Path, b: Path, paths) -> str:
    import anndata as ad
    import numpy as np
    import pandas as pd

    x, y = ad.read_h5ad(a), ad.read_h5ad(b)
    if not np.array_equal(np.asarray(x.X), np.asarray(y.X), equal_nan=True):
        return "X differs"
    if sorted(x.layers) != sorted(y.layers):
        return "layers differ"
    for k in x.layers:
        if not np.array_equal(np.asarray(x.layers[k]), np.asarray(y.layers[k]), equal_nan=True):
            return f"layers['{k}'] differs"
    for what in ("obs", "var"):
        try:
            pd.testing.assert_frame_equal(getattr(x, what), getattr(y, what))
        except AssertionError as exc:
            return f"{what} differs: {str(exc).splitlines()[0]}"

    def uns(u):
        out = {}
        for k, v in u.items():
            if k == "seedsig_provenance":
                v = {s: _mask(json.loads(t), paths) for s, t in v.items()}
            elif isinstance(v, np.ndarray):
                v = v.tolist()
            elif isinstance(v, dict):
                v = {kk: (vv.tolist() if isinstance(vv, np.ndarray) else vv) for kk, vv in v.items()}
            out[k] = v
        return json.loads(json.dumps(out, default=str))

    return "" if uns(x.uns) == uns(y.uns) else "uns differs"


def compare(before: Path, after: Path, paths) -> list[str]:
    files_a = {p.relative_to(before).as_posix() for p in before.rglob("*") if p.is_file() and "logs" not in p.parts}
    files_b = {p.relative_to(after).as_posix() for p in after.rglob("*") if p.is_file() and "logs" not in p.parts}
    out = [f"only before: {f}" for f in sorted(files_a - files_b)] + [
        f"only after: {f}" for f in sorted(files_b - files_a)
    ]
    for f in sorted(files_a & files_b):
        a, b = before / f, after / f
        if f.endswith((".tsv", ".tsv.gz")):
            why = "" if _read(a) == _read(b) else "bytes differ"
        elif f.endswith(".json"):
            why = (
                ""
                if _mask(json.loads(a.read_text()), paths) == _mask(json.loads(b.read_text()), paths)
                else "differs after masking"
            )
        elif f.endswith(".h5ad"):
            why = _h5ad_equal(a, b, paths)
        elif f.endswith((".svg", ".html")):
            why = (
                "" if _mask_text(a.read_text(), paths) == _mask_text(b.read_text(), paths) else "differs after masking"
            )
        elif f.endswith(".pdf"):
            why = "" if abs(a.stat().st_size - b.stat().st_size) <= 64 else "size differs"
        else:
            why = "" if a.read_bytes() == b.read_bytes() else "bytes differ"
        out.append(f"{'DIFF' if why else 'same'}: {f}{f' ({why})' if why else ''}")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    ap.add_argument(
        "--mask-paths", nargs="*", default=[], metavar="A=B", help="replace path prefix A by B before comparing"
    )
    ap.add_argument("--quiet", action="store_true", help="print only differences and the total")
    args = ap.parse_args(argv)
    paths = [tuple(m.split("=", 1)) for m in args.mask_paths]
    lines = compare(args.before, args.after, paths)
    bad = [x for x in lines if not x.startswith("same")]
    for line in bad if args.quiet else lines:
        print(line)
    print(f"{len(lines) - len(bad)} equal, {len(bad)} different or missing")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
