"""Second-factor mechanics: TOTP secrets, QR codes, verification with replay protection,
and single-use recovery codes."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import quote, urlencode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.db import transaction
from django_otp.oath import TOTP

RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_totp_secret() -> str:
    """Return a fresh 160-bit secret in base32, as authenticator apps expect."""
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii").rstrip("=")


def _secret_bytes(secret_b32: str) -> bytes:
    padded = secret_b32 + "=" * (-len(secret_b32) % 8)
    return base64.b32decode(padded, casefold=True)


def provisioning_uri(*, email: str, secret_b32: str) -> str:
    issuer = settings.OTP_TOTP_ISSUER
    label = quote(f"{issuer}:{email}")
    query = urlencode({"secret": secret_b32, "issuer": issuer, "algorithm": "SHA1", "digits": 6, "period": 30})
    return f"otpauth://totp/{label}?{query}"


def qr_svg(data: str) -> str:
    """Render ``data`` as an inline SVG QR code (no external service, no script)."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    return image.to_string(encoding="unicode")


def format_secret(secret_b32: str) -> str:
    """Group the secret in fours, the way people type it into an app."""
    return " ".join(secret_b32[i : i + 4] for i in range(0, len(secret_b32), 4))


def normalize_totp(token) -> int | None:
    digits = "".join(ch for ch in str(token) if not ch.isspace())
    if not digits.isdigit() or len(digits) != 6:
        return None
    return int(digits)


def totp_matches(*, secret_b32: str, token, min_t: int | None = None, tolerance: int = 1) -> int | None:
    """Return the time step at which ``token`` is valid for the secret, or None."""
    value = normalize_totp(token)
    if value is None:
        return None
    totp = TOTP(_secret_bytes(secret_b32), step=30, digits=6)
    if totp.verify(value, tolerance=tolerance, min_t=min_t):
        return totp.t()
    return None


def totp_verify(device, token) -> bool:
    """Verify a TOTP code for ``device``; a code (or an earlier one) that was already accepted fails."""
    with transaction.atomic():
        # Lock the device so two requests carrying the same code cannot both pass.
        locked = type(device).objects.select_for_update().select_related("user").get(pk=device.pk)
        allowed, _ = locked.verify_is_allowed()
        secret = locked.user.twofa_secret
        if not allowed or not secret:
            return False
        value = normalize_totp(token)
        totp = TOTP(_secret_bytes(secret), step=locked.step, digits=locked.digits, drift=locked.drift)
        if value is not None and totp.verify(value, tolerance=locked.tolerance, min_t=locked.last_t + 1):
            locked.last_t = totp.t()
            locked.drift = totp.drift
            locked.throttle_reset(commit=False)
            locked.save(update_fields=["last_t", "drift", "throttling_failure_timestamp", "throttling_failure_count"])
            device.last_t = locked.last_t
            return True
        locked.throttle_increment(commit=False)
        locked.save(update_fields=["throttling_failure_timestamp", "throttling_failure_count"])
        return False


def normalize_recovery_code(token) -> str:
    return "".join(ch for ch in str(token).upper() if ch.isalnum())


def recovery_code_digest(token) -> str:
    return hashlib.sha256(("recovery:" + normalize_recovery_code(token)).encode("utf-8")).hexdigest()


def new_recovery_code() -> str:
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def recovery_code_verify(device, token) -> bool:
    """Accept a recovery code once: the matching row is deleted in the same statement."""
    with transaction.atomic():
        locked = type(device).objects.select_for_update().get(pk=device.pk)
        allowed, _ = locked.verify_is_allowed()
        if not allowed:
            return False
        deleted, _ = locked.codes.filter(digest=recovery_code_digest(token)).delete()
        if deleted:
            locked.throttle_reset(commit=False)
        else:
            locked.throttle_increment(commit=False)
        locked.save(update_fields=["throttling_failure_timestamp", "throttling_failure_count"])
        return bool(deleted)
