"""Platform configuration: the ``system_settings`` row and the free-form ``system_setting`` pairs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

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
        unknown_message=gettext_noop("Unknown setting"),
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


BUDGET_ACTOR = "system:budget-cap"


def _actor_details(actor, actor_label: str) -> Callable[[dict], dict]:
    """Return the audit details of a change with who made it, also when no user did (a command, the platform)."""
    who = actor_label or (f"user:{actor.pk}" if getattr(actor, "pk", None) else "unknown")
    return lambda changes: {"changes": changes, "actor": who}


def _this_month():
    return timezone.localdate().replace(day=1)


@transaction.atomic
def maintenance_set(*, actor, enabled: bool, message: str | None = None, actor_label: str = "") -> SystemSettings:
    """Switch the operator's maintenance mode; "off" also lifts the budget cap's pause.

    An operator who turns maintenance off while the budget cap has paused RangeX wins: the pause
    is lifted and the budget check leaves RangeX running for the rest of the month, until the
    operator clears the override (``maintenance_override_clear``). The audit row names the actor:
    the user, else ``actor_label`` (a command's ``command:<os user>``).
    """
    obj, _ = SystemSettings.objects.select_for_update().get_or_create(id=SystemSettings.SINGLETON_ID)
    changes: dict[str, Any] = {"maintenance_mode": enabled}
    if message is not None:
        changes["maintenance_message"] = message
    if not enabled and obj.budget_paused:
        changes.update(budget_paused=False, budget_override_month=_this_month())
    model_update(
        instance=obj,
        actor=actor,
        data=changes,
        allowed=changes,
        action=AuditAction.MAINTENANCE_ON if enabled else AuditAction.MAINTENANCE_OFF,
        details=_actor_details(actor, actor_label),
    )
    transaction.on_commit(invalidate_settings_cache)
    return obj


@transaction.atomic
def budget_pause_resume(*, actor, actor_label: str = "") -> SystemSettings:
    """Lift the budget cap's pause as an operator; the budget check leaves RangeX running for the rest of the month."""
    obj, _ = SystemSettings.objects.select_for_update().get_or_create(id=SystemSettings.SINGLETON_ID)
    model_update(
        instance=obj,
        actor=actor,
        data={"budget_paused": False, "budget_override_month": _this_month()},
        allowed={"budget_paused", "budget_override_month"},
        action=AuditAction.MAINTENANCE_OFF,
        details=_actor_details(actor, actor_label),
    )
    transaction.on_commit(invalidate_settings_cache)
    return obj


@transaction.atomic
def maintenance_override_clear(*, actor, actor_label: str = "") -> SystemSettings:
    """Hand maintenance back to the budget check: its next pass pauses RangeX again if the cap is still exceeded."""
    obj, _ = SystemSettings.objects.select_for_update().get_or_create(id=SystemSettings.SINGLETON_ID)
    model_update(
        instance=obj,
        actor=actor,
        data={"budget_override_month": None},
        allowed={"budget_override_month"},
        action=AuditAction.MAINTENANCE_OVERRIDE_CLEAR,
        details=_actor_details(actor, actor_label),
    )
    transaction.on_commit(invalidate_settings_cache)
    return obj


@transaction.atomic
def budget_pause_set(*, paused: bool, details: dict[str, Any] | None = None) -> bool:
    """Pause RangeX for the budget cap (the platform's change, audited as ``system:budget-cap``).

    Return False, changing nothing, when an operator's override for this month stands or the
    state is already so.
    """
    obj, _ = SystemSettings.objects.select_for_update().get_or_create(id=SystemSettings.SINGLETON_ID)
    if obj.budget_paused == paused or (paused and obj.budget_override_month == _this_month()):
        return False
    model_update(
        instance=obj,
        actor=None,
        data={"budget_paused": paused},
        allowed={"budget_paused"},
        action=AuditAction.BUDGET_PAUSE,
        details=lambda changes: {"changes": changes, "actor": BUDGET_ACTOR, **(details or {})},
    )
    transaction.on_commit(invalidate_settings_cache)
    return True


@transaction.atomic
def system_setting_delete(*, actor, key: str) -> None:
    row = SystemSetting.objects.select_for_update().filter(key=key).first()
    if row is None:
        return
    audit_record(actor=actor, action=AuditAction.SYSTEM_SETTING_DELETE, target=row, details={"old": row.value})
    row.delete()
