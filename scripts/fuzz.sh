#!/usr/bin/env bash
# Fuzzes the RouterOS protocol decoder and the script parser with cargo-fuzz
# (libFuzzer, nightly toolchain). Installs cargo-fuzz into target/tools when
# it is missing. Runs each target for FUZZ_SECONDS (default 60) and stops at
# the first crash, leaving the input in crates/routeros-proto/fuzz/artifacts.
#
#   scripts/fuzz.sh                   # every target, 60 s each
#   FUZZ_SECONDS=600 scripts/fuzz.sh decode_stream
#
# Corpora grow in crates/routeros-proto/fuzz/corpus/<target> (not committed);
# script_parse is seeded with the project's fixtures (tests/fixtures/rsc) and
# the real-world export corpus when it is found (FLEETDECK_CORPUS_DIR, or
# shared/corpus/routeros-exports next to the repo).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"

FUZZ_DIR=crates/routeros-proto/fuzz
SECONDS_PER_TARGET=${FUZZ_SECONDS:-60}
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(decode_stream script_parse)

command -v rustup >/dev/null || die "rustup is needed for the nightly toolchain (https://rustup.rs)"
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  log "Installing the nightly toolchain (cargo-fuzz needs it)"
  rustup toolchain install nightly --profile minimal
fi
if [ ! -x "$TARGET/tools/bin/cargo-fuzz" ]; then
  log "Installing cargo-fuzz into $TARGET/tools"
  cargo install cargo-fuzz --locked --root "$TARGET/tools"
fi
export PATH="$TARGET/tools/bin:$PATH"

EXPORTS=${FLEETDECK_CORPUS_DIR:-$ROOT/../shared/corpus/routeros-exports}
if [ ! -d "$FUZZ_DIR/corpus/script_parse" ]; then
  mkdir -p "$FUZZ_DIR/corpus/script_parse"
  cp "$ROOT"/tests/fixtures/rsc/*.rsc "$FUZZ_DIR/corpus/script_parse/"
  if [ -d "$EXPORTS" ]; then cp "$EXPORTS"/*.rsc "$FUZZ_DIR/corpus/script_parse/"; fi
fi

for t in "${TARGETS[@]}"; do
  log "Fuzzing $t for ${SECONDS_PER_TARGET}s"
  (cd "$FUZZ_DIR" && cargo +nightly fuzz run --target-dir "$TARGET/fuzz" "$t" -- \
    -max_total_time="$SECONDS_PER_TARGET" -max_len=4096 -timeout=10 -print_final_stats=1)
done
