"""Importing scenarios: turn an upload's plans into DRAFT versions through the scenario services.

An upload (a RangeX bundle, a folder or zip of CTFd ``challenge.yml`` files, one YAML file) is read
safely by ``bundle_io``, each scenario in it is planned and checked by ``bundles`` or
``challenge_yml``, and only then written, all or nothing, through the same services a creator uses
by hand (``scenario_version_draft_add``, ``scenario_version_component_save``): imports number
versions, check permissions, quotas and file types, and write audit rows exactly as hand-made
versions do. Large uploads run as a background job with progress.
"""

from __future__ import annotations

import logging
import os
import posixpath
import tempfile
from pathlib import Path
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction

from apps.scenarios import bundles, challenge_yml
from apps.scenarios.bundle_io import DEFAULT_LIMITS, MANIFEST_NAME, BundleLimits, ImportPlan, YamlDoc, load_source
from apps.scenarios.models import ScenarioVersion
from apps.scenarios.services import scenario_author_require, scenario_version_component_save, scenario_version_draft_add
from rangex.core.audit import AuditAction, audit_record
from rangex.core.errors import ApplicationError, ValidationFailed

logger = logging.getLogger(__name__)


def _in_file(plan: ImportPlan, exc: ValidationFailed, *, where: str = "", field: str | None = None) -> ValidationFailed:
    """Return ``exc`` restated for the file (and the part of it) the import came from."""
    place = f"{plan.source_file}: {where}" if where else plan.source_file
    key = field or where or plan.source_file
    return ValidationFailed(f"{place}: {exc.message}", fields={key: [exc.message]})


def _apply_plan(*, plan: ImportPlan, actor, stored: list[str]) -> ScenarioVersion:
    """Write one plan through the scenario services; note every stored file in ``stored``."""
    fields = dict(plan.version_fields)
    if plan.cover:
        fields["cover_image"] = ContentFile(plan.cover.content, name=posixpath.basename(plan.cover.path))
    try:
        version = scenario_version_draft_add(actor=actor, slug=plan.slug, fields=fields, source=plan.source_file)
    except ValidationFailed as exc:
        raise _in_file(plan, exc, field=f"{plan.source_file}:scenario.slug") from None
    if version.cover_image:
        stored.append(version.cover_image.name)
    by_name = {}
    for component in [*plan.machines, *plan.pivot_points]:
        try:
            scenario_version_component_save(version=version, actor=actor, obj=component)
        except ValidationFailed as exc:
            raise _in_file(plan, exc, where=str(component)) from None
        if hasattr(component, "role"):
            by_name[component.name] = component
    for asset, machine_name, planned in plan.assets:
        asset.machine = by_name.get(machine_name) if machine_name else None
        asset.file = ContentFile(planned.content, name=posixpath.basename(asset.file_name) or "file")
        try:
            scenario_version_component_save(version=version, actor=actor, obj=asset)
        except ValidationFailed as exc:
            raise _in_file(plan, exc, where=planned.path) from None
        finally:
            if asset.file and getattr(asset.file, "_committed", False):
                stored.append(asset.file.name)
    # The rows above are the ones a hand-made version gets; this one says where the content came from.
    audit_record(
        actor=actor,
        action=AuditAction.SCENARIO_VERSION_IMPORT,
        target=version,
        details={
            "source_file": plan.source_file,
            "format": plan.source_format,
            "machines": len(plan.machines),
            "assets": len(plan.assets),
        },
    )
    return version


def _plans_for(files: dict[str, bytes], *, filename: str, limits: BundleLimits) -> list[ImportPlan]:
    if MANIFEST_NAME in files:
        doc = YamlDoc(files[MANIFEST_NAME], filename=MANIFEST_NAME, limits=limits)
        return [bundles.plan_rangex_manifest(doc, files)]
    challenge_files = sorted(p for p in files if posixpath.basename(p) in ("challenge.yml", "challenge.yaml"))
    if not challenge_files:
        raise ValidationFailed(f"{filename} holds neither a {MANIFEST_NAME} manifest nor any challenge.yml file.")
    return [challenge_yml.plan_challenge(path, files, limits=limits) for path in challenge_files]


