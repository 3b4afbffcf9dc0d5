#!/usr/bin/env bash
# Run RangeX with its demo content on the embedded default (SQLite, in-memory channel layer,
# tasks on a background thread, local Docker engine), serving http://127.0.0.1:8000 (or RANGEX_BIND).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

started=$(date +%s)
ensure_system_packages
ensure_docker
ensure_python
ensure_static
ensure_messages
ensure_dev_env
cd "$ROOT"
site_address >/dev/null

say "Preparing the database"
"$PY" manage.py migrate --no-input -v 0
if "$PY" manage.py help build_images >/dev/null 2>&1; then
  say "Building the lab images (the first run takes a few minutes; later runs reuse them)"
  "$PY" manage.py build_images --set all
fi
say "Seeding the demo content"
"$PY" manage.py seed_demo
say "Ready in $(( $(date +%s) - started )) s. Open $SITE_URL (Ctrl-C stops)."
exec "$PY" manage.py runserver "${RANGEX_BIND:-127.0.0.1:8000}"
