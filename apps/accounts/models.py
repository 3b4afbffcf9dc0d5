"""Users, their creator preferences, notifications, API tokens and second factors."""

from __future__ import annotations

import hashlib
import uuid
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin

from rangex.core.crypto import EncryptedTextField
from rangex.core.models import DEFAULT_EMAIL_PREFERENCES, STAFF_EMAIL_DEFAULTS, BaseModel, TimestampedModel


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **fields):
        fields.setdefault("is_superuser", False)
        return self._create(email, password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields):
        fields.update(is_superuser=True, role_admin=True)
        return self._create(email, password, **fields)

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)


class Theme(models.TextChoices):
    AUTO = "auto", _("Follow the system")
    LIGHT = "light", _("Light")
    DARK = "dark", _("Dark")


def language_choices() -> list[tuple[str, str]]:
    """The languages RangeX speaks (settings.LANGUAGES); a callable, so migrations do not copy them."""
    return list(settings.LANGUAGES)


class User(AbstractBaseUser, PermissionsMixin):
    """A RangeX account: email login, independent solver/creator/admin roles."""

    id = models.UUIDField(_("id"), primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(_("email"), max_length=254, unique=True)
    password = models.CharField(_("password"), max_length=255, db_column="password_hash")
    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    full_name = models.CharField(_("full name"), max_length=255, null=True, blank=True)
    organization = models.CharField(_("organization"), max_length=255, null=True, blank=True)
    bio = models.TextField(_("bio"), null=True, blank=True)
    avatar = models.FileField(
        _("avatar"), upload_to="avatars/%Y/%m/", max_length=500, null=True, blank=True, db_column="avatar_url"
    )
    profile_public = models.BooleanField(
        _("profile public"), default=True, help_text=_("Show my name and badges on public pages and scoreboards.")
    )
    show_on_path_leaderboards = models.BooleanField(
        _("show on path leaderboards"),
        default=False,
        help_text=_("List me on the leaderboards of the career paths I follow (needs a public profile)."),
    )
    role_solver = models.BooleanField(_("role solver"), default=True)
    role_creator = models.BooleanField(_("role creator"), default=False)
    role_admin = models.BooleanField(_("role admin"), default=False)
    twofa_enabled = models.BooleanField(_("twofa enabled"), default=False)
    twofa_secret = EncryptedTextField(_("twofa secret"), null=True, blank=True, editable=False)
    notification_preferences = models.JSONField(_("notification preferences"), default=dict, blank=True)
    appearance_settings = models.JSONField(_("appearance settings"), default=dict, blank=True)
    budget_limit_rm = models.DecimalField(
        _("budget limit rm"),
        max_digits=10,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("0 means no personal limit."),
    )
    budget_spent_rm = models.DecimalField(_("budget spent rm"), max_digits=10, decimal_places=2, default=Decimal("0"))
    is_active = models.BooleanField(_("is active"), default=True)
    email_verified_at = models.DateTimeField(_("email verified at"), null=True, blank=True)
    last_login_at = models.DateTimeField(_("last login at"), null=True, blank=True)
    last_login_ip = models.CharField(_("last login ip"), max_length=45, null=True, blank=True)
    last_ip = models.CharField(
        _("last ip"), max_length=45, null=True, blank=True, help_text=_("Address of the most recent signed-in request.")
    )
    password_updated_at = models.DateTimeField(_("password updated at"), null=True, blank=True)
    failed_login_attempts = models.PositiveIntegerField(_("failed login attempts"), default=0)
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    # Django's own last_login is replaced by last_login_at, written by the login service.
    last_login = None

    # Pages, emails and notifications use it; empty follows the browser (or the header's switcher).
    language = models.CharField(
        gettext_lazy("language"),
        max_length=10,
        blank=True,
        default="",
        choices=language_choices,
        help_text=gettext_lazy("Empty follows your browser's language."),
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        db_table = "user"
        ordering = ["email"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.email

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "updated_at" not in update_fields:
            kwargs["update_fields"] = [*update_fields, "updated_at"]
        super().save(*args, **kwargs)

    @property
    def is_staff(self) -> bool:
        """Creators and admins work in the Django admin; solvers never see it."""
        return self.is_active and (self.role_admin or self.role_creator or self.is_superuser)

    @property
    def is_platform_admin(self) -> bool:
        return self.is_active and (self.role_admin or self.is_superuser)

    @property
    def public_name(self) -> str:
        return self.display_name or self.full_name or self.email.split("@", 1)[0]

    def is_locked(self, now=None) -> bool:
        return self.locked_until is not None and self.locked_until > (now or timezone.now())

    def wants_email_for(self, notification_type: str) -> bool:
        email_prefs = (self.notification_preferences or {}).get("email", {})
        if notification_type in email_prefs:
            return bool(email_prefs[notification_type])
        if notification_type in STAFF_EMAIL_DEFAULTS:
            return self.is_staff
        return DEFAULT_EMAIL_PREFERENCES.get(notification_type, False)

    @property
    def theme(self) -> str:
        theme = (self.appearance_settings or {}).get("theme", Theme.AUTO)
        return theme if theme in Theme.values else Theme.AUTO


class CreatorPreferences(TimestampedModel):
    """Defaults a creator works with (``creator_preferences``)."""

    id = models.UUIDField(_("id"), primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="creator_preferences", verbose_name=_("user")
    )
    preferred_attacker_variant = models.ForeignKey(
        "images.ImageVariant",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("preferred attacker variant"),
    )
    preferred_victim_variant = models.ForeignKey(
        "images.ImageVariant",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("preferred victim variant"),
    )
    preferred_service_variant = models.ForeignKey(
        "images.ImageVariant",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("preferred service variant"),
    )
    default_resource_profile = models.CharField(_("default resource profile"), max_length=24, default="small")
    docker_registry_url = models.CharField(_("docker registry url"), max_length=255, null=True, blank=True)
    docker_username = models.CharField(_("docker username"), max_length=255, null=True, blank=True)
    docker_password_encrypted = EncryptedTextField(_("docker password encrypted"), null=True, blank=True)
    notify_on_approval = models.BooleanField(_("notify on approval"), default=True)
    notify_on_rejection = models.BooleanField(_("notify on rejection"), default=True)
    cost_alert_threshold = models.DecimalField(
        _("cost alert threshold"),
        max_digits=10,
        decimal_places=2,
        default=Decimal("80.00"),
        help_text=_("Percentage of the budget at which a cost warning is sent."),
        validators=[MinValueValidator(Decimal("0"))],
    )

    class Meta:
        db_table = "creator_preferences"
        verbose_name_plural = _("creator preferences")
        verbose_name = _("creator preferences")

    def __str__(self) -> str:
        return gettext("Preferences of %(user)s") % {"user": self.user}


class ApiToken(BaseModel):
    """A personal API token. Only a SHA-256 digest is stored; the token is shown once."""

    PREFIX = "rx"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user")
    )
    label = models.CharField(_("label"), max_length=100, help_text=_("The device or script this token belongs to."))
    key_id = models.CharField(_("key id"), max_length=16, unique=True)
    digest = models.CharField(_("digest"), max_length=64)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    last_used_ip = models.CharField(_("last used ip"), max_length=45, null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        db_table = "api_token"
        ordering = ["-created_at"]
        verbose_name = _("api token")
        verbose_name_plural = _("api tokens")

    def __str__(self) -> str:
        return f"{self.label} ({self.PREFIX}_{self.key_id}_…)"

    @staticmethod
    def digest_of(secret: str) -> str:
        return hashlib.sha256(secret.encode("utf-8")).hexdigest()

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class TOTPDevice(ThrottlingMixin, Device):
    """A time-based one-time-password device (RFC 6238).

    The shared secret lives encrypted in ``user.twofa_secret``; this row keeps what
    django-otp needs to verify: the last accepted time step (so a used code is rejected)
    and clock drift.
    """

    step = models.PositiveSmallIntegerField(_("step"), default=30)
    digits = models.PositiveSmallIntegerField(_("digits"), default=6)
    tolerance = models.PositiveSmallIntegerField(_("tolerance"), default=1)
    drift = models.SmallIntegerField(_("drift"), default=0)
    last_t = models.BigIntegerField(_("last t"), default=-1)

    class Meta(Device.Meta):
        db_table = "accounts_totp_device"
        verbose_name = _("TOTP device")
        verbose_name_plural = _("TOTP devices")

    def get_throttle_factor(self) -> int:
        return 1

    def verify_token(self, token) -> bool:
        from apps.accounts.otp import totp_verify

        return totp_verify(self, token)


class RecoveryCodeDevice(ThrottlingMixin, Device):
    """Single-use recovery codes for a lost authenticator; each code's SHA-256 digest is stored."""

    class Meta(Device.Meta):
        db_table = "accounts_recovery_device"
        verbose_name = _("recovery code device")
        verbose_name_plural = _("recovery code devices")

    def get_throttle_factor(self) -> int:
        return 1

    def verify_token(self, token) -> bool:
        from apps.accounts.otp import recovery_code_verify

        return recovery_code_verify(self, token)


class RecoveryCode(models.Model):
    device = models.ForeignKey(
        RecoveryCodeDevice, on_delete=models.CASCADE, related_name="codes", verbose_name=_("device")
    )
    digest = models.CharField(_("digest"), max_length=64)

    class Meta:
        db_table = "accounts_recovery_code"
        constraints = [models.UniqueConstraint(fields=["device", "digest"], name="recovery_code_unique")]
        verbose_name = _("recovery code")
        verbose_name_plural = _("recovery codes")

    def __str__(self) -> str:
        return gettext("recovery code")


class LoginSession(models.Model):
    """A signed-in browser session, so a password change or a disable can end the others."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="login_sessions", verbose_name=_("user")
    )
    session_key = models.CharField(_("session key"), max_length=40, unique=True)
    ip = models.CharField(_("ip"), max_length=45, null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=512, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        db_table = "accounts_login_session"
        ordering = ["-created_at"]
        verbose_name = _("login session")
        verbose_name_plural = _("login sessions")

    def __str__(self) -> str:
        return f"{self.user} @ {self.ip}"
