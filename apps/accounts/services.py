"""Every state change of accounts: sign-up, sign-in with lockout, 2FA, tokens, profile, roles,
notifications."""

from __future__ import annotations

import io
import logging
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from apps.accounts import otp
from apps.accounts.models import (
    ApiToken,
    CreatorPreferences,
    LoginSession,
    RecoveryCode,
    RecoveryCodeDevice,
    Theme,
    TOTPDevice,
    User,
)
from apps.accounts.roles import user_sync_groups
from rangex.core.audit import AuditAction, audit_record, model_update
from rangex.core.errors import (
    ApplicationError,
    LimitExceeded,
    NotFound,
    PermissionDenied,
    ServiceUnavailable,
    ValidationFailed,
)
from rangex.core.models import NotificationType
from rangex.core.notifications import email_send, notification_send
from rangex.core.system import get_settings

logger = logging.getLogger(__name__)

ROLE_FIELDS = ("role_solver", "role_creator", "role_admin")
# A user row is validated without the columns a service never changes this way.
USER_CLEAN = {"exclude": ["password", "email", "avatar"], "validate_unique": False}

LOGIN_FAILED_MESSAGE = (
    "That email and password did not match an account we can sign you in to. "
    "After several failed attempts sign-in pauses for a few minutes."
)
EMAIL_VERIFY_SALT = "rangex.accounts.verify-email"
AVATAR_FORMATS = {"PNG": "png", "JPEG": "jpg", "GIF": "png", "WEBP": "png"}
AVATAR_MAX_PIXELS = 512


class AuthenticationFailed(ApplicationError):
    status_code = 400
    code = "authentication_failed"


def _password_errors(password: str, user: User | None = None) -> list[str]:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        return list(exc.messages)
    return []


