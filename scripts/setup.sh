# Shared set-up steps for scripts/run.sh and scripts/test.sh. Each step checks
# first and only installs what is missing, so both scripts are safe to re-run.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
export DEBIAN_FRONTEND=noninteractive

log() { printf '\n==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "need root to run: $* (install sudo or run as root)"; fi
}

APT_UPDATED=0
apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get: install them by hand"
  log "Installing system packages: ${missing[*]}"
  if [ "$APT_UPDATED" -eq 0 ]; then as_root apt-get update -qq; APT_UPDATED=1; fi
  as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# What building and running the desktop app needs (see shared TAURI.md).
# dbus-x11 is deliberately absent: it makes every launch start daemons.
ensure_app_packages() {
  apt_install libwebkit2gtk-4.1-dev libgtk-3-dev librsvg2-dev libayatana-appindicator3-dev \
    libssl-dev libxdo-dev libdbus-1-dev pkg-config build-essential file curl ca-certificates \
    fonts-dejavu-core
}

ensure_toolchains() {
  command -v cargo >/dev/null || die "Rust is not installed: install it with rustup (https://rustup.rs), then re-run"
  command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm
  local major minor
  major=$(node -p 'process.versions.node.split(".")[0]')
  minor=$(node -p 'process.versions.node.split(".")[1]')
  if [ "$major" -lt 20 ] || { [ "$major" -eq 20 ] && [ "$minor" -lt 19 ]; }; then
    die "Node.js $(node --version) is too old for the UI build (needs >= 20.19)"
  fi
}

ensure_ui() {
  local stamp="$ROOT/ui/node_modules/.package-lock.json"
  if [ ! -f "$stamp" ] || [ "$ROOT/ui/package-lock.json" -nt "$stamp" ]; then
    log "Installing UI packages (npm ci)"
    (cd "$ROOT/ui" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  log "Building the UI"
  (cd "$ROOT/ui" && npm run --silent build >/dev/null)
}

# MariaDB on 127.0.0.1:3306 (root, empty password, database `test`): the
# MySQL-protocol server the SingleStore backend is tested and benchmarked on.
# Started if installed, installed if missing.
ensure_mariadb() {
  local MYSQL_HOST=127.0.0.1 MYSQL_PORT=3306
  mysql_up() { (exec 3<>"/dev/tcp/$MYSQL_HOST/$MYSQL_PORT") 2>/dev/null; }
  if ! mysql_up; then
    command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || apt_install mariadb-server mariadb-client
    log "Starting MariaDB"
    as_root install -d -o mysql -g mysql /run/mysqld
    as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
    for _ in $(seq 1 60); do mysql_up && break; sleep 0.5; done
    mysql_up || die "MariaDB did not start on $MYSQL_HOST:$MYSQL_PORT"
  fi
  command -v mysql >/dev/null || apt_install mariadb-client
  for _ in $(seq 1 30); do mysql -h"$MYSQL_HOST" -uroot -e 'SELECT 1' >/dev/null 2>&1 && break
    # A fresh Debian install lets root in only over the socket: allow the
    # empty-password TCP login the tests use (this is a test machine).
    as_root mysql -uroot -e "ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('')" >/dev/null 2>&1 || true
    sleep 0.5
  done
  mysql -h"$MYSQL_HOST" -uroot -e 'CREATE DATABASE IF NOT EXISTS test' \
    || die "cannot log in to MariaDB at $MYSQL_HOST:$MYSQL_PORT as root with an empty password"
}
