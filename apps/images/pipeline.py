"""The image pipeline: images built from a version's own sources, on their way to production.

One ``ImagePipelineStage`` row per build context, tagged by the context's content hash, so an
unchanged context is never built twice (a new version with the same sources finds the row its
predecessor made). The stages, in order:

1. ``local_built``: ``docker build`` of the stored context on this engine (log kept);
2. ``staging_uploaded``: pushed to ``RANGEX_IMAGE_STAGING_REPOSITORY`` (digest kept);
3. ``in_review``: waiting for an admin, who approves (or rejects) it in the admin;
4. ``approved``: who approved it and when;
5. ``production_deployed``: pushed to ``RANGEX_IMAGE_PRODUCTION_REPOSITORY``; launches use it.

Build and pushes run in Celery tasks (``apps.images.tasks``), outside any transaction; each step
is skipped when a previous run finished it, so a retried task carries on where the last one
stopped. Without a staging (production) repository the image stays on this engine and the stage
says so in the log. Registry logins come from the active ``RegistryCredential`` of each registry.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.images.catalog import docker_image_sync
from apps.images.models import ImagePipelineStage, RegistryCredential
from rangex.core.audit import AuditAction, audit_record
from rangex.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from rangex.core.scheduling import enqueue

BUILT_IMAGE_NAME = "rangex/built"
Stage, Status = ImagePipelineStage.Stage, ImagePipelineStage.Status
# A build claimed by a worker that died is taken over after this long.
STALE_CLAIM = timedelta(minutes=30)


def content_tag(content: bytes) -> str:
    """Return the tag of a build context: the first 32 hex digits of its sha256."""
    return hashlib.sha256(content).hexdigest()[:32]


def _repository(prefix: str) -> str:
    return f"{prefix.strip().rstrip('/')}/built" if prefix.strip() else ""


def staging_ref(stage: ImagePipelineStage) -> str:
    repository = _repository(settings.RANGEX_IMAGE_STAGING_REPOSITORY)
    return f"{repository}:{stage.image_tag}" if repository else ""


def production_ref(stage: ImagePipelineStage) -> str:
    repository = _repository(settings.RANGEX_IMAGE_PRODUCTION_REPOSITORY)
    return f"{repository}:{stage.image_tag}" if repository else ""


def launch_ref(stage: ImagePipelineStage) -> str:
    """Return the reference a lab launch uses: production once deployed, else the local build."""
    if stage.production_deployed_at and stage.ecr_repository:
        return f"{stage.ecr_repository}:{stage.image_tag}"
    return stage.local_ref


def registry_auth(ref: str):
    """Return the RegistryAuth of the oldest active credential for the registry of ``ref``, or None."""
    from apps.runtime import RegistryAuth, image_registry, normalize_registry

    registry = image_registry(ref)
    for credential in RegistryCredential.objects.filter(is_active=True).order_by("created_at"):
        if normalize_registry(credential.registry_url) == registry:
            return RegistryAuth(
                registry=registry,
                username=str(credential.username_enc),
                password=str(credential.password_or_token_enc),
            )
    return None


# --- Requests and decisions (inside transactions) -------------------------------------------


def image_pipeline_request(
    *, context: bytes, actor, machine_name: str = "", scenario_id=None, scenario_version_id=None
) -> ImagePipelineStage:
    """Queue the build of ``context`` (a tar with a Dockerfile at its root); return its pipeline row.

    A context built before (same content hash) is not built again: its row is returned as it is.
    A row that failed is started over; a rejected one stays rejected until the sources change.
    """
    if not context:
        raise ValidationFailed(_("The build context is empty."), fields={"build_context": [_("The context is empty.")]})
    tag = content_tag(content=context)
    path = f"image-contexts/{tag}.tar"
    # Content-addressed: a second request for the same context finds the file there.
    if not default_storage.exists(path):
        path = default_storage.save(path, ContentFile(context))
    with transaction.atomic():
        stage, created = ImagePipelineStage.objects.select_for_update().get_or_create(
            image_name=BUILT_IMAGE_NAME,
            image_tag=tag,
            defaults={
                "machine_name": machine_name,
                "scenario_id": scenario_id,
                "scenario_version_id": scenario_version_id,
                "creator_user": actor if getattr(actor, "pk", None) else None,
                "context_file": path,
                "status": Status.PENDING,
                "current_stage": Stage.LOCAL_BUILT,
            },
        )
        if not created and stage.status != Status.FAILED:
            return stage
        if not created:
            _restart(stage, path=path)
        audit_record(
            actor=actor,
            action=AuditAction.IMAGE_PIPELINE_REQUEST if created else AuditAction.IMAGE_PIPELINE_RETRY,
            target=stage,
            details={"tag": tag, "machine": machine_name, "version": str(scenario_version_id or "")},
        )
        enqueue("apps.images.tasks.image_pipeline_build", stage_id=stage.pk)
    return stage


def _restart(stage: ImagePipelineStage, *, path: str) -> None:
    stage.status, stage.current_stage, stage.error_message = Status.PENDING, Stage.LOCAL_BUILT, ""
    stage.context_file = path
    stage.local_built_at = stage.staging_uploaded_at = stage.review_started_at = None
    stage.log = ""
    stage.save(
        update_fields=[
            "status",
            "current_stage",
            "error_message",
            "context_file",
            "local_built_at",
            "staging_uploaded_at",
            "review_started_at",
            "log",
            "updated_at",
        ]
    )


def _require_admin(actor) -> None:
    # Creators use the admin too (is_staff); approving an image is for platform admins only.
    if not getattr(actor, "is_platform_admin", False):
        raise PermissionDenied(_("Only admins approve or reject images."))


@transaction.atomic
def image_pipeline_approve(*, stage: ImagePipelineStage, actor) -> ImagePipelineStage:
    """Approve an image that waits for review and queue its push to production."""
    _require_admin(actor)
    stage = ImagePipelineStage.objects.select_for_update().get(pk=stage.pk)
    if stage.status != Status.AWAITING_APPROVAL:
        raise InvalidTransition(
            _("Image %(local_ref)s is %(lower)s, not waiting for approval.")
            % {"local_ref": stage.local_ref, "lower": stage.get_status_display().lower()}
        )
    now = timezone.now()
    stage.status, stage.current_stage = Status.DEPLOYING, Stage.APPROVED
    stage.approved_at = stage.review_completed_at = now
    stage.approver_user = stage.reviewer_user = actor
    stage.save(
        update_fields=[
            "status",
            "current_stage",
            "approved_at",
            "review_completed_at",
            "approver_user",
            "reviewer_user",
            "updated_at",
        ]
    )
    audit_record(actor=actor, action=AuditAction.IMAGE_PIPELINE_APPROVE, target=stage, details={"tag": stage.image_tag})
    enqueue("apps.images.tasks.image_pipeline_deploy", stage_id=stage.pk)
    return stage


@transaction.atomic
def image_pipeline_reject(*, stage: ImagePipelineStage, actor, reason: str) -> ImagePipelineStage:
    """Refuse an image that waits for review; launches never use it."""
    _require_admin(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Say why the image is rejected."), fields={"reason": [_("Give a reason.")]})
    stage = ImagePipelineStage.objects.select_for_update().get(pk=stage.pk)
    if stage.status != Status.AWAITING_APPROVAL:
        raise InvalidTransition(_("Image %(local_ref)s is not waiting for approval.") % {"local_ref": stage.local_ref})
    stage.status, stage.error_message = Status.REJECTED, f"Rejected: {reason}"[:2000]
    stage.review_completed_at, stage.reviewer_user = timezone.now(), actor
    stage.save(update_fields=["status", "error_message", "review_completed_at", "reviewer_user", "updated_at"])
    audit_record(actor=actor, action=AuditAction.IMAGE_PIPELINE_REJECT, target=stage, details={"reason": reason[:500]})
    return stage


@transaction.atomic
def image_pipeline_retry(*, stage: ImagePipelineStage, actor) -> ImagePipelineStage:
    """Start a failed pipeline over from its stored context (a failed push after approval too)."""
    _require_admin(actor)
    stage = ImagePipelineStage.objects.select_for_update().get(pk=stage.pk)
    if stage.status != Status.FAILED:
        raise InvalidTransition(
            _("Image %(local_ref)s has not failed; there is nothing to retry.") % {"local_ref": stage.local_ref}
        )
    if stage.approved_at is not None:
        # Approved already: only the push to production is left to redo.
        stage.status, stage.current_stage, stage.error_message = Status.DEPLOYING, Stage.APPROVED, ""
        stage.save(update_fields=["status", "current_stage", "error_message", "updated_at"])
        task = "apps.images.tasks.image_pipeline_deploy"
    else:
        _restart(stage, path=stage.context_file)
        task = "apps.images.tasks.image_pipeline_build"
    audit_record(actor=actor, action=AuditAction.IMAGE_PIPELINE_RETRY, target=stage, details={"tag": stage.image_tag})
    enqueue(task, stage_id=stage.pk)
    return stage


# --- The work (tasks; outside transactions) ----------------------------------------------------


def _claim(stage_id: int, *, wanted: str, running: str) -> ImagePipelineStage | None:
    """Move a row from ``wanted`` to ``running`` (or take over a stale ``running`` claim); None if taken."""
    stale = timezone.now() - STALE_CLAIM
    claimed = ImagePipelineStage.objects.filter(pk=stage_id, status=wanted).update(
        status=running, updated_at=timezone.now()
    ) or ImagePipelineStage.objects.filter(pk=stage_id, status=running, updated_at__lt=stale).update(
        updated_at=timezone.now()
    )
    return ImagePipelineStage.objects.get(pk=stage_id) if claimed else None


def _save(stage: ImagePipelineStage, *fields: str, log: str = "") -> None:
    if log:
        stage.log = (stage.log + log.rstrip("\n") + "\n")[-200_000:]
        fields = (*fields, "log")
    stage.save(update_fields=[*fields, "updated_at"])


def _fail(stage: ImagePipelineStage, message: str) -> None:
    stage.status, stage.current_stage, stage.error_message = Status.FAILED, Stage.FAILED, message[:4000]
    _save(stage, "status", "current_stage", "error_message", log=f"FAILED: {message}")


def image_pipeline_build(*, stage_id: int) -> ImagePipelineStage | None:
    """Build a pending image, push it to staging and put it up for review; record every stage."""
    from apps.runtime import RuntimeFailure
    from apps.runtime.images import LABEL_CONTEXT_HASH, get_image_engine

    stage = _claim(stage_id, wanted=Status.PENDING, running=Status.BUILDING)
    if stage is None:
        return None
    engine = get_image_engine()
    try:
        if stage.local_built_at is None or engine.inspect(stage.local_ref) is None:
            with default_storage.open(stage.context_file, "rb") as fh:
                context = fh.read()
            _save(stage, log=f"== Building {stage.local_ref}")
            result = engine.build(context, ref=stage.local_ref, labels={LABEL_CONTEXT_HASH: stage.image_tag})
            stage.local_built_at, stage.current_stage = timezone.now(), Stage.LOCAL_BUILT
            _save(stage, "local_built_at", "current_stage", log=result.log)
            docker_image_sync(ref=stage.local_ref, info=engine.inspect(stage.local_ref), built=True)
        if stage.staging_uploaded_at is None:
            target = staging_ref(stage)
            if target:
                _save(stage, log=f"== Pushing to staging: {target}")
                engine.tag(stage.local_ref, target)
                digest = engine.push(target, auth=registry_auth(target))
                stage.staging_minio_path = f"{target}@{digest}"
                note = f"pushed {target}@{digest}"
            else:
                note = "no staging repository is configured (RANGEX_IMAGE_STAGING_REPOSITORY): the image stays here"
            stage.staging_uploaded_at, stage.current_stage = timezone.now(), Stage.STAGING_UPLOADED
            _save(stage, "staging_uploaded_at", "staging_minio_path", "current_stage", log=note)
    except RuntimeFailure as exc:
        _fail(stage, exc.message)
        return stage
    except OSError as exc:
        _fail(stage, f"The build context {stage.context_file} cannot be read: {exc}")
        return stage
    stage.status, stage.current_stage, stage.review_started_at = (
        Status.AWAITING_APPROVAL,
        Stage.IN_REVIEW,
        timezone.now(),
    )
    _save(stage, "status", "current_stage", "review_started_at", log="== Waiting for an admin's approval")
    return stage


def image_pipeline_deploy(*, stage_id: int) -> ImagePipelineStage | None:
    """Push an approved image to production (from this engine, else pulled from staging)."""
    from apps.runtime import RuntimeFailure
    from apps.runtime.images import get_image_engine

    stage = ImagePipelineStage.objects.get(pk=stage_id)
    if stage.status != Status.DEPLOYING:
        return None
    engine = get_image_engine()
    target = production_ref(stage)
    try:
        if target:
            if engine.inspect(stage.local_ref) is None:
                source = staging_ref(stage)
                if not source:
                    raise RuntimeFailure(f"{stage.local_ref} is not on this engine and has no staging copy.")
                _save(stage, log=f"== Pulling {source}")
                engine.pull(source, auth=registry_auth(source))
                engine.tag(source, stage.local_ref)
            _save(stage, log=f"== Pushing to production: {target}")
            engine.tag(stage.local_ref, target)
            digest = engine.push(target, auth=registry_auth(target))
            stage.ecr_repository = target.rsplit(":", 1)[0]
            stage.ecr_image_digest = digest
            note = f"pushed {target}@{digest}"
            docker_image_sync(ref=target, info=engine.inspect(target), digest=digest, built=True)
        else:
            info = engine.inspect(stage.local_ref)
            if info is None:
                raise RuntimeFailure(f"{stage.local_ref} is no longer on this engine.")
            stage.ecr_image_digest = info.id
            note = (
                "no production repository is configured (RANGEX_IMAGE_PRODUCTION_REPOSITORY): "
                "launches use this engine's copy"
            )
    except RuntimeFailure as exc:
        _fail(stage, exc.message)
        return stage
    stage.status, stage.current_stage = Status.DONE, Stage.PRODUCTION_DEPLOYED
    stage.production_deployed_at = timezone.now()
    _save(
        stage,
        "status",
        "current_stage",
        "production_deployed_at",
        "ecr_repository",
        "ecr_image_digest",
        log=note,
    )
    return stage
