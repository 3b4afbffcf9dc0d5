"""Turn maintenance mode on or off."""

from django.core.management.base import BaseCommand

from rangex.core.system import get_settings, maintenance_set


class Command(BaseCommand):
    help = "Switch maintenance mode: non-staff get a 503 page with the message; staff keep working."

    def add_arguments(self, parser):
        parser.add_argument("state", choices=["on", "off", "status"])
        parser.add_argument("--message", help="Text shown to users while maintenance is on.")

    def handle(self, *args, state, message=None, **options):
        if state != "status":
            maintenance_set(actor=None, enabled=state == "on", message=message)
        system = get_settings()
        label = "on" if system.maintenance_mode else "off"
        self.stdout.write(
            f"Maintenance mode is {label}."
            + (f" Message: {system.maintenance_message}" if system.maintenance_mode else "")
        )
