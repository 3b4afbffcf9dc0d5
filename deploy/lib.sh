# Shared set-up steps for deploy/run.sh, deploy/test.sh and .ci/run.
# Each step checks first and does only what is missing, so running them again is cheap.
# shellcheck shell=bash

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
LOG_DIR="$ROOT/var/log"
mkdir -p "$LOG_DIR"

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
die() { printf '\033[1;31mxx\033[0m %s\n' "$*" >&2; exit 1; }
warn() { printf '\033[1;33m!!\033[0m %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    die "root is needed for: $*"
  fi
}

# Debian packages RangeX needs: build headers for mysqlclient, the Docker engine, image bases,
# gettext (msgfmt compiles the translation catalogs) and Chromium for the browser tests.
APT_PACKAGES=(pkg-config libmariadb-dev docker.io busybox-static debootstrap chromium iptables gettext)

ensure_system_packages() {
  local missing=()
  for pkg in "${APT_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "Installing Debian packages: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
      >"$LOG_DIR/apt.log" 2>&1 || { tail -20 "$LOG_DIR/apt.log"; die "apt-get install failed"; }
  fi
}

# Only the tests need these: a real private registry (Debian's docker-registry, htpasswd auth from
# apache2-utils) that the runtime tests start on 127.0.0.1 and tear down again.
TEST_APT_PACKAGES=(docker-registry apache2-utils)

ensure_test_packages() {
  ensure_system_packages "${TEST_APT_PACKAGES[@]}"
  # The package's own service would listen on every address (:5000); the tests start their own.
  if command -v systemctl >/dev/null && systemctl is-enabled docker-registry >/dev/null 2>&1; then
    as_root systemctl disable --now docker-registry >/dev/null 2>&1 || true
  fi
}

# Start a long-lived daemon as a service manager would: in a session (and process group) of its
# own, with no terminal and stdin from /dev/null, so Ctrl-C or any signal sent to the run
# command's process group never reaches it. Its output is appended to LOG.
start_detached() {
  local log="$1"
  shift
  as_root setsid -f nohup "$@" </dev/null >>"$log" 2>&1
}

ensure_docker() {
  if docker info >/dev/null 2>&1; then ensure_lab_firewall; return; fi
  say "Starting the Docker engine (dockerd), detached: stop it with: sudo kill \$(cat /var/run/docker.pid)"
  # Every lab network takes an address pool; Docker's defaults hold only about 30, this one 256.
  start_detached "$LOG_DIR/dockerd.log" dockerd \
    --default-address-pool "base=${RANGEX_DOCKER_POOL:-10.213.0.0/16},size=24"
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && { ensure_lab_firewall; return; }
    sleep 0.5
  done
  tail -20 "$LOG_DIR/dockerd.log" >&2 || true
  die "dockerd did not start (log: var/log/dockerd.log)"
}

# A lab group with outbound traffic has the host as its gateway (bridges named rxe<hash> by the
# Docker runtime). Drop whatever those bridges send to the host itself, so a lab never reaches the
# host's own services; forwarded (outbound) traffic is untouched.
ensure_lab_firewall() {
  command -v iptables >/dev/null || { warn "iptables is missing: labs with outbound traffic could reach this host"; return; }
  as_root iptables -C INPUT -i rxe+ -j DROP 2>/dev/null || as_root iptables -I INPUT -i rxe+ -j DROP
}

ensure_mariadb() {
  if mysqladmin --protocol=tcp -h 127.0.0.1 -uroot ping >/dev/null 2>&1; then return; fi
  if ! command -v mariadbd >/dev/null && [ ! -x /usr/sbin/mariadbd ]; then
    ensure_system_packages mariadb-server
  fi
  say "Starting MariaDB"
  as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
  for _ in $(seq 1 60); do
    mysqladmin --protocol=tcp -h 127.0.0.1 -uroot ping >/dev/null 2>&1 && return
    sleep 0.5
  done
  die "MariaDB did not start on 127.0.0.1:3306"
}

ensure_redis() {
  if redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then return; fi
  command -v redis-server >/dev/null || ensure_system_packages redis-server redis-tools
  say "Starting Redis"
  as_root mkdir -p /var/lib/redis /var/log/redis
  as_root redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/rangex.log
  for _ in $(seq 1 40); do
    redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && return
    sleep 0.25
  done
  die "Redis did not start on 127.0.0.1:6379"
}

ensure_python() {
  if [ ! -x "$PY" ]; then
    say "Creating the virtual environment (.venv)"
    python3 -m venv "$VENV"
  fi
  local stamp="$VENV/.rangex-installed"
  local want
  want="$(cat "$ROOT/pyproject.toml" "$ROOT/requirements.lock" | sha256sum | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "Installing Python packages"
    "$PY" -m pip install -q --upgrade pip >/dev/null
    "$PY" -m pip install -q -c "$ROOT/requirements.lock" -e "$ROOT[dev]"
    echo "$want" >"$stamp"
  fi
}

