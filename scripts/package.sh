#!/usr/bin/env bash
# Builds Fleetdeck's Debian package with the Tauri CLI (@tauri-apps/cli from
# the UI's npm packages): target/release/bundle/deb/Fleetdeck_<version>_amd64.deb.
# `--debug` builds a debug package (faster; what the test suite checks).
# Installs what it needs first; safe to re-run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"
ensure_app_packages
ensure_toolchains
ensure_ui
profile=release
args=(build --bundles deb)
if [ "${1:-}" = "--debug" ]; then
  profile=debug
  args+=(--debug)
fi
log "Building the .deb ($profile)"
# The UI is already built; the CLI's beforeBuildCommand builds it again,
# which is quick and keeps `tauri build` right when run by hand.
"$ROOT/ui/node_modules/.bin/tauri" "${args[@]}"
deb=$(ls -t "$TARGET/$profile/bundle/deb/"*.deb | head -1)
echo "$deb"