# --- Users --------------------------------------------------------------------------------------


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
        errors["email"] = ["An account with this email address already exists."]
    if password is not None:
        password_errors = _password_errors(password, user)
        if password_errors:
            errors["password"] = password_errors
    try:
        user.full_clean(exclude=["password"], validate_unique=False)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        first_field, first = next(iter(errors.items()))
        raise ValidationFailed(f"{first_field}: {first[0]}", fields=errors)

    user.set_password(password)
    user.password_updated_at = timezone.now() if password else None
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise ValidationFailed(
            "email: An account with this email address already exists.",
            fields={"email": ["An account with this email address already exists."]},
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


def user_signup(*, email: str, password: str, display_name: str = "") -> User:
    """Self-service sign-up, gated by the system settings."""
    system = get_settings()
    if not system.allow_new_registrations:
        raise ServiceUnavailable("Sign-up is closed at the moment. Ask an administrator for an account.")
    if system.max_total_users and User.objects.count() >= system.max_total_users:
        raise LimitExceeded("RangeX has reached its maximum number of accounts.", limit="max_total_users")
    user = user_create(email=email, password=password, display_name=display_name)
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
        _end_sessions(user=user, keep_session_key=None)
    return user


def _end_sessions(*, user: User, keep_session_key: str | None) -> int:
    """Delete every stored browser session of ``user`` except ``keep_session_key``."""
    from django.contrib.sessions.models import Session

    keys = list(
        LoginSession.objects.filter(user=user)
        .exclude(session_key=keep_session_key or "")
        .values_list("session_key", flat=True)
    )
    Session.objects.filter(session_key__in=keys).delete()
    LoginSession.objects.filter(user=user, session_key__in=keys).delete()
    return len(keys)


def login_session_record(*, user: User, session_key: str, ip: str | None, user_agent: str) -> None:
    LoginSession.objects.update_or_create(
        session_key=session_key, defaults={"user": user, "ip": ip, "user_agent": user_agent[:512]}
    )


def login_session_forget(*, session_key: str | None) -> None:
    if session_key:
        LoginSession.objects.filter(session_key=session_key).delete()


@transaction.atomic
def user_update_profile(*, user: User, **fields: Any) -> User:
    allowed = {"display_name", "full_name", "organization", "bio", "profile_public"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationFailed(f"Unknown profile field: {', '.join(sorted(unknown))}.")
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


def user_set_preferences(*, user: User, email_types: set[str], theme: str) -> User:
    if theme not in Theme.values:
        raise ValidationFailed("Choose light, dark or follow the system.", fields={"theme": ["Unknown theme."]})
    unknown = set(email_types) - set(NotificationType.values)
    if unknown:
        raise ValidationFailed(f"Unknown notification type: {', '.join(sorted(unknown))}.")
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
            f"The avatar is larger than {max_bytes // 1024} KB.",
            fields={"avatar": [f"Upload an image of at most {max_bytes // 1024} KB."]},
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
            "The avatar is not an image we can read.",
            fields={"avatar": ["Upload a PNG, JPEG, GIF or WebP image."]},
        ) from None
    if image_format not in AVATAR_FORMATS:
        raise ValidationFailed(
            "The avatar must be a PNG, JPEG, GIF or WebP image.",
            fields={"avatar": ["Upload a PNG, JPEG, GIF or WebP image."]},
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


# --- Passwords ----------------------------------------------------------------------------------


@transaction.atomic
def user_set_password(*, user: User, password: str, actor: User, keep_session_key: str | None = None) -> User:
    """Set a new password and end every other session of the user."""
    errors = _password_errors(password, user)
    if errors:
        raise ValidationFailed(f"password: {errors[0]}", fields={"new_password1": errors})
    user = User.objects.select_for_update().get(pk=user.pk)
    user.set_password(password)
    user.password_updated_at = timezone.now()
    user.failed_login_attempts = 0
    user.locked_until = None
    user.save(update_fields=["password", "password_updated_at", "failed_login_attempts", "locked_until"])
    ended = _end_sessions(user=user, keep_session_key=keep_session_key)
    audit_record(actor=actor, action=AuditAction.USER_PASSWORD_CHANGE, target=user, details={"sessions_ended": ended})
    notification_send(
        user=user,
        type=NotificationType.SECURITY,
        title="Your password was changed",
        body="If this was not you, reset your password now and contact an administrator.",
    )
    return user


# --- Sign-in ------------------------------------------------------------------------------------


def auth_check_credentials(*, email: str, password: str) -> User:
    """Check email and password with lockout. Every failure gives the same message.

    N failures in a row lock the account until ``locked_until``; it unlocks by itself then.
    Attempts while locked neither count nor extend the lock, so nobody can keep an account
    locked for ever.
    """
    email = (email or "").strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        # Spend the same time as a real check so timing does not reveal which emails exist.
        User().set_password(password)
        raise AuthenticationFailed(LOGIN_FAILED_MESSAGE)

    now = timezone.now()
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.is_locked(now):
            raise AuthenticationFailed(LOGIN_FAILED_MESSAGE)
        password_ok = user.check_password(password)
        if password_ok and not user.is_active:
            raise AuthenticationFailed(LOGIN_FAILED_MESSAGE)
        if password_ok:
            if user.failed_login_attempts or user.locked_until:
                user.failed_login_attempts = 0
                user.locked_until = None
                user.save(update_fields=["failed_login_attempts", "locked_until"])
            return user
        if user.locked_until is not None:
            user.locked_until = None
            user.failed_login_attempts = 0
        user.failed_login_attempts = F("failed_login_attempts") + 1
        user.save(update_fields=["failed_login_attempts", "locked_until"])
        user.refresh_from_db(fields=["failed_login_attempts"])
        audit_record(
            actor=None,
            action=AuditAction.AUTH_LOGIN_FAILED,
            target=user,
            details={"attempts": user.failed_login_attempts},
        )
        if user.failed_login_attempts >= settings.ACCOUNT_LOCKOUT_THRESHOLD:
            user.locked_until = now + timedelta(minutes=settings.ACCOUNT_LOCKOUT_MINUTES)
            user.failed_login_attempts = 0
            user.save(update_fields=["locked_until", "failed_login_attempts"])
            audit_record(
                actor=None, action=AuditAction.AUTH_LOCKOUT, target=user, details={"locked_until": user.locked_until}
            )
            notification_send(
                user=user,
                type=NotificationType.SECURITY,
                title="Sign-in paused after failed attempts",
                body=f"Several wrong passwords were entered for your account. Sign-in is paused until "
                f"{user.locked_until:%Y-%m-%d %H:%M} UTC.",
            )
    raise AuthenticationFailed(LOGIN_FAILED_MESSAGE)


def auth_record_login(*, user: User, ip: str | None, second_factor: str | None) -> None:
    now = timezone.now()
    User.objects.filter(pk=user.pk).update(last_login_at=now, last_login_ip=ip, last_ip=ip, updated_at=now)
    user.last_login_at, user.last_login_ip = now, ip
    audit_record(
        actor=user, action=AuditAction.AUTH_LOGIN, target=user, ip=ip, details={"second_factor": second_factor}
    )


# --- Email verification -------------------------------------------------------------------------


def email_verification_token(*, user: User) -> str:
    return signing.TimestampSigner(salt=EMAIL_VERIFY_SALT).sign(f"{user.pk}:{user.email}")


def email_verification_send(*, user: User) -> None:
    link = settings.SITE_URL + reverse("accounts:verify_email", args=[email_verification_token(user=user)])
    hours = settings.ACCOUNT_EMAIL_VERIFICATION_HOURS
    body = (
        f"Welcome to RangeX.\n\nConfirm your email address within {hours} hours by opening:\n{link}\n\n"
        "If you did not sign up, ignore this message."
    )
    email_send(to=user.email, subject="Confirm your RangeX email address", body=body)


@transaction.atomic
def email_verify(*, token: str) -> User:
    max_age = timedelta(hours=settings.ACCOUNT_EMAIL_VERIFICATION_HOURS)
    try:
        value = signing.TimestampSigner(salt=EMAIL_VERIFY_SALT).unsign(token, max_age=max_age)
    except signing.SignatureExpired:
        raise ValidationFailed(
            "This verification link has expired. Sign in and ask for a new one from your profile."
        ) from None
    except signing.BadSignature:
        raise ValidationFailed("This verification link is not valid.") from None
    user_id, _, email = value.partition(":")
    user = User.objects.select_for_update().filter(pk=user_id, email=email).first()
    if user is None:
        raise ValidationFailed("This verification link is not valid.")
    if user.email_verified_at is None:
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])
        audit_record(actor=user, action=AuditAction.USER_EMAIL_VERIFIED, target=user)
    return user


