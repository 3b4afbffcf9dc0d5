"""The platform's state in one report: what ``platform_status``, ``health_check`` and ``/metrics`` tell.

Every component gets ``ok``, ``degraded``, ``down`` or ``skipped`` and a message; the platform's status
is the worst of them, and the commands exit with its code (0 ok, 1 degraded, 2 down):

- down: the database, cache, broker or engine does not answer, the worker or beat stopped
  heartbeating, the web server does not answer (when ``RANGEX_WEB_HEALTH_URL`` is set), stored secrets
  do not decrypt with ``FIELD_ENCRYPTION_KEYS`` (a restore without its keys), or this month's cost
  reached the global cap (labs are stopped and launches refused);
- degraded: the latest recorded health check failed or warned, the checks are stale (the periodic
  health task has not run for ``STALE_CHECK_MINUTES``), or a scenario budget or 80 % of the cap is used.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlsplit

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from apps.ops.costs import budget_report, month_start
from apps.ops.healthz import CHECKS, FAIL, PART_TIMEOUT_SECONDS, SKIPPED
from apps.ops.liveness import liveness_state
from apps.ops.models import BudgetAlert, HealthCheck
from rangex.core.crypto import undecryptable_secret_columns
from rangex.core.heartbeats import BEAT, WORKER
from rangex.core.system import get_settings

logger = logging.getLogger(__name__)

OK, DEGRADED, DOWN = "ok", "degraded", "down"
EXIT_CODES = {OK: 0, SKIPPED: 0, DEGRADED: 1, DOWN: 2}
STALE_CHECK_MINUTES = 15
CAP_WARNING_FRACTION = Decimal("0.8")
# The checks the periodic health task records every five minutes.
PERIODIC_CHECKS = (
    HealthCheck.CheckType.ENGINE,
    HealthCheck.CheckType.DISK,
    HealthCheck.CheckType.HOST_ISOLATION,
    HealthCheck.CheckType.STUCK_SESSIONS,
)


def worst(statuses) -> str:
    """Return the worst of some component statuses (``skipped`` counts as ok)."""
    status = max(statuses, key=lambda s: EXIT_CODES[s], default=OK)
    return OK if status == SKIPPED else status


def _component(status: str, message: str, **extra) -> dict:
    return {"status": status, "message": message, **extra}


def _probe(part: str) -> dict:
    started = time.monotonic()
    try:
        result = CHECKS[part]()
    except Exception as exc:
        logger.warning("status: the %s check failed: %s: %s", part, type(exc).__name__, exc)
        result, message = FAIL, f"{part} does not answer ({type(exc).__name__})."
    else:
        message = f"{part} answers." if result != SKIPPED else f"No separate {part} in this configuration."
    status = DOWN if result == FAIL else (SKIPPED if result == SKIPPED else OK)
    return _component(status, message, ms=round((time.monotonic() - started) * 1000, 1))


def _web() -> dict:
    url = getattr(settings, "RANGEX_WEB_HEALTH_URL", "")
    if not url:
        return _component(
            SKIPPED, "Set RANGEX_WEB_HEALTH_URL (e.g. http://127.0.0.1:8000/healthz) to probe the web server."
        )
    host = urlsplit(settings.SITE_URL).netloc
    request = urllib.request.Request(url, headers={"Host": host, "Accept": "application/json"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=PART_TIMEOUT_SECONDS) as response:  # noqa: S310 (an operator's URL)
            code = response.status
    except urllib.error.HTTPError as exc:
        code = exc.code
    except Exception as exc:
        return _component(DOWN, f"The web server does not answer ({type(exc).__name__}).")
    if code == 200:
        return _component(OK, "The web server answers.")
    return _component(DOWN if code != 503 else DEGRADED, f"The web server's /healthz answered {code}.")


def _checks(now) -> dict:
    rows = {}
    for check_type in HealthCheck.CheckType.values:
        row = HealthCheck.objects.filter(check_type=check_type).order_by("-checked_at", "-id").first()
        if row is not None:
            rows[check_type] = row
    problems = [f"{t}: {r.status} ({r.message})" for t, r in rows.items() if r.status != HealthCheck.Status.OK]
    newest = max((rows[t].checked_at for t in PERIODIC_CHECKS if t in rows), default=None)
    details = {
        "latest": {
            t: {"status": r.status, "message": r.message, "checked_at": r.checked_at.isoformat()}
            for t, r in rows.items()
        }
    }
    if newest is None:
        return _component(DEGRADED, "No health check has been recorded yet (run `manage.py health_check`).", **details)
    if newest < now - timedelta(minutes=STALE_CHECK_MINUTES):
        problems.insert(0, f"the newest health check is from {newest:%Y-%m-%d %H:%M} UTC (stale)")
    if problems:
        return _component(DEGRADED, "; ".join(problems), **details)
    return _component(OK, "The latest health checks passed.", **details)


def _runtimes() -> dict:
    """Return each configured runtime's latest engine check and set-up checks (Docker and ECS side by side)."""
    from apps.runtime import configured_runtimes

    backends = {}
    for key in configured_runtimes():
        engine = (
            HealthCheck.objects.filter(check_type=HealthCheck.CheckType.ENGINE, service_name=key)
            .order_by("-checked_at", "-id")
            .first()
        )
        setup = {}
        for row in HealthCheck.objects.filter(
            check_type=HealthCheck.CheckType.AWS_CONFIG, service_name__startswith=f"{key}:"
        ).order_by("-checked_at", "-id"):
            setup.setdefault(row.service_name.split(":", 1)[1], {"status": row.status, "message": row.message})
        backends[key] = {
            "status": engine.status if engine else "unknown",
            "message": engine.message if engine else "Not checked yet.",
            "setup": setup,
        }
    # A runtime not checked yet is the "checks" component's business; here only recorded problems count.
    failed = [
        key
        for key, backend in backends.items()
        if backend["status"] not in ("unknown", HealthCheck.Status.OK)
        or any(check["status"] == HealthCheck.Status.FAILED for check in backend["setup"].values())
    ]
    if failed:
        return _component(DEGRADED, f"Runtimes with problems: {', '.join(failed)}.", backends=backends)
    return _component(OK, f"{len(backends)} runtime(s) answer: {', '.join(backends)}.", backends=backends)


