"""Push images to ECR for labs on AWS: ``manage.py ecr_push IMAGE...`` or ``--version ID`` (its machines)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from apps.runtime import RuntimeFailure, get_runtime
from rangex.core.errors import ApplicationError


class Command(BaseCommand):
    help = "Push local images (or a version's machine images) to the ECR registry of System settings."

    def add_arguments(self, parser):
        parser.add_argument("images", nargs="*", help="Local image references, e.g. rangex/pivot:latest.")
        parser.add_argument("--version", type=int, help="Push every machine image of this scenario version.")
        parser.add_argument("--runtime", default="ecs", help="The configured ECS runtime key (default: ecs).")
        parser.add_argument("--actor", help="Username of the platform admin recorded in the audit log (--version).")

    def handle(self, *args, images, version, runtime, actor, **options):
        if not images and version is None:
            raise CommandError("Name images to push, or --version ID.")
        try:
            backend = get_runtime(runtime)
            for image in images:
                self.stdout.write(f"{image} -> {backend.push_image(image)}")
            if version is not None:
                self._push_version(version, runtime, actor)
        except (RuntimeFailure, ApplicationError) as exc:
            raise CommandError(exc.message) from exc

    def _push_version(self, version_id: int, runtime: str, username: str | None) -> None:
        from django.contrib.auth import get_user_model

        from apps.environments.services.ecr import version_ecr_push
        from apps.scenarios.models import ScenarioVersion

        admin = get_user_model().objects.filter(username=username).first() if username else None
        if admin is None:
            raise CommandError("--actor must name a platform admin for --version.")
        pushed = version_ecr_push(version=ScenarioVersion.objects.get(pk=version_id), actor=admin, key=runtime)
        for machine, ref in sorted(pushed.items()):
            self.stdout.write(f"{machine}: {ref}")
