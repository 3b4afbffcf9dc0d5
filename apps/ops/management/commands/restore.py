"""Restore a backup archive written by `manage.py backup`."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from apps.ops.backup import backup_restore
from rangex.core.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Restore a backup into an empty database (or, with --replace, over this one) and its media files. "
        "FIELD_ENCRYPTION_KEYS must hold the keys of the backed-up install. Run migrate afterwards."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", help="The .tar.gz written by manage.py backup, or - for standard input.")
        parser.add_argument(
            "--replace", action="store_true", help="Drop every table of the database and empty the media folder first."
        )
        parser.add_argument("--no-input", action="store_false", dest="interactive", help="Do not ask to confirm.")
        parser.add_argument(
            "--allow-other-keys",
            action="store_true",
            help="Restore although FIELD_ENCRYPTION_KEYS lacks keys of the backup (its stored secrets are lost).",
        )

    def handle(self, *args, archive, replace, interactive, allow_other_keys, **options):
        if replace and interactive:
            if archive == "-":
                raise CommandError("--replace with an archive on standard input needs --no-input.")
            answer = input(
                f"This drops every table of database {connection.settings_dict['NAME']} and empties the media "
                "folder before restoring. Type 'yes' to continue: "
            )
            if answer.strip().lower() != "yes":
                raise CommandError("Restore cancelled.")
        try:
            if archive == "-":
                summary = backup_restore(source=sys.stdin.buffer, replace=replace, allow_other_keys=allow_other_keys)
            else:
                path = Path(archive)
                if not path.is_file():
                    raise CommandError(f"{archive} is not a file.")
                with path.open("rb") as handle:
                    summary = backup_restore(source=handle, replace=replace, allow_other_keys=allow_other_keys)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        dropped = f" after dropping {summary.tables_dropped} table(s)" if summary.tables_dropped else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored the backup of {summary.created_at}{dropped}: {summary.database} database, "
                f"{summary.media_files} media file(s). Now run: manage.py migrate"
            )
        )
