"""``/healthz``: is this process able to serve? One cheap probe per part it depends on.

Load balancers and the compose health checks call it every few seconds without signing in, so it
reads no user data, writes nothing to the database, and says only ``ok``/``fail``/``skipped`` and a
latency per part: never an address, a URL or an error text (those go to the log, redacted).
The answer is 200 when every part is ok or skipped, else 503.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

OK, FAIL, SKIPPED = "ok", "fail", "skipped"
# Each remote part gets this long; a slower answer counts as a failure.
PART_TIMEOUT_SECONDS = 3.0

# The engine client has a long timeout of its own (launches take minutes), so its ping runs on this
# small pool and the probe stops waiting after PART_TIMEOUT_SECONDS: a wedged engine then costs
# each probe a few seconds instead of holding a server thread for a minute.
_engine_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="healthz-engine")


class PartFailed(Exception):
    """A part answered, but not as a healthy part does."""


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        if cursor.fetchone() != (1,):
            raise PartFailed("SELECT 1 returned something else")
    return OK


def _check_cache() -> str:
    # A key of its own per probe: two probes at once never read each other's value.
    key, value = f"healthz:{secrets.token_hex(8)}", secrets.token_hex(8)
    cache.set(key, value, timeout=10)
    try:
        if cache.get(key) != value:
            raise PartFailed("the value written was not read back")
    finally:
        cache.delete(key)
    return OK


def _check_broker() -> str:
    url = settings.CELERY_BROKER_URL
    if url.startswith("memory://"):
        # The embedded default has no broker: tasks run in the web process.
        return SKIPPED
    from kombu import Connection

    options = dict(getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}) or {})
    options.update(socket_timeout=PART_TIMEOUT_SECONDS)
    with Connection(url, connect_timeout=PART_TIMEOUT_SECONDS, transport_options=options) as broker:
        broker.ensure_connection(max_retries=1, interval_start=0, interval_step=0, interval_max=0)
    return OK


def _ping_engine() -> bool:
    from apps.runtime import get_runtime

    return bool(get_runtime().ping().get("ok"))


def _check_engine() -> str:
    try:
        answered = _engine_pool.submit(_ping_engine).result(timeout=PART_TIMEOUT_SECONDS)
    except FutureTimeout:
        raise PartFailed(f"no answer within {PART_TIMEOUT_SECONDS:g}s") from None
    if not answered:
        raise PartFailed("the runtime's ping failed")
    return OK


def _check_storage() -> str:
    from rangex.core.storage import object_storage_selected, storage_health

    if not object_storage_selected():
        return SKIPPED
    try:
        ok, detail = _engine_pool.submit(storage_health).result(timeout=PART_TIMEOUT_SECONDS)
    except FutureTimeout:
        raise PartFailed(f"no answer within {PART_TIMEOUT_SECONDS:g}s") from None
    if not ok:
        raise PartFailed(detail)
    return OK


CHECKS: dict[str, Callable[[], str]] = {
    "database": _check_database,
    "cache": _check_cache,
    "broker": _check_broker,
    "engine": _check_engine,
    "storage": _check_storage,
}


def health_report() -> dict:
    """Probe every part; return ``{"status": ok|fail, "checks": {part: {"status", "ms"}}}``."""
    checks = {}
    for part, check in CHECKS.items():
        started = time.monotonic()
        try:
            status = check()
        except Exception as exc:
            logger.warning("healthz: the %s check failed: %s: %s", part, type(exc).__name__, exc)
            status = FAIL
        checks[part] = {"status": status, "ms": round((time.monotonic() - started) * 1000, 1)}
    healthy = all(result["status"] != FAIL for result in checks.values())
    return {"status": OK if healthy else FAIL, "checks": checks}


@never_cache
@require_GET
def healthz(request):
    """Answer 200 with every part's status when all are healthy, 503 otherwise."""
    report = health_report()
    return JsonResponse(report, status=200 if report["status"] == OK else 503)
