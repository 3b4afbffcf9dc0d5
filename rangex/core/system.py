"""Platform configuration: the ``system_settings`` row and the free-form ``system_setting`` pairs."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db import transaction

from rangex.core.audit import AuditAction, audit_record, model_update
from rangex.core.models import SystemSetting, SystemSettings

SETTINGS_CACHE_KEY = "ops:system_settings:v1"
SETTINGS_CACHE_SECONDS = 300


def get_settings() -> SystemSettings:
    """Return the system settings row, cached until the next save.

    The row is created by a migration. A reader never writes: if the row is missing (a database
    flushed by a test), the defaults are returned unsaved and the first settings update creates it.
    """
    cached = cache.get(SETTINGS_CACHE_KEY)
    if cached is not None:
        return cached
    obj = SystemSettings.objects.filter(id=SystemSettings.SINGLETON_ID).first() or SystemSettings()
    cache.set(SETTINGS_CACHE_KEY, obj, SETTINGS_CACHE_SECONDS)
    return obj


def invalidate_settings_cache() -> None:
    cache.delete(SETTINGS_CACHE_KEY)


def system_setting_get(key: str, default: str | None = None) -> str | None:
    row = SystemSetting.objects.filter(key=key).only("value").first()
    return row.value if row else default


@transaction.atomic
def system_settings_update(*, actor, **changes: Any) -> SystemSettings:
    """Change system settings, validate them, audit the change and refresh the cache."""
    obj, _ = SystemSettings.objects.select_for_update().get_or_create(id=SystemSettings.SINGLETON_ID)
    editable = {f.name for f in obj._meta.concrete_fields} - {"id", "updated_at"}
    model_update(
        instance=obj,
        actor=actor,
        data=changes,
        allowed=editable,
        action=AuditAction.SYSTEM_SETTINGS_UPDATE,
        unknown_message="Unknown setting",
    )
    transaction.on_commit(invalidate_settings_cache)
    return obj


@transaction.atomic
def system_setting_set(*, actor, key: str, value: str) -> SystemSetting:
    row, created = SystemSetting.objects.select_for_update().get_or_create(key=key, defaults={"value": value})
    old = None if created else row.value
    if not created and row.value != value:
        row.value = value
        row.save(update_fields=["value"])
    audit_record(actor=actor, action=AuditAction.SYSTEM_SETTING_SET, target=row, details={"old": old, "new": value})
    return row


def maintenance_set(*, actor, enabled: bool, message: str | None = None) -> SystemSettings:
    changes: dict[str, Any] = {"maintenance_mode": enabled}
    if message is not None:
        changes["maintenance_message"] = message
    return system_settings_update(actor=actor, **changes)


@transaction.atomic
def system_setting_delete(*, actor, key: str) -> None:
    row = SystemSetting.objects.select_for_update().filter(key=key).first()
    if row is None:
        return
    audit_record(actor=actor, action=AuditAction.SYSTEM_SETTING_DELETE, target=row, details={"old": row.value})
    row.delete()
