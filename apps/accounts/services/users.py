"""Accounts: creation, roles, activation, profile, preferences, avatar and the admin's edits."""

from __future__ import annotations

import io
import logging
import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts import hooks
from apps.accounts.models import (
    CreatorPreferences,
    LoginSession,
    Theme,
    User,
)
from apps.accounts.roles import user_sync_groups
from apps.accounts.services.auth import email_verification_send
from apps.accounts.services.common import ROLE_FIELDS, USER_CLEAN, login_sessions_end, password_errors
from rangex.core.audit import AuditAction, audit_record, model_update
from rangex.core.errors import (
    Conflict,
    LimitExceeded,
    NotFound,
    PermissionDenied,
    ServiceUnavailable,
    ValidationFailed,
)
from rangex.core.models import NotificationType
from rangex.core.system import get_settings

logger = logging.getLogger(__name__)


AVATAR_FORMATS = {"PNG": "png", "JPEG": "jpg", "GIF": "png", "WEBP": "png"}


AVATAR_MAX_PIXELS = 512


@transaction.atomic
def user_create(
    *,
    email: str,
    password: str | None,
    display_name: str = "",
    role_solver: bool = True,
    role_creator: bool = False,
    role_admin: bool = False,
    verified: bool = False,
    actor: User | None = None,
) -> User:
    """Create an account, checking the email is free and the password strong."""
    email = User.objects.normalize_email((email or "").strip()).lower()
    user = User(
        email=email,
        display_name=(display_name or "").strip(),
        role_solver=role_solver,
        role_creator=role_creator,
        role_admin=role_admin,
        email_verified_at=timezone.now() if verified else None,
    )
    errors: dict[str, list[str]] = {}
    if User.objects.filter(email__iexact=email).exists():
        errors["email"] = [_("An account with this email address already exists.")]
    if password is not None:
        problems = password_errors(password, user)
        if problems:
            errors["password"] = problems
    try:
        user.full_clean(exclude=["password"], validate_unique=False)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        first_field, first = next(iter(errors.items()))
        raise ValidationFailed(
            _("%(first_field)s: %(value)s") % {"first_field": first_field, "value": first[0]}, fields=errors
        )

    user.set_password(password)
    user.password_updated_at = timezone.now() if password else None
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise ValidationFailed(
            _("email: An account with this email address already exists."),
            fields={"email": [_("An account with this email address already exists.")]},
        ) from None
    user_sync_groups(user)
    audit_record(
        actor=actor or user,
        action=AuditAction.USER_CREATE,
        target=user,
        details={"roles": _roles_of(user), "verified": verified},
    )
    return user


def _roles_of(user: User) -> list[str]:
    return [
        name
        for name, flag in (("solver", user.role_solver), ("creator", user.role_creator), ("admin", user.role_admin))
        if flag
    ]


def user_signup(*, email: str, password: str, display_name: str = "", language: str = "") -> User:
    """Self-service sign-up, gated by the system settings.

    ``language``: the one the visitor signed up in, when not the default; it becomes their
    preference, so the confirmation email (and later ones) are written in it.
    """
    system = get_settings()
    if not system.allow_new_registrations:
        raise ServiceUnavailable(_("Sign-up is closed at the moment. Ask an administrator for an account."))
    if system.max_total_users and User.objects.count() >= system.max_total_users:
        raise LimitExceeded(_("RangeX has reached its maximum number of accounts."), limit="max_total_users")
    user = user_create(email=email, password=password, display_name=display_name)
    if language and language != settings.LANGUAGE_CODE:
        user_set_language(user=user, language=language)
    email_verification_send(user=user)
    return user


@transaction.atomic
def user_set_roles(*, user: User, actor: User, solver: bool, creator: bool, admin: bool) -> User:
    user = User.objects.select_for_update().get(pk=user.pk)
    model_update(
        instance=user,
        actor=actor,
        data={"role_solver": solver, "role_creator": creator, "role_admin": admin},
        allowed=ROLE_FIELDS,
        action=AuditAction.USER_ROLES,
        clean_kwargs=USER_CLEAN,
    )
    user_sync_groups(user)
    return user


