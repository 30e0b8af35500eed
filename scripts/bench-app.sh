#!/usr/bin/env bash
# Desktop app figures (issue 7): cold start to first paint, idle RSS with
# ROUTERS (default 10,000) routers in the store, filter latency on the router
# list in the real webview. Prints figures only. APP=release measures the
# release package's binary (built with scripts/package.sh, slower to build).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"
ROUTERS=${ROUTERS:-10000}
ensure_app_packages
ensure_ui
apt_install xvfb xauth webkit2gtk-driver
[ -x "$TARGET/tools/bin/tauri-driver" ] || cargo install tauri-driver --locked --version '^2' --root "$TARGET/tools"
if [ "${APP:-debug}" = release ]; then
  bash scripts/package.sh >/dev/null
  export FLEETDECK_BENCH_APP="$TARGET/release/fleetdeck"
else
  cargo build -q -p fleetdeck
  export FLEETDECK_BENCH_APP="$TARGET/debug/fleetdeck"
fi
cargo build -q -p fleetdeck-cli
RUN=$(mktemp -d)
trap 'rm -rf "$RUN"' EXIT
mkdir -p "$RUN/data"
log "A store of $ROUTERS routers with 12 check-ins each"
"$TARGET/debug/fleetdeck-cli" store generate --store "sqlite://$RUN/data/fleet.db" \
  --devices "$ROUTERS" --checkins-per-device 12 --interval 5m >/dev/null
export FLEETDECK_BENCH_RUN="$RUN"
log "Measuring in the real window (Xvfb)"
xvfb-run -a -s "-screen 0 1280x800x24" cargo bench -q -p fleetdeck --bench app
