"""Turn maintenance mode on or off."""

from django.core.management.base import BaseCommand

from apps.ops.status import as_json
from rangex.core.system import get_settings, maintenance_set


class Command(BaseCommand):
    help = "Switch maintenance mode: non-staff get a 503 page with the message; staff keep working."

    def add_arguments(self, parser):
        parser.add_argument("state", choices=["on", "off", "status"])
        parser.add_argument("--message", help="Text shown to users while maintenance is on.")
        parser.add_argument("--json", action="store_true", help="Print one JSON object instead of text.")

    def handle(self, *args, state, message=None, json=False, **options):
        if state != "status":
            maintenance_set(actor=None, enabled=state == "on", message=message)
        system = get_settings()
        label = "on" if system.maintenance_mode else "off"
        if json:
            self.stdout.write(as_json({"maintenance": system.maintenance_mode, "message": system.maintenance_message}))
            return
        self.stdout.write(
            f"Maintenance mode is {label}."
            + (f" Message: {system.maintenance_message}" if system.maintenance_mode else "")
        )
