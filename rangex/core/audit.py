"""The audit trail: one enum of actions, one way to write a row, one recipe for audited updates.

Every state change a person or the platform makes writes one ``audit_log`` row through
``audit_record``. Actions are members of ``AuditAction`` (``audit_actions``, as Zulip's
``AuditLogEventType``), so an operator can filter the log by action and a misspelt action fails at
once instead of writing a row nobody will ever find.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from rangex.core.audit_actions import AuditAction
from rangex.core.context import current_request_context
from rangex.core.crypto import EncryptedTextField
from rangex.core.errors import ValidationFailed
from rangex.core.models import AuditLog

SECRET_MASK = "********"  # noqa: S105 (a mask, not a password)


def audit_record(
    *,
    actor,
    action: AuditAction,
    target: models.Model | None = None,
    details: dict[str, Any] | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
):
    """Write one audit row. This is the only way audit rows are written.

    ``action`` must be an ``AuditAction`` member: a free-form string is refused with ValueError.
    """
    if not isinstance(action, AuditAction):
        raise ValueError(f"Unknown audit action {action!r}: add it to rangex.core.audit.AuditAction.")
    ctx = current_request_context()
    user = actor if getattr(actor, "pk", None) and getattr(actor, "is_authenticated", False) else None
    return AuditLog.objects.create(
        user=user,
        action_type=action.value,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_repr=str(target)[:255] if target is not None else "",
        details=details or {},
        ip_address=ip if ip is not None else ctx.ip,
        user_agent=(user_agent if user_agent is not None else ctx.user_agent)[:512] or None,
    )


def audit_log_for_target(*, target) -> models.QuerySet:
    """Return the audit rows about ``target``, newest first."""
    return AuditLog.objects.filter(target_type=target._meta.label_lower, target_id=str(target.pk)).select_related(
        "user"
    )


def _loggable(value: Any) -> Any:
    """Return ``value`` as the audit row stores it: files by name, rows by primary key."""
    if isinstance(value, models.Model):
        return str(value.pk)
    if hasattr(value, "field") and hasattr(value, "name") and hasattr(value, "storage"):  # a FieldFile
        return value.name or ""
    return value


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
                changes[name] = {"old": _loggable(old), "new": _loggable(new)}
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
        raise ValidationFailed(
            _("%(label)s%(value)s") % {"label": label, "value": first_messages[0]}, fields=fields
        ) from None


def model_update(
    *,
    instance: models.Model,
    actor,
    data: dict[str, Any],
    allowed: Iterable[str],
    action: AuditAction | None,
    audit_target: models.Model | None = None,
    unknown_message: str = gettext_noop("Unknown field"),
    clean_kwargs: dict[str, Any] | None = None,
    check: Callable[[dict[str, Any]], None] | None = None,
    details: Callable[[dict[str, dict[str, Any]]], dict[str, Any]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Apply ``data`` to ``instance`` the one audited way, and return the changes made.

    The recipe every service shares: refuse fields outside ``allowed``, remember the old values,
    set the new ones, run ``check(before)`` (rules that compare old and new values), ``full_clean``,
    save only the fields that changed (with ``update_fields``; a row not yet in the database is
    inserted whole), and write one audit row listing the changes (secrets masked), shaped by
    ``details(changes)`` when given. Nothing is saved or audited when nothing changed. Call it
    inside the service's transaction, on a locked row.
    """
    allowed = set(allowed)
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationFailed(
            _("%(unknown_message)s: %(items)s.") % {"unknown_message": _(unknown_message), "items": ", ".join(unknown)},
            fields={name: [_("Not editable.")] for name in unknown},
        )
    adding = instance._state.adding
    before = model_values(instance, data)
    for name, value in data.items():
        setattr(instance, name, value)
    if check is not None:
        check(before)
    full_clean_or_raise(instance, **(clean_kwargs or {}))
    changes = field_changes(instance, before, data)
    if adding:
        instance.save()
    elif changes:
        instance.save(update_fields=list(changes))
    if (changes or adding) and action is not None:
        audit_record(
            actor=actor,
            action=action,
            target=audit_target or instance,
            details=details(changes) if details is not None else {"changes": changes},
        )
    return changes


def model_save_audited(
    *, instance: models.Model, actor, create_action: AuditAction, update_action: AuditAction, changed=()
) -> models.Model:
    """Validate and save a row edited as a whole (an admin form), with one audit row naming the fields."""
    created = instance._state.adding
    full_clean_or_raise(instance)
    instance.save()
    audit_record(
        actor=actor,
        action=create_action if created else update_action,
        target=instance,
        details={"fields": sorted(changed)},
    )
    return instance


def model_delete_audited(*, instance: models.Model, actor, action: AuditAction) -> None:
    """Delete a row and record who did it; a row still referenced elsewhere is refused, not half-deleted."""
    from django.db.models import ProtectedError, RestrictedError

    from rangex.core.errors import Conflict

    audit_record(actor=actor, action=action, target=instance)
    try:
        with transaction.atomic():
            instance.delete()
    except (ProtectedError, RestrictedError) as exc:
        used_by = sorted({str(obj) for obj in exc.args[1]})[:3]
        raise Conflict(
            _("%(instance)s is still in use (%(items)s); it cannot be deleted.")
            % {"instance": instance, "items": ", ".join(used_by)}
        ) from None
