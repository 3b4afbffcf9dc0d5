"""Reads of platform settings, audit rows and jobs."""

from __future__ import annotations

from django.core.cache import cache
from django.db.models import QuerySet

from apps.ops.models import AuditLog, Job, SystemSetting, SystemSettings
from rangex.core.selectors import get_one

SETTINGS_CACHE_KEY = "ops:system_settings:v1"
SETTINGS_CACHE_SECONDS = 300


def get_settings() -> SystemSettings:
    """Return the system settings row, cached until the next save."""
    cached = cache.get(SETTINGS_CACHE_KEY)
    if cached is not None:
        return cached
    obj, _ = SystemSettings.objects.get_or_create(id=SystemSettings.SINGLETON_ID)
    cache.set(SETTINGS_CACHE_KEY, obj, SETTINGS_CACHE_SECONDS)
    return obj


def invalidate_settings_cache() -> None:
    cache.delete(SETTINGS_CACHE_KEY)


def system_setting_get(key: str, default: str | None = None) -> str | None:
    row = SystemSetting.objects.filter(key=key).only("value").first()
    return row.value if row else default


def audit_log_for_target(*, target) -> QuerySet[AuditLog]:
    return AuditLog.objects.filter(target_type=target._meta.label_lower, target_id=str(target.pk)).select_related(
        "user"
    )


def job_get_for_user(*, user, pk) -> Job:
    """Return a job its owner (or staff) may watch."""
    qs = Job.objects.all() if user.is_staff else Job.objects.filter(user=user)
    return get_one(qs, "No such job.", pk=pk)
