"""Badges as Open Badges 3.0 credentials (1EdTech): built, signed as a VC-JWT, verified and baked into a PNG.

- The credential is an ``OpenBadgeCredential`` (W3C Verifiable Credentials 2.0 data model) whose
  subject is an ``AchievementSubject`` holding the badge's ``Achievement``. The learner is named by a
  salted SHA-256 hash of their email address (an ``IdentityObject``), never in the clear, so a wallet
  can match it and nobody else can read it.
- It is signed as a compact JWS (``alg`` EdDSA, Ed25519) with joserfc, the JOSE library of the
  Authlib project. The issuer key is derived from ``SECRET_KEY`` with HKDF (nothing to store or
  leak separately); its public half is published as a JWK set at ``/badges/issuer/jwks.json`` and in
  the issuer profile. Rotating ``SECRET_KEY`` re-keys the issuer: credentials issued before verify
  again once re-downloaded (their pages sign afresh), older downloaded copies no longer do.
- A credential's link carries an HMAC of the award id, so links cannot be enumerated; the award row
  is the source of truth: a revoked badge (row deleted) makes every copy invalid on the verify page.
- Baking follows the Open Badges 3.0 baking rules for PNG: an ``iTXt`` chunk with the keyword
  ``openbadgecredential`` whose text is the signed credential.
"""

from __future__ import annotations

import hashlib
import io
import json
import warnings
from functools import lru_cache

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

from apps.badges.models import UserBadge

CONTEXTS = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
ALGORITHM = "EdDSA"
KEY_ID = "key-1"
BAKE_KEYWORD = "openbadgecredential"


@lru_cache(maxsize=4)
def _private_key(secret: str) -> OKPKey:
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"rangex", info=b"open badges issuer ed25519").derive(
        secret.encode()
    )
    pem = Ed25519PrivateKey.from_private_bytes(seed).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return OKPKey.import_key(pem)


def issuer_key() -> OKPKey:
    return _private_key(settings.SECRET_KEY)


def public_jwk() -> dict:
    return {**issuer_key().as_dict(private=False), "kid": KEY_ID, "use": "sig", "alg": ALGORITHM}


def credential_ref(award: UserBadge) -> str:
    """Return the unguessable reference of ``award`` used in its links (id and an HMAC of it)."""
    mac = salted_hmac("badges.credential", str(award.pk)).hexdigest()[:20]
    return f"{award.pk}-{mac}"


def award_from_ref(ref: str) -> UserBadge | None:
    """Return the award a reference names, or None (unknown, forged or revoked)."""
    pk, _, mac = (ref or "").partition("-")
    if not pk.isdigit() or not constant_time_compare(mac, salted_hmac("badges.credential", pk).hexdigest()[:20]):
        return None
    return UserBadge.objects.select_related("badge", "user").filter(pk=int(pk)).first()


def _identity(user, ref: str) -> dict:
    salt = hashlib.sha256(f"{ref}:{settings.SECRET_KEY}".encode()).hexdigest()[:16]
    digest = hashlib.sha256((user.email.lower() + salt).encode()).hexdigest()
    return {
        "type": "IdentityObject",
        "identityHash": f"sha256${digest}",
        "identityType": "emailAddress",
        "hashed": True,
        "salt": salt,
    }


def credential_build(*, award: UserBadge, base_url: str) -> dict:
    """Return the unsigned ``OpenBadgeCredential`` of ``award``; ``base_url`` is the site's origin."""
    ref = credential_ref(award)
    badge = award.badge
    issuer = {
        "id": base_url + reverse("badges:issuer"),
        "type": ["Profile"],
        "name": "RangeX",
        "url": base_url + "/",
    }
    achievement = {
        "id": base_url + reverse("badges:detail", args=[badge.pk]),
        "type": ["Achievement"],
        "name": badge.name,
        "description": badge.description or badge.name,
        "criteria": {"narrative": badge.criteria or badge.description or badge.name},
    }
    if badge.icon:
        achievement["image"] = {"id": base_url + badge.icon.url, "type": "Image"}
    return {
        "@context": CONTEXTS,
        "id": base_url + reverse("badges:credential", args=[ref]),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": issuer,
        "validFrom": award.earned_at.isoformat(),
        "name": badge.name,
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [_identity(award.user, ref)],
            "achievement": achievement,
        },
    }


def credential_sign(credential: dict) -> str:
    """Return ``credential`` as a compact JWS (VC-JWT) signed with the issuer key."""
    header = {"alg": ALGORITHM, "kid": credential["issuer"]["id"] + "#" + KEY_ID, "typ": "vc+jwt"}
    payload = json.dumps(credential, separators=(",", ":"), sort_keys=True).encode()
    with warnings.catch_warnings():
        # RFC 9864 prefers the name "Ed25519"; badge wallets and validators still expect "EdDSA".
        warnings.simplefilter("ignore")
        return jws.serialize_compact(header, payload, issuer_key(), algorithms=[ALGORITHM])


def credential_verify(token: str) -> dict | None:
    """Return the credential in ``token`` if its signature is the issuer's and its award still stands, else None."""
    public = OKPKey.import_key(public_jwk())
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            payload = jws.deserialize_compact((token or "").strip(), public, algorithms=[ALGORITHM]).payload
        credential = json.loads(payload)
    except (JoseError, ValueError, TypeError):
        return None
    ref = str(credential.get("id", "")).rstrip("/").rsplit("/", 1)[-1]
    return credential if award_from_ref(ref) is not None else None


def baked_png(*, token: str, image_bytes: bytes | None = None) -> bytes:
    """Return a PNG of the badge (its icon, or a plain medal) with ``token`` baked into an iTXt chunk."""
    from PIL import Image, ImageDraw, PngImagePlugin

    image = None
    if image_bytes:
        try:
            image = Image.open(io.BytesIO(image_bytes)).convert("RGBA")
        except OSError:
            image = None
    if image is None:
        image = Image.new("RGBA", (256, 256), (255, 255, 255, 0))
        draw = ImageDraw.Draw(image)
        draw.ellipse((28, 28, 228, 228), fill=(10, 88, 202, 255), outline=(255, 193, 7, 255), width=12)
    info = PngImagePlugin.PngInfo()
    info.add_itxt(BAKE_KEYWORD, token)
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def unbake_png(data: bytes) -> str | None:
    """Return the credential baked into a PNG, or None."""
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    image.load()
    return image.text.get(BAKE_KEYWORD) if hasattr(image, "text") else None