ensure_static() {
  local stamp="$ROOT/node_modules/.rangex-installed"
  local want
  # The vendor script is part of the stamp: a change to what it copies must reach static/vendor.
  want="$(cat "$ROOT/package-lock.json" "$ROOT/deploy/vendor-static.mjs" | sha256sum | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || [ ! -d "$ROOT/static/vendor" ]; then
    say "Installing front-end packages from the npm registry"
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" >"$stamp"
  fi
}

# Compile the translation catalogs (locale/*/LC_MESSAGES/*.po -> .mo, not committed) that are
# missing or older than their .po: what `manage.py compilemessages` does, without settings.
ensure_messages() {
  (cd "$ROOT" && "$PY" -c 'from rangex.core.i18n_check import compile_catalogs; compile_catalogs()') \
    || die "compiling the translation catalogs failed (is gettext installed?)"
}

# Write a .env with fresh secrets and a unique instance id for the embedded default, once.
# The address people open, from RANGEX_BIND ("host:port", ":port" or "port"; 0.0.0.0 and :: mean
# every interface, shown as 127.0.0.1) unless SITE_URL is set in the environment or .env. It exports
# SITE_URL, so links in emails and the start-up banner name the port the server really listens on.
site_address() {
  local bind="${RANGEX_BIND:-127.0.0.1:8000}" host port from_env
  case "$bind" in
    *:*) host="${bind%:*}"; port="${bind##*:}" ;;
    *) host=127.0.0.1; port="$bind" ;;
  esac
  case "$host" in ""|0.0.0.0|"[::]"|::) host=127.0.0.1 ;; esac
  from_env="$(grep -s '^SITE_URL=' "$ROOT/.env" | tail -n 1 | cut -d= -f2- || true)"
  export SITE_URL="${SITE_URL:-${from_env:-http://$host:$port}}"
  printf '%s\n' "$SITE_URL"
}

ensure_dev_env() {
  if [ -f "$ROOT/.env" ]; then
    ensure_instance_id
    return
  fi
  say "Writing .env with fresh secrets for the embedded default"
  local secret key
  secret="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(50))')"
  key="$("$PY" -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
  umask 077
  cat >"$ROOT/.env" <<EOF
# Written by deploy/run.sh for the embedded default. Never commit this file.
SECRET_KEY=$secret
FIELD_ENCRYPTION_KEYS=$key
DEBUG=true
# Unique per install: the runtime lists and removes only lab resources labelled with it.
RANGEX_INSTANCE=$(new_instance_id)
EOF
}

new_instance_id() {
  printf 'rangex-%s' "$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
}

# A .env written before instance ids were generated gets one, unless labs already run under the
# shared default (their containers carry that label: a new id would leave them behind).
ensure_instance_id() {
  grep -q '^RANGEX_INSTANCE=.' "$ROOT/.env" && return
  if command -v docker >/dev/null && [ -n "$(docker ps -aq --filter label=rangex.instance=rangex 2>/dev/null)" ]; then
    warn "Labs run under the shared instance id 'rangex'; keeping it (stop them, then delete RANGEX_INSTANCE from .env)"
    return
  fi
  local id
  id="$(new_instance_id)"
  say "Giving this install its own instance id ($id) in .env"
  printf '# Unique per install: the runtime lists and removes only lab resources labelled with it.\nRANGEX_INSTANCE=%s\n' "$id" >>"$ROOT/.env"
}

# Install the named Debian packages that are missing (and nothing else).
ensure_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return
  say "Installing Debian packages: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >"$LOG_DIR/apt.log" 2>&1 || { tail -20 "$LOG_DIR/apt.log"; die "apt-get install failed"; }
}

# Compose v2 (the docker CLI plugin) when it is there, else Debian's docker-compose 1.29; the
# stack's compose file is written for both. Sets the COMPOSE array.
ensure_compose() {
  if docker compose version >/dev/null 2>&1; then
    COMPOSE=(docker compose)
    return
  fi
  command -v docker-compose >/dev/null || ensure_packages docker-compose
  COMPOSE=(docker-compose)
}

# The Debian base every local image starts FROM: debootstrap's minbase imported as an image. The same
# recipe as `manage.py build_images --set demo` (apps/images/management/commands/build_images.py),
# here in shell so the production stack builds on a host without RangeX's virtualenv.
DEBIAN_BASE_IMAGE="rangex/debian:bookworm"
ensure_debian_base() {
  if docker image inspect "$DEBIAN_BASE_IMAGE" >/dev/null 2>&1; then return; fi
  ensure_packages debootstrap
  say "Building $DEBIAN_BASE_IMAGE with debootstrap (about a minute)"
  local work
  work="$(mktemp -d /tmp/rangex-debootstrap.XXXXXX)"
  as_root debootstrap --variant=minbase bookworm "$work/rootfs" http://deb.debian.org/debian \
    >"$LOG_DIR/debootstrap.log" 2>&1 || { tail -20 "$LOG_DIR/debootstrap.log"; as_root rm -rf "$work"; die "debootstrap failed"; }
  as_root find "$work/rootfs/var/cache/apt/archives" -name '*.deb' -delete
  as_root tar -C "$work/rootfs" --numeric-owner -c . \
    | docker import -c 'CMD ["bash"]' -c 'ENV LANG=C.UTF-8' - "$DEBIAN_BASE_IMAGE" >/dev/null
  as_root rm -rf "$work"
}