@transaction.atomic
def user_set_active(*, user: User, actor: User, active: bool) -> User:
    """Enable or disable an account. Disabling ends its sessions and stops its tokens at once."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active == active:
        return user
    user.is_active = active
    user.save(update_fields=["is_active"])
    audit_record(actor=actor, action=AuditAction.USER_ENABLE if active else AuditAction.USER_DISABLE, target=user)
    if not active:
        # Sessions are checked against is_active by the auth backend; deleting them also frees storage.
        login_sessions_end(user=user, keep_session_key=None)
    return user


def login_session_record(*, user: User, session_key: str, ip: str | None, user_agent: str) -> None:
    LoginSession.objects.update_or_create(
        session_key=session_key, defaults={"user": user, "ip": ip, "user_agent": user_agent[:512]}
    )


def login_session_forget(*, session_key: str | None) -> None:
    if session_key:
        LoginSession.objects.filter(session_key=session_key).delete()


@transaction.atomic
def user_update_profile(*, user: User, **fields: Any) -> User:
    allowed = {
        "display_name",
        "full_name",
        "organization",
        "bio",
        "profile_public",
        "show_on_path_leaderboards",
        "language",
    }
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationFailed(_("Unknown profile field: %(items)s.") % {"items": ", ".join(sorted(unknown))})
    user = User.objects.select_for_update().get(pk=user.pk)
    model_update(
        instance=user,
        actor=user,
        data=fields,
        allowed=allowed,
        action=AuditAction.USER_PROFILE,
        clean_kwargs=USER_CLEAN,
    )
    return user


def user_set_language(*, user: User, language: str) -> User:
    """Save the language a user chose (the header's switcher); empty follows the browser.

    ``user`` is updated in place, so the request's user (and the cookie set from it) agrees.
    """
    from django.utils.translation import gettext

    if language and language not in {code for code, _name in settings.LANGUAGES}:
        message = gettext("Choose one of the languages offered.")
        raise ValidationFailed(message, fields={"language": [message]})
    if user.language == language:
        return user
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).update(language=language, updated_at=timezone.now())
        audit_record(actor=user, action=AuditAction.USER_PREFERENCES, target=user, details={"language": language})
    user.language = language
    return user


def user_set_preferences(*, user: User, email_types: set[str], theme: str) -> User:
    if theme not in Theme.values:
        raise ValidationFailed(_("Choose light, dark or follow the system."), fields={"theme": [_("Unknown theme.")]})
    unknown = set(email_types) - set(NotificationType.values)
    if unknown:
        raise ValidationFailed(_("Unknown notification type: %(items)s.") % {"items": ", ".join(sorted(unknown))})
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        prefs = dict(user.notification_preferences or {})
        prefs["email"] = {t: t in email_types for t in NotificationType.values}
        appearance = dict(user.appearance_settings or {})
        appearance["theme"] = theme
        user.notification_preferences = prefs
        user.appearance_settings = appearance
        user.save(update_fields=["notification_preferences", "appearance_settings"])
        audit_record(
            actor=user,
            action=AuditAction.USER_PREFERENCES,
            target=user,
            details={"email": sorted(email_types), "theme": theme},
        )
    return user


def avatar_normalize(upload) -> ContentFile:
    """Check an uploaded avatar's size and type, and re-encode it (dropping metadata and payloads)."""
    from PIL import Image, UnidentifiedImageError

    max_bytes = settings.ACCOUNT_AVATAR_MAX_BYTES
    if upload.size is None or upload.size > max_bytes:
        raise ValidationFailed(
            _("The avatar is larger than %(value)s KB.") % {"value": max_bytes // 1024},
            fields={"avatar": [_("Upload an image of at most %(value)s KB.") % {"value": max_bytes // 1024}]},
        )
    try:
        upload.seek(0)
        with Image.open(upload) as probe:
            image_format = probe.format
            probe.verify()
        upload.seek(0)
        image = Image.open(upload)
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationFailed(
            _("The avatar is not an image we can read."),
            fields={"avatar": [_("Upload a PNG, JPEG, GIF or WebP image.")]},
        ) from None
    if image_format not in AVATAR_FORMATS:
        raise ValidationFailed(
            _("The avatar must be a PNG, JPEG, GIF or WebP image."),
            fields={"avatar": [_("Upload a PNG, JPEG, GIF or WebP image.")]},
        )
    image.thumbnail((AVATAR_MAX_PIXELS, AVATAR_MAX_PIXELS))
    extension = AVATAR_FORMATS[image_format]
    out = io.BytesIO()
    if extension == "jpg":
        image.convert("RGB").save(out, format="JPEG", quality=88)
    else:
        image.convert("RGBA").save(out, format="PNG", optimize=True)
    return ContentFile(out.getvalue(), name=f"{secrets.token_hex(8)}.{extension}")


def user_set_avatar(*, user: User, upload) -> User:
    content = avatar_normalize(upload)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        old = user.avatar.name if user.avatar else None
        user.avatar.save(content.name, content, save=False)
        user.save(update_fields=["avatar"])
        audit_record(actor=user, action=AuditAction.USER_AVATAR, target=user)
    if old:
        transaction.on_commit(lambda: user.avatar.storage.delete(old))
    return user


@transaction.atomic
def creator_preferences_update(*, user: User, **fields: Any) -> CreatorPreferences:
    if not (user.role_creator or user.role_admin):
        raise PermissionDenied(_("Only creators have creator preferences."))
    prefs, _created = CreatorPreferences.objects.select_for_update().get_or_create(user=user)
    editable = {f.name for f in CreatorPreferences._meta.concrete_fields} - {"id", "user", "created_at", "updated_at"}
    unknown = set(fields) - editable
    if unknown:
        raise ValidationFailed(_("Unknown preference: %(items)s.") % {"items": ", ".join(sorted(unknown))})
    model_update(
        instance=prefs, actor=user, data=fields, allowed=editable, action=AuditAction.CREATOR_PREFERENCES_UPDATE
    )
    return prefs


def user_get_by_email(email: str) -> User:
    user = User.objects.filter(email__iexact=(email or "").strip()).first()
    if user is None:
        raise NotFound(_("No such user."))
    return user


ADMIN_EDITABLE_USER_FIELDS = {
    "email",
    "display_name",
    "full_name",
    "organization",
    "bio",
    "profile_public",
    "role_solver",
    "role_creator",
    "role_admin",
    "is_active",
    "budget_limit_rm",
    "email_verified_at",
}


def user_admin_update(*, user: User, actor: User, changes: dict[str, Any]) -> User:
    """Apply an admin's edit of an account: roles and activation through their own services."""
    unknown = set(changes) - ADMIN_EDITABLE_USER_FIELDS
    if unknown:
        raise ValidationFailed(
            _("These fields cannot be edited here: %(items)s.") % {"items": ", ".join(sorted(unknown))}
        )
    role_keys = {"role_solver", "role_creator", "role_admin"}
    with transaction.atomic():
        plain = {k: v for k, v in changes.items() if k not in role_keys | {"is_active"}}
        if plain:
            locked = User.objects.select_for_update().get(pk=user.pk)

            def unique_email(before: dict[str, Any]) -> None:
                if "email" in plain:
                    locked.email = locked.email.strip().lower()
                    if User.objects.filter(email__iexact=locked.email).exclude(pk=locked.pk).exists():
                        raise ValidationFailed(
                            _("An account with this email address already exists."),
                            fields={"email": [_("Already in use.")]},
                        )

            model_update(
                instance=locked,
                actor=actor,
                data=plain,
                allowed=ADMIN_EDITABLE_USER_FIELDS,
                action=AuditAction.USER_ADMIN_UPDATE,
                check=unique_email,
                clean_kwargs={"exclude": ["password", "avatar"], "validate_unique": False},
            )
        if role_keys & set(changes):
            current = User.objects.get(pk=user.pk)
            user_set_roles(
                user=current,
                actor=actor,
                solver=changes.get("role_solver", current.role_solver),
                creator=changes.get("role_creator", current.role_creator),
                admin=changes.get("role_admin", current.role_admin),
            )
        if "is_active" in changes:
            user_set_active(user=user, actor=actor, active=changes["is_active"])
    return User.objects.get(pk=user.pk)


@transaction.atomic
def user_unlock(*, user: User, actor: User) -> User:
    user = User.objects.select_for_update().get(pk=user.pk)
    user.locked_until = None
    user.failed_login_attempts = 0
    user.save(update_fields=["locked_until", "failed_login_attempts"])
    audit_record(actor=actor, action=AuditAction.AUTH_UNLOCK, target=user)
    return user


@transaction.atomic
def user_delete(*, user: User, actor: User) -> None:
    """Delete an account for good: its labs are stopped first, and the deletion is audited.

    Scenarios a creator wrote and teams a user owns or leads keep their rows (PROTECT), so such an
    account is refused with what to do instead; deactivating keeps everything and signs them out.
    """
    if not getattr(actor, "is_platform_admin", False):
        raise PermissionDenied(_("Only admins may delete accounts."))
    if actor.pk == user.pk:
        raise Conflict(_("You cannot delete your own account."))
    user = User.objects.select_for_update().get(pk=user.pk)
    blockers = []
    if user.scenarios.exists():
        blockers.append("has written scenarios")
    if user.owned_teams.exists() or user.led_teams.exists():
        blockers.append("owns or leads a team")
    if blockers:
        raise Conflict(
            _("%(email)s %(items)s, which keep their author; deactivate the account instead.")
            % {"email": user.email, "items": " and ".join(blockers)}
        )
    effects: dict[str, Any] = {}
    for result in hooks.user_deleting.send(user=user, actor=actor):
        effects.update(result or {})
    audit_record(actor=actor, action=AuditAction.USER_DELETE, target=user, details={"email": user.email, **effects})
    login_sessions_end(user=user, keep_session_key=None)
    user.delete()
