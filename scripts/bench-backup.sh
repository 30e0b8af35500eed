#!/usr/bin/env bash
# Configuration backup benchmark (issue 19): ROUTERS (default 1,000)
# simulated routers, each seeded with a firewall-heavy export of about
# 40 KB (ten variants), backed up twice into the embedded store with
# `fleetdeck-cli backup`: wall time of the first run (every router a new
# version) and of the second (nothing changed: 0 new versions), each as a
# ratio against one poll sweep of the same routers (connect, login and five
# prints: the bare protocol floor). Then `cargo bench --bench configs`:
# storage of a year of daily backups and diff speed. Figures only.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"
ROUTERS=${ROUTERS:-1000}
PORT=${PORT:-27000}
ulimit -n 20000 2>/dev/null || true
log "Building release binaries"
cargo build --release -q -p routeros-sim -p fleetdeck-cli
WORK=$(mktemp -d)
SIM=""
cleanup() { [ -n "$SIM" ] && kill "$SIM" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
export RPW="" FLEETDECK_DATA_DIR="$WORK" FLEETDECK_CREDENTIALS=file

SEEDS=()
for v in $(seq 0 9); do
  f="$WORK/seed-$v.rsc"
  {
    echo "# 2025-06-01 10:00:00 by RouterOS 7.16.2"
    echo "/interface bridge"
    echo "add name=bridge1 vlan-filtering=yes"
    echo "/ip firewall filter"
    for r in $(seq 1 400); do
      echo "add action=accept chain=forward comment=\"variant $v rule $r\" dst-address=10.$v.$((r % 250)).0/24 dst-port=$((1000 + r)) protocol=tcp"
    done
    echo "/system identity"
    echo "set name=bench-$v"
  } >"$f"
  SEEDS+=(--seed "$f")
done
echo "export: $(wc -c <"$WORK/seed-0.rsc") bytes, $(wc -l <"$WORK/seed-0.rsc") lines (10 variants)"

"$TARGET/release/routeros-sim" --devices "$ROUTERS" --port "$PORT" "${SEEDS[@]}" >"$WORK/sim.log" 2>&1 &
SIM=$!
for _ in $(seq 1 600); do grep -q '^ready' "$WORK/sim.log" && break; sleep 0.1; done
STORE="sqlite://$WORK/fleet.db"
CLI="$TARGET/release/fleetdeck-cli"

for i in $(seq 0 $((ROUTERS - 1))); do echo "127.0.0.1:$((PORT + i))"; done >"$WORK/routers.txt"
"$CLI" import "$WORK/routers.txt" --password-env RPW --store "$STORE"
t0=$(date +%s.%N)
"$CLI" poll --targets "127.0.0.1:$PORT+$ROUTERS" --password-env RPW --store "$STORE" --once --json >/dev/null
t1=$(date +%s.%N) # the first sweep enrolls; the second is the floor
"$CLI" poll --targets "127.0.0.1:$PORT+$ROUTERS" --password-env RPW --store "$STORE" --once --json >/dev/null
t2=$(date +%s.%N)
floor=$(echo "$t2 - $t1" | bc -l)

"$CLI" backup --store "$STORE" --concurrency 64 --json >"$WORK/first.json" || true
"$CLI" backup --store "$STORE" --concurrency 64 --json >"$WORK/second.json" || true
python3 - "$WORK/first.json" "$WORK/second.json" "$floor" <<'PY'
import json, sys
first, second = (json.load(open(p)) for p in sys.argv[1:3])
floor = float(sys.argv[3])
for label, r in (("first run", first), ("second run, nothing changed", second)):
    print(f"backup {label}: {len(r['routers'])} routers in {r['seconds']:.1f} s "
          f"({r['newVersions']} new versions, {r['unchanged']} unchanged, {r['failed']} failed); "
          f"{r['seconds'] / floor:.1f}x one poll sweep ({floor:.1f} s)")
PY
"$CLI" store stats --store "$STORE" | grep -E "config_(texts|versions)"

log "Storage and diff (cargo bench --bench configs)"
cargo bench -q -p fleet-core --bench configs
