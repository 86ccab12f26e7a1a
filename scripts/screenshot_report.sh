#!/usr/bin/env bash
# Render the top of results/report.html to docs/report.png (the README's screenshot) with headless
# Chromium (Debian: apt-get install chromium). Run after `make demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
html="${1:-results/report.html}"
out="${2:-docs/report.png}"
mkdir -p "$(dirname "$out")"
chromium --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
  --disable-sync --no-first-run --hide-scrollbars --window-size=1200,1500 \
  --screenshot="$out" "file://$(realpath "$html")" 2>/dev/null
echo "wrote $out"
