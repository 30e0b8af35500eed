#!/usr/bin/env bash
# RouterOS API benchmarks (issue 3): codec MB/s (criterion), then the client
# against a separate routeros-sim process on loopback: sequential and
# pipelined commands/s, a raw TCP echo as the physical limit, client RSS per
# logged-in session at 1,000 and 10,000 sessions, and Python librouteros
# sequential on the same simulator with the ratio. Prints figures only.
# Run scripts/test.sh once first (it installs the librouteros peer).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"

PORT=${BENCH_PORT:-28728}
DEVICES=${BENCH_DEVICES:-10}
PY="$TARGET/peer-venv/bin/python"
[ -x "$PY" ] || die "librouteros peer missing: run scripts/test.sh first"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

log "Codec (criterion)"
cargo bench -p routeros-proto --bench codec -- --warm-up-time 1 --measurement-time 3 2>/dev/null \
  | grep -E '^codec|thrpt' || true

log "Building release binaries"
cargo build --release -q -p routeros-sim --bin routeros-sim
cargo bench -p routeros --bench loopback --no-run -q 2>/dev/null

SIM_LOG=$(mktemp)
"$TARGET/release/routeros-sim" --devices "$DEVICES" --port "$PORT" --password bench >"$SIM_LOG" 2>&1 &
SIM=$!
trap 'kill $SIM 2>/dev/null || true; rm -f "$SIM_LOG"' EXIT
for _ in $(seq 1 100); do grep -q '^ready' "$SIM_LOG" && break; sleep 0.1; done
grep -q '^ready' "$SIM_LOG" || die "routeros-sim did not start: $(cat "$SIM_LOG")"

log "Client against routeros-sim (separate process)"
OUT=$(cargo bench -q -p routeros --bench loopback -- --port "$PORT" --devices "$DEVICES" 2>&1)
echo "$OUT"
SIM_RSS=$(awk '/VmRSS/ {print $2}' "/proc/$SIM/status")
echo "simulator RSS after the session runs: $((SIM_RSS / 1024)) MiB"

# Loopback round trips between two processes are bound by how fast a sleeping
# CPU wakes up, which on a shared VM drifts with the host's load (23-85 us
# per round trip seen here). Two runs, each alternating the three clients and
# comparing medians: first across both cores (what a laptop does), then with
# the simulator and the client on one core (taskset), where a round trip is
# two context switches and the figure is the clients' own cost.
BENCH=$(ls -t "$TARGET"/release/deps/loopback-* | grep -v '\.d$' | head -1)
N=${BENCH_PY_COUNT:-5000}
median() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
compare() {
  local pin=("$@") RUSTS=() RAWS=() PYS=() R
  for round in 1 2 3; do
    R=$("${pin[@]}" "$BENCH" --port "$PORT" --devices "$DEVICES" --sequential "$N" --sequential-only --runtime current)
    RUSTS+=("$(echo "$R" | awk '/^sequential round trips/ {print $6}')")
    RAWS+=("$(echo "$R" | awk '/^raw protocol/ {print $8}')")
    PYS+=("$("${pin[@]}" "$PY" crates/routeros/benches/librouteros_seq.py "$PORT" bench "$N")")
    echo "round $round: client ${RUSTS[-1]}/s, bare protocol ${RAWS[-1]}/s, librouteros ${PYS[-1]}/s"
  done
  local RUST RAW PYRATE
  RUST=$(median "${RUSTS[@]}") RAW=$(median "${RAWS[@]}") PYRATE=$(median "${PYS[@]}")
  echo "medians: client $RUST/s, bare protocol $RAW/s, librouteros $PYRATE/s"
  awk -v r="$RUST" -v p="$PYRATE" -v b="$RAW" 'BEGIN {
    printf "ratio (Fleetdeck / librouteros): %.2fx; client at %.0f %% of the bare-protocol floor\n", r / p, 100 * r / b }'
}
log "Sequential, both cores: Fleetdeck client, bare protocol, Python librouteros"
compare env
log "Sequential, simulator and clients on one core (taskset -c 0)"
taskset -a -p -c 0 "$SIM" >/dev/null
compare taskset -c 0
