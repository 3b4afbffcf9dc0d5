"""Seed the periodic schedule into django-celery-beat."""

from django.core.management.base import BaseCommand

from apps.ops.beat import beat_sync


class Command(BaseCommand):
    help = "Create the missing periodic tasks of apps.ops.beat.SCHEDULE; --reset restores changed ones."

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true", help="Restore intervals changed in the admin.")

    def handle(self, *args, reset=False, **options):
        counts = beat_sync(reset=reset)
        self.stdout.write(f"Beat schedule: {counts['created']} created, {counts['updated']} updated.")
