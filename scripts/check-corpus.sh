#!/usr/bin/env bash
# Checks the script parser, the simulator's /import and the plan compiler
# against a folder of real RouterOS exports and scripts:
#
#   scripts/check-corpus.sh DIR      (e.g. ../shared/corpus/routeros-exports)
#
# The real-world corpus is not ours to ship, so it is not in the repository
# and the ordinary test command uses the project's own fixtures
# (tests/fixtures/rsc). This is the second, explicit check: it fails when
# the folder is missing or holds no export, never passes by reading nothing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

[ $# -eq 1 ] || die "usage: scripts/check-corpus.sh DIR (a folder of .rsc exports with its SOURCES.md)"
[ -d "$1" ] || die "no corpus folder at $1"
DIR="$(cd "$1" && pwd)"
[ -f "$DIR/SOURCES.md" ] || die "$DIR has no SOURCES.md: is it the routeros-exports corpus?"
files=$(find "$DIR" -maxdepth 1 -name '*.rsc' | wc -l)
[ "$files" -gt 0 ] || die "$DIR holds no .rsc file"
cd "$ROOT"
log "Corpus check: $files export and script files in $DIR"
FLEETDECK_CORPUS_DIR="$DIR" cargo nextest run -p corpus-check --features corpus \
  --locked --no-fail-fast
log "Corpus check passed: $files files read from $DIR"
