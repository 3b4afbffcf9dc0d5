"""The asset library: files creators upload once and attach to many versions (``asset``, ``asset_scenario_version``).

Files live where ``SystemSettings.storage_driver`` says (``rangex.core.storage``). A file is
stored before its row is written and removed again when the row cannot be written, so a failure
leaves neither; a store that cannot be reached refuses the upload with its address.
"""

from __future__ import annotations

import hashlib
import mimetypes
import posixpath
import uuid

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from apps.scenarios.models import (
    Asset,
    AssetLocation,
    AssetScenarioVersion,
    AssetType,
    Machine,
    ScenarioVersion,
    VersionStatus,
)
from apps.scenarios.quota import storage_quota_refusal
from apps.scenarios.services import _locked, _require_editable, _require_owner_or_admin
from rangex.core.audit import AuditAction, audit_record, full_clean_or_raise
from rangex.core.errors import ApplicationError, Conflict, NotFound, PermissionDenied, ValidationFailed
from rangex.core.storage import asset_storage, object_storage_error, object_storage_selected, storage_for_location

MAX_TAGS = 20


def _is_creator(user) -> bool:
    return bool(getattr(user, "is_platform_admin", False) or getattr(user, "is_staff", False))


def _clean_name(raw: str) -> str:
    name = posixpath.basename((raw or "").replace("\\", "/")).strip()
    if not name or name in (".", "..") or "\x00" in name:
        raise ValidationFailed(
            _("Give the file a plain name."), fields={"file": [_("The upload has no usable file name.")]}
        )
    return name[:255]


def _clean_tags(tags) -> list[str]:
    if isinstance(tags, str):
        tags = tags.split(",")
    out = list(dict.fromkeys(t.strip().lower()[:40] for t in (tags or []) if t and t.strip()))
    if len(out) > MAX_TAGS:
        raise ValidationFailed(
            _("At most %(MAX_TAGS)s tags.") % {"MAX_TAGS": MAX_TAGS},
            fields={"tags": [_("Use at most %(MAX_TAGS)s tags.") % {"MAX_TAGS": MAX_TAGS}]},
        )
    return out


def asset_upload_check(*, owner_id, name: str, size: int) -> None:
    """Refuse an empty, oversized or over-quota file; the message names the limit."""
    limit = settings.RANGEX_MAX_ASSET_BYTES
    if size <= 0:
        raise ValidationFailed(_("The file is empty."), fields={"file": [_("The file is empty.")]})
    if size > limit:
        message = _(
            "%(name)s is %(value)s MB; assets may be at most %(value2)s MB (setting RANGEX_MAX_ASSET_BYTES)."
        ) % {"name": name, "value": format(size / (1024 * 1024), ".1f"), "value2": format(limit / (1024 * 1024), ".1f")}
        raise ValidationFailed(message, fields={"file": [message]})
    refusal = storage_quota_refusal(owner_id=owner_id, add_bytes=size)
    if refusal:
        raise ValidationFailed(refusal, fields={"file": [refusal]})


def asset_upload(*, actor, upload, name: str = "", description: str = "", tags=()) -> Asset:
    """Store ``upload`` (a Django ``UploadedFile``) in the library and return its row."""
    if not _is_creator(actor):
        raise PermissionDenied(_("Only creators and admins may upload to the asset library."))
    file_name = _clean_name(getattr(upload, "name", "") or name)
    tags = _clean_tags(tags)
    asset_upload_check(owner_id=actor.pk, name=file_name, size=upload.size)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    minio = object_storage_selected()
    storage = asset_storage()
    try:
        key = storage.save(f"library/{uuid.uuid4().hex}/{file_name}", upload)
    except ApplicationError:
        raise
    except Exception as exc:
        raise object_storage_error(exc) from exc
    try:
        with transaction.atomic():
            asset = Asset(
                name=(name or file_name).strip()[:255],
                file_name=file_name,
                type=(mimetypes.guess_type(file_name)[0] or "application/octet-stream")[:64],
                storage_key=key,
                size_bytes=upload.size,
                sha256=digest.hexdigest(),
                description=description[:255],
                tags=tags,
                created_by_user=actor,
                asset_location=AssetLocation.MINIO if minio else AssetLocation.LOCAL,
                minio_path=key if minio else None,
            )
            full_clean_or_raise(asset)
            asset.save()
            audit_record(
                actor=actor,
                action=AuditAction.ASSET_UPLOAD,
                target=asset,
                details={"name": asset.name, "size": asset.size_bytes, "location": asset.asset_location},
            )
    except BaseException:
        storage.delete(key)
        raise
    return asset


def _require_asset_owner(asset: Asset, actor) -> None:
    if not getattr(actor, "is_platform_admin", False) and asset.created_by_user_id != getattr(actor, "pk", None):
        raise PermissionDenied(_("Only the creator who uploaded this asset or an admin may change it."))


@transaction.atomic
def asset_update(*, asset: Asset, actor, name=None, description=None, tags=None) -> Asset:
    asset = Asset.objects.select_for_update().get(pk=asset.pk)
    _require_asset_owner(asset, actor)
    changes = {}
    if name is not None and name.strip():
        changes["name"] = name.strip()[:255]
    if description is not None:
        changes["description"] = description[:255]
    if tags is not None:
        changes["tags"] = _clean_tags(tags)
    for field, value in changes.items():
        setattr(asset, field, value)
    if changes:
        full_clean_or_raise(asset)
        asset.save(update_fields=[*changes, "updated_at"])
        audit_record(actor=actor, action=AuditAction.ASSET_UPDATE, target=asset, details={"fields": sorted(changes)})
    return asset


