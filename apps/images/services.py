"""State changes of the image catalogue: registry credentials and their connection test."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.images.models import DockerCredential, RegistryCredential
from apps.ops.services import audit_record, field_changes, full_clean_or_raise, model_values
from rangex.core.errors import NotFound, PermissionDenied, ServiceUnavailable, ValidationFailed

CREDENTIAL_FIELDS = ("label", "registry_url", "username_enc", "password_or_token_enc", "is_active")
DOCKER_CREDENTIAL_FIELDS = ("username", "registry_url", "password_encrypted")


def _require_credential_access(credential, actor, owner_field: str) -> None:
    if getattr(actor, "is_platform_admin", False):
        return
    if getattr(credential, f"{owner_field}_id") != getattr(actor, "pk", None):
        raise NotFound("No such credential.")


@transaction.atomic
def registry_credential_save(
    *, actor, credential: RegistryCredential | None = None, changes: dict[str, Any]
) -> RegistryCredential:
    """Create a registry credential (``credential=None``) or change one; secrets are never audited."""
    if not (getattr(actor, "role_creator", False) or getattr(actor, "is_platform_admin", False)):
        raise PermissionDenied("Only creators and admins manage registry credentials.")
    unknown = set(changes) - set(CREDENTIAL_FIELDS)
    if unknown:
        raise ValidationFailed(f"Unknown field: {', '.join(sorted(unknown))}.")
    created = credential is None
    if created:
        credential = RegistryCredential(created_by_user=actor)
    else:
        credential = RegistryCredential.objects.select_for_update().get(pk=credential.pk)
        _require_credential_access(credential, actor, "created_by_user")
    before = model_values(credential, changes)
    for name, value in changes.items():
        setattr(credential, name, value)
    diff = field_changes(credential, before, changes)
    if {"registry_url", "username_enc", "password_or_token_enc"} & set(diff) and not created:
        # New connection details have not been tried yet.
        credential.status = RegistryCredential.Status.UNTESTED
    full_clean_or_raise(credential)
    credential.save()
    audit_record(
        actor=actor,
        action="registry_credential.create" if created else "registry_credential.update",
        target=credential,
        details={"changes": diff},
    )
    return credential


def registry_credential_test(*, credential: RegistryCredential, actor) -> RegistryCredential:
    """Sign in to the credential's registry through the runtime and record the outcome."""
    if not (getattr(actor, "role_creator", False) or getattr(actor, "is_platform_admin", False)):
        raise PermissionDenied("Only creators and admins test registry credentials.")
    _require_credential_access(credential, actor, "created_by_user")
    from apps.runtime import RuntimeFailure, get_runtime

    try:
        runtime = get_runtime()
    except RuntimeFailure as exc:
        raise ServiceUnavailable(f"The runtime is not available: {exc}") from None
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
        status, message = RegistryCredential.Status.OK, f"Signed in to {credential.registry_url}."
    with transaction.atomic():
        credential = RegistryCredential.objects.select_for_update().get(pk=credential.pk)
        credential.status = status
        credential.last_tested_at = timezone.now()
        credential.last_test_message = message[:500]
        credential.save(update_fields=["status", "last_tested_at", "last_test_message"])
        audit_record(actor=actor, action="registry_credential.test", target=credential, details={"status": status})
    return credential


@transaction.atomic
def docker_credential_save(*, actor, credential: DockerCredential | None = None, changes: dict[str, Any]):
    """Create or change a user's own registry login; admins may change anyone's."""
    unknown = set(changes) - set(DOCKER_CREDENTIAL_FIELDS)
    if unknown:
        raise ValidationFailed(f"Unknown field: {', '.join(sorted(unknown))}.")
    created = credential is None
    if created:
        credential = DockerCredential(user=actor)
    else:
        credential = DockerCredential.objects.select_for_update().get(pk=credential.pk)
        _require_credential_access(credential, actor, "user")
    before = model_values(credential, changes)
    for name, value in changes.items():
        setattr(credential, name, value)
    full_clean_or_raise(credential)
    credential.save()
    audit_record(
        actor=actor,
        action="docker_credential.create" if created else "docker_credential.update",
        target=credential,
        details={"changes": field_changes(credential, before, changes)},
    )
    return credential
