"""The image catalogue kept in step with the engine: ``DockerImage`` rows for what RangeX builds and pulls.

``docker_image_sync`` is called when the pipeline builds or pushes an image and when a launch
pulls one; it records the size, the digest and, for pulls, the pull count and time. The
``prune`` service removes, from the engine, the images RangeX built (labelled
``rangex.managed-image=<instance>``) that no container and no live version uses; an operator's
own images and another install's are never listed, so never removed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.images.hooks import image_users
from apps.images.models import DockerImage
from rangex.core.audit import AuditAction, audit_record

logger = logging.getLogger(__name__)


def split_image_ref(ref: str) -> tuple[str, str]:
    """Return (name with registry, tag) of an image reference; "latest" when it has no tag."""
    ref = ref.split("@", 1)[0]
    slash, colon = ref.rfind("/"), ref.rfind(":")
    if colon > slash:
        return ref[:colon], ref[colon + 1 :]
    return ref, "latest"


def docker_image_sync(
    *, ref: str, info=None, digest: str = "", pulled: bool = False, built: bool = False
) -> DockerImage:
    """Create or update the catalogue row of ``ref`` from what the engine says (``ImageInfo`` or None)."""
    name, tag = split_image_ref(ref)
    with transaction.atomic():
        image, _ = DockerImage.objects.select_for_update().get_or_create(
            name=name[:255], tag=tag[:128], defaults={"category": "built" if built else "pulled"}
        )
        fields = ["updated_at"]
        if info is not None:
            image.image_size_mb = max(1, round(info.size / (1024 * 1024))) if info.size else 0
            image.ecr_image_digest = (digest or info.digest_for(name) or info.id)[:128]
            fields += ["image_size_mb", "ecr_image_digest"]
        elif digest:
            image.ecr_image_digest = digest[:128]
            fields.append("ecr_image_digest")
        if built and not image.is_ready_image:
            image.is_ready_image = True
            fields.append("is_ready_image")
        image.save(update_fields=fields)
        if pulled:
            DockerImage.objects.filter(pk=image.pk).update(
                pull_count=F("pull_count") + 1, last_pulled_at=timezone.now()
            )
            image.refresh_from_db(fields=["pull_count", "last_pulled_at"])
    return image


def docker_images_observe(*, refs: list[str], pulled: set[str]) -> None:
    """Record the images a launch used (``pulled``: those the engine did not have before it).

    Bookkeeping only: a failure here is logged and never fails the launch that called it.
    """
    from apps.runtime import RuntimeFailure
    from apps.runtime.images import get_image_engine

    for ref in dict.fromkeys(refs):
        try:
            info = get_image_engine().inspect(ref)
        except RuntimeFailure as exc:
            logger.warning("image catalogue: %s cannot be inspected: %s", ref, exc.message)
            info = None
        try:
            docker_image_sync(ref=ref, info=info, pulled=ref in pulled)
        except Exception:
            logger.exception("image catalogue: recording %s failed", ref)


@dataclass
class PruneReport:
    removed: list[str] = field(default_factory=list)
    kept: dict[str, str] = field(default_factory=dict)  # ref -> why it stays
    failed: dict[str, str] = field(default_factory=dict)
    freed_bytes: int = 0


def docker_images_prune(*, actor=None, dry_run: bool = False) -> PruneReport:
    """Remove this install's built images that no container and no live version uses."""
    from apps.runtime import RuntimeFailure
    from apps.runtime.images import get_image_engine

    engine = get_image_engine()
    report = PruneReport()
    images = engine.list_managed()
    in_containers = engine.images_in_use()
    refs = [tag for image in images for tag in image.tags]
    users = image_users(refs=refs, live_only=True)
    for image in images:
        label = ", ".join(image.tags) or image.id[:19]
        if image.id in in_containers:
            report.kept[label] = "a container uses it"
            continue
        used = [ref for ref in image.tags if users.get(ref)]
        if used:
            report.kept[label] = "used by " + "; ".join(users[used[0]][:3])
            continue
        if not dry_run:
            try:
                engine.remove(image)
            except RuntimeFailure as exc:
                report.failed[label] = exc.message
                continue
            for ref in image.tags:
                name, tag = split_image_ref(ref)
                DockerImage.objects.filter(name=name, tag=tag, is_public=False, is_verified=False).delete()
        report.removed.append(label)
        report.freed_bytes += image.size
    if not dry_run and report.removed:
        audit_record(
            actor=actor,
            action=AuditAction.DOCKER_IMAGE_PRUNE,
            details={"removed": report.removed[:100], "freed_bytes": report.freed_bytes},
        )
    return report
