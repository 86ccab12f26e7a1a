"""What made an output: package versions, git state, the run context, and the sidecar JSON."""

from __future__ import annotations

import json
import os
import platform
import shlex
import subprocess
import sys
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from seedsig.core.tables import atomic_path

# Packages whose versions every output records.
PROVENANCE_PACKAGES = (
    "seedsig",
    "numpy",
    "scipy",
    "pandas",
    "anndata",
    "scanpy",
    "statsmodels",
    "rnanorm",
    "gseapy",
    "snakemake",
    "matplotlib",
)


def versions(packages: Iterable[str] = PROVENANCE_PACKAGES) -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in packages:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


@lru_cache(maxsize=None)
def git_state(directory: str) -> tuple[str, bool | None]:
    """(HEAD commit, tracked files modified?) of the git checkout holding ``directory``: ("", None) when it is
    none, git is absent or the directory's files are not tracked there (e.g. a package installed into a venv that
    sits inside some checkout). Asked once per directory and process; never fails, never writes (no index lock)."""
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}

    def git(*args: str) -> subprocess.CompletedProcess | None:
        try:
            return subprocess.run(["git", "-C", directory, *args], capture_output=True, text=True, timeout=10, env=env)
        except (OSError, subprocess.SubprocessError):
            return None

    head = git("rev-parse", "--verify", "--quiet", "HEAD")
    if head is None or head.returncode != 0 or not head.stdout.strip():
        return "", None
    tracked = git("ls-files", "--error-unmatch", "--", ".")
    if tracked is None or tracked.returncode != 0:
        return "", None
    status = git("status", "--porcelain", "--untracked-files=no")
    return head.stdout.strip(), None if status is None or status.returncode != 0 else bool(status.stdout.strip())


def run_context(smk: Any = None) -> dict[str, Any]:
    """What ran: a Snakemake rule (``smk``, or the ``snakemake`` object Snakemake puts in a rule script's globals) or a
    command line. Nothing in it changes between two identical runs (no temporary script name, time or host).

    ``command``: ``rule NAME (wildcard=value, ...)`` for a rule; for the CLI ``seedsig SUBCOMMAND ...`` with the
    arguments as given. ``git_commit``/``git_modified``: the git checkout of the workflow (the rule scripts) or, for the
    CLI, of the seedsig package ("" / null when it is not a git checkout)."""
    if smk is None:
        smk = getattr(sys.modules.get("__main__"), "snakemake", None)
    rule = getattr(smk, "rule", None)
    if isinstance(rule, str) and rule:
        wildcards = getattr(smk, "wildcards", None)
        items = [(str(k), str(v)) for k, v in wildcards.items()] if hasattr(wildcards, "items") else []
        command = f"rule {rule}" + (f" ({', '.join(f'{k}={v}' for k, v in items)})" if items else "")
        where = str(getattr(smk, "scriptdir", None) or Path.cwd())
    else:
        rule = ""
        argv = list(sys.argv) or [""]
        first = Path(argv[0])
        prog = first.name
        if first.stem == "seedsig" or (prog in ("__main__.py", "cli.py") and first.parent.name == "seedsig"):
            prog = "seedsig"  # the console script, or python -m seedsig
        command = shlex.join([prog, *argv[1:]])
        where = str(Path(__file__).resolve().parents[1])
    commit, modified = git_state(where)
    return {
        "command": command,
        "rule": rule,
        "seedsig_version": versions(("seedsig",)).get("seedsig", ""),
        "git_commit": commit,
        "git_modified": modified,
    }


def provenance(
    parameters: dict[str, Any] | None = None, inputs: Iterable[str | os.PathLike] = (), **extra: Any
) -> dict[str, Any]:
    """The record every output carries: versions, parameters, inputs, and what ran (:func:`run_context`: the rule or
    command line, the seedsig version and the git commit of the workflow). Two identical runs give identical records."""
    rec: dict[str, Any] = {
        "tool": "seedsig",
        "versions": versions(),
        "parameters": parameters or {},
        "inputs": [str(p) for p in inputs],
        **run_context(),
    }
    rec.update(extra)
    return rec


def jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return None if np.isnan(obj) else float(obj)
    if isinstance(obj, float) and np.isnan(obj):
        return None
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, Path):
        return str(obj)
    return obj


def sidecar_path(path: str | os.PathLike) -> Path:
    p = Path(path)
    name = p.name
    for suf in (".tsv.gz", ".tsv", ".html", ".h5ad", ".csv", ".npz"):
        if name.endswith(suf):
            name = name[: -len(suf)]
            break
    return p.with_name(name + ".json")


def write_sidecar(path: str | os.PathLike, record: dict[str, Any]) -> Path:
    """Write ``record`` as ``<name>.json`` beside the output ``path``."""
    side = sidecar_path(path)
    with atomic_path(side) as tmp:
        tmp.write_text(json.dumps(jsonable(record), indent=2, sort_keys=False) + "\n")
    return side


def to_jsonable(obj: Any) -> Any:
    return jsonable(obj)