def asset_delete(*, asset: Asset, actor) -> None:
    """Remove an asset no published version uses: its file leaves the store, then its row.

    An asset in object storage keeps its row with ``deleted_from_minio`` set, as the record of what
    was there; a local one is deleted outright. Drafts that used it lose the attachment.
    """
    with transaction.atomic():
        asset = Asset.objects.select_for_update().get(pk=asset.pk)
        _require_asset_owner(asset, actor)
        if asset.deleted_from_minio:
            return
        in_use = sorted(
            {
                f"{link.scenario_version.title} v{link.scenario_version.version_number}"
                for link in asset.version_links.select_related("scenario_version").filter(
                    scenario_version__status=VersionStatus.PUBLISHED
                )
            }
        )
        if in_use:
            raise Conflict(
                _("%(name)s is used by published versions (%(items)s); it cannot be deleted.")
                % {"name": asset.name, "items": ", ".join(in_use)}
            )
        location, key = asset.asset_location, asset.storage_key
        asset.version_links.all().delete()
        audit_record(actor=actor, action=AuditAction.ASSET_DELETE, target=asset, details={"name": asset.name})
        if location == AssetLocation.MINIO:
            asset.deleted_from_minio = True
            asset.save(update_fields=["deleted_from_minio", "updated_at"])
        else:
            asset.delete()
    try:
        storage_for_location(location).delete(key)
    except ApplicationError:
        raise
    except Exception as exc:
        raise object_storage_error(exc) from exc


def asset_link_check(link: AssetScenarioVersion) -> None:
    """The same rules as a version's own assets: a machine file names a machine of the version and a path."""
    errors: dict[str, list[str]] = {}
    if link.asset.deleted_from_minio:
        errors["asset"] = [_("This asset was deleted.")]
    if link.asset_type == AssetType.MACHINE_FILE:
        if link.machine is None:
            errors["machine"] = [_("A machine file needs the machine it is copied into.")]
        elif link.machine.scenario_version_id != link.scenario_version_id:
            errors["machine"] = [_("The machine belongs to another version.")]
        path = link.target_path or ""
        if not path.startswith("/") or ".." in path.split("/"):
            errors["target_path"] = [_("Give the absolute path inside the machine, without '..'.")]
    elif link.machine is not None or link.target_path:
        errors["asset_type"] = [
            _("Only a machine file is copied into a machine; choose that type or clear the machine and target path.")
        ]
    if errors:
        raise ValidationFailed(
            _("The attachment was not saved: %(errors)s")
            % {"errors": " ".join(str(m) for ms in errors.values() for m in ms)},
            fields=errors,
        )


@transaction.atomic
def asset_attach(
    *,
    version: ScenarioVersion,
    asset: Asset,
    actor,
    asset_type: str = AssetType.DOWNLOAD,
    machine: Machine | None = None,
    target_path: str = "",
    permissions: str = "0644",
    link: AssetScenarioVersion | None = None,
) -> AssetScenarioVersion:
    """Attach a library asset to a DRAFT version (or change an attachment, when ``link`` is given)."""
    version = _locked(version)
    _require_owner_or_admin(version, actor)
    _require_editable(version)
    if link is not None and link.scenario_version_id != version.pk:
        raise NotFound(_("No such attachment on this version."))
    link = link or AssetScenarioVersion(scenario_version=version)
    link.asset = asset
    link.asset_type = asset_type
    link.machine = machine
    link.target_path = target_path or ""
    link.permissions = permissions or "0644"
    asset_link_check(link)
    created = link.pk is None
    full_clean_or_raise(link, exclude=["scenario_version"] if created else None)
    if created and AssetScenarioVersion.objects.filter(asset=asset, scenario_version=version).exists():
        raise ValidationFailed(
            _("%(name)s is already attached to this version.") % {"name": asset.name},
            fields={"asset": [_("Already attached.")]},
        )
    link.save()
    audit_record(
        actor=actor,
        action=AuditAction.ASSET_ATTACH,
        target=version,
        details={"asset": str(asset.pk), "type": asset_type, "target_path": link.target_path},
    )
    return link


@transaction.atomic
def asset_detach(*, link: AssetScenarioVersion, actor) -> None:
    version = _locked(link.scenario_version)
    _require_owner_or_admin(version, actor)
    _require_editable(version)
    audit_record(actor=actor, action=AuditAction.ASSET_DETACH, target=version, details={"asset": str(link.asset_id)})
    link.delete()


def asset_search(*, query: str = "", tag: str = "") -> QuerySet[Asset]:
    """Library assets any creator may attach, newest first, by words in name/description or a tag."""
    qs = Asset.objects.filter(deleted_from_minio=False).select_related("created_by_user").order_by("-created_at")
    for word in (query or "").split()[:5]:
        qs = qs.filter(Q(name__icontains=word) | Q(description__icontains=word) | Q(file_name__icontains=word))
    if tag:
        # JSON containment is not portable across MariaDB and SQLite; tags are short lists, so filter in Python.
        wanted = tag.strip().lower()
        ids = [pk for pk, tags in qs.values_list("pk", "tags") if wanted in (tags or [])]
        qs = qs.filter(pk__in=ids)
    return qs


def asset_read(asset: Asset) -> bytes:
    """The asset's bytes, for provisioning into a machine."""
    try:
        with storage_for_location(asset.asset_location).open(asset.storage_key, "rb") as fh:
            return fh.read()
    except ApplicationError:
        raise
    except Exception as exc:
        raise object_storage_error(exc) from exc
