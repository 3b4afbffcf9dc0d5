"""Turn maintenance mode on or off, or hand it back to the budget check."""

import getpass

from django.core.management.base import BaseCommand

from apps.ops.costs import budget_cap_state, month_start
from apps.ops.status import as_json
from rangex.core.system import get_settings, invalidate_settings_cache, maintenance_override_clear, maintenance_set


class Command(BaseCommand):
    help = (
        "Switch maintenance mode: non-staff get a 503 page with the message; staff keep working. "
        "'off' also lifts the budget cap's pause for the rest of the month; 'clear-override' lets the "
        "budget check pause RangeX again."
    )

    def add_arguments(self, parser):
        parser.add_argument("state", choices=["on", "off", "clear-override", "status"])
        parser.add_argument("--message", help="Text shown to users while maintenance is on.")
        parser.add_argument("--json", action="store_true", help="Print one JSON object instead of text.")

    def handle(self, *args, state, message=None, json=False, **options):
        actor_label = f"command:{getpass.getuser()}"
        if state in ("on", "off"):
            maintenance_set(actor=None, enabled=state == "on", message=message, actor_label=actor_label)
        elif state == "clear-override":
            maintenance_override_clear(actor=None, actor_label=actor_label)
        invalidate_settings_cache()
        system = get_settings()
        cap = budget_cap_state()
        override = system.budget_override_month == month_start()
        still_exceeded = override and cap["reached"]
        warning = (
            f"Warning: the monthly budget cap is still exceeded (USD {cap['cost_usd']} of USD {cap['cap_usd']}). "
            "The budget check will not pause RangeX again this month; run 'maintenance clear-override' to let it."
        )
        if json:
            self.stdout.write(
                as_json(
                    {
                        "maintenance": system.maintenance_mode,
                        "message": system.maintenance_message,
                        "budget_paused": system.budget_paused,
                        "operator_override": override,
                        "budget_cap_exceeded": bool(cap["reached"]),
                    }
                )
            )
            if still_exceeded:
                self.stderr.write(warning)
            return
        label = "on" if system.maintenance_mode else "off"
        self.stdout.write(
            f"Maintenance mode is {label}."
            + (f" Message: {system.maintenance_message}" if system.maintenance_mode else "")
        )
        if system.budget_paused:
            self.stdout.write("RangeX is paused by the monthly budget cap ('maintenance off' resumes it).")
        if still_exceeded:
            self.stderr.write(warning)
