"""Write a backup archive: the database and the uploaded files."""

import sys
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.ops.backup import backup_create, backup_write_file
from rangex.core.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Back up the database (mariadb-dump, or a copy of the SQLite file) and the media files into one "
        ".tar.gz. FIELD_ENCRYPTION_KEYS are not in it: keep them with the backups."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "-o",
            "--output",
            help="Archive path, or - for standard output "
            "(default: <RANGEX_VAR_DIR>/backups/rangex-<instance>-<time>.tar.gz).",
        )

    def handle(self, *args, output=None, **options):
        try:
            if output == "-":
                summary = backup_create(output=sys.stdout.buffer)
                sys.stdout.buffer.flush()
                report = self.stderr
                where = "standard output"
            else:
                stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
                default = Path(settings.VAR_DIR) / "backups" / f"rangex-{settings.RANGEX_INSTANCE}-{stamp}.tar.gz"
                path = Path(output) if output else default
                summary = backup_write_file(path=path)
                report = self.stdout
                where = str(path)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        media = f"{summary.media_files} media file(s)" if summary.media_included else "no media (object storage)"
        report.write(
            f"Backup written to {where}: {summary.database} database ({summary.database_bytes} bytes), {media}. "
            "Keep FIELD_ENCRYPTION_KEYS with it: a restore needs them to decrypt stored secrets."
        )
