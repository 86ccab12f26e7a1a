#!/usr/bin/env bash
# CI: a plain install is complete. Installs the project WITHOUT extras (`pip install .`, CI's pinned versions) into a
# fresh venv, then runs what the README shows a user: the example pipeline from a working directory holding a copy
# of config/, and `snakemake --report report.zip`. Fails when either output is missing (e.g. a report dependency
# that only the dev extras pulled in). Usage: .ci/plain_install.sh [cores]   (KEEP=1 keeps the temporary directory)
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
CORES="${1:-2}"
PYTHON="${PYTHON:-python3}"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/seedsig-plain.XXXXXX")"
if [ "${KEEP:-0}" = 1 ]; then
  trap 'echo "plain-install: kept $TMP"' EXIT
else
  trap 'rm -rf "$TMP"' EXIT
fi
say() { echo "plain-install: $*"; }

# The project is built from a copy of the source, so the build leaves nothing (build/, *.egg-info) in the repository.
say "copying the source to $TMP/src"
mkdir -p "$TMP/src" "$TMP/work"
tar -C "$REPO" --exclude=./.git --exclude=./.venv --exclude=./results --exclude=./resources --exclude=./.snakemake \
  --exclude=./build --exclude=./dist --exclude='*.egg-info' --exclude=__pycache__ --exclude=.pytest_cache -cf - . |
  tar -C "$TMP/src" -xf -

say "fresh venv ($("$PYTHON" --version 2>&1)), pip install -c requirements/ci.txt . (no extras)"
"$PYTHON" -m venv "$TMP/venv"
"$TMP/venv/bin/python" -m pip install --disable-pip-version-check -c "$TMP/src/requirements/ci.txt" "$TMP/src" \
  >"$TMP/pip.log" 2>&1 || {
  tail -n 40 "$TMP/pip.log" >&2
  echo "plain-install: pip install failed (log above)" >&2
  exit 1
}
export PATH="$TMP/venv/bin:$PATH"
# The pipeline must use the installed package, not a source tree.
where="$(cd "$TMP/work" && python -c 'import seedsig, pathlib; print(pathlib.Path(seedsig.__file__).resolve())')"
case "$where" in
  "$TMP/venv/"*) say "seedsig installed at $where" ;;
  *) echo "plain-install: seedsig imported from $where, not from the fresh venv" >&2; exit 1 ;;
esac
seedsig --help >/dev/null

# What the README shows: a working directory with the repository's config/, the example pipeline, Snakemake's report.
cp -r "$REPO/config" "$TMP/work/config"
cd "$TMP/work"
say "snakemake --cores $CORES (the example cohort)"
snakemake --cores "$CORES" -s "$TMP/src/Snakefile" -d "$TMP/work" >"$TMP/run.log" 2>&1 || {
  tail -n 60 "$TMP/run.log" >&2
  echo "plain-install: the example pipeline failed (log above)" >&2
  exit 1
}
say "snakemake --report report.zip"
snakemake -s "$TMP/src/Snakefile" -d "$TMP/work" --report report.zip >"$TMP/report.log" 2>&1 || {
  tail -n 40 "$TMP/report.log" >&2
  echo "plain-install: snakemake --report failed (log above)" >&2
  exit 1
}
for f in results/report.html report.zip; do
  if [ ! -s "$f" ]; then
    echo "plain-install: $f is missing or empty after the run" >&2
    exit 1
  fi
done
python -c 'import sys, zipfile; bad = zipfile.ZipFile(sys.argv[1]).testzip(); sys.exit(bad and f"corrupt: {bad}")' \
  report.zip
say "ok: results/report.html ($(du -h results/report.html | cut -f1)) and report.zip ($(du -h report.zip | cut -f1))"
