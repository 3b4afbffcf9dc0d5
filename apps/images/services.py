"""State changes of the image catalogue: curated images, registry credentials and their connection test."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.images.models import DockerCredential, DockerImage, ImageVariant, PlatformImage, RegistryCredential
from rangex.core.audit import (
    AuditAction,
    audit_record,
    model_delete_audited,
    model_save_audited,
    model_update,
)
from rangex.core.errors import NotFound, PermissionDenied, ServiceUnavailable, ValidationFailed

CREDENTIAL_FIELDS = ("label", "registry_url", "username_enc", "password_or_token_enc", "is_active")
DOCKER_CREDENTIAL_FIELDS = ("username", "registry_url", "password_encrypted")
CONNECTION_FIELDS = ("registry_url", "username_enc", "password_or_token_enc")


def _require_credential_access(credential, actor, owner_field: str) -> None:
    if getattr(actor, "is_platform_admin", False):
        return
    if getattr(credential, f"{owner_field}_id") != getattr(actor, "pk", None):
        raise NotFound(_("No such credential."))


@transaction.atomic
def registry_credential_save(
    *, actor, credential: RegistryCredential | None = None, changes: dict[str, Any]
) -> RegistryCredential:
    """Create a registry credential (``credential=None``) or change one; secrets are never audited."""
    if not (getattr(actor, "role_creator", False) or getattr(actor, "is_platform_admin", False)):
        raise PermissionDenied(_("Only creators and admins manage registry credentials."))
    unknown = set(changes) - set(CREDENTIAL_FIELDS)
    if unknown:
        raise ValidationFailed(_("Unknown field: %(items)s.") % {"items": ", ".join(sorted(unknown))})
    created = credential is None
    if created:
        credential = RegistryCredential(created_by_user=actor)
    else:
        credential = RegistryCredential.objects.select_for_update().get(pk=credential.pk)
        _require_credential_access(credential, actor, "created_by_user")

    def untested_if_moved(before: dict[str, Any]) -> None:
        # New connection details have not been tried yet.
        moved = any(getattr(credential, name) != before[name] for name in CONNECTION_FIELDS if name in before)
        if moved and not created:
            credential.status = RegistryCredential.Status.UNTESTED

    model_update(
        instance=credential,
        actor=actor,
        data={**changes, "status": credential.status},
        allowed=(*CREDENTIAL_FIELDS, "status"),
        action=AuditAction.REGISTRY_CREDENTIAL_CREATE if created else AuditAction.REGISTRY_CREDENTIAL_UPDATE,
        check=untested_if_moved,
    )
    return credential


def registry_credential_test(*, credential: RegistryCredential, actor) -> RegistryCredential:
    """Sign in to the credential's registry through the runtime and record the outcome."""
    if not (getattr(actor, "role_creator", False) or getattr(actor, "is_platform_admin", False)):
        raise PermissionDenied(_("Only creators and admins test registry credentials."))
    _require_credential_access(credential, actor, "created_by_user")
    from apps.runtime import RuntimeFailure, get_runtime

    try:
        runtime = get_runtime()
    except RuntimeFailure as exc:
        raise ServiceUnavailable(_("The runtime is not available: %(exc)s") % {"exc": exc}) from None
    # The registry is called outside any transaction: it may take seconds.
    try:
        runtime.registry_login(
            registry=credential.registry_url,
            username=str(credential.username_enc),
            password=str(credential.password_or_token_enc),
        )
    except RuntimeFailure as exc:
        status, message = RegistryCredential.Status.FAILED, str(getattr(exc, "message", exc))
    else:
        status, message = RegistryCredential.Status.OK, _("Signed in to %(url)s.") % {"url": credential.registry_url}
    with transaction.atomic():
        credential = RegistryCredential.objects.select_for_update().get(pk=credential.pk)
        credential.status = status
        credential.last_tested_at = timezone.now()
        credential.last_test_message = message[:500]
        credential.save(update_fields=["status", "last_tested_at", "last_test_message"])
        audit_record(
            actor=actor, action=AuditAction.REGISTRY_CREDENTIAL_TEST, target=credential, details={"status": status}
        )
    return credential


@transaction.atomic
def docker_credential_save(*, actor, credential: DockerCredential | None = None, changes: dict[str, Any]):
    """Create or change a user's own registry login; admins may change anyone's."""
    unknown = set(changes) - set(DOCKER_CREDENTIAL_FIELDS)
    if unknown:
        raise ValidationFailed(_("Unknown field: %(items)s.") % {"items": ", ".join(sorted(unknown))})
    created = credential is None
    if created:
        credential = DockerCredential(user=actor)
    else:
        credential = DockerCredential.objects.select_for_update().get(pk=credential.pk)
        _require_credential_access(credential, actor, "user")
    model_update(
        instance=credential,
        actor=actor,
        data=changes,
        allowed=DOCKER_CREDENTIAL_FIELDS,
        action=AuditAction.DOCKER_CREDENTIAL_CREATE if created else AuditAction.DOCKER_CREDENTIAL_UPDATE,
    )
    return credential


# --- The curated catalogue (admins only) ----------------------------------------------------------

CATALOG_ACTIONS = {
    DockerImage: (AuditAction.DOCKER_IMAGE_CREATE, AuditAction.DOCKER_IMAGE_UPDATE, AuditAction.DOCKER_IMAGE_DELETE),
    ImageVariant: (
        AuditAction.IMAGE_VARIANT_CREATE,
        AuditAction.IMAGE_VARIANT_UPDATE,
        AuditAction.IMAGE_VARIANT_DELETE,
    ),
    PlatformImage: (
        AuditAction.PLATFORM_IMAGE_CREATE,
        AuditAction.PLATFORM_IMAGE_UPDATE,
        AuditAction.PLATFORM_IMAGE_DELETE,
    ),
}


def _require_admin(actor) -> None:
    if not getattr(actor, "is_platform_admin", False):
        raise PermissionDenied(_("Only admins curate the image catalogue."))


@transaction.atomic
def catalog_entry_save(*, actor, entry: DockerImage | ImageVariant | PlatformImage, changed=()):
    """Create or change a docker image, image variant or platform image of the catalogue."""
    _require_admin(actor)
    if isinstance(entry, DockerImage) and entry._state.adding and entry.created_by_id is None:
        entry.created_by = actor
    create, update, _ = CATALOG_ACTIONS[type(entry)]
    return model_save_audited(instance=entry, actor=actor, create_action=create, update_action=update, changed=changed)


@transaction.atomic
def catalog_entry_delete(*, actor, entry: DockerImage | ImageVariant | PlatformImage) -> None:
    """Remove a catalogue entry; one that machines still use is refused (they keep pointing at it)."""
    _require_admin(actor)
    model_delete_audited(instance=entry, actor=actor, action=CATALOG_ACTIONS[type(entry)][2])


@transaction.atomic
def registry_credential_delete(*, actor, credential: RegistryCredential) -> None:
    """Delete a registry credential that no machine uses (machines keep theirs: PROTECT)."""
    _require_admin(actor)
    model_delete_audited(instance=credential, actor=actor, action=AuditAction.REGISTRY_CREDENTIAL_DELETE)


@transaction.atomic
def docker_credential_delete(*, actor, credential: DockerCredential) -> None:
    """Delete one's own registry login (admins: anyone's)."""
    credential = DockerCredential.objects.select_for_update().get(pk=credential.pk)
    _require_credential_access(credential, actor, "user")
    model_delete_audited(instance=credential, actor=actor, action=AuditAction.DOCKER_CREDENTIAL_DELETE)
