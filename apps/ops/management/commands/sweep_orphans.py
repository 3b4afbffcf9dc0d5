"""Reconcile the engine with the database now."""

from django.core.management.base import BaseCommand, CommandError

from apps.ops.reconcile import ORPHAN_GRACE_MINUTES, orphans_sweep
from apps.ops.status import as_json


class Command(BaseCommand):
    help = (
        "Remove engine resources labelled as RangeX's that have no live session (older than the grace period), "
        "and fail running sessions whose containers are gone. Exit 0 when the sweep ran, 2 when the engine "
        "cannot be reached."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Report orphans; remove and fail nothing.")
        parser.add_argument("--grace-minutes", type=int, default=ORPHAN_GRACE_MINUTES)
        parser.add_argument("--json", action="store_true", help="Print one JSON object instead of text.")

    def handle(self, *args, dry_run=False, grace_minutes=ORPHAN_GRACE_MINUTES, json=False, **options):
        result = orphans_sweep(dry_run=dry_run, grace_minutes=grace_minutes)
        if json:
            self.stdout.write(as_json({**result.as_dict(), "dry_run": dry_run}))
        if result.errors:
            raise CommandError("Sweep failed: " + "; ".join(result.errors), returncode=2)
        if json:
            return
        verb = "would be removed" if dry_run else "removed"
        self.stdout.write(
            f"Orphans found: {result.orphans_found}, {verb}: "
            f"{result.orphans_found if dry_run else result.orphans_removed}. "
            f"Sessions failed: {result.sessions_failed}. Oversized containers: {len(result.oversized)}."
        )
