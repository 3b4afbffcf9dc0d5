"""Signing in: passwords, lockout, email verification, two-factor authentication and API tokens."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from apps.accounts import otp
from apps.accounts.models import (
    ApiToken,
    RecoveryCode,
    RecoveryCodeDevice,
    TOTPDevice,
    User,
)
from apps.accounts.services.common import login_sessions_end, password_errors
from rangex.core.audit import AuditAction, audit_record
from rangex.core.errors import (
    ApplicationError,
    PermissionDenied,
    ValidationFailed,
)
from rangex.core.models import NotificationType
from rangex.core.notifications import email_send, notification_send

logger = logging.getLogger(__name__)


LOGIN_FAILED_MESSAGE = gettext_noop(
    "That email and password did not match an account we can sign you in to. "
    "After several failed attempts sign-in pauses for a few minutes."
)


EMAIL_VERIFY_SALT = "rangex.accounts.verify-email"


class AuthenticationFailed(ApplicationError):
    status_code = 400
    code = "authentication_failed"


@transaction.atomic
def user_set_password(*, user: User, password: str, actor: User, keep_session_key: str | None = None) -> User:
    """Set a new password and end every other session of the user."""
    errors = password_errors(password, user)
    if errors:
        raise ValidationFailed(_("password: %(value)s") % {"value": errors[0]}, fields={"new_password1": errors})
    user = User.objects.select_for_update().get(pk=user.pk)
    user.set_password(password)
    user.password_updated_at = timezone.now()
    user.failed_login_attempts = 0
    user.locked_until = None
    user.save(update_fields=["password", "password_updated_at", "failed_login_attempts", "locked_until"])
    ended = login_sessions_end(user=user, keep_session_key=keep_session_key)
    audit_record(actor=actor, action=AuditAction.USER_PASSWORD_CHANGE, target=user, details={"sessions_ended": ended})
    notification_send(
        user=user,
        type=NotificationType.SECURITY,
        title=gettext_lazy("Your password was changed"),
        body=gettext_lazy("If this was not you, reset your password now and contact an administrator."),
    )
    return user


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
        raise AuthenticationFailed(_(LOGIN_FAILED_MESSAGE))

    now = timezone.now()
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.is_locked(now):
            raise AuthenticationFailed(_(LOGIN_FAILED_MESSAGE))
        password_ok = user.check_password(password)
        if password_ok and not user.is_active:
            raise AuthenticationFailed(_(LOGIN_FAILED_MESSAGE))
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
                title=gettext_lazy("Sign-in paused after failed attempts"),
                body=format_lazy(
                    gettext_lazy(
                        "Several wrong passwords were entered for your account. Sign-in is paused until "
                        "{locked_until} UTC."
                    ),
                    locked_until=format(user.locked_until, "%Y-%m-%d %H:%M"),
                ),
            )
    raise AuthenticationFailed(_(LOGIN_FAILED_MESSAGE))


def auth_record_login(*, user: User, ip: str | None, second_factor: str | None) -> None:
    now = timezone.now()
    User.objects.filter(pk=user.pk).update(last_login_at=now, last_login_ip=ip, last_ip=ip, updated_at=now)
    user.last_login_at, user.last_login_ip = now, ip
    audit_record(
        actor=user, action=AuditAction.AUTH_LOGIN, target=user, ip=ip, details={"second_factor": second_factor}
    )


def email_verification_token(*, user: User) -> str:
    return signing.TimestampSigner(salt=EMAIL_VERIFY_SALT).sign(f"{user.pk}:{user.email}")


def email_verification_send(*, user: User) -> None:
    link = settings.SITE_URL + reverse("accounts:verify_email", args=[email_verification_token(user=user)])
    hours = settings.ACCOUNT_EMAIL_VERIFICATION_HOURS
    body = format_lazy(
        gettext_lazy(
            "Welcome to RangeX.\n\nConfirm your email address within {hours} hours by opening:\n{link}\n\n"
            "If you did not sign up, ignore this message."
        ),
        hours=hours,
        link=link,
    )
    email_send(to=user.email, subject=gettext_lazy("Confirm your RangeX email address"), body=body)


@transaction.atomic
def email_verify(*, token: str) -> User:
    max_age = timedelta(hours=settings.ACCOUNT_EMAIL_VERIFICATION_HOURS)
    try:
        value = signing.TimestampSigner(salt=EMAIL_VERIFY_SALT).unsign(token, max_age=max_age)
    except signing.SignatureExpired:
        raise ValidationFailed(
            _("This verification link has expired. Sign in and ask for a new one from your profile.")
        ) from None
    except signing.BadSignature:
        raise ValidationFailed(_("This verification link is not valid.")) from None
    user_id, _sep, email = value.partition(":")
    user = User.objects.select_for_update().filter(pk=user_id, email=email).first()
    if user is None:
        raise ValidationFailed(_("This verification link is not valid."))
    if user.email_verified_at is None:
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])
        audit_record(actor=user, action=AuditAction.USER_EMAIL_VERIFIED, target=user)
    return user


def twofa_devices(user: User) -> tuple[TOTPDevice | None, RecoveryCodeDevice | None]:
    totp = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    recovery = RecoveryCodeDevice.objects.filter(user=user, confirmed=True).first()
    return totp, recovery


def _recovery_codes_issue(*, user: User) -> list[str]:
    device, _created = RecoveryCodeDevice.objects.get_or_create(user=user, defaults={"name": "Recovery codes"})
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
            _("That code does not match. Check the time on your phone and try again."),
            fields={"code": [_("Wrong code.")]},
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
        title=gettext_lazy("Two-factor authentication is on"),
        body=gettext_lazy("Your account now asks for a code from your authenticator app at sign-in."),
    )
    return device, codes


@transaction.atomic
def twofa_disable(*, user: User, actor: User, password: str | None = None) -> User:
    """Turn 2FA off. Staff must keep it; users confirm with their password."""
    if actor.pk == user.pk:
        if user.is_staff:
            raise PermissionDenied(_("Staff accounts must keep two-factor authentication on."))
        if not user.check_password(password or ""):
            raise ValidationFailed(_("Your password is not correct."), fields={"password": [_("Wrong password.")]})
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
        title=gettext_lazy("Two-factor authentication is off"),
        body=gettext_lazy("If this was not you, change your password now."),
    )
    return user


@transaction.atomic
def recovery_codes_regenerate(*, user: User) -> list[str]:
    if not user.twofa_enabled:
        raise ValidationFailed(_("Turn on two-factor authentication first."))
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
            raise AuthenticationFailed(_("Too many wrong codes. Wait a few seconds and try again."))
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
                    title=gettext_lazy("A recovery code was used"),
                    body=format_lazy(
                        gettext_lazy("{remaining} recovery codes are left. Generate new ones from your profile."),
                        remaining=remaining,
                    ),
                )
            return device
    audit_record(actor=user, action=AuditAction.AUTH_2FA_FAILED, target=user)
    raise AuthenticationFailed(_("That code is not valid, or it was already used."))


def api_token_create(*, user: User, label: str, expires_in_days: int | None) -> tuple[ApiToken, str]:
    """Create a personal API token and return it with its secret, which is never stored."""
    label = (label or "").strip()
    if not label:
        raise ValidationFailed(
            _("Give the token a label, such as the device it is for."), fields={"label": [_("This field is required.")]}
        )
    max_days = settings.ACCOUNT_API_TOKEN_MAX_DAYS
    if expires_in_days is not None and not (1 <= expires_in_days <= max_days):
        raise ValidationFailed(
            _("Expiry must be between 1 and %(max_days)s days.") % {"max_days": max_days},
            fields={"expires_in_days": [_("Choose 1 to %(max_days)s days.") % {"max_days": max_days}]},
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
