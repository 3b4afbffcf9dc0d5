"""Award every badge that active users already qualify for (after defining a new badge). Safe to rerun."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.badges.models import Badge
from apps.badges.services import badges_evaluate_for

BAR_WIDTH = 30


class Command(BaseCommand):
    help = "Backfill badge awards for all active users; already earned badges are left alone."

    def add_arguments(self, parser):
        parser.add_argument("--badge", action="append", default=[], help="Only this badge id (repeatable).")

    def handle(self, *args, badge, **options):
        badges = Badge.objects.all()
        if badge:
            try:
                badges = badges.filter(pk__in=badge)
                if badges.count() != len(set(badge)):
                    raise CommandError("Some --badge ids do not exist.")
            except (ValueError, ValidationError) as exc:
                raise CommandError(f"Not a badge id: {exc}") from None
        users = get_user_model().objects.filter(is_active=True).order_by("pk")
        total = users.count()
        awarded = 0
        for done, user in enumerate(users.iterator(), start=1):
            awarded += len(badges_evaluate_for(user=user, trigger="backfill", badges=badges))
            self._progress(done, total)
        if total:
            self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Checked {total} users; awarded {awarded} badges."))

    def _progress(self, done: int, total: int) -> None:
        filled = BAR_WIDTH * done // total
        self.stdout.write(f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total}", ending="")
        self.stdout.flush()
