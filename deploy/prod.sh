#!/usr/bin/env bash
# The RangeX production stack (deploy/compose.yaml) in one command:
#
#   bash deploy/prod.sh up          build what is missing, start everything, wait until healthy
#   bash deploy/prod.sh down        stop and remove the containers (data volumes stay)
#   bash deploy/prod.sh status      containers, their health, and /healthz of the web container
#   bash deploy/prod.sh logs [svc]  follow the logs (of one service)
#   bash deploy/prod.sh build       build the images only
#   bash deploy/prod.sh manage ...  run a manage.py command in the web container
#   bash deploy/prod.sh backup [dir]     write a backup archive (default deploy/backups/)
#   bash deploy/prod.sh restore FILE     replace the database and media with a backup
#   bash deploy/prod.sh destroy [--yes]  down, and delete the data volumes too
#   bash deploy/prod.sh compose ...      any docker compose command on this stack
#
# The first `up` writes the install's settings and secrets into RANGEX_STACK_DIR (default
# deploy/.secrets/, mode 700, never committed): stack.env (host name, ports, instance id; any RangeX
# variable of .env.example may be added), secret_key, field_encryption_keys, db_password,
# redis_password, tls/ (the site's certificate) and docker-tls/ (the client certificate for an
# engine on another host). Keep that folder: backups cannot be decrypted without
# field_encryption_keys. Variables set when the folder is first written become its settings, e.g.
#   RANGEX_HOSTNAME=rangex.example.org bash deploy/prod.sh up
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STACK_DIR="${RANGEX_STACK_DIR:-$ROOT/deploy/.secrets}"
PROJECT="${RANGEX_PROJECT:-rangex}"
COMPOSE_FILE="$ROOT/deploy/compose.yaml"
APP_GID=10001  # the rangex group inside the RangeX image, which must read the secret files

random_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }
# A Fernet key: 32 random bytes in url-safe base64.
fernet_key() { head -c 32 /dev/urandom | base64 | tr '+/' '-_'; }

write_secret() {
  local name="$1" value="$2"
  [ -s "$STACK_DIR/$name" ] && return
  (umask 077 && printf '%s\n' "$value" >"$STACK_DIR/$name")
  as_root chgrp "$APP_GID" "$STACK_DIR/$name"
  as_root chmod 640 "$STACK_DIR/$name"
}

# Write the settings and secrets of this install once; later runs keep them.
ensure_stack_dir() {
  mkdir -p "$STACK_DIR" "$STACK_DIR/tls" "$STACK_DIR/docker-tls"
  chmod 700 "$STACK_DIR" "$STACK_DIR/tls"
  # The client certificate of a remote engine, readable by RangeX's processes only.
  as_root chgrp -R "$APP_GID" "$STACK_DIR/docker-tls"
  as_root chmod -R g+rX,o= "$STACK_DIR/docker-tls"
  STACK_DIR="$(cd "$STACK_DIR" && pwd)"
  if [ ! -f "$STACK_DIR/stack.env" ]; then
    local host="${RANGEX_HOSTNAME:-localhost}" port="${RANGEX_HTTPS_PORT:-443}" site
    site="https://$host"
    [ "$port" = 443 ] || site="$site:$port"
    say "Writing the settings of this install to $STACK_DIR/stack.env"
    cat >"$STACK_DIR/stack.env" <<EOF
# RangeX stack settings, written once by deploy/prod.sh; edit, then run 'bash deploy/prod.sh up'.
# Any variable of .env.example may be added (EMAIL_URL, DEFAULT_FROM_EMAIL, RANGEX_DOCKER_URL, ...).
# The secrets are the files next to this one; keep this folder with your backups.

# The public name and ports of the site. Change ALLOWED_HOSTS and SITE_URL with them.
RANGEX_HOSTNAME=$host
RANGEX_HTTPS_PORT=$port
RANGEX_HTTP_PORT=${RANGEX_HTTP_PORT:-80}
RANGEX_BIND=${RANGEX_BIND:-0.0.0.0}
ALLOWED_HOSTS=$host
SITE_URL=$site
# Your own certificate (paths on this host), copied to tls/ on every 'up'; empty = self-signed.
RANGEX_TLS_CERT=${RANGEX_TLS_CERT:-}
RANGEX_TLS_KEY=${RANGEX_TLS_KEY:-}

# Names this install's labs, Redis keys and Docker labels. Unique per install on a shared engine:
# two installs with the same id would stop each other's labs as orphans. Never change it while labs run.
RANGEX_INSTANCE=${RANGEX_INSTANCE:-rangex-$(random_hex 3)}

# Start-up: build the lab images on the engine when missing; create the demo accounts and scenarios.
RANGEX_BUILD_LAB_IMAGES=${RANGEX_BUILD_LAB_IMAGES:-true}
RANGEX_LAB_IMAGES=${RANGEX_LAB_IMAGES:-demo}
RANGEX_SEED_DEMO=${RANGEX_SEED_DEMO:-false}
RANGEX_WORKER_CONCURRENCY=${RANGEX_WORKER_CONCURRENCY:-2}
RANGEX_MAX_BODY_MB=${RANGEX_MAX_BODY_MB:-110}

# Email. Until EMAIL_URL names your mail server (smtp+tls://user:password@mail.example.org:587),
# no mail is sent: password resets and verification mails reach nobody, and the log shows only who
# a mail was for, never its body. Set EMAIL_URL, then remove RANGEX_ALLOW_CONSOLE_EMAIL so that
# 'manage check --deploy' refuses an install that cannot mail (rangex.E001).
EMAIL_URL=${EMAIL_URL:-}
RANGEX_ALLOW_CONSOLE_EMAIL=${RANGEX_ALLOW_CONSOLE_EMAIL:-$([ -n "${EMAIL_URL:-}" ] && echo false || echo true)}
EOF
    chmod 600 "$STACK_DIR/stack.env"
  fi
  write_secret secret_key "$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=')"
  write_secret field_encryption_keys "$(fernet_key)"
  write_secret db_password "$(random_hex 24)"
  write_secret redis_password "$(random_hex 24)"
}