def budget_state(report: dict, *, overridden: bool = False) -> dict:
    """Return the budget component of a ``costs.budget_report``: down at the cap, degraded near it.

    Over the cap but resumed by an operator for this month (``overridden``), RangeX serves: degraded.
    """
    cap, total = report["cap_usd"], report["total_usd"]
    over = [row["scenario"] for row in report["scenarios"] if row["status"] != BudgetAlert.Status.OK]
    extra = {"month_usd": total, "cap_usd": cap, "scenarios_over": over, "operator_override": overridden}
    if cap and total >= cap:
        if overridden:
            return _component(
                DEGRADED,
                f"This month's cost USD {total} is over the cap of USD {cap}; an operator resumed RangeX "
                "('maintenance clear-override' lets the budget check pause it).",
                **extra,
            )
        return _component(DOWN, f"This month's cost USD {total} reached the cap of USD {cap}.", **extra)
    problems = []
    if cap and total >= cap * CAP_WARNING_FRACTION:
        problems.append(f"USD {total} of the USD {cap} cap is used")
    if over:
        problems.append(f"scenario budgets alerted or exceeded: {', '.join(over)}")
    if problems:
        return _component(DEGRADED, "; ".join(problems) + ".", **extra)
    return _component(OK, f"USD {total} this month" + (f" of a USD {cap} cap." if cap else " (no cap)."), **extra)


def _encryption() -> dict:
    broken = undecryptable_secret_columns()
    if broken:
        return _component(
            DOWN,
            f"Stored secrets cannot be decrypted with FIELD_ENCRYPTION_KEYS ({', '.join(broken)}): the keys differ "
            "from those this database was written with, as after a restore without its keys. Configure the keys "
            "backed up with the database (README, 'Backups and restore'), or enter those secrets again.",
            columns=broken,
        )
    return _component(OK, "Every stored secret sampled decrypts with FIELD_ENCRYPTION_KEYS.")


def _guarded(name: str, read) -> dict:
    try:
        return read()
    except Exception as exc:
        logger.warning("status: %s could not be read: %s: %s", name, type(exc).__name__, exc)
        return _component(DOWN, f"{name} could not be read ({type(exc).__name__}).")


def _budget(now) -> dict:
    month = month_start(now)
    overridden = get_settings().budget_override_month == month
    return budget_state(budget_report(month=month), overridden=overridden)


def platform_status_report(*, now=None) -> dict:
    """Probe every part and read the recorded state; return ``{"status", "exit_code", "components"}``."""
    now = now or timezone.now()
    components = {part: _probe(part) for part in CHECKS}
    components["web"] = _web()
    for name in (WORKER, BEAT):
        state = _guarded(name, lambda name=name: liveness_state(name))
        components[name] = _component(state["status"], state["message"], age_seconds=state.get("age_seconds"))
    components["encryption"] = _guarded("encryption", _encryption)
    components["checks"] = _guarded("checks", lambda: _checks(now))
    components["runtimes"] = _guarded("runtimes", _runtimes)
    components["budget"] = _guarded("budget", lambda: _budget(now))
    status = worst([c["status"] for c in components.values()])
    return {"status": status, "exit_code": EXIT_CODES[status], "checked_at": now, "components": components}


def as_json(data) -> str:
    """Return ``data`` as indented JSON (decimals as strings, times in ISO 8601)."""
    return json.dumps(data, cls=DjangoJSONEncoder, indent=2, sort_keys=True, default=str)


def check_as_dict(check: HealthCheck) -> dict:
    return {
        "check_type": check.check_type,
        "service": check.service_name,
        "status": check.status,
        "message": check.message,
        "checked_at": check.checked_at,
        "auto_healed": check.auto_healed,
        "heal_action": check.heal_action,
    }


def overview_as_dict(o: dict) -> dict:
    """Return the JSON-safe part of ``selectors_dashboard.platform_overview``."""
    return {
        "sessions": o["sessions"],
        "containers": o["containers"],
        "cost_today_rm": o["cost_today_rm"],
        "month_rm": o["month_rm"],
        "month_usd": o["month_usd"],
        "cap_usd": o["cap_usd"],
        "budget_pct": o["budget_pct"],
        "maintenance": o["maintenance"],
        "checks": [check_as_dict(c) for c in o["checks"]],
    }
