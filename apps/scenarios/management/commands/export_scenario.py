"""Write a scenario version as a bundle zip: ``manage.py export_scenario <slug> [--version N] -o file.zip``."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.scenarios.bundles import bundle_export
from apps.scenarios.models import ScenarioVersion


class Command(BaseCommand):
    help = "Export a scenario version (the newest unless --version is given) as a bundle zip."

    def create_parser(self, prog_name, subcommand, **kwargs):
        # --version here is the scenario's version number; it replaces Django's own --version.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--version", type=int, dest="version_number", help="Version number (default: newest).")
        parser.add_argument("-o", "--output", required=True, help="Path of the zip to write.")

    def handle(self, *args, slug, version_number, output, **options):
        versions = ScenarioVersion.objects.filter(scenario__slug=slug).select_related("scenario")
        if version_number is not None:
            versions = versions.filter(version_number=version_number)
        version = versions.order_by("-version_number").first()
        if version is None:
            which = f"version {version_number} of " if version_number is not None else ""
            raise CommandError(f"There is no {which}scenario with the slug {slug!r}.")
        target = Path(output)
        if not target.parent.is_dir():
            raise CommandError(f"The folder {target.parent} does not exist.")
        target.write_bytes(bundle_export(version=version))
        self.stdout.write(self.style.SUCCESS(f"Wrote {version} to {target}."))
