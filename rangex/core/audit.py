"""The audit trail: one enum of actions, one way to write a row, one recipe for audited updates.

Every state change a person or the platform makes writes one ``audit_log`` row through
``audit_record``. Actions are members of ``AuditAction`` (as Zulip's ``AuditLogEventType``), so an
operator can filter the log by action and a misspelt action fails at once instead of writing a
row nobody will ever find. The values are the strings the rows have always carried.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction

from rangex.core.context import current_request_context
from rangex.core.crypto import EncryptedTextField
from rangex.core.errors import ValidationFailed

SECRET_MASK = "********"


class AuditAction(models.TextChoices):
    """Every action the audit log records, grouped by the app that performs it."""

    # Kernel: settings.
    SYSTEM_SETTINGS_UPDATE = "system_settings.update"
    SYSTEM_SETTING_SET = "system_setting.set"
    SYSTEM_SETTING_DELETE = "system_setting.delete"
    MAINTENANCE_ON = "maintenance.on"
    MAINTENANCE_OFF = "maintenance.off"
    ENCRYPTION_KEYS_ROTATE = "encryption_keys.rotate"

    # Accounts.
    USER_CREATE = "user.create"
    USER_ROLES = "user.roles"
    USER_ENABLE = "user.enable"
    USER_DISABLE = "user.disable"
    USER_DELETE = "user.delete"
    USER_PROFILE = "user.profile"
    USER_PREFERENCES = "user.preferences"
    USER_AVATAR = "user.avatar"
    USER_PASSWORD_CHANGE = "user.password_change"
    USER_EMAIL_VERIFIED = "user.email_verified"
    USER_ADMIN_UPDATE = "user.admin_update"
    AUTH_LOGIN = "auth.login"
    AUTH_LOGIN_FAILED = "auth.login_failed"
    AUTH_LOCKOUT = "auth.lockout"
    AUTH_UNLOCK = "auth.unlock"
    AUTH_2FA_ENABLED = "auth.2fa_enabled"
    AUTH_2FA_DISABLED = "auth.2fa_disabled"
    AUTH_2FA_FAILED = "auth.2fa_failed"
    AUTH_RECOVERY_CODE_USED = "auth.recovery_code_used"
    AUTH_RECOVERY_CODES_REGENERATED = "auth.recovery_codes_regenerated"
    API_TOKEN_CREATE = "api_token.create"
    API_TOKEN_REVOKE = "api_token.revoke"
    CREATOR_PREFERENCES_UPDATE = "creator_preferences.update"

    # Images.
    REGISTRY_CREDENTIAL_CREATE = "registry_credential.create"
    REGISTRY_CREDENTIAL_UPDATE = "registry_credential.update"
    REGISTRY_CREDENTIAL_DELETE = "registry_credential.delete"
    REGISTRY_CREDENTIAL_TEST = "registry_credential.test"
    DOCKER_CREDENTIAL_CREATE = "docker_credential.create"
    DOCKER_CREDENTIAL_UPDATE = "docker_credential.update"
    DOCKER_CREDENTIAL_DELETE = "docker_credential.delete"
    DOCKER_IMAGE_CREATE = "dockerimage.create"
    DOCKER_IMAGE_UPDATE = "dockerimage.update"
    DOCKER_IMAGE_DELETE = "dockerimage.delete"
    IMAGE_VARIANT_CREATE = "imagevariant.create"
    IMAGE_VARIANT_UPDATE = "imagevariant.update"
    IMAGE_VARIANT_DELETE = "imagevariant.delete"
    PLATFORM_IMAGE_CREATE = "platformimage.create"
    PLATFORM_IMAGE_UPDATE = "platformimage.update"
    PLATFORM_IMAGE_DELETE = "platformimage.delete"

    # Scenarios.
    SCENARIO_CREATE = "scenario.create"
    SCENARIO_UPDATE = "scenario.update"
    SCENARIO_DELETE = "scenario.delete"
    SCENARIO_RATE = "scenario.rate"
    SCENARIO_FAVORITE = "scenario.favorite"
    SCENARIO_UNFAVORITE = "scenario.unfavorite"
    SCENARIO_VERSION_NEW = "scenario_version.new"
    SCENARIO_VERSION_UPDATE = "scenario_version.update"
    SCENARIO_VERSION_DELETE = "scenario_version.delete"
    SCENARIO_VERSION_IMPORT = "scenario_version.import"
    SCENARIO_VERSION_IMPORT_QUEUED = "scenario_version.import_queued"
    SCENARIO_VERSION_DRAFT = "scenario_version.draft"
    SCENARIO_VERSION_SUBMITTED = "scenario_version.submitted"
    SCENARIO_VERSION_APPROVED = "scenario_version.approved"
    SCENARIO_VERSION_REJECTED = "scenario_version.rejected"
    SCENARIO_VERSION_PUBLISHED = "scenario_version.published"
    SCENARIO_VERSION_ARCHIVED = "scenario_version.archived"
    SCENARIO_VERSION_MACHINE_CREATE = "scenario_version.machine.create"
    SCENARIO_VERSION_MACHINE_UPDATE = "scenario_version.machine.update"
    SCENARIO_VERSION_MACHINE_DELETE = "scenario_version.machine.delete"
    SCENARIO_VERSION_ASSET_CREATE = "scenario_version.scenarioasset.create"
    SCENARIO_VERSION_ASSET_UPDATE = "scenario_version.scenarioasset.update"
    SCENARIO_VERSION_ASSET_DELETE = "scenario_version.scenarioasset.delete"
    SCENARIO_VERSION_PIVOT_CREATE = "scenario_version.networkpivotpoint.create"
    SCENARIO_VERSION_PIVOT_UPDATE = "scenario_version.networkpivotpoint.update"
    SCENARIO_VERSION_PIVOT_DELETE = "scenario_version.networkpivotpoint.delete"
    TOOL_CREATE = "tool.create"
    TOOL_UPDATE = "tool.update"
    TOOL_DELETE = "tool.delete"

    # Environments.
    SESSION_START = "session.start"
    SESSION_RUNNING = "session.running"
    SESSION_FAILED = "session.failed"
    SESSION_PAUSE = "session.pause"
    SESSION_PAUSE_FAILED = "session.pause_failed"
    SESSION_RESUME = "session.resume"
    SESSION_EXTEND = "session.extend"
    SESSION_STOP = "session.stop"
    SESSION_TERMINATED = "session.terminated"
    SESSION_ANSWER = "session.answer"
    SESSION_HINT = "session.hint"
    SESSION_FLAG_SHARED = "session.flag_shared"
    SESSION_IDLE_WARNED = "session.idle_warned"
    SESSION_SOFT_LIMIT_WARNED = "session.soft_limit_warned"
    SESSION_TERMINAL_OPEN = "session.terminal_open"

    # Teams.
    TEAM_CREATE = "team.create"
    TEAM_UPDATE = "team.update"
    TEAM_DELETE = "team.delete"
    TEAM_JOIN = "team.join"
    TEAM_JOIN_REQUEST = "team.join_request"
    TEAM_REQUEST_APPROVED = "team.request_approved"
    TEAM_REQUEST_DECLINED = "team.request_declined"
    TEAM_REQUEST_CANCELLED = "team.request_cancelled"
    TEAM_LEAVE = "team.leave"
    TEAM_KICK = "team.kick"
    TEAM_TRANSFER = "team.transfer"
    TEAM_BADGE_AWARD = "team.badge_award"

    # Events.
    EVENT_CREATE = "event.create"
    EVENT_UPDATE = "event.update"
    EVENT_DELETE = "event.delete"
    EVENT_CHALLENGES = "event.challenges"
    EVENT_REGISTER = "event.register"
    EVENT_SESSION_START = "event.session_start"
    EVENT_ANSWER = "event.answer"
    EVENT_DISQUALIFY = "event.disqualify"

    # Paths and playlists.
    CAREER_PATH_CREATE = "career_path.create"
    CAREER_PATH_UPDATE = "career_path.update"
    CAREER_PATH_DELETE = "career_path.delete"
    CAREER_PATH_ITEM_ADD = "career_path.item_add"
    CAREER_PATH_ITEM_UPDATE = "career_path.item_update"
    CAREER_PATH_ITEM_MOVE = "career_path.item_move"
    CAREER_PATH_ITEM_REMOVE = "career_path.item_remove"
    CAREER_PATH_COMPLETE = "career_path.complete"
    PLAYLIST_CREATE = "playlist.create"
    PLAYLIST_UPDATE = "playlist.update"
    PLAYLIST_DELETE = "playlist.delete"
    PLAYLIST_ITEM_ADD = "playlist.item_add"
    PLAYLIST_ITEM_UPDATE = "playlist.item_update"
    PLAYLIST_ITEM_MOVE = "playlist.item_move"
    PLAYLIST_ITEM_REMOVE = "playlist.item_remove"

    # Badges.
    BADGE_CREATE = "badge.create"
    BADGE_UPDATE = "badge.update"
    BADGE_DELETE = "badge.delete"
    BADGE_REQUIREMENT_ADD = "badge.requirement_add"
    BADGE_REQUIREMENT_UPDATE = "badge.requirement_update"
    BADGE_REQUIREMENT_DELETE = "badge.requirement_delete"
    BADGE_AWARD = "badge.award"

    # Operations.
    BUDGET_CREATE = "budget.create"
    BUDGET_UPDATE = "budget.update"
    BUDGET_DELETE = "budget.delete"
    BUDGET_SHUTDOWN = "budget.shutdown"
    INTERFACE_ENDPOINT_CREATE = "interface_endpoint.create"
    INTERFACE_ENDPOINT_UPDATE = "interface_endpoint.update"
    INTERFACE_ENDPOINT_DELETE = "interface_endpoint.delete"


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
    from rangex.core.models import AuditLog

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
    from rangex.core.models import AuditLog

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
        raise ValidationFailed(f"{label}{first_messages[0]}", fields=fields) from None


def model_update(
    *,
    instance: models.Model,
    actor,
    data: dict[str, Any],
    allowed: Iterable[str],
    action: AuditAction | None,
    audit_target: models.Model | None = None,
    unknown_message: str = "Unknown field",
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
            f"{unknown_message}: {', '.join(unknown)}.", fields={name: ["Not editable."] for name in unknown}
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
        raise Conflict(f"{instance} is still in use ({', '.join(used_by)}); it cannot be deleted.") from None
