#!/usr/bin/env bash
# Fleet store benchmarks (issue 4): ingest into SQLite (sweeps of 10,000
# routers) and into MariaDB (single-row versus batched), then every dashboard
# query's p50/p95 on a synthetic fleet of 10,000 routers at several scales on
# SQLite and at one scale on MariaDB. Prints figures only.
#
#   SCALES=1M,10M,50.9M MYSQL_SCALE=10M scripts/bench-store.sh   # the full run (~25 min, ~6 GB of disk)
#   scripts/bench-store.sh                                        # quick: 1M,10M on SQLite, 1M on MariaDB
#
# Generated data goes to a temporary folder (BENCH_DIR to choose one) and to
# throwaway MariaDB databases, never into the repository.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"
ensure_mariadb
export FLEETDECK_BENCH_SCALES=${SCALES:-1M,10M}
export FLEETDECK_BENCH_MYSQL_SCALE=${MYSQL_SCALE:-1M}
[ -n "${BENCH_DIR:-}" ] && export FLEETDECK_BENCH_DIR=$BENCH_DIR
cargo bench -p fleet-store --bench store
