"""Push a version's machine images to ECR so its labs can run on Fargate."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from apps.environments.launch import machine_image
from apps.runtime import RuntimeFailure, get_runtime
from apps.scenarios.models import Machine, ScenarioVersion
from rangex.core.audit import AuditAction, audit_record
from rangex.core.errors import PermissionDenied, ValidationFailed


def version_ecr_push(*, version: ScenarioVersion, actor, key: str = "ecs") -> dict[str, str]:
    """Push every machine image of a version to ECR (runtime ``key``); record ``ecr_uri`` and
    ``ecr_images_pushed``. Return machine name -> ECR reference.

    The pushes run outside any transaction (each can take minutes); the rows are written after.
    """
    if not getattr(actor, "is_platform_admin", False):
        raise PermissionDenied(_("Only platform admins push images to ECR."))
    runtime = get_runtime(key)
    if not hasattr(runtime, "push_image"):
        raise ValidationFailed(_("Runtime %(key)s does not push images to a registry.") % {"key": repr(key)})
    machines = list(version.machines.select_related("image_variant", "platform_image"))
    pushed: dict[str, str] = {}
    done: dict[str, str] = {}
    for machine in machines:
        image, _source = machine_image(machine)
        if image not in done:
            try:
                done[image] = runtime.push_image(image)
            except RuntimeFailure as exc:
                raise ValidationFailed(
                    _("Machine %(name)s: %(message)s") % {"name": machine.name, "message": exc.message}
                ) from exc
        pushed[machine.name] = done[image]
    with transaction.atomic():
        for machine in machines:
            Machine.objects.filter(pk=machine.pk).update(ecr_uri=pushed[machine.name])
        ScenarioVersion.objects.filter(pk=version.pk).update(ecr_images_pushed=True)
        audit_record(
            actor=actor, action=AuditAction.SCENARIO_ECR_PUSH, target=version, details={"images": sorted(done.values())}
        )
    return pushed
