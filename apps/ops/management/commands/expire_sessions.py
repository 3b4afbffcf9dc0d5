"""Stop expired and idle sessions now."""

from django.core.management.base import BaseCommand

from apps.ops.reconcile import sessions_expire, sessions_stop_idle
from apps.ops.status import as_json


class Command(BaseCommand):
    help = "Stop running sessions past their expiry time, and warn or stop idle ones."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print one JSON object instead of text.")

    def handle(self, *args, json=False, **options):
        expired = sessions_expire()
        idle = sessions_stop_idle()
        if json:
            self.stdout.write(
                as_json({"expired": expired, "idle_stopped": idle["stopped"], "idle_warned": idle["warned"]})
            )
            return
        self.stdout.write(f"Expired: {expired}. Idle stopped: {idle['stopped']}. Idle warned: {idle['warned']}.")