def bundle_import_all(
    *, actor, data: bytes | Any, filename: str, limits: BundleLimits = DEFAULT_LIMITS
) -> list[ScenarioVersion]:
    """Import every scenario of an upload as new DRAFT versions, all or nothing."""
    scenario_author_require(actor)
    files = load_source(data, filename=filename, limits=limits)
    plans = _plans_for(files, filename=filename, limits=limits)
    slugs = [p.slug for p in plans]
    duplicates = sorted({s for s in slugs if slugs.count(s) > 1})
    if duplicates:
        raise ValidationFailed(f"{filename}: several challenges would get the slug {duplicates[0]!r}.")
    stored: list[str] = []
    try:
        with transaction.atomic():
            return [_apply_plan(plan=plan, actor=actor, stored=stored) for plan in plans]
    except BaseException:
        # The rows are rolled back; the files written on the way must go too.
        from django.core.files.storage import default_storage

        for name in stored:
            default_storage.delete(name)
        raise


def bundle_import(*, actor, data: bytes | Any, filename: str, limits: BundleLimits = DEFAULT_LIMITS) -> ScenarioVersion:
    """Import an upload and return the new DRAFT version (the first one when the upload holds several)."""
    return bundle_import_all(actor=actor, data=data, filename=filename, limits=limits)[0]


# --- Large uploads: a job and a task ------------------------------------------------------------

IMPORT_JOB_TYPE = "scenario_import"


def _import_folder() -> Path:
    from django.conf import settings

    folder = Path(settings.VAR_DIR) / "private" / "imports"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def version_admin_url(version: ScenarioVersion) -> str:
    """Return the admin change page of ``version``, or the admin index when that page is not there."""
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("admin:scenarios_scenarioversion_change", args=[version.pk])
    except NoReverseMatch:
        return reverse("admin:index")


def bundle_import_enqueue(*, actor, upload, filename: str, limits: BundleLimits = DEFAULT_LIMITS):
    """Store an upload in a private folder and import it in a background job; return the Job."""
    from rangex.core.jobs import job_create
    from rangex.core.scheduling import enqueue

    scenario_author_require(actor)
    suffix = Path(filename).suffix.lower()
    if suffix not in (".zip", ".yml", ".yaml"):
        raise ValidationFailed(f"{filename}: upload a .zip bundle, a scenario.yaml or a challenge.yml file.")
    folder = _import_folder()
    fd, name = tempfile.mkstemp(dir=folder, suffix=suffix)
    size = 0
    with os.fdopen(fd, "wb") as out:
        for chunk in upload.chunks() if hasattr(upload, "chunks") else [upload.read()]:
            size += len(chunk)
            if size > limits.max_upload_bytes:
                out.close()
                os.unlink(name)
                raise ValidationFailed(f"{filename} is larger than {limits.max_upload_bytes // (1024 * 1024)} MB.")
            out.write(chunk)
    with transaction.atomic():
        job = job_create(type=IMPORT_JOB_TYPE, user=actor, payload={"path": name, "filename": filename, "size": size})
        audit_record(
            actor=actor, action=AuditAction.SCENARIO_VERSION_IMPORT_QUEUED, target=job, details={"filename": filename}
        )
        enqueue("apps.scenarios.tasks.scenario_bundle_import", job_id=str(job.pk))
    return job


def bundle_import_job_run(*, job_id) -> None:
    """Run a queued import job: import the stored upload, record the outcome, delete the upload."""
    from rangex.core.jobs import job_fail, job_progress, job_start, job_succeed

    job = job_start(job_id=job_id)
    path = Path(job.payload.get("path", ""))
    try:
        if job.user is None or not path.is_file() or path.parent != _import_folder():
            job_fail(job_id=job_id, error="The uploaded file is gone; upload it again.")
            return
        job_progress(job_id=job_id, progress=10, message="Reading the bundle")
        try:
            with path.open("rb") as fh:
                versions = bundle_import_all(actor=job.user, data=fh, filename=job.payload.get("filename", path.name))
        except ApplicationError as exc:
            details = [f"{field}: {m}" for field, ms in exc.fields.items() for m in ms]
            job_fail(job_id=job_id, error="\n".join([exc.message, *details]))
            return
        except Exception as exc:
            # Never leave the person waiting on a job that stays "running".
            logger.exception("scenario import job %s failed", job_id)
            job_fail(
                job_id=job_id, error=f"The import failed unexpectedly ({exc.__class__.__name__}); nothing was imported."
            )
            return
        job_succeed(
            job_id=job_id,
            result={
                "url": version_admin_url(versions[0]),
                "versions": [{"id": str(v.pk), "slug": v.scenario.slug, "number": v.version_number} for v in versions],
            },
            message=f"Imported {', '.join(str(v) for v in versions)}",
        )
    finally:
        if path.is_file() and path.parent == _import_folder():
            path.unlink(missing_ok=True)
