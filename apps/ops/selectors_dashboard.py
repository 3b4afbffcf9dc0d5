"""Reads behind the admin dashboard, ``platform_status`` and the metrics endpoint."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone

from apps.environments import services as env_services
from apps.environments.models import LIVE_STATUSES, EnvironmentMachine, EnvironmentSession, SessionStatus
from apps.ops.costs import _rm_per_usd, month_pool_cost_rm, month_spend_rm, month_start
from apps.ops.models import AlertLog, HealthCheck, OrphanedTaskLog, UsageDaily
from rangex.core.system import get_settings


def sessions_by_status() -> dict[str, int]:
    rows = EnvironmentSession.objects.values("status").annotate(n=Count("id")).order_by()
    return {row["status"]: row["n"] for row in rows}


def live_container_count() -> int:
    return EnvironmentMachine.objects.filter(
        environment_session__status__in=LIVE_STATUSES, status=EnvironmentMachine.Status.RUNNING
    ).count()


def cost_today_rm(now=None) -> Decimal:
    """Return today's estimated cost from the rollup row (kept current by the rollup task)."""
    row = UsageDaily.objects.filter(date=timezone.localdate(now or timezone.now())).first()
    return row.total_estimated_cost_rm if row else Decimal("0")


ORPHANS_SHOWN_AFTER_REMOVAL = timedelta(days=1)


def open_orphans(now=None, *, limit: int = 10):
    """Return the orphan rows still open, and those closed in the last day; older closed ones leave the dashboard."""
    now = now or timezone.now()
    shown = ~Q(status=OrphanedTaskLog.Status.TERMINATED) | Q(terminated_at__gte=now - ORPHANS_SHOWN_AFTER_REMOVAL)
    return OrphanedTaskLog.objects.filter(shown).select_related("user", "scenario")[:limit]


def latest_health_checks() -> list[HealthCheck]:
    """Return the newest result of every check type."""
    latest = []
    for check_type in HealthCheck.CheckType.values:
        row = HealthCheck.objects.filter(check_type=check_type).order_by("-checked_at", "-id").first()
        if row is not None:
            latest.append(row)
    return latest


def storage_overview() -> dict:
    """Space held by version and library files against ``max_total_storage_bytes``, and the top creators."""
    from apps.scenarios.quota import storage_used, storage_used_by_creator

    conf = get_settings()
    used, limit = storage_used(), conf.max_total_storage_bytes
    pct = int(used * 100 / limit) if limit else None
    return {
        "used": used,
        "limit": limit,
        "pct": pct,
        "bar_pct": min(pct, 100) if pct is not None else None,
        "per_user_limit": conf.max_storage_per_user_bytes,
        "driver": conf.get_storage_driver_display(),
        "top": storage_used_by_creator(limit=5),
    }


def platform_overview(now=None) -> dict:
    now = now or timezone.now()
    conf = get_settings()
    month = month_start(now)
    month_rm = month_spend_rm(month=month)
    month_usd = (month_rm / _rm_per_usd()).quantize(Decimal("0.01"))
    cap = conf.budget_hard_cap_usd
    budget_pct = int(month_usd * 100 / cap) if cap else None
    since = timezone.localdate(now) - timedelta(days=29)
    usage = list(UsageDaily.objects.filter(date__gte=since).order_by("date"))
    checks = latest_health_checks()
    return {
        "sessions": sessions_by_status(),
        "running": EnvironmentSession.objects.filter(status=SessionStatus.RUNNING).select_related(
            "user", "scenario_version"
        )[:20],
        "containers": live_container_count(),
        "storage": storage_overview(),
        "cost_today_rm": cost_today_rm(now),
        "month_rm": month_rm,
        # Warm pools' parked labs cost money before anyone uses them: their own line.
        "pools": env_services.pools_summary(),
        "pool_month_rm": month_pool_cost_rm(month=month),
        "month_usd": month_usd,
        "cap_usd": cap,
        # The percentage is the truth (600 % when six times over); only the bar stops at its end.
        "budget_pct": budget_pct,
        "budget_bar_pct": min(budget_pct, 100) if budget_pct is not None else None,
        "usage": usage,
        "chart": {
            "labels": [u.date.isoformat() for u in usage],
            "hours": [
                float(u.env_hours_micro + u.env_hours_small + u.env_hours_medium + u.env_hours_large) for u in usage
            ],
            "cost": [float(u.total_estimated_cost_rm) for u in usage],
        },
        "orphans": open_orphans(now),
        "checks": checks,
        "failing_checks": [c for c in checks if c.status != HealthCheck.Status.OK],
        "alerts": AlertLog.objects.all()[:10],
        "maintenance": conf.maintenance_mode,
        "maintenance_message": conf.maintenance_message,
        "budget_paused": conf.budget_paused,
        "budget_overridden": conf.budget_override_month == month,
        "orphans_month": OrphanedTaskLog.objects.filter(detected_at__gte=now - timedelta(days=30)).aggregate(
            n=Count("id"), cost=Sum("estimated_cost")
        ),
    }
