"""Factories for the image catalogue: variants, platform images and registry credentials."""

from __future__ import annotations

from typing import Any

import factory

from apps.images.models import ImageVariant, PlatformImage, RegistryCredential


def image_variant(**fields: Any) -> ImageVariant:
    """Return an active, approved image variant (the catalogue is admin data, created directly)."""
    values = {
        "base_os": "debian",
        "variant_type": "standard",
        "image_ref": "rangex/busybox:latest",
        "display_name": "Busybox",
        "is_active": True,
        "is_admin_approved": True,
        **fields,
    }
    return ImageVariant.objects.create(**values)


class PlatformImageFactory(factory.django.DjangoModelFactory):
    """An active platform image (admin catalogue data, created directly)."""

    class Meta:
        model = PlatformImage

    label = factory.Sequence(lambda n: f"Platform image {n}")
    image_ref = "rangex/busybox:latest"
    is_active = True


def registry_credential(*, actor, **changes: Any) -> RegistryCredential:
    """Return a registry credential made through the service, as the admin makes one."""
    from apps.images.services import registry_credential_save

    values = {"label": "Local registry", "registry_url": "127.0.0.1:5000", "username_enc": "robot",
              "password_or_token_enc": "secret-token", **changes}  # fmt: skip
    return registry_credential_save(actor=actor, changes=values)
