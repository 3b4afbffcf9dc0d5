#!/usr/bin/env bash
# Run the whole test suite against real services: MariaDB, Redis, the Docker engine and Chromium.
# Extra arguments go to pytest, e.g. `bash deploy/test.sh apps/accounts -x` (then only those run);
# without any, the smoke test of the production stack runs after the suite.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_system_packages
ensure_test_packages
ensure_docker
ensure_mariadb
ensure_redis
ensure_python
ensure_static
ensure_messages
cd "$ROOT"

if "$PY" manage.py help build_images >/dev/null 2>&1; then
  # The demo images too: the suite test-deploys both demo scenarios on the real engine
  # (apps/environments/tests/test_demo_solvable.py, `manage.py test_scenario`). Cached after the first run.
  # `all` includes the desktop image (Xfce, TigerVNC, Firefox: a few minutes the first time); it is
  # tagged by a hash of deploy/images/desktop, so later runs (and CI with a warm engine) skip it.
  say "Building the test, demo and desktop images (skipped while their files are unchanged)"
  DJANGO_SETTINGS_MODULE=rangex.settings_test "$PY" manage.py build_images --set all
  export RANGEX_REQUIRE_DEMO_IMAGES=1
fi

say "Checking the code style and the layer contracts"
"$VENV/bin/ruff" check --quiet .
"$VENV/bin/lint-imports" --no-cache
say "Running the tests (MariaDB, Redis, Docker, Chromium)"
if [ $# -gt 0 ]; then
  exec "$PY" -m pytest -n "${RANGEX_TEST_WORKERS:-2}" --dist loadfile "$@"
fi
"$PY" -m pytest -n "${RANGEX_TEST_WORKERS:-2}" --dist loadfile
if [ "${RANGEX_STACK_SMOKE:-1}" = 0 ]; then
  warn "RANGEX_STACK_SMOKE=0: the smoke test of the production stack is skipped"
  exit 0
fi
# The production stack (deploy/prod.sh) built and run for real, then removed: tests/stack, marked
# `stack` and deselected from the run above. Image layers stay cached for the next run.
say "Smoke-testing the production stack: build, up, HTTPS and wss:// through nginx, down"
exec "$PY" -m pytest -m stack tests/stack