# --- Two-factor authentication ------------------------------------------------------------------


def twofa_devices(user: User) -> tuple[TOTPDevice | None, RecoveryCodeDevice | None]:
    totp = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    recovery = RecoveryCodeDevice.objects.filter(user=user, confirmed=True).first()
    return totp, recovery


def _recovery_codes_issue(*, user: User) -> list[str]:
    device, _ = RecoveryCodeDevice.objects.get_or_create(user=user, defaults={"name": "Recovery codes"})
    device.codes.all().delete()
    codes = [otp.new_recovery_code() for _ in range(settings.ACCOUNT_RECOVERY_CODES)]
    RecoveryCode.objects.bulk_create(RecoveryCode(device=device, digest=otp.recovery_code_digest(c)) for c in codes)
    return codes


@transaction.atomic
def twofa_enable(*, user: User, secret: str, code: str) -> tuple[TOTPDevice, list[str]]:
    """Turn on TOTP after the user proves their app holds ``secret``; return fresh recovery codes."""
    step = otp.totp_matches(secret_b32=secret, token=code)
    if step is None:
        raise ValidationFailed(
            "That code does not match. Check the time on your phone and try again.", fields={"code": ["Wrong code."]}
        )
    user = User.objects.select_for_update().get(pk=user.pk)
    user.twofa_secret = secret
    user.twofa_enabled = True
    user.save(update_fields=["twofa_secret", "twofa_enabled"])
    TOTPDevice.objects.filter(user=user).delete()
    # The enrolment code counts as used: it cannot sign anyone in afterwards.
    device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True, last_t=step)
    codes = _recovery_codes_issue(user=user)
    audit_record(actor=user, action=AuditAction.AUTH_2FA_ENABLED, target=user)
    notification_send(
        user=user,
        type=NotificationType.SECURITY,
        title="Two-factor authentication is on",
        body="Your account now asks for a code from your authenticator app at sign-in.",
    )
    return device, codes


@transaction.atomic
def twofa_disable(*, user: User, actor: User, password: str | None = None) -> User:
    """Turn 2FA off. Staff must keep it; users confirm with their password."""
    if actor.pk == user.pk:
        if user.is_staff:
            raise PermissionDenied("Staff accounts must keep two-factor authentication on.")
        if not user.check_password(password or ""):
            raise ValidationFailed("Your password is not correct.", fields={"password": ["Wrong password."]})
    user = User.objects.select_for_update().get(pk=user.pk)
    user.twofa_secret = None
    user.twofa_enabled = False
    user.save(update_fields=["twofa_secret", "twofa_enabled"])
    TOTPDevice.objects.filter(user=user).delete()
    RecoveryCodeDevice.objects.filter(user=user).delete()
    audit_record(actor=actor, action=AuditAction.AUTH_2FA_DISABLED, target=user)
    notification_send(
        user=user,
        type=NotificationType.SECURITY,
        title="Two-factor authentication is off",
        body="If this was not you, change your password now.",
    )
    return user


