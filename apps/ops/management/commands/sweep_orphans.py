"""Reconcile the engine with the database now."""

from django.core.management.base import BaseCommand, CommandError

from apps.ops.reconcile import ORPHAN_GRACE_MINUTES, orphans_sweep
from apps.ops.status import as_json


class Command(BaseCommand):
    help = (
        "Remove engine resources labelled as RangeX's that have no live session (older than the grace period), "
        "and check live sessions' machines: recover those that stopped, fail those that cannot come back. "
        "Exit 0 when the sweep ran, 2 when an engine cannot be reached."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Report orphans and broken sessions; remove, recover and fail nothing.",
        )
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
        if dry_run:
            self.stdout.write(
                f"Orphans found: {result.orphans_found}, would be removed: {result.orphans_found}. "
                f"Broken sessions: {result.sessions_broken} (would be recovered or failed; "
                f"{result.sessions_failed} cannot come back and would fail). "
                f"Oversized machines: {len(result.oversized)}."
            )
            return
        self.stdout.write(
            f"Orphans found: {result.orphans_found}, removed: {result.orphans_removed}. "
            f"Broken sessions: {result.sessions_broken} ({result.sessions_recovered} recovered, "
            f"{result.sessions_failed} failed). Oversized machines: {len(result.oversized)}."
        )
