#!/usr/bin/env bash
# Telemetry benchmarks (issue 5). Prints figures only.
#
# 1. One full sweep of ROUTERS (default 10,000) simulated routers on
#    loopback (a separate routeros-sim process) into the embedded store,
#    twice (the first also enrols them), and into MariaDB while counting its
#    connections: wall time, peak RSS of the poller, rows landed.
# 2. A soak: SOAK_ROUTERS (2,000) routers every 30 s for SOAK_SECS (600)
#    with 10 % of them flapping (a fresh 10 % down every 90 s): poller RSS
#    over time, check-ins polled versus stored, offline and back-online
#    transitions.
#
#   scripts/bench-telemetry.sh              # both
#   SOAK_SECS=0 scripts/bench-telemetry.sh  # the sweep only
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"

ROUTERS=${ROUTERS:-10000}
PORT=${PORT:-14000}
SOAK_ROUTERS=${SOAK_ROUTERS:-2000}
SOAK_PORT=${SOAK_PORT:-12000}
SOAK_SECS=${SOAK_SECS:-600}
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
ensure_mariadb
log "Building release binaries"
cargo build --release -q -p routeros-sim -p fleetdeck-cli
SIM_BIN="$TARGET/release/routeros-sim"
CLI_BIN="$TARGET/release/fleetdeck-cli"

WORK=$(mktemp -d)
SIMS=()
stop_sims() { for p in "${SIMS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; SIMS=(); }
cleanup() { stop_sims; rm -rf "$WORK"; mysql -h127.0.0.1 -uroot -e 'DROP DATABASE IF EXISTS fleetdeck_bench_sweep' || true; }
trap cleanup EXIT
export PW=bench FLEETDECK_DATA_DIR="$WORK" FLEETDECK_CREDENTIALS=file

# Ports stay below the ephemeral range (32768+) so no outgoing socket holds
# one. One simulator process serves at most 5,000 routers: each needs a
# listener and a session socket, and this machine's hard limit is 20,000 fds.
start_sim() { # devices port [extra args]
  local n=$1 port=$2; shift 2
  local i=0
  while [ "$n" -gt 0 ]; do
    local k=$(( n < 5000 ? n : 5000 ))
    "$SIM_BIN" --devices "$k" --port "$port" --password bench "$@" >"$WORK/sim$i.log" 2>&1 &
    SIMS+=($!)
    local ok=""
    for _ in $(seq 1 600); do grep -q '^ready' "$WORK/sim$i.log" && { ok=1; break; }; sleep 0.1; done
    [ -n "$ok" ] || die "routeros-sim did not start: $(cat "$WORK/sim$i.log")"
    n=$(( n - k )); port=$(( port + k )); i=$(( i + 1 ))
  done
}

sweep() { # label store-url
  local label=$1 url=$2
  /usr/bin/time -f '%M %e' -o "$WORK/rss" "$CLI_BIN" poll --targets "127.0.0.1:$PORT+$ROUTERS" \
    --password-env PW --store "$url" --once --json --timeout 30 >"$WORK/sweep.json" || true
  python3 - "$label" "$WORK/sweep.json" "$WORK/rss" <<'PY'
import json, sys
label, out, rss = sys.argv[1:]
r = json.load(open(out)); c = r["counters"]
kib, wall = open(rss).read().split()[-2:]
kib = int(kib)
print(f"{label}: {r['routers']} routers in {r['seconds']:.2f} s; polls ok {c['pollsOk']}, failed {c['pollsFailed']}; "
      f"rows written {c['rowsWritten']}, pending {c['rowsPending']}; peak RSS {kib/1024:.0f} MiB; "
      f"whole process (open store, enrol, sweep) {float(wall):.2f} s")
PY
}

log "Sweep of $ROUTERS routers"
start_sim "$ROUTERS" "$PORT"
sweep "sqlite, first sweep (enrols)" "sqlite://$WORK/fleet.db"
sweep "sqlite, second sweep" "sqlite://$WORK/fleet.db"
"$CLI_BIN" store stats --json --store "sqlite://$WORK/fleet.db" \
  | python3 -c 'import json,sys; s=json.load(sys.stdin); print("sqlite rows landed: %d check-ins, %d devices" % (s["checkins"], s["devices"]))'

mysql -h127.0.0.1 -uroot -e 'DROP DATABASE IF EXISTS fleetdeck_bench_sweep; CREATE DATABASE fleetdeck_bench_sweep'
MYSQL_URL="mysql://root@127.0.0.1:3306/fleetdeck_bench_sweep?ca=$FLEETDECK_TEST_MYSQL_CA"
"$CLI_BIN" store migrate --store "$MYSQL_URL" >/dev/null
( max=0
  while [ ! -f "$WORK/done" ]; do
    n=$(mysql -h127.0.0.1 -uroot -N -e "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB='fleetdeck_bench_sweep'" 2>/dev/null || echo 0)
    [ "$n" -gt "$max" ] && max=$n
    sleep 0.05
  done
  echo "$max" >"$WORK/maxconn" ) &
SAMPLER=$!
sweep "mariadb, first sweep (enrols)" "$MYSQL_URL"
sweep "mariadb, second sweep" "$MYSQL_URL"
touch "$WORK/done"; wait "$SAMPLER"
echo "mariadb: at most $(cat "$WORK/maxconn") connections from the poller during both sweeps"
"$CLI_BIN" store stats --json --store "$MYSQL_URL" \
  | python3 -c 'import json,sys; s=json.load(sys.stdin); print("mariadb rows landed: %d check-ins, %d devices" % (s["checkins"], s["devices"]))'
stop_sims

[ "$SOAK_SECS" -gt 0 ] || exit 0
log "Soak: $SOAK_ROUTERS routers every 30 s for $SOAK_SECS s, 10 % flapping"
start_sim "$SOAK_ROUTERS" "$SOAK_PORT" --flap 10:90s
"$CLI_BIN" poll --targets "127.0.0.1:$SOAK_PORT+$SOAK_ROUTERS" --password-env PW \
  --store "sqlite://$WORK/soak.db" --interval 30s --json --timeout 5 >"$WORK/soak.jsonl" 2>"$WORK/soak.err" &
POLLER=$!
start=$(date +%s)
while [ $(( $(date +%s) - start )) -lt "$SOAK_SECS" ]; do
  sleep 30
  echo "t=$(( $(date +%s) - start ))s poller RSS $(awk '/VmRSS/ {printf "%.1f MiB", $2/1024}' "/proc/$POLLER/status")"
done
kill -TERM "$POLLER"; wait "$POLLER" || true
python3 - "$WORK/soak.jsonl" "$WORK/soak.db" <<'PY'
import json, sqlite3, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
final = [l for l in lines if l.get("final")][-1]
db = sqlite3.connect(sys.argv[2])
stored = db.execute("SELECT COUNT(*) FROM checkins").fetchone()[0]
acts = dict(db.execute("SELECT action, COUNT(*) FROM audit_events GROUP BY action").fetchall())
print(f"soak: {final['polls']} polls, {final['pollsOk']} ok, {final['pollsFailed']} failed; "
      f"{final['rowsWritten']} check-ins written, {stored} in the store, {final['rowsPending']} pending; "
      f"lost: {final['pollsOk'] - stored}")
print("soak events: " + ", ".join(f"{k} {v}" for k, v in sorted(acts.items())))
PY
