"""Import a bundle, a challenge.yml, a docker-compose.yml or a folder of them:
``manage.py import_scenario <path> --as <email> [--partial] [--new-version-of <slug>]``."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from apps.scenarios.imports import scenario_import
from rangex.core.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Import a scenario bundle zip, a challenge.yml, a docker-compose.yml, or a folder or zip of challenges, "
        "as new drafts. Every problem of every challenge is reported; nothing is imported unless all are valid, "
        "or --partial is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--as", dest="email", required=True, help="Email of the creator who will own it.")
        parser.add_argument("--partial", action="store_true", help="Import the valid challenges, report the rest.")
        parser.add_argument(
            "--new-version-of",
            dest="new_version_of",
            metavar="SLUG",
            help="Add the challenge named after SLUG (or the only one) as a new version of that scenario, "
            "instead of creating a new scenario when the slug exists.",
        )

    def handle(self, *args, path, email, partial, new_version_of, **options):
        user = get_user_model().objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"No user has the email {email!r}.")
        source = Path(path)
        if not source.exists():
            raise CommandError(f"{source} does not exist.")
        kwargs = {"actor": user, "partial": partial, "new_version_of": new_version_of}
        try:
            if source.is_dir():
                report = scenario_import(data=source, filename=str(source), **kwargs)
            else:
                # A lone challenge.yml is read with the files beside it, as its folder.
                beside = source.parent if source.name.lower().endswith((".yml", ".yaml")) else None
                if beside is not None and _is_folder_import(source):
                    report = scenario_import(data=beside, filename=path, only=True, **kwargs)
                else:
                    with source.open("rb") as fh:
                        report = scenario_import(data=fh, filename=source.name, **kwargs)
        except ApplicationError as exc:
            lines = [exc.message] + [f"  {field}: {m}" for field, ms in exc.fields.items() for m in ms]
            raise CommandError("\n".join(lines)) from None
        for entry in report.entries:
            if entry.status == "imported":
                line = f"Imported {entry.source_file} as {entry.version} ({entry.slug}, {entry.outcome}, draft)."
                self.stdout.write(self.style.SUCCESS(line))
            elif entry.status == "valid":
                self.stdout.write(f"Valid, not imported: {entry.source_file} (another challenge was refused).")
            else:
                self.stdout.write(self.style.ERROR(f"Refused: {entry.source_file}"))
                for message in entry.errors:
                    self.stdout.write(f"  error: {message}")
            for message in entry.warnings:
                self.stdout.write(self.style.WARNING(f"  warning: {message}"))
        self.stdout.write(report.summary())
        if report.refused:
            raise CommandError("\n".join([report.summary(), *(m for e in report.refused for m in e.errors)]))


def _is_folder_import(source: Path) -> bool:
    """Return whether a YAML file given alone is a challenge or Compose file to read with its folder."""
    name = source.name.lower()
    return name not in ("scenario.yaml", "scenario.yml")