# Read one setting of stack.env (the environment wins, as it does for compose).
setting() {
  local name="$1" value="${!1:-}"
  if [ -z "$value" ]; then
    value="$(sed -n "s/^$name=//p" "$STACK_DIR/stack.env" | tail -1)"
  fi
  printf '%s' "$value"
}

# The operator's certificate, when stack.env names one, replaces the files nginx reads.
CERTIFICATE_CHANGED=false
install_certificate() {
  local cert key
  cert="$(setting RANGEX_TLS_CERT)"
  key="$(setting RANGEX_TLS_KEY)"
  [ -n "$cert" ] || return 0
  [ -r "$cert" ] && [ -r "$key" ] || die "RANGEX_TLS_CERT/RANGEX_TLS_KEY name files that cannot be read"
  if cmp -s "$cert" "$STACK_DIR/tls/cert.pem" && cmp -s "$key" "$STACK_DIR/tls/key.pem"; then return 0; fi
  install -m 644 "$cert" "$STACK_DIR/tls/cert.pem"
  install -m 600 "$key" "$STACK_DIR/tls/key.pem"
  CERTIFICATE_CHANGED=true
}

compose() {
  "${COMPOSE[@]}" --project-name "$PROJECT" --file "$COMPOSE_FILE" --env-file "$STACK_DIR/stack.env" "$@"
}

prepare() {
  command -v docker >/dev/null || ensure_packages docker.io iptables
  ensure_docker
  ensure_compose
  ensure_stack_dir
  export RANGEX_STACK_DIR="$STACK_DIR"
  export RANGEX_DOCKER_SOCKET="${RANGEX_DOCKER_SOCKET:-/var/run/docker.sock}"
  # The containers' user joins the socket's group, and no group at all when no socket is mounted.
  if [ -z "${RANGEX_DOCKER_GID:-}" ]; then
    RANGEX_DOCKER_GID="$APP_GID"
    [ -S "$RANGEX_DOCKER_SOCKET" ] && RANGEX_DOCKER_GID="$(stat -c %g "$RANGEX_DOCKER_SOCKET")"
  fi
  export RANGEX_DOCKER_GID
}

build() {
  ensure_debian_base
  # Builder stages trust the host's CA bundle as well (a TLS-inspecting proxy on the way to PyPI/npm).
  mkdir -p "$ROOT/deploy/.build"
  cp "${RANGEX_BUILD_CA_FILE:-/etc/ssl/certs/ca-certificates.crt}" "$ROOT/deploy/.build/host-ca.crt" 2>/dev/null \
    || : >"$ROOT/deploy/.build/host-ca.crt"
  local started=$SECONDS
  say "Building the images (the first build takes several minutes; later ones reuse the cache)"
  # Compose v2 builds the images side by side by itself; 1.29 needs to be asked.
  local parallel=()
  [ "${COMPOSE[0]}" = docker-compose ] && parallel=(--parallel)
  compose build "${parallel[@]}" >"$LOG_DIR/stack-build.log" 2>&1 || { tail -40 "$LOG_DIR/stack-build.log"; die "build failed (log: var/log/stack-build.log)"; }
  say "Images built in $((SECONDS - started)) s"
}

