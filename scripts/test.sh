#!/usr/bin/env bash
# Runs Fleetdeck's whole test suite: formatting, clippy, every Rust test
# (nextest, under Xvfb for the end-to-end test), doctests and the UI unit
# tests. Installs what it needs first (system packages, npm packages, MariaDB
# if nothing answers on 127.0.0.1:3306, the Python peers librouteros and routeros-diff and
# tauri-driver into target/). Safe to re-run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"
started=$(date +%s)

ensure_app_packages
apt_install xvfb xauth webkit2gtk-driver python3 python3-venv dbus-daemon
ensure_toolchains
command -v cargo-nextest >/dev/null || { log "Installing cargo-nextest"; cargo install cargo-nextest --locked; }

ensure_mariadb

# --- Test-only tools, into the build folder.
if ! "$TARGET/peer-venv/bin/python" -c 'import librouteros, routeros_diff' 2>/dev/null; then
  log "Installing the Python peers (librouteros, routeros-diff) into $TARGET/peer-venv"
  python3 -m venv "$TARGET/peer-venv"
  "$TARGET/peer-venv/bin/pip" install --quiet --disable-pip-version-check 'librouteros==4.2.2' 'routeros-diff==0.5.3'
fi
if [ ! -x "$TARGET/tools/bin/tauri-driver" ]; then
  log "Installing tauri-driver into $TARGET/tools"
  cargo install tauri-driver --locked --version '^2' --root "$TARGET/tools"
fi

ensure_ui

log "No crate under crates/ depends on Tauri"
for manifest in crates/*/Cargo.toml; do
  crate=$(basename "$(dirname "$manifest")")
  if cargo tree -p "$crate" -e normal,build --prefix none --locked 2>/dev/null | grep -qE '^tauri( |-)'; then
    die "$crate depends on Tauri: core crates must stay free of it"
  fi
done

log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings
log "UI unit tests"
(cd ui && npm test --silent)
log "Doctests"
cargo test --workspace --doc --locked
log "Debian package (debug), for the test that unpacks and launches it"
bash scripts/package.sh --debug >/dev/null
# The parity tests run this CLI binary; built here (with the CLI's own
# features, as the tests build it) so no test spends its time limit on it.
log "The CLI binary the parity tests drive"
cargo build --locked --offline -p fleetdeck-cli --bin fleetdeck-cli
log "Rust tests (nextest, end-to-end under Xvfb)"
FLEETDECK_CREDENTIALS=file xvfb-run -a -s "-screen 0 1280x800x24" \
  cargo nextest run --workspace --locked --no-fail-fast

log "All tests passed in $(( $(date +%s) - started )) s; screenshots in $TARGET/e2e/"
