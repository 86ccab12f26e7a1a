"""What a failed run tells the user: each seedsig message once, after Snakemake's rule-error block.

A rule script (:func:`seedsig.core.rules.run_rule`) records the message of a failed rule in a small file under
``.snakemake/seedsig/errors/`` (never under ``results/``: a failed run leaves nothing there); the Snakefile's
``onerror:`` handler calls :func:`report_failure`, which prints each recorded message once, marks an earlier
``results/report.html`` as stale (:func:`mark_stale`) and ends the run with exit status 1. ``onstart:`` clears
the messages of an earlier run (:func:`clear_errors`).
"""

from __future__ import annotations

import html
import json
import os
import re
import sys
import time
from pathlib import Path

ERROR_DIR = Path(".snakemake") / "seedsig" / "errors"
BANNER_ID = "seedsig-stale-banner"
_BANNER_RE = re.compile(rf'<div id="{BANNER_ID}".*?</div>\n?', re.S)
_BODY_RE = re.compile(r"<body\b[^>]*>", re.I)
# the mtime given to a report marked stale: older than any input, so Snakemake's mtime trigger rebuilds it
STALE_MTIME = 86400.0


def _error_dir(workdir: str | Path | None) -> Path:
    return (Path(workdir) if workdir is not None else Path.cwd()) / ERROR_DIR


def record_error(
    rule: str, wildcards: dict | None, message: str, *, unexpected: bool = False, workdir: str | Path | None = None
) -> Path:
    """Keep the message of a failed rule for the run's ``onerror`` handler (one JSON file per failed job)."""
    d = _error_dir(workdir)
    d.mkdir(parents=True, exist_ok=True)
    wc = {str(k): str(v) for k, v in (wildcards or {}).items()}
    msg = " ".join(str(message).split())
    rec = {"rule": rule, "wildcards": wc, "message": msg, "unexpected": unexpected, "time": time.time()}
    name = f"{time.time_ns()}-{os.getpid()}-{re.sub(r'[^A-Za-z0-9_.-]+', '_', rule)}.json"
    tmp = d / f".{name}.tmp"
    tmp.write_text(json.dumps(rec))
    os.replace(tmp, d / name)
    return d / name


def collected_errors(workdir: str | Path | None = None) -> list[dict]:
    """The recorded messages of this run, oldest first, each message once."""
    d = _error_dir(workdir)
    out: list[dict] = []
    seen: set[str] = set()
    for f in sorted(d.glob("*.json")) if d.is_dir() else []:
        try:
            rec = json.loads(f.read_text())
        except (OSError, ValueError):
            continue
        if rec.get("message") and rec["message"] not in seen:
            seen.add(rec["message"])
            out.append(rec)
    return out


def recorded_user_error(rule: str, wildcards: dict | None, workdir: str | Path | None = None) -> str | None:
    """The message of a user error this job (rule and wildcards) already met in this run, else None.

    A retry (``--retries``, the cluster profile's) of a job that failed for bad input would fail the same way:
    :func:`seedsig.core.rules.run_rule` stops it at once with the recorded message instead of computing again
    (on a cluster, the records sit in the shared working directory)."""
    wc = {str(k): str(v) for k, v in (wildcards or {}).items()}
    for rec in collected_errors(workdir):
        if rec.get("rule") == rule and rec.get("wildcards") == wc and not rec.get("unexpected"):
            return str(rec["message"])
    return None


def clear_errors(workdir: str | Path | None = None) -> None:
    d = _error_dir(workdir)
    for f in d.glob("*.json") if d.is_dir() else []:
        f.unlink(missing_ok=True)


def step_name(rec: dict) -> str:
    """'ingest (cohort tiny)' for a recorded error."""
    wc = ", ".join(f"{k} {v}" for k, v in rec.get("wildcards", {}).items())
    return f"{rec['rule']} ({wc})" if wc else str(rec["rule"])


def format_error(rec: dict) -> str:
    return f"seedsig: {rec['message']}" if rec.get("unexpected") else f"seedsig error: {rec['message']}"


def mark_stale(report: str | Path, step: str, when: float | None = None) -> bool:
    """Put a banner at the top of an earlier run's HTML report: it is stale, which step failed, when.

    The file's mtime is set far in the past so that the next run rebuilds the report (Snakemake's mtime trigger);
    a banner already there (an earlier failed run) is replaced. Returns whether a report was marked.
    """
    p = Path(report)
    if not p.is_file():
        return False
    stamp = time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(time.time() if when is None else when))
    banner = (
        f'<div id="{BANNER_ID}" role="alert" style="background:#fdecea;border:2px solid #b71c1c;color:#5f0000;'
        f'padding:0.8em 1em;margin:0 0 1em 0;font:bold 1.05em sans-serif">'
        f"This report is stale: the run of {html.escape(stamp)} failed in step {html.escape(step)}, so the "
        "results below are from an earlier run and do not match the current input or configuration. "
        "Fix the error and run again to rebuild it.</div>\n"
    )
    text = _BANNER_RE.sub("", p.read_text(encoding="utf-8"))
    m = _BODY_RE.search(text)
    text = text[: m.end()] + "\n" + banner + text[m.end() :] if m else banner + text
    tmp = p.with_name(f".{p.name}.stale.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, p)
    os.utime(p, (STALE_MTIME, STALE_MTIME))
    return True


def is_stale(report: str | Path) -> bool:
    p = Path(report)
    return p.is_file() and f'id="{BANNER_ID}"' in p.read_text(encoding="utf-8")


def fail(exc: BaseException, stream=None) -> None:
    """Stop at the configuration check (before any step ran): the one message, exit 1."""
    print(f"\nseedsig error: {exc}\n", file=sys.stderr if stream is None else stream)
    sys.exit(1)


def report_failure(
    report: str | Path,
    *,
    workdir: str | Path | None = None,
    exit: bool = True,
    stream=None,
    log: str | list | None = None,
) -> list[str]:
    """The ``onerror`` handler: mark the report stale, print every recorded message once (last), exit 1.

    When no seedsig message was recorded (the job failed in Snakemake itself), the report is still marked and
    Snakemake's own error lines end the run (no exit here). ``log``: Snakemake's log of the run (named, since
    exiting here skips Snakemake's own "Complete log" line). Returns the printed lines.
    """
    stream = sys.stderr if stream is None else stream
    recs = collected_errors(workdir)
    step = ", ".join(dict.fromkeys(step_name(r) for r in recs)) or "a rule (see the error above)"
    rp = Path(report) if workdir is None or Path(report).is_absolute() else Path(workdir) / report
    logs = ", ".join(map(str, log)) if isinstance(log, (list, tuple)) else (str(log) if log else "")
    lines = [f"seedsig: complete log of the run: {logs}"] if logs and recs else []
    if mark_stale(rp, step):
        lines.append(f"seedsig: {report} is from an earlier run and is marked stale (the next run rebuilds it).")
    lines += [format_error(r) for r in recs]
    if lines:
        print("", file=stream)
        for line in lines:
            print(line, file=stream)
        stream.flush()
    clear_errors(workdir)
    if exit and recs:
        sys.exit(1)
    return lines
