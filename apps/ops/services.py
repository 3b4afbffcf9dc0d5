"""State changes of the ops core: audit rows, system settings, jobs."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from apps.ops.context import current_request_context
from apps.ops.crypto import EncryptedTextField
from apps.ops.models import AuditLog, Job, SystemSetting, SystemSettings
from apps.ops.selectors import invalidate_settings_cache
from rangex.core.errors import ValidationFailed

SECRET_MASK = "********"  # noqa: S105 (a mask, not a password)


def audit_record(
    *,
    actor,
    action: str,
    target: models.Model | None = None,
    details: dict[str, Any] | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> AuditLog:
    """Write one audit row. This is the only way audit rows are written."""
    ctx = current_request_context()
    user = actor if getattr(actor, "pk", None) and getattr(actor, "is_authenticated", False) else None
    return AuditLog.objects.create(
        user=user,
        action_type=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_repr=str(target)[:255] if target is not None else "",
        details=details or {},
        ip_address=ip if ip is not None else ctx.ip,
        user_agent=(user_agent if user_agent is not None else ctx.user_agent)[:512] or None,
    )


def field_changes(instance: models.Model, before: dict[str, Any], fields) -> dict[str, dict[str, Any]]:
    """Return ``{field: {"old": ..., "new": ...}}`` for fields whose value changed; secrets masked."""
    changes = {}
    for name in fields:
        new = getattr(instance, name)
        old = before.get(name)
        if old != new:
            if isinstance(instance._meta.get_field(name), EncryptedTextField):
                changes[name] = {"old": SECRET_MASK if old else "", "new": SECRET_MASK if new else ""}
            else:
                changes[name] = {"old": old, "new": new}
    return changes


def model_values(instance: models.Model, fields) -> dict[str, Any]:
    return {name: getattr(instance, name) for name in fields}


def full_clean_or_raise(instance: models.Model, **kwargs) -> None:
    """Run ``full_clean`` and turn Django's ValidationError into ValidationFailed with per-field messages."""
    try:
        instance.full_clean(**kwargs)
    except ValidationError as exc:
        fields = {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
        first_field, first_messages = next(iter(fields.items()))
        label = "" if first_field == "__all__" else f"{first_field}: "
        raise ValidationFailed(f"{label}{first_messages[0]}", fields=fields) from None


@transaction.atomic
def system_settings_update(*, actor, **changes: Any) -> SystemSettings:
    """Change system settings, validate them, audit the change and refresh the cache."""
    obj, _ = SystemSettings.objects.select_for_update().get_or_create(id=SystemSettings.SINGLETON_ID)
    unknown = [name for name in changes if name not in {f.name for f in obj._meta.concrete_fields}]
    if unknown:
        raise ValidationFailed(f"Unknown setting: {', '.join(sorted(unknown))}.")
    before = model_values(obj, changes)
    for name, value in changes.items():
        setattr(obj, name, value)
    full_clean_or_raise(obj)
    obj.save()
    diff = field_changes(obj, before, changes)
    if diff:
        audit_record(actor=actor, action="system_settings.update", target=obj, details={"changes": diff})
    transaction.on_commit(invalidate_settings_cache)
    return obj


def maintenance_set(*, actor, enabled: bool, message: str | None = None) -> SystemSettings:
    changes: dict[str, Any] = {"maintenance_mode": enabled}
    if message is not None:
        changes["maintenance_message"] = message
    return system_settings_update(actor=actor, **changes)


@transaction.atomic
def system_setting_set(*, actor, key: str, value: str) -> SystemSetting:
    row, created = SystemSetting.objects.select_for_update().get_or_create(key=key, defaults={"value": value})
    old = None if created else row.value
    if not created and row.value != value:
        row.value = value
        row.save(update_fields=["value"])
    audit_record(actor=actor, action="system_setting.set", target=row, details={"old": old, "new": value})
    return row


# --- Jobs ---------------------------------------------------------------------------------------


def job_create(*, type: str, user=None, payload: dict[str, Any] | None = None) -> Job:
    return Job.objects.create(type=type, user=user, payload=payload or {})


def job_start(*, job_id) -> Job:
    """Mark a job running and count the attempt; a retried task calls this again."""
    now = timezone.now()
    Job.objects.filter(pk=job_id).update(
        status=Job.Status.RUNNING, attempts=models.F("attempts") + 1, started_at=now, updated_at=now
    )
    return Job.objects.get(pk=job_id)


def job_progress(*, job_id, progress: int, message: str = "") -> None:
    """Record progress (0-100). A finished job is left alone."""
    Job.objects.filter(pk=job_id).exclude(status__in=Job.FINISHED).update(
        progress=max(0, min(100, int(progress))), progress_message=message[:255], updated_at=timezone.now()
    )


def job_succeed(*, job_id, result: Any = None, message: str = "Done") -> None:
    now = timezone.now()
    Job.objects.filter(pk=job_id).update(
        status=Job.Status.SUCCEEDED,
        progress=100,
        progress_message=message[:255],
        result=result,
        error=None,
        completed_at=now,
        updated_at=now,
    )


def job_fail(*, job_id, error: str) -> None:
    now = timezone.now()
    Job.objects.filter(pk=job_id).update(
        status=Job.Status.FAILED, error=error[:10000], completed_at=now, updated_at=now
    )


# --- Budgets and endpoints (admin-edited configuration) ------------------------------------------

BUDGET_CONFIG_FIELDS = ("budget_limit", "alert_percentage", "grace_period_hours", "auto_shutdown_enabled")


@transaction.atomic
def budget_alert_save(*, actor, budget, changed: list[str] | None = None):
    """Create or change a scenario's monthly budget; the month is normalised to its first day."""
    from apps.ops.models import BudgetAlert

    if budget.alert_month:
        budget.alert_month = budget.alert_month.replace(day=1)
    full_clean_or_raise(budget, validate_constraints=False)
    duplicate = BudgetAlert.objects.filter(scenario_id=budget.scenario_id, alert_month=budget.alert_month)
    if budget.pk:
        duplicate = duplicate.exclude(pk=budget.pk)
    if duplicate.exists():
        raise ValidationFailed(
            "This scenario already has a budget for that month.", fields={"alert_month": ["Already budgeted."]}
        )
    created = budget.pk is None
    if created:
        budget.save()
    else:
        fields = [f for f in (changed or BUDGET_CONFIG_FIELDS) if f in (*BUDGET_CONFIG_FIELDS, "alert_month")]
        budget.save(update_fields=fields or list(BUDGET_CONFIG_FIELDS))
    audit_record(
        actor=actor,
        action="budget.create" if created else "budget.update",
        target=budget,
        details={name: getattr(budget, name) for name in BUDGET_CONFIG_FIELDS},
    )
    return budget


@transaction.atomic
def interface_endpoint_save(*, actor, endpoint):
    created = endpoint.pk is None
    full_clean_or_raise(endpoint)
    endpoint.save()
    audit_record(
        actor=actor,
        action="interface_endpoint.create" if created else "interface_endpoint.update",
        target=endpoint,
        details={"label": endpoint.label, "type": endpoint.type, "value": endpoint.value},
    )
    return endpoint


@transaction.atomic
def interface_endpoint_delete(*, actor, endpoint) -> None:
    audit_record(actor=actor, action="interface_endpoint.delete", target=endpoint, details={"label": endpoint.label})
    endpoint.delete()
