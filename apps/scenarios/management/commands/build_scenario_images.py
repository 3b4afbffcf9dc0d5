"""Build the images of a scenario version from its sources and tools:
``manage.py build_scenario_images <slug> [--version N] [--no-wait]``."""

import time

from django.core.management.base import BaseCommand, CommandError

from apps.images.models import ImagePipelineStage
from apps.scenarios.image_builds import version_images_build
from apps.scenarios.models import ScenarioVersion
from rangex.core.errors import ApplicationError

SETTLED = {
    ImagePipelineStage.Status.AWAITING_APPROVAL,
    ImagePipelineStage.Status.DONE,
    ImagePipelineStage.Status.FAILED,
    ImagePipelineStage.Status.REJECTED,
}


class Command(BaseCommand):
    help = (
        "Queue the image pipeline for every machine of a scenario version (the newest unless --version is "
        "given) that has a build context or tools, and wait until each is built and staged (or failed). "
        "Unchanged sources are not built again. Approve the images in the admin (Image pipeline stages)."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        # --version here is the scenario's version number; it replaces Django's own --version.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--version", type=int, dest="version_number", help="Version number (default: newest).")
        parser.add_argument("--no-wait", action="store_true", help="Queue the builds and return at once.")
        parser.add_argument("--timeout", type=int, default=1800, help="Seconds to wait (default 1800).")

    def handle(self, *args, slug, version_number, no_wait, timeout, **options):
        versions = ScenarioVersion.objects.filter(scenario__slug=slug)
        if version_number is not None:
            versions = versions.filter(version_number=version_number)
        version = versions.order_by("-version_number").first()
        if version is None:
            raise CommandError(f"There is no such version of a scenario with the slug {slug!r}.")
        try:
            stages = version_images_build(version=version, actor=None)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        deadline = time.monotonic() + timeout
        pending = {stage.pk for stage in stages}
        while pending and not no_wait and time.monotonic() < deadline:
            rows = ImagePipelineStage.objects.filter(pk__in=pending, status__in=SETTLED)
            pending -= set(rows.values_list("pk", flat=True))
            if pending:
                time.sleep(1)
        failed = False
        for stage in ImagePipelineStage.objects.filter(pk__in=[s.pk for s in stages]):
            self.stdout.write(f"{stage.machine_name or '-'}: {stage.local_ref}: {stage.get_status_display()}")
            if stage.status == ImagePipelineStage.Status.FAILED:
                failed = True
                self.stderr.write(stage.error_message)
        if failed:
            raise CommandError("Some images failed to build.")
