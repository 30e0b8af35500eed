#!/usr/bin/env bash
# Provisioning benchmark (issue 6): one 200-line bootstrap template pushed to
# ROUTERS (default 1,000) simulated routers on loopback in waves (1, 10 %,
# 100 %), 64 at once: backup, safety net, 200 steps, verify, confirm per
# router. Prints wall time, peak RSS of the pusher, database connections
# (MariaDB run) and audit records written. Figures only.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"
ROUTERS=${ROUTERS:-1000}
PORT=${PORT:-26000}
ulimit -n 20000 2>/dev/null || true
ensure_mariadb
log "Building release binaries"
cargo build --release -q -p routeros-sim -p fleetdeck-cli
WORK=$(mktemp -d)
SIM=""
cleanup() { [ -n "$SIM" ] && kill "$SIM" 2>/dev/null; rm -rf "$WORK"; mysql -h127.0.0.1 -uroot -e 'DROP DATABASE IF EXISTS fleetdeck_bench_push' || true; }
trap cleanup EXIT
export RPW="" FLEETDECK_DATA_DIR="$WORK" FLEETDECK_CREDENTIALS=file

"$TARGET/release/routeros-sim" --devices "$ROUTERS" --port "$PORT" >"$WORK/sim.log" 2>&1 &
SIM=$!
for _ in $(seq 1 300); do grep -q '^ready' "$WORK/sim.log" && break; sleep 0.1; done

# 200 lines: identity, a bridge, its port, 197 addresses with comments.
{
  echo '/system identity set name={{ id: name }}'
  echo '/interface bridge add name=bridge1 comment={{ note: string }}'
  echo '/interface bridge port add bridge=bridge1 interface=ether2'
  for i in $(seq 1 197); do
    echo "/ip address add address=10.$((i / 250)).$((i % 250)).1/32 interface=bridge1 comment=\"line $i: {{ note }}\""
  done
} >"$WORK/bootstrap.rsc"
printf '{"id": "branch", "note": "provisioned by fleetdeck"}' >"$WORK/values.json"
echo "template: $(wc -l <"$WORK/bootstrap.rsc") lines"

run() { # label store-url
  /usr/bin/time -f '%M %e' -o "$WORK/time" "$TARGET/release/fleetdeck-cli" push \
    --template "$WORK/bootstrap.rsc" --values "$WORK/values.json" \
    --targets "127.0.0.1:$PORT+$ROUTERS" --password-env RPW --store "$2" \
    --concurrency 64 --waves 1,10%,100% --json >"$WORK/push.jsonl" 2>"$WORK/push.err" || true
  read -r kib wall <"$WORK/time"
  tail -1 "$WORK/push.jsonl" | python3 -c "import json,sys; r=json.load(sys.stdin); print('$1: %d routers, %d succeeded, %d failed, %d not pushed; %.1f s in the engine, %.1f s whole process; peak RSS %.0f MiB' % (r['routers'], r['succeeded'], r['failed'], r['skipped'], r['seconds'], $wall, $kib/1024))"
}

log "Into the embedded store"
run "sqlite" "sqlite://$WORK/push.db"
python3 - "$WORK/push.db" "$ROUTERS" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1]); n = int(sys.argv[2])
audit = db.execute("SELECT COUNT(*) FROM audit_events").fetchone()[0]
pushes = dict(db.execute("SELECT status, COUNT(*) FROM push_records GROUP BY status").fetchall())
print(f"sqlite: {audit} audit records (expected {n * 207}: 207 per router), push records {pushes}")
PY

log "Into MariaDB (a fresh simulator fleet)"
kill "$SIM"; wait "$SIM" 2>/dev/null || true
"$TARGET/release/routeros-sim" --devices "$ROUTERS" --port "$PORT" >"$WORK/sim.log" 2>&1 &
SIM=$!
for _ in $(seq 1 300); do grep -q '^ready' "$WORK/sim.log" && break; sleep 0.1; done
mysql -h127.0.0.1 -uroot -e 'DROP DATABASE IF EXISTS fleetdeck_bench_push; CREATE DATABASE fleetdeck_bench_push'
URL="mysql://root@127.0.0.1:3306/fleetdeck_bench_push?ca=$FLEETDECK_TEST_MYSQL_CA"
"$TARGET/release/fleetdeck-cli" store migrate --store "$URL" >/dev/null
( max=0
  while [ ! -f "$WORK/done" ]; do
    n=$(mysql -h127.0.0.1 -uroot -N -e "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB='fleetdeck_bench_push'" 2>/dev/null || echo 0)
    [ "$n" -gt "$max" ] && max=$n
    sleep 0.05
  done
  echo "$max" >"$WORK/maxconn" ) &
SAMPLER=$!
run "mariadb" "$URL"
touch "$WORK/done"; wait "$SAMPLER"
audit=$(mysql -h127.0.0.1 -uroot -N -e "SELECT COUNT(*) FROM fleetdeck_bench_push.audit_events")
echo "mariadb: $audit audit records (expected $((ROUTERS * 207))); at most $(cat "$WORK/maxconn") database connections"