# Wait until every long-running container is healthy (or running, when it has no health check).
wait_healthy() {
  local deadline=$((SECONDS + ${RANGEX_UP_TIMEOUT:-600})) ids line pending
  while :; do
    ids="$(compose ps -q)"
    pending=""
    for id in $ids; do
      line="$(docker inspect -f '{{.Name}} {{.State.Status}} {{.State.ExitCode}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$id")"
      set -- $line
      case "$2/$4" in
        exited/none) [ "$3" = 0 ] || die "$1 exited with $3: bash deploy/prod.sh logs" ;;
        running/healthy | running/none) ;;
        *) pending="$pending ${1#/}($2/$4)" ;;
      esac
    done
    [ -n "$ids" ] && [ -z "$pending" ] && return 0
    [ $SECONDS -lt $deadline ] || die "not healthy in time:$pending (bash deploy/prod.sh logs)"
    sleep 2
  done
}

cmd_up() {
  prepare
  install_certificate
  build
  local started=$SECONDS
  say "Starting the stack ($PROJECT): migrations, static files, beat schedule and lab images run first"
  compose up -d --remove-orphans || { compose logs --tail 30 init; die "the stack did not start (bash deploy/prod.sh logs)"; }
  wait_healthy
  # A running nginx read the old certificate at its start: a renewal needs a reload.
  if [ "$CERTIFICATE_CHANGED" = true ]; then compose exec -T nginx nginx -s reload; fi
  local host port
  host="$(setting RANGEX_HOSTNAME)"
  port="$(setting RANGEX_HTTPS_PORT)"
  say "Healthy $((SECONDS - started)) s after start. Open https://$host$([ "$port" = 443 ] || echo ":$port")/"
  [ -s "$STACK_DIR/tls/cert.pem" ] && [ -z "$(setting RANGEX_TLS_CERT)" ] \
    && say "The certificate is self-signed: $STACK_DIR/tls/cert.pem"
  say "First admin: bash deploy/prod.sh manage createsuperuser --email you@example.org"
}

cmd_manage() {
  local tty=()
  [ -t 0 ] && [ -t 1 ] || tty=(-T)
  compose exec "${tty[@]}" web rangex-entrypoint python manage.py "$@"
}

cmd_status() {
  compose ps
  say "/healthz of the web container:"
  compose exec -T web rangex-entrypoint python -c \
    "import urllib.request,os; h=os.environ['ALLOWED_HOSTS'].split(',')[0]; \
print(urllib.request.urlopen(urllib.request.Request('http://127.0.0.1:8000/healthz', headers={'Host': h})).read().decode())" \
    || warn "/healthz did not answer 200"
}

cmd_backup() {
  local dir="${1:-$ROOT/deploy/backups}" file
  mkdir -p "$dir"
  chmod 700 "$dir"
  file="$dir/rangex-$(setting RANGEX_INSTANCE)-$(date -u +%Y%m%d-%H%M%S).tar.gz"
  (umask 077 && compose exec -T web rangex-entrypoint python manage.py backup --output - >"$file") \
    || { rm -f "$file"; die "backup failed"; }
  say "Backup written to $file ($(du -h "$file" | cut -f1))."
  say "Keep $STACK_DIR/field_encryption_keys with it: a restore needs those keys."
}

cmd_restore() {
  local file="${1:-}"
  [ -r "$file" ] || die "usage: bash deploy/prod.sh restore FILE.tar.gz"
  say "Stopping the web, worker, beat and nginx containers"
  compose stop nginx web worker beat
  compose up -d db redis
  say "Restoring $file (the database's tables are dropped first)"
  compose run --rm -T --no-deps init python manage.py restore - --replace --no-input <"$file"
  say "Starting again (migrate runs first)"
  compose up -d --remove-orphans
  wait_healthy
  say "Restored."
}

cmd_destroy() {
  if [ "${1:-}" != "--yes" ]; then
    read -r -p "Delete the containers AND the data volumes (database, media) of '$PROJECT'? Type yes: " answer
    [ "$answer" = yes ] || die "cancelled"
  fi
  compose down --volumes --remove-orphans
}

command="${1:-}"
shift || true
case "$command" in
  up) cmd_up ;;
  down) prepare && compose down --remove-orphans ;;
  status) prepare && cmd_status ;;
  logs) prepare && compose logs --tail 200 -f "$@" ;;
  build) prepare && build ;;
  manage) prepare && cmd_manage "$@" ;;
  backup) prepare && cmd_backup "$@" ;;
  restore) prepare && cmd_restore "$@" ;;
  destroy) prepare && cmd_destroy "$@" ;;
  compose) prepare && compose "$@" ;;
  *)
    sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
