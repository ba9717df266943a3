#!/usr/bin/env bash
# The bulletin page of Documentation/Reports.md: the events of
# Tests/OmbudsTests/Fixtures/bulletin/events.jsonl (October and November 2026, the shipped
# rules) replayed into a fresh SQLite store, November's bulletin written as HTML, and its
# first A4 page (1240×1754, A4 at 150 dpi) screenshot by headless Chromium into
# Documentation/images/bulletin.png. Run it again after changing the page.
#   scripts/bulletin-example.sh [OMBUDS_BINARY]
# Needs Debian's `chromium` and `fonts-noto-cjk` (apt-get install -y chromium fonts-noto-cjk).
set -euo pipefail
cd "$(dirname "$0")/.."
OMBUDS="${1:-.build/debug/ombuds}"
CHROMIUM="${CHROMIUM:-chromium}"
DIR="$(mktemp -d)"
trap 'rm -rf "$DIR"' EXIT

"$OMBUDS" replay --store "$DIR/store.sqlite" --rules rules Tests/OmbudsTests/Fixtures/bulletin/events.jsonl
"$OMBUDS" report --store "$DIR/store.sqlite" --rules rules --from 2026-11-01 --to 2026-11-30 \
  --now 2026-11-30T12:00:00+08:00 --format html --out "$DIR/bulletin.html"
"$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$DIR/profile" \
  --hide-scrollbars --screenshot=Documentation/images/bulletin.png --window-size=1240,1754 \
  "file://$DIR/bulletin.html" 2>/dev/null
echo "wrote Documentation/images/bulletin.png"
