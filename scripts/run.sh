#!/usr/bin/env bash
# Builds and opens Fleetdeck on the embedded store (SQLite in your data
# folder; FLEETDECK_DATA_DIR overrides it). Safe to re-run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"

ensure_app_packages
ensure_toolchains
ensure_ui
[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] || die "no display: run this from a desktop session (or under xvfb-run)"
log "Building and starting Fleetdeck"
exec cargo run --release --bin fleetdeck