@transaction.atomic
def recovery_codes_regenerate(*, user: User) -> list[str]:
    if not user.twofa_enabled:
        raise ValidationFailed("Turn on two-factor authentication first.")
    codes = _recovery_codes_issue(user=user)
    audit_record(actor=user, action=AuditAction.AUTH_RECOVERY_CODES_REGENERATED, target=user)
    return codes


def twofa_verify(*, user: User, code: str):
    """Return the device that accepts ``code`` (authenticator first, then recovery codes), or raise."""
    totp, recovery = twofa_devices(user)
    for device in (totp, recovery):
        if device is None:
            continue
        allowed, _info = device.verify_is_allowed()
        if not allowed:
            raise AuthenticationFailed("Too many wrong codes. Wait a few seconds and try again.")
        if device.verify_token(code):
            if device is recovery:
                remaining = recovery.codes.count()
                audit_record(
                    actor=user,
                    action=AuditAction.AUTH_RECOVERY_CODE_USED,
                    target=user,
                    details={"remaining": remaining},
                )
                notification_send(
                    user=user,
                    type=NotificationType.SECURITY,
                    title="A recovery code was used",
                    body=f"{remaining} recovery codes are left. Generate new ones from your profile.",
                )
            return device
    audit_record(actor=user, action=AuditAction.AUTH_2FA_FAILED, target=user)
    raise AuthenticationFailed("That code is not valid, or it was already used.")


# --- API tokens ---------------------------------------------------------------------------------


def api_token_create(*, user: User, label: str, expires_in_days: int | None) -> tuple[ApiToken, str]:
    """Create a personal API token and return it with its secret, which is never stored."""
    label = (label or "").strip()
    if not label:
        raise ValidationFailed(
            "Give the token a label, such as the device it is for.", fields={"label": ["This field is required."]}
        )
    max_days = settings.ACCOUNT_API_TOKEN_MAX_DAYS
    if expires_in_days is not None and not (1 <= expires_in_days <= max_days):
        raise ValidationFailed(
            f"Expiry must be between 1 and {max_days} days.",
            fields={"expires_in_days": [f"Choose 1 to {max_days} days."]},
        )
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    raw = f"{ApiToken.PREFIX}_{key_id}_{secret}"
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            label=label[:100],
            key_id=key_id,
            digest=ApiToken.digest_of(raw),
            expires_at=timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None,
        )
        audit_record(
            actor=user,
            action=AuditAction.API_TOKEN_CREATE,
            target=token,
            details={"label": token.label, "expires_at": token.expires_at},
        )
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: User) -> ApiToken:
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action=AuditAction.API_TOKEN_REVOKE, target=token)
    return token


def api_token_authenticate(*, raw: str, ip: str | None) -> tuple[User, ApiToken] | None:
    """Return (user, token) for a usable token, or None. Last use is recorded once a minute."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != ApiToken.PREFIX:
        return None
    token = ApiToken.objects.select_related("user").filter(key_id=parts[1]).first()
    if token is None or not secrets.compare_digest(token.digest, ApiToken.digest_of(raw)):
        return None
    now = timezone.now()
    if not token.is_usable(now) or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now, last_used_ip=ip)
    return token.user, token


@transaction.atomic
def creator_preferences_update(*, user: User, **fields: Any) -> CreatorPreferences:
    if not (user.role_creator or user.role_admin):
        raise PermissionDenied("Only creators have creator preferences.")
    prefs, _ = CreatorPreferences.objects.select_for_update().get_or_create(user=user)
    editable = {f.name for f in CreatorPreferences._meta.concrete_fields} - {"id", "user", "created_at", "updated_at"}
    unknown = set(fields) - editable
    if unknown:
        raise ValidationFailed(f"Unknown preference: {', '.join(sorted(unknown))}.")
    model_update(
        instance=prefs, actor=user, data=fields, allowed=editable, action=AuditAction.CREATOR_PREFERENCES_UPDATE
    )
    return prefs


def user_get_by_email(email: str) -> User:
    user = User.objects.filter(email__iexact=(email or "").strip()).first()
    if user is None:
        raise NotFound("No such user.")
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
        raise ValidationFailed(f"These fields cannot be edited here: {', '.join(sorted(unknown))}.")
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
                            "An account with this email address already exists.",
                            fields={"email": ["Already in use."]},
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
