"""Import a bundle, a challenge.yml or a folder of them: ``manage.py import_scenario <path> --as <email>``."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from apps.scenarios.imports import bundle_import_all
from rangex.core.errors import ApplicationError


class Command(BaseCommand):
    help = "Import a scenario bundle zip, a challenge.yml, or a folder of challenges, as new drafts."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--as", dest="email", required=True, help="Email of the creator who will own it.")

    def handle(self, *args, path, email, **options):
        user = get_user_model().objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"No user has the email {email!r}.")
        source = Path(path)
        if not source.exists():
            raise CommandError(f"{source} does not exist.")
        try:
            if source.is_dir():
                versions = bundle_import_all(actor=user, data=source, filename=source.name)
            else:
                with source.open("rb") as fh:
                    versions = bundle_import_all(actor=user, data=fh, filename=source.name)
        except ApplicationError as exc:
            lines = [exc.message] + [f"  {field}: {m}" for field, ms in exc.fields.items() for m in ms]
            raise CommandError("\n".join(lines)) from None
        for version in versions:
            self.stdout.write(self.style.SUCCESS(f"Imported {version.scenario.slug} as {version} (draft)."))
