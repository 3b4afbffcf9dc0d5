"""manage.py prune_images [--dry-run]: remove the images RangeX built that nothing uses any more."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from apps.images.catalog import docker_images_prune


class Command(BaseCommand):
    help = (
        "Remove from the Docker engine the images this install built (labelled rangex.managed-image) that no "
        "container and no live scenario version uses. Other images are never touched."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Only list what would be removed.")

    def handle(self, *args, dry_run: bool, **options):
        report = docker_images_prune(dry_run=dry_run)
        verb = "would remove" if dry_run else "removed"
        for label in report.removed:
            self.stdout.write(f"{verb}: {label}")
        for label, why in report.kept.items():
            self.stdout.write(f"kept: {label} ({why})")
        for label, why in report.failed.items():
            self.stderr.write(f"failed: {label}: {why}")
        megabytes = report.freed_bytes / (1024 * 1024)
        self.stdout.write(f"{len(report.removed)} image(s) {verb}, {megabytes:.1f} MB.")
