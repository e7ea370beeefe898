#!/usr/bin/env bash
# Renders an HTML report in headless Chromium and saves a PNG, to check that
# the self-contained report shows its charts offline.
#   scripts/screenshot.sh out/report.html docs/report.png
# Needs Debian's chromium (apt-get install chromium).
set -euo pipefail
html=${1:-out/report.html}
png=${2:-docs/report.png}
width=${WIDTH:-1200}
height=${HEIGHT:-2400}
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "screenshot: chromium is not installed (apt-get install chromium)" >&2
  exit 2
fi
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --hide-scrollbars --window-size="$width,$height" \
  --screenshot="$(realpath -m "$png")" "file://$(realpath "$html")" >/dev/null 2>&1
test -s "$png"
echo "wrote $png"
