"""Solver downloads: which files of a version a user may fetch, and how (a local file or a short-lived URL).

A version's own "Download for solvers" assets and its library attachments of that type are listed
on the scenario and session pages. Staff (admins and the version's creator) may fetch any asset of
a version; everybody else only downloads, of a version that is published or that they have a lab of.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.files.storage import FileSystemStorage, Storage
from django.urls import reverse
from django.utils.translation import gettext as _

from apps.scenarios.models import Asset, AssetScenarioVersion, AssetType, ScenarioAsset, ScenarioVersion, VersionStatus
from rangex.core.errors import NotFound
from rangex.core.storage import PRESIGNED_SECONDS, storage_for_location

KIND_FILE = "file"
KIND_LIBRARY = "library"


@dataclass(frozen=True)
class Download:
    kind: str
    pk: int
    name: str
    size: int
    description: str

    @property
    def url(self) -> str:
        return reverse("scenarios:download", kwargs={"kind": self.kind, "pk": self.pk})


def solver_downloads(*, version: ScenarioVersion) -> list[Download]:
    """The version's files for solvers, own and library ones, by name."""
    own = [
        Download(KIND_FILE, a.pk, a.file_name, a.file_size, a.description)
        for a in ScenarioAsset.objects.filter(scenario_version=version, asset_type=AssetType.DOWNLOAD)
    ]
    library = [
        Download(
            KIND_LIBRARY,
            link.pk,
            link.asset.file_name or link.asset.name,
            link.asset.size_bytes,
            link.asset.description,
        )
        for link in AssetScenarioVersion.objects.filter(
            scenario_version=version, asset_type=AssetType.DOWNLOAD, asset__deleted_from_minio=False
        ).select_related("asset")
    ]
    return sorted(own + library, key=lambda d: d.name.lower())


def _is_staff_of(user, version: ScenarioVersion) -> bool:
    return bool(getattr(user, "is_platform_admin", False)) or version.scenario.created_by_user_id == user.pk


def _solver_may_see(user, version: ScenarioVersion) -> bool:
    if version.status == VersionStatus.PUBLISHED and version.scenario.is_published:
        return True
    return version.environment_sessions.filter(user=user).exists()


@dataclass(frozen=True)
class Served:
    """What to send: the storage and name of the file, and the name the browser saves it under."""

    storage: Storage
    key: str
    file_name: str

    @property
    def is_local(self) -> bool:
        return isinstance(self.storage, FileSystemStorage)

    def presigned_url(self) -> str:
        disposition = f'attachment; filename="{self.file_name}"'
        return self.storage.url(
            self.key, parameters={"ResponseContentDisposition": disposition}, expire=PRESIGNED_SECONDS
        )


def download_get_for_user(*, user, kind: str, pk) -> Served:
    """Return the file ``user`` may download, or raise ``NotFound`` (never telling what exists)."""
    missing = NotFound(_("There is no such download."))
    if not getattr(user, "is_authenticated", False):
        raise missing
    if kind == KIND_FILE:
        row = ScenarioAsset.objects.select_related("scenario_version__scenario").filter(pk=pk).first()
    elif kind == KIND_LIBRARY:
        row = (
            AssetScenarioVersion.objects.select_related("scenario_version__scenario", "asset")
            .filter(pk=pk, asset__deleted_from_minio=False)
            .first()
        )
    else:
        raise missing
    if row is None:
        raise missing
    version = row.scenario_version
    if not _is_staff_of(user, version) and not (
        row.asset_type == AssetType.DOWNLOAD and _solver_may_see(user, version)
    ):
        raise missing
    if kind == KIND_FILE:
        if not row.file:
            raise missing
        return Served(row.file.storage, row.file.name, row.file_name or row.file.name.rsplit("/", 1)[-1])
    asset = row.asset
    return Served(storage_for_location(asset.asset_location), asset.storage_key, asset.file_name or asset.name)


def scenario_file_get_for_user(*, user, name: str) -> Served:
    """A version asset by its stored name (the admin's file links point at ``/media/<name>``)."""
    row = ScenarioAsset.objects.filter(file=name).values_list("pk", flat=True).first()
    if row is None:
        raise NotFound(_("There is no such download."))
    return download_get_for_user(user=user, kind=KIND_FILE, pk=row)


def library_asset_get_for_staff(*, user, pk) -> Served:
    """A library asset itself (its admin page links here): any creator may fetch what they could attach."""
    asset = Asset.objects.filter(pk=pk, deleted_from_minio=False).first()
    if asset is None or not (getattr(user, "is_platform_admin", False) or getattr(user, "is_staff", False)):
        raise NotFound(_("There is no such download."))
    return Served(storage_for_location(asset.asset_location), asset.storage_key, asset.file_name or asset.name)
