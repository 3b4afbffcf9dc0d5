"""Write a scenario version as a RangeX bundle or a ctfcli challenge:
``manage.py export_scenario <slug> [--version N] [--format rangex|ctfcli] -o file.zip|folder``."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.scenarios.bundles import bundle_export
from apps.scenarios.ctfcli_export import ctfcli_export, ctfcli_export_zip
from apps.scenarios.models import ScenarioVersion
from rangex.core.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Export a scenario version (the newest unless --version is given) as a RangeX bundle zip, or with "
        "--format ctfcli as a ctfcli challenge folder (challenge.yml and its files; a .zip output zips it)."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        # --version here is the scenario's version number; it replaces Django's own --version.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--version", type=int, dest="version_number", help="Version number (default: newest).")
        parser.add_argument("--format", choices=("rangex", "ctfcli"), default="rangex", dest="fmt")
        parser.add_argument("-o", "--output", required=True, help="Path of the zip (or, for ctfcli, the folder).")

    def handle(self, *args, slug, version_number, fmt, output, **options):
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
        try:
            if fmt == "rangex":
                target.write_bytes(bundle_export(version=version))
            elif target.suffix.lower() == ".zip":
                target.write_bytes(ctfcli_export_zip(version=version))
            else:
                if target.exists() and (not target.is_dir() or any(target.iterdir())):
                    raise CommandError(f"{target} exists and is not an empty folder.")
                for path, content in ctfcli_export(version=version).items():
                    (target / path).parent.mkdir(parents=True, exist_ok=True)
                    (target / path).write_bytes(content)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(self.style.SUCCESS(f"Wrote {version} to {target} ({fmt})."))
